//! The ABI v1 types shared by the host and every plugin (ABI 1.1: 1.0 and
//! what 1.1 appended).
//!
//! Everything here is `#[repr(C)]` (or `#[repr(transparent)]` over a C
//! integer), holds only C-expressible fields, and derives
//! [`StableAbi`](abi_stable::StableAbi) so that a Rust plugin can export its
//! layout for the host to check. `cbindgen` turns this module into
//! `include/hotslot.h`.
//!
//! # The append-only rule
//!
//! A struct of this ABI never changes a field's type, order or meaning and
//! never removes a field. New fields go at the end, together with a minor
//! version bump. Structs a plugin hands to the host carry a `struct_size`, and
//! the host reads a field only when `struct_size` says the plugin's build has
//! it (see [`field_in`]).

use core::fmt;

use abi_stable::StableAbi;

/// Magic number at the head of every plugin descriptor: the bytes `HSLT`
/// read as a little-endian `u32`.
pub const HS_MAGIC: u32 = 0x544C_5348;
/// ABI major version. A host loads only plugins of its own major version.
pub const HS_ABI_MAJOR: u16 = 1;
/// ABI minor version. Minor versions only append: fields, type tags,
/// exports.
///
/// 1.1 added the type tags `HS_TYPE_BYTES`, `HS_TYPE_REF`, `HS_TYPE_REF_MUT`,
/// `HS_TYPE_SLICE` and `HS_TYPE_SLICE_MUT`, and the optional export
/// `hotslot_plugin_ext` ([`HsPluginExt`]): the layouts of the
/// application's own types a plugin's functions take, and the host
/// callback table it needs.
///
/// 1.2 added the field kind `HS_FIELD_STRUCT` and
/// `HsStructLayout::field_layouts`: a C plugin describes a nested struct
/// field by the nested type's own layout, compared field by field.
pub const HS_ABI_MINOR: u16 = 2;
/// The most parameters a native function may take.
pub const HS_MAX_PARAMS: usize = 16;
/// The most functions one plugin may export.
pub const HS_MAX_FUNCTIONS: usize = 4096;
/// The longest plugin or function name, in bytes.
pub const HS_MAX_NAME_LEN: usize = 255;
/// The longest string a host copies from a plugin, in bytes (16 MiB): a
/// string result or an error message. A longer one fails the call.
pub const HS_MAX_STR_LEN: usize = 16 << 20;
/// The most state bytes a host copies from a `save_state` hook (256 MiB).
/// More fails the save, and the new build starts fresh.
pub const HS_MAX_STATE_LEN: usize = 256 << 20;

/// Name of the symbol every plugin exports: `const HsPluginDescriptor *hotslot_plugin(void)`.
pub const HS_DESCRIPTOR_SYMBOL: &str = "hotslot_plugin";
/// Name of the version function every plugin exports: `int get_version(void)`.
///
/// It returns the plugin's major version, which must equal
/// `HsPluginDescriptor::version.major`.
pub const HS_GET_VERSION_SYMBOL: &str = "get_version";
/// Name of the symbol Rust plugins also export: `const HsRustLayout *hotslot_rust_layout(void)`.
pub const HS_RUST_LAYOUT_SYMBOL: &str = "hotslot_rust_layout";
/// Name of the optional symbol of ABI 1.1: `const HsPluginExt *hotslot_plugin_ext(void)`.
/// A plugin exports it when a function takes an application's type or when
/// it needs a host callback table.
pub const HS_EXT_SYMBOL: &str = "hotslot_plugin_ext";
/// The most fields an application's type may have, as a plugin describes it.
pub const HS_MAX_FIELDS: usize = 256;

