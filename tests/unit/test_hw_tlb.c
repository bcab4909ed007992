/*
 * test_hw_tlb.c — the TLB model (hw/tlb.c): tags, page sizes, global
 * entries, replacement, and that each invalidation drops exactly what
 * the manuals say (SDM Vol. 3A 4.10.2.4, 4.10.4.1; Vol. 3C 29.4.3;
 * APM Vol. 2 15.16), including the front TLB's copies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/tlb.h"

#define R_G (1u << 4)		/* HW_R_GLOBAL as hw/walk.h defines it */

static struct hw_tlb tlb;

static int setup(void **state)
{
	const struct hw_tlb_config cfg = { .entries_4k = 64, .ways_4k = 4,
					   .entries_2m = 8, .ways_2m = 2,
					   .entries_1g = 4, .ways_1g = 4 };
	return hw_tlb_init(&tlb, &cfg);
}

static int teardown(void **state)
{
	hw_tlb_free(&tlb);
	return 0;
}

/* Tag of (EP4TA, VPID, PCID). */
#define T(ep, vpid, pcid) HW_TLB_TAG((uint64_t)(ep) << 12, vpid, pcid)

static bool has(uint64_t la, uint64_t tag)
{
	return hw_tlb_lookup(&tlb, la, tag) != NULL;
}

static void lookup_by_size_and_offset(void **state)
{
	hw_tlb_fill(&tlb, 0x7000, T(0, 1, 0), 12, 0x123000, 0);
	hw_tlb_fill(&tlb, 0x40000000 + 0x345000, T(0, 1, 0), 21, 0x800000, 0);
	hw_tlb_fill(&tlb, 0x80000000ull, T(0, 1, 0), 30, 0x40000000, 0);
	struct hw_tlb_entry *e = hw_tlb_lookup(&tlb, 0x7abc, T(0, 1, 0));
	assert_non_null(e);
	assert_int_equal(e->hpa, 0x123000);
	assert_int_equal(e->shift, 12);
	e = hw_tlb_lookup(&tlb, 0x40200000 + 0x1fffff, T(0, 1, 0));
	assert_non_null(e);
	assert_int_equal(e->hpa, 0x800000);
	assert_int_equal(e->shift, 21);
	e = hw_tlb_lookup(&tlb, 0xbfffffffull, T(0, 1, 0));
	assert_non_null(e);
	assert_int_equal(e->shift, 30);
	assert_false(has(0x8000, T(0, 1, 0)));
}

/* A 4 MiB page (32-bit paging) is cached as the 2 MiB half used. */
static void four_mib_page_as_half(void **state)
{
	hw_tlb_fill(&tlb, 0x00600000, T(0, 1, 0), 22, 0x1000000, 0);
	struct hw_tlb_entry *e = hw_tlb_lookup(&tlb, 0x00600000, T(0, 1, 0));
	assert_non_null(e);
	assert_int_equal(e->hpa, 0x1200000);
	assert_false(has(0x00400000, T(0, 1, 0)));
}

/*
 * INVLPG drops every TLB entry of the page holding the address, whatever
 * its size (SDM Vol. 2A INVLPG, note 1; Vol. 3A 4.10.2.3): both 2 MiB
 * halves of a 4 MiB page go, whichever half the address is in. A real
 * 2 MiB page next door is another page and stays.
 */
static void invlpg_drops_both_halves_of_4mib_page(void **state)
{
	(void)state;
	hw_tlb_fill(&tlb, 0x00400000, T(0, 1, 0), 22, 0x1000000, 0);	/* lower half */
	hw_tlb_fill(&tlb, 0x00600000, T(0, 1, 0), 22, 0x1000000, 0);	/* upper half */
	hw_tlb_flush_addr(&tlb, 0x00400000, T(0, 1, 0), ~0ull, false);
	assert_false(has(0x00400000, T(0, 1, 0)));
	assert_false(has(0x00600000, T(0, 1, 0)));

	hw_tlb_fill(&tlb, 0x00800000, T(0, 1, 0), 21, 0x2000000, 0);	/* 2 MiB pages */
	hw_tlb_fill(&tlb, 0x00a00000, T(0, 1, 0), 21, 0x2200000, 0);
	hw_tlb_flush_addr(&tlb, 0x00800000, T(0, 1, 0), ~0ull, false);
	assert_false(has(0x00800000, T(0, 1, 0)));
	assert_true(has(0x00a00000, T(0, 1, 0)));
}

/* A 2 MiB guest page that 4 KiB nested pages back is cached as 4 KiB
 * pieces; INVLPG of any address in the guest page drops them all (SDM
 * Vol. 2A INVLPG, note 1), and nothing of the next guest page. */
