//! The slot table: bindings of slots to plugin functions, swapped as a
//! whole after every check passes.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use hotslot_plugin_api::{HsBytes, HsCallCtx, HsEntry, HsStatus, HsValue};
use semver::{Comparator, Op as ReqOp, Version, VersionReq};

use super::epoch::{Epochs, ReaderEpoch};
use crate::error::{LinkError, SlotError};
use crate::plugin::{FunctionInfo, Library, LoadOptions, PluginKind, ShadowFile, TrustPolicy};
use crate::vm::ctx::CallCtx;
use crate::vm::{Import, Natives, Program, VerifiedProgram, Vm, VmOptions};

/// How a table loads libraries.
#[derive(Clone, Debug, Default)]
pub struct TableOptions {
    /// Where private copies of libraries go; when unset, a new private
    /// directory (removed with the table) in a memory-backed directory if
    /// the system has one that allows code (see
    /// [`default_shadow_dir`](crate::plugin::default_shadow_dir)), else in
    /// the temporary directory.
    pub shadow_dir: Option<PathBuf>,
    /// What a library file must satisfy before it is opened.
    pub trust: TrustPolicy,
}

/// Options of one bind, reload or rollback.
#[derive(Clone, Debug, Default)]
pub struct ReloadOptions {
    /// Accept a build whose function versions are lower than the running
    /// ones (a rollback does).
    pub allow_downgrade: bool,
    /// Accept only a file with this SHA-256; it stays pinned for later
    /// reloads of the library until another pin replaces it.
    pub sha256: Option<[u8; 32]>,
}

/// A slot's binding: which function of which build serves it.
#[derive(Debug)]
pub struct Binding {
    /// The slot.
    pub slot: u32,
    /// The function, as its descriptor describes it.
    pub function: FunctionInfo,
    /// The build it comes from.
    pub library: Arc<Library>,
}

/// What one cell of a snapshot holds: the entry point to call, and the
/// binding it comes from (`None` while unbound).
struct Cell {
    entry: HsEntry,
    binding: Option<Arc<Binding>>,
}

/// An immutable view of every slot, indexed by slot number; VMs read it,
/// writers replace it. Published as a pointer to its first cell, so that a
/// call reaches its entry point in as few dependent loads as possible.
type Snapshot = Box<[Cell]>;

/// The entry point of a slot that is declared but not bound.
unsafe extern "C" fn unbound(
    _: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    HsStatus(-1)
}

struct Bound {
    binding: Arc<Binding>,
    /// The library's key (canonical path of its file).
    key: PathBuf,
    symbol: String,
}

struct LibState {
    current: Arc<Library>,
    /// The build before the current one, for a rollback.
    previous: Option<Previous>,
    pin: Option<[u8; 32]>,
}

struct Previous {
    copy: Arc<ShadowFile>,
    version: Version,
    generation: u64,
}

#[derive(Default)]
struct Writer {
    decls: BTreeMap<u32, Import>,
    slots: BTreeMap<u32, Bound>,
    libraries: HashMap<PathBuf, LibState>,
    /// Length of the published snapshot (its pointer is `Inner::snapshot`).
    published_len: usize,
}

struct Retired {
    epoch: u64,
    snapshot: Snapshot,
}

/// Told of every event; answers whether it still wants them.
type Observer = Box<dyn Fn(&ReloadEvent) -> bool + Send + Sync>;

struct Inner {
    /// The first cell of the current snapshot.
    snapshot: AtomicPtr<Cell>,
    epochs: Epochs,
    writer: Mutex<Writer>,
    retired: Mutex<Vec<Retired>>,
    wake: Condvar,
    load: LoadOptions,
    observers: Mutex<Vec<Observer>>,
    _shadow_dir: Option<tempfile::TempDir>,
}

/// Slots shared by any number of VMs on any threads, each bound to a
/// function of a plugin library, swapped only after every check passes.
///
/// A VM reads a slot with one atomic load of the current snapshot; a
/// reload builds a new snapshot and publishes it in one store, so a call
/// never sees a half-swapped table, and all slots bound to one library
/// change together. A replaced build is released once every call that
/// started on it has returned.
///
/// Cloning a `SlotTable` shares it.
#[derive(Clone)]
pub struct SlotTable {
    inner: Arc<Inner>,
}

