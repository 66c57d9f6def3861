//! The assembler: `.hsasm` text to a [`Program`].
//!
//! ```text
//! ; 10 + 5 through a native function
//! .import 0 math_add (i32, i32) -> i32 ^1.0
//!
//!     PUSH 10
//!     PUSH 5
//!     CALL_NATIVE 0
//!     PRINT
//!     HALT
//! ```
//!
//! - `;` starts a comment.
//! - `.import SLOT NAME (TYPES) -> TYPE [REQUIREMENT]` declares a slot.
//! - Top-level code is the entry function `main`; `.local NAME TYPE` at top
//!   level declares its locals.
//! - `.func NAME (P: TYPE, ...) -> TYPE` ... `.end` declares a function;
//!   its parameters are its first locals, `.local` inside adds more.
//! - `NAME:` defines a label; jumps name labels, `CALL` names a function,
//!   `LOAD`/`STORE` name a local (or give its index), `CALL_NATIVE` gives a
//!   slot number (or the import's name).
//! - `PUSH 10` is an `i32`, `PUSH i64 10` an `i64`, `PUSH 2.5` or
//!   `PUSH f64 2` an `f64`, `PUSH true` a `bool`, `PUSH "a\n"` a `str`.
//!   Floats also take `inf`, `-inf` and `nan` after `f64`.
//!
//! A line is split into tokens by `lex.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use semver::VersionReq;

use super::error::{AsmError, AsmErrorKind};
use super::isa::for_each_instr;
use super::lex::{Pos, Tok, Token, parse_float, parse_int, tokenize};
use super::program::{Const, Export, Function, Import, Instr, Local, MAX_SLOT, Module, Program};
use crate::types::is_identifier;
use crate::types::{Signature, ValType};

/// Assembles `.hsasm` text.
pub fn assemble(source: &str) -> Result<Program, AsmError> {
    let mut asm = Assembler::default();
    asm.functions.push(FnBuild {
        name: "main".into(),
        params: Vec::new(),
        ret: None,
        locals: Vec::new(),
        code: Vec::new(),
        at: Pos { line: 1, col: 1 },
    });
    for (i, line) in source.lines().enumerate() {
        asm.line(i as u32 + 1, line)?;
    }
    if let Some(f) = asm.current.take() {
        let at = asm.functions[f].at;
        return Err(AsmError::new(
            at,
            AsmErrorKind::UnclosedFunction {
                name: asm.functions[f].name.clone(),
            },
        ));
    }
    asm.finish()
}

/// An instruction whose operand names something defined later: a label,
/// a function, an import.
enum Pending {
    Done(Instr),
    Jump(fn(u32) -> Instr, String),
    Call(fn(u32) -> Instr, String),
    Native(fn(u32) -> Instr, String),
}

struct FnBuild {
    name: String,
    params: Vec<ValType>,
    ret: Option<ValType>,
    locals: Vec<Local>,
    code: Vec<(Pending, Pos)>,
    at: Pos,
}

#[derive(Default)]
struct Assembler {
    imports: Vec<Import>,
    functions: Vec<FnBuild>,
    /// The `.func` being written; `None` at top level (`main`).
    current: Option<usize>,
    /// Label name to (function, index in its code, where defined).
    labels: HashMap<String, (usize, usize, Pos)>,
    /// `.module NAME VERSION`, and where.
    module: Option<(String, semver::Version, Pos)>,
    /// `.export NAME [VERSION]`, each with where it was written.
    exports: Vec<(String, Option<semver::Version>, Pos)>,
}

impl Assembler {
    fn func(&mut self) -> &mut FnBuild {
        &mut self.functions[self.current.unwrap_or(0)]
    }

