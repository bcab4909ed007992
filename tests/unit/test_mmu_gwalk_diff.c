/*
 * test_mmu_gwalk_diff.c — the shared guest walker (mmu/gwalk.c) against
 * the silicon model's (hw/walk.c), on random page-table trees.
 *
 * Each tree is a pool of POOL_PAGES table pages with a few random entries
 * each — any flag mix, reserved bits now and then, addresses into the
 * pool (shared tables, cycles, a table that maps itself), into empty RAM,
 * or beyond RAM (all ones) — written once into a fake memory for gwalk()
 * and copied to the same addresses in a hw machine's arena for hw_walk()
 * (hw_walk_gpa() for EPT). Then, per case, a random address chosen by
 * descending the tree (mostly along populated entries), a random access
 * (read/write/fetch, CPL, RFLAGS.AC) and random mode bits (CR0.WP,
 * CR4.PSE/SMEP/SMAP/PCIDE, EFER.NXE, 1 GiB pages, MAXPHYADDR, EPT A/D
 * and execute-only) go to both walkers, which must agree on everything:
 * the translation and page size, the rights and dirty state, the PCID,
 * or the fault and its error code / qualification; and the two memories
 * must be equal after every case (the same A/D flags set, none on
 * faults). The walking and comparing is tests/support/gwalk_diff.c's,
 * shared with tests/fuzz/fuzz_gwalk.c. A fixed seed keeps it
 * repeatable; the outcome counts check that every kind of result was
 * actually exercised.
 *
 * What the two do not share is compared apart: hw takes PAE PDPTEs as
 * validated by MOV CR3, so the random PDPTEs here are valid ones (the
 * reserved-bit check of PDPTEs is in test_mmu_gwalk.c); hw's EPT always
 * has 1 GiB pages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/support/gwalk_diff.h"

#define RAM		0x02000000ull	/* 32 MiB */
#define POOL		0x00100000ull	/* table pages: 1 MiB .. */
#define POOL_PAGES	16u
#define POOL_SIZE	(POOL_PAGES * 4096ull)
#define MAX_FILLED	8u
#define BEYOND_RAM	0x40000000ull	/* 1 GiB: no RAM there */
#define TREES		200u
#define CASES(mode)	((mode) == GWALK_64 || (mode) == GWALK_EPT ? 32u : 16u)
					/* per tree: 3200 cases for 32-bit and PAE,
					 * 6400 for the deeper 4-level and EPT */

static struct gwalk_diff d;

/* The pool's populated entries, to steer addresses along the tree. */
static unsigned filled[POOL_PAGES][MAX_FILLED], nfilled[POOL_PAGES];

/* Outcomes seen (each kind must show up). */
enum { OUT_OK, OUT_NP, OUT_RSVD, OUT_RIGHTS, OUT_MISCONFIG, OUT_AD_WRITE, OUT_N };
static unsigned outcomes[4][OUT_N];

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static bool chance(unsigned percent)
{
	return rnd() % 100 < percent;
}

static int setup(void **state)
{
	return gwalk_diff_init(&d, RAM) ? -1 : 0;
}

static int teardown(void **state)
{
	gwalk_diff_destroy(&d);
	return 0;
}

/* ------------------------------------------------------------ random trees */

/*
 * An entry's address: a pool page (most often), empty RAM, or no RAM.
 * A leaf-like entry's is often aligned for a large page.
 */
static uint64_t rnd_addr(uint64_t limit, bool leafish)
{
	uint64_t a;
	const unsigned r = (unsigned)(rnd() % 100);
	if (r < 75)
		a = POOL + (rnd() % POOL_PAGES) * 4096;
	else if (r < 88)
		a = (rnd() % (RAM >> 12)) << 12;
	else
		a = BEYOND_RAM + ((rnd() % 0x1000) << 12);
	if (leafish && chance(60)) {
		const unsigned shift = chance(60) ? 21 : 30;
		a = (rnd() & 0xf) << shift;
	}
	return a & limit;
}

