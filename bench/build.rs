//! Links the quiet C `math_add` plugin statically into the benchmark, for
//! the comparison without a slot. Its exports are renamed so they do not
//! clash with the Rust plugin linked in as well.

fn main() {
    println!("cargo:rerun-if-changed=c/quiet_math.c");
    println!("cargo:rerun-if-changed=../plugin-api/include/hotslot.h");
    println!("cargo:rerun-if-changed=../c-shim/include/hotslot_shim.h");
    cc::Build::new()
        .file("c/quiet_math.c")
        .include("../plugin-api/include")
        .include("../c-shim/include")
        .define("hotslot_plugin", "quiet_c_hotslot_plugin")
        .define("get_version", "quiet_c_get_version")
        .flag("-std=c11")
        .warnings_into_errors(true)
        .opt_level(2)
        .compile("quiet_math_c");
}
