/*
 * walk.h — the page walkers: guest paging (32-bit, PAE, 4-level; SDM
 * Vol. 3A chapter 4) over an optional second dimension (EPT, SDM Vol. 3C
 * 29.3; or AMD nested paging, APM Vol. 2 15.25), reading and updating
 * tables in host-physical memory as hardware does.
 *
 * One walk answers one TLB miss: it translates a linear address for one
 * access, checks the access against the rights of the whole path, sets
 * accessed/dirty flags (atomically, and only when the access succeeds),
 * counts every memory reference it makes, and reports either the
 * translation (for the TLB) or the fault the processor would raise: a
 * guest #PF with its error code (SDM 4.7), an EPT violation with its exit
 * qualification (SDM 28.2.1 Table 28-7), an EPT misconfiguration, or a
 * nested page fault with EXITINFO1 (APM 15.25.6).
 *
 * Rights are returned as the combination over the path (R/W and U/S
 * ANDed, XD ORed), so a TLB hit can re-check a later access with
 * hw_access_fault() exactly as the walk would have.
 */
#ifndef HVLAB_HW_WALK_H
#define HVLAB_HW_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlab/types.h"
#include "hw/cost.h"

struct hw_machine;
struct hw_psc;

enum hw_paging_mode {
	HW_PAGING_NONE,		/* CR0.PG = 0: linear = guest physical */
	HW_PAGING_32,		/* 2-level, 4 KiB and (CR4.PSE) 4 MiB pages */
	HW_PAGING_PAE,		/* 3-level, PDPTEs loaded by MOV CR3 */
	HW_PAGING_4LEVEL,	/* IA-32e paging */
};

/* The guest paging configuration a walk runs under. */
struct hw_paging {
	enum hw_paging_mode mode;
	uint64_t cr3;
	/* PAE paging: the four PDPTEs as loaded from CR3 (SDM 4.4.1). */
	uint64_t pdpte[4];
	bool wp;		/* CR0.WP */
	bool pse;		/* CR4.PSE (32-bit paging only) */
	bool nxe;		/* IA32_EFER.NXE */
	bool smep, smap;	/* CR4.SMEP, CR4.SMAP */
	bool pcide;		/* CR4.PCIDE */
	bool no_1g_pages;	/* the processor lacks 1 GiB pages: PS in a
				 * PDPTE is a reserved bit (SDM 4.5.4) */
	uint8_t maxphyaddr;	/* physical-address width (reserved bits);
				 * 0 or > 52 is taken as 52, < 32 as 32 */
};

enum hw_nested_kind {
	HW_NESTED_NONE,		/* guest physical = host physical */
	HW_NESTED_EPT,		/* VMX: EPT, 4-level (SDM 29.3.2) */
	HW_NESTED_NPT,		/* SVM: nested paging, long-mode format (APM 15.25) */
};

struct hw_nested {
	enum hw_nested_kind kind;
	hpa_t root;		/* EPT PML4 (EPTP[51:12]) or nCR3[51:12] */
	bool ept_ad;		/* EPTP bit 6: EPT accessed and dirty flags */
	bool npt_nxe;		/* the host's EFER.NXE at VMRUN: NX honoured in NPT */
	bool ept_x_only;	/* execute-only EPT entries allowed (capability) */
	uint8_t maxphyaddr;	/* the processor's physical-address width, as in
				 * hw_paging: bits above it are reserved in nested
				 * entries; 0 is taken as 52 (none reserved) */
};

/* The access being translated (acc argument). */
#define HW_ACC_WRITE	(1u << 0)	/* a write (or a locked read for write) */
#define HW_ACC_FETCH	(1u << 1)	/* an instruction fetch */
#define HW_ACC_USER	(1u << 2)	/* user-mode access (CPL 3, not implicit) */
#define HW_ACC_NO_SMAP	(1u << 3)	/* explicit supervisor access at CPL < 3
					 * with RFLAGS.AC = 1 (SDM 4.6) */

/* Rights of a translation (hw_walk.rights). */
#define HW_R_W		(1u << 0)	/* writable: R/W = 1 at every level */
#define HW_R_U		(1u << 1)	/* user page: U/S = 1 at every level */
#define HW_R_XD		(1u << 2)	/* execute-disable: XD = 1 at some level (NXE) */
#define HW_R_DIRTY	(1u << 3)	/* the leaf's D flag is set, and the nested
					 * leaf's (EPT D with A/D on; NPT D) */
#define HW_R_GLOBAL	(1u << 4)	/* G = 1 in the leaf and CR4.PGE (caller masks) */
/* Under EPT/NPT the final translation's rights also AND in: */
#define HW_R_NW		(1u << 5)	/* nested: not writable */
#define HW_R_NX		(1u << 6)	/* nested: not executable */
#define HW_R_NR		(1u << 7)	/* nested: not readable (EPT execute-only) */

/* #PF error code bits (SDM Vol. 3A 4.7). */
#define HW_PFEC_P	(1u << 0)
#define HW_PFEC_W	(1u << 1)
#define HW_PFEC_U	(1u << 2)
#define HW_PFEC_RSVD	(1u << 3)
#define HW_PFEC_I	(1u << 4)

