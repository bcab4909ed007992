/*
 * test_mmu_gwalk.h — what the walker's unit tests (test_mmu_gwalk*.c)
 * share: a fake guest-physical memory behind struct gwalk_mem, with the
 * pt_builder (tests/support/pt_builder.h) writing tables into it.
 *
 * The fake behaves as gwalk.h asks: [0, FAKE_SIZE) is RAM, beyond it
 * reads are all ones and writes are dropped. It counts the A/D writes
 * that land, and a test may hook the compare-exchange to change an entry
 * under the walk (a concurrent writer).
 */
#ifndef HVLAB_TESTS_UNIT_TEST_MMU_GWALK_H
#define HVLAB_TESTS_UNIT_TEST_MMU_GWALK_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/gwalk.h"
#include "tests/support/pt_builder.h"

#define FAKE_SIZE	0x02000000ull	/* 32 MiB of RAM */

struct fake_mem {
	struct gwalk_mem mem;
	uint8_t *ram;
	unsigned writes;		/* compare-exchanges that stored */
	/* Called before each compare-exchange (a concurrent writer). */
	void (*before_cmpxchg)(struct fake_mem *f, gpa_t gpa);
};

static inline struct fake_mem *to_fake(const struct gwalk_mem *mem)
{
	return (struct fake_mem *)((char *)mem - offsetof(struct fake_mem, mem));
}

static inline uint64_t fake_read(const struct gwalk_mem *mem, gpa_t gpa, unsigned size)
{
	struct fake_mem *f = to_fake(mem);
	if (gpa >= FAKE_SIZE || gpa + size > FAKE_SIZE)
		return size == 4 ? 0xffffffffull : ~0ull;
	if (size == 4)
		return *(uint32_t *)(f->ram + gpa);
	return *(uint64_t *)(f->ram + gpa);
}

static inline int fake_cmpxchg(const struct gwalk_mem *mem, gpa_t gpa, unsigned size,
			       uint64_t *old, uint64_t new)
{
	struct fake_mem *f = to_fake(mem);
	if (f->before_cmpxchg)
		f->before_cmpxchg(f, gpa);
	if (gpa >= FAKE_SIZE || gpa + size > FAKE_SIZE)
		return 0;
	const uint64_t cur = fake_read(mem, gpa, size);
	if (cur != *old) {
		*old = cur;
		return -EAGAIN;
	}
	if (size == 4)
		*(uint32_t *)(f->ram + gpa) = (uint32_t)new;
	else
		*(uint64_t *)(f->ram + gpa) = new;
	f->writes++;
	return 0;
}

static inline int fake_init(struct fake_mem *f)
{
	memset(f, 0, sizeof(*f));
	f->mem.read = fake_read;
	f->mem.cmpxchg = fake_cmpxchg;
	f->ram = calloc(1, FAKE_SIZE);
	return f->ram ? 0 : -1;
}

static inline void fake_free(struct fake_mem *f)
{
	free(f->ram);
	f->ram = NULL;
}

#endif
