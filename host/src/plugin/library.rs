//! Opening a plugin library: private copy, checks, and release.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use hotslot_plugin_api::{
    HS_DESCRIPTOR_SYMBOL, HS_GET_VERSION_SYMBOL, HS_RUST_LAYOUT_SYMBOL, HsPluginDescriptor,
    HsRustLayout,
};
use sha2::{Digest, Sha256};

use super::descriptor::{self, PluginInfo};
use super::layout;
use super::trust::{TrustPolicy, hex};
use crate::error::LoadError;

/// How to load a library.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Where private copies go; the system's temporary directory when unset.
    /// It must not be mounted `noexec`.
    pub shadow_dir: Option<PathBuf>,
    /// What the file must satisfy before it is opened.
    pub trust: TrustPolicy,
}

/// Whether a plugin was written in Rust (it exports its layout) or not.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PluginKind {
    /// Exports `hotslot_rust_layout`; its layout was checked.
    Rust,
    /// Does not; checked field by field only.
    C,
}

/// One loaded build of a plugin library: a generation.
///
/// Each load copies the file to a new private path first, so a library
/// rebuilt at the same path really loads anew (`dlopen` of a path already
/// loaded returns the old library) and the original can be overwritten while
/// this build runs. Dropping the last handle closes the library; if the
/// system keeps it mapped (see [`retained_libraries`]), that is recorded
/// rather than hidden.
pub struct Library {
    generation: u64,
    source: PathBuf,
    /// The private copy's path; `None` for a plugin linked into the host.
    shadow_path: Option<PathBuf>,
    /// The private copy; `None` for a linked plugin, and while dropping.
    shadow: Option<Arc<ShadowFile>>,
    sha256: OnceLock<[u8; 32]>,
    info: PluginInfo,
    kind: PluginKind,
    /// The opened library; `None` for a linked plugin.
    lib: Option<libloading::Library>,
    /// The exports of a linked plugin.
    linked: Option<LinkedPlugin>,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("generation", &self.generation)
            .field("source", &self.source)
            .field("plugin", &self.info.name)
            .field("version", &self.info.version)
            .finish_non_exhaustive()
    }
}

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

impl Library {
    /// Loads the plugin at `path` with every check: the trust policy, a
    /// private copy (and its hash when one is pinned), the dynamic loader,
    /// the descriptor's head, the layout (Rust plugins), the whole
    /// descriptor, and `get_version`.
    pub fn open(path: &Path, options: &LoadOptions) -> Result<Library, LoadError> {
        let source = canonical_file(path)?;
        Library::open_canonical(source, options)
    }

    /// As [`Library::open`], for a path already made canonical.
    pub(crate) fn open_canonical(
        source: PathBuf,
        options: &LoadOptions,
    ) -> Result<Library, LoadError> {
        options.trust.check_path(&source)?;
        let bytes = read_file(&source)?;
        // Everything from here on looks at these bytes, which are the ones
        // written to the private copy and opened: the original may change
        // meanwhile without effect.
        let sha256 = OnceLock::new();
        if let Some(expected) = options.trust.sha256 {
            let found: [u8; 32] = Sha256::digest(&bytes).into();
            if expected != found {
                return Err(LoadError::HashMismatch {
                    path: source,
                    expected: hex(&expected),
                    found: hex(&found),
                });
            }
            let _ = sha256.set(found);
        }
        // The dynamic loader maps what the headers say; check they fit the
        // file before writing a copy of it.
        super::elf::check(&bytes, bytes.len() as u64).map_err(|reason| {
            LoadError::NotSharedLibrary {
                path: source.clone(),
                reason,
            }
        })?;
        let dir = options
            .shadow_dir
            .clone()
            .unwrap_or_else(default_shadow_dir);
        let shadow = ShadowFile::write(&source, &bytes, &dir)?;
        drop(bytes);
        let lib =
            open_shared_library(&shadow.path).map_err(|reason| LoadError::NotSharedLibrary {
                path: source.clone(),
                reason,
            })?;
        // On any error below, dropping `lib` closes the library again.
        let exports = Exports::of(&lib, &source)?;
        // SAFETY: the exports were found by their ABI names in `lib`, which
        // stays open while they are used: the library `open_shared_library`
        // returned, whose trust the caller's policy admitted.
        let (info, kind) = unsafe { exports.check()? };
        Ok(Library {
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            source,
            shadow_path: Some(shadow.path.clone()),
            shadow: Some(Arc::new(shadow)),
            sha256,
            info,
            kind,
            lib: Some(lib),
            linked: None,
        })
    }

