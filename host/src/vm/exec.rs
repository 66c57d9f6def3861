//! The dispatch loop: the interpreter of verified programs.

use std::mem::size_of;
use std::sync::Arc;

use hotslot_plugin_api::{HsStatus, HsValue};

use super::ctx::CallCtx;
use super::error::{Fault, VmError};
use super::lower::{Op, RetKind};
use super::machine::{Frame, Machine, Status};
use super::natives::NativeCalls;
use super::value::Value;

impl Machine {
    pub(super) fn dispatch(
        &mut self,
        natives: &mut impl NativeCalls,
        mut fuel: u64,
    ) -> Result<Status, VmError> {
        let program = Arc::clone(&self.program);
        let code: *const Op = program.code.ops.as_ptr();
        let mut bottom: *mut HsValue = self.stack.as_mut_ptr();
        let capacity = self.stack.len();
        let mut ctx: *mut CallCtx = &raw mut self.ctx;
        // The next instruction, the top of the stack (one past the last
        // value) and the current frame's first local, as pointers: the loop
        // below works on them alone.
        let mut ip: *const Op = code.wrapping_add(self.pc as usize);
        let mut sp: *mut HsValue = bottom.wrapping_add(self.sp);
        let mut bp: *mut HsValue =
            bottom.wrapping_add(self.frames.last().map_or(0, |f| f.base as usize));

        if self.status == Status::Ready {
            let need = self.sp + program.funcs[0].max_depth as usize;
            if need > capacity {
                return Err(self.fault(self.pc, Fault::StackOverflow { capacity }));
            }
        }

        // Every access below relies on the verifier's guarantees for the
        // program: `ip` stays within the code of the current function, each
        // instruction finds on the stack the number and the types of values
        // it reads (so `sp` never goes below the frame), locals are in range
        // with fixed types, and `CALL` checks the capacity for the callee's
        // locals and deepest stack, so `sp` never passes the stack's end.
        macro_rules! get {
            ($p:expr, $field:ident) => {
                // SAFETY: the slot is below `sp` and holds a value of the
                // field's type, per the verifier's guarantees above.
                unsafe { (*$p).$field }
            };
        }
        macro_rules! set {
            ($p:expr, $field:ident, $v:expr) => {{
                let v = $v;
                // SAFETY: the slot is inside the stack, per the verifier's
                // guarantees above; writing a union field is always valid.
                unsafe { (*$p).$field = v }
            }};
        }
        macro_rules! read {
            ($p:expr) => {
                // SAFETY: the slot is below `sp`, per the verifier's
                // guarantees above; all of it was initialized.
                unsafe { *$p }
            };
        }
        macro_rules! write {
            ($p:expr, $v:expr) => {{
                let v = $v;
                // SAFETY: the slot is inside the stack, per the verifier's
                // guarantees above.
                unsafe { *$p = v }
            }};
        }
        macro_rules! top {
            ($n:expr) => {
                sp.wrapping_sub($n)
            };
        }
        macro_rules! binary {
            ($field:ident, |$a:ident, $b:ident| $e:expr) => {{
                sp = top!(1);
                let ($a, $b) = (get!(top!(1), $field), get!(sp, $field));
                set!(top!(1), $field, $e);
            }};
            ($field:ident => $out:ident, |$a:ident, $b:ident| $e:expr) => {{
                sp = top!(1);
                let ($a, $b) = (get!(top!(1), $field), get!(sp, $field));
                set!(top!(1), $out, $e);
            }};
        }
        macro_rules! str_cmp {
            (|$a:ident, $b:ident| $e:expr) => {{
                sp = top!(1);
                let (x, y) = (get!(top!(1), str), get!(sp, str));
                // SAFETY: both are verified strings: views of valid UTF-8
                // that the heap or the program keeps alive.
                let ($a, $b) = unsafe { (x.as_bytes(), y.as_bytes()) };
                set!(top!(1), boolean, $e);
            }};
        }
        macro_rules! push {
            ($v:expr) => {{
                write!(sp, $v);
                sp = sp.wrapping_add(1);
            }};
        }
        macro_rules! push_as {
            ($field:ident, $v:expr) => {{
                set!(sp, $field, $v);
                sp = sp.wrapping_add(1);
            }};
        }
        macro_rules! pc {
            () => {
                ((ip as usize - code as usize) / size_of::<Op>()) as u32
            };
        }
        macro_rules! index {
            ($p:expr) => {
                ($p as usize - bottom as usize) / size_of::<HsValue>()
            };
        }
        macro_rules! save {
            () => {{
                self.pc = pc!();
                self.sp = index!(sp);
            }};
        }
        macro_rules! trap {
            ($fault:expr) => {{
                save!();
                return Err(self.fault(pc!() - 1, $fault));
            }};
        }
        macro_rules! check_div {
            ($field:ident, $min:expr) => {{
                let (a, b) = (get!(top!(2), $field), get!(top!(1), $field));
                if b == 0 {
                    trap!(Fault::DivideByZero);
                }
                if a == $min && b == -1 {
                    trap!(Fault::Overflow);
                }
            }};
        }
        macro_rules! jump {
            ($t:expr) => {{
                let target = code.wrapping_add($t as usize);
                // Fuel is spent on backward jumps only, the ones that loop.
                if target < ip {
                    fuel -= 1;
                    if fuel == 0 {
                        ip = target;
                        save!();
                        return Ok(Status::Paused);
                    }
                }
                ip = target;
            }};
        }

        // `LOAD a; LOAD b` fused: both pushed, the second op stepped over.
        macro_rules! load2 {
            ($field:ident, $a:expr, $b:expr) => {{
                set!(sp, $field, get!(bp.wrapping_add($a as usize), $field));
                let second = get!(bp.wrapping_add($b as usize), $field);
                set!(sp.wrapping_add(1), $field, second);
                sp = sp.wrapping_add(2);
                ip = ip.wrapping_add(1);
            }};
        }
        // `STORE n; LOAD n` fused: the top stored in local `n` and kept.
        macro_rules! tee {
            ($field:ident, $n:expr) => {{
                set!(bp.wrapping_add($n as usize), $field, get!(top!(1), $field));
                ip = ip.wrapping_add(1);
            }};
        }
        // A comparison fused with the jump on its result: pops both values,
        // steps over the jump's own op, and jumps when the relation holds.
        macro_rules! branch {
            ($field:ident, $t:expr, |$a:ident, $b:ident| $e:expr) => {{
                let ($a, $b) = (get!(top!(2), $field), get!(top!(1), $field));
                sp = top!(2);
                ip = ip.wrapping_add(1);
                if $e {
                    jump!($t);
                }
            }};
        }

        loop {
            // SAFETY: `ip` points into the function's verified code.
            // The op is read where used, field by field: copying it whole
            // here would hold every field in a register through each arm.
            let op = unsafe { &*ip };
            ip = ip.wrapping_add(1);
            match op {
                Op::Nop => {}
                &Op::PushI32(v) => push_as!(i32, v),
                &Op::PushI64(v) => push_as!(i64, v),
                &Op::PushF64(v) => push_as!(f64, v),
                &Op::PushBool(v) => push_as!(boolean, v),
                &Op::PushStr(i) => {
                    // SAFETY: the verifier only emits indices into `str_views`.
                    let s = unsafe { program.code.str_views.get_unchecked(i as usize) };
                    push!(HsValue { str: s.0 });
                }
                Op::Pop => sp = top!(1),
                Op::Dup1 => push_as!(boolean, get!(top!(1), boolean)),
                Op::Dup4 => push_as!(i32, get!(top!(1), i32)),
                Op::Dup8 => push_as!(i64, get!(top!(1), i64)),
                Op::Dup16 => push!(read!(top!(1))),
                Op::Swap => {
                    let (a, b) = (read!(top!(2)), read!(top!(1)));
                    write!(top!(2), b);
                    write!(top!(1), a);
                }
                Op::AddI32 => binary!(i32, |a, b| a.wrapping_add(b)),
                Op::AddI64 => binary!(i64, |a, b| a.wrapping_add(b)),
                Op::AddF64 => binary!(f64, |a, b| a + b),
                Op::SubI32 => binary!(i32, |a, b| a.wrapping_sub(b)),
                Op::SubI64 => binary!(i64, |a, b| a.wrapping_sub(b)),
                Op::SubF64 => binary!(f64, |a, b| a - b),
                Op::MulI32 => binary!(i32, |a, b| a.wrapping_mul(b)),
                Op::MulI64 => binary!(i64, |a, b| a.wrapping_mul(b)),
                Op::MulF64 => binary!(f64, |a, b| a * b),
                Op::DivI32 => {
                    check_div!(i32, i32::MIN);
                    binary!(i32, |a, b| a / b);
                }
                Op::DivI64 => {
                    check_div!(i64, i64::MIN);
                    binary!(i64, |a, b| a / b);
                }
                Op::DivF64 => binary!(f64, |a, b| a / b),
                Op::ModI32 => {
                    check_div!(i32, i32::MIN);
                    binary!(i32, |a, b| a % b);
                }
                Op::ModI64 => {
                    check_div!(i64, i64::MIN);
                    binary!(i64, |a, b| a % b);
                }
                Op::ModF64 => binary!(f64, |a, b| a % b),
                Op::NegI32 => set!(top!(1), i32, get!(top!(1), i32).wrapping_neg()),
                Op::NegI64 => set!(top!(1), i64, get!(top!(1), i64).wrapping_neg()),
                Op::NegF64 => set!(top!(1), f64, -get!(top!(1), f64)),
                // The VM only ever stores a bool as 0 or 1.
                Op::Not => set!(top!(1), boolean, !get!(top!(1), boolean)),
                Op::EqI32 => binary!(i32 => boolean, |a, b| a == b),
                Op::EqI64 => binary!(i64 => boolean, |a, b| a == b),
                Op::EqF64 => binary!(f64 => boolean, |a, b| a == b),
                Op::EqBool => binary!(boolean => boolean, |a, b| a == b),
                Op::EqStr => str_cmp!(|a, b| a == b),
                Op::NeI32 => binary!(i32 => boolean, |a, b| a != b),
                Op::NeI64 => binary!(i64 => boolean, |a, b| a != b),
                Op::NeF64 => binary!(f64 => boolean, |a, b| a != b),
                Op::NeBool => binary!(boolean => boolean, |a, b| a != b),
                Op::NeStr => str_cmp!(|a, b| a != b),
                Op::LtI32 => binary!(i32 => boolean, |a, b| a < b),
                Op::LtI64 => binary!(i64 => boolean, |a, b| a < b),
                Op::LtF64 => binary!(f64 => boolean, |a, b| a < b),
                Op::LtStr => str_cmp!(|a, b| a < b),
                Op::LeI32 => binary!(i32 => boolean, |a, b| a <= b),
                Op::LeI64 => binary!(i64 => boolean, |a, b| a <= b),
                Op::LeF64 => binary!(f64 => boolean, |a, b| a <= b),
                Op::LeStr => str_cmp!(|a, b| a <= b),
                Op::GtI32 => binary!(i32 => boolean, |a, b| a > b),
                Op::GtI64 => binary!(i64 => boolean, |a, b| a > b),
                Op::GtF64 => binary!(f64 => boolean, |a, b| a > b),
                Op::GtStr => str_cmp!(|a, b| a > b),
                Op::GeI32 => binary!(i32 => boolean, |a, b| a >= b),
                Op::GeI64 => binary!(i64 => boolean, |a, b| a >= b),
                Op::GeF64 => binary!(f64 => boolean, |a, b| a >= b),
                Op::GeStr => str_cmp!(|a, b| a >= b),
                &Op::Load1(n) => push_as!(boolean, get!(bp.wrapping_add(n as usize), boolean)),
                &Op::Load4(n) => push_as!(i32, get!(bp.wrapping_add(n as usize), i32)),
                &Op::Load8(n) => push_as!(i64, get!(bp.wrapping_add(n as usize), i64)),
                &Op::Load16(n) => push!(read!(bp.wrapping_add(n as usize))),
                &Op::Store1(n) => {
                    sp = top!(1);
                    set!(bp.wrapping_add(n as usize), boolean, get!(sp, boolean));
                }
                &Op::Store4(n) => {
                    sp = top!(1);
                    set!(bp.wrapping_add(n as usize), i32, get!(sp, i32));
                }
                &Op::Store8(n) => {
                    sp = top!(1);
                    set!(bp.wrapping_add(n as usize), i64, get!(sp, i64));
                }
                &Op::Store16(n) => {
                    sp = top!(1);
                    write!(bp.wrapping_add(n as usize), read!(sp));
                }
                &Op::Push2I32(a, b) => {
                    set!(sp, i32, a);
                    set!(sp.wrapping_add(1), i32, b);
                    sp = sp.wrapping_add(2);
                    ip = ip.wrapping_add(1);
                }
                &Op::AddImmI32(k) => {
                    set!(top!(1), i32, get!(top!(1), i32).wrapping_add(k));
                    ip = ip.wrapping_add(1);
                }
                &Op::SubImmI32(k) => {
                    set!(top!(1), i32, get!(top!(1), i32).wrapping_sub(k));
                    ip = ip.wrapping_add(1);
                }
                &Op::AddImmI64(k) => {
                    set!(top!(1), i64, get!(top!(1), i64).wrapping_add(k));
                    ip = ip.wrapping_add(1);
                }
                &Op::SubImmI64(k) => {
                    set!(top!(1), i64, get!(top!(1), i64).wrapping_sub(k));
                    ip = ip.wrapping_add(1);
                }
                &Op::JnzKeepI32(t) => {
                    ip = ip.wrapping_add(1);
                    if get!(top!(1), i32) != 0 {
                        jump!(t);
                    }
                }
                &Op::JzKeepI32(t) => {
                    ip = ip.wrapping_add(1);
                    if get!(top!(1), i32) == 0 {
                        jump!(t);
                    }
                }
                &Op::Load2x4(a, b) => load2!(i32, a, b),
                &Op::Load2x8(a, b) => load2!(i64, a, b),
                &Op::Tee4(n) => tee!(i32, n),
                &Op::Tee8(n) => tee!(i64, n),
                &Op::BrEqI32(t) => branch!(i32, t, |a, b| a == b),
                &Op::BrNeI32(t) => branch!(i32, t, |a, b| a != b),
                &Op::BrLtI32(t) => branch!(i32, t, |a, b| a < b),
                &Op::BrLeI32(t) => branch!(i32, t, |a, b| a <= b),
                &Op::BrGtI32(t) => branch!(i32, t, |a, b| a > b),
                &Op::BrGeI32(t) => branch!(i32, t, |a, b| a >= b),
                &Op::BrEqI64(t) => branch!(i64, t, |a, b| a == b),
                &Op::BrNeI64(t) => branch!(i64, t, |a, b| a != b),
                &Op::BrLtI64(t) => branch!(i64, t, |a, b| a < b),
                &Op::BrLeI64(t) => branch!(i64, t, |a, b| a <= b),
                &Op::BrGtI64(t) => branch!(i64, t, |a, b| a > b),
                &Op::BrGeI64(t) => branch!(i64, t, |a, b| a >= b),
                &Op::Jmp(t) => jump!(t),
                &Op::JzI32(t) => {
                    sp = top!(1);
                    if get!(sp, i32) == 0 {
                        jump!(t);
                    }
                }
                &Op::JnzI32(t) => {
                    sp = top!(1);
                    if get!(sp, i32) != 0 {
                        jump!(t);
                    }
                }
                &Op::JzBool(t) => {
                    sp = top!(1);
                    if !get!(sp, boolean) {
                        jump!(t);
                    }
                }
                &Op::JnzBool(t) => {
                    sp = top!(1);
                    if get!(sp, boolean) {
                        jump!(t);
                    }
                }
                &Op::Call(f) => {
                    if self.frames.len() >= self.options.max_call_depth {
                        trap!(Fault::CallDepth {
                            max: self.options.max_call_depth
                        });
                    }
                    let callee = &program.funcs[f as usize];
                    let new_bp = top!(callee.nparams as usize);
                    let nlocals = callee.local_types.len();
                    if index!(new_bp) + nlocals + callee.max_depth as usize > capacity {
                        trap!(Fault::StackOverflow { capacity });
                    }
                    let locals_end = new_bp.wrapping_add(nlocals);
                    while sp < locals_end {
                        write!(sp, HsValue::ZERO);
                        sp = sp.wrapping_add(1);
                    }
                    self.frames.push(Frame {
                        func: f,
                        ret_pc: pc!(),
                        base: index!(new_bp) as u32,
                    });
                    sp = locals_end;
                    bp = new_bp;
                    ip = code.wrapping_add(callee.start as usize);
                    fuel -= 1;
                    if fuel == 0 {
                        save!();
                        return Ok(Status::Paused);
                    }
                }
                Op::Ret => {
                    if self.frames.len() == 1 {
                        save!();
                        return Ok(Status::Halted);
                    }
                    let frame = self.frames.pop().expect("a frame per call");
                    if program.program.functions[frame.func as usize].ret.is_some() {
                        write!(bp, read!(top!(1)));
                        sp = bp.wrapping_add(1);
                    } else {
                        sp = bp;
                    }
                    ip = code.wrapping_add(frame.ret_pc as usize);
                    bp = bottom.wrapping_add(self.frames.last().map_or(0, |f| f.base as usize));
                }
                &Op::CallNative { slot, nargs, ret } | &Op::CallNativeDrop { slot, nargs, ret } => {
                    let mut out = HsValue::ZERO;
                    sp = top!(nargs as usize);
                    // SAFETY: the verifier checked the `nargs` values at `sp`
                    // have the import's parameter types, and `link` checked
                    // the natives serve this slot with that signature; `ctx`
                    // points to this VM's context, clean between calls.
                    let status = unsafe {
                        natives.call(slot, CallCtx::as_abi(ctx), sp, nargs as usize, &mut out)
                    };
                    // SAFETY: the call has returned; nothing else holds `ctx`.
                    let touched = unsafe { (*ctx).touched };
                    // Pushes the scalar result, read at its own width, as
                    // the plugin wrote it.
                    macro_rules! push_result {
                        () => {
                            match ret {
                                RetKind::I32 => {
                                    // SAFETY: an OK call wrote a value of
                                    // the import's result type to `out`.
                                    let v = unsafe { out.i32 };
                                    push_as!(i32, v);
                                }
                                RetKind::Wide => {
                                    // SAFETY: as above; `i64` carries an
                                    // `f64`'s bits as well.
                                    let v = unsafe { out.i64 };
                                    push_as!(i64, v);
                                }
                                RetKind::Bool => {
                                    // SAFETY: `out` was zeroed before the
                                    // call; its first byte is what the plugin
                                    // wrote, read as a byte so that any
                                    // value is defined.
                                    let b = unsafe { *(&raw const out).cast::<u8>() } != 0;
                                    push_as!(boolean, b);
                                }
                                RetKind::Void | RetKind::Str => {}
                            }
                        };
                    }
                    if status == HsStatus::OK && !touched && ret != RetKind::Str {
                        // The common case: a scalar result, the context
                        // untouched.
                        push_result!();
                    } else {
                        // SAFETY: as above.
                        let c = unsafe { &mut *ctx };
                        match finish_call(c, slot, ret, status, || {
                            (
                                natives.failed_function(slot),
                                natives.isolated_failure(slot),
                            )
                        }) {
                            Ok(Some(s)) => {
                                push_as!(str, s);
                                if c.heap.wants_collection() {
                                    save!();
                                    self.collect();
                                    // The collection rewrote string slots
                                    // through the stack itself: the pointers
                                    // into it are taken anew.
                                    bottom = self.stack.as_mut_ptr();
                                    sp = bottom.wrapping_add(self.sp);
                                    bp = bottom.wrapping_add(
                                        self.frames.last().map_or(0, |f| f.base as usize),
                                    );
                                    ctx = &raw mut self.ctx;
                                }
                            }
                            Ok(None) => push_result!(),
                            Err(fault) => trap!(fault),
                        }
                    }
                    if matches!(op, Op::CallNativeDrop { .. }) {
                        sp = top!(usize::from(ret != RetKind::Void));
                        ip = ip.wrapping_add(1);
                    }
                }
                &Op::Print(t) => {
                    sp = top!(1);
                    let raw = read!(sp);
                    // SAFETY: the verifier gave the value this type; a string
                    // view points into the heap or the program's constants.
                    let v = unsafe { Value::from_raw(&raw, t) };
                    if let Err(e) = writeln!(self.out, "Result: {v}") {
                        trap!(Fault::Output(e));
                    }
                }
                Op::Halt => {
                    save!();
                    return Ok(Status::Halted);
                }
                Op::Unreachable => trap!(Fault::Unreachable),
            }
        }
    }
}

