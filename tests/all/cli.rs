//! The command line: the demo end to end, the example programs through
//! `hotslot run`, the REPL's menu (and its end of input), and errors.

use hotslot_tests::{built, example, hotslot, repl};

#[test]
fn the_demo_shows_15_then_50_then_a_refused_reload_in_one_process() {
    let (status, out, err) = hotslot(&["demo"]);
    assert!(status.success(), "{out}\n{err}");
    let results: Vec<&str> = out.lines().filter(|l| l.starts_with("Result: ")).collect();
    assert_eq!(
        results,
        [
            "Result: 15",
            "Result: 50",
            "Result: 50",
            "Result: 50",
            "Result: 100",
            "Result: 150",
            "Result: 150"
        ],
        "{out}"
    );
    let order = [
        "Result: 15",
        "Result: 50",
        "refused: slot 0: signature mismatch",
        "Result: 50",
        "does not satisfy ^1.0",
        "Result: 50",
        "slot 1 `scale` 1.0.0",
        "Result: 100",
        "slot 1 `scale` 1.0.0 -> 1.1.0",
        "Result: 150",
        "does not verify: pc 4 (`RET`): `RET` needs exactly (bool) on the stack, found (i32)",
        "slot 1 still serves `scale` 1.1.0",
        "Result: 150",
    ];
    let mut at = 0;
    for needle in order {
        at += out[at..]
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` missing after byte {at}:\n{out}"));
    }
    assert!(out.contains("[NATIVE] math_add(10, 5) called"), "{out}");
    assert!(out.contains("still serves `math_add` 1.1.0"), "{out}");
    let removed = out
        .lines()
        .find_map(|l| l.strip_prefix("Removed "))
        .expect("the demo names its directory");
    assert!(
        !std::path::Path::new(removed).exists(),
        "the demo cleaned up {removed}"
    );
}

#[test]
fn the_example_programs_run() {
    let b = built();
    let math = b.c("math_ops").display().to_string();
    let (status, out, err) = hotslot(&[
        "run",
        &example("math.hsasm"),
        "--bind",
        &format!("0={math}"),
    ]);
    assert!(status.success(), "{err}");
    assert_eq!(out, "[NATIVE] math_add(10, 5) called\nResult: 15\n");

    let (_, out, _) = hotslot(&[
        "run",
        &example("loop.hsasm"),
        "--bind",
        &format!("0={math}"),
    ]);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("[NATIVE]")).count(),
        10
    );
    assert!(out.ends_with("Result: 55\n"), "{out}");

    let (_, out, _) = hotslot(&[
        "run",
        &example("function.hsasm"),
        "--bind",
        &format!("0={math}"),
    ]);
    assert!(out.ends_with("Result: 55\n"), "{out}");

    // The Rust twin serves the same program.
    let rust = b.rust("hotslot-math-ops").display().to_string();
    let (_, out, _) = hotslot(&[
        "run",
        &example("math.hsasm"),
        "--bind",
        &format!("0={rust}"),
    ]);
    assert_eq!(out, "[NATIVE] math_add(10, 5) called\nResult: 15\n");

    let s = b.rust("hotslot-string-ops").display().to_string();
    let binds: Vec<String> = (0..3).map(|i| format!("{i}={s}")).collect();
    let (status, out, err) = hotslot(&[
        "run",
        &example("strings.hsasm"),
        "--bind",
        &binds[0],
        "--bind",
        &binds[1],
        "--bind",
        &binds[2],
    ]);
    assert!(status.success(), "{err}");
    assert_eq!(out, "Result: HELLO, WORLD\nResult: 12\n");
}

#[test]
fn run_reports_bad_programs_and_bindings_on_one_line() {
    let b = built();
    let dir = hotslot_tests::tempdir();
    let bad = dir.path().join("bad.hsasm");
    std::fs::write(&bad, "PUSH 1\nADD\nHALT\n").unwrap();
    let (status, _, err) = hotslot(&["run", bad.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("does not verify: pc 1 (`ADD`): stack underflow"),
        "{err}"
    );

    let math = b.c("math_ops").display().to_string();
    let (status, _, err) = hotslot(&[
        "run",
        &example("math.hsasm"),
        "--bind",
        &format!("0={math}#math_add_f64"),
    ]);
    assert_eq!(status.code(), Some(3), "a refused binding");
    assert_eq!(
        err,
        "hotslot: slot 0: signature mismatch for `math_add_f64`: expected (i32, i32) -> i32, found (f64, f64) -> f64\n"
    );

    // An unbound import is refused before the program starts.
    let (status, out, err) = hotslot(&["run", &example("math.hsasm")]);
    assert_eq!(status.code(), Some(3));
    assert_eq!(out, "");
    assert_eq!(
        err,
        "hotslot: slot 0 (`math_add`) is not bound: add --bind 0=LIB or --lib LIB\n"
    );
}

#[test]
fn asm_and_disasm_round_trip_through_bytecode() {
    let dir = hotslot_tests::tempdir();
    let hsbc = dir.path().join("function.hsbc");
    let (status, _, err) = hotslot(&[
        "asm",
        &example("function.hsasm"),
        "-o",
        hsbc.to_str().unwrap(),
    ]);
    assert!(status.success(), "{err}");
    let (_, text, _) = hotslot(&["disasm", hsbc.to_str().unwrap()]);
    let again = dir.path().join("again.hsasm");
    std::fs::write(&again, &text).unwrap();
    let math = built().c("math_ops").display().to_string();
    for program in [hsbc.to_str().unwrap(), again.to_str().unwrap()] {
        let (_, out, _) = hotslot(&["run", program, "--bind", &format!("0={math}")]);
        assert!(out.ends_with("Result: 55\n"), "{program}: {out}");
    }
}

#[test]
fn the_repl_runs_reloads_and_shows_slots() {
    let b = built();
    let dir = hotslot_tests::tempdir();
    let lib = dir.path().join("libmath_ops.so");
    std::fs::copy(b.c("math_ops"), &lib).unwrap();
    let lib = lib.display().to_string();
    // Run; reload slot 0 with math_mul (defaults accepted for path and slot);
    // run; view slots; refuse a mismatched function; run; view program; quit.
    let input = format!("1\n2\n{lib}\nmath_mul\n\n1\n4\n2\n\nmath_add_f64\n\n1\n3\n5\n6\n");
    let out = repl(&["--bind", &format!("0={lib}")], &input);
    let results: Vec<&str> = out.lines().filter(|l| l.starts_with("Result: ")).collect();
    assert_eq!(results, ["Result: 15", "Result: 50", "Result: 50"], "{out}");
    assert!(
        out.contains("1. Run program") && out.contains("6. Quit"),
        "{out}"
    );
    assert!(out.contains("Library path ["), "{out}");
    assert!(
        out.contains("Function name [math_mul]: "),
        "the last function is the default: {out}"
    );
    assert!(
        out.contains("[VM] Loaded slot 0 `math_add` 1.0.0 -> `math_mul` 1.0.0"),
        "{out}"
    );
    assert!(out.contains("bound to `math_mul` 1.0.0"), "{out}");
    assert!(out.contains("previous build: generation"), "{out}");
    assert!(
        out.contains("[REFUSED] slot 0: signature mismatch for `math_add_f64`"),
        "{out}"
    );
    assert!(out.contains("[VM] Slot 0 still serves `math_mul`"), "{out}");
    assert!(out.contains("CALL_NATIVE 0"), "the program view: {out}");
    assert!(out.contains("[VM] Reset"), "{out}");
    assert!(out.contains("========== Iteration 3 =========="), "{out}");
}

#[test]
fn the_repl_stops_at_end_of_input_anywhere() {
    // Immediately, and in the middle of a reload's questions.
    for input in ["", "2\n", "2\nlib.so\n", "7\n", "1\n"] {
        let out = repl(&[], input);
        assert!(out.contains("=== hotslot ==="), "{input:?}: {out}");
    }
    let out = repl(&[], "1\n");
    assert!(
        out.contains("[FAULT] pc 2 (`CALL_NATIVE 0`): slot 0 is unbound"),
        "{out}"
    );
}

/// `hotslot header --out DIR` with a symbolic link planted at
/// `DIR/hotslot.h`: the link is replaced by the header, and the file it
/// pointed to is left as it was.
#[cfg(unix)]
#[test]
fn header_replaces_a_link_planted_at_a_headers_name_and_never_writes_through_it() {
    let dir = hotslot_tests::tempdir();
    let out = dir.path().join("include");
    std::fs::create_dir(&out).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, out.join("hotslot.h")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("hotslot_shim.h")).unwrap();
    let (status, stdout, err) = hotslot(&["header", "--out", &out.display().to_string()]);
    assert!(status.success(), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    for (name, content) in [
        ("hotslot.h", hotslot_plugin_api::HOTSLOT_H),
        ("hotslot_shim.h", hotslot_plugin_api::HOTSLOT_SHIM_H),
    ] {
        let path = out.join(name);
        assert!(
            std::fs::symlink_metadata(&path).unwrap().is_file(),
            "{name}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), content);
        assert!(
            stdout.contains(&format!("wrote {}", path.display())),
            "{stdout}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(left.len(), 2, "no temporary file left: {left:?}");
}

/// `hotslot asm -o FILE` and `hotslot snapshot save -o FILE` with a
/// symbolic link planted at FILE: each replaces the link with a file of
/// its own and leaves the file the link pointed to as it was.
#[cfg(unix)]
#[test]
fn asm_and_snapshot_outputs_replace_a_planted_link_and_never_write_through_it() {
    let b = hotslot_tests::built();
    let dir = hotslot_tests::tempdir();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let math = b.root.join("host/examples/math.hsasm");
    let bytecode = dir.path().join("math.hsbc");
    let snapshot = dir.path().join("math.json");
    for link in [&bytecode, &snapshot] {
        std::os::unix::fs::symlink(&victim, link).unwrap();
    }
    let run = |args: &[&str]| {
        let (status, _, err) = hotslot(args);
        assert!(status.success(), "{args:?}: {err}");
    };
    run(&[
        "asm",
        &math.display().to_string(),
        "-o",
        &bytecode.display().to_string(),
    ]);
    let bind = format!("0={}", b.c("math_ops").display());
    run(&[
        "snapshot",
        "save",
        &math.display().to_string(),
        "--bind",
        &bind,
        "-o",
        &snapshot.display().to_string(),
    ]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    for written in [&bytecode, &snapshot] {
        assert!(
            std::fs::symlink_metadata(written).unwrap().is_file(),
            "{}",
            written.display()
        );
    }
    let program = hotslot::vm::decode(&std::fs::read(&bytecode).unwrap()).unwrap();
    assert_eq!(program.imports[0].name, "math_add");
    assert!(
        std::fs::read_to_string(&snapshot)
            .unwrap()
            .contains("\"math_add\"")
    );
    let mut left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["math.hsbc", "math.json", "victim.txt"],
        "no temporary file left"
    );
}
