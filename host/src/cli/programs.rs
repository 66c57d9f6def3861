//! `hotslot run PROGRAM... --bind SLOT=LIB[#SYMBOL][@SHA256] ...`

use std::path::PathBuf;
use std::process::ExitCode;

use hotslot::WatchOptions;

use super::CmdResult;
use super::common::{self, Bindings, load_program};

#[derive(clap::Args)]
pub struct Args {
    /// The program: `.hsasm` text or `.hsbc` bytecode. With several, each runs in turn with the same bindings; one that faults does not stop the others (the exit status says a program faulted).
    #[arg(required = true)]
    programs: Vec<PathBuf>,
    #[command(flatten)]
    bindings: Bindings,
    /// Keep running: reload a bound library when its file changes, and run
    /// the program again after each reload (until interrupted).
    #[arg(long)]
    watch: bool,
}

pub fn run(args: Args) -> CmdResult {
    let programs = args
        .programs
        .iter()
        .map(|p| load_program(p))
        .collect::<Result<Vec<_>, _>>()?;
    let table = args.bindings.load.table()?;
    for program in &programs {
        table.declare_program(program.program())?;
    }
    let each: Vec<_> = programs.iter().map(|p| p.program()).collect();
    args.bindings.apply_all(&table, &each)?;
    let mut vms = programs
        .into_iter()
        .map(|p| table.vm(p))
        .collect::<Result<Vec<_>, _>>()?;
    if !args.watch {
        if let [vm] = &mut vms[..] {
            vm.run()?;
            return Ok(ExitCode::SUCCESS);
        }
        // Each in turn; a fault is reported and the next one runs.
        let mut faulted = false;
        for (vm, path) in vms.iter_mut().zip(&args.programs) {
            if let Err(e) = vm.run() {
                eprintln!("hotslot: {}: {}", path.display(), hotslot::chain(&e));
                faulted = true;
            }
        }
        return Ok(if faulted {
            ExitCode::from(super::exit::FAULT)
        } else {
            ExitCode::SUCCESS
        });
    }
    let reloads = table.subscribe();
    let _watcher = table.watch(WatchOptions::default())?;
    loop {
        for vm in &mut vms {
            if let Err(e) = vm.run() {
                eprintln!("hotslot: {}", hotslot::chain(&e));
            }
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
