/*
 * svm_exit.c — #VMEXIT decoding: EXITCODE (APM Vol. 2 Appendix C),
 * EXITINFO1/2 (15.7-15.14, 15.25.6) and EXITINTINFO (15.7.2) of the last
 * VMRUN, turned into core's vendor-neutral struct hv_exit.
 *
 * Instruction length: with NRIP save (CPUID 8000_000A EDX[3], offered)
 * the processor writes NextRIP for instruction intercepts and leaves it 0
 * otherwise (15.7.1), so insn_len = NextRIP - RIP. An exit while the
 * processor delivered INTn or INT3/INTO has NextRIP too: then it is the
 * length of that instruction, which re-injection needs.
 *
 * Decode assists (15.34 "Decode Assists": the GPR of MOV CR/DR in
 * EXITINFO1, INVLPG's address) are used when CPUID 8000_000A EDX[7]
 * offers them. The model does not: those exits (only with HV_MMU_SHADOW
 * or DR intercepts) report gpr 0xff and gva 0, and core must decode the
 * instruction itself.
 *
 * Two exits are one-shot windows (svm_event.c): VINTR clears V_IRQ and
 * its intercept, IRET ends the software NMI blocking and its intercept.
 */
#include <stdio.h>

#include "backends/svm/svm.h"
#include "emulate/emulate.h"

#define NPF_P (1ull << 0)
#define NPF_IN_WALK (1ull << 33)
#define DECODE_MOV_CR (1ull << 63)	/* CR-access EXITINFO1, 15.34.1 */
#define TS_IRET (1ull << 36)		/* task-switch EXITINFO2, 15.14.3 */
#define TS_JMP (1ull << 38)
/*
 * #DB intercept: unlike VMX there is no exit qualification; the
 * processor has updated DR6 for the #DB before it takes the intercept,
 * so the VMCB's DR6 carries the event's B0-B3, BD, BS, BT (SDM Vol. 3B
 * 18.2.3 layout) — KVM takes its #DB payload from there too. DR6 bits
 * are sticky: status bits the guest left set from an earlier #DB are
 * reported again.
 */
#define DR6_STATUS 0xe00full

/* Exceptions that push an error code (SDM Vol. 3A Table 6-1). */
static bool exc_has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 ||
	       vector == 21 || vector == 29 || vector == 30;
}

static void decode_intinfo(const struct vmcb_control *c, struct hv_exit *x)
{
	const uint64_t ii = c->exitintinfo;
	if (!(ii & SVM_EVTINJ_V))
		return;
	x->idt_valid = true;
	x->idt_vector = ii & SVM_EVTINJ_VEC_MASK;
	x->idt_has_error_code = ii & SVM_EVTINJ_EV;
	x->idt_error_code = (uint32_t)(ii >> SVM_EVTINJ_ERR_SHIFT);
	switch (ii & SVM_EVTINJ_TYPE_MASK) {
	case SVM_EVTINJ_TYPE_INTR:
		x->idt_type = HV_EVENT_EXTINT;
		break;
	case SVM_EVTINJ_TYPE_NMI:
		x->idt_type = HV_EVENT_NMI;
		break;
	case SVM_EVTINJ_TYPE_SOFT:
		x->idt_type = HV_EVENT_SOFTINT;
		break;
	default:
		/* Type 3 covers INT3/INTO/INT1 too. #BP and #OF come only from
		 * INT3 and INTO, so vectors 3 and 4 are software events even
		 * when NextRIP was not written (an exception intercept during
		 * their delivery: core then lets the instruction run again);
		 * for vector 1, NextRIP tells INT1 from a debug exception. */
		x->idt_type = HV_EVENT_EXCEPTION;
		if (x->idt_vector == 3 || x->idt_vector == 4)
			x->idt_type = HV_EVENT_SOFTEXC;
		else if (c->next_rip && x->idt_vector == 1)
			x->idt_type = HV_EVENT_PRIV_SOFTEXC;
		break;
	}
}

/* The MOV CR/DR register, when decode assists give it. */
static uint8_t decoded_gpr(const struct svm_vcpu *svm, uint64_t info1)
{
	return svm->decode_assists ? (uint8_t)(info1 & 0xf) : 0xff;
}

