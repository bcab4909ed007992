/*
 * test_hw_guest_smc.c — self- and cross-modifying code in a guest.
 *
 * SDM Vol. 3A 11.6 (and 9.1.3 "Handling Self- and Cross-Modifying
 * Code"): a write to a code location that is already cached or
 * prefetched is detected and the new bytes are executed — on P6 and later
 * processors even for the instruction right after the store, through any
 * linear address that maps the same physical page. A write by another
 * agent (here the host, between entries) likewise takes effect at the
 * next execution.
 *
 * The model caches decoded instructions per host-physical page and drops
 * them when the page is written (hw/dcode.h); hw_counters.smc_invalidations
 * counts each drop, so a write to a page holding decoded code counts
 * exactly once until that page's code is decoded again.
 */
#include "test_hw_guest.h"

#define ALIAS	GM_VA_T		/* a second linear address of GM_CODE's page */

/* The store patches the immediate of the very next instruction. */
static void smc_next_instruction(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		static const uint8_t code[] = {
			0xc6, 0x04, 0x25, 0x09, 0x00, 0x01, 0x00,
			0x42,				/* mov byte [GM_CODE + 9], 0x42 */
			0xb0, 0x00,			/* mov al, 0 (its immediate at +9) */
			0xf4,				/* hlt */
		};
		gm_put(&m, GM_CODE, code, sizeof(code));
		hwg_set_gpr(&m.g, 0, 0x7700);
		assert_int_equal(gm_run_to_hlt(&m), GM_CODE + 10);
		assert_int_equal(hwg_gpr(&m.g, 0), 0x7742);
		gm_destroy(&m);
	}
}

/*
 * A loop increments the immediate of its own first instruction: each
 * pass must add the new value. 100 + 101 + 102 + 103 + 104 = 510, and
 * each of the five stores hits a page whose code was decoded again by
 * the pass before: five invalidations.
 */
static const uint8_t patch_loop[] = {
	0xb9, 0x05, 0x00, 0x00, 0x00,		/* mov ecx, 5 */
	0xb8, 0x64, 0x00, 0x00, 0x00,		/* 1: mov eax, 100 (imm at +6) */
	0x01, 0xc3,				/* add ebx, eax */
	0xff, 0x04, 0x25, 0x06, 0x00, 0x01, 0x00,	/* inc dword [GM_CODE + 6] */
	0xff, 0xc9,				/* dec ecx */
	0x75, 0xee,				/* jnz 1b */
	0xf4,					/* hlt */
};

static void smc_loop(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		gm_put(&m, GM_CODE, patch_loop, sizeof(patch_loop));
		hwg_set_gpr(&m.g, 3, 0);
		const struct hw_counters before = gm_counters(&m);
		assert_int_equal(gm_run_to_hlt(&m), GM_CODE + sizeof(patch_loop) - 1);
		assert_int_equal(hwg_gpr(&m.g, 3), 510);
		assert_int_equal(gm_get32(&m, GM_CODE + 6), 105);
		assert_int_equal(hw_cpu_counters(m.g.cpu)->smc_invalidations -
				 before.smc_invalidations, 5);
		gm_destroy(&m);
	}
}

/*
 * The same two programs writing through ALIAS, a second linear address of
 * the code page (a writable mapping of it made for the purpose): the
 * processor must notice a write to the physical page whatever linear
 * address it came through (11.6: "... writes to a code segment ... based
 * on the physical address").
 */
