//! Value types and signatures, shared by programs, descriptors and slots.

use std::fmt;
use std::str::FromStr;

use hotslot_plugin_api::HsType;

/// The type of a value: one of the ABI's v1 types.
///
/// The VM's values are of the first five; the others (ABI 1.1) pass
/// between the host application and plugins, through typed handles.
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
    /// Bytes (1.1): borrowed as a parameter, copied as a result.
    Bytes,
    /// `&T` of an application's type (1.1).
    Ref(StructName),
    /// `&mut T` (1.1).
    RefMut(StructName),
    /// `&[T]` (1.1).
    Slice(StructName),
    /// `&mut [T]` (1.1).
    SliceMut(StructName),
}

/// The name of an application's `#[repr(C)]` type, as signatures carry it.
///
/// Names that plugins give are interned for the life of the process (a
/// name costs its bytes once, however many builds use it), so a signature
/// stays `Copy`, and a name is one pointer wide.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StructName(&'static &'static str);

impl StructName {
    /// A name the host defines.
    pub const fn new(name: &'static &'static str) -> StructName {
        StructName(name)
    }

    /// A name read from a plugin, interned.
    pub(crate) fn intern(name: &str) -> StructName {
        use std::collections::HashMap;
        use std::sync::Mutex;
        static NAMES: Mutex<Option<HashMap<String, &'static &'static str>>> = Mutex::new(None);
        let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        let names = names.get_or_insert_with(HashMap::new);
        if let Some(known) = names.get(name) {
            return StructName(known);
        }
        let leaked: &'static &'static str =
            Box::leak(Box::new(&*Box::leak(name.to_owned().into_boxed_str())));
        names.insert(name.to_owned(), leaked);
        StructName(leaked)
    }

    /// The name.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for StructName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for StructName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl ValType {
    /// The VM's types, in tag order.
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
            ValType::Bytes => HsType::BYTES,
            ValType::Ref(_) => HsType::REF,
            ValType::RefMut(_) => HsType::REF_MUT,
            ValType::Slice(_) => HsType::SLICE,
            ValType::SliceMut(_) => HsType::SLICE_MUT,
        }
    }

    /// The type of an ABI tag: `Ok(None)` for void, an error for a tag this
    /// host does not know. A tag of an application's type needs its name:
    /// `of` gives it (`None`: the tag is refused as unknown).
    pub fn from_tag_of(tag: HsType, of: Option<StructName>) -> Result<Option<ValType>, UnknownTag> {
        Ok(Some(match (tag.0, of) {
            (7, Some(n)) => ValType::Ref(n),
            (8, Some(n)) => ValType::RefMut(n),
            (9, Some(n)) => ValType::Slice(n),
            (10, Some(n)) => ValType::SliceMut(n),
            (6, _) => ValType::Bytes,
            _ => return ValType::from_tag(tag),
        }))
    }

    /// The VM type of an ABI tag: `Ok(None)` for void, an error for any
    /// other.
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

    /// Whether VM programs have values of this type.
    pub const fn is_vm_type(self) -> bool {
        matches!(
            self,
            ValType::I32 | ValType::I64 | ValType::F64 | ValType::Bool | ValType::Str
        )
    }

    /// The name of this type's kind: the whole type for the VM's types and
    /// `bytes` (`i32`, `str`), the form for an application's (`&mut [T]`).
    pub const fn name(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F64 => "f64",
            ValType::Bool => "bool",
            ValType::Str => "str",
            ValType::Bytes => "bytes",
            ValType::Ref(_) => "&T",
            ValType::RefMut(_) => "&mut T",
            ValType::Slice(_) => "&[T]",
            ValType::SliceMut(_) => "&mut [T]",
        }
    }

    /// The application's type this type points at, if any.
    pub const fn struct_name(self) -> Option<StructName> {
        match self {
            ValType::Ref(n) | ValType::RefMut(n) | ValType::Slice(n) | ValType::SliceMut(n) => {
                Some(n)
            }
            _ => None,
        }
    }

    /// The VM type named `name`, if any.
    pub fn from_name(name: &str) -> Option<ValType> {
        ValType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Any type as `Display` writes it: a VM type, `bytes`, or `&T`,
    /// `&mut T`, `&[T]`, `&mut [T]` of an application's type.
    fn parse(text: &str) -> Option<ValType> {
        let text = text.trim();
        if text == "bytes" {
            return Some(ValType::Bytes);
        }
        let named = |rest: &str| {
            let rest = rest.trim();
            let ok = !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            ok.then(|| StructName::intern(rest))
        };
        if let Some(rest) = text.strip_prefix("&mut") {
            let rest = rest.trim();
            return match rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                Some(inner) => named(inner).map(ValType::SliceMut),
                None => named(rest).map(ValType::RefMut),
            };
        }
        if let Some(rest) = text.strip_prefix('&') {
            let rest = rest.trim();
            return match rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                Some(inner) => named(inner).map(ValType::Slice),
                None => named(rest).map(ValType::Ref),
            };
        }
        ValType::from_name(text)
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::Ref(n) => write!(f, "&{n}"),
            ValType::RefMut(n) => write!(f, "&mut {n}"),
            ValType::Slice(n) => write!(f, "&[{n}]"),
            ValType::SliceMut(n) => write!(f, "&mut [{n}]"),
            other => f.write_str(other.name()),
        }
    }
}

