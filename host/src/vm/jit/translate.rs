//! Verified bytecode to Cranelift IR, one function at a time.
//!
//! The verifier gave every operand stack slot and local one type at each
//! instruction; here each becomes a Cranelift variable of that type (an
//! `i32`, `i64`, `f64`, or a byte for a `bool`), so values live in
//! registers. Strings stay where the interpreter keeps them, in the VM's
//! stack: the string collector finds and moves them there, and a string is
//! two words a native call or a callee reads from memory anyway.
//!
//! A function's frame is laid out in the VM's stack exactly as the
//! interpreter lays it out (its locals from `bp`, then its operands), and
//! every frame writes its values there when the run halts or pauses, so a
//! compiled run leaves the machine where the interpreter would. Every
//! instruction keeps the interpreter's meaning: integers wrap, a division
//! by zero or of the smallest integer by -1 faults, a call checks the depth
//! and the stack's capacity first, fuel is spent on backward jumps and
//! calls. Calls and returns, to functions of the program and to natives,
//! are in `calls.rs`.

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    AbiParam, Block, FuncRef, InstBuilder, MemFlagsData, SigRef, Signature, TrapCode, Type, Value,
    types,
};
use cranelift_frontend::{FunctionBuilder, Variable};

use super::runtime::{Env, FAULT, HALTED, PAUSED, fault};
use crate::types::ValType;
use crate::vm::lower::Op;
use crate::vm::program::{Const, Instr};
use crate::vm::verify::VerifiedProgram;

/// Bytes of one stack value.
pub(super) const SLOT: i32 = 16;

/// The Cranelift type of a value of `ty`; `None` for a string, which lives
/// in the VM's stack.
pub(super) fn cl_type(ty: ValType) -> Option<Type> {
    match ty {
        ValType::I32 => Some(types::I32),
        ValType::I64 => Some(types::I64),
        ValType::F64 => Some(types::F64),
        ValType::Bool => Some(types::I8),
        _ => None,
    }
}

/// The `PRINT` helper's tag for `ty`.
pub(super) fn tag(ty: ValType) -> i64 {
    match ty {
        ValType::I32 => 0,
        ValType::I64 => 1,
        ValType::F64 => 2,
        ValType::Bool => 3,
        _ => 4,
    }
}

/// The signature of function `f`'s compiled code: the environment, its
/// frame's base, its non-string parameters; its status, then its result
/// unless it returns a string (left at its base) or nothing.
pub(super) fn signature(p: &VerifiedProgram, f: usize, mut sig: Signature, ptr: Type) -> Signature {
    let func = &p.program.functions[f];
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(ptr));
    sig.params.extend(
        func.params
            .iter()
            .filter_map(|t| cl_type(*t))
            .map(AbiParam::new),
    );
    sig.returns.push(AbiParam::new(types::I32));
    if let Some(t) = func.ret.and_then(cl_type) {
        sig.returns.push(AbiParam::new(t));
    }
    sig
}

/// The addresses of the host functions compiled code calls.
#[derive(Clone, Copy)]
pub(super) struct Helpers {
    pub(super) print: i64,
    pub(super) compare: i64,
    pub(super) remainder: i64,
}

/// The signatures compiled code calls helpers and natives with.
pub(super) struct Sigs {
    pub(super) call_native: SigRef,
    pub(super) finish_native: SigRef,
    pub(super) print: SigRef,
    pub(super) compare: SigRef,
    pub(super) remainder: SigRef,
}

/// Memory the VM owns, aligned, never trapping.
pub(super) fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Offsets of the environment's fields.
macro_rules! env_at {
    ($field:ident) => {
        std::mem::offset_of!(Env, $field) as i32
    };
}
pub(super) use env_at;

pub(super) struct Translator<'a, 'f> {
    pub(super) b: FunctionBuilder<'f>,
    pub(super) p: &'a VerifiedProgram,
    pub(super) fi: usize,
    pub(super) ptr: Type,
    pub(super) funcs: &'a [FuncRef],
    pub(super) sigs: Sigs,
    pub(super) helpers: Helpers,
    pub(super) config: cranelift_codegen::isa::TargetFrontendConfig,
    pub(super) env: Value,
    pub(super) bp: Value,
    pub(super) locals: Vec<Option<Variable>>,
    pub(super) stack: HashMap<(usize, Type), Variable>,
    pub(super) fuel: Variable,
    pub(super) nlocals: usize,
    pub(super) blocks: HashMap<u32, Block>,
    /// Whether frame records are written at every call (a string
    /// collection, which may happen during a native call, reads them all),
    /// or only when the run stops inside a call.
    pub(super) eager_frames: bool,
    /// Values of the run that do not change: the frame's base as a stack
    /// index, the stack's capacity, the depth limit, the native stack's.
    pub(super) base: Value,
    pub(super) capacity: Value,
    pub(super) max_depth: Value,
    pub(super) stack_limit: Value,
}

