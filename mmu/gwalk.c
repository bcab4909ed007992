/*
 * gwalk.c — see gwalk.h. The walk itself is mmu/gwalk_tmpl.h, included
 * here once per format; this file holds the entry bits, the rights rules
 * shared by the x86 formats, and the dispatcher.
 *
 * What each inclusion of gwalk_tmpl.h defines (grep for these names):
 *
 *   GW_FMT        public            static helpers (prefix)
 *   GW_FMT_32     gwalk_32()        gwalk32_*  (walker, init, read, first_entry,
 *   GW_FMT_64     gwalk_64()        gwalk64_*   next_entry, present, is_leaf,
 *   GW_FMT_EPT    gwalk_ept()       gwalkept_*  rsvd, bad, entry_rights,
 *                                               leaf_base, fault, check, set_ad,
 *                                               walk_once)
 *
 * and, while it is included, the iterators for_each_gw_entry() and
 * for_each_flagged_entry().
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "mmu/gwalk.h"

/* Bits hi..lo (inclusive) set; 0 when hi < lo. */
#define GW_BITS_MASK(hi, lo) \
	((hi) < (lo) ? 0 : (~0ull >> (63 - (hi))) & (~0ull << (lo)))

/* x86 paging-structure entries (SDM Vol. 3A Tables 4-4..4-20). */
#define X86_P	(1ull << 0)
#define X86_RW	(1ull << 1)
#define X86_US	(1ull << 2)
#define X86_A	(1ull << 5)
#define X86_D	(1ull << 6)
#define X86_PS	(1ull << 7)
#define X86_XD	(1ull << 63)

/* EPT entries (SDM Vol. 3C Tables 29-1..29-6) and the EPTP (24.6.11). */
#define EPT_R		(1ull << 0)
#define EPT_W		(1ull << 1)
#define EPT_X		(1ull << 2)
#define EPT_RWX		7ull
#define EPT_MT_SHIFT	3		/* a leaf's memory type, bits 5:3 */
#define EPT_A		(1ull << 8)
#define EPT_D		(1ull << 9)
#define EPTP_AD		(1ull << 6)	/* accessed and dirty flags enabled */

/* One leaf test serves both families: PS and EPT's large-page bit are
 * bit 7; EPT rights are taken as they are. */
static_assert(X86_PS == (1ull << 7), "PS must be the EPT large-page bit");
static_assert(GWALK_R == EPT_R && GWALK_W == EPT_W && GWALK_X == EPT_X,
	      "GWALK_R/W/X must be EPT bits 2:0");
/* The access bits are the #PF error code's (4.7). */
static_assert(GWALK_ACC_WRITE == GWALK_PF_W && GWALK_ACC_USER == GWALK_PF_U &&
	      GWALK_ACC_FETCH == GWALK_PF_I, "access bits must be #PF error-code bits");

/* MAXPHYADDR in its architectural range (SDM Vol. 3A 4.1.4). */
static inline unsigned gwalk_maxphyaddr(const struct gwalk_cfg *cfg)
{
	const unsigned m = cfg->maxphyaddr;
	return m < 32 ? 32 : m > 52 ? 52 : m;
}

/* EPT violation qualification bits 2:0 for @acc (Table 28-7). */
static inline uint32_t gwalk_eptq_access(unsigned acc)
{
	if (acc & GWALK_ACC_WRITE)
		return GWALK_EPTQ_W;
	if (acc & GWALK_ACC_FETCH)
		return GWALK_EPTQ_X;
	return GWALK_EPTQ_R;
}

uint32_t gwalk_pf_access_bits(const struct gwalk_cfg *cfg, unsigned acc)
{
	uint32_t err = acc & (GWALK_PF_W | GWALK_PF_U);
	if ((acc & GWALK_ACC_FETCH) && (cfg->smep || (cfg->nxe && cfg->mode != GWALK_32)))
		err |= GWALK_PF_I;
	return err;
}

/*
 * SDM Vol. 3A 4.6.1 on rights combined over the path ("user page": U/S
 * = 1 at every level). A user access is one at CPL 3 that is not
 * implicit; RFLAGS.AC lifts SMAP for explicit supervisor accesses only
 * (GWALK_ACC_NO_SMAP, which the caller sets):
 *
 *   access            faults when
 *   user read         not a user page
 *   user write        not a user page, or not writable (whatever CR0.WP)
 *   user fetch        not a user page, or not executable
 *   supervisor read   user page, SMAP = 1 and not NO_SMAP
 *   supervisor write  user page, SMAP = 1 and not NO_SMAP; or not
 *                     writable and WP = 1
 *   supervisor fetch  user page and SMEP = 1; or not executable
 *
 * "Not executable" (an XD on the path) exists only with NXE in PAE and
 * 4-level paging; elsewhere GWALK_X is always in @rights.
 */
uint32_t gwalk_access_fault(const struct gwalk_cfg *cfg, unsigned rights, unsigned acc)
{
	const bool user_page = rights & GWALK_U, writable = rights & GWALK_W;
	const bool exec = rights & GWALK_X;
	bool fault;

	if (acc & GWALK_ACC_USER) {
		fault = !user_page || ((acc & GWALK_ACC_WRITE) && !writable) ||
			((acc & GWALK_ACC_FETCH) && !exec);
	} else if (acc & GWALK_ACC_FETCH) {
		fault = (user_page && cfg->smep) || !exec;
	} else {
		fault = user_page && cfg->smap && !(acc & GWALK_ACC_NO_SMAP);
		if ((acc & GWALK_ACC_WRITE) && !writable && cfg->wp)
			fault = true;
	}
	return fault ? GWALK_PF_P | gwalk_pf_access_bits(cfg, acc) : 0;
}

#define GW_FMT_32 1
#define GW_FMT_64 2
#define GW_FMT_EPT 3

#define GW_FMT GW_FMT_32
#include "mmu/gwalk_tmpl.h"
#undef GW_FMT

#define GW_FMT GW_FMT_64
#include "mmu/gwalk_tmpl.h"
#undef GW_FMT

#define GW_FMT GW_FMT_EPT
#include "mmu/gwalk_tmpl.h"
#undef GW_FMT

int gwalk(const struct gwalk_cfg *cfg, const struct gwalk_mem *mem, uint64_t addr,
	  unsigned acc, struct gwalk *w)
{
	switch (cfg->mode) {
	case GWALK_32:
		return gwalk_32(cfg, mem, addr, acc, w);
	case GWALK_PAE:
	case GWALK_64:
		return gwalk_64(cfg, mem, addr, acc, w);
	case GWALK_EPT:
		return gwalk_ept(cfg, mem, addr, acc, w);
	}
	return -EINVAL;
}
