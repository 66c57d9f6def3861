//! Isolated bindings: a plugin that segfaults, aborts, exits, overflows its
//! stack, hangs or is killed fails the call with a typed error, the host
//! goes on, and the next call is answered by a new worker of the same build;
//! reloads start new workers and release the old ones; bad inputs are
//! refused with the reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hotslot::isolate::{Crash, CrashLimit, IsolateError, IsolateOptions, IsolatedFailure};
use hotslot::plugin::Sha256;
use hotslot::{CallError, LoadError, ReloadKind, ReloadOptions, SlotError, SlotTable};
use hotslot_tests::{built, hotslot, table, tempdir};

fn isolated(deadline: Option<Duration>) -> ReloadOptions {
    ReloadOptions {
        isolate: Some(IsolateOptions {
            worker: None,
            deadline,
            spin: None,
            rollback_after: None,
        }),
        ..ReloadOptions::default()
    }
}

/// A table with the fragile plugin bound isolated.
fn fragile_table(deadline: Option<Duration>) -> SlotTable {
    let table = table();
    table
        .bind_library(built().c("fragile"), &isolated(deadline))
        .unwrap();
    table
}

/// Whether process `pid` still runs: it exists and has not ended (a
/// zombie, ended but not yet reaped by whoever inherited it, has).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // After the name in parentheses, which may hold anything: the state.
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
    })
}

/// The processes below `pid`: its children, theirs, and so on.
fn descendants(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut next = vec![pid];
    while let Some(p) = next.pop() {
        let children: Vec<i32> = std::fs::read_dir(format!("/proc/{p}/task"))
            .map(|tasks| {
                tasks
                    .flatten()
                    .flat_map(|t| {
                        std::fs::read_to_string(t.path().join("children"))
                            .unwrap_or_default()
                            .split_whitespace()
                            .filter_map(|c| c.parse().ok())
                            .collect::<Vec<i32>>()
                    })
                    .collect()
            })
            .unwrap_or_default();
        next.extend(&children);
        out.extend(children);
    }
    out
}

