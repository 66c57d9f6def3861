//! `hotslot run PROGRAM --bind SLOT=LIB[#SYMBOL][@SHA256] ...`

use std::path::PathBuf;
use std::process::ExitCode;

use hotslot::WatchOptions;

use super::CmdResult;
use super::common::{self, Bindings, load_program};

#[derive(clap::Args)]
pub struct Args {
    /// The program: `.hsasm` text or `.hsbc` bytecode.
    program: PathBuf,
    #[command(flatten)]
    bindings: Bindings,
    /// Keep running: reload a bound library when its file changes, and run
    /// the program again after each reload (until interrupted).
    #[arg(long)]
    watch: bool,
}

pub fn run(args: Args) -> CmdResult {
    let program = load_program(&args.program)?;
    let table = args.bindings.load.table()?;
    table.declare_program(program.program())?;
    args.bindings.apply_all(&table, program.program())?;
    let mut vm = table.vm(program)?;
    if !args.watch {
        vm.run()?;
        return Ok(ExitCode::SUCCESS);
    }
    let reloads = table.subscribe();
    let _watcher = table.watch(WatchOptions::default())?;
    loop {
        if let Err(e) = vm.run() {
            eprintln!("hotslot: {}", hotslot::chain(&e));
        }
        // Wait for the next applied reload; refused ones are reported and
        // the program keeps its bindings, unchanged files change nothing.
        loop {
            let event = reloads.recv()?;
            if common::shown(&event) {
                eprintln!("hotslot: {event}");
            }
            if event.outcome.as_ref().is_ok_and(|r| !r.unchanged) {
                break;
            }
        }
    }
}
