/*
 * event.c — exceptions and interrupts into the running guest.
 *
 * Delivery itself is emulate/'s emu_deliver() (the IDT, gates, stack
 * switches). Around it this file applies what the processor adds:
 *
 * - the hypervisor's interception of exceptions (vendor hooks), checked
 *   for each exception before it is delivered;
 * - CR2 for #PF and DR6 for #DB, written only when the exception is
 *   actually delivered to the guest (an intercepted #PF leaves CR2 alone,
 *   SDM Vol. 3C 27.1);
 * - RF = 1 in the RFLAGS image of faults (SDM Vol. 3B 18.3.1.1);
 * - the combination rules of SDM Vol. 3A Table 6-5 when delivery faults:
 *
 *     first \ second     benign     contributory   page fault
 *     benign             serial     serial         serial
 *     contributory       serial     #DF            serial
 *     page fault         serial     #DF            #DF
 *     double fault       serial     shutdown       shutdown
 *
 *   contributory = #DE, #TS, #NP, #SS, #GP; an interrupt as the first
 *   event counts as benign;
 * - IDT-vectoring information: while an event is being delivered,
 *   cpu->vectoring names it, so an exit during delivery reports it.
 */
#include "hw/event.h"
#include "hw/svm_internal.h"
#include "hw/vmx.h"

static bool is_exception(const struct emu_event *ev)
{
	return ev->type == EMU_EVENT_TYPE_HW_EXC || ev->type == EMU_EVENT_TYPE_SOFT_EXC ||
	       ev->type == EMU_EVENT_TYPE_PRIV_SOFT_EXC;
}

enum exc_class { BENIGN, CONTRIBUTORY, PAGE_FAULT, DOUBLE_FAULT };

static enum exc_class classify(const struct emu_event *ev)
{
	if (ev->type != EMU_EVENT_TYPE_HW_EXC)
		return BENIGN;
	switch (ev->vector) {
	case EMU_EXC_DE: case EMU_EXC_TS: case EMU_EXC_NP: case EMU_EXC_SS: case EMU_EXC_GP:
		return CONTRIBUTORY;
	case EMU_EXC_PF:
		return PAGE_FAULT;
	case EMU_EXC_DF:
		return DOUBLE_FAULT;
	}
	return BENIGN;
}

static int intercepted(struct hw_cpu *cpu, const struct emu_event *ev, uint64_t extra)
{
	switch (cpu->guest) {
	case HW_GUEST_VMX: return vmx_event_exception(cpu, ev, extra);
	case HW_GUEST_SVM: return svm_event_exception(cpu, ev, extra);
	default: return EMU_CONTINUE;
	}
}

/*
 * A triple fault is not an exit during event delivery (SDM Vol. 3C
 * 28.2.4: no IDT-vectoring information) and leaves the guest's activity
 * state as it was (28.3.4); only when no exit takes it does the
 * processor shut down.
 */
static int triple_fault(struct hw_cpu *cpu)
{
	int r = EMU_STOP;
	cpu->vectoring.valid = false;
	switch (cpu->guest) {
	case HW_GUEST_VMX: r = vmx_event_triple_fault(cpu); break;
	case HW_GUEST_SVM: r = svm_event_triple_fault(cpu); break;
	default: break;
	}
	if (!cpu->exit.pending)
		cpu->ev.shutdown = true;
	return r;
}

/* What the processor writes before it delivers @ev to the guest. */
static void prepare(struct hw_cpu *cpu, const struct emu_event *ev, uint64_t extra)
{
	if (ev->type != EMU_EVENT_TYPE_HW_EXC)
		return;
	if (ev->vector == EMU_EXC_PF) {
		cpu->cr2 = extra;
	} else if (ev->vector == EMU_EXC_DB) {
		cpu->dr6 |= extra;
		cpu->dr7 &= ~(1ull << 13);	/* GD cleared on #DB (18.2.4) */
	}
}

static bool is_software(const struct emu_event *ev)
{
	return ev->type == EMU_EVENT_TYPE_SOFT_INT || ev->type == EMU_EVENT_TYPE_SOFT_EXC ||
	       ev->type == EMU_EVENT_TYPE_PRIV_SOFT_EXC;
}

/*
 * @fault_rip: where a fault raised while delivering the first event
 * points. A software interrupt or exception pushes the address after its
 * instruction, but a fault during its delivery belongs to the
 * instruction itself (SDM Vol. 3A 6.12: the fault's saved CS:EIP points
 * to the INT n); for hardware events it is rip unchanged.
 */
