/*
 * vcpu.c — vcpus (KVM_CREATE_VCPU) and their architectural state as the
 * API shows it: KVM_GET/SET_REGS, KVM_GET/SET_SREGS, KVM_TRANSLATE,
 * KVM_INTERRUPT.
 *
 * hv_set_sregs checks the state as the hardware's MOV to CR and WRMSR
 * would (core/cr.c), so a VMM cannot hand the processor a state it
 * could never be in; the segment registers are taken as given (the
 * entry checks of hw/ refuse impossible ones with HV_EXIT_FAIL_ENTRY).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mmu_call.h"
#include "core/cpuid.h"
#include "core/cr.h"
#include "core/emulate.h"
#include "core/irq/irq.h"
#include "core/vm.h"
#include "emulate/emulate.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"

#define MSR_IA32_APIC_BASE 0x1b

int hv_vcpu_create(struct hv_vm *vm, unsigned id, struct hv_vcpu **out)
{
	struct hv_vcpu *vcpu;
	int r;

	if (!vm || !out)
		return vm_err(-EINVAL, "hv_vcpu_create: NULL argument");
	*out = NULL;
	if (id >= HV_MAX_VCPUS)
		return vm_err(-EINVAL, "vcpu %u: this hvlab runs vcpus 0..%u", id, HV_MAX_VCPUS - 1);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i]->id == id)
			return vm_err(-EEXIST, "vcpu %u exists", id);
	vcpu = calloc(1, vm->backend->vcpu_size);
	if (!vcpu)
		return vm_err(-ENOMEM, "out of memory");
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->user_irq = -1;
	/* APs wait for their STARTUP IPI (hv.h, core/mp.c). */
	vcpu->mp_state = id == 0 ? VCPU_MP_RUNNABLE : VCPU_MP_WAIT_SIPI;
	r = vm->backend->vcpu_create(vcpu);
	if (r)
		goto err_free;
	r = irq_vcpu_init(vcpu);
	if (r)
		goto err_backend;
	r = vm->mmu->vcpu_init(vcpu);
	if (r)
		goto err_irq;
	vm->vcpus[vm->nvcpus++] = vcpu;
	*out = vcpu;
	return 0;

err_irq:
	irq_vcpu_destroy(vcpu);
err_backend:
	vm->backend->vcpu_free(vcpu);
err_free:
	free(vcpu);
	return r;
}

void vcpu_destroy(struct hv_vcpu *vcpu)
{
	vcpu->vm->mmu->vcpu_destroy(vcpu);
	irq_vcpu_destroy(vcpu);
	vcpu_emulate_free(vcpu);
	vcpu->vm->backend->vcpu_free(vcpu);
	free(vcpu);
}

/* struct hv_regs in enum emu_gpr order. */
static uint64_t *regs_slot(struct hv_regs *r, unsigned i)
{
	uint64_t *const slots[16] = {
		&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
		&r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
	};
	return slots[i];
}

int hv_get_regs(struct hv_vcpu *vcpu, struct hv_regs *regs)
{
	if (!vcpu || !regs)
		return vm_err(-EINVAL, "hv_get_regs: NULL argument");
	for (unsigned i = 0; i < 16; i++)
		*regs_slot(regs, i) = vcpu->gpr[i];
	regs->rip = vcpu->vm->backend->get_rip(vcpu);
	regs->rflags = vcpu->vm->backend->get_rflags(vcpu);
	return 0;
}

int hv_set_regs(struct hv_vcpu *vcpu, const struct hv_regs *regs)
{
	if (!vcpu || !regs)
		return vm_err(-EINVAL, "hv_set_regs: NULL argument");
	/* RFLAGS: bit 1 reads as 1; 3, 5, 15 and 22-63 are reserved (SDM Vol. 1 3.4.3). */
	if (regs->rflags & ~0x3f7fd7ull || !(regs->rflags & 2))
		return vm_err(-EINVAL, "rflags %#llx: reserved bits set or bit 1 clear",
			      (unsigned long long)regs->rflags);
	struct hv_regs r = *regs;
	for (unsigned i = 0; i < 16; i++)
		vcpu->gpr[i] = *regs_slot(&r, i);
	vcpu->vm->backend->set_rip(vcpu, regs->rip);
	vcpu->vm->backend->set_rflags(vcpu, regs->rflags);
	return 0;
}

