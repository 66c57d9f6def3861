//! Opening a plugin library: private copy, checks, and release.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use hotslot_plugin_api::{
    HS_DESCRIPTOR_SYMBOL, HS_EXT_SYMBOL, HS_GET_VERSION_SYMBOL, HS_RUST_LAYOUT_SYMBOL,
    HsPluginDescriptor, HsPluginExt, HsRustLayout,
};

use super::copy::{CopyPlace, PrivateCopy};
use super::descriptor::{self, PluginInfo};
use super::layout;
use super::structs::{self, Ext};
use super::trust::{Sha256, TrustPolicy};
use crate::error::LoadError;

/// How to load a library.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Where the private copy goes.
    pub copies: CopyPlace,
    /// Where the file may come from.
    pub trust: TrustPolicy,
    /// What the file must be: the SHA-256 of its content, checked on the
    /// sealed private copy that is then opened.
    pub pin: Option<Sha256>,
    /// The largest file loaded, in bytes: a larger one is refused before
    /// any of it is copied.
    pub max_size: u64,
}

/// The largest library file loaded unless a table says otherwise: 1 GiB,
/// above the largest debug builds of real plugins.
pub const DEFAULT_MAX_LIBRARY_SIZE: u64 = 1 << 30;

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            copies: CopyPlace::default(),
            trust: TrustPolicy::default(),
            pin: None,
            max_size: DEFAULT_MAX_LIBRARY_SIZE,
        }
    }
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
/// Each load reads the file once, checks those bytes (the hash when one is
/// pinned, the ELF structure) and loads them from a new private copy (see
/// [`PrivateCopy`]), so a library rebuilt at the same path really loads
/// anew and the original can be overwritten while this build runs.
/// Dropping the last handle closes the library; if the system keeps it
/// mapped (see [`retained_libraries`]), that is recorded rather than hidden.
pub struct Library {
    generation: u64,
    /// The file it was loaded from, as given (made absolute), or
    /// `linked:NAME` for a plugin linked into the host.
    source: PathBuf,
    /// The private copy; `None` for a linked plugin, and while dropping.
    copy: Option<Arc<PrivateCopy>>,
    sha256: OnceLock<Sha256>,
    info: PluginInfo,
    kind: PluginKind,
    /// The opened library and how the dynamic loader lists it; `None` for
    /// a linked plugin.
    lib: Option<(libloading::Library, LoaderEntry)>,
    /// The exports of a linked plugin.
    linked: Option<LinkedPlugin>,
    /// The worker process of an isolated build.
    #[cfg(target_os = "linux")]
    remote: Option<Arc<crate::isolate::remote::Remote>>,
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
    /// private copy of the file, then on that copy its hash when one is
    /// pinned, the machine it was built for, the ELF structure, the
    /// exports' kinds, the dynamic loader, the descriptor's head, the layout
    /// (Rust plugins), the whole descriptor, and `get_version`.
    ///
    /// # Safety
    ///
    /// Loading a library runs its code in this process: its initializers
    /// when it is opened, its exports during the checks, its functions on
    /// every call. The checks find mistakes (a stale build, a wrong
    /// signature, a broken descriptor); none can find out what native code
    /// does. The caller vouches that the file the trust policy admits (and,
    /// when pinned, that exact content) is a hotslot plugin whose code is
    /// sound: it keeps the ABI's promises and does not corrupt this process.
    pub unsafe fn open(path: &Path, options: &LoadOptions) -> Result<Library, LoadError> {
        let (source, mut file) = open_trusted(path, options)?;
        let copy = precheck_and_copy(&source, &mut file, options, &options.copies)?;
        drop(file);
        // SAFETY: forwarded to the caller.
        unsafe { Library::from_copy(source, copy, options, None) }
            .map(|l| l.expect("loaded when no hash is to be skipped"))
    }

    /// As [`Library::open`], unless the file's content has the SHA-256
    /// `current` (the build serving now): then nothing is loaded.
    ///
    /// # Safety
    ///
    /// As for [`Library::open`].
    pub unsafe fn open_if_changed(
        path: &Path,
        options: &LoadOptions,
        current: Sha256,
    ) -> Result<Option<Library>, LoadError> {
        let (source, mut file) = open_trusted(path, options)?;
        let copy = precheck_and_copy(&source, &mut file, options, &options.copies)?;
        drop(file);
        // SAFETY: forwarded to the caller.
        unsafe { Library::from_copy(source, copy, options, Some(current)) }
    }

