/*
 * event.h — delivering events to the running guest (hw/event.c) and the
 * vendor hooks that decide whether an event exits instead
 * (hw/vmx_event.c, hw/svm_event.c).
 */
#ifndef HVLAB_HW_EVENT_H
#define HVLAB_HW_EVENT_H

#include "hw/exec.h"

/*
 * Deliver @ev through the guest's IDT with the exception-combination
 * rules (SDM Vol. 3A 6.15, Table 6-5: #DF, triple fault). @extra is the
 * #PF address (CR2) or the #DB DR6 bits. An exception the hypervisor
 * intercepts, a nested fault during delivery, or a triple fault becomes
 * a VM exit with the interrupted event as IDT-vectoring information /
 * EXITINTINFO. Returns EMU_CONTINUE (the handler is about to run),
 * EMU_STOP (an exit is recorded) or EMU_UNHANDLEABLE (a task gate).
 */
int hw_deliver(struct hw_cpu *cpu, struct emu_event ev, uint64_t extra);

/*
 * Deliver an event the hypervisor injects at VM entry (VMX entry
 * interruption information, SVM EVENTINJ): the exception bitmap /
 * intercepts are not consulted for it and CR2/DR6 are left as the
 * hypervisor set them (SDM Vol. 3C 27.6.1; APM Vol. 2 15.20); faults
 * during its delivery follow hw_deliver(), and report @fault_rip (the
 * guest RIP before a software event's return address was set up).
 */
int hw_inject(struct hw_cpu *cpu, struct emu_event ev, uint64_t fault_rip);

/* The guest started a task switch (emu_ctx.task_switch): the VM exit
 * that asks the hypervisor to perform it. EMU_STOP. */
int hw_task_switch(struct hw_cpu *cpu);

/* Handle the engine's EMU_EXCEPTION result (ctx->exc) with hw_deliver(). */
int hw_exception(struct hw_cpu *cpu);

/* Vendor: does exception @ev exit? If so record it and return EMU_STOP. */
int vmx_event_exception(struct hw_cpu *cpu, const struct emu_event *ev, uint64_t extra);
int svm_event_exception(struct hw_cpu *cpu, const struct emu_event *ev, uint64_t extra);
/* Vendor: the guest triple-faulted (shutdown). */
int vmx_event_triple_fault(struct hw_cpu *cpu);
int svm_event_triple_fault(struct hw_cpu *cpu);

/*
 * Vendor: between instructions, take what is pending — exits for
 * interrupt/NMI windows, external interrupts, NMIs, the preemption
 * timer; or deliver the event to the guest. EMU_CONTINUE when nothing
 * was taken, HW_EVENT_TAKEN when an event was delivered, EMU_STOP on an
 * exit. *blocked is set when an event is pending but blocked (the run
 * loop then steps one instruction at a time).
 */
#define HW_EVENT_TAKEN 100
int vmx_events(struct hw_cpu *cpu, bool *blocked);
int svm_events(struct hw_cpu *cpu, bool *blocked);

#endif