static int deliver(struct hw_cpu *cpu, struct emu_event ev, uint64_t extra, bool injected,
		   uint64_t fault_rip)
{
	struct hw_vectoring *vec = &cpu->vectoring;
	bool first_event = true;

	vec->valid = false;
	for (;;) {
		if (!injected) {
			if (is_exception(&ev)) {
				int r = intercepted(cpu, &ev, extra);
				if (r != EMU_CONTINUE)
					return r;
			}
			prepare(cpu, &ev, extra);
		}
		injected = false;
		vec->valid = true;
		vec->ev = ev;
		int r = emu_deliver(&cpu->emu, &ev);
		if (r == EMU_UNHANDLEABLE && cpu->emu.task_switch.valid)
			r = hw_task_switch(cpu);	/* through a task gate */
		if (r == EMU_CONTINUE) {
			vec->valid = false;
			if (ev.type == EMU_EVENT_TYPE_NMI)
				cpu->ev.nmi_blocked = true;
			if (is_exception(&ev))
				cpu->cnt.exceptions++;
			else
				cpu->cnt.interrupts++;
			return EMU_CONTINUE;
		}
		if (r == EMU_STOP && cpu->exit.pending && first_event && is_software(&ev)) {
			/* An exit while delivering a software event reports
			 * the instruction: RIP at it and its length (SDM
			 * 28.2.4, 28.3.3), for the hypervisor to re-inject. */
			cpu->exit.insn_len = (uint8_t)(cpu->emu.cpu.rip - fault_rip);
			cpu->emu.cpu.rip = fault_rip;
		}
		if (r != EMU_EXCEPTION)
			return r;	/* EMU_STOP with vectoring info, or unhandleable */
		const uint64_t after = cpu->emu.cpu.rip;
		const bool was_first = first_event;
		if (first_event)
			cpu->emu.cpu.rip = fault_rip;
		first_event = false;

		struct emu_event next;
		emu_exc_to_event(&cpu->emu.exc, &next);
		const enum exc_class first = classify(&ev), second = classify(&next);
		extra = next.vector == EMU_EXC_PF ? cpu->emu.exc.cr2 : cpu->emu.exc.dr6;
		/* SDM Vol. 3C 26.2 / APM 15.12: an intercepted exception met
		 * while delivering an event exits as itself, before any #DF
		 * conversion; vectoring info reports the first event. */
		if (is_exception(&next)) {
			int ri = intercepted(cpu, &next, extra);
			if (ri != EMU_CONTINUE) {
				/* VMX reports the software event's instruction
				 * length for re-injection (SDM Vol. 3C 28.2.4);
				 * SVM leaves nRIP 0 for an exception intercept
				 * (APM 15.7.1), and RIP at the INT re-executes it. */
				if (cpu->exit.pending && was_first && is_software(&ev) &&
				    cpu->guest == HW_GUEST_VMX)
					cpu->exit.insn_len = (uint8_t)(after - fault_rip);
				return ri;
			}
		}
		if (first == DOUBLE_FAULT && (second == CONTRIBUTORY || second == PAGE_FAULT))
			return triple_fault(cpu);
		if ((first == CONTRIBUTORY && second == CONTRIBUTORY) ||
		    (first == PAGE_FAULT && second != BENIGN)) {
			next = (struct emu_event){ .vector = EMU_EXC_DF,
						   .type = EMU_EVENT_TYPE_HW_EXC,
						   .has_error_code = true, .error_code = 0 };
			extra = 0;
		}
		/* The new event is delivered instead; the interrupted one is
		 * what an exit while checking it reports. */
		ev = next;
		if (ev.type == EMU_EVENT_TYPE_HW_EXC)
			cpu->emu.cpu.rflags |= EMU_FLAG_RF;
	}
}

/*
 * A task switch the guest started (CALL/JMP to a TSS or task gate, IRET
 * with NT, an event through a task gate): the model does not perform
 * task switches, so it needs the hypervisor to. VMX: an unconditional
 * exit, reason 9, qualification = TSS selector | source << 30 (SDM Vol.
 * 3C 26.1.2, 28.2.1 Table 28-2). SVM: #VMEXIT 0x7d with the intercept,
 * EXITINFO1 = the selector, EXITINFO2 = IRET (bit 36), JMP (38), error
 * code valid (44) and the error code (APM Vol. 2 15.14.3); without the
 * intercept the model has nothing to do and ends the entry as
 * unsupported.
 */
int hw_task_switch(struct hw_cpu *cpu)
{
	struct emu_ctx *e = &cpu->emu;
	const unsigned source = e->task_switch.source;
	const uint16_t sel = e->task_switch.sel;

	e->task_switch.valid = false;
	if (cpu->guest == HW_GUEST_VMX) {
		hw_exit(cpu, VMX_EXIT_TASK_SWITCH, sel | (uint64_t)source << 30);
		if (source != EMU_TS_GATE)
			cpu->exit.insn_len = e->exc.insn_len;
		return EMU_STOP;
	}
	if (cpu->guest == HW_GUEST_SVM &&
	    (cpu->svm_ctl.intercept_misc1 & SVM_INTERCEPT_TASK_SWITCH)) {
		uint64_t info2 = 0;
		if (source == EMU_TS_IRET)
			info2 |= 1ull << 36;
		if (source == EMU_TS_JMP)
			info2 |= 1ull << 38;
		if (source == EMU_TS_GATE && cpu->vectoring.valid &&
		    cpu->vectoring.ev.has_error_code)
			info2 |= 1ull << 44 | cpu->vectoring.ev.error_code;
		hw_exit(cpu, SVM_EXIT_TASK_SWITCH, sel);
		cpu->exit.info2 = info2;
		return EMU_STOP;
	}
	return hw_unsupported(cpu, "a task switch the hypervisor does not intercept");
}

int hw_deliver(struct hw_cpu *cpu, struct emu_event ev, uint64_t extra)
{
	const uint64_t rip = cpu->emu.cpu.rip;
	return deliver(cpu, ev, extra, false,
		       is_software(&ev) ? rip - cpu->emu.exc.insn_len : rip);
}

int hw_inject(struct hw_cpu *cpu, struct emu_event ev, uint64_t fault_rip)
{
	return deliver(cpu, ev, 0, true, fault_rip);
}

int hw_exception(struct hw_cpu *cpu)
{
	const struct emu_exception *exc = &cpu->emu.exc;
	struct emu_event ev;

	emu_exc_to_event(exc, &ev);
	/* A fault's RFLAGS image carries RF = 1 (18.3.1.1); an instruction
	 * breakpoint's does not (run.c delivers those itself). */
	if (exc->kind == EMU_EVENT_FAULT)
		cpu->emu.cpu.rflags |= EMU_FLAG_RF;
	return hw_deliver(cpu, ev, ev.vector == EMU_EXC_PF ? exc->cr2 : exc->dr6);
}
