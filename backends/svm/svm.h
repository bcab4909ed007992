/*
 * svm.h — the AMD-V backend's private structures (backends/backend.h is
 * the contract): the VM embeds struct backend_vm, the vcpu embeds struct
 * hv_vcpu, and to_svm() / to_svm_vm() recover them with container_of.
 *
 * Per vcpu, all from the VM's arena (APM Vol. 2 chapter 15):
 *
 *   vmcb      4 KiB   the guest's VMCB (Appendix B), handed to VMRUN; also
 *                     the VMLOAD/VMSAVE area of the guest's FS, GS, TR,
 *                     LDTR, KernelGsBase, STAR/LSTAR/CSTAR/SFMASK and
 *                     SYSENTER MSRs (15.5.2): between runs it is the truth
 *   host_vmcb 4 KiB   VMSAVE/VMLOAD area for the host's copy of that state
 *   hsave     4 KiB   VM_HSAVE_PA: where VMRUN puts the host state (15.30.4)
 *   iopm     12 KiB   every port intercepted (15.10.1)
 *   msrpm     8 KiB   every MSR intercepted but the guest-owned ones (15.11)
 *
 * Lifetime: everything here belongs to the thread running the vcpu.
 */
#ifndef HVLAB_BACKENDS_SVM_SVM_H
#define HVLAB_BACKENDS_SVM_SVM_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/machine.h"
#include "hw/svm.h"
#include "hw/vmcb.h"

struct svm_vm {
	struct backend_vm bvm;		/* first: core allocates vm_size */
};

struct svm_vcpu {
	struct hv_vcpu vcpu;		/* first: core allocates vcpu_size */
	struct hw_cpu *cpu;
	struct vmcb *vmcb;		/* host pointer of vmcb_pa */
	hpa_t vmcb_pa, host_vmcb_pa, hsave_pa, iopm_pa, msrpm_pa;
	bool shadow;			/* vm->mmu->style == HV_MMU_SHADOW */
	bool decode_assists;		/* CPUID 8000_000A EDX[7] */
	/*
	 * HV_MMU_SHADOW: what the guest believes its CR0, CR3, CR4 and EFER
	 * hold. The VMCB holds the real values (forced CR0.PG/WP, the
	 * shadow root); CR reads and writes are intercepted, so these are
	 * the guest's "read shadows". Unused with HV_MMU_TDP, where the
	 * guest owns the VMCB's registers.
	 */
	uint64_t guest_cr0, guest_cr3, guest_cr4, guest_efer;
	uint32_t exc_extra;		/* set_exception_intercepts' bitmap */
	/*
	 * NMI blocking as software sees it (SVM does not report it): set
	 * when an NMI is injected, cleared when the guest's IRET exits
	 * (the IRET intercept is on while it is set), as KVM's HF_NMI_MASK.
	 */
	bool nmi_masked;
	bool iret_stepping;		/* the IRET that ends an NMI's blocking was
					 * intercepted and runs now: blocking
					 * ends once it has retired (svm_event.c) */
	uint64_t iret_insns;		/* instructions retired at that exit */
	int last_status;		/* enum svm_status of the last VMRUN */
	const char *unsupported;	/* hw_cpu_unsupported() of that VMRUN */
};

static inline struct svm_vcpu *to_svm(struct hv_vcpu *vcpu)
{
	return container_of(vcpu, struct svm_vcpu, vcpu);
}

static inline struct svm_vm *to_svm_vm(struct hv_vm *vm)
{
	return container_of(to_backend_vm(vm), struct svm_vm, bvm);
}

static inline struct hw_machine *svm_machine(struct hv_vcpu *vcpu)
{
	return to_backend_vm(vcpu->vm)->m;
}

/* Control-register and RFLAGS bits the backend looks at (APM Vol. 2 3.1). */
#define SVM_CR0_PE (1ull << 0)
#define SVM_CR0_WP (1ull << 16)
#define SVM_CR0_PG (1ull << 31)
#define SVM_CR4_PAE (1ull << 5)
#define SVM_CR4_SMEP (1ull << 20)
#define SVM_CR4_SMAP (1ull << 21)
#define SVM_RFLAGS_IF (1ull << 9)

/* svm_vmcb.c: the VMCB for each MMU style, the permission maps. */
void svm_vmcb_init(struct svm_vcpu *svm);
void svm_vmcb_reset_state(struct svm_vcpu *svm);
void svm_msrpm_init(uint8_t *msrpm);
void svm_update_exception_intercepts(struct svm_vcpu *svm);

/* svm_exit.c */
void svm_decode_exit(struct hv_vcpu *vcpu, struct hv_exit *exit);
const char *svm_exit_name(uint64_t raw);

/* svm_regs.c */
uint64_t svm_get_rip(struct hv_vcpu *vcpu);
void svm_set_rip(struct hv_vcpu *vcpu, uint64_t rip);
uint64_t svm_get_rflags(struct hv_vcpu *vcpu);
void svm_set_rflags(struct hv_vcpu *vcpu, uint64_t rflags);
void svm_get_segment(struct hv_vcpu *vcpu, enum hv_seg seg, struct hv_segment *s);
void svm_set_segment(struct hv_vcpu *vcpu, enum hv_seg seg, const struct hv_segment *s);
void svm_get_dtable(struct hv_vcpu *vcpu, bool idt, struct hv_dtable *dt);
void svm_set_dtable(struct hv_vcpu *vcpu, bool idt, const struct hv_dtable *dt);
uint64_t svm_get_cr(struct hv_vcpu *vcpu, unsigned cr);
void svm_set_cr(struct hv_vcpu *vcpu, unsigned cr, uint64_t val);
uint64_t svm_get_efer(struct hv_vcpu *vcpu);
void svm_set_efer(struct hv_vcpu *vcpu, uint64_t efer);
uint64_t svm_get_dr(struct hv_vcpu *vcpu, unsigned dr);
void svm_set_dr(struct hv_vcpu *vcpu, unsigned dr, uint64_t val);

/* svm_msr.c */
int svm_get_msr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t *val);
int svm_set_msr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t val);

/* svm_event.c */
void svm_inject_event(struct hv_vcpu *vcpu, const struct hv_event *ev);
bool svm_interrupt_allowed(struct hv_vcpu *vcpu);
bool svm_nmi_allowed(struct hv_vcpu *vcpu);
void svm_set_irq_window(struct hv_vcpu *vcpu, bool on);
void svm_set_nmi_window(struct hv_vcpu *vcpu, bool on);
bool svm_get_interrupt_shadow(struct hv_vcpu *vcpu);
void svm_set_interrupt_shadow(struct hv_vcpu *vcpu, bool on);
void svm_set_exception_intercepts(struct hv_vcpu *vcpu, uint32_t bitmap);
void svm_skip_instruction(struct hv_vcpu *vcpu);

/* svm_mmu.c */
const struct tdp_format *svm_tdp_format(struct hv_vm *vm);
void svm_set_tdp_root(struct hv_vcpu *vcpu, hpa_t root);
void svm_set_shadow_root(struct hv_vcpu *vcpu, hpa_t root);
void svm_flush_tlb(struct hv_vcpu *vcpu, enum hv_flush what);

#endif
