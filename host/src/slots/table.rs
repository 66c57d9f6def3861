//! The slot table: bindings of slots to plugin functions, swapped as a
//! whole after every check passes.
//!
//! This file is the façade and the writer's state. The transaction that
//! loads and checks a build is in `transaction.rs`, the call path in
//! `reader.rs`, the release protocol in `publish.rs`, what the table
//! reports in `report.rs`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use semver::Version;

use super::build::{Build, Origin};
use super::error::SlotError;
use super::lock;
use super::observers::Observers;
use super::publish::Published;
use super::report::{
    BoundInfo, LibraryInfo, PendingRelease, ReloadEvent, ReloadKind, ReloadReport, SlotInfo,
};
use super::snapshot::{Binding, Cell, Snapshot, unbound};
use crate::plugin::{CopyPlace, HostStruct, LinkedPlugin, LoadOptions, Sha256, TrustPolicy};
use crate::types::StructName;
use crate::vm::LinkError;
use crate::vm::{Import, MAX_SLOT, Program};

/// How a table loads libraries.
#[derive(Clone, Debug)]
pub struct TableOptions {
    /// Where private copies of libraries go: by default anonymous memory
    /// files where the system allows (see [`CopyPlace`]).
    pub copies: CopyPlace,
    /// What a library file must satisfy before it is opened.
    pub trust: TrustPolicy,
    /// The largest library file loaded, in bytes (by default
    /// [`DEFAULT_MAX_LIBRARY_SIZE`](crate::plugin::DEFAULT_MAX_LIBRARY_SIZE)):
    /// a larger one is refused before any of it is copied.
    pub max_library_size: u64,
    /// Whether the programs of the table's VMs ([`SlotTable::vm`]) and its
    /// script modules' functions run compiled (a VM made with
    /// [`SlotTable::vm_with`] follows its own options).
    pub jit: crate::vm::JitOptions,
}

impl Default for TableOptions {
    fn default() -> TableOptions {
        TableOptions {
            copies: CopyPlace::default(),
            trust: TrustPolicy::default(),
            max_library_size: crate::plugin::DEFAULT_MAX_LIBRARY_SIZE,
            jit: crate::vm::JitOptions::default(),
        }
    }
}

/// Options of one bind, reload or rollback.
#[derive(Clone, Debug, Default)]
pub struct ReloadOptions {
    /// Accept a build whose function versions are lower than the running
    /// ones (a rollback does).
    pub allow_downgrade: bool,
    /// Accept only a file with this SHA-256 (checked on the sealed private
    /// copy that is then loaded); it stays pinned for later reloads of the
    /// library until another pin replaces it.
    pub sha256: Option<Sha256>,
    /// Load nothing when the file holds the same bytes as the build that
    /// serves (the report says it is unchanged). Watch mode asks for this.
    pub if_changed: bool,
    /// Run the library in a worker process of its own (see
    /// [`crate::isolate`]): a crash, an `exit` or a hang in it fails the
    /// call, not the host. It stays isolated for later reloads of the
    /// library, with these options, until other options replace them.
    pub isolate: Option<crate::isolate::IsolateOptions>,
}

/// A bound slot, as the writer keeps it.
pub(super) struct Bound {
    pub(super) binding: Binding,
    /// The library's key (the path it was bound by, made absolute), shared
    /// by the slots bound to it.
    pub(super) key: Arc<Path>,
    /// The function it binds, by name.
    pub(super) symbol: Arc<str>,
}

/// A library bound to at least one slot.
pub(super) struct LibState {
    pub(super) current: Arc<Build>,
    /// The build before the current one, for a rollback.
    pub(super) previous: Option<Previous>,
    pub(super) pin: Option<Sha256>,
    /// How it runs isolated, when it does.
    pub(super) isolate: Option<crate::isolate::IsolateOptions>,
    /// Bound as a whole ([`SlotTable::bind_library`]): it stays bound with
    /// no slot, and serves every declared import it exports.
    pub(super) whole: bool,
    /// For a script module, the handles its current build's imports call
    /// through: the table's, owned by the module, removed with it.
    pub(super) imports: Vec<u32>,
}

pub(super) struct Previous {
    pub(super) origin: Origin,
    pub(super) version: Version,
    pub(super) generation: u64,
}

