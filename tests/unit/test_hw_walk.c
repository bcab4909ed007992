/*
 * test_hw_walk.c — the one-dimensional page walker (hw/walk.c) against
 * the SDM Vol. 3A chapter 4: translation in 32-bit (4.3), PAE (4.4) and
 * 4-level (4.5) paging for every page size, reserved bits (4.1.4 and the
 * entry-format tables), the access-rights matrix (4.6.1), #PF error codes
 * (4.7), accessed/dirty flags (4.8), and what a walk costs in memory
 * references.
 *
 * Constants are written from the manual here and in pt_builder.h, not
 * taken from hw/walk.h, except the HW_* names of the interface itself.
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

/* #PF error code (SDM Vol. 3A 4.7, Figure 4-12). */
#define PF_P	0x01u
#define PF_W	0x02u
#define PF_U	0x04u
#define PF_RSVD	0x08u
#define PF_I	0x10u

#define TABLES		0x00100000ull	/* page tables: 1 MiB .. 8 MiB */
#define TABLES_END	0x00800000ull
#define VA		0x00403000ull	/* a linear address the tests map */
#define PA		0x02345000ull	/* ... to this page */

static struct hw_machine *m;
static struct ptb b;
static struct hw_counters cnt;
static struct hw_paging pg;
static const struct hw_nested no_nesting = { .kind = HW_NESTED_NONE };
static struct hw_walk w;
static enum ptb_fmt fmt;
static uint64_t root;

static int setup(void **state)
{
	struct hw_machine_config cfg;
	hw_machine_config_default(&cfg, HW_VENDOR_INTEL);
	if (hw_machine_create(&cfg, &m))
		return -1;
	ptb_init(&b, hw_hpa_ptr(m, 0, hw_arena_size(m)), hw_arena_size(m), 0,
		 TABLES, TABLES_END);
	memset(&cnt, 0, sizeof(cnt));
	memset(&pg, 0, sizeof(pg));
	pg.maxphyaddr = 46;
	return 0;
}

static int teardown(void **state)
{
	hw_machine_destroy(m);
	return 0;
}

static void mode(enum hw_paging_mode mode_, bool pse, bool nxe)
{
	pg.mode = mode_;
	pg.pse = pse;
	pg.nxe = nxe;
	pg.wp = pg.smep = pg.smap = pg.pcide = false;
	fmt = mode_ == HW_PAGING_32 ? PTB_32 : mode_ == HW_PAGING_PAE ? PTB_PAE : PTB_64;
	root = ptb_root(&b, fmt);
	pg.cr3 = root;
}

/* Map, and for PAE reload the PDPTE registers as MOV CR3 would. */
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
	return hw_walk(m, &pg, &no_nesting, la, acc, &w, &cnt);
}

static void assert_pf(uint64_t la, unsigned acc, uint32_t err)
{
	assert_int_equal(walk(la, acc), HW_WALK_PF);
	assert_int_equal(w.fault, HW_WALK_PF);
	assert_int_equal(w.pf_error, err);
}

static void assert_ok(uint64_t la, unsigned acc, hpa_t hpa, unsigned shift, unsigned refs)
{
	assert_int_equal(walk(la, acc), HW_WALK_OK);
	assert_int_equal(w.hpa, hpa);
	assert_int_equal(w.gpa, hpa);
	assert_int_equal(w.page_shift, shift);
	assert_int_equal(w.nested_shift, 12);
	assert_int_equal(cnt.walk_refs, refs);
	assert_int_equal(cnt.walk_refs_2d, 0);
}

/* ------------------------------------------------------------ translation */

static void none_is_identity(void **state)
{
	pg.mode = HW_PAGING_NONE;
	pg.smap = pg.smep = pg.wp = true;
	assert_int_equal(walk(0x1234567, HW_ACC_WRITE | HW_ACC_USER), HW_WALK_OK);
	assert_int_equal(w.hpa, 0x1234567);
	assert_int_equal(cnt.walk_refs, 0);
	assert_int_equal(w.rights & (HW_R_W | HW_R_U | HW_R_XD | HW_R_DIRTY),
			 HW_R_W | HW_R_U | HW_R_DIRTY);
	assert_int_equal(hw_access_fault(&pg, 0, HW_ACC_USER | HW_ACC_FETCH), 0);
}