/// Waits until `pid` no longer runs, for at most 30 s (a deadline that only
/// keeps a wrong outcome from hanging the suite); returns whether it ended.
fn ends(pid: i32) -> bool {
    let started = std::time::Instant::now();
    while alive(pid) {
        if started.elapsed() > Duration::from_secs(30) {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

/// Calls `fragile(input)`, which fails its worker in one way, and checks
/// the exact error, that the failed worker is gone, and that the next calls
/// are answered by one new worker.
fn fails_then_serves(input: i32, deadline: Option<Duration>, expected: IsolatedFailure) {
    let table = fragile_table(deadline);
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    let pid = table.function::<(), i32>("pid").unwrap();
    assert_eq!(fragile.call(5), Ok(10));
    let first = pid.call(()).unwrap();
    assert_ne!(
        first,
        std::process::id() as i32,
        "the plugin runs elsewhere"
    );

    assert_eq!(
        fragile.call(input),
        Err(CallError::Isolated {
            function: "fragile".into(),
            failure: expected,
        })
    );
    assert!(!alive(first), "the failed worker {first} is gone");
    assert_eq!(
        table.libraries()[0].worker_pid,
        None,
        "none until the next call"
    );

    // The slot stays bound; the next calls go to one new worker.
    assert_eq!(fragile.call(21), Ok(42));
    let second = pid.call(()).unwrap();
    assert_ne!(second, first);
    assert_eq!(table.libraries()[0].worker_pid, Some(second as u32));
    // Inputs with no special meaning to the plugin.
    for i in 100..200 {
        assert_eq!(fragile.call(i), Ok(2 * i));
    }
    assert_eq!(pid.call(()), Ok(second), "no restart without a failure");
    assert_eq!(table.libraries().len(), 1);
}

#[test]
fn a_segfault_fails_the_call_and_a_new_worker_answers_the_next() {
    fails_then_serves(
        13,
        None,
        IsolatedFailure::Crashed {
            how: Crash::Signal { signal: 11 },
        },
    );
}

#[test]
fn an_abort_fails_the_call_and_a_new_worker_answers_the_next() {
    fails_then_serves(
        6,
        None,
        IsolatedFailure::Crashed {
            how: Crash::Signal { signal: 6 },
        },
    );
}

#[test]
fn an_exit_fails_the_call_and_a_new_worker_answers_the_next() {
    fails_then_serves(
        42,
        None,
        IsolatedFailure::Crashed {
            how: Crash::Exit { code: 42 },
        },
    );
}

#[test]
fn a_stack_overflow_fails_the_call_and_a_new_worker_answers_the_next() {
    fails_then_serves(
        99,
        None,
        IsolatedFailure::Crashed {
            how: Crash::Signal { signal: 11 },
        },
    );
}

#[test]
fn an_endless_loop_past_the_deadline_is_killed_and_a_new_worker_answers_the_next() {
    let deadline = Duration::from_millis(200);
    let started = std::time::Instant::now();
    fails_then_serves(
        7,
        Some(deadline),
        IsolatedFailure::Timeout { after: deadline },
    );
    assert!(started.elapsed() >= deadline);
}

#[test]
fn a_worker_killed_during_a_call_fails_it_and_one_killed_between_calls_is_replaced_unseen() {
    // The deadline only keeps a wrong outcome (the hung call made again
    // in a new worker) from hanging the suite: it fails as a timeout.
    let table = fragile_table(Some(Duration::from_secs(60)));
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    let pid = table.function::<(), i32>("pid").unwrap();
    let first = pid.call(()).unwrap();

    // Killed from outside while it runs a call that never returns.
    let dir = tempdir();
    let mark = dir.path().join("running");
    let hang = table.function::<String, i32>("hang").unwrap();
    std::thread::scope(|s| {
        let path = mark.display().to_string();
        let hung = s.spawn(move || hang.call(path));
        // The call is running once it has made its mark.
        while !mark.exists() {
            std::thread::yield_now();
        }
        // SAFETY: `kill` with a process id this test's table started.
        assert_eq!(unsafe { libc::kill(first, libc::SIGKILL) }, 0);
        assert_eq!(
            hung.join().unwrap(),
            Err(CallError::Isolated {
                function: "hang".into(),
                failure: IsolatedFailure::Crashed {
                    how: Crash::Signal { signal: 9 }
                },
            })
        );
    });
    let second = pid.call(()).unwrap();
    assert_ne!(second, first);

    // Killed while idle: no call was running, so none fails; the next one
    // starts a new worker.
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(second, libc::SIGKILL) }, 0);
    while alive(second) {
        std::thread::yield_now();
    }
    assert_eq!(fragile.call(4), Ok(8));
    let third = pid.call(()).unwrap();
    assert!(third != second && third != first);
}

#[test]
fn values_of_every_type_and_errors_cross_as_they_do_in_process() {
    let table = fragile_table(None);
    let greet = table.function::<String, String>("greet").unwrap();
    assert_eq!(greet.call("world"), Ok("hello, world".to_owned()));
    assert_eq!(greet.call(""), Ok("hello, ".to_owned()));
    assert_eq!(greet.call("héllo"), Ok("hello, héllo".to_owned()));
    let half = table.function::<f64, f64>("half").unwrap();
    assert_eq!(half.call(5.0), Ok(2.5));
    assert!(half.call(f64::NAN).unwrap().is_nan());
    let wide = table.function::<(i64, i32), i64>("wide").unwrap();
    assert_eq!(wide.call((7_000_000_000, 1)), Ok(-7_000_000_000));
    assert_eq!(wide.call((i64::MIN, 0)), Ok(i64::MIN));
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    assert_eq!(
        fragile.call(-1),
        Err(CallError::Native {
            function: "fragile".into(),
            message: "minus one is refused".into()
        })
    );
    assert_eq!(fragile.call(i32::MAX / 2), Ok(i32::MAX - 1));
    // A signature the build does not have is refused when the handle is
    // made, as in process.
    assert!(matches!(
        table.function::<i64, i64>("fragile"),
        Err(SlotError::Signature { .. })
    ));
}

#[test]
fn strings_larger_than_the_channel_are_refused_both_ways_and_the_worker_serves_on() {
    let table = fragile_table(None);
    let greet = table.function::<String, String>("greet").unwrap();
    let big = table.function::<i32, String>("big").unwrap();
    let pid = table.function::<(), i32>("pid").unwrap();
    let worker = pid.call(()).unwrap();

    assert_eq!(
        big.call(65_536).map(|s| s.len()),
        Ok(65_536),
        "exactly fits"
    );
    assert_eq!(
        big.call(65_537),
        Err(CallError::Isolated {
            function: "big".into(),
            failure: IsolatedFailure::ResultTooLarge {
                len: 65_537,
                capacity: 65_536
            },
        })
    );
    let long = "y".repeat(32 * 1024 + 1);
    assert_eq!(
        greet.call(long.as_str()),
        Err(CallError::Isolated {
            function: "greet".into(),
            failure: IsolatedFailure::TooLarge {
                needed: 32 * 1024 + 1,
                capacity: 32 * 1024
            },
        })
    );
    // Neither is a crash: the same worker answers.
    assert_eq!(greet.call("again"), Ok("hello, again".to_owned()));
    assert_eq!(pid.call(()), Ok(worker));
}

#[test]
fn a_vm_slot_bound_isolated_reports_the_crash_as_a_fault_and_runs_again() {
    use hotslot::Fault;
    use hotslot::vm::{Value, assemble, verify};
    let table = table();
    let src = |n: i32| {
        format!(".import 0 fragile (i32) -> i32\n    PUSH {n}\n    CALL_NATIVE 0\n    HALT\n")
    };
    let crash = Arc::new(verify(assemble(&src(13)).unwrap()).unwrap());
    let fine = Arc::new(verify(assemble(&src(8)).unwrap()).unwrap());
    let mut vm = table.vm(crash).unwrap();
    let mut again = table.vm(fine).unwrap();
    table
        .bind_library(built().c("fragile"), &isolated(None))
        .unwrap();
    let e = vm.run().unwrap_err();
    assert!(
        matches!(
            &e.fault,
            Fault::Isolated {
                slot: 0,
                function,
                failure: IsolatedFailure::Crashed {
                    how: Crash::Signal { signal: 11 }
                },
            } if function == "fragile"
        ),
        "{e:?}"
    );
    again.run().unwrap();
    assert_eq!(again.stack(), vec![Value::I32(16)]);
}

#[test]
fn a_reload_storm_on_an_isolated_binding_never_fails_a_call_and_leaves_one_worker() {
    let dir = tempdir();
    let lib = dir.path().join(hotslot_tests::library_name("fragile"));
    std::fs::copy(built().c("fragile"), &lib).unwrap();
    let table = table();
    table.bind_library(&lib, &isolated(None)).unwrap();
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    let pid = table.function::<(), i32>("pid").unwrap();
    let stop = AtomicBool::new(false);
    let mut workers = vec![pid.call(()).unwrap()];
    let calls = std::thread::scope(|s| {
        let fragile = fragile.clone();
        let stop = &stop;
        let caller = s.spawn(move || {
            let mut calls = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let i = 100 + (calls % 1000) as i32;
                assert_eq!(fragile.call(i), Ok(2 * i), "call {calls}");
                calls += 1;
            }
            calls
        });
        for _ in 0..50 {
            let report = table.reload(&lib).unwrap();
            assert_eq!(report.swaps.len(), 2, "both handles' slots");
            workers.push(pid.call(()).unwrap());
        }
        stop.store(true, Ordering::Relaxed);
        caller.join().unwrap()
    });
    assert!(calls > 0);
    assert!(table.wait_released(Duration::from_secs(10)));
    let live: Vec<i32> = workers.iter().copied().filter(|p| alive(*p)).collect();
    assert_eq!(
        live,
        vec![*workers.last().unwrap()],
        "only the serving worker"
    );
    let mut distinct = workers.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 51, "a new worker per build");
    // The binding stays isolated across reloads.
    assert!(table.libraries()[0].isolated);
    drop((fragile, pid));
    drop(table);
    let last = *workers.last().unwrap();
    let started = std::time::Instant::now();
    while alive(last) && started.elapsed() < Duration::from_secs(10) {
        std::thread::yield_now();
    }
    assert!(!alive(last), "the table's last worker goes with it");
}

