//! hotslot: native functions in hot-swappable, checked slots, called by a
//! bytecode VM or by the host application itself.
//!
//! A *plugin* is a shared library, written in Rust (with
//! `hotslot_plugin_api::plugin!`) or in C (with `hotslot_shim.h`), that
//! describes its functions: names, signatures, versions. A [`SlotTable`]
//! loads plugins, checks every build before it serves (its ABI, each
//! function's signature and version, the file itself), and swaps new builds
//! in while calls run: a call in flight finishes on the build it started
//! on, which is released once no call can be running in it.
//!
//! # Calling a plugin from Rust, and reloading it
//!
//! A typed handle ([`TypedFunc`]) is checked against the plugin's
//! descriptor when it is made and at every reload, and follows reloads:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // A C plugin `math` with `math_add (i32, i32) -> i32`, built here
//! # // with the system's C compiler.
//! # let dir = tempfile::tempdir()?;
//! # let plugin = dir.path().join(format!(
//! #     "{}math{}",
//! #     std::env::consts::DLL_PREFIX,
//! #     std::env::consts::DLL_SUFFIX
//! # ));
//! # hotslot_cbuild::write_headers(dir.path())?;
//! # let cc = hotslot_cbuild::CCompiler::find()?;
//! # let build = |op: &str| -> Result<(), Box<dyn std::error::Error>> {
//! #     let source = dir.path().join("math.c");
//! #     std::fs::write(
//! #         &source,
//! #         format!(
//! #             "#include \"hotslot_shim.h\"\n\
//! #              static int math_add(int a, int b) {{ return {op}; }}\n\
//! #              HS_FUNCTION(i32, math_add, (i32, i32), 1, 0, 0)\n\
//! #              HS_PLUGIN(\"math\", 1, 0, 0, math_add)\n"
//! #         ),
//! #     )?;
//! #     Ok(cc.build(&source, &plugin, &[dir.path()], &[])?)
//! # };
//! # build("a + b")?;
//! use hotslot::{ReloadOptions, SlotError, SlotTable};
//!
//! // SAFETY: the libraries bound are this program's own builds (loading
//! // one runs its initializers, which no check can vouch for).
//! let table = unsafe { SlotTable::new() }?;
//! table.bind_library(&plugin, &ReloadOptions::default())?;
//! let add = table.function::<(i32, i32), i32>("math_add")?;
//! assert_eq!(add.call((10, 5))?, 15);
//!
//! // The plugin is rebuilt (`a * b` now) and reloaded: the new build is
//! // checked, then swapped in; the handle's next call runs it. (In a
//! // running program, `table.watch(..)` reloads on every rebuild.)
//! # build("a * b")?;
//! table.reload(&plugin)?;
//! assert_eq!(add.call((10, 5))?, 50);
//!
//! // A signature the plugin does not have is a typed error, not a crash.
//! let wrong = table.function::<(f64, f64), f64>("math_add");
//! assert!(matches!(wrong, Err(SlotError::Signature { .. })));
//! # Ok(()) }
//! ```
//!
//! # A VM whose natives are linked into the host
//!
//! A plugin can also be linked into the host (a [`LinkedPlugin`]) and bound
//! like a file, with the same checks; a VM calls it through the table's
//! slots (or, with no table, through [`vm::StaticNatives`]):
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//!
//! use hotslot::plugin::LinkedPlugin;
//! use hotslot::vm::{Value, assemble, verify};
//! use hotslot::{ReloadOptions, SlotTable};
//!
//! mod math {
//!     hotslot_plugin_api::plugin! {
//!         name = "math";
//!         version = "1.0.0";
//!
//!         /// Adds two integers.
//!         pub fn math_add(a: i32, b: i32) -> i32 {
//!             a.wrapping_add(b)
//!         }
//!     }
//! }
//!
//! // SAFETY: the exports the `plugin!` macro defines keep the ABI's
//! // promises.
//! const MATH: LinkedPlugin = unsafe {
//!     LinkedPlugin::new(math::hotslot_plugin, math::get_version, Some(math::hotslot_rust_layout))
//! };
//!
//! let program = assemble(
//!     ".import 0 math_add (i32, i32) -> i32
//!          PUSH 10
//!          PUSH 5
//!          CALL_NATIVE 0
//!          HALT",
//! )?;
//! // SAFETY: no library file is loaded.
//! let table = unsafe { SlotTable::new() }?;
//! // The VM declares slot 0 as `(i32, i32) -> i32` ...
//! let mut vm = table.vm(Arc::new(verify(program)?))?;
//! // ... and binding checks the function against that.
//! table.bind_linked(&MATH, &[(0, None)], &ReloadOptions::default())?;
//! vm.run()?;
//! assert_eq!(vm.stack(), [Value::I32(15)]);
//! # Ok(()) }
//! ```
//!
//! # Where things happen
//!
//! From the bottom layer up (each uses only those below it; the book's
//! "The code's layers" draws them):
//!
//! - **The VM** (`vm/`): the instruction set in one table (`vm/isa.rs`),
//!   the assembler (`vm/asm.rs`), the binary form (`vm/bytecode.rs`), the
//!   verifier (`vm/verify.rs`), the lowering to the executable form
//!   (`vm/lower.rs`), the dispatch loop (`vm/exec.rs`), the compiled
//!   engine (`vm/jit/mod.rs`: Cranelift, one function at a time,
//!   `vm/jit/translate.rs`) and the choice between them (`vm/run.rs`).
//! - **The loader** (`plugin/`): the steps of an open, in order, in
//!   `plugin/open.rs`: who could have written the file (`plugin/trust.rs`),
//!   its format and size (`plugin/precheck.rs`), the private copy (a sealed
//!   memory file, `plugin/copy/memory.rs`, or a file of the host's own,
//!   `plugin/copy/dir.rs`), the hash pin and the file's structure
//!   (`plugin/content.rs`, `plugin/image.rs`), the dynamic loader
//!   (`plugin/loader.rs`), the descriptor read and checked field by field
//!   (`plugin/exports.rs`, `plugin/descriptor.rs`, `plugin/structs.rs`).
//! - **Isolation** (`isolate/`): a build in a worker process
//!   (`isolate/open.rs`), the shared-memory channel (`isolate/channel.rs`),
//!   the supervisor (`isolate/supervisor.rs`).
//! - **Script modules** (`script/mod.rs`): a `.hsasm` or `.hsbc` file read
//!   under the loader's first checks (`plugin/read.rs`), verified and
//!   described as a plugin, its functions run on the host's machines.
//! - **The transaction** (`slots/transaction.rs`): a bind or reload checks
//!   every slot the build (`slots/build.rs`) would serve, moves state
//!   between builds, and either commits all of it or changes nothing.
//! - **Publishing and release** (`slots/publish.rs`): the table's slots
//!   are an immutable snapshot, replaced with one atomic swap; a replaced
//!   snapshot (and the builds only it holds) is freed once no reader's
//!   hazard names it, which the module's docs prove and its loom models
//!   check.
//! - **The call path**: a VM's `CALL_NATIVE` goes through its reader's
//!   snapshot (`slots/reader.rs`, `vm/exec.rs`), a typed handle's call
//!   through its own (`slots/handle.rs`); both are a load of the slot's
//!   entry point and an indirect call.
//!
//! # Features
//!
//! - `jit` (default): programs and script modules compiled to native code
//!   with Cranelift ([`vm::JitOptions`]); without it, the interpreter runs
//!   them.
//! - `cli` (default): the `hotslot` command line; implies `watch` and
//!   `snapshot`. A host application that embeds hotslot turns the
//!   defaults off (`default-features = false`) and compiles none of its
//!   dependencies (argument parsing, logging setup, JSON).
//! - `watch`: [`SlotTable::watch`], reloading a library when its file
//!   changes (the `notify` crate).
//! - `snapshot`: [`snapshot`], a VM and its bindings saved to a file and
//!   restored in another process (`serde`, `serde_json`).

