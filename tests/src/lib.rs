//! Support for hotslot's end-to-end tests: every plugin, fixture and the
//! `hotslot` binary, built once per test run, never assumed to exist.
//!
//! Rust crates are built with the same `cargo` that runs the tests, into
//! the same target directory; C plugins with the system's C compiler into
//! `target/hotslot-tests/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use hotslot_cbuild::CCompiler;

/// The loader's error inside a refused bind or reload; any other refusal
/// fails the test, naming it.
pub fn load_error(e: hotslot::SlotError) -> hotslot::LoadError {
    match e {
        hotslot::SlotError::Load { source, .. } => source,
        other => panic!("expected a load error, found {other}"),
    }
}

/// The deliberately broken C fixtures: `-DBROKEN_<NAME>` of
/// `fixtures/c/broken.c`, one per rejection path.
pub const BROKEN: &[&str] = &[
    "NO_DESCRIPTOR",
    "NO_GET_VERSION",
    "NULL_DESCRIPTOR",
    "BAD_MAGIC",
    "ABI_MAJOR",
    "TOO_SMALL",
    "NAME_NOT_UTF8",
    "UNKNOWN_TYPE",
    "VOID_PARAM",
    "TOO_MANY_PARAMS",
    "NULL_ENTRY",
    "NULL_FUNCTION",
    "DUPLICATE_NAME",
    "VERSION_MISMATCH",
    "UNSTABLE",
];

/// The Rust crates the tests load, by package name.
const RUST_PACKAGES: &[&str] = &[
    "hotslot",
    "hotslot-math-ops",
    "hotslot-string-ops",
    "hotslot-counter",
    "hotslot-fixture-layout-mismatch",
    "hotslot-fixture-panicky",
    "hotslot-fixture-tls-pin",
    "hotslot-fixture-versioned",
    "hotslot-fixture-versioned-v2",
    "hotslot-fixture-counter-state-v2",
    "hotslot-motion",
    "hotslot-fixture-motion-edited",
    "particles-rust",
    "particles",
];

/// Builds of `tests/fixtures/c/particles_variants.c`: name and defines.
pub const PARTICLE_VARIANTS: &[(&str, &[&str])] = &[
    ("none", &[]),
    ("added", &["ADDED"]),
    ("reordered", &["REORDERED"]),
    ("resized", &["RESIZED"]),
    ("retyped", &["RETYPED"]),
    ("no_host", &["NO_HOST"]),
    ("host_1_1", &["HOST_MINOR=1"]),
    ("host_edited", &["HOST_EDITED"]),
    ("only_1_0_types", &["ONLY_1_0_TYPES"]),
];

/// The builds of `tests/fixtures/c/nested.c`: a nested struct laid out as
/// the host's, and edited.
pub const NESTED_VARIANTS: &[(&str, &str)] = &[
    ("none", "NONE"),
    ("swapped", "SWAPPED"),
    ("retyped", "RETYPED"),
    ("size_only", "SIZE_ONLY"),
];

/// The last commit whose host speaks ABI 1.0: the compatibility tests build
/// its `hotslot` binary to show what a host of 1.0 does with plugins of 1.1.
pub const ABI_1_0_COMMIT: &str = "86f5f33238bbc072232c45c854bc97e4b0fa520c";

/// Everything built for the run.
pub struct Built {
    /// The workspace root.
    pub root: PathBuf,
    /// Cargo's target directory.
    pub target: PathBuf,
    /// Where cargo puts debug builds.
    pub debug_dir: PathBuf,
    /// Where C builds go.
    pub c_dir: PathBuf,
    /// The C compiler.
    pub cc: CCompiler,
}

impl Built {
    /// The `hotslot` binary.
    pub fn hotslot(&self) -> PathBuf {
        self.debug_dir
            .join(format!("hotslot{}", std::env::consts::EXE_SUFFIX))
    }

    /// An example program of the `hotslot` package, by name.
    pub fn example(&self, name: &str) -> PathBuf {
        self.debug_dir
            .join("examples")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    }

    /// A Rust plugin by crate name with `-` (e.g. `hotslot-math-ops`).
    pub fn rust(&self, package: &str) -> PathBuf {
        self.debug_dir
            .join(library_name(&package.replace('-', "_")))
    }

