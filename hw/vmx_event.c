/*
 * vmx_event.c — events in VMX non-root operation: which exceptions exit
 * (the exception bitmap and the #PF error-code mask/match rule, SDM Vol.
 * 3C 26.2), and what happens between instructions (26.7: preemption
 * timer, NMI-window and interrupt-window exiting; 26.2: NMI and external-
 * interrupt exiting; otherwise delivery through the guest IDT).
 *
 * Priority between instructions, highest first (SDM Vol. 3A 6.9 and the
 * VMX additions of Vol. 3C 26.7; where the SDM leaves two VMX exits
 * unordered the model picks the order below and docs/hw.md says so):
 *
 *   INIT                                    exit 3 (26.2: always)
 *   VMX-preemption timer expired            exit 52
 *   NMI window open, NMI-window exiting     exit 8 (26.7.6: before NMIs)
 *   NMI, NMI exiting                        exit 0 (NMI)
 *   NMI, not blocked                        deliver vector 2
 *   IF = 1, no shadow, interrupt-window     exit 7 (26.7.5: before
 *                                           external interrupts)
 *   INTR, external-interrupt exiting        exit 1 (regardless of IF)
 *   INTR, IF = 1, no shadow                 deliver
 */
#include "hw/event.h"
#include "hw/vmx.h"

static uint32_t intr_info(const struct emu_event *ev)
{
	return ev->vector | ((uint32_t)ev->type << VMX_INTR_INFO_TYPE_SHIFT) |
	       (ev->has_error_code ? VMX_INTR_INFO_ERROR_CODE : 0) | VMX_INTR_INFO_VALID;
}

int vmx_event_exception(struct hw_cpu *cpu, const struct emu_event *ev, uint64_t extra)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	bool exits = (c->exception_bitmap >> ev->vector) & 1;

	if (ev->vector == EMU_EXC_PF && ev->type == EMU_EVENT_TYPE_HW_EXC) {
		/* 26.2: with bit 14 set, exit when PFEC & MASK == MATCH;
		 * with it clear, exit when they differ. */
		const bool match = (ev->error_code & c->pf_mask) == c->pf_match;
		exits = exits ? match : !match;
	}
	if (!exits)
		return EMU_CONTINUE;
	uint64_t qual = 0;
	if (ev->vector == EMU_EXC_PF)
		qual = extra;		/* the linear address (28.2.1) */
	else if (ev->vector == EMU_EXC_DB)
		qual = extra;		/* B3-B0, BD, BS as DR6 would get them */
	hw_exit(cpu, VMX_EXIT_EXCEPTION_NMI, qual);
	cpu->exit.intr_info = intr_info(ev);
	cpu->exit.intr_error = ev->has_error_code ? ev->error_code : 0;
	if (ev->type == EMU_EVENT_TYPE_SOFT_EXC || ev->type == EMU_EVENT_TYPE_PRIV_SOFT_EXC) {
		/* INT3, INTO, INT1: RIP references the instruction and the
		 * exit reports its length (28.2.4), for re-injection. */
		cpu->exit.insn_len = cpu->emu.exc.insn_len;
		cpu->emu.cpu.rip -= cpu->emu.exc.insn_len;
	}
	return EMU_STOP;
}

int vmx_event_triple_fault(struct hw_cpu *cpu)
{
	return hw_exit(cpu, VMX_EXIT_TRIPLE_FAULT, 0);
}

/* The INTR line or the host timer; the vector an acknowledge returns. */
static bool intr_pending(const struct hw_cpu *cpu, uint8_t *vector)
{
	if (cpu->ev.timer) {
		*vector = HW_DEADLINE_VECTOR;
		return true;
	}
	*vector = cpu->ev.intr_vector;
	return cpu->ev.intr;
}

int vmx_events(struct hw_cpu *cpu, bool *blocked)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	const unsigned shadow = hw_shadow(cpu);
	const bool if_open = (cpu->emu.cpu.rflags & EMU_FLAG_IF) && !shadow;
	uint8_t vector;

	*blocked = false;
	if (cpu->ev.init_pending) {
		cpu->ev.init_pending = false;
		return hw_exit(cpu, VMX_EXIT_INIT, 0);
	}
	if ((c->pin & VMX_PIN_PREEMPTION_TIMER) && hw_clock(cpu) >= c->preempt_deadline)
		return hw_exit(cpu, VMX_EXIT_PREEMPTION_TIMER, 0);
	if (c->proc & VMX_PROC_NMI_WINDOW_EXITING) {
		/* 26.7.6: no virtual-NMI blocking and no MOV-SS blocking. */
		if (!cpu->ev.nmi_blocked && !(shadow & HW_SHADOW_MOVSS))
			return hw_exit(cpu, VMX_EXIT_NMI_WINDOW, 0);
		*blocked = true;
	}
	if (cpu->ev.nmi_pending) {
		if (c->pin & VMX_PIN_NMI_EXITING) {
			cpu->ev.nmi_pending = false;
			hw_exit(cpu, VMX_EXIT_EXCEPTION_NMI, 0);
			cpu->exit.intr_info = EMU_EXC_NMI |
					      (VMX_INTR_TYPE_NMI << VMX_INTR_INFO_TYPE_SHIFT) |
					      VMX_INTR_INFO_VALID;
			return EMU_STOP;
		}
		if (!cpu->ev.nmi_blocked && !shadow) {
			cpu->ev.nmi_pending = false;
			cpu->ev.halted = false;
			struct emu_event ev = { .vector = EMU_EXC_NMI, .type = EMU_EVENT_TYPE_NMI };
			int r = hw_deliver(cpu, ev, 0);
			return r == EMU_CONTINUE ? HW_EVENT_TAKEN : r;
		}
		*blocked = true;
	}
	if (c->proc & VMX_PROC_INTR_WINDOW_EXITING) {
		/* 26.7.5: before external interrupts, exiting or not. */
		if (if_open)
			return hw_exit(cpu, VMX_EXIT_INTERRUPT_WINDOW, 0);
		*blocked = true;
	}
	if (intr_pending(cpu, &vector)) {
		if (c->pin & VMX_PIN_EXT_INTR_EXITING) {
			hw_exit(cpu, VMX_EXIT_EXTERNAL_INTERRUPT, 0);
			if (c->exit & VMX_EXIT_CTL_ACK_INTR_ON_EXIT) {
				hw_intr_ack(cpu);
				cpu->exit.intr_info = vector | VMX_INTR_INFO_VALID;
			}
			return EMU_STOP;
		}
		if (if_open) {
			hw_intr_ack(cpu);
			cpu->ev.halted = false;
			struct emu_event ev = { .vector = vector, .type = EMU_EVENT_TYPE_EXT_INT };
			int r = hw_deliver(cpu, ev, 0);
			return r == EMU_CONTINUE ? HW_EVENT_TAKEN : r;
		}
		*blocked = true;
	}
	return EMU_CONTINUE;
}
