//! Publishing immutable snapshots to concurrent readers, and freeing each
//! replaced snapshot as soon as no reader holds it.
//!
//! The slot table publishes its slots as a snapshot; replacing a snapshot
//! may release the last reference to a library build, which closes it.
//! This module is what makes that safe: a snapshot, and everything it
//! keeps alive, is freed only once no call can be running on it.
//!
//! # The protocol (hazard pointers, one per reader)
//!
//! - A **writer** replaces the current snapshot with one atomic swap, then
//!   *retires* the old one (pushes it on the retired list).
//! - A **reader** holds at most one snapshot at a time. To take one it
//!   announces it in its hazard slot, then (after a light barrier) checks
//!   that it is still the current one, and retries if not. It changes the
//!   snapshot it holds only between two uses (a quiescent point: a VM
//!   between two native calls), and announces null when it goes offline.
//! - A **reclaimer** takes the retired list, issues a heavy barrier, reads
//!   every reader's hazard and frees each retired snapshot that no hazard
//!   names.
//!
//! # Why nothing a reader can reach is freed
//!
//! Let a reader use snapshot `P`, which a writer swapped out before a
//! reclaimer's barrier `H` (the reclaimer found `P` on the retired list,
//! under the lock the writer pushed it with, so the swap happens before
//! `H`). The reader announced `P`, passed its barrier `L`, then loaded the
//! current snapshot and found `P`. That load came before the swap in the
//! pointer's modification order, so `L` precedes `H` in the total order of
//! `SeqCst` fences; hence the reclaimer's read of the hazard, after `H`,
//! sees `P`, or a value the reader stored (with `Release`) only after it had
//! stopped using `P`. Either `P` is kept, or every use of it happens before
//! it is freed.
//!
//! A reader therefore keeps alive exactly the one snapshot it holds: a call
//! that runs for seconds while a thousand builds are published pins its own
//! build and no other. (An epoch scheme, as used before, pins every build
//! retired after the reader's epoch.)
//!
//! The barriers are asymmetric where the system allows (see
//! [`crate::sync::light_barrier`]): the reader's costs nothing, the
//! reclaimer's is a system call, off the call path. When that system call
//! fails, the reclaimer cannot know what a reader announced, and frees
//! nothing that round: the snapshots wait, and the next round tries again.
//!
//! # Why a reader uses the pointer of its validating load
//!
//! A reader announces a snapshot it loaded, then loads the current one
//! again and compares. Equal addresses do not make equal snapshots: the one
//! first loaded may have been retired, freed and a new one allocated at the
//! same address before the announcement. The new one is current, announced
//! (its address is), and safe to read; the first pointer is not, since it
//! belongs to the freed allocation. So `protect` returns the pointer of the
//! validating load, never the first.
//!
//! The same code runs under loom (`--cfg loom`, see the `model` tests
//! below), which explores the interleavings of readers, writers and
//! reclaimers, with the barriers as weak as the real ones (see
//! `crate::sync`), and checks that no snapshot is freed while a reader can
//! still read it. `scripts/mutants` removes or weakens each step in turn and
//! checks that a model (or the address-reuse test under Miri) fails.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use crossbeam_utils::CachePadded;

use crate::sync::{
    Arc, AtomicPtr, BarrierCell, BarrierFailed, Mutex, Ordering, heavy_barrier, light_barrier, lock,
};

/// The current snapshot of a `T`, its retired predecessors, and the hazards
/// of its readers.
pub(crate) struct Published<T> {
    current: AtomicPtr<T>,
    hazards: Mutex<Vec<Arc<CachePadded<Hazard>>>>,
    /// Swapped-out snapshots, as they came from `Box::into_raw`: they
    /// become boxes again only when freed, since a `Box` asserts unique
    /// access, which readers may still share.
    retired: Mutex<Vec<NonNull<T>>>,
}

/// A reader's announcement of the snapshot it holds (null: none), on its
/// own cache line, and where its light barrier meets the heavy one.
struct Hazard {
    announced: AtomicPtr<()>,
    barrier: BarrierCell,
}

