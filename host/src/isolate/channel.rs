//! The shared memory between a host and one worker: one call at a time,
//! its arguments in, its result out, and a futex word saying whose turn it
//! is.
//!
//! # Threat model
//!
//! The region is a memory file both processes map. The worker runs a
//! plugin's code, which may write any byte of the region, at any time, from
//! any thread, or try to resize the file under the host's mapping. So:
//!
//! - the file is sealed (its size, and against new seals) before the first
//!   worker starts: a shrink that would fault the host's mapping, a growth,
//!   or a seal that would stop the next worker mapping it, all fail;
//! - the host reaches the mapping through raw pointers and atomics only
//!   (never a `&[u8]` of memory the other process writes), and the region
//!   has no padding, so every byte of it is inside an atomic;
//! - the host reads each field of a reply once, bounds every length before
//!   using it, copies bytes out before looking at them, and allocates at
//!   most the reply area's size ([`read_reply`]);
//! - the host numbers calls itself and refuses a reply to another number
//!   ([`Protocol`]); the numbers in the region are for the worker to read.
//!
//! The host owns the request (function, arguments, argument bytes) while
//! the state is not [`CALL`]; the worker owns the reply (status, result,
//! reply bytes) while it is [`CALL`]. A worker that breaks the turn order
//! can garble its own reply, never the host.

use std::sync::atomic::{AtomicI32, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hotslot_plugin_api::HS_MAX_PARAMS;

use crate::types::ValType;

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

/// The layout both sides map. Every byte is inside an atomic (no padding):
/// the other process may write any of them.
///
/// The isolation tests' hostile plugin (`tests/fixtures/c/hostile.c`)
/// writes `call` and `answered` at their offsets, 4 and 12.
#[repr(C)]
pub(crate) struct Region {
    /// The futex word: [`STARTING`], [`READY`], [`CALL`], ...
    pub(crate) state: AtomicU32,
    /// The number of the call asked for, written by the host; the worker
    /// echoes it in `answered`.
    pub(crate) call: AtomicU32,
    /// The call the worker took (set before it runs any of it): a worker
    /// that died with `taken` short of the host's number ran none of that
    /// call.
    pub(crate) taken: AtomicU32,
    pub(crate) answered: AtomicU32,
    pub(crate) function: AtomicU32,
    pub(crate) nargs: AtomicU32,
    pub(crate) status: AtomicI32,
    pub(crate) reply_kind: AtomicU32,
    pub(crate) reply_len: AtomicU32,
    /// Unused: `args` starts 8-byte aligned with no padding before it.
    pub(crate) reserved: AtomicU32,
    pub(crate) args: [Word; HS_MAX_PARAMS],
    pub(crate) ret: Word,
    pub(crate) arg_bytes: [AtomicU8; ARG_BYTES],
    pub(crate) reply_bytes: [AtomicU8; REPLY_BYTES],
}

/// The size of the memory file.
pub(crate) const REGION_SIZE: usize = size_of::<Region>();

// No padding: the fields' sizes add up to the region's.
const _: () = assert!(
    REGION_SIZE == 10 * 4 + (HS_MAX_PARAMS + 1) * size_of::<Word>() + ARG_BYTES + REPLY_BYTES
);
const _: () = assert!(size_of::<Word>() == 16);

/// Whether a value of type `ty` crosses the channel.
pub(crate) fn passes(ty: ValType) -> bool {
    matches!(
        ty,
        ValType::I32 | ValType::I64 | ValType::F64 | ValType::Bool | ValType::Str
    )
}

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

/// A reply as the host reads it: each field read once, the bytes copied
/// out (at most the reply area), nothing trusted beyond that.
#[derive(Debug, PartialEq)]
pub(crate) struct Reply {
    /// The function's status.
    pub(crate) status: i32,
    /// A scalar result's bits.
    pub(crate) bits: u64,
    /// What the reply bytes hold ([`REPLY_NONE`], [`REPLY_STR`], ...).
    pub(crate) kind: u32,
    /// The length the worker gave (for [`REPLY_TOO_LONG`], the result's).
    pub(crate) len: usize,
    /// The reply bytes: at most `len` and at most the area's size, for a
    /// kind that has bytes; none otherwise.
    pub(crate) bytes: Vec<u8>,
}

/// A reply to a call the host did not ask for: the worker wrote what it
/// should not, and is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Protocol {
    /// The host's number of the call.
    pub(crate) expected: u32,
    /// The number the reply gave.
    pub(crate) found: u32,
}

