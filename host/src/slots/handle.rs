//! Typed handles: the host application's own calls to plugin functions,
//! through the slot table, with the VM's checks and release guarantees.
//!
//! A handle is a slot of the table past the program slots (a hidden
//! one): creating it checks the function's signature against the handle's
//! type and its version against the requirement, and every reload of the
//! library checks it again, in the same transaction as the library's
//! other slots; a build that would change it is refused like any other.
//! A call reads the handle's cell in the table's current snapshot, under
//! the release protocol's guard: a call in flight finishes on its build,
//! which is released after it returns.

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;

use hotslot_plugin_api::{HsStatus, HsValue};
use semver::VersionReq;

use super::error::{CallError, SlotError};
use super::publish::Reader;
use super::route;
use super::snapshot::{Binding, Cell, Snapshot};
use super::table::{Bound, HANDLE_BASE, Inner, SlotTable};
use super::transaction::check_slot;
use crate::plugin::HostStruct;
use crate::typed::{Args, Params, Passed, Results};
use crate::types::Signature;
use crate::types::StructName;
use crate::vm::Import;
use crate::vm::ctx::CallCtx;

/// Where a typed handle's function is looked for, and what version it
/// must have.
#[derive(Clone, Debug, Default)]
pub struct FunctionOptions {
    /// The library that must export it (a path as bound); by default the
    /// one bound library that does.
    pub library: Option<PathBuf>,
    /// The versions accepted, like an import's (`^1.0`); by default any,
    /// and later reloads keep the major version the handle was created
    /// with.
    pub requirement: Option<VersionReq>,
}

/// A plugin function the host calls directly: `P` its parameters, `R` its
/// result (see [`typed`](crate::typed)). It follows reloads: each call runs
/// the build serving now.
///
/// A handle is used from one thread at a time (it is `Send`, not `Sync`);
/// clone it for another thread. It keeps its function's library bound
/// while it (or a clone) lives.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // SAFETY: the example loads its own plugin.
/// let table = unsafe { hotslot::SlotTable::new() }?;
/// table.bind_library("./libmath_ops.so", &hotslot::ReloadOptions::default())?;
/// let add = table.function::<(i32, i32), i32>("math_add")?;
/// assert_eq!(add.call((10, 5))?, 15);
/// # Ok(()) }
/// ```
pub struct TypedFunc<P: Params, R: Results> {
    inner: Arc<Inner>,
    reader: Reader<Snapshot>,
    /// The handle's cell in every snapshot.
    index: usize,
    name: Arc<str>,
    /// The context of the handle's calls, clean between them.
    ctx: UnsafeCell<CallCtx>,
    _types: PhantomData<fn(P) -> R>,
}

// SAFETY: the context holds only what one call left behind (its strings,
// error message, bytes), cleared before the call returns; the handle
// carries no view into it from one call to the next, nor anything tied to
// the thread that made a call.
unsafe impl<P: Params, R: Results> Send for TypedFunc<P, R> {}

impl SlotTable {
    /// A handle to the function `name` of the one bound library that
    /// exports it, of the signature `P -> R`.
    pub fn function<P: Params, R: Results>(
        &self,
        name: &str,
    ) -> Result<TypedFunc<P, R>, SlotError> {
        self.function_with(name, &FunctionOptions::default())
    }

    /// As [`SlotTable::function`], with options.
    pub fn function_with<P: Params, R: Results>(
        &self,
        name: &str,
        options: &FunctionOptions,
    ) -> Result<TypedFunc<P, R>, SlotError> {
        let inner = self.inner();
        let mut w = inner.writer();
        let key = match &options.library {
            Some(path) => {
                let key = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                if !w.libraries.contains_key(&key) {
                    return Err(SlotError::NotBound { path: key });
                }
                key
            }
            None => {
                let mut exporting: Vec<PathBuf> = w
                    .libraries
                    .iter()
                    .filter(|(_, l)| l.current.info().function(name).is_some())
                    .map(|(k, _)| k.clone())
                    .collect();
                exporting.sort();
                match exporting.len() {
                    0 => {
                        let mut libraries: Vec<PathBuf> = w.libraries.keys().cloned().collect();
                        libraries.sort();
                        return Err(SlotError::FunctionNotFound {
                            function: name.to_owned(),
                            libraries,
                        });
                    }
                    1 => exporting.remove(0),
                    _ => {
                        return Err(SlotError::Ambiguous {
                            function: name.to_owned(),
                            libraries: exporting,
                        });
                    }
                }
            }
        };
        // The lowest handle number free.
        let slot = (HANDLE_BASE..=u32::MAX)
            .find(|s| !w.decls.contains_key(s))
            .expect("fewer than 2^32 - 65536 handles");
        let import = Import {
            slot,
            name: name.to_owned(),
            signature: Signature::new(P::TYPES.to_vec(), R::TYPE),
            requirement: options.requirement.clone(),
        };
        // The application's types it takes: the host's definitions, which
        // every plugin's view is checked against.
        for (ty, layout) in P::TYPES.iter().zip(P::LAYOUTS) {
            if let (Some(name), Some(layout)) = (ty.struct_name(), layout) {
                register_struct(&mut w.structs, name, layout)?;
            }
        }
        let library = Arc::clone(&w.libraries[&key].current);
        let index = check_slot(slot, &import, &library, &key, name, None, false, &w.structs)?;
        w.decls.insert(slot, import);
        w.slots.insert(
            slot,
            Bound {
                binding: Binding { library, index },
                key: Arc::from(key),
                symbol: Arc::from(name),
            },
        );
        w.handle_users.insert(slot, 1);
        inner.publish(&w);
        drop(w);
        Ok(TypedFunc {
            reader: inner.published.reader(),
            inner: Arc::clone(inner),
            index: (slot - HANDLE_BASE) as usize,
            name: name.into(),
            ctx: UnsafeCell::new(CallCtx::new(usize::MAX)),
            _types: PhantomData,
        })
    }
}

