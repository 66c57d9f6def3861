//! Where a VM stands, as values: every frame's locals and operands, saved
//! and restored (snapshots), and the layout of the stack the collector of
//! native strings walks.

use hotslot_plugin_api::HsValue;

use super::error::StateError;
use super::machine::{Frame, Machine, Status, Vm};
use super::natives::Natives;
use super::value::Value;
use super::verify::VerifiedProgram;
use crate::types::ValType;

/// What a VM holds, as values.
impl<N: Natives> Vm<N> {
    /// The values of every frame, bottom first: each frame's locals, then
    /// its operands. Empty once the VM faulted.
    pub fn frames(&self) -> Vec<FrameView> {
        self.machine.frames()
    }

    /// The operand stack of the innermost frame, bottom first.
    pub fn stack(&self) -> Vec<Value> {
        self.frames().pop().map(|f| f.operands).unwrap_or_default()
    }

    /// Everything the VM holds and where it stands; `None` once it faulted.
    pub fn state(&self) -> Option<VmState> {
        self.machine.state()
    }

    /// Puts the VM where `state` says, holding its values; a paused state
    /// then `resume`s. Nothing changes when the state does not fit the
    /// program.
    pub fn set_state(&mut self, state: &VmState) -> Result<(), StateError> {
        self.machine.set_state(state)
    }
}

impl Machine {
    pub(super) fn frames(&self) -> Vec<FrameView> {
        let Some(state) = self.state() else {
            return Vec::new();
        };
        state
            .frames
            .into_iter()
            .map(|f| FrameView {
                function: self.program.program.functions[f.function as usize]
                    .name
                    .clone(),
                locals: f.locals,
                operands: f.operands,
            })
            .collect()
    }

    /// Each frame with the stack range and types of its locals and of its
    /// operands, or `None` when the VM has no consistent state (faulted).
    #[expect(clippy::type_complexity, reason = "a private helper's tuple")]
    pub(super) fn layout(
        &self,
    ) -> Option<
        Vec<(
            Frame,
            (std::ops::Range<usize>, Vec<ValType>),
            (std::ops::Range<usize>, Vec<ValType>),
        )>,
    > {
        let types = frame_types(&self.program, &self.frames, self.pc, self.status)?;
        let mut out = Vec::with_capacity(self.frames.len());
        for (i, (frame, (locals, operands))) in self.frames.iter().zip(types).enumerate() {
            let base = frame.base as usize;
            let start = base + locals.len();
            let end = match self.frames.get(i + 1) {
                Some(callee) => callee.base as usize,
                None => self.sp,
            };
            if end.checked_sub(start) != Some(operands.len()) {
                return None;
            }
            out.push((*frame, (base..start, locals), (start..end, operands)));
        }
        Some(out)
    }

    pub(super) fn state(&self) -> Option<VmState> {
        if self.running {
            return None;
        }
        let layout = self.layout()?;
        let read = |range: std::ops::Range<usize>, types: &[ValType]| -> Vec<Value> {
            range
                .zip(types)
                // SAFETY: `layout` gives each slot's verified type, and
                // string views point into the heap or constants the VM
                // keeps alive.
                .map(|(i, &t)| unsafe { Value::from_raw(&self.stack[i], t) })
                .collect()
        };
        Some(VmState {
            status: self.status,
            pc: self.pc,
            frames: layout
                .into_iter()
                .map(|(frame, locals, operands)| FrameState {
                    function: frame.func,
                    ret_pc: frame.ret_pc,
                    locals: read(locals.0, &locals.1),
                    operands: read(operands.0, &operands.1),
                })
                .collect(),
        })
    }

