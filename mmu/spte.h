/*
 * spte.h — shadow page-table entries: the entries of the tables the real
 * CR3 of a shadow-paging guest points at. The processor walks them as
 * ordinary 4-level (IA-32e) paging structures, so an spte has exactly the
 * layout of SDM Vol. 3A 4.5, Tables 4-15..4-20:
 *
 *   bit  0 P      present               bit  7 PS     page size (PDPTE,
 *   bit  1 R/W    writable                            PDE; PAT in a PTE)
 *   bit  2 U/S    user                  bit  8 G      global (leaf)
 *   bit  3 PWT, 4 PCD  cache control    bits 51:12    physical address
 *   bit  5 A      accessed              bit 63 XD     execute-disable
 *   bit  6 D      dirty (leaf)                        (with EFER.NXE)
 *
 * Non-leaf sptes grant everything (P, R/W, U/S, no XD): the rights of a
 * guest translation live in the leaf alone, and the shadow page's role
 * (mmu/pool.h) records the rights its guest path inherited. hvlab never
 * sets PWT, PCD, PAT or G: shadow leaves map RAM, write-back, and global
 * pages are a TLB matter the MMU handles by flushing.
 *
 * Bits hvlab keeps for itself. The processor ignores bits 11:9 and 58:52
 * of a present entry (Table 4-19 and its siblings; 62:59 are protection
 * keys only with CR4.PKE, which hw/ does not model, and bit 11 matters
 * only to HLAT paging), and every bit but P of a not-present one (4.5,
 * Figure 4-11, "Ignored"): that is where these go.
 *
 *   bit   meaning when set                     who sets / clears it
 *   ----  -----------------------------------  ------------------------------
 *   9     HOST_WRITABLE: the host backing may  spte_make() from the memslot
 *         be written (not a read-only slot)    (never changes afterwards)
 *   10    MMU_WRITABLE: the guest's tables     spte_make(); cleared by
 *         allow a write through this spte and  spte_write_protect(pt=true)
 *         its guest leaf is dirty, and the gfn when the gfn becomes a
 *         is no shadowed page table: R/W may   shadowed guest page table
 *         be set again without a guest walk
 *         (a dirty-log write protection is
 *         undone this way)
 *   11    MMIO (with P = 0): the gva maps a    spte_make_mmio(); cleared
 *         gpa no memslot covers; 51:12 hold    with the spte
 *         its gfn, 55:53 the guest's rights
 *
 * Whether a leaf is writable (spte_make, flags SPTE_F_*):
 *
 *   guest W  guest D  host writable  write-protect  dirty-log  -> R/W  MMU_WR
 *   0        -        -              -              -             0      0
 *   1        0        -              -              -             0      0
 *   1        1        -              1              -             0      0
 *   1        1        0              0              -             0      1
 *   1        1        1              0              1             0      1
 *   1        1        1              0              0             1      1
 *
 * A write through a leaf mapped read-only faults; the fault path walks the
 * guest tables again, which sets the guest's D (4.8), and maps writable.
 * So the guest's D flag is always set before any write reaches the page,
 * as the processor would set it (KVM maps a clean guest pte read-only for
 * the same reason). A set on fill, clear for a prefetched spte; D is set
 * with R/W so the processor never has to write it back.
 *
 * spte_to_pfn() reads bits 51:12 of any present spte: hvlab never sets PAT
 * (bit 12 of a large leaf), so the field is the frame number at every
 * level. An spte is written with one atomic store and cleared with one
 * atomic exchange: another vcpu's processor may be walking the table.
 */
#ifndef HVLAB_MMU_SPTE_H
#define HVLAB_MMU_SPTE_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvlab/types.h"
#include "mmu/gwalk.h"

/* Architectural bits (SDM Vol. 3A Tables 4-15..4-20). */
#define SPTE_P			(1ull << 0)
#define SPTE_RW			(1ull << 1)
#define SPTE_US			(1ull << 2)
#define SPTE_PWT		(1ull << 3)
#define SPTE_PCD		(1ull << 4)
#define SPTE_A			(1ull << 5)
#define SPTE_D			(1ull << 6)
#define SPTE_PS			(1ull << 7)
#define SPTE_G			(1ull << 8)
#define SPTE_XD			(1ull << 63)
#define SPTE_ADDR_MASK		0x000ffffffffff000ull	/* 51:12 */

