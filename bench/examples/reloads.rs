//! Reloads of one library in a loop, for profiling where a reload's time
//! goes (the benchmark's figures (f) and (j) give only the totals):
//!
//!     cargo build --release -p hotslot-bench --example reloads
//!     perf record -g target/release/examples/reloads PLUGIN.so 10000
//!     perf report --no-children
//!
//! `PLUGIN.so` is any plugin exporting `math_add (i32, i32) -> i32`; with a
//! third argument `SLOTS`, one exporting `f0` .. `f{SLOTS-1}`, each
//! `(i32) -> i32` (as the benchmark's many-function library does), all of
//! them bound.

use std::sync::Arc;

use hotslot::ReloadOptions;
use hotslot::vm::{assemble, verify};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(plugin) = args.next() else {
        eprintln!("usage: reloads PLUGIN.so [COUNT] [SLOTS]");
        std::process::exit(2);
    };
    let count: u32 = args
        .next()
        .map_or(10_000, |n| n.parse().expect("COUNT is a number"));
    let slots: Option<u32> = args.next().map(|n| n.parse().expect("SLOTS is a number"));
    let table = hotslot_bench::table();
    let source = match slots {
        None => ".import 0 math_add (i32, i32) -> i32\nHALT".to_owned(),
        Some(n) => {
            let mut s: String = (0..n)
                .map(|i| format!(".import {i} f{i} (i32) -> i32\n"))
                .collect();
            s.push_str("HALT\n");
            s
        }
    };
    let program = Arc::new(verify(assemble(&source).unwrap()).unwrap());
    let _vm = table.vm(program).unwrap();
    match slots {
        None => table.bind(0, &plugin, None),
        Some(_) => table.bind_library(&plugin, &ReloadOptions::default()),
    }
    .unwrap();
    for _ in 0..count {
        table.reload(&plugin).unwrap();
    }
}
