//! Hot-swappable slots: the table VMs call through, and when replaced
//! builds are released.

mod epoch;
mod table;

pub use table::{
    Binding, BoundInfo, LibraryInfo, PendingRelease, ReloadEvent, ReloadKind, ReloadOptions,
    ReloadReport, SlotInfo, SlotReader, SlotTable, StateTransfer, Swap, TableOptions,
};
