/*
 * test_mmu_shadow_cached.c — the shadow-cached MMU (mmu/shadow/cached*.c)
 * through the public API, on every backend: IA-32e guests with tables of
 * their own, run with cfg.mmu = "shadow-cached". This file: caching across
 * CR3 loads, prefetch, write-protected guest tables and emulated writes,
 * write flooding, guest faults, MMIO, large pages. Unsync pages, 32-bit
 * and PAE guests and CR0.WP are in test_mmu_shadow_cached_sync.c;
 * memslots, dirty logging and reclaim in test_mmu_shadow_cached_mem.c.
 *
 * Two kinds of assertion:
 *  - what the guest sees is x86 truth (Intel SDM Vol. 3A): 4.5 (4-level
 *    entries; PS = 1 in a PDE maps 2 MiB, in a PDPTE 1 GiB with CPUID
 *    8000_0001H:EDX[26]), 4.6 (rights), 4.7 (#PF error code: P bit 0, W/R
 *    bit 1, RSVD bit 3; CR2 = the linear address), 4.8 (A and D set by the
 *    processor: D in the entry that maps the page, on a write through any
 *    translation), 4.10.4.1 (after a paging-structure change and INVLPG
 *    the new translation is used);
 *  - what the strategy promises (mmu.txt, seed 003; cached.h) as exact
 *    counter deltas (hv_get_stats), each derived in a comment from the
 *    design: shadow pages are keyed by (guest table, role) and kept across
 *    CR3 loads; a fault maps one leaf and prefetches the neighbours of its
 *    group of 8 whose gpte is present and accessed; guest tables are
 *    write-protected and a write to one shadowed above level 1 is emulated
 *    and propagated; a page above level 1 written 3 times without a fault
 *    through it is zapped.
 *
 * Guest-physical layout: ptguest.h's (spaces A and B, PTG_PML4_A ...
 * PTG_PT_B at 0x20000-0x27fff; PD[0] = 2 MiB supervisor page at 0,
 * accessed and dirty, PD[1] -> PT; data frames PTG_FRAME_A/B/C), more
 * tables from 0x28000 and FRAME_RO here.
 * Page-table entries are written without A unless a test says otherwise,
 * so prefetch (which needs A, cached_sync.c) leaves them alone and each
 * first touch is one fault.
 *
 * hw/ turns a #PF met while delivering an injected #PF into #DF before the
 * #PF intercept (see test_mmu_shadow_flush.c), so fault tests touch what
 * delivery uses first.
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

#define PT_A2 0x28000ull
#define PD_Y 0x29000ull
#define PT_Y 0x2a000ull
#define PD_L 0x2b000ull

#define FRAME_RO 0x151000ull

#define GVA1 0x201000u		/* PT index 1 */
#define GVA_1G 0x40000000u	/* PDPT index 1 */

#define MARK_RO 0x4444dddd4444ddddull

#define MMU "shadow-cached"

/* Space A and B with PT[0] of each mapped; A's PT[1] read-only. */
static void setup_with(struct hvg *g, const char *backend, const char *mmu,
		       const struct ptg_code *c, uint64_t ram)
{
	ptg_create64(g, backend, mmu, ram);
	hvg_put64(g, PTG_PT_A + 0, PTG_FRAME_A | PTE_P | PTE_RW);
	hvg_put64(g, PTG_PT_A + 8, FRAME_RO | PTE_P);
	ptg_space64(g, PTG_PML4_B, PTG_PDPT_B, PTG_PD_B, PTG_PT_B);
	hvg_put64(g, PTG_PT_B + 0, PTG_FRAME_B | PTE_P | PTE_RW);
	hvg_put64(g, FRAME_RO, MARK_RO);
	ptg_start64(g, c);
}

static void setup(struct hvg *g, const char *backend, const struct ptg_code *c)
{
	setup_with(g, backend, MMU, c, HVG_RAM);
}

/*
 * Touch two pages in A, switch to B and touch, switch back to A and touch
 * the same pages: shadow-cached finds A's tree still there (keyed by the
 * guest tables, kept across CR3 loads: mmu.txt "mov to cr3: look up new
 * shadow roots"), so nothing faults; shadow-flush (the contrast) rebuilt
 * everything at each load and faults again.
 */
