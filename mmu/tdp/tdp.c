/*
 * tdp.c — the tdp strategy: one gpa -> hpa table per VM in the format
 * the backend describes (struct tdp_format: EPT or NPT), shared by the
 * VM's vcpus, filled on demand.
 *
 *   fault on gpa      no memslot         RET_PF_EMULATE (MMIO)
 *                     read-only slot,    RET_PF_EMULATE (the VMM sees
 *                     write              the write as MMIO)
 *                     dirty-logged slot, log the page, make it writable
 *                     write, present
 *                     otherwise          map it: a 2 MiB leaf when
 *                                        CONFIG_TDP_LARGE_PAGES, the slot
 *                                        covers the whole aligned 2 MiB
 *                                        with 2 MiB-aligned backing and
 *                                        does not log; else 4 KiB
 *   memslot moved, deleted or changed    zap every mapping (KVM's
 *                                        zap-all of its early days)
 *   dirty log read                       write-protect the slot again
 *
 * A permission fault whose entry is already what we would map (another
 * vcpu mapped it, or the processor raced) is spurious and just retried.
 * After anything that removes rights the processor may have cached, the
 * vcpus flush (HV_FLUSH_TDP: INVEPT / the ASID); adding rights needs no
 * flush (SDM Vol. 3C 29.4.3.1: an EPT violation drops the translations
 * it used; APM Vol. 2 15.25.10 for NPF).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/request.h"
#include "core/trace.h"
#include "core/vm.h"
#include "mmu/mmu.h"
#include "mmu/tdp/tdp.h"
#include "mmu/walk.h"

#define TDP_LEVELS 4
#define ENTRIES 512
#define PAGE_2M (1ull << 21)

struct tdp_vm {
	const struct tdp_format *fmt;
	hpa_t root;
	uint64_t pages;		/* table pages, root included */
};

static uint64_t *table_of(struct hv_vm *vm, hpa_t hpa)
{
	return vm_hpa_ptr(vm, hpa);
}

static bool is_present(const struct tdp_format *f, uint64_t e)
{
	return e & f->present_mask;
}

static bool is_leaf(const struct tdp_format *f, uint64_t e, unsigned level)
{
	return level == 1 || (e & f->large);
}

static uint64_t table_entry(const struct tdp_format *f, hpa_t child)
{
	return child | f->r | f->w | f->x | f->user;
}

static uint64_t leaf_entry(const struct tdp_format *f, hpa_t hpa, bool writable, bool large)
{
	return hpa | f->r | (writable ? f->w : 0) | f->x | f->user | f->leaf_extra |
	       (large ? f->large : 0);
}

static void count_pages(struct hv_vm *vm, int64_t delta)
{
	struct tdp_vm *t = vm->tdp;
	t->pages += delta;
	vm->stats.mmu_pages = t->pages;
	if (t->pages > vm->stats.mmu_pages_peak)
		vm->stats.mmu_pages_peak = t->pages;
}

/* Every vcpu drops what it cached from the tables (INVEPT, the NPT
 * ASID flush) before it enters again; in parallel mode, before this
 * returns none is still in the guest with it (core/request.h). */
static void flush_all(struct hv_vm *vm)
{
	vm_flush_remote_tlbs(vm);
}

/* Free the tables below @table (at @level) and clear it. */
static void zap_table(struct hv_vm *vm, hpa_t table, unsigned level)
{
	const struct tdp_format *f = vm->tdp->fmt;
	uint64_t *t = table_of(vm, table);
	for (unsigned i = 0; i < ENTRIES; i++) {
		if (!is_present(f, t[i]))
			continue;
		if (!is_leaf(f, t[i], level)) {
			const hpa_t child = t[i] & f->addr_mask;
			zap_table(vm, child, level - 1);
			HV_TRACE_SP_ZAP(HV_TRACE_NO_GFN, level - 1);
			vm_free_page(vm, child);
			count_pages(vm, -1);
		}
		vm->stats.tdp_zapped++;
		t[i] = 0;
	}
}

static int tdp_vm_init(struct hv_vm *vm)
{
	struct tdp_vm *t = calloc(1, sizeof(*t));
	if (!t)
		return vm_err(-ENOMEM, "out of memory");
	t->fmt = vm->backend->tdp_format(vm);
	t->root = vm_alloc_page(vm);
	if (t->root == INVALID_HPA) {
		free(t);
		return vm_err(-ENOMEM, "no host-physical memory for the TDP root");
	}
	vm->tdp = t;
	count_pages(vm, 1);
	return 0;
}

static void tdp_vm_destroy(struct hv_vm *vm)
{
	if (!vm->tdp)
		return;
	zap_table(vm, vm->tdp->root, TDP_LEVELS);
	vm_free_page(vm, vm->tdp->root);
	free(vm->tdp);
	vm->tdp = NULL;
}

static void tdp_memslot_changed(struct hv_vm *vm, const struct hv_memslot *old,
				const struct hv_memslot *new)
{
	if (!old)
		return;		/* nothing was mapped where no slot was */
	zap_table(vm, vm->tdp->root, TDP_LEVELS);
	flush_all(vm);
}

/* The leaf for @gfn (4 KiB or large), or NULL. */
static uint64_t *find_leaf(struct hv_vm *vm, gfn_t gfn, unsigned *level_out)
{
	const struct tdp_format *f = vm->tdp->fmt;
	hpa_t table = vm->tdp->root;
	for (unsigned level = TDP_LEVELS; level >= 1; level--) {
		uint64_t *e = &table_of(vm, table)[(gfn >> (9 * (level - 1))) & (ENTRIES - 1)];
		if (!is_present(f, *e))
			return NULL;
		if (is_leaf(f, *e, level)) {
			*level_out = level;
			return e;
		}
		table = *e & f->addr_mask;
	}
	return NULL;
}

