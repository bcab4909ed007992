/*
 * test_mmu_rmap.c — the reverse map (mmu/rmap.c): one word per guest
 * frame that holds a single sptep itself and a descriptor chain beyond
 * that; adds and removals in every order keep exactly the set added;
 * write protection of a frame and of a slot (SDM Vol. 3A 4.5: R/W is bit
 * 1; a write-protection that removed a right asks for a flush, 4.10.4.1).
 *
 * The sptes live in a fake table array: the rmap only keeps pointers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mmu/rmap.h"
#include "mmu/spte.h"

#define N 300
#define RW 0x2ull	/* Table 4-20, bit 1 */

static uint64_t table[N] __attribute__((aligned(4096)));

/* The set the head holds, as a bitmap over table[], each seen once. */
static void expect_set(const struct rmap_head *h, const bool *want)
{
	bool seen[N] = { false };
	struct rmap_iter it;
	uint64_t *p;
	unsigned n = 0, expected = 0;

	for_each_rmap_spte(h, &it, p) {
		ptrdiff_t i = p - table;

		assert_true(i >= 0 && i < N);
		assert_false(seen[i]);
		assert_true(want[i]);
		seen[i] = true;
		n++;
	}
	for (unsigned i = 0; i < N; i++)
		expected += want[i];
	assert_int_equal(n, expected);
	assert_int_equal(rmap_count(h), expected);
}

static void test_empty_and_single(void **state)
{
	struct rmap_head h = { 0 };
	struct rmap_iter it;

	assert_int_equal(rmap_count(&h), 0);
	assert_null(rmap_iter_first(&h, &it));
	assert_int_equal(rmap_add(&h, &table[5]), 0);
	/* One mapping costs no memory beyond the head word. */
	assert_int_equal(h.val, (uintptr_t)&table[5]);
	assert_true(rmap_contains(&h, &table[5]));
	assert_false(rmap_contains(&h, &table[6]));
	assert_int_equal(rmap_count(&h), 1);
	rmap_remove(&h, &table[5]);
	assert_int_equal(h.val, 0);
}

static void test_back_to_single(void **state)
{
	struct rmap_head h = { 0 };

	assert_int_equal(rmap_add(&h, &table[1]), 0);
	assert_int_equal(rmap_add(&h, &table[2]), 0);
	assert_int_equal(rmap_count(&h), 2);
	assert_int_not_equal(h.val, (uintptr_t)&table[1]);
	rmap_remove(&h, &table[1]);
	assert_int_equal(h.val, (uintptr_t)&table[2]);
	rmap_remove(&h, &table[2]);
	assert_int_equal(h.val, 0);
}

/* Many sptes, removed in a shuffled order; the set is checked after each
 * step (fixed seed). */
static void test_many_shuffled(void **state)
{
	struct rmap_head h = { 0 };
	bool want[N] = { false };
	unsigned order[N];

	srand(5);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(rmap_add(&h, &table[i]), 0);
		want[i] = true;
		order[i] = i;
		if (i % 37 == 0)
			expect_set(&h, want);
	}
	expect_set(&h, want);
	for (unsigned i = N - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned k = 0; k < N; k++) {
		rmap_remove(&h, &table[order[k]]);
		want[order[k]] = false;
		/* Re-add some as we go: adds and removals interleave. */
		if (k % 5 == 0 && k + 1 < N) {
			unsigned r = order[k];

			assert_int_equal(rmap_add(&h, &table[r]), 0);
			want[r] = true;
			rmap_remove(&h, &table[r]);
			want[r] = false;
		}
		expect_set(&h, want);
	}
	assert_int_equal(h.val, 0);
}

/* Removing from the front, the back and the middle of a chain. */
static void test_remove_positions(void **state)
{
	static const unsigned picks[] = { 0, 19, 10, 1, 18, 7, 8, 9 };
	struct rmap_head h = { 0 };
	bool want[N] = { false };

	for (unsigned i = 0; i < 20; i++) {
		assert_int_equal(rmap_add(&h, &table[i]), 0);
		want[i] = true;
	}
	for (unsigned k = 0; k < sizeof(picks) / sizeof(picks[0]); k++) {
		rmap_remove(&h, &table[picks[k]]);
		want[picks[k]] = false;
		expect_set(&h, want);
	}
	rmap_reset(&h);
	assert_int_equal(h.val, 0);
	assert_int_equal(rmap_count(&h), 0);
}

