//! The application's own types across the boundary (ABI 1.1): what a
//! plugin says about them (`hotslot_plugin_ext`), what the host's
//! definitions are (their `abi_stable` layouts), and the comparison of the
//! two, field by field.
//!
//! A C plugin describes each type as its compiler laid it out (`HS_STRUCT`
//! in `hotslot_shim.h`): size, alignment, and each field's name, offset,
//! size and kind. A Rust plugin hands over the type's `abi_stable` layout,
//! which `abi_stable` compares with the host's. Either way a type that
//! differs (a field added, removed, reordered, resized or retyped) is named
//! with the first field that differs.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use abi_stable::abi_stability::abi_checking::{
    CheckingGlobals, check_layout_compatibility_with_globals,
};
use abi_stable::type_layout::{TLData, TLPrimitive, TypeLayout};
use hotslot_plugin_api::{
    HS_MAX_FIELDS, HS_MAX_FUNCTIONS, HS_MAX_PARAMS, HsField, HsFieldKind, HsFunctionTypes,
    HsHostRequest, HsPluginExt, HsStr, HsStructLayout, field_in,
};

use super::error::AbiError;
use crate::types::StructName;

/// One field of an application's type: what a C plugin's compiler laid
/// out, or what the host derives from its own definition.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FieldInfo {
    /// Its name.
    pub name: String,
    /// Its offset, in bytes.
    pub offset: usize,
    /// Its size, in bytes.
    pub size: usize,
    /// Its kind (of its elements, for an array).
    pub kind: FieldKind,
    /// Its number of elements: 1 unless it is an array.
    pub count: usize,
    /// For a nested struct (or an array of them): the struct's own fields.
    pub nested: Option<Arc<StructFields>>,
}

/// A nested struct's layout, compared field by field.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StructFields {
    /// The struct's name.
    pub name: String,
    /// Its size.
    pub size: usize,
    /// Its alignment.
    pub align: usize,
    /// Its fields, in order.
    pub fields: Vec<FieldInfo>,
}

/// A field's kind, as far as both languages can say it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FieldKind(u8);

impl FieldKind {
    /// A pointer or a function pointer: compared by size.
    const OTHER: FieldKind = FieldKind(0);
    /// A nested struct: compared field by field.
    const STRUCT: FieldKind = FieldKind(hotslot_plugin_api::HS_FIELD_STRUCT.0);
    /// Kinds only a host's (or a Rust plugin's) definition has, which a C
    /// plugin cannot describe and hotslot does not compare field by field:
    /// `abi_stable` checks them in a Rust plugin; a C plugin is refused.
    const UNION: FieldKind = FieldKind(253);
    const ENUM: FieldKind = FieldKind(254);
    const OPAQUE: FieldKind = FieldKind(255);

    fn of(kind: HsFieldKind) -> Option<FieldKind> {
        kind.name().map(|_| FieldKind(kind.0))
    }

    fn name(self) -> &'static str {
        match self {
            FieldKind::UNION => "union",
            FieldKind::ENUM => "enum",
            FieldKind::OPAQUE => "opaque type",
            _ => HsFieldKind(self.0).name().unwrap_or("?"),
        }
    }

    /// Whether a C plugin's layout cannot be compared with this host kind.
    fn uncheckable(self) -> bool {
        self.0 >= FieldKind::UNION.0
    }
}

impl fmt::Display for FieldInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let element = match (&self.nested, self.kind) {
            (Some(s), _) => format!("struct `{}`", s.name),
            (None, FieldKind::OTHER) => return write!(f, "{} bytes", self.size),
            (None, kind) => kind.name().to_owned(),
        };
        match self.count {
            1 => f.write_str(&element),
            n => write!(f, "[{element}; {n}]"),
        }
    }
}

/// The most levels of nested structs a layout may have.
const MAX_NESTING: usize = 16;

/// An application's type as a plugin's build lays it out.
#[derive(Clone, Debug)]
pub struct PluginStruct {
    /// Its name.
    pub name: StructName,
    /// Its size.
    pub size: usize,
    /// Its alignment.
    pub align: usize,
    /// Its layout, as the plugin described it.
    pub(crate) layout: PluginLayout,
}

