//! The host side of a native call's context: where a plugin's strings,
//! error messages and state bytes are copied to.

use std::collections::HashSet;

use hotslot_plugin_api::{HS_MAX_STATE_LEN, HS_MAX_STR_LEN, HsBytes, HsCallCtx, HsStr};

/// Strings the VM owns: native results, copied in by `return_str`.
///
/// Values on the stack are views (`HsStr`) into these strings or into the
/// program's constants; a string's bytes never move (it is never changed
/// after the copy), so views stay valid until the string is collected,
/// which happens only when no stack slot or local holds a view of it.
/// (`String` rather than `Box<str>`: moving a `Box` asserts unique access,
/// which would invalidate the views.)
#[derive(Debug)]
pub(crate) struct StrHeap {
    strings: Vec<String>,
    bytes: usize,
    threshold: usize,
    min_threshold: usize,
}

/// What a string costs the heap beyond its bytes, for the collection threshold.
const PER_STRING: usize = 32;

impl StrHeap {
    pub(crate) fn new(min_threshold: usize) -> StrHeap {
        StrHeap {
            strings: Vec::new(),
            bytes: 0,
            threshold: min_threshold,
            min_threshold,
        }
    }

    /// Copies `s` in and returns a view of the copy. Empty strings are not
    /// stored.
    pub(crate) fn alloc(&mut self, s: &str) -> HsStr {
        if s.is_empty() {
            return HsStr::EMPTY;
        }
        let b = s.to_owned();
        let view = HsStr::from_str(&b);
        self.bytes += b.len() + PER_STRING;
        self.strings.push(b);
        view
    }

    /// Whether enough was allocated since the last collection to collect.
    pub(crate) fn wants_collection(&self) -> bool {
        self.bytes > self.threshold
    }

    /// Frees every string whose address is not in `live`.
    pub(crate) fn retain_live(&mut self, live: &HashSet<usize>) {
        let mut bytes = 0;
        self.strings.retain(|s| {
            let keep = live.contains(&(s.as_ptr() as usize));
            if keep {
                bytes += s.len() + PER_STRING;
            }
            keep
        });
        self.bytes = bytes;
        self.threshold = (bytes * 2).max(self.min_threshold);
    }

    /// Frees everything; only when no view remains.
    pub(crate) fn clear(&mut self) {
        self.strings.clear();
        self.bytes = 0;
        self.threshold = self.min_threshold;
    }

    /// Number of strings held.
    pub(crate) fn len(&self) -> usize {
        self.strings.len()
    }

    /// Takes back the string `view` points to, when it is the last one
    /// stored (as a call's result is); an empty view is the empty string.
    pub(crate) fn take_last(&mut self, view: HsStr) -> Option<String> {
        if view.len == 0 {
            return Some(String::new());
        }
        if self.strings.last().is_some_and(|s| s.as_ptr() == view.ptr) {
            let s = self.strings.pop()?;
            self.bytes -= s.len() + PER_STRING;
            return Some(s);
        }
        None
    }
}

/// What a plugin did wrong through the context's callbacks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CallbackFault {
    /// A view with a null pointer and a non-zero length.
    NullView,
    /// A string that is not UTF-8.
    NotUtf8,
    /// A view longer than the host accepts.
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl std::fmt::Display for CallbackFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallbackFault::NullView => f.write_str("a null pointer with a non-zero length"),
            CallbackFault::NotUtf8 => f.write_str("a string that is not UTF-8"),
            CallbackFault::TooLong { len, max } => {
                write!(f, "a view of {len} bytes (the host accepts at most {max})")
            }
        }
    }
}

/// The context the host passes to every native call; `abi` is what the
/// plugin sees.
#[repr(C)]
pub(crate) struct CallCtx {
    /// Must stay the first field: the callbacks cast the pointer they get
    /// back to `CallCtx`.
    abi: HsCallCtx,
    pub(crate) heap: StrHeap,
    /// The string result of the current call, if `return_str` was called.
    pub(crate) result: Option<HsStr>,
    /// Whether `set_error` was called during the current call.
    pub(crate) has_error: bool,
    /// The message of the last `set_error`.
    pub(crate) error: String,
    /// The bytes of the last `return_bytes`.
    pub(crate) bytes: Vec<u8>,
    /// Whether `return_bytes` was called during the current call.
    pub(crate) has_bytes: bool,
    /// The first misuse of a callback during the current call.
    pub(crate) fault: Option<CallbackFault>,
    /// Whether any callback ran during the current call: when not, none of
    /// the fields above needs a look (the common case of a scalar result).
    pub(crate) touched: bool,
}

