//! Links the quiet C `math_add` plugin statically into the benchmark, for
//! the comparison without a slot. Its exports are renamed so they do not
//! clash with the Rust plugin linked in as well.
//!
//! The headers come from `hotslot-plugin-api`, as any build script that
//! compiles a C plugin finds them: `DEP_HOTSLOT_INCLUDE`, which that crate's
//! `links = "hotslot"` sets.

fn main() {
    let include = std::env::var("DEP_HOTSLOT_INCLUDE")
        .expect("hotslot-plugin-api (links = \"hotslot\") gives its include directory");
    println!("cargo:rerun-if-changed=c/quiet_math.c");
    println!("cargo:rerun-if-changed={include}/hotslot.h");
    println!("cargo:rerun-if-changed={include}/hotslot_shim.h");
    cc::Build::new()
        .file("c/quiet_math.c")
        .include(&include)
        .define("hotslot_plugin", "quiet_c_hotslot_plugin")
        .define("hotslot_plugin_ext", "quiet_c_hotslot_plugin_ext")
        .define("get_version", "quiet_c_get_version")
        .flag("-std=c11")
        .warnings_into_errors(true)
        .opt_level(2)
        .compile("quiet_math_c");
}