/// How a plugin described a type.
#[derive(Clone, Debug)]
pub(crate) enum PluginLayout {
    /// A C plugin's fields.
    Fields(Vec<FieldInfo>),
    /// A Rust plugin's `abi_stable` layout, valid while its library is
    /// loaded (the host compares it when it binds, the library loaded).
    Rust(RustLayout),
}

/// A pointer to a Rust plugin's `TypeLayout`, compared by address.
#[derive(Clone, Copy)]
pub(crate) struct RustLayout(*const TypeLayout);

// SAFETY: a `TypeLayout` is immutable static data of the plugin; the host
// reads it, from any thread, only while the library is loaded.
unsafe impl Send for RustLayout {}
// SAFETY: as above.
unsafe impl Sync for RustLayout {}

impl fmt::Debug for RustLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RustLayout({:p})", self.0)
    }
}

impl PartialEq for PluginStruct {
    fn eq(&self, other: &PluginStruct) -> bool {
        self.name == other.name
            && self.size == other.size
            && self.align == other.align
            && match (&self.layout, &other.layout) {
                (PluginLayout::Fields(a), PluginLayout::Fields(b)) => a == b,
                (PluginLayout::Rust(a), PluginLayout::Rust(b)) => std::ptr::eq(a.0, b.0),
                _ => false,
            }
    }
}

/// The host callback table a plugin asks for.
#[derive(Clone, PartialEq, Debug)]
pub struct HostRequest {
    /// The table's name.
    pub name: String,
    /// The table's major and minor version the plugin was built against.
    pub version: (u32, u32),
    /// The table's layout in the plugin's build.
    pub layout: PluginStruct,
    /// Hands the table over; the library's code.
    pub(crate) set: SetHook,
}

/// A plugin's entry that receives the host's table, compared by address.
#[derive(Clone, Copy)]
pub(crate) struct SetHook(pub(crate) unsafe extern "C" fn(table: *const core::ffi::c_void));

impl PartialEq for SetHook {
    fn eq(&self, other: &SetHook) -> bool {
        self.0 as usize == other.0 as usize
    }
}

impl fmt::Debug for SetHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SetHook({:#x})", self.0 as usize)
    }
}

/// Everything `hotslot_plugin_ext` says, copied and checked.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Ext {
    /// Per function name, the layout of each parameter of a struct type.
    pub functions: HashMap<String, Vec<Option<Arc<PluginStruct>>>>,
    /// The host callback table the plugin needs.
    pub host: Option<HostRequest>,
}

