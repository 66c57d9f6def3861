//! The binary form of a program (`.hsbc`): [`encode`] and [`decode`].
//!
//! ```text
//! "HSBC" version:u8
//! imports:   n { slot:uv name:str nparams:u8 tag* ret:u8 requirement:str }
//! functions: n { name:str nparams:u8 tag* ret:u8 nlocals:uv { name:str tag }* start:uv end:uv }
//! code:      n { opcode:u8 operand? }
//! module:    name:str version:str n { function:str version:str }    (version 2 only)
//! ```
//!
//! Version 2 added the module section of a script module; a program that
//! is not one is written as version 1, which every host reads.
//!
//! `uv` is an unsigned LEB128 varint, signed integers are zigzag varints,
//! `f64` is 8 little-endian bytes and `str` a varint length and UTF-8 bytes.
//! The decoder accepts any bytes: it either returns a program, which the
//! verifier then checks, or a [`DecodeError`] saying where and what.

use std::sync::Arc;

use semver::VersionReq;

use super::error::{DecodeError, DecodeErrorKind};
use super::isa::for_each_instr;
use super::program::{Const, Export, Function, Import, Instr, Local, MAX_SLOT, Module, Program};
use crate::types::{Signature, ValType};

/// The magic bytes at the start of every `.hsbc` file.
pub const MAGIC: &[u8; 4] = b"HSBC";
/// The newest format version this host writes and reads (it reads every
/// version from 1).
pub const VERSION: u8 = 2;

/// The constant opcodes after `PUSH`'s own, one per constant type.
mod push {
    pub const I64: u8 = 1;
    pub const F64: u8 = 2;
    pub const TRUE: u8 = 3;
    pub const FALSE: u8 = 4;
    pub const STR: u8 = 5;
}

/// Writes `program` in the binary form.
pub fn encode(program: &Program) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(64 + program.code.len() * 3));
    w.0.extend_from_slice(MAGIC);
    w.0.push(if program.module.is_some() { VERSION } else { 1 });
    w.uv(program.imports.len() as u64);
    for i in &program.imports {
        w.uv(i.slot.into());
        w.str(&i.name);
        w.signature(&i.signature);
        w.str(
            &i.requirement
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        );
    }
    w.uv(program.functions.len() as u64);
    for f in &program.functions {
        w.str(&f.name);
        w.signature(&f.signature());
        w.uv(f.locals.len() as u64);
        for l in &f.locals {
            w.str(&l.name);
            w.0.push(l.ty.tag().0);
        }
        w.uv(f.start.into());
        w.uv(f.end.into());
    }
    w.uv(program.code.len() as u64);
    for instr in &program.code {
        w.instr(instr);
    }
    if let Some(m) = &program.module {
        w.str(&m.name);
        w.str(&m.version.to_string());
        w.uv(m.exports.len() as u64);
        for e in &m.exports {
            w.str(&e.function);
            w.str(&e.version.to_string());
        }
    }
    w.0
}

struct Writer(Vec<u8>);

