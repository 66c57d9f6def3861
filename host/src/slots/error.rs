//! The slot table's errors: a bind, reload or rollback refused, a typed
//! handle's call that did not return a result.

use std::path::PathBuf;

use semver::{Version, VersionReq};

use crate::plugin::LoadError;
use crate::types::Signature;

/// A slot operation that was refused. The slot table is unchanged.
///
/// Its `Debug` is its message (`SlotError(typed handle 0: ...)`): the slot
/// numbers in its fields are the table's, and a typed handle's would read
/// as 65536 and up.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum SlotError {
    /// The library could not be loaded. The message names the loader's
    /// reason, which is also the error's source.
    #[error("cannot load `{}`: {source}", path.display())]
    Load {
        /// The library.
        path: PathBuf,
        /// The cause.
        #[source]
        source: LoadError,
    },
    /// A script module was refused: its file, its text or bytecode, its
    /// verification.
    #[error("script module {source}")]
    Script {
        /// The module's file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<crate::script::ScriptError>,
    },
    /// A script module's import that the table cannot serve.
    #[error(
        "script module `{}` imports `{function}` (slot {slot}), which {problem}",
        path.display()
    )]
    ScriptImport {
        /// The module's file.
        path: PathBuf,
        /// The import's slot in the module.
        slot: u32,
        /// The function imported.
        function: String,
        /// What is wrong.
        problem: String,
    },
    /// An isolated build could not be started in its worker process.
    #[error("cannot start `{}` in a worker process: {source}", path.display())]
    Isolate {
        /// The library.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::isolate::IsolateError,
    },
    /// No slot with that number is declared.
    #[error("slot {slot} is not declared{}", declared_list(.declared))]
    UnknownSlot {
        /// The slot asked for.
        slot: u32,
        /// The slots that are declared.
        declared: Vec<u32>,
    },
    /// The library does not export the function a slot asks for.
    #[error("{}: `{path}` has no function `{function}`{}", SlotName(*.slot), available_list(.function, .available))]
    FunctionMissing {
        /// The slot.
        slot: u32,
        /// The library.
        path: PathBuf,
        /// The function.
        function: String,
        /// The functions it does export.
        available: Vec<String>,
    },
    /// The function's signature differs from the slot's import.
    #[error("{}: signature mismatch for `{function}`: expected {expected}, found {found}", SlotName(*.slot))]
    Signature {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// The import's signature.
        expected: Signature,
        /// The function's.
        found: Signature,
    },
    /// The function's version does not satisfy the slot's requirement.
    #[error("{}: `{function}` {found} does not satisfy {expected}{}", SlotName(*.slot), requirement_origin(.from_running))]
    Version {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// The requirement.
        expected: VersionReq,
        /// The function's version.
        found: Version,
        /// Whether the requirement is the default one derived from the
        /// running version rather than the import's.
        from_running: bool,
    },
    /// The reload would lower a function's version.
    #[error(
        "{}: `{function}` {found} is older than the running {running}; ask for a downgrade (rollback) to allow it",
        SlotName(*.slot)
    )]
    Downgrade {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// The running version.
        running: Version,
        /// The new build's version.
        found: Version,
    },
    /// No slot is bound to that library.
    #[error("no slot is bound to `{path}`")]
    NotBound {
        /// The library.
        path: PathBuf,
    },
    /// A function takes an application's type that the plugin lays out
    /// differently from the host.
    #[error("{}: `{function}` in `{path}` takes `{type_name}`, which the plugin lays out differently: {problem}", SlotName(*.slot))]
    Layout {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// The library.
        path: PathBuf,
        /// The type.
        type_name: String,
        /// The first difference: the field, expected and found.
        problem: String,
    },
    /// A function takes an application's type the host does not define.
    #[error("{}: `{function}` takes `{type_name}`, a type the host does not define", SlotName(*.slot))]
    UnknownStruct {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// The type.
        type_name: String,
    },
    /// Two different types of the host carry one name.
    #[error(
        "two different types are named `{name}`: plugins identify the application's types by name"
    )]
    TypeConflict {
        /// The name.
        name: String,
    },
    /// A plugin needs a host callback table the table does not provide.
    #[error(
        "`{path}` needs the host callback table `{name}` {}.{}, which this table does not provide (see `SlotTable::provide_host_table`)",
        .version.0, .version.1
    )]
    HostTableMissing {
        /// The library.
        path: PathBuf,
        /// The table's name.
        name: String,
        /// The version the plugin was built against.
        version: (u32, u32),
    },
    /// A plugin needs a host callback table of a version the host's does
    /// not serve.
    #[error(
        "`{path}` needs the host callback table `{name}` {}.{}; the host provides {}.{} (the same major, and a minor at least the plugin's)",
        .needed.0, .needed.1, .provided.0, .provided.1
    )]
    HostTableVersion {
        /// The library.
        path: PathBuf,
        /// The table's name.
        name: String,
        /// The version the plugin was built against.
        needed: (u32, u32),
        /// The host's.
        provided: (u32, u32),
    },
    /// A plugin's view of a host callback table differs from the host's.
    #[error("`{path}` lays out the host callback table `{name}` differently: {problem}")]
    HostTableLayout {
        /// The library.
        path: PathBuf,
        /// The table's name.
        name: String,
        /// The first difference.
        problem: String,
    },
    /// A host callback table provided twice.
    #[error("the host callback table `{name}` is provided already")]
    HostTableTwice {
        /// The table's name.
        name: String,
    },
    /// No bound library exports the function a typed handle asks for.
    #[error("no bound library exports `{function}`{}", bound_list(.libraries))]
    FunctionNotFound {
        /// The function.
        function: String,
        /// The libraries bound.
        libraries: Vec<PathBuf>,
    },
    /// Several bound libraries export the function a typed handle asks
    /// for, and none was named.
    #[error("`{function}` is exported by several bound libraries ({}); name one (`FunctionOptions::library`)", paths(.libraries))]
    Ambiguous {
        /// The function.
        function: String,
        /// The libraries that export it.
        libraries: Vec<PathBuf>,
    },
    /// There is no earlier build to roll back to.
    #[error("`{path}` has no previous build to roll back to")]
    NoPrevious {
        /// The library.
        path: PathBuf,
    },
}

