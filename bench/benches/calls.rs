//! Call loops: the native call through a slot, its floors and peers.

use std::hint::black_box;
use std::sync::{Arc, Mutex};

use hotslot::vm::{StaticNatives, Vm, assemble, verify};
use hotslot::{Signature, ValType};
use hotslot_plugin_api::HsValue;

use crate::harness::*;
use crate::plugins::*;
use crate::{CALLS, REPEAT};

/// The measured loop: `PUSH a; PUSH b; CALL_NATIVE 0; POP; decrement;
/// jump if not zero`, with the counter kept on the stack.
pub(crate) fn loop_program(n: i32) -> String {
    format!(
        ".import 0 math_add (i32, i32) -> i32
            PUSH {n}
        top:
            PUSH 10
            PUSH 5
            CALL_NATIVE 0
            POP
            PUSH 1
            SUB
            DUP
            JNZ top
            HALT"
    )
}

/// (a) to (e): ns per call from a loop. The candidates take turns, round
/// after round, so that the machine's noise falls on all of them alike.
pub(crate) fn calls(p: &Plugins, r: &mut Report) {
    println!("\nns per call (median (min–max) over {REPEAT} rounds of {CALLS} calls each):");
    let program = Arc::new(verify(assemble(&loop_program(CALLS)).unwrap()).unwrap());
    let mut all = Vec::new();

    // (a) through a hot-swappable slot.
    for (key, label, lib) in [
        (
            "slot_c",
            "(a) hotslot VM, hot-swappable slot, C math_add",
            &p.c,
        ),
        (
            "slot_rust",
            "(a) hotslot VM, hot-swappable slot, Rust math_add",
            &p.rust,
        ),
    ] {
        let table = hotslot_bench::table();
        let mut vm = slot_vm(&table, &program, lib);
        all.push(candidate(key, label, move || {
            let _keep = &table;
            run_vm(&mut vm);
        }));
    }

    // (b) no slot: the C and Rust functions linked into the binary, and the
    // very function the slot calls (the dlopen'd C build) called directly.
    let i32x2 = Signature::new([ValType::I32, ValType::I32], Some(ValType::I32));
    let dlopened = hotslot_bench::open(&p.c);
    let dlopened_entry = dlopened.entry("math_add").unwrap().as_raw();
    let keep = Arc::new(dlopened);
    for (key, label, entry) in [
        (
            "static_c",
            "(b) hotslot VM, C math_add linked statically",
            hotslot_bench::static_c_entry(),
        ),
        (
            "noslot_c",
            "(b) hotslot VM, the dlopen'd C math_add, no slot",
            dlopened_entry,
        ),
        (
            "static_rust",
            "(b) hotslot VM, Rust math_add linked statically",
            hotslot_bench::static_rust_entry(),
        ),
    ] {
        let mut natives = StaticNatives::new();
        // SAFETY: every entry follows the ABI for `(i32, i32) -> i32`.
        unsafe { natives.insert(0, "math_add", i32x2.clone(), entry) };
        let mut vm = Vm::with_options(Arc::clone(&program), natives, small()).unwrap();
        let keep = Arc::clone(&keep);
        all.push(candidate(key, label, move || {
            let _keep = &keep;
            run_vm(&mut vm);
        }));
    }

    // (c) the floor: a Rust loop calling the dlopen'd entry point, and the
    // plain C function under it.
    let lib = hotslot_bench::open(&p.c);
    let entry = lib.entry("math_add").unwrap().as_raw();
    all.push(candidate(
        "raw_entry",
        "(c) Rust loop, dlopen'd C entry point via fn pointer",
        move || {
            let _keep = &lib;
            let args = [HsValue { i32: 10 }, HsValue { i32: 5 }];
            let mut out = HsValue::ZERO;
            for _ in 0..CALLS {
                // SAFETY: the entry takes two i32 arguments and writes an i32,
                // read back at its own width.
                let result = unsafe {
                    let s = entry(std::ptr::null_mut(), black_box(args.as_ptr()), 2, &mut out);
                    (s, out.i32)
                };
                black_box(result);
            }
        },
    ));
    let raw_lib = Arc::new(unsafe_open(&p.c));
    let raw = raw_math_add(&raw_lib);
    let keep = Arc::clone(&raw_lib);
    all.push(candidate(
        "raw_fn",
        "(c) Rust loop, dlopen'd C math_add(int, int) via fn pointer",
        move || {
            let _keep = &keep;
            for _ in 0..CALLS {
                // SAFETY: a plain C function of two ints.
                black_box(unsafe { black_box(raw)(black_box(10), black_box(5)) });
            }
        },
    ));

    // (i) the host application's own calls, from a Rust loop: through a
    // typed handle (checked, following reloads), and the same call the way
    // hot-lib-reloader makes it (a read lock and a symbol lookup per call).
    for (key, label, lib) in [
        (
            "handle_c",
            "(i) Rust loop, typed handle to the C math_add",
            &p.c,
        ),
        (
            "handle_rust",
            "(i) Rust loop, typed handle to the Rust math_add",
            &p.rust,
        ),
    ] {
        let table = hotslot_bench::table();
        table
            .bind_library(lib, &hotslot::ReloadOptions::default())
            .unwrap();
        let add = table.function::<(i32, i32), i32>("math_add").unwrap();
        all.push(candidate(key, label, move || {
            let _keep = &table;
            for _ in 0..CALLS {
                black_box(add.call((10, 5)).unwrap());
            }
        }));
    }
    let reloader = std::sync::RwLock::new(unsafe_open(&p.c));
    all.push(candidate(
        "reloader_c",
        "(i) Rust loop, C math_add via read lock + dlsym per call",
        move || {
            for _ in 0..CALLS {
                let lib = reloader.read().unwrap();
                // SAFETY: as in `raw_math_add`; the symbol is used under
                // the lock that keeps the library loaded.
                let f = unsafe { lib.get::<unsafe extern "C" fn(i32, i32) -> i32>(b"math_add\0") }
                    .unwrap();
                // SAFETY: a plain C function of two ints.
                black_box(unsafe { f(black_box(10), black_box(5)) });
            }
        },
    ));

    // (d) the peer runtimes.
    #[cfg(feature = "peers")]
    all.extend(crate::peers::candidates(raw));
    #[cfg(not(feature = "peers"))]
    println!("  (d), (i) Lua 5.4, wasmi and wasmtime: left out (build with --features peers)");

    // (e) the naive peer.
    let naive = NaiveSlot {
        lib: Mutex::new(unsafe_open(&p.c)),
    };
    let mut vm = Vm::with_options(Arc::clone(&program), naive, small()).unwrap();
    all.push(candidate(
        "naive",
        "(e) hotslot VM, naive slot (lock + dlsym per call)",
        move || run_vm(&mut vm),
    ));

    let samples = rounds(&mut all, REPEAT, f64::from(CALLS));
    for (c, s) in all.iter().zip(samples) {
        r.rounds.insert(c.key.into(), s.clone());
        r.add(c.key, c.label, "ns/call", stats(s));
    }
    drop(raw_lib);
}
