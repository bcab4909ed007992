/*
 * psc.c — the paging-structure caches: lookup, fill and invalidation
 * (see psc.h for what an entry holds; SDM Vol. 3A 4.10.3-4.10.4).
 *
 * The caches are small and fully associative, so every operation is a
 * scan; a walk looks at most three caches of psc_entries entries, which
 * is cheap next to the walk it shortens.
 *
 * Which flush drops what. The TLB's invalidation functions (hw/tlb.c)
 * each call one function here with their own arguments, so every
 * operation that drops TLB entries drops paging-structure-cache entries
 * of the same tags:
 *
 *   operation                        TLB drops          PSC drops (here)
 *   INVLPG, INVPCID type 0           la, tag            all of the tag
 *   INVVPID type 0, INVLPGA          la, VPID/ASID      all of the VPID/ASID
 *   MOV CR3, INVPCID 1-3, INVVPID    tag under mask     same
 *   1/3, INVEPT single, TLB_CONTROL
 *   INVEPT all, INVVPID all, FLUSH_ALL predicate        same predicate
 *
 * The first row is the SDM's rule: "INVLPG also invalidates all entries
 * in all paging-structure caches associated with the current PCID,
 * regardless of the linear addresses to which they correspond"
 * (4.10.4.1); INVPCID type 0 likewise. For INVVPID type 0 the SDM asks
 * only for the mappings of the address but allows more ("may invalidate
 * mappings for other linear addresses", INVVPID in Vol. 3C 31.3), and
 * for INVLPGA the APM says that with EFER.TCE = 0 (the model has no TCE)
 * INVLPG-type instructions remove all upper-level entries, related or
 * not (Vol. 2 3.1.7). No PSC entry is global, so "except global
 * translations" spares none of them.
 *
 * A fault drops less: only the entries a walk of the faulting address
 * would use (hw_psc_flush_la, called by the walker; 4.10.4.1 "page
 * faults ... invalidate ... paging-structure-cache entries that would be
 * used for that linear address").
 */
#include <errno.h>
#include <stdlib.h>

#include "hw/psc.h"
#include "hw/tlb.h"

int hw_psc_init(struct hw_psc *psc, unsigned entries)
{
	psc->e = NULL;
	psc->entries = 0;
	for (unsigned l = 0; l < HW_PSC_NR_LEVELS; l++)
		psc->next[l] = 0;
	if (entries > HW_PSC_MAX_ENTRIES)
		return -EINVAL;
	if (!entries)
		return 0;
	psc->e = malloc(sizeof(*psc->e) * HW_PSC_NR_LEVELS * entries);
	if (!psc->e)
		return -ENOMEM;
	psc->entries = entries;
	hw_psc_flush_all(psc);
	return 0;
}

void hw_psc_free(struct hw_psc *psc)
{
	free(psc->e);
	psc->e = NULL;
	psc->entries = 0;
}

static struct hw_psc_entry *cache(const struct hw_psc *psc, unsigned level)
{
	return &psc->e[(level - HW_PSC_LOWEST) * psc->entries];
}

/* The highest level with a cache in @mode: only the PDE cache outside
 * 4-level paging (4.10.3.1). */
static unsigned top_level(enum hw_paging_mode mode)
{
	return mode == HW_PAGING_4LEVEL ? HW_PSC_HIGHEST : HW_PSC_LOWEST;
}

/* The prefix of @la that selects a level-@level entry in @mode: bits
 * 47:21, 47:30, 47:39 (4-level), 31:21 (PAE), 31:22 (32-bit). */
static uint64_t prefix(enum hw_paging_mode mode, unsigned level, uint64_t la)
{
	if (mode == HW_PAGING_32)
		return (uint32_t)la >> (12 + 10 * (level - 1));
	if (mode == HW_PAGING_PAE)
		la = (uint32_t)la;
	return (la & ((1ull << 48) - 1)) >> (12 + 9 * (level - 1));
}

static bool same_space(const struct hw_psc_entry *e, enum hw_paging_mode mode,
		       enum hw_nested_kind nested, uint64_t tag)
{
	return e->tag == tag && e->mode == mode && e->nested == nested;
}

const struct hw_psc_entry *hw_psc_lookup(const struct hw_psc *psc, enum hw_paging_mode mode,
					 enum hw_nested_kind nested, uint64_t tag,
					 uint64_t la, unsigned *level)
{
	if (!psc->entries || mode == HW_PAGING_NONE)
		return NULL;
	for (unsigned l = HW_PSC_LOWEST; l <= top_level(mode); l++) {
		const uint64_t p = prefix(mode, l, la);
		const struct hw_psc_entry *e = cache(psc, l);
		for (unsigned i = 0; i < psc->entries; i++, e++) {
			if (e->prefix == p && same_space(e, mode, nested, tag)) {
				*level = l;
				return e;
			}
		}
	}
	return NULL;
}

void hw_psc_fill(struct hw_psc *psc, unsigned level, uint64_t la,
		 const struct hw_psc_entry *e)
{
	const enum hw_paging_mode mode = e->mode;
	if (!psc->entries || mode == HW_PAGING_NONE || level < HW_PSC_LOWEST ||
	    level > top_level(mode))
		return;
	const uint64_t p = prefix(mode, level, la);
	struct hw_psc_entry *c = cache(psc, level);
	unsigned i;
	for (i = 0; i < psc->entries; i++)
		if (c[i].prefix == p && same_space(&c[i], mode, e->nested, e->tag))
			break;
	if (i == psc->entries) {
		unsigned *next = &psc->next[level - HW_PSC_LOWEST];
		i = *next;
		*next = (i + 1) % psc->entries;
	}
	c[i] = *e;
	c[i].prefix = p;
}

void hw_psc_flush_tag(struct hw_psc *psc, uint64_t tag, uint64_t mask)
{
	for (unsigned i = 0; i < HW_PSC_NR_LEVELS * psc->entries; i++)
		if (((psc->e[i].tag ^ tag) & mask) == 0)
			psc->e[i].prefix = HW_PSC_EMPTY;
}

void hw_psc_flush_if(struct hw_psc *psc, bool (*drop)(const struct hw_tlb_entry *e))
{
	for (unsigned i = 0; i < HW_PSC_NR_LEVELS * psc->entries; i++) {
		struct hw_psc_entry *e = &psc->e[i];
		if (e->prefix == HW_PSC_EMPTY)
			continue;
		const struct hw_tlb_entry probe = { .vpn = e->prefix, .tag = e->tag };
		if (drop(&probe))
			e->prefix = HW_PSC_EMPTY;
	}
}

void hw_psc_flush_all(struct hw_psc *psc)
{
	for (unsigned i = 0; i < HW_PSC_NR_LEVELS * psc->entries; i++)
		psc->e[i].prefix = HW_PSC_EMPTY;
}

void hw_psc_flush_la(struct hw_psc *psc, enum hw_paging_mode mode, uint64_t tag, uint64_t la)
{
	if (!psc->entries || mode == HW_PAGING_NONE)
		return;
	for (unsigned l = HW_PSC_LOWEST; l <= top_level(mode); l++) {
		const uint64_t p = prefix(mode, l, la);
		struct hw_psc_entry *e = cache(psc, l);
		for (unsigned i = 0; i < psc->entries; i++, e++)
			if (e->prefix == p && e->tag == tag && e->mode == mode)
				e->prefix = HW_PSC_EMPTY;
	}
}
