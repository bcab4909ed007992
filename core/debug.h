/*
 * debug.h — guest debugging from the VMM (hv_debug_guest, KVM_DEBUG_GUEST):
 * what the run loop does around each entry (core/debug.c).
 */
#ifndef HVLAB_CORE_DEBUG_H
#define HVLAB_CORE_DEBUG_H

#include <stdbool.h>

struct hv_vcpu;

/* Before an entry: TF for single-step, RF to step over a breakpoint. */
void vcpu_debug_before_entry(struct hv_vcpu *vcpu);
/* After an exit: take back the TF the guest must not see. */
void vcpu_debug_after_exit(struct hv_vcpu *vcpu);
/* Is the #DB/#BP exit in vcpu->exit the debugger's (true: run.debug
 * filled, go to the VMM) rather than the guest's own? */
bool vcpu_debug_exit(struct hv_vcpu *vcpu);
/* While single-stepping, no interrupt or NMI is injected. */
bool vcpu_debug_blocks_irqs(const struct hv_vcpu *vcpu);

#endif