/// Whether a field ending at byte `end` of its struct is present in a build
/// whose struct is `struct_size` bytes long.
///
/// This is how a host reads a struct written by a plugin built against an
/// older or newer minor version of the ABI: fields past the plugin's
/// `struct_size` do not exist in that build and must not be read.
///
/// ```
/// use hotslot_plugin_api::field_in;
/// // A field occupying bytes 24..32 is present in a 32-byte build ...
/// assert!(field_in(32, 32));
/// // ... and in a newer, larger build ...
/// assert!(field_in(48, 32));
/// // ... but not in an older build that stopped at 24 bytes.
/// assert!(!field_in(24, 32));
/// ```
pub const fn field_in(struct_size: u32, end: usize) -> bool {
    struct_size as usize >= end
}

/// A borrowed UTF-8 string: `len` bytes at `ptr`, not NUL-terminated.
///
/// `ptr` may be null only when `len` is 0. Whoever passes an `HsStr` keeps
/// ownership; the receiver must copy what it wants to keep, and the view is
/// valid only for the duration of the call it was passed to.
///
/// Append-only: new fields go at the end.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct HsStr {
    /// First byte, or null when `len` is 0.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl HsStr {
    /// The empty string.
    pub const EMPTY: HsStr = HsStr {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// A view of `s`; valid as long as `s` is.
    pub const fn from_str(s: &str) -> HsStr {
        HsStr {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// The bytes this view points at.
    ///
    /// # Safety
    ///
    /// `ptr` must be null with `len == 0`, or point to `len` initialized bytes
    /// that stay valid and unchanged for `'a`.
    pub unsafe fn as_bytes<'a>(self) -> &'a [u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: the caller guarantees `ptr` points to `len` valid bytes for 'a,
        // and `len > 0` means `ptr` is not the null of an empty view.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The string this view points at, when it is UTF-8.
    ///
    /// # Safety
    ///
    /// As for [`HsStr::as_bytes`].
    pub unsafe fn to_str<'a>(self) -> Result<&'a str, core::str::Utf8Error> {
        // SAFETY: forwarded to the caller.
        core::str::from_utf8(unsafe { self.as_bytes() })
    }
}

impl fmt::Debug for HsStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsStr")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }
}

/// A borrowed byte buffer: `len` bytes at `ptr`. Ownership as for `HsStr`.
///
/// Append-only: new fields go at the end.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct HsBytes {
    /// First byte, or null when `len` is 0.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl HsBytes {
    /// A view of `b`; valid as long as `b` is.
    pub const fn from_slice(b: &[u8]) -> HsBytes {
        HsBytes {
            ptr: b.as_ptr(),
            len: b.len(),
        }
    }

    /// The bytes this view points at.
    ///
    /// # Safety
    ///
    /// `ptr` must be null with `len == 0`, or point to `len` initialized bytes
    /// that stay valid and unchanged for `'a`.
    pub unsafe fn as_slice<'a>(self) -> &'a [u8] {
        // SAFETY: same contract as `HsStr::as_bytes`, forwarded to the caller.
        unsafe {
            HsStr {
                ptr: self.ptr,
                len: self.len,
            }
            .as_bytes()
        }
    }
}

/// A value type tag. The set grows by adding constants, never by
/// renumbering, so it is a plain byte rather than a C enum.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HsType(pub u8);

/// No value: only valid as a return type.
pub const HS_TYPE_VOID: HsType = HsType(0);
/// A signed 32-bit integer, `HsValue::i32`.
pub const HS_TYPE_I32: HsType = HsType(1);
/// A signed 64-bit integer, `HsValue::i64`.
pub const HS_TYPE_I64: HsType = HsType(2);
/// A 64-bit IEEE float, `HsValue::f64`.
pub const HS_TYPE_F64: HsType = HsType(3);
/// A boolean, `HsValue::boolean`: 0 or 1.
pub const HS_TYPE_BOOL: HsType = HsType(4);
/// A UTF-8 string, `HsValue::str`.
pub const HS_TYPE_STR: HsType = HsType(5);
/// (1.1) Bytes, `HsValue::str` read as a pointer and a length in bytes:
/// borrowed from the caller as a parameter; as a result, passed to
/// `HsCallCtx::return_bytes`, which copies them.
pub const HS_TYPE_BYTES: HsType = HsType(6);
/// (1.1) A pointer to one value of an application's type, read-only:
/// `HsValue::str` read as the pointer (`ptr`) and the count 1 (`len`). The
/// type is named by the function's entry in `HsPluginExt`.
pub const HS_TYPE_REF: HsType = HsType(7);
/// (1.1) As `HS_TYPE_REF`, and the function may write the value.
pub const HS_TYPE_REF_MUT: HsType = HsType(8);
/// (1.1) `len` values of an application's type at `ptr` (`HsValue::str`
/// read as the pointer and the count), read-only.
pub const HS_TYPE_SLICE: HsType = HsType(9);
/// (1.1) As `HS_TYPE_SLICE`, and the function may write the values.
pub const HS_TYPE_SLICE_MUT: HsType = HsType(10);

/// cbindgen:ignore
impl HsType {
    /// No value (return type only).
    pub const VOID: HsType = HS_TYPE_VOID;
    /// `i32`.
    pub const I32: HsType = HS_TYPE_I32;
    /// `i64`.
    pub const I64: HsType = HS_TYPE_I64;
    /// `f64`.
    pub const F64: HsType = HS_TYPE_F64;
    /// `bool`.
    pub const BOOL: HsType = HS_TYPE_BOOL;
    /// `str`.
    pub const STR: HsType = HS_TYPE_STR;
    /// `bytes` (1.1).
    pub const BYTES: HsType = HS_TYPE_BYTES;
    /// `&T` of an application's type (1.1).
    pub const REF: HsType = HS_TYPE_REF;
    /// `&mut T` (1.1).
    pub const REF_MUT: HsType = HS_TYPE_REF_MUT;
    /// `&[T]` (1.1).
    pub const SLICE: HsType = HS_TYPE_SLICE;
    /// `&mut [T]` (1.1).
    pub const SLICE_MUT: HsType = HS_TYPE_SLICE_MUT;

    /// Whether values of this type point at an application's type, named
    /// in `HsPluginExt`.
    pub const fn is_struct(self) -> bool {
        matches!(self.0, 7..=10)
    }

    /// The name used in signatures and assembly text, or `None` for a tag
    /// this ABI version does not know.
    ///
    /// ```
    /// use hotslot_plugin_api::HsType;
    /// assert_eq!(HsType::I32.name(), Some("i32"));
    /// assert_eq!(HsType::VOID.name(), Some("void"));
    /// assert_eq!(HsType(200).name(), None);
    /// ```
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "void",
            1 => "i32",
            2 => "i64",
            3 => "f64",
            4 => "bool",
            5 => "str",
            6 => "bytes",
            7 => "ref",
            8 => "ref mut",
            9 => "slice",
            10 => "slice mut",
            _ => return None,
        })
    }
}

