/*
 * test_hw_walk_2d.c — the two-dimensional walk (hw/walk.c over
 * hw/walk_nested.c): guest paging over EPT (SDM Vol. 3C 29.3: violations
 * and their exit qualification, Table 28-7; misconfigurations, 29.3.3.1;
 * EPT accessed/dirty flags, 29.3.5) and over AMD nested paging (APM Vol. 2
 * 15.25.5-15.25.6: user-level nested accesses, guest table walks as user
 * writes, EXITINFO1), and what a 2-D walk costs in memory references.
 *
 * Layout: guest-physical [0, 16 MiB) is host-physical GUEST_HPA + gpa
 * (or the same address under a 1 GiB nested page), guest page tables at
 * gpa 1 MiB.., nested tables at hpa 160 MiB.., and the guest maps GVA to
 * the data page DATA.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/dcode.h"
#include "hw/hw.h"
#include "hw/walk.h"
#include "tests/support/pt_builder.h"

/* EPT violation exit qualification (SDM Vol. 3C Table 28-7). */
#define Q_R	0x001ull	/* data read */
#define Q_W	0x002ull	/* data write */
#define Q_X	0x004ull	/* instruction fetch */
#define Q_RD_OK	0x008ull	/* the gpa was readable */
#define Q_WR_OK	0x010ull	/* ... writable */
#define Q_EX_OK	0x020ull	/* ... executable */
#define Q_GLA	0x080ull	/* guest linear address valid */
#define Q_FINAL	0x100ull	/* access to the translation, not a paging entry */

/* NPF EXITINFO1 (APM Vol. 2 15.25.6). */
#define NPF_P	0x01ull
#define NPF_RW	0x02ull
#define NPF_US	0x04ull
#define NPF_RSV	0x08ull
#define NPF_ID	0x10ull
#define NPF_FINAL (1ull << 32)
#define NPF_PT	(1ull << 33)

#define GUEST_SIZE	0x01000000ull	/* 16 MiB of guest-physical memory */
#define GUEST_HPA	0x04000000ull	/* ... at 64 MiB host-physical */
#define GTABLES		0x00100000ull	/* guest tables, gpa */
#define GTABLES_END	0x00800000ull
#define NTABLES		0x0a000000ull	/* nested tables, hpa */
#define NTABLES_END	0x0c800000ull
#define GVA		0x00007f0000403000ull
#define DATA		0x00a03000ull	/* the gpa GVA maps to */

static struct hw_machine *m;
static struct ptb gb, nb;		/* guest tables, nested tables */
static enum ptb_fmt gfmt, nfmt;
static uint64_t groot, nroot, guest_hpa, gsize;
static struct hw_paging pg;
static struct hw_nested nst;
static struct hw_counters cnt;
static struct hw_walk w;

static int setup(void **state)
{
	struct hw_machine_config cfg;
	hw_machine_config_default(&cfg, HW_VENDOR_INTEL);
	if (hw_machine_create(&cfg, &m))
		return -1;
	memset(&pg, 0, sizeof(pg));
	memset(&nst, 0, sizeof(nst));
	memset(&cnt, 0, sizeof(cnt));
	pg.maxphyaddr = 46;
	return 0;
}

static int teardown(void **state)
{
	hw_machine_destroy(m);
	return 0;
}

static void *arena(void)
{
	return hw_hpa_ptr(m, 0, hw_arena_size(m));
}

/* Nested tables mapping all of guest memory with @size pages. */
static void nested(enum hw_nested_kind kind, uint64_t size)
{
	nfmt = kind == HW_NESTED_EPT ? PTB_EPT : PTB_64;
	ptb_init(&nb, arena(), hw_arena_size(m), 0, NTABLES, NTABLES_END);
	nroot = ptb_root(&nb, nfmt);
	guest_hpa = size == PTB_1G ? 0 : GUEST_HPA;
	const uint64_t flags = kind == HW_NESTED_EPT ? EPT_R | EPT_W | EPT_X | EPT_MT_WB :
						       PTE_P | PTE_RW | PTE_US;
	const uint64_t len = size > GUEST_SIZE ? size : GUEST_SIZE;
	assert_int_equal(ptb_map_range(&nb, nfmt, nroot, 0, guest_hpa, len, size, flags), 0);
	nst = (struct hw_nested){ .kind = kind, .root = nroot, .maxphyaddr = 46,
				  .npt_nxe = true };
}