static void cr3_round_trip(struct hvg *g, const char *name, const char *mmu)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_load_bx(&c, PTG_GVA);
	ptg_load_ax(&c, GVA1);
	ptg_hlt(&c);
	ptg_load_cr3(&c, PTG_PML4_B);
	ptg_load_bx(&c, PTG_GVA);
	ptg_hlt(&c);
	ptg_load_cr3(&c, PTG_PML4_A);
	ptg_load_bx(&c, PTG_GVA);
	ptg_load_ax(&c, GVA1);
	ptg_hlt(&c);
	setup_with(g, name, mmu, &c, HVG_RAM);

	struct ptg_snap s;
	ptg_snap_run(g, &s);
	ptg_expect_read(g, "A, GVA", hvg_regs(g).rbx, PTG_MARK_A);
	ptg_expect_read(g, "A, GVA1", hvg_regs(g).rax, MARK_RO);
	if (!strcmp(mmu, MMU)) {
		/* The root was made when CR3 was set; the code fetch made
		 * the PDPT, PD and the direct page for the 2 MiB page, GVA
		 * the PT: 4 pages, 3 leaves (code, GVA, GVA1). */
		PTG_EXPECT(g, &s, "first touches in A", { "mmu_cache_miss", 4 }, { "pf_fixed", 3 },
			   { "pf_spurious", 0 }, { "pf_guest", 0 }, { "mmu_pages", 4 });
	}

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "B, GVA", hvg_regs(g).rbx, PTG_MARK_B);
	if (!strcmp(mmu, MMU)) {
		/* New: B's root (at the load), PDPT, PD (code fetch) and PT
		 * (GVA). The code page's leaf is in the direct page of the
		 * 2 MiB guest page, which B maps with the same rights:
		 * found, its leaf already right: a spurious fault. */
		PTG_EXPECT(g, &s, "switch to B", { "cr3_switches", 1 }, { "mmu_cache_miss", 4 },
			   { "pf_fixed", 1 }, { "pf_spurious", 1 }, { "mmu_shadow_zapped", 0 },
			   { "mmu_pages", 4 });
	}

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "A again, GVA", hvg_regs(g).rbx, PTG_MARK_A);
	ptg_expect_read(g, "A again, GVA1", hvg_regs(g).rax, MARK_RO);
	if (!strcmp(mmu, MMU)) {
		/* A's root and everything below it were kept. */
		PTG_EXPECT(g, &s, "back to A", { "cr3_switches", 1 }, { "mmu_cache_miss", 0 },
			   { "pf_fixed", 0 }, { "pf_spurious", 0 }, { "mmu_shadow_zapped", 0 },
			   { "mmu_pages", 0 });
	} else {
		/* shadow-flush: the code page, GVA and GVA1 fault again. */
		const uint64_t fixed = hvg_stat(g, "pf_fixed") - ptg_snap_get(&s, "pf_fixed");
		if (fixed < 3)
			fail_msg("%s: shadow-flush refaulted %llu times back in A; want >= 3", name,
				 (unsigned long long)fixed);
	}
}

static void test_cached_cr3_switch_keeps_pages(struct hvg *g, const char *name)
{
	cr3_round_trip(g, name, MMU);
	if (ptg_have_mmu("shadow-flush")) {
		hvg_destroy(g);
		cr3_round_trip(g, name, "shadow-flush");
	}
}

/*
 * Prefetch: a fault maps the other gptes of its group of 8 (indexes 0-7)
 * that are present and accessed; an entry without A (4.8: the processor
 * must set it on first use, which only a walk does) or in another group
 * faults on its own.
 */
