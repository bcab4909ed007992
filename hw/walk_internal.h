/*
 * walk_internal.h — what the guest walker (hw/walk.c) and the nested
 * walkers (hw/walk_nested.c) share: the description of a paging-structure
 * format, physical memory as a walk sees it, and the nested translation
 * of one guest-physical access.
 *
 * A format (struct hw_pt_fmt) is data, not code: entry size, index width,
 * which levels may map a page, and the reserved bits of each kind of
 * entry at each level (SDM Vol. 3A 4.3-4.5 for the x86 formats, which AMD
 * nested paging reuses as its long-mode format; SDM Vol. 3C 29.3.2 for
 * EPT). Levels count up from the leaf: 1 = PTE, 2 = PDE, 3 = PDPTE,
 * 4 = PML4E.
 *
 * Physical memory follows hw/hw.h: a read outside the arena returns all
 * ones, a write there is dropped. Every paging-structure read is one
 * memory reference (cost.h walk_refs; walk_refs_2d too when a nested walk
 * makes it); the accessed/dirty write-backs are not counted apart, as
 * they ride on the locked read-modify-write of the same line.
 */
#ifndef HVLAB_HW_WALK_INTERNAL_H
#define HVLAB_HW_WALK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/hw.h"
#include "hw/walk.h"

struct hw_psc;

/* Bits hi..lo (inclusive) set; 0 when hi < lo. */
#define HW_BITS(hi, lo) ((~0ull >> (63 - (hi))) & (~0ull << (lo)))

/* x86 paging-structure entry bits (SDM Vol. 3A Tables 4-4..4-20; APM Vol. 2
 * 5.3.3 for the same long-mode format under nested paging). */
#define HW_PTE_P	(1ull << 0)
#define HW_PTE_RW	(1ull << 1)
#define HW_PTE_US	(1ull << 2)
#define HW_PTE_A	(1ull << 5)
#define HW_PTE_D	(1ull << 6)
#define HW_PTE_PS	(1ull << 7)
#define HW_PTE_G	(1ull << 8)
#define HW_PTE_XD	(1ull << 63)

/* EPT entry bits (SDM Vol. 3C 29.3.2, Tables 29-1..29-6). */
#define HW_EPTE_R	(1ull << 0)
#define HW_EPTE_W	(1ull << 1)
#define HW_EPTE_X	(1ull << 2)
#define HW_EPTE_RWX	7ull
#define HW_EPTE_MT_SHIFT 3		/* memory type, bits 5:3 of a leaf */
#define HW_EPTE_LARGE	(1ull << 7)
#define HW_EPTE_A	(1ull << 8)
#define HW_EPTE_D	(1ull << 9)

/* One leaf test serves both families: PS and the EPT large-page bit are
 * both bit 7. */
_Static_assert(HW_PTE_PS == HW_EPTE_LARGE, "PS and EPT bit 7 differ");

/* A paging-structure format (see the note at the top). */
struct hw_pt_fmt {
	uint8_t size;		/* bytes per entry: 4 or 8 */
	uint8_t idx_bits;	/* linear/physical address bits per level: 10 or 9 */
	uint8_t top;		/* level of the root table */
	uint8_t large;		/* bit L set: bit 7 (PS) of a level-L entry maps a page */
	uint64_t addr;		/* the address bits of an entry or root */
	uint64_t acc, dirty;	/* accessed and dirty flags */
	uint64_t rsvd_table[5];	/* reserved bits of an entry that references a table */
	uint64_t rsvd_leaf[5];	/* reserved bits of an entry that maps a page */
};

/* log2 of the region one level-@level entry maps: 12, 21/22, 30, 39. */
static inline unsigned hw_pt_shift(const struct hw_pt_fmt *f, unsigned level)
{
	return 12 + f->idx_bits * (level - 1);
}

static inline unsigned hw_pt_index(const struct hw_pt_fmt *f, uint64_t addr, unsigned level)
{
	return (unsigned)(addr >> hw_pt_shift(f, level)) & ((1u << f->idx_bits) - 1);
}

static inline bool hw_pt_is_leaf(const struct hw_pt_fmt *f, uint64_t e, unsigned level)
{
	return level == 1 || (((f->large >> level) & 1) && (e & HW_PTE_PS));
}

/* The architectural MAXPHYADDR range (SDM Vol. 3A 4.1.4): hw/walk.h. */
static inline unsigned hw_walk_maxphyaddr(unsigned m)
{
	return m == 0 || m > 52 ? 52 : m < 32 ? 32 : m;
}

/*
 * The x86 format of guest paging @mode (32-bit, PAE or 4-level) with the
 * given MAXPHYADDR, EFER.NXE and CR4.PSE (hw/walk.c). AMD nested paging
 * uses the 4-level one with the host's values.
 */
void hw_pt_fmt_x86(struct hw_pt_fmt *f, enum hw_paging_mode mode, unsigned maxphyaddr, bool no_1g,
		   bool nxe, bool pse);