impl fmt::Debug for SlotTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlotTable").finish_non_exhaustive()
    }
}

/// What a bind, reload or rollback changed.
#[derive(Clone, Debug, PartialEq)]
pub struct ReloadReport {
    /// The library's file.
    pub library: PathBuf,
    /// Its plugin name.
    pub plugin: String,
    /// Its plugin version.
    pub version: Version,
    /// The build that served before, if any.
    pub from_generation: Option<u64>,
    /// The build that serves now.
    pub to_generation: u64,
    /// Every slot that now points to the new build.
    pub swaps: Vec<Swap>,
    /// What happened to the plugin's state, when it has state hooks.
    pub state: Option<StateTransfer>,
    /// How long the whole transaction took.
    pub took: Duration,
}

/// One slot's change.
#[derive(Clone, Debug, PartialEq)]
pub struct Swap {
    /// The slot.
    pub slot: u32,
    /// The function that served before and its version, if bound.
    pub from: Option<(String, Version)>,
    /// The function now serving it.
    pub function: String,
    /// Its version.
    pub to: Version,
}

impl fmt::Display for Swap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "slot {} ", self.slot)?;
        match &self.from {
            Some((name, v)) if *name == self.function => write!(f, "`{name}` {v} -> {}", self.to),
            Some((name, v)) => write!(f, "`{name}` {v} -> `{}` {}", self.function, self.to),
            None => write!(f, "`{}` {}", self.function, self.to),
        }
    }
}

/// What happened to a plugin's state across a reload.
#[derive(Clone, Debug, PartialEq)]
pub enum StateTransfer {
    /// The new build accepted the old build's state.
    Carried {
        /// State format version.
        version: u32,
        /// Size of the state.
        bytes: usize,
    },
    /// The new build did not accept the state; it starts fresh.
    Refused {
        /// The state's version.
        version: u32,
        /// What the new build said.
        message: String,
    },
    /// The old build could not save its state; the new one starts fresh.
    SaveFailed {
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for StateTransfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateTransfer::Carried { version, bytes } => {
                write!(f, "state v{version} carried over ({bytes} bytes)")
            }
            StateTransfer::Refused { version, message } => {
                write!(
                    f,
                    "state v{version} not accepted, starting fresh: {message}"
                )
            }
            StateTransfer::SaveFailed { message } => {
                write!(f, "state could not be saved, starting fresh: {message}")
            }
        }
    }
}

/// What a table operation was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReloadKind {
    /// A slot was bound (or rebound).
    Bind,
    /// A library was reloaded from its file.
    Reload,
    /// Watch mode saw a library's file change and reloaded it.
    Watch,
    /// A library was returned to its previous build.
    Rollback,
}

impl fmt::Display for ReloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReloadKind::Bind => "bind",
            ReloadKind::Reload => "reload",
            ReloadKind::Watch => "watch reload",
            ReloadKind::Rollback => "rollback",
        })
    }
}

/// Sent to observers for every bind, reload and rollback, applied or
/// refused.
#[derive(Clone, Debug)]
pub struct ReloadEvent {
    /// What was attempted.
    pub kind: ReloadKind,
    /// The library's file.
    pub library: PathBuf,
    /// What changed, or why nothing did.
    pub outcome: Result<ReloadReport, String>,
}

impl fmt::Display for ReloadEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(r) => {
                write!(
                    f,
                    "{} {}: {} {} (generation ",
                    self.kind,
                    self.library.display(),
                    r.plugin,
                    r.version
                )?;
                match r.from_generation {
                    Some(g) => write!(f, "{g} -> {}", r.to_generation)?,
                    None => write!(f, "{}", r.to_generation)?,
                }
                write!(f, ") in {:.2?}", r.took)?;
                for s in &r.swaps {
                    write!(f, "; {s}")?;
                }
                if let Some(state) = &r.state {
                    write!(f, "; {state}")?;
                }
                Ok(())
            }
            Err(reason) => write!(
                f,
                "{} {} refused: {reason}",
                self.kind,
                self.library.display()
            ),
        }
    }
}

/// One slot as the table sees it.
#[derive(Clone, Debug)]
pub struct SlotInfo {
    /// The slot's declaration.
    pub import: Import,
    /// What serves it, if bound.
    pub bound: Option<BoundInfo>,
}

