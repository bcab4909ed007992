/*
 * cpu.h — one modeled processor (internal to hw/; the hypervisor sees an
 * opaque struct hw_cpu through hw/hw.h, hw/vmx.h and hw/svm.h).
 *
 * The registers the instruction engine reads and writes live in
 * emu.cpu; everything else a processor holds is here: the rest of the
 * control and debug registers, the MSRs, the event state (pins, pending
 * events, blocking), the TLB and the translation context of the code
 * running now, the VMX or SVM state, and the counters.
 *
 * The model executes instructions only in guest mode (VMX non-root
 * operation or SVM guest mode): the host is hvlab itself, native code,
 * and reaches the processor through function calls. So "root mode" here
 * is the register state the host would have, loaded at VM exit and
 * checked at VM entry, never executed.
 */
#ifndef HVLAB_HW_CPU_H
#define HVLAB_HW_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "emulate/emulate.h"
#include "hw/hw.h"
#include "hw/msr.h"
#include "hw/svm_cpu.h"
#include "hw/vmcb.h"
#include "hw/vmx_ctl.h"
#include "hw/tlb.h"
#include "hw/vmx_cpu.h"
#include "hw/walk.h"

#define HW_MAX_CPUS 64

/* The physical-address width (CPUID 8000_0008 EAX[7:0]) of both vendors'
 * models; the arena (at most 2^46 bytes) lies below it. */
#define HW_MAXPHYADDR 46

/* CR4 bits the model implements (CPUID leaves 1 and 7, hw/cpuid.c): DE
 * TSD PSE PAE MCE PGE PCE UMIP PCIDE SMEP SMAP, and VMXE on Intel. VME
 * and PVI are absent (INT n redirection in vm86 is not modelled), and so
 * are the FXSR/XMM and FSGSBASE bits (no SSE, no RDFSBASE). */
#define HW_CR4_VALID	((1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 5) | \
			 (1ull << 6) | (1ull << 7) | (1ull << 8) | (1ull << 11) | \
			 (1ull << 17) | (1ull << 20) | (1ull << 21))
#define HW_CR4_VMXE	(1ull << 13)

enum hw_guest {
	HW_HOST,		/* not in a guest: no instruction runs */
	HW_GUEST_VMX,		/* VMX non-root operation */
	HW_GUEST_SVM,		/* SVM guest mode */
};

/* Event state (SDM Vol. 3A 6.8, 6.9; APM Vol. 2 8.5). */
struct hw_events {
	bool intr;		/* INTR pin asserted */
	uint8_t intr_vector;	/* what an acknowledge would return */
	bool timer;		/* the host timer fired (hw_cpu_set_deadline) */
	bool nmi_pending;	/* NMI latched, not yet delivered */
	bool init_pending;	/* INIT latched (hw_cpu_init) */
	bool nmi_blocked;	/* between NMI delivery and the next IRET */
	uint8_t shadow;		/* HW_SHADOW_*: blocking by STI / MOV SS ... */
	uint64_t shadow_at;	/* ... while emu.icount equals this: during
				 * the instruction after STI / MOV SS */
	bool halted;		/* HLT retired, waiting for an event */
	bool shutdown;		/* triple fault: waiting for INIT/RESET */
};

#define HW_SHADOW_STI	(1u << 0)
#define HW_SHADOW_MOVSS	(1u << 1)

/*
 * A VM exit decided while an instruction or an event was in progress,
 * taken when the engine returns (EMU_STOP). The vendor code
 * (vmx_exit.c, svm_exit.c) copies it into the VMCS or VMCB.
 */
struct hw_exit {
	bool pending;
	uint64_t reason;	/* VMX basic exit reason, or SVM EXITCODE */
	uint64_t qual;		/* VMX exit qualification, or SVM EXITINFO1 */
	uint64_t info2;		/* SVM EXITINFO2 */
	uint64_t gla, gpa;	/* VMX guest-linear / guest-physical address */
	uint32_t intr_info;	/* VMX VM-exit interruption information */
	uint32_t intr_error;	/* VMX VM-exit interruption error code */
	uint32_t insn_info;	/* VMX VM-exit instruction information */
	uint8_t insn_len;	/* length of the instruction that exited, or 0 */
};

/* The event being delivered when an exit interrupts its delivery
 * (IDT-vectoring information, SVM EXITINTINFO). */
struct hw_vectoring {
	bool valid;
	struct emu_event ev;
};

/* The translation context of the code running now. */
struct hw_xlat {
	struct hw_paging pg;
	struct hw_nested nst;
	uint64_t tag;		/* HW_TLB_TAG of the current address space */
	uint16_t vpid;		/* VPID or ASID in the tag */
};

