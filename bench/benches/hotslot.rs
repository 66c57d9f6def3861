//! hotslot against the peers users would pick instead, measured in one run.
//!
//!     cargo bench -p hotslot-bench --features peers,wasmtime,plot
//!
//! Without `peers`, Lua and wasmi are left out; without `wasmtime`, the JIT
//! reference; without `plot`, the SVG.
//! Results go to standard output as the tables of `BENCHMARKS.md`, and to
//! `target/hotslot-bench/results.json` (and `ns-per-call.svg` next to it;
//! the copy in `bench/` that BENCHMARKS.md shows is committed by hand, so a
//! run leaves the work tree as it was).
//!
//! Every figure is a median with the minimum and maximum over repeated
//! measurements in this one process. Ratios of call loops are taken within
//! each round (both sides under the same load) and summarised the same way;
//! other ratios compare medians of this run.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotslot::plugin::retained_libraries;
use hotslot::vm::{NativeCalls, Natives, Program, StaticNatives, Vm, assemble, verify};
use hotslot::{LinkError, Signature, SlotTable, ValType, WatchOptions};
use hotslot_cbuild::CCompiler;
use hotslot_plugin_api::{HsCallCtx, HsStatus, HsValue};

mod suite;

/// Calls per loop measurement.
const CALLS: i32 = 2_000_000;
/// Rounds of loop measurements: every candidate runs once per round.
const REPEAT: usize = 21;
/// Swaps for the reload latency figures.
const RELOADS: usize = 1000;
/// Reload cycles for the memory figures.
const CYCLES: usize = 10_000;
/// Reload cycles of the plugin the system keeps mapped: each one stays.
const TLS_CYCLES: usize = 200;

