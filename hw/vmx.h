/*
 * vmx.h — Intel VT-x as a hypervisor programs it (ARCHITECTURE §1): the
 * VMX instructions as C calls on a struct hw_cpu, the VMCS field
 * encodings, the control bits, exit reasons, VM-instruction error
 * numbers and the VMX capability MSRs. Everything here is architectural
 * (SDM Vol. 3C chapters 24-31, Vol. 3D appendices A-C) except the two
 * fault statuses noted in enum vmx_status, so a port to real silicon
 * keeps this header and replaces the calls with the instructions.
 *
 * What this processor offers is what the capability MSRs say
 * (hw/vmx_caps.c): constants below that the MSRs do not offer are
 * defined for completeness of the layout and are refused at VM entry.
 */
#ifndef HVLAB_HW_VMX_H
#define HVLAB_HW_VMX_H

#include <assert.h>
#include <stdint.h>

#include "hvlab/types.h"
#include "hw/hw.h"

/* ------------------------------------------------------------ instructions */

/*
 * Outcome of a VMX instruction (SDM Vol. 3C 31.2 "Conventions"):
 *
 *   VMX_SUCCEED       VMsucceed: CF = PF = AF = ZF = SF = OF = 0
 *   VMX_FAIL_INVALID  VMfailInvalid: CF = 1 (no current VMCS to report in)
 *   VMX_FAIL_VALID    VMfailValid: ZF = 1, the error number (VMX_ERR_*)
 *                     in the current VMCS's VM-instruction error field
 *
 * The model also sets those flags in the host's RFLAGS. Two outcomes are
 * not statuses but faults the instruction raised instead of completing;
 * on silicon they arrive as exceptions, here as distinct values:
 *
 *   VMX_FAULT_UD      #UD (outside VMX operation; VMXON with CR4.VMXE = 0 …)
 *   VMX_FAULT_GP      #GP(0) (CPL > 0; VMXON refused by IA32_FEATURE_CONTROL …)
 */
enum vmx_status {
	VMX_SUCCEED,
	VMX_FAIL_INVALID,
	VMX_FAIL_VALID,
	VMX_FAULT_UD,
	VMX_FAULT_GP,
	/* Not an architectural outcome: the guest did something the model
	 * does not implement (hw_cpu_unsupported() says what); the guest
	 * state saved in the VMCS is as of the last instruction that
	 * completed and the exit reason is not meaningful. */
	VMX_MODEL_UNSUPPORTED,
};

/* INVEPT descriptor (SDM Vol. 3C 31.3 INVEPT): 128 bits. */
struct invept_desc {
	uint64_t eptp;		/* the EPTP whose mappings go (single-context) */
	uint64_t rsvd;		/* must be 0 */
};

/* INVVPID descriptor (SDM Vol. 3C 31.3 INVVPID): 128 bits. */
struct invvpid_desc {
	uint64_t vpid;		/* bits 15:0 VPID, bits 63:16 must be 0 */
	uint64_t gla;		/* linear address (individual-address type) */
};

static_assert(sizeof(struct invept_desc) == 16, "INVEPT descriptor is 128 bits");
static_assert(sizeof(struct invvpid_desc) == 16, "INVVPID descriptor is 128 bits");

/* INVEPT types (SDM Vol. 3C 31.3 INVEPT). */
#define VMX_INVEPT_SINGLE_CONTEXT	1
#define VMX_INVEPT_ALL_CONTEXT		2

/* INVVPID types (SDM Vol. 3C 31.3 INVVPID). */
#define VMX_INVVPID_INDIVIDUAL_ADDR	0
#define VMX_INVVPID_SINGLE_CONTEXT	1
#define VMX_INVVPID_ALL_CONTEXT		2
#define VMX_INVVPID_SINGLE_CONTEXT_RETAIN_GLOBALS 3

/*
 * The instructions (SDM Vol. 3C 31.3). Memory operands are passed by
 * value: @region and @vmcs are the 64-bit physical addresses the m64
 * operand would hold. VMREAD/VMWRITE take the field encoding as the
 * 64-bit register operand it is in 64-bit mode (bits 63:32 set name no
 * field). VMREAD zero-extends a 16- or 32-bit field into *@val; VMWRITE
 * drops the bits of @val above the field's width.
 */
