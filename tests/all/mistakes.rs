//! Every mistake a user or a broken build can make gets a clear error, and
//! the process goes on or exits with a status a script can tell apart:
//! slot numbers, paths that hold `@` or `#`, whole libraries, unbound
//! imports, copy directories, snapshots, the REPL's input, logging, exit
//! codes, and C functions that do not match their declaration.

use std::path::{Path, PathBuf};
use std::process::Command;

use hotslot::vm::{Function, Import, Instr, Local, Program, encode};
use hotslot::{Signature, ValType};
use hotslot_tests::{built, example, hotslot, library_name, repl, tempdir};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_huge_slot_number_is_an_error_at_its_line_or_offset_not_an_abort() {
    let dir = tempdir();
    for slot in ["4294967295", "50000000", "65536"] {
        let prog = write(
            dir.path(),
            "huge.hsasm",
            &format!(".import {slot} f () -> i32\nHALT\n"),
        );
        let (status, out, err) = hotslot(&["run", prog.to_str().unwrap()]);
        assert_eq!(status.code(), Some(1), "{err}");
        assert_eq!(out, "");
        assert_eq!(
            err,
            format!(
                "hotslot: `{}`: line 1, column 9: slot {slot} is larger than 65535, the largest slot number a program may import\n",
                prog.display()
            )
        );
    }
    // The largest allowed is fine.
    let prog = write(dir.path(), "max.hsasm", ".import 65535 f () -> i32\nHALT\n");
    let out = dir.path().join("max.hsbc");
    let (status, _, err) = hotslot(&["asm", prog.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(status.success(), "{err}");

    // Bytecode: a program written by another tool, slot 4294967295.
    let program = Program {
        imports: vec![Import {
            slot: u32::MAX,
            name: "f".into(),
            signature: Signature::new([], Some(ValType::I32)),
            requirement: None,
        }],
        functions: vec![Function {
            name: "main".into(),
            params: Vec::new(),
            ret: None,
            locals: Vec::<Local>::new(),
            start: 0,
            end: 1,
        }],
        code: vec![Instr::Halt],
        module: None,
    };
    let hsbc = dir.path().join("huge.hsbc");
    std::fs::write(&hsbc, encode(&program)).unwrap();
    let (status, _, err) = hotslot(&["run", hsbc.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        err,
        format!(
            "hotslot: `{}`: byte 6: slot 4294967295 is larger than 65535, the largest slot number a program may import\n",
            hsbc.display()
        )
    );
}

#[test]
fn paths_holding_at_and_hash_bind_as_they_are() {
    let b = built();
    let dir = tempdir();
    let odd = dir.path().join("v@2#beta");
    std::fs::create_dir(&odd).unwrap();
    let lib = odd.join(library_name("math_ops"));
    std::fs::copy(b.c("math_ops"), &lib).unwrap();
    let lib = lib.display().to_string();
    let (status, out, err) =
        hotslot(&["run", &example("math.hsasm"), "--bind", &format!("0={lib}")]);
    assert!(status.success(), "{err}");
    assert!(out.ends_with("Result: 15\n"), "{out}");

    // With a symbol and a pin, given apart from the path.
    let hash = hotslot::plugin::Sha256::of_file(Path::new(&lib)).unwrap();
    let (status, out, err) = hotslot(&[
        "run",
        &example("math.hsasm"),
        "--bind",
        &format!("0={lib}"),
        "--symbol",
        "0=math_mul",
        "--sha256",
        &format!("0={hash}"),
    ]);
    assert!(status.success(), "{err}");
    assert!(out.ends_with("Result: 50\n"), "{out}");
    // And a wrong pin is refused.
    let (status, _, err) = hotslot(&[
        "run",
        &example("math.hsasm"),
        "--bind",
        &format!("0={lib}"),
        "--sha256",
        &format!("0={}", "0".repeat(64)),
    ]);
    assert_eq!(status.code(), Some(3));
    assert!(err.contains("has SHA-256"), "{err}");
}

#[test]
fn a_whole_library_binds_every_import_it_exports_and_unbound_ones_are_named_first() {
    let b = built();
    let dir = tempdir();
    let prog = write(
        dir.path(),
        "two.hsasm",
        ".import 0 math_add (i32, i32) -> i32\n.import 1 math_mul (i32, i32) -> i32\n\
         PUSH 2\nPUSH 3\nCALL_NATIVE 0\nPUSH 4\nCALL_NATIVE 1\nPRINT\nHALT\n",
    );
    let math = b.c("math_ops").display().to_string();
    let (status, out, err) = hotslot(&["run", prog.to_str().unwrap(), "--lib", &math]);
    assert!(status.success(), "{err}");
    assert!(out.ends_with("Result: 20\n"), "{out}");

    let clamp = write(
        dir.path(),
        "clamp.hsasm",
        ".import 0 math_add (i32, i32) -> i32\n.import 1 clamp (i32) -> i32\n\
         PUSH 2\nPUSH 3\nCALL_NATIVE 0\nPRINT\nPUSH 9\nCALL_NATIVE 1\nPRINT\nHALT\n",
    );
    let (status, out, err) = hotslot(&["run", clamp.to_str().unwrap(), "--lib", &math]);
    assert_eq!(status.code(), Some(3));
    assert_eq!(out, "", "nothing ran");
    assert_eq!(
        err,
        format!(
            "hotslot: slot 1: `{math}` has no function `clamp` (it exports `math_add`, \
             `math_mul`, `math_add_i64`, `math_mul_i64`, `math_add_f64`, `math_mul_f64`)\n"
        )
    );
}

#[test]
fn a_copy_directory_that_cannot_be_made_names_itself_and_the_reason() {
    let dir = tempdir();
    let file = write(dir.path(), "file", "");
    let under = file.join("copies");
    let math = built().c("math_ops").display().to_string();
    let (status, _, err) = hotslot(&[
        "run",
        &example("math.hsasm"),
        "--bind",
        &format!("0={math}"),
        "--copy-dir",
        under.to_str().unwrap(),
    ]);
    assert_eq!(status.code(), Some(3));
    assert_eq!(
        err,
        format!(
            "hotslot: cannot load `{math}`: cannot make the private copy of the library in the directory `{}`: {}\n",
            under.display(),
            // The system's words: "Not a directory (os error 20)" on Linux.
            std::fs::create_dir(&under).unwrap_err()
        )
    );
}

#[test]
fn the_copy_directory_option_says_what_the_book_says() {
    let (_, help, _) = hotslot(&["run", "--help"]);
    assert!(
        help.contains("--copy-dir <DIR>") && help.contains("instead of anonymous memory files"),
        "{help}"
    );
    let cli = std::fs::read_to_string(built().root.join("docs/src/cli.md")).unwrap();
    assert!(
        cli.contains("`--copy-dir DIR`") && cli.contains("anonymous memory files"),
        "the book's command line chapter describes --copy-dir and the default"
    );
}

/// Saves a snapshot of a counting program after one step.
fn snapshot(dir: &Path) -> (PathBuf, serde_json::Value) {
    let lib = dir.join(library_name("math_ops"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    let prog = write(
        dir,
        "count.hsasm",
        ".import 0 math_add (i32, i32) -> i32\n.local i i32\nPUSH 3\nSTORE i\n\
         next: LOAD i\nLOAD i\nCALL_NATIVE 0\nPRINT\nLOAD i\nPUSH 1\nSUB\nDUP\nSTORE i\nJNZ next\nHALT\n",
    );
    let snap = dir.join("snap.json");
    let (status, _, err) = hotslot(&[
        "snapshot",
        "save",
        prog.to_str().unwrap(),
        "--bind",
        &format!("0={}", lib.display()),
        "--steps",
        "1",
        "-o",
        snap.to_str().unwrap(),
    ]);
    assert!(status.success(), "{err}");
    let json = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    (snap, json)
}

#[test]
fn a_snapshot_that_cannot_be_restored_is_refused_up_front_naming_the_snapshot() {
    let dir = tempdir();
    let (snap, json) = snapshot(dir.path());
    let restore = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut j = json.clone();
        edit(&mut j);
        std::fs::write(&snap, serde_json::to_string(&j).unwrap()).unwrap();
        hotslot(&["snapshot", "restore", snap.to_str().unwrap()])
    };
    let at = snap.display();
    for (edit, message) in [
        (
            (&|j: &mut serde_json::Value| j["slots"][0]["sha256"] = "xyz".into())
                as &dyn Fn(&mut serde_json::Value),
            format!("snapshot `{at}`: the SHA-256 of slot 0 is `xyz`, not 64 hex digits"),
        ),
        (
            &|j: &mut serde_json::Value| j["vm"]["status"] = "faulted".into(),
            format!(
                "snapshot `{at}`: the saved VM is `faulted`; only a ready, paused or halted VM can be restored"
            ),
        ),
        (
            &|j: &mut serde_json::Value| j["slots"] = serde_json::json!([]),
            format!(
                "snapshot `{at}`: the program imports slot 0 (`math_add`) but the snapshot binds no library to it"
            ),
        ),
        (
            &|j: &mut serde_json::Value| j["vm"]["frames"][0]["locals"] = serde_json::json!([]),
            format!(
                "snapshot `{at}`: the saved VM state does not fit the program: frame of `main` holds (), the program has (i32)"
            ),
        ),
    ] {
        let (status, out, err) = restore(edit);
        assert_eq!(status.code(), Some(1), "{err}");
        assert_eq!(out, "", "nothing ran");
        assert_eq!(err, format!("hotslot: {message}\n"));
    }
}

#[test]
fn the_repl_reports_a_reload_as_a_reload_and_survives_bad_input() {
    let dir = tempdir();
    let lib = dir.path().join(library_name("math_ops"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    let lib = lib.display().to_string();
    // Bytes that are not UTF-8, then a reload of the bound library with the
    // defaults, then a run; then a slot past the limit.
    let mut input = b"\xff\xfe\n2\n\n\n\n1\n2\n\n\n4294967295\n1\n".to_vec();
    input.extend_from_slice(b"6\n");
    let out = repl(&["--bind", &format!("0={lib}")], &input);
    assert!(
        out.contains("[ERROR] the input is not UTF-8 text (byte 0 is not); type it again"),
        "{out}"
    );
    // Option 2 on the library slot 0 serves is a reload; the bind at start
    // and the refused bind of a slot not declared are binds.
    let events: Vec<&str> = out
        .lines()
        // Prompts end without a newline: an event may follow one.
        .filter_map(|l| l.split_once("[EVENT] ").map(|(_, e)| e))
        .map(|e| e.split(' ').next().unwrap())
        .collect();
    assert_eq!(events, ["bind", "reload", "bind"], "{out}");
    assert!(
        out.contains(&format!(
            "[EVENT] reload {lib}: math_ops 1.0.0 (generation 1 -> 2)"
        )),
        "{out}"
    );
    assert!(
        out.contains("[REFUSED] slot 4294967295 is not declared (declared: 0)"),
        "{out}"
    );
    let results = out.lines().filter(|l| l.starts_with("Result: ")).count();
    assert_eq!(results, 2, "the session went on: {out}");
}

#[test]
fn logging_follows_verbosity_and_rust_log() {
    let math = built().c("math_ops").display().to_string();
    let bind = format!("0={math}");
    let (_, _, quiet) = hotslot(&["run", &example("math.hsasm"), "--bind", &bind]);
    assert_eq!(quiet, "", "warnings only by default");
    let (_, _, verbose) = hotslot(&["-v", "run", &example("math.hsasm"), "--bind", &bind]);
    assert!(
        verbose.starts_with(&format!(
            "hotslot: info: bind {math}: math_ops 1.0.0 (generation "
        )),
        "{verbose}"
    );
    let out = Command::new(built().hotslot())
        .args(["run", &example("math.hsasm"), "--bind", &bind])
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("hotslot: info: bind "),
        "RUST_LOG turns it on too"
    );
}

#[test]
fn exit_codes_tell_usage_refusal_fault_and_other_errors_apart() {
    let dir = tempdir();
    let math = built().c("math_ops").display().to_string();
    let divide = write(
        dir.path(),
        "divide.hsasm",
        "PUSH 1\nPUSH 0\nDIV\nPRINT\nHALT\n",
    );
    let missing = dir.path().join("missing.hsasm");
    for (args, code) in [
        (
            vec![
                "run",
                &example("math.hsasm"),
                "--bind",
                &format!("0={math}"),
            ],
            0,
        ),
        (vec!["run", missing.to_str().unwrap()], 1),
        (vec!["run", "--no-such-flag"], 2),
        (
            vec!["run", &example("math.hsasm"), "--bind", "0=/no/such/lib.so"],
            3,
        ),
        (vec!["run", divide.to_str().unwrap()], 4),
    ] {
        let args: Vec<&str> = args.iter().map(|s| s.as_ref()).collect();
        let (status, _, err) = hotslot(&args);
        assert_eq!(status.code(), Some(code), "{args:?}: {err}");
    }
}

/// Compiles `source` as a C plugin with the CI's flags; stderr on failure.
fn compile_c(dir: &Path, name: &str, source: &str) -> Result<PathBuf, String> {
    let src = write(dir, &format!("{name}.c"), source);
    let out = dir.join(library_name(name));
    let include = built().root.join("plugin-api/include");
    built()
        .cc
        .build(&src, &out, &[&include], &[])
        .map(|()| out)
        .map_err(|e| e.to_string())
}

#[test]
fn a_c_function_that_does_not_match_its_declaration_does_not_compile() {
    let dir = tempdir();
    let e = compile_c(
        dir.path(),
        "half",
        "#include \"hotslot_shim.h\"\n\
         static double half(double x) { return x / 2; }\n\
         HS_FUNCTION(i32, half, (i32), 1, 0, 0)\n\
         HS_PLUGIN(\"half\", 1, 0, 0, half)\n",
    )
    .unwrap_err();
    assert!(
        e.contains("HS_FUNCTION(i32, half, (i32), ...): the function `half` has other parameter or return types"),
        "{e}"
    );
    let e = compile_c(
        dir.path(),
        "upper",
        "#include \"hotslot_shim.h\"\n\
         static HsStatus upper(HsCallCtx *ctx, HsValue *ret, int32_t x) { (void)ret; (void)x; return hs_return_cstr(ctx, \"\"); }\n\
         HS_FUNCTION_CTX(str, upper, (str), 1, 0, 0)\n\
         HS_PLUGIN(\"upper\", 1, 0, 0, upper)\n",
    )
    .unwrap_err();
    assert!(
        e.contains("HS_FUNCTION_CTX(str, upper, (str), ...): the function `upper` has other parameter or return types"),
        "{e}"
    );
}

#[test]
fn a_context_function_marks_ret_unused_and_a_table_lifts_the_function_limit() {
    let dir = tempdir();
    // 40 functions, more than HS_PLUGIN's 32, one returning a string
    // without using `ret`, all under -Wall -Wextra -Werror -pedantic.
    let mut src = String::from("#include \"hotslot_shim.h\"\n");
    for i in 0..39 {
        src.push_str(&format!(
            "static int32_t f{i}(int32_t x) {{ return x + {i}; }}\nHS_FUNCTION(i32, f{i}, (i32), 1, 0, 0)\n"
        ));
    }
    src.push_str(
        "static HsStatus hello(HsCallCtx *ctx, HsValue *ret) { HS_UNUSED(ret); return hs_return_cstr(ctx, \"hello\"); }\n\
         HS_FUNCTION_CTX(str, hello, (void), 1, 0, 0)\n\
         static const HsFunctionDescriptor *const functions[] = {\n",
    );
    for i in 0..39 {
        src.push_str(&format!("    HS_FN(f{i}),\n"));
    }
    src.push_str("    HS_FN(hello),\n};\nHS_PLUGIN_TABLE(\"many\", 1, 0, 0, functions)\n");
    let lib = compile_c(dir.path(), "many", &src).unwrap();
    let library = hotslot_tests::open(&lib, &hotslot::plugin::LoadOptions::default()).unwrap();
    assert_eq!(library.info().functions.len(), 40);
    let prog = write(
        dir.path(),
        "many.hsasm",
        ".import 0 f38 (i32) -> i32\n.import 1 hello () -> str\nPUSH 4\nCALL_NATIVE 0\nPRINT\nCALL_NATIVE 1\nPRINT\nHALT\n",
    );
    let (status, out, err) = hotslot(&[
        "run",
        prog.to_str().unwrap(),
        "--lib",
        lib.to_str().unwrap(),
    ]);
    assert!(status.success(), "{err}");
    assert_eq!(out, "Result: 42\nResult: hello\n");
}

/// A process whose ID this one now has ended and left its directory of
/// copies behind, with a copy named as this process names its first (on
/// Windows a copy the system kept loaded cannot be removed until its
/// process ends; Windows, and wine sooner, reuse process IDs): the
/// directory is cleared, not reused, and the bind works.
#[test]
fn a_copy_directory_left_by_an_ended_process_of_the_same_id_is_cleared() {
    const NAME: &str =
        "mistakes::a_copy_directory_left_by_an_ended_process_of_the_same_id_is_cleared";
    // In its own process, so that its first copy is this process's first.
    if !hotslot_tests::in_own_process(NAME) {
        return;
    }
    let dir = tempdir();
    let copies = dir.path().join("copies");
    let pid = std::process::id();
    let stale = copies.join(format!("pid-{pid}"));
    hotslot_tests::create_private_dir(&copies);
    hotslot_tests::create_private_dir(&stale);
    let lib = dir.path().join(library_name("math_ops"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    let stem = lib.file_stem().unwrap().to_str().unwrap();
    let first = stale.join(format!(
        "hotslot-{pid}-0-{stem}.{}",
        std::env::consts::DLL_EXTENSION
    ));
    std::fs::write(&first, "left by the process that ended").unwrap();
    std::fs::write(stale.join("other"), "left too").unwrap();

    let table = hotslot_tests::table_with(hotslot::TableOptions {
        copies: hotslot::plugin::CopyPlace::Dir(copies.clone()),
        ..Default::default()
    });
    let _vm = table
        .vm(hotslot_tests::program(
            ".import 0 math_add (i32, i32) -> i32\nHALT",
        ))
        .unwrap();
    table.bind(0, &lib, None).unwrap();
    let left: Vec<String> = std::fs::read_dir(&stale)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, [first.file_name().unwrap().to_str().unwrap()]);
    assert_eq!(std::fs::read(&first).unwrap(), std::fs::read(&lib).unwrap());
}

/// Windows: a copy directory whose access list lets another account in is
/// refused, naming the account, before anything is written there.
#[cfg(windows)]
#[test]
fn a_copy_directory_others_can_use_is_refused_on_windows() {
    let dir = tempdir();
    let lib = dir.path().join(library_name("math_ops"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    hotslot_tests::open_to_others(&open);
    let (status, out, err) = hotslot(&[
        "run",
        &example("math.hsasm"),
        "--bind",
        &format!("0={}", lib.display()),
        "--copy-dir",
        open.to_str().unwrap(),
    ]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert_eq!(out, "");
    let prefix = format!(
        "hotslot: cannot load `{}`: cannot keep private copies in `{}`: its access list lets Everyone (S-1-1-0) in (access mask ",
        lib.display(),
        open.display()
    );
    assert!(err.starts_with(&prefix), "{err}");
    assert!(
        err.ends_with("); only this user may; it must be a directory of yours that no one else can use (mode 0700; on Windows, an access list that lets only you in)\n"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&open).unwrap().count(),
        0,
        "nothing written"
    );
}

/// A process that used a copy directory and ended without removing its
/// directory there (killed, or on Windows holding a build the system kept
/// loaded until it ended) has it removed by the next process that uses the
/// directory, on every platform: its liveness is asked of the system
/// (`kill(pid, 0)`, or on Windows `OpenProcess`).
#[test]
fn a_copy_directory_left_by_an_ended_process_is_swept() {
    let dir = tempdir();
    let copies = dir.path().join("copies");
    hotslot_tests::create_private_dir(&copies);
    // A process that has ended: its ID names the directory it left.
    let mut ended = Command::new(built().hotslot())
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = ended.id();
    assert!(ended.wait().unwrap().success());
    drop(ended);
    let left = copies.join(format!("pid-{pid}"));
    hotslot_tests::create_private_dir(&left);
    std::fs::write(
        left.join("hotslot-left.so"),
        "left by the process that ended",
    )
    .unwrap();

    let table = hotslot_tests::table_with(hotslot::TableOptions {
        copies: hotslot::plugin::CopyPlace::Dir(copies.clone()),
        ..Default::default()
    });
    let _vm = table
        .vm(hotslot_tests::program(
            ".import 0 math_add (i32, i32) -> i32\nHALT",
        ))
        .unwrap();
    let lib = dir.path().join(library_name("math_ops"));
    std::fs::copy(built().c("math_ops"), &lib).unwrap();
    table.bind(0, &lib, None).unwrap();
    let mut entries: Vec<String> = std::fs::read_dir(&copies)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, [format!("pid-{}", std::process::id())]);
}
