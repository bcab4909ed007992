/*
 * test_hw_guest_ad.c — accessed and dirty flags as a guest sees them in
 * its page tables after reads, writes and faulting accesses, in each
 * paging mode, and the EPT/NPT flags of the same accesses.
 *
 * SDM Vol. 3A 4.8: the processor sets the accessed flag (bit 5) of every
 * paging-structure entry it uses to translate, and on a write the dirty
 * flag (bit 6) of the entry that maps the page (a PTE, or a PDE/PDPTE
 * with PS = 1). Bit 6 of an entry that references a table is ignored: the
 * processor leaves it alone. PAE PDPTEs are registers loaded by MOV CR3
 * (4.4.1); bit 5 of a PDPTE is reserved, so it is never set in memory.
 * A faulting access does not access the page: the leaf gains neither A
 * nor D. (Whether the entries above a faulting leaf get A is left open by
 * the SDM; the tests do not look.)
 *
 * Under EPT with EPTP bit 6 (SDM Vol. 3C 29.3.5) and under NPT (APM Vol. 2
 * 15.25.5, "table walks for guest page tables are always treated as user
 * writes"), the guest's page-table pages are written by the walk: their
 * nested leaves get D; the data page gets A on a read and D on a write.
 *
 * The test page is mapped at an address whose upper tables nothing else
 * uses (GM_VA_T; 4-level: a PML4 slot of its own), with A = D = 0 at
 * every level; every scenario runs on the four machines of gm_cfgs.
 */
#include "test_hw_guest.h"

#define A	PTE_A
#define D	PTE_D
#define VA64	0x8000000000ull		/* PML4 slot 1 */

/* Guest code at GM_CODE: the accesses @acc (up to three), then HLT. */
static void put_code(struct gm *m, uint64_t va, const enum gm_acc *acc, unsigned n)
{
	uint8_t b[64];
	size_t len = 0, at;
	for (unsigned i = 0; i < n; i++)
		len += gm_access(b + len, acc[i], va, &at);
	b[len++] = 0xf4;				/* hlt */
	gm_put(m, GM_CODE, b, len);
}

/* A guest in @mode on @c with the test page mapped at @va (leaf bits
 * @leaf, page size @size); tables on the way are fresh (A = 0). */
static void setup(struct gm *m, const struct gm_cfg *c, enum gm_mode mode, uint64_t cr0,
		  uint64_t va, uint64_t size, uint64_t leaf)
{
	gm_create(m, c, mode, cr0, mode == GM_32 ? CR4_PSE : 0, 0);
	gm_map(m, va, GM_TPAGE, size, leaf);
}

/* Top level of @mode's tables (a PAE PDPTE is level 3). */
static unsigned top(enum gm_mode mode)
{
	return mode == GM_64 ? 4 : mode == GM_PAE ? 3 : 2;
}

/* Guest reads, then writes, each as its own run; checks per level. */
static void read_then_write(enum gm_mode mode)
{
	const uint64_t va = mode == GM_64 ? VA64 : GM_VA_T;
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		setup(&m, &gm_cfgs[k], mode, 0, va, PTB_4K, PTE_P | PTE_RW);
		const uint64_t pdpte = mode == GM_PAE ? gm_entry(&m, va, 3) : 0;
		static const enum gm_acc rd[] = { GM_RD }, rd_wr[] = { GM_RD, GM_WR };

		put_code(&m, va, rd, 1);
		assert_int_equal(gm_run_to_hlt(&m), GM_CODE + (mode == GM_64 ? 12 : 7));
		for (unsigned l = 1; l <= top(mode); l++) {
			const uint64_t e = gm_entry(&m, va, l);
			if (mode == GM_PAE && l == 3) {
				assert_int_equal(e, pdpte);	/* untouched */
				continue;
			}
			assert_true(e & A);		/* used: accessed */
			assert_false(e & D);		/* not written (leaf) / ignored */
		}

		/* The write: the translation is in the TLB, clean; the write
		 * must still set D (4.8), and only in the leaf. */
		put_code(&m, va, rd_wr, 2);
		hwg_set_entry(&m.g, GM_CODE, GM_STACK);
		gm_run_to_hlt(&m);
		assert_true(gm_entry(&m, va, 1) & D);
		for (unsigned l = 2; l <= top(mode); l++) {
			if (mode == GM_PAE && l == 3)
				assert_int_equal(gm_entry(&m, va, l), pdpte);
			else
				assert_false(gm_entry(&m, va, l) & D);
		}
		gm_destroy(&m);
	}
}