enum vmx_status vmxon(struct hw_cpu *cpu, hpa_t region);
enum vmx_status vmxoff(struct hw_cpu *cpu);
enum vmx_status vmclear(struct hw_cpu *cpu, hpa_t vmcs);
enum vmx_status vmptrld(struct hw_cpu *cpu, hpa_t vmcs);
enum vmx_status vmptrst(struct hw_cpu *cpu, hpa_t *vmcs);
enum vmx_status vmread(struct hw_cpu *cpu, uint64_t field, uint64_t *val);
enum vmx_status vmwrite(struct hw_cpu *cpu, uint64_t field, uint64_t val);
/* Enter the guest; return after the VM exit (or a failed entry). */
enum vmx_status vmlaunch(struct hw_cpu *cpu);
enum vmx_status vmresume(struct hw_cpu *cpu);
enum vmx_status invept(struct hw_cpu *cpu, uint64_t type, const struct invept_desc *desc);
enum vmx_status invvpid(struct hw_cpu *cpu, uint64_t type, const struct invvpid_desc *desc);

/* VM-instruction error numbers (SDM Vol. 3C 31.4, Table 31-1). */
enum vmx_error {
	VMX_ERR_VMCALL_IN_ROOT			= 1,
	VMX_ERR_VMCLEAR_INVALID_ADDR		= 2,
	VMX_ERR_VMCLEAR_VMXON_PTR		= 3,
	VMX_ERR_VMLAUNCH_NONCLEAR		= 4,
	VMX_ERR_VMRESUME_NONLAUNCHED		= 5,
	VMX_ERR_VMRESUME_AFTER_VMXOFF		= 6,
	VMX_ERR_ENTRY_INVALID_CTLS		= 7,
	VMX_ERR_ENTRY_INVALID_HOST_STATE	= 8,
	VMX_ERR_VMPTRLD_INVALID_ADDR		= 9,
	VMX_ERR_VMPTRLD_VMXON_PTR		= 10,
	VMX_ERR_VMPTRLD_BAD_REVISION		= 11,
	VMX_ERR_UNSUPPORTED_FIELD		= 12,
	VMX_ERR_VMWRITE_RO_FIELD		= 13,
	VMX_ERR_VMXON_IN_ROOT			= 15,
	VMX_ERR_ENTRY_INVALID_EXEC_VMCS_PTR	= 16,
	VMX_ERR_ENTRY_NONLAUNCHED_EXEC_VMCS	= 17,
	VMX_ERR_ENTRY_EXEC_VMCS_NOT_VMXON	= 18,
	VMX_ERR_VMCALL_NONCLEAR_VMCS		= 19,
	VMX_ERR_VMCALL_INVALID_EXIT_CTLS	= 20,
	VMX_ERR_VMCALL_BAD_MSEG_REVISION	= 22,
	VMX_ERR_VMXOFF_DUAL_MONITOR		= 23,
	VMX_ERR_VMCALL_INVALID_SMM_FEATURES	= 24,
	VMX_ERR_ENTRY_INVALID_EXEC_CTLS_IN_EXEC_VMCS = 25,
	VMX_ERR_ENTRY_MOV_SS_BLOCKING		= 26,
	VMX_ERR_INVALID_INVEPT_INVVPID_OPERAND	= 28,
};

/* ------------------------------------------------------------ VMCS fields */

/*
 * Field encodings of the fields this processor supports (SDM Vol. 3D
 * Appendix B), generated from hw/vmcs_fields.def: VMCS_GUEST_RIP,
 * VMCS_PIN_BASED_CTLS, VMCS_EXIT_QUALIFICATION, … Each is the "full"
 * access; VMCS_HIGH() names the high 32 bits of a 64-bit field.
 */
enum vmcs_field {
#define VMCS_FIELD(name, enc) VMCS_##name = (enc),
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD
};

#define VMCS_HIGH(field) ((field) | 1u)

/* Encoding bits (SDM Vol. 3C 25.11.2, Table 25-21). */
#define VMCS_ENC_ACCESS_HIGH	1u
#define VMCS_ENC_INDEX(enc)	(((enc) >> 1) & 0x1ff)
#define VMCS_ENC_TYPE(enc)	(((enc) >> 10) & 3)
#define VMCS_ENC_WIDTH(enc)	(((enc) >> 13) & 3)
enum vmcs_type { VMCS_TYPE_CONTROL, VMCS_TYPE_EXIT_INFO, VMCS_TYPE_GUEST, VMCS_TYPE_HOST };
enum vmcs_width { VMCS_WIDTH_16, VMCS_WIDTH_64, VMCS_WIDTH_32, VMCS_WIDTH_NATURAL };

/* ------------------------------------------------------------ controls */