    /// A C plugin built by this run, by name.
    pub fn c(&self, name: &str) -> PathBuf {
        self.c_dir.join(library_name(name))
    }

    /// A broken fixture by its `BROKEN` name.
    pub fn broken(&self, name: &str) -> PathBuf {
        self.c(&format!("broken_{}", name.to_ascii_lowercase()))
    }

    /// The `hotslot` binary of a host of ABI 1.0 (`ABI_1_0_COMMIT`), taken
    /// from this repository's history and built in
    /// `target/outside/abi-1.0-host` the first time it is asked for.
    pub fn abi_1_0_hotslot(&self) -> PathBuf {
        static BUILT: OnceLock<PathBuf> = OnceLock::new();
        BUILT
            .get_or_init(|| {
                let dir = self.target.join("outside/abi-1.0-host");
                let src = dir.join("src");
                if !src.join("Cargo.toml").exists() {
                    // Extracted aside, then renamed: a run cut short leaves
                    // no half tree behind.
                    let aside = dir.join(format!("src-{}", std::process::id()));
                    let _ = std::fs::remove_dir_all(&aside);
                    std::fs::create_dir_all(&aside).unwrap();
                    let tar = dir.join(format!("src-{}.tar", std::process::id()));
                    let status = Command::new("git")
                        .current_dir(&self.root)
                        .args(["archive", "--format=tar", "-o"])
                        .arg(&tar)
                        .arg(ABI_1_0_COMMIT)
                        .status()
                        .expect("git runs");
                    assert!(
                        status.success(),
                        "the host of ABI 1.0 is built from commit {ABI_1_0_COMMIT} of this \
                         repository's history, which `git archive` could not read (a clone \
                         with its history is needed)"
                    );
                    let status = Command::new("tar")
                        .arg("-xf")
                        .arg(&tar)
                        .arg("-C")
                        .arg(&aside)
                        .status()
                        .expect("tar runs");
                    assert!(status.success(), "extracting {}", tar.display());
                    std::fs::remove_file(&tar).unwrap();
                    std::fs::rename(&aside, &src).unwrap();
                }
                let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
                let mut cmd = Command::new(cargo);
                cmd.current_dir(&src)
                    .args([
                        "build", "--quiet", "--locked", "-p", "hotslot", "--bin", "hotslot",
                    ])
                    .arg("--target-dir")
                    .arg(dir.join("target"));
                let status = cmd.status().expect("cargo runs");
                assert!(status.success(), "building the host of ABI 1.0: {cmd:?}");
                dir.join("target/debug")
                    .join(format!("hotslot{}", std::env::consts::EXE_SUFFIX))
            })
            .clone()
    }

    /// Builds `source` (relative to the workspace root) into `out` with
    /// `defines`: written aside, then renamed over `out`, so that a test
    /// reading `out` meanwhile sees a whole build, old or new.
    pub fn build_c(&self, source: &str, out: &Path, defines: &[&str]) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        // The ABI's headers, and the particles example's interface.
        let include = [
            self.root.join("plugin-api/include"),
            self.root.join("examples/particles/interface/include"),
        ];
        let include: Vec<&Path> = include.iter().map(PathBuf::as_path).collect();
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let aside = out.with_extension(format!("building-{}-{n}", std::process::id()));
        self.cc
            .build(&self.root.join(source), &aside, &include, defines)
            .unwrap_or_else(|e| panic!("building {source} with {defines:?}: {e}"));
        std::fs::rename(&aside, out).expect("the build is renamed into place");
    }
}

/// `libNAME.so` (or the platform's equivalent).
pub fn library_name(name: &str) -> String {
    format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// Builds everything once per test process.
pub fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(build)
}

/// Set for a test run in its own process (`in_own_process`): everything is
/// built already, by the process that started it.
const BUILT_VAR: &str = "HOTSLOT_TESTS_BUILT";

