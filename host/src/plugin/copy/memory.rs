//! Private copies as sealed anonymous memory files (Linux): filled by the
//! kernel from the library file, then sealed against every write, growth
//! and shrinking, and opened by the dynamic loader as `/proc/self/fd/N`.

use std::fs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::CopyBytes;
use crate::plugin::error::LoadError;

/// Up to this length the checks read a sealed copy into memory with one
/// `pread`; a longer one is mapped (its pages are read only where the
/// checks look). For a small library one read costs less than a mapping,
/// its page faults and its unmapping.
const READ_AT_MOST: u64 = 256 * 1024;

/// A sealed memory file, and its length.
#[derive(Debug)]
pub(crate) struct Sealed {
    fd: OwnedFd,
    len: u64,
}

/// Whether memory copies can be made here: `Err` with why not.
pub(crate) fn available() -> Result<(), &'static str> {
    memory_files().map(|_| ())
}

/// Whether this system lets a memory file hold code, and with which flag;
/// decided once per process.
fn memory_files() -> Result<rustix::fs::MemfdFlags, &'static str> {
    use rustix::fs::MemfdFlags;
    static DECISION: OnceLock<Result<MemfdFlags, &'static str>> = OnceLock::new();
    *DECISION.get_or_init(|| {
        if !Path::new("/proc/self/fd").is_dir() {
            return Err("/proc is not mounted, so a memory file cannot be opened by path");
        }
        memfd_flags(
            fs::read_to_string("/proc/sys/vm/memfd_noexec")
                .ok()
                .as_deref(),
        )
    })
}

/// The flags a memory copy is made with under the kernel's
/// `vm.memfd_noexec` policy (`None`: a kernel without the policy).
fn memfd_flags(policy: Option<&str>) -> Result<rustix::fs::MemfdFlags, &'static str> {
    use rustix::fs::MemfdFlags;
    let base = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    match policy.map(str::trim) {
        // 2: no memory file may ever hold code.
        Some("2") => Err("the kernel forbids executable memory files (vm.memfd_noexec = 2)"),
        // Older kernels have no policy and do not know `MFD_EXEC`.
        None => Ok(base),
        // 0 allows code by default, 1 only when asked for: ask.
        Some(_) => Ok(base | MemfdFlags::EXEC),
    }
}

/// A sealed anonymous memory file named `name` holding what `source` holds;
/// returns it and its name as listings show it.
pub(crate) fn create(
    source: &mut impl std::io::Read,
    name: &str,
) -> Result<(Sealed, String), LoadError> {
    use rustix::fs::{fcntl_add_seals, memfd_create};
    let place = || format!("an anonymous memory file `{name}`");
    let flags = memory_files().expect("checked by the caller");
    let fd = memfd_create(name, flags).map_err(|e| LoadError::Copy {
        place: place(),
        source: e.into(),
    })?;
    let mut file = fs::File::from(fd);
    // From file to file, the kernel copies (`copy_file_range`, `sendfile`).
    let len = std::io::copy(source, &mut file).map_err(|source| LoadError::Copy {
        place: place(),
        source,
    })?;
    // From here on the content can change no more, by any descriptor; the
    // checks read it after this.
    seal(&file, |seals| fcntl_add_seals(&file, seals)).map_err(|e| LoadError::Copy {
        place: place(),
        source: e.into(),
    })?;
    Ok((
        Sealed {
            fd: file.into(),
            len,
        },
        format!("memfd:{name}"),
    ))
}

/// Seals a memory file against every change of its content and size, with
/// `add` (`fcntl_add_seals` on it).
///
/// The write seal is refused (`EBUSY`) while the kernel counts a page of
/// the file as pinned, which a freshly written page can be for a moment
/// (an extra reference held by a per-CPU cache, or by compaction). Tried
/// again after the kernel's own wait, it usually passes; if it still does
/// not, the future-write seal is used: it refuses every `write` and every
/// new writable shared mapping, by any descriptor, which for this file is
/// the same guarantee, since no writable mapping of it can exist (the
/// process created it and never mapped it so, and nothing else could reach
/// it without the rights to control the process outright).
fn seal(
    file: &fs::File,
    add: impl Fn(rustix::fs::SealFlags) -> rustix::io::Result<()>,
) -> rustix::io::Result<()> {
    use rustix::fs::SealFlags;
    use rustix::io::Errno;
    /// Attempts at the write seal.
    const TRIES: usize = 3;
    let rest = SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL;
    for _ in 0..TRIES {
        match add(SealFlags::WRITE | rest) {
            Err(Errno::BUSY) => continue,
            done => return done,
        }
    }
    log::debug!(
        "the write seal of {file:?} stayed refused (EBUSY {TRIES} times): \
         sealed against future writes instead"
    );
    add(SealFlags::FUTURE_WRITE | rest)
}

impl Sealed {
    /// A sealed memory file made by another process and handed over (to an
    /// isolated worker, by its host): refused unless sealed against writes,
    /// growth and shrinking.
    pub(crate) fn adopt(fd: OwnedFd) -> std::io::Result<Sealed> {
        use rustix::fs::SealFlags;
        let seals = rustix::fs::fcntl_get_seals(&fd)?;
        let sealed = seals.contains(SealFlags::GROW | SealFlags::SHRINK)
            && seals.intersects(SealFlags::WRITE | SealFlags::FUTURE_WRITE);
        if !sealed {
            return Err(std::io::Error::other(format!(
                "the memory file handed over is not sealed against changes ({seals:?})"
            )));
        }
        let len = rustix::fs::fstat(&fd)?.st_size as u64;
        Ok(Sealed { fd, len })
    }