/* hvlab's software bits (the table above). */
#define SPTE_HOST_WRITABLE	(1ull << 9)
#define SPTE_MMU_WRITABLE	(1ull << 10)
#define SPTE_MMIO		(1ull << 11)
#define SPTE_MMIO_ACC_SHIFT	52

/* Ignored by the processor in a present entry: 11:9 and 58:52. */
#define SPTE_SW_MASK		(0x0000000000000e00ull | 0x07f0000000000000ull)

static_assert((SPTE_HOST_WRITABLE | SPTE_MMU_WRITABLE | SPTE_MMIO) ==
		      (SPTE_SW_MASK & 0xe00),
	      "spte software bits are the three ignored bits 11:9");
static_assert(((0xeull << SPTE_MMIO_ACC_SHIFT) & ~SPTE_SW_MASK) == 0,
	      "MMIO rights sit in the ignored bits 58:52");
static_assert((SPTE_ADDR_MASK & (SPTE_SW_MASK | SPTE_XD | 0xfff)) == 0,
	      "the address field overlaps no flag");

/*
 * Rights of a translation: the walker's own bits (gwalk.rights), so a
 * walk's result goes to spte_make() as it is. R is implied on x86.
 */
#define SPTE_ACC_W		GWALK_W
#define SPTE_ACC_X		GWALK_X
#define SPTE_ACC_U		GWALK_U
#define SPTE_ACC_ALL		(SPTE_ACC_W | SPTE_ACC_X | SPTE_ACC_U)

static_assert(SPTE_ACC_ALL == 0xe, "rights fit bits 3:1 (shadow role, MMIO spte)");

/* How to make a leaf (spte_make's flags). */
#define SPTE_F_LARGE		(1u << 0)	/* a PDPTE/PDE leaf (level 3/2): PS */
#define SPTE_F_DIRTY		(1u << 1)	/* the guest leaf's D is set (or this
						 * fault's walk just set it) */
#define SPTE_F_HOST_WRITABLE	(1u << 2)	/* the memslot may be written */
#define SPTE_F_WRITE_PROTECT	(1u << 3)	/* the gfn is a shadowed guest
						 * page table: never writable */
#define SPTE_F_LOG_DIRTY	(1u << 4)	/* dirty logging: the first write
						 * must fault so it is logged */
#define SPTE_F_PREFETCH		(1u << 5)	/* not for an access: leave A clear */
#define SPTE_F_NXE		(1u << 6)	/* EFER.NXE holds while the processor
						 * walks the sptes: XD may be used */

/*
 * A leaf mapping host frame @hpa (4 KiB aligned; 2 MiB / 1 GiB with
 * SPTE_F_LARGE) with guest rights @access (SPTE_ACC_*). Without
 * SPTE_F_NXE a missing SPTE_ACC_X cannot be expressed (XD would be a
 * reserved bit, 4.5): the leaf is executable, as the guest's own
 * translation is when its EFER.NXE is 0.
 */
static inline uint64_t spte_make(hpa_t hpa, unsigned access, unsigned flags)
{
	uint64_t spte = SPTE_P | (hpa & SPTE_ADDR_MASK);
	bool guest_w = (access & SPTE_ACC_W) && (flags & SPTE_F_DIRTY);

	if (access & SPTE_ACC_U)
		spte |= SPTE_US;
	if (!(access & SPTE_ACC_X) && (flags & SPTE_F_NXE))
		spte |= SPTE_XD;
	if (flags & SPTE_F_LARGE)
		spte |= SPTE_PS;
	if (!(flags & SPTE_F_PREFETCH))
		spte |= SPTE_A;
	if (flags & SPTE_F_HOST_WRITABLE)
		spte |= SPTE_HOST_WRITABLE;
	if (guest_w && !(flags & SPTE_F_WRITE_PROTECT)) {
		spte |= SPTE_MMU_WRITABLE;
		if ((flags & SPTE_F_HOST_WRITABLE) && !(flags & SPTE_F_LOG_DIRTY))
			spte |= SPTE_RW | SPTE_D;
	}
	return spte;
}

