//! What several commands share: loading programs, binding slots.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hotslot::plugin::{CopyPlace, Sha256, TrustPolicy};
use hotslot::vm::{MAX_SLOT, Program, VerifiedProgram, assemble, decode, verify};
use hotslot::{ReloadOptions, SlotTable, TableOptions};

/// Reads a program: `.hsbc` bytes (by their magic) or `.hsasm` text.
pub fn read_program(path: &Path) -> Result<Program, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if bytes.starts_with(b"HSBC") {
        return decode(&bytes).map_err(|e| format!("`{}`: {e}", path.display()));
    }
    let library_magics: [&[u8]; 6] = [
        b"\x7fELF",
        b"MZ",
        &[0xcf, 0xfa, 0xed, 0xfe],
        &[0xce, 0xfa, 0xed, 0xfe],
        &[0xfe, 0xed, 0xfa, 0xcf],
        &[0xca, 0xfe, 0xba, 0xbe],
    ];
    if library_magics.iter().any(|m| bytes.starts_with(m)) {
        return Err(format!(
            "`{}` is a library, not a program: did you mean `--lib {}`?",
            path.display(),
            path.display()
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("`{}` is neither bytecode nor UTF-8 text", path.display()))?;
    assemble(&text).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Reads and verifies a program to run (not a script module, which exports
/// functions for slots and runs nothing itself).
pub fn load_program(path: &Path) -> Result<Arc<VerifiedProgram>, String> {
    let program = read_program(path)?;
    if let Some(module) = &program.module {
        return Err(format!(
            "`{}` is the script module `{}`: it exports functions for slots and runs nothing itself; \
             bind it with `--lib {}` and run a program that imports them",
            path.display(),
            module.name,
            path.display()
        ));
    }
    verify(program)
        .map(Arc::new)
        .map_err(|e| format!("`{}` does not verify: {e}", path.display()))
}

/// `SLOT=PATH[#SYMBOL][@SHA256]`.
///
/// The path is everything after `=` when a file exists there (so a path
/// may hold `#` and `@`); otherwise a trailing `@` and 64 hex digits is the
/// pinned hash, and then a trailing `#` and an identifier is the function.
/// `--symbol SLOT=NAME` and `--sha256 SLOT=HEX` say the same for any path.
#[derive(Clone, Debug)]
pub struct BindSpec {
    pub slot: u32,
    pub path: PathBuf,
    pub symbol: Option<String>,
    pub sha256: Option<Sha256>,
}

impl std::str::FromStr for BindSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<BindSpec, String> {
        let (slot, rest) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: expected SLOT=PATH[#SYMBOL][@SHA256]"))?;
        let slot = parse_slot(slot).map_err(|e| format!("`{s}`: {e}"))?;
        if rest.is_empty() {
            return Err(format!("`{s}`: the library path is empty"));
        }
        let mut spec = BindSpec {
            slot,
            path: rest.into(),
            symbol: None,
            sha256: None,
        };
        if Path::new(rest).is_file() {
            return Ok(spec);
        }
        let mut path = rest;
        if let Some((p, h)) = path.rsplit_once('@')
            && let Ok(hash) = h.parse::<Sha256>()
        {
            spec.sha256 = Some(hash);
            path = p;
        }
        if let Some((p, sym)) = path.rsplit_once('#')
            && hotslot::testing::is_identifier(sym)
        {
            spec.symbol = Some(sym.to_owned());
            path = p;
        }
        if path.is_empty() {
            return Err(format!("`{s}`: the library path is empty"));
        }
        spec.path = path.into();
        Ok(spec)
    }
}

/// A slot number as the command line takes it: at most `MAX_SLOT`.
fn parse_slot(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let slot: u64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a slot number"))?;
    u32::try_from(slot)
        .ok()
        .filter(|s| *s <= MAX_SLOT)
        .ok_or_else(|| format!("slot {slot} is larger than {MAX_SLOT}, the largest slot number"))
}

/// `SLOT=VALUE`, for `--symbol` and `--sha256`.
#[derive(Clone, Debug)]
pub struct SlotSetting {
    pub slot: u32,
    pub value: String,
}

impl std::str::FromStr for SlotSetting {
    type Err = String;

    fn from_str(s: &str) -> Result<SlotSetting, String> {
        let (slot, value) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: expected SLOT=VALUE"))?;
        Ok(SlotSetting {
            slot: parse_slot(slot).map_err(|e| format!("`{s}`: {e}"))?,
            value: value.to_owned(),
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
    /// Refuse library files larger than SIZE (bytes, or with K, M or G: 512M), before any of it is copied.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = byte_size)]
    pub max_library_size: u64,
    /// Run programs and script modules in the interpreter instead of compiling them to native code.
    #[arg(long)]
    pub no_jit: bool,
}

/// `N`, `NK`, `NM` or `NG`: a size in bytes, or in binary units.
fn byte_size(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.as_bytes().last() {
        Some(b'K' | b'k') => (&text[..text.len() - 1], 10),
        Some(b'M' | b'm') => (&text[..text.len() - 1], 20),
        Some(b'G' | b'g') => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("`{text}` is not a size: a number of bytes, or one with K, M or G"))
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
            },
            max_library_size: self.max_library_size,
            jit: hotslot::vm::JitOptions {
                enabled: !self.no_jit,
            },
        }
    }

    /// The options of a library loaded without a table (`inspect`).
    pub fn load_options(&self) -> hotslot::plugin::LoadOptions {
        let table = self.table_options();
        hotslot::plugin::LoadOptions {
            copies: table.copies,
            trust: table.trust,
            pin: None,
            max_size: table.max_library_size,
        }
    }

    pub fn table(&self) -> Result<SlotTable, String> {
        // SAFETY: the command line loads the libraries its user names (with
        // --bind, --lib, a snapshot, the REPL): running their code is what
        // the user asked for, as running an executable is. The trust policy
        // still refuses files others could have written.
        unsafe { SlotTable::with_options(self.table_options()) }
            .map_err(|e| format!("cannot create the slot table: {e}"))
    }
}

/// How the slots of a program are bound: every command that binds them
/// takes these.
#[derive(clap::Args, Clone, Debug)]
pub struct Bindings {
    /// Binds a slot: SLOT=LIB, then `#SYMBOL` when the function's name is not the import's, then `@SHA256` to pin the build.
    #[arg(long = "bind", value_name = "SLOT=LIB[#SYMBOL][@SHA256]")]
    pub binds: Vec<BindSpec>,
    /// Binds every import whose name LIB exports (and keeps doing so at each reload).
    #[arg(long = "lib", value_name = "LIB")]
    pub libs: Vec<PathBuf>,
    /// The function slot SLOT binds: for a --bind whose path holds `#`.
    #[arg(long = "symbol", value_name = "SLOT=NAME")]
    pub symbols: Vec<SlotSetting>,
    /// The SHA-256 the library of slot SLOT must have: for a --bind whose path holds `@`.
    #[arg(long = "sha256", value_name = "SLOT=HEX")]
    pub hashes: Vec<SlotSetting>,
    #[command(flatten)]
    pub isolation: IsolateArgs,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Whether libraries run in worker processes, and how.
#[derive(clap::Args, Clone, Debug)]
pub struct IsolateArgs {
    /// Run each library in a worker process of its own: a crash, an `exit` or a hang in it fails the call, not hotslot.
    #[arg(long)]
    pub isolate: bool,
    /// With --isolate: a call that takes longer than MS milliseconds fails, and its worker is killed.
    #[arg(long, value_name = "MS", requires = "isolate")]
    pub deadline: Option<u64>,
    /// With --isolate: roll a library back to its previous build after its worker failed N times (within SECONDS, 60 by default).
    #[arg(long, value_name = "N[/SECONDS]", requires = "isolate", value_parser = crash_limit)]
    pub rollback_after: Option<hotslot::isolate::CrashLimit>,
}

impl IsolateArgs {
    /// The worker options, with --isolate.
    pub fn options(&self) -> Option<hotslot::isolate::IsolateOptions> {
        self.isolate.then(|| hotslot::isolate::IsolateOptions {
            worker: None,
            deadline: self.deadline.map(std::time::Duration::from_millis),
            spin: None,
            rollback_after: self.rollback_after,
        })
    }
}

/// `N` or `N/SECONDS`: worker failures, and the window they count in.
fn crash_limit(text: &str) -> Result<hotslot::isolate::CrashLimit, String> {
    let (n, secs) = text.split_once('/').unwrap_or((text, "60"));
    let failures: u32 = n
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{n}` is not a number of failures (1 or more)"))?;
    let secs: u64 = secs
        .parse()
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("`{secs}` is not a number of seconds (1 or more)"))?;
    Ok(hotslot::isolate::CrashLimit {
        failures,
        within: std::time::Duration::from_secs(secs),
    })
}

/// A program import that nothing binds, found before the program runs.
#[derive(Debug, thiserror::Error)]
pub enum Unbound {
    /// Nothing was asked to bind it.
    #[error("slot {slot} (`{name}`) is not bound: add --bind {slot}=LIB or --lib LIB")]
    Nothing { slot: u32, name: String },
    /// Several --lib libraries were given, none of which exports it.
    #[error("slot {slot} (`{name}`) is not bound: no --lib library has a function `{name}` ({})", .reasons.join("; "))]
    NotExported {
        slot: u32,
        name: String,
        /// Per library, what it has instead.
        reasons: Vec<String>,
    },
}

impl Bindings {
    /// The `--bind` specs with `--symbol` and `--sha256` applied.
    fn specs(&self) -> Result<Vec<BindSpec>, String> {
        let mut specs = self.binds.clone();
        for (setting, what) in self
            .symbols
            .iter()
            .map(|s| (s, "--symbol"))
            .chain(self.hashes.iter().map(|s| (s, "--sha256")))
        {
            let spec = specs
                .iter_mut()
                .find(|b| b.slot == setting.slot)
                .ok_or_else(|| {
                    format!(
                        "{what} {}={}: no --bind {} to apply it to",
                        setting.slot, setting.value, setting.slot
                    )
                })?;
            if what == "--symbol" {
                spec.symbol = Some(setting.value.clone());
            } else {
                spec.sha256 = Some(
                    setting
                        .value
                        .parse::<Sha256>()
                        .map_err(|e| format!("--sha256 {}: {e}", setting.slot))?,
                );
            }
        }
        Ok(specs)
    }

    /// Binds everything asked for to `table`: the `--bind`s, one
    /// transaction per library, then each `--lib`; native libraries first,
    /// then script modules, whose imports the libraries serve.
    pub fn apply(&self, table: &SlotTable) -> Result<(), Box<dyn std::error::Error>> {
        let specs = self.specs()?;
        for scripts in [false, true] {
            let mut done: Vec<&Path> = Vec::new();
            for path in specs.iter().map(|b| b.path.as_path()) {
                if done.contains(&path) || hotslot::script::is_script(path) != scripts {
                    continue;
                }
                done.push(path);
                let group: Vec<&BindSpec> = specs.iter().filter(|b| b.path == path).collect();
                let slots: Vec<(u32, Option<&str>)> = group
                    .iter()
                    .map(|b| (b.slot, b.symbol.as_deref()))
                    .collect();
                let options = ReloadOptions {
                    sha256: group.iter().find_map(|b| b.sha256),
                    ..self.reload_options()
                };
                table.bind_many(path, &slots, &options)?;
            }
            for lib in self
                .libs
                .iter()
                .filter(|l| hotslot::script::is_script(l) == scripts)
            {
                table.bind_library(lib, &self.reload_options())?;
            }
        }
        Ok(())
    }

    /// How libraries are bound: isolated or not.
    pub fn reload_options(&self) -> ReloadOptions {
        ReloadOptions {
            isolate: self.isolation.options(),
            ..ReloadOptions::default()
        }
    }

    /// Binds everything asked for, then checks that every import of each
    /// program is served: a program that would stop at its first call of
    /// an unbound slot is refused before it starts.
    pub fn apply_all(
        &self,
        table: &SlotTable,
        programs: &[&Program],
    ) -> Result<(), Box<dyn std::error::Error>> {
        self.apply(table)?;
        let bound: Vec<u32> = table
            .slots()
            .into_iter()
            .filter(|s| s.bound.is_some())
            .map(|s| s.import.slot)
            .collect();
        let unbound = programs
            .iter()
            .flat_map(|p| &p.imports)
            .find(|i| !bound.contains(&i.slot));
        let Some(i) = unbound else {
            return Ok(());
        };
        // Libraries bound whole that could have served it, had it the
        // name: say what they export instead.
        let libraries = table.libraries();
        let whole: Vec<_> = self
            .libs
            .iter()
            .filter_map(|lib| {
                let path = std::path::absolute(lib).ok()?;
                libraries.iter().find(|l| l.path == path)
            })
            .collect();
        let missing = |l: &hotslot::LibraryInfo| hotslot::SlotError::FunctionMissing {
            slot: i.slot,
            path: l.path.clone(),
            function: i.name.clone(),
            available: l.functions.clone(),
        };
        Err(match whole.as_slice() {
            [] => Box::new(Unbound::Nothing {
                slot: i.slot,
                name: i.name.clone(),
            }),
            [one] => Box::new(missing(one)),
            several => Box::new(Unbound::NotExported {
                slot: i.slot,
                name: i.name.clone(),
                reasons: several
                    .iter()
                    .map(|l| {
                        let text = missing(l).to_string();
                        let prefix = format!("slot {}: ", i.slot);
                        text.strip_prefix(&prefix).unwrap_or(&text).to_owned()
                    })
                    .collect(),
            }),
        })
    }
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

/// Whether the command line shows `event`: everything but a watch event
/// whose file held the bytes already serving (a build tool's last touch,
/// a second event of one save), which changed nothing and goes to the log
/// at debug level.
pub(super) fn shown(event: &hotslot::ReloadEvent) -> bool {
    let nothing = event.kind == hotslot::ReloadKind::Watch
        && event.outcome.as_ref().is_ok_and(|r| r.unchanged);
    if nothing {
        log::debug!("{event}");
    }
    !nothing
}
