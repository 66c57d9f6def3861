//! Plugin interfaces (ABI 1.1): the application's own types passed by
//! reference and slice, bytes both ways, host callback tables, and every
//! refusal: a type laid out otherwise in a C or a Rust build (a field
//! added, reordered, resized, retyped), a table missing, too old or laid
//! out otherwise. Plus what ABI 1.0 plugins and hosts do.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hotslot::typed::SliceMut;
use hotslot::{FunctionOptions, ReloadOptions, SlotError, SlotTable, TypedFunc};
use hotslot_plugin_api::HsStr;
use hotslot_tests::{built, install, library_name, load_error, table, tempdir};
use particles_interface::{Host, Particle};

/// The host's callback table; lines logged by plugins are collected, per
/// test by a prefix each test's plugins use.
static HOST: Host = Host { log };
static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn log(message: HsStr) {
    // SAFETY: plugins pass a view valid for the call.
    let text = unsafe { message.to_str() }.unwrap_or("<not UTF-8>");
    LOGGED.lock().unwrap().push(text.to_owned());
}

fn logged(prefix: &str) -> Vec<String> {
    LOGGED
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with(prefix))
        .cloned()
        .collect()
}

type Step = TypedFunc<(SliceMut<Particle>, f64), ()>;

fn step_in(table: &SlotTable, lib: &Path) -> Result<Step, SlotError> {
    table.function_with(
        "step",
        &FunctionOptions {
            library: Some(lib.to_owned()),
            ..FunctionOptions::default()
        },
    )
}

/// A table that provides the host's callbacks, with `lib` bound.
fn serving(lib: &Path) -> SlotTable {
    let table = table();
    table.provide_host_table(&HOST).unwrap();
    table.bind_library(lib, &ReloadOptions::default()).unwrap();
    table
}

fn particles() -> Vec<Particle> {
    (0..4)
        .map(|i| Particle {
            pos: [i as f32, 9.5],
            vel: [1.0 + i as f32, 2.0],
        })
        .collect()
}

/// A private copy of a built library, to reload over.
fn copy_of(dir: &Path, lib: &Path, name: &str) -> PathBuf {
    let to = dir.join(library_name(name));
    std::fs::copy(lib, &to).unwrap();
    to
}

#[test]
fn rust_and_c_plugins_move_the_hosts_particles_in_place_and_call_back() {
    let b = built();
    let rust = b.rust("particles-rust");
    let c = b.c("particles_c");
    let table = serving(&rust);
    table.bind_library(&c, &ReloadOptions::default()).unwrap();
    let (rust_step, c_step) = (
        step_in(&table, &rust).unwrap(),
        step_in(&table, &c).unwrap(),
    );

    let (mut a, mut b) = (particles(), particles());
    // 0.5 s: the last particles cross the top wall (y 9.5 + 2 * 0.5 > 10).
    rust_step.call((&mut a[..], 0.5)).unwrap();
    c_step.call((&mut b[..], 0.5)).unwrap();
    assert_eq!(a, b, "the same physics in both languages");
    assert_eq!(a[0].pos, [0.5, 10.0]);
    assert_eq!(a[0].vel, [1.0, -2.0], "bounced off the top");
    assert_eq!(a[3].pos, [5.0, 10.0]);
    assert_eq!(logged("rust:"), ["rust: 4 bounced"]);
    assert_eq!(logged("c:"), ["c: 4 bounced"]);

    // An empty slice is a slice too.
    rust_step.call((&mut [][..], 0.5)).unwrap();
    c_step.call((&mut [][..], 0.5)).unwrap();
}

#[test]
fn bytes_go_in_borrowed_and_come_back_copied() {
    let b = built();
    let table = serving(&b.c("particles_variant_none"));
    let reverse = table.function::<Vec<u8>, Vec<u8>>("reverse").unwrap();
    assert_eq!(reverse.call(&[1_u8, 2, 3][..]), Ok(vec![3, 2, 1]));
    assert_eq!(reverse.call(Vec::new()), Ok(Vec::new()));
    assert_eq!(
        reverse.call(vec![0_u8; 300]).unwrap_err().to_string(),
        "`reverse` returned an error: at most 256 bytes"
    );
    let e = table.function::<String, Vec<u8>>("reverse").unwrap_err();
    assert_eq!(
        e.to_string(),
        "typed handle 1: signature mismatch for `reverse`: expected (str) -> bytes, found (bytes) -> bytes"
    );
}

