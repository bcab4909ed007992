/*
 * test_hw_guest_pcid.c — process-context identifiers as a guest sees
 * them (SDM Vol. 3A 4.10.1, 4.10.4): two address spaces A (PCID 1) and B
 * (PCID 2) map GM_VA_T to different pages; the guest switches between
 * them with MOV CR3, with and without the no-flush bit (CR3 bit 63), and
 * invalidates with INVLPG and INVPCID types 0-3.
 *
 * What MUST hold: a translation cached for one PCID is never used for
 * another (4.10.2.4: only global entries are shared), MOV CR3 without bit
 * 63 drops the new PCID's non-global entries, INVLPG drops the current
 * PCID's entry for the page, and each INVPCID type drops what SDM Vol. 2A
 * INVPCID says. What MAY hold, and does on the model (showing that
 * entries survive): with bit 63 set, an address space switched back to
 * still uses its old translations; an invalidation of one PCID leaves the
 * others' entries.
 *
 * Every scenario runs on the four machines of gm_cfgs; on VMX, INVPCID
 * needs the "enable INVPCID" control (SDM Vol. 3C 26.3: otherwise #UD).
 */
#include "test_hw_guest_code.h"

#define PAGE(i)		(GM_TPAGE + 0x1000ull * (i))
#define VAL(i)		(0x1111u * ((i) + 1))
#define VA_T2		(GM_VA_T + 0x1000)
#define VA_G		(GM_VA_T + 0x10000)
#define NOFLUSH		(1ull << 63)
#define PRW		(PTE_P | PTE_RW | PTE_A | PTE_D)

/*
 * Pages: A maps GM_VA_T -> 0, VA_T2 -> 6; B maps GM_VA_T -> 1; both map
 * VA_G -> 3 as a global page. The remapped targets are 2 (A's GM_VA_T),
 * 4 (B's GM_VA_T), 5 (VA_G) and 7 (VA_T2).
 */
struct two {
	struct gm m;
	uint64_t a, b;		/* roots, table space */
};

static uint64_t pte_va(struct two *t, uint64_t root, uint64_t va)
{
	return gm_table_va(&t->m, ptb_entry_addr(&t->m.g.guest, PTB_64, root, va, 1));
}

static uint64_t pte_to(struct two *t, unsigned page, uint64_t flags)
{
	return gm_pa(&t->m, PAGE(page)) | flags;
}

static void two_init(struct two *t, const struct gm_cfg *c)
{
	struct gm *m = &t->m;
	gm_create(m, c, GM_64, 0, CR4_PGE | CR4_PCIDE, 0);
	for (unsigned i = 0; i < 8; i++)
		gm_put32(m, PAGE(i), VAL(i));
	t->a = m->cr3;
	gm_map(m, GM_VA_T, PAGE(0), PTB_4K, PRW);
	gm_map(m, VA_T2, PAGE(6), PTB_4K, PRW);
	gm_map(m, VA_G, PAGE(3), PTB_4K, PRW | PTE_G);
	/* B: RAM identity-mapped with 2 MiB pages, and its own GM_VA_T. */
	t->b = ptb_root(&m->g.guest, PTB_64);
	assert_true(t->b != PTB_NONE);
	assert_int_equal(ptb_map_range(&m->g.guest, PTB_64, t->b, 0, gm_pa(m, 0), GM_RAM, PTB_2M,
				       PRW), 0);
	assert_int_equal(ptb_map(&m->g.guest, PTB_64, t->b, GM_VA_T, gm_pa(m, PAGE(1)), PTB_4K,
				 PRW), 0);
	assert_int_equal(ptb_map(&m->g.guest, PTB_64, t->b, VA_G, gm_pa(m, PAGE(3)), PTB_4K,
				 PRW | PTE_G), 0);
	gm_set_cr(m, 3, t->a | 1);		/* PCID 1 */
	if (gm_vmx(m))
		hwg_vmwrite(&m->g, VMCS_PROC_BASED_CTLS2,
			    hwg_vmread(&m->g, VMCS_PROC_BASED_CTLS2) | VMX_PROC2_INVPCID);
}

/*
 * Isolation and the no-flush bit:
 *   A/1: read GM_VA_T                  -> 0x1111            (slot 0)
 *   MOV CR3 B|2|bit 63 (nothing flushed); read -> 0x2222 MUST (slot 1)
 *   A's PTE -> page 2; MOV CR3 A|1|bit 63; read -> 0x1111 may (slot 2)
 *   MOV CR3 A|1 (flushes PCID 1);      read -> 0x3333 MUST (slot 3)
 *   B's PTE -> page 4; MOV CR3 B|2|bit 63; read -> 0x2222 may (slot 4)
 *   MOV CR3 B|2;                       read -> 0x5555 MUST (slot 5)
 */
