//! Windows: owners and access lists (DACLs) for the trust checks and
//! private copies, `LoadLibraryW` for the loader, and its module list.

use std::fs;
use std::path::Path;

use crate::plugin::error::{CopyDirError, TrustError};
use crate::plugin::loader::{Opened, loader_message};

mod security;

/// This user, in the default copy directory's name: the user's SID.
pub(crate) fn user_tag() -> String {
    security::user().to_owned()
}

/// A private copy's file: it inherits its directory's access list, which
/// lets only this user in.
pub(crate) fn private_file(_: &mut fs::OpenOptions) {}

/// A directory made with an access list for this user alone.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    security::create_private_dir(dir)
}

/// Why the directory `dir` is not this user's alone, if it is not: its
/// owner is this user (or, for an elevated administrator, whose files
/// belong to Administrators, one of the system's accounts) and its access
/// list lets no other account in at all.
pub(crate) fn check_private_dir(dir: &Path, _: &fs::Metadata) -> Result<(), CopyDirError> {
    let security = security::read(dir).map_err(|e| CopyDirError::Unreadable {
        reason: e.to_string(),
    })?;
    if !security::trusted(&security.owner) {
        return Err(CopyDirError::OwnedByAccount {
            owner: security::account(&security.owner),
            user: security::account(security::user()),
        });
    }
    if let Some((sid, access)) = security.others_with(security::ANY_ACCESS) {
        return Err(CopyDirError::OpenToAccount {
            account: security::account(&sid),
            access,
        });
    }
    Ok(())
}

/// Whether process `pid` runs (one this user may not query counts as
/// running).
pub(crate) fn process_alive(pid: u32) -> bool {
    use windows_sys::Win32::Foundation::{CloseHandle, STILL_ACTIVE};
    use windows_sys::Win32::System::Threading::{
        GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    };
    // SAFETY: OpenProcess takes no pointers; a null handle means no
    // such process (or one this user may not query: counted alive).
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return std::io::Error::last_os_error().raw_os_error() == Some(5); // access denied
    }
    let mut code = 0u32;
    // SAFETY: `process` is the handle just opened, closed once; `code`
    // is a valid u32 to write.
    let alive =
        unsafe { GetExitCodeProcess(process, &raw mut code) } == 0 || code == STILL_ACTIVE as u32;
    // SAFETY: as above.
    unsafe { CloseHandle(process) };
    alive
}

/// Windows: the owner and the access list (DACL) of the file and of each
/// directory above it. Refused: an owner other than this user, SYSTEM,
/// Administrators or TrustedInstaller; a file whose list allows another
/// account to write, append, delete (so rename) it or change its list or
/// owner; a directory whose list allows another account to delete entries
/// in it, delete it, or change its list or owner. Deny entries are not
/// weighed (a list that allows and then denies is refused); an entry whose
/// security cannot be read is passed over, as unreadable metadata is on
/// Unix.
pub(crate) fn check_trust<'p, M>(
    entries: impl Iterator<Item = (&'p Path, Option<M>)>,
) -> Result<(), TrustError> {
    let mut is_file = true;
    for (p, meta) in entries {
        let security = meta.and_then(|_| security::read(p).ok());
        if let Some(security) = security {
            refusal(p, &security, is_file)?;
        }
        is_file = false;
    }
    Ok(())
}

/// Why the file (or directory) at `path`, whose owner and access list are
/// `security`, cannot be trusted, if it cannot.
fn refusal(path: &Path, security: &security::Security, is_file: bool) -> Result<(), TrustError> {
    if !security::trusted(&security.owner) {
        return Err(TrustError::OwnedByAccount {
            path: path.to_owned(),
            owner: security::account(&security.owner),
            user: security::account(security::user()),
        });
    }
    let rights = if is_file {
        security::FILE_CHANGE
    } else {
        security::DIR_CHANGE
    };
    match security.others_with(rights) {
        Some((sid, access)) => Err(TrustError::WritableByAccount {
            path: path.to_owned(),
            account: security::account(&sid),
            access,
        }),
        None => Ok(()),
    }
}

/// Opens a library (`LoadLibraryW`); Windows does not say its load
/// address.
pub(crate) fn open_shared_library(path: &Path) -> Result<Opened, String> {
    // SAFETY: opening runs the library's initializers; the trust policy
    // admitted the file, and the copy is private to this process.
    unsafe { libloading::Library::new(path) }
        .map(|lib| (lib, None))
        .map_err(|e| loader_message(&e, path))
}

/// Whether loading `name` would return a module already loaded.
pub(crate) fn answered_by_the_loader(name: &std::ffi::CStr) -> bool {
    loaded(name, None)
}

