//! The Rust twin of the C `math_ops` plugin (`c-shim/math_ops.c`): the
//! same functions with the same names, signatures and versions, so that
//! either build can serve the same slots.
//!
//! Build it with `cargo build -p hotslot-math-ops` and look at it with
//! `cargo run -p hotslot -- inspect target/debug/libhotslot_math_ops.so`.

hotslot_plugin_api::plugin! {
    name = "math_ops";
    version = "1.0.0";

    /// Adds two integers, announcing the call as the C plugin does.
    pub fn math_add(a: i32, b: i32) -> i32 {
        println!("[NATIVE] math_add({a}, {b}) called");
        a.wrapping_add(b)
    }

    /// Multiplies two integers.
    pub fn math_mul(a: i32, b: i32) -> i32 {
        println!("[NATIVE] math_mul({a}, {b}) called");
        a.wrapping_mul(b)
    }

    /// Adds two 64-bit integers.
    pub fn math_add_i64(a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }

    /// Multiplies two 64-bit integers.
    pub fn math_mul_i64(a: i64, b: i64) -> i64 {
        a.wrapping_mul(b)
    }

    /// Adds two floats.
    pub fn math_add_f64(a: f64, b: f64) -> f64 {
        a + b
    }

    /// Multiplies two floats.
    pub fn math_mul_f64(a: f64, b: f64) -> f64 {
        a * b
    }
}
