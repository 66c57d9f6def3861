//! Hot-swappable slots: the table VMs call through, and when replaced
//! builds are released.

mod epoch;
mod table;
mod watch;

pub use table::{
    Binding, BoundInfo, LibraryInfo, PendingRelease, ReloadEvent, ReloadKind, ReloadOptions,
    ReloadReport, SlotInfo, SlotReader, SlotTable, StateTransfer, Swap, TableOptions,
};
pub use watch::{WatchOptions, Watcher};
