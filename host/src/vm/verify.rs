//! The verifier: checks a program once, before it runs, and specializes
//! each instruction by type so the dispatch loop checks nothing.
//!
//! Like wasm validation, it follows every path through each function with
//! the types on the operand stack: where paths meet, the stacks must agree;
//! every instruction must find the types it needs; every jump must land in
//! its own function; every `CALL_NATIVE` must match its import; no function
//! may fall off its end or grow its stack past the limit.

use hotslot_plugin_api::HS_MAX_PARAMS;

use super::disasm;
use super::error::{JitError, VerifyError, VerifyErrorKind};
use super::lower::{Code, lower};
use super::program::{Instr, MAX_SLOT, Module, Program};
use crate::types::ValType;
use crate::types::is_identifier;

/// Limits the verifier enforces.
#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions {
    /// The deepest a function's operand stack may grow.
    pub max_stack: usize,
    /// The most locals (parameters included) a function may have.
    pub max_locals: usize,
}

impl Default for VerifyOptions {
    fn default() -> VerifyOptions {
        VerifyOptions {
            max_stack: 1024,
            max_locals: 4096,
        }
    }
}

/// A program that passed verification, with its specialized code.
///
/// Shared between VMs (`Arc<VerifiedProgram>`); nothing in it changes after
/// verification.
#[derive(Debug)]
pub struct VerifiedProgram {
    pub(crate) program: Program,
    /// The executable form.
    pub(crate) code: Code,
    pub(crate) funcs: Box<[FuncInfo]>,
    /// Operand stack types before each instruction; `None` where unreachable.
    pub(crate) types_at: Box<[Option<Box<[ValType]>>]>,
    /// The program compiled to native code, once asked for (`jit/`).
    #[cfg(feature = "jit")]
    pub(super) compiled:
        std::sync::OnceLock<Result<std::sync::Arc<super::jit::code::Compiled>, JitError>>,
}

/// What the VM needs of a function at run time.
#[derive(Clone, Debug)]
pub(crate) struct FuncInfo {
    pub(crate) start: u32,
    pub(crate) nparams: u32,
    pub(crate) local_types: Box<[ValType]>,
    pub(crate) max_depth: u32,
}

impl VerifiedProgram {
    /// The program as written.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The instruction at `pc` as assembly text.
    pub fn describe(&self, pc: u32) -> String {
        let p = &self.program;
        match (p.function_at(pc), p.code.get(pc as usize)) {
            (Some((_, f)), Some(i)) => disasm::instruction(p, f, i),
            _ => format!("<pc {pc}>"),
        }
    }

    /// Without the `jit` feature, never compiled: says so. (With it, the
    /// compiled engine defines this, `jit/mod.rs`.)
    #[cfg(not(feature = "jit"))]
    pub fn compile(&self) -> Result<(), JitError> {
        self.compiled().map(|_| ())
    }

    /// Without the `jit` feature: never compiled.
    #[cfg(not(feature = "jit"))]
    pub fn is_compiled(&self) -> bool {
        false
    }

    /// Without the `jit` feature: nothing to compile.
    #[cfg(not(feature = "jit"))]
    pub(crate) fn compile_in_background(self: &std::sync::Arc<Self>) {}

    /// Without the `jit` feature: never compiled.
    #[cfg(not(feature = "jit"))]
    pub(crate) fn compiled(&self) -> Result<&std::convert::Infallible, JitError> {
        Err(JitError::new("hotslot was built without its `jit` feature"))
    }

    /// The operand stack types before the instruction at `pc`, when it is
    /// reachable.
    pub fn stack_types(&self, pc: u32) -> Option<&[ValType]> {
        self.types_at.get(pc as usize)?.as_deref()
    }
}

/// Verifies `program` with the default limits.
/// Verifies `program` with the default limits.
pub fn verify(program: Program) -> Result<VerifiedProgram, VerifyError> {
    verify_with(program, VerifyOptions::default())
}

