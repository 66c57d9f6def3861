//! Resources: the footprint of a table and a VM, throughput under reloads, memory over reload cycles, watch-mode latency.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hotslot::WatchOptions;
use hotslot::plugin::retained_libraries;
use hotslot::vm::{assemble, verify};

use crate::calls::loop_program;
use crate::harness::*;
use crate::plugins::*;
use crate::{CYCLES, TLS_CYCLES};

/// (k): what a VM (default options, a small program run once), a slot
/// table and a bound slot cost: resident bytes (the process's, so a VM's
/// stack pages count) and heap bytes, each the mean over many.
pub(crate) fn footprint(p: &Plugins, r: &mut Report) {
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
pub(crate) fn throughput(p: &Plugins, r: &mut Report) {
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
pub(crate) fn memory(p: &Plugins, r: &mut Report) {
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
pub(crate) fn watch_latency(p: &Plugins, r: &mut Report) {
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
