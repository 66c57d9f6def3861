//! Entry points of functions that are not called through them: a build in
//! a worker process (its calls go through the channel), a script module
//! (its calls run on a machine of the host's). Each such function's entry
//! answers [`ROUTE`] and does nothing else; the slot's caller sees the
//! status, finds the build its slot is bound to, and makes the call the
//! build's way (`slots/route.rs`).

use hotslot_plugin_api::{HsCallCtx, HsStatus, HsValue};

/// The status a routed function's entry returns when called directly: the
/// call is its build's to make.
pub(crate) const ROUTE: HsStatus = HsStatus(i32::MIN + 0x1501);

/// The entry point of every routed function. It does nothing itself.
///
/// # Safety
///
/// None beyond the entry type's: it reads and writes nothing.
pub(crate) unsafe extern "C" fn route(
    _: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    ROUTE
}

/// The `save_state` hook of a routed build: as [`route`]; the build's own
/// way is asked instead. (Only isolated builds have hooks routed.)
///
/// # Safety
///
/// None beyond the hook type's: it reads and writes nothing.
#[cfg(target_os = "linux")]
pub(crate) unsafe extern "C" fn route_save(_: *mut HsCallCtx) -> HsStatus {
    ROUTE
}

/// As [`route_save`], for `load_state`.
///
/// # Safety
///
/// None beyond the hook type's: it reads and writes nothing.
#[cfg(target_os = "linux")]
pub(crate) unsafe extern "C" fn route_load(
    _: *mut HsCallCtx,
    _: u32,
    _: hotslot_plugin_api::HsBytes,
) -> HsStatus {
    ROUTE
}
