/*
 * pool.h — the shadow-page pool both shadow strategies build on: shadow
 * pages (mmu.txt "Shadow pages"), found by (gfn, role) in a hash,
 * chained by gfn so that every page of one guest table can be found,
 * allocated from the arena under a page budget, reclaimed least recently
 * used first, and linked to each other and to guest frames only through
 * the functions here, which keep the invariants:
 *
 *   (1) a present non-leaf spte in sp->spt[i] points at child's table,
 *       and &sp->spt[i] is in child->parent_ptes — and conversely;
 *   (2) a present leaf spte of an indirect page is in the reverse map
 *       of sp->gfns[i] (direct pages: of the gfn their range gives);
 *   (3) sp->unsync_child_bitmap bit i is set iff spt[i] points at a
 *       child that is unsync or has unsync_children, and
 *       sp->unsync_children is the number of bits set;
 *   (4) a page with root_count > 0 is never freed: zapping it only makes
 *       it invalid (out of the hash, its table emptied), and the last
 *       shadow_pool_put_root() frees it.
 *
 * Tables are 4 KiB pages of the arena (ARCHITECTURE §3) reached through
 * struct shadow_alloc, so unit tests run on a buffer and hvlab on
 * vm_alloc_page(); leaf sptes reach the reverse map through ops->rmap_of
 * (memslots belong to the strategy). The struct shadow_page itself is
 * host memory: the processor only ever reads its table.
 *
 * Lifetime legend: (k) part of the key, constant while hashed; (p) kept
 * by this file's link/zap functions; (s) the strategy's to set.
 * Not thread-safe: the caller holds the MMU's lock.
 */
#ifndef HVLAB_MMU_POOL_H
#define HVLAB_MMU_POOL_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvlab/types.h"
#include "mmu/rmap.h"

#define SHADOW_ENTRIES 512
#define SHADOW_HASH_BUCKETS 1024	/* power of two */

/*
 * What a shadow page translates for (mmu.txt, role.*): pages for the same
 * guest table under different roles are different shadow pages. Build a
 * role from zero ((union shadow_role){ .word = 0 } or a designated
 * initializer of the fields): the key compares the whole word.
 */
union shadow_role {
	uint32_t word;
	struct {
		unsigned level : 3;		/* 1 = 4 KiB sptes .. 4 = PML4 */
		unsigned direct : 1;		/* a linear range from gfn, not a
						 * guest table */
		unsigned quadrant : 2;		/* 32-bit guests: which part of the
						 * guest table (mmu.txt) */
		unsigned access : 4;		/* SPTE_ACC_* inherited from above */
		unsigned cr4_pae : 1;		/* 64-bit gptes (0: 32-bit paging) */
		unsigned efer_nx : 1;
		unsigned cr0_wp : 1;
		unsigned smep_andnot_wp : 1;	/* CR4.SMEP && !CR0.WP */
		unsigned smap_andnot_wp : 1;	/* CR4.SMAP && !CR0.WP */
		unsigned invalid : 1;		/* zapped while a root: freed at
						 * the last put_root */
		unsigned pad : 16;		/* zero: keeps the word defined */
	};
};

static_assert(sizeof(union shadow_role) == 4, "a shadow role is one 32-bit word");

struct shadow_page {
	gfn_t gfn;				/* (k) guest table, or base frame
						 * of a direct page's range */
	union shadow_role role;			/* (k) */
	hpa_t hpa;				/* its 4 KiB table in the arena */
	uint64_t *spt;				/* the table's host pointer */
	gfn_t *gfns;				/* (p) indirect pages with leaves:
						 * the gfn each leaf maps */
	struct rmap_head parent_ptes;		/* (p) sptes pointing at spt */
	bool unsync;				/* (s) guest table may differ
						 * (shadow_page_mark_unsync) */
	unsigned unsync_children;		/* (p) invariant (3) */
	uint64_t unsync_child_bitmap[SHADOW_ENTRIES / 64];	/* (p) */
	unsigned root_count;			/* (p) CR3 / PDPTEs pointing here */
	unsigned write_flooding_count;		/* (s) emulated writes to the guest
						 * table since a fault last used
						 * this page */
	struct shadow_page *hash_next;		/* (p) key hash chain */
	struct shadow_page *hpa_next;		/* (p) table-address hash chain */
	struct shadow_page *lru_prev, *lru_next;	/* (p) most recent first */
};

struct shadow_pool;

/*
 * Memory and memslots, supplied by the strategy. Embed it and recover the
 * container with container_of in the callbacks.
 */
struct shadow_alloc {
	uint8_t *arena;			/* host pointer of hpa 0 */
	/* A zeroed 4 KiB page, or INVALID_HPA. */
	hpa_t (*alloc_page)(struct shadow_alloc *a);
	void (*free_page)(struct shadow_alloc *a, hpa_t hpa);
	/* The reverse-map head of @gfn (a leaf spte maps it), or NULL when
	 * no memslot has it (then no leaf may map it: MMIO sptes are not
	 * present). */
	struct rmap_head *(*rmap_of)(struct shadow_alloc *a, gfn_t gfn);
};

/* Counters the strategy copies to the VM's stats (KVM's names). */
struct shadow_pool_stats {
	uint64_t in_use;		/* shadow pages allocated now */
	uint64_t peak;			/* ... at most */
	uint64_t cache_miss;		/* mmu_cache_miss: pages made */
	uint64_t zapped;		/* mmu_shadow_zapped */
	uint64_t recycled;		/* mmu_recycled: zapped by reclaim */
};