impl<'a, 'f> Translator<'a, 'f> {
    #[expect(clippy::too_many_arguments, reason = "the parts of one translation")]
    pub(super) fn new(
        b: FunctionBuilder<'f>,
        p: &'a VerifiedProgram,
        fi: usize,
        ptr: Type,
        funcs: &'a [FuncRef],
        sigs: Sigs,
        helpers: Helpers,
        config: cranelift_codegen::isa::TargetFrontendConfig,
    ) -> Self {
        let mut t = Translator {
            b,
            p,
            fi,
            ptr,
            funcs,
            sigs,
            helpers,
            config,
            env: Value::from_u32(0),
            bp: Value::from_u32(0),
            locals: Vec::new(),
            stack: HashMap::new(),
            fuel: Variable::from_u32(0),
            nlocals: p.funcs[fi].local_types.len(),
            blocks: HashMap::new(),
            eager_frames: p
                .program
                .imports
                .iter()
                .any(|i| i.signature.ret == Some(ValType::Str)),
            base: Value::from_u32(0),
            capacity: Value::from_u32(0),
            max_depth: Value::from_u32(0),
            stack_limit: Value::from_u32(0),
        };
        t.fuel = t.b.declare_var(types::I64);
        t
    }

    pub(super) fn local_type(&self, i: usize) -> ValType {
        self.p.funcs[self.fi].local_types[i]
    }

    /// The variable of operand stack position `pos` holding type `ty`.
    pub(super) fn var(&mut self, pos: usize, ty: Type) -> Variable {
        if let Some(v) = self.stack.get(&(pos, ty)) {
            return *v;
        }
        let v = self.b.declare_var(ty);
        self.stack.insert((pos, ty), v);
        v
    }

    pub(super) fn get(&mut self, pos: usize, ty: ValType) -> Value {
        let t = cl_type(ty).expect("a string is read from memory");
        let v = self.var(pos, t);
        self.b.use_var(v)
    }

    pub(super) fn set(&mut self, pos: usize, ty: ValType, value: Value) {
        let t = cl_type(ty).expect("a string is written to memory");
        let v = self.var(pos, t);
        self.b.def_var(v, value);
    }

    /// The stack index of operand position `pos`, from `bp`.
    pub(super) fn operand(&self, pos: usize) -> i32 {
        ((self.nlocals + pos) as i32) * SLOT
    }

    pub(super) fn local_at(i: usize) -> i32 {
        i as i32 * SLOT
    }

    /// Copies the 16 bytes of a stack slot (a string view) at `from` to `to`.
    pub(super) fn copy_slot(&mut self, from: i32, to: i32) {
        let bp = self.bp;
        let lo = self.b.ins().load(types::I64, flags(), bp, from);
        let hi = self.b.ins().load(types::I64, flags(), bp, from + 8);
        self.b.ins().store(flags(), lo, bp, to);
        self.b.ins().store(flags(), hi, bp, to + 8);
    }

    /// Writes `value` of `ty` to the stack slot at `offset` from `bp`, at
    /// its own width.
    pub(super) fn store_value(&mut self, value: Value, offset: i32) {
        let bp = self.bp;
        self.b.ins().store(flags(), value, bp, offset);
    }

    pub(super) fn zero_slot(&mut self, offset: i32) {
        let bp = self.bp;
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().store(flags(), zero, bp, offset);
        self.b.ins().store(flags(), zero, bp, offset + 8);
    }

    /// Writes every local and the operands `types` (their positions from
    /// 0) to the VM's stack: the frame as the interpreter would hold it.
    pub(super) fn spill(&mut self, types: &[ValType]) {
        for i in 0..self.nlocals {
            if let Some(v) = self.locals[i] {
                let value = self.b.use_var(v);
                self.store_value(value, Self::local_at(i));
            }
        }
        for (pos, ty) in types.iter().enumerate() {
            if cl_type(*ty).is_some() {
                let value = self.get(pos, *ty);
                let at = self.operand(pos);
                self.store_value(value, at);
            }
        }
    }

