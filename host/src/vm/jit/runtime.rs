//! What compiled code works on, and the host functions it calls: the
//! environment of a run ([`Env`], read and written by compiled code at
//! fixed offsets), and the helpers for what is not worth compiling inline
//! (a native call's slow path, `PRINT`, string comparison, `%` on floats).
//!
//! A compiled run ends with a status: [`OK`] (a normal return, between
//! compiled functions only), [`HALTED`], [`PAUSED`] (its fuel ran out) or
//! [`FAULT`]. On `HALTED` and `PAUSED` every frame has written its values
//! to the VM's stack and its record to `frames`, so the machine stands
//! exactly where the interpreter would: its state can be read, saved, and
//! resumed by the interpreter.

use std::ffi::c_void;

use hotslot_plugin_api::{HsCallCtx, HsStatus, HsValue};

use crate::types::ValType;
use crate::vm::ctx::CallCtx;
use crate::vm::error::Fault;
use crate::vm::exec::finish_call;
use crate::vm::lower::RetKind;
use crate::vm::machine::{Frame, Machine};
use crate::vm::natives::NativeCalls;
use crate::vm::value::Value;

/// A compiled function returned normally.
pub(super) const OK: i32 = 0;
/// The program halted (`HALT`, or a return from the outermost frame).
pub(super) const HALTED: i32 = 1;
/// The run's fuel ran out.
pub(super) const PAUSED: i32 = 2;
/// The run faulted: [`Env::fault`] says how, [`Env::fault_pc`] where.
pub(super) const FAULT: i32 = 3;

/// Faults compiled code detects itself, as [`Env::fault`] records them.
pub(super) mod fault {
    /// A fault a helper recorded in [`Env::pending`](super::Env::pending).
    pub(in crate::vm) const PENDING: u64 = 1;
    /// A panic a helper caught (in [`Env::panic`](super::Env::panic)),
    /// which unwinds on from the run's host frame: no unwinding crosses
    /// compiled code.
    pub(in crate::vm) const PANIC: u64 = 6;
    pub(in crate::vm) const DIVIDE_BY_ZERO: u64 = 2;
    pub(in crate::vm) const OVERFLOW: u64 = 3;
    pub(in crate::vm) const STACK_OVERFLOW: u64 = 4;
    pub(in crate::vm) const CALL_DEPTH: u64 = 5;
}

/// The natives' call, monomorphized for the run's `NativeCalls`.
pub(super) type CallNative = unsafe extern "C" fn(
    env: *mut Env,
    slot: u32,
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    nargs: usize,
    ret: *mut HsValue,
) -> HsStatus;

/// A native call's slow path (see [`finish_native`]), monomorphized.
pub(super) type FinishNative =
    unsafe extern "C" fn(env: *mut Env, slot: u32, ret: u32, status: i32, pc: u32, top: u64) -> i32;

/// A run's environment. Compiled code reads and writes the fields before
/// `pending` at their offsets; `repr(C)` keeps them there.
#[repr(C)]
pub(in crate::vm) struct Env {
    /// The VM's stack.
    pub(super) bottom: *mut HsValue,
    /// Values it holds.
    pub(super) capacity: u64,
    /// Frames alive: records `frames[..depth]` are written.
    pub(super) depth: u64,
    /// The deepest calls may nest.
    pub(super) max_depth: u64,
    /// Frame records, room for `max_depth` of them.
    pub(super) frames: *mut Frame,
    /// Backward jumps and calls left before the run pauses.
    pub(super) fuel: u64,
    /// The native stack pointer below which a call faults (a bound the
    /// VM's own limits keep it from reaching; the last line of defence).
    pub(super) stack_limit: u64,
    /// The VM's call context, passed to every native call.
    pub(super) ctx: *mut CallCtx,
    /// The run's natives (`&mut C`), and its calls' entry points.
    pub(super) calls: *mut c_void,
    pub(super) call_native: CallNative,
    pub(super) finish_native: FinishNative,
    /// Where a halted or paused run stands: the next instruction and the
    /// stack's top (an index).
    pub(super) pc: u64,
    pub(super) sp: u64,
    /// How the run faulted, and at which instruction.
    pub(super) fault: u64,
    pub(super) fault_pc: u64,
    // Not read by compiled code.
    /// The machine the run is on.
    pub(super) machine: *mut Machine,
    /// A fault a helper found.
    pub(super) pending: Option<Fault>,
    /// A panic a helper caught, to resume once out of compiled code.
    pub(super) panic: Option<Box<dyn std::any::Any + Send>>,
}

