/*
 * gwalk.h — the guest page-table walker the MMU strategies share: one
 * walk body (mmu/gwalk_tmpl.h, KVM's paging_tmpl.h idea) instantiated in
 * mmu/gwalk.c for the guest formats:
 *
 *   gwalk_32()   32-bit paging (SDM Vol. 3A 4.3): 4-byte entries, 2 levels,
 *                4 MiB pages with CR4.PSE incl. PSE-36
 *   gwalk_64()   PAE paging (4.4, from the four PDPTE registers) and
 *                4-level paging (4.5): 8-byte entries, 2 MiB and 1 GiB pages
 *   gwalk_ept()  EPT (SDM Vol. 3C 29.3.2): a guest hypervisor's tables,
 *                gpa -> its physical address, R/W/X rights
 *
 * gwalk() picks one by cfg->mode. A walk translates one address for one
 * access as the processor's page walk would: it checks the rights of the
 * whole path (4.6), reports the exact #PF error code (4.7) or EPT
 * violation / misconfiguration (29.3.3), and when the access succeeds
 * sets the accessed flags of every entry it used and the dirty flag of
 * the leaf of a write (4.8; 29.3.5 with EPTP bit 6), each with a
 * compare-exchange; an entry that changed under the walk in more than
 * its A/D flags makes it walk again. A faulting walk writes nothing.
 *
 * Memory is reached through struct gwalk_mem, so unit tests walk a fake
 * memory and hvlab walks the memslots (mmu/walk.c). Where there is no
 * RAM a read returns all ones, as a read on a PC bus that nothing
 * decodes does (the processor's walk reads the bus too); the A/D write
 * to such a place is dropped.
 *
 * Not modeled, as hw/ does not model them: protection keys (CR4.PKE),
 * shadow stacks (CR4.CET), 5-level paging, EPT mode-based execute
 * (bit 10), EPT sub-page permissions.
 */
#ifndef HVLAB_MMU_GWALK_H
#define HVLAB_MMU_GWALK_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlab/types.h"

enum gwalk_mode {
	GWALK_32,		/* 32-bit paging */
	GWALK_PAE,		/* PAE paging: the walk starts at cfg->pdpte[] */
	GWALK_64,		/* 4-level (IA-32e) paging */
	GWALK_EPT,		/* EPT, 4 levels */
};

/* The paging configuration a walk runs under (registers and CPUID). */
struct gwalk_cfg {
	enum gwalk_mode mode;
	uint64_t root;		/* CR3 (PCID in 11:0 with pcide), or the EPTP
				 * (bits M-1:12 the PML4, bit 6 A/D enable) */
	/* PAE: the PDPTE registers (SDM 4.4.1) and where they were loaded
	 * from (CR3[31:5]): the walk starts from these, not from memory. */
	uint64_t pdpte[4];
	uint8_t maxphyaddr;	/* CPUID 8000_0008H:EAX[7:0]; taken into 32..52 */
	bool wp;		/* CR0.WP */
	bool pse;		/* CR4.PSE (32-bit paging: 4 MiB pages) */
	bool nxe;		/* IA32_EFER.NXE (PAE, 4-level) */
	bool smep, smap;	/* CR4.SMEP, CR4.SMAP */
	bool pcide;		/* CR4.PCIDE (4-level): CR3[11:0] is the PCID */
	bool gbpages;		/* 1 GiB pages: CPUID 8000_0001H:EDX[26] (4-level),
				 * IA32_VMX_EPT_VPID_CAP[17] (EPT) */
	bool ept_x_only;	/* IA32_VMX_EPT_VPID_CAP[0]: execute-only EPT entries */
};

/*
 * Guest-physical memory as the walker sees it. Embed it and recover the
 * container in the callbacks (container_of).
 */
struct gwalk_mem {
	/* The @size-byte (4 or 8) little-endian entry at @gpa, read
	 * atomically; all ones where there is no RAM. */
	uint64_t (*read)(const struct gwalk_mem *mem, gpa_t gpa, unsigned size);
	/* If the entry at @gpa still holds *@old, store @new there and
	 * return 0; else put its value in *@old and return -EAGAIN. Where no
	 * RAM (or read-only memory) is, drop the write and return 0. An A/D
	 * update is a guest-memory write: the callback tells whoever must
	 * know (dirty log, decoded code). */
	int (*cmpxchg)(const struct gwalk_mem *mem, gpa_t gpa, unsigned size, uint64_t *old,
		       uint64_t new);
};

/*
 * The access (acc argument). WRITE, USER and FETCH have the values of the
 * #PF error code's W, U and I/D bits (and of HV_ACC_*): backends/backend.h.
 * EPT walks look at WRITE and FETCH only (neither: a read).
 */
#define GWALK_ACC_WRITE		(1u << 1)	/* a write */
#define GWALK_ACC_USER		(1u << 2)	/* user-mode: CPL 3 and not implicit */
#define GWALK_ACC_FETCH		(1u << 4)	/* an instruction fetch */
#define GWALK_ACC_NO_SMAP	(1u << 8)	/* explicit supervisor data access with
						 * RFLAGS.AC = 1: SMAP does not apply */
