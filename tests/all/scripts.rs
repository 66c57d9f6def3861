//! Script modules: functions written in hotslot assembly, bound, called,
//! reloaded, refused and rolled back as a native plugin's are, from the
//! library, the command line, the REPL and watch mode.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use hotslot::vm::Value;
use hotslot::{CallError, ReloadKind, ReloadOptions, SlotError};
use hotslot_tests::{adder, built, c_string, hotslot, install, library_name, program, tempdir};

/// `rules.hsasm`: `score` and `clamp`, at `version`, `score` weighing hits
/// by `weight`.
fn rules(weight: i64, version: &str) -> String {
    format!(
        "; Scoring rules.
.module rules {version}
.export score
.export clamp 1.0.0

.func score (hits: i64, misses: i64) -> i64
    LOAD hits
    PUSH i64 {weight}
    MUL
    LOAD misses
    SUB
    RET
.end

.func clamp (x: i64, lo: i64, hi: i64) -> i64
    LOAD x
    LOAD lo
    LT
    JZ not_low
    LOAD lo
    RET
not_low:
    LOAD x
    LOAD hi
    GT
    JZ inside
    LOAD hi
    RET
inside:
    LOAD x
    RET
.end
"
    )
}

/// Writes `text` to `dir/name`, as an editor saving it would (a new file
/// renamed over the old).
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let aside = dir.join(format!(".{name}.saving"));
    std::fs::write(&aside, text).unwrap();
    std::fs::rename(&aside, &path).unwrap();
    path
}

#[test]
fn a_module_binds_to_typed_handles_reloads_and_refuses_like_a_plugin() {
    let dir = tempdir();
    let module = write(dir.path(), "rules.hsasm", &rules(10, "1.0.0"));
    let table = hotslot_tests::table();
    let events = table.subscribe();
    let report = table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap();
    assert_eq!((report.plugin.as_str(), report.to_generation), ("rules", 1));
    let score = table.function::<(i64, i64), i64>("score").unwrap();
    let clamp = table.function::<(i64, i64, i64), i64>("clamp").unwrap();
    assert_eq!(score.call((7, 2)), Ok(68));
    assert_eq!(clamp.call((68, 0, 50)), Ok(50));
    assert_eq!(clamp.call((-3, 0, 50)), Ok(0));

    // Edited and reloaded: the same handles call the new build.
    write(dir.path(), "rules.hsasm", &rules(3, "1.1.0"));
    let report = table.reload(&module).unwrap();
    assert_eq!((report.from_generation, report.to_generation), (Some(1), 2));
    assert_eq!(score.call((7, 2)), Ok(19));

    // A signature the module does not have: a typed error.
    assert!(matches!(
        table.function::<(i32, i32), i32>("score"),
        Err(SlotError::Signature { .. })
    ));

    // An edit that does not assemble: refused with the line and column,
    // the old build serving.
    let broken = rules(5, "1.2.0").replace("    LOAD misses\n    SUB", "    LOAD misses\n    SUBB");
    write(dir.path(), "rules.hsasm", &broken);
    let e = table.reload(&module).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "script module `{}` does not assemble: line 11, column 5: unknown instruction `SUBB`",
            module.display()
        )
    );
    assert_eq!(score.call((7, 2)), Ok(19));

    // An edit that does not verify: refused with the pc and instruction.
    let unsound = rules(5, "1.2.0").replace("    LOAD misses\n    SUB", "    SUB");
    write(dir.path(), "rules.hsasm", &unsound);
    let e = table.reload(&module).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "script module `{}` does not verify: pc 4 (`SUB`): stack underflow: needs 2 values, found 1",
            module.display()
        )
    );
    assert_eq!(score.call((7, 2)), Ok(19));

    // A major version the handles' running version does not accept.
    write(dir.path(), "rules.hsasm", &rules(5, "2.0.0"));
    let e = table.reload(&module).unwrap_err();
    assert!(matches!(e, SlotError::Version { .. }), "{e}");
    assert_eq!(score.call((7, 2)), Ok(19));

    // Rolled back: the first build's bytes, loaded again.
    let report = table.rollback(&module).unwrap();
    assert_eq!(report.version.to_string(), "1.0.0");
    assert_eq!(score.call((7, 2)), Ok(68));

    // Every attempt was an event, applied or refused, in order.
    let seen: Vec<(ReloadKind, bool)> = events
        .try_iter()
        .map(|e| (e.kind, e.outcome.is_ok()))
        .collect();
    assert_eq!(
        seen,
        [
            (ReloadKind::Bind, true),
            (ReloadKind::Reload, true),
            (ReloadKind::Reload, false),
            (ReloadKind::Reload, false),
            (ReloadKind::Reload, false),
            (ReloadKind::Rollback, true),
        ]
    );
}

