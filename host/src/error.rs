//! Every error the library reports, one enum per area. (The snapshot
//! format's, `snapshot::SnapshotError`, is with the optional `snapshot`
//! module; the command line's are in the binary.)
//!
//! Each variant names what was expected and what was found. Messages are
//! lowercase without a trailing period; a wrapped cause is reachable through
//! [`std::error::Error::source`] and is not repeated in the message.

use std::path::PathBuf;

use semver::{Version, VersionReq};

use crate::types::{Signature, ValType};

/// A plugin or function name that cannot be used.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("it is empty")]
    Empty,
    /// The name is longer than the ABI allows.
    #[error("it is {found} bytes long, more than the {max} allowed")]
    TooLong {
        /// The limit.
        max: usize,
        /// Its length.
        found: usize,
    },
    /// The name's pointer is null but its length is not zero.
    #[error("its pointer is null with a length of {len}")]
    Null {
        /// The length given.
        len: usize,
    },
    /// The name is not UTF-8.
    #[error("it is not UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// A function name is not an identifier.
    #[error("`{name}` is not an identifier (a letter or `_`, then letters, digits, `_`)")]
    NotIdentifier {
        /// The name.
        name: String,
    },
    /// A plugin name holds a control character.
    #[error("\"{name}\" holds a control character")]
    Control {
        /// The name, escaped.
        name: String,
    },
}

/// A plugin descriptor that breaks the ABI.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AbiError {
    /// `hotslot_plugin()` returned null.
    #[error("descriptor pointer is null: `hotslot_plugin()` returned NULL")]
    NullDescriptor,
    /// What `hotslot_plugin_ext()` returned does not hold together.
    #[error("`hotslot_plugin_ext()`: {what}: {reason}")]
    Ext {
        /// The part.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A parameter of an application's type whose layout the plugin does
    /// not give.
    #[error(
        "`{function}` takes parameter {index} as `{tag}` without giving the type's layout (in `hotslot_plugin_ext`)"
    )]
    MissingLayout {
        /// The function.
        function: String,
        /// The parameter.
        index: usize,
        /// Its tag's name.
        tag: &'static str,
    },
    /// A type tag of a later minor version than the plugin says it has.
    #[error(
        "`{function}` uses type tag {tag} ({name}) in {position}, which ABI {since} added; the plugin says it was built for ABI {found}"
    )]
    TagTooNew {
        /// The function.
        function: String,
        /// `parameter N` or `return type`.
        position: String,
        /// The tag.
        tag: u8,
        /// Its name.
        name: &'static str,
        /// The minor version that added it.
        since: &'static str,
        /// The plugin's ABI version.
        found: hotslot_plugin_api::AbiVersion,
    },
    /// A descriptor or table is not aligned for its type.
    #[error("{what} at {address:#x} is not aligned for its type")]
    Misaligned {
        /// Which structure.
        what: String,
        /// Its address.
        address: usize,
    },
    /// The descriptor does not start with `HS_MAGIC`.
    #[error("bad descriptor magic: expected {expected:#x} (`HSLT`), found {found:#x}")]
    BadMagic {
        /// `HS_MAGIC`.
        expected: u32,
        /// What the descriptor holds.
        found: u32,
    },
    /// The plugin was built for another ABI major version.
    #[error("ABI major version mismatch: expected {expected}, found {found}")]
    AbiMajor {
        /// This host's major version.
        expected: u16,
        /// The plugin's.
        found: u16,
    },
    /// A struct is smaller than this ABI version requires.
    #[error(
        "{what} is too small: expected `struct_size` of at least {expected} bytes, found {found}"
    )]
    StructTooSmall {
        /// Which struct.
        what: String,
        /// The smallest size this host accepts.
        expected: usize,
        /// The size the plugin declares.
        found: u32,
    },
    /// The plugin's name is unusable.
    #[error("plugin name is invalid: {reason}")]
    PluginName {
        /// What is wrong.
        reason: NameError,
    },
    /// A function's name is unusable.
    #[error("name of function {index} is invalid: {reason}")]
    FunctionName {
        /// Position in the table.
        index: usize,
        /// What is wrong.
        reason: NameError,
    },
    /// The function table is longer than the ABI allows.
    #[error("too many functions: at most {max}, found {found}")]
    TooManyFunctions {
        /// The limit.
        max: usize,
        /// The count given.
        found: usize,
    },
    /// The function table pointer is null but its count is not zero.
    #[error("function table is null but its count is {count}")]
    NullFunctionTable {
        /// The count given.
        count: usize,
    },
    /// An entry of the function table is null.
    #[error("function descriptor {index} is null")]
    NullFunction {
        /// Position in the table.
        index: usize,
    },
    /// A function takes more parameters than the ABI allows.
    #[error("`{function}` has too many parameters: at most {max}, found {found}")]
    TooManyParams {
        /// The function.
        function: String,
        /// The limit.
        max: usize,
        /// The count given.
        found: usize,
    },
    /// A function's parameter array is null but its count is not zero.
    #[error("`{function}` has a null parameter array but a count of {count}")]
    NullParams {
        /// The function.
        function: String,
        /// The count given.
        count: usize,
    },
    /// A type tag this host does not know.
    #[error(
        "`{function}` has unknown type tag {tag} in {position}: expected {}",
        crate::types::KNOWN_TAGS
    )]
    UnknownType {
        /// The function.
        function: String,
        /// `parameter N` or `return type`.
        position: String,
        /// The tag.
        tag: u8,
    },
    /// A parameter declared `void`.
    #[error("`{function}` declares parameter {index} as void")]
    VoidParam {
        /// The function.
        function: String,
        /// The parameter.
        index: usize,
    },
    /// A function without an entry point.
    #[error("`{function}` has a null entry point")]
    NullEntry {
        /// The function.
        function: String,
    },
    /// Two functions with one name.
    #[error("duplicate function name `{name}`")]
    DuplicateFunction {
        /// The name.
        name: String,
    },
}

