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

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
#[cfg(target_os = "linux")]
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{CopyDirError, LoadError};

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
    /// A sealed memory file, and its length.
    #[cfg(target_os = "linux")]
    Memory(std::os::fd::OwnedFd, u64),
    File(PathBuf),
}

/// Up to this length the checks read a sealed copy into memory with one
/// `pread`; a longer one is mapped (its pages are read only where the
/// checks look). For a small library one read costs less than a mapping,
/// its page faults and its unmapping.
#[cfg(target_os = "linux")]
const READ_AT_MOST: u64 = 256 * 1024;

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
        match place {
            #[cfg(target_os = "linux")]
            CopyPlace::Memory if memory_files().is_ok() => memory_copy(source, &name),
            CopyPlace::Memory => file_copy(source, &name, &default_copy_dir()),
            CopyPlace::Dir(dir) => file_copy(source, &name, dir),
        }
    }

    /// A sealed memory copy made by another process and handed over (to
    /// an isolated worker, by its host): refused unless sealed against
    /// writes, growth and shrinking.
    #[cfg(target_os = "linux")]
    pub(crate) fn adopt_sealed(fd: std::os::fd::OwnedFd) -> std::io::Result<PrivateCopy> {
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
        Ok(PrivateCopy {
            name: "memfd:isolated".to_owned(),
            kind: Kind::Memory(fd, len),
        })
    }

    /// The sealed memory file, for a copy that is one.
    #[cfg(target_os = "linux")]
    pub(crate) fn memory_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        match &self.kind {
            Kind::Memory(fd, _) => Some(fd.as_fd()),
            Kind::File(_) => None,
        }
    }

    /// The copy's length in bytes.
    pub fn size(&self) -> std::io::Result<u64> {
        match &self.kind {
            #[cfg(target_os = "linux")]
            Kind::Memory(_, len) => Ok(*len),
            Kind::File(path) => fs::metadata(path).map(|m| m.len()),
        }
    }

    /// The copy's bytes, as the checks see them and the loader maps them.
    pub fn bytes(&self) -> std::io::Result<CopyBytes> {
        match &self.kind {
            #[cfg(target_os = "linux")]
            Kind::Memory(fd, len) if *len <= READ_AT_MOST => {
                let mut bytes = vec![0; *len as usize];
                let mut at = 0;
                while at < bytes.len() {
                    match rustix::io::pread(fd, &mut bytes[at..], at as u64) {
                        // Sealed against shrinking: it cannot end early.
                        Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                        Ok(n) => at += n,
                        Err(rustix::io::Errno::INTR) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(CopyBytes::Read(bytes))
            }
            #[cfg(target_os = "linux")]
            Kind::Memory(fd, len) => {
                // SAFETY: the memory file is sealed against writes, growth and
                // shrinking, so the mapping can neither change nor lose pages
                // while it lives; `len` is its sealed length.
                unsafe { memmap2::MmapOptions::new().len(*len as usize).map(fd) }
                    .map(CopyBytes::Mapped)
            }
            Kind::File(path) => fs::read(path).map(CopyBytes::Read),
        }
    }

    /// The path to hand to the dynamic loader: `/proc/self/fd/N` for a
    /// memory copy, valid while the copy lives.
    pub fn load_path(&self) -> PathBuf {
        match &self.kind {
            #[cfg(target_os = "linux")]
            Kind::Memory(fd, _) => {
                use std::os::fd::AsRawFd;
                PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            }
            Kind::File(path) => path.clone(),
        }
    }

    /// Gives a memory copy's descriptor the lowest free number above the
    /// one it has (closing that one), so that its load path names another
    /// number. A file copy's path cannot change: an error.
    #[cfg(target_os = "linux")]
    pub(crate) fn renumber(&mut self) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        match &mut self.kind {
            Kind::Memory(fd, _) => {
                let above = fd.as_raw_fd().checked_add(1).ok_or_else(|| {
                    std::io::Error::other("no descriptor number is left above this one")
                })?;
                *fd = rustix::io::fcntl_dupfd_cloexec(&*fd, above)?;
                Ok(())
            }
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
        !matches!(self.kind, Kind::File(_))
    }

    /// A reader of the copy's bytes, to copy it again.
    pub fn reader(&self) -> std::io::Result<fs::File> {
        fs::File::open(self.load_path())
    }
}

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        match &self.kind {
            Kind::File(path) => {
                let _ = fs::remove_file(path);
                if let Some(dir) = path.parent() {
                    release_process_dir(dir);
                }
            }
            // A memory file goes with its last descriptor.
            #[cfg(target_os = "linux")]
            Kind::Memory(..) => {}
        }
    }
}