    /// A plugin linked into the host (not loaded from a file), with every
    /// check a loaded plugin gets but the file's: the descriptor, the layout
    /// (when it exports one), `get_version`. It is named `linked:NAME`
    /// where a library path is expected, `NAME` being the plugin's name.
    pub fn linked(plugin: &LinkedPlugin) -> Result<Library, LoadError> {
        let exports = Exports {
            descriptor: plugin.descriptor,
            get_version: plugin.get_version,
            rust_layout: plugin.rust_layout,
        };
        // SAFETY: `LinkedPlugin::new`'s contract: these are a plugin's
        // exports, in this process for good.
        let (info, kind) = unsafe { exports.check()? };
        Ok(Library {
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            source: PathBuf::from(format!("linked:{}", info.name)),
            shadow_path: None,
            shadow: None,
            sha256: OnceLock::new(),
            info,
            kind,
            lib: None,
            linked: Some(*plugin),
        })
    }

    /// Whether this is a plugin linked into the host.
    pub fn is_linked(&self) -> bool {
        self.linked.is_some()
    }

    /// Number of this build, unique in the process: each load is a new
    /// generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The canonical path of the file this build was loaded from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The private copy that was opened; `None` for a linked plugin.
    pub fn shadow_path(&self) -> Option<&Path> {
        self.shadow_path.as_deref()
    }

    /// What loads this exact build again (a rollback): its private copy,
    /// kept on disk for as long as the returned value lives, or a linked
    /// plugin's exports.
    pub fn origin(&self) -> Origin {
        match (&self.linked, &self.shadow) {
            (Some(plugin), _) => Origin::Linked(*plugin),
            (None, Some(copy)) => Origin::Copy(Arc::clone(copy)),
            (None, None) => unreachable!("a loaded build keeps its copy until dropped"),
        }
    }

    /// SHA-256 of the file's content as loaded: computed when the load had
    /// a pinned hash, otherwise on first request from the private copy
    /// (which lives as long as this build). A linked plugin has no file.
    pub fn sha256(&self) -> std::io::Result<[u8; 32]> {
        if let Some(h) = self.sha256.get() {
            return Ok(*h);
        }
        let Some(path) = &self.shadow_path else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "a plugin linked into the host has no file to hash",
            ));
        };
        let h = file_sha256(path)?;
        Ok(*self.sha256.get_or_init(|| h))
    }

    /// What the descriptor says.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Rust or C.
    pub fn kind(&self) -> PluginKind {
        self.kind
    }
}

/// What loads a build again: see [`Library::origin`].
#[derive(Clone, Debug)]
pub enum Origin {
    /// The private copy a library was loaded from.
    Copy(Arc<ShadowFile>),
    /// A plugin linked into the host.
    Linked(LinkedPlugin),
}

impl Origin {
    /// Loads the build again, through every check but the file's trust,
    /// which the first load checked (the copy is the host's own).
    pub fn load(&self, options: &LoadOptions) -> Result<Library, LoadError> {
        match self {
            Origin::Copy(copy) => {
                let options = LoadOptions {
                    trust: TrustPolicy {
                        sha256: None,
                        ..options.trust.clone()
                    },
                    ..options.clone()
                };
                Library::open(copy.path(), &options)
            }
            Origin::Linked(plugin) => Library::linked(plugin),
        }
    }
}

/// A plugin linked into the host: its three exports, as the `plugin!`
/// macro (or a C plugin's shim) defines them.
#[derive(Clone, Copy, Debug)]
pub struct LinkedPlugin {
    descriptor: unsafe extern "C" fn() -> *const HsPluginDescriptor,
    get_version: unsafe extern "C" fn() -> i32,
    rust_layout: Option<unsafe extern "C" fn() -> *const HsRustLayout>,
}

