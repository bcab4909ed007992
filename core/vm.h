/*
 * vm.h — core/'s VM and vcpu (the generic halves that the backend's
 * structures embed, backends/backend.h), memslots, and the helpers every
 * core file, backend and MMU strategy shares.
 *
 * Memory (ARCHITECTURE §3). The host-physical arena belongs to the VM's
 * machine; vm->arena is the host pointer of hpa 0, so hpa -> hva is
 * arithmetic, as a kernel's direct map is. core/arena.c hands out its
 * pages: guest RAM for memslots (contiguous, so gpa -> hpa inside a slot
 * is arithmetic too) and single pages for VMCS/VMCB, bitmaps and MMU
 * tables.
 *
 * Lifetime legend: (c) set at creation, constant after; (r) owned by the
 * thread running the vcpu; (m) changed only by hv_set_memory_region;
 * (a) under alloc_lock. The MMU strategies' state (tdp, sflush, scached)
 * is under mmu_lock (core/mmu_call.h), the irqchip's under irq->lock
 * (core/irq/irqchip.h); the counters are atomic.
 */
#ifndef HVLAB_CORE_VM_H
#define HVLAB_CORE_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "core/arena.h"
#include "hvlab/hv.h"
#include "hvlab/types.h"

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

struct hv_mmu_ops;
struct tdp_vm;
struct tdp_vcpu;
struct sf_vm;
struct irq_vm;
struct lapic;
struct vcpu_emu;
struct sched;
struct sched_vcpu;

/* Every counter is bumped by whichever vcpu thread counts it (the
 * parallel scheduler runs several): atomic, so no count is lost. */
struct hv_vm_stats {
#define STAT(name, help) _Atomic uint64_t name;
#include "core/stats.def"
#undef STAT
};

struct hv_memslot {
	bool used;
	uint32_t id;
	uint32_t flags;		/* HV_MEM_* */
	gfn_t base_gfn;
	uint64_t npages;
	hpa_t hpa;		/* backing: npages contiguous pages of the arena */
	uint8_t *dirty;		/* HV_MEM_LOG_DIRTY_PAGES: one bit per page */
};

struct hv_vm {
	const struct hv_backend_ops *backend;	/* (c) */
	const struct hv_mmu_ops *mmu;		/* (c) */
	struct hv_vm_config cfg;		/* (c) names point at the ops' */
	uint8_t *arena;				/* (c) host pointer of hpa 0 */
	uint64_t arena_size;			/* (c) */
	struct arena alloc;			/* (a) host-physical page allocator */
	pthread_mutex_t alloc_lock;		/* (a) */
	pthread_mutex_t mmu_lock;		/* core/mmu_call.h: the MMU's state */
	struct hv_memslot slots[HV_MAX_SLOTS];	/* (m) */
	struct hv_vcpu *vcpus[HV_MAX_VCPUS];
	unsigned nvcpus;
	struct tdp_vm *tdp;			/* mmu/tdp's state */
	struct sf_vm *sflush;			/* mmu/shadow/flush.c's state */
	struct sc_vm *scached;			/* mmu/shadow/cached*.c's state */
	struct irq_vm *irq;			/* core/irq's controllers */
	struct hv_vm_stats stats;
	_Atomic uint64_t exits_by_reason[HVX_NR_REASONS];
	_Atomic uint64_t clock_ns;		/* hv_clock_ns: the latest vcpu clock
						 * published (vcpu_publish_clock) */
	struct sched *sched;			/* core/sched.c, during hv_vm_run */
};

/*
 * The multiprocessor state of a vcpu (SDM Vol. 3A 8.4, 11.6.1; KVM's
 * mp_state): RUNNABLE executes (or is halted in HLT, vcpu->halted);
 * WAIT_SIPI is the wait-for-SIPI state an AP is in after RESET (as the
 * BIOS leaves it, and QEMU's APs start) or any vcpu after INIT: it
 * executes nothing until a STARTUP IPI.
 */
enum vcpu_mp_state {
	VCPU_MP_RUNNABLE,
	VCPU_MP_WAIT_SIPI,
};

/* KVM's vcpu->mode: IN_GUEST from just before the requests are checked
 * for the last time until the processor has left the guest. */
enum vcpu_mode { VCPU_OUTSIDE_GUEST, VCPU_IN_GUEST };

/* Why hv_run is stopping (vcpu->exit_to_vmm) besides a device exit. */
enum vcpu_pending_io {
	VCPU_IO_NONE,
	VCPU_IO_PIO_IN,		/* run->io.data completes an IN */
	VCPU_IO_MMIO_READ,	/* run->mmio.data (run->io.data) answers a read:
				 * run the instruction again */
	VCPU_IO_MMIO_WRITES,	/* the instruction is done; its next MMIO
				 * write goes out (vcpu->mmio_w) */
};

/* One MMIO access of the instruction being emulated: an MMIO access never
 * spans a page (core/emulate.c splits it), so an instruction makes a few
 * of them at most (a read across two MMIO pages; MOVS or CMPS between
 * two MMIO pages: four). */
#define VCPU_MMIO_FRAGS 4
struct vcpu_mmio_frag {
	gpa_t gpa;			/* or the port, for string IN */
	unsigned len;			/* 1..8 */
	uint8_t data[8];
};

