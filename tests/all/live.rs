//! Live development: watch mode, state carried across reloads, rollback,
//! reload events, and snapshots restored in another process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotslot::vm::Value;
use hotslot::{ReloadKind, StateTransfer, WatchOptions};
use hotslot_tests::{
    CALL_OP, adder, built, hotslot, install, library_name, program, rebuild_math_ops_multiplying,
    tempdir, top,
};

#[test]
fn watch_mode_reloads_a_rebuilt_plugin_with_no_command() {
    let dir = tempdir();
    let lib = dir.path().join(library_name("live"));
    let table = hotslot_tests::table();
    let mut vm = table.vm(program(CALL_OP)).unwrap();
    built().build_c("tests/fixtures/c/adder.c", &lib, &[]);
    table.bind(0, &lib, None).unwrap();
    let events = table.subscribe();
    // Its watches are set when `watch` returns.
    let _watcher = table.watch(WatchOptions::default()).unwrap();
    assert_eq!(top(&mut vm), Value::I32(13));

    // The compiler writes the library in place, as `cc -o` does.
    built().build_c(
        "tests/fixtures/c/adder.c",
        &lib,
        &["OP(a,b)=((a)*(b))", "FN_MINOR=1"],
    );
    let written = Instant::now();
    let event = events
        .recv_timeout(Duration::from_secs(10))
        .expect("a watch reload");
    assert_eq!(event.kind, ReloadKind::Watch);
    assert!(event.outcome.is_ok(), "{event}");
    assert_eq!(top(&mut vm), Value::I32(42));
    eprintln!(
        "first call on the new build {:?} after the write",
        written.elapsed()
    );

    // A file caught half-written is left alone: its writer's next write
    // brings another event.
    let good = std::fs::read(&lib).unwrap();
    std::fs::write(&lib, &good[..good.len() / 2]).unwrap();
    assert!(
        events.recv_timeout(Duration::from_millis(500)).is_err(),
        "no reload of a half-written file"
    );
    assert_eq!(top(&mut vm), Value::I32(42));

    // A complete library that is not a valid plugin is refused and reported;
    // the last good build serves.
    install(&built().broken("BAD_MAGIC"), &lib);
    let event = events
        .recv_timeout(Duration::from_secs(10))
        .expect("a refused watch reload");
    assert!(
        event
            .outcome
            .as_ref()
            .is_err_and(|e| e.contains("bad descriptor magic")),
        "{event}"
    );
    assert_eq!(top(&mut vm), Value::I32(42));
}

