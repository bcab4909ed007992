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
 * The VM-entry checks on the current VMCS (hw/vmx_check.c,
 * hw/vmx_check_guest.c), to run in this order; each returns 0 when every
 * rule holds. Otherwise, with *why (if @why is not NULL) pointed at a
 * static one-line reason naming the rule:
 *
 *   vmx_check_controls     27.2.1      7: VM-instruction error "VM entry
 *                                      with invalid control field(s)"
 *   vmx_check_host_state   27.2.2-4    8: "... invalid host-state field(s)"
 *   vmx_check_guest_state  27.3.1      exit qualification + 1 of the
 *                                      failed entry (27.8): 1 (qual 0,
 *                                      default), 3 (qual 2, PDPTEs),
 *                                      5 (qual 4, VMCS link pointer)
 *
 * They read the VMCS and the capability MSRs and change nothing. The
 * guest check assumes the other two passed (it trusts the controls).
 */
int vmx_check_controls(struct hw_cpu *cpu, const char **why);
int vmx_check_host_state(struct hw_cpu *cpu, const char **why);
int vmx_check_guest_state(struct hw_cpu *cpu, const char **why);

#endif
