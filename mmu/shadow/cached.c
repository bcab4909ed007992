/*
 * cached.c — the shadow-cached strategy's state, memslots, roles and
 * roots (cached.h has the file map; docs/mmu.md the design).
 *
 * Roles (mmu.txt role.*). Every page of one paging mode shares a base
 * role; a page adds its level, whether it is direct, its quadrant and the
 * rights its guest path inherited from above:
 *
 *   guest mode           roots                         base role
 *   paging off           4 direct level-2 pages, gfn   direct, access all
 *                        i << 18 (gva = gpa, 1 GiB each)
 *   32-bit paging (4.3)  4 level-2 pages of the guest  cr4_pae 0, quadrant i
 *                        PD, quadrant i = its i-th GiB
 *   PAE paging (4.4)     4 level-2 pages, one per      cr4_pae 1
 *                        present guest PDPTE
 *   4-level (4.5)        1 level-4 page, the PML4      cr4_pae 1
 *
 * and efer_nx, cr0_wp, smep_andnot_wp, smap_andnot_wp from the guest's
 * registers whenever paging is on: leaves encode rights worked out under
 * those rules (cached_fault.c's CR0.WP = 0 case), so a page made under
 * one set is never used under another.
 *
 * Roots are loaded eagerly at every CR3 load and mode change (the guest
 * then runs without an extra fault), each reference counted
 * (shadow_pool_get_root), and the unsync pages they reach synchronized
 * (mmu.txt "mov to cr3": synchronize newly reachable shadow pages). A
 * root zapped while loaded (a memslot change, reclaim never takes roots)
 * is emptied and marked invalid by the pool: every access then faults,
 * and the fault path reloads (sc_roots_stale). When a load fails the
 * real CR3 points at the vcpu's empty PDPT page, so the processor never
 * walks a freed table.
 *
 * Memslots. A leaf's reverse-map head lives in sc->rmaps[slot index],
 * allocated on first use. Any change of an existing slot (delete, move,
 * flags) zaps every shadow page, as KVM's first shadow MMU did on slot
 * changes: a slot change is rare and a zap-all is simply correct; a new
 * slot needs nothing (a gpa without memory never gets a leaf: its faults
 * stay not present and go to the emulator).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/request.h"
#include "core/cr.h"
#include "core/trace.h"
#include "core/vm.h"
#include "mmu/shadow/cached.h"
#include "mmu/spte.h"
#include "mmu/walk.h"

#ifndef CONFIG_MMU_SHADOW_PAGES
#define CONFIG_MMU_SHADOW_PAGES 4096
#endif

#define CR3_ADDR_MASK	0x000ffffffffff000ull	/* 4-level: bits M-1:12 */
#define CR3_32_MASK	0xfffff000ull		/* 32-bit paging: 31:12 (4.3) */

struct sc_vm *sc_of(struct hv_vm *vm)
{
	return vm->scached;
}

struct sc_vcpu *scv_of(struct hv_vcpu *vcpu)
{
	struct sc_vm *sc = sc_of(vcpu->vm);
	return sc ? sc->vcpus[vcpu->id] : NULL;
}

/* Flush every vcpu (in parallel mode: wait until none is in the guest
 * with its old TLB), then the frames of pages zapped so far may be
 * reused. */
void sc_flush_all(struct sc_vm *sc)
{
	struct hv_vm *vm = sc->vm;
	vm_flush_remote_tlbs(vm);
	shadow_pool_release(&sc->pool);
	/* A vcpu whose root went (a zap of a loaded root empties it) loads
	 * new ones before it enters again (KVM_REQ_MMU_RELOAD). */
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct sc_vcpu *v = sc->vcpus[vm->vcpus[i]->id];
		if (v && v->loaded && sc_roots_stale(v))
			vcpu_make_request(vm->vcpus[i], VCPU_REQ_MMU_RELOAD);
	}
}

/* The mmu op commit_zap (core/mmu_call.h): before the MMU lock goes,
 * pages freed without a flush yet get one. */