/// Each edit of `Particle` in a C build, and the field the refusal names.
const C_EDITS: &[(&str, &str)] = &[
    (
        "added",
        "`Particle` has a field `mass` at offset 16 in the plugin, which the host's does not have",
    ),
    (
        "reordered",
        "field 0 of `Particle` is `pos` in the host, `vel` in the plugin",
    ),
    (
        "resized",
        "field `pos` of `Particle` is [f32; 2] in the host, [f64; 2] in the plugin",
    ),
    (
        "retyped",
        "field `pos` of `Particle` is [f32; 2] in the host, [i32; 2] in the plugin",
    ),
];

/// A handle on `step` of `lib`, a build whose `Particle` has `edit`, is
/// refused with exactly the words naming the field (`problem`).
fn assert_refused_naming(lib: &Path, edit: &str, problem: &str) {
    let table = serving(lib);
    let e = step_in(&table, lib).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "typed handle 0: `step` in `{}` takes `Particle`, which the plugin lays out differently: {problem}",
            lib.display()
        ),
        "{edit}"
    );
}

#[test]
fn a_c_build_that_lays_out_a_type_otherwise_is_refused_naming_the_field_and_the_old_build_serves() {
    let b = built();
    let dir = tempdir();
    let lib = copy_of(dir.path(), &b.c("particles_variant_none"), "variant");
    let table = serving(&lib);
    let step = step_in(&table, &lib).unwrap();
    for (edit, problem) in C_EDITS {
        // A handle made against the edited build ...
        let fresh = b.c(&format!("particles_variant_{edit}"));
        assert_refused_naming(&fresh, edit, problem);
        // ... and a reload to it, refused with the same words; the build
        // that was serving goes on.
        install(&fresh, &lib);
        let e = table.reload(&lib).unwrap_err();
        assert!(matches!(e, SlotError::Layout { .. }), "{edit}: {e}");
        assert!(e.to_string().ends_with(problem), "{edit}: {e}");
        let mut ps = particles();
        step.call((&mut ps[..], 0.0)).unwrap();
        assert_eq!(ps[1].vel, [-2.0, -2.0], "{edit}: the old build serves");
    }
}

/// Builds `tests/mismatch`'s plugin against its interface with `feature`
/// (none: as the interface is) and returns a copy of the build.
fn edited_rust_build(dir: &Path, feature: Option<&str>) -> PathBuf {
    let b = built();
    let mut cmd =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(b.root.join("tests/mismatch"))
        .env("CARGO_TARGET_DIR", b.target.join("outside"))
        .args(["build", "--locked", "--quiet", "-p", "particles-edited"]);
    if let Some(f) = feature {
        cmd.args(["--features", &format!("particles-interface/{f}")]);
    }
    assert!(cmd.status().unwrap().success(), "building {feature:?}");
    copy_of(
        dir,
        &b.target
            .join("outside/debug")
            .join(library_name("particles_edited")),
        &format!("edited_{}", feature.unwrap_or("none")),
    )
}

#[test]
#[cfg_attr(
    windows,
    ignore = "starts cargo: under wine, a Windows program cannot wait on a Linux one (runs on Linux)"
)]
fn a_rust_build_against_an_edited_interface_is_refused_naming_the_field() {
    let dir = tempdir();
    // The control: the same source, the interface unchanged, is accepted.
    let agreeing = edited_rust_build(dir.path(), None);
    let table = serving(&agreeing);
    let step = step_in(&table, &agreeing).unwrap();
    let mut ps = particles();
    step.call((&mut ps[..], 0.0)).unwrap();
    assert_eq!(ps[0].vel, [-1.0, -2.0]);
    for (edit, problem) in C_EDITS {
        let lib = edited_rust_build(dir.path(), Some(edit));
        assert_refused_naming(&lib, edit, problem);
    }
}

