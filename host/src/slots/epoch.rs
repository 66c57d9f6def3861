//! Quiescent-state reclamation: knowing when no call can still be running
//! the code of a replaced binding.
//!
//! Each VM (a *reader*) owns a cache line with the epoch it last saw, and
//! keeps the snapshot it loaded then. Before each native call it loads the
//! global epoch; only when that changed (a writer published) does it
//! publish the new epoch, between two calls, and load the new snapshot. It
//! marks itself offline between runs. A writer that replaces the table's
//! snapshot bumps the global epoch to `E` and retires the old snapshot at
//! `E`; the snapshot may be freed once every online reader has published an
//! epoch `>= E`, that is, has moved past every call that could have started
//! on it.
//!
//! The reader's side is one plain load and a compare per call, with no
//! store, no read-modify-write and no fence; the writer's side does the
//! waiting.

use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex};

use crossbeam_utils::CachePadded;

/// A reader's published epoch while it is between runs.
const OFFLINE: u64 = u64::MAX;

/// The global epoch and the registry of readers.
#[derive(Debug, Default)]
pub(crate) struct Epochs {
    global: CachePadded<AtomicU64>,
    readers: Mutex<Vec<Arc<ReaderEpoch>>>,
}

/// One reader's published epoch, on its own cache line.
#[derive(Debug)]
pub(crate) struct ReaderEpoch {
    seen: CachePadded<AtomicU64>,
}

impl Epochs {
    /// Registers a new reader, offline.
    pub(crate) fn register(&self) -> Arc<ReaderEpoch> {
        let r = Arc::new(ReaderEpoch {
            seen: CachePadded::new(AtomicU64::new(OFFLINE)),
        });
        self.lock().push(Arc::clone(&r));
        r
    }

    /// Removes a reader; it must be offline.
    pub(crate) fn unregister(&self, r: &Arc<ReaderEpoch>) {
        self.lock().retain(|x| !Arc::ptr_eq(x, r));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<ReaderEpoch>>> {
        self.readers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called by a writer after publishing a new snapshot: the epoch at
    /// which the replaced one is retired.
    pub(crate) fn advance(&self) -> u64 {
        self.global.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// The oldest epoch an online reader may still be running in: anything
    /// retired at an epoch `<=` the result can be freed.
    pub(crate) fn safe_epoch(&self) -> u64 {
        // Pairs with the fence in `ReaderEpoch::enter`: either this scan sees
        // a reader's fresh epoch, or that reader sees the new snapshot.
        fence(Ordering::SeqCst);
        self.lock()
            .iter()
            .map(|r| r.seen.load(Ordering::Acquire))
            .min()
            .unwrap_or(OFFLINE)
    }

    /// Enters a run: from now on this reader may hold a snapshot, which it
    /// must load after this returns. Returns the epoch published.
    #[inline]
    pub(crate) fn enter(&self, r: &ReaderEpoch) -> u64 {
        let epoch = self.global.load(Ordering::Acquire);
        r.seen.store(epoch, Ordering::Relaxed);
        // Orders the store before every later load of the snapshot, against
        // the writer's fence in `safe_epoch` (a store-load pair).
        fence(Ordering::SeqCst);
        epoch
    }

    /// The global epoch; a reader that finds it changed calls `quiescent`.
    #[inline]
    pub(crate) fn current(&self) -> u64 {
        self.global.load(Ordering::Acquire)
    }

    /// A quiescent point: the reader holds no snapshot it loaded before
    /// `epoch` (a value `current` returned), and loads the new one after
    /// this.
    #[inline]
    pub(crate) fn quiescent(&self, r: &ReaderEpoch, epoch: u64) {
        r.seen.store(epoch, Ordering::Release);
    }

    /// Leaves a run: the reader holds no snapshot until it enters again.
    #[inline]
    pub(crate) fn leave(&self, r: &ReaderEpoch) {
        r.seen.store(OFFLINE, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_online_reader_holds_back_reclamation_until_quiescent() {
        let e = Epochs::default();
        let r = e.register();
        assert_eq!(
            e.safe_epoch(),
            OFFLINE,
            "an offline reader holds nothing back"
        );
        e.enter(&r);
        let retired_at = e.advance();
        assert!(
            e.safe_epoch() < retired_at,
            "the reader may still run the old code"
        );
        assert_eq!(e.current(), retired_at);
        e.quiescent(&r, e.current());
        assert!(e.safe_epoch() >= retired_at);
        let later = e.advance();
        assert!(e.safe_epoch() < later);
        e.leave(&r);
        assert!(e.safe_epoch() >= later);
        e.unregister(&r);
        assert_eq!(e.safe_epoch(), OFFLINE);
    }
}
