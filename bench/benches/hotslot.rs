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

mod calls;
mod harness;
#[cfg(target_os = "linux")]
mod isolated;
#[cfg(feature = "peers")]
mod peers;
mod plot;
mod plugins;
mod programs;
mod ratios;
mod reloads;
mod resources;
mod scripts;
mod suite;

use calls::*;
use harness::*;
#[cfg(target_os = "linux")]
use isolated::*;
use plot::*;
use plugins::*;
use ratios::*;
use reloads::*;
use resources::*;

/// Calls per loop measurement.
pub(crate) const CALLS: i32 = 2_000_000;
/// Rounds of loop measurements: every candidate runs once per round.
pub(crate) const REPEAT: usize = 21;
/// Swaps for the reload latency figures.
pub(crate) const RELOADS: usize = 1000;
/// Reload cycles for the memory figures.
pub(crate) const CYCLES: usize = 10_000;
/// Reload cycles of the plugin the system keeps mapped: each one stays.
pub(crate) const TLS_CYCLES: usize = 200;

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
    if wanted("scripts") {
        scripts::scripts(&p, &mut r);
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