#[test]
fn a_host_table_missing_too_old_or_laid_out_otherwise_is_refused_and_a_newer_one_serves() {
    let b = built();
    // Missing: no table provided.
    let lib = b.c("particles_variant_none");
    let e = table()
        .bind_library(&lib, &ReloadOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "`{}` needs the host callback table `particles.Host` 1.0, which this table does not provide (see `SlotTable::provide_host_table`)",
            lib.display()
        )
    );
    // Too old: the plugin was built against 1.1.
    let lib = b.c("particles_variant_host_1_1");
    let table = table();
    table.provide_host_table(&HOST).unwrap();
    let e = table
        .bind_library(&lib, &ReloadOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "`{}` needs the host callback table `particles.Host` 1.1; the host provides 1.0 (the same major, and a minor at least the plugin's)",
            lib.display()
        )
    );
    // Laid out otherwise.
    let lib = b.c("particles_variant_host_edited");
    let e = table
        .bind_library(&lib, &ReloadOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "`{}` lays out the host callback table `particles.Host` differently: field 0 of `particles.Host` is `log` in the host, `flags` in the plugin",
            lib.display()
        )
    );
    // Provided twice.
    assert_eq!(
        table.provide_host_table(&HOST).unwrap_err().to_string(),
        "the host callback table `particles.Host` is provided already"
    );
    // A host of a later minor serves a plugin of 1.0: its first fields are
    // the 1.0 table.
    let table = hotslot_tests::table();
    table.provide_host_table(&HOST_1_1).unwrap();
    let lib = b.c("particles_variant_none");
    table.bind_library(&lib, &ReloadOptions::default()).unwrap();
    let step = step_in(&table, &lib).unwrap();
    let mut ps = particles();
    step.call((&mut ps[..], 0.0)).unwrap();
    assert!(logged("variant:").contains(&"variant: 4 reversed".to_owned()));
    // A plugin that asks for no table needs none.
    let lib = b.c("particles_variant_no_host");
    hotslot_tests::table()
        .bind_library(&lib, &ReloadOptions::default())
        .unwrap();
}

/// `particles.Host` 1.1: one function more, at the end.
#[repr(C)]
#[derive(abi_stable::StableAbi)]
struct HostV11 {
    log: unsafe extern "C" fn(message: HsStr),
    flush: unsafe extern "C" fn(),
}
hotslot_plugin_api::hs_host_table!(HostV11, "particles.Host", 1, 1);

unsafe extern "C" fn flush() {}

static HOST_1_1: HostV11 = HostV11 { log, flush };

#[test]
fn plugins_of_abi_1_0_load_and_cannot_use_the_types_of_1_1() {
    let b = built();
    let table = table();
    table
        .bind_library(b.c("abi_1_0"), &ReloadOptions::default())
        .unwrap();
    let add = table.function::<(i32, i32), i32>("add").unwrap();
    assert_eq!(add.call((2, 3)), Ok(5));
    let e = load_error(
        table
            .bind_library(b.c("abi_1_0_tag_too_new"), &ReloadOptions::default())
            .unwrap_err(),
    );
    assert_eq!(
        e.to_string(),
        "`add` uses type tag 6 (bytes) in parameter 1, which ABI 1.1 added; the plugin says it was built for ABI 1.0"
    );
}

