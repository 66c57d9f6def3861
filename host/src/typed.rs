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

use hotslot_plugin_api::{HsStr, HsValue};

use crate::types::ValType;

mod sealed {
    pub trait Sealed {}
}

/// A type a plugin function's parameter can have, as a handle's type names
/// it.
pub trait ParamType: sealed::Sealed {
    /// Its value type.
    const TYPE: ValType;
}

/// A plugin function's parameters, as a handle's type names them: a tuple
/// of [`ParamType`]s, or one alone.
pub trait Params: sealed::Sealed {
    /// The value types, in order.
    const TYPES: &'static [ValType];
}

/// A plugin function's result, as a handle's type names it.
pub trait Results: sealed::Sealed + Sized {
    /// Its value type; `None` for `()`.
    const TYPE: Option<ValType>;

    /// Reads the result of a call that succeeded: from `out`, or from the
    /// string the plugin passed to the host (`string`).
    ///
    /// # Safety
    ///
    /// The call returned OK for a function of this result type, so `out`
    /// holds a value of it, written as the ABI says.
    #[doc(hidden)]
    unsafe fn read(out: &HsValue, string: Option<String>) -> Option<Self>;
}

/// A value a call passes for a parameter of type `T`.
pub trait Arg<T: ParamType> {
    /// The value as the ABI passes it, borrowing from `self` (a string view
    /// is valid while `self` is).
    fn value(&self) -> HsValue;
}

/// The values a call passes for parameters `P`.
pub trait Args<P: Params> {
    /// The values, in order, as the ABI passes them.
    type Values: AsRef<[HsValue]>;

    /// The values, borrowing from `self`.
    fn values(&self) -> Self::Values;
}

macro_rules! scalar {
    ($($ty:ty => $tag:ident, $field:ident;)*) => {$(
        impl sealed::Sealed for $ty {}

        impl ParamType for $ty {
            const TYPE: ValType = ValType::$tag;
        }

        impl Arg<$ty> for $ty {
            #[inline]
            fn value(&self) -> HsValue {
                HsValue { $field: *self }
            }
        }

        impl Results for $ty {
            const TYPE: Option<ValType> = Some(ValType::$tag);

            #[inline]
            unsafe fn read(out: &HsValue, _: Option<String>) -> Option<$ty> {
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
    fn value(&self) -> HsValue {
        HsValue { boolean: *self }
    }
}

impl Results for bool {
    const TYPE: Option<ValType> = Some(ValType::Bool);

    #[inline]
    unsafe fn read(out: &HsValue, _: Option<String>) -> Option<bool> {
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
    fn value(&self) -> HsValue {
        HsValue {
            str: HsStr::from_str(self.as_ref()),
        }
    }
}

impl Results for String {
    const TYPE: Option<ValType> = Some(ValType::Str);

    #[inline]
    unsafe fn read(_: &HsValue, string: Option<String>) -> Option<String> {
        string
    }
}

impl Results for () {
    const TYPE: Option<ValType> = None;

    #[inline]
    unsafe fn read(_: &HsValue, _: Option<String>) -> Option<()> {
        Some(())
    }
}

/// One parameter alone.
impl<T: ParamType> Params for T {
    const TYPES: &'static [ValType] = &[T::TYPE];
}

impl<T: ParamType, A: Arg<T>> Args<T> for A {
    type Values = [HsValue; 1];

    #[inline]
    fn values(&self) -> [HsValue; 1] {
        [self.value()]
    }
}

macro_rules! tuples {
    ($(($($t:ident $a:ident $i:tt),*) $n:literal;)*) => {$(
        impl<$($t: ParamType),*> sealed::Sealed for ($($t,)*) {}

        impl<$($t: ParamType),*> Params for ($($t,)*) {
            const TYPES: &'static [ValType] = &[$($t::TYPE),*];
        }

        impl<$($t: ParamType, $a: Arg<$t>),*> Args<($($t,)*)> for ($($a,)*) {
            type Values = [HsValue; $n];

            #[allow(clippy::unused_unit, reason = "the empty tuple's case")]
            #[inline]
            fn values(&self) -> [HsValue; $n] {
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
