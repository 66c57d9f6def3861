//! Opening a library file: the loader's checks, in order. Each step is in
//! a file of its own, and a refusal at any of them is a [`LoadError`]
//! naming the file; nothing of a refused build is left loaded.
//!
//! 1. **Trust** (`trust.rs`): who could have written the file and every
//!    directory above it; then the one open of the file the later steps
//!    read.
//! 2. **First bytes** (`precheck.rs`): its size within the limit, this
//!    platform's format and this machine, before any of it is copied.
//! 3. **Private copy** (`copy/`): the bytes, in a sealed memory file or a
//!    private directory, so that what is checked is what is loaded.
//! 4. **The copy's content** (`content.rs`): the hash when one is pinned,
//!    the machine, the image's structure, the exports' kinds.
//! 5. **The dynamic loader** (`loader.rs`): the copy opened under a name
//!    the loader does not already answer for.
//! 6. **The exports** (`exports.rs`): the descriptor's head, the Rust
//!    layout, the whole descriptor and its extension, `get_version`, and
//!    that nothing changes between two reads.

use std::path::{Path, PathBuf};
#[cfg(target_os = "linux")]
use std::sync::OnceLock;

use super::copy::{CopyPlace, PrivateCopy};
use super::error::LoadError;
use super::exports::Exports;
use super::library::Library;
use super::loader::{self, CopyError, LoaderEntry};
use super::options::LoadOptions;
use super::trust::Sha256;
use super::{content, precheck, trust};

impl Library {
    /// Loads the plugin at `path` with every check of the loader (see the
    /// steps above).
    ///
    /// # Safety
    ///
    /// Loading a library runs its code in this process: its initializers
    /// when it is opened, its exports during the checks, its functions on
    /// every call. The caller vouches that the file's code is sound (as for
    /// libloading's `Library::new`); the checks catch mistakes (a stale
    /// build, a broken descriptor), not a hostile library.
    pub unsafe fn open(path: &Path, options: &LoadOptions) -> Result<Library, LoadError> {
        // SAFETY: forwarded to the caller.
        unsafe { open(path, options, None) }
            .map(|l| l.expect("loaded when no hash is to be skipped"))
    }

    /// As [`Library::open`], unless the file's content has the SHA-256
    /// `current` (the build serving now): then nothing is loaded.
    ///
    /// # Safety
    ///
    /// As for [`Library::open`].
    pub unsafe fn open_if_changed(
        path: &Path,
        options: &LoadOptions,
        current: Sha256,
    ) -> Result<Option<Library>, LoadError> {
        // SAFETY: forwarded to the caller.
        unsafe { open(path, options, Some(current)) }
    }
}

/// The steps above, in order; `None` when the copy's bytes have the
/// SHA-256 `unless`.
///
/// # Safety
///
/// As for [`Library::open`].
unsafe fn open(
    path: &Path,
    options: &LoadOptions,
    unless: Option<Sha256>,
) -> Result<Option<Library>, LoadError> {
    // 1. Trust, and the file.
    let (source, mut file) = trust::open_trusted(path, &options.trust)?;
    // 2 and 3. Its first bytes, then its private copy.
    let copy = precheck::copy(&source, &mut file, options, &options.copies)?;
    drop(file);
    // SAFETY: forwarded to the caller.
    unsafe { open_copy(source, copy, options, unless) }
}

/// Steps 4 to 6, on a private copy made from `source`.
///
/// # Safety
///
/// As for [`Library::open`].
pub(crate) unsafe fn open_copy(
    source: PathBuf,
    copy: PrivateCopy,
    options: &LoadOptions,
    unless: Option<Sha256>,
) -> Result<Option<Library>, LoadError> {
    // 4. The copy's content.
    let Some(sha256) = content::check(&source, &copy, options, unless)? else {
        return Ok(None);
    };
    // 5. The dynamic loader.
    let (copy, (lib, base)) = match loader::open(copy) {
        Ok(opened) => opened,
        Err(CopyError::Load(e)) => return Err(e),
        Err(CopyError::Open(reason)) => {
            return Err(LoadError::NotSharedLibrary {
                path: source,
                reason,
            });
        }
    };
    let entry = LoaderEntry::new(&copy, base);
    // 6. The exports.
    // SAFETY: the exports are found by their ABI names in `lib`, which
    // stays open while they are used: the library whose file the caller's
    // trust policy admitted.
    let checked = Exports::of(&lib, &source).and_then(|exports| unsafe { exports.check() });
    match checked {
        Ok(checked) => Ok(Some(Library::opened(
            source,
            copy,
            sha256,
            checked,
            (lib, entry),
        ))),
        Err(e) => {
            loader::close_refused(lib, entry, copy);
            Err(e)
        }
    }
}

/// A private copy checked for another process to load (an isolated
/// worker): steps 1 to 4, the copy a sealed memory file.
#[cfg(target_os = "linux")]
pub(crate) struct CheckedCopy {
    /// The file, as given (made absolute).
    pub(crate) source: PathBuf,
    /// Its sealed copy.
    pub(crate) copy: PrivateCopy,
    /// Its hash, when the checks computed it.
    pub(crate) sha256: OnceLock<Sha256>,
}

/// Steps 1 to 4 for another process to load the copy; `None` when its
/// bytes have the SHA-256 `unless`.
#[cfg(target_os = "linux")]
pub(crate) fn checked_copy(
    path: &Path,
    options: &LoadOptions,
    unless: Option<Sha256>,
) -> Result<Option<CheckedCopy>, LoadError> {
    let (source, mut file) = trust::open_trusted(path, &options.trust)?;
    let copy = precheck::copy(&source, &mut file, options, &CopyPlace::Memory)?;
    drop(file);
    Ok(
        content::check(&source, &copy, options, unless)?.map(|sha256| CheckedCopy {
            source,
            copy,
            sha256,
        }),
    )
}

/// Step 4 again on a copy checked before, for another process to load it
/// anew (its file's trust and hash were checked when it was made).
#[cfg(target_os = "linux")]
pub(crate) fn check_again(
    source: &Path,
    copy: &PrivateCopy,
    options: &LoadOptions,
) -> Result<(), LoadError> {
    let options = LoadOptions {
        pin: None,
        ..options.clone()
    };
    content::check(source, copy, &options, None).map(|_| ())
}

/// A new private copy of the bytes of `copy`, made from `source`: to load
/// the same build again as a new one.
pub(crate) fn copy_again(
    source: &Path,
    copy: &PrivateCopy,
    place: &CopyPlace,
) -> Result<PrivateCopy, LoadError> {
    let mut reader = copy.reader().map_err(|e| LoadError::Copy {
        place: format!("`{}`", copy.name()),
        source: e,
    })?;
    PrivateCopy::create(&mut reader, precheck::stem(source), place)
}
