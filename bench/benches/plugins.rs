//! What the scenarios measure: the plugins built for them, VMs calling them, a hand-rolled slot, copies and cycles of a library.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hotslot::vm::{NativeCalls, Natives, Program, Vm};
use hotslot::{LinkError, Signature, SlotTable, ValType};
use hotslot_cbuild::CCompiler;
use hotslot_plugin_api::{HsCallCtx, HsStatus, HsValue};

pub(crate) fn library_name(name: &str) -> String {
    format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

pub(crate) struct Plugins {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) dir: PathBuf,
    pub(crate) root: PathBuf,
    /// The quiet C `math_add`, built with the system's compiler.
    pub(crate) c: PathBuf,
    /// The same, multiplying: the second build for swaps.
    pub(crate) c_mul: PathBuf,
    /// The quiet Rust `math_add`, a release build.
    pub(crate) rust: PathBuf,
    /// The same without debug information, when `strip` is installed.
    pub(crate) rust_stripped: Option<PathBuf>,
    /// A Rust plugin whose function registers a thread-local destructor,
    /// which keeps it mapped after release while the calling thread lives.
    pub(crate) rust_tls: PathBuf,
    /// The C plugin that crashes on request (`tests/fixtures/c/fragile.c`).
    pub(crate) fragile: PathBuf,
    /// The worker program of isolated bindings, a release build.
    pub(crate) worker: PathBuf,
}

impl Plugins {
    pub(crate) fn build() -> Plugins {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_owned();
        let dir = tempfile::Builder::new()
            .prefix("hotslot-bench-")
            .tempdir()
            .unwrap();
        let cc = CCompiler::find().expect("a C compiler");
        let build_c = |name: &str, defines: &[&str]| -> PathBuf {
            let out = dir.path().join(library_name(name));
            let include = [root.join("plugin-api/include")];
            cc.build(
                &root.join("bench/c/quiet_math.c"),
                &out,
                &[&include[0]],
                defines,
            )
            .unwrap();
            out
        };
        let c = build_c("quiet_math_c", &[]);
        let fragile = dir.path().join(library_name("fragile"));
        cc.build(
            &root.join("tests/fixtures/c/fragile.c"),
            &fragile,
            &[&root.join("plugin-api/include")],
            &[],
        )
        .unwrap();
        let c_mul = build_c("quiet_math_c_mul", &["OP(a,b)=((a)*(b))"]);
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        let release_build = |what: &[&str]| {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = std::process::Command::new(cargo)
                .current_dir(&root)
                .args(["build", "--quiet", "--release", "--target-dir"])
                .arg(&target)
                .args(what)
                .status()
                .unwrap();
            assert!(status.success(), "cargo build {what:?}");
        };
        release_build(&[
            "-p",
            "hotslot-bench-quiet-math",
            "-p",
            "hotslot-fixture-tls-pin",
        ]);
        // The worker of isolated bindings: a binary of the `hotslot` package,
        // which a benchmark of another package does not get built.
        release_build(&["-p", "hotslot", "--bin", "hotslot-worker"]);
        let worker = target
            .join("release")
            .join(format!("hotslot-worker{}", std::env::consts::EXE_SUFFIX));
        let rust = dir.path().join(library_name("quiet_math_rust"));
        std::fs::copy(
            target
                .join("release")
                .join(library_name("hotslot_bench_quiet_math")),
            &rust,
        )
        .unwrap();
        let rust_tls = dir.path().join(library_name("tls_pin"));
        std::fs::copy(
            target
                .join("release")
                .join(library_name("hotslot_fixture_tls_pin")),
            &rust_tls,
        )
        .unwrap();
        let stripped = dir.path().join(library_name("quiet_math_rust_stripped"));
        let rust_stripped = std::process::Command::new("strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(&stripped)
            .arg(&rust)
            .status()
            .is_ok_and(|s| s.success())
            .then_some(stripped);
        Plugins {
            dir: dir.path().to_owned(),
            _dir: dir,
            root,
            c,
            c_mul,
            rust,
            rust_stripped,
            rust_tls,
            fragile,
            worker,
        }
    }
}

/// The raw `int math_add(int, int)` of a loaded C build.
pub(crate) fn raw_math_add(lib: &libloading::Library) -> unsafe extern "C" fn(i32, i32) -> i32 {
    // SAFETY: the quiet C plugin exports `int math_add(int, int)`.
    unsafe {
        *lib.get::<unsafe extern "C" fn(i32, i32) -> i32>("math_add")
            .unwrap()
    }
}

/// A VM over `program` whose slot 0 is bound in `table` to `lib`.
pub(crate) fn slot_vm(
    table: &SlotTable,
    program: &Arc<hotslot::vm::VerifiedProgram>,
    lib: &Path,
) -> Vm<hotslot::SlotReader> {
    let vm = table.vm_with(Arc::clone(program), small()).unwrap();
    table.bind(0, lib, None).unwrap();
    vm
}

pub(crate) fn small() -> hotslot::vm::VmOptions {
    hotslot::vm::VmOptions {
        stack_capacity: 1024,
        ..Default::default()
    }
}

pub(crate) fn run_vm<N: Natives>(vm: &mut Vm<N>) {
    vm.run().unwrap();
}

/// The naive peer: a hot-lib-reloader-style slot that takes a lock and looks
/// the symbol up on every call.
pub(crate) struct NaiveSlot {
    pub(crate) lib: Mutex<libloading::Library>,
}

// SAFETY: `call` calls `math_add(int, int)` with the two i32 arguments of
// the program's only import, `(i32, i32) -> i32`, checked by `link`.
unsafe impl Natives for NaiveSlot {
    fn link(&self, program: &Program) -> Result<(), LinkError> {
        let sig = Signature::new([ValType::I32, ValType::I32], Some(ValType::I32));
        match program.imports.as_slice() {
            [i] if i.slot == 0 && i.signature == sig => Ok(()),
            _ => Err(LinkError::Unserved { slot: 0 }),
        }
    }

