/*
 * svm.c — the AMD-V backend (ARCHITECTURE §6, backends/backend.h): VM and
 * vcpu life, the run (VMRUN and what surrounds it), and the ops table.
 * The VMCB's contents are svm_vmcb.c's, exits svm_exit.c's, registers
 * svm_regs.c's and svm_msr.c's, events svm_event.c's, MMU hooks
 * svm_mmu.c's.
 *
 * Enabling SVM on a processor (APM Vol. 2 15.4, 15.30.4): VM_CR.SVMDIS
 * must be clear, EFER.SVME set, and VM_HSAVE_PA must name a 4 KiB page
 * where VMRUN saves the host state.
 *
 * VMLOAD and VMSAVE (APM Vol. 2 15.5.2) move exactly the state VMRUN
 * and #VMEXIT leave alone: FS, GS, TR and LDTR with their hidden parts,
 * KernelGsBase, STAR, LSTAR, CSTAR, SFMASK and SYSENTER_CS/ESP/EIP. The
 * processor holds one copy of it, so the host's and the guest's take
 * turns. The host's copy is VMSAVEd to host_vmcb once, when the vcpu is
 * created, as KVM saves its host's once per switch to the vcpu's thread
 * rather than per run: hvlab's host never changes that state afterwards
 * (it runs no code on the processor; the backend moves the guest's
 * copies of these MSRs in the VMCB, svm_msr.c, never through WRMSR), and
 * the VMLOAD after each run puts back exactly what was saved, so the copy
 * stays current and a second VMSAVE per run would store the same bytes.
 *
 * One run, as KVM's svm_vcpu_run orders it (15.5, 15.5.2, 15.17):
 *
 *   1. CLGI: the global interrupt flag holds off host interrupts and NMIs
 *      while the processor is half host, half guest
 *   2. VMLOAD the guest's state from the VMCB (the host's is in host_vmcb)
 *   3. the guest's GPRs into the register file, RAX and RSP into the VMCB
 *      (the only GPRs VMRUN loads)
 *   4. VMRUN: runs the guest with GIF = 1; #VMEXIT restores the host's
 *      RAX/RSP and leaves GIF = 0
 *   5. the register file back into vcpu->gpr[], RAX/RSP from the VMCB
 *   6. VMSAVE the guest's state into the VMCB (the guest may have changed
 *      any of it, and the VMCB is the truth for get_msr/get_segment),
 *      VMLOAD the host's
 *   7. TLB_CONTROL back to "do nothing": a flush is for one VMRUN
 *   8. STGI: host interrupts may come again
 *
 * The model runs no host code, so GIF and the host's VMLOAD only have to
 * be right, not to protect anything; keeping the real sequence keeps a
 * port to silicon a matter of replacing hw/ (where a host that changes
 * its FS/GS/TR or these MSRs between runs would VMSAVE again first).
 */
#include <errno.h>
#include <string.h>

#include "backends/svm/svm.h"
#include "emulate/emulate.h"
#include "hw/msr.h"
#include "mmu/mmu.h"

/* CPUID 8000_000A EDX: SVM features (APM Vol. 3 E.4.9). */
#define SVM_FEATURE_NRIPS (1u << 3)
#define SVM_FEATURE_DECODE_ASSISTS (1u << 7)

#define IOPM_PAGES (SVM_IOPM_SIZE / HV_PAGE_SIZE)
#define MSRPM_PAGES (SVM_MSRPM_SIZE / HV_PAGE_SIZE)
static_assert(SVM_IOPM_SIZE == 3 * 4096, "IOPM is 12 KiB (APM 15.10.1)");
static_assert(SVM_MSRPM_SIZE == 2 * 4096, "MSRPM is 8 KiB (APM 15.11)");

static const char *const status_names[] = {
	[SVM_OK] = "completed", [SVM_FAULT_GP] = "#GP", [SVM_FAULT_UD] = "#UD",
	[SVM_MODEL_UNSUPPORTED] = "unsupported",
};