/// Whether this system lets a memory file hold code, and with which flag;
/// decided once per process.
#[cfg(target_os = "linux")]
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
#[cfg(target_os = "linux")]
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

/// A sealed anonymous memory file holding what `source` holds.
#[cfg(target_os = "linux")]
fn memory_copy(source: &mut impl std::io::Read, name: &str) -> Result<PrivateCopy, LoadError> {
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
    Ok(PrivateCopy {
        kind: Kind::Memory(file.into(), len),
        name: format!("memfd:{name}"),
    })
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
#[cfg(target_os = "linux")]
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

/// A new file in this process's directory inside `dir`, holding what
/// `source` holds.
fn file_copy(
    source: &mut impl std::io::Read,
    name: &str,
    dir: &Path,
) -> Result<PrivateCopy, LoadError> {
    let process_dir = acquire_process_dir(dir)?;
    let path = process_dir.join(format!("{name}.{}", std::env::consts::DLL_EXTENSION));
    let io = |source| LoadError::Copy {
        place: format!("`{}`", path.display()),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(|e| {
        release_process_dir(&process_dir);
        io(e)
    })?;
    // From here on, dropping the copy removes the file.
    let copy = PrivateCopy {
        kind: Kind::File(path.clone()),
        name: path.display().to_string(),
    };
    std::io::copy(source, &mut file).map_err(io)?;
    Ok(copy)
}

/// The directory private copies go to when memory files cannot be used and
/// none was chosen: `$XDG_RUNTIME_DIR/hotslot` (a memory-backed directory
/// of this user's) if set, else `hotslot-UID` in the temporary directory.
pub fn default_copy_dir() -> PathBuf {
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(runtime).join("hotslot");
    }
    std::env::temp_dir().join(format!("hotslot-{}", user_tag()))
}

/// This user, in the default directory's name: the user ID, or on Windows
/// the user's SID.
fn user_tag() -> String {
    #[cfg(unix)]
    {
        user_id().to_string()
    }
    #[cfg(windows)]
    {
        super::winsec::user().to_owned()
    }
    #[cfg(not(any(unix, windows)))]
    {
        "0".to_owned()
    }
}

#[cfg(unix)]
fn user_id() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Per-process directories in use, with how many copies each holds.
static PROCESS_DIRS: Mutex<Option<HashMap<PathBuf, usize>>> = Mutex::new(None);

fn process_dirs() -> std::sync::MutexGuard<'static, Option<HashMap<PathBuf, usize>>> {
    PROCESS_DIRS.lock().unwrap_or_else(|e| e.into_inner())
}

/// This process's directory inside `dir`, counted as holding one more
/// copy: `dir` is checked (or created) and swept of dead processes'
/// directories on first use.
fn acquire_process_dir(dir: &Path) -> Result<PathBuf, LoadError> {
    let mut dirs = process_dirs();
    let dirs = dirs.get_or_insert_with(HashMap::new);
    let process_dir = dir.join(format!("pid-{}", std::process::id()));
    if let Some(count) = dirs.get_mut(&process_dir) {
        *count += 1;
        return Ok(process_dir);
    }
    check_copy_dir(dir)?;
    sweep(dir);
    // A directory of this process's ID that this process did not make
    // belongs to a process that ended and had the same ID (Windows reuses
    // IDs soon, wine sooner): what it left is removed, so that its files,
    // such as a copy the system kept loaded until that process ended, do
    // not collide with this one's.
    if fs::symlink_metadata(&process_dir).is_ok() {
        let _ = fs::remove_dir_all(&process_dir);
    }
    match create_private_dir(&process_dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            check_private(&process_dir).map_err(|reason| LoadError::CopyDir {
                dir: process_dir.clone(),
                reason,
            })?;
        }
        Err(source) => {
            return Err(LoadError::Copy {
                place: format!("the directory `{}`", process_dir.display()),
                source,
            });
        }
    }
    dirs.insert(process_dir.clone(), 1);
    Ok(process_dir)
}

/// One copy fewer in `process_dir`; the last one removes the directory.
fn release_process_dir(process_dir: &Path) {
    let mut dirs = process_dirs();
    let Some(dirs) = dirs.as_mut() else { return };
    if let Some(count) = dirs.get_mut(process_dir) {
        *count -= 1;
        if *count == 0 {
            dirs.remove(process_dir);
            let _ = fs::remove_dir_all(process_dir);
        }
    }
}

