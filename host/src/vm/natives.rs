//! Where a VM's native calls go: the [`Natives`] a VM is linked with, the
//! [`NativeCalls`] session a run makes its calls through, and
//! [`StaticNatives`], a fixed set of functions.

use hotslot_plugin_api::{HsCallCtx, HsEntry, HsStatus, HsValue};

use super::error::LinkError;
use super::program::Program;
use crate::types::Signature;

/// Where a VM's `CALL_NATIVE`s go: a [`SlotTable`](crate::SlotTable)'s
/// hot-swappable slots, or a fixed set of functions ([`StaticNatives`]).
///
/// Calls are made through a [`NativeCalls`] session that [`Natives::enter`]
/// opens for the length of a run: whatever a session holds (the slot
/// table's current build) stays valid until it is dropped, and dropping it
/// (also when a run unwinds) releases it.
///
/// # Safety
///
/// After [`Natives::link`] accepted a program, a session's
/// [`NativeCalls::call`] for each of its slots must either fail or call a
/// function whose parameters and result are exactly those of the slot's
/// import: the VM reads the result as that type without checking.
pub unsafe trait Natives {
    /// The session a run makes its calls through.
    type Calls<'a>: NativeCalls
    where
        Self: 'a;

    /// Checks that every import of `program` can be served, and prepares to.
    fn link(&self, program: &Program) -> Result<(), LinkError>;

    /// Opens a session: a run is starting on this thread. It ends when the
    /// session drops.
    fn enter(&self) -> Self::Calls<'_>;
}

/// The calls of one run: see [`Natives`].
///
/// # Safety
///
/// As for [`Natives`]: `call` keeps the signature promise `link` made.
pub unsafe trait NativeCalls {
    /// Calls the function serving `slot` and returns its status.
    ///
    /// # Safety
    ///
    /// `slot` is an import of the linked program; `args` points to `nargs`
    /// values of its parameter types; `ret` is writable; `ctx` is the VM's
    /// call context.
    unsafe fn call(
        &mut self,
        slot: u32,
        ctx: *mut HsCallCtx,
        args: *const HsValue,
        nargs: usize,
        ret: *mut HsValue,
    ) -> HsStatus;

    /// After a `call` of `slot` that did not return OK: the function that
    /// was called, or `None` when nothing was bound to the slot.
    fn failed_function(&self, slot: u32) -> Option<String>;

    /// After `failed_function`: why the function's isolated worker gave no
    /// answer (it crashed, it missed its deadline...), when that is why the
    /// call failed. `None` by default, for natives that run in process.
    fn isolated_failure(&self, _slot: u32) -> Option<crate::failure::IsolatedFailure> {
        None
    }
}

/// A fixed set of native functions, linked into the VM for good: no slot,
/// no swap. For embedding without hot reload, and for measuring what
/// swappability costs.
pub struct StaticNatives {
    /// Per slot: the function's name and signature, for linking and errors.
    declared: Vec<Option<(String, Signature)>>,
    /// Per slot: the entry point, for calls.
    entries: Vec<HsEntry>,
}

/// The entry point of a slot `StaticNatives` does not serve; `link`
/// refuses programs that import one.
unsafe extern "C" fn not_served(
    _: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    HsStatus(-1)
}

impl StaticNatives {
    /// No functions.
    pub fn new() -> StaticNatives {
        StaticNatives {
            declared: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Serves `slot` with `entry`, a function named `name` of signature `signature`.
    ///
    /// # Panics
    ///
    /// When `slot` is larger than [`MAX_SLOT`](super::MAX_SLOT).
    ///
    /// # Safety
    ///
    /// `entry` follows the ABI for `signature`: it reads its arguments and
    /// writes its result as those types.
    pub unsafe fn insert(&mut self, slot: u32, name: &str, signature: Signature, entry: HsEntry) {
        assert!(
            slot <= super::MAX_SLOT,
            "slot {slot} is larger than {}",
            super::MAX_SLOT
        );
        let i = slot as usize;
        if self.entries.len() <= i {
            self.declared.resize_with(i + 1, || None);
            self.entries.resize(i + 1, not_served);
        }
        self.declared[i] = Some((name.to_owned(), signature));
        self.entries[i] = entry;
    }
}

impl Default for StaticNatives {
    fn default() -> StaticNatives {
        StaticNatives::new()
    }
}

// SAFETY: `link` accepts a program only when every import's slot holds an
// entry declared (by `insert`'s contract) with exactly the import's signature.
unsafe impl Natives for StaticNatives {
    type Calls<'a> = &'a StaticNatives;

    fn link(&self, program: &Program) -> Result<(), LinkError> {
        for import in &program.imports {
            match self
                .declared
                .get(import.slot as usize)
                .and_then(Option::as_ref)
            {
                None => return Err(LinkError::Unserved { slot: import.slot }),
                Some((name, sig)) if *sig != import.signature => {
                    return Err(LinkError::Signature {
                        slot: import.slot,
                        expected: import.signature.clone(),
                        found: sig.clone(),
                        function: name.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn enter(&self) -> &StaticNatives {
        self
    }
}

// SAFETY: as for `Natives`: the entries are the ones `link` checked.
unsafe impl NativeCalls for &StaticNatives {
    #[inline]
    unsafe fn call(
        &mut self,
        slot: u32,
        ctx: *mut HsCallCtx,
        args: *const HsValue,
        nargs: usize,
        ret: *mut HsValue,
    ) -> HsStatus {
        // SAFETY: `link` checked that the program's slots are all present.
        let entry = unsafe { self.entries.get_unchecked(slot as usize) };
        // SAFETY: the caller passes arguments of the import's types, which
        // `link` checked are the entry's.
        unsafe { entry(ctx, args, nargs, ret) }
    }

    fn failed_function(&self, slot: u32) -> Option<String> {
        self.declared
            .get(slot as usize)?
            .as_ref()
            .map(|(name, _)| name.clone())
    }
}