/// Runs `f` for a helper: a panic is caught and recorded in `env` (to
/// unwind on from the run's host frame), and the helper returns [`FAULT`].
///
/// # Safety
///
/// `env` is the run's, and nothing else uses it during the call.
unsafe fn guarded(env: *mut Env, pc: u32, f: impl FnOnce() -> i32) -> i32 {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(status) => status,
        Err(payload) => {
            // SAFETY: forwarded to the caller.
            let env = unsafe { &mut *env };
            env.panic = Some(payload);
            env.fault = fault::PANIC;
            env.fault_pc = pc.into();
            FAULT
        }
    }
}

/// The status of a native call that panicked in the host (the panic is
/// in [`Env::panic`]): [`finish_native`] turns it into [`FAULT`].
const PANICKED: HsStatus = HsStatus(i32::MIN + 0x1502);

/// [`CallNative`] for `C`: the run's natives (`env.calls`, a `&mut C`)
/// called, a panic caught and kept to unwind on from the run's host frame.
///
/// # Safety
///
/// `env` is the run's, its `calls` a live `&mut C` no one else uses during
/// the call; the rest is as for [`NativeCalls::call`].
pub(super) unsafe extern "C" fn call_native<C: NativeCalls>(
    env: *mut Env,
    slot: u32,
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    nargs: usize,
    ret: *mut HsValue,
) -> HsStatus {
    // SAFETY: forwarded to the caller.
    let calls = unsafe { (*env).calls.cast::<C>() };
    let call = || {
        // SAFETY: forwarded to the caller.
        unsafe { (*calls).call(slot, ctx, args, nargs, ret) }
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
        Ok(status) => status,
        Err(payload) => {
            // SAFETY: forwarded to the caller; the call is over.
            unsafe { (*env).panic = Some(payload) };
            PANICKED
        }
    }
}

/// Everything but the common case of a native call, as the interpreter's
/// `finish_call`: a failure (recorded as the pending fault: [`FAULT`]), a
/// string result (written to the stack at `top`, collecting strings when
/// the heap asks, with the machine standing at `pc`), or a scalar after a
/// callback (left in the call's result slot: [`OK`]).
///
/// # Safety
///
/// `env` is the run's, with `calls` a `&mut C`; the native call of `slot`
/// just returned `status`; `top` is the stack index where its result goes;
/// every string of every frame is in the VM's stack.
pub(super) unsafe extern "C" fn finish_native<C: NativeCalls>(
    env: *mut Env,
    slot: u32,
    ret: u32,
    status: i32,
    pc: u32,
    top: u64,
) -> i32 {
    // SAFETY: forwarded to the caller.
    unsafe { guarded(env, pc, || finish::<C>(env, slot, ret, status, pc, top)) }
}