static struct hv_segment *sregs_seg(struct hv_sregs *s, enum hv_seg i)
{
	struct hv_segment *const segs[HV_NR_SEGS] = {
		&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs, &s->ldt, &s->tr,
	};
	return segs[i];
}

int hv_get_sregs(struct hv_vcpu *vcpu, struct hv_sregs *sregs)
{
	if (!vcpu || !sregs)
		return vm_err(-EINVAL, "hv_get_sregs: NULL argument");
	const struct hv_backend_ops *be = vcpu->vm->backend;
	memset(sregs, 0, sizeof(*sregs));
	for (unsigned i = 0; i < HV_NR_SEGS; i++)
		be->get_segment(vcpu, i, sregs_seg(sregs, i));
	be->get_dtable(vcpu, false, &sregs->gdt);
	be->get_dtable(vcpu, true, &sregs->idt);
	sregs->cr0 = be->get_cr(vcpu, 0);
	sregs->cr2 = be->get_cr(vcpu, 2);
	sregs->cr3 = be->get_cr(vcpu, 3);
	sregs->cr4 = be->get_cr(vcpu, 4);
	sregs->cr8 = irq_get_cr8(vcpu);
	sregs->efer = be->get_efer(vcpu);
	irq_rdmsr(vcpu, MSR_IA32_APIC_BASE, &sregs->apic_base);
	return 0;
}

/*
 * The control registers go in the order a processor reaches such a
 * state: EFER.LME (with paging off), CR4, CR3, then CR0, which
 * activates IA-32e mode (LMA) when it turns paging on with LME set.
 */
static int set_sregs(struct hv_vcpu *vcpu, const struct hv_sregs *sregs)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	const uint64_t lma = (sregs->efer & EFER_LME) && (sregs->cr0 & CR0_PG) ? EFER_LMA : 0;
	if ((sregs->efer & EFER_LMA) != lma)
		return vm_err(-EINVAL, "efer %#llx: LMA must equal LME and CR0.PG",
			      (unsigned long long)sregs->efer);
	if (lma && !(sregs->cr4 & CR4_PAE))
		return vm_err(-EINVAL, "IA-32e mode needs CR4.PAE");
	if (sregs->cs.l && sregs->cs.db)
		return vm_err(-EINVAL, "CS with both L and D set");
	if (lma && (sregs->cr3 >> vcpu_maxphyaddr(vcpu)))
		return vm_err(-EINVAL, "cr3 %#llx: bits above MAXPHYADDR (%u) are reserved",
			      (unsigned long long)sregs->cr3, vcpu_maxphyaddr(vcpu));

	/* Reach the state from a clean slate: paging off, LME clear. */
	be->set_cr(vcpu, 0, (be->get_cr(vcpu, 0) & ~CR0_PG));
	be->set_cr(vcpu, 4, 0);
	be->set_efer(vcpu, 0);
	for (unsigned i = 0; i < HV_NR_SEGS; i++)
		be->set_segment(vcpu, i, sregs_seg((struct hv_sregs *)sregs, i));
	be->set_dtable(vcpu, false, &sregs->gdt);
	be->set_dtable(vcpu, true, &sregs->idt);
	if (vcpu_set_efer(vcpu, sregs->efer & ~EFER_LMA))
		return vm_err(-EINVAL, "efer %#llx: reserved or unsupported bits",
			      (unsigned long long)sregs->efer);
	if (sregs->cr4 & ~vcpu_cr4_valid(vcpu))
		return vm_err(-EINVAL, "cr4 %#llx: bits %#llx are reserved on this processor",
			      (unsigned long long)sregs->cr4,
			      (unsigned long long)(sregs->cr4 & ~vcpu_cr4_valid(vcpu)));
	be->set_cr(vcpu, 4, sregs->cr4);
	be->set_cr(vcpu, 3, sregs->cr3);
	be->set_cr(vcpu, 2, sregs->cr2);
	if (vcpu_set_cr(vcpu, 0, sregs->cr0))
		return vm_err(-EINVAL, "cr0 %#llx: not a state the processor can be in",
			      (unsigned long long)sregs->cr0);
	if (sregs->cr8 >> 4)
		return vm_err(-EINVAL, "cr8 %#llx: only bits 3:0 exist",
			      (unsigned long long)sregs->cr8);
	irq_set_cr8(vcpu, sregs->cr8);
	if (sregs->apic_base && irq_wrmsr(vcpu, MSR_IA32_APIC_BASE, sregs->apic_base))
		return vm_err(-EINVAL, "apic_base %#llx: not a valid IA32_APIC_BASE",
			      (unsigned long long)sregs->apic_base);
	mmu_reset_context(vcpu);
	mmu_new_cr3(vcpu, sregs->cr3);
	be->flush_tlb(vcpu, HV_FLUSH_GUEST);
	return 0;
}

