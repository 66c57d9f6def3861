//! What the slot table reports: the outcome of a bind, reload or rollback,
//! the events observers receive, and the state of slots and libraries.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use semver::Version;

use crate::plugin::{PluginKind, Sha256};
use crate::vm::Import;

/// What a bind, reload or rollback changed.
#[derive(Clone, Debug, PartialEq)]
pub struct ReloadReport {
    /// The library's file.
    pub library: PathBuf,
    /// Its plugin name.
    pub plugin: String,
    /// Its plugin version.
    pub version: Version,
    /// The build that served before, if any.
    pub from_generation: Option<u64>,
    /// The build that serves now.
    pub to_generation: u64,
    /// Every slot that now points to the new build.
    pub swaps: Vec<Swap>,
    /// What happened to the plugin's state, when it has state hooks.
    pub state: Option<StateTransfer>,
    /// How long the whole transaction took.
    pub took: Duration,
    /// Nothing was loaded: the file holds the same bytes as the build that
    /// serves (`from_generation` and `to_generation` are that build's).
    pub unchanged: bool,
}

/// One slot's change.
#[derive(Clone, PartialEq)]
pub struct Swap {
    /// The slot: a program's slot number, or a typed handle's (shown as
    /// `typed handle N`).
    pub slot: u32,
    /// The function that served before and its version, if bound.
    pub from: Option<(Arc<str>, Version)>,
    /// The function now serving it.
    pub function: Arc<str>,
    /// Its version.
    pub to: Version,
}

impl fmt::Debug for Swap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Swap")
            .field("slot", &format_args!("{}", super::SlotName(self.slot)))
            .field("from", &self.from)
            .field("function", &self.function)
            .field("to", &self.to)
            .finish()
    }
}

impl fmt::Display for Swap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", super::SlotName(self.slot))?;
        match &self.from {
            Some((name, v)) if *name == self.function => write!(f, "`{name}` {v} -> {}", self.to),
            Some((name, v)) => write!(f, "`{name}` {v} -> `{}` {}", self.function, self.to),
            None => write!(f, "`{}` {}", self.function, self.to),
        }
    }
}

/// What happened to a plugin's state across a reload.
#[derive(Clone, Debug, PartialEq)]
pub enum StateTransfer {
    /// The new build accepted the old build's state.
    Carried {
        /// State format version.
        version: u32,
        /// Size of the state.
        bytes: usize,
    },
    /// The new build did not accept the state; it starts fresh.
    Refused {
        /// The state's version.
        version: u32,
        /// What the new build said.
        message: String,
    },
    /// The old build could not save its state; the new one starts fresh.
    SaveFailed {
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for StateTransfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateTransfer::Carried { version, bytes } => {
                write!(f, "state v{version} carried over ({bytes} bytes)")
            }
            StateTransfer::Refused { version, message } => {
                write!(
                    f,
                    "state v{version} not accepted, starting fresh: {message}"
                )
            }
            StateTransfer::SaveFailed { message } => {
                write!(f, "state could not be saved, starting fresh: {message}")
            }
        }
    }
}

/// What a table operation was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReloadKind {
    /// A slot was bound (or rebound).
    Bind,
    /// A library was reloaded from its file.
    Reload,
    /// Watch mode saw a library's file change and reloaded it.
    Watch,
    /// A library was returned to its previous build.
    Rollback,
    /// An isolated library was returned to its previous build because its
    /// worker failed this often within this long
    /// ([`IsolateOptions::rollback_after`](crate::isolate::IsolateOptions::rollback_after)).
    CrashRollback {
        /// Failures counted.
        failures: u32,
        /// Within this long.
        within: std::time::Duration,
    },
}

impl fmt::Display for ReloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReloadKind::Bind => "bind",
            ReloadKind::Reload => "reload",
            ReloadKind::Watch => "watch reload",
            ReloadKind::Rollback => "rollback",
            ReloadKind::CrashRollback { failures, within } => {
                return write!(
                    f,
                    "rollback after {failures} worker failures within {within:?}"
                );
            }
        })
    }
}

