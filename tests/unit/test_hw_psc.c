/*
 * test_hw_psc.c — the paging-structure caches (hw/psc.c) as the walker
 * uses them (hw/walk.c hw_walk_cached): SDM Vol. 3A 4.10.3.1 (what the
 * PML4, PDPTE and PDE caches hold, per paging mode, and when entries are
 * created), 4.10.3.2 (a walk starts at the lowest cached level), 4.10.4.1
 * (what a page fault drops), Vol. 3C 29.4.1-29.4.3 (combined entries
 * under EPT, what an EPT violation drops); and what a walk costs then:
 * the references it makes and one walk_cache_hits for those it skips.
 *
 * Layout: page tables at (guest-)physical 1 MiB..8 MiB; with nesting,
 * guest-physical [0, 16 MiB) is host-physical GUEST_HPA + gpa and the
 * nested tables are at hpa 160 MiB... The 4-level tests translate VA
 * (PML4 index 254, PDPT 0, PD 2, PT 3) and its neighbours.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/hw.h"
#include "hw/psc.h"
#include "hw/tlb.h"
#include "hw/walk.h"
#include "tests/support/pt_builder.h"

/* #PF error code (SDM Vol. 3A 4.7). */
#define PF_P	0x01u
#define PF_W	0x02u
#define PF_U	0x04u
#define PF_RSVD	0x08u
#define PF_I	0x10u

/* EPT violation exit qualification (SDM Vol. 3C Table 28-7). */
#define Q_W	0x002ull
#define Q_RD_OK	0x008ull
#define Q_EX_OK	0x020ull
#define Q_GLA	0x080ull

#define TABLES		0x00100000ull
#define TABLES_END	0x00800000ull
#define GUEST_SIZE	0x01000000ull
#define GUEST_HPA	0x04000000ull
#define NTABLES		0x0a000000ull
#define NTABLES_END	0x0c800000ull

#define SZ_2M	(1ull << 21)
#define SZ_1G	(1ull << 30)
#define SZ_512G	(1ull << 39)
#define VA	0x00007f0000403000ull
#define VA32	0x00403000ull		/* PAE: PD 2, PT 3; 32-bit: PD 1, PT 3 */
#define PA	0x00a03000ull		/* (guest-)physical page VA maps to */
#define RWU	(PTE_P | PTE_RW | PTE_US)

#define ENTRIES 8			/* per cache */
#define T(ep, vpid, pcid) HW_TLB_TAG(ep, vpid, pcid)

static struct hw_machine *m;
static struct hw_psc psc;
static struct ptb b, nb;		/* (guest) tables, nested tables */
static enum ptb_fmt fmt;
static uint64_t root, gbase;		/* gbase: hpa of gpa 0 */
static struct hw_paging pg;
static struct hw_nested nst;
static struct hw_counters cnt;
static struct hw_walk w;
static uint64_t tag;

static void *arena(void)
{
	return hw_hpa_ptr(m, 0, hw_arena_size(m));
}

static int setup(void **state)
{
	struct hw_machine_config cfg;
	hw_machine_config_default(&cfg, HW_VENDOR_INTEL);
	if (hw_machine_create(&cfg, &m) || hw_psc_init(&psc, ENTRIES))
		return -1;
	memset(&pg, 0, sizeof(pg));
	nst = (struct hw_nested){ .kind = HW_NESTED_NONE };
	gbase = 0;
	tag = T(0, 1, 0);
	return 0;
}

static int teardown(void **state)
{
	hw_psc_free(&psc);
	hw_machine_destroy(m);
	return 0;
}

