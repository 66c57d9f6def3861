/*
 * string_ops.c: a C plugin whose functions return strings and fail with
 * messages. The host copies every string and message before the callback
 * returns, so stack buffers are fine.
 *
 *   cc -std=c11 -Wall -Wextra -Werror -O2 -fno-semantic-interposition -shared -fPIC \
 *      -I plugin-api/include -o libstring_ops_c.so c-shim/string_ops.c
 */
#include <ctype.h>
#include <stdio.h>

#include "hotslot_shim.h"

/* Upper-cases ASCII letters; other bytes (UTF-8 included) pass through. */
static HsStatus c_upper(HsCallCtx *ctx, HsValue *ret, HsStr s) {
    char buf[256];
    (void)ret;
    if (s.len > sizeof buf)
        return hs_error(ctx, "c_upper: strings longer than 256 bytes are not supported");
    for (size_t i = 0; i < s.len; i++)
        buf[i] = (char)toupper(s.ptr[i]);
    return hs_return_str(ctx, buf, s.len);
}

/* Formats an integer as text. */
static HsStatus c_itoa(HsCallCtx *ctx, HsValue *ret, int64_t n) {
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%lld", (long long)n);
    (void)ret;
    return hs_return_str(ctx, buf, (size_t)len);
}

/* Length in bytes. */
static HsStatus c_len(HsCallCtx *ctx, HsValue *ret, HsStr s) {
    (void)ctx;
    ret->i64 = (int64_t)s.len;
    return HS_STATUS_OK;
}

/* Integer division that refuses zero with a message. */
static HsStatus c_div(HsCallCtx *ctx, HsValue *ret, int64_t a, int64_t b) {
    if (b == 0)
        return hs_error(ctx, "c_div: division by zero");
    ret->i64 = a / b;
    return HS_STATUS_OK;
}

HS_FUNCTION_CTX(str, c_upper, (str), 1, 0, 0)
HS_FUNCTION_CTX(str, c_itoa, (i64), 1, 0, 0)
HS_FUNCTION_CTX(i64, c_len, (str), 1, 0, 0)
HS_FUNCTION_CTX(i64, c_div, (i64, i64), 1, 0, 0)

HS_PLUGIN("string_ops_c", 1, 0, 0, c_upper, c_itoa, c_len, c_div)
