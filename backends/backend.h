/*
 * backend.h — the vendor backend interface (ARCHITECTURE §6): what core/
 * asks of Intel VMX (backends/vmx) or AMD SVM (backends/svm), in the
 * spirit of KVM's kvm_x86_ops. A backend programs the silicon model
 * through hw/hw.h, hw/vmx.h, hw/svm.h and hw/vmcb.h only, exactly as it
 * would program real hardware; core/ and mmu/ never see those headers.
 *
 * Typed embedding: a backend's VM and vcpu structures embed struct hv_vm
 * and struct hv_vcpu as their first member; core/ allocates vm_size and
 * vcpu_size zeroed bytes and the backend recovers its own with
 * container_of (to_vmx(), to_svm()).
 *
 * Register ownership. vcpu->gpr[] (core/vm.h) is the guest's register
 * file while the vcpu is outside the guest, RSP and (on SVM) RAX
 * included: run() loads it into the processor and saves it back at the
 * exit, as KVM's entry code does. RIP, RFLAGS, segments, control
 * registers and EFER live in the VMCS/VMCB and are reached through the
 * ops below.
 *
 * Every op is required unless its comment says "optional".
 */
#ifndef HVLAB_BACKENDS_BACKEND_H
#define HVLAB_BACKENDS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlab/hv.h"
#include "hvlab/types.h"

struct hv_vm;
struct hv_vcpu;
struct tdp_format;

/* ---------------------------------------------------------------- exits */

/*
 * The vendor-neutral exit record: decode_exit() turns a VMX basic exit
 * reason + qualification or an SVM EXITCODE + EXITINFO1/2 into this, and
 * core/exit.c dispatches on .reason through one table.
 */
enum hvx_reason {
	HVX_UNKNOWN,		/* nothing core knows; raw says what */
	HVX_EXTINT,		/* external interrupt (host timer, deadline, kick) */
	HVX_NMI,		/* host NMI */
	HVX_EXCEPTION,		/* intercepted guest exception: .exc */
	HVX_TRIPLE_FAULT,	/* shutdown */
	HVX_INIT,		/* INIT signal */
	HVX_IRQ_WINDOW,		/* the guest can take an interrupt now */
	HVX_NMI_WINDOW,		/* the guest can take an NMI now */
	HVX_TASK_SWITCH,	/* .task */
	HVX_CPUID,
	HVX_HLT,
	HVX_INVD,
	HVX_WBINVD,
	HVX_INVLPG,		/* .invlpg */
	HVX_INVPCID,
	HVX_RDPMC,
	HVX_RDTSC,
	HVX_RDTSCP,
	HVX_CR_ACCESS,		/* .cr */
	HVX_DR_ACCESS,		/* .dr */
	HVX_IO,			/* .io */
	HVX_MSR_READ,		/* ECX names the MSR */
	HVX_MSR_WRITE,		/* ECX, EDX:EAX */
	HVX_MONITOR,
	HVX_MWAIT,
	HVX_PAUSE,
	HVX_XSETBV,
	HVX_HYPERCALL,		/* VMCALL / VMMCALL */
	HVX_VIRT_INSN,		/* a VMX or SVM instruction the guest may not use */
	HVX_TDP_FAULT,		/* EPT violation / NPF: .tdp */
	HVX_TDP_MISCONFIG,	/* EPT misconfiguration: .tdp.gpa */
	HVX_FAIL_ENTRY,		/* the entry failed on guest state: .fail */
	HVX_UNSUPPORTED,	/* the model does not implement what the guest did */
	HVX_NR_REASONS
};

/* Access bits (tdp faults, translation requests): the #PF error-code
 * bits for W, U and I/D, so a page-fault error code converts directly. */
#define HV_ACC_WRITE (1u << 1)
#define HV_ACC_USER (1u << 2)
#define HV_ACC_FETCH (1u << 4)

/* CR access kinds (SDM Vol. 3C Table 28-3 access type) */
enum { HV_CR_MOV_TO, HV_CR_MOV_FROM, HV_CR_CLTS, HV_CR_LMSW };

