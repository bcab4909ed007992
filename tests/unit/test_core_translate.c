/*
 * test_core_translate.c — hv_translate() (KVM_TRANSLATE) on every
 * backend: the guest's own translation of a linear address with its
 * current paging, and what a supervisor write and a user access would
 * be allowed (hv.h: writeable, usermode).
 *
 * x86 truth (Intel SDM Vol. 3A):
 *  - 4.5 / Tables 4-15..4-20: 4-level paging, PML4E -> PDPTE -> PDE
 *    (PS = 1: a 2 MiB page) -> PTE; P bit 0, R/W bit 1, U/S bit 2.
 *  - 4.6.1: an access is a user access only if every level has U/S = 1;
 *    a write needs R/W = 1 at every level, except that a supervisor write
 *    with CR0.WP = 0 may write any present page.
 *  - 3.3.7.1: linear addresses must be canonical (bits 63:47 equal).
 *  - 4.1.1: with CR0.PG = 0 the linear address is the physical one and
 *    no page-level protection applies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hvlab/hv.h"
#include "tests/unit/support/hvguest.h"

/* The test's own tables, out of hvguest's way. */
#define PML4 0x20000ull
#define PDPT 0x21000ull
#define PD 0x22000ull
#define PT 0x23000ull
#define PT_SUP 0x24000ull	/* a table under a supervisor-only PDE */

#define P 0x1ull
#define RW 0x2ull
#define US 0x4ull
#define PS 0x80ull

static void build_tables(struct hvg *g)
{
	hvg_put64(g, PML4, PDPT | P | RW | US);
	hvg_put64(g, PDPT, PD | P | RW | US);
	hvg_put64(g, PD + 8 * 0, 0x000000 | P | RW | PS);	/* [0, 2M): code, supervisor */
	hvg_put64(g, PD + 8 * 1, PT | P | RW | US);		/* [2M, 4M): 4 KiB pages */
	hvg_put64(g, PD + 8 * 2, PT_SUP | P | RW);		/* [4M, 6M): U/S = 0 above */
	hvg_put64(g, PD + 8 * 3, 0x1000000 | P | RW | US | PS);	/* [6M, 8M) -> 16 MiB */
	hvg_put64(g, PT + 8 * 0, 0x150000 | P | RW | US);
	hvg_put64(g, PT + 8 * 1, 0x151000 | P);			/* supervisor, read-only */
	hvg_put64(g, PT + 8 * 2, 0x152000 | P | RW);		/* supervisor, writable */
	hvg_put64(g, PT + 8 * 3, 0x153000 | P | US);		/* user, read-only */
	hvg_put64(g, PT + 8 * 4, 0x154000 | RW | US);		/* not present */
	hvg_put64(g, PT_SUP, 0x155000 | P | RW | US);
}

struct want {
	uint64_t gva;
	bool valid;
	uint64_t gpa;
	bool writeable, usermode;
};

static void check(struct hvg *g, const struct want *w, const char *mode)
{
	struct hv_translation tr;
	memset(&tr, 0xa5, sizeof(tr));
	assert_int_equal(hv_translate(g->vcpu, w->gva, &tr), 0);
	if (tr.gva != w->gva || tr.valid != w->valid || (w->valid && (tr.gpa != w->gpa ||
	    tr.writeable != w->writeable || tr.usermode != w->usermode)))
		fail_msg("%s, %s: gva %#llx -> valid %d gpa %#llx w %d u %d; want valid %d "
			 "gpa %#llx w %d u %d", g->backend, mode, (unsigned long long)w->gva,
			 tr.valid, (unsigned long long)tr.gpa, tr.writeable, tr.usermode,
			 w->valid, (unsigned long long)w->gpa, w->writeable, w->usermode);
}

static const uint64_t cr0_paging = HVG_CR0_PG | HVG_CR0_NE | HVG_CR0_ET | HVG_CR0_PE;

/* CR0.WP = 1: supervisor writes obey R/W. */
static void test_translate_4level_wp(void **state)
{
	const struct want wants[] = {
		{ 0x200abc, true, 0x150abc, true, true },
		{ 0x201ffc, true, 0x151ffc, false, false },
		{ 0x202000, true, 0x152000, true, false },
		{ 0x203010, true, 0x153010, false, true },
		{ 0x204000, false, 0, false, false },
		{ 0x400123, true, 0x155123, true, false },	/* PDE U/S = 0 wins */
		{ 0x654321, true, 0x1054321, true, true },	/* 2 MiB page */
		{ 0x8000000000ull, false, 0, false, false },	/* PML4E 1 not present */
		{ 0x0000800000000000ull, false, 0, false, false },	/* not canonical */
		{ 0xffff800000200abcull, false, 0, false, false },	/* PML4E 256: none */
	};
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		build_tables(&g);
		hvg_enter_long_cr3(&g, HVG_CODE, PML4, cr0_paging | HVG_CR0_WP);
		for (unsigned k = 0; k < sizeof(wants) / sizeof(wants[0]); k++)
			check(&g, &wants[k], "CR0.WP=1");
		hvg_destroy(&g);
	}
}

/* CR0.WP = 0: a supervisor write may write read-only pages; user access
 * is unchanged. */
static void test_translate_4level_no_wp(void **state)
{
	const struct want wants[] = {
		{ 0x201000, true, 0x151000, true, false },
		{ 0x203000, true, 0x153000, true, true },
		{ 0x204000, false, 0, false, false },
	};
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		build_tables(&g);
		hvg_enter_long_cr3(&g, HVG_CODE, PML4, cr0_paging);
		for (unsigned k = 0; k < sizeof(wants) / sizeof(wants[0]); k++)
			check(&g, &wants[k], "CR0.WP=0");
		hvg_destroy(&g);
	}
}

/* Paging off, in real and in protected mode: the identity, with nothing
 * to forbid. */
static void test_translate_paging_off(void **state)
{
	const struct want wants[] = {
		{ 0x12345, true, 0x12345, true, true },
		{ 0xfffff000, true, 0xfffff000, true, true },	/* no memory needed */
	};
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		hvg_enter_real(&g, HVG_CODE);
		for (unsigned k = 0; k < sizeof(wants) / sizeof(wants[0]); k++)
			check(&g, &wants[k], "real mode");
		hvg_enter_protected(&g, HVG_CODE);
		for (unsigned k = 0; k < sizeof(wants) / sizeof(wants[0]); k++)
			check(&g, &wants[k], "protected mode");
		hvg_destroy(&g);
	}
}

/* The translation follows the tables as they are now: a PTE the VMM
 * rewrites after a first translation gives the new answer. */
static void test_translate_follows_tables(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		build_tables(&g);
		hvg_enter_long_cr3(&g, HVG_CODE, PML4, cr0_paging | HVG_CR0_WP);
		check(&g, &(struct want){ 0x204000, false, 0, false, false }, "before");
		hvg_put64(&g, PT + 8 * 4, 0x1ff000 | P | RW);
		check(&g, &(struct want){ 0x204008, true, 0x1ff008, true, false }, "after");
		hvg_destroy(&g);
	}
}

#define T(fn) cmocka_unit_test_teardown(fn, hvg_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_translate_4level_wp),
		T(test_translate_4level_no_wp),
		T(test_translate_paging_off),
		T(test_translate_follows_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
