//! Writing plugins in Rust: the types a native function may take and return,
//! and the machinery behind [`plugin!`](crate::plugin).

use std::fmt::Display;
use std::marker::PhantomData;

use abi_stable::StableAbi;

use crate::abi::{HsBytes, HsCallCtx, HsStatus, HsStr, HsStructLayout, HsType, HsValue, HsVersion};

/// A Rust type with an ABI type tag.
pub trait HsTyped {
    /// The tag of this type in a descriptor.
    const TYPE: HsType;
    /// For a reference or slice of an application's type, that type's
    /// layout record (1.1).
    const STRUCT: Option<&'static HsStructLayout> = None;
}

/// An application's `#[repr(C)]` type that plugin functions take by
/// reference or slice (`&T`, `&mut T`, `&[T]`, `&mut [T]`), defined once in
/// the application's interface crate and shared by the host and its
/// plugins. Implement it with [`hs_struct!`](crate::hs_struct).
///
/// The host checks a plugin's view of the type before binding any of its
/// functions: a Rust plugin's with `abi_stable` (the type derives
/// `StableAbi`), a C plugin's field by field against the host's.
///
/// # Safety
///
/// The type is `#[repr(C)]` and every bit pattern its fields may hold on
/// the other side of the boundary is valid for it (plain numbers, arrays,
/// nested such types, and function pointers the host fills in).
pub unsafe trait HsStruct: StableAbi + Sized + 'static {
    /// The type's name: the one a C plugin's `HS_STRUCT` gives it.
    const NAME: &'static str;
}

/// An application's host callback table (1.1): a [`HsStruct`] of function
/// pointers the host fills in and hands to every plugin that asks for it
/// (`host = Table;` in [`plugin!`](crate::plugin)). Implement it with
/// [`hs_host_table!`](crate::hs_host_table).
///
/// Append-only, like the ABI's own structs: a new minor version only adds
/// fields at the end.
///
/// # Safety
///
/// As for [`HsStruct`].
pub unsafe trait HsHostTable: HsStruct {
    /// The table's version: a plugin built against `major.minor` is served
    /// by a host whose table has the same major and at least that minor.
    const VERSION: HsVersion;
}

/// The layout record of `T` a Rust plugin exports: its name, size and
/// alignment, and its `abi_stable` layout.
pub struct StructRecord<T>(PhantomData<T>);

impl<T: HsStruct> StructRecord<T> {
    /// The record.
    pub const LAYOUT: HsStructLayout = HsStructLayout {
        struct_size: size_of::<HsStructLayout>() as u32,
        name: HsStr::from_str(T::NAME),
        size: size_of::<T>(),
        align: align_of::<T>(),
        fields: std::ptr::null(),
        field_count: 0,
        rust_layout: std::ptr::from_ref(T::LAYOUT).cast(),
        field_layouts: std::ptr::null(),
    };
}

/// Implements [`HsStruct`] for the named `#[repr(C)]` types of an interface
/// crate (each derives `abi_stable::StableAbi`).
///
/// ```
/// use abi_stable::StableAbi;
///
/// /// A point that moves.
/// #[repr(C)]
/// #[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq)]
/// pub struct Particle {
///     pub pos: [f32; 2],
///     pub vel: [f32; 2],
/// }
///
/// hotslot_plugin_api::hs_struct!(Particle);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! hs_struct {
    ($($ty:ident),+ $(,)?) => {$(
        // SAFETY: the interface crate declares the type `#[repr(C)]` with
        // `StableAbi`, whose layout the host checks before any call.
        unsafe impl $crate::author::HsStruct for $ty {
            const NAME: &'static str = stringify!($ty);
        }
    )+};
}

