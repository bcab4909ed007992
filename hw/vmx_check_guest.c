/*
 * vmx_check_guest.c — the checks VM entry makes on the guest-state area
 * (SDM Vol. 3C 27.3.1), after the controls and host state passed
 * (vmx_check.c). A failure here is not an instruction failure: VM entry
 * "fails" into a VM exit with basic reason 33 (invalid guest state) and
 * bit 31 set, and the exit qualification says which kind of rule failed
 * (27.8): 0 for almost everything, 2 for the PDPTEs (27.3.1.6), 4 for
 * the VMCS link pointer. vmx_check_guest_state() returns that
 * qualification plus one, so 0 still means "valid".
 *
 * The rules follow the SDM's subsections in order; within the segment
 * registers (27.3.1.2) they are grouped by register rather than by
 * sub-field, which changes no outcome (every segment rule has
 * qualification 0). Terms, as the SDM uses them:
 *
 *   IA-32e mode guest   the "IA-32e mode guest" VM-entry control is 1
 *   virtual-8086        RFLAGS.VM is 1 in the guest RFLAGS field
 *   unrestricted        "unrestricted guest" is 1 (secondary controls
 *                       activated); CR0.PE and CR0.PG then escape the
 *                       fixed-bit check and real mode (PE = 0) is allowed
 *   usable              bit 16 (unusable) of the access rights is 0
 *
 * What the processor does not offer drops its rules: CET (CR4.CET is
 * not allowed-1, so "CR4.CET needs CR0.WP" and the SSP rules cannot
 * apply), SMM (blocking by SMI must then be 0), SGX (enclave interruption
 * must be 0), RTM (pending-debug bit 16 must be 0), VMCS shadowing (the
 * link pointer's target must have shadow indicator 0), and the shutdown
 * and wait-for-SIPI activity states (IA32_VMX_MISC offers only HLT).
 * IA32_DEBUGCTL is not implemented at all (hw/msr.h), so every bit of its
 * field is reserved. A processor may refuse blocking by STI while an NMI
 * is injected; this one does not.
 */
#include "hw/vmx_check.h"
#include "hw/vmx_state.h"

/* Exit qualifications of a failed VM entry (SDM Vol. 3C 27.8). */
#define QUAL_DEFAULT	0
#define QUAL_PDPTE	2
#define QUAL_LINK_PTR	4

/* Control-register bits (SDM Vol. 3A 2.5). */
#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PCIDE (1ull << 17)

/* Access-rights fields (SDM Vol. 3C 25.4.1, Table 25-2). */
#define AR_TYPE(ar)	((ar) & 0xfu)
#define AR_S		(1u << 4)
#define AR_DPL(ar)	(((ar) >> 5) & 3u)
#define AR_P		(1u << 7)
#define AR_RSVD_11_8	0xf00u
#define AR_L		(1u << 13)
#define AR_DB		(1u << 14)
#define AR_G		(1u << 15)
#define AR_UNUSABLE	(1u << 16)
#define AR_RSVD_31_17	0xfffe0000u

/* Segment types (SDM Vol. 3A 3.4.5.1, Table 3-1; 3.5, Table 3-2). */
#define TYPE_ACCESSED	1u
#define TYPE_READABLE	2u	/* a code segment's bit 1 */
#define TYPE_CODE	8u
#define TYPE_LDT	2u
#define TYPE_TSS16_BUSY	3u
#define TYPE_TSS_BUSY	11u

/* RFLAGS (SDM Vol. 1 3.4.3): bit 1 reads as 1; 3, 5, 15, 63:22 are 0. */
#define RFLAGS_FIXED1	(1ull << 1)
#define RFLAGS_RSVD	((1ull << 3) | (1ull << 5) | (1ull << 15) | (~0ull << 22))
#define RFLAGS_TF	(1ull << 8)
#define RFLAGS_IF	(1ull << 9)
#define RFLAGS_VM	(1ull << 17)

/* Pending debug exceptions (25.4.2, Table 25-4): B3-B0 (3:0), enabled
 * breakpoint (12), BS (14). Bit 16 (RTM) needs RTM; all else is 0. */
#define PENDING_DBG_VALID	(0xfull | (1ull << 12) | (1ull << 14))
#define PENDING_DBG_BS		(1ull << 14)
#define DEBUGCTL_BTF		(1ull << 1)