/// Why a library could not be loaded as a plugin.
///
/// Loading checks, in order: the trust policy, the file, the shared library,
/// the descriptor's head, the layout (Rust plugins), the whole descriptor,
/// and `get_version`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// There is no file at the path.
    #[error("library file `{path}` does not exist")]
    FileMissing {
        /// The path.
        path: PathBuf,
    },
    /// The path is not a regular file.
    #[error("`{path}` is not a regular file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// An isolated build could not be started in its worker process.
    #[error("cannot start `{path}` in a worker process")]
    Isolate {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<crate::isolate::IsolateError>,
    },
    /// The file could not be read or copied.
    #[error("cannot read library `{path}`")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The trust policy refused the file before it was opened.
    #[error(transparent)]
    Untrusted(#[from] TrustError),
    /// The file is larger than the table loads.
    #[error(
        "`{path}` is {size} bytes, more than the {limit} a library may have \
         (`TableOptions::max_library_size`, `--max-library-size`)"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The file is not a shared library the system's loader could open.
    #[error("`{path}` is not a loadable shared library: {reason}")]
    NotSharedLibrary {
        /// The path.
        path: PathBuf,
        /// What the dynamic loader said.
        reason: String,
    },
    /// The library was built for another machine.
    #[error("`{path}` is built for {found}; this host is {host}")]
    Architecture {
        /// The path.
        path: PathBuf,
        /// The machine it was built for.
        found: String,
        /// This host's.
        host: String,
    },
    /// An export the host calls is not a function.
    #[error("`{symbol}` in `{path}` is {found}; it must be {expected}")]
    NotAFunction {
        /// The path.
        path: PathBuf,
        /// The export.
        symbol: &'static str,
        /// What it is.
        found: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A required export is missing.
    #[error("`{path}` does not export `{symbol}`; is it a hotslot plugin?")]
    SymbolMissing {
        /// The path.
        path: PathBuf,
        /// The export.
        symbol: &'static str,
    },
    /// The descriptor breaks the ABI.
    #[error(transparent)]
    Abi(#[from] AbiError),
    /// `abi_stable` found the Rust plugin's types laid out differently.
    #[error(
        "layout mismatch: the plugin's `HsPluginDescriptor` differs from the host's: {details}"
    )]
    Layout {
        /// What `abi_stable` reported, on one line.
        details: String,
    },
    /// The Rust plugin was built with an `abi_stable` of another ABI.
    #[error(
        "layout header mismatch: the plugin's `abi_stable` is ABI {found}, the host's is ABI {expected}"
    )]
    LayoutHeader {
        /// The host's `abi_stable` ABI version.
        expected: String,
        /// The plugin's.
        found: String,
    },
    /// `get_version()` disagrees with the descriptor's major version.
    #[error(
        "`get_version()` returned {found} but the descriptor's version is {descriptor} (major {expected})"
    )]
    GetVersionMismatch {
        /// The descriptor's major version.
        expected: u64,
        /// What `get_version()` returned.
        found: i32,
        /// The descriptor's whole version.
        descriptor: Version,
    },
    /// The descriptor or `get_version()` changed between two reads.
    #[error("the plugin's descriptor changed between two reads: {what}")]
    Unstable {
        /// What changed.
        what: String,
    },
    /// The private copy could not be made.
    #[error("cannot make the private copy of the library in {place}")]
    Copy {
        /// Where it was to go.
        place: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The private copy changed between its writing and its sealing.
    #[error(
        "the private copy `{copy}` changed before it was sealed; something else writes to this process's files"
    )]
    CopyChanged {
        /// The copy, as listings name it.
        copy: String,
    },
    /// The directory chosen for private copies is not private.
    #[error(
        "cannot keep private copies in `{dir}`: {reason}; it must be a directory of yours that no one else can use (mode 0700; on Windows, an access list that lets only you in)"
    )]
    CopyDir {
        /// The directory.
        dir: PathBuf,
        /// What is wrong with it.
        reason: CopyDirError,
    },
    /// The file's content hash is not the one the caller pinned.
    #[error("`{path}` has SHA-256 {found}, expected {expected}")]
    HashMismatch {
        /// The path.
        path: PathBuf,
        /// The pinned hash.
        expected: crate::plugin::Sha256,
        /// The file's hash.
        found: crate::plugin::Sha256,
    },
}

