//! An asymmetric barrier pair: a reader's half that costs nothing where the
//! system can make the writer's half reach every running thread, and a
//! writer's half that says when it could not.
//!
//! # What the pair promises
//!
//! For every reader thread there is a point in its execution, at one of its
//! [`light_barrier`]s, such that everything the reader did before that point
//! happens before everything the caller of [`heavy_barrier`] does after it,
//! or everything the caller did before the heavy barrier happens before
//! everything the reader does after that point. Two `SeqCst` fences give
//! that; so does a compiler fence in the reader paired with a system call
//! that makes every running thread of the process execute a full barrier
//! (Linux `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, Windows
//! `FlushProcessWriteBuffers`).
//!
//! # Sound when the system call fails
//!
//! The mode is decided once, before the first reader can exist (a
//! [`Published`](crate::slots) asks for it when it is made), and never
//! changes: a reader that read the mode once relies on it forever. Where
//! the system offers no such call, or refuses to register for it, the mode
//! is [`Mode::Fences`] and both halves are real fences. Where the mode is
//! [`Mode::Expedited`] and the call later fails (a seccomp filter installed
//! after start-up, the kernel out of memory), [`heavy_barrier`] returns
//! [`BarrierFailed`]: the caller must then act as if a reader could still
//! hold anything, which for the release protocol means freeing nothing
//! (memory kept, never a snapshot freed under a reader). It does not fall
//! back to a fence, which without the readers' fences would prove nothing.
//!
//! # Under loom
//!
//! loom has neither the system call nor compiler fences. Each reader owns a
//! [`BarrierCell`]; its light barrier is a read-modify-write of that cell,
//! and the heavy barrier one of every reader's cell. Read-modify-writes of
//! one location are ordered, and with `AcqRel` the later one synchronizes
//! with the earlier: exactly the promise above, at the light barrier, for
//! each reader apart, and nothing more (readers do not synchronize with one
//! another, as compiler fences do not). Fences in the model would be
//! stronger than the real pair: they order a reader's own accesses around
//! them, which a compiler fence does not, and so would hide a missing
//! ordering on the reader's side.

#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering};

/// How this process makes the pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The reader's half is a compiler fence; the writer's a system call.
    #[cfg_attr(
        all(not(loom), any(miri, not(any(target_os = "linux", windows)))),
        expect(dead_code, reason = "no system call makes the writer's half here")
    )]
    Expedited,
    /// Both halves are `SeqCst` fences.
    #[cfg_attr(
        any(loom, all(windows, not(miri))),
        expect(dead_code, reason = "the system call's barrier is always there")
    )]
    Fences,
}

/// The heavy barrier's system call failed: no reader's half can be relied
/// on for this round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BarrierFailed {
    /// The system's error number.
    pub(crate) errno: i32,
}

/// Where a reader's light barrier meets the heavy barrier under loom;
/// nothing otherwise.
#[derive(Debug, Default)]
pub(crate) struct BarrierCell {
    #[cfg(loom)]
    cell: AtomicUsize,
}

impl BarrierCell {
    pub(crate) fn new() -> BarrierCell {
        BarrierCell::default()
    }
}

/// The mode of this process, decided at the first call.
pub(crate) fn mode() -> Mode {
    imp::mode()
}

/// The reader's half: see the module docs. `cell` is the reader's own.
#[inline]
pub(crate) fn light_barrier(cell: &BarrierCell) {
    #[cfg(loom)]
    cell.cell.fetch_add(1, Ordering::AcqRel);
    #[cfg(not(loom))]
    {
        let _ = cell;
        imp::light();
    }
}