    pub(super) fn set_state(&mut self, state: &VmState) -> Result<(), StateError> {
        if state.status == Status::Faulted {
            return Err(StateError::Faulted);
        }
        // Frames sit back to back: each callee's first locals are the
        // arguments popped from its caller's operands.
        let capacity = self.stack.len();
        let held = state
            .frames
            .iter()
            .map(|f| f.locals.len().saturating_add(f.operands.len()))
            .fold(0, usize::saturating_add);
        if held > capacity {
            return Err(StateError::TooLarge {
                needed: held,
                capacity,
            });
        }
        let mut frames = Vec::with_capacity(state.frames.len());
        let mut base = 0;
        for f in &state.frames {
            frames.push(Frame {
                func: f.function,
                ret_pc: f.ret_pc,
                // `held` fits the stack, whose capacity fits a `u32`.
                base: base as u32,
            });
            base += f.locals.len() + f.operands.len();
        }
        let chain = || StateError::Frames {
            functions: state.frames.iter().map(|f| f.function).collect(),
            pc: state.pc,
        };
        if frames.first().map(|f| f.func) != Some(0) {
            return Err(chain());
        }
        let types =
            frame_types(&self.program, &frames, state.pc, state.status).ok_or_else(chain)?;
        for (f, (locals, operands)) in state.frames.iter().zip(&types) {
            let found: Vec<ValType> = f.locals.iter().chain(&f.operands).map(Value::ty).collect();
            let expected: Vec<ValType> = locals.iter().chain(operands).copied().collect();
            if found != expected {
                return Err(StateError::Types {
                    function: self.program.program.functions[f.function as usize]
                        .name
                        .clone(),
                    expected,
                    found,
                });
            }
        }
        let top = frames.last().map_or(0, |f| f.base as usize)
            + state
                .frames
                .last()
                .map_or(0, |f| f.locals.len() + f.operands.len());
        let deepest = frames
            .iter()
            .map(|f| f.base as usize + self.program.funcs[f.func as usize].max_depth as usize)
            .max()
            .unwrap_or(0);
        let needed = top.max(deepest) + self.program.funcs[0].local_types.len();
        if needed > capacity {
            return Err(StateError::TooLarge { needed, capacity });
        }
        self.reset();
        let mut i = 0;
        for f in &state.frames {
            for v in f.locals.iter().chain(&f.operands) {
                self.stack[i] = match v {
                    Value::I32(x) => HsValue { i32: *x },
                    Value::I64(x) => HsValue { i64: *x },
                    Value::F64(x) => HsValue { f64: *x },
                    Value::Bool(x) => HsValue { boolean: *x },
                    Value::Str(x) => HsValue {
                        str: self.ctx.heap.alloc(x),
                    },
                };
                i += 1;
            }
        }
        self.frames = frames;
        self.sp = top;
        self.pc = state.pc;
        self.status = state.status;
        Ok(())
    }
}

/// The types of each frame's locals and operands, for `frames` stopped at
/// `pc`; `None` when they do not fit the program.
fn frame_types(
    p: &VerifiedProgram,
    frames: &[Frame],
    pc: u32,
    status: Status,
) -> Option<Vec<(Vec<ValType>, Vec<ValType>)>> {
    if status == Status::Faulted {
        return None;
    }
    let mut out = Vec::with_capacity(frames.len());
    for (i, frame) in frames.iter().enumerate() {
        let func = p.funcs.get(frame.func as usize)?;
        let operands = match frames.get(i + 1) {
            // Suspended at a CALL: its stack before the call, less the
            // arguments, which became the callee's first locals.
            Some(callee) => {
                let call = callee.ret_pc.checked_sub(1)?;
                let (caller, _) = p.program.function_at(call)?;
                if caller != frame.func as usize
                    || p.program.code.get(call as usize)
                        != Some(&super::program::Instr::Call(callee.func))
                {
                    return None;
                }
                let before = p.stack_types(call)?;
                let nargs = p.funcs.get(callee.func as usize)?.nparams as usize;
                before[..before.len().checked_sub(nargs)?].to_vec()
            }
            None => {
                // Halted: the stack as the stopping instruction left it.
                let at = if status == Status::Halted {
                    pc.checked_sub(1)?
                } else {
                    pc
                };
                if p.program.function_at(at)?.0 != frame.func as usize {
                    return None;
                }
                p.stack_types(at)?.to_vec()
            }
        };
        out.push((func.local_types.to_vec(), operands));
    }
    Some(out)
}

/// Where a VM stands and what it holds: see [`Vm::state`].
#[derive(Clone, Debug, PartialEq)]
pub struct VmState {
    /// Ready, paused or halted.
    pub status: Status,
    /// The next instruction.
    pub pc: u32,
    /// The frames, outermost (`main`) first.
    pub frames: Vec<FrameState>,
}

/// One frame of a [`VmState`].
#[derive(Clone, Debug, PartialEq)]
pub struct FrameState {
    /// The function, by index.
    pub function: u32,
    /// Where its caller continues (unused for `main`).
    pub ret_pc: u32,
    /// Its locals, parameters first.
    pub locals: Vec<Value>,
    /// Its operand stack, bottom first.
    pub operands: Vec<Value>,
}

/// One frame's values, for inspection.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameView {
    /// The function.
    pub function: String,
    /// Its locals, parameters first.
    pub locals: Vec<Value>,
    /// Its operand stack, bottom first.
    pub operands: Vec<Value>,
}
