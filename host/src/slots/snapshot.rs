//! What readers see: an immutable snapshot of every slot and typed handle,
//! each cell the entry point to call and the binding it comes from.

use std::sync::Arc;

use hotslot_plugin_api::{HsCallCtx, HsEntry, HsStatus, HsValue};

use super::build::Build;
use crate::plugin::FunctionInfo;

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
