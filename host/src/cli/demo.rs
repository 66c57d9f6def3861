//! `hotslot demo`: hot reload shown end to end, in one process.
//!
//! Builds the C `math_ops` plugin (`c-shim/math_ops.c`) with the system's
//! C compiler, runs `math.hsasm` (10 + 5: 15), edits the source so `math_add`
//! multiplies and its version rises, rebuilds and reloads (50), then tries
//! two reloads that must be refused (a signature change and a major version
//! bump) and shows the old function still answering. Then a script
//! function beside the C one: a script module bound to slot 1, edited and
//! reloaded live (100, then 150), and an edit that does not verify refused.
//! Everything happens in a temporary directory that is removed at the end.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use hotslot::SlotTable;
use hotslot::vm::{assemble, verify};
use hotslot_cbuild::{self as cbuild, CCompiler};

use super::CmdResult;
use super::repl::MATH_PROGRAM;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_: Args) -> CmdResult {
    let cc = CCompiler::find().map_err(|e| format!("the demo builds a C plugin: {e}"))?;
    let dir = tempfile::Builder::new().prefix("hotslot-demo-").tempdir()?;
    let src = dir.path().join("math_ops.c");
    let lib = dir.path().join(hotslot_library_name("math_ops"));
    cbuild::write_headers(dir.path())?;
    std::fs::write(&src, cbuild::MATH_OPS_C)?;

    step("1. Build math_ops.c and run a program that calls math_add(10, 5)");
    build(&cc, &src, &lib, dir.path())?;
    let program = Arc::new(verify(assemble(MATH_PROGRAM)?)?);
    // SAFETY: the demo loads only the library it builds from the project's
    // own math_ops.c and its edits.
    let table = unsafe { SlotTable::new() }?;
    table.on_event(|e| println!("[EVENT] {e}"));
    let mut vm = table.vm(Arc::clone(&program))?;
    table.bind(0, &lib, None)?;
    run_once(&mut vm)?;

    step("2. Edit math_add to multiply, raise its version to 1.1.0, rebuild, reload");
    edit(
        &src,
        &[
            (
                "return a + b;  /* Change this line and recompile! */",
                "return a * b;  /* Now multiplies instead! */",
            ),
            (
                "HS_FUNCTION(i32, math_add, (i32, i32), 1, 0, 0)",
                "HS_FUNCTION(i32, math_add, (i32, i32), 1, 1, 0)",
            ),
            (
                "HS_PLUGIN(\"math_ops\", 1, 0, 0,",
                "HS_PLUGIN(\"math_ops\", 1, 1, 0,",
            ),
        ],
    )?;
    build(&cc, &src, &lib, dir.path())?;
    table.reload(&lib)?;
    run_once(&mut vm)?;

    step("3. Change math_add's signature to (i64, i64) -> i64: the reload must be refused");
    let multiplied = std::fs::read_to_string(&src)?;
    // The function and its declaration change together (the shim refuses
    // to compile one without the other); the host refuses the build.
    edit(
        &src,
        &[
            (
                "#include <stdio.h>",
                "#include <stdint.h>\n#include <stdio.h>",
            ),
            (
                "EXPORT int math_add(int a, int b) {",
                "EXPORT int64_t math_add(int64_t a, int64_t b) {",
            ),
            (
                "printf(\"[NATIVE] math_add(%d, %d) called\\n\", a, b);",
                "printf(\"[NATIVE] math_add(%lld, %lld) called\\n\", (long long)a, (long long)b);",
            ),
            (
                "HS_FUNCTION(i32, math_add, (i32, i32), 1, 1, 0)",
                "HS_FUNCTION(i64, math_add, (i64, i64), 1, 2, 0)",
            ),
        ],
    )?;
    build(&cc, &src, &lib, dir.path())?;
    refused(&table, &lib)?;
    run_once(&mut vm)?;

    step("4. Bump math_ops to 2.0.0 (get_version() returns 2): the reload must be refused");
    std::fs::write(&src, &multiplied)?;
    edit(
        &src,
        &[
            (
                "HS_FUNCTION(i32, math_add, (i32, i32), 1, 1, 0)",
                "HS_FUNCTION(i32, math_add, (i32, i32), 2, 0, 0)",
            ),
            (
                "HS_PLUGIN(\"math_ops\", 1, 1, 0,",
                "HS_PLUGIN(\"math_ops\", 2, 0, 0,",
            ),
            (
                "return 1;  /* Increment this after each recompile */",
                "return 2;  /* Incremented! */",
            ),
        ],
    )?;
    build(&cc, &src, &lib, dir.path())?;
    refused(&table, &lib)?;
    run_once(&mut vm)?;

    step("5. A script function beside the C one: slot 1 bound to `scale` in scale.hsasm");
    let script = dir.path().join("scale.hsasm");
    write_script(&script, SCALE_MODULE)?;
    let both = Arc::new(verify(assemble(BOTH_PROGRAM)?)?);
    let mut vm2 = table.vm(Arc::clone(&both))?;
    table.bind(1, &script, None)?;
    run_both(&mut vm2)?;

    step("6. Edit scale.hsasm to multiply by 3, raise its version to 1.1.0, reload");
    edit(
        &script,
        &[
            (
                "    PUSH 2          ; the factor",
                "    PUSH 3          ; the factor",
            ),
            (".module scale 1.0.0", ".module scale 1.1.0"),
        ],
    )?;
    table.reload(&script)?;
    run_both(&mut vm2)?;

    step(
        "7. Declare scale to return a bool: the module does not verify, the reload must be refused",
    );
    edit(
        &script,
        &[(
            ".func scale (x: i32) -> i32",
            ".func scale (x: i32) -> bool",
        )],
    )?;
    refused_at(&table, &script, 1)?;
    run_both(&mut vm2)?;

    step("Done");
    println!("The same VM ran 15, then 50, and kept 50 through two refused reloads;");
    println!("the script function went from 100 to 150 live and kept 150 through a refused edit.");
    drop(vm);
    drop(vm2);
    table.wait_released(std::time::Duration::from_secs(1));
    println!("Removed {}", dir.path().display());
    Ok(ExitCode::SUCCESS)
}