/* Nested tables mapping guest memory with 4 KiB pages (before paging()). */
static void nested(enum hw_nested_kind kind)
{
	const enum ptb_fmt nfmt = kind == HW_NESTED_EPT ? PTB_EPT : PTB_64;
	ptb_init(&nb, arena(), hw_arena_size(m), 0, NTABLES, NTABLES_END);
	const uint64_t nroot = ptb_root(&nb, nfmt);
	const uint64_t flags = kind == HW_NESTED_EPT ? EPT_R | EPT_W | EPT_X | EPT_MT_WB : RWU;
	assert_int_equal(ptb_map_range(&nb, nfmt, nroot, 0, GUEST_HPA, GUEST_SIZE, PTB_4K,
				       flags), 0);
	nst = (struct hw_nested){ .kind = kind, .root = nroot, .maxphyaddr = 46,
				  .npt_nxe = true };
	gbase = GUEST_HPA;
	/* Under EPT the address space includes the EPT root (hw/tlb.h). */
	tag = kind == HW_NESTED_EPT ? T(nroot, 1, 0) : T(0, 1, 0);
}

static void nupdate(uint64_t gpa, uint64_t set, uint64_t clear)
{
	const enum ptb_fmt nfmt = nst.kind == HW_NESTED_EPT ? PTB_EPT : PTB_64;
	assert_int_equal(ptb_update(&nb, nfmt, nst.root, gpa, 1, set, clear), 0);
}

static void paging(enum hw_paging_mode mode)
{
	fmt = mode == HW_PAGING_32 ? PTB_32 : mode == HW_PAGING_PAE ? PTB_PAE : PTB_64;
	ptb_init(&b, arena(), hw_arena_size(m), gbase, TABLES, TABLES_END);
	root = ptb_root(&b, fmt);
	pg = (struct hw_paging){ .mode = mode, .cr3 = root, .nxe = true, .pse = true,
				 .maxphyaddr = 46 };
}

static void map(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags)
{
	assert_int_equal(ptb_map(&b, fmt, root, va, pa, size, flags), 0);
	if (fmt == PTB_PAE)
		ptb_pae_pdptes(&b, root, pg.pdpte);
}

static uint64_t entry(uint64_t va, unsigned level)
{
	return ptb_get(&b, fmt, root, va, level);
}

static void update(uint64_t va, unsigned level, uint64_t set, uint64_t clear)
{
	assert_int_equal(ptb_update(&b, fmt, root, va, level, set, clear), 0);
}

static enum hw_walk_fault walk(uint64_t la, unsigned acc)
{
	memset(&cnt, 0, sizeof(cnt));
	return hw_walk_cached(m, &pg, &nst, &psc, tag, la, acc, &w, &cnt);
}

/* @la translates to (guest-physical) @pa with @refs references, @hits
 * of them skipped by a cache hit. */
static void assert_walk(uint64_t la, unsigned acc, uint64_t pa, unsigned refs, unsigned hits)
{
	assert_int_equal(walk(la, acc), HW_WALK_OK);
	assert_int_equal(w.gpa, pa);
	assert_int_equal(w.hpa, gbase + pa);
	assert_int_equal(cnt.walk_refs, refs);
	assert_int_equal(cnt.walk_cache_hits, hits);
}

static void assert_pf(uint64_t la, unsigned acc, uint32_t err, unsigned refs, unsigned hits)
{
	assert_int_equal(walk(la, acc), HW_WALK_PF);
	assert_int_equal(w.pf_error, err);
	assert_int_equal(cnt.walk_refs, refs);
	assert_int_equal(cnt.walk_cache_hits, hits);
}

/* ------------------------------------------------------------ hits */

static void neighbour_in_the_same_2m_region(void **state)
{
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU);
	map(VA + 0x1000, PA + 0x5000, PTB_4K, RWU);
	assert_walk(VA, 0, PA, 4, 0);
	/* The PDE cache gives the page table: only the PTE is read. */
	assert_walk(VA + 0x1010, 0, PA + 0x5010, 1, 1);
	assert_walk(VA + 0x20, HW_ACC_WRITE, PA + 0x20, 1, 1);
	assert_true(entry(VA, 1) & PTE_D);
}

