/*
 * Test harness only, never shipped: bcryptprimitives.dll for Wine 8.0,
 * which lacks it. Rust's std imports ProcessPrng from it for its random
 * numbers (HashMap keys), so without it no Rust DLL loads under that Wine
 * ("Library bcryptprimitives.dll ... not found"). The Windows versions
 * Rust's std supports (10 and later) have the real one. make test-windows
 * puts this one beside the test programs (the application directory is
 * searched first). It fills the buffer from RtlGenRandom (advapi32's
 * SystemFunction036), the generator ProcessPrng stands for.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000u ? 0x40000000u : (ULONG)len;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
