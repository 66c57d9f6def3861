//! The call path: what a snapshot of the slots holds, and how a VM calls
//! through it.

use std::sync::Arc;

use hotslot_plugin_api::{HsCallCtx, HsEntry, HsStatus, HsValue};

use super::build::Build;
use super::publish::{Guard, Reader};
use super::table::{Inner, SlotTable};
use crate::failure::IsolatedFailure;
use crate::plugin::FunctionInfo;
use crate::vm::LinkError;
use crate::vm::{NativeCalls, Natives, Program};

/// An immutable view of every slot, indexed by slot number, and of every
/// typed handle, by handle number; VMs and handles read it, writers
/// replace it as a whole.
pub(super) struct Snapshot {
    pub(super) cells: Box<[Cell]>,
    pub(super) handles: Box<[Cell]>,
}

/// One slot of a snapshot: the entry point to call, and the binding it
/// comes from (`None` while unbound), which keeps its build loaded.
pub(super) struct Cell {
    pub(super) entry: HsEntry,
    pub(super) binding: Option<Binding>,
}

/// A slot's binding: which function of which build serves it. Cloned for
/// each slot and snapshot that holds it: the clones share the build.
#[derive(Clone)]
pub(super) struct Binding {
    /// The build it comes from.
    pub(super) library: Arc<Build>,
    /// Where the function is in the build's descriptor.
    pub(super) index: usize,
}

impl Binding {
    /// The function, as its descriptor describes it.
    pub(super) fn function(&self) -> &FunctionInfo {
        &self.library.info().functions[self.index]
    }
}

/// The entry point of a slot that is declared but not bound.
pub(super) unsafe extern "C" fn unbound(
    _: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    HsStatus(-1)
}

/// One VM's handle on a [`SlotTable`]: its native calls go through the
/// table's current snapshot.
///
/// While a run is in progress the reader holds one snapshot, and with it
/// the builds it binds; between two calls it moves to the newest one. A
/// build replaced meanwhile is released once no reader holds it.
pub struct SlotReader {
    inner: Arc<Inner>,
    reader: Reader<Snapshot>,
    /// The function of the last call that failed, named before its binding
    /// could be released, and why its worker gave no answer when that is
    /// why.
    failed: std::cell::Cell<Option<(String, Option<IsolatedFailure>)>>,
}

impl SlotReader {
    pub(super) fn new(inner: Arc<Inner>) -> SlotReader {
        SlotReader {
            reader: inner.published.reader(),
            inner,
            failed: std::cell::Cell::new(None),
        }
    }

    /// The table.
    pub fn table(&self) -> SlotTable {
        SlotTable::from_inner(Arc::clone(&self.inner))
    }
}

impl Drop for SlotReader {
    fn drop(&mut self) {
        self.inner.published.remove(&self.reader);
    }
}

// SAFETY: `link` declares every import on the table, and the table binds a
// slot only to a function whose signature equals the slot's declaration
// (`check_slot`); an unbound slot's entry fails every call.
unsafe impl Natives for SlotReader {
    type Calls<'a> = SlotCalls<'a>;

    fn link(&self, program: &Program) -> Result<(), LinkError> {
        self.table().declare_program(program)
    }

    fn enter(&self) -> SlotCalls<'_> {
        SlotCalls {
            guard: self.reader.enter(&self.inner.published),
            failed: &self.failed,
            inner: &self.inner,
        }
    }
}

/// A run's calls through a [`SlotReader`]: it holds one snapshot of the
/// slots, moving to the newest between two calls, until it drops.
pub struct SlotCalls<'a> {
    guard: Guard<'a, Snapshot>,
    failed: &'a std::cell::Cell<Option<(String, Option<IsolatedFailure>)>>,
    inner: &'a Inner,
}

// SAFETY: as for `Natives for SlotReader`: every cell's entry has its
// slot's declared signature.
unsafe impl NativeCalls for SlotCalls<'_> {
    #[inline]
    unsafe fn call(
        &mut self,
        slot: u32,
        ctx: *mut HsCallCtx,
        args: *const HsValue,
        nargs: usize,
        ret: *mut HsValue,
    ) -> HsStatus {
        // Between two calls: if a writer published, move to its snapshot.
        let snapshot = self.guard.get();
        // Checked: a session nested in another shares the outer one's
        // snapshot, which may predate the slot's declaration (a program
        // linked between the two). A slot the snapshot has no cell for is
        // unbound in it.
        let Some(cell) = snapshot.cells.get(slot as usize) else {
            self.failed.set(None);
            // SAFETY: `unbound` reads and writes nothing.
            return unsafe { unbound(ctx, args, nargs, ret) };
        };
        // SAFETY: the cell's entry has the slot's declared signature (see
        // the `Natives` impl), the caller passes matching arguments, and the
        // guard keeps the build loaded until the call returns.
        let mut status = unsafe { (cell.entry)(ctx, args, nargs, ret) };
        if status != HsStatus::OK {
            // SAFETY: as for the call above, which returned.
            let (routed, isolated) = match unsafe { routed(cell, status, ctx, args, ret) } {
                Ok(status) => (status, None),
                Err(failure) => {
                    roll_back_if_due(self.inner, cell);
                    (HsStatus::ERROR, Some(failure))
                }
            };
            status = routed;
            if status != HsStatus::OK {
                // Named now: after the next move, the binding may be released.
                self.failed.set(
                    cell.binding
                        .as_ref()
                        .map(|b| (b.function().name.clone(), isolated)),
                );
            }
        }
        status
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
