/*
 * hotslot_shim.h: declare a hotslot plugin in C in a few lines.
 *
 *     #include "hotslot_shim.h"
 *
 *     int32_t math_add(int32_t a, int32_t b) { return a + b; }
 *
 *     HS_FUNCTION(i32, math_add, (i32, i32), 1, 0, 0)
 *     HS_PLUGIN("math_ops", 1, 0, 0, math_add)
 *
 *     HS_EXPORT int get_version(void) { return 1; }
 *
 * HS_FUNCTION(ret, name, (params), major, minor, patch) wraps an ordinary C
 * function `ret name(params)` in the ABI's uniform entry point and describes
 * it. Type names: i32 (int32_t), i64 (int64_t), f64 (double), bool (bool),
 * str (HsStr, parameters only), void (return only; `(void)` for no
 * parameters). At most 8 parameters. The compiler checks that `name` has
 * exactly these types: a function declared otherwise (`double half(double)`
 * under `HS_FUNCTION(i32, half, (i32), ...)`) does not compile.
 *
 * HS_FUNCTION_CTX(ret, name, (params), major, minor, patch) wraps a function
 * that may fail or return a string:
 *
 *     HsStatus name(HsCallCtx *ctx, HsValue *ret, params...)
 *
 * It stores a scalar result in `ret->i32` (i64, f64, boolean), or passes a
 * string to hs_return_str(ctx, ...), or returns hs_error(ctx, "message").
 * The host copies strings and messages before those calls return, so they
 * may live on the stack. A function that does not use `ret` (one returning
 * a string, say) marks it `HS_UNUSED(ret);`, or -Wextra reports an unused
 * parameter. Its types are checked too.
 *
 * HS_PLUGIN(name, major, minor, patch, functions...) emits the descriptor
 * and the `hotslot_plugin` export; it takes at most 32 functions. For more
 * (up to HS_MAX_FUNCTIONS), list them in an array yourself:
 *
 *     static const HsFunctionDescriptor *const functions[] = {
 *         HS_FN(math_add), HS_FN(math_mul), ...
 *     };
 *     HS_PLUGIN_TABLE("math_ops", 1, 0, 0, functions)
 * HS_PLUGIN_STATE(name, major, minor, patch, state_version, save, load,
 * functions...) also declares hooks that carry the plugin's state across a
 * reload (see HsPluginDescriptor).
 *
 * Every plugin also defines `get_version`, its version function: it
 * returns the plugin's major version.
 *
 * Arguments (strings included) are borrowed from the host for the duration
 * of the call.
 */
#ifndef HOTSLOT_SHIM_H
#define HOTSLOT_SHIM_H

#include <string.h>

#include "hotslot.h"

#if defined(_WIN32)
#define HS_EXPORT __declspec(dllexport)
#else
#define HS_EXPORT __attribute__((visibility("default")))
#endif

#define HS_MAGIC_VALUE 0x544C5348u /* "HSLT" read as little-endian; equals HS_MAGIC */

/* The exports every plugin defines; declared here so the compiler checks them. */
HS_EXPORT const HsPluginDescriptor *hotslot_plugin(void);
HS_EXPORT int get_version(void);

/* Passes a string result of `len` bytes to the host, which copies it. */
static inline HsStatus hs_return_str(HsCallCtx *ctx, const char *s, size_t len) {
    HsStr v;
    v.ptr = (const uint8_t *)s;
    v.len = len;
    ctx->return_str(ctx, v);
    return HS_STATUS_OK;
}

/* Passes a NUL-terminated string result to the host, which copies it. */
static inline HsStatus hs_return_cstr(HsCallCtx *ctx, const char *s) {
    return hs_return_str(ctx, s, strlen(s));
}

/* Passes a NUL-terminated error message to the host and fails the call. */
static inline HsStatus hs_error(HsCallCtx *ctx, const char *message) {
    HsStr v;
    v.ptr = (const uint8_t *)message;
    v.len = strlen(message);
    ctx->set_error(ctx, v);
    return HS_STATUS_ERROR;
}

/* Marks a parameter a function does not use. */
#define HS_UNUSED(x) ((void)(x))

