//! Observers of reload events: they may use the table they observe, and a
//! panicking one cannot break a reload, the other observers or watch mode.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use hotslot::vm::Value;
use hotslot::{ReloadKind, WatchOptions};
use hotslot_tests::{CALL_OP, adder, built, install, library_name, program, tempdir, top};

/// Runs `f` on another thread and fails if it has not finished within a
/// minute: a deadlock fails the test instead of hanging the suite.
fn within_a_minute(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: report its panic.
            std::panic::resume_unwind(t.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("deadlocked"),
    }
}

#[test]
fn an_observer_may_roll_back_subscribe_and_observe_the_table_it_observes() {
    within_a_minute(|| {
        let dir = tempdir();
        let add = adder(dir.path(), "add", &[]);
        let mul = adder(dir.path(), "mul", &["OP(a,b)=((a)*(b))", "FN_MINOR=1"]);
        let lib = dir.path().join(library_name("live"));
        install(&add, &lib);
        let table = hotslot_tests::table();
        let mut vm = table.vm(program(CALL_OP)).unwrap();

        // Auto-rollback: a refused reload sends the library back to its
        // previous build. The observer also subscribes and adds an
        // observer from inside, on the same table.
        let kinds = Arc::new(Mutex::new(Vec::new()));
        let inner_events = Arc::new(Mutex::new(None));
        let observer_table = table.clone();
        let (k, inner) = (Arc::clone(&kinds), Arc::clone(&inner_events));
        table.on_event(move |e| {
            k.lock().unwrap().push((e.kind, e.outcome.is_ok()));
            if e.kind == ReloadKind::Reload && e.outcome.is_err() {
                let mut inner = inner.lock().unwrap();
                if inner.is_none() {
                    *inner = Some(observer_table.subscribe());
                    observer_table.on_event(|_| {});
                }
                observer_table
                    .rollback(&e.library)
                    .expect("the previous build is there");
            }
        });

        table.bind(0, &lib, None).unwrap();
        install(&mul, &lib);
        table.reload(&lib).unwrap();
        assert_eq!(top(&mut vm), Value::I32(42));
        install(&adder(dir.path(), "wide", &["WIDE", "FN_MINOR=2"]), &lib);
        table.reload(&lib).unwrap_err();
        assert_eq!(top(&mut vm), Value::I32(13), "rolled back to `add`");
        assert_eq!(
            *kinds.lock().unwrap(),
            [
                (ReloadKind::Bind, true),
                (ReloadKind::Reload, true),
                (ReloadKind::Reload, false),
                (ReloadKind::Rollback, true),
            ]
        );
        // The channel subscribed from inside saw the rollback, made after
        // it subscribed.
        let inner = inner_events.lock().unwrap().take().unwrap();
        let seen: Vec<ReloadKind> = inner.try_iter().map(|e| e.kind).collect();
        assert_eq!(seen, [ReloadKind::Rollback]);
    });
}

#[test]
fn a_panicking_observer_is_removed_and_the_others_still_hear_every_event() {
    let dir = tempdir();
    let add = adder(dir.path(), "add", &[]);
    let lib = dir.path().join(library_name("live"));
    install(&add, &lib);
    let table = hotslot_tests::table();
    let _vm = table.vm(program(CALL_OP)).unwrap();
    let panics = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&panics);
    table.on_event(move |_| {
        p.fetch_add(1, Ordering::SeqCst);
        panic!("an observer's bug");
    });
    let events = table.subscribe();

    let report = table.bind(0, &lib, None);
    assert!(report.is_ok(), "the bind committed and says so");
    table.reload(&lib).unwrap();
    table.reload(&lib).unwrap();
    assert_eq!(panics.load(Ordering::SeqCst), 1, "removed after its panic");
    let kinds: Vec<ReloadKind> = events.try_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [ReloadKind::Bind, ReloadKind::Reload, ReloadKind::Reload]
    );
}

#[test]
fn watch_mode_goes_on_after_an_observer_panics() {
    let dir = tempdir();
    let lib = dir.path().join(library_name("live"));
    built().build_c("tests/fixtures/c/adder.c", &lib, &[]);
    let table = hotslot_tests::table();
    let mut vm = table.vm(program(CALL_OP)).unwrap();
    table.bind(0, &lib, None).unwrap();
    table.on_event(|_| panic!("an observer's bug"));
    let events = table.subscribe();
    let _watcher = table.watch(WatchOptions::default()).unwrap();
    for (minor, op, expected) in [(1, "((a)*(b))", 42), (2, "((a)-(b))", -1)] {
        built().build_c(
            "tests/fixtures/c/adder.c",
            &lib,
            &[&format!("OP(a,b)={op}"), &format!("FN_MINOR={minor}")],
        );
        let event = events
            .recv_timeout(Duration::from_secs(20))
            .expect("the watch thread saw the rebuild");
        assert_eq!(event.kind, ReloadKind::Watch);
        assert!(event.outcome.is_ok(), "{event}");
        assert_eq!(top(&mut vm), Value::I32(expected));
    }
}