/// A host of ABI 1.0 (the `hotslot` binary of the last commit before 1.1,
/// built from this repository's history) with plugins of 1.1: one that
/// uses only the types of 1.0 loads and runs; one whose functions take a
/// type 1.1 added is refused, naming the function and the tag; one that
/// needs a host table loads, and each call is refused by the plugin itself,
/// saying which table and why.
#[test]
#[cfg_attr(
    windows,
    ignore = "starts cargo: under wine, a Windows program cannot wait on a Linux one (runs on Linux)"
)]
fn a_host_of_abi_1_0_runs_plugins_of_1_1_that_use_its_types_and_refuses_the_rest() {
    let b = built();
    let old = b.abi_1_0_hotslot();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(&old)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let math_ops = b.c("math_ops");
    let (code, out, err) = run(&["inspect".as_ref(), math_ops.as_os_str()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains(&format!(
            "abi       1.{} (C)",
            hotslot_plugin_api::HS_ABI_MINOR
        )),
        "{out}"
    );
    assert!(out.contains("math_add"), "{out}");

    let particles = b.c("particles_c");
    let (code, _, err) = run(&["inspect".as_ref(), particles.as_os_str()]);
    assert_eq!(code, Some(3), "{err}");
    assert_eq!(
        err.trim_end(),
        "hotslot: `step` has unknown type tag 10 in parameter 0: expected 0 void, 1 i32, 2 i64, 3 f64, 4 bool or 5 str"
    );

    let dir = tempdir();
    let program = dir.path().join("count.hsasm");
    std::fs::write(
        &program,
        ".import 0 count (i32) -> i32\n    PUSH 41\n    CALL_NATIVE 0\n    PRINT\n    HALT\n",
    )
    .unwrap();
    let mut bind = std::ffi::OsString::from("0=");
    bind.push(b.c("particles_variant_only_1_0_types"));
    let (code, out, err) = run(&[
        "run".as_ref(),
        program.as_os_str(),
        "--bind".as_ref(),
        &bind,
    ]);
    assert_eq!(code, Some(4), "{out}");
    assert_eq!(out, "", "the call returned nothing");
    assert_eq!(
        err.trim_end(),
        "hotslot: pc 1 (`CALL_NATIVE 0`): `count` (slot 0) returned an error: this plugin needs the host callback table `particles.Host` 1.0, which the host did not hand over (a host older than ABI 1.1 cannot)"
    );

    // The same plugin, with a host of 1.1 that hands the table over.
    let table = table();
    table.provide_host_table(&HOST).unwrap();
    table
        .bind_library(
            b.c("particles_variant_only_1_0_types"),
            &ReloadOptions::default(),
        )
        .unwrap();
    let count = table.function::<i32, i32>("count").unwrap();
    assert_eq!(count.call(41), Ok(42));
    assert_eq!(logged("variant: counted"), ["variant: counted"]);
}

/// What a host that never hands over a callback table (one of ABI 1.0,
/// which knows nothing of them) sees when it calls a plugin that needs
/// one: an error from the plugin, never a call through a null table.
#[test]
fn a_plugin_whose_host_table_never_arrived_refuses_each_call() {
    use hotslot_plugin_api::{HsBytes, HsCallCtx, HsStatus, HsValue};
    static ERRORS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    unsafe extern "C" fn return_str(_: *mut HsCallCtx, _: HsStr) {}
    unsafe extern "C" fn set_error(_: *mut HsCallCtx, message: HsStr) {
        // SAFETY: the plugin passes a view valid for the call.
        let text = unsafe { message.to_str() }.unwrap_or("?").to_owned();
        ERRORS.lock().unwrap().push(text);
    }
    unsafe extern "C" fn return_bytes(_: *mut HsCallCtx, _: HsBytes) {}

    let b = built();
    for lib in [b.rust("particles-rust"), b.c("particles_c")] {
        let library = hotslot_tests::open(&lib, &Default::default()).unwrap();
        let entry = library.entry("step").unwrap().as_raw();
        let mut ctx = HsCallCtx {
            struct_size: size_of::<HsCallCtx>() as u32,
            return_str,
            set_error,
            return_bytes,
        };
        let mut ps = particles();
        let args = [
            HsValue {
                str: HsStr {
                    ptr: ps.as_mut_ptr().cast(),
                    len: ps.len(),
                },
            },
            HsValue { f64: 0.5 },
        ];
        let mut out = HsValue::ZERO;
        // SAFETY: `step` takes a slice of particles and an f64, as passed;
        // the context's callbacks are valid for the call.
        let status = unsafe { entry(&mut ctx, args.as_ptr(), 2, &mut out) };
        assert_eq!(status, HsStatus::ERROR, "{}", lib.display());
        assert_eq!(ps, particles(), "nothing moved");
    }
    assert_eq!(
        *ERRORS.lock().unwrap(),
        ["this plugin needs the host callback table `particles.Host` 1.0, which the host did not hand over (a host older than ABI 1.1 cannot)";
            2]
    );
}

#[test]
fn hotslot_header_writes_the_headers_a_c_plugin_needs() {
    let dir = tempdir();
    let (status, out, err) = hotslot_tests::hotslot(&[
        "header",
        "--out",
        dir.path().join("include").to_str().unwrap(),
    ]);
    assert!(status.success(), "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    // A plugin built with those headers alone.
    let src = dir.path().join("p.c");
    std::fs::write(
        &src,
        "#include \"hotslot_shim.h\"\n\
         static int32_t twice(int32_t x) { return 2 * x; }\n\
         HS_FUNCTION(i32, twice, (i32), 1, 0, 0)\n\
         HS_PLUGIN(\"p\", 1, 0, 0, twice)\n",
    )
    .unwrap();
    let lib = dir.path().join(library_name("p"));
    built()
        .cc
        .build(&src, &lib, &[&dir.path().join("include")], &[])
        .unwrap();
    let table = table();
    table.bind_library(&lib, &ReloadOptions::default()).unwrap();
    let twice = table.function::<i32, i32>("twice").unwrap();
    assert_eq!(twice.call(21), Ok(42));
}

/// The particles example as a user runs it (`cargo run -p particles`),
/// with its C plugin's source in a copy the test edits: the edit is
/// rebuilt and reloaded while the frames go on; an edit that lays out
/// `Particle` otherwise is refused, naming the field, and the build that
/// was serving goes on.
#[test]
#[cfg_attr(
    windows,
    ignore = "the example starts cargo: under wine, a Windows program cannot wait on a Linux one (runs on Linux)"
)]
fn the_particles_example_reloads_an_edited_c_plugin_and_refuses_one_that_lays_out_particle_otherwise()
 {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let b = built();
    let dir = tempdir();
    let source = dir.path().join("particles.c");
    let original =
        std::fs::read_to_string(b.root.join("examples/particles/plugin-c/particles.c")).unwrap();
    std::fs::write(&source, &original).unwrap();
    let mut child = Command::new(b.debug_dir.join("particles"))
        .args(["--fps", "50", "--c-source"])
        .arg(&source)
        .env("CARGO_TARGET_DIR", &b.target)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen: Vec<String> = Vec::new();
    let until = |done: &dyn Fn(&[String]) -> bool, seen: &mut Vec<String>| {
        while !done(seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("the example stalled: {seen:#?}"),
            }
        }
    };
    let frames = |seen: &[String]| seen.iter().filter(|l| l.starts_with("frame")).count();
    // Saved as editors save: written aside, renamed over the file.
    let save = |text: String| {
        let aside = dir.path().join("particles.c.new");
        std::fs::write(&aside, text).unwrap();
        std::fs::rename(&aside, &source).unwrap();
    };

    until(&|s| frames(s) >= 5, &mut seen);
    // An edit of the physics, with the version raised: rebuilt, reloaded.
    save(
        original
            .replace("#define BOUNCE 1.0f", "#define BOUNCE 0.5f")
            .replace(
                "HS_PLUGIN(\"particles_c\", 1, 0, 0",
                "HS_PLUGIN(\"particles_c\", 1, 1, 0",
            ),
    );
    until(
        &|s| {
            s.iter()
                .any(|l| l.starts_with("watch reload") && l.contains("particles_c 1.1.0"))
        },
        &mut seen,
    );
    // `Particle` declared with its fields swapped: refused, naming them.
    let before = frames(&seen);
    save(original.replace(
        "HS_STRUCT(Particle, HS_ARRAY_FIELD(Particle, pos), HS_ARRAY_FIELD(Particle, vel))",
        "HS_STRUCT(Particle, HS_ARRAY_FIELD(Particle, vel), HS_ARRAY_FIELD(Particle, pos))",
    ));
    until(&|s| s.iter().any(|l| l.contains("refused")), &mut seen);
    until(&|s| frames(s) >= before + 20, &mut seen);
    child.kill().unwrap();
    child.wait().unwrap();
    // Killed, the example left its build directory behind.
    let _ = std::fs::remove_dir_all(b.target.join(format!("particles/run-{}", child.id())));

    let reloads: Vec<&String> = seen
        .iter()
        .filter(|l| l.starts_with("watch reload") && !l.contains("refused"))
        .collect();
    assert_eq!(reloads.len(), 1, "one edit, one reload: {reloads:#?}");
    let refused: Vec<&String> = seen.iter().filter(|l| l.contains("refused")).collect();
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert!(
        refused[0].contains("field 0 of `Particle` is `pos` in the host, `vel` in the plugin"),
        "{}",
        refused[0]
    );
    let errors: Vec<&String> = seen
        .iter()
        .filter(|l| {
            !l.starts_with("frame") && !l.starts_with("  [") && !l.starts_with("watch reload")
        })
        .collect();
    assert!(errors.is_empty(), "no call failed: {errors:#?}");
}

