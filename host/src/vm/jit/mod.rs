//! The compiled engine: verified programs translated to native code with
//! Cranelift, the code generator wasmtime uses.
//!
//! # When code is compiled
//!
//! A program is compiled the first time a VM runs it, all its functions at
//! once, so its first run is already compiled. A script module is compiled
//! right after it loads, on a thread of its own (`background.rs`): Cranelift
//! takes some 2 µs per instruction of its IR on the benchmark's machine,
//! which for a small module is three times what the rest of a reload
//! takes, and a reload should not wait for it; the module's calls run on
//! the interpreter until its code is ready (BENCHMARKS.md has both
//! figures). The interpreter is the reference, and the fallback: without
//! the `jit` feature, with [`JitOptions::enabled`] off, where the system
//! refuses executable memory (the compile fails and says why), and for a
//! run resumed after a pause.
//!
//! # Sound by construction
//!
//! Code comes only from verified programs, whose types, stack depths and
//! jumps the verifier proved; each function's stack accesses are at offsets
//! from its frame the verifier bounded, and each call checks the stack's
//! capacity before the callee's frame exists, as the interpreter does. Calls
//! nest only as deep as the VM's limit, the native stack a run needs is
//! reserved before it starts (`stacker`), and a call checks the native
//! stack pointer besides, so deep recursion is a typed fault, never a crash
//! of the host. The code's memory is writable while it is written and then
//! only readable and executable (Cranelift's JIT memory, W^X); it is freed
//! when the compiled program is dropped, which the slot table's release
//! protocol delays, for a script module's build, until no call can be
//! running in it.

pub(crate) mod background;
mod calls;
pub(super) mod code;
mod runtime;
mod translate;

use std::sync::{Arc, OnceLock};

use cranelift_codegen::ir::{AbiParam, InstBuilder, UserFuncName, types};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};

use runtime::Env;
use runtime::{FAULT, HALTED, OK, PAUSED};
use translate::{Helpers, Sigs, Translator, cl_type};

use super::error::Fault;
use super::error::JitError;
use super::machine::{Machine, Status};
use super::natives::NativeCalls;
use super::program::Instr;
use super::verify::VerifiedProgram;
use code::{Compiled, Entry};

impl VerifiedProgram {
    /// Compiles the program to native code now, if it was not already (a
    /// VM compiles it on its first run): `Err` says why it runs
    /// interpreted instead (the `jit` feature left out, the system's
    /// refusal of executable memory).
    pub fn compile(&self) -> Result<(), JitError> {
        self.compiled().map(|_| ())
    }

    /// Whether the program's compiled code is ready (compiled by
    /// [`compile`](Self::compile), a VM's first run, or for a script
    /// module in the background after it loaded).
    pub fn is_compiled(&self) -> bool {
        self.compiled_if_ready().is_some()
    }

    /// The compiled program if it is ready, without compiling it.
    pub(crate) fn compiled_if_ready(&self) -> Option<&Arc<Compiled>> {
        self.compiled.get().and_then(|c| c.as_ref().ok())
    }

    /// Compiles the program on the compiling thread (`background.rs`).
    pub(crate) fn compile_in_background(self: &Arc<Self>) {
        if self.compiled.get().is_none() {
            background::submit(self);
        }
    }