/* PAE PDPTE reserved bits (SDM Vol. 3A 4.4.1, Table 4-8): 2:1, 8:5,
 * 63:MAXPHYADDR. */
#define PDPTE_P		1ull
#define PDPTE_RSVD	(0x1e6ull | (~0ull << HW_MAXPHYADDR))

/* What several rules look at, read once. */
struct guest {
	uint32_t pin, proc2, entry;
	bool ia32e, unrestricted, v86;
	uint64_t cr0, cr4, rflags;
	uint32_t intr_info;	/* VM-entry interruption information */
};

/* One segment register's four fields. */
struct seg {
	uint64_t base;
	uint32_t limit, ar;
	uint16_t sel;
};

enum { ES, CS, SS, DS, FS, GS, LDTR, TR, NR_SEGS };

/*
 * Reasons for the rules several registers share, one string literal per
 * register so that *why outlives the call: index by register, then by
 * enum seg_rule.
 */
enum seg_rule {
	R_P, R_RSVD_11_8, R_G, R_RSVD_31_17,	/* common_ar_problem() */
	R_BASE_CANONICAL, R_BASE_HIGH,		/* base fields */
	R_NOT_ACCESSED, R_EXEC_ONLY, R_S0, R_DPL_RPL,	/* DS, ES, FS, GS */
	R_V86_BASE, R_V86_LIMIT, R_V86_AR,	/* virtual-8086 */
	NR_SEG_RULES
};

#define SEG_REASONS(r) {							\
	"guest " r " access rights: P is 0",					\
	"guest " r " access rights: reserved bits 11:8 are not 0",		\
	"guest " r " access rights: G does not match the limit",		\
	"guest " r " access rights: reserved bits 31:17 are not 0",		\
	"guest " r " base is not canonical",					\
	"guest " r " base bits 63:32 are not 0",				\
	"guest " r " type is not accessed",					\
	"guest " r " is an execute-only code segment",				\
	"guest " r " access rights: S is 0",					\
	"guest " r " DPL is below its selector's RPL",				\
	"guest " r " base is not selector * 16 (virtual-8086)",		\
	"guest " r " limit is not 0xffff (virtual-8086)",			\
	"guest " r " access rights are not 0xf3 (virtual-8086)",		\
}

static const char *const seg_reason[NR_SEGS][NR_SEG_RULES] = {
	SEG_REASONS("ES"), SEG_REASONS("CS"), SEG_REASONS("SS"), SEG_REASONS("DS"),
	SEG_REASONS("FS"), SEG_REASONS("GS"), SEG_REASONS("LDTR"), SEG_REASONS("TR"),
};

static int fail(const char **why, const char *msg, int qual)
{
	if (why)
		*why = msg;
	return qual + 1;
}

/* ------------------------------------------------------------ 27.3.1.1 */