/// The status a native function returns.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HsStatus(pub i32);

/// The call succeeded and `*ret` holds the result (or the string was passed
/// to `HsCallCtx::return_str`).
pub const HS_STATUS_OK: HsStatus = HsStatus(0);
/// The call failed; the message was passed to `HsCallCtx::set_error`.
pub const HS_STATUS_ERROR: HsStatus = HsStatus(1);
/// The function panicked (Rust) and the panic was caught in the plugin; the
/// panic message was passed to `HsCallCtx::set_error`.
pub const HS_STATUS_PANIC: HsStatus = HsStatus(2);

/// cbindgen:ignore
impl HsStatus {
    /// Success.
    pub const OK: HsStatus = HS_STATUS_OK;
    /// An error with a message.
    pub const ERROR: HsStatus = HS_STATUS_ERROR;
    /// A caught panic with its message.
    pub const PANIC: HsStatus = HS_STATUS_PANIC;
}

/// One value: an argument or a result of a native function, and one slot of
/// the host VM's stack, which is why arguments arrive as a slice with no copy.
///
/// The union carries no tag: the function's descriptor says which field each
/// argument and the result use, and the host checks every call against it.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub union HsValue {
    /// For `HS_TYPE_I32`.
    pub i32: i32,
    /// For `HS_TYPE_I64`.
    pub i64: i64,
    /// For `HS_TYPE_F64`.
    pub f64: f64,
    /// For `HS_TYPE_BOOL`: 0 or 1 when the host passes it; the host reads a
    /// returned boolean as "not zero".
    pub boolean: bool,
    /// For `HS_TYPE_STR`: borrowed from the host for the duration of the call.
    /// Also, read as a pointer and a length, for the 1.1 types `bytes`
    /// (bytes), `ref`, `ref mut` (one value) and `slice`, `slice mut` (that
    /// many values): the union keeps its 1.0 layout.
    pub str: HsStr,
}

