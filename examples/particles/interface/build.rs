//! The C header of this interface, for C plugin authors: `particles.h`,
//! with `hotslot.h` and `hotslot_shim.h` next to it, in `$OUT_DIR/include`
//! (the crate exports the directory as `C_INCLUDE`). The committed copy in
//! `include/` is checked fresh by `tests/header.rs`.

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("include");
    if let Err(e) =
        hotslot_plugin_api::build::c_header(&crate_dir, particles_types(), &out, "particles.h")
    {
        panic!("generating particles.h: {e}");
    }
    println!("cargo:rerun-if-changed=src");
}

/// The interface's types and host tables, by name: what the header holds.
fn particles_types() -> &'static [&'static str] {
    &["Particle", "Host"]
}
