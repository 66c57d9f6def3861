//! Unix: POSIX permissions for the trust checks and private copies,
//! `dlopen` for the loader, and each system's list of loaded objects.

use std::fs;
use std::path::Path;

use crate::plugin::error::{CopyDirError, TrustError};
use crate::plugin::loader::{Opened, loader_message};

/// This user, in the default copy directory's name: the user ID.
pub(crate) fn user_tag() -> String {
    user_id().to_string()
}

fn user_id() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// A private copy's file: mode 0600.
pub(crate) fn private_file(options: &mut fs::OpenOptions) {
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
}

/// A directory no one else can enter: mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Why the directory `dir`, whose metadata is `meta`, is not this user's
/// alone, if it is not: another owner, or any permission for others.
pub(crate) fn check_private_dir(_dir: &Path, meta: &fs::Metadata) -> Result<(), CopyDirError> {
    use std::os::unix::fs::MetadataExt;
    let uid = user_id();
    if meta.uid() != uid {
        return Err(CopyDirError::ForeignOwner {
            owner: meta.uid(),
            uid,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(CopyDirError::OpenToOthers { mode });
    }
    Ok(())
}

/// Whether process `pid` runs (permission denied means it runs, as
/// another user).
pub(crate) fn process_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    // Permission denied means it runs, as another user.
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// Checks a file and the directories above it, first to last; `None` for
/// one whose metadata could not be read (it counts as a directory).
pub(crate) fn check_trust<'p, M: std::borrow::Borrow<std::fs::Metadata>>(
    entries: impl Iterator<Item = (&'p Path, Option<M>)>,
) -> Result<(), TrustError> {
    use std::os::unix::fs::MetadataExt;

    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let mut is_file = true;
    for (p, meta) in entries {
        let Some(meta) = meta else {
            is_file = false;
            continue;
        };
        let meta = meta.borrow();
        let mode = meta.mode() & 0o7777;
        let owner = meta.uid();
        if owner != uid && owner != 0 {
            return Err(TrustError::ForeignOwner {
                path: p.to_owned(),
                owner,
                uid,
            });
        }
        let writable_by_others = if is_file {
            mode & 0o022 != 0
        } else {
            mode & 0o002 != 0 && mode & 0o1000 == 0
        };
        if writable_by_others {
            return Err(TrustError::WritableByOthers {
                path: p.to_owned(),
                mode,
            });
        }
        is_file = false;
    }
    Ok(())
}

/// Opens a library with `RTLD_NOW | RTLD_LOCAL`; its load address too,
/// where the loader says.
pub(crate) fn open_shared_library(path: &Path) -> Result<Opened, String> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    // SAFETY: opening runs the library's initializers; the trust policy
    // admitted the file, and the copy is private to this process. RTLD_NOW
    // makes unresolved symbols fail here rather than at a first call.
    let lib = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }
        .map_err(|e| loader_message(&e, path))?;
    let handle = lib.into_raw();
    let base = load_address(handle);
    // SAFETY: `handle` came from `into_raw` just above, and is taken back
    // once.
    let lib = unsafe { Library::from_raw(handle) };
    Ok((lib.into(), base))
}

/// The load address glibc's loader gives the library (`l_addr` of its link
/// map, as `dl_iterate_phdr` reports it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn load_address(handle: *mut libc::c_void) -> Option<usize> {
    /// The head of glibc's `struct link_map`, which is stable ABI.
    #[repr(C)]
    struct LinkMap {
        l_addr: usize,
    }
    let mut map: *const LinkMap = std::ptr::null();
    // SAFETY: `handle` is the open library's handle, and `RTLD_DI_LINKMAP`
    // writes one pointer to `map`.
    let r = unsafe { libc::dlinfo(handle, libc::RTLD_DI_LINKMAP, (&raw mut map).cast()) };
    if r != 0 || map.is_null() {
        return None;
    }
    // SAFETY: the loader returned its link map for the open library; its
    // first field is `l_addr`.
    Some(unsafe { (*map).l_addr })
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn load_address(_: *mut libc::c_void) -> Option<usize> {
    None
}