/*
 * Entries are table-like (PS = 0, the reserved bits of a table entry
 * clear) or leaf-like (PS often, a memory type for EPT): an entry does
 * not know the level it will be read at, and a tree of pure noise would
 * stop at the first reserved bit.
 */
static uint64_t rnd_x86_entry(bool wide, unsigned leaf_pct, unsigned noise_pct)
{
	const bool leafish = chance(leaf_pct);
	uint64_t e = rnd_addr(wide ? 0x7fffffffffull : 0xfffff000ull, leafish);
	e |= chance(88) ? 1 : 0;		/* P */
	e |= chance(65) ? 2 : 0;		/* R/W */
	e |= chance(65) ? 4 : 0;		/* U/S */
	e |= rnd() & 0x18;			/* PWT, PCD */
	e |= chance(40) ? 0x20 : 0;		/* A */
	e |= chance(40) ? 0x40 : 0;		/* D */
	e |= leafish && chance(50) ? 0x80 : 0;	/* PS */
	e |= rnd() & 0xf00;			/* G, 11:9 */
	if (wide) {
		e |= chance(12) ? 1ull << 63 : 0;	/* XD */
		if (chance(noise_pct))
			e |= 1ull << (12 + rnd() % 51);	/* maybe reserved */
	} else {
		if (leafish && chance(30))
			e |= (rnd() & 0xff) << 13;		/* PSE-36 */
		if (chance(noise_pct))
			e |= 1ull << (12 + rnd() % 20);
	}
	return wide ? e : (uint32_t)e;
}

static uint64_t rnd_ept_entry(unsigned leaf_pct, unsigned noise_pct)
{
	static const uint8_t good[] = { 1, 3, 5, 7, 7, 7 };
	static const uint8_t types[] = { 6, 6, 6, 6, 6, 6, 0, 1, 4, 5, 2, 3, 7 };
	const bool leafish = chance(leaf_pct);
	uint64_t e = rnd_addr(0x7fffffffffull, leafish);
	const unsigned r = (unsigned)(rnd() % 100);
	/* Not present, W without R, execute-only, or a legal R/W/X mix. */
	e |= r < 10 ? 0 : r < 13 ? (chance(50) ? 2 : 6) : r < 17 ? 4 : good[rnd() % sizeof(good)];
	if (leafish) {
		const bool large = chance(50);
		e |= large ? 0x80 : 0;
		if (large || chance(40)) {
			e |= (uint64_t)types[rnd() % sizeof(types)] << 3;
			e |= rnd() & 0x40;	/* IPAT */
		}
	}
	e |= chance(40) ? 0x100 : 0;		/* A */
	e |= chance(40) ? 0x200 : 0;		/* D */
	e |= rnd() & 0xc00;			/* 11:10 */
	if (chance(noise_pct))
		e |= 1ull << (3 + rnd() % 61);
	return e;
}

static void new_tree(enum gwalk_mode mode)
{
	const unsigned size = mode == GWALK_32 ? 4 : 8;
	const unsigned nidx = mode == GWALK_32 ? 1024 : 512;
	memset(d.ram + POOL, 0, POOL_SIZE);
	for (unsigned p = 0; p < POOL_PAGES; p++) {
		nfilled[p] = 1 + (unsigned)(rnd() % MAX_FILLED);
		for (unsigned i = 0; i < nfilled[p]; i++) {
			const unsigned idx = (unsigned)(rnd() % nidx);
			/* The first pages are mostly tables, so that deep
			 * formats reach their leaves often enough. */
			const bool upper = p < 4 && mode != GWALK_32;
			const unsigned leaf = upper ? 5 : 30, noise = upper ? 1 : 3;
			const uint64_t e = mode == GWALK_EPT ? rnd_ept_entry(leaf, noise) :
					   rnd_x86_entry(mode != GWALK_32, leaf, noise);
			filled[p][i] = idx;
			memcpy(d.ram + POOL + p * 4096 + idx * size, &e, size);
		}
	}
	gwalk_diff_sync(&d, POOL, POOL_SIZE);
}