/// The binding of a slot.
#[derive(Clone, Debug)]
pub struct BoundInfo {
    /// The function serving the slot.
    pub function: String,
    /// Its version.
    pub version: Version,
    /// The library's file.
    pub library: PathBuf,
    /// The plugin's name.
    pub plugin: String,
    /// The build.
    pub generation: u64,
    /// SHA-256 of the build's file (`None` if its private copy could not be
    /// read to compute it).
    pub sha256: Option<[u8; 32]>,
    /// The private copy the build was loaded from.
    pub shadow: PathBuf,
}

/// A library bound to at least one slot.
#[derive(Clone, Debug)]
pub struct LibraryInfo {
    /// Its file.
    pub path: PathBuf,
    /// Its plugin's name.
    pub plugin: String,
    /// Its plugin's version.
    pub version: Version,
    /// The build serving now.
    pub generation: u64,
    /// Rust or C.
    pub kind: PluginKind,
    /// SHA-256 of the build serving now (`None` if its private copy could
    /// not be read to compute it).
    pub sha256: Option<[u8; 32]>,
    /// Whether its content hash is pinned.
    pub pinned: bool,
    /// The build a rollback returns to: its generation and plugin version.
    pub previous: Option<(u64, Version)>,
}

/// A build that is no longer current but not yet released, because a call
/// that started on it may still be running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRelease {
    /// The build.
    pub generation: u64,
    /// Its plugin.
    pub plugin: String,
    /// Its plugin version.
    pub version: Version,
    /// The private copy it was loaded from.
    pub shadow: PathBuf,
}

impl SlotTable {
    /// A table with default options.
    pub fn new() -> std::io::Result<SlotTable> {
        SlotTable::with_options(TableOptions::default())
    }

