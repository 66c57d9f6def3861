//! The host side of a native call's context: where a plugin's strings,
//! error messages and state bytes are copied to.

use hotslot_plugin_api::{HS_MAX_STATE_LEN, HS_MAX_STR_LEN, HsBytes, HsCallCtx, HsStr};

/// Strings the VM owns: native results, copied in by `return_str`.
///
/// Values on the stack are views (`HsStr`) into these strings or into the
/// program's constants. The strings are packed into chunks that never move
/// and are never written where a string was copied, so views stay valid
/// until their chunk is freed, which happens only when no stack slot or
/// local holds a view into it. Copying a string in is a `memcpy`, with no
/// allocation of its own; a collection marks the chunks live views point
/// into and frees the others.
#[derive(Debug)]
pub(crate) struct StrHeap {
    /// In the order they were made; the last is the one being filled.
    chunks: Vec<Chunk>,
    /// Strings copied in and not freed.
    strings: usize,
    /// What the strings held cost, by `PER_STRING` each beyond their bytes.
    bytes: usize,
    threshold: usize,
    min_threshold: usize,
}

/// What a string costs the heap beyond its bytes, for the collection threshold.
const PER_STRING: usize = 32;

/// Bytes of a chunk; a longer string gets a chunk of its own size.
const CHUNK: usize = 16 * 1024;

/// A block of string bytes: `used` of them hold strings, the rest is free.
#[derive(Debug)]
struct Chunk {
    ptr: std::ptr::NonNull<u8>,
    cap: usize,
    used: usize,
    /// Strings in it.
    strings: usize,
}

// SAFETY: a chunk owns its block, like a `Box<[u8]>`; views into it are
// raw pointers whose use the VM orders (a VM runs on one thread at a time).
unsafe impl Send for Chunk {}

impl Chunk {
    fn new(cap: usize) -> Chunk {
        let layout = std::alloc::Layout::array::<u8>(cap).expect("a chunk's size fits");
        // SAFETY: `cap` is not zero (strings stored are not empty).
        let ptr = unsafe { std::alloc::alloc(layout) };
        let ptr =
            std::ptr::NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        Chunk {
            ptr,
            cap,
            used: 0,
            strings: 0,
        }
    }

    fn contains(&self, addr: usize) -> bool {
        let start = self.ptr.as_ptr() as usize;
        (start..start + self.used).contains(&addr)
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        let layout = std::alloc::Layout::array::<u8>(self.cap).expect("allocated with it");
        // SAFETY: allocated in `Chunk::new` with this layout, freed once.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), layout) }
    }
}

impl StrHeap {
    pub(crate) fn new(min_threshold: usize) -> StrHeap {
        StrHeap {
            chunks: Vec::new(),
            strings: 0,
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
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.cap - c.used >= s.len());
        if !fits {
            self.chunks.push(Chunk::new(s.len().max(CHUNK)));
        }
        let chunk = self.chunks.last_mut().expect("a chunk with room");
        // SAFETY: the chunk has `s.len()` bytes free from `used`, which no
        // view points into; `s` is another allocation.
        let at = unsafe {
            let at = chunk.ptr.as_ptr().add(chunk.used);
            std::ptr::copy_nonoverlapping(s.as_ptr(), at, s.len());
            at
        };
        chunk.used += s.len();
        chunk.strings += 1;
        self.strings += 1;
        self.bytes += s.len() + PER_STRING;
        HsStr {
            ptr: at,
            len: s.len(),
        }
    }

    /// Whether enough was allocated since the last collection to collect.
    pub(crate) fn wants_collection(&self) -> bool {
        self.bytes > self.threshold
    }

