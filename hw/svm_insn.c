/*
 * svm_insn.c — the SVM instructions other than VMRUN: VMLOAD, VMSAVE,
 * STGI, CLGI, INVLPGA (APM Vol. 2 15.5.2, 15.17; Vol. 3 instruction
 * pages), and the preconditions VMRUN shares with them.
 *
 * The host executing them is hvlab (hw/svm.h): VMLOAD and VMSAVE move
 * state between the VMCB and the processor's root-mode registers
 * (cpu->host for segments, cpu->msr for the MSRs), which #VMEXIT leaves
 * alone and a hypervisor swaps with these two instructions around VMRUN.
 * Every instruction checks everything before changing anything, so a
 * fault leaves the processor and memory as they were.
 */
#include "hw/dcode.h"
#include "hw/svm_internal.h"

int svm_insn_check(const struct hw_cpu *cpu)
{
	const struct emu_cpu *h = &cpu->host;
	if (!(h->efer & EFER_SVME))
		return SVM_FAULT_UD;
	if (!(h->cr0 & EMU_CR0_PE) || (h->rflags & EMU_FLAG_VM))
		return SVM_FAULT_UD;	/* recognized only in protected mode */
	if (h->cpl)
		return SVM_FAULT_GP;
	return SVM_OK;
}

int svm_vmcb_addr_check(struct hw_cpu *cpu, hpa_t pa)
{
	if (pa & ~HV_PAGE_MASK)
		return SVM_FAULT_GP;
	if (pa >> HW_MAXPHYADDR)
		return SVM_FAULT_GP;
	if (!hw_hpa_ptr(cpu->m, pa, VMCB_SIZE))
		return SVM_FAULT_GP;
	return SVM_OK;
}

/* Both checks of VMLOAD and VMSAVE; the VMCB on success, else NULL. */
static struct vmcb *vmcb_operand(struct hw_cpu *cpu, hpa_t pa, int *status)
{
	*status = svm_insn_check(cpu);
	if (*status == SVM_OK)
		*status = svm_vmcb_addr_check(cpu, pa);
	return *status == SVM_OK ? hw_hpa_ptr(cpu->m, pa, VMCB_SIZE) : NULL;
}

int vmload(struct hw_cpu *cpu, hpa_t pa)
{
	int r;
	const struct vmcb *v = vmcb_operand(cpu, pa, &r);
	if (!v)
		return r;
	const struct vmcb_save *s = &v->save;
	struct emu_cpu *h = &cpu->host;
	svm_seg_from_vmcb(&s->fs, &h->seg[EMU_FS]);
	svm_seg_from_vmcb(&s->gs, &h->seg[EMU_GS]);
	svm_seg_from_vmcb(&s->tr, &h->tr);
	svm_seg_from_vmcb(&s->ldtr, &h->ldtr);
	cpu->msr.kernel_gs_base = s->kernel_gs_base;
	cpu->msr.star = s->star;
	cpu->msr.lstar = s->lstar;
	cpu->msr.cstar = s->cstar;
	cpu->msr.fmask = s->sfmask;
	cpu->msr.sysenter_cs = s->sysenter_cs;
	cpu->msr.sysenter_esp = s->sysenter_esp;
	cpu->msr.sysenter_eip = s->sysenter_eip;
	return SVM_OK;
}

int vmsave(struct hw_cpu *cpu, hpa_t pa)
{
	int r;
	struct vmcb *v = vmcb_operand(cpu, pa, &r);
	if (!v)
		return r;
	struct vmcb_save *s = &v->save;
	const struct emu_cpu *h = &cpu->host;
	svm_seg_to_vmcb(&h->seg[EMU_FS], &s->fs);
	svm_seg_to_vmcb(&h->seg[EMU_GS], &s->gs);
	svm_seg_to_vmcb(&h->tr, &s->tr);
	svm_seg_to_vmcb(&h->ldtr, &s->ldtr);
	s->kernel_gs_base = cpu->msr.kernel_gs_base;
	s->star = cpu->msr.star;
	s->lstar = cpu->msr.lstar;
	s->cstar = cpu->msr.cstar;
	s->sfmask = cpu->msr.fmask;
	s->sysenter_cs = cpu->msr.sysenter_cs;
	s->sysenter_esp = cpu->msr.sysenter_esp;
	s->sysenter_eip = cpu->msr.sysenter_eip;
	/* A store like any other: code decoded from this page is stale. */
	hw_code_page_written(cpu->m, cpu, pa >> HV_PAGE_SHIFT);
	return SVM_OK;
}

int stgi(struct hw_cpu *cpu)
{
	const int r = svm_insn_check(cpu);
	if (r == SVM_OK)
		cpu->svm.gif = true;
	return r;
}

int clgi(struct hw_cpu *cpu)
{
	const int r = svm_insn_check(cpu);
	if (r == SVM_OK)
		cpu->svm.gif = false;
	return r;
}

/*
 * The TLB tags an entry with 16 bits of ASID (hw/tlb.h), so no entry
 * belongs to an ASID above 0xffff: nothing to drop (and masking it to 16
 * bits would drop another guest's entries).
 */
int invlpga(struct hw_cpu *cpu, uint64_t va, uint32_t asid)
{
	const int r = svm_insn_check(cpu);
	if (r != SVM_OK)
		return r;
	if (asid > 0xffff)
		return SVM_OK;
	hw_tlb_flush_addr(&cpu->tlb, va, HW_TLB_TAG(0, asid, 0), HW_TLB_M_VPID, false);
	cpu->cnt.tlb_flushes++;
	return SVM_OK;
}
