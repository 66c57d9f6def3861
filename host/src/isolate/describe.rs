//! A worker's description of its build, as bytes: what the host needs to
//! bind slots to it (names, signatures, versions), checked again on the
//! host's side, since a worker's memory may be its plugin's to corrupt.
//!
//! Format: a kind byte (0 C, 1 Rust); the plugin's name and version; the
//! ABI version (two `u16`); a byte saying whether it has state hooks, then
//! their format version (`u32`) if so; the number of functions (`u32`);
//! per function its name, signature (as `(i32, str) -> i64` text) and
//! version. Each
//! string is a `u32` length and its UTF-8 bytes; integers are little-endian.

use hotslot_plugin_api::{AbiVersion, HS_MAX_FUNCTIONS, HS_MAX_NAME_LEN, HS_MAX_PARAMS};
use semver::Version;

use crate::plugin::{FunctionInfo, PluginInfo, PluginKind};
use crate::types::Signature;
use crate::types::is_identifier;

/// The description of a checked build.
pub(crate) fn write(info: &PluginInfo, kind: PluginKind) -> Vec<u8> {
    let mut out = vec![u8::from(kind == PluginKind::Rust)];
    put_str(&mut out, &info.name);
    put_str(&mut out, &info.version.to_string());
    out.extend(info.abi.major.to_le_bytes());
    out.extend(info.abi.minor.to_le_bytes());
    match info.state_version() {
        Some(v) => {
            out.push(1);
            out.extend(v.to_le_bytes());
        }
        None => out.push(0),
    }
    out.extend((info.functions.len() as u32).to_le_bytes());
    for f in &info.functions {
        put_str(&mut out, &f.name);
        put_str(&mut out, &f.signature.to_string());
        put_str(&mut out, &f.version.to_string());
    }
    out
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u32).to_le_bytes());
    out.extend(s.as_bytes());
}

/// The entry points an isolated build's description is given: the host
/// calls through the channel, not through them.
pub(crate) struct Routes {
    pub(crate) function: hotslot_plugin_api::HsEntry,
    pub(crate) save: crate::plugin::SaveHook,
    pub(crate) load: crate::plugin::LoadHook,
}

/// Reads a description, checking every part as a descriptor's would be.
pub(crate) fn read(bytes: &[u8], routes: &Routes) -> Result<(PluginInfo, PluginKind), String> {
    let mut r = Reader { bytes };
    let kind = match r.take(1)?[0] {
        0 => PluginKind::C,
        1 => PluginKind::Rust,
        k => return Err(format!("unknown plugin kind {k}")),
    };
    let name = r.string("the plugin's name")?;
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(format!(
            "the plugin's name {name:?} is empty or has control characters"
        ));
    }
    let version = r.version("the plugin's version")?;
    let abi = AbiVersion {
        major: r.u16()?,
        minor: r.u16()?,
    };
    let state = match r.take(1)?[0] {
        0 => None,
        1 => Some(crate::plugin::StateHooks {
            version: r.u32()?,
            save: routes.save,
            load: routes.load,
        }),
        b => return Err(format!("state hooks marked {b}, neither 0 nor 1")),
    };
    let count = r.u32()? as usize;
    if count > HS_MAX_FUNCTIONS {
        return Err(format!("{count} functions, more than {HS_MAX_FUNCTIONS}"));
    }
    let mut functions = Vec::with_capacity(count);
    for _ in 0..count {
        let fname = r.string("a function's name")?;
        if !is_identifier(&fname) {
            return Err(format!("function name {fname:?} is not an identifier"));
        }
        let text = r.string("a signature")?;
        let signature: Signature = text
            .parse()
            .map_err(|e| format!("`{fname}`'s signature: {e}"))?;
        if signature.params.len() > HS_MAX_PARAMS {
            return Err(format!(
                "`{fname}` takes more than {HS_MAX_PARAMS} parameters"
            ));
        }
        if let Some(ty) = signature
            .params
            .iter()
            .chain(&signature.ret)
            .find(|t| !super::channel::passes(**t))
        {
            return Err(format!(
                "`{fname}` uses `{ty}`, which does not cross to a worker"
            ));
        }
        let version = r.version("a function's version")?;
        functions.push(FunctionInfo::routed(
            fname,
            signature,
            version,
            routes.function,
        ));
    }
    if !r.bytes.is_empty() {
        return Err(format!("{} bytes after the last function", r.bytes.len()));
    }
    let info = PluginInfo::described(name, version, abi, functions, state)
        .map_err(|twice| format!("function `{twice}` is described twice"))?;
    Ok((info, kind))
}

