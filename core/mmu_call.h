/*
 * mmu_call.h — how core/ calls the MMU strategy (mmu/mmu.h): every op
 * under the VM's MMU lock.
 *
 * Locking rule. vm->mmu_lock (KVM's kvm->mmu_lock) protects all of a
 * strategy's state — shadow pages, the pool and reverse map, roots,
 * TDP tables, the dirty bitmaps' write protection — and is held across
 * every op but vm_init/vm_destroy/vcpu_init/vcpu_destroy (no vcpu runs
 * then). It is recursive: ops nest (a shadow fault emulates the
 * faulting instruction, which translates through gva_to_gpa and may
 * call track_write). Under it an op may make requests and kicks
 * (vm_flush_remote_tlbs waits for the other vcpus to leave the guest:
 * they need no lock to do that) and take the irqchip's lock; nothing
 * that holds the irqchip's or the scheduler's lock calls the MMU.
 * Processors walk the tables without the lock, as hardware does: an op
 * changes an entry with one store, and drops a table only after
 * vm_flush_remote_tlbs has made every other vcpu leave the guest.
 */
#ifndef HVLAB_CORE_MMU_CALL_H
#define HVLAB_CORE_MMU_CALL_H

#include <pthread.h>

#include "core/trace.h"
#include "core/vm.h"
#include "mmu/mmu.h"

static inline void mmu_lock(struct hv_vm *vm)
{
	pthread_mutex_lock(&vm->mmu_lock);
}

static inline void mmu_unlock(struct hv_vm *vm)
{
	if (vm->mmu->commit_zap)
		vm->mmu->commit_zap(vm);
	pthread_mutex_unlock(&vm->mmu_lock);
}

static inline enum ret_pf mmu_page_fault(struct hv_vcpu *vcpu, uint64_t addr, uint32_t access,
					 bool present)
{
	HV_TRACE_PAGE_FAULT(vcpu->id, addr, access, present);
	mmu_lock(vcpu->vm);
	const enum ret_pf r = vcpu->vm->mmu->page_fault(vcpu, addr, access, present);
	mmu_unlock(vcpu->vm);
	HV_TRACE_PAGE_FAULT_DONE(vcpu->id, addr, r);
	return r;
}

static inline void mmu_reset_context(struct hv_vcpu *vcpu)
{
	mmu_lock(vcpu->vm);
	vcpu->vm->mmu->reset_context(vcpu);
	mmu_unlock(vcpu->vm);
}

static inline void mmu_new_cr3(struct hv_vcpu *vcpu, uint64_t cr3)
{
	if (!vcpu->vm->mmu->new_cr3)
		return;
	mmu_lock(vcpu->vm);
	vcpu->vm->mmu->new_cr3(vcpu, cr3);
	mmu_unlock(vcpu->vm);
}

static inline void mmu_invlpg(struct hv_vcpu *vcpu, gva_t gva)
{
	if (!vcpu->vm->mmu->invlpg)
		return;
	mmu_lock(vcpu->vm);
	vcpu->vm->mmu->invlpg(vcpu, gva);
	mmu_unlock(vcpu->vm);
}

static inline void mmu_flush_tlb(struct hv_vcpu *vcpu)
{
	if (!vcpu->vm->mmu->flush_tlb)
		return;
	mmu_lock(vcpu->vm);
	vcpu->vm->mmu->flush_tlb(vcpu);
	mmu_unlock(vcpu->vm);
}

static inline int mmu_gva_to_gpa(struct hv_vcpu *vcpu, gva_t gva, uint32_t access, gpa_t *gpa,
				 struct mmu_walk_fault *fault)
{
	mmu_lock(vcpu->vm);
	const int r = vcpu->vm->mmu->gva_to_gpa(vcpu, gva, access, gpa, fault);
	mmu_unlock(vcpu->vm);
	return r;
}

static inline void mmu_track_write(struct hv_vcpu *vcpu, gpa_t gpa, const void *data,
				   unsigned len)
{
	if (!vcpu->vm->mmu->track_write)
		return;
	mmu_lock(vcpu->vm);
	vcpu->vm->mmu->track_write(vcpu, gpa, data, len);
	mmu_unlock(vcpu->vm);
}

static inline void mmu_memslot_changed(struct hv_vm *vm, const struct hv_memslot *old,
				       const struct hv_memslot *new)
{
	mmu_lock(vm);
	vm->mmu->memslot_changed(vm, old, new);
	mmu_unlock(vm);
}

static inline void mmu_dirty_log_rearm(struct hv_vm *vm, const struct hv_memslot *slot)
{
	mmu_lock(vm);
	vm->mmu->dirty_log_rearm(vm, slot);
	mmu_unlock(vm);
}

#endif
