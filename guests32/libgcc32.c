/*
 * libgcc32.c — the 64-bit division helpers a 32-bit compiler calls.
 *
 * On i386, gcc and clang compile a 64-bit / or % (printf.c's digit loop)
 * into calls to libgcc's __udivdi3, __umoddi3 or __udivmoddi4. The host
 * has no 32-bit libgcc (gcc-multilib), so the runtime carries its own:
 * restoring shift-and-subtract division, one quotient bit per step, with
 * only shifts, compares and subtractions (which i386 code does inline),
 * so the helpers never call themselves.
 */
#include "guests32/guest32.h"

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;

	if (d == 0) {		/* a bug in the caller: stop with #UD, reported */
		__asm__ volatile("ud2");
		__builtin_unreachable();
	}
	for (int i = 63; i >= 0; i--) {
		r = r << 1 | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ull << i;
		}
	}
	if (rem)
		*rem = r;
	return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
	return __udivmoddi4(n, d, NULL);
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;
	__udivmoddi4(n, d, &r);
	return r;
}
