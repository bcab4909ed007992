/*
 * svm_icpt.c — which guest operations #VMEXIT under SVM (APM Vol. 2
 * 15.7-15.14), read from the intercept vectors of the running guest's
 * VMCB (cpu->svm_ctl, copied at VMRUN: the APM lets the processor cache
 * the VMCB while the guest runs, and a hypervisor may not change it).
 *
 * Instruction intercepts are checked after the instruction's own
 * privilege and #UD checks (the engine calls these ops after them) and
 * before anything else it does, so no state has changed when the exit is
 * recorded. nRIP (15.7.1) is saved for instruction intercepts: the exit
 * records the instruction length and svm_exit.c turns it into next_rip.
 */
#include "hw/intercept.h"
#include "hw/svm_internal.h"

/* Record an intercepted instruction's exit (nRIP = next instruction). */
static int insn_exit(struct hw_cpu *cpu, uint64_t code, uint64_t info1, uint64_t info2)
{
	hw_exit(cpu, code, info1);
	cpu->exit.info2 = info2;
	cpu->exit.insn_len = cpu->emu.insn->len;
	return EMU_STOP;
}

int svm_icpt_insn(struct hw_cpu *cpu, enum hw_icpt_insn what)
{
	const struct vmcb_control *c = &cpu->svm_ctl;
	switch (what) {
	case HW_ICPT_CPUID:
		if (c->intercept_misc1 & SVM_INTERCEPT_CPUID)
			return insn_exit(cpu, SVM_EXIT_CPUID, 0, 0);
		break;
	case HW_ICPT_RDTSC:
		if (c->intercept_misc1 & SVM_INTERCEPT_RDTSC)
			return insn_exit(cpu, SVM_EXIT_RDTSC, 0, 0);
		break;
	case HW_ICPT_RDTSCP:
		if (c->intercept_misc2 & SVM_INTERCEPT2_RDTSCP)
			return insn_exit(cpu, SVM_EXIT_RDTSCP, 0, 0);
		break;
	case HW_ICPT_INVPCID:
		if (c->intercept_misc3 & SVM_INTERCEPT3_INVPCID)
			return insn_exit(cpu, SVM_EXIT_INVPCID, 0, 0);
		break;
	case HW_ICPT_INVD:
		if (c->intercept_misc1 & SVM_INTERCEPT_INVD)
			return insn_exit(cpu, SVM_EXIT_INVD, 0, 0);
		break;
	case HW_ICPT_WBINVD:
		if (c->intercept_misc2 & SVM_INTERCEPT2_WBINVD)
			return insn_exit(cpu, SVM_EXIT_WBINVD, 0, 0);
		break;
	case HW_ICPT_HLT:
		if (c->intercept_misc1 & SVM_INTERCEPT_HLT)
			return insn_exit(cpu, SVM_EXIT_HLT, 0, 0);
		break;
	case HW_ICPT_HYPERCALL:
		/* VMMCALL only: Intel's VMCALL is #UD on AMD (APM VMMCALL). */
		if (cpu->emu.insn->op == EMU_OP_VMMCALL &&
		    (c->intercept_misc2 & SVM_INTERCEPT2_VMMCALL))
			return insn_exit(cpu, SVM_EXIT_VMMCALL, 0, 0);
		break;
	case HW_ICPT_PAUSE:
		/* The PAUSE filter is not offered (CPUID 8000_000A EDX[10] = 0):
		 * every intercepted PAUSE exits. */
		if (c->intercept_misc1 & SVM_INTERCEPT_PAUSE)
			return insn_exit(cpu, SVM_EXIT_PAUSE, 0, 0);
		break;
	}
	return EMU_CONTINUE;
}

int svm_icpt_cr_read(struct hw_cpu *cpu, unsigned cr)
{
	if (cpu->svm_ctl.intercept_cr_read & (1u << cr))
		return insn_exit(cpu, SVM_EXIT_READ_CR0 + cr, 0, 0);
	return EMU_CONTINUE;
}

#define CR0_MP (1ull << 1)
#define CR0_TS (1ull << 3)