/// Registers the host's definition of the application's type `name`; the
/// same name for a different type is refused.
fn register_struct(
    structs: &mut std::collections::HashMap<StructName, Arc<HostStruct>>,
    name: StructName,
    layout: &'static abi_stable::type_layout::TypeLayout,
) -> Result<(), SlotError> {
    match structs.get(&name) {
        // The same Rust type (a constant's address need not be unique).
        Some(known) if known.layout.get_utypeid() == layout.get_utypeid() => Ok(()),
        Some(_) => Err(SlotError::TypeConflict {
            name: name.to_string(),
        }),
        None => {
            structs.insert(name, Arc::new(HostStruct::new(name, layout)));
            Ok(())
        }
    }
}

impl<P: Params, R: Results> TypedFunc<P, R> {
    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls the function with `args` (a tuple of values, or one alone).
    // Always inlined: the call path is a few loads, a compare and the
    // entry's call, which a call of its own would cost half as much again
    // (the benchmark's typed call: 4.6 ns when the inliner declined, 3.2 ns
    // inlined).
    #[inline(always)]
    pub fn call(&self, mut args: impl Args<P>) -> Result<R, CallError> {
        let values = args.values();
        let guard = self.reader.enter(&self.inner.published);
        if guard.is_first() {
            // SAFETY: the handle's own context is used by its first-level
            // calls only, one at a time (the handle is not `Sync`), and each
            // leaves it clean.
            unsafe { self.call_on(guard.held(), values.as_ref(), self.ctx.get()) }
        } else {
            self.call_nested(guard.held(), values.as_ref())
        }
    }

    /// A call made from within one of the handle's calls (through a host
    /// function), with a context of its own.
    #[cold]
    #[inline(never)]
    fn call_nested(&self, snapshot: &Snapshot, values: &[HsValue]) -> Result<R, CallError> {
        let mut ctx = CallCtx::new(usize::MAX);
        // SAFETY: a fresh context, used by this call only.
        unsafe { self.call_on(snapshot, values, &raw mut ctx) }
    }

    /// Calls the handle's function in `snapshot`.
    ///
    /// # Safety
    ///
    /// `snapshot` is held by a guard alive for the call; `values` are of
    /// `P`'s types; `ctx` is a clean context no other call uses until this
    /// one returns.
    #[inline]
    unsafe fn call_on(
        &self,
        snapshot: &Snapshot,
        values: &[HsValue],
        ctx: *mut CallCtx,
    ) -> Result<R, CallError> {
        // SAFETY: the handle is declared for as long as it (or a clone)
        // lives, so every snapshot published since its creation, this one
        // included, has its cell.
        let cell = unsafe { snapshot.handles.get_unchecked(self.index) };
        let mut out = HsValue::ZERO;
        // SAFETY: the cell's entry has this handle's signature, checked at
        // creation and at every reload; the caller vouches for `values`
        // and `ctx`; `out` is writable; the caller's guard keeps the build
        // loaded until the call returns.
        let status = unsafe {
            (cell.entry)(
                CallCtx::as_abi(ctx),
                values.as_ptr(),
                values.len(),
                &raw mut out,
            )
        };
        // SAFETY: the call has returned: nothing else uses `ctx` now.
        if status == HsStatus::OK && !unsafe { (*ctx).touched } {
            // SAFETY: an OK call wrote a value of `R`'s type to `out`.
            if let Some(r) = unsafe { R::read(&out, Passed::default()) } {
                return Ok(r);
            }
        }
        // SAFETY: as for the call above, which returned; `out` is its.
        unsafe { self.finish_slow(cell, snapshot, status, values, ctx, out) }
    }