/// Verifies `program`.
pub fn verify_with(
    program: Program,
    options: VerifyOptions,
) -> Result<VerifiedProgram, VerifyError> {
    check_declarations(&program, &options)?;
    let n = program.code.len();
    let mut types_at: Vec<Option<Box<[ValType]>>> = vec![None; n];
    let mut funcs = Vec::with_capacity(program.functions.len());
    for (fi, f) in program.functions.iter().enumerate() {
        let mut v = FnVerifier {
            program: &program,
            fi,
            options: &options,
            types_at: &mut types_at,
            max_depth: 0,
        };
        v.run()?;
        funcs.push(FuncInfo {
            start: f.start,
            nparams: f.params.len() as u32,
            local_types: f.locals.iter().map(|l| l.ty).collect(),
            max_depth: v.max_depth as u32,
        });
    }
    let code = lower(&program, &types_at);
    Ok(VerifiedProgram {
        program,
        code,
        funcs: funcs.into(),
        types_at: types_at.into(),
        #[cfg(feature = "jit")]
        compiled: std::sync::OnceLock::new(),
    })
}

fn decl_error(kind: VerifyErrorKind) -> VerifyError {
    VerifyError {
        pc: None,
        instr: None,
        kind,
    }
}

fn check_declarations(p: &Program, options: &VerifyOptions) -> Result<(), VerifyError> {
    for (i, import) in p.imports.iter().enumerate() {
        if import.slot > MAX_SLOT {
            return Err(decl_error(VerifyErrorKind::SlotTooLarge {
                slot: import.slot,
                max: MAX_SLOT,
            }));
        }
        if p.imports[..i].iter().any(|o| o.slot == import.slot) {
            return Err(decl_error(VerifyErrorKind::DuplicateSlot {
                slot: import.slot,
            }));
        }
        if !is_identifier(&import.name) {
            return Err(decl_error(VerifyErrorKind::BadName {
                name: import.name.clone(),
            }));
        }
        if let Some(ty) = import
            .signature
            .params
            .iter()
            .chain(&import.signature.ret)
            .find(|t| !t.is_vm_type())
        {
            return Err(decl_error(VerifyErrorKind::NotAVmType {
                slot: import.slot,
                ty: *ty,
            }));
        }
        if import.signature.params.len() > HS_MAX_PARAMS {
            return Err(decl_error(VerifyErrorKind::TooManyParams {
                slot: import.slot,
                max: HS_MAX_PARAMS,
                found: import.signature.params.len(),
            }));
        }
    }
    let Some(main) = p.functions.first() else {
        return Err(decl_error(VerifyErrorKind::NoMain));
    };
    if !main.params.is_empty() || main.ret.is_some() {
        return Err(decl_error(VerifyErrorKind::MainSignature {
            found: main.signature(),
        }));
    }
    let mut expected_start = 0u32;
    for (i, f) in p.functions.iter().enumerate() {
        if !is_identifier(&f.name) {
            return Err(decl_error(VerifyErrorKind::BadName {
                name: f.name.clone(),
            }));
        }
        if p.functions[..i].iter().any(|o| o.name == f.name) {
            return Err(decl_error(VerifyErrorKind::DuplicateFunction {
                name: f.name.clone(),
            }));
        }
        if f.start != expected_start || f.end < f.start {
            return Err(decl_error(VerifyErrorKind::Layout {
                function: f.name.clone(),
                expected_start,
                start: f.start,
                end: f.end,
            }));
        }
        if f.start == f.end {
            return Err(decl_error(VerifyErrorKind::EmptyFunction {
                function: f.name.clone(),
            }));
        }
        expected_start = f.end;
        if f.locals.len() > options.max_locals {
            return Err(decl_error(VerifyErrorKind::TooManyLocals {
                function: f.name.clone(),
                max: options.max_locals,
                found: f.locals.len(),
            }));
        }
        let local_types = f.locals.iter().map(|l| l.ty);
        if f.locals.len() < f.params.len()
            || !local_types
                .take(f.params.len())
                .eq(f.params.iter().copied())
        {
            return Err(decl_error(VerifyErrorKind::ParamsNotLocals {
                function: f.name.clone(),
            }));
        }
    }
    if expected_start as usize != p.code.len() {
        return Err(decl_error(VerifyErrorKind::CodeOutsideFunctions {
            from: expected_start,
            len: p.code.len(),
        }));
    }
    if let Some(m) = &p.module {
        check_module(p, m)?;
    }
    Ok(())
}

