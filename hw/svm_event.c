/*
 * svm_event.c — events in SVM guest mode (APM Vol. 2 15.12 exception
 * intercepts, 15.13 INTR/NMI intercepts, 15.21 interrupt and local APIC
 * virtualisation: V_IRQ, V_TPR, V_INTR_MASKING, VINTR).
 *
 * Between instructions, highest first:
 *
 *   INIT, INIT intercept                    #VMEXIT INIT (0x63)
 *   NMI, NMI intercept                      #VMEXIT NMI
 *   NMI, not blocked                        deliver vector 2
 *   INTR, INTR intercept, interrupts on     #VMEXIT INTR
 *   INTR, not intercepted, IF = 1           deliver
 *   V_IRQ, IF = 1, priority > V_TPR         #VMEXIT VINTR if intercepted,
 *                                           else deliver V_INTR_VECTOR
 *
 * "Interrupts on" for the physical INTR: with V_INTR_MASKING the host's
 * RFLAGS.IF decides (saved at VMRUN; hvlab's host runs with IF = 1, as
 * KVM's does after CLGI; STI; VMRUN), otherwise the guest's IF and
 * shadow. The GIF is 1 while a guest runs (VMRUN sets it).
 */
#include "hw/event.h"
#include "hw/svm_internal.h"

int svm_event_exception(struct hw_cpu *cpu, const struct emu_event *ev, uint64_t extra)
{
	/* INT1's #DB does not trigger the #DB intercept (15.12.2); ICEBP
	 * has its own. */
	if (ev->type == EMU_EVENT_TYPE_PRIV_SOFT_EXC)
		return EMU_CONTINUE;
	if (!((cpu->svm_ctl.intercept_exceptions >> ev->vector) & 1))
		return EMU_CONTINUE;
	/* An intercepted #DB has already updated DR6 (its status bits),
	 * which #VMEXIT saves in the VMCB: that is where a hypervisor reads
	 * the cause (APM Vol. 2 15.12, as KVM's #DB intercept reads it).
	 * VMX differs: an exiting #DB leaves DR6 alone (SDM Vol. 3C 27.1). */
	if (ev->vector == EMU_EXC_DB && ev->type == EMU_EVENT_TYPE_HW_EXC)
		cpu->dr6 |= extra;
	hw_exit(cpu, SVM_EXIT_EXCP_BASE + ev->vector, ev->has_error_code ? ev->error_code : 0);
	if (ev->vector == EMU_EXC_PF)
		cpu->exit.info2 = extra;	/* the faulting address (15.12) */
	if (ev->type == EMU_EVENT_TYPE_SOFT_EXC || ev->type == EMU_EVENT_TYPE_PRIV_SOFT_EXC) {
		/* INT3/INTO/INT1 intercepted: RIP at the instruction, nRIP after. */
		cpu->exit.insn_len = cpu->emu.exc.insn_len;
		cpu->emu.cpu.rip -= cpu->emu.exc.insn_len;
	}
	return EMU_STOP;
}

/* A triple fault is a shutdown (15.11.3? 15.12): the SHUTDOWN intercept
 * exits; without it the processor would shut down, which the model
 * reports as an unsupported condition (run.c). */
int svm_event_triple_fault(struct hw_cpu *cpu)
{
	if (cpu->svm_ctl.intercept_misc1 & SVM_INTERCEPT_SHUTDOWN)
		return hw_exit(cpu, SVM_EXIT_SHUTDOWN, 0);
	return hw_unsupported(cpu, "shutdown without the SHUTDOWN intercept");
}

static bool intr_pending(const struct hw_cpu *cpu, uint8_t *vector)
{
	if (cpu->ev.timer) {
		*vector = HW_DEADLINE_VECTOR;
		return true;
	}
	*vector = cpu->ev.intr_vector;
	return cpu->ev.intr;
}

static int deliver(struct hw_cpu *cpu, uint8_t vector, uint8_t type)
{
	cpu->ev.halted = false;
	struct emu_event ev = { .vector = vector, .type = type };
	int r = hw_deliver(cpu, ev, 0);
	return r == EMU_CONTINUE ? HW_EVENT_TAKEN : r;
}

int svm_events(struct hw_cpu *cpu, bool *blocked)
{
	struct vmcb_control *c = &cpu->svm_ctl;
	const unsigned shadow = hw_shadow(cpu);
	const bool if_open = (cpu->emu.cpu.rflags & EMU_FLAG_IF) && !shadow;
	uint8_t vector;

	*blocked = false;
	if (cpu->ev.init_pending) {
		if (c->intercept_misc1 & SVM_INTERCEPT_INIT) {
			cpu->ev.init_pending = false;
			return hw_exit(cpu, SVM_EXIT_INIT, 0);
		}
		return hw_unsupported(cpu, "INIT in a guest without the INIT intercept");
	}
	if (cpu->ev.nmi_pending) {
		if (c->intercept_misc1 & SVM_INTERCEPT_NMI)
			return hw_exit(cpu, SVM_EXIT_NMI, 0);
		if (!cpu->ev.nmi_blocked && !shadow) {
			cpu->ev.nmi_pending = false;
			return deliver(cpu, EMU_EXC_NMI, EMU_EVENT_TYPE_NMI);
		}
		*blocked = true;
	}
	if (intr_pending(cpu, &vector)) {
		const bool masking = c->v_intr_masking & SVM_V_INTR_MASKING;
		if (c->intercept_misc1 & SVM_INTERCEPT_INTR) {
			if (masking || if_open)
				return hw_exit(cpu, SVM_EXIT_INTR, 0);
		} else if (if_open) {
			hw_intr_ack(cpu);
			return deliver(cpu, vector, EMU_EVENT_TYPE_EXT_INT);
		}
		*blocked = true;
	}
	if (c->v_irq & SVM_V_IRQ) {
		const unsigned prio = c->v_intr_prio & SVM_V_INTR_PRIO_MASK;
		const bool tpr_ok = (c->v_intr_prio & SVM_V_IGN_TPR) ||
				    prio > (cpu->cr8 & SVM_V_TPR_MASK);	/* live V_TPR (15.21.2) */
		if (if_open && tpr_ok) {
			if (c->intercept_misc1 & SVM_INTERCEPT_VINTR)
				return hw_exit(cpu, SVM_EXIT_VINTR, 0);
			c->v_irq &= (uint8_t)~SVM_V_IRQ;
			return deliver(cpu, c->v_intr_vector, EMU_EVENT_TYPE_EXT_INT);
		}
		*blocked = true;
	}
	return EMU_CONTINUE;
}