/* A refused state changes nothing, as KVM_SET_SREGS: the old one, a
 * state the vcpu was in, is put back and cannot be refused. */
int hv_set_sregs(struct hv_vcpu *vcpu, const struct hv_sregs *sregs)
{
	struct hv_sregs old;
	if (!vcpu || !sregs)
		return vm_err(-EINVAL, "hv_set_sregs: NULL argument");
	hv_get_sregs(vcpu, &old);
	int r = set_sregs(vcpu, sregs);
	if (r) {
		char why[160];
		snprintf(why, sizeof(why), "%s", hv_strerror());
		set_sregs(vcpu, &old);
		vm_err(r, "%s", why);
	}
	return r;
}

int hv_translate(struct hv_vcpu *vcpu, gva_t gva, struct hv_translation *tr)
{
	if (!vcpu || !tr)
		return vm_err(-EINVAL, "hv_translate: NULL argument");
	struct mmu_walk_fault f;
	gpa_t gpa;
	memset(tr, 0, sizeof(*tr));
	tr->gva = gva;
	/* Peeks: a debugger's look must not set the guest's A/D flags. */
	if (mmu_gva_to_gpa(vcpu, gva, MMU_ACC_PEEK, &gpa, &f))
		return 0;
	tr->valid = true;
	tr->gpa = gpa;
	tr->writeable = !mmu_gva_to_gpa(vcpu, gva, HV_ACC_WRITE | MMU_ACC_PEEK, &gpa, &f);
	tr->usermode = !mmu_gva_to_gpa(vcpu, gva, HV_ACC_USER | MMU_ACC_PEEK, &gpa, &f);
	return 0;
}

int hv_interrupt(struct hv_vcpu *vcpu, uint8_t vector)
{
	if (!vcpu)
		return vm_err(-EINVAL, "hv_interrupt: NULL argument");
	if (vector < 32)
		return vm_err(-EINVAL, "vector %u: 0-31 are exceptions", vector);
	if (vcpu->user_irq >= 0)
		return vm_err(-EBUSY, "vector %d is still waiting for injection", vcpu->user_irq);
	vcpu->user_irq = vector;
	return 0;
}

int hv_irq_line(struct hv_vm *vm, unsigned irq, bool level)
{
	if (!vm)
		return vm_err(-EINVAL, "hv_irq_line: NULL argument");
	if (irq >= 24)
		return vm_err(-EINVAL, "irq %u: lines are 0..23", irq);
	return irq_set_line(vm, irq, level);
}
