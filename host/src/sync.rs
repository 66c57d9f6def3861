//! The synchronization the slot table's release protocol is built on:
//! `std`'s, or loom's when the model checker runs it (`--cfg loom`), so that
//! the model checks the very code the table runs.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, Ordering, fence};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
#[cfg(all(not(loom), miri))]
pub(crate) use std::sync::atomic::fence;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Mutex, MutexGuard};

/// Locks `m`, ignoring poisoning: every structure behind these locks is
/// left consistent at each step, so a panic elsewhere does not corrupt it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The reader's half of an asymmetric barrier: with
/// [`heavy_barrier`], as strong as a `SeqCst` fence on both sides.
///
/// Where the system can make a writer's barrier reach every running thread
/// (Linux `membarrier`, Windows `FlushProcessWriteBuffers`), this is only a
/// compiler fence, so a reader pays nothing; elsewhere, and under loom and
/// Miri, which model fences and not the system call, it is a `SeqCst`
/// fence.
#[inline]
pub(crate) fn light_barrier() {
    #[cfg(any(loom, miri))]
    fence(Ordering::SeqCst);
    #[cfg(not(any(loom, miri)))]
    swmr_barrier::light_barrier();
}

/// The writer's half of an asymmetric barrier: see [`light_barrier`]. It
/// costs a system call where it is asymmetric.
pub(crate) fn heavy_barrier() {
    #[cfg(any(loom, miri))]
    fence(Ordering::SeqCst);
    #[cfg(not(any(loom, miri)))]
    swmr_barrier::heavy_barrier();
}
