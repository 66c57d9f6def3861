//! Watch mode: exactly one reload per change of content, none for reads,
//! `touch` or attribute changes; a burst of writes is one change; deploys
//! by re-pointing a symbolic link are followed; an idle watcher sleeps.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use hotslot::vm::Value;
use hotslot::{ReloadEvent, ReloadKind, WatchOptions};
use hotslot_tests::{CALL_OP, built, library_name, program, tempdir, top};

/// How long a change must be followed by silence for a count to be final.
const WINDOW: Duration = Duration::from_secs(2);

fn build(out: &Path, defines: &[&str]) {
    built().build_c("tests/fixtures/c/adder.c", out, defines);
}

/// Every event until none has come for `WINDOW` (waiting up to 20 s for the
/// first when `expect_one`).
fn events_until_quiet(rx: &mpsc::Receiver<ReloadEvent>, expect_one: bool) -> Vec<ReloadEvent> {
    let mut events = Vec::new();
    if expect_one && let Ok(e) = rx.recv_timeout(Duration::from_secs(20)) {
        events.push(e);
    }
    while let Ok(e) = rx.recv_timeout(WINDOW) {
        events.push(e);
    }
    events
}

/// `(kind, applied, unchanged)` of each event.
fn summary(events: &[ReloadEvent]) -> Vec<(ReloadKind, bool, bool)> {
    events
        .iter()
        .map(|e| match &e.outcome {
            Ok(r) => (e.kind, true, r.unchanged),
            Err(_) => (e.kind, false, false),
        })
        .collect()
}

const RELOADED: (ReloadKind, bool, bool) = (ReloadKind::Watch, true, false);
const UNCHANGED: (ReloadKind, bool, bool) = (ReloadKind::Watch, true, true);

#[test]
fn one_rebuild_gives_one_reload_and_reads_touches_and_attributes_give_none() {
    let dir = tempdir();
    let lib = dir.path().join(library_name("live"));
    build(&lib, &[]);
    let table = hotslot_tests::table();
    let mut vm = table.vm(program(CALL_OP)).unwrap();
    table.bind(0, &lib, None).unwrap();
    let events = table.subscribe();
    let _watcher = table.watch(WatchOptions::default()).unwrap();
    let generation = || table.libraries()[0].generation;

    // The compiler writes the library in place, as `cc -o` does.
    build(&lib, &["OP(a,b)=((a)*(b))", "FN_MINOR=1"]);
    assert_eq!(summary(&events_until_quiet(&events, true)), [RELOADED]);
    assert_eq!(top(&mut vm), Value::I32(42));
    let after_rebuild = generation();

    // Reading the file (as every reload does) is no change.
    for _ in 0..50 {
        std::fs::File::open(&lib)
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap();
    }
    // Nor are its times (both set, as `utime` does; the kernel reports a
    // new modification time alone as a write) or its permissions.
    let file = std::fs::File::open(&lib).unwrap();
    let now = std::time::SystemTime::now();
    file.set_times(
        std::fs::FileTimes::new()
            .set_accessed(now)
            .set_modified(now),
    )
    .unwrap();
    file.set_permissions(std::fs::metadata(&lib).unwrap().permissions())
        .unwrap();
    drop(file);
    // Windows reports a change of times or attributes as a modification of
    // the file, like a write: the content is looked at, found the same, and
    // the event says so; nothing is reloaded.
    let metadata_only: &[_] = if cfg!(windows) { &[UNCHANGED] } else { &[] };
    assert_eq!(summary(&events_until_quiet(&events, false)), metadata_only);

    // `touch` opens the file for writing, sets its times and closes it: the
    // content is looked at, found the same, and nothing is reloaded.
    let file = std::fs::OpenOptions::new().write(true).open(&lib).unwrap();
    file.set_modified(std::time::SystemTime::now()).unwrap();
    drop(file);
    let touched = events_until_quiet(&events, true);
    assert_eq!(summary(&touched), [UNCHANGED]);
    assert_eq!(
        touched[0].to_string(),
        format!(
            "watch reload {}: unchanged (the same bytes as generation {after_rebuild})",
            lib.display()
        )
    );
    assert_eq!(generation(), after_rebuild);
    assert_eq!(top(&mut vm), Value::I32(42));
}