/// Why a directory cannot hold private copies of libraries.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CopyDirError {
    /// Others may enter or write to it.
    #[error("it has mode {mode:04o}, which lets other users in")]
    OpenToOthers {
        /// Its permission bits.
        mode: u32,
    },
    /// It belongs to another user.
    #[error("it belongs to user {owner}, not to this user ({uid})")]
    ForeignOwner {
        /// Its owner.
        owner: u32,
        /// This process's user.
        uid: u32,
    },
    /// Windows: its access list lets an account other than this user and
    /// the system's own (SYSTEM, Administrators, TrustedInstaller) in.
    #[error("its access list lets {account} in (access mask {access:#x}); only this user may")]
    OpenToAccount {
        /// The account, with its SID.
        account: String,
        /// The rights it is allowed.
        access: u32,
    },
    /// Windows: it belongs to an account other than this user and the
    /// system's own.
    #[error("it belongs to {owner}, not to this user ({user})")]
    OwnedByAccount {
        /// Its owner, with its SID.
        owner: String,
        /// This process's user, with its SID.
        user: String,
    },
    /// It is a symbolic link (which someone could re-point).
    #[error("it is a symbolic link")]
    Symlink,
    /// It is not a directory.
    #[error("it is not a directory")]
    NotADirectory,
    /// Its metadata cannot be read.
    #[error("{reason}")]
    Unreadable {
        /// What the system said.
        reason: String,
    },
}

