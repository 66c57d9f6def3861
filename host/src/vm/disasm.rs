//! The disassembler: a [`Program`] back to `.hsasm` text that assembles to
//! the same program.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::isa::for_each_instr;
use super::program::{Const, Function, Instr, Program};

/// Writes `program` as assembly text. Jump targets get labels `L<pc>`.
pub fn disassemble(program: &Program) -> String {
    let targets: BTreeSet<u32> = program.code.iter().filter_map(Instr::target).collect();
    let mut out = String::new();
    if let Some(m) = &program.module {
        let _ = writeln!(out, ".module {} {}", m.name, m.version);
        for e in &m.exports {
            match e.version == m.version {
                true => {
                    let _ = writeln!(out, ".export {}", e.function);
                }
                false => {
                    let _ = writeln!(out, ".export {} {}", e.function, e.version);
                }
            }
        }
        out.push('\n');
    }
    for import in &program.imports {
        let _ = writeln!(out, "{import}");
    }
    // A module's `main` only halts (the assembler writes that `HALT`).
    let module_main = program.module.is_some()
        && program.functions.first().is_some_and(|main| {
            main.locals.is_empty()
                && program.code.get(main.start as usize..main.end as usize) == Some(&[Instr::Halt])
        });
    for (i, f) in program.functions.iter().enumerate() {
        if i == 0 {
            if !program.imports.is_empty() {
                out.push('\n');
            }
            if module_main {
                continue;
            }
        } else {
            let params: Vec<String> = f
                .locals
                .iter()
                .zip(&f.params)
                .map(|(l, t)| format!("{}: {t}", l.name))
                .collect();
            let ret = f.ret.map_or("void", |t| t.name());
            let _ = writeln!(out, "\n.func {} ({}) -> {ret}", f.name, params.join(", "));
        }
        for l in f.locals.iter().skip(f.params.len()) {
            let _ = writeln!(out, ".local {} {}", l.name, l.ty);
        }
        for pc in f.start..f.end {
            if targets.contains(&pc) {
                let _ = writeln!(out, "L{pc}:");
            }
            let Some(instr) = program.code.get(pc as usize) else {
                break;
            };
            let _ = writeln!(out, "    {}", instruction(program, f, instr));
        }
        // A label may sit past the last instruction (a jump to the end,
        // which the verifier refuses, but which text must still express).
        let end = program.code.len() as u32;
        if i + 1 == program.functions.len() && f.end == end && targets.contains(&end) {
            let _ = writeln!(out, "L{end}:");
        }
        if i > 0 {
            out.push_str(".end\n");
        }
    }
    out
}

/// One instruction as assembly text, its operands resolved to names where
/// the program has them.
pub fn instruction(program: &Program, function: &Function, instr: &Instr) -> String {
    let m = instr.mnemonic();
    macro_rules! write {
        ($($(#[doc = $doc:literal])* $variant:ident $(($ty:ty))? $mnemonic:literal $opcode:literal $kind:ident $stack:literal;)*) => {
            match instr {
                $(Instr::$variant { .. } => write!(@ $kind $variant),)*
            }
        };
        (@ none $variant:ident) => {
            m.to_owned()
        };
        (@ constant $variant:ident) => {{
            let Instr::$variant(c) = instr else { unreachable!() };
            format!("{m} {}", constant(c))
        }};
        (@ local $variant:ident) => {{
            let Instr::$variant(n) = instr else { unreachable!() };
            match function.locals.get(*n as usize) {
                Some(l) => format!("{m} {}", l.name),
                None => format!("{m} {n}"),
            }
        }};
        (@ label $variant:ident) => {{
            let Instr::$variant(t) = instr else { unreachable!() };
            format!("{m} L{t}")
        }};
        (@ function $variant:ident) => {{
            let Instr::$variant(f) = instr else { unreachable!() };
            match program.functions.get(*f as usize) {
                Some(f) => format!("{m} {}", f.name),
                None => format!("{m} <function {f}>"),
            }
        }};
        (@ slot $variant:ident) => {{
            let Instr::$variant(slot) = instr else { unreachable!() };
            format!("{m} {slot}")
        }};
    }
    for_each_instr!(write)
}

/// A constant as assembly text.
pub fn constant(c: &Const) -> String {
    match c {
        Const::I32(v) => v.to_string(),
        Const::I64(v) => format!("i64 {v}"),
        Const::F64(v) => format!("f64 {}", float(*v)),
        Const::Bool(v) => v.to_string(),
        Const::Str(s) => quote(s),
    }
}

/// A float as assembly writes it: the shortest text that reads back to
/// the same bits, or `nan`, `inf`, `-inf`.
pub fn float(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        // `{:?}` is the shortest text that parses back to the same bits.
        format!("{v:?}")
    }
}

/// A string constant with its quotes and escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
