//! What the `plugin!` macro expands to: not part of the API.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

pub use abi_stable::StableAbi;
pub use abi_stable::library::AbiHeader;

use crate::abi::{HsBytes, HsCallCtx, HsStatus, HsStructLayout, HsValue, HsVersion};
use crate::author::Output;

/// Runs one native call with every panic caught and reported as
/// `HS_STATUS_PANIC`: no unwind ever leaves the plugin.
///
/// # Safety
///
/// `ctx` and `ret` are the valid pointers of the current call.
#[inline]
pub unsafe fn guarded(
    ctx: *mut HsCallCtx,
    ret: *mut HsValue,
    f: impl FnOnce(&mut Output<'_>) -> HsStatus,
) -> HsStatus {
    // SAFETY: forwarded to the caller.
    let mut out = unsafe { Output::new(ctx, ret) };
    match catch_unwind(AssertUnwindSafe(|| f(&mut out))) {
        Ok(status) => status,
        Err(payload) => panicked(&mut out, payload),
    }
}

/// Reports a caught panic to the host.
#[cold]
#[inline(never)]
fn panicked(out: &mut Output<'_>, payload: Box<dyn Any + Send>) -> HsStatus {
    out.message(panic_message(&*payload));
    // A payload whose destructor panics must not unwind out either.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    HsStatus::PANIC
}

/// The argument slice of a call, checked against the expected count.
///
/// # Safety
///
/// `args` points to `nargs` values (or `nargs` is 0).
#[inline]
pub unsafe fn args<'a>(
    args: *const HsValue,
    nargs: usize,
    expected: usize,
    name: &str,
    out: &mut Output<'_>,
) -> Result<&'a [HsValue], HsStatus> {
    if nargs != expected {
        return Err(wrong_count(nargs, expected, name, out));
    }
    if nargs == 0 {
        return Ok(&[]);
    }
    // SAFETY: the caller guarantees `args` points to `nargs` values.
    Ok(unsafe { std::slice::from_raw_parts(args, nargs) })
}

#[cold]
#[inline(never)]
fn wrong_count(nargs: usize, expected: usize, name: &str, out: &mut Output<'_>) -> HsStatus {
    out.error(&format!(
        "`{name}` takes {expected} arguments, the host passed {nargs}"
    ))
}

/// Runs a `save_state` hook under the same panic guard as a call.
///
/// # Safety
///
/// `ctx` is the valid context of the current call.
pub unsafe fn save_state(ctx: *mut HsCallCtx, save: fn() -> Vec<u8>) -> HsStatus {
    let mut unused = HsValue::ZERO;
    // SAFETY: `ctx` is valid (caller), `unused` lives across the call.
    unsafe {
        guarded(ctx, &mut unused, |out| {
            out.set_bytes(&save());
            HsStatus::OK
        })
    }
}

/// Runs a `load_state` hook under the same panic guard as a call.
///
/// # Safety
///
/// `ctx` is the valid context of the current call and `state` a valid view.
pub unsafe fn load_state(
    ctx: *mut HsCallCtx,
    version: u32,
    state: HsBytes,
    load: fn(u32, &[u8]) -> Result<(), String>,
) -> HsStatus {
    let mut unused = HsValue::ZERO;
    // SAFETY: `ctx` is valid and `state` a valid view (caller).
    unsafe {
        guarded(ctx, &mut unused, |out| {
            match load(version, state.as_slice()) {
                Ok(()) => HsStatus::OK,
                Err(e) => out.error(&e),
            }
        })
    }
}

/// The message of a panic payload, as `std` would print it.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}

/// The layout records of a function's parameters, for a `static`.
pub struct StructPointers<const N: usize>(pub [*const HsStructLayout; N]);

// SAFETY: the pointers are to immutable statics (layout records), only ever
// read.
unsafe impl<const N: usize> Sync for StructPointers<N> {}

/// A parameter's layout record as a pointer (null for none).
pub const fn struct_pointer(record: Option<&'static HsStructLayout>) -> *const HsStructLayout {
    match record {
        Some(r) => r,
        None => std::ptr::null(),
    }
}

/// Refuses a call of a plugin whose host callback table never arrived: a
/// host of ABI 1.0 knows nothing of tables, and the plugin must not call
/// through a null one.
#[cold]
#[inline(never)]
pub fn host_missing(out: &mut Output<'_>, table: &str, version: HsVersion) -> HsStatus {
    out.error(&format!(
        "this plugin needs the host callback table `{table}` {}.{}, which the host did not \
         hand over (a host older than ABI 1.1 cannot)",
        version.major, version.minor
    ))
}
