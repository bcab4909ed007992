/*
 * vmcs_builder.c — a valid VMCS for tests (see vmcs_builder.h), filled
 * the way SDM Vol. 3C 27.2 and 27.3.1 require. Field encodings come from
 * hw/vmx.h (their values are checked against Appendix B by
 * test_hw_vmcs.c); every bit below is written from the manual.
 */
#include <errno.h>
#include <string.h>

#include "hw/vmx.h"
#include "tests/support/vmcs_builder.h"

/* Capability MSRs (SDM Vol. 4 Table 2-2). */
#define MSR_FEATURE_CONTROL	0x03a
#define MSR_VMX_BASIC		0x480
#define MSR_VMX_PROCBASED_CTLS2	0x48b
#define MSR_VMX_TRUE_PINBASED	0x48d
#define MSR_VMX_TRUE_PROCBASED	0x48e
#define MSR_VMX_TRUE_EXIT	0x48f
#define MSR_VMX_TRUE_ENTRY	0x490

/* Controls (SDM Vol. 3C 25.6.2, 25.7.1, 25.8.1). */
#define PROC_SECONDARY		(1u << 31)
#define PROC2_EPT		(1u << 1)
#define PROC2_VPID		(1u << 5)
#define PROC2_UNRESTRICTED	(1u << 7)
#define EXIT_SAVE_DEBUG		(1u << 2)
#define EXIT_HOST_64		(1u << 9)
#define EXIT_SAVE_PAT		(1u << 18)
#define EXIT_LOAD_PAT		(1u << 19)
#define EXIT_SAVE_EFER		(1u << 20)
#define EXIT_LOAD_EFER		(1u << 21)
#define ENTRY_LOAD_DEBUG	(1u << 2)
#define ENTRY_IA32E		(1u << 9)
#define ENTRY_LOAD_PAT		(1u << 14)
#define ENTRY_LOAD_EFER		(1u << 15)

/* Register values (SDM Vol. 3A 2.5, 2.2.1, 13.12.4; Vol. 1 3.4.3). */
#define CR0_LONG	0x80010033ull	/* PG WP NE ET MP PE */
#define CR0_REAL	0x00000030ull	/* NE ET */
#define CR0_HOST	0x80050033ull	/* PG AM WP NE ET MP PE */
#define CR4_VMXE	(1ull << 13)
#define CR4_LONG	0x000020a0ull	/* VMXE PGE PAE */
#define CR4_HOST	0x000020a0ull
#define EFER_LONG	0x0d01ull	/* NXE LMA LME SCE */
#define PAT_POWER_ON	0x0007040600070406ull
#define RFLAGS_FIXED	0x2ull
#define DR7_INIT	0x400ull

/* Access rights in the VMCS layout (SDM Vol. 3C 25.4.1, Table 25-2). */
#define AR_CODE64	0xa09bu		/* type 11, S, P, L, G */
#define AR_DATA32	0xc093u		/* type 3, S, P, D/B, G */
#define AR_CODE16	0x009bu		/* type 11, S, P */
#define AR_DATA16	0x0093u		/* type 3, S, P */
#define AR_TSS_BUSY	0x008bu		/* type 11 (busy 32/64-bit TSS), P */
#define AR_UNUSABLE	0x10000u

/* EPTP (SDM Vol. 3C 25.6.11): memory type WB, page-walk length 4. */
#define EPTP_WB_4LEVEL	(6ull | (3ull << 3))

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS  0x18

/* VMWRITE each pair; the first failure wins. */
struct field_val {
	uint32_t field;
	uint64_t val;
};

static int write_all(struct hw_cpu *cpu, const struct field_val *fv, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (vmwrite(cpu, fv[i].field, fv[i].val) != VMX_SUCCEED)
			return -EIO;
	return 0;
}

#define WRITE_ALL(cpu, arr) write_all((cpu), (arr), sizeof(arr) / sizeof((arr)[0]))

/*
 * A control word: the bits @msr says must be 1, plus @want. -EINVAL when
 * @want has a bit that may not be 1 (SDM Vol. 3D A.3-A.5: bits 31:0 of
 * the MSR are the allowed 0-settings, 63:32 the allowed 1-settings).
 */
static int pick(struct hw_cpu *cpu, uint32_t msr, uint32_t want, uint32_t *out)
{
	uint64_t cap;
	if (hw_rdmsr(cpu, msr, &cap))
		return -EIO;
	if (want & ~(uint32_t)(cap >> 32))
		return -EINVAL;
	*out = (uint32_t)cap | want;
	return 0;
}

