//! Checks made before a library file is opened.
//!
//! Opening a library runs its code (its constructors run inside `dlopen`),
//! so nothing checked after opening can protect against a hostile file.
//! What can be checked before is who could have put the file there.

use std::path::Path;

use crate::error::TrustError;

/// What the loader requires of a file before opening it.
#[derive(Clone, Debug, Default)]
pub struct TrustPolicy {
    /// Accept a file, or a directory above it, that other users can write to
    /// or that belongs to another user. Off by default.
    pub allow_untrusted_paths: bool,
    /// Accept only a file with this SHA-256 content hash, checked on the
    /// private copy that is then opened, so the file cannot change between
    /// the check and the load.
    pub sha256: Option<[u8; 32]>,
}

impl TrustPolicy {
    /// Checks the file at `path` (canonical) and every directory above it.
    ///
    /// Refused: a file that is group- or world-writable; a directory that is
    /// world-writable without the sticky bit (with it, as for `/tmp`, other
    /// users cannot rename or remove what is not theirs); a file or directory
    /// owned by a user other than this one or root.
    pub fn check_path(&self, path: &Path) -> Result<(), TrustError> {
        if self.allow_untrusted_paths {
            return Ok(());
        }
        check_unix(path)
    }
}

#[cfg(unix)]
fn check_unix(path: &Path) -> Result<(), TrustError> {
    use std::os::unix::fs::MetadataExt;

    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let mut is_file = true;
    for p in path.ancestors() {
        if p.as_os_str().is_empty() {
            continue;
        }
        let Ok(meta) = std::fs::metadata(p) else {
            // What cannot be read is reported by the loader itself.
            is_file = false;
            continue;
        };
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

#[cfg(not(unix))]
fn check_unix(_: &Path) -> Result<(), TrustError> {
    Ok(())
}

/// Parses a SHA-256 hash written as 64 hex digits.
pub fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Writes a hash as 64 lowercase hex digits.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip() {
        let h = [0xab; 32];
        assert_eq!(parse_sha256(&hex(&h)), Some(h));
        assert_eq!(parse_sha256("abc"), None);
        assert_eq!(parse_sha256(&"g".repeat(64)), None);
    }
}