/* A guest address space mapping GVA to DATA with @size pages. */
static void guest(enum hw_paging_mode mode, uint64_t size)
{
	gfmt = mode == HW_PAGING_32 ? PTB_32 : mode == HW_PAGING_PAE ? PTB_PAE : PTB_64;
	ptb_init(&gb, arena(), hw_arena_size(m), guest_hpa, GTABLES, GTABLES_END);
	groot = ptb_root(&gb, gfmt);
	pg.mode = mode;
	pg.cr3 = groot;
	pg.nxe = true;
	pg.pse = true;
	gsize = size;
	const uint64_t va = mode == HW_PAGING_4LEVEL ? GVA : (uint32_t)GVA;
	assert_int_equal(ptb_map(&gb, gfmt, groot, va & ~(size - 1), DATA & ~(size - 1), size,
				 PTE_P | PTE_RW | PTE_US), 0);
	if (mode == HW_PAGING_PAE)
		ptb_pae_pdptes(&gb, groot, pg.pdpte);
}

static enum hw_walk_fault walk(uint64_t la, unsigned acc)
{
	memset(&cnt, 0, sizeof(cnt));
	return hw_walk(m, &pg, &nst, la, acc, &w, &cnt);
}

/* The gpa of the guest's level-@level entry for GVA, and of its page. */
static uint64_t gentry_gpa(unsigned level)
{
	return ptb_entry_addr(&gb, gfmt, groot, GVA, level);
}

static uint64_t gentry(unsigned level)
{
	return ptb_get(&gb, gfmt, groot, GVA, level);
}

static void gupdate(unsigned level, uint64_t set, uint64_t clear)
{
	assert_int_equal(ptb_update(&gb, gfmt, groot, GVA, level, set, clear), 0);
}

static uint64_t nentry(uint64_t gpa, unsigned level)
{
	return ptb_get(&nb, nfmt, nroot, gpa, level);
}

static void nupdate(uint64_t gpa, unsigned level, uint64_t set, uint64_t clear)
{
	assert_int_equal(ptb_update(&nb, nfmt, nroot, gpa, level, set, clear), 0);
}

static void assert_ok(uint64_t la, unsigned acc, unsigned shift, unsigned nshift,
		      unsigned refs)
{
	/* GVA's page of gsize bytes maps DATA's. */
	const uint64_t gpa = (DATA & ~(gsize - 1)) | (la & (gsize - 1));
	assert_int_equal(walk(la, acc), HW_WALK_OK);
	assert_int_equal(w.gpa, gpa);
	assert_int_equal(w.hpa, guest_hpa + gpa);
	assert_int_equal(w.page_shift, shift);
	assert_int_equal(w.nested_shift, nshift);
	assert_int_equal(cnt.walk_refs, refs);
}

static void assert_nested_fault(uint64_t la, unsigned acc, enum hw_walk_fault f,
				uint64_t qual, uint64_t gpa)
{
	assert_int_equal(walk(la, acc), f);
	assert_int_equal(w.qual, qual);
	assert_int_equal(w.fault_gpa, gpa);
}

/* ------------------------------------------------------------ cost */

static void ept_cold_walk_is_24_refs(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	/* 4 guest entries each behind a 4-reference EPT walk, the 4 guest
	 * reads, and the final EPT walk: 4*4 + 4 + 4. */
	assert_ok(GVA + 0x123, 0, 12, 12, 24);
	assert_int_equal(cnt.walk_refs_2d, 20);
	/* No paging-structure caches: the next walk costs the same. */
	assert_ok(GVA + 0x456, HW_ACC_WRITE, 12, 12, 24);
	for (unsigned level = 1; level <= 4; level++)
		assert_true(gentry(level) & PTE_A);
	assert_true(gentry(1) & PTE_D);
}

