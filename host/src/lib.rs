//! hotslot: a bytecode VM whose native functions live in hot-swappable,
//! checked plugin slots.

#![deny(missing_docs)]

mod error;
pub mod plugin;
mod types;

pub use error::{AbiError, LoadError, NameError, SlotError, TrustError};
pub use types::{Signature, SignatureParseError, ValType};
