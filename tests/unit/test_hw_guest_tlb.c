/*
 * test_hw_guest_tlb.c — the TLB as a guest sees it (4-level paging, no
 * PCIDs): a translation stays cached after the guest changes its PTE, and
 * goes when the guest invalidates it (SDM Vol. 3A 4.10.4).
 *
 * Every scenario remaps GM_VA_T from data page 0 (holding 0x1111) to
 * data page 1 (0x2222) with a guest store into its own PTE, then reads
 * GM_VA_T again before and after an invalidation. Two kinds of claims:
 *
 *   - after an operation that invalidates the entry (INVLPG of the page,
 *     MOV CR3 for a non-global page, a CR4.PGE change for any page, MOV
 *     CR3 when the G flag is not in force), the read MUST see 0x2222:
 *     SDM 4.10.4.1 and 4.10.2.4;
 *   - before one, or after one that spares the entry (INVLPG of another
 *     page, MOV CR3 for a global page), the read sees 0x1111. The SDM
 *     allows this (4.10.4.2: "the processor may use the old
 *     translation") without requiring it; it is what the model does, and
 *     it is the proof that the TLB caches at all.
 *
 * The TLB counters confirm the second read is a hit and the read after
 * the invalidation a miss (hw_cpu_counters).
 */
#include "test_hw_guest_code.h"

#define PAGE(i)		(GM_TPAGE + 0x1000ull * (i))
#define VAL(i)		(0x1111u * ((i) + 1))

struct scene {
	struct gm m;
	uint64_t pte;		/* guest-linear address of GM_VA_T's PTE */
};

/* A 4-level guest on @c with CR4 @cr4 and GM_VA_T -> page 0 (leaf bits
 * @flags); data pages 0..3 hold VAL(i). */
static void scene_init(struct scene *s, const struct gm_cfg *c, uint64_t cr4, uint64_t flags)
{
	gm_create(&s->m, c, GM_64, 0, cr4, 0);
	for (unsigned i = 0; i < 4; i++)
		gm_put32(&s->m, PAGE(i), VAL(i));
	gm_map(&s->m, GM_VA_T, PAGE(0), PTB_4K, flags);
	s->pte = gm_table_va(&s->m, ptb_entry_addr(&s->m.g.guest, PTB_64, s->m.cr3, GM_VA_T, 1));
}

/* The guest's new PTE value: GM_VA_T -> page @i with @flags. */
static uint64_t pte_to(struct scene *s, unsigned i, uint64_t flags)
{
	return gm_pa(&s->m, PAGE(i)) | flags;
}

/*
 * The common program: read (slot 0), remap to page 1, read (slot 1),
 * @flush (NULL: nothing), read (slot 2), hlt. Returns the TLB counter
 * deltas of the whole run.
 */
static struct hw_counters run_remap(struct scene *s, uint64_t flags,
				    void (*flush)(struct gm_code *c))
{
	struct gm_code c = { .n = 0 };
	gm_read_to(&c, GM_VA_T, 0);
	gm_store64(&c, s->pte, pte_to(s, 1, flags));
	gm_read_to(&c, GM_VA_T, 1);
	if (flush)
		flush(&c);
	gm_read_to(&c, GM_VA_T, 2);
	gm_hlt(&c);
	const struct hw_counters before = gm_counters(&s->m);
	gm_run_code(&s->m, &c);
	const struct hw_counters *after = hw_cpu_counters(s->m.g.cpu);
	struct hw_counters d = *after;
	d.tlb_hits -= before.tlb_hits;
	d.tlb_misses -= before.tlb_misses;
	d.tlb_flushes -= before.tlb_flushes;
	return d;
}

#define PRW	(PTE_P | PTE_RW | PTE_A | PTE_D)
#define PRWG	(PRW | PTE_G)

