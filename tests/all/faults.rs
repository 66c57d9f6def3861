//! Fault containment: panics and error statuses reach the VM as typed
//! errors with the slot still bound; every hostile library a reload can
//! meet is refused with its own error while the old build keeps answering;
//! the trust checks refuse a library before it is opened.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use hotslot::vm::Value;
use hotslot::{AbiError, Fault, LoadError, ReloadOptions, SlotError, SlotTable, TrustError};
use hotslot_tests::{BROKEN, built, library_name, load_error, program, resident_kib, tempdir};

#[test]
fn a_panicking_plugin_gives_a_typed_error_every_time_and_stays_bound() {
    // Resident memory is measured: no other test may run in this process.
    if !hotslot_tests::in_own_process(
        "faults::a_panicking_plugin_gives_a_typed_error_every_time_and_stays_bound",
    ) {
        return;
    }
    let b = built();
    let table = hotslot_tests::table();
    let src = "
        .import 0 boom (i32) -> i32
        .import 1 divide (i32, i32) -> i32
        .import 2 odd_payload () -> i32
        .import 3 checked (i32, i32) -> i32
        .local n i32
        PUSH 7
        CALL_NATIVE 0
        HALT
    ";
    let mut vm = table.vm(program(src)).unwrap();
    let lib = b.rust("hotslot-fixture-panicky");
    table
        .bind_many(
            &lib,
            &[(0, None), (1, None), (2, None), (3, None)],
            &ReloadOptions::default(),
        )
        .unwrap();
    let run = |vm: &mut hotslot::vm::Vm<hotslot::SlotReader>| match vm.run() {
        Err(e) => match e.fault {
            Fault::Panic {
                message, slot: 0, ..
            } => message,
            other => panic!("expected a panic fault, found {other}"),
        },
        Ok(()) => panic!("the call must fail"),
    };
    assert_eq!(run(&mut vm), "boom #7");
    let e = vm.run().unwrap_err();
    assert_eq!(
        e.to_string(),
        "pc 1 (`CALL_NATIVE 0`): plugin panicked in `boom` (slot 0): boom #7"
    );

    // 10,000 panics: each one a typed error, no memory growth.
    for _ in 0..200 {
        run(&mut vm);
    }
    let before = resident_kib();
    for _ in 0..10_000 {
        assert_eq!(run(&mut vm), "boom #7");
    }
    let grown = resident_kib().saturating_sub(before);
    // Under valgrind the process's resident memory is valgrind's (its
    // shadow memory grows with every allocation); memcheck's leak check
    // stands in for this figure there.
    if std::env::var_os("HOTSLOT_UNDER_VALGRIND").is_none() {
        assert!(
            grown < 1024,
            "10,000 panics grew resident memory by {grown} KiB"
        );
    }

    // The slots are still bound, and the other functions answer.
    let call = |code: &str| {
        let src = format!(
            "
            .import 0 boom (i32) -> i32
            .import 1 divide (i32, i32) -> i32
            .import 2 odd_payload () -> i32
            .import 3 checked (i32, i32) -> i32
            {code}
            HALT
            "
        );
        let mut vm = table.vm(program(&src)).unwrap();
        vm.run().map(|()| vm.stack())
    };
    let e = call("PUSH 7\nPUSH 0\nCALL_NATIVE 1").unwrap_err();
    assert!(
        matches!(&e.fault, Fault::Panic { message, .. } if message == "attempt to divide by zero"),
        "{e}"
    );
    let e = call("CALL_NATIVE 2").unwrap_err();
    assert!(
        matches!(&e.fault, Fault::Panic { message, .. } if message == "Box<dyn Any>"),
        "{e}"
    );
    let e = call("PUSH 7\nPUSH 0\nCALL_NATIVE 3").unwrap_err();
    assert!(
        matches!(&e.fault, Fault::Native { message, .. } if message == "cannot divide 7 by 0"),
        "{e}"
    );
    assert_eq!(
        call("PUSH 7\nPUSH 2\nCALL_NATIVE 3").unwrap(),
        vec![Value::I32(3)]
    );
}