/// The trust policy refused a library before opening it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The file, or a directory above it, can be written by other users.
    #[error(
        "`{path}` is writable by other users (mode {mode:04o}); anyone could swap the code this process runs; fix the permissions or allow it explicitly"
    )]
    WritableByOthers {
        /// The file or directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file, or a directory above it, belongs to another user.
    #[error("`{path}` belongs to user {owner}, neither this user ({uid}) nor root")]
    ForeignOwner {
        /// The file or directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// This process's user.
        uid: u32,
    },
    /// Windows: the access list of the file, or of a directory above it,
    /// lets an account other than this user and the system's own (SYSTEM,
    /// Administrators, TrustedInstaller) change or replace it.
    #[error(
        "`{path}` can be changed or replaced by {account} (access mask {access:#x}); anyone who is that account could swap the code this process runs; fix its access list or allow it explicitly"
    )]
    WritableByAccount {
        /// The file or directory.
        path: PathBuf,
        /// The account, with its SID.
        account: String,
        /// The rights its access list allows that account.
        access: u32,
    },
    /// Windows: the file, or a directory above it, belongs to an account
    /// other than this user and the system's own.
    #[error(
        "`{path}` belongs to {owner}, neither this user ({user}) nor SYSTEM, Administrators or TrustedInstaller"
    )]
    OwnedByAccount {
        /// The file or directory.
        path: PathBuf,
        /// Its owner, with its SID.
        owner: String,
        /// This process's user, with its SID.
        user: String,
    },
}

/// A slot operation that was refused. The slot table is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlotError {
    /// The library could not be loaded.
    #[error("cannot load `{path}`")]
    Load {
        /// The library.
        path: PathBuf,
        /// The cause.
        #[source]
        source: LoadError,
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
    #[error("{}: `{path}` has no function `{function}`{}", SlotName(*.slot), available_list(.available))]
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

fn available_list(available: &[String]) -> String {
    if available.is_empty() {
        " (it exports none)".into()
    } else {
        format!(" (it exports `{}`)", available.join("`, `"))
    }
}

fn requirement_origin(from_running: &bool) -> &'static str {
    if *from_running {
        " (same major as the running build)"
    } else {
        " (the import's requirement)"
    }
}

/// A syntax error in assembly text, with where it is.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct AsmError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong.
    pub kind: AsmErrorKind,
}

