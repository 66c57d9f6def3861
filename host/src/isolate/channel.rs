//! The shared memory between a host and one worker: one call at a time,
//! its arguments in, its result out, and a futex word saying whose turn it
//! is.
//!
//! The region is a memory file both processes map. The host owns the
//! request (function, arguments, argument bytes) while the state is not
//! [`CALL`]; the worker owns the reply (status, result, reply bytes) while
//! it is [`CALL`]. Every field is an atomic, so that neither side ever
//! reads memory the other may be writing without one: a worker is not
//! trusted to keep its turn (it may be corrupted by its plugin), so the host
//! reads what it needs once, with bounds, and copies the bytes out before
//! looking at them.

use std::sync::atomic::{AtomicI32, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hotslot_plugin_api::HS_MAX_PARAMS;

/// The worker is starting: it has not described its build yet.
pub(crate) const STARTING: u32 = 0;
/// The worker loaded its build and described it in the reply bytes.
pub(crate) const READY: u32 = 1;
/// The worker refused its build: the reason is in the reply bytes.
pub(crate) const REFUSED: u32 = 2;
/// The host asked for a call; the worker owns the channel.
pub(crate) const CALL: u32 = 3;
/// The worker answered; the host owns the channel.
pub(crate) const DONE: u32 = 4;
/// The worker process is gone (set by the host once it has reaped it).
pub(crate) const DEAD: u32 = 5;

/// Bytes for a call's string arguments, all together.
pub(crate) const ARG_BYTES: usize = 32 * 1024;
/// Bytes for a call's reply: its string result or its error message, or the
/// worker's description of its build.
pub(crate) const REPLY_BYTES: usize = 64 * 1024;

/// What the reply bytes hold after a call.
pub(crate) const REPLY_NONE: u32 = 0;
/// A string result.
pub(crate) const REPLY_STR: u32 = 1;
/// An error message (with `HS_STATUS_ERROR` or `HS_STATUS_PANIC`).
pub(crate) const REPLY_ERROR: u32 = 2;
/// A string result too long for the reply bytes: its length is in
/// `reply_len`, the bytes are not.
pub(crate) const REPLY_TOO_LONG: u32 = 3;
/// Bytes: a saved state.
pub(crate) const REPLY_BYTES_KIND: u32 = 4;

/// The function number that asks the worker to save its build's state.
pub(crate) const SAVE_STATE: u32 = u32::MAX;
/// The function number that asks the worker to load a state: its format
/// version in the first argument's bits, its bytes as that argument's.
pub(crate) const LOAD_STATE: u32 = u32::MAX - 1;

/// One argument or result: a scalar's bits, or where a string's bytes are.
#[repr(C)]
pub(crate) struct Word {
    pub(crate) bits: AtomicU64,
    pub(crate) offset: AtomicU32,
    pub(crate) len: AtomicU32,
}

/// The layout both sides map.
#[repr(C)]
pub(crate) struct Region {
    /// The futex word: [`STARTING`], [`READY`], [`CALL`], ...
    pub(crate) state: AtomicU32,
    /// Incremented by the host for each call; the worker echoes it in
    /// `answered`, so a reply can only answer the call it belongs to.
    pub(crate) call: AtomicU32,
    /// The call the worker took (set before it runs any of it): a worker
    /// that died with `taken` short of `call` ran none of that call.
    pub(crate) taken: AtomicU32,
    pub(crate) answered: AtomicU32,
    pub(crate) function: AtomicU32,
    pub(crate) nargs: AtomicU32,
    pub(crate) status: AtomicI32,
    pub(crate) reply_kind: AtomicU32,
    pub(crate) reply_len: AtomicU32,
    pub(crate) args: [Word; HS_MAX_PARAMS],
    pub(crate) ret: Word,
    pub(crate) arg_bytes: [AtomicU8; ARG_BYTES],
    pub(crate) reply_bytes: [AtomicU8; REPLY_BYTES],
}

/// The size of the memory file.
pub(crate) const REGION_SIZE: usize = size_of::<Region>();

/// Copies `bytes` into `to` from its start; `to` is at least as long.
pub(crate) fn put(to: &[AtomicU8], bytes: &[u8]) {
    for (cell, b) in to.iter().zip(bytes) {
        cell.store(*b, Ordering::Relaxed);
    }
}

/// The first `len` bytes of `from` (at most its length), copied out.
pub(crate) fn take(from: &[AtomicU8], len: usize) -> Vec<u8> {
    from[..len.min(from.len())]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .collect()
}

/// Waits until `state` is no longer `current`, spinning for `spin` first
/// (a reply that comes within it costs no sleep and no wake-up), then
/// sleeping on the futex; gives up at `deadline`. Returns the new state,
/// or `current` when the deadline passed.
pub(crate) fn wait_while(
    state: &AtomicU32,
    current: u32,
    spin: Duration,
    deadline: Option<Instant>,
) -> u32 {
    let spin_until = Instant::now() + spin;
    loop {
        let now = state.load(Ordering::Acquire);
        if now != current {
            return now;
        }
        if Instant::now() >= spin_until {
            break;
        }
        std::hint::spin_loop();
    }
    loop {
        let timeout = match deadline {
            None => None,
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return state.load(Ordering::Acquire),
            },
        };
        let timespec = timeout.map(|t| rustix::thread::futex::Timespec {
            tv_sec: t.as_secs() as i64,
            tv_nsec: t.subsec_nanos() as i64,
        });
        // Shared between processes: not a private futex. Spurious wake-ups,
        // interruptions and a value changed before the wait are all seen
        // by the load below.
        let _ = rustix::thread::futex::wait(
            state,
            rustix::thread::futex::Flags::empty(),
            current,
            timespec.as_ref(),
        );
        let now = state.load(Ordering::Acquire);
        if now != current {
            return now;
        }
    }
}

/// Sets `state` to `to` and wakes the other side.
pub(crate) fn publish(state: &AtomicU32, to: u32) {
    state.store(to, Ordering::Release);
    let _ = rustix::thread::futex::wake(state, rustix::thread::futex::Flags::empty(), 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_fits_in_a_few_pages_and_bytes_round_trip() {
        const { assert!(REGION_SIZE < 128 * 1024) };
        let cells: Vec<AtomicU8> = (0..8).map(|_| AtomicU8::new(0)).collect();
        put(&cells, b"abc");
        assert_eq!(take(&cells, 3), b"abc");
        assert_eq!(take(&cells, 100).len(), 8, "clamped to the area");
    }

    #[test]
    fn a_wait_returns_the_new_state_or_the_old_one_at_the_deadline() {
        let state = AtomicU32::new(CALL);
        let start = Instant::now();
        let deadline = Some(start + Duration::from_millis(20));
        assert_eq!(wait_while(&state, CALL, Duration::ZERO, deadline), CALL);
        assert!(start.elapsed() >= Duration::from_millis(20));
        std::thread::scope(|s| {
            s.spawn(|| publish(&state, DONE));
            assert_eq!(wait_while(&state, CALL, Duration::ZERO, None), DONE);
        });
    }
}