fn build() -> Built {
    // Absolute in the platform's own form: under wine the compiled-in
    // `/work/...` becomes `Z:\work\...`, as the loader names it.
    let root = std::path::absolute(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tests/ is in the workspace"),
    )
    .expect("the workspace's path");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    // A sanitizer build of the tests (scripts/tsan) loads the plugins of a
    // plain build, made beforehand, instead of building them itself.
    let rebuild = std::env::var_os(BUILT_VAR).is_none();
    let debug_dir = match std::env::var_os("HOTSLOT_PREBUILT") {
        Some(dir) => PathBuf::from(dir),
        None if !rebuild => target.join("debug"),
        None => {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let build = |args: &[&str]| {
                let mut cmd = Command::new(&cargo);
                cmd.current_dir(&root).args(["build", "--quiet"]).args(args);
                cmd.arg("--target-dir").arg(&target);
                let status = cmd.status().expect("cargo runs");
                assert!(status.success(), "building for the tests failed: {cmd:?}");
            };
            let packages: Vec<&str> = RUST_PACKAGES.iter().flat_map(|p| ["-p", p]).collect();
            build(&packages);
            // The examples of the `hotslot` package, which tests run (a
            // build with `--examples` builds examples only).
            build(&["-p", "hotslot", "--examples"]);
            target.join("debug")
        }
    };

    // Beside prebuilt plugins when there are (scripts/windows-under-wine
    // stages them on wine's C: drive), else in the target directory.
    let c_dir = std::env::var_os("HOTSLOT_PREBUILT").map_or_else(
        || target.join("hotslot-tests"),
        |dir| PathBuf::from(dir).join("hotslot-tests"),
    );
    std::fs::create_dir_all(&c_dir).expect("the directory of C builds is writable");
    let built = Built {
        target,
        debug_dir,
        c_dir,
        cc: CCompiler::find().expect("a C compiler"),
        root,
    };
    if !rebuild {
        return built;
    }
    built.build_c("c-shim/math_ops.c", &built.c("math_ops"), &[]);
    built.build_c(
        "examples/particles/plugin-c/particles.c",
        &built.c("particles_c"),
        &[],
    );
    for (name, defines) in PARTICLE_VARIANTS {
        built.build_c(
            "tests/fixtures/c/particles_variants.c",
            &built.c(&format!("particles_variant_{name}")),
            defines,
        );
    }
    for (name, define) in NESTED_VARIANTS {
        built.build_c(
            "tests/fixtures/c/nested.c",
            &built.c(&format!("nested_{name}")),
            &[define],
        );
    }
    built.build_c("tests/fixtures/c/abi_1_0.c", &built.c("abi_1_0"), &[]);
    built.build_c(
        "tests/fixtures/c/abi_1_0.c",
        &built.c("abi_1_0_tag_too_new"),
        &["TAG_TOO_NEW"],
    );
    built.build_c("c-shim/string_ops.c", &built.c("string_ops_c"), &[]);
    built.build_c("c-shim/counter.c", &built.c("counter_c"), &[]);
    built.build_c("tests/fixtures/c/broken.c", &built.c("broken_none"), &[]);
    built.build_c("tests/fixtures/c/fragile.c", &built.c("fragile"), &[]);
    built.build_c(
        "tests/fixtures/c/fragile.c",
        &built.c("fragile_crash_always"),
        &["CRASH_ALWAYS"],
    );
    // Plugins that attack their isolated worker's channel and start
    // processes: isolation is Linux's.
    if cfg!(target_os = "linux") {
        built.build_c("tests/fixtures/c/hostile.c", &built.c("hostile"), &[]);
        built.build_c("tests/fixtures/c/forker.c", &built.c("forker"), &[]);
    }
    built.build_c(
        "tests/fixtures/c/data_exports.c",
        &built.c("data_exports"),
        &[],
    );
    for (name, define) in [
        ("data_descriptor", "DATA_DESCRIPTOR"),
        ("data_get_version", "DATA_GET_VERSION"),
    ] {
        built.build_c("tests/fixtures/c/data_exports.c", &built.c(name), &[define]);
    }
    for name in BROKEN {
        built.build_c(
            "tests/fixtures/c/broken.c",
            &built.broken(name),
            &[&format!("BROKEN_{name}")],
        );
    }
    built
}

/// A fresh private directory for one test.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("hotslot-test-")
        .tempdir()
        .expect("a temporary directory")
}