    fn line(&mut self, line_no: u32, line: &str) -> Result<(), AsmError> {
        let toks = tokenize(line_no, line)?;
        let mut rest = &toks[..];
        // Labels: `name:`, any number, then maybe an instruction.
        while let [
            Token {
                tok: Tok::Word(name),
                pos,
                ..
            },
            Token {
                tok: Tok::Punct(':'),
                ..
            },
            tail @ ..,
        ] = rest
        {
            if !is_identifier(name) {
                return Err(AsmError::new(
                    *pos,
                    AsmErrorKind::BadName { name: name.clone() },
                ));
            }
            let f = self.current.unwrap_or(0);
            let index = self.functions[f].code.len();
            if let Some((_, _, first)) = self.labels.insert(name.clone(), (f, index, *pos)) {
                return Err(AsmError::new(
                    *pos,
                    AsmErrorKind::DuplicateLabel {
                        name: name.clone(),
                        first_line: first.line,
                    },
                ));
            }
            rest = tail;
        }
        let Some(first) = rest.first() else {
            return Ok(());
        };
        match &first.tok {
            Tok::Word(w) if w.starts_with('.') => self.directive(w, first.pos, &rest[1..], line),
            Tok::Word(w) => {
                let instr = self.instruction(w, first.pos, &rest[1..])?;
                self.func().code.push((instr, first.pos));
                Ok(())
            }
            _ => Err(AsmError::new(
                first.pos,
                AsmErrorKind::Expected {
                    what: "an instruction, a label or a directive",
                },
            )),
        }
    }

