//! A file read whole under the loader's first checks, for code that is not
//! a shared library (a script module): who could have written it (step 1),
//! its size within the limit (step 2), and the hash when one is pinned. The
//! bytes returned are the bytes checked; nothing opens the file again.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::LoadError;
use super::options::LoadOptions;
use super::trust::{self, Sha256};

/// The file at `path`, read once: its path as opened, its bytes, and their
/// SHA-256. `None` when the bytes have the SHA-256 `unless`.
pub(crate) fn read_trusted(
    path: &Path,
    options: &LoadOptions,
    unless: Option<Sha256>,
) -> Result<Option<(PathBuf, Vec<u8>, Sha256)>, LoadError> {
    let (source, file) = trust::open_trusted(path, &options.trust)?;
    let io = |e| LoadError::Io {
        path: source.clone(),
        source: e,
    };
    let too_large = |size| LoadError::TooLarge {
        path: source.clone(),
        size,
        limit: options.max_size,
    };
    let len = file.metadata().map_err(io)?.len();
    if len > options.max_size {
        return Err(too_large(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // One more byte than the limit: a file that grows meanwhile is refused.
    file.take(options.max_size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > options.max_size {
        return Err(too_large(bytes.len() as u64));
    }
    let found = Sha256::of(&bytes);
    if unless == Some(found) {
        return Ok(None);
    }
    if let Some(expected) = options.pin
        && expected != found
    {
        return Err(LoadError::HashMismatch {
            path: source,
            expected,
            found,
        });
    }
    Ok(Some((source, bytes, found)))
}
