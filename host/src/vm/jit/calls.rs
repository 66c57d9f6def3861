//! Calls and returns in compiled code: `CALL` (the depth, the stack's
//! capacity and the native stack checked, the frame recorded, fuel spent),
//! `RET`, and `CALL_NATIVE` through the run's slots (the interpreter's fast
//! path inline, its slow path a helper).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, StackSlotData, StackSlotKind, Value, types};

use super::runtime::{Env, FAULT, HALTED, OK, PAUSED, fault};
use super::translate::{Translator, cl_type, env_at, flags};
use crate::types::ValType;
use crate::vm::ctx::CallCtx;
use crate::vm::machine::Frame;

impl Translator<'_, '_> {
    /// Writes the record of a frame of function `g` at `depth`, called at
    /// `pc`, its base at stack index `base`.
    pub(super) fn write_record(&mut self, depth: Value, g: usize, pc: u32, base: Value) {
        let frames = self.load_env(self.ptr, env_at!(frames));
        let size = self.b.ins().iconst(types::I64, size_of::<Frame>() as i64);
        let offset = self.b.ins().imul(depth, size);
        let offset = if self.ptr == types::I64 {
            offset
        } else {
            self.b.ins().ireduce(self.ptr, offset)
        };
        let record = self.b.ins().iadd(frames, offset);
        let func = self.b.ins().iconst(types::I32, g as i64);
        let ret_pc = self.b.ins().iconst(types::I32, i64::from(pc + 1));
        let base32 = self.b.ins().ireduce(types::I32, base);
        for (value, at) in [
            (func, std::mem::offset_of!(Frame, func)),
            (ret_pc, std::mem::offset_of!(Frame, ret_pc)),
            (base32, std::mem::offset_of!(Frame, base)),
        ] {
            self.b.ins().store(flags(), value, record, at as i32);
        }
    }

