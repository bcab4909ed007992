/*
 * memslot.c — guest-physical memory regions (KVM_SET_USER_MEMORY_REGION,
 * KVM_GET_DIRTY_LOG) and the VMM's copies into and out of them.
 *
 * A slot is backed by npages contiguous pages of the arena (2 MiB
 * aligned when it is at least that big, so the tdp MMU can map large
 * pages), allocated zeroed when the slot is added and freed when it is
 * deleted. A move keeps the backing. Every change is told to the MMU
 * (memslot_changed), which drops what it mapped from the old slot.
 *
 * Dirty logging: the slot's bitmap collects pages written by the guest
 * (the MMU's write-protection faults, mmu/tdp) and by hv_write_guest();
 * hv_get_dirty_log hands it out, clears it and has the MMU write-protect
 * the slot again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/mmu_call.h"
#include "core/vm.h"
#include "mmu/mmu.h"

#define LARGE_PAGES (512u)

struct hv_memslot *vm_slot_of(struct hv_vm *vm, gfn_t gfn)
{
	for (unsigned i = 0; i < HV_MAX_SLOTS; i++) {
		struct hv_memslot *s = &vm->slots[i];
		if (s->used && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

void *vm_gpa_ptr(struct hv_vm *vm, gpa_t gpa, size_t len)
{
	struct hv_memslot *s = vm_slot_of(vm, gpa_to_gfn(gpa));
	if (!s || !len)
		return NULL;
	const uint64_t off = gpa - gfn_to_gpa(s->base_gfn);
	if (len > (s->npages << HV_PAGE_SHIFT) - off)
		return NULL;
	return vm_hpa_ptr(vm, s->hpa + off);
}

void vm_mark_dirty(struct hv_vm *vm, struct hv_memslot *slot, gfn_t gfn)
{
	if (!slot->dirty)
		return;
	const uint64_t i = gfn - slot->base_gfn;
	const uint8_t bit = (uint8_t)(1u << (i % 8));
	/* Atomic: vcpus on other threads mark pages of the same byte. */
	if (!(__atomic_fetch_or(&slot->dirty[i / 8], bit, __ATOMIC_RELAXED) & bit))
		vm->stats.dirty_pages++;
}

static uint64_t total_pages(const struct hv_vm *vm)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < HV_MAX_SLOTS; i++)
		if (vm->slots[i].used)
			n += vm->slots[i].npages;
	return n;
}

static bool overlaps(const struct hv_vm *vm, unsigned except, gfn_t base, uint64_t npages)
{
	for (unsigned i = 0; i < HV_MAX_SLOTS; i++) {
		const struct hv_memslot *s = &vm->slots[i];
		if (i != except && s->used && base < s->base_gfn + s->npages &&
		    s->base_gfn < base + npages)
			return true;
	}
	return false;
}

static int set_dirty_log(struct hv_memslot *s, bool on)
{
	if (on && !s->dirty) {
		s->dirty = calloc(1, (s->npages + 7) / 8);
		if (!s->dirty)
			return vm_err(-ENOMEM, "out of memory for the dirty log");
	} else if (!on) {
		free(s->dirty);
		s->dirty = NULL;
	}
	return 0;
}

