//! hotslot: a bytecode VM whose native functions live in hot-swappable,
//! checked plugin slots.

#![deny(missing_docs)]

mod error;
pub mod plugin;
mod slots;
#[cfg(feature = "snapshot")]
pub mod snapshot;
mod sync;
pub mod typed;
mod types;
pub mod vm;

pub use error::{
    AbiError, AsmError, AsmErrorKind, CallError, CopyDirError, DecodeError, DecodeErrorKind, Fault,
    LinkError, LoadError, NameError, SlotError, TrustError, VerifyError, VerifyErrorKind, VmError,
    chain,
};
pub use slots::{
    BoundInfo, LibraryInfo, PendingRelease, ReloadEvent, ReloadKind, ReloadOptions, ReloadReport,
    SlotCalls, SlotInfo, SlotReader, SlotTable, StateTransfer, Swap, TableOptions,
};
pub use slots::{FunctionOptions, TypedFunc};
#[cfg(feature = "watch")]
pub use slots::{WatchOptions, Watcher};
pub use types::{Signature, SignatureParseError, UnknownTag, ValType};