    /// The compiled program, compiled on the first call.
    pub(crate) fn compiled(&self) -> Result<&Arc<Compiled>, JitError> {
        self.compiled
            .get_or_init(|| {
                // Cranelift's passes recurse: on a thread with a small
                // stack, the compile runs on a stack of its own.
                stacker::maybe_grow(2 << 20, 8 << 20, || compile(self))
                    .map(Arc::new)
                    .inspect_err(|e| {
                        log::warn!("programs run interpreted: {e}");
                    })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

thread_local! {
    /// The Cranelift contexts a thread's compiles reuse (see `compile`).
    static CONTEXTS: std::cell::Cell<Option<(cranelift_codegen::Context, FunctionBuilderContext)>> =
        const { std::cell::Cell::new(None) };
}

/// The code generator for this machine, made once: its settings and the
/// CPU's features are the same for every program.
fn isa() -> Result<cranelift_codegen::isa::OwnedTargetIsa, JitError> {
    static ISA: OnceLock<Result<cranelift_codegen::isa::OwnedTargetIsa, JitError>> =
        OnceLock::new();
    ISA.get_or_init(|| {
        let err = |what: &str, e: &dyn std::fmt::Display| JitError::new(format!("{what}: {e}"));
        let mut flags = settings::builder();
        let mut set = |name: &str, value: &str| {
            flags
                .set(name, value)
                .map_err(|e| err("Cranelift's settings", &e))
        };
        set("opt_level", "speed")?;
        set("use_colocated_libcalls", "false")?;
        set("is_pic", "false")?;
        // Cranelift checks its own IR between passes: worth it in debug
        // builds (the tests), a third of the compile time in release ones,
        // where the differential test and the fuzzer stand behind it.
        set(
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )?;
        cranelift_native::builder()
            .map_err(|e| err("this machine is not one Cranelift compiles for", &e))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| err("Cranelift's settings", &e))
    })
    .clone()
}

/// Compiles every function of `p`, with an entry from the host for each
/// function the host calls: `main`, and a script module's exports.
fn compile(p: &VerifiedProgram) -> Result<Compiled, JitError> {
    let err = |what: &str, e: &dyn std::fmt::Display| JitError::new(format!("{what}: {e}"));
    let mut module = JITModule::new(JITBuilder::with_isa(
        isa()?,
        cranelift_module::default_libcall_names(),
    ));
    let ptr = module.target_config().pointer_type();
    let n = p.program.functions.len();
    let mut ids: Vec<FuncId> = Vec::with_capacity(n);
    for f in 0..n {
        let sig = translate::signature(p, f, module.make_signature(), ptr);
        let id = module
            .declare_function(&format!("f{f}"), Linkage::Local, &sig)
            .map_err(|e| err("declaring a function", &e))?;
        ids.push(id);
    }
    let helpers = Helpers {
        print: runtime::print as *const () as usize as i64,
        compare: runtime::compare_strings as *const () as usize as i64,
        remainder: runtime::float_remainder as *const () as usize as i64,
    };
    // Cranelift's contexts keep their allocations (the register
    // allocator's among them) when cleared: one pair per thread serves
    // every compile, which halves a small module's compile time.
    let (mut ctx, mut fctx) = CONTEXTS
        .with(|c| c.take())
        .unwrap_or_else(|| (module.make_context(), FunctionBuilderContext::new()));
    module.clear_context(&mut ctx);
    // A script module's `main` is a lone `HALT` that nothing runs: unless
    // one of its functions calls it, it is not compiled (a third of a
    // small module's compile).
    let main_wanted = p.program.module.is_none() || p.program.code.contains(&Instr::Call(0));
    let wanted = |f: usize| f != 0 || main_wanted;
    for (f, &id) in ids.iter().enumerate() {
        if !wanted(f) {
            continue;
        }
        ctx.func.signature = translate::signature(p, f, module.make_signature(), ptr);
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let funcs: Vec<_> = ids
            .iter()
            .map(|id| module.declare_func_in_func(*id, &mut ctx.func))
            .collect();
        let sig = |params: &[cranelift_codegen::ir::Type], ret: cranelift_codegen::ir::Type| {
            let mut s = module.make_signature();
            s.params.extend(params.iter().map(|t| AbiParam::new(*t)));
            s.returns.push(AbiParam::new(ret));
            s
        };
        let sigs = Sigs {
            call_native: ctx
                .func
                .import_signature(sig(&[ptr, types::I32, ptr, ptr, ptr, ptr], types::I32)),
            finish_native: ctx.func.import_signature(sig(
                &[
                    ptr,
                    types::I32,
                    types::I32,
                    types::I32,
                    types::I32,
                    types::I64,
                ],
                types::I32,
            )),
            print: ctx
                .func
                .import_signature(sig(&[ptr, types::I32, ptr, types::I32], types::I32)),
            compare: ctx.func.import_signature(sig(&[ptr, ptr], types::I32)),
            remainder: ctx
                .func
                .import_signature(sig(&[types::F64, types::F64], types::F64)),
        };
        let config = module.target_config();
        let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        Translator::new(b, p, f, ptr, &funcs, sigs, helpers, config).translate();
        module
            .define_function(id, &mut ctx)
            .map_err(|e| err(&format!("compiling `{}`", p.program.functions[f].name), &e))?;
        module.clear_context(&mut ctx);
    }
    // Each entered function's entry from the host: its numeric parameters
    // read from their slots, then the call.
    let entered: Vec<usize> = std::iter::once(0)
        .chain(p.program.module.iter().flat_map(|m| {
            m.exports.iter().filter_map(|e| {
                p.program
                    .functions
                    .iter()
                    .position(|f| f.name == e.function)
            })
        }))
        .collect();
    let mut entry_ids = Vec::with_capacity(entered.len());
    for (f, &target) in ids.iter().enumerate() {
        if !entered.contains(&f) || !wanted(f) {
            continue;
        }
        let mut sig = module.make_signature();
        sig.params.push(AbiParam::new(ptr));
        sig.params.push(AbiParam::new(ptr));
        sig.returns.push(AbiParam::new(types::I32));
        let id = module
            .declare_function(&format!("entry{f}"), Linkage::Local, &sig)
            .map_err(|e| err("declaring an entry", &e))?;
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(1, id.as_u32());
        let callee = module.declare_func_in_func(target, &mut ctx.func);
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let block = b.create_block();
            b.append_block_params_for_function_params(block);
            b.switch_to_block(block);
            let (env, bp) = (b.block_params(block)[0], b.block_params(block)[1]);
            let mut args = vec![env, bp];
            for (i, ty) in p.program.functions[f].params.iter().enumerate() {
                if let Some(t) = cl_type(*ty) {
                    let flags = cranelift_codegen::ir::MemFlagsData::trusted();
                    args.push(b.ins().load(t, flags, bp, (i * 16) as i32));
                }
            }
            let call = b.ins().call(callee, &args);
            let status = b.inst_results(call)[0];
            b.ins().return_(&[status]);
            b.seal_all_blocks();
            b.finalize(module.target_config());
        }
        module
            .define_function(id, &mut ctx)
            .map_err(|e| err("compiling an entry", &e))?;
        module.clear_context(&mut ctx);
        entry_ids.push((f, id));
    }
    CONTEXTS.with(|c| c.set(Some((ctx, fctx))));
    module.finalize_definitions().map_err(|e| {
        err(
            "making the code executable (the system may refuse executable memory)",
            &e,
        )
    })?;
    let mut entries: Vec<Option<Entry>> = vec![None; n];
    for (f, id) in entry_ids {
        let code = module.get_finalized_function(id);
        // SAFETY: the entry was compiled with the signature of `Entry` in
        // the platform's C calling convention (`make_signature`).
        entries[f] = Some(unsafe { std::mem::transmute::<*const u8, Entry>(code) });
    }
    let frame_bytes = p
        .funcs
        .iter()
        .map(|f| 256 + 32 * (f.local_types.len() + f.max_depth as usize))
        .max()
        .unwrap_or(256);
    Ok(Compiled::new(module, entries.into(), frame_bytes))
}

impl Compiled {
    /// Runs function `f` of `machine`'s program from its first instruction,
    /// its frame (the outermost) at the bottom of the stack with its
    /// parameters and zeroed locals in place, and the frame record written;
    /// natives through `calls`; at most `fuel` backward jumps and calls.
    /// The machine ends where the interpreter would leave it.
    pub(super) fn run(
        &self,
        machine: &mut Machine,
        calls: &mut impl NativeCalls,
        f: u32,
        fuel: u64,
    ) -> Result<Status, (u32, Fault)> {
        fn run_with<C: NativeCalls>(
            compiled: &Compiled,
            machine: &mut Machine,
            calls: &mut C,
            f: u32,
            fuel: u64,
        ) -> Result<Status, (u32, Fault)> {
            let max_depth = machine.options.max_call_depth.max(1);
            let machine: *mut Machine = machine;
            // SAFETY: `machine` is the caller's, exclusively borrowed for
            // the run; every pointer below is derived from it.
            let m = unsafe { &mut *machine };
            m.frames.reserve(max_depth.saturating_sub(m.frames.len()));
            // The native stack the run may need: every frame as deep as the
            // VM allows, at the largest frame's size.
            let need = max_depth
                .saturating_mul(compiled.frame_bytes)
                .saturating_add(256 * 1024)
                .min(1 << 30);
            let mut env = Env {
                bottom: m.stack.as_mut_ptr(),
                capacity: m.stack.len() as u64,
                depth: 1,
                max_depth: max_depth as u64,
                frames: m.frames.as_mut_ptr(),
                fuel,
                stack_limit: 0,
                ctx: &raw mut m.ctx,
                calls: (calls as *mut C).cast(),
                call_native: runtime::call_native::<C>,
                finish_native: runtime::finish_native::<C>,
                pc: 0,
                sp: 0,
                fault: 0,
                fault_pc: 0,
                machine,
                pending: None,
                panic: None,
            };
            let entry = compiled.entries[f as usize]
                .expect("the host enters `main` and a module's exports only");
            let status = stacker::maybe_grow(need, need, || {
                // A frame of the host's, as the stack's current depth: the
                // run may go `need` below it, less a margin for natives.
                let here = 0u8;
                let sp = std::ptr::addr_of!(here) as u64;
                env.stack_limit = sp.saturating_sub((need - 128 * 1024) as u64);
                let bottom = env.bottom;
                // SAFETY: the entry is this program's, compiled from its
                // verified code; the environment points to the machine's
                // live stack, context and frame buffer (reserved for the
                // deepest nesting) and to `calls`, all of which outlive
                // the run; the native stack it may use is reserved above.
                unsafe { entry((&raw mut env).cast(), bottom) }
            });
            if let Some(payload) = env.panic.take() {
                // A helper's panic (the output writer's, a native's) goes
                // on unwinding from here, as it would from the interpreter.
                std::panic::resume_unwind(payload);
            }
            // SAFETY: the run is over: nothing else uses the machine.
            let machine = unsafe { &mut *machine };
            match status {
                HALTED | PAUSED => {
                    // SAFETY: a halted or paused run wrote the first `depth`
                    // records of the frame buffer.
                    unsafe { runtime::sync(machine, &env, env.pc, env.sp) };
                    Ok(if status == HALTED {
                        Status::Halted
                    } else {
                        Status::Paused
                    })
                }
                FAULT => {
                    let pc = env.fault_pc as u32;
                    machine.pc = pc + 1;
                    let fault = match env.fault {
                        runtime::fault::DIVIDE_BY_ZERO => Fault::DivideByZero,
                        runtime::fault::OVERFLOW => Fault::Overflow,
                        runtime::fault::STACK_OVERFLOW => Fault::StackOverflow {
                            capacity: machine.stack.len(),
                        },
                        runtime::fault::CALL_DEPTH => Fault::CallDepth {
                            max: machine.options.max_call_depth,
                        },
                        _ => env.pending.take().unwrap_or(Fault::Unreachable),
                    };
                    Err((pc, fault))
                }
                other => {
                    debug_assert_eq!(other, OK, "the outermost frame halts, never returns");
                    Err((0, Fault::Unreachable))
                }
            }
        }
        run_with(self, machine, calls, f, fuel)
    }
}