/* Passes state bytes to the host from a save hook; the host copies them. */
static inline HsStatus hs_return_bytes(HsCallCtx *ctx, const void *bytes, size_t len) {
    HsBytes v;
    v.ptr = (const uint8_t *)bytes;
    v.len = len;
    ctx->return_bytes(ctx, v);
    return HS_STATUS_OK;
}

/* ---- machinery below: not for direct use ---- */

#define HS__CAT(a, b) HS__CAT_(a, b)
#define HS__CAT_(a, b) a##b
#define HS__STR(s) { (const uint8_t *)(s), sizeof(s) - 1 }

#define HS__NARGS(...) HS__NARGS_(__VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define HS__NARGS_(_1,_2,_3,_4,_5,_6,_7,_8,_9,_10,_11,_12,_13,_14,_15,_16,_17,_18,_19,_20,_21,_22,_23,_24,_25,_26,_27,_28,_29,_30,_31,_32, N, ...) N

/* Per type: argument expression, argument after a comma, tag, count. */
/* Per type: its C type, as a parameter after a comma (none for void). */
#define HS__CTYPE_i32 int32_t
#define HS__CTYPE_i64 int64_t
#define HS__CTYPE_f64 double
#define HS__CTYPE_bool bool
#define HS__CTYPE_str HsStr
#define HS__CTYPE_void void
#define HS__CCTYPE_i32 , int32_t
#define HS__CCTYPE_i64 , int64_t
#define HS__CCTYPE_f64 , double
#define HS__CCTYPE_bool , bool
#define HS__CCTYPE_str , HsStr
#define HS__CCTYPE_void

#define HS__ARG_i32(i) args[i].i32
#define HS__CARG_i32(i) , args[i].i32
#define HS__TAG_i32 HS_TYPE_I32
#define HS__N_i32 1
#define HS__ARG_i64(i) args[i].i64
#define HS__CARG_i64(i) , args[i].i64
#define HS__TAG_i64 HS_TYPE_I64
#define HS__N_i64 1
#define HS__ARG_f64(i) args[i].f64
#define HS__CARG_f64(i) , args[i].f64
#define HS__TAG_f64 HS_TYPE_F64
#define HS__N_f64 1
#define HS__ARG_bool(i) args[i].boolean
#define HS__CARG_bool(i) , args[i].boolean
#define HS__TAG_bool HS_TYPE_BOOL
#define HS__N_bool 1
#define HS__ARG_str(i) args[i].str
#define HS__CARG_str(i) , args[i].str
#define HS__TAG_str HS_TYPE_STR
#define HS__N_str 1
#define HS__ARG_void(i)
#define HS__CARG_void(i)
#define HS__TAG_void HS_TYPE_VOID
#define HS__N_void 0

/* Per return type: store the plain function's result. */
#define HS__RET_i32(e) (ret->i32 = (e))
#define HS__RET_i64(e) (ret->i64 = (e))
#define HS__RET_f64(e) (ret->f64 = (e))
#define HS__RET_bool(e) (ret->boolean = (e))
#define HS__RET_void(e) (e)