struct hv_exit {
	enum hvx_reason reason;
	uint64_t raw;		/* VMX basic exit reason or SVM EXITCODE */
	uint8_t insn_len;	/* length of the exiting instruction when the
				 * exit reports it (skip_instruction), else 0 */
	union {
		struct {
			uint8_t vector;
			bool has_error_code;
			uint32_t error_code;
			uint64_t cr2;		/* #PF: the linear address */
			uint64_t dr6;		/* #DB: the pending DR6 bits */
		} exc;
		struct {
			uint16_t port;
			uint8_t size;		/* 1, 2, 4 */
			bool in;
			bool string;		/* INS/OUTS: core emulates */
			bool rep;
		} io;
		struct {
			uint8_t cr;		/* 0, 3, 4, 8 */
			uint8_t type;		/* HV_CR_* */
			uint8_t gpr;		/* MOV: the register (enum emu_gpr);
						 * 0xff: not reported (SVM without
						 * decode assists), core emulates */
			uint16_t lmsw_src;	/* LMSW: its source operand */
		} cr;
		struct {
			uint8_t dr;
			bool write;
			uint8_t gpr;
		} dr;
		struct {
			gva_t gva;
			bool gva_valid;		/* false: SVM without decode
						 * assists; core emulates */
		} invlpg;
		struct {
			gpa_t gpa;
			uint32_t access;	/* HV_ACC_* of the guest's access */
			bool present;		/* the entry existed (a permission
						 * fault, not a missing page) */
			bool gva_valid;
			gva_t gva;
			bool in_walk;		/* the access was the guest's own
						 * page-table walk */
		} tdp;
		struct {
			uint16_t sel;		/* the target TSS selector */
			uint8_t source;		/* EMU_TS_* */
		} task;
		struct {
			uint64_t code;		/* the hardware's reason */
		} fail;
	};
	/* An event the processor was delivering when the exit came (VMX
	 * IDT-vectoring information, SVM EXITINTINFO): core re-injects it. */
	bool idt_valid;
	uint8_t idt_type;		/* HV_EVENT_* */
	uint8_t idt_vector;
	bool idt_has_error_code;
	uint32_t idt_error_code;
	const char *why;		/* HVX_UNSUPPORTED / HVX_UNKNOWN: one line */
};

/* ---------------------------------------------------------------- events */

enum hv_event_type {
	HV_EVENT_EXTINT,	/* external interrupt */
	HV_EVENT_NMI,
	HV_EVENT_EXCEPTION,	/* hardware exception (fault or trap) */
	HV_EVENT_SOFTINT,	/* INT n */
	HV_EVENT_SOFTEXC,	/* INT3, INTO */
	HV_EVENT_PRIV_SOFTEXC,	/* INT1 (ICEBP) */
};

struct hv_event {
	uint8_t type;		/* enum hv_event_type */
	uint8_t vector;
	bool has_error_code;
	uint32_t error_code;
	uint8_t insn_len;	/* soft events: length of the instruction */
};

/* ---------------------------------------------------------------- counters */

/* The model's counters for one processor, vendor-neutral (hw/cost.h). */
struct hv_hw_counters {
	uint64_t insns, halted_insns;
	uint64_t exits, entries, failed_entries;
	uint64_t tlb_hits, tlb_misses, tlb_flushes;
	uint64_t walk_refs, walk_refs_2d, walk_cache_hits;
	uint64_t exceptions, interrupts, smc_invalidations;
	uint64_t cycles;	/* modeled cycles (the prices applied) */
};

/* How the MMU strategy wants the guest's paging handled. */
enum hv_mmu_style {
	HV_MMU_TDP,	/* EPT/NPT; the guest owns CR3, #PF, INVLPG */
	HV_MMU_SHADOW,	/* intercept #PF, CR3 loads, INVLPG; CR0.PG/WP and
			 * CR4.PAE/PSE/PGE/SMEP/SMAP/PCIDE behind masks with
			 * read shadows; the real CR3 is the shadow root */
};

enum hv_flush {
	HV_FLUSH_GUEST,		/* every guest-linear translation of this vcpu
				 * (INVVPID single-context / TLB_CONTROL flush
				 * this ASID) */
	HV_FLUSH_TDP,		/* also the combined and guest-physical ones
				 * (INVEPT single-context / the same ASID flush) */
};

/* Segment registers in enum emu_sreg order, then LDTR and TR. */
enum hv_seg { HV_SEG_ES, HV_SEG_CS, HV_SEG_SS, HV_SEG_DS, HV_SEG_FS, HV_SEG_GS,
	      HV_SEG_LDTR, HV_SEG_TR, HV_NR_SEGS };

/* ---------------------------------------------------------------- ops */