/// A slot as errors name it: `slot 3`, or `typed handle 0` for the slots
/// past `MAX_SLOT` that serve the host's typed handles.
pub(crate) struct SlotName(pub u32);

impl std::fmt::Display for SlotName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.checked_sub(crate::slots::HANDLE_BASE) {
            Some(handle) => write!(f, "typed handle {handle}"),
            None => write!(f, "slot {}", self.0),
        }
    }
}

fn paths(paths: &[PathBuf]) -> String {
    let list: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
    list.join(", ")
}

fn bound_list(libraries: &[PathBuf]) -> String {
    if libraries.is_empty() {
        " (no library is bound)".into()
    } else {
        format!(" (bound: {})", paths(libraries))
    }
}

fn declared_list(declared: &[u32]) -> String {
    if declared.is_empty() {
        " (no slots are declared)".into()
    } else {
        let list: Vec<String> = declared.iter().map(u32::to_string).collect();
        format!(" (declared: {})", list.join(", "))
    }
}

/// What a library exports, for a function it does not: the names near
/// the one asked for (a typo, a different case), else the first few.
fn available_list(wanted: &str, available: &[String]) -> String {
    const SHOWN: usize = 8;
    if available.is_empty() {
        return " (it exports none)".into();
    }
    let near = crate::types::near_names(wanted, available);
    if !near.is_empty() {
        return format!(" (did you mean `{}`?)", near.join("`, `"));
    }
    let more = match available.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let shown: Vec<&str> = available.iter().take(SHOWN).map(String::as_str).collect();
    format!(" (it exports `{}`{more})", shown.join("`, `"))
}

fn requirement_origin(from_running: &bool) -> &'static str {
    if *from_running {
        " (same major as the running build)"
    } else {
        " (the import's requirement)"
    }
}

/// A call through a typed handle that did not return a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The plugin function returned an error.
    #[error("`{function}` returned an error: {message}")]
    Native {
        /// The function.
        function: String,
        /// Its message.
        message: String,
    },
    /// The plugin function panicked; the plugin caught the panic.
    #[error("plugin panicked in `{function}`: {message}")]
    Panic {
        /// The function.
        function: String,
        /// The panic message.
        message: String,
    },
    /// An isolated function's worker gave no answer: it crashed, or it
    /// missed the call's deadline and was killed; the next call starts a
    /// new worker.
    #[error("`{function}` gave no answer: {failure}")]
    Isolated {
        /// The function.
        function: String,
        /// Why.
        failure: crate::isolate::IsolatedFailure,
    },
    /// The plugin function returned a status the ABI does not define.
    #[error("`{function}` returned unknown status {status}")]
    BadStatus {
        /// The function.
        function: String,
        /// The status.
        status: i32,
    },
    /// The plugin function passed something invalid to a callback.
    #[error("`{function}` passed {problem} to the host")]
    BadCallback {
        /// The function.
        function: String,
        /// What it passed.
        problem: String,
    },
    /// A function returning `str` succeeded without giving one.
    #[error("`{function}` returned no string")]
    NoStringResult {
        /// The function.
        function: String,
    },
    /// A function returning bytes succeeded without giving them.
    #[error("`{function}` returned no bytes")]
    NoBytesResult {
        /// The function.
        function: String,
    },
}

impl std::fmt::Debug for SlotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SlotError")
            .field(&format_args!("{}", crate::chain(self)))
            .finish()
    }
}