static int check_control_regs(struct hw_cpu *cpu, const struct guest *g, const char **why)
{
	/* Unrestricted guest frees CR0.PE and CR0.PG from the fixed bits. */
	const uint64_t cr0_free = g->unrestricted ? (CR0_PE | CR0_PG) : 0;

	if (!vmx_cr_fixed_ok(cpu, g->cr0, MSR_IA32_VMX_CR0_FIXED0, cr0_free))
		return fail(why, "guest CR0 not allowed by IA32_VMX_CR0_FIXED0/1", QUAL_DEFAULT);
	if ((g->cr0 & CR0_PG) && !(g->cr0 & CR0_PE))
		return fail(why, "guest CR0.PG is 1 with CR0.PE 0", QUAL_DEFAULT);
	if (!vmx_cr_fixed_ok(cpu, g->cr4, MSR_IA32_VMX_CR4_FIXED0, 0))
		return fail(why, "guest CR4 not allowed by IA32_VMX_CR4_FIXED0/1", QUAL_DEFAULT);
	if (g->ia32e && !(g->cr0 & CR0_PG))
		return fail(why, "IA-32e mode guest with guest CR0.PG 0", QUAL_DEFAULT);
	if (g->ia32e && !(g->cr4 & CR4_PAE))
		return fail(why, "IA-32e mode guest with guest CR4.PAE 0", QUAL_DEFAULT);
	if (!g->ia32e && (g->cr4 & CR4_PCIDE))
		return fail(why, "guest CR4.PCIDE is 1 outside IA-32e mode", QUAL_DEFAULT);
	if (!vmx_pa_fits(vmcs_read(cpu, VMCS_GUEST_CR3)))
		return fail(why, "guest CR3 sets bits beyond the physical-address width", QUAL_DEFAULT);
	if (g->entry & VMX_ENTRY_CTL_LOAD_DEBUG_CTLS) {
		if (vmcs_read(cpu, VMCS_GUEST_IA32_DEBUGCTL))
			return fail(why, "guest IA32_DEBUGCTL sets a reserved bit", QUAL_DEFAULT);
		if (vmcs_read(cpu, VMCS_GUEST_DR7) >> 32)
			return fail(why, "guest DR7 bits 63:32 are not 0", QUAL_DEFAULT);
	}
	if (!vmx_is_canonical(vmcs_read(cpu, VMCS_GUEST_IA32_SYSENTER_ESP)))
		return fail(why, "guest IA32_SYSENTER_ESP is not canonical", QUAL_DEFAULT);
	if (!vmx_is_canonical(vmcs_read(cpu, VMCS_GUEST_IA32_SYSENTER_EIP)))
		return fail(why, "guest IA32_SYSENTER_EIP is not canonical", QUAL_DEFAULT);
	if ((g->entry & VMX_ENTRY_CTL_LOAD_PAT) &&
	    !vmx_pat_valid(vmcs_read(cpu, VMCS_GUEST_IA32_PAT)))
		return fail(why, "guest IA32_PAT has a reserved memory type", QUAL_DEFAULT);
	if (g->entry & VMX_ENTRY_CTL_LOAD_EFER) {
		const uint64_t efer = vmcs_read(cpu, VMCS_GUEST_IA32_EFER);
		if (efer & ~VMX_EFER_VALID)
			return fail(why, "guest IA32_EFER sets a reserved bit", QUAL_DEFAULT);
		if (!!(efer & EFER_LMA) != g->ia32e)
			return fail(why, "guest IA32_EFER.LMA differs from IA-32e mode guest", QUAL_DEFAULT);
		if ((g->cr0 & CR0_PG) && !!(efer & EFER_LME) != g->ia32e)
			return fail(why, "guest IA32_EFER.LME differs from IA-32e mode guest with CR0.PG 1",
				    QUAL_DEFAULT);
	}
	return 0;
}

/* ------------------------------------------------------------ 27.3.1.2 */

static void read_segs(struct hw_cpu *cpu, struct seg s[NR_SEGS])
{
	/* Each group of fields is in ES CS SS DS FS GS LDTR TR order with a
	 * stride of 2 (Appendix B). */
	for (unsigned i = 0; i < NR_SEGS; i++) {
		s[i].sel = (uint16_t)vmcs_read(cpu, VMCS_GUEST_ES_SELECTOR + 2 * i);
		s[i].base = vmcs_read(cpu, VMCS_GUEST_ES_BASE + 2 * i);
		s[i].limit = (uint32_t)vmcs_read(cpu, VMCS_GUEST_ES_LIMIT + 2 * i);
		s[i].ar = (uint32_t)vmcs_read(cpu, VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * i);
	}
}
static_assert(VMCS_GUEST_TR_SELECTOR == VMCS_GUEST_ES_SELECTOR + 2 * TR, "selector stride");
static_assert(VMCS_GUEST_TR_BASE == VMCS_GUEST_ES_BASE + 2 * TR, "base stride");
static_assert(VMCS_GUEST_TR_LIMIT == VMCS_GUEST_ES_LIMIT + 2 * TR, "limit stride");
static_assert(VMCS_GUEST_TR_ACCESS_RIGHTS == VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * TR, "AR stride");

static bool usable(const struct seg *s)
{
	return !(s->ar & AR_UNUSABLE);
}

/* Granularity against the limit: a limit with any of bits 11:0 clear
 * needs G = 0 (byte units); one above 0xfffff needs G = 1. */