/// Reads and checks what `hotslot_plugin_ext` returned.
///
/// # Safety
///
/// `ptr` is null or points to an `HsPluginExt` readable as far as its
/// `struct_size`, whose pointers are null or valid for the lengths it
/// gives (as the export promises), and which stays valid for the call.
pub(crate) unsafe fn read_ext(ptr: *const HsPluginExt) -> Result<Ext, AbiError> {
    // SAFETY: forwarded to the caller.
    let Some(e) = (unsafe { read_sized(ptr, "plugin extension")? }) else {
        return Ok(Ext::default());
    };
    if e.function_count > HS_MAX_FUNCTIONS {
        return Err(AbiError::TooManyFunctions {
            max: HS_MAX_FUNCTIONS,
            found: e.function_count,
        });
    }
    let entries = table(e.functions, e.function_count, "function types")?;
    let mut functions = HashMap::new();
    for i in 0..entries {
        // SAFETY: the table is non-null and aligned for `function_count`
        // entries (checked by `table`), readable by the caller's guarantee.
        let entry = unsafe { e.functions.add(i).read() };
        if entry.is_null() {
            return Err(AbiError::Ext {
                what: format!("function types {i}"),
                reason: "a null entry".into(),
            });
        }
        // SAFETY: each entry is an `HsFunctionTypes` readable as far as its
        // `struct_size`, by the caller's guarantee.
        let Some(f) = (unsafe { read_sized::<HsFunctionTypes>(entry, "function types")? }) else {
            continue;
        };
        // SAFETY: the caller guarantees the name null or readable.
        let name = unsafe { read_text(f.function) }.map_err(|reason| AbiError::Ext {
            what: format!("function types {i}"),
            reason,
        })?;
        if f.param_count > HS_MAX_PARAMS {
            return Err(AbiError::TooManyParams {
                function: name,
                max: HS_MAX_PARAMS,
                found: f.param_count,
            });
        }
        let n = table(f.params, f.param_count, "parameter layouts")?;
        let mut params = Vec::with_capacity(n);
        for p in 0..n {
            // SAFETY: as for the entries above.
            let layout = unsafe { f.params.add(p).read() };
            // SAFETY: each is null or a readable layout record.
            let s = unsafe { read_struct(layout) }.map_err(|reason| AbiError::Ext {
                what: format!("the layout of parameter {p} of `{name}`"),
                reason,
            })?;
            params.push(s.map(Arc::new));
        }
        if functions.insert(name.clone(), params).is_some() {
            return Err(AbiError::Ext {
                what: format!("function types of `{name}`"),
                reason: "given twice".into(),
            });
        }
    }
    // SAFETY: null or a readable request, by the caller's guarantee.
    let host = match unsafe { read_sized::<HsHostRequest>(e.host, "host table request")? } {
        None => None,
        Some(r) => {
            let ext_error = |reason| AbiError::Ext {
                what: "the host table request".into(),
                reason,
            };
            // SAFETY: as above.
            let name = unsafe { read_text(r.name) }.map_err(ext_error)?;
            // SAFETY: null or a readable layout record.
            let layout = unsafe { read_struct(r.layout) }
                .map_err(ext_error)?
                .ok_or_else(|| ext_error("its layout is null".into()))?;
            let set = r
                .set
                .ok_or_else(|| ext_error("its `set` entry is null".into()))?;
            Some(HostRequest {
                name,
                version: (r.version.major, r.version.minor),
                layout,
                set: SetHook(set),
            })
        }
    };
    Ok(Ext { functions, host })
}

/// Reads a struct of the extension whose first field is its `struct_size`,
/// after checking the pointer and that the size covers this build's struct.
///
/// # Safety
///
/// `ptr` is null or points to a `T` readable as far as its `struct_size`.
unsafe fn read_sized<T>(ptr: *const T, what: &str) -> Result<Option<T>, AbiError> {
    if ptr.is_null() {
        return Ok(None);
    }
    if !ptr.is_aligned() {
        return Err(AbiError::Misaligned {
            what: what.into(),
            address: ptr as usize,
        });
    }
    // SAFETY: non-null and aligned; every struct of the extension starts
    // with its `u32` size, readable by the caller's guarantee.
    let size = unsafe { ptr.cast::<u32>().read() };
    if !field_in(size, size_of::<T>()) {
        return Err(AbiError::StructTooSmall {
            what: what.into(),
            expected: size_of::<T>(),
            found: size,
        });
    }
    // SAFETY: the size covers this build's whole struct, readable by the
    // caller's guarantee; the extension's structs hold integers, raw
    // pointers and optional function pointers, valid for any bits.
    Ok(Some(unsafe { ptr.read() }))
}

/// The length of a table of `count` entries at `ptr`, once the pointer is
/// checked.
fn table<T>(ptr: *const T, count: usize, what: &str) -> Result<usize, AbiError> {
    if count > 0 && ptr.is_null() {
        return Err(AbiError::Ext {
            what: what.into(),
            reason: format!("a null table of {count} entries"),
        });
    }
    if count > 0 && !ptr.is_aligned() {
        return Err(AbiError::Misaligned {
            what: what.into(),
            address: ptr as usize,
        });
    }
    Ok(count)
}

/// Copies a name of the extension: UTF-8, 1 to 255 bytes, identifier
/// characters and dots.
///
/// # Safety
///
/// `s.ptr` is null or readable for `s.len` bytes once `s.len` is within
/// the limit.
unsafe fn read_text(s: HsStr) -> Result<String, String> {
    if s.len == 0 || s.len > hotslot_plugin_api::HS_MAX_NAME_LEN || s.ptr.is_null() {
        return Err(format!("a name of {} bytes at {:p}", s.len, s.ptr));
    }
    // SAFETY: non-null, within the limit: readable by the caller's guarantee.
    let bytes = unsafe { s.as_bytes() };
    let name = std::str::from_utf8(bytes).map_err(|_| "a name that is not UTF-8".to_owned())?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(format!(
            "the name {name:?}: letters, digits, `_` and `.` only"
        ));
    }
    Ok(name.to_owned())
}