/// What is wrong with a line of assembly.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AsmErrorKind {
    /// No instruction has this mnemonic.
    #[error("unknown instruction `{name}`")]
    UnknownInstruction {
        /// The mnemonic.
        name: String,
    },
    /// No directive has this name.
    #[error("unknown directive `{name}` (expected `.import`, `.func`, `.local` or `.end`)")]
    UnknownDirective {
        /// The directive.
        name: String,
    },
    /// Something else was expected here.
    #[error("expected {what}")]
    Expected {
        /// What was expected.
        what: &'static str,
    },
    /// A token that does not belong here.
    #[error("unexpected `{found}`")]
    Unexpected {
        /// The token.
        found: String,
    },
    /// A number that does not fit its type.
    #[error("`{text}` is out of range for {ty}")]
    OutOfRange {
        /// The number.
        text: String,
        /// The type.
        ty: &'static str,
    },
    /// A constant that does not parse as its type.
    #[error("`{text}` is not a constant of {ty}")]
    BadConstant {
        /// The text.
        text: String,
        /// The type.
        ty: &'static str,
    },
    /// A type name that does not exist.
    #[error("unknown type `{name}` (expected i32, i64, f64, bool or str)")]
    UnknownType {
        /// The name.
        name: String,
    },
    /// A name that is not an identifier.
    #[error("`{name}` is not a valid name (a letter or `_`, then letters, digits, `_`)")]
    BadName {
        /// The name.
        name: String,
    },
    /// A version requirement that does not parse.
    #[error("invalid version requirement `{text}`: {reason}")]
    BadRequirement {
        /// The text.
        text: String,
        /// What the parser said.
        reason: String,
    },
    /// A slot number past the limit.
    #[error("slot {slot} is larger than {max}, the largest slot number a program may import")]
    SlotTooLarge {
        /// The slot.
        slot: u64,
        /// The limit, `MAX_SLOT`.
        max: u32,
    },
    /// A slot imported twice.
    #[error("slot {slot} is already imported as `{first}`")]
    DuplicateSlot {
        /// The slot.
        slot: u32,
        /// The first import's name.
        first: String,
    },
    /// A label defined twice.
    #[error("label `{name}` is already defined on line {first_line}")]
    DuplicateLabel {
        /// The label.
        name: String,
        /// Where it was first defined.
        first_line: u32,
    },
    /// A function defined twice (`main` is the top-level code).
    #[error("function `{name}` is already defined")]
    DuplicateFunction {
        /// The name.
        name: String,
    },
    /// A local or parameter declared twice in one function.
    #[error("local `{name}` is already declared")]
    DuplicateLocal {
        /// The name.
        name: String,
    },
    /// `.func` inside a function.
    #[error("`.func` inside function `{outer}`: close it with `.end` first")]
    NestedFunction {
        /// The enclosing function.
        outer: String,
    },
    /// `.end` outside a function.
    #[error("`.end` outside a function")]
    StrayEnd,
    /// A function without its `.end`.
    #[error("function `{name}` has no `.end`")]
    UnclosedFunction {
        /// The function.
        name: String,
    },
    /// A string constant without its closing quote.
    #[error("unterminated string")]
    UnterminatedString,
    /// An escape that does not exist.
    #[error("unknown escape `{text}` (expected \\n, \\t, \\r, \\0, \\\\, \\\", \\u{{...}})")]
    BadEscape {
        /// The escape.
        text: String,
    },
    /// A jump to a label that is not defined.
    #[error("unknown label `{name}`")]
    UnknownLabel {
        /// The label.
        name: String,
    },
    /// A call to a function that is not defined.
    #[error("unknown function `{name}`")]
    UnknownFunction {
        /// The name.
        name: String,
    },
    /// A local that is not declared.
    #[error("function `{function}` has no local `{name}`")]
    UnknownLocal {
        /// The name.
        name: String,
        /// The function.
        function: String,
    },
    /// `CALL_NATIVE` naming an import that is not declared.
    #[error("no import is named `{name}`")]
    UnknownImport {
        /// The name.
        name: String,
    },
}

/// Bytes that are not a valid `.hsbc` program, with where.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("byte {offset}: {kind}")]
pub struct DecodeError {
    /// Offset of the problem in the input.
    pub offset: usize,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

/// What is wrong with a `.hsbc` input.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input does not start with `HSBC`.
    #[error("not a hotslot bytecode file: expected magic `HSBC`")]
    BadMagic,
    /// A format version this host does not read.
    #[error("unsupported bytecode version: expected {expected}, found {found}")]
    UnsupportedVersion {
        /// The version this host reads.
        expected: u8,
        /// The file's.
        found: u8,
    },
    /// The input ends in the middle of an item.
    #[error("unexpected end of input")]
    UnexpectedEnd,
    /// A varint longer than 64 bits.
    #[error("varint does not fit in 64 bits")]
    BadVarint,
    /// A number too large for its field.
    #[error("{value} is out of range for {ty}")]
    OutOfRange {
        /// The number.
        value: i128,
        /// The field's type.
        ty: &'static str,
    },
    /// A count larger than the bytes that remain.
    #[error("count {count} is larger than the {left} bytes that remain")]
    CountTooLarge {
        /// The count.
        count: u64,
        /// Bytes left.
        left: u64,
    },
    /// A string that is not UTF-8.
    #[error("string is not UTF-8")]
    NotUtf8,
    /// A slot number past the limit.
    #[error("slot {slot} is larger than {max}, the largest slot number a program may import")]
    SlotTooLarge {
        /// The slot.
        slot: u64,
        /// The limit, `MAX_SLOT`.
        max: u32,
    },
    /// A type tag that does not exist, or `void` where a value is needed.
    #[error("bad type tag {tag}: expected {expected}")]
    BadType {
        /// The tag.
        tag: u8,
        /// The tags allowed there.
        expected: &'static str,
    },
    /// An opcode that does not exist.
    #[error("unknown opcode {opcode:#04x}")]
    BadOpcode {
        /// The opcode.
        opcode: u8,
    },
    /// A version requirement that does not parse.
    #[error("invalid version requirement `{text}`")]
    BadRequirement {
        /// The text.
        text: String,
    },
    /// Bytes after the program.
    #[error("{count} bytes after the end of the program")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

/// A program the verifier refused, with where.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{}{kind}", location(.pc, .instr))]
pub struct VerifyError {
    /// The instruction, for errors in code.
    pub pc: Option<u32>,
    /// The instruction as assembly text.
    pub instr: Option<String>,
    /// What is wrong.
    pub kind: VerifyErrorKind,
}

fn location(pc: &Option<u32>, instr: &Option<String>) -> String {
    match (pc, instr) {
        (Some(pc), Some(i)) => format!("pc {pc} (`{i}`): "),
        (Some(pc), None) => format!("pc {pc}: "),
        _ => String::new(),
    }
}

/// Types written as assembly does: `(i32, str)`.
pub(crate) struct TypeList<'a>(pub &'a [ValType]);

