//! The loader: opening a plugin library with every check, in the order
//! `open.rs` lists (trust, first bytes, private copy, the copy's content,
//! the dynamic loader, the exports), and what the system keeps after a
//! build is released. It depends on nothing above it: isolation and the
//! slot table use it.
//!
//! - `open.rs`: the pipeline, step by step, each step in its own file
//!   (`trust.rs`, `precheck.rs`, `copy/`, `content.rs`, `loader.rs`,
//!   `exports.rs`);
//! - `descriptor.rs`, `layout.rs`, `structs.rs`: reading the descriptor,
//!   the Rust layout check, the application's types;
//! - `image.rs`: the ELF and PE checks made before the loader maps a file;
//! - `library.rs`, `linked.rs`: a loaded build, a plugin linked into the
//!   host;
//! - `sys/`: the platform code (Unix, Windows) behind one seam;
//! - `error.rs`: the loader's errors.

mod content;
pub(crate) mod copy;
pub(crate) mod descriptor;
mod error;
mod exports;
pub(crate) mod image;
mod layout;
mod library;
mod linked;
mod loader;
mod open;
mod options;
mod precheck;
mod read;
mod structs;
mod sys;
mod trust;

pub(crate) use copy::PrivateCopy;
pub use copy::{CopyPlace, remove_private_copies};
pub use descriptor::PluginKind;
#[cfg(target_os = "linux")]
pub(crate) use descriptor::StateHooks;
pub use descriptor::{FunctionInfo, PluginInfo};
pub(crate) use descriptor::{LoadHook, SaveHook};
pub use error::{AbiError, CopyDirError, LoadError, NameError, TrustError};
pub use library::{EntryPoint, Library};
pub use linked::LinkedPlugin;
pub use loader::{Retained, retained_libraries};
#[cfg(target_os = "linux")]
pub(crate) use open::{check_again, checked_copy};
pub(crate) use open::{copy_again, open_copy};
pub use options::{DEFAULT_MAX_LIBRARY_SIZE, LoadOptions};
pub(crate) use read::read_trusted;
pub use structs::{Ext, FieldInfo, HostRequest, HostStruct, PluginStruct};
#[cfg(target_os = "linux")]
pub(crate) use trust::read_error;
pub use trust::{BadSha256, Sha256, TrustPolicy};

/// Whether a library file, of `len` bytes starting with `head`, is whole
/// in this platform's format (see `image::looks_whole`): what watch mode
/// asks before it tries a file that changed.
#[cfg(feature = "watch")]
pub(crate) fn looks_whole(head: &[u8], len: u64) -> bool {
    image::looks_whole(head, len)
}
