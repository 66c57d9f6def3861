//! The host application calling plugin functions itself, through typed
//! handles: C and Rust plugins, reloads while two threads call, a call in
//! flight across a reload, strings, and every typed error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hotslot::{CallError, FunctionOptions, ReloadOptions, SlotError};
use hotslot_tests::{adder, built, c_string, install, is_mapped, library_name, table, tempdir};

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
    let hold = adder(dir.path(), "hold", &[&format!("HOLD={}", c_string(&go))]);
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

/// The frame loop example (`host/examples/frame_loop.rs`) as a user runs
/// it: frames drawn by the plugin, then a rebuild installed while it runs.
/// Every frame is served (numbered without a gap, none failing), the frames
/// switch from the old build to the new one once and for good, and the one
/// rebuild gives exactly one reload.
#[test]
fn the_frame_loop_example_follows_one_rebuild_with_one_reload_and_loses_no_frame() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let b = built();
    let dir = tempdir();
    let lib = dir.path().join(library_name("motion"));
    install(&b.rust("hotslot-motion"), &lib);
    let mut child = Command::new(b.example("frame_loop"))
        .arg(&lib)
        .args(["--fps", "200"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // A line per frame, for at most a minute in all.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let next = |seen: &[String]| {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no switch of builds within a minute: {seen:#?}"))
    };
    let frames_of = |seen: &[String], ball: char| {
        seen.iter()
            .filter(|l| l.starts_with("frame ") && l.contains(ball))
            .count()
    };
    let mut seen = Vec::new();
    // Frames of the first build ...
    while frames_of(&seen, 'o') < 5 {
        seen.push(next(&seen));
    }
    install(&b.rust("hotslot-fixture-motion-edited"), &lib);
    // ... until 50 frames of the new one have been drawn.
    while frames_of(&seen, '@') < 50 {
        seen.push(next(&seen));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    drop(lines);
    reader.join().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success() && stderr.is_empty(), "{status}: {stderr}");

    let (frames, events): (Vec<&String>, Vec<&String>) =
        seen.iter().partition(|l| l.starts_with("frame "));
    assert_eq!(events.len(), 1, "one rebuild, one reload: {events:#?}");
    assert!(
        events[0].starts_with("watch reload ")
            && events[0].contains("motion 1.1.0")
            && events[0].contains("typed handle 0 `step` 1.0.0 -> 1.1.0"),
        "{}",
        events[0]
    );
    for (i, line) in frames.iter().enumerate() {
        let (number, drawn) = line["frame ".len()..].split_once(": ").unwrap();
        assert_eq!(number.parse::<usize>().unwrap(), i + 1, "no frame lost");
        assert!(
            drawn.len() == 40 && drawn.chars().all(|c| "o@.".contains(c)),
            "frame {number} drew {drawn:?}"
        );
    }
    let switch = frames.iter().position(|l| l.contains('@')).unwrap();
    assert!(
        frames[..switch].iter().all(|l| l.contains('o'))
            && frames[switch..].iter().all(|l| l.contains('@')),
        "the frames change builds once and for good"
    );
}