/* Bits 30:0 of a region's first word: the revision; bit 31 clear. */
static int put_revision(struct hw_machine *m, uint64_t hpa, uint32_t rev)
{
	void *p = hw_hpa_ptr(m, hpa, 4);
	if (!p)
		return -EIO;
	memcpy(p, &rev, sizeof(rev));
	hw_hpa_written(m, hpa, 4);
	return 0;
}

int vmcs_build_enter(struct hw_machine *m, struct hw_cpu *cpu, uint64_t vmxon_hpa,
		     uint64_t vmcs_hpa)
{
	uint64_t basic, fc;

	if (hw_rdmsr(cpu, MSR_VMX_BASIC, &basic) || hw_rdmsr(cpu, MSR_FEATURE_CONTROL, &fc))
		return -EIO;
	/* Bit 0 lock, bit 2 VMXON outside SMX (SDM Vol. 3C 24.7). */
	if (!(fc & 1) && hw_wrmsr(cpu, MSR_FEATURE_CONTROL, 5))
		return -EIO;
	if (hw_write_cr(cpu, 0, CR0_HOST) || hw_write_cr(cpu, 4, CR4_HOST))
		return -EIO;
	const uint32_t rev = (uint32_t)basic & 0x7fffffff;
	if (put_revision(m, vmxon_hpa, rev) || put_revision(m, vmcs_hpa, rev))
		return -EIO;
	if (vmxon(cpu, vmxon_hpa) != VMX_SUCCEED || vmclear(cpu, vmcs_hpa) != VMX_SUCCEED ||
	    vmptrld(cpu, vmcs_hpa) != VMX_SUCCEED)
		return -EIO;
	return 0;
}

/* The controls for a guest; @ia32e and @unrestricted select the mode. */
static int write_controls(struct hw_cpu *cpu, const struct vmcs_build *b, bool ia32e,
			  bool unrestricted)
{
	uint32_t proc2_want = b->proc2;
	uint32_t pin, proc, proc2 = 0, exit, entry;
	int r;

	if (b->eptp)
		proc2_want |= PROC2_EPT;
	if (b->vpid)
		proc2_want |= PROC2_VPID;
	if (unrestricted)
		proc2_want |= PROC2_UNRESTRICTED;
	const uint32_t proc_want = b->proc | (proc2_want ? PROC_SECONDARY : 0);
	if ((r = pick(cpu, MSR_VMX_TRUE_PINBASED, b->pin, &pin)) ||
	    (r = pick(cpu, MSR_VMX_TRUE_PROCBASED, proc_want, &proc)) ||
	    (proc2_want && (r = pick(cpu, MSR_VMX_PROCBASED_CTLS2, proc2_want, &proc2))) ||
	    (r = pick(cpu, MSR_VMX_TRUE_EXIT, b->exit | EXIT_SAVE_DEBUG | EXIT_HOST_64 |
		      EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER, &exit)) ||
	    (r = pick(cpu, MSR_VMX_TRUE_ENTRY, b->entry | ENTRY_LOAD_DEBUG | ENTRY_LOAD_PAT |
		      ENTRY_LOAD_EFER | (ia32e ? ENTRY_IA32E : 0), &entry)))
		return r;

	const struct field_val fv[] = {
		{ VMCS_PIN_BASED_CTLS, pin },
		{ VMCS_PROC_BASED_CTLS, proc },
		{ VMCS_PROC_BASED_CTLS2, proc2 },
		{ VMCS_EXIT_CTLS, exit },
		{ VMCS_ENTRY_CTLS, entry },
		{ VMCS_VPID, b->vpid },
		{ VMCS_EPT_POINTER, b->eptp ? b->eptp | EPTP_WB_4LEVEL : 0 },
		{ VMCS_IO_BITMAP_A, 0 },
		{ VMCS_IO_BITMAP_B, 0 },
		{ VMCS_MSR_BITMAP, 0 },
		{ VMCS_TSC_OFFSET, 0 },
		{ VMCS_EXCEPTION_BITMAP, 0 },
		{ VMCS_PF_ERROR_CODE_MASK, 0 },
		{ VMCS_PF_ERROR_CODE_MATCH, 0 },
		{ VMCS_CR3_TARGET_COUNT, 0 },
		{ VMCS_CR3_TARGET_VALUE0, 0 },
		{ VMCS_CR3_TARGET_VALUE1, 0 },
		{ VMCS_CR3_TARGET_VALUE2, 0 },
		{ VMCS_CR3_TARGET_VALUE3, 0 },
		{ VMCS_EXIT_MSR_STORE_COUNT, 0 },
		{ VMCS_EXIT_MSR_LOAD_COUNT, 0 },
		{ VMCS_ENTRY_MSR_LOAD_COUNT, 0 },
		{ VMCS_ENTRY_INTR_INFO, 0 },
		{ VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0 },
		{ VMCS_ENTRY_INSTRUCTION_LEN, 0 },
		{ VMCS_TPR_THRESHOLD, 0 },
		{ VMCS_CR0_GUEST_HOST_MASK, 0 },
		{ VMCS_CR0_READ_SHADOW, 0 },
		{ VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE },
		{ VMCS_CR4_READ_SHADOW, 0 },
	};
	return WRITE_ALL(cpu, fv);
}