impl LinkedPlugin {
    /// The plugin whose exports are `descriptor` (`hotslot_plugin`),
    /// `get_version` and, for a Rust plugin, `rust_layout`
    /// (`hotslot_rust_layout`).
    ///
    /// # Safety
    ///
    /// The functions keep the ABI's promises for these exports: each takes
    /// no arguments; `descriptor` returns null or a descriptor readable as
    /// far as its `struct_size`, whose pointers are null or valid for the
    /// lengths it gives, and whose entry points follow the ABI for the
    /// signatures it declares; `rust_layout` returns null or a valid
    /// `HsRustLayout`. All of it lives as long as the process.
    pub const unsafe fn new(
        descriptor: unsafe extern "C" fn() -> *const HsPluginDescriptor,
        get_version: unsafe extern "C" fn() -> i32,
        rust_layout: Option<unsafe extern "C" fn() -> *const HsRustLayout>,
    ) -> LinkedPlugin {
        LinkedPlugin {
            descriptor,
            get_version,
            rust_layout,
        }
    }
}

/// A plugin's exports, found in an opened library or linked in.
struct Exports {
    descriptor: unsafe extern "C" fn() -> *const HsPluginDescriptor,
    get_version: unsafe extern "C" fn() -> i32,
    rust_layout: Option<unsafe extern "C" fn() -> *const HsRustLayout>,
}

impl Exports {
    /// Looks the exports up in `lib` by their ABI names.
    fn of(lib: &libloading::Library, source: &Path) -> Result<Exports, LoadError> {
        let missing = |symbol| LoadError::SymbolMissing {
            path: source.to_owned(),
            symbol,
        };
        // SAFETY: a plugin's `hotslot_plugin` export has this signature by
        // the ABI's definition; the pointer is used while `lib` is open.
        let descriptor = unsafe {
            lib.get::<unsafe extern "C" fn() -> *const HsPluginDescriptor>(HS_DESCRIPTOR_SYMBOL)
        }
        .map_err(|_| missing(HS_DESCRIPTOR_SYMBOL))?;
        // SAFETY: as above, for `get_version`.
        let get_version =
            unsafe { lib.get::<unsafe extern "C" fn() -> i32>(HS_GET_VERSION_SYMBOL) }
                .map_err(|_| missing(HS_GET_VERSION_SYMBOL))?;
        // SAFETY: as above, for `hotslot_rust_layout`, exported by Rust plugins only.
        let rust_layout = unsafe {
            lib.get::<unsafe extern "C" fn() -> *const HsRustLayout>(HS_RUST_LAYOUT_SYMBOL)
        }
        .ok();
        Ok(Exports {
            descriptor: *descriptor,
            get_version: *get_version,
            rust_layout: rust_layout.map(|f| *f),
        })
    }

    /// The checks made on a plugin's exports, in order: the descriptor's
    /// head, the layout (Rust plugins), the whole descriptor, `get_version`,
    /// and that neither changes between two reads.
    ///
    /// # Safety
    ///
    /// The exports keep the ABI's promises (see [`LinkedPlugin::new`]) and
    /// their code stays loaded during the call.
    unsafe fn check(&self) -> Result<(PluginInfo, PluginKind), LoadError> {
        // SAFETY: calling the export runs plugin code, which the caller
        // vouches for; it takes no arguments.
        let ptr = unsafe { (self.descriptor)() };
        // SAFETY: the export promises a readable descriptor head or null.
        unsafe { descriptor::read_header(ptr)? };
        let mut kind = PluginKind::C;
        if let Some(rust_layout) = self.rust_layout {
            // SAFETY: the export takes no arguments and returns a pointer
            // the check validates; the plugin stays loaded meanwhile.
            unsafe { layout::check(rust_layout())? };
            kind = PluginKind::Rust;
        }
        // SAFETY: the export promises a descriptor whose pointers are valid
        // for the lengths it gives; `read_descriptor` checks every length
        // against its limit before reading.
        let info = unsafe { descriptor::read_descriptor(ptr)? };

        // The seed's version function must agree with the descriptor, and
        // neither may change between two reads.
        // SAFETY: `get_version` takes no arguments.
        let first = unsafe { (self.get_version)() };
        let expected = info.version.major;
        if i64::from(first) != expected as i64 {
            return Err(LoadError::GetVersionMismatch {
                expected,
                found: first,
                descriptor: info.version.clone(),
            });
        }
        // SAFETY: as for the first calls above.
        let (second, again) = unsafe { ((self.get_version)(), (self.descriptor)()) };
        if second != first {
            return Err(LoadError::Unstable {
                what: format!("`get_version()` returned {first}, then {second}"),
            });
        }
        if again != ptr {
            return Err(LoadError::Unstable {
                what: "`hotslot_plugin()` returned two different pointers".into(),
            });
        }
        // SAFETY: as for the first read.
        let reread = unsafe { descriptor::read_descriptor(again)? };
        if reread != info {
            return Err(LoadError::Unstable {
                what: describe_change(&info, &reread),
            });
        }
        Ok((info, kind))
    }
}

