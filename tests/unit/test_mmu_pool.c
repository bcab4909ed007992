/*
 * test_mmu_pool.c — the shadow-page pool (mmu/pool.c) on a fake arena:
 * pages by (gfn, role), the budget, links that the processor can walk as
 * 4-level paging structures (SDM Vol. 3A 4.5: PML4 index 47:39, PDPT
 * 38:30, PD 29:21, PT 20:12; a non-leaf entry's bits 51:12 address the
 * next table), the reverse map of leaves and of parents, the unsync
 * bitmaps up to the root, zap (parents cleared, children orphaned, roots
 * kept invalid until unloaded) and least-recently-used reclaim.
 *
 * The fake arena is a buffer whose page allocator the test owns through
 * struct shadow_alloc, so no core/ code is linked or faked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mmu/pool.h"
#include "mmu/spte.h"

#define ARENA_PAGES 64
#define SLOT_GFN 0x1000ull	/* the one memslot: 256 frames */
#define SLOT_PAGES 256
#define PG 4096ull

struct fake_arena {
	struct shadow_alloc a;
	bool used[ARENA_PAGES];
	unsigned outstanding;
	struct rmap_slot rs;
};

static struct fake_arena fa;
static struct shadow_pool pool;

static hpa_t fake_alloc(struct shadow_alloc *a)
{
	struct fake_arena *f = (struct fake_arena *)a;

	/* Page 0 stays unused: an hpa of 0 would hide a missing address. */
	for (unsigned i = 1; i < ARENA_PAGES; i++) {
		if (!f->used[i]) {
			f->used[i] = true;
			f->outstanding++;
			memset(f->a.arena + i * PG, 0, PG);
			return i * PG;
		}
	}
	return INVALID_HPA;
}

static void fake_free(struct shadow_alloc *a, hpa_t hpa)
{
	struct fake_arena *f = (struct fake_arena *)a;

	assert_int_equal(hpa % PG, 0);
	assert_true(hpa / PG < ARENA_PAGES && f->used[hpa / PG]);
	f->used[hpa / PG] = false;
	f->outstanding--;
	memset(f->a.arena + hpa, 0xcc, PG);	/* use after free shows */
}

static struct rmap_head *fake_rmap_of(struct shadow_alloc *a, gfn_t gfn)
{
	return rmap_slot_head(&((struct fake_arena *)a)->rs, gfn);
}

static int setup(void **state)
{
	memset(&fa, 0, sizeof(fa));
	fa.a.arena = aligned_alloc(PG, ARENA_PAGES * PG);
	fa.a.alloc_page = fake_alloc;
	fa.a.free_page = fake_free;
	fa.a.rmap_of = fake_rmap_of;
	if (!fa.a.arena || rmap_slot_init(&fa.rs, SLOT_GFN, SLOT_PAGES))
		return -1;
	shadow_pool_init(&pool, &fa.a, 32);
	return 0;
}

static int teardown(void **state)
{
	shadow_pool_destroy(&pool);
	assert_int_equal(fa.outstanding, 0);
	assert_int_equal(pool.stats.in_use, 0);
	for (unsigned i = 0; i < SLOT_PAGES; i++)
		assert_int_equal(fa.rs.heads[i].val, 0);
	rmap_slot_destroy(&fa.rs);
	free(fa.a.arena);
	return 0;
}

static union shadow_role role(unsigned level)
{
	union shadow_role r = { .word = 0 };

	r.level = level;
	r.access = SPTE_ACC_ALL;
	r.cr4_pae = 1;
	r.efer_nx = 1;
	return r;
}

static struct shadow_page *get(gfn_t gfn, union shadow_role r)
{
	struct shadow_page *sp;
	bool created;

	assert_int_equal(shadow_pool_get(&pool, gfn, r, &sp, &created), 0);
	return sp;
}

static uint64_t *table(hpa_t hpa)
{
	return (uint64_t *)(fa.a.arena + hpa);
}

/* The processor's 4-level walk over the shadow tables (4.5): the leaf's
 * frame, or ~0 at a not-present entry. */