    /// This frame's base as a stack index (computed once, at entry).
    pub(super) fn bp_index(&mut self) -> Value {
        self.base
    }

    pub(super) fn as_i64(&mut self, v: Value) -> Value {
        if self.ptr == types::I64 {
            v
        } else {
            self.b.ins().uextend(types::I64, v)
        }
    }

    pub(super) fn store_env(&mut self, value: Value, offset: i32) {
        let env = self.env;
        self.b.ins().store(flags(), value, env, offset);
    }

    pub(super) fn load_env(&mut self, ty: Type, offset: i32) -> Value {
        let env = self.env;
        self.b.ins().load(ty, flags(), env, offset)
    }

    /// Leaves the function with `status`, the frame written as it stands
    /// before `pc` with the operands `types`, the machine at `next` with
    /// `types.len()` operands.
    pub(super) fn stop(&mut self, status: i32, types: &[ValType], next: u32) {
        self.spill(types);
        let next = self.b.ins().iconst(types::I64, i64::from(next));
        self.store_env(next, env_at!(pc));
        let base = self.bp_index();
        let sp = self
            .b
            .ins()
            .iadd_imm_s(base, (self.nlocals + types.len()) as i64);
        self.store_env(sp, env_at!(sp));
        let fuel = self.b.use_var(self.fuel);
        self.store_env(fuel, env_at!(fuel));
        self.ret_status(status);
    }

    /// Returns `status` (and a zero result where the signature has one).
    pub(super) fn ret_status(&mut self, status: i32) {
        let s = self.b.ins().iconst(types::I32, i64::from(status));
        match self.p.program.functions[self.fi].ret.and_then(cl_type) {
            None => {
                self.b.ins().return_(&[s]);
            }
            Some(t) => {
                let zero = self.zero(t);
                self.b.ins().return_(&[s, zero]);
            }
        }
    }

    pub(super) fn zero(&mut self, t: Type) -> Value {
        if t == types::F64 {
            self.b.ins().f64const(0.0)
        } else {
            self.b.ins().iconst(t, 0)
        }
    }

    /// Leaves with a fault of `code` at `pc`.
    pub(super) fn fault(&mut self, code: u64, pc: u32) {
        let code = self.b.ins().iconst(types::I64, code as i64);
        self.store_env(code, env_at!(fault));
        let pc = self.b.ins().iconst(types::I64, i64::from(pc));
        self.store_env(pc, env_at!(fault_pc));
        self.ret_status(FAULT);
    }

    /// Branches to a new cold block that faults with `code` at `pc` when
    /// `cond` holds; goes on in a new block otherwise.
    pub(super) fn fault_if(&mut self, cond: Value, code: u64, pc: u32) {
        let faulted = self.b.create_block();
        let next = self.b.create_block();
        self.b.set_cold_block(faulted);
        self.b.ins().brif(cond, faulted, &[], next, &[]);
        self.b.switch_to_block(faulted);
        self.fault(code, pc);
        self.b.switch_to_block(next);
    }

    /// The block that starts at `pc`.
    pub(super) fn block(&mut self, pc: u32) -> Block {
        if let Some(b) = self.blocks.get(&pc) {
            return *b;
        }
        let b = self.b.create_block();
        self.blocks.insert(pc, b);
        b
    }

    /// Where a jump from `pc` to `target` goes: the target's block, or for
    /// a backward jump a new block that spends fuel first (the interpreter
    /// spends fuel on backward jumps only), to be filled with
    /// [`fill_check`](Self::fill_check) once the jump is written.
    pub(super) fn jump_target(&mut self, pc: u32, target: u32) -> (Block, Option<Block>) {
        let dest = self.block(target);
        if target > pc {
            return (dest, None);
        }
        let check = self.b.create_block();
        (check, Some(check))
    }

    /// Fills a fuel check made by [`jump_target`](Self::jump_target) for a
    /// jump to `target`: one unit spent, then the target, or a pause there
    /// when none is left.
    pub(super) fn fill_check(&mut self, check: Option<Block>, target: u32) {
        let Some(check) = check else { return };
        let dest = self.block(target);
        self.b.switch_to_block(check);
        let fuel = self.b.use_var(self.fuel);
        let fuel = self.b.ins().iadd_imm_s(fuel, -1);
        self.b.def_var(self.fuel, fuel);
        let out = self.b.create_block();
        self.b.set_cold_block(out);
        self.b.ins().brif(fuel, dest, &[], out, &[]);
        self.b.switch_to_block(out);
        let types = self.p.stack_types(target).unwrap_or(&[]).to_vec();
        self.stop(PAUSED, &types, target);
    }

