//! Command-line parsing and dispatch.

mod inspect;

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
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hotslot: {}", one_line(&*e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line: `what: why: root cause`.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// What a command returns: an exit code, or an error for [`main`] to print.
pub type CmdResult = Result<ExitCode, Box<dyn std::error::Error>>;