int hv_set_memory_region(struct hv_vm *vm, const struct hv_memory_region *mr)
{
	if (!vm || !mr)
		return vm_err(-EINVAL, "hv_set_memory_region: NULL argument");
	if (mr->slot >= HV_MAX_SLOTS)
		return vm_err(-EINVAL, "memory slot %u: slots are 0..%u", mr->slot, HV_MAX_SLOTS - 1);
	if (mr->flags & ~(uint32_t)(HV_MEM_LOG_DIRTY_PAGES | HV_MEM_READONLY))
		return vm_err(-EINVAL, "memory slot %u: unknown flags %#x", mr->slot, mr->flags);
	if ((mr->gpa | mr->size) & (HV_PAGE_SIZE - 1))
		return vm_err(-EINVAL, "memory slot %u: gpa %#llx and size %#llx must be page aligned",
			      mr->slot, (unsigned long long)mr->gpa, (unsigned long long)mr->size);
	if (mr->size && (mr->gpa + mr->size < mr->gpa || mr->gpa + mr->size > (1ull << 52)))
		return vm_err(-EINVAL, "memory slot %u: [%#llx, +%#llx) leaves the 52-bit "
			      "physical address space", mr->slot, (unsigned long long)mr->gpa,
			      (unsigned long long)mr->size);

	struct hv_memslot *s = &vm->slots[mr->slot];
	const struct hv_memslot old = *s;
	const uint64_t npages = mr->size >> HV_PAGE_SHIFT;
	const gfn_t base = gpa_to_gfn(mr->gpa);

	if (!mr->size) {			/* delete */
		if (!s->used)
			return vm_err(-EINVAL, "memory slot %u is not in use", mr->slot);
		mmu_memslot_changed(vm, &old, NULL);
		arena_free(&vm->alloc, s->hpa, s->npages);
		free(s->dirty);
		memset(s, 0, sizeof(*s));
		return 0;
	}
	if (overlaps(vm, mr->slot, base, npages))
		return vm_err(-EEXIST, "memory slot %u: [%#llx, +%#llx) overlaps another slot",
			      mr->slot, (unsigned long long)mr->gpa, (unsigned long long)mr->size);
	if (s->used) {				/* move or change flags */
		if (s->npages != npages)
			return vm_err(-EINVAL, "memory slot %u: a slot cannot change size; delete "
				      "it first", mr->slot);
		int r = set_dirty_log(s, mr->flags & HV_MEM_LOG_DIRTY_PAGES);
		if (r)
			return r;
		s->base_gfn = base;
		s->flags = mr->flags;
		mmu_memslot_changed(vm, &old, s);
		return 0;
	}
	if (total_pages(vm) + npages > vm->cfg.max_mem >> HV_PAGE_SHIFT)
		return vm_err(-ENOMEM, "memory slot %u: %llu MiB more would exceed the VM's "
			      "max_mem (%llu MiB)", mr->slot,
			      (unsigned long long)(mr->size >> 20),
			      (unsigned long long)(vm->cfg.max_mem >> 20));
	hpa_t hpa = arena_alloc(&vm->alloc, npages, npages >= LARGE_PAGES ? LARGE_PAGES : 1);
	if (hpa == INVALID_HPA)
		return vm_err(-ENOMEM, "memory slot %u: no room for %llu MiB of host-physical "
			      "memory", mr->slot, (unsigned long long)(mr->size >> 20));
	*s = (struct hv_memslot){ .used = true, .id = mr->slot, .flags = mr->flags,
				  .base_gfn = base, .npages = npages, .hpa = hpa };
	int r = set_dirty_log(s, mr->flags & HV_MEM_LOG_DIRTY_PAGES);
	if (r) {
		arena_free(&vm->alloc, hpa, npages);
		memset(s, 0, sizeof(*s));
		return r;
	}
	mmu_memslot_changed(vm, NULL, s);
	return 0;
}

/* Does every byte of [gpa, gpa+len) lie in some slot? */
static bool all_in_slots(struct hv_vm *vm, gpa_t gpa, size_t len)
{
	while (len) {
		struct hv_memslot *s = vm_slot_of(vm, gpa_to_gfn(gpa));
		if (!s)
			return false;
		const uint64_t left = (s->npages << HV_PAGE_SHIFT) - (gpa - gfn_to_gpa(s->base_gfn));
		if (left >= len)
			return true;
		gpa += left;
		len -= left;
	}
	return true;
}

/* Copy [gpa, gpa+len) slot by slot; -EFAULT, with nothing copied, if any
 * byte has no slot. */
