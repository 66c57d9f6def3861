//! The host application calling plugin functions itself, through typed
//! handles: C and Rust plugins, reloads while two threads call, a call in
//! flight across a reload, strings, and every typed error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hotslot::{CallError, FunctionOptions, ReloadOptions, SlotError};
use hotslot_tests::{adder, built, install, is_mapped, library_name, table, tempdir};

#[test]
fn c_and_rust_functions_are_called_from_rust_with_their_types() {
    let b = built();
    for lib in [b.c("math_ops"), b.rust("hotslot-math-ops")] {
        let table = table();
        table.bind_library(&lib, &ReloadOptions::default()).unwrap();
        let add = table.function::<(i32, i32), i32>("math_add").unwrap();
        assert_eq!(add.call((10, 5)), Ok(15), "{}", lib.display());
        let add_f64 = table.function::<(f64, f64), f64>("math_add_f64").unwrap();
        assert_eq!(add_f64.call((0.5, 0.25)), Ok(0.75));
        let mul_i64 = table.function::<(i64, i64), i64>("math_mul_i64").unwrap();
        assert_eq!(mul_i64.call((1 << 40, 3)), Ok(3 << 40));
    }

    let table = table();
    table
        .bind_library(b.rust("hotslot-string-ops"), &ReloadOptions::default())
        .unwrap();
    let upper = table.function::<String, String>("str_upper").unwrap();
    assert_eq!(upper.call("hello"), Ok("HELLO".to_owned()));
    let repeat = table
        .function::<(String, i32), String>("str_repeat")
        .unwrap();
    assert_eq!(repeat.call(("ab", 3)), Ok("ababab".to_owned()));
    assert_eq!(
        repeat.call(("ab", -1)),
        Err(CallError::Native {
            function: "str_repeat".into(),
            message: "cannot repeat a string -1 times".into()
        })
    );
    let len = table.function::<String, i64>("str_len").unwrap();
    assert_eq!(len.call(String::from("héllo")), Ok(5), "characters");
}

#[test]
fn a_panicking_plugin_and_a_mismatched_signature_are_typed_errors() {
    let b = built();
    let table = table();
    table
        .bind_library(b.rust("hotslot-fixture-panicky"), &ReloadOptions::default())
        .unwrap();
    let boom = table.function::<i32, i32>("boom").unwrap();
    for _ in 0..3 {
        assert_eq!(
            boom.call(7),
            Err(CallError::Panic {
                function: "boom".into(),
                message: "boom #7".into()
            })
        );
    }
    let divide = table.function::<(i32, i32), i32>("divide").unwrap();
    assert_eq!(divide.call((7, 2)), Ok(3), "the plugin goes on answering");

    let e = table.function::<(i64, i64), i64>("divide").unwrap_err();
    assert!(matches!(e, SlotError::Signature { .. }), "{e}");
    let e = table
        .function_with::<(i32, i32), i32>(
            "divide",
            &FunctionOptions {
                requirement: Some("^2.0".parse().unwrap()),
                ..FunctionOptions::default()
            },
        )
        .unwrap_err();
    assert!(matches!(e, SlotError::Version { .. }), "{e}");
}

#[test]
fn handles_follow_reloads_while_two_threads_call() {
    let dir = tempdir();
    let add = adder(dir.path(), "add", &[]);
    let mul = adder(dir.path(), "mul", &["OP(a,b)=((a)*(b))"]);
    let wide = adder(dir.path(), "wide", &["WIDE", "FN_MINOR=1"]);
    let lib = dir.path().join(library_name("live"));
    install(&add, &lib);
    let table = table();
    table.bind_library(&lib, &ReloadOptions::default()).unwrap();
    let op = table.function::<(i32, i32), i32>("op").unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (op, stop, calls) = (op.clone(), Arc::clone(&stop), Arc::clone(&calls));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let r = op.call((6, 7)).expect("every call answers");
                    assert!(r == 13 || r == 42, "a call returned {r}");
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for i in 0..200 {
        install(if i % 2 == 0 { &mul } else { &add }, &lib);
        table.reload(&lib).unwrap();
        // A build that would change the handle's signature is refused.
        if i % 50 == 0 {
            install(&wide, &lib);
            let e = table.reload(&lib).unwrap_err();
            assert!(matches!(e, SlotError::Signature { .. }), "{e}");
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("no caller failed");
    }
    assert!(calls.load(Ordering::Relaxed) > 0);
    install(&mul, &lib);
    table.reload(&lib).unwrap();
    assert_eq!(op.call((6, 7)), Ok(42), "the next call runs the new build");
    drop(op);
    assert!(table.wait_released(Duration::from_secs(10)));
    assert!(table.pending_releases().is_empty());
}

#[test]
fn a_call_in_flight_finishes_on_its_build_which_is_released_after() {
    let dir = tempdir();
    let go = dir.path().join("go");
    let hold = adder(dir.path(), "hold", &[&format!("HOLD=\"{}\"", go.display())]);
    let mul = adder(dir.path(), "mul", &["OP(a,b)=((a)*(b))", "FN_MINOR=1"]);
    let lib = dir.path().join(library_name("live"));
    install(&hold, &lib);
    let table = table();
    table.bind_library(&lib, &ReloadOptions::default()).unwrap();
    let old = table.libraries()[0].clone();
    let op = table.function::<(i32, i32), i32>("op").unwrap();
    let held = {
        let op = op.clone();
        std::thread::spawn(move || op.call((6, 7)))
    };
    let entered = go.with_extension("entered");
    while !entered.exists() {
        std::thread::yield_now();
    }
    install(&mul, &lib);
    table.reload(&lib).unwrap();
    assert_eq!(op.call((6, 7)), Ok(42), "a new call runs the new build");
    let pending = table.pending_releases();
    assert_eq!(
        pending.iter().map(|p| p.generation).collect::<Vec<_>>(),
        [old.generation],
        "the old build waits for the call in flight"
    );
    let old_copy = pending[0].copy.clone();
    assert!(is_mapped(&old_copy));
    std::fs::write(&go, "").unwrap();
    assert_eq!(held.join().unwrap(), Ok(13), "it finished on its build");
    assert!(table.wait_released(Duration::from_secs(10)));
    assert!(!is_mapped(&old_copy), "released after the call returned");
}
