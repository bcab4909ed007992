/*
 * invalid_state.c — see invalid_state.h. KVM's "emulate invalid guest
 * state", hvlab's way.
 *
 * Without unrestricted guest (VMX under a shadow MMU: no EPT) VM entry
 * takes only protected-mode states: CR0.PE = 1 (SDM Vol. 3C 27.3.1.1)
 * and segment registers that pass 27.3.1.2 (26.3.1.x in editions before
 * 2023). Real mode fails the first; the instructions right after MOV CR0
 * sets PE, while CS, SS, DS ... still hold real-mode selectors and
 * access rights, fail the second. The backend's state_runnable op says
 * which states those are (backends/vmx/vmx_invalid.c); while it says
 * no, the run loop (core/run.c) calls vcpu_run_invalid_state() instead
 * of entering, once per instruction, so its guards (hv_run_interrupt,
 * triple fault, max_insns, deadline_ns, timers, HLT) apply between
 * instructions exactly as between exits.
 *
 * One step does what the processor would at the instruction boundary:
 *
 *   1. an event is pending and the guest can take it: deliver it
 *      through the IVT (real mode, SDM Vol. 3A 20.1.4: FLAGS, CS, IP
 *      pushed, IF/TF/AC cleared, CS:IP from the 4-byte entry) or the
 *      IDT (protected mode), in core/event.c's order — an event an exit
 *      interrupted, a queued exception (or INT n / INT3 / INTO, which
 *      the emulated instruction queued as a software event), an NMI, a
 *      maskable interrupt (RFLAGS.IF = 1 and no STI/MOV SS shadow);
 *   2. otherwise emulate the instruction at RIP with core/emulate.c's
 *      vcpu_emulate(), whose result is handled exactly as an emulated
 *      instruction exit's: port I/O and MMIO go out to the VMM and
 *      complete on the next hv_run, CR/MSR writes have their side
 *      effects (a MOV CR0 that sets PE ends real mode), faults are
 *      queued for step 1.
 *
 * The STI / MOV SS shadow (SDM Vol. 3A 6.8.3) lasts one instruction:
 * it is dropped before the next one is emulated, which may set it anew.
 * HLT halts the vcpu as core/exit.c's handle_hlt does (with IF = 0 and
 * no NMI coming, HV_EXIT_HLT to the VMM).
 *
 * Time: the processor is not running, so its cycles stand still; each
 * emulated instruction moves virtual time on by the cost model's CPI
 * (core/clock.c's skipped time and the guest's TSC offset, as HLT
 * does), so the guest's timers still fire and RDTSC still advances.
 * Emulated instructions count as the vcpu's (hv_run.insns, max_insns).
 *
 * Not modelled while emulating: NMI blocking until IRET (an NMI the
 * emulator delivers does not block the next one), hv_debug_guest's
 * single-step and breakpoints, and task switches (an internal error, as
 * for any emulated instruction).
 */
#include "core/emulate.h"
#include "core/exit.h"
#include "core/invalid_state.h"
#include "core/irq/irq.h"
#include "core/vm.h"

#define RFLAGS_IF (1ull << 9)
#define NMI_VECTOR 2

bool vcpu_state_runnable(struct hv_vcpu *vcpu)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	return !be->state_runnable || be->state_runnable(vcpu);
}

/*
 * The event to deliver before the next instruction, taken out of its
 * queue, in core/event.c's priority order; false when there is none the
 * guest can take now.
 */
static bool take_event(struct hv_vcpu *vcpu, struct hv_event *ev, uint64_t *cr2)
{
	struct hv_vm *vm = vcpu->vm;
	const struct hv_backend_ops *be = vm->backend;

	if (vcpu->reinject_pending) {
		*ev = vcpu->reinject;
		vcpu->reinject_pending = false;
		return true;
	}
	if (vcpu->exc_pending) {
		*ev = vcpu->exc;
		*cr2 = vcpu->exc_cr2;
		vcpu->exc_pending = false;
		return true;
	}
	if (irq_take_nmi(vcpu))
		vcpu->nmi_pending = true;
	if (vcpu->nmi_pending && be->nmi_allowed(vcpu)) {
		vcpu->nmi_pending = false;
		vm->stats.nmi_injections++;
		*ev = (struct hv_event){ .type = HV_EVENT_NMI, .vector = NMI_VECTOR };
		return true;
	}
	if (!be->interrupt_allowed(vcpu))
		return false;
	int v = vcpu->user_irq;
	if (v >= 0) {
		vcpu->user_irq = -1;
	} else {
		v = irq_pending(vcpu);
		if (v < 0)
			return false;
		irq_ack(vcpu, v);
	}
	vm->stats.irq_injections++;
	*ev = (struct hv_event){ .type = HV_EVENT_EXTINT, .vector = (uint8_t)v };
	return true;
}

/* Move virtual time on by the CPI of the instructions emulated since
 * @before (the emulator's count), rounding as the cost model does. */
static void charge(struct hv_vcpu *vcpu, uint64_t before)
{
	struct hv_vm *vm = vcpu->vm;
	const uint64_t cpi = vm->cfg.prices.cpi_milli ? vm->cfg.prices.cpi_milli
						      : CONFIG_HW_PRICE_CPI_MILLI;
	const uint64_t after = vcpu_emulated_insns(vcpu);
	const uint64_t d = after * cpi / 1000 - before * cpi / 1000;
	if (d) {
		vcpu->idle_cycles += d;
		vcpu_adjust_tsc(vcpu, d);
	}
}

int vcpu_run_invalid_state(struct hv_vcpu *vcpu)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	struct hv_event ev;
	uint64_t cr2 = 0;

	if (take_event(vcpu, &ev, &cr2))
		return vcpu_emulate_event(vcpu, &ev, cr2);

	if (be->get_interrupt_shadow(vcpu))
		be->set_interrupt_shadow(vcpu, false);
	const uint64_t before = vcpu_emulated_insns(vcpu);
	const int r = vcpu_emulate(vcpu);
	charge(vcpu, before);
	if (r == EXIT_RESUME && vcpu->halted && !vcpu->sched &&
	    !(be->get_rflags(vcpu) & RFLAGS_IF) && !vcpu->nmi_pending) {
		vcpu->halted = false;
		vcpu->run->exit_reason = HV_EXIT_HLT;
		return EXIT_TO_VMM;
	}
	return r;
}