/// Reads arbitrary bytes as a description (for the fuzz target): the
/// number of functions, or why not.
pub(crate) fn read_any(bytes: &[u8]) -> Result<usize, String> {
    unsafe extern "C" fn entry(
        _: *mut hotslot_plugin_api::HsCallCtx,
        _: *const hotslot_plugin_api::HsValue,
        _: usize,
        _: *mut hotslot_plugin_api::HsValue,
    ) -> hotslot_plugin_api::HsStatus {
        hotslot_plugin_api::HsStatus::ERROR
    }
    unsafe extern "C" fn save(
        _: *mut hotslot_plugin_api::HsCallCtx,
    ) -> hotslot_plugin_api::HsStatus {
        hotslot_plugin_api::HsStatus::ERROR
    }
    unsafe extern "C" fn load(
        _: *mut hotslot_plugin_api::HsCallCtx,
        _: u32,
        _: hotslot_plugin_api::HsBytes,
    ) -> hotslot_plugin_api::HsStatus {
        hotslot_plugin_api::HsStatus::ERROR
    }
    let routes = Routes {
        function: entry,
        save,
        load,
    };
    read(bytes, &routes).map(|(info, _)| info.functions.len())
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < n {
            return Err("it ends early".into());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn string(&mut self, what: &str) -> Result<String, String> {
        let len = self.u32()? as usize;
        // Names are bounded by the ABI; signatures and versions are short.
        let max = HS_MAX_NAME_LEN.max(16 * HS_MAX_PARAMS + 64);
        if len > max {
            return Err(format!("{what} of {len} bytes, more than {max}"));
        }
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
    }

    fn version(&mut self, what: &str) -> Result<Version, String> {
        let text = self.string(what)?;
        Version::parse(&text).map_err(|e| format!("{what} `{text}`: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use hotslot_plugin_api::{HsBytes, HsCallCtx, HsStatus, HsValue};

    unsafe extern "C" fn entry(
        _: *mut HsCallCtx,
        _: *const HsValue,
        _: usize,
        _: *mut HsValue,
    ) -> HsStatus {
        HsStatus::OK
    }
    unsafe extern "C" fn save(_: *mut HsCallCtx) -> HsStatus {
        HsStatus::OK
    }
    unsafe extern "C" fn load(_: *mut HsCallCtx, _: u32, _: HsBytes) -> HsStatus {
        HsStatus::OK
    }
    const ROUTES: Routes = Routes {
        function: entry,
        save,
        load,
    };

    fn sample() -> Vec<u8> {
        let functions = vec![
            FunctionInfo::routed(
                "add".into(),
                "(i32, i32) -> i32".parse().unwrap(),
                Version::new(1, 2, 3),
                entry,
            ),
            FunctionInfo::routed(
                "greet".into(),
                "(str) -> str".parse().unwrap(),
                Version::new(0, 1, 0),
                entry,
            ),
        ];
        let info = PluginInfo::described(
            "math".into(),
            Version::new(2, 0, 0),
            AbiVersion { major: 1, minor: 1 },
            functions,
            Some(crate::plugin::StateHooks {
                version: 7,
                save,
                load,
            }),
        )
        .unwrap();
        write(&info, PluginKind::C)
    }

    #[test]
    fn a_description_round_trips() {
        let (info, kind) = read(&sample(), &ROUTES).unwrap();
        assert_eq!(kind, PluginKind::C);
        assert_eq!(info.name, "math");
        assert_eq!(info.functions.len(), 2);
        assert_eq!(
            info.function("greet").unwrap().signature.to_string(),
            "(str) -> str"
        );
        assert_eq!(info.function("add").unwrap().version, Version::new(1, 2, 3));
        assert_eq!(info.state_version(), Some(7));
    }

    #[test]
    fn every_cut_and_every_flipped_byte_is_refused_or_read_without_panicking() {
        let bytes = sample();
        for n in 0..bytes.len() {
            assert!(read(&bytes[..n], &ROUTES).is_err(), "cut at {n}");
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                let _ = read(&b, &ROUTES);
            }
        }
    }

    #[test]
    fn what_does_not_cross_is_named() {
        let mut bytes = sample();
        let text = b"(str) -> str";
        let at = bytes.windows(text.len()).position(|w| w == text).unwrap();
        bytes[at..at + text.len()].copy_from_slice(b"(bytes)->i32");
        let e = read(&bytes, &ROUTES).unwrap_err();
        assert_eq!(e, "`greet` uses `bytes`, which does not cross to a worker");
    }
}
