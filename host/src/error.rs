//! Every error the host reports, one enum per area.
//!
//! Each variant names what was expected and what was found. Messages are
//! lowercase without a trailing period; a wrapped cause is reachable through
//! [`std::error::Error::source`] and is not repeated in the message.

use std::path::PathBuf;

use semver::{Version, VersionReq};

use crate::types::Signature;

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
    #[error("{what} is too small: expected `struct_size` of at least {expected} bytes, found {found}")]
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
    #[error("`{function}` has unknown type tag {tag} in {position}")]
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
    /// The dynamic loader refused the file.
    #[error("`{path}` is not a loadable shared library: {reason}")]
    NotSharedLibrary {
        /// The path.
        path: PathBuf,
        /// What the dynamic loader said.
        reason: String,
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
    #[error("layout mismatch: the plugin's `HsPluginDescriptor` differs from the host's: {details}")]
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
    #[error("`get_version()` returned {found} but the descriptor's version is {descriptor} (major {expected})")]
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
    /// The file's content hash is not the one the caller pinned.
    #[error("`{path}` has SHA-256 {found}, expected {expected}")]
    HashMismatch {
        /// The path.
        path: PathBuf,
        /// The pinned hash.
        expected: String,
        /// The file's hash.
        found: String,
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
    /// Two declarations of one slot disagree.
    #[error("slot {slot} is declared as `{existing}` and cannot be redeclared as `{requested}`")]
    Conflict {
        /// The slot.
        slot: u32,
        /// The existing import, as written in assembly.
        existing: String,
        /// The new one.
        requested: String,
    },
    /// The library does not export the function a slot asks for.
    #[error("slot {slot}: `{path}` has no function `{function}`{}", available_list(.available))]
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
    #[error("slot {slot}: signature mismatch for `{function}`: expected {expected}, found {found}")]
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
    #[error("slot {slot}: `{function}` {found} does not satisfy {expected}{}", requirement_origin(.from_running))]
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
        "slot {slot}: `{function}` {found} is older than the running {running}; ask for a downgrade (rollback) to allow it"
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
    /// There is no earlier build to roll back to.
    #[error("`{path}` has no previous build to roll back to")]
    NoPrevious {
        /// The library.
        path: PathBuf,
    },
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