/// Whether `dlopen(name)` would return a library already loaded: the
/// loader's own lookup, by name and by file, with `RTLD_NOLOAD`.
pub(crate) fn answered_by_the_loader(name: &std::ffi::CStr) -> bool {
    // SAFETY: `name` is a valid C string; with RTLD_NOLOAD nothing is
    // loaded and no initializer runs.
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY) };
    if handle.is_null() {
        // A file the loader would refuse leaves its message behind; the
        // real open says it again.
        // SAFETY: no precondition; the message is this thread's.
        unsafe { libc::dlerror() };
        return false;
    }
    // SAFETY: `handle` is the reference just taken, released once.
    unsafe { libc::dlclose(handle) };
    true
}

/// On ELF systems, a walk of the loader's list of loaded objects
/// (`dl_iterate_phdr`: no system call), by name and, when known, address.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "android"))]
pub(crate) fn loaded(name: &std::ffi::CStr, base: Option<usize>) -> bool {
    struct Wanted<'a> {
        name: &'a std::ffi::CStr,
        base: Option<usize>,
    }
    unsafe extern "C" fn visit(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        wanted: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: the loader passes a valid `info` for the duration of the
        // call, and `wanted` is the `Wanted` handed to `dl_iterate_phdr`
        // below; a null name is the main program's.
        unsafe {
            let (name, addr) = ((*info).dlpi_name, (*info).dlpi_addr as usize);
            let wanted = &*wanted.cast::<Wanted<'_>>();
            libc::c_int::from(
                !name.is_null()
                    && std::ffi::CStr::from_ptr(name) == wanted.name
                    && wanted.base.is_none_or(|b| b == addr),
            )
        }
    }
    let mut wanted = Wanted { name, base };
    // SAFETY: `visit` matches the callback's signature and only reads what
    // it is given; `wanted` outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(visit), (&raw mut wanted).cast()) != 0 }
}

/// On macOS, dyld's list of loaded images, by path (`_dyld_image_count`,
/// `_dyld_get_image_name`: no reference taken, no initializer run). dyld
/// never unloads an image that has thread-local variables, nor one that
/// Objective-C or Swift metadata registered: such a build stays listed
/// here after `dlclose`, and is reported retained.
#[cfg(target_vendor = "apple")]
pub(crate) fn loaded(name: &std::ffi::CStr, _base: Option<usize>) -> bool {
    // libSystem's (declared here: libc's are deprecated in favour of a
    // crate this needs nothing else from).
    unsafe extern "C" {
        fn _dyld_image_count() -> u32;
        fn _dyld_get_image_name(index: u32) -> *const std::ffi::c_char;
    }
    // SAFETY: dyld's image functions have no preconditions; an index at
    // or past the count (an image unloaded meanwhile) gives a null name.
    let count = unsafe { _dyld_image_count() };
    (0..count).any(|i| {
        // SAFETY: as above; a name returned is a valid C string while the
        // image stays loaded, which it does for the comparison.
        let image = unsafe { _dyld_get_image_name(i) };
        // SAFETY: as above.
        !image.is_null() && unsafe { std::ffi::CStr::from_ptr(image) } == name
    })
}

/// Elsewhere, `RTLD_NOLOAD` finds the library without loading it; a handle
/// found is closed again at once.
#[cfg(all(
    unix,
    not(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "android",
        target_vendor = "apple"
    ))
))]
pub(crate) fn loaded(name: &std::ffi::CStr, _base: Option<usize>) -> bool {
    // SAFETY: `name` is a valid C string; RTLD_NOLOAD never loads, and runs
    // no initializer of a library already loaded.
    let h = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY) };
    if h.is_null() {
        return false;
    }
    // SAFETY: `h` is the handle just returned, closed once.
    unsafe { libc::dlclose(h) };
    true
}