impl HsValue {
    /// All bytes zero: `0`, `0.0`, `false` or the empty string.
    pub const ZERO: HsValue = HsValue { str: HsStr::EMPTY };
}

impl fmt::Debug for HsValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HsValue { .. }")
    }
}

/// The context of one native call, created by the host.
///
/// A plugin passes strings and error messages back through these callbacks;
/// the host copies them before the callback returns, so the plugin keeps
/// ownership of what it passes and no allocator crosses the boundary. Both
/// callbacks may be called from the thread running the call only, and only
/// until the call returns.
///
/// Append-only: new fields go at the end.
#[repr(C)]
#[derive(StableAbi)]
pub struct HsCallCtx {
    /// Size of this struct in the host's build.
    pub struct_size: u32,
    /// Sets the string result of a function whose return type is
    /// `HS_TYPE_STR`. The host copies `s`; a later call replaces an earlier
    /// one. Invalid UTF-8 fails the call.
    pub return_str: unsafe extern "C" fn(ctx: *mut HsCallCtx, s: HsStr),
    /// Sets the error message that goes with `HS_STATUS_ERROR` or
    /// `HS_STATUS_PANIC`. The host copies `message`.
    pub set_error: unsafe extern "C" fn(ctx: *mut HsCallCtx, message: HsStr),
    /// Sets the bytes of a state save (see `HsPluginDescriptor::save_state`).
    /// The host copies `state`.
    pub return_bytes: unsafe extern "C" fn(ctx: *mut HsCallCtx, state: HsBytes),
}

/// A semantic version `major.minor.patch`.
///
/// Append-only: new fields go at the end.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct HsVersion {
    /// Incompatible changes.
    pub major: u32,
    /// Compatible additions.
    pub minor: u32,
    /// Compatible fixes.
    pub patch: u32,
}

impl HsVersion {
    /// `major.minor.patch`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> HsVersion {
        HsVersion {
            major,
            minor,
            patch,
        }
    }

    /// Parses `"major.minor.patch"` in a const context, so a bad version in a
    /// plugin declaration is a compile error.
    ///
    /// ```
    /// use hotslot_plugin_api::HsVersion;
    /// const V: HsVersion = HsVersion::parse("1.20.3");
    /// assert_eq!(V, HsVersion::new(1, 20, 3));
    /// ```
    ///
    /// ```compile_fail
    /// use hotslot_plugin_api::HsVersion;
    /// const V: HsVersion = HsVersion::parse("1.2");
    /// ```
    pub const fn parse(s: &str) -> HsVersion {
        let b = s.as_bytes();
        let mut parts = [0u32; 3];
        let mut part = 0;
        let mut digits = 0;
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'.' {
                assert!(digits > 0, "version part is empty");
                part += 1;
                assert!(part < 3, "version has more than three parts");
                digits = 0;
            } else {
                assert!(c.is_ascii_digit(), "version part is not a number");
                assert!(
                    !(digits == 1 && parts[part] == 0),
                    "version part has a leading zero"
                );
                parts[part] = match parts[part].checked_mul(10) {
                    Some(v) => match v.checked_add((c - b'0') as u32) {
                        Some(v) => v,
                        None => panic!("version part overflows u32"),
                    },
                    None => panic!("version part overflows u32"),
                };
                digits += 1;
            }
            i += 1;
        }
        assert!(part == 2 && digits > 0, "version must be major.minor.patch");
        HsVersion::new(parts[0], parts[1], parts[2])
    }
}

