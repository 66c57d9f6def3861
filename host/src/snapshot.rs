//! Snapshots: a VM's state and its slot bindings in a portable file,
//! restored in another process by reopening each library by path.
//!
//! A snapshot holds the program (as assembly text), where the VM stands
//! (pc, every frame's locals and operands) and, for each bound slot, the
//! library's path, the function, its version and the SHA-256 of the build.
//! Restoring loads each library through every check with that hash pinned
//! (so a file that changed since is refused before it is opened), checks
//! each function's version, and only then builds the VM: a restore either
//! fully succeeds or leaves nothing behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::chain::chain;
use crate::isolate::{CrashLimit, IsolateOptions};
use crate::plugin::Sha256;
use crate::slots::SlotError;
use crate::slots::{ReloadOptions, SlotReader, SlotTable};
use crate::vm::{FrameState, Status, Value, Vm, VmState, assemble, disassemble, verify};

/// The format name in every snapshot file.
pub const FORMAT: &str = "hotslot-snapshot";
/// The format version this host writes. Version 2 records isolated
/// bindings; a host that reads version 1 only refuses it, rather than
/// restore an isolated binding in its own process. Version 3 records the
/// libraries bound without a slot of the program (those a script module's
/// imports call).
pub const VERSION: u32 = 3;
/// The oldest format version this host reads.
pub const OLDEST_VERSION: u32 = 1;

/// A saved VM and its bindings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The program, as assembly text.
    pub program: String,
    /// Where the VM stands.
    pub vm: SavedVm,
    /// Every bound slot.
    pub slots: Vec<SavedSlot>,
    /// The libraries bound that serve no slot of the program (a script
    /// module's imports, a library bound whole): restored first, whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub libraries: Vec<SavedLibrary>,
}

/// A library bound with no slot of the program, in the snapshot file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedLibrary {
    /// The library's file.
    pub library: PathBuf,
    /// SHA-256 of the build.
    pub sha256: String,
}

/// A VM's state, in the snapshot file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedVm {
    /// `ready`, `paused` or `halted`.
    pub status: String,
    /// The next instruction.
    pub pc: u32,
    /// Every frame, `main` first.
    pub frames: Vec<SavedFrame>,
}

/// A frame, in the snapshot file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedFrame {
    /// The function's index.
    pub function: u32,
    /// Where the caller continues.
    pub ret_pc: u32,
    /// Locals, parameters first.
    pub locals: Vec<SavedValue>,
    /// Operands, bottom first.
    pub operands: Vec<SavedValue>,
}

/// A value, in the snapshot file: `{"i32": 5}`, `{"f64": "2.5"}`, ...
/// (floats as text, so that `nan` and `inf` survive JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SavedValue {
    /// `i32`
    I32(i32),
    /// `i64`
    I64(i64),
    /// `f64`, as Rust writes it (`{:?}`), or `nan`, `inf`, `-inf`.
    F64(String),
    /// `bool`
    Bool(bool),
    /// `str`
    Str(String),
}

/// A bound slot, in the snapshot file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedSlot {
    /// The slot.
    pub slot: u32,
    /// The library's file.
    pub library: PathBuf,
    /// The function bound.
    pub symbol: String,
    /// Its version.
    pub function_version: String,
    /// SHA-256 of the build.
    pub sha256: String,
    /// How the library's worker ran, when it was bound isolated: it is
    /// restored isolated, the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolate: Option<SavedIsolation>,
}

/// An isolated binding's options, in the snapshot file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedIsolation {
    /// A call's deadline, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// Roll back after this many worker failures ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_failures: Option<u32>,
    /// ... within this many milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_within_ms: Option<u64>,
}

impl SavedIsolation {
    fn of(options: &IsolateOptions) -> SavedIsolation {
        SavedIsolation {
            deadline_ms: options.deadline.map(|d| d.as_millis() as u64),
            rollback_failures: options.rollback_after.map(|l| l.failures),
            rollback_within_ms: options.rollback_after.map(|l| l.within.as_millis() as u64),
        }
    }

    fn options(&self) -> IsolateOptions {
        IsolateOptions {
            deadline: self.deadline_ms.map(Duration::from_millis),
            rollback_after: self.rollback_failures.map(|failures| CrashLimit {
                failures,
                within: Duration::from_millis(self.rollback_within_ms.unwrap_or(60_000)),
            }),
            ..IsolateOptions::default()
        }
    }
}

