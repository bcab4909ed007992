/*
 * sched.h — core/'s view of the vcpu scheduler (core/sched.c, hv_vm_run
 * in hv.h): what the run loop and the request code call.
 */
#ifndef HVLAB_CORE_SCHED_H
#define HVLAB_CORE_SCHED_H

#include "hvlab/hv.h"

struct hv_vm;
struct hv_vcpu;

/* The run loop's answer when a vcpu under the scheduler has nothing to
 * execute (halted, waiting for SIPI): not an hv_exit_reason, it never
 * leaves core. */
#define HV_EXIT_IDLE 0x100

/* core/run.c: one vcpu's run loop (hv_run without its checks). */
int vcpu_run(struct hv_vcpu *vcpu, struct hv_run *run);

/* Instructions the vcpu has retired (processor plus core's emulator). */
uint64_t vcpu_insns(struct hv_vcpu *vcpu);

/* Make a vcpu under the scheduler look at its requests (request.h). */
void sched_kick(struct hv_vcpu *vcpu);

/* After TLB flush requests to every vcpu: in parallel mode, wait until
 * no other vcpu can still be in the guest with its old TLB. */
void vcpu_wait_remote_flush(struct hv_vm *vm);

#endif
