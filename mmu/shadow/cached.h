/*
 * cached.h — the shadow-cached MMU strategy (KVM's shadow MMU as seed
 * 003, mmu.txt, describes it): shadow pages keyed by (guest table,
 * role) in the pool (mmu/pool.h) and kept across CR3 loads, guest page
 * tables write-protected through the reverse map, their writes emulated
 * and propagated, last-level tables unsynchronized while the guest
 * writes them and synchronized when it flushes. docs/mmu.md has the
 * whole design; the files:
 *
 *   cached.c        ops table, VM and vcpu state, memslots and the
 *                   reverse maps, roles, roots (CR3 loads, mode changes)
 *   cached_fault.c  the #PF exit: guest walk, shadow path, leaf, unsync
 *   cached_sync.c   leaves from guest ptes (prefetch, sync, pte writes),
 *                   unsync pages synchronized, INVLPG, write flooding
 *
 * Table format: the backends run every shadow guest with the real
 * CR4.PAE set (backends/vmx/vmx_regs.c, backends/svm/svm_regs.c), so the
 * processor walks 4-level tables in long mode and PAE tables otherwise:
 * a per-vcpu PDPT page (pae_root, below 4 GiB: PAE CR3 holds 32 bits,
 * SDM Vol. 3A 4.4.1) whose four PDPTEs point at level-2 shadow pages. A
 * 32-bit guest's tables are shadowed by pages of 512 8-byte sptes:
 * role.quadrant picks the part of the guest table (mmu.txt); a guest
 * with paging off is mapped by direct pages (gva = gpa).
 *
 * Not thread-safe: one vcpu per VM today (HV_MAX_VCPUS); the SMP issue
 * adds the MMU lock.
 */
#ifndef HVLAB_MMU_SHADOW_CACHED_H
#define HVLAB_MMU_SHADOW_CACHED_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlab/hv.h"
#include "mmu/gwalk.h"
#include "mmu/mmu.h"
#include "mmu/pool.h"
#include "mmu/rmap.h"

extern const struct hv_mmu_ops shadow_cached_mmu_ops;

struct hv_vm;
struct hv_vcpu;
struct hv_memslot;

/* Emulated writes to a guest table, without a fault using its shadow
 * page in between, after which the page is taken for data and zapped
 * (KVM's write-flooding threshold). */
#define SC_FLOOD_WRITES 3

/* A vcpu's paging mode as the strategy shadows it. */
struct sc_mode {
	bool paging;			/* guest CR0.PG */
	bool long_mode;			/* EFER.LMA: 4-level roots, else PAE roots */
	bool pae;			/* 64-bit gptes (CR4.PAE or long mode) */
	union shadow_role base;		/* what every page of this mode shares
					 * (level, direct, quadrant, access 0) */
};

struct sc_vcpu {
	struct hv_vcpu *vcpu;
	struct sc_mode mode;
	bool loaded;			/* the roots below match the guest's CR3 */
	struct shadow_page *root;	/* long mode: the PML4's shadow page */
	hpa_t pae_root;			/* PAE: the real CR3's PDPT page */
	uint64_t *pae_spt;		/* ... its host pointer */
	struct shadow_page *pae_sp[4];	/* ... the level-2 roots (NULL: none) */
	uint64_t pdpte[4];		/* PAE paging: the guest's PDPTE registers
					 * (4.4.1), read at the last load */
	bool pdptes_valid;
};

struct sc_vm {
	struct hv_vm *vm;
	struct shadow_alloc alloc;	/* the pool's memory: the VM's arena */
	struct shadow_pool pool;
	struct rmap_slot rmaps[HV_MAX_SLOTS];	/* by memslot index; heads
						 * NULL until a leaf needs them */
	struct sc_vcpu *vcpus[HV_MAX_VCPUS];
};

/* ---- cached.c */
struct sc_vm *sc_of(struct hv_vm *vm);
struct sc_vcpu *scv_of(struct hv_vcpu *vcpu);
/* Flush every vcpu's guest translations (a present spte changed). */
void sc_flush_all(struct sc_vm *sc);
/* Copy the pool's counters to the VM's stats. */
void sc_sync_stats(struct sc_vm *sc);
/* Make the roots match the guest's CR3 and mode now: 0, or -errno with
 * vm_err() set. @reload: the same CR3 and mode, roots zapped meanwhile —
 * keep the PDPTE registers (a CR3 load or mode change reads them). */
int sc_load_roots(struct hv_vcpu *vcpu, bool reload);
/* Does any present root need reloading (zapped, or never loaded)? */
bool sc_roots_stale(const struct sc_vcpu *v);
/*
 * A new indirect page for guest table @gfn was just made: synchronize the
 * gfn's unsync pages (a table is either write-protected with every page
 * in sync, or not) and write-protect the gfn. True: flush.
 */
bool sc_account_shadowed(struct sc_vm *sc, gfn_t gfn);
/* Is @gfn a guest table some valid indirect page shadows? */
bool sc_gfn_shadowed(struct sc_vm *sc, gfn_t gfn);

/* ---- cached_fault.c */
enum ret_pf sc_page_fault(struct hv_vcpu *vcpu, uint64_t gva, uint32_t error_code,
			  bool present);

/* ---- cached_sync.c */
/* Rights (SPTE_ACC_*) guest paging entry @gpte grants under @role's
 * format: W, U, and X unless XD is set and in use (SDM 4.6). */
unsigned sc_gpte_rights(union shadow_role role, uint64_t gpte);
/* Leaf spte @i of indirect level-1 page @sp rebuilt from the guest pte
 * it shadows (read now) without an access — prefetch, sync, an emulated
 * pte write: installed when present, accessed, free of reserved bits and
 * in RAM; else dropped. True when a present spte lost rights or its
 * frame (flush). */
bool sc_update_leaf(struct sc_vm *sc, struct shadow_page *sp, unsigned i);
/* Synchronize unsync page @sp with its guest table and write-protect its
 * gfn again. True: flush. */
bool sc_sync_page(struct sc_vm *sc, struct shadow_page *sp);
/* Synchronize @sp if unsync and every unsync page below it: a page about
 * to become reachable again, whose INVLPGs meanwhile went unseen. True:
 * flush. */
bool sc_sync_subtree(struct sc_vm *sc, struct shadow_page *sp);
/* Synchronize every unsync page reachable from @v's roots. True: flush. */
bool sc_sync_roots(struct sc_vm *sc, struct sc_vcpu *v);
/* Does replacing present spte @old by @new need a TLB flush? */
bool sc_need_flush(uint64_t old, uint64_t new);
/* The page whose table a non-leaf spte points at. */
struct shadow_page *sc_child_of(struct sc_vm *sc, uint64_t spte);
void sc_invlpg(struct hv_vcpu *vcpu, gva_t gva);
void sc_track_write(struct hv_vcpu *vcpu, gpa_t gpa, const void *data, unsigned len);

#endif
