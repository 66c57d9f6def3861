//! What a binding is built from: one build of a plugin, from one of its
//! origins.
//!
//! | origin | loaded by | its functions are called |
//! | --- | --- | --- |
//! | a library file, in this process | the loader (`plugin`) | through their entry points |
//! | a plugin linked into the host | the loader's checks of its exports | through their entry points |
//! | a library file, in a worker process | `isolate`, with the loader's checks | through the worker's channel |
//! | a script module's file | `script`, with the loader's file checks and the verifier | on a machine of the build's |
//!
//! Every origin gives the same description of its functions (a
//! [`PluginInfo`]) and is checked against the slots it would serve in the
//! same way. A build is numbered (its generation) when it is bound, in its
//! table's order: a build the transaction refuses takes no number.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::SlotError;
use crate::isolate::IsolateOptions;
#[cfg(target_os = "linux")]
use crate::isolate::IsolatedBuild;
use crate::plugin::{
    Library, LinkedPlugin, LoadError, LoadOptions, PluginInfo, PluginKind, PrivateCopy, Sha256,
};
use crate::script::ScriptModule;

/// A build bound in the table: a loaded build and its generation.
pub(crate) struct Build {
    generation: u64,
    loaded: Loaded,
}

/// A build loaded and checked on its own, not bound yet.
pub(crate) enum Loaded {
    /// Loaded in this process: from a library file, or linked in.
    Local(Box<Library>),
    /// Loaded in a worker process.
    #[cfg(target_os = "linux")]
    Worker(Box<IsolatedBuild>),
    /// A script module, run by the host's machines.
    Script(Box<ScriptModule>),
}

impl Build {
    /// `loaded`, being bound, as its table's build number `generation`.
    pub(crate) fn bind(loaded: Loaded, generation: u64) -> Build {
        match &loaded {
            Loaded::Local(library) => library.set_generation(generation),
            #[cfg(target_os = "linux")]
            Loaded::Worker(_) => {}
            Loaded::Script(_) => {}
        }
        Build { generation, loaded }
    }

    /// The build's number, in its table's binding order.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }
}

impl std::ops::Deref for Build {
    type Target = Loaded;

    fn deref(&self) -> &Loaded {
        &self.loaded
    }
}

impl Loaded {
    /// What its descriptor says (an isolated build: what its worker said,
    /// checked).
    pub(crate) fn info(&self) -> &PluginInfo {
        match self {
            Loaded::Local(library) => library.info(),
            #[cfg(target_os = "linux")]
            Loaded::Worker(build) => &build.info,
            Loaded::Script(build) => &build.info,
        }
    }

    /// Rust or C.
    pub(crate) fn kind(&self) -> PluginKind {
        match self {
            Loaded::Local(library) => library.kind(),
            #[cfg(target_os = "linux")]
            Loaded::Worker(build) => build.kind,
            Loaded::Script(_) => PluginKind::Script,
        }
    }

    /// The file it was loaded from (made absolute), or `linked:NAME`.
    #[cfg(target_os = "linux")]
    pub(crate) fn source(&self) -> &Path {
        match self {
            Loaded::Local(library) => library.source(),
            #[cfg(target_os = "linux")]
            Loaded::Worker(build) => &build.source,
            Loaded::Script(build) => &build.source,
        }
    }

    /// The script module, for a build of one.
    pub(crate) fn script(&self) -> Option<&ScriptModule> {
        match self {
            Loaded::Script(build) => Some(build),
            _ => None,
        }
    }

    /// Whether it is a plugin linked into the host.
    pub(crate) fn is_linked(&self) -> bool {
        matches!(self, Loaded::Local(library) if library.is_linked())
    }

    /// Its private copy; `None` for a linked plugin or a script module
    /// (whose bytes are held in memory).
    pub(crate) fn copy(&self) -> Option<&Arc<PrivateCopy>> {
        match self {
            Loaded::Local(library) => library.copy(),
            #[cfg(target_os = "linux")]
            Loaded::Worker(build) => Some(&build.copy),
            Loaded::Script(_) => None,
        }
    }