/// What the writers share: declarations, bindings, libraries.
#[derive(Default)]
pub(super) struct Writer {
    pub(super) decls: BTreeMap<u32, Import>,
    pub(super) slots: BTreeMap<u32, Bound>,
    pub(super) libraries: HashMap<PathBuf, LibState>,
    /// How many `TypedFunc`s (a handle and its clones) use each handle's
    /// slot; the last to drop removes it.
    pub(super) handle_users: BTreeMap<u32, usize>,
    /// The application's types, by name: the host's definitions that
    /// plugins' layouts are checked against (registered by the typed
    /// handles that use them).
    pub(super) structs: HashMap<StructName, Arc<HostStruct>>,
    /// The host callback tables the application provides, by name.
    pub(super) host_tables: HashMap<&'static str, HostTable>,
    /// The last generation given: builds are numbered per table, in the
    /// order they are bound, from 1.
    pub(super) generations: u64,
}

/// A host callback table the application provides.
pub(super) struct HostTable {
    /// Its version's major and minor.
    pub(super) version: (u32, u32),
    /// Its definition.
    pub(super) definition: HostStruct,
    /// The table, for the plugins: `'static`.
    pub(super) table: *const std::ffi::c_void,
}

// SAFETY: the table is a `'static` value of a `Sync` type (a table of
// function pointers), handed to plugins on any thread.
unsafe impl Send for HostTable {}
// SAFETY: as above.
unsafe impl Sync for HostTable {}

/// The slot number of typed handle 0: handles are slots past the program
/// slots, so that a reload checks and moves them as it does any slot.
pub(crate) const HANDLE_BASE: u32 = MAX_SLOT + 1;

/// Which slots a transaction binds, besides those already bound to the
/// library.
#[derive(Clone, Copy)]
pub(super) enum Assign<'a> {
    /// These slots, each to the function named (by default its import's).
    Slots(&'a [(u32, Option<&'a str>)]),
    /// Every unbound declared import the library exports, now and at each
    /// later reload.
    Exported,
}

/// Where a transaction's build comes from.
pub(super) enum Source {
    /// The library's file, as it is now.
    File,
    /// The build before the current one.
    Previous,
    /// A plugin linked into the host.
    Linked(LinkedPlugin),
}

pub(super) struct Inner {
    pub(super) published: Published<Snapshot>,
    writer: Mutex<Writer>,
    /// Wakes the reclaimer thread when a publish leaves builds waiting.
    wake: Arc<Wake>,
    options: TableOptions,
    observers: Observers,
    /// Held while replaced snapshots are taken and released (`reclaim`).
    releasing: Mutex<()>,
}

/// Slots shared by any number of VMs on any threads, each bound to a
/// function of a plugin library, swapped only after every check passes.
///
/// # The safety model
///
/// A table loads library files into this process (when a slot or a library
/// is bound, reloaded, rolled back, restored, or reloaded by watch mode),
/// and loading a library runs its code. The checks find mistakes: a stale
/// build, another signature, a broken descriptor, a build for another
/// machine. No check can find out what native code does. So creating a
/// table is where its user vouches for the code it will load, and is
/// `unsafe` (as libloading's `Library::new` is): the user states, once, that
/// the files its trust policy admits are sound hotslot plugins. Everything
/// the table does afterwards is safe. (Making every bind and reload
/// `unsafe` instead would state the same thing many times, and watch mode
/// reloads without a caller.)
///
/// A VM reads a slot with one atomic load of the current snapshot; a
/// reload builds a new snapshot and publishes it in one store, so a call
/// never sees a half-swapped table, and all slots bound to one library
/// change together. A replaced build is released once no call that started
/// on it can still be running.
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

impl SlotTable {
    /// A table with default options.
    ///
    /// # Safety
    ///
    /// As for [`SlotTable::with_options`].
    pub unsafe fn new() -> std::io::Result<SlotTable> {
        // SAFETY: forwarded to the caller.
        unsafe { SlotTable::with_options(TableOptions::default()) }
    }

