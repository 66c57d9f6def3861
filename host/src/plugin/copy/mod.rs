//! Private copies of library files: the exact bytes that were checked, in a
//! place nobody else can change, loaded from there.
//!
//! A copy is needed for two reasons: `dlopen` of a path already loaded
//! returns the old library (so a rebuild at the same path must load from a
//! new path), and the bytes whose hash was checked must be the bytes the
//! dynamic loader maps.
//!
//! - **On Linux**, a copy is an anonymous memory file (`memfd_create`,
//!   close-on-exec) that the kernel fills from the library file
//!   (`copy_file_range`, no buffer in this process) and that is then sealed
//!   against any write, growth or shrinking. Every check (the hash, the ELF
//!   structure) reads the sealed copy (with one `pread`, or through a
//!   read-only mapping when it is large), and
//!   `dlopen` opens that same copy through `/proc/self/fd/N`: the bytes
//!   checked are the bytes loaded. It has no path anyone could swap, and it
//!   vanishes with its last descriptor and mapping, whatever way the process
//!   ends (SIGKILL included). The kernel's `vm.memfd_noexec` policy is read
//!   first: at 1 the copy asks for `MFD_EXEC`, at 2 (no executable memory
//!   files at all) copies fall back to a directory.
//! - **Elsewhere**, or when the system refuses executable memory files, a
//!   copy is a file created exclusively (mode 0600) in a per-process
//!   directory `pid-N` inside a directory that belongs to this user and
//!   that no one else can enter (mode 0700; anything else is refused). The
//!   checks read the copy back; only this user's own processes could change
//!   it meanwhile.
//!   Each copy is removed when its last user drops it, the per-process
//!   directory with the last copy; [`remove_private_copies`] removes them
//!   all (the command line calls it on SIGINT and SIGTERM); and the
//!   directories of processes that died without cleaning up (SIGKILL, a
//!   crash) are removed the next time a process uses the directory.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::LoadError;

mod dir;
#[cfg(target_os = "linux")]
mod memory;
#[cfg(not(target_os = "linux"))]
#[path = "no_memory.rs"]
mod memory;

pub use dir::{default_copy_dir, remove_private_copies};

/// Where private copies go.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CopyPlace {
    /// Anonymous memory files where the system allows them (Linux), else
    /// the default directory (see [`default_copy_dir`]).
    #[default]
    Memory,
    /// Files in this directory, which must belong to this user and be
    /// closed to others (mode 0700); it is created so if missing.
    Dir(PathBuf),
}

/// A private copy of a library file, removed when dropped.
#[derive(Debug)]
pub struct PrivateCopy {
    kind: Kind,
    /// How listings name it: `memfd:NAME` or the file's path.
    name: String,
}

#[derive(Debug)]
enum Kind {
    /// A sealed memory file.
    Memory(memory::Sealed),
    /// A file in a private directory.
    File(PathBuf),
}

static NEXT_COPY: AtomicU64 = AtomicU64::new(0);

/// The bytes of a private copy, for the checks made before loading it.
pub enum CopyBytes {
    /// A read-only mapping of a sealed memory file.
    Mapped(memmap2::Mmap),
    /// A small sealed memory file, or a file copy, read back.
    Read(Vec<u8>),
}

impl std::ops::Deref for CopyBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            CopyBytes::Mapped(m) => m,
            CopyBytes::Read(v) => v,
        }
    }
}

impl PrivateCopy {
    /// Copies what `source` holds (the content of a library whose file name
    /// without extension is `stem`) to a new private copy in `place`.
    pub fn create(
        source: &mut impl std::io::Read,
        stem: &str,
        place: &CopyPlace,
    ) -> Result<PrivateCopy, LoadError> {
        let n = NEXT_COPY.fetch_add(1, Ordering::Relaxed);
        let name = format!("hotslot-{}-{n}-{stem}", std::process::id());
        let mut file = |dir: &std::path::Path| {
            let path = dir::create(source, &name, dir)?;
            Ok(PrivateCopy {
                name: path.display().to_string(),
                kind: Kind::File(path),
            })
        };
        match place {
            CopyPlace::Memory if memory::available().is_ok() => {
                let (sealed, name) = memory::create(source, &name)?;
                Ok(PrivateCopy {
                    kind: Kind::Memory(sealed),
                    name,
                })
            }
            CopyPlace::Memory => file(&default_copy_dir()),
            CopyPlace::Dir(dir) => file(dir),
        }
    }

    /// A sealed memory copy made by another process and handed over (to
    /// an isolated worker, by its host): refused unless sealed against
    /// writes, growth and shrinking.
    #[cfg(target_os = "linux")]
    pub(crate) fn adopt_sealed(fd: std::os::fd::OwnedFd) -> std::io::Result<PrivateCopy> {
        Ok(PrivateCopy {
            name: "memfd:isolated".to_owned(),
            kind: Kind::Memory(memory::Sealed::adopt(fd)?),
        })
    }

    /// The sealed memory file, for a copy that is one.
    #[cfg(target_os = "linux")]
    pub(crate) fn memory_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        match &self.kind {
            Kind::Memory(sealed) => Some(sealed.fd()),
            Kind::File(_) => None,
        }
    }

    /// The copy's length in bytes.
    pub fn size(&self) -> std::io::Result<u64> {
        match &self.kind {
            Kind::Memory(sealed) => Ok(sealed.len()),
            Kind::File(path) => fs::metadata(path).map(|m| m.len()),
        }
    }

    /// The copy's bytes, as the checks see them and the loader maps them.
    pub fn bytes(&self) -> std::io::Result<CopyBytes> {
        match &self.kind {
            Kind::Memory(sealed) => sealed.bytes(),
            Kind::File(path) => fs::read(path).map(CopyBytes::Read),
        }
    }

    /// The path to hand to the dynamic loader: `/proc/self/fd/N` for a
    /// memory copy, valid while the copy lives.
    pub fn load_path(&self) -> PathBuf {
        match &self.kind {
            Kind::Memory(sealed) => sealed.load_path(),
            Kind::File(path) => path.clone(),
        }
    }

    /// Gives a memory copy's descriptor the lowest free number above the
    /// one it has (closing that one), so that its load path names another
    /// number. A file copy's path cannot change: an error.
    pub(crate) fn renumber(&mut self) -> std::io::Result<()> {
        match &mut self.kind {
            Kind::Memory(sealed) => sealed.renumber(),
            Kind::File(path) => Err(std::io::Error::other(format!(
                "the file copy `{}` has a name of its own only, and the loader lists it",
                path.display()
            ))),
        }
    }

    /// How listings name this copy: `memfd:NAME` (as `/proc/self/maps`
    /// shows it, with a leading `/`) or the file's path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this copy is an anonymous memory file.
    pub fn in_memory(&self) -> bool {
        matches!(self.kind, Kind::Memory(_))
    }

    /// A reader of the copy's bytes, to copy it again.
    pub fn reader(&self) -> std::io::Result<fs::File> {
        fs::File::open(self.load_path())
    }
}

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        // A memory file goes with its last descriptor.
        if let Kind::File(path) = &self.kind {
            dir::remove(path);
        }
    }
}
