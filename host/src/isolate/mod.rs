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

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[cfg(target_os = "linux")]
pub(crate) mod channel;
#[cfg(target_os = "linux")]
pub(crate) mod describe;
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

/// How a worker process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crash {
    /// Killed by a signal (a segfault, an abort, a kill from outside).
    Signal {
        /// The signal's number.
        signal: i32,
    },
    /// Exited by itself (its plugin called `exit`), with this code.
    Exit {
        /// The exit code.
        code: i32,
    },
}

impl fmt::Display for Crash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Crash::Signal { signal } => match signal_name(signal) {
                Some(name) => write!(f, "was killed by signal {signal} ({name})"),
                None => write!(f, "was killed by signal {signal}"),
            },
            Crash::Exit { code } => write!(f, "exited with code {code}"),
        }
    }
}

/// The usual name of a signal.
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        31 => "SIGSYS",
        _ => return None,
    })
}

/// Why an isolated call got no answer from its function.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IsolatedFailure {
    /// The worker process died during the call.
    #[error("its worker process {how} during the call; the next call starts a new worker")]
    Crashed {
        /// How it ended.
        how: Crash,
    },
    /// The call did not return within the deadline; the worker was killed.
    #[error(
        "it did not return within {after:?}, so its worker process was killed; \
         the next call starts a new worker"
    )]
    Timeout {
        /// The deadline.
        after: Duration,
    },
    /// The call's string arguments do not fit the channel.
    #[error(
        "its string arguments take {needed} bytes, more than the {capacity} an isolated call carries"
    )]
    TooLarge {
        /// Bytes needed.
        needed: usize,
        /// Bytes the channel has for them.
        capacity: usize,
    },
    /// A string result longer than the channel carries.
    #[error(
        "its string result of {len} bytes is longer than the {capacity} an isolated call carries"
    )]
    ResultTooLarge {
        /// The result's length.
        len: usize,
        /// Bytes the channel has for it.
        capacity: usize,
    },
    /// The worker answered a call it was not given (its reply carried
    /// another call's number): it wrote what it should not, and was
    /// stopped.
    #[error(
        "its worker process answered call {found}, not the call {expected} it was given, \
         so it was stopped; the next call starts a new worker"
    )]
    Protocol {
        /// The host's number of the call.
        expected: u32,
        /// The number the worker's reply gave.
        found: u32,
    },
    /// The worker of an earlier crash could not be started again.
    #[error("its worker could not be started again: {reason}")]
    Restart {
        /// Why.
        reason: String,
    },
}

/// Why an isolated build could not be started.
#[derive(Debug, thiserror::Error)]
pub enum IsolateError {
    /// No worker program was found.
    #[error(
        "no `hotslot-worker` program was found (looked at {}); build it (`cargo build -p hotslot`) \
         or name it with `$HOTSLOT_WORKER`",
        looked.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
    )]
    WorkerNotFound {
        /// Where it was looked for.
        looked: Vec<PathBuf>,
    },
    /// The worker program could not be started.
    #[error("the worker `{}` could not be started: {source}", worker.display())]
    Spawn {
        /// The worker program.
        worker: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The worker loaded the build and refused it (its checks, or what an
    /// isolated worker cannot serve).
    #[error("the worker refused it: {reason}")]
    Refused {
        /// The worker's reason.
        reason: String,
    },
    /// The worker ended before it described the build.
    #[error("the worker {how} while loading it")]
    Died {
        /// How it ended.
        how: Crash,
    },
    /// The worker did not describe the build in time.
    #[error("the worker did not describe it within {after:?}")]
    Slow {
        /// How long it was given.
        after: Duration,
    },
    /// What the worker said is not a valid description, or not the one the
    /// build's first worker gave.
    #[error("the worker's description of it is invalid: {problem}")]
    Description {
        /// What is wrong with it.
        problem: String,
    },
    /// The table keeps its private copies in a directory: an isolated
    /// worker loads the sealed memory copy this process checked, which a
    /// copy in a directory cannot be.
    #[error(
        "an isolated build is handed to its worker as the sealed memory copy this process \
         checked, and copies are kept in `{}` here: bind it isolated without a copy directory, \
         or in process with it",
        dir.display()
    )]
    CopiesInDirectory {
        /// The table's copy directory.
        dir: PathBuf,
    },
    /// Isolation needs what this system does not have.
    #[error("isolated bindings are not available here: {reason}")]
    Unsupported {
        /// What is missing.
        reason: &'static str,
    },
}
