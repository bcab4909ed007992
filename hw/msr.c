/*
 * msr.c — RDMSR and WRMSR on the model (SDM Vol. 4 chapter 2; APM Vol. 2
 * appendix A). One MSR file per processor: what a guest writes stays
 * there unless a VM exit loads host values (VMCS host-state area, or the
 * VMSAVE/VMLOAD discipline on SVM), as on hardware. IA32_EFER and the
 * FS/GS bases are part of a register set (struct emu_cpu): the guest's
 * while a guest runs, cpu->host otherwise.
 *
 * Writes check reserved bits and raise #GP (return -EINVAL) the way the
 * manuals say; an MSR the model does not list does not exist (#GP).
 */
#include <errno.h>

#include "hw/msr_access.h"
#include "hw/vmx.h"

#define MAXPHY_MASK (~0ull << 46)

/* Memory types valid in PAT and MTRRs (SDM 12.11, 12.12). */
static bool valid_type(unsigned t, bool pat)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7);
}

static bool valid_types(uint64_t v, bool pat)
{
	for (unsigned i = 0; i < 8; i++)
		if (!valid_type((v >> (8 * i)) & 0xff, pat))
			return false;
	return true;
}

/* The index into mtrr_fix[] of a fixed-range MTRR, or -1. */
static int fixed_mtrr(uint32_t msr)
{
	if (msr == MSR_IA32_MTRR_FIX64K_00000)
		return 0;
	if (msr == MSR_IA32_MTRR_FIX16K_80000 || msr == MSR_IA32_MTRR_FIX16K_A0000)
		return 1 + (int)(msr - MSR_IA32_MTRR_FIX16K_80000);
	if (msr >= MSR_IA32_MTRR_FIX4K_C0000 && msr <= MSR_IA32_MTRR_FIX4K_C0000 + 7)
		return 3 + (int)(msr - MSR_IA32_MTRR_FIX4K_C0000);
	return -1;
}

static bool is_var_mtrr(uint32_t msr)
{
	return msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE0 + 2 * HW_NR_MTRR_VAR;
}

int hw_msr_get(struct hw_cpu *cpu, struct emu_cpu *regs, uint32_t msr, uint64_t *val)
{
	struct hw_msrs *s = &cpu->msr;
	const bool amd = cpu->m->cfg.vendor == HW_VENDOR_AMD;
	int fix = fixed_mtrr(msr);

	if (fix >= 0) {
		*val = s->mtrr_fix[fix];
		return 0;
	}
	if (is_var_mtrr(msr)) {
		*val = s->mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0];
		return 0;
	}
	if (!amd && msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_TRUE_ENTRY_CTLS)
		return vmx_cap_rdmsr(cpu, msr, val);
	switch (msr) {
	case MSR_IA32_TSC:		*val = hw_cpu_cycles(cpu) + s->tsc_offset; return 0;
	case MSR_IA32_APIC_BASE:	*val = s->apic_base; return 0;
	case MSR_IA32_SYSENTER_CS:	*val = s->sysenter_cs; return 0;
	case MSR_IA32_SYSENTER_ESP:	*val = s->sysenter_esp; return 0;
	case MSR_IA32_SYSENTER_EIP:	*val = s->sysenter_eip; return 0;
	case MSR_IA32_MTRRCAP:		*val = HW_NR_MTRR_VAR | (1u << 8); return 0;
	case MSR_IA32_PAT:		*val = s->pat; return 0;
	case MSR_IA32_MTRR_DEF_TYPE:	*val = s->mtrr_def_type; return 0;
	case MSR_IA32_EFER:		*val = regs->efer; return 0;
	case MSR_IA32_STAR:		*val = s->star; return 0;
	case MSR_IA32_LSTAR:		*val = s->lstar; return 0;
	case MSR_IA32_CSTAR:		*val = s->cstar; return 0;
	case MSR_IA32_FMASK:		*val = s->fmask; return 0;
	case MSR_IA32_FS_BASE:		*val = regs->seg[EMU_FS].base; return 0;
	case MSR_IA32_GS_BASE:		*val = regs->seg[EMU_GS].base; return 0;
	case MSR_IA32_KERNEL_GS_BASE:	*val = s->kernel_gs_base; return 0;
	case MSR_IA32_TSC_AUX:		*val = s->tsc_aux; return 0;
	}
	if (!amd) {
		switch (msr) {
		case MSR_IA32_FEATURE_CONTROL:	*val = s->feature_control; return 0;
		case MSR_IA32_MISC_ENABLE:	*val = s->misc_enable; return 0;
		}
	} else {
		switch (msr) {
		case MSR_AMD_VM_CR:		*val = s->vm_cr; return 0;
		case MSR_AMD_PERF_EVTSEL0 ... MSR_AMD_PERF_EVTSEL0 + 3:
			*val = s->perf_evtsel[msr - MSR_AMD_PERF_EVTSEL0];
			return 0;
		case MSR_AMD_PERF_CTR0 ... MSR_AMD_PERF_CTR0 + 3:
			*val = s->perf_ctr[msr - MSR_AMD_PERF_CTR0];
			return 0;
		case MSR_AMD_VM_HSAVE_PA:	*val = s->vm_hsave_pa; return 0;
		}
	}
	return -EINVAL;
}

