/*
 * vmx_check.c — the checks VMLAUNCH/VMRESUME make on the VMX controls
 * and on the host-state area before anything is loaded (SDM Vol. 3C
 * 27.2). A failure makes the instruction fail with VMfailValid and
 * VM-instruction error 7 (controls, 27.2.1) or 8 (host state, 27.2.2 to
 * 27.2.4); the processor stays in VMX root operation and nothing else
 * changes. The guest-state checks (27.3.1) are in vmx_check_guest.c.
 *
 * Each rule is one `if (...) return *_fail(why, "...")` line in the SDM's
 * order, its bullet cited. The SDM states many rules for features this
 * processor does not offer (TPR shadow, APIC virtualization, posted
 * interrupts, PML, VM functions, VMCS shadowing, #VE, tertiary controls,
 * saving the preemption-timer value, CET, PKRS, SMM): each reduces to
 * "that control is 0", which the capability-MSR check at the top of each
 * control word already enforces, so they are not repeated here.
 *
 * MSR lists: IA32_VMX_MISC[27:25] = 0 recommends at most 512 entries
 * (A.6 has no encoding for "none"), but the processor has no MSR-load or
 * MSR-store lists (their address fields are not in hw/vmcs_fields.def).
 * VM entry therefore requires the three counts to be 0 and fails with
 * error 7 otherwise, where silicon would accept an aligned list address.
 *
 * The host is hvlab itself, 64-bit code: the processor is always in
 * IA-32e mode when it executes VMLAUNCH, so 27.2.4 requires "host
 * address-space size" = 1, and the rules for a 0 setting (a null SS,
 * "IA-32e mode guest" = 0, CR4.PCIDE = 0, RIP[63:32] = 0) are never
 * reached.
 */
#include "hw/vmx_check.h"
#include "hw/vmx_state.h"

/* Control-register bits (SDM Vol. 3A 2.5). */
#define CR0_PE (1ull << 0)
#define CR4_PAE (1ull << 5)

/* Bits 63:12 of a 4-KByte aligned address; bits 11:0 must be 0. */
#define PAGE_OFFSET_MASK (HV_PAGE_SIZE - 1)

uint64_t vmx_check_cap(const struct hw_cpu *cpu, uint32_t msr)
{
	uint64_t v = 0;
	if (vmx_cap_rdmsr(cpu, msr, &v))
		return 0;
	return v;
}

bool vmx_cr_fixed_ok(const struct hw_cpu *cpu, uint64_t cr, uint32_t fixed0_msr,
		     uint64_t ignore)
{
	const uint64_t fixed0 = vmx_check_cap(cpu, fixed0_msr) & ~ignore;
	const uint64_t fixed1 = vmx_check_cap(cpu, fixed0_msr + 1) | ignore;
	return (cr & fixed0) == fixed0 && !(cr & ~fixed1);
}

bool vmx_pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		const unsigned t = (pat >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static int ctl_fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return VMX_ERR_ENTRY_INVALID_CTLS;
}

static int host_fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return VMX_ERR_ENTRY_INVALID_HOST_STATE;
}

/*
 * A control word against its capability MSR (A.3-A.5): every allowed-0
 * bit (31:0 of the MSR) set, no bit outside the allowed-1 settings
 * (63:32).
 */
static bool ctls_allowed(uint32_t ctls, uint64_t cap)
{
	const uint32_t must = VMX_CTLS_ALLOWED0(cap), may = VMX_CTLS_ALLOWED1(cap);
	return (ctls & must) == must && !(ctls & ~may);
}

/* An I/O or MSR bitmap address (27.2.1.1): 4-KByte aligned, within the
 * physical-address width. */
static bool bitmap_addr_ok(uint64_t pa)
{
	return !(pa & PAGE_OFFSET_MASK) && vmx_pa_fits(pa);
}

