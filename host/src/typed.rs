//! The Rust types a host passes to plugin functions and gets back from
//! them through [`TypedFunc`](crate::TypedFunc) handles.
//!
//! A handle's type says its signature: `TypedFunc<(i32, i32), i32>` is
//! `(i32, i32) -> i32`, `TypedFunc<(String, bool), ()>` is
//! `(str, bool) -> void`. Parameter types are `i32`, `i64`, `f64`, `bool`
//! and `String` (for `str`), as a tuple of up to 16 or alone; result types
//! the same and `()`.
//!
//! A call takes the values as a tuple (or alone), each of a type that
//! converts without copying: a `str` parameter takes `&str`, `String` or
//! anything `AsRef<str>`, passed to the plugin as a view valid for the call.
//!
//! ABI 1.1 adds bytes (`Vec<u8>` names the type; a call passes anything
//! `AsRef<[u8]>`, borrowed; a result is copied), and references and slices
//! of the application's own `#[repr(C)]` types ([`HsStruct`]s, shared with
//! plugins through an interface crate): [`Ref<T>`] (`&T`), [`RefMut<T>`]
//! (`&mut T`), [`Slice<T>`] (`&[T]`) and [`SliceMut<T>`] (`&mut [T]`). A
//! call passes the reference or slice itself; the plugin reads and writes
//! the caller's values in place, with no copy, for the call's duration.
//!
//! ```
//! use hotslot::typed::SliceMut;
//! # use abi_stable::StableAbi;
//! # #[repr(C)]
//! # #[derive(StableAbi)]
//! # pub struct Particle { pub pos: [f32; 2], pub vel: [f32; 2] }
//! # hotslot_plugin_api::hs_struct!(Particle);
//! # fn frame(table: &hotslot::SlotTable, particles: &mut Vec<Particle>) -> Result<(), Box<dyn std::error::Error>> {
//! // `step(&mut [Particle], f64)`, checked against the plugin's view of
//! // `Particle` at creation and at every reload.
//! let step = table.function::<(SliceMut<Particle>, f64), ()>("step")?;
//! step.call((&mut particles[..], 1.0 / 60.0))?;
//! # Ok(()) }
//! ```

use std::marker::PhantomData;

use abi_stable::StableAbi;
use abi_stable::type_layout::TypeLayout;
use hotslot_plugin_api::{HsStr, HsStruct, HsValue};

use crate::types::{StructName, ValType};

mod sealed {
    pub trait Sealed {}
}

/// A type a plugin function's parameter can have, as a handle's type names
/// it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a parameter type of a typed handle",
    label = "not a parameter type",
    note = "a parameter is `i32`, `i64`, `f64`, `bool`, `String` (a call passes `&str` or `String`), \
            `Vec<u8>` (a call passes `&[u8]`), or `Ref<T>`, `RefMut<T>`, `Slice<T>`, `SliceMut<T>` \
            of an application's type `T`; several are a tuple: `(i32, String)`"
)]
pub trait ParamType: sealed::Sealed {
    /// Its value type.
    const TYPE: ValType;
    /// For a reference or slice of an application's type, the host's
    /// layout of that type.
    #[doc(hidden)]
    const LAYOUT: Option<&'static TypeLayout> = None;
}

/// A plugin function's parameters, as a handle's type names them: a tuple
/// of [`ParamType`]s, or one alone.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a parameter list of a typed handle",
    label = "not a parameter list",
    note = "the parameters are one type or a tuple of them, each `i32`, `i64`, `f64`, `bool`, \
            `String`, `Vec<u8>`, `Ref<T>`, `RefMut<T>`, `Slice<T>` or `SliceMut<T>`; none is `()`"
)]
pub trait Params: sealed::Sealed {
    /// The value types, in order.
    const TYPES: &'static [ValType];
    /// The host's layout of each application's type among them.
    #[doc(hidden)]
    const LAYOUTS: &'static [Option<&'static TypeLayout>];
}

/// A plugin function's result, as a handle's type names it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a result type of a typed handle",
    label = "not a result type",
    note = "a result is `i32`, `i64`, `f64`, `bool`, `String`, `Vec<u8>` or `()`"
)]
pub trait Results: sealed::Sealed + Sized {
    /// Its value type; `None` for `()`.
    const TYPE: Option<ValType>;

