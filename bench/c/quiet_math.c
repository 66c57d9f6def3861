/*
 * quiet_math.c: math_ops.c's math_add without its print, for the
 * benchmarks. Built as a plugin at run time, and linked statically into the
 * benchmark binary (build.rs) for the comparison without a slot.
 */
#include "hotslot_shim.h"

#ifndef OP
#define OP(a, b) ((a) + (b))
#endif

HS_EXPORT int math_add(int a, int b);
HS_EXPORT int math_add(int a, int b) { return OP(a, b); }

HS_FUNCTION(i32, math_add, (i32, i32), 1, 0, 0)
HS_PLUGIN("quiet_math_c", 1, 0, 0, math_add)

HS_EXPORT int get_version(void) { return 1; }