    /// A table with `options`.
    ///
    /// # Safety
    ///
    /// Every library file this table is asked to load, and that
    /// `options.trust` admits, is a hotslot plugin whose code is sound: it
    /// keeps the ABI's promises and does not corrupt this process (see the
    /// type's safety model). Plugins linked into the host are vouched for by
    /// [`LinkedPlugin::new`] already.
    pub unsafe fn with_options(options: TableOptions) -> std::io::Result<SlotTable> {
        let inner = Arc::new(Inner {
            published: Published::new(Box::new(Snapshot {
                cells: Box::new([]),
                handles: Box::new([]),
            })),
            writer: Mutex::new(Writer::default()),
            wake: Arc::new(Wake::default()),
            options,
            observers: Observers::default(),
            releasing: Mutex::new(()),
        });
        let (weak, wake) = (Arc::downgrade(&inner), Arc::clone(&inner.wake));
        std::thread::Builder::new()
            .name("hotslot-reclaim".into())
            .spawn(move || reclaimer(&weak, &wake))?;
        Ok(SlotTable { inner })
    }

    pub(super) fn from_inner(inner: Arc<Inner>) -> SlotTable {
        SlotTable { inner }
    }

    pub(super) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// Declares a slot. Declaring it again with the same import is allowed;
    /// with another, it is an error.
    pub fn declare(&self, import: &Import) -> Result<(), LinkError> {
        if import.slot > MAX_SLOT {
            return Err(LinkError::SlotTooLarge {
                slot: import.slot,
                max: MAX_SLOT,
            });
        }
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
        self.inner.publish(&w);
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
        let result = self
            .inner
            .transact(path, Assign::Slots(slots), options, Source::File);
        self.inner.notify(ReloadKind::Bind, path, &result);
        result
    }

    /// Binds the library at `path` as a whole: every declared slot that is
    /// not bound yet and whose import's name the library exports is bound
    /// to that function, in one transaction; and so is, at each later
    /// reload, any such slot declared meanwhile. The library stays bound
    /// even while no slot uses it (typed handles find functions in it).
    pub fn bind_library(
        &self,
        path: impl AsRef<Path>,
        options: &ReloadOptions,
    ) -> Result<ReloadReport, SlotError> {
        let path = path.as_ref();
        let result = self
            .inner
            .transact(path, Assign::Exported, options, Source::File);
        self.inner.notify(ReloadKind::Bind, path, &result);
        result
    }

    /// Provides a host callback table (an application's [`HsHostTable`]):
    /// plugins that ask for it by name get it, once the table's version and
    /// layout are checked against what they were built with, before any of
    /// their functions runs. Provide tables before binding the plugins that
    /// need them; a plugin whose table is missing is refused.
    ///
    /// [`HsHostTable`]: hotslot_plugin_api::HsHostTable
    pub fn provide_host_table<H: hotslot_plugin_api::HsHostTable + Sync>(
        &self,
        table: &'static H,
    ) -> Result<(), SlotError> {
        let mut w = self.inner.writer();
        let name = <H as hotslot_plugin_api::HsStruct>::NAME;
        if w.host_tables.contains_key(name) {
            return Err(SlotError::HostTableTwice { name: name.into() });
        }
        let version = <H as hotslot_plugin_api::HsHostTable>::VERSION;
        w.host_tables.insert(
            name,
            HostTable {
                version: (version.major, version.minor),
                definition: HostStruct::new(
                    StructName::new(&<H as hotslot_plugin_api::HsStruct>::NAME),
                    <H as abi_stable::StableAbi>::LAYOUT,
                ),
                table: std::ptr::from_ref(table).cast(),
            },
        );
        Ok(())
    }

    /// Binds several slots to functions of a plugin linked into the host,
    /// with every check but the file's; the plugin is then named
    /// `linked:NAME` (its name) where a library path is expected. Binding a
    /// file to the same slots later replaces it, as any bind does.
    pub fn bind_linked(
        &self,
        plugin: &LinkedPlugin,
        slots: &[(u32, Option<&str>)],
        options: &ReloadOptions,
    ) -> Result<ReloadReport, SlotError> {
        self.bind_linked_as(plugin, Assign::Slots(slots), options)
    }