    /// As [`Library::open`], in a worker process of its own (see
    /// [`crate::isolate`]): the file's trust, its hash pin, its ELF
    /// structure and its exports are checked here on the sealed copy, which
    /// the worker then loads with the loader's other checks; its
    /// description is checked again here. `None` when `unless` is the
    /// SHA-256 of the file's content.
    ///
    /// # Safety
    ///
    /// As for [`Library::open`], but for this process: the library's code
    /// runs in the worker only, so a build that crashes, hangs or corrupts
    /// memory harms the worker, and its calls fail with a typed error.
    pub unsafe fn open_isolated(
        path: &Path,
        options: &LoadOptions,
        isolate: &crate::isolate::IsolateOptions,
        unless: Option<Sha256>,
    ) -> Result<Option<Library>, LoadError> {
        if let CopyPlace::Dir(dir) = &options.copies {
            return Err(LoadError::Isolate {
                path: path.to_owned(),
                source: Box::new(crate::isolate::IsolateError::CopiesInDirectory {
                    dir: dir.clone(),
                }),
            });
        }
        let (source, mut file) = open_trusted(path, options)?;
        let copy = precheck_and_copy(&source, &mut file, options, &CopyPlace::Memory)?;
        drop(file);
        Library::isolated_from_copy(source, Arc::new(copy), options, isolate, unless)
    }

    /// Starts the worker of an isolated build from its checked copy.
    fn isolated_from_copy(
        source: PathBuf,
        copy: Arc<PrivateCopy>,
        options: &LoadOptions,
        isolate: &crate::isolate::IsolateOptions,
        unless: Option<Sha256>,
    ) -> Result<Option<Library>, LoadError> {
        let Some(sha256) = check_copy(&source, &copy, options, unless)? else {
            return Ok(None);
        };
        let failed = |e: crate::isolate::IsolateError| LoadError::Isolate {
            path: source.clone(),
            source: Box::new(e),
        };
        #[cfg(target_os = "linux")]
        {
            use crate::isolate::remote::{Remote, find_worker};
            let worker = find_worker(isolate.worker.as_deref()).map_err(failed)?;
            // The worker runs the library's code as this user: it is
            // checked like a library.
            let canonical = fs::canonicalize(&worker).map_err(|e| read_error(&worker, e))?;
            options.trust.check_path(&canonical)?;
            let (remote, info, kind) =
                Remote::start(&source, Arc::clone(&copy), isolate, canonical).map_err(failed)?;
            Ok(Some(Library {
                generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
                source,
                copy: Some(copy),
                sha256,
                info,
                kind,
                lib: None,
                linked: None,
                remote: Some(Arc::new(remote)),
            }))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (isolate, sha256);
            Err(failed(crate::isolate::IsolateError::Unsupported {
                reason: "isolated workers are built on Linux's memory files, futexes and pidfds",
            }))
        }
    }

    /// Whether this build runs in a worker process.
    pub fn is_isolated(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.remote.is_some()
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }

