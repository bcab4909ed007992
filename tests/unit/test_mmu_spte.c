/*
 * test_mmu_spte.c — shadow page-table entries (mmu/spte.h) against the
 * 4-level paging entry formats of SDM Vol. 3A 4.5 (Tables 4-15..4-20):
 * the architectural bits a leaf and a non-leaf carry, XD only with
 * EFER.NXE, PS only where it means a page, the frame number, the
 * writable decision table of the header, and that hvlab's own bits sit
 * in bits the processor ignores (11:9, 58:52; all but P when not present).
 *
 * Bit values are written here from the manual, not taken from the header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mmu/spte.h"

/* SDM Vol. 3A Table 4-20 (PTE) / 4-18 (2 MiB PDE) / 4-16 (1 GiB PDPTE). */
#define P	0x001ull
#define RW	0x002ull
#define US	0x004ull
#define A	0x020ull
#define D	0x040ull
#define PS	0x080ull
#define XD	0x8000000000000000ull
#define ADDR	0x000ffffffffff000ull	/* M-1:12 with MAXPHYADDR 52 */
#define IGNORED	0x07f0000000000e00ull	/* 58:52 and 11:9 */

/* The rights as the guest walker reports them (mmu/gwalk.h). */
#define W	GWALK_W
#define X	GWALK_X
#define U	GWALK_U

#define HPA	0x12345000ull
#define F_OK	(SPTE_F_DIRTY | SPTE_F_HOST_WRITABLE | SPTE_F_NXE)

static void test_leaf_bits(void **state)
{
	uint64_t s = spte_make(HPA, W | X | U, F_OK);

	assert_true(is_shadow_present_pte(s));
	assert_int_equal(s & (P | RW | US | A | D | PS | XD | ADDR), HPA | P | RW | US | A | D);
	assert_true(is_writable_pte(s));
	assert_true(is_accessed_spte(s) && is_dirty_spte(s));
	assert_false(is_large_pte(s));
	assert_int_equal(spte_to_pfn(s), 0x12345);
	assert_int_equal(spte_to_hpa(s), HPA);
	/* Supervisor-only: U/S clear (4.6.1: a supervisor-mode address). */
	s = spte_make(HPA, W | X, F_OK);
	assert_int_equal(s & US, 0);
}

/* XD is reserved without EFER.NXE (4.5): never set then. */
static void test_xd_needs_nxe(void **state)
{
	assert_int_equal(spte_make(HPA, W | U, F_OK) & XD, XD);
	assert_int_equal(spte_make(HPA, W | U | X, F_OK) & XD, 0);
	assert_int_equal(spte_make(HPA, W | U, F_OK & ~SPTE_F_NXE) & XD, 0);
	assert_int_equal(spte_make_nonleaf(HPA) & XD, 0);
}

/* The writable decision table of mmu/spte.h, row by row. */
static void test_writable_table(void **state)
{
	static const struct {
		unsigned acc, flags;
		bool rw, can_unprotect;
	} rows[] = {
		{ X | U, F_OK, false, false },				/* guest W = 0 */
		{ W | X | U, F_OK & ~SPTE_F_DIRTY, false, false },	/* D = 0 */
		{ W | X | U, F_OK | SPTE_F_WRITE_PROTECT, false, false },
		{ W | X | U, F_OK & ~SPTE_F_HOST_WRITABLE, false, false },
		{ W | X | U, F_OK | SPTE_F_LOG_DIRTY, false, true },
		{ W | X | U, F_OK, true, true },
	};

	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t s = spte_make(HPA, rows[i].acc, rows[i].flags);

		assert_int_equal(!!(s & RW), rows[i].rw);
		assert_int_equal(is_writable_pte(s), rows[i].rw);
		assert_int_equal(spte_can_unprotect(s), rows[i].can_unprotect);
		/* D only with R/W: the processor never has to write it. */
		assert_int_equal(!!(s & D), rows[i].rw);
	}
	/* A read-only slot stays so even when the guest allows writes. */
	assert_false(spte_can_unprotect(spte_make(HPA, W | X | U, F_OK & ~SPTE_F_HOST_WRITABLE)));
}

static void test_prefetch_leaves_a_clear(void **state)
{
	assert_int_equal(spte_make(HPA, X | U, F_OK | SPTE_F_PREFETCH) & A, 0);
	assert_int_equal(spte_make(HPA, X | U, F_OK) & A, A);
}

/* PS maps a page in a PDE or PDPTE (4.5); a PTE is always a leaf; PS in a
 * PML4E is reserved, so a PML4E is never one. */
