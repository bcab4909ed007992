/*
 * test_mmu_shadow_cached_mem.c — the shadow-cached MMU and the VM's
 * memory (the other parts: test_mmu_shadow_cached.c, _sync.c): memslot
 * changes, dirty logging, and reclaim under the page budget, through the
 * public API on every backend.
 *
 * Truth: the guest reads the memory its tables map (SDM Vol. 3A 4.5),
 * whatever the VMM did to its memslots in between (KVM_SET_USER_MEMORY_
 * REGION semantics: a deleted region's memory is gone, a new one is
 * zero-filled, a moved one keeps its contents at the new gpa; a gpa with
 * no region is MMIO); hv_get_dirty_log (KVM_GET_DIRTY_LOG) reports every
 * page written since the last call, each time.
 *
 * Strategy promises (cached.c): any change of an existing slot zaps every
 * shadow page (a loaded root stays, invalid, until the next fault reloads
 * it); the dirty log's rearm write-protects the slot's leaves so the next
 * write faults and is logged; the pool never holds more than
 * CONFIG_MMU_SHADOW_PAGES pages, reclaiming least recently used non-root
 * pages (mmu_recycled).
 *
 * Layout: ptguest.h's space A (PD[0] = 2 MiB at 0, PT for [2 MiB, 4 MiB));
 * slot 1 (64 KiB) at 0x400000, PT[5..7] -> its pages.
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

#define SLOT1 0x400000ull
#define SLOT1_MOVED 0x500000ull
#define SLOT1_SIZE 0x10000ull
#define GVA_S0 0x205000u	/* PT[5] -> SLOT1 */
#define GVA_S1 0x206000u	/* PT[6] -> SLOT1 + 4 KiB, or SLOT1_MOVED */
#define GVA_S2 0x207000u	/* PT[7] -> SLOT1 + 8 KiB */

#define MMU "shadow-cached"

static void set_slot(struct hvg *g, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size)
{
	const struct hv_memory_region mr = { .slot = slot, .flags = flags, .gpa = gpa,
					     .size = size };
	const int r = hv_set_memory_region(g->vm, &mr);
	if (r)
		fail_msg("%s: slot %u at %#llx size %#llx: %d (%s)", g->backend, slot,
			 (unsigned long long)gpa, (unsigned long long)size, r, hv_strerror());
}

static void setup(struct hvg *g, const char *backend, const struct ptg_code *c, uint64_t ram)
{
	ptg_create64(g, backend, MMU, ram);
	ptg_start64(g, c);
}

/* ---------------------------------------------------------------- memslots */

/*
 * Delete the slot the guest reads through PT[5] and add a new one at the
 * same gpa: the guest reads the new memory. Move it: PT[5]'s gpa is MMIO
 * now, PT[6] (pointing at the new place) reads the old contents.
 */
static void test_cached_memslot_change(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_load_bx(&c, GVA_S0);
	ptg_hlt(&c);
	ptg_load_bx(&c, GVA_S0);
	ptg_hlt(&c);
	ptg_load_ax(&c, GVA_S1);
	ptg_load_bx(&c, GVA_S0);
	ptg_hlt(&c);
	setup(g, name, &c, HVG_RAM);
	hvg_put64(g, PTG_PT_A + 5 * 8, SLOT1 | PTE_P | PTE_RW);
	hvg_put64(g, PTG_PT_A + 6 * 8, SLOT1_MOVED | PTE_P | PTE_RW);
	set_slot(g, 1, 0, SLOT1, SLOT1_SIZE);
	hvg_put64(g, SLOT1, PTG_MARK_A);
	ptg_run_to_hlt(g);
	ptg_expect_read(g, "slot 1", hvg_regs(g).rbx, PTG_MARK_A);

	struct ptg_snap s;
	ptg_snap(g, &s);
	set_slot(g, 1, 0, SLOT1, 0);
	/* Root, PDPT, PD, the direct page, PT: all five zapped; the
	 * loaded root stays until the next fault reloads. */
	PTG_EXPECT(g, &s, "slot deleted", { "mmu_shadow_zapped", 5 }, { "mmu_pages", -4 });
	set_slot(g, 1, 0, SLOT1, SLOT1_SIZE);
	hvg_put64(g, SLOT1 + 8, PTG_MARK_B);
	hvg_put64(g, SLOT1, PTG_MARK_B);

	ptg_snap_run(g, &s);
	ptg_expect_read(g, "the new slot 1", hvg_regs(g).rbx, PTG_MARK_B);
	/* Everything made again: the root at the first fault's
	 * reload, PDPT, PD, direct page (code), PT (the read). */
	PTG_EXPECT(g, &s, "after the change", { "mmu_cache_miss", 5 }, { "pf_fixed", 2 },
		   { "mmu_shadow_zapped", 0 });

	ptg_snap(g, &s);
	set_slot(g, 1, 0, SLOT1_MOVED, SLOT1_SIZE);
	PTG_EXPECT(g, &s, "slot moved", { "mmu_shadow_zapped", 5 });
	hvg_expect_mmio_read(g, SLOT1, 8, 0x77);
	ptg_expect_read(g, "the moved slot", hvg_regs(g).rax, PTG_MARK_B);
	ptg_run_to_hlt(g);
	ptg_expect_read(g, "where the slot was", hvg_regs(g).rbx, 0x77);
}