    /// Binds a plugin linked into the host as a whole, as
    /// [`SlotTable::bind_library`] binds a file.
    pub fn bind_linked_library(
        &self,
        plugin: &LinkedPlugin,
        options: &ReloadOptions,
    ) -> Result<ReloadReport, SlotError> {
        self.bind_linked_as(plugin, Assign::Exported, options)
    }

    fn bind_linked_as(
        &self,
        plugin: &LinkedPlugin,
        assign: Assign<'_>,
        options: &ReloadOptions,
    ) -> Result<ReloadReport, SlotError> {
        let result = self.inner.transact(
            Path::new("linked"),
            assign,
            options,
            Source::Linked(*plugin),
        );
        let path = result
            .as_ref()
            .map_or_else(|_| PathBuf::from("linked"), |r| r.library.clone());
        self.inner.notify(ReloadKind::Bind, &path, &result);
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
        let result = self
            .inner
            .transact(path, Assign::Slots(&[]), options, Source::File);
        self.inner.notify(kind, path, &result);
        result
    }

    /// Returns the library at `path` to the build that served before the
    /// current one, through the same checks (a lower version allowed).
    pub fn rollback(&self, path: impl AsRef<Path>) -> Result<ReloadReport, SlotError> {
        self.inner.roll_back(path.as_ref(), ReloadKind::Rollback)
    }

    /// Unbinds `slot`; calls to it fail with an "unbound" fault.
    pub fn unbind(&self, slot: u32) -> Result<(), SlotError> {
        let mut w = self.inner.writer();
        if slot > MAX_SLOT || !w.decls.contains_key(&slot) {
            return Err(SlotError::UnknownSlot {
                slot,
                declared: w.declared(),
            });
        }
        w.slots.remove(&slot);
        w.forget_unused_libraries();
        self.inner.publish(&w);
        Ok(())
    }

