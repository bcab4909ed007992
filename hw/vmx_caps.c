/*
 * vmx_caps.c — the VMX capability MSRs (SDM Vol. 3D Appendix A): what
 * this processor's VMX implements, stated exactly. A hypervisor reads
 * them to pick its controls (A.2's algorithm); VM entry checks the
 * controls against the same values (hw/, the entry checks), so an offered
 * bit is a promise the model keeps and an unoffered one is refused.
 *
 * Control MSRs (A.3-A.5) encode allowed 0-settings in bits 31:0 (1 =
 * must be 1) and allowed 1-settings in bits 63:32 (1 = may be 1). The
 * "default1" controls of each group (reserved bits that read as 1 on
 * the first VMX processors) must be 1 in the original MSRs; because
 * IA32_VMX_BASIC[55] = 1, the IA32_VMX_TRUE_* MSRs (A.2) report which of
 * them this processor lets be 0: CR3-load and CR3-store exiting, and
 * save/load debug controls, the ones that name real behaviour. The
 * others stay 1 in both.
 *
 * What the model does not do is simply absent: no MSR load/store lists
 * (VM entry requires the three MSR counts to be 0, although VMX_MISC
 * says 512 entries are recommended: A.6 allows no "0 entries" value),
 * no TPR shadow or APIC virtualization, no VMCS shadowing, no VM
 * functions (so IA32_VMX_VMFUNC does not exist), no SMM dual-monitor.
 */
#include <errno.h>

#include "hw/vmcs.h"

#define BIT(n) (1ull << (n))

/* Allowed-0 and allowed-1 settings as one MSR value. */
#define CTLS(must_be_1, may_be_1) \
	((uint64_t)(must_be_1) | (uint64_t)((must_be_1) | (may_be_1)) << 32)

/* IA32_VMX_BASIC (A.1). */
#define VMX_MEMTYPE_WB 6ull
static const uint64_t vmx_basic =
	VMX_VMCS_REVISION |			/* 30:0; bit 31 = 0 */
	(uint64_t)HV_PAGE_SIZE << 32 |		/* 44:32 region size */
	VMX_MEMTYPE_WB << 50 |			/* 53:50 VMCS memory type */
	VMX_BASIC_INOUT |			/* 54 INS/OUTS exit info */
	VMX_BASIC_TRUE_CTLS;			/* 55 TRUE_* MSRs */
/* Bit 48 = 0: addresses are not limited to 32 bits. Bit 49 = 0: no
 * dual-monitor treatment of SMM. Bit 56 = 0: entry checks that a
 * hardware exception is injected with an error code when it has one. */

static const uint32_t pin_offered =
	VMX_PIN_EXT_INTR_EXITING | VMX_PIN_NMI_EXITING |
	VMX_PIN_VIRTUAL_NMIS | VMX_PIN_PREEMPTION_TIMER;

static const uint32_t proc_offered =
	VMX_PROC_INTR_WINDOW_EXITING | VMX_PROC_TSC_OFFSETTING |
	VMX_PROC_HLT_EXITING | VMX_PROC_INVLPG_EXITING |
	VMX_PROC_MWAIT_EXITING | VMX_PROC_RDPMC_EXITING |
	VMX_PROC_RDTSC_EXITING | VMX_PROC_CR3_LOAD_EXITING |
	VMX_PROC_CR3_STORE_EXITING | VMX_PROC_CR8_LOAD_EXITING |
	VMX_PROC_CR8_STORE_EXITING | VMX_PROC_NMI_WINDOW_EXITING |
	VMX_PROC_MOV_DR_EXITING | VMX_PROC_UNCOND_IO_EXITING |
	VMX_PROC_IO_BITMAPS | VMX_PROC_MSR_BITMAPS |
	VMX_PROC_MONITOR_EXITING | VMX_PROC_PAUSE_EXITING |
	VMX_PROC_SECONDARY_CTLS;
/* The default1 controls the TRUE MSR lets be 0 (A.3.2). */
static const uint32_t proc_true_relaxed =
	VMX_PROC_CR3_LOAD_EXITING | VMX_PROC_CR3_STORE_EXITING;

/* Secondary controls have no default1 bits (A.3.3). */
static const uint32_t proc2_offered =
	VMX_PROC2_EPT | VMX_PROC2_VPID | VMX_PROC2_UNRESTRICTED_GUEST |
	VMX_PROC2_RDTSCP | VMX_PROC2_INVPCID;

static const uint32_t exit_offered =
	VMX_EXIT_CTL_SAVE_DEBUG_CTLS | VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE |
	VMX_EXIT_CTL_ACK_INTR_ON_EXIT | VMX_EXIT_CTL_SAVE_PAT |
	VMX_EXIT_CTL_LOAD_PAT | VMX_EXIT_CTL_SAVE_EFER |
	VMX_EXIT_CTL_LOAD_EFER;
static const uint32_t exit_true_relaxed = VMX_EXIT_CTL_SAVE_DEBUG_CTLS;

static const uint32_t entry_offered =
	VMX_ENTRY_CTL_LOAD_DEBUG_CTLS | VMX_ENTRY_CTL_IA32E_MODE_GUEST |
	VMX_ENTRY_CTL_LOAD_PAT | VMX_ENTRY_CTL_LOAD_EFER;
static const uint32_t entry_true_relaxed = VMX_ENTRY_CTL_LOAD_DEBUG_CTLS;