static void pcid_isolation_and_noflush(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct two t;
		two_init(&t, &gm_cfgs[k]);
		struct gm_code c = { .n = 0 };
		gm_read_to(&c, GM_VA_T, 0);
		gm_load_cr3(&c, t.b | 2 | NOFLUSH);
		gm_read_to(&c, GM_VA_T, 1);
		gm_store64(&c, pte_va(&t, t.a, GM_VA_T), pte_to(&t, 2, PRW));
		gm_load_cr3(&c, t.a | 1 | NOFLUSH);
		gm_read_to(&c, GM_VA_T, 2);
		gm_load_cr3(&c, t.a | 1);
		gm_read_to(&c, GM_VA_T, 3);
		gm_store64(&c, pte_va(&t, t.b, GM_VA_T), pte_to(&t, 4, PRW));
		gm_load_cr3(&c, t.b | 2 | NOFLUSH);
		gm_read_to(&c, GM_VA_T, 4);
		gm_load_cr3(&c, t.b | 2);
		gm_read_to(&c, GM_VA_T, 5);
		gm_hlt(&c);
		gm_run_code(&t.m, &c);
		assert_int_equal(gm_out(&t.m, 0), VAL(0));
		assert_int_equal(gm_out(&t.m, 1), VAL(1));
		assert_int_equal(gm_out(&t.m, 2), VAL(0));
		assert_int_equal(gm_out(&t.m, 3), VAL(2));
		assert_int_equal(gm_out(&t.m, 4), VAL(1));
		assert_int_equal(gm_out(&t.m, 5), VAL(4));
		/* The guest reads back its CR3 without bit 63 (4.10.4.1). */
		assert_int_equal(gm_get_cr(&t.m, 3), t.b | 2);
		gm_destroy(&t.m);
	}
}

/*
 * A global entry serves every PCID (4.10.2.4: may); INVLPG drops the
 * current PCID's entry for the page and global entries for it (4.10.4.1:
 * MUST), and may leave another PCID's entry for the page.
 *   A/1: read GM_VA_T, VA_G; MOV CR3 B|2|bit 63; read GM_VA_T
 *   B's VA_G -> page 5; read VA_G           -> 0x4444 may  (slot 0)
 *   A's, B's GM_VA_T -> pages 2, 4; INVLPG GM_VA_T
 *   read GM_VA_T                            -> 0x5555 MUST (slot 1)
 *   INVLPG VA_G; read VA_G                  -> 0x6666 MUST (slot 2)
 *   MOV CR3 A|1|bit 63; read GM_VA_T        -> 0x1111 may  (slot 3)
 */
static void pcid_global_and_invlpg(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct two t;
		two_init(&t, &gm_cfgs[k]);
		struct gm_code c = { .n = 0 };
		gm_read_to(&c, GM_VA_T, 15);
		gm_read_to(&c, VA_G, 15);
		gm_load_cr3(&c, t.b | 2 | NOFLUSH);
		gm_read_to(&c, GM_VA_T, 15);
		gm_store64(&c, pte_va(&t, t.b, VA_G), pte_to(&t, 5, PRW | PTE_G));
		gm_read_to(&c, VA_G, 0);
		gm_store64(&c, pte_va(&t, t.a, GM_VA_T), pte_to(&t, 2, PRW));
		gm_store64(&c, pte_va(&t, t.b, GM_VA_T), pte_to(&t, 4, PRW));
		gm_invlpg(&c, GM_VA_T);
		gm_read_to(&c, GM_VA_T, 1);
		gm_invlpg(&c, VA_G);		/* globals go too (4.10.4.1) */
		gm_read_to(&c, VA_G, 2);
		gm_load_cr3(&c, t.a | 1 | NOFLUSH);
		gm_read_to(&c, GM_VA_T, 3);
		gm_hlt(&c);
		gm_run_code(&t.m, &c);
		assert_int_equal(gm_out(&t.m, 0), VAL(3));	/* may: A's global entry */
		assert_int_equal(gm_out(&t.m, 1), VAL(4));	/* MUST */
		assert_int_equal(gm_out(&t.m, 2), VAL(5));	/* MUST */
		assert_int_equal(gm_out(&t.m, 3), VAL(0));	/* may: PCID 1's entry kept */
		gm_destroy(&t.m);
	}
}

/* INVPCID (SDM Vol. 2A): expected reads after it, K = kept (may), D =
 * dropped (MUST). */
struct invpcid_case {
	unsigned type;
	bool b_t, g, a_t, a_t2;		/* true: dropped */
};

static const struct invpcid_case invpcid_cases[] = {
	/* 0: individual address: that address in that PCID, not globals. */
	{ 0, .b_t = false, .g = false, .a_t = true, .a_t2 = false },
	/* 1: single context: every non-global entry of that PCID. */
	{ 1, .b_t = false, .g = false, .a_t = true, .a_t2 = true },
	/* 2: all contexts, globals included. */
	{ 2, .b_t = true, .g = true, .a_t = true, .a_t2 = true },
	/* 3: all contexts except globals. */
	{ 3, .b_t = true, .g = false, .a_t = true, .a_t2 = true },
};

