/*
 * test_hw_guest_walk.c — what TLB misses cost, counted from inside a
 * guest: a loop reads one word from each of N fresh 4 KiB pages, and the
 * processor's counters (hw_cpu_counters: tlb_misses, walk_refs,
 * walk_refs_2d) must come out exactly as derived below.
 *
 * The run touches the code page (first fetch) and the N data pages, all
 * fresh: N + 1 misses when the TLB caches 4 KiB pieces, 2 when one large
 * page covers all the data (code and data lie in different large pages).
 * Nothing else is translated: no stack, no descriptor tables, the result
 * is in a register.
 *
 * References per miss, with the paging-structure caches off (machine
 * tlb.psc_entries = 0: every walk starts at the root; SDM Vol. 3A 4.10.3
 * lets a processor cache nothing), G guest levels read, each a memory
 * reference; under EPT/NPT each of those reads first needs its
 * guest-physical address translated by an E-level nested walk, and so
 * does the final guest-physical address (SDM Vol. 3C 29.3.2; APM Vol. 2
 * 15.25.5, "two-dimensional" walk):
 *
 *   refs = G + (G + 1) * E        of which nested (walk_refs_2d) (G + 1) * E
 *
 *   guest paging        G   nested pages   E   refs/miss
 *   4-level, 4 KiB      4   none           0    4
 *   4-level, 4 KiB      4   4 KiB          4   24
 *   4-level, 4 KiB      4   2 MiB          3   19
 *   4-level, 2 MiB      3   none           0    3
 *   4-level, 2 MiB      3   4 KiB          4   19 (TLB holds 4 KiB pieces)
 *   4-level, 2 MiB      3   2 MiB          3   15
 *   32-bit, 4 KiB       2   none/4 KiB   0/4    2 / 14
 *   32-bit, 4 MiB       1   none/4 KiB   0/4    1 / 9
 *
 * The upper-level tables are shared by all N pages, but without
 * paging-structure caches sharing saves nothing: each walk reads them
 * again. A second run over the same pages misses nothing (N is far below
 * the TLB's 128 sets, and the pages fall in different sets), and VM
 * entry with a VPID/ASID keeps the entries (SDM Vol. 3C 29.4.3.1, APM
 * 15.16).
 */
#include "test_hw_guest.h"

#define N_PAGES 16
#define DATA	0x400000ull

/* The loop (64-bit; the 32-bit form drops the REX.W of the add). */
static void put_loop(struct gm *m)
{
	uint8_t b[] = {
		0xb9, N_PAGES, 0x00, 0x00, 0x00,	/* mov ecx, N_PAGES */
		0xbe, 0x00, 0x00, 0x40, 0x00,		/* mov esi, DATA */
		0x8b, 0x06,				/* 1: mov eax, [rsi] */
		0x48, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00,	/* add rsi, 0x1000 */
		0xff, 0xc9,				/* dec ecx */
		0x75, 0xf3,				/* jnz 1b */
		0xf4,					/* hlt */
	};
	if (m->mode == GM_64) {
		gm_put(m, GM_CODE, b, sizeof(b));
		return;
	}
	memmove(b + 12, b + 13, sizeof(b) - 13);	/* add esi, 0x1000 */
	b[sizeof(b) - 3] = 0xf4;			/* jnz 1b: -12 */
	gm_put(m, GM_CODE, b, sizeof(b) - 1);
}

struct walk_case {
	const char *name;
	enum gm_mode mode;
	uint64_t guest_page;	/* 4-level identity map; 32-bit: 4 MiB with PSE */
	uint64_t tdp_page;
	unsigned misses;	/* expected, for N_PAGES pages */
	unsigned refs;		/* per miss, nesting as the machine has it */
	unsigned refs_2d;
};

/* The nested columns hold for EPT and NPT alike (both 4-level). */
static const struct walk_case cases[] = {
	{ "4-level 4K", GM_64, PTB_4K, PTB_4K, N_PAGES + 1, 24, 20 },
	{ "4-level 4K over 2M", GM_64, PTB_4K, PTB_2M, N_PAGES + 1, 19, 15 },
	{ "4-level 2M over 4K", GM_64, PTB_2M, PTB_4K, N_PAGES + 1, 19, 16 },
	{ "4-level 2M over 2M", GM_64, PTB_2M, PTB_2M, 2, 15, 12 },
	{ "32-bit 4K", GM_32, PTB_4K, PTB_4K, N_PAGES + 1, 14, 12 },
	{ "32-bit 4M over 4K", GM_32, PTB_4M, PTB_4K, N_PAGES + 1, 9, 8 },
};

/* The same guests without nesting: G refs per miss, none nested. */
static const struct walk_case cases_flat[] = {
	{ "4-level 4K", GM_64, PTB_4K, 0, N_PAGES + 1, 4, 0 },
	{ "4-level 2M", GM_64, PTB_2M, 0, 2, 3, 0 },
	{ "32-bit 4K", GM_32, PTB_4K, 0, N_PAGES + 1, 2, 0 },
	{ "32-bit 4M", GM_32, PTB_4M, 0, 2, 1, 0 },
};