static void m32_4k(void **state)
{
	mode(HW_PAGING_32, false, false);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	assert_ok(VA + 0xabc, 0, PA + 0xabc, 12, 2);
	assert_int_equal(w.pcid, 0);
	/* Bits 63:32 of a linear address do not exist here. */
	assert_ok((1ull << 32) | VA, 0, PA, 12, 2);
}

static void m32_4m(void **state)
{
	mode(HW_PAGING_32, true, false);
	map(0x00800000, 0x00c00000, PTB_4M, PTE_P | PTE_RW);
	assert_ok(0x00923456, HW_ACC_WRITE, 0x00d23456, 22, 1);
}

static void m32_pse36(void **state)
{
	mode(HW_PAGING_32, true, false);
	/* PDE bits 20:13 are physical-address bits 39:32 (M capped at 40). */
	map(0x00800000, 0xab00c00000ull, PTB_4M, PTE_P);
	assert_int_equal(entry(0x00800000, 2) & 0x1fe000, 0xabull << 13);
	assert_ok(0x00812345, 0, 0xab00c12345ull, 22, 1);
	/* Bit 21 is always reserved. */
	update(0x00800000, 2, 1u << 21, 0);
	assert_pf(0x00800000, 0, PF_P | PF_RSVD);
	/* With MAXPHYADDR 36 only bits 16:13 carry address: 21:17 reserved. */
	update(0x00800000, 2, 0, 0x3fe000);
	pg.maxphyaddr = 36;
	update(0x00800000, 2, 0xfull << 13, 0);
	assert_ok(0x00800000, 0, 0xf00c00000ull, 22, 1);
	update(0x00800000, 2, 1u << 17, 0);
	assert_pf(0x00800000, 0, PF_P | PF_RSVD);
}

static void m32_ps_ignored_without_pse(void **state)
{
	mode(HW_PAGING_32, false, false);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	update(VA, 2, PTE_PS, 0);	/* PS is ignored when CR4.PSE = 0 */
	assert_ok(VA + 8, 0, PA + 8, 12, 2);
}

static void m32_4k_has_no_reserved_bits(void **state)
{
	mode(HW_PAGING_32, true, false);
	/* PAT (bit 7) and the ignored bits 11:9 of a PTE. */
	map(VA, PA, PTB_4K, PTE_P | PTE_PS | (7u << 9));
	assert_ok(VA, 0, PA, 12, 2);
}

static void pae_4k_2m(void **state)
{
	mode(HW_PAGING_PAE, false, true);
	map(0xc0403000, PA, PTB_4K, PTE_P | PTE_RW);
	map(0x40200000, 0x00600000, PTB_2M, PTE_P);
	/* The PDPTEs are registers: two references, then one. */
	assert_ok(0xc0403123, 0, PA + 0x123, 12, 2);
	assert_ok(0x40212345, 0, 0x00612345, 21, 1);
	/* Linear addresses are 32 bits: bit 32 does not select a PDPTE. */
	assert_ok((1ull << 32) | 0x40212345, 0, 0x00612345, 21, 1);
}

static void pae_pdptes_are_registers(void **state)
{
	mode(HW_PAGING_PAE, false, false);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	/* Changing the PDPT in memory does nothing until it is reloaded. */
	ptb_write(&b, root, 8, 0);
	assert_ok(VA, 0, PA, 12, 2);
	/* A not-present PDPTE register: #PF with P = 0. */
	pg.pdpte[0] = 0;
	assert_pf(VA, HW_ACC_WRITE, PF_W);
	assert_int_equal(cnt.walk_refs, 0);
}

static void lm_4k_2m_1g(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(0x00007f0000403000ull, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	map(0x0000004000200000ull, 0x00600000, PTB_2M, PTE_P);
	map(0xffffff8040000000ull, 0x40000000, PTB_1G, PTE_P);
	assert_ok(0x00007f0000403fffull, 0, PA + 0xfff, 12, 4);
	assert_ok(0x00000040002fffffull, 0, 0x006fffff, 21, 3);
	assert_ok(0xffffff807fffffffull, 0, 0x7fffffff, 30, 2);
}

static void lm_pcid(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P);
	pg.pcide = true;
	pg.cr3 = root | 0x123;		/* CR3[11:0] is the PCID */
	assert_ok(VA, 0, PA, 12, 4);
	assert_int_equal(w.pcid, 0x123);
	pg.pcide = false;
	pg.cr3 = root | 0x18;		/* PWT, PCD: not a PCID */
	assert_ok(VA, 0, PA, 12, 4);
	assert_int_equal(w.pcid, 0);
}

