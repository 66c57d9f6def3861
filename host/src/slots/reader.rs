//! The call path: what a snapshot of the slots holds, and how a VM calls
//! through it.

use std::sync::Arc;

use hotslot_plugin_api::{HsCallCtx, HsStatus, HsValue};

use super::publish::{Guard, Reader};
use super::route;
use super::snapshot::{Snapshot, unbound};
use super::table::{Inner, SlotTable};
use crate::failure::IsolatedFailure;
use crate::vm::LinkError;
use crate::vm::{NativeCalls, Natives, Program};
use crate::vm::{VerifiedProgram, Vm, VmOptions};

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

impl SlotTable {
    /// A handle for one VM to call through the slots.
    pub fn reader(&self) -> SlotReader {
        SlotReader::new(Arc::clone(self.inner()))
    }

    /// A VM for `program` whose native calls go through this table,
    /// compiled or not as the table's options say.
    pub fn vm(&self, program: Arc<VerifiedProgram>) -> Result<Vm<SlotReader>, LinkError> {
        let options = VmOptions {
            jit: self.inner().jit(),
            ..VmOptions::default()
        };
        Vm::with_options(program, self.reader(), options)
    }

    /// As [`SlotTable::vm`], with limits.
    pub fn vm_with(
        &self,
        program: Arc<VerifiedProgram>,
        options: VmOptions,
    ) -> Result<Vm<SlotReader>, LinkError> {
        Vm::with_options(program, self.reader(), options)
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
        // SAFETY: the cell is the snapshot's, which the guard holds for the
        // call; its entry has the slot's declared signature (see the
        // `Natives` impl), and the caller passes matching arguments.
        unsafe {
            route::call_cell(
                cell,
                snapshot,
                self.inner,
                self.failed,
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
