//! `hotslot inspect LIB [--json]`.

use std::path::PathBuf;
use std::process::ExitCode;

use hotslot::plugin::{Library, PluginKind};
use hotslot::script::ScriptModule;

use super::CmdResult;

#[derive(clap::Args)]
pub struct Args {
    /// The plugin library (`.so`), or a script module (`.hsasm`, `.hsbc`).
    library: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    load: super::common::LoadArgs,
}

pub fn run(args: Args) -> CmdResult {
    let options = args.load.load_options();
    let (info, kind, source, sha256) = if hotslot::script::is_script(&args.library) {
        let module = ScriptModule::open(&args.library, &options)?;
        let info = module.info().clone();
        (
            info,
            PluginKind::Script,
            module.source().to_owned(),
            module.sha256(),
        )
    } else {
        // SAFETY: the user asks for this library to be loaded and described;
        // its code runs as a program's would (see `LoadArgs::table`).
        let lib = unsafe { Library::open(&args.library, &options) }?;
        (
            lib.info().clone(),
            lib.kind(),
            lib.source().to_owned(),
            lib.sha256()?,
        )
    };
    let info = &info;
    if args.json {
        let functions: Vec<_> = info
            .functions
            .iter()
            .map(|f| {
                serde_json::json!({
                    "name": f.name,
                    // As the text writes them: `&mut [Particle]`, not `&mut [T]`.
                    "params": f.signature.params.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                    "ret": f.signature.ret.map_or_else(|| "void".to_owned(), |r| r.to_string()),
                    "version": f.version.to_string(),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "plugin": { "name": info.name, "version": info.version.to_string() },
            "abi": { "major": info.abi.major, "minor": info.abi.minor },
            "functions": functions,
        });
        println!("{doc}");
        return Ok(ExitCode::SUCCESS);
    }
    let kind = match kind {
        PluginKind::Rust => "Rust, layout checked",
        PluginKind::C => "C",
        PluginKind::Script => "script module, verified",
    };
    println!("plugin    {} {}", info.name, info.version);
    println!("abi       {} ({kind})", info.abi);
    println!("file      {}", source.display());
    println!("sha256    {sha256}");
    if let Some(version) = info.state_version() {
        println!("state     version {version}");
    }
    println!("functions {}", info.functions.len());
    let width = info
        .functions
        .iter()
        .map(|f| f.name.len() + f.signature.to_string().len())
        .max()
        .unwrap_or(0);
    for f in &info.functions {
        let decl = format!("{} {}", f.name, f.signature);
        println!("  {decl:<w$}  v{}", f.version, w = width + 1);
    }
    Ok(ExitCode::SUCCESS)
}