    /// Reads the result of a call that succeeded: from `out`, or from what
    /// the plugin passed to the host (`passed`).
    ///
    /// # Safety
    ///
    /// The call returned OK for a function of this result type, so `out`
    /// holds a value of it, written as the ABI says.
    #[doc(hidden)]
    unsafe fn read(out: &HsValue, passed: Passed) -> Option<Self>;
}

/// What a plugin passed to the host during a call: a string result, bytes.
#[doc(hidden)]
#[derive(Default)]
pub struct Passed {
    /// The string, if `return_str` was called.
    pub string: Option<String>,
    /// The bytes, if `return_bytes` was called.
    pub bytes: Option<Vec<u8>>,
}

/// A value a call passes for a parameter of type `T`.
#[diagnostic::on_unimplemented(
    message = "a call cannot pass `{Self}` for a parameter of type `{T}`",
    note = "`String` takes `&str` or `String`, `Vec<u8>` takes `&[u8]` or `Vec<u8>`, \
            `Ref<T>` `&T`, `RefMut<T>` `&mut T`, `Slice<T>` `&[T]`, `SliceMut<T>` `&mut [T]`"
)]
pub trait Arg<T: ParamType> {
    /// The value as the ABI passes it, borrowing from `self` (a view is
    /// valid while `self` is; a mutable one, only through it).
    fn value(&mut self) -> HsValue;
}

/// The values a call passes for parameters `P`.
pub trait Args<P: Params> {
    /// The values, in order, as the ABI passes them.
    type Values: AsRef<[HsValue]>;

    /// The values, borrowing from `self`.
    fn values(&mut self) -> Self::Values;
}

macro_rules! scalar {
    ($($ty:ty => $tag:ident, $field:ident;)*) => {$(
        impl sealed::Sealed for $ty {}

        impl ParamType for $ty {
            const TYPE: ValType = ValType::$tag;
        }

        impl Arg<$ty> for $ty {
            #[inline]
            fn value(&mut self) -> HsValue {
                HsValue { $field: *self }
            }
        }

        impl Results for $ty {
            const TYPE: Option<ValType> = Some(ValType::$tag);

            #[inline]
            unsafe fn read(out: &HsValue, _: Passed) -> Option<$ty> {
                // SAFETY: the caller guarantees `out` holds this type.
                Some(unsafe { out.$field })
            }
        }
    )*};
}

scalar! {
    i32 => I32, i32;
    i64 => I64, i64;
    f64 => F64, f64;
}

impl sealed::Sealed for bool {}

impl ParamType for bool {
    const TYPE: ValType = ValType::Bool;
}

impl Arg<bool> for bool {
    #[inline]
    fn value(&mut self) -> HsValue {
        HsValue { boolean: *self }
    }
}

impl Results for bool {
    const TYPE: Option<ValType> = Some(ValType::Bool);

    #[inline]
    unsafe fn read(out: &HsValue, _: Passed) -> Option<bool> {
        // SAFETY: a boolean result's first byte is initialized (the host
        // zeroes `out` before the call); read as a byte, any value is
        // defined, and it means "not zero".
        Some(unsafe { *std::ptr::from_ref(out).cast::<u8>() } != 0)
    }
}

impl sealed::Sealed for String {}

impl ParamType for String {
    const TYPE: ValType = ValType::Str;
}

impl<S: AsRef<str>> Arg<String> for S {
    #[inline]
    fn value(&mut self) -> HsValue {
        HsValue {
            str: HsStr::from_str(self.as_ref()),
        }
    }
}

impl Results for String {
    const TYPE: Option<ValType> = Some(ValType::Str);

    #[inline]
    unsafe fn read(_: &HsValue, passed: Passed) -> Option<String> {
        passed.string
    }
}

impl Results for () {
    const TYPE: Option<ValType> = None;

    #[inline]
    unsafe fn read(_: &HsValue, _: Passed) -> Option<()> {
        Some(())
    }
}

/// One parameter alone.
impl<T: ParamType> Params for T {
    const TYPES: &'static [ValType] = &[T::TYPE];
    const LAYOUTS: &'static [Option<&'static TypeLayout>] = &[T::LAYOUT];
}

impl<T: ParamType, A: Arg<T>> Args<T> for A {
    type Values = [HsValue; 1];