    /// SHA-256 of the file's content as loaded.
    pub(crate) fn sha256(&self) -> std::io::Result<Sha256> {
        match self {
            Loaded::Local(library) => library.sha256(),
            Loaded::Script(build) => Ok(build.sha256),
            #[cfg(target_os = "linux")]
            Loaded::Worker(build) => match build.sha256.get() {
                Some(h) => Ok(*h),
                None => {
                    let h = Sha256::of(&build.copy.bytes()?);
                    Ok(*build.sha256.get_or_init(|| h))
                }
            },
        }
    }

    /// Its worker, for a build loaded in one.
    #[cfg(target_os = "linux")]
    pub(crate) fn worker(&self) -> Option<&crate::isolate::remote::Remote> {
        match self {
            Loaded::Worker(build) => Some(&build.remote),
            Loaded::Local(_) | Loaded::Script(_) => None,
        }
    }

    /// How its worker runs, for a build loaded in one.
    pub(crate) fn isolation(&self) -> Option<IsolateOptions> {
        match self {
            Loaded::Local(_) | Loaded::Script(_) => None,
            #[cfg(target_os = "linux")]
            Loaded::Worker(build) => Some(build.remote.options().clone()),
        }
    }

    /// The process id of its worker, while one runs.
    pub(crate) fn worker_pid(&self) -> Option<u32> {
        match self {
            Loaded::Local(_) | Loaded::Script(_) => None,
            #[cfg(target_os = "linux")]
            Loaded::Worker(build) => build.remote.pid(),
        }
    }

    /// What loads this exact build again (a rollback): its private copy,
    /// kept for as long as the returned value lives, or a linked plugin's
    /// exports.
    pub(crate) fn origin(&self) -> Origin {
        match self {
            Loaded::Local(library) => match (library.linked_plugin(), library.copy()) {
                (Some(plugin), _) => Origin::Linked(*plugin),
                (None, Some(copy)) => Origin::Copy {
                    source: library.source().to_owned(),
                    copy: Arc::clone(copy),
                },
                (None, None) => unreachable!("a loaded build keeps its copy until dropped"),
            },
            #[cfg(target_os = "linux")]
            Loaded::Worker(build) => Origin::Worker {
                source: build.source.clone(),
                copy: Arc::clone(&build.copy),
                options: IsolateOptions {
                    worker: Some(build.remote.worker().to_owned()),
                    ..build.remote.options().clone()
                },
            },
            Loaded::Script(build) => Origin::Script {
                source: build.source.clone(),
                bytes: Arc::clone(&build.bytes),
                sha256: build.sha256,
                jit: build.jit(),
            },
        }
    }
}

/// What loads a build again: see [`Loaded::origin`].
#[derive(Clone, Debug)]
pub(crate) enum Origin {
    /// The private copy a library was loaded from.
    Copy {
        /// The file it was read from.
        source: PathBuf,
        /// The copy.
        copy: Arc<PrivateCopy>,
    },
    /// A plugin linked into the host.
    Linked(LinkedPlugin),
    /// The bytes a script module was read from.
    Script {
        /// The file they were read from.
        source: PathBuf,
        /// The bytes.
        bytes: Arc<[u8]>,
        /// Their SHA-256.
        sha256: Sha256,
        /// Whether its functions run compiled.
        jit: crate::vm::JitOptions,
    },
    /// The private copy an isolated build was started from, and how.
    #[cfg(target_os = "linux")]
    Worker {
        /// The file it was read from.
        source: PathBuf,
        /// The copy.
        copy: Arc<PrivateCopy>,
        /// How its worker runs.
        options: IsolateOptions,
    },
}