/* Pin-based VM-execution controls (SDM Vol. 3C 25.6.1). */
#define VMX_PIN_EXT_INTR_EXITING	(1u << 0)
#define VMX_PIN_NMI_EXITING		(1u << 3)
#define VMX_PIN_VIRTUAL_NMIS		(1u << 5)
#define VMX_PIN_PREEMPTION_TIMER	(1u << 6)
#define VMX_PIN_POSTED_INTR		(1u << 7)
#define VMX_PIN_DEFAULT1		0x00000016u	/* bits 1, 2, 4 (A.3.1) */

/* Primary processor-based VM-execution controls (25.6.2). */
#define VMX_PROC_INTR_WINDOW_EXITING	(1u << 2)
#define VMX_PROC_TSC_OFFSETTING		(1u << 3)
#define VMX_PROC_HLT_EXITING		(1u << 7)
#define VMX_PROC_INVLPG_EXITING		(1u << 9)
#define VMX_PROC_MWAIT_EXITING		(1u << 10)
#define VMX_PROC_RDPMC_EXITING		(1u << 11)
#define VMX_PROC_RDTSC_EXITING		(1u << 12)
#define VMX_PROC_CR3_LOAD_EXITING	(1u << 15)
#define VMX_PROC_CR3_STORE_EXITING	(1u << 16)
#define VMX_PROC_TERTIARY_CTLS		(1u << 17)
#define VMX_PROC_CR8_LOAD_EXITING	(1u << 19)
#define VMX_PROC_CR8_STORE_EXITING	(1u << 20)
#define VMX_PROC_TPR_SHADOW		(1u << 21)
#define VMX_PROC_NMI_WINDOW_EXITING	(1u << 22)
#define VMX_PROC_MOV_DR_EXITING		(1u << 23)
#define VMX_PROC_UNCOND_IO_EXITING	(1u << 24)
#define VMX_PROC_IO_BITMAPS		(1u << 25)
#define VMX_PROC_MONITOR_TRAP_FLAG	(1u << 27)
#define VMX_PROC_MSR_BITMAPS		(1u << 28)
#define VMX_PROC_MONITOR_EXITING	(1u << 29)
#define VMX_PROC_PAUSE_EXITING		(1u << 30)
#define VMX_PROC_SECONDARY_CTLS		(1u << 31)
#define VMX_PROC_DEFAULT1		0x0401e172u	/* 1, 4-6, 8, 13-16, 26 (A.3.2) */

/* Secondary processor-based VM-execution controls (25.6.2). */
#define VMX_PROC2_VIRT_APIC_ACCESSES	(1u << 0)
#define VMX_PROC2_EPT			(1u << 1)
#define VMX_PROC2_DESC_TABLE_EXITING	(1u << 2)
#define VMX_PROC2_RDTSCP		(1u << 3)
#define VMX_PROC2_VIRT_X2APIC		(1u << 4)
#define VMX_PROC2_VPID			(1u << 5)
#define VMX_PROC2_WBINVD_EXITING	(1u << 6)
#define VMX_PROC2_UNRESTRICTED_GUEST	(1u << 7)
#define VMX_PROC2_APIC_REG_VIRT		(1u << 8)
#define VMX_PROC2_VIRT_INTR_DELIVERY	(1u << 9)
#define VMX_PROC2_PAUSE_LOOP_EXITING	(1u << 10)
#define VMX_PROC2_RDRAND_EXITING	(1u << 11)
#define VMX_PROC2_INVPCID		(1u << 12)
#define VMX_PROC2_VMFUNC		(1u << 13)
#define VMX_PROC2_VMCS_SHADOWING	(1u << 14)
#define VMX_PROC2_ENCLS_EXITING		(1u << 15)
#define VMX_PROC2_RDSEED_EXITING	(1u << 16)
#define VMX_PROC2_PML			(1u << 17)
#define VMX_PROC2_EPT_VE		(1u << 18)
#define VMX_PROC2_CONCEAL_FROM_PT	(1u << 19)
#define VMX_PROC2_XSAVES		(1u << 20)
#define VMX_PROC2_TSC_SCALING		(1u << 25)

