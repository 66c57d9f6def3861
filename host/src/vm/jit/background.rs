//! Compiling off the caller's thread: a script module is compiled on a
//! thread of the process's own right after it loads, so a reload swaps the
//! new build in without waiting for Cranelift (two thirds of a small
//! module's reload otherwise; BENCHMARKS.md). Until its code is ready, a
//! call of the module runs on the interpreter, which has the same meaning;
//! the next call after it is ready runs compiled.
//!
//! The queue holds weak references: a build released before its turn
//! (a storm of saves) is never compiled, and one released during its
//! compile is freed, code and all, when the compile lets go of it.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

use super::super::verify::VerifiedProgram;

struct Queue {
    pending: VecDeque<Weak<VerifiedProgram>>,
    /// Whether a compile is running.
    busy: bool,
    /// Whether the compiling thread was started.
    started: bool,
}

static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    pending: VecDeque::new(),
    busy: false,
    started: false,
});
/// Signalled when work is queued.
static WORK: Condvar = Condvar::new();
/// Signalled when the queue is empty and no compile runs.
static IDLE: Condvar = Condvar::new();

fn queue() -> MutexGuard<'static, Queue> {
    // A compile's panic is caught on the compiling thread; the queue's
    // state is consistent at every unlock.
    QUEUE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Queues `program` to be compiled on the compiling thread, started on
/// first use. Where no thread can be started, it is compiled now.
pub(in crate::vm) fn submit(program: &Arc<VerifiedProgram>) {
    let mut q = queue();
    if !q.started {
        let spawned = std::thread::Builder::new()
            .name("hotslot-compile".into())
            // Cranelift's passes recurse; `compiled` grows the stack too.
            .stack_size(8 << 20)
            .spawn(run);
        if spawned.is_err() {
            drop(q);
            let _ = program.compiled();
            return;
        }
        q.started = true;
    }
    q.pending.push_back(Arc::downgrade(program));
    WORK.notify_one();
}

/// Waits until every program queued so far is compiled (or released).
pub(crate) fn wait_idle() {
    let mut q = queue();
    while q.busy || !q.pending.is_empty() {
        q = IDLE.wait(q).unwrap_or_else(|e| e.into_inner());
    }
}

/// The compiling thread: one program at a time, for the process's life.
fn run() {
    let mut q = queue();
    loop {
        let Some(next) = q.pending.pop_front() else {
            IDLE.notify_all();
            q = WORK.wait(q).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        q.busy = true;
        drop(q);
        if let Some(program) = next.upgrade() {
            // A failure is kept in the program (and logged): its calls
            // stay on the interpreter. A panic in Cranelift is a bug of
            // its own; the module runs interpreted and the thread goes on.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = program.compiled();
            }));
        }
        q = queue();
        q.busy = false;
    }
}
