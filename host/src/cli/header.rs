//! `hotslot header`: the C headers a plugin needs, without a checkout.

use std::path::PathBuf;
use std::process::ExitCode;

use super::CmdResult;

#[derive(clap::Args)]
pub struct Args {
    /// The directory to write `hotslot.h` and `hotslot_shim.h` to (created
    /// if missing); compile C plugins with `-I` it.
    #[arg(long, default_value = ".")]
    out: PathBuf,
}

/// Writes the two headers of this build's ABI.
pub fn header(args: Args) -> CmdResult {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create `{}`: {e}", args.out.display()))?;
    // Each to a new file renamed into place: a link planted at a
    // header's name is replaced, never written through.
    let written = hotslot_cbuild::write_headers(&args.out).map_err(|e| {
        format!(
            "cannot write the headers into `{}`: {e}",
            args.out.display()
        )
    })?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
