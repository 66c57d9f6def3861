//! The worker's side: load one build, describe it, serve its calls.
//!
//! The host starts `hotslot-worker`, which becomes the supervisor (see
//! `supervisor.rs`) and forks the worker. The worker has two descriptors:
//! 3, the sealed private copy of the library (checked by the host: trust,
//! hash pin, ELF structure, exports), and 4, the channel's memory file. It
//! loads the copy with the loader's own checks (the descriptor, the layout,
//! `get_version`), writes a description of the build for the host to check
//! again, and then serves one call at a time until its supervisor goes,
//! which takes it along. Nothing the worker needs after it mapped the
//! channel and loaded the build is a descriptor: a plugin closing every
//! descriptor it has changes nothing for the next call.

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hotslot_plugin_api::{HsBytes, HsCallCtx, HsStatus, HsStr, HsValue};

use super::channel::{self, Region};
use super::describe;
use super::supervisor::{self, CHANNEL_FD, LIBRARY_FD, Role};
use crate::plugin::{FunctionInfo, Library, LoadOptions, PrivateCopy};
use crate::types::ValType;

/// The life of `hotslot-worker SOURCE SPIN_NS`, started by a host with the
/// library's copy as descriptor 3, the channel as 4, the lifeline as 5 and
/// the report pipe as 6 (nothing else starts a worker): the supervisor's,
/// then, in the process it forks, the worker's. `SOURCE` names the library
/// in messages; the worker spins `SPIN_NS` nanoseconds for the next call
/// before it sleeps.
pub fn worker_main() -> ExitCode {
    match supervisor::start() {
        Role::Done(code) => code,
        Role::Worker => serve_build(),
    }
}

/// The worker: loads the build, describes it, serves its calls.
fn serve_build() -> ExitCode {
    // A fault in the plugin ends the worker by its own signal, as the host
    // reports it: not through the Rust runtime's handler, which turns a
    // stack overflow into an abort with a message about a Rust thread.
    for signal in [libc::SIGSEGV, libc::SIGBUS] {
        // SAFETY: restoring a signal's default action, before any other
        // thread exists; no handler of this program's is replaced but the
        // runtime's own.
        unsafe { libc::signal(signal, libc::SIG_DFL) };
    }
    let mut args = std::env::args_os().skip(1);
    let source = args
        .next()
        .map_or_else(|| PathBuf::from("library"), PathBuf::from);
    let spin = args
        .next()
        .and_then(|s| s.to_str()?.parse().ok())
        .map_or(super::DEFAULT_SPIN, Duration::from_nanos);
    // SAFETY: the host handed descriptor 4 over as the channel's memory
    // file, open and owned by this process alone. It stays open (a plugin
    // may do to it what it likes: the file is sealed against resizing).
    let channel = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(CHANNEL_FD) });
    let Ok(map) = memmap2::MmapRaw::map_raw(&channel) else {
        return ExitCode::from(2);
    };
    if map.len() < channel::REGION_SIZE {
        return ExitCode::from(2);
    }
    // SAFETY: the mapping is page-aligned, at least `REGION_SIZE` long,
    // and lives until this process ends (it is never dropped: `serve`
    // does not return); every field of `Region` is an atomic, valid for
    // any bits, so sharing it with the host, which writes it too, is what
    // atomics allow.
    let region: &'static Region = unsafe { &*map.as_mut_ptr().cast::<Region>() };
    std::mem::forget(map);

    let library = match load(source) {
        Ok(library) => library,
        Err(reason) => {
            reply(region, channel::REPLY_ERROR, reason.as_bytes());
            channel::publish(&region.state, channel::REFUSED);
            return ExitCode::from(1);
        }
    };
    let description = describe::write(library.info(), library.kind());
    if description.len() > channel::REPLY_BYTES {
        let reason = format!(
            "its description takes {} bytes, more than the {} the channel holds",
            description.len(),
            channel::REPLY_BYTES
        );
        reply(region, channel::REPLY_ERROR, reason.as_bytes());
        channel::publish(&region.state, channel::REFUSED);
        return ExitCode::from(1);
    }
    reply(region, channel::REPLY_STR, &description);
    channel::publish(&region.state, channel::READY);

    let mut seen = channel::READY;
    loop {
        if seen != channel::CALL {
            seen = channel::wait_while(&region.state, seen, spin, None);
            continue;
        }
        // Read once, before any of the plugin's code runs: what the plugin
        // writes over it meanwhile is not echoed.
        let call = region.call.load(Ordering::Relaxed);
        region.taken.store(call, Ordering::Release);
        serve(region, &library);
        region.answered.store(call, Ordering::Release);
        channel::publish(&region.state, channel::DONE);
        seen = channel::DONE;
    }
}