    /// A table with `options`.
    pub fn with_options(options: TableOptions) -> std::io::Result<SlotTable> {
        let (shadow_dir, tempdir) = match options.shadow_dir {
            Some(dir) => (dir, None),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("hotslot-")
                    .tempdir_in(crate::plugin::default_shadow_dir())?;
                (t.path().to_owned(), Some(t))
            }
        };
        let inner = Arc::new(Inner {
            snapshot: AtomicPtr::new(Box::into_raw(Snapshot::default()).cast()),
            epochs: Epochs::default(),
            writer: Mutex::new(Writer::default()),
            retired: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            load: LoadOptions {
                shadow_dir: Some(shadow_dir),
                trust: options.trust,
            },
            observers: Mutex::new(Vec::new()),
            _shadow_dir: tempdir,
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("hotslot-reclaim".into())
            .spawn(move || reclaimer(weak))?;
        Ok(SlotTable { inner })
    }

    /// Declares a slot. Declaring it again with the same import is allowed;
    /// with another, it is an error.
    pub fn declare(&self, import: &Import) -> Result<(), LinkError> {
        let mut w = self.inner.writer();
        match w.decls.get(&import.slot) {
            Some(existing) if existing == import => return Ok(()),
            Some(existing) => {
                return Err(LinkError::Conflict {
                    slot: import.slot,
                    existing: existing.to_string(),
                    requested: import.to_string(),
                });
            }
            None => {}
        }
        w.decls.insert(import.slot, import.clone());
        self.inner.publish(&mut w);
        Ok(())
    }

    /// Declares every import of `program`.
    pub fn declare_program(&self, program: &Program) -> Result<(), LinkError> {
        program.imports.iter().try_for_each(|i| self.declare(i))
    }

    /// Binds `slot` to the function `symbol` (by default the import's name)
    /// of a fresh load of the library at `path`. Every other slot bound to
    /// that library moves to the fresh load in the same transaction.
    pub fn bind(
        &self,
        slot: u32,
        path: impl AsRef<Path>,
        symbol: Option<&str>,
    ) -> Result<ReloadReport, SlotError> {
        self.bind_with(slot, path, symbol, &ReloadOptions::default())
    }

    /// As [`SlotTable::bind`], with options.
    pub fn bind_with(
        &self,
        slot: u32,
        path: impl AsRef<Path>,
        symbol: Option<&str>,
        options: &ReloadOptions,
    ) -> Result<ReloadReport, SlotError> {
        self.bind_many(path, &[(slot, symbol)], options)
    }

    /// Binds several slots to functions of one fresh load of the library at
    /// `path`, in one transaction: all bind or none does.
    pub fn bind_many(
        &self,
        path: impl AsRef<Path>,
        slots: &[(u32, Option<&str>)],
        options: &ReloadOptions,
    ) -> Result<ReloadReport, SlotError> {
        let path = path.as_ref();
        let result = self.inner.transact(path, slots, options, Source::File);
        self.inner.notify(ReloadKind::Bind, path, &result);
        result
    }

    /// Reloads the library at `path` from its file: every slot bound to it
    /// swaps to the new build, or none does.
    pub fn reload(&self, path: impl AsRef<Path>) -> Result<ReloadReport, SlotError> {
        self.reload_with(path, &ReloadOptions::default())
    }

    /// As [`SlotTable::reload`], with options.
    pub fn reload_with(
        &self,
        path: impl AsRef<Path>,
        options: &ReloadOptions,
    ) -> Result<ReloadReport, SlotError> {
        self.reload_as(path.as_ref(), options, ReloadKind::Reload)
    }

    pub(crate) fn reload_as(
        &self,
        path: &Path,
        options: &ReloadOptions,
        kind: ReloadKind,
    ) -> Result<ReloadReport, SlotError> {
        let result = self.inner.transact(path, &[], options, Source::File);
        self.inner.notify(kind, path, &result);
        result
    }

    /// Returns the library at `path` to the build that served before the
    /// current one, through the same checks (a lower version allowed).
    pub fn rollback(&self, path: impl AsRef<Path>) -> Result<ReloadReport, SlotError> {
        let path = path.as_ref();
        let options = ReloadOptions {
            allow_downgrade: true,
            sha256: None,
        };
        let result = self.inner.transact(path, &[], &options, Source::Previous);
        self.inner.notify(ReloadKind::Rollback, path, &result);
        result
    }

    /// Unbinds `slot`; calls to it fail with an "unbound" fault.
    pub fn unbind(&self, slot: u32) -> Result<(), SlotError> {
        let mut w = self.inner.writer();
        if !w.decls.contains_key(&slot) {
            return Err(SlotError::UnknownSlot {
                slot,
                declared: w.decls.keys().copied().collect(),
            });
        }
        w.slots.remove(&slot);
        w.forget_unused_libraries();
        self.inner.publish(&mut w);
        Ok(())
    }

    /// A handle for one VM to call through the slots.
    pub fn reader(&self) -> SlotReader {
        SlotReader {
            epoch: self.inner.epochs.register(),
            inner: Arc::clone(&self.inner),
            cells: std::cell::Cell::new(std::ptr::null()),
            seen: std::cell::Cell::new(u64::MAX),
            failed: std::cell::Cell::new(None),
        }
    }

    /// A VM for `program` whose native calls go through this table.
    pub fn vm(&self, program: Arc<VerifiedProgram>) -> Result<Vm<SlotReader>, LinkError> {
        Vm::new(program, self.reader())
    }

    /// As [`SlotTable::vm`], with limits.
    pub fn vm_with(
        &self,
        program: Arc<VerifiedProgram>,
        options: VmOptions,
    ) -> Result<Vm<SlotReader>, LinkError> {
        Vm::with_options(program, self.reader(), options)
    }

    /// Every declared slot and what serves it.
    pub fn slots(&self) -> Vec<SlotInfo> {
        let w = self.inner.writer();
        w.decls
            .values()
            .map(|import| SlotInfo {
                import: import.clone(),
                bound: w.slots.get(&import.slot).map(|b| BoundInfo {
                    function: b.binding.function.name.clone(),
                    version: b.binding.function.version.clone(),
                    library: b.key.clone(),
                    plugin: b.binding.library.info().name.clone(),
                    generation: b.binding.library.generation(),
                    sha256: b.binding.library.sha256().ok(),
                    shadow: b.binding.library.shadow_path().to_owned(),
                }),
            })
            .collect()
    }

    /// Replaced builds not released yet, because a call may still be
    /// running on them.
    pub fn pending_releases(&self) -> Vec<PendingRelease> {
        let current: Vec<u64> = self
            .inner
            .writer()
            .libraries
            .values()
            .map(|l| l.current.generation())
            .collect();
        let retired = self.inner.retired();
        let mut out: Vec<PendingRelease> = retired
            .iter()
            .flat_map(|r| r.snapshot.iter())
            .filter_map(|c| c.binding.as_ref())
            .map(|b| &b.library)
            .filter(|l| !current.contains(&l.generation()))
            .map(|l| PendingRelease {
                generation: l.generation(),
                plugin: l.info().name.clone(),
                version: l.info().version.clone(),
                shadow: l.shadow_path().to_owned(),
            })
            .collect();
        out.sort_by_key(|p| p.generation);
        out.dedup();
        out
    }

    /// Releases every replaced build no call can still be running on;
    /// returns how many snapshots still wait.
    pub fn reclaim(&self) -> usize {
        self.inner.reclaim()
    }

    /// Waits until every replaced build is released, or `timeout` passes;
    /// returns whether all were.
    pub fn wait_released(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.inner.reclaim() == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Calls `f` for every bind, reload and rollback, applied or refused,
    /// on the thread that made it.
    pub fn on_event(&self, f: impl Fn(&ReloadEvent) + Send + Sync + 'static) {
        lock(&self.inner.observers).push(Box::new(move |e| {
            f(e);
            true
        }));
    }

    /// A channel receiving every bind, reload and rollback, applied or
    /// refused.
    pub fn subscribe(&self) -> mpsc::Receiver<ReloadEvent> {
        let (tx, rx) = mpsc::channel();
        // Dropped once the receiver is gone.
        lock(&self.inner.observers).push(Box::new(move |e| tx.send(e.clone()).is_ok()));
        rx
    }

    /// The libraries currently bound, by file.
    pub fn libraries(&self) -> Vec<LibraryInfo> {
        let w = self.inner.writer();
        let mut v: Vec<LibraryInfo> = w
            .libraries
            .iter()
            .map(|(path, l)| LibraryInfo {
                path: path.clone(),
                plugin: l.current.info().name.clone(),
                version: l.current.info().version.clone(),
                generation: l.current.generation(),
                kind: l.current.kind(),
                sha256: l.current.sha256().ok(),
                pinned: l.pin.is_some(),
                previous: l
                    .previous
                    .as_ref()
                    .map(|p| (p.generation, p.version.clone())),
            })
            .collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    File,
    Previous,
}

impl Writer {
    fn forget_unused_libraries(&mut self) {
        let used: Vec<PathBuf> = self.slots.values().map(|b| b.key.clone()).collect();
        self.libraries.retain(|k, _| used.contains(k));
    }

    fn snapshot(&self) -> Snapshot {
        let len = self.decls.keys().next_back().map_or(0, |&s| s as usize + 1);
        let mut cells: Vec<Cell> = (0..len)
            .map(|_| Cell {
                entry: unbound,
                binding: None,
            })
            .collect();
        for (slot, b) in &self.slots {
            cells[*slot as usize] = Cell {
                entry: b.binding.function.entry.0,
                binding: Some(Arc::clone(&b.binding)),
            };
        }
        cells.into()
    }
}

impl Inner {
    fn writer(&self) -> MutexGuard<'_, Writer> {
        lock(&self.writer)
    }

    fn retired(&self) -> MutexGuard<'_, Vec<Retired>> {
        lock(&self.retired)
    }

    /// Publishes the writer's state as the new snapshot and retires the old.
    fn publish(&self, w: &mut Writer) {
        let new = w.snapshot();
        let len = new.len();
        let old = self
            .snapshot
            .swap(Box::into_raw(new).cast(), Ordering::AcqRel);
        let epoch = self.epochs.advance();
        // SAFETY: `old` came from `Box::into_raw` of a snapshot of
        // `published_len` cells in a previous publish (or `with_options`),
        // and the swap removed the table's only pointer to it; readers that
        // may still hold it are tracked by the epoch.
        let snapshot =
            unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(old, w.published_len)) };
        w.published_len = len;
        self.retired().push(Retired { epoch, snapshot });
        // Released at once when no call can be running on it; otherwise the
        // reclaimer thread waits for the calls in flight.
        if self.reclaim() > 0 {
            self.wake.notify_all();
        }
    }

    /// Frees retired snapshots no reader can hold; returns how many remain.
    fn reclaim(&self) -> usize {
        let safe = self.epochs.safe_epoch();
        let (free, remaining) = {
            let mut retired = self.retired();
            let (free, keep): (Vec<Retired>, Vec<Retired>) = std::mem::take(&mut *retired)
                .into_iter()
                .partition(|r| r.epoch <= safe);
            *retired = keep;
            (free, retired.len())
        };
        // Releasing may close libraries: do it outside the lock.
        drop(free);
        remaining
    }

    fn notify(&self, kind: ReloadKind, path: &Path, result: &Result<ReloadReport, SlotError>) {
        let event = ReloadEvent {
            kind,
            library: path.to_owned(),
            outcome: match result {
                Ok(r) => Ok(r.clone()),
                Err(e) => Err(crate::error::chain(e)),
            },
        };
        match &event.outcome {
            Ok(_) => log::info!("{event}"),
            Err(_) => log::warn!("{event}"),
        }
        lock(&self.observers).retain(|o| o(&event));
    }

    /// One bind, reload or rollback of the library at `path`: load, check
    /// every affected slot, carry the state, publish; or change nothing.
    fn transact(
        &self,
        path: &Path,
        assign: &[(u32, Option<&str>)],
        options: &ReloadOptions,
        source: Source,
    ) -> Result<ReloadReport, SlotError> {
        let started = Instant::now();
        let load_error = |source: crate::error::LoadError| SlotError::Load {
            path: path.to_owned(),
            source,
        };
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let mut w = self.writer();
        if let Some(&(slot, _)) = assign.iter().find(|(s, _)| !w.decls.contains_key(s)) {
            return Err(SlotError::UnknownSlot {
                slot,
                declared: w.decls.keys().copied().collect(),
            });
        }

        // The slots this transaction moves, with the symbol each binds.
        let mut affected: BTreeMap<u32, String> = w
            .slots
            .iter()
            .filter(|(_, b)| b.key == key)
            .map(|(s, b)| (*s, b.symbol.clone()))
            .collect();
        for &(slot, symbol) in assign {
            let symbol = symbol.map_or_else(|| w.decls[&slot].name.clone(), str::to_owned);
            affected.insert(slot, symbol);
        }
        if affected.is_empty() {
            return Err(SlotError::NotBound { path: key });
        }

        // Load.
        let state = w.libraries.get(&key);
        let pin = options.sha256.or(state.and_then(|s| s.pin));
        let mut load = self.load.clone();
        load.trust.sha256 = pin;
        let library = match source {
            Source::File if key.is_file() => {
                Library::open_canonical(key.clone(), &load).map_err(load_error)?
            }
            // Missing, not a file: the full open names the problem.
            Source::File => Library::open(&key, &load).map_err(load_error)?,
            Source::Previous => {
                let prev = state
                    .and_then(|s| s.previous.as_ref())
                    .ok_or_else(|| SlotError::NoPrevious { path: key.clone() })?;
                load.trust.sha256 = None;
                Library::open(prev.copy.path(), &load).map_err(load_error)?
            }
        };
        let library = Arc::new(library);

        // Check every affected slot against its import.
        let mut bindings = Vec::with_capacity(affected.len());
        let mut swaps = Vec::with_capacity(affected.len());
        for (&slot, symbol) in &affected {
            let import = &w.decls[&slot];
            let running = w.slots.get(&slot).map(|b| &b.binding.function);
            let function = check_slot(
                slot,
                import,
                &library,
                &key,
                symbol,
                running.map(|f| &f.version),
                options.allow_downgrade,
            )?;
            swaps.push(Swap {
                slot,
                from: running.map(|f| (f.name.clone(), f.version.clone())),
                function: function.name.clone(),
                to: function.version.clone(),
            });
            bindings.push((slot, symbol.clone(), function));
        }

        // Carry the state from the build being replaced.
        let from = state.map(|s| Arc::clone(&s.current));
        let transfer = from.as_ref().and_then(|old| carry_state(old, &library));

        // Publish.
        for (slot, symbol, function) in bindings {
            w.slots.insert(
                slot,
                Bound {
                    binding: Arc::new(Binding {
                        slot,
                        function,
                        library: Arc::clone(&library),
                    }),
                    key: key.clone(),
                    symbol,
                },
            );
        }
        let previous = from.as_ref().map(|old| Previous {
            copy: old.keep_copy(),
            version: old.info().version.clone(),
            generation: old.generation(),
        });
        let report = ReloadReport {
            library: key.clone(),
            plugin: library.info().name.clone(),
            version: library.info().version.clone(),
            from_generation: from.as_ref().map(|l| l.generation()),
            to_generation: library.generation(),
            swaps,
            state: transfer,
            took: Duration::ZERO,
        };
        w.libraries.insert(
            key,
            LibState {
                current: library,
                previous,
                pin,
            },
        );
        w.forget_unused_libraries();
        self.publish(&mut w);
        drop(w);
        Ok(ReloadReport {
            took: started.elapsed(),
            ..report
        })
    }
}

