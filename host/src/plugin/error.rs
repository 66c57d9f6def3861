//! The loader's errors: a file refused, a descriptor or layout that does
//! not check, a name that cannot be used, a copy that cannot be made.
//!
//! Each variant names what was expected and what was found. Messages are
//! lowercase without a trailing period; a wrapped cause is reachable through
//! [`std::error::Error::source`] and is not repeated in the message.

use std::path::PathBuf;

use semver::Version;

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
    #[error("`{}` is not a regular file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The path is a directory: a crate's directory, often, where its
    /// library file was meant.
    #[error(
        "`{}` is a directory, not a library: name the library file (cargo builds a crate \
         `NAME`'s as `target/debug/{}NAME{}`)",
        path.display(),
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )]
    Directory {
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
    #[error("`{}` does not export `{symbol}`{}", path.display(), missing_export_hint(symbol))]
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

/// What to do about a missing export.
fn missing_export_hint(symbol: &str) -> &'static str {
    if symbol == hotslot_plugin_api::HS_GET_VERSION_SYMBOL {
        ", the function returning its major version: a C plugin gets it from HS_PLUGIN of \
         hotslot_shim.h (ABI 1.2), or defines `HS_EXPORT int get_version(void) { return 1; }` \
         (its major version); a Rust plugin from `plugin!`"
    } else {
        "; is it a hotslot plugin?"
    }
}