/// What a [`Published::reclaim`] did.
pub(crate) struct Reclaimed<T> {
    /// The retired snapshots no reader holds, for the caller to drop.
    pub(crate) free: Vec<Box<T>>,
    /// How many retired snapshots remain.
    pub(crate) remaining: usize,
    /// Why nothing was freed, when the heavy barrier failed.
    pub(crate) failed: Option<BarrierFailed>,
}

impl<T> Published<T> {
    /// Publishes `initial`.
    pub(crate) fn new(initial: Box<T>) -> Published<T> {
        // The barriers' mode is fixed before any reader of this can exist.
        let _ = crate::sync::mode();
        Published {
            current: AtomicPtr::new(Box::into_raw(initial)),
            hazards: Mutex::new(Vec::new()),
            retired: Mutex::new(Vec::new()),
        }
    }

    /// A new reader, offline.
    pub(crate) fn reader(&self) -> Reader<T> {
        let hazard = Arc::new(CachePadded::new(Hazard {
            announced: AtomicPtr::new(ptr::null_mut()),
            barrier: BarrierCell::new(),
        }));
        lock(&self.hazards).push(Arc::clone(&hazard));
        Reader {
            hazard,
            nested: Cell::new(0),
            _snapshots: PhantomData,
        }
    }

    /// Forgets a reader; it holds nothing (no guard of it is alive).
    pub(crate) fn remove(&self, reader: &Reader<T>) {
        debug_assert!(reader.held().is_null());
        lock(&self.hazards).retain(|h| !Arc::ptr_eq(h, &reader.hazard));
    }

    /// Replaces the current snapshot with `new` and retires the old one; it
    /// is freed by a later [`Published::reclaim`].
    pub(crate) fn publish(&self, new: Box<T>) {
        let old = self.current.swap(Box::into_raw(new), Ordering::AcqRel);
        let old = NonNull::new(old).expect("the current snapshot is never null");
        lock(&self.retired).push(old);
    }

    /// Takes every retired snapshot that no reader holds, for the caller to
    /// drop (outside any lock: dropping may close libraries).
    pub(crate) fn reclaim(&self) -> Reclaimed<T> {
        let mut retired = lock(&self.retired);
        if retired.is_empty() {
            return Reclaimed {
                free: Vec::new(),
                remaining: 0,
                failed: None,
            };
        }
        // Everything on the list was swapped out before this barrier; a
        // reader that still uses one of them announced it before its own
        // barrier, which this one follows (see the module docs). A reader
        // registered after the list below is read loads the current
        // snapshot after this lock is released, so it holds none of them.
        let held: Vec<*mut ()> = {
            let hazards = lock(&self.hazards);
            if let Err(failed) = heavy_barrier(hazards.iter().map(|h| &h.barrier)) {
                // Without the barrier, an announcement may not be visible
                // yet: nothing can be shown unheld, so nothing is freed.
                return Reclaimed {
                    free: Vec::new(),
                    remaining: retired.len(),
                    failed: Some(failed),
                };
            }
            hazards
                .iter()
                .map(|h| h.announced.load(Ordering::Acquire))
                .collect()
        };
        let (keep, free): (Vec<NonNull<T>>, Vec<NonNull<T>>) = std::mem::take(&mut *retired)
            .into_iter()
            .partition(|s| held.contains(&s.as_ptr().cast()));
        *retired = keep;
        let free = free
            .into_iter()
            // SAFETY: each came from `Box::into_raw` and was swapped out
            // before the barrier above, and no reader announces it, so no
            // reader holds it or can take it again (module docs): this is
            // the only pointer to it in use.
            .map(|s| unsafe { Box::from_raw(s.as_ptr()) })
            .collect();
        Reclaimed {
            free,
            remaining: retired.len(),
            failed: None,
        }
    }

    /// Calls `f` with each retired snapshot not freed yet.
    pub(crate) fn for_each_retired(&self, mut f: impl FnMut(&T)) {
        for s in lock(&self.retired).iter() {
            // SAFETY: a retired snapshot is freed only by `reclaim`, which
            // takes it off this list under the lock held here; until then it
            // is only ever read.
            f(unsafe { s.as_ref() });
        }
    }
}