static void ad_4level(void **state) { read_then_write(GM_64); }
static void ad_pae(void **state) { read_then_write(GM_PAE); }
static void ad_32bit(void **state) { read_then_write(GM_32); }

/* A write to a large page sets D in the PDE (or PDPTE) that maps it. */
static void large(enum gm_mode mode, uint64_t va, uint64_t size, unsigned leaf_level)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], mode, 0, mode == GM_32 ? CR4_PSE : 0, 0);
		/* A 1 GiB page can only map physical 0 (see test_hw_guest_pf.c). */
		if (size == PTB_1G)
			assert_int_equal(ptb_map(&m.g.guest, m.fmt, m.cr3, va, 0, size,
						 PTE_P | PTE_RW), 0);
		else
			gm_map(&m, va, GM_TPAGE, size, PTE_P | PTE_RW);
		static const enum gm_acc wr[] = { GM_WR };
		put_code(&m, va, wr, 1);
		gm_run_to_hlt(&m);
		const uint64_t e = gm_entry(&m, va, leaf_level);
		assert_true(e & PTE_PS);
		assert_true(e & A);
		assert_true(e & D);
		for (unsigned l = leaf_level + 1; l <= top(mode); l++)
			if (!(mode == GM_PAE && l == 3))
				assert_true(gm_entry(&m, va, l) & A);
		gm_destroy(&m);
	}
}

static void ad_2m_4level(void **state) { large(GM_64, GM_VA_T, PTB_2M, 2); }
static void ad_1g_4level(void **state) { large(GM_64, 0x80000000ull, PTB_1G, 3); }
static void ad_2m_pae(void **state) { large(GM_PAE, GM_VA_T, PTB_2M, 2); }
static void ad_4m_32bit(void **state) { large(GM_32, GM_VA_T, PTB_4M, 2); }

/*
 * Faulting accesses leave the leaf clean: a write to a read-only page
 * with CR0.WP = 1 (#PF P|W) and a user read of a supervisor page (#PF
 * P|U): no A, no D on the PTE. The data stays as it was.
 */
static void ad_fault_leaves_leaf_clean(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		setup(&m, &gm_cfgs[k], GM_64, CR0_WP, GM_VA_T, PTB_4K, PTE_P);
		gm_put32(&m, GM_TPAGE, 0x1234);
		static const enum gm_acc wr[] = { GM_WR };
		put_code(&m, GM_VA_T, wr, 1);
		assert_int_equal(gm_run_to_hlt(&m), gm_pf_hlt(GM_64));
		assert_int_equal(gm_res(&m, RES_ERR), 0x3);	/* P | W (SDM 4.7) */
		assert_int_equal(gm_entry(&m, GM_VA_T, 1) & (A | D), 0);
		assert_int_equal(gm_get32(&m, GM_TPAGE), 0x1234);
		gm_destroy(&m);

		/* Ring 3 reads a supervisor page. */
		setup(&m, &gm_cfgs[k], GM_64, CR0_WP, GM_VA_T, PTB_4K, PTE_P | PTE_RW);
		gm_map(&m, GM_VA_UCODE, 0x14000, PTB_4K, PTE_P | PTE_RW | PTE_US | A | D);
		gm_map(&m, GM_VA_USTACK, 0x15000, PTB_4K, PTE_P | PTE_RW | PTE_US | A | D);
		static const uint8_t user[] = {
			0x8b, 0x04, 0x25, 0x00, 0x00, 0x40, 0x40,	/* mov eax, [GM_VA_T] */
			0xcd, 0x80,					/* int 0x80 */
		};
		gm_put(&m, 0x14000, user, sizeof(user));
		gm_put_to_ring3(&m, GM_CODE);
		assert_int_equal(gm_run_to_hlt(&m), gm_pf_hlt(GM_64));
		assert_int_equal(gm_res(&m, RES_ERR), 0x5);	/* P | U */
		assert_int_equal(gm_entry(&m, GM_VA_T, 1) & (A | D), 0);
		gm_destroy(&m);
	}
}

