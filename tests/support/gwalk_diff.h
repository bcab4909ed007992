/*
 * gwalk_diff.h — the two guest page walkers side by side: one walk of
 * the same tables for the same access in each, and whether they agree.
 * Used by tests/unit/test_mmu_gwalk_diff.c (random trees from a fixed
 * seed) and tests/fuzz/fuzz_gwalk.c (trees the fuzzer chooses).
 *
 * hvlab walks guest page tables in two places, written apart:
 *   mmu/gwalk.c (gwalk_tmpl.h)   the hypervisor's walker: the shadow MMUs
 *                                and the emulator translate with it,
 *                                through struct gwalk_mem;
 *   hw/walk.c, hw/walk_nested.c  the silicon model's: what the modeled
 *                                processor does on a TLB miss, reading
 *                                its host-physical arena.
 * A pair (struct gwalk_diff) is two memories of one size: a buffer behind
 * struct gwalk_mem for gwalk(), and a hw machine's arena for hw_walk()
 * (hw_walk_gpa() for EPT). The caller writes the same tables into both
 * (gwalk_diff_sync()); each walker then sets its A/D flags in its own.
 * Outside the memory both read all ones and drop writes (no RAM).
 *
 * The walkers agree when
 *  - x86 paging (SDM Vol. 3A 4.3 32-bit, 4.4 PAE, 4.5 4-level): both
 *    translate, to the same guest-physical address and page size, with
 *    the same W, U and execute rights of the path (4.6), the same dirty
 *    state of the leaf (4.8) and the same PCID (4.10.1); or both raise a
 *    #PF with the same error code (4.7);
 *  - EPT (SDM Vol. 3C 29.3.2): both translate, to the same address and
 *    page size, with the same R/W/X rights and dirty state (29.3.5); or
 *    both report an EPT violation with the same qualification (28.2.1,
 *    Table 28-7), or both an EPT misconfiguration (29.3.3.1);
 *  - and afterwards the memories are equal (the same A/D flags set, none
 *    on a fault): the caller checks that with gwalk_diff_same() on the
 *    range its tables are in.
 *
 * What the two do not share is the caller's to keep apart: hw takes the
 * PAE PDPTEs as MOV CR3 validated them (cfg->pdpte[] must be valid ones:
 * present ones without reserved bits), and hw's EPT always has 1 GiB
 * pages (cfg->gbpages set for GWALK_EPT).
 */
#ifndef HVLAB_TESTS_GWALK_DIFF_H
#define HVLAB_TESTS_GWALK_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/walk.h"
#include "mmu/gwalk.h"

struct hw_machine;

struct gwalk_diff {
	struct gwalk_mem mem;	/* gwalk()'s view of ram[] */
	uint8_t *ram;		/* gwalk()'s memory: guest-physical [0, size) */
	uint8_t *arena;		/* hw_walk()'s: host-physical [0, size) of m */
	struct hw_machine *m;	/* an Intel machine (EPT) */
	uint64_t size;
	unsigned writes;	/* gwalk()'s A/D writes that stored in ram[] */
};

/* Set up @d with two zeroed memories of @size bytes (at least 1 MiB,
 * hw's smallest arena). 0, or -errno with nothing left to free. */
int gwalk_diff_init(struct gwalk_diff *d, uint64_t size);
void gwalk_diff_destroy(struct gwalk_diff *d);

/* Copy ram[@base, @base + @len) to the same place in the arena. */
void gwalk_diff_sync(struct gwalk_diff *d, uint64_t base, uint64_t len);

/* Whether the two memories hold the same bytes in [@base, @base + @len). */
bool gwalk_diff_same(const struct gwalk_diff *d, uint64_t base, uint64_t len);

/*
 * Walk @addr (linear; for GWALK_EPT guest-physical) for access @acc
 * (GWALK_ACC_WRITE/USER/FETCH/NO_SMAP; not PEEK, which hw has no
 * counterpart of) under @cfg with both walkers: gwalk() over ram[] into
 * @w, and hw_walk() or hw_walk_gpa() over the arena, for the same access
 * in HW_ACC_* terms, into @hw. NULL when they agree (as above, memories
 * aside), else what differs first ("gpa differs", "#PF error code
 * differs", ...); @w and @hw hold both results either way, and once they
 * agree w->fault is the outcome of both.
 */
const char *gwalk_diff_walk(struct gwalk_diff *d, const struct gwalk_cfg *cfg, uint64_t addr,
			    unsigned acc, struct gwalk *w, struct hw_walk *hw);

#endif