static void run(const struct gm_cfg *cfg, const struct walk_case *c)
{
	struct hw_machine_config mc;
	hw_machine_config_default(&mc, cfg->vendor);
	mc.tlb.psc_entries = 0;
	const struct gm_opts o = { .machine = &mc, .tdp_page = c->tdp_page,
				   .guest_page = c->mode == GM_64 ? c->guest_page : 0 };
	struct gm m;
	gm_create_opts(&m, cfg, c->mode, 0, c->mode == GM_32 && c->guest_page == PTB_4M ? CR4_PSE : 0,
		       0, &o);
	put_loop(&m);
	const struct hw_counters before = gm_counters(&m);
	gm_run_to_hlt(&m);
	const struct hw_counters *a = hw_cpu_counters(m.g.cpu);
	const uint64_t misses = a->tlb_misses - before.tlb_misses;
	const uint64_t refs = a->walk_refs - before.walk_refs;
	const uint64_t refs_2d = a->walk_refs_2d - before.walk_refs_2d;
	if (misses != c->misses || refs != (uint64_t)c->misses * c->refs ||
	    refs_2d != (uint64_t)c->misses * c->refs_2d)
		print_error("%s [%s]: misses %llu refs %llu 2d %llu; expected %u %u %u\n", c->name,
			    cfg->name, (unsigned long long)misses, (unsigned long long)refs,
			    (unsigned long long)refs_2d, c->misses, c->misses * c->refs,
			    c->misses * c->refs_2d);
	assert_int_equal(misses, c->misses);
	assert_int_equal(refs, c->misses * c->refs);
	assert_int_equal(refs_2d, c->misses * c->refs_2d);
	assert_int_equal(a->walk_cache_hits - before.walk_cache_hits, 0);

	/* Again over the same pages: everything hits. */
	hwg_set_entry(&m.g, GM_CODE, GM_STACK);
	const struct hw_counters again = gm_counters(&m);
	gm_run_to_hlt(&m);
	assert_int_equal(hw_cpu_counters(m.g.cpu)->tlb_misses - again.tlb_misses, 0);
	assert_int_equal(hw_cpu_counters(m.g.cpu)->walk_refs - again.walk_refs, 0);
	gm_destroy(&m);
}

static void walk_nested(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t k = 0; k < GM_NR_CFGS; k++)
			if (gm_cfgs[k].tdp)
				run(&gm_cfgs[k], &cases[i]);
}

static void walk_flat(void **state)
{
	for (size_t i = 0; i < sizeof(cases_flat) / sizeof(cases_flat[0]); i++)
		for (size_t k = 0; k < GM_NR_CFGS; k++)
			if (!gm_cfgs[k].tdp)
				run(&gm_cfgs[k], &cases_flat[i]);
}

/*
 * The same 4-level 4 KiB loop with the paging-structure caches on (SDM
 * Vol. 3A 4.10.3; 32 entries each, hw/psc.h). The code's walk (PML4[0],
 * PDPT[0], PD[0]) fills the PML4E, PDPTE and PDE caches; the data lie
 * under PD[2] of the same PDPT. Per run of N pages:
 *
 *   code page          full walk                         4 / 24 / 24
 *   first data page    PDPTE-cache hit: PDE, PTE          2 / 10 / 14
 *   N - 1 others       PDE-cache hit:   PTE               1 /  5 /  9
 *
 * for no nesting / EPT / NPT. Under EPT a cache entry is a combined one
 * (SDM Vol. 3C 29.4.1): it gives the next table's host-physical address,
 * so that table's EPT walk is skipped (PDE: 1 + final 4 = 5 ... and 1 +
 * 4 + 1 + 4 = 10 for the first). For NPT the APM describes no combined
 * caching and hw/psc.h keeps the guest side only, so each guest table
 * read still needs its 4-reference nested walk (9 = 4 + 1 + 4, 14 =
 * 4 + 1 + 4 + 1 + 4). Every data walk is one cache hit.
 */
static void walk_psc(void **state)
{
	static const unsigned first[] = { 4, 24, 24 }, second[] = { 2, 10, 14 },
			      rest[] = { 1, 5, 9 }, first_2d[] = { 0, 20, 20 },
			      second_2d[] = { 0, 8, 12 }, rest_2d[] = { 0, 4, 8 };
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		const struct gm_cfg *cfg = &gm_cfgs[k];
		const unsigned kind = !cfg->tdp ? 0 : cfg->vendor == HW_VENDOR_INTEL ? 1 : 2;
		struct hw_machine_config mc;
		hw_machine_config_default(&mc, cfg->vendor);
		mc.tlb.psc_entries = 32;
		const struct gm_opts o = { .machine = &mc };
		struct gm m;
		gm_create_opts(&m, cfg, GM_64, 0, 0, 0, &o);
		put_loop(&m);
		const struct hw_counters before = gm_counters(&m);
		gm_run_to_hlt(&m);
		const struct hw_counters *a = hw_cpu_counters(m.g.cpu);
		assert_int_equal(a->tlb_misses - before.tlb_misses, N_PAGES + 1);
		assert_int_equal(a->walk_refs - before.walk_refs,
				 first[kind] + second[kind] + (N_PAGES - 1) * rest[kind]);
		assert_int_equal(a->walk_refs_2d - before.walk_refs_2d,
				 first_2d[kind] + second_2d[kind] + (N_PAGES - 1) * rest_2d[kind]);
		assert_int_equal(a->walk_cache_hits - before.walk_cache_hits, N_PAGES);
		gm_destroy(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_flat),
		cmocka_unit_test(walk_nested),
		cmocka_unit_test(walk_psc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