    /// The memory file.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Its bytes: read when small, mapped otherwise.
    pub(crate) fn bytes(&self) -> std::io::Result<CopyBytes> {
        if self.len <= READ_AT_MOST {
            let mut bytes = vec![0; self.len as usize];
            let mut at = 0;
            while at < bytes.len() {
                match rustix::io::pread(&self.fd, &mut bytes[at..], at as u64) {
                    // Sealed against shrinking: it cannot end early.
                    Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => at += n,
                    Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok(CopyBytes::Read(bytes));
        }
        // SAFETY: the memory file is sealed against writes, growth and
        // shrinking, so the mapping can neither change nor lose pages while
        // it lives; `len` is its sealed length.
        unsafe {
            memmap2::MmapOptions::new()
                .len(self.len as usize)
                .map(&self.fd)
        }
        .map(CopyBytes::Mapped)
    }

    /// `/proc/self/fd/N`, valid while the file is open.
    pub(crate) fn load_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }

    /// Gives the descriptor the lowest free number above the one it has
    /// (closing that one), so that its load path names another number.
    pub(crate) fn renumber(&mut self) -> std::io::Result<()> {
        let above =
            self.fd.as_raw_fd().checked_add(1).ok_or_else(|| {
                std::io::Error::other("no descriptor number is left above this one")
            })?;
        self.fd = rustix::io::fcntl_dupfd_cloexec(&self.fd, above)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rustix::fs::MemfdFlags;

    use super::*;
    use crate::plugin::copy::{CopyPlace, PrivateCopy};

    #[test]
    fn the_memfd_exec_policy_decides_the_flags_or_the_fallback() {
        let base = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
        assert_eq!(memfd_flags(None), Ok(base));
        assert_eq!(memfd_flags(Some("0\n")), Ok(base | MemfdFlags::EXEC));
        assert_eq!(memfd_flags(Some("1\n")), Ok(base | MemfdFlags::EXEC));
        assert_eq!(
            memfd_flags(Some("2\n")),
            Err("the kernel forbids executable memory files (vm.memfd_noexec = 2)")
        );
    }

    #[test]
    fn a_memory_copy_reads_back_whole_below_and_above_the_read_limit() {
        for len in [
            0,
            1,
            READ_AT_MOST as usize,
            READ_AT_MOST as usize + 1,
            3 << 20,
        ] {
            let content: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let copy = PrivateCopy::create(&mut &content[..], "sized", &CopyPlace::Memory).unwrap();
            let bytes = copy.bytes().unwrap();
            assert_eq!(
                matches!(bytes, CopyBytes::Mapped(_)),
                len as u64 > READ_AT_MOST,
                "{len} bytes"
            );
            assert!(*bytes == content[..], "{len} bytes read back differ");
        }
    }

    #[test]
    fn a_memory_copy_is_sealed_against_every_change() {
        let copy =
            PrivateCopy::create(&mut &b"checked bytes"[..], "sealed", &CopyPlace::Memory).unwrap();
        assert!(copy.in_memory());
        assert_eq!(&*copy.bytes().unwrap(), b"checked bytes");
        // Through another descriptor of the same file, as anyone who can
        // reach /proc/PID/fd would try.
        let path = copy.load_path();
        let mut other = fs::OpenOptions::new().write(true).open(&path).unwrap();
        let e = std::io::Write::write_all(&mut other, b"other").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
        assert_eq!(
            other.set_len(1).unwrap_err().raw_os_error(),
            Some(libc::EPERM)
        );
        assert_eq!(&*copy.bytes().unwrap(), b"checked bytes");
    }

    /// When the kernel keeps refusing the write seal, the future-write seal
    /// stands in for it, and the copy is as unchangeable through every
    /// descriptor and mapping.
    #[test]
    fn a_memory_copy_whose_write_seal_stays_refused_is_sealed_against_future_writes() {
        use rustix::fs::{SealFlags, fcntl_add_seals, fcntl_get_seals, memfd_create};
        let fd = memfd_create("busy", memory_files().unwrap()).unwrap();
        let mut file = fs::File::from(fd);
        std::io::Write::write_all(&mut file, b"checked bytes").unwrap();
        let refused = std::cell::Cell::new(0);
        seal(&file, |seals| {
            if seals.contains(SealFlags::WRITE) {
                refused.set(refused.get() + 1);
                return Err(rustix::io::Errno::BUSY);
            }
            fcntl_add_seals(&file, seals)
        })
        .unwrap();
        assert_eq!(refused.get(), 3, "the write seal is tried three times");
        assert_eq!(
            fcntl_get_seals(&file).unwrap(),
            SealFlags::FUTURE_WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL
        );
        let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file));
        let mut other = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let e = std::io::Write::write_all(&mut other, b"other").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
        assert_eq!(
            other.set_len(1).unwrap_err().raw_os_error(),
            Some(libc::EPERM)
        );
        // SAFETY: a shared writable mapping is only asked for, and must be
        // refused; nothing is written through it if it were not.
        let mapped = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                13,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                std::os::fd::AsRawFd::as_raw_fd(&other),
                0,
            )
        };
        assert_eq!(mapped, libc::MAP_FAILED, "a writable shared mapping");
        let mut read = Vec::new();
        std::io::Read::read_to_end(&mut fs::File::open(&path).unwrap(), &mut read).unwrap();
        assert_eq!(read, b"checked bytes");
    }
}
