//! The `hotslot` command line: inspect plugins, run and debug programs, and
//! the seed's hot-reload demo in one process.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