#[test]
fn a_pinned_hash_is_checked_before_any_worker_starts() {
    let lib = built().c("fragile");
    let right = Sha256::of_file(&lib).unwrap();
    let wrong = Sha256([7; 32]);
    let table = table();
    let e = table
        .bind_library(
            &lib,
            &ReloadOptions {
                sha256: Some(wrong),
                ..isolated(None)
            },
        )
        .unwrap_err();
    assert!(
        matches!(hotslot_tests::load_error(e), LoadError::HashMismatch { expected, found, .. }
            if expected == wrong && found == right)
    );
    assert!(table.libraries().is_empty());
    table
        .bind_library(
            &lib,
            &ReloadOptions {
                sha256: Some(right),
                ..isolated(None)
            },
        )
        .unwrap();
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    assert_eq!(fragile.call(1), Ok(2));
}

#[test]
fn what_cannot_cross_to_a_worker_is_refused_by_name_and_the_old_binding_serves() {
    let b = built();
    let table = table();
    table.bind_library(b.c("fragile"), &isolated(None)).unwrap();
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    // The particles plugin needs a host table; its variant without one
    // takes the application's types: both live in the host's memory.
    for (lib, expected) in [
        (
            "particles_c",
            "it needs the host table `particles.Host`, which lives in the host's memory: \
             an isolated worker cannot reach it",
        ),
        (
            "particles_variant_no_host",
            "function `step` takes `&mut [Particle]`: \
             an isolated worker passes i32, i64, f64, bool and str only",
        ),
    ] {
        let e = table.bind_library(b.c(lib), &isolated(None)).unwrap_err();
        let SlotError::Isolate { source, .. } = &e else {
            panic!("{e:?}");
        };
        assert!(
            matches!(source, IsolateError::Refused { reason } if reason == expected),
            "{source:?}"
        );
    }
    assert_eq!(table.libraries().len(), 1);
    assert_eq!(fragile.call(3), Ok(6), "the old binding serves");
}

#[test]
fn a_worker_program_that_is_not_one_is_refused_with_how_it_ended() {
    let table = table();
    let options = ReloadOptions {
        isolate: Some(IsolateOptions {
            worker: Some("/bin/true".into()),
            deadline: None,
            spin: None,
            rollback_after: None,
        }),
        ..ReloadOptions::default()
    };
    let e = table
        .bind_library(built().c("fragile"), &options)
        .unwrap_err();
    let SlotError::Isolate { source, .. } = &e else {
        panic!("{e:?}");
    };
    assert!(
        matches!(
            source,
            IsolateError::Died {
                how: Crash::Exit { code: 0 }
            }
        ),
        "{source:?}"
    );
    assert!(table.libraries().is_empty());
}

#[test]
fn hotslot_run_isolate_reports_the_crashing_program_and_runs_the_others() {
    let dir = tempdir();
    let write = |name: &str, n: i32| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                ".import 0 fragile (i32) -> i32\n    PUSH {n}\n    CALL_NATIVE 0\n    PRINT\n    HALT\n"
            ),
        )
        .unwrap();
        path.display().to_string()
    };
    let (one, crash, two) = (
        write("one.hsasm", 1),
        write("crash.hsasm", 13),
        write("two.hsasm", 2),
    );
    let lib = built().c("fragile").display().to_string();
    let (status, out, err) = hotslot(&["run", &one, &crash, &two, "--lib", &lib, "--isolate"]);
    assert_eq!(status.code(), Some(4), "a program faulted: {err}");
    assert_eq!(out, "Result: 2\nResult: 4\n");
    assert_eq!(
        err.trim_end(),
        format!(
            "hotslot: {crash}: pc 1 (`CALL_NATIVE 0`): `fragile` (slot 0) gave no answer: \
             its worker process was killed by signal 11 (SIGSEGV) during the call; \
             the next call starts a new worker"
        )
    );
}