static int svm_vm_init(struct hv_vm *vm)
{
	return backend_machine_create(vm, HW_VENDOR_AMD);
}

static void svm_vm_destroy(struct hv_vm *vm)
{
	backend_machine_destroy(vm);
}

/* 15.4: SVM may be enabled unless VM_CR.SVMDIS; then EFER.SVME = 1 and
 * the host save area. */
static int svm_enable(struct svm_vcpu *svm)
{
	struct hw_cpu *cpu = svm->cpu;
	uint64_t vm_cr = 0, efer = 0;
	uint32_t id[4];

	hw_cpuid(cpu, 0x80000001, 0, id);
	if (!(id[2] & (1u << 2)))
		return vm_err(-ENODEV, "svm: the processor has no SVM (CPUID 8000_0001 ECX[2])");
	if (hw_rdmsr(cpu, MSR_AMD_VM_CR, &vm_cr) || (vm_cr & VM_CR_SVMDIS))
		return vm_err(-ENODEV, "svm: SVM is disabled (VM_CR.SVMDIS)");
	if (hw_rdmsr(cpu, MSR_IA32_EFER, &efer) || hw_wrmsr(cpu, MSR_IA32_EFER, efer | EFER_SVME))
		return vm_err(-EIO, "svm: cannot set EFER.SVME");
	if (hw_wrmsr(cpu, MSR_AMD_VM_HSAVE_PA, svm->hsave_pa))
		return vm_err(-EIO, "svm: cannot set VM_HSAVE_PA");
	hw_cpuid(cpu, 0x8000000a, 0, id);
	if (!(id[3] & SVM_FEATURE_NRIPS))
		return vm_err(-ENODEV, "svm: the processor lacks NRIP save (CPUID 8000_000A EDX[3])");
	svm->decode_assists = id[3] & SVM_FEATURE_DECODE_ASSISTS;
	return 0;
}

static void free_pages(struct svm_vcpu *svm)
{
	struct hv_vm *vm = svm->vcpu.vm;
	if (svm->msrpm_pa != INVALID_HPA)
		vm_free_pages(vm, svm->msrpm_pa, MSRPM_PAGES);
	if (svm->iopm_pa != INVALID_HPA)
		vm_free_pages(vm, svm->iopm_pa, IOPM_PAGES);
	if (svm->hsave_pa != INVALID_HPA)
		vm_free_page(vm, svm->hsave_pa);
	if (svm->host_vmcb_pa != INVALID_HPA)
		vm_free_page(vm, svm->host_vmcb_pa);
	if (svm->vmcb_pa != INVALID_HPA)
		vm_free_page(vm, svm->vmcb_pa);
}

static int alloc_pages(struct svm_vcpu *svm)
{
	struct hv_vm *vm = svm->vcpu.vm;
	svm->vmcb_pa = vm_alloc_page(vm);
	svm->host_vmcb_pa = vm_alloc_page(vm);
	svm->hsave_pa = vm_alloc_page(vm);
	svm->iopm_pa = vm_alloc_pages(vm, IOPM_PAGES);
	svm->msrpm_pa = vm_alloc_pages(vm, MSRPM_PAGES);
	if (svm->vmcb_pa == INVALID_HPA || svm->host_vmcb_pa == INVALID_HPA ||
	    svm->hsave_pa == INVALID_HPA || svm->iopm_pa == INVALID_HPA ||
	    svm->msrpm_pa == INVALID_HPA)
		return vm_err(-ENOMEM, "svm: out of host-physical memory for the VMCB and maps");
	return 0;
}

static int insn_failed(const char *what, int st)
{
	const char *how = st >= 0 && st < (int)(sizeof(status_names) / sizeof(status_names[0]))
				  ? status_names[st] : "failed";
	return vm_err(-EIO, "svm: %s raised %s on the host", what, how);
}

static void svm_kick(struct hv_vcpu *vcpu)
{
	hw_cpu_kick(to_svm(vcpu)->cpu);
}

