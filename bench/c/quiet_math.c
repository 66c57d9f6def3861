/*
 * quiet_math.c: math_ops.c's math_add without its print, for the
 * benchmarks, and the native functions of the suite (bench/benches/suite.rs):
 * args0 .. args6, of 0 to 6 ints, and text, which returns a string. Built as
 * a plugin at run time, and linked statically into the benchmark binary
 * (build.rs) for the comparison without a slot. The peers (Lua, wasm) call
 * the same C functions, through their own bindings.
 */
#include <string.h>

#include "hotslot_shim.h"

#ifndef OP
#define OP(a, b) ((a) + (b))
#endif

HS_EXPORT int math_add(int a, int b);
HS_EXPORT int math_add(int a, int b) { return OP(a, b); }

/* Calls of 0 to 6 arguments: each returns its arguments' sum, plus one for
 * the one without any. Unsigned arithmetic: sums wrap, as the VM's do. */
#define U(x) ((unsigned)(x))
HS_EXPORT int args0(void);
HS_EXPORT int args1(int a);
HS_EXPORT int args2(int a, int b);
HS_EXPORT int args3(int a, int b, int c);
HS_EXPORT int args4(int a, int b, int c, int d);
HS_EXPORT int args5(int a, int b, int c, int d, int e);
HS_EXPORT int args6(int a, int b, int c, int d, int e, int f);
HS_EXPORT int args0(void) { return 1; }
HS_EXPORT int args1(int a) { return (int)(U(a) + 1u); }
HS_EXPORT int args2(int a, int b) { return (int)(U(a) + U(b)); }
HS_EXPORT int args3(int a, int b, int c) { return (int)(U(a) + U(b) + U(c)); }
HS_EXPORT int args4(int a, int b, int c, int d) { return (int)(U(a) + U(b) + U(c) + U(d)); }
HS_EXPORT int args5(int a, int b, int c, int d, int e) {
    return (int)(U(a) + U(b) + U(c) + U(d) + U(e));
}
HS_EXPORT int args6(int a, int b, int c, int d, int e, int f) {
    return (int)(U(a) + U(b) + U(c) + U(d) + U(e) + U(f));
}

/* The text `text` returns: a label of the number, 16 bytes. */
HS_EXPORT const char *quiet_text(int i, size_t *len);
HS_EXPORT const char *quiet_text(int i, size_t *len) {
    static const char labels[2][17] = {"item-even-000000", "item-odd--000001"};
    *len = 16;
    return labels[i & 1];
}

static HsStatus text(HsCallCtx *ctx, HsValue *ret, int32_t i) {
    size_t len;
    const char *s = quiet_text(i, &len);
    HS_UNUSED(ret);
    return hs_return_str(ctx, s, len);
}

HS_FUNCTION(i32, math_add, (i32, i32), 1, 0, 0)
HS_FUNCTION(i32, args0, (void), 1, 0, 0)
HS_FUNCTION(i32, args1, (i32), 1, 0, 0)
HS_FUNCTION(i32, args2, (i32, i32), 1, 0, 0)
HS_FUNCTION(i32, args3, (i32, i32, i32), 1, 0, 0)
HS_FUNCTION(i32, args4, (i32, i32, i32, i32), 1, 0, 0)
HS_FUNCTION(i32, args5, (i32, i32, i32, i32, i32), 1, 0, 0)
HS_FUNCTION(i32, args6, (i32, i32, i32, i32, i32, i32), 1, 0, 0)
HS_FUNCTION_CTX(str, text, (i32), 1, 0, 0)
HS_PLUGIN("quiet_math_c", 1, 0, 0, math_add, args0, args1, args2, args3, args4, args5, args6,
          text)