    /// The process id of an isolated build's worker, while one is running
    /// (a new one starts at the next call after a crash).
    pub fn worker_pid(&self) -> Option<u32> {
        #[cfg(target_os = "linux")]
        {
            self.remote.as_ref()?.pid()
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// How an isolated build's worker runs; `None` for a build in process.
    pub fn isolation(&self) -> Option<crate::isolate::IsolateOptions> {
        #[cfg(target_os = "linux")]
        {
            self.remote.as_ref().map(|r| r.options().clone())
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// The worker of an isolated build.
    #[cfg(target_os = "linux")]
    pub(crate) fn remote(&self) -> Option<&crate::isolate::remote::Remote> {
        self.remote.as_deref()
    }

    /// Loads `copy`, made from `source`: every check from the hash on, on
    /// the copy's own bytes. `None` when those bytes have the SHA-256
    /// `unless`.
    ///
    /// # Safety
    ///
    /// As for [`Library::open`].
    pub(crate) unsafe fn from_copy(
        source: PathBuf,
        copy: PrivateCopy,
        options: &LoadOptions,
        unless: Option<Sha256>,
    ) -> Result<Option<Library>, LoadError> {
        let Some(sha256) = check_copy(&source, &copy, options, unless)? else {
            return Ok(None);
        };
        let (copy, (lib, base)) = match open_copy(copy) {
            Ok(opened) => opened,
            Err(CopyError::Load(e)) => return Err(e),
            Err(CopyError::Open(reason)) => {
                return Err(LoadError::NotSharedLibrary {
                    path: source,
                    reason,
                });
            }
        };
        let entry = LoaderEntry::new(&copy, base);
        // SAFETY: the exports are found by their ABI names in `lib`, which
        // stays open while they are used: the library whose file the
        // caller's trust policy admitted.
        let checked = Exports::of(&lib, &source).and_then(|exports| unsafe { exports.check() });
        let (info, kind) = match checked {
            Ok(checked) => checked,
            Err(e) => {
                close_refused(lib, entry, copy);
                return Err(e);
            }
        };
        Ok(Some(Library {
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            source,
            copy: Some(Arc::new(copy)),
            sha256,
            info,
            kind,
            lib: Some((lib, entry)),
            linked: None,
            #[cfg(target_os = "linux")]
            remote: None,
        }))
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
            ext: plugin.ext,
        };
        // SAFETY: `LinkedPlugin::new`'s contract: these are a plugin's
        // exports, in this process for good.
        let (info, kind) = unsafe { exports.check()? };
        Ok(Library {
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            source: PathBuf::from(format!("linked:{}", info.name)),
            copy: None,
            sha256: OnceLock::new(),
            info,
            kind,
            lib: None,
            linked: Some(*plugin),
            #[cfg(target_os = "linux")]
            remote: None,
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

    /// The file this build was loaded from, as given (made absolute), or
    /// `linked:NAME` for a linked plugin.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The private copy that was opened; `None` for a linked plugin.
    pub fn copy(&self) -> Option<&PrivateCopy> {
        self.copy.as_deref()
    }

    /// What loads this exact build again (a rollback): its private copy,
    /// kept for as long as the returned value lives, or a linked plugin's
    /// exports.
    pub fn origin(&self) -> Origin {
        #[cfg(target_os = "linux")]
        if let (Some(remote), Some(copy)) = (&self.remote, &self.copy) {
            return Origin::Isolated {
                source: self.source.clone(),
                copy: Arc::clone(copy),
                options: crate::isolate::IsolateOptions {
                    worker: Some(remote.worker().to_owned()),
                    ..remote.options().clone()
                },
            };
        }
        match (&self.linked, &self.copy) {
            (Some(plugin), _) => Origin::Linked(*plugin),
            (None, Some(copy)) => Origin::Copy {
                source: self.source.clone(),
                copy: Arc::clone(copy),
            },
            (None, None) => unreachable!("a loaded build keeps its copy until dropped"),
        }
    }

    /// SHA-256 of the file's content as loaded: computed when the load had
    /// a pinned hash, otherwise on first request from the private copy
    /// (which lives as long as this build). A linked plugin has no file.
    pub fn sha256(&self) -> std::io::Result<Sha256> {
        if let Some(h) = self.sha256.get() {
            return Ok(*h);
        }
        let Some(copy) = &self.copy else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "a plugin linked into the host has no file to hash",
            ));
        };
        let h = Sha256::of(&copy.bytes()?);
        Ok(*self.sha256.get_or_init(|| h))
    }

    /// What the descriptor says.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The entry point of the function named `name`, which can be used
    /// while this build is (it borrows it); `None` for an isolated build,
    /// whose functions are called through its slots and handles only.
    pub fn entry(&self, name: &str) -> Option<EntryPoint<'_>> {
        if self.is_isolated() {
            return None;
        }
        self.info.function(name).map(|f| EntryPoint {
            entry: f.entry.0,
            _library: std::marker::PhantomData,
        })
    }

    /// Rust or C.
    pub fn kind(&self) -> PluginKind {
        self.kind
    }
}

/// Checks the trust policy for the file at `path` (and, when `path` is a
/// symbolic link, the link's directories too: the link decides which code
/// runs as much as the file), then opens it. Returns the path made
/// absolute, as given, and the open file.
fn open_trusted(path: &Path, options: &LoadOptions) -> Result<(PathBuf, fs::File), LoadError> {
    let source = std::path::absolute(path).map_err(|e| LoadError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    let target = match plain_path(&source) {
        // Canonical as it is: what was read serves the trust checks.
        Some(entries) => {
            if !entries[0].1.is_file() {
                return Err(LoadError::NotAFile { path: source });
            }
            options
                .trust
                .check_read(entries.iter().map(|(p, m)| (*p, m)))?;
            source.clone()
        }
        None => {
            let target = canonical_file(&source)?;
            options.trust.check_path(&target)?;
            if target != source
                && let Some(dir) = source.parent().and_then(|d| fs::canonicalize(d).ok())
            {
                options.trust.check_path(&dir)?;
            }
            target
        }
    };
    let file = fs::File::open(&target).map_err(|e| read_error(&target, e))?;
    Ok((source, file))
}

/// What can be known of a library file before any of it is copied: its
/// size (at most `options.max_size`), its format and its machine, from its
/// first bytes. Then the copy, of at most that size (a file that grows
/// meanwhile is refused, not copied on).
fn precheck_and_copy(
    source: &Path,
    file: &mut fs::File,
    options: &LoadOptions,
    place: &CopyPlace,
) -> Result<PrivateCopy, LoadError> {
    use std::io::{Read, Seek};
    let too_large = |size| LoadError::TooLarge {
        path: source.to_owned(),
        size,
        limit: options.max_size,
    };
    let io = |e| LoadError::Io {
        path: source.to_owned(),
        source: e,
    };
    let len = file.metadata().map_err(io)?.len();
    if len > options.max_size {
        return Err(too_large(len));
    }
    let mut head = Vec::with_capacity(4096);
    file.by_ref()
        .take(4096)
        .read_to_end(&mut head)
        .map_err(io)?;
    super::image::check_format(&head).map_err(|reason| LoadError::NotSharedLibrary {
        path: source.to_owned(),
        reason,
    })?;
    super::image::check_machine(&head).map_err(|(found, host)| LoadError::Architecture {
        path: source.to_owned(),
        found: found.to_string(),
        host: host.to_string(),
    })?;
    file.rewind().map_err(io)?;
    let copy = PrivateCopy::create(
        &mut file.by_ref().take(options.max_size.saturating_add(1)),
        stem(source),
        place,
    )?;
    let copied = copy.size().map_err(io)?;
    if copied > options.max_size {
        return Err(too_large(copied));
    }
    Ok(copy)
}

/// The metadata of an absolute path and of each directory above it, when
/// the path is canonical as it is: none of them a symbolic link, no `.` or
/// `..` in it. One `lstat` each, where resolving the path and then
/// checking it would take twice as many calls; `None` otherwise (or when
/// one cannot be read), for the general way.
fn plain_path(path: &Path) -> Option<Vec<(&Path, fs::Metadata)>> {
    use std::path::Component;
    if !path
        .components()
        .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
    {
        return None;
    }
    path.ancestors()
        .map(|p| {
            let meta = fs::symlink_metadata(p).ok()?;
            (!meta.is_symlink()).then_some((p, meta))
        })
        .collect()
}

/// A file name without its extension, for naming copies.
fn stem(source: &Path) -> &str {
    source
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin")
}

/// The checks made on a private copy before anything opens it: the hash
/// when one is pinned (or `unless` is to be compared), the machine, the
/// ELF structure, the exports' kinds. `None` when the bytes have the
/// SHA-256 `unless`; else the hash, when it was computed.
fn check_copy(
    source: &Path,
    copy: &PrivateCopy,
    options: &LoadOptions,
    unless: Option<Sha256>,
) -> Result<Option<OnceLock<Sha256>>, LoadError> {
    let source = source.to_owned();
    let bytes = copy.bytes().map_err(|e| LoadError::Copy {
        place: format!("`{}`", copy.name()),
        source: e,
    })?;
    let sha256 = OnceLock::new();
    if options.pin.is_some() || unless.is_some() {
        let found = Sha256::of(&bytes);
        if unless == Some(found) {
            return Ok(None);
        }
        if let Some(expected) = options.pin
            && expected != found
        {
            return Err(LoadError::HashMismatch {
                path: source,
                expected,
                found,
            });
        }
        let _ = sha256.set(found);
    }
    // Built for this machine? The dynamic loader would answer "no such
    // file" for one that exists.
    super::image::check_machine(&bytes).map_err(|(found, host)| LoadError::Architecture {
        path: source.clone(),
        found: found.to_string(),
        host: host.to_string(),
    })?;
    // The dynamic loader maps what the headers say; check they fit the
    // file before it sees them.
    super::image::check(&bytes, bytes.len() as u64).map_err(|reason| {
        LoadError::NotSharedLibrary {
            path: source.clone(),
            reason,
        }
    })?;
    // The exports are called: each must be a function in the code.
    for (symbol, expected) in EXPORTS {
        super::image::check_function(&bytes, symbol).map_err(|found| LoadError::NotAFunction {
            path: source.clone(),
            symbol,
            found,
            expected,
        })?;
    }
    drop(bytes);
    Ok(Some(sha256))
}

enum CopyError {
    Load(LoadError),
    Open(String),
}

/// Opens a private copy. A system that refuses code in memory files (an
/// `execmem` policy, say) is noticed at the first refusal: the copy is
/// moved to the default directory, and every later one goes there.
fn open_copy(copy: PrivateCopy) -> Result<(PrivateCopy, Opened), CopyError> {
    static MEMORY_REFUSED: AtomicBool = AtomicBool::new(false);
    let fallback = CopyPlace::Dir(super::copy::default_copy_dir());
    let copy = if copy.in_memory() && MEMORY_REFUSED.load(Ordering::Relaxed) {
        moved(&copy, &fallback)?
    } else {
        copy
    };
    #[cfg(target_os = "linux")]
    let copy = with_a_name_of_its_own(copy)?;
    match open_shared_library(&copy.load_path()) {
        Ok(lib) => Ok((copy, lib)),
        Err(reason) if copy.in_memory() && reason.contains("failed to map segment") => {
            log::warn!(
                "the system refuses to run code from memory files ({reason}); private copies go to `{}` from now on",
                super::copy::default_copy_dir().display()
            );
            MEMORY_REFUSED.store(true, Ordering::Relaxed);
            let copy = moved(&copy, &fallback)?;
            let lib = open_shared_library(&copy.load_path()).map_err(CopyError::Open)?;
            Ok((copy, lib))
        }
        Err(reason) => Err(CopyError::Open(reason)),
    }
}

/// The copy, under a load path the dynamic loader does not answer with a
/// library it lists already.
///
/// The loader answers `dlopen` of a name it lists (or of a file it has
/// mapped) with that library, without opening anything. A memory copy is
/// opened as `/proc/self/fd/N`, and descriptor numbers are reused once
/// closed: should the loader still list a library under that name, whose
/// descriptor was closed while it stayed loaded, opening the copy would
/// return the old library, and its code would run in place of the bytes
/// just checked (and pinned). hotslot itself keeps the descriptor of every
/// build the loader still lists open (see [`Library`]'s `Drop`), but code
/// outside it may open a library that way and close the descriptor. So the
/// loader is asked first (`RTLD_NOLOAD`: its own lookup, by name and by
/// file, loading nothing), and a name it answers for is given up for the
/// next free number above.
#[cfg(target_os = "linux")]
fn with_a_name_of_its_own(mut copy: PrivateCopy) -> Result<PrivateCopy, CopyError> {
    /// Numbers tried before giving up: each is one the loader lists.
    const TRIES: usize = 1024;
    for _ in 0..TRIES {
        let path = copy.load_path();
        let Ok(name) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
            return Ok(copy);
        };
        if !answered_by_the_loader(&name) {
            return Ok(copy);
        }
        log::warn!(
            "the dynamic loader lists a library as `{}`, a name no longer this process's: \
             the private copy `{}` is opened by another number",
            path.display(),
            copy.name()
        );
        copy.renumber().map_err(|e| {
            CopyError::Load(LoadError::Copy {
                place: format!("`{}`", copy.name()),
                source: e,
            })
        })?;
    }
    Err(CopyError::Load(LoadError::Copy {
        place: format!("`{}`", copy.name()),
        source: std::io::Error::other(format!(
            "the dynamic loader lists a library under each of {TRIES} descriptor names tried"
        )),
    }))
}

/// Whether `dlopen(name)` would return a library already loaded: the
/// loader's own lookup, by name and by file, with `RTLD_NOLOAD`.
#[cfg(target_os = "linux")]
fn answered_by_the_loader(name: &std::ffi::CStr) -> bool {
    // SAFETY: `name` is a valid C string; with RTLD_NOLOAD nothing is
    // loaded and no initializer runs.
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY) };
    if handle.is_null() {
        // A file the loader would refuse leaves its message behind; the
        // real open says it again.
        // SAFETY: no precondition; the message is this thread's.
        unsafe { libc::dlerror() };
        return false;
    }
    // SAFETY: `handle` is the reference just taken, released once.
    unsafe { libc::dlclose(handle) };
    true
}