/// Why a snapshot could not be saved or restored. A failed restore leaves
/// nothing behind.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The file could not be read or written.
    #[error("cannot access snapshot `{path}`")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a snapshot this host reads.
    #[error("`{path}` is not a hotslot snapshot: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The VM faulted; there is no consistent state to save.
    #[error("the VM faulted: there is no state to save")]
    Faulted,
    /// The saved program does not assemble or verify.
    #[error("the saved program is invalid: {0}")]
    Program(String),
    /// The saved VM is in a state that cannot be restored.
    #[error("the saved VM is `{found}`; only a ready, paused or halted VM can be restored")]
    Status {
        /// The status saved.
        found: String,
    },
    /// The program imports a slot the snapshot binds nothing to.
    #[error("the program imports slot {slot} (`{name}`) but the snapshot binds no library to it")]
    Unbound {
        /// The slot.
        slot: u32,
        /// Its import's name.
        name: String,
    },
    /// A saved binding names a slot the program does not import.
    #[error("the snapshot binds slot {slot}, which the program does not import")]
    NotImported {
        /// The slot.
        slot: u32,
    },
    /// A saved hash is not a SHA-256.
    #[error("the SHA-256 of slot {slot} is `{found}`, not 64 hex digits")]
    Hash {
        /// The slot.
        slot: u32,
        /// What is saved.
        found: String,
    },
    /// A saved float does not parse.
    #[error("`{found}` is not a float")]
    Float {
        /// What is saved.
        found: String,
    },
    /// The snapshot file named holds something that cannot be restored.
    #[error("snapshot `{path}`")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: Box<SnapshotError>,
    },
    /// A library could not be bound again (changed, missing, refused).
    #[error("slot {slot}: cannot restore `{symbol}` from `{library}`")]
    Binding {
        /// The slot.
        slot: u32,
        /// The function.
        symbol: String,
        /// The library.
        library: PathBuf,
        /// The cause.
        #[source]
        source: Box<SlotError>,
    },
    /// A library's function has another version than when saved.
    #[error("slot {slot}: `{symbol}` is now {found}, the snapshot has {expected}")]
    Version {
        /// The slot.
        slot: u32,
        /// The function.
        symbol: String,
        /// The saved version.
        expected: String,
        /// The version now.
        found: String,
    },
    /// A library bound with no slot could not be bound again.
    #[error("cannot bind `{}` again", library.display())]
    Library {
        /// The library.
        library: PathBuf,
        /// Why.
        #[source]
        source: Box<SlotError>,
    },
    /// The saved state does not fit the saved program.
    #[error("the saved VM state does not fit the program")]
    State(#[from] crate::vm::StateError),
}

impl Snapshot {
    /// Captures `vm` and the bindings of its table.
    pub fn capture(vm: &Vm<SlotReader>) -> Result<Snapshot, SnapshotError> {
        let state = vm.state().ok_or(SnapshotError::Faulted)?;
        let table = vm.natives().table();
        let slots = table
            .slots()
            .into_iter()
            .filter_map(|s| s.bound.map(|b| (s.import.slot, b)))
            .map(|(slot, b)| {
                let sha256 = b.sha256.ok_or_else(|| SnapshotError::Io {
                    path: b.library.clone(),
                    source: std::io::Error::other(
                        "the build has no file to hash (a plugin linked into the host?)",
                    ),
                })?;
                Ok(SavedSlot {
                    slot,
                    library: b.library,
                    symbol: b.function,
                    function_version: b.version.to_string(),
                    sha256: sha256.to_string(),
                    isolate: b.isolate.as_ref().map(SavedIsolation::of),
                })
            })
            .collect::<Result<Vec<SavedSlot>, SnapshotError>>()?;
        let libraries = table
            .libraries()
            .into_iter()
            .filter(|l| !slots.iter().any(|s| s.library == l.path))
            .map(|l| {
                let sha256 = l.sha256.ok_or_else(|| SnapshotError::Io {
                    path: l.path.clone(),
                    source: std::io::Error::other("the build's content could not be read to hash"),
                })?;
                Ok(SavedLibrary {
                    library: l.path,
                    sha256: sha256.to_string(),
                })
            })
            .collect::<Result<_, SnapshotError>>()?;
        Ok(Snapshot {
            format: FORMAT.into(),
            version: VERSION,
            program: disassemble(vm.program().program()),
            vm: SavedVm {
                status: match state.status {
                    Status::Ready => "ready",
                    Status::Paused => "paused",
                    Status::Halted => "halted",
                    Status::Faulted => return Err(SnapshotError::Faulted),
                }
                .into(),
                pc: state.pc,
                frames: state
                    .frames
                    .into_iter()
                    .map(|f| SavedFrame {
                        function: f.function,
                        ret_pc: f.ret_pc,
                        locals: f.locals.iter().map(save_value).collect(),
                        operands: f.operands.iter().map(save_value).collect(),
                    })
                    .collect(),
            },
            slots,
            libraries,
        })
    }

