/*
 * intercept.h — the question every guest operation asks first: does the
 * hypervisor intercept it? One function per kind of operation, each
 * dispatching on the virtualization mode to the VMX answer (hw/vmx_icpt.c,
 * SDM Vol. 3C 26.1) or the SVM answer (hw/svm_icpt.c, APM Vol. 2 15.7-
 * 15.14). Each returns EMU_CONTINUE (not intercepted: carry on), EMU_STOP
 * (the exit is recorded in cpu->exit), or EMU_EXCEPTION (the guest
 * operation faults instead, e.g. a VMX CR0 write that breaks a fixed bit).
 */
#ifndef HVLAB_HW_INTERCEPT_H
#define HVLAB_HW_INTERCEPT_H

#include "hw/exec.h"

#define TRY_ICPT(expr) do {				\
		int icpt_r_ = (expr);			\
		if (icpt_r_ != EMU_CONTINUE)		\
			return icpt_r_;			\
	} while (0)

/* Instructions whose interception depends only on a control bit. */
enum hw_icpt_insn {
	HW_ICPT_CPUID,
	HW_ICPT_RDTSC,
	HW_ICPT_RDTSCP,
	HW_ICPT_INVPCID,
	HW_ICPT_INVD,
	HW_ICPT_WBINVD,
	HW_ICPT_HLT,
	HW_ICPT_HYPERCALL,	/* VMCALL / VMMCALL */
	HW_ICPT_PAUSE,
};

int vmx_icpt_insn(struct hw_cpu *cpu, enum hw_icpt_insn what);
int vmx_icpt_cr_read(struct hw_cpu *cpu, unsigned cr);
int vmx_icpt_cr_write(struct hw_cpu *cpu, unsigned cr, uint64_t *val);
uint64_t vmx_icpt_cr_shadowed(const struct hw_cpu *cpu, unsigned cr, uint64_t val);
int vmx_icpt_dr(struct hw_cpu *cpu, unsigned dr, bool write);
int vmx_icpt_msr(struct hw_cpu *cpu, uint32_t msr, bool write);
int vmx_icpt_io(struct hw_cpu *cpu, uint16_t port, unsigned size, bool in);
int vmx_icpt_invlpg(struct hw_cpu *cpu, uint64_t la);
/* VM-exit instruction information of a VMX-instruction-format exit
 * (SDM 28.2.5, Tables 28-13..28-15). */
uint32_t vmx_insn_info(const struct emu_insn *insn);
uint64_t vmx_insn_disp_qual(const struct hw_cpu *cpu, const struct emu_insn *insn);

int svm_icpt_insn(struct hw_cpu *cpu, enum hw_icpt_insn what);
int svm_icpt_cr_read(struct hw_cpu *cpu, unsigned cr);
int svm_icpt_cr_write(struct hw_cpu *cpu, unsigned cr, uint64_t *val);
int svm_icpt_dr(struct hw_cpu *cpu, unsigned dr, bool write);
int svm_icpt_msr(struct hw_cpu *cpu, uint32_t msr, bool write);
int svm_icpt_io(struct hw_cpu *cpu, uint16_t port, unsigned size, bool in);
int svm_icpt_invlpg(struct hw_cpu *cpu, uint64_t la);

uint64_t hw_guest_tsc_offset(const struct hw_cpu *cpu);

#define HW_ICPT_DISPATCH(call_vmx, call_svm)			\
	switch (cpu->guest) {					\
	case HW_GUEST_VMX: return call_vmx;			\
	case HW_GUEST_SVM: return call_svm;			\
	default: return EMU_CONTINUE;				\
	}

static inline int hw_icpt_insn(struct hw_cpu *cpu, enum hw_icpt_insn what)
{
	HW_ICPT_DISPATCH(vmx_icpt_insn(cpu, what), svm_icpt_insn(cpu, what));
}

static inline int hw_icpt_cr_read(struct hw_cpu *cpu, unsigned cr)
{
	HW_ICPT_DISPATCH(vmx_icpt_cr_read(cpu, cr), svm_icpt_cr_read(cpu, cr));
}

/* May rewrite *val: VMX keeps host-owned CR0/CR4 bits (26.3 masks). */
static inline int hw_icpt_cr_write(struct hw_cpu *cpu, unsigned cr, uint64_t *val)
{
	HW_ICPT_DISPATCH(vmx_icpt_cr_write(cpu, cr, val), svm_icpt_cr_write(cpu, cr, val));
}

/* What the guest reads from CR0/CR4 (VMX read shadows for masked bits). */
static inline uint64_t hw_icpt_cr_shadowed(const struct hw_cpu *cpu, unsigned cr,
					   uint64_t val)
{
	return cpu->guest == HW_GUEST_VMX ? vmx_icpt_cr_shadowed(cpu, cr, val) : val;
}

static inline int hw_icpt_dr(struct hw_cpu *cpu, unsigned dr, bool write)
{
	HW_ICPT_DISPATCH(vmx_icpt_dr(cpu, dr, write), svm_icpt_dr(cpu, dr, write));
}

static inline int hw_icpt_msr(struct hw_cpu *cpu, uint32_t msr, bool write)
{
	HW_ICPT_DISPATCH(vmx_icpt_msr(cpu, msr, write), svm_icpt_msr(cpu, msr, write));
}

static inline int hw_icpt_io(struct hw_cpu *cpu, uint16_t port, unsigned size, bool in)
{
	HW_ICPT_DISPATCH(vmx_icpt_io(cpu, port, size, in), svm_icpt_io(cpu, port, size, in));
}

static inline int hw_icpt_invlpg(struct hw_cpu *cpu, uint64_t la)
{
	HW_ICPT_DISPATCH(vmx_icpt_invlpg(cpu, la), svm_icpt_invlpg(cpu, la));
}

/* The TSC offset of the running guest (0 outside a guest). */
static inline uint64_t hw_icpt_tsc_offset(const struct hw_cpu *cpu)
{
	return cpu->guest == HW_HOST ? 0 : hw_guest_tsc_offset(cpu);
}

#endif
