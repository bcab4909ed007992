/*
 * event.h — events waiting to enter the guest: exceptions raised by
 * hvlab (emulation, bad MSR or CR writes), events an exit interrupted
 * (re-injection), NMIs and external interrupts from core/irq, and their
 * injection before each entry (core/run.c).
 */
#ifndef HVLAB_CORE_EVENT_H
#define HVLAB_CORE_EVENT_H

#include <stdbool.h>
#include <stdint.h>

struct hv_vcpu;
struct hv_exit;

/* Queue a hardware exception. Two at once combine as SDM Vol. 3A 6.15
 * Table 6-5 says (#DF, or a triple fault: vcpu_triple_fault()). */
void vcpu_queue_exception(struct hv_vcpu *vcpu, uint8_t vector, bool has_error_code,
			  uint32_t error_code);
/* A #PF: CR2 gets @cr2 when it is delivered. */
void vcpu_queue_pf(struct hv_vcpu *vcpu, uint64_t cr2, uint32_t error_code);
/* INT n / INT3 / INTO at RIP, instruction length @len. */
void vcpu_queue_soft(struct hv_vcpu *vcpu, uint8_t type, uint8_t vector, uint8_t len);
/* The event the last exit interrupted (IDT-vectoring info, EXITINTINFO). */
void vcpu_queue_reinject(struct hv_vcpu *vcpu, const struct hv_exit *exit);

/* A queued exception combined into a triple fault: the vcpu shuts down. */
bool vcpu_triple_fault(struct hv_vcpu *vcpu);

/* Before an entry: inject the most urgent event the guest can take now
 * and open interrupt/NMI windows for the rest. */
void vcpu_inject_events(struct hv_vcpu *vcpu);

/* Does a maskable interrupt or NMI wait for this vcpu? (Wakes HLT.) */
bool vcpu_has_interrupt(struct hv_vcpu *vcpu);

#endif