/// Loads the copy handed over as descriptor 3 with every check of the
/// loader; refuses what an isolated worker cannot serve.
fn load(source: PathBuf) -> Result<Library, String> {
    // SAFETY: the host handed descriptor 3 over as the library's sealed
    // memory copy, owned by this process alone.
    let fd = unsafe { OwnedFd::from_raw_fd(LIBRARY_FD) };
    let copy = PrivateCopy::adopt_sealed(fd).map_err(|e| format!("its copy: {e}"))?;
    // SAFETY: the host checked the copy (its trust policy, its pin) before
    // handing it over, and vouched for it as for any library it loads
    // (`SlotTable::new`'s contract); whatever the library does, it does to
    // this process only.
    let library = unsafe { crate::plugin::open_copy(source, copy, &LoadOptions::default(), None) }
        .map_err(|e| e.to_string())?
        .expect("loaded when no hash is to be skipped");
    let info = library.info();
    if let Some(host) = &info.host {
        return Err(format!(
            "it needs the host table `{}`, which lives in the host's memory: \
             an isolated worker cannot reach it",
            host.name
        ));
    }
    for f in &info.functions {
        let types = f.signature.params.iter().chain(&f.signature.ret);
        if let Some(ty) = types.copied().find(|t| !channel::passes(*t)) {
            return Err(format!(
                "function `{}` {} `{ty}`: an isolated worker passes i32, i64, f64, bool and str only",
                f.name,
                if f.signature.ret == Some(ty) {
                    "returns"
                } else {
                    "takes"
                }
            ));
        }
    }
    Ok(library)
}

/// Puts `bytes` (at most the reply area) in the reply, as `kind`.
fn reply(region: &Region, kind: u32, bytes: &[u8]) {
    let n = bytes.len().min(channel::REPLY_BYTES);
    channel::put(&region.reply_bytes, &bytes[..n]);
    region.reply_len.store(n as u32, Ordering::Relaxed);
    region.reply_kind.store(kind, Ordering::Relaxed);
}

/// The context a plugin's function gets in a worker: its callbacks write
/// into the reply.
#[repr(C)]
struct WorkerCtx<'r> {
    base: HsCallCtx,
    region: &'r Region,
}