/// Checks that `library`'s `symbol` may serve `slot`: it exists, has the
/// import's signature, satisfies its requirement, and is not older than the
/// running version unless downgrades are allowed.
fn check_slot(
    slot: u32,
    import: &Import,
    library: &Library,
    path: &Path,
    symbol: &str,
    running: Option<&Version>,
    allow_downgrade: bool,
) -> Result<FunctionInfo, SlotError> {
    let info = library.info();
    let Some(f) = info.function(symbol) else {
        return Err(SlotError::FunctionMissing {
            slot,
            path: path.to_owned(),
            function: symbol.to_owned(),
            available: info.functions.iter().map(|f| f.name.clone()).collect(),
        });
    };
    if f.signature != import.signature {
        return Err(SlotError::Signature {
            slot,
            function: f.name.clone(),
            expected: import.signature.clone(),
            found: f.signature.clone(),
        });
    }
    let (req, from_running) = match (&import.requirement, running) {
        (Some(req), _) => (req.clone(), false),
        (None, Some(running)) => (same_major(running), true),
        (None, None) => (VersionReq::STAR, false),
    };
    if !req.matches(&f.version) {
        return Err(SlotError::Version {
            slot,
            function: f.name.clone(),
            expected: req,
            found: f.version.clone(),
            from_running,
        });
    }
    if let Some(running) = running
        && f.version < *running
        && !allow_downgrade
    {
        return Err(SlotError::Downgrade {
            slot,
            function: f.name.clone(),
            running: running.clone(),
            found: f.version.clone(),
        });
    }
    Ok(f.clone())
}