    /// Everything but a scalar result with the context untouched: an
    /// isolated build's call (made now, through its worker), a string
    /// result, an error, a panic, a misused callback.
    ///
    /// # Safety
    ///
    /// As for [`call_on`](Self::call_on), whose call of `cell`'s entry
    /// returned `status` and left `out`.
    #[cold]
    #[inline(never)]
    unsafe fn finish_slow(
        &self,
        cell: &Cell,
        snapshot: &Snapshot,
        mut status: HsStatus,
        values: &[HsValue],
        ctx: *mut CallCtx,
        mut out: HsValue,
    ) -> Result<R, CallError> {
        let function = || {
            cell.binding
                .as_ref()
                .map_or_else(|| self.name.to_string(), |b| b.function().name.clone())
        };
        if status != HsStatus::OK {
            // SAFETY: forwarded to the caller.
            let routed = unsafe {
                route::routed(
                    cell,
                    snapshot,
                    &self.inner,
                    status,
                    CallCtx::as_abi(ctx),
                    values.as_ptr(),
                    &raw mut out,
                )
            };
            match routed {
                Ok(routed) => status = routed,
                Err(failure) => {
                    route::roll_back_if_due(&self.inner, cell);
                    // SAFETY: the call is over: nothing else uses `ctx`.
                    let ctx = unsafe { &mut *ctx };
                    ctx.end_call();
                    ctx.heap.clear();
                    return Err(CallError::Isolated {
                        function: function(),
                        failure,
                    });
                }
            }
        }
        // SAFETY: the call is over: nothing else uses `ctx` now.
        let ctx = unsafe { &mut *ctx };
        let result = if status == HsStatus::OK && !ctx.touched {
            // SAFETY: an OK call wrote a value of `R`'s type to `out`.
            match unsafe { R::read(&out, Passed::default()) } {
                Some(r) => Ok(r),
                None => finish(ctx, status, &out, function),
            }
        } else {
            finish(ctx, status, &out, function)
        };
        ctx.end_call();
        ctx.heap.clear();
        result
    }
}

/// Everything but a scalar result with the context untouched: a string
/// result, an error, a panic, a misused callback.
#[cold]
#[inline(never)]
fn finish<R: Results>(
    ctx: &mut CallCtx,
    status: HsStatus,
    out: &HsValue,
    function: impl FnOnce() -> String,
) -> Result<R, CallError> {
    match status {
        HsStatus::OK => {}
        HsStatus::ERROR => {
            return Err(CallError::Native {
                function: function(),
                message: ctx.take_error(),
            });
        }
        HsStatus::PANIC => {
            return Err(CallError::Panic {
                function: function(),
                message: ctx.take_error(),
            });
        }
        HsStatus(status) => {
            return Err(CallError::BadStatus {
                function: function(),
                status,
            });
        }
    }
    if let Some(fault) = ctx.fault {
        return Err(CallError::BadCallback {
            function: function(),
            problem: fault.to_string(),
        });
    }
    let passed = Passed {
        string: ctx.result.and_then(|view| ctx.heap.take_last(view)),
        bytes: ctx.has_bytes.then(|| std::mem::take(&mut ctx.bytes)),
    };
    // SAFETY: the call returned OK, so `out` holds a value of `R`'s type.
    unsafe { R::read(out, passed) }.ok_or_else(|| {
        let function = function();
        if R::TYPE == Some(crate::types::ValType::Bytes) {
            CallError::NoBytesResult { function }
        } else {
            CallError::NoStringResult { function }
        }
    })
}

impl<P: Params, R: Results> Clone for TypedFunc<P, R> {
    fn clone(&self) -> TypedFunc<P, R> {
        let slot = HANDLE_BASE + self.index as u32;
        *self
            .inner
            .writer()
            .handle_users
            .get_mut(&slot)
            .expect("a live handle is declared") += 1;
        TypedFunc {
            reader: self.inner.published.reader(),
            inner: Arc::clone(&self.inner),
            index: self.index,
            name: Arc::clone(&self.name),
            ctx: UnsafeCell::new(CallCtx::new(usize::MAX)),
            _types: PhantomData,
        }
    }
}

impl<P: Params, R: Results> Drop for TypedFunc<P, R> {
    fn drop(&mut self) {
        self.inner.published.remove(&self.reader);
        let slot = HANDLE_BASE + self.index as u32;
        let mut w = self.inner.writer();
        let users = w
            .handle_users
            .get_mut(&slot)
            .expect("a live handle is declared");
        *users -= 1;
        if *users == 0 {
            w.handle_users.remove(&slot);
            w.decls.remove(&slot);
            w.slots.remove(&slot);
            w.forget_unused_libraries();
            self.inner.publish(&w);
        }
    }
}

impl<P: Params, R: Results> std::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("name", &self.name)
            .field(
                "signature",
                &Signature::new(P::TYPES.to_vec(), R::TYPE).to_string(),
            )
            .finish_non_exhaustive()
    }
}
