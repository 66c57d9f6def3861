//! The committed C header equals what cbindgen generates from this crate.
//!
//! Run with `HOTSLOT_BLESS=1` to rewrite `include/hotslot.h` after changing
//! the ABI types.

use std::path::Path;

#[test]
// The header does not depend on the platform; cbindgen asks the host's
// cargo about the crate, which a Windows build run under wine cannot do
// (it is handed the crate's path in Windows form).
#[cfg_attr(
    windows,
    ignore = "checked on the platform that builds: cargo is not run from wine"
)]
fn header_is_fresh() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("the header is UTF-8");

    let path = crate_dir.join("include/hotslot.h");
    if std::env::var_os("HOTSLOT_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("include/hotslot.h is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/hotslot.h is stale: run `HOTSLOT_BLESS=1 cargo test -p hotslot-plugin-api --test header` and commit it"
    );
}
