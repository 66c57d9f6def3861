//! The dispatch loop.

use std::io::Write;
use std::mem::size_of;
use std::sync::Arc;

use hotslot_plugin_api::{HsCallCtx, HsEntry, HsStatus, HsValue};

use super::ctx::CallCtx;
use super::error::{Fault, LinkError, StateError, VmError};
use super::lower::{Op, RetKind};
use super::program::Program;
use super::stack::Stack;
use super::value::Value;
use super::verify::VerifiedProgram;
use crate::types::{Signature, ValType};

/// Where a VM's `CALL_NATIVE`s go: a [`SlotTable`](crate::SlotTable)'s
/// hot-swappable slots, or a fixed set of functions ([`StaticNatives`]).
///
/// Calls are made through a [`NativeCalls`] session that [`Natives::enter`]
/// opens for the length of a run: whatever a session holds (the slot
/// table's current build) stays valid until it is dropped, and dropping it
/// (also when a run unwinds) releases it.
///
/// # Safety
///
/// After [`Natives::link`] accepted a program, a session's
/// [`NativeCalls::call`] for each of its slots must either fail or call a
/// function whose parameters and result are exactly those of the slot's
/// import: the VM reads the result as that type without checking.
pub unsafe trait Natives {
    /// The session a run makes its calls through.
    type Calls<'a>: NativeCalls
    where
        Self: 'a;

    /// Checks that every import of `program` can be served, and prepares to.
    fn link(&self, program: &Program) -> Result<(), LinkError>;

    /// Opens a session: a run is starting on this thread. It ends when the
    /// session drops.
    fn enter(&self) -> Self::Calls<'_>;
}

/// The calls of one run: see [`Natives`].
///
/// # Safety
///
/// As for [`Natives`]: `call` keeps the signature promise `link` made.
pub unsafe trait NativeCalls {
    /// Calls the function serving `slot` and returns its status.
    ///
    /// # Safety
    ///
    /// `slot` is an import of the linked program; `args` points to `nargs`
    /// values of its parameter types; `ret` is writable; `ctx` is the VM's
    /// call context.
    unsafe fn call(
        &mut self,
        slot: u32,
        ctx: *mut HsCallCtx,
        args: *const HsValue,
        nargs: usize,
        ret: *mut HsValue,
    ) -> HsStatus;

    /// After a `call` of `slot` that did not return OK: the function that
    /// was called, or `None` when nothing was bound to the slot.
    fn failed_function(&self, slot: u32) -> Option<String>;

    /// After `failed_function`: why the function's isolated worker gave no
    /// answer (it crashed, it missed its deadline...), when that is why the
    /// call failed. `None` by default, for natives that run in process.
    fn isolated_failure(&self, _slot: u32) -> Option<crate::isolate::IsolatedFailure> {
        None
    }
}

/// A fixed set of native functions, linked into the VM for good: no slot,
/// no swap. For embedding without hot reload, and for measuring what
/// swappability costs.
pub struct StaticNatives {
    /// Per slot: the function's name and signature, for linking and errors.
    declared: Vec<Option<(String, Signature)>>,
    /// Per slot: the entry point, for calls.
    entries: Vec<HsEntry>,
}

/// The entry point of a slot `StaticNatives` does not serve; `link`
/// refuses programs that import one.
unsafe extern "C" fn not_served(
    _: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    HsStatus(-1)
}

