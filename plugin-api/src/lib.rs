//! The stable ABI between hotslot hosts and their native plugins.
//!
//! A plugin is a shared library that exports a [`HsPluginDescriptor`]: its
//! name and version and a table of [`HsFunctionDescriptor`]s, each naming a
//! function, its parameter and return types, its own semantic version and one
//! uniform entry point ([`HsEntry`]) that takes its arguments as a slice of
//! [`HsValue`]s. The same `#[repr(C)]` types serve Rust plugins, through the
//! [`plugin!`] macro, and C plugins, through the header `include/hotslot.h`
//! that `cbindgen` generates from this crate.
//!
//! The host (the `hotslot` crate) reads the descriptor, checks it field by
//! field, and for Rust plugins also compares the layout of these types in the
//! plugin's build with its own through `abi_stable`.
//!
//! # Writing a plugin in Rust
//!
//! A `cdylib` crate depending on this one:
//!
//! ```
//! hotslot_plugin_api::plugin! {
//!     name = "example";
//!     version = "1.0.0";
//!
//!     /// Adds two integers, wrapping on overflow.
//!     pub fn add(a: i32, b: i32) -> i32 {
//!         a.wrapping_add(b)
//!     }
//!
//!     /// Joins two strings; the host copies the result.
//!     #[version = "1.2.0"]
//!     pub fn join(a: &str, b: &str) -> String {
//!         format!("{a}{b}")
//!     }
//!
//!     /// Fails instead of dividing by zero.
//!     pub fn div(a: i64, b: i64) -> Result<i64, String> {
//!         a.checked_div(b).ok_or_else(|| format!("cannot divide {a} by {b}"))
//!     }
//! }
//!
//!
//! fn main() {
//!     // The functions stay ordinary Rust ...
//!     assert_eq!(add(2, 3), 5);
//!     // ... and the exports describe them.
//!     // SAFETY: `hotslot_plugin` returns a pointer to a static.
//!     let plugin = unsafe { &*hotslot_plugin() };
//!     assert_eq!(plugin.function_count, 3);
//!     assert_eq!(get_version(), 1);
//! }
//! ```
//!
//! # Ownership across the boundary
//!
//! Arguments, strings included, are borrowed from the host for the duration
//! of a call. A string result or an error message is passed to a callback of
//! the call's [`HsCallCtx`], which copies it before returning. No allocation
//! made on one side is ever freed on the other.

#![deny(missing_docs)]

mod abi;
pub mod author;

pub use abi::{
    AbiVersion, HS_ABI_MAJOR, HS_ABI_MINOR, HS_DESCRIPTOR_SYMBOL, HS_EXT_SYMBOL, HS_FIELD_BOOL,
    HS_FIELD_F32, HS_FIELD_F64, HS_FIELD_I8, HS_FIELD_I16, HS_FIELD_I32, HS_FIELD_I64,
    HS_FIELD_OTHER, HS_FIELD_U8, HS_FIELD_U16, HS_FIELD_U32, HS_FIELD_U64,
    HS_GET_VERSION_SYMBOL, HS_MAGIC, HS_MAX_FIELDS, HS_MAX_FUNCTIONS, HS_MAX_NAME_LEN,
    HS_MAX_PARAMS, HS_MAX_STATE_LEN, HS_MAX_STR_LEN, HS_RUST_LAYOUT_SYMBOL, HS_STATUS_ERROR,
    HS_STATUS_OK, HS_STATUS_PANIC, HS_TYPE_BOOL, HS_TYPE_BYTES, HS_TYPE_F64, HS_TYPE_I32,
    HS_TYPE_I64, HS_TYPE_REF, HS_TYPE_REF_MUT, HS_TYPE_SLICE, HS_TYPE_SLICE_MUT, HS_TYPE_STR,
    HS_TYPE_VOID, HsBytes, HsCallCtx, HsEntry, HsField, HsFieldKind, HsFunctionDescriptor,
    HsFunctionTypes, HsHostRequest, HsPluginDescriptor, HsPluginExt, HsRustLayout, HsStatus,
    HsStr, HsStructLayout, HsType, HsValue, HsVersion, field_in,
};
pub use author::{HsHostTable, HsStruct};

/// Items the macros expand to; not part of the API.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
