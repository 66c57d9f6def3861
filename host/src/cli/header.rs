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
    for (name, content) in [
        ("hotslot.h", hotslot_plugin_api::HOTSLOT_H),
        ("hotslot_shim.h", hotslot_plugin_api::HOTSLOT_SHIM_H),
    ] {
        let path = args.out.join(name);
        std::fs::write(&path, content)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