/* The host-state area: a 64-bit host at CPL 0. */
static int write_host(struct hw_cpu *cpu, const struct vmcs_build *b)
{
	const struct field_val fv[] = {
		{ VMCS_HOST_CR0, hw_read_cr(cpu, 0) },
		{ VMCS_HOST_CR3, b->host_cr3 },
		{ VMCS_HOST_CR4, hw_read_cr(cpu, 4) },
		{ VMCS_HOST_ES_SELECTOR, SEL_DATA },
		{ VMCS_HOST_CS_SELECTOR, SEL_CODE },
		{ VMCS_HOST_SS_SELECTOR, SEL_DATA },
		{ VMCS_HOST_DS_SELECTOR, SEL_DATA },
		{ VMCS_HOST_FS_SELECTOR, SEL_DATA },
		{ VMCS_HOST_GS_SELECTOR, SEL_DATA },
		{ VMCS_HOST_TR_SELECTOR, SEL_TSS },
		{ VMCS_HOST_FS_BASE, 0 },
		{ VMCS_HOST_GS_BASE, 0 },
		{ VMCS_HOST_TR_BASE, 0 },
		{ VMCS_HOST_GDTR_BASE, 0 },
		{ VMCS_HOST_IDTR_BASE, 0 },
		{ VMCS_HOST_IA32_SYSENTER_CS, 0 },
		{ VMCS_HOST_IA32_SYSENTER_ESP, 0 },
		{ VMCS_HOST_IA32_SYSENTER_EIP, 0 },
		{ VMCS_HOST_IA32_PAT, PAT_POWER_ON },
		{ VMCS_HOST_IA32_EFER, EFER_LONG },
		{ VMCS_HOST_RSP, b->host_rsp },
		{ VMCS_HOST_RIP, b->host_rip },
	};
	return WRITE_ALL(cpu, fv);
}

/* Guest fields both modes set alike. */
static int write_guest_common(struct hw_cpu *cpu)
{
	const struct field_val fv[] = {
		{ VMCS_GUEST_LDTR_SELECTOR, 0 },
		{ VMCS_GUEST_LDTR_BASE, 0 },
		{ VMCS_GUEST_LDTR_LIMIT, 0 },
		{ VMCS_GUEST_LDTR_ACCESS_RIGHTS, AR_UNUSABLE },
		{ VMCS_GUEST_TR_BASE, 0 },
		{ VMCS_GUEST_TR_ACCESS_RIGHTS, AR_TSS_BUSY },
		{ VMCS_GUEST_GDTR_BASE, 0 },
		{ VMCS_GUEST_IDTR_BASE, 0 },
		{ VMCS_GUEST_DR7, DR7_INIT },
		{ VMCS_GUEST_RFLAGS, RFLAGS_FIXED },
		{ VMCS_GUEST_IA32_DEBUGCTL, 0 },
		{ VMCS_GUEST_IA32_PAT, PAT_POWER_ON },
		{ VMCS_GUEST_IA32_SYSENTER_CS, 0 },
		{ VMCS_GUEST_IA32_SYSENTER_ESP, 0 },
		{ VMCS_GUEST_IA32_SYSENTER_EIP, 0 },
		{ VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0 },
		{ VMCS_GUEST_INTERRUPTIBILITY, 0 },
		{ VMCS_GUEST_ACTIVITY_STATE, 0 },
		{ VMCS_LINK_POINTER, ~0ull },
		{ VMCS_PREEMPTION_TIMER_VALUE, 0 },
		{ VMCS_GUEST_PDPTE0, 0 },
		{ VMCS_GUEST_PDPTE1, 0 },
		{ VMCS_GUEST_PDPTE2, 0 },
		{ VMCS_GUEST_PDPTE3, 0 },
	};
	return WRITE_ALL(cpu, fv);
}

