//! `hotslot repl [PROGRAM] [--bind ...]`: an interactive menu over a VM and its slots.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use hotslot::plugin::retained_libraries;
use hotslot::snapshot::{Snapshot, SnapshotError};
use hotslot::vm::{VerifiedProgram, Vm, assemble, disassemble, verify};
use hotslot::{ReloadOptions, SlotReader, SlotTable, WatchOptions, Watcher};

use super::CmdResult;
use super::common::{self, Bindings, LoadArgs, load_program};

/// `host/examples/math.hsasm`, run when no program is given.
pub const MATH_PROGRAM: &str = include_str!("../../examples/math.hsasm");

#[derive(clap::Args)]
pub struct Args {
    /// The program (default: `PUSH 10, PUSH 5, CALL_NATIVE 0 (math_add), PRINT, HALT`).
    program: Option<PathBuf>,
    #[command(flatten)]
    bindings: Bindings,
    /// Reload a bound library as soon as its file changes (after a rebuild).
    #[arg(long)]
    watch: bool,
}

struct Repl {
    load: LoadArgs,
    /// How the libraries the menu loads are bound (isolated or not).
    bind: ReloadOptions,
    watch: bool,
    watcher: Option<Watcher>,
    table: SlotTable,
    program: Arc<VerifiedProgram>,
    program_name: String,
    vm: Vm<SlotReader>,
    iteration: u32,
    last_library: Option<PathBuf>,
    last_function: Option<String>,
    last_slot: u32,
}

pub fn run(args: Args) -> CmdResult {
    let (program, program_name) = match &args.program {
        Some(p) => (load_program(p)?, p.display().to_string()),
        None => {
            let p = verify(assemble(MATH_PROGRAM)?)?;
            (Arc::new(p), "math.hsasm (10 + 5 through slot 0)".to_owned())
        }
    };
    let table = args.bindings.load.table()?;
    table.declare_program(program.program())?;
    table.on_event(|e| {
        if common::shown(e) {
            println!("[EVENT] {e}");
        }
    });
    let vm = table.vm(Arc::clone(&program))?;
    println!("[INFO] Initialized VM with {program_name}");
    if let Err(e) = args.bindings.apply(&table) {
        println!("[ERROR] {}", hotslot::chain(&*e));
    }
    let watcher = if args.watch {
        println!(
            "[INFO] Watching bound libraries: a rebuilt one is reloaded as soon as it is written"
        );
        Some(table.watch(WatchOptions::default())?)
    } else {
        None
    };
    let mut repl = Repl {
        load: args.bindings.load.clone(),
        bind: args.bindings.reload_options(),
        watch: args.watch,
        watcher,
        last_library: args.bindings.binds.first().map(|b| b.path.clone()),
        last_function: None,
        last_slot: args.bindings.binds.first().map_or(0, |b| b.slot),
        table,
        program,
        program_name,
        vm,
        iteration: 0,
    };
    for s in repl.table.slots() {
        if let Some(b) = &s.bound {
            println!(
                "[INFO] Slot {} serves `{}` {} from {} (generation {})",
                s.import.slot,
                b.function,
                b.version,
                b.library.display(),
                b.generation
            );
        }
    }
    println!("[TIP] Edit the plugin, rebuild it, then use option 2 to hot-reload!");
    repl.main_loop();
    Ok(ExitCode::SUCCESS)
}

impl Repl {
    fn main_loop(&mut self) {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        loop {
            println!();
            println!("=== hotslot ===");
            println!("1. Run program");
            println!("2. Load/Reload library");
            println!("3. View program");
            println!("4. View slots");
            println!("5. Reset");
            println!("6. Quit");
            println!("7. Roll back a library");
            println!("8. Save snapshot");
            println!("9. Restore snapshot");
            let Some(choice) = prompt(&mut input, "Choice: ") else {
                println!();
                return;
            };
            match choice.trim() {
                "1" => self.run_program(),
                "2" => {
                    if self.load_reload(&mut input).is_none() {
                        println!();
                        return;
                    }
                }
                "3" => self.view_program(),
                "4" => self.view_slots(),
                "5" => {
                    self.vm.reset();
                    self.iteration = 0;
                    println!("[VM] Reset: stack, locals and iteration count cleared");
                }
                "6" | "q" | "quit" => return,
                "7" => {
                    if self.rollback(&mut input).is_none() {
                        println!();
                        return;
                    }
                }
                "8" => {
                    if self.save_snapshot(&mut input).is_none() {
                        println!();
                        return;
                    }
                }
                "9" => {
                    if self.restore_snapshot(&mut input).is_none() {
                        println!();
                        return;
                    }
                }
                "" => {}
                other => println!("[ERROR] `{other}` is not a menu choice (1-9)"),
            }
        }
    }