/// Reads a layout record, and the layouts of its nested structs.
///
/// # Safety
///
/// `ptr` is null or points to an `HsStructLayout` readable as far as its
/// `struct_size`, whose name, field table and field layout table (when its
/// size covers it) are null or readable for their lengths, recursively.
unsafe fn read_struct(ptr: *const HsStructLayout) -> Result<Option<PluginStruct>, String> {
    // SAFETY: forwarded to the caller.
    let Some(s) = (unsafe { read_layout(ptr) })? else {
        return Ok(None);
    };
    // SAFETY: as above.
    let name = unsafe { read_text(s.name) }?;
    let layout = if s.rust_layout.is_null() {
        // SAFETY: as above.
        PluginLayout::Fields(unsafe { read_fields(&s, &name, 0) }?)
    } else {
        if !s.rust_layout.cast::<TypeLayout>().is_aligned() {
            return Err(format!("the Rust layout of `{name}` is misaligned"));
        }
        PluginLayout::Rust(RustLayout(s.rust_layout.cast()))
    };
    Ok(Some(PluginStruct {
        name: StructName::intern(&name),
        size: s.size,
        align: s.align,
        layout,
    }))
}

/// Reads an `HsStructLayout`: the fields of ABI 1.1 at least, the ones a
/// later minor appended when its `struct_size` covers them (null if not).
///
/// # Safety
///
/// As for [`read_struct`].
unsafe fn read_layout(ptr: *const HsStructLayout) -> Result<Option<HsStructLayout>, String> {
    if ptr.is_null() {
        return Ok(None);
    }
    if !ptr.is_aligned() {
        return Err(format!("a type's layout at {ptr:p} is misaligned"));
    }
    // SAFETY: non-null and aligned; it starts with its `u32` size, readable
    // by the caller's guarantee.
    let size = unsafe { ptr.cast::<u32>().read() } as usize;
    let v1_1 = std::mem::offset_of!(HsStructLayout, field_layouts);
    if size < v1_1 {
        return Err(format!(
            "a type's layout of {size} bytes, smaller than the {v1_1} of ABI 1.1"
        ));
    }
    let mut out = std::mem::MaybeUninit::<HsStructLayout>::zeroed();
    // SAFETY: `size` bytes are readable by the caller's guarantee; at most
    // this build's size is copied into a zeroed record, whose fields
    // (integers, raw pointers, a name view) are valid for any bits, null
    // past what the plugin's build has.
    unsafe {
        std::ptr::copy_nonoverlapping(
            ptr.cast::<u8>(),
            out.as_mut_ptr().cast::<u8>(),
            size.min(size_of::<HsStructLayout>()),
        );
        Ok(Some(out.assume_init()))
    }
}

