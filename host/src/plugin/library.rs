//! A plugin build loaded in this process: from a library file (see
//! `open.rs` for the checks, in order), or linked into the host. Dropping
//! the last handle closes the library; if the system keeps it mapped (see
//! [`retained_libraries`](super::retained_libraries)), that is recorded
//! rather than hidden.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use super::copy::PrivateCopy;
use super::descriptor::{PluginInfo, PluginKind};
use super::error::LoadError;
use super::exports::Exports;
use super::linked::LinkedPlugin;
use super::loader::{LoaderEntry, RETAINED, Retained};
use super::trust::Sha256;

/// One loaded build of a plugin library.
///
/// Each load of a file reads it once, checks those bytes (the hash when one
/// is pinned, the image's structure) and loads them from a new private copy
/// (see [`PrivateCopy`]), so a library rebuilt at the same path really
/// loads anew and the original can be overwritten while this build runs.
pub struct Library {
    /// The number the build is bound as (0 until it is): how listings of
    /// builds the system keeps name it.
    generation: AtomicU64,
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
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("source", &self.source)
            .field("plugin", &self.info.name)
            .field("version", &self.info.version)
            .finish_non_exhaustive()
    }
}

impl Library {
    /// A build opened from its private copy, its exports checked.
    pub(crate) fn opened(
        source: PathBuf,
        copy: PrivateCopy,
        sha256: OnceLock<Sha256>,
        (info, kind): (PluginInfo, PluginKind),
        lib: (libloading::Library, LoaderEntry),
    ) -> Library {
        Library {
            generation: AtomicU64::new(0),
            source,
            copy: Some(Arc::new(copy)),
            sha256,
            info,
            kind,
            lib: Some(lib),
            linked: None,
        }
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
            generation: AtomicU64::new(0),
            source: PathBuf::from(format!("linked:{}", info.name)),
            copy: None,
            sha256: OnceLock::new(),
            info,
            kind,
            lib: None,
            linked: Some(*plugin),
        })
    }

    /// The plugin linked into the host this is, if it is one.
    pub fn linked_plugin(&self) -> Option<&LinkedPlugin> {
        self.linked.as_ref()
    }

    /// Whether this is a plugin linked into the host.
    pub fn is_linked(&self) -> bool {
        self.linked.is_some()
    }

    /// Records the number the build is bound as, for listings of builds
    /// the system keeps after release.
    pub(crate) fn set_generation(&self, generation: u64) {
        self.generation.store(generation, Ordering::Relaxed);
    }

    /// The file this build was loaded from, as given (made absolute), or
    /// `linked:NAME` for a linked plugin.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The private copy that was opened; `None` for a linked plugin.
    pub fn copy(&self) -> Option<&Arc<PrivateCopy>> {
        self.copy.as_ref()
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
    /// while this build is (it borrows it).
    pub fn entry(&self, name: &str) -> Option<EntryPoint<'_>> {
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
                    generation: self.generation.load(Ordering::Relaxed),
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
