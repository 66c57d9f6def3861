//! Reading and checking a plugin descriptor in memory.
//!
//! Nothing here opens a library: the functions take a pointer, so the
//! checks run (and are tested, under Miri too) on descriptors built in
//! memory. Everything a descriptor says is copied into owned
//! [`PluginInfo`], so nothing the host keeps points into the descriptor.

use std::fmt;
use std::hash::BuildHasher;
use std::mem::{align_of, size_of};
use std::sync::Arc;

use hotslot_plugin_api::{
    AbiVersion, HS_MAGIC, HS_MAX_FUNCTIONS, HS_MAX_NAME_LEN, HS_MAX_PARAMS, HsBytes, HsCallCtx,
    HsEntry, HsFunctionDescriptor, HsPluginDescriptor, HsStatus, HsStr, HsType, HsVersion,
};
use semver::Version;

use super::error::{AbiError, NameError};
use super::structs::{Ext, HostRequest, PluginStruct};
use crate::types::is_identifier;
use crate::types::{Signature, ValType};

/// Whether a plugin was written in Rust (it exports its layout) or not.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PluginKind {
    /// Exports `hotslot_rust_layout`; its layout was checked.
    Rust,
    /// Does not; checked field by field only.
    C,
    /// A script module: hotslot assembly or bytecode, verified, run by the
    /// host itself.
    Script,
}

/// What a plugin descriptor says, copied out of the library and checked.
#[derive(Clone, PartialEq, Debug)]
pub struct PluginInfo {
    /// The plugin's name.
    pub name: String,
    /// The plugin's version.
    pub version: Version,
    /// The ABI version the plugin was built against.
    pub abi: AbiVersion,
    /// The exported functions, in descriptor order.
    pub functions: Vec<FunctionInfo>,
    /// The state hooks, when the plugin has both; their entry points are
    /// the library's, so they stay inside the crate, which keeps the
    /// library loaded while it uses them.
    pub(crate) state: Option<StateHooks>,
    /// The host callback table the plugin needs (ABI 1.1).
    pub host: Option<HostRequest>,
    /// Where each function is in `functions`, by name: a reload binding
    /// many slots looks each up in constant time.
    by_name: NameIndex,
}

impl PluginInfo {
    /// The version of the state format, when the plugin carries its state
    /// across reloads (it has both hooks).
    pub fn state_version(&self) -> Option<u32> {
        self.state.map(|s| s.version)
    }

    /// Where the function named `name` is in `functions`.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.find(&self.functions, name)
    }

    /// The function named `name`.
    pub fn function(&self, name: &str) -> Option<&FunctionInfo> {
        self.index_of(name).map(|i| &self.functions[i])
    }

    /// A description put together from its parts, read from somewhere
    /// other than a descriptor (an isolated worker's description, a script
    /// module's exports): no host table. Refused, with the name, when two
    /// functions have the same name.
    pub(crate) fn described(
        name: String,
        version: Version,
        abi: AbiVersion,
        functions: Vec<FunctionInfo>,
        state: Option<StateHooks>,
    ) -> Result<PluginInfo, String> {
        let mut by_name = NameIndex::with_capacity(functions.len());
        let mut added = Vec::with_capacity(functions.len());
        for f in functions {
            added.push(f);
            if !by_name.add(&added) {
                return Err(added.pop().expect("just pushed").name);
            }
        }
        Ok(PluginInfo {
            name,
            version,
            abi,
            functions: added,
            state,
            host: None,
            by_name,
        })
    }
}

impl FunctionInfo {
    /// A function called through something other than its own entry point
    /// (an isolated build's worker, a script module's machine): `entry`
    /// answers [`ROUTE`](crate::routed::ROUTE), and the caller routes.
    pub(crate) fn routed(
        name: String,
        signature: Signature,
        version: Version,
        entry: HsEntry,
    ) -> FunctionInfo {
        FunctionInfo {
            name,
            signature,
            version,
            structs: Vec::new(),
            entry: Entry(entry),
        }
    }
}