struct hv_vcpu {
	struct hv_vm *vm;			/* (c) */
	unsigned id;				/* (c) initial APIC ID */
	uint64_t gpr[16];			/* (r) enum emu_gpr order, see backend.h */
	struct hv_exit exit;			/* (r) the last exit, decoded */
	struct hv_run *run;			/* (r) the caller's, during hv_run */
	enum vcpu_pending_io pending_io;	/* (r) */
	uint8_t pio_in_gpr_size;		/* (r) IN completion: size */
	bool halted;				/* (r) in HLT, waiting for an event */
	volatile bool stop;			/* hv_run_interrupt() */
	/* Events waiting for injection (core/event.c). */
	bool exc_pending;
	struct hv_event exc;
	uint64_t exc_cr2;
	bool reinject_pending;			/* an event an exit interrupted */
	struct hv_event reinject;
	bool nmi_pending;
	int user_irq;				/* hv_interrupt(): vector or -1 */
	/* MMIO reads of the instruction being emulated, in program order:
	 * mmio_r[0..mmio_nr) the VMM has answered (each answer reruns the
	 * instruction, which takes them in order through mmio_rnext);
	 * mmio_r[mmio_nr] is out when pending_io is VCPU_IO_MMIO_READ. */
	struct vcpu_mmio_frag mmio_r[VCPU_MMIO_FRAGS];
	unsigned mmio_nr, mmio_rnext;
	/* MMIO writes of the last emulated instruction, sent to the VMM one
	 * per exit after it completed: mmio_w[mmio_wnext..mmio_nw). */
	struct vcpu_mmio_frag mmio_w[VCPU_MMIO_FRAGS];
	unsigned mmio_nw, mmio_wnext;
	struct hv_guest_debug dbg;		/* (r) hv_debug_guest */
	uint64_t guest_dr[4], guest_dr7;	/* (r) the guest's, while the
						 * debugger's are loaded */
	bool dbg_tf_added;			/* (r) TF set for single-step */
	bool dbg_resume_rf;			/* (r) set RF at the next entry */
	struct tdp_vcpu *tdp;			/* mmu/tdp's state */
	struct lapic *apic;			/* core/irq/lapic.c */
	struct vcpu_emu *emu;			/* core/emulate.c, made on first use */
	bool mmio_write_out;			/* (r) an emulated string OUT waits
						 * in run->io for the VMM */
	uint64_t tsc_offset;			/* (r) sum of adjust_tsc() deltas */
	uint64_t idle_cycles;			/* (r) virtual time the processor did
						 * not count: halted, waiting for
						 * SIPI, emulated by core (TSC ticks) */
	uint64_t last_rip, last_rcx, same_rip_exits;	/* loop detection */
	enum vcpu_mp_state mp_state;		/* (r) */
	_Atomic uint32_t requests;		/* core/request.h: bit per request */
	_Atomic int mode;			/* enum vcpu_mode: may the processor
						 * be using its TLB (request.h)? */
	struct sched_vcpu *sched;		/* core/sched.c, during hv_vm_run */
};

void vcpu_destroy(struct hv_vcpu *vcpu);

/* One-line message for hv_strerror(); returns ret. */
int vm_err(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The slot holding @gfn, or NULL. */
struct hv_memslot *vm_slot_of(struct hv_vm *vm, gfn_t gfn);

static inline hpa_t slot_gfn_to_hpa(const struct hv_memslot *s, gfn_t gfn)
{
	return s->hpa + ((gfn - s->base_gfn) << HV_PAGE_SHIFT);
}

/* Host pointer of @len bytes at hpa (must be inside the arena). */
static inline void *vm_hpa_ptr(struct hv_vm *vm, hpa_t hpa)
{
	return vm->arena + hpa;
}

/* Host pointer of [gpa, gpa+len) when it lies in one slot, else NULL. */
void *vm_gpa_ptr(struct hv_vm *vm, gpa_t gpa, size_t len);

/* Mark @gfn dirty in its slot's log (if the slot logs). */
void vm_mark_dirty(struct hv_vm *vm, struct hv_memslot *slot, gfn_t gfn);

/* Host-physical pages for backends and MMUs: zeroed, 4 KiB. 0/INVALID_HPA. */
hpa_t vm_alloc_page(struct hv_vm *vm);
void vm_free_page(struct hv_vm *vm, hpa_t hpa);
/* Contiguous zeroed pages (VMCB permission maps, IOPM). */
hpa_t vm_alloc_pages(struct hv_vm *vm, unsigned npages);
void vm_free_pages(struct hv_vm *vm, hpa_t hpa, unsigned npages);

/* Virtual time of vcpu @vcpu (its processor's cycles plus idle_cycles)
 * and its guest TSC. */
uint64_t vcpu_clock_ns(struct hv_vcpu *vcpu);
/* Make the vcpu's clock the VM's (hv_clock_ns) if it is ahead of it. */
void vcpu_publish_clock(struct hv_vcpu *vcpu);
/* Let an idle vcpu's clock move on to @ns (nothing if it is there
 * already): halted time, counted in halt_ns and the guest's TSC. */
void vcpu_idle_until(struct hv_vcpu *vcpu, uint64_t ns);
uint64_t vcpu_guest_tsc(struct hv_vcpu *vcpu);
/* Move the guest's TSC by @delta (modulo 2^64). */
void vcpu_adjust_tsc(struct hv_vcpu *vcpu, uint64_t delta);
/* Nanoseconds <-> TSC ticks at CONFIG_HV_TSC_KHZ. */
uint64_t tsc_to_ns(uint64_t tsc);
uint64_t ns_to_tsc(uint64_t ns);

#endif