/// `=MAJOR`: any version with the same major.
fn same_major(v: &Version) -> VersionReq {
    VersionReq {
        comparators: vec![Comparator {
            op: ReqOp::Exact,
            major: v.major,
            minor: None,
            patch: None,
            pre: semver::Prerelease::EMPTY,
        }],
    }
}

/// Moves the plugin's state from `old` to `new` when both have state hooks.
fn carry_state(old: &Library, new: &Library) -> Option<StateTransfer> {
    let (save, load) = (old.info().state?, new.info().state?);
    let mut ctx = CallCtx::new(0);
    let ctx_ptr: *mut CallCtx = &mut ctx;
    // SAFETY: the hook comes from `old`'s checked descriptor and `old` is
    // loaded; the context is valid for the call.
    let status = unsafe { (save.save)(CallCtx::as_abi(ctx_ptr)) };
    if status != HsStatus::OK || ctx.fault.is_some() {
        return Some(StateTransfer::SaveFailed {
            message: if ctx.fault.is_some() {
                "the plugin passed an invalid state buffer".into()
            } else {
                ctx.take_error()
            },
        });
    }
    let bytes = std::mem::take(&mut ctx.bytes);
    ctx.end_call();
    let ctx_ptr: *mut CallCtx = &mut ctx;
    // SAFETY: as above, for `new`; `bytes` outlives the call.
    let status = unsafe {
        (load.load)(
            CallCtx::as_abi(ctx_ptr),
            save.version,
            HsBytes::from_slice(&bytes),
        )
    };
    Some(if status == HsStatus::OK {
        StateTransfer::Carried {
            version: save.version,
            bytes: bytes.len(),
        }
    } else {
        StateTransfer::Refused {
            version: save.version,
            message: ctx.take_error(),
        }
    })
}