static void large_pages_cost_less(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_2M);	/* 3*4 + 3 + 4 */
	assert_ok(GVA, 0, 21, 12, 19);
	nested(HW_NESTED_EPT, PTB_2M);
	guest(HW_PAGING_4LEVEL, PTB_4K);	/* 4*3 + 4 + 3 */
	assert_ok(GVA, 0, 12, 21, 19);
	nested(HW_NESTED_NPT, PTB_1G);
	guest(HW_PAGING_4LEVEL, PTB_4K);	/* 4*2 + 4 + 2 */
	assert_ok(GVA, 0, 12, 30, 14);
	assert_int_equal(cnt.walk_refs_2d, 10);
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_1G);	/* 2*4 + 2 + 4 */
	assert_ok(GVA, 0, 30, 12, 14);
}

static void legacy_guests_over_ept(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	/* PAE: the PDPTEs are registers; PDE and PTE each cost 1 + 4. */
	guest(HW_PAGING_PAE, PTB_4K);
	assert_ok((uint32_t)GVA, 0, 12, 12, 14);
	guest(HW_PAGING_32, PTB_4K);
	assert_ok((uint32_t)GVA, 0, 12, 12, 14);
	guest(HW_PAGING_32, PTB_4M);
	assert_ok((uint32_t)GVA, 0, 22, 12, 9);
	/* Paging off: only the final EPT walk. */
	pg.mode = HW_PAGING_NONE;
	assert_int_equal(walk(DATA + 5, HW_ACC_WRITE), HW_WALK_OK);
	assert_int_equal(w.hpa, GUEST_HPA + DATA + 5);
	assert_int_equal(cnt.walk_refs, 4);
	assert_int_equal(cnt.walk_refs_2d, 4);
	nupdate(DATA, 1, 0, EPT_R | EPT_W | EPT_X);
	assert_nested_fault(DATA + 5, 0, HW_WALK_EPT_VIOLATION, Q_R | Q_GLA | Q_FINAL, DATA + 5);
}

/* ------------------------------------------------------------ EPT violations */

static void ept_violation_final(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	nupdate(DATA, 1, 0, EPT_R | EPT_W | EPT_X);
	assert_nested_fault(GVA + 8, 0, HW_WALK_EPT_VIOLATION, Q_R | Q_GLA | Q_FINAL, DATA + 8);
	assert_nested_fault(GVA + 8, HW_ACC_WRITE, HW_WALK_EPT_VIOLATION,
			    Q_W | Q_GLA | Q_FINAL, DATA + 8);
	assert_nested_fault(GVA + 8, HW_ACC_FETCH, HW_WALK_EPT_VIOLATION,
			    Q_X | Q_GLA | Q_FINAL, DATA + 8);
	/* A faulting access sets no guest flags. */
	for (unsigned level = 1; level <= 4; level++)
		assert_false(gentry(level) & PTE_A);
	/* Not present with other bits set is still not present. */
	nupdate(DATA, 1, EPT_MT(7) | (1ull << 46), 0);
	assert_nested_fault(GVA, 0, HW_WALK_EPT_VIOLATION, Q_R | Q_GLA | Q_FINAL, DATA);
}

static void ept_violation_paging_structure(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	const uint64_t pte = gentry_gpa(1);
	nupdate(pte, 1, 0, EPT_R | EPT_W | EPT_X);
	/* Bit 7 set, bit 8 clear; the address is the guest PTE's. */
	assert_nested_fault(GVA, HW_ACC_WRITE, HW_WALK_EPT_VIOLATION, Q_R | Q_GLA, pte);
	assert_int_equal(cnt.walk_refs, 3 * 5 + 4);
}

static void ept_violation_rights(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	nupdate(DATA, 1, 0, EPT_W | EPT_X);		/* read-only */
	assert_nested_fault(GVA, HW_ACC_WRITE, HW_WALK_EPT_VIOLATION,
			    Q_W | Q_RD_OK | Q_GLA | Q_FINAL, DATA);
	assert_nested_fault(GVA, HW_ACC_FETCH, HW_WALK_EPT_VIOLATION,
			    Q_X | Q_RD_OK | Q_GLA | Q_FINAL, DATA);
	assert_int_equal(walk(GVA, 0), HW_WALK_OK);
	assert_int_equal(w.rights & (HW_R_NR | HW_R_NW | HW_R_NX), HW_R_NW | HW_R_NX);
	/* Bits 5:3 are the AND over the path: W = 0 in the PDE only. */
	nupdate(DATA, 1, EPT_W | EPT_X, 0);
	nupdate(DATA, 2, 0, EPT_W);
	assert_nested_fault(GVA, HW_ACC_WRITE, HW_WALK_EPT_VIOLATION,
			    Q_W | Q_RD_OK | Q_EX_OK | Q_GLA | Q_FINAL, DATA);
	nupdate(DATA, 2, EPT_W, 0);
	assert_int_equal(walk(GVA, HW_ACC_WRITE), HW_WALK_OK);
	assert_int_equal(w.rights & (HW_R_NR | HW_R_NW | HW_R_NX), 0);
}