/// Reads the reply to call number `call` (the host's own count): refused
/// when the worker answered another number.
pub(crate) fn read_reply(region: &Region, call: u32) -> Result<Reply, Protocol> {
    let answered = region.answered.load(Ordering::Acquire);
    if answered != call {
        return Err(Protocol {
            expected: call,
            found: answered,
        });
    }
    let status = region.status.load(Ordering::Relaxed);
    let bits = region.ret.bits.load(Ordering::Relaxed);
    let kind = region.reply_kind.load(Ordering::Relaxed);
    let len = region.reply_len.load(Ordering::Relaxed) as usize;
    let bytes = match kind {
        REPLY_STR | REPLY_ERROR | REPLY_BYTES_KIND => take(&region.reply_bytes, len),
        _ => Vec::new(),
    };
    Ok(Reply {
        status,
        bits,
        kind,
        len,
        bytes,
    })
}

/// Writes a request: function `function`, call number `call`, `nargs`
/// arguments (written by the caller before), then hands the channel to the
/// worker.
pub(crate) fn request(region: &Region, call: u32, function: u32, nargs: u32) {
    region.call.store(call, Ordering::Relaxed);
    region.function.store(function, Ordering::Relaxed);
    region.nargs.store(nargs, Ordering::Relaxed);
    publish(&region.state, CALL);
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

/// A region in this process's own memory, for the tests, Miri and the
/// fuzz target, which play both sides in one process.
pub(crate) struct LocalRegion(std::ptr::NonNull<Region>);

impl LocalRegion {
    /// A zeroed region (every field's zero is a valid atomic).
    pub(crate) fn new() -> LocalRegion {
        let layout = std::alloc::Layout::new::<Region>();
        // SAFETY: `Region` is not zero-sized.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        LocalRegion(
            std::ptr::NonNull::new(ptr.cast())
                .unwrap_or_else(|| std::alloc::handle_alloc_error(layout)),
        )
    }

    pub(crate) fn region(&self) -> &Region {
        // SAFETY: allocated zeroed with `Region`'s layout; every field is an
        // atomic, valid for any bits, and shared only through `&`.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for LocalRegion {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout, freed once.
        unsafe { std::alloc::dealloc(self.0.as_ptr().cast(), std::alloc::Layout::new::<Region>()) }
    }
}

// SAFETY: the region is atomics only; sharing it between threads is what
// they are for.
unsafe impl Send for LocalRegion {}
// SAFETY: as above.
unsafe impl Sync for LocalRegion {}

/// Sets scalar field number `field` of `region` (modulo their count: the
/// ten 32-bit fields, then each word's bits, offset and length) to `value`,
/// truncated to the field's size.
fn scribble(region: &Region, field: u8, value: u64) {
    let fields32 = [
        &region.state,
        &region.call,
        &region.taken,
        &region.answered,
        &region.function,
        &region.nargs,
        &region.reply_kind,
        &region.reply_len,
        &region.reserved,
    ];
    let n = usize::from(field) % (10 + 3 * (HS_MAX_PARAMS + 1));
    match n {
        0..=8 => fields32[n].store(value as u32, Ordering::Relaxed),
        9 => region.status.store(value as i32, Ordering::Relaxed),
        _ => {
            let word = region.args.get((n - 10) / 3).unwrap_or(&region.ret);
            match (n - 10) % 3 {
                0 => word.bits.store(value, Ordering::Relaxed),
                1 => word.offset.store(value as u32, Ordering::Relaxed),
                _ => word.len.store(value as u32, Ordering::Relaxed),
            }
        }
    }
}

/// See [`crate::testing::hostile_channel`].
pub(crate) fn hostile(
    call: u32,
    before: &[(u8, u64)],
    bytes: &[(u16, Vec<u8>)],
    during: &[(u8, u64)],
) -> Option<usize> {
    let local = LocalRegion::new();
    let region = local.region();
    for &(field, value) in before {
        scribble(region, field, value);
    }
    for (at, b) in bytes {
        let at = usize::from(*at) % REPLY_BYTES;
        put(&region.reply_bytes[at..], b);
    }
    let peer = Peer::get();
    peer.start(&local, during);
    let read = read_reply(region, call);
    // The peer is done with the region before it is freed.
    peer.stop();
    let reply = read.ok()?;
    assert!(reply.bytes.len() <= REPLY_BYTES, "read past the reply area");
    Some(reply.bytes.len())
}

/// The thread that plays the worker's other threads for [`hostile`]: it
/// writes fields of the region it is given, in a loop, until stopped. One
/// for the process, so that no thread is started per input.
struct Peer {
    state: std::sync::Mutex<PeerState>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct PeerState {
    /// The region's address and what to write into it; `None`: idle.
    job: Option<(usize, Vec<(u8, u64)>)>,
    /// Whether the thread is writing into the job's region.
    busy: bool,
}

impl Peer {
    fn get() -> &'static Peer {
        static PEER: std::sync::OnceLock<&'static Peer> = std::sync::OnceLock::new();
        PEER.get_or_init(|| {
            let peer: &'static Peer = Box::leak(Box::new(Peer {
                state: std::sync::Mutex::new(PeerState::default()),
                changed: std::sync::Condvar::new(),
            }));
            std::thread::spawn(move || peer.run());
            peer
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PeerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start(&self, region: &LocalRegion, during: &[(u8, u64)]) {
        if during.is_empty() {
            return;
        }
        self.lock().job = Some((region.0.as_ptr() as usize, during.to_vec()));
        self.changed.notify_all();
    }

