//! Command-line parsing and dispatch.

mod asm;
mod common;
mod demo;
mod header;
mod inspect;
mod programs;
mod repl;
mod snapshot;

use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};

/// Native plugins in hot-swappable, checked slots of a bytecode VM.
#[derive(Parser)]
#[command(
    name = "hotslot",
    version,
    about,
    after_help = "Exit status: 0 success; 1 an error of another kind (a file that cannot be read, a program that does not assemble or verify); 2 a usage error; 3 a library, a binding or a link refused; 4 the program faulted while it ran."
)]
struct Cli {
    /// More log output on stderr: -v each reload, -vv details. `RUST_LOG` overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    /// Log errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Open a plugin library with every check and describe it.
    Inspect(inspect::Args),
    /// Hot reload end to end, in one process: build a C plugin, run (15), edit, rebuild, reload (50), two refused reloads.
    Demo(demo::Args),
    /// Run a program with its slots bound to plugin functions.
    Run(programs::Args),
    /// An interactive menu: run the program, load or reload a library, view the program and the slots, roll back, snapshots.
    Repl(repl::Args),
    /// Save a VM and its bindings to a file, or restore one in this process.
    #[command(subcommand)]
    Snapshot(snapshot::Command),
    /// Assemble a `.hsasm` program into `.hsbc` bytecode.
    Asm(asm::AsmArgs),
    /// Print a program as `.hsasm` text.
    Disasm(asm::DisasmArgs),
    /// Write the C headers a plugin is built with (`hotslot.h`, `hotslot_shim.h`).
    Header(header::Args),
}

/// How `hotslot` exits, beyond success (0) and clap's usage errors (2).
mod exit {
    /// An error of another kind.
    pub const FAILURE: u8 = 1;
    /// A library, a binding or a link refused.
    pub const REFUSED: u8 = 3;
    /// The program faulted while it ran.
    pub const FAULT: u8 = 4;
}

/// The exit status for an error: decided by the first error in its chain
/// that says what kind of failure it is.
fn exit_code(e: &(dyn std::error::Error + 'static)) -> u8 {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if e.is::<hotslot::VmError>() {
            return exit::FAULT;
        }
        // A boxed error is its own type in a chain (and its `source` is
        // its content's): look for both.
        if e.is::<hotslot::SlotError>()
            || e.is::<Box<hotslot::SlotError>>()
            || e.is::<hotslot::script::ScriptError>()
            || e.is::<Box<hotslot::script::ScriptError>>()
            || e.is::<hotslot::LoadError>()
            || e.is::<hotslot::LinkError>()
            || e.is::<hotslot::TrustError>()
            || e.is::<common::Unbound>()
        {
            return exit::REFUSED;
        }
        cause = e.source();
    }
    exit::FAILURE
}

/// Logs to stderr: warnings by default, more with -v, errors only with -q.
fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, _) => log::LevelFilter::Debug,
    };
    env_logger::Builder::new()
        .filter_level(level)
        .parse_env("RUST_LOG")
        .format(|buf, record| {
            use std::io::Write;
            writeln!(
                buf,
                "hotslot: {}: {}",
                record.level().as_str().to_ascii_lowercase(),
                record.args()
            )
        })
        .init();
}

pub fn main() -> ExitCode {
    common::line_buffer_c_stdout();
    common::remove_copies_on_termination();
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Run(args) => programs::run(args),
        Command::Repl(args) => repl::run(args),
        Command::Snapshot(cmd) => snapshot::run(cmd),
        Command::Asm(args) => asm::asm(args),
        Command::Disasm(args) => asm::disasm(args),
        Command::Header(args) => header::header(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hotslot: {}", hotslot::chain(&*e));
            ExitCode::from(exit_code(&*e))
        }
    }
}

/// What a command returns: an exit code, or an error for [`main`] to print.
pub type CmdResult = Result<ExitCode, Box<dyn std::error::Error>>;
