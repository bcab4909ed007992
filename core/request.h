/*
 * request.h — requests between vcpus, in the spirit of KVM's
 * kvm_make_request()/kvm_check_request(): whoever changes something a
 * vcpu depends on (another vcpu, the VMM's thread, the MMU on behalf of
 * either) asks that vcpu to act on it before it next enters the guest,
 * and kicks it so it notices.
 *
 *   VCPU_REQ_TLB_FLUSH   flush the vcpu's guest TLB — HV_FLUSH_TDP under
 *                        a tdp MMU (the combined mappings), HV_FLUSH_GUEST
 *                        under shadow paging — because mappings it may
 *                        have cached changed (KVM_REQ_TLB_FLUSH)
 *   VCPU_REQ_MMU_RELOAD  the MMU dropped roots the vcpu has loaded: load
 *                        new ones before entering (mmu op reload_roots;
 *                        KVM_REQ_MMU_RELOAD)
 *   VCPU_REQ_EVENT       an interrupt, NMI, INIT or STARTUP arrived at its
 *                        local APIC: look at the controllers again
 *                        (KVM_REQ_EVENT); it wakes a halted vcpu
 *
 * Ordering. A request is set with release semantics after the requester
 * has made its change; the target takes all its requests at once with
 * an acquire exchange at the top of its run loop (core/run.c), before
 * it injects events and enters the guest, so it acts on the change.
 *
 * Kicks. In deterministic mode (core/sched.c) only one vcpu runs at a
 * time, so the target is never in the guest when a request is made and
 * the kick does nothing. In parallel mode the kick wakes the target's
 * thread if it sleeps and makes its processor leave the guest within a
 * few instructions if it runs (the backend's kick, a host IPI on real
 * silicon).
 */
#ifndef HVLAB_CORE_REQUEST_H
#define HVLAB_CORE_REQUEST_H

#include <stdbool.h>

struct hv_vm;
struct hv_vcpu;

enum vcpu_request {
	VCPU_REQ_TLB_FLUSH,
	VCPU_REQ_MMU_RELOAD,
	VCPU_REQ_EVENT,
	VCPU_NR_REQUESTS
};

/* Ask @vcpu for @req and kick it. Any thread. */
void vcpu_make_request(struct hv_vcpu *vcpu, enum vcpu_request req);

/*
 * Ask every vcpu of the VM to flush its TLB before it next enters the
 * guest (KVM's kvm_flush_remote_tlbs). The calling vcpu, when there is
 * one, flushes too at its next entry. In parallel mode it returns only
 * once no other vcpu can still be in the guest with its old TLB (KVM's
 * KVM_REQUEST_WAIT), so the caller may then reuse the tables it dropped.
 * Counted in remote_tlb_flush.
 */
void vm_flush_remote_tlbs(struct hv_vm *vm);

/* The vcpu's own thread: act on every request made so far. */
void vcpu_process_requests(struct hv_vcpu *vcpu);

/* Wake or interrupt @vcpu so it looks at its requests (see above). */
void vcpu_kick(struct hv_vcpu *vcpu);

#endif
