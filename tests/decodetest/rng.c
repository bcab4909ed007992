/*
 * rng.c — the test's own PRNG, so a seed names the same cases on every
 * machine and libc: splitmix64 turns the seed into a nonzero state,
 * xorshift64* (Vigna, "An experimental exploration of Marsaglia's
 * xorshift generators", 2016) produces the stream.
 */
#include "decodetest.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void dt_rng_seed(struct dt_rng *rng, uint64_t seed)
{
	rng->s = splitmix64(&seed);
	if (!rng->s)
		rng->s = 1;	/* xorshift's one fixed point */
}

uint64_t dt_rng_next(struct dt_rng *rng)
{
	uint64_t x = rng->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng->s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* The high bits are the good ones; n is small, the bias negligible. */
unsigned dt_rng_below(struct dt_rng *rng, unsigned n)
{
	return (unsigned)(((dt_rng_next(rng) >> 32) * n) >> 32);
}
