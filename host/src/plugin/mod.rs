//! Plugin libraries: loading, checking and releasing them.

mod copy;
mod descriptor;
mod image;
mod layout;
mod library;
mod structs;
mod trust;
#[cfg(windows)]
mod winsec;

pub use copy::{CopyPlace, PrivateCopy, check_copy_dir, default_copy_dir, remove_private_copies};
#[cfg(target_os = "linux")]
pub(crate) use descriptor::StateHooks;
pub use descriptor::{
    FunctionInfo, Header, PluginInfo, is_identifier, read_descriptor, read_header, tag_name,
};
pub(crate) use descriptor::{LoadHook, SaveHook};
pub use library::{
    DEFAULT_MAX_LIBRARY_SIZE, EntryPoint, Library, LinkedPlugin, LoadOptions, Origin, PluginKind,
    Retained, retained_libraries,
};
pub use structs::{Ext, FieldInfo, HostRequest, HostStruct, PluginStruct};
pub use trust::{BadSha256, Sha256, TrustPolicy};

/// The structural check the loader makes on a library file before the
/// dynamic loader maps it: every table and segment the ELF headers name (or
/// the PE headers: sections, symbol table) lies inside the file's `len`
/// bytes, of which `head` are the first (at least the headers). Files that
/// are neither ELF nor PE pass.
pub fn check_elf(head: &[u8], len: u64) -> Result<(), String> {
    image::check(head, len)
}

/// Whether a library file, of `len` bytes starting with `head`, is whole
/// in this platform's format (see `image::looks_whole`): what watch mode
/// asks before it tries a file that changed.
pub(crate) fn looks_whole(head: &[u8], len: u64) -> bool {
    image::looks_whole(head, len)
}