static void ept_guest_ad_update_is_a_write(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	const uint64_t pte = gentry_gpa(1);
	nupdate(pte, 1, 0, EPT_W);		/* the guest PT page is read-only */
	/* Reading the PTE is fine; setting its A flag is a write. */
	assert_nested_fault(GVA, 0, HW_WALK_EPT_VIOLATION, Q_W | Q_RD_OK | Q_EX_OK | Q_GLA, pte);
	for (unsigned level = 1; level <= 4; level++)
		assert_false(gentry(level) & PTE_A);
	gupdate(1, PTE_A, 0);
	assert_int_equal(walk(GVA, 0), HW_WALK_OK);
	assert_nested_fault(GVA, HW_ACC_WRITE, HW_WALK_EPT_VIOLATION,
			    Q_W | Q_RD_OK | Q_EX_OK | Q_GLA, pte);
	gupdate(1, PTE_D, 0);
	assert_int_equal(walk(GVA, HW_ACC_WRITE), HW_WALK_OK);
}

static void ept_ad_makes_paging_reads_writes(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	nst.ept_ad = true;
	const uint64_t pte = gentry_gpa(1);
	nupdate(pte, 1, 0, EPT_W);
	gupdate(1, PTE_A | PTE_D, 0);		/* nothing for the guest to update */
	/* Treated as a write: both bit 0 and bit 1 (Table 28-7, note 1). */
	assert_nested_fault(GVA, 0, HW_WALK_EPT_VIOLATION,
			    Q_R | Q_W | Q_RD_OK | Q_EX_OK | Q_GLA, pte);
}

static void ept_accessed_dirty(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	const uint64_t pt_page = gentry_gpa(1) & ~0xfffull;
	/* Without EPTP A/D the EPT entries are never written. */
	assert_int_equal(walk(GVA, HW_ACC_WRITE), HW_WALK_OK);
	assert_true(w.rights & HW_R_DIRTY);
	for (unsigned level = 1; level <= 4; level++)
		assert_int_equal(nentry(DATA, level) & (EPT_A | EPT_D), 0);

	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	nst.ept_ad = true;
	gupdate(1, PTE_D, 0);			/* the guest's page is dirty */
	assert_int_equal(walk(GVA, 0), HW_WALK_OK);
	for (unsigned level = 1; level <= 4; level++)
		assert_true(nentry(DATA, level) & EPT_A);
	assert_false(nentry(DATA, 1) & EPT_D);
	assert_false(nentry(DATA, 2) & EPT_D);
	/* Guest paging-structure accesses are writes: D on their pages. */
	assert_true(nentry(pt_page, 1) & EPT_D);
	/* EPT D is clear: a write through this translation must walk. */
	assert_false(w.rights & HW_R_DIRTY);
	assert_int_equal(walk(GVA, HW_ACC_WRITE), HW_WALK_OK);
	assert_true(nentry(DATA, 1) & EPT_D);
	assert_true(w.rights & HW_R_DIRTY);
	assert_int_equal(walk(GVA, 0), HW_WALK_OK);
	assert_true(w.rights & HW_R_DIRTY);
}