    fn directive(
        &mut self,
        name: &str,
        at: Pos,
        args: &[Token],
        line: &str,
    ) -> Result<(), AsmError> {
        match name {
            ".import" => {
                let mut p = Parser::new(args, at);
                let (slot, slot_at) = p.integer::<u64>("a slot number")?;
                let slot = u32::try_from(slot)
                    .ok()
                    .filter(|s| *s <= MAX_SLOT)
                    .ok_or_else(|| {
                        AsmError::new(
                            slot_at,
                            AsmErrorKind::SlotTooLarge {
                                slot,
                                max: MAX_SLOT,
                            },
                        )
                    })?;
                let (fname, name_at) = p.word("the function's name")?;
                if !is_identifier(&fname) {
                    return Err(AsmError::new(
                        name_at,
                        AsmErrorKind::BadName { name: fname },
                    ));
                }
                let signature = p.signature()?;
                let req_text = line[p.end_offset()..]
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim();
                let requirement = if req_text.is_empty() {
                    None
                } else {
                    let req_at = p.peek_pos();
                    Some(VersionReq::parse(req_text).map_err(|e| {
                        AsmError::new(
                            req_at,
                            AsmErrorKind::BadRequirement {
                                text: req_text.to_owned(),
                                reason: e.to_string(),
                            },
                        )
                    })?)
                };
                if let Some(prev) = self.imports.iter().find(|i| i.slot == slot) {
                    return Err(AsmError::new(
                        slot_at,
                        AsmErrorKind::DuplicateSlot {
                            slot,
                            first: prev.name.clone(),
                        },
                    ));
                }
                self.imports.push(Import {
                    slot,
                    name: fname,
                    signature,
                    requirement,
                });
                Ok(())
            }
            ".func" => {
                if let Some(f) = self.current {
                    return Err(AsmError::new(
                        at,
                        AsmErrorKind::NestedFunction {
                            outer: self.functions[f].name.clone(),
                        },
                    ));
                }
                let mut p = Parser::new(args, at);
                let (fname, name_at) = p.word("the function's name")?;
                if !is_identifier(&fname) {
                    return Err(AsmError::new(
                        name_at,
                        AsmErrorKind::BadName { name: fname },
                    ));
                }
                if self.functions.iter().any(|f| f.name == fname) {
                    return Err(AsmError::new(
                        name_at,
                        AsmErrorKind::DuplicateFunction { name: fname },
                    ));
                }
                let (params, ret) = p.params()?;
                p.done()?;
                let mut locals = Vec::new();
                for (name, ty, pos) in params {
                    if locals.iter().any(|l: &Local| l.name == name) {
                        return Err(AsmError::new(pos, AsmErrorKind::DuplicateLocal { name }));
                    }
                    locals.push(Local { name, ty });
                }
                self.functions.push(FnBuild {
                    name: fname,
                    params: locals.iter().map(|l| l.ty).collect(),
                    ret,
                    locals,
                    code: Vec::new(),
                    at,
                });
                self.current = Some(self.functions.len() - 1);
                Ok(())
            }
            ".local" => {
                let mut p = Parser::new(args, at);
                let (lname, name_at) = p.word("the local's name")?;
                if !is_identifier(&lname) {
                    return Err(AsmError::new(
                        name_at,
                        AsmErrorKind::BadName { name: lname },
                    ));
                }
                let ty = p.val_type()?;
                p.done()?;
                let f = self.func();
                if f.locals.iter().any(|l| l.name == lname) {
                    return Err(AsmError::new(
                        name_at,
                        AsmErrorKind::DuplicateLocal { name: lname },
                    ));
                }
                f.locals.push(Local { name: lname, ty });
                Ok(())
            }
            ".module" | ".export" => {
                if let Some(f) = self.current {
                    return Err(AsmError::new(
                        at,
                        AsmErrorKind::NotTopLevel {
                            directive: if name == ".module" {
                                ".module"
                            } else {
                                ".export"
                            },
                            function: self.functions[f].name.clone(),
                        },
                    ));
                }
                let mut p = Parser::new(args, at);
                let (word, word_at) = p.word(if name == ".module" {
                    "the module's name"
                } else {
                    "the exported function's name"
                })?;
                if !is_identifier(&word) {
                    return Err(AsmError::new(word_at, AsmErrorKind::BadName { name: word }));
                }
                let version = p.version()?;
                p.done()?;
                if name == ".module" {
                    if let Some((first, _, _)) = &self.module {
                        return Err(AsmError::new(
                            at,
                            AsmErrorKind::DuplicateModule {
                                first: first.clone(),
                            },
                        ));
                    }
                    let Some(version) = version else {
                        return Err(AsmError::new(
                            p.peek_pos(),
                            AsmErrorKind::Expected {
                                what: "the module's version (`1.0.0`)",
                            },
                        ));
                    };
                    self.module = Some((word, version, at));
                } else {
                    if self.exports.iter().any(|(e, _, _)| *e == word) {
                        return Err(AsmError::new(
                            word_at,
                            AsmErrorKind::DuplicateExport { name: word },
                        ));
                    }
                    self.exports.push((word, version, word_at));
                }
                Ok(())
            }
            ".end" => {
                Parser::new(args, at).done()?;
                if self.current.take().is_none() {
                    return Err(AsmError::new(at, AsmErrorKind::StrayEnd));
                }
                Ok(())
            }
            _ => Err(AsmError::new(
                at,
                AsmErrorKind::UnknownDirective {
                    name: name.to_owned(),
                },
            )),
        }
    }

