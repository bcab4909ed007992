/*
 * vm.c — VMs (KVM_CREATE_VM) and their host-physical memory: creation
 * through the two ops tables chosen in one place (core/registry.c), the
 * arena's page allocator, and the error message every hv_* call leaves.
 *
 * Arena layout: page 0 is never handed out (hpa 0 stays an obvious
 * bug); guest RAM and host structures share the rest. Its size is the
 * VM's max_mem plus a reserve for control structures and MMU tables
 * (VM_HOST_RESERVE + 1/256 of max_mem: a 4-level table maps 512 pages
 * per table page). The arena is reserved, not committed, so a large
 * max_mem costs nothing until used.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/irq/irq.h"
#include "core/registry.h"
#include "core/vm.h"
#include "mmu/mmu.h"

#define VM_HOST_RESERVE (64ull << 20)
#define VM_DEFAULT_MAX_MEM (4ull << 30)
#define VM_MAX_MAX_MEM (1ull << 40)

static __thread char last_err[160];

int vm_err(int ret, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_err, sizeof(last_err), fmt, ap);
	va_end(ap);
	return ret;
}

const char *hv_strerror(void)
{
	return last_err[0] ? last_err : "no error";
}

hpa_t vm_alloc_page(struct hv_vm *vm)
{
	return vm_alloc_pages(vm, 1);
}

void vm_free_page(struct hv_vm *vm, hpa_t hpa)
{
	vm_free_pages(vm, hpa, 1);
}

hpa_t vm_alloc_pages(struct hv_vm *vm, unsigned npages)
{
	pthread_mutex_lock(&vm->alloc_lock);
	const hpa_t hpa = arena_alloc(&vm->alloc, npages, 1);
	pthread_mutex_unlock(&vm->alloc_lock);
	return hpa;
}

void vm_free_pages(struct hv_vm *vm, hpa_t hpa, unsigned npages)
{
	pthread_mutex_lock(&vm->alloc_lock);
	arena_free(&vm->alloc, hpa, npages);
	pthread_mutex_unlock(&vm->alloc_lock);
}

int hv_vm_create(const struct hv_vm_config *cfg, struct hv_vm **out)
{
	const struct hv_backend_ops *be;
	const struct hv_mmu_ops *mmu;
	struct hv_vm *vm;
	int r;

	if (!cfg || !out)
		return vm_err(-EINVAL, "hv_vm_create: NULL argument");
	*out = NULL;
	r = registry_lookup(cfg->backend, cfg->mmu, &be, &mmu);
	if (r)
		return r;
	uint64_t max_mem = cfg->max_mem ? cfg->max_mem : VM_DEFAULT_MAX_MEM;
	if (max_mem % HV_PAGE_SIZE || max_mem > VM_MAX_MAX_MEM)
		return vm_err(-EINVAL, "max_mem %#llx: must be a multiple of 4 KiB and at most 1 TiB",
			      (unsigned long long)max_mem);

	vm = calloc(1, be->vm_size);
	if (!vm)
		return vm_err(-ENOMEM, "out of memory");
	vm->backend = be;
	vm->mmu = mmu;
	vm->cfg = *cfg;
	vm->cfg.backend = be->name;
	vm->cfg.mmu = mmu->name;
	vm->cfg.max_mem = max_mem;
	vm->arena_size = max_mem + VM_HOST_RESERVE + (max_mem >> 8);
	pthread_mutex_init(&vm->alloc_lock, NULL);
	pthread_mutexattr_t rec;
	pthread_mutexattr_init(&rec);
	pthread_mutexattr_settype(&rec, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&vm->mmu_lock, &rec);
	pthread_mutexattr_destroy(&rec);
	r = be->vm_init(vm);
	if (r)
		goto err_free;
	r = arena_init(&vm->alloc, vm->arena, 1, (vm->arena_size >> HV_PAGE_SHIFT) - 1);
	if (r) {
		vm_err(r, "out of memory");
		goto err_backend;
	}
	r = irq_vm_init(vm);
	if (r)
		goto err_arena;
	r = mmu->vm_init(vm);
	if (r)
		goto err_irq;
	*out = vm;
	return 0;

err_irq:
	irq_vm_destroy(vm);
err_arena:
	arena_fini(&vm->alloc);
err_backend:
	be->vm_destroy(vm);
err_free:
	pthread_mutex_destroy(&vm->mmu_lock);
	pthread_mutex_destroy(&vm->alloc_lock);
	free(vm);
	return r;
}

void hv_vm_destroy(struct hv_vm *vm)
{
	if (!vm)
		return;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_destroy(vm->vcpus[i]);
	for (unsigned i = 0; i < HV_MAX_SLOTS; i++)
		if (vm->slots[i].used)
			free(vm->slots[i].dirty);
	vm->mmu->vm_destroy(vm);
	irq_vm_destroy(vm);
	arena_fini(&vm->alloc);
	vm->backend->vm_destroy(vm);
	pthread_mutex_destroy(&vm->mmu_lock);
	pthread_mutex_destroy(&vm->alloc_lock);
	free(vm);
}

const char *hv_vm_backend(const struct hv_vm *vm)
{
	return vm ? vm->backend->name : "";
}

const char *hv_vm_mmu(const struct hv_vm *vm)
{
	return vm ? vm->mmu->name : "";
}
