/*
 * tlb.c — the TLB model: fill and the invalidations (see tlb.h for the
 * layout and tagging; SDM Vol. 3A 4.10, Vol. 3C 28.3; APM Vol. 2 5.5,
 * 15.16).
 *
 * Invalidation walks the arrays; flushes are rare next to lookups, and a
 * full scan is what makes "drops exactly what the manual says" easy to
 * see: every flush names the tag fields it compares and whether global
 * entries survive.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/tlb.h"

static const unsigned size_shift[HW_TLB_NR_SIZES] = { 12, 21, 30 };

static int array_init(struct hw_tlb_array *a, unsigned entries, unsigned ways,
		      unsigned shift)
{
	a->ways = ways;
	a->sets = entries / ways;
	a->shift = shift;
	a->e = malloc(sizeof(*a->e) * entries);
	a->next = calloc(a->sets, 1);
	if (!a->e || !a->next)
		return -ENOMEM;
	for (unsigned i = 0; i < entries; i++)
		a->e[i].vpn = ~0ull;
	return 0;
}

/* Entries left the TLB: decode-cache keys derived from them are stale. */
static void bump_epoch(struct hw_tlb *tlb)
{
	if (tlb->epoch)
		(*tlb->epoch)++;
}

/* Other processors read write_tag while this one runs (hw/dcode.c): it
 * is stored atomically, here and in hw/xlat.c. */
static void front_drop(struct emu_tlb_entry *f)
{
	f->read_tag = EMU_TLB_INVALID;
	__atomic_store_n(&f->write_tag, EMU_TLB_INVALID, __ATOMIC_RELEASE);
}

void hw_tlb_front_clear(struct hw_tlb *tlb)
{
	bump_epoch(tlb);
	for (unsigned i = 0; i < EMU_TLB_SIZE; i++)
		front_drop(&tlb->front[i]);
}

/* An entry of 4 KiB page @vpn leaves the TLB: so does its front copy. */
static void front_drop_4k(struct hw_tlb *tlb, uint64_t vpn)
{
	bump_epoch(tlb);
	struct emu_tlb_entry *f = &tlb->front[vpn & (EMU_TLB_SIZE - 1)];
	if ((f->read_tag >> 12) == vpn || (f->write_tag >> 12) == vpn)
		front_drop(f);
}

int hw_tlb_init(struct hw_tlb *tlb, const struct hw_tlb_config *cfg)
{
	const unsigned entries[] = { cfg->entries_4k, cfg->entries_2m, cfg->entries_1g };
	const unsigned ways[] = { cfg->ways_4k, cfg->ways_2m, cfg->ways_1g };
	memset(tlb, 0, sizeof(*tlb));
	tlb->front = malloc(sizeof(*tlb->front) * EMU_TLB_SIZE);
	if (!tlb->front)
		return -ENOMEM;
	hw_tlb_front_clear(tlb);
	for (unsigned s = 0; s < HW_TLB_NR_SIZES; s++) {
		if (array_init(&tlb->a[s], entries[s], ways[s], size_shift[s])) {
			hw_tlb_free(tlb);
			return -ENOMEM;
		}
	}
	int r = hw_psc_init(&tlb->psc, cfg->psc_entries);
	if (r)
		hw_tlb_free(tlb);
	return r;
}

void hw_tlb_free(struct hw_tlb *tlb)
{
	hw_psc_free(&tlb->psc);
	free(tlb->front);
	tlb->front = NULL;
	for (unsigned s = 0; s < HW_TLB_NR_SIZES; s++) {
		free(tlb->a[s].e);
		free(tlb->a[s].next);
		tlb->a[s].e = NULL;
		tlb->a[s].next = NULL;
	}
}

/* An entry leaves the array (invalidated or replaced). */
static void drop_entry(struct hw_tlb_array *a, struct hw_tlb_entry *e)
{
	if (e->vpn != ~0ull && e->page_shift > e->shift)
		a->pieces--;
	e->vpn = ~0ull;
}

/*
 * A translation of a page larger than the arrays offer is cached as the
 * largest piece that fits around @la (a 4 MiB page as its 2 MiB half);
 * so is a piece of a guest page that a smaller nested page backs.
 */
void hw_tlb_fill_piece(struct hw_tlb *tlb, uint64_t la, uint64_t tag, unsigned shift,
		       unsigned page_shift, hpa_t hpa, unsigned rights)
{
	unsigned s = shift >= 30 ? HW_TLB_1G : shift >= 21 ? HW_TLB_2M : HW_TLB_4K;
	struct hw_tlb_array *a = &tlb->a[s];
	const uint64_t vpn = la >> a->shift;
	const uint64_t piece = hpa + ((la & ((1ull << shift) - 1)) & ~((1ull << a->shift) - 1));
	const unsigned set = (unsigned)(vpn & (a->sets - 1));
	struct hw_tlb_entry *e = &a->e[set * a->ways];

	/* Replace a stale copy of the same page and tag in place. */
	unsigned w;
	for (w = 0; w < a->ways; w++)
		if (e[w].vpn == vpn && e[w].tag == tag)
			break;
	if (w == a->ways) {
		w = a->next[set];
		a->next[set] = (uint8_t)((w + 1) % a->ways);
	}
	if (e[w].vpn != ~0ull) {
		if (s == HW_TLB_4K)
			front_drop_4k(tlb, e[w].vpn);
		else
			hw_tlb_front_clear(tlb);
		drop_entry(a, &e[w]);
	}
	if (page_shift < a->shift)
		page_shift = a->shift;
	e[w] = (struct hw_tlb_entry){ .vpn = vpn, .tag = tag, .hpa = piece,
				      .rights = rights, .shift = (uint16_t)a->shift,
				      .page_shift = (uint16_t)page_shift };
	if (page_shift > a->shift)
		a->pieces++;
}