/// Runs the `hotslot` binary with `args` and no stdin; returns status,
/// stdout and stderr.
pub fn hotslot(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    hotslot_in(None, args)
}

/// As [`hotslot`], in directory `dir`.
pub fn hotslot_in(dir: Option<&Path>, args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let mut cmd = Command::new(built().hotslot());
    cmd.args(args).stdin(std::process::Stdio::null());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let out = cmd.output().expect("hotslot runs");
    (out.status, text(&out.stdout), text(&out.stderr))
}

/// A program's output as text, lines ending in `\n`: the C runtime of
/// Windows ends the C plugins' lines with `\r\n`.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace("\r\n", "\n")
}

/// Whether the private copy a build was loaded from (as
/// `BoundInfo::copy` names it) is mapped into this process, as the kernel
/// lists it in `/proc/self/maps`: a memory file as `/memfd:NAME (deleted)`,
/// a file by its path.
#[cfg(target_os = "linux")]
pub fn is_mapped(copy: &Option<String>) -> bool {
    let copy = copy.as_deref().expect("a build loaded from a copy");
    let listed = match copy.strip_prefix("memfd:") {
        Some(name) => format!("/memfd:{name} (deleted)"),
        None => copy.to_owned(),
    };
    std::fs::read_to_string("/proc/self/maps")
        .expect("/proc/self/maps")
        .lines()
        .filter_map(|l| l.splitn(6, ' ').nth(5))
        .any(|path| path.trim_start() == listed)
}

