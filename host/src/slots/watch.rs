//! Watch mode: reload a library when its content changes on disk.
//!
//! One change gives one reload:
//! - only events that can change a file's content count (created, written
//!   and closed, renamed, removed); opening or reading a file, which every
//!   reload does, or changing its times (`touch`) does not;
//! - a burst of events (a compiler writing, a linker renaming) is one
//!   change: the library is reloaded once it has been quiet for
//!   [`WatchOptions::debounce`];
//! - a file whose bytes equal the build that serves (same SHA-256) is not
//!   reloaded: the event says it is unchanged.
//!
//! A library bound through a symbolic link is watched at both ends: the
//! link (re-pointing it, as `ln -sfn` or `mv -T` deploys do, is a change)
//! and the file it points to (a rebuild in place is one).
//!
//! While nothing changes, the watch thread sleeps: it wakes for changes of
//! content and of the table's set of libraries, nothing else. (The system's
//! file-event thread, notify's, still wakes for an instant when something
//! opens a file in a watched directory: the system reports opens too.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};

use super::lock;
use super::report::{ReloadEvent, ReloadKind};
use super::table::{ReloadOptions, SlotTable};

/// How watch mode waits.
#[derive(Clone, Copy, Debug)]
pub struct WatchOptions {
    /// How long a library's file must stay unchanged before it is reloaded:
    /// long enough for a compiler or linker to finish writing (and renaming)
    /// it, short enough to feel immediate.
    pub debounce: Duration,
}

impl Default for WatchOptions {
    fn default() -> WatchOptions {
        WatchOptions {
            debounce: Duration::from_millis(20),
        }
    }
}

/// Reloads a table's libraries when their files change; stops when dropped.
///
/// A refused reload (a build that fails a check) is reported as an event
/// like any other, the old build keeps serving, and the next change tries
/// again. A file that does not look completely written yet (its ELF headers
/// point past its end) is left for its writer's next event.
pub struct Watcher {
    wake: mpsc::Sender<Wake>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.wake.send(Wake::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What wakes the watch thread.
enum Wake {
    File(notify::Result<notify::Event>),
    /// The table's libraries may have changed.
    Libraries,
    Stop,
}

impl SlotTable {
    /// Starts watching the files of the libraries bound now and later. The
    /// files of the libraries bound now are watched when this returns.
    pub fn watch(&self, options: WatchOptions) -> Result<Watcher, notify::Error> {
        let (tx, rx) = mpsc::channel::<Wake>();
        let files = tx.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // Opens and reads by anyone in a watched directory are reported
            // too: they do not wake the watch thread.
            let wanted = match &event {
                Ok(e) => changes_content(&e.kind),
                Err(_) => true,
            };
            if wanted {
                let _ = files.send(Wake::File(event));
            }
        })?;
        // Told of every bind, reload and rollback: the set of files to
        // watch follows. Leaves when the watch thread is gone.
        let libraries = Mutex::new(tx.clone());
        self.observe(Arc::new(move |e: &ReloadEvent| {
            e.outcome.is_err() || lock(&libraries).send(Wake::Libraries).is_ok()
        }));
        let mut state = WatchLoop {
            table: self.clone(),
            watcher,
            dirs: BTreeSet::new(),
            libraries: BTreeMap::new(),
            options,
        };
        state.resync();
        let thread = std::thread::Builder::new()
            .name("hotslot-watch".into())
            .spawn(move || state.run(&rx))
            .map_err(notify::Error::io)?;
        Ok(Watcher {
            wake: tx,
            thread: Some(thread),
        })
    }
}

struct WatchLoop {
    table: SlotTable,
    watcher: notify::RecommendedWatcher,
    dirs: BTreeSet<PathBuf>,
    /// Each library's key (its path as bound), with the file it resolves to.
    libraries: BTreeMap<PathBuf, Option<PathBuf>>,
    options: WatchOptions,
}

impl WatchLoop {
    fn run(mut self, rx: &mpsc::Receiver<Wake>) {
        // Libraries that changed, with when they will have been quiet long
        // enough.
        let mut due: BTreeMap<PathBuf, Instant> = BTreeMap::new();
        loop {
            let wake = match due.values().min() {
                None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
                Some(&at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
            };
            match wake {
                Ok(Wake::File(Ok(event))) => {
                    let at = Instant::now() + self.options.debounce;
                    for key in self.libraries_at(&event.paths) {
                        due.insert(key, at);
                    }
                }
                Ok(Wake::File(Err(e))) => log::warn!("watching libraries: {e}"),
                Ok(Wake::Libraries) => self.resync(),
                Ok(Wake::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            let ready: Vec<PathBuf> = due
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(key, _)| key.clone())
                .collect();
            for key in ready {
                due.remove(&key);
                self.reload(&key);
            }
        }
    }

    /// The libraries whose link or file is one of `paths`.
    fn libraries_at(&self, paths: &[PathBuf]) -> Vec<PathBuf> {
        self.libraries
            .iter()
            .filter(|(key, target)| {
                paths
                    .iter()
                    .any(|p| p == *key || target.as_ref().is_some_and(|t| t == p))
            })
            .map(|(key, _)| key.clone())
            .collect()
    }

    fn reload(&self, key: &Path) {
        // A file still being written gets another event when its writer
        // finishes; trying it now would only report a refusal.
        if !looks_complete(key) {
            return;
        }
        let options = ReloadOptions {
            if_changed: true,
            ..ReloadOptions::default()
        };
        // Refusals are reported to the table's observers.
        let _ = self.table.reload_as(key, &options, ReloadKind::Watch);
    }

    /// Watches the directories of every bound library's path and of the
    /// file it resolves to, and no others.
    fn resync(&mut self) {
        self.libraries = self
            .table
            .libraries()
            .into_iter()
            .filter(|l| l.path.is_absolute())
            .map(|l| {
                let target = std::fs::canonicalize(&l.path).ok();
                (l.path, target)
            })
            .collect();
        let wanted: BTreeSet<PathBuf> = self
            .libraries
            .iter()
            .flat_map(|(key, target)| [Some(key), target.as_ref()])
            .flatten()
            .filter_map(|p| p.parent().map(Path::to_owned))
            .collect();
        for gone in self.dirs.difference(&wanted) {
            let _ = self.watcher.unwatch(gone);
        }
        for new in wanted.difference(&self.dirs) {
            if let Err(e) = self.watcher.watch(new, RecursiveMode::NonRecursive) {
                log::warn!("cannot watch `{}`: {e}", new.display());
            }
        }
        self.dirs = wanted;
    }
}

/// Whether an event can mean a file's content changed: it was created,
/// written (and closed after writing), renamed or removed. Opening, reading
/// and closing after reading, or changing metadata (`touch`, `chmod`), do
/// not count.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// Whether a library file looks completely written: it starts with its
/// format's magic (ELF, or PE on Windows; linkers may write the header
/// last) and the parts its headers name fit its length (they write the
/// section tables last). Only the head of the file is read. A script
/// module's text has no such structure: any bytes are tried (a half-saved
/// one is refused by the assembler, and the next write tries again).
fn looks_complete(path: &Path) -> bool {
    use std::io::Read;
    if crate::script::is_script(path) {
        return std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
    }
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return false;
    };
    let mut head = Vec::with_capacity(64 * 1024);
    if (&mut file).take(64 * 1024).read_to_end(&mut head).is_err() {
        return false;
    }
    if cfg!(any(target_os = "linux", windows)) {
        crate::plugin::looks_whole(&head, len)
    } else {
        len > 0
    }
}
