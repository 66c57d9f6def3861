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
 *
 * (HS_PLUGIN_TABLE_TYPES adds a table of HS_TYPES(...) of the functions that
 * take the application's types.)
 * HS_PLUGIN_STATE(name, major, minor, patch, state_version, save, load,
 * functions...) also declares hooks that carry the plugin's state across a
 * reload (see HsPluginDescriptor).
 *
 * Every plugin also exports `get_version`, its version function: it
 * returns the plugin's major version. HS_PLUGIN (and its variants) define
 * it from the major version they declare; a source with a `get_version` of
 * its own defines HS_OWN_GET_VERSION before including this header.
 *
 * Arguments (strings included) are borrowed from the host for the duration
 * of the call.
 *
 * ABI 1.1: bytes, the application's own types, host callback tables.
 *
 * `bytes` is a parameter type (an HsBytes view, borrowed for the call) and,
 * with HS_FUNCTION_CTX, a result type (passed to hs_return_bytes, which the
 * host copies).
 *
 * An application's `#[repr(C)]` type (from its interface crate's header,
 * which cbindgen generates) is declared once, field by field, so that the
 * host can compare what this compiler laid out with its own definition:
 *
 *     HS_STRUCT(Particle, HS_ARRAY_FIELD(Particle, pos), HS_ARRAY_FIELD(Particle, vel))
 *
 * HS_FIELD(T, f) is a field that is a number, a bool, a pointer or a
 * function pointer; HS_ARRAY_FIELD(T, f) an array of numbers or bools;
 * HS_STRUCT_FIELD(T, f, S) a nested struct S (declared with HS_STRUCT
 * before T), HS_STRUCT_ARRAY_FIELD(T, f, S) an array of them; at most 64
 * fields (see below). Functions then take `ref(T)` (const T *), `ref_mut(T)` (T *),
 * `slice(T)` (HsSlice_T: `const T *ptr` and `size_t len`) or
 * `slice_mut(T)` (HsSliceMut_T: `T *ptr`, `size_t len`):
 *
 *     void step(HsSliceMut_Particle particles, double dt) { ... }
 *     HS_FUNCTION(void, step, (slice_mut(Particle), f64), 1, 0, 0)
 *
 * A plugin that calls back into the host asks for the application's table
 * of host functions by the name and version the application gives it, after
 * declaring its layout with HS_STRUCT; `hs_host` then points to the host's
 * table whenever the host calls one of the plugin's functions:
 *
 *     HS_STRUCT(Host, HS_FIELD(Host, log))
 *     HS_HOST(Host, "particles.Host", 1, 0)
 *     ...  hs_host->log(hs_str("hello"));
 *
 * HS_HOST goes in the file that has HS_PLUGIN.
 */
#ifndef HOTSLOT_SHIM_H
#define HOTSLOT_SHIM_H

#include <stddef.h>
#include <stdio.h>
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

/* A view of a NUL-terminated string, for a host function taking HsStr. */
static inline HsStr hs_str(const char *s) {
    HsStr v;
    v.ptr = (const uint8_t *)s;
    v.len = strlen(s);
    return v;
}

/* The host callback table this plugin asked for with HS_HOST, if any: set by
 * the host before any function of the plugin runs. */
static const HsHostRequest hs__host_request;
static const void *hs__host_table;

/* Whether the plugin asked for a table the host has not handed over. */
static inline int hs__host_missing_now(void) {
    return hs__host_request.struct_size != 0 && hs__host_table == NULL;
}

/* Passes state bytes to the host from a save hook; the host copies them. */
static inline HsStatus hs_return_bytes(HsCallCtx *ctx, const void *bytes, size_t len) {
    HsBytes v;
    v.ptr = (const uint8_t *)bytes;
    v.len = len;
    ctx->return_bytes(ctx, v);
    return HS_STATUS_OK;
}

/* Passes a bytes result to the host, which copies it. */
#define hs_return_bytes_result hs_return_bytes

/* ---- the application's types (1.1) ---- */

#define HS__KIND(e)                                                                         \
    _Generic((e), int8_t: HS_FIELD_I8, uint8_t: HS_FIELD_U8, int16_t: HS_FIELD_I16,         \
             uint16_t: HS_FIELD_U16, int32_t: HS_FIELD_I32, uint32_t: HS_FIELD_U32,         \
             int64_t: HS_FIELD_I64, uint64_t: HS_FIELD_U64, float: HS_FIELD_F32,            \
             double: HS_FIELD_F64, _Bool: HS_FIELD_BOOL, default: HS_FIELD_OTHER)

/* The fields of HS_STRUCT. Each names the struct T and its field f:
 *
 *   HS_FIELD(T, f)                   a number, a bool, a pointer or a function
 *                                    pointer (of the last two, the offset and
 *                                    size are compared, not what they point to)
 *   HS_ARRAY_FIELD(T, f)             an array of numbers or bools
 *   HS_STRUCT_FIELD(T, f, S)         a nested struct S, declared with HS_STRUCT
 *                                    before T: compared field by field
 *   HS_STRUCT_ARRAY_FIELD(T, f, S)   an array of S
 *
 * The compiler checks that f is of type S (an array of S). */