impl fmt::Display for HsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A native function's single entry point: reads `nargs` arguments from
/// `args`, writes a non-string result to `*ret`, returns a status.
///
/// # Safety
///
/// The host calls it with the arguments its descriptor declares, each in the
/// union field of its type, a valid `ctx`, and `ret` pointing to writable
/// memory.
pub type HsEntry = unsafe extern "C" fn(
    ctx: *mut HsCallCtx,
    args: *const HsValue,
    nargs: usize,
    ret: *mut HsValue,
) -> HsStatus;

/// Describes one native function.
///
/// Append-only: new fields go at the end, and `struct_size` tells the host
/// which fields a plugin's build has.
#[repr(C)]
#[derive(StableAbi)]
pub struct HsFunctionDescriptor {
    /// `sizeof(HsFunctionDescriptor)` in the plugin's build.
    pub struct_size: u32,
    /// The function's name: an identifier, unique within the plugin.
    pub name: HsStr,
    /// `param_count` parameter type tags (never `HS_TYPE_VOID`).
    pub params: *const HsType,
    /// Number of parameters, at most `HS_MAX_PARAMS`.
    pub param_count: usize,
    /// Return type tag; `HS_TYPE_VOID` for none.
    pub ret: HsType,
    /// This function's own version; a slot checks it against its requirement.
    pub version: HsVersion,
    /// The entry point; never null. See `HsEntry`.
    pub call: Option<
        unsafe extern "C" fn(
            ctx: *mut HsCallCtx,
            args: *const HsValue,
            nargs: usize,
            ret: *mut HsValue,
        ) -> HsStatus,
    >,
}

// SAFETY: a function descriptor is immutable data (names, type tags and a
// function pointer) that plugins place in read-only statics; sharing it
// between threads only ever reads it.
unsafe impl Sync for HsFunctionDescriptor {}
// SAFETY: as above; moving the descriptor to another thread moves plain data.
unsafe impl Send for HsFunctionDescriptor {}

/// Describes a plugin: returned by its `hotslot_plugin` export.
///
/// Append-only: `magic`, `abi_major`, `abi_minor` and `struct_size` stay
/// first forever; new fields go at the end, and the host reads a field only
/// when `struct_size` says the plugin's build has it.
#[repr(C)]
#[derive(StableAbi)]
pub struct HsPluginDescriptor {
    /// Always `HS_MAGIC`.
    pub magic: u32,
    /// `HS_ABI_MAJOR` of the plugin's build.
    pub abi_major: u16,
    /// `HS_ABI_MINOR` of the plugin's build.
    pub abi_minor: u16,
    /// `sizeof(HsPluginDescriptor)` in the plugin's build.
    pub struct_size: u32,
    /// The plugin's name.
    pub name: HsStr,
    /// The plugin's version; `get_version()` returns its major.
    pub version: HsVersion,
    /// `function_count` pointers to function descriptors, none null.
    pub functions: *const *const HsFunctionDescriptor,
    /// Number of functions, at most `HS_MAX_FUNCTIONS`.
    pub function_count: usize,
    /// Version of the state format `save_state` writes and `load_state`
    /// reads; meaningful only when both hooks are set.
    pub state_version: u32,
    /// Optional: called on the old build before a reload; passes the plugin's
    /// state to `HsCallCtx::return_bytes` and returns `HS_STATUS_OK`.
    pub save_state: Option<unsafe extern "C" fn(ctx: *mut HsCallCtx) -> HsStatus>,
    /// Optional: called on the new build after a reload with the old build's
    /// state and its `state_version`. Returns `HS_STATUS_ERROR` (with a
    /// message) when it does not accept that version; the new build then
    /// starts fresh.
    pub load_state:
        Option<unsafe extern "C" fn(ctx: *mut HsCallCtx, version: u32, state: HsBytes) -> HsStatus>,
}