    fn instruction(&mut self, word: &str, at: Pos, args: &[Token]) -> Result<Pending, AsmError> {
        let mut p = Parser::new(args, at);
        let upper = word.to_ascii_uppercase();
        macro_rules! parse {
            ($($(#[doc = $doc:literal])* $variant:ident $(($ty:ty))? $mnemonic:literal $opcode:literal $kind:ident $stack:literal;)*) => {
                match upper.as_str() {
                    $($mnemonic => parse!(@ $kind $variant),)*
                    _ => {
                        return Err(AsmError::new(
                            at,
                            AsmErrorKind::UnknownInstruction {
                                name: word.to_owned(),
                            },
                        ));
                    }
                }
            };
            (@ none $variant:ident) => {
                Pending::Done(Instr::$variant)
            };
            (@ constant $variant:ident) => {
                Pending::Done(Instr::$variant(p.constant()?))
            };
            (@ local $variant:ident) => {
                Pending::Done(Instr::$variant(self.local_operand(&mut p)?))
            };
            (@ label $variant:ident) => {
                Pending::Jump(Instr::$variant, p.word("a label")?.0)
            };
            (@ function $variant:ident) => {
                Pending::Call(Instr::$variant, p.word("a function name")?.0)
            };
            (@ slot $variant:ident) => {
                match p.peek() {
                    Some(Tok::Word(w)) if w.starts_with(|c: char| c.is_ascii_digit()) => {
                        Pending::Done(Instr::$variant(p.integer::<u32>("a slot number")?.0))
                    }
                    _ => Pending::Native(Instr::$variant, p.word("a slot number or an import's name")?.0),
                }
            };
        }
        let pending = for_each_instr!(parse);
        p.done()?;
        Ok(pending)
    }

    fn local_operand(&mut self, p: &mut Parser<'_>) -> Result<u32, AsmError> {
        let at = p.peek_pos();
        let (w, _) = p.word("a local's name or index")?;
        let f = self.func();
        if let Ok(n) = w.parse::<u32>() {
            return Ok(n);
        }
        f.locals
            .iter()
            .position(|l| l.name == w)
            .map(|i| i as u32)
            .ok_or_else(|| {
                AsmError::new(
                    at,
                    AsmErrorKind::UnknownLocal {
                        name: w.clone(),
                        function: f.name.clone(),
                    },
                )
            })
    }

    fn finish(mut self) -> Result<Program, AsmError> {
        // A module's `main` only halts: its code is in its functions.
        if let Some((_, _, at)) = &self.module {
            if let Some((_, first)) = self.functions[0].code.first() {
                return Err(AsmError::new(*first, AsmErrorKind::ModuleCode));
            }
            let at = *at;
            self.functions[0]
                .code
                .push((Pending::Done(Instr::Halt), at));
        }
        let mut starts = Vec::with_capacity(self.functions.len());
        let mut pc = 0u32;
        for f in &self.functions {
            starts.push(pc);
            pc += f.code.len() as u32;
        }
        let fn_index: HashMap<String, u32> = self
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i as u32))
            .collect();
        let mut code = Vec::with_capacity(pc as usize);
        let mut functions = Vec::with_capacity(self.functions.len());
        for (fi, f) in self.functions.into_iter().enumerate() {
            for (pending, at) in f.code {
                code.push(match pending {
                    Pending::Done(i) => i,
                    Pending::Jump(make, label) => {
                        let &(lf, li, _) = self.labels.get(&label).ok_or_else(|| {
                            AsmError::new(
                                at,
                                AsmErrorKind::UnknownLabel {
                                    name: label.clone(),
                                },
                            )
                        })?;
                        make(starts[lf] + li as u32)
                    }
                    Pending::Call(make, name) => make(*fn_index.get(&name).ok_or_else(|| {
                        AsmError::new(at, AsmErrorKind::UnknownFunction { name: name.clone() })
                    })?),
                    Pending::Native(make, name) => make(
                        self.imports
                            .iter()
                            .find(|i| i.name == name)
                            .map(|i| i.slot)
                            .ok_or_else(|| {
                                AsmError::new(at, AsmErrorKind::UnknownImport { name })
                            })?,
                    ),
                });
            }
            functions.push(Function {
                name: f.name,
                params: f.params,
                ret: f.ret,
                locals: f.locals,
                start: starts[fi],
                end: code.len() as u32,
            });
        }
        let module = match self.module {
            None => {
                if let Some((_, _, at)) = self.exports.first() {
                    return Err(AsmError::new(*at, AsmErrorKind::ExportWithoutModule));
                }
                None
            }
            Some((name, version, _)) => {
                let mut exports = Vec::with_capacity(self.exports.len());
                for (function, own, at) in self.exports {
                    if function == "main" || !fn_index.contains_key(&function) {
                        return Err(AsmError::new(
                            at,
                            AsmErrorKind::UnknownExport { name: function },
                        ));
                    }
                    exports.push(Export {
                        function,
                        version: own.unwrap_or_else(|| version.clone()),
                    });
                }
                Some(Module {
                    name,
                    version,
                    exports,
                })
            }
        };
        Ok(Program {
            imports: self.imports,
            functions,
            code,
            module,
        })
    }
}