/// Whether Windows' loader still has a module of the copy's path: asked
/// with `GetModuleHandleExW`, which takes no reference.
pub(crate) fn loaded(name: &std::ffi::CStr, _: Option<usize>) -> bool {
    use std::os::windows::ffi::OsStrExt;
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetModuleHandleExW(
            flags: u32,
            name: *const u16,
            module: *mut *mut std::ffi::c_void,
        ) -> i32;
    }
    /// Look the module up without adding to its reference count.
    const UNCHANGED_REFCOUNT: u32 = 0x2;
    let Ok(path) = name.to_str() else {
        return false;
    };
    let wide: Vec<u16> = std::ffi::OsStr::new(path)
        .encode_wide()
        .chain(std::iter::once(0))
        .collect();
    let mut module = std::ptr::null_mut();
    // SAFETY: `wide` is a NUL-terminated UTF-16 path; with
    // UNCHANGED_REFCOUNT the call only writes the handle it finds (or
    // null) to `module`, and takes no reference to release.
    unsafe { GetModuleHandleExW(UNCHANGED_REFCOUNT, wide.as_ptr(), &raw mut module) != 0 }
}

#[cfg(test)]
mod tests {
    use super::refusal;
    use super::security::{Security, user};
    use crate::plugin::error::TrustError;
    use std::path::Path;

    const USERS: &str = "S-1-5-32-545";
    const SYSTEM: &str = "S-1-5-18";
    const ADMINISTRATORS: &str = "S-1-5-32-544";

    fn security(owner: &str, allowed: &[(&str, u32)]) -> Security {
        Security {
            owner: owner.to_owned(),
            allowed: Some(allowed.iter().map(|(s, m)| (s.to_string(), *m)).collect()),
        }
    }

    #[test]
    fn owners_other_than_this_user_and_the_system_are_refused() {
        let path = Path::new(r"C:\plugins\p.dll");
        for owner in [user(), SYSTEM, ADMINISTRATORS] {
            assert!(
                refusal(path, &security(owner, &[]), true).is_ok(),
                "{owner}"
            );
        }
        let e = refusal(path, &security(USERS, &[]), true).unwrap_err();
        assert!(
            matches!(&e, TrustError::OwnedByAccount { owner, .. } if owner.ends_with("(S-1-5-32-545)")),
            "{e}"
        );
    }

    #[test]
    fn a_file_is_refused_for_any_right_that_changes_or_replaces_it() {
        let path = Path::new(r"C:\plugins\p.dll");
        // Write data, append, delete, change the list, change the owner,
        // generic all, generic write.
        for right in [
            0x2,
            0x4,
            0x1_0000,
            0x4_0000,
            0x8_0000,
            0x1000_0000,
            0x4000_0000,
        ] {
            let e = refusal(path, &security(user(), &[(USERS, right)]), true).unwrap_err();
            assert!(
                matches!(&e, TrustError::WritableByAccount { access, .. } if *access == right),
                "{right:#x}: {e}"
            );
        }
        // Reading and running (FILE_GENERIC_READ | FILE_GENERIC_EXECUTE).
        let read = security(user(), &[(USERS, 0x1200a9), ("S-1-1-0", 0x1200a9)]);
        assert!(refusal(path, &read, true).is_ok());
        // The system's accounts may do anything.
        let system = security(user(), &[(SYSTEM, 0x1f01ff), (ADMINISTRATORS, 0x1f01ff)]);
        assert!(refusal(path, &system, true).is_ok());
        // No list at all lets everyone do everything.
        let open = Security {
            owner: user().to_owned(),
            allowed: None,
        };
        let e = refusal(path, &open, true).unwrap_err();
        assert!(
            matches!(&e, TrustError::WritableByAccount { account, .. } if account.ends_with("(S-1-1-0)")),
            "{e}"
        );
    }

    #[test]
    fn a_directory_is_refused_when_others_may_replace_its_entries_not_add_to_it() {
        let path = Path::new(r"C:\plugins");
        // Delete entries, delete it, change its list or owner.
        for right in [0x40, 0x1_0000, 0x4_0000, 0x8_0000, 0x1000_0000] {
            assert!(
                refusal(path, &security(user(), &[(USERS, right)]), false).is_err(),
                "{right:#x}"
            );
        }
        // Add files and folders (what a drive's root allows every user):
        // a new entry cannot replace an existing one.
        let add = security(user(), &[("S-1-5-11", 0x2 | 0x4 | 0x1200a9)]);
        assert!(refusal(path, &add, false).is_ok());
    }
}