    /// Collects: the strings `live` (every view still in use) point to
    /// are copied into fresh chunks, each view rewritten to its copy, and
    /// the old chunks freed with everything else in them. Views into no
    /// chunk (a program's constants) are left as they are. The work is in
    /// proportion to what is live, and no garbage outlives a collection.
    pub(crate) fn compact<'a>(&mut self, live: impl IntoIterator<Item = &'a mut HsStr>) {
        let mut old = std::mem::take(&mut self.chunks);
        old.sort_unstable_by_key(|c| c.ptr.as_ptr() as usize);
        self.strings = 0;
        self.bytes = 0;
        for view in live {
            let addr = view.ptr as usize;
            let at = old.partition_point(|c| c.ptr.as_ptr() as usize <= addr);
            if at.checked_sub(1).is_some_and(|i| old[i].contains(addr)) {
                // SAFETY: the view points into a chunk still allocated (in
                // `old`), where `alloc` copied `len` bytes of UTF-8.
                let text = unsafe { std::str::from_utf8_unchecked(view.as_bytes()) };
                *view = self.alloc(text);
            }
        }
        drop(old);
        self.threshold = (self.bytes * 2).max(self.min_threshold);
    }

    /// Frees everything; only when no view remains.
    pub(crate) fn clear(&mut self) {
        self.chunks.truncate(1);
        if let Some(c) = self.chunks.first_mut() {
            c.used = 0;
            c.strings = 0;
        }
        self.strings = 0;
        self.bytes = 0;
        self.threshold = self.min_threshold;
    }

    /// Number of strings held.
    pub(crate) fn len(&self) -> usize {
        self.strings
    }

    /// A copy of the string `view` points to, which is then given back to
    /// the heap when it is the last one stored (as a call's result is); an
    /// empty view is the empty string.
    pub(crate) fn take_last(&mut self, view: HsStr) -> Option<String> {
        if view.len == 0 {
            return Some(String::new());
        }
        let chunk = self.chunks.last_mut()?;
        let end = chunk.ptr.as_ptr() as usize + chunk.used;
        if view.ptr as usize + view.len != end || !chunk.contains(view.ptr as usize) {
            return None;
        }
        // SAFETY: the view is the chunk's last string, copied in by `alloc`
        // from a `&str`: `len` initialized bytes of UTF-8.
        let text = unsafe { std::str::from_utf8_unchecked(view.as_bytes()) }.to_owned();
        chunk.used -= view.len;
        chunk.strings -= 1;
        self.strings -= 1;
        self.bytes -= view.len + PER_STRING;
        Some(text)
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

/// `bytes` as text, if they are UTF-8; ASCII, the common case, checked a
/// word at a time.
fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes)
}

unsafe extern "C" fn return_str(ctx: *mut HsCallCtx, s: HsStr) {
    // SAFETY: plugins call back with the context of the current call.
    let host = unsafe { host(ctx) };
    host.touched = true;
    // SAFETY: the ABI requires the view to be valid for the callback.
    match unsafe { view(s.ptr, s.len, HS_MAX_STR_LEN) }.map(utf8) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The text a view shows.
    fn text(v: HsStr) -> String {
        // SAFETY: every view here comes from the heap under test, alive.
        String::from_utf8(unsafe { v.as_bytes() }.to_vec()).unwrap()
    }

    #[test]
    fn a_collection_keeps_what_is_viewed_moves_it_and_frees_the_rest() {
        let mut heap = StrHeap::new(0);
        let mut views: Vec<HsStr> = (0..5000).map(|i| heap.alloc(&format!("s{i:05}"))).collect();
        assert_eq!(heap.len(), 5000);
        assert!(
            heap.chunks.len() >= 2,
            "5000 strings of 6 bytes fill more than one chunk"
        );
        let constant = HsStr::from_str("a constant");
        let mut kept = [views[10], views[4990], views[10], constant];
        let before = kept;
        heap.compact(kept.iter_mut());
        // Each live view now points to a copy of its text; the constant's
        // view is unchanged; nothing else is held.
        assert_eq!(kept.map(text), ["s00010", "s04990", "s00010", "a constant"]);
        assert!(kept[..3].iter().zip(&before).all(|(a, b)| a.ptr != b.ptr));
        assert_eq!(kept[3].ptr, before[3].ptr);
        assert_eq!(heap.len(), 3);
        assert_eq!(heap.chunks.len(), 1);
        // Nothing live: everything goes.
        views.clear();
        heap.compact(views.iter_mut());
        assert_eq!(heap.len(), 0);
        assert_eq!(text(heap.alloc("again")), "again");
    }

    #[test]
    fn a_long_string_gets_a_chunk_of_its_own() {
        let mut heap = StrHeap::new(0);
        let small = heap.alloc("small");
        let long = "x".repeat(3 * CHUNK);
        let mut big = heap.alloc(&long);
        assert_eq!(text(big), long);
        assert_eq!(text(small), "small");
        heap.compact([&mut big]);
        assert_eq!(heap.len(), 1, "the small one went");
        assert_eq!(text(big), long);
    }

    #[test]
    fn the_last_string_can_be_taken_back() {
        let mut heap = StrHeap::new(0);
        let first = heap.alloc("first");
        let last = heap.alloc("last");
        assert_eq!(heap.take_last(first), None, "not the last one");
        assert_eq!(heap.take_last(last).as_deref(), Some("last"));
        assert_eq!(heap.len(), 1);
        assert_eq!(heap.take_last(HsStr::EMPTY).as_deref(), Some(""));
        assert_eq!(heap.take_last(first).as_deref(), Some("first"));
        assert_eq!(heap.len(), 0);
        heap.clear();
        assert_eq!(text(heap.alloc("after")), "after");
    }

    #[test]
    fn ascii_and_other_utf8_are_text_and_the_rest_is_not() {
        assert_eq!(utf8(b"plain"), Ok("plain"));
        assert_eq!(utf8("grüße".as_bytes()), Ok("grüße"));
        assert!(utf8(b"\xff").is_err());
        assert!(utf8(b"ab\xc3").is_err());
    }
}