#[test]
fn a_vm_calls_a_module_that_calls_a_native_function_and_both_follow_their_reloads() {
    let b = built();
    let dir = tempdir();
    let math = dir.path().join(library_name("math_ops"));
    install(&b.c("math_ops"), &math);
    let module = write(
        dir.path(),
        "bonus.hsasm",
        ".module bonus 1.0.0
.export bonus
.import 0 math_add (i32, i32) -> i32 ^1.0

.func bonus (x: i32) -> i32
    LOAD x
    PUSH 100
    CALL_NATIVE math_add
    RET
.end
",
    );
    let table = hotslot_tests::table();
    let p = program(".import 5 bonus (i32) -> i32 ^1\n PUSH 7\n CALL_NATIVE 5\n HALT");
    let mut vm = table.vm(Arc::clone(&p)).unwrap();
    table
        .bind_library(&math, &ReloadOptions::default())
        .unwrap();
    table.bind(5, &module, None).unwrap();
    assert_eq!(hotslot_tests::top(&mut vm), Value::I32(107));

    // The native function the module imports is rebuilt: the module's next
    // call runs the new build, through the table's handle.
    hotslot_tests::rebuild_math_ops_multiplying(dir.path(), &math);
    table.reload(&math).unwrap();
    assert_eq!(hotslot_tests::top(&mut vm), Value::I32(700));

    let libraries = table.libraries();
    let module_info = libraries.iter().find(|l| l.plugin == "bonus").unwrap();
    assert_eq!(module_info.kind, hotslot::plugin::PluginKind::Script);
    // The module's import keeps the native library bound.
    assert!(libraries.iter().any(|l| l.path == math));
}

#[test]
fn a_module_whose_import_no_library_or_two_libraries_export_is_refused_by_name() {
    let b = built();
    let dir = tempdir();
    let module = write(
        dir.path(),
        "m.hsasm",
        ".module m 1.0.0
.export f
.import 3 math_add (i32, i32) -> i32

.func f () -> i32
    PUSH 1
    PUSH 2
    CALL_NATIVE 3
    RET
.end
",
    );
    let table = hotslot_tests::table();
    let e = table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "script module `{}` imports `math_add` (slot 3), which no library bound in the table exports (bind it before the module)",
            module.display()
        )
    );
    let one = dir.path().join(library_name("one"));
    let two = dir.path().join(library_name("two"));
    install(&b.c("math_ops"), &one);
    install(&b.c("math_ops"), &two);
    table.bind_library(&one, &ReloadOptions::default()).unwrap();
    table.bind_library(&two, &ReloadOptions::default()).unwrap();
    let e = table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap_err();
    assert!(
        e.to_string().ends_with(&format!(
            "which several libraries export: `{}`, `{}`",
            one.display(),
            two.display()
        )),
        "{e}"
    );
    // The import's requirement is checked as a handle's is.
    let wants_2 = write(
        dir.path(),
        "wants2.hsasm",
        &std::fs::read_to_string(&module)
            .unwrap()
            .replace("(i32, i32) -> i32", "(i32, i32) -> i32 ^2"),
    );
    let table = hotslot_tests::table();
    table.bind_library(&one, &ReloadOptions::default()).unwrap();
    let e = table
        .bind_library(&wants_2, &ReloadOptions::default())
        .unwrap_err();
    assert!(e.to_string().contains("does not satisfy ^2"), "{e}");
    assert!(table.libraries().iter().all(|l| l.plugin != "m"));
}

