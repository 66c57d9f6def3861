//! The VM: a verified program, its stack and frames, and the natives its
//! `CALL_NATIVE`s go to. `run.rs` runs it (compiled, `jit/`, or
//! interpreted, `exec.rs`); `state.rs` saves and restores where it stands.

use std::io::Write;
use std::sync::Arc;

use hotslot_plugin_api::HsValue;

use super::ctx::CallCtx;
use super::error::{Fault, LinkError, VmError};
use super::natives::Natives;
use super::stack::Stack;
use super::verify::VerifiedProgram;
use crate::types::ValType;

/// Runtime limits of a VM.
#[derive(Clone, Copy, Debug)]
pub struct VmOptions {
    /// Values the stack holds, locals and operands of every frame together;
    /// at most `u32::MAX` (frames record their base as a `u32`), a larger
    /// figure is taken as that.
    pub stack_capacity: usize,
    /// The deepest `CALL`s may nest.
    pub max_call_depth: usize,
    /// Bytes of native string results after which unreachable ones are
    /// collected (the threshold then follows what stays reachable).
    pub gc_threshold: usize,
    /// Whether the program runs compiled to native code.
    pub jit: JitOptions,
}

/// Whether programs and script modules are compiled to native code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitOptions {
    /// Compile (the default); when off, or without the `jit` feature, or
    /// where the system refuses executable memory, the interpreter runs
    /// everything.
    pub enabled: bool,
}

impl Default for JitOptions {
    /// On, except under Miri, which runs no generated code.
    fn default() -> JitOptions {
        JitOptions {
            enabled: !cfg!(miri),
        }
    }
}

impl Default for VmOptions {
    fn default() -> VmOptions {
        VmOptions {
            stack_capacity: 64 * 1024,
            max_call_depth: 1024,
            gc_threshold: 1 << 20,
            jit: JitOptions::default(),
        }
    }
}

/// Where a VM stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    /// At the start; `resume` runs it.
    Ready,
    /// Stopped by its fuel running out; `resume` continues.
    Paused,
    /// Ran `HALT` (or returned from `main`).
    Halted,
    /// Stopped by a fault; `reset` (or `run`) starts over.
    Faulted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct Frame {
    pub(crate) func: u32,
    /// Where the caller continues; unused for `main`.
    pub(crate) ret_pc: u32,
    /// Stack index of the frame's first local.
    pub(crate) base: u32,
}

/// A virtual machine running one verified program.
///
/// Many VMs may run the same program, and share one slot table, on as many
/// threads.
pub struct Vm<N: Natives> {
    pub(super) natives: N,
    pub(super) machine: Machine,
}

#[cfg(all(test, target_os = "linux", not(miri)))]
impl<N: Natives> Vm<N> {
    /// Bytes of the stack in memory, and the values it can hold.
    pub(crate) fn stack_residency(&self) -> (usize, usize) {
        (
            self.machine.stack.resident_bytes(),
            self.machine.stack.len(),
        )
    }
}

/// Everything of a VM but its natives: what the dispatch loop works on.
pub(super) struct Machine {
    pub(super) program: Arc<VerifiedProgram>,
    pub(super) options: VmOptions,
    pub(super) stack: Stack,
    pub(super) sp: usize,
    pub(super) pc: u32,
    pub(super) frames: Vec<Frame>,
    pub(super) ctx: CallCtx,
    pub(super) out: Box<dyn Write + Send>,
    pub(super) status: Status,
    /// Set while the dispatch loop runs: still set afterwards, it means the
    /// run unwound (a panic in the output writer) and the registers above
    /// were never saved.
    pub(super) running: bool,
}

impl<N: Natives> Vm<N> {
    /// A VM for `program` whose native calls go to `natives`, printing to
    /// standard output.
    pub fn new(program: Arc<VerifiedProgram>, natives: N) -> Result<Vm<N>, LinkError> {
        Vm::with_options(program, natives, VmOptions::default())
    }