/// The fragile plugin bound isolated from a file of its own in `dir`, which
/// rolls back after `failures` failures within a minute.
fn rolling_table(
    dir: &std::path::Path,
    build: &str,
    failures: u32,
) -> (SlotTable, std::path::PathBuf) {
    let lib = dir.join(hotslot_tests::library_name("fragile"));
    std::fs::copy(built().c(build), &lib).unwrap();
    let table = table();
    let options = ReloadOptions {
        isolate: Some(IsolateOptions {
            rollback_after: Some(CrashLimit {
                failures,
                within: Duration::from_secs(60),
            }),
            ..IsolateOptions::default()
        }),
        ..ReloadOptions::default()
    };
    table.bind_library(&lib, &options).unwrap();
    (table, lib)
}

#[test]
fn failures_past_the_limit_roll_back_to_the_previous_build_once_and_say_so() {
    let dir = tempdir();
    let (table, lib) = rolling_table(dir.path(), "fragile", 3);
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    assert_eq!(fragile.call(5), Ok(10));
    let good = table.libraries()[0].generation;
    // A bad upgrade: it crashes on every input.
    std::fs::copy(built().c("fragile_crash_always"), &lib).unwrap();
    let bad = table.reload(&lib).unwrap().to_generation;
    let events = table.subscribe();

    let crashed = Err(CallError::Isolated {
        function: "fragile".into(),
        failure: IsolatedFailure::Crashed {
            how: Crash::Signal { signal: 11 },
        },
    });
    assert_eq!(fragile.call(5), crashed);
    assert_eq!(fragile.call(5), crashed);
    assert!(events.try_recv().is_err(), "two failures: no rollback yet");
    assert_eq!(
        fragile.call(5),
        crashed,
        "the third call fails, then the rollback"
    );
    let event = events
        .try_recv()
        .expect("the rollback is reported before the call returns");
    assert_eq!(
        event.kind,
        ReloadKind::CrashRollback {
            failures: 3,
            within: Duration::from_secs(60)
        }
    );
    let report = event.outcome.unwrap();
    assert_eq!(report.from_generation, Some(bad));
    assert_eq!(report.version.to_string(), "1.0.0");
    assert!(report.to_generation > bad && good < bad);
    assert_eq!(table.libraries()[0].generation, report.to_generation);
    assert!(
        table.libraries()[0].isolated,
        "the build rolled back to is isolated too"
    );

    // The good build serves again; nothing more happens.
    for i in 100..200 {
        assert_eq!(fragile.call(i), Ok(2 * i));
    }
    assert!(events.try_recv().is_err(), "one rollback, one event");
}

#[test]
fn failures_past_the_limit_with_no_previous_build_are_reported_and_the_binding_serves_on() {
    let dir = tempdir();
    let (table, _lib) = rolling_table(dir.path(), "fragile_crash_always", 2);
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    let greet = table.function::<String, String>("greet").unwrap();
    let events = table.subscribe();
    let generation = table.libraries()[0].generation;
    assert!(fragile.call(1).is_err());
    assert!(fragile.call(1).is_err());
    let event = events.try_recv().expect("the refused rollback is reported");
    assert!(matches!(
        event.kind,
        ReloadKind::CrashRollback { failures: 2, .. }
    ));
    assert!(event.outcome.is_err(), "{:?}", event.outcome);
    assert_eq!(
        table.libraries()[0].generation,
        generation,
        "the build stays"
    );
    // Its other functions are served by a new worker.
    assert_eq!(greet.call("on"), Ok("hello, on".to_owned()));
    assert!(events.try_recv().is_err());
}

#[test]
fn the_repl_with_isolate_reports_each_crash_and_goes_on() {
    let dir = tempdir();
    let program = dir.path().join("crash.hsasm");
    std::fs::write(
        &program,
        ".import 0 fragile (i32) -> i32\n    PUSH 13\n    CALL_NATIVE 0\n    PRINT\n    HALT\n",
    )
    .unwrap();
    let lib = built().c("fragile").display().to_string();
    // Run, run, quit.
    let out = hotslot_tests::repl(
        &[&program.display().to_string(), "--lib", &lib, "--isolate"],
        "1\n1\n6\n",
    );
    let faults: Vec<&str> = out.lines().filter(|l| l.starts_with("[FAULT]")).collect();
    let expected = "[FAULT] pc 1 (`CALL_NATIVE 0`): `fragile` (slot 0) gave no answer: \
                    its worker process was killed by signal 11 (SIGSEGV) during the call; \
                    the next call starts a new worker";
    assert_eq!(faults, [expected, expected], "{out}");
}