/* EPT violation exit qualification (SDM Vol. 3C 28.2.1, Table 28-7).
 * Bits 6 and 9-11 (mode-based execute, advanced information) are not
 * modeled and stay 0; bit 12 (NMI unblocking) is the VM exit's business. */
#define HW_EPTQ_READ		(1ull << 0)	/* data read */
#define HW_EPTQ_WRITE		(1ull << 1)	/* data write */
#define HW_EPTQ_FETCH		(1ull << 2)	/* instruction fetch */
#define HW_EPTQ_READABLE	(1ull << 3)	/* AND of bit 0 over the EPT path */
#define HW_EPTQ_WRITABLE	(1ull << 4)	/* AND of bit 1 */
#define HW_EPTQ_EXECUTABLE	(1ull << 5)	/* AND of bit 2 */
#define HW_EPTQ_GLA_VALID	(1ull << 7)	/* the access came from a linear address */
#define HW_EPTQ_GLA_FINAL	(1ull << 8)	/* ... to its translation, not a paging entry */

/* Nested page fault EXITINFO1 (APM Vol. 2 15.25.6): a #PF error code for
 * the nested access plus where in the 2-D walk it happened. */
#define HW_NPF_P		(1ull << 0)	/* the nested entry was present */
#define HW_NPF_RW		(1ull << 1)	/* a write */
#define HW_NPF_US		(1ull << 2)	/* always: nested accesses are user */
#define HW_NPF_RSV		(1ull << 3)	/* a reserved bit was set */
#define HW_NPF_ID		(1ull << 4)	/* an instruction fetch (nested NX on) */
#define HW_NPF_FINAL		(1ull << 32)	/* translating the final gpa */
#define HW_NPF_PAGING		(1ull << 33)	/* translating a guest page-table access */

enum hw_walk_fault {
	HW_WALK_OK,
	HW_WALK_PF,		/* guest #PF: pf_error, address = la */
	HW_WALK_EPT_VIOLATION,	/* qual, fault_gpa, la valid per qual bit 7 */
	HW_WALK_EPT_MISCONFIG,	/* fault_gpa */
	HW_WALK_NPF,		/* qual = EXITINFO1, fault_gpa = EXITINFO2 */
};

struct hw_walk {
	/* Translation (HW_WALK_OK). */
	hpa_t hpa;		/* host-physical address of la */
	gpa_t gpa;		/* guest-physical address of la */
	unsigned page_shift;	/* 12, 21, 22 or 30: the guest page size (30
				 * without guest paging: an identity map has no
				 * page size, so the nested page decides) */
	unsigned nested_shift;	/* size of the nested page (12 without nesting) */
	unsigned rights;	/* HW_R_* */
	uint16_t pcid;		/* the PCID the translation belongs to */
	/* Fault. */
	enum hw_walk_fault fault;
	uint32_t pf_error;
	uint64_t qual;
	gpa_t fault_gpa;
};

/*
 * Translate @la for @acc. Counts references in @cnt (walk_refs for all,
 * walk_refs_2d for those the nested walks make). Returns w->fault.
 * Sets guest A/D flags (and nested ones) only when the access succeeds;
 * a walk that finds an entry changed under it starts over, and its
 * references count again (hw/walk.c).
 */
enum hw_walk_fault hw_walk(struct hw_machine *m, const struct hw_paging *pg,
			   const struct hw_nested *nst, uint64_t la, unsigned acc,
			   struct hw_walk *w, struct hw_counters *cnt);

/*
 * hw_walk() through the paging-structure caches @psc (hw/psc.h; NULL or
 * no entries: none) of address space @tag (hw/tlb.h HW_TLB_TAG): the walk
 * starts below the lowest cached entry for @la and counts one
 * walk_cache_hits for the references that skips; a walk that ends in a
 * translation caches the entries it read that reference a table; one
 * that faults drops the cached entries a walk of @la would use (hw/walk.c).
 */
enum hw_walk_fault hw_walk_cached(struct hw_machine *m, const struct hw_paging *pg,
				  const struct hw_nested *nst, struct hw_psc *psc,
				  uint64_t tag, uint64_t la, unsigned acc, struct hw_walk *w,
				  struct hw_counters *cnt);

/*
 * Translate guest-physical @gpa through the nested tables only (guest
 * paging off, or a guest-physical access such as loading PDPTEs). With
 * HW_NESTED_NONE this is the identity. Returns w->fault. No linear
 * address is involved: an EPT violation has qualification bits 7 and 8
 * clear, a nested page fault has EXITINFO1 bit 32 set.
 */
enum hw_walk_fault hw_walk_gpa(struct hw_machine *m, const struct hw_nested *nst,
			       gpa_t gpa, unsigned acc, struct hw_walk *w,
			       struct hw_counters *cnt);

/*
 * The #PF error code an access @acc to a translation with @rights raises
 * under @pg, or 0 when the access is allowed (SDM 4.6). A TLB hit calls
 * it; the walk uses it for the final check. HW_R_DIRTY is not consulted.
 */
uint32_t hw_access_fault(const struct hw_paging *pg, unsigned rights, unsigned acc);

#endif
