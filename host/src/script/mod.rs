//! Script modules: functions a slot can bind, written in hotslot's own
//! assembly language (or its bytecode) instead of Rust or C.
//!
//! ```text
//! .module rules 1.2.0                        ; a plugin's name and version
//! .export score                              ; at the module's version
//! .export clamp 1.0.0                        ; at its own
//! .import 0 bonus (i64) -> i64 ^1            ; a native function it calls
//!
//! .func score (hits: i64, misses: i64) -> i64
//!     ...
//! .end
//! ```
//!
//! A module is loaded like a library: the file is read once under the
//! loader's first checks (who could have written it, its size, a pinned
//! hash); the bytes read are assembled (or decoded), verified, and
//! described as a plugin is ([`PluginInfo`]: its name, version, and each
//! export's name, signature and version), so a slot table checks and swaps
//! its functions exactly as a native plugin's. Nothing of a module is a
//! native entry point: each function's entry answers
//! `ROUTE` (`routed.rs`), and the slot's caller runs it on one
//! of the build's machines (`ScriptModule::call`). Its imports are the
//! table's (typed handles the binding declares, `slots/`), so they follow
//! their libraries' reloads.
//!
//! # Threat model
//!
//! A module's file is code, from whoever could write it: the same trust
//! policy as a library's applies, and its bytes are read once (what is
//! verified is what runs; there is no path to swap afterwards). Unlike a
//! library's, its code cannot do anything the verifier has not admitted:
//! it runs on the host's machine, with the types checked, its stack and
//! call depth bounded, and its native calls going through the table's
//! checked slots. A module that loops forever holds its caller, as a
//! native function would.

mod error;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use hotslot_plugin_api::{
    AbiVersion, HS_ABI_MAJOR, HS_ABI_MINOR, HsCallCtx, HsStatus, HsStr, HsValue,
};

pub use error::ScriptError;

use crate::plugin::{FunctionInfo, LoadOptions, PluginInfo, Sha256};
use crate::types::ValType;
use crate::vm::{Exec, JitOptions, NativeCalls, Program, VerifiedProgram, VmOptions};

/// Whether `path` names a script module rather than a library: by its
/// extension, `.hsasm` (text) or `.hsbc` (bytecode).
pub fn is_script(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "hsasm" || e == "hsbc")
}

/// One build of a script module: its program, verified, and what it
/// exports. A slot table loads one for each bind and reload of a module's
/// file; [`ScriptModule::open`] loads one to look at (`hotslot inspect`).
pub struct ScriptModule {
    /// The file it was read from (made absolute).
    pub(crate) source: PathBuf,
    /// The bytes read, which are what was verified (kept for a rollback).
    pub(crate) bytes: Arc<[u8]>,
    pub(crate) sha256: Sha256,
    pub(crate) program: Arc<VerifiedProgram>,
    pub(crate) info: PluginInfo,
    /// For each function of `info`, its index in the program.
    functions: Box<[u32]>,
    /// The table's handle numbers its imports call through, by import
    /// slot: set when a table binds the build.
    imports: OnceLock<Box<[(u32, u32)]>>,
    /// Machines for calls, each reused; one per call running at once.
    machines: Mutex<Vec<Exec>>,
    /// Whether its functions run compiled.
    jit: JitOptions,
}

impl std::fmt::Debug for ScriptModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptModule")
            .field("source", &self.source)
            .field("module", &self.info.name)
            .field("version", &self.info.version)
            .finish_non_exhaustive()
    }
}

impl ScriptModule {
    /// Loads the module at `path` with every check a table makes: the
    /// file's (its writers, its size, a pinned hash), then its text or
    /// bytecode and its verification. Safe: a module's code does nothing the
    /// verifier has not admitted.
    pub fn open(path: &Path, options: &LoadOptions) -> Result<ScriptModule, ScriptError> {
        Ok(
            ScriptModule::open_if_changed(path, options, None, JitOptions::default())?
                .expect("loaded when no hash is to be skipped"),
        )
    }

    /// What the module says of itself: its name, version, and each
    /// exported function's name, signature and version.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The file it was read from, made absolute.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The SHA-256 of the bytes read, which are the bytes verified.
    pub fn sha256(&self) -> Sha256 {
        self.sha256
    }

    /// The program, verified.
    pub fn program(&self) -> &Arc<VerifiedProgram> {
        &self.program
    }

    /// As [`open`](Self::open); `None` when its bytes have the SHA-256
    /// `unless` (the build serving now).
    pub(crate) fn open_if_changed(
        path: &Path,
        options: &LoadOptions,
        unless: Option<Sha256>,
        jit: JitOptions,
    ) -> Result<Option<ScriptModule>, ScriptError> {
        let Some((source, bytes, sha256)) = crate::plugin::read_trusted(path, options, unless)?
        else {
            return Ok(None);
        };
        ScriptModule::from_bytes(source, bytes.into(), sha256, jit).map(Some)
    }

