//! Private copies: the bytes whose hash was checked are the bytes loaded,
//! whatever another process does meanwhile, and nothing is left behind by
//! any way a process can end.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hotslot::plugin::{CopyPlace, Sha256};
use hotslot::vm::{Value, assemble, verify};
use hotslot::{ReloadOptions, TableOptions};
use hotslot_tests::{built, library_name, tempdir};

/// Starts `hotslot run --watch` on `math.hsasm` with `lib` in slot 0
/// and waits until it has printed its first result.
fn run_watch(lib: &Path, extra: &[&str]) -> Child {
    let mut child = Command::new(built().hotslot())
        .arg("run")
        .arg("--watch")
        .arg(built().root.join("host/examples/math.hsasm"))
        .arg("--bind")
        .arg(format!("0={}", lib.display()))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // Read as bytes, so that anything but text says what it was.
    let mut seen = Vec::new();
    loop {
        let start = seen.len();
        assert!(
            out.read_until(b'\n', &mut seen).unwrap() > 0,
            "the run ended early: {:?}",
            String::from_utf8_lossy(&seen)
        );
        let line = std::str::from_utf8(&seen[start..])
            .unwrap_or_else(|e| panic!("not text ({e}) in the output so far: {seen:?}"));
        if line.starts_with("Result:") {
            break;
        }
    }
    // Drained from now on, so that the child never blocks on its output.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    child
}

/// Every entry whose name mentions process `pid`'s copies, in the places a
/// copy could be left: memory-backed and temporary directories, and the
/// default copy directory.
fn leftovers_of(pid: u32) -> Vec<PathBuf> {
    let marks = [format!("hotslot-{pid}-"), format!("pid-{pid}")];
    let places = [
        PathBuf::from("/dev/shm"),
        std::env::temp_dir(),
        hotslot::testing::default_copy_dir(),
    ];
    let mut found = Vec::new();
    for place in places {
        let Ok(entries) = std::fs::read_dir(&place) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if marks.iter().any(|m| name.contains(m.as_str())) {
                found.push(e.path());
            }
        }
    }
    found
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: `kill` with a child's pid and a signal number has no memory
    // effects on this process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

