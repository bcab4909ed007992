/*
 * cached_sync.c — keeping shadow-cached's leaves in step with the guest's
 * tables without a fault: one leaf rebuilt from its guest pte (the base
 * of prefetch, sync and pte writes), unsync pages synchronized, INVLPG,
 * and emulated writes to shadowed guest tables (mmu.txt "Synchronized
 * and unsynchronized pages", "Reaction to events").
 *
 * Where a guest pte sits. A shadow page of 512 8-byte sptes shadows 512
 * 8-byte gptes (PAE, 4-level), or part of a 32-bit table of 1024 4-byte
 * gptes (SDM 4.3; mmu.txt role.quadrant):
 *
 *   role                       spte i shadows the gpte at index
 *   cr4_pae = 1                i
 *   cr4_pae = 0, level 1       quadrant * 512 + i    (2 MiB of 4 MiB)
 *   cr4_pae = 0, level 2       quadrant * 256 + i/2  (a 4 MiB PDE is two
 *                                                     2 MiB sptes)
 *
 * A leaf without an access (prefetch, sync, a pte write) is installed
 * only from a gpte the processor could use as it stands: present, with
 * A already set (else the first access must set it in guest memory, which
 * only the fault path's walk does, 4.8), no reserved bit (4.3-4.5:
 * address bits at or above MAXPHYADDR, XD without EFER.NXE), pointing at
 * RAM. Otherwise the spte is dropped and the next access faults and
 * walks. The spte gets A clear (SPTE_F_PREFETCH) and, as on the fault
 * path, R/W only when the gpte is dirty and the frame is not a shadowed
 * guest table.
 *
 * Pte writes (sc_track_write, called for every emulated write to RAM):
 * every valid indirect page of the written gfn has the sptes of the
 * gptes the write touched rebuilt from guest memory after the write — a
 * write of any size or alignment is just "these gptes may have changed"
 * (KVM instead zaps pages on misaligned writes). Leaves are rebuilt (the
 * propagation and prefetch of mmu.txt); a non-leaf spte is dropped
 * (mmu_pde_zapped), its child staying cached for the next fault. A page
 * above level 1 written SC_FLOOD_WRITES times with no fault using it in
 * between is no page table any more: zapped (mmu_flooded). Level-1 pages
 * are not: they go unsync instead (cached_fault.c), as KVM does.
 */
#include <string.h>

#include "core/cpuid.h"
#include "core/trace.h"
#include "core/vm.h"
#include "mmu/shadow/cached.h"
#include "mmu/spte.h"

#define GPTE_P		(1ull << 0)
#define GPTE_RW		(1ull << 1)
#define GPTE_US		(1ull << 2)
#define GPTE_A		(1ull << 5)
#define GPTE_D		(1ull << 6)
#define GPTE_XD		(1ull << 63)
#define GPTE32_ADDR	0xfffff000ull		/* 4.3, Table 4-6 */
#define GPTE64_ADDR	0x000ffffffffff000ull	/* 4.5, Table 4-20 */

unsigned sc_gpte_rights(union shadow_role role, uint64_t gpte)
{
	unsigned r = SPTE_ACC_X;
	if (gpte & GPTE_RW)
		r |= SPTE_ACC_W;
	if (gpte & GPTE_US)
		r |= SPTE_ACC_U;
	if (role.cr4_pae && role.efer_nx && (gpte & GPTE_XD))
		r &= ~SPTE_ACC_X;
	return r;
}

/* The gpte spt[@i] of @sp shadows (the table at the top), read now;
 * false when the guest table is in no memslot. */
static bool read_gpte(struct sc_vm *sc, const struct shadow_page *sp, unsigned i, uint64_t *gpte)
{
	gpa_t gpa = gfn_to_gpa(sp->gfn);
	if (sp->role.cr4_pae) {
		const uint64_t *p = vm_gpa_ptr(sc->vm, gpa + 8 * i, 8);
		if (!p)
			return false;
		*gpte = __atomic_load_n(p, __ATOMIC_ACQUIRE);
		return true;
	}
	const unsigned j = sp->role.level == 1 ? sp->role.quadrant * 512 + i
					       : sp->role.quadrant * 256 + i / 2;
	const uint32_t *p = vm_gpa_ptr(sc->vm, gpa + 4 * j, 4);
	if (!p)
		return false;
	*gpte = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return true;
}

bool sc_need_flush(uint64_t old, uint64_t new)
{
	if (!is_shadow_present_pte(old))
		return false;
	if (!is_shadow_present_pte(new) || spte_to_pfn(old) != spte_to_pfn(new))
		return true;
	return ((old & SPTE_RW) && !(new & SPTE_RW)) || ((old & SPTE_US) && !(new & SPTE_US)) ||
	       (!(old & SPTE_XD) && (new & SPTE_XD));
}

