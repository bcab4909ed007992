/*
 * svm_event.c — events into the guest: EVENTINJ (APM Vol. 2 15.20), the
 * interrupt shadow, virtual-interrupt windows (15.21) and the NMI window
 * SVM does not have.
 *
 * EVENTINJ types (15.20): 0 INTR, 2 NMI, 3 exception, 4 software
 * interrupt. Core's event types map as:
 *
 *   HV_EVENT_EXTINT        type 0
 *   HV_EVENT_NMI           type 2 (vector 2)
 *   HV_EVENT_EXCEPTION     type 3, error code when it has one
 *   HV_EVENT_SOFTINT       type 4, NextRIP = RIP + length: with NRIP save
 *                          the processor pushes NextRIP (15.7.1, 15.20)
 *   HV_EVENT_SOFTEXC       type 3 (#BP, #OF), NextRIP likewise: the APM
 *                          has no separate type, the return address comes
 *                          from NextRIP as for INTn
 *   HV_EVENT_PRIV_SOFTEXC  type 3 vector 1 with RIP moved past the ICEBP
 *                          first (a #DB fault would push RIP unchanged);
 *                          a fault while delivering it then points after
 *                          the ICEBP, a small difference from silicon
 *
 * Interrupt window (15.21.4): V_IRQ with V_IGN_TPR makes the processor
 * take a virtual interrupt as soon as the guest's RFLAGS.IF and interrupt
 * shadow allow, and the VINTR intercept turns that moment into an exit
 * (HVX_IRQ_WINDOW) instead of a delivery, as KVM does. The window is
 * one-shot: the exit clears V_IRQ and the intercept (svm_exit.c).
 *
 * NMI window. SVM reports neither NMI blocking nor its end, so the
 * backend tracks blocking itself (KVM's HF_NMI_MASK): an injected NMI
 * blocks NMIs until the guest's IRET, which the IRET intercept catches.
 * That exit (HVX_NMI_WINDOW) comes before the IRET has run, and an NMI
 * injected there would run nested inside the first handler's epilogue —
 * on an IST stack it overwrites the frame the IRET is about to pop, and
 * the guest loops (found by tests/guests/smp_ipi). So blocking ends only
 * once the IRET has retired: the intercept goes off, the host timer is
 * set one instruction ahead (svm_set_deadline; KVM single-steps the IRET
 * with RFLAGS.TF instead), and the next exit, whatever it is, ends the
 * blocking (svm_exit.c end_nmi_blocking).
 */
#include "backends/svm/svm.h"

static bool event_pending(const struct svm_vcpu *svm)
{
	return svm->vmcb->control.eventinj & SVM_EVTINJ_V;
}

static bool in_shadow(const struct svm_vcpu *svm)
{
	return svm->vmcb->control.int_state & SVM_INTERRUPT_SHADOW;
}

void svm_inject_event(struct hv_vcpu *vcpu, const struct hv_event *ev)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control *c = &svm->vmcb->control;
	struct vmcb_save *s = &svm->vmcb->save;
	uint64_t inj = ev->vector | SVM_EVTINJ_V;

	switch (ev->type) {
	case HV_EVENT_EXTINT:
		inj |= SVM_EVTINJ_TYPE_INTR;
		break;
	case HV_EVENT_NMI:
		inj = 2 | SVM_EVTINJ_TYPE_NMI | SVM_EVTINJ_V;
		svm->nmi_masked = true;
		c->intercept_misc1 |= SVM_INTERCEPT_IRET;
		break;
	case HV_EVENT_SOFTINT:
		inj |= SVM_EVTINJ_TYPE_SOFT;
		c->next_rip = s->rip + ev->insn_len;
		break;
	case HV_EVENT_SOFTEXC:
		inj |= SVM_EVTINJ_TYPE_EXC;
		c->next_rip = s->rip + ev->insn_len;
		break;
	case HV_EVENT_PRIV_SOFTEXC:
		inj |= SVM_EVTINJ_TYPE_EXC;
		s->rip += ev->insn_len;
		break;
	default:	/* HV_EVENT_EXCEPTION */
		inj |= SVM_EVTINJ_TYPE_EXC;
		break;
	}
	if (ev->has_error_code && ev->type == HV_EVENT_EXCEPTION)
		inj |= SVM_EVTINJ_EV | ((uint64_t)ev->error_code << SVM_EVTINJ_ERR_SHIFT);
	c->eventinj = inj;
}

/* GIF needs no test: it is 1 whenever the guest runs (VMRUN sets it). */
bool svm_interrupt_allowed(struct hv_vcpu *vcpu)
{
	const struct svm_vcpu *svm = to_svm(vcpu);
	return (svm->vmcb->save.rflags & SVM_RFLAGS_IF) && !in_shadow(svm) &&
	       !event_pending(svm);
}

bool svm_nmi_allowed(struct hv_vcpu *vcpu)
{
	const struct svm_vcpu *svm = to_svm(vcpu);
	return !svm->nmi_masked && !in_shadow(svm) && !event_pending(svm);
}

void svm_set_irq_window(struct hv_vcpu *vcpu, bool on)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	if (on) {
		c->v_irq |= SVM_V_IRQ;
		c->v_intr_prio = SVM_V_IGN_TPR | SVM_V_INTR_PRIO_MASK;
		c->v_intr_vector = 0;
		c->intercept_misc1 |= SVM_INTERCEPT_VINTR;
	} else {
		c->v_irq &= (uint8_t)~SVM_V_IRQ;
		c->v_intr_prio = 0;
		c->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
	}
}

/*
 * While an injected NMI blocks NMIs the IRET intercept is already on (it
 * went on with the NMI) and its exit is the window. Otherwise NMIs are
 * blocked only by an interrupt shadow or an event already in EVENTINJ,
 * both gone after the next instruction or entry: the next exit of any
 * kind lets core inject (SVM has nothing to exit on sooner without
 * single-stepping the guest, which this backend does not do). Turning the window off leaves the
 * IRET intercept alone, since it also tracks the blocking.
 */
void svm_set_nmi_window(struct hv_vcpu *vcpu, bool on)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	if (on && svm->nmi_masked && !svm->iret_stepping)
		svm->vmcb->control.intercept_misc1 |= SVM_INTERCEPT_IRET;
}

bool svm_get_interrupt_shadow(struct hv_vcpu *vcpu)
{
	return in_shadow(to_svm(vcpu));
}

void svm_set_interrupt_shadow(struct hv_vcpu *vcpu, bool on)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	if (on)
		c->int_state |= SVM_INTERRUPT_SHADOW;
	else
		c->int_state &= ~SVM_INTERRUPT_SHADOW;
}

void svm_set_exception_intercepts(struct hv_vcpu *vcpu, uint32_t bitmap)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	svm->exc_extra = bitmap;
	svm_update_exception_intercepts(svm);
}

/*
 * NextRIP (15.7.1) is what the processor computed for the intercepted
 * instruction; exits that are not instruction intercepts leave it 0, and
 * then the decoded length (0 too) says there is nothing to skip.
 */
void svm_skip_instruction(struct hv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *v = svm->vmcb;
	if (v->control.next_rip)
		v->save.rip = v->control.next_rip;
	else
		v->save.rip += vcpu->exit.insn_len;
	v->control.int_state &= ~SVM_INTERRUPT_SHADOW;
}
