//! Command-line parsing and dispatch.

mod asm;
mod common;
mod demo;
mod inspect;
mod repl;
mod run;
mod snapshot;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Native plugins in hot-swappable, checked slots of a bytecode VM.
#[derive(Parser)]
#[command(name = "hotslot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Open a plugin library with every check and describe it.
    Inspect(inspect::Args),
    /// The seed's hot-reload demo in one process: build, run (15), edit, rebuild, reload (50), refused reloads.
    Demo(demo::Args),
    /// Run a program with its slots bound to plugin functions.
    Run(run::Args),
    /// The seed's interactive menu: run, reload, view program and slots.
    Repl(repl::Args),
    /// Save a VM and its bindings to a file, or restore one in this process.
    #[command(subcommand)]
    Snapshot(snapshot::Command),
    /// Assemble a `.hsasm` program into `.hsbc` bytecode.
    Asm(asm::AsmArgs),
    /// Print a program as `.hsasm` text.
    Disasm(asm::DisasmArgs),
}

pub fn main() -> ExitCode {
    common::line_buffer_c_stdout();
    common::remove_copies_on_termination();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Run(args) => run::run(args),
        Command::Repl(args) => repl::run(args),
        Command::Snapshot(cmd) => snapshot::run(cmd),
        Command::Asm(args) => asm::asm(args),
        Command::Disasm(args) => asm::disasm(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hotslot: {}", hotslot::chain(&*e));
            ExitCode::FAILURE
        }
    }
}

/// What a command returns: an exit code, or an error for [`main`] to print.
pub type CmdResult = Result<ExitCode, Box<dyn std::error::Error>>;
