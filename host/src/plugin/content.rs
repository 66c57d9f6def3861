//! Step 4 of opening a library: the copy's content, read from the copy
//! that the dynamic loader then maps (the bytes checked are the bytes
//! loaded): the hash when one is pinned, the machine, the image's
//! structure, and that each export the host calls is a function.

use std::path::Path;
use std::sync::OnceLock;

use hotslot_plugin_api::{
    HS_DESCRIPTOR_SYMBOL, HS_EXT_SYMBOL, HS_GET_VERSION_SYMBOL, HS_RUST_LAYOUT_SYMBOL,
};

use super::copy::PrivateCopy;
use super::error::LoadError;
use super::options::LoadOptions;
use super::trust::Sha256;

/// The exports the host calls, with what each must be.
const EXPORTS: [(&str, &str); 4] = [
    (
        HS_DESCRIPTOR_SYMBOL,
        "a function returning `const HsPluginDescriptor *`",
    ),
    (HS_GET_VERSION_SYMBOL, "a function returning `int`"),
    (
        HS_RUST_LAYOUT_SYMBOL,
        "a function returning `const HsRustLayout *`",
    ),
    (HS_EXT_SYMBOL, "a function returning `const HsPluginExt *`"),
];

/// The checks made on a private copy before anything opens it: the hash
/// when one is pinned (or `unless` is to be compared), the machine, the
/// ELF structure, the exports' kinds. `None` when the bytes have the
/// SHA-256 `unless`; else the hash, when it was computed.
pub(crate) fn check(
    source: &Path,
    copy: &PrivateCopy,
    options: &LoadOptions,
    unless: Option<Sha256>,
) -> Result<Option<OnceLock<Sha256>>, LoadError> {
    let source = source.to_owned();
    let bytes = copy.bytes().map_err(|e| LoadError::Copy {
        place: format!("`{}`", copy.name()),
        source: e,
    })?;
    let sha256 = OnceLock::new();
    if options.pin.is_some() || unless.is_some() {
        let found = Sha256::of(&bytes);
        if unless == Some(found) {
            return Ok(None);
        }
        if let Some(expected) = options.pin
            && expected != found
        {
            return Err(LoadError::HashMismatch {
                path: source,
                expected,
                found,
            });
        }
        let _ = sha256.set(found);
    }
    // Built for this machine? The dynamic loader would answer "no such
    // file" for one that exists.
    super::image::check_machine(&bytes).map_err(|(found, host)| LoadError::Architecture {
        path: source.clone(),
        found: found.to_string(),
        host: host.to_string(),
    })?;
    // The dynamic loader maps what the headers say; check they fit the
    // file before it sees them.
    super::image::check(&bytes, bytes.len() as u64).map_err(|reason| {
        LoadError::NotSharedLibrary {
            path: source.clone(),
            reason,
        }
    })?;
    // The exports are called: each must be a function in the code.
    for (symbol, expected) in EXPORTS {
        super::image::check_function(&bytes, symbol).map_err(|found| LoadError::NotAFunction {
            path: source.clone(),
            symbol,
            found,
            expected,
        })?;
    }
    drop(bytes);
    Ok(Some(sha256))
}
