/*
 * hv.h — hvlab's public API: the first /dev/kvm interface (seeds 002 and
 * 004) as C calls, ARCHITECTURE §4. libhvlab exports these and nothing
 * else; the `hvlab` program (vmm/) is built on them alone.
 *
 *   seed ioctl                     hvlab call
 *   KVM_CREATE_VM                  hv_vm_create()
 *   KVM_SET_USER_MEMORY_REGION     hv_set_memory_region()
 *   KVM_CREATE_VCPU                hv_vcpu_create()
 *   KVM_RUN + struct kvm_run       hv_run() + struct hv_run
 *   KVM_GET/SET_REGS, _SREGS       hv_get_regs() ... hv_set_sregs()
 *   KVM_TRANSLATE                  hv_translate()
 *   KVM_INTERRUPT                  hv_interrupt()
 *   KVM_DEBUG_GUEST                hv_debug_guest()
 *   KVM_GET_DIRTY_LOG              hv_get_dirty_log()
 *   (new)                          hv_get_stats()
 *
 * Errors. Every call validates its arguments and returns 0 (or a count)
 * on success and a negative errno value on failure; hv_strerror() gives
 * the one-line message of the last failure of the calling thread. No
 * call aborts the process, whatever its input.
 *
 * Threads. A VM and its vcpus may be used from one thread at a time,
 * except: hv_run_interrupt() and hv_vm_run_interrupt() from any thread
 * (while the run they stop runs); and hv_get_dirty_log() and
 * hv_read_guest() while hv_vm_run() runs the VM, from another thread in
 * HV_SCHED_PARALLEL mode (a VMM's migration thread: KVM_GET_DIRTY_LOG
 * beside KVM_RUN) or from ops->exit in either mode.
 */
#ifndef HVLAB_HV_H
#define HVLAB_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlab/types.h"

struct hv_vm;
struct hv_vcpu;

/* ------------------------------------------------------------ VMs */

/* Prices of the machine model in cycles (docs/cost-model.md); 0 keeps the
 * Kconfig default of that price. */
struct hv_prices {
	uint32_t cpi_milli;		/* per instruction, x1000 */
	uint32_t exit_entry;		/* one exit plus the entry after it */
	uint32_t walk_ref;		/* per page-walk memory reference */
	uint32_t walk_cache_hit;	/* per paging-structure-cache hit */
};

struct hv_vm_config {
	const char *backend;		/* "vmx", "svm"; NULL: the Kconfig default */
	const char *mmu;		/* "tdp", ...; NULL: the Kconfig default */
	uint64_t max_mem;		/* bytes of guest RAM the VM may map in all
					 * its memory regions together (sizes the
					 * host-physical arena); 0: 4 GiB */
	struct hv_prices prices;
};

/* Create a VM. *out is set on success. -EINVAL (bad config), -ENOENT
 * (no such backend or MMU strategy built in), -ENOMEM. */
int hv_vm_create(const struct hv_vm_config *cfg, struct hv_vm **out);

/* Destroy a VM with its vcpus and memory. NULL is ignored. */
void hv_vm_destroy(struct hv_vm *vm);

/* The backend and MMU strategy a VM runs with. */
const char *hv_vm_backend(const struct hv_vm *vm);
const char *hv_vm_mmu(const struct hv_vm *vm);

/* The names compiled in, separated by spaces ("vmx svm", "tdp"). */
const char *hv_backends(void);
const char *hv_mmus(void);

/* ------------------------------------------------------------ memory */

#define HV_MEM_LOG_DIRTY_PAGES (1u << 0)
#define HV_MEM_READONLY (1u << 1)	/* guest writes exit as MMIO */

#define HV_MAX_SLOTS 32

/*
 * One guest-physical memory region (KVM_SET_USER_MEMORY_REGION). hvlab
 * backs it with host-physical memory of its own, zero-filled, as the
 * first KVM did; the VMM reaches it through hv_read_guest() and
 * hv_write_guest(). gpa and size must be page aligned.
 *   size != 0, slot unused    add the region
 *   size == 0                 delete the slot's region
 *   same slot, same size      move it to gpa, or change its flags (the
 *                             contents stay)
 * Regions may not overlap. -EINVAL, -EEXIST (overlap), -ENOMEM.
 */
struct hv_memory_region {
	uint32_t slot;		/* 0 .. HV_MAX_SLOTS-1 */
	uint32_t flags;		/* HV_MEM_* */
	gpa_t gpa;
	uint64_t size;
};
int hv_set_memory_region(struct hv_vm *vm, const struct hv_memory_region *mr);

/*
 * Copy to or from guest-physical memory, as the VMM's device models and
 * loaders do. The range must lie in memory regions (-EFAULT otherwise).
 * Writes count as guest writes for dirty logging and drop whatever the
 * processor cached from those pages.
 */