#define GWALK_ACC_PEEK		(1u << 9)	/* look, do not touch: no A/D updates
						 * (a debugger's translation) */

/* Rights of a translation, combined over the path (gwalk.rights). */
#define GWALK_R		(1u << 0)	/* always for x86; EPT: bit 0 at all levels */
#define GWALK_W		(1u << 1)	/* x86: R/W = 1 at all levels; EPT: bit 1 */
#define GWALK_X		(1u << 2)	/* x86: no XD on the path; EPT: bit 2 */
#define GWALK_U		(1u << 3)	/* x86: U/S = 1 at all levels (a user page) */

/* #PF error code (SDM Vol. 3A 4.7). */
#define GWALK_PF_P	(1u << 0)
#define GWALK_PF_W	(1u << 1)
#define GWALK_PF_U	(1u << 2)
#define GWALK_PF_RSVD	(1u << 3)
#define GWALK_PF_I	(1u << 4)

/* EPT violation: exit qualification bits 5:0 (SDM Vol. 3C Table 28-7).
 * Bits 7 and 8 (linear address valid, final access) are the caller's:
 * an EPT walk sees a guest-physical address only. */
#define GWALK_EPTQ_R	(1u << 0)	/* the access was a data read */
#define GWALK_EPTQ_W	(1u << 1)	/* ... a data write */
#define GWALK_EPTQ_X	(1u << 2)	/* ... an instruction fetch */
#define GWALK_EPTQ_RWX_SHIFT 3		/* 5:3: AND of bits 2:0 over the path */

enum gwalk_fault {
	GWALK_OK,
	GWALK_PF,		/* x86: error_code is the #PF error code */
	GWALK_EPT_VIOLATION,	/* error_code is the qualification (bits 5:0) */
	GWALK_EPT_MISCONFIG,	/* an entry is misconfigured (29.3.3.1) */
};

#define GWALK_MAX_LEVEL 4

/*
 * What one walk found. The path is indexed by level, 1 = PTE .. 4 =
 * PML4E, from top down to level (the leaf, or where a fault stopped):
 * pte[l] is the entry the walk used (with the A/D flags it set), and
 * pte_gpa[l] where it is; the table a level-l entry lives in is
 * gpa_to_gfn(pte_gpa[l]) — shadow pages are keyed by those gfns. For
 * PAE paging level 3 is the PDPTE register, pte_gpa[3] where MOV CR3
 * loaded it from (CR3[31:5] + 8 * index).
 */
struct gwalk {
	enum gwalk_fault fault;
	uint32_t error_code;		/* GWALK_PF / GWALK_EPT_VIOLATION */
	unsigned top;			/* level of the first entry: 2, 3 or 4 */
	unsigned level;			/* the leaf's level, or the faulting entry's
					 * (a rights fault: the leaf's) */
	uint64_t pte[GWALK_MAX_LEVEL + 1];
	gpa_t pte_gpa[GWALK_MAX_LEVEL + 1];
	/* Translation (GWALK_OK). */
	gpa_t gpa;			/* the address translated */
	unsigned page_shift;		/* page size: 12, 21, 22 or 30 */
	unsigned rights;		/* GWALK_R/W/U/X */
	bool dirty;			/* the leaf's D flag is set now (always,
					 * for EPT without A/D flags) */
	uint16_t pcid;			/* CR3[11:0] with pcide, else 0 */
};

/* Walk @addr (a linear address, or for EPT a guest-physical one) for
 * access @acc (GWALK_ACC_*). 0 with the translation in @w, or -EFAULT
 * with w->fault. The generated functions are documented in gwalk.c. */
int gwalk(const struct gwalk_cfg *cfg, const struct gwalk_mem *mem, uint64_t addr,
	  unsigned acc, struct gwalk *w);
int gwalk_32(const struct gwalk_cfg *cfg, const struct gwalk_mem *mem, uint64_t addr,
	     unsigned acc, struct gwalk *w);
int gwalk_64(const struct gwalk_cfg *cfg, const struct gwalk_mem *mem, uint64_t addr,
	     unsigned acc, struct gwalk *w);
int gwalk_ept(const struct gwalk_cfg *cfg, const struct gwalk_mem *mem, uint64_t addr,
	      unsigned acc, struct gwalk *w);

/*
 * The #PF error code an x86 access @acc raises on a translation with
 * combined @rights under @cfg, or 0 when it is allowed (SDM 4.6.1; the
 * decision table is in gwalk.c). A shadow MMU that cached @rights
 * re-checks later accesses with it, as a TLB hit does.
 */
uint32_t gwalk_access_fault(const struct gwalk_cfg *cfg, unsigned rights, unsigned acc);

/* The W/U/I bits of the #PF error code of access @acc (4.7: I/D only
 * for a fetch with SMEP, or with NXE under PAE and 4-level paging). */
uint32_t gwalk_pf_access_bits(const struct gwalk_cfg *cfg, unsigned acc);

#endif
