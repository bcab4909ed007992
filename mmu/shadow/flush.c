/*
 * flush.c — the shadow-flush strategy: KVM's first MMU (seed 000, 2006),
 * a virtual TLB. Each vcpu's real CR3 is a shadow root whose tables map
 * gva -> hpa directly; they hold only what the guest's tables said when
 * a fault filled them, and are thrown away whenever the architecture
 * lets the processor drop its TLB:
 *
 *   event                          action
 *   #PF exit, guest walk faults    inject the guest's #PF (error code of
 *                                  the walk, CR2 = gva): RET_PF_GUEST
 *   #PF exit, gpa in no memslot    RET_PF_EMULATE (MMIO; spte stays not
 *   (or a write to a r/o slot)     present)
 *   #PF exit, otherwise            build the missing path, leaf with the
 *                                  walk's combined rights: RET_PF_RETRY
 *   MOV CR3 (new_cr3), full flush  zap every shadow page of the vcpu
 *   INVLPG gva                     drop the last-level shadow table that
 *                                  covers gva (every 4 KiB spte of a 2/4
 *                                  MiB guest page); all of it when a
 *                                  1 GiB guest page was shadowed
 *   paging mode change, memslot    zap all (the simplest correct thing)
 *   change, dirty-log re-arm
 *
 * Guest page tables are not write-protected: SDM Vol. 3A 4.10.4 obliges
 * the guest to INVLPG or reload CR3 after changing a pte, and a stale
 * spte is exactly a TLB entry the processor may keep (4.10.4.3). A/D
 * (4.8): the fault path's guest walk sets A on every entry used and D on
 * the leaf of a write; a clean guest leaf is mapped read-only
 * (spte_make without SPTE_F_DIRTY), so the first write faults and the
 * walk sets D before the write reaches memory. CR0.WP = 0 (4.6.1):
 * a supervisor write to a read-only page succeeds; the spte then grants
 * W but not U (KVM's trick), so a later user access faults and re-walks.
 *
 * Table format. Under shadow paging the backends run the guest with the
 * real CR0.PG and CR4.PAE forced to 1 and the guest's EFER.LMA
 * (backends/vmx/vmx_regs.c, backends/svm/svm_regs.c), so the processor
 * walks the shadow root with 4-level paging (4.5) in long mode and with
 * PAE paging (4.4: a 4-entry PDPT, whose PDPTEs hold only P and the
 * address, 4.4.1 Table 4-8) otherwise — for 32-bit guests too, as KVM
 * always did: a virtual TLB maps gva -> hpa whatever the guest's table
 * format. A guest with paging off ("nonpaging") is mapped gva = gpa. The
 * format is recomputed at each fault; a change zaps. This strategy keeps
 * its own list of table pages (it needs none of the pool's keys), under
 * the same kind of budget (CONFIG_MMU_SHADOW_PAGES per VM): a fill that
 * would exceed it zaps every vcpu's tables and starts over, which a TLB
 * is always allowed to do; the pages it frees are counted in
 * mmu_recycled, as shadow-cached counts its reclaim.
 *
 * Flushes: filling a not-present spte needs none (a #PF invalidates the
 * faulting address's TLB entries, 4.10.4.3); every zap and INVLPG
 * flushes the vcpu's guest translations (HV_FLUSH_GUEST), since the
 * exits intercept the MOV CR3 / INVLPG that would have done it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/request.h"
#include "core/cr.h"
#include "core/trace.h"
#include "core/vm.h"
#include "mmu/mmu.h"
#include "mmu/shadow/fault.h"
#include "mmu/shadow/flush.h"
#include "mmu/spte.h"
#include "mmu/walk.h"

#ifndef CONFIG_MMU_SHADOW_PAGES
#define CONFIG_MMU_SHADOW_PAGES 4096
#endif

/* The paging mode the processor walks the shadow root in. */
enum sf_fmt {
	SF_NONE,		/* nothing built yet */
	SF_PAE,			/* PAE: PDPT (4 entries) at level 3 */
	SF_64,			/* 4-level paging */
};

struct sf_vcpu {
	hpa_t root;
	enum sf_fmt fmt;
	hpa_t *pages;		/* table pages below the root */
	size_t npages, cap;
	bool gbpage;		/* a 1 GiB guest page is shadowed */
};

struct sf_vm {
	struct hv_vm *vm;
	struct sf_vcpu *vcpus[HV_MAX_VCPUS];
	uint64_t pages;		/* every table page, roots included */
};