/*
 * Locking legend for the structures below. A machine's processors run on
 * host threads of their own (hw.h, "Threads"); guest memory and every
 * table in the arena are shared and may change at any moment.
 *   (i) set at creation, read-only afterwards
 *   (o) the owner: the thread that runs the processor, alone
 *   (a) any thread, only through __atomic builtins
 *   (q) under hw_requests.q_lock
 */
struct hw_machine {
	struct hw_machine_config cfg;	/* (i), but prices: hw_machine_set_prices */
	uint8_t *arena;			/* (i) */
	uint64_t arena_size;		/* (i) */
	/* (a) One bit per arena page: some processor may hold decoded
	 * instructions from it (hw/dcode.c says when it is set and cleared). */
	uint64_t *code_pages;
	uint32_t drops_in_flight;	/* (a) hw_code_page_drop() calls running */
	uint32_t stale_writers;		/* (a) processors that may still store through
					 * front-TLB entries to a page just marked as
					 * code (hw/dcode.c) */
	uint32_t bus_lock;		/* spinlock of split locked operations (hw/locked.c) */
	uint32_t cpus_lock;		/* spinlock of hw_cpu_create/destroy */
	struct hw_cpu *cpus[HW_MAX_CPUS];	/* (a) published with release */
};

/*
 * What other threads ask of a processor (hw/request.c): HW_REQ_* bits in
 * pending, served by the owner at the instruction boundaries where the run
 * loop looks (hw/run.c) and at serializing instructions.
 */
#define HW_REQ_KICK	(1u << 0)	/* hw_cpu_kick() */
#define HW_REQ_DCODE	(1u << 1)	/* drop the decoded code of the queued pages */
#define HW_REQ_FRONT	(1u << 2)	/* drop front-TLB write entries to code pages */
#define HW_REQ_QUEUE	16		/* pages queued before it becomes "all" */

struct hw_requests {
	uint32_t pending;		/* (a) HW_REQ_* */
	uint32_t in_guest;		/* (a) written by (o): 1 from entry's first look
					 * at pending to exit's last (run.c) */
	uint32_t front_loud;		/* (a) HW_REQ_FRONT posts made while it was in
					 * guest mode (hw/dcode.c) */
	uint32_t q_lock;		/* spinlock of the queue */
	uint32_t q_n;			/* (q) pages in q_pfn */
	bool q_all;			/* (q) more than fit: drop every page */
	uint64_t q_pfn[HW_REQ_QUEUE];	/* (q) */
	uint64_t smc_posted;		/* (a) drops asked for: hw_counters.smc_invalidations
					 * of the owner, folded in by hw_cpu_sync_counters */
};

/* Every field is (o) but req, which is (a)/(q), and tlb.front's write_tag
 * and addend, which the owner stores atomically and other processors read
 * atomically (hw/dcode.c). */
struct hw_cpu {
	struct emu_ctx emu;		/* registers; the engine's context */
	struct hw_machine *m;
	unsigned id;			/* initial APIC ID */
	struct hw_requests req;

	uint64_t cr2, cr3, cr8;
	uint64_t dr[4], dr6, dr7;
	struct hw_msrs msr;

	enum hw_guest guest;
	struct emu_cpu host;		/* root-mode registers (see above) */
	uint64_t host_cr3;

	struct hw_xlat xlat;
	struct hw_tlb tlb;
	struct hw_events ev;
	struct hw_exit exit;
	struct hw_vectoring vectoring;
	/* Set when the guest did something the model does not implement
	 * (a task switch, say): the entry returns *_MODEL_UNSUPPORTED. */
	const char *unsupported;
	bool monitor_armed;		/* MONITOR since the last MWAIT */
	bool iret_retired;		/* an IRET retired in the last batch */
	uint64_t deadline;		/* hw_cpu_set_deadline() */

	struct vmx_cpu vmx;
	struct svm_cpu svm;
	/* The running guest's controls, cached at VM entry / VMRUN. */
	struct vmx_ctl vmx_ctl;
	struct vmcb_control svm_ctl;

	struct hw_counters cnt;
	/* emu.icount when the running batch started: instructions retired
	 * in it are emu.icount - batch_icount until it ends and they are
	 * added to cnt.insns (RDTSC in mid-batch reads them). */
	uint64_t batch_icount;
};

/* The interrupt shadow in force now (SDM Vol. 3A 6.8.3), or 0. */
static inline unsigned hw_shadow(const struct hw_cpu *cpu)
{
	return cpu->emu.icount == cpu->ev.shadow_at ? cpu->ev.shadow : 0;
}

static inline struct hw_cpu *to_hw_cpu(struct emu_ctx *ctx)
{
	return (struct hw_cpu *)((char *)ctx - __builtin_offsetof(struct hw_cpu, emu));
}

#endif