#[test]
fn a_burst_of_writes_and_a_write_then_rename_are_one_reload_each() {
    let dir = tempdir();
    let lib = dir.path().join(library_name("live"));
    build(&lib, &[]);
    let sub = dir.path().join(library_name("sub"));
    build(&sub, &["OP(a,b)=((a)-(b))", "FN_MINOR=1"]);
    let mul = dir.path().join(library_name("mul"));
    build(&mul, &["OP(a,b)=((a)*(b))", "FN_MINOR=2"]);
    let table = hotslot_tests::table();
    let mut vm = table.vm(program(CALL_OP)).unwrap();
    table.bind(0, &lib, None).unwrap();
    let events = table.subscribe();
    let _watcher = table.watch(WatchOptions::default()).unwrap();

    // In place, in 16 pieces with a pause after each, as a slow linker
    // writes: the half-written states are never loaded.
    let bytes = std::fs::read(&sub).unwrap();
    let mut out = std::fs::File::create(&lib).unwrap();
    for piece in bytes.chunks(bytes.len().div_ceil(16)) {
        out.write_all(piece).unwrap();
        out.flush().unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(out);
    assert_eq!(summary(&events_until_quiet(&events, true)), [RELOADED]);
    assert_eq!(top(&mut vm), Value::I32(-1));

    // Written aside, then renamed over the library.
    let aside = dir.path().join("live.tmp");
    std::fs::copy(&mul, &aside).unwrap();
    std::fs::rename(&aside, &lib).unwrap();
    assert_eq!(summary(&events_until_quiet(&events, true)), [RELOADED]);
    assert_eq!(top(&mut vm), Value::I32(42));
}

// Unix only: making a symbolic link on Windows takes a privilege (or
// developer mode) that a test cannot assume.
#[cfg(unix)]
#[test]
fn a_symlink_deploy_is_followed_and_the_binding_keeps_the_path_as_given() {
    let dir = tempdir();
    let (v1, v2) = (dir.path().join("v1"), dir.path().join("v2"));
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::create_dir_all(&v2).unwrap();
    build(&v1.join("lib.so"), &[]);
    build(&v2.join("lib.so"), &["OP(a,b)=((a)*(b))", "FN_MINOR=1"]);
    let current = dir.path().join("current.so");
    std::os::unix::fs::symlink("v1/lib.so", &current).unwrap();

    let table = hotslot_tests::table();
    let mut vm = table.vm(program(CALL_OP)).unwrap();
    table.bind(0, &current, None).unwrap();
    assert_eq!(
        table.libraries()[0].path,
        current,
        "keyed by the path as given"
    );
    let events = table.subscribe();
    let _watcher = table.watch(WatchOptions::default()).unwrap();

    // `ln -s v2/lib.so next.so && mv -T next.so current.so`.
    let next = dir.path().join("next.so");
    std::os::unix::fs::symlink("v2/lib.so", &next).unwrap();
    std::fs::rename(&next, &current).unwrap();
    let deployed = events_until_quiet(&events, true);
    assert_eq!(summary(&deployed), [RELOADED]);
    assert_eq!(deployed[0].library, current);
    assert_eq!(top(&mut vm), Value::I32(42));

    // A reload by the path as bound works, whatever it points to now.
    let report = table.reload(&current).unwrap();
    assert_eq!(report.library, current);
    assert_eq!(report.swaps[0].to, semver::Version::new(1, 1, 0));
    assert_eq!(
        summary(&events_until_quiet(&events, true)),
        [(ReloadKind::Reload, true, false)]
    );

    // A rebuild of the file the link points to now is a change too.
    build(&v2.join("lib.so"), &["OP(a,b)=((a)-(b))", "FN_MINOR=2"]);
    assert_eq!(summary(&events_until_quiet(&events, true)), [RELOADED]);
    assert_eq!(top(&mut vm), Value::I32(-1));
}

/// CPU time (user + system, in clock ticks) a process has used.
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

// Linux only: the idle check reads the process's CPU time in /proc.
#[cfg(target_os = "linux")]
#[test]
fn run_watch_reloads_once_per_rebuild_and_sleeps_while_idle() {
    use hotslot_tests::rebuild_math_ops_multiplying;
    use std::io::{BufRead, BufReader};
    use std::time::Instant;
    let dir = tempdir();
    let lib = dir.path().join(library_name("math_ops"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    let mut child = std::process::Command::new(built().hotslot())
        .arg("run")
        .arg("--watch")
        .arg(built().root.join("host/examples/math.hsasm"))
        .arg("--bind")
        .arg(format!("0={}", lib.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = std::sync::mpsc::channel();
    for (stream, tx) in [
        (
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            lines.0.clone(),
        ),
        (Box::new(child.stderr.take().unwrap()), lines.0),
    ] {
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let _ = tx.send(line.unwrap());
            }
        });
    }
    // What the program and hotslot say; the C plugin's own lines aside.
    let next = |timeout| loop {
        match lines.1.recv_timeout(timeout) {
            Ok(line) if line.starts_with("[NATIVE]") => continue,
            Ok(line) => return Some(line),
            Err(_) => return None,
        }
    };
    assert_eq!(next(Duration::from_secs(20)).as_deref(), Some("Result: 15"));
    assert_eq!(next(WINDOW), None, "nothing more while nothing changes");

    // Idle: no CPU time at all over a second (the clock ticks 100 times a
    // second, so one wake-up every 10 ms or more often would show).
    let before = cpu_ticks(child.id());
    assert_eq!(next(Duration::from_secs(1)), None);
    assert_eq!(cpu_ticks(child.id()), before, "an idle watcher sleeps");

    // One rebuild: one reload, one run.
    rebuild_math_ops_multiplying(dir.path(), &lib);
    let started = Instant::now();
    let mut seen = vec![next(Duration::from_secs(20)).expect("a reload")];
    while let Some(line) = next(WINDOW) {
        seen.push(line);
    }
    assert_eq!(seen.len(), 2, "{seen:?} within {:?}", started.elapsed());
    assert!(
        seen.iter()
            .any(|l| l.starts_with("hotslot: watch reload") && l.contains("1.0.0 -> 1.1.0")),
        "{seen:?}"
    );
    assert!(seen.contains(&"Result: 50".to_owned()), "{seen:?}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A script module saved by an editor (in place, as many editors write, and
/// by a new file renamed over it, as others do): one reload per save; a
/// save that does not assemble is one refused reload, the old build
/// serving, and saving it again fixed is one reload.
#[test]
fn each_save_of_a_script_module_is_one_reload_and_a_broken_save_one_refusal() {
    let dir = tempdir();
    let module = dir.path().join("m.hsasm");
    let text = |k: i32, op: &str| {
        format!(
            ".module m 1.{k}.0\n.export f\n.func f (x: i32) -> i32\n    LOAD x\n    PUSH {k}\n    {op}\n    RET\n.end\n"
        )
    };
    std::fs::write(&module, text(1, "ADD")).unwrap();
    let table = hotslot_tests::table();
    let mut vm = table
        .vm(program(
            ".import 0 f (i32) -> i32\nPUSH 10\nCALL_NATIVE 0\nHALT",
        ))
        .unwrap();
    table.bind(0, &module, None).unwrap();
    let events = table.subscribe();
    let _watcher = table.watch(WatchOptions::default()).unwrap();
    assert_eq!(top(&mut vm), Value::I32(11));

    // Written in place.
    std::fs::write(&module, text(2, "MUL")).unwrap();
    assert_eq!(summary(&events_until_quiet(&events, true)), [RELOADED]);
    assert_eq!(top(&mut vm), Value::I32(20));

    // A typo, saved by rename: refused, the last build serving.
    let aside = dir.path().join(".m.hsasm.swp");
    std::fs::write(&aside, text(3, "MULL")).unwrap();
    std::fs::rename(&aside, &module).unwrap();
    let refused = events_until_quiet(&events, true);
    assert_eq!(summary(&refused), [(ReloadKind::Watch, false, false)]);
    assert!(
        refused[0]
            .to_string()
            .ends_with("does not assemble: line 6, column 5: unknown instruction `MULL`"),
        "{}",
        refused[0]
    );
    assert_eq!(top(&mut vm), Value::I32(20));

    // Fixed.
    std::fs::write(&aside, text(3, "SUB")).unwrap();
    std::fs::rename(&aside, &module).unwrap();
    assert_eq!(summary(&events_until_quiet(&events, true)), [RELOADED]);
    assert_eq!(top(&mut vm), Value::I32(7));
}