static void decode_io(uint64_t info1, struct hv_exit *x)
{
	x->reason = HVX_IO;
	x->io.port = (uint16_t)((info1 & SVM_IOIO_PORT_MASK) >> SVM_IOIO_PORT_SHIFT);
	x->io.size = (info1 & SVM_IOIO_SZ32) ? 4 : (info1 & SVM_IOIO_SZ16) ? 2 : 1;
	x->io.in = info1 & SVM_IOIO_TYPE_IN;
	x->io.string = info1 & SVM_IOIO_STR;
	x->io.rep = info1 & SVM_IOIO_REP;
}

static void decode_npf(uint64_t info1, uint64_t info2, struct hv_exit *x)
{
	x->reason = HVX_TDP_FAULT;
	x->tdp.gpa = info2;
	x->tdp.access = (uint32_t)info1 & (HV_ACC_WRITE | HV_ACC_USER | HV_ACC_FETCH);
	x->tdp.present = info1 & NPF_P;
	x->tdp.in_walk = info1 & NPF_IN_WALK;
	x->tdp.gva_valid = false;	/* NPF reports no guest-linear address */
}

static void decode_exception(const struct vmcb *v, unsigned vector, struct hv_exit *x)
{
	x->reason = HVX_EXCEPTION;
	x->exc.vector = (uint8_t)vector;
	x->exc.has_error_code = exc_has_error_code(vector);
	x->exc.error_code = x->exc.has_error_code ? (uint32_t)v->control.exitinfo1 : 0;
	if (vector == 14)
		x->exc.cr2 = v->control.exitinfo2;	/* 15.12.1 */
	if (vector == 1)
		x->exc.dr6 = v->save.dr6 & DR6_STATUS;
}

static void decode_task_switch(const struct vmcb_control *c, struct hv_exit *x)
{
	x->reason = HVX_TASK_SWITCH;
	x->task.sel = (uint16_t)c->exitinfo1;
	if (c->exitinfo2 & TS_IRET)
		x->task.source = EMU_TS_IRET;
	else if (c->exitinfo2 & TS_JMP)
		x->task.source = EMU_TS_JMP;
	else if (c->exitintinfo & SVM_EVTINJ_V)
		x->task.source = EMU_TS_GATE;	/* an event through a task gate */
	else
		x->task.source = EMU_TS_CALL;
}

/* Instruction intercepts that need no operands: EXITCODE -> reason. */
static enum hvx_reason simple_reason(uint64_t code)
{
	switch (code) {
	case SVM_EXIT_INTR: return HVX_EXTINT;
	case SVM_EXIT_NMI: return HVX_NMI;
	case SVM_EXIT_INIT: return HVX_INIT;
	case SVM_EXIT_VINTR: return HVX_IRQ_WINDOW;
	case SVM_EXIT_IRET: return HVX_NMI_WINDOW;
	case SVM_EXIT_SHUTDOWN: return HVX_TRIPLE_FAULT;
	case SVM_EXIT_CPUID: return HVX_CPUID;
	case SVM_EXIT_HLT: return HVX_HLT;
	case SVM_EXIT_INVD: return HVX_INVD;
	case SVM_EXIT_WBINVD: return HVX_WBINVD;
	case SVM_EXIT_INVPCID: return HVX_INVPCID;
	case SVM_EXIT_RDPMC: return HVX_RDPMC;
	case SVM_EXIT_RDTSC: return HVX_RDTSC;
	case SVM_EXIT_RDTSCP: return HVX_RDTSCP;
	case SVM_EXIT_MONITOR: return HVX_MONITOR;
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND: return HVX_MWAIT;
	case SVM_EXIT_PAUSE: return HVX_PAUSE;
	case SVM_EXIT_XSETBV: return HVX_XSETBV;
	case SVM_EXIT_VMMCALL: return HVX_HYPERCALL;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA: return HVX_VIRT_INSN;
	default: return HVX_UNKNOWN;
	}
}

