//! One function of a verified program called with arguments, as a script
//! module's exported functions are: the machine runs from the function's
//! first instruction until it returns.

use std::sync::Arc;

use hotslot_plugin_api::HsValue;

use super::error::{Fault, LinkError, VmError};
use super::machine::{Frame, Machine, Status, VmOptions};
use super::natives::NativeCalls;
use super::verify::VerifiedProgram;

/// A machine for calling a program's functions one call at a time; reused
/// from call to call (its stack is reserved once).
pub(crate) struct Exec {
    machine: Machine,
}

impl Exec {
    /// A machine for `program`'s functions, with `options`' limits.
    pub(crate) fn new(
        program: Arc<VerifiedProgram>,
        options: VmOptions,
    ) -> Result<Exec, LinkError> {
        Ok(Exec {
            machine: Machine::new(program, options)?,
        })
    }

    /// Calls function `f` with `args` (of its parameter types), its native
    /// calls going to `natives`: its result (`None` for a function without
    /// one), or the fault that stopped it. A string result is a view into
    /// this machine's strings or the program's constants, valid until the
    /// next call.
    pub(crate) fn call(
        &mut self,
        natives: &mut impl NativeCalls,
        f: u32,
        args: &[HsValue],
    ) -> Result<Option<HsValue>, VmError> {
        let m = &mut self.machine;
        m.reset();
        let program = Arc::clone(&m.program);
        let func = &program.funcs[f as usize];
        debug_assert_eq!(args.len(), func.nparams as usize);
        let nlocals = func.local_types.len();
        if nlocals + func.max_depth as usize > m.stack.len() {
            m.status = Status::Faulted;
            return Err(m.fault(
                func.start,
                Fault::StackOverflow {
                    capacity: m.stack.len(),
                },
            ));
        }
        m.stack[..args.len()].copy_from_slice(args);
        m.stack[args.len()..nlocals].fill(HsValue::ZERO);
        m.sp = nlocals;
        m.frames.clear();
        m.frames.push(Frame {
            func: f,
            ret_pc: 0,
            base: 0,
        });
        m.pc = func.start;
        m.running = true;
        // Compiled when its code is ready; else the dispatch loop, told the
        // run is paused so that it goes on from `pc` without the entry
        // function's checks, made above for `f`.
        let compiled = m.compiled_if_ready();
        m.status = Status::Paused;
        let result = match compiled {
            #[cfg(feature = "jit")]
            Some(compiled) => compiled
                .run(m, natives, f, u64::MAX)
                .map_err(|(pc, fault)| m.fault(pc, fault)),
            _ => m.dispatch(natives, u64::MAX),
        };
        m.running = false;
        m.status = match &result {
            Ok(s) => *s,
            Err(_) => Status::Faulted,
        };
        result?;
        let returns = program.program.functions[f as usize].ret.is_some();
        Ok(returns.then(|| m.stack[m.sp - 1]))
    }
}

// SAFETY: as for `Vm` (`machine.rs`): the machine's raw pointers (string
// views in its stack and context) point into strings it or its
// `Arc<VerifiedProgram>` owns, which move with it.
unsafe impl Send for Exec {}
