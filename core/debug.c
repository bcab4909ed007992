/*
 * debug.c — hv_debug_guest(): the VMM debugs the guest with the
 * processor's own means (SDM Vol. 3B chapter 18), as KVM_DEBUG_GUEST does.
 *
 *   request      mechanism                          exit when
 *   SINGLESTEP   RFLAGS.TF set before every entry   #DB with DR6.BS
 *                and taken back at the exit
 *   USE_HW_BP    DR0-3 = the addresses, DR7 L0-L3   #DB with DR6.B0-B3
 *                with R/W = 00 and LEN = 00
 *                (instruction breakpoints, 18.2.4)
 *   USE_SW_BP    #BP intercepted                    INT3
 *
 * A breakpoint is a fault: RIP stays at the instruction. The next
 * hv_run enters with RFLAGS.RF = 1, which suppresses instruction
 * breakpoints for one instruction (18.3.1.1), so the VMM continues
 * without removing it. A #DB or #BP that is not the debugger's goes
 * back to the guest.
 */
#include <errno.h>
#include <string.h>

#include "core/debug.h"
#include "core/vm.h"

#define EXC_DB 1
#define EXC_BP 3
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_RF (1ull << 16)
#define DR6_BS (1ull << 14)
#define DR7_FIXED (1ull << 10)

static bool on(const struct hv_vcpu *vcpu, uint32_t what)
{
	return (vcpu->dbg.control & HV_GUESTDBG_ENABLE) && (vcpu->dbg.control & what);
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

int hv_debug_guest(struct hv_vcpu *vcpu, const struct hv_guest_debug *dbg)
{
	if (!vcpu || !dbg)
		return vm_err(-EINVAL, "hv_debug_guest: NULL argument");
	const uint32_t known = HV_GUESTDBG_ENABLE | HV_GUESTDBG_SINGLESTEP |
			       HV_GUESTDBG_USE_HW_BP | HV_GUESTDBG_USE_SW_BP;
	if (dbg->control & ~known)
		return vm_err(-EINVAL, "hv_debug_guest: unknown control bits %#x",
			      dbg->control & ~known);
	const bool hw = (dbg->control & HV_GUESTDBG_ENABLE) && (dbg->control & HV_GUESTDBG_USE_HW_BP);
	if (hw && dbg->nbp > 4)
		return vm_err(-EINVAL, "hv_debug_guest: %u breakpoints; DR0-DR3 hold four", dbg->nbp);
	for (unsigned i = 0; hw && i < dbg->nbp; i++)
		if (!canonical(dbg->bp[i]))
			return vm_err(-EINVAL, "hv_debug_guest: breakpoint %#llx is not canonical",
				      (unsigned long long)dbg->bp[i]);

	const struct hv_backend_ops *be = vcpu->vm->backend;
	const bool had_hw = on(vcpu, HV_GUESTDBG_USE_HW_BP);
	if (hw && !had_hw) {
		for (unsigned i = 0; i < 4; i++)
			vcpu->guest_dr[i] = be->get_dr(vcpu, i);
		vcpu->guest_dr7 = be->get_dr(vcpu, 7);
	}
	vcpu->dbg = *dbg;
	if (hw) {
		uint64_t dr7 = DR7_FIXED;
		for (unsigned i = 0; i < dbg->nbp; i++) {
			be->set_dr(vcpu, i, dbg->bp[i]);
			dr7 |= 1ull << (2 * i);		/* Ln; R/Wn = LENn = 00 */
		}
		be->set_dr(vcpu, 7, dr7);
	} else if (had_hw) {
		for (unsigned i = 0; i < 4; i++)
			be->set_dr(vcpu, i, vcpu->guest_dr[i]);
		be->set_dr(vcpu, 7, vcpu->guest_dr7);
	}
	uint32_t bitmap = 0;
	if (on(vcpu, HV_GUESTDBG_SINGLESTEP | HV_GUESTDBG_USE_HW_BP))
		bitmap |= 1u << EXC_DB;
	if (on(vcpu, HV_GUESTDBG_USE_SW_BP))
		bitmap |= 1u << EXC_BP;
	be->set_exception_intercepts(vcpu, bitmap);
	return 0;
}

void vcpu_debug_before_entry(struct hv_vcpu *vcpu)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	uint64_t rf = be->get_rflags(vcpu), nrf = rf;
	if (on(vcpu, HV_GUESTDBG_SINGLESTEP) && !(rf & RFLAGS_TF)) {
		nrf |= RFLAGS_TF;
		vcpu->dbg_tf_added = true;
	}
	if (vcpu->dbg_resume_rf) {
		nrf |= RFLAGS_RF;
		vcpu->dbg_resume_rf = false;
	}
	if (nrf != rf)
		be->set_rflags(vcpu, nrf);
}

void vcpu_debug_after_exit(struct hv_vcpu *vcpu)
{
	if (!vcpu->dbg_tf_added)
		return;
	const struct hv_backend_ops *be = vcpu->vm->backend;
	be->set_rflags(vcpu, be->get_rflags(vcpu) & ~RFLAGS_TF);
	vcpu->dbg_tf_added = false;
}

bool vcpu_debug_blocks_irqs(const struct hv_vcpu *vcpu)
{
	return on(vcpu, HV_GUESTDBG_SINGLESTEP);
}

bool vcpu_debug_exit(struct hv_vcpu *vcpu)
{
	const struct hv_exit *x = &vcpu->exit;
	struct hv_run *run = vcpu->run;
	bool ours = false;
	if (x->exc.vector == EXC_DB) {
		const uint64_t bn = (1u << vcpu->dbg.nbp) - 1;
		ours = (on(vcpu, HV_GUESTDBG_SINGLESTEP) && (x->exc.dr6 & DR6_BS)) ||
		       (on(vcpu, HV_GUESTDBG_USE_HW_BP) && (x->exc.dr6 & bn));
		if (ours && (x->exc.dr6 & bn))
			vcpu->dbg_resume_rf = true;
	} else if (x->exc.vector == EXC_BP) {
		ours = on(vcpu, HV_GUESTDBG_USE_SW_BP);
	}
	if (!ours)
		return false;
	run->exit_reason = HV_EXIT_DEBUG;
	run->debug.exception = x->exc.vector;
	run->debug.pc = vcpu->vm->backend->get_rip(vcpu);
	run->debug.dr6 = x->exc.dr6;
	return true;
}