static void ept_misconfig_final(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	static const struct { unsigned level; uint64_t set, clear; } bad[] = {
		{ 1, 0, EPT_R | EPT_X },	/* write-only */
		{ 1, 0, EPT_R },		/* write + execute without read */
		{ 1, 0, EPT_R | EPT_W },	/* execute-only, not supported */
		{ 1, 1ull << 46, 0 },		/* above MAXPHYADDR */
		{ 2, 1ull << 51, 0 },
		{ 4, 1ull << 7, 0 },		/* bit 7 of a PML4E */
		{ 4, 1ull << 3, 0 },		/* bits 7:3 of a PML4E */
		{ 3, 1ull << 6, 0 },		/* bits 6:3 of a non-leaf PDPTE */
		{ 2, 1ull << 4, 0 },		/* ... and PDE */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* The PML4E and PDPTE also map the guest's tables: the walk
		 * meets them first, reading the guest PML4E. */
		const uint64_t gpa = bad[i].level >= 3 ? gentry_gpa(4) : DATA + 4;
		nupdate(DATA, bad[i].level, bad[i].set, bad[i].clear);
		assert_nested_fault(GVA + 4, 0, HW_WALK_EPT_MISCONFIG, 0, gpa);
		nupdate(DATA, bad[i].level, bad[i].clear, bad[i].set);
		assert_int_equal(walk(GVA, 0), HW_WALK_OK);
	}
	/* Memory types 2, 3 and 7 are reserved in a leaf (29.3.7). */
	for (unsigned mt = 0; mt < 8; mt++) {
		nupdate(DATA, 1, EPT_MT(mt), EPT_MT(7));
		const bool bad_mt = mt == 2 || mt == 3 || mt == 7;
		assert_int_equal(walk(GVA, 0), bad_mt ? HW_WALK_EPT_MISCONFIG : HW_WALK_OK);
	}
	/* Bits 63:52 are not reserved (ignored, suppress #VE). */
	nupdate(DATA, 1, EPT_MT_WB | 1ull << 52 | 1ull << 63, EPT_MT(7));
	assert_int_equal(walk(GVA, 0), HW_WALK_OK);
	/* Execute-only with the capability: a fetch works, a read does not. */
	nst.ept_x_only = true;
	nupdate(DATA, 1, 0, EPT_R | EPT_W);
	assert_int_equal(walk(GVA, HW_ACC_FETCH), HW_WALK_OK);
	assert_int_equal(w.rights & (HW_R_NR | HW_R_NW | HW_R_NX), HW_R_NR | HW_R_NW);
	assert_nested_fault(GVA, 0, HW_WALK_EPT_VIOLATION, Q_R | Q_EX_OK | Q_GLA | Q_FINAL, DATA);
}

static void ept_misconfig_large_and_paging(void **state)
{
	nested(HW_NESTED_EPT, PTB_2M);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	for (unsigned bit = 12; bit <= 20; bit += 8) {
		nupdate(DATA, 2, 1ull << bit, 0);
		assert_nested_fault(GVA, 0, HW_WALK_EPT_MISCONFIG, 0, DATA);
		nupdate(DATA, 2, 0, 1ull << bit);
	}
	nested(HW_NESTED_EPT, PTB_1G);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	for (unsigned bit = 12; bit <= 29; bit += 17) {
		/* One 1 GiB page holds the guest's tables too. */
		nupdate(DATA, 3, 1ull << bit, 0);
		assert_nested_fault(GVA, 0, HW_WALK_EPT_MISCONFIG, 0, gentry_gpa(4));
		nupdate(DATA, 3, 0, 1ull << bit);
	}
	/* A misconfigured entry on the way to a guest paging structure. */
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	const uint64_t pde = gentry_gpa(2);
	nupdate(pde, 1, EPT_MT(7), EPT_MT(7));
	assert_nested_fault(GVA, 0, HW_WALK_EPT_MISCONFIG, 0, pde);
}

static void ept_walk_gpa(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(hw_walk_gpa(m, &nst, DATA + 0x10, 0, &w, &cnt), HW_WALK_OK);
	assert_int_equal(w.hpa, GUEST_HPA + DATA + 0x10);
	assert_int_equal(w.nested_shift, 12);
	assert_int_equal(cnt.walk_refs, 4);
	assert_int_equal(cnt.walk_refs_2d, 4);
	/* No linear address: bits 7 and 8 clear. */
	nupdate(DATA, 1, 0, EPT_W);
	assert_int_equal(hw_walk_gpa(m, &nst, DATA + 0x10, HW_ACC_WRITE, &w, &cnt),
			 HW_WALK_EPT_VIOLATION);
	assert_int_equal(w.qual, Q_W | Q_RD_OK | Q_EX_OK);
	assert_int_equal(w.fault_gpa, DATA + 0x10);
	/* Without nesting it is the identity, for free. */
	const struct hw_nested none = { .kind = HW_NESTED_NONE };
	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(hw_walk_gpa(m, &none, 0x12345, HW_ACC_WRITE, &w, &cnt), HW_WALK_OK);
	assert_int_equal(w.hpa, 0x12345);
	assert_int_equal(cnt.walk_refs, 0);
	assert_true(w.rights & HW_R_DIRTY);
}

