//! The two engines on one program: the interpreter (the reference) and
//! compiled code must agree on everything a run shows: its status or its
//! fault (kind, pc and instruction), what it printed, and where it stands
//! (every frame's locals and operands) when it halts or pauses.

use std::io::Write;
use std::sync::{Arc, Mutex};

use hotslot_plugin_api::{HsCallCtx, HsStatus, HsStr, HsValue};

use crate::types::{Signature, ValType};
use crate::vm::{
    JitOptions, StaticNatives, Status, VerifiedProgram, Vm, VmOptions, VmState, assemble, verify,
};

/// The imports of every program the differential test runs, served by
/// natives written here.
pub const DIFFERENTIAL_IMPORTS: &str = "\
.import 0 add (i32, i32) -> i32
.import 1 concat (str, str) -> str
.import 2 odd_fails (i32) -> i32
.import 3 byte_flag (i64) -> bool
.import 4 halve (f64) -> f64
.import 5 digits (i64) -> str
";

unsafe extern "C" fn add(
    _: *mut HsCallCtx,
    args: *const HsValue,
    _: usize,
    ret: *mut HsValue,
) -> HsStatus {
    // SAFETY: the VM passes two `i32` arguments and a writable result.
    unsafe { (*ret).i32 = (*args).i32.wrapping_add((*args.add(1)).i32) };
    HsStatus::OK
}

unsafe extern "C" fn concat(
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    // SAFETY: the VM passes two string views valid for the call, and its
    // context.
    unsafe {
        let (a, b) = ((*args).str.as_bytes(), (*args.add(1)).str.as_bytes());
        let joined = [a, b].concat();
        let s = std::str::from_utf8(&joined).expect("two strings of UTF-8");
        ((*ctx).return_str)(ctx, HsStr::from_str(s));
    }
    HsStatus::OK
}

unsafe extern "C" fn odd_fails(
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    _: usize,
    ret: *mut HsValue,
) -> HsStatus {
    // SAFETY: one `i32` argument, a writable result, the VM's context.
    unsafe {
        let x = (*args).i32;
        if x % 2 != 0 {
            ((*ctx).set_error)(ctx, HsStr::from_str("odd"));
            return HsStatus::ERROR;
        }
        (*ret).i32 = x / 2;
    }
    HsStatus::OK
}

unsafe extern "C" fn byte_flag(
    _: *mut HsCallCtx,
    args: *const HsValue,
    _: usize,
    ret: *mut HsValue,
) -> HsStatus {
    // SAFETY: one `i64` argument; the result written as a byte other than
    // 0 or 1, which the VM must read as `true`.
    unsafe {
        let byte = ((*args).i64 & 0xff) as u8;
        ret.cast::<u8>().write(byte);
    }
    HsStatus::OK
}

unsafe extern "C" fn halve(
    _: *mut HsCallCtx,
    args: *const HsValue,
    _: usize,
    ret: *mut HsValue,
) -> HsStatus {
    // SAFETY: one `f64` argument and a writable result.
    unsafe { (*ret).f64 = (*args).f64 / 2.0 };
    HsStatus::OK
}

unsafe extern "C" fn digits(
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    // SAFETY: one `i64` argument and the VM's context.
    unsafe {
        let s = (*args).i64.to_string();
        ((*ctx).return_str)(ctx, HsStr::from_str(&s));
    }
    HsStatus::OK
}

fn natives() -> StaticNatives {
    use ValType::*;
    let mut n = StaticNatives::new();
    // SAFETY: each entry follows the ABI for the signature given.
    unsafe {
        n.insert(0, "add", Signature::new([I32, I32], Some(I32)), add);
        n.insert(1, "concat", Signature::new([Str, Str], Some(Str)), concat);
        n.insert(2, "odd_fails", Signature::new([I32], Some(I32)), odd_fails);
        n.insert(3, "byte_flag", Signature::new([I64], Some(Bool)), byte_flag);
        n.insert(4, "halve", Signature::new([F64], Some(F64)), halve);
        n.insert(5, "digits", Signature::new([I64], Some(Str)), digits);
    }
    n
}

/// `PRINT` output, shared with the caller.
#[derive(Clone, Default)]
struct Out(Arc<Mutex<Vec<u8>>>);

impl Write for Out {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a run showed.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    /// Its status, or its fault as the error reads.
    pub result: Result<Status, String>,
    /// What it printed.
    pub printed: String,
    /// Where it stood (`None` once faulted).
    pub state: Option<VmState>,
    /// Whether compiled code ran it.
    pub compiled: bool,
}

/// Runs `program` with `fuel` on one engine (compiled or not), with small
/// limits (64 calls deep, 4096 values) so that faults of depth and
/// capacity come quickly; then, if it paused, runs it on to the end (or
/// `fuel` more), as the interpreter resumes any paused run.
pub fn run_engine(program: &Arc<VerifiedProgram>, compiled: bool, fuel: u64) -> Vec<Outcome> {
    let options = VmOptions {
        stack_capacity: 4096,
        max_call_depth: 64,
        gc_threshold: 64,
        jit: JitOptions { enabled: compiled },
    };
    let mut vm = Vm::with_options(Arc::clone(program), natives(), options).expect("links");
    let out = Out::default();
    vm.set_output(out.clone());
    let used_compiled = vm.engine().is_ok();
    let mut outcomes = Vec::new();
    for round in 0..2 {
        let result = vm.resume(Some(fuel)).map_err(|e| e.to_string());
        let paused = result == Ok(Status::Paused);
        let printed = std::mem::take(&mut *out.0.lock().unwrap());
        outcomes.push(Outcome {
            result,
            printed: String::from_utf8(printed).expect("output is text"),
            state: vm.state(),
            compiled: used_compiled && round == 0,
        });
        if !paused {
            break;
        }
    }
    outcomes
}

/// Runs the program `text` on both engines with `fuel`: `Ok` when they
/// agree (or the program does not assemble and verify: `Ok(false)`),
/// `Err` with both outcomes when they differ.
pub fn compare_engines(text: &str, fuel: u64) -> Result<bool, String> {
    let Ok(program) = assemble(text) else {
        return Ok(false);
    };
    let Ok(program) = verify(program) else {
        return Ok(false);
    };
    let program = Arc::new(program);
    let interpreted = run_engine(&program, false, fuel);
    let compiled = run_engine(&program, true, fuel);
    if cfg!(feature = "jit") && !compiled[0].compiled {
        return Err(format!(
            "the compiled engine did not compile
{text}
: {:?}",
            program.compile()
        ));
    }
    let strip = |o: &[Outcome]| -> Vec<(Result<Status, String>, String, Option<VmState>)> {
        o.iter()
            .map(|o| (o.result.clone(), o.printed.clone(), o.state.clone()))
            .collect()
    };
    if strip(&interpreted) != strip(&compiled) {
        return Err(format!(
            "the engines differ on\n{text}\ninterpreted: {interpreted:#?}\ncompiled: {compiled:#?}"
        ));
    }
    Ok(true)
}
