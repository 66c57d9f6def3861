//! Where a script module's reload goes: reading, assembling and verifying
//! the bench's module, compiling it, and the whole reload, each a median of
//! 2,000 (for profiling; the benchmark's figure (n) is the total).
//!
//!     cargo run --release -p hotslot-bench --example script_phases

use std::time::Instant;

use hotslot::ReloadOptions;
use hotslot::vm::{assemble, verify};

const SOURCE: &str = ".module score 1.0.0\n.export score\n.import 0 math_add (i32, i32) -> i32\n\
.func score (hits: i32, misses: i32) -> i32\n    LOAD hits\n    PUSH 10\n    MUL\n    \
LOAD misses\n    PUSH 3\n    MUL\n    CALL_NATIVE math_add\n    RET\n.end\n";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(n: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_nanos() as f64 / 1000.0
            })
            .collect(),
    )
}

fn main() {
    let n = 2000;
    println!(
        "assemble + verify: {:.1} µs",
        time(n, || {
            verify(assemble(SOURCE).unwrap()).unwrap();
        })
    );
    let programs: Vec<_> = (0..n)
        .map(|_| verify(assemble(SOURCE).unwrap()).unwrap())
        .collect();
    let mut it = programs.iter();
    println!(
        "compile: {:.1} µs",
        time(n, || it.next().unwrap().compile().unwrap())
    );
    drop(programs);

    let dir = tempfile::tempdir().unwrap();
    let c =
        hotslot_cbuild::build_plugin(dir.path(), "math_ops", hotslot_cbuild::MATH_OPS_C).unwrap();
    let module = dir.path().join("score.hsasm");
    std::fs::write(&module, SOURCE).unwrap();
    let table = hotslot_bench::table();
    table.bind_library(&c, &ReloadOptions::default()).unwrap();
    table
        .bind_library(&module, &ReloadOptions::default())
        .unwrap();
    let _score = table.function::<(i32, i32), i32>("score").unwrap();
    // Each reload of an edited file (written before the clock starts).
    let mut k = 0;
    let mut edited = |wait: bool| {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            k += 1;
            std::fs::write(&module, SOURCE.replace("1.0.0", &format!("1.{k}.0"))).unwrap();
            let t = Instant::now();
            table.reload(&module).unwrap();
            if wait {
                hotslot::testing::wait_for_compiles();
            }
            times.push(t.elapsed().as_nanos() as f64 / 1000.0);
        }
        median(times)
    };
    println!("reload: {:.1} µs", edited(false));
    println!("reload until compiled: {:.1} µs", edited(true));
    println!(
        "C reload: {:.1} µs",
        time(n, || {
            table.reload(&c).unwrap();
        })
    );
}