/* VM-exit controls (25.7.1). */
#define VMX_EXIT_CTL_SAVE_DEBUG_CTLS	(1u << 2)
#define VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE (1u << 9)
#define VMX_EXIT_CTL_LOAD_PERF_GLOBAL_CTRL (1u << 12)
#define VMX_EXIT_CTL_ACK_INTR_ON_EXIT	(1u << 15)
#define VMX_EXIT_CTL_SAVE_PAT		(1u << 18)
#define VMX_EXIT_CTL_LOAD_PAT		(1u << 19)
#define VMX_EXIT_CTL_SAVE_EFER		(1u << 20)
#define VMX_EXIT_CTL_LOAD_EFER		(1u << 21)
#define VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER (1u << 22)
#define VMX_EXIT_CTL_CLEAR_BNDCFGS	(1u << 23)
#define VMX_EXIT_CTL_CONCEAL_FROM_PT	(1u << 24)
#define VMX_EXIT_CTL_DEFAULT1		0x00036dffu	/* 0-8, 10, 11, 13, 14, 16, 17 (A.4) */

/* VM-entry controls (25.8.1). */
#define VMX_ENTRY_CTL_LOAD_DEBUG_CTLS	(1u << 2)
#define VMX_ENTRY_CTL_IA32E_MODE_GUEST	(1u << 9)
#define VMX_ENTRY_CTL_ENTRY_TO_SMM	(1u << 10)
#define VMX_ENTRY_CTL_DEACT_DUAL_MONITOR (1u << 11)
#define VMX_ENTRY_CTL_LOAD_PERF_GLOBAL_CTRL (1u << 13)
#define VMX_ENTRY_CTL_LOAD_PAT		(1u << 14)
#define VMX_ENTRY_CTL_LOAD_EFER		(1u << 15)
#define VMX_ENTRY_CTL_LOAD_BNDCFGS	(1u << 16)
#define VMX_ENTRY_CTL_CONCEAL_FROM_PT	(1u << 17)
#define VMX_ENTRY_CTL_DEFAULT1		0x000011ffu	/* 0-8, 12 (A.5) */

/* ------------------------------------------------------------ event fields */

/*
 * Interruption-information fields: VM-entry (SDM Vol. 3C 25.8.3),
 * VM-exit (25.9.2) and IDT-vectoring (25.9.3).
 */
#define VMX_INTR_INFO_VECTOR_MASK	0xffu
#define VMX_INTR_INFO_TYPE_SHIFT	8
#define VMX_INTR_INFO_TYPE_MASK		(7u << 8)
#define VMX_INTR_INFO_ERROR_CODE	(1u << 11)	/* deliver / valid error code */
#define VMX_INTR_INFO_NMI_UNBLOCK_IRET	(1u << 12)	/* exit information only */
#define VMX_INTR_INFO_VALID		(1u << 31)

/* Interruption types (bits 10:8). */
#define VMX_INTR_TYPE_EXT_INTR		0
#define VMX_INTR_TYPE_NMI		2
#define VMX_INTR_TYPE_HARD_EXCEPTION	3
#define VMX_INTR_TYPE_SOFT_INTR		4
#define VMX_INTR_TYPE_PRIV_SOFT_EXCEPTION 5
#define VMX_INTR_TYPE_SOFT_EXCEPTION	6
#define VMX_INTR_TYPE_OTHER_EVENT	7

/* Guest interruptibility state (25.4.2). */
#define VMX_INTERRUPTIBILITY_STI	(1u << 0)
#define VMX_INTERRUPTIBILITY_MOV_SS	(1u << 1)
#define VMX_INTERRUPTIBILITY_SMI	(1u << 2)
#define VMX_INTERRUPTIBILITY_NMI	(1u << 3)

/* Guest activity states (25.4.2). */
#define VMX_ACTIVITY_ACTIVE		0
#define VMX_ACTIVITY_HLT		1
#define VMX_ACTIVITY_SHUTDOWN		2
#define VMX_ACTIVITY_WAIT_SIPI		3

/* ------------------------------------------------------------ exit reasons */

/* Exit-reason field (SDM Vol. 3C 25.9.1). */
#define VMX_EXIT_REASON_BASIC(r)	((r) & 0xffffu)
#define VMX_EXIT_REASON_PENDING_MTF	(1u << 28)
#define VMX_EXIT_REASON_FROM_ROOT	(1u << 29)
#define VMX_EXIT_REASON_ENTRY_FAILURE	(1u << 31)