static void test_cached_prefetch(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_hlt(&c);
	ptg_load_ax(&c, PTG_GVA + 0x2000);		/* index 2: the fault */
	ptg_load_bx(&c, PTG_GVA + 0x3000);		/* index 3: prefetched */
	ptg_hlt(&c);
	ptg_load_ax(&c, PTG_GVA + 0x4000);		/* index 4: no A */
	ptg_load_bx(&c, PTG_GVA + 0x8000);		/* index 8: next group */
	ptg_hlt(&c);
	setup(g, name, &c);
	hvg_put64(g, PTG_PT_A + 2 * 8, PTG_FRAME_A | PTE_P | PTE_RW | PTE_A);
	hvg_put64(g, PTG_PT_A + 3 * 8, PTG_FRAME_B | PTE_P | PTE_RW | PTE_A);
	hvg_put64(g, PTG_PT_A + 4 * 8, PTG_FRAME_C | PTE_P | PTE_RW);
	hvg_put64(g, PTG_PT_A + 8 * 8, PTG_FRAME_C | PTE_P | PTE_RW | PTE_A);
	ptg_run_to_hlt(g);

	struct ptg_snap s;
	ptg_snap_run(g, &s);
	ptg_expect_read(g, "index 2", hvg_regs(g).rax, PTG_MARK_A);
	ptg_expect_read(g, "index 3", hvg_regs(g).rbx, PTG_MARK_B);
	/* The PT's page (1 miss) and one leaf; index 3 came along. */
	PTG_EXPECT(g, &s, "group of 8", { "pf_fixed", 1 }, { "mmu_cache_miss", 1 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "index 4", hvg_regs(g).rax, PTG_MARK_C);
	ptg_expect_read(g, "index 8", hvg_regs(g).rbx, PTG_MARK_C);
	PTG_EXPECT(g, &s, "no A, other group", { "pf_fixed", 2 }, { "mmu_cache_miss", 0 });
	/* 4.8: the walk of the first use set A. */
	assert_true(hvg_get64(g, PTG_PT_A + 4 * 8) & PTE_A);
}

/*
 * The guest re-points a PDE (a level-2 guest table: write-protected, the
 * write emulated) and INVLPGs: the new page table is used (4.10.4.1). The
 * emulated write drops the shadow PDE it replaced (mmu_pde_zapped).
 */
static void test_cached_pde_write_emulated(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_load_bx(&c, PTG_GVA);
	ptg_hlt(&c);
	ptg_store(&c, PTG_PD_A + 8, PT_A2 | PTE_P | PTE_RW | PTE_US);
	ptg_hlt(&c);
	ptg_invlpg_load_bx(&c, PTG_GVA);
	ptg_hlt(&c);
	setup(g, name, &c);
	hvg_put64(g, PT_A2, PTG_FRAME_C | PTE_P | PTE_RW);
	ptg_run_to_hlt(g);
	ptg_expect_read(g, "before", hvg_regs(g).rbx, PTG_MARK_A);

	struct ptg_snap s;
	ptg_snap_run(g, &s);
	/* The PD's frame had no leaf: the write faults, the PD is
	 * shadowed at level 2, so no writable leaf: emulated (1),
	 * one write to a shadowed table (1), whose PDE 1 linked the
	 * PT's page (dropped: 1). Nothing goes unsync or floods. */
	PTG_EXPECT(g, &s, "PDE write", { "pf_emulate", 1 }, { "mmu_pte_write", 1 },
		   { "mmu_pde_zapped", 1 }, { "mmu_unsync", 0 }, { "mmu_flooded", 0 },
		   { "pf_fixed", 0 });
	assert_int_equal(hvg_get64(g, PTG_PD_A + 8) & ~(PTE_A | PTE_D),
			 PT_A2 | PTE_P | PTE_RW | PTE_US);

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "after the PDE write and INVLPG", hvg_regs(g).rbx, PTG_MARK_C);
	/* A new page for PT_A2, one leaf. */
	PTG_EXPECT(g, &s, "INVLPG and read", { "invlpg", 1 }, { "mmu_cache_miss", 1 },
		   { "pf_fixed", 1 }, { "pf_emulate", 0 });
}

/*
 * A PTE write to a page table that is also a PD elsewhere (PT_A is space
 * A's PT and, through PDPT[1], a PD whose entry 511 maps a 2 MiB page):
 * a table shadowed above level 1 never goes unsync, so the write is
 * emulated, and the new leaf is built from it at once (propagation): after
 * INVLPG the new frame is read without another fault. The third such
 * write floods the level-2 view away (the level-1 page is never flooded:
 * it keeps its propagated leaves); from then on the table is a level-1
 * table only, and the next write makes it unsync instead.
 */