/* Is @gpte usable without a walk (see the top)? Its gfn in *@gfn. */
static bool gpte_usable(struct sc_vm *sc, union shadow_role role, uint64_t gpte, gfn_t *gfn)
{
	if ((gpte & (GPTE_P | GPTE_A)) != (GPTE_P | GPTE_A))
		return false;
	if (!role.cr4_pae) {
		*gfn = gpa_to_gfn(gpte & GPTE32_ADDR);
		return true;
	}
	const unsigned maxphy = sc->vm->nvcpus ? vcpu_maxphyaddr(sc->vm->vcpus[0]) : 36;
	if ((gpte & GPTE64_ADDR) >> maxphy)
		return false;
	if ((gpte & GPTE_XD) && !role.efer_nx)
		return false;
	*gfn = gpa_to_gfn(gpte & GPTE64_ADDR);
	return true;
}

bool sc_update_leaf(struct sc_vm *sc, struct shadow_page *sp, unsigned i)
{
	uint64_t gpte = 0;
	gfn_t gfn = 0;
	struct hv_memslot *slot = NULL;
	const uint64_t old = spte_get(&sp->spt[i]);

	if (read_gpte(sc, sp, i, &gpte) && gpte_usable(sc, sp->role, gpte, &gfn))
		slot = vm_slot_of(sc->vm, gfn);
	if (!slot) {
		shadow_page_drop(&sc->pool, sp, i);
		return is_shadow_present_pte(old);
	}
	unsigned flags = SPTE_F_PREFETCH;
	if (gpte & GPTE_D)
		flags |= SPTE_F_DIRTY;
	if (!(slot->flags & HV_MEM_READONLY))
		flags |= SPTE_F_HOST_WRITABLE;
	if (slot->dirty)
		flags |= SPTE_F_LOG_DIRTY;
	if (sp->role.efer_nx)
		flags |= SPTE_F_NXE;
	if (sc_gfn_shadowed(sc, gfn))
		flags |= SPTE_F_WRITE_PROTECT;
	uint64_t new = spte_make(slot_gfn_to_hpa(slot, gfn), sp->role.access &
				 sc_gpte_rights(sp->role, gpte), flags);
	if ((old & ~SPTE_A) == new)
		return false;		/* the same, bar the processor's A */
	if (shadow_page_set_leaf(&sc->pool, sp, i, new, gfn)) {
		shadow_page_drop(&sc->pool, sp, i);	/* no memory: just drop */
		return is_shadow_present_pte(old);
	}
	return sc_need_flush(old, new);
}

bool sc_sync_page(struct sc_vm *sc, struct shadow_page *sp)
{
	bool flush = false;
	for (unsigned i = 0; i < SHADOW_ENTRIES; i++)
		if (is_shadow_present_pte(spte_get(&sp->spt[i])))
			flush |= sc_update_leaf(sc, sp, i);
	shadow_page_clear_unsync(&sc->pool, sp);
	sc->vm->stats.mmu_sync++;
	HV_TRACE_SP_SYNC(sp->gfn);
	struct rmap_head *head = sc->alloc.rmap_of(&sc->alloc, sp->gfn);
	if (head)
		flush |= rmap_write_protect(head, true);
	return flush;
}

struct shadow_page *sc_child_of(struct sc_vm *sc, uint64_t spte)
{
	return shadow_pool_page_of(&sc->pool, (const uint64_t *)(sc->alloc.arena + spte_to_hpa(spte)));
}

/* Depth first along the unsync_child_bitmap (invariant (3) of pool.h):
 * only the paths that lead to unsync pages are visited. */
static bool sync_children(struct sc_vm *sc, struct shadow_page *sp)
{
	bool flush = false;
	for (unsigned w = 0; w < SHADOW_ENTRIES / 64 && sp->unsync_children; w++) {
		/* A snapshot: syncing a child clears its bit as it goes. */
		for (uint64_t bits = sp->unsync_child_bitmap[w]; bits; bits &= bits - 1) {
			const unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
			struct shadow_page *child = sc_child_of(sc, spte_get(&sp->spt[i]));
			if (child->unsync)
				flush |= sc_sync_page(sc, child);
			if (child->unsync_children)
				flush |= sync_children(sc, child);
		}
	}
	return flush;
}

bool sc_sync_subtree(struct sc_vm *sc, struct shadow_page *sp)
{
	bool flush = false;
	if (sp->unsync)
		flush |= sc_sync_page(sc, sp);
	if (sp->unsync_children)
		flush |= sync_children(sc, sp);
	return flush;
}

