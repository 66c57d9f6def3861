//! The call path of builds whose functions are not called through their
//! entry points (they answer [`ROUTE`](crate::routed::ROUTE)): a build in
//! a worker process, called through the worker's channel (and rolled back
//! when its worker fails too often), and a script module, run on one of its
//! machines with its imports called through the table's slots.

use std::cell::Cell as StdCell;

use hotslot_plugin_api::{HsCallCtx, HsStatus, HsValue};

use super::snapshot::{Cell, Snapshot, unbound};
use super::table::{HANDLE_BASE, Inner};
use crate::failure::IsolatedFailure;
use crate::script::ScriptModule;
use crate::vm::NativeCalls;

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

/// What a call through `cell` (of `snapshot`) that returned `status` (not
/// OK) really returns: the function of an isolated build or a script module
/// answers [`ROUTE`](crate::routed::ROUTE), and is called now, its build's
/// way (`Err` when an isolated worker gave no answer); any other status
/// stands.
///
/// # Safety
///
/// As for the call of `cell`'s entry that returned `status`: the same
/// arguments, context and result, under the guard that holds `snapshot`.
#[cold]
#[inline(never)]
pub(super) unsafe fn routed(
    cell: &Cell,
    snapshot: &Snapshot,
    inner: &Inner,
    status: HsStatus,
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    ret: *mut HsValue,
) -> Result<HsStatus, IsolatedFailure> {
    if status != crate::routed::ROUTE {
        return Ok(status);
    }
    let Some(b) = &cell.binding else {
        return Ok(status);
    };
    if let Some(script) = b.library.script() {
        let mut imports = ScriptImports::new(script, snapshot, inner);
        // SAFETY: forwarded to the caller: the arguments are of the
        // function's signature, which the slot was checked against.
        return Ok(unsafe { script.call(b.index, &mut imports, ctx, args, ret) });
    }
    #[cfg(target_os = "linux")]
    if let Some(remote) = b.library.worker() {
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
    let _ = (ctx, args, ret);
    Ok(status)
}

/// One call through `cell`, of a snapshot a guard holds: its entry, then
/// its build's way when it is routed. Records the function that failed (and
/// why its worker gave no answer) in `failed`, before the binding can be
/// released.
///
/// # Safety
///
/// `cell` belongs to `snapshot`, which a guard holds for the call; `ctx`,
/// `args` (`nargs` values of the cell's parameter types) and `ret` are as
/// its entry needs.
#[inline]
#[expect(
    clippy::too_many_arguments,
    reason = "an entry's four arguments and where its call runs"
)]
pub(super) unsafe fn call_cell(
    cell: &Cell,
    snapshot: &Snapshot,
    inner: &Inner,
    failed: &StdCell<Option<(String, Option<IsolatedFailure>)>>,
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    nargs: usize,
    ret: *mut HsValue,
) -> HsStatus {
    // SAFETY: the cell's entry has the slot's declared signature, the
    // caller passes matching arguments, and the guard keeps the build
    // loaded until the call returns.
    let status = unsafe { (cell.entry)(ctx, args, nargs, ret) };
    if status == HsStatus::OK {
        return status;
    }
    // SAFETY: as for the call above, which returned.
    unsafe { not_ok(cell, snapshot, inner, failed, status, ctx, args, ret) }
}

/// The rest of [`call_cell`] when the entry did not return OK: the call
/// routed (a worker's, a script module's), a failure named. Out of line, so
/// that the common case (and compiled code's native-call helper, which
/// inlines it) keeps few registers.
///
/// # Safety
///
/// As for [`call_cell`], whose call of `cell`'s entry returned `status`.
#[cold]
#[inline(never)]
#[expect(
    clippy::too_many_arguments,
    reason = "call_cell's arguments and the status"
)]
unsafe fn not_ok(
    cell: &Cell,
    snapshot: &Snapshot,
    inner: &Inner,
    failed: &StdCell<Option<(String, Option<IsolatedFailure>)>>,
    status: HsStatus,
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    ret: *mut HsValue,
) -> HsStatus {
    // SAFETY: forwarded to the caller.
    let (status, isolated) = match unsafe { routed(cell, snapshot, inner, status, ctx, args, ret) }
    {
        Ok(status) => (status, None),
        Err(failure) => {
            roll_back_if_due(inner, cell);
            (HsStatus::ERROR, Some(failure))
        }
    };
    if status != HsStatus::OK {
        // Named now: after the next move, the binding may be released.
        failed.set(
            cell.binding
                .as_ref()
                .map(|b| (b.function().name.clone(), isolated)),
        );
    }
    status
}

/// A script module's native calls: each of its imports through the typed
/// handle its binding declared in the table, in the snapshot its caller
/// holds (so a module runs against the one state of the table its caller
/// sees, and its imports follow their libraries' reloads).
struct ScriptImports<'a> {
    script: &'a ScriptModule,
    snapshot: &'a Snapshot,
    inner: &'a Inner,
    failed: StdCell<Option<(String, Option<IsolatedFailure>)>>,
}

impl<'a> ScriptImports<'a> {
    fn new(script: &'a ScriptModule, snapshot: &'a Snapshot, inner: &'a Inner) -> Self {
        ScriptImports {
            script,
            snapshot,
            inner,
            failed: StdCell::new(None),
        }
    }
}

// SAFETY: the binding declared each import as a handle with the import's
// signature, checked when it was bound and at every reload of the library
// serving it; a handle the snapshot has no cell for is unbound (fails).
unsafe impl NativeCalls for ScriptImports<'_> {
    #[inline]
    unsafe fn call(
        &mut self,
        slot: u32,
        ctx: *mut HsCallCtx,
        args: *const HsValue,
        nargs: usize,
        ret: *mut HsValue,
    ) -> HsStatus {
        let cell = self
            .script
            .import_handle(slot)
            .and_then(|h| self.snapshot.handles.get((h - HANDLE_BASE) as usize));
        let Some(cell) = cell else {
            self.failed.set(None);
            // SAFETY: `unbound` reads and writes nothing.
            return unsafe { unbound(ctx, args, nargs, ret) };
        };
        // SAFETY: the cell is the snapshot's, which the caller's guard
        // holds for this call; the verifier checked the arguments against
        // the import, whose signature the handle's binding has.
        unsafe {
            call_cell(
                cell,
                self.snapshot,
                self.inner,
                &self.failed,
                ctx,
                args,
                nargs,
                ret,
            )
        }
    }

    fn failed_function(&self, _slot: u32) -> Option<String> {
        let failed = self.failed.take();
        let name = failed.as_ref().map(|(name, _)| name.clone());
        self.failed.set(failed);
        name
    }

    fn isolated_failure(&self, _slot: u32) -> Option<IsolatedFailure> {
        self.failed.take().and_then(|(_, isolated)| isolated)
    }
}