/*
 * IA32_VMX_MISC (A.6). The preemption timer counts down by one each
 * time bit 5 of the TSC (the modeled cycle count) changes, i.e. every
 * 32 cycles, a rate common on Intel parts. Bit 5 must be 1 on a
 * processor offering unrestricted guest: VM exits store IA32_EFER.LMA
 * into the "IA-32e mode guest" entry control.
 */
#define VMX_PREEMPTION_RATE 5
#define VMX_CR3_TARGETS 4ull
static const uint64_t vmx_misc =
	VMX_PREEMPTION_RATE |
	VMX_MISC_STORE_LMA |
	VMX_MISC_ACTIVITY_HLT |			/* HLT only of the 3 states */
	VMX_CR3_TARGETS << 16;
/* 27:25 = 0 (512 MSR-list entries recommended), 28 = 0 (no SMM
 * monitor), 29 = 0 (VMWRITE to exit-information fields fails), 30 = 0
 * (no zero-length instruction injection), 63:32 = 0 (no MSEG). */

/* Fixed bits in VMX operation (A.7, A.8). Unrestricted guest relaxes
 * CR0.PE and CR0.PG for the guest; that is the entry checks' business,
 * not these MSRs'. */
#define CR0_PE BIT(0)
#define CR0_NE BIT(5)
#define CR0_PG BIT(31)
static const uint64_t cr0_fixed0 = CR0_PG | CR0_NE | CR0_PE;
static const uint64_t cr0_fixed1 = 0xffffffffull;
static const uint64_t cr4_fixed0 = HW_CR4_VMXE;
/* Every CR4 bit the processor implements may be 1 (hw_cr4_valid(): the
 * model's bits less the features the machine leaves out), so guest and
 * host CR4 checks at entry refuse exactly the bits MOV CR4 would. */

/* IA32_VMX_EPT_VPID_CAP (A.10). */
static const uint64_t ept_vpid_cap =
	VMX_EPT_EXECUTE_ONLY | VMX_EPT_PAGE_WALK_4 | VMX_EPT_MEMTYPE_WB |
	VMX_EPT_2MB_PAGE | VMX_EPT_1GB_PAGE | VMX_EPT_INVEPT | VMX_EPT_AD |
	VMX_EPT_INVEPT_SINGLE_CONTEXT | VMX_EPT_INVEPT_ALL_CONTEXT |
	VMX_VPID_INVVPID | VMX_VPID_INVVPID_INDIVIDUAL_ADDR |
	VMX_VPID_INVVPID_SINGLE_CONTEXT | VMX_VPID_INVVPID_ALL_CONTEXT |
	VMX_VPID_INVVPID_SINGLE_CONTEXT_RETAIN_GLOBALS;

int vmx_cap_rdmsr(const struct hw_cpu *cpu, uint32_t msr, uint64_t *val)
{
	if (cpu->m->cfg.vendor != HW_VENDOR_INTEL)
		return -EINVAL;
	switch (msr) {
	case MSR_IA32_VMX_BASIC:
		*val = vmx_basic;
		return 0;
	case MSR_IA32_VMX_PINBASED_CTLS:
	case MSR_IA32_VMX_TRUE_PINBASED_CTLS:
		*val = CTLS(VMX_PIN_DEFAULT1, pin_offered);
		return 0;
	case MSR_IA32_VMX_PROCBASED_CTLS:
		*val = CTLS(VMX_PROC_DEFAULT1, proc_offered);
		return 0;
	case MSR_IA32_VMX_TRUE_PROCBASED_CTLS:
		*val = CTLS(VMX_PROC_DEFAULT1 & ~proc_true_relaxed, proc_offered);
		return 0;
	case MSR_IA32_VMX_EXIT_CTLS:
		*val = CTLS(VMX_EXIT_CTL_DEFAULT1, exit_offered);
		return 0;
	case MSR_IA32_VMX_TRUE_EXIT_CTLS:
		*val = CTLS(VMX_EXIT_CTL_DEFAULT1 & ~exit_true_relaxed, exit_offered);
		return 0;
	case MSR_IA32_VMX_ENTRY_CTLS:
		*val = CTLS(VMX_ENTRY_CTL_DEFAULT1, entry_offered);
		return 0;
	case MSR_IA32_VMX_TRUE_ENTRY_CTLS:
		*val = CTLS(VMX_ENTRY_CTL_DEFAULT1 & ~entry_true_relaxed, entry_offered);
		return 0;
	case MSR_IA32_VMX_PROCBASED_CTLS2:
		*val = CTLS(0, proc2_offered);
		return 0;
	case MSR_IA32_VMX_MISC:
		*val = vmx_misc;
		return 0;
	case MSR_IA32_VMX_CR0_FIXED0:
		*val = cr0_fixed0;
		return 0;
	case MSR_IA32_VMX_CR0_FIXED1:
		*val = cr0_fixed1;
		return 0;
	case MSR_IA32_VMX_CR4_FIXED0:
		*val = cr4_fixed0;
		return 0;
	case MSR_IA32_VMX_CR4_FIXED1:
		*val = hw_cr4_valid(cpu->m) | HW_CR4_VMXE;
		return 0;
	case MSR_IA32_VMX_VMCS_ENUM:
		*val = (uint64_t)vmcs_max_index() << 1;
		return 0;
	case MSR_IA32_VMX_EPT_VPID_CAP:
		*val = ept_vpid_cap;
		return 0;
	default:
		return -EINVAL;
	}
}
