//! A bind, reload or rollback as one transaction: load the build, check it
//! against every slot it would serve, carry the plugin's state over, and
//! publish; or change nothing.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotslot_plugin_api::{HsBytes, HsStatus};
use semver::{Comparator, Op as ReqOp, Version, VersionReq};

use super::build::{self, Build, Loaded, Origin};
use super::error::SlotError;
use super::report::{ReloadReport, StateTransfer, Swap};
use super::snapshot::Binding;
use super::table::{Assign, Bound, HANDLE_BASE, Inner, LibState, Previous, ReloadOptions, Source};
use crate::plugin::LoadError;
use crate::plugin::{HostStruct, Library, LoadOptions, Sha256};
use crate::types::StructName;
use crate::vm::Import;
use crate::vm::ctx::CallCtx;

impl Inner {
    /// One bind, reload or rollback of the library at `path`: load, check
    /// every affected slot, carry the state, publish; or change nothing.
    pub(super) fn transact(
        &self,
        path: &Path,
        assign: Assign<'_>,
        options: &ReloadOptions,
        source: Source,
    ) -> Result<ReloadReport, SlotError> {
        let (assign, whole_bind) = match assign {
            Assign::Slots(slots) => (slots, false),
            Assign::Exported => (&[][..], true),
        };
        let started = Instant::now();
        let load_error = |source: LoadError| SlotError::Load {
            path: path.to_owned(),
            source,
        };
        // A linked plugin is checked first: its key is its name.
        let (key, linked) = match &source {
            Source::Linked(plugin) => {
                let library = Library::linked(plugin).map_err(load_error)?;
                (
                    library.source().to_owned(),
                    Some(Loaded::Local(Box::new(library))),
                )
            }
            // A linked plugin's name is its key; a file's, its canonical path.
            Source::File | Source::Previous
                if path.to_str().is_some_and(|p| p.starts_with("linked:")) =>
            {
                (path.to_owned(), None)
            }
            // Bindings are keyed by the path as given, made absolute: a
            // symbolic link re-pointed to another build is the same library.
            Source::File | Source::Previous => (
                std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
                None,
            ),
        };
        let mut w = self.writer();
        if let Some(&(slot, _)) = assign
            .iter()
            .find(|(s, _)| *s >= HANDLE_BASE || !w.decls.contains_key(s))
        {
            return Err(SlotError::UnknownSlot {
                slot,
                declared: w.declared(),
            });
        }

        // The slots this transaction moves, with the symbol each binds.
        // In slot order (that of `w.slots`), each slot once.
        let mut affected: Vec<(u32, Arc<str>)> = w
            .slots
            .iter()
            // Keys are made absolute the same way, separators collapsed
            // and `.` removed, so equal paths have equal bytes: compared as
            // bytes, not component by component.
            .filter(|(_, b)| b.key.as_os_str() == key.as_os_str())
            .map(|(s, b)| (*s, Arc::clone(&b.symbol)))
            .collect();
        for &(slot, symbol) in assign {
            let symbol: Arc<str> = Arc::from(symbol.unwrap_or(&w.decls[&slot].name));
            match affected.binary_search_by_key(&slot, |a| a.0) {
                Ok(i) => affected[i].1 = symbol,
                Err(i) => affected.insert(i, (slot, symbol)),
            }
        }
        let state = w.libraries.get(&key);
        // A library bound as a whole serves every import it exports.
        let whole = whole_bind || state.is_some_and(|s| s.whole);
        if affected.is_empty() && !whole {
            return Err(SlotError::NotBound { path: key });
        }

        // Load.
        let pin = options.sha256.or(state.and_then(|s| s.pin));
        let isolate = options
            .isolate
            .clone()
            .or_else(|| state.and_then(|s| s.isolate.clone()));
        // What serves now, when only a change of content should reload.
        let serving = state
            .filter(|s| options.if_changed && assign.is_empty() && !s.current.is_linked())
            .and_then(|s| Some((s.current.sha256().ok()?, &s.current)));
        let library = match linked {
            Some(library) => library,
            None => {
                let build = load_build(
                    &source,
                    &key,
                    state,
                    serving.map(|s| s.0),
                    isolate.as_ref(),
                    self.jit(),
                    || {
                        let mut load = self.load_options();
                        load.pin = pin;
                        load
                    },
                )?;
                match (build, serving) {
                    (Some(library), _) => library,
                    (None, Some((_, current))) => {
                        return Ok(unchanged(&key, current, started.elapsed()));
                    }
                    (None, None) => unreachable!("only a serving build can be unchanged"),
                }
            }
        };
        hand_over_host_table(&w, &library, &key)?;
        if whole {
            for (slot, import) in &w.decls {
                if !w.slots.contains_key(slot)
                    && library.info().function(&import.name).is_some()
                    && let Err(i) = affected.binary_search_by_key(slot, |a| a.0)
                {
                    affected.insert(i, (*slot, Arc::from(import.name.as_str())));
                }
            }
        }

        // Check every affected slot against its import.
        let mut bindings = Vec::with_capacity(affected.len());
        let mut swaps = Vec::with_capacity(affected.len());
        for (slot, symbol) in affected {
            let import = &w.decls[&slot];
            let bound = w.slots.get(&slot);
            let running = bound.map(|b| b.binding.function());
            let index = check_slot(
                slot,
                import,
                &library,
                &key,
                &symbol,
                running.map(|f| &f.version),
                options.allow_downgrade,
                &w.structs,
            )?;
            let function = &library.info().functions[index];
            // The names are the symbols bound, shared, not copied.
            swaps.push(Swap {
                slot,
                from: bound.map(|b| (Arc::clone(&b.symbol), b.binding.function().version.clone())),
                function: Arc::clone(&symbol),
                to: function.version.clone(),
            });
            bindings.push((slot, symbol, index));
        }

        // A script module's imports: each through a handle of this table.
        let imports = match library.script() {
            Some(script) => resolve_imports(&w, script, &key)?,
            None => Vec::new(),
        };

        // Carry the state from the build being replaced.
        let from = state.map(|s| Arc::clone(&s.current));
        let old_imports = state.map(|s| s.imports.clone()).unwrap_or_default();
        let transfer = from.as_ref().and_then(|old| carry_state(old, &library));

        // Every check passed: the build is bound, and numbered.
        let library = Arc::new(Build::bind(library, w.next_generation()));

        // Publish.
        w.remove_handles(&old_imports);
        let imports = declare_imports(&mut w, &library, imports);
        let shared_key: Arc<Path> = Arc::from(key.as_path());
        for (slot, symbol, index) in bindings {
            w.slots.insert(
                slot,
                Bound {
                    binding: Binding {
                        library: Arc::clone(&library),
                        index,
                    },
                    key: Arc::clone(&shared_key),
                    symbol,
                },
            );
        }
        let previous = from.as_ref().map(|old| Previous {
            origin: old.origin(),
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
            unchanged: false,
        };
        w.libraries.insert(
            key,
            LibState {
                current: library,
                previous,
                pin,
                isolate,
                whole,
                imports,
            },
        );
        w.forget_unused_libraries();
        self.publish(&w);
        drop(w);
        Ok(ReloadReport {
            took: started.elapsed(),
            ..report
        })
    }
}

/// One import of a script module, checked: the library serving it and
/// where its function is.
struct Resolved {
    import: Import,
    key: Arc<Path>,
    library: Arc<Build>,
    index: usize,
}

/// Finds, for each import of `script` (the module at `key`), the one other
/// library of the table that exports it, and checks its function as a typed
/// handle's is checked.
fn resolve_imports(
    w: &super::table::Writer,
    script: &crate::script::ScriptModule,
    key: &Path,
) -> Result<Vec<Resolved>, SlotError> {
    let mut resolved = Vec::new();
    for import in &script.program.program().imports {
        let refused = |problem: String| SlotError::ScriptImport {
            path: key.to_owned(),
            slot: import.slot,
            function: import.name.clone(),
            problem,
        };
        let mut exporting: Vec<(&std::path::PathBuf, &LibState)> = w
            .libraries
            .iter()
            .filter(|(k, l)| {
                k.as_path() != key && l.current.info().function(&import.name).is_some()
            })
            .collect();
        exporting.sort_by(|a, b| a.0.cmp(b.0));
        let (lib_key, lib) = match exporting.as_slice() {
            [] => {
                return Err(refused(
                    "no library bound in the table exports (bind it before the module)".into(),
                ));
            }
            [one] => *one,
            several => {
                let names: Vec<String> = several
                    .iter()
                    .map(|(k, _)| format!("`{}`", k.display()))
                    .collect();
                return Err(refused(format!(
                    "several libraries export: {}",
                    names.join(", ")
                )));
            }
        };
        let index = check_slot(
            import.slot,
            import,
            &lib.current,
            lib_key,
            &import.name,
            None,
            false,
            &w.structs,
        )
        .map_err(|e| refused(format!("`{}` cannot serve: {e}", lib_key.display())))?;
        resolved.push(Resolved {
            import: import.clone(),
            key: Arc::from(lib_key.as_path()),
            library: Arc::clone(&lib.current),
            index,
        });
    }
    Ok(resolved)
}

/// Declares a handle for each resolved import of the script module
/// `library` (none for another build), tells the module their numbers, and
/// returns them.
fn declare_imports(
    w: &mut super::table::Writer,
    library: &Build,
    imports: Vec<Resolved>,
) -> Vec<u32> {
    let Some(script) = library.script() else {
        return Vec::new();
    };
    let mut handles = Vec::with_capacity(imports.len());
    let mut by_slot = Vec::with_capacity(imports.len());
    for r in imports {
        let h = (HANDLE_BASE..=u32::MAX)
            .find(|s| !w.decls.contains_key(s))
            .expect("fewer than 2^32 - 65536 handles");
        by_slot.push((r.import.slot, h));
        w.slots.insert(
            h,
            Bound {
                binding: Binding {
                    library: r.library,
                    index: r.index,
                },
                key: r.key,
                symbol: Arc::from(r.import.name.as_str()),
            },
        );
        w.decls.insert(
            h,
            Import {
                slot: h,
                ..r.import
            },
        );
        w.handle_users.insert(h, 1);
        handles.push(h);
    }
    by_slot.sort_unstable();
    script.set_imports(by_slot.into());
    handles
}

/// Hands a new build the host callback table it asks for, once its name,
/// version and layout are checked: before any of its code runs on the
/// table's behalf (its state hook, its functions).
fn hand_over_host_table(
    w: &super::table::Writer,
    library: &Loaded,
    key: &Path,
) -> Result<(), SlotError> {
    let Some(request) = &library.info().host else {
        return Ok(());
    };
    let Some(table) = w.host_tables.get(request.name.as_str()) else {
        return Err(SlotError::HostTableMissing {
            path: key.to_owned(),
            name: request.name.clone(),
            version: request.version,
        });
    };
    let (major, minor) = request.version;
    if table.version.0 != major || table.version.1 < minor {
        return Err(SlotError::HostTableVersion {
            path: key.to_owned(),
            name: request.name.clone(),
            needed: request.version,
            provided: table.version,
        });
    }
    // A plugin of an older minor sees the first fields only.
    let prefix = minor < table.version.1;
    table
        .definition
        .compare_layout(&request.layout, prefix)
        .map_err(|problem| SlotError::HostTableLayout {
            path: key.to_owned(),
            name: request.name.clone(),
            problem,
        })?;
    // SAFETY: the library's export asked for a table of this name, version
    // and layout, all checked; the table is `'static`; `set` is the
    // library's entry for it, taking the table's address.
    unsafe { (request.set.0)(table.table) };
    Ok(())
}

/// What a reload of a file with the same bytes as `current` reports.
fn unchanged(key: &Path, current: &Build, took: Duration) -> ReloadReport {
    ReloadReport {
        library: key.to_owned(),
        plugin: current.info().name.clone(),
        version: current.info().version.clone(),
        from_generation: Some(current.generation()),
        to_generation: current.generation(),
        swaps: Vec::new(),
        state: None,
        took,
        unchanged: true,
    }
}

/// Loads the build `source` names for the library `key` (whose state is
/// `state`, if bound), with the options `load` gives; `None` when
/// `unless` is the SHA-256 of the file's content.
fn load_build(
    source: &Source,
    key: &Path,
    state: Option<&LibState>,
    unless: Option<Sha256>,
    isolate: Option<&crate::isolate::IsolateOptions>,
    jit: crate::vm::JitOptions,
    load: impl FnOnce() -> LoadOptions,
) -> Result<Option<Loaded>, SlotError> {
    let origin = match (source, state) {
        (Source::Linked(plugin), _) => Origin::Linked(*plugin),
        // A linked plugin's source is the host itself.
        (Source::File, Some(s)) if s.current.is_linked() => s.current.origin(),
        (Source::File, _) => {
            let load = load();
            // SAFETY: this table's files are vouched for by its creator
            // (`SlotTable::with_options`' contract).
            return unsafe { build::open(key, &load, isolate, unless, jit) };
        }
        (Source::Previous, state) => state
            .and_then(|s| s.previous.as_ref())
            .ok_or_else(|| SlotError::NoPrevious {
                path: key.to_owned(),
            })?
            .origin
            .clone(),
    };
    let load = match origin {
        Origin::Linked(_) => LoadOptions::default(),
        _ => load(),
    };
    origin.load(key, &load).map(Some)
}

/// Checks that `library`'s `symbol` may serve `slot` (a program slot or a
/// typed handle): it exists, has the import's signature, satisfies its
/// requirement, and is not older than the running version unless
/// downgrades are allowed. Returns where the function is in the library's
/// descriptor.
#[expect(
    clippy::too_many_arguments,
    reason = "each is one thing the check compares; a struct would only name them again"
)]
pub(super) fn check_slot(
    slot: u32,
    import: &Import,
    library: &Loaded,
    path: &Path,
    symbol: &str,
    running: Option<&Version>,
    allow_downgrade: bool,
    structs: &HashMap<StructName, Arc<HostStruct>>,
) -> Result<usize, SlotError> {
    let info = library.info();
    let Some(index) = info.index_of(symbol) else {
        return Err(SlotError::FunctionMissing {
            slot,
            path: path.to_owned(),
            function: symbol.to_owned(),
            available: info.functions.iter().map(|f| f.name.clone()).collect(),
        });
    };
    let f = &info.functions[index];
    if f.signature != import.signature {
        return Err(SlotError::Signature {
            slot,
            function: f.name.clone(),
            expected: import.signature.clone(),
            found: f.signature.clone(),
        });
    }
    // The application's types it takes: as the host lays them out.
    for (i, ty) in f.signature.params.iter().enumerate() {
        let Some(name) = ty.struct_name() else {
            continue;
        };
        let Some(host) = structs.get(&name) else {
            return Err(SlotError::UnknownStruct {
                slot,
                function: f.name.clone(),
                type_name: name.to_string(),
            });
        };
        let theirs = f.structs.get(i).and_then(Option::as_ref);
        let problem = match theirs {
            Some(theirs) => host.compare(theirs).err(),
            None => Some("the plugin gives no layout".into()),
        };
        if let Some(problem) = problem {
            return Err(SlotError::Layout {
                slot,
                function: f.name.clone(),
                path: path.to_owned(),
                type_name: name.to_string(),
                problem,
            });
        }
    }
    let matches = match (&import.requirement, running) {
        (Some(req), _) => req.matches(&f.version),
        // What `same_major(running)` matches, without building it: the
        // same major and no pre-release (semver's rule for a comparator
        // without one).
        (None, Some(running)) => f.version.major == running.major && f.version.pre.is_empty(),
        (None, None) => true,
    };
    if !matches {
        let (expected, from_running) = match (&import.requirement, running) {
            (Some(req), _) => (req.clone(), false),
            (None, Some(running)) => (same_major(running), true),
            (None, None) => unreachable!("every version matches no requirement"),
        };
        return Err(SlotError::Version {
            slot,
            function: f.name.clone(),
            expected,
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
    Ok(index)
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
fn carry_state(old: &Loaded, new: &Loaded) -> Option<StateTransfer> {
    let (save, load) = (old.info().state?, new.info().state?);
    let bytes = match save_state(old, save.save) {
        Ok(bytes) => bytes,
        Err(message) => return Some(StateTransfer::SaveFailed { message }),
    };
    Some(match load_state(new, load.load, save.version, &bytes) {
        Ok(()) => StateTransfer::Carried {
            version: save.version,
            bytes: bytes.len(),
        },
        Err(message) => StateTransfer::Refused {
            version: save.version,
            message,
        },
    })
}

/// The state `library` saves with its hook `save`, in this process or in
/// its worker.
fn save_state(library: &Loaded, save: crate::plugin::SaveHook) -> Result<Vec<u8>, String> {
    #[cfg(target_os = "linux")]
    if let Some(remote) = library.worker() {
        return remote.save_state();
    }
    #[cfg(not(target_os = "linux"))]
    let _ = library;
    let mut ctx = CallCtx::new(0);
    let ctx_ptr: *mut CallCtx = &mut ctx;
    // SAFETY: the hook comes from the library's checked descriptor and the
    // library is loaded; the context is valid for the call.
    let status = unsafe { save(CallCtx::as_abi(ctx_ptr)) };
    if status != HsStatus::OK || ctx.fault.is_some() {
        return Err(match ctx.fault {
            Some(f) => format!("the plugin passed {f}"),
            None => ctx.take_error(),
        });
    }
    Ok(std::mem::take(&mut ctx.bytes))
}

/// Loads `bytes`, a state of format `version`, into `library` with its hook
/// `load`, in this process or in its worker.
fn load_state(
    library: &Loaded,
    load: crate::plugin::LoadHook,
    version: u32,
    bytes: &[u8],
) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    if let Some(remote) = library.worker() {
        return remote.load_state(version, bytes);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = library;
    let mut ctx = CallCtx::new(0);
    let ctx_ptr: *mut CallCtx = &mut ctx;
    // SAFETY: as for the save; `bytes` outlives the call.
    let status = unsafe {
        load(
            CallCtx::as_abi(ctx_ptr),
            version,
            HsBytes::from_slice(bytes),
        )
    };
    if status == HsStatus::OK {
        Ok(())
    } else {
        Err(ctx.take_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check without a requirement accepts exactly what `same_major`
    /// of the running version matches.
    #[test]
    fn the_same_major_shortcut_agrees_with_its_requirement() {
        let versions = [
            "0.9.0",
            "1.0.0",
            "1.0.1",
            "1.9.9",
            "1.2.0-beta.1",
            "1.0.0+build",
            "2.0.0",
            "2.0.0-rc.1",
        ];
        for running in versions {
            let running = Version::parse(running).unwrap();
            let req = same_major(&running);
            for found in versions {
                let found = Version::parse(found).unwrap();
                let shortcut = found.major == running.major && found.pre.is_empty();
                assert_eq!(shortcut, req.matches(&found), "{req} against {found}");
            }
        }
    }
}