/// The tests' own application type with a nested struct, an array of them,
/// as a C plugin (`tests/fixtures/c/nested.c`) must lay them out.
mod nested {
    use abi_stable::StableAbi;

    #[repr(C)]
    #[derive(StableAbi, Clone, Copy)]
    pub struct Inner {
        pub a: i32,
        pub b: f32,
    }

    #[repr(C)]
    #[derive(StableAbi, Clone, Copy)]
    pub struct Body {
        pub id: i32,
        pub inner: Inner,
        pub pair: [Inner; 2],
    }

    hotslot_plugin_api::hs_struct!(Body);
}

#[test]
fn a_c_build_whose_nested_struct_differs_field_by_field_is_refused_naming_the_nested_field() {
    use hotslot::typed::Ref;
    use nested::{Body, Inner};
    let b = built();
    let dir = tempdir();
    let lib = copy_of(dir.path(), &b.c("nested_none"), "nested");
    let table = table();
    table.bind_library(&lib, &ReloadOptions::default()).unwrap();
    let weigh = table.function::<Ref<Body>, i64>("weigh").unwrap();
    let body = Body {
        id: 7,
        inner: Inner { a: 15, b: 0.5 },
        pair: [Inner { a: 1, b: 1.0 }, Inner { a: 3, b: 2.0 }],
    };
    assert_eq!(weigh.call(&body), Ok(7153), "read as the host wrote it");
    for (edit, problem) in [
        (
            "swapped",
            "field 0 of `Body.inner` is `a` in the host, `b` in the plugin",
        ),
        (
            "retyped",
            "field `b` of `Body.inner` is f32 in the host, i32 in the plugin",
        ),
        (
            "size_only",
            "field `inner` of `Body` is the struct `Inner` in the host, which the plugin \
             describes by its size only: declare it with HS_STRUCT_FIELD(Body, inner, Inner) \
             (or HS_STRUCT_ARRAY_FIELD for an array), built with ABI 1.2's hotslot_shim.h",
        ),
    ] {
        install(&b.c(&format!("nested_{edit}")), &lib);
        let e = table.reload(&lib).unwrap_err();
        assert!(matches!(e, SlotError::Layout { .. }), "{edit}: {e}");
        assert!(e.to_string().ends_with(problem), "{edit}: {e}");
        assert_eq!(weigh.call(&body), Ok(7153), "{edit}: the old build serves");
    }
    // A nested struct declared of another type does not compile.
    let e =
        b.cc.build(
            &b.root.join("tests/fixtures/c/nested.c"),
            &dir.path().join(library_name("wrong")),
            &[&b.root.join("plugin-api/include")],
            &["WRONG_TYPE"],
        )
        .unwrap_err();
    assert!(e.to_string().contains("_Generic"), "{e}");
}