static void test_cached_pte_write_in_multilevel_table(struct hvg *g, const char *name)
{
	const uint32_t via_pd = GVA_1G + 511 * 0x200000u + (uint32_t)HVG_DATA;
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_load_bx(&c, PTG_GVA);
	ptg_load_ax(&c, via_pd);
	ptg_hlt(&c);
	ptg_store(&c, PTG_PT_A, PTG_FRAME_C | PTE_P | PTE_RW | PTE_A);
	ptg_invlpg_load_bx(&c, PTG_GVA);
	ptg_hlt(&c);
	ptg_store(&c, PTG_PT_A + 8, PTG_FRAME_B | PTE_P | PTE_A);
	ptg_store(&c, PTG_PT_A + 16, PTG_FRAME_A | PTE_P | PTE_A);
	ptg_invlpg_load_bx(&c, GVA1);
	ptg_hlt(&c);
	ptg_store(&c, PTG_PT_A, PTG_FRAME_A | PTE_P | PTE_RW | PTE_A);
	ptg_invlpg_load_bx(&c, PTG_GVA);
	ptg_hlt(&c);
	setup(g, name, &c);
	hvg_put64(g, PTG_PDPT_A + 8, PTG_PT_A | PTE_P | PTE_RW | PTE_US);
	/* As a PDE: 2 MiB at 0; as a PTE (never used): a frame. */
	hvg_put64(g, PTG_PT_A + 511 * 8, 0 | PTE_P | PTE_RW | PTE_PS);
	hvg_put64(g, HVG_DATA, 0x600d);
	ptg_run_to_hlt(g);
	ptg_expect_read(g, "PT_A as a PT", hvg_regs(g).rbx, PTG_MARK_A);
	ptg_expect_read(g, "PT_A as a PD", hvg_regs(g).rax, 0x600d);

	struct ptg_snap s;
	ptg_snap_run(g, &s);
	ptg_expect_read(g, "after the PTE write and INVLPG", hvg_regs(g).rbx, PTG_MARK_C);
	/* Emulated (1 fault, 1 tracked write), nothing unsync; the
	 * PD view's entry 0 was not present (no pde_zapped); the leaf
	 * was rebuilt from the write, so the read after INVLPG does
	 * not fault. */
	PTG_EXPECT(g, &s, "PTE write", { "pf_emulate", 1 }, { "mmu_pte_write", 1 },
		   { "mmu_unsync", 0 }, { "mmu_pde_zapped", 0 }, { "pf_fixed", 0 },
		   { "mmu_cache_miss", 0 }, { "invlpg", 1 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "PTE 1 written twice later, INVLPG", hvg_regs(g).rbx, PTG_MARK_B);
	/* Writes 2 and 3: emulated; the third floods the PD view (1
	 * zapped); GVA1's leaf was made by the propagation (never
	 * read before), so the read does not fault. */
	PTG_EXPECT(g, &s, "two more writes", { "pf_emulate", 2 }, { "mmu_pte_write", 2 },
		   { "mmu_flooded", 1 }, { "mmu_shadow_zapped", 1 }, { "pf_fixed", 0 },
		   { "mmu_cache_miss", 0 }, { "mmu_unsync", 0 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "PTE 0 back, INVLPG", hvg_regs(g).rbx, PTG_MARK_A);
	/* A level-1 table only now: the write unsyncs it (1 fault
	 * for the writable leaf), INVLPG resyncs PTE 0. */
	PTG_EXPECT(g, &s, "level-1 only", { "mmu_unsync", 1 }, { "pf_emulate", 0 },
		   { "mmu_pte_write", 0 }, { "pf_fixed", 1 });
}

/*
 * Write flooding: a PD the guest unlinks (PDPT[1] cleared) and then
 * writes as data. The first three writes are emulated (still a shadowed
 * table); the third zaps its shadow page (mmu_flooded), so the fourth
 * fault maps the frame writable and the fifth write does not exit.
 */
static void test_cached_write_flooding(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_load_bx(&c, GVA_1G);
	ptg_hlt(&c);
	ptg_store(&c, PTG_PDPT_A + 8, 0);		/* unlink PD_Y */
	ptg_hlt(&c);
	ptg_store(&c, PD_Y + 0x800, 0x1234);
	ptg_store_ax(&c, PD_Y + 0x808);
	ptg_store_ax(&c, PD_Y + 0x810);
	ptg_hlt(&c);
	ptg_store_ax(&c, PD_Y + 0x818);
	ptg_store_ax(&c, PD_Y + 0x820);
	ptg_hlt(&c);
	setup(g, name, &c);
	hvg_put64(g, PTG_PDPT_A + 8, PD_Y | PTE_P | PTE_RW | PTE_US);
	hvg_put64(g, PD_Y, PT_Y | PTE_P | PTE_RW | PTE_US);
	hvg_put64(g, PT_Y, PTG_FRAME_B | PTE_P | PTE_RW);
	ptg_run_to_hlt(g);
	ptg_expect_read(g, "through PD_Y", hvg_regs(g).rbx, PTG_MARK_B);

	struct ptg_snap s;
	ptg_snap_run(g, &s);
	/* PDPT_A is a level-3 table: emulated; its entry 1 linked
	 * PD_Y's page. */
	PTG_EXPECT(g, &s, "unlink", { "pf_emulate", 1 }, { "mmu_pte_write", 1 },
		   { "mmu_pde_zapped", 1 }, { "mmu_flooded", 0 });

	ptg_snap_run(g, &s);
	/* Three emulated writes, no fault through PD_Y in between:
	 * the third zaps it. The entries written were not present. */
	PTG_EXPECT(g, &s, "three writes", { "pf_emulate", 3 }, { "mmu_pte_write", 3 },
		   { "mmu_flooded", 1 }, { "mmu_shadow_zapped", 1 },
		   { "mmu_pde_zapped", 0 }, { "pf_fixed", 0 });

	ptg_snap_run(g, &s);
	/* No table any more: one fault maps it writable. */
	PTG_EXPECT(g, &s, "data now", { "pf_emulate", 0 }, { "mmu_pte_write", 0 },
		   { "pf_fixed", 1 }, { "mmu_flooded", 0 });
	for (unsigned k = 0; k < 5; k++)
		assert_int_equal(hvg_get64(g, PD_Y + 0x800 + 8 * k), 0x1234);
}

/*
 * True guest faults are the guest's: delivered with the architecture's
 * error code (4.7) and CR2, counted in pf_guest, no shadow leaf made.
 */
static void check_guest_pf(struct hvg *g, const char *name, uint32_t gva, bool write,
			   uint64_t want_ec)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_touch_delivery(&c);
	ptg_hlt(&c);
	ptg_access(&c, gva, write);
	ptg_hlt(&c);
	setup(g, name, &c);
	ptg_install_pf_handler(g);
	/* Index 2 not present; index 3 with XD set while EFER.NXE = 0, a
	 * reserved bit (4.5: "If IA32_EFER.NXE = 0 ... the XD flag (bit 63)
	 * is reserved"). */
	hvg_put64(g, PTG_PT_A + 3 * 8, PTG_FRAME_C | PTE_P | PTE_RW | PTE_XD);
	ptg_run_to_hlt(g);
	/* The access is the one guest fault of the next run (the handler's
	 * stores fault too, hidden from the guest: pf_fixed). */
	struct ptg_snap s;
	ptg_snap_run(g, &s);
	ptg_expect_pf(g, write ? "write" : "read", want_ec, gva);
	PTG_EXPECT(g, &s, "guest #PF", { "pf_guest", 1 });
	assert_int_equal(hvg_get64(g, FRAME_RO), MARK_RO);
	hvg_destroy(g);
}

static void test_cached_guest_pf(struct hvg *g, const char *name)
{
	check_guest_pf(g, name, PTG_GVA + 0x2000, false, 0x0);	/* not present, read */
	check_guest_pf(g, name, PTG_GVA + 0x2000, true, 0x2);	/* not present, write */
	check_guest_pf(g, name, GVA1, true, 0x3);		/* read-only, CR0.WP */
	check_guest_pf(g, name, PTG_GVA + 0x3000, false, 0x9);	/* P | RSVD */
}

/*
 * A guest pte pointing at a gpa no memslot covers: each access is an
 * HV_EXIT_MMIO at the gpa the guest's tables give (the first KVM's
 * contract), every time (no leaf is ever made for it).
 */
static void test_cached_mmio(struct hvg *g, const char *name)
{
	const uint64_t mmio = 0xd0000000ull;
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_hlt(&c);
	ptg_load_ax(&c, PTG_GVA + 0x4010);
	ptg_load_bx(&c, PTG_GVA + 0x4010);
	ptg_store(&c, PTG_GVA + 0x4018, 0x55aa);
	ptg_hlt(&c);
	setup(g, name, &c);
	hvg_put64(g, PTG_PT_A + 4 * 8, mmio | PTE_P | PTE_RW);
	ptg_run_to_hlt(g);
	struct ptg_snap s;
	ptg_snap(g, &s);
	hvg_expect_mmio_read(g, mmio + 0x10, 8, 0x1122334455667788ull);
	hvg_expect_mmio_read(g, mmio + 0x10, 8, 0x99aabbccddeeff00ull);
	ptg_expect_read(g, "first MMIO read", hvg_regs(g).rax, 0x1122334455667788ull);
	hvg_expect_mmio_write(g, mmio + 0x18, 8, 0x55aa);
	ptg_expect_read(g, "second MMIO read", hvg_regs(g).rbx, 0x99aabbccddeeff00ull);
	ptg_run_to_hlt(g);
	/* Three faults, each sent to the emulator: a gpa without
	 * memory never gets a leaf, nor a shadow path (the memslot
	 * is looked up before the shadow walk). */
	PTG_EXPECT(g, &s, "MMIO", { "pf_emulate", 3 }, { "pf_fixed", 0 },
		   { "mmu_cache_miss", 0 }, { "mmio_exits", 3 });
}

/* ---------------------------------------------------------------- large pages */

/*
 * 2 MiB guest pages are shadowed by direct pages (mmu.txt role.direct),
 * keyed by the 2 MiB frame range and the rights: another 2 MiB page of
 * the same range and rights shares one (the code's), a user page has its
 * own. Space A's PDPT[1] -> PD_L: PD_L[0] = 2 MiB at 0 supervisor, PD_L[1]
 * = 2 MiB at 0 user.
 */
static void test_cached_large_pages(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_hlt(&c);
	ptg_load_ax(&c, GVA_1G + (uint32_t)PTG_FRAME_A);
	ptg_load_bx(&c, GVA_1G + (uint32_t)PTG_FRAME_B);
	ptg_hlt(&c);
	ptg_load_ax(&c, GVA_1G + 0x200000u + (uint32_t)PTG_FRAME_C);
	ptg_load_bx(&c, GVA_1G + (uint32_t)HVG_CODE);
	ptg_hlt(&c);
	setup(g, name, &c);
	hvg_put64(g, PTG_PDPT_A + 8, PD_L | PTE_P | PTE_RW | PTE_US);
	hvg_put64(g, PD_L + 0, 0 | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D);
	hvg_put64(g, PD_L + 8, 0 | PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_A | PTE_D);
	ptg_run_to_hlt(g);

	struct ptg_snap s;
	ptg_snap_run(g, &s);
	ptg_expect_read(g, "2 MiB page, FRAME_A", hvg_regs(g).rax, PTG_MARK_A);
	ptg_expect_read(g, "2 MiB page, FRAME_B", hvg_regs(g).rbx, PTG_MARK_B);
	/* PD_L's page; the direct page of [0, 2 MiB) with supervisor
	 * rights is the code's; a direct page never prefetches. */
	PTG_EXPECT(g, &s, "supervisor 2 MiB page", { "mmu_cache_miss", 1 },
		   { "pf_fixed", 2 }, { "pf_spurious", 0 });

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "user 2 MiB page", hvg_regs(g).rax, PTG_MARK_C);
	/* The user page: a direct page of its own (1 miss, 1 leaf).
	 * The code page through PD_L[0] (already accessed, A set):
	 * its leaf is in the shared direct page, PD_L[0] links it:
	 * no fault at all. */
	PTG_EXPECT(g, &s, "user page, shared page", { "mmu_cache_miss", 1 },
		   { "pf_fixed", 1 }, { "pf_spurious", 0 });
}