static void smc_through_alias(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		gm_map(&m, ALIAS, GM_CODE, PTB_4K, PTE_P | PTE_RW | PTE_A | PTE_D);
		static const uint8_t code[] = {
			0xc6, 0x04, 0x25, 0x09, 0x00, 0x40, 0x40,
			0x42,				/* mov byte [ALIAS + 9], 0x42 */
			0xb0, 0x00,			/* mov al, 0 */
			0xf4,				/* hlt */
		};
		gm_put(&m, GM_CODE, code, sizeof(code));
		hwg_set_gpr(&m.g, 0, 0);
		gm_run_to_hlt(&m);
		assert_int_equal(hwg_gpr(&m.g, 0), 0x42);
		gm_destroy(&m);

		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		gm_map(&m, ALIAS, GM_CODE, PTB_4K, PTE_P | PTE_RW | PTE_A | PTE_D);
		uint8_t loop[sizeof(patch_loop)];
		memcpy(loop, patch_loop, sizeof(loop));
		loop[17] = 0x40;			/* inc dword [ALIAS + 6] */
		loop[18] = 0x40;
		gm_put(&m, GM_CODE, loop, sizeof(loop));
		hwg_set_gpr(&m.g, 3, 0);
		const struct hw_counters before = gm_counters(&m);
		gm_run_to_hlt(&m);
		assert_int_equal(hwg_gpr(&m.g, 3), 510);
		assert_int_equal(hw_cpu_counters(m.g.cpu)->smc_invalidations -
				 before.smc_invalidations, 5);
		gm_destroy(&m);
	}
}

/*
 * Cross-modifying code from the host: between two entries the host
 * rewrites the immediate (hwg_load tells the model, as a hypervisor's
 * copy into guest memory must: hw_hpa_written); the second run executes
 * the new bytes. One invalidation: the page held code from the first run.
 */
static void smc_host_write(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		static const uint8_t code[] = {
			0xb8, 0x01, 0x00, 0x00, 0x00,	/* mov eax, 1 */
			0x01, 0xc3,			/* add ebx, eax */
			0xf4,				/* hlt */
		};
		gm_put(&m, GM_CODE, code, sizeof(code));
		hwg_set_gpr(&m.g, 3, 0);
		gm_run_to_hlt(&m);
		assert_int_equal(hwg_gpr(&m.g, 3), 1);

		const struct hw_counters before = gm_counters(&m);
		const uint32_t two = 2;
		gm_put(&m, GM_CODE + 1, &two, 4);
		assert_int_equal(hw_cpu_counters(m.g.cpu)->smc_invalidations -
				 before.smc_invalidations, 1);
		/* A second write before any new decode finds nothing to drop. */
		gm_put(&m, GM_CODE + 1, &two, 4);
		assert_int_equal(hw_cpu_counters(m.g.cpu)->smc_invalidations -
				 before.smc_invalidations, 1);
		hwg_set_entry(&m.g, GM_CODE, GM_STACK);
		gm_run_to_hlt(&m);
		assert_int_equal(hwg_gpr(&m.g, 3), 3);
		gm_destroy(&m);
	}
}

/*
 * Writes to a page that holds no code drop nothing: a loop storing to a
 * data page near its code runs with no invalidation at all.
 */
static void smc_data_writes_free(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		static const uint8_t code[] = {
			0xb9, 0x05, 0x00, 0x00, 0x00,	/* mov ecx, 5 */
			0xff, 0x04, 0x25, 0x00, 0x30, 0x01, 0x00,	/* 1: inc dword [0x13000] */
			0xff, 0xc9,			/* dec ecx */
			0x75, 0xf5,			/* jnz 1b */
			0xf4,				/* hlt */
		};
		gm_put(&m, GM_CODE, code, sizeof(code));
		gm_put32(&m, 0x13000, 0);
		const struct hw_counters before = gm_counters(&m);
		assert_int_equal(gm_run_to_hlt(&m), GM_CODE + sizeof(code) - 1);
		assert_int_equal(gm_get32(&m, 0x13000), 5);
		assert_int_equal(hw_cpu_counters(m.g.cpu)->smc_invalidations -
				 before.smc_invalidations, 0);
		gm_destroy(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(smc_next_instruction),
		cmocka_unit_test(smc_loop),
		cmocka_unit_test(smc_through_alias),
		cmocka_unit_test(smc_host_write),
		cmocka_unit_test(smc_data_writes_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
