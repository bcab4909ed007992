/*
 * pool.c — the shadow-page pool (pool.h has the invariants (1)-(4)).
 *
 * Two hashes: by key (gfn, role; bucketed by gfn) for the fault path's
 * lookups and for finding every page of a guest table, and by
 * table address so that an spte pointer or a non-leaf spte's address
 * leads back to its shadow page (KVM keeps that in struct page's private
 * field; the arena has no struct page). A zapped root that is still
 * loaded leaves the key hash at once, so no lookup finds it again, but
 * stays in the address hash and the LRU list until its last put.
 *
 * Zap order: the parents' sptes first (the page becomes unreachable and
 * nothing above needs an unsync bit for it), then the page's own
 * entries. A zap never recurses into children: they keep their sptes and
 * stay in the hash, merely orphaned, so the next fault that reaches the
 * same guest table under the same role links them again for free; reclaim
 * takes them when they have not been used for longest.
 *
 * Reclaim walks the LRU list from its cold end, skipping roots (pinned by
 * a loaded CR3 or PDPTE, mmu.txt role.invalid). Zapping one page frees
 * that page alone, so the walk can go on from its predecessor.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "mmu/pool.h"
#include "mmu/spte.h"

#define HASH_MASK (SHADOW_HASH_BUCKETS - 1)

static_assert((SHADOW_HASH_BUCKETS & HASH_MASK) == 0, "bucket count is a power of two");

/* By gfn alone (as KVM's hash): every page of one guest table, whatever
 * its role, is on one chain, which shadow_pool_first_of_gfn() walks. */
static unsigned key_bucket(gfn_t gfn, union shadow_role role)
{
	(void)role;
	return shadow_pool_gfn_bucket(gfn);
}

static unsigned hpa_bucket(hpa_t hpa)
{
	return (unsigned)(hpa >> HV_PAGE_SHIFT) & HASH_MASK;
}

static struct shadow_page *page_of_hpa(struct shadow_pool *pool, hpa_t hpa)
{
	struct shadow_page *sp;

	for (sp = pool->by_hpa[hpa_bucket(hpa)]; sp; sp = sp->hpa_next)
		if (sp->hpa == hpa)
			return sp;
	return NULL;
}

struct shadow_page *shadow_pool_page_of(struct shadow_pool *pool, const uint64_t *sptep)
{
	hpa_t hpa = (hpa_t)((const uint8_t *)sptep - pool->alloc->arena);

	return page_of_hpa(pool, hpa & HV_PAGE_MASK);
}

static unsigned index_of(const struct shadow_page *sp, const uint64_t *sptep)
{
	return (unsigned)(sptep - sp->spt);
}

/* ---------------------------------------------------------------- lists */

static void lru_unlink(struct shadow_pool *pool, struct shadow_page *sp)
{
	if (sp->lru_prev)
		sp->lru_prev->lru_next = sp->lru_next;
	else
		pool->lru_first = sp->lru_next;
	if (sp->lru_next)
		sp->lru_next->lru_prev = sp->lru_prev;
	else
		pool->lru_last = sp->lru_prev;
	sp->lru_prev = sp->lru_next = NULL;
}

static void lru_push(struct shadow_pool *pool, struct shadow_page *sp)
{
	sp->lru_prev = NULL;
	sp->lru_next = pool->lru_first;
	if (pool->lru_first)
		pool->lru_first->lru_prev = sp;
	else
		pool->lru_last = sp;
	pool->lru_first = sp;
}

static void unhash_key(struct shadow_pool *pool, struct shadow_page *sp)
{
	struct shadow_page **pp = &pool->hash[key_bucket(sp->gfn, sp->role)];

	for (; *pp; pp = &(*pp)->hash_next) {
		if (*pp == sp) {
			*pp = sp->hash_next;
			sp->hash_next = NULL;
			return;
		}
	}
}

static void unhash_hpa(struct shadow_pool *pool, struct shadow_page *sp)
{
	struct shadow_page **pp = &pool->by_hpa[hpa_bucket(sp->hpa)];

	for (; *pp; pp = &(*pp)->hpa_next) {
		if (*pp == sp) {
			*pp = sp->hpa_next;
			return;
		}
	}
}

/* ---------------------------------------------------------------- pages */