#[test]
fn state_is_carried_into_out_of_and_between_workers() {
    use hotslot::StateTransfer;
    let dir = tempdir();
    let lib = dir.path().join(hotslot_tests::library_name("counter_c"));
    std::fs::copy(built().c("counter_c"), &lib).unwrap();
    let table = table();
    // In process first.
    table.bind_library(&lib, &ReloadOptions::default()).unwrap();
    let count = table.function::<(), i64>("count").unwrap();
    let peek = table.function::<(), i64>("peek").unwrap();
    for i in 1..=3 {
        assert_eq!(count.call(()), Ok(i));
    }
    // Into a worker: the in-process build saves, the worker loads.
    let report = table.bind_library(&lib, &isolated(None)).unwrap();
    assert_eq!(
        report.state,
        Some(StateTransfer::Carried {
            version: 1,
            bytes: 8
        })
    );
    assert!(table.libraries()[0].isolated);
    assert_eq!(count.call(()), Ok(4));
    // Between workers: a reload starts a new one, which gets the count.
    let report = table.reload(&lib).unwrap();
    assert_eq!(
        report.state,
        Some(StateTransfer::Carried {
            version: 1,
            bytes: 8
        })
    );
    assert_eq!(count.call(()), Ok(5));
    assert_eq!(peek.call(()), Ok(5));
}

#[test]
fn a_crashed_worker_has_no_state_to_carry_and_none_is_made_up() {
    use hotslot::StateTransfer;
    let dir = tempdir();
    let lib = dir.path().join(hotslot_tests::library_name("counter_c"));
    std::fs::copy(built().c("counter_c"), &lib).unwrap();
    let table = table();
    table.bind_library(&lib, &isolated(None)).unwrap();
    let count = table.function::<(), i64>("count").unwrap();
    assert_eq!(count.call(()), Ok(1));
    // The worker is killed while idle: its count is lost with it.
    let worker = table.libraries()[0].generation;
    let pid = worker_pid_of(&table);
    // SAFETY: `kill` with a process id this test's table started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    while alive(pid) {
        std::thread::yield_now();
    }
    let report = table.reload(&lib).unwrap();
    assert!(
        matches!(&report.state, Some(StateTransfer::SaveFailed { message })
            if message == "its worker gave no answer: its worker could not be started again: it is not running"),
        "{:?}",
        report.state
    );
    assert_ne!(table.libraries()[0].generation, worker);
    assert_eq!(count.call(()), Ok(1), "the new build starts from nothing");
}

/// The process id of the worker serving `table`'s one isolated library.
fn worker_pid_of(table: &SlotTable) -> i32 {
    table.libraries()[0].worker_pid.expect("a running worker") as i32
}

#[test]
fn a_worker_outlives_the_thread_that_started_it_and_not_the_host() {
    // Bound on a thread that then ends: the worker serves on.
    let table = std::thread::scope(|s| s.spawn(|| fragile_table(None)).join().unwrap());
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    let pid = table.function::<(), i32>("pid").unwrap();
    let worker = table.libraries()[0].worker_pid.unwrap() as i32;
    assert_eq!(fragile.call(4), Ok(8));
    assert_eq!(pid.call(()), Ok(worker), "the same worker, alive");

    // A host killed with SIGKILL (no destructor runs) takes its worker
    // with it: `hotslot run` of a call that never returns.
    let dir = tempdir();
    let program = dir.path().join("hang.hsasm");
    std::fs::write(
        &program,
        ".import 0 fragile (i32) -> i32\n    PUSH 7\n    CALL_NATIVE 0\n    HALT\n",
    )
    .unwrap();
    let mut host = std::process::Command::new(built().hotslot())
        .arg("run")
        .arg(&program)
        .args([
            "--lib",
            &built().c("fragile").display().to_string(),
            "--isolate",
        ])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let host_pid = host.id() as i32;
    // Its worker (its supervisor's child) is busy in the endless call.
    let worker = loop {
        let busy = descendants(host_pid).into_iter().find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| s.contains(") R "))
        });
        if let Some(w) = busy {
            break w;
        }
        std::thread::yield_now();
    };
    host.kill().unwrap();
    host.wait().unwrap();
    let started = std::time::Instant::now();
    while alive(worker) && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(!alive(worker), "the worker {worker} went with its host");
}

#[test]
fn threads_calling_one_isolated_build_take_turns_and_each_gets_its_own_answer() {
    let table = fragile_table(None);
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    let greet = table.function::<String, String>("greet").unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let fragile = fragile.clone();
            let greet = greet.clone();
            s.spawn(move || {
                for i in 0..500 {
                    let n = 100 + t * 1000 + i;
                    assert_eq!(fragile.call(n), Ok(2 * n));
                    let who = format!("thread {t} call {i}");
                    assert_eq!(greet.call(who.as_str()), Ok(format!("hello, {who}")));
                }
            });
        }
    });
    assert_eq!(table.function::<(), i32>("count").unwrap().call(()), Ok(1));
}

