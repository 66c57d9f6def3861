//! Loading a build in a worker process: the loader's checks on a sealed
//! private copy in this process (trust, first bytes, content), then a
//! worker that loads that very copy with the loader's other checks and
//! describes it, its description checked again here.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::{IsolateError, IsolateOptions, remote};
use crate::plugin::{
    CopyPlace, LoadError, LoadOptions, PluginInfo, PluginKind, PrivateCopy, Sha256,
};

/// A build loaded in a worker process.
pub(crate) struct IsolatedBuild {
    /// The file it was loaded from, as given (made absolute).
    pub(crate) source: PathBuf,
    /// The sealed copy its worker loaded (and a new worker loads again).
    pub(crate) copy: Arc<PrivateCopy>,
    /// The copy's hash, when the checks computed it.
    pub(crate) sha256: OnceLock<Sha256>,
    /// Its worker.
    pub(crate) remote: remote::Remote,
    /// What its worker described, checked here.
    pub(crate) info: PluginInfo,
    /// Rust or C.
    pub(crate) kind: PluginKind,
}

/// Why a build could not be loaded in a worker.
pub(crate) enum OpenError {
    /// The loader's checks refused it, in this process.
    Load(LoadError),
    /// Its worker could not be started, or refused it.
    Start(IsolateError),
}

impl From<LoadError> for OpenError {
    fn from(e: LoadError) -> OpenError {
        OpenError::Load(e)
    }
}

/// Loads the library at `path` in a worker process; `None` when its
/// content has the SHA-256 `unless`.
pub(crate) fn open(
    path: &Path,
    options: &LoadOptions,
    isolate: &IsolateOptions,
    unless: Option<Sha256>,
) -> Result<Option<IsolatedBuild>, OpenError> {
    if let CopyPlace::Dir(dir) = &options.copies {
        return Err(OpenError::Start(IsolateError::CopiesInDirectory {
            dir: dir.clone(),
        }));
    }
    let Some(checked) = crate::plugin::checked_copy(path, options, unless)? else {
        return Ok(None);
    };
    start(
        checked.source,
        Arc::new(checked.copy),
        checked.sha256,
        options,
        isolate,
    )
    .map(Some)
}

/// Starts a worker for `copy` (made from `source` and checked), and reads
/// and checks its description of the build.
pub(crate) fn start(
    source: PathBuf,
    copy: Arc<PrivateCopy>,
    sha256: OnceLock<Sha256>,
    options: &LoadOptions,
    isolate: &IsolateOptions,
) -> Result<IsolatedBuild, OpenError> {
    let worker = remote::find_worker(isolate.worker.as_deref()).map_err(OpenError::Start)?;
    // The worker runs the library's code as this user: it is checked like
    // a library.
    let canonical =
        std::fs::canonicalize(&worker).map_err(|e| crate::plugin::read_error(&worker, e))?;
    options
        .trust
        .check_path(&canonical)
        .map_err(LoadError::from)?;
    let (remote, info, kind) =
        remote::Remote::start(&source, Arc::clone(&copy), isolate, canonical)
            .map_err(OpenError::Start)?;
    Ok(IsolatedBuild {
        source,
        copy,
        sha256,
        remote,
        info,
        kind,
    })
}

/// Starts the build `copy` again in a new worker: the copy's content
/// checked again, its file's trust and hash not (they were when it was
/// made).
pub(crate) fn start_again(
    source: &Path,
    copy: &Arc<PrivateCopy>,
    options: &LoadOptions,
    isolate: &IsolateOptions,
) -> Result<IsolatedBuild, OpenError> {
    crate::plugin::check_again(source, copy, options)?;
    start(
        source.to_owned(),
        Arc::clone(copy),
        OnceLock::new(),
        options,
        isolate,
    )
}