/* Basic exit reasons (SDM Vol. 3D Appendix C, Table C-1). */
enum vmx_exit_reason {
	VMX_EXIT_EXCEPTION_NMI		= 0,
	VMX_EXIT_EXTERNAL_INTERRUPT	= 1,
	VMX_EXIT_TRIPLE_FAULT		= 2,
	VMX_EXIT_INIT			= 3,
	VMX_EXIT_SIPI			= 4,
	VMX_EXIT_IO_SMI			= 5,
	VMX_EXIT_OTHER_SMI		= 6,
	VMX_EXIT_INTERRUPT_WINDOW	= 7,
	VMX_EXIT_NMI_WINDOW		= 8,
	VMX_EXIT_TASK_SWITCH		= 9,
	VMX_EXIT_CPUID			= 10,
	VMX_EXIT_GETSEC			= 11,
	VMX_EXIT_HLT			= 12,
	VMX_EXIT_INVD			= 13,
	VMX_EXIT_INVLPG			= 14,
	VMX_EXIT_RDPMC			= 15,
	VMX_EXIT_RDTSC			= 16,
	VMX_EXIT_RSM			= 17,
	VMX_EXIT_VMCALL			= 18,
	VMX_EXIT_VMCLEAR		= 19,
	VMX_EXIT_VMLAUNCH		= 20,
	VMX_EXIT_VMPTRLD		= 21,
	VMX_EXIT_VMPTRST		= 22,
	VMX_EXIT_VMREAD			= 23,
	VMX_EXIT_VMRESUME		= 24,
	VMX_EXIT_VMWRITE		= 25,
	VMX_EXIT_VMXOFF			= 26,
	VMX_EXIT_VMXON			= 27,
	VMX_EXIT_CR_ACCESS		= 28,
	VMX_EXIT_DR_ACCESS		= 29,
	VMX_EXIT_IO_INSTRUCTION		= 30,
	VMX_EXIT_RDMSR			= 31,
	VMX_EXIT_WRMSR			= 32,
	VMX_EXIT_INVALID_GUEST_STATE	= 33,	/* VM-entry failure */
	VMX_EXIT_MSR_LOADING		= 34,	/* VM-entry failure */
	VMX_EXIT_MWAIT			= 36,
	VMX_EXIT_MONITOR_TRAP_FLAG	= 37,
	VMX_EXIT_MONITOR		= 39,
	VMX_EXIT_PAUSE			= 40,
	VMX_EXIT_MACHINE_CHECK		= 41,	/* VM-entry failure */
	VMX_EXIT_TPR_BELOW_THRESHOLD	= 43,
	VMX_EXIT_APIC_ACCESS		= 44,
	VMX_EXIT_VIRTUALIZED_EOI	= 45,
	VMX_EXIT_GDTR_IDTR		= 46,
	VMX_EXIT_LDTR_TR		= 47,
	VMX_EXIT_EPT_VIOLATION		= 48,
	VMX_EXIT_EPT_MISCONFIG		= 49,
	VMX_EXIT_INVEPT			= 50,
	VMX_EXIT_RDTSCP			= 51,
	VMX_EXIT_PREEMPTION_TIMER	= 52,
	VMX_EXIT_INVVPID		= 53,
	VMX_EXIT_WBINVD			= 54,
	VMX_EXIT_XSETBV			= 55,
	VMX_EXIT_APIC_WRITE		= 56,
	VMX_EXIT_RDRAND			= 57,
	VMX_EXIT_INVPCID		= 58,
	VMX_EXIT_VMFUNC			= 59,
	VMX_EXIT_ENCLS			= 60,
	VMX_EXIT_RDSEED			= 61,
	VMX_EXIT_PML_FULL		= 62,
	VMX_EXIT_XSAVES			= 63,
	VMX_EXIT_XRSTORS		= 64,
};

/* ------------------------------------------------------------ capability MSRs */

/*
 * VMX capability MSRs (SDM Vol. 4 Table 2-2; Vol. 3D Appendix A). Only
 * those this processor has; IA32_VMX_VMFUNC (0x491) does not exist
 * because "enable VM functions" is not offered. hw/msr.h spells
 * MSR_IA32_VMX_BASIC identically, so the two headers agree.
 */
#define MSR_IA32_VMX_BASIC		0x00000480
#define MSR_IA32_VMX_PINBASED_CTLS	0x00000481
#define MSR_IA32_VMX_PROCBASED_CTLS	0x00000482
#define MSR_IA32_VMX_EXIT_CTLS		0x00000483
#define MSR_IA32_VMX_ENTRY_CTLS		0x00000484
#define MSR_IA32_VMX_MISC		0x00000485
#define MSR_IA32_VMX_CR0_FIXED0		0x00000486
#define MSR_IA32_VMX_CR0_FIXED1		0x00000487
#define MSR_IA32_VMX_CR4_FIXED0		0x00000488
#define MSR_IA32_VMX_CR4_FIXED1		0x00000489
#define MSR_IA32_VMX_VMCS_ENUM		0x0000048a
#define MSR_IA32_VMX_PROCBASED_CTLS2	0x0000048b
#define MSR_IA32_VMX_EPT_VPID_CAP	0x0000048c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS	0x0000048d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x0000048e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS	0x0000048f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS	0x00000490