#[test]
fn a_killed_process_leaves_no_copy_anywhere() {
    let dir = tempdir();
    let lib = dir.path().join(library_name("math_ops"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    let mut child = run_watch(&lib, &[]);
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", child.id())).unwrap();
    assert!(
        maps.contains(&format!("/memfd:hotslot-{}-", child.id())),
        "the build runs from a memory file"
    );
    assert_eq!(leftovers_of(child.id()), Vec::<PathBuf>::new());
    signal(&child, libc::SIGKILL);
    child.wait().unwrap();
    assert_eq!(leftovers_of(child.id()), Vec::<PathBuf>::new());
}

/// A copy directory of this user's, closed to others.
fn copy_dir(parent: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = parent.join("copies");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// The entries of `dir`.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn copies_in_a_directory_go_on_sigint_and_sigterm_and_are_swept_after_sigkill() {
    let dir = tempdir();
    let lib = dir.path().join(library_name("math_ops"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    let copies = copy_dir(dir.path());
    let arg = copies.to_str().unwrap();

    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let mut child = run_watch(&lib, &["--copy-dir", arg]);
        let process_dir = format!("pid-{}", child.id());
        assert_eq!(entries(&copies), std::slice::from_ref(&process_dir));
        assert_eq!(entries(&copies.join(&process_dir)).len(), 1, "one copy");
        signal(&child, sig);
        assert_eq!(child.wait().unwrap().code(), Some(code));
        assert_eq!(entries(&copies), Vec::<String>::new(), "signal {sig}");
    }

    // SIGKILL cannot be caught: the copy stays until the next process that
    // uses the directory sees its owner is gone.
    let mut child = run_watch(&lib, &["--copy-dir", arg]);
    let dead = format!("pid-{}", child.id());
    signal(&child, libc::SIGKILL);
    child.wait().unwrap();
    assert_eq!(entries(&copies), std::slice::from_ref(&dead));
    let table = hotslot_tests::table_with(TableOptions {
        copies: CopyPlace::Dir(copies.clone()),
        ..TableOptions::default()
    });
    let program = verify(assemble(".import 0 math_add (i32, i32) -> i32\nHALT").unwrap()).unwrap();
    table.declare_program(program.program()).unwrap();
    table.bind(0, &lib, None).unwrap();
    assert_eq!(
        entries(&copies),
        [format!("pid-{}", std::process::id())],
        "the dead process's copies were swept"
    );
}

#[test]
fn a_copy_directory_others_can_write_to_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let lib = dir.path().join(library_name("math_ops"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (status, out, err) = hotslot_tests::hotslot(&[
        "run",
        built()
            .root
            .join("host/examples/math.hsasm")
            .to_str()
            .unwrap(),
        "--bind",
        &format!("0={}", lib.display()),
        "--copy-dir",
        open.to_str().unwrap(),
    ]);
    assert_eq!(status.code(), Some(3));
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "hotslot: cannot load `{}`: cannot keep private copies in `{}`: it has mode 0777, which lets other users in; it must be a directory of yours that no one else can use (mode 0700; on Windows, an access list that lets only you in)\n",
            lib.display(),
            open.display()
        )
    );
    assert_eq!(
        entries(&open),
        Vec::<String>::new(),
        "nothing was written there"
    );
}

/// The best attempt at swapping the checked build for another between the
/// hash check and the load: it replaces every private copy of `libgood` it
/// can find, by name in every directory a copy could go to, and by
/// descriptor through `/proc/PID/fd` (which only this user may open), over
/// and over. Other users cannot even do the latter.
fn adversary(evil: Vec<u8>, stop: Arc<AtomicBool>, attempts: Arc<AtomicU64>) {
    let pid = std::process::id();
    let places = [
        PathBuf::from("/dev/shm"),
        std::env::temp_dir(),
        hotslot::testing::default_copy_dir(),
    ];
    let evil_file = tempdir();
    let evil_path = evil_file.path().join("evil.so");
    std::fs::write(&evil_path, &evil).unwrap();
    while !stop.load(Ordering::Relaxed) {
        // Copies by name, and in the directories one level down where
        // copies have been kept (a table's own `hotslot-*` directory, a
        // `pid-N` directory); other tests' directories are left alone.
        let dirs = places.iter().flat_map(|place| {
            let below = std::fs::read_dir(place)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name.starts_with("pid-") || name.starts_with("hotslot-"))
                        && !name.starts_with("hotslot-test-")
                        && e.path().is_dir()
                })
                .map(|e| e.path());
            std::iter::once(place.clone()).chain(below)
        });
        for dir in dirs {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("hotslot-") && name.contains("libgood") && e.path().is_file() {
                    let aside = e.path().with_extension("evil");
                    if std::fs::copy(&evil_path, &aside).is_ok() {
                        let _ = std::fs::rename(&aside, e.path());
                        attempts.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let is_copy = std::fs::read_link(fd.path()).is_ok_and(|t| {
                let t = t.to_string_lossy();
                t.starts_with("/memfd:hotslot-") && t.contains("libgood")
            });
            if is_copy {
                attempts.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(fd.path()) {
                    // Succeeds only in the instant before the copy is sealed.
                    let _ = f.write_all(&evil);
                }
            }
        }
    }
}

#[test]
fn a_pinned_build_is_the_build_that_runs_whatever_else_writes_meanwhile() {
    let dir = tempdir();
    let good = dir.path().join(library_name("good"));
    built().build_c("tests/fixtures/c/adder.c", &good, &[]);
    let evil = dir.path().join(library_name("evil"));
    built().build_c("tests/fixtures/c/adder.c", &evil, &["OP(a,b)=((a)*(b))"]);
    let pin = Sha256::of_file(&good).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicU64::new(0));
    let attacker = {
        let (evil, stop, attempts) = (
            std::fs::read(&evil).unwrap(),
            Arc::clone(&stop),
            Arc::clone(&attempts),
        );
        std::thread::spawn(move || adversary(evil, stop, attempts))
    };
    let program = Arc::new(
        verify(
            assemble(".import 0 op (i32, i32) -> i32\nPUSH 6\nPUSH 7\nCALL_NATIVE 0\nHALT")
                .unwrap(),
        )
        .unwrap(),
    );
    let options = ReloadOptions {
        sha256: Some(pin),
        ..ReloadOptions::default()
    };
    // Every load either runs the pinned build or is refused because the
    // sealed copy does not have the pinned hash (the adversary wrote to it
    // while the kernel filled it); the other build never runs.
    let mut refused = 0;
    let mut check = |result: Result<hotslot::ReloadReport, hotslot::SlotError>| match result {
        Ok(_) => true,
        Err(e) => match hotslot_tests::load_error(e) {
            hotslot::LoadError::HashMismatch { .. } => {
                refused += 1;
                false
            }
            other => panic!("{other}"),
        },
    };
    let mut loaded = 0;
    for round in 0..300 {
        let table = hotslot_tests::table();
        let mut vm = table.vm(Arc::clone(&program)).unwrap();
        if !check(table.bind_with(0, &good, None, &options)) {
            continue;
        }
        for _ in 0..3 {
            vm.run().unwrap();
            assert_eq!(
                vm.stack(),
                [Value::I32(13)],
                "round {round}: the pinned build runs"
            );
            loaded += usize::from(check(table.reload(&good)));
        }
    }
    stop.store(true, Ordering::Relaxed);
    attacker.join().unwrap();
    eprintln!(
        "{} attacks; {loaded} reloads ran the pinned build, {refused} copies were caught changing",
        attempts.load(Ordering::Relaxed)
    );
    assert!(
        attempts.load(Ordering::Relaxed) > 0,
        "the adversary found copies to attack"
    );
    assert!(loaded > 0);
}
