//! Tells the build scripts of dependent crates where the C headers are:
//! `DEP_HOTSLOT_INCLUDE` (through this crate's `links = "hotslot"`).

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    println!("cargo:include={}", dir.display());
    println!("cargo:rerun-if-changed=build.rs");
}
