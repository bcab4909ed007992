/*
 * hw.h — the silicon model as the hypervisor sees it: a machine (its
 * host-physical memory and its processors) and the few things a host
 * does to a processor outside VMX/SVM operation (CPUID, RDMSR/WRMSR,
 * MOV CR, interrupt pins). The VMX and SVM instructions are in hw/vmx.h
 * and hw/svm.h (ARCHITECTURE §1, §8).
 *
 * Host-physical memory is one arena (ARCHITECTURE §3): hpa = offset into
 * it. Guest RAM, shadow pages, EPT/NPT tables, VMCS and VMCB pages all
 * live there; whoever owns the machine hands out pages. The page walker
 * dereferences only hpas inside the arena: reads beyond it return all
 * ones and writes are dropped, as on a PC bus with nothing decoding the
 * address.
 *
 * Threads. Each processor may run on a host thread of its own. Every
 * call that names a processor must come from the thread that runs it
 * (its owner; one at a time) except hw_cpu_kick(), which any thread may
 * make at any moment. Calls that name only the machine may come from any
 * thread: hw_hpa_ptr(), hw_hpa_written() (the host writing guest memory
 * while processors run is expected), hw_arena_size(), hw_machine_vendor().
 * hw_machine_set_prices() and hw_cpu_destroy() need the machine's other
 * processors stopped; hw_cpu_create() does not. Guest memory and the
 * tables in the arena are shared by design: the model reads paging
 * entries with single atomic loads and sets A/D flags with locked
 * compare-exchanges, so a table another thread rewrites is seen either
 * before or after each write, never torn, as on silicon.
 */
#ifndef HVLAB_HW_H
#define HVLAB_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlab/types.h"
#include "hw/cost.h"

enum hw_vendor {
	HW_VENDOR_INTEL,	/* GenuineIntel with VMX, EPT, VPID */
	HW_VENDOR_AMD,		/* AuthenticAMD with SVM, NPT, ASID */
};

/*
 * The TLB's geometry (hw/tlb.c): entries and ways per page size. Entries
 * must be a multiple of ways and entries/ways a power of two.
 */
struct hw_tlb_config {
	unsigned entries_4k, ways_4k;
	unsigned entries_2m, ways_2m;
	unsigned entries_1g, ways_1g;
	unsigned psc_entries;	/* entries of each paging-structure cache
				 * (PML4, PDPTE, PDE; hw/psc.h), at most
				 * HW_PSC_MAX_ENTRIES; 0: none */
};

/*
 * Paging features the model can leave out, to study an MMU without them
 * (all on by default, Kconfig "Processor features"). CPUID stops
 * advertising a feature that is off and the processor behaves as one
 * without it: its CR4 bit and EFER.NXE become reserved (#GP), a PDPTE
 * with PS set is a reserved-bit fault without 1 GiB pages (SDM 4.5.4),
 * INVPCID is #UD without PCIDs.
 */
struct hw_features {
	bool nx;		/* EFER.NXE, XD (CPUID 8000_0001 EDX[20]) */
	bool page1gb;		/* 1 GiB pages (8000_0001 EDX[26]) */
	bool pge;		/* global pages, CR4.PGE (1 EDX[13]) */
	bool pcid;		/* CR4.PCIDE (1 ECX[17]), INVPCID (7 EBX[10]) */
	bool smep;		/* CR4.SMEP (7 EBX[7]) */
	bool smap;		/* CR4.SMAP (7 EBX[20]) */
};

struct hw_machine_config {
	enum hw_vendor vendor;
	struct hw_features features;
	uint64_t arena_size;		/* bytes of host-physical memory */
	struct hw_tlb_config tlb;
	struct hw_prices prices;
};

struct hw_machine;
struct hw_cpu;

/* The Kconfig defaults (hw/Kconfig) for @vendor. */
void hw_machine_config_default(struct hw_machine_config *cfg, enum hw_vendor vendor);

/* The CR4 bits this machine's processors implement (with its features). */
uint64_t hw_cr4_valid(const struct hw_machine *m);

/* Check @cfg; on error return -EINVAL and point *why at one line. */
int hw_machine_config_check(const struct hw_machine_config *cfg, const char **why);

/* Create a machine (reserves the arena, lazily backed). 0 or -errno. */
int hw_machine_create(const struct hw_machine_config *cfg, struct hw_machine **out);
void hw_machine_destroy(struct hw_machine *m);

enum hw_vendor hw_machine_vendor(const struct hw_machine *m);
uint64_t hw_arena_size(const struct hw_machine *m);

/*
 * A pointer to @len bytes of host-physical memory at @hpa, or NULL when
 * any of them lies outside the arena. The hypervisor uses this to build
 * its tables; the model itself uses it for every memory access.
 */
void *hw_hpa_ptr(struct hw_machine *m, hpa_t hpa, size_t len);

/*
 * Tell the model that the host wrote [hpa, hpa+len) behind its back
 * (loading a guest image, copying pages): decoded instructions cached
 * from those pages are dropped. The model's own accesses need no call.
 */