/// A cursor over one line's operand tokens.
struct Parser<'t> {
    toks: &'t [Token],
    i: usize,
    /// Where the line's operands start, for errors about missing operands.
    after: Pos,
}

impl<'t> Parser<'t> {
    fn new(toks: &'t [Token], at: Pos) -> Parser<'t> {
        Parser {
            toks,
            i: 0,
            after: at,
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn peek_pos(&self) -> Pos {
        self.toks.get(self.i).map_or(self.after, |t| t.pos)
    }

    /// Byte offset just past the last token taken.
    fn end_offset(&self) -> usize {
        self.i.checked_sub(1).map_or(0, |i| self.toks[i].end)
    }

    fn next(&mut self, what: &'static str) -> Result<&'t Token, AsmError> {
        let t = self
            .toks
            .get(self.i)
            .ok_or_else(|| AsmError::new(self.after_last(), AsmErrorKind::Expected { what }))?;
        self.i += 1;
        Ok(t)
    }

    fn after_last(&self) -> Pos {
        match self.i.checked_sub(1).and_then(|i| self.toks.get(i)) {
            Some(t) => Pos {
                line: t.pos.line,
                col: t.pos.col + 1,
            },
            None => self.after,
        }
    }

    fn word(&mut self, what: &'static str) -> Result<(String, Pos), AsmError> {
        let t = self.next(what)?;
        match &t.tok {
            Tok::Word(w) => Ok((w.clone(), t.pos)),
            _ => Err(AsmError::new(t.pos, AsmErrorKind::Expected { what })),
        }
    }

    /// A version (`1.2.0`), if the line has one more word.
    fn version(&mut self) -> Result<Option<semver::Version>, AsmError> {
        if self.peek().is_none() {
            return Ok(None);
        }
        let (text, at) = self.word("a version (`1.0.0`)")?;
        semver::Version::parse(&text).map(Some).map_err(|e| {
            AsmError::new(
                at,
                AsmErrorKind::BadVersion {
                    text,
                    reason: e.to_string(),
                },
            )
        })
    }

    fn punct(&mut self, c: char, what: &'static str) -> Result<(), AsmError> {
        let t = self.next(what)?;
        if t.tok == Tok::Punct(c) {
            Ok(())
        } else {
            Err(AsmError::new(t.pos, AsmErrorKind::Expected { what }))
        }
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == Some(tok) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> Result<(), AsmError> {
        match self.toks.get(self.i) {
            None => Ok(()),
            Some(t) => Err(AsmError::new(
                t.pos,
                AsmErrorKind::Unexpected {
                    found: t.tok.to_string(),
                },
            )),
        }
    }

    fn integer<T: std::str::FromStr>(&mut self, what: &'static str) -> Result<(T, Pos), AsmError> {
        let (w, at) = self.word(what)?;
        let v = parse_int(&w).ok_or_else(|| AsmError::new(at, AsmErrorKind::Expected { what }))?;
        let v = v
            .to_string()
            .parse::<T>()
            .map_err(|_| AsmError::new(at, AsmErrorKind::OutOfRange { text: w, ty: what }))?;
        Ok((v, at))
    }

    fn val_type(&mut self) -> Result<ValType, AsmError> {
        let (w, at) = self.word("a type")?;
        ValType::from_name(&w)
            .ok_or_else(|| AsmError::new(at, AsmErrorKind::UnknownType { name: w }))
    }

    fn ret_type(&mut self) -> Result<Option<ValType>, AsmError> {
        let t = self.next("`->`")?;
        if t.tok != Tok::Arrow {
            return Err(AsmError::new(
                t.pos,
                AsmErrorKind::Expected { what: "`->`" },
            ));
        }
        let (w, at) = self.word("a return type")?;
        if w == "void" {
            return Ok(None);
        }
        ValType::from_name(&w)
            .map(Some)
            .ok_or_else(|| AsmError::new(at, AsmErrorKind::UnknownType { name: w }))
    }

    /// `(i32, i32) -> i32`
    fn signature(&mut self) -> Result<Signature, AsmError> {
        self.punct('(', "`(`")?;
        let mut params = Vec::new();
        if !self.eat(&Tok::Punct(')')) {
            loop {
                params.push(self.val_type()?);
                if self.eat(&Tok::Punct(')')) {
                    break;
                }
                self.punct(',', "`,` or `)`")?;
            }
        }
        Ok(Signature::new(params, self.ret_type()?))
    }

    /// `(a: i32, b: i32) -> i32`
    #[expect(clippy::type_complexity, reason = "a private helper's tuple")]
    fn params(&mut self) -> Result<(Vec<(String, ValType, Pos)>, Option<ValType>), AsmError> {
        self.punct('(', "`(`")?;
        let mut params = Vec::new();
        if !self.eat(&Tok::Punct(')')) {
            loop {
                let (name, at) = self.word("a parameter name")?;
                if !is_identifier(&name) {
                    return Err(AsmError::new(at, AsmErrorKind::BadName { name }));
                }
                self.punct(':', "`:`")?;
                params.push((name, self.val_type()?, at));
                if self.eat(&Tok::Punct(')')) {
                    break;
                }
                self.punct(',', "`,` or `)`")?;
            }
        }
        Ok((params, self.ret_type()?))
    }

    fn constant(&mut self) -> Result<Const, AsmError> {
        let t = self.next("a constant")?;
        let at = t.pos;
        let w = match &t.tok {
            Tok::Str(s) => return Ok(Const::Str(Arc::from(s.as_str()))),
            Tok::Word(w) => w.clone(),
            _ => {
                return Err(AsmError::new(
                    at,
                    AsmErrorKind::Expected { what: "a constant" },
                ));
            }
        };
        let bad = |ty: &'static str| {
            AsmError::new(
                at,
                AsmErrorKind::BadConstant {
                    text: w.clone(),
                    ty,
                },
            )
        };
        match w.as_str() {
            "true" => return Ok(Const::Bool(true)),
            "false" => return Ok(Const::Bool(false)),
            "i32" | "i64" | "f64" => {
                let (v, vat) = self.word("a number")?;
                let bad = |ty| {
                    AsmError::new(
                        vat,
                        AsmErrorKind::BadConstant {
                            text: v.clone(),
                            ty,
                        },
                    )
                };
                return match w.as_str() {
                    "i32" => parse_int(&v)
                        .and_then(|n| i32::try_from(n).ok())
                        .map(Const::I32)
                        .ok_or_else(|| bad("i32")),
                    "i64" => parse_int(&v)
                        .and_then(|n| i64::try_from(n).ok())
                        .map(Const::I64)
                        .ok_or_else(|| bad("i64")),
                    _ => parse_float(&v).map(Const::F64).ok_or_else(|| bad("f64")),
                };
            }
            _ => {}
        }
        if let Some(n) = parse_int(&w) {
            return i32::try_from(n).map(Const::I32).map_err(|_| {
                AsmError::new(
                    at,
                    AsmErrorKind::OutOfRange {
                        text: w.clone(),
                        ty: "i32 (write `PUSH i64 ...` for a 64-bit integer)",
                    },
                )
            });
        }
        if w.contains(['.', 'e', 'E']) && w.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return parse_float(&w).map(Const::F64).ok_or_else(|| bad("f64"));
        }
        Err(bad("any type"))
    }
}

#[cfg(test)]
#[path = "asm_tests.rs"]
mod tests;
