//! hotslot: a bytecode VM whose native functions live in hot-swappable,
//! checked plugin slots.

#![deny(missing_docs)]

mod error;
pub mod plugin;
mod types;
pub mod vm;

pub use error::{
    AbiError, AsmError, AsmErrorKind, DecodeError, DecodeErrorKind, Fault, LinkError, LoadError,
    NameError, SlotError, TrustError, VerifyError, VerifyErrorKind, VmError,
};
pub use types::{Signature, SignatureParseError, ValType};
