/*
 * vmx_invalid.c — can VM entry take the guest's state as it is? The
 * state_runnable op (backends/backend.h), KVM's guest_state_valid().
 *
 * With EPT the vcpu runs with "unrestricted guest" and the processor
 * takes real mode and real-mode segment leftovers itself. Without it
 * (HV_MMU_SHADOW) VM entry demands CR0.PE = 1 (SDM Vol. 3C 27.3.1.1,
 * 26.3.1.1 in editions before 2023: PE is then in IA32_VMX_CR0_FIXED0),
 * and the segment registers must pass the protected-mode rules of
 * 27.3.1.2 (26.3.1.2), which states a guest passes through on its way
 * between real and protected mode break: after MOV CR0 sets PE, CS, SS,
 * DS ... still hold real-mode selectors (any RPL) and whatever access
 * rights the last descriptor load left (real mode keeps them, SDM Vol.
 * 3A 10.9.1, 20.1.1). While this says no, core emulates (core/
 * invalid_state.c).
 *
 * Decision table (not unrestricted; "fails" = not runnable):
 *
 *   guest CR0.PE = 0 (read shadow)                         fails
 *   RFLAGS.VM = 1: CS SS DS ES FS GS base = sel * 16,
 *     limit 0xffff, access rights 0xf3                      else fails
 *   CS: accessed code (type 9, 11, 13, 15), S = 1, P = 1;
 *     non-conforming DPL = SS.DPL, conforming DPL <= SS.DPL  else fails
 *   SS.RPL = CS.RPL; SS.DPL = SS.RPL                        else fails
 *   SS usable: type 3 or 7, S = 1, P = 1                    else fails
 *   DS ES FS GS usable: accessed, not execute-only code,
 *     S = 1, P = 1, type <= 11 (not conforming code):
 *     DPL >= RPL                                            else fails
 *
 * Left to the processor, which refuses them at entry (HVX_FAIL_ENTRY):
 * the rules no guest instruction can break — reserved access-rights
 * bits, G against the limit, base widths, TR and LDTR (loaded only from
 * checked descriptors, and real mode leaves them alone) — so a state a
 * VMM set badly with hv_set_sregs is reported, not emulated forever.
 */
#include <assert.h>

#include "backends/vmx/vmx.h"

/* Access rights in the VMCS layout (SDM Vol. 3C 25.4.1, Table 25-2). */
#define AR_TYPE(ar)	((ar) & 0xfu)
#define AR_S		(1u << 4)
#define AR_DPL(ar)	(((ar) >> 5) & 3u)
#define AR_P		(1u << 7)
#define AR_UNUSABLE	(1u << 16)

/* Segment type bits (SDM Vol. 3A 3.4.5.1, Table 3-1). */
#define TYPE_ACCESSED	1u
#define TYPE_READABLE	2u	/* code */
#define TYPE_CONFORMING	4u	/* code */
#define TYPE_CODE	8u

#define RFLAGS_VM (1ull << 17)

/* The virtual-8086 access rights: present, DPL 3, read/write accessed
 * data (27.3.1.2). */
#define AR_V86 0xf3u

struct vseg {
	uint64_t base;
	uint32_t limit, ar;
	uint16_t sel;
};

static void read_seg(struct vmx_vcpu *vmx, enum hv_seg i, struct vseg *s)
{
	s->sel = (uint16_t)vmcs_get(vmx, VMCS_GUEST_ES_SELECTOR + 2 * i);
	s->base = vmcs_get(vmx, VMCS_GUEST_ES_BASE + 2 * i);
	s->limit = (uint32_t)vmcs_get(vmx, VMCS_GUEST_ES_LIMIT + 2 * i);
	s->ar = (uint32_t)vmcs_get(vmx, VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * i);
}
static_assert(VMCS_GUEST_GS_SELECTOR == VMCS_GUEST_ES_SELECTOR + 2 * HV_SEG_GS, "stride");
static_assert(VMCS_GUEST_GS_ACCESS_RIGHTS == VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * HV_SEG_GS,
	      "stride");

static unsigned rpl(const struct vseg *s)
{
	return s->sel & 3u;
}

static bool usable(const struct vseg *s)
{
	return !(s->ar & AR_UNUSABLE);
}

static bool v86_ok(const struct vseg *s)
{
	return s->base == (uint64_t)s->sel << 4 && s->limit == 0xffff && s->ar == AR_V86;
}

static bool cs_ok(const struct vseg *cs, const struct vseg *ss)
{
	const unsigned type = AR_TYPE(cs->ar);
	if (!(type & TYPE_CODE) || !(type & TYPE_ACCESSED) || !(cs->ar & AR_S) ||
	    !(cs->ar & AR_P) || (cs->ar & AR_UNUSABLE))
		return false;
	if (type & TYPE_CONFORMING)
		return AR_DPL(cs->ar) <= AR_DPL(ss->ar);
	return AR_DPL(cs->ar) == AR_DPL(ss->ar);
}

static bool ss_ok(const struct vseg *cs, const struct vseg *ss)
{
	if (rpl(ss) != rpl(cs) || AR_DPL(ss->ar) != rpl(ss))
		return false;
	if (!usable(ss))
		return true;
	const unsigned type = AR_TYPE(ss->ar);
	return (type == 3 || type == 7) && (ss->ar & AR_S) && (ss->ar & AR_P);
}

static bool data_ok(const struct vseg *s)
{
	const unsigned type = AR_TYPE(s->ar);
	if (!usable(s))
		return true;
	if (!(type & TYPE_ACCESSED) || !(s->ar & AR_S) || !(s->ar & AR_P))
		return false;
	if ((type & TYPE_CODE) && !(type & TYPE_READABLE))
		return false;
	/* Types 12-15 are conforming code, exempt from the RPL rule. */
	return type > 11 || AR_DPL(s->ar) >= rpl(s);
}

bool vmx_state_runnable(struct hv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct vseg s[HV_SEG_GS + 1];

	if (vmx->ctls.proc2 & VMX_PROC2_UNRESTRICTED_GUEST)
		return true;
	if (!(vmx_get_cr(vcpu, 0) & VMX_CR0_PE))
		return false;
	for (unsigned i = HV_SEG_ES; i <= HV_SEG_GS; i++)
		read_seg(vmx, i, &s[i]);
	if (vmcs_get(vmx, VMCS_GUEST_RFLAGS) & RFLAGS_VM) {
		for (unsigned i = HV_SEG_ES; i <= HV_SEG_GS; i++)
			if (!v86_ok(&s[i]))
				return false;
		return true;
	}
	if (!cs_ok(&s[HV_SEG_CS], &s[HV_SEG_SS]) || !ss_ok(&s[HV_SEG_CS], &s[HV_SEG_SS]))
		return false;
	static const enum hv_seg data[] = { HV_SEG_DS, HV_SEG_ES, HV_SEG_FS, HV_SEG_GS };
	for (unsigned k = 0; k < 4; k++)
		if (!data_ok(&s[data[k]]))
			return false;
	return true;
}
