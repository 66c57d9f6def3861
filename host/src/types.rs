//! Value types and signatures, shared by programs, descriptors and slots.

use std::fmt;
use std::str::FromStr;

use hotslot_plugin_api::HsType;

/// The type of a value: one of the ABI's v1 types.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum ValType {
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer.
    I64,
    /// 64-bit float.
    F64,
    /// Boolean.
    Bool,
    /// UTF-8 string.
    Str,
}

impl ValType {
    /// Every type, in tag order.
    pub const ALL: [ValType; 5] = [
        ValType::I32,
        ValType::I64,
        ValType::F64,
        ValType::Bool,
        ValType::Str,
    ];

    /// The ABI tag of this type.
    pub const fn tag(self) -> HsType {
        match self {
            ValType::I32 => HsType::I32,
            ValType::I64 => HsType::I64,
            ValType::F64 => HsType::F64,
            ValType::Bool => HsType::BOOL,
            ValType::Str => HsType::STR,
        }
    }

    /// The type of an ABI tag: `Ok(None)` for void, an error for a tag this
    /// host does not know.
    pub const fn from_tag(tag: HsType) -> Result<Option<ValType>, UnknownTag> {
        Ok(Some(match tag.0 {
            0 => return Ok(None),
            1 => ValType::I32,
            2 => ValType::I64,
            3 => ValType::F64,
            4 => ValType::Bool,
            5 => ValType::Str,
            _ => return Err(UnknownTag(tag.0)),
        }))
    }

    /// The name used in signatures and assembly.
    pub const fn name(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F64 => "f64",
            ValType::Bool => "bool",
            ValType::Str => "str",
        }
    }

    /// The type named `name`, if any.
    pub fn from_name(name: &str) -> Option<ValType> {
        ValType::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The type tags of ABI v1, for error messages.
pub(crate) const KNOWN_TAGS: &str = "0 void, 1 i32, 2 i64, 3 f64, 4 bool or 5 str";

/// A type tag this host does not know.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("unknown type tag {}: expected {}", .0, KNOWN_TAGS)]
pub struct UnknownTag(pub u8);

/// A function's parameter and return types.
///
/// Written `(i32, i32) -> i32`, or `(str) -> void` for no result.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Signature {
    /// Parameter types, in order.
    pub params: Vec<ValType>,
    /// Result type; `None` for void.
    pub ret: Option<ValType>,
}

impl Signature {
    /// A signature from its parts.
    pub fn new(params: impl Into<Vec<ValType>>, ret: Option<ValType>) -> Signature {
        Signature {
            params: params.into(),
            ret,
        }
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(p.name())?;
        }
        f.write_str(") -> ")?;
        f.write_str(self.ret.map_or("void", ValType::name))
    }
}

/// Why a signature did not parse.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("invalid signature `{text}`: {reason}")]
pub struct SignatureParseError {
    /// The text that did not parse.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for Signature {
    type Err = SignatureParseError;

    /// Parses `(i32, i32) -> i32`; whitespace is free.
    fn from_str(s: &str) -> Result<Signature, SignatureParseError> {
        let err = |reason| SignatureParseError {
            text: s.to_owned(),
            reason,
        };
        let t = s.trim();
        let rest = t.strip_prefix('(').ok_or(err("expected `(`"))?;
        let (params, rest) = rest.split_once(')').ok_or(err("expected `)`"))?;
        let ret = rest
            .trim_start()
            .strip_prefix("->")
            .ok_or(err("expected `->` after the parameters"))?
            .trim();
        let params = if params.trim().is_empty() {
            Vec::new()
        } else {
            params
                .split(',')
                .map(|p| ValType::from_name(p.trim()).ok_or(err("unknown parameter type")))
                .collect::<Result<_, _>>()?
        };
        let ret = match ret {
            "void" => None,
            r => Some(ValType::from_name(r).ok_or(err("unknown return type"))?),
        };
        Ok(Signature { params, ret })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_agree() {
        for text in [
            "(i32, i32) -> i32",
            "() -> void",
            "(str, bool, f64, i64) -> str",
        ] {
            let sig: Signature = text.parse().unwrap();
            assert_eq!(sig.to_string(), text);
        }
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let e = "(i32, u8) -> i32".parse::<Signature>().unwrap_err();
        assert_eq!(e.reason, "unknown parameter type");
        let e = "(i32) i32".parse::<Signature>().unwrap_err();
        assert_eq!(e.reason, "expected `->` after the parameters");
    }

    #[test]
    fn tags_round_trip() {
        for t in ValType::ALL {
            assert_eq!(ValType::from_tag(t.tag()), Ok(Some(t)));
        }
        assert_eq!(ValType::from_tag(HsType::VOID), Ok(None));
        assert_eq!(ValType::from_tag(HsType(99)), Err(UnknownTag(99)));
    }
}
