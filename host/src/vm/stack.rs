//! The value stack of a VM: its whole capacity reserved at creation, and
//! resident only as deep as runs have used it.
//!
//! The stack is an anonymous private mapping: the system hands out its
//! pages zeroed, the first time each is touched. A default VM reserves
//! 1 MiB of address space (64 Ki values) and keeps a page or two resident.

use std::ops::{Deref, DerefMut};

use hotslot_plugin_api::HsValue;

/// `capacity` values, all zero at first.
pub(super) struct Stack {
    /// Where the values are: the mapping (or nothing, for no values).
    map: Option<memmap2::MmapMut>,
    /// Values it holds.
    len: usize,
}

impl Stack {
    /// A stack of `capacity` values, or why the system would not reserve it.
    pub(super) fn new(capacity: usize) -> std::io::Result<Stack> {
        let bytes = capacity
            .checked_mul(size_of::<HsValue>())
            .ok_or(std::io::ErrorKind::OutOfMemory)?;
        let map = match bytes {
            0 => None,
            _ => Some(memmap2::MmapMut::map_anon(bytes)?),
        };
        Ok(Stack { map, len: capacity })
    }
}

#[cfg(all(test, target_os = "linux", not(miri)))]
impl Stack {
    /// Bytes of the stack in memory, by `mincore`.
    pub(super) fn resident_bytes(&self) -> usize {
        let Some(map) = &self.map else {
            return 0;
        };
        let page = page_size();
        let mut pages = vec![0_u8; map.len().div_ceil(page)];
        // SAFETY: the range is the mapping, page-aligned; `pages` has a
        // byte for each of its pages.
        let rc = unsafe { libc::mincore(map.as_ptr() as *mut _, map.len(), pages.as_mut_ptr()) };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
        pages.iter().filter(|&&p| p & 1 != 0).count() * page
    }
}

#[cfg(all(test, target_os = "linux", not(miri)))]
pub(super) fn page_size() -> usize {
    // SAFETY: `sysconf` only reads a system setting.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

impl Deref for Stack {
    type Target = [HsValue];

    fn deref(&self) -> &[HsValue] {
        match &self.map {
            // SAFETY: the mapping is `len` values long and page-aligned (more
            // than `HsValue` needs); it was zero-filled by the system, and
            // all-zero bytes are a valid `HsValue` (`HsValue::ZERO`), as is
            // every value written since through `deref_mut`.
            Some(map) => unsafe { std::slice::from_raw_parts(map.as_ptr().cast(), self.len) },
            None => &[],
        }
    }
}

impl DerefMut for Stack {
    fn deref_mut(&mut self) -> &mut [HsValue] {
        match &mut self.map {
            // SAFETY: as for `deref`; the mapping is private to this stack
            // and borrowed mutably through it.
            Some(map) => unsafe {
                std::slice::from_raw_parts_mut(map.as_mut_ptr().cast(), self.len)
            },
            None => &mut [],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_starts_zeroed_and_holds_what_is_written() {
        let mut stack = Stack::new(100_000).unwrap();
        assert_eq!(stack.len(), 100_000);
        // SAFETY: every `HsValue` field of an all-zero value reads as zero.
        assert!(stack.iter().all(|v| unsafe { v.i64 } == 0));
        stack[99_999] = HsValue { i64: 7 };
        // SAFETY: written as an i64 just above.
        assert_eq!(unsafe { stack[99_999].i64 }, 7);
        assert!(Stack::new(0).unwrap().is_empty());
    }

    #[test]
    #[cfg(not(miri))]
    fn a_stack_larger_than_memory_is_an_error() {
        assert!(Stack::new(usize::MAX / 8).is_err());
        // 256 TiB: more than a process can map.
        let e = Stack::new(1 << 44).err().unwrap();
        assert_eq!(e.kind(), std::io::ErrorKind::OutOfMemory, "{e}");
    }

    #[test]
    #[cfg(all(target_os = "linux", not(miri)))]
    fn only_the_pages_used_are_resident() {
        let mut stack = Stack::new(64 * 1024).unwrap();
        assert_eq!(stack.resident_bytes(), 0);
        for v in &mut stack[..300] {
            *v = HsValue { i64: -1 };
        }
        // 300 values, 4,800 bytes: two pages of 4 KiB at most.
        assert!(stack.resident_bytes() <= 2 * page_size());
    }
}