/* IA32_EFER writes (SDM Vol. 3A 2.2.1, 9.8.5; APM Vol. 2 3.1.7): LMA is
 * read-only and keeps its value; LME may not change while paging is on. */
static int set_efer(struct hw_cpu *cpu, struct emu_cpu *regs, uint64_t v)
{
	const bool amd = cpu->m->cfg.vendor == HW_VENDOR_AMD;
	const uint64_t ok = EFER_SCE | EFER_LME | EFER_LMA | (amd ? EFER_SVME : 0) |
			    (cpu->m->cfg.features.nx ? EFER_NXE : 0);
	if (v & ~ok)
		return -EINVAL;
	if (((v ^ regs->efer) & EFER_LME) && (regs->cr0 & (1ull << 31)))
		return -EINVAL;
	if (amd && (v & EFER_SVME) && (cpu->msr.vm_cr & VM_CR_SVMDIS))
		return -EINVAL;
	regs->efer = (v & ~EFER_LMA) | (regs->efer & EFER_LMA);
	return 0;
}

static int set_canonical(uint64_t *dst, uint64_t v)
{
	if ((uint64_t)((int64_t)(v << 16) >> 16) != v)
		return -EINVAL;
	*dst = v;
	return 0;
}

int hw_msr_set(struct hw_cpu *cpu, struct emu_cpu *regs, uint32_t msr, uint64_t v)
{
	struct hw_msrs *s = &cpu->msr;
	const bool amd = cpu->m->cfg.vendor == HW_VENDOR_AMD;
	int fix = fixed_mtrr(msr);

	if (fix >= 0) {
		if (!valid_types(v, false))
			return -EINVAL;
		s->mtrr_fix[fix] = v;
		return 0;
	}
	if (is_var_mtrr(msr)) {
		const unsigned i = msr - MSR_IA32_MTRR_PHYSBASE0;
		/* PHYSBASE: type 7:0, bits 11:8 reserved; PHYSMASK: valid 11,
		 * bits 10:0 reserved (SDM 12.11.2.3). */
		if ((v & MAXPHY_MASK) || ((i & 1) ? (v & 0x7ff) :
		    ((v & 0xf00) || !valid_type(v & 0xff, false))))
			return -EINVAL;
		s->mtrr_var[i] = v;
		return 0;
	}
	switch (msr) {
	case MSR_IA32_TSC:
		s->tsc_offset = v - hw_cpu_cycles(cpu);
		return 0;
	case MSR_IA32_APIC_BASE:
		/* Bits 7:0, 9 (x2APIC enable is 10) and above MAXPHYADDR. */
		if (v & (MAXPHY_MASK | 0x2ff))
			return -EINVAL;
		s->apic_base = (v & ~(1ull << 8)) | (s->apic_base & (1ull << 8));
		return 0;
	case MSR_IA32_SYSENTER_CS:	s->sysenter_cs = v & 0xffffffff; return 0;
	case MSR_IA32_SYSENTER_ESP:	return set_canonical(&s->sysenter_esp, v);
	case MSR_IA32_SYSENTER_EIP:	return set_canonical(&s->sysenter_eip, v);
	case MSR_IA32_PAT:
		if (!valid_types(v, true))
			return -EINVAL;
		s->pat = v;
		return 0;
	case MSR_IA32_MTRR_DEF_TYPE:
		if ((v & ~0xcffull) || !valid_type(v & 0xff, false))
			return -EINVAL;
		s->mtrr_def_type = v;
		return 0;
	case MSR_IA32_EFER:		return set_efer(cpu, regs, v);
	case MSR_IA32_STAR:		s->star = v; return 0;
	case MSR_IA32_LSTAR:		return set_canonical(&s->lstar, v);
	case MSR_IA32_CSTAR:		return set_canonical(&s->cstar, v);
	case MSR_IA32_FMASK:		s->fmask = v & 0xffffffff; return 0;
	case MSR_IA32_FS_BASE:		return set_canonical(&regs->seg[EMU_FS].base, v);
	case MSR_IA32_GS_BASE:		return set_canonical(&regs->seg[EMU_GS].base, v);
	case MSR_IA32_KERNEL_GS_BASE:	return set_canonical(&s->kernel_gs_base, v);
	case MSR_IA32_TSC_AUX:
		if (v >> 32)
			return -EINVAL;
		s->tsc_aux = v;
		return 0;
	}
	if (!amd) {
		switch (msr) {
		case MSR_IA32_FEATURE_CONTROL:
			/* Locked until reset (SDM Vol. 3C 24.7). */
			if ((s->feature_control & FEATURE_CONTROL_LOCK) || (v & ~0x7ull))
				return -EINVAL;
			s->feature_control = v;
			return 0;
		case MSR_IA32_MISC_ENABLE:
			s->misc_enable = v;
			return 0;
		}
	} else {
		switch (msr) {
		case MSR_AMD_VM_CR:
			/* SVMDIS is writable while VM_CR.LOCK (bit 3) is clear. */
			if (v & ~(VM_CR_SVMDIS | (1ull << 3)) || (s->vm_cr & (1ull << 3)))
				return -EINVAL;
			s->vm_cr = v;
			return 0;
		case MSR_AMD_VM_HSAVE_PA:
			if ((v & 0xfff) || (v & MAXPHY_MASK))
				return -EINVAL;
			s->vm_hsave_pa = v;
			return 0;
		case MSR_AMD_PERF_EVTSEL0 ... MSR_AMD_PERF_EVTSEL0 + 3:
			/* Keep the fields the APM defines: EventSelect 7:0 and
			 * 35:32, UnitMask, the flags, CntMask 31:24, HG_ONLY
			 * 41:40 (APM Vol. 2 13.2.1). */
			s->perf_evtsel[msr - MSR_AMD_PERF_EVTSEL0] = v & 0x30fffffffffull;
			return 0;
		case MSR_AMD_PERF_CTR0 ... MSR_AMD_PERF_CTR0 + 3:
			s->perf_ctr[msr - MSR_AMD_PERF_CTR0] = v & ((1ull << 48) - 1);
			return 0;
		}
	}
	return -EINVAL;
}

int hw_rdmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t *val)
{
	return hw_msr_get(cpu, &cpu->host, msr, val);
}

int hw_wrmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t val)
{
	return hw_msr_set(cpu, &cpu->host, msr, val);
}