static void sc_commit_zap(struct hv_vm *vm)
{
	struct sc_vm *sc = vm->scached;
	if (sc && sc->pool.nlimbo)
		sc_flush_all(sc);
}

void sc_sync_stats(struct sc_vm *sc)
{
	struct hv_vm_stats *st = &sc->vm->stats;
	const struct shadow_pool_stats *ps = &sc->pool.stats;
	/* One PDPT page per vcpu besides the pool's. */
	st->mmu_pages = ps->in_use + sc->vm->nvcpus;
	if (st->mmu_pages > st->mmu_pages_peak)
		st->mmu_pages_peak = st->mmu_pages;
	st->mmu_cache_miss = ps->cache_miss;
	st->mmu_shadow_zapped = ps->zapped;
	st->mmu_recycled = ps->recycled;
}

/* ---------------------------------------------------------------- memory */

static struct sc_vm *sc_of_alloc(struct shadow_alloc *a)
{
	return container_of(a, struct sc_vm, alloc);
}

static hpa_t sc_alloc_page(struct shadow_alloc *a)
{
	struct hv_vm *vm = sc_of_alloc(a)->vm;
	const hpa_t hpa = vm_alloc_page(vm);
	if (hpa != INVALID_HPA)
		memset(vm_hpa_ptr(vm, hpa), 0, HV_PAGE_SIZE);
	return hpa;
}

static void sc_free_page(struct shadow_alloc *a, hpa_t hpa)
{
	vm_free_page(sc_of_alloc(a)->vm, hpa);
}

/*
 * The head of @gfn. The slot's own record first; a slot that has just
 * moved (memslot_changed runs after the move, while its old leaves are
 * being dropped) is found by the range its reverse map was made for.
 */
static struct rmap_head *sc_rmap_of(struct shadow_alloc *a, gfn_t gfn)
{
	struct sc_vm *sc = sc_of_alloc(a);
	struct hv_memslot *s = vm_slot_of(sc->vm, gfn);
	if (s) {
		struct rmap_slot *rs = &sc->rmaps[s->id];
		if (!rs->heads && rmap_slot_init(rs, s->base_gfn, s->npages))
			return NULL;
		if (rs->base_gfn == s->base_gfn && rs->npages == s->npages)
			return rmap_slot_head(rs, gfn);
	}
	for (unsigned i = 0; i < HV_MAX_SLOTS; i++) {
		struct rmap_head *h = sc->rmaps[i].heads ? rmap_slot_head(&sc->rmaps[i], gfn) : NULL;
		if (h)
			return h;
	}
	return NULL;
}

bool sc_gfn_shadowed(struct sc_vm *sc, gfn_t gfn)
{
	return shadow_pool_first_of_gfn(&sc->pool, gfn) != NULL;
}

bool sc_account_shadowed(struct sc_vm *sc, gfn_t gfn)
{
	struct shadow_page *sp;
	bool flush = false;
	for (sp = shadow_pool_first_of_gfn(&sc->pool, gfn); sp;
	     sp = shadow_pool_next_of_gfn(sp->hash_next, gfn))
		if (sp->unsync)
			flush |= sc_sync_page(sc, sp);
	struct rmap_head *head = sc->alloc.rmap_of(&sc->alloc, gfn);
	if (head)
		flush |= rmap_write_protect(head, true);
	return flush;
}

/* ---------------------------------------------------------------- VM */

static int sc_vm_init(struct hv_vm *vm)
{
	struct sc_vm *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return vm_err(-ENOMEM, "out of memory");
	sc->vm = vm;
	sc->alloc = (struct shadow_alloc){ .arena = vm->arena, .alloc_page = sc_alloc_page,
					   .free_page = sc_free_page, .rmap_of = sc_rmap_of };
	shadow_pool_init(&sc->pool, &sc->alloc, CONFIG_MMU_SHADOW_PAGES);
	vm->scached = sc;
	return 0;
}

static void sc_vm_destroy(struct hv_vm *vm)
{
	struct sc_vm *sc = sc_of(vm);
	if (!sc)
		return;
	shadow_pool_destroy(&sc->pool);
	for (unsigned i = 0; i < HV_MAX_SLOTS; i++)
		rmap_slot_destroy(&sc->rmaps[i]);
	free(sc);
	vm->scached = NULL;
}