/// The type tags of the VM's values, for error messages.
pub(crate) const VM_TAGS: &str = "0 void, 1 i32, 2 i64, 3 f64, 4 bool or 5 str";

/// The type tags of ABI v1, for error messages.
pub(crate) const KNOWN_TAGS: &str = "0 void, 1 i32, 2 i64, 3 f64, 4 bool, 5 str, 6 bytes, 7 ref, 8 ref mut, 9 slice or 10 slice mut";

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
            write!(f, "{p}")?;
        }
        f.write_str(") -> ")?;
        match self.ret {
            Some(r) => write!(f, "{r}"),
            None => f.write_str("void"),
        }
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
        let (params, rest) = rest.rsplit_once(')').ok_or(err("expected `)`"))?;
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
                .map(|p| ValType::parse(p).ok_or(err("unknown parameter type")))
                .collect::<Result<_, _>>()?
        };
        let ret = match ret {
            "void" => None,
            r => Some(ValType::parse(r).ok_or(err("unknown return type"))?),
        };
        Ok(Signature { params, ret })
    }
}

/// The names among `available` close to `wanted`: the same but for case,
/// or at most a third of its letters (and one, or two for a longer name)
/// added, removed or changed; nearest first.
pub(crate) fn near_names(wanted: &str, available: &[String]) -> Vec<String> {
    let limit = (wanted.chars().count() / 3).clamp(1, 2);
    let mut near: Vec<(usize, &String)> = available
        .iter()
        .filter_map(|name| {
            let d = if name.eq_ignore_ascii_case(wanted) {
                0
            } else {
                edit_distance(&wanted.to_ascii_lowercase(), &name.to_ascii_lowercase())
            };
            (d <= limit && name != wanted).then_some((d, name))
        })
        .collect();
    near.sort();
    near.into_iter().map(|(_, n)| n.clone()).collect()
}

/// The Levenshtein distance between `a` and `b`, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Whether `s` is an identifier: an ASCII letter or `_`, then letters,
/// digits and `_`. Function names must be, so that programs can import them.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    #[test]
    fn near_names_are_typos_and_case_not_strangers() {
        let names: Vec<String> = ["math_add", "math_mul", "MATH_ADD", "clamp"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            super::near_names("math_ad", &names),
            ["MATH_ADD", "math_add"]
        );
        assert_eq!(super::near_names("Math_Mul", &names), ["math_mul"]);
        assert!(super::near_names("scale", &names).is_empty());
        assert_eq!(super::edit_distance("kitten", "sitting"), 3);
    }

    use super::*;

    #[test]
    fn display_and_parse_agree() {
        for text in [
            "(i32, i32) -> i32",
            "() -> void",
            "(str, bool, f64, i64) -> str",
            "(&mut [Particle], &Vec2, &[Vec2], &mut World, bytes) -> bytes",
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
