//! (n) The compiled engine and script modules: how long compiling takes,
//! how a script module's reload (read, assemble, verify, compile, check,
//! swap, release) compares with a C plugin's, and what 10,000 of them
//! leave in memory.

use std::time::{Duration, Instant};

use hotslot::ReloadOptions;
use hotslot::vm::{assemble, verify};

use crate::harness::*;
use crate::plugins::*;
use crate::{CYCLES, RELOADS};

/// A function of about `n` instructions, as a user writes a long one:
/// arithmetic on locals, comparisons, branches, a call.
pub(crate) fn long_function(n: usize) -> String {
    let mut body = String::from(
        "    PUSH 3\n    CALL long\n    HALT\n.func long (x: i32) -> i32\n.local a i32\n.local b i32\n.local c i64\n",
    );
    let mut count = 0;
    let mut k = 0;
    while count < n {
        k += 1;
        body.push_str(&format!(
            "    LOAD x\n    PUSH {k}\n    ADD\n    LOAD a\n    MUL\n    PUSH 7\n    MOD\n    STORE a\n    LOAD a\n    LOAD b\n    LT\n    JZ s{k}\n    LOAD b\n    PUSH 1\n    ADD\n    STORE b\ns{k}:\n    LOAD c\n    PUSH i64 {k}\n    ADD\n    STORE c\n"
        ));
        count += 20;
    }
    body.push_str("    LOAD a\n    LOAD b\n    ADD\n    RET\n.end\n");
    body
}

pub(crate) fn scripts(p: &Plugins, r: &mut Report) {
    println!("\nthe compiled engine and script modules:");
    // Compile time of a 1,000-instruction function (the whole program:
    // the function, `main`, and each one's entry).
    let text = long_function(1000);
    let instructions = assemble(&text).unwrap().code.len();
    let mut compile = Vec::with_capacity(200);
    for _ in 0..200 {
        let program = verify(assemble(&text).unwrap()).unwrap();
        let t = Instant::now();
        program.compile().unwrap();
        compile.push(t.elapsed().as_nanos() as f64 / 1e6);
    }
    compile.sort_by(f64::total_cmp);
    let label = format!("(n) compiling a function of {instructions} instructions");
    println!(
        "  {label:<58} p50 {:.2} ms, p99 {:.2} ms",
        percentile(&compile, 0.5),
        percentile(&compile, 0.99)
    );
    r.note(
        "compile_1000",
        serde_json::json!({ "instructions": instructions, "p50_ms": percentile(&compile, 0.5), "p99_ms": percentile(&compile, 0.99) }),
    );

    // A script module's reload against the C plugin's (`reloads`).
    let module = p.dir.join("score.hsasm");
    let source = |k: u32| {
        format!(
            ".module score 1.{k}.0\n.export score\n.import 0 math_add (i32, i32) -> i32\n\
             .func score (hits: i32, misses: i32) -> i32\n    LOAD hits\n    PUSH 10\n    MUL\n    \
             LOAD misses\n    PUSH 3\n    MUL\n    CALL_NATIVE math_add\n    RET\n.end\n"
        )
    };
    std::fs::write(&module, source(0)).unwrap();
    let table = hotslot_bench::table();
    table.bind_library(&p.c, &ReloadOptions::default()).unwrap();
    table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap();
    let score = table.function::<(i32, i32), i32>("score").unwrap();
    // Each reload timed twice over: until the new build serves (its calls
    // interpreted until its code is ready), and until its compiled code
    // is ready too (the compiling thread idle).
    let mut reload = Vec::with_capacity(RELOADS);
    let mut compiled = Vec::with_capacity(RELOADS);
    for k in 0..RELOADS {
        std::fs::write(&module, source(k as u32 + 1)).unwrap();
        let t = Instant::now();
        table.reload(&module).unwrap();
        reload.push(t.elapsed().as_nanos() as f64 / 1000.0);
        hotslot::testing::wait_for_compiles();
        compiled.push(t.elapsed().as_nanos() as f64 / 1000.0);
        assert_eq!(score.call((7, 2)), Ok(76));
    }
    for (key, label, mut times) in [
        (
            "reload_script_reload_p50",
            "(n) script module reload (read, assemble, verify, check, swap)",
            reload,
        ),
        (
            "reload_script_compiled_p50",
            "(n) the same, until its compiled code is ready",
            compiled,
        ),
    ] {
        times.sort_by(f64::total_cmp);
        let p50 = percentile(&times, 0.5);
        println!(
            "  {label:<58} p50 {p50:.0} µs, p99 {:.0} µs",
            percentile(&times, 0.99)
        );
        r.rows.push((
            key.into(),
            label.into(),
            Stats {
                median: p50,
                min: times[0],
                max: times[times.len() - 1],
            },
        ));
    }

    // 10,000 reloads: the compiled code of every released build is freed.
    for _ in 0..100 {
        table.reload(&module).unwrap();
    }
    hotslot::testing::wait_for_compiles();
    table.wait_released(Duration::from_secs(5));
    let start = rss_kib();
    for _ in 0..CYCLES {
        table.reload(&module).unwrap();
        score.call((7, 2)).unwrap();
    }
    hotslot::testing::wait_for_compiles();
    table.wait_released(Duration::from_secs(5));
    let end = rss_kib();
    let growth = end as i64 - start as i64;
    println!(
        "  (n) script module: start {start} KiB, after {CYCLES} reloads {end} KiB: {growth:+} KiB"
    );
    r.note(
        "memory_script",
        serde_json::json!({ "cycles": CYCLES, "start_kib": start, "end_kib": end, "growth_kib": growth }),
    );
}