static void end_windows(struct svm_vcpu *svm, uint64_t code)
{
	struct vmcb_control *c = &svm->vmcb->control;
	if (code == SVM_EXIT_VINTR) {
		c->v_irq &= (uint8_t)~SVM_V_IRQ;
		c->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
	} else if (code == SVM_EXIT_IRET) {
		/* The IRET has not run yet: NMIs stay blocked until it has
		 * retired (svm_event.c). */
		svm->iret_stepping = true;
		svm->iret_insns = hw_cpu_counters(svm->cpu)->insns;
		c->intercept_misc1 &= ~SVM_INTERCEPT_IRET;
	}
}

/* Any exit after the intercepted IRET retired ends the NMI blocking. */
static void end_nmi_blocking(struct svm_vcpu *svm)
{
	if (svm->iret_stepping && hw_cpu_counters(svm->cpu)->insns > svm->iret_insns) {
		svm->iret_stepping = false;
		svm->nmi_masked = false;
	}
}

void svm_decode_exit(struct hv_vcpu *vcpu, struct hv_exit *x)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	const struct vmcb *v = svm->vmcb;
	const struct vmcb_control *c = &v->control;
	const uint64_t code = c->exitcode, info1 = c->exitinfo1;
	static __thread char why[96];

	*x = (struct hv_exit){ .raw = code };
	end_nmi_blocking(svm);
	if (svm->last_status == SVM_MODEL_UNSUPPORTED) {
		x->reason = HVX_UNSUPPORTED;
		x->why = svm->unsupported ? svm->unsupported : "unsupported guest operation";
		return;
	}
	if (c->next_rip > v->save.rip && c->next_rip - v->save.rip <= 15)
		x->insn_len = (uint8_t)(c->next_rip - v->save.rip);
	decode_intinfo(c, x);

	if (code == SVM_EXIT_INVALID) {
		x->reason = HVX_FAIL_ENTRY;
		x->fail.code = code;
	} else if (code <= SVM_EXIT_WRITE_CR0 + 15) {
		x->reason = HVX_CR_ACCESS;
		x->cr.cr = code & 15;
		x->cr.type = code >= SVM_EXIT_WRITE_CR0 ? HV_CR_MOV_TO : HV_CR_MOV_FROM;
		x->cr.gpr = decoded_gpr(svm, info1);
		if (svm->decode_assists && code == SVM_EXIT_WRITE_CR0 && !(info1 & DECODE_MOV_CR))
			x->cr.type = HV_CR_LMSW;	/* LMSW or CLTS: core decodes which */
	} else if (code == SVM_EXIT_CR0_SEL_WRITE) {
		x->reason = HVX_CR_ACCESS;
		x->cr.cr = 0;
		x->cr.type = HV_CR_MOV_TO;
		x->cr.gpr = decoded_gpr(svm, info1);
	} else if (code >= SVM_EXIT_READ_DR0 && code <= SVM_EXIT_WRITE_DR0 + 15) {
		x->reason = HVX_DR_ACCESS;
		x->dr.dr = code & 15;
		x->dr.write = code >= SVM_EXIT_WRITE_DR0;
		x->dr.gpr = decoded_gpr(svm, info1);
	} else if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
		decode_exception(v, (unsigned)(code - SVM_EXIT_EXCP_BASE), x);
	} else if (code == SVM_EXIT_IOIO) {
		decode_io(info1, x);
	} else if (code == SVM_EXIT_MSR) {
		x->reason = (info1 & SVM_EXITINFO1_MSR_WRITE) ? HVX_MSR_WRITE : HVX_MSR_READ;
	} else if (code == SVM_EXIT_NPF) {
		decode_npf(info1, c->exitinfo2, x);
	} else if (code == SVM_EXIT_INVLPG) {
		x->reason = HVX_INVLPG;
		x->invlpg.gva = svm->decode_assists ? info1 : 0;
		x->invlpg.gva_valid = svm->decode_assists;
	} else if (code == SVM_EXIT_TASK_SWITCH) {
		decode_task_switch(c, x);
	} else {
		x->reason = simple_reason(code);
	}
	if (x->reason == HVX_UNKNOWN) {
		snprintf(why, sizeof(why), "unexpected #VMEXIT %s (%#llx)", svm_exit_name(code),
			 (unsigned long long)code);
		x->why = why;
	}
	end_windows(svm, code);
}
