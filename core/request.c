/*
 * request.c — see request.h.
 */
#include "core/mmu_call.h"
#include "core/request.h"
#include "core/sched.h"
#include "core/trace.h"
#include "core/vm.h"
#include "mmu/mmu.h"

void vcpu_kick(struct hv_vcpu *vcpu)
{
	if (vcpu->sched)
		sched_kick(vcpu);
}

void vcpu_make_request(struct hv_vcpu *vcpu, enum vcpu_request req)
{
	atomic_fetch_or_explicit(&vcpu->requests, 1u << req, memory_order_release);
	vcpu_kick(vcpu);
}

void vm_flush_remote_tlbs(struct hv_vm *vm)
{
	vm->stats.remote_tlb_flush++;
	HV_TRACE_TLB_FLUSH(-1, HV_TRACE_FLUSH_REMOTE);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_make_request(vm->vcpus[i], VCPU_REQ_TLB_FLUSH);
	vcpu_wait_remote_flush(vm);
}

void vcpu_process_requests(struct hv_vcpu *vcpu)
{
	if (!atomic_load_explicit(&vcpu->requests, memory_order_relaxed))
		return;
	const uint32_t req = atomic_exchange_explicit(&vcpu->requests, 0, memory_order_acquire);
	struct hv_vm *vm = vcpu->vm;
	if (req & (1u << VCPU_REQ_TLB_FLUSH)) {
		vm->backend->flush_tlb(vcpu, vm->mmu->style == HV_MMU_TDP ? HV_FLUSH_TDP
									  : HV_FLUSH_GUEST);
		vm->stats.tlb_flush++;
		HV_TRACE_TLB_FLUSH(vcpu->id, HV_TRACE_FLUSH_REQUEST);
	}
	if ((req & (1u << VCPU_REQ_MMU_RELOAD)) && vm->mmu->reload_roots) {
		mmu_lock(vm);
		vm->mmu->reload_roots(vcpu);
		mmu_unlock(vm);
	}
	/* VCPU_REQ_EVENT needs nothing more: the run loop looks at the
	 * controllers after this anyway; the request only woke the vcpu. */
}