    /// Every declared slot and what serves it.
    pub fn slots(&self) -> Vec<SlotInfo> {
        let w = self.inner.writer();
        w.decls
            .range(..HANDLE_BASE)
            .map(|(_, import)| SlotInfo {
                import: import.clone(),
                bound: w.slots.get(&import.slot).map(|b| BoundInfo {
                    function: b.binding.function().name.clone(),
                    version: b.binding.function().version.clone(),
                    library: b.key.to_path_buf(),
                    plugin: b.binding.library.info().name.clone(),
                    generation: b.binding.library.generation(),
                    sha256: b.binding.library.sha256().ok(),
                    copy: b.binding.library.copy().map(|c| c.name().to_owned()),
                    isolate: b.binding.library.isolation(),
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
        let mut out = Vec::new();
        self.inner.published.for_each_retired(|snapshot| {
            let libraries = snapshot
                .cells
                .iter()
                .chain(snapshot.handles.iter())
                .filter_map(|c| c.binding.as_ref())
                .map(|b| &b.library)
                .filter(|l| !current.contains(&l.generation()));
            out.extend(libraries.map(|l| PendingRelease {
                generation: l.generation(),
                plugin: l.info().name.clone(),
                version: l.info().version.clone(),
                copy: l.copy().map(|c| c.name().to_owned()),
            }));
        });
        out.sort_by_key(|p| p.generation);
        out.dedup();
        out
    }

    /// Releases every replaced build no call can still be running on;
    /// returns how many replaced snapshots of the table still wait.
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
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            // Readers do not signal when they move on; look again shortly.
            let wait = (deadline - now).min(Duration::from_micros(500));
            self.inner.wake.sleep(Some(wait));
        }
    }

    /// Calls `f` for every bind, reload and rollback, applied or refused,
    /// on the thread that made it, after the change and with no lock of the
    /// table held: `f` may use the table. An `f` that panics is removed (the
    /// change stands and is reported to the other observers).
    pub fn on_event(&self, f: impl Fn(&ReloadEvent) + Send + Sync + 'static) {
        self.inner.observers.add(Arc::new(move |e: &ReloadEvent| {
            f(e);
            true
        }));
    }

    /// A channel receiving every bind, reload and rollback, applied or
    /// refused; it stops receiving when the receiver is dropped.
    pub fn subscribe(&self) -> mpsc::Receiver<ReloadEvent> {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        self.inner.observers.add(Arc::new(move |e: &ReloadEvent| {
            lock(&tx).send(e.clone()).is_ok()
        }));
        rx
    }

    /// Adds an observer that answers whether it still wants events.
    #[cfg(feature = "watch")]
    pub(super) fn observe(&self, observer: Arc<super::observers::Observer>) {
        self.inner.observers.add(observer);
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
                isolated: l.current.isolation().is_some(),
                worker_pid: l.current.worker_pid(),
                functions: l
                    .current
                    .info()
                    .functions
                    .iter()
                    .map(|f| f.name.clone())
                    .collect(),
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

impl Writer {
    pub(super) fn forget_unused_libraries(&mut self) {
        // The keys in use, once each: the slots of one library mostly share
        // one key, so a pointer comparison finds it among the few.
        let mut used: Vec<&Arc<Path>> = Vec::new();
        for b in self.slots.values() {
            if !used.iter().any(|u| Arc::ptr_eq(u, &b.key)) {
                used.push(&b.key);
            }
        }
        let mut gone = Vec::new();
        self.libraries.retain(|k, l| {
            let keep = l.whole || used.iter().any(|u| ***u == **k);
            if !keep {
                gone.append(&mut l.imports);
            }
            keep
        });
        // A script module gone takes the handles of its imports with it,
        // which may leave the libraries they bound unused in turn.
        if !gone.is_empty() {
            self.remove_handles(&gone);
            self.forget_unused_libraries();
        }
    }

    /// Removes the handles `handles` (a script module's imports).
    pub(super) fn remove_handles(&mut self, handles: &[u32]) {
        for h in handles {
            self.decls.remove(h);
            self.slots.remove(h);
            self.handle_users.remove(h);
        }
    }

    /// The writer's state as a snapshot for readers: one cell per program
    /// slot number up to the largest declared, one per typed handle.
    fn snapshot(&self) -> Snapshot {
        let cells_of = |slots: std::ops::RangeInclusive<u32>| -> Box<[Cell]> {
            let base = *slots.start();
            let len = self
                .decls
                .range(slots.clone())
                .next_back()
                .map_or(0, |(&s, _)| (s - base) as usize + 1);
            let mut cells: Vec<Cell> = (0..len)
                .map(|_| Cell {
                    entry: unbound,
                    binding: None,
                })
                .collect();
            for (slot, b) in self.slots.range(slots) {
                cells[(slot - base) as usize] = Cell {
                    entry: b.binding.function().entry.0,
                    binding: Some(b.binding.clone()),
                };
            }
            cells.into()
        };
        Snapshot {
            cells: cells_of(0..=MAX_SLOT),
            handles: cells_of(HANDLE_BASE..=u32::MAX),
        }
    }

    /// The declared program slots (the table's handles aside).
    /// The next build's generation.
    pub(super) fn next_generation(&mut self) -> u64 {
        self.generations += 1;
        self.generations
    }

    pub(super) fn declared(&self) -> Vec<u32> {
        self.decls.range(..HANDLE_BASE).map(|(&s, _)| s).collect()
    }
}

impl Inner {
    pub(super) fn writer(&self) -> MutexGuard<'_, Writer> {
        lock(&self.writer)
    }

    /// How this table loads a library file.
    /// Whether script modules run compiled.
    pub(crate) fn jit(&self) -> crate::vm::JitOptions {
        self.options.jit
    }

    pub(super) fn load_options(&self) -> LoadOptions {
        LoadOptions {
            copies: self.options.copies.clone(),
            trust: self.options.trust.clone(),
            pin: None,
            max_size: self.options.max_library_size,
        }
    }

    /// Publishes the writer's state as the new snapshot and retires the
    /// old one, released at once when no reader holds it, else by the
    /// reclaimer thread once none does.
    pub(super) fn publish(&self, w: &Writer) {
        self.published.publish(Box::new(w.snapshot()));
        if self.reclaim() > 0 {
            self.wake.notify(|w| w.pending = true);
        }
    }

    /// Frees retired snapshots no reader holds; returns how many remain.
    fn reclaim(&self) -> usize {
        // Taken and released under one lock, so that a caller that finds
        // nothing waiting knows no other thread is still closing a build it
        // took (`wait_released` returns only once they are closed). The
        // lock is the table's alone: closing a build runs no code of the
        // table's, and no lock of the release protocol is held meanwhile.
        let _releasing = lock(&self.releasing);
        let reclaimed = self.published.reclaim();
        if let Some(failed) = reclaimed.failed {
            barrier_failed(failed);
        }
        drop(reclaimed.free);
        reclaimed.remaining
    }

    /// Returns the library at `path` to its previous build, and tells the
    /// observers, as `kind`.
    pub(super) fn roll_back(
        &self,
        path: &Path,
        kind: ReloadKind,
    ) -> Result<ReloadReport, SlotError> {
        let options = ReloadOptions {
            allow_downgrade: true,
            ..ReloadOptions::default()
        };
        let result = self.transact(path, Assign::Slots(&[]), &options, Source::Previous);
        self.notify(kind, path, &result);
        result
    }

    pub(super) fn notify(
        &self,
        kind: ReloadKind,
        path: &Path,
        result: &Result<ReloadReport, SlotError>,
    ) {
        // Nobody to tell: no copy of the report (a reload of many slots
        // would copy a swap record for each).
        let level = match result {
            Ok(r) if r.unchanged => log::Level::Debug,
            _ => log::Level::Info,
        };
        if !self.observers.any() && !log::log_enabled!(level) {
            return;
        }
        let event = ReloadEvent {
            kind,
            library: path.to_owned(),
            outcome: match result {
                Ok(r) => Ok(r.clone()),
                Err(e) => Err(crate::chain(e)),
            },
        };
        // Refusals are the caller's (or an observer's) to report; the log
        // has them all at one level. A file rewritten with the bytes already
        // serving (a linker's last touch) changed nothing: a detail.
        log::log!(level, "{event}");
        self.observers.notify(&event);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.wake.notify(|w| w.closed = true);
    }
}

/// Says, once per process, that a heavy barrier failed: replaced builds
/// then wait (the reclaimer tries again), and none is released under a
/// call.
#[cold]
fn barrier_failed(failed: crate::sync::BarrierFailed) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
        log::error!(
            "the system refused the memory barrier that releasing replaced builds needs \
             (membarrier: {}): they stay loaded, and are released once it is granted again",
            std::io::Error::from_raw_os_error(failed.errno)
        );
    }
}

/// How the reclaimer thread is woken; shared with it apart from the table,
/// so that it holds no reference to the table while it sleeps.
#[derive(Default)]
struct Wake {
    state: Mutex<WakeState>,
    condvar: Condvar,
}

#[derive(Default)]
struct WakeState {
    /// A publish left builds waiting.
    pending: bool,
    /// The table is gone.
    closed: bool,
}

impl Wake {
    fn notify(&self, change: impl FnOnce(&mut WakeState)) {
        change(&mut lock(&self.state));
        self.condvar.notify_all();
    }