static void a_walk_starts_at_the_lowest_cached_level(void **state)
{
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU);
	map(VA + SZ_2M, PA + 0x1000, PTB_4K, RWU);		/* same PDPTE */
	map(VA + SZ_2M + 0x1000, PA + 0x2000, PTB_4K, RWU);
	map(VA + SZ_1G, PA + 0x3000, PTB_4K, RWU);		/* same PML4E */
	map(VA + SZ_512G, PA + 0x4000, PTB_4K, RWU);		/* nothing shared */
	assert_walk(VA, 0, PA, 4, 0);
	assert_walk(VA + SZ_2M, 0, PA + 0x1000, 2, 1);		/* PDPTE cache */
	assert_walk(VA + SZ_1G, 0, PA + 0x3000, 3, 1);		/* PML4 cache */
	assert_walk(VA + SZ_512G, 0, PA + 0x4000, 4, 0);
	/* The walk that hit the PDPTE cache cached the PDE below it. */
	assert_walk(VA + SZ_2M + 0x1000, 0, PA + 0x2000, 1, 1);
}

static void large_pages_cache_only_the_levels_above(void **state)
{
	const uint64_t va2m = VA & ~(SZ_2M - 1), va1g = (VA & ~(SZ_1G - 1)) + SZ_1G;
	paging(HW_PAGING_4LEVEL);
	map(va2m, 0x600000, PTB_2M, RWU);
	map(va1g, 0x40000000, PTB_1G, RWU);
	assert_walk(va2m + 0x1234, 0, 0x601234, 3, 0);
	/* No PDE-cache entry for a PDE that maps a page: the PDE is read. */
	assert_walk(va2m + 0x5678, 0, 0x605678, 1, 1);
	assert_walk(va2m + 0x5678, 0, 0x605678, 1, 1);
	/* Nor a PDPTE-cache entry for a 1 GiB page; the PML4E is shared. */
	assert_walk(va1g + 0x123, 0, 0x40000123, 1, 1);
	assert_walk(va1g + 0x456, 0, 0x40000456, 1, 1);
}

static void pae_has_only_a_pde_cache(void **state)
{
	paging(HW_PAGING_PAE);
	map(VA32, PA, PTB_4K, RWU);
	map(VA32 + 0x1000, PA + 0x1000, PTB_4K, RWU);
	map(VA32 + SZ_2M, PA + 0x2000, PTB_4K, RWU);	/* same PDPTE register */
	assert_walk(VA32, 0, PA, 2, 0);
	assert_walk(VA32 + 0x1000, 0, PA + 0x1000, 1, 1);
	/* The PDPTEs are registers, not cached entries: PDE and PTE read. */
	assert_walk(VA32 + SZ_2M, 0, PA + 0x2000, 2, 0);
}

static void pde_cache_of_32bit_paging_covers_4m(void **state)
{
	paging(HW_PAGING_32);
	map(VA32, PA, PTB_4K, RWU);
	map(VA32 + SZ_2M, PA + 0x1000, PTB_4K, RWU);	/* bits 31:22 equal */
	map(VA32 + 2 * SZ_2M, PA + 0x2000, PTB_4K, RWU);	/* next PDE */
	assert_walk(VA32, 0, PA, 2, 0);
	assert_walk(VA32 + SZ_2M, 0, PA + 0x1000, 1, 1);
	assert_walk(VA32 + 2 * SZ_2M, 0, PA + 0x2000, 2, 0);
}

static void hits_are_counted_once_per_walk(void **state)
{
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU);
	map(VA + 0x1000, PA + 0x1000, PTB_4K, RWU);
	map(VA + SZ_2M, PA + 0x2000, PTB_4K, RWU);
	struct hw_counters sum = { 0 };
	const uint64_t las[] = { VA, VA + 0x1000, VA + SZ_2M, VA + 0x1000, VA + SZ_2M };
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(walk(las[i], 0), HW_WALK_OK);
		sum.walk_refs += cnt.walk_refs;
		sum.walk_cache_hits += cnt.walk_cache_hits;
	}
	/* 4, then PDE hit 1, PDPTE hit 2, PDE hits 1 and 1. */
	assert_int_equal(sum.walk_refs, 4 + 1 + 2 + 1 + 1);
	assert_int_equal(sum.walk_cache_hits, 4);
}

