//! `hotslot run PROGRAM --bind SLOT=LIB[#SYMBOL][@SHA256] ...`

use std::path::PathBuf;
use std::process::ExitCode;

use hotslot::WatchOptions;

use super::CmdResult;
use super::common::{BindSpec, LoadArgs, bind_all, load_program};

#[derive(clap::Args)]
pub struct Args {
    /// The program: `.hsasm` text or `.hsbc` bytecode.
    program: PathBuf,
    /// Binds a slot: SLOT=LIBRARY[#SYMBOL][@SHA256]; the symbol defaults to the import's name.
    #[arg(long = "bind", value_name = "SLOT=LIB[#SYMBOL][@SHA256]")]
    binds: Vec<BindSpec>,
    /// Keep running: reload a bound library when its file changes, and run
    /// the program again after each reload (until interrupted).
    #[arg(long)]
    watch: bool,
    #[command(flatten)]
    load: LoadArgs,
}

pub fn run(args: Args) -> CmdResult {
    let program = load_program(&args.program)?;
    let table = args.load.table()?;
    table.declare_program(program.program())?;
    bind_all(&table, &args.binds)?;
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
            eprintln!("hotslot: {event}");
            if event.outcome.as_ref().is_ok_and(|r| !r.unchanged) {
                break;
            }
        }
    }
}