static void svm_reset_regs(struct hv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	uint32_t id[4];

	svm_vmcb_reset_state(svm);
	svm_set_interrupt_shadow(vcpu, false);
	svm->nmi_masked = svm->iret_stepping = false;	/* INIT unblocks NMIs */
	svm->vmcb->control.intercept_misc1 &= ~SVM_INTERCEPT_IRET;
	/* RESET: EDX = family/model/stepping (SDM Table 9-1), the rest 0. */
	memset(vcpu->gpr, 0, sizeof(vcpu->gpr));
	hw_cpuid(svm->cpu, 1, 0, id);
	vcpu->gpr[EMU_RDX] = id[0];
}

static int svm_vcpu_create(struct hv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct hv_vm *vm = vcpu->vm;
	int r, st;

	svm->vmcb_pa = svm->host_vmcb_pa = svm->hsave_pa = INVALID_HPA;
	svm->iopm_pa = svm->msrpm_pa = INVALID_HPA;
	r = hw_cpu_create(svm_machine(vcpu), vcpu->id, &svm->cpu);
	if (r)
		return vm_err(r, "svm: cannot create processor %u", vcpu->id);
	r = alloc_pages(svm);
	if (!r)
		r = svm_enable(svm);
	if (r)
		goto err;
	/* The host's VMLOAD state, once (see the top of this file). */
	if ((st = vmsave(svm->cpu, svm->host_vmcb_pa)) != SVM_OK) {
		r = insn_failed("VMSAVE", st);
		goto err;
	}

	memset(vm_hpa_ptr(vm, svm->iopm_pa), 0xff, SVM_IOPM_SIZE);
	svm_msrpm_init(vm_hpa_ptr(vm, svm->msrpm_pa));
	svm->vmcb = vm_hpa_ptr(vm, svm->vmcb_pa);
	svm->shadow = vm->mmu->style == HV_MMU_SHADOW;
	svm_vmcb_init(svm);
	svm_reset_regs(vcpu);
	return 0;
err:
	free_pages(svm);
	hw_cpu_destroy(svm->cpu);
	svm->cpu = NULL;
	return r;
}

static void svm_vcpu_free(struct hv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	if (!svm->cpu)
		return;
	free_pages(svm);
	hw_cpu_destroy(svm->cpu);
	svm->cpu = NULL;
}

static int svm_run(struct hv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct hw_cpu *cpu = svm->cpu;
	struct vmcb *v = svm->vmcb;
	uint64_t *gprs = hw_cpu_gprs(cpu);
	int st;

	svm->last_status = SVM_OK;
	svm->unsupported = NULL;
	/* Steps 1-2. */
	if ((st = clgi(cpu)) != SVM_OK)
		return insn_failed("CLGI", st);
	if ((st = vmload(cpu, svm->vmcb_pa)) != SVM_OK) {
		stgi(cpu);
		return insn_failed("VMLOAD", st);
	}
	/* Step 3. */
	for (unsigned i = 0; i < EMU_NR_GPRS; i++)
		if (i != EMU_RAX && i != EMU_RSP)
			gprs[i] = vcpu->gpr[i];
	v->save.rax = vcpu->gpr[EMU_RAX];
	v->save.rsp = vcpu->gpr[EMU_RSP];

	/* Step 4. */
	st = vmrun(cpu, svm->vmcb_pa);

	/* Step 5: on a fault VMRUN changed nothing, so the register file
	 * still holds what step 3 put there. */
	for (unsigned i = 0; i < EMU_NR_GPRS; i++)
		if (i != EMU_RAX && i != EMU_RSP)
			vcpu->gpr[i] = gprs[i];
	vcpu->gpr[EMU_RAX] = v->save.rax;
	vcpu->gpr[EMU_RSP] = v->save.rsp;

	/* Steps 6-8. */
	const int st_save = vmsave(cpu, svm->vmcb_pa);
	const int st_load = vmload(cpu, svm->host_vmcb_pa);
	v->control.tlb_control = SVM_TLB_CONTROL_DO_NOTHING;
	stgi(cpu);

	if (st == SVM_FAULT_GP || st == SVM_FAULT_UD)
		return insn_failed("VMRUN", st);
	if (st_save != SVM_OK || st_load != SVM_OK)
		return insn_failed("VMSAVE/VMLOAD", st_save != SVM_OK ? st_save : st_load);
	svm->last_status = st;
	if (st == SVM_MODEL_UNSUPPORTED)
		svm->unsupported = hw_cpu_unsupported(cpu);
	return 0;
}