/// The script module of steps 5 to 7: `scale` doubles its argument.
const SCALE_MODULE: &str = "\
; A script module: its functions bind to slots as a plugin's do.
.module scale 1.0.0
.export scale

.func scale (x: i32) -> i32
    LOAD x
    PUSH 2          ; the factor
    MUL
    RET
.end
";

/// The program of steps 5 to 7: math_add (C) then scale (script).
const BOTH_PROGRAM: &str = "\
.import 0 math_add (i32, i32) -> i32 ^1.0
.import 1 scale (i32) -> i32 ^1.0

    PUSH 10
    PUSH 5
    CALL_NATIVE 0      ; C
    CALL_NATIVE 1      ; script
    PRINT
    HALT
";

fn write_script(path: &Path, text: &str) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "[WRITE] {}",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        println!("        {line}");
    }
    std::fs::write(path, text)?;
    Ok(())
}

fn run_both(
    vm: &mut hotslot::vm::Vm<hotslot::SlotReader>,
) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    println!("[RUN]   PUSH 10, PUSH 5, CALL_NATIVE 0 (C), CALL_NATIVE 1 (script), PRINT, HALT");
    let _ = std::io::stdout().flush();
    vm.run()?;
    let _ = std::io::stdout().flush();
    Ok(())
}

fn step(title: &str) {
    println!();
    println!("==> {title}");
}

fn hotslot_library_name(name: &str) -> String {
    format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

fn build(
    cc: &CCompiler,
    src: &Path,
    lib: &Path,
    include: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "[BUILD] {} {} -o {} {}",
        cc.program().display(),
        cbuild::CFLAGS.join(" "),
        lib.file_name().unwrap_or_default().to_string_lossy(),
        src.file_name().unwrap_or_default().to_string_lossy()
    );
    cc.build(src, lib, &[include], &[])?;
    Ok(())
}

fn edit(src: &Path, replacements: &[(&str, &str)]) -> Result<(), Box<dyn std::error::Error>> {
    let mut text = std::fs::read_to_string(src)?;
    for (from, to) in replacements {
        if !text.contains(from) {
            return Err(format!(
                "the demo's edit did not apply: `{from}` is not in {}",
                src.display()
            )
            .into());
        }
        text = text.replacen(from, to, 1);
        println!("[EDIT]  {from}\n     -> {to}");
    }
    std::fs::write(src, text)?;
    Ok(())
}

fn run_once(
    vm: &mut hotslot::vm::Vm<hotslot::SlotReader>,
) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    println!("[RUN]   PUSH 10, PUSH 5, CALL_NATIVE 0, PRINT, HALT");
    let _ = std::io::stdout().flush();
    vm.run()?;
    let _ = std::io::stdout().flush();
    Ok(())
}

fn refused(table: &SlotTable, lib: &Path) -> Result<(), Box<dyn std::error::Error>> {
    refused_at(table, lib, 0)
}

fn refused_at(table: &SlotTable, lib: &Path, slot: u32) -> Result<(), Box<dyn std::error::Error>> {
    match table.reload(lib) {
        Ok(_) => Err("the demo expected this reload to be refused, but it was applied".into()),
        // The event observer has printed why.
        Err(_) => {
            let bound = table.slots().into_iter().find(|s| s.import.slot == slot);
            if let Some(b) = bound.and_then(|s| s.bound) {
                println!(
                    "[VM]    slot {slot} still serves `{}` {} (generation {})",
                    b.function, b.version, b.generation
                );
            }
            Ok(())
        }
    }
}