impl<T> Drop for Published<T> {
    fn drop(&mut self) {
        let current = self.current.swap(ptr::null_mut(), Ordering::Acquire);
        let retired = std::mem::take(&mut *lock(&self.retired));
        for s in retired.into_iter().map(NonNull::as_ptr).chain([current]) {
            // SAFETY: each came from `Box::into_raw`; dropping `Published`
            // means no reader can use them any more (a reader's guard
            // borrows it).
            drop(unsafe { Box::from_raw(s) });
        }
    }
}

// SAFETY: the raw pointers inside are to boxed `T`s owned by this value and
// shared with readers only as `&T`; sending or sharing `Published` is
// sending or sharing those `T`s.
unsafe impl<T: Send + Sync> Send for Published<T> {}
// SAFETY: as above; every mutation goes through atomics or locks.
unsafe impl<T: Send + Sync> Sync for Published<T> {}

/// One reader of a [`Published`]: it holds at most one snapshot at a time,
/// only while a [`Guard`] of it is alive. Used by one thread at a time.
///
/// The snapshot held is the one its hazard announces (the reader is the
/// only writer of its hazard, so its own relaxed load sees its last
/// store): a reader carries no other copy of it, and coming online and
/// going offline are one store each.
pub(crate) struct Reader<T> {
    hazard: Arc<CachePadded<Hazard>>,
    /// Guards alive besides the first one.
    nested: Cell<usize>,
    _snapshots: PhantomData<*const T>,
}

// SAFETY: the reader's state is its own (a `Cell`) and a hazard meant to be
// read by other threads; moving it to another thread between uses is fine
// (it is not `Sync`, so one thread uses it at a time).
unsafe impl<T: Send + Sync> Send for Reader<T> {}

#[cfg(test)]
std::thread_local! {
    /// A test's preemption point in `protect`: run after the reader loaded
    /// the current snapshot and before it announces it.
    pub(super) static BEFORE_ANNOUNCE: std::cell::RefCell<Option<Box<dyn FnMut()>>> =
        const { std::cell::RefCell::new(None) };
}

impl<T> Reader<T> {
    /// Comes online, holding the current snapshot of `published` (the
    /// reader must have come from it), until the guard drops. Guards nest:
    /// an inner one shares the outer one's snapshot.
    #[inline]
    pub(crate) fn enter<'a>(&'a self, published: &'a Published<T>) -> Guard<'a, T> {
        let held = self.held();
        let first = held.is_null();
        let held = if first {
            self.protect(published)
        } else {
            self.nest(held)
        };
        Guard {
            reader: self,
            published,
            held,
            first,
        }
    }

    /// A guard inside another: it shares the snapshot held.
    #[cold]
    #[inline(never)]
    fn nest(&self, held: *const T) -> *const T {
        self.nested.set(self.nested.get() + 1);
        held
    }

    /// The snapshot held: the one the hazard announces (null: offline).
    #[inline]
    fn held(&self) -> *const T {
        self.hazard
            .announced
            .load(Ordering::Relaxed)
            .cast_const()
            .cast()
    }

    /// Announces the current snapshot, checks it is still current
    /// (retrying if not), and returns it, as the validating load gave it.
    #[inline]
    fn protect(&self, published: &Published<T>) -> *const T {
        // Only a guess to announce: the validating load decides, and its
        // pointer is the one returned (see the module docs), so this load
        // needs no ordering.
        let seen = published.current.load(Ordering::Relaxed);
        #[cfg(test)]
        BEFORE_ANNOUNCE.with(|hook| {
            if let Some(mut f) = hook.borrow_mut().take() {
                f();
            }
        });
        match self.announce(published, seen) {
            Ok(current) => current,
            Err(newer) => self.protect_again(published, newer),
        }
    }

    /// `protect` after a writer published between the load and the check.
    #[cold]
    #[inline(never)]
    fn protect_again(&self, published: &Published<T>, mut seen: *mut T) -> *const T {
        loop {
            match self.announce(published, seen) {
                Ok(current) => return current,
                Err(newer) => seen = newer,
            }
        }
    }