/// The context's `return_str`: copies the string into the reply.
///
/// # Safety
///
/// `ctx` is the `WorkerCtx` the plugin's function was given, during that
/// call; `s` is readable for its length.
unsafe extern "C" fn return_str(ctx: *mut HsCallCtx, s: HsStr) {
    // SAFETY: the plugin passes back the context it was given, a
    // `WorkerCtx` (its first field is the `HsCallCtx`).
    let region = unsafe { (*ctx.cast::<WorkerCtx<'_>>()).region };
    if s.len > channel::REPLY_BYTES {
        region
            .reply_len
            .store(u32::try_from(s.len).unwrap_or(u32::MAX), Ordering::Relaxed);
        region
            .reply_kind
            .store(channel::REPLY_TOO_LONG, Ordering::Relaxed);
        return;
    }
    // SAFETY: the ABI: `s` is readable for `len` bytes during the call.
    reply(region, channel::REPLY_STR, unsafe { s.as_bytes() });
}

/// The context's `set_error`: copies the message into the reply.
///
/// # Safety
///
/// As for [`return_str`].
unsafe extern "C" fn set_error(ctx: *mut HsCallCtx, message: HsStr) {
    // SAFETY: as in `return_str`.
    let region = unsafe { (*ctx.cast::<WorkerCtx<'_>>()).region };
    // SAFETY: the ABI: `message` is readable for `len` bytes during the call.
    let bytes = unsafe { message.as_bytes() };
    reply(region, channel::REPLY_ERROR, bytes);
}

/// The context's `return_bytes`: copies a saved state into the reply.
///
/// # Safety
///
/// As for [`return_str`], for `state`.
unsafe extern "C" fn return_bytes(ctx: *mut HsCallCtx, state: HsBytes) {
    // SAFETY: as in `return_str`.
    let region = unsafe { (*ctx.cast::<WorkerCtx<'_>>()).region };
    if state.len > channel::REPLY_BYTES {
        region.reply_len.store(
            u32::try_from(state.len).unwrap_or(u32::MAX),
            Ordering::Relaxed,
        );
        region
            .reply_kind
            .store(channel::REPLY_TOO_LONG, Ordering::Relaxed);
        return;
    }
    // SAFETY: the ABI: `state` is readable for `len` bytes during the call.
    reply(region, channel::REPLY_BYTES_KIND, unsafe {
        state.as_slice()
    });
}

/// Serves the call the host asked for, leaving its reply in the channel.
fn serve(region: &Region, library: &Library) {
    region
        .reply_kind
        .store(channel::REPLY_NONE, Ordering::Relaxed);
    region.reply_len.store(0, Ordering::Relaxed);
    let index = region.function.load(Ordering::Relaxed);
    if index == channel::SAVE_STATE || index == channel::LOAD_STATE {
        let status = state(region, library, index == channel::SAVE_STATE);
        region.status.store(status.0, Ordering::Relaxed);
        return;
    }
    let Some(f) = library.info().functions.get(index as usize) else {
        fail(region, &format!("no function number {index}"));
        return;
    };
    let nargs = region.nargs.load(Ordering::Relaxed) as usize;
    if nargs != f.signature.params.len() {
        fail(
            region,
            &format!(
                "`{}` takes {} arguments, not {nargs}",
                f.name,
                f.signature.params.len()
            ),
        );
        return;
    }
    let mut args = [HsValue { i64: 0 }; hotslot_plugin_api::HS_MAX_PARAMS];
    for (i, ty) in f.signature.params.iter().enumerate() {
        let word = &region.args[i];
        let bits = word.bits.load(Ordering::Relaxed);
        args[i] = match ty {
            ValType::I32 => HsValue {
                i32: bits as u32 as i32,
            },
            ValType::I64 => HsValue { i64: bits as i64 },
            ValType::F64 => HsValue {
                f64: f64::from_bits(bits),
            },
            ValType::Bool => HsValue { boolean: bits != 0 },
            _ => {
                let offset = word.offset.load(Ordering::Relaxed) as usize;
                let len = word.len.load(Ordering::Relaxed) as usize;
                if offset
                    .checked_add(len)
                    .is_none_or(|end| end > channel::ARG_BYTES)
                {
                    fail(region, "a string argument lies outside the channel");
                    return;
                }
                HsValue {
                    str: HsStr {
                        ptr: region.arg_bytes[offset..].as_ptr().cast::<u8>(),
                        len,
                    },
                }
            }
        };
    }
    let status = call(f, region, &args[..nargs]);
    region.status.store(status.0, Ordering::Relaxed);
}

/// Saves the build's state into the reply (`save`), or loads the one in
/// the arguments, with the build's hooks.
fn state(region: &Region, library: &Library, save: bool) -> HsStatus {
    let Some(hooks) = library.info().state else {
        fail(region, "the build has no state hooks");
        return HsStatus::ERROR;
    };
    let mut ctx = worker_ctx(region);
    let ctx = (&raw mut ctx).cast::<HsCallCtx>();
    if save {
        // SAFETY: the hook comes from the build's checked descriptor, and
        // the build stays loaded; the context is a `WorkerCtx`.
        return unsafe { (hooks.save)(ctx) };
    }
    let word = &region.args[0];
    let version = word.bits.load(Ordering::Relaxed) as u32;
    let len = (word.len.load(Ordering::Relaxed) as usize).min(channel::ARG_BYTES);
    let bytes = channel::take(&region.arg_bytes, len);
    // SAFETY: as above; `bytes` outlives the call.
    unsafe { (hooks.load)(ctx, version, HsBytes::from_slice(&bytes)) }
}

/// A context whose callbacks write into `region`'s reply.
fn worker_ctx(region: &Region) -> WorkerCtx<'_> {
    WorkerCtx {
        base: HsCallCtx {
            struct_size: size_of::<HsCallCtx>() as u32,
            return_str,
            set_error,
            return_bytes,
        },
        region,
    }
}

/// Calls `f` with `args`, writing its scalar result into the reply.
fn call(f: &FunctionInfo, region: &Region, args: &[HsValue]) -> HsStatus {
    let mut ctx = worker_ctx(region);
    let mut ret = HsValue { i64: 0 };
    // SAFETY: `f` is a function of the loaded build, which stays loaded
    // for the worker's life; its arguments were built from its own
    // signature, strings pointing into the channel for the call's
    // duration; the context is a `WorkerCtx`, whose callbacks the plugin
    // may call during the call only.
    let status = unsafe {
        (f.entry.0)(
            (&raw mut ctx).cast::<HsCallCtx>(),
            args.as_ptr(),
            args.len(),
            &raw mut ret,
        )
    };
    let bits = match f.signature.ret {
        // SAFETY: the function wrote its declared result type's field (or
        // left the zeroed union as it was).
        Some(ValType::I32) => (unsafe { ret.i32 }) as u32 as u64,
        // SAFETY: as above.
        Some(ValType::I64) => (unsafe { ret.i64 }) as u64,
        // SAFETY: as above.
        Some(ValType::F64) => unsafe { ret.f64 }.to_bits(),
        // SAFETY: the union was zeroed before the call; its first byte is
        // what the plugin wrote, read as a byte so that any value is
        // defined ("not zero" is true, as the ABI says).
        Some(ValType::Bool) => u64::from(unsafe { *(&raw const ret).cast::<u8>() } != 0),
        _ => 0,
    };
    region.ret.bits.store(bits, Ordering::Relaxed);
    status
}

/// Answers the call with an error the worker found itself.
fn fail(region: &Region, message: &str) {
    reply(region, channel::REPLY_ERROR, message.as_bytes());
    region.status.store(HsStatus::ERROR.0, Ordering::Relaxed);
}