/// `tests/outside`: a host application and a plugin outside the
/// workspace, as users write them. The application depends on hotslot by
/// path with its default features off, and compiles neither the command
/// line's dependencies nor the file watcher nor JSON; it calls a C and a
/// Rust plugin through typed handles from two threads while reloading
/// both, gets typed errors for a mismatched signature and a panicking
/// plugin, and calls the plugin whose `Cargo.toml` is the README's.
#[test]
#[cfg_attr(
    windows,
    ignore = "starts cargo: under wine, a Windows program cannot wait on a Linux one (runs on Linux)"
)]
fn an_application_outside_the_workspace_embeds_hotslot_without_its_default_features() {
    use std::process::Command;

    let b = built();
    let outside = b.root.join("tests/outside");
    let target = b.target.join("outside");
    let cargo = || {
        let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.current_dir(&outside).env("CARGO_TARGET_DIR", &target);
        cmd
    };

    let tree = cargo()
        .args(["tree", "--locked", "-e", "normal", "-p", "embedder"])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
        .unwrap();
    assert!(
        tree.status.success(),
        "{}",
        String::from_utf8_lossy(&tree.stderr)
    );
    let tree = String::from_utf8(tree.stdout).unwrap();
    let packages: std::collections::BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(packages.contains("hotslot"), "{packages:?}");
    for unwanted in ["clap", "serde_json", "notify", "env_logger", "signal-hook"] {
        assert!(
            !packages.contains(unwanted),
            "{unwanted} is compiled: {packages:?}"
        );
    }

    let status = cargo()
        .args(["build", "--locked", "--quiet"])
        .status()
        .unwrap();
    assert!(status.success(), "building tests/outside");

    // A typed handle of a type it cannot have: the compiler names the
    // types it can, instead of every tuple it implements the traits for.
    // Built with the application's dependencies, already compiled.
    let misuse = tempdir();
    std::fs::write(
        misuse.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"misuse\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nhotslot = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
            b.root.join("host")
        ),
    )
    .unwrap();
    std::fs::copy(outside.join("Cargo.lock"), misuse.path().join("Cargo.lock")).unwrap();
    std::fs::create_dir(misuse.path().join("src")).unwrap();
    std::fs::write(
        misuse.path().join("src/main.rs"),
        "fn main() {\n    // SAFETY: nothing is loaded.\n    \
         let table = unsafe { hotslot::SlotTable::new() }.unwrap();\n    \
         let _ = table.function::<(i32, u8), i32>(\"f\");\n}\n",
    )
    .unwrap();
    let out = cargo()
        .current_dir(misuse.path())
        .args(["build", "--offline", "--quiet", "--color", "never"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("error[E0277]: `(i32, u8)` is not a parameter list of a typed handle"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "note: the parameters are one type or a tuple of them, each `i32`, `i64`, `f64`, \
             `bool`, `String`, `Vec<u8>`, `Ref<T>`, `RefMut<T>`, `Slice<T>` or `SliceMut<T>`; \
             none is `()`"
        ),
        "{stderr}"
    );

    let dir = tempdir();
    let place = |name: &str, from: &std::path::Path| {
        let to = dir.path().join(library_name(name));
        std::fs::copy(from, &to).unwrap();
        to
    };
    let c_lib = adder(dir.path(), "adder", &[]);
    let c_other = adder(
        dir.path(),
        "multiplier",
        &["OP(a,b)=((a)*(b))", "FN_MINOR=1"],
    );
    let rust_lib = place("versioned", &b.rust("hotslot-fixture-versioned"));
    let rust_other = b.rust("hotslot-fixture-versioned-v2");
    let panicky = b.rust("hotslot-fixture-panicky");
    let greeter = target.join("debug").join(library_name("greeter"));
    let out = Command::new(target.join("debug/embedder"))
        .args([&c_lib, &c_other, &rust_lib, &rust_other, &panicky, &greeter])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (counted, lines): (Vec<&str>, Vec<&str>) =
        stdout.lines().partition(|l| l.starts_with("20 reloads"));
    assert_eq!(
        lines,
        [
            "C op(10, 5) = 15",
            "Rust op(10, 5) = 15",
            "C op(10, 5) = 15",
            "Rust op(10, 5) = 15",
            "mismatch: typed handle 2: signature mismatch for `op`: \
             expected (f64, f64) -> f64, found (i32, i32) -> i32",
            "panic: plugin panicked in `boom`: boom #7",
            "panic: plugin panicked in `boom`: boom #8",
            "greet: hello, embedder",
            "greet: HELLO, EMBEDDER",
            "builds still held: 0",
        ]
    );
    // Both builds answered while the threads called.
    let [counted] = counted.as_slice() else {
        panic!("{counted:?}")
    };
    let numbers: Vec<u64> = counted
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        matches!(numbers.as_slice(), [20, 2, adding, 15, multiplying, 50] if *adding > 0 && *multiplying > 0),
        "{counted}"
    );
}