static void svm_set_deadline(struct hv_vcpu *vcpu, uint64_t insns)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	/* An intercepted IRET must retire before NMIs unblock: exit right
	 * after it (svm_event.c). */
	if (svm->iret_stepping && insns > svm->iret_insns + 1)
		insns = svm->iret_insns + 1;
	hw_cpu_set_deadline(svm->cpu, insns);
}

static void svm_host_cpuid(struct hv_vcpu *vcpu, uint32_t leaf, uint32_t subleaf,
			   uint32_t out[4])
{
	hw_cpuid(to_svm(vcpu)->cpu, leaf, subleaf, out);
}

/* TSC_OFFSET (VMCB 0x050) is added to every TSC the guest reads (15.30.5). */
static void svm_adjust_tsc(struct hv_vcpu *vcpu, uint64_t delta)
{
	to_svm(vcpu)->vmcb->control.tsc_offset += delta;
}

static void svm_read_counters(struct hv_vcpu *vcpu, struct hv_hw_counters *c)
{
	backend_read_counters(to_svm(vcpu)->cpu, c);
}

const struct hv_backend_ops svm_backend_ops = {
	.name = "svm",
	.vm_size = sizeof(struct svm_vm),
	.vcpu_size = sizeof(struct svm_vcpu),

	.vm_init = svm_vm_init,
	.vm_destroy = svm_vm_destroy,
	.hpa_written = backend_hpa_written,
	.tdp_format = svm_tdp_format,

	.vcpu_create = svm_vcpu_create,
	.vcpu_free = svm_vcpu_free,
	.reset_regs = svm_reset_regs,
	.kick = svm_kick,

	.run = svm_run,
	.decode_exit = svm_decode_exit,
	.skip_instruction = svm_skip_instruction,
	.set_deadline = svm_set_deadline,

	.get_rip = svm_get_rip,
	.set_rip = svm_set_rip,
	.get_rflags = svm_get_rflags,
	.set_rflags = svm_set_rflags,
	.get_segment = svm_get_segment,
	.set_segment = svm_set_segment,
	.get_dtable = svm_get_dtable,
	.set_dtable = svm_set_dtable,
	.get_cr = svm_get_cr,
	.set_cr = svm_set_cr,
	.get_efer = svm_get_efer,
	.set_efer = svm_set_efer,
	.get_msr = svm_get_msr,
	.set_msr = svm_set_msr,
	.get_dr = svm_get_dr,
	.set_dr = svm_set_dr,
	.get_interrupt_shadow = svm_get_interrupt_shadow,
	.set_interrupt_shadow = svm_set_interrupt_shadow,

	.inject_event = svm_inject_event,
	.interrupt_allowed = svm_interrupt_allowed,
	.nmi_allowed = svm_nmi_allowed,
	.set_irq_window = svm_set_irq_window,
	.set_nmi_window = svm_set_nmi_window,
	.set_exception_intercepts = svm_set_exception_intercepts,

	.set_tdp_root = svm_set_tdp_root,
	.set_shadow_root = svm_set_shadow_root,
	.flush_tlb = svm_flush_tlb,

	.host_cpuid = svm_host_cpuid,
	.adjust_tsc = svm_adjust_tsc,
	.read_counters = svm_read_counters,
	.exit_name = svm_exit_name,
};