    /// Translates the function.
    pub(super) fn translate(mut self) {
        let p = self.p;
        let func = &p.program.functions[self.fi];
        let info = &p.funcs[self.fi];
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        self.env = params[0];
        self.bp = params[1];
        let mut numeric = params[2..].iter();
        for i in 0..self.nlocals {
            let ty = self.local_type(i);
            let var = cl_type(ty).map(|t| self.b.declare_var(t));
            self.locals.push(var);
            match (var, i < info.nparams as usize) {
                (Some(v), true) => {
                    let value = *numeric.next().expect("a parameter per numeric param");
                    self.b.def_var(v, value);
                }
                (Some(v), false) => {
                    let t = cl_type(ty).expect("numeric");
                    let zero = self.zero(t);
                    self.b.def_var(v, zero);
                }
                // A string parameter is in its slot already; a string
                // local starts as "".
                (None, true) => {}
                (None, false) => self.zero_slot(Self::local_at(i)),
            }
        }
        let fuel = self.load_env(types::I64, env_at!(fuel));
        self.b.def_var(self.fuel, fuel);
        let bottom = self.load_env(self.ptr, env_at!(bottom));
        let bytes = self.b.ins().isub(self.bp, bottom);
        let index = self.b.ins().ushr_imm_u(bytes, 4);
        self.base = self.as_i64(index);
        self.capacity = self.load_env(types::I64, env_at!(capacity));
        self.max_depth = self.load_env(types::I64, env_at!(max_depth));
        self.stack_limit = self.load_env(self.ptr, env_at!(stack_limit));
        // Where blocks start: jump targets, and what follows a branch.
        for pc in func.start..func.end {
            match p.program.code[pc as usize] {
                Instr::Jmp(t) => {
                    self.block(t);
                }
                Instr::Jz(t) | Instr::Jnz(t) => {
                    self.block(t);
                    self.block(pc + 1);
                }
                _ => {}
            }
        }
        let first = self.block(func.start);
        self.b.ins().jump(first, &[]);
        let mut open = false;
        for pc in func.start..func.end {
            if let Some(&b) = self.blocks.get(&pc) {
                if open {
                    self.b.ins().jump(b, &[]);
                }
                self.b.switch_to_block(b);
                open = true;
            }
            if !open {
                continue;
            }
            let Some(types) = p.stack_types(pc).map(<[ValType]>::to_vec) else {
                // Unreachable (the verifier found no path here).
                self.b.ins().trap(TrapCode::unwrap_user(1));
                open = false;
                continue;
            };
            open = self.instruction(pc, &types);
        }
        if open {
            // The verifier refuses a function that falls off its end.
            self.b.ins().trap(TrapCode::unwrap_user(1));
        }
        self.b.seal_all_blocks();
        self.b.finalize(self.config);
    }