fn describe_change(a: &PluginInfo, b: &PluginInfo) -> String {
    if a.name != b.name || a.version != b.version {
        return format!(
            "plugin {} {} became {} {}",
            a.name, a.version, b.name, b.version
        );
    }
    if a.functions.len() != b.functions.len() {
        return format!(
            "{} functions became {}",
            a.functions.len(),
            b.functions.len()
        );
    }
    for (f, g) in a.functions.iter().zip(&b.functions) {
        if f != g {
            return format!(
                "`{}` {} {} became `{}` {} {}",
                f.name, f.signature, f.version, g.name, g.signature, g.version
            );
        }
    }
    "the state hooks changed".into()
}

impl Drop for Library {
    fn drop(&mut self) {
        let Some(lib) = self.lib.take() else { return };
        // A failing `dlclose` leaves the library loaded; that is reported as
        // retention below, like any other library the system keeps.
        let _ = lib.close();
        // Remove the copy first (unless a rollback keeps it): the loader's
        // lookup by name then needs no file to compare with.
        self.shadow = None;
        let Some(shadow_path) = &self.shadow_path else {
            return;
        };
        if is_mapped(shadow_path) {
            let mut retained = RETAINED.lock().unwrap_or_else(|e| e.into_inner());
            retained.push(Retained {
                generation: self.generation,
                plugin: self.info.name.clone(),
                version: self.info.version.clone(),
                source: self.source.clone(),
                shadow: shadow_path.clone(),
            });
        }
    }
}

/// A library the host released but the system kept mapped.
///
/// On Linux, a Rust library whose code registered a thread-local destructor
/// on a thread that is still alive stays mapped after `dlclose` until that
/// thread exits; on macOS a library with thread-locals is never unmapped.
/// Such a generation costs memory but runs no code: no slot can reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retained {
    /// Its generation.
    pub generation: u64,
    /// Its plugin's name.
    pub plugin: String,
    /// Its plugin's version.
    pub version: semver::Version,
    /// The file it was loaded from.
    pub source: PathBuf,
    /// The private copy that is still mapped.
    pub shadow: PathBuf,
}

static RETAINED: Mutex<Vec<Retained>> = Mutex::new(Vec::new());

/// Released generations the system still keeps mapped, checked afresh on
/// every call (a retained library may be unmapped later, for example once
/// the thread holding its thread-locals exits).
pub fn retained_libraries() -> Vec<Retained> {
    let mut retained = RETAINED.lock().unwrap_or_else(|e| e.into_inner());
    retained.retain(|r| is_mapped(&r.shadow));
    retained.clone()
}

/// Whether a library is still loaded in this process, asked of the dynamic
/// loader by the name it was opened with.
fn is_mapped(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::CString::new(path.as_os_str().as_bytes()).is_ok_and(|c| loaded(&c))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// On ELF systems, a walk of the loader's list of loaded objects
/// (`dl_iterate_phdr`: no system call).
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "android"))]
fn loaded(name: &std::ffi::CStr) -> bool {
    unsafe extern "C" fn visit(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        wanted: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: the loader passes a valid `info` for the duration of the
        // call, and `wanted` is the `&CStr` handed to `dl_iterate_phdr`
        // below; a null name is the main program's.
        unsafe {
            let name = (*info).dlpi_name;
            let wanted = *wanted.cast::<&std::ffi::CStr>();
            libc::c_int::from(!name.is_null() && std::ffi::CStr::from_ptr(name) == wanted)
        }
    }
    // SAFETY: `visit` matches the callback's signature and only reads what
    // it is given; `name` outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(visit), (&raw const name).cast_mut().cast()) != 0 }
}

/// Elsewhere, `RTLD_NOLOAD` finds the library without loading it; a handle
/// found is closed again at once.
#[cfg(all(
    unix,
    not(any(target_os = "linux", target_os = "freebsd", target_os = "android"))
))]
fn loaded(name: &std::ffi::CStr) -> bool {
    // SAFETY: `name` is a valid C string; RTLD_NOLOAD never loads, and runs
    // no initializer of a library already loaded.
    let h = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY) };
    if h.is_null() {
        return false;
    }
    // SAFETY: `h` is the handle just returned, closed once.
    unsafe { libc::dlclose(h) };
    true
}

