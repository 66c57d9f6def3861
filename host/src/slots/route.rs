//! The call path of a build in a worker process: its slots' entry points
//! answer [`ROUTE`](crate::isolate::remote::ROUTE), and the call is made
//! through the worker's channel; a worker that fails too often rolls its
//! library back.

use hotslot_plugin_api::{HsCallCtx, HsStatus, HsValue};

use super::snapshot::Cell;
use super::table::Inner;
use crate::failure::IsolatedFailure;

/// After a call through `cell` that its isolated worker did not answer:
/// rolls the library back to its previous build when the worker's failures
/// reached the binding's limit, and tells the observers (a refusal, when
/// there is no previous build, too). The run goes on with the snapshot it
/// holds; its next call moves to the rolled-back build.
#[cold]
#[inline(never)]
pub(super) fn roll_back_if_due(inner: &Inner, cell: &Cell) {
    #[cfg(target_os = "linux")]
    if let Some(b) = &cell.binding
        && let Some(remote) = b.library.worker()
        && let Some(limit) = remote.take_rollback()
    {
        let kind = super::ReloadKind::CrashRollback {
            failures: limit.failures,
            within: limit.within,
        };
        let _ = inner.roll_back(b.library.source(), kind);
    }
    let _ = (inner, cell);
}

/// What a call through `cell` that returned `status` (not OK) really
/// returns: the function of an isolated build answers [`ROUTE`]
/// (`crate::isolate::remote::ROUTE`), and is called now, through its worker
/// (`Err` when the worker gave no answer); any other status stands.
///
/// # Safety
///
/// As for the call of `cell`'s entry that returned `status`: the same
/// arguments, context and result, under the same guard.
#[cold]
#[inline(never)]
pub(super) unsafe fn routed(
    cell: &Cell,
    status: HsStatus,
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    ret: *mut HsValue,
) -> Result<HsStatus, IsolatedFailure> {
    #[cfg(target_os = "linux")]
    if status == crate::isolate::remote::ROUTE
        && let Some(b) = &cell.binding
        && let Some(remote) = b.library.worker()
    {
        let f = b.function();
        // SAFETY: forwarded to the caller: the arguments are of `f`'s
        // signature, which the slot was checked against.
        return unsafe {
            remote.call(
                b.index,
                &f.signature.params,
                f.signature.ret,
                ctx,
                args,
                ret,
            )
        };
    }
    let _ = (cell, ctx, args, ret);
    Ok(status)
}