#[test]
fn watch_mode_reloads_an_isolated_binding_into_a_new_worker_and_skips_unchanged_bytes() {
    let dir = tempdir();
    let (table, lib) = rolling_table(dir.path(), "fragile", 3);
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    assert_eq!(fragile.call(2), Ok(4));
    let (generation, worker) = {
        let l = &table.libraries()[0];
        (l.generation, l.worker_pid.unwrap())
    };
    let events = table.subscribe();
    let _watcher = table.watch(hotslot::WatchOptions::default()).unwrap();

    // A rebuild (the crashing build, version 1.1.0), deployed by a rename.
    let deploy = || {
        let staged = dir.path().join("staged.tmp");
        std::fs::copy(built().c("fragile_crash_always"), &staged).unwrap();
        std::fs::rename(&staged, &lib).unwrap();
    };
    deploy();
    let event = events.recv_timeout(Duration::from_secs(30)).unwrap();
    let report = event.outcome.unwrap();
    assert!(!report.unchanged);
    assert_eq!(report.version.to_string(), "1.1.0");
    let now = &table.libraries()[0];
    assert!(now.isolated && now.generation > generation);
    assert_ne!(
        now.worker_pid,
        Some(worker),
        "a new worker for the new build"
    );
    // The old build is released once no call can run in it, its worker
    // with it.
    assert!(table.wait_released(Duration::from_secs(10)));
    let started = std::time::Instant::now();
    while alive(worker as i32) && started.elapsed() < Duration::from_secs(10) {
        std::thread::yield_now();
    }
    assert!(!alive(worker as i32), "the old worker is gone");

    // The same bytes deployed again: looked at, found the same, no worker
    // started.
    let serving = table.libraries()[0].generation;
    deploy();
    let event = events.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(event.outcome.unwrap().unchanged);
    assert_eq!(table.libraries()[0].generation, serving);
}

#[test]
fn a_worker_program_held_open_for_writing_is_refused_until_it_is_closed() {
    // What a program written just before it starts meets when another
    // thread forks meanwhile (its child holds the writer until it execs):
    // here the writer is held for good, so every try fails.
    let dir = tempdir();
    let worker = dir.path().join("hotslot-worker");
    std::fs::copy(built().debug_dir.join("hotslot-worker"), &worker).unwrap();
    let writer = std::fs::OpenOptions::new()
        .write(true)
        .open(&worker)
        .unwrap();
    let table = table();
    let options = ReloadOptions {
        isolate: Some(IsolateOptions {
            worker: Some(worker.clone()),
            ..IsolateOptions::default()
        }),
        ..ReloadOptions::default()
    };
    let e = table
        .bind_library(built().c("fragile"), &options)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Text file busy"), "{e}");
    assert!(table.libraries().is_empty(), "nothing bound");
    drop(writer);
    table.bind_library(built().c("fragile"), &options).unwrap();
    assert_eq!(
        table.function::<i32, i32>("fragile").unwrap().call(3),
        Ok(6)
    );
}

#[test]
fn a_worker_program_others_can_write_to_is_refused_like_a_library() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let worker = dir.path().join("hotslot-worker");
    let ours = built().debug_dir.join("hotslot-worker");
    std::fs::copy(&ours, &worker).unwrap();
    std::fs::set_permissions(&worker, std::fs::Permissions::from_mode(0o777)).unwrap();
    let table = table();
    let options = ReloadOptions {
        isolate: Some(IsolateOptions {
            worker: Some(worker.clone()),
            ..IsolateOptions::default()
        }),
        ..ReloadOptions::default()
    };
    let e = hotslot_tests::load_error(
        table
            .bind_library(built().c("fragile"), &options)
            .unwrap_err(),
    );
    assert!(
        matches!(&e, LoadError::Untrusted(hotslot::TrustError::WritableByOthers { path, mode: 0o777 })
            if *path == std::fs::canonicalize(&worker).unwrap()),
        "{e:?}"
    );
    assert!(
        table.libraries().is_empty(),
        "nothing started, nothing bound"
    );
    // The same program, closed to others, serves.
    std::fs::set_permissions(&worker, std::fs::Permissions::from_mode(0o755)).unwrap();
    table.bind_library(built().c("fragile"), &options).unwrap();
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    assert_eq!(fragile.call(3), Ok(6));
}

/// A table with the hostile plugin bound isolated.
fn hostile_table() -> SlotTable {
    let table = table();
    table
        .bind_library(built().c("hostile"), &isolated(None))
        .unwrap();
    table
}

#[test]
fn a_worker_cannot_resize_reseal_or_unmap_the_channel_under_the_host() {
    let table = hostile_table();
    let call = |name: &str| table.function::<(), i32>(name).unwrap().call(());
    let twice = table.function::<i32, i32>("twice").unwrap();
    let pid = table.function::<(), i32>("pid").unwrap();
    let first = pid.call(()).unwrap();
    // Sealed: a shrink (which would fault the host's mapping: SIGBUS), a
    // growth and a new seal all fail in the worker.
    assert_eq!(call("shrink"), Ok(libc::EPERM));
    assert_eq!(call("grow"), Ok(libc::EPERM));
    assert_eq!(call("seal"), Ok(libc::EPERM));
    assert_eq!(twice.call(21), Ok(42));
    assert_eq!(pid.call(()), Ok(first), "the same worker serves on");
    // A worker that unmaps its own view faults on its reply: that call
    // fails, and the next worker maps the channel as the first did.
    assert_eq!(
        call("unmap"),
        Err(CallError::Isolated {
            function: "unmap".into(),
            failure: IsolatedFailure::Crashed {
                how: Crash::Signal { signal: 11 }
            },
        })
    );
    assert_eq!(twice.call(5), Ok(10));
    assert_ne!(pid.call(()), Ok(first));
}