impl CallCtx {
    pub(crate) fn new(gc_threshold: usize) -> CallCtx {
        CallCtx {
            abi: HsCallCtx {
                struct_size: size_of::<HsCallCtx>() as u32,
                return_str,
                set_error,
                return_bytes,
            },
            heap: StrHeap::new(gc_threshold),
            result: None,
            has_error: false,
            error: String::new(),
            bytes: Vec::new(),
            has_bytes: false,
            fault: None,
            touched: false,
        }
    }

    /// Clears what a call left, for the next one.
    pub(crate) fn end_call(&mut self) {
        self.result = None;
        self.has_error = false;
        self.has_bytes = false;
        self.fault = None;
        self.touched = false;
    }

    /// The pointer to pass to a plugin. It is derived from the whole
    /// `CallCtx`, so the callbacks may reach every field through it.
    #[inline]
    pub(crate) fn as_abi(this: *mut CallCtx) -> *mut HsCallCtx {
        this.cast()
    }

    /// The error message of the current call, or a default.
    pub(crate) fn take_error(&mut self) -> String {
        if self.has_error {
            std::mem::take(&mut self.error)
        } else {
            "the plugin gave no message".into()
        }
    }
}

/// Reads a view a plugin passed to a callback, of at most `max` bytes: a
/// longer one is refused before a byte is read (a broken plugin may pair a
/// small buffer with an absurd length).
///
/// # Safety
///
/// `ptr` is null or readable for `len` bytes for the duration of the call.
unsafe fn view<'a>(ptr: *const u8, len: usize, max: usize) -> Result<&'a [u8], CallbackFault> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(CallbackFault::NullView);
    }
    if len > max {
        return Err(CallbackFault::TooLong { len, max });
    }
    // SAFETY: non-null; the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Recovers the host context from the pointer a plugin passed back.
///
/// # Safety
///
/// `ctx` is the pointer the host passed to the current call.
unsafe fn host<'a>(ctx: *mut HsCallCtx) -> &'a mut CallCtx {
    // SAFETY: the host passed `CallCtx::as_abi` of a live `CallCtx`, whose
    // first field is the `HsCallCtx` (repr(C)), with provenance over the
    // whole struct; no other reference to it is used during the call.
    unsafe { &mut *ctx.cast::<CallCtx>() }
}

unsafe extern "C" fn return_str(ctx: *mut HsCallCtx, s: HsStr) {
    // SAFETY: plugins call back with the context of the current call.
    let host = unsafe { host(ctx) };
    host.touched = true;
    // SAFETY: the ABI requires the view to be valid for the callback.
    match unsafe { view(s.ptr, s.len, HS_MAX_STR_LEN) }.map(std::str::from_utf8) {
        Ok(Ok(text)) => host.result = Some(host.heap.alloc(text)),
        Ok(Err(_)) => {
            host.fault.get_or_insert(CallbackFault::NotUtf8);
        }
        Err(f) => {
            host.fault.get_or_insert(f);
        }
    }
}

unsafe extern "C" fn set_error(ctx: *mut HsCallCtx, message: HsStr) {
    // SAFETY: plugins call back with the context of the current call.
    let host = unsafe { host(ctx) };
    host.touched = true;
    host.has_error = true;
    host.error.clear();
    // SAFETY: the ABI requires the view to be valid for the callback.
    match unsafe { view(message.ptr, message.len, HS_MAX_STR_LEN) } {
        Ok(bytes) => host.error.push_str(&String::from_utf8_lossy(bytes)),
        Err(f) => {
            use std::fmt::Write;
            let _ = write!(host.error, "<the plugin passed a message of {f}>");
        }
    }
}

unsafe extern "C" fn return_bytes(ctx: *mut HsCallCtx, state: HsBytes) {
    // SAFETY: plugins call back with the context of the current call.
    let host = unsafe { host(ctx) };
    host.touched = true;
    // SAFETY: the ABI requires the view to be valid for the callback.
    match unsafe { view(state.ptr, state.len, HS_MAX_STATE_LEN) } {
        Ok(bytes) => {
            host.bytes.clear();
            host.bytes.extend_from_slice(bytes);
            host.has_bytes = true;
        }
        Err(f) => {
            host.fault.get_or_insert(f);
        }
    }
}