/*
 *   A/1: read GM_VA_T, VA_T2, VA_G; MOV CR3 B|2|bit 63; read GM_VA_T
 *   remap A's GM_VA_T -> 2, VA_T2 -> 7, B's GM_VA_T -> 4, VA_G -> 5 (both)
 *   INVPCID type, descriptor { PCID 1, GM_VA_T }
 *   read (B) GM_VA_T (slot 0), VA_G (slot 1)
 *   MOV CR3 A|1|bit 63; read GM_VA_T (slot 2), VA_T2 (slot 3)
 */
static void pcid_invpcid(void **state)
{
	for (size_t i = 0; i < sizeof(invpcid_cases) / sizeof(invpcid_cases[0]); i++) {
		const struct invpcid_case *ic = &invpcid_cases[i];
		for (size_t k = 0; k < GM_NR_CFGS; k++) {
			struct two t;
			two_init(&t, &gm_cfgs[k]);
			gm_put64(&t.m, GM_DESC, 1);		/* PCID */
			gm_put64(&t.m, GM_DESC + 8, GM_VA_T);	/* linear address */
			struct gm_code c = { .n = 0 };
			gm_read_to(&c, GM_VA_T, 15);
			gm_read_to(&c, VA_T2, 15);
			gm_read_to(&c, VA_G, 15);
			gm_load_cr3(&c, t.b | 2 | NOFLUSH);
			gm_read_to(&c, GM_VA_T, 15);
			gm_store64(&c, pte_va(&t, t.a, GM_VA_T), pte_to(&t, 2, PRW));
			gm_store64(&c, pte_va(&t, t.a, VA_T2), pte_to(&t, 7, PRW));
			gm_store64(&c, pte_va(&t, t.b, GM_VA_T), pte_to(&t, 4, PRW));
			gm_store64(&c, pte_va(&t, t.a, VA_G), pte_to(&t, 5, PRW | PTE_G));
			gm_store64(&c, pte_va(&t, t.b, VA_G), pte_to(&t, 5, PRW | PTE_G));
			gm_invpcid(&c, ic->type);
			gm_read_to(&c, GM_VA_T, 0);
			gm_read_to(&c, VA_G, 1);
			gm_load_cr3(&c, t.a | 1 | NOFLUSH);
			gm_read_to(&c, GM_VA_T, 2);
			gm_read_to(&c, VA_T2, 3);
			gm_hlt(&c);
			gm_run_code(&t.m, &c);
			if (gm_out(&t.m, 0) != (ic->b_t ? VAL(4) : VAL(1)) ||
			    gm_out(&t.m, 1) != (ic->g ? VAL(5) : VAL(3)) ||
			    gm_out(&t.m, 2) != (ic->a_t ? VAL(2) : VAL(0)) ||
			    gm_out(&t.m, 3) != (ic->a_t2 ? VAL(7) : VAL(6)))
				print_error("INVPCID type %u [%s]: %#x %#x %#x %#x\n", ic->type,
					    gm_cfgs[k].name, gm_out(&t.m, 0), gm_out(&t.m, 1),
					    gm_out(&t.m, 2), gm_out(&t.m, 3));
			assert_int_equal(gm_out(&t.m, 0), ic->b_t ? VAL(4) : VAL(1));
			assert_int_equal(gm_out(&t.m, 1), ic->g ? VAL(5) : VAL(3));
			assert_int_equal(gm_out(&t.m, 2), ic->a_t ? VAL(2) : VAL(0));
			assert_int_equal(gm_out(&t.m, 3), ic->a_t2 ? VAL(7) : VAL(6));
			gm_destroy(&t.m);
		}
	}
}

/* On VMX without "enable INVPCID", INVPCID is #UD (SDM Vol. 3C 26.3);
 * the guest's #UD (vector 6) handler is the #PF one's frame-less cousin:
 * a gate to the done routine marks that it ran. */
static void pcid_invpcid_ud_without_control(void **state)
{
	for (size_t k = 0; k < 2; k++) {	/* the VMX machines */
		struct two t;
		two_init(&t, &gm_cfgs[k]);
		hwg_vmwrite(&t.m.g, VMCS_PROC_BASED_CTLS2,
			    hwg_vmread(&t.m.g, VMCS_PROC_BASED_CTLS2) & ~(uint64_t)VMX_PROC2_INVPCID);
		gm_gate(&t.m, 6, GM_DONE, 0, true);
		struct gm_code c = { .n = 0 };
		gm_invpcid(&c, 2);
		gm_hlt(&c);
		gm_put(&t.m, GM_CODE, c.b, c.n);
		assert_int_equal(gm_run_to_hlt(&t.m), GM_DONE_HLT);
		assert_int_equal(gm_res(&t.m, RES_DONE), DONE_MARK);
		gm_destroy(&t.m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pcid_isolation_and_noflush),
		cmocka_unit_test(pcid_global_and_invlpg),
		cmocka_unit_test(pcid_invpcid),
		cmocka_unit_test(pcid_invpcid_ud_without_control),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