/* A shadow MMU keeps its shadows of guest page tables in step with the
 * VMM's writes as with the guest's own emulated ones (mmu->track_write,
 * one page at a time). */
static void track_write(struct hv_vm *vm, gpa_t gpa, const uint8_t *p, size_t len)
{
	if (!vm->mmu->track_write || !vm->nvcpus)
		return;
	while (len) {
		size_t n = HV_PAGE_SIZE - (gpa & (HV_PAGE_SIZE - 1));
		if (n > len)
			n = len;
		mmu_track_write(vm->vcpus[0], gpa, p, (unsigned)n);
		gpa += n;
		p += n;
		len -= n;
	}
}

static int guest_copy(struct hv_vm *vm, gpa_t gpa, void *buf, size_t len, bool write)
{
	uint8_t *p = buf;
	if (!vm || (!buf && len))
		return vm_err(-EINVAL, "hv_%s_guest: NULL argument", write ? "write" : "read");
	if (!all_in_slots(vm, gpa, len))
		return vm_err(-EFAULT, "guest-physical [%#llx, +%#zx) is not all in memory regions",
			      (unsigned long long)gpa, len);
	while (len) {
		struct hv_memslot *s = vm_slot_of(vm, gpa_to_gfn(gpa));
		if (!s)
			return vm_err(-EFAULT, "guest-physical %#llx is not in any memory region",
				      (unsigned long long)gpa);
		const uint64_t off = gpa - gfn_to_gpa(s->base_gfn);
		size_t n = (s->npages << HV_PAGE_SHIFT) - off;
		if (n > len)
			n = len;
		uint8_t *h = vm_hpa_ptr(vm, s->hpa + off);
		if (write) {
			memcpy(h, p, n);
			vm->backend->hpa_written(vm, s->hpa + off, n);
			for (gfn_t g = gpa_to_gfn(gpa); g <= gpa_to_gfn(gpa + n - 1); g++)
				vm_mark_dirty(vm, s, g);
			track_write(vm, gpa, p, n);
		} else {
			memcpy(p, h, n);
		}
		gpa += n;
		p += n;
		len -= n;
	}
	return 0;
}

int hv_write_guest(struct hv_vm *vm, gpa_t gpa, const void *buf, size_t len)
{
	return guest_copy(vm, gpa, (void *)buf, len, true);
}

int hv_read_guest(struct hv_vm *vm, gpa_t gpa, void *buf, size_t len)
{
	return guest_copy(vm, gpa, buf, len, false);
}

int hv_get_dirty_log(struct hv_vm *vm, uint32_t slot, void *bitmap, size_t len)
{
	if (!vm || !bitmap)
		return vm_err(-EINVAL, "hv_get_dirty_log: NULL argument");
	if (slot >= HV_MAX_SLOTS || !vm->slots[slot].used)
		return vm_err(-EINVAL, "memory slot %u is not in use", slot);
	struct hv_memslot *s = &vm->slots[slot];
	if (!s->dirty)
		return vm_err(-ENOENT, "memory slot %u does not log dirty pages", slot);
	const size_t need = (s->npages + 7) / 8;
	if (len < need)
		return vm_err(-EINVAL, "memory slot %u: the bitmap needs %zu bytes", slot, need);
	/* KVM's order: take each byte with an exchange (a vcpu on another
	 * thread may mark a page meanwhile: it lands either in this copy or
	 * in the next), then write-protect again; the rearm flushes every
	 * vcpu's TLB before it returns, so every write after this call
	 * marks its page, and every page written before it is in @bitmap. */
	uint8_t *out = bitmap;
	mmu_lock(vm);
	for (size_t i = 0; i < need; i++)
		out[i] = __atomic_exchange_n(&s->dirty[i], 0, __ATOMIC_ACQ_REL);
	mmu_dirty_log_rearm(vm, s);
	mmu_unlock(vm);
	return 0;
}