static void sc_memslot_changed(struct hv_vm *vm, const struct hv_memslot *old,
			       const struct hv_memslot *new)
{
	struct sc_vm *sc = sc_of(vm);
	(void)new;
	if (!old)
		return;
	if (shadow_pool_zap_all(&sc->pool))
		sc_flush_all(sc);
	rmap_slot_destroy(&sc->rmaps[old->id]);
	memset(&sc->rmaps[old->id], 0, sizeof(sc->rmaps[old->id]));
	sc_sync_stats(sc);
}

/* KVM_GET_DIRTY_LOG's write protection: the next write to each page
 * faults, is logged and made writable again (cached_fault.c). */
static void sc_dirty_log_rearm(struct hv_vm *vm, const struct hv_memslot *slot)
{
	struct sc_vm *sc = sc_of(vm);
	struct rmap_slot *rs = &sc->rmaps[slot->id];
	if (rs->heads && rmap_write_protect_slot(rs, false))
		sc_flush_all(sc);
}

/* ---------------------------------------------------------------- roots */

static void compute_mode(struct hv_vcpu *vcpu, struct sc_mode *m)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	const uint64_t cr0 = be->get_cr(vcpu, 0), cr4 = be->get_cr(vcpu, 4);
	const uint64_t efer = be->get_efer(vcpu);
	memset(m, 0, sizeof(*m));
	m->paging = cr0 & CR0_PG;
	if (!m->paging) {
		m->base.direct = 1;
		m->base.cr4_pae = 1;
		m->pae = true;
		return;
	}
	const bool wp = cr0 & CR0_WP;
	m->long_mode = efer & EFER_LMA;
	m->pae = m->long_mode || (cr4 & CR4_PAE);
	m->base.cr4_pae = m->pae;
	m->base.efer_nx = m->pae && (efer & EFER_NXE);	/* XD exists (4.4, 4.5) */
	m->base.cr0_wp = wp;
	m->base.smep_andnot_wp = (cr4 & CR4_SMEP) && !wp;
	m->base.smap_andnot_wp = (cr4 & CR4_SMAP) && !wp;
}

static void put_roots(struct sc_vm *sc, struct sc_vcpu *v)
{
	if (v->root) {
		shadow_pool_put_root(&sc->pool, v->root);
		v->root = NULL;
	}
	for (unsigned i = 0; i < 4; i++) {
		spte_set(&v->pae_spt[i], 0);
		if (v->pae_sp[i]) {
			shadow_pool_put_root(&sc->pool, v->pae_sp[i]);
			v->pae_sp[i] = NULL;
		}
	}
	v->loaded = false;
}

bool sc_roots_stale(const struct sc_vcpu *v)
{
	if (!v->loaded || (v->root && v->root->role.invalid))
		return true;
	for (unsigned i = 0; i < 4; i++)
		if (v->pae_sp[i] && v->pae_sp[i]->role.invalid)
			return true;
	return false;
}

/* The root page for (@gfn, @role), referenced: 0 or -errno. */
static int get_root(struct sc_vm *sc, gfn_t gfn, union shadow_role role,
		    struct shadow_page **out, bool *flush)
{
	bool created;
	const int r = shadow_pool_get(&sc->pool, gfn, role, out, &created);
	if (r)
		return r;
	if (created && !role.direct)
		*flush |= sc_account_shadowed(sc, gfn);
	shadow_pool_get_root(*out);
	return 0;
}