/// A copy of `copy` in `place`.
fn moved(copy: &PrivateCopy, place: &CopyPlace) -> Result<PrivateCopy, CopyError> {
    let mut reader = copy.reader().map_err(|e| {
        CopyError::Load(LoadError::Copy {
            place: format!("`{}`", copy.name()),
            source: e,
        })
    })?;
    PrivateCopy::create(&mut reader, "moved", place).map_err(CopyError::Load)
}

/// A function's entry point, borrowed from its [`Library`] (as
/// libloading's `Symbol<'lib, T>` is): it cannot outlive the build.
#[derive(Clone, Copy)]
pub struct EntryPoint<'lib> {
    entry: hotslot_plugin_api::HsEntry,
    _library: std::marker::PhantomData<&'lib Library>,
}

impl EntryPoint<'_> {
    /// The raw entry point, for a caller that keeps the library loaded for
    /// as long as it uses it (the lifetime no longer says so).
    pub fn as_raw(&self) -> hotslot_plugin_api::HsEntry {
        self.entry
    }
}

impl std::fmt::Debug for EntryPoint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EntryPoint({:#x})", self.entry as usize)
    }
}

/// The exports the host calls, with what each must be.
const EXPORTS: [(&str, &str); 4] = [
    (
        HS_DESCRIPTOR_SYMBOL,
        "a function returning `const HsPluginDescriptor *`",
    ),
    (HS_GET_VERSION_SYMBOL, "a function returning `int`"),
    (
        HS_RUST_LAYOUT_SYMBOL,
        "a function returning `const HsRustLayout *`",
    ),
    (HS_EXT_SYMBOL, "a function returning `const HsPluginExt *`"),
];