/*
 * SDM 4.8: a write through a translation sets D in the entry that maps
 * the page — here the 2 MiB PDE the write goes through — even when
 * another large page maps the same frames and is dirty already. Space
 * A's PD[0] (2 MiB at 0, clean) runs the code; PD_L[0] maps the same
 * 2 MiB with D set. After a read of HVG_DATA through PD_L[0] and a write
 * of it through PD[0], PD[0] must be dirty.
 */
static void test_cached_large_page_dirty(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_load_bx(&c, GVA_1G + (uint32_t)HVG_DATA);
	ptg_store(&c, (uint32_t)HVG_DATA, 0x77);
	ptg_hlt(&c);
	setup(g, name, &c);
	hvg_put64(g, PTG_PD_A, 0 | PTE_P | PTE_RW | PTE_PS);	/* clean */
	hvg_put64(g, PTG_PDPT_A + 8, PD_L | PTE_P | PTE_RW | PTE_US);
	hvg_put64(g, PD_L + 0, 0 | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D);
	ptg_run_to_hlt(g);
	assert_int_equal(hvg_get64(g, HVG_DATA), 0x77);
	const uint64_t pde = hvg_get64(g, PTG_PD_A);
	if ((pde & (PTE_A | PTE_D)) != (PTE_A | PTE_D))
		fail_msg("%s: after a write through PD[0] (2 MiB) it is %#llx: "
			 "want A and D (SDM 4.8)", name, (unsigned long long)pde);
}