/// Implements [`HsHostTable`] (and [`HsStruct`]) for an interface crate's
/// callback table: its name as plugins ask for it, and its version.
///
/// ```
/// use abi_stable::StableAbi;
/// use hotslot_plugin_api::HsStr;
///
/// /// What plugins may ask of the host.
/// #[repr(C)]
/// #[derive(StableAbi)]
/// pub struct Host {
///     /// Writes a line to the host's log.
///     pub log: unsafe extern "C" fn(message: HsStr),
/// }
///
/// hotslot_plugin_api::hs_host_table!(Host, "particles.Host", 1, 0);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! hs_host_table {
    ($ty:ident, $name:literal, $major:literal, $minor:literal) => {
        // SAFETY: as for `hs_struct!`.
        unsafe impl $crate::author::HsStruct for $ty {
            const NAME: &'static str = $name;
        }
        // SAFETY: as above.
        unsafe impl $crate::author::HsHostTable for $ty {
            const VERSION: $crate::HsVersion = $crate::HsVersion::new($major, $minor, 0);
        }
    };
}

/// A Rust type a native function can take as a parameter.
pub trait Param<'a>: HsTyped + Sized {
    /// Reads the argument.
    ///
    /// # Safety
    ///
    /// `v` holds a value of type `Self::TYPE` in the matching union field, as
    /// the host guarantees for every argument it passes; for strings the view
    /// is valid UTF-8 for `'a`.
    unsafe fn from_value(v: &'a HsValue) -> Self;
}

/// A Rust type a native function can return.
pub trait Return: HsTyped {
    /// Writes the result through `out` and returns the call's status.
    fn write(self, out: &mut Output<'_>) -> HsStatus;
}

macro_rules! scalar {
    ($ty:ty, $tag:ident, $field:ident) => {
        impl HsTyped for $ty {
            const TYPE: HsType = HsType::$tag;
        }
        impl Param<'_> for $ty {
            unsafe fn from_value(v: &HsValue) -> Self {
                // SAFETY: the caller guarantees `v` holds this type's field.
                unsafe { v.$field }
            }
        }
        impl Return for $ty {
            fn write(self, out: &mut Output<'_>) -> HsStatus {
                out.set(HsValue { $field: self });
                HsStatus::OK
            }
        }
    };
}

scalar!(i32, I32, i32);
scalar!(i64, I64, i64);
scalar!(f64, F64, f64);

impl HsTyped for bool {
    const TYPE: HsType = HsType::BOOL;
}

impl Param<'_> for bool {
    unsafe fn from_value(v: &HsValue) -> Self {
        // SAFETY: the caller guarantees `v` holds a boolean, so its first byte
        // is initialized; reading it as `u8` stays defined even for a byte
        // other than 0 or 1.
        unsafe { *(v as *const HsValue).cast::<u8>() != 0 }
    }
}

impl Return for bool {
    fn write(self, out: &mut Output<'_>) -> HsStatus {
        out.set(HsValue { boolean: self });
        HsStatus::OK
    }
}

impl HsTyped for () {
    const TYPE: HsType = HsType::VOID;
}

impl Return for () {
    fn write(self, _: &mut Output<'_>) -> HsStatus {
        HsStatus::OK
    }
}

impl HsTyped for &str {
    const TYPE: HsType = HsType::STR;
}

impl<'a> Param<'a> for &'a str {
    unsafe fn from_value(v: &'a HsValue) -> Self {
        // SAFETY: the caller guarantees `v` holds a string view that is valid
        // UTF-8 for 'a.
        unsafe { std::str::from_utf8_unchecked(v.str.as_bytes()) }
    }
}

impl Return for &str {
    fn write(self, out: &mut Output<'_>) -> HsStatus {
        out.set_str(self);
        HsStatus::OK
    }
}

impl HsTyped for String {
    const TYPE: HsType = HsType::STR;
}

impl HsTyped for &[u8] {
    const TYPE: HsType = HsType::BYTES;
}

/// Bytes borrowed from the caller for the call.
impl<'a> Param<'a> for &'a [u8] {
    unsafe fn from_value(v: &'a HsValue) -> Self {
        // SAFETY: the caller guarantees `v` holds a view of `len` bytes
        // valid for 'a.
        unsafe { v.str.as_bytes() }
    }
}

impl HsTyped for Vec<u8> {
    const TYPE: HsType = HsType::BYTES;
}

/// Bytes the host copies.
impl Return for Vec<u8> {
    fn write(self, out: &mut Output<'_>) -> HsStatus {
        out.set_bytes(&self);
        HsStatus::OK
    }
}

impl Return for &[u8] {
    fn write(self, out: &mut Output<'_>) -> HsStatus {
        out.set_bytes(self);
        HsStatus::OK
    }
}