    fn run_program(&mut self) {
        self.iteration += 1;
        println!();
        println!("========== Iteration {} ==========", self.iteration);
        let _ = std::io::stdout().flush();
        if let Err(e) = self.vm.run() {
            println!("[FAULT] {e}");
        }
        let _ = std::io::stdout().flush();
    }

    /// Option 2; `None` at end of input.
    fn load_reload(&mut self, input: &mut impl BufRead) -> Option<()> {
        let default_slot = self.last_slot;
        let default_library = self
            .last_library
            .clone()
            .or_else(|| self.bound_library(default_slot))
            .unwrap_or_else(|| PathBuf::from("libmath_ops.so"));
        let default_function = self
            .last_function
            .clone()
            .or_else(|| {
                self.program
                    .program()
                    .import(default_slot)
                    .map(|i| i.name.clone())
            })
            .unwrap_or_default();
        let library = ask(
            input,
            "Library path",
            &default_library.display().to_string(),
        )?;
        let function = ask(input, "Function name", &default_function)?;
        let slot_text = ask(input, "Slot number", &default_slot.to_string())?;
        let Ok(slot) = slot_text.parse::<u32>() else {
            println!("[ERROR] `{slot_text}` is not a slot number");
            return Some(());
        };
        let library = PathBuf::from(library);
        let before = self.describe_slot(slot);
        if let Some(b) = &before {
            println!("[VM] Reloading slot {slot} (now {b})");
        }
        let symbol = (!function.is_empty()).then_some(function.as_str());
        // The slot already serves this function of this library: a reload
        // (of every slot bound to it). Otherwise a bind.
        let reload = self
            .table
            .slots()
            .into_iter()
            .find(|s| s.import.slot == slot)
            .and_then(|s| {
                let b = s.bound?;
                let same_library = std::path::absolute(&library).ok()? == b.library;
                let same_function = b.function == symbol.unwrap_or(&s.import.name);
                Some(same_library && same_function)
            })
            .unwrap_or(false);
        let result = if reload {
            self.table.reload(&library)
        } else {
            self.table
                .bind_many(&library, &[(slot, symbol)], &self.bind)
        };
        match result {
            Ok(report) => {
                for s in &report.swaps {
                    println!("[VM] Loaded {s} from {}", library.display());
                }
                let gens = match report.from_generation {
                    Some(g) => format!("generation {g} -> {}", report.to_generation),
                    None => format!("generation {}", report.to_generation),
                };
                println!("[VM] {gens}, checked and swapped in {:.2?}", report.took);
                if let Some(state) = &report.state {
                    println!("[VM] {state}");
                }
            }
            Err(e) => {
                println!("[REFUSED] {}", hotslot::chain(&e));
                match self.describe_slot(slot) {
                    Some(b) => println!("[VM] Slot {slot} still serves {b}"),
                    None => println!("[VM] Slot {slot} stays unbound"),
                }
            }
        }
        self.last_library = Some(library);
        self.last_function = Some(function);
        self.last_slot = slot;
        Some(())
    }

    /// Option 7; `None` at end of input.
    fn rollback(&mut self, input: &mut impl BufRead) -> Option<()> {
        let default = self
            .last_library
            .clone()
            .or_else(|| self.table.libraries().first().map(|l| l.path.clone()))
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let library = ask(input, "Library path", &default)?;
        match self.table.rollback(&library) {
            Ok(report) => {
                for s in &report.swaps {
                    println!("[VM] Rolled back {s}");
                }
            }
            Err(e) => println!("[REFUSED] {}", hotslot::chain(&e)),
        }
        Some(())
    }

    /// Option 8; `None` at end of input.
    fn save_snapshot(&mut self, input: &mut impl BufRead) -> Option<()> {
        let path = PathBuf::from(ask(input, "Snapshot file", "hotslot-snapshot.json")?);
        match Snapshot::capture(&self.vm).and_then(|s| s.save(&path).map(|()| s)) {
            Ok(s) => println!(
                "[VM] Saved {} slot binding(s) and the VM ({}, pc {}) to {}",
                s.slots.len(),
                s.vm.status,
                s.vm.pc,
                path.display()
            ),
            Err(e) => println!("[ERROR] {}", hotslot::chain(&e)),
        }
        Some(())
    }