/// Sent to observers for every bind, reload and rollback, applied or
/// refused.
#[derive(Clone, Debug)]
pub struct ReloadEvent {
    /// What was attempted.
    pub kind: ReloadKind,
    /// The library's file.
    pub library: PathBuf,
    /// What changed, or why nothing did.
    pub outcome: Result<ReloadReport, String>,
}

impl fmt::Display for ReloadEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(r) if r.unchanged => write!(
                f,
                "{} {}: unchanged (the same bytes as generation {})",
                self.kind,
                self.library.display(),
                r.to_generation
            ),
            Ok(r) => {
                write!(
                    f,
                    "{} {}: {} {} (generation ",
                    self.kind,
                    self.library.display(),
                    r.plugin,
                    r.version
                )?;
                match r.from_generation {
                    Some(g) => write!(f, "{g} -> {}", r.to_generation)?,
                    None => write!(f, "{}", r.to_generation)?,
                }
                write!(f, ") in {:.2?}", r.took)?;
                for s in &r.swaps {
                    write!(f, "; {s}")?;
                }
                if let Some(state) = &r.state {
                    write!(f, "; {state}")?;
                }
                Ok(())
            }
            Err(reason) => write!(
                f,
                "{} {} refused: {reason}",
                self.kind,
                self.library.display()
            ),
        }
    }
}

/// One slot as the table sees it.
#[derive(Clone, Debug)]
pub struct SlotInfo {
    /// The slot's declaration.
    pub import: Import,
    /// What serves it, if bound.
    pub bound: Option<BoundInfo>,
}

/// The binding of a slot.
#[derive(Clone, Debug)]
pub struct BoundInfo {
    /// The function serving the slot.
    pub function: String,
    /// Its version.
    pub version: Version,
    /// The library's file.
    pub library: PathBuf,
    /// The plugin's name.
    pub plugin: String,
    /// The build.
    pub generation: u64,
    /// SHA-256 of the build's file (`None` if its private copy could not be
    /// read to compute it).
    pub sha256: Option<Sha256>,
    /// The private copy the build was loaded from, as listings name it
    /// (see [`PrivateCopy::name`](crate::plugin::PrivateCopy::name); `None`
    /// for a plugin linked into the host).
    pub copy: Option<String>,
    /// How the build's worker runs, when it is isolated.
    pub isolate: Option<crate::isolate::IsolateOptions>,
}

/// A library bound to at least one slot.
#[derive(Clone, Debug)]
pub struct LibraryInfo {
    /// Its file.
    pub path: PathBuf,
    /// Its plugin's name.
    pub plugin: String,
    /// Its plugin's version.
    pub version: Version,
    /// The build serving now.
    pub generation: u64,
    /// Rust or C.
    pub kind: PluginKind,
    /// SHA-256 of the build serving now (`None` if its private copy could
    /// not be read to compute it).
    pub sha256: Option<Sha256>,
    /// Whether its content hash is pinned.
    pub pinned: bool,
    /// Whether it runs in a worker process (see [`crate::isolate`]).
    pub isolated: bool,
    /// The process id of its worker, while one is running.
    pub worker_pid: Option<u32>,
    /// The names of the functions it exports, in its descriptor's order.
    pub functions: Vec<String>,
    /// The build a rollback returns to: its generation and plugin version.
    pub previous: Option<(u64, Version)>,
}

/// A build that is no longer current but not yet released, because a call
/// that started on it may still be running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRelease {
    /// The build.
    pub generation: u64,
    /// Its plugin.
    pub plugin: String,
    /// Its plugin version.
    pub version: Version,
    /// The private copy it was loaded from, as listings name it (`None`
    /// for a plugin linked into the host).
    pub copy: Option<String>,
}
