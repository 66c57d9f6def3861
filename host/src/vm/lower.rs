//! The executable form of a verified program: each instruction specialized
//! by the types the verifier found on the stack before it, then fused with
//! the next where one superinstruction does both.

use std::sync::Arc;

use hotslot_plugin_api::HsStr;

use super::program::{Const, Instr, Program};
use crate::types::ValType;

/// A program's executable form, one op per instruction (so that a pc is an
/// index into it), with the string constants its ops push.
#[derive(Debug)]
pub(crate) struct Code {
    pub(crate) ops: Box<[Op]>,
    /// String constants, kept alive for the views in `str_views`.
    _strings: Box<[Arc<str>]>,
    pub(crate) str_views: Box<[StrConst]>,
}

/// A view of a string constant owned by the program.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StrConst(pub(crate) HsStr);

// SAFETY: a `StrConst` views an `Arc<str>` the program owns and never
// changes, so reading it from any thread is reading immutable data.
unsafe impl Send for StrConst {}
// SAFETY: as above.
unsafe impl Sync for StrConst {}

/// How a native call's result is read back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RetKind {
    Void,
    /// `i32`: four bytes of the result slot.
    I32,
    /// `i64` or `f64`: eight bytes of the result slot.
    Wide,
    /// Read as "not zero", whatever byte the plugin wrote.
    Bool,
    /// Passed through the context's `return_str`.
    Str,
}

/// One specialized instruction.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Op {
    Nop,
    Halt,
    /// Never reached: the verifier found no path to it.
    Unreachable,
    PushI32(i32),
    PushI64(i64),
    PushF64(f64),
    PushBool(bool),
    PushStr(u32),
    Pop,
    // Copies of a value move exactly its bytes (1, 4, 8 or 16), the width
    // it was written with, so the CPU can forward the store to the load.
    Dup1,
    Dup4,
    Dup8,
    Dup16,
    Swap,
    AddI32,
    AddI64,
    AddF64,
    SubI32,
    SubI64,
    SubF64,
    MulI32,
    MulI64,
    MulF64,
    DivI32,
    DivI64,
    DivF64,
    ModI32,
    ModI64,
    ModF64,
    NegI32,
    NegI64,
    NegF64,
    Not,
    EqI32,
    EqI64,
    EqF64,
    EqBool,
    EqStr,
    NeI32,
    NeI64,
    NeF64,
    NeBool,
    NeStr,
    LtI32,
    LtI64,
    LtF64,
    LtStr,
    LeI32,
    LeI64,
    LeF64,
    LeStr,
    GtI32,
    GtI64,
    GtF64,
    GtStr,
    GeI32,
    GeI64,
    GeF64,
    GeStr,
    Load1(u32),
    Load4(u32),
    Load8(u32),
    Load16(u32),
    Store1(u32),
    Store4(u32),
    Store8(u32),
    Store16(u32),
    Jmp(u32),
    JzI32(u32),
    JzBool(u32),
    JnzI32(u32),
    JnzBool(u32),
    Call(u32),
    Ret,
    CallNative {
        slot: u32,
        nargs: u32,
        ret: RetKind,
    },
    // Superinstructions: an instruction and the one after it, fused where
    // the first falls through to the second. The second keeps its own op,
    // for jumps that land on it.
    /// `PUSH a; PUSH b` (i32).
    Push2I32(i32, i32),
    /// `PUSH k; ADD` (i32).
    AddImmI32(i32),
    /// `PUSH k; SUB` (i32).
    SubImmI32(i32),
    /// `PUSH k; ADD` (i64).
    AddImmI64(i64),
    /// `PUSH k; SUB` (i64).
    SubImmI64(i64),
    /// `DUP; JNZ t` (i32): jump when the top is not zero, keeping it.
    JnzKeepI32(u32),
    /// `DUP; JZ t` (i32): jump when the top is zero, keeping it.
    JzKeepI32(u32),
    /// `LOAD a; LOAD b` (4-byte locals): both pushed.
    Load2x4(u32, u32),
    /// `LOAD a; LOAD b` (8-byte locals): both pushed.
    Load2x8(u32, u32),
    /// `STORE n; LOAD n` (4 bytes): the top stored, and kept.
    Tee4(u32),
    /// `STORE n; LOAD n` (8 bytes): the top stored, and kept.
    Tee8(u32),
    // A comparison and the conditional jump on its result: pops two values,
    // jumps to the target when the relation holds (`LT; JNZ t` is `BrLt`,
    // `LT; JZ t` is `BrGe`).
    /// Jump when `a == b` (i32).
    BrEqI32(u32),
    /// Jump when `a != b` (i32).
    BrNeI32(u32),
    /// Jump when `a < b` (i32).
    BrLtI32(u32),
    /// Jump when `a <= b` (i32).
    BrLeI32(u32),
    /// Jump when `a > b` (i32).
    BrGtI32(u32),
    /// Jump when `a >= b` (i32).
    BrGeI32(u32),
    /// Jump when `a == b` (i64).
    BrEqI64(u32),
    /// Jump when `a != b` (i64).
    BrNeI64(u32),
    /// Jump when `a < b` (i64).
    BrLtI64(u32),
    /// Jump when `a <= b` (i64).
    BrLeI64(u32),
    /// Jump when `a > b` (i64).
    BrGtI64(u32),
    /// Jump when `a >= b` (i64).
    BrGeI64(u32),
    /// `CALL_NATIVE s; POP`: call and drop the result.
    CallNativeDrop {
        slot: u32,
        nargs: u32,
        ret: RetKind,
    },
    Print(ValType),
}