    /// Announces `seen`, then loads the current snapshot: `Ok` with it when
    /// it is at the announced address (so the announcement covers it),
    /// `Err` with it otherwise, to announce next.
    #[inline]
    fn announce(&self, published: &Published<T>, seen: *mut T) -> Result<*const T, *mut T> {
        // Release: whatever this reader did with the snapshot it held
        // before is done before anyone can see that it moved on.
        self.hazard.announced.store(seen.cast(), Ordering::Release);
        light_barrier(&self.hazard.barrier);
        // Acquire: the snapshot's contents, written before it was
        // published, are visible through the pointer returned.
        let current = published.current.load(Ordering::Acquire);
        if ptr::eq(current, seen) {
            // `current`, not `seen`: the same address, but only this
            // pointer is known to be the live snapshot's.
            Ok(current)
        } else {
            Err(current)
        }
    }

    /// Goes offline when the last guard drops (whichever it is).
    #[inline]
    fn leave(&self) {
        if self.nested.get() == 0 {
            self.hazard
                .announced
                .store(ptr::null_mut(), Ordering::Release);
        } else {
            self.unnest();
        }
    }

    #[cold]
    #[inline(never)]
    fn unnest(&self) {
        self.nested.set(self.nested.get() - 1);
    }
}

/// A reader online: it holds a snapshot until dropped.
pub(crate) struct Guard<'a, T> {
    reader: &'a Reader<T>,
    published: &'a Published<T>,
    /// The snapshot the reader's hazard announces (a copy kept at hand).
    held: *const T,
    /// Whether the reader came online with this guard.
    first: bool,
}

impl<T> Guard<'_, T> {
    /// Whether the reader came online with this guard (it is not nested
    /// in another; guards nested in it may come later).
    #[inline]
    pub(crate) fn is_first(&self) -> bool {
        self.first
    }

    /// Whether this is the reader's only guard alive.
    #[inline]
    fn is_alone(&self) -> bool {
        self.reader.nested.get() == 0
    }

    /// The snapshot held since the outermost guard was made, without
    /// looking for a newer one: for a guard that lives for one short
    /// operation (a call), taken once.
    #[inline]
    pub(crate) fn held(&self) -> &T {
        // SAFETY: the held snapshot was announced and still current after
        // the announcement, so no reclaimer frees it while it stays
        // announced: while any guard of the reader, this one included, is
        // alive (see `get` for the only place it changes meanwhile).
        unsafe { &*self.held }
    }

    /// The snapshot to use now: the current one if it changed since the last
    /// call and no other guard of this reader is alive (a quiescent point:
    /// no reference from before is in use, which `&mut` proves), otherwise
    /// the one held.
    #[inline]
    pub(crate) fn get(&mut self) -> &T {
        // Only decides whether to move on: `protect` loads again, with the
        // ordering the snapshot's contents need.
        let current = self.published.current.load(Ordering::Relaxed);
        if !ptr::eq(current, self.held) && self.is_alone() {
            self.held = self.reader.protect(self.published);
        }
        // SAFETY: the held snapshot is announced in this reader's hazard and
        // was still current after the announcement, so no reclaimer frees it
        // until the reader announces another, which happens only in
        // `protect` above (with no reference from an earlier `get` alive,
        // as `&mut self` and no other guard prove) or in `leave`, when the
        // last guard drops.
        unsafe { &*self.held }
    }
}

impl<T> Drop for Guard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.reader.leave();
    }
}

#[cfg(all(test, loom))]
mod model {
    //! The protocol under loom: the interleavings of readers, a writer
    //! and reclaimers (all of them, or up to a preemption bound where a
    //! test says so), with a snapshot that records its own release. A snapshot freed while a reader can
    //! still read it shows up as a read of the freed mark, or as loom's
    //! causality error on the cell (its write on drop not ordered after
    //! the read).

    use loom::cell::UnsafeCell;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    use super::*;

    const FREED: usize = usize::MAX;

    struct Snapshot {
        value: UnsafeCell<usize>,
        freed: Arc<AtomicUsize>,
    }