/// The positions of a plugin's functions, hashed by name: the names
/// themselves stay in the functions, not copied into the index.
#[derive(Clone, Default)]
struct NameIndex {
    table: hashbrown::HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl NameIndex {
    fn with_capacity(n: usize) -> NameIndex {
        NameIndex {
            table: hashbrown::HashTable::with_capacity(n),
            hasher: hashbrown::DefaultHashBuilder::default(),
        }
    }

    /// Adds the last of `functions`; false when one of that name is in
    /// already.
    fn add(&mut self, functions: &[FunctionInfo]) -> bool {
        let index = functions.len() - 1;
        let name = functions[index].name.as_str();
        let hasher = &self.hasher;
        let entry = self.table.entry(
            hasher.hash_one(name),
            |&i| functions[i as usize].name == name,
            |&i| hasher.hash_one(functions[i as usize].name.as_str()),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(v) => {
                // At most `HS_MAX_FUNCTIONS` functions: an index fits a u32.
                v.insert(index as u32);
                true
            }
        }
    }

    /// Where the function named `name` is in `functions` (those the index
    /// was built from).
    fn find(&self, functions: &[FunctionInfo], name: &str) -> Option<usize> {
        let found = self.table.find(self.hasher.hash_one(name), |&i| {
            functions.get(i as usize).is_some_and(|f| f.name == name)
        })?;
        Some(*found as usize)
    }
}

/// Built from the functions: equal functions make equal indexes.
impl PartialEq for NameIndex {
    fn eq(&self, _: &NameIndex) -> bool {
        true
    }
}

impl fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NameIndex({} names)", self.table.len())
    }
}

/// One exported function.
#[derive(Clone, PartialEq, Debug)]
pub struct FunctionInfo {
    /// Its name.
    pub name: String,
    /// Its parameter and return types.
    pub signature: Signature,
    /// Its own version.
    pub version: Version,
    /// For each parameter of an application's type, that type's layout in
    /// the plugin's build (ABI 1.1); empty when it takes none.
    pub structs: Vec<Option<Arc<PluginStruct>>>,
    /// Its entry point: valid while the library is loaded, so it stays
    /// inside the crate (see [`Library::entry`](super::Library::entry)).
    pub(crate) entry: Entry,
}

/// A native entry point, compared by address.
#[derive(Clone, Copy)]
pub(crate) struct Entry(pub(crate) HsEntry);

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.0 as usize == other.0 as usize
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Entry({:#x})", self.0 as usize)
    }
}

/// Hook that saves a plugin's state.
pub(crate) type SaveHook = unsafe extern "C" fn(ctx: *mut HsCallCtx) -> HsStatus;
/// Hook that restores a plugin's state.
pub(crate) type LoadHook =
    unsafe extern "C" fn(ctx: *mut HsCallCtx, version: u32, state: HsBytes) -> HsStatus;

/// A plugin's hooks to carry its state across a reload.
#[derive(Clone, Copy)]
pub(crate) struct StateHooks {
    /// Version of the state format.
    pub version: u32,
    /// Saves the state.
    pub save: SaveHook,
    /// Restores a state.
    pub load: LoadHook,
}

impl StateHooks {
    /// The hooks a descriptor gives: both, or none.
    fn of(d: &HsPluginDescriptor) -> Option<StateHooks> {
        match (d.save_state, d.load_state) {
            (Some(save), Some(load)) => Some(StateHooks {
                version: d.state_version,
                save,
                load,
            }),
            _ => None,
        }
    }
}

impl PartialEq for StateHooks {
    fn eq(&self, other: &StateHooks) -> bool {
        self.version == other.version
            && self.save as usize == other.save as usize
            && self.load as usize == other.load as usize
    }
}

impl fmt::Debug for StateHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateHooks")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The head of a descriptor: what must be checked before anything else is
/// read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    /// ABI version of the plugin's build.
    pub abi: AbiVersion,
    /// `struct_size` of the plugin's build.
    pub struct_size: u32,
}

/// Checks the head of a descriptor: not null, aligned, the magic, the ABI
/// major and the struct size.
///
/// # Safety
///
/// `ptr` is null or points to readable memory of at least the descriptor's
/// first 12 bytes, as a library's `hotslot_plugin` export promises.
pub unsafe fn read_header(ptr: *const HsPluginDescriptor) -> Result<Header, AbiError> {
    if ptr.is_null() {
        return Err(AbiError::NullDescriptor);
    }
    if !ptr.is_aligned() {
        return Err(AbiError::Misaligned {
            what: "plugin descriptor".into(),
            address: ptr as usize,
        });
    }
    // SAFETY: `ptr` is non-null and aligned, and the caller guarantees the
    // header fields are readable; the fields are plain integers, valid for
    // any bits.
    let (magic, major, minor, struct_size) = unsafe {
        (
            (&raw const (*ptr).magic).read(),
            (&raw const (*ptr).abi_major).read(),
            (&raw const (*ptr).abi_minor).read(),
            (&raw const (*ptr).struct_size).read(),
        )
    };
    if magic != HS_MAGIC {
        return Err(AbiError::BadMagic {
            expected: HS_MAGIC,
            found: magic,
        });
    }
    let abi = AbiVersion::new(major, minor);
    if !AbiVersion::CURRENT.is_compatible(abi) {
        return Err(AbiError::AbiMajor {
            expected: AbiVersion::CURRENT.major,
            found: major,
        });
    }
    let min = size_of::<HsPluginDescriptor>();
    if (struct_size as usize) < min {
        return Err(AbiError::StructTooSmall {
            what: "plugin descriptor".into(),
            expected: min,
            found: struct_size,
        });
    }
    Ok(Header { abi, struct_size })
}

