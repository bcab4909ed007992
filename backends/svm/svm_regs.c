/*
 * svm_regs.c — the guest's registers as core sees them, kept in the VMCB
 * state-save area (APM Vol. 2 Appendix B, Table B-2) between runs.
 *
 * Segments. The VMCB packs a descriptor's attribute bits 47:40 and 55:52
 * into 12 bits (15.5.1 "segment state"); core's record is the VMX-style
 * access-rights word (backends/machine.h), the same bits with 11:8 at
 * 15:12. A segment with P = 0 is a null (unusable) one, as KVM reads it.
 * CPL lives in the VMCB (0x4cb) and follows SS.DPL, which is what the
 * processor uses as CPL in protected mode (APM 4.9.1).
 *
 * EFER and CR0. VMRUN refuses a guest with EFER.SVME = 0 (15.5.1), so
 * the VMCB's EFER always has it, and get_efer hides it (no nested SVM).
 * LMA is derived as the processor derives it, LME && CR0.PG (APM
 * 14.6.1), whenever core sets EFER or CR0; the model recomputes it at
 * VMRUN the same way.
 *
 * HV_MMU_SHADOW (decision table, KVM's policy without NPT):
 *
 *   register  guest reads        VMCB (real) holds
 *   CR0       guest_cr0          guest_cr0 | PG | WP: the shadow tables
 *                                are always walked, and supervisor
 *                                writes to read-only sptes must fault
 *                                (a non-paging guest runs in AMD's paged
 *                                real mode / paged protected mode, 15.19)
 *   CR3       guest_cr3          the shadow root (set_shadow_root)
 *   CR4       guest_cr4          guest_cr4 | PAE: shadow tables are
 *                                always PAE or 4-level (KVM's policy,
 *                                docs/mmu.md), less SMEP and SMAP while
 *                                the guest's paging is off (they apply
 *                                only with paging, SDM Vol. 3A 4.6)
 *   EFER      guest_efer         guest_efer with LME cleared unless the
 *                                guest is in long mode (otherwise the
 *                                forced PG would turn LMA on), and NXE
 *                                set: every fetch #PF then reports I/D
 *                                (SDM Vol. 3A 4.7), so the MMU tells a
 *                                fetch from a read whatever the guest's
 *                                NXE and SMEP (KVM's policy)
 *
 * CR0, CR3 and CR4 accesses are intercepted in that style (svm_vmcb.c),
 * so the guest_* copies are always current.
 */
#include "backends/svm/svm.h"
#include "hw/msr.h"

uint64_t svm_get_rip(struct hv_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.rip;
}

void svm_set_rip(struct hv_vcpu *vcpu, uint64_t rip)
{
	to_svm(vcpu)->vmcb->save.rip = rip;
}

uint64_t svm_get_rflags(struct hv_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.rflags;
}

void svm_set_rflags(struct hv_vcpu *vcpu, uint64_t rflags)
{
	to_svm(vcpu)->vmcb->save.rflags = rflags;
}

static struct vmcb_seg *vmcb_seg(struct vmcb_save *s, enum hv_seg seg)
{
	switch (seg) {
	case HV_SEG_ES: return &s->es;
	case HV_SEG_CS: return &s->cs;
	case HV_SEG_SS: return &s->ss;
	case HV_SEG_DS: return &s->ds;
	case HV_SEG_FS: return &s->fs;
	case HV_SEG_GS: return &s->gs;
	case HV_SEG_LDTR: return &s->ldtr;
	case HV_SEG_TR: return &s->tr;
	default: return NULL;
	}
}

/* VMCB attribute <-> VMX access rights: bits 7:0 stay, 11:8 <-> 15:12. */
static uint32_t attrib_to_ar(uint16_t attrib)
{
	return (attrib & 0xffu) | ((uint32_t)(attrib & 0xf00u) << 4);
}

static uint16_t ar_to_attrib(uint32_t ar)
{
	return (uint16_t)((ar & 0xffu) | ((ar >> 4) & 0xf00u));
}

void svm_get_segment(struct hv_vcpu *vcpu, enum hv_seg seg, struct hv_segment *s)
{
	const struct vmcb_seg *v = vmcb_seg(&to_svm(vcpu)->vmcb->save, seg);
	*s = (struct hv_segment){ 0 };
	if (!v)
		return;
	backend_ar_to_seg(attrib_to_ar(v->attrib), s);
	s->base = v->base;
	s->limit = v->limit;
	s->selector = v->selector;
	s->unusable = !s->present;
}

void svm_set_segment(struct hv_vcpu *vcpu, enum hv_seg seg, const struct hv_segment *s)
{
	struct vmcb_save *save = &to_svm(vcpu)->vmcb->save;
	struct vmcb_seg *v = vmcb_seg(save, seg);
	if (!v)
		return;
	v->selector = s->selector;
	v->base = s->base;
	v->limit = s->limit;
	v->attrib = s->unusable ? 0 : ar_to_attrib(backend_seg_to_ar(s));
	if (seg == HV_SEG_SS)
		save->cpl = s->dpl & 3;
}