static void global_flag(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_G);
	map(0x40000000, 0x40000000, PTB_1G, PTE_P | PTE_G);
	map(0x80000000, 0x80000000, PTB_2M, PTE_P);
	assert_ok(VA, 0, PA, 12, 4);
	assert_true(w.rights & HW_R_GLOBAL);
	assert_ok(0x40000000, 0, 0x40000000, 30, 2);
	assert_true(w.rights & HW_R_GLOBAL);
	/* Bit 8 of an entry that references a table is ignored. */
	update(0x80000000, 3, PTE_G, 0);
	assert_ok(0x80000000, 0, 0x80000000, 21, 3);
	assert_false(w.rights & HW_R_GLOBAL);

	/* 32-bit paging: G in a 4 KiB PTE and in a 4 MiB PDE. */
	mode(HW_PAGING_32, true, false);
	map(VA, PA, PTB_4K, PTE_P | PTE_G);
	map(0x00c00000, 0x00c00000, PTB_4M, PTE_P | PTE_G);
	assert_ok(VA, 0, PA, 12, 2);
	assert_true(w.rights & HW_R_GLOBAL);
	assert_ok(0x00c00000, 0, 0x00c00000, 22, 1);
	assert_true(w.rights & HW_R_GLOBAL);
	update(VA, 1, 0, PTE_G);
	assert_ok(VA, 0, PA, 12, 2);
	assert_false(w.rights & HW_R_GLOBAL);
}

/* ------------------------------------------------------------ not present */

static void not_present_each_level(void **state)
{
	static const struct { enum hw_paging_mode mode; unsigned top; } modes[] = {
		{ HW_PAGING_32, 2 }, { HW_PAGING_PAE, 2 }, { HW_PAGING_4LEVEL, 4 },
	};
	for (unsigned i = 0; i < 3; i++) {
		for (unsigned level = 1; level <= modes[i].top; level++) {
			mode(modes[i].mode, false, false);
			map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
			update(VA, level, 0, PTE_P);
			/* P = 0; W/R and U/S say what the access was. */
			assert_pf(VA, HW_ACC_WRITE | HW_ACC_USER, PF_W | PF_U);
			assert_int_equal(cnt.walk_refs, modes[i].top - level + 1);
			assert_pf(VA, 0, 0);
		}
	}
}

/* ------------------------------------------------------------ reserved bits */

/* Set @bit in the level-@level entry of VA's path: #PF P|RSVD (+W, U). */
static void assert_rsvd(unsigned level, uint64_t bit)
{
	update(VA, level, bit, 0);
	assert_pf(VA, HW_ACC_WRITE | HW_ACC_USER, PF_P | PF_RSVD | PF_W | PF_U);
	update(VA, level, 0, bit);
	assert_int_equal(walk(VA, 0), HW_WALK_OK);
}

static void lm_reserved_above_maxphyaddr(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	for (unsigned level = 1; level <= 4; level++) {
		assert_rsvd(level, 1ull << 46);		/* M = 46 */
		assert_rsvd(level, 1ull << 51);
	}
	/* Bits 62:52 are ignored in 4-level entries. */
	update(VA, 1, 1ull << 52 | 1ull << 62, 0);
	update(VA, 4, 1ull << 55, 0);
	assert_int_equal(walk(VA, 0), HW_WALK_OK);
	/* With MAXPHYADDR 52 nothing below bit 52 is reserved. */
	pg.maxphyaddr = 52;
	update(VA, 1, 1ull << 51, 0);
	assert_int_equal(walk(VA, 0), HW_WALK_OK);
	assert_int_equal(w.hpa, PA | 1ull << 51);
}