impl std::fmt::Display for TypeList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(")?;
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{t}")?;
        }
        f.write_str(")")
    }
}

/// What the verifier found wrong.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyErrorKind {
    /// The program has no functions, so no entry point.
    #[error("the program has no entry function")]
    NoMain,
    /// The entry function takes parameters or returns a value.
    #[error("the entry function must be `() -> void`, found `{found}`")]
    MainSignature {
        /// Its signature.
        found: Signature,
    },
    /// A slot number past the limit.
    #[error("slot {slot} is larger than {max}, the largest slot number a program may import")]
    SlotTooLarge {
        /// The slot.
        slot: u32,
        /// The limit, `MAX_SLOT`.
        max: u32,
    },
    /// An import of a type VM programs have no values of.
    #[error(
        "the import of slot {slot} uses `{ty}`, which VM programs have no values of (the host calls such functions through typed handles)"
    )]
    NotAVmType {
        /// The slot.
        slot: u32,
        /// The type.
        ty: ValType,
    },
    /// Two imports of one slot.
    #[error("slot {slot} is imported twice")]
    DuplicateSlot {
        /// The slot.
        slot: u32,
    },
    /// An import takes more parameters than the ABI allows.
    #[error("the import of slot {slot} has {found} parameters, more than the {max} allowed")]
    TooManyParams {
        /// The slot.
        slot: u32,
        /// The limit.
        max: usize,
        /// The count.
        found: usize,
    },
    /// A name that is not an identifier.
    #[error("`{name}` is not a valid name")]
    BadName {
        /// The name.
        name: String,
    },
    /// Two functions with one name.
    #[error("function `{name}` is defined twice")]
    DuplicateFunction {
        /// The name.
        name: String,
    },
    /// Function code ranges that do not tile the code.
    #[error("function `{function}` covers {start}..{end}, expected to start at {expected_start}")]
    Layout {
        /// The function.
        function: String,
        /// Where it should start.
        expected_start: u32,
        /// Where it starts.
        start: u32,
        /// Where it ends.
        end: u32,
    },
    /// Code after the last function.
    #[error("instructions {from}..{len} belong to no function")]
    CodeOutsideFunctions {
        /// First such instruction.
        from: u32,
        /// Code length.
        len: usize,
    },
    /// A function without instructions.
    #[error("function `{function}` has no instructions")]
    EmptyFunction {
        /// The function.
        function: String,
    },
    /// A function with too many locals.
    #[error("function `{function}` has {found} locals, more than the {max} allowed")]
    TooManyLocals {
        /// The function.
        function: String,
        /// The limit.
        max: usize,
        /// The count.
        found: usize,
    },
    /// A function whose first locals are not its parameters.
    #[error("the first locals of `{function}` are not its parameters")]
    ParamsNotLocals {
        /// The function.
        function: String,
    },
    /// Too few values on the stack.
    #[error("stack underflow: needs {needed} values, found {found}")]
    Underflow {
        /// Values needed.
        needed: usize,
        /// Values there.
        found: usize,
    },
    /// Values of the wrong types.
    #[error("type mismatch: expected {}, found {}", TypeList(.expected), TypeList(.found))]
    TypeMismatch {
        /// The types needed.
        expected: Vec<ValType>,
        /// The types there.
        found: Vec<ValType>,
    },
    /// Arithmetic on a type that is not a number.
    #[error("arithmetic needs i32, i64 or f64, found {found}")]
    NotNumeric {
        /// The type there.
        found: ValType,
    },
    /// `<` and friends on booleans.
    #[error("ordering comparisons need i32, i64, f64 or str, found bool")]
    NotOrdered,
    /// A jump condition that is neither `i32` nor `bool`.
    #[error("a jump condition must be i32 or bool, found {found}")]
    BadCondition {
        /// The type there.
        found: ValType,
    },
    /// Two paths reach one instruction with different stacks.
    #[error("paths meet at pc {at} with different stacks: {} and {}", TypeList(.expected), TypeList(.found))]
    StackMismatch {
        /// Where they meet.
        at: u32,
        /// One path's stack.
        expected: Vec<ValType>,
        /// The other's.
        found: Vec<ValType>,
    },
    /// A local index past the function's locals.
    #[error("local {index} does not exist: the function has {count}")]
    BadLocal {
        /// The index.
        index: u32,
        /// Locals there are.
        count: usize,
    },
    /// A jump outside the current function.
    #[error("jump target {target} is outside `{function}` ({start}..{end})")]
    BadJump {
        /// The target.
        target: u32,
        /// The function.
        function: String,
        /// Its first instruction.
        start: u32,
        /// One past its last.
        end: u32,
    },
    /// `CALL` of a function that does not exist.
    #[error("function {index} does not exist")]
    UnknownFunction {
        /// The index.
        index: u32,
    },
    /// `CALL` of the entry function.
    #[error("the entry function cannot be called")]
    CallsMain,
    /// `CALL_NATIVE` of a slot no import declares.
    #[error("slot {slot} is not imported")]
    UnknownSlot {
        /// The slot.
        slot: u32,
    },
    /// `RET` with the wrong stack.
    #[error("`RET` needs exactly {} on the stack, found {}", TypeList(.expected), TypeList(.found))]
    Return {
        /// What the function returns.
        expected: Vec<ValType>,
        /// What is there.
        found: Vec<ValType>,
    },
    /// Execution would run past a function's last instruction.
    #[error("execution falls off the end of `{function}`: end it with `RET`, `HALT` or `JMP`")]
    FallsOffEnd {
        /// The function.
        function: String,
    },
    /// The operand stack grows past the limit.
    #[error("the operand stack grows past {limit} values")]
    StackLimit {
        /// The limit.
        limit: usize,
    },
}

