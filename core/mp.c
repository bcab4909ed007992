/*
 * mp.c — INIT, STARTUP and the wait-for-SIPI state (see mp.h).
 *
 * An AP is created waiting for a STARTUP (core/vcpu.c): the state its
 * BIOS leaves it in after the INIT of the MP start-up sequence (8.4.3:
 * "the APs ... enter a wait-for-SIPI state"), and the one QEMU's APs
 * start in under -kernel. Table 9-1's INIT column is the RESET state
 * except what INIT leaves unchanged: the MSRs (PAT and the others —
 * "All Other MSRs: INIT Unchanged"), the TSC, and CR0.CD/NW (footnote 2;
 * KVM found bare metal to agree). EFER is cleared with the rest, as AMD's
 * APM 14.1.3 and KVM have it: the processor is in real mode, where LME
 * means nothing. The local APIC keeps its ID, base and mode
 * (11.4.7.3; core/irq/lapic.c).
 */
#include <string.h>

#include "core/mmu_call.h"
#include "core/cr.h"
#include "core/irq/irq.h"
#include "core/mp.h"
#include "core/vm.h"
#include "mmu/mmu.h"

#define MSR_IA32_PAT 0x277

bool vcpu_mp_runnable(const struct hv_vcpu *vcpu)
{
	return vcpu->mp_state == VCPU_MP_RUNNABLE;
}

/* Whatever was on its way into the old context goes. */
static void drop_events(struct hv_vcpu *vcpu)
{
	vcpu->exc_pending = vcpu->reinject_pending = vcpu->nmi_pending = false;
	vcpu->user_irq = -1;
	vcpu->halted = false;
	vcpu->vm->backend->set_irq_window(vcpu, false);
	vcpu->vm->backend->set_nmi_window(vcpu, false);
}

/* The guest's paging changed under the MMU: as hv_set_sregs does. */
static void new_context(struct hv_vcpu *vcpu)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	mmu_reset_context(vcpu);
	mmu_new_cr3(vcpu, be->get_cr(vcpu, 3));
	be->flush_tlb(vcpu, HV_FLUSH_GUEST);
}

static void do_init(struct hv_vcpu *vcpu)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	uint64_t pat = 0;
	const bool has_pat = be->get_msr(vcpu, MSR_IA32_PAT, &pat) == 0;
	const uint64_t cd_nw = be->get_cr(vcpu, 0) & (CR0_CD | CR0_NW);

	be->reset_regs(vcpu);
	if (has_pat)
		be->set_msr(vcpu, MSR_IA32_PAT, pat);
	be->set_cr(vcpu, 0, (be->get_cr(vcpu, 0) & ~(CR0_CD | CR0_NW)) | cd_nw);
	drop_events(vcpu);
	new_context(vcpu);
	vcpu->mp_state = vcpu->id == 0 ? VCPU_MP_RUNNABLE : VCPU_MP_WAIT_SIPI;
	vcpu->vm->stats.init_signals++;
}

static void do_sipi(struct hv_vcpu *vcpu, uint8_t vector)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	struct hv_segment cs;

	be->get_segment(vcpu, HV_SEG_CS, &cs);
	cs.selector = (uint16_t)(vector << 8);
	cs.base = (uint64_t)vector << 12;
	be->set_segment(vcpu, HV_SEG_CS, &cs);
	be->set_rip(vcpu, 0);
	vcpu->mp_state = VCPU_MP_RUNNABLE;
	vcpu->vm->stats.sipi_starts++;
}

void vcpu_check_init_sipi(struct hv_vcpu *vcpu)
{
	bool init;
	uint8_t vector;
	const bool sipi = irq_take_init_sipi(vcpu, &init, &vector);

	if (init)
		do_init(vcpu);
	if (sipi && vcpu->mp_state == VCPU_MP_WAIT_SIPI)
		do_sipi(vcpu, vector);
}
