//! The benchmark's loop, one candidate at a time, for counting instructions
//! (deterministic where time is noisy):
//!
//!     cargo build --release -p hotslot-bench --example loop
//!     valgrind --tool=callgrind target/release/examples/loop slot PLUGIN.so
//!     valgrind --tool=callgrind target/release/examples/loop noslot PLUGIN.so
//!
//! `PLUGIN.so` is a build of `bench/c/quiet_math.c`; `slot` calls its
//! `math_add` through a hot-swappable slot, `noslot` calls the same entry
//! point from the VM without one; `handle` calls it from a Rust loop through
//! a typed handle, `raw` through the bare entry point. Each makes 1,000,000
//! calls; the difference of two totals, divided by that, is what a slot (or
//! a handle) costs per call in instructions. With `HOTSLOT_NO_JIT` set, the
//! VM loops run on the interpreter instead of compiled.

use std::hint::black_box;
use std::sync::Arc;

use hotslot::vm::{JitOptions, StaticNatives, Vm, VmOptions, assemble, verify};
use hotslot::{Signature, ValType};
use hotslot_plugin_api::HsValue;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(plugin)) = (args.next(), args.next()) else {
        eprintln!("usage: loop slot|noslot|handle|raw PLUGIN.so");
        std::process::exit(2);
    };
    let n = 1_000_000;
    let src = format!(
        ".import 0 math_add (i32, i32) -> i32\nPUSH {n}\ntop:\nPUSH 10\nPUSH 5\nCALL_NATIVE 0\nPOP\nPUSH 1\nSUB\nDUP\nJNZ top\nHALT"
    );
    let program = Arc::new(verify(assemble(&src).unwrap()).unwrap());
    let options = VmOptions {
        jit: JitOptions {
            enabled: std::env::var_os("HOTSLOT_NO_JIT").is_none(),
        },
        ..VmOptions::default()
    };
    match mode.as_str() {
        "slot" => {
            let table = hotslot_bench::table();
            let mut vm = table.vm_with(program, options).unwrap();
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
            let mut vm = Vm::with_options(program, natives, options).unwrap();
            vm.run().unwrap();
        }
        "handle" => {
            let table = hotslot_bench::table();
            table
                .bind_library(&plugin, &hotslot::ReloadOptions::default())
                .unwrap();
            let add = table.function::<(i32, i32), i32>("math_add").unwrap();
            for _ in 0..n {
                black_box(add.call((10, 5)).unwrap());
            }
        }
        "raw" => {
            let lib = hotslot_bench::open(plugin.as_ref());
            let entry = lib.entry("math_add").unwrap().as_raw();
            let args = [HsValue { i32: 10 }, HsValue { i32: 5 }];
            let mut out = HsValue::ZERO;
            for _ in 0..n {
                // SAFETY: the plugin's checked descriptor says `math_add` is
                // `(i32, i32) -> i32`; `out` is read at that width.
                let result = unsafe {
                    let s = entry(std::ptr::null_mut(), black_box(args.as_ptr()), 2, &mut out);
                    (s, out.i32)
                };
                black_box(result);
            }
        }
        other => {
            eprintln!("unknown mode `{other}`");
            std::process::exit(2);
        }
    }
}