static bool limit_matches_g(const struct seg *s)
{
	if ((s->limit & 0xfff) != 0xfff && (s->ar & AR_G))
		return false;
	if ((s->limit >> 20) && !(s->ar & AR_G))
		return false;
	return true;
}

/*
 * The sub-fields every checked segment shares (S aside): P, reserved
 * bits 11:8 and 31:17, G. Returns the rule that failed, or -1.
 */
static int common_ar_problem(const struct seg *s)
{
	if (!(s->ar & AR_P))
		return R_P;
	if (s->ar & AR_RSVD_11_8)
		return R_RSVD_11_8;
	if (!limit_matches_g(s))
		return R_G;
	if (s->ar & AR_RSVD_31_17)
		return R_RSVD_31_17;
	return -1;
}

/* Segment register @i broke @rule. */
static int seg_fail(const char **why, unsigned i, enum seg_rule rule)
{
	return fail(why, seg_reason[i][rule], QUAL_DEFAULT);
}

/* A one-register rule failed. */
static int seg_fail_msg(const char **why, const char *msg)
{
	return fail(why, msg, QUAL_DEFAULT);
}

/* Virtual-8086 guest (RFLAGS.VM = 1): CS, SS, DS, ES, FS, GS are real-mode
 * style segments: base = selector * 16, limit 0xffff, AR 0xf3. */
static int check_v86_segs(const struct seg s[NR_SEGS], const char **why)
{
	for (unsigned i = ES; i <= GS; i++) {
		if (s[i].base != (uint64_t)s[i].sel << 4)
			return seg_fail(why, i, R_V86_BASE);
		if (s[i].limit != 0xffff)
			return seg_fail(why, i, R_V86_LIMIT);
		if (s[i].ar != 0xf3)
			return seg_fail(why, i, R_V86_AR);
	}
	return 0;
}

/* CS, SS, DS, ES, FS, GS outside virtual-8086 mode: the access rights,
 * sub-field by sub-field as 27.3.1.2 lists them. */
static int check_prot_segs(const struct guest *g, const struct seg s[NR_SEGS],
			   const char **why)
{
	const unsigned cs_type = AR_TYPE(s[CS].ar), ss_dpl = AR_DPL(s[SS].ar);
	int bad;

	/* CS: always checked. Type 3 (read/write accessed data) is the
	 * real-mode CS an unrestricted guest may have, with DPL 0. */
	if (!(cs_type == 9 || cs_type == 11 || cs_type == 13 || cs_type == 15 ||
	      (cs_type == 3 && g->unrestricted)))
		return seg_fail_msg(why, "guest CS type is not an accessed code segment "
				    "(or 3 with unrestricted guest)");
	if (!(s[CS].ar & AR_S))
		return seg_fail(why, CS, R_S0);
	if (cs_type == 3 && AR_DPL(s[CS].ar) != 0)
		return seg_fail_msg(why, "guest CS DPL is not 0 with type 3");
	if ((cs_type == 9 || cs_type == 11) && AR_DPL(s[CS].ar) != ss_dpl)
		return seg_fail_msg(why, "guest CS DPL (non-conforming) differs from SS.DPL");
	if ((cs_type == 13 || cs_type == 15) && AR_DPL(s[CS].ar) > ss_dpl)
		return seg_fail_msg(why, "guest CS DPL (conforming) is above SS.DPL");
	if ((bad = common_ar_problem(&s[CS])) >= 0)
		return seg_fail(why, CS, bad);
	if (g->ia32e && (s[CS].ar & AR_L) && (s[CS].ar & AR_DB))
		return seg_fail_msg(why, "guest CS has L and D/B both 1 in IA-32e mode");

	/* SS: its DPL is the CPL, so those rules hold even when unusable. */
	if (usable(&s[SS]) && AR_TYPE(s[SS].ar) != 3 && AR_TYPE(s[SS].ar) != 7)
		return seg_fail_msg(why, "guest SS type is not read/write accessed data");
	if (!g->unrestricted && ss_dpl != (s[SS].sel & 3u))
		return seg_fail_msg(why, "guest SS DPL differs from its selector's RPL");
	if ((cs_type == 3 || !(g->cr0 & CR0_PE)) && ss_dpl != 0)
		return seg_fail_msg(why, "guest SS DPL is not 0 (CS type 3 or CR0.PE 0)");
	if (usable(&s[SS])) {
		if (!(s[SS].ar & AR_S))
			return seg_fail(why, SS, R_S0);
		if ((bad = common_ar_problem(&s[SS])) >= 0)
			return seg_fail(why, SS, bad);
	}

	/* DS, ES, FS, GS: only when usable. */
	static const unsigned data[] = { DS, ES, FS, GS };
	for (unsigned k = 0; k < 4; k++) {
		const unsigned i = data[k];
		const unsigned type = AR_TYPE(s[i].ar);
		if (!usable(&s[i]))
			continue;
		if (!(type & TYPE_ACCESSED))
			return seg_fail(why, i, R_NOT_ACCESSED);
		if ((type & TYPE_CODE) && !(type & TYPE_READABLE))
			return seg_fail(why, i, R_EXEC_ONLY);
		if (!(s[i].ar & AR_S))
			return seg_fail(why, i, R_S0);
		if (!g->unrestricted && type <= 11 && AR_DPL(s[i].ar) < (s[i].sel & 3u))
			return seg_fail(why, i, R_DPL_RPL);
		if ((bad = common_ar_problem(&s[i])) >= 0)
			return seg_fail(why, i, bad);
	}
	return 0;
}