/// Reads the fields of layout `s` of type `name`, and the layouts of its
/// nested structs, `depth` levels down.
///
/// # Safety
///
/// As for [`read_struct`], for `s`.
unsafe fn read_fields(
    s: &HsStructLayout,
    name: &str,
    depth: usize,
) -> Result<Vec<FieldInfo>, String> {
    if !s.align.is_power_of_two() || !s.size.is_multiple_of(s.align) {
        return Err(format!(
            "`{name}` has size {} and alignment {}",
            s.size, s.align
        ));
    }
    if s.field_count > HS_MAX_FIELDS {
        return Err(format!(
            "`{name}` has {} fields, more than {HS_MAX_FIELDS}",
            s.field_count
        ));
    }
    let n = table(s.fields, s.field_count, "fields").map_err(|e| e.to_string())?;
    let layouts = table(s.field_layouts, s.field_count, "field layouts").map_err(|e| e.to_string());
    let layouts = if s.field_layouts.is_null() {
        0
    } else {
        layouts?
    };
    let mut fields = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: the table is non-null and aligned for `field_count`
        // fields, readable by the caller's guarantee; a field holds a
        // name view and integers.
        let f: HsField = unsafe { s.fields.add(i).read() };
        // SAFETY: the caller guarantees the name null or readable.
        let field = unsafe { read_text(f.name) }?;
        let kind = FieldKind::of(f.kind)
            .ok_or_else(|| format!("field `{field}` of `{name}` has unknown kind {}", f.kind.0))?;
        let end = f.offset.checked_add(f.size);
        if end.is_none_or(|end| end > s.size) || f.count == 0 {
            return Err(format!(
                "field `{field}` of `{name}` ({} bytes at offset {}, {} elements) does not fit its {} bytes",
                f.size, f.offset, f.count, s.size
            ));
        }
        let nested = if kind == FieldKind::STRUCT {
            let path = format!("{name}.{field}");
            if depth + 1 >= MAX_NESTING {
                return Err(format!("`{path}` nests structs deeper than {MAX_NESTING}"));
            }
            let ptr = if i < layouts {
                // SAFETY: the layout table, when present, is aligned for
                // `field_count` entries and readable (the caller's
                // guarantee).
                unsafe { s.field_layouts.add(i).read() }
            } else {
                std::ptr::null()
            };
            // SAFETY: each entry is null or a readable layout record.
            let Some(inner) = (unsafe { read_layout(ptr) })? else {
                return Err(format!(
                    "field `{field}` of `{name}` is a struct, and its layout is missing"
                ));
            };
            // SAFETY: as above.
            let inner_name = unsafe { read_text(inner.name) }?;
            if inner.size.checked_mul(f.count) != Some(f.size) {
                return Err(format!(
                    "field `{field}` of `{name}` is {} bytes, not {} `{inner_name}` of {} bytes",
                    f.size, f.count, inner.size
                ));
            }
            Some(Arc::new(StructFields {
                // SAFETY: as above, one level down.
                fields: unsafe { read_fields(&inner, &path, depth + 1) }?,
                name: inner_name,
                size: inner.size,
                align: inner.align,
            }))
        } else {
            None
        };
        fields.push(FieldInfo {
            name: field,
            offset: f.offset,
            size: f.size,
            kind,
            count: f.count,
            nested,
        });
    }
    Ok(fields)
}

/// An application's type as the host defines it: its `abi_stable` layout,
/// and the fields a C compiler lays out for it.
#[derive(Debug)]
pub struct HostStruct {
    /// Its name.
    pub name: StructName,
    /// Its layout.
    pub layout: &'static TypeLayout,
    /// Its fields, as `#[repr(C)]` lays them out.
    pub fields: Vec<FieldInfo>,
}

impl HostStruct {
    /// The host's definition of the type `layout` describes, named `name`.
    pub fn new(name: StructName, layout: &'static TypeLayout) -> HostStruct {
        HostStruct {
            name,
            layout,
            fields: repr_c_fields(layout),
        }
    }

    /// Compares a plugin's view of the type, by the same name, with this
    /// definition.
    pub fn compare(&self, theirs: &PluginStruct) -> Result<(), String> {
        if theirs.name != self.name {
            return Err(format!(
                "the plugin's type is `{}`, the host's `{}`",
                theirs.name, self.name
            ));
        }
        self.compare_layout(theirs, false)
    }

    /// Compares the layout of a plugin's view of the type with this
    /// definition, whatever the plugin calls it (a host callback table is
    /// asked for by its own name). `prefix` accepts a plugin built against
    /// an older minor version of a table: its fields are the first ones of
    /// the host's.
    pub fn compare_layout(&self, theirs: &PluginStruct, prefix: bool) -> Result<(), String> {
        // A Rust plugin's fields, as a C compiler would lay them out: the
        // first difference is named the same way for both languages.
        let derived;
        let fields = match &theirs.layout {
            PluginLayout::Fields(fields) => fields,
            PluginLayout::Rust(rust) => {
                // SAFETY: the plugin's library is loaded while it is bound,
                // and a `TypeLayout` is static data of it.
                derived = repr_c_fields(unsafe { &*rust.0 });
                &derived
            }
        };
        let c_plugin = matches!(theirs.layout, PluginLayout::Fields(_));
        compare_fields(&self.fields, fields, self.name.as_str(), c_plugin, prefix)?;
        if prefix {
            return Ok(());
        }
        let (size, align) = (self.layout.size(), self.layout.alignment());
        if theirs.size != size || theirs.align != align {
            return Err(format!(
                "`{}` has size {} and alignment {} in the plugin, {size} and {align} in the host",
                self.name, theirs.size, theirs.align
            ));
        }
        match &theirs.layout {
            // What the fields above do not show (the types inside a nested
            // struct, a function pointer's signature), `abi_stable` does.
            PluginLayout::Rust(rust) => self.compare_rust(*rust),
            PluginLayout::Fields(_) => Ok(()),
        }
    }

