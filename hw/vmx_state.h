/*
 * vmx_state.h — VMCS <-> processor state (hw/vmx_state.c) and the VM-entry
 * checks (hw/vmx_check.c), the phases of VMLAUNCH/VMRESUME (hw/vmx_run.c).
 */
#ifndef HVLAB_HW_VMX_STATE_H
#define HVLAB_HW_VMX_STATE_H

#include "hw/exec.h"

/* Copy the execution controls into cpu->vmx_ctl (checks passed). */
void vmx_enter_cache_controls(struct hw_cpu *cpu);
/* Load the guest-state area into the processor (27.3.2). */
void vmx_enter_load_guest_state(struct hw_cpu *cpu);
/* Write cpu->exit and the guest state back into the VMCS (28.2, 28.3). */
void vmx_exit_save_guest_state(struct hw_cpu *cpu);
/* Load the host-state area (28.5). */
void vmx_exit_load_host_state(struct hw_cpu *cpu);

/*
 * The VM-entry checks (27.2, 27.3.1), on the current VMCS: each returns 0
 * when the state is valid, or the VM-instruction error (7: invalid
 * control fields, 8: invalid host-state fields) / for the guest state
 * the exit qualification of the failed entry (0 default, 4 bad VMCS link
 * pointer...) plus one, with *why set to one line naming the rule.
 */
int vmx_check_controls(struct hw_cpu *cpu, const char **why);
int vmx_check_host_state(struct hw_cpu *cpu, const char **why);
int vmx_check_guest_state(struct hw_cpu *cpu, const char **why);

#endif