void shadow_pool_init(struct shadow_pool *pool, struct shadow_alloc *alloc, uint64_t budget)
{
	memset(pool, 0, sizeof(*pool));
	pool->alloc = alloc;
	pool->budget = budget ? budget : 1;
}

struct shadow_page *shadow_pool_find(struct shadow_pool *pool, gfn_t gfn, union shadow_role role)
{
	struct shadow_page *sp;

	for (sp = pool->hash[key_bucket(gfn, role)]; sp; sp = sp->hash_next) {
		if (sp->gfn == gfn && sp->role.word == role.word) {
			lru_unlink(pool, sp);
			lru_push(pool, sp);
			return sp;
		}
	}
	return NULL;
}

int shadow_pool_get(struct shadow_pool *pool, gfn_t gfn, union shadow_role role,
		    struct shadow_page **spp, bool *created)
{
	struct shadow_page *sp = shadow_pool_find(pool, gfn, role);
	unsigned b;

	*created = false;
	if (sp) {
		*spp = sp;
		return 0;
	}
	assert(role.level >= 1 && role.level <= 4 && !role.invalid &&
	       "shadow_pool_get: a valid role of level 1..4");
	if (pool->stats.in_use >= pool->budget)
		return -ENOSPC;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->hpa = pool->alloc->alloc_page(pool->alloc);
	if (sp->hpa == INVALID_HPA) {
		free(sp);
		return -ENOMEM;
	}
	sp->spt = (uint64_t *)(pool->alloc->arena + sp->hpa);
	sp->gfn = gfn;
	sp->role = role;
	b = key_bucket(gfn, role);
	sp->hash_next = pool->hash[b];
	pool->hash[b] = sp;
	b = hpa_bucket(sp->hpa);
	sp->hpa_next = pool->by_hpa[b];
	pool->by_hpa[b] = sp;
	lru_push(pool, sp);
	pool->stats.cache_miss++;
	HV_TRACE_SP_CREATE(gfn, role.word);
	if (++pool->stats.in_use > pool->stats.peak)
		pool->stats.peak = pool->stats.in_use;
	*spp = sp;
	*created = true;
	return 0;
}

/* Give @sp back; its table holds nothing and nothing points at it. */
/* The frame waits in limbo for shadow_pool_release (or, if limbo
 * cannot grow, goes back at once: correct with one processor). */
static void free_frame(struct shadow_pool *pool, hpa_t hpa)
{
	if (pool->nlimbo == pool->caplimbo) {
		const unsigned cap = pool->caplimbo ? 2 * pool->caplimbo : 64;
		hpa_t *l = realloc(pool->limbo, cap * sizeof(*l));
		if (!l) {
			pool->alloc->free_page(pool->alloc, hpa);
			return;
		}
		pool->limbo = l;
		pool->caplimbo = cap;
	}
	pool->limbo[pool->nlimbo++] = hpa;
}

void shadow_pool_release(struct shadow_pool *pool)
{
	for (unsigned i = 0; i < pool->nlimbo; i++)
		pool->alloc->free_page(pool->alloc, pool->limbo[i]);
	pool->nlimbo = 0;
}

static void free_page(struct shadow_pool *pool, struct shadow_page *sp)
{
	if (!sp->role.invalid)
		unhash_key(pool, sp);
	unhash_hpa(pool, sp);
	lru_unlink(pool, sp);
	free_frame(pool, sp->hpa);
	free(sp->gfns);
	free(sp);
	pool->stats.in_use--;
}

void shadow_pool_get_root(struct shadow_page *sp)
{
	sp->root_count++;
}

void shadow_pool_put_root(struct shadow_pool *pool, struct shadow_page *sp)
{
	assert(sp->root_count > 0 && "shadow_pool_put_root: page is no root");
	if (--sp->root_count == 0 && sp->role.invalid)
		free_page(pool, sp);
}

/* ---------------------------------------------------------------- unsync */

/* Does @sp's slot in each parent need its unsync bit (invariant (3))? */
static bool wants_bit(const struct shadow_page *sp)
{
	return sp->unsync || sp->unsync_children;
}

static void set_child_bit(struct shadow_pool *pool, struct shadow_page *sp, unsigned i);
static void clear_child_bit(struct shadow_pool *pool, struct shadow_page *sp, unsigned i);