    /// Option 9; `None` at end of input. Replaces the session only when
    /// everything in the snapshot still matches.
    fn restore_snapshot(&mut self, input: &mut impl BufRead) -> Option<()> {
        let path = PathBuf::from(ask(input, "Snapshot file", "hotslot-snapshot.json")?);
        let table = match self.load.table() {
            Ok(t) => t,
            Err(e) => {
                println!("[ERROR] {e}");
                return Some(());
            }
        };
        let restored = Snapshot::load(&path).and_then(|s| {
            let vm = s
                .restore_with(&table, self.bind.isolate.as_ref())
                .map_err(|e| SnapshotError::InFile {
                    path: path.clone(),
                    source: Box::new(e),
                })?;
            Ok((table, vm))
        });
        match restored {
            Ok((table, vm)) => {
                table.on_event(|e| {
                    if common::shown(e) {
                        println!("[EVENT] {e}");
                    }
                });
                self.watcher = None;
                if self.watch {
                    match table.watch(WatchOptions::default()) {
                        Ok(w) => self.watcher = Some(w),
                        Err(e) => println!("[ERROR] cannot watch: {e}"),
                    }
                }
                self.program = Arc::clone(vm.program());
                self.program_name = format!("the program of {}", path.display());
                self.table = table;
                self.vm = vm;
                println!(
                    "[VM] Restored {} ({:?}, pc {})",
                    path.display(),
                    self.vm.status(),
                    self.vm.pc()
                );
                self.view_slots();
            }
            Err(e) => println!("[REFUSED] {}; nothing was changed", hotslot::chain(&e)),
        }
        Some(())
    }

    fn bound_library(&self, slot: u32) -> Option<PathBuf> {
        self.table
            .slots()
            .into_iter()
            .find(|s| s.import.slot == slot)
            .and_then(|s| s.bound.map(|b| b.library))
    }

    fn describe_slot(&self, slot: u32) -> Option<String> {
        let s = self
            .table
            .slots()
            .into_iter()
            .find(|s| s.import.slot == slot)?;
        let b = s.bound?;
        Some(format!(
            "`{}` {} from {} (generation {})",
            b.function,
            b.version,
            b.library.display(),
            b.generation
        ))
    }

    fn view_program(&self) {
        println!("; {}", self.program_name);
        print!("{}", disassemble(self.program.program()));
    }

    fn view_slots(&self) {
        println!("Slots:");
        for s in self.table.slots() {
            println!("  {}", s.import);
            match s.bound {
                Some(b) => println!(
                    "      bound to `{}` {} from {} (generation {}, sha256 {}...)",
                    b.function,
                    b.version,
                    b.library.display(),
                    b.generation,
                    b.sha256
                        .map_or("unknown".into(), |h| h.to_string()[..12].to_owned())
                ),
                None => println!("      unbound"),
            }
        }
        let libraries = self.table.libraries();
        if !libraries.is_empty() {
            println!("Libraries:");
            for l in libraries {
                let previous = l
                    .previous
                    .map_or("none".to_owned(), |(g, v)| format!("generation {g} ({v})"));
                println!(
                    "  {} ({:?}): {} {}, generation {}; previous build: {previous}{}",
                    l.path.display(),
                    l.kind,
                    l.plugin,
                    l.version,
                    l.generation,
                    if l.pinned { "; hash pinned" } else { "" }
                );
            }
        }
        let pending = self.table.pending_releases();
        if !pending.is_empty() {
            println!("Replaced, waiting for calls in flight:");
            for p in pending {
                println!("  generation {}: {} {}", p.generation, p.plugin, p.version);
            }
        }
        let retained = retained_libraries();
        if !retained.is_empty() {
            println!("Released but kept mapped by the system (retained generations):");
            for r in retained {
                println!(
                    "  generation {}: {} {} from {}",
                    r.generation,
                    r.plugin,
                    r.version,
                    r.source.display()
                );
            }
        }
    }
}

/// Prints `text`, reads a line; `None` at end of input. A line that is not
/// UTF-8 text is reported and asked for again.
fn prompt(input: &mut impl BufRead, text: &str) -> Option<String> {
    loop {
        print!("{text}");
        let _ = std::io::stdout().flush();
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => {
                println!("[ERROR] cannot read the input: {e}");
                return None;
            }
        }
        match String::from_utf8(line) {
            Ok(line) => return Some(line.trim_end_matches(['\n', '\r']).to_owned()),
            Err(e) => println!(
                "[ERROR] the input is not UTF-8 text (byte {} is not); type it again",
                e.utf8_error().valid_up_to()
            ),
        }
    }
}

/// `Label [default]: `; an empty answer takes the default.
fn ask(input: &mut impl BufRead, label: &str, default: &str) -> Option<String> {
    let answer = prompt(input, &format!("{label} [{default}]: "))?;
    let answer = answer.trim();
    Some(if answer.is_empty() {
        default.to_owned()
    } else {
        answer.to_owned()
    })
}
