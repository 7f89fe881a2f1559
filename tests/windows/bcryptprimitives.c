/* TEST-ONLY stand-in for bcryptprimitives.dll, which wine 8 lacks and Rust >= 1.78's std imports
 * (ProcessPrng). Built by tests/windows/run-tests.sh into the throwaway Wine prefix; never ship
 * it: real Windows (8 and later) has the real DLL. */
#include <windows.h>

/* advapi32's SystemFunction036 is RtlGenRandom. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