/// Reads and checks a whole descriptor, copying what it says.
///
/// # Safety
///
/// `ptr` is null or points to a descriptor that is readable as far as its own
/// `struct_size` says, whose name, table and parameter pointers are each null
/// or readable for the lengths the descriptor gives (after those lengths pass
/// their limits), as a library's `hotslot_plugin` export promises.
pub unsafe fn read_descriptor(ptr: *const HsPluginDescriptor) -> Result<PluginInfo, AbiError> {
    // SAFETY: forwarded to the caller.
    unsafe { read_descriptor_with(ptr, &Ext::default()) }
}

/// As [`read_descriptor`], with what the plugin's `hotslot_plugin_ext`
/// said (ABI 1.1): the layouts of the application's types its functions
/// take, and the host table it needs.
///
/// # Safety
///
/// As for [`read_descriptor`].
pub unsafe fn read_descriptor_with(
    ptr: *const HsPluginDescriptor,
    ext: &Ext,
) -> Result<PluginInfo, AbiError> {
    // SAFETY: forwarded to the caller.
    let header = unsafe { read_header(ptr)? };
    // SAFETY: `read_header` checked `ptr` is non-null, aligned, and that its
    // `struct_size` covers this build's whole struct, which the caller
    // guarantees readable; every field is an integer, a raw pointer or an
    // optional function pointer, valid for any bits.
    let d = unsafe { ptr.read() };
    // SAFETY: the caller guarantees the name is null or readable for its length.
    let name = unsafe { read_name(d.name, NameKind::Plugin) }
        .map_err(|reason| AbiError::PluginName { reason })?;

    if d.function_count > HS_MAX_FUNCTIONS {
        return Err(AbiError::TooManyFunctions {
            max: HS_MAX_FUNCTIONS,
            found: d.function_count,
        });
    }
    if d.function_count > 0 && d.functions.is_null() {
        return Err(AbiError::NullFunctionTable {
            count: d.function_count,
        });
    }
    if d.function_count > 0 && !d.functions.is_aligned() {
        return Err(AbiError::Misaligned {
            what: "function table".into(),
            address: d.functions as usize,
        });
    }
    let mut functions = Vec::with_capacity(d.function_count);
    let mut by_name = NameIndex::with_capacity(d.function_count);
    for index in 0..d.function_count {
        // SAFETY: the table is non-null and aligned (checked above) and the
        // caller guarantees it readable for `function_count` entries.
        let fptr = unsafe { d.functions.add(index).read() };
        // SAFETY: the caller guarantees every entry is null or points to a
        // readable function descriptor.
        let f = unsafe { read_function(fptr, index, header.abi, ext)? };
        functions.push(f);
        if !by_name.add(&functions) {
            let twice = functions.pop().expect("just pushed");
            return Err(AbiError::DuplicateFunction { name: twice.name });
        }
    }

    let state = StateHooks::of(&d);
    Ok(PluginInfo {
        name,
        version: version(d.version),
        abi: header.abi,
        functions,
        state,
        host: ext.host.clone(),
        by_name,
    })
}