/// Removes every private copy file of this process and their directories;
/// for a process about to exit (the command line calls it on SIGINT and
/// SIGTERM). Memory copies need nothing: they vanish with the process.
pub fn remove_private_copies() {
    let dirs = process_dirs().take().unwrap_or_default();
    for dir in dirs.keys() {
        let _ = fs::remove_dir_all(dir);
    }
}

/// Checks that `dir` can hold private copies: it belongs to this user and
/// no one else can use it (creating it so when missing).
pub fn check_copy_dir(dir: &Path) -> Result<(), LoadError> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            create_private_dir(dir).or_else(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => Ok(()),
                _ => Err(LoadError::Copy {
                    place: format!("the directory `{}`", dir.display()),
                    source: e,
                }),
            })?;
        }
        Err(source) => {
            return Err(LoadError::Copy {
                place: format!("the directory `{}`", dir.display()),
                source,
            });
        }
        Ok(_) => {}
    }
    check_private(dir).map_err(|reason| LoadError::CopyDir {
        dir: dir.to_owned(),
        reason,
    })
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut builder = fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)
    }
    #[cfg(windows)]
    {
        super::winsec::create_private_dir(dir)
    }
    #[cfg(not(any(unix, windows)))]
    {
        fs::DirBuilder::new().create(dir)
    }
}

/// Why `dir` is not a private directory of this user, if it is not.
fn check_private(dir: &Path) -> Result<(), CopyDirError> {
    let meta = fs::symlink_metadata(dir).map_err(|e| CopyDirError::Unreadable {
        reason: e.to_string(),
    })?;
    if meta.file_type().is_symlink() {
        return Err(CopyDirError::Symlink);
    }
    if !meta.is_dir() {
        return Err(CopyDirError::NotADirectory);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = user_id();
        if meta.uid() != uid {
            return Err(CopyDirError::ForeignOwner {
                owner: meta.uid(),
                uid,
            });
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(CopyDirError::OpenToOthers { mode });
        }
    }
    // Windows: its owner is this user (or, for an elevated administrator,
    // whose files belong to Administrators, one of the system's accounts)
    // and its access list lets no other account in at all.
    #[cfg(windows)]
    {
        use super::winsec;
        let security = winsec::read(dir).map_err(|e| CopyDirError::Unreadable {
            reason: e.to_string(),
        })?;
        if !winsec::trusted(&security.owner) {
            return Err(CopyDirError::OwnedByAccount {
                owner: winsec::account(&security.owner),
                user: winsec::account(winsec::user()),
            });
        }
        if let Some((sid, access)) = security.others_with(winsec::ANY_ACCESS) {
            return Err(CopyDirError::OpenToAccount {
                account: winsec::account(&sid),
                access,
            });
        }
    }
    Ok(())
}

/// Removes the directories of processes that no longer run.
fn sweep(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("pid-"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        // Permission denied means it runs, as another user.
        !matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        )
    }
    #[cfg(windows)]
    {
        use windows_sys::Win32::Foundation::{CloseHandle, STILL_ACTIVE};
        use windows_sys::Win32::System::Threading::{
            GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
        };
        // SAFETY: OpenProcess takes no pointers; a null handle means no
        // such process (or one this user may not query: counted alive).
        let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
        if process.is_null() {
            return std::io::Error::last_os_error().raw_os_error() == Some(5); // access denied
        }
        let mut code = 0u32;
        // SAFETY: `process` is the handle just opened, closed once; `code`
        // is a valid u32 to write.
        let alive = unsafe { GetExitCodeProcess(process, &raw mut code) } == 0
            || code == STILL_ACTIVE as u32;
        // SAFETY: as above.
        unsafe { CloseHandle(process) };
        alive
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = pid;
        true
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use rustix::fs::MemfdFlags;

    use super::*;

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

    #[test]
    fn a_directory_others_can_enter_is_refused_by_name_and_mode() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("open");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let e = PrivateCopy::create(&mut &b"x"[..], "x", &CopyPlace::Dir(dir.clone())).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot keep private copies in `{}`: it has mode 0777, which lets other users in; it must be a directory of yours that no one else can use (mode 0700; on Windows, an access list that lets only you in)",
                dir.display()
            )
        );
        // A missing one is created closed.
        let made = parent.path().join("made");
        let copy = PrivateCopy::create(&mut &b"x"[..], "x", &CopyPlace::Dir(made.clone())).unwrap();
        assert_eq!(
            fs::metadata(&made).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let file = copy.load_path();
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let process_dir = file.parent().unwrap().to_owned();
        drop(copy);
        assert!(
            !file.exists() && !process_dir.exists(),
            "the last copy removes its directory"
        );
    }
}