impl Origin {
    /// Loads the build again, as a new build from a new copy of the same
    /// bytes (or in a new worker), through every check but the file's
    /// trust and hash, which the first load checked (the copy is the
    /// host's own). Safe: the first load, or `LinkedPlugin::new`, was where
    /// the code was vouched for.
    pub(crate) fn load(&self, key: &Path, options: &LoadOptions) -> Result<Loaded, SlotError> {
        let load_error = |source: LoadError| SlotError::Load {
            path: key.to_owned(),
            source,
        };
        match self {
            Origin::Copy { source, copy } => {
                let copy =
                    crate::plugin::copy_again(source, copy, &options.copies).map_err(load_error)?;
                let options = LoadOptions {
                    pin: None,
                    ..options.clone()
                };
                // SAFETY: the same bytes as the build `copy` was made for,
                // which was loaded under `Library::open`'s contract.
                unsafe { crate::plugin::open_copy(source.clone(), copy, &options, None) }
                    .map(|l| {
                        Loaded::Local(Box::new(l.expect("loaded when no hash is to be skipped")))
                    })
                    .map_err(load_error)
            }
            Origin::Linked(plugin) => Library::linked(plugin)
                .map(|l| Loaded::Local(Box::new(l)))
                .map_err(load_error),
            Origin::Script {
                source,
                bytes,
                sha256,
                jit,
            } => ScriptModule::from_bytes(source.clone(), Arc::clone(bytes), *sha256, *jit)
                .map(|b| Loaded::Script(Box::new(b)))
                .map_err(|source| SlotError::Script {
                    path: key.to_owned(),
                    source: Box::new(source),
                }),
            // A worker of its own maps the same sealed copy: no other
            // process's loader can answer for it.
            #[cfg(target_os = "linux")]
            Origin::Worker {
                source,
                copy,
                options: isolate,
            } => crate::isolate::start_again(source, copy, options, isolate)
                .map(|b| Loaded::Worker(Box::new(b)))
                .map_err(|e| open_error(key, e)),
        }
    }
}

/// Loads the library at `path`: in this process, or with `isolate` in a
/// worker process; `None` when its content has the SHA-256 `unless`.
///
/// # Safety
///
/// As for [`Library::open`]; an isolated library's code runs in its
/// worker only.
pub(crate) unsafe fn open(
    path: &Path,
    options: &LoadOptions,
    isolate: Option<&IsolateOptions>,
    unless: Option<Sha256>,
    jit: crate::vm::JitOptions,
) -> Result<Option<Loaded>, SlotError> {
    let load_error = |source| SlotError::Load {
        path: path.to_owned(),
        source,
    };
    if crate::script::is_script(path) {
        let opened = match isolate {
            Some(_) => Err(crate::script::ScriptError::Isolated {
                path: path.to_owned(),
            }),
            None => ScriptModule::open_if_changed(path, options, unless, jit),
        };
        return opened
            .map(|b| b.map(|b| Loaded::Script(Box::new(b))))
            .map_err(|source| SlotError::Script {
                path: path.to_owned(),
                source: Box::new(source),
            });
    }
    match (isolate, unless) {
        #[cfg(target_os = "linux")]
        (Some(isolate), unless) => crate::isolate::open(path, options, isolate, unless)
            .map(|b| b.map(|b| Loaded::Worker(Box::new(b))))
            .map_err(|e| open_error(path, e)),
        #[cfg(not(target_os = "linux"))]
        (Some(_), _) => Err(SlotError::Isolate {
            path: path.to_owned(),
            source: crate::isolate::IsolateError::Unsupported {
                reason: "isolated workers are built on Linux's memory files, futexes and pidfds",
            },
        }),
        // SAFETY: forwarded to the caller.
        (None, Some(current)) => unsafe { Library::open_if_changed(path, options, current) }
            .map(|l| l.map(|l| Loaded::Local(Box::new(l))))
            .map_err(load_error),
        // SAFETY: forwarded to the caller.
        (None, None) => unsafe { Library::open(path, options) }
            .map(|l| Some(Loaded::Local(Box::new(l))))
            .map_err(load_error),
    }
}

/// An isolated load's error, as the table reports it.
#[cfg(target_os = "linux")]
fn open_error(path: &Path, e: crate::isolate::OpenError) -> SlotError {
    match e {
        crate::isolate::OpenError::Load(source) => SlotError::Load {
            path: path.to_owned(),
            source,
        },
        crate::isolate::OpenError::Start(source) => SlotError::Isolate {
            path: path.to_owned(),
            source,
        },
    }
}
