//! hotslot's end-to-end tests, one module per behaviour. Every plugin and
//! fixture is built once per run by `hotslot_tests::built()`.

// As in the library (see its lib.rs): on Windows `SlotError` is just past
// clippy's size for an error, and stays unboxed.
#![cfg_attr(windows, allow(clippy::result_large_err))]

mod abi;
mod cli;
// The compiled engine (hotslot's default feature `jit`).
mod compiled;
mod copies;
// The README's and the book's snippets: compiled and run with the
// system's shell and C compiler, which under wine are Linux's.
#[cfg(not(windows))]
mod docs;
mod embedding;
mod faults;
mod interfaces;
// Isolated bindings run their plugin in a worker over memory files and
// futexes: Linux only, as the README says (on other systems `--isolate`
// is refused as unsupported, which `unsupported_isolation` checks).
#[cfg(target_os = "linux")]
mod isolation;
mod live;
mod messages;
mod mistakes;
mod observers;
mod programs;
mod release;
mod reload;
mod scripts;
mod watch;