/* ------------------------------------------------------------ contents */

static void rights_are_those_of_the_cached_entries(void **state)
{
	paging(HW_PAGING_4LEVEL);
	pg.wp = true;
	map(VA, PA, PTB_4K, RWU);
	map(VA + 0x1000, PA + 0x1000, PTB_4K, RWU);
	update(VA, 2, 0, PTE_RW);			/* the PDE: read-only */
	assert_walk(VA, 0, PA, 4, 0);
	/* R/W ANDed over PML4E, PDPTE and PDE, read from the PDE cache. */
	assert_pf(VA + 0x1000, HW_ACC_WRITE, PF_P | PF_W, 1, 1);
	assert_walk(VA, 0, PA, 4, 0);
	/* An entry may be used although memory changed (4.10.3.1) ... */
	update(VA, 2, PTE_RW, 0);
	assert_pf(VA + 0x1000, HW_ACC_WRITE, PF_P | PF_W, 1, 1);
	/* ... but the page fault dropped it: the access now succeeds. */
	assert_walk(VA + 0x1000, HW_ACC_WRITE, PA + 0x1000, 4, 0);
}

static void user_and_xd_bits_are_combined(void **state)
{
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU);
	map(VA + 0x1000, PA + 0x1000, PTB_4K, RWU);
	update(VA, 3, 0, PTE_US);			/* PDPTE: supervisor */
	update(VA, 4, PTE_XD, 0);			/* PML4E: execute-disable */
	assert_walk(VA, 0, PA, 4, 0);
	assert_pf(VA + 0x1000, HW_ACC_USER, PF_P | PF_U, 1, 1);
	assert_walk(VA, 0, PA, 4, 0);
	assert_pf(VA + 0x1000, HW_ACC_FETCH, PF_P | PF_I, 1, 1);
	assert_walk(VA, 0, PA, 4, 0);
	assert_walk(VA + 0x1000, 0, PA + 0x1000, 1, 1);
	assert_int_equal(w.rights & (HW_R_U | HW_R_W | HW_R_XD), HW_R_W | HW_R_XD);
}

static void cached_table_address_until_invalidated(void **state)
{
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU);
	map(VA + 0x1000, PA + 0x1000, PTB_4K, RWU);
	assert_walk(VA, 0, PA, 4, 0);
	/* Point the PDE at a new page table mapping VA + 4 KiB elsewhere. */
	const uint64_t pt = ptb_alloc(&b);
	ptb_write(&b, pt + 4 * 8, 8, (PA + 0x9000) | RWU);
	ptb_write(&b, ptb_entry_addr(&b, fmt, root, VA, 2), 8, pt | RWU | PTE_A);
	assert_walk(VA + 0x1000, 0, PA + 0x1000, 1, 1);	/* the old table */
	/* INVLPG of any address drops every entry of the PCID (4.10.4.1). */
	hw_psc_flush_tag(&psc, tag, ~0ull);
	assert_walk(VA + 0x1000, 0, PA + 0x9000, 4, 0);
}

/* ------------------------------------------------------------ creation */

static void faulting_walks_cache_nothing(void **state)
{
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU & ~PTE_US);
	map(VA + SZ_2M, PA + 0x1000, PTB_4K, RWU);
	update(VA + SZ_2M, 1, 1ull << 51, 0);		/* reserved (MAXPHYADDR 46) */
	/* Not present, a rights fault, a reserved bit: no flag is set ... */
	assert_pf(VA + 0x1000, 0, 0, 4, 0);
	assert_pf(VA, HW_ACC_USER, PF_P | PF_U, 4, 0);
	assert_pf(VA + SZ_2M, 0, PF_P | PF_RSVD, 4, 0);
	for (unsigned level = 2; level <= 4; level++)
		assert_false(entry(VA, level) & PTE_A);
	/* ... so no entry is cached (4.10.3.1: only from A = 1). */
	assert_walk(VA, 0, PA, 4, 0);
	/* A walk that succeeds sets the flags, then caches. */
	for (unsigned level = 1; level <= 4; level++)
		assert_true(entry(VA, level) & PTE_A);
	assert_walk(VA + 0x10, 0, PA + 0x10, 1, 1);
}