// SAFETY: the plugin descriptor is immutable data placed in a read-only
// static; sharing it between threads only ever reads it.
unsafe impl Sync for HsPluginDescriptor {}
// SAFETY: as above.
unsafe impl Send for HsPluginDescriptor {}

/// (1.1) The kind of a field of an application's type, as a C plugin's
/// compiler saw it (`HS_FIELD` in `hotslot_shim.h` records it).
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HsFieldKind(pub u8);

/// A field of another kind: a pointer or a function pointer; its offset
/// and size are compared, not what it points to. (A nested struct of a
/// plugin built before ABI 1.2, described by its size only, is refused.)
pub const HS_FIELD_OTHER: HsFieldKind = HsFieldKind(0);
/// `int8_t` / `i8`.
pub const HS_FIELD_I8: HsFieldKind = HsFieldKind(1);
/// `uint8_t` / `u8`.
pub const HS_FIELD_U8: HsFieldKind = HsFieldKind(2);
/// `int16_t` / `i16`.
pub const HS_FIELD_I16: HsFieldKind = HsFieldKind(3);
/// `uint16_t` / `u16`.
pub const HS_FIELD_U16: HsFieldKind = HsFieldKind(4);
/// `int32_t` / `i32`.
pub const HS_FIELD_I32: HsFieldKind = HsFieldKind(5);
/// `uint32_t` / `u32`.
pub const HS_FIELD_U32: HsFieldKind = HsFieldKind(6);
/// `int64_t` / `i64`.
pub const HS_FIELD_I64: HsFieldKind = HsFieldKind(7);
/// `uint64_t` / `u64`.
pub const HS_FIELD_U64: HsFieldKind = HsFieldKind(8);
/// `float` / `f32`.
pub const HS_FIELD_F32: HsFieldKind = HsFieldKind(9);
/// `double` / `f64`.
pub const HS_FIELD_F64: HsFieldKind = HsFieldKind(10);
/// `bool` (C's `_Bool`).
pub const HS_FIELD_BOOL: HsFieldKind = HsFieldKind(11);
/// (1.2) A nested struct, or an array of them: its layout is
/// `HsStructLayout::field_layouts[i]`, compared field by field.
pub const HS_FIELD_STRUCT: HsFieldKind = HsFieldKind(12);

/// cbindgen:ignore
impl HsFieldKind {
    /// The kind's name in messages, or `None` for a kind this ABI version
    /// does not know.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "other",
            1 => "i8",
            2 => "u8",
            3 => "i16",
            4 => "u16",
            5 => "i32",
            6 => "u32",
            7 => "i64",
            8 => "u64",
            9 => "f32",
            10 => "f64",
            11 => "bool",
            12 => "struct",
            _ => return None,
        })
    }
}

/// (1.1) One field of an application's type, as laid out in the plugin's
/// build.
///
/// Append-only: new fields go at the end.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct HsField {
    /// The field's name.
    pub name: HsStr,
    /// Its offset in the struct, in bytes.
    pub offset: usize,
    /// Its size in bytes.
    pub size: usize,
    /// Its kind; for an array, the kind of its elements.
    pub kind: HsFieldKind,
    /// For an array, its number of elements; otherwise 1.
    pub count: usize,
}