static uint64_t hw_walk(hpa_t root, uint64_t va)
{
	hpa_t t = root;

	for (int shift = 39; shift >= 12; shift -= 9) {
		uint64_t e = table(t)[(va >> shift) & 511];

		if (!(e & 1))
			return ~0ull;
		t = e & 0x000ffffffffff000ull;
		if (shift == 12 || (shift < 39 && (e & 0x80)))
			return t >> 12;
	}
	return ~0ull;
}

#define VA 0x0000123456789000ull
#define I4 ((VA >> 39) & 511)
#define I3 ((VA >> 30) & 511)
#define I2 ((VA >> 21) & 511)
#define I1 ((VA >> 12) & 511)

/* A 4-level path for VA from guest tables at gfns 1..4 (indirect). */
static struct shadow_page *sp4, *sp3, *sp2, *sp1;

static void build_path(void)
{
	sp4 = get(4, role(4));
	sp3 = get(3, role(3));
	sp2 = get(2, role(2));
	sp1 = get(1, role(1));
	assert_int_equal(shadow_page_link(&pool, sp4, I4, sp3), 0);
	assert_int_equal(shadow_page_link(&pool, sp3, I3, sp2), 0);
	assert_int_equal(shadow_page_link(&pool, sp2, I2, sp1), 0);
}

static uint64_t leaf(gfn_t gfn)
{
	/* The fake's guest frame gfn is backed at host frame gfn + 0x100000. */
	return spte_make((gfn + 0x100000) << 12, SPTE_ACC_ALL,
			 SPTE_F_DIRTY | SPTE_F_HOST_WRITABLE | SPTE_F_NXE);
}

static void test_key(void **state)
{
	union shadow_role q = role(1);
	struct shadow_page *a, *b, *c, *sp;
	bool created;

	assert_int_equal(shadow_pool_get(&pool, 7, role(1), &a, &created), 0);
	assert_true(created);
	assert_int_equal(shadow_pool_get(&pool, 7, role(1), &b, &created), 0);
	assert_false(created);
	assert_ptr_equal(a, b);
	q.quadrant = 1;		/* the other half of a 32-bit guest table */
	c = get(7, q);
	assert_ptr_not_equal(a, c);
	assert_ptr_not_equal(get(8, role(1)), a);
	assert_ptr_not_equal(get(7, role(2)), a);
	assert_ptr_equal(shadow_pool_find(&pool, 7, q), c);
	assert_null(shadow_pool_find(&pool, 9, role(1)));
	/* A role from a designated initializer is the same key (pool.h). */
	assert_ptr_equal(shadow_pool_find(&pool, 7, (union shadow_role){ .level = 1,
			 .access = SPTE_ACC_ALL, .cr4_pae = 1, .efer_nx = 1 }), a);
	assert_int_equal(pool.stats.in_use, 4);
	assert_int_equal(pool.stats.peak, 4);
	assert_int_equal(pool.stats.cache_miss, 4);
	/* A table is a zeroed arena page; every spte pointer leads back. */
	assert_int_equal(a->hpa % PG, 0);
	assert_ptr_equal(a->spt, table(a->hpa));
	for (unsigned i = 0; i < SHADOW_ENTRIES; i++)
		assert_int_equal(a->spt[i], 0);
	assert_ptr_equal(shadow_pool_page_of(&pool, &a->spt[0]), a);
	assert_ptr_equal(shadow_pool_page_of(&pool, &a->spt[511]), a);
	sp = shadow_pool_page_of(&pool, &c->spt[100]);
	assert_ptr_equal(sp, c);
	assert_null(shadow_pool_page_of(&pool, table(0)));
}

static void test_budget_and_oom(void **state)
{
	struct shadow_page *sp;
	bool created;

	shadow_pool_init(&pool, &fa.a, 3);
	for (gfn_t g = 0; g < 3; g++)
		get(g, role(1));
	assert_int_equal(shadow_pool_get(&pool, 3, role(1), &sp, &created), -ENOSPC);
	shadow_pool_destroy(&pool);
	/* The arena runs out before the budget: -ENOMEM, nothing leaks. */
	shadow_pool_init(&pool, &fa.a, 1000);
	for (gfn_t g = 0; g < ARENA_PAGES - 1; g++)
		get(g, role(1));
	assert_int_equal(shadow_pool_get(&pool, 100, role(1), &sp, &created), -ENOMEM);
	assert_int_equal(pool.stats.in_use, ARENA_PAGES - 1);
}