/*
 * The nested flags of the same accesses: EPT with EPTP bit 6 (A/D on),
 * NPT always. After a read of the test page, its nested leaf has A and
 * not D, and the nested leaf of the guest page table that maps it has A
 * and D (the walk's accesses to guest paging structures are writes for
 * the nested tables: SDM Vol. 3C 29.3.3.2 with A/D on; APM 15.25.5).
 * After a write the data page's nested leaf has D too.
 */
static void ad_nested_flags(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		const struct gm_cfg *c = &gm_cfgs[k];
		if (!c->tdp)
			continue;
		struct gm m;
		setup(&m, c, GM_64, 0, GM_VA_T, PTB_4K, PTE_P | PTE_RW | A | D);
		const enum ptb_fmt nf = c->vendor == HW_VENDOR_INTEL ? PTB_EPT : PTB_64;
		const uint64_t na = nf == PTB_EPT ? EPT_A : PTE_A, nd = nf == PTB_EPT ? EPT_D : PTE_D;
		if (nf == PTB_EPT)	/* WB (0), 4-level walk (3 << 3), A/D (bit 6): SDM 25.6.11 */
			hwg_vmwrite(&m.g, VMCS_EPT_POINTER, m.g.tdp_root | 6 | (3 << 3) | (1 << 6));
		/* The guest page table holding GM_VA_T's PTE, guest-physical. */
		const uint64_t pt = ptb_entry_addr(&m.g.guest, PTB_64, m.cr3, GM_VA_T, 1) & ~0xfffull;

		static const enum gm_acc rd[] = { GM_RD }, wr[] = { GM_WR };
		put_code(&m, GM_VA_T, rd, 1);
		gm_run_to_hlt(&m);
		uint64_t data = ptb_get(&m.g.host, nf, m.g.tdp_root, GM_TPAGE, 1);
		const uint64_t ptn = ptb_get(&m.g.host, nf, m.g.tdp_root, pt, 1);
		assert_true(data & na);
		assert_false(data & nd);
		assert_true(ptn & na);
		assert_true(ptn & nd);

		put_code(&m, GM_VA_T, wr, 1);
		hwg_set_entry(&m.g, GM_CODE, GM_STACK);
		gm_run_to_hlt(&m);
		data = ptb_get(&m.g.host, nf, m.g.tdp_root, GM_TPAGE, 1);
		assert_true(data & nd);
		gm_destroy(&m);
	}
}

/* Without EPTP bit 6 the processor keeps no EPT flags (29.3.5): the
 * entries stay exactly as the hypervisor wrote them. */
static void ad_ept_flags_off(void **state)
{
	struct gm m;
	setup(&m, &gm_cfgs[0], GM_64, 0, GM_VA_T, PTB_4K, PTE_P | PTE_RW);
	const uint64_t before = ptb_get(&m.g.host, PTB_EPT, m.g.tdp_root, GM_TPAGE, 1);
	static const enum gm_acc wr[] = { GM_WR };
	put_code(&m, GM_VA_T, wr, 1);
	gm_run_to_hlt(&m);
	assert_int_equal(ptb_get(&m.g.host, PTB_EPT, m.g.tdp_root, GM_TPAGE, 1), before);
	assert_true(gm_entry(&m, GM_VA_T, 1) & D);	/* the guest's own flags still */
	gm_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ad_4level),
		cmocka_unit_test(ad_pae),
		cmocka_unit_test(ad_32bit),
		cmocka_unit_test(ad_2m_4level),
		cmocka_unit_test(ad_1g_4level),
		cmocka_unit_test(ad_2m_pae),
		cmocka_unit_test(ad_4m_32bit),
		cmocka_unit_test(ad_fault_leaves_leaf_clean),
		cmocka_unit_test(ad_nested_flags),
		cmocka_unit_test(ad_ept_flags_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