/// Releases retired snapshots off the VMs' threads: promptly after the last
/// call on a replaced build returns, polling while any wait.
fn reclaimer(table: Weak<Inner>) {
    loop {
        let Some(inner) = table.upgrade() else { return };
        let remaining = inner.reclaim();
        let wait = if remaining == 0 {
            Duration::from_millis(100)
        } else {
            Duration::from_millis(1)
        };
        let guard = inner.retired();
        let _ = inner.wake.wait_timeout(guard, wait);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let p = *self.snapshot.get_mut();
        let len = self
            .writer
            .get_mut()
            .map_or_else(|e| e.into_inner().published_len, |w| w.published_len);
        // SAFETY: `p` came from `Box::into_raw` of a snapshot of `len` cells;
        // no reader remains (each holds an `Arc<Inner>`), so nothing else
        // can use it.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, len)) });
    }
}

/// One VM's handle on a [`SlotTable`]: its native calls go through the
/// table's current snapshot.
pub struct SlotReader {
    inner: Arc<Inner>,
    epoch: Arc<ReaderEpoch>,
    /// The snapshot this reader uses, loaded when it last saw the global
    /// epoch change (or entered a run), and kept alive by the epoch it
    /// published then.
    cells: std::cell::Cell<*const Cell>,
    /// That epoch; `u64::MAX` while offline.
    seen: std::cell::Cell<u64>,
    /// The function of the last call that failed, named before the
    /// binding could be released.
    failed: std::cell::Cell<Option<String>>,
}