/// What loads a build again: see [`Library::origin`].
#[derive(Clone, Debug)]
pub enum Origin {
    /// The private copy a library was loaded from.
    Copy {
        /// The file it was read from.
        source: PathBuf,
        /// The copy.
        copy: Arc<PrivateCopy>,
    },
    /// A plugin linked into the host.
    Linked(LinkedPlugin),
    /// The private copy an isolated build was started from, and how.
    Isolated {
        /// The file it was read from.
        source: PathBuf,
        /// The copy.
        copy: Arc<PrivateCopy>,
        /// How its worker runs.
        options: crate::isolate::IsolateOptions,
    },
}

impl Origin {
    /// Loads the build again, as a new generation from a new copy of the
    /// same bytes, through every check but the file's trust and hash, which
    /// the first load checked (the copy is the host's own). Safe: the first
    /// load, or `LinkedPlugin::new`, was where the code was vouched for.
    pub fn load(&self, options: &LoadOptions) -> Result<Library, LoadError> {
        match self {
            Origin::Copy { source, copy } => {
                let mut reader = copy.reader().map_err(|e| LoadError::Copy {
                    place: format!("`{}`", copy.name()),
                    source: e,
                })?;
                let copy = PrivateCopy::create(&mut reader, stem(source), &options.copies)?;
                let options = LoadOptions {
                    pin: None,
                    ..options.clone()
                };
                // SAFETY: the same bytes as the build `copy` was made for,
                // which was loaded under `Library::open`'s contract.
                unsafe { Library::from_copy(source.clone(), copy, &options, None) }
                    .map(|l| l.expect("loaded when no hash is to be skipped"))
            }
            Origin::Linked(plugin) => Library::linked(plugin),
            // A worker of its own maps the same sealed copy: no other
            // process's loader can answer for it.
            Origin::Isolated {
                source,
                copy,
                options: isolate,
            } => {
                let options = LoadOptions {
                    pin: None,
                    ..options.clone()
                };
                Library::isolated_from_copy(
                    source.clone(),
                    Arc::clone(copy),
                    &options,
                    isolate,
                    None,
                )
                .map(|l| l.expect("loaded when no hash is to be skipped"))
            }
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
    ext: Option<unsafe extern "C" fn() -> *const HsPluginExt>,
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
            ext: None,
        }
    }

