//! The synchronization the slot table's release protocol is built on:
//! `std`'s, or loom's when the model checker runs it (`--cfg loom`), so that
//! the model checks the very code the table runs.

mod barrier;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Mutex, MutexGuard};

#[cfg(all(test, target_os = "linux", not(miri)))]
pub(crate) use barrier::Mode;
pub(crate) use barrier::{BarrierCell, BarrierFailed, heavy_barrier, light_barrier, mode};

/// Locks `m`, ignoring poisoning: every structure behind these locks is
/// left consistent at each step, so a panic elsewhere does not corrupt it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