static struct sf_vm *sf_of(struct hv_vm *vm)
{
	return vm->sflush;
}

static struct sf_vcpu *sfv_of(struct hv_vcpu *vcpu)
{
	struct sf_vm *s = sf_of(vcpu->vm);
	return s ? s->vcpus[vcpu->id] : NULL;
}

static void count_pages(struct sf_vm *s, int64_t delta)
{
	struct hv_vm *vm = s->vm;
	s->pages += delta;
	vm->stats.mmu_pages = s->pages;
	if (s->pages > vm->stats.mmu_pages_peak)
		vm->stats.mmu_pages_peak = s->pages;
}

/* ---------------------------------------------------------------- format */

static unsigned top_level(enum sf_fmt f)
{
	return f == SF_64 ? 4 : 3;
}

static unsigned index_of(enum sf_fmt f, unsigned level, gva_t gva)
{
	if (f == SF_PAE && level == 3)
		return (gva >> 30) & 3;
	return (gva >> (12 + 9 * (level - 1))) & 511;
}

static uint64_t *entry_ptr(struct hv_vm *vm, hpa_t table, unsigned idx)
{
	return (uint64_t *)vm_hpa_ptr(vm, table) + idx;
}

/* A non-leaf entry at @level pointing at @child. PAE PDPTEs allow P and
 * the address only (4.4.1, Table 4-8: R/W, U/S, A are reserved there). */
static uint64_t nonleaf(enum sf_fmt f, unsigned level, hpa_t child)
{
	if (f == SF_PAE && level == 3)
		return SPTE_P | (child & SPTE_ADDR_MASK);
	return spte_make_nonleaf(child);
}

/* The mode the processor will walk the root in (see the top). */
static enum sf_fmt current_fmt(struct hv_vcpu *vcpu)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	return (be->get_efer(vcpu) & EFER_LMA) ? SF_64 : SF_PAE;
}

/* ---------------------------------------------------------------- zap */

static void flush_vcpu(struct hv_vcpu *vcpu)
{
	vcpu->vm->backend->flush_tlb(vcpu, HV_FLUSH_GUEST);
	vcpu->vm->stats.tlb_flush++;
	HV_TRACE_TLB_FLUSH(vcpu->id, HV_TRACE_FLUSH_LOCAL);
}

/* Throw every shadow page of the vcpu away; the root stays, emptied. */
static void zap_vcpu(struct sf_vm *s, struct sf_vcpu *v)
{
	struct hv_vm *vm = s->vm;
	for (size_t i = 0; i < v->npages; i++) {
		HV_TRACE_SP_ZAP(HV_TRACE_NO_GFN, 0);
		vm_free_page(vm, v->pages[i]);
	}
	memset(vm_hpa_ptr(vm, v->root), 0, HV_PAGE_SIZE);
	vm->stats.mmu_shadow_zapped += v->npages + 1;
	count_pages(s, -(int64_t)v->npages);
	v->npages = 0;
	v->gbpage = false;
}

static void zap_and_flush(struct hv_vcpu *vcpu)
{
	struct sf_vm *s = sf_of(vcpu->vm);
	zap_vcpu(s, s->vcpus[vcpu->id]);
	flush_vcpu(vcpu);
}

/* Another vcpu's tables too (memslot changes, the dirty log): they go
 * under the MMU lock, and the flush makes every vcpu leave the guest
 * before its freed pages can be reused (core/request.h). */