/// Everything but the common case of a native call: a failure, a string
/// result, or a plugin that used the context's callbacks. Leaves the context
/// clean for the next call.
#[cold]
#[inline(never)]
pub(super) fn finish_call(
    c: &mut CallCtx,
    slot: u32,
    ret: RetKind,
    status: HsStatus,
    failed: impl FnOnce() -> (Option<String>, Option<crate::failure::IsolatedFailure>),
) -> Result<Option<hotslot_plugin_api::HsStr>, Fault> {
    let outcome = if status == HsStatus::OK {
        match (c.fault, ret) {
            (Some(f), _) => Err(Fault::BadCallback {
                slot,
                problem: f.to_string(),
            }),
            // A match, not `ok_or`: the fault is built only when it is one.
            (None, RetKind::Str) => match c.result {
                Some(s) => Ok(Some(s)),
                None => Err(Fault::NoStringResult { slot }),
            },
            // A scalar function that also passed a string or a message:
            // its result stands, the rest is dropped.
            (None, _) => Ok(None),
        }
    } else {
        let (function, isolated) = failed();
        Err(match (function, status) {
            (None, _) => Fault::Unbound { slot },
            (Some(function), _) if let Some(failure) = isolated => Fault::Isolated {
                slot,
                function,
                failure,
            },
            (Some(function), HsStatus::ERROR) => Fault::Native {
                slot,
                function,
                message: c.take_error(),
            },
            (Some(function), HsStatus::PANIC) => Fault::Panic {
                slot,
                function,
                message: c.take_error(),
            },
            (Some(function), HsStatus(status)) => Fault::BadStatus {
                slot,
                function,
                status,
            },
        })
    };
    c.end_call();
    outcome
}