void hw_hpa_written(struct hw_machine *m, hpa_t hpa, size_t len);

/* Processors. @id is the initial APIC ID. 0 or -errno. */
int hw_cpu_create(struct hw_machine *m, unsigned id, struct hw_cpu **out);
void hw_cpu_destroy(struct hw_cpu *cpu);

/*
 * The processor's general-purpose registers, indexed as enum emu_gpr
 * (RAX..R15). There is one register file, as on silicon: VMX entries
 * and exits switch only RSP (and RIP, RFLAGS) through the VMCS, SVM only
 * RAX and RSP through the VMCB, so after an exit the other registers
 * hold the guest's values and the hypervisor saves and restores them
 * itself (as KVM's entry code does).
 */
uint64_t *hw_cpu_gprs(struct hw_cpu *cpu);

/* What the host executes outside VMX/SVM guest operation. */
void hw_cpuid(struct hw_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
int hw_rdmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t *val);	/* 0 or -EINVAL (#GP) */
int hw_wrmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t val);	/* 0 or -EINVAL (#GP) */
/* CR0, CR3, CR4 are the host's; CR2 is shared with the guest (VMX and
 * SVM leave it alone), so a hypervisor saves and restores it. */
uint64_t hw_read_cr(struct hw_cpu *cpu, unsigned cr);
int hw_write_cr(struct hw_cpu *cpu, unsigned cr, uint64_t val);	/* 0 or -EINVAL (#GP) */
/* DR0-3 and DR6, which like CR2 are not switched by VM entry (SVM loads
 * DR6 from the VMCB). 0 or -EINVAL (#GP). */
uint64_t hw_read_dr(struct hw_cpu *cpu, unsigned dr);
int hw_write_dr(struct hw_cpu *cpu, unsigned dr, uint64_t val);

/*
 * Interrupt pins. The INTR line is level-triggered: while asserted, an
 * external interrupt with @vector is pending (the vector is what an
 * interrupt controller would hand over on acknowledge). NMI is an edge.
 */
void hw_cpu_set_intr(struct hw_cpu *cpu, bool asserted, uint8_t vector);
void hw_cpu_nmi(struct hw_cpu *cpu);

/*
 * The INIT signal (SDM Vol. 3A 9.1; Vol. 3C 25.2, 26.2; APM Vol. 2
 * 15.13.4). In VMX non-root operation it causes a VM exit (reason 3);
 * in an SVM guest with the INIT intercept a #VMEXIT (0x63). In VMX root
 * operation it is blocked, as the SDM says, and stays pending for the
 * next guest. The model runs no host code, so an INIT that would reset
 * the host itself (an SVM guest without the intercept) ends the entry as
 * unsupported.
 */
void hw_cpu_init(struct hw_cpu *cpu);

/*
 * A host timer: when the processor has retired @insns guest instructions
 * in total (hw_counters.insns), the INTR line is asserted with
 * HW_DEADLINE_VECTOR, which a hypervisor that intercepts external
 * interrupts sees as an exit (VMX reason 1, SVM VMEXIT_INTR). It is the
 * host's own interrupt: whatever exit follows, the host has taken it by
 * the next entry. A halted guest lets virtual time jump to the deadline.
 * UINT64_MAX: none.
 */
#define HW_DEADLINE_VECTOR 0xec
void hw_cpu_set_deadline(struct hw_cpu *cpu, uint64_t insns);

/*
 * A kick: the host IPI that gets a processor out of its guest. Any
 * thread, any time. If the processor is executing guest code it takes
 * the host timer's interrupt (as an expired deadline does: VMX exit
 * reason 1 with HW_DEADLINE_VECTOR, SVM VMEXIT_INTR, when the hypervisor
 * intercepts external interrupts) at an instruction boundary within
 * HW_RUN_SLICE guest instructions (hw/run.c); if it is not, the kick
 * stays pending and the next VMLAUNCH/VMRESUME/VMRUN takes it before
 * the guest's first instruction, as a host IPI that arrived with
 * interrupts off before entry. Kicks before it is taken are one: one
 * kick gives at most one such exit. Whatever the kicker wrote before the
 * kick is visible to the processor's thread once the exit returns.
 */
void hw_cpu_kick(struct hw_cpu *cpu);

/*
 * Why the last VMLAUNCH/VMRESUME/VMRUN returned *_MODEL_UNSUPPORTED: one
 * line naming the guest operation the model does not implement (a task
 * switch, say), or NULL.
 */
const char *hw_cpu_unsupported(const struct hw_cpu *cpu);

/* The processor's counters (hw/cost.h); valid between entries. */
const struct hw_counters *hw_cpu_counters(struct hw_cpu *cpu);
/* Change the machine's prices (run-time overrides of the Kconfig
 * defaults); modeled cycles are recomputed from the counters, so the
 * new prices apply to everything counted so far. */
void hw_machine_set_prices(struct hw_machine *m, const struct hw_prices *prices);

/* Modeled cycles so far: the counters priced with the machine's prices. */
uint64_t hw_cpu_cycles(const struct hw_cpu *cpu);

#endif
