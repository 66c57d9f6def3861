//! `hotslot run PROGRAM --bind SLOT=LIB[#SYMBOL][@SHA256] ...`

use std::path::PathBuf;
use std::process::ExitCode;

use super::CmdResult;
use super::common::{BindSpec, LoadArgs, bind_all, load_program};

#[derive(clap::Args)]
pub struct Args {
    /// The program: `.hsasm` text or `.hsbc` bytecode.
    program: PathBuf,
    /// Binds a slot: SLOT=LIBRARY[#SYMBOL][@SHA256]; the symbol defaults to the import's name.
    #[arg(long = "bind", value_name = "SLOT=LIB[#SYMBOL][@SHA256]")]
    binds: Vec<BindSpec>,
    #[command(flatten)]
    load: LoadArgs,
}

pub fn run(args: Args) -> CmdResult {
    let program = load_program(&args.program)?;
    let table = args.load.table()?;
    table.declare_program(program.program())?;
    bind_all(&table, &args.binds)?;
    let mut vm = table.vm(program)?;
    vm.run()?;
    Ok(ExitCode::SUCCESS)
}