bool sc_sync_roots(struct sc_vm *sc, struct sc_vcpu *v)
{
	bool flush = false;
	if (v->root)
		flush |= sync_children(sc, v->root);
	for (unsigned i = 0; i < 4; i++)
		if (v->pae_sp[i])
			flush |= sync_children(sc, v->pae_sp[i]);
	return flush;
}

/* ---------------------------------------------------------------- INVLPG */

/*
 * INVLPG @gva (SDM Vol. 2A; 4.10.4.1): the guest may have changed the pte
 * of an unsync page and now wants the change seen — synchronize that one
 * spte (mmu.txt "invlpg handling"; pages in sync follow every pte write
 * already). Then the processor's translations go.
 */
void sc_invlpg(struct hv_vcpu *vcpu, gva_t gva)
{
	struct sc_vm *sc = sc_of(vcpu->vm);
	struct sc_vcpu *v = scv_of(vcpu);
	if (!v)
		return;
	if (sc_roots_stale(v)) {
		(void)sc_load_roots(vcpu, true);	/* syncs and flushes everything */
		return;
	}
	struct shadow_page *sp = v->root ? v->root : v->pae_sp[(gva >> 30) & 3];
	while (sp && sp->role.level > 1) {
		const uint64_t spte = spte_get(&sp->spt[(gva >> (12 + 9 * (sp->role.level - 1))) & 511]);
		sp = is_shadow_present_pte(spte) ? sc_child_of(sc, spte) : NULL;
	}
	if (sp && sp->unsync)
		(void)sc_update_leaf(sc, sp, (gva >> 12) & 511);	/* flushed below */
	vcpu->vm->backend->flush_tlb(vcpu, HV_FLUSH_GUEST);
	vcpu->vm->stats.tlb_flush++;
	HV_TRACE_TLB_FLUSH(vcpu->id, HV_TRACE_FLUSH_LOCAL);
}

/* ---------------------------------------------------------------- pte writes */

/* The sptes of @sp that shadow gptes in bytes [@first, @last] of its
 * guest table: [*lo, *hi], false when none (another quadrant). */
static bool written_range(const struct shadow_page *sp, unsigned first, unsigned last,
			  unsigned *lo, unsigned *hi)
{
	if (sp->role.cr4_pae) {
		*lo = first / 8;
		*hi = last / 8;
		return true;
	}
	const unsigned per = sp->role.level == 1 ? 512 : 256;	/* gptes per quadrant */
	unsigned j0 = first / 4, j1 = last / 4;
	const unsigned q0 = sp->role.quadrant * per, q1 = q0 + per - 1;
	if (j1 < q0 || j0 > q1)
		return false;
	j0 = j0 < q0 ? q0 : j0;
	j1 = j1 > q1 ? q1 : j1;
	*lo = sp->role.level == 1 ? j0 - q0 : 2 * (j0 - q0);
	*hi = sp->role.level == 1 ? j1 - q0 : 2 * (j1 - q0) + 1;
	return true;
}

void sc_track_write(struct hv_vcpu *vcpu, gpa_t gpa, const void *data, unsigned len)
{
	struct hv_vm *vm = vcpu->vm;
	struct sc_vm *sc = sc_of(vm);
	const gfn_t gfn = gpa_to_gfn(gpa);
	const unsigned first = gpa & (HV_PAGE_SIZE - 1);
	struct shadow_page *sp, *next;
	bool flush = false, hit = false;
	(void)data;		/* the gptes are read back from guest memory */

	if (!len)
		return;
	const unsigned last = first + len - 1 < HV_PAGE_SIZE ? first + len - 1 : HV_PAGE_SIZE - 1;
	for (sp = shadow_pool_first_of_gfn(&sc->pool, gfn); sp; sp = next) {
		next = shadow_pool_next_of_gfn(sp->hash_next, gfn);
		hit = true;
		if (sp->role.level > 1 && ++sp->write_flooding_count >= SC_FLOOD_WRITES) {
			flush |= shadow_pool_zap(&sc->pool, sp);
			vm->stats.mmu_flooded++;
			continue;
		}
		unsigned lo, hi;
		if (!written_range(sp, first, last, &lo, &hi))
			continue;
		for (unsigned i = lo; i <= hi; i++) {
			if (sp->role.level == 1) {
				flush |= sc_update_leaf(sc, sp, i);
				continue;
			}
			if (shadow_page_drop(&sc->pool, sp, i)) {
				flush = true;
				vm->stats.mmu_pde_zapped++;
			}
		}
	}
	if (hit)
		vm->stats.mmu_pte_write++;
	if (flush)
		sc_flush_all(sc);
	sc_sync_stats(sc);
}