/// Whether the private copy a build was loaded from (as
/// `BoundInfo::copy` names it) is loaded in this process, as the system
/// lists its modules (`EnumProcessModules`: every module mapped, by path).
#[cfg(windows)]
pub fn is_mapped(copy: &Option<String>) -> bool {
    use windows_sys::Win32::Foundation::HMODULE;
    use windows_sys::Win32::System::ProcessStatus::{
        K32EnumProcessModules, K32GetModuleFileNameExW,
    };
    use windows_sys::Win32::System::Threading::GetCurrentProcess;
    let copy = copy.as_deref().expect("a build loaded from a copy");
    let normal = |p: &str| {
        p.trim_start_matches(r"\\?\")
            .replace('/', r"\")
            .to_lowercase()
    };
    let wanted = normal(copy);
    let mut modules: Vec<HMODULE> = vec![std::ptr::null_mut(); 1024];
    let mut needed = 0u32;
    // SAFETY: the buffer holds `modules.len()` handles, its size in bytes
    // is passed, and `needed` is a valid u32 to write.
    let listed = unsafe {
        K32EnumProcessModules(
            GetCurrentProcess(),
            modules.as_mut_ptr(),
            (modules.len() * std::mem::size_of::<HMODULE>()) as u32,
            &raw mut needed,
        )
    };
    assert!(listed != 0, "EnumProcessModules failed");
    let count = needed as usize / std::mem::size_of::<HMODULE>();
    assert!(count <= modules.len(), "more than 1,024 modules loaded");
    modules[..count].iter().any(|&module| {
        let mut name = [0u16; 1024];
        // SAFETY: `module` was listed for this process; the buffer's
        // length in characters is passed.
        let len = unsafe {
            K32GetModuleFileNameExW(
                GetCurrentProcess(),
                module,
                name.as_mut_ptr(),
                name.len() as u32,
            )
        };
        len != 0 && normal(&String::from_utf16_lossy(&name[..len as usize])) == wanted
    })
}

/// This process's resident memory, in KiB: `VmRSS` on Linux, the working
/// set on Windows.
pub fn resident_kib() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
    #[cfg(windows)]
    {
        use windows_sys::Win32::System::ProcessStatus::{
            K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS,
        };
        use windows_sys::Win32::System::Threading::GetCurrentProcess;
        // SAFETY: the counters are plain integers, valid when zeroed.
        let mut counters: PROCESS_MEMORY_COUNTERS = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
        counters.cb = size;
        // SAFETY: `counters` is writable and its size is passed.
        let ok = unsafe { K32GetProcessMemoryInfo(GetCurrentProcess(), &raw mut counters, size) };
        assert!(ok != 0, "GetProcessMemoryInfo failed");
        counters.WorkingSetSize as u64 / 1024
    }
}

/// Runs the test `name` (its path in the test binary, e.g.
/// `faults::a_panicking_plugin`) alone, in a new process of this test
/// binary, and fails if it fails there. Returns `true` in that new process,
/// where the test body runs; `false` here, where the caller returns.
///
/// For tests that measure the whole process (its resident memory), which
/// the other tests running beside them in the same process would disturb.
pub fn in_own_process(name: &str) -> bool {
    const VAR: &str = "HOTSLOT_TEST_IN_OWN_PROCESS";
    if std::env::var_os(VAR).is_some_and(|v| v == name) {
        return true;
    }
    // Built now, not while the other tests of this process read the builds.
    let _ = built();
    let status = Command::new(std::env::current_exe().expect("the test binary"))
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(VAR, name)
        .env(BUILT_VAR, "1")
        .status()
        .expect("the test binary runs");
    assert!(status.success(), "`{name}` failed in its own process");
    false
}

/// A slot table for the tests, with default options.
pub fn table() -> hotslot::SlotTable {
    table_with(hotslot::TableOptions::default())
}

/// A slot table for the tests.
pub fn table_with(options: hotslot::TableOptions) -> hotslot::SlotTable {
    // SAFETY: the tests load only this project's plugins and fixtures,
    // built by this run. The deliberately broken ones break the descriptor's
    // rules, which the checks refuse before any plugin function is called;
    // none corrupts the process.
    unsafe { hotslot::SlotTable::with_options(options) }.expect("a slot table")
}

/// Loads a library for the tests: as `hotslot::plugin::Library::open`.
pub fn open(
    path: &Path,
    options: &hotslot::plugin::LoadOptions,
) -> Result<hotslot::plugin::Library, hotslot::LoadError> {
    // SAFETY: as for `table_with`.
    unsafe { hotslot::plugin::Library::open(path, options) }
}

/// A program that calls `op (i32, i32) -> i32` in slot 0 with 6 and 7.
pub const CALL_OP: &str = ".import 0 op (i32, i32) -> i32\nPUSH 6\nPUSH 7\nCALL_NATIVE 0\nHALT";

/// Assembles and verifies `src`.
pub fn program(src: &str) -> std::sync::Arc<hotslot::vm::VerifiedProgram> {
    let program = hotslot::vm::assemble(src).expect("the test program assembles");
    std::sync::Arc::new(hotslot::vm::verify(program).expect("the test program verifies"))
}

/// Runs `vm` from the start; the value it leaves on top of its stack.
pub fn top(vm: &mut hotslot::vm::Vm<hotslot::SlotReader>) -> hotslot::vm::Value {
    vm.run().expect("the run succeeds");
    vm.stack().pop().expect("a result on the stack")
}

/// Builds `tests/fixtures/c/adder.c` with `defines` into `dir`, as the
/// library `name`.
pub fn adder(dir: &Path, name: &str, defines: &[&str]) -> PathBuf {
    let out = dir.join(library_name(name));
    built().build_c("tests/fixtures/c/adder.c", &out, defines);
    out
}

/// Edits a library built for x86_64 into one whose header says aarch64:
/// ELF's `e_machine`, or on Windows the PE file's COFF `Machine` (after the
/// signature the DOS header's `e_lfanew` points to).
pub fn built_for_aarch64(library: &mut [u8]) {
    if cfg!(windows) {
        let nt = u32::from_le_bytes(library[0x3c..0x40].try_into().unwrap()) as usize;
        assert_eq!(&library[nt..nt + 4], b"PE\0\0", "a PE file");
        library[nt + 4..nt + 6].copy_from_slice(&0xaa64u16.to_le_bytes());
    } else {
        assert!(library.starts_with(b"\x7fELF"), "an ELF file");
        library[18..20].copy_from_slice(&183u16.to_le_bytes());
    }
}

/// A file's or directory's owner and access list, in Windows' SDDL
/// (`O:...D:...`): what [`set_security`] takes back.
#[cfg(windows)]
pub fn security(path: &Path) -> String {
    use windows_sys::Win32::Foundation::LocalFree;
    use windows_sys::Win32::Security::Authorization::{
        ConvertSecurityDescriptorToStringSecurityDescriptorW, GetNamedSecurityInfoW,
        SDDL_REVISION_1, SE_FILE_OBJECT,
    };
    use windows_sys::Win32::Security::{DACL_SECURITY_INFORMATION, OWNER_SECURITY_INFORMATION};
    let which = OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    let wide = wide(path);
    let mut descriptor = std::ptr::null_mut();
    // SAFETY: a NUL-terminated path; only the descriptor is asked for, and
    // it is freed once, below.
    let status = unsafe {
        GetNamedSecurityInfoW(
            wide.as_ptr(),
            SE_FILE_OBJECT,
            which,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &raw mut descriptor,
        )
    };
    assert_eq!(status, 0, "reading the security of {}", path.display());
    let mut text = std::ptr::null_mut();
    let mut len = 0u32;
    // SAFETY: `descriptor` is valid; `text` is allocated by the call.
    let ok = unsafe {
        ConvertSecurityDescriptorToStringSecurityDescriptorW(
            descriptor,
            SDDL_REVISION_1,
            which,
            &raw mut text,
            &raw mut len,
        )
    };
    assert!(ok != 0, "converting the security of {}", path.display());
    // SAFETY: the call wrote `len` characters (with the NUL).
    let sddl = String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(text, len as usize) });
    // SAFETY: both were allocated by the calls above for this caller.
    unsafe {
        LocalFree(text.cast());
        LocalFree(descriptor);
    }
    sddl.trim_end_matches('\0').to_owned()
}