    impl Snapshot {
        fn new(value: usize, freed: &Arc<AtomicUsize>) -> Box<Snapshot> {
            Box::new(Snapshot {
                value: UnsafeCell::new(value),
                freed: Arc::clone(freed),
            })
        }

        fn read(&self) -> usize {
            // SAFETY: shared read; the only write is in `drop`, which must
            // be ordered after every read (what the model checks).
            let v = self.value.with(|p| unsafe { *p });
            assert_ne!(v, FREED, "a reader read a freed snapshot");
            v
        }
    }

    impl Drop for Snapshot {
        fn drop(&mut self) {
            // SAFETY: `drop` has exclusive access.
            self.value.with_mut(|p| unsafe { *p = FREED });
            self.freed.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn drop_all(reclaimed: Reclaimed<Snapshot>) -> usize {
        assert!(
            reclaimed.failed.is_none(),
            "the model's barrier cannot fail"
        );
        drop(reclaimed.free);
        reclaimed.remaining
    }

    /// The race where a reclaimer's view of the readers was taken before the
    /// retirement it then acted on: a reader enters while a writer
    /// publishes and a reclaimer runs. Every interleaving.
    #[test]
    fn a_reader_entering_during_publish_and_reclaim_never_reads_a_freed_snapshot() {
        loom::model(|| {
            let freed = Arc::new(AtomicUsize::new(0));
            let p = Arc::new(Published::new(Snapshot::new(0, &freed)));
            let reader = p.reader();
            let reclaimer = {
                let p = Arc::clone(&p);
                thread::spawn(move || drop_all(p.reclaim()))
            };
            let writer = {
                let (p, freed) = (Arc::clone(&p), Arc::clone(&freed));
                thread::spawn(move || p.publish(Snapshot::new(1, &freed)))
            };
            {
                let mut guard = reader.enter(&p);
                assert!(guard.get().read() <= 1);
            }
            writer.join().unwrap();
            reclaimer.join().unwrap();
            p.remove(&reader);
            assert_eq!(drop_all(p.reclaim()), 0, "offline readers hold nothing");
            assert_eq!(freed.load(Ordering::Relaxed), 1, "the replaced one freed");
        });
    }

    /// As above with two publishes and a reclaim by the writer, the reader
    /// moving on between two reads (a quiescent point); the interleavings
    /// with up to three preemptions (all of them take hours).
    #[test]
    fn a_reader_moving_on_between_two_publishes_never_reads_a_freed_snapshot() {
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(3);
        model.check(|| {
            let freed = Arc::new(AtomicUsize::new(0));
            let p = Arc::new(Published::new(Snapshot::new(0, &freed)));
            let reader = p.reader();
            let reclaimer = {
                let p = Arc::clone(&p);
                thread::spawn(move || drop_all(p.reclaim()))
            };
            let writer = {
                let (p, freed) = (Arc::clone(&p), Arc::clone(&freed));
                thread::spawn(move || {
                    p.publish(Snapshot::new(1, &freed));
                    p.publish(Snapshot::new(2, &freed));
                    drop_all(p.reclaim());
                })
            };
            {
                let mut guard = reader.enter(&p);
                let seen = guard.get().read();
                assert!(seen <= 2);
                let again = guard.get().read();
                assert!(again >= seen);
            }
            writer.join().unwrap();
            reclaimer.join().unwrap();
            p.remove(&reader);
            assert_eq!(drop_all(p.reclaim()), 0, "offline readers hold nothing");
            assert_eq!(freed.load(Ordering::Relaxed), 2, "both replaced ones freed");
        });
    }

    /// A reader holding an old snapshot through a nested guard while the
    /// outer one asks for the current: the inner use keeps it alive.
    #[test]
    fn a_nested_guard_shares_its_outer_snapshot_and_keeps_it_alive() {
        loom::model(|| {
            let freed = Arc::new(AtomicUsize::new(0));
            let p = Arc::new(Published::new(Snapshot::new(0, &freed)));
            let reader = p.reader();
            let writer = {
                let (p, freed) = (Arc::clone(&p), Arc::clone(&freed));
                thread::spawn(move || {
                    p.publish(Snapshot::new(1, &freed));
                    drop_all(p.reclaim());
                })
            };
            let mut outer = reader.enter(&p);
            let first = outer.get().read();
            {
                let mut inner = reader.enter(&p);
                assert_eq!(inner.get().read(), first, "an inner guard never moves");
                drop_all(p.reclaim());
                assert_eq!(inner.get().read(), first);
            }
            let _ = outer.get().read();
            drop(outer);
            writer.join().unwrap();
            p.remove(&reader);
            assert_eq!(drop_all(p.reclaim()), 0);
            assert_eq!(freed.load(Ordering::Relaxed), 1);
        });
    }

    /// Guards dropped in any order: the reader stays online until the last
    /// one drops, so an inner guard outliving its outer one still reads a
    /// live snapshot, and what it read is freed after it drops. The reader
    /// comes online, nests and leaves while a writer publishes and
    /// reclaims and another thread reclaims: every interleaving.
    #[test]
    fn the_last_guard_to_drop_takes_the_reader_offline_whichever_it_is() {
        loom::model(|| {
            let freed = Arc::new(AtomicUsize::new(0));
            let p = Arc::new(Published::new(Snapshot::new(0, &freed)));
            let reader = p.reader();
            let writer = {
                let (p, freed) = (Arc::clone(&p), Arc::clone(&freed));
                thread::spawn(move || {
                    p.publish(Snapshot::new(1, &freed));
                    drop_all(p.reclaim());
                })
            };
            let reclaimer = {
                let p = Arc::clone(&p);
                thread::spawn(move || drop_all(p.reclaim()))
            };
            let mut outer = reader.enter(&p);
            assert!(outer.is_first());
            let first = outer.get().read();
            let inner = reader.enter(&p);
            assert!(!inner.is_first());
            drop(outer);
            assert_eq!(inner.held().read(), first, "still held by the inner guard");
            drop_all(p.reclaim());
            assert_eq!(inner.held().read(), first);
            drop(inner);
            writer.join().unwrap();
            reclaimer.join().unwrap();
            p.remove(&reader);
            assert_eq!(drop_all(p.reclaim()), 0);
            assert_eq!(freed.load(Ordering::Relaxed), 1);
        });
    }

    /// A reader registers, comes online, reads and leaves while a writer
    /// publishes and reclaims: one registered after the reclaimer read
    /// the hazards must not hold what it frees.
    #[test]
    fn a_reader_registering_during_a_reclaim_never_reads_a_freed_snapshot() {
        loom::model(|| {
            let freed = Arc::new(AtomicUsize::new(0));
            let p = Arc::new(Published::new(Snapshot::new(0, &freed)));
            let writer = {
                let (p, freed) = (Arc::clone(&p), Arc::clone(&freed));
                thread::spawn(move || {
                    p.publish(Snapshot::new(1, &freed));
                    drop_all(p.reclaim());
                })
            };
            let reader = p.reader();
            {
                let guard = reader.enter(&p);
                assert!(guard.held().read() <= 1);
            }
            p.remove(&reader);
            writer.join().unwrap();
            assert_eq!(drop_all(p.reclaim()), 0);
            assert_eq!(freed.load(Ordering::Relaxed), 1);
        });
    }

    /// A reader reads, leaves and deregisters while a writer publishes and
    /// reclaims: what it read is freed only after its last read.
    #[test]
    fn a_reader_leaving_and_deregistering_during_a_reclaim_is_freed_after_its_last_read() {
        loom::model(|| {
            let freed = Arc::new(AtomicUsize::new(0));
            let p = Arc::new(Published::new(Snapshot::new(0, &freed)));
            let reader = p.reader();
            let guard = reader.enter(&p);
            let writer = {
                let (p, freed) = (Arc::clone(&p), Arc::clone(&freed));
                thread::spawn(move || {
                    p.publish(Snapshot::new(1, &freed));
                    drop_all(p.reclaim());
                })
            };
            assert_eq!(guard.held().read(), 0);
            drop(guard);
            p.remove(&reader);
            writer.join().unwrap();
            assert_eq!(drop_all(p.reclaim()), 0);
            assert_eq!(freed.load(Ordering::Relaxed), 1);
        });
    }

    /// A typed handle's pattern: a short guard per call, the snapshot taken
    /// once, repeated while a writer publishes twice and reclaims.
    #[test]
    fn short_guards_per_call_never_read_a_freed_snapshot() {
        loom::model(|| {
            let freed = Arc::new(AtomicUsize::new(0));
            let p = Arc::new(Published::new(Snapshot::new(0, &freed)));
            let writer = {
                let (p, freed) = (Arc::clone(&p), Arc::clone(&freed));
                thread::spawn(move || {
                    for value in 1..=2 {
                        p.publish(Snapshot::new(value, &freed));
                        drop_all(p.reclaim());
                    }
                })
            };
            let reader = p.reader();
            let mut last = 0;
            for _ in 0..2 {
                let guard = reader.enter(&p);
                let seen = guard.held().read();
                assert!(seen >= last, "snapshots are taken in order");
                last = seen;
                drop(guard);
            }
            writer.join().unwrap();
            p.remove(&reader);
            drop_all(p.reclaim());
            assert_eq!(freed.load(Ordering::Relaxed), 2);
        });
    }

    /// Two readers, one reclaiming itself between its uses (as the table
    /// does after publishing), while a writer publishes.
    #[test]
    fn two_readers_and_a_writer_that_reclaims() {
        loom::model(|| {
            let freed = Arc::new(AtomicUsize::new(0));
            let p = Arc::new(Published::new(Snapshot::new(0, &freed)));
            let other = {
                let p = Arc::clone(&p);
                thread::spawn(move || {
                    let reader = p.reader();
                    {
                        let mut guard = reader.enter(&p);
                        guard.get().read();
                    }
                    drop_all(p.reclaim());
                    p.remove(&reader);
                })
            };
            let reader = p.reader();
            {
                let mut guard = reader.enter(&p);
                guard.get().read();
                p.publish(Snapshot::new(1, &freed));
                drop_all(p.reclaim());
                guard.get().read();
            }
            other.join().unwrap();
            p.remove(&reader);
            assert_eq!(drop_all(p.reclaim()), 0);
            assert_eq!(freed.load(Ordering::Relaxed), 1);
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A snapshot of a size nothing else in the test allocates, so that a
    /// freed one's address is taken again by the next snapshot.
    type Snapshot = [u64; 7];

    /// The ABA case: the snapshot a reader loaded is retired, freed, and a
    /// new one allocated at its address before the reader announces it.
    /// The announcement then validates (same address), and the reader must
    /// hold the new snapshot through the pointer of its validating load:
    /// the first one belongs to the freed allocation, which Miri (with
    /// `-Zmiri-address-reuse-rate=1.0`, as CI runs it) reports as a
    /// use-after-free.
    #[test]
    fn a_reader_holds_the_snapshot_its_validating_load_found_when_an_address_is_reused() {
        let published = Arc::new(Published::new(Box::new([0; 7])));
        let first = published.current.load(Ordering::Relaxed) as usize;
        let reused = Arc::new(std::sync::atomic::AtomicU64::new(0));
        {
            let (published, reused) = (Arc::clone(&published), Arc::clone(&reused));
            BEFORE_ANNOUNCE.with(|hook| {
                *hook.borrow_mut() = Some(Box::new(move || {
                    // Preempted between the load and the announcement: the
                    // loaded snapshot is replaced and freed (no reader
                    // announces it yet), then snapshots are published until
                    // one takes its address.
                    for value in 1..=64 {
                        published.publish(Box::new([value; 7]));
                        if published.current.load(Ordering::Relaxed) as usize == first {
                            reused.store(value, std::sync::atomic::Ordering::Relaxed);
                            return;
                        }
                        drop(published.reclaim().free);
                    }
                }));
            });
        }
        let reader: Reader<Snapshot> = published.reader();
        let guard = reader.enter(&published);
        let value = reused.load(std::sync::atomic::Ordering::Relaxed);
        assert_ne!(value, 0, "a new snapshot took the freed one's address");
        assert_eq!(
            guard.held(),
            &[value; 7],
            "the live snapshot at that address"
        );
        drop(guard);
        published.remove(&reader);
    }
}