int hv_write_guest(struct hv_vm *vm, gpa_t gpa, const void *buf, size_t len);
int hv_read_guest(struct hv_vm *vm, gpa_t gpa, void *buf, size_t len);

/*
 * KVM_GET_DIRTY_LOG: the pages of @slot written since the last call, one
 * bit per page (bit i of byte i/8 for page i of the region), in @bitmap
 * of ceil(pages/8) bytes; the log is then cleared and write tracking
 * re-armed. The slot must have HV_MEM_LOG_DIRTY_PAGES.
 *
 * With vcpus running (see Threads above): a page written while the call
 * runs is in @bitmap or in the next call's, and once it returns no vcpu
 * can write a page of the slot without logging it (write protection is
 * back and every vcpu's TLB flushed, waiting for each to leave the
 * guest). So pre-copy migration works: copy what each call names after
 * it returns; after the vcpus stop, one more call and copy make the
 * copy equal to guest memory (tests/migrate/precopy.c).
 */
int hv_get_dirty_log(struct hv_vm *vm, uint32_t slot, void *bitmap, size_t len);

/* ------------------------------------------------------------ vcpus */

/*
 * Create vcpu @id (0 .. HV_MAX_VCPUS-1, its initial APIC ID) in the state
 * after RESET (SDM Vol. 3A 9.1.1: real mode, CS:IP F000:FFF0). Vcpu 0 is
 * the bootstrap processor; the others are application processors and
 * wait for a STARTUP IPI (the wait-for-SIPI state their BIOS would leave
 * them in, SDM Vol. 3A 8.4.3; QEMU's APs start so too).
 */
#define HV_MAX_VCPUS 64
int hv_vcpu_create(struct hv_vm *vm, unsigned id, struct hv_vcpu **out);

/* General-purpose registers (KVM_GET/SET_REGS). */
struct hv_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};
int hv_get_regs(struct hv_vcpu *vcpu, struct hv_regs *regs);
int hv_set_regs(struct hv_vcpu *vcpu, const struct hv_regs *regs);

/* A segment register as the descriptor cache holds it (KVM's layout). */
struct hv_segment {
	uint64_t base;
	uint32_t limit;		/* in bytes (granularity applied) */
	uint16_t selector;
	uint8_t type;		/* descriptor type field, 4 bits */
	uint8_t present, dpl, db, s, l, g, avl;
	uint8_t unusable;	/* a null selector was loaded */
};

struct hv_dtable {
	uint64_t base;
	uint16_t limit;
};

/* Special registers (KVM_GET/SET_SREGS). Control registers read as the
 * guest sees them, whatever the MMU strategy keeps in the real ones. */
struct hv_sregs {
	struct hv_segment cs, ds, es, fs, gs, ss;
	struct hv_segment tr, ldt;
	struct hv_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer;
	uint64_t apic_base;
};
int hv_get_sregs(struct hv_vcpu *vcpu, struct hv_sregs *sregs);
/* -EINVAL when the state is not one the processor could be in (a
 * reserved CR bit, LMA without PG, ...). */
int hv_set_sregs(struct hv_vcpu *vcpu, const struct hv_sregs *sregs);

/* KVM_TRANSLATE: the guest's own translation of @gva with its current
 * paging, for a supervisor read. */
struct hv_translation {
	gva_t gva;
	gpa_t gpa;		/* valid when valid */
	bool valid;
	bool writeable;		/* a supervisor write would succeed */
	bool usermode;		/* a user access would succeed */
};
int hv_translate(struct hv_vcpu *vcpu, gva_t gva, struct hv_translation *tr);

/* KVM_INTERRUPT: raise external interrupt @vector, to be delivered when
 * the guest can take it (as a PIC's INTR would). For VMMs without the
 * in-hvlab interrupt controllers; with them, use the device lines. */
int hv_interrupt(struct hv_vcpu *vcpu, uint8_t vector);

/*
 * KVM_DEBUG_GUEST: debug the guest from the VMM. With HV_GUESTDBG_ENABLE:
 *   SINGLESTEP  exit with HV_EXIT_DEBUG after each guest instruction
 *               (RFLAGS.TF, hidden from the guest; no interrupt is
 *               injected while stepping, KVM's BLOCKIRQ behaviour)
 *   USE_HW_BP   up to four instruction breakpoints on guest linear
 *               addresses (DR0-3 and DR7, which the guest then sees as
 *               the debugger's): exit before the instruction; the next
 *               hv_run executes it (RFLAGS.RF, SDM Vol. 3B 18.3.1.1)
 *   USE_SW_BP   INT3 exits to the VMM instead of reaching the guest
 * run.debug says which: exception 1 (#DB, with DR6) or 3 (#BP), pc = RIP.
 * control = 0 turns debugging off and gives the guest its DR0-3/DR7 back.
 */