static void invlpg_drops_pieces_of_guest_page(void **state)
{
	(void)state;
	hw_tlb_fill_piece(&tlb, 0x00200000, T(0, 1, 0), 12, 21, 0x5000, 0);
	hw_tlb_fill_piece(&tlb, 0x003ff000, T(0, 1, 0), 12, 21, 0x6000, 0);
	hw_tlb_fill_piece(&tlb, 0x00400000, T(0, 1, 0), 12, 21, 0x7000, 0);
	hw_tlb_fill(&tlb, 0x00201000, T(0, 1, 0), 12, 0x8000, 0);	/* a 4 KiB page */
	hw_tlb_flush_addr(&tlb, 0x00234000, T(0, 1, 0), ~0ull, false);
	assert_false(has(0x00200000, T(0, 1, 0)));
	assert_false(has(0x003ff000, T(0, 1, 0)));
	assert_true(has(0x00400000, T(0, 1, 0)));
	assert_true(has(0x00201000, T(0, 1, 0)));
}

static void tags_separate_address_spaces(void **state)
{
	hw_tlb_fill(&tlb, 0x5000, T(0, 1, 7), 12, 0x1000, 0);
	assert_true(has(0x5000, T(0, 1, 7)));
	assert_false(has(0x5000, T(0, 1, 8)));		/* other PCID */
	assert_false(has(0x5000, T(0, 2, 7)));		/* other VPID/ASID */
	assert_false(has(0x5000, T(0x99, 1, 7)));	/* other EP4TA */
}

static void global_entry_ignores_pcid_only(void **state)
{
	hw_tlb_fill(&tlb, 0x5000, T(3, 1, 7), 12, 0x1000, R_G);
	assert_true(has(0x5000, T(3, 1, 9)));
	assert_false(has(0x5000, T(3, 2, 7)));
	assert_false(has(0x5000, T(4, 1, 7)));
}

/* INVLPG-style: the page's entries of this VPID, any PCID's globals. */
static void flush_addr(void **state)
{
	hw_tlb_fill(&tlb, 0x5000, T(0, 1, 1), 12, 0x1000, 0);
	hw_tlb_fill(&tlb, 0x5000, T(0, 1, 2), 12, 0x2000, 0);
	hw_tlb_fill(&tlb, 0x6000, T(0, 1, 1), 12, 0x3000, 0);
	hw_tlb_fill(&tlb, 0x7000, T(0, 1, 2), 12, 0x4000, R_G);
	hw_tlb_flush_addr(&tlb, 0x5000, T(0, 1, 1), ~0ull, false);
	assert_false(has(0x5000, T(0, 1, 1)));
	assert_true(has(0x5000, T(0, 1, 2)));		/* other PCID, not global */
	assert_true(has(0x6000, T(0, 1, 1)));
	hw_tlb_flush_addr(&tlb, 0x7000, T(0, 1, 1), ~0ull, false);
	assert_false(has(0x7000, T(0, 1, 2)));		/* global: any PCID */
}

/* MOV CR3 with PCIDE=0 style: non-global of one tag; globals survive. */
static void flush_tag_keep_global(void **state)
{
	hw_tlb_fill(&tlb, 0x5000, T(0, 1, 0), 12, 0x1000, 0);
	hw_tlb_fill(&tlb, 0x6000, T(0, 1, 0), 12, 0x2000, R_G);
	hw_tlb_fill(&tlb, 0x7000, T(0, 2, 0), 12, 0x3000, 0);
	hw_tlb_flush_tag(&tlb, T(0, 1, 0), ~0ull, true);
	assert_false(has(0x5000, T(0, 1, 0)));
	assert_true(has(0x6000, T(0, 1, 0)));
	assert_true(has(0x7000, T(0, 2, 0)));
	/* INVVPID single context: every entry of VPID 1, globals too. */
	hw_tlb_flush_tag(&tlb, T(0, 1, 0), HW_TLB_M_VPID, false);
	assert_false(has(0x6000, T(0, 1, 0)));
	assert_true(has(0x7000, T(0, 2, 0)));
}

/* INVEPT single context: one EP4TA, every VPID and PCID. */
static void flush_ep4ta(void **state)
{
	hw_tlb_fill(&tlb, 0x5000, T(0x10, 1, 0), 12, 0x1000, R_G);
	hw_tlb_fill(&tlb, 0x5000, T(0x10, 2, 3), 12, 0x1000, 0);
	hw_tlb_fill(&tlb, 0x5000, T(0x20, 1, 0), 12, 0x1000, 0);
	hw_tlb_flush_tag(&tlb, T(0x10, 0, 0), HW_TLB_M_EP4TA, false);
	assert_false(has(0x5000, T(0x10, 1, 0)));
	assert_false(has(0x5000, T(0x10, 2, 3)));
	assert_true(has(0x5000, T(0x20, 1, 0)));
}