/*
 * The EPTP (27.2.1.1, format in 25.6.11): a memory type (2:0) and a
 * page-walk length minus one (5:3) IA32_VMX_EPT_VPID_CAP offers, the
 * accessed/dirty enable (6) only if offered, bits 11:7 reserved (bit 7
 * is the shadow-stack enable, and there is no CET), no address bit
 * beyond the width.
 */
static const char *eptp_problem(const struct hw_cpu *cpu, uint64_t eptp)
{
	const uint64_t cap = vmx_check_cap(cpu, MSR_IA32_VMX_EPT_VPID_CAP);
	const unsigned type = eptp & 7, walk = (eptp >> 3) & 7;

	if (!(type == 0 && (cap & VMX_EPT_MEMTYPE_UC)) &&
	    !(type == 6 && (cap & VMX_EPT_MEMTYPE_WB)))
		return "EPTP memory type is not one IA32_VMX_EPT_VPID_CAP offers";
	if (!(walk == 3 && (cap & VMX_EPT_PAGE_WALK_4)))
		return "EPTP page-walk length is not 4";
	if ((eptp & (1ull << 6)) && !(cap & VMX_EPT_AD))
		return "EPTP enables accessed/dirty flags, which are not offered";
	if (eptp & 0xf80)
		return "EPTP reserved bits 11:7 are not 0";
	if (!vmx_pa_fits(eptp))
		return "EPTP sets bits beyond the physical-address width";
	return NULL;
}

/*
 * The VM-entry interruption-information field and the fields it uses
 * (27.2.1.3, "event injection"). @proc2 is the secondary controls as
 * they apply (0 when not activated).
 */