    /// The same plugin with its ABI 1.1 export `hotslot_plugin_ext`.
    ///
    /// # Safety
    ///
    /// `ext` returns null or an `HsPluginExt` whose pointers are null or
    /// valid for the lengths it gives, all of it living as long as the
    /// process; the layouts it gives are the types' in this build; its
    /// host table request's `set` stores the table it is given.
    pub const unsafe fn with_ext(
        self,
        ext: unsafe extern "C" fn() -> *const HsPluginExt,
    ) -> LinkedPlugin {
        LinkedPlugin {
            ext: Some(ext),
            ..self
        }
    }
}

/// A plugin's exports, found in an opened library or linked in.
struct Exports {
    descriptor: unsafe extern "C" fn() -> *const HsPluginDescriptor,
    get_version: unsafe extern "C" fn() -> i32,
    rust_layout: Option<unsafe extern "C" fn() -> *const HsRustLayout>,
    ext: Option<unsafe extern "C" fn() -> *const HsPluginExt>,
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
        // SAFETY: as above, for `hotslot_plugin_ext`, exported by plugins
        // of ABI 1.1 that need it.
        let ext =
            unsafe { lib.get::<unsafe extern "C" fn() -> *const HsPluginExt>(HS_EXT_SYMBOL) }.ok();
        Ok(Exports {
            descriptor: *descriptor,
            get_version: *get_version,
            rust_layout: rust_layout.map(|f| *f),
            ext: ext.map(|f| *f),
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
        let header = unsafe { descriptor::read_header(ptr)? };
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
        let ext = unsafe { self.ext(header)? };
        // SAFETY: as above.
        let info = unsafe { descriptor::read_descriptor_with(ptr, &ext)? };

        // The version function must agree with the descriptor, and
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
        if let Some(what) = unsafe { descriptor::changed_since(again, &info) } {
            return Err(LoadError::Unstable { what });
        }
        // SAFETY: as for the first read.
        if unsafe { self.ext(header)? } != ext {
            return Err(LoadError::Unstable {
                what: "`hotslot_plugin_ext` described other types or another host table".into(),
            });
        }
        Ok((info, kind))
    }
}

impl Exports {
    /// What `hotslot_plugin_ext` says, for a plugin of ABI 1.1 or later
    /// that exports it (a 1.0 plugin has nothing of it).
    ///
    /// # Safety
    ///
    /// As for [`Exports::check`].
    unsafe fn ext(&self, header: descriptor::Header) -> Result<Ext, LoadError> {
        match self.ext {
            Some(ext) if header.abi.minor >= 1 => {
                // SAFETY: the export takes no arguments and promises a
                // readable extension or null.
                Ok(unsafe { structs::read_ext(ext())? })
            }
            _ => Ok(Ext::default()),
        }
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        let Some((lib, entry)) = self.lib.take() else {
            return;
        };
        // A failing `dlclose` leaves the library loaded; that is reported as
        // retention below, like any other library the system keeps.
        let _ = lib.close();
        // Asked while the copy is still open, so that its name cannot have
        // been given to another copy yet.
        if entry.is_loaded() {
            let copy = self.copy.take();
            let mut retained = RETAINED.lock().unwrap_or_else(|e| e.into_inner());
            retained.push((
                Retained {
                    generation: self.generation,
                    plugin: self.info.name.clone(),
                    version: self.info.version.clone(),
                    source: self.source.clone(),
                    copy: copy
                        .as_ref()
                        .map_or_else(String::new, |c| c.name().to_owned()),
                    entry,
                },
                // The loader finds a library by the name it was opened with
                // before it opens anything: while it lists this one as
                // `/proc/self/fd/N`, descriptor N must not be given to
                // another copy, or opening that copy would return this
                // library. The copy stays open until the library is gone.
                copy,
            ));
        }
        self.copy = None;
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
    /// The private copy that is still mapped, as listings name it.
    pub copy: String,
    entry: LoaderEntry,
}

/// Retained builds, each with its private copy, kept open while the
/// loader lists the build.
static RETAINED: Mutex<Vec<(Retained, Option<Arc<PrivateCopy>>)>> = Mutex::new(Vec::new());

/// Copies of refused builds the loader still listed after `dlclose` (one
/// whose code registered a thread-local destructor while its exports were
/// read), each kept open, like a retained build's, while the loader lists
/// the build under its descriptor's name.
static REFUSED_KEPT: Mutex<Vec<(LoaderEntry, PrivateCopy)>> = Mutex::new(Vec::new());

/// Closes a build refused after it was opened. Should the loader keep it
/// listed, its copy stays open: descriptor numbers are reused, and a later
/// copy opened by the same `/proc/self/fd/N` name would otherwise be
/// answered with this build.
fn close_refused(lib: libloading::Library, entry: LoaderEntry, copy: PrivateCopy) {
    let _ = lib.close();
    let mut kept = REFUSED_KEPT.lock().unwrap_or_else(|e| e.into_inner());
    kept.retain(|(entry, _)| entry.is_loaded());
    if entry.is_loaded() {
        kept.push((entry, copy));
    }
}

/// Released generations the system still keeps mapped, checked afresh on
/// every call (a retained library may be unmapped later, for example once
/// the thread holding its thread-locals exits; its copy is closed then).
pub fn retained_libraries() -> Vec<Retained> {
    REFUSED_KEPT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(entry, _)| entry.is_loaded());
    let mut retained = RETAINED.lock().unwrap_or_else(|e| e.into_inner());
    retained.retain(|(r, _)| r.entry.is_loaded());
    retained.iter().map(|(r, _)| r.clone()).collect()
}

/// How the dynamic loader lists a library: the name it was opened by, and
/// (where the loader says) its load address, which tells it apart from a
/// later library opened by the same name (a memory file's descriptor
/// number is reused once closed).
#[derive(Clone, Debug, PartialEq, Eq)]
struct LoaderEntry {
    name: std::ffi::CString,
    base: Option<usize>,
}

impl LoaderEntry {
    fn new(copy: &PrivateCopy, base: Option<usize>) -> LoaderEntry {
        let name = std::ffi::CString::new(copy.load_path().into_os_string().into_encoded_bytes())
            .unwrap_or_default();
        LoaderEntry { name, base }
    }

