//! Hot-swappable slots: checked reloads, transactions over all slots of a
//! library, calls in flight during reloads, retained generations.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use hotslot::vm::{Status, Value};
use hotslot::{LoadError, ReloadOptions, SlotError, SlotTable};
use hotslot_tests::{
    CALL_OP, adder, built, c_string, install, is_mapped, library_name, load_error, program, tempdir,
};

const MUL: &str = "OP(a,b)=((a)*(b))";

fn result(vm: &mut hotslot::vm::Vm<hotslot::SlotReader>) -> i32 {
    vm.run().unwrap();
    match vm.stack().as_slice() {
        [Value::I32(v)] => *v,
        other => panic!("unexpected stack {other:?}"),
    }
}

#[test]
fn a_reload_swaps_the_function_and_a_refused_one_keeps_it() {
    let dir = tempdir();
    let add = adder(dir.path(), "add", &[]);
    let mul = adder(dir.path(), "mul", &[MUL, "FN_MINOR=1"]);
    let wide = adder(dir.path(), "wide", &["WIDE", "FN_MINOR=2"]);
    let major = adder(dir.path(), "major", &["FN_MAJOR=2"]);
    let older = adder(dir.path(), "older", &[]);
    let lib = dir.path().join(library_name("live"));
    install(&add, &lib);

    let table = hotslot_tests::table();
    let mut vm = table.vm(program(CALL_OP)).unwrap();
    table.bind(0, &lib, None).unwrap();
    assert_eq!(result(&mut vm), 13);

    install(&mul, &lib);
    let report = table.reload(&lib).unwrap();
    assert_eq!(report.swaps.len(), 1);
    assert_eq!(report.swaps[0].to, semver::Version::new(1, 1, 0));
    assert_eq!(result(&mut vm), 42);

    install(&wide, &lib);
    let e = table.reload(&lib).unwrap_err();
    assert!(matches!(e, SlotError::Signature { slot: 0, .. }), "{e}");
    assert_eq!(result(&mut vm), 42, "the refused build must not serve");

    // No requirement in the import: the default is the running major.
    install(&major, &lib);
    let e = table.reload(&lib).unwrap_err();
    assert!(
        matches!(
            e,
            SlotError::Version {
                from_running: true,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(result(&mut vm), 42);

    install(&older, &lib);
    let e = table.reload(&lib).unwrap_err();
    assert!(matches!(e, SlotError::Downgrade { .. }), "{e}");
    assert_eq!(result(&mut vm), 42);
    // ... unless the caller asks for the downgrade.
    let downgrade = ReloadOptions {
        allow_downgrade: true,
        ..ReloadOptions::default()
    };
    table.reload_with(&lib, &downgrade).unwrap();
    assert_eq!(result(&mut vm), 13);

    std::fs::write(&lib, b"\x7fELF truncated").unwrap();
    let e = load_error(table.reload(&lib).unwrap_err());
    assert!(matches!(e, LoadError::NotSharedLibrary { .. }), "{e}");
    std::fs::remove_file(&lib).unwrap();
    let e = load_error(table.reload(&lib).unwrap_err());
    assert!(matches!(e, LoadError::FileMissing { .. }), "{e}");
    assert_eq!(result(&mut vm), 13);
}

#[test]
fn an_import_requirement_is_enforced() {
    let dir = tempdir();
    let lib = adder(dir.path(), "v1", &[]);
    let table = hotslot_tests::table();
    let _vm = table
        .vm(program(".import 0 op (i32, i32) -> i32 ^1.1\nHALT"))
        .unwrap();
    let e = table.bind(0, &lib, None).unwrap_err();
    assert!(
        matches!(
            e,
            SlotError::Version {
                from_running: false,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "slot 0: `op` 1.0.0 does not satisfy ^1.1 (the import's requirement)"
    );
}

#[test]
fn all_slots_of_a_library_swap_together_or_none_do() {
    let b = built();
    let dir = tempdir();
    let lib = dir.path().join(library_name("math"));
    install(&b.c("math_ops"), &lib);
    let table = hotslot_tests::table();
    let two = ".import 0 math_add (i32, i32) -> i32\n.import 1 math_mul (i32, i32) -> i32\nHALT";
    let _vm = table.vm(program(two)).unwrap();
    table.bind(0, &lib, None).unwrap();
    table.bind(1, &lib, None).unwrap();
    let generations = |t: &SlotTable| -> Vec<u64> {
        t.slots()
            .into_iter()
            .map(|s| s.bound.unwrap().generation)
            .collect()
    };
    let g = generations(&table);
    assert_eq!(g[0], g[1], "both slots serve from one build");

    let report = table.reload(&lib).unwrap();
    assert_eq!(report.swaps.len(), 2);
    let g2 = generations(&table);
    assert_eq!(g2[0], g2[1]);
    assert_ne!(g2[0], g[0]);

    // A build that lacks `math_mul` would break slot 1: neither slot moves.
    install(&adder(dir.path(), "only_op", &[]), &lib);
    let e = table.reload(&lib).unwrap_err();
    assert!(matches!(e, SlotError::FunctionMissing { .. }), "{e}");
    assert_eq!(generations(&table), g2);
}

#[test]
fn a_rebuilt_rust_plugin_reloads_too() {
    let b = built();
    let dir = tempdir();
    let v1 = dir.path().join(library_name("versioned_v1"));
    std::fs::copy(b.rust("hotslot-fixture-versioned"), &v1).unwrap();
    let v2 = dir.path().join(library_name("versioned_v2"));
    std::fs::copy(b.rust("hotslot-fixture-versioned-v2"), &v2).unwrap();

    let lib = dir.path().join(library_name("versioned"));
    install(&v1, &lib);
    let table = hotslot_tests::table();
    let mut vm = table.vm(program(CALL_OP)).unwrap();
    table.bind(0, &lib, None).unwrap();
    assert_eq!(result(&mut vm), 13);
    install(&v2, &lib);
    table.reload(&lib).unwrap();
    assert_eq!(result(&mut vm), 42);
}

#[test]
fn four_threads_call_through_a_thousand_reloads() {
    let dir = tempdir();
    let add = adder(dir.path(), "add", &[]);
    let mul = adder(dir.path(), "mul", &[MUL]);
    let lib = dir.path().join(library_name("live"));
    install(&add, &lib);
    let table = hotslot_tests::table();
    let program = program(
        "
        .import 0 op (i32, i32) -> i32
        .local n i32
        .local r i32
            PUSH 200
            STORE n
        top:
            PUSH 6
            PUSH 7
            CALL_NATIVE 0
            STORE r
            LOAD r
            PUSH 13
            EQ
            JNZ ok
            LOAD r
            PUSH 42
            EQ
            JNZ ok
            PUSH 1
            PUSH 0
            DIV          ; any other result faults
            POP
        ok:
            LOAD n
            PUSH 1
            SUB
            DUP
            STORE n
            JNZ top
            HALT
        ",
    );
    table.declare_program(program.program()).unwrap();
    table.bind(0, &lib, None).unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut vm = table.vm(Arc::clone(&program)).unwrap();
            let (done, calls) = (Arc::clone(&done), Arc::clone(&calls));
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    vm.run().expect("every call returns 13 or 42");
                    calls.fetch_add(200, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for i in 0..1000 {
        install(if i % 2 == 0 { &mul } else { &add }, &lib);
        table
            .reload(&lib)
            .unwrap_or_else(|e| panic!("reload {i}: {e}"));
    }
    done.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("no VM thread failed");
    }
    assert!(calls.load(Ordering::Relaxed) > 0);
    assert!(
        table.wait_released(Duration::from_secs(5)),
        "replaced builds were released"
    );
    assert!(table.pending_releases().is_empty());
}

#[test]
fn a_call_in_flight_finishes_on_its_build_which_is_released_after() {
    let dir = tempdir();
    let go = dir.path().join("go");
    let hold = adder(dir.path(), "hold", &[&format!("HOLD={}", c_string(&go))]);
    let mul = adder(dir.path(), "mul", &[MUL, "FN_MINOR=1"]);
    let lib = dir.path().join(library_name("live"));
    install(&hold, &lib);
    let table = hotslot_tests::table();
    let program = program(CALL_OP);
    table.declare_program(program.program()).unwrap();
    table.bind(0, &lib, None).unwrap();
    let old = table.slots()[0].bound.clone().unwrap();

    let mut vm = table.vm(Arc::clone(&program)).unwrap();
    let started = Arc::new(Barrier::new(2));
    let s = Arc::clone(&started);
    let held = std::thread::spawn(move || {
        s.wait();
        vm.run().map(|()| vm.stack())
    });
    started.wait();
    let entered = go.with_extension("entered");
    while !entered.exists() {
        std::thread::sleep(Duration::from_millis(1));
    }

    // The call is inside the old build; the reload goes ahead.
    install(&mul, &lib);
    table.reload(&lib).unwrap();
    assert_ne!(
        table.slots()[0].bound.clone().unwrap().generation,
        old.generation
    );
    // However long it is held: the call cannot return before `go` exists.
    assert_eq!(
        table.reclaim(),
        1,
        "the old build must wait for the call in flight"
    );
    let pending = table.pending_releases();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].generation, old.generation);
    assert!(is_mapped(&old.copy), "the old build is still loaded");

    std::fs::write(&go, "").unwrap();
    let stack = held.join().unwrap().expect("the held call completes");
    assert_eq!(
        stack,
        vec![Value::I32(13)],
        "the call finished on the code it started on"
    );
    assert!(table.wait_released(Duration::from_secs(5)));
    assert!(table.pending_releases().is_empty());
    assert!(
        !is_mapped(&old.copy),
        "the old build was unmapped after the call returned"
    );
}

#[test]
fn a_library_the_system_keeps_mapped_is_shown_as_retained() {
    let b = built();
    let dir = tempdir();
    let lib = dir.path().join(library_name("tls"));
    install(&b.rust("hotslot-fixture-tls-pin"), &lib);
    let table = hotslot_tests::table();
    let program = program(".import 0 remember (i32) -> i32\nPUSH 1\nCALL_NATIVE 0\nHALT");
    let mut vm = table.vm(Arc::clone(&program)).unwrap();
    table.bind(0, &lib, None).unwrap();
    let old = table.slots()[0].bound.clone().unwrap();
    // This thread runs the plugin's thread-local destructor registration
    // and stays alive: the system cannot unmap the library. (On Windows
    // the plugin pins itself when called: see the fixture.)
    vm.run().unwrap();
    assert_eq!(vm.status(), Status::Halted);
    table.reload(&lib).unwrap();
    assert!(table.wait_released(Duration::from_secs(5)));
    let retained = hotslot::plugin::retained_libraries();
    assert!(
        retained
            .iter()
            .any(|r| r.generation == old.generation && r.plugin == "tls_pin"),
        "generation {} should be reported as retained: {retained:?}",
        old.generation
    );
}

/// The dynamic loader answers `dlopen` of a name it lists with the library
/// listed, and a memory copy is opened as `/proc/self/fd/N`, a name that
/// comes back as descriptor numbers are reused. Code outside hotslot that
/// opens a library by such a name and closes the descriptor leaves the
/// name behind: here, for each of the lowest free numbers. A later load
/// whose copy gets one of them must still run its own bytes, the pinned
/// ones, not the library listed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_name_the_loader_still_lists_never_answers_for_a_new_copy() {
    use std::os::fd::AsRawFd;
    if !hotslot_tests::in_own_process(
        "reload::a_name_the_loader_still_lists_never_answers_for_a_new_copy",
    ) {
        return;
    }
    let b = built();
    let stale = b.rust("hotslot-math-ops");
    let names: Vec<String> = {
        let files: Vec<std::fs::File> = (0..32)
            .map(|_| std::fs::File::open(&stale).unwrap())
            .collect();
        files
            .iter()
            .map(|f| {
                let name = format!("/proc/self/fd/{}", f.as_raw_fd());
                let c = std::ffi::CString::new(name.as_str()).unwrap();
                // SAFETY: this project's plugin, opened and never closed.
                let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
                assert!(!handle.is_null(), "{name} opens");
                name
            })
            .collect()
        // The descriptors close here; the loader keeps the names.
    };
    for name in &names {
        let c = std::ffi::CString::new(name.as_str()).unwrap();
        // SAFETY: RTLD_NOLOAD loads nothing; the reference is released.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY) };
        assert!(
            !handle.is_null(),
            "{name} is still listed, its descriptor closed"
        );
        // SAFETY: the reference just taken.
        unsafe { libc::dlclose(handle) };
    }

    let panicky = b.rust("hotslot-fixture-panicky");
    let pin = hotslot::plugin::Sha256::of_file(&panicky).unwrap();
    for i in 0..8 {
        let table = hotslot_tests::table();
        table
            .bind_library(
                &panicky,
                &ReloadOptions {
                    sha256: Some(pin),
                    ..ReloadOptions::default()
                },
            )
            .unwrap_or_else(|e| panic!("load {i}: {e}"));
        let divide = table
            .function::<(i32, i32), i32>("divide")
            .unwrap_or_else(|e| panic!("load {i} runs the pinned build: {e}"));
        assert_eq!(divide.call((7, 2)), Ok(3), "load {i}");
    }
}

#[test]
fn a_retained_build_never_answers_for_a_later_load() {
    let b = built();
    let dir = tempdir();
    let tls = dir.path().join(library_name("tls"));
    install(&b.rust("hotslot-fixture-tls-pin"), &tls);
    let adder = adder(dir.path(), "add", &[]);

    // A thread runs the plugin's thread-local code and stays alive: the
    // system keeps that build mapped after it is released. (On Windows the
    // plugin pins itself when called.)
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (ran, done) = std::sync::mpsc::channel();
    let keeper = {
        let table = hotslot_tests::table();
        let mut vm = table
            .vm(program(
                ".import 0 remember (i32) -> i32\nPUSH 1\nCALL_NATIVE 0\nHALT",
            ))
            .unwrap();
        table.bind(0, &tls, None).unwrap();
        let generation = table.libraries()[0].generation;
        std::thread::spawn(move || {
            vm.run().unwrap();
            drop(vm);
            drop(table);
            ran.send(generation).unwrap();
            wait.recv().unwrap_err();
        })
    };
    let generation = done.recv().unwrap();
    assert!(
        hotslot::plugin::retained_libraries()
            .iter()
            .any(|r| r.generation == generation),
        "the build is retained"
    );

    // Every later load, whatever name the loader gives it, runs its own
    // code: not the retained build's.
    for i in 0..50 {
        let table = hotslot_tests::table();
        let mut vm = table.vm(program(CALL_OP)).unwrap();
        table
            .bind(0, &adder, None)
            .unwrap_or_else(|e| panic!("load {i}: {e}"));
        assert_eq!(result(&mut vm), 13, "load {i}");
    }
    drop(release);
    keeper.join().unwrap();
}