#[test]
fn a_c_error_status_gives_a_typed_error() {
    let table = hotslot_tests::table();
    let mut vm = table
        .vm(program(
            ".import 0 c_div (i64, i64) -> i64\nPUSH i64 1\nPUSH i64 0\nCALL_NATIVE 0\nHALT",
        ))
        .unwrap();
    table.bind(0, built().c("string_ops_c"), None).unwrap();
    let e = vm.run().unwrap_err();
    assert!(
        matches!(&e.fault, Fault::Native { message, function, .. } if message == "c_div: division by zero" && function == "c_div"),
        "{e}"
    );
    let mut vm = table
        .vm(program(
            ".import 0 c_div (i64, i64) -> i64\nPUSH i64 9\nPUSH i64 2\nCALL_NATIVE 0\nHALT",
        ))
        .unwrap();
    vm.run().unwrap();
    assert_eq!(vm.stack(), vec![Value::I64(4)]);
}

/// A table whose slot 0 serves `add` from a copy of the valid fixture, a
/// VM calling it, and the path to put hostile files at.
fn serving() -> (
    tempfile::TempDir,
    PathBuf,
    SlotTable,
    hotslot::vm::Vm<hotslot::SlotReader>,
) {
    let dir = tempdir();
    let lib = dir.path().join(library_name("plugin"));
    std::fs::copy(built().c("broken_none"), &lib).unwrap();
    let table = hotslot_tests::table();
    let vm = table
        .vm(program(
            ".import 0 add (i32, i32) -> i32\nPUSH 2\nPUSH 3\nCALL_NATIVE 0\nHALT",
        ))
        .unwrap();
    table.bind(0, &lib, None).unwrap();
    (dir, lib, table, vm)
}

fn still_answers(vm: &mut hotslot::vm::Vm<hotslot::SlotReader>) {
    vm.run().expect("the old build still answers");
    assert_eq!(vm.stack(), vec![Value::I32(5)]);
}

#[test]
fn every_hostile_library_is_refused_on_reload_and_the_old_build_answers() {
    let (_dir, lib, table, mut vm) = serving();
    still_answers(&mut vm);
    let good = std::fs::read(&lib).unwrap();
    let refuse = |bytes: Option<&[u8]>| -> SlotError {
        let _ = std::fs::remove_file(&lib);
        let _ = std::fs::remove_dir(&lib);
        if let Some(b) = bytes {
            std::fs::write(&lib, b).unwrap();
        }
        table.reload(&lib).expect_err("the reload must be refused")
    };

    // glibc's loader would map the missing part and die of SIGBUS.
    let e = load_error(refuse(Some(&good[..good.len() / 3])));
    assert!(
        matches!(e, LoadError::NotSharedLibrary { .. }),
        "truncated: {e}"
    );
    assert!(e.to_string().contains("truncated: "), "{e}");
    still_answers(&mut vm);

    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let e = load_error(refuse(Some(&random)));
    assert!(
        matches!(e, LoadError::NotSharedLibrary { .. }),
        "random bytes: {e}"
    );
    still_answers(&mut vm);

    let e = load_error(refuse(Some(b"")));
    assert!(
        matches!(e, LoadError::NotSharedLibrary { .. }),
        "empty: {e}"
    );
    still_answers(&mut vm);

    let _ = std::fs::remove_file(&lib);
    std::fs::create_dir(&lib).unwrap();
    let e = load_error(table.reload(&lib).unwrap_err());
    assert!(matches!(e, LoadError::Directory { .. }), "a directory: {e}");
    std::fs::remove_dir(&lib).unwrap();
    still_answers(&mut vm);

    let e = load_error(refuse(None));
    assert!(matches!(e, LoadError::FileMissing { .. }), "missing: {e}");
    still_answers(&mut vm);

    // Every malformed descriptor; `NO_DESCRIPTOR` is a valid ELF shared
    // library without the descriptor export.
    for name in BROKEN {
        let e = load_error(refuse(Some(&std::fs::read(built().broken(name)).unwrap())));
        assert!(crate::abi::is_its_own_error(name, &e), "{name}: {e:?}");
        still_answers(&mut vm);
    }
    let e = load_error(refuse(Some(
        &std::fs::read(built().rust("hotslot-fixture-layout-mismatch")).unwrap(),
    )));
    assert!(matches!(e, LoadError::Layout { .. }), "{e}");
    still_answers(&mut vm);

    // Exports that are variables, and a build for another machine: refused
    // before anything of theirs runs.
    for (fixture, symbol) in [
        ("data_descriptor", "hotslot_plugin"),
        ("data_get_version", "get_version"),
    ] {
        let e = load_error(refuse(Some(&std::fs::read(built().c(fixture)).unwrap())));
        assert!(
            matches!(&e, LoadError::NotAFunction { symbol: s, found: "a data symbol", .. } if *s == symbol),
            "{fixture}: {e}"
        );
        still_answers(&mut vm);
    }
    let mut foreign = good.clone();
    hotslot_tests::built_for_aarch64(&mut foreign);
    let e = load_error(refuse(Some(&foreign)));
    assert!(matches!(e, LoadError::Architecture { .. }), "{e}");
    still_answers(&mut vm);

    // The good build comes back.
    std::fs::write(&lib, &good).unwrap();
    table.reload(&lib).unwrap();
    still_answers(&mut vm);
}