/* @sp started (@set) or stopped wanting its bit: tell every parent. */
static void tell_parents(struct shadow_pool *pool, struct shadow_page *sp, bool set)
{
	struct rmap_iter it;
	uint64_t *sptep;

	for_each_rmap_spte(&sp->parent_ptes, &it, sptep) {
		struct shadow_page *parent = shadow_pool_page_of(pool, sptep);

		assert(parent && "unsync: a parent spte outside every shadow page");
		if (set)
			set_child_bit(pool, parent, index_of(parent, sptep));
		else
			clear_child_bit(pool, parent, index_of(parent, sptep));
	}
}

static bool test_bit(const uint64_t *map, unsigned i)
{
	return map[i / 64] >> (i % 64) & 1;
}

static void set_child_bit(struct shadow_pool *pool, struct shadow_page *sp, unsigned i)
{
	bool was = wants_bit(sp);

	if (test_bit(sp->unsync_child_bitmap, i))
		return;
	sp->unsync_child_bitmap[i / 64] |= 1ull << (i % 64);
	sp->unsync_children++;
	if (!was)
		tell_parents(pool, sp, true);
}

static void clear_child_bit(struct shadow_pool *pool, struct shadow_page *sp, unsigned i)
{
	if (!test_bit(sp->unsync_child_bitmap, i))
		return;
	sp->unsync_child_bitmap[i / 64] &= ~(1ull << (i % 64));
	sp->unsync_children--;
	if (!wants_bit(sp))
		tell_parents(pool, sp, false);
}

void shadow_page_mark_unsync(struct shadow_pool *pool, struct shadow_page *sp)
{
	bool was = wants_bit(sp);

	sp->unsync = true;
	if (!was)
		tell_parents(pool, sp, true);
}

void shadow_page_clear_unsync(struct shadow_pool *pool, struct shadow_page *sp)
{
	bool was = wants_bit(sp);

	sp->unsync = false;
	if (was && !wants_bit(sp))
		tell_parents(pool, sp, false);
}

/* ---------------------------------------------------------------- entries */

gfn_t shadow_page_leaf_gfn(const struct shadow_page *sp, unsigned i)
{
	if (sp->role.direct)
		return sp->gfn + ((gfn_t)i << (9 * (sp->role.level - 1)));
	return sp->gfns ? sp->gfns[i] : 0;
}

bool shadow_page_drop(struct shadow_pool *pool, struct shadow_page *sp, unsigned i)
{
	uint64_t *sptep = &sp->spt[i];
	uint64_t old = spte_clear(sptep);
	struct shadow_page *child;
	struct rmap_head *head;

	if (!is_shadow_present_pte(old))
		return false;
	if (is_last_spte(old, sp->role.level)) {
		head = pool->alloc->rmap_of(pool->alloc, shadow_page_leaf_gfn(sp, i));
		assert(head && "shadow_page_drop: a leaf of a gfn with no reverse map");
		rmap_remove(head, sptep);
		return true;
	}
	child = page_of_hpa(pool, spte_to_hpa(old));
	assert(child && "shadow_page_drop: a non-leaf spte to no shadow page");
	rmap_remove(&child->parent_ptes, sptep);
	clear_child_bit(pool, sp, i);
	return true;
}

int shadow_page_set_leaf(struct shadow_pool *pool, struct shadow_page *sp, unsigned i,
			 uint64_t spte, gfn_t gfn)
{
	struct rmap_head *head = pool->alloc->rmap_of(pool->alloc, gfn);
	int ret;

	assert(is_shadow_present_pte(spte) && is_last_spte(spte, sp->role.level) &&
	       "shadow_page_set_leaf: a present leaf spte for this level");
	assert((!sp->role.direct || shadow_page_leaf_gfn(sp, i) == gfn) &&
	       "shadow_page_set_leaf: a direct page maps its own range");
	if (!head)
		return -EINVAL;
	shadow_page_drop(pool, sp, i);
	if (!sp->role.direct && !sp->gfns) {
		sp->gfns = calloc(SHADOW_ENTRIES, sizeof(*sp->gfns));
		if (!sp->gfns)
			return -ENOMEM;
	}
	ret = rmap_add(head, &sp->spt[i]);
	if (ret)
		return ret;
	if (!sp->role.direct)
		sp->gfns[i] = gfn;
	spte_set(&sp->spt[i], spte);
	return 0;
}

int shadow_page_link(struct shadow_pool *pool, struct shadow_page *sp, unsigned i,
		     struct shadow_page *child)
{
	int ret;