    /// `abi_stable`'s comparison of a Rust plugin's layout with the host's.
    fn compare_rust(&self, theirs: RustLayout) -> Result<(), String> {
        // SAFETY: the plugin's library is loaded while it is bound, and a
        // `TypeLayout` is static data of it, of the `abi_stable` version the
        // plugin's descriptor layout check found equal to the host's.
        let theirs = unsafe { &*theirs.0 };
        let globals = CheckingGlobals::new();
        check_layout_compatibility_with_globals(self.layout, theirs, &globals).map_err(|errors| {
            format!(
                "`{}` differs: {}",
                self.name,
                super::layout::summarize(&errors)
            )
        })
    }
}

/// Compares a plugin's fields of type `name` with the host's, in order,
/// nested structs field by field; the first difference is the error.
/// `prefix`: the plugin's may be the first ones of the host's.
fn compare_fields(
    ours_all: &[FieldInfo],
    theirs_all: &[FieldInfo],
    name: &str,
    c_plugin: bool,
    prefix: bool,
) -> Result<(), String> {
    for (i, field) in theirs_all.iter().enumerate() {
        let Some(ours) = ours_all.get(i) else {
            return Err(format!(
                "`{name}` has a field `{}` at offset {} in the plugin, which the host's does not have",
                field.name, field.offset
            ));
        };
        if ours.name != field.name {
            return Err(format!(
                "field {i} of `{name}` is `{}` in the host, `{}` in the plugin",
                ours.name, field.name
            ));
        }
        if ours.offset != field.offset {
            return Err(format!(
                "field `{}` of `{name}` is at offset {} in the host, {} in the plugin",
                field.name, ours.offset, field.offset
            ));
        }
        if c_plugin && ours.kind.uncheckable() {
            return Err(format!(
                "field `{}` of `{name}` is {} in the host, which a C plugin's layout cannot \
                 describe: hotslot does not compare it, so a C plugin cannot take `{name}`",
                field.name,
                ours.kind.name()
            ));
        }
        if ours.kind == FieldKind::STRUCT
            && field.kind == FieldKind::OTHER
            && let Some(inner) = &ours.nested
        {
            return Err(format!(
                "field `{}` of `{name}` is the struct `{}` in the host, which the plugin \
                 describes by its size only: declare it with HS_STRUCT_FIELD({name}, {}, {}) \
                 (or HS_STRUCT_ARRAY_FIELD for an array), built with ABI 1.2's hotslot_shim.h",
                field.name, inner.name, field.name, inner.name
            ));
        }
        let same_type = ours.size == field.size
            && ours.kind == field.kind
            && ours.count == field.count
            && ours.nested.as_ref().map(|s| (s.size, s.align))
                == field.nested.as_ref().map(|s| (s.size, s.align));
        if !same_type {
            return Err(format!(
                "field `{}` of `{name}` is {ours} in the host, {field} in the plugin",
                field.name
            ));
        }
        if let (Some(a), Some(b)) = (&ours.nested, &field.nested) {
            let path = format!("{name}.{}", field.name);
            compare_fields(&a.fields, &b.fields, &path, c_plugin, false)?;
        }
    }
    if prefix {
        return Ok(());
    }
    if let Some(missing) = ours_all.get(theirs_all.len()) {
        return Err(format!(
            "`{name}` has no field `{}` in the plugin (the host's has it at offset {})",
            missing.name, missing.offset
        ));
    }
    Ok(())
}