static void test_write_protect(void **state)
{
	struct rmap_head h = { 0 };
	uint64_t ro = spte_make(0x5000, GWALK_U, SPTE_F_HOST_WRITABLE | SPTE_F_DIRTY);
	uint64_t rw = spte_make(0x5000, GWALK_W | GWALK_U, SPTE_F_HOST_WRITABLE | SPTE_F_DIRTY);

	memset(table, 0, sizeof(table));
	table[0] = ro;
	table[1] = rw;
	table[2] = 0;	/* not present: left alone */
	table[3] = rw;
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(rmap_add(&h, &table[i]), 0);

	/* Dirty logging: R/W goes, the fast path stays. */
	assert_true(rmap_write_protect(&h, false));
	assert_int_equal(table[1] & RW, 0);
	assert_int_equal(table[3] & RW, 0);
	assert_true(spte_can_unprotect(table[1]));
	assert_int_equal(table[0], ro);
	assert_int_equal(table[2], 0);
	/* Nothing was writable any more: no flush needed. */
	assert_false(rmap_write_protect(&h, false));
	/* A page table: the fast path goes too, still no right removed. */
	assert_false(rmap_write_protect(&h, true));
	assert_false(spte_can_unprotect(table[1]));
	assert_int_equal(table[1] & (0x1ull | 0x000ffffffffff000ull), 0x5001);
	rmap_reset(&h);
}

static void test_slot(void **state)
{
	struct rmap_slot rs;
	struct rmap_head *h;
	uint64_t rw = spte_make(0x9000, GWALK_W, SPTE_F_HOST_WRITABLE | SPTE_F_DIRTY);

	assert_int_equal(rmap_slot_init(&rs, 0x100, 64), 0);
	assert_null(rmap_slot_head(&rs, 0xff));
	assert_null(rmap_slot_head(&rs, 0x140));
	assert_non_null(rmap_slot_head(&rs, 0x100));
	h = rmap_slot_head(&rs, 0x13f);
	assert_ptr_equal(h, &rs.heads[63]);
	memset(table, 0, sizeof(table));
	for (unsigned i = 0; i < 10; i++) {
		table[i] = rw;
		assert_int_equal(rmap_add(rmap_slot_head(&rs, 0x100 + i % 3), &table[i]), 0);
	}
	assert_int_equal(rmap_count(rmap_slot_head(&rs, 0x100)), 4);
	assert_int_equal(rmap_count(rmap_slot_head(&rs, 0x101)), 3);
	assert_true(rmap_write_protect_slot(&rs, true));
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(table[i] & RW, 0);
	assert_false(rmap_write_protect_slot(&rs, true));
	/* Destroy frees the descriptors (ASan's leak check sees it). */
	rmap_slot_destroy(&rs);
	assert_null(rs.heads);
}

/* The detach idiom of rmap.h: empty the head, then walk the copy. */
static void test_detach(void **state)
{
	struct rmap_head h = { 0 }, taken;
	struct rmap_iter it;
	uint64_t *p;
	unsigned n = 0;

	for (unsigned i = 0; i < 12; i++)
		assert_int_equal(rmap_add(&h, &table[i]), 0);
	taken = h;
	h.val = 0;
	for_each_rmap_spte(&taken, &it, p) {
		*p = 0;
		n++;
	}
	rmap_reset(&taken);
	assert_int_equal(n, 12);
	assert_int_equal(rmap_count(&h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_single),
		cmocka_unit_test(test_back_to_single),
		cmocka_unit_test(test_many_shuffled),
		cmocka_unit_test(test_remove_positions),
		cmocka_unit_test(test_write_protect),
		cmocka_unit_test(test_slot),
		cmocka_unit_test(test_detach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