static void a_fault_drops_the_entries_for_its_address(void **state)
{
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU);
	map(VA + 0x1000, PA + 0x1000, PTB_4K, RWU);
	map(VA + SZ_512G, PA + 0x2000, PTB_4K, RWU);
	assert_walk(VA, 0, PA, 4, 0);
	assert_walk(VA + SZ_512G, 0, PA + 0x2000, 4, 0);
	assert_pf(VA + 0x2000, 0, 0, 1, 1);		/* PTE not present */
	/* PDE, PDPTE and PML4 entries for VA's prefixes are gone ... */
	assert_walk(VA + 0x1000, 0, PA + 0x1000, 4, 0);
	/* ... and only those. */
	assert_walk(VA + SZ_512G + 8, 0, PA + 0x2008, 1, 1);
}

static void tags_separate_address_spaces(void **state)
{
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU);
	map(VA + 0x1000, PA + 0x1000, PTB_4K, RWU);
	assert_walk(VA, 0, PA, 4, 0);
	const uint64_t others[] = { T(0, 1, 5), T(0, 2, 0), T(0x123000, 1, 0) };
	for (unsigned i = 0; i < 3; i++) {
		tag = others[i];		/* PCID, VPID/ASID, EP4TA */
		assert_walk(VA + 0x1000, 0, PA + 0x1000, 4, 0);
	}
	tag = T(0, 1, 0);
	assert_walk(VA + 0x1000, 0, PA + 0x1000, 1, 1);
	/* The same tag and prefix in another paging mode: VA32's PDE-cache
	 * prefix (la >> 21) is 2 under 4-level and PAE paging alike, but a
	 * 4-level entry is no PAE entry. */
	map(VA32, PA, PTB_4K, RWU);
	assert_walk(VA32, 0, PA, 4, 0);
	assert_walk(VA32, 0, PA, 1, 1);
	pg.mode = HW_PAGING_PAE;
	memset(pg.pdpte, 0, sizeof(pg.pdpte));		/* nothing present */
	assert_pf(VA32, 0, 0, 0, 0);
}

static void replacement_is_first_in_first_out(void **state)
{
	paging(HW_PAGING_4LEVEL);
	const uint64_t base = VA & ~(SZ_1G - 1);
	for (unsigned i = 0; i <= ENTRIES; i++) {
		map(base + i * SZ_2M, PA + i * 0x2000, PTB_4K, RWU);
		map(base + i * SZ_2M + 0x1000, PA + i * 0x2000 + 0x1000, PTB_4K, RWU);
	}
	assert_walk(base, 0, PA, 4, 0);
	for (unsigned i = 1; i <= ENTRIES; i++) {
		assert_walk(base + i * SZ_2M, 0, PA + i * 0x2000, 2, 1);
		/* Hits do not keep region 0's entry: it goes first anyway. */
		assert_walk(base + 0x1000, 0, PA + 0x1000, i < ENTRIES ? 1 : 2, 1);
	}
}

static void zero_entries_means_no_caches(void **state)
{
	struct hw_psc none;
	assert_int_equal(hw_psc_init(&none, HW_PSC_MAX_ENTRIES + 1), -EINVAL);
	assert_int_equal(hw_psc_init(&none, 0), 0);
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU);
	for (unsigned i = 0; i < 2; i++) {
		memset(&cnt, 0, sizeof(cnt));
		assert_int_equal(hw_walk_cached(m, &pg, &nst, &none, tag, VA, 0, &w, &cnt),
				 HW_WALK_OK);
		assert_int_equal(cnt.walk_refs, 4);
		assert_int_equal(cnt.walk_cache_hits, 0);
	}
	hw_psc_free(&none);
	/* hw_walk() is the walk without caches. */
	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(hw_walk(m, &pg, &nst, VA, 0, &w, &cnt), HW_WALK_OK);
	assert_int_equal(cnt.walk_refs, 4);
}

