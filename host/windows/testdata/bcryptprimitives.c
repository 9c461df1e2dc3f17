/*
 * A stand-in bcryptprimitives.dll for Wine before 8.13, which lacks
 * ProcessPrng: Go 1.22 and later call it at start-up for random bytes.
 * It forwards to advapi32's SystemFunction036 (RtlGenRandom). TestWine
 * builds it with x86_64-w64-mingw32-gcc into its Wine prefix; never ship
 * it.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG len);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