/* An index into the table at @table: a populated one mostly. */
static uint64_t pick_index(uint64_t table, unsigned nidx)
{
	if (table >= POOL && table < POOL + POOL_SIZE && chance(90)) {
		const unsigned p = (unsigned)((table - POOL) >> 12);
		return filled[p][rnd() % nfilled[p]];
	}
	return rnd() % nidx;
}

/* A random address whose path follows the tree from @table (level @top). */
static uint64_t rnd_address(enum gwalk_mode mode, uint64_t table, unsigned top,
			    const uint64_t *pdpte)
{
	const unsigned bits = mode == GWALK_32 ? 10 : 9, size = mode == GWALK_32 ? 4 : 8;
	uint64_t addr = rnd() & 0xfff;
	unsigned level = top;
	if (mode == GWALK_PAE) {
		const unsigned i = (unsigned)(rnd() % 4);
		addr |= (uint64_t)i << 30;
		table = pdpte[i] & 0xffffff000ull;
		level = 2;
	}
	for (; level >= 1; level--) {
		const unsigned shift = 12 + bits * (level - 1);
		const uint64_t idx = pick_index(table, 1u << bits);
		addr |= idx << shift;
		uint64_t e = 0;
		if (table + idx * size + size <= RAM)
			memcpy(&e, d.ram + table + idx * size, size);
		table = e & (size == 4 ? 0xfffff000ull : 0xffffffffff000ull);
	}
	if (mode == GWALK_64 && (addr & (1ull << 47)))
		addr |= 0xffff000000000000ull;		/* canonical */
	return addr;
}

/* ------------------------------------------------------------ one case */

static const char *const mode_names[] = { "32-bit", "PAE", "4-level", "EPT" };

/* Which kind of outcome both walkers had (they agreed on it). */
static unsigned outcome(const struct gwalk *w)
{
	switch (w->fault) {
	case GWALK_OK:
		return OUT_OK;
	case GWALK_PF:
		return !(w->error_code & GWALK_PF_P) ? OUT_NP :
		       (w->error_code & GWALK_PF_RSVD) ? OUT_RSVD : OUT_RIGHTS;
	case GWALK_EPT_VIOLATION:
		/* Some of R/W/X allowed on the path: a rights violation. */
		return (w->error_code & (7u << GWALK_EPTQ_RWX_SHIFT)) ? OUT_RIGHTS : OUT_NP;
	default:
		return OUT_MISCONFIG;
	}
}

static void one_case(const struct gwalk_cfg *cfg, uint64_t addr, unsigned acc, unsigned *out)
{
	struct gwalk w;
	struct hw_walk hw;
	const unsigned writes = d.writes;
	const char *why = gwalk_diff_walk(&d, cfg, addr, acc, &w, &hw);

	if (why) {
		print_error("%s (%s): addr %#llx acc %#x root %#llx wp %d pse %d nxe %d "
			    "smep %d smap %d 1g %d M %u xonly %d\n"
			    "  gwalk: fault %d err %#x gpa %#llx shift %u rights %#x dirty %d "
			    "level %u pcid %#x\n"
			    "  hw:    fault %d err %#x qual %#llx gpa %#llx hpa %#llx shift %u/%u "
			    "rights %#x pcid %#x\n",
			    why, mode_names[cfg->mode], (unsigned long long)addr, acc,
			    (unsigned long long)cfg->root, cfg->wp, cfg->pse, cfg->nxe, cfg->smep,
			    cfg->smap, cfg->gbpages, cfg->maxphyaddr, cfg->ept_x_only, w.fault,
			    w.error_code, (unsigned long long)w.gpa, w.page_shift, w.rights, w.dirty,
			    w.level, w.pcid, hw.fault, hw.pf_error, (unsigned long long)hw.qual,
			    (unsigned long long)hw.gpa, (unsigned long long)hw.hpa, hw.page_shift,
			    hw.nested_shift, hw.rights, hw.pcid);
		fail();
	}
	out[outcome(&w)]++;
	if (d.writes != writes)
		out[OUT_AD_WRITE]++;
}