/* Round robin within a set: the fifth fill of a 4-way set evicts the
 * first, whatever was looked up since. */
static void replacement_ignores_hits(void **state)
{
	const unsigned sets = 16;
	for (unsigned i = 0; i < 4; i++)
		hw_tlb_fill(&tlb, (uint64_t)i * sets << 12, T(0, 1, 0), 12, 0x1000 * i, 0);
	assert_true(has(0, T(0, 1, 0)));
	hw_tlb_fill(&tlb, (uint64_t)4 * sets << 12, T(0, 1, 0), 12, 0x9000, 0);
	assert_false(has(0, T(0, 1, 0)));
	for (unsigned i = 1; i <= 4; i++)
		assert_true(has((uint64_t)i * sets << 12, T(0, 1, 0)));
}

static void refill_replaces_in_place(void **state)
{
	hw_tlb_fill(&tlb, 0x5000, T(0, 1, 0), 12, 0x1000, 0);
	hw_tlb_fill(&tlb, 0x5000, T(0, 1, 0), 12, 0x2000, 0);
	assert_int_equal(hw_tlb_lookup(&tlb, 0x5000, T(0, 1, 0))->hpa, 0x2000);
	/* ... so the other ways of the set still hold their entries. */
	hw_tlb_fill(&tlb, 0x15000, T(0, 1, 0), 12, 0x3000, 0);
	hw_tlb_fill(&tlb, 0x25000, T(0, 1, 0), 12, 0x4000, 0);
	hw_tlb_fill(&tlb, 0x35000, T(0, 1, 0), 12, 0x5000, 0);
	assert_true(has(0x5000, T(0, 1, 0)));
}

static void front(unsigned slot_page, uint64_t tag)
{
	struct emu_tlb_entry *f = &tlb.front[slot_page & (EMU_TLB_SIZE - 1)];
	f->read_tag = f->write_tag = tag;
}

static bool front_valid(unsigned page)
{
	return tlb.front[page & (EMU_TLB_SIZE - 1)].read_tag != EMU_TLB_INVALID;
}

/* The front holds only what the TLB holds: dropping an entry drops its
 * front copy; a 4 KiB drop touches only its own slot. */
static void front_follows_tlb(void **state)
{
	hw_tlb_fill(&tlb, 0x5000, T(0, 1, 0), 12, 0x1000, 0);
	hw_tlb_fill(&tlb, 0x6000, T(0, 1, 0), 12, 0x2000, 0);
	front(5, 0x5000);
	front(6, 0x6000);
	hw_tlb_flush_addr(&tlb, 0x5000, T(0, 1, 0), ~0ull, false);
	assert_false(front_valid(5));
	assert_true(front_valid(6));
	/* A large page's pieces may sit in any slot: all go. */
	hw_tlb_fill(&tlb, 0x200000, T(0, 1, 0), 21, 0x400000, 0);
	front(0x201, 0x201000);
	front(6, 0x6000);
	hw_tlb_flush_addr(&tlb, 0x200000, T(0, 1, 0), ~0ull, false);
	assert_false(front_valid(0x201));
	assert_false(front_valid(6));
	/* Eviction by a fill drops the evicted page's copy. */
	for (unsigned i = 0; i < 4; i++)
		hw_tlb_fill(&tlb, ((uint64_t)i * 16 + 1) << 12, T(0, 1, 0), 12, 0x1000, 0);
	front(1, 0x1000);
	hw_tlb_fill(&tlb, ((uint64_t)4 * 16 + 1) << 12, T(0, 1, 0), 12, 0x1000, 0);
	assert_false(front_valid(1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lookup_by_size_and_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(four_mib_page_as_half, setup, teardown),
		cmocka_unit_test_setup_teardown(invlpg_drops_both_halves_of_4mib_page, setup,
						teardown),
		cmocka_unit_test_setup_teardown(invlpg_drops_pieces_of_guest_page, setup, teardown),
		cmocka_unit_test_setup_teardown(tags_separate_address_spaces, setup, teardown),
		cmocka_unit_test_setup_teardown(global_entry_ignores_pcid_only, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_addr, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_tag_keep_global, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_ep4ta, setup, teardown),
		cmocka_unit_test_setup_teardown(replacement_ignores_hits, setup, teardown),
		cmocka_unit_test_setup_teardown(refill_replaces_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(front_follows_tlb, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