    fn stop(&self) {
        let mut state = self.lock();
        state.job = None;
        while state.busy {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn run(&self) {
        let mut state = self.lock();
        loop {
            let Some((address, writes)) = state.job.clone() else {
                state.busy = false;
                self.changed.notify_all();
                state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            state.busy = true;
            drop(state);
            // SAFETY: the job's region lives until `stop` has seen this
            // thread not busy, which it is until it looks at the job again
            // below; every field of a region is an atomic.
            let region = unsafe { &*(address as *const Region) };
            for &(field, value) in &writes {
                scribble(region, field, value);
            }
            std::thread::yield_now();
            state = self.lock();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_fits_in_a_few_pages_and_bytes_round_trip() {
        const { assert!(REGION_SIZE < 128 * 1024) };
        assert_eq!(std::mem::offset_of!(Region, call), 4, "hostile.c writes it");
        assert_eq!(
            std::mem::offset_of!(Region, answered),
            12,
            "hostile.c writes it"
        );
        let cells: Vec<AtomicU8> = (0..8).map(|_| AtomicU8::new(0)).collect();
        put(&cells, b"abc");
        assert_eq!(take(&cells, 3), b"abc");
        assert_eq!(take(&cells, 100).len(), 8, "clamped to the area");
    }

    #[test]
    #[cfg_attr(miri, ignore = "measures a deadline in real time")]
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

    /// A reply whose lengths and kinds are lies: bounded, copied, typed.
    #[test]
    fn a_reply_is_read_once_and_bounded_whatever_the_worker_wrote() {
        let local = LocalRegion::new();
        let r = local.region();
        r.answered.store(7, Ordering::Relaxed);
        r.reply_kind.store(REPLY_STR, Ordering::Relaxed);
        r.reply_len.store(u32::MAX, Ordering::Relaxed);
        let reply = read_reply(r, 7).unwrap();
        assert_eq!(reply.bytes.len(), REPLY_BYTES, "no more than the area");
        r.reply_kind.store(REPLY_TOO_LONG, Ordering::Relaxed);
        assert!(read_reply(r, 7).unwrap().bytes.is_empty());
        r.reply_kind.store(12345, Ordering::Relaxed);
        assert!(read_reply(r, 7).unwrap().bytes.is_empty());
        assert_eq!(
            read_reply(r, 8),
            Err(Protocol {
                expected: 8,
                found: 7
            })
        );
    }

    /// The host's side of a call against a worker played by another
    /// thread, which scribbles over the request's fields while it serves
    /// (as a plugin may): the host reads the reply of its own call number,
    /// through atomics only (Miri checks there is no other access).
    #[test]
    fn the_host_side_serves_calls_with_a_peer_thread_that_scribbles() {
        let local = LocalRegion::new();
        let r = local.region();
        let calls = if cfg!(miri) { 3 } else { 200 };
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut seen = STARTING;
                for _ in 0..calls {
                    seen = wait_while(&r.state, seen, Duration::ZERO, None);
                    assert_eq!(seen, CALL);
                    let call = r.call.load(Ordering::Relaxed);
                    r.taken.store(call, Ordering::Release);
                    // A plugin scribbling over the host's fields.
                    r.call.store(call.wrapping_add(1000), Ordering::Relaxed);
                    r.function.store(u32::MAX, Ordering::Relaxed);
                    let x = r.args[0].bits.load(Ordering::Relaxed);
                    r.ret.bits.store(x * 2, Ordering::Relaxed);
                    put(&r.reply_bytes, b"ok");
                    r.reply_len.store(2, Ordering::Relaxed);
                    r.reply_kind.store(REPLY_STR, Ordering::Relaxed);
                    r.status.store(0, Ordering::Relaxed);
                    r.answered.store(call, Ordering::Release);
                    publish(&r.state, DONE);
                    seen = DONE;
                }
            });
            for call in 1..=calls {
                r.args[0].bits.store(u64::from(call), Ordering::Relaxed);
                request(r, call, 0, 1);
                assert_eq!(wait_while(&r.state, CALL, Duration::ZERO, None), DONE);
                let reply = read_reply(r, call).unwrap();
                assert_eq!(reply.bits, 2 * u64::from(call));
                assert_eq!(reply.bytes, b"ok");
            }
        });
    }
}
