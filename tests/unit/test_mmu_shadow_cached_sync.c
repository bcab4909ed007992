/*
 * test_mmu_shadow_cached_sync.c — the shadow-cached MMU, continued (the
 * first part is test_mmu_shadow_cached.c, memory in _mem.c):
 * unsynchronized page tables, 32-bit and PAE guests, CR0.WP, through the
 * public API on every backend.
 *
 * x86 truth (Intel SDM Vol. 3A):
 *  - 4.3 (32-bit paging: 4-byte entries, a PD of 1024 entries each
 *    mapping 4 MiB, a 4 MiB page with PS and CR4.PSE; Tables 4-4..4-6),
 *    4.4 (PAE: CR3[31:5] -> four PDPTEs, loaded into the PDPTE registers
 *    by MOV to CR3 and not read again until the next load, 4.4.1; a
 *    PDPTE holds P and the address, Table 4-8), 4.5 (4-level);
 *  - 4.6.1: with CR0.WP = 0 a supervisor write to a read-only page is
 *    allowed; 4.7: the #PF error code;
 *  - 4.10.4.1: after changing a paging-structure entry, INVLPG of the
 *    address or a MOV to CR3 makes the processor use the new entry;
 *    before that it may use either (so nothing is asserted there);
 *  - 4.8: A set on use, D on a write.
 *
 * What the strategy promises (mmu.txt, seed 003; cached.h), as exact
 * counter deltas derived in comments: a guest write to a page table
 * shadowed only at level 1 makes its shadow pages unsync (mmu_unsync, one
 * per page of the gfn) and maps the table writable, no emulation; INVLPG
 * rebuilds the one leaf from the guest entry; a CR3 load synchronizes
 * every unsync page the new root reaches (mmu_sync) and write-protects it
 * again; a new shadow page write-protects its guest table; a 32-bit guest
 * table is shadowed by 512-entry pages, two per PT (role.quadrant 0/1)
 * and four per PD (one per GiB, a 4 MiB PDE as two 2 MiB sptes, a 4 MiB
 * page as two direct pages); PAE has one root per present PDPTE; pages
 * made under CR0.WP = 0 are not used under CR0.WP = 1 (role.cr0_wp).
 *
 * Layout: ptguest.h's space A (PD[0] = 2 MiB at 0, PT for [2 MiB, 4 MiB))
 * and data frames; the 32-bit and PAE tests describe theirs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hvlab/hv.h"
#include "tests/unit/support/hvguest.h"
#include "tests/unit/support/ptguest.h"

#define PT_X 0x2c000ull

#define GVA1 0x201000u

#define MMU "shadow-cached"

/* EAX, EBX of a 32-bit guest (RAX's upper half is not the guest's). */
static uint32_t eax(struct hvg *g)
{
	return (uint32_t)hvg_regs(g).rax;
}

static uint32_t ebx(struct hvg *g)
{
	return (uint32_t)hvg_regs(g).rbx;
}

/* Space A, PT[0] -> FRAME_A and PT[1] -> FRAME_B, 64-bit code @c. */
static void setup64(struct hvg *g, const char *backend, const struct ptg_code *c)
{
	ptg_create64(g, backend, MMU, HVG_RAM);
	hvg_put64(g, PTG_PT_A + 0, PTG_FRAME_A | PTE_P | PTE_RW);
	hvg_put64(g, PTG_PT_A + 8, PTG_FRAME_B | PTE_P | PTE_RW);
	ptg_start64(g, c);
}

/*
 * Load 32-bit code @c and enter protected mode with paging (CR3 @cr3, CR4
 * @cr4) from protected mode without (its direct roots made there),
 * snapshotting the counters into @s in between: the deltas since @s are
 * the paged mode's roots.
 */
static void start32(struct hvg *g, const struct ptg_code *c, uint64_t cr3, uint64_t cr4,
		    struct ptg_snap *s)
{
	hvg_load(g, HVG_CODE, c->b, c->n);
	hvg_enter_protected(g, HVG_CODE);
	ptg_snap(g, s);
	ptg_enter_paged32(g, HVG_CODE, cr3, cr4);
}

/* ---------------------------------------------------------------- unsync */

/*
 * The guest rewrites a PTE of its (level-1 only) page table: the table
 * goes unsync and the write runs natively. INVLPG makes the new entry
 * seen; a CR3 reload synchronizes the page and write-protects it again,
 * so the next PTE write makes it unsync anew.
 */
