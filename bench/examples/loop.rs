//! The benchmark's loop, one candidate at a time, for counting instructions
//! (deterministic where time is noisy):
//!
//!     cargo build --release -p hotslot-bench --example loop
//!     valgrind --tool=callgrind target/release/examples/loop slot PLUGIN.so
//!     valgrind --tool=callgrind target/release/examples/loop noslot PLUGIN.so
//!
//! `PLUGIN.so` is a build of `bench/c/quiet_math.c`; `slot` calls its
//! `math_add` through a hot-swappable slot, `noslot` calls the same entry
//! point from the VM without one. Each makes 1,000,000 calls; the
//! difference of the two totals, divided by that, is what a slot costs per
//! call in instructions.

use std::sync::Arc;

use hotslot::vm::{StaticNatives, Vm, assemble, verify};
use hotslot::{Signature, ValType};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(plugin)) = (args.next(), args.next()) else {
        eprintln!("usage: loop slot|noslot PLUGIN.so");
        std::process::exit(2);
    };
    let n = 1_000_000;
    let src = format!(
        ".import 0 math_add (i32, i32) -> i32\nPUSH {n}\ntop:\nPUSH 10\nPUSH 5\nCALL_NATIVE 0\nPOP\nPUSH 1\nSUB\nDUP\nJNZ top\nHALT"
    );
    let program = Arc::new(verify(assemble(&src).unwrap()).unwrap());
    match mode.as_str() {
        "slot" => {
            let table = hotslot_bench::table();
            let mut vm = table.vm(program).unwrap();
            table.bind(0, &plugin, None).unwrap();
            vm.run().unwrap();
        }
        "noslot" => {
            let lib = hotslot_bench::open(plugin.as_ref());
            let entry = lib.entry("math_add").unwrap().as_raw();
            let mut natives = StaticNatives::new();
            let sig = Signature::new([ValType::I32, ValType::I32], Some(ValType::I32));
            // SAFETY: the plugin's checked descriptor says `math_add` is
            // `(i32, i32) -> i32`.
            unsafe { natives.insert(0, "math_add", sig, entry) };
            let mut vm = Vm::new(program, natives).unwrap();
            vm.run().unwrap();
        }
        other => {
            eprintln!("unknown mode `{other}`");
            std::process::exit(2);
        }
    }
}