/// Reads and checks the function descriptor at `index` of the table.
///
/// # Safety
///
/// `ptr` is null or points to a function descriptor readable as far as its
/// `struct_size` says, whose name and parameter pointers are null or
/// readable for their lengths.
unsafe fn read_function(
    ptr: *const HsFunctionDescriptor,
    index: usize,
    abi: AbiVersion,
    ext: &Ext,
) -> Result<FunctionInfo, AbiError> {
    if ptr.is_null() {
        return Err(AbiError::NullFunction { index });
    }
    if !ptr.is_aligned() {
        return Err(AbiError::Misaligned {
            what: format!("function descriptor {index}"),
            address: ptr as usize,
        });
    }
    // SAFETY: non-null and aligned; the caller guarantees `struct_size` is
    // readable, and it is an integer.
    let struct_size = unsafe { (&raw const (*ptr).struct_size).read() };
    let min = size_of::<HsFunctionDescriptor>();
    if (struct_size as usize) < min {
        return Err(AbiError::StructTooSmall {
            what: format!("function descriptor {index}"),
            expected: min,
            found: struct_size,
        });
    }
    // SAFETY: `struct_size` covers this build's whole struct, readable by the
    // caller's guarantee; all fields are valid for any bits.
    let d = unsafe { ptr.read() };
    // SAFETY: the caller guarantees the name is null or readable for its length.
    let name = unsafe { read_name(d.name, NameKind::Function) }
        .map_err(|reason| AbiError::FunctionName { index, reason })?;

    if d.param_count > HS_MAX_PARAMS {
        return Err(AbiError::TooManyParams {
            function: name,
            max: HS_MAX_PARAMS,
            found: d.param_count,
        });
    }
    if d.param_count > 0 && d.params.is_null() {
        return Err(AbiError::NullParams {
            function: name,
            count: d.param_count,
        });
    }
    let layouts = ext.functions.get(&name);
    let mut params = Vec::with_capacity(d.param_count);
    let mut structs = Vec::new();
    for i in 0..d.param_count {
        // SAFETY: `params` is non-null, `HsType` has alignment 1, and the
        // caller guarantees `param_count` readable tags.
        let tag = unsafe { d.params.add(i).read() };
        check_tag_version(tag, abi, &name, || format!("parameter {i}"))?;
        let layout = layouts.and_then(|l| l.get(i)).cloned().flatten();
        if tag.is_struct() && layout.is_none() {
            return Err(AbiError::MissingLayout {
                function: name,
                index: i,
                tag: tag.name().unwrap_or("?"),
            });
        }
        let of = layout.as_ref().map(|l| l.name);
        if tag.is_struct() {
            structs.resize(i, None);
            structs.push(layout);
        }
        match ValType::from_tag_of(tag, of) {
            Ok(Some(t)) => params.push(t),
            Ok(None) => {
                return Err(AbiError::VoidParam {
                    function: name,
                    index: i,
                });
            }
            Err(_) => {
                return Err(AbiError::UnknownType {
                    function: name,
                    position: format!("parameter {i}"),
                    tag: tag.0,
                });
            }
        }
    }
    check_tag_version(d.ret, abi, &name, || "return type".into())?;
    if d.ret.is_struct() {
        return Err(AbiError::UnknownType {
            function: name,
            position: "return type".into(),
            tag: d.ret.0,
        });
    }
    let ret = ValType::from_tag_of(d.ret, None).map_err(|_| AbiError::UnknownType {
        function: name.clone(),
        position: "return type".into(),
        tag: d.ret.0,
    })?;
    let Some(call) = d.call else {
        return Err(AbiError::NullEntry { function: name });
    };
    Ok(FunctionInfo {
        name,
        signature: Signature { params, ret },
        version: version(d.version),
        structs,
        entry: Entry(call),
    })
}

/// What changed in the descriptor at `ptr` since it was read into `info`,
/// or `None`: the second look of the stability check. It compares in place
/// against what the first read copied and checked, allocating nothing
/// unless something changed, so that a reload of a library of many
/// functions costs one read, not two.
///
/// # Safety
///
/// As for [`read_descriptor`].
pub(crate) unsafe fn changed_since(
    ptr: *const HsPluginDescriptor,
    info: &PluginInfo,
) -> Option<String> {
    // SAFETY: forwarded to the caller.
    let header = match unsafe { read_header(ptr) } {
        Ok(header) => header,
        Err(e) => return Some(e.to_string()),
    };
    // SAFETY: as in `read_descriptor_with`: `read_header` checked the
    // pointer and that `struct_size` covers the struct.
    let d = unsafe { ptr.read() };
    // SAFETY: the caller guarantees the name is null or readable for its
    // length; `same_str` reads it only when that length is the one the
    // first read checked.
    let same_name = unsafe { same_str(d.name, &info.name) };
    if header.abi != info.abi || !same_name || version(d.version) != info.version {
        return Some(format!(
            "plugin {} {} became another (its name, version or ABI changed)",
            info.name, info.version
        ));
    }
    if d.function_count != info.functions.len() {
        return Some(format!(
            "{} functions became {}",
            info.functions.len(),
            d.function_count
        ));
    }
    if d.function_count > 0 && (d.functions.is_null() || !d.functions.is_aligned()) {
        return Some("the function table moved to an invalid address".into());
    }
    let state = StateHooks::of(&d);
    if state != info.state {
        return Some("the state hooks changed".into());
    }
    for (index, f) in info.functions.iter().enumerate() {
        // SAFETY: non-null and aligned (checked above), readable for
        // `function_count` entries by the caller's guarantee.
        let fptr = unsafe { d.functions.add(index).read() };
        // SAFETY: the caller guarantees the entry is null or readable.
        if !unsafe { same_function(fptr, f) } {
            return Some(format!(
                "`{}` {} {} changed",
                f.name, f.signature, f.version
            ));
        }
    }
    None
}