static void test_cached_unsync_invlpg_and_cr3(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_load_bx(&c, PTG_GVA);
	ptg_load_bx(&c, GVA1);
	ptg_hlt(&c);
	/* 1: PTE 0 -> FRAME_C (A set: usable without a walk). */
	ptg_store(&c, PTG_PT_A, PTG_FRAME_C | PTE_P | PTE_RW | PTE_A);
	ptg_hlt(&c);
	/* 2: INVLPG, read. */
	ptg_invlpg_load_bx(&c, PTG_GVA);
	ptg_hlt(&c);
	/* 3: PTE 1 -> FRAME_C, CR3 reload, read. */
	ptg_store(&c, PTG_PT_A + 8, PTG_FRAME_C | PTE_P | PTE_A);
	ptg_reload_cr3(&c);
	ptg_load_bx(&c, GVA1);
	ptg_hlt(&c);
	/* 4: PTE 0 -> FRAME_A again, INVLPG, read. */
	ptg_store(&c, PTG_PT_A, PTG_FRAME_A | PTE_P | PTE_RW | PTE_A);
	ptg_invlpg_load_bx(&c, PTG_GVA);
	ptg_hlt(&c);
	setup64(g, name, &c);
	ptg_run_to_hlt(g);
	ptg_expect_read(g, "GVA1 before", hvg_regs(g).rbx, PTG_MARK_B);

	struct ptg_snap s;
	ptg_snap_run(g, &s);
	/* The PT's frame had no leaf: one fault, the PT shadowed at
	 * level 1 only, so its page goes unsync and the leaf is
	 * writable; the write itself is not emulated. */
	PTG_EXPECT(g, &s, "PTE write", { "mmu_unsync", 1 }, { "pf_fixed", 1 },
		   { "pf_emulate", 0 }, { "mmu_pte_write", 0 }, { "mmu_sync", 0 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "after INVLPG", hvg_regs(g).rbx, PTG_MARK_C);
	/* INVLPG rebuilt the leaf from the gpte (A set): no fault; the
	 * page stays unsync (only that spte was synchronized). */
	PTG_EXPECT(g, &s, "INVLPG", { "invlpg", 1 }, { "pf_fixed", 0 }, { "mmu_sync", 0 },
		   { "mmu_unsync", 0 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "after a CR3 reload", hvg_regs(g).rbx, PTG_MARK_C);
	/* The write: no exit (still unsync). The load: same root,
	 * the unsync page it reaches synchronized (1) — its present
	 * leaf 1 rebuilt, so the read does not fault. */
	PTG_EXPECT(g, &s, "CR3 reload", { "cr3_switches", 1 }, { "mmu_sync", 1 },
		   { "pf_fixed", 0 }, { "pf_emulate", 0 }, { "mmu_unsync", 0 },
		   { "mmu_cache_miss", 0 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "after the next PTE write and INVLPG", hvg_regs(g).rbx,
			PTG_MARK_A);
	/* Write-protected again by the sync: the write faults and
	 * unsyncs the page anew. */
	PTG_EXPECT(g, &s, "write after sync", { "mmu_unsync", 1 }, { "pf_fixed", 1 },
		   { "pf_emulate", 0 });
}

/*
 * A frame the guest wrote as data (so it had a writable leaf) and then
 * made a page table: the new shadow page write-protects it, so the next
 * write to one of its entries is seen (unsync) and INVLPG picks it up.
 */
static void test_cached_data_page_becomes_table(struct hvg *g, const char *name)
{
	const uint32_t gva_x = 0x400000u;	/* PD index 2 -> PT_X */
	struct ptg_code c;
	ptg_code_init(&c, true);
	/* 0: write PT_X as data: its entry 0 -> FRAME_B. */
	ptg_store(&c, PT_X, PTG_FRAME_B | PTE_P | PTE_RW | PTE_A);
	ptg_hlt(&c);
	/* 1: PD[2] -> PT_X; read through it. */
	ptg_store(&c, PTG_PD_A + 16, PT_X | PTE_P | PTE_RW | PTE_US);
	ptg_load_bx(&c, gva_x);
	ptg_hlt(&c);
	/* 2: entry 0 -> FRAME_C, INVLPG, read. */
	ptg_store(&c, PT_X, PTG_FRAME_C | PTE_P | PTE_RW | PTE_A);
	ptg_invlpg_load_bx(&c, gva_x);
	ptg_hlt(&c);
	setup64(g, name, &c);
	ptg_run_to_hlt(g);

	struct ptg_snap s;
	ptg_snap_run(g, &s);
	ptg_expect_read(g, "through the new table", hvg_regs(g).rbx, PTG_MARK_B);
	/* The PDE write is emulated; the read makes PT_X's page. */
	PTG_EXPECT(g, &s, "data becomes a table", { "pf_emulate", 1 },
		   { "mmu_cache_miss", 1 }, { "mmu_unsync", 0 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "after the PTE write and INVLPG", hvg_regs(g).rbx, PTG_MARK_C);
	PTG_EXPECT(g, &s, "PTE write", { "mmu_unsync", 1 }, { "pf_fixed", 1 },
		   { "pf_emulate", 0 });
}

/* ---------------------------------------------------------------- 32-bit, PAE */

/*
 * 32-bit paging (4.3), CR4.PSE: PD 0x20000, PD[0] = 4 MiB page at 0,
 * PD[1] -> PT 0x21000 (gva 4-8 MiB), PD[768] -> PT 0x22000 (gva 3 GiB).
 * PT[0] (gva 0x400000) lies in the first 512 entries (quadrant 0),
 * PT[512] (gva 0x600000) in the second (quadrant 1).
 */
#define PD32 0x20000ull
#define PT32 0x21000ull
#define PT32B 0x22000ull

static void test_cached_32bit_quadrants(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, false);
	ptg_load_ax(&c, 0x300010u);		/* upper half of the 4 MiB page */
	ptg_hlt(&c);
	ptg_load_ax(&c, 0x400000u);
	ptg_load_bx(&c, 0x600000u);
	ptg_hlt(&c);
	ptg_load_ax(&c, 0xc0001000u);
	ptg_hlt(&c);
	/* 3: the quadrant-1 PTE rewritten, INVLPG, read. */
	ptg_store(&c, PT32 + 512 * 4, PTG_FRAME_C | PTE_P | PTE_RW | PTE_A);
	ptg_invlpg_load_bx(&c, 0x600000u);
	ptg_hlt(&c);
	/* 4: PD[1] -> PT32B, INVLPG, read gva 0x401000. */
	ptg_store(&c, PD32 + 4, PT32B | PTE_P | PTE_RW | PTE_US);
	ptg_invlpg_load_ax(&c, 0x401000u);
	ptg_hlt(&c);

	hvg_create_with(g, name, MMU, 8 * HVG_MiB);
	ptg_space32(g, PD32, PT32);
	hvg_put32(g, PD32 + 768 * 4, (uint32_t)(PT32B | PTE_P | PTE_RW | PTE_US));
	hvg_put32(g, PT32 + 0, (uint32_t)(PTG_FRAME_A | PTE_P | PTE_RW));
	hvg_put32(g, PT32 + 512 * 4, (uint32_t)(PTG_FRAME_B | PTE_P | PTE_RW));
	hvg_put32(g, PT32B + 4, (uint32_t)(PTG_FRAME_C | PTE_P | PTE_RW));
	ptg_put_marks(g);
	hvg_put32(g, 0x300010, 0x4b4b4b4b);
	struct ptg_snap s;
	start32(g, &c, PD32, PTG_CR4_PSE, &s);
	/* Four roots: the PD's four quadrants, one per GiB. */
	PTG_EXPECT(g, &s, "32-bit roots", { "mmu_cache_miss", 4 }, { "mmu_pages", 4 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "4 MiB page, upper half", eax(g), 0x4b4b4b4b);
	/* The 4 MiB page is two 2 MiB sptes, each a direct page of
	 * 4 KiB leaves: the code's half and the read's (2), one leaf
	 * each. */
	PTG_EXPECT(g, &s, "4 MiB page", { "mmu_cache_miss", 2 }, { "pf_fixed", 2 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "PT[0]", eax(g), (uint32_t)PTG_MARK_A);
	ptg_expect_read(g, "PT[512]", ebx(g), (uint32_t)PTG_MARK_B);
	/* One PT, two shadow pages (quadrants 0 and 1). */
	PTG_EXPECT(g, &s, "both halves of a PT", { "mmu_cache_miss", 2 },
		   { "pf_fixed", 2 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "3 GiB", eax(g), (uint32_t)PTG_MARK_C);
	PTG_EXPECT(g, &s, "fourth quadrant", { "mmu_cache_miss", 1 }, { "pf_fixed", 1 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "PT[512] rewritten, INVLPG", ebx(g), (uint32_t)PTG_MARK_C);
	/* Both pages of the PT go unsync (one gfn, two pages); the
	 * PT's frame gets a writable leaf (1 fault). */
	PTG_EXPECT(g, &s, "quadrant-1 PTE write", { "mmu_unsync", 2 }, { "pf_fixed", 1 },
		   { "pf_emulate", 0 });
	assert_int_equal(hvg_get32(g, PT32 + 512 * 4) & ~(uint32_t)(PTE_A | PTE_D),
			 (uint32_t)(PTG_FRAME_C | PTE_P | PTE_RW));

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "PD[1] rewritten, INVLPG", eax(g), (uint32_t)PTG_MARK_C);
	/* The PD write is emulated (a level-2 table); PDE 1 is sptes
	 * 2 and 3 of the quadrant-0 root, both present: 2 dropped.
	 * gva 0x401000 then reaches PT32B's quadrant-0 page, made for
	 * 3 GiB with the same rights, whose entry 1 is mapped: found,
	 * and the fault is spurious. */
	PTG_EXPECT(g, &s, "PDE write", { "pf_emulate", 1 }, { "mmu_pte_write", 1 },
		   { "mmu_pde_zapped", 2 }, { "mmu_cache_miss", 0 }, { "pf_fixed", 0 },
		   { "pf_spurious", 1 });
}

/*
 * PAE paging (4.4): PDPT 0x20000 (PDPTE 0 -> PD 0x21000, PDPTE 1 -> PD
 * 0x23000), PD[0] = 2 MiB at 0, PD[1] -> PT 0x22000; PD 0x23000 maps
 * gva 1 GiB + [0, 2 MiB) to gpa 0 as a user page. After a PDPTE change
 * and MOV to CR3, the new PD is used.
 */
#define PDPT_P 0x20000ull
#define PD_P 0x21000ull
#define PT_P 0x22000ull
#define PD_P2 0x23000ull
#define PD_P3 0x24000ull
#define PT_P3 0x25000ull

/* The tables above (PDPTE 1 -> PD_P2), PD_P3 and its PT ready for a
 * PDPTE 1 -> PD_P3: its entry for gva 1 GiB + FRAME_B maps FRAME_C. */
static void create_pae(struct hvg *g, const char *backend)
{
	hvg_create_with(g, backend, MMU, HVG_RAM);
	ptg_space_pae(g, PDPT_P, PD_P, PT_P);
	hvg_put64(g, PDPT_P + 8, PD_P2 | PTE_P);
	hvg_put64(g, PD_P2, 0 | PTE_P | PTE_RW | PTE_US | PTE_PS);
	hvg_put64(g, PD_P3, PT_P3 | PTE_P | PTE_RW | PTE_US);
	hvg_put64(g, PT_P3 + 8 * (PTG_FRAME_B >> 12), PTG_FRAME_C | PTE_P | PTE_RW);
	ptg_put_marks(g);
}

static void test_cached_pae(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, false);
	ptg_hlt(&c);
	ptg_load_ax(&c, 0x200000u);
	ptg_load_bx(&c, 0x40000000u + (uint32_t)PTG_FRAME_B);
	ptg_hlt(&c);
	/* 2: PTE 0 -> FRAME_C (low dword), INVLPG, read. */
	ptg_store(&c, PT_P, (uint32_t)(PTG_FRAME_C | PTE_P | PTE_RW | PTE_A));
	ptg_invlpg_load_ax(&c, 0x200000u);
	ptg_hlt(&c);
	/* 3: PDPTE 1 -> PD_P3, MOV to CR3, read. */
	ptg_store(&c, PDPT_P + 8, (uint32_t)(PD_P3 | PTE_P));
	ptg_reload_cr3(&c);
	ptg_load_bx(&c, 0x40000000u + (uint32_t)PTG_FRAME_B);
	ptg_hlt(&c);

	create_pae(g, name);
	hvg_put64(g, PT_P, PTG_FRAME_A | PTE_P | PTE_RW);
	struct ptg_snap s;
	start32(g, &c, PDPT_P, HVG_CR4_PAE, &s);
	/* One level-2 root per present PDPTE. */
	PTG_EXPECT(g, &s, "PAE roots", { "mmu_cache_miss", 2 }, { "mmu_pages", 2 });
	ptg_run_to_hlt(g);

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "PT[0]", eax(g), (uint32_t)PTG_MARK_A);
	ptg_expect_read(g, "2 MiB user page in the second GiB", ebx(g), (uint32_t)PTG_MARK_B);
	/* PT_P's page; the user 2 MiB page's direct page (rights
	 * differ from the code's supervisor one). */
	PTG_EXPECT(g, &s, "PAE reads", { "mmu_cache_miss", 2 }, { "pf_fixed", 2 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "PTE rewritten, INVLPG", eax(g), (uint32_t)PTG_MARK_C);
	PTG_EXPECT(g, &s, "PAE PTE write", { "mmu_unsync", 1 }, { "pf_emulate", 0 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "new PDPTE after MOV to CR3", ebx(g), (uint32_t)PTG_MARK_C);
}

/*
 * PAE's PDPTEs are registers (4.4.1): loaded by MOV to CR3 and not read
 * from memory again when translating. The guest rewrites PDPTE 1 in
 * memory without a CR3 load and reads from the second GiB (never used
 * before): the old PDPTE's PD still translates it; after MOV to CR3 the
 * new one does.
 */
static void test_cached_pae_pdpte_registers(struct hvg *g, const char *name)
{
	const uint32_t gva = 0x40000000u + (uint32_t)PTG_FRAME_B;
	struct ptg_code c;
	ptg_code_init(&c, false);
	ptg_store(&c, PDPT_P + 8, (uint32_t)(PD_P3 | PTE_P));
	ptg_load_bx(&c, gva);
	ptg_hlt(&c);
	ptg_reload_cr3(&c);
	ptg_load_bx(&c, gva);
	ptg_hlt(&c);

	create_pae(g, name);
	hvg_load(g, HVG_CODE, c.b, c.n);
	ptg_enter_paged32(g, HVG_CODE, PDPT_P, HVG_CR4_PAE);
	ptg_run_to_hlt(g);
	ptg_expect_read(g, "PDPTE 1 rewritten in memory only", ebx(g), (uint32_t)PTG_MARK_B);
	ptg_run_to_hlt(g);
	ptg_expect_read(g, "after MOV to CR3", ebx(g), (uint32_t)PTG_MARK_C);
}

/*
 * CR0.WP = 0 (4.6.1): a supervisor write to a read-only page succeeds and
 * sets D (4.8). After the guest sets CR0.WP, the same write faults with
 * P | W (4.7): shadow pages made under WP = 0 (whose leaf grants the
 * write) are not used under WP = 1 (role.cr0_wp).
 */
static void test_cached_cr0_wp(struct hvg *g, const char *name)
{
	const uint32_t gva_ro = PTG_GVA + 0x2000u;	/* PT[2] -> FRAME_C, read-only */
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_touch_delivery(&c);
	ptg_store(&c, gva_ro, 0x5a);
	ptg_hlt(&c);
	ptg_emit(&c, "\x0f\x20\xc0", 3);		/* mov rax, cr0 */
	ptg_emit(&c, "\x48\x0d", 2);			/* or rax, CR0.WP */
	ptg_emit32(&c, (uint32_t)HVG_CR0_WP);
	ptg_emit(&c, "\x0f\x22\xc0", 3);		/* mov cr0, rax */
	ptg_store(&c, gva_ro, 0xa5);
	ptg_hlt(&c);

	ptg_create64(g, name, MMU, HVG_RAM);
	hvg_put64(g, PTG_PT_A + 16, PTG_FRAME_C | PTE_P);
	hvg_load(g, HVG_CODE, c.b, c.n);
	hvg_enter_long_cr3(g, HVG_CODE, PTG_PML4_A, PTG_CR0_PAGING & ~HVG_CR0_WP);
	ptg_install_pf_handler(g);
	ptg_run_to_hlt(g);
	assert_int_equal(hvg_get64(g, PTG_FRAME_C), 0x5a);
	const uint64_t pte = hvg_get64(g, PTG_PT_A + 16);
	if ((pte & (PTE_A | PTE_D)) != (PTE_A | PTE_D))
		fail_msg("%s: PTE %#llx after a write with CR0.WP = 0: want A and D", name,
			 (unsigned long long)pte);
	ptg_run_to_hlt(g);
	ptg_expect_pf(g, "write with CR0.WP = 1", 0x3, gva_ro);
	assert_int_equal(hvg_get64(g, PTG_FRAME_C), 0x5a);
}

#define T(fn) PTG_TEST(MMU, fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cached_unsync_invlpg_and_cr3),
		T(test_cached_data_page_becomes_table),
		T(test_cached_32bit_quadrants),
		T(test_cached_pae),
		T(test_cached_pae_pdpte_registers),
		T(test_cached_cr0_wp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
