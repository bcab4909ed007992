/*
 * psc.h — the paging-structure caches (SDM Vol. 3A 4.10.3): what a
 * processor remembers of the upper levels of a walk, so that the next
 * walk through the same region starts lower down (hw/psc.c).
 *
 * Three caches, one per level of entry that references a table:
 *
 *   cache  entry level  used for linear addresses with    paging modes
 *   PML4   4 (PML4E)    the same bits 47:39               4-level
 *   PDPTE  3 (PDPTE)    the same bits 47:30               4-level
 *   PDE    2 (PDE)      the same bits 47:21 / 31:21 /     4-level / PAE /
 *                       31:22                             32-bit
 *
 * (4.10.3.1; PAE paging has no PDPTE cache: its PDPTEs are registers
 * loaded by MOV CR3, 4.4.1.) An entry holds what the walk would have
 * found by reading the entries it stands for: the address of the next
 * table and the rights so far, R/W and U/S ANDed and XD ORed over those
 * entries. It belongs to an address space, named by the TLB's tag
 * (hw/tlb.h HW_TLB_TAG: VPID or ASID, PCID, EP4TA), and to the paging
 * mode and kind of nesting it was made under.
 *
 * Under EPT an entry is a "combined paging-structure-cache entry" (SDM
 * Vol. 3C 29.4.1 — 28.3.1 in older editions — "a mapping from the upper
 * portion of a linear address to the physical address of the paging
 * structure ... information ... derived from both guest paging
 * structures and EPT paging structures"): it holds the next table's
 * host-physical address and what the EPT grants that page, so a hit also
 * skips the EPT walk of that table. Nothing comparable is written down
 * for AMD nested paging, so under NPT an entry holds the guest side only
 * and the nested walk of the next table's guest-physical address is made
 * (and counted) as usual. hw/walk.c applies both rules.
 *
 * Each cache is fully associative with @entries entries (struct
 * hw_tlb_config.psc_entries; 0: no caches) and replaces first in, first
 * out, independent of hits, like the TLB (hw/tlb.h): a model that counts
 * must give the same counts for the same run.
 */
#ifndef HVLAB_HW_PSC_H
#define HVLAB_HW_PSC_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlab/types.h"
#include "hw/walk.h"

struct hw_tlb_entry;

/* Levels with a cache: 2 (PDE), 3 (PDPTE), 4 (PML4E). */
#define HW_PSC_LOWEST	2
#define HW_PSC_HIGHEST	4
#define HW_PSC_NR_LEVELS (HW_PSC_HIGHEST - HW_PSC_LOWEST + 1)

/* The largest hw_tlb_config.psc_entries hw_psc_init() takes. */
#define HW_PSC_MAX_ENTRIES 1024

/* hw_psc_entry.prefix of an empty slot: no linear-address prefix is
 * this wide. */
#define HW_PSC_EMPTY (~0ull)

struct hw_psc_entry {
	uint64_t prefix;	/* the linear-address bits above the region a
				 * level-L entry controls: la[47:12+9(L-1)]
				 * (la[31:22] for 32-bit paging) */
	uint64_t tag;		/* HW_TLB_TAG of the address space */
	gpa_t table;		/* the next paging structure, guest-physical */
	hpa_t table_hpa;	/* ... host-physical; meaningful only without
				 * nesting (= table) and under EPT */
	uint8_t mode;		/* enum hw_paging_mode it was made under */
	uint8_t nested;		/* enum hw_nested_kind it was made under */
	uint8_t rights;		/* HW_R_W | HW_R_U | HW_R_XD over the entries
				 * it stands for */
	uint8_t ept_allow;	/* EPT: what the EPT path of the next table's
				 * page allows (walk_internal.h HW_NESTED_*) */
	uint8_t ept_rwx;	/* EPT: that path's bits 2:0 ANDed */
};

struct hw_psc {
	struct hw_psc_entry *e;	/* HW_PSC_NR_LEVELS caches of @entries */
	unsigned entries;	/* per cache; 0: no paging-structure caches */
	unsigned next[HW_PSC_NR_LEVELS];	/* the slot to replace next */
};

/* Caches of @entries entries each (0: none). 0, -EINVAL above
 * HW_PSC_MAX_ENTRIES, -ENOMEM. */
int hw_psc_init(struct hw_psc *psc, unsigned entries);
void hw_psc_free(struct hw_psc *psc);

/*
 * The entry of the lowest level that translates @la under @tag in paging
 * mode @mode with nesting @nested, or NULL (4.10.3.2: the PDE cache
 * first, then the PDPTE cache, then the PML4 cache). *level gets its
 * level: the walk goes on at level *level - 1 in e->table.
 */
const struct hw_psc_entry *hw_psc_lookup(const struct hw_psc *psc, enum hw_paging_mode mode,
					 enum hw_nested_kind nested, uint64_t tag,
					 uint64_t la, unsigned *level);

/* Cache @e (its prefix taken from @la) at @level, replacing an entry for
 * the same prefix, tag, mode and nesting if there is one. */
void hw_psc_fill(struct hw_psc *psc, unsigned level, uint64_t la,
		 const struct hw_psc_entry *e);

/*
 * Invalidation (SDM Vol. 3A 4.10.4.1, Vol. 3C 29.4.3; APM Vol. 2 15.16).
 * No entry is global (4.10.2.4: the G flag lives only in entries that
 * map a page), so no flush spares any.
 */

/* Every entry whose tag matches @tag under @mask (hw/tlb.h HW_TLB_M_*),
 * whatever its address. */
void hw_psc_flush_tag(struct hw_psc *psc, uint64_t tag, uint64_t mask);
/* Every entry @drop says yes to, asked about a TLB entry that carries
 * only the PSC entry's tag (rights 0: not global). */
void hw_psc_flush_if(struct hw_psc *psc, bool (*drop)(const struct hw_tlb_entry *e));
void hw_psc_flush_all(struct hw_psc *psc);
/* The entries under @tag that a walk of @la in @mode would use: what a
 * page fault (4.10.4.1) or an EPT violation (29.4.3.1) drops. */
void hw_psc_flush_la(struct hw_psc *psc, enum hw_paging_mode mode, uint64_t tag, uint64_t la);

#endif