#[test]
fn a_worker_closing_every_descriptor_it_has_serves_on_with_the_cpu_busy() {
    let table = hostile_table();
    let twice = table.function::<i32, i32>("twice").unwrap();
    let pid = table.function::<(), i32>("pid").unwrap();
    let close = table.function::<(), i32>("close_fds").unwrap();
    let unmap = table.function::<(), i32>("unmap").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let burners: Vec<_> = (0..2)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    // Each round's worker closes its descriptors in its first call, as
    // soon as it serves, then serves on; its crash starts the next one.
    for round in 0..20 {
        assert_eq!(close.call(()), Ok(0), "round {round}");
        let worker = pid.call(()).unwrap();
        for i in 0..50 {
            assert_eq!(twice.call(i), Ok(2 * i), "round {round}, call {i}");
        }
        assert_eq!(pid.call(()), Ok(worker), "the same worker, all along");
        assert!(unmap.call(()).is_err(), "its crash ends round {round}");
    }
    stop.store(true, Ordering::Relaxed);
    for b in burners {
        b.join().unwrap();
    }
}

#[test]
fn a_reply_to_another_call_is_refused_and_the_call_numbers_stay_the_hosts() {
    let table = hostile_table();
    let last_call = table.function::<(), i64>("last_call").unwrap();
    let forge = table.function::<i32, i32>("forge_call").unwrap();
    let n = last_call.call(()).unwrap();
    // The worker adds 1000 to the number in the channel during a call: the
    // host numbers the next calls from its own count.
    assert_eq!(forge.call(1000), Ok(0));
    assert_eq!(last_call.call(()), Ok(n + 2));
    // A reply for the next call, written during this one: refused, with
    // both numbers; the worker is stopped and the next call starts another.
    let answer = table.function::<(), i32>("answer_other").unwrap();
    let expected = (n + 3) as u32;
    assert_eq!(
        answer.call(()),
        Err(CallError::Isolated {
            function: "answer_other".into(),
            failure: IsolatedFailure::Protocol {
                expected,
                found: expected + 1,
            },
        })
    );
    assert_eq!(table.function::<i32, i32>("twice").unwrap().call(8), Ok(16));
}

/// The forker plugin bound isolated: its constructor's child, a child of
/// a call and a daemon (a grandchild in a session of its own).
fn forked(table: &SlotTable) -> [i32; 3] {
    let spawn = table.function::<i32, i32>("spawn_child").unwrap();
    let daemonize = table.function::<i32, i32>("daemonize").unwrap();
    let from_constructor = table.function::<(), i32>("constructor_child").unwrap();
    let pids = [
        from_constructor.call(()).unwrap(),
        spawn.call(600).unwrap(),
        daemonize.call(600).unwrap(),
    ];
    for pid in pids {
        assert!(pid > 0 && alive(pid), "{pids:?}");
    }
    pids
}

#[test]
fn every_process_a_worker_started_ends_with_its_worker_its_build_and_its_table() {
    let table = table();
    table
        .bind_library(built().c("forker"), &isolated(None))
        .unwrap();
    // A crash of the worker.
    let pids = forked(&table);
    assert!(matches!(
        table.function::<(), i32>("crash").unwrap().call(()),
        Err(CallError::Isolated {
            failure: IsolatedFailure::Crashed { .. },
            ..
        })
    ));
    for pid in pids {
        assert!(ends(pid), "{pid} ended with its crashed worker");
    }
    // A reload: the old build's worker stops.
    let pids = forked(&table);
    table.reload(built().c("forker")).unwrap();
    assert!(table.wait_released(Duration::from_secs(30)));
    for pid in pids {
        assert!(ends(pid), "{pid} ended with its build");
    }
    // The table (no handle of it is left).
    let pids = forked(&table);
    drop(table);
    for pid in pids {
        assert!(ends(pid), "{pid} ended with the table");
    }
}

#[test]
fn hotslot_run_isolate_into_a_pipe_returns_at_once_and_leaves_no_process_of_its_worker() {
    let dir = tempdir();
    let program = dir.path().join("fork.hsasm");
    std::fs::write(
        &program,
        ".import 0 spawn_child (i32) -> i32\n.import 1 daemonize (i32) -> i32\n\
         .import 2 constructor_child () -> i32\n\
         PUSH 600\nCALL_NATIVE 0\nPRINT\nPUSH 600\nCALL_NATIVE 1\nPRINT\nCALL_NATIVE 2\nPRINT\nHALT\n",
    )
    .unwrap();
    let script = format!(
        "'{}' run '{}' --lib '{}' --isolate | cut -c1-14",
        built().hotslot().display(),
        program.display(),
        built().c("forker").display()
    );
    // The processes the plugin started hold hotslot's standard output: the
    // pipe ends (and `cut` with it) once they are gone. A deadline fails
    // the test instead of waiting the 600 s they sleep.
    let mut shell = std::process::Command::new("sh")
        .args(["-c", &script])
        .stdout(std::process::Stdio::piped())
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = shell.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
        let _ = tx.send(out);
    });
    let out = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the pipeline ended: nothing of the worker's held it open");
    assert!(shell.wait().unwrap().success());
    let pids: Vec<i32> = out
        .lines()
        .map(|l| l.trim_start_matches("Result: ").parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 3, "{out}");
    for pid in pids {
        assert!(!alive(pid), "{pid} outlived hotslot");
    }
}

