//! The `hotslot` command line: inspect plugins, run and debug programs, and
//! a demo of hot reload in one process.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
