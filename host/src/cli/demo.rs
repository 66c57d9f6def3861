//! `hotslot demo`: hot reload shown end to end, in one process.
//!
//! Builds the C `math_ops` plugin (`c-shim/math_ops.c`) with the system's
//! C compiler, runs `math.hsasm` (10 + 5: 15), edits the source so `math_add`
//! multiplies and its version rises, rebuilds and reloads (50), then tries
//! two reloads that must be refused (a signature change and a major version
//! bump) and shows the old function still answering. Everything happens in
//! a temporary directory that is removed at the end.

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

    step("Done");
    println!("The same VM ran 15, then 50, and kept 50 through two refused reloads.");
    drop(vm);
    table.wait_released(std::time::Duration::from_secs(1));
    println!("Removed {}", dir.path().display());
    Ok(ExitCode::SUCCESS)
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
    match table.reload(lib) {
        Ok(_) => Err("the demo expected this reload to be refused, but it was applied".into()),
        // The event observer has printed why.
        Err(_) => {
            let slot = table.slots().into_iter().find(|s| s.import.slot == 0);
            if let Some(b) = slot.and_then(|s| s.bound) {
                println!(
                    "[VM]    slot 0 still serves `{}` {} (generation {})",
                    b.function, b.version, b.generation
                );
            }
            Ok(())
        }
    }
}
