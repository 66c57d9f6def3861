//! Benchmarks of hotslot against its peers; `benches/hotslot.rs` is the
//! benchmark, `BENCHMARKS.md` its results. This library holds what the
//! benchmark links in statically.

use hotslot_plugin_api::{HsEntry, HsPluginDescriptor};

unsafe extern "C" {
    fn quiet_c_hotslot_plugin() -> *const HsPluginDescriptor;
    fn math_add(a: i32, b: i32) -> i32;
}

/// The entry point of the quiet C `math_add`, linked into this binary.
pub fn static_c_entry() -> HsEntry {
    // SAFETY: the C plugin linked by build.rs exports this function; it
    // returns its static descriptor, whose first function is `math_add`
    // with a non-null entry point.
    unsafe {
        let d = &*quiet_c_hotslot_plugin();
        (**d.functions).call.expect("math_add has an entry point")
    }
}

/// The quiet C `math_add` itself, linked into this binary.
pub fn static_c_math_add(a: i32, b: i32) -> i32 {
    // SAFETY: a plain C function of two ints.
    unsafe { math_add(a, b) }
}

/// The entry point of the quiet Rust `math_add`, linked in as an rlib.
pub fn static_rust_entry() -> HsEntry {
    hotslot_bench_quiet_math::math_add::entry
}

/// A slot table for the benchmark.
pub fn table() -> hotslot::SlotTable {
    // SAFETY: the benchmark loads only this project's plugins, built for it.
    unsafe { hotslot::SlotTable::new() }.expect("a slot table")
}

/// Loads one of the benchmark's plugins.
pub fn open(path: &std::path::Path) -> hotslot::plugin::Library {
    // SAFETY: as for `table`.
    unsafe { hotslot::plugin::Library::open(path, &hotslot::plugin::LoadOptions::default()) }
        .expect("the plugin loads")
}