static void flush_invlpg(struct gm_code *c) { gm_invlpg(c, GM_VA_T); }
static void flush_invlpg_other(struct gm_code *c) { gm_invlpg(c, GM_VA_T + 0x1000); }
static void flush_cr3(struct gm_code *c) { gm_reload_cr3(c); }
static void flush_pge(struct gm_code *c) { gm_toggle_pge(c); }
static void flush_cr3_then_invlpg(struct gm_code *c)
{
	gm_reload_cr3(c);
	gm_invlpg(c, GM_VA_T);
}

/* No invalidation at all: the old translation stays in use. */
static void tlb_stale_without_flush(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct scene s;
		scene_init(&s, &gm_cfgs[k], 0, PRW);
		const struct hw_counters d = run_remap(&s, PRW, NULL);
		/* One miss each for the code, GM_VA_T, the result page and the
		 * PTE's page; the later reads of GM_VA_T hit. */
		assert_int_equal(d.tlb_misses, 4);
		assert_int_equal(d.tlb_flushes, 0);
		assert_int_equal(gm_out(&s.m, 0), VAL(0));
		assert_int_equal(gm_out(&s.m, 1), VAL(0));	/* allowed, and cached */
		assert_int_equal(gm_out(&s.m, 2), VAL(0));
		/* The memory changed: a fresh walk (from the host's view) sees it. */
		assert_int_equal(gm_entry(&s.m, GM_VA_T, 1) & ~0xfffull, gm_pa(&s.m, PAGE(1)));
		gm_destroy(&s.m);
	}
}

/* INVLPG drops the page's entry (4.10.4.1): the next read walks. */
static void tlb_invlpg(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct scene s;
		scene_init(&s, &gm_cfgs[k], 0, PRW);
		const struct hw_counters d = run_remap(&s, PRW, flush_invlpg);
		assert_int_equal(gm_out(&s.m, 1), VAL(0));
		assert_int_equal(gm_out(&s.m, 2), VAL(1));
		/* GM_VA_T missed twice (first read, read after INVLPG); the
		 * code, the result page and the PTE's page each missed once.
		 * Everything else hit. */
		assert_int_equal(d.tlb_misses, 2 + 3);
		assert_int_equal(d.tlb_flushes, 1);
		gm_destroy(&s.m);
	}
}

/* INVLPG of another page leaves GM_VA_T's entry alone. */
static void tlb_invlpg_other_page(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct scene s;
		scene_init(&s, &gm_cfgs[k], 0, PRW);
		run_remap(&s, PRW, flush_invlpg_other);
		assert_int_equal(gm_out(&s.m, 2), VAL(0));	/* allowed: still cached */
		gm_destroy(&s.m);
	}
}

/* MOV CR3 with CR4.PCIDE = 0 drops every non-global entry (4.10.4.1). */
static void tlb_mov_cr3_nonglobal(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct scene s;
		scene_init(&s, &gm_cfgs[k], CR4_PGE, PRW);
		run_remap(&s, PRW, flush_cr3);
		assert_int_equal(gm_out(&s.m, 1), VAL(0));
		assert_int_equal(gm_out(&s.m, 2), VAL(1));
		gm_destroy(&s.m);
	}
}

/* ... and spares global ones (G = 1 with CR4.PGE = 1, 4.10.2.4), which
 * INVLPG still drops (4.10.4.1: INVLPG invalidates global entries). */
static void tlb_mov_cr3_global(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct scene s;
		scene_init(&s, &gm_cfgs[k], CR4_PGE, PRWG);
		run_remap(&s, PRWG, flush_cr3);
		assert_int_equal(gm_out(&s.m, 2), VAL(0));	/* allowed: kept */
		gm_destroy(&s.m);

		scene_init(&s, &gm_cfgs[k], CR4_PGE, PRWG);
		run_remap(&s, PRWG, flush_cr3_then_invlpg);
		assert_int_equal(gm_out(&s.m, 2), VAL(1));
		gm_destroy(&s.m);
	}
}

/* G means nothing while CR4.PGE = 0: MOV CR3 drops the entry. */
static void tlb_global_needs_pge(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct scene s;
		scene_init(&s, &gm_cfgs[k], 0, PRWG);
		run_remap(&s, PRWG, flush_cr3);
		assert_int_equal(gm_out(&s.m, 2), VAL(1));
		gm_destroy(&s.m);
	}
}