/// (1.1) An application's `#[repr(C)]` type as a plugin's build lays it
/// out: its name, size and alignment, and either its fields (C plugins,
/// compared field by field with the host's definition) or its `abi_stable`
/// layout (Rust plugins, checked with `abi_stable`).
///
/// Append-only: `struct_size` says which fields a plugin's build has.
#[repr(C)]
#[derive(StableAbi)]
pub struct HsStructLayout {
    /// `sizeof(HsStructLayout)` in the plugin's build.
    pub struct_size: u32,
    /// The type's name, as the application's interface crate spells it.
    pub name: HsStr,
    /// `sizeof` the type.
    pub size: usize,
    /// Its alignment.
    pub align: usize,
    /// `field_count` fields in declaration order; null in Rust plugins.
    pub fields: *const HsField,
    /// Number of fields, at most `HS_MAX_FIELDS`.
    pub field_count: usize,
    /// A Rust plugin's `&'static abi_stable::type_layout::TypeLayout` of the
    /// type; null in C plugins.
    pub rust_layout: *const core::ffi::c_void,
    /// (1.2) `field_count` entries, one per field: the layout of a field of
    /// kind `HS_FIELD_STRUCT` (of its element type, for an array), null for
    /// any other field. Null in Rust plugins.
    pub field_layouts: *const *const HsStructLayout,
}

// SAFETY: a layout record is immutable data in a read-only static; sharing
// it between threads only reads it.
unsafe impl Sync for HsStructLayout {}
// SAFETY: as above.
unsafe impl Send for HsStructLayout {}

/// (1.1) The application's types one function takes: for each parameter
/// of a struct type (`HS_TYPE_REF` to `HS_TYPE_SLICE_MUT`), its layout.
///
/// Append-only: `struct_size` says which fields a plugin's build has.
#[repr(C)]
#[derive(StableAbi)]
pub struct HsFunctionTypes {
    /// `sizeof(HsFunctionTypes)` in the plugin's build.
    pub struct_size: u32,
    /// The function, by its name in the descriptor.
    pub function: HsStr,
    /// `param_count` layouts, one per parameter; null for a parameter that
    /// is not of a struct type.
    pub params: *const *const HsStructLayout,
    /// The function's number of parameters.
    pub param_count: usize,
}

// SAFETY: as for `HsStructLayout`.
unsafe impl Sync for HsFunctionTypes {}
// SAFETY: as above.
unsafe impl Send for HsFunctionTypes {}

/// (1.1) The host callback table a plugin needs: an application-defined
/// `#[repr(C)]` struct of function pointers, named and versioned by the
/// application. The host checks the name, the version (same major, its
/// minor at least the plugin's) and the layout, then calls `set` with its
/// table before any of the plugin's functions runs.
///
/// Append-only: `struct_size` says which fields a plugin's build has.
#[repr(C)]
#[derive(StableAbi)]
pub struct HsHostRequest {
    /// `sizeof(HsHostRequest)` in the plugin's build.
    pub struct_size: u32,
    /// The table's name, as the application names it (e.g. `particles.Host`).
    pub name: HsStr,
    /// The table's version the plugin was built against.
    pub version: HsVersion,
    /// The table's layout in the plugin's build.
    pub layout: *const HsStructLayout,
    /// Receives the host's table; it stays valid while the build is loaded.
    pub set: Option<unsafe extern "C" fn(table: *const core::ffi::c_void)>,
}

// SAFETY: as for `HsStructLayout`.
unsafe impl Sync for HsHostRequest {}
// SAFETY: as above.
unsafe impl Send for HsHostRequest {}

/// (1.1) What `hotslot_plugin_ext` returns: everything ABI 1.1 added to a
/// plugin's description. A 1.0 host does not look it up.
///
/// Append-only: `struct_size` says which fields a plugin's build has.
#[repr(C)]
#[derive(StableAbi)]
pub struct HsPluginExt {
    /// `sizeof(HsPluginExt)` in the plugin's build.
    pub struct_size: u32,
    /// `function_count` pointers to entries, one per function that takes
    /// an application's type (in any order), none null.
    pub functions: *const *const HsFunctionTypes,
    /// Number of entries, at most `HS_MAX_FUNCTIONS`.
    pub function_count: usize,
    /// The host callback table the plugin needs, or null for none.
    pub host: *const HsHostRequest,
}

// SAFETY: as for `HsStructLayout`.
unsafe impl Sync for HsPluginExt {}
// SAFETY: as above.
unsafe impl Send for HsPluginExt {}

