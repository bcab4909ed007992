/*
 * cached_fault.c — shadow-cached's #PF exit (mmu.txt "guest page fault"):
 *
 *   1. roots stale (zapped, never loaded)   reload them
 *   2. walk the guest's tables (mmu/walk.c) a true guest fault: inject
 *                                           it (pf_guest), RET_PF_GUEST
 *   3. gpa in no memslot, or a write to a   RET_PF_EMULATE: the emulator
 *      read-only one                        sends it out as MMIO
 *   4. the shadow path, top down: at each   found by (gfn, role), made
 *      level the page for the guest table   when missing (a new guest
 *      the walk used (indirect), or for the table is write-protected,
 *      linear range of a large guest page   sc_account_shadowed), linked
 *      (direct)                             in place of a stale link
 *   5. the leaf: the walk's rights, R/W     a write to a write-protected
 *      only for a dirty gpte and a frame    guest table: RET_PF_EMULATE
 *      no synced page shadows (else the     (cached_sync.c propagates
 *      gfn's level-1 pages go unsync)       it); else RET_PF_RETRY
 *   6. prefetch: the neighbouring gptes of the same group of 8 (KVM's
 *      PTE_PREFETCH_NUM) get leaves too when they can (cached_sync.c)
 *
 * Unsync (mmu.txt): a writable leaf for a frame that shadow pages treat
 * as a guest table is allowed when every such page is a level-1 page;
 * those pages are marked unsync (mmu_unsync) and the guest writes its
 * ptes freely until it flushes. A table also used at a higher level
 * stays write-protected and its writes are emulated.
 *
 * Steps 2, 3 and the leaf's rights and flags (CR0.WP = 0, dirty
 * logging) are shared with shadow-flush: mmu/shadow/fault.c.
 */
#include <errno.h>

#include "core/trace.h"
#include "core/vm.h"
#include "mmu/shadow/cached.h"
#include "mmu/shadow/fault.h"
#include "mmu/spte.h"

#define PTE_PREFETCH_NUM 8

/* The rights the guest entries at levels w->top .. @level grant
 * together; a PAE PDPTE grants all (4.4.1, Table 4-8). */
static unsigned path_rights(const struct sc_vcpu *v, const struct gwalk *w, unsigned level)
{
	unsigned acc = SPTE_ACC_ALL;
	for (unsigned l = w->top; l >= level && l >= 1; l--) {
		if (l == 3 && !v->mode.long_mode)
			continue;
		acc &= sc_gpte_rights(v->mode.base, w->pte[l]);
	}
	return acc;
}

/* The key of the page below spt[idx] of @sp (level L) on @gva's path. */
static void child_key(const struct sc_vcpu *v, const struct shadow_page *sp, unsigned idx,
		      gva_t gva, const struct gwalk *w, gfn_t *gfn, union shadow_role *role)
{
	const unsigned L = sp->role.level;
	*role = sp->role;
	role->level = L - 1;
	role->quadrant = 0;
	if (sp->role.direct) {
		/* A linear range: the child covers its 512^(L-1) frames. */
		*gfn = sp->gfn + ((gfn_t)idx << (9 * (L - 1)));
		return;
	}
	if (w->level >= L) {
		/* The guest maps a large page here: a direct page for the
		 * part of it this spte covers (mmu.txt role.direct). Direct
		 * pages are shared by every large mapping of the range, so a
		 * clean one (D = 0) gets a page without W: its leaves stay
		 * read-only and the first write through it faults, and the
		 * walk sets its D (4.8) — a dirty twin's writable leaves must
		 * not serve it (KVM's FNAME(fetch) does the same). */
		const gfn_t span = (gfn_t)1 << (9 * (L - 1));
		role->direct = 1;
		role->access = w->dirty ? w->rights : w->rights & ~SPTE_ACC_W;
		*gfn = gpa_to_gfn(w->gpa) & ~(span - 1);
		return;
	}
	role->access = path_rights(v, w, L);
	*gfn = gpa_to_gfn(w->pte_gpa[L - 1]);
	if (!v->mode.pae && L - 1 == 1)
		role->quadrant = (gva >> 21) & 1;
}

/*
 * The level-1 page on @gva's path, made and linked as needed: 0, or
 * -errno. *@flush: a present spte was replaced or a guest table newly
 * write-protected.
 */
static int fetch(struct sc_vm *sc, struct sc_vcpu *v, gva_t gva, const struct gwalk *w,
		 struct shadow_page **out, bool *flush, bool *wprot)
{
	struct shadow_page *sp = v->root ? v->root : v->pae_sp[(gva >> 30) & 3];
	if (!sp)
		return -EIO;
	sp->write_flooding_count = 0;
	while (sp->role.level > 1) {
		const unsigned idx = (gva >> (12 + 9 * (sp->role.level - 1))) & 511;
		gfn_t gfn;
		union shadow_role role;
		child_key(v, sp, idx, gva, w, &gfn, &role);

		const uint64_t spte = spte_get(&sp->spt[idx]);
		struct shadow_page *child = is_shadow_present_pte(spte) ? sc_child_of(sc, spte) : NULL;
		if (!child || child->gfn != gfn || child->role.word != role.word) {
			bool created;
			int r = shadow_pool_get(&sc->pool, gfn, role, &child, &created);
			if (r)
				return r;
			if (created && !role.direct) {
				const bool wp = sc_account_shadowed(sc, gfn);
				*flush |= wp;
				*wprot |= wp;
			} else
				*flush |= sc_sync_subtree(sc, child);	/* was unreachable */
			*flush |= is_shadow_present_pte(spte);
			r = shadow_page_link(&sc->pool, sp, idx, child);
			if (r)
				return r;
		}
		child->write_flooding_count = 0;
		sp = child;
	}
	*out = sp;
	return 0;
}

