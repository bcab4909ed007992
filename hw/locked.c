/*
 * locked.c — LOCKed read-modify-writes on the arena (SDM Vol. 3A 9.1.2):
 * the engine turns LOCK ADD, XADD, XCHG, CMPXCHG, CMPXCHG8B/16B and the
 * rest into a read and a compare-exchange (emu_ops.cmpxchg), retried
 * until the compare-exchange succeeds, so an atomic compare-exchange on
 * host memory makes each of them atomic against the other processors.
 *
 *   operand (in one page)                   host operation
 *   naturally aligned 1, 2, 4 bytes         that size's cmpxchg
 *   inside an aligned 8-byte block          8-byte cmpxchg of the block
 *   inside an aligned 16-byte block         16-byte cmpxchg (CMPXCHG16B
 *                                           itself must be aligned)
 *   across a 16-byte boundary               split lock: under the bus lock
 *
 * A split lock (9.1.2.2: a locked access across cache lines asserts the
 * bus lock) is atomic against the other split locks and across pages too
 * (hw/mem.c takes the same lock), not against an aligned locked
 * operation on the same bytes from another processor, which would have
 * to take the bus lock as well; guests do not mix the two on one
 * location (Linux treats split locks as a bug, SDM 9.1.2.3 discourages
 * them), so the model does not slow every atomic for that case.
 *
 * A failed compare-exchange stores nothing: the processor writes the old
 * value back (CMPXCHG "Operation"), which no other agent can tell apart.
 */
#include <string.h>

#include "hw/locked.h"
#include "hw/request.h"

void hw_bus_lock(struct hw_machine *m)
{
	hw_spin_lock(&m->bus_lock);
}

void hw_bus_unlock(struct hw_machine *m)
{
	hw_spin_unlock(&m->bus_lock);
}

#if defined(__x86_64__)
typedef unsigned __int128 u128;

/* The host's CMPXCHG16B (without -mcx16 the compiler would call
 * libatomic, which may take a lock). */
static bool cas16(u128 *p, u128 *expected, u128 desired)
{
	uint64_t lo = (uint64_t)*expected, hi = (uint64_t)(*expected >> 64);
	bool ok;
	__asm__ __volatile__("lock cmpxchg16b %1"
			     : "=@ccz"(ok), "+m"(*p), "+a"(lo), "+d"(hi)
			     : "b"((uint64_t)desired), "c"((uint64_t)(desired >> 64))
			     : "memory");
	*expected = ((u128)hi << 64) | lo;
	return ok;
}

static u128 load16(u128 *p)
{
	u128 v = 0;
	cas16(p, &v, 0);	/* fails unless 0, and stores 0 over 0: a load */
	return v;
}
#endif

/* @size bytes at byte @off of an aligned 8-byte block, compared and
 * exchanged by a cmpxchg of the whole block. */
static void cas_in8(uint64_t *q, unsigned off, void *old, const void *new, unsigned size)
{
	const unsigned shift = off * 8;
	const uint64_t mask = (size == 8 ? ~0ull : (1ull << (size * 8)) - 1) << shift;
	uint64_t o = 0, n = 0;
	memcpy(&o, old, size);
	memcpy(&n, new, size);
	uint64_t cur = __atomic_load_n(q, __ATOMIC_RELAXED);
	for (;;) {
		const uint64_t v = (cur & mask) >> shift;
		if (v != o) {
			memcpy(old, &v, size);
			return;
		}
		if (__atomic_compare_exchange_n(q, &cur, (cur & ~mask) | (n << shift), false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
	}
}

#if defined(__x86_64__)
static void cas_in16(u128 *b, unsigned off, void *old, const void *new, unsigned size)
{
	const unsigned shift = off * 8;
	const u128 mask = (size == 16 ? ~(u128)0 : ((u128)1 << (size * 8)) - 1) << shift;
	u128 o = 0, n = 0;
	memcpy(&o, old, size);
	memcpy(&n, new, size);
	u128 cur = load16(b);
	for (;;) {
		const u128 v = (cur & mask) >> shift;
		if (v != o) {
			memcpy(old, &v, size);
			return;
		}
		if (cas16(b, &cur, (cur & ~mask) | (n << shift)))
			return;
	}
}
#endif

static void cas_split(struct hw_machine *m, uint8_t *p, void *old, const void *new,
		      unsigned size)
{
	uint8_t cur[16];
	hw_bus_lock(m);
	hw_phys_load(p, cur, size);
	if (!memcmp(cur, old, size))
		hw_phys_store(p, new, size);
	hw_bus_unlock(m);
	memcpy(old, cur, size);
}

void hw_locked_cmpxchg(struct hw_machine *m, void *p, void *old, const void *new,
		       unsigned size)
{
	const uintptr_t a = (uintptr_t)p;
	if (!(a & (size - 1)) && size < 8) {
		uint64_t o = 0, n = 0;
		memcpy(&o, old, size);
		memcpy(&n, new, size);
		switch (size) {
		case 1: { uint8_t e = (uint8_t)o; __atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); memcpy(old, &e, 1); return; }
		case 2: { uint16_t e = (uint16_t)o; __atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); memcpy(old, &e, 2); return; }
		case 4: { uint32_t e = (uint32_t)o; __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); memcpy(old, &e, 4); return; }
		}
	}
	if ((a & ~7ull) == ((a + size - 1) & ~7ull)) {
		cas_in8((uint64_t *)(a & ~7ull), (unsigned)(a & 7), old, new, size);
		return;
	}
#if defined(__x86_64__)
	if ((a & ~15ull) == ((a + size - 1) & ~15ull)) {
		cas_in16((u128 *)(a & ~15ull), (unsigned)(a & 15), old, new, size);
		return;
	}
#endif
	cas_split(m, p, old, new, size);
}