/// The writer's half, for the readers whose cells `cells` yields (every
/// reader that could hold anything the caller is about to free).
pub(crate) fn heavy_barrier<'a>(
    cells: impl IntoIterator<Item = &'a BarrierCell>,
) -> Result<(), BarrierFailed> {
    #[cfg(loom)]
    {
        for c in cells {
            c.cell.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }
    #[cfg(not(loom))]
    {
        let _ = cells.into_iter();
        imp::heavy()
    }
}

/// Miri models fences, not system calls: fences on both sides.
#[cfg(all(not(loom), miri))]
mod imp {
    use std::sync::atomic::{Ordering, fence};

    pub(super) fn mode() -> super::Mode {
        super::Mode::Fences
    }

    #[inline]
    pub(super) fn light() {
        fence(Ordering::SeqCst);
    }

    pub(super) fn heavy() -> Result<(), super::BarrierFailed> {
        fence(Ordering::SeqCst);
        Ok(())
    }
}

/// Linux: `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, registered once.
#[cfg(all(not(loom), not(miri), target_os = "linux"))]
mod imp {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering, compiler_fence, fence};

    use rustix::thread::{MembarrierCommand, membarrier, membarrier_query};

    use super::{BarrierFailed, Mode};

    /// Whether the mode is `Expedited`. Set once, by `mode()`, before any
    /// reader exists: a reader reaches the release protocol only through a
    /// value made after that call, so its relaxed load sees it.
    static EXPEDITED: AtomicBool = AtomicBool::new(false);
    static MODE: OnceLock<Mode> = OnceLock::new();

    pub(super) fn mode() -> Mode {
        *MODE.get_or_init(|| {
            let query = membarrier_query();
            let supported = query.contains_command(MembarrierCommand::PrivateExpedited)
                && query.contains_command(MembarrierCommand::RegisterPrivateExpedited);
            let registered = supported
                && membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok()
                && membarrier(MembarrierCommand::PrivateExpedited).is_ok();
            if registered {
                EXPEDITED.store(true, Ordering::Relaxed);
                Mode::Expedited
            } else {
                Mode::Fences
            }
        })
    }

    #[inline]
    pub(super) fn light() {
        if EXPEDITED.load(Ordering::Relaxed) {
            compiler_fence(Ordering::SeqCst);
        } else {
            fence(Ordering::SeqCst);
        }
    }

    pub(super) fn heavy() -> Result<(), BarrierFailed> {
        if !EXPEDITED.load(Ordering::Relaxed) {
            fence(Ordering::SeqCst);
            return Ok(());
        }
        // The system call's own entry and exit are full barriers on this
        // thread; on every other running thread of the process it runs one.
        let done = membarrier(MembarrierCommand::PrivateExpedited);
        compiler_fence(Ordering::SeqCst);
        done.map_err(|e| BarrierFailed {
            errno: e.raw_os_error(),
        })
    }
}

/// Windows: `FlushProcessWriteBuffers`, which cannot fail.
#[cfg(all(not(loom), not(miri), windows))]
mod imp {
    use std::sync::atomic::{Ordering, compiler_fence};

    pub(super) fn mode() -> super::Mode {
        super::Mode::Expedited
    }

    #[inline]
    pub(super) fn light() {
        compiler_fence(Ordering::SeqCst);
    }

    pub(super) fn heavy() -> Result<(), super::BarrierFailed> {
        // SAFETY: no arguments; it makes every processor running a thread
        // of this process flush its write buffer, and returns.
        unsafe { windows_sys::Win32::System::Threading::FlushProcessWriteBuffers() };
        compiler_fence(Ordering::SeqCst);
        Ok(())
    }
}

/// Elsewhere: fences on both sides.
#[cfg(all(not(loom), not(miri), not(target_os = "linux"), not(windows)))]
mod imp {
    use std::sync::atomic::{Ordering, fence};

    pub(super) fn mode() -> super::Mode {
        super::Mode::Fences
    }

    #[inline]
    pub(super) fn light() {
        fence(Ordering::SeqCst);
    }

    pub(super) fn heavy() -> Result<(), super::BarrierFailed> {
        fence(Ordering::SeqCst);
        Ok(())
    }
}

/// loom: the cells do the work (see the module docs).
#[cfg(loom)]
mod imp {
    pub(super) fn mode() -> super::Mode {
        super::Mode::Expedited
    }
}