#[test]
fn a_descriptor_that_changes_between_reads_is_refused() {
    let e = hotslot_tests::open(&built().broken("UNSTABLE"), &Default::default()).unwrap_err();
    assert!(matches!(e, LoadError::Unstable { .. }), "{e}");
    assert!(e.to_string().contains("`add` (i32, i32) -> i32 1."), "{e}");
}

#[test]
#[cfg(unix)]
fn an_unreadable_library_is_refused_and_the_old_build_answers() {
    // Run the REPL as an unprivileged user when the tests run as root, whom
    // file permissions do not stop.
    use std::os::unix::process::CommandExt;
    let dir = tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let lib = dir.path().join(library_name("plugin"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut cmd = std::process::Command::new(built().hotslot());
    cmd.args(["repl", "--bind"])
        .arg(format!("0={}", lib.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // SAFETY: `geteuid` has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let mut stdout = String::new();
    use std::io::Write;
    writeln!(stdin, "1").unwrap();
    // The first run has answered before the file becomes unreadable.
    while !stdout.contains("Result: 15") {
        let line = lines.next().expect("the REPL runs the program").unwrap();
        stdout.push_str(&line);
        stdout.push('\n');
    }
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o000)).unwrap();
    writeln!(stdin, "2\n\n\n\n1").unwrap();
    drop(stdin);
    for line in lines {
        stdout.push_str(&line.unwrap());
        stdout.push('\n');
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("cannot read library"), "{stdout}");
    assert!(stdout.contains("Permission denied"), "{stdout}");
    assert_eq!(stdout.matches("Result: 15").count(), 2, "{stdout}");
}

/// Builds the constructor fixture, whose load creates `marker`.
fn constructor(dir: &Path, marker: &Path) -> PathBuf {
    let out = dir.join(library_name("constructor"));
    built().build_c(
        "tests/fixtures/c/constructor.c",
        &out,
        &[&format!("MARKER={}", hotslot_tests::c_string(marker))],
    );
    out
}

#[test]
#[cfg(unix)]
fn the_trust_checks_refuse_before_opening() {
    let dir = tempdir();
    let marker = dir.path().join("opened");
    let lib = constructor(dir.path(), &marker);
    let table = hotslot_tests::table();
    let _vm = table
        .vm(program(".import 0 op (i32, i32) -> i32\nHALT"))
        .unwrap();

    // World-writable file.
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o666)).unwrap();
    let e = load_error(table.bind(0, &lib, None).unwrap_err());
    assert!(
        matches!(
            e,
            LoadError::Untrusted(TrustError::WritableByOthers { mode: 0o666, .. })
        ),
        "{e}"
    );
    // Group-writable file.
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o664)).unwrap();
    let e = load_error(table.bind(0, &lib, None).unwrap_err());
    assert!(matches!(e, LoadError::Untrusted(_)), "{e}");
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();

    // World-writable directory without the sticky bit.
    let open_dir = dir.path().join("open");
    std::fs::create_dir(&open_dir).unwrap();
    let in_open = open_dir.join(library_name("constructor"));
    std::fs::copy(&lib, &in_open).unwrap();
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = load_error(table.bind(0, &in_open, None).unwrap_err());
    assert!(
        matches!(e, LoadError::Untrusted(TrustError::WritableByOthers { ref path, .. }) if *path == open_dir),
        "{e}"
    );

    // A pinned hash that does not match.
    let wrong = ReloadOptions {
        sha256: Some(hotslot::plugin::Sha256([7; 32])),
        ..ReloadOptions::default()
    };
    let e = load_error(table.bind_with(0, &lib, None, &wrong).unwrap_err());
    assert!(matches!(e, LoadError::HashMismatch { .. }), "{e}");

    assert!(
        !marker.exists(),
        "a refused library must not have been opened"
    );

    // The right hash, and then the marker shows the library was opened.
    let right = ReloadOptions {
        sha256: Some(sha256(&lib)),
        ..ReloadOptions::default()
    };
    table.bind_with(0, &lib, None, &right).unwrap();
    assert!(marker.exists());

    // The pin stays: a changed file is refused on reload without a new pin.
    std::fs::remove_file(&marker).unwrap();
    let mut bytes = std::fs::read(&lib).unwrap();
    bytes.extend_from_slice(b"appended");
    std::fs::write(&lib, bytes).unwrap();
    let e = load_error(table.reload(&lib).unwrap_err());
    assert!(matches!(e, LoadError::HashMismatch { .. }), "{e}");
    assert!(!marker.exists());
}

