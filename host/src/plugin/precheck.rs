//! Steps 2 and 3 of opening a library: what its first bytes say, then its
//! private copy. A file too large, or not a library of this platform's
//! format, or built for another machine, is refused before any of it is
//! copied.

use std::fs;
use std::path::Path;

use super::copy::{CopyPlace, PrivateCopy};
use super::error::LoadError;
use super::options::LoadOptions;

/// What can be known of a library file before any of it is copied: its
/// size (at most `options.max_size`), its format and its machine, from its
/// first bytes. Then the copy, of at most that size (a file that grows
/// meanwhile is refused, not copied on).
pub(crate) fn copy(
    source: &Path,
    file: &mut fs::File,
    options: &LoadOptions,
    place: &CopyPlace,
) -> Result<PrivateCopy, LoadError> {
    use std::io::{Read, Seek};
    let too_large = |size| LoadError::TooLarge {
        path: source.to_owned(),
        size,
        limit: options.max_size,
    };
    let io = |e| LoadError::Io {
        path: source.to_owned(),
        source: e,
    };
    let len = file.metadata().map_err(io)?.len();
    if len > options.max_size {
        return Err(too_large(len));
    }
    let mut head = Vec::with_capacity(4096);
    file.by_ref()
        .take(4096)
        .read_to_end(&mut head)
        .map_err(io)?;
    super::image::check_format(&head).map_err(|reason| LoadError::NotSharedLibrary {
        path: source.to_owned(),
        reason,
    })?;
    super::image::check_machine(&head).map_err(|(found, host)| LoadError::Architecture {
        path: source.to_owned(),
        found: found.to_string(),
        host: host.to_string(),
    })?;
    file.rewind().map_err(io)?;
    let copy = PrivateCopy::create(
        &mut file.by_ref().take(options.max_size.saturating_add(1)),
        stem(source),
        place,
    )?;
    let copied = copy.size().map_err(io)?;
    if copied > options.max_size {
        return Err(too_large(copied));
    }
    Ok(copy)
}

/// A file name without its extension, for naming copies.
pub(crate) fn stem(source: &Path) -> &str {
    source
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin")
}
