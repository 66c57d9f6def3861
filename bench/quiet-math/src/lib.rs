//! `math_add` of math_ops without its print: the benchmarks measure calls,
//! and printing would measure the terminal. The same source serves as a
//! plugin (cdylib) and linked into the benchmark (rlib) for the
//! statically linked comparison.

hotslot_plugin_api::plugin! {
    name = "quiet_math";
    version = "1.0.0";

    /// Adds two integers.
    pub fn math_add(a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }
}