/// How many bytes of a value's slot its type uses.
#[derive(Clone, Copy)]
enum Width {
    B1,
    B4,
    B8,
    B16,
}

fn width(t: ValType) -> Width {
    match t {
        ValType::Bool => Width::B1,
        ValType::I32 => Width::B4,
        ValType::I64 | ValType::F64 => Width::B8,
        ValType::Str => Width::B16,
        other => unreachable!("the verifier refuses `{other}` in programs"),
    }
}

/// Fuses each instruction with the next where a superinstruction does both.
/// Only the op of the first changes; the second stays for jumps into it.
/// Sound across function boundaries too: a function's last instruction
/// never falls through, and none of the fused firsts is one that doesn't.
fn fuse(ops: &mut [Op]) {
    for i in 0..ops.len().saturating_sub(1) {
        let fused = match (ops[i], ops[i + 1]) {
            (Op::PushI32(a), Op::PushI32(b)) => Op::Push2I32(a, b),
            (Op::PushI32(k), Op::AddI32) => Op::AddImmI32(k),
            (Op::PushI32(k), Op::SubI32) => Op::SubImmI32(k),
            (Op::PushI64(k), Op::AddI64) => Op::AddImmI64(k),
            (Op::PushI64(k), Op::SubI64) => Op::SubImmI64(k),
            (Op::Dup4, Op::JnzI32(t)) => Op::JnzKeepI32(t),
            (Op::Dup4, Op::JzI32(t)) => Op::JzKeepI32(t),
            (Op::CallNative { slot, nargs, ret }, Op::Pop) => {
                Op::CallNativeDrop { slot, nargs, ret }
            }
            (Op::Load4(a), Op::Load4(b)) => Op::Load2x4(a, b),
            (Op::Load8(a), Op::Load8(b)) => Op::Load2x8(a, b),
            (Op::Store4(a), Op::Load4(b)) if a == b => Op::Tee4(a),
            (Op::Store8(a), Op::Load8(b)) if a == b => Op::Tee8(a),
            (cmp, Op::JnzBool(t)) => match branch_on(cmp, t) {
                Some(br) => br,
                None => continue,
            },
            (cmp, Op::JzBool(t)) => match branch_on(negation(cmp), t) {
                Some(br) => br,
                None => continue,
            },
            _ => continue,
        };
        ops[i] = fused;
    }
}