/* ---------------------------------------------------------------- dirty log */

static uint8_t dirty_log(struct hvg *g)
{
	uint8_t bits[(SLOT1_SIZE >> 12) / 8] = { 0 };
	const int r = hv_get_dirty_log(g->vm, 1, bits, sizeof(bits));
	if (r)
		fail_msg("%s: hv_get_dirty_log: %d (%s)", g->backend, r, hv_strerror());
	for (size_t k = 1; k < sizeof(bits); k++)
		assert_int_equal(bits[k], 0);
	return bits[0];
}

/*
 * Writes to pages 0 and 1, then 1 and 2, then a read of 0, then a write of
 * 0: each log shows exactly the pages written since the one before — page
 * 1 twice, which needs the rearm's write protection.
 */
static void test_cached_dirty_log(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_store(&c, GVA_S0, 0x11);
	ptg_store_ax(&c, GVA_S1);
	ptg_hlt(&c);
	ptg_store(&c, GVA_S1, 0x22);
	ptg_store_ax(&c, GVA_S2);
	ptg_hlt(&c);
	ptg_load_bx(&c, GVA_S0);
	ptg_hlt(&c);
	ptg_store_ax(&c, GVA_S0);
	ptg_hlt(&c);
	setup(g, name, &c, HVG_RAM);
	for (unsigned k = 0; k < 3; k++)
		hvg_put64(g, PTG_PT_A + (5 + k) * 8, (SLOT1 + 0x1000 * k) | PTE_P | PTE_RW);
	set_slot(g, 1, HV_MEM_LOG_DIRTY_PAGES, SLOT1, SLOT1_SIZE);
	assert_int_equal(dirty_log(g), 0);

	struct ptg_snap s;
	ptg_snap_run(g, &s);
	assert_int_equal(dirty_log(g), 0x03);
	PTG_EXPECT(g, &s, "first writes", { "dirty_pages", 2 });

	ptg_snap_run(g, &s);
	assert_int_equal(dirty_log(g), 0x06);
	/* Page 1's leaf lost R/W at the rearm: one fault; page 2's
	 * first write: one fault. */
	PTG_EXPECT(g, &s, "writes after a rearm", { "dirty_pages", 2 }, { "pf_fixed", 2 });

	ptg_run_to_hlt(g);
	ptg_expect_read(g, "page 0", hvg_regs(g).rbx, 0x11);
	assert_int_equal(dirty_log(g), 0x00);

	ptg_run_to_hlt(g);
	assert_int_equal(dirty_log(g), 0x01);
	assert_int_equal(hvg_get64(g, SLOT1), 0x22);
	assert_int_equal(hvg_get64(g, SLOT1 + 0x1000), 0x22);
	assert_int_equal(hvg_get64(g, SLOT1 + 0x2000), 0x22);
}

/* ---------------------------------------------------------------- reclaim */

/*
 * More page tables than the budget: the guest reads one page through each
 * of N = budget + 64 PTs (gva 512 GiB + i * 2 MiB, PML4[1] -> PDPT -> one
 * PD per 512 -> PT i; PT i's entry 0 -> frame i % 16, which holds
 * i % 16 + 1), summing what it reads. Every read must be right, the pool
 * must stay within the budget, and the first PT, unused since, must have
 * been reclaimed (least recently used first): reading through it again
 * makes its page anew.
 */
#define R_PDPT 0x2f000ull
#define R_PD 0x300000ull		/* one PD per 512 PTs */
#define R_PT 0x400000ull		/* PT i at R_PT + i * 4 KiB */
#define R_FRAMES 0x180000ull		/* 16 frames */
#define R_GVA (1ull << 39)		/* PML4 index 1 */

