//! `hotslot snapshot save|restore`: a VM and its bindings, across processes.

use std::path::PathBuf;
use std::process::ExitCode;

use hotslot::snapshot::{Snapshot, SnapshotError};
use hotslot::vm::Status;

use super::CmdResult;
use super::common::{Bindings, IsolateArgs, LoadArgs, load_program};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Run a program for a number of steps, then save it and its bindings.
    Save(SaveArgs),
    /// Restore a snapshot (checking every library's hash and version) and run it on.
    Restore(RestoreArgs),
}

#[derive(clap::Args)]
pub struct SaveArgs {
    /// The program.
    program: PathBuf,
    #[command(flatten)]
    bindings: Bindings,
    /// Pause after this many backward jumps and calls (default: save before running).
    #[arg(long)]
    steps: Option<u64>,
    /// The snapshot file to write.
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The snapshot file.
    snapshot: PathBuf,
    /// Pause again after this many backward jumps and calls.
    #[arg(long)]
    steps: Option<u64>,
    /// Where to save the state if it pauses again.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
    /// With --isolate, libraries bound in process when saved run in workers too (those saved isolated always do).
    #[command(flatten)]
    isolation: IsolateArgs,
}

pub fn run(cmd: Command) -> CmdResult {
    match cmd {
        Command::Save(args) => save(args),
        Command::Restore(args) => restore(args),
    }
}

fn save(args: SaveArgs) -> CmdResult {
    let program = load_program(&args.program)?;
    let table = args.bindings.load.table()?;
    table.declare_program(program.program())?;
    args.bindings.apply_all(&table, &[program.program()])?;
    let mut vm = table.vm(program)?;
    if let Some(steps) = args.steps {
        vm.resume(Some(steps))?;
    }
    let snapshot = Snapshot::capture(&vm)?;
    snapshot.save(&args.output)?;
    eprintln!(
        "hotslot: saved {} at pc {} with {} binding(s) to {}",
        snapshot.vm.status,
        snapshot.vm.pc,
        snapshot.slots.len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn restore(args: RestoreArgs) -> CmdResult {
    let snapshot = Snapshot::load(&args.snapshot)?;
    let table = args.load.table()?;
    let mut vm = snapshot
        .restore_with(&table, args.isolation.options().as_ref())
        .map_err(|e| SnapshotError::InFile {
            path: args.snapshot.clone(),
            source: Box::new(e),
        })?;
    let status = vm.resume(args.steps)?;
    if status == Status::Paused
        && let Some(out) = &args.output
    {
        Snapshot::capture(&vm)?.save(out)?;
        eprintln!(
            "hotslot: paused again at pc {}, saved to {}",
            vm.pc(),
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