/// Windows: the access lists of the library and of every directory above
/// it, set as a user sets them (the Security tab, `icacls`); each refusal
/// names the account, the rights and the path, and nothing of the library
/// runs. (Under wine, which reports only what Unix permission bits can
/// say, Everyone's rights are what can be set; the decisions on owners and
/// on other accounts are tested in `plugin::trust`'s unit tests.)
#[test]
#[cfg(windows)]
fn the_trust_checks_refuse_before_opening_on_windows() {
    use hotslot_tests::{security, set_security};
    let dir = tempdir();
    let marker = dir.path().join("opened");
    let lib = constructor(dir.path(), &marker);
    let table = hotslot_tests::table();
    let _vm = table
        .vm(program(".import 0 op (i32, i32) -> i32\nHALT"))
        .unwrap();
    let refused = |path: &Path| match load_error(table.bind(0, path, None).unwrap_err()) {
        LoadError::Untrusted(e) => e,
        other => panic!("expected a trust refusal, found {other}"),
    };
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap();

    // Everyone may write the file.
    let original = security(&lib);
    set_security(&lib, &format!("{original}(A;;FA;;;WD)"));
    let e = refused(&lib);
    assert!(
        matches!(&e, TrustError::WritableByAccount { path, account, access }
            if *path == canonical(&lib) && account.ends_with("(S-1-1-0)") && access & 0x2 != 0),
        "{e}"
    );
    assert!(
        e.to_string().contains("can be changed or replaced by "),
        "{e}"
    );
    set_security(&lib, &original);

    // Everyone may change what a directory above it holds.
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let in_sub = sub.join(library_name("constructor"));
    std::fs::copy(&lib, &in_sub).unwrap();
    let sub_original = security(&sub);
    set_security(&sub, &format!("{sub_original}(A;;FA;;;WD)"));
    let e = refused(&in_sub);
    assert!(
        matches!(&e, TrustError::WritableByAccount { path, account, access }
            if *path == canonical(&sub) && account.ends_with("(S-1-1-0)") && access & 0x40 != 0),
        "{e}"
    );
    assert!(
        !marker.exists(),
        "a refused library must not have been opened"
    );

    // Closed again, it loads.
    set_security(&sub, &sub_original);
    table.bind(0, &in_sub, None).unwrap();
    assert!(marker.exists(), "the trusted library was not opened");
}