/// A script module's declarations: its name, its exports (each a function
/// of it, once), and a `main` that only halts.
fn check_module(p: &Program, m: &Module) -> Result<(), VerifyError> {
    if !is_identifier(&m.name) {
        return Err(decl_error(VerifyErrorKind::BadName {
            name: m.name.clone(),
        }));
    }
    for (i, e) in m.exports.iter().enumerate() {
        if e.function == "main" || !p.functions.iter().any(|f| f.name == e.function) {
            return Err(decl_error(VerifyErrorKind::UnknownExport {
                name: e.function.clone(),
            }));
        }
        if m.exports[..i].iter().any(|o| o.function == e.function) {
            return Err(decl_error(VerifyErrorKind::DuplicateExport {
                name: e.function.clone(),
            }));
        }
    }
    let main = &p.functions[0];
    if !main.locals.is_empty()
        || p.code.get(main.start as usize..main.end as usize) != Some(&[Instr::Halt])
    {
        return Err(decl_error(VerifyErrorKind::ModuleCode));
    }
    Ok(())
}

struct FnVerifier<'a> {
    program: &'a Program,
    fi: usize,
    options: &'a VerifyOptions,
    types_at: &'a mut Vec<Option<Box<[ValType]>>>,
    max_depth: usize,
}

impl FnVerifier<'_> {
    fn run(&mut self) -> Result<(), VerifyError> {
        let f = &self.program.functions[self.fi];
        let mut work = vec![f.start];
        self.types_at[f.start as usize] = Some(Box::new([]));
        while let Some(pc) = work.pop() {
            let stack = self.types_at[pc as usize]
                .clone()
                .expect("queued pcs have a state");
            let (after, succs) = self.step(pc, stack.into_vec())?;
            for succ in succs.into_iter().flatten() {
                match &self.types_at[succ as usize] {
                    None => {
                        self.types_at[succ as usize] = Some(after.clone().into_boxed_slice());
                        work.push(succ);
                    }
                    Some(existing) if **existing == *after => {}
                    Some(existing) => {
                        return Err(self.error(
                            pc,
                            VerifyErrorKind::StackMismatch {
                                at: succ,
                                expected: existing.to_vec(),
                                found: after,
                            },
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn error(&self, pc: u32, kind: VerifyErrorKind) -> VerifyError {
        let f = &self.program.functions[self.fi];
        VerifyError {
            pc: Some(pc),
            instr: self
                .program
                .code
                .get(pc as usize)
                .map(|i| disasm::instruction(self.program, f, i)),
            kind,
        }
    }

    fn pop(
        &self,
        pc: u32,
        stack: &mut Vec<ValType>,
        expected: &[ValType],
    ) -> Result<(), VerifyError> {
        if stack.len() < expected.len() {
            return Err(self.error(
                pc,
                VerifyErrorKind::Underflow {
                    needed: expected.len(),
                    found: stack.len(),
                },
            ));
        }
        let top = &stack[stack.len() - expected.len()..];
        if top != expected {
            return Err(self.error(
                pc,
                VerifyErrorKind::TypeMismatch {
                    expected: expected.to_vec(),
                    found: top.to_vec(),
                },
            ));
        }
        stack.truncate(stack.len() - expected.len());
        Ok(())
    }

    fn top(&self, pc: u32, stack: &[ValType], n: usize) -> Result<ValType, VerifyError> {
        if stack.len() < n {
            return Err(self.error(
                pc,
                VerifyErrorKind::Underflow {
                    needed: n,
                    found: stack.len(),
                },
            ));
        }
        Ok(stack[stack.len() - 1])
    }

    /// Applies the instruction at `pc` to `stack`: the stack after it, and
    /// where execution continues.
    fn step(
        &mut self,
        pc: u32,
        mut s: Vec<ValType>,
    ) -> Result<(Vec<ValType>, [Option<u32>; 2]), VerifyError> {
        use ValType::*;
        let f = &self.program.functions[self.fi];
        let instr = &self.program.code[pc as usize];
        let next = pc + 1;
        let mut succ = [Some(next), None];
        let numeric = |v: &Self, pc, t: ValType| -> Result<(), VerifyError> {
            if matches!(t, I32 | I64 | F64) {
                Ok(())
            } else {
                Err(v.error(pc, VerifyErrorKind::NotNumeric { found: t }))
            }
        };
        match instr {
            Instr::Nop => {}
            Instr::Halt => succ = [None, None],
            Instr::Print | Instr::Pop => {
                self.top(pc, &s, 1)?;
                s.pop();
            }
            Instr::Push(c) => s.push(c.ty()),
            Instr::Dup => {
                let t = self.top(pc, &s, 1)?;
                s.push(t);
            }
            Instr::Swap => {
                self.top(pc, &s, 2)?;
                let n = s.len();
                s.swap(n - 1, n - 2);
            }
            Instr::Add | Instr::Sub | Instr::Mul | Instr::Div | Instr::Mod => {
                let t = self.top(pc, &s, 2)?;
                numeric(self, pc, t)?;
                self.pop(pc, &mut s, &[t, t])?;
                s.push(t);
            }
            Instr::Neg => {
                let t = self.top(pc, &s, 1)?;
                numeric(self, pc, t)?;
            }
            Instr::Not => {
                self.pop(pc, &mut s, &[Bool])?;
                s.push(Bool);
            }
            Instr::Eq | Instr::Ne | Instr::Lt | Instr::Le | Instr::Gt | Instr::Ge => {
                let t = self.top(pc, &s, 2)?;
                self.pop(pc, &mut s, &[t, t])?;
                s.push(Bool);
                let ordered = !matches!(instr, Instr::Eq | Instr::Ne);
                if ordered && t == Bool {
                    return Err(self.error(pc, VerifyErrorKind::NotOrdered));
                }
            }
            Instr::Load(n) | Instr::Store(n) => {
                let Some(local) = f.locals.get(*n as usize) else {
                    return Err(self.error(
                        pc,
                        VerifyErrorKind::BadLocal {
                            index: *n,
                            count: f.locals.len(),
                        },
                    ));
                };
                if matches!(instr, Instr::Load(_)) {
                    s.push(local.ty);
                } else {
                    self.pop(pc, &mut s, &[local.ty])?;
                }
            }
            Instr::Jmp(t) | Instr::Jz(t) | Instr::Jnz(t) => {
                if *t < f.start || *t >= f.end {
                    return Err(self.error(
                        pc,
                        VerifyErrorKind::BadJump {
                            target: *t,
                            function: f.name.clone(),
                            start: f.start,
                            end: f.end,
                        },
                    ));
                }
                if matches!(instr, Instr::Jmp(_)) {
                    succ = [Some(*t), None];
                } else {
                    let c = self.top(pc, &s, 1)?;
                    if !matches!(c, I32 | Bool) {
                        return Err(self.error(pc, VerifyErrorKind::BadCondition { found: c }));
                    }
                    s.pop();
                    succ = [Some(next), Some(*t)];
                }
            }
            Instr::Call(callee) => {
                let Some(g) = self.program.functions.get(*callee as usize) else {
                    return Err(self.error(pc, VerifyErrorKind::UnknownFunction { index: *callee }));
                };
                if *callee == 0 {
                    return Err(self.error(pc, VerifyErrorKind::CallsMain));
                }
                self.pop(pc, &mut s, &g.params)?;
                s.extend(g.ret);
            }
            Instr::CallNative(slot) => {
                let Some(import) = self.program.import(*slot) else {
                    return Err(self.error(pc, VerifyErrorKind::UnknownSlot { slot: *slot }));
                };
                self.pop(pc, &mut s, &import.signature.params)?;
                s.extend(import.signature.ret);
            }
            Instr::Ret => {
                let expected: Vec<ValType> = f.ret.into_iter().collect();
                if s != expected {
                    return Err(self.error(pc, VerifyErrorKind::Return { expected, found: s }));
                }
                succ = [None, None];
            }
        }
        if s.len() > self.options.max_stack {
            return Err(self.error(
                pc,
                VerifyErrorKind::StackLimit {
                    limit: self.options.max_stack,
                },
            ));
        }
        self.max_depth = self.max_depth.max(s.len());
        if succ[0] == Some(next) && next >= f.end {
            return Err(self.error(
                pc,
                VerifyErrorKind::FallsOffEnd {
                    function: f.name.clone(),
                },
            ));
        }
        Ok((s, succ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::asm::assemble;
    use crate::vm::lower::{Op, RetKind};

    fn check(src: &str) -> Result<VerifiedProgram, VerifyError> {
        verify(assemble(src).expect("the test program assembles"))
    }

    fn kind(src: &str) -> VerifyErrorKind {
        check(src).expect_err("verification must fail").kind
    }

    #[test]
    fn the_math_program_verifies() {
        let v = check(
            ".import 0 math_add (i32, i32) -> i32\nPUSH 10\nPUSH 5\nCALL_NATIVE 0\nPRINT\nHALT",
        )
        .unwrap();
        assert_eq!(
            v.code.ops[2],
            Op::CallNative {
                slot: 0,
                nargs: 2,
                ret: RetKind::I32
            }
        );
        assert_eq!(v.stack_types(3), Some(&[ValType::I32][..]));
        assert_eq!(v.funcs[0].max_depth, 2);
    }

    #[test]
    fn instructions_are_specialized_by_type() {
        let v =
            check("PUSH i64 1\nPUSH i64 2\nADD\nPUSH f64 1\nPUSH f64 2\nLT\nJZ e\ne: POP\nHALT")
                .unwrap();
        assert_eq!(v.code.ops[2], Op::AddI64);
        assert_eq!(v.code.ops[5], Op::LtF64);
        assert_eq!(v.code.ops[6], Op::JzBool(7));
    }

    #[test]
    fn every_rejection_has_its_own_error() {
        assert!(matches!(
            kind("POP\nHALT"),
            VerifyErrorKind::Underflow {
                needed: 1,
                found: 0
            }
        ));
        assert!(matches!(
            kind("PUSH 1\nPUSH i64 2\nADD\nHALT"),
            VerifyErrorKind::TypeMismatch { .. }
        ));
        assert!(matches!(
            kind("PUSH true\nPUSH true\nADD\nHALT"),
            VerifyErrorKind::NotNumeric {
                found: ValType::Bool
            }
        ));
        assert!(matches!(
            kind("PUSH true\nPUSH true\nLT\nHALT"),
            VerifyErrorKind::NotOrdered
        ));
        assert!(matches!(
            kind("PUSH 1\nNOT\nHALT"),
            VerifyErrorKind::TypeMismatch { .. }
        ));
        assert!(matches!(
            kind("PUSH 1\nJZ x\nPUSH 2\nx: HALT"),
            VerifyErrorKind::StackMismatch { at: 3, .. }
        ));
        assert!(matches!(
            kind("PUSH 1\n"),
            VerifyErrorKind::FallsOffEnd { .. }
        ));
        assert!(matches!(
            kind("CALL_NATIVE 4\nHALT"),
            VerifyErrorKind::UnknownSlot { slot: 4 }
        ));
        assert!(matches!(
            kind(".import 0 f (i32) -> void\nPUSH 1.5\nCALL_NATIVE 0\nHALT"),
            VerifyErrorKind::TypeMismatch { .. }
        ));
        assert!(matches!(
            kind("LOAD 3\nHALT"),
            VerifyErrorKind::BadLocal { index: 3, count: 0 }
        ));
        assert!(matches!(
            kind(".local x str\nPUSH 1\nSTORE x\nHALT"),
            VerifyErrorKind::TypeMismatch { .. }
        ));
        assert!(matches!(
            kind("PUSH 2.5\nJZ x\nx: HALT"),
            VerifyErrorKind::BadCondition {
                found: ValType::F64
            }
        ));
        assert!(matches!(
            kind("HALT\n.func f () -> i32\nPUSH 1\nPUSH 2\nRET\n.end"),
            VerifyErrorKind::Return { .. }
        ));
        assert!(matches!(
            kind("JMP inner\n.func f () -> void\ninner: RET\n.end"),
            VerifyErrorKind::BadJump { target: 1, .. }
        ));
        assert!(matches!(
            kind("x: PUSH 1\nJMP x"),
            VerifyErrorKind::StackMismatch { .. }
        ));
        assert!(matches!(kind(""), VerifyErrorKind::EmptyFunction { .. }));
        let deep = "PUSH 1\n".repeat(1025) + "HALT";
        assert!(matches!(
            kind(&deep),
            VerifyErrorKind::StackLimit { limit: 1024 }
        ));
    }

    #[test]
    fn declarations_are_checked() {
        let mut p = assemble("HALT").unwrap();
        p.functions[0].end = 0;
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::EmptyFunction { .. }
        ));

        let mut p = assemble("HALT").unwrap();
        p.code.push(Instr::Halt);
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::CodeOutsideFunctions { .. }
        ));

        let mut p = assemble("HALT\n.func f () -> void\nRET\n.end").unwrap();
        p.functions[1].start = 0;
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::Layout { .. }
        ));

        let mut p = assemble("HALT").unwrap();
        p.functions[0].params.push(ValType::I32);
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::MainSignature { .. }
        ));

        let mut p = assemble("HALT\n.func f (a: i32) -> void\nRET\n.end").unwrap();
        p.functions[1].locals.clear();
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::ParamsNotLocals { .. }
        ));

        let p = Program::default();
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::NoMain
        ));

        let mut p = assemble("HALT\n.func f () -> void\nRET\n.end").unwrap();
        p.code[0] = Instr::Call(7);
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::UnknownFunction { index: 7 }
        ));

        let mut p = assemble("HALT\n.func f () -> void\nRET\n.end").unwrap();
        p.code[1] = Instr::Call(0);
        p.code.insert(2, Instr::Ret);
        p.functions[1].end = 3;
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::CallsMain
        ));

        let mut p = assemble(".import 0 f () -> void\n.import 1 g () -> void\nHALT").unwrap();
        p.imports[1].slot = 0;
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::DuplicateSlot { slot: 0 }
        ));

        let mut p = assemble(".import 0 f () -> void\nHALT").unwrap();
        p.imports[0].signature.params = vec![ValType::I32; 17];
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::TooManyParams { .. }
        ));

        let mut p = assemble("HALT\n.func f () -> void\nRET\n.end").unwrap();
        p.functions[1].name = "main".into();
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::DuplicateFunction { .. }
        ));

        let mut p = assemble("HALT").unwrap();
        p.functions[0].name = "no good".into();
        assert!(matches!(
            verify(p).unwrap_err().kind,
            VerifyErrorKind::BadName { .. }
        ));
    }

    #[test]
    fn errors_name_pc_and_instruction() {
        let e = check("PUSH true\nPUSH 1\nADD\nHALT").unwrap_err();
        assert_eq!(e.pc, Some(2));
        assert_eq!(
            e.to_string(),
            "pc 2 (`ADD`): type mismatch: expected (i32, i32), found (bool, i32)"
        );
    }

    #[test]
    fn unreachable_code_is_allowed_and_trapped() {
        let v = check("JMP e\nPOP\ne: HALT").unwrap();
        assert_eq!(v.code.ops[1], Op::Unreachable);
        assert_eq!(v.stack_types(1), None);
    }
}