	assert(child->role.level + 1 == sp->role.level && !child->role.invalid &&
	       "shadow_page_link: a valid child one level down");
	shadow_page_drop(pool, sp, i);
	ret = rmap_add(&child->parent_ptes, &sp->spt[i]);
	if (ret)
		return ret;
	spte_set(&sp->spt[i], spte_make_nonleaf(child->hpa));
	if (wants_bit(child))
		set_child_bit(pool, sp, i);
	return 0;
}

void shadow_page_set_mmio(struct shadow_pool *pool, struct shadow_page *sp, unsigned i,
			  uint64_t spte)
{
	assert(is_mmio_spte(spte) && "shadow_page_set_mmio: an MMIO spte");
	shadow_page_drop(pool, sp, i);
	spte_set(&sp->spt[i], spte);
}

/* ---------------------------------------------------------------- zap */

bool shadow_pool_zap(struct shadow_pool *pool, struct shadow_page *sp)
{
	struct rmap_iter it;
	uint64_t *sptep;
	bool flush = false;

	if (sp->role.invalid)
		return false;	/* a loaded root zapped before: already empty */

	/* 1. Unreachable from above: no parent keeps an unsync bit for it. */
	for_each_rmap_spte(&sp->parent_ptes, &it, sptep) {
		struct shadow_page *parent = shadow_pool_page_of(pool, sptep);

		assert(parent && "shadow_pool_zap: a parent spte outside every shadow page");
		flush |= is_shadow_present_pte(spte_clear(sptep));
		clear_child_bit(pool, parent, index_of(parent, sptep));
	}
	rmap_reset(&sp->parent_ptes);

	/* 2. Its own entries: leaves leave the reverse map, children lose a
	 * parent. */
	for (unsigned i = 0; i < SHADOW_ENTRIES; i++)
		flush |= shadow_page_drop(pool, sp, i);
	assert(sp->unsync_children == 0 && "shadow_pool_zap: unsync bits left");

	/* 3. Gone, or invalid until the last root reference goes. */
	pool->stats.zapped++;
	HV_TRACE_SP_ZAP(sp->gfn, sp->role.word);
	if (sp->root_count) {
		unhash_key(pool, sp);
		sp->role.invalid = 1;
	} else {
		free_page(pool, sp);
	}
	return flush;
}

bool shadow_pool_zap_all(struct shadow_pool *pool)
{
	struct shadow_page *sp, *next;
	bool flush = false;

	for (sp = pool->lru_first; sp; sp = next) {
		next = sp->lru_next;
		flush |= shadow_pool_zap(pool, sp);
	}
	return flush;
}

bool shadow_pool_zap_rmap(struct shadow_pool *pool, struct rmap_head *head)
{
	struct rmap_head taken = *head;
	struct rmap_iter it;
	uint64_t *sptep;
	bool flush = false;

	head->val = 0;
	for_each_rmap_spte(&taken, &it, sptep)
		flush |= is_shadow_present_pte(spte_clear(sptep));
	rmap_reset(&taken);
	return flush;
}

bool shadow_pool_make_room(struct shadow_pool *pool, uint64_t npages, bool *ok)
{
	struct shadow_page *sp, *prev;
	bool flush = false;

	for (sp = pool->lru_last; sp && pool->stats.in_use + npages > pool->budget; sp = prev) {
		prev = sp->lru_prev;
		if (sp->root_count)
			continue;
		flush |= shadow_pool_zap(pool, sp);
		pool->stats.recycled++;
	}
	if (ok)
		*ok = pool->stats.in_use + npages <= pool->budget;
	return flush;
}

void shadow_pool_destroy(struct shadow_pool *pool)
{
	struct shadow_page *sp, *next;

	shadow_pool_zap_all(pool);
	/* What is left are loaded roots, zapped (empty) now. */
	for (sp = pool->lru_first; sp; sp = next) {
		next = sp->lru_next;
		free_page(pool, sp);
	}
	shadow_pool_release(pool);	/* no processor runs any more */
	free(pool->limbo);
	pool->limbo = NULL;
	pool->caplimbo = 0;
}

struct shadow_page *shadow_pool_next_of_gfn(struct shadow_page *sp, gfn_t gfn)
{
	for (; sp; sp = sp->hash_next)
		if (sp->gfn == gfn && !sp->role.direct)
			return sp;
	return NULL;
}