/// The measured loop: `PUSH a; PUSH b; CALL_NATIVE 0; POP; decrement;
/// jump if not zero`, with the counter kept on the stack.
fn loop_program(n: i32) -> String {
    format!(
        ".import 0 math_add (i32, i32) -> i32
            PUSH {n}
        top:
            PUSH 10
            PUSH 5
            CALL_NATIVE 0
            POP
            PUSH 1
            SUB
            DUP
            JNZ top
            HALT"
    )
}

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(mut v: Vec<f64>) -> Stats {
    v.sort_by(f64::total_cmp);
    Stats {
        median: v[v.len() / 2],
        min: v[0],
        max: v[v.len() - 1],
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = |x: f64| {
            if x >= 100.0 {
                format!("{x:.0}")
            } else if x >= 10.0 {
                format!("{x:.1}")
            } else {
                format!("{x:.2}")
            }
        };
        write!(f, "{} ({}–{})", p(self.median), p(self.min), p(self.max))
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn library_name(name: &str) -> String {
    format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

struct Plugins {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    root: PathBuf,
    /// The quiet C `math_add`, built with the system's compiler.
    c: PathBuf,
    /// The same, multiplying: the second build for swaps.
    c_mul: PathBuf,
    /// The quiet Rust `math_add`, a release build.
    rust: PathBuf,
    /// The same without debug information, when `strip` is installed.
    rust_stripped: Option<PathBuf>,
    /// A Rust plugin whose function registers a thread-local destructor,
    /// which keeps it mapped after release while the calling thread lives.
    rust_tls: PathBuf,
    /// The C plugin that crashes on request (`tests/fixtures/c/fragile.c`).
    fragile: PathBuf,
    /// The worker program of isolated bindings, a release build.
    worker: PathBuf,
}

impl Plugins {
    fn build() -> Plugins {
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
fn raw_math_add(lib: &libloading::Library) -> unsafe extern "C" fn(i32, i32) -> i32 {
    // SAFETY: the quiet C plugin exports `int math_add(int, int)`.
    unsafe {
        *lib.get::<unsafe extern "C" fn(i32, i32) -> i32>("math_add")
            .unwrap()
    }
}

/// A VM over `program` whose slot 0 is bound in `table` to `lib`.
fn slot_vm(
    table: &SlotTable,
    program: &Arc<hotslot::vm::VerifiedProgram>,
    lib: &Path,
) -> Vm<hotslot::SlotReader> {
    let vm = table.vm_with(Arc::clone(program), small()).unwrap();
    table.bind(0, lib, None).unwrap();
    vm
}

fn small() -> hotslot::vm::VmOptions {
    hotslot::vm::VmOptions {
        stack_capacity: 1024,
        ..Default::default()
    }
}

fn run_vm<N: Natives>(vm: &mut Vm<N>) {
    vm.run().unwrap();
}

/// The naive peer: a hot-lib-reloader-style slot that takes a lock and looks
/// the symbol up on every call.
struct NaiveSlot {
    lib: Mutex<libloading::Library>,
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

#[derive(Default)]
struct Report {
    rows: Vec<(String, String, Stats)>,
    /// Per-round samples of the call loops, in round order, so ratios can
    /// be taken within a round (both sides under the same machine load).
    rounds: std::collections::HashMap<String, Vec<f64>>,
    json: serde_json::Map<String, serde_json::Value>,
}

impl Report {
    fn add(&mut self, key: &str, label: &str, unit: &str, s: Stats) {
        println!("  {label:<58} {s} {unit}");
        self.record(key, label, unit, s);
    }

    /// As `add`, printing nothing.
    fn record(&mut self, key: &str, label: &str, unit: &str, s: Stats) {
        self.json.insert(
            key.into(),
            serde_json::json!({ "label": label, "unit": unit, "median": s.median, "min": s.min, "max": s.max }),
        );
        self.rows.push((key.into(), label.into(), s));
    }

    fn median(&self, key: &str) -> f64 {
        self.rows
            .iter()
            .find(|r| r.0 == key)
            .map_or(f64::NAN, |r| r.2.median)
    }

    fn note(&mut self, key: &str, value: serde_json::Value) {
        self.json.insert(key.into(), value);
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter is not supported.
    pin_to_one_core();
    let p = Plugins::build();
    let mut r = Report::default();
    println!(
        "hotslot-bench: {} calls per loop, {REPEAT} repetitions, {RELOADS} swaps, {CYCLES} reload cycles",
        CALLS
    );
    println!("machine: {} cores, {}", cores(), cpu_model());
    r.note(
        "machine",
        serde_json::json!({ "cores": cores(), "cpu": cpu_model() }),
    );

    // HOTSLOT_BENCH=calls,reloads runs only those sections (while tuning);
    // the figures of BENCHMARKS.md come from a run of all of them.
    let only = std::env::var("HOTSLOT_BENCH").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.split(',').any(|s| s == name);
    if wanted("calls") {
        calls(&p, &mut r);
    }
    if wanted("reloads") {
        reloads(&p, &mut r);
    }
    if wanted("suite") {
        suite::suite(&p, &mut r);
    }
    if wanted("scaling") {
        reload_scaling(&p, &mut r);
    }
    if wanted("footprint") {
        footprint(&p, &mut r);
    }
    if wanted("isolated") {
        // A worker runs beside its caller: both cores, as a host runs.
        unpin();
        isolated(&p, &mut r);
        pin_to_one_core();
    }
    if wanted("throughput") {
        unpin();
        throughput(&p, &mut r);
        pin_to_one_core();
    }
    if wanted("memory") {
        memory(&p, &mut r);
    }
    if wanted("watch") {
        watch_latency(&p, &mut r);
    }
    ratios(&mut r);

    let out = p.root.join("target/hotslot-bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&r.json).unwrap(),
    )
    .unwrap();
    plot(&r, &out.join("ns-per-call.svg"));
}

/// Keeps the measuring thread on one core: migrations between cores add
/// noise the figures do not need. The throughput measurement's threads are
/// not pinned.
fn pin_to_one_core() {
    set_affinity(&[0]);
}

fn unpin() {
    set_affinity(&(0..cores()).collect::<Vec<_>>());
}

fn set_affinity(cpus: &[usize]) {
    // SAFETY: `cpu_set_t` is a plain bit set, valid all zero; 0 means the
    // calling thread, and the size passed is the set's.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Cores online (not those this thread may use, which pinning changes).
fn cores() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// One way of making `CALLS` calls, measured against the others.
struct Candidate {
    key: &'static str,
    label: &'static str,
    run: Box<dyn FnMut()>,
}

fn candidate(key: &'static str, label: &'static str, run: impl FnMut() + 'static) -> Candidate {
    Candidate {
        key,
        label,
        run: Box::new(run),
    }
}

/// Runs every candidate `repeat` times, round after round, each round in
/// an order shuffled anew (a fixed order would favour or handicap whoever
/// follows whom), after one warm-up run each; returns per candidate the
/// time of each run in ns, divided by `per`.
fn rounds(all: &mut [Candidate], repeat: usize, per: f64) -> Vec<Vec<f64>> {
    for c in all.iter_mut() {
        (c.run)(); // warm up
    }
    let mut samples = vec![Vec::with_capacity(repeat); all.len()];
    let mut order: Vec<usize> = (0..all.len()).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..repeat {
        for i in (1..order.len()).rev() {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            order.swap(i, (seed >> 33) as usize % (i + 1));
        }
        for &i in &order {
            let t = Instant::now();
            (all[i].run)();
            samples[i].push(t.elapsed().as_nanos() as f64 / per);
        }
    }
    samples
}

/// (a) to (e): ns per call from a loop. The candidates take turns, round
/// after round, so that the machine's noise falls on all of them alike.
fn calls(p: &Plugins, r: &mut Report) {
    println!("\nns per call (median (min–max) over {REPEAT} rounds of {CALLS} calls each):");
    let program = Arc::new(verify(assemble(&loop_program(CALLS)).unwrap()).unwrap());
    let mut all = Vec::new();

    // (a) through a hot-swappable slot.
    for (key, label, lib) in [
        (
            "slot_c",
            "(a) hotslot VM, hot-swappable slot, C math_add",
            &p.c,
        ),
        (
            "slot_rust",
            "(a) hotslot VM, hot-swappable slot, Rust math_add",
            &p.rust,
        ),
    ] {
        let table = hotslot_bench::table();
        let mut vm = slot_vm(&table, &program, lib);
        all.push(candidate(key, label, move || {
            let _keep = &table;
            run_vm(&mut vm);
        }));
    }

    // (b) no slot: the C and Rust functions linked into the binary, and the
    // very function the slot calls (the dlopen'd C build) called directly.
    let i32x2 = Signature::new([ValType::I32, ValType::I32], Some(ValType::I32));
    let dlopened = hotslot_bench::open(&p.c);
    let dlopened_entry = dlopened.entry("math_add").unwrap().as_raw();
    let keep = Arc::new(dlopened);
    for (key, label, entry) in [
        (
            "static_c",
            "(b) hotslot VM, C math_add linked statically",
            hotslot_bench::static_c_entry(),
        ),
        (
            "noslot_c",
            "(b) hotslot VM, the dlopen'd C math_add, no slot",
            dlopened_entry,
        ),
        (
            "static_rust",
            "(b) hotslot VM, Rust math_add linked statically",
            hotslot_bench::static_rust_entry(),
        ),
    ] {
        let mut natives = StaticNatives::new();
        // SAFETY: every entry follows the ABI for `(i32, i32) -> i32`.
        unsafe { natives.insert(0, "math_add", i32x2.clone(), entry) };
        let mut vm = Vm::with_options(Arc::clone(&program), natives, small()).unwrap();
        let keep = Arc::clone(&keep);
        all.push(candidate(key, label, move || {
            let _keep = &keep;
            run_vm(&mut vm);
        }));
    }

    // (c) the floor: a Rust loop calling the dlopen'd entry point, and the
    // plain C function under it.
    let lib = hotslot_bench::open(&p.c);
    let entry = lib.entry("math_add").unwrap().as_raw();
    all.push(candidate(
        "raw_entry",
        "(c) Rust loop, dlopen'd C entry point via fn pointer",
        move || {
            let _keep = &lib;
            let args = [HsValue { i32: 10 }, HsValue { i32: 5 }];
            let mut out = HsValue::ZERO;
            for _ in 0..CALLS {
                // SAFETY: the entry takes two i32 arguments and writes an i32,
                // read back at its own width.
                let result = unsafe {
                    let s = entry(std::ptr::null_mut(), black_box(args.as_ptr()), 2, &mut out);
                    (s, out.i32)
                };
                black_box(result);
            }
        },
    ));
    let raw_lib = Arc::new(unsafe_open(&p.c));
    let raw = raw_math_add(&raw_lib);
    let keep = Arc::clone(&raw_lib);
    all.push(candidate(
        "raw_fn",
        "(c) Rust loop, dlopen'd C math_add(int, int) via fn pointer",
        move || {
            let _keep = &keep;
            for _ in 0..CALLS {
                // SAFETY: a plain C function of two ints.
                black_box(unsafe { black_box(raw)(black_box(10), black_box(5)) });
            }
        },
    ));

    // (i) the host application's own calls, from a Rust loop: through a
    // typed handle (checked, following reloads), and the same call the way
    // hot-lib-reloader makes it (a read lock and a symbol lookup per call).
    for (key, label, lib) in [
        (
            "handle_c",
            "(i) Rust loop, typed handle to the C math_add",
            &p.c,
        ),
        (
            "handle_rust",
            "(i) Rust loop, typed handle to the Rust math_add",
            &p.rust,
        ),
    ] {
        let table = hotslot_bench::table();
        table
            .bind_library(lib, &hotslot::ReloadOptions::default())
            .unwrap();
        let add = table.function::<(i32, i32), i32>("math_add").unwrap();
        all.push(candidate(key, label, move || {
            let _keep = &table;
            for _ in 0..CALLS {
                black_box(add.call((10, 5)).unwrap());
            }
        }));
    }
    let reloader = std::sync::RwLock::new(unsafe_open(&p.c));
    all.push(candidate(
        "reloader_c",
        "(i) Rust loop, C math_add via read lock + dlsym per call",
        move || {
            for _ in 0..CALLS {
                let lib = reloader.read().unwrap();
                // SAFETY: as in `raw_math_add`; the symbol is used under
                // the lock that keeps the library loaded.
                let f = unsafe { lib.get::<unsafe extern "C" fn(i32, i32) -> i32>(b"math_add\0") }
                    .unwrap();
                // SAFETY: a plain C function of two ints.
                black_box(unsafe { f(black_box(10), black_box(5)) });
            }
        },
    ));

    // (d) the peer runtimes.
    #[cfg(feature = "peers")]
    all.extend(peers::candidates(raw));
    #[cfg(not(feature = "peers"))]
    println!("  (d), (i) Lua 5.4, wasmi and wasmtime: left out (build with --features peers)");

    // (e) the naive peer.
    let naive = NaiveSlot {
        lib: Mutex::new(unsafe_open(&p.c)),
    };
    let mut vm = Vm::with_options(Arc::clone(&program), naive, small()).unwrap();
    all.push(candidate(
        "naive",
        "(e) hotslot VM, naive slot (lock + dlsym per call)",
        move || run_vm(&mut vm),
    ));

    let samples = rounds(&mut all, REPEAT, f64::from(CALLS));
    for (c, s) in all.iter().zip(samples) {
        r.rounds.insert(c.key.into(), s.clone());
        r.add(c.key, c.label, "ns/call", stats(s));
    }
    drop(raw_lib);
}

/// A private copy of `lib`, as the loader makes it: the file copied into a
/// new sealed memory file.
fn memory_copy(lib: &Path) -> hotslot::plugin::PrivateCopy {
    let mut file = std::fs::File::open(lib).unwrap();
    hotslot::plugin::PrivateCopy::create(&mut file, "bench", &hotslot::plugin::CopyPlace::Memory)
        .unwrap()
}

/// The private copy alone: made, and removed.
fn private_copy(lib: &Path) {
    drop(memory_copy(lib));
}

/// What a reloader loading from a private copy must do at the least: the
/// copy, and the bare cycle on the copy (not on the file, whose pages the
/// page cache holds ready).
fn copy_and_cycle(lib: &Path) {
    bare_cycle(&memory_copy(lib).load_path());
}

/// What any reloader must do at the least: open the file, look up the
/// descriptor, close it.
fn bare_cycle(lib: &Path) {
    let l = unsafe_open(lib);
    // SAFETY: looked up only, never called.
    let s = unsafe { l.get::<unsafe extern "C" fn()>("hotslot_plugin") }.unwrap();
    std::hint::black_box(*s);
    l.close().unwrap();
}

fn unsafe_open(path: &Path) -> libloading::Library {
    // SAFETY: the quiet C plugin has no initializers beyond the C runtime's.
    unsafe { libloading::Library::new(path) }.unwrap()
}

#[cfg(feature = "peers")]
mod peers {
    use std::hint::black_box;
    use std::sync::OnceLock;

    use super::{CALLS, Candidate, candidate};

    static MATH_ADD: OnceLock<unsafe extern "C" fn(i32, i32) -> i32> = OnceLock::new();

    /// The binding a Lua user writes: `math_add(a, b)` as a C function.
    unsafe extern "C-unwind" fn l_math_add(l: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
        let f = MATH_ADD.get().unwrap();
        // SAFETY: Lua calls this with its state; the arguments are read as
        // integers and the result pushed, as any Lua C function does.
        unsafe {
            let a = mlua::ffi::lua_tointeger(l, 1) as i32;
            let b = mlua::ffi::lua_tointeger(l, 2) as i32;
            mlua::ffi::lua_pushinteger(l, mlua::ffi::lua_Integer::from(f(a, b)));
        }
        1
    }

    pub fn candidates(raw: unsafe extern "C" fn(i32, i32) -> i32) -> Vec<Candidate> {
        let _ = MATH_ADD.set(raw);
        let lua = mlua::Lua::new();
        // SAFETY: `l_math_add` follows the Lua C function protocol.
        let f = unsafe { lua.create_c_function(l_math_add) }.unwrap();
        lua.globals().set("math_add", f).unwrap();
        let chunk = lua
            .load(format!(
                "local f = math_add; for i = 1, {CALLS} do f(10, 5) end"
            ))
            .into_function()
            .unwrap();
        let lua_run = candidate(
            "lua",
            "(d) Lua 5.4 loop calling the C math_add (a Lua C function)",
            move || {
                let _keep = &lua;
                chunk.call::<()>(()).unwrap();
            },
        );

        let engine = wasmi::Engine::default();
        let wasm = wat::parse_str(
            r#"(module
                (import "env" "math_add" (func $add (param i32 i32) (result i32)))
                (func (export "run") (param $n i32)
                    (loop $top
                        (drop (call $add (i32.const 10) (i32.const 5)))
                        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                        (br_if $top (local.get $n)))))"#,
        )
        .unwrap();
        let module = wasmi::Module::new(&engine, &wasm[..]).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let mut linker = wasmi::Linker::<()>::new(&engine);
        linker
            .func_wrap("env", "math_add", move |a: i32, b: i32| -> i32 {
                // SAFETY: a plain C function of two ints.
                unsafe { raw(a, b) }
            })
            .unwrap();
        let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
        let run = instance.get_typed_func::<i32, ()>(&store, "run").unwrap();
        let wasmi_run = candidate(
            "wasmi",
            "(d) wasmi loop calling the C math_add (a host function)",
            move || {
                run.call(&mut store, black_box(CALLS)).unwrap();
            },
        );
        #[allow(unused_mut, reason = "wasmtime joins with its feature")]
        let mut all = vec![lua_run, wasmi_run, wasmi_typed()];
        #[cfg(feature = "wasmtime")]
        all.push(wasmtime_typed());
        all
    }

    /// The wasm function a host calls in the typed-call peers.
    const WASM_ADD: &str = r#"(module
        (func (export "math_add") (param i32 i32) (result i32)
            (i32.add (local.get 0) (local.get 1))))"#;

    /// A Rust loop calling a wasm `math_add` through wasmi's typed function.
    fn wasmi_typed() -> Candidate {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, &wat::parse_str(WASM_ADD).unwrap()[..]).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let instance = wasmi::Linker::<()>::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .unwrap();
        let add = instance
            .get_typed_func::<(i32, i32), i32>(&store, "math_add")
            .unwrap();
        candidate(
            "wasmi_typed",
            "(i) Rust loop, wasmi TypedFunc::call into a wasm math_add",
            move || {
                for _ in 0..CALLS {
                    black_box(add.call(&mut store, (10, 5)).unwrap());
                }
            },
        )
    }

    /// A Rust loop calling a wasm `math_add` through wasmtime's typed
    /// function (compiled by Cranelift).
    #[cfg(feature = "wasmtime")]
    fn wasmtime_typed() -> Candidate {
        let engine = wasmtime::Engine::default();
        let module = wasmtime::Module::new(&engine, wat::parse_str(WASM_ADD).unwrap()).unwrap();
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
        let add = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "math_add")
            .unwrap();
        candidate(
            "wasmtime_typed",
            "(i) Rust loop, wasmtime TypedFunc::call into a wasm math_add",
            move || {
                for _ in 0..CALLS {
                    black_box(add.call(&mut store, (10, 5)).unwrap());
                }
            },
        )
    }
}

/// (f): reload latency against a bare dlopen + dlsym + dlclose.
fn reloads(p: &Plugins, r: &mut Report) {
    println!("\nreload latency (µs; p50 and p99 over {RELOADS} swaps):");
    let mut libs = vec![
        ("c", &p.c, "C (16 KiB)"),
        ("rust", &p.rust, "Rust (6 MiB with line tables)"),
    ];
    if let Some(stripped) = &p.rust_stripped {
        libs.push(("rust_stripped", stripped, "Rust (stripped, 450 KiB)"));
    }
    for (key, lib_src, label) in libs {
        let lib = p.dir.join(library_name(&format!("swap_{key}")));
        std::fs::copy(lib_src, &lib).unwrap();
        let table = hotslot_bench::table();
        let program = Arc::new(verify(assemble(&loop_program(1)).unwrap()).unwrap());
        let _vm = slot_vm(&table, &program, &lib);
        let mut reload = Vec::with_capacity(RELOADS);
        for _ in 0..RELOADS {
            let t = Instant::now();
            table.reload(&lib).unwrap();
            reload.push(t.elapsed().as_nanos() as f64 / 1000.0);
        }
        assert!(
            table.pending_releases().is_empty(),
            "the old builds were released within the reload"
        );
        let mut bare = Vec::with_capacity(RELOADS);
        for _ in 0..RELOADS {
            let t = Instant::now();
            bare_cycle(&lib);
            bare.push(t.elapsed().as_nanos() as f64 / 1000.0);
        }
        // The private copy alone, as the loader makes it: the file copied
        // into a new sealed memory file, and its removal.
        let mut copy = Vec::with_capacity(RELOADS);
        for _ in 0..RELOADS {
            let t = Instant::now();
            private_copy(&lib);
            copy.push(t.elapsed().as_nanos() as f64 / 1000.0);
        }
        for (what, mut v) in [("reload", reload), ("bare", bare), ("copy", copy)] {
            v.sort_by(f64::total_cmp);
            let p50 = percentile(&v, 0.5);
            let p99 = percentile(&v, 0.99);
            let label = match what {
                "reload" => {
                    format!("(f) {label}: hotslot reload (copy, every check, swap, release)")
                }
                "bare" => format!("(f) {label}: bare dlopen + dlsym + dlclose of the same file"),
                _ => format!("(f) {label}: the private copy alone (read, copy, remove)"),
            };
            println!(
                "  {label:<58} p50 {p50:.0} µs, p99 {p99:.0} µs (min {:.0}, max {:.0})",
                v[0],
                v[v.len() - 1]
            );
            r.note(
                &format!("reload_{key}_{what}"),
                serde_json::json!({ "label": label, "p50_us": p50, "p99_us": p99, "min_us": v[0], "max_us": v[v.len() - 1] }),
            );
            r.rows.push((
                format!("reload_{key}_{what}_p50"),
                label,
                Stats {
                    median: p50,
                    min: v[0],
                    max: v[v.len() - 1],
                },
            ));
        }
        // What a reload cannot avoid on this machine: the copy and the cycle.
        let floor = r.median(&format!("reload_{key}_bare_p50"))
            + r.median(&format!("reload_{key}_copy_p50"));
        r.rows.push((
            format!("reload_{key}_bare_plus_copy_p50"),
            "(f) bare cycle + copy".into(),
            Stats {
                median: floor,
                min: floor,
                max: floor,
            },
        ));
    }
}

/// A C plugin of `functions` functions `f0`, `f1`, ... each `(i32) -> i32`,
/// built into `dir`.
fn many_functions(p: &Plugins, functions: usize) -> PathBuf {
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
    src.push_str("HS_EXPORT int get_version(void) { return 1; }\n");
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
fn importing(slots: usize) -> String {
    let mut src: String = (0..slots)
        .map(|i| format!(".import {i} f{i} (i32) -> i32\n"))
        .collect();
    src.push_str("    HALT\n");
    src
}

/// p50 in µs of `RELOADS` runs of `f`.
fn p50_of(mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..RELOADS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos() as f64 / 1000.0
        })
        .collect();
    v.sort_by(f64::total_cmp);
    percentile(&v, 0.5)
}

/// (j): how a reload's cost grows with the functions a library exports and
/// the slots bound to it, against what any reloader must do for the same
/// file (the private copy and a bare dlopen + dlsym + dlclose).
fn reload_scaling(p: &Plugins, r: &mut Report) {
    println!("\nreload scaling (µs, p50 over {RELOADS} reloads):");
    let one = many_functions(p, 1);
    let many = many_functions(p, 1024);
    for (key, lib, slots, label) in [
        ("1fn_1slot", &one, 1, "1 function, 1 slot bound"),
        ("1024fn_1slot", &many, 1, "1,024 functions, 1 slot bound"),
        (
            "1024fn_1024slots",
            &many,
            1024,
            "1,024 functions, 1,024 slots bound",
        ),
    ] {
        let table = hotslot_bench::table();
        let program = Arc::new(verify(assemble(&importing(slots)).unwrap()).unwrap());
        let mut vm = table.vm_with(program, small()).unwrap();
        table
            .bind_library(lib, &hotslot::ReloadOptions::default())
            .unwrap();
        vm.run().unwrap();
        let reload = p50_of(|| {
            table.reload(lib).unwrap();
        });
        let bare = p50_of(|| bare_cycle(lib));
        let copy = p50_of(|| private_copy(lib));
        let floor = bare + copy;
        let on_copy = p50_of(|| copy_and_cycle(lib));
        println!(
            "  (j) {label:<36} reload {reload:>6.0}   copy + bare cycle {floor:>6.0}   {:.2}x   \
             (bare cycle on the copy {on_copy:>6.0}   {:.2}x)",
            reload / floor,
            reload / on_copy
        );
        for (what, value, text) in [
            ("reload", reload, "hotslot reload"),
            ("floor", floor, "private copy + bare dlopen/dlsym/dlclose"),
            (
                "on_copy",
                on_copy,
                "private copy, bare dlopen/dlsym/dlclose of that copy",
            ),
        ] {
            r.rows.push((
                format!("scaling_{key}_{what}_p50"),
                format!("(j) {label}: {text}"),
                Stats {
                    median: value,
                    min: value,
                    max: value,
                },
            ));
        }
        r.note(
            &format!("scaling_{key}"),
            serde_json::json!({ "reload_p50_us": reload, "copy_p50_us": copy, "bare_p50_us": bare, "copy_and_cycle_on_copy_p50_us": on_copy }),
        );
    }
}

/// Calls measured one by one for (m).
const ISOLATED_CALLS: usize = 200_000;

/// (m): a typed handle's call to an isolated build against the same call
/// in process, with and without spinning; a crash until the next call is
/// served again; what a worker costs in memory.
fn isolated(p: &Plugins, r: &mut Report) {
    use hotslot::isolate::IsolateOptions;
    println!(
        "\nisolated calls (typed handle → C math_add; ns per call, {ISOLATED_CALLS} calls each):"
    );
    let options = |spin: Option<Duration>| hotslot::ReloadOptions {
        isolate: Some(IsolateOptions {
            worker: Some(p.worker.clone()),
            deadline: None,
            spin,
            rollback_after: None,
        }),
        ..hotslot::ReloadOptions::default()
    };
    let in_process = hotslot::ReloadOptions::default();
    let spun = options(None);
    let unspun = options(Some(Duration::ZERO));
    for (key, label, reload, pinned) in [
        ("in_process", "in process", &in_process, false),
        (
            "isolated",
            "isolated, spinning 50 µs before sleeping (the default)",
            &spun,
            false,
        ),
        (
            "isolated_no_spin",
            "isolated, sleeping at once (no spin)",
            &unspun,
            false,
        ),
        (
            "isolated_pinned",
            "isolated, the caller pinned to one CPU (so no spin)",
            &spun,
            true,
        ),
    ] {
        if pinned {
            // The worker inherits the CPU of the thread that starts it.
            pin_to_one_core();
        }
        let table = hotslot_bench::table();
        table.bind_library(&p.c, reload).unwrap();
        let add = table.function::<(i32, i32), i32>("math_add").unwrap();
        // Warm: the worker's first calls fault its pages in.
        for i in 0..1000 {
            assert_eq!(add.call((i, 1)), Ok(i + 1));
        }
        let mut v: Vec<f64> = (0..ISOLATED_CALLS as i32)
            .map(|i| {
                let t = Instant::now();
                black_box(add.call((black_box(i), 1)).unwrap());
                t.elapsed().as_nanos() as f64
            })
            .collect();
        if pinned {
            unpin();
        }
        v.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&v, 0.5), percentile(&v, 0.99));
        println!("  (m) {label:<56} p50 {p50:>7.0} ns, p99 {p99:>7.0} ns");
        r.note(
            &format!("isolated_call_{key}"),
            serde_json::json!({ "label": label, "p50_ns": p50, "p99_ns": p99, "min_ns": v[0], "max_ns": v[v.len() - 1] }),
        );
        r.rows.push((
            format!("isolated_call_{key}_p50"),
            format!("(m) typed handle → C math_add, {label}"),
            Stats {
                median: p50,
                min: v[0],
                max: v[v.len() - 1],
            },
        ));
    }

    // A crash, until a call is answered again: the crashing call (which
    // sees the worker die) and the next one (which starts a new worker).
    let table = hotslot_bench::table();
    table.bind_library(&p.fragile, &spun).unwrap();
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    let pid = table.function::<(), i32>("pid").unwrap();
    assert_eq!(fragile.call(1), Ok(2));
    let rounds = 50;
    let (mut failed, mut serving) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        assert!(fragile.call(13).is_err());
        failed.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(fragile.call(5), Ok(10));
        serving.push(t.elapsed().as_secs_f64() * 1e3);
    }
    for (key, label, mut v) in [
        ("crash_reported", "a segfault until its call fails", failed),
        (
            "crash_to_serving",
            "a segfault until the next call is answered (new worker)",
            serving,
        ),
    ] {
        v.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&v, 0.5), percentile(&v, 0.99));
        println!("  (m) {label:<56} p50 {p50:>7.2} ms, p99 {p99:>7.2} ms ({rounds} rounds)");
        r.note(
            &format!("isolated_{key}"),
            serde_json::json!({ "label": label, "p50_ms": p50, "p99_ms": p99 }),
        );
        r.rows.push((
            format!("isolated_{key}_p50_ms"),
            format!("(m) {label}"),
            Stats {
                median: p50,
                min: v[0],
                max: v[v.len() - 1],
            },
        ));
    }

    // What one worker costs: its resident set, and its share of it (pages
    // it shares with other processes, the hotslot binary's code above all,
    // counted in part).
    let worker = pid.call(()).unwrap();
    let rollup =
        std::fs::read_to_string(format!("/proc/{worker}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| -> f64 {
        rollup
            .lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(f64::NAN)
    };
    let (rss, pss) = (field("Rss:"), field("Pss:"));
    println!("  (m) one worker process: {rss:.0} KiB resident, {pss:.0} KiB proportional share");
    r.note(
        "isolated_worker_memory",
        serde_json::json!({ "rss_kib": rss, "pss_kib": pss }),
    );
}