struct shadow_pool {
	struct shadow_alloc *alloc;
	uint64_t budget;		/* at most this many pages */
	struct shadow_page *hash[SHADOW_HASH_BUCKETS];
	struct shadow_page *by_hpa[SHADOW_HASH_BUCKETS];
	struct shadow_page *lru_first, *lru_last;
	struct shadow_pool_stats stats;
	/* Frames of freed pages not yet given back (KVM's invalid list): a
	 * processor on another thread may still walk one until every TLB
	 * has been flushed, so it must not be reused before. */
	hpa_t *limbo;
	unsigned nlimbo, caplimbo;
};

/* @budget pages at most (>= 1). */
void shadow_pool_init(struct shadow_pool *pool, struct shadow_alloc *alloc, uint64_t budget);
/* Frees every page, roots included: the caller has unloaded them. */
void shadow_pool_destroy(struct shadow_pool *pool);

/* Give the frames of freed pages back to the allocator: the caller has
 * flushed every processor's TLB since they were freed. */
void shadow_pool_release(struct shadow_pool *pool);

/* The valid page for (@gfn, @role), made most recently used; or NULL. */
struct shadow_page *shadow_pool_find(struct shadow_pool *pool, gfn_t gfn, union shadow_role role);
/*
 * Find, or make an empty page for (@gfn, @role): 0 and *@spp, *@created
 * telling which; -ENOSPC at the budget, -ENOMEM when the arena is out.
 * It never reclaims (a reclaim could free a page the caller is standing
 * on): call shadow_pool_make_room() first, where nothing is held.
 */
int shadow_pool_get(struct shadow_pool *pool, gfn_t gfn, union shadow_role role,
		    struct shadow_page **spp, bool *created);
/*
 * Every valid indirect page shadowing guest table @gfn, whatever its
 * role (direct pages are skipped: their gfn is a range, not a table):
 *
 *	for (sp = shadow_pool_first_of_gfn(pool, gfn); sp;
 *	     sp = shadow_pool_next_of_gfn(sp->hash_next, gfn))
 *
 * Zapping the current page is allowed when the loop has fetched
 * sp->hash_next first (use a second variable).
 */
static inline unsigned shadow_pool_gfn_bucket(gfn_t gfn)
{
	return (unsigned)((gfn * 0x9e3779b97f4a7c15ull) >> 54) & (SHADOW_HASH_BUCKETS - 1);
}
struct shadow_page *shadow_pool_next_of_gfn(struct shadow_page *sp, gfn_t gfn);
static inline struct shadow_page *shadow_pool_first_of_gfn(struct shadow_pool *pool, gfn_t gfn)
{
	return shadow_pool_next_of_gfn(pool->hash[shadow_pool_gfn_bucket(gfn)], gfn);
}

/* The page whose table holds @sptep, or NULL. */
struct shadow_page *shadow_pool_page_of(struct shadow_pool *pool, const uint64_t *sptep);

/*
 * Zap least recently used non-root pages until @npages more fit in the
 * budget. True when an spte was cleared (flush the TLBs); *@ok (may be
 * NULL) false when even then they do not fit (every page is a root).
 */
bool shadow_pool_make_room(struct shadow_pool *pool, uint64_t npages, bool *ok);

void shadow_pool_get_root(struct shadow_page *sp);
void shadow_pool_put_root(struct shadow_pool *pool, struct shadow_page *sp);

/*
 * Entries. @i is the index in sp->spt. Each keeps invariants (1)-(3) and
 * replaces whatever spt[i] held (dropped first, as shadow_page_drop does).
 */
/* A leaf mapping @gfn: 0, or -ENOMEM (reverse map). */
int shadow_page_set_leaf(struct shadow_pool *pool, struct shadow_page *sp, unsigned i,
			 uint64_t spte, gfn_t gfn);
/* A non-leaf spte pointing at @child (level sp->role.level - 1). */
int shadow_page_link(struct shadow_pool *pool, struct shadow_page *sp, unsigned i,
		     struct shadow_page *child);
/* A not-present MMIO spte (spte_make_mmio). */
void shadow_page_set_mmio(struct shadow_pool *pool, struct shadow_page *sp, unsigned i,
			  uint64_t spte);
/* Clear spt[i]; true when it was present (flush). */
bool shadow_page_drop(struct shadow_pool *pool, struct shadow_page *sp, unsigned i);
/* The gfn leaf spt[i] maps (for a direct page, from its range). */
gfn_t shadow_page_leaf_gfn(const struct shadow_page *sp, unsigned i);

/* Unsync (mmu.txt): mark/clear sp->unsync and keep invariant (3) up to
 * every root that reaches @sp. */
void shadow_page_mark_unsync(struct shadow_pool *pool, struct shadow_page *sp);
void shadow_page_clear_unsync(struct shadow_pool *pool, struct shadow_page *sp);

/*
 * Zap @sp: clear every parent spte pointing at it, drop every spte of its
 * own table (leaves leave the reverse map, children lose this parent but
 * stay cached: a zap never recurses, so it costs at most 512 entries plus
 * the parents; an orphaned child is reclaimed in its turn or found again
 * by its key), and free it, or mark it invalid while it is a root. True
 * when a present spte was cleared (flush the TLBs).
 */
bool shadow_pool_zap(struct shadow_pool *pool, struct shadow_page *sp);
/* Zap every page (shadow-flush's CR3 write; memslot changes). */
bool shadow_pool_zap_all(struct shadow_pool *pool);
/*
 * Drop every leaf spte mapping a frame, through its reverse map @head
 * (a memslot change, a host page going away). True when one was present.
 */
bool shadow_pool_zap_rmap(struct shadow_pool *pool, struct rmap_head *head);

#endif
