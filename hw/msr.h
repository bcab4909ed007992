/*
 * msr.h — model-specific registers the model implements (hw/msr.c).
 * Numbers from SDM Vol. 4 chapter 2 and APM Vol. 2 appendix A. An MSR not
 * listed here does not exist: RDMSR/WRMSR of it raise #GP(0).
 * IA32_EFER lives in emu.cpu.efer, FS/GS base in the segment registers.
 */
#ifndef HVLAB_HW_MSR_H
#define HVLAB_HW_MSR_H

#include <stdint.h>

#define MSR_IA32_TSC			0x00000010
#define MSR_IA32_APIC_BASE		0x0000001b
#define MSR_IA32_FEATURE_CONTROL	0x0000003a
#define MSR_IA32_MTRRCAP		0x000000fe
#define MSR_IA32_SYSENTER_CS		0x00000174
#define MSR_IA32_SYSENTER_ESP		0x00000175
#define MSR_IA32_SYSENTER_EIP		0x00000176
#define MSR_IA32_MISC_ENABLE		0x000001a0
#define MSR_IA32_MTRR_PHYSBASE0		0x00000200	/* ..0x20f: 8 base/mask pairs */
#define MSR_IA32_MTRR_FIX64K_00000	0x00000250
#define MSR_IA32_MTRR_FIX16K_80000	0x00000258
#define MSR_IA32_MTRR_FIX16K_A0000	0x00000259
#define MSR_IA32_MTRR_FIX4K_C0000	0x00000268	/* ..0x26f */
#define MSR_IA32_PAT			0x00000277
#define MSR_IA32_MTRR_DEF_TYPE		0x000002ff
/* 0x480-0x490: the VMX capability MSRs, in hw/vmx.h. */
#define MSR_IA32_EFER			0xc0000080
#define MSR_IA32_STAR			0xc0000081
#define MSR_IA32_LSTAR			0xc0000082
#define MSR_IA32_CSTAR			0xc0000083
#define MSR_IA32_FMASK			0xc0000084
#define MSR_IA32_FS_BASE		0xc0000100
#define MSR_IA32_GS_BASE		0xc0000101
#define MSR_IA32_KERNEL_GS_BASE		0xc0000102
#define MSR_IA32_TSC_AUX		0xc0000103
#define MSR_AMD_PERF_EVTSEL0		0xc0010000	/* ..3 */
#define MSR_AMD_PERF_CTR0		0xc0010004	/* ..3 */
#define MSR_AMD_VM_CR			0xc0010114
#define MSR_AMD_VM_HSAVE_PA		0xc0010117

/* IA32_FEATURE_CONTROL bits (SDM Vol. 3C 24.7). */
#define FEATURE_CONTROL_LOCK		(1ull << 0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1ull << 2)

/* EFER bits (SDM Vol. 3A 2.2.1, APM Vol. 2 3.1.7). */
#define EFER_SCE	(1ull << 0)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NXE	(1ull << 11)
#define EFER_SVME	(1ull << 12)

/* VM_CR bits (APM Vol. 2 15.30.1). */
#define VM_CR_SVMDIS	(1ull << 4)

#define HW_NR_MTRR_VAR 8

struct hw_msrs {
	uint64_t tsc_offset;		/* IA32_TSC writes adjust this */
	uint64_t apic_base;
	uint64_t feature_control;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t misc_enable;
	uint64_t pat;
	uint64_t star, lstar, cstar, fmask, kernel_gs_base, tsc_aux;
	uint64_t mtrr_def_type;
	uint64_t mtrr_fix[11];
	uint64_t mtrr_var[2 * HW_NR_MTRR_VAR];
	uint64_t vm_cr, vm_hsave_pa;
	/* AMD PerfEvtSel0-3 and PerfCtr0-3: the registers exist, as on every
	 * AMD64 processor, but the model counts no events (docs/hw.md). */
	uint64_t perf_evtsel[4], perf_ctr[4];
};

#endif
