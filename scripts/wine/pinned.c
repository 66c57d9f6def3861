/*
 * The C shim's math_ops plugin, pinned in memory by itself when loaded
 * (GET_MODULE_HANDLE_EX_FLAG_PIN): Windows' loader then never unloads it,
 * which hotslot must notice and report as a retained generation rather
 * than pretend it was released. For scripts/windows-under-wine.
 */
#include <windows.h>

#include "../../c-shim/math_ops.c"

__attribute__((constructor)) static void pin_self(void) {
    HMODULE self;
    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                       (LPCWSTR)(void *)&pin_self, &self);
}