/// Whether the function descriptor at `ptr` says what `f` holds.
///
/// # Safety
///
/// As for [`read_function`].
unsafe fn same_function(ptr: *const HsFunctionDescriptor, f: &FunctionInfo) -> bool {
    if ptr.is_null() || !ptr.is_aligned() {
        return false;
    }
    // SAFETY: non-null and aligned; `struct_size` is readable.
    let struct_size = unsafe { (&raw const (*ptr).struct_size).read() };
    if (struct_size as usize) < size_of::<HsFunctionDescriptor>() {
        return false;
    }
    // SAFETY: `struct_size` covers the struct; every field is valid for
    // any bits.
    let d = unsafe { ptr.read() };
    let params = &f.signature.params;
    let ret = f.signature.ret.map_or(HsType::VOID, ValType::tag);
    // SAFETY: the name is null or readable for its length (the caller's
    // guarantee); `same_str` reads it only at the length the first read
    // checked.
    let same_name = unsafe { same_str(d.name, &f.name) };
    if !same_name
        || d.param_count != params.len()
        || (d.param_count > 0 && d.params.is_null())
        || d.ret != ret
        || version(d.version) != f.version
        || d.call.map(Entry) != Some(f.entry)
    {
        return false;
    }
    // SAFETY: `params` is non-null (checked above) with `param_count`
    // readable tags, `HsType` has alignment 1; the count is the one the
    // first read bounded.
    let tags = unsafe { std::slice::from_raw_parts(d.params, d.param_count) };
    tags.iter().zip(params).all(|(&tag, t)| tag == t.tag())
}

/// Whether `s` holds the bytes of `known`, a name read and checked before.
///
/// # Safety
///
/// `s.ptr` is null or readable for `s.len` bytes.
unsafe fn same_str(s: HsStr, known: &str) -> bool {
    // SAFETY: read only when non-null, at a length the caller guarantees.
    s.len == known.len() && !s.ptr.is_null() && unsafe { s.as_bytes() } == known.as_bytes()
}

/// Refuses a tag of ABI 1.1 in a plugin that says it was built for 1.0.
fn check_tag_version(
    tag: HsType,
    abi: AbiVersion,
    function: &str,
    position: impl FnOnce() -> String,
) -> Result<(), AbiError> {
    if (6..=10).contains(&tag.0) && abi.minor < 1 {
        return Err(AbiError::TagTooNew {
            function: function.to_owned(),
            position: position(),
            tag: tag.0,
            name: tag.name().unwrap_or("?"),
            since: "1.1",
            found: abi,
        });
    }
    Ok(())
}

fn version(v: HsVersion) -> Version {
    Version::new(v.major.into(), v.minor.into(), v.patch.into())
}

#[derive(Clone, Copy)]
enum NameKind {
    Plugin,
    Function,
}

/// Copies and checks a name.
///
/// # Safety
///
/// `s.ptr` is null or readable for `s.len` bytes once `s.len` is within
/// `HS_MAX_NAME_LEN`.
unsafe fn read_name(s: HsStr, kind: NameKind) -> Result<String, NameError> {
    if s.len == 0 {
        return Err(NameError::Empty);
    }
    if s.len > HS_MAX_NAME_LEN {
        return Err(NameError::TooLong {
            max: HS_MAX_NAME_LEN,
            found: s.len,
        });
    }
    if s.ptr.is_null() {
        return Err(NameError::Null { len: s.len });
    }
    debug_assert_eq!(align_of::<u8>(), 1);
    // SAFETY: non-null and `len` within the limit: readable by the caller's
    // guarantee.
    let bytes = unsafe { s.as_bytes() };
    let name = std::str::from_utf8(bytes).map_err(|e| NameError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    match kind {
        NameKind::Function if !is_identifier(name) => Err(NameError::NotIdentifier {
            name: name.to_owned(),
        }),
        NameKind::Plugin if name.chars().any(char::is_control) => Err(NameError::Control {
            name: name.escape_debug().to_string(),
        }),
        _ => Ok(name.to_owned()),
    }
}

#[cfg(test)]
#[path = "descriptor_tests.rs"]
mod tests;
