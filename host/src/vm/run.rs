//! Running a VM: from the start compiled when it can be (`jit/`),
//! otherwise, and after a pause, interpreted (`exec.rs`).

#[cfg(feature = "jit")]
use std::sync::Arc;

use super::error::{JitError, VmError};
use super::machine::{Machine, Status, Vm};
use super::natives::Natives;

impl<N: Natives> Vm<N> {
    /// Runs the program from the start to its end.
    pub fn run(&mut self) -> Result<(), VmError> {
        self.reset();
        self.resume(None).map(|_| ())
    }

    /// Runs from where the VM stands until the program ends, or until
    /// `fuel` backward jumps and calls have been made (then it pauses).
    ///
    /// A panic that unwinds out of the run (from the output writer) leaves
    /// the VM faulted: the next run starts over.
    pub fn resume(&mut self, fuel: Option<u64>) -> Result<Status, VmError> {
        let m = &mut self.machine;
        match m.status {
            _ if m.running => m.reset(),
            Status::Halted | Status::Faulted => m.reset(),
            Status::Ready | Status::Paused => {}
        }
        m.running = true;
        // Dropped also when the run unwinds: the natives are released then.
        let mut calls = self.natives.enter();
        let fuel = fuel.unwrap_or(u64::MAX);
        // A run from the start is compiled when it can be; a paused run
        // goes on in the interpreter, which picks up exactly where
        // compiled code stopped.
        let result = match m.compiled_for_run() {
            #[cfg(feature = "jit")]
            Some(compiled) => compiled
                .run(m, &mut calls, 0, fuel)
                .map_err(|(pc, fault)| m.fault(pc, fault)),
            _ => m.dispatch(&mut calls, fuel),
        };
        drop(calls);
        m.running = false;
        m.status = match &result {
            Ok(s) => *s,
            Err(_) => Status::Faulted,
        };
        result
    }

    /// The engine a run from the start uses: compiled code, or the
    /// interpreter with the reason.
    pub fn engine(&self) -> Result<(), JitError> {
        if !self.machine.options.jit.enabled {
            return Err(JitError::new("the VM's options turn compilation off"));
        }
        self.machine.program.compile()
    }
}

impl Machine {
    /// The compiled program, for a run from the start when the options
    /// allow and it compiled.
    #[cfg(feature = "jit")]
    pub(super) fn compiled_for_run(&self) -> Option<Arc<super::jit::code::Compiled>> {
        if self.status != Status::Ready || !self.options.jit.enabled {
            return None;
        }
        self.program
            .compiled()
            .ok()
            .filter(|c| c.enters(0))
            .cloned()
    }

    /// Without the `jit` feature, every run is interpreted.
    #[cfg(not(feature = "jit"))]
    pub(super) fn compiled_for_run(&self) -> Option<std::convert::Infallible> {
        None
    }

    /// The compiled program for a call of a script module's function: when
    /// the options allow and its code is ready; the call does not wait for
    /// the compile.
    #[cfg(feature = "jit")]
    pub(super) fn compiled_if_ready(&self) -> Option<Arc<super::jit::code::Compiled>> {
        if !self.options.jit.enabled {
            return None;
        }
        self.program.compiled_if_ready().cloned()
    }

    /// Without the `jit` feature, every call is interpreted.
    #[cfg(not(feature = "jit"))]
    pub(super) fn compiled_if_ready(&self) -> Option<std::convert::Infallible> {
        None
    }
}