    /// Whether the library is still loaded in this process.
    fn is_loaded(&self) -> bool {
        loaded(&self.name, self.base)
    }
}

/// The load address glibc's loader gives the library (`l_addr` of its link
/// map, as `dl_iterate_phdr` reports it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn load_address(handle: *mut libc::c_void) -> Option<usize> {
    /// The head of glibc's `struct link_map`, which is stable ABI.
    #[repr(C)]
    struct LinkMap {
        l_addr: usize,
    }
    let mut map: *const LinkMap = std::ptr::null();
    // SAFETY: `handle` is the open library's handle, and `RTLD_DI_LINKMAP`
    // writes one pointer to `map`.
    let r = unsafe { libc::dlinfo(handle, libc::RTLD_DI_LINKMAP, (&raw mut map).cast()) };
    if r != 0 || map.is_null() {
        return None;
    }
    // SAFETY: the loader returned its link map for the open library; its
    // first field is `l_addr`.
    Some(unsafe { (*map).l_addr })
}

#[cfg(all(unix, not(all(target_os = "linux", target_env = "gnu"))))]
fn load_address(_: *mut libc::c_void) -> Option<usize> {
    None
}

/// On ELF systems, a walk of the loader's list of loaded objects
/// (`dl_iterate_phdr`: no system call), by name and, when known, address.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "android"))]
fn loaded(name: &std::ffi::CStr, base: Option<usize>) -> bool {
    struct Wanted<'a> {
        name: &'a std::ffi::CStr,
        base: Option<usize>,
    }
    unsafe extern "C" fn visit(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        wanted: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: the loader passes a valid `info` for the duration of the
        // call, and `wanted` is the `Wanted` handed to `dl_iterate_phdr`
        // below; a null name is the main program's.
        unsafe {
            let (name, addr) = ((*info).dlpi_name, (*info).dlpi_addr as usize);
            let wanted = &*wanted.cast::<Wanted<'_>>();
            libc::c_int::from(
                !name.is_null()
                    && std::ffi::CStr::from_ptr(name) == wanted.name
                    && wanted.base.is_none_or(|b| b == addr),
            )
        }
    }
    let mut wanted = Wanted { name, base };
    // SAFETY: `visit` matches the callback's signature and only reads what
    // it is given; `wanted` outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(visit), (&raw mut wanted).cast()) != 0 }
}