    /// Translates the instruction at `pc`, with `types` on the stack
    /// before it; whether execution falls through to the next.
    pub(super) fn instruction(&mut self, pc: u32, types: &[ValType]) -> bool {
        let p = self.p;
        let n = types.len();
        let top = |k: usize| types[n - k];
        match &p.program.code[pc as usize] {
            Instr::Nop | Instr::Pop => {}
            Instr::Halt => {
                self.stop(HALTED, types, pc + 1);
                return false;
            }
            Instr::Print => {
                let ty = top(1);
                let at = self.operand(n - 1);
                if cl_type(ty).is_some() {
                    let v = self.get(n - 1, ty);
                    self.store_value(v, at);
                }
                let addr = self.b.ins().iadd_imm_s(self.bp, i64::from(at));
                let tag = self.b.ins().iconst(types::I32, tag(ty));
                let pc_v = self.b.ins().iconst(types::I32, i64::from(pc));
                let env = self.env;
                let status =
                    self.helper(self.helpers.print, self.sigs.print, &[env, tag, addr, pc_v]);
                self.fault_pending_if(status);
            }
            Instr::Dup => {
                let ty = top(1);
                if cl_type(ty).is_some() {
                    let v = self.get(n - 1, ty);
                    self.set(n, ty, v);
                } else {
                    self.copy_slot(self.operand(n - 1), self.operand(n));
                }
            }
            Instr::Swap => self.swap(n, top(2), top(1)),
            Instr::Add | Instr::Sub | Instr::Mul | Instr::Div | Instr::Mod => {
                self.arithmetic(pc, n, top(1));
            }
            Instr::Neg => {
                let ty = top(1);
                let v = self.get(n - 1, ty);
                let r = if ty == ValType::F64 {
                    self.b.ins().fneg(v)
                } else {
                    self.b.ins().ineg(v)
                };
                self.set(n - 1, ty, r);
            }
            Instr::Not => {
                let v = self.get(n - 1, ValType::Bool);
                let r = self.b.ins().bxor_imm_u(v, 1);
                self.set(n - 1, ValType::Bool, r);
            }
            instr @ (Instr::Eq | Instr::Ne | Instr::Lt | Instr::Le | Instr::Gt | Instr::Ge) => {
                self.compare(instr, n, top(1));
            }
            Instr::Push(c) => self.push(pc, n, c),
            Instr::Load(l) => {
                let l = *l as usize;
                match self.locals[l] {
                    Some(v) => {
                        let value = self.b.use_var(v);
                        self.set(n, self.local_type(l), value);
                    }
                    None => self.copy_slot(Self::local_at(l), self.operand(n)),
                }
            }
            Instr::Store(l) => {
                let l = *l as usize;
                match self.locals[l] {
                    Some(v) => {
                        let value = self.get(n - 1, self.local_type(l));
                        self.b.def_var(v, value);
                    }
                    None => self.copy_slot(self.operand(n - 1), Self::local_at(l)),
                }
            }
            Instr::Jmp(t) => {
                let (dest, check) = self.jump_target(pc, *t);
                self.b.ins().jump(dest, &[]);
                self.fill_check(check, *t);
                return false;
            }
            instr @ (Instr::Jz(t) | Instr::Jnz(t)) => {
                let c = self.get(n - 1, top(1));
                let (taken, check) = self.jump_target(pc, *t);
                let next = self.block(pc + 1);
                if matches!(instr, Instr::Jz(_)) {
                    self.b.ins().brif(c, next, &[], taken, &[]);
                } else {
                    self.b.ins().brif(c, taken, &[], next, &[]);
                }
                self.fill_check(check, *t);
                return false;
            }
            Instr::Call(g) => self.call(pc, types, *g as usize),
            Instr::Ret => {
                self.ret(pc, types);
                return false;
            }
            Instr::CallNative(slot) => self.call_native(pc, types, *slot),
        }
        true
    }

    /// Goes on when a helper returned OK; leaves with [`FAULT`] (the
    /// helper recorded which) otherwise.
    pub(super) fn fault_pending_if(&mut self, status: Value) {
        let faulted = self.b.create_block();
        let next = self.b.create_block();
        self.b.set_cold_block(faulted);
        self.b.ins().brif(status, faulted, &[], next, &[]);
        self.b.switch_to_block(faulted);
        self.ret_status(FAULT);
        self.b.switch_to_block(next);
    }

    /// Calls the helper at `address` with `args`; its first result.
    pub(super) fn helper(&mut self, address: i64, sig: SigRef, args: &[Value]) -> Value {
        let callee = self.b.ins().iconst(self.ptr, address);
        let call = self.b.ins().call_indirect(sig, callee, args);
        self.b.inst_results(call)[0]
    }

    pub(super) fn swap(&mut self, n: usize, below: ValType, above: ValType) {
        let (a, b) = (n - 2, n - 1);
        match (cl_type(below).is_some(), cl_type(above).is_some()) {
            (true, true) => {
                let va = self.get(a, below);
                let vb = self.get(b, above);
                self.set(a, above, vb);
                self.set(b, below, va);
            }
            (false, true) => {
                let vb = self.get(b, above);
                self.copy_slot(self.operand(a), self.operand(b));
                self.set(a, above, vb);
            }
            (true, false) => {
                let va = self.get(a, below);
                self.copy_slot(self.operand(b), self.operand(a));
                self.set(b, below, va);
            }
            (false, false) => {
                let (oa, ob) = (self.operand(a), self.operand(b));
                let bp = self.bp;
                let a0 = self.b.ins().load(types::I64, flags(), bp, oa);
                let a1 = self.b.ins().load(types::I64, flags(), bp, oa + 8);
                self.copy_slot(ob, oa);
                self.b.ins().store(flags(), a0, bp, ob);
                self.b.ins().store(flags(), a1, bp, ob + 8);
            }
        }
    }