/* A MOV to CR4 that changes PGE drops everything, globals too (4.10.4.1). */
static void tlb_pge_toggle(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct scene s;
		scene_init(&s, &gm_cfgs[k], CR4_PGE, PRWG);
		run_remap(&s, PRWG, flush_pge);
		assert_int_equal(gm_out(&s.m, 1), VAL(0));
		assert_int_equal(gm_out(&s.m, 2), VAL(1));
		gm_destroy(&s.m);

		scene_init(&s, &gm_cfgs[k], CR4_PGE, PRW);
		run_remap(&s, PRW, flush_pge);
		assert_int_equal(gm_out(&s.m, 2), VAL(1));
		gm_destroy(&s.m);
	}
}

/*
 * Rights are cached too (4.6, 4.10.2.2): after the guest makes the page
 * read-only without a flush a write may still succeed; after INVLPG it
 * must fault (#PF P|W with CR0.WP = 1).
 */
static void tlb_rights_until_invlpg(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct scene s;
		gm_create(&s.m, &gm_cfgs[k], GM_64, CR0_WP, 0, 0);
		gm_map(&s.m, GM_VA_T, PAGE(0), PTB_4K, PRW);
		s.pte = gm_table_va(&s.m, ptb_entry_addr(&s.m.g.guest, PTB_64, s.m.cr3, GM_VA_T, 1));
		struct gm_code c = { .n = 0 };
		static const uint8_t wr[] = {
			0xc7, 0x04, 0x25, 0x00, 0x00, 0x40, 0x40,
			0x78, 0x56, 0x00, 0x00,		/* mov dword [GM_VA_T], 0x5678 */
		};
		gm_emit(&c, wr, sizeof(wr));
		gm_store64(&c, s.pte, pte_to(&s, 0, PTE_P | PTE_A | PTE_D));
		gm_emit(&c, wr, sizeof(wr));		/* allowed: the cached R/W = 1 */
		gm_invlpg(&c, GM_VA_T);
		const size_t fault_at = c.n;
		gm_emit(&c, wr, sizeof(wr));		/* must fault */
		gm_hlt(&c);
		gm_put(&s.m, GM_CODE, c.b, c.n);
		assert_int_equal(gm_run_to_hlt(&s.m), gm_pf_hlt(GM_64));
		assert_int_equal(gm_res(&s.m, RES_ERR), 0x3);		/* P | W */
		assert_int_equal(gm_res(&s.m, RES_RIP), GM_CODE + fault_at);
		assert_int_equal(gm_get32(&s.m, PAGE(0)), 0x5678);
		gm_destroy(&s.m);
	}
}

/*
 * PAE paging keeps the four PDPTEs in registers (SDM Vol. 3A 4.4.1),
 * loaded from the PDPT that CR3 names by MOV to CR3, and by MOV to CR0 /
 * CR4 "modifying any of CR0.CD, CR0.NW, CR0.PG, CR4.PAE, CR4.PGE,
 * CR4.PSE, or CR4.SMEP" while PAE paging stays in use — and at no other
 * time. The guest (32-bit code, PAE paging) rewrites PDPTE 1 in memory to
 * point to another page directory that maps GM_VA_T to page 1, drops the
 * TLB entry with INVLPG (the walk then uses the PDPTE register, still the
 * old one: page 0), and then reloads the registers: by MOV CR3, by
 * turning CR4.PGE off and on, or by turning CR0.CD on and off. Each must
 * then see page 1.
 *
 * Runs on VMX (with and without EPT) only: the APM does not promise
 * PDPTE registers.
 */
enum pdpte_reload { RELOAD_CR3, RELOAD_PGE, RELOAD_CD, NR_RELOADS };

