//! The committed `include/particles.h` equals what cbindgen generates from
//! this crate. `HOTSLOT_BLESS=1` rewrites it after the types change.

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
    let generated =
        hotslot_plugin_api::build::generate(crate_dir, &["Particle", "Host"], "particles.h")
            .expect("cbindgen generates the header");
    let path = crate_dir.join("include/particles.h");
    if std::env::var_os("HOTSLOT_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("include/particles.h is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/particles.h is stale: run `HOTSLOT_BLESS=1 cargo test -p particles-interface --test header` and commit it"
    );
}