/* TR (always) and LDTR (when usable): system segments. */
static int check_system_segs(const struct guest *g, const struct seg s[NR_SEGS],
			     const char **why)
{
	const unsigned tr_type = AR_TYPE(s[TR].ar);
	int bad;

	if (!(tr_type == TYPE_TSS_BUSY || (tr_type == TYPE_TSS16_BUSY && !g->ia32e)))
		return seg_fail_msg(why, g->ia32e ? "guest TR type is not 11 (busy 64-bit TSS)" :
				    "guest TR type is not 3 or 11 (busy TSS)");
	if (s[TR].ar & AR_S)
		return seg_fail_msg(why, "guest TR access rights: S is 1");
	if (s[TR].ar & AR_UNUSABLE)
		return seg_fail_msg(why, "guest TR is unusable");
	if ((bad = common_ar_problem(&s[TR])) >= 0)
		return seg_fail(why, TR, bad);

	if (!usable(&s[LDTR]))
		return 0;
	if (AR_TYPE(s[LDTR].ar) != TYPE_LDT)
		return seg_fail_msg(why, "guest LDTR type is not 2 (LDT)");
	if (s[LDTR].ar & AR_S)
		return seg_fail_msg(why, "guest LDTR access rights: S is 1");
	if ((bad = common_ar_problem(&s[LDTR])) >= 0)
		return seg_fail(why, LDTR, bad);
	return 0;
}

static int check_segments(struct hw_cpu *cpu, const struct guest *g, const char **why)
{
	struct seg s[NR_SEGS];
	int r;

	read_segs(cpu, s);

	/* Selector fields. */
	if (s[TR].sel & 4)
		return seg_fail_msg(why, "guest TR selector has TI 1");
	if (usable(&s[LDTR]) && (s[LDTR].sel & 4))
		return seg_fail_msg(why, "guest LDTR selector has TI 1");
	if (!g->v86 && !g->unrestricted && (s[SS].sel & 3u) != (s[CS].sel & 3u))
		return seg_fail_msg(why, "guest SS selector RPL differs from CS's");

	/* Base-address fields (the virtual-8086 rule is in check_v86_segs). */
	static const unsigned canon[] = { TR, FS, GS, LDTR };
	for (unsigned k = 0; k < 4; k++) {
		const unsigned i = canon[k];
		if ((i != LDTR || usable(&s[i])) && !vmx_is_canonical(s[i].base))
			return seg_fail(why, i, R_BASE_CANONICAL);
	}
	static const unsigned low4g[] = { CS, SS, DS, ES };
	for (unsigned k = 0; k < 4; k++) {
		const unsigned i = low4g[k];
		if ((i == CS || usable(&s[i])) && (s[i].base >> 32))
			return seg_fail(why, i, R_BASE_HIGH);
	}

	/* Limits and access rights. */
	r = g->v86 ? check_v86_segs(s, why) : check_prot_segs(g, s, why);
	if (r)
		return r;
	return check_system_segs(g, s, why);
}

/* ------------------------------------------------------------ 27.3.1.3, 27.3.1.4 */

