//! Hot-swappable slots: the table VMs call through, how a reload is checked
//! and published, and when replaced builds are released.
//!
//! - `table.rs`: [`SlotTable`], the façade, and the writers' state;
//! - `transaction.rs`: one bind, reload or rollback: load, check every slot,
//!   carry the plugin's state, publish;
//! - `reader.rs`: the VM's call path, [`SlotReader`];
//! - `handle.rs`: the host's call path, [`TypedFunc`];
//! - `publish.rs`: the release protocol (hazard pointers), model-checked;
//! - `observers.rs`, `report.rs`: reload events and what the table reports;
//! - `watch.rs`: reloads when files change.

mod build;
mod error;
mod handle;
mod observers;
mod publish;
mod reader;
mod report;
mod route;
mod snapshot;
mod table;
mod transaction;
#[cfg(feature = "watch")]
mod watch;

#[cfg(test)]
mod tests;

pub(crate) use error::SlotName;
pub use error::{CallError, SlotError};
pub use handle::{FunctionOptions, TypedFunc};
pub use reader::{SlotCalls, SlotReader};
pub use report::{
    BoundInfo, LibraryInfo, PendingRelease, ReloadEvent, ReloadKind, ReloadReport, SlotInfo,
    StateTransfer, Swap,
};
pub(crate) use table::HANDLE_BASE;
pub use table::{ReloadOptions, SlotTable, TableOptions};
#[cfg(feature = "watch")]
pub use watch::{WatchOptions, Watcher};

/// Locks `m`, ignoring poisoning: the table's state behind each lock is
/// consistent at every step, and an observer's or a plugin's panic must not
/// make the table unusable.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