#define HS__ARGS_1(t0) HS__ARG_##t0(0)
#define HS__CARGS_1(t0) HS__CARG_##t0(0)
#define HS__TAGS_1(t0) HS__TAG_##t0
#define HS__COUNT_1(t0) (HS__N_##t0)
#define HS__ARGS_2(t0,t1) HS__ARG_##t0(0), HS__ARG_##t1(1)
#define HS__CARGS_2(t0,t1) HS__CARG_##t0(0) HS__CARG_##t1(1)
#define HS__TAGS_2(t0,t1) HS__TAG_##t0, HS__TAG_##t1
#define HS__COUNT_2(t0,t1) (HS__N_##t0 + HS__N_##t1)
#define HS__ARGS_3(t0,t1,t2) HS__ARG_##t0(0), HS__ARG_##t1(1), HS__ARG_##t2(2)
#define HS__CARGS_3(t0,t1,t2) HS__CARG_##t0(0) HS__CARG_##t1(1) HS__CARG_##t2(2)
#define HS__TAGS_3(t0,t1,t2) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2
#define HS__COUNT_3(t0,t1,t2) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2)
#define HS__ARGS_4(t0,t1,t2,t3) HS__ARG_##t0(0), HS__ARG_##t1(1), HS__ARG_##t2(2), HS__ARG_##t3(3)
#define HS__CARGS_4(t0,t1,t2,t3) HS__CARG_##t0(0) HS__CARG_##t1(1) HS__CARG_##t2(2) HS__CARG_##t3(3)
#define HS__TAGS_4(t0,t1,t2,t3) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2, HS__TAG_##t3
#define HS__COUNT_4(t0,t1,t2,t3) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2 + HS__N_##t3)
#define HS__ARGS_5(t0,t1,t2,t3,t4) HS__ARG_##t0(0), HS__ARG_##t1(1), HS__ARG_##t2(2), HS__ARG_##t3(3), HS__ARG_##t4(4)
#define HS__CARGS_5(t0,t1,t2,t3,t4) HS__CARG_##t0(0) HS__CARG_##t1(1) HS__CARG_##t2(2) HS__CARG_##t3(3) HS__CARG_##t4(4)
#define HS__TAGS_5(t0,t1,t2,t3,t4) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2, HS__TAG_##t3, HS__TAG_##t4
#define HS__COUNT_5(t0,t1,t2,t3,t4) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2 + HS__N_##t3 + HS__N_##t4)
#define HS__ARGS_6(t0,t1,t2,t3,t4,t5) HS__ARG_##t0(0), HS__ARG_##t1(1), HS__ARG_##t2(2), HS__ARG_##t3(3), HS__ARG_##t4(4), HS__ARG_##t5(5)
#define HS__CARGS_6(t0,t1,t2,t3,t4,t5) HS__CARG_##t0(0) HS__CARG_##t1(1) HS__CARG_##t2(2) HS__CARG_##t3(3) HS__CARG_##t4(4) HS__CARG_##t5(5)
#define HS__TAGS_6(t0,t1,t2,t3,t4,t5) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2, HS__TAG_##t3, HS__TAG_##t4, HS__TAG_##t5
#define HS__COUNT_6(t0,t1,t2,t3,t4,t5) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2 + HS__N_##t3 + HS__N_##t4 + HS__N_##t5)
#define HS__ARGS_7(t0,t1,t2,t3,t4,t5,t6) HS__ARG_##t0(0), HS__ARG_##t1(1), HS__ARG_##t2(2), HS__ARG_##t3(3), HS__ARG_##t4(4), HS__ARG_##t5(5), HS__ARG_##t6(6)
#define HS__CARGS_7(t0,t1,t2,t3,t4,t5,t6) HS__CARG_##t0(0) HS__CARG_##t1(1) HS__CARG_##t2(2) HS__CARG_##t3(3) HS__CARG_##t4(4) HS__CARG_##t5(5) HS__CARG_##t6(6)
#define HS__TAGS_7(t0,t1,t2,t3,t4,t5,t6) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2, HS__TAG_##t3, HS__TAG_##t4, HS__TAG_##t5, HS__TAG_##t6
#define HS__COUNT_7(t0,t1,t2,t3,t4,t5,t6) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2 + HS__N_##t3 + HS__N_##t4 + HS__N_##t5 + HS__N_##t6)
#define HS__ARGS_8(t0,t1,t2,t3,t4,t5,t6,t7) HS__ARG_##t0(0), HS__ARG_##t1(1), HS__ARG_##t2(2), HS__ARG_##t3(3), HS__ARG_##t4(4), HS__ARG_##t5(5), HS__ARG_##t6(6), HS__ARG_##t7(7)
#define HS__CARGS_8(t0,t1,t2,t3,t4,t5,t6,t7) HS__CARG_##t0(0) HS__CARG_##t1(1) HS__CARG_##t2(2) HS__CARG_##t3(3) HS__CARG_##t4(4) HS__CARG_##t5(5) HS__CARG_##t6(6) HS__CARG_##t7(7)
#define HS__TAGS_8(t0,t1,t2,t3,t4,t5,t6,t7) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2, HS__TAG_##t3, HS__TAG_##t4, HS__TAG_##t5, HS__TAG_##t6, HS__TAG_##t7
#define HS__COUNT_8(t0,t1,t2,t3,t4,t5,t6,t7) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2 + HS__N_##t3 + HS__N_##t4 + HS__N_##t5 + HS__N_##t6 + HS__N_##t7)
#define HS__TYPES_1(t0) HS__CTYPE_##t0
#define HS__TYPES_2(t0,t1) HS__CTYPE_##t0, HS__CTYPE_##t1
#define HS__TYPES_3(t0,t1,t2) HS__CTYPE_##t0, HS__CTYPE_##t1, HS__CTYPE_##t2
#define HS__TYPES_4(t0,t1,t2,t3) HS__CTYPE_##t0, HS__CTYPE_##t1, HS__CTYPE_##t2, HS__CTYPE_##t3
#define HS__TYPES_5(t0,t1,t2,t3,t4) HS__TYPES_4(t0,t1,t2,t3), HS__CTYPE_##t4
#define HS__TYPES_6(t0,t1,t2,t3,t4,t5) HS__TYPES_5(t0,t1,t2,t3,t4), HS__CTYPE_##t5
#define HS__TYPES_7(t0,t1,t2,t3,t4,t5,t6) HS__TYPES_6(t0,t1,t2,t3,t4,t5), HS__CTYPE_##t6
#define HS__TYPES_8(t0,t1,t2,t3,t4,t5,t6,t7) HS__TYPES_7(t0,t1,t2,t3,t4,t5,t6), HS__CTYPE_##t7
#define HS__CTYPES_1(t0) HS__CCTYPE_##t0
#define HS__CTYPES_2(t0,t1) HS__CCTYPE_##t0 HS__CCTYPE_##t1
#define HS__CTYPES_3(t0,t1,t2) HS__CTYPES_2(t0,t1) HS__CCTYPE_##t2
#define HS__CTYPES_4(t0,t1,t2,t3) HS__CTYPES_3(t0,t1,t2) HS__CCTYPE_##t3
#define HS__CTYPES_5(t0,t1,t2,t3,t4) HS__CTYPES_4(t0,t1,t2,t3) HS__CCTYPE_##t4
#define HS__CTYPES_6(t0,t1,t2,t3,t4,t5) HS__CTYPES_5(t0,t1,t2,t3,t4) HS__CCTYPE_##t5
#define HS__CTYPES_7(t0,t1,t2,t3,t4,t5,t6) HS__CTYPES_6(t0,t1,t2,t3,t4,t5) HS__CCTYPE_##t6
#define HS__CTYPES_8(t0,t1,t2,t3,t4,t5,t6,t7) HS__CTYPES_7(t0,t1,t2,t3,t4,t5,t6) HS__CCTYPE_##t7
#define HS__TYPES(...) HS__CAT(HS__TYPES_, HS__NARGS(__VA_ARGS__))(__VA_ARGS__)
#define HS__CTYPES(...) HS__CAT(HS__CTYPES_, HS__NARGS(__VA_ARGS__))(__VA_ARGS__)

