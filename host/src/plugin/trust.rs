//! Checks made before a library file is opened.
//!
//! Opening a library runs its code (its constructors run inside `dlopen`),
//! so nothing checked after opening can protect against a hostile file.
//! What can be checked before is who could have put the file there.

use std::fmt;
use std::path::Path;

use crate::error::TrustError;

/// Where a library file may come from: what the loader requires of its
/// path before opening it. (What a file must *be* is pinned per load, with
/// a [`Sha256`].)
#[derive(Clone, Debug, Default)]
pub struct TrustPolicy {
    /// Accept a file, or a directory above it, that other users can write to
    /// or that belongs to another user. Off by default.
    pub allow_untrusted_paths: bool,
}

impl TrustPolicy {
    /// Checks the file at `path` (canonical) and every directory above it.
    ///
    /// Refused on Unix: a file that is group- or world-writable; a directory
    /// that is world-writable without the sticky bit (with it, as for
    /// `/tmp`, other users cannot rename or remove what is not theirs); a
    /// file or directory owned by a user other than this one or root.
    ///
    /// On Windows, the same from the files' owners and access lists: an
    /// owner other than this user, SYSTEM, Administrators or
    /// TrustedInstaller; a file another account may write, delete or
    /// re-permission; a directory in which another account may delete
    /// entries, or which it may delete or re-permission.
    pub fn check_path(&self, path: &Path) -> Result<(), TrustError> {
        if self.allow_untrusted_paths {
            return Ok(());
        }
        // What cannot be read is reported by the loader itself.
        check_entries(
            path.ancestors()
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| (p, std::fs::metadata(p).ok())),
        )
    }

    /// [`check_path`](Self::check_path) on metadata already read: that of a
    /// file and of each directory above it, in that order (a path with no
    /// symbolic link in it, whose `symlink_metadata` is its metadata).
    pub(crate) fn check_read<'p>(
        &self,
        entries: impl IntoIterator<Item = (&'p Path, &'p std::fs::Metadata)>,
    ) -> Result<(), TrustError> {
        if self.allow_untrusted_paths {
            return Ok(());
        }
        check_entries(entries.into_iter().map(|(p, m)| (p, Some(m))))
    }
}

/// Checks a file and the directories above it, first to last; `None` for
/// one whose metadata could not be read (it counts as a directory).
#[cfg(unix)]
fn check_entries<'p, M: std::borrow::Borrow<std::fs::Metadata>>(
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

/// Windows: the owner and the access list (DACL) of the file and of each
/// directory above it. Refused: an owner other than this user, SYSTEM,
/// Administrators or TrustedInstaller; a file whose list allows another
/// account to write, append, delete (so rename) it or change its list or
/// owner; a directory whose list allows another account to delete entries
/// in it, delete it, or change its list or owner. Deny entries are not
/// weighed (a list that allows and then denies is refused); an entry whose
/// security cannot be read is passed over, as unreadable metadata is on
/// Unix.
#[cfg(windows)]
fn check_entries<'p, M>(
    entries: impl Iterator<Item = (&'p Path, Option<M>)>,
) -> Result<(), TrustError> {
    let mut is_file = true;
    for (p, meta) in entries {
        let security = meta.and_then(|_| super::winsec::read(p).ok());
        if let Some(security) = security {
            refusal(p, &security, is_file)?;
        }
        is_file = false;
    }
    Ok(())
}

/// Why the file (or directory) at `path`, whose owner and access list are
/// `security`, cannot be trusted, if it cannot.
#[cfg(windows)]
fn refusal(
    path: &Path,
    security: &super::winsec::Security,
    is_file: bool,
) -> Result<(), TrustError> {
    use super::winsec;
    if !winsec::trusted(&security.owner) {
        return Err(TrustError::OwnedByAccount {
            path: path.to_owned(),
            owner: winsec::account(&security.owner),
            user: winsec::account(winsec::user()),
        });
    }
    let rights = if is_file {
        winsec::FILE_CHANGE
    } else {
        winsec::DIR_CHANGE
    };
    match security.others_with(rights) {
        Some((sid, access)) => Err(TrustError::WritableByAccount {
            path: path.to_owned(),
            account: winsec::account(&sid),
            access,
        }),
        None => Ok(()),
    }
}

#[cfg(not(any(unix, windows)))]
fn check_entries<'p, M>(_: impl Iterator<Item = (&'p Path, Option<M>)>) -> Result<(), TrustError> {
    Ok(())
}

/// The SHA-256 of a library file's content: what a load can be pinned to.
/// Written (and parsed) as 64 hex digits.
///
/// ```
/// use hotslot::plugin::Sha256;
/// let h: Sha256 = "ab".repeat(32).parse().unwrap();
/// assert_eq!(h.to_string(), "ab".repeat(32));
/// assert!("abc".parse::<Sha256>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        use sha2::Digest;
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    /// The hash of the file at `path`, as the loader computes it: the value
    /// to pin a load of that file to.
    pub fn of_file(path: &Path) -> std::io::Result<Sha256> {
        Ok(Sha256::of(&std::fs::read(path)?))
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({self})")
    }
}

/// Text that is not 64 hex digits, where a SHA-256 was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a SHA-256 (64 hex digits)")]
pub struct BadSha256(pub String);

impl std::str::FromStr for Sha256 {
    type Err = BadSha256;

    fn from_str(text: &str) -> Result<Sha256, BadSha256> {
        let hex = text.trim();
        let bad = || BadSha256(text.to_owned());
        if hex.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            let pair = hex.get(2 * i..2 * i + 2).ok_or_else(bad)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
        }
        Ok(Sha256(out))
    }
}

/// The Windows decisions on owners and access lists as a user (or wine,
/// which reports only what Unix permission bits can say) cannot set them:
/// another account as owner, rights for a group, rights that only apply to
/// what a directory will hold.
#[cfg(all(test, windows))]
mod windows_tests {
    use super::refusal;
    use crate::error::TrustError;
    use crate::plugin::winsec::{Security, user};
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip() {
        let h = Sha256([0xab; 32]);
        assert_eq!(h.to_string().parse::<Sha256>(), Ok(h));
        assert_eq!("abc".parse::<Sha256>(), Err(BadSha256("abc".into())));
        assert!("g".repeat(64).parse::<Sha256>().is_err());
        assert!(
            "é".repeat(32).parse::<Sha256>().is_err(),
            "not a char boundary"
        );
        assert_eq!(
            Sha256::of(b"").to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
