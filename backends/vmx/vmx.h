/*
 * vmx.h — the Intel VT-x backend's private structures (backends/backend.h
 * is the contract; docs/backend-vmx.md the overview).
 *
 * One VMCS per vcpu, one processor (struct hw_cpu) per vcpu. The VMCS is
 * made current on its processor once, at vcpu creation (VMPTRLD), and
 * stays current until vcpu_free: a vcpu never migrates, so every op can
 * VMREAD/VMWRITE at any time (SDM Vol. 3C 25.1, 25.11.3).
 *
 * Where the guest's state lives between runs (backend.h "Register
 * ownership"):
 *   GPRs but RSP       vcpu->gpr[] (copied to/from hw_cpu_gprs in run())
 *   RSP, RIP, RFLAGS   the VMCS
 *   segments, CRs,     the VMCS (CR0/CR4 as the real value + read shadow,
 *   EFER, DR7, PAT,    SDM Vol. 3C 25.6.6)
 *   SYSENTER_*
 *   CR3                the VMCS with HV_MMU_TDP; vmx->guest_cr3 with
 *                      HV_MMU_SHADOW (the VMCS holds the shadow root)
 *   CR2, DR0-3, DR6,   the processor itself (VMX switches none of them,
 *   STAR, LSTAR,       SDM Vol. 3C 27.3.2, 28.5): the host never uses them
 *   CSTAR, SFMASK,     so the guest owns them, as under KVM
 *   KERNEL_GS_BASE,
 *   TSC_AUX
 */
#ifndef HVLAB_BACKENDS_VMX_VMX_H
#define HVLAB_BACKENDS_VMX_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/machine.h"
#include "hw/vmx.h"

struct vmx_vm {
	struct backend_vm b;		/* first: core allocates vm_size */
};

/* The control words VM entry sees, after adjustment by the capability
 * MSRs (SDM Vol. 3D A.2); the dynamic bits (windows, IA-32e mode) are
 * toggled in the VMCS from these bases. */
struct vmx_ctls {
	uint32_t pin, proc, proc2, exit, entry;
};

struct vmx_vcpu {
	struct hv_vcpu vcpu;		/* first: core allocates vcpu_size */
	struct hw_cpu *cpu;		/* (c) this vcpu's processor */
	enum hv_mmu_style style;	/* (c) vm->mmu->style */
	hpa_t vmxon_region;		/* (c) */
	hpa_t vmcs;			/* (c) current on cpu from creation on */
	hpa_t msr_bitmap;		/* (c) */
	uint16_t vpid;			/* (c) vcpu->id + 1, never 0 (25.6.2) */
	struct vmx_ctls ctls;		/* (c) */
	/* CR0/CR4 bits VMX operation fixes (A.7, A.8), with unrestricted
	 * guest's exemption of PE and PG already applied to cr0_fixed0. */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t cr0_mask, cr4_mask;	/* (c) guest/host masks */
	uint32_t exc_base;		/* (c) exceptions the style needs */
	uint32_t exc_extra;		/* (r) set_exception_intercepts */
	uint64_t eptp;			/* (r) 0 until set_tdp_root */
	uint64_t guest_cr3;		/* (r) HV_MMU_SHADOW: the guest's CR3 */
	bool guest_lme;			/* (r) HV_MMU_SHADOW: the guest's EFER.LME */
	bool guest_nxe;			/* (r) HV_MMU_SHADOW: the guest's EFER.NXE */
	bool launched;			/* (r) VMLAUNCH done: next is VMRESUME */
	bool pdptes_stale;		/* (r) reload GUEST_PDPTEn before entry */
	bool unsupported;		/* (r) the last entry was MODEL_UNSUPPORTED */
	char why[96];			/* (r) hv_exit.why storage */
};

static inline struct vmx_vcpu *to_vmx(struct hv_vcpu *vcpu)
{
	return container_of(vcpu, struct vmx_vcpu, vcpu);
}

/* VMREAD/VMWRITE of the vcpu's (always current) VMCS. A failure here is
 * a bug in this backend (a field the processor lacks): the value reads
 * as 0 and the write is dropped, as VMfailValid(12) leaves them. */
static inline uint64_t vmcs_get(struct vmx_vcpu *vmx, uint64_t field)
{
	uint64_t v = 0;
	(void)vmread(vmx->cpu, field, &v);
	return v;
}