#[test]
fn the_repl_in_watch_mode_sees_a_rebuild_without_a_command() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempdir();
    let lib = dir.path().join(library_name("math_ops"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    let mut child = std::process::Command::new(built().hotslot())
        .args(["repl", "--watch", "--bind"])
        .arg(format!("0={}", lib.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let tx = lines.0;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    let wait_for = |needle: &str| -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let line = lines
                .1
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no `{needle}`"));
            if line.contains(needle) {
                return line;
            }
        }
    };
    writeln!(stdin, "1").unwrap();
    wait_for("Result: 15");
    // Rebuild math_ops.c so that math_add multiplies, as the demo does.
    rebuild_math_ops_multiplying(dir.path(), &lib);
    let event = wait_for("[EVENT] watch reload");
    assert!(
        event.contains("`math_add` 1.0.0 -> 1.1.0"),
        "no refusal of a half-written file first: {event}"
    );
    writeln!(stdin, "1").unwrap();
    wait_for("Result: 50");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_counter_survives_a_reload_in_rust_and_in_c() {
    let b = built();
    for (name, source) in [("rust", b.rust("hotslot-counter")), ("c", b.c("counter_c"))] {
        let dir = tempdir();
        let lib = dir.path().join(library_name("counter"));
        install(&source, &lib);
        let table = hotslot_tests::table();
        let mut vm = table
            .vm(program(".import 0 count () -> i64\nCALL_NATIVE 0\nHALT"))
            .unwrap();
        table.bind(0, &lib, None).unwrap();
        for expected in 1..=3 {
            assert_eq!(top(&mut vm), Value::I64(expected), "{name}");
        }
        let report = table.reload(&lib).unwrap();
        assert_eq!(
            report.state,
            Some(StateTransfer::Carried {
                version: 1,
                bytes: 8
            }),
            "{name}"
        );
        assert_eq!(
            top(&mut vm),
            Value::I64(4),
            "{name}: the count goes on in the new build"
        );
    }
}

#[test]
fn a_state_the_new_build_does_not_accept_is_reported_and_it_starts_fresh() {
    let b = built();
    let dir = tempdir();
    let lib = dir.path().join(library_name("counter"));
    install(&b.rust("hotslot-counter"), &lib);
    let table = hotslot_tests::table();
    let mut vm = table
        .vm(program(".import 0 count () -> i64\nCALL_NATIVE 0\nHALT"))
        .unwrap();
    table.bind(0, &lib, None).unwrap();
    top(&mut vm);
    top(&mut vm);
    install(&b.rust("hotslot-fixture-counter-state-v2"), &lib);
    let report = table.reload(&lib).unwrap();
    match &report.state {
        Some(StateTransfer::Refused {
            version: 1,
            message,
        }) => {
            assert_eq!(message, "state version 1 is not 2");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(top(&mut vm), Value::I64(1), "the new build starts fresh");
}

#[test]
fn a_rollback_restores_the_previous_build() {
    let dir = tempdir();
    let add = adder(dir.path(), "add", &[]);
    let mul = adder(dir.path(), "mul", &["OP(a,b)=((a)*(b))", "FN_MINOR=1"]);
    let lib = dir.path().join(library_name("live"));
    install(&add, &lib);
    let table = hotslot_tests::table();
    let mut vm = table.vm(program(CALL_OP)).unwrap();
    let events = table.subscribe();
    let e = table.rollback(&lib).unwrap_err();
    assert!(matches!(e, hotslot::SlotError::NotBound { .. }), "{e}");
    table.bind(0, &lib, None).unwrap();
    let e = table.rollback(&lib).unwrap_err();
    assert!(matches!(e, hotslot::SlotError::NoPrevious { .. }), "{e}");

    install(&mul, &lib);
    table.reload(&lib).unwrap();
    assert_eq!(top(&mut vm), Value::I32(42));
    // The hot fix went wrong: back to the previous build, version 1.0.0
    // below the running 1.1.0, which a rollback may do.
    let report = table.rollback(&lib).unwrap();
    assert_eq!(report.swaps[0].to, semver::Version::new(1, 0, 0));
    assert_eq!(top(&mut vm), Value::I32(13));
    // Rolling back again returns to the build rolled back from.
    table.rollback(&lib).unwrap();
    assert_eq!(top(&mut vm), Value::I32(42));

    let kinds: Vec<(ReloadKind, bool)> = events
        .try_iter()
        .map(|e| (e.kind, e.outcome.is_ok()))
        .collect();
    assert_eq!(
        kinds,
        [
            (ReloadKind::Rollback, false),
            (ReloadKind::Bind, true),
            (ReloadKind::Rollback, false),
            (ReloadKind::Reload, true),
            (ReloadKind::Rollback, true),
            (ReloadKind::Rollback, true),
        ]
    );
}

#[test]
fn reload_events_say_what_swapped_and_why_a_reload_was_refused() {
    let dir = tempdir();
    let add = adder(dir.path(), "add", &[]);
    let wide = adder(dir.path(), "wide", &["WIDE"]);
    let lib = dir.path().join(library_name("live"));
    install(&add, &lib);
    let table = hotslot_tests::table();
    let _vm = table.vm(program(CALL_OP)).unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    table.on_event(move |e| s.lock().unwrap().push(e.to_string()));
    // A channel gets the same events; one whose receiver is gone is dropped.
    let events = table.subscribe();
    drop(table.subscribe());
    table.bind(0, &lib, None).unwrap();
    install(&wide, &lib);
    table.reload(&lib).unwrap_err();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let received: Vec<String> = events.try_iter().map(|e| e.to_string()).collect();
    assert_eq!(received, *seen);
    assert!(
        seen[0].starts_with(&format!("bind {}: adder 1.0.0 (generation ", lib.display())),
        "{}",
        seen[0]
    );
    assert!(seen[0].contains("; slot 0 `op` 1.0.0"), "{}", seen[0]);
    assert!(
        seen[0].contains(") in "),
        "the event says how long it took: {}",
        seen[0]
    );
    assert_eq!(
        seen[1],
        format!(
            "reload {} refused: slot 0: signature mismatch for `op`: expected (i32, i32) -> i32, found (i64, i64) -> i64",
            lib.display()
        )
    );
}

#[test]
fn a_snapshot_saved_in_one_process_restores_in_another() {
    let b = built();
    let dir = tempdir();
    let lib = dir.path().join(library_name("math_ops"));
    install(&b.c("math_ops"), &lib);
    let prog = dir.path().join("count.hsasm");
    std::fs::write(
        &prog,
        ".import 0 math_add (i32, i32) -> i32 ^1.0\n.local i i32\n.local sum i32\n.local label str\n\
         PUSH \"sum\"\nSTORE label\nPUSH 5\nSTORE i\nnext: LOAD sum\nLOAD i\nCALL_NATIVE 0\nDUP\nSTORE sum\nPRINT\n\
         LOAD i\nPUSH 1\nSUB\nDUP\nSTORE i\nJNZ next\nLOAD label\nPRINT\nHALT\n",
    )
    .unwrap();
    let snap = dir.path().join("snap.json");
    let bind = format!("0={}", lib.display());
    let (status, first, err) = hotslot(&[
        "snapshot",
        "save",
        prog.to_str().unwrap(),
        "--bind",
        &bind,
        "--steps",
        "2",
        "-o",
        snap.to_str().unwrap(),
    ]);
    assert!(status.success(), "{err}");
    let (status, second, err) = hotslot(&["snapshot", "restore", snap.to_str().unwrap()]);
    assert!(status.success(), "{err}");
    let (_, whole, _) = hotslot(&["run", prog.to_str().unwrap(), "--bind", &bind]);
    assert_eq!(
        format!("{first}{second}"),
        whole,
        "the two halves make the whole run"
    );
    assert!(whole.ends_with("Result: 15\nResult: sum\n"), "{whole}");

    // A library that changed since is refused before it is opened, and
    // nothing runs.
    let mut bytes = std::fs::read(&lib).unwrap();
    bytes.push(0);
    std::fs::write(&lib, bytes).unwrap();
    let (status, out, err) = hotslot(&["snapshot", "restore", snap.to_str().unwrap()]);
    assert_eq!(status.code(), Some(3), "a refused library");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("has SHA-256") && err.contains("expected"),
        "{err}"
    );
}