/// Where private copies go by default: a memory-backed directory the
/// system lets programs run from (`$XDG_RUNTIME_DIR`, then `/dev/shm`),
/// else the temporary directory. Writing a copy to memory costs far less
/// than to disk, and every reload writes one.
pub fn default_shadow_dir() -> PathBuf {
    let candidates = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/dev/shm")]);
    for dir in candidates {
        if dir.is_dir() && executable_mount(&dir) && writable(&dir) {
            return dir;
        }
    }
    std::env::temp_dir()
}

/// Whether files in `dir` may be mapped executable (it is not on a
/// `noexec` mount).
fn executable_mount(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
            return false;
        };
        let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
        // SAFETY: `c` is a valid C string and `st` a place for the result.
        if unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } != 0 {
            return false;
        }
        // SAFETY: `statvfs` succeeded, so it filled `st`.
        let st = unsafe { st.assume_init() };
        st.f_flag & libc::ST_NOEXEC == 0
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        true
    }
}

fn writable(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::CString::new(dir.as_os_str().as_bytes())
            // SAFETY: a valid C string; `access` only checks.
            .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        true
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::FileMissing {
            path: path.to_owned(),
        },
        std::io::ErrorKind::IsADirectory => LoadError::NotAFile {
            path: path.to_owned(),
        },
        _ => LoadError::Io {
            path: path.to_owned(),
            source: e,
        },
    })
}

fn canonical_file(path: &Path) -> Result<PathBuf, LoadError> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::FileMissing {
            path: path.to_owned(),
        },
        _ => LoadError::Io {
            path: path.to_owned(),
            source: e,
        },
    })?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile {
            path: path.to_owned(),
        });
    }
    fs::canonicalize(path).map_err(|e| LoadError::Io {
        path: path.to_owned(),
        source: e,
    })
}

#[cfg(unix)]
fn open_shared_library(path: &Path) -> Result<libloading::Library, String> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    // SAFETY: opening runs the library's initializers; the trust policy
    // admitted the file, and the copy is private to this process. RTLD_NOW
    // makes unresolved symbols fail here rather than at a first call.
    unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }
        .map(Into::into)
        .map_err(|e| loader_message(&e, path))
}

#[cfg(not(unix))]
fn open_shared_library(path: &Path) -> Result<libloading::Library, String> {
    // SAFETY: as above.
    unsafe { libloading::Library::new(path) }.map_err(|e| loader_message(&e, path))
}

/// What the dynamic loader said, without the private copy's path it starts
/// with (the error names the original file already).
fn loader_message(e: &libloading::Error, shadow: &Path) -> String {
    use std::error::Error;
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s = c.to_string();
        cause = c.source();
    }
    let prefix = format!("{}: ", shadow.display());
    match s.strip_prefix(&prefix) {
        Some(rest) => rest.to_owned(),
        None => s,
    }
}

/// A private copy of a library file, removed when the last handle drops.
#[derive(Debug)]
pub struct ShadowFile {
    path: PathBuf,
}

static NEXT_SHADOW: AtomicU64 = AtomicU64::new(0);

impl ShadowFile {
    /// Writes `bytes`, read from `source`, to a new, unique, owner-only
    /// file in `dir`.
    fn write(source: &Path, bytes: &[u8], dir: &Path) -> Result<ShadowFile, LoadError> {
        let stem = source
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("plugin");
        let ext = source.extension().and_then(|s| s.to_str()).unwrap_or("so");
        loop {
            let n = NEXT_SHADOW.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(
                "hotslot-{}-{}-{n}-{stem}.{ext}",
                process_id(),
                nanos()
            ));
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(mut file) => {
                    let shadow = ShadowFile { path };
                    std::io::Write::write_all(&mut file, bytes).map_err(|e| LoadError::Io {
                        path: shadow.path.clone(),
                        source: e,
                    })?;
                    return Ok(shadow);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(LoadError::Io { path, source: e }),
            }
        }
    }

    /// Where the copy is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// SHA-256 of a file's content, as the loader computes it: the value to pin
/// with `ReloadOptions::sha256` or `--bind SLOT=LIB@SHA256`.
pub fn file_sha256(path: &Path) -> std::io::Result<[u8; 32]> {
    Ok(Sha256::digest(fs::read(path)?).into())
}

fn process_id() -> u32 {
    static PID: OnceLock<u32> = OnceLock::new();
    *PID.get_or_init(std::process::id)
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

impl Drop for ShadowFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