/* The four level-2 roots under PAE paging, 32-bit paging or none. */
static int load_pae_roots(struct sc_vm *sc, struct sc_vcpu *v, uint64_t cr3, bool *flush)
{
	const bool paging = v->mode.paging;
	if (paging && v->mode.pae && !v->pdptes_valid) {
		mmu_read_pdptes(v->vcpu, cr3, v->pdpte);	/* as MOV CR3 does */
		v->pdptes_valid = true;
	}
	for (unsigned i = 0; i < 4; i++) {
		union shadow_role role = v->mode.base;
		gfn_t gfn;
		role.level = 2;
		role.access = SPTE_ACC_ALL;
		if (!paging) {
			gfn = (gfn_t)i << 18;		/* 1 GiB of gpa */
		} else if (!v->mode.pae) {
			gfn = gpa_to_gfn(cr3 & CR3_32_MASK);
			role.quadrant = i;
		} else {
			if (!(v->pdpte[i] & SPTE_P))
				continue;	/* the walk faults: guest's #PF */
			gfn = gpa_to_gfn(v->pdpte[i] & SPTE_ADDR_MASK);
		}
		const int r = get_root(sc, gfn, role, &v->pae_sp[i], flush);
		if (r)
			return r;
		/* PDPTEs hold P and the address only (4.4.1, Table 4-8). */
		spte_set(&v->pae_spt[i], SPTE_P | v->pae_sp[i]->hpa);
	}
	v->vcpu->vm->backend->set_shadow_root(v->vcpu, v->pae_root);
	return 0;
}

int sc_load_roots(struct hv_vcpu *vcpu, bool reload)
{
	struct hv_vm *vm = vcpu->vm;
	struct sc_vm *sc = sc_of(vm);
	struct sc_vcpu *v = scv_of(vcpu);
	const uint64_t cr3 = vm->backend->get_cr(vcpu, 3);
	bool flush = false, ok;
	int r;

	put_roots(sc, v);
	if (!reload)
		v->pdptes_valid = false;	/* a CR3 load: read them again */
	vm->backend->set_shadow_root(vcpu, v->pae_root);	/* empty: all faults */
	compute_mode(vcpu, &v->mode);
	flush |= shadow_pool_make_room(&sc->pool, 4, &ok);
	if (!ok) {
		r = -ENOSPC;
	} else if (v->mode.long_mode) {
		union shadow_role role = v->mode.base;
		role.level = 4;
		role.access = SPTE_ACC_ALL;
		r = get_root(sc, gpa_to_gfn(cr3 & CR3_ADDR_MASK), role, &v->root, &flush);
		if (!r)
			vm->backend->set_shadow_root(vcpu, v->root->hpa);
	} else {
		r = load_pae_roots(sc, v, cr3, &flush);
	}
	if (r) {
		put_roots(sc, v);
		vm->backend->set_shadow_root(vcpu, v->pae_root);
		sc_flush_all(sc);
		sc_sync_stats(sc);
		return vm_err(r, "shadow-cached: no shadow root for CR3 %#llx (%llu pages in use)",
			      (unsigned long long)cr3, (unsigned long long)sc->pool.stats.in_use);
	}
	v->loaded = true;
	(void)sc_sync_roots(sc, v);	/* flushed below anyway */
	/* The real CR3 changed: the processor's cached translations of the
	 * old root go (VM entry with VPID keeps them, SDM Vol. 3C 28.3.3.3).
	 * Only this vcpu's, unless making room dropped present entries: the
	 * unsync pages synchronized above changed as the guest changed its
	 * tables, and x86 makes the guest flush every other processor that
	 * may cache them itself (KVM flushes the local vcpu here too). */
	if (flush) {
		sc_flush_all(sc);
	} else {
		vm->backend->flush_tlb(vcpu, HV_FLUSH_GUEST);
		vm->stats.tlb_flush++;
		HV_TRACE_TLB_FLUSH(vcpu->id, HV_TRACE_FLUSH_LOCAL);
	}
	sc_sync_stats(sc);
	return 0;
}

/* The reload-roots request (core/request.h): another vcpu zapped a root
 * this one has loaded; load new ones before entering rather than take
 * a fault on the emptied one first. */
static void sc_reload_roots(struct hv_vcpu *vcpu)
{
	struct sc_vcpu *v = scv_of(vcpu);
	if (v && sc_roots_stale(v) && !sc_load_roots(vcpu, true))
		vcpu->vm->stats.mmu_reload++;
}

/* The PDPTE registers (mmu.h): those of the last load. A load that
 * failed read them all the same, as the processor's MOV CR3 would. */