    #[inline]
    fn values(&mut self) -> [HsValue; 1] {
        [self.value()]
    }
}

macro_rules! tuples {
    ($(($($t:ident $a:ident $i:tt),*) $n:literal;)*) => {$(
        impl<$($t: ParamType),*> sealed::Sealed for ($($t,)*) {}

        impl<$($t: ParamType),*> Params for ($($t,)*) {
            const TYPES: &'static [ValType] = &[$($t::TYPE),*];
            const LAYOUTS: &'static [Option<&'static TypeLayout>] = &[$($t::LAYOUT),*];
        }

        impl<$($t: ParamType, $a: Arg<$t>),*> Args<($($t,)*)> for ($($a,)*) {
            type Values = [HsValue; $n];

            #[allow(clippy::unused_unit, reason = "the empty tuple's case")]
            #[inline]
            fn values(&mut self) -> [HsValue; $n] {
                [$(self.$i.value()),*]
            }
        }
    )*};
}

tuples! {
    () 0;
    (T0 A0 0) 1;
    (T0 A0 0, T1 A1 1) 2;
    (T0 A0 0, T1 A1 1, T2 A2 2) 3;
    (T0 A0 0, T1 A1 1, T2 A2 2, T3 A3 3) 4;
    (T0 A0 0, T1 A1 1, T2 A2 2, T3 A3 3, T4 A4 4) 5;
    (T0 A0 0, T1 A1 1, T2 A2 2, T3 A3 3, T4 A4 4, T5 A5 5) 6;
    (T0 A0 0, T1 A1 1, T2 A2 2, T3 A3 3, T4 A4 4, T5 A5 5, T6 A6 6) 7;
    (T0 A0 0, T1 A1 1, T2 A2 2, T3 A3 3, T4 A4 4, T5 A5 5, T6 A6 6, T7 A7 7) 8;
}

impl sealed::Sealed for Vec<u8> {}

/// Bytes: `Vec<u8>` names the type.
impl ParamType for Vec<u8> {
    const TYPE: ValType = ValType::Bytes;
}

/// Bytes are borrowed for the call.
impl<B: AsRef<[u8]>> Arg<Vec<u8>> for B {
    #[inline]
    fn value(&mut self) -> HsValue {
        let bytes = self.as_ref();
        HsValue {
            str: HsStr {
                ptr: bytes.as_ptr(),
                len: bytes.len(),
            },
        }
    }
}

/// A bytes result, copied by the host.
impl Results for Vec<u8> {
    const TYPE: Option<ValType> = Some(ValType::Bytes);

    #[inline]
    unsafe fn read(_: &HsValue, passed: Passed) -> Option<Vec<u8>> {
        passed.bytes
    }
}

macro_rules! struct_types {
    ($($(#[$doc:meta])* $name:ident => $tag:ident, $arg:ty, |$v:ident| $view:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name<T>(PhantomData<fn(T) -> T>);

        impl<T> sealed::Sealed for $name<T> {}

        impl<T: HsStruct> ParamType for $name<T> {
            const TYPE: ValType = ValType::$tag(StructName::new(&T::NAME));
            const LAYOUT: Option<&'static TypeLayout> = Some(<T as StableAbi>::LAYOUT);
        }

        impl<T: HsStruct> Arg<$name<T>> for $arg {
            #[inline]
            fn value(&mut self) -> HsValue {
                let $v = self;
                let (ptr, len): (*const T, usize) = $view;
                HsValue {
                    str: HsStr {
                        ptr: ptr.cast(),
                        len,
                    },
                }
            }
        }
    )*};
}

struct_types! {
    /// `&T`: the plugin reads the caller's value in place.
    Ref => Ref, &T, |v| (std::ptr::from_ref::<T>(*v), 1);
    /// `&mut T`: the plugin may write the caller's value in place.
    RefMut => RefMut, &mut T, |v| (std::ptr::from_mut::<T>(*v).cast_const(), 1);
    /// `&[T]`: the plugin reads the caller's values in place.
    Slice => Slice, &[T], |v| (v.as_ptr(), v.len());
    /// `&mut [T]`: the plugin may write the caller's values in place.
    SliceMut => SliceMut, &mut [T], |v| (v.as_mut_ptr().cast_const(), v.len());
}