    /// As [`Vm::new`], with limits.
    pub fn with_options(
        program: Arc<VerifiedProgram>,
        natives: N,
        options: VmOptions,
    ) -> Result<Vm<N>, LinkError> {
        natives.link(&program.program)?;
        let machine = Machine::new(program, options)?;
        Ok(Vm { natives, machine })
    }

    /// Sends `PRINT` output to `out`.
    pub fn set_output(&mut self, out: impl Write + Send + 'static) {
        self.machine.out = Box::new(out);
    }

    /// The program.
    pub fn program(&self) -> &Arc<VerifiedProgram> {
        &self.machine.program
    }

    /// Where native calls go.
    pub fn natives(&self) -> &N {
        &self.natives
    }

    /// Where the VM stands.
    pub fn status(&self) -> Status {
        if self.machine.running {
            Status::Faulted
        } else {
            self.machine.status
        }
    }

    /// The next instruction.
    pub fn pc(&self) -> u32 {
        self.machine.pc
    }

    /// Native strings the VM holds (for tests of collection).
    pub fn heap_strings(&self) -> usize {
        self.machine.ctx.heap.len()
    }

    /// Back to the start: empty stack, zeroed locals, native strings freed.
    pub fn reset(&mut self) {
        self.machine.reset();
    }
}

impl Machine {
    /// A machine for `program`, at its start, printing to standard output.
    pub(super) fn new(
        program: Arc<VerifiedProgram>,
        options: VmOptions,
    ) -> Result<Machine, LinkError> {
        let values = options.stack_capacity.min(u32::MAX as usize);
        let stack = Stack::new(values).map_err(|e| LinkError::Stack {
            values,
            reason: e.to_string(),
        })?;
        let mut machine = Machine {
            stack,
            sp: 0,
            pc: 0,
            frames: Vec::new(),
            ctx: CallCtx::new(options.gc_threshold),
            out: Box::new(std::io::stdout()),
            status: Status::Ready,
            running: false,
            program,
            options,
        };
        machine.reset();
        Ok(machine)
    }

    /// Back to the start: empty stack, zeroed locals, native strings freed.
    pub(super) fn reset(&mut self) {
        self.sp = 0;
        self.pc = 0;
        self.frames.clear();
        self.ctx.heap.clear();
        self.status = Status::Ready;
        self.running = false;
        let main = &self.program.funcs[0];
        self.frames.push(Frame {
            func: 0,
            ret_pc: 0,
            base: 0,
        });
        let n = main.local_types.len().min(self.stack.len());
        self.stack[..n].fill(HsValue::ZERO);
        self.sp = n;
    }

    /// Frees native strings that no stack slot or local refers to.
    pub(super) fn collect(&mut self) {
        let Some(layout) = self.layout() else { return };
        // The stack slots holding strings, in order.
        let mut strings = Vec::new();
        for (_, locals, operands) in layout {
            for (range, types) in [locals, operands] {
                strings.extend(
                    range
                        .zip(types)
                        .filter(|(_, t)| *t == ValType::Str)
                        .map(|(i, _)| i),
                );
            }
        }
        let mut next = strings.into_iter().peekable();
        // Only the slots in use: the pages past them are never touched.
        let sp = self.sp;
        let live = self.stack[..sp]
            .iter_mut()
            .enumerate()
            .filter_map(|(i, v)| {
                next.next_if_eq(&i)?;
                // SAFETY: the slot's verified type is `str`: it holds a view.
                Some(unsafe { &mut v.str })
            });
        self.ctx.heap.compact(live);
    }

    pub(super) fn fault(&self, pc: u32, fault: Fault) -> VmError {
        VmError {
            pc,
            instr: self.program.describe(pc),
            fault,
        }
    }
}

// SAFETY: the VM's raw pointers (string views in its stack and context)
// point into strings the VM itself or its `Arc<VerifiedProgram>` owns, so
// moving the VM moves their owner with them.
unsafe impl<N: Natives + Send> Send for Vm<N> {}