    /// `CALL g`, as the interpreter's: the depth and the capacity checked,
    /// the frame recorded, fuel spent, then the call; a callee that halts
    /// or pauses is followed by this frame writing its own values.
    pub(super) fn call(&mut self, pc: u32, types: &[ValType], g: usize) {
        let p = self.p;
        let n = types.len();
        let callee = &p.funcs[g];
        let nparams = callee.nparams as usize;
        let params = &p.program.functions[g].params;
        let below = &types[..n - nparams];
        let depth = self.load_env(types::I64, env_at!(depth));
        let max = self.max_depth;
        let too_deep = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, depth, max);
        self.fault_if(too_deep, fault::CALL_DEPTH, pc);
        let base = self.bp_index();
        let new_base = self
            .b
            .ins()
            .iadd_imm_s(base, (self.nlocals + n - nparams) as i64);
        let end = self.b.ins().iadd_imm_s(
            new_base,
            i64::from(callee.max_depth) + callee.local_types.len() as i64,
        );
        let capacity = self.capacity;
        let over = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, capacity);
        self.fault_if(over, fault::STACK_OVERFLOW, pc);
        // The native stack: a bound the limits above keep calls from
        // reaching (see `runtime`), checked all the same.
        let sp = self.b.ins().get_stack_pointer(self.ptr);
        let limit = self.stack_limit;
        let low = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        self.fault_if(low, fault::STACK_OVERFLOW, pc);
        // The frame's record, as the interpreter pushes it: now when a
        // string collection may need every frame during the call, else
        // only if the run stops inside it (below).
        if self.eager_frames {
            self.write_record(depth, g, pc, new_base);
        }
        let deeper = self.b.ins().iadd_imm_s(depth, 1);
        self.store_env(deeper, env_at!(depth));
        // Fuel: a call spends one.
        let fuel = self.b.use_var(self.fuel);
        let fuel = self.b.ins().iadd_imm_s(fuel, -1);
        self.b.def_var(self.fuel, fuel);
        let paused = self.b.create_block();
        let go = self.b.create_block();
        self.b.set_cold_block(paused);
        self.b.ins().brif(fuel, go, &[], paused, &[]);
        {
            // Out of fuel: the callee's frame as the interpreter leaves it
            // (its arguments and zeroed locals in place), paused at its
            // first instruction.
            self.b.switch_to_block(paused);
            if !self.eager_frames {
                self.write_record(depth, g, pc, new_base);
            }
            self.spill(below);
            for (i, ty) in params.iter().enumerate() {
                if cl_type(*ty).is_some() {
                    let v = self.get(n - nparams + i, *ty);
                    let at = self.operand(n - nparams + i);
                    self.store_value(v, at);
                }
            }
            for i in nparams..callee.local_types.len() {
                self.zero_slot(self.operand(n - nparams + i));
            }
            let start = self.b.ins().iconst(types::I64, i64::from(callee.start));
            self.store_env(start, env_at!(pc));
            let sp = self
                .b
                .ins()
                .iadd_imm_s(new_base, callee.local_types.len() as i64);
            self.store_env(sp, env_at!(sp));
            let zero = self.b.ins().iconst(types::I64, 0);
            self.store_env(zero, env_at!(fuel));
            self.ret_status(PAUSED);
        }
        self.b.switch_to_block(go);
        self.store_env(fuel, env_at!(fuel));
        let mut args = vec![self.env];
        let (bp, at) = (self.bp, self.operand(n - nparams));
        let new_bp = self.b.ins().iadd_imm_s(bp, i64::from(at));
        args.push(new_bp);
        for (i, ty) in params.iter().enumerate() {
            if cl_type(*ty).is_some() {
                args.push(self.get(n - nparams + i, *ty));
            }
        }
        let call = self.b.ins().call(self.funcs[g], &args);
        let results = self.b.inst_results(call).to_vec();
        let fuel = self.load_env(types::I64, env_at!(fuel));
        self.b.def_var(self.fuel, fuel);
        // Halted or paused below: this frame writes its values and
        // passes the status up; a fault passes up as it is.
        let stopped = self.b.create_block();
        let returned = self.b.create_block();
        self.b.set_cold_block(stopped);
        self.b.ins().brif(results[0], stopped, &[], returned, &[]);
        {
            self.b.switch_to_block(stopped);
            let faulted = self.b.create_block();
            let unwind = self.b.create_block();
            let is_fault = self
                .b
                .ins()
                .icmp_imm_s(IntCC::Equal, results[0], i64::from(FAULT));
            self.b.ins().brif(is_fault, faulted, &[], unwind, &[]);
            self.b.switch_to_block(faulted);
            self.ret_status(FAULT);
            self.b.switch_to_block(unwind);
            if !self.eager_frames {
                self.write_record(depth, g, pc, new_base);
            }
            self.spill(below);
            self.ret_value(results[0]);
        }
        self.b.switch_to_block(returned);
        self.store_env(depth, env_at!(depth));
        if let Some(ret) = p.program.functions[g].ret
            && cl_type(ret).is_some()
        {
            self.set(n - nparams, ret, results[1]);
        }
    }

    /// Returns the status `status` (a value), with a zero result where the
    /// signature has one.
    pub(super) fn ret_value(&mut self, status: Value) {
        match self.p.program.functions[self.fi].ret.and_then(cl_type) {
            None => {
                self.b.ins().return_(&[status]);
            }
            Some(t) => {
                let zero = self.zero(t);
                self.b.ins().return_(&[status, zero]);
            }
        }
    }

    /// `RET`: from the outermost frame, the run halts (its result left on
    /// the stack); otherwise the result goes back to the caller.
    pub(super) fn ret(&mut self, pc: u32, types: &[ValType]) {
        let depth = self.load_env(types::I64, env_at!(depth));
        let outermost = self.b.ins().icmp_imm_s(IntCC::Equal, depth, 1);
        let halt = self.b.create_block();
        let back = self.b.create_block();
        self.b.ins().brif(outermost, halt, &[], back, &[]);
        self.b.switch_to_block(halt);
        self.stop(HALTED, types, pc + 1);
        self.b.switch_to_block(back);
        let fuel = self.b.use_var(self.fuel);
        self.store_env(fuel, env_at!(fuel));
        let ok = self.b.ins().iconst(types::I32, i64::from(OK));
        match self.p.program.functions[self.fi].ret {
            None => {
                self.b.ins().return_(&[ok]);
            }
            Some(ty) if cl_type(ty).is_none() => {
                // A string result goes where the caller finds it: this
                // frame's base.
                self.copy_slot(self.operand(types.len() - 1), 0);
                self.b.ins().return_(&[ok]);
            }
            Some(ty) => {
                let v = self.get(types.len() - 1, ty);
                self.b.ins().return_(&[ok, v]);
            }
        }
    }

    /// `CALL_NATIVE slot`: the arguments written to the VM's stack, the
    /// natives called, and the result read back as the interpreter reads
    /// it; anything but a scalar result with the context untouched goes
    /// through the slow path.
    pub(super) fn call_native(&mut self, pc: u32, types: &[ValType], slot: u32) {
        let p = self.p;
        let n = types.len();
        let import = p
            .program
            .import(slot)
            .expect("the verifier checked the import");
        let nargs = import.signature.params.len();
        for (i, ty) in import.signature.params.iter().enumerate() {
            if cl_type(*ty).is_some() {
                let v = self.get(n - nargs + i, *ty);
                let at = self.operand(n - nargs + i);
                self.store_value(v, at);
            }
        }
        let (bp, at) = (self.bp, self.operand(n - nargs));
        let args = self.b.ins().iadd_imm_s(bp, i64::from(at));
        let out =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 4));
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().stack_store(self.ptr, zero, out, 0);
        self.b.ins().stack_store(self.ptr, zero, out, 8);
        let out_addr = self.b.ins().stack_addr(self.ptr, out, 0);
        let ctx = self.load_env(self.ptr, env_at!(ctx));
        let callee = self.load_env(self.ptr, env_at!(call_native));
        let slot_v = self.b.ins().iconst(types::I32, i64::from(slot));
        let nargs_v = self.b.ins().iconst(self.ptr, nargs as i64);
        let call = self.b.ins().call_indirect(
            self.sigs.call_native,
            callee,
            &[self.env, slot_v, ctx, args, nargs_v, out_addr],
        );
        let status = self.b.inst_results(call)[0];
        let ret = import.signature.ret;
        let kind: i64 = match ret {
            None => 0,
            Some(ValType::I32) => 1,
            Some(ValType::I64 | ValType::F64) => 2,
            Some(ValType::Bool) => 3,
            Some(_) => 4,
        };
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(slow);
        if kind == 4 {
            self.b.ins().jump(slow, &[]);
        } else {
            let touched = self.b.ins().load(
                types::I8,
                flags(),
                ctx,
                std::mem::offset_of!(CallCtx, touched) as i32,
            );
            let touched = self.b.ins().uextend(types::I32, touched);
            let either = self.b.ins().bor(status, touched);
            self.b.ins().brif(either, slow, &[], done, &[]);
        }
        {
            self.b.switch_to_block(slow);
            let env = self.env;
            let finish = self.load_env(self.ptr, env_at!(finish_native));
            let kind_v = self.b.ins().iconst(types::I32, kind);
            let pc_v = self.b.ins().iconst(types::I32, i64::from(pc));
            let base = self.bp_index();
            let top = self
                .b
                .ins()
                .iadd_imm_s(base, (self.nlocals + n - nargs) as i64);
            let call = self.b.ins().call_indirect(
                self.sigs.finish_native,
                finish,
                &[env, slot_v, kind_v, status, pc_v, top],
            );
            let r = self.b.inst_results(call)[0];
            self.fault_pending_if(r);
            self.b.ins().jump(done, &[]);
        }
        self.b.switch_to_block(done);
        match ret {
            None | Some(ValType::Str) => {}
            Some(ValType::Bool) => {
                let byte = self.b.ins().stack_load(self.ptr, types::I8, out, 0);
                let b = self.b.ins().icmp_imm_s(IntCC::NotEqual, byte, 0);
                self.set(n - nargs, ValType::Bool, b);
            }
            Some(ty) => {
                let t = cl_type(ty).expect("a scalar result");
                let v = self.b.ins().stack_load(self.ptr, t, out, 0);
                self.set(n - nargs, ty, v);
            }
        }
    }
}