static void pae_reserved_above_maxphyaddr(void **state)
{
	mode(HW_PAGING_PAE, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	for (unsigned level = 1; level <= 2; level++) {
		assert_rsvd(level, 1ull << 46);
		assert_rsvd(level, 1ull << 52);	/* PAE: 62:M, not 51:M */
		assert_rsvd(level, 1ull << 62);
	}
}

static void reserved_xd_without_nxe(void **state)
{
	static const enum hw_paging_mode modes[] = { HW_PAGING_PAE, HW_PAGING_4LEVEL };
	for (unsigned i = 0; i < 2; i++) {
		mode(modes[i], false, false);
		map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
		for (unsigned level = 1; level <= (i ? 4u : 2u); level++) {
			assert_rsvd(level, PTE_XD);
			/* With NXE it is the execute-disable flag instead. */
			pg.nxe = true;
			update(VA, level, PTE_XD, 0);
			assert_int_equal(walk(VA, 0), HW_WALK_OK);
			assert_true(w.rights & HW_R_XD);
			update(VA, level, 0, PTE_XD);
			pg.nxe = false;
		}
	}
}

static void reserved_ps_in_pml4e(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	assert_rsvd(4, PTE_PS);
}

static void reserved_large_page_alignment(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(0x40000000, 0x40000000, PTB_1G, PTE_P | PTE_RW | PTE_US);
	map(0x80000000, 0x80000000, PTB_2M, PTE_P | PTE_RW | PTE_US);
	static const unsigned bits_1g[] = { 13, 20, 21, 29 };
	for (unsigned i = 0; i < 4; i++) {
		update(0x40000000, 3, 1ull << bits_1g[i], 0);
		assert_pf(0x40000000, HW_ACC_USER, PF_P | PF_RSVD | PF_U);
		update(0x40000000, 3, 0, 1ull << bits_1g[i]);
	}
	for (unsigned bit = 13; bit <= 20; bit++) {
		update(0x80000000, 2, 1ull << bit, 0);
		assert_pf(0x80000000, 0, PF_P | PF_RSVD);
		update(0x80000000, 2, 0, 1ull << bit);
	}
	/* Bit 12 of a large-page entry is PAT. */
	update(0x40000000, 3, 1ull << 12, 0);
	update(0x80000000, 2, 1ull << 12, 0);
	assert_ok(0x40000000, 0, 0x40000000, 30, 2);
	assert_ok(0x80000000, 0, 0x80000000, 21, 3);

	mode(HW_PAGING_PAE, false, true);
	map(0x80000000, 0x80000000, PTB_2M, PTE_P);
	update(0x80000000, 2, 1ull << 13, 0);
	assert_pf(0x80000000, 0, PF_P | PF_RSVD);
}

static void reserved_fault_error_code(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	update(VA, 3, 1ull << 47, 0);
	assert_pf(VA, HW_ACC_FETCH | HW_ACC_USER, PF_P | PF_RSVD | PF_U | PF_I);
	assert_pf(VA, HW_ACC_FETCH, PF_P | PF_RSVD | PF_I);
	assert_pf(VA, HW_ACC_WRITE, PF_P | PF_RSVD | PF_W);
	/* The walk stops at the bad entry. */
	assert_int_equal(cnt.walk_refs, 2);
}

/* ------------------------------------------------------------ rights */

/*
 * SDM Vol. 3A 4.6.1 as a decision table (first matching row wins; -1 is
 * "any"), for 4-level paging with NXE = 1. u, rw, xd are the page's
 * combined U/S, R/W and XD; ac is RFLAGS.AC of an explicit supervisor
 * access (user accesses ignore it).
 */
enum { RD, WR, FX };
#define X (-1)
static const struct perm_row {
	int user, kind, u, rw, xd, wp, smep, smap, ac;
	bool fault;
} perm_rows[] = {
	/* user-mode accesses */
	{ 1, RD, 0, X, X, X, X, X, X, true },	/* only user-mode addresses */
	{ 1, RD, 1, X, X, X, X, X, X, false },
	{ 1, WR, 0, X, X, X, X, X, X, true },
	{ 1, WR, 1, 0, X, X, X, X, X, true },	/* R/W = 0, whatever CR0.WP */
	{ 1, WR, 1, 1, X, X, X, X, X, false },
	{ 1, FX, 0, X, X, X, X, X, X, true },
	{ 1, FX, 1, X, 1, X, X, X, X, true },	/* XD = 1 */
	{ 1, FX, 1, X, 0, X, X, X, X, false },
	/* supervisor-mode accesses */
	{ 0, RD, 1, X, X, X, X, 1, 0, true },	/* SMAP unless AC = 1 */
	{ 0, RD, X, X, X, X, X, X, X, false },
	{ 0, WR, 1, X, X, X, X, 1, 0, true },	/* SMAP unless AC = 1 */
	{ 0, WR, X, 0, X, 1, X, X, X, true },	/* CR0.WP = 1: R/W needed */
	{ 0, WR, X, X, X, X, X, X, X, false },
	{ 0, FX, 1, X, X, X, 1, X, X, true },	/* SMEP */
	{ 0, FX, X, X, 1, X, X, X, X, true },	/* XD = 1 */
	{ 0, FX, X, X, X, X, X, X, X, false },
};
#undef X

static bool cell(int want, int have)
{
	return want < 0 || want == have;
}

static bool perm_expect_fault(const int v[9])
{
	for (size_t i = 0; i < sizeof(perm_rows) / sizeof(perm_rows[0]); i++) {
		const struct perm_row *r = &perm_rows[i];
		if (cell(r->user, v[0]) && cell(r->kind, v[1]) && cell(r->u, v[2]) &&
		    cell(r->rw, v[3]) && cell(r->xd, v[4]) && cell(r->wp, v[5]) &&
		    cell(r->smep, v[6]) && cell(r->smap, v[7]) && cell(r->ac, v[8]))
			return r->fault;
	}
	fail_msg("no row of the table matches");
	return false;
}

static void permission_matrix(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	unsigned faults = 0;
	for (unsigned n = 0; n < 3 * 256; n++) {
		const int v[9] = { (n >> 0) & 1, (int)(n / 256), (n >> 1) & 1, (n >> 2) & 1,
				   (n >> 3) & 1, (n >> 4) & 1, (n >> 5) & 1, (n >> 6) & 1,
				   (n >> 7) & 1 };
		const bool user = v[0];
		const unsigned kind = (unsigned)v[1];
		update(VA, 1, (v[2] ? PTE_US : 0) | (v[3] ? PTE_RW : 0) | (v[4] ? PTE_XD : 0),
		       PTE_US | PTE_RW | PTE_XD);
		pg.wp = v[5];
		pg.smep = v[6];
		pg.smap = v[7];
		unsigned acc = (kind == WR ? HW_ACC_WRITE : 0) | (kind == FX ? HW_ACC_FETCH : 0);
		if (user)
			acc |= HW_ACC_USER;
		else if (v[8])
			acc |= HW_ACC_NO_SMAP;
		const unsigned rights = (v[2] ? HW_R_U : 0) | (v[3] ? HW_R_W : 0) |
					(v[4] ? HW_R_XD : 0);
		if (perm_expect_fault(v)) {
			const uint32_t err = PF_P | (kind == WR ? PF_W : 0) |
					     (user ? PF_U : 0) | (kind == FX ? PF_I : 0);
			assert_pf(VA, acc, err);
			assert_int_equal(hw_access_fault(&pg, rights, acc), err);
			assert_int_equal(hw_access_fault(&pg, rights | HW_R_DIRTY, acc), err);
			faults++;
		} else {
			assert_int_equal(walk(VA, acc), HW_WALK_OK);
			assert_int_equal(hw_access_fault(&pg, rights, acc), 0);
			assert_int_equal(w.rights & (HW_R_U | HW_R_W | HW_R_XD), rights);
		}
	}
	assert_true(faults > 100 && faults < 700);	/* both outcomes exercised */
}

static void rights_combine_over_levels(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	pg.wp = true;
	update(VA, 3, 0, PTE_RW);		/* R/W = 0 in the PDPTE only */
	assert_pf(VA, HW_ACC_WRITE, PF_P | PF_W);
	assert_int_equal(walk(VA, 0), HW_WALK_OK);
	assert_int_equal(w.rights & (HW_R_W | HW_R_U), HW_R_U);
	update(VA, 3, PTE_RW, 0);
	update(VA, 4, 0, PTE_US);		/* U/S = 0 in the PML4E only */
	assert_pf(VA, HW_ACC_USER, PF_P | PF_U);
	update(VA, 4, PTE_US, 0);
	update(VA, 2, PTE_XD, 0);		/* XD = 1 in the PDE only */
	assert_pf(VA, HW_ACC_FETCH, PF_P | PF_I);
	assert_int_equal(walk(VA, HW_ACC_WRITE | HW_ACC_USER), HW_WALK_OK);
	assert_int_equal(w.rights & (HW_R_W | HW_R_U | HW_R_XD), HW_R_W | HW_R_U | HW_R_XD);

	mode(HW_PAGING_32, false, false);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	update(VA, 2, 0, PTE_RW);		/* R/W = 0 in the PDE only */
	assert_pf(VA, HW_ACC_WRITE | HW_ACC_USER, PF_P | PF_W | PF_U);
	pg.wp = false;				/* supervisor writes ignore it */
	assert_int_equal(walk(VA, HW_ACC_WRITE), HW_WALK_OK);
}

static void id_flag_rules(void **state)
{
	/* I/D is set for a fetch only with SMEP, or with NXE under PAE or
	 * 4-level paging (4.7); it is set for P = 0 faults too. */
	mode(HW_PAGING_32, false, true);	/* NXE means nothing here */
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	assert_pf(VA, HW_ACC_FETCH | HW_ACC_USER, PF_P | PF_U);
	assert_pf(VA + 0x400000, HW_ACC_FETCH, 0);
	pg.smep = true;
	assert_pf(VA, HW_ACC_FETCH | HW_ACC_USER, PF_P | PF_U | PF_I);
	assert_pf(VA + 0x400000, HW_ACC_FETCH, PF_I);

	mode(HW_PAGING_4LEVEL, false, false);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	assert_pf(VA, HW_ACC_FETCH | HW_ACC_USER, PF_P | PF_U);
	assert_pf(VA + 0x400000, HW_ACC_FETCH, 0);
	pg.nxe = true;
	assert_pf(VA, HW_ACC_FETCH | HW_ACC_USER, PF_P | PF_U | PF_I);
	assert_pf(VA + 0x400000, HW_ACC_FETCH, PF_I);

	mode(HW_PAGING_PAE, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	assert_pf(VA + 0x400000, HW_ACC_FETCH, PF_I);
	/* Not a fetch: never I/D. */
	assert_pf(VA + 0x400000, 0, 0);
}

/* ------------------------------------------------------------ A/D flags */

static void accessed_dirty_on_success(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	assert_int_equal(walk(VA, 0), HW_WALK_OK);
	for (unsigned level = 1; level <= 4; level++) {
		assert_true(entry(VA, level) & PTE_A);
		assert_false(entry(VA, level) & PTE_D);
	}
	assert_false(w.rights & HW_R_DIRTY);
	assert_int_equal(walk(VA, HW_ACC_WRITE), HW_WALK_OK);
	assert_true(entry(VA, 1) & PTE_D);
	for (unsigned level = 2; level <= 4; level++)
		assert_false(entry(VA, level) & PTE_D);
	assert_true(w.rights & HW_R_DIRTY);
	/* Once D is set, a read reports it too. */
	assert_int_equal(walk(VA, 0), HW_WALK_OK);
	assert_true(w.rights & HW_R_DIRTY);

	/* Large leaf: D in the PDE that maps the page. */
	map(0x80000000, 0x80000000, PTB_2M, PTE_P | PTE_RW);
	assert_int_equal(walk(0x80000000, HW_ACC_WRITE), HW_WALK_OK);
	assert_int_equal(entry(0x80000000, 2) & (PTE_A | PTE_D), PTE_A | PTE_D);
	assert_int_equal(entry(0x80000000, 3) & (PTE_A | PTE_D), PTE_A);

	/* 32-bit entries are 4 bytes; PAE PDPTEs have no A flag. */
	mode(HW_PAGING_32, false, false);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	update(VA, 1, 0xe00, 0);		/* ignored bits survive */
	assert_int_equal(walk(VA, HW_ACC_WRITE), HW_WALK_OK);
	assert_int_equal(entry(VA, 1), PA | 0xe00 | PTE_P | PTE_RW | PTE_A | PTE_D);
	assert_int_equal(entry(VA, 2) & (PTE_A | PTE_D), PTE_A);
	mode(HW_PAGING_PAE, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	const uint64_t pdpte = ptb_read(&b, root, 8);
	assert_int_equal(walk(VA, HW_ACC_WRITE), HW_WALK_OK);
	assert_int_equal(ptb_read(&b, root, 8), pdpte);
	assert_int_equal(entry(VA, 1) & (PTE_A | PTE_D), PTE_A | PTE_D);
	assert_int_equal(entry(VA, 2) & (PTE_A | PTE_D), PTE_A);
}

static void accessed_dirty_untouched_on_fault(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_US);
	pg.wp = true;
	assert_pf(VA, HW_ACC_WRITE, PF_P | PF_W);		/* protection */
	update(VA, 1, 1ull << 50, 0);
	assert_pf(VA, 0, PF_P | PF_RSVD);			/* reserved */
	update(VA, 1, 0, PTE_P);
	assert_pf(VA, 0, 0);					/* not present */
	for (unsigned level = 1; level <= 4; level++)
		assert_false(entry(VA, level) & (PTE_A | PTE_D));
}

static void ad_update_drops_decoded_code(void **state)
{
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	const uint64_t pt_page = ptb_entry_addr(&b, fmt, root, VA, 1) >> 12;
	hw_mark_code_page(m, pt_page);
	assert_int_equal(walk(VA, 0), HW_WALK_OK);		/* sets A in the PTE */
	assert_false(hw_is_code_page(m, pt_page));
	hw_mark_code_page(m, pt_page);
	assert_int_equal(walk(VA, 0), HW_WALK_OK);		/* writes nothing */
	assert_true(hw_is_code_page(m, pt_page));
}

/* ------------------------------------------------------------ the bus */

static void out_of_arena_reads_all_ones(void **state)
{
	const uint64_t beyond = hw_arena_size(m) + 0x10000000ull;

	/* 4-level: a PDPT beyond the arena reads as all ones, which sets the
	 * reserved bits 51:46. */
	mode(HW_PAGING_4LEVEL, false, true);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	update(VA, 4, beyond, 0);
	assert_pf(VA, 0, PF_P | PF_RSVD);
	assert_int_equal(cnt.walk_refs, 2);
	/* With MAXPHYADDR 52, PS set in the PML4E is what is reserved. */
	pg.maxphyaddr = 52;
	pg.cr3 = beyond;
	assert_pf(VA, 0, PF_P | PF_RSVD);
	assert_int_equal(cnt.walk_refs, 1);

	/* 32-bit with PSE: an all-ones PDE is a 4 MiB page with bit 21 set. */
	mode(HW_PAGING_32, true, false);
	pg.cr3 = 0x80000000;
	assert_pf(VA, HW_ACC_WRITE, PF_P | PF_RSVD | PF_W);

	/* Without PSE the all-ones entries form a valid path to the page at
	 * 0xfffff000, with every flag already set: nothing to write back. */
	mode(HW_PAGING_32, false, false);
	pg.cr3 = 0x80000000;
	assert_int_equal(walk(VA + 0x12, HW_ACC_WRITE | HW_ACC_USER), HW_WALK_OK);
	assert_int_equal(w.hpa, 0xfffff012);
	assert_true(w.rights & HW_R_DIRTY);
	assert_true(w.rights & HW_R_GLOBAL);
	assert_int_equal(cnt.walk_refs, 2);
	assert_null(hw_hpa_ptr(m, 0xfffff000, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(none_is_identity),
		T(m32_4k),
		T(m32_4m),
		T(m32_pse36),
		T(m32_ps_ignored_without_pse),
		T(m32_4k_has_no_reserved_bits),
		T(pae_4k_2m),
		T(pae_pdptes_are_registers),
		T(lm_4k_2m_1g),
		T(lm_pcid),
		T(global_flag),
		T(not_present_each_level),
		T(lm_reserved_above_maxphyaddr),
		T(pae_reserved_above_maxphyaddr),
		T(reserved_xd_without_nxe),
		T(reserved_ps_in_pml4e),
		T(reserved_large_page_alignment),
		T(reserved_fault_error_code),
		T(permission_matrix),
		T(rights_combine_over_levels),
		T(id_flag_rules),
		T(accessed_dirty_on_success),
		T(accessed_dirty_untouched_on_fault),
		T(ad_update_drops_decoded_code),
		T(out_of_arena_reads_all_ones),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