#![deny(missing_docs)]
// A Windows path is 8 bytes longer than a Unix one, which takes
// `SlotError` (a path and the loader's error, itself with a path and two
// hashes) just past clippy's size for an error. Refusals are the rare,
// slow path; boxing the loader's error would hide it from an error chain's
// `downcast_ref`, which the command line (and users) rely on.
#![cfg_attr(windows, allow(clippy::result_large_err))]

mod chain;
mod failure;
pub mod isolate;
pub mod plugin;
mod routed;
pub mod script;
mod slots;
#[cfg(feature = "snapshot")]
pub mod snapshot;
mod sync;
#[doc(hidden)]
pub mod testing;
pub mod typed;
mod types;
pub mod vm;

/// The READMEs and every page of the book, whose Rust snippets are compiled
/// and run as doc tests (`tests/all/docs.rs` checks that none is missing).
#[cfg(doctest)]
mod book {
    #[doc = include_str!("../../README.md")]
    struct Readme;
    #[doc = include_str!("../../c-shim/README.md")]
    struct CShimReadme;
    #[doc = include_str!("../../c-shim/cbuild/README.md")]
    struct CbuildReadme;
    #[doc = include_str!("../../plugin-api/README.md")]
    struct PluginApiReadme;
    #[doc = include_str!("../../docs/src/introduction.md")]
    struct Introduction;
    #[doc = include_str!("../../docs/src/getting-started.md")]
    struct GettingStarted;
    #[doc = include_str!("../../docs/src/embedding.md")]
    struct Embedding;
    #[doc = include_str!("../../docs/src/rust-plugins.md")]
    struct RustPlugins;
    #[doc = include_str!("../../docs/src/c-plugins.md")]
    struct CPlugins;
    #[doc = include_str!("../../docs/src/interfaces.md")]
    struct Interfaces;
    #[doc = include_str!("../../docs/src/programs.md")]
    struct Programs;
    #[doc = include_str!("../../docs/src/assembly.md")]
    struct Assembly;
    #[doc = include_str!("../../docs/src/instructions.md")]
    struct Instructions;
    #[doc = include_str!("../../docs/src/scripts.md")]
    struct Scripts;
    #[doc = include_str!("../../docs/src/cli.md")]
    struct Cli;
    #[doc = include_str!("../../docs/src/live.md")]
    struct Live;
    #[doc = include_str!("../../docs/src/isolation.md")]
    struct Isolation;
    #[doc = include_str!("../../docs/src/trust.md")]
    struct Trust;
    #[doc = include_str!("../../docs/src/reliability.md")]
    struct Reliability;
    #[doc = include_str!("../../docs/src/platforms.md")]
    struct Platforms;
    #[doc = include_str!("../../docs/src/performance.md")]
    struct Performance;
    #[doc = include_str!("../../docs/src/api.md")]
    struct Api;
    #[doc = include_str!("../../docs/src/architecture.md")]
    struct Architecture;
}

pub use chain::chain;
#[cfg(doc)]
use plugin::LinkedPlugin;
pub use plugin::{AbiError, CopyDirError, LoadError, NameError, TrustError};
pub use slots::{
    BoundInfo, LibraryInfo, PendingRelease, ReloadEvent, ReloadKind, ReloadOptions, ReloadReport,
    SlotCalls, SlotInfo, SlotReader, SlotTable, StateTransfer, Swap, TableOptions,
};
pub use slots::{CallError, SlotError};
pub use slots::{FunctionOptions, TypedFunc};
#[cfg(feature = "watch")]
pub use slots::{WatchOptions, Watcher};
pub use types::{Signature, SignatureParseError, UnknownTag, ValType};
pub use vm::{
    AsmError, AsmErrorKind, DecodeError, DecodeErrorKind, Fault, LinkError, VerifyError,
    VerifyErrorKind, VmError,
};