/* IA32_VMX_BASIC (A.1). */
#define VMX_BASIC_REVISION_MASK		0x7fffffffull
#define VMX_BASIC_VMCS_SIZE(v)		(((v) >> 32) & 0x1fff)
#define VMX_BASIC_PA_32BIT		(1ull << 48)
#define VMX_BASIC_DUAL_MONITOR		(1ull << 49)
#define VMX_BASIC_MEM_TYPE(v)		(((v) >> 50) & 0xf)
#define VMX_BASIC_INOUT			(1ull << 54)	/* INS/OUTS exit info */
#define VMX_BASIC_TRUE_CTLS		(1ull << 55)	/* IA32_VMX_TRUE_* exist */

/*
 * The control MSRs (A.3-A.5): bits 31:0 are the allowed 0-settings (a 1
 * means the control must be 1), bits 63:32 the allowed 1-settings (a 1
 * means it may be 1).
 */
#define VMX_CTLS_ALLOWED0(v)		((uint32_t)(v))
#define VMX_CTLS_ALLOWED1(v)		((uint32_t)((v) >> 32))

/* IA32_VMX_MISC (A.6). */
#define VMX_MISC_PREEMPTION_RATE(v)	((v) & 0x1f)	/* timer ticks when TSC bit N flips */
#define VMX_MISC_STORE_LMA		(1ull << 5)	/* exits store EFER.LMA in "IA-32e mode guest" */
#define VMX_MISC_ACTIVITY_HLT		(1ull << 6)
#define VMX_MISC_ACTIVITY_SHUTDOWN	(1ull << 7)
#define VMX_MISC_ACTIVITY_WAIT_SIPI	(1ull << 8)
#define VMX_MISC_CR3_TARGETS(v)		(((v) >> 16) & 0x1ff)
#define VMX_MISC_MAX_MSR_LIST(v)	(512u * ((((v) >> 25) & 7) + 1))
#define VMX_MISC_VMWRITE_ANY_FIELD	(1ull << 29)
#define VMX_MISC_ZERO_LEN_INJECTION	(1ull << 30)

/* IA32_VMX_VMCS_ENUM (A.9): bits 9:1 the highest field index. */
#define VMX_VMCS_ENUM_MAX_INDEX(v)	(((v) >> 1) & 0x1ff)

/* IA32_VMX_EPT_VPID_CAP (A.10). */
#define VMX_EPT_EXECUTE_ONLY		(1ull << 0)
#define VMX_EPT_PAGE_WALK_4		(1ull << 6)
#define VMX_EPT_MEMTYPE_UC		(1ull << 8)
#define VMX_EPT_MEMTYPE_WB		(1ull << 14)
#define VMX_EPT_2MB_PAGE		(1ull << 16)
#define VMX_EPT_1GB_PAGE		(1ull << 17)
#define VMX_EPT_INVEPT			(1ull << 20)
#define VMX_EPT_AD			(1ull << 21)
#define VMX_EPT_ADVANCED_EXIT_INFO	(1ull << 22)
#define VMX_EPT_INVEPT_SINGLE_CONTEXT	(1ull << 25)
#define VMX_EPT_INVEPT_ALL_CONTEXT	(1ull << 26)
#define VMX_VPID_INVVPID		(1ull << 32)
#define VMX_VPID_INVVPID_INDIVIDUAL_ADDR (1ull << 40)
#define VMX_VPID_INVVPID_SINGLE_CONTEXT	(1ull << 41)
#define VMX_VPID_INVVPID_ALL_CONTEXT	(1ull << 42)
#define VMX_VPID_INVVPID_SINGLE_CONTEXT_RETAIN_GLOBALS (1ull << 43)

/*
 * RDMSR of a VMX capability MSR (hw/vmx_caps.c), for hw_rdmsr(): 0 and the
 * value, or -EINVAL (#GP) when @msr is not one this processor has (any
 * MSR on an AMD machine). The MSRs are read-only: WRMSR raises #GP.
 */
int vmx_cap_rdmsr(const struct hw_cpu *cpu, uint32_t msr, uint64_t *val);

#endif
