//! Step 1 of opening a library: the checks made before the file is
//! opened, and the one open of it that the later steps read.
//!
//! Opening a library runs its code (its constructors run inside `dlopen`),
//! so nothing checked after opening can protect against a hostile file.
//! What can be checked before is who could have put the file there.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use super::error::{LoadError, TrustError};
use super::sys;

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
        sys::check_trust(
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
        sys::check_trust(entries.into_iter().map(|(p, m)| (p, Some(m))))
    }
}

/// Checks the trust policy for the file at `path` (and, when `path` is a
/// symbolic link, the link's directories too: the link decides which code
/// runs as much as the file), then opens it. Returns the path made
/// absolute, as given, and the open file.
pub(crate) fn open_trusted(
    path: &Path,
    policy: &TrustPolicy,
) -> Result<(PathBuf, fs::File), LoadError> {
    let source = std::path::absolute(path).map_err(|e| LoadError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    let target = match plain_path(&source) {
        // Canonical as it is: what was read serves the trust checks.
        Some(entries) => {
            if !entries[0].1.is_file() {
                return Err(not_a_file(source.clone(), &entries[0].1));
            }
            policy.check_read(entries.iter().map(|(p, m)| (*p, m)))?;
            source.clone()
        }
        None => {
            let target = canonical_file(&source)?;
            policy.check_path(&target)?;
            if target != source
                && let Some(dir) = source.parent().and_then(|d| fs::canonicalize(d).ok())
            {
                policy.check_path(&dir)?;
            }
            target
        }
    };
    let file = fs::File::open(&target).map_err(|e| read_error(&target, e))?;
    Ok((source, file))
}

/// The metadata of an absolute path and of each directory above it, when
/// the path is canonical as it is: none of them a symbolic link, no `.` or
/// `..` in it. One `lstat` each, where resolving the path and then
/// checking it would take twice as many calls; `None` otherwise (or when
/// one cannot be read), for the general way.
fn plain_path(path: &Path) -> Option<Vec<(&Path, fs::Metadata)>> {
    use std::path::Component;
    if !path
        .components()
        .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
    {
        return None;
    }
    path.ancestors()
        .map(|p| {
            let meta = fs::symlink_metadata(p).ok()?;
            (!meta.is_symlink()).then_some((p, meta))
        })
        .collect()
}

/// The loader's error for a file that cannot be read.
pub(crate) fn read_error(path: &Path, e: std::io::Error) -> LoadError {
    match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::FileMissing {
            path: path.to_owned(),
        },
        std::io::ErrorKind::IsADirectory => LoadError::Directory {
            path: path.to_owned(),
        },
        _ => LoadError::Io {
            path: path.to_owned(),
            source: e,
        },
    }
}

/// The error for `path`, whose metadata is `meta`, that is not a file.
fn not_a_file(path: PathBuf, meta: &fs::Metadata) -> LoadError {
    if meta.is_dir() {
        LoadError::Directory { path }
    } else {
        LoadError::NotAFile { path }
    }
}

/// The canonical path of a file that exists and is a regular file.
fn canonical_file(path: &Path) -> Result<PathBuf, LoadError> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::FileMissing {
            path: path.to_owned(),
        },
        _ => LoadError::Io {
            path: path.to_owned(),
            source: e,
        },
    })?;
    if !meta.is_file() {
        return Err(not_a_file(path.to_owned(), &meta));
    }
    fs::canonicalize(path).map_err(|e| LoadError::Io {
        path: path.to_owned(),
        source: e,
    })
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

#[cfg(all(test, unix))]
mod path_tests {
    use super::plain_path;
    use std::path::Path;

    #[test]
    fn a_path_is_read_plainly_only_without_links_dots_or_missing_parts() {
        let dir = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(dir.path()).unwrap();
        let file = dir.join("lib.so");
        std::fs::write(&file, b"x").unwrap();
        let entries = plain_path(&file).expect("no link in the path");
        let paths: Vec<&Path> = entries.iter().map(|(p, _)| *p).collect();
        assert_eq!(paths, file.ancestors().collect::<Vec<_>>());
        assert!(entries[0].1.is_file() && entries[1].1.is_dir());

        std::os::unix::fs::symlink(&dir, dir.join("link")).unwrap();
        assert!(
            plain_path(&dir.join("link/lib.so")).is_none(),
            "a link above"
        );
        std::os::unix::fs::symlink(&file, dir.join("to.so")).unwrap();
        assert!(plain_path(&dir.join("to.so")).is_none(), "the file a link");
        assert!(plain_path(&dir.join("x/../lib.so")).is_none(), "a `..`");
        assert!(plain_path(&dir.join("missing.so")).is_none(), "missing");
    }
}