int svm_icpt_cr_write(struct hw_cpu *cpu, unsigned cr, uint64_t *val)
{
	const struct vmcb_control *c = &cpu->svm_ctl;
	if (c->intercept_cr_write & (1u << cr))
		return insn_exit(cpu, SVM_EXIT_WRITE_CR0 + cr, 0, 0);
	/* Selective CR0 write (15.9.2): MOV CR0 and LMSW changing any bit
	 * but TS and MP; CLTS never does. */
	if (cr == 0 && (c->intercept_misc1 & SVM_INTERCEPT_CR0_SEL_WRITE) &&
	    cpu->emu.insn->op != EMU_OP_CLTS &&
	    ((*val ^ cpu->emu.cpu.cr0) & ~(CR0_MP | CR0_TS)))
		return insn_exit(cpu, SVM_EXIT_CR0_SEL_WRITE, 0, 0);
	return EMU_CONTINUE;
}

int svm_icpt_dr(struct hw_cpu *cpu, unsigned dr, bool write)
{
	const struct vmcb_control *c = &cpu->svm_ctl;
	const uint16_t vec = write ? c->intercept_dr_write : c->intercept_dr_read;
	if (vec & (1u << dr))
		return insn_exit(cpu, (write ? SVM_EXIT_WRITE_DR0 : SVM_EXIT_READ_DR0) + dr, 0, 0);
	return EMU_CONTINUE;
}

int svm_icpt_msr(struct hw_cpu *cpu, uint32_t msr, bool write)
{
	const struct vmcb_control *c = &cpu->svm_ctl;
	if ((c->intercept_misc1 & SVM_INTERCEPT_MSR_PROT) &&
	    svm_msrpm_intercepted(cpu->m, c->msrpm_base_pa, msr, write))
		return insn_exit(cpu, SVM_EXIT_MSR, write ? SVM_EXITINFO1_MSR_WRITE : 0, 0);
	return EMU_CONTINUE;
}

/* EXITINFO1 of an IOIO exit (15.10.2) from the instruction executing. */
static uint64_t ioio_info(const struct emu_insn *insn, uint16_t port, unsigned size, bool in)
{
	uint64_t info = (uint64_t)port << SVM_IOIO_PORT_SHIFT;
	if (in)
		info |= SVM_IOIO_TYPE_IN;
	if (insn->op == EMU_OP_INS || insn->op == EMU_OP_OUTS) {
		info |= SVM_IOIO_STR;
		if (insn->flags & (EMU_I_REP | EMU_I_REPNE))
			info |= SVM_IOIO_REP;
		if (insn->op == EMU_OP_OUTS)
			info |= (uint64_t)insn->seg << SVM_IOIO_SEG_SHIFT;
	}
	info |= size == 1 ? SVM_IOIO_SZ8 : size == 2 ? SVM_IOIO_SZ16 : SVM_IOIO_SZ32;
	info |= insn->adsize == 2 ? SVM_IOIO_A16 : insn->adsize == 4 ? SVM_IOIO_A32
								 : SVM_IOIO_A64;
	return info;
}

int svm_icpt_io(struct hw_cpu *cpu, uint16_t port, unsigned size, bool in)
{
	const struct vmcb_control *c = &cpu->svm_ctl;
	if (!(c->intercept_misc1 & SVM_INTERCEPT_IOIO_PROT) ||
	    !svm_iopm_intercepted(cpu->m, c->iopm_base_pa, port, size))
		return EMU_CONTINUE;
	/* EXITINFO2 is the rIP of the next instruction (15.10.2). */
	return insn_exit(cpu, SVM_EXIT_IOIO, ioio_info(cpu->emu.insn, port, size, in),
			 cpu->emu.next_rip);
}

int svm_icpt_invlpg(struct hw_cpu *cpu, uint64_t la)
{
	if (cpu->svm_ctl.intercept_misc1 & SVM_INTERCEPT_INVLPG)
		return insn_exit(cpu, SVM_EXIT_INVLPG, 0, 0);
	return EMU_CONTINUE;
}