/* Fails to compile when `fn_` is not a function of type `type_`. */
#define HS__CHECK_TYPE(fn_, type_, decl_)                                                   \
    _Static_assert(_Generic(&fn_, type_: 1, default: 0),                                    \
                   decl_ ": the function `" #fn_ "` has other parameter or return types");

#define HS__ARGS(...) HS__CAT(HS__ARGS_, HS__NARGS(__VA_ARGS__))(__VA_ARGS__)
#define HS__CARGS(...) HS__CAT(HS__CARGS_, HS__NARGS(__VA_ARGS__))(__VA_ARGS__)
#define HS__TAGS(...) HS__CAT(HS__TAGS_, HS__NARGS(__VA_ARGS__))(__VA_ARGS__)
#define HS__COUNT(...) HS__CAT(HS__COUNT_, HS__NARGS(__VA_ARGS__))(__VA_ARGS__)

#define HS__FNS_1(f0) &hs__fn_##f0
#define HS__FNS_2(f0,f1) &hs__fn_##f0, &hs__fn_##f1
#define HS__FNS_3(f0,f1,f2) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2
#define HS__FNS_4(f0,f1,f2,f3) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3
#define HS__FNS_5(f0,f1,f2,f3,f4) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4
#define HS__FNS_6(f0,f1,f2,f3,f4,f5) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5
#define HS__FNS_7(f0,f1,f2,f3,f4,f5,f6) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6
#define HS__FNS_8(f0,f1,f2,f3,f4,f5,f6,f7) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7
#define HS__FNS_9(f0,f1,f2,f3,f4,f5,f6,f7,f8) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8
#define HS__FNS_10(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9
#define HS__FNS_11(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10
#define HS__FNS_12(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11
#define HS__FNS_13(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12
#define HS__FNS_14(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13
#define HS__FNS_15(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14
#define HS__FNS_16(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15
#define HS__FNS_17(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16
#define HS__FNS_18(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17
#define HS__FNS_19(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18
#define HS__FNS_20(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19
#define HS__FNS_21(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20
#define HS__FNS_22(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21
#define HS__FNS_23(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21, &hs__fn_##f22
#define HS__FNS_24(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21, &hs__fn_##f22, &hs__fn_##f23
#define HS__FNS_25(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21, &hs__fn_##f22, &hs__fn_##f23, &hs__fn_##f24
#define HS__FNS_26(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21, &hs__fn_##f22, &hs__fn_##f23, &hs__fn_##f24, &hs__fn_##f25
#define HS__FNS_27(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21, &hs__fn_##f22, &hs__fn_##f23, &hs__fn_##f24, &hs__fn_##f25, &hs__fn_##f26
#define HS__FNS_28(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21, &hs__fn_##f22, &hs__fn_##f23, &hs__fn_##f24, &hs__fn_##f25, &hs__fn_##f26, &hs__fn_##f27
#define HS__FNS_29(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,f28) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21, &hs__fn_##f22, &hs__fn_##f23, &hs__fn_##f24, &hs__fn_##f25, &hs__fn_##f26, &hs__fn_##f27, &hs__fn_##f28
#define HS__FNS_30(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,f28,f29) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21, &hs__fn_##f22, &hs__fn_##f23, &hs__fn_##f24, &hs__fn_##f25, &hs__fn_##f26, &hs__fn_##f27, &hs__fn_##f28, &hs__fn_##f29
#define HS__FNS_31(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,f28,f29,f30) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21, &hs__fn_##f22, &hs__fn_##f23, &hs__fn_##f24, &hs__fn_##f25, &hs__fn_##f26, &hs__fn_##f27, &hs__fn_##f28, &hs__fn_##f29, &hs__fn_##f30
#define HS__FNS_32(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,f28,f29,f30,f31) &hs__fn_##f0, &hs__fn_##f1, &hs__fn_##f2, &hs__fn_##f3, &hs__fn_##f4, &hs__fn_##f5, &hs__fn_##f6, &hs__fn_##f7, &hs__fn_##f8, &hs__fn_##f9, &hs__fn_##f10, &hs__fn_##f11, &hs__fn_##f12, &hs__fn_##f13, &hs__fn_##f14, &hs__fn_##f15, &hs__fn_##f16, &hs__fn_##f17, &hs__fn_##f18, &hs__fn_##f19, &hs__fn_##f20, &hs__fn_##f21, &hs__fn_##f22, &hs__fn_##f23, &hs__fn_##f24, &hs__fn_##f25, &hs__fn_##f26, &hs__fn_##f27, &hs__fn_##f28, &hs__fn_##f29, &hs__fn_##f30, &hs__fn_##f31
#define HS__FNS(...) HS__CAT(HS__FNS_, HS__NARGS(__VA_ARGS__))(__VA_ARGS__)

#define HS__ENTRY_HEAD(fn_, ps_)                                                            \
    static HsStatus hs__entry_##fn_(HsCallCtx *ctx, const HsValue *args, size_t nargs,      \
                                    HsValue *ret) {                                         \
        (void)args;                                                                         \
        (void)ret;                                                                          \
        if (nargs != (size_t)HS__COUNT ps_)                                                 \
            return hs_error(ctx, "`" #fn_ "`: wrong number of arguments");

#define HS__DESCRIPTOR(rt_, fn_, ps_, maj_, min_, pat_)                                     \
    static const HsType hs__params_##fn_[] = {HS__TAGS ps_};                                \
    static const HsFunctionDescriptor hs__fn_##fn_ = {                                      \
        .struct_size = sizeof(HsFunctionDescriptor),                                        \
        .name = HS__STR(#fn_),                                                              \
        .params = hs__params_##fn_,                                                         \
        .param_count = HS__COUNT ps_,                                                       \
        .ret = HS__TAG_##rt_,                                                               \
        .version = {.major = (maj_), .minor = (min_), .patch = (pat_)},                     \
        .call = hs__entry_##fn_,                                                            \
    };

/* ---- the declaration macros ---- */

#define HS_FUNCTION(rt_, fn_, ps_, maj_, min_, pat_)                                        \
    HS__CHECK_TYPE(fn_, HS__CTYPE_##rt_(*)(HS__TYPES ps_),                                  \
                   "HS_FUNCTION(" #rt_ ", " #fn_ ", " #ps_ ", ...)")                        \
    HS__ENTRY_HEAD(fn_, ps_)                                                                \
        HS__RET_##rt_(fn_(HS__ARGS ps_));                                                   \
        return HS_STATUS_OK;                                                                \
    }                                                                                       \
    HS__DESCRIPTOR(rt_, fn_, ps_, maj_, min_, pat_)

#define HS_FUNCTION_CTX(rt_, fn_, ps_, maj_, min_, pat_)                                    \
    HS__CHECK_TYPE(fn_, HsStatus(*)(HsCallCtx *, HsValue * HS__CTYPES ps_),                 \
                   "HS_FUNCTION_CTX(" #rt_ ", " #fn_ ", " #ps_ ", ...)")                    \
    HS__ENTRY_HEAD(fn_, ps_)                                                                \
        return fn_(ctx, ret HS__CARGS ps_);                                                 \
    }                                                                                       \
    HS__DESCRIPTOR(rt_, fn_, ps_, maj_, min_, pat_)

#define HS__PLUGIN(name_, maj_, min_, pat_, sversion_, save_, load_, ...)                   \
    static const HsFunctionDescriptor *const hs__functions[] = {HS__FNS(__VA_ARGS__)};      \
    HS__PLUGIN_OF(name_, maj_, min_, pat_, sversion_, save_, load_, hs__functions)

#define HS__PLUGIN_OF(name_, maj_, min_, pat_, sversion_, save_, load_, functions_)          \
    static const HsPluginDescriptor hs__plugin = {                                          \
        .magic = HS_MAGIC_VALUE,                                                            \
        .abi_major = HS_ABI_MAJOR,                                                          \
        .abi_minor = HS_ABI_MINOR,                                                          \
        .struct_size = sizeof(HsPluginDescriptor),                                          \
        .name = HS__STR(name_),                                                             \
        .version = {.major = (maj_), .minor = (min_), .patch = (pat_)},                     \
        .functions = functions_,                                                            \
        .function_count = sizeof(functions_) / sizeof(functions_[0]),                       \
        .state_version = (sversion_),                                                       \
        .save_state = save_,                                                                \
        .load_state = load_,                                                                \
    };                                                                                      \
    HS_EXPORT const HsPluginDescriptor *hotslot_plugin(void) { return &hs__plugin; }

#define HS_PLUGIN(name_, maj_, min_, pat_, ...)                                             \
    HS__PLUGIN(name_, maj_, min_, pat_, 0, NULL, NULL, __VA_ARGS__)

#define HS_PLUGIN_STATE(name_, maj_, min_, pat_, state_version_, save_, load_, ...)         \
    HS__PLUGIN(name_, maj_, min_, pat_, state_version_, save_, load_, __VA_ARGS__)

/* The descriptor of a function declared with HS_FUNCTION or HS_FUNCTION_CTX,
 * for a table of your own (see HS_PLUGIN_TABLE). */
#define HS_FN(fn_) (&hs__fn_##fn_)

/* As HS_PLUGIN, with the functions in `table_`, an array of HS_FN(...). */
#define HS_PLUGIN_TABLE(name_, maj_, min_, pat_, table_)                                     \
    HS__PLUGIN_OF(name_, maj_, min_, pat_, 0, NULL, NULL, table_)

#endif /* HOTSLOT_SHIM_H */