#[test]
fn untrusted_paths_load_when_explicitly_allowed() {
    let dir = tempdir();
    let marker = dir.path().join("opened");
    let lib = constructor(dir.path(), &marker);
    hotslot_tests::open_to_others(&lib);
    let table = hotslot_tests::table_with(hotslot::TableOptions {
        trust: hotslot::plugin::TrustPolicy {
            allow_untrusted_paths: true,
        },
        ..Default::default()
    });
    let _vm = table
        .vm(program(".import 0 op (i32, i32) -> i32\nHALT"))
        .unwrap();
    table.bind(0, &lib, None).unwrap();
    assert!(marker.exists(), "the allowed library was not opened");
}

#[cfg(unix)]
fn sha256(path: &Path) -> hotslot::plugin::Sha256 {
    hotslot::plugin::Sha256::of_file(path).unwrap()
}

#[test]
fn abi_errors_name_expected_and_found() {
    let e = AbiError::AbiMajor {
        expected: 1,
        found: 2,
    };
    assert_eq!(
        e.to_string(),
        "ABI major version mismatch: expected 1, found 2"
    );
}

/// A huge file is refused before any of it is copied: over the size limit
/// by its size alone, within it by its first bytes (the copy's own checks,
/// and the dynamic loader, would name it otherwise), and the old build
/// keeps serving.
#[test]
fn a_huge_file_is_refused_by_its_size_or_its_first_bytes_before_it_is_copied() {
    let dir = tempdir();
    let lib = dir.path().join(library_name("huge"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    let table = hotslot_tests::table();
    let mut vm = table
        .vm(program(
            ".import 0 math_add (i32, i32) -> i32\nPUSH 2\nPUSH 3\nCALL_NATIVE 0\nHALT",
        ))
        .unwrap();
    table.bind(0, &lib, None).unwrap();
    vm.run().unwrap();
    assert_eq!(vm.stack(), [Value::I32(5)]);

    // 20 GiB of zeros, sparse: over the default limit of 1 GiB.
    let huge = std::fs::File::create(&lib).unwrap();
    huge.set_len(20 << 30).unwrap();
    drop(huge);
    let e = load_error(table.reload(&lib).unwrap_err());
    assert!(
        matches!(e, LoadError::TooLarge { size, limit, .. } if size == 20 << 30 && limit == 1 << 30),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "`{}` is 21474836480 bytes, more than the 1073741824 a library may have \
             (`TableOptions::max_library_size`, `--max-library-size`)",
            lib.display()
        )
    );
    vm.run().unwrap();
    assert_eq!(vm.stack(), [Value::I32(5)], "the old build serves");

    // Within a larger limit: refused by its first bytes.
    let roomy = hotslot_tests::table_with(hotslot::TableOptions {
        max_library_size: 32 << 30,
        ..hotslot::TableOptions::default()
    });
    let e = load_error(
        roomy
            .bind_library(&lib, &ReloadOptions::default())
            .unwrap_err(),
    );
    assert!(matches!(e, LoadError::NotSharedLibrary { .. }), "{e}");
    let format = if cfg!(windows) {
        "a PE file"
    } else {
        "an ELF file"
    };
    assert!(
        e.to_string().ends_with(&format!(
            "it is not {format}: its first bytes are 00 00 00 00"
        )),
        "{e}"
    );
    let _ = std::fs::remove_file(&lib);
}