/* A non-leaf spte pointing at the shadow table at @child_hpa: all rights,
 * A set (the processor would set it on first use anyway). */
static inline uint64_t spte_make_nonleaf(hpa_t child_hpa)
{
	return SPTE_P | SPTE_RW | SPTE_US | SPTE_A | (child_hpa & SPTE_ADDR_MASK);
}

/* A not-present spte remembering that the gva maps gfn @gfn, which no
 * memslot covers, with guest rights @access: the next fault on it goes to
 * the emulator without walking the guest tables again. */
static inline uint64_t spte_make_mmio(gfn_t gfn, unsigned access)
{
	return SPTE_MMIO | ((gfn << HV_PAGE_SHIFT) & SPTE_ADDR_MASK) |
	       ((uint64_t)(access & SPTE_ACC_ALL) << SPTE_MMIO_ACC_SHIFT);
}

static inline bool is_shadow_present_pte(uint64_t spte)
{
	return spte & SPTE_P;
}

static inline bool is_mmio_spte(uint64_t spte)
{
	return (spte & (SPTE_P | SPTE_MMIO)) == SPTE_MMIO;
}

static inline bool is_writable_pte(uint64_t spte)
{
	return spte & SPTE_RW;
}

static inline bool is_large_pte(uint64_t spte)
{
	return spte & SPTE_PS;
}

/* Does a present spte at @level (1 = PTE .. 4 = PML4E) map a page? PS is
 * reserved in a PML4E and means PAT in a PTE, which hvlab never sets. */
static inline bool is_last_spte(uint64_t spte, unsigned level)
{
	return level == 1 || (level < 4 && is_large_pte(spte));
}

static inline bool is_accessed_spte(uint64_t spte)
{
	return spte & SPTE_A;
}

static inline bool is_dirty_spte(uint64_t spte)
{
	return spte & SPTE_D;
}

/* May a write fault on this leaf set R/W without walking the guest? */
static inline bool spte_can_unprotect(uint64_t spte)
{
	return (spte & (SPTE_P | SPTE_HOST_WRITABLE | SPTE_MMU_WRITABLE)) ==
	       (SPTE_P | SPTE_HOST_WRITABLE | SPTE_MMU_WRITABLE);
}

static inline pfn_t spte_to_pfn(uint64_t spte)
{
	return (spte & SPTE_ADDR_MASK) >> HV_PAGE_SHIFT;
}

static inline hpa_t spte_to_hpa(uint64_t spte)
{
	return spte & SPTE_ADDR_MASK;
}

static inline gfn_t mmio_spte_gfn(uint64_t spte)
{
	return (spte & SPTE_ADDR_MASK) >> HV_PAGE_SHIFT;
}

static inline unsigned mmio_spte_access(uint64_t spte)
{
	return (spte >> SPTE_MMIO_ACC_SHIFT) & SPTE_ACC_ALL;
}

/*
 * @spte without write permission. @pt_protect: the gfn became a shadowed
 * guest page table, so MMU_WRITABLE goes too and the next write walks
 * the guest tables; else (dirty logging) spte_can_unprotect() still
 * holds and the write fault just logs the page and sets R/W again.
 */
static inline uint64_t spte_write_protect(uint64_t spte, bool pt_protect)
{
	spte &= ~SPTE_RW;
	if (pt_protect)
		spte &= ~SPTE_MMU_WRITABLE;
	return spte;
}

/* Store @spte at @sptep in one piece: a processor may walk it now. */
static inline void spte_set(uint64_t *sptep, uint64_t spte)
{
	__atomic_store_n(sptep, spte, __ATOMIC_RELEASE);
}

static inline uint64_t spte_get(const uint64_t *sptep)
{
	return __atomic_load_n(sptep, __ATOMIC_ACQUIRE);
}

/* Clear @sptep and return what it held, with any A/D flags the
 * processor set up to the last moment. */
static inline uint64_t spte_clear(uint64_t *sptep)
{
	return __atomic_exchange_n(sptep, 0, __ATOMIC_ACQ_REL);
}

#endif