/* The tables above; the sum the guest's loop must find. */
static uint64_t build_reclaim_tables(struct hvg *g, uint64_t n)
{
	const uint64_t rw = PTE_P | PTE_RW | PTE_US;
	uint64_t sum = 0;
	hvg_put64(g, PTG_PML4_A + 8, R_PDPT | rw);
	for (uint64_t k = 0; k < 16; k++)
		hvg_put64(g, R_FRAMES + 0x1000 * k, k + 1);
	for (uint64_t p = 0; p * 512 < n; p++) {
		uint64_t pd[512] = { 0 };
		for (uint64_t j = 0; j < 512 && p * 512 + j < n; j++)
			pd[j] = (R_PT + 0x1000 * (p * 512 + j)) | rw;
		hvg_load(g, R_PD + 0x1000 * p, pd, sizeof(pd));
		hvg_put64(g, R_PDPT + 8 * p, (R_PD + 0x1000 * p) | rw);
	}
	for (uint64_t k = 0; k < n; k++) {
		hvg_put64(g, R_PT + 0x1000 * k, (R_FRAMES + 0x1000 * (k % 16)) | PTE_P | PTE_RW);
		sum += k % 16 + 1;
	}
	return sum;
}

/* The pool's books after a run within budget @budget. */
static void check_pool(struct hvg *g, uint64_t budget)
{
	struct ptg_snap s;
	ptg_snap(g, &s);
	const uint64_t made = ptg_snap_get(&s, "mmu_cache_miss");
	const uint64_t zapped = ptg_snap_get(&s, "mmu_shadow_zapped");
	const uint64_t recycled = ptg_snap_get(&s, "mmu_recycled");
	const uint64_t pages = ptg_snap_get(&s, "mmu_pages");
	const uint64_t peak = ptg_snap_get(&s, "mmu_pages_peak");
	/* mmu_pages counts the pool and the vcpu's PDPT page. */
	if (peak > budget + 1 || pages > budget + 1 || recycled == 0)
		fail_msg("%s: %llu pages in use, peak %llu, %llu recycled: want at most the "
			 "budget %llu + 1, some recycled", g->backend, (unsigned long long)pages,
			 (unsigned long long)peak, (unsigned long long)recycled,
			 (unsigned long long)budget);
	/* Every zap was a reclaim (no slot change, no flooding), and every
	 * page made is in use or was zapped and freed (no root was zapped,
	 * so none waits invalid). */
	assert_int_equal(zapped, recycled);
	assert_int_equal(made - zapped, pages - 1);
}

static void test_cached_reclaim(struct hvg *g, const char *name)
{
	const uint64_t budget = CONFIG_MMU_SHADOW_PAGES;
	const uint64_t n = budget + 64;
	const uint64_t ram = (R_PT + n * 0x1000 + HVG_MiB - 1) & ~(HVG_MiB - 1);
	if (ram > HVG_MAX_MEM || (n + 511) / 512 > 256)
		skip();		/* a budget this large needs more guest RAM */
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_mov_bx(&c, R_GVA);
	ptg_mov_cx(&c, n);
	ptg_emit(&c, "\x48\x31\xd2", 3);		/* xor rdx, rdx */
	ptg_emit(&c, "\x48\x03\x13", 3);		/* 1: add rdx, [rbx] */
	ptg_emit(&c, "\x48\x81\xc3\x00\x00\x20\x00", 7);	/* add rbx, 2 MiB */
	ptg_emit(&c, "\x48\xff\xc9", 3);		/* dec rcx */
	ptg_emit(&c, "\x75\xf1", 2);		/* jnz 1b (-15) */
	ptg_hlt(&c);
	ptg_mov_bx(&c, R_GVA);
	ptg_emit(&c, "\x48\x8b\x03", 3);		/* mov rax, [rbx] */
	ptg_hlt(&c);
	setup(g, name, &c, ram);
	const uint64_t want = build_reclaim_tables(g, n);

	ptg_run_to_hlt(g);
	ptg_expect_read(g, "sum over every PT", hvg_regs(g).rdx, want);
	check_pool(g, budget);

	struct ptg_snap s;
	ptg_snap_run(g, &s);
	ptg_expect_read(g, "PT 0 again", hvg_regs(g).rax, 1);
	/* PT 0's page was reclaimed: made again, maybe with the PD and
	 * PDPT above it (reclaimed too if unused long enough). */
	const uint64_t again = hvg_stat(g, "mmu_cache_miss") -
			       ptg_snap_get(&s, "mmu_cache_miss");
	if (again < 1 || again > 3)
		fail_msg("%s: reading through PT 0 again made %llu shadow pages; want 1..3",
			 name, (unsigned long long)again);
	PTG_EXPECT(g, &s, "PT 0 again", { "pf_fixed", 1 }, { "pf_guest", 0 });
}

#define T(fn) PTG_TEST(MMU, fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cached_memslot_change),
		T(test_cached_dirty_log),
		T(test_cached_reclaim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
