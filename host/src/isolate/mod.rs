//! Isolated bindings: a library loaded in a worker process, so that a
//! plugin that crashes, aborts, exits or hangs cannot take the host with it.
//!
//! The host checks the file as for any load (trust policy, hash pin, ELF
//! structure, exports) on a sealed private copy, and hands that copy to a
//! worker (`hotslot-worker`), which loads it with the loader's own checks
//! and describes the build; the host checks the description again (it
//! trusts nothing a worker says) and binds slots to it as to any build.
//! Calls go through shared memory: arguments and results are written into
//! a region both processes map, and a futex word says whose turn it is
//! (each side spins briefly before sleeping on it). A worker that dies or
//! misses the call's deadline fails that call with an [`IsolatedFailure`];
//! the next call starts a new worker of the same build.
//!
//! What crosses the boundary: arguments and results of the types `i32`,
//! `i64`, `f64`, `bool` and `str` (strings copied both ways, with bounds).
//! A plugin whose functions take the application's types, or that needs a
//! host table, is refused: those live in the host's memory.

use std::path::PathBuf;
use std::time::Duration;

#[cfg(target_os = "linux")]
pub(crate) mod channel;
#[cfg(target_os = "linux")]
pub(crate) mod describe;
mod error;
#[cfg(target_os = "linux")]
mod open;
#[cfg(target_os = "linux")]
pub(crate) mod remote;
#[cfg(target_os = "linux")]
mod supervisor;
#[cfg(target_os = "linux")]
mod worker;

#[cfg(target_os = "linux")]
pub use worker::worker_main;

/// How an isolated binding runs its worker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IsolateOptions {
    /// The worker program; found when `None`: `$HOTSLOT_WORKER`, then
    /// `hotslot-worker` beside the running program, in the directory above
    /// it (where cargo puts a package's binaries, next to its tests'
    /// `deps/`), then on `$PATH`.
    pub worker: Option<PathBuf>,
    /// How long a call may take before its worker is killed and the call
    /// fails with [`IsolatedFailure::Timeout`]; no limit when `None`.
    pub deadline: Option<Duration>,
    /// How long each side spins, waiting for the other, before it sleeps
    /// on the futex: the host for a reply, the worker for the next call.
    /// Spinning answers a short call without two wake-ups (see
    /// BENCHMARKS.md for what it buys); `None` is [`DEFAULT_SPIN`].
    pub spin: Option<Duration>,
    /// Roll the library back to its previous build, if it has one, once
    /// its worker has failed this often (crashed or missed a deadline)
    /// within this window; reported to observers as a
    /// [`ReloadKind::CrashRollback`](crate::ReloadKind::CrashRollback)
    /// event (refused when there is no previous build). Off when `None`.
    pub rollback_after: Option<CrashLimit>,
}

/// How many worker failures, within how long, make an isolated binding
/// roll back to its previous build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrashLimit {
    /// Failures: crashes and missed deadlines.
    pub failures: u32,
    /// Within this long.
    pub within: Duration,
}

/// How long each side of an isolated call spins before it sleeps, unless
/// [`IsolateOptions::spin`] says otherwise.
pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);

pub use crate::failure::{Crash, IsolatedFailure};
pub use error::IsolateError;
#[cfg(target_os = "linux")]
pub(crate) use open::{IsolatedBuild, OpenError, open, start_again};