static bool sc_get_pdptes(struct hv_vcpu *vcpu, uint64_t pdpte[4])
{
	const struct sc_vcpu *v = scv_of(vcpu);
	if (!v || !v->pdptes_valid)
		return false;
	memcpy(pdpte, v->pdpte, sizeof(v->pdpte));
	return true;
}

/* ---------------------------------------------------------------- vcpu */

static int sc_vcpu_init(struct hv_vcpu *vcpu)
{
	struct sc_vm *sc = sc_of(vcpu->vm);
	struct sc_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return vm_err(-ENOMEM, "out of memory");
	/* PAE CR3 holds a 32-bit address (4.4.1): the arena hands out low
	 * host-physical pages first. */
	v->pae_root = sc_alloc_page(&sc->alloc);
	if (v->pae_root == INVALID_HPA || v->pae_root >> 32) {
		if (v->pae_root != INVALID_HPA)
			vm_free_page(vcpu->vm, v->pae_root);
		free(v);
		return vm_err(-ENOMEM, "no host-physical page below 4 GiB for a shadow PDPT");
	}
	v->pae_spt = vm_hpa_ptr(vcpu->vm, v->pae_root);
	v->vcpu = vcpu;
	sc->vcpus[vcpu->id] = v;
	vcpu->vm->backend->set_shadow_root(vcpu, v->pae_root);
	sc_sync_stats(sc);
	return 0;
}

static void sc_vcpu_destroy(struct hv_vcpu *vcpu)
{
	struct sc_vm *sc = sc_of(vcpu->vm);
	struct sc_vcpu *v = sc ? sc->vcpus[vcpu->id] : NULL;
	if (!v)
		return;
	put_roots(sc, v);
	vm_free_page(vcpu->vm, v->pae_root);
	free(v);
	sc->vcpus[vcpu->id] = NULL;
}

/* A paging-mode change or a CR3 load: new roots now. A failure leaves
 * them unloaded; the next fault tries again and reports. */
static void sc_reset_context(struct hv_vcpu *vcpu)
{
	if (scv_of(vcpu))
		(void)sc_load_roots(vcpu, false);
}

static void sc_new_cr3(struct hv_vcpu *vcpu, uint64_t cr3)
{
	(void)cr3;
	sc_reset_context(vcpu);
}

/* A full flush the guest asked for (INVPCID all contexts...): every
 * unsync page reachable is synchronized (mmu.txt). */
static void sc_flush_tlb(struct hv_vcpu *vcpu)
{
	struct sc_vm *sc = sc_of(vcpu->vm);
	struct sc_vcpu *v = scv_of(vcpu);
	if (!v)
		return;
	if (sc_roots_stale(v))
		(void)sc_load_roots(vcpu, true);
	else
		(void)sc_sync_roots(sc, v);	/* flushed below anyway */
	vcpu->vm->backend->flush_tlb(vcpu, HV_FLUSH_GUEST);
	vcpu->vm->stats.tlb_flush++;
	HV_TRACE_TLB_FLUSH(vcpu->id, HV_TRACE_FLUSH_LOCAL);
	sc_sync_stats(sc);
}

const struct hv_mmu_ops shadow_cached_mmu_ops = {
	.name = "shadow-cached",
	.style = HV_MMU_SHADOW,
	.vm_init = sc_vm_init,
	.vm_destroy = sc_vm_destroy,
	.memslot_changed = sc_memslot_changed,
	.dirty_log_rearm = sc_dirty_log_rearm,
	.commit_zap = sc_commit_zap,
	.reload_roots = sc_reload_roots,
	.vcpu_init = sc_vcpu_init,
	.vcpu_destroy = sc_vcpu_destroy,
	.reset_context = sc_reset_context,
	.page_fault = sc_page_fault,
	.new_cr3 = sc_new_cr3,
	.invlpg = sc_invlpg,
	.flush_tlb = sc_flush_tlb,
	.gva_to_gpa = mmu_walk_guest,	/* the guest's tables, mmu/walk.c */
	.get_pdptes = sc_get_pdptes,
	.track_write = sc_track_write,
};