/// The pointer and count of a struct parameter, as the host passes them.
///
/// # Safety
///
/// `v` holds a struct view: `len` values of `T` at `ptr` (null only when
/// `len` is 0).
unsafe fn struct_view<T>(v: &HsValue) -> (*mut T, usize) {
    // SAFETY: the caller guarantees `v` holds the `str` view of a struct
    // parameter.
    let view = unsafe { v.str };
    let ptr = if view.len == 0 {
        std::ptr::NonNull::<T>::dangling().as_ptr()
    } else {
        view.ptr.cast::<T>().cast_mut()
    };
    (ptr, view.len)
}

macro_rules! struct_param {
    ($ty:ty, $tag:ident, |$v:ident| $read:expr) => {
        impl<'a, T: HsStruct> HsTyped for $ty {
            const TYPE: HsType = HsType::$tag;
            const STRUCT: Option<&'static HsStructLayout> = Some(&StructRecord::<T>::LAYOUT);
        }

        impl<'a, T: HsStruct> Param<'a> for $ty {
            unsafe fn from_value($v: &'a HsValue) -> Self {
                // SAFETY: the host passes `len` values of `T` (one for a
                // reference) at `ptr`, laid out as this build's `T` (it
                // checked the layout before binding), valid and not
                // aliased for the call.
                unsafe { $read }
            }
        }
    };
}

struct_param!(&'a T, REF, |v| &*struct_view::<T>(v).0);
struct_param!(&'a mut T, REF_MUT, |v| &mut *struct_view::<T>(v).0);
struct_param!(&'a [T], SLICE, |v| {
    let (ptr, len) = struct_view::<T>(v);
    std::slice::from_raw_parts(ptr, len)
});
struct_param!(&'a mut [T], SLICE_MUT, |v| {
    let (ptr, len) = struct_view::<T>(v);
    std::slice::from_raw_parts_mut(ptr, len)
});

impl Return for String {
    fn write(self, out: &mut Output<'_>) -> HsStatus {
        out.set_str(&self);
        HsStatus::OK
    }
}

impl<T: HsTyped, E> HsTyped for Result<T, E> {
    const TYPE: HsType = T::TYPE;
    const STRUCT: Option<&'static HsStructLayout> = T::STRUCT;
}

/// `Err(e)` fails the call with `e`'s message.
impl<T: Return, E: Display> Return for Result<T, E> {
    fn write(self, out: &mut Output<'_>) -> HsStatus {
        match self {
            Ok(v) => v.write(out),
            Err(e) => out.error(&e.to_string()),
        }
    }
}

/// Where a native function's result goes: the host's result slot and call
/// context.
pub struct Output<'a> {
    ctx: *mut HsCallCtx,
    ret: *mut HsValue,
    _call: PhantomData<&'a mut HsCallCtx>,
}

impl Output<'_> {
    /// Wraps the pointers the host passed to an entry point.
    ///
    /// # Safety
    ///
    /// `ctx` and `ret` are the valid pointers of the current call, and the
    /// `Output` does not outlive it.
    #[inline]
    pub unsafe fn new(ctx: *mut HsCallCtx, ret: *mut HsValue) -> Self {
        Output {
            ctx,
            ret,
            _call: PhantomData,
        }
    }

    /// Writes a non-string result.
    pub fn set(&mut self, v: HsValue) {
        // SAFETY: `ret` is the host's writable result slot for this call
        // (`Output::new`'s contract).
        unsafe { self.ret.write(v) }
    }

    /// Passes a string result to the host, which copies it.
    pub fn set_str(&mut self, s: &str) {
        // SAFETY: `ctx` is the valid context of the current call, and `s`
        // outlives the callback, which copies it.
        unsafe { ((*self.ctx).return_str)(self.ctx, HsStr::from_str(s)) }
    }

    /// Passes bytes (a `bytes` result, or state) to the host, which copies
    /// them.
    pub fn set_bytes(&mut self, b: &[u8]) {
        // SAFETY: as for `set_str`.
        unsafe { ((*self.ctx).return_bytes)(self.ctx, HsBytes::from_slice(b)) }
    }

    /// Passes an error message to the host and returns `HS_STATUS_ERROR`.
    pub fn error(&mut self, message: &str) -> HsStatus {
        self.message(message);
        HsStatus::ERROR
    }

    pub(crate) fn message(&mut self, message: &str) {
        // SAFETY: as for `set_str`.
        unsafe { ((*self.ctx).set_error)(self.ctx, HsStr::from_str(message)) }
    }
}