    pub(super) fn arithmetic(&mut self, pc: u32, n: usize, ty: ValType) {
        let instr = &self.p.program.code[pc as usize];
        let a = self.get(n - 2, ty);
        let b = self.get(n - 1, ty);
        let r = if ty == ValType::F64 {
            match instr {
                Instr::Add => self.b.ins().fadd(a, b),
                Instr::Sub => self.b.ins().fsub(a, b),
                Instr::Mul => self.b.ins().fmul(a, b),
                Instr::Div => self.b.ins().fdiv(a, b),
                _ => self.helper(self.helpers.remainder, self.sigs.remainder, &[a, b]),
            }
        } else {
            match instr {
                Instr::Add => self.b.ins().iadd(a, b),
                Instr::Sub => self.b.ins().isub(a, b),
                Instr::Mul => self.b.ins().imul(a, b),
                _ => {
                    let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
                    self.fault_if(zero, fault::DIVIDE_BY_ZERO, pc);
                    let min = if ty == ValType::I32 {
                        i64::from(i32::MIN)
                    } else {
                        i64::MIN
                    };
                    let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, a, min);
                    let minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                    let overflow = self.b.ins().band(is_min, minus_one);
                    self.fault_if(overflow, fault::OVERFLOW, pc);
                    if matches!(instr, Instr::Div) {
                        self.b.ins().sdiv(a, b)
                    } else {
                        self.b.ins().srem(a, b)
                    }
                }
            }
        };
        self.set(n - 2, ty, r);
    }

    pub(super) fn compare(&mut self, instr: &Instr, n: usize, ty: ValType) {
        let (int, float) = match instr {
            Instr::Eq => (IntCC::Equal, FloatCC::Equal),
            Instr::Ne => (IntCC::NotEqual, FloatCC::NotEqual),
            Instr::Lt => (IntCC::SignedLessThan, FloatCC::LessThan),
            Instr::Le => (IntCC::SignedLessThanOrEqual, FloatCC::LessThanOrEqual),
            Instr::Gt => (IntCC::SignedGreaterThan, FloatCC::GreaterThan),
            _ => (IntCC::SignedGreaterThanOrEqual, FloatCC::GreaterThanOrEqual),
        };
        let r = match ty {
            ValType::F64 => {
                let a = self.get(n - 2, ty);
                let b = self.get(n - 1, ty);
                self.b.ins().fcmp(float, a, b)
            }
            ValType::Str => {
                let (oa, ob) = (self.operand(n - 2), self.operand(n - 1));
                let bp = self.bp;
                let a = self.b.ins().iadd_imm_s(bp, i64::from(oa));
                let b = self.b.ins().iadd_imm_s(bp, i64::from(ob));
                let order = self.helper(self.helpers.compare, self.sigs.compare, &[a, b]);
                self.b.ins().icmp_imm_s(int, order, 0)
            }
            _ => {
                let a = self.get(n - 2, ty);
                let b = self.get(n - 1, ty);
                self.b.ins().icmp(int, a, b)
            }
        };
        self.set(n - 2, ValType::Bool, r);
    }

    pub(super) fn push(&mut self, pc: u32, n: usize, c: &Const) {
        match c {
            Const::I32(v) => {
                let v = self.b.ins().iconst(types::I32, i64::from(*v));
                self.set(n, ValType::I32, v);
            }
            Const::I64(v) => {
                let v = self.b.ins().iconst(types::I64, *v);
                self.set(n, ValType::I64, v);
            }
            Const::F64(v) => {
                let v = self.b.ins().f64const(*v);
                self.set(n, ValType::F64, v);
            }
            Const::Bool(v) => {
                let v = self.b.ins().iconst(types::I8, i64::from(*v));
                self.set(n, ValType::Bool, v);
            }
            Const::Str(_) => {
                // The program's own view of the constant: it lives as long
                // as the program, which the compiled code belongs to.
                let Op::PushStr(i) = self.p.code.ops[pc as usize] else {
                    unreachable!("a string constant is lowered to `PushStr`")
                };
                let view = self.p.code.str_views[i as usize].0;
                let at = self.operand(n);
                let bp = self.bp;
                let ptr = self.b.ins().iconst(types::I64, view.ptr as i64);
                let len = self.b.ins().iconst(types::I64, view.len as i64);
                self.b.ins().store(flags(), ptr, bp, at);
                self.b.ins().store(flags(), len, bp, at + 8);
            }
        }
    }
}