/// The jump taken when the comparison `cmp` holds, for the integer
/// comparisons.
fn branch_on(cmp: Op, t: u32) -> Option<Op> {
    Some(match cmp {
        Op::EqI32 => Op::BrEqI32(t),
        Op::NeI32 => Op::BrNeI32(t),
        Op::LtI32 => Op::BrLtI32(t),
        Op::LeI32 => Op::BrLeI32(t),
        Op::GtI32 => Op::BrGtI32(t),
        Op::GeI32 => Op::BrGeI32(t),
        Op::EqI64 => Op::BrEqI64(t),
        Op::NeI64 => Op::BrNeI64(t),
        Op::LtI64 => Op::BrLtI64(t),
        Op::LeI64 => Op::BrLeI64(t),
        Op::GtI64 => Op::BrGtI64(t),
        Op::GeI64 => Op::BrGeI64(t),
        _ => return None,
    })
}

/// The integer comparison that holds exactly when `cmp` does not (integers
/// are totally ordered; floats are not, and are left alone).
fn negation(cmp: Op) -> Op {
    match cmp {
        Op::EqI32 => Op::NeI32,
        Op::NeI32 => Op::EqI32,
        Op::LtI32 => Op::GeI32,
        Op::LeI32 => Op::GtI32,
        Op::GtI32 => Op::LeI32,
        Op::GeI32 => Op::LtI32,
        Op::EqI64 => Op::NeI64,
        Op::NeI64 => Op::EqI64,
        Op::LtI64 => Op::GeI64,
        Op::LeI64 => Op::GtI64,
        Op::GtI64 => Op::LeI64,
        Op::GeI64 => Op::LtI64,
        other => other,
    }
}

/// The executable form of `program`, whose stack types before each
/// instruction are `types_at` (`None` where unreachable), as the verifier
/// found them.
pub(crate) fn lower(program: &Program, types_at: &[Option<Box<[ValType]>>]) -> Code {
    let mut strings: Vec<Arc<str>> = Vec::new();
    let mut ops: Vec<Op> = Vec::with_capacity(program.code.len());
    for (pc, instr) in program.code.iter().enumerate() {
        let op = match &types_at[pc] {
            None => Op::Unreachable,
            Some(stack) => {
                let function = program
                    .function_at(pc as u32)
                    .expect("a reachable pc is in a function")
                    .1;
                specialize(program, &function.locals, instr, stack, &mut strings)
            }
        };
        ops.push(op);
    }
    fuse(&mut ops);
    let str_views = strings
        .iter()
        .map(|s| StrConst(HsStr::from_str(s)))
        .collect();
    Code {
        ops: ops.into(),
        _strings: strings.into(),
        str_views,
    }
}