/// Replaces this plugin's panic hook with one that prints nothing.
///
/// Each Rust plugin has its own copy of `std`, and so its own hook. The
/// default hook prints to stderr and may capture a backtrace, whose
/// thread-local state keeps the library mapped after the host releases it;
/// the message is reported through the call's error status instead.
pub fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

/// Declares a Rust plugin: its name and version, and the typed functions it
/// exports.
///
/// Each function is written as ordinary Rust and stays callable as such. The
/// macro adds, for each, a wrapper with the uniform ABI entry point that
/// reads the arguments from the host's value slice, calls the function,
/// writes its result and turns an `Err` or a panic into an error status. It
/// also emits the descriptor and the three exports: `hotslot_plugin`,
/// `get_version` (the plugin's major) and `hotslot_rust_layout`.
///
/// Parameters may be `i32`, `i64`, `f64`, `bool` and `&str`; results
/// additionally `()`, `String`, and `Result<T, E: Display>` of any of them.
/// A function's version defaults to the plugin's; `#[version = "x.y.z"]`
/// sets its own.
///
/// ```
/// use std::sync::atomic::{AtomicI64, Ordering};
///
/// static TOTAL: AtomicI64 = AtomicI64::new(0);
///
/// fn save() -> Vec<u8> {
///     TOTAL.load(Ordering::SeqCst).to_le_bytes().to_vec()
/// }
///
/// fn load(version: u32, state: &[u8]) -> Result<(), String> {
///     let bytes: [u8; 8] = state.try_into().map_err(|_| "expected 8 bytes".to_string())?;
///     if version != 1 {
///         return Err(format!("unknown state version {version}"));
///     }
///     TOTAL.store(i64::from_le_bytes(bytes), Ordering::SeqCst);
///     Ok(())
/// }
///
/// hotslot_plugin_api::plugin! {
///     name = "math_ops";
///     version = "1.0.0";
///     state = { version: 1, save: save, load: load };
///
///     /// Adds two integers.
///     pub fn math_add(a: i32, b: i32) -> i32 {
///         a.wrapping_add(b)
///     }
///
///     /// Divides, or fails with a message.
///     #[version = "1.1.0"]
///     pub fn safe_div(a: i64, b: i64) -> Result<i64, String> {
///         a.checked_div(b).ok_or_else(|| format!("cannot divide {a} by {b}"))
///     }
///
///     /// Adds to a running total that survives reloads.
///     pub fn accumulate(x: i64) -> i64 {
///         TOTAL.fetch_add(x, Ordering::SeqCst) + x
///     }
/// }
///
/// fn main() {
///     // SAFETY: `hotslot_plugin` returns a pointer to a static.
///     let d = unsafe { &*hotslot_plugin() };
///     // SAFETY: the table holds `function_count` valid pointers.
///     let f = unsafe { &**d.functions.add(1) };
///     assert_eq!(f.version, hotslot_plugin_api::HsVersion::new(1, 1, 0));
///     assert_eq!(d.state_version, 1);
///     assert!(d.save_state.is_some() && d.load_state.is_some());
///     assert_eq!(safe_div(7, 2), Ok(3));
/// }
/// ```
///
/// Optional state kept across reloads (see the state hooks of
/// `HsPluginDescriptor`) is declared after the version, as above:
/// `state = { version: 1, save: save_fn, load: load_fn };` with
/// `fn save_fn() -> Vec<u8>` and `fn load_fn(u32, &[u8]) -> Result<(), String>`.
#[macro_export]
macro_rules! plugin {
    (
        name = $name:literal;
        version = $version:literal;
        state = { version: $sv:expr, save: $save:path, load: $load:path $(,)? };
        host = $host:ty;
        $($items:tt)*
    ) => {
        $crate::__plugin_emit! { [$name] [$version] [$sv] [$save] [$load] [$host] $($items)* }
    };
    (
        name = $name:literal;
        version = $version:literal;
        state = { version: $sv:expr, save: $save:path, load: $load:path $(,)? };
        $($items:tt)*
    ) => {
        $crate::__plugin_emit! { [$name] [$version] [$sv] [$save] [$load] [] $($items)* }
    };
    (
        name = $name:literal;
        version = $version:literal;
        host = $host:ty;
        $($items:tt)*
    ) => {
        $crate::__plugin_emit! { [$name] [$version] [] [] [] [$host] $($items)* }
    };
    (
        name = $name:literal;
        version = $version:literal;
        $($items:tt)*
    ) => {
        $crate::__plugin_emit! { [$name] [$version] [] [] [] [] $($items)* }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_emit {
    (
        [$name:literal] [$version:literal]
        [$($sv:expr)?] [$($save:path)?] [$($load:path)?] [$($host:ty)?]
        $($items:tt)*
    ) => {
        $crate::__plugin_items! { @fns [] $version; $($items)* }
        $crate::__plugin_items! { @table [] $($items)* }
        $crate::__plugin_host! { $($host)? }

        #[doc(hidden)]
        static __HOTSLOT_DESCRIPTOR: $crate::HsPluginDescriptor = $crate::HsPluginDescriptor {
            magic: $crate::HS_MAGIC,
            abi_major: $crate::HS_ABI_MAJOR,
            abi_minor: $crate::HS_ABI_MINOR,
            struct_size: ::core::mem::size_of::<$crate::HsPluginDescriptor>() as u32,
            name: $crate::HsStr::from_str($name),
            version: $crate::HsVersion::parse($version),
            functions: __HOTSLOT_FUNCTIONS.as_ptr().cast(),
            function_count: __HOTSLOT_FUNCTIONS.len(),
            state_version: $crate::__state_version!($($sv)?),
            save_state: $crate::__state_hook!(save $($save)?),
            load_state: $crate::__state_hook!(load $($load)?),
        };

        /// The plugin descriptor, for the host.
        #[unsafe(no_mangle)]
        pub extern "C" fn hotslot_plugin() -> *const $crate::HsPluginDescriptor {
            $crate::author::install_quiet_panic_hook();
            &__HOTSLOT_DESCRIPTOR
        }

        /// The plugin's major version (which the host checks against the descriptor).
        #[unsafe(no_mangle)]
        pub extern "C" fn get_version() -> i32 {
            $crate::HsVersion::parse($version).major as i32
        }

        /// The `abi_stable` layout of the descriptor, for the host's check.
        #[unsafe(no_mangle)]
        pub extern "C" fn hotslot_rust_layout() -> *const $crate::HsRustLayout {
            static LAYOUT: $crate::HsRustLayout = $crate::HsRustLayout {
                header: $crate::__private::AbiHeader::VALUE,
                descriptor_layout: <$crate::HsPluginDescriptor as $crate::__private::StableAbi>::LAYOUT,
            };
            &LAYOUT
        }

        #[doc(hidden)]
        static __HOTSLOT_EXT: $crate::HsPluginExt = $crate::HsPluginExt {
            struct_size: ::core::mem::size_of::<$crate::HsPluginExt>() as u32,
            functions: __HOTSLOT_FUNCTION_TYPES.as_ptr().cast(),
            function_count: __HOTSLOT_FUNCTION_TYPES.len(),
            host: __HOTSLOT_HOST_REQUEST,
        };

        /// What ABI 1.1 added to the descriptor: the layouts of the
        /// application's types the functions take, and the host callback
        /// table the plugin needs.
        #[unsafe(no_mangle)]
        pub extern "C" fn hotslot_plugin_ext() -> *const $crate::HsPluginExt {
            &__HOTSLOT_EXT
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_host {
    () => {
        #[doc(hidden)]
        const __HOTSLOT_HOST_REQUEST: *const $crate::HsHostRequest = ::core::ptr::null();

        #[doc(hidden)]
        #[inline(always)]
        fn __hotslot_host_missing() -> Option<(&'static str, $crate::HsVersion)> {
            None
        }
    };
    ($host:ty) => {
        #[doc(hidden)]
        static __HOTSLOT_HOST: ::core::sync::atomic::AtomicPtr<::core::ffi::c_void> =
            ::core::sync::atomic::AtomicPtr::new(::core::ptr::null_mut());

        #[doc(hidden)]
        unsafe extern "C" fn __hotslot_set_host(table: *const ::core::ffi::c_void) {
            __HOTSLOT_HOST.store(table.cast_mut(), ::core::sync::atomic::Ordering::Release);
        }

        #[doc(hidden)]
        static __HOTSLOT_HOST_REQUEST_RECORD: $crate::HsHostRequest = $crate::HsHostRequest {
            struct_size: ::core::mem::size_of::<$crate::HsHostRequest>() as u32,
            name: $crate::HsStr::from_str(<$host as $crate::HsStruct>::NAME),
            version: <$host as $crate::HsHostTable>::VERSION,
            layout: &$crate::author::StructRecord::<$host>::LAYOUT,
            set: Some(__hotslot_set_host),
        };

        #[doc(hidden)]
        const __HOTSLOT_HOST_REQUEST: *const $crate::HsHostRequest = &__HOTSLOT_HOST_REQUEST_RECORD;

        #[doc(hidden)]
        #[inline]
        fn __hotslot_host_missing() -> Option<(&'static str, $crate::HsVersion)> {
            if __HOTSLOT_HOST
                .load(::core::sync::atomic::Ordering::Acquire)
                .is_null()
            {
                Some((
                    <$host as $crate::HsStruct>::NAME,
                    <$host as $crate::HsHostTable>::VERSION,
                ))
            } else {
                None
            }
        }

        /// The host's callback table, as the host handed it over before any
        /// of this plugin's functions ran.
        ///
        /// # Panics
        ///
        /// Outside a call from the host (no table has been handed over).
        pub fn host() -> &'static $host {
            let table = __HOTSLOT_HOST.load(::core::sync::atomic::Ordering::Acquire);
            assert!(
                !table.is_null(),
                "the host has not handed over its callback table"
            );
            // SAFETY: the host handed over a table of this type (it checked
            // the name, version and layout first), valid while this build is
            // loaded.
            unsafe { &*table.cast::<$host>() }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __state_version {
    () => {
        0
    };
    ($sv:expr) => {
        $sv
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __state_hook {
    (save) => {
        None
    };
    (load) => {
        None
    };
    (save $f:path) => {{
        unsafe extern "C" fn __hotslot_save_state(ctx: *mut $crate::HsCallCtx) -> $crate::HsStatus {
            // SAFETY: the host passes the valid context of this call.
            unsafe { $crate::__private::save_state(ctx, $f) }
        }
        Some(__hotslot_save_state)
    }};
    (load $f:path) => {{
        unsafe extern "C" fn __hotslot_load_state(
            ctx: *mut $crate::HsCallCtx,
            version: u32,
            state: $crate::HsBytes,
        ) -> $crate::HsStatus {
            // SAFETY: the host passes the valid context and a valid view.
            unsafe { $crate::__private::load_state(ctx, version, state, $f) }
        }
        Some(__hotslot_load_state)
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_items {
    // Emit each function, then its wrapper and descriptor.
    (@fns [] $pver:literal;) => {};
    (@fns [] $pver:literal;
        $(#[$($attr:tt)*])*
        $vis:vis fn $fname:ident $args:tt $(-> $ret:ty)? $body:block
        $($rest:tt)*
    ) => {
        $crate::__plugin_function! {
            @attrs [] [] $pver;
            $(#[$($attr)*])*
            $vis fn $fname $args $(-> $ret)? $body
        }
        $crate::__plugin_items! { @fns [] $pver; $($rest)* }
    };

    // Collect the function names into the descriptor table.
    (@table [$($names:ident)*]) => {
        #[doc(hidden)]
        static __HOTSLOT_FUNCTIONS: &[&$crate::HsFunctionDescriptor] = &[
            $(&$names::DESCRIPTOR),*
        ];
        #[doc(hidden)]
        static __HOTSLOT_FUNCTION_TYPES: &[&$crate::HsFunctionTypes] = &[
            $(&$names::TYPES),*
        ];
    };
    (@table [$($names:ident)*]
        $(#[$($attr:tt)*])*
        $vis:vis fn $fname:ident $args:tt $(-> $ret:ty)? $body:block
        $($rest:tt)*
    ) => {
        $crate::__plugin_items! { @table [$($names)* $fname] $($rest)* }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_function {
    (@attrs [$($kept:tt)*] [$($fver:tt)*] $pver:literal;
        #[version = $v:literal] $($rest:tt)*
    ) => {
        $crate::__plugin_function! { @attrs [$($kept)*] [$v] $pver; $($rest)* }
    };
    (@attrs [$($kept:tt)*] [$($fver:tt)*] $pver:literal;
        #[$($attr:tt)*] $($rest:tt)*
    ) => {
        $crate::__plugin_function! { @attrs [$($kept)* #[$($attr)*]] [$($fver)*] $pver; $($rest)* }
    };
    (@attrs [$($kept:tt)*] [$($fver:tt)*] $pver:literal;
        $vis:vis fn $fname:ident ($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        $($kept)*
        $vis fn $fname($($arg: $ty),*) $(-> $ret)? $body

        #[doc(hidden)]
        #[allow(non_snake_case)]
        pub mod $fname {
            #[allow(unused_imports)]
            use super::*;

            const NAME: &str = stringify!($fname);
            const ARGC: usize = $crate::__count!($($arg)*);
            static PARAMS: [$crate::HsType; ARGC] = [
                $(<$ty as $crate::author::HsTyped>::TYPE),*
            ];
            static STRUCTS: $crate::__private::StructPointers<ARGC> =
                $crate::__private::StructPointers([
                    $($crate::__private::struct_pointer(<$ty as $crate::author::HsTyped>::STRUCT)),*
                ]);

            /// The application's types this function takes (ABI 1.1).
            pub const TYPES: $crate::HsFunctionTypes = $crate::HsFunctionTypes {
                struct_size: ::core::mem::size_of::<$crate::HsFunctionTypes>() as u32,
                function: $crate::HsStr::from_str(NAME),
                params: STRUCTS.0.as_ptr(),
                param_count: ARGC,
            };

            /// The uniform entry point of this function.
            ///
            /// # Safety
            ///
            /// Called by the host with the arguments the descriptor declares.
            pub unsafe extern "C" fn entry(
                ctx: *mut $crate::HsCallCtx,
                args: *const $crate::HsValue,
                nargs: usize,
                ret: *mut $crate::HsValue,
            ) -> $crate::HsStatus {
                // SAFETY: the host passes the valid pointers of this call.
                unsafe {
                    $crate::__private::guarded(ctx, ret, |out| {
                        if let Some((table, version)) = super::__hotslot_host_missing() {
                            return $crate::__private::host_missing(out, table, version);
                        }
                        let args = match $crate::__private::args(args, nargs, ARGC, NAME, out) {
                            Ok(a) => a,
                            Err(status) => return status,
                        };
                        let mut _next = args.iter();
                        $(
                            let $arg: $ty = <$ty as $crate::author::Param>::from_value(
                                _next.next().unwrap_or(&$crate::HsValue::ZERO),
                            );
                        )*
                        $crate::author::Return::write(super::$fname($($arg),*), out)
                    })
                }
            }

            /// The descriptor of this function.
            pub static DESCRIPTOR: $crate::HsFunctionDescriptor = $crate::HsFunctionDescriptor {
                struct_size: ::core::mem::size_of::<$crate::HsFunctionDescriptor>() as u32,
                name: $crate::HsStr::from_str(NAME),
                params: PARAMS.as_ptr(),
                param_count: ARGC,
                ret: $crate::__ret_type!($($ret)?),
                version: $crate::HsVersion::parse($crate::__or!([$($fver)*] $pver)),
                call: Some(entry),
            };
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __ret_type {
    () => {
        $crate::HsType::VOID
    };
    ($ret:ty) => {
        <$ret as $crate::author::HsTyped>::TYPE
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __or {
    ([] $default:literal) => {
        $default
    };
    ([$v:literal] $default:literal) => {
        $v
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __count {
    () => { 0usize };
    ($head:tt $($tail:tt)*) => { 1usize + $crate::__count!($($tail)*) };
}