#[test]
fn a_call_in_flight_finishes_on_its_module_build_which_is_released_after() {
    let dir = tempdir();
    let go = dir.path().join("go");
    let hold = adder(dir.path(), "hold", &[&format!("HOLD={}", c_string(&go))]);
    let module_text = |k: i32| {
        format!(
            ".module held 1.0.{k}
.export held
.import 0 op (i32, i32) -> i32

.func held (x: i32) -> i32
    LOAD x
    PUSH {k}
    CALL_NATIVE op
    RET
.end
"
        )
    };
    let module = write(dir.path(), "held.hsasm", &module_text(1));
    let table = hotslot_tests::table();
    table
        .bind_library(&hold, &ReloadOptions::default())
        .unwrap();
    table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap();
    let held = table.function::<i32, i32>("held").unwrap();
    let started = Arc::new(Barrier::new(2));
    let s = Arc::clone(&started);
    let call = std::thread::spawn(move || {
        s.wait();
        held.call(10)
    });
    started.wait();
    let entered = go.with_extension("entered");
    while !entered.exists() {
        std::thread::sleep(Duration::from_millis(1));
    }
    // The call is inside the module's first build (inside its import);
    // the reload goes ahead, and the first build waits for the call.
    write(dir.path(), "held.hsasm", &module_text(2));
    table.reload(&module).unwrap();
    assert_eq!(table.reclaim(), 1, "the old build waits for its call");
    let pending = table.pending_releases();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].generation, 2, "the module's first build");

    std::fs::write(&go, "").unwrap();
    assert_eq!(
        call.join().unwrap(),
        Ok(11),
        "finished on the code it began on"
    );
    assert!(table.wait_released(Duration::from_secs(5)));
    let held = table.function::<i32, i32>("held").unwrap();
    assert_eq!(held.call(10), Ok(12));
}

#[test]
fn strings_cross_a_module_both_ways_and_a_fault_is_the_callers_error() {
    let b = built();
    let dir = tempdir();
    let module = write(
        dir.path(),
        "text.hsasm",
        ".module text 1.0.0
.export shout
.export pick
.export ratio
.import 0 c_upper (str) -> str ^1

.func shout (s: str) -> str
    LOAD s
    CALL_NATIVE c_upper
    RET
.end

.func pick (first: bool) -> str
    LOAD first
    JZ second
    PUSH \"first\"
    RET
second:
    PUSH \"second\"
    RET
.end

.func ratio (a: i64, b: i64) -> i64
    LOAD a
    LOAD b
    DIV
    RET
.end
",
    );
    let table = hotslot_tests::table();
    table
        .bind_library(b.c("string_ops_c"), &ReloadOptions::default())
        .unwrap();
    table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap();
    let shout = table.function::<String, String>("shout").unwrap();
    let pick = table.function::<bool, String>("pick").unwrap();
    let ratio = table.function::<(i64, i64), i64>("ratio").unwrap();
    assert_eq!(shout.call("hello, wörld").as_deref(), Ok("HELLO, WöRLD"));
    assert_eq!(pick.call(false).as_deref(), Ok("second"));
    assert_eq!(ratio.call((84, 2)), Ok(42));
    assert_eq!(
        ratio.call((1, 0)),
        Err(CallError::Native {
            function: "ratio".into(),
            message: "pc 12 (`DIV`): division by zero".into(),
        })
    );
    // The machine that faulted serves the next call.
    assert_eq!(ratio.call((9, 3)), Ok(3));
}

