//! Programs with known outputs and faults, run on natives written in Rust
//! (no library is loaded, so these run under Miri too).

use std::io::Write;
use std::sync::{Arc, Mutex};

use hotslot_plugin_api::{HsCallCtx, HsStatus, HsStr, HsValue};

use super::error::Fault;
use super::*;
use crate::types::{Signature, ValType};
use crate::vm::JitOptions;

/// `PRINT` output, shared with the test.
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

impl Out {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

unsafe extern "C" fn add(
    _: *mut HsCallCtx,
    args: *const HsValue,
    _: usize,
    ret: *mut HsValue,
) -> HsStatus {
    // SAFETY: the VM passes two i32 arguments and a writable result.
    unsafe {
        (*ret).i32 = (*args).i32.wrapping_add((*args.add(1)).i32);
    }
    HsStatus::OK
}

unsafe extern "C" fn concat(
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    // SAFETY: the VM passes two valid UTF-8 string views and its context.
    unsafe {
        let a = std::str::from_utf8_unchecked((*args).str.as_bytes());
        let b = std::str::from_utf8_unchecked((*args.add(1)).str.as_bytes());
        let s = format!("{a}{b}");
        ((*ctx).return_str)(ctx, HsStr::from_str(&s));
    }
    HsStatus::OK
}

unsafe extern "C" fn fail(
    ctx: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    // SAFETY: the VM passes its context.
    unsafe { ((*ctx).set_error)(ctx, HsStr::from_str("no good")) };
    HsStatus::ERROR
}

unsafe extern "C" fn panicked(
    ctx: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    // SAFETY: the VM passes its context.
    unsafe { ((*ctx).set_error)(ctx, HsStr::from_str("attempt to divide by zero")) };
    HsStatus::PANIC
}

unsafe extern "C" fn odd_status(
    _: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    HsStatus(7)
}

unsafe extern "C" fn two_as_bool(
    _: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    ret: *mut HsValue,
) -> HsStatus {
    // SAFETY: `ret` is writable; a plugin may write any byte for a bool.
    unsafe { ret.cast::<u8>().write(2) };
    HsStatus::OK
}

unsafe extern "C" fn bad_utf8(
    ctx: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    static BYTES: [u8; 2] = [0xc3, 0x28];
    // SAFETY: the VM passes its context; the view is valid.
    unsafe {
        ((*ctx).return_str)(
            ctx,
            HsStr {
                ptr: BYTES.as_ptr(),
                len: 2,
            },
        )
    };
    HsStatus::OK
}

/// A 4-byte buffer passed as 2^40 bytes: the host must not read it.
static FOUR: [u8; 4] = *b"abcd";
const HUGE: usize = 1 << 40;

unsafe extern "C" fn huge_str(
    ctx: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    // SAFETY: the VM passes its context; the view is a broken plugin's lie,
    // which the host must refuse without reading.
    unsafe {
        ((*ctx).return_str)(
            ctx,
            HsStr {
                ptr: FOUR.as_ptr(),
                len: HUGE,
            },
        )
    };
    HsStatus::OK
}

unsafe extern "C" fn huge_error(
    ctx: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    // SAFETY: as for `huge_str`.
    unsafe {
        ((*ctx).set_error)(
            ctx,
            HsStr {
                ptr: FOUR.as_ptr(),
                len: HUGE,
            },
        )
    };
    HsStatus::ERROR
}

unsafe extern "C" fn no_string(
    _: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    HsStatus::OK
}

fn natives() -> StaticNatives {
    let mut n = StaticNatives::new();
    let i32x2 = Signature::new([ValType::I32, ValType::I32], Some(ValType::I32));
    let strx2 = Signature::new([ValType::Str, ValType::Str], Some(ValType::Str));
    let none = Signature::new([], Some(ValType::I32));
    // SAFETY: each entry follows the ABI for the signature given.
    unsafe {
        n.insert(0, "add", i32x2, add);
        n.insert(1, "concat", strx2, concat);
        n.insert(2, "fail", none.clone(), fail);
        n.insert(3, "panicked", none.clone(), panicked);
        n.insert(4, "odd_status", none, odd_status);
        n.insert(
            5,
            "two_as_bool",
            Signature::new([], Some(ValType::Bool)),
            two_as_bool,
        );
        n.insert(
            6,
            "bad_utf8",
            Signature::new([], Some(ValType::Str)),
            bad_utf8,
        );
        n.insert(
            7,
            "no_string",
            Signature::new([], Some(ValType::Str)),
            no_string,
        );
        n.insert(
            8,
            "huge_str",
            Signature::new([], Some(ValType::Str)),
            huge_str,
        );
        n.insert(
            9,
            "huge_error",
            Signature::new([], Some(ValType::I32)),
            huge_error,
        );
    }
    n
}

const IMPORTS: &str = "
.import 0 add (i32, i32) -> i32
.import 1 concat (str, str) -> str
.import 2 fail () -> i32
.import 3 panicked () -> i32
.import 4 odd_status () -> i32
.import 5 two_as_bool () -> bool
.import 6 bad_utf8 () -> str
.import 7 no_string () -> str
.import 8 huge_str () -> str
.import 9 huge_error () -> i32
";

std::thread_local! {
    /// Whether this test thread's VMs run compiled (each test runs once
    /// per engine: see the end of the file).
    static COMPILED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `options` with this test's engine.
fn engine(options: VmOptions) -> VmOptions {
    VmOptions {
        jit: JitOptions {
            enabled: COMPILED.get(),
        },
        ..options
    }
}

fn vm_with(src: &str, options: VmOptions) -> (Vm<StaticNatives>, Out) {
    let program =
        verify(assemble(&format!("{IMPORTS}\n{src}")).expect("assembles")).expect("verifies");
    let mut vm = Vm::with_options(Arc::new(program), natives(), engine(options)).expect("links");
    // A test of the compiled engine that ran the interpreter would prove
    // nothing: it must have compiled.
    if COMPILED.get() {
        vm.engine().expect("the program compiles");
    }
    let out = Out::default();
    vm.set_output(out.clone());
    (vm, out)
}

fn small() -> VmOptions {
    VmOptions {
        stack_capacity: 256,
        max_call_depth: 32,
        gc_threshold: 256,
        ..VmOptions::default()
    }
}

fn run(src: &str) -> Result<String, super::error::VmError> {
    let (mut vm, out) = vm_with(src, small());
    vm.run().map(|()| out.text())
}

fn the_math_program_prints_15() {
    assert_eq!(
        run("PUSH 10\nPUSH 5\nCALL_NATIVE 0\nPRINT\nHALT").unwrap(),
        "Result: 15\n"
    );
}

fn a_loop_with_locals() {
    let src = "
        .local n i32
        .local sum i64
            PUSH 10
            STORE n
        top:
            LOAD sum
            LOAD n
            JZ done
            PUSH i64 0
            ADD
            STORE sum
            ; sum += n, as i64 by repeated increments
            LOAD n
        inc:
            DUP
            JZ next
            LOAD sum
            PUSH i64 1
            ADD
            STORE sum
            PUSH 1
            SUB
            JMP inc
        next:
            POP
            LOAD n
            PUSH 1
            SUB
            STORE n
            JMP top
        done:
            PRINT
            HALT
    ";
    assert_eq!(run(src).unwrap(), "Result: 55\n");
}

/// A default VM reserves its whole stack (64 Ki values, 1 MiB) and keeps
/// resident only what runs have used: here, after a recursion 200 calls
/// deep (a few thousand values), tens of KiB, not the MiB.
#[cfg(all(target_os = "linux", not(miri)))]
fn a_vm_keeps_resident_only_the_stack_it_used() {
    let (mut vm, out) = vm_with(
        "
            PUSH 200
            CALL depth
            PRINT
            HALT
        .func depth (n: i32) -> i32
        .local a i64
        .local b i64
            LOAD n
            JZ bottom
            LOAD n
            PUSH 1
            SUB
            CALL depth
            RET
        bottom:
            PUSH 0
            RET
        .end
        ",
        engine(VmOptions::default()),
    );
    assert_eq!(vm.stack_residency(), (0, 64 * 1024), "nothing touched yet");
    vm.run().unwrap();
    assert_eq!(out.text(), "Result: 0\n");
    let (resident, _) = vm.stack_residency();
    // 200 frames of 3 locals and a few operands: under 16 KiB of values.
    assert!(
        resident > 0 && resident <= 20 * 1024,
        "{resident} bytes resident"
    );
}

fn bytecode_functions_recurse() {
    let src = "
            PUSH i64 10
            CALL fact
            PRINT
            HALT
        .func fact (n: i64) -> i64
            LOAD n
            PUSH i64 1
            LE
            JZ more
            PUSH i64 1
            RET
        more:
            LOAD n
            LOAD n
            PUSH i64 1
            SUB
            CALL fact
            MUL
            RET
        .end
    ";
    assert_eq!(run(src).unwrap(), "Result: 3628800\n");
}

fn every_type_prints() {
    let src = r#"
        PUSH 2.5
        PRINT
        PUSH true
        PUSH false
        NE
        PRINT
        PUSH "a"
        PUSH "b"
        LT
        PRINT
        PUSH i64 -7
        PUSH i64 2
        MOD
        PRINT
        PUSH 7
        NEG
        PRINT
        PUSH "text"
        PRINT
        HALT
    "#;
    assert_eq!(
        run(src).unwrap(),
        "Result: 2.5\nResult: true\nResult: true\nResult: -1\nResult: -7\nResult: text\n"
    );
}

fn native_strings_are_copied_and_collected() {
    let src = r#"
        .local s str
        .local n i32
            PUSH 200
            STORE n
        top:
            LOAD s
            PUSH "x"
            CALL_NATIVE 1
            STORE s
            PUSH "garbage"
            PUSH "!"
            CALL_NATIVE 1
            POP
            LOAD n
            PUSH 1
            SUB
            DUP
            STORE n
            JNZ top
            LOAD s
            PRINT
            HALT
    "#;
    let (mut vm, out) = vm_with(src, small());
    vm.run().unwrap();
    assert_eq!(out.text(), format!("Result: {}\n", "x".repeat(200)));
    // 400 strings were returned; collection kept the heap far smaller.
    assert!(
        vm.heap_strings() < 100,
        "{} strings held",
        vm.heap_strings()
    );
}

fn faults_name_pc_and_instruction() {
    let e = run("PUSH 1\nPUSH 0\nDIV\nHALT").unwrap_err();
    assert!(matches!(e.fault, Fault::DivideByZero), "{e}");
    assert_eq!(e.to_string(), "pc 2 (`DIV`): division by zero");

    let e = run("PUSH -2147483648\nPUSH -1\nMOD\nHALT").unwrap_err();
    assert!(matches!(e.fault, Fault::Overflow), "{e}");

    let e = run("CALL_NATIVE 2\nHALT").unwrap_err();
    assert!(
        matches!(e.fault, Fault::Native { ref message, .. } if message == "no good"),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "pc 0 (`CALL_NATIVE 2`): `fail` (slot 2) returned an error: no good"
    );

    let e = run("CALL_NATIVE 3\nHALT").unwrap_err();
    assert!(matches!(e.fault, Fault::Panic { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "pc 0 (`CALL_NATIVE 3`): plugin panicked in `panicked` (slot 3): attempt to divide by zero"
    );

    let e = run("CALL_NATIVE 4\nHALT").unwrap_err();
    assert!(matches!(e.fault, Fault::BadStatus { status: 7, .. }), "{e}");

    let e = run("CALL_NATIVE 6\nHALT").unwrap_err();
    assert!(matches!(e.fault, Fault::BadCallback { slot: 6, .. }), "{e}");

    let e = run("CALL_NATIVE 7\nHALT").unwrap_err();
    assert!(matches!(e.fault, Fault::NoStringResult { slot: 7 }), "{e}");

    // Lengths past the host's limits are refused before a byte is read.
    let e = run("CALL_NATIVE 8\nHALT").unwrap_err();
    assert_eq!(
        e.to_string(),
        "pc 0 (`CALL_NATIVE 8`): the function in slot 8 passed a view of 1099511627776 bytes (the host accepts at most 16777216) to the host"
    );
    let e = run("CALL_NATIVE 9\nHALT").unwrap_err();
    assert_eq!(
        e.to_string(),
        "pc 0 (`CALL_NATIVE 9`): `huge_error` (slot 9) returned an error: <the plugin passed a message of a view of 1099511627776 bytes (the host accepts at most 16777216)>"
    );

    let e = run("CALL f\nHALT\n.func f () -> void\nCALL f\nRET\n.end").unwrap_err();
    assert!(matches!(e.fault, Fault::CallDepth { max: 32 }), "{e}");
}

fn deep_stacks_overflow_cleanly() {
    // Each frame holds 20 locals: 32 nested calls need more than 256 values.
    let locals: String = (0..20).map(|i| format!(".local l{i} i64\n")).collect();
    let src = format!("CALL f\nHALT\n.func f () -> void\n{locals}CALL f\nRET\n.end");
    let e = run(&src).unwrap_err();
    assert!(
        matches!(e.fault, Fault::StackOverflow { capacity: 256 }),
        "{e}"
    );
}

fn a_returned_bool_is_normalized() {
    assert_eq!(
        run("CALL_NATIVE 5\nPUSH true\nEQ\nPRINT\nHALT").unwrap(),
        "Result: true\n"
    );
}

fn a_paused_run_resumes_to_the_same_result() {
    let src = "
        .local n i32
            PUSH 5
            STORE n
        top:
            LOAD n
            PRINT
            LOAD n
            PUSH 1
            SUB
            DUP
            STORE n
            JNZ top
            HALT
    ";
    let (mut vm, out) = vm_with(src, small());
    let mut pauses = 0;
    while vm.resume(Some(1)).unwrap() == Status::Paused {
        pauses += 1;
        // Paused at the loop head: the operand stack is empty, `n` counts down.
        let frames = vm.frames();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].operands, vec![]);
        assert_eq!(frames[0].locals, vec![Value::I32(5 - pauses)]);
    }
    assert_eq!(pauses, 4);
    assert_eq!(
        out.text(),
        "Result: 5\nResult: 4\nResult: 3\nResult: 2\nResult: 1\n"
    );
}

fn the_final_stack_is_visible() {
    let (mut vm, _) = vm_with("PUSH 1\nPUSH \"two\"\nHALT", small());
    vm.run().unwrap();
    assert_eq!(vm.status(), Status::Halted);
    assert_eq!(vm.stack(), vec![Value::I32(1), Value::Str("two".into())]);
}

fn linking_checks_every_import() {
    let program = verify(assemble(".import 19 f () -> void\nHALT").unwrap()).unwrap();
    let e = Vm::new(Arc::new(program), natives()).err().unwrap();
    assert!(
        matches!(e, super::error::LinkError::Unserved { slot: 19 }),
        "{e}"
    );
    let program = verify(assemble(".import 0 add (i64, i64) -> i64\nHALT").unwrap()).unwrap();
    let e = Vm::new(Arc::new(program), natives()).err().unwrap();
    assert!(
        matches!(e, super::error::LinkError::Signature { slot: 0, .. }),
        "{e}"
    );
}

fn round_trips_through_text_and_bytes() {
    let src = format!(
        "{IMPORTS}\n.local s str\nPUSH \"a\\\"\\n\"\nSTORE s\nx: LOAD s\nPUSH f64 -0.0\nPOP\nJMP x\n.func g (a: i64, b: bool) -> str\n.local t str\nLOAD t\nRET\n.end"
    );
    let p = assemble(&src).unwrap();
    let text = disassemble(&p);
    assert_eq!(assemble(&text).unwrap(), p, "{text}");
    assert_eq!(decode(&encode(&p)).unwrap(), p);
}

fn a_saved_state_resumes_in_another_vm() {
    let src = r#"
        .local n i32
        .local s str
            PUSH 4
            STORE n
        top:
            LOAD n
            CALL show
            LOAD s
            PUSH "x"
            CALL_NATIVE 1
            STORE s
            LOAD n
            PUSH 1
            SUB
            DUP
            STORE n
            JNZ top
            LOAD s
            PRINT
            HALT
        .func show (k: i32) -> void
            LOAD k
            PRINT
            RET
        .end
    "#;
    let (mut whole, whole_out) = vm_with(src, small());
    whole.run().unwrap();

    let (mut first, first_out) = vm_with(src, small());
    // Stop inside `show`, with a caller frame suspended at its CALL.
    assert_eq!(first.resume(Some(3)).unwrap(), Status::Paused);
    let state = first.state().unwrap();
    assert_eq!(state.frames.len(), 2);
    assert_eq!(state.frames[1].locals, vec![Value::I32(3)]);

    let (mut second, second_out) = vm_with(src, small());
    second.set_state(&state).unwrap();
    assert_eq!(second.state().unwrap(), state);
    assert_eq!(second.resume(None).unwrap(), Status::Halted);
    assert_eq!(first_out.text() + &second_out.text(), whole_out.text());
    assert_eq!(whole_out.text().lines().last(), Some("Result: xxxx"));
}

fn a_state_that_does_not_fit_is_refused_and_changes_nothing() {
    let (mut vm, _) = vm_with(".local n i32\ntop: LOAD n\nPOP\nJMP top", small());
    assert_eq!(vm.resume(Some(1)).unwrap(), Status::Paused);
    let good = vm.state().unwrap();
    let mut bad = good.clone();
    bad.frames[0].locals = vec![Value::Str("no".into())];
    assert!(matches!(vm.set_state(&bad), Err(StateError::Types { .. })));
    let mut bad = good.clone();
    bad.pc = 99;
    assert_eq!(
        vm.set_state(&bad),
        Err(StateError::Frames {
            functions: vec![0],
            pc: 99
        })
    );
    let mut bad = good.clone();
    bad.frames[0].function = 5;
    let e = vm.set_state(&bad).unwrap_err();
    assert_eq!(
        e,
        StateError::Frames {
            functions: vec![5],
            pc: good.pc
        }
    );
    assert!(
        e.to_string()
            .starts_with("frames of functions [5] stopped at pc"),
        "{e}"
    );
    assert_eq!(vm.state().unwrap(), good);
}

fn a_state_deeper_than_the_stack_is_refused_with_both_sizes() {
    let src = "
            PUSH 20
            CALL down
            HALT
        .func down (n: i32) -> void
            LOAD n
            JZ done
            LOAD n
            PUSH 1
            SUB
            CALL down
        done:
            RET
        .end
    ";
    let (mut deep, _) = vm_with(src, small());
    // Fuel counts calls: pause 12 calls deep.
    assert_eq!(deep.resume(Some(12)).unwrap(), Status::Paused);
    let state = deep.state().unwrap();
    assert!(state.frames.len() > 8, "{}", state.frames.len());

    let (mut shallow, _) = vm_with(
        src,
        VmOptions {
            stack_capacity: 8,
            ..small()
        },
    );
    let before = shallow.state().unwrap();
    let e = shallow.set_state(&state).unwrap_err();
    assert!(
        matches!(e, StateError::TooLarge { needed, capacity: 8 } if needed > 8),
        "{e}"
    );
    assert!(e.to_string().ends_with("the VM holds 8"), "{e}");
    assert_eq!(shallow.state().unwrap(), before);
    // The same state fits a VM as large as the one that saved it.
    let (mut same, _) = vm_with(src, small());
    same.set_state(&state).unwrap();
    assert_eq!(same.resume(None).unwrap(), Status::Halted);
}

fn a_label_past_the_last_instruction_survives_disassembly() {
    // Found by the `asm` fuzz target.
    let p = assemble("PUSH 1\nJZ join\nPUSH 2\njoin: Hts:\n").unwrap();
    assert_eq!(assemble(&disassemble(&p)).unwrap(), p);
    let p = assemble("HALT\n.func f () -> void\nJMP end\nend:\n.end").unwrap();
    assert_eq!(assemble(&disassemble(&p)).unwrap(), p);
}

/// Each integer comparison fused with the jump on its result branches
/// exactly when the relation holds (`JNZ`) or does not (`JZ`), for `i32`
/// and `i64`, at the edges of each type: one program of every case, each
/// printing whether its jump was taken.
fn comparisons_fused_with_their_jumps_branch_as_the_two_would() {
    type Rel = fn(i64, i64) -> bool;
    let relations: [(&str, Rel); 6] = [
        ("EQ", |a, b| a == b),
        ("NE", |a, b| a != b),
        ("LT", |a, b| a < b),
        ("LE", |a, b| a <= b),
        ("GT", |a, b| a > b),
        ("GE", |a, b| a >= b),
    ];
    let mut src = String::from(".local a32 i32\n.local b32 i32\n.local a64 i64\n.local b64 i64\n");
    let mut expected = String::new();
    let mut cases = 0;
    let edges32 = [i64::from(i32::MIN), -1, 0, 1, i64::from(i32::MAX)];
    let edges64 = [i64::MIN, -1, 0, 1, i64::MAX];
    for (ty, edges) in [("i32", &edges32), ("i64", &edges64)] {
        let bits = &ty[1..];
        for (mnemonic, holds) in relations {
            for jump in ["JZ", "JNZ"] {
                for &a in edges {
                    for &b in edges {
                        src.push_str(&format!(
                            "
                                PUSH {ty} {a}
                                STORE a{bits}
                                PUSH {ty} {b}
                                STORE b{bits}
                                LOAD a{bits}
                                LOAD b{bits}
                                {mnemonic}
                                {jump} taken{cases}
                                PUSH 0
                                PRINT
                                JMP next{cases}
                            taken{cases}:
                                PUSH 1
                                PRINT
                            next{cases}:
                            "
                        ));
                        let taken = holds(a, b) == (jump == "JNZ");
                        expected.push_str(&format!("Result: {}\n", i32::from(taken)));
                        cases += 1;
                    }
                }
            }
        }
    }
    src.push_str("HALT\n");
    assert_eq!(cases, 2 * 6 * 2 * edges32.len() * edges32.len());
    let program = verify(assemble(&src).unwrap()).unwrap();
    let fused = program
        .code
        .ops
        .iter()
        .filter(|op| format!("{op:?}").starts_with("Br"))
        .count();
    assert_eq!(fused, cases, "every comparison is fused with its jump");
    let (mut vm, out) = vm_with(&src, small());
    vm.run().unwrap();
    assert_eq!(out.text(), expected);
}

/// A jump that lands between two fused instructions runs the second alone:
/// a `JZ` entered with a `bool` from elsewhere (`mid`), the second of two
/// `LOAD`s entered with the first value already pushed (`second`), the
/// `LOAD` after a `STORE` of the same local (`again`).
fn a_jump_into_a_fused_pair_runs_its_second_alone() {
    let src = "
        .local x i32
        .local y i32
            PUSH true
            JMP mid
        top:
            LOAD x
            PUSH 4
            LT
        mid:
            JZ done
            LOAD x
            PUSH 2
            MOD
            JZ even
            LOAD y
            JMP second
        even:
            LOAD y
        second:
            LOAD x
            ADD
            STORE y
        again:
            LOAD y
            PUSH 100
            GT
            JNZ done
            LOAD x
            PUSH 1
            ADD
            STORE x
            LOAD x
            PUSH 3
            EQ
            JZ top
            JMP again
        done:
            LOAD y
            PRINT
            HALT
    ";
    let program = verify(assemble(src).unwrap()).unwrap();
    let fused: Vec<String> = program
        .code
        .ops
        .iter()
        .map(|op| format!("{op:?}"))
        .filter(|op| op.starts_with("Br") || op.starts_with("Load2") || op.starts_with("Tee"))
        .collect();
    assert_eq!(
        fused,
        [
            "BrGeI32(29)",
            "Load2x4(1, 0)",
            "Tee4(1)",
            "BrGtI32(29)",
            "Tee4(0)",
            "BrNeI32(2)"
        ],
        "the pairs the test jumps into are fused"
    );
    // y takes x = 0, 1, 2 (x = 3 jumps past the sum), then x = 4 ends it.
    assert_eq!(run(src).unwrap(), "Result: 3\n");
}

/// `STORE n; LOAD n` fused keeps the value and stores it, for both widths.
fn a_store_then_load_of_the_same_local_keeps_the_value() {
    let src = "
        .local a i32
        .local b i64
            PUSH 41
            STORE a
            LOAD a
            PUSH 1
            ADD
            PUSH i64 5
            STORE b
            LOAD b
            PUSH i64 2
            MUL
            STORE b
            LOAD a
            ADD
            PRINT
            LOAD b
            PRINT
            HALT
    ";
    assert_eq!(run(src).unwrap(), "Result: 83\nResult: 10\n");
}

/// Each test above, once per engine: interpreted and compiled.
macro_rules! both_engines {
    ($($(#[$attr:meta])* $name:ident,)*) => {
        mod interpreted {
            $($(#[$attr])* #[test] fn $name() {
                super::COMPILED.set(false);
                super::$name();
            })*
        }
        #[cfg(feature = "jit")]
        mod compiled {
            $($(#[$attr])*
            #[test]
            #[cfg_attr(miri, ignore = "Miri runs no generated code")]
            fn $name() {
                super::COMPILED.set(true);
                super::$name();
            })*
        }
    };
}

both_engines! {
    the_math_program_prints_15,
    a_loop_with_locals,
    #[cfg(all(target_os = "linux", not(miri)))]
    a_vm_keeps_resident_only_the_stack_it_used,
    bytecode_functions_recurse,
    every_type_prints,
    native_strings_are_copied_and_collected,
    faults_name_pc_and_instruction,
    deep_stacks_overflow_cleanly,
    a_returned_bool_is_normalized,
    a_paused_run_resumes_to_the_same_result,
    the_final_stack_is_visible,
    linking_checks_every_import,
    round_trips_through_text_and_bytes,
    a_saved_state_resumes_in_another_vm,
    a_state_that_does_not_fit_is_refused_and_changes_nothing,
    a_state_deeper_than_the_stack_is_refused_with_both_sizes,
    a_label_past_the_last_instruction_survives_disassembly,
    #[cfg_attr(
        miri,
        ignore = "arithmetic, not memory: minutes under Miri; the fused ops' accesses are run there by a_jump_into_a_fused_pair_runs_its_second_alone"
    )]
    comparisons_fused_with_their_jumps_branch_as_the_two_would,
    a_jump_into_a_fused_pair_runs_its_second_alone,
    a_store_then_load_of_the_same_local_keeps_the_value,
}
