/*
 * tlb.h — the TLB model (hw/tlb.c).
 *
 * Three set-associative arrays, for 4 KiB, 2 MiB and 1 GiB translations
 * (a 4 MiB page of 32-bit paging is cached as the 2 MiB half that was
 * used, as some processors do). Each entry holds a linear page, the
 * host-physical page, the rights of the path (hw/walk.h HW_R_*) and its
 * tag: the address space it belongs to. The tag is (VPID or ASID, PCID,
 * EP4TA) packed in one word, so a lookup compares two words per way:
 *
 *   bits 63:28  EP4TA >> 12 (EPT root), 0 without EPT
 *   bits 27:12  VPID (VMX) or ASID (SVM)
 *   bits 11:0   PCID (0 when CR4.PCIDE = 0)
 *
 * A global entry (HW_R_GLOBAL) matches any PCID of its VPID/ASID and
 * EP4TA (SDM Vol. 3A 4.10.2.4).
 *
 * Replacement is round robin within a set and does not depend on hits,
 * so a cache in front of the TLB that holds only entries present in it
 * stays exact (docs/hw.md, "the TLB").
 */
#ifndef HVLAB_HW_TLB_H
#define HVLAB_HW_TLB_H

#include <stdbool.h>
#include <stdint.h>

#include "emulate/emulate.h"
#include "hvlab/types.h"
#include "hw/hw.h"
#include "hw/psc.h"
#include "hw/walk.h"

#define HW_TLB_PCID_MASK 0xfffull
#define HW_TLB_TAG(ep4ta, vpid, pcid) \
	((((uint64_t)(ep4ta) >> 12) << 28) | ((uint64_t)(vpid) << 12) | (uint64_t)(pcid))
#define HW_TLB_TAG_NO_PCID(tag) ((tag) & ~HW_TLB_PCID_MASK)

struct hw_tlb_entry {
	uint64_t vpn;		/* la >> page shift; ~0: invalid */
	uint64_t tag;		/* HW_TLB_TAG */
	hpa_t hpa;		/* host-physical page base */
	uint32_t rights;	/* HW_R_* */
	uint16_t shift;		/* page size of this entry: 12, 21 or 30 */
	uint16_t page_shift;	/* of the guest page it caches a piece of:
				 * larger for a 4 MiB page (two 2 MiB pieces)
				 * or a guest page a smaller nested page backs */
};

enum hw_tlb_size { HW_TLB_4K, HW_TLB_2M, HW_TLB_1G, HW_TLB_NR_SIZES };

struct hw_tlb_array {
	struct hw_tlb_entry *e;	/* sets * ways entries, set-major */
	unsigned sets, ways, shift;
	uint8_t *next;		/* per set: the way to replace next */
	unsigned pieces;	/* valid entries with page_shift > shift */
};

/*
 * The TLB and the engine's front TLB (emulate.h struct emu_tlb_entry):
 * the front holds only translations present here, so every invalidation
 * of an entry here drops its front copies too (tlb.c), and a front hit is
 * a TLB hit.
 */
struct hw_tlb {
	struct hw_tlb_array a[HW_TLB_NR_SIZES];
	struct emu_tlb_entry *front;	/* EMU_TLB_SIZE entries */
	uint64_t *epoch;		/* bumped when entries go (emu key_epoch) */
	struct hw_psc psc;		/* paging-structure caches: every flush
					 * below drops theirs too (hw/psc.c) */
};

/* Drop every front entry (after any invalidation it cannot narrow). */
void hw_tlb_front_clear(struct hw_tlb *tlb);

int hw_tlb_init(struct hw_tlb *tlb, const struct hw_tlb_config *cfg);
void hw_tlb_free(struct hw_tlb *tlb);

/* Find the entry for @la under @tag, or NULL (counts nothing). */
static inline struct hw_tlb_entry *hw_tlb_lookup(struct hw_tlb *tlb, uint64_t la,
						 uint64_t tag)
{
	for (unsigned s = 0; s < HW_TLB_NR_SIZES; s++) {
		struct hw_tlb_array *a = &tlb->a[s];
		const uint64_t vpn = la >> a->shift;
		struct hw_tlb_entry *e = &a->e[(vpn & (a->sets - 1)) * a->ways];
		for (unsigned w = 0; w < a->ways; w++, e++) {
			if (e->vpn != vpn)
				continue;
			if (e->tag == tag || ((e->rights & HW_R_GLOBAL) &&
			    HW_TLB_TAG_NO_PCID(e->tag) == HW_TLB_TAG_NO_PCID(tag)))
				return e;
		}
	}
	return NULL;
}

/* Insert a translation of @la (page of 1 << shift bytes at @hpa). */
void hw_tlb_fill(struct hw_tlb *tlb, uint64_t la, uint64_t tag, unsigned shift,
		 hpa_t hpa, unsigned rights);
/* The same for a piece of 1 << @shift bytes of a guest page of
 * 1 << @page_shift bytes (a 2-D translation cached at the smaller of the
 * guest and nested page sizes): INVLPG of any address in the guest page
 * drops it (SDM Vol. 2A INVLPG, note 1). */
void hw_tlb_fill_piece(struct hw_tlb *tlb, uint64_t la, uint64_t tag, unsigned shift,
		       unsigned page_shift, hpa_t hpa, unsigned rights);

/*
 * Invalidation. Each drops exactly the entries the named manual operation
 * drops; entries are selected by tag fields with the masks below.
 */
#define HW_TLB_M_PCID	HW_TLB_PCID_MASK		/* compare the PCID */
#define HW_TLB_M_VPID	(0xffffull << 12)		/* compare the VPID/ASID */
#define HW_TLB_M_EP4TA	(~0ull << 28)			/* compare the EP4TA */

/* Entries for @la whose tag matches @tag under @mask (globals too unless
 * @keep_global). INVLPG, INVVPID individual-address, INVLPGA. */
void hw_tlb_flush_addr(struct hw_tlb *tlb, uint64_t la, uint64_t tag, uint64_t mask,
		       bool keep_global);
/* Every entry whose tag matches under @mask, sparing globals if asked. */
void hw_tlb_flush_tag(struct hw_tlb *tlb, uint64_t tag, uint64_t mask, bool keep_global);
/* Every entry @drop says yes to (INVEPT all-context, INVVPID all-context). */
void hw_tlb_flush_if(struct hw_tlb *tlb, bool (*drop)(const struct hw_tlb_entry *e));
/* Everything. */
void hw_tlb_flush_all(struct hw_tlb *tlb);

#endif
