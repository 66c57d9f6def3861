//! Step 5 of opening a library: the dynamic loader, given the private copy
//! under a name it does not already answer for; and what the loader keeps
//! after the host released a build.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::copy::{CopyPlace, PrivateCopy};
use super::error::LoadError;
use super::sys;

pub(crate) enum CopyError {
    Load(LoadError),
    Open(String),
}

/// Opens a private copy. A system that refuses code in memory files (an
/// `execmem` policy, say) is noticed at the first refusal: the copy is
/// moved to the default directory, and every later one goes there.
pub(crate) fn open(copy: PrivateCopy) -> Result<(PrivateCopy, Opened), CopyError> {
    static MEMORY_REFUSED: AtomicBool = AtomicBool::new(false);
    let fallback = CopyPlace::Dir(super::copy::default_copy_dir());
    let copy = if copy.in_memory() && MEMORY_REFUSED.load(Ordering::Relaxed) {
        moved(&copy, &fallback)?
    } else {
        copy
    };
    let copy = with_a_name_of_its_own(copy)?;
    match sys::open_shared_library(&copy.load_path()) {
        Ok(lib) => Ok((copy, lib)),
        Err(reason) if copy.in_memory() && reason.contains("failed to map segment") => {
            log::warn!(
                "the system refuses to run code from memory files ({reason}); private copies go to `{}` from now on",
                super::copy::default_copy_dir().display()
            );
            MEMORY_REFUSED.store(true, Ordering::Relaxed);
            let copy = moved(&copy, &fallback)?;
            let lib = sys::open_shared_library(&copy.load_path()).map_err(CopyError::Open)?;
            Ok((copy, lib))
        }
        Err(reason) => Err(CopyError::Open(reason)),
    }
}

/// The copy, under a load path the dynamic loader does not answer with a
/// library it lists already.
///
/// The loader answers `dlopen` of a name it lists (or of a file it has
/// mapped) with that library, without opening anything. A memory copy is
/// opened as `/proc/self/fd/N`, and descriptor numbers are reused once
/// closed: should the loader still list a library under that name, whose
/// descriptor was closed while it stayed loaded, opening the copy would
/// return the old library, and its code would run in place of the bytes
/// just checked (and pinned). hotslot itself keeps the descriptor of every
/// build the loader still lists open (see [`Library`]'s `Drop`), but code
/// outside it may open a library that way and close the descriptor. So the
/// loader is asked first (`RTLD_NOLOAD`: its own lookup, by name and by
/// file, loading nothing), and a name it answers for is given up for the
/// next free number above.
fn with_a_name_of_its_own(mut copy: PrivateCopy) -> Result<PrivateCopy, CopyError> {
    /// Numbers tried before giving up: each is one the loader lists.
    const TRIES: usize = 1024;
    for _ in 0..TRIES {
        let path = copy.load_path();
        let Ok(name) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
            return Ok(copy);
        };
        if !sys::answered_by_the_loader(&name) {
            return Ok(copy);
        }
        log::warn!(
            "the dynamic loader lists a library as `{}`, a name no longer this process's: \
             the private copy `{}` is opened by another number",
            path.display(),
            copy.name()
        );
        copy.renumber().map_err(|e| {
            CopyError::Load(LoadError::Copy {
                place: format!("`{}`", copy.name()),
                source: e,
            })
        })?;
    }
    Err(CopyError::Load(LoadError::Copy {
        place: format!("`{}`", copy.name()),
        source: std::io::Error::other(format!(
            "the dynamic loader lists a library under each of {TRIES} descriptor names tried"
        )),
    }))
}

/// A copy of `copy` in `place`.
fn moved(copy: &PrivateCopy, place: &CopyPlace) -> Result<PrivateCopy, CopyError> {
    let mut reader = copy.reader().map_err(|e| {
        CopyError::Load(LoadError::Copy {
            place: format!("`{}`", copy.name()),
            source: e,
        })
    })?;
    PrivateCopy::create(&mut reader, "moved", place).map_err(CopyError::Load)
}

/// A library the host released but the system kept mapped.
///
/// On Linux, a Rust library whose code registered a thread-local destructor
/// on a thread that is still alive stays mapped after `dlclose` until that
/// thread exits; on macOS a library with thread-locals is never unmapped.
/// Such a generation costs memory but runs no code: no slot can reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retained {
    /// Its generation.
    pub generation: u64,
    /// Its plugin's name.
    pub plugin: String,
    /// Its plugin's version.
    pub version: semver::Version,
    /// The file it was loaded from.
    pub source: PathBuf,
    /// The private copy that is still mapped, as listings name it.
    pub copy: String,
    pub(crate) entry: LoaderEntry,
}

/// Retained builds, each with its private copy, kept open while the
/// loader lists the build.
pub(crate) static RETAINED: Mutex<Vec<(Retained, Option<Arc<PrivateCopy>>)>> =
    Mutex::new(Vec::new());

/// Copies of refused builds the loader still listed after `dlclose` (one
/// whose code registered a thread-local destructor while its exports were
/// read), each kept open, like a retained build's, while the loader lists
/// the build under its descriptor's name.
static REFUSED_KEPT: Mutex<Vec<(LoaderEntry, PrivateCopy)>> = Mutex::new(Vec::new());

/// Closes a build refused after it was opened. Should the loader keep it
/// listed, its copy stays open: descriptor numbers are reused, and a later
/// copy opened by the same `/proc/self/fd/N` name would otherwise be
/// answered with this build.
pub(crate) fn close_refused(lib: libloading::Library, entry: LoaderEntry, copy: PrivateCopy) {
    let _ = lib.close();
    let mut kept = REFUSED_KEPT.lock().unwrap_or_else(|e| e.into_inner());
    kept.retain(|(entry, _)| entry.is_loaded());
    if entry.is_loaded() {
        kept.push((entry, copy));
    }
}

/// Released generations the system still keeps mapped, checked afresh on
/// every call (a retained library may be unmapped later, for example once
/// the thread holding its thread-locals exits; its copy is closed then).
pub fn retained_libraries() -> Vec<Retained> {
    REFUSED_KEPT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(entry, _)| entry.is_loaded());
    let mut retained = RETAINED.lock().unwrap_or_else(|e| e.into_inner());
    retained.retain(|(r, _)| r.entry.is_loaded());
    retained.iter().map(|(r, _)| r.clone()).collect()
}

/// How the dynamic loader lists a library: the name it was opened by, and
/// (where the loader says) its load address, which tells it apart from a
/// later library opened by the same name (a memory file's descriptor
/// number is reused once closed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LoaderEntry {
    name: std::ffi::CString,
    base: Option<usize>,
}

impl LoaderEntry {
    pub(crate) fn new(copy: &PrivateCopy, base: Option<usize>) -> LoaderEntry {
        let name = std::ffi::CString::new(copy.load_path().into_os_string().into_encoded_bytes())
            .unwrap_or_default();
        LoaderEntry { name, base }
    }

    /// Whether the library is still loaded in this process.
    pub(crate) fn is_loaded(&self) -> bool {
        sys::loaded(&self.name, self.base)
    }
}

/// An opened library, with its load address where the loader tells it.
pub(crate) type Opened = (libloading::Library, Option<usize>);

/// What the dynamic loader said, without the private copy's path it starts
/// with (the error names the original file already).
pub(crate) fn loader_message(e: &libloading::Error, shadow: &Path) -> String {
    use std::error::Error;
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s = c.to_string();
        cause = c.source();
    }
    let prefix = format!("{}: ", shadow.display());
    match s.strip_prefix(&prefix) {
        Some(rest) => rest.to_owned(),
        None => s,
    }
}
