//! The compiled engine's promises, attacked: its code is never writable
//! and executable at once; recursion as deep as the limits allow, on a
//! thread with a small stack, is a typed fault, never a crash; a system
//! that refuses executable memory gets the interpreter, and says so; the
//! code of a released script module build is freed.

use std::time::Duration;

use hotslot::ReloadOptions;
use hotslot::vm::{Fault, JitOptions, StaticNatives, Value, Vm, VmOptions};
use hotslot_tests::{in_own_process, program, tempdir};

/// `depth(n)` calls itself `n` times, each frame holding a few values.
const RECURSE: &str = "
    PUSH 1000000
    CALL depth
    HALT

.func depth (n: i32) -> i32
.local a i64
.local b f64
    LOAD n
    JZ done
    LOAD n
    PUSH 1
    SUB
    CALL depth
    RET
done:
    PUSH 7
    RET
.end
";

fn options(compiled: bool, depth: usize, capacity: usize) -> VmOptions {
    VmOptions {
        stack_capacity: capacity,
        max_call_depth: depth,
        jit: JitOptions { enabled: compiled },
        ..VmOptions::default()
    }
}

/// Runs `RECURSE` on a thread with a 256 KiB stack; the run's outcome.
fn recurse_on_a_small_thread(options: VmOptions) -> Result<Value, String> {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut vm = Vm::with_options(program(RECURSE), StaticNatives::new(), options).unwrap();
            assert_eq!(vm.engine().is_ok(), options.jit.enabled);
            match vm.run() {
                Ok(()) => Ok(vm.stack()[0].clone()),
                Err(e) => Err(e.fault.to_string()),
            }
        })
        .unwrap()
        .join()
        .expect("the run does not crash its thread")
}

#[test]
fn recursion_as_deep_as_the_limits_allow_is_a_typed_fault_on_both_engines() {
    // 200,000 calls deep, far more than the thread's native stack holds
    // frames of: compiled code runs on a stack reserved for it.
    for compiled in [false, true] {
        assert_eq!(
            recurse_on_a_small_thread(options(compiled, 200_000, 1 << 22)),
            Err(Fault::CallDepth { max: 200_000 }.to_string()),
            "compiled: {compiled}"
        );
        // The capacity of the VM's stack runs out first.
        assert_eq!(
            recurse_on_a_small_thread(options(compiled, 2_000_000, 4096)),
            Err(Fault::StackOverflow { capacity: 4096 }.to_string()),
            "compiled: {compiled}"
        );
    }
    // And within both, the answer.
    let small = "PUSH 100\nCALL depth\nHALT\n";
    let text = RECURSE.replace("    PUSH 1000000\n    CALL depth\n    HALT\n", small);
    for compiled in [false, true] {
        let mut vm = Vm::with_options(
            program(&text),
            StaticNatives::new(),
            options(compiled, 1024, 1 << 16),
        )
        .unwrap();
        vm.run().unwrap();
        assert_eq!(vm.stack(), [Value::I32(7)]);
    }
}

/// Lines of `/proc/self/maps` whose permissions match `perms`.
#[cfg(target_os = "linux")]
fn mappings(perms: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|p| p.starts_with(perms))
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn compiled_code_is_never_writable_and_executable_at_once() {
    if !in_own_process("compiled::compiled_code_is_never_writable_and_executable_at_once") {
        return;
    }
    let executable_before = mappings("r-x").len();
    let mut vms = Vec::new();
    for k in 0..20 {
        let mut vm = Vm::with_options(
            program(&format!("PUSH {k}\nPUSH 1\nADD\nHALT")),
            StaticNatives::new(),
            VmOptions::default(),
        )
        .unwrap();
        vm.run().unwrap();
        assert_eq!(vm.engine(), Ok(()));
        assert!(mappings("rwx").is_empty(), "{:?}", mappings("rwx"));
        vms.push(vm);
    }
    assert_eq!(hotslot::testing::compiled_programs_alive(), 20);
    assert!(
        mappings("r-x").len() > executable_before,
        "the code is executable somewhere"
    );
    drop(vms);
    assert_eq!(hotslot::testing::compiled_programs_alive(), 0);
}

/// A seccomp filter that refuses `mprotect` with `PROT_EXEC` (as a
/// hardened system's policy does): memory can no longer be made
/// executable.
#[cfg(target_os = "linux")]
fn refuse_executable_memory() {
    use libc::{
        BPF_ABS, BPF_ALU, BPF_AND, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W,
        SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, sock_filter, sock_fprog,
    };
    let op = |code: u32, jt: u8, jf: u8, k: u32| sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    // `seccomp_data`: nr at 0, arch at 4, ip at 8, args from 16 (8 bytes
    // each, the low word first on little-endian machines).
    let prot = 16 + 2 * 8;
    let filter = [
        op(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0),
        op(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, libc::SYS_mprotect as u32),
        op(BPF_LD | BPF_W | BPF_ABS, 0, 0, prot),
        op(BPF_ALU | BPF_AND | BPF_K, 0, 0, libc::PROT_EXEC as u32),
        op(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, libc::PROT_EXEC as u32),
        op(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW),
        op(
            BPF_RET | BPF_K,
            0,
            0,
            SECCOMP_RET_ERRNO | libc::EACCES as u32,
        ),
    ];
    let program = sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `prctl` with its documented arguments.
    let ok = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    assert_eq!(ok, 0);
    // SAFETY: a valid filter program that lives for the call (the kernel
    // copies it), for every thread of this test's own process.
    let ok = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_TSYNC,
            &raw const program,
        )
    };
    assert_eq!(ok, 0, "{}", std::io::Error::last_os_error());
}