#[test]
fn threads_calling_a_module_through_a_reload_storm_each_get_one_builds_answer() {
    let dir = tempdir();
    let module_text = |k: i64| {
        format!(
            ".module storm 1.{k}.0
.export f

.func f (x: i64) -> i64
    LOAD x
    PUSH i64 {k}
    MUL
    RET
.end
"
        )
    };
    let module = write(dir.path(), "storm.hsasm", &module_text(1));
    let table = hotslot_tests::table();
    table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let callers: Vec<_> = (0..4)
        .map(|_| {
            let f = table.function::<i64, i64>("f").unwrap();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut calls = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = f.call(1000).expect("no call fails during reloads");
                    assert!((1000..=200_000).contains(&r) && r % 1000 == 0, "{r}");
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    for k in 2..=200 {
        write(dir.path(), "storm.hsasm", &module_text(k));
        table.reload(&module).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let calls: u64 = callers.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(calls > 0);
    let f = table.function::<i64, i64>("f").unwrap();
    assert_eq!(f.call(1000), Ok(200_000));
    assert!(table.wait_released(Duration::from_secs(10)));
}

#[test]
fn run_lib_and_bind_take_modules_and_a_module_is_not_a_program_to_run() {
    let b = built();
    let dir = tempdir();
    let module = write(dir.path(), "rules.hsasm", &rules(10, "1.0.0"));
    let prog = write(
        dir.path(),
        "use.hsasm",
        ".import 3 score (i64, i64) -> i64 ^1\n.import 4 clamp (i64, i64, i64) -> i64 ^1\n\
         PUSH i64 7\n PUSH i64 2\n CALL_NATIVE score\n PUSH i64 0\n PUSH i64 50\n CALL_NATIVE clamp\n PRINT\n HALT\n",
    );
    let (m, p) = (module.display().to_string(), prog.display().to_string());
    let (status, out, err) = hotslot(&["run", &p, "--lib", &m]);
    assert!(status.success(), "{err}");
    assert_eq!(out, "Result: 50\n");
    let (status, out, err) = hotslot(&[
        "run",
        &p,
        "--bind",
        &format!("3={m}"),
        "--bind",
        &format!("4={m}#clamp"),
    ]);
    assert!(status.success(), "{err}");
    assert_eq!(out, "Result: 50\n");

    // Its bytecode, too.
    let hsbc = dir.path().join("rules.hsbc");
    let (status, _, err) = hotslot(&["asm", &m, "-o", &hsbc.display().to_string()]);
    assert!(status.success(), "{err}");
    let (status, out, _) = hotslot(&["run", &p, "--lib", &hsbc.display().to_string()]);
    assert!(status.success());
    assert_eq!(out, "Result: 50\n");

    let (status, out, _) = hotslot(&["inspect", &m]);
    assert!(status.success());
    assert!(
        out.contains("abi       1.2 (script module, verified)"),
        "{out}"
    );
    assert!(out.contains("score (i64, i64) -> i64"), "{out}");

    let (status, _, err) = hotslot(&["run", &m]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        err,
        format!(
            "hotslot: `{m}` is the script module `rules`: it exports functions for slots and runs nothing itself; bind it with `--lib {m}` and run a program that imports them\n"
        )
    );

    // Isolation is for native code.
    if cfg!(target_os = "linux") {
        let (status, _, err) = hotslot(&["run", &p, "--lib", &m, "--isolate"]);
        assert_eq!(status.code(), Some(3));
        assert!(
            err.contains(
                "runs verified on the host's own machines: only native libraries run isolated"
            ),
            "{err}"
        );
    }
    let _ = b;
}

#[test]
fn a_snapshot_restores_a_module_and_the_library_its_import_calls() {
    let b = built();
    let dir = tempdir();
    let math = dir.path().join(library_name("math_ops"));
    install(&b.c("math_ops"), &math);
    let module = write(
        dir.path(),
        "bonus.hsasm",
        ".module bonus 1.0.0\n.export bonus\n.import 0 math_add (i32, i32) -> i32 ^1.0\n\
         .func bonus (x: i32) -> i32\n LOAD x\n PUSH 100\n CALL_NATIVE math_add\n RET\n.end\n",
    );
    let prog = write(
        dir.path(),
        "p.hsasm",
        ".import 5 bonus (i32) -> i32 ^1\n PUSH 7\n CALL_NATIVE 5\n PRINT\n HALT\n",
    );
    let file = dir.path().join("s.json");
    let (status, _, err) = hotslot(&[
        "snapshot",
        "save",
        &prog.display().to_string(),
        "--lib",
        &math.display().to_string(),
        "--bind",
        &format!("5={}", module.display()),
        "-o",
        &file.display().to_string(),
    ]);
    assert!(status.success(), "{err}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["version"], 3);
    assert_eq!(saved["libraries"][0]["library"], math.display().to_string());
    let (status, out, err) = hotslot(&["snapshot", "restore", &file.display().to_string()]);
    assert!(status.success(), "{err}");
    assert!(out.ends_with("Result: 107\n"), "{out}");

    // The module edited since: its pinned hash refuses it, nothing restored.
    write(
        dir.path(),
        "bonus.hsasm",
        &std::fs::read_to_string(&module)
            .unwrap()
            .replace("PUSH 100", "PUSH 200"),
    );
    let (status, _, err) = hotslot(&["snapshot", "restore", &file.display().to_string()]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("has SHA-256"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_module_others_can_write_to_is_refused_as_a_library_would_be() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let module = write(dir.path(), "rules.hsasm", &rules(10, "1.0.0"));
    std::fs::set_permissions(&module, std::fs::Permissions::from_mode(0o666)).unwrap();
    let table = hotslot_tests::table();
    let e = table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap_err();
    assert!(e.to_string().contains("writable"), "{e}");
}

#[test]
fn the_repl_reloads_a_module_and_reports_a_refused_edit() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    let b = built();
    let dir = tempdir();
    let module = write(dir.path(), "rules.hsasm", &rules(10, "1.0.0"));
    let prog = write(
        dir.path(),
        "use.hsasm",
        ".import 3 score (i64, i64) -> i64 ^1\n PUSH i64 7\n PUSH i64 2\n CALL_NATIVE score\n PRINT\n HALT\n",
    );
    let mut repl = Command::new(b.hotslot())
        .arg("repl")
        .arg(&prog)
        .arg("--bind")
        .arg(format!("3={}", module.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = repl.stdin.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = repl.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // Every line up to the first that contains `needle`.
    let until = |needle: &str| -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("`{needle}` never came after {seen:?}"));
            let done = line.contains(needle);
            seen.push(line);
            if done {
                return seen;
            }
        }
    };
    input.write_all(b"1\n").unwrap();
    until("Result: 68");
    // Edited while the REPL runs, then reloaded (option 2, defaults).
    write(dir.path(), "rules.hsasm", &rules(3, "1.1.0"));
    input.write_all(b"2\n\n\n\n1\n").unwrap();
    let reloaded = until("Result: ");
    assert!(
        reloaded
            .iter()
            .any(|l| l.contains("rules 1.1.0 (generation 1 -> 2)")),
        "{reloaded:?}"
    );
    assert_eq!(
        reloaded.last().unwrap().trim_start_matches(|c| c != 'R'),
        "Result: 19"
    );
    // A typo: the reload is refused, named, and the build serving runs on.
    write(
        dir.path(),
        "rules.hsasm",
        &rules(3, "1.2.0").replace("    SUB", "    SUBB"),
    );
    input.write_all(b"2\n\n\n\n1\n").unwrap();
    let refused = until("Result: ");
    assert!(
        refused
            .iter()
            .any(|l| l.contains("[REFUSED]") && l.contains("unknown instruction `SUBB`")),
        "{refused:?}"
    );
    assert_eq!(
        refused.last().unwrap().trim_start_matches(|c| c != 'R'),
        "Result: 19"
    );
    input.write_all(b"6\n").unwrap();
    drop(input);
    assert!(repl.wait().unwrap().success());
}