#define HS_FIELD(T, f) (HS__K_PLAIN, T, f, HS__K_NONE)
#define HS_ARRAY_FIELD(T, f) (HS__K_ARRAY, T, f, HS__K_NONE)
#define HS_STRUCT_FIELD(T, f, S) (HS__K_STRUCT, T, f, S)
#define HS_STRUCT_ARRAY_FIELD(T, f, S) (HS__K_STRUCT_ARRAY, T, f, S)

#define HS__FIELD_INIT(field) HS__FIELD_INIT_ field
#define HS__FIELD_INIT_(k, T, f, S) HS__CAT(HS__FI_, k)(T, f, S)
#define HS__FIELD_LAYOUT(field) HS__FIELD_LAYOUT_ field
#define HS__FIELD_LAYOUT_(k, T, f, S) HS__CAT(HS__FL_, k)(S)

#define HS__FI_HS__K_PLAIN(T, f, S)                                                         \
    {.name = HS__STR(#f),                                                                   \
     .offset = offsetof(T, f),                                                              \
     .size = sizeof(((T *)0)->f),                                                           \
     .kind = HS__KIND(((T *)0)->f),                                                         \
     .count = 1}
#define HS__FI_HS__K_ARRAY(T, f, S)                                                         \
    {.name = HS__STR(#f),                                                                   \
     .offset = offsetof(T, f),                                                              \
     .size = sizeof(((T *)0)->f),                                                           \
     .kind = HS__KIND(((T *)0)->f[0]),                                                      \
     .count = sizeof(((T *)0)->f) / sizeof(((T *)0)->f[0])}
#define HS__FI_HS__K_STRUCT(T, f, S)                                                        \
    {.name = HS__STR(#f),                                                                   \
     .offset = offsetof(T, f),                                                              \
     .size = sizeof(((T *)0)->f),                                                           \
     .kind = HS_FIELD_STRUCT,                                                               \
     .count = _Generic(&((T *)0)->f, S *: 1)}
#define HS__FI_HS__K_STRUCT_ARRAY(T, f, S)                                                  \
    {.name = HS__STR(#f),                                                                   \
     .offset = offsetof(T, f),                                                              \
     .size = sizeof(((T *)0)->f),                                                           \
     .kind = HS_FIELD_STRUCT,                                                               \
     .count = sizeof(((T *)0)->f) / _Generic(&((T *)0)->f[0], S *: sizeof(S))}
#define HS__FL_HS__K_PLAIN(S) NULL
#define HS__FL_HS__K_ARRAY(S) NULL
#define HS__FL_HS__K_STRUCT(S) &hs__layout_##S
#define HS__FL_HS__K_STRUCT_ARRAY(S) &hs__layout_##S

/* HS__MAP(m, a, b, ...) is m(a), m(b), ...: at most 64 arguments. */
#define HS__NARGS64(...)                                                                    \
    HS__NARGS64_(__VA_ARGS__, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50,   \
                 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32,    \
                 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14,    \
                 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define HS__NARGS64_(_1,_2,_3,_4,_5,_6,_7,_8,_9,_10,_11,_12,_13,_14,_15,_16,_17,_18,_19,_20,_21,_22,_23,_24,_25,_26,_27,_28,_29,_30,_31,_32,_33,_34,_35,_36,_37,_38,_39,_40,_41,_42,_43,_44,_45,_46,_47,_48,_49,_50,_51,_52,_53,_54,_55,_56,_57,_58,_59,_60,_61,_62,_63,_64, N, ...) N
#define HS__MAP(m, ...) HS__CAT(HS__MAP_, HS__NARGS64(__VA_ARGS__))(m, __VA_ARGS__)
#define HS__MAP_1(m, a) m(a)
#define HS__MAP_2(m, a, ...) m(a), HS__MAP_1(m, __VA_ARGS__)
#define HS__MAP_3(m, a, ...) m(a), HS__MAP_2(m, __VA_ARGS__)
#define HS__MAP_4(m, a, ...) m(a), HS__MAP_3(m, __VA_ARGS__)
#define HS__MAP_5(m, a, ...) m(a), HS__MAP_4(m, __VA_ARGS__)
#define HS__MAP_6(m, a, ...) m(a), HS__MAP_5(m, __VA_ARGS__)
#define HS__MAP_7(m, a, ...) m(a), HS__MAP_6(m, __VA_ARGS__)
#define HS__MAP_8(m, a, ...) m(a), HS__MAP_7(m, __VA_ARGS__)
#define HS__MAP_9(m, a, ...) m(a), HS__MAP_8(m, __VA_ARGS__)
#define HS__MAP_10(m, a, ...) m(a), HS__MAP_9(m, __VA_ARGS__)
#define HS__MAP_11(m, a, ...) m(a), HS__MAP_10(m, __VA_ARGS__)
#define HS__MAP_12(m, a, ...) m(a), HS__MAP_11(m, __VA_ARGS__)
#define HS__MAP_13(m, a, ...) m(a), HS__MAP_12(m, __VA_ARGS__)
#define HS__MAP_14(m, a, ...) m(a), HS__MAP_13(m, __VA_ARGS__)
#define HS__MAP_15(m, a, ...) m(a), HS__MAP_14(m, __VA_ARGS__)
#define HS__MAP_16(m, a, ...) m(a), HS__MAP_15(m, __VA_ARGS__)
#define HS__MAP_17(m, a, ...) m(a), HS__MAP_16(m, __VA_ARGS__)
#define HS__MAP_18(m, a, ...) m(a), HS__MAP_17(m, __VA_ARGS__)
#define HS__MAP_19(m, a, ...) m(a), HS__MAP_18(m, __VA_ARGS__)
#define HS__MAP_20(m, a, ...) m(a), HS__MAP_19(m, __VA_ARGS__)
#define HS__MAP_21(m, a, ...) m(a), HS__MAP_20(m, __VA_ARGS__)
#define HS__MAP_22(m, a, ...) m(a), HS__MAP_21(m, __VA_ARGS__)
#define HS__MAP_23(m, a, ...) m(a), HS__MAP_22(m, __VA_ARGS__)
#define HS__MAP_24(m, a, ...) m(a), HS__MAP_23(m, __VA_ARGS__)
#define HS__MAP_25(m, a, ...) m(a), HS__MAP_24(m, __VA_ARGS__)
#define HS__MAP_26(m, a, ...) m(a), HS__MAP_25(m, __VA_ARGS__)
#define HS__MAP_27(m, a, ...) m(a), HS__MAP_26(m, __VA_ARGS__)
#define HS__MAP_28(m, a, ...) m(a), HS__MAP_27(m, __VA_ARGS__)
#define HS__MAP_29(m, a, ...) m(a), HS__MAP_28(m, __VA_ARGS__)
#define HS__MAP_30(m, a, ...) m(a), HS__MAP_29(m, __VA_ARGS__)
#define HS__MAP_31(m, a, ...) m(a), HS__MAP_30(m, __VA_ARGS__)
#define HS__MAP_32(m, a, ...) m(a), HS__MAP_31(m, __VA_ARGS__)
#define HS__MAP_33(m, a, ...) m(a), HS__MAP_32(m, __VA_ARGS__)
#define HS__MAP_34(m, a, ...) m(a), HS__MAP_33(m, __VA_ARGS__)
#define HS__MAP_35(m, a, ...) m(a), HS__MAP_34(m, __VA_ARGS__)
#define HS__MAP_36(m, a, ...) m(a), HS__MAP_35(m, __VA_ARGS__)
#define HS__MAP_37(m, a, ...) m(a), HS__MAP_36(m, __VA_ARGS__)
#define HS__MAP_38(m, a, ...) m(a), HS__MAP_37(m, __VA_ARGS__)
#define HS__MAP_39(m, a, ...) m(a), HS__MAP_38(m, __VA_ARGS__)
#define HS__MAP_40(m, a, ...) m(a), HS__MAP_39(m, __VA_ARGS__)
#define HS__MAP_41(m, a, ...) m(a), HS__MAP_40(m, __VA_ARGS__)
#define HS__MAP_42(m, a, ...) m(a), HS__MAP_41(m, __VA_ARGS__)
#define HS__MAP_43(m, a, ...) m(a), HS__MAP_42(m, __VA_ARGS__)
#define HS__MAP_44(m, a, ...) m(a), HS__MAP_43(m, __VA_ARGS__)
#define HS__MAP_45(m, a, ...) m(a), HS__MAP_44(m, __VA_ARGS__)
#define HS__MAP_46(m, a, ...) m(a), HS__MAP_45(m, __VA_ARGS__)
#define HS__MAP_47(m, a, ...) m(a), HS__MAP_46(m, __VA_ARGS__)
#define HS__MAP_48(m, a, ...) m(a), HS__MAP_47(m, __VA_ARGS__)
#define HS__MAP_49(m, a, ...) m(a), HS__MAP_48(m, __VA_ARGS__)
#define HS__MAP_50(m, a, ...) m(a), HS__MAP_49(m, __VA_ARGS__)
#define HS__MAP_51(m, a, ...) m(a), HS__MAP_50(m, __VA_ARGS__)
#define HS__MAP_52(m, a, ...) m(a), HS__MAP_51(m, __VA_ARGS__)
#define HS__MAP_53(m, a, ...) m(a), HS__MAP_52(m, __VA_ARGS__)
#define HS__MAP_54(m, a, ...) m(a), HS__MAP_53(m, __VA_ARGS__)
#define HS__MAP_55(m, a, ...) m(a), HS__MAP_54(m, __VA_ARGS__)
#define HS__MAP_56(m, a, ...) m(a), HS__MAP_55(m, __VA_ARGS__)
#define HS__MAP_57(m, a, ...) m(a), HS__MAP_56(m, __VA_ARGS__)
#define HS__MAP_58(m, a, ...) m(a), HS__MAP_57(m, __VA_ARGS__)
#define HS__MAP_59(m, a, ...) m(a), HS__MAP_58(m, __VA_ARGS__)
#define HS__MAP_60(m, a, ...) m(a), HS__MAP_59(m, __VA_ARGS__)
#define HS__MAP_61(m, a, ...) m(a), HS__MAP_60(m, __VA_ARGS__)
#define HS__MAP_62(m, a, ...) m(a), HS__MAP_61(m, __VA_ARGS__)
#define HS__MAP_63(m, a, ...) m(a), HS__MAP_62(m, __VA_ARGS__)
#define HS__MAP_64(m, a, ...) m(a), HS__MAP_63(m, __VA_ARGS__)

/* Declares the application's type T as this compiler lays it out, and the
 * slice types of it that functions take. */
#define HS_STRUCT(T, ...)                                                                   \
    typedef struct HsSlice_##T {                                                            \
        const T *ptr;                                                                       \
        size_t len;                                                                         \
    } HsSlice_##T;                                                                          \
    typedef struct HsSliceMut_##T {                                                         \
        T *ptr;                                                                             \
        size_t len;                                                                         \
    } HsSliceMut_##T;                                                                       \
    static inline HsSlice_##T hs__slice_##T(HsValue v) {                                    \
        HsSlice_##T s;                                                                      \
        s.ptr = (const T *)(const void *)v.str.ptr;                                         \
        s.len = v.str.len;                                                                  \
        return s;                                                                           \
    }                                                                                       \
    static inline HsSliceMut_##T hs__slice_mut_##T(HsValue v) {                             \
        HsSliceMut_##T s;                                                                   \
        s.ptr = (T *)(uintptr_t)v.str.ptr;                                                  \
        s.len = v.str.len;                                                                  \
        return s;                                                                           \
    }                                                                                       \
    static inline const T *hs__ref_##T(HsValue v) { return (const T *)(const void *)v.str.ptr; } \
    static inline T *hs__ref_mut_##T(HsValue v) { return (T *)(uintptr_t)v.str.ptr; }       \
    static const HsField hs__fields_##T[] = {HS__MAP(HS__FIELD_INIT, __VA_ARGS__)};          \
    static const HsStructLayout *const hs__field_layouts_##T[] = {                          \
        HS__MAP(HS__FIELD_LAYOUT, __VA_ARGS__)};                                            \
    static const HsStructLayout hs__layout_##T = {                                          \
        .struct_size = sizeof(HsStructLayout),                                              \
        .name = HS__STR(#T),                                                                \
        .size = sizeof(T),                                                                  \
        .align = _Alignof(T),                                                               \
        .fields = hs__fields_##T,                                                           \
        .field_count = sizeof(hs__fields_##T) / sizeof(hs__fields_##T[0]),                  \
        .rust_layout = NULL,                                                                \
        .field_layouts = hs__field_layouts_##T,                                             \
    };                                                                                      \
    static inline const HsStructLayout *hs__layout_of_##T(void) { return &hs__layout_##T; }

/* Asks for the application's host callback table T (declared with
 * HS_STRUCT), by the name and version the application gives it; `hs_host`
 * points to the host's table whenever one of the plugin's functions runs. */
#define HS_HOST(T, name_, maj_, min_)                                                       \
    static const T *hs_host;                                                                \
    static void hs__set_host(const void *table) {                                           \
        hs_host = (const T *)table;                                                         \
        hs__host_table = table;                                                             \
    }                                                                                       \
    static const HsHostRequest hs__host_request = {                                         \
        .struct_size = sizeof(HsHostRequest),                                               \
        .name = HS__STR(name_),                                                             \
        .version = {.major = (maj_), .minor = (min_), .patch = 0},                          \
        .layout = &hs__layout_##T,                                                          \
        .set = hs__set_host,                                                                \
    };

/* Refuses a call when the host never handed over the table the plugin asked
 * for (a host older than ABI 1.1 cannot): the plugin must not call through a
 * null table. */
static inline HsStatus hs__host_missing(HsCallCtx *ctx) {
    char message[384];
    snprintf(message, sizeof message,
             "this plugin needs the host callback table `%.*s` %u.%u, which the host did not "
             "hand over (a host older than ABI 1.1 cannot)",
             (int)hs__host_request.name.len, (const char *)hs__host_request.name.ptr,
             hs__host_request.version.major, hs__host_request.version.minor);
    return hs_error(ctx, message);
}

/* ---- machinery below: not for direct use ---- */

#define HS__CAT(a, b) HS__CAT_(a, b)
#define HS__CAT_(a, b) a##b
#define HS__STR(s) { (const uint8_t *)(s), sizeof(s) - 1 }

#define HS__NARGS(...) HS__NARGS_(__VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define HS__NARGS_(_1,_2,_3,_4,_5,_6,_7,_8,_9,_10,_11,_12,_13,_14,_15,_16,_17,_18,_19,_20,_21,_22,_23,_24,_25,_26,_27,_28,_29,_30,_31,_32, N, ...) N

/* Per type: its C type, as a parameter after a comma (none for void);
 * the argument read from an HsValue, after a comma; tag; count; layout. */
#define HS__CTYPE_i32 int32_t
#define HS__CTYPE_i64 int64_t
#define HS__CTYPE_f64 double
#define HS__CTYPE_bool bool
#define HS__CTYPE_str HsStr
#define HS__CTYPE_bytes HsBytes
#define HS__CTYPE_void void
#define HS__CTYPE_ref(T) const T *
#define HS__CTYPE_ref_mut(T) T *
#define HS__CTYPE_slice(T) HsSlice_##T
#define HS__CTYPE_slice_mut(T) HsSliceMut_##T
#define HS__CCTYPE_i32 , int32_t
#define HS__CCTYPE_i64 , int64_t
#define HS__CCTYPE_f64 , double
#define HS__CCTYPE_bool , bool
#define HS__CCTYPE_str , HsStr
#define HS__CCTYPE_bytes , HsBytes
#define HS__CCTYPE_void
#define HS__CCTYPE_ref(T) , const T *
#define HS__CCTYPE_ref_mut(T) , T *
#define HS__CCTYPE_slice(T) , HsSlice_##T
#define HS__CCTYPE_slice_mut(T) , HsSliceMut_##T

static inline HsBytes hs__bytes(HsValue v) {
    HsBytes b;
    b.ptr = v.str.ptr;
    b.len = v.str.len;
    return b;
}

#define HS__ARG_i32(v) (v).i32
#define HS__ARG_i64(v) (v).i64
#define HS__ARG_f64(v) (v).f64
#define HS__ARG_bool(v) (v).boolean
#define HS__ARG_str(v) (v).str
#define HS__ARG_bytes(v) hs__bytes(v)
#define HS__ARG_void(v)
#define HS__ARG_ref(T) hs__ref_##T
#define HS__ARG_ref_mut(T) hs__ref_mut_##T
#define HS__ARG_slice(T) hs__slice_##T
#define HS__ARG_slice_mut(T) hs__slice_mut_##T
#define HS__CARG_i32(v) , (v).i32
#define HS__CARG_i64(v) , (v).i64
#define HS__CARG_f64(v) , (v).f64
#define HS__CARG_bool(v) , (v).boolean
#define HS__CARG_str(v) , (v).str
#define HS__CARG_bytes(v) , hs__bytes(v)
#define HS__CARG_void(v)
#define HS__CARG_ref(T) , hs__ref_##T
#define HS__CARG_ref_mut(T) , hs__ref_mut_##T
#define HS__CARG_slice(T) , hs__slice_##T
#define HS__CARG_slice_mut(T) , hs__slice_mut_##T
#define HS__TAG_i32 HS_TYPE_I32
#define HS__TAG_i64 HS_TYPE_I64
#define HS__TAG_f64 HS_TYPE_F64
#define HS__TAG_bool HS_TYPE_BOOL
#define HS__TAG_str HS_TYPE_STR
#define HS__TAG_bytes HS_TYPE_BYTES
#define HS__TAG_void HS_TYPE_VOID
#define HS__TAG_ref(T) HS_TYPE_REF
#define HS__TAG_ref_mut(T) HS_TYPE_REF_MUT
#define HS__TAG_slice(T) HS_TYPE_SLICE
#define HS__TAG_slice_mut(T) HS_TYPE_SLICE_MUT
#define HS__N_i32 1
#define HS__N_i64 1
#define HS__N_f64 1
#define HS__N_bool 1
#define HS__N_str 1
#define HS__N_bytes 1
#define HS__N_void 0
#define HS__N_ref(T) 1
#define HS__N_ref_mut(T) 1
#define HS__N_slice(T) 1
#define HS__N_slice_mut(T) 1
#define HS__LAYOUT_i32 NULL
#define HS__LAYOUT_i64 NULL
#define HS__LAYOUT_f64 NULL
#define HS__LAYOUT_bool NULL
#define HS__LAYOUT_str NULL
#define HS__LAYOUT_bytes NULL
#define HS__LAYOUT_void NULL
#define HS__LAYOUT_ref(T) &hs__layout_##T
#define HS__LAYOUT_ref_mut(T) &hs__layout_##T
#define HS__LAYOUT_slice(T) &hs__layout_##T
#define HS__LAYOUT_slice_mut(T) &hs__layout_##T

/* Per return type: store the plain function's result. */
#define HS__RET_i32(e) (ret->i32 = (e))
#define HS__RET_i64(e) (ret->i64 = (e))
#define HS__RET_f64(e) (ret->f64 = (e))
#define HS__RET_bool(e) (ret->boolean = (e))
#define HS__RET_void(e) (e)

#define HS__ARGS_1(t0) HS__ARG_##t0(args[0])
#define HS__CARGS_1(t0) HS__CARG_##t0(args[0])
#define HS__TAGS_1(t0) HS__TAG_##t0
#define HS__COUNT_1(t0) (HS__N_##t0)
#define HS__ARGS_2(t0,t1) HS__ARG_##t0(args[0]), HS__ARG_##t1(args[1])
#define HS__CARGS_2(t0,t1) HS__CARG_##t0(args[0]) HS__CARG_##t1(args[1])
#define HS__TAGS_2(t0,t1) HS__TAG_##t0, HS__TAG_##t1
#define HS__COUNT_2(t0,t1) (HS__N_##t0 + HS__N_##t1)
#define HS__ARGS_3(t0,t1,t2) HS__ARG_##t0(args[0]), HS__ARG_##t1(args[1]), HS__ARG_##t2(args[2])
#define HS__CARGS_3(t0,t1,t2) HS__CARG_##t0(args[0]) HS__CARG_##t1(args[1]) HS__CARG_##t2(args[2])
#define HS__TAGS_3(t0,t1,t2) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2
#define HS__COUNT_3(t0,t1,t2) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2)
#define HS__ARGS_4(t0,t1,t2,t3) HS__ARG_##t0(args[0]), HS__ARG_##t1(args[1]), HS__ARG_##t2(args[2]), HS__ARG_##t3(args[3])
#define HS__CARGS_4(t0,t1,t2,t3) HS__CARG_##t0(args[0]) HS__CARG_##t1(args[1]) HS__CARG_##t2(args[2]) HS__CARG_##t3(args[3])
#define HS__TAGS_4(t0,t1,t2,t3) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2, HS__TAG_##t3
#define HS__COUNT_4(t0,t1,t2,t3) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2 + HS__N_##t3)
#define HS__ARGS_5(t0,t1,t2,t3,t4) HS__ARG_##t0(args[0]), HS__ARG_##t1(args[1]), HS__ARG_##t2(args[2]), HS__ARG_##t3(args[3]), HS__ARG_##t4(args[4])
#define HS__CARGS_5(t0,t1,t2,t3,t4) HS__CARG_##t0(args[0]) HS__CARG_##t1(args[1]) HS__CARG_##t2(args[2]) HS__CARG_##t3(args[3]) HS__CARG_##t4(args[4])
#define HS__TAGS_5(t0,t1,t2,t3,t4) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2, HS__TAG_##t3, HS__TAG_##t4
#define HS__COUNT_5(t0,t1,t2,t3,t4) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2 + HS__N_##t3 + HS__N_##t4)
#define HS__ARGS_6(t0,t1,t2,t3,t4,t5) HS__ARG_##t0(args[0]), HS__ARG_##t1(args[1]), HS__ARG_##t2(args[2]), HS__ARG_##t3(args[3]), HS__ARG_##t4(args[4]), HS__ARG_##t5(args[5])
#define HS__CARGS_6(t0,t1,t2,t3,t4,t5) HS__CARG_##t0(args[0]) HS__CARG_##t1(args[1]) HS__CARG_##t2(args[2]) HS__CARG_##t3(args[3]) HS__CARG_##t4(args[4]) HS__CARG_##t5(args[5])
#define HS__TAGS_6(t0,t1,t2,t3,t4,t5) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2, HS__TAG_##t3, HS__TAG_##t4, HS__TAG_##t5
#define HS__COUNT_6(t0,t1,t2,t3,t4,t5) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2 + HS__N_##t3 + HS__N_##t4 + HS__N_##t5)
#define HS__ARGS_7(t0,t1,t2,t3,t4,t5,t6) HS__ARG_##t0(args[0]), HS__ARG_##t1(args[1]), HS__ARG_##t2(args[2]), HS__ARG_##t3(args[3]), HS__ARG_##t4(args[4]), HS__ARG_##t5(args[5]), HS__ARG_##t6(args[6])
#define HS__CARGS_7(t0,t1,t2,t3,t4,t5,t6) HS__CARG_##t0(args[0]) HS__CARG_##t1(args[1]) HS__CARG_##t2(args[2]) HS__CARG_##t3(args[3]) HS__CARG_##t4(args[4]) HS__CARG_##t5(args[5]) HS__CARG_##t6(args[6])
#define HS__TAGS_7(t0,t1,t2,t3,t4,t5,t6) HS__TAG_##t0, HS__TAG_##t1, HS__TAG_##t2, HS__TAG_##t3, HS__TAG_##t4, HS__TAG_##t5, HS__TAG_##t6
#define HS__COUNT_7(t0,t1,t2,t3,t4,t5,t6) (HS__N_##t0 + HS__N_##t1 + HS__N_##t2 + HS__N_##t3 + HS__N_##t4 + HS__N_##t5 + HS__N_##t6)
#define HS__ARGS_8(t0,t1,t2,t3,t4,t5,t6,t7) HS__ARG_##t0(args[0]), HS__ARG_##t1(args[1]), HS__ARG_##t2(args[2]), HS__ARG_##t3(args[3]), HS__ARG_##t4(args[4]), HS__ARG_##t5(args[5]), HS__ARG_##t6(args[6]), HS__ARG_##t7(args[7])
#define HS__CARGS_8(t0,t1,t2,t3,t4,t5,t6,t7) HS__CARG_##t0(args[0]) HS__CARG_##t1(args[1]) HS__CARG_##t2(args[2]) HS__CARG_##t3(args[3]) HS__CARG_##t4(args[4]) HS__CARG_##t5(args[5]) HS__CARG_##t6(args[6]) HS__CARG_##t7(args[7])
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
#define HS__LAYOUTS_1(t0) HS__LAYOUT_##t0
#define HS__LAYOUTS_2(t0,t1) HS__LAYOUT_##t0, HS__LAYOUT_##t1
#define HS__LAYOUTS_3(t0,t1,t2) HS__LAYOUT_##t0, HS__LAYOUT_##t1, HS__LAYOUT_##t2
#define HS__LAYOUTS_4(t0,t1,t2,t3) HS__LAYOUT_##t0, HS__LAYOUT_##t1, HS__LAYOUT_##t2, HS__LAYOUT_##t3
#define HS__LAYOUTS_5(t0,t1,t2,t3,t4) HS__LAYOUT_##t0, HS__LAYOUT_##t1, HS__LAYOUT_##t2, HS__LAYOUT_##t3, HS__LAYOUT_##t4
#define HS__LAYOUTS_6(t0,t1,t2,t3,t4,t5) HS__LAYOUT_##t0, HS__LAYOUT_##t1, HS__LAYOUT_##t2, HS__LAYOUT_##t3, HS__LAYOUT_##t4, HS__LAYOUT_##t5
#define HS__LAYOUTS_7(t0,t1,t2,t3,t4,t5,t6) HS__LAYOUT_##t0, HS__LAYOUT_##t1, HS__LAYOUT_##t2, HS__LAYOUT_##t3, HS__LAYOUT_##t4, HS__LAYOUT_##t5, HS__LAYOUT_##t6
#define HS__LAYOUTS_8(t0,t1,t2,t3,t4,t5,t6,t7) HS__LAYOUT_##t0, HS__LAYOUT_##t1, HS__LAYOUT_##t2, HS__LAYOUT_##t3, HS__LAYOUT_##t4, HS__LAYOUT_##t5, HS__LAYOUT_##t6, HS__LAYOUT_##t7
#define HS__LAYOUTS(...) HS__CAT(HS__LAYOUTS_, HS__NARGS(__VA_ARGS__))(__VA_ARGS__)
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
#define HS__TYPES_OF_1(f0) &hs__types_##f0
#define HS__TYPES_OF_2(f0,f1) &hs__types_##f0, &hs__types_##f1
#define HS__TYPES_OF_3(f0,f1,f2) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2
#define HS__TYPES_OF_4(f0,f1,f2,f3) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3
#define HS__TYPES_OF_5(f0,f1,f2,f3,f4) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4
#define HS__TYPES_OF_6(f0,f1,f2,f3,f4,f5) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5
#define HS__TYPES_OF_7(f0,f1,f2,f3,f4,f5,f6) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6
#define HS__TYPES_OF_8(f0,f1,f2,f3,f4,f5,f6,f7) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7
#define HS__TYPES_OF_9(f0,f1,f2,f3,f4,f5,f6,f7,f8) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8
#define HS__TYPES_OF_10(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9
#define HS__TYPES_OF_11(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10
#define HS__TYPES_OF_12(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11
#define HS__TYPES_OF_13(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12
#define HS__TYPES_OF_14(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13
#define HS__TYPES_OF_15(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14
#define HS__TYPES_OF_16(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15
#define HS__TYPES_OF_17(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16
#define HS__TYPES_OF_18(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17
#define HS__TYPES_OF_19(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18
#define HS__TYPES_OF_20(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19
#define HS__TYPES_OF_21(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20
#define HS__TYPES_OF_22(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21
#define HS__TYPES_OF_23(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21, &hs__types_##f22
#define HS__TYPES_OF_24(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21, &hs__types_##f22, &hs__types_##f23
#define HS__TYPES_OF_25(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21, &hs__types_##f22, &hs__types_##f23, &hs__types_##f24
#define HS__TYPES_OF_26(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21, &hs__types_##f22, &hs__types_##f23, &hs__types_##f24, &hs__types_##f25
#define HS__TYPES_OF_27(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21, &hs__types_##f22, &hs__types_##f23, &hs__types_##f24, &hs__types_##f25, &hs__types_##f26
#define HS__TYPES_OF_28(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21, &hs__types_##f22, &hs__types_##f23, &hs__types_##f24, &hs__types_##f25, &hs__types_##f26, &hs__types_##f27
#define HS__TYPES_OF_29(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,f28) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21, &hs__types_##f22, &hs__types_##f23, &hs__types_##f24, &hs__types_##f25, &hs__types_##f26, &hs__types_##f27, &hs__types_##f28
#define HS__TYPES_OF_30(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,f28,f29) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21, &hs__types_##f22, &hs__types_##f23, &hs__types_##f24, &hs__types_##f25, &hs__types_##f26, &hs__types_##f27, &hs__types_##f28, &hs__types_##f29
#define HS__TYPES_OF_31(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,f28,f29,f30) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21, &hs__types_##f22, &hs__types_##f23, &hs__types_##f24, &hs__types_##f25, &hs__types_##f26, &hs__types_##f27, &hs__types_##f28, &hs__types_##f29, &hs__types_##f30
#define HS__TYPES_OF_32(f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,f28,f29,f30,f31) &hs__types_##f0, &hs__types_##f1, &hs__types_##f2, &hs__types_##f3, &hs__types_##f4, &hs__types_##f5, &hs__types_##f6, &hs__types_##f7, &hs__types_##f8, &hs__types_##f9, &hs__types_##f10, &hs__types_##f11, &hs__types_##f12, &hs__types_##f13, &hs__types_##f14, &hs__types_##f15, &hs__types_##f16, &hs__types_##f17, &hs__types_##f18, &hs__types_##f19, &hs__types_##f20, &hs__types_##f21, &hs__types_##f22, &hs__types_##f23, &hs__types_##f24, &hs__types_##f25, &hs__types_##f26, &hs__types_##f27, &hs__types_##f28, &hs__types_##f29, &hs__types_##f30, &hs__types_##f31
#define HS__TYPES_OF(...) HS__CAT(HS__TYPES_OF_, HS__NARGS(__VA_ARGS__))(__VA_ARGS__)

/* The layouts of the application's types the function takes (ABI 1.1),
 * then the head of its entry point. */
#define HS__ENTRY_HEAD(fn_, ps_)                                                            \
    static const HsStructLayout *const hs__layouts_##fn_[] = {HS__LAYOUTS ps_};             \
    static const HsFunctionTypes hs__types_##fn_ = {                                        \
        .struct_size = sizeof(HsFunctionTypes),                                             \
        .function = HS__STR(#fn_),                                                          \
        .params = hs__layouts_##fn_,                                                        \
        .param_count = HS__COUNT ps_,                                                       \
    };                                                                                      \
    static HsStatus hs__entry_##fn_(HsCallCtx *ctx, const HsValue *args, size_t nargs,      \
                                    HsValue *ret) {                                         \
        (void)args;                                                                         \
        (void)ret;                                                                          \
        (void)&hs__types_##fn_;                                                             \
        if (nargs != (size_t)HS__COUNT ps_)                                                 \
            return hs_error(ctx, "`" #fn_ "`: wrong number of arguments");                  \
        if (hs__host_missing_now())                                                         \
            return hs__host_missing(ctx);

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
    static const HsFunctionTypes *const hs__function_types[] = {HS__TYPES_OF(__VA_ARGS__)}; \
    HS__PLUGIN_OF(name_, maj_, min_, pat_, sversion_, save_, load_, hs__functions)          \
    HS__EXT(hs__function_types, sizeof(hs__function_types) / sizeof(hs__function_types[0]))

/* The ABI 1.1 export: the layouts of the types the functions take, and the
 * host callback table the plugin asks for (if HS_HOST declared one). */
#define HS__EXT(types_, count_)                                                             \
    static const HsPluginExt hs__ext_without_host = {                                       \
        .struct_size = sizeof(HsPluginExt),                                                 \
        .functions = types_,                                                                \
        .function_count = (count_),                                                         \
        .host = NULL,                                                                       \
    };                                                                                      \
    static const HsPluginExt hs__ext_with_host = {                                          \
        .struct_size = sizeof(HsPluginExt),                                                 \
        .functions = types_,                                                                \
        .function_count = (count_),                                                         \
        .host = &hs__host_request,                                                          \
    };                                                                                      \
    HS_EXPORT const HsPluginExt *hotslot_plugin_ext(void) {                                 \
        return hs__host_request.struct_size != 0 ? &hs__ext_with_host                       \
                                                 : &hs__ext_without_host;                   \
    }

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
    HS_EXPORT const HsPluginDescriptor *hotslot_plugin(void) { return &hs__plugin; }     \
    HS__GET_VERSION(maj_)

/* `get_version`, the plugin's version function: it returns the major
 * version the descriptor declares. A source that defines its own (the
 * seed's math_ops.c does) defines HS_OWN_GET_VERSION before including this
 * header. */
#ifdef HS_OWN_GET_VERSION
#define HS__GET_VERSION(maj_)
#else
#define HS__GET_VERSION(maj_)                                                               \
    HS_EXPORT int get_version(void) { return (maj_); }
#endif

#define HS_PLUGIN(name_, maj_, min_, pat_, ...)                                             \
    HS__PLUGIN(name_, maj_, min_, pat_, 0, NULL, NULL, __VA_ARGS__)

#define HS_PLUGIN_STATE(name_, maj_, min_, pat_, state_version_, save_, load_, ...)         \
    HS__PLUGIN(name_, maj_, min_, pat_, state_version_, save_, load_, __VA_ARGS__)

/* The descriptor of a function declared with HS_FUNCTION or HS_FUNCTION_CTX,
 * for a table of your own (see HS_PLUGIN_TABLE). */
#define HS_FN(fn_) (&hs__fn_##fn_)

/* The types a function declared with HS_FUNCTION or HS_FUNCTION_CTX takes,
 * for a table of your own (see HS_PLUGIN_TABLE). */
#define HS_TYPES(fn_) (&hs__types_##fn_)

/* As HS_PLUGIN, with the functions in `table_`, an array of HS_FN(...). */
#define HS_PLUGIN_TABLE(name_, maj_, min_, pat_, table_)                                     \
    HS__PLUGIN_OF(name_, maj_, min_, pat_, 0, NULL, NULL, table_)                           \
    static const HsFunctionTypes *const hs__no_types[1] = {NULL};                           \
    HS__EXT(hs__no_types, 0)

/* As HS_PLUGIN_TABLE, for functions that take the application's types:
 * `types_` is an array of HS_TYPES(...) of the functions that do. */
#define HS_PLUGIN_TABLE_TYPES(name_, maj_, min_, pat_, table_, types_)                       \
    HS__PLUGIN_OF(name_, maj_, min_, pat_, 0, NULL, NULL, table_)                           \
    HS__EXT(types_, sizeof(types_) / sizeof(types_[0]))

#endif /* HOTSLOT_SHIM_H */