/// [`finish_native`], unguarded.
fn finish<C: NativeCalls>(
    env: *mut Env,
    slot: u32,
    ret: u32,
    status: i32,
    pc: u32,
    top: u64,
) -> i32 {
    // SAFETY: the caller of `finish_native` vouches for `env` and its
    // pointers; compiled code is suspended in this call, so nothing else
    // uses them.
    let env = unsafe { &mut *env };
    if env.panic.is_some() {
        env.fault = fault::PANIC;
        env.fault_pc = pc.into();
        return FAULT;
    }
    // SAFETY: as above.
    let calls = unsafe { &*env.calls.cast::<C>() };
    // SAFETY: as above.
    let ctx = unsafe { &mut *env.ctx };
    let ret = match ret {
        0 => RetKind::Void,
        1 => RetKind::I32,
        2 => RetKind::Wide,
        3 => RetKind::Bool,
        _ => RetKind::Str,
    };
    let outcome = finish_call(ctx, slot, ret, HsStatus(status), || {
        (calls.failed_function(slot), calls.isolated_failure(slot))
    });
    match outcome {
        Ok(Some(s)) => {
            // SAFETY: `top` is inside the stack (the verifier bounded the
            // frame, and the call checked the capacity).
            unsafe { (*env.bottom.add(top as usize)).str = s };
            if ctx.heap.wants_collection() {
                // SAFETY: as above; the machine is the run's.
                let machine = unsafe { &mut *env.machine };
                // Standing after the call, its result pushed, as the
                // interpreter stands when it collects.
                // SAFETY: the frame records below `depth` are written.
                unsafe { sync(machine, env, u64::from(pc) + 1, top + 1) };
                machine.collect();
            }
            OK
        }
        Ok(None) => OK,
        Err(f) => {
            env.pending = Some(f);
            env.fault = fault::PENDING;
            env.fault_pc = pc.into();
            FAULT
        }
    }
}

/// Sets `machine`'s registers from the run: where it stands (`pc`, the
/// stack's top `sp`) and its frames.
///
/// # Safety
///
/// `env.frames[..env.depth]` are written, and `env.frames` is the buffer of
/// `machine.frames`, with room for them.
pub(super) unsafe fn sync(machine: &mut Machine, env: &Env, pc: u64, sp: u64) {
    machine.pc = pc as u32;
    machine.sp = sp as usize;
    debug_assert_eq!(env.frames, machine.frames.as_mut_ptr());
    // SAFETY: the caller vouches the first `depth` records are written, in
    // the vector's own buffer, within its capacity.
    unsafe { machine.frames.set_len(env.depth as usize) };
}

/// `PRINT` of the value at `value`, of type `tag`: [`OK`], or [`FAULT`]
/// with the output's error pending.
///
/// # Safety
///
/// `env` is the run's; `value` holds a value of type `tag` (a string
/// view of valid UTF-8).
pub(super) unsafe extern "C" fn print(
    env: *mut Env,
    tag: u32,
    value: *const HsValue,
    pc: u32,
) -> i32 {
    // SAFETY: forwarded to the caller.
    unsafe { guarded(env, pc, || print_value(env, tag, value, pc)) }
}

/// [`print`], unguarded.
fn print_value(env: *mut Env, tag: u32, value: *const HsValue, pc: u32) -> i32 {
    // SAFETY: the caller of `print` vouches for `env`; nothing else uses
    // it now.
    let env = unsafe { &mut *env };
    let ty = match tag {
        0 => ValType::I32,
        1 => ValType::I64,
        2 => ValType::F64,
        3 => ValType::Bool,
        _ => ValType::Str,
    };
    // SAFETY: the caller of `print` vouches for the value and its type.
    let v = unsafe { Value::from_raw(&*value, ty) };
    // SAFETY: the machine is the run's.
    let machine = unsafe { &mut *env.machine };
    match writeln!(machine.out, "Result: {v}") {
        Ok(()) => OK,
        Err(e) => {
            env.pending = Some(Fault::Output(e));
            env.fault = fault::PENDING;
            env.fault_pc = pc.into();
            FAULT
        }
    }
}

/// The order of two strings' bytes: -1, 0 or 1.
///
/// # Safety
///
/// Both hold string views of valid UTF-8 that live for the call.
pub(super) unsafe extern "C" fn compare_strings(a: *const HsValue, b: *const HsValue) -> i32 {
    // SAFETY: the caller vouches for both views.
    let (a, b) = unsafe { ((*a).str.as_bytes(), (*b).str.as_bytes()) };
    match a.cmp(b) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

/// `a % b` on floats, as the interpreter computes it.
pub(super) extern "C" fn float_remainder(a: f64, b: f64) -> f64 {
    a % b
}

use std::io::Write as _;