#[cfg(target_os = "linux")]
#[test]
fn a_system_that_refuses_executable_memory_gets_the_interpreter_and_is_told() {
    if !in_own_process(
        "compiled::a_system_that_refuses_executable_memory_gets_the_interpreter_and_is_told",
    ) {
        return;
    }
    refuse_executable_memory();
    let mut vm = Vm::with_options(
        program("PUSH 20\nPUSH 22\nADD\nHALT"),
        StaticNatives::new(),
        VmOptions::default(),
    )
    .unwrap();
    let why = vm.engine().unwrap_err().to_string();
    assert!(why.contains("executable memory"), "{why}");
    vm.run().unwrap();
    assert_eq!(vm.stack(), [Value::I32(42)]);
    assert_eq!(hotslot::testing::compiled_programs_alive(), 0);

    // A script module still binds, and its functions answer.
    let dir = tempdir();
    let module = dir.path().join("m.hsasm");
    std::fs::write(
        &module,
        ".module m 1.0.0\n.export f\n.func f (x: i32) -> i32\n LOAD x\n PUSH 2\n MUL\n RET\n.end\n",
    )
    .unwrap();
    let table = hotslot_tests::table();
    table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap();
    assert_eq!(table.function::<i32, i32>("f").unwrap().call(21), Ok(42));
}

#[test]
fn the_code_of_every_released_module_build_is_freed() {
    if !in_own_process("compiled::the_code_of_every_released_module_build_is_freed") {
        return;
    }
    let dir = tempdir();
    let module = dir.path().join("m.hsasm");
    let text = |k: i32| {
        format!(
            ".module m 1.{k}.0\n.export f\n.func f (x: i32) -> i32\n LOAD x\n PUSH {k}\n ADD\n RET\n.end\n"
        )
    };
    std::fs::write(&module, text(0)).unwrap();
    let table = hotslot_tests::table();
    table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap();
    let f = table.function::<i32, i32>("f").unwrap();
    assert_eq!(f.call(1), Ok(1));
    hotslot::testing::wait_for_compiles();
    assert_eq!(hotslot::testing::compiled_programs_alive(), 1);
    for k in 1..=200 {
        std::fs::write(&module, text(k)).unwrap();
        table.reload(&module).unwrap();
        // Interpreted or compiled, whichever is ready: the same answer.
        assert_eq!(f.call(1), Ok(1 + k));
        if k % 50 == 0 {
            hotslot::testing::wait_for_compiles();
            assert_eq!(f.call(1), Ok(1 + k));
        }
    }
    hotslot::testing::wait_for_compiles();
    assert!(table.wait_released(Duration::from_secs(10)));
    assert_eq!(
        hotslot::testing::compiled_programs_alive(),
        1,
        "only the build serving holds code"
    );
    drop(f);
    drop(table);
    assert_eq!(hotslot::testing::compiled_programs_alive(), 0);
}

#[test]
fn a_module_is_compiled_after_it_loads_without_the_load_waiting_and_its_calls_agree() {
    let dir = tempdir();
    let module = dir.path().join("m.hsasm");
    std::fs::write(
        &module,
        ".module m 1.0.0\n.export f\n.func f (x: i64) -> i64\n LOAD x\n LOAD x\n MUL\n RET\n.end\n",
    )
    .unwrap();
    // Loaded: compiled on the compiling thread, then ready.
    let loaded = hotslot::script::ScriptModule::open(&module, &Default::default()).unwrap();
    hotslot::testing::wait_for_compiles();
    assert!(loaded.program().is_compiled());
    // Calls straight after each reload (interpreted while the compile
    // runs) and after the compile agree, overflow included.
    let table = hotslot_tests::table();
    table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap();
    let f = table.function::<i64, i64>("f").unwrap();
    for k in 1..=20 {
        std::fs::write(
            &module,
            format!(".module m 1.{k}.0\n.export f\n.func f (x: i64) -> i64\n LOAD x\n LOAD x\n MUL\n RET\n.end\n"),
        )
        .unwrap();
        table.reload(&module).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.call(i64::MAX), Ok(1));
        assert_eq!(
            f.call(3_037_000_500),
            Ok(3_037_000_500i64.wrapping_mul(3_037_000_500))
        );
    }
    hotslot::testing::wait_for_compiles();
    assert_eq!(f.call(i64::MAX), Ok(1));
}

#[test]
fn no_jit_runs_programs_and_modules_interpreted_with_the_same_results() {
    let dir = tempdir();
    let module = dir.path().join("m.hsasm");
    std::fs::write(
        &module,
        ".module m 1.0.0\n.export f\n.func f (x: i64) -> i64\n LOAD x\n LOAD x\n MUL\n RET\n.end\n",
    )
    .unwrap();
    let prog = dir.path().join("p.hsasm");
    std::fs::write(
        &prog,
        ".import 0 f (i64) -> i64\n PUSH i64 12\n CALL_NATIVE f\n PRINT\n HALT\n",
    )
    .unwrap();
    let (m, p) = (module.display().to_string(), prog.display().to_string());
    for extra in [&[][..], &["--no-jit"][..]] {
        let mut args = vec!["run", &p, "--lib", &m];
        args.extend_from_slice(extra);
        let (status, out, err) = hotslot_tests::hotslot(&args);
        assert!(status.success(), "{extra:?}: {err}");
        assert_eq!(out, "Result: 144\n", "{extra:?}");
    }
    let table = hotslot_tests::table_with(hotslot::TableOptions {
        jit: JitOptions { enabled: false },
        ..hotslot::TableOptions::default()
    });
    let vm = table.vm(program("PUSH 1\nHALT")).unwrap();
    assert_eq!(
        vm.engine().unwrap_err().to_string(),
        "the VM's options turn compilation off"
    );
    table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap();
    assert_eq!(table.function::<i64, i64>("f").unwrap().call(12), Ok(144));
}