/* ------------------------------------------------------------ 2-D walks */

static void ept_combined_entry_skips_the_tables_ept_walk(void **state)
{
	nested(HW_NESTED_EPT);
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU);
	map(VA + 0x1000, PA + 0x1000, PTB_4K, RWU);
	map(VA + SZ_2M, PA + 0x2000, PTB_4K, RWU);
	assert_walk(VA, 0, PA, 24, 0);
	assert_int_equal(cnt.walk_refs_2d, 20);
	/* The PTE at the cached host-physical address, then the data's
	 * EPT walk (Vol. 3C 29.4.1, combined paging-structure-cache entry). */
	assert_walk(VA + 0x1000, 0, PA + 0x1000, 1 + 4, 1);
	assert_int_equal(cnt.walk_refs_2d, 4);
	/* PDPTE hit: the PDE directly, the page table behind its EPT walk. */
	assert_walk(VA + SZ_2M, 0, PA + 0x2000, 1 + (4 + 1) + 4, 1);
	assert_int_equal(cnt.walk_refs_2d, 8);
}

static void npt_entries_hold_the_guest_side_only(void **state)
{
	nested(HW_NESTED_NPT);
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU);
	map(VA + 0x1000, PA + 0x1000, PTB_4K, RWU);
	assert_walk(VA, 0, PA, 24, 0);
	/* The page table's nested walk is made: 4 + 1, and the data's 4. */
	assert_walk(VA + 0x1000, 0, PA + 0x1000, 4 + 1 + 4, 1);
	assert_int_equal(cnt.walk_refs_2d, 8);
}

static void ept_rights_of_the_table_page_are_cached(void **state)
{
	nested(HW_NESTED_EPT);
	paging(HW_PAGING_4LEVEL);
	map(VA, PA, PTB_4K, RWU | PTE_A);
	map(VA + 0x1000, PA + 0x1000, PTB_4K, RWU);
	const uint64_t pte = ptb_entry_addr(&b, fmt, root, VA + 0x1000, 1);
	nupdate(pte, 0, EPT_W);			/* the guest PT page: read-only */
	assert_walk(VA, 0, PA, 24, 0);		/* nothing to write in the PT */
	/* Setting the neighbour's A flag writes the PT page: the combined
	 * entry knows EPT does not allow it, and the violation is the one
	 * a full walk would report (Table 28-7). */
	assert_int_equal(walk(VA + 0x1000, 0), HW_WALK_EPT_VIOLATION);
	assert_int_equal(w.qual, Q_W | Q_RD_OK | Q_EX_OK | Q_GLA);
	assert_int_equal(w.fault_gpa, pte);
	assert_int_equal(cnt.walk_refs, 1);
	assert_int_equal(cnt.walk_cache_hits, 1);
	/* The EPT violation dropped the combined entries for the address
	 * (Vol. 3C 29.4.3.1). */
	assert_walk(VA, 0, PA, 24, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T_(neighbour_in_the_same_2m_region),
		T_(a_walk_starts_at_the_lowest_cached_level),
		T_(large_pages_cache_only_the_levels_above),
		T_(pae_has_only_a_pde_cache),
		T_(pde_cache_of_32bit_paging_covers_4m),
		T_(hits_are_counted_once_per_walk),
		T_(rights_are_those_of_the_cached_entries),
		T_(user_and_xd_bits_are_combined),
		T_(cached_table_address_until_invalidated),
		T_(faulting_walks_cache_nothing),
		T_(a_fault_drops_the_entries_for_its_address),
		T_(tags_separate_address_spaces),
		T_(replacement_is_first_in_first_out),
		T_(zero_entries_means_no_caches),
		T_(ept_combined_entry_skips_the_tables_ept_walk),
		T_(npt_entries_hold_the_guest_side_only),
		T_(ept_rights_of_the_table_page_are_cached),
#undef T_
	};
	return cmocka_run_group_tests_name("hw_psc", tests, NULL, NULL);
}