#define HV_GUESTDBG_ENABLE (1u << 0)
#define HV_GUESTDBG_SINGLESTEP (1u << 1)
#define HV_GUESTDBG_USE_HW_BP (1u << 2)
#define HV_GUESTDBG_USE_SW_BP (1u << 3)
struct hv_guest_debug {
	uint32_t control;	/* HV_GUESTDBG_* */
	unsigned nbp;		/* 0..4 with USE_HW_BP */
	gva_t bp[4];
};
int hv_debug_guest(struct hv_vcpu *vcpu, const struct hv_guest_debug *dbg);

/* ------------------------------------------------------------ running */

enum hv_exit_reason {
	HV_EXIT_UNKNOWN,
	HV_EXIT_IO,		/* port I/O for the VMM: run.io */
	HV_EXIT_MMIO,		/* MMIO for the VMM: run.mmio */
	HV_EXIT_HLT,		/* the guest halted with interrupts off, or with
				 * nothing that could ever wake it */
	HV_EXIT_DEBUG,		/* a hv_debug_guest() event: run.debug */
	HV_EXIT_SHUTDOWN,	/* triple fault */
	HV_EXIT_FAIL_ENTRY,	/* the processor refused the guest state */
	HV_EXIT_INTERNAL_ERROR,	/* hvlab cannot go on: run.internal */
	HV_EXIT_DEADLINE,	/* run.deadline_ns or run.max_insns reached */
	HV_EXIT_INTR,		/* hv_run_interrupt() asked the vcpu to stop */
	HV_EXIT_VMM,		/* hv_vm_run: the VMM's exit handler stopped it */
};

#define HV_EXIT_IO_IN 0
#define HV_EXIT_IO_OUT 1

/*
 * What hv_run() fills (struct kvm_run). Completion rules as the seed's:
 * for IO with direction IN and for MMIO reads, the VMM writes the data
 * into run.io.data / run.mmio.data before the next hv_run(), which
 * completes the instruction; writes carry their data out and complete
 * before hv_run() returns them.
 */
struct hv_run {
	/* in */
	uint64_t deadline_ns;	/* stop with HV_EXIT_DEADLINE once the VM's
				 * clock (hv_clock_ns) reaches it; 0: none */
	uint64_t max_insns;	/* stop with HV_EXIT_DEADLINE once the vcpu has
				 * retired this many instructions in total;
				 * 0: no limit */
	/* out */
	uint32_t exit_reason;	/* enum hv_exit_reason */
	bool if_flag;		/* RFLAGS.IF at exit */
	bool ready_for_interrupt_injection;
	uint64_t insns;		/* instructions retired by this vcpu so far */
	union {
		struct {
			uint8_t direction;	/* HV_EXIT_IO_IN / _OUT */
			uint8_t size;		/* 1, 2, 4 */
			uint16_t port;
			uint32_t count;		/* 1 (string I/O goes one element
						 * per exit) */
			uint8_t data[8];	/* OUT: the value; IN: fill it */
		} io;
		struct {
			gpa_t phys_addr;
			uint8_t data[8];
			uint32_t len;		/* 1..8: an access that crosses a
						 * page goes out one page's part
						 * at a time */
			bool is_write;
		} mmio;
		struct {
			uint32_t exception;	/* 1: #DB (step or breakpoint) */
			uint64_t pc;		/* guest rip */
			uint64_t dr6;
		} debug;
		struct {
			uint64_t hardware_exit_reason;	/* VMX reason / SVM code */
		} fail_entry;
		struct {
			uint32_t suberror;		/* enum hv_internal_error */
			char why[96];			/* one line */
		} internal;
	};
};

enum hv_internal_error {
	HV_INTERNAL_EMULATION = 1,	/* an instruction hvlab cannot emulate */
	HV_INTERNAL_UNSUPPORTED,	/* the model does not implement what the
					 * guest did (a task switch, ...) */
	HV_INTERNAL_MMU,		/* the MMU could not map memory */
	HV_INTERNAL_UNEXPECTED_EXIT,	/* an exit the backend did not ask for */
	HV_INTERNAL_LOOP,		/* the same exit without progress */
};

/* KVM_RUN, for one vcpu on its own. Returns 0 with run->exit_reason set,
 * or -errno (the vcpu is then unusable: -EIO). A halted vcpu lets virtual
 * time jump to its next timer; one waiting for a STARTUP, or halted with
 * nothing that could wake it, returns HV_EXIT_HLT. Vcpus that talk to
 * each other (IPIs, STARTUP) run under hv_vm_run(). -EBUSY during it. */
int hv_run(struct hv_vcpu *vcpu, struct hv_run *run);

/* Make a running hv_run() return HV_EXIT_INTR at its next exit (from a
 * signal handler or another thread). */
void hv_run_interrupt(struct hv_vcpu *vcpu);