static void test_links_walkable(void **state)
{
	struct rmap_head *h = rmap_slot_head(&fa.rs, SLOT_GFN + 5);

	build_path();
	assert_int_equal(hw_walk(sp4->hpa, VA), ~0ull);
	assert_int_equal(shadow_page_set_leaf(&pool, sp1, I1, leaf(SLOT_GFN + 5), SLOT_GFN + 5), 0);
	assert_int_equal(hw_walk(sp4->hpa, VA), SLOT_GFN + 5 + 0x100000);
	/* Non-leaf entries: P, R/W, U/S and the child's table (4.5). */
	assert_int_equal(sp3->spt[I3] & 0x8000000000000087ull, 0x7);
	assert_int_equal(sp3->spt[I3] & 0x000ffffffffff000ull, sp2->hpa);
	/* Parents and the reverse map. */
	assert_true(rmap_contains(&sp2->parent_ptes, &sp3->spt[I3]));
	assert_int_equal(rmap_count(&sp2->parent_ptes), 1);
	assert_true(rmap_contains(h, &sp1->spt[I1]));
	assert_int_equal(shadow_page_leaf_gfn(sp1, I1), SLOT_GFN + 5);
	/* Remap the entry to another frame: the reverse maps follow. */
	assert_int_equal(shadow_page_set_leaf(&pool, sp1, I1, leaf(SLOT_GFN + 6), SLOT_GFN + 6), 0);
	assert_int_equal(rmap_count(h), 0);
	assert_true(rmap_contains(rmap_slot_head(&fa.rs, SLOT_GFN + 6), &sp1->spt[I1]));
	assert_int_equal(hw_walk(sp4->hpa, VA), SLOT_GFN + 6 + 0x100000);
	/* No memslot: no leaf. */
	assert_int_equal(shadow_page_set_leaf(&pool, sp1, 0, leaf(5), 5), -EINVAL);
	/* Drop: a present spte asks for a flush, an empty one does not. */
	assert_true(shadow_page_drop(&pool, sp1, I1));
	assert_false(shadow_page_drop(&pool, sp1, I1));
	assert_int_equal(rmap_count(rmap_slot_head(&fa.rs, SLOT_GFN + 6)), 0);
	assert_true(shadow_page_drop(&pool, sp2, I2));
	assert_int_equal(rmap_count(&sp1->parent_ptes), 0);
}

static void test_mmio_entry(void **state)
{
	struct shadow_page *sp = get(1, role(1));

	shadow_page_set_mmio(&pool, sp, 3, spte_make_mmio(0xfee00, SPTE_ACC_W));
	assert_int_equal(sp->spt[3] & 1, 0);	/* not present: #PF with P = 0 */
	assert_true(is_mmio_spte(sp->spt[3]));
	assert_false(shadow_page_drop(&pool, sp, 3));
	assert_int_equal(sp->spt[3], 0);
}

static void test_direct_leaf_gfn(void **state)
{
	union shadow_role r1 = role(1), r2 = role(2);
	struct shadow_page *d1, *d2;

	r1.direct = 1;
	r2.direct = 1;
	d1 = get(SLOT_GFN, r1);
	d2 = get(0x40000, r2);
	assert_int_equal(shadow_page_leaf_gfn(d1, 9), SLOT_GFN + 9);
	assert_int_equal(shadow_page_leaf_gfn(d2, 3), 0x40000 + 3 * 512);
	assert_int_equal(shadow_page_set_leaf(&pool, d1, 9, leaf(SLOT_GFN + 9), SLOT_GFN + 9), 0);
	assert_null(d1->gfns);
	assert_true(rmap_contains(rmap_slot_head(&fa.rs, SLOT_GFN + 9), &d1->spt[9]));
}

static bool bit(const struct shadow_page *sp, unsigned i)
{
	return sp->unsync_child_bitmap[i / 64] >> (i % 64) & 1;
}