    type Calls<'a> = &'a NaiveSlot;

    fn enter(&self) -> &NaiveSlot {
        self
    }
}

// SAFETY: as for `Natives for NaiveSlot`.
unsafe impl NativeCalls for &NaiveSlot {
    unsafe fn call(
        &mut self,
        _: u32,
        _: *mut HsCallCtx,
        args: *const HsValue,
        _: usize,
        ret: *mut HsValue,
    ) -> HsStatus {
        let lib = self.lib.lock().unwrap();
        // SAFETY: as in `raw_math_add`; the symbol is used under the lock.
        let f = unsafe { lib.get::<unsafe extern "C" fn(i32, i32) -> i32>("math_add") }.unwrap();
        // SAFETY: `link` checked the import: two i32 arguments, an i32 result.
        unsafe { (*ret).i32 = f((*args).i32, (*args.add(1)).i32) };
        HsStatus::OK
    }

    fn failed_function(&self, _: u32) -> Option<String> {
        Some("math_add".into())
    }
}

/// A private copy of `lib`, as the loader makes it: the file copied into a
/// new sealed memory file.
pub(crate) fn memory_copy(lib: &Path) -> hotslot::testing::PrivateCopy {
    let mut file = std::fs::File::open(lib).unwrap();
    hotslot::testing::PrivateCopy::create(&mut file, "bench", &hotslot::plugin::CopyPlace::Memory)
        .unwrap()
}

/// The private copy alone: made, and removed.
pub(crate) fn private_copy(lib: &Path) {
    drop(memory_copy(lib));
}

/// What a reloader loading from a private copy must do at the least: the
/// copy, and the bare cycle on the copy (not on the file, whose pages the
/// page cache holds ready).
pub(crate) fn copy_and_cycle(lib: &Path) {
    bare_cycle(&memory_copy(lib).load_path());
}

/// What any reloader must do at the least: open the file, look up the
/// descriptor, close it.
pub(crate) fn bare_cycle(lib: &Path) {
    let l = unsafe_open(lib);
    // SAFETY: looked up only, never called.
    let s = unsafe { l.get::<unsafe extern "C" fn()>("hotslot_plugin") }.unwrap();
    std::hint::black_box(*s);
    l.close().unwrap();
}

pub(crate) fn unsafe_open(path: &Path) -> libloading::Library {
    // SAFETY: the quiet C plugin has no initializers beyond the C runtime's.
    unsafe { libloading::Library::new(path) }.unwrap()
}

/// A C plugin of `functions` functions `f0`, `f1`, ... each `(i32) -> i32`,
/// built into `dir`.
pub(crate) fn many_functions(p: &Plugins, functions: usize) -> PathBuf {
    use std::fmt::Write as _;
    let mut src = String::from("#include \"hotslot_shim.h\"\n");
    for i in 0..functions {
        writeln!(
            src,
            "static int32_t f{i}(int32_t x) {{ return x + {i}; }}\nHS_FUNCTION(i32, f{i}, (i32), 1, 0, 0)"
        )
        .unwrap();
    }
    src.push_str("static const HsFunctionDescriptor *const functions[] = {\n");
    for i in 0..functions {
        writeln!(src, "    HS_FN(f{i}),").unwrap();
    }
    src.push_str("};\nHS_PLUGIN_TABLE(\"many\", 1, 0, 0, functions)\n");
    let source = p.dir.join(format!("many_{functions}.c"));
    std::fs::write(&source, src).unwrap();
    let out = p.dir.join(library_name(&format!("many_{functions}")));
    let include = p.root.join("plugin-api/include");
    CCompiler::find()
        .expect("a C compiler")
        .build(&source, &out, &[&include], &[])
        .unwrap();
    out
}

/// A program importing `f0` .. `f{slots - 1}`, every one bound.
pub(crate) fn importing(slots: usize) -> String {
    let mut src: String = (0..slots)
        .map(|i| format!(".import {i} f{i} (i32) -> i32\n"))
        .collect();
    src.push_str("    HALT\n");
    src
}
