/*
 * rmap.c — the reverse map (rmap.h has the representation and its cost).
 *
 * Invariant of a head in descriptor form: the first descriptor of the
 * chain is the only one that may be partly filled, and every descriptor
 * holds its entries packed from index 0. So an add fills the first
 * descriptor (or pushes a new one in front), a removal moves the last
 * entry of the first descriptor into the hole, and a head that is down to
 * one spte goes back to the single-pointer form.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "mmu/rmap.h"
#include "mmu/spte.h"

struct rmap_desc {
	uint64_t *sptes[RMAP_DESC_SPTES];
	struct rmap_desc *more;
};

static_assert(sizeof(struct rmap_desc) == 64, "an rmap descriptor is one cache line");

#define RMAP_MANY 1ul

static bool is_many(const struct rmap_head *head)
{
	return head->val & RMAP_MANY;
}

static struct rmap_desc *desc_of(const struct rmap_head *head)
{
	return (struct rmap_desc *)(head->val & ~RMAP_MANY);
}

static void set_desc(struct rmap_head *head, struct rmap_desc *d)
{
	head->val = (uintptr_t)d | RMAP_MANY;
}

static unsigned desc_fill(const struct rmap_desc *d)
{
	unsigned n = 0;

	while (n < RMAP_DESC_SPTES && d->sptes[n])
		n++;
	return n;
}

int rmap_slot_init(struct rmap_slot *rs, gfn_t base_gfn, uint64_t npages)
{
	rs->base_gfn = base_gfn;
	rs->npages = npages;
	rs->heads = npages ? calloc(npages, sizeof(*rs->heads)) : NULL;
	return npages && !rs->heads ? -ENOMEM : 0;
}

void rmap_slot_destroy(struct rmap_slot *rs)
{
	for (uint64_t i = 0; i < rs->npages; i++)
		rmap_reset(&rs->heads[i]);
	free(rs->heads);
	rs->heads = NULL;
	rs->npages = 0;
}

struct rmap_head *rmap_slot_head(struct rmap_slot *rs, gfn_t gfn)
{
	if (gfn < rs->base_gfn || gfn - rs->base_gfn >= rs->npages)
		return NULL;
	return &rs->heads[gfn - rs->base_gfn];
}

int rmap_add(struct rmap_head *head, uint64_t *sptep)
{
	struct rmap_desc *d;
	unsigned n;

	assert(((uintptr_t)sptep & RMAP_MANY) == 0 && "rmap_add: sptep is 8-byte aligned");
	if (!head->val) {
		head->val = (uintptr_t)sptep;
		return 0;
	}
	if (!is_many(head)) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return -ENOMEM;
		d->sptes[0] = (uint64_t *)head->val;
		d->sptes[1] = sptep;
		set_desc(head, d);
		return 0;
	}
	d = desc_of(head);
	n = desc_fill(d);
	if (n < RMAP_DESC_SPTES) {
		d->sptes[n] = sptep;
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->sptes[0] = sptep;
	d->more = desc_of(head);
	set_desc(head, d);
	return 0;
}

void rmap_remove(struct rmap_head *head, uint64_t *sptep)
{
	struct rmap_desc *first, *d;
	unsigned last;

	if (!is_many(head)) {
		assert(head->val == (uintptr_t)sptep && "rmap_remove: sptep not in the rmap");
		head->val = 0;
		return;
	}
	first = desc_of(head);
	for (d = first; d; d = d->more) {
		for (unsigned i = 0; i < RMAP_DESC_SPTES && d->sptes[i]; i++) {
			if (d->sptes[i] != sptep)
				continue;
			last = desc_fill(first) - 1;
			d->sptes[i] = first->sptes[last];
			first->sptes[last] = NULL;
			if (last == 0) {
				/* The first descriptor emptied: drop it. */
				if (first->more)
					set_desc(head, first->more);
				else
					head->val = 0;
				free(first);
			} else if (last == 1 && !first->more) {
				head->val = (uintptr_t)first->sptes[0];
				free(first);
			}
			return;
		}
	}
	assert(!"rmap_remove: sptep not in the rmap");
}

void rmap_reset(struct rmap_head *head)
{
	struct rmap_desc *d, *next;

	if (is_many(head)) {
		for (d = desc_of(head); d; d = next) {
			next = d->more;
			free(d);
		}
	}
	head->val = 0;
}

uint64_t *rmap_iter_first(const struct rmap_head *head, struct rmap_iter *it)
{
	it->pos = 0;
	if (!is_many(head)) {
		it->desc = NULL;
		it->single = NULL;
		return (uint64_t *)head->val;
	}
	it->desc = desc_of(head);
	return it->desc->sptes[0];
}

uint64_t *rmap_iter_next(struct rmap_iter *it)
{
	if (!it->desc)
		return NULL;
	if (++it->pos < RMAP_DESC_SPTES && it->desc->sptes[it->pos])
		return it->desc->sptes[it->pos];
	it->desc = it->desc->more;
	it->pos = 0;
	return it->desc ? it->desc->sptes[0] : NULL;
}

unsigned rmap_count(const struct rmap_head *head)
{
	struct rmap_iter it;
	uint64_t *sptep;
	unsigned n = 0;

	for_each_rmap_spte(head, &it, sptep)
		n++;
	return n;
}

bool rmap_contains(const struct rmap_head *head, const uint64_t *sptep)
{
	struct rmap_iter it;
	uint64_t *p;

	for_each_rmap_spte(head, &it, p)
		if (p == sptep)
			return true;
	return false;
}

/* A processor may set A/D in the spte meanwhile: compare-exchange. */
static bool spte_protect_one(uint64_t *sptep, bool pt_protect)
{
	uint64_t old = spte_get(sptep), new;

	do {
		if (!is_shadow_present_pte(old))
			return false;
		new = spte_write_protect(old, pt_protect);
		if (new == old)
			return false;
	} while (!__atomic_compare_exchange_n(sptep, &old, new, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return is_writable_pte(old);
}

bool rmap_write_protect(struct rmap_head *head, bool pt_protect)
{
	struct rmap_iter it;
	uint64_t *sptep;
	bool flush = false;

	for_each_rmap_spte(head, &it, sptep)
		flush |= spte_protect_one(sptep, pt_protect);
	return flush;
}

bool rmap_write_protect_slot(struct rmap_slot *rs, bool pt_protect)
{
	bool flush = false;

	for (uint64_t i = 0; i < rs->npages; i++)
		flush |= rmap_write_protect(&rs->heads[i], pt_protect);
	return flush;
}