/// The op of `instr`, with `stack` the (verified) types before it and
/// `locals` its function's locals.
fn specialize(
    program: &Program,
    locals: &[super::program::Local],
    instr: &Instr,
    stack: &[ValType],
    strings: &mut Vec<Arc<str>>,
) -> Op {
    use ValType::*;
    let top = || *stack.last().expect("the verifier checked the stack");
    let numeric = |t: ValType| match t {
        I32 => 0,
        I64 => 1,
        _ => 2,
    };
    match instr {
        Instr::Nop => Op::Nop,
        Instr::Halt => Op::Halt,
        Instr::Print => Op::Print(top()),
        Instr::Push(c) => match c {
            Const::I32(v) => Op::PushI32(*v),
            Const::I64(v) => Op::PushI64(*v),
            Const::F64(v) => Op::PushF64(*v),
            Const::Bool(v) => Op::PushBool(*v),
            Const::Str(text) => {
                let index = match strings
                    .iter()
                    .position(|x| Arc::ptr_eq(x, text) || x == text)
                {
                    Some(i) => i,
                    None => {
                        strings.push(Arc::clone(text));
                        strings.len() - 1
                    }
                };
                Op::PushStr(index as u32)
            }
        },
        Instr::Pop => Op::Pop,
        Instr::Dup => match width(top()) {
            Width::B1 => Op::Dup1,
            Width::B4 => Op::Dup4,
            Width::B8 => Op::Dup8,
            Width::B16 => Op::Dup16,
        },
        Instr::Swap => Op::Swap,
        Instr::Add => [Op::AddI32, Op::AddI64, Op::AddF64][numeric(top())],
        Instr::Sub => [Op::SubI32, Op::SubI64, Op::SubF64][numeric(top())],
        Instr::Mul => [Op::MulI32, Op::MulI64, Op::MulF64][numeric(top())],
        Instr::Div => [Op::DivI32, Op::DivI64, Op::DivF64][numeric(top())],
        Instr::Mod => [Op::ModI32, Op::ModI64, Op::ModF64][numeric(top())],
        Instr::Neg => [Op::NegI32, Op::NegI64, Op::NegF64][numeric(top())],
        Instr::Not => Op::Not,
        Instr::Eq | Instr::Ne | Instr::Lt | Instr::Le | Instr::Gt | Instr::Ge => {
            let k = match top() {
                I32 => 0,
                I64 => 1,
                F64 => 2,
                Bool => 3,
                Str => 4,
                other => unreachable!("the verifier refuses `{other}` in programs"),
            };
            let table: [Op; 5] = match instr {
                Instr::Eq => [Op::EqI32, Op::EqI64, Op::EqF64, Op::EqBool, Op::EqStr],
                Instr::Ne => [Op::NeI32, Op::NeI64, Op::NeF64, Op::NeBool, Op::NeStr],
                Instr::Lt => [Op::LtI32, Op::LtI64, Op::LtF64, Op::Unreachable, Op::LtStr],
                Instr::Le => [Op::LeI32, Op::LeI64, Op::LeF64, Op::Unreachable, Op::LeStr],
                Instr::Gt => [Op::GtI32, Op::GtI64, Op::GtF64, Op::Unreachable, Op::GtStr],
                _ => [Op::GeI32, Op::GeI64, Op::GeF64, Op::Unreachable, Op::GeStr],
            };
            table[k]
        }
        Instr::Load(n) => match width(locals[*n as usize].ty) {
            Width::B1 => Op::Load1(*n),
            Width::B4 => Op::Load4(*n),
            Width::B8 => Op::Load8(*n),
            Width::B16 => Op::Load16(*n),
        },
        Instr::Store(n) => match width(locals[*n as usize].ty) {
            Width::B1 => Op::Store1(*n),
            Width::B4 => Op::Store4(*n),
            Width::B8 => Op::Store8(*n),
            Width::B16 => Op::Store16(*n),
        },
        Instr::Jmp(t) => Op::Jmp(*t),
        Instr::Jz(t) => match top() {
            I32 => Op::JzI32(*t),
            _ => Op::JzBool(*t),
        },
        Instr::Jnz(t) => match top() {
            I32 => Op::JnzI32(*t),
            _ => Op::JnzBool(*t),
        },
        Instr::Call(f) => Op::Call(*f),
        Instr::Ret => Op::Ret,
        Instr::CallNative(slot) => {
            let import = program
                .import(*slot)
                .expect("the verifier found the import");
            Op::CallNative {
                slot: *slot,
                nargs: import.signature.params.len() as u32,
                ret: match import.signature.ret {
                    None => RetKind::Void,
                    Some(Bool) => RetKind::Bool,
                    Some(Str) => RetKind::Str,
                    Some(I32) => RetKind::I32,
                    Some(I64 | F64) => RetKind::Wide,
                    Some(other) => unreachable!("the verifier refuses `{other}` in programs"),
                },
            }
        }
    }
}
