/*
 * counter.c: a call counter whose count survives a reload, through the
 * state hooks: the old build saves its count, the new build restores it.
 *
 *   cc -std=c11 -Wall -Wextra -Werror -O2 -fno-semantic-interposition -shared -fPIC \
 *      -I plugin-api/include -o libcounter_c.so c-shim/counter.c
 */
#include <string.h>

#include "hotslot_shim.h"

#ifndef STATE_VERSION
#define STATE_VERSION 1
#endif

static int64_t calls;

/* Counts this call and returns the count so far. */
static int64_t count(void) { return ++calls; }

/* The count so far. */
static int64_t peek(void) { return calls; }

static HsStatus save_state(HsCallCtx *ctx) { return hs_return_bytes(ctx, &calls, sizeof calls); }

static HsStatus load_state(HsCallCtx *ctx, uint32_t version, HsBytes state) {
    if (version != STATE_VERSION)
        return hs_error(ctx, "unknown state version");
    if (state.len != sizeof calls)
        return hs_error(ctx, "expected 8 bytes of state");
    memcpy(&calls, state.ptr, sizeof calls);
    return HS_STATUS_OK;
}

HS_FUNCTION(i64, count, (void), 1, 0, 0)
HS_FUNCTION(i64, peek, (void), 1, 0, 0)

HS_PLUGIN_STATE("counter_c", 1, 0, 0, STATE_VERSION, save_state, load_state, count, peek)