static int check_dtables_rip_rflags(struct hw_cpu *cpu, const struct guest *g, const char **why)
{
	if (!vmx_is_canonical(vmcs_read(cpu, VMCS_GUEST_GDTR_BASE)))
		return fail(why, "guest GDTR base is not canonical", QUAL_DEFAULT);
	if (!vmx_is_canonical(vmcs_read(cpu, VMCS_GUEST_IDTR_BASE)))
		return fail(why, "guest IDTR base is not canonical", QUAL_DEFAULT);
	if (vmcs_read(cpu, VMCS_GUEST_GDTR_LIMIT) >> 16)
		return fail(why, "guest GDTR limit bits 31:16 are not 0", QUAL_DEFAULT);
	if (vmcs_read(cpu, VMCS_GUEST_IDTR_LIMIT) >> 16)
		return fail(why, "guest IDTR limit bits 31:16 are not 0", QUAL_DEFAULT);

	/* RIP: 64 bits only in 64-bit mode (IA-32e mode guest and CS.L). */
	const uint64_t rip = vmcs_read(cpu, VMCS_GUEST_RIP);
	const bool cs_l = vmcs_read(cpu, VMCS_GUEST_CS_ACCESS_RIGHTS) & AR_L;
	if ((!g->ia32e || !cs_l) && (rip >> 32))
		return fail(why, "guest RIP bits 63:32 are not 0 outside 64-bit mode", QUAL_DEFAULT);
	if (g->ia32e && cs_l && !vmx_is_canonical(rip))
		return fail(why, "guest RIP is not canonical in 64-bit mode", QUAL_DEFAULT);

	if ((g->rflags & RFLAGS_RSVD) || !(g->rflags & RFLAGS_FIXED1))
		return fail(why, "guest RFLAGS reserved bits are wrong (1 must be 1; 3, 5, 15, 63:22 0)",
			    QUAL_DEFAULT);
	if ((g->ia32e || !(g->cr0 & CR0_PE)) && (g->rflags & RFLAGS_VM))
		return fail(why, "guest RFLAGS.VM is 1 in IA-32e mode or with CR0.PE 0", QUAL_DEFAULT);
	if ((g->intr_info & VMX_INTR_INFO_VALID) &&
	    (g->intr_info & VMX_INTR_INFO_TYPE_MASK) >> VMX_INTR_INFO_TYPE_SHIFT ==
	    VMX_INTR_TYPE_EXT_INTR && !(g->rflags & RFLAGS_IF))
		return fail(why, "guest RFLAGS.IF is 0 while injecting an external interrupt",
			    QUAL_DEFAULT);
	return 0;
}

/* ------------------------------------------------------------ 27.3.1.5 */

/* May an event of @type and @vector be injected into a guest in HLT? */
static bool allowed_in_hlt(unsigned type, unsigned vector)
{
	switch (type) {
	case VMX_INTR_TYPE_EXT_INTR:
	case VMX_INTR_TYPE_NMI:
		return true;
	case VMX_INTR_TYPE_HARD_EXCEPTION:
		return vector == 1 || vector == 18;	/* #DB, #MC */
	case VMX_INTR_TYPE_OTHER_EVENT:
		return vector == 0;			/* pending MTF VM exit */
	default:
		return false;
	}
}

/* Is @state an activity state IA32_VMX_MISC offers? Active always is. */
static bool activity_offered(uint64_t misc, uint64_t state)
{
	switch (state) {
	case VMX_ACTIVITY_ACTIVE:	return true;
	case VMX_ACTIVITY_HLT:		return misc & VMX_MISC_ACTIVITY_HLT;
	case VMX_ACTIVITY_SHUTDOWN:	return misc & VMX_MISC_ACTIVITY_SHUTDOWN;
	case VMX_ACTIVITY_WAIT_SIPI:	return misc & VMX_MISC_ACTIVITY_WAIT_SIPI;
	default:			return false;
	}
}