/* ------------------------------------------------------------ scheduler */

/*
 * hv_vm_run: run every vcpu of the VM until the guest or the VMM ends it
 * (ARCHITECTURE §5, core/sched.c, docs/scheduler.md).
 *
 *   HV_SCHED_DETERMINISTIC  all vcpus on the calling thread, round robin,
 *                           each turn @quantum guest instructions (none
 *                           while the others are all idle); the same
 *                           inputs give the same output and stats
 *   HV_SCHED_PARALLEL       one host thread per vcpu; counts stay exact,
 *                           the interleaving is the host's
 *
 * Virtual time (hv_clock_ns) passes for all vcpus together: a halted vcpu
 * keeps up with the others, and when every vcpu is idle the clock jumps
 * to the next timer (a local APIC's, or the VMM's deadline).
 */
enum hv_sched_mode { HV_SCHED_DETERMINISTIC, HV_SCHED_PARALLEL };

struct hv_vm_run_ops {
	/* A vcpu's exit for the VMM: HV_EXIT_IO, HV_EXIT_MMIO or
	 * HV_EXIT_DEBUG, to handle as after hv_run (fill an IN's or an MMIO
	 * read's data). 0 goes on; any other value stops the VM with
	 * HV_EXIT_VMM and that value in vmm_status. In parallel mode it is
	 * called from the vcpus' threads, concurrently: the VMM serialises
	 * its own devices. */
	int (*exit)(void *opaque, struct hv_vcpu *vcpu, struct hv_run *run);
	/* Device timers: called before any vcpu runs and whenever the VM's
	 * clock has reached the deadline it returned last; returns the next
	 * one (hv_clock_ns), UINT64_MAX for none. NULL: no timers. */
	uint64_t (*tick)(void *opaque);
	void *opaque;
};

struct hv_vm_run {
	/* in */
	enum hv_sched_mode mode;
	uint64_t quantum;	/* deterministic: guest instructions per turn;
				 * 0: CONFIG_HV_SCHED_QUANTUM */
	uint64_t max_insns;	/* stop once a vcpu has retired this many in
				 * total; 0: no limit */
	/* out */
	uint32_t exit_reason;	/* HV_EXIT_HLT (every vcpu waits and nothing
				 * can wake one), _SHUTDOWN, _FAIL_ENTRY,
				 * _INTERNAL_ERROR, _DEADLINE (max_insns),
				 * _INTR (hv_vm_run_interrupt), _VMM */
	int vmm_status;		/* HV_EXIT_VMM: what ops->exit returned */
	unsigned vcpu_id;	/* the vcpu whose exit stopped the VM */
	struct hv_run run;	/* that vcpu's run (fail_entry, internal) */
};

/* 0 with run->exit_reason set; -EINVAL (bad arguments, no vcpus),
 * -EAGAIN (no host thread for parallel mode), -EIO (a vcpu failed). */
int hv_vm_run(struct hv_vm *vm, struct hv_vm_run *run, const struct hv_vm_run_ops *ops);

/* Make a running hv_vm_run() stop with HV_EXIT_INTR (from a signal
 * handler or another thread). */
void hv_vm_run_interrupt(struct hv_vm *vm);

/* ------------------------------------------------------------ devices */

/*
 * The interrupt controllers that sit close to the vcpu live in hvlab
 * (ARCHITECTURE §5: local APIC at 0xfee00000, I/O APIC at 0xfec00000,
 * the two 8259s on ports 0x20/0xa0/0x4d0); the VMM's devices raise
 * their lines here. ISA IRQ n drives PIC input n and I/O APIC pin n
 * (pin 2 for IRQ 0, as QEMU's pc machine routes the PIT).
 */
int hv_irq_line(struct hv_vm *vm, unsigned irq, bool level);

/*
 * The VM's clock: virtual time in nanoseconds since the VM was created,
 * derived from the machine model's cycles (docs/cost-model.md) at the
 * nominal TSC frequency (CONFIG_HV_TSC_KHZ), plus the time the guest
 * spent halted. It depends on what the guest did, never on the host, so
 * runs repeat exactly. Device models (PIT, RTC, PM timer) count with it.
 */
uint64_t hv_clock_ns(struct hv_vm *vm);

/* ------------------------------------------------------------ stats */

/* One counter (KVM's names where they apply: exits, pf_fixed, ...). */
struct hv_stat {
	const char *name;
	const char *help;
	uint64_t value;
};

/*
 * Every counter of the VM (summed over its vcpus) with the machine
 * model's (exits by reason, TLB, walks, modeled cycles). Writes at most
 * @n entries and returns how many there are, so a first call with n = 0
 * sizes the array.
 */
int hv_get_stats(struct hv_vm *vm, struct hv_stat *out, size_t n);

/* The message of the calling thread's last failed call. */
const char *hv_strerror(void);

#endif
