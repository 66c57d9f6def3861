//! The ratios the targets of BENCHMARKS.md are read from.

use crate::harness::*;

pub(crate) fn ratios(r: &mut Report) {
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
    show(
        "(n) script module reload p50 / C reload p50",
        "reload_script_reload_p50",
        "reload_c_reload_p50",
    );
    show(
        "(n) script module reload until compiled p50 / C reload p50",
        "reload_script_compiled_p50",
        "reload_c_reload_p50",
    );
    show(
        "(l) compiled native loop / wasmtime host call loop",
        "hotslot:native_loop",
        "wasmtime:native_loop",
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
