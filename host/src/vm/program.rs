//! A program as assembled or decoded: imports, functions and instructions,
//! before verification.

use std::fmt;
use std::sync::Arc;

use semver::VersionReq;

use super::isa::{define_instr, for_each_instr};
use crate::types::{Signature, ValType};

/// A program: what the assembler and the bytecode decoder produce and the
/// verifier checks.
///
/// Code is one sequence; each function owns a contiguous range of it, the
/// entry function (`main`, index 0) first.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Program {
    /// The native functions the program calls, one per slot.
    pub imports: Vec<Import>,
    /// The bytecode functions; index 0 is the entry point.
    pub functions: Vec<Function>,
    /// All instructions.
    pub code: Vec<Instr>,
    /// What the program exports, when it is a script module: functions a
    /// slot can bind, as a plugin's are.
    pub module: Option<Module>,
}

impl Program {
    /// The import declaring `slot`.
    pub fn import(&self, slot: u32) -> Option<&Import> {
        self.imports.iter().find(|i| i.slot == slot)
    }

    /// The function whose code contains `pc`.
    pub fn function_at(&self, pc: u32) -> Option<(usize, &Function)> {
        self.functions
            .iter()
            .enumerate()
            .find(|(_, f)| f.start <= pc && pc < f.end)
    }
}

/// A script module's declaration: its name and version (a plugin's), and
/// the functions it exports (`.module rules 1.2.0`, `.export score`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Module {
    /// The module's name, as a plugin's.
    pub name: String,
    /// The module's version.
    pub version: semver::Version,
    /// The functions it exports, in declaration order.
    pub exports: Vec<Export>,
}

/// An exported function of a script module.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Export {
    /// The function, by name (one of the program's functions, not `main`).
    pub function: String,
    /// Its own version: the module's unless the export says otherwise.
    pub version: semver::Version,
}

/// The largest slot number a program may declare. A slot table keeps one
/// cell (16 bytes on 64-bit systems) per slot number up to the largest
/// declared, so the limit bounds what a program can make a table allocate.
pub const MAX_SLOT: u32 = 65_535;

/// A program's declaration of a native function it calls through a slot:
/// `.import 0 math_add (i32, i32) -> i32 ^1.0`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Import {
    /// The slot number `CALL_NATIVE` uses.
    pub slot: u32,
    /// The function's name: the symbol a binding uses by default.
    pub name: String,
    /// The signature a binding must match exactly.
    pub signature: Signature,
    /// The versions a binding may have; when absent, any version at first
    /// and then the same major as the running one.
    pub requirement: Option<VersionReq>,
}

impl fmt::Display for Import {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ".import {} {} {}", self.slot, self.name, self.signature)?;
        if let Some(req) = &self.requirement {
            write!(f, " {req}")?;
        }
        Ok(())
    }
}

/// A bytecode function.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// Its parameters, which are also its first locals.
    pub params: Vec<ValType>,
    /// Its result; `None` for void.
    pub ret: Option<ValType>,
    /// Every local: the parameters first, then the declared locals.
    pub locals: Vec<Local>,
    /// First instruction.
    pub start: u32,
    /// One past the last instruction.
    pub end: u32,
}

impl Function {
    /// Its signature.
    pub fn signature(&self) -> Signature {
        Signature::new(self.params.clone(), self.ret)
    }
}

/// A local variable.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Local {
    /// Its name.
    pub name: String,
    /// Its type; it never changes.
    pub ty: ValType,
}

/// A constant pushed by `PUSH`.
#[derive(Clone, Debug)]
pub enum Const {
    /// `PUSH 10`
    I32(i32),
    /// `PUSH i64 10`
    I64(i64),
    /// `PUSH 2.5` or `PUSH f64 2`
    F64(f64),
    /// `PUSH true`
    Bool(bool),
    /// `PUSH "text"`
    Str(Arc<str>),
}

impl Const {
    /// Its type.
    pub fn ty(&self) -> ValType {
        match self {
            Const::I32(_) => ValType::I32,
            Const::I64(_) => ValType::I64,
            Const::F64(_) => ValType::F64,
            Const::Bool(_) => ValType::Bool,
            Const::Str(_) => ValType::Str,
        }
    }
}

/// Floats compare by bits, so that a program equals itself after a round
/// trip even when it pushes NaN.
impl PartialEq for Const {
    fn eq(&self, other: &Const) -> bool {
        match (self, other) {
            (Const::I32(a), Const::I32(b)) => a == b,
            (Const::I64(a), Const::I64(b)) => a == b,
            (Const::F64(a), Const::F64(b)) => a.to_bits() == b.to_bits(),
            (Const::Bool(a), Const::Bool(b)) => a == b,
            (Const::Str(a), Const::Str(b)) => a == b,
            _ => false,
        }
    }
}

for_each_instr!(define_instr);

impl Instr {
    /// Whether execution never continues to the next instruction.
    pub fn ends_block(&self) -> bool {
        matches!(self, Instr::Jmp(_) | Instr::Ret | Instr::Halt)
    }

    /// The jump target, for jumps (the instructions whose operand is a
    /// label).
    pub fn target(&self) -> Option<u32> {
        macro_rules! target {
            ($($(#[doc = $doc:literal])* $variant:ident $(($ty:ty))? $mnemonic:literal $opcode:literal $kind:ident $stack:literal;)*) => {
                match self {
                    $(Instr::$variant { .. } => target!(@ $kind $variant),)*
                }
            };
            (@ label $variant:ident) => {{
                let Instr::$variant(t) = self else { unreachable!() };
                Some(*t)
            }};
            (@ $kind:ident $variant:ident) => {
                None
            };
        }
        for_each_instr!(target)
    }
}
