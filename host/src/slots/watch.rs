//! Watch mode: reload a library when its file changes on disk.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use super::report::ReloadKind;
use super::table::{ReloadOptions, SlotTable};

/// How watch mode waits.
#[derive(Clone, Copy, Debug)]
pub struct WatchOptions {
    /// How long a library's file must stay unchanged before it is reloaded:
    /// long enough for a compiler or linker to finish writing (and renaming)
    /// it, short enough to feel immediate.
    pub debounce: Duration,
    /// How often the set of watched directories follows the table's
    /// libraries (a new binding is watched within this delay).
    pub resync: Duration,
}

impl Default for WatchOptions {
    fn default() -> WatchOptions {
        WatchOptions {
            debounce: Duration::from_millis(20),
            resync: Duration::from_millis(100),
        }
    }
}

/// Reloads a table's libraries when their files change; stops when dropped.
///
/// It watches the directory of each bound library (not the file, which a
/// build may replace by renaming another over it), waits until the file
/// has been quiet for [`WatchOptions::debounce`], then reloads it through
/// every check. A refused reload (for example a file caught half-written)
/// is reported as an event like any other, the old build keeps serving, and
/// the next change tries again.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl SlotTable {
    /// Starts watching the files of the libraries bound now and later.
    pub fn watch(&self, options: WatchOptions) -> Result<Watcher, notify::Error> {
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let debouncer = new_debouncer(options.debounce, tx)?;
        let stop = Arc::new(AtomicBool::new(false));
        let state = WatchLoop {
            table: self.clone(),
            debouncer,
            dirs: BTreeSet::new(),
            options,
        };
        let s = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("hotslot-watch".into())
            .spawn(move || state.run(&rx, &s))
            .map_err(notify::Error::io)?;
        Ok(Watcher {
            stop,
            thread: Some(thread),
        })
    }
}

struct WatchLoop {
    table: SlotTable,
    debouncer: Debouncer<notify::RecommendedWatcher>,
    dirs: BTreeSet<PathBuf>,
    options: WatchOptions,
}

impl WatchLoop {
    fn run(mut self, rx: &mpsc::Receiver<DebounceEventResult>, stop: &AtomicBool) {
        self.resync();
        while !stop.load(Ordering::Relaxed) {
            match rx.recv_timeout(self.options.resync) {
                Ok(Ok(events)) => {
                    let changed: BTreeSet<PathBuf> = events.into_iter().map(|e| e.path).collect();
                    self.reload_changed(&changed);
                }
                Ok(Err(e)) => log::warn!("watching libraries: {e}"),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            self.resync();
        }
    }

    /// Watches the directory of every bound library, and no other.
    fn resync(&mut self) {
        let wanted: BTreeSet<PathBuf> = self
            .table
            .libraries()
            .into_iter()
            .filter_map(|l| l.path.parent().map(Path::to_owned))
            .collect();
        for gone in self.dirs.difference(&wanted) {
            let _ = self.debouncer.watcher().unwatch(gone);
        }
        for new in wanted.difference(&self.dirs) {
            if let Err(e) = self
                .debouncer
                .watcher()
                .watch(new, RecursiveMode::NonRecursive)
            {
                log::warn!("cannot watch `{}`: {e}", new.display());
            }
        }
        self.dirs = wanted;
    }

    fn reload_changed(&self, changed: &BTreeSet<PathBuf>) {
        for lib in self.table.libraries() {
            // A file still being written gets another event when its writer
            // finishes; trying it now would only report a refusal.
            if changed.contains(&lib.path) && looks_complete(&lib.path) {
                // Refusals are reported to the table's observers.
                let _ =
                    self.table
                        .reload_as(&lib.path, &ReloadOptions::default(), ReloadKind::Watch);
            }
        }
    }
}

/// Whether a library file looks completely written: on ELF platforms, it
/// starts with the ELF magic (linkers may write the header last) and holds
/// every part its headers point to (they write the section headers last);
/// elsewhere, it is not empty. A file that does not look complete gets
/// another event when its writer goes on.
fn looks_complete(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    if cfg!(target_os = "linux") {
        bytes.starts_with(b"\x7fELF") && crate::plugin::elf_whole(&bytes)
    } else {
        !bytes.is_empty()
    }
}