void svm_get_dtable(struct hv_vcpu *vcpu, bool idt, struct hv_dtable *dt)
{
	const struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	const struct vmcb_seg *v = idt ? &s->idtr : &s->gdtr;
	dt->base = v->base;
	dt->limit = (uint16_t)v->limit;
}

void svm_set_dtable(struct hv_vcpu *vcpu, bool idt, const struct hv_dtable *dt)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	struct vmcb_seg *v = idt ? &s->idtr : &s->gdtr;
	v->base = dt->base;
	v->limit = dt->limit;
}

uint64_t svm_get_cr(struct hv_vcpu *vcpu, unsigned cr)
{
	const struct svm_vcpu *svm = to_svm(vcpu);
	const struct vmcb_save *s = &svm->vmcb->save;
	switch (cr) {
	case 0: return svm->shadow ? svm->guest_cr0 : s->cr0;
	case 2: return s->cr2;
	case 3: return svm->shadow ? svm->guest_cr3 : s->cr3;
	case 4: return svm->shadow ? svm->guest_cr4 : s->cr4;
	default: return 0;
	}
}

/* The guest's EFER @efer and CR0 -> what the VMCB's EFER must hold. */
static void update_efer(struct svm_vcpu *svm, uint64_t efer)
{
	const uint64_t cr0 = svm->shadow ? svm->guest_cr0 : svm->vmcb->save.cr0;
	efer &= ~(EFER_LMA | EFER_SVME);
	if ((efer & EFER_LME) && (cr0 & SVM_CR0_PG))
		efer |= EFER_LMA;
	svm->guest_efer = efer;
	if (svm->shadow && !(efer & EFER_LMA))
		efer &= ~EFER_LME;
	if (svm->shadow)
		efer |= EFER_NXE;
	svm->vmcb->save.efer = efer | EFER_SVME;
}

/* The VMCB's CR4 for the guest's (the decision table above). */
static uint64_t real_cr4(const struct svm_vcpu *svm)
{
	uint64_t real = svm->guest_cr4;
	if (svm->shadow) {
		real |= SVM_CR4_PAE;
		if (!(svm->guest_cr0 & SVM_CR0_PG))
			real &= ~(SVM_CR4_SMEP | SVM_CR4_SMAP);
	}
	return real;
}

void svm_set_cr(struct hv_vcpu *vcpu, unsigned cr, uint64_t val)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	switch (cr) {
	case 0:
		svm->guest_cr0 = val;
		s->cr0 = svm->shadow ? val | SVM_CR0_PG | SVM_CR0_WP : val;
		if (svm->shadow)
			s->cr4 = real_cr4(svm);
		update_efer(svm, svm_get_efer(vcpu));
		break;
	case 2:
		s->cr2 = val;
		break;
	case 3:
		svm->guest_cr3 = val;
		if (!svm->shadow)
			s->cr3 = val;
		break;
	case 4:
		svm->guest_cr4 = val;
		s->cr4 = real_cr4(svm);
		break;
	default:
		break;
	}
}

uint64_t svm_get_efer(struct hv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	/* With TDP the guest changes LMA itself (MOV CR0 runs unintercepted):
	 * the VMCB is current. */
	if (!svm->shadow)
		return svm->vmcb->save.efer & ~EFER_SVME;
	return svm->guest_efer;
}

void svm_set_efer(struct hv_vcpu *vcpu, uint64_t efer)
{
	update_efer(to_svm(vcpu), efer);
}

/*
 * DR6 and DR7 are VMCB state (0x568, 0x560): VMRUN loads them and
 * #VMEXIT saves them (APM Vol. 2 15.5.1, 15.6). DR0-3 are not in the
 * VMCB: VMRUN neither loads nor saves them, so while the guest runs the
 * processor's are the guest's. Each vcpu has its own processor and the
 * host never uses them, so they live there (hw_read_dr / hw_write_dr),
 * MOV DR0-3 runs unintercepted, and set_dr() of any of them takes
 * effect at the next VMRUN.
 */
uint64_t svm_get_dr(struct hv_vcpu *vcpu, unsigned dr)
{
	const struct svm_vcpu *svm = to_svm(vcpu);
	if (dr < 4)
		return hw_read_dr(svm->cpu, dr);
	switch (dr) {
	case 6: return svm->vmcb->save.dr6;
	case 7: return svm->vmcb->save.dr7;
	default: return 0;
	}
}

/*
 * As MOV DR writes them: core has refused bits 63:32 of DR6/DR7 (#GP,
 * SDM Vol. 3B 18.2.4; VMRUN would refuse them too, APM 15.5.1); the
 * fixed bits are the processor's to apply — DR6 reads 1 in 31:16 and
 * 11:4, 0 in 12 (18.2.3), DR7 1 in bit 10 and 0 in 12, 14, 15 (18.2.4)
 * — and VMRUN loads the VMCB's values as they are.
 */
void svm_set_dr(struct hv_vcpu *vcpu, unsigned dr, uint64_t val)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	if (dr < 4)
		(void)hw_write_dr(svm->cpu, dr, val);
	else if (dr == 6)
		svm->vmcb->save.dr6 = (val & 0xe00full) | 0xffff0ff0ull;
	else if (dr == 7)
		svm->vmcb->save.dr7 = (val & 0xffff2bffull) | 0x400;
}