    /// Sleeps until notified or `timeout` passes; returns whether the table
    /// is gone.
    fn sleep(&self, timeout: Option<Duration>) -> bool {
        let mut state = lock(&self.state);
        if !state.pending && !state.closed {
            state = match timeout {
                Some(t) => self
                    .condvar
                    .wait_timeout(state, t)
                    .map_or_else(|e| e.into_inner().0, |r| r.0),
                None => self.condvar.wait(state).unwrap_or_else(|e| e.into_inner()),
            };
        }
        state.pending = false;
        state.closed
    }
}

/// Releases retired snapshots off the VMs' threads, soon after the last
/// reader holding one moves on: it looks again after 1 ms while builds
/// wait, backing off to 100 ms while the same ones stay held (a long call),
/// and sleeps until the next publish when none wait.
fn reclaimer(table: &Weak<Inner>, wake: &Wake) {
    const LONGEST: Duration = Duration::from_millis(100);
    let mut wait = Duration::from_millis(1);
    let mut last = 0;
    loop {
        // No reference to the table is kept while sleeping.
        let Some(remaining) = table.upgrade().map(|inner| inner.reclaim()) else {
            return;
        };
        let timeout = match remaining {
            0 => None,
            n if n == last => {
                wait = (wait * 2).min(LONGEST);
                Some(wait)
            }
            _ => {
                wait = Duration::from_millis(1);
                Some(wait)
            }
        };
        last = remaining;
        if wake.sleep(timeout) {
            return;
        }
    }
}
