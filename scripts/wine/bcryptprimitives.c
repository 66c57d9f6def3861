/*
 * bcryptprimitives.dll for wine 8 (Debian 12), which lacks it: Rust's
 * standard library on Windows takes its random bytes from `ProcessPrng`
 * there. This one answers with `RtlGenRandom` (advapi32's
 * SystemFunction036), as wine has it. Placed beside the executables that
 * scripts/windows-under-wine runs; never shipped.
 */
#include <windows.h>

BOOLEAN NTAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