static void test_unsync_bits(void **state)
{
	struct shadow_page *other;

	build_path();
	other = get(11, role(1));
	assert_int_equal(shadow_page_link(&pool, sp2, 17, other), 0);
	shadow_page_mark_unsync(&pool, sp1);
	assert_true(bit(sp2, I2) && bit(sp3, I3) && bit(sp4, I4));
	assert_int_equal(sp2->unsync_children, 1);
	assert_int_equal(sp4->unsync_children, 1);
	shadow_page_mark_unsync(&pool, other);
	assert_int_equal(sp2->unsync_children, 2);
	assert_int_equal(sp3->unsync_children, 1);
	shadow_page_clear_unsync(&pool, sp1);
	assert_false(bit(sp2, I2));
	assert_true(bit(sp2, 17) && bit(sp3, I3) && bit(sp4, I4));
	/* Unlinking the last unsync child clears the bits up to the root. */
	assert_true(shadow_page_drop(&pool, sp2, 17));
	assert_int_equal(sp2->unsync_children, 0);
	assert_int_equal(sp3->unsync_children, 0);
	assert_int_equal(sp4->unsync_children, 0);
	/* Linking a page that is unsync already sets the bits at once. */
	assert_int_equal(shadow_page_link(&pool, sp2, 18, other), 0);
	assert_true(bit(sp2, 18) && bit(sp3, I3) && bit(sp4, I4));
	/* Zapping it clears them too. */
	assert_true(shadow_pool_zap(&pool, other));
	assert_int_equal(sp4->unsync_children, 0);
	assert_int_equal(sp2->unsync_children, 0);
}

static void test_zap_leaf_page(void **state)
{
	uint64_t outstanding;

	build_path();
	assert_int_equal(shadow_page_set_leaf(&pool, sp1, I1, leaf(SLOT_GFN + 5), SLOT_GFN + 5), 0);
	assert_int_equal(shadow_page_set_leaf(&pool, sp1, 0, leaf(SLOT_GFN + 5), SLOT_GFN + 5), 0);
	/* The same table linked from two parents (two PDEs). */
	assert_int_equal(shadow_page_link(&pool, sp2, I2 + 1, sp1), 0);
	outstanding = fa.outstanding;
	assert_true(shadow_pool_zap(&pool, sp1));
	/* The frame waits until every TLB has been flushed (pool.h). */
	assert_int_equal(fa.outstanding, outstanding);
	shadow_pool_release(&pool);
	assert_int_equal(fa.outstanding, outstanding - 1);
	assert_int_equal(sp2->spt[I2], 0);
	assert_int_equal(sp2->spt[I2 + 1], 0);
	assert_int_equal(rmap_count(rmap_slot_head(&fa.rs, SLOT_GFN + 5)), 0);
	assert_null(shadow_pool_find(&pool, 1, role(1)));
	assert_int_equal(hw_walk(sp4->hpa, VA), ~0ull);
	assert_int_equal(pool.stats.zapped, 1);
	assert_int_equal(pool.stats.in_use, 3);
}

/* A zap does not recurse: the child stays cached, orphaned. */
static void test_zap_keeps_children(void **state)
{
	build_path();
	assert_int_equal(shadow_page_set_leaf(&pool, sp1, I1, leaf(SLOT_GFN + 5), SLOT_GFN + 5), 0);
	assert_true(shadow_pool_zap(&pool, sp2));
	assert_int_equal(sp3->spt[I3], 0);
	assert_ptr_equal(shadow_pool_find(&pool, 1, role(1)), sp1);
	assert_int_equal(rmap_count(&sp1->parent_ptes), 0);
	assert_true(rmap_contains(rmap_slot_head(&fa.rs, SLOT_GFN + 5), &sp1->spt[I1]));
	/* A page with nothing present asks for no flush. */
	assert_false(shadow_pool_zap(&pool, get(50, role(1))));
}

