/*
 * event.c — see event.h. Priorities before an entry (SDM Vol. 3A 6.9,
 * as KVM orders them): the event an exit interrupted first (it was
 * already being delivered), then a queued exception, then an NMI, then
 * a maskable interrupt. Whatever cannot be delivered now opens a window
 * (interrupt-window exiting / VINTR, NMI-window exiting) so the guest
 * exits the moment it can take it.
 *
 * Exception classes (Table 6-4) and what a second exception during the
 * first's delivery becomes (Table 6-5):
 *
 *   first \ second    benign     contributory   page fault
 *   benign            serial     serial         serial
 *   contributory      serial     #DF            serial
 *   page fault        serial     #DF            #DF
 *   double fault      serial     triple         triple
 */
#include <string.h>

#include "core/debug.h"
#include "core/event.h"
#include "core/irq/irq.h"
#include "core/vm.h"

#define EXC_DF 8

enum exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT };

static enum exc_class exc_class(uint8_t v)
{
	switch (v) {
	case 0: case 10: case 11: case 12: case 13:
		return EXC_CONTRIBUTORY;
	case 14:
		return EXC_PAGE_FAULT;
	default:
		return EXC_BENIGN;
	}
}


bool vcpu_triple_fault(struct hv_vcpu *vcpu)
{
	return vcpu->exc_pending && vcpu->exc.type == HV_EVENT_EXCEPTION &&
	       vcpu->exc.vector == 0xff;
}

static void queue(struct hv_vcpu *vcpu, uint8_t vector, bool has_error_code,
		  uint32_t error_code, uint64_t cr2)
{
	if (vcpu->exc_pending && vcpu->exc.type == HV_EVENT_EXCEPTION) {
		const uint8_t first = vcpu->exc.vector;
		const enum exc_class a = exc_class(first), b = exc_class(vector);
		if (first == EXC_DF && b != EXC_BENIGN) {
			/* Triple fault: a marker the run loop turns into SHUTDOWN. */
			vcpu->exc.vector = 0xff;
			return;
		}
		if ((a == EXC_CONTRIBUTORY && b == EXC_CONTRIBUTORY) ||
		    (a == EXC_PAGE_FAULT && b != EXC_BENIGN)) {
			vcpu->exc = (struct hv_event){ .type = HV_EVENT_EXCEPTION, .vector = EXC_DF,
						       .has_error_code = true, .error_code = 0 };
			return;
		}
	}
	vcpu->exc_pending = true;
	vcpu->exc = (struct hv_event){ .type = HV_EVENT_EXCEPTION, .vector = vector,
				       .has_error_code = has_error_code,
				       .error_code = error_code };
	vcpu->exc_cr2 = cr2;
	vcpu->vm->stats.exception_injections++;
}

void vcpu_queue_exception(struct hv_vcpu *vcpu, uint8_t vector, bool has_error_code,
			  uint32_t error_code)
{
	queue(vcpu, vector, has_error_code, error_code, 0);
}

void vcpu_queue_pf(struct hv_vcpu *vcpu, uint64_t cr2, uint32_t error_code)
{
	queue(vcpu, 14, true, error_code, cr2);
}

void vcpu_queue_soft(struct hv_vcpu *vcpu, uint8_t type, uint8_t vector, uint8_t len)
{
	vcpu->exc_pending = true;
	vcpu->exc = (struct hv_event){ .type = type, .vector = vector, .insn_len = len };
	vcpu->exc_cr2 = 0;
}

void vcpu_queue_reinject(struct hv_vcpu *vcpu, const struct hv_exit *exit)
{
	const struct hv_event ev = {
		.type = exit->idt_type, .vector = exit->idt_vector,
		.has_error_code = exit->idt_has_error_code,
		.error_code = exit->idt_error_code, .insn_len = exit->insn_len,
	};
	/* A software event with no reported length (SVM without the
	 * instruction's nRIP): RIP is still at INT n / INT3 / INTO, which
	 * runs again and raises it anew, as KVM lets it. */
	if ((ev.type == HV_EVENT_SOFTINT || ev.type == HV_EVENT_SOFTEXC ||
	     ev.type == HV_EVENT_PRIV_SOFTEXC) && !ev.insn_len)
		return;
	vcpu->vm->stats.reinjections++;
	vcpu->reinject_pending = true;
	vcpu->reinject = ev;
}

/* The next maskable interrupt's vector: hv_interrupt()'s, or core/irq's. */
static int next_irq(struct hv_vcpu *vcpu, bool *from_irqchip)
{
	*from_irqchip = false;
	if (vcpu->user_irq >= 0)
		return vcpu->user_irq;
	int v = irq_pending(vcpu);
	*from_irqchip = v >= 0;
	return v;
}

bool vcpu_has_interrupt(struct hv_vcpu *vcpu)
{
	bool from;
	if (irq_take_nmi(vcpu))		/* an NMI IPI wakes a halted vcpu */
		vcpu->nmi_pending = true;
	if (vcpu->nmi_pending)
		return true;
	return next_irq(vcpu, &from) >= 0 && vcpu->vm->backend->interrupt_allowed(vcpu);
}

/* An interrupted event, else a queued exception: true if one went in. */
static bool inject_queued(struct hv_vcpu *vcpu)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	if (vcpu->reinject_pending) {
		be->inject_event(vcpu, &vcpu->reinject);
		vcpu->reinject_pending = false;
		return true;
	}
	if (vcpu->exc_pending) {
		if (vcpu->exc.type == HV_EVENT_EXCEPTION && vcpu->exc.vector == 14)
			be->set_cr(vcpu, 2, vcpu->exc_cr2);
		be->inject_event(vcpu, &vcpu->exc);
		vcpu->exc_pending = false;
		return true;
	}
	return false;
}

void vcpu_inject_events(struct hv_vcpu *vcpu)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	struct hv_vm_stats *st = &vcpu->vm->stats;
	bool from;

	if (irq_take_nmi(vcpu))
		vcpu->nmi_pending = true;
	bool injected = inject_queued(vcpu);
	/* Single-stepping: only what the instruction itself raised. */
	if (vcpu_debug_blocks_irqs(vcpu))
		return;
	if (vcpu->nmi_pending) {
		if (!injected && be->nmi_allowed(vcpu)) {
			be->inject_event(vcpu, &(struct hv_event){ .type = HV_EVENT_NMI,
								   .vector = 2 });
			vcpu->nmi_pending = false;
			st->nmi_injections++;
			injected = true;
		} else {
			be->set_nmi_window(vcpu, true);
		}
	}
	const int v = next_irq(vcpu, &from);
	if (v < 0)
		return;
	if (!injected && be->interrupt_allowed(vcpu)) {
		if (from)
			irq_ack(vcpu, v);
		else
			vcpu->user_irq = -1;
		be->inject_event(vcpu, &(struct hv_event){ .type = HV_EVENT_EXTINT,
							   .vector = (uint8_t)v });
		st->irq_injections++;
	} else {
		be->set_irq_window(vcpu, true);
	}
}
