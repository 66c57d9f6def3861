/*
 * math_ops.c - Simple math library for the native hot-reload demo
 *
 * The VM calls math_add through slot 0. Edit it, recompile, and reload
 * while the VM keeps running.
 */
#include <stdio.h>

#ifdef _WIN32
    #define EXPORT __declspec(dllexport)
#else
    #define EXPORT __attribute__((visibility("default")))
#endif

/* Adds two integers */
EXPORT int math_add(int a, int b) {
    printf("[NATIVE] math_add(%d, %d) called\n", a, b);
    return a + b;  /* Change this line and recompile! */
}

/* Multiplies two integers */
EXPORT int math_mul(int a, int b) {
    printf("[NATIVE] math_mul(%d, %d) called\n", a, b);
    return a * b;
}

/* Returns the library version */
EXPORT int get_version(void) {
    return 1;  /* Increment this after each recompile */
}

/*
 * hotslot declarations: the plain C functions above are unchanged. The
 * descriptor tells the host each function's signature and version; the
 * plugin's major version must equal what get_version() returns.
 *
 * The 64-bit and floating-point variants make this table the same as the
 * Rust twin's (plugins/math-ops).
 */
/* get_version above is the seed's own: the shim defines none. */
#define HS_OWN_GET_VERSION
#include "hotslot_shim.h"

static int64_t math_add_i64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t math_mul_i64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static double math_add_f64(double a, double b) { return a + b; }
static double math_mul_f64(double a, double b) { return a * b; }

HS_FUNCTION(i32, math_add, (i32, i32), 1, 0, 0)
HS_FUNCTION(i32, math_mul, (i32, i32), 1, 0, 0)
HS_FUNCTION(i64, math_add_i64, (i64, i64), 1, 0, 0)
HS_FUNCTION(i64, math_mul_i64, (i64, i64), 1, 0, 0)
HS_FUNCTION(f64, math_add_f64, (f64, f64), 1, 0, 0)
HS_FUNCTION(f64, math_mul_f64, (f64, f64), 1, 0, 0)

HS_PLUGIN("math_ops", 1, 0, 0,
          math_add, math_mul, math_add_i64, math_mul_i64, math_add_f64, math_mul_f64)
