//! What several commands share: loading programs, binding slots.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hotslot::plugin::{CopyPlace, TrustPolicy, parse_sha256};
use hotslot::vm::{Program, VerifiedProgram, assemble, decode, verify};
use hotslot::{ReloadOptions, SlotTable, TableOptions};

/// Reads a program: `.hsbc` bytes (by their magic) or `.hsasm` text.
pub fn read_program(path: &Path) -> Result<Program, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if bytes.starts_with(b"HSBC") {
        return decode(&bytes).map_err(|e| format!("`{}`: {e}", path.display()));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("`{}` is neither bytecode nor UTF-8 text", path.display()))?;
    assemble(&text).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Reads and verifies a program.
pub fn load_program(path: &Path) -> Result<Arc<VerifiedProgram>, String> {
    let program = read_program(path)?;
    verify(program)
        .map(Arc::new)
        .map_err(|e| format!("`{}` does not verify: {e}", path.display()))
}

/// `SLOT=PATH[#SYMBOL][@SHA256]`
#[derive(Clone, Debug)]
pub struct BindSpec {
    pub slot: u32,
    pub path: PathBuf,
    pub symbol: Option<String>,
    pub sha256: Option<[u8; 32]>,
}

impl std::str::FromStr for BindSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<BindSpec, String> {
        let (slot, rest) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: expected SLOT=PATH[#SYMBOL][@SHA256]"))?;
        let slot = slot
            .trim()
            .parse()
            .map_err(|_| format!("`{s}`: `{slot}` is not a slot number"))?;
        let (rest, sha256) = match rest.rsplit_once('@') {
            Some((r, h)) => (
                r,
                Some(
                    parse_sha256(h)
                        .ok_or_else(|| format!("`{h}` is not a SHA-256 (64 hex digits)"))?,
                ),
            ),
            None => (rest, None),
        };
        let (path, symbol) = match rest.rsplit_once('#') {
            Some((p, sym)) => (p, Some(sym.to_owned())),
            None => (rest, None),
        };
        if path.is_empty() {
            return Err(format!("`{s}`: the library path is empty"));
        }
        Ok(BindSpec {
            slot,
            path: path.into(),
            symbol,
            sha256,
        })
    }
}

/// Options every command that loads libraries takes.
#[derive(clap::Args, Clone, Debug)]
pub struct LoadArgs {
    /// Load libraries even from files or directories other users can write to.
    #[arg(long)]
    pub allow_untrusted: bool,
    /// Keep the private copies of libraries as files in DIR (yours, mode 0700; created if missing) instead of anonymous memory files.
    #[arg(long, value_name = "DIR", alias = "shadow-dir")]
    pub copy_dir: Option<PathBuf>,
}

impl LoadArgs {
    pub fn table_options(&self) -> TableOptions {
        TableOptions {
            copies: self
                .copy_dir
                .clone()
                .map_or(CopyPlace::Memory, CopyPlace::Dir),
            trust: TrustPolicy {
                allow_untrusted_paths: self.allow_untrusted,
                sha256: None,
            },
        }
    }

    pub fn table(&self) -> Result<SlotTable, String> {
        SlotTable::with_options(self.table_options())
            .map_err(|e| format!("cannot create the slot table: {e}"))
    }
}

/// Applies `--bind` specs to `table`: one transaction per library.
pub fn bind_all(table: &SlotTable, binds: &[BindSpec]) -> Result<(), String> {
    let mut done: Vec<&Path> = Vec::new();
    for path in binds.iter().map(|b| b.path.as_path()) {
        if done.contains(&path) {
            continue;
        }
        done.push(path);
        let group: Vec<&BindSpec> = binds.iter().filter(|b| b.path == path).collect();
        let slots: Vec<(u32, Option<&str>)> = group
            .iter()
            .map(|b| (b.slot, b.symbol.as_deref()))
            .collect();
        let options = ReloadOptions {
            sha256: group.iter().find_map(|b| b.sha256),
            ..ReloadOptions::default()
        };
        table
            .bind_many(path, &slots, &options)
            .map_err(|e| hotslot::chain(&e))?;
    }
    Ok(())
}

/// Makes C's `stdout` line-buffered, so that what C plugins print and what
/// the VM prints come out in the order they happened, even into a pipe.
pub fn line_buffer_c_stdout() {
    #[cfg(target_os = "linux")]
    {
        unsafe extern "C" {
            static mut stdout: *mut libc::FILE;
        }
        // SAFETY: `stdout` is glibc's (and musl's) standard output stream,
        // valid for the whole process; `setvbuf` runs before any output.
        unsafe {
            libc::setvbuf(stdout, std::ptr::null_mut(), libc::_IOLBF, 0);
        }
    }
}

/// On SIGINT or SIGTERM (Ctrl-C, `kill`), removes this process's private
/// copy files (made with `--copy-dir`; memory copies need nothing), then
/// exits with 128 + the signal's number, as a shell reports a process the
/// signal killed.
pub fn remove_copies_on_termination() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("hotslot-signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    hotslot::plugin::remove_private_copies();
                    std::process::exit(128 + signal);
                }
            });
    }
}
