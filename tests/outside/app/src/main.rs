//! A host application that embeds hotslot (with its default features off)
//! and calls plugin functions itself, through typed handles.
//!
//! ```text
//! embedder C_LIB C_OTHER RUST_LIB RUST_OTHER PANICKY GREETER
//! ```
//!
//! `C_LIB` and `C_OTHER` are two builds of a C plugin, `RUST_LIB` and
//! `RUST_OTHER` two of a Rust plugin; each exports `op (i32, i32) -> i32`,
//! adding in the first build and multiplying in the other. Two threads
//! call both `op`s without pause while the main thread
//! installs the other build over each library and reloads it, again and
//! again. Then: a signature the plugin does not have, a panicking plugin
//! (`PANICKY`), and a plugin built outside hotslot's workspace
//! (`GREETER`). Every outcome is printed; any surprise exits with 1.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use hotslot::{CallError, FunctionOptions, ReloadOptions, SlotError, SlotTable, TypedFunc};

/// Reloads of each library while the threads call.
const SWAPS: usize = 20;

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [c_lib, c_other, rust_lib, rust_other, panicky, greeter] = paths.as_slice() else {
        eprintln!("usage: embedder C_LIB C_OTHER RUST_LIB RUST_OTHER PANICKY GREETER");
        std::process::exit(2);
    };
    if let Err(e) = run(c_lib, c_other, rust_lib, rust_other, panicky, greeter) {
        eprintln!("embedder: {}", hotslot::chain(&*e));
        std::process::exit(1);
    }
}

fn run(
    c_lib: &Path,
    c_other: &Path,
    rust_lib: &Path,
    rust_other: &Path,
    panicky: &Path,
    greeter: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    // SAFETY: every library this program loads is a build of code it
    // trusts: loading one runs its initializers.
    let table = unsafe { SlotTable::new() }?;
    let options = ReloadOptions {
        // The builds alternate: every other reload goes back a version.
        allow_downgrade: true,
        ..ReloadOptions::default()
    };
    table.bind_library(c_lib, &options)?;
    table.bind_library(rust_lib, &options)?;
    // Both libraries export `op`: each handle names its library.
    let in_library = |lib: &Path| FunctionOptions {
        library: Some(lib.to_owned()),
        ..FunctionOptions::default()
    };
    let c_op = table.function_with::<(i32, i32), i32>("op", &in_library(c_lib))?;
    let rust_op = table.function_with::<(i32, i32), i32>("op", &in_library(rust_lib))?;
    println!("C op(10, 5) = {}", c_op.call((10, 5))?);
    println!("Rust op(10, 5) = {}", rust_op.call((10, 5))?);

    // Two threads call both functions while the libraries are rebuilt
    // under them: every answer is one build's or the other's.
    let stop = Arc::new(AtomicBool::new(false));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (c_op, rust_op, stop) = (c_op.clone(), rust_op.clone(), Arc::clone(&stop));
            thread::spawn(move || call_until(&stop, &c_op, &rust_op))
        })
        .collect();
    let keep = [
        (c_lib, std::fs::read(c_lib)?),
        (rust_lib, std::fs::read(rust_lib)?),
    ];
    let other = [(c_lib, c_other), (rust_lib, rust_other)];
    for swap in 0..SWAPS {
        for (i, (lib, other)) in other.iter().enumerate() {
            if swap % 2 == 0 {
                install(&std::fs::read(other)?, lib)?;
            } else {
                install(&keep[i].1, keep[i].0)?;
            }
            table.reload_with(lib, &options)?;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut calls = [0_u64; 2];
    for caller in callers {
        let counts = caller.join().expect("a caller thread panicked")?;
        calls[0] += counts[0];
        calls[1] += counts[1];
    }
    println!(
        "{SWAPS} reloads of each library while 2 threads called: \
         {} calls answered 15, {} answered 50, none failed",
        calls[0], calls[1]
    );
    // The last reload installed the first builds again.
    println!("C op(10, 5) = {}", c_op.call((10, 5))?);
    println!("Rust op(10, 5) = {}", rust_op.call((10, 5))?);

    // Typed errors: a signature the plugin does not have ...
    match table.function_with::<(f64, f64), f64>("op", &in_library(c_lib)) {
        Err(e @ SlotError::Signature { .. }) => println!("mismatch: {e}"),
        other => return Err(format!("a mismatched handle: {other:?}").into()),
    }
    // ... and a plugin that panics, after which it is called again.
    table.bind_library(panicky, &ReloadOptions::default())?;
    let boom = table.function::<i32, i32>("boom")?;
    for n in [7, 8] {
        match boom.call(n) {
            Err(e @ CallError::Panic { .. }) => println!("panic: {e}"),
            other => return Err(format!("a panicking call: {other:?}").into()),
        }
    }

    // A plugin built outside hotslot's workspace, strings both ways.
    table.bind_library(greeter, &ReloadOptions::default())?;
    let greet = table.function::<(String, bool), String>("greet")?;
    println!("greet: {}", greet.call(("embedder", false))?);
    println!("greet: {}", greet.call(("embedder", true))?);

    // Once no handle holds them, the replaced builds are released.
    drop((c_op, rust_op, boom, greet));
    if !table.pending_releases().is_empty() {
        table.reclaim();
    }
    println!("builds still held: {}", table.pending_releases().len());
    Ok(())
}

/// Calls the `op`s until told to stop; how many answered 15 (the adding
/// builds) and 50 (the multiplying ones).
fn call_until(
    stop: &AtomicBool,
    c_op: &TypedFunc<(i32, i32), i32>,
    rust_op: &TypedFunc<(i32, i32), i32>,
) -> Result<[u64; 2], String> {
    let mut counts = [0; 2];
    while !stop.load(Ordering::Relaxed) {
        for f in [c_op, rust_op] {
            match f.call((10, 5)) {
                Ok(15) => counts[0] += 1,
                Ok(50) => counts[1] += 1,
                other => return Err(format!("`{}` answered {other:?}", f.name())),
            }
        }
    }
    Ok(counts)
}

/// Replaces `lib` with `bytes` as a build does: written aside, then renamed
/// over it.
fn install(bytes: &[u8], lib: &Path) -> std::io::Result<()> {
    let aside = lib.with_extension("new");
    std::fs::write(&aside, bytes)?;
    std::fs::rename(&aside, lib)
}