/// A program whose imports a VM's natives cannot serve.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Nothing serves an imported slot.
    #[error("nothing serves slot {slot}")]
    Unserved {
        /// The slot.
        slot: u32,
    },
    /// The function serving a slot has another signature.
    #[error("slot {slot}: `{function}` is {found}, the program imports {expected}")]
    Signature {
        /// The slot.
        slot: u32,
        /// The function serving it.
        function: String,
        /// The import's signature.
        expected: Signature,
        /// The function's.
        found: Signature,
    },
    /// The system would not reserve the VM's stack (`VmOptions::stack_capacity`).
    #[error("cannot reserve a stack of {values} values: {reason}")]
    Stack {
        /// The capacity asked for.
        values: usize,
        /// The system's answer.
        reason: String,
    },
    /// A slot number past the limit.
    #[error("slot {slot} is larger than {max}, the largest slot number a table serves")]
    SlotTooLarge {
        /// The slot.
        slot: u32,
        /// The limit, `MAX_SLOT`.
        max: u32,
    },
    /// The slot table already declares the slot differently.
    #[error("slot {slot} is declared as `{existing}` and cannot be redeclared as `{requested}`")]
    Conflict {
        /// The slot.
        slot: u32,
        /// The existing import, as written in assembly.
        existing: String,
        /// The program's.
        requested: String,
    },
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