static void test_levels(void **state)
{
	uint64_t big = spte_make(0x40000000ull, W | X | U, F_OK | SPTE_F_LARGE);
	uint64_t table = spte_make_nonleaf(0x7000);

	assert_int_equal(big & PS, PS);
	assert_true(is_large_pte(big));
	assert_true(is_last_spte(big, 2));
	assert_true(is_last_spte(big, 3));
	assert_false(is_last_spte(big, 4));
	assert_false(is_last_spte(table, 2));
	assert_false(is_last_spte(table, 3));
	assert_false(is_last_spte(table, 4));
	assert_true(is_last_spte(spte_make(HPA, X, F_OK), 1));
	assert_int_equal(spte_to_pfn(big), 0x40000);
}

/* A non-leaf grants everything: the leaf decides (4.6.1 combines the
 * path with AND for R/W and U/S, OR for XD). */
static void test_nonleaf(void **state)
{
	uint64_t s = spte_make_nonleaf(0xabcdef000ull);

	assert_int_equal(s & (P | RW | US | PS | XD), P | RW | US);
	assert_int_equal(s & ADDR, 0xabcdef000ull);
}

static void test_pfn_full_width(void **state)
{
	uint64_t s = spte_make(ADDR, 0, F_OK);

	assert_int_equal(spte_to_pfn(s), 0xffffffffffull);
	assert_int_equal(s & XD, XD);	/* no X right, NXE on */
	/* Low bits of a misaligned hpa never leak into the flags. */
	assert_int_equal(spte_make(HPA | 0xfff, X, F_OK) & (PS | 0x18), 0);
}

/* Not present: the processor ignores every other bit (4.5), so an MMIO
 * spte may keep anything there; it must fault with P = 0. */
static void test_mmio(void **state)
{
	uint64_t s = spte_make_mmio(0xfee00ull, W | U);

	assert_int_equal(s & P, 0);
	assert_false(is_shadow_present_pte(s));
	assert_true(is_mmio_spte(s));
	assert_int_equal(mmio_spte_gfn(s), 0xfee00ull);
	assert_int_equal(mmio_spte_access(s), W | U);
	assert_int_equal(mmio_spte_access(spte_make_mmio(0xffffffffffull, X)), X);
	assert_int_equal(mmio_spte_gfn(spte_make_mmio(0xffffffffffull, X)), 0xffffffffffull);
	assert_false(is_mmio_spte(0));
	assert_false(is_mmio_spte(spte_make(HPA, W | X | U, F_OK)));
}

static void test_write_protect(void **state)
{
	uint64_t s = spte_make(HPA, W | X | U, F_OK);
	uint64_t log = spte_write_protect(s, false);
	uint64_t pt = spte_write_protect(s, true);

	assert_int_equal(log & RW, 0);
	assert_int_equal(pt & RW, 0);
	assert_true(spte_can_unprotect(log));	/* dirty log: fast path */
	assert_false(spte_can_unprotect(pt));	/* page table: walk again */
	assert_int_equal(log & (P | ADDR), HPA | P);
	assert_int_equal(pt & (P | ADDR | US | A), HPA | P | US | A);
}

/* Every bit a present spte may carry is an architectural one hvlab means,
 * or one the processor ignores: nothing reserved (4.5, Table 4-20). */
static void test_no_reserved_bits(void **state)
{
	const uint64_t meant = P | RW | US | A | D | PS | XD | ADDR | IGNORED;

	for (unsigned acc = 0; acc <= (W | X | U); acc += 2) {
		for (unsigned f = 0; f < 0x80; f++) {
			uint64_t s = spte_make(HPA, acc, f);

			assert_int_equal(s & ~meant, 0);
			if (!(f & SPTE_F_NXE))
				assert_int_equal(s & XD, 0);
			if (!(f & SPTE_F_LARGE))
				assert_int_equal(s & PS, 0);
			assert_int_equal(s & ADDR, HPA);
		}
	}
	assert_int_equal(spte_make_nonleaf(ADDR) & ~(P | RW | US | A | ADDR), 0);
	/* The software bits themselves are in the ignored range. */
	assert_int_equal((SPTE_HOST_WRITABLE | SPTE_MMU_WRITABLE | SPTE_MMIO) & ~IGNORED, 0);
}

static void test_set_clear(void **state)
{
	uint64_t e = 0, s = spte_make(HPA, W | X | U, F_OK);

	spte_set(&e, s);
	assert_int_equal(spte_get(&e), s);
	e |= D;		/* as if the processor had set D meanwhile */
	assert_int_equal(spte_clear(&e), s | D);
	assert_int_equal(e, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaf_bits),
		cmocka_unit_test(test_xd_needs_nxe),
		cmocka_unit_test(test_writable_table),
		cmocka_unit_test(test_prefetch_leaves_a_clear),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_nonleaf),
		cmocka_unit_test(test_pfn_full_width),
		cmocka_unit_test(test_mmio),
		cmocka_unit_test(test_write_protect),
		cmocka_unit_test(test_no_reserved_bits),
		cmocka_unit_test(test_set_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
