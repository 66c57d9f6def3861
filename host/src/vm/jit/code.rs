//! A compiled program's code: its memory and its entries from the host.
//! It knows nothing of the machine that runs it (`mod.rs` does), so the
//! verified program can own it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use cranelift_jit::JITModule;
use hotslot_plugin_api::HsValue;

/// Compiled programs alive in this process (tests count them to check that
/// released builds free their code).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many compiled programs are alive.
pub(crate) fn live() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// A function's entry from the host: the run's environment (`runtime::Env`,
/// passed as an untyped pointer so this file need not know it) and its
/// frame's base (its parameters in their slots); the run's status.
pub(super) type Entry = unsafe extern "C" fn(*mut std::ffi::c_void, *mut HsValue) -> i32;

/// A program compiled to native code.
pub(crate) struct Compiled {
    /// Owns the code's memory, freed on drop.
    module: Mutex<Option<JITModule>>,
    /// The entry from the host of each function it calls.
    pub(super) entries: Box<[Option<Entry>]>,
    /// The most native stack one of its frames may take, an estimate with
    /// room to spare.
    pub(super) frame_bytes: usize,
}

impl Compiled {
    /// Whether the host can enter function `f` (`main`, unless a script
    /// module's, and a module's exports).
    pub(crate) fn enters(&self, f: u32) -> bool {
        self.entries.get(f as usize).is_some_and(Option::is_some)
    }

    /// Takes ownership of `module`'s finalized code, counted as alive.
    pub(super) fn new(
        module: JITModule,
        entries: Box<[Option<Entry>]>,
        frame_bytes: usize,
    ) -> Compiled {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Compiled {
            module: Mutex::new(Some(module)),
            entries,
            frame_bytes,
        }
    }
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("functions", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Compiled {
    fn drop(&mut self) {
        let module = self.module.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(module) = module.take() {
            // SAFETY: the compiled program is being dropped: its owner (a
            // verified program, kept alive by every VM and machine that
            // runs it, and for a script module by the table's release
            // protocol) runs none of its code any more, and no pointer into
            // it survives it.
            unsafe { module.free_memory() };
        }
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}