impl Writer {
    fn uv(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn sv(&mut self, v: i64) {
        self.uv(((v << 1) ^ (v >> 63)) as u64);
    }

    fn str(&mut self, s: &str) {
        self.uv(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn signature(&mut self, sig: &Signature) {
        self.0.push(sig.params.len() as u8);
        self.0.extend(sig.params.iter().map(|t| t.tag().0));
        self.0.push(sig.ret.map_or(0, |t| t.tag().0));
    }

    fn instr(&mut self, instr: &Instr) {
        macro_rules! encode {
            ($($(#[doc = $doc:literal])* $variant:ident $(($ty:ty))? $mnemonic:literal $opcode:literal $kind:ident $stack:literal;)*) => {
                match instr {
                    $(Instr::$variant { .. } => encode!(@ $kind $variant $opcode),)*
                }
            };
            (@ none $variant:ident $opcode:literal) => {
                self.0.push($opcode)
            };
            (@ constant $variant:ident $opcode:literal) => {{
                let Instr::$variant(c) = instr else { unreachable!() };
                self.constant($opcode, c)
            }};
            (@ $kind:ident $variant:ident $opcode:literal) => {{
                let Instr::$variant(n) = instr else { unreachable!() };
                self.0.push($opcode);
                self.uv((*n).into());
            }};
        }
        for_each_instr!(encode)
    }

    /// A constant after the opcode `base` of its instruction: the
    /// constant's type picks the opcode.
    fn constant(&mut self, base: u8, c: &Const) {
        match c {
            Const::I32(v) => {
                self.0.push(base);
                self.sv((*v).into());
            }
            Const::I64(v) => {
                self.0.push(base + push::I64);
                self.sv(*v);
            }
            Const::F64(v) => {
                self.0.push(base + push::F64);
                self.0.extend_from_slice(&v.to_le_bytes());
            }
            Const::Bool(true) => self.0.push(base + push::TRUE),
            Const::Bool(false) => self.0.push(base + push::FALSE),
            Const::Str(s) => {
                self.0.push(base + push::STR);
                self.str(s);
            }
        }
    }
}

/// Reads a program in the binary form.
pub fn decode(bytes: &[u8]) -> Result<Program, DecodeError> {
    let mut r = Reader { bytes, at: 0 };
    let magic = r.take(4)?;
    if magic != MAGIC {
        return Err(r.error_at(0, DecodeErrorKind::BadMagic));
    }
    let version = r.u8()?;
    if !(1..=VERSION).contains(&version) {
        return Err(r.error_at(
            4,
            DecodeErrorKind::UnsupportedVersion {
                expected: VERSION,
                found: version,
            },
        ));
    }
    let n = r.count()?;
    let mut imports = Vec::with_capacity(n);
    for _ in 0..n {
        let slot_at = r.at;
        let slot = r.uv()?;
        let slot = u32::try_from(slot)
            .ok()
            .filter(|s| *s <= MAX_SLOT)
            .ok_or_else(|| {
                r.error_at(
                    slot_at,
                    DecodeErrorKind::SlotTooLarge {
                        slot,
                        max: MAX_SLOT,
                    },
                )
            })?;
        let name = r.str()?;
        let signature = r.signature()?;
        let req_at = r.at;
        let req = r.str()?;
        let requirement = if req.is_empty() {
            None
        } else {
            Some(VersionReq::parse(&req).map_err(|_| {
                r.error_at(
                    req_at,
                    DecodeErrorKind::BadRequirement { text: req.clone() },
                )
            })?)
        };
        imports.push(Import {
            slot,
            name,
            signature,
            requirement,
        });
    }
    let n = r.count()?;
    let mut functions = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.str()?;
        let sig = r.signature()?;
        let nlocals = r.count()?;
        let mut locals = Vec::with_capacity(nlocals);
        for _ in 0..nlocals {
            let name = r.str()?;
            let ty = r.val_type()?;
            locals.push(Local { name, ty });
        }
        let start = r.u32()?;
        let end = r.u32()?;
        functions.push(Function {
            name,
            params: sig.params,
            ret: sig.ret,
            locals,
            start,
            end,
        });
    }
    let n = r.count()?;
    let mut code = Vec::with_capacity(n);
    for _ in 0..n {
        code.push(r.instr()?);
    }
    let module = if version >= 2 {
        let name = r.str()?;
        let version = r.version()?;
        let n = r.count()?;
        let mut exports = Vec::with_capacity(n);
        for _ in 0..n {
            let function = r.str()?;
            let version = r.version()?;
            exports.push(Export { function, version });
        }
        Some(Module {
            name,
            version,
            exports,
        })
    } else {
        None
    };
    if r.at != bytes.len() {
        return Err(r.error_at(
            r.at,
            DecodeErrorKind::TrailingBytes {
                count: bytes.len() - r.at,
            },
        ));
    }
    Ok(Program {
        imports,
        functions,
        code,
        module,
    })
}

struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl Reader<'_> {
    fn error_at(&self, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }

    /// A version, written as text.
    fn version(&mut self) -> Result<semver::Version, DecodeError> {
        let at = self.at;
        let text = self.str()?;
        semver::Version::parse(&text)
            .map_err(|_| self.error_at(at, DecodeErrorKind::BadVersion { text }))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| self.error_at(self.bytes.len(), DecodeErrorKind::UnexpectedEnd))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn uv(&mut self) -> Result<u64, DecodeError> {
        let start = self.at;
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                break;
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.error_at(start, DecodeErrorKind::BadVarint))
    }

    fn sv(&mut self) -> Result<i64, DecodeError> {
        let u = self.uv()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let at = self.at;
        let v = self.uv()?;
        u32::try_from(v).map_err(|_| {
            self.error_at(
                at,
                DecodeErrorKind::OutOfRange {
                    value: v as i128,
                    ty: "u32",
                },
            )
        })
    }

    /// A count of items that each take at least one byte: never more than
    /// the bytes left, so a hostile count cannot allocate much.
    fn count(&mut self) -> Result<usize, DecodeError> {
        let at = self.at;
        let n = self.uv()?;
        let left = (self.bytes.len() - self.at) as u64;
        if n > left {
            return Err(self.error_at(at, DecodeErrorKind::CountTooLarge { count: n, left }));
        }
        Ok(n as usize)
    }

    fn str(&mut self) -> Result<String, DecodeError> {
        let len = self.count()?;
        let at = self.at;
        let b = self.take(len)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| self.error_at(at, DecodeErrorKind::NotUtf8))
    }

    fn val_type(&mut self) -> Result<ValType, DecodeError> {
        let at = self.at;
        let tag = self.u8()?;
        match ValType::from_tag(hotslot_plugin_api::HsType(tag)) {
            Ok(Some(t)) => Ok(t),
            _ => Err(self.error_at(
                at,
                DecodeErrorKind::BadType {
                    tag,
                    expected: "1 i32, 2 i64, 3 f64, 4 bool or 5 str",
                },
            )),
        }
    }

    fn signature(&mut self) -> Result<Signature, DecodeError> {
        let n = self.u8()? as usize;
        let mut params = Vec::with_capacity(n);
        for _ in 0..n {
            params.push(self.val_type()?);
        }
        let at = self.at;
        let tag = self.u8()?;
        let ret = ValType::from_tag(hotslot_plugin_api::HsType(tag)).map_err(|_| {
            self.error_at(
                at,
                DecodeErrorKind::BadType {
                    tag,
                    expected: crate::types::VM_TAGS,
                },
            )
        })?;
        Ok(Signature { params, ret })
    }

    fn instr(&mut self) -> Result<Instr, DecodeError> {
        let at = self.at;
        let opcode = self.u8()?;
        macro_rules! decode {
            ($($(#[doc = $doc:literal])* $variant:ident $(($ty:ty))? $mnemonic:literal $opcode:literal $kind:ident $stack:literal;)*) => {
                $(if let Some(i) = decode!(@ $kind $variant $opcode) {
                    return Ok(i);
                })*
            };
            (@ none $variant:ident $opcode:literal) => {
                (opcode == $opcode).then_some(Instr::$variant)
            };
            (@ constant $variant:ident $opcode:literal) => {
                match opcode.checked_sub($opcode) {
                    Some(kind @ 0..=push::STR) => Some(Instr::$variant(self.constant(kind)?)),
                    _ => None,
                }
            };
            (@ $kind:ident $variant:ident $opcode:literal) => {
                if opcode == $opcode {
                    Some(Instr::$variant(self.u32()?))
                } else {
                    None
                }
            };
        }
        for_each_instr!(decode);
        Err(self.error_at(at, DecodeErrorKind::BadOpcode { opcode }))
    }

    /// A constant whose type is `kind` (0 for `i32`, then `push::*`).
    fn constant(&mut self, kind: u8) -> Result<Const, DecodeError> {
        Ok(match kind {
            push::I64 => Const::I64(self.sv()?),
            push::F64 => {
                let b: [u8; 8] = self.take(8)?.try_into().expect("took 8 bytes");
                Const::F64(f64::from_le_bytes(b))
            }
            push::TRUE => Const::Bool(true),
            push::FALSE => Const::Bool(false),
            push::STR => Const::Str(Arc::from(self.str()?)),
            _ => {
                let v_at = self.at;
                let v = self.sv()?;
                Const::I32(i32::try_from(v).map_err(|_| {
                    self.error_at(
                        v_at,
                        DecodeErrorKind::OutOfRange {
                            value: v.into(),
                            ty: "i32",
                        },
                    )
                })?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::asm::assemble;

    #[test]
    fn round_trip() {
        let p = assemble(
            r#"
            .import 3 f (i32, str) -> f64 >=1.2, <3
            .local s str
                PUSH -5
                PUSH "héllo"
                CALL_NATIVE 3
                PUSH f64 -0.0
                PUSH i64 -9223372036854775808
                PUSH true
                STORE s
            x:  JMP x
            .func g (a: bool) -> void
                RET
            .end
            "#,
        )
        .unwrap();
        let bytes = encode(&p);
        assert_eq!(decode(&bytes).unwrap(), p);
    }

    #[test]
    fn malformed_inputs_are_errors() {
        let bytes = encode(&assemble("PUSH 1\nHALT").unwrap());
        for cut in 0..bytes.len() {
            let e = decode(&bytes[..cut]).unwrap_err();
            assert!(
                matches!(
                    e.kind,
                    DecodeErrorKind::UnexpectedEnd
                        | DecodeErrorKind::BadMagic
                        | DecodeErrorKind::CountTooLarge { .. }
                ),
                "{cut}: {e}"
            );
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            decode(&trailing).unwrap_err().kind,
            DecodeErrorKind::TrailingBytes { count: 1 }
        ));
        let mut version = bytes.clone();
        version[4] = 9;
        assert!(matches!(
            decode(&version).unwrap_err().kind,
            DecodeErrorKind::UnsupportedVersion { found: 9, .. }
        ));
        let mut opcode = bytes.clone();
        let last = opcode.len() - 1;
        opcode[last] = 0xee;
        let e = decode(&opcode).unwrap_err();
        assert!(
            matches!(e.kind, DecodeErrorKind::BadOpcode { opcode: 0xee }),
            "{e}"
        );
        assert_eq!(e.offset, last);
        let e = decode(b"HSBC\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01").unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::BadVarint), "{e}");
        let e = decode(b"HSBC\x01\x7f").unwrap_err();
        assert!(
            matches!(e.kind, DecodeErrorKind::CountTooLarge { count: 127, .. }),
            "{e}"
        );
        // One import, `f`, whose one parameter is void: a value type is needed.
        let e = decode(b"HSBC\x01\x01\x00\x01f\x01\x00").unwrap_err();
        assert!(
            matches!(e.kind, DecodeErrorKind::BadType { tag: 0, .. }),
            "{e}"
        );
        assert_eq!(e.offset, 10);
        assert_eq!(
            e.to_string(),
            "byte 10: bad type tag 0: expected 1 i32, 2 i64, 3 f64, 4 bool or 5 str"
        );
        // Its return type is a tag that does not exist.
        let e = decode(b"HSBC\x01\x01\x00\x01f\x00\x09").unwrap_err();
        assert_eq!(
            e.to_string(),
            "byte 10: bad type tag 9: expected 0 void, 1 i32, 2 i64, 3 f64, 4 bool or 5 str"
        );
    }
}