/// Sets the owner (`O:`) and access list (`D:`) that `sddl` gives `path`,
/// as a user does with the Security tab or `icacls`.
#[cfg(windows)]
pub fn set_security(path: &Path, sddl: &str) {
    use windows_sys::Win32::Foundation::LocalFree;
    use windows_sys::Win32::Security::Authorization::{SE_FILE_OBJECT, SetNamedSecurityInfoW};
    use windows_sys::Win32::Security::{
        DACL_SECURITY_INFORMATION, GetSecurityDescriptorDacl, GetSecurityDescriptorOwner,
        OWNER_SECURITY_INFORMATION,
    };
    let descriptor = descriptor(sddl);
    let (mut owner, mut dacl) = (std::ptr::null_mut(), std::ptr::null_mut());
    let (mut present, mut defaulted) = (0, 0);
    // SAFETY: `descriptor` is valid; the out pointers are valid and point
    // into it afterwards.
    unsafe {
        GetSecurityDescriptorOwner(descriptor, &raw mut owner, &raw mut defaulted);
        GetSecurityDescriptorDacl(
            descriptor,
            &raw mut present,
            &raw mut dacl,
            &raw mut defaulted,
        );
    }
    let mut which = 0;
    if !owner.is_null() {
        which |= OWNER_SECURITY_INFORMATION;
    }
    if present != 0 {
        which |= DACL_SECURITY_INFORMATION;
    }
    let wide = wide(path);
    // SAFETY: a NUL-terminated path; `owner` and `dacl` point into
    // `descriptor`, freed after the call.
    let status = unsafe {
        let status = SetNamedSecurityInfoW(
            wide.as_ptr(),
            SE_FILE_OBJECT,
            which,
            owner,
            std::ptr::null_mut(),
            dacl,
            std::ptr::null(),
        );
        LocalFree(descriptor);
        status
    };
    assert_eq!(status, 0, "setting `{sddl}` on {}", path.display());
}

/// The security descriptor `sddl` describes, allocated by the system: the
/// caller frees it with `LocalFree`.
#[cfg(windows)]
fn descriptor(sddl: &str) -> windows_sys::Win32::Security::PSECURITY_DESCRIPTOR {
    use windows_sys::Win32::Security::Authorization::{
        ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
    };
    let text: Vec<u16> = sddl.encode_utf16().chain(std::iter::once(0)).collect();
    let mut descriptor = std::ptr::null_mut();
    // SAFETY: a NUL-terminated string; `descriptor` is written on success.
    let ok = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            text.as_ptr(),
            SDDL_REVISION_1,
            &raw mut descriptor,
            std::ptr::null_mut(),
        )
    };
    assert!(ok != 0, "`{sddl}` is not a security descriptor");
    descriptor
}

