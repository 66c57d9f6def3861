//! `hotslot asm`, `hotslot disasm`: between text and bytecode.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hotslot::vm::{disassemble, encode, verify};

use super::CmdResult;
use super::common::read_program;

#[derive(clap::Args)]
pub struct AsmArgs {
    /// The `.hsasm` program.
    input: PathBuf,
    /// Where to write the bytecode.
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct DisasmArgs {
    /// The program (`.hsbc` or `.hsasm`).
    input: PathBuf,
}

/// Assembles and verifies, then writes bytecode.
pub fn asm(args: AsmArgs) -> CmdResult {
    let program = read_program(&args.input)?;
    let bytes = encode(&program);
    verify(program).map_err(|e| format!("`{}` does not verify: {e}", args.input.display()))?;
    // A new file renamed into place, as snapshots are written: a link
    // planted at the output is replaced, never written through.
    let dir = match args.output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    tempfile::NamedTempFile::new_in(dir)
        .and_then(|mut file| file.write_all(&bytes).map(|()| file))
        .and_then(|file| file.persist(&args.output).map_err(|e| e.error))
        .map_err(|e| format!("cannot write `{}`: {e}", args.output.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a program as assembly text.
pub fn disasm(args: DisasmArgs) -> CmdResult {
    let program = read_program(&args.input)?;
    print!("{}", disassemble(&program));
    Ok(ExitCode::SUCCESS)
}