static void tlb_pae_pdptes(void **state)
{
	for (unsigned run = 0; run < 2 * NR_RELOADS; run++) {
		const struct gm_cfg *cfg = &gm_cfgs[run / NR_RELOADS];
		const enum pdpte_reload how = run % NR_RELOADS;
		assert_int_equal(cfg->vendor, HW_VENDOR_INTEL);
		struct gm m;
		gm_create(&m, cfg, GM_PAE, 0, CR4_PGE, 0);
		for (unsigned i = 0; i < 2; i++)
			gm_put32(&m, PAGE(i), VAL(i));
		gm_map(&m, GM_VA_T, PAGE(0), PTB_4K, PRW);
		/* A second PAE tree whose PDPTE 1 leads to GM_VA_T -> page 1. */
		const uint64_t r2 = ptb_root(&m.g.guest, PTB_PAE);
		assert_int_equal(ptb_map(&m.g.guest, PTB_PAE, r2, GM_VA_T, gm_pa(&m, PAGE(1)),
					 PTB_4K, PRW), 0);
		const uint64_t pdpte1 = ptb_read(&m.g.guest, r2 + 8, 8);
		const uint32_t at = (uint32_t)gm_table_va(&m, m.cr3 + 8);

		struct gm_code c = { .n = 0 };
		gm_read_to(&c, GM_VA_T, 0);
		static const uint8_t st[] = { 0xc7, 0x04, 0x25 };	/* mov dword [disp32], imm32 */
		gm_emit(&c, st, 3);
		gm_emit32(&c, at);
		gm_emit32(&c, (uint32_t)pdpte1);
		gm_emit(&c, st, 3);
		gm_emit32(&c, at + 4);
		gm_emit32(&c, (uint32_t)(pdpte1 >> 32));
		gm_invlpg(&c, GM_VA_T);
		gm_read_to(&c, GM_VA_T, 1);
		if (how == RELOAD_PGE) {
			static const uint8_t toggle[] = {
				0x0f, 0x20, 0xe0,			/* mov eax, cr4 */
				0x25, 0x7f, 0xff, 0xff, 0xff,		/* and eax, ~0x80 */
				0x0f, 0x22, 0xe0,			/* mov cr4, eax */
				0x0d, 0x80, 0x00, 0x00, 0x00,		/* or eax, 0x80 */
				0x0f, 0x22, 0xe0,			/* mov cr4, eax */
			};
			gm_emit(&c, toggle, sizeof(toggle));
		} else if (how == RELOAD_CD) {
			static const uint8_t toggle[] = {
				0x0f, 0x20, 0xc0,			/* mov eax, cr0 */
				0x0d, 0x00, 0x00, 0x00, 0x40,		/* or eax, 1 << 30 (CD) */
				0x0f, 0x22, 0xc0,			/* mov cr0, eax */
				0x25, 0xff, 0xff, 0xff, 0xbf,		/* and eax, ~(1 << 30) */
				0x0f, 0x22, 0xc0,			/* mov cr0, eax */
			};
			gm_emit(&c, toggle, sizeof(toggle));
			/* A CD change need not flush the TLB (4.10.4.1): INVLPG
			 * does, and leaves the PDPTE registers alone. */
			gm_invlpg(&c, GM_VA_T);
		} else {
			gm_reload_cr3(&c);
		}
		gm_read_to(&c, GM_VA_T, 2);
		gm_hlt(&c);
		gm_run_code(&m, &c);
		assert_int_equal(gm_out(&m, 0), VAL(0));
		assert_int_equal(gm_out(&m, 1), VAL(0));	/* the PDPTE register */
		assert_int_equal(gm_out(&m, 2), VAL(1));	/* reloaded */
		gm_destroy(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tlb_stale_without_flush),
		cmocka_unit_test(tlb_invlpg),
		cmocka_unit_test(tlb_invlpg_other_page),
		cmocka_unit_test(tlb_mov_cr3_nonglobal),
		cmocka_unit_test(tlb_mov_cr3_global),
		cmocka_unit_test(tlb_global_needs_pge),
		cmocka_unit_test(tlb_pge_toggle),
		cmocka_unit_test(tlb_rights_until_invlpg),
		cmocka_unit_test(tlb_pae_pdptes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