/* CS, then SS DS ES FS GS alike (the VMCS orders ES CS SS DS FS GS). */
static int write_segments(struct hw_cpu *cpu, uint16_t cs_sel, uint64_t cs_base,
			  uint32_t cs_ar, uint16_t data_sel, uint32_t limit, uint32_t data_ar)
{
	static const uint32_t sel[] = {
		VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_DS_SELECTOR,
		VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR,
	};
	static const uint32_t base[] = {
		VMCS_GUEST_ES_BASE, VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE,
		VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
	};
	static const uint32_t lim[] = {
		VMCS_GUEST_ES_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,
		VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT,
	};
	static const uint32_t ar[] = {
		VMCS_GUEST_ES_ACCESS_RIGHTS, VMCS_GUEST_SS_ACCESS_RIGHTS,
		VMCS_GUEST_DS_ACCESS_RIGHTS, VMCS_GUEST_FS_ACCESS_RIGHTS,
		VMCS_GUEST_GS_ACCESS_RIGHTS,
	};
	const struct field_val fv[] = {
		{ VMCS_GUEST_CS_SELECTOR, cs_sel },
		{ VMCS_GUEST_CS_BASE, cs_base },
		{ VMCS_GUEST_CS_LIMIT, limit },
		{ VMCS_GUEST_CS_ACCESS_RIGHTS, cs_ar },
	};
	int r = WRITE_ALL(cpu, fv);
	for (unsigned i = 0; !r && i < 5; i++) {
		const struct field_val d[] = {
			{ sel[i], data_sel }, { base[i], 0 }, { lim[i], limit }, { ar[i], data_ar },
		};
		r = WRITE_ALL(cpu, d);
	}
	return r;
}

int vmcs_build_long_mode(struct hw_cpu *cpu, const struct vmcs_build *b)
{
	int r;
	if ((r = write_controls(cpu, b, true, false)) || (r = write_host(cpu, b)) ||
	    (r = write_guest_common(cpu)) ||
	    (r = write_segments(cpu, SEL_CODE, 0, AR_CODE64, SEL_DATA, 0xffffffff, AR_DATA32)))
		return r;
	const struct field_val fv[] = {
		{ VMCS_GUEST_CR0, CR0_LONG },
		{ VMCS_GUEST_CR3, b->guest_cr3 },
		{ VMCS_GUEST_CR4, CR4_LONG },
		{ VMCS_CR4_READ_SHADOW, CR4_LONG & ~CR4_VMXE },
		{ VMCS_GUEST_IA32_EFER, EFER_LONG },
		{ VMCS_GUEST_TR_SELECTOR, SEL_TSS },
		{ VMCS_GUEST_TR_LIMIT, 0x67 },
		{ VMCS_GUEST_GDTR_LIMIT, 0xffff },
		{ VMCS_GUEST_IDTR_LIMIT, 0xfff },
		{ VMCS_GUEST_RSP, b->guest_rsp },
		{ VMCS_GUEST_RIP, b->guest_rip },
	};
	return WRITE_ALL(cpu, fv);
}

int vmcs_build_real_mode(struct hw_cpu *cpu, const struct vmcs_build *b)
{
	int r;
	/* Unrestricted guest requires EPT (SDM Vol. 3C 27.2.1.1); real-mode
	 * addresses reach 1 MiB + 64 KiB at most, so start below 1 MiB. */
	if (!b->eptp || b->guest_rip >= (1ull << 20))
		return -EINVAL;
	const uint64_t cs_base = b->guest_rip & 0xf0000;
	if ((r = write_controls(cpu, b, false, true)) || (r = write_host(cpu, b)) ||
	    (r = write_guest_common(cpu)) ||
	    (r = write_segments(cpu, (uint16_t)(cs_base >> 4), cs_base, AR_CODE16, 0, 0xffff,
				AR_DATA16)))
		return r;
	const struct field_val fv[] = {
		{ VMCS_GUEST_CR0, CR0_REAL },
		{ VMCS_GUEST_CR3, 0 },
		{ VMCS_GUEST_CR4, CR4_VMXE },
		{ VMCS_CR0_READ_SHADOW, CR0_REAL },
		{ VMCS_GUEST_IA32_EFER, 0 },
		{ VMCS_GUEST_TR_SELECTOR, 0 },
		{ VMCS_GUEST_TR_LIMIT, 0xffff },
		{ VMCS_GUEST_GDTR_LIMIT, 0xffff },
		{ VMCS_GUEST_IDTR_LIMIT, 0x3ff },
		{ VMCS_GUEST_RSP, b->guest_rsp & 0xffff },
		{ VMCS_GUEST_RIP, b->guest_rip & 0xffff },
	};
	return WRITE_ALL(cpu, fv);
}