/// What a Rust plugin exports through `hotslot_rust_layout` so that the host
/// can check, with `abi_stable`, that the plugin was built against the same
/// types. C plugins do not export it.
///
/// Append-only: new fields go at the end.
#[repr(C)]
pub struct HsRustLayout {
    /// `abi_stable`'s own ABI version in the plugin's build; the host checks
    /// it before reading `descriptor_layout`.
    pub header: abi_stable::library::AbiHeader,
    /// Layout of `HsPluginDescriptor` (and everything it points to) in the
    /// plugin's build.
    pub descriptor_layout: &'static abi_stable::type_layout::TypeLayout,
}

/// An ABI version as found at the head of a plugin descriptor.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct AbiVersion {
    /// `abi_major`.
    pub major: u16,
    /// `abi_minor`.
    pub minor: u16,
}

impl AbiVersion {
    /// The version this crate implements.
    pub const CURRENT: AbiVersion = AbiVersion::new(HS_ABI_MAJOR, HS_ABI_MINOR);

    /// `major.minor`.
    pub const fn new(major: u16, minor: u16) -> AbiVersion {
        AbiVersion { major, minor }
    }

    /// Whether a host built with `self` can load a plugin built with `plugin`.
    ///
    /// The rule: the majors are equal. The minors need not be: minor versions
    /// only append fields, so a plugin of an older minor lacks fields the
    /// host then treats as absent, and a plugin of a newer minor has fields
    /// the host does not know and never reads. `struct_size`, not the minor,
    /// decides which fields are read.
    ///
    /// ```
    /// use hotslot_plugin_api::AbiVersion;
    /// let host = AbiVersion::new(1, 2);
    /// assert!(host.is_compatible(AbiVersion::new(1, 2))); // same build
    /// assert!(host.is_compatible(AbiVersion::new(1, 0))); // older plugin
    /// assert!(host.is_compatible(AbiVersion::new(1, 9))); // newer plugin
    /// assert!(!host.is_compatible(AbiVersion::new(2, 0))); // other major
    /// assert!(!host.is_compatible(AbiVersion::new(0, 2)));
    /// ```
    pub const fn is_compatible(self, plugin: AbiVersion) -> bool {
        self.major == plugin.major
    }
}

impl fmt::Display for AbiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, size_of};

    #[test]
    fn value_is_two_words() {
        assert_eq!(size_of::<HsValue>(), 2 * size_of::<usize>());
        assert_eq!(
            align_of::<HsValue>(),
            align_of::<u64>().max(align_of::<usize>())
        );
    }

    #[test]
    fn tags_are_bytes() {
        assert_eq!(size_of::<HsType>(), 1);
        assert_eq!(size_of::<HsStatus>(), 4);
    }

    #[test]
    fn header_fields_stay_first() {
        assert_eq!(core::mem::offset_of!(HsPluginDescriptor, magic), 0);
        assert_eq!(core::mem::offset_of!(HsPluginDescriptor, abi_major), 4);
        assert_eq!(core::mem::offset_of!(HsPluginDescriptor, abi_minor), 6);
        assert_eq!(core::mem::offset_of!(HsPluginDescriptor, struct_size), 8);
    }

    #[test]
    fn magic_reads_hslt() {
        assert_eq!(HS_MAGIC.to_le_bytes(), *b"HSLT");
    }

    #[test]
    fn version_parse() {
        assert_eq!(HsVersion::parse("0.0.0"), HsVersion::new(0, 0, 0));
        assert_eq!(HsVersion::parse("10.2.33"), HsVersion::new(10, 2, 33));
        assert_eq!(HsVersion::parse("1.2.3").to_string(), "1.2.3");
    }

    #[test]
    fn every_known_tag_has_a_name() {
        for t in 0..=10 {
            assert!(HsType(t).name().is_some());
        }
        assert!(HsType(11).name().is_none());
        for k in 0..=12 {
            assert!(HsFieldKind(k).name().is_some());
        }
        assert!(HsFieldKind(13).name().is_none());
    }
}