/* One walk in progress. */
struct hw_walk_ctx {
	struct hw_machine *m;
	const struct hw_nested *nst;
	struct hw_counters *cnt;
	struct hw_pt_fmt nfmt;	/* the nested format, when nst->kind != NONE */
	struct hw_psc *psc;	/* paging-structure caches, or NULL (hw/psc.h) */
	uint64_t tag;		/* ... of this address space (HW_TLB_TAG) */
};

void hw_walk_ctx_init(struct hw_walk_ctx *c, struct hw_machine *m,
		      const struct hw_nested *nst, struct hw_counters *cnt);

/* Read the @size-byte paging-structure entry at @hpa, counting one
 * reference (and a 2-D one when @nested). All ones outside the arena.
 * One atomic load: another processor or the host may rewrite the entry
 * at any moment, and the walk must see it before or after, never torn
 * (SDM Vol. 3A 9.1.1). Acquire, which costs nothing more than relaxed on
 * x86 hosts: a table a writer filled and then linked with a release
 * store is seen filled. */
static inline uint64_t hw_walk_read(struct hw_walk_ctx *c, hpa_t hpa, unsigned size,
				    bool nested)
{
	c->cnt->walk_refs++;
	if (nested)
		c->cnt->walk_refs_2d++;
	const void *p = hw_hpa_ptr(c->m, hpa, size);
	if (size == 4)
		return p ? __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE) : 0xffffffffull;
	return p ? __atomic_load_n((const uint64_t *)p, __ATOMIC_ACQUIRE) : ~0ull;
}

/*
 * Set @bits (accessed/dirty flags, @ad the format's A|D) in the entry at
 * @hpa that the walk read as @seen, as the processor's locked update
 * does (SDM Vol. 3A 4.8). If the entry changed meanwhile in nothing but
 * its A/D flags, the update is retried on the new value; if it changed in
 * any other bit, the translation the walk built is stale and the result
 * is -EAGAIN: the caller walks again. 0 otherwise.
 */
int hw_walk_set_bits(struct hw_walk_ctx *c, hpa_t hpa, unsigned size, uint64_t seen,
		     uint64_t bits, uint64_t ad);

/* ---------------------------------------------------------- nested walks */

/* Why a guest-physical address is being translated (hw/walk_nested.c). */
enum hw_nested_role {
	HW_NESTED_FINAL,	/* the translation of a linear address */
	HW_NESTED_PAGING,	/* a guest paging-structure entry during a walk */
	HW_NESTED_GPA,		/* a guest-physical access (hw_walk_gpa) */
};

/* Rights a nested path grants (hw_nested_path.allow). */
#define HW_NESTED_R	(1u << 0)
#define HW_NESTED_W	(1u << 1)
#define HW_NESTED_X	(1u << 2)

/* An EPT path's rights are its ANDed bits 2:0, taken as they are. */
_Static_assert(HW_NESTED_R == HW_EPTE_R && HW_NESTED_W == HW_EPTE_W &&
	       HW_NESTED_X == HW_EPTE_X, "HW_NESTED_* must be EPT bits 2:0");

/* The nested translation of one guest-physical access. */
struct hw_nested_path {
	hpa_t hpa;		/* host-physical address of the gpa */
	unsigned shift;		/* nested page size */
	unsigned allow;		/* HW_NESTED_*, over the whole path */
	unsigned ept_rwx;	/* EPT: AND of bits 2:0 (qualification bits 5:3) */
	bool write;		/* the access counts as a write (A/D, EPT D) */
	unsigned n;		/* entries used, root first */
	hpa_t ent[4];
	uint64_t val[4];
};

/*
 * Translate @gpa for access @acc (HW_ACC_WRITE/FETCH) made in @role:
 * walk the nested tables (counting references) and check the rights.
 * Returns true with @p filled, or false with the nested fault in @w.
 * Sets no flags: hw_nested_commit() does, once the access will happen.
 */
bool hw_nested_translate(struct hw_walk_ctx *c, gpa_t gpa, unsigned acc,
			 enum hw_nested_role role, struct hw_nested_path *p,
			 struct hw_walk *w);

/*
 * Check access @acc in @role to @gpa against the rights of @p, its page's
 * translation (hw_nested_translate ends with this; the guest walker calls
 * it again for the A/D update of a paging-structure page it has read).
 * True if allowed; false with the fault in @w.
 */
bool hw_nested_check(struct hw_walk_ctx *c, const struct hw_nested_path *p, gpa_t gpa,
		     unsigned acc, enum hw_nested_role role, struct hw_walk *w);

/* Set the nested accessed flags of @p, and the dirty flag of its leaf if
 * the access is a write (EPT only with EPTP A/D enabled). 0 or -EAGAIN. */
int hw_nested_commit(struct hw_walk_ctx *c, const struct hw_nested_path *p);

/* After hw_nested_commit(): is the nested dirty flag of @p set (or not
 * kept at all)? A TLB entry for a write needs it. */
bool hw_nested_dirty(const struct hw_walk_ctx *c, const struct hw_nested_path *p);

/* HW_R_NW / HW_R_NX / HW_R_NR for what @p does not allow. */
unsigned hw_nested_rights(const struct hw_nested_path *p);

#endif