/// On macOS, dyld's list of loaded images, by path (`_dyld_image_count`,
/// `_dyld_get_image_name`: no reference taken, no initializer run). dyld
/// never unloads an image that has thread-local variables, nor one that
/// Objective-C or Swift metadata registered: such a build stays listed
/// here after `dlclose`, and is reported retained.
#[cfg(target_vendor = "apple")]
fn loaded(name: &std::ffi::CStr, _base: Option<usize>) -> bool {
    // libSystem's (declared here: libc's are deprecated in favour of a
    // crate this needs nothing else from).
    unsafe extern "C" {
        fn _dyld_image_count() -> u32;
        fn _dyld_get_image_name(index: u32) -> *const std::ffi::c_char;
    }
    // SAFETY: dyld's image functions have no preconditions; an index at
    // or past the count (an image unloaded meanwhile) gives a null name.
    let count = unsafe { _dyld_image_count() };
    (0..count).any(|i| {
        // SAFETY: as above; a name returned is a valid C string while the
        // image stays loaded, which it does for the comparison.
        let image = unsafe { _dyld_get_image_name(i) };
        // SAFETY: as above.
        !image.is_null() && unsafe { std::ffi::CStr::from_ptr(image) } == name
    })
}

/// Elsewhere, `RTLD_NOLOAD` finds the library without loading it; a handle
/// found is closed again at once.
#[cfg(all(
    unix,
    not(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "android",
        target_vendor = "apple"
    ))
))]
fn loaded(name: &std::ffi::CStr, _base: Option<usize>) -> bool {
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

/// Whether Windows' loader still has a module of the copy's path: asked
/// with `GetModuleHandleExW`, which takes no reference.
#[cfg(windows)]
fn loaded(name: &std::ffi::CStr, _: Option<usize>) -> bool {
    use std::os::windows::ffi::OsStrExt;
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetModuleHandleExW(
            flags: u32,
            name: *const u16,
            module: *mut *mut std::ffi::c_void,
        ) -> i32;
    }
    /// Look the module up without adding to its reference count.
    const UNCHANGED_REFCOUNT: u32 = 0x2;
    let Ok(path) = name.to_str() else {
        return false;
    };
    let wide: Vec<u16> = std::ffi::OsStr::new(path)
        .encode_wide()
        .chain(std::iter::once(0))
        .collect();
    let mut module = std::ptr::null_mut();
    // SAFETY: `wide` is a NUL-terminated UTF-16 path; with
    // UNCHANGED_REFCOUNT the call only writes the handle it finds (or
    // null) to `module`, and takes no reference to release.
    unsafe { GetModuleHandleExW(UNCHANGED_REFCOUNT, wide.as_ptr(), &raw mut module) != 0 }
}

#[cfg(not(any(unix, windows)))]
fn loaded(_: &std::ffi::CStr, _: Option<usize>) -> bool {
    false
}

fn read_error(path: &Path, e: std::io::Error) -> LoadError {
    match e.kind() {
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
    }
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

/// An opened library, with its load address where the loader tells it.
type Opened = (libloading::Library, Option<usize>);

#[cfg(unix)]
fn open_shared_library(path: &Path) -> Result<Opened, String> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    // SAFETY: opening runs the library's initializers; the trust policy
    // admitted the file, and the copy is private to this process. RTLD_NOW
    // makes unresolved symbols fail here rather than at a first call.
    let lib = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }
        .map_err(|e| loader_message(&e, path))?;
    let handle = lib.into_raw();
    let base = load_address(handle);
    // SAFETY: `handle` came from `into_raw` just above, and is taken back
    // once.
    let lib = unsafe { Library::from_raw(handle) };
    Ok((lib.into(), base))
}

#[cfg(not(unix))]
fn open_shared_library(path: &Path) -> Result<Opened, String> {
    // SAFETY: as above.
    unsafe { libloading::Library::new(path) }
        .map(|lib| (lib, None))
        .map_err(|e| loader_message(&e, path))
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

#[cfg(all(test, unix))]
mod tests {
    use super::plain_path;
    use std::path::Path;

    #[test]
    fn a_path_is_read_plainly_only_without_links_dots_or_missing_parts() {
        let dir = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(dir.path()).unwrap();
        let file = dir.join("lib.so");
        std::fs::write(&file, b"x").unwrap();
        let entries = plain_path(&file).expect("no link in the path");
        let paths: Vec<&Path> = entries.iter().map(|(p, _)| *p).collect();
        assert_eq!(paths, file.ancestors().collect::<Vec<_>>());
        assert!(entries[0].1.is_file() && entries[1].1.is_dir());

        std::os::unix::fs::symlink(&dir, dir.join("link")).unwrap();
        assert!(
            plain_path(&dir.join("link/lib.so")).is_none(),
            "a link above"
        );
        std::os::unix::fs::symlink(&file, dir.join("to.so")).unwrap();
        assert!(plain_path(&dir.join("to.so")).is_none(), "the file a link");
        assert!(plain_path(&dir.join("x/../lib.so")).is_none(), "a `..`");
        assert!(plain_path(&dir.join("missing.so")).is_none(), "missing");
    }
}