static int check_link_pointer(struct hw_cpu *cpu, const char **why)
{
	const uint64_t link = vmcs_read(cpu, VMCS_LINK_POINTER);
	if (link == ~0ull)
		return 0;
	if (link & (HV_PAGE_SIZE - 1))
		return fail(why, "VMCS link pointer bits 11:0 are not 0", QUAL_LINK_PTR);
	if (!vmx_pa_fits(link))
		return fail(why, "VMCS link pointer sets bits beyond the physical-address width",
			    QUAL_LINK_PTR);
	/* Bits 30:0 the revision identifier, bit 31 the "VMCS shadowing"
	 * setting, which is 0. Outside the arena this reads all ones. */
	if (vmcs_region_revision(cpu->m, link) != VMX_VMCS_REVISION)
		return fail(why, "VMCS link pointer does not reference a VMCS of this revision "
			    "(with shadow indicator 0)", QUAL_LINK_PTR);
	if (link == cpu->vmx.current_vmcs)
		return fail(why, "VMCS link pointer is the current VMCS", QUAL_LINK_PTR);
	return 0;
}

static int check_non_register_state(struct hw_cpu *cpu, const struct guest *g, const char **why)
{
	const uint64_t misc = vmx_check_cap(cpu, MSR_IA32_VMX_MISC);
	const uint64_t activity = vmcs_read(cpu, VMCS_GUEST_ACTIVITY_STATE);
	const uint32_t intr = (uint32_t)vmcs_read(cpu, VMCS_GUEST_INTERRUPTIBILITY);
	const uint64_t pending = vmcs_read(cpu, VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	const bool inject = g->intr_info & VMX_INTR_INFO_VALID;
	const unsigned type = (g->intr_info & VMX_INTR_INFO_TYPE_MASK) >> VMX_INTR_INFO_TYPE_SHIFT;
	const unsigned vector = g->intr_info & VMX_INTR_INFO_VECTOR_MASK;
	const bool sti = intr & VMX_INTERRUPTIBILITY_STI, movss = intr & VMX_INTERRUPTIBILITY_MOV_SS;

	/* Activity state. */
	if (!activity_offered(misc, activity))
		return fail(why, "guest activity state is not one IA32_VMX_MISC offers", QUAL_DEFAULT);
	if (activity == VMX_ACTIVITY_HLT &&
	    AR_DPL(vmcs_read(cpu, VMCS_GUEST_SS_ACCESS_RIGHTS)) != 0)
		return fail(why, "guest activity state HLT with SS.DPL not 0", QUAL_DEFAULT);
	if ((sti || movss) && activity != VMX_ACTIVITY_ACTIVE)
		return fail(why, "guest blocking by STI or MOV SS outside the active state",
			    QUAL_DEFAULT);
	if (inject && activity == VMX_ACTIVITY_HLT && !allowed_in_hlt(type, vector))
		return fail(why, "injected event would be blocked in the HLT state", QUAL_DEFAULT);

	/* Interruptibility state. */
	if (intr & ~0xfu)
		return fail(why, "guest interruptibility bits 31:4 are not 0 (no SGX)", QUAL_DEFAULT);
	if (sti && movss)
		return fail(why, "guest blocking by both STI and MOV SS", QUAL_DEFAULT);
	if (sti && !(g->rflags & RFLAGS_IF))
		return fail(why, "guest blocking by STI with RFLAGS.IF 0", QUAL_DEFAULT);
	if (inject && type == VMX_INTR_TYPE_EXT_INTR && (sti || movss))
		return fail(why, "external interrupt injected under blocking by STI or MOV SS",
			    QUAL_DEFAULT);
	if (inject && type == VMX_INTR_TYPE_NMI && movss)
		return fail(why, "NMI injected under blocking by MOV SS", QUAL_DEFAULT);
	if (intr & VMX_INTERRUPTIBILITY_SMI)
		return fail(why, "guest blocking by SMI outside SMM", QUAL_DEFAULT);
	/* With "virtual NMIs" 0 an NMI may be injected under NMI blocking
	 * (the SDM's note to this rule). */
	if ((g->pin & VMX_PIN_VIRTUAL_NMIS) && inject && type == VMX_INTR_TYPE_NMI &&
	    (intr & VMX_INTERRUPTIBILITY_NMI))
		return fail(why, "NMI injected under virtual-NMI blocking", QUAL_DEFAULT);

	/* Pending debug exceptions. BS is pending exactly when a single
	 * step (TF without BTF) was cut short by the blocking or HLT. */
	if (pending & ~PENDING_DBG_VALID)
		return fail(why, "guest pending debug exceptions set a reserved bit", QUAL_DEFAULT);
	if (sti || movss || activity == VMX_ACTIVITY_HLT) {
		const bool step = (g->rflags & RFLAGS_TF) &&
				  !(vmcs_read(cpu, VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);
		if (!!(pending & PENDING_DBG_BS) != step)
			return fail(why, step ? "pending BS is 0 with RFLAGS.TF 1 (and BTF 0)" :
				    "pending BS is 1 without a single step (TF 0 or BTF 1)",
				    QUAL_DEFAULT);
	}

	return check_link_pointer(cpu, why);
}

/* ------------------------------------------------------------ 27.3.1.6 */

/*
 * A guest using PAE paging (CR0.PG, CR4.PAE, not IA-32e mode) enters with
 * valid PDPTEs, by the rule MOV to CR3 applies: a present entry has no
 * reserved bit. With EPT they are the VMCS's PDPTE fields; without, the
 * 32 bytes CR3 (bits 31:5) points to, read as a MOV to CR3 would.
 */
static int check_pdptes(struct hw_cpu *cpu, const struct guest *g, const char **why)
{
	static const uint32_t field[4] = {
		VMCS_GUEST_PDPTE0, VMCS_GUEST_PDPTE1, VMCS_GUEST_PDPTE2, VMCS_GUEST_PDPTE3,
	};
	uint64_t pdpte[4];

	if (!(g->cr0 & CR0_PG) || !(g->cr4 & CR4_PAE) || g->ia32e)
		return 0;
	if (g->proc2 & VMX_PROC2_EPT) {
		for (unsigned i = 0; i < 4; i++)
			pdpte[i] = vmcs_read(cpu, field[i]);
	} else {
		const hpa_t pa = vmcs_read(cpu, VMCS_GUEST_CR3) & 0xffffffe0ull;
		const uint64_t *p = hw_hpa_ptr(cpu->m, pa, sizeof(pdpte));
		/* Nothing decodes addresses outside the arena: all ones. */
		for (unsigned i = 0; i < 4; i++)
			pdpte[i] = p ? __atomic_load_n(&p[i], __ATOMIC_RELAXED) : ~0ull;
	}
	for (unsigned i = 0; i < 4; i++)
		if ((pdpte[i] & PDPTE_P) && (pdpte[i] & PDPTE_RSVD))
			return fail(why, "guest PDPTE is present with a reserved bit set", QUAL_PDPTE);
	return 0;
}

/* SDM Vol. 3C 27.3.1: the guest-state area, after 27.2's checks passed. */
int vmx_check_guest_state(struct hw_cpu *cpu, const char **why)
{
	struct guest g;
	int r;

	g.pin = (uint32_t)vmcs_read(cpu, VMCS_PIN_BASED_CTLS);
	g.proc2 = (vmcs_read(cpu, VMCS_PROC_BASED_CTLS) & VMX_PROC_SECONDARY_CTLS) ?
		  (uint32_t)vmcs_read(cpu, VMCS_PROC_BASED_CTLS2) : 0;
	g.entry = (uint32_t)vmcs_read(cpu, VMCS_ENTRY_CTLS);
	g.ia32e = g.entry & VMX_ENTRY_CTL_IA32E_MODE_GUEST;
	g.unrestricted = g.proc2 & VMX_PROC2_UNRESTRICTED_GUEST;
	g.cr0 = vmcs_read(cpu, VMCS_GUEST_CR0);
	g.cr4 = vmcs_read(cpu, VMCS_GUEST_CR4);
	g.rflags = vmcs_read(cpu, VMCS_GUEST_RFLAGS);
	g.v86 = g.rflags & RFLAGS_VM;
	g.intr_info = (uint32_t)vmcs_read(cpu, VMCS_ENTRY_INTR_INFO);

	if ((r = check_control_regs(cpu, &g, why)) ||
	    (r = check_segments(cpu, &g, why)) ||
	    (r = check_dtables_rip_rflags(cpu, &g, why)) ||
	    (r = check_non_register_state(cpu, &g, why)) ||
	    (r = check_pdptes(cpu, &g, why)))
		return r;
	return 0;
}
