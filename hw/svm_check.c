/*
 * svm_check.c — the consistency checks VMRUN makes on the guest state and
 * controls before it loads anything (APM Vol. 2 15.5.1, "Canonicalization
 * and Consistency Checks"). Any failure makes VMRUN exit at once with
 * EXITCODE = SVM_EXIT_INVALID (-1); the guest never runs.
 *
 * The rules, in the APM's order (each is one test in
 * tests/unit/test_hw_vmcb.c):
 *
 *   EFER.SVME = 0
 *   CR0.CD = 0 and CR0.NW = 1
 *   CR0[63:32] != 0
 *   CR3 MBZ bits: 63:MAXPHYADDR
 *   CR4 MBZ bits: every bit the model does not implement (HW_CR4_VALID;
 *     CR4.VMXE is Intel's)
 *   DR6[63:32] != 0, DR7[63:32] != 0
 *   EFER MBZ bits: every bit the model does not implement (SVM_EFER_VALID)
 *   EFER.LME = CR0.PG = 1 and CR4.PAE = 0
 *   EFER.LME = CR0.PG = 1 and CR0.PE = 0
 *   EFER.LME = CR0.PG = CR4.PAE = CS.L = CS.D = 1
 *   the VMRUN intercept bit clear
 *   the MSRPM or IOPM reaching an address >= 2^MAXPHYADDR
 *   illegal event injection (15.20): a reserved TYPE, or TYPE = exception
 *     with a vector that is no exception (> 31, or 2 which is NMI)
 *   ASID = 0 (the host's)
 *
 * "EFER.LMA or LME set on a processor without long mode" cannot happen:
 * the model has long mode. The permission maps are checked whether or not
 * their intercepts are enabled, as the APM words the rule.
 */
#include <errno.h>

#include "hw/svm_internal.h"

/* Control-register bits, from APM Vol. 2 3.1.1 and 3.1.3. */
#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)

/* EFER bits the model implements (APM Vol. 2 3.1.7): SCE LME LMA NXE SVME. */
#define SVM_EFER_VALID (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME)

#define PA_LIMIT (1ull << HW_MAXPHYADDR)

/* A permission map of @size bytes at @base_pa (bits 11:0 ignored) lies
 * wholly below the physical-address limit. */
static bool table_fits(uint64_t base_pa, uint64_t size)
{
	const uint64_t base = base_pa & HV_PAGE_MASK;
	return base < PA_LIMIT && size <= PA_LIMIT - base;
}

/* APM Vol. 2 15.20: which EVENTINJ values VMRUN refuses. */
static bool eventinj_legal(uint64_t ev)
{
	if (!(ev & SVM_EVTINJ_V))
		return true;
	const uint64_t vector = ev & SVM_EVTINJ_VEC_MASK;
	switch (ev & SVM_EVTINJ_TYPE_MASK) {
	case SVM_EVTINJ_TYPE_INTR:
	case SVM_EVTINJ_TYPE_NMI:
	case SVM_EVTINJ_TYPE_SOFT:
		return true;
	case SVM_EVTINJ_TYPE_EXC:
		return vector <= 31 && vector != 2;
	default:
		return false;		/* TYPE 1, 5, 6, 7: reserved */
	}
}

#define FAIL(msg) do { *why = (msg); return -EINVAL; } while (0)

int svm_vmrun_check(struct hw_cpu *cpu, const struct vmcb *vmcb, const char **why)
{
	const struct vmcb_save *s = &vmcb->save;
	const struct vmcb_control *c = &vmcb->control;
	const bool long_paging = (s->efer & EFER_LME) && (s->cr0 & CR0_PG);

	if (!(s->efer & EFER_SVME))
		FAIL("guest EFER.SVME is 0");
	if ((s->cr0 & CR0_NW) && !(s->cr0 & CR0_CD))
		FAIL("guest CR0.NW is 1 with CR0.CD 0");
	if (s->cr0 >> 32)
		FAIL("guest CR0[63:32] is not zero");
	if (s->cr3 >> HW_MAXPHYADDR)
		FAIL("guest CR3 sets bits beyond the physical-address width");
	if (s->cr4 & ~hw_cr4_valid(cpu->m))
		FAIL("guest CR4 sets a reserved or unsupported bit");
	if (s->dr6 >> 32)
		FAIL("guest DR6[63:32] is not zero");
	if (s->dr7 >> 32)
		FAIL("guest DR7[63:32] is not zero");
	if ((s->efer & ~SVM_EFER_VALID) ||
	    (!cpu->m->cfg.features.nx && (s->efer & EFER_NXE)))
		FAIL("guest EFER sets a reserved or unsupported bit");
	if (long_paging && !(s->cr4 & CR4_PAE))
		FAIL("guest EFER.LME and CR0.PG are 1 with CR4.PAE 0");
	if (long_paging && !(s->cr0 & CR0_PE))
		FAIL("guest EFER.LME and CR0.PG are 1 with CR0.PE 0");
	if (long_paging && (s->cr4 & CR4_PAE) && (s->cs.attrib & SVM_ATTR_L) &&
	    (s->cs.attrib & SVM_ATTR_DB))
		FAIL("guest in long mode with CS.L and CS.D both 1");
	if (!(c->intercept_misc2 & SVM_INTERCEPT2_VMRUN))
		FAIL("the VMRUN intercept is clear");
	if (!table_fits(c->msrpm_base_pa, SVM_MSRPM_SIZE))
		FAIL("MSRPM extends beyond the physical-address width");
	if (!table_fits(c->iopm_base_pa, SVM_IOPM_SIZE))
		FAIL("IOPM extends beyond the physical-address width");
	if (!eventinj_legal(c->eventinj))
		FAIL("EVENTINJ has a reserved type or a non-exception vector");
	if (c->guest_asid == 0)
		FAIL("guest ASID is 0 (the host's)");
	return 0;
}