/// A run stopped by a fault, with the instruction that faulted.
#[derive(Debug, thiserror::Error)]
#[error("pc {pc} (`{instr}`): {fault}")]
pub struct VmError {
    /// The faulting instruction.
    pub pc: u32,
    /// It, as assembly text.
    pub instr: String,
    /// What went wrong.
    pub fault: Fault,
}

/// What stopped a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// Integer division or remainder by zero.
    #[error("division by zero")]
    DivideByZero,
    /// `MIN / -1` or `MIN % -1`.
    #[error("integer overflow")]
    Overflow,
    /// The stack cannot hold the next frame.
    #[error("stack overflow: the stack holds {capacity} values")]
    StackOverflow {
        /// Its capacity.
        capacity: usize,
    },
    /// Calls nest too deep.
    #[error("calls nest deeper than {max}")]
    CallDepth {
        /// The limit.
        max: usize,
    },
    /// `CALL_NATIVE` of a slot nothing is bound to.
    #[error("slot {slot} is unbound")]
    Unbound {
        /// The slot.
        slot: u32,
    },
    /// A native function returned an error.
    #[error("`{function}` (slot {slot}) returned an error: {message}")]
    Native {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// Its message.
        message: String,
    },
    /// A native function panicked; the plugin caught the panic.
    #[error("plugin panicked in `{function}` (slot {slot}): {message}")]
    Panic {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// The panic message.
        message: String,
    },
    /// An isolated function's worker gave no answer: it crashed, or it
    /// missed the call's deadline and was killed; the next call starts a
    /// new worker.
    #[error("`{function}` (slot {slot}) gave no answer: {failure}")]
    Isolated {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// Why.
        failure: crate::isolate::IsolatedFailure,
    },
    /// A native function returned a status the ABI does not define.
    #[error("`{function}` (slot {slot}) returned unknown status {status}")]
    BadStatus {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// The status.
        status: i32,
    },
    /// A native function passed something invalid to a callback.
    #[error("the function in slot {slot} passed {problem} to the host")]
    BadCallback {
        /// The slot.
        slot: u32,
        /// What it passed.
        problem: String,
    },
    /// A native function returning `str` succeeded without giving one.
    #[error("the function in slot {slot} returned no string")]
    NoStringResult {
        /// The slot.
        slot: u32,
    },
    /// `PRINT` could not write.
    #[error("cannot write output: {0}")]
    Output(std::io::Error),
    /// Code the verifier found unreachable was reached.
    #[error("unreachable code was executed")]
    Unreachable,
}

/// A state that does not fit the VM's program.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A faulted VM cannot be restored.
    #[error("a faulted run cannot be restored")]
    Faulted,
    /// The frames are not a call chain of this program stopped at that pc.
    #[error(
        "frames of functions {functions:?} stopped at pc {pc} are not a call chain of the program \
         (expected the entry function, then each callee at a `CALL` of its caller)"
    )]
    Frames {
        /// The function of each frame, by index, outermost first.
        functions: Vec<u32>,
        /// The state's pc.
        pc: u32,
    },
    /// A frame's values have other types than the program gives them there.
    #[error("frame of `{function}` holds {}, the program has {}", TypeList(.found), TypeList(.expected))]
    Types {
        /// The function.
        function: String,
        /// The types the program gives.
        expected: Vec<ValType>,
        /// The types of the values.
        found: Vec<ValType>,
    },
    /// More values than the stack holds.
    #[error("the state needs {needed} stack values, the VM holds {capacity}")]
    TooLarge {
        /// Values the state's frames need, at their deepest.
        needed: usize,
        /// The VM's stack capacity.
        capacity: usize,
    },
}

/// An error and its causes on one line: `what: why: root cause`.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