/// The fields of a `#[repr(C)]` type as a C compiler lays them out, from
/// its `abi_stable` layout: in order, each at its size's next multiple of
/// its alignment; nested structs with their own fields.
fn repr_c_fields(layout: &'static TypeLayout) -> Vec<FieldInfo> {
    repr_c_fields_at(layout, 0)
}

fn repr_c_fields_at(layout: &'static TypeLayout, depth: usize) -> Vec<FieldInfo> {
    let TLData::Struct { fields } = layout.data() else {
        return Vec::new();
    };
    let mut offset = 0_usize;
    let mut out = Vec::new();
    for field in fields.iter() {
        let (kind, count, size, align, nested) = if field.is_function() {
            let size = size_of::<fn()>();
            (FieldKind::OTHER, 1, size, align_of::<fn()>(), None)
        } else {
            let l = field.layout();
            let (kind, count, element) = kind_of(l);
            let nested = element
                .filter(|_| kind == FieldKind::STRUCT && depth + 1 < MAX_NESTING)
                .map(|e| {
                    Arc::new(StructFields {
                        name: e.name().to_owned(),
                        size: e.size(),
                        align: e.alignment(),
                        fields: repr_c_fields_at(e, depth + 1),
                    })
                });
            (kind, count, l.size(), l.alignment(), nested)
        };
        offset = offset.next_multiple_of(align.max(1));
        out.push(FieldInfo {
            name: field.name().to_owned(),
            offset,
            size,
            kind,
            count,
            nested,
        });
        offset += size;
    }
    out
}

/// A field type's kind, its number of elements, and the layout of a
/// nested struct (of the element, for an array of structs).
fn kind_of(layout: &'static TypeLayout) -> (FieldKind, usize, Option<&'static TypeLayout>) {
    let p = match layout.data() {
        TLData::Primitive(p) => p,
        TLData::Struct { .. } => return (FieldKind::STRUCT, 1, Some(layout)),
        TLData::Union { .. } => return (FieldKind::UNION, 1, None),
        TLData::Enum { .. } => return (FieldKind::ENUM, 1, None),
        _ => return (FieldKind::OPAQUE, 1, None),
    };
    let scalar = |p: TLPrimitive, size: usize| {
        use hotslot_plugin_api as api;
        let k = match (p, size) {
            (TLPrimitive::I8, _) => api::HS_FIELD_I8,
            (TLPrimitive::U8, _) => api::HS_FIELD_U8,
            (TLPrimitive::I16, _) => api::HS_FIELD_I16,
            (TLPrimitive::U16, _) => api::HS_FIELD_U16,
            (TLPrimitive::I32, _) | (TLPrimitive::Isize, 4) => api::HS_FIELD_I32,
            (TLPrimitive::U32, _) | (TLPrimitive::Usize, 4) => api::HS_FIELD_U32,
            (TLPrimitive::I64, _) | (TLPrimitive::Isize, 8) => api::HS_FIELD_I64,
            (TLPrimitive::U64, _) | (TLPrimitive::Usize, 8) => api::HS_FIELD_U64,
            (TLPrimitive::F32, _) => api::HS_FIELD_F32,
            (TLPrimitive::F64, _) => api::HS_FIELD_F64,
            (TLPrimitive::Bool, _) => api::HS_FIELD_BOOL,
            _ => api::HS_FIELD_OTHER,
        };
        FieldKind(k.0)
    };
    if p != TLPrimitive::Array {
        return (scalar(p, layout.size()), 1, None);
    }
    let element = layout.shared_vars().type_layouts().first().map(|l| l());
    match element {
        Some(e) if e.size() > 0 => {
            let count = layout.size() / e.size();
            match e.data() {
                TLData::Primitive(ep) if ep != TLPrimitive::Array => {
                    (scalar(ep, e.size()), count, None)
                }
                TLData::Struct { .. } => (FieldKind::STRUCT, count, Some(e)),
                _ => (FieldKind::OPAQUE, 1, None),
            }
        }
        _ => (FieldKind::OPAQUE, 1, None),
    }
}

#[cfg(test)]
#[path = "structs_tests.rs"]
mod tests;
