//! Reloads of one library in a loop, for profiling where a reload's time
//! goes (the benchmark's figure (f) gives only the total):
//!
//!     cargo build --release -p hotslot-bench --example reloads
//!     perf record -g target/release/examples/reloads PLUGIN.so 10000
//!     perf report --no-children
//!
//! `PLUGIN.so` is any plugin exporting `math_add (i32, i32) -> i32`.

use std::sync::Arc;

use hotslot::vm::{assemble, verify};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(plugin) = args.next() else {
        eprintln!("usage: reloads PLUGIN.so [COUNT]");
        std::process::exit(2);
    };
    let count: u32 = args
        .next()
        .map_or(10_000, |n| n.parse().expect("COUNT is a number"));
    let program =
        Arc::new(verify(assemble(".import 0 math_add (i32, i32) -> i32\nHALT").unwrap()).unwrap());
    let table = hotslot_bench::table();
    let _vm = table.vm(program).unwrap();
    table.bind(0, &plugin, None).unwrap();
    for _ in 0..count {
        table.reload(&plugin).unwrap();
    }
}