/*
 * A 1 GiB page (PS in a PDPTE, 4.5 Table 4-16), if the guest's CPUID
 * offers them (8000_0001H:EDX[26]): a direct level-2 page for the GiB and
 * direct level-1 pages under it per 2 MiB touched; the first 2 MiB of
 * frames under the same rights is the code's direct page again.
 */
static void test_cached_1g_page(struct hvg *g, const char *name)
{
	/* PDPT index 1 (a disp32 at 2 GiB or above would be sign-
	 * extended in 64-bit mode, SDM Vol. 2A 2.2.1.3). */
	const uint32_t gva = GVA_1G;
	struct ptg_code c;
	ptg_code_init(&c, true);
	/* mov eax, 0x80000001; cpuid; mov [HVG_DATA], edx; hlt */
	ptg_emit(&c, "\xb8\x01\x00\x00\x80\x0f\xa2\x89\x14\x25", 10);
	ptg_emit32(&c, (uint32_t)HVG_DATA);
	ptg_hlt(&c);
	ptg_load_ax(&c, gva + (uint32_t)PTG_FRAME_A);
	ptg_load_bx(&c, gva + 0x200000u + 0x10000u);
	ptg_hlt(&c);
	setup_with(g, name, MMU, &c, 4 * HVG_MiB);
	hvg_put64(g, PTG_PDPT_A + 8, 0 | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D);
	hvg_put64(g, 0x210000, PTG_MARK_C);
	ptg_run_to_hlt(g);
	if (!(hvg_get32(g, HVG_DATA) & (1u << 26)))
		return;
	struct ptg_snap s;
	ptg_snap_run(g, &s);
	ptg_expect_read(g, "1 GiB page, FRAME_A", hvg_regs(g).rax, PTG_MARK_A);
	ptg_expect_read(g, "1 GiB page, 2 MiB + 64 KiB", hvg_regs(g).rbx, PTG_MARK_C);
	/* The level-2 direct page (1), the code's level-1 direct page
	 * (found), one more for [2 MiB, 4 MiB) (1); two leaves. */
	PTG_EXPECT(g, &s, "1 GiB page", { "mmu_cache_miss", 2 }, { "pf_fixed", 2 },
		   { "pf_guest", 0 });
}

#define T(fn) PTG_TEST(MMU, fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cached_cr3_switch_keeps_pages),
		T(test_cached_prefetch),
		T(test_cached_pde_write_emulated),
		T(test_cached_pte_write_in_multilevel_table),
		T(test_cached_write_flooding),
		T(test_cached_guest_pf),
		T(test_cached_mmio),
		T(test_cached_large_pages),
		T(test_cached_large_page_dirty),
		T(test_cached_1g_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
