//! Owned, typed values: what a program prints, what a stack holds when it is
//! inspected or saved.

use std::fmt;

use hotslot_plugin_api::HsValue;

use crate::types::ValType;

/// A value with its type, owning its string.
#[derive(Clone, Debug)]
pub enum Value {
    /// `i32`
    I32(i32),
    /// `i64`
    I64(i64),
    /// `f64`
    F64(f64),
    /// `bool`
    Bool(bool),
    /// `str`
    Str(String),
}

impl Value {
    /// Its type.
    pub fn ty(&self) -> ValType {
        match self {
            Value::I32(_) => ValType::I32,
            Value::I64(_) => ValType::I64,
            Value::F64(_) => ValType::F64,
            Value::Bool(_) => ValType::Bool,
            Value::Str(_) => ValType::Str,
        }
    }

    /// Reads a raw value of type `ty`.
    ///
    /// # Safety
    ///
    /// `v` holds a value of type `ty` in the matching union field; a string
    /// view points to valid UTF-8 that lives for the call.
    pub unsafe fn from_raw(v: &HsValue, ty: ValType) -> Value {
        // SAFETY: the caller guarantees the field matching `ty` is the one
        // written, and that string views are valid UTF-8.
        unsafe {
            match ty {
                ValType::I32 => Value::I32(v.i32),
                ValType::I64 => Value::I64(v.i64),
                ValType::F64 => Value::F64(v.f64),
                ValType::Bool => Value::Bool(v.boolean),
                ValType::Str => {
                    Value::Str(std::str::from_utf8_unchecked(v.str.as_bytes()).to_owned())
                }
                other => unreachable!("the verifier refuses `{other}` in programs"),
            }
        }
    }
}

/// Floats compare by bits: a saved `NaN` equals itself when restored.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::I32(a), Value::I32(b)) => a == b,
            (Value::I64(a), Value::I64(b)) => a == b,
            (Value::F64(a), Value::F64(b)) => a.to_bits() == b.to_bits(),
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => false,
        }
    }
}

/// As `PRINT` shows it: `15`, `2.5`, `true`, `text`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::F64(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Str(v) => f.write_str(v),
        }
    }
}