impl StaticNatives {
    /// No functions.
    pub fn new() -> StaticNatives {
        StaticNatives {
            declared: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Serves `slot` with `entry`, a function named `name` of signature `signature`.
    ///
    /// # Panics
    ///
    /// When `slot` is larger than [`MAX_SLOT`](super::MAX_SLOT).
    ///
    /// # Safety
    ///
    /// `entry` follows the ABI for `signature`: it reads its arguments and
    /// writes its result as those types.
    pub unsafe fn insert(&mut self, slot: u32, name: &str, signature: Signature, entry: HsEntry) {
        assert!(
            slot <= super::MAX_SLOT,
            "slot {slot} is larger than {}",
            super::MAX_SLOT
        );
        let i = slot as usize;
        if self.entries.len() <= i {
            self.declared.resize_with(i + 1, || None);
            self.entries.resize(i + 1, not_served);
        }
        self.declared[i] = Some((name.to_owned(), signature));
        self.entries[i] = entry;
    }
}

impl Default for StaticNatives {
    fn default() -> StaticNatives {
        StaticNatives::new()
    }
}

// SAFETY: `link` accepts a program only when every import's slot holds an
// entry declared (by `insert`'s contract) with exactly the import's signature.
unsafe impl Natives for StaticNatives {
    type Calls<'a> = &'a StaticNatives;

    fn link(&self, program: &Program) -> Result<(), LinkError> {
        for import in &program.imports {
            match self
                .declared
                .get(import.slot as usize)
                .and_then(Option::as_ref)
            {
                None => return Err(LinkError::Unserved { slot: import.slot }),
                Some((name, sig)) if *sig != import.signature => {
                    return Err(LinkError::Signature {
                        slot: import.slot,
                        expected: import.signature.clone(),
                        found: sig.clone(),
                        function: name.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn enter(&self) -> &StaticNatives {
        self
    }
}

// SAFETY: as for `Natives`: the entries are the ones `link` checked.
unsafe impl NativeCalls for &StaticNatives {
    #[inline]
    unsafe fn call(
        &mut self,
        slot: u32,
        ctx: *mut HsCallCtx,
        args: *const HsValue,
        nargs: usize,
        ret: *mut HsValue,
    ) -> HsStatus {
        // SAFETY: `link` checked that the program's slots are all present.
        let entry = unsafe { self.entries.get_unchecked(slot as usize) };
        // SAFETY: the caller passes arguments of the import's types, which
        // `link` checked are the entry's.
        unsafe { entry(ctx, args, nargs, ret) }
    }

    fn failed_function(&self, slot: u32) -> Option<String> {
        self.declared
            .get(slot as usize)?
            .as_ref()
            .map(|(name, _)| name.clone())
    }
}

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
}

impl Default for VmOptions {
    fn default() -> VmOptions {
        VmOptions {
            stack_capacity: 64 * 1024,
            max_call_depth: 1024,
            gc_threshold: 1 << 20,
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
    natives: N,
    machine: Machine,
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
struct Machine {
    program: Arc<VerifiedProgram>,
    options: VmOptions,
    stack: Stack,
    sp: usize,
    pc: u32,
    frames: Vec<Frame>,
    ctx: CallCtx,
    out: Box<dyn Write + Send>,
    status: Status,
    /// Set while the dispatch loop runs: still set afterwards, it means the
    /// run unwound (a panic in the output writer) and the registers above
    /// were never saved.
    running: bool,
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

    /// Back to the start: empty stack, zeroed locals, native strings freed.
    pub fn reset(&mut self) {
        self.machine.reset();
    }

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
        let result = m.dispatch(&mut calls, fuel.unwrap_or(u64::MAX));
        drop(calls);
        m.running = false;
        m.status = match &result {
            Ok(s) => *s,
            Err(_) => Status::Faulted,
        };
        result
    }

    /// The values of every frame, bottom first: each frame's locals, then
    /// its operands. Empty once the VM faulted.
    pub fn frames(&self) -> Vec<FrameView> {
        self.machine.frames()
    }

    /// The operand stack of the innermost frame, bottom first.
    pub fn stack(&self) -> Vec<Value> {
        self.frames().pop().map(|f| f.operands).unwrap_or_default()
    }

    /// Native strings the VM holds (for tests of collection).
    pub fn heap_strings(&self) -> usize {
        self.machine.ctx.heap.len()
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
    /// Back to the start: empty stack, zeroed locals, native strings freed.
    fn reset(&mut self) {
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

    fn frames(&self) -> Vec<FrameView> {
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
    fn layout(
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

    fn state(&self) -> Option<VmState> {
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

    fn set_state(&mut self, state: &VmState) -> Result<(), StateError> {
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

    /// Frees native strings that no stack slot or local refers to.
    fn collect(&mut self) {
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

    fn fault(&self, pc: u32, fault: Fault) -> VmError {
        VmError {
            pc,
            instr: self.program.describe(pc),
            fault,
        }
    }

    fn dispatch(
        &mut self,
        natives: &mut impl NativeCalls,
        mut fuel: u64,
    ) -> Result<Status, VmError> {
        let program = Arc::clone(&self.program);
        let code: *const Op = program.code.ops.as_ptr();
        let mut bottom: *mut HsValue = self.stack.as_mut_ptr();
        let capacity = self.stack.len();
        let mut ctx: *mut CallCtx = &raw mut self.ctx;
        // The next instruction, the top of the stack (one past the last
        // value) and the current frame's first local, as pointers: the loop
        // below works on them alone.
        let mut ip: *const Op = code.wrapping_add(self.pc as usize);
        let mut sp: *mut HsValue = bottom.wrapping_add(self.sp);
        let mut bp: *mut HsValue =
            bottom.wrapping_add(self.frames.last().map_or(0, |f| f.base as usize));

        if self.status == Status::Ready {
            let need = self.sp + program.funcs[0].max_depth as usize;
            if need > capacity {
                return Err(self.fault(self.pc, Fault::StackOverflow { capacity }));
            }
        }

        // Every access below relies on the verifier's guarantees for the
        // program: `ip` stays within the code of the current function, each
        // instruction finds on the stack the number and the types of values
        // it reads (so `sp` never goes below the frame), locals are in range
        // with fixed types, and `CALL` checks the capacity for the callee's
        // locals and deepest stack, so `sp` never passes the stack's end.
        macro_rules! get {
            ($p:expr, $field:ident) => {
                // SAFETY: the slot is below `sp` and holds a value of the
                // field's type, per the verifier's guarantees above.
                unsafe { (*$p).$field }
            };
        }
        macro_rules! set {
            ($p:expr, $field:ident, $v:expr) => {{
                let v = $v;
                // SAFETY: the slot is inside the stack, per the verifier's
                // guarantees above; writing a union field is always valid.
                unsafe { (*$p).$field = v }
            }};
        }
        macro_rules! read {
            ($p:expr) => {
                // SAFETY: the slot is below `sp`, per the verifier's
                // guarantees above; all of it was initialized.
                unsafe { *$p }
            };
        }
        macro_rules! write {
            ($p:expr, $v:expr) => {{
                let v = $v;
                // SAFETY: the slot is inside the stack, per the verifier's
                // guarantees above.
                unsafe { *$p = v }
            }};
        }
        macro_rules! top {
            ($n:expr) => {
                sp.wrapping_sub($n)
            };
        }
        macro_rules! binary {
            ($field:ident, |$a:ident, $b:ident| $e:expr) => {{
                sp = top!(1);
                let ($a, $b) = (get!(top!(1), $field), get!(sp, $field));
                set!(top!(1), $field, $e);
            }};
            ($field:ident => $out:ident, |$a:ident, $b:ident| $e:expr) => {{
                sp = top!(1);
                let ($a, $b) = (get!(top!(1), $field), get!(sp, $field));
                set!(top!(1), $out, $e);
            }};
        }
        macro_rules! str_cmp {
            (|$a:ident, $b:ident| $e:expr) => {{
                sp = top!(1);
                let (x, y) = (get!(top!(1), str), get!(sp, str));
                // SAFETY: both are verified strings: views of valid UTF-8
                // that the heap or the program keeps alive.
                let ($a, $b) = unsafe { (x.as_bytes(), y.as_bytes()) };
                set!(top!(1), boolean, $e);
            }};
        }
        macro_rules! push {
            ($v:expr) => {{
                write!(sp, $v);
                sp = sp.wrapping_add(1);
            }};
        }
        macro_rules! push_as {
            ($field:ident, $v:expr) => {{
                set!(sp, $field, $v);
                sp = sp.wrapping_add(1);
            }};
        }
        macro_rules! pc {
            () => {
                ((ip as usize - code as usize) / size_of::<Op>()) as u32
            };
        }
        macro_rules! index {
            ($p:expr) => {
                ($p as usize - bottom as usize) / size_of::<HsValue>()
            };
        }
        macro_rules! save {
            () => {{
                self.pc = pc!();
                self.sp = index!(sp);
            }};
        }
        macro_rules! trap {
            ($fault:expr) => {{
                save!();
                return Err(self.fault(pc!() - 1, $fault));
            }};
        }
        macro_rules! check_div {
            ($field:ident, $min:expr) => {{
                let (a, b) = (get!(top!(2), $field), get!(top!(1), $field));
                if b == 0 {
                    trap!(Fault::DivideByZero);
                }
                if a == $min && b == -1 {
                    trap!(Fault::Overflow);
                }
            }};
        }
        macro_rules! jump {
            ($t:expr) => {{
                let target = code.wrapping_add($t as usize);
                // Fuel is spent on backward jumps only, the ones that loop.
                if target < ip {
                    fuel -= 1;
                    if fuel == 0 {
                        ip = target;
                        save!();
                        return Ok(Status::Paused);
                    }
                }
                ip = target;
            }};
        }

        // `LOAD a; LOAD b` fused: both pushed, the second op stepped over.
        macro_rules! load2 {
            ($field:ident, $a:expr, $b:expr) => {{
                set!(sp, $field, get!(bp.wrapping_add($a as usize), $field));
                let second = get!(bp.wrapping_add($b as usize), $field);
                set!(sp.wrapping_add(1), $field, second);
                sp = sp.wrapping_add(2);
                ip = ip.wrapping_add(1);
            }};
        }
        // `STORE n; LOAD n` fused: the top stored in local `n` and kept.
        macro_rules! tee {
            ($field:ident, $n:expr) => {{
                set!(bp.wrapping_add($n as usize), $field, get!(top!(1), $field));
                ip = ip.wrapping_add(1);
            }};
        }
        // A comparison fused with the jump on its result: pops both values,
        // steps over the jump's own op, and jumps when the relation holds.
        macro_rules! branch {
            ($field:ident, $t:expr, |$a:ident, $b:ident| $e:expr) => {{
                let ($a, $b) = (get!(top!(2), $field), get!(top!(1), $field));
                sp = top!(2);
                ip = ip.wrapping_add(1);
                if $e {
                    jump!($t);
                }
            }};
        }

        loop {
            // SAFETY: `ip` points into the function's verified code.
            // The op is read where used, field by field: copying it whole
            // here would hold every field in a register through each arm.
            let op = unsafe { &*ip };
            ip = ip.wrapping_add(1);
            match op {
                Op::Nop => {}
                &Op::PushI32(v) => push_as!(i32, v),
                &Op::PushI64(v) => push_as!(i64, v),
                &Op::PushF64(v) => push_as!(f64, v),
                &Op::PushBool(v) => push_as!(boolean, v),
                &Op::PushStr(i) => {
                    // SAFETY: the verifier only emits indices into `str_views`.
                    let s = unsafe { program.code.str_views.get_unchecked(i as usize) };
                    push!(HsValue { str: s.0 });
                }
                Op::Pop => sp = top!(1),
                Op::Dup1 => push_as!(boolean, get!(top!(1), boolean)),
                Op::Dup4 => push_as!(i32, get!(top!(1), i32)),
                Op::Dup8 => push_as!(i64, get!(top!(1), i64)),
                Op::Dup16 => push!(read!(top!(1))),
                Op::Swap => {
                    let (a, b) = (read!(top!(2)), read!(top!(1)));
                    write!(top!(2), b);
                    write!(top!(1), a);
                }
                Op::AddI32 => binary!(i32, |a, b| a.wrapping_add(b)),
                Op::AddI64 => binary!(i64, |a, b| a.wrapping_add(b)),
                Op::AddF64 => binary!(f64, |a, b| a + b),
                Op::SubI32 => binary!(i32, |a, b| a.wrapping_sub(b)),
                Op::SubI64 => binary!(i64, |a, b| a.wrapping_sub(b)),
                Op::SubF64 => binary!(f64, |a, b| a - b),
                Op::MulI32 => binary!(i32, |a, b| a.wrapping_mul(b)),
                Op::MulI64 => binary!(i64, |a, b| a.wrapping_mul(b)),
                Op::MulF64 => binary!(f64, |a, b| a * b),
                Op::DivI32 => {
                    check_div!(i32, i32::MIN);
                    binary!(i32, |a, b| a / b);
                }
                Op::DivI64 => {
                    check_div!(i64, i64::MIN);
                    binary!(i64, |a, b| a / b);
                }
                Op::DivF64 => binary!(f64, |a, b| a / b),
                Op::ModI32 => {
                    check_div!(i32, i32::MIN);
                    binary!(i32, |a, b| a % b);
                }
                Op::ModI64 => {
                    check_div!(i64, i64::MIN);
                    binary!(i64, |a, b| a % b);
                }
                Op::ModF64 => binary!(f64, |a, b| a % b),
                Op::NegI32 => set!(top!(1), i32, get!(top!(1), i32).wrapping_neg()),
                Op::NegI64 => set!(top!(1), i64, get!(top!(1), i64).wrapping_neg()),
                Op::NegF64 => set!(top!(1), f64, -get!(top!(1), f64)),
                // The VM only ever stores a bool as 0 or 1.
                Op::Not => set!(top!(1), boolean, !get!(top!(1), boolean)),
                Op::EqI32 => binary!(i32 => boolean, |a, b| a == b),
                Op::EqI64 => binary!(i64 => boolean, |a, b| a == b),
                Op::EqF64 => binary!(f64 => boolean, |a, b| a == b),
                Op::EqBool => binary!(boolean => boolean, |a, b| a == b),
                Op::EqStr => str_cmp!(|a, b| a == b),
                Op::NeI32 => binary!(i32 => boolean, |a, b| a != b),
                Op::NeI64 => binary!(i64 => boolean, |a, b| a != b),
                Op::NeF64 => binary!(f64 => boolean, |a, b| a != b),
                Op::NeBool => binary!(boolean => boolean, |a, b| a != b),
                Op::NeStr => str_cmp!(|a, b| a != b),
                Op::LtI32 => binary!(i32 => boolean, |a, b| a < b),
                Op::LtI64 => binary!(i64 => boolean, |a, b| a < b),
                Op::LtF64 => binary!(f64 => boolean, |a, b| a < b),
                Op::LtStr => str_cmp!(|a, b| a < b),
                Op::LeI32 => binary!(i32 => boolean, |a, b| a <= b),
                Op::LeI64 => binary!(i64 => boolean, |a, b| a <= b),
                Op::LeF64 => binary!(f64 => boolean, |a, b| a <= b),
                Op::LeStr => str_cmp!(|a, b| a <= b),
                Op::GtI32 => binary!(i32 => boolean, |a, b| a > b),
                Op::GtI64 => binary!(i64 => boolean, |a, b| a > b),
                Op::GtF64 => binary!(f64 => boolean, |a, b| a > b),
                Op::GtStr => str_cmp!(|a, b| a > b),
                Op::GeI32 => binary!(i32 => boolean, |a, b| a >= b),
                Op::GeI64 => binary!(i64 => boolean, |a, b| a >= b),
                Op::GeF64 => binary!(f64 => boolean, |a, b| a >= b),
                Op::GeStr => str_cmp!(|a, b| a >= b),
                &Op::Load1(n) => push_as!(boolean, get!(bp.wrapping_add(n as usize), boolean)),
                &Op::Load4(n) => push_as!(i32, get!(bp.wrapping_add(n as usize), i32)),
                &Op::Load8(n) => push_as!(i64, get!(bp.wrapping_add(n as usize), i64)),
                &Op::Load16(n) => push!(read!(bp.wrapping_add(n as usize))),
                &Op::Store1(n) => {
                    sp = top!(1);
                    set!(bp.wrapping_add(n as usize), boolean, get!(sp, boolean));
                }
                &Op::Store4(n) => {
                    sp = top!(1);
                    set!(bp.wrapping_add(n as usize), i32, get!(sp, i32));
                }
                &Op::Store8(n) => {
                    sp = top!(1);
                    set!(bp.wrapping_add(n as usize), i64, get!(sp, i64));
                }
                &Op::Store16(n) => {
                    sp = top!(1);
                    write!(bp.wrapping_add(n as usize), read!(sp));
                }
                &Op::Push2I32(a, b) => {
                    set!(sp, i32, a);
                    set!(sp.wrapping_add(1), i32, b);
                    sp = sp.wrapping_add(2);
                    ip = ip.wrapping_add(1);
                }
                &Op::AddImmI32(k) => {
                    set!(top!(1), i32, get!(top!(1), i32).wrapping_add(k));
                    ip = ip.wrapping_add(1);
                }
                &Op::SubImmI32(k) => {
                    set!(top!(1), i32, get!(top!(1), i32).wrapping_sub(k));
                    ip = ip.wrapping_add(1);
                }
                &Op::AddImmI64(k) => {
                    set!(top!(1), i64, get!(top!(1), i64).wrapping_add(k));
                    ip = ip.wrapping_add(1);
                }
                &Op::SubImmI64(k) => {
                    set!(top!(1), i64, get!(top!(1), i64).wrapping_sub(k));
                    ip = ip.wrapping_add(1);
                }
                &Op::JnzKeepI32(t) => {
                    ip = ip.wrapping_add(1);
                    if get!(top!(1), i32) != 0 {
                        jump!(t);
                    }
                }
                &Op::JzKeepI32(t) => {
                    ip = ip.wrapping_add(1);
                    if get!(top!(1), i32) == 0 {
                        jump!(t);
                    }
                }
                &Op::Load2x4(a, b) => load2!(i32, a, b),
                &Op::Load2x8(a, b) => load2!(i64, a, b),
                &Op::Tee4(n) => tee!(i32, n),
                &Op::Tee8(n) => tee!(i64, n),
                &Op::BrEqI32(t) => branch!(i32, t, |a, b| a == b),
                &Op::BrNeI32(t) => branch!(i32, t, |a, b| a != b),
                &Op::BrLtI32(t) => branch!(i32, t, |a, b| a < b),
                &Op::BrLeI32(t) => branch!(i32, t, |a, b| a <= b),
                &Op::BrGtI32(t) => branch!(i32, t, |a, b| a > b),
                &Op::BrGeI32(t) => branch!(i32, t, |a, b| a >= b),
                &Op::BrEqI64(t) => branch!(i64, t, |a, b| a == b),
                &Op::BrNeI64(t) => branch!(i64, t, |a, b| a != b),
                &Op::BrLtI64(t) => branch!(i64, t, |a, b| a < b),
                &Op::BrLeI64(t) => branch!(i64, t, |a, b| a <= b),
                &Op::BrGtI64(t) => branch!(i64, t, |a, b| a > b),
                &Op::BrGeI64(t) => branch!(i64, t, |a, b| a >= b),
                &Op::Jmp(t) => jump!(t),
                &Op::JzI32(t) => {
                    sp = top!(1);
                    if get!(sp, i32) == 0 {
                        jump!(t);
                    }
                }
                &Op::JnzI32(t) => {
                    sp = top!(1);
                    if get!(sp, i32) != 0 {
                        jump!(t);
                    }
                }
                &Op::JzBool(t) => {
                    sp = top!(1);
                    if !get!(sp, boolean) {
                        jump!(t);
                    }
                }
                &Op::JnzBool(t) => {
                    sp = top!(1);
                    if get!(sp, boolean) {
                        jump!(t);
                    }
                }
                &Op::Call(f) => {
                    if self.frames.len() >= self.options.max_call_depth {
                        trap!(Fault::CallDepth {
                            max: self.options.max_call_depth
                        });
                    }
                    let callee = &program.funcs[f as usize];
                    let new_bp = top!(callee.nparams as usize);
                    let nlocals = callee.local_types.len();
                    if index!(new_bp) + nlocals + callee.max_depth as usize > capacity {
                        trap!(Fault::StackOverflow { capacity });
                    }
                    let locals_end = new_bp.wrapping_add(nlocals);
                    while sp < locals_end {
                        write!(sp, HsValue::ZERO);
                        sp = sp.wrapping_add(1);
                    }
                    self.frames.push(Frame {
                        func: f,
                        ret_pc: pc!(),
                        base: index!(new_bp) as u32,
                    });
                    sp = locals_end;
                    bp = new_bp;
                    ip = code.wrapping_add(callee.start as usize);
                    fuel -= 1;
                    if fuel == 0 {
                        save!();
                        return Ok(Status::Paused);
                    }
                }
                Op::Ret => {
                    if self.frames.len() == 1 {
                        save!();
                        return Ok(Status::Halted);
                    }
                    let frame = self.frames.pop().expect("a frame per call");
                    if program.program.functions[frame.func as usize].ret.is_some() {
                        write!(bp, read!(top!(1)));
                        sp = bp.wrapping_add(1);
                    } else {
                        sp = bp;
                    }
                    ip = code.wrapping_add(frame.ret_pc as usize);
                    bp = bottom.wrapping_add(self.frames.last().map_or(0, |f| f.base as usize));
                }
                &Op::CallNative { slot, nargs, ret } | &Op::CallNativeDrop { slot, nargs, ret } => {
                    let mut out = HsValue::ZERO;
                    sp = top!(nargs as usize);
                    // SAFETY: the verifier checked the `nargs` values at `sp`
                    // have the import's parameter types, and `link` checked
                    // the natives serve this slot with that signature; `ctx`
                    // points to this VM's context, clean between calls.
                    let status = unsafe {
                        natives.call(slot, CallCtx::as_abi(ctx), sp, nargs as usize, &mut out)
                    };
                    // SAFETY: the call has returned; nothing else holds `ctx`.
                    let touched = unsafe { (*ctx).touched };
                    // Pushes the scalar result, read at its own width, as
                    // the plugin wrote it.
                    macro_rules! push_result {
                        () => {
                            match ret {
                                RetKind::I32 => {
                                    // SAFETY: an OK call wrote a value of
                                    // the import's result type to `out`.
                                    let v = unsafe { out.i32 };
                                    push_as!(i32, v);
                                }
                                RetKind::Wide => {
                                    // SAFETY: as above; `i64` carries an
                                    // `f64`'s bits as well.
                                    let v = unsafe { out.i64 };
                                    push_as!(i64, v);
                                }
                                RetKind::Bool => {
                                    // SAFETY: `out` was zeroed before the
                                    // call; its first byte is what the plugin
                                    // wrote, read as a byte so that any
                                    // value is defined.
                                    let b = unsafe { *(&raw const out).cast::<u8>() } != 0;
                                    push_as!(boolean, b);
                                }
                                RetKind::Void | RetKind::Str => {}
                            }
                        };
                    }
                    if status == HsStatus::OK && !touched && ret != RetKind::Str {
                        // The common case: a scalar result, the context
                        // untouched.
                        push_result!();
                    } else {
                        // SAFETY: as above.
                        let c = unsafe { &mut *ctx };
                        match finish_call(c, slot, ret, status, || {
                            (
                                natives.failed_function(slot),
                                natives.isolated_failure(slot),
                            )
                        }) {
                            Ok(Some(s)) => {
                                push_as!(str, s);
                                if c.heap.wants_collection() {
                                    save!();
                                    self.collect();
                                    // The collection rewrote string slots
                                    // through the stack itself: the pointers
                                    // into it are taken anew.
                                    bottom = self.stack.as_mut_ptr();
                                    sp = bottom.wrapping_add(self.sp);
                                    bp = bottom.wrapping_add(
                                        self.frames.last().map_or(0, |f| f.base as usize),
                                    );
                                    ctx = &raw mut self.ctx;
                                }
                            }
                            Ok(None) => push_result!(),
                            Err(fault) => trap!(fault),
                        }
                    }
                    if matches!(op, Op::CallNativeDrop { .. }) {
                        sp = top!(usize::from(ret != RetKind::Void));
                        ip = ip.wrapping_add(1);
                    }
                }
                &Op::Print(t) => {
                    sp = top!(1);
                    let raw = read!(sp);
                    // SAFETY: the verifier gave the value this type; a string
                    // view points into the heap or the program's constants.
                    let v = unsafe { Value::from_raw(&raw, t) };
                    if let Err(e) = writeln!(self.out, "Result: {v}") {
                        trap!(Fault::Output(e));
                    }
                }
                Op::Halt => {
                    save!();
                    return Ok(Status::Halted);
                }
                Op::Unreachable => trap!(Fault::Unreachable),
            }
        }
    }
}

/// Everything but the common case of a native call: a failure, a string
/// result, or a plugin that used the context's callbacks. Leaves the context
/// clean for the next call.
#[cold]
#[inline(never)]
fn finish_call(
    c: &mut CallCtx,
    slot: u32,
    ret: RetKind,
    status: HsStatus,
    failed: impl FnOnce() -> (Option<String>, Option<crate::isolate::IsolatedFailure>),
) -> Result<Option<hotslot_plugin_api::HsStr>, Fault> {
    let outcome = if status == HsStatus::OK {
        match (c.fault, ret) {
            (Some(f), _) => Err(Fault::BadCallback {
                slot,
                problem: f.to_string(),
            }),
            // A match, not `ok_or`: the fault is built only when it is one.
            (None, RetKind::Str) => match c.result {
                Some(s) => Ok(Some(s)),
                None => Err(Fault::NoStringResult { slot }),
            },
            // A scalar function that also passed a string or a message:
            // its result stands, the rest is dropped.
            (None, _) => Ok(None),
        }
    } else {
        let (function, isolated) = failed();
        Err(match (function, status) {
            (None, _) => Fault::Unbound { slot },
            (Some(function), _) if let Some(failure) = isolated => Fault::Isolated {
                slot,
                function,
                failure,
            },
            (Some(function), HsStatus::ERROR) => Fault::Native {
                slot,
                function,
                message: c.take_error(),
            },
            (Some(function), HsStatus::PANIC) => Fault::Panic {
                slot,
                function,
                message: c.take_error(),
            },
            (Some(function), HsStatus(status)) => Fault::BadStatus {
                slot,
                function,
                status,
            },
        })
    };
    c.end_call();
    outcome
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

// SAFETY: the VM's raw pointers (string views in its stack and context)
// point into strings the VM itself or its `Arc<VerifiedProgram>` owns, so
// moving the VM moves their owner with them.
unsafe impl<N: Natives + Send> Send for Vm<N> {}
