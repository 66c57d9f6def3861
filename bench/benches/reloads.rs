//! Reloads: latency of a checked reload against its floors, and how it scales.

use std::sync::Arc;
use std::time::Instant;

use hotslot::vm::{assemble, verify};

use crate::RELOADS;
use crate::calls::loop_program;
use crate::harness::*;
use crate::plugins::*;

/// (f): reload latency against a bare dlopen + dlsym + dlclose.
pub(crate) fn reloads(p: &Plugins, r: &mut Report) {
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

/// (j): how a reload's cost grows with the functions a library exports and
/// the slots bound to it, against what any reloader must do for the same
/// file (the private copy and a bare dlopen + dlsym + dlclose).
pub(crate) fn reload_scaling(p: &Plugins, r: &mut Report) {
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
