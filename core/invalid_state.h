/*
 * invalid_state.h — running a guest whose state the processor cannot be
 * entered with (VMX without unrestricted guest: real mode, and segment
 * registers that still hold real-mode values in protected mode) one
 * emulated instruction at a time, KVM's "emulate invalid guest state".
 * core/invalid_state.c; docs/backend-vmx.md.
 */
#ifndef HVLAB_CORE_INVALID_STATE_H
#define HVLAB_CORE_INVALID_STATE_H

#include <stdbool.h>

struct hv_vcpu;

/* May the backend enter the guest as it is now (its state_runnable op;
 * true when it has none)? */
bool vcpu_state_runnable(struct hv_vcpu *vcpu);

/* One step in the processor's stead: deliver the most urgent pending
 * event the guest can take, else emulate the instruction at RIP. The
 * run loop calls it instead of entering while vcpu_state_runnable() is
 * false. Returns a handler result (core/exit.h): EXIT_RESUME,
 * EXIT_TO_VMM with vcpu->run filled, or -errno. */
int vcpu_run_invalid_state(struct hv_vcpu *vcpu);

#endif