/// Bytes the C heap has handed out and not taken back.
fn heap_bytes() -> f64 {
    // SAFETY: `mallinfo2` only reads the allocator's counters.
    let m = unsafe { libc::mallinfo2() };
    (m.uordblks + m.hblkhd) as f64
}

/// (k): what a VM (default options, a small program run once), a slot
/// table and a bound slot cost: resident bytes (the process's, so a VM's
/// stack pages count) and heap bytes, each the mean over many.
fn footprint(p: &Plugins, r: &mut Report) {
    const N: usize = 1000;
    println!("\nfootprint (bytes each, the mean over {N}):");
    let measure = |make: &mut dyn FnMut() -> Box<dyn std::any::Any>, n: usize| {
        let (rss, heap) = (rss_kib(), heap_bytes());
        let kept: Vec<_> = (0..n).map(|_| make()).collect();
        let grown = (
            (rss_kib() - rss) as f64 * 1024.0 / n as f64,
            (heap_bytes() - heap) / n as f64,
        );
        drop(kept);
        grown
    };
    let program = Arc::new(verify(assemble(&loop_program(3)).unwrap()).unwrap());
    let table = hotslot_bench::table();
    let lib = p.dir.join(library_name("footprint_c"));
    std::fs::copy(&p.c, &lib).unwrap();
    let vm_table = hotslot_bench::table();
    let _first = slot_vm(&vm_table, &program, &lib);
    let (vm_rss, vm_heap) = measure(
        &mut || {
            let mut vm = vm_table.vm(Arc::clone(&program)).unwrap();
            vm.run().unwrap();
            Box::new(vm)
        },
        N,
    );
    drop(table);
    let (table_rss, table_heap) = measure(&mut || Box::new(hotslot_bench::table()), N);
    // A bound slot: binding the 1,024-function library to 1,024 slots, less
    // binding it to one (the build itself), over the 1,023 more.
    let many = many_functions(p, 1024);
    let bound = |slots: usize| {
        let table = hotslot_bench::table();
        let program = Arc::new(verify(assemble(&importing(slots)).unwrap()).unwrap());
        let vm = table.vm_with(program, small()).unwrap();
        let heap = heap_bytes();
        table
            .bind_library(&many, &hotslot::ReloadOptions::default())
            .unwrap();
        let grown = heap_bytes() - heap;
        drop((vm, table));
        grown
    };
    let slot_heap = (bound(1024) - bound(1)) / 1023.0;
    println!(
        "  (k) a VM (default options, run once): {vm_rss:.0} B resident, {vm_heap:.0} B of heap"
    );
    println!("  (k) a slot table: {table_rss:.0} B resident, {table_heap:.0} B of heap");
    println!("  (k) a bound slot (1,024 bound, less 1 bound, per slot): {slot_heap:.0} B of heap");
    r.note(
        "footprint",
        serde_json::json!({
            "vm_resident_bytes": vm_rss, "vm_heap_bytes": vm_heap,
            "table_resident_bytes": table_rss, "table_heap_bytes": table_heap,
            "bound_slot_heap_bytes": slot_heap,
        }),
    );
}