#[cfg(windows)]
fn wide(path: &Path) -> Vec<u16> {
    use std::os::windows::ffi::OsStrExt;
    path.as_os_str()
        .encode_wide()
        .chain(std::iter::once(0))
        .collect()
}

/// Makes the directory `path`, closed to every other user: mode 0o700 on
/// Unix; on Windows, with an access list (not inherited) that lets its
/// owner alone in, as hotslot makes its own copy directories.
pub fn create_private_dir(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().mode(0o700).create(path).unwrap();
    }
    #[cfg(windows)]
    {
        use windows_sys::Win32::Foundation::LocalFree;
        use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;
        use windows_sys::Win32::Storage::FileSystem::CreateDirectoryW;
        // The owner of the directory it is made in: this user's.
        let parent = security(path.parent().expect("a parent"));
        let owner = parent
            .strip_prefix("O:")
            .and_then(|s| s.split("D:").next())
            .expect("an owner");
        let descriptor = descriptor(&format!("D:P(A;OICI;FA;;;{owner})"));
        let attributes = SECURITY_ATTRIBUTES {
            nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: descriptor,
            bInheritHandle: 0,
        };
        let wide = wide(path);
        // SAFETY: a NUL-terminated path and attributes whose descriptor
        // lives until it is freed after the call.
        let created = unsafe {
            let created = CreateDirectoryW(wide.as_ptr(), &raw const attributes);
            LocalFree(descriptor);
            created
        };
        assert!(created != 0, "making {}", path.display());
    }
}

/// Lets every other user write to `path` (a file, or a directory and what
/// is in it): mode 0o666 or 0o777 on Unix; on Windows, an entry in its
/// access list that allows Everyone everything.
pub fn open_to_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o777 } else { 0o666 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(windows)]
    {
        let sddl = security(path);
        set_security(path, &format!("{sddl}(A;;FA;;;WD)"));
    }
}

/// `path` as a C string literal, for a `-D` definition (Windows' `\`
/// escaped).
pub fn c_string(path: &Path) -> String {
    format!("\"{}\"", path.display().to_string().replace('\\', "\\\\"))
}

/// Replaces `dst` with `src` the way a build does: written aside, then
/// renamed over it.
pub fn install(src: &Path, dst: &Path) {
    let tmp = dst.with_extension("tmp");
    std::fs::copy(src, &tmp).expect("the build is copied aside");
    std::fs::rename(&tmp, dst).expect("the build is renamed over the library");
}

/// Rebuilds `c-shim/math_ops.c` into `lib` with `math_add` multiplying and
/// its version 1.1.0, as the demo edits it.
pub fn rebuild_math_ops_multiplying(dir: &Path, lib: &Path) {
    let src = dir.join("math_ops.c");
    std::fs::write(
        &src,
        hotslot_cbuild::MATH_OPS_C
            .replace("return a + b;", "return a * b;")
            .replace(
                "HS_FUNCTION(i32, math_add, (i32, i32), 1, 0, 0)",
                "HS_FUNCTION(i32, math_add, (i32, i32), 1, 1, 0)",
            ),
    )
    .expect("the edited source is written");
    let root = &built().root;
    let include = [root.join("plugin-api/include")];
    built()
        .cc
        .build(&src, lib, &[&include[0]], &[])
        .expect("the edited math_ops.c builds");
}

/// Runs `hotslot repl` with `args` and `input` on stdin, then end of
/// input; its standard output. It must end by itself (within 20 s),
/// successfully.
pub fn repl(args: &[&str], input: impl AsRef<[u8]>) -> String {
    use std::io::Write;
    let mut child = Command::new(built().hotslot())
        .arg("repl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("hotslot runs");
    child
        .stdin
        .take()
        .expect("a stdin")
        .write_all(input.as_ref())
        .expect("the input is written");
    let started = std::time::Instant::now();
    let out = child.wait_with_output().expect("the REPL ends");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the REPL must stop at end of input"
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8 output")
        .replace("\r\n", "\n")
}

/// The path of an example program in `host/examples`, as text.
pub fn example(name: &str) -> String {
    built()
        .root
        .join("host/examples")
        .join(name)
        .display()
        .to_string()
}