struct hv_backend_ops {
	const char *name;		/* "vmx", "svm" */
	size_t vm_size;			/* sizeof the struct embedding hv_vm */
	size_t vcpu_size;		/* sizeof the struct embedding hv_vcpu */

	/* ---- VM */
	/* Create the machine for vm->cfg (vendor, prices, arena of
	 * vm->arena_size bytes) and enable VMX/SVM operation on it; set
	 * vm->arena to the host pointer of hpa 0. 0 or -errno with
	 * vm_err(). */
	int (*vm_init)(struct hv_vm *vm);
	void (*vm_destroy)(struct hv_vm *vm);
	/* The host wrote [hpa, hpa+len) behind the processor's back (image
	 * loading, emulated writes, hv_write_guest): drop what the
	 * processor cached from it. */
	void (*hpa_written)(struct hv_vm *vm, hpa_t hpa, size_t len);
	/* The TDP entry format (EPT or NPT) for mmu/tdp. */
	const struct tdp_format *(*tdp_format)(struct hv_vm *vm);

	/* ---- vcpu life */
	/* Create the processor (initial APIC ID vcpu->id) and its VMCS/VMCB,
	 * with intercepts for vm->mmu->style and the guest in the RESET
	 * state (SDM Vol. 3A Table 9-1). 0 or -errno. */
	int (*vcpu_create)(struct hv_vcpu *vcpu);
	void (*vcpu_free)(struct hv_vcpu *vcpu);
	/* Put the guest's registers back in the RESET state vcpu_create
	 * gave it (Table 9-1: segments, RIP, RFLAGS, CR0-4, EFER, DR0-7,
	 * the GPRs with EDX the signature, no interrupt shadow, active);
	 * the PAT and the other MSRs are the caller's. core/mp.c builds
	 * INIT from it. */
	void (*reset_regs)(struct hv_vcpu *vcpu);

	/* ---- running */
	/* Make the processor leave the guest soon (hw_cpu_kick: a host IPI);
	 * the one call any thread may make while another runs the vcpu. */
	void (*kick)(struct hv_vcpu *vcpu);
	/* Enter the guest (VMLAUNCH/VMRESUME, VMRUN) and return at its next
	 * exit; vcpu->gpr[] in before, out after. 0: an exit happened (also
	 * a failed entry on guest state, which decode_exit reports as
	 * HVX_FAIL_ENTRY); -EIO: the entry instruction itself failed (VMfail,
	 * #GP): vm_err() says why. */
	int (*run)(struct hv_vcpu *vcpu);
	/* Decode the exit of the last run() into @exit. */
	void (*decode_exit)(struct hv_vcpu *vcpu, struct hv_exit *exit);
	/* Advance RIP past the instruction that exited (its length from the
	 * exit information) and drop STI/MOV SS blocking. */
	void (*skip_instruction)(struct hv_vcpu *vcpu);
	/* A host timer: exit with HVX_EXTINT once the processor has retired
	 * @insns instructions in total (UINT64_MAX: none). */
	void (*set_deadline)(struct hv_vcpu *vcpu, uint64_t insns);
	/* May VM entry take the guest's state as it is? false (VMX without
	 * unrestricted guest: real mode, or segment registers that still
	 * hold real-mode values after CR0.PE was set, SDM Vol. 3C 27.3.1.1,
	 * 27.3.1.2) makes core emulate instead of entering until it is true
	 * again (core/invalid_state.c). Optional: NULL is always true. */
	bool (*state_runnable)(struct hv_vcpu *vcpu);