/// (g): calls per second of 4 threads, with and without 100 reloads per second.
fn throughput(p: &Plugins, r: &mut Report) {
    const THREADS: usize = 4;
    const SECONDS: f64 = 2.0;
    const ROUNDS: usize = 5;
    println!(
        "\ncalls per second, {THREADS} threads, {SECONDS} s per measurement (median (min–max) of {ROUNDS}):"
    );
    let lib = p.dir.join(library_name("throughput"));
    std::fs::copy(&p.c, &lib).unwrap();
    let table = hotslot_bench::table();
    let program = Arc::new(verify(assemble(&loop_program(100_000)).unwrap()).unwrap());
    table.declare_program(program.program()).unwrap();
    table.bind(0, &lib, None).unwrap();
    // Besides hotslot's reloads, a control: the same number of bare
    // dlopen + dlsym + dlclose cycles of the same file, which is what any
    // in-process reload costs the other threads (page-table changes reach
    // every core running the process).
    #[derive(Clone, Copy, PartialEq)]
    enum Background {
        Nothing,
        Reloads,
        BareCycles,
    }
    let measure = |background: Background| -> (f64, usize) {
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let mut vm = table.vm_with(Arc::clone(&program), small()).unwrap();
                let (stop, calls) = (Arc::clone(&stop), Arc::clone(&calls));
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        vm.run().unwrap();
                        calls.fetch_add(100_000, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let start = Instant::now();
        let mut cycles = 0;
        while start.elapsed().as_secs_f64() < SECONDS {
            match background {
                Background::Nothing => {}
                Background::Reloads => table.reload(&lib).map(drop).unwrap(),
                Background::BareCycles => bare_cycle(&lib),
            }
            cycles += 1;
            let next = Duration::from_millis(10 * cycles as u64);
            if let Some(wait) = next.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        let cycles = if background == Background::Nothing {
            0
        } else {
            cycles
        };
        (calls.load(Ordering::Relaxed) as f64 / elapsed, cycles)
    };
    let (mut without, mut with, mut bare, mut counts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        without.push(measure(Background::Nothing).0 / 1e6);
        let (c, n) = measure(Background::Reloads);
        with.push(c / 1e6);
        counts.push(n);
        bare.push(measure(Background::BareCycles).0 / 1e6);
    }
    r.rounds.insert("tput_without".into(), without.clone());
    r.rounds.insert("tput_with".into(), with.clone());
    r.rounds.insert("tput_bare".into(), bare.clone());
    r.add(
        "tput_without",
        "(g) 4 threads, no reloads",
        "M calls/s",
        stats(without),
    );
    r.add(
        "tput_with",
        "(g) 4 threads, 100 reloads per second",
        "M calls/s",
        stats(with),
    );
    r.add(
        "tput_bare",
        "(g) 4 threads, 100 bare dlopen+dlclose cycles per second",
        "M calls/s",
        stats(bare),
    );
    r.note("tput_reloads_done", serde_json::json!(counts));
    println!("  reloads done per 2 s measurement: {counts:?}");
}

/// (h): resident memory after 10,000 reload cycles.
fn memory(p: &Plugins, r: &mut Report) {
    println!("\nresident memory over reload cycles (KiB):");
    let cycles_of = |key: &str| {
        if key == "rust_tls" {
            TLS_CYCLES
        } else {
            CYCLES
        }
    };
    let math = loop_program(10);
    let tls = ".import 0 remember (i32) -> i32\nPUSH 1\nCALL_NATIVE 0\nPOP\nHALT".to_owned();
    for (key, src, label, program) in [
        ("c", &p.c, "C", &math),
        ("rust", &p.rust, "Rust", &math),
        (
            "rust_tls",
            &p.rust_tls,
            "Rust with a thread-local destructor",
            &tls,
        ),
    ] {
        let cycles = cycles_of(key);
        let lib = p.dir.join(library_name(&format!("cycles_{key}")));
        std::fs::copy(src, &lib).unwrap();
        let table = hotslot_bench::table();
        let program = Arc::new(verify(assemble(program).unwrap()).unwrap());
        let mut vm = slot_vm(&table, &program, &lib);
        // Warm up allocator and loader caches.
        for _ in 0..100 {
            table.reload(&lib).unwrap();
            vm.run().unwrap();
        }
        let retained_before = retained_libraries().len();
        let start = rss_kib();
        for _ in 0..cycles {
            table.reload(&lib).unwrap();
            vm.run().unwrap();
        }
        table.wait_released(Duration::from_secs(5));
        let end = rss_kib();
        let retained = retained_libraries().len() - retained_before;
        let growth = end as i64 - start as i64;
        let per = if retained > 0 {
            format!(" ({} KiB each)", growth / retained as i64)
        } else {
            String::new()
        };
        println!(
            "  (h) {label}: start {start} KiB, after {cycles} cycles {end} KiB: {growth:+} KiB; retained generations: {retained}{per}"
        );
        r.note(
            &format!("memory_{key}"),
            serde_json::json!({ "cycles": cycles, "start_kib": start, "end_kib": end, "growth_kib": growth, "retained": retained }),
        );
    }
}

/// Watch mode: from the last write of a new build to the first call it serves.
fn watch_latency(p: &Plugins, r: &mut Report) {
    const ROUNDS: usize = 20;
    println!(
        "\nwatch mode: last write of a new build to the first call it serves (ms, {ROUNDS} rounds):"
    );
    let lib = p.dir.join(library_name("watched"));
    std::fs::copy(&p.c, &lib).unwrap();
    let table = hotslot_bench::table();
    let program = Arc::new(
        verify(
            assemble(".import 0 math_add (i32, i32) -> i32\nPUSH 10\nPUSH 5\nCALL_NATIVE 0\nHALT")
                .unwrap(),
        )
        .unwrap(),
    );
    table.declare_program(program.program()).unwrap();
    table.bind(0, &lib, None).unwrap();
    let _watcher = table.watch(WatchOptions::default()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut vm = table.vm(Arc::clone(&program)).unwrap();
    let mut delays = Vec::new();
    for round in 0..ROUNDS {
        let (next, expect) = if round % 2 == 0 {
            (&p.c_mul, 50)
        } else {
            (&p.c, 15)
        };
        // Write the build aside, then rename it over the library, as build
        // tools do; the rename is the last write.
        let tmp = lib.with_extension("new");
        std::fs::copy(next, &tmp).unwrap();
        let written = Instant::now();
        std::fs::rename(&tmp, &lib).unwrap();
        loop {
            vm.run().unwrap();
            if vm.stack() == [hotslot::vm::Value::I32(expect)] {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(5),
                "the watch reload did not come"
            );
            std::hint::spin_loop();
        }
        delays.push(written.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(50));
    }
    delays.sort_by(f64::total_cmp);
    let p50 = percentile(&delays, 0.5);
    let p99 = percentile(&delays, 0.99);
    println!(
        "  watch reload: p50 {p50:.1} ms, p99 {p99:.1} ms (min {:.1}, max {:.1})",
        delays[0],
        delays[ROUNDS - 1]
    );
    r.note(
        "watch_ms",
        serde_json::json!({ "p50": p50, "p99": p99, "min": delays[0], "max": delays[ROUNDS - 1] }),
    );
}

fn ratios(r: &mut Report) {
    println!(
        "\nratios (call loops: median (min–max) of the per-round ratios; others: of the medians):"
    );
    let mut json = serde_json::Map::new();
    let mut show = |label: &str, a: &str, b: &str| {
        let line = match (r.rounds.get(a), r.rounds.get(b)) {
            (Some(x), Some(y)) => {
                let s = stats(x.iter().zip(y).map(|(x, y)| x / y).collect());
                json.insert(
                    label.into(),
                    serde_json::json!({ "median": s.median, "min": s.min, "max": s.max }),
                );
                format!("{:.2} ({:.2}–{:.2})", s.median, s.min, s.max)
            }
            _ => {
                let ratio = r.median(a) / r.median(b);
                json.insert(label.into(), serde_json::json!({ "median": ratio }));
                format!("{ratio:.2}")
            }
        };
        println!("  {label:<58} {line}");
    };
    show("(a) C slot / (d) Lua 5.4 C call", "slot_c", "lua");
    show("(a) C slot / (d) wasmi host call", "slot_c", "wasmi");
    show(
        "(a) C slot / (b) the same C function without a slot",
        "slot_c",
        "noslot_c",
    );
    show("(a) C slot / (b) C linked statically", "slot_c", "static_c");
    show(
        "(a) Rust slot / (b) Rust linked statically",
        "slot_rust",
        "static_rust",
    );
    show("(a) C slot / (c) raw entry point", "slot_c", "raw_entry");
    show("(e) naive slot / (a) C slot", "naive", "slot_c");
    show(
        "(i) typed handle → C / (c) C fn pointer",
        "handle_c",
        "raw_fn",
    );
    show(
        "(i) typed handle → C / (c) raw entry point",
        "handle_c",
        "raw_entry",
    );
    show(
        "(i) read lock + dlsym / typed handle → C",
        "reloader_c",
        "handle_c",
    );
    show(
        "(i) wasmtime TypedFunc / typed handle → C",
        "wasmtime_typed",
        "handle_c",
    );
    show(
        "(f) C reload p50 / bare cycle p50",
        "reload_c_reload_p50",
        "reload_c_bare_p50",
    );
    show(
        "(f) Rust reload p50 / bare cycle p50",
        "reload_rust_reload_p50",
        "reload_rust_bare_p50",
    );
    show(
        "(f) C reload p50 / (bare cycle + copy) p50",
        "reload_c_reload_p50",
        "reload_c_bare_plus_copy_p50",
    );
    show(
        "(f) stripped Rust reload p50 / bare cycle p50",
        "reload_rust_stripped_reload_p50",
        "reload_rust_stripped_bare_p50",
    );
    show("(g) with reloads / without", "tput_with", "tput_without");
    show(
        "(g) with bare dlopen cycles / without",
        "tput_bare",
        "tput_without",
    );
    show(
        "(g) with reloads / with bare dlopen cycles",
        "tput_with",
        "tput_bare",
    );
    r.note("ratios", serde_json::Value::Object(json));
}

#[cfg(feature = "plot")]
fn plot(r: &Report, path: &Path) {
    use plotters::prelude::*;
    let bars: Vec<(&str, &Stats)> = [
        ("raw_fn", "Rust loop → C fn pointer"),
        ("raw_entry", "Rust loop → C entry point"),
        ("handle_c", "Rust loop, typed handle → C"),
        ("handle_rust", "Rust loop, typed handle → Rust"),
        ("wasmtime_typed", "Rust loop → wasmtime TypedFunc"),
        ("wasmi_typed", "Rust loop → wasmi TypedFunc"),
        ("reloader_c", "Rust loop, read lock + dlsym → C"),
        ("static_c", "hotslot VM, static C"),
        ("static_rust", "hotslot VM, static Rust"),
        ("noslot_c", "hotslot VM, dlopen'd C, no slot"),
        ("slot_c", "hotslot VM, slot → C"),
        ("slot_rust", "hotslot VM, slot → Rust"),
        ("wasmi", "wasmi → host fn"),
        ("lua", "Lua 5.4 → C fn"),
        ("naive", "naive slot (lock + dlsym)"),
    ]
    .into_iter()
    .filter_map(|(k, label)| r.rows.iter().find(|x| x.0 == k).map(|x| (label, &x.2)))
    .collect();
    if bars.is_empty() {
        return; // a partial run (HOTSLOT_BENCH) without the call loops
    }
    let max = bars.iter().map(|b| b.1.max).fold(0.0, f64::max) * 1.15;
    let root = SVGBackend::new(path, (900, 460)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "ns per native call (median, whiskers min–max)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(210)
        .build_cartesian_2d(0.0..max, (0..bars.len()).into_segmented())
        .unwrap();
    chart
        .configure_mesh()
        .y_labels(bars.len())
        .y_label_formatter(&|y| match y {
            SegmentValue::CenterOf(i) => bars.get(*i).map_or(String::new(), |b| b.0.to_owned()),
            _ => String::new(),
        })
        .x_desc("ns per call")
        .disable_y_mesh()
        .draw()
        .unwrap();
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (label, s))| {
            let color = if label.starts_with("hotslot VM, slot") {
                RED.mix(0.8)
            } else {
                BLUE.mix(0.5)
            };
            Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (s.median, SegmentValue::Exact(i + 1)),
                ],
                color.filled(),
            )
        }))
        .unwrap();
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, s))| {
            PathElement::new(
                vec![
                    (s.min, SegmentValue::CenterOf(i)),
                    (s.max, SegmentValue::CenterOf(i)),
                ],
                BLACK.stroke_width(2),
            )
        }))
        .unwrap();
    root.present().unwrap();
    println!("\nplot: {}", path.display());
}

#[cfg(not(feature = "plot"))]
fn plot(_: &Report, _: &Path) {}