#[test]
fn a_host_killed_with_sigkill_takes_every_process_its_workers_started() {
    let dir = tempdir();
    let program = dir.path().join("fork-then-wait.hsasm");
    // Starts two processes, prints their ids, then loops until killed.
    std::fs::write(
        &program,
        ".import 0 spawn_child (i32) -> i32\n.import 1 daemonize (i32) -> i32\n\
         PUSH 600\nCALL_NATIVE 0\nPRINT\nPUSH 600\nCALL_NATIVE 1\nPRINT\n\
         forever:\nPUSH 1\nJNZ forever\nHALT\n",
    )
    .unwrap();
    let mut host = std::process::Command::new(built().hotslot())
        .arg("run")
        .arg(&program)
        .args([
            "--lib",
            &built().c("forker").display().to_string(),
            "--isolate",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(host.stdout.take().unwrap()));
    let mut pids = Vec::new();
    for _ in 0..2 {
        let line = lines.next().unwrap().unwrap();
        pids.push(line.trim_start_matches("Result: ").parse::<i32>().unwrap());
    }
    host.kill().unwrap();
    host.wait().unwrap();
    for pid in pids {
        assert!(ends(pid), "{pid} ended with its host");
    }
    // And the pipe they held: its end comes once all are gone.
    assert!(lines.next().is_none());
}

#[test]
fn a_copy_directory_with_isolation_is_refused_with_the_reason_and_nothing_starts() {
    let dir = tempdir();
    let copies = dir.path().join("copies");
    // SAFETY: the fixtures are this test suite's own builds.
    let table = unsafe {
        SlotTable::with_options(hotslot::TableOptions {
            copies: hotslot::plugin::CopyPlace::Dir(copies.clone()),
            ..hotslot::TableOptions::default()
        })
    }
    .unwrap();
    let e = table
        .bind_library(built().c("fragile"), &isolated(None))
        .unwrap_err();
    let SlotError::Isolate { source, .. } = &e else {
        panic!("{e:?}");
    };
    assert!(
        matches!(source, IsolateError::CopiesInDirectory { dir } if *dir == copies),
        "{e}"
    );
    assert!(table.libraries().is_empty());

    let program = dir.path().join("p.hsasm");
    std::fs::write(
        &program,
        ".import 0 fragile (i32) -> i32\nPUSH 2\nCALL_NATIVE 0\nPRINT\nHALT\n",
    )
    .unwrap();
    let (status, out, err) = hotslot(&[
        "run",
        &program.display().to_string(),
        "--lib",
        &built().c("fragile").display().to_string(),
        "--isolate",
        "--copy-dir",
        &copies.display().to_string(),
    ]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains(&format!(
            "an isolated build is handed to its worker as the sealed memory copy this process \
             checked, and copies are kept in `{}` here",
            copies.display()
        )),
        "{err}"
    );
}

#[test]
fn a_snapshot_saved_isolated_is_restored_isolated_and_restore_isolate_isolates_any() {
    let dir = tempdir();
    let program = dir.path().join("crash-later.hsasm");
    // One backward jump, then a call that crashes the plugin.
    std::fs::write(
        &program,
        ".import 0 fragile (i32) -> i32\n.local i i32\n    PUSH 2\n    STORE i\nagain:\n\
         LOAD i\n    PUSH 1\n    SUB\n    DUP\n    STORE i\n    JNZ again\n\
         PUSH 13\n    CALL_NATIVE 0\n    PRINT\n    HALT\n",
    )
    .unwrap();
    let lib = built().c("fragile").display().to_string();
    let save = |name: &str, isolate: bool| {
        let out = dir.path().join(name);
        let mut args = vec![
            "snapshot".to_owned(),
            "save".into(),
            program.display().to_string(),
            "--bind".into(),
            format!("0={lib}"),
            "--steps".into(),
            "1".into(),
            "-o".into(),
            out.display().to_string(),
        ];
        if isolate {
            args.extend(["--isolate".into(), "--deadline".into(), "30000".into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, _, err) = hotslot(&args);
        assert!(status.success(), "{err}");
        out
    };
    let crashed_isolated = |status: std::process::ExitStatus, err: &str| {
        assert_eq!(
            status.code(),
            Some(4),
            "a contained fault, not a dead host: {err}"
        );
        assert!(
            err.contains("its worker process was killed by signal 11 (SIGSEGV) during the call"),
            "{err}"
        );
    };

    let isolated_file = save("isolated.json", true);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&isolated_file).unwrap()).unwrap();
    assert_eq!(saved["version"], hotslot::snapshot::VERSION);
    assert_eq!(saved["slots"][0]["isolate"]["deadline_ms"], 30000);
    let (status, _, err) = hotslot(&["snapshot", "restore", &isolated_file.display().to_string()]);
    crashed_isolated(status, &err);

    // Saved in process: `restore --isolate` runs it in a worker.
    let plain_file = save("plain.json", false);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plain_file).unwrap()).unwrap();
    assert!(saved["slots"][0].get("isolate").is_none());
    let (status, _, err) = hotslot(&[
        "snapshot",
        "restore",
        &plain_file.display().to_string(),
        "--isolate",
    ]);
    crashed_isolated(status, &err);
}