	/* ---- registers (guest-visible values) */
	uint64_t (*get_rip)(struct hv_vcpu *vcpu);
	void (*set_rip)(struct hv_vcpu *vcpu, uint64_t rip);
	uint64_t (*get_rflags)(struct hv_vcpu *vcpu);
	void (*set_rflags)(struct hv_vcpu *vcpu, uint64_t rflags);
	void (*get_segment)(struct hv_vcpu *vcpu, enum hv_seg seg, struct hv_segment *s);
	void (*set_segment)(struct hv_vcpu *vcpu, enum hv_seg seg, const struct hv_segment *s);
	void (*get_dtable)(struct hv_vcpu *vcpu, bool idt, struct hv_dtable *dt);
	void (*set_dtable)(struct hv_vcpu *vcpu, bool idt, const struct hv_dtable *dt);
	/* CR0, CR2, CR3, CR4 as the guest reads them (read shadows applied). */
	uint64_t (*get_cr)(struct hv_vcpu *vcpu, unsigned cr);
	/* Set CR0/2/3/4 as the guest would have them, already checked by
	 * core (core/cr.c); the backend keeps what it must own (CR4.VMXE,
	 * CR0.NE on VMX; the shadow bits) behind masks and read shadows and
	 * updates the IA-32e mode entry control / EFER.LMA on paging changes
	 * (SDM Vol. 3A 10.8.5, APM 14.6). */
	void (*set_cr)(struct hv_vcpu *vcpu, unsigned cr, uint64_t val);
	uint64_t (*get_efer)(struct hv_vcpu *vcpu);
	void (*set_efer)(struct hv_vcpu *vcpu, uint64_t efer);
	/* The other guest MSRs the processor holds (in the VMCS/VMCB or the
	 * processor itself): 0, or -EINVAL when the processor has no such
	 * MSR (core then injects #GP). */
	int (*get_msr)(struct hv_vcpu *vcpu, uint32_t msr, uint64_t *val);
	int (*set_msr)(struct hv_vcpu *vcpu, uint32_t msr, uint64_t val);
	/* DR6 and DR7 (in the VMCS/VMCB); DR0-3 in the processor. */
	uint64_t (*get_dr)(struct hv_vcpu *vcpu, unsigned dr);
	void (*set_dr)(struct hv_vcpu *vcpu, unsigned dr, uint64_t val);
	/* STI / MOV SS blocking (the emulator sets it after STI). */
	bool (*get_interrupt_shadow)(struct hv_vcpu *vcpu);
	void (*set_interrupt_shadow)(struct hv_vcpu *vcpu, bool on);

	/* ---- events */
	/* Deliver @ev at the next entry (VM-entry interruption information,
	 * EVENTINJ). */
	void (*inject_event)(struct hv_vcpu *vcpu, const struct hv_event *ev);
	/* Could the guest take a maskable interrupt / an NMI right now
	 * (RFLAGS.IF, STI/MOV SS blocking, NMI blocking, nothing already
	 * being injected)? */
	bool (*interrupt_allowed)(struct hv_vcpu *vcpu);
	bool (*nmi_allowed)(struct hv_vcpu *vcpu);
	/* Exit (HVX_IRQ_WINDOW / HVX_NMI_WINDOW) as soon as the guest can
	 * take an interrupt / NMI: interrupt-window exiting, VINTR. */
	void (*set_irq_window)(struct hv_vcpu *vcpu, bool on);
	void (*set_nmi_window)(struct hv_vcpu *vcpu, bool on);
	/* Intercept these exception vectors (bit n: vector n) in addition
	 * to what the MMU style needs (#DB, #BP for guest debugging). */
	void (*set_exception_intercepts)(struct hv_vcpu *vcpu, uint32_t bitmap);

	/* ---- MMU */
	/* Point the processor at the TDP root (EPTP with the format's
	 * memory type and walk length; nCR3). */
	void (*set_tdp_root)(struct hv_vcpu *vcpu, hpa_t root);
	/* HV_MMU_SHADOW: the real CR3, the shadow root. Optional (NULL
	 * until a shadow strategy is built). */
	void (*set_shadow_root)(struct hv_vcpu *vcpu, hpa_t root);
	/* Flush guest translations before the next entry (INVVPID/INVEPT,
	 * TLB_CONTROL or a new ASID). */
	void (*flush_tlb)(struct hv_vcpu *vcpu, enum hv_flush what);

	/* ---- CPUID, time, counters */
	/* What the processor's CPUID returns (core applies the guest
	 * policy, core/cpuid.c). */
	void (*host_cpuid)(struct hv_vcpu *vcpu, uint32_t leaf, uint32_t subleaf,
			   uint32_t out[4]);
	/* Add @delta to the guest's TSC offset (time skipped while halted). */
	void (*adjust_tsc)(struct hv_vcpu *vcpu, uint64_t delta);
	void (*read_counters)(struct hv_vcpu *vcpu, struct hv_hw_counters *c);
	/* A name for raw exit code @raw ("EPT_VIOLATION", "NPF"), for
	 * stats and traces. */
	const char *(*exit_name)(uint64_t raw);
};

/* The backends built in (core/registry.c, filtered by Kconfig). */
extern const struct hv_backend_ops vmx_backend_ops;
extern const struct hv_backend_ops svm_backend_ops;

#endif