static int check_injection(struct hw_cpu *cpu, uint32_t proc2, const char **why)
{
	const uint32_t info = (uint32_t)vmcs_read(cpu, VMCS_ENTRY_INTR_INFO);
	if (!(info & VMX_INTR_INFO_VALID))
		return 0;
	const unsigned type = (info & VMX_INTR_INFO_TYPE_MASK) >> VMX_INTR_INFO_TYPE_SHIFT;
	const unsigned vector = info & VMX_INTR_INFO_VECTOR_MASK;
	const uint64_t proc_cap = vmx_check_cap(cpu, MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	const uint64_t misc = vmx_check_cap(cpu, MSR_IA32_VMX_MISC);

	/* Interruption type: 1 is reserved; 7 (other event, a pending MTF
	 * VM exit) needs "monitor trap flag" support, which is not offered,
	 * so its "vector is 0" rule cannot be reached. */
	if (type == 1)
		return ctl_fail(why, "injected event has reserved interruption type 1");
	if (type == VMX_INTR_TYPE_OTHER_EVENT &&
	    !(VMX_CTLS_ALLOWED1(proc_cap) & VMX_PROC_MONITOR_TRAP_FLAG))
		return ctl_fail(why, "injected event has type 7 without monitor-trap-flag support");
	/* Vector. */
	if (type == VMX_INTR_TYPE_NMI && vector != 2)
		return ctl_fail(why, "injected NMI does not have vector 2");
	if (type == VMX_INTR_TYPE_HARD_EXCEPTION && vector > 31)
		return ctl_fail(why, "injected hardware exception has a vector above 31");
	/*
	 * Deliver-error-code (bit 11) is 1 exactly for a hardware exception
	 * that has an error code (#DF, #TS, #NP, #SS, #GP, #PF, #AC) going to
	 * a guest in protected mode ("unrestricted guest" 0, or CR0.PE 1).
	 * IA32_VMX_BASIC[56] = 0, so the rule is not relaxed.
	 */
	const bool prot = !(proc2 & VMX_PROC2_UNRESTRICTED_GUEST) ||
			  (vmcs_read(cpu, VMCS_GUEST_CR0) & CR0_PE);
	const bool has_code = vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
	const bool want_code = prot && type == VMX_INTR_TYPE_HARD_EXCEPTION && has_code;
	if (!!(info & VMX_INTR_INFO_ERROR_CODE) != want_code)
		return ctl_fail(why, want_code ?
				"injected exception needs its error code (deliver-error-code is 0)" :
				"deliver-error-code is 1 for an event that has no error code");
	if (info & 0x7ffff000u)
		return ctl_fail(why, "VM-entry interruption information reserved bits 30:12 are not 0");
	if ((info & VMX_INTR_INFO_ERROR_CODE) &&
	    (vmcs_read(cpu, VMCS_ENTRY_EXCEPTION_ERROR_CODE) >> 16))
		return ctl_fail(why, "VM-entry exception error code bits 31:16 are not 0");
	/* Instruction length for software interrupts and exceptions: 1-15,
	 * or 0 if IA32_VMX_MISC[30] allows it (it does not here). */
	if (type == VMX_INTR_TYPE_SOFT_INTR || type == VMX_INTR_TYPE_PRIV_SOFT_EXCEPTION ||
	    type == VMX_INTR_TYPE_SOFT_EXCEPTION) {
		const uint64_t len = vmcs_read(cpu, VMCS_ENTRY_INSTRUCTION_LEN);
		if (len > 15 || (len == 0 && !(misc & VMX_MISC_ZERO_LEN_INJECTION)))
			return ctl_fail(why, "VM-entry instruction length is not in 1-15");
	}
	return 0;
}

/* SDM Vol. 3C 27.2.1: the VM-execution, VM-exit and VM-entry controls. */
int vmx_check_controls(struct hw_cpu *cpu, const char **why)
{
	const uint32_t pin = (uint32_t)vmcs_read(cpu, VMCS_PIN_BASED_CTLS);
	const uint32_t proc = (uint32_t)vmcs_read(cpu, VMCS_PROC_BASED_CTLS);
	const uint32_t exit = (uint32_t)vmcs_read(cpu, VMCS_EXIT_CTLS);
	const uint32_t entry = (uint32_t)vmcs_read(cpu, VMCS_ENTRY_CTLS);
	const uint64_t misc = vmx_check_cap(cpu, MSR_IA32_VMX_MISC);
	uint32_t proc2 = 0;

	/*
	 * 27.2.1.1 VM-execution controls. IA32_VMX_BASIC[55] = 1, so the
	 * reserved bits are those of the TRUE_* MSRs (A.2). The secondary
	 * controls are checked, and count, only when activated; otherwise
	 * they are all 0.
	 */
	if (!ctls_allowed(pin, vmx_check_cap(cpu, MSR_IA32_VMX_TRUE_PINBASED_CTLS)))
		return ctl_fail(why, "pin-based controls not allowed by IA32_VMX_TRUE_PINBASED_CTLS");
	if (!ctls_allowed(proc, vmx_check_cap(cpu, MSR_IA32_VMX_TRUE_PROCBASED_CTLS)))
		return ctl_fail(why, "processor-based controls not allowed by IA32_VMX_TRUE_PROCBASED_CTLS");
	if (proc & VMX_PROC_SECONDARY_CTLS) {
		proc2 = (uint32_t)vmcs_read(cpu, VMCS_PROC_BASED_CTLS2);
		if (!ctls_allowed(proc2, vmx_check_cap(cpu, MSR_IA32_VMX_PROCBASED_CTLS2)))
			return ctl_fail(why, "secondary controls not allowed by IA32_VMX_PROCBASED_CTLS2");
	}
	if (vmcs_read(cpu, VMCS_CR3_TARGET_COUNT) > VMX_MISC_CR3_TARGETS(misc))
		return ctl_fail(why, "CR3-target count is above 4");
	if ((proc & VMX_PROC_IO_BITMAPS) &&
	    (!bitmap_addr_ok(vmcs_read(cpu, VMCS_IO_BITMAP_A)) ||
	     !bitmap_addr_ok(vmcs_read(cpu, VMCS_IO_BITMAP_B))))
		return ctl_fail(why, "I/O bitmap address not 4-KByte aligned or beyond the width");
	if ((proc & VMX_PROC_MSR_BITMAPS) && !bitmap_addr_ok(vmcs_read(cpu, VMCS_MSR_BITMAP)))
		return ctl_fail(why, "MSR bitmap address not 4-KByte aligned or beyond the width");
	if (!(pin & VMX_PIN_NMI_EXITING) && (pin & VMX_PIN_VIRTUAL_NMIS))
		return ctl_fail(why, "virtual NMIs is 1 with NMI exiting 0");
	if (!(pin & VMX_PIN_VIRTUAL_NMIS) && (proc & VMX_PROC_NMI_WINDOW_EXITING))
		return ctl_fail(why, "NMI-window exiting is 1 with virtual NMIs 0");
	if ((proc2 & VMX_PROC2_VPID) && vmcs_read(cpu, VMCS_VPID) == 0)
		return ctl_fail(why, "enable VPID is 1 with VPID 0");
	if (proc2 & VMX_PROC2_EPT) {
		const char *bad = eptp_problem(cpu, vmcs_read(cpu, VMCS_EPT_POINTER));
		if (bad)
			return ctl_fail(why, bad);
	}
	if ((proc2 & VMX_PROC2_UNRESTRICTED_GUEST) && !(proc2 & VMX_PROC2_EPT))
		return ctl_fail(why, "unrestricted guest is 1 with enable EPT 0");

	/* 27.2.1.2 VM-exit controls. */
	if (!ctls_allowed(exit, vmx_check_cap(cpu, MSR_IA32_VMX_TRUE_EXIT_CTLS)))
		return ctl_fail(why, "VM-exit controls not allowed by IA32_VMX_TRUE_EXIT_CTLS");
	if (vmcs_read(cpu, VMCS_EXIT_MSR_STORE_COUNT))
		return ctl_fail(why, "VM-exit MSR-store count is not 0 (no MSR lists)");
	if (vmcs_read(cpu, VMCS_EXIT_MSR_LOAD_COUNT))
		return ctl_fail(why, "VM-exit MSR-load count is not 0 (no MSR lists)");

	/* 27.2.1.3 VM-entry controls. "Entry to SMM" and "deactivate
	 * dual-monitor treatment" must be 0 outside SMM: neither is
	 * allowed-1, so the first line covers them. */
	if (!ctls_allowed(entry, vmx_check_cap(cpu, MSR_IA32_VMX_TRUE_ENTRY_CTLS)))
		return ctl_fail(why, "VM-entry controls not allowed by IA32_VMX_TRUE_ENTRY_CTLS");
	int r = check_injection(cpu, proc2, why);
	if (r)
		return r;
	if (vmcs_read(cpu, VMCS_ENTRY_MSR_LOAD_COUNT))
		return ctl_fail(why, "VM-entry MSR-load count is not 0 (no MSR lists)");
	return 0;
}

/* Host selector fields (27.2.3), in Appendix B order. */
static const struct {
	uint32_t field;
	const char *rpl_ti;	/* why, when RPL or TI is not 0 */
} host_sel[] = {
	{ VMCS_HOST_ES_SELECTOR, "host ES selector has RPL or TI set" },
	{ VMCS_HOST_CS_SELECTOR, "host CS selector has RPL or TI set" },
	{ VMCS_HOST_SS_SELECTOR, "host SS selector has RPL or TI set" },
	{ VMCS_HOST_DS_SELECTOR, "host DS selector has RPL or TI set" },
	{ VMCS_HOST_FS_SELECTOR, "host FS selector has RPL or TI set" },
	{ VMCS_HOST_GS_SELECTOR, "host GS selector has RPL or TI set" },
	{ VMCS_HOST_TR_SELECTOR, "host TR selector has RPL or TI set" },
};

/* Host base-address fields that must be canonical (27.2.3). */
static const struct {
	uint32_t field;
	const char *why;
} host_base[] = {
	{ VMCS_HOST_FS_BASE, "host FS base is not canonical" },
	{ VMCS_HOST_GS_BASE, "host GS base is not canonical" },
	{ VMCS_HOST_GDTR_BASE, "host GDTR base is not canonical" },
	{ VMCS_HOST_IDTR_BASE, "host IDTR base is not canonical" },
	{ VMCS_HOST_TR_BASE, "host TR base is not canonical" },
};

/* SDM Vol. 3C 27.2.2-27.2.4: the host-state area. */
int vmx_check_host_state(struct hw_cpu *cpu, const char **why)
{
	const uint32_t exit = (uint32_t)vmcs_read(cpu, VMCS_EXIT_CTLS);
	const bool host64 = exit & VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE;
	const uint64_t cr4 = vmcs_read(cpu, VMCS_HOST_CR4);

	/* 27.2.2 Host control registers and MSRs. */
	if (!vmx_cr_fixed_ok(cpu, vmcs_read(cpu, VMCS_HOST_CR0), MSR_IA32_VMX_CR0_FIXED0, 0))
		return host_fail(why, "host CR0 not allowed by IA32_VMX_CR0_FIXED0/1");
	if (!vmx_cr_fixed_ok(cpu, cr4, MSR_IA32_VMX_CR4_FIXED0, 0))
		return host_fail(why, "host CR4 not allowed by IA32_VMX_CR4_FIXED0/1");
	if (!vmx_pa_fits(vmcs_read(cpu, VMCS_HOST_CR3)))
		return host_fail(why, "host CR3 sets bits beyond the physical-address width");
	if (!vmx_is_canonical(vmcs_read(cpu, VMCS_HOST_IA32_SYSENTER_ESP)))
		return host_fail(why, "host IA32_SYSENTER_ESP is not canonical");
	if (!vmx_is_canonical(vmcs_read(cpu, VMCS_HOST_IA32_SYSENTER_EIP)))
		return host_fail(why, "host IA32_SYSENTER_EIP is not canonical");
	if ((exit & VMX_EXIT_CTL_LOAD_PAT) && !vmx_pat_valid(vmcs_read(cpu, VMCS_HOST_IA32_PAT)))
		return host_fail(why, "host IA32_PAT has a reserved memory type");
	if (exit & VMX_EXIT_CTL_LOAD_EFER) {
		const uint64_t efer = vmcs_read(cpu, VMCS_HOST_IA32_EFER);
		if (efer & ~VMX_EFER_VALID)
			return host_fail(why, "host IA32_EFER sets a reserved bit");
		if (!!(efer & EFER_LMA) != host64)
			return host_fail(why, "host IA32_EFER.LMA differs from host address-space size");
		if (!!(efer & EFER_LME) != host64)
			return host_fail(why, "host IA32_EFER.LME differs from host address-space size");
	}

	/* 27.2.3 Host segment and descriptor-table registers. */
	for (unsigned i = 0; i < sizeof(host_sel) / sizeof(host_sel[0]); i++)
		if (vmcs_read(cpu, host_sel[i].field) & 7)
			return host_fail(why, host_sel[i].rpl_ti);
	if (vmcs_read(cpu, VMCS_HOST_CS_SELECTOR) == 0)
		return host_fail(why, "host CS selector is null");
	if (vmcs_read(cpu, VMCS_HOST_TR_SELECTOR) == 0)
		return host_fail(why, "host TR selector is null");
	for (unsigned i = 0; i < sizeof(host_base) / sizeof(host_base[0]); i++)
		if (!vmx_is_canonical(vmcs_read(cpu, host_base[i].field)))
			return host_fail(why, host_base[i].why);

	/* 27.2.4 Address-space size: the processor is in IA-32e mode (see
	 * the top of the file), so the host must be too. */
	if (!host64)
		return host_fail(why, "host address-space size is 0 but the processor is in IA-32e mode");
	if (!(cr4 & CR4_PAE))
		return host_fail(why, "host CR4.PAE is 0 with host address-space size 1");
	if (!vmx_is_canonical(vmcs_read(cpu, VMCS_HOST_RIP)))
		return host_fail(why, "host RIP is not canonical");
	return 0;
}
