/*
 * rmap.h — the reverse map: for each guest frame, the sptes that map it
 * (mmu.txt "Reverse map"). The shadow-cached strategy write-protects a
 * guest page table through it when it starts shadowing one, dirty
 * logging write-protects a whole memslot with it, and a memslot change
 * drops every translation of the slot. The shadow-page pool uses the same
 * list for a shadow page's parents (the sptes pointing at its table).
 *
 * An entry is the host pointer of an spte (sptep): the tables live in the
 * arena, which stays mapped at one address for the VM's life.
 *
 * Representation (KVM's trick, for compactness): one struct rmap_head of
 * one word per guest frame of a memslot.
 *
 *   head word      meaning
 *   0              no spte maps the frame
 *   ptr, bit 0 = 0 exactly one: ptr is the sptep
 *   ptr, bit 0 = 1 ptr & ~1 is a struct rmap_desc: RMAP_DESC_SPTES
 *                  entries and a link to the next descriptor
 *
 * Memory: 8 bytes per guest page of every memslot (0.2 % of guest RAM),
 * allocated with the slot; a frame mapped more than once costs one 64-byte
 * descriptor per seven sptes (malloc'ed host memory: the processor never
 * reads it). Most guest frames are mapped by one spte or none, so a plain
 * vector per frame (16+ bytes each) would cost more for nothing.
 *
 * Not thread-safe: the caller holds the MMU's lock.
 */
#ifndef HVLAB_MMU_RMAP_H
#define HVLAB_MMU_RMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlab/types.h"

#define RMAP_DESC_SPTES 7

struct rmap_head {
	uintptr_t val;		/* see the table above */
};

struct rmap_desc;

/* The heads of one memslot: heads[gfn - base_gfn]. */
struct rmap_slot {
	gfn_t base_gfn;
	uint64_t npages;
	struct rmap_head *heads;
};

int rmap_slot_init(struct rmap_slot *rs, gfn_t base_gfn, uint64_t npages);
/* Frees the descriptors; leaves the sptes alone (drop them first). */
void rmap_slot_destroy(struct rmap_slot *rs);
/* The head of @gfn, or NULL when @gfn is outside the slot. */
struct rmap_head *rmap_slot_head(struct rmap_slot *rs, gfn_t gfn);

/* 0, or -ENOMEM. An sptep must not be added to one head twice. */
int rmap_add(struct rmap_head *head, uint64_t *sptep);
/* @sptep must be in @head (asserted). */
void rmap_remove(struct rmap_head *head, uint64_t *sptep);
/* Empty @head, freeing its descriptors (the sptes are left alone). */
void rmap_reset(struct rmap_head *head);
unsigned rmap_count(const struct rmap_head *head);
bool rmap_contains(const struct rmap_head *head, const uint64_t *sptep);

/*
 * Iteration. The head must not change while iterating; to drop every
 * spte of a head, detach the list first (struct rmap_head taken = *head;
 * head->val = 0;), walk the copy, then rmap_reset(&taken).
 */
struct rmap_iter {
	uint64_t *single;
	const struct rmap_desc *desc;
	unsigned pos;
};
uint64_t *rmap_iter_first(const struct rmap_head *head, struct rmap_iter *it);
uint64_t *rmap_iter_next(struct rmap_iter *it);

#define for_each_rmap_spte(head, it, sptep) \
	for ((sptep) = rmap_iter_first((head), (it)); (sptep); (sptep) = rmap_iter_next(it))

/*
 * Write-protect every spte in @head (spte_write_protect; @pt_protect as
 * there). True when one of them was writable: the caller must flush the
 * TLBs before relying on the protection (SDM Vol. 3A 4.10.4.1).
 */
bool rmap_write_protect(struct rmap_head *head, bool pt_protect);
/* The same for every frame of a slot (dirty logging). */
bool rmap_write_protect_slot(struct rmap_slot *rs, bool pt_protect);

#endif