    /// Writes the snapshot as JSON, to a new file in `path`'s directory
    /// renamed over `path`: a link planted at `path` is replaced, never
    /// written through, and a save cut short leaves the old file whole.
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| SnapshotError::Format {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        write_replacing(path, (text + "\n").as_bytes()).map_err(|source| SnapshotError::Io {
            path: path.to_owned(),
            source,
        })
    }

    /// Reads a snapshot file.
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
            path: path.to_owned(),
            source,
        })?;
        let format = |reason: String| SnapshotError::Format {
            path: path.to_owned(),
            reason,
        };
        let s: Snapshot = serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
        if s.format != FORMAT {
            return Err(format(format!(
                "format is `{}`, expected `{FORMAT}`",
                s.format
            )));
        }
        if !(OLDEST_VERSION..=VERSION).contains(&s.version) {
            return Err(format(format!(
                "version {}, this host reads {OLDEST_VERSION} to {VERSION}",
                s.version
            )));
        }
        // Everything that can be checked without a library, now: a bad
        // snapshot is refused here, naming the file.
        s.check().map_err(|e| SnapshotError::InFile {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
        Ok(s)
    }

    /// Checks what can be checked without loading a library: the program
    /// assembles and verifies, every import is bound by a saved slot and
    /// every saved slot is an import, hashes and values parse, the VM's
    /// status can be restored.
    fn check(&self) -> Result<Checked, SnapshotError> {
        let program = assemble(&self.program).map_err(|e| SnapshotError::Program(e.to_string()))?;
        let program = verify(program).map_err(|e| SnapshotError::Program(e.to_string()))?;
        for import in &program.program().imports {
            if !self.slots.iter().any(|s| s.slot == import.slot) {
                return Err(SnapshotError::Unbound {
                    slot: import.slot,
                    name: import.name.clone(),
                });
            }
        }
        let mut hashes = BTreeMap::new();
        for s in &self.slots {
            if program.program().import(s.slot).is_none() {
                return Err(SnapshotError::NotImported { slot: s.slot });
            }
            let hash: Sha256 = s.sha256.parse().map_err(|_| SnapshotError::Hash {
                slot: s.slot,
                found: s.sha256.clone(),
            })?;
            hashes.insert(s.slot, hash);
        }
        let status = match self.vm.status.as_str() {
            "ready" => Status::Ready,
            "paused" => Status::Paused,
            "halted" => Status::Halted,
            other => {
                return Err(SnapshotError::Status {
                    found: other.to_owned(),
                });
            }
        };
        let mut frames = Vec::with_capacity(self.vm.frames.len());
        for f in &self.vm.frames {
            frames.push(FrameState {
                function: f.function,
                ret_pc: f.ret_pc,
                locals: f
                    .locals
                    .iter()
                    .map(restore_value)
                    .collect::<Result<_, _>>()?,
                operands: f
                    .operands
                    .iter()
                    .map(restore_value)
                    .collect::<Result<_, _>>()?,
            });
        }
        let state = VmState {
            status,
            pc: self.vm.pc,
            frames,
        };
        Ok(Checked {
            program: Arc::new(program),
            hashes,
            state,
        })
    }

    /// Rebuilds the VM in this process, its slots bound in `table` (a new
    /// one: the snapshot's program declares its slots there): the program,
    /// each binding (its library's hash pinned, its function's version
    /// checked), then the VM's state. All of it, or an error and nothing
    /// bound.
    pub fn restore(&self, table: &SlotTable) -> Result<Vm<SlotReader>, SnapshotError> {
        self.restore_with(table, None)
    }

    /// As [`restore`](Self::restore); a library bound in process when
    /// saved is bound isolated with `isolate` when given. A library bound
    /// isolated when saved is always restored isolated, as it was.
    pub fn restore_with(
        &self,
        table: &SlotTable,
        isolate: Option<&IsolateOptions>,
    ) -> Result<Vm<SlotReader>, SnapshotError> {
        let Checked {
            program,
            hashes,
            state,
        } = self.check()?;
        let mut vm = table
            .vm(Arc::clone(&program))
            .map_err(|e| SnapshotError::Program(chain(&e)))?;
        // The state is checked against the program before any library is
        // opened: nothing is loaded for a snapshot that cannot finish.
        vm.set_state(&state)?;
        // The libraries serving no slot first (a module's imports), then
        // each library's slots: native libraries before script modules,
        // whose imports they serve.
        let native_first = |path: &Path| crate::script::is_script(path);
        let mut whole: Vec<&SavedLibrary> = self.libraries.iter().collect();
        whole.sort_by_key(|l| native_first(&l.library));
        for l in whole {
            let sha256 = l
                .sha256
                .parse::<Sha256>()
                .map_err(|e| SnapshotError::Format {
                    path: l.library.clone(),
                    reason: e.to_string(),
                })?;
            let options = ReloadOptions {
                sha256: Some(sha256),
                ..ReloadOptions::default()
            };
            table
                .bind_library(&l.library, &options)
                .map_err(|e| SnapshotError::Library {
                    library: l.library.clone(),
                    source: Box::new(e),
                })?;
        }
        let mut by_library: BTreeMap<&Path, Vec<&SavedSlot>> = BTreeMap::new();
        for s in &self.slots {
            by_library.entry(&s.library).or_default().push(s);
        }
        let mut by_library: Vec<(&Path, Vec<&SavedSlot>)> = by_library.into_iter().collect();
        by_library.sort_by_key(|(path, _)| native_first(path));
        for (library, slots) in by_library {
            let first = slots[0];
            let fail = |source| SnapshotError::Binding {
                slot: first.slot,
                symbol: first.symbol.clone(),
                library: library.to_owned(),
                source: Box::new(source),
            };
            let assign: Vec<(u32, Option<&str>)> = slots
                .iter()
                .map(|s| (s.slot, Some(s.symbol.as_str())))
                .collect();
            let options = ReloadOptions {
                sha256: Some(hashes[&first.slot]),
                isolate: first
                    .isolate
                    .as_ref()
                    .map(SavedIsolation::options)
                    .or_else(|| isolate.cloned()),
                ..ReloadOptions::default()
            };
            let report = table.bind_many(library, &assign, &options).map_err(fail)?;
            for s in slots {
                let now = report
                    .swaps
                    .iter()
                    .find(|w| w.slot == s.slot)
                    .map(|w| w.to.to_string());
                if now.as_deref() != Some(s.function_version.as_str()) {
                    return Err(SnapshotError::Version {
                        slot: s.slot,
                        symbol: s.symbol.clone(),
                        expected: s.function_version.clone(),
                        found: now.unwrap_or_default(),
                    });
                }
            }
        }
        Ok(vm)
    }
}

/// A snapshot's parts, checked.
struct Checked {
    program: Arc<crate::vm::VerifiedProgram>,
    hashes: BTreeMap<u32, Sha256>,
    state: VmState,
}

fn save_value(v: &Value) -> SavedValue {
    match v {
        Value::I32(x) => SavedValue::I32(*x),
        Value::I64(x) => SavedValue::I64(*x),
        Value::F64(x) => SavedValue::F64(crate::vm::float_text(*x)),
        Value::Bool(x) => SavedValue::Bool(*x),
        Value::Str(x) => SavedValue::Str(x.clone()),
    }
}

fn restore_value(v: &SavedValue) -> Result<Value, SnapshotError> {
    Ok(match v {
        SavedValue::I32(x) => Value::I32(*x),
        SavedValue::I64(x) => Value::I64(*x),
        SavedValue::F64(x) => Value::F64(
            crate::vm::parse_float_text(x)
                .ok_or_else(|| SnapshotError::Float { found: x.clone() })?,
        ),
        SavedValue::Bool(x) => Value::Bool(*x),
        SavedValue::Str(x) => Value::Str(x.clone()),
    })
}

/// Writes `bytes` to a new file beside `path` and renames it over `path`.
pub(crate) fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;

    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