static void ept_out_of_arena(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	/* An EPT PML4 beyond the arena reads as all ones: bits 7:3 set. */
	nst.root = hw_arena_size(m) + 0x100000;
	assert_nested_fault(GVA, 0, HW_WALK_EPT_MISCONFIG, 0, gentry_gpa(4));
	assert_int_equal(cnt.walk_refs, 1);
}

/* ------------------------------------------------------------ NPT */

static void npt_cold_walk_is_24_refs(void **state)
{
	nested(HW_NESTED_NPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	assert_ok(GVA + 0x77, HW_ACC_WRITE, 12, 12, 24);
	assert_int_equal(cnt.walk_refs_2d, 20);
	nested(HW_NESTED_NPT, PTB_2M);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	assert_ok(GVA, 0, 12, 21, 19);
}

static void npt_user_bit_required(void **state)
{
	nested(HW_NESTED_NPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	nupdate(DATA, 2, 0, PTE_US);
	assert_nested_fault(GVA + 1, 0, HW_WALK_NPF, NPF_P | NPF_US | NPF_FINAL, DATA + 1);
	assert_nested_fault(GVA + 1, HW_ACC_WRITE, HW_WALK_NPF,
			    NPF_P | NPF_RW | NPF_US | NPF_FINAL, DATA + 1);
	nupdate(DATA, 2, PTE_US, 0);
	const uint64_t pte = gentry_gpa(1);
	nupdate(pte, 1, 0, PTE_US);
	/* A guest table access is a user write, even for a read. */
	assert_nested_fault(GVA, 0, HW_WALK_NPF, NPF_P | NPF_RW | NPF_US | NPF_PT, pte);
}

static void npt_faults(void **state)
{
	nested(HW_NESTED_NPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	/* Not present. */
	nupdate(DATA, 1, 0, PTE_P);
	assert_nested_fault(GVA, 0, HW_WALK_NPF, NPF_US | NPF_FINAL, DATA);
	assert_nested_fault(GVA, HW_ACC_WRITE, HW_WALK_NPF, NPF_RW | NPF_US | NPF_FINAL, DATA);
	assert_nested_fault(GVA, HW_ACC_FETCH, HW_WALK_NPF, NPF_ID | NPF_US | NPF_FINAL, DATA);
	nupdate(DATA, 1, PTE_P, 0);
	const uint64_t pde = gentry_gpa(2);
	nupdate(pde, 1, 0, PTE_P);
	assert_nested_fault(GVA, 0, HW_WALK_NPF, NPF_RW | NPF_US | NPF_PT, pde);
	nupdate(pde, 1, PTE_P, 0);
	/* Reserved bits. */
	nupdate(DATA, 1, 1ull << 46, 0);
	assert_nested_fault(GVA, 0, HW_WALK_NPF, NPF_P | NPF_RSV | NPF_US | NPF_FINAL, DATA);
	nupdate(DATA, 1, 0, 1ull << 46);
	nupdate(DATA, 4, PTE_PS, 0);		/* every access goes this way */
	assert_nested_fault(GVA, 0, HW_WALK_NPF, NPF_P | NPF_RSV | NPF_RW | NPF_US | NPF_PT,
			    gentry_gpa(4));
	nupdate(DATA, 4, 0, PTE_PS);
	/* Protection. */
	nupdate(DATA, 1, 0, PTE_RW);
	assert_nested_fault(GVA, HW_ACC_WRITE, HW_WALK_NPF,
			    NPF_P | NPF_RW | NPF_US | NPF_FINAL, DATA);
	assert_int_equal(walk(GVA, 0), HW_WALK_OK);
	assert_int_equal(w.rights & (HW_R_NR | HW_R_NW | HW_R_NX), HW_R_NW);
	nupdate(DATA, 1, PTE_RW | PTE_XD, 0);
	assert_nested_fault(GVA, HW_ACC_FETCH, HW_WALK_NPF,
			    NPF_P | NPF_ID | NPF_US | NPF_FINAL, DATA);
	assert_int_equal(walk(GVA, HW_ACC_WRITE), HW_WALK_OK);
	assert_int_equal(w.rights & (HW_R_NR | HW_R_NW | HW_R_NX), HW_R_NX);
	/* Without the host's EFER.NXE, NX is a reserved bit, and I/D is
	 * not reported (it is defined only with NXE, APM Vol. 2 8.4.2). */
	nst.npt_nxe = false;
	assert_nested_fault(GVA, 0, HW_WALK_NPF, NPF_P | NPF_RSV | NPF_US | NPF_FINAL, DATA);
	assert_nested_fault(GVA, HW_ACC_FETCH, HW_WALK_NPF,
			    NPF_P | NPF_RSV | NPF_US | NPF_FINAL, DATA);
	/* A guest table page the nested tables make read-only. */
	nst.npt_nxe = true;
	nupdate(DATA, 1, 0, PTE_XD);
	nupdate(pde, 1, 0, PTE_RW);
	assert_nested_fault(GVA, 0, HW_WALK_NPF, NPF_P | NPF_RW | NPF_US | NPF_PT, pde);
}

static void npt_accessed_dirty(void **state)
{
	nested(HW_NESTED_NPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	const uint64_t pt_page = gentry_gpa(1) & ~0xfffull;
	gupdate(1, PTE_D, 0);
	assert_int_equal(walk(GVA, 0), HW_WALK_OK);
	for (unsigned level = 1; level <= 4; level++)
		assert_true(nentry(DATA, level) & PTE_A);
	assert_false(nentry(DATA, 1) & PTE_D);
	assert_true(nentry(pt_page, 1) & PTE_D);	/* guest table walks write */
	assert_false(w.rights & HW_R_DIRTY);		/* nested D still clear */
	assert_int_equal(walk(GVA, HW_ACC_WRITE), HW_WALK_OK);
	assert_true(nentry(DATA, 1) & PTE_D);
	assert_false(nentry(DATA, 2) & PTE_D);
	assert_true(w.rights & HW_R_DIRTY);
	/* A faulting access leaves the data page's nested flags alone. */
	nested(HW_NESTED_NPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	nupdate(DATA, 1, 0, PTE_RW);
	assert_int_equal(walk(GVA, HW_ACC_WRITE), HW_WALK_NPF);
	assert_false(nentry(DATA, 1) & (PTE_A | PTE_D));
	assert_false(gentry(1) & PTE_A);
}

static void npt_walk_gpa_and_out_of_arena(void **state)
{
	nested(HW_NESTED_NPT, PTB_4K);
	nupdate(DATA, 1, 0, PTE_P);
	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(hw_walk_gpa(m, &nst, DATA + 3, 0, &w, &cnt), HW_WALK_NPF);
	assert_int_equal(w.qual, NPF_US | NPF_FINAL);
	assert_int_equal(w.fault_gpa, DATA + 3);
	assert_int_equal(cnt.walk_refs_2d, 4);

	guest(HW_PAGING_4LEVEL, PTB_4K);
	/* nCR3 beyond the arena: an all-ones PML4E has PS set. */
	nst.root = hw_arena_size(m) + 0x200000;
	assert_nested_fault(GVA, 0, HW_WALK_NPF, NPF_P | NPF_RSV | NPF_RW | NPF_US | NPF_PT,
			    gentry_gpa(4));
}

static void ad_updates_drop_decoded_code(void **state)
{
	nested(HW_NESTED_EPT, PTB_4K);
	guest(HW_PAGING_4LEVEL, PTB_4K);
	nst.ept_ad = true;
	const uint64_t guest_pt = (GUEST_HPA + gentry_gpa(1)) >> 12;
	const uint64_t ept_pt = ptb_entry_addr(&nb, nfmt, nroot, DATA, 1) >> 12;
	hw_mark_code_page(m, guest_pt);
	hw_mark_code_page(m, ept_pt);
	assert_int_equal(walk(GVA, 0), HW_WALK_OK);
	assert_false(hw_is_code_page(m, guest_pt));
	assert_false(hw_is_code_page(m, ept_pt));
}

/*
 * An entry that changes under the walk makes it start over. Here the
 * guest PML4E for GVA2 doubles as the EPT PTE that maps the guest's PDPT
 * page (the EPT PDE of guest-physical [0, 2 MiB) points at the guest
 * PML4 page, identity-mapped), so setting EPT A/D on that PTE during the
 * walk changes the guest PML4E after the walk read it: the guest A-flag
 * update sees bits other than A/D changed and the walk runs again.
 */
static void changed_entry_restarts_the_walk(void **state)
{
	const uint64_t gva2 = 0xffff808000403000ull;	/* PML4 index 257 */
	ptb_init(&nb, arena(), hw_arena_size(m), 0, NTABLES, NTABLES_END);
	nfmt = PTB_EPT;
	nroot = ptb_root(&nb, nfmt);
	assert_int_equal(ptb_map_range(&nb, nfmt, nroot, 0, 0, GUEST_SIZE, PTB_4K,
				       EPT_R | EPT_W | EPT_X | EPT_MT_WB), 0);
	nst = (struct hw_nested){ .kind = HW_NESTED_EPT, .root = nroot, .ept_ad = true,
				  .maxphyaddr = 46 };
	ptb_init(&gb, arena(), hw_arena_size(m), 0, GTABLES, GTABLES_END);
	gfmt = PTB_64;
	groot = ptb_root(&gb, gfmt);
	assert_int_equal(ptb_map(&gb, gfmt, groot, gva2, DATA, PTB_4K, PTE_P | PTE_RW | PTE_US), 0);
	/* PML4 at 0x100000, PDPT at 0x101000 (index 257), PD, PT after. */
	assert_int_equal(groot, 0x100000);
	assert_int_equal(ptb_get(&gb, gfmt, groot, gva2, 4), 0x101000 | PTE_P | PTE_RW | PTE_US);
	for (unsigned i = 0; i < 4; i++)
		if (i != 1)		/* 257 is the guest's PML4E itself */
			ptb_write(&gb, groot + (256 + i) * 8, 8,
				  (0x100000 + i * 0x1000ull) | EPT_R | EPT_W | EPT_X);
	ptb_write(&nb, ptb_entry_addr(&nb, nfmt, nroot, 0, 2), 8,
		  groot | EPT_R | EPT_W | EPT_X);
	pg = (struct hw_paging){ .mode = HW_PAGING_4LEVEL, .cr3 = groot, .maxphyaddr = 46 };

	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(hw_walk(m, &pg, &nst, gva2, 0, &w, &cnt), HW_WALK_OK);
	assert_int_equal(w.hpa, DATA);
	assert_int_equal(cnt.walk_refs, 2 * 24);	/* the whole walk, twice */
	assert_int_equal(ptb_get(&gb, gfmt, groot, gva2, 4),
			 0x101000 | PTE_P | PTE_RW | PTE_US | PTE_A | EPT_A | EPT_D);
	/* Now nothing changes under it. */
	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(hw_walk(m, &pg, &nst, gva2, 0, &w, &cnt), HW_WALK_OK);
	assert_int_equal(cnt.walk_refs, 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(ept_cold_walk_is_24_refs),
		T(large_pages_cost_less),
		T(legacy_guests_over_ept),
		T(ept_violation_final),
		T(ept_violation_paging_structure),
		T(ept_violation_rights),
		T(ept_guest_ad_update_is_a_write),
		T(ept_ad_makes_paging_reads_writes),
		T(ept_accessed_dirty),
		T(ept_misconfig_final),
		T(ept_misconfig_large_and_paging),
		T(ept_walk_gpa),
		T(ept_out_of_arena),
		T(npt_cold_walk_is_24_refs),
		T(npt_user_bit_required),
		T(npt_faults),
		T(npt_accessed_dirty),
		T(npt_walk_gpa_and_out_of_arena),
		T(ad_updates_drop_decoded_code),
		T(changed_entry_restarts_the_walk),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