static inline void vmcs_put(struct vmx_vcpu *vmx, uint64_t field, uint64_t val)
{
	(void)vmwrite(vmx->cpu, field, val);
}

static inline void vmcs_set_bits(struct vmx_vcpu *vmx, uint64_t field, uint64_t bits, bool on)
{
	const uint64_t v = vmcs_get(vmx, field);
	vmcs_put(vmx, field, on ? v | bits : v & ~bits);
}

/* Architectural bits the backend uses (SDM Vol. 3A 2.5, 2.2.1). */
#define VMX_CR0_PE (1ull << 0)
#define VMX_CR0_NE (1ull << 5)
#define VMX_CR0_WP (1ull << 16)
#define VMX_CR0_PG (1ull << 31)
#define VMX_CR4_PSE (1ull << 4)
#define VMX_CR4_PAE (1ull << 5)
#define VMX_CR4_PGE (1ull << 7)
#define VMX_CR4_VMXE (1ull << 13)
#define VMX_CR4_PCIDE (1ull << 17)
#define VMX_CR4_SMEP (1ull << 20)
#define VMX_CR4_SMAP (1ull << 21)
#define VMX_RFLAGS_IF (1ull << 9)

/* vmx_vmcs.c: enabling VMX on the processor, the VMCS for each MMU
 * style, the RESET state. */
int vmx_hw_enable(struct vmx_vcpu *vmx);
int vmx_vmcs_setup(struct vmx_vcpu *vmx);
void vmx_vmcs_reset_state(struct vmx_vcpu *vmx);

/* vmx_regs.c */
uint64_t vmx_get_rip(struct hv_vcpu *vcpu);
void vmx_set_rip(struct hv_vcpu *vcpu, uint64_t rip);
uint64_t vmx_get_rflags(struct hv_vcpu *vcpu);
void vmx_set_rflags(struct hv_vcpu *vcpu, uint64_t rflags);
void vmx_get_segment(struct hv_vcpu *vcpu, enum hv_seg seg, struct hv_segment *s);
void vmx_set_segment(struct hv_vcpu *vcpu, enum hv_seg seg, const struct hv_segment *s);
void vmx_get_dtable(struct hv_vcpu *vcpu, bool idt, struct hv_dtable *dt);
void vmx_set_dtable(struct hv_vcpu *vcpu, bool idt, const struct hv_dtable *dt);
uint64_t vmx_get_cr(struct hv_vcpu *vcpu, unsigned cr);
void vmx_set_cr(struct hv_vcpu *vcpu, unsigned cr, uint64_t val);
uint64_t vmx_get_efer(struct hv_vcpu *vcpu);
void vmx_set_efer(struct hv_vcpu *vcpu, uint64_t efer);
int vmx_get_msr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t *val);
int vmx_set_msr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t val);
uint64_t vmx_get_dr(struct hv_vcpu *vcpu, unsigned dr);
void vmx_set_dr(struct hv_vcpu *vcpu, unsigned dr, uint64_t val);
bool vmx_get_interrupt_shadow(struct hv_vcpu *vcpu);
void vmx_set_interrupt_shadow(struct hv_vcpu *vcpu, bool on);
/* Load GUEST_PDPTE0-3 from guest memory when the guest is in PAE paging
 * under EPT and core changed CR0/CR3/CR4/EFER since (27.3.2.4). */
void vmx_load_pdptes(struct vmx_vcpu *vmx);

/* vmx_event.c */
void vmx_inject_event(struct hv_vcpu *vcpu, const struct hv_event *ev);
bool vmx_interrupt_allowed(struct hv_vcpu *vcpu);
bool vmx_nmi_allowed(struct hv_vcpu *vcpu);
void vmx_set_irq_window(struct hv_vcpu *vcpu, bool on);
void vmx_set_nmi_window(struct hv_vcpu *vcpu, bool on);
void vmx_set_exception_intercepts(struct hv_vcpu *vcpu, uint32_t bitmap);
/* Keep the pending BS bit consistent with RFLAGS.TF before an entry. */
void vmx_sync_pending_dbg(struct vmx_vcpu *vmx);

/* vmx_exit.c */
void vmx_decode_exit(struct hv_vcpu *vcpu, struct hv_exit *exit);
const char *vmx_exit_name(uint64_t raw);

/* vmx_invalid.c: may VM entry take the guest's state (without
 * unrestricted guest: CR0.PE and the 27.3.1.2 segment rules)? */
bool vmx_state_runnable(struct hv_vcpu *vcpu);

#endif