void hw_tlb_fill(struct hw_tlb *tlb, uint64_t la, uint64_t tag, unsigned shift,
		 hpa_t hpa, unsigned rights)
{
	hw_tlb_fill_piece(tlb, la, tag, shift, shift, hpa, rights);
}

static bool tag_match(const struct hw_tlb_entry *e, uint64_t tag, uint64_t mask)
{
	return ((e->tag ^ tag) & mask) == 0;
}

/* Does INVLPG-style flushing under @tag/@mask drop @e? */
static bool addr_drops(const struct hw_tlb_entry *e, uint64_t tag, uint64_t mask,
		       bool keep_global)
{
	const bool global = e->rights & HW_R_GLOBAL;
	if (global && keep_global)
		return false;
	/* A global entry belongs to every PCID (SDM 4.10.2.4). */
	return tag_match(e, tag, global ? mask & ~HW_TLB_M_PCID : mask);
}

/*
 * INVLPG invalidates every TLB entry of the page holding @la, whatever
 * its size (SDM Vol. 2A INVLPG, note 1; Vol. 3A 4.10.2.3). Entries of
 * whole pages sit at @la's index; pieces of a larger guest page (the
 * other half of a 4 MiB page, the 4 KiB pieces of a guest page that 4 KiB
 * nested pages back) may be anywhere in the array, which is scanned when
 * it holds any.
 */
void hw_tlb_flush_addr(struct hw_tlb *tlb, uint64_t la, uint64_t tag, uint64_t mask,
		       bool keep_global)
{
	bool large = false;
	for (unsigned s = 0; s < HW_TLB_NR_SIZES; s++) {
		struct hw_tlb_array *a = &tlb->a[s];
		const uint64_t vpn = la >> a->shift;
		struct hw_tlb_entry *e = &a->e[(vpn & (a->sets - 1)) * a->ways];
		for (unsigned w = 0; w < a->ways; w++) {
			if (e[w].vpn == vpn && addr_drops(&e[w], tag, mask, keep_global)) {
				drop_entry(a, &e[w]);
				large |= s != HW_TLB_4K;
			}
		}
		for (unsigned i = 0; a->pieces && i < a->sets * a->ways; i++) {
			struct hw_tlb_entry *p = &a->e[i];
			if (p->vpn == ~0ull || p->page_shift <= p->shift ||
			    ((p->vpn << p->shift) >> p->page_shift) != la >> p->page_shift ||
			    !addr_drops(p, tag, mask, keep_global))
				continue;
			drop_entry(a, p);
			large = true;	/* its front copies may be anywhere */
		}
	}
	hw_psc_flush_tag(&tlb->psc, tag, mask);
	/* The front holds 4 KiB pieces: a large page's may be anywhere. */
	if (large)
		hw_tlb_front_clear(tlb);
	else
		front_drop_4k(tlb, la >> 12);
}

void hw_tlb_flush_tag(struct hw_tlb *tlb, uint64_t tag, uint64_t mask, bool keep_global)
{
	for (unsigned s = 0; s < HW_TLB_NR_SIZES; s++) {
		struct hw_tlb_array *a = &tlb->a[s];
		for (unsigned i = 0; i < a->sets * a->ways; i++) {
			struct hw_tlb_entry *e = &a->e[i];
			if (e->vpn == ~0ull)
				continue;
			const bool global = e->rights & HW_R_GLOBAL;
			if (global && keep_global)
				continue;
			const uint64_t m = global ? mask & ~HW_TLB_M_PCID : mask;
			if (tag_match(e, tag, m))
				drop_entry(a, e);
		}
	}
	hw_psc_flush_tag(&tlb->psc, tag, mask);
	hw_tlb_front_clear(tlb);
}

void hw_tlb_flush_if(struct hw_tlb *tlb, bool (*drop)(const struct hw_tlb_entry *e))
{
	for (unsigned s = 0; s < HW_TLB_NR_SIZES; s++) {
		struct hw_tlb_array *a = &tlb->a[s];
		for (unsigned i = 0; i < a->sets * a->ways; i++)
			if (a->e[i].vpn != ~0ull && drop(&a->e[i]))
				drop_entry(a, &a->e[i]);
	}
	hw_psc_flush_if(&tlb->psc, drop);
	hw_tlb_front_clear(tlb);
}

void hw_tlb_flush_all(struct hw_tlb *tlb)
{
	for (unsigned s = 0; s < HW_TLB_NR_SIZES; s++) {
		struct hw_tlb_array *a = &tlb->a[s];
		for (unsigned i = 0; i < a->sets * a->ways; i++)
			a->e[i].vpn = ~0ull;
		a->pieces = 0;
	}
	hw_psc_flush_all(&tlb->psc);
	hw_tlb_front_clear(tlb);
}
