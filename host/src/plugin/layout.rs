//! The `abi_stable` layout check of Rust plugins.

use abi_stable::StableAbi;
use abi_stable::abi_stability::abi_checking::{
    AbiInstability, AbiInstabilityErrors, CheckingGlobals, ExpectedFound,
    check_layout_compatibility_with_globals,
};
use abi_stable::library::AbiHeader;
use abi_stable::type_layout::TLFieldOrFunction;
use hotslot_plugin_api::{HsPluginDescriptor, HsRustLayout};

use super::error::LoadError;

/// Compares the descriptor layout a Rust plugin exports with the host's.
///
/// Each check uses fresh `CheckingGlobals`: `abi_stable`'s global checking
/// state keeps pointers into every library it has checked, which dangle once
/// a library is unloaded. Every error is turned into an owned string before
/// returning, for the same reason.
///
/// # Safety
///
/// `layout` is null or points to the `HsRustLayout` a plugin exports, and the
/// plugin stays loaded for the duration of the call.
pub(crate) unsafe fn check(layout: *const HsRustLayout) -> Result<(), LoadError> {
    if layout.is_null() || !layout.is_aligned() {
        return Err(LoadError::Layout {
            details: "`hotslot_rust_layout()` returned a null or misaligned pointer".into(),
        });
    }
    // SAFETY: non-null and aligned; the caller guarantees it points to the
    // plugin's `HsRustLayout`. The header is plain data: a byte array and two
    // integers.
    let header: AbiHeader = unsafe { (&raw const (*layout).header).read() };
    if !header.is_valid() {
        return Err(LoadError::LayoutHeader {
            expected: abi_header_version(&AbiHeader::VALUE),
            found: abi_header_version(&header),
        });
    }
    // SAFETY: the header says the plugin's `abi_stable` has this host's ABI,
    // so `descriptor_layout` is a `&'static TypeLayout` of the same type; it
    // lives as long as the library, which the caller keeps loaded.
    let theirs = unsafe { (&raw const (*layout).descriptor_layout).read() };
    let globals = CheckingGlobals::new();
    check_layout_compatibility_with_globals(HsPluginDescriptor::LAYOUT, theirs, &globals).map_err(
        |errors| LoadError::Layout {
            details: summarize(&errors),
        },
    )
}

fn abi_header_version(h: &AbiHeader) -> String {
    let magic = String::from_utf8_lossy(&h.magic_string);
    format!(
        "{}.{} ({})",
        h.abi_major,
        h.abi_minor,
        magic.trim_end_matches('\0').trim()
    )
}

/// The differences `abi_stable` found, on one line: where each is (the
/// path of fields from the descriptor), what differs, expected and found.
pub(super) fn summarize(errors: &AbiInstabilityErrors) -> String {
    let mut parts = Vec::new();
    for e in errors.errors.iter() {
        let path: Vec<&str> = e
            .stack_trace
            .iter()
            .map(|ef| field_name(&ef.expected))
            .collect();
        let at = if path.is_empty() {
            String::new()
        } else {
            format!("at `{}`: ", path.join("."))
        };
        for err in e.errs.iter() {
            parts.push(format!("{at}{}", describe(err)));
        }
    }
    shorten(parts.join("; "), 400)
}

fn field_name(f: &TLFieldOrFunction) -> &'static str {
    match f {
        TLFieldOrFunction::Field(f) => f.name(),
        TLFieldOrFunction::Function(f) => f.name.as_str(),
    }
}

fn describe(err: &AbiInstability) -> String {
    use AbiInstability as AI;
    let (what, ef) = match err {
        AI::Name(v) => ("type", v.display_str()),
        AI::Package(v) => ("package", v.display_str()),
        AI::PackageVersion(v) => ("package version", v.display_str()),
        AI::Size(v) => ("size", v.display_str()),
        AI::Alignment(v) => ("alignment", v.display_str()),
        AI::FieldCountMismatch(v) => ("field count", v.display_str()),
        AI::UnexpectedField(v) => ("field", Some(v.as_ref().map(|f| f.name().to_owned()))),
        AI::MismatchedPrimitive(v) => ("primitive", v.debug_str()),
        AI::ReprAttr(v) => ("repr", v.debug_str()),
        other => return one_line(&format!("{other:?}")),
    };
    match ef {
        Some(ExpectedFound { expected, found }) => {
            format!(
                "{what} differs: expected {}, found {}",
                one_line(&expected),
                one_line(&found)
            )
        }
        None => format!("{what} differs"),
    }
}

/// Collapses whitespace and shortens.
fn one_line(text: &str) -> String {
    shorten(text.split_whitespace().collect::<Vec<_>>().join(" "), 80)
}

/// `s` cut to at most `max` bytes at a character boundary, marked ` ...`
/// where it was cut.
fn shorten(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str(" ...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn shortening_cuts_at_a_character_boundary() {
        assert_eq!(shorten("short".into(), 80), "short");
        assert_eq!(shorten("abcdef".into(), 4), "abcd ...");
        // `é` is two bytes: a cut at byte 2 would split it.
        assert_eq!(shorten("aébc".into(), 2), "a ...");
    }
}