static void test_zap_root(void **state)
{
	struct shadow_page *fresh;
	uint64_t outstanding;

	build_path();
	shadow_pool_get_root(sp4);
	outstanding = fa.outstanding;
	assert_true(shadow_pool_zap(&pool, sp4));
	assert_true(sp4->role.invalid);
	assert_int_equal(sp4->spt[I4], 0);	/* the loaded CR3 maps nothing */
	assert_null(shadow_pool_find(&pool, 4, role(4)));
	assert_int_equal(fa.outstanding, outstanding);
	assert_false(shadow_pool_zap(&pool, sp4));
	/* The same key gets a new page while the old root is loaded. */
	fresh = get(4, role(4));
	assert_ptr_not_equal(fresh, sp4);
	shadow_pool_put_root(&pool, sp4);
	shadow_pool_release(&pool);
	assert_int_equal(fa.outstanding, outstanding);	/* one freed, one made */
	assert_ptr_equal(shadow_pool_find(&pool, 4, role(4)), fresh);
}

static void test_reclaim_lru(void **state)
{
	struct shadow_page *root, *a, *b, *c;
	bool ok;

	shadow_pool_init(&pool, &fa.a, 4);
	root = get(1, role(4));
	shadow_pool_get_root(root);
	a = get(2, role(3));
	b = get(3, role(3));
	c = get(4, role(3));
	assert_int_equal(shadow_page_link(&pool, root, 0, a), 0);
	assert_ptr_equal(shadow_pool_find(&pool, 2, role(3)), a);	/* a: used last */
	/* Room for two: the two coldest non-roots go (b, then c). */
	assert_false(shadow_pool_make_room(&pool, 2, &ok));
	assert_true(ok);
	assert_int_equal(pool.stats.recycled, 2);
	assert_null(shadow_pool_find(&pool, 3, role(3)));
	assert_null(shadow_pool_find(&pool, 4, role(3)));
	assert_ptr_equal(shadow_pool_find(&pool, 2, role(3)), a);
	(void)b;
	(void)c;
	/* Room for three more: a goes too (its parent spte is cleared: flush),
	 * the root stays and it is still one too many. */
	assert_true(shadow_pool_make_room(&pool, 4, &ok));
	assert_false(ok);
	assert_int_equal(root->spt[0], 0);
	assert_ptr_equal(shadow_pool_find(&pool, 1, role(4)), root);
	assert_int_equal(pool.stats.in_use, 1);
	assert_int_equal(pool.stats.peak, 4);
	shadow_pool_put_root(&pool, root);
	assert_int_equal(pool.stats.in_use, 1);		/* valid: stays cached */
}

static void test_zap_all_and_rmap(void **state)
{
	struct shadow_page *other;
	struct rmap_head *h = rmap_slot_head(&fa.rs, SLOT_GFN + 7);

	build_path();
	shadow_pool_get_root(sp4);
	other = get(9, role(1));
	assert_int_equal(shadow_page_set_leaf(&pool, sp1, 1, leaf(SLOT_GFN + 7), SLOT_GFN + 7), 0);
	assert_int_equal(shadow_page_set_leaf(&pool, other, 2, leaf(SLOT_GFN + 7), SLOT_GFN + 7), 0);
	assert_int_equal(shadow_page_set_leaf(&pool, other, 3, leaf(SLOT_GFN + 8), SLOT_GFN + 8), 0);
	/* The frame goes away: both leaves of it, nothing else. */
	assert_true(shadow_pool_zap_rmap(&pool, h));
	assert_int_equal(h->val, 0);
	assert_int_equal(sp1->spt[1], 0);
	assert_int_equal(other->spt[2], 0);
	assert_true(is_shadow_present_pte(other->spt[3]));
	assert_false(shadow_pool_zap_rmap(&pool, h));
	/* Everything: only the loaded root is left, invalid and empty. */
	assert_true(shadow_pool_zap_all(&pool));
	assert_int_equal(pool.stats.in_use, 1);
	assert_true(sp4->role.invalid);
	assert_int_equal(rmap_count(rmap_slot_head(&fa.rs, SLOT_GFN + 8)), 0);
	shadow_pool_put_root(&pool, sp4);
	assert_int_equal(pool.stats.in_use, 0);
	shadow_pool_release(&pool);
	assert_int_equal(fa.outstanding, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_and_oom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_walkable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_leaf_gfn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsync_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zap_leaf_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zap_keeps_children, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zap_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_lru, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zap_all_and_rmap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