/*
 * Did an entry the walk read change since (KVM's FNAME(gpte_changed))?
 * When fetch() write-protected a guest table that was writable, a vcpu
 * on another thread may have written it through a translation it still
 * held while this one walked; after the flush that took those away, the
 * walk's entries are read again, and a changed one (A/D aside: the
 * processor sets those) means the fault starts over. The PDPTEs of PAE
 * paging are registers (4.4.1): what memory holds now does not count.
 */
static bool walk_changed(struct sc_vm *sc, const struct sc_vcpu *v, const struct gwalk *w)
{
	const unsigned size = v->mode.pae ? 8 : 4;
	for (unsigned l = w->top; l >= w->level && l >= 1; l--) {
		if (l == 3 && !v->mode.long_mode)
			continue;
		const void *p = vm_gpa_ptr(sc->vm, w->pte_gpa[l], size);
		if (!p)
			return true;
		const uint64_t now = size == 8 ? __atomic_load_n((const uint64_t *)p, __ATOMIC_ACQUIRE)
					       : __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
		/* A and D: bits 5 and 6 in every format (Tables 4-6, 4-19). */
		if ((now ^ w->pte[l]) & ~((1ull << 5) | (1ull << 6)))
			return true;
	}
	return false;
}

/*
 * May a writable leaf map @gfn? Yes when no page shadows it as a guest
 * table, or when every page that does is a level-1 page, now unsync.
 */
static bool may_write(struct sc_vm *sc, gfn_t gfn)
{
	struct shadow_page *sp;
	for (sp = shadow_pool_first_of_gfn(&sc->pool, gfn); sp;
	     sp = shadow_pool_next_of_gfn(sp->hash_next, gfn))
		if (sp->role.level > 1)
			return false;
	for (sp = shadow_pool_first_of_gfn(&sc->pool, gfn); sp;
	     sp = shadow_pool_next_of_gfn(sp->hash_next, gfn)) {
		if (!sp->unsync) {
			shadow_page_mark_unsync(&sc->pool, sp);
			sc->vm->stats.mmu_unsync++;
			HV_TRACE_SP_UNSYNC(sp->gfn);
		}
	}
	return true;
}

/* Leaves for the neighbours of spt[@idx] that are not mapped yet. */
static bool prefetch(struct sc_vm *sc, struct shadow_page *sp, unsigned idx)
{
	bool flush = false;
	if (sp->role.direct)
		return false;
	const unsigned base = idx & ~(PTE_PREFETCH_NUM - 1u);
	for (unsigned i = base; i < base + PTE_PREFETCH_NUM; i++)
		if (i != idx && !spte_get(&sp->spt[i]))
			flush |= sc_update_leaf(sc, sp, i);
	return flush;
}

enum ret_pf sc_page_fault(struct hv_vcpu *vcpu, uint64_t gva, uint32_t error_code,
			  bool present)
{
	struct hv_vm *vm = vcpu->vm;
	struct sc_vm *sc = sc_of(vm);
	struct sc_vcpu *v = scv_of(vcpu);
	enum ret_pf ret = RET_PF_RETRY;
	bool flush = false, ok;
	(void)present;

	if (sc_roots_stale(v) && sc_load_roots(vcpu, true))
		return RET_PF_ERROR;
	struct shadow_fault f;
	ret = shadow_fault_begin(vcpu, gva, error_code, &f);
	if (ret != RET_PF_RETRY)
		return ret;

	flush |= shadow_pool_make_room(&sc->pool, 4, &ok);
	struct shadow_page *sp = NULL;
	bool wprot = false;
	int r = ok ? fetch(sc, v, gva, &f.w, &sp, &flush, &wprot) : -ENOSPC;
	if (!r && wprot) {
		sc_flush_all(sc);
		flush = false;
		if (f.w.top && walk_changed(sc, v, &f.w)) {
			sc_sync_stats(sc);
			return RET_PF_RETRY;	/* the guest faults again */
		}
	}
	if (r) {
		if (flush)
			sc_flush_all(sc);
		sc_sync_stats(sc);
		vm_err(r, "shadow-cached: no shadow page for gva %#llx (%llu pages in use)",
		       (unsigned long long)gva, (unsigned long long)sc->pool.stats.in_use);
		return RET_PF_ERROR;
	}

	unsigned flags = f.flags;
	if ((f.rights & SPTE_ACC_W) && f.w.dirty && !may_write(sc, f.gfn)) {
		flags |= SPTE_F_WRITE_PROTECT;
		if (f.write)
			ret = RET_PF_EMULATE;	/* a write to a guest table */
	}

	const unsigned idx = (gva >> 12) & 511;
	const uint64_t old = spte_get(&sp->spt[idx]);
	const uint64_t new = spte_make(slot_gfn_to_hpa(f.slot, f.gfn), f.rights, flags);
	if (old != new) {
		r = shadow_page_set_leaf(&sc->pool, sp, idx, new, f.gfn);
		if (r) {
			vm_err(r, "shadow-cached: out of memory for the reverse map");
			ret = RET_PF_ERROR;
		}
		flush |= sc_need_flush(old, new);
	}
	if (ret == RET_PF_EMULATE)
		vm->stats.pf_emulate++;
	else if (old == new)
		vm->stats.pf_spurious++;
	else
		vm->stats.pf_fixed++;
	if (ret != RET_PF_ERROR)
		flush |= prefetch(sc, sp, idx);
	if (flush)
		sc_flush_all(sc);
	sc_sync_stats(sc);
	return ret;
}