    /// The module these bytes (read from `source`) hold: assembled or
    /// decoded, verified, described, and compiled when `jit` says so (a
    /// module that cannot be compiled runs interpreted).
    pub(crate) fn from_bytes(
        source: PathBuf,
        bytes: Arc<[u8]>,
        sha256: Sha256,
        jit: JitOptions,
    ) -> Result<ScriptModule, ScriptError> {
        let program = parse(&source, &bytes)?;
        let Some(module) = program.module.clone() else {
            return Err(ScriptError::NotAModule { path: source });
        };
        let program = Arc::new(crate::vm::verify(program).map_err(|e| ScriptError::Verify {
            path: source.clone(),
            source: e,
        })?);
        let p = program.program();
        let mut functions = Vec::with_capacity(module.exports.len());
        let mut infos = Vec::with_capacity(module.exports.len());
        for export in &module.exports {
            let (index, f) = p
                .functions
                .iter()
                .enumerate()
                .find(|(_, f)| f.name == export.function)
                .expect("the verifier checked every export names a function");
            functions.push(index as u32);
            infos.push(FunctionInfo::routed(
                export.function.clone(),
                f.signature(),
                export.version.clone(),
                crate::routed::route,
            ));
        }
        let info = PluginInfo::described(
            module.name.clone(),
            module.version.clone(),
            AbiVersion {
                major: HS_ABI_MAJOR,
                minor: HS_ABI_MINOR,
            },
            infos,
            None,
        )
        .map_err(|name| ScriptError::Verify {
            path: source.clone(),
            source: crate::vm::VerifyError::declaration(
                crate::vm::VerifyErrorKind::DuplicateExport { name },
            ),
        })?;
        if jit.enabled {
            // Compiled on the compiling thread: the reload does not wait
            // for it, and calls run interpreted until the code is ready; a
            // refusal is logged and the interpreter goes on running it.
            program.compile_in_background();
        }
        Ok(ScriptModule {
            source,
            bytes,
            sha256,
            program,
            info,
            functions: functions.into(),
            imports: OnceLock::new(),
            machines: Mutex::new(Vec::new()),
            jit,
        })
    }

    /// Records the table's handle numbers its imports call through (by
    /// import slot), once, when a table binds it.
    pub(crate) fn set_imports(&self, handles: Box<[(u32, u32)]>) {
        let _ = self.imports.set(handles);
    }

    /// The table's handle number for the import of `slot`.
    pub(crate) fn import_handle(&self, slot: u32) -> Option<u32> {
        let imports = self.imports.get()?;
        imports
            .binary_search_by_key(&slot, |(s, _)| *s)
            .ok()
            .map(|i| imports[i].1)
    }

    /// How its functions run (compiled or interpreted).
    pub(crate) fn jit(&self) -> JitOptions {
        self.jit
    }

    /// Calls the function `index` of [`info`](Self::info) as a native
    /// function is called: with the arguments at `args` (its parameters'
    /// types), its result written to `ret` (a string through `ctx`'s
    /// callbacks, which copy it), a fault reported as an error through
    /// `ctx`. Its imports are called through `natives`.
    ///
    /// # Safety
    ///
    /// `ctx` is a live call context; `args` points to the function's
    /// parameters, of their types (strings valid for the call); `ret` is
    /// writable.
    pub(crate) unsafe fn call(
        &self,
        index: usize,
        natives: &mut impl NativeCalls,
        ctx: *mut HsCallCtx,
        args: *const HsValue,
        ret: *mut HsValue,
    ) -> HsStatus {
        let f = self.functions[index];
        let nparams = self.info.functions[index].signature.params.len();
        // SAFETY: the caller passes the function's parameters at `args`.
        let args = unsafe { std::slice::from_raw_parts(args, nparams) };
        let mut exec = match self.machine() {
            Ok(exec) => exec,
            Err(e) => {
                // SAFETY: the caller's context is live.
                return unsafe { fail(ctx, &e.to_string()) };
            }
        };
        let status = match exec.call(natives, f, args) {
            Ok(None) => HsStatus::OK,
            Ok(Some(value)) if self.info.functions[index].signature.ret == Some(ValType::Str) => {
                // SAFETY: a verified function returning `str` leaves a view
                // of valid UTF-8 that its machine or program keeps alive
                // until the next call; the caller's context copies it now.
                unsafe { ((*ctx).return_str)(ctx, value.str) };
                HsStatus::OK
            }
            Ok(Some(value)) => {
                // SAFETY: the caller vouches `ret` is writable.
                unsafe { *ret = value };
                HsStatus::OK
            }
            // SAFETY: the caller's context is live.
            Err(e) => unsafe { fail(ctx, &e.to_string()) },
        };
        self.machines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(exec);
        status
    }

    /// A machine for one call: one made before and free, or a new one.
    fn machine(&self) -> Result<Exec, ScriptError> {
        if let Some(exec) = self
            .machines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
        {
            return Ok(exec);
        }
        let options = VmOptions {
            jit: self.jit,
            ..VmOptions::default()
        };
        Exec::new(Arc::clone(&self.program), options).map_err(|e| ScriptError::Machine {
            path: self.source.clone(),
            reason: e.to_string(),
        })
    }
}

/// Reports `message` as the call's error through `ctx`.
///
/// # Safety
///
/// `ctx` is a live call context.
unsafe fn fail(ctx: *mut HsCallCtx, message: &str) -> HsStatus {
    // SAFETY: the caller vouches for `ctx`; the message outlives the call,
    // which copies it.
    unsafe { ((*ctx).set_error)(ctx, HsStr::from_str(message)) };
    HsStatus::ERROR
}

/// The program in `bytes`: bytecode when it starts with `HSBC`, else
/// assembly text.
fn parse(source: &Path, bytes: &[u8]) -> Result<Program, ScriptError> {
    if bytes.starts_with(crate::vm::BYTECODE_MAGIC) {
        return crate::vm::decode(bytes).map_err(|e| ScriptError::Decode {
            path: source.to_owned(),
            source: e,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ScriptError::NotText {
        path: source.to_owned(),
    })?;
    crate::vm::assemble(text).map_err(|e| ScriptError::Asm {
        path: source.to_owned(),
        source: e,
    })
}