static void run_format(enum gwalk_mode mode)
{
	static const uint8_t widths[] = { 36, 39, 40, 46, 52 };
	unsigned *out = outcomes[mode];

	for (unsigned t = 0; t < TREES; t++) {
		new_tree(mode);
		for (unsigned c = 0; c < CASES(mode); c++) {
			/* One statement per draw: the order is the seed's. */
			struct gwalk_cfg cfg = { .mode = mode };
			cfg.maxphyaddr = widths[rnd() % sizeof(widths)];
			cfg.wp = chance(50);
			cfg.pse = mode == GWALK_32 && chance(70);
			cfg.nxe = chance(60);
			cfg.smep = chance(40);
			cfg.smap = chance(40);
			cfg.gbpages = mode == GWALK_EPT || chance(70);
			cfg.ept_x_only = chance(50);
			cfg.root = POOL | (rnd() & 0x18);
			if (mode == GWALK_64 && chance(30)) {
				cfg.pcide = true;
				cfg.root = POOL | (rnd() & 0xfff);
			} else if (mode == GWALK_EPT) {
				cfg.root = POOL | 0x1e | (chance(50) ? 0x40 : 0);
			}
			for (unsigned i = 0; i < 4; i++) {
				if (!chance(85)) {
					cfg.pdpte[i] = rnd() & ~1ull;	/* not present */
					continue;
				}
				cfg.pdpte[i] = POOL + (rnd() % POOL_PAGES) * 4096 + 1;
				cfg.pdpte[i] |= rnd() & 0x18;		/* PWT, PCD */
			}
			/* The access: read, write or fetch; user, supervisor,
			 * or explicit supervisor with AC = 1. */
			const unsigned kind = (unsigned)(rnd() % 3), who = (unsigned)(rnd() % 3);
			unsigned acc = kind == 1 ? GWALK_ACC_WRITE : kind == 2 ? GWALK_ACC_FETCH : 0;
			if (who == 1)
				acc |= GWALK_ACC_USER;
			else if (who == 2 && kind != 2)
				acc |= GWALK_ACC_NO_SMAP;
			const unsigned top = mode == GWALK_32 ? 2 : mode == GWALK_PAE ? 3 : 4;
			const uint64_t addr = rnd_address(mode, POOL, top, cfg.pdpte);
			one_case(&cfg, addr, acc, out);
			if (!gwalk_diff_same(&d, POOL, POOL_SIZE)) {
				print_error("%s: memories differ after case %u of tree %u\n",
					    mode_names[mode], c, t);
				fail();
			}
		}
	}
	print_message("%s: %u ok, %u not present, %u reserved, %u rights, %u misconfig; "
		      "%u with A/D writes\n", mode_names[mode], out[OUT_OK], out[OUT_NP],
		      out[OUT_RSVD], out[OUT_RIGHTS], out[OUT_MISCONFIG], out[OUT_AD_WRITE]);
	/* Every kind of result was exercised, not one path thousands of times. */
	const unsigned floor = TREES * CASES(mode) / 50;
	assert_true(out[OUT_OK] >= floor);
	assert_true(out[OUT_NP] >= floor);
	assert_true(out[OUT_RIGHTS] >= floor);
	assert_true(out[OUT_AD_WRITE] >= floor);
	if (mode == GWALK_EPT)
		assert_true(out[OUT_MISCONFIG] >= floor);
	else
		assert_true(out[OUT_RSVD] >= floor);
}

static void diff_32(void **state)
{
	run_format(GWALK_32);
}

static void diff_pae(void **state)
{
	run_format(GWALK_PAE);
}

static void diff_64(void **state)
{
	run_format(GWALK_64);
}

static void diff_ept(void **state)
{
	run_format(GWALK_EPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(diff_32),
		cmocka_unit_test(diff_pae),
		cmocka_unit_test(diff_64),
		cmocka_unit_test(diff_ept),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