// SAFETY: the raw pointer is to a snapshot the table keeps alive while this
// reader's published epoch protects it, whichever thread the reader is on;
// the reader is used by one thread at a time (it is not `Sync`).
unsafe impl Send for SlotReader {}

impl SlotReader {
    /// Publishes `epoch` (the reader holds nothing older) and loads the
    /// snapshot current from then on.
    #[cold]
    fn refresh(&self, epoch: u64) {
        self.inner.epochs.quiescent(&self.epoch, epoch);
        self.seen.set(epoch);
        self.cells.set(self.inner.snapshot.load(Ordering::Acquire));
    }

    /// The table.
    pub fn table(&self) -> SlotTable {
        SlotTable {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl Drop for SlotReader {
    fn drop(&mut self) {
        self.inner.epochs.leave(&self.epoch);
        self.inner.epochs.unregister(&self.epoch);
    }
}

// SAFETY: `link` declares every import on the table, and the table binds a
// slot only to a function whose signature equals the slot's declaration
// (`check_slot`); an unbound slot's entry fails every call.
unsafe impl Natives for SlotReader {
    fn link(&self, program: &Program) -> Result<(), LinkError> {
        self.table().declare_program(program)
    }

    #[inline]
    fn enter(&self) {
        let epoch = self.inner.epochs.enter(&self.epoch);
        self.seen.set(epoch);
        self.cells.set(self.inner.snapshot.load(Ordering::Acquire));
    }

    #[inline]
    fn leave(&self) {
        self.inner.epochs.leave(&self.epoch);
        self.seen.set(u64::MAX);
        self.cells.set(std::ptr::null());
    }

    #[inline]
    unsafe fn call(
        &self,
        slot: u32,
        ctx: *mut HsCallCtx,
        args: *const HsValue,
        nargs: usize,
        ret: *mut HsValue,
    ) -> HsStatus {
        // Between two calls: if a writer published, move to its snapshot.
        let epoch = self.inner.epochs.current();
        if epoch != self.seen.get() {
            self.refresh(epoch);
        }
        // SAFETY: the VM calls between `enter` and `leave`, so `cells` is a
        // snapshot loaded at or after this reader's published epoch, which
        // keeps it alive. `link` declared the slot, and snapshots only grow:
        // every snapshot published since has a cell for it.
        let cell = unsafe { &*self.cells.get().add(slot as usize) };
        // SAFETY: the cell's entry has the slot's declared signature (see
        // the `Natives` impl), and the caller passes matching arguments.
        let status = unsafe { (cell.entry)(ctx, args, nargs, ret) };
        if status != HsStatus::OK {
            // Named now: after the next refresh, the binding may be released.
            self.failed
                .set(cell.binding.as_ref().map(|b| b.function.name.clone()));
        }
        status
    }

    fn failed_function(&self, _slot: u32) -> Option<String> {
        self.failed.take()
    }
}
