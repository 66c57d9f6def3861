//! Why an isolated build could not be started.

use std::path::PathBuf;
use std::time::Duration;

use crate::failure::Crash;

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