static void tdp_dirty_log_rearm(struct hv_vm *vm, const struct hv_memslot *slot)
{
	const struct tdp_format *f = vm->tdp->fmt;
	bool changed = false;
	for (uint64_t i = 0; i < slot->npages; i++) {
		unsigned level;
		uint64_t *e = find_leaf(vm, slot->base_gfn + i, &level);
		if (e && (*e & f->w)) {
			*e &= ~f->w;
			changed = true;
		}
	}
	if (changed)
		flush_all(vm);
}

static int tdp_vcpu_init(struct hv_vcpu *vcpu)
{
	vcpu->vm->backend->set_tdp_root(vcpu, vcpu->vm->tdp->root);
	return 0;
}

static void tdp_vcpu_destroy(struct hv_vcpu *vcpu)
{
}

/* Guest paging is the guest's own business under tdp. */
static void tdp_reset_context(struct hv_vcpu *vcpu)
{
}

/* Can @gfn's whole 2 MiB frame be one leaf? */
static bool can_map_large(const struct hv_memslot *s, gfn_t gfn)
{
#ifdef CONFIG_TDP_LARGE_PAGES
	const gfn_t first = gfn & ~(gfn_t)(ENTRIES - 1);
	if (s->dirty || first < s->base_gfn || first + ENTRIES > s->base_gfn + s->npages)
		return false;
	return !(slot_gfn_to_hpa(s, first) & (PAGE_2M - 1));
#else
	(void)s;
	(void)gfn;
	return false;
#endif
}

static enum ret_pf map(struct hv_vcpu *vcpu, struct hv_memslot *s, gfn_t gfn)
{
	struct hv_vm *vm = vcpu->vm;
	const struct tdp_format *f = vm->tdp->fmt;
	const bool writable = !(s->flags & HV_MEM_READONLY);
	const unsigned target = can_map_large(s, gfn) ? 2 : 1;
	hpa_t table = vm->tdp->root;

	for (unsigned level = TDP_LEVELS; level > target; level--) {
		uint64_t *e = &table_of(vm, table)[(gfn >> (9 * (level - 1))) & (ENTRIES - 1)];
		if (!is_present(f, *e)) {
			const hpa_t child = vm_alloc_page(vm);
			if (child == INVALID_HPA) {
				vm_err(-ENOMEM, "no host-physical memory for a TDP table");
				return RET_PF_ERROR;
			}
			count_pages(vm, 1);
			HV_TRACE_SP_CREATE(gfn, level - 1);
			*e = table_entry(f, child);
		} else if (is_leaf(f, *e, level)) {
			/* Already mapped by a larger leaf: nothing to do. */
			vm->stats.pf_spurious++;
			return RET_PF_RETRY;
		}
		table = *e & f->addr_mask;
	}
	uint64_t *e = &table_of(vm, table)[(gfn >> (9 * (target - 1))) & (ENTRIES - 1)];
	if (target == 2) {
		const gfn_t first = gfn & ~(gfn_t)(ENTRIES - 1);
		if (is_present(f, *e) && !is_leaf(f, *e, 2)) {
			/* 4 KiB tables from before: drop them for the large leaf. */
			const hpa_t child = *e & f->addr_mask;
			zap_table(vm, child, 1);
			vm_free_page(vm, child);
			count_pages(vm, -1);
		}
		*e = leaf_entry(f, slot_gfn_to_hpa(s, first), writable, true);
		vm->stats.tdp_pages_2m++;
	} else {
		*e = leaf_entry(f, slot_gfn_to_hpa(s, gfn), writable && !s->dirty, false);
		vm->stats.tdp_pages_4k++;
	}
	vm->stats.pf_fixed++;
	return RET_PF_RETRY;
}

static enum ret_pf tdp_page_fault(struct hv_vcpu *vcpu, uint64_t gpa, uint32_t access,
				  bool present)
{
	struct hv_vm *vm = vcpu->vm;
	const struct tdp_format *f = vm->tdp->fmt;
	const gfn_t gfn = gpa_to_gfn(gpa);
	struct hv_memslot *s = vm_slot_of(vm, gfn);

	if (!s || ((access & HV_ACC_WRITE) && (s->flags & HV_MEM_READONLY))) {
		vm->stats.pf_emulate++;
		return RET_PF_EMULATE;
	}
	unsigned level;
	uint64_t *e = find_leaf(vm, gfn, &level);
	if (!e)
		return map(vcpu, s, gfn);
	if ((access & HV_ACC_WRITE) && !(*e & f->w)) {
		/* Write protection for the dirty log (4 KiB leaves only:
		 * logged slots never get large ones). */
		vm_mark_dirty(vm, s, gfn);
		*e |= f->w;
		vm->stats.pf_fixed++;
		return RET_PF_RETRY;
	}
	vm->stats.pf_spurious++;
	return RET_PF_RETRY;
}

const struct hv_mmu_ops tdp_mmu_ops = {
	.name = "tdp",
	.style = HV_MMU_TDP,
	.vm_init = tdp_vm_init,
	.vm_destroy = tdp_vm_destroy,
	.memslot_changed = tdp_memslot_changed,
	.dirty_log_rearm = tdp_dirty_log_rearm,
	.vcpu_init = tdp_vcpu_init,
	.vcpu_destroy = tdp_vcpu_destroy,
	.reset_context = tdp_reset_context,
	.page_fault = tdp_page_fault,
	.gva_to_gpa = mmu_walk_guest,	/* the guest's tables, mmu/walk.c */
};