static void zap_all_vcpus(struct hv_vm *vm)
{
	struct sf_vm *s = sf_of(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (s->vcpus[vm->vcpus[i]->id])
			zap_vcpu(s, s->vcpus[vm->vcpus[i]->id]);
	vm_flush_remote_tlbs(vm);
}

/* ---------------------------------------------------------------- VM */

static int sf_vm_init(struct hv_vm *vm)
{
	struct sf_vm *s = calloc(1, sizeof(*s));
	if (!s)
		return vm_err(-ENOMEM, "out of memory");
	s->vm = vm;
	vm->sflush = s;
	return 0;
}

static void sf_vm_destroy(struct hv_vm *vm)
{
	free(vm->sflush);
	vm->sflush = NULL;
}

static void sf_memslot_changed(struct hv_vm *vm, const struct hv_memslot *old,
			       const struct hv_memslot *new)
{
	(void)new;
	/* A new slot replaces only MMIO, which no spte caches (its faults
	 * stay not present): nothing to drop. */
	if (!old)
		return;
	zap_all_vcpus(vm);
}

/* Write protection for the dirty log: every writable spte goes, and the
 * next write faults and logs again. */
static void sf_dirty_log_rearm(struct hv_vm *vm, const struct hv_memslot *slot)
{
	(void)slot;
	zap_all_vcpus(vm);
}

/* ---------------------------------------------------------------- vcpu */

static int sf_vcpu_init(struct hv_vcpu *vcpu)
{
	struct sf_vm *s = sf_of(vcpu->vm);
	struct sf_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return vm_err(-ENOMEM, "out of memory");
	/* 32-bit and PAE CR3 hold a 32-bit address (4.3, 4.4.1): the arena
	 * allocator hands out low host-physical pages first. */
	v->root = vm_alloc_page(vcpu->vm);
	if (v->root == INVALID_HPA || v->root >> 32) {
		if (v->root != INVALID_HPA)
			vm_free_page(vcpu->vm, v->root);
		free(v);
		return vm_err(-ENOMEM, "no host-physical page below 4 GiB for a shadow root");
	}
	s->vcpus[vcpu->id] = v;
	count_pages(s, 1);
	vcpu->vm->backend->set_shadow_root(vcpu, v->root);
	return 0;
}

static void sf_vcpu_destroy(struct hv_vcpu *vcpu)
{
	struct sf_vm *s = sf_of(vcpu->vm);
	struct sf_vcpu *v = s ? s->vcpus[vcpu->id] : NULL;
	if (!v)
		return;
	zap_vcpu(s, v);
	vm_free_page(s->vm, v->root);
	count_pages(s, -1);
	free(v->pages);
	free(v);
	s->vcpus[vcpu->id] = NULL;
}

/* CR0.PG/WP, CR4 paging bits, EFER.NXE/LMA: sptes encode rights under
 * the old rules and maybe the old format. */
static void sf_reset_context(struct hv_vcpu *vcpu)
{
	struct sf_vcpu *v = sfv_of(vcpu);
	if (!v)
		return;
	zap_and_flush(vcpu);
	v->fmt = current_fmt(vcpu);
}

static void sf_new_cr3(struct hv_vcpu *vcpu, uint64_t cr3)
{
	(void)cr3;
	if (sfv_of(vcpu))
		zap_and_flush(vcpu);
}

static void sf_flush_tlb(struct hv_vcpu *vcpu)
{
	zap_and_flush(vcpu);
}

/* Empty the last-level shadow table covering @gva, if there is one. */
static void empty_last_level(struct hv_vm *vm, struct sf_vcpu *v, gva_t gva)
{
	hpa_t table = v->root;
	for (unsigned level = top_level(v->fmt); level >= 2; level--) {
		const uint64_t e = spte_get(entry_ptr(vm, table, index_of(v->fmt, level, gva)));
		if (!(e & SPTE_P))
			return;		/* nothing cached for it */
		table = spte_to_hpa(e);
	}
	memset(vm_hpa_ptr(vm, table), 0, HV_PAGE_SIZE);	/* stays linked */
}

/*
 * INVLPG invalidates every TLB entry of the page holding @gva, whatever
 * its size (SDM Vol. 2A INVLPG; 4.10.4.1): the guest page may be larger
 * than the 4 KiB sptes shadowing it, so the last-level tables that cover
 * the largest page @gva can be in go: the 2 MiB one, and under 32-bit
 * paging the other half of its 4 MiB (4.3); a 1 GiB guest page spans
 * many tables, so then everything goes.
 */
static void sf_invlpg(struct hv_vcpu *vcpu, gva_t gva)
{
	struct hv_vm *vm = vcpu->vm;
	struct sf_vcpu *v = sfv_of(vcpu);
	if (!v)
		return;
	if (v->gbpage || v->fmt == SF_NONE) {
		zap_and_flush(vcpu);
		return;
	}
	empty_last_level(vm, v, gva);
	if (v->fmt == SF_PAE && !(vm->backend->get_cr(vcpu, 4) & CR4_PAE))
		empty_last_level(vm, v, gva ^ (1ull << 21));
	flush_vcpu(vcpu);
}

/* ---------------------------------------------------------------- faults */

/* A zeroed table page within the budget: 0, -ENOSPC (budget), -ENOMEM. */
static int alloc_table(struct sf_vm *s, struct sf_vcpu *v, hpa_t *out)
{
	if (s->pages >= CONFIG_MMU_SHADOW_PAGES)
		return -ENOSPC;
	if (v->npages == v->cap) {
		const size_t cap = v->cap ? 2 * v->cap : 16;
		hpa_t *p = realloc(v->pages, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		v->pages = p;
		v->cap = cap;
	}
	const hpa_t hpa = vm_alloc_page(s->vm);
	if (hpa == INVALID_HPA)
		return -ENOMEM;
	v->pages[v->npages++] = hpa;
	count_pages(s, 1);
	s->vm->stats.mmu_cache_miss++;
	*out = hpa;
	return 0;
}

/* Put @leaf at @gva's level-1 slot, making the tables above it: 0 or
 * -ENOSPC / -ENOMEM. */
static int install(struct sf_vm *s, struct sf_vcpu *v, gva_t gva, uint64_t leaf,
		   bool *spurious)
{
	struct hv_vm *vm = s->vm;
	hpa_t table = v->root;
	for (unsigned level = top_level(v->fmt); level >= 2; level--) {
		uint64_t *p = entry_ptr(vm, table, index_of(v->fmt, level, gva));
		const uint64_t e = spte_get(p);
		if (e & SPTE_P) {
			table = spte_to_hpa(e);
			continue;
		}
		hpa_t child;
		const int r = alloc_table(s, v, &child);
		if (r)
			return r;
		HV_TRACE_SP_CREATE(HV_TRACE_NO_GFN, level - 1);
		spte_set(p, nonleaf(v->fmt, level, child));
		table = child;
	}
	uint64_t *p = entry_ptr(vm, table, index_of(v->fmt, 1, gva));
	*spurious = spte_get(p) == leaf;
	spte_set(p, leaf);
	return 0;
}

static enum ret_pf sf_page_fault(struct hv_vcpu *vcpu, uint64_t gva, uint32_t error_code,
				 bool present)
{
	struct hv_vm *vm = vcpu->vm;
	struct sf_vm *s = sf_of(vm);
	struct sf_vcpu *v = s->vcpus[vcpu->id];
	(void)present;

	const enum sf_fmt fmt = current_fmt(vcpu);
	if (fmt != v->fmt) {
		zap_and_flush(vcpu);
		v->fmt = fmt;
	}
	struct shadow_fault f;
	const enum ret_pf ret = shadow_fault_begin(vcpu, gva, error_code, &f);
	if (ret != RET_PF_RETRY)
		return ret;
	const uint64_t leaf = spte_make(slot_gfn_to_hpa(f.slot, f.gfn), f.rights, f.flags);

	bool spurious = false;
	int r = install(s, v, gva, leaf, &spurious);
	if (r == -ENOSPC) {
		/* At the budget: start over, as a full TLB would evict — every
		 * vcpu's tables, since the others' hold part of the budget and
		 * evicting only this vcpu's could leave it too few pages for
		 * one instruction (they refill on their next faults;
		 * zap_all_vcpus flushes them before the pages are reused). */
		const uint64_t held = s->pages;
		zap_all_vcpus(vcpu->vm);
		vm->stats.mmu_recycled += held - s->pages;	/* reclaim, counted */
		r = install(s, v, gva, leaf, &spurious);
	}
	if (r) {
		vm_err(r, "no shadow page for gva %#llx (%llu pages in use)",
		       (unsigned long long)gva, (unsigned long long)s->pages);
		return RET_PF_ERROR;
	}
	if (f.w.page_shift >= 30)
		v->gbpage = true;
	if (spurious)
		vm->stats.pf_spurious++;
	else
		vm->stats.pf_fixed++;
	return RET_PF_RETRY;
}

const struct hv_mmu_ops shadow_flush_mmu_ops = {
	.name = "shadow-flush",
	.style = HV_MMU_SHADOW,
	.vm_init = sf_vm_init,
	.vm_destroy = sf_vm_destroy,
	.memslot_changed = sf_memslot_changed,
	.dirty_log_rearm = sf_dirty_log_rearm,
	.vcpu_init = sf_vcpu_init,
	.vcpu_destroy = sf_vcpu_destroy,
	.reset_context = sf_reset_context,
	.page_fault = sf_page_fault,
	.new_cr3 = sf_new_cr3,
	.invlpg = sf_invlpg,
	.flush_tlb = sf_flush_tlb,
	.gva_to_gpa = mmu_walk_guest,	/* the guest's tables, mmu/walk.c */
};
