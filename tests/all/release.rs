//! Release of replaced builds under adversarial timing: a call is never
//! left running in a build that was closed, whatever the readers, writers
//! and reclaimers are doing when it happens.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hotslot::vm::{Value, assemble, verify};
use hotslot_tests::{adder, c_string, install, is_mapped, library_name, tempdir};

/// How long the stress test runs: `HOTSLOT_STRESS_SECS`, 10 s by default.
fn stress_duration() -> Duration {
    let secs = std::env::var("HOTSLOT_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    Duration::from_secs(secs)
}

/// The scenario that once closed a library under a running call: the only
/// reader is offline about half of the time (a 3 ms call, then 3 ms
/// between runs), so a reclaimer often finds every reader offline just
/// before a reader comes online and a writer retires what it loaded. Two
/// threads reclaim in a loop, one reloads in a loop, three burn CPU so
/// that any thread may be preempted between any two steps. A build closed
/// under the call kills the process (SIGSEGV); a wrong result fails it.
#[test]
fn no_call_runs_in_a_closed_build_under_reload_and_reclaim_storms() {
    let dir = tempdir();
    let add = adder(dir.path(), "spin_add", &["SPIN_US=3000"]);
    let mul = adder(
        dir.path(),
        "spin_mul",
        &["SPIN_US=3000", "OP(a,b)=((a)*(b))"],
    );
    let lib = dir.path().join(library_name("live"));
    install(&add, &lib);
    let table = hotslot_tests::table();
    let program = Arc::new(
        verify(
            assemble(".import 0 op (i32, i32) -> i32\nPUSH 6\nPUSH 7\nCALL_NATIVE 0\nHALT")
                .unwrap(),
        )
        .unwrap(),
    );
    table.declare_program(program.program()).unwrap();
    table.bind(0, &lib, None).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    {
        let mut vm = table.vm(Arc::clone(&program)).unwrap();
        let (stop, calls) = (Arc::clone(&stop), Arc::clone(&calls));
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                vm.run().expect("the call returns");
                match vm.stack().as_slice() {
                    [Value::I32(13 | 42)] => {}
                    other => panic!("a call returned {other:?}"),
                }
                calls.fetch_add(1, Ordering::Relaxed);
                // Offline between runs: the part of the workload that lets
                // a reclaimer see no reader at all.
                std::thread::sleep(Duration::from_millis(3));
            }
        }));
    }
    for _ in 0..2 {
        let (table, stop) = (table.clone(), Arc::clone(&stop));
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                table.reclaim();
            }
        }));
    }
    for _ in 0..3 {
        let stop = Arc::clone(&stop);
        threads.push(std::thread::spawn(move || {
            let mut x = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for i in 0..10_000u64 {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                }
            }
        }));
    }

    let started = Instant::now();
    let mut reloads = 0u64;
    while started.elapsed() < stress_duration() {
        install(
            if reloads.is_multiple_of(2) {
                &mul
            } else {
                &add
            },
            &lib,
        );
        table.reload(&lib).expect("every build is valid");
        reloads += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("no thread failed");
    }
    let calls = calls.load(Ordering::Relaxed);
    eprintln!(
        "{reloads} reloads and {calls} calls in {:.1?}",
        started.elapsed()
    );
    assert!(calls > 0 && reloads > 0);
    assert!(table.wait_released(Duration::from_secs(10)));
    assert!(table.pending_releases().is_empty());
}

/// Output whose every write panics, as a broken writer of the embedding
/// application might.
struct PanickingOutput;

impl std::io::Write for PanickingOutput {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        panic!("the output broke")
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_run_that_unwinds_does_not_keep_its_build_from_being_released() {
    let dir = tempdir();
    let add = adder(dir.path(), "add", &[]);
    let mul = adder(dir.path(), "mul", &["OP(a,b)=((a)*(b))"]);
    let lib = dir.path().join(library_name("live"));
    install(&add, &lib);
    let table = hotslot_tests::table();
    let program = Arc::new(
        verify(
            assemble(".import 0 op (i32, i32) -> i32\nPUSH 6\nPUSH 7\nCALL_NATIVE 0\nPRINT\nHALT")
                .unwrap(),
        )
        .unwrap(),
    );
    let mut vm = table.vm(Arc::clone(&program)).unwrap();
    table.bind(0, &lib, None).unwrap();
    vm.set_output(PanickingOutput);
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vm.run()));
    assert!(unwound.is_err(), "PRINT's panic reaches the caller");

    // The VM is idle; nothing may hold the build it ran on.
    install(&mul, &lib);
    table.reload(&lib).unwrap();
    assert_eq!(table.reclaim(), 0, "the unwound run holds nothing");
    assert!(table.pending_releases().is_empty());

    // The VM is usable again, on the new build.
    vm.set_output(std::io::sink());
    vm.run().unwrap();
    assert_eq!(vm.status(), hotslot::vm::Status::Halted);
}

#[test]
fn a_long_call_keeps_only_its_own_build_while_many_are_published() {
    let dir = tempdir();
    let go = dir.path().join("go");
    let hold = adder(dir.path(), "hold", &[&format!("HOLD={}", c_string(&go))]);
    let add = adder(dir.path(), "add", &[]);
    let lib = dir.path().join(library_name("live"));
    install(&hold, &lib);
    let table = hotslot_tests::table();
    let program = Arc::new(
        verify(
            assemble(".import 0 op (i32, i32) -> i32\nPUSH 6\nPUSH 7\nCALL_NATIVE 0\nHALT")
                .unwrap(),
        )
        .unwrap(),
    );
    table.declare_program(program.program()).unwrap();
    table.bind(0, &lib, None).unwrap();
    let held = table.slots()[0].bound.clone().unwrap();

    let mut vm = table.vm(Arc::clone(&program)).unwrap();
    let call = std::thread::spawn(move || vm.run().map(|()| vm.stack()));
    let entered = go.with_extension("entered");
    while !entered.exists() {
        std::thread::yield_now();
    }

    // 100 builds published while the call runs in the first one.
    install(&add, &lib);
    let mut copies = Vec::new();
    for _ in 0..100 {
        table.reload(&lib).unwrap();
        copies.push(table.slots()[0].bound.clone().unwrap().copy);
        table.reclaim();
    }
    let pending = table.pending_releases();
    assert_eq!(
        pending.iter().map(|p| p.generation).collect::<Vec<_>>(),
        [held.generation],
        "only the build the call runs in waits"
    );
    assert!(is_mapped(&held.copy), "the call's build stays loaded");
    let (current, replaced) = copies.split_last().unwrap();
    let still_mapped = replaced.iter().filter(|s| is_mapped(s)).count();
    assert_eq!(still_mapped, 0, "the 99 builds no call holds were unloaded");
    assert!(is_mapped(current));

    std::fs::write(&go, "").unwrap();
    let stack = call.join().unwrap().expect("the held call completes");
    assert_eq!(stack, vec![Value::I32(13)]);
    assert!(table.wait_released(Duration::from_secs(10)));
    assert!(!is_mapped(&held.copy));
}
