/*
 * irqchip.h — core/irq's own view of its three controllers: the state of
 * a local APIC (lapic.c, lapic_regs.c, lapic_timer.c), the I/O APIC
 * (ioapic.c) and the pair of 8259As (pic.c), and the calls between them.
 * irq.h is the contract with the rest of core/; nothing outside core/irq
 * includes this file.
 *
 * Wiring (a PC as the MP specification 1.4 §5 default configurations and
 * QEMU's pc machine have it):
 *
 *   device IRQ n (0-15) --> PIC input n (IRQ 2 is the slave's cascade)
 *                       \-> I/O APIC pin n (IRQ 0: pin 2)
 *   device line 16-23   --> I/O APIC pin 16-23
 *   master PIC INTR     --> BSP LINT0, and I/O APIC pin 0
 *   I/O APIC messages   --> every local APIC whose ID/LDR matches
 *   local APIC EOI of a level-triggered vector --> I/O APIC (remote IRR)
 *
 * Lifetime: struct irq_vm lives from irq_vm_init to irq_vm_destroy,
 * struct lapic from irq_vcpu_init to irq_vcpu_destroy. Locking: one
 * lock per VM, irq->lock, held by every entry point of irq.h (irq.c), so
 * the controllers' state — every local APIC's included, which IPIs and
 * the I/O APIC write from other vcpus' threads — changes under it. A
 * local APIC's timer is only ever run by its own vcpu's thread (it reads
 * that vcpu's clock). Under the lock an accepted message makes a request
 * and a kick (core/request.h), which take the scheduler's lock: never
 * the other way round.
 */
#ifndef HVLAB_CORE_IRQ_IRQCHIP_H
#define HVLAB_CORE_IRQ_IRQCHIP_H

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/irq/irq.h"

struct hv_vm;
struct hv_vcpu;
struct irq_vm;

/* ------------------------------------------------------------ local APIC */

/* xAPIC register offsets in the APIC page (SDM Vol. 3A Table 11-1); the
 * x2APIC MSR of each is 0x800 + offset / 16 (Table 11-6). */
enum {
	APIC_REG_ID = 0x020,
	APIC_REG_VERSION = 0x030,
	APIC_REG_TPR = 0x080,
	APIC_REG_APR = 0x090,
	APIC_REG_PPR = 0x0a0,
	APIC_REG_EOI = 0x0b0,
	APIC_REG_RRD = 0x0c0,
	APIC_REG_LDR = 0x0d0,
	APIC_REG_DFR = 0x0e0,
	APIC_REG_SVR = 0x0f0,
	APIC_REG_ISR = 0x100,		/* 8 registers, 0x100-0x170 */
	APIC_REG_TMR = 0x180,		/* 0x180-0x1f0 */
	APIC_REG_IRR = 0x200,		/* 0x200-0x270 */
	APIC_REG_ESR = 0x280,
	APIC_REG_ICR = 0x300,
	APIC_REG_ICR2 = 0x310,
	APIC_REG_LVT_TIMER = 0x320,	/* the six LVT entries, 0x320-0x370 */
	APIC_REG_LVT_ERROR = 0x370,
	APIC_REG_TIMER_INIT = 0x380,
	APIC_REG_TIMER_CUR = 0x390,
	APIC_REG_TIMER_DIV = 0x3e0,
	APIC_REG_SELF_IPI = 0x3f0,	/* x2APIC only */
};

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff

/* IA32_APIC_BASE (SDM Vol. 3A Figure 11-5, 11.12.1) */
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)

/* The LVT, in register order (Figure 11-8); LVT CMCI is absent: the
 * version register says max LVT entry 5, i.e. six entries. */
enum lapic_lvt {
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PERF,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR,
	LAPIC_NR_LVT
};

/* SDM Vol. 3A Figure 11-7: version 0x14 (an integrated APIC), max LVT
 * entry 5 in bits 23:16, no EOI-broadcast suppression (bit 24); QEMU's. */
#define LAPIC_VERSION 0x00050014u
static_assert(LAPIC_NR_LVT == ((LAPIC_VERSION >> 16) & 0xff) + 1,
	      "the version register's max LVT entry counts the LVT");

#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_LEVEL (1u << 15)
#define APIC_LVT_REMOTE_IRR (1u << 14)
#define APIC_LVT_TIMER_MODE(v) (((v) >> 17) & 3)
enum { APIC_TIMER_ONESHOT, APIC_TIMER_PERIODIC, APIC_TIMER_TSC_DEADLINE };

/* Delivery modes (ICR, LVT, I/O APIC redirection entries: Figure 11-12,
 * 82093AA Table 2 — the same encoding everywhere). */
enum {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_STARTUP = 6,
	APIC_DM_EXTINT = 7,
};

/* ESR bits (Figure 11-9) the model can raise. */
#define APIC_ESR_SEND_ILLEGAL (1u << 5)
#define APIC_ESR_RECV_ILLEGAL (1u << 6)
#define APIC_ESR_ILLEGAL_REG (1u << 7)

struct lapic {
	struct hv_vcpu *vcpu;		/* (c) */
	uint32_t initial_id;		/* (c) the x2APIC ID, vcpu->id */
	uint64_t base_msr;		/* IA32_APIC_BASE */
	uint32_t xapic_id;		/* the xAPIC ID register (ID in 31:24) */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr;			/* what reads see: latched by a write */
	uint32_t esr_pending;		/* errors since the last ESR write */
	uint32_t icr_lo, icr_hi;	/* icr_hi: xAPIC 31:24, x2APIC 32 bits */
	uint32_t lvt[LAPIC_NR_LVT];
	uint32_t irr[8], isr[8], tmr[8];	/* bit v%32 of word v/32 */
	/* Timer (lapic_timer.c). */
	uint32_t timer_init;		/* initial-count register */
	uint32_t timer_div;		/* divide-configuration register */
	uint64_t timer_start_ns;	/* when timer_count was loaded */
	uint32_t timer_count;		/* the count at timer_start_ns */
	bool timer_armed;		/* one-shot/periodic counting, not fired */
	uint64_t tsc_deadline;		/* IA32_TSC_DEADLINE, 0 = disarmed */
	/* Events outside IRR. */
	bool nmi_pending;		/* NMI delivery (LVT, IPI, I/O APIC) */
	bool extint_pending;		/* ExtINT message: INTA to the PIC */
	bool inta_pic;			/* irq_pending's answer came from the PIC */
	bool lint[2];			/* the LINT0/LINT1 input levels */
	bool init_pending;		/* an INIT message, not yet acted on */
	bool sipi_pending;		/* a STARTUP for a processor waiting */
	uint8_t sipi_vector;
};

/* An interrupt message on the APIC bus (or the x2APIC's system bus): an
 * IPI, an I/O APIC redirection. */
enum { APIC_SH_NONE, APIC_SH_SELF, APIC_SH_ALL, APIC_SH_OTHERS };
struct lapic_msg {
	const struct lapic *src;	/* the sender, for shorthands; NULL */
	uint32_t dest;			/* 8 bits, or 32 when wide */
	unsigned vector, mode, shorthand;
	bool logical, wide, level;	/* level: a level-triggered fixed one */
};

/* lapic.c: state, priority, acceptance, EOI. */
void lapic_reset(struct lapic *apic);
static inline bool lapic_hw_enabled(const struct lapic *apic)
{
	return apic->base_msr & APIC_BASE_EN;
}
static inline bool lapic_x2apic(const struct lapic *apic)
{
	return (apic->base_msr & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
	       (APIC_BASE_EN | APIC_BASE_EXTD);
}
static inline bool lapic_sw_enabled(const struct lapic *apic)
{
	return apic->svr & (1u << 8);
}
/* 8-bit APIC ID as xAPIC destinations compare it. */
uint32_t lapic_id(const struct lapic *apic);
uint32_t lapic_ppr(const struct lapic *apic);
/* Highest IRR vector above PPR's class, or -1. */
int lapic_pending_vector(const struct lapic *apic);
void lapic_ack_vector(struct lapic *apic, int vector);
/* An interrupt message arrives (IPI, LVT, I/O APIC): 0, or -EINVAL for
 * an illegal vector (ESR records it). */
int lapic_accept(struct lapic *apic, unsigned mode, unsigned vector, bool level);
/* Deliver LVT entry @lvt as the local source it belongs to. */
void lapic_deliver_lvt(struct lapic *apic, enum lapic_lvt lvt);
void lapic_set_lint(struct lapic *apic, unsigned pin, bool level);
/* Does this APIC take the PIC's INTR output through LINT0 as ExtINT? */
bool lapic_accepts_pic(const struct lapic *apic);
void lapic_error(struct lapic *apic, uint32_t esr_bits);
void lapic_eoi(struct lapic *apic);
/* Deliver @m to every local APIC it addresses (lowest priority: to one
 * of them); returns how many took it. */
unsigned lapic_deliver(struct hv_vm *vm, const struct lapic_msg *m);
/* The vcpu's thread: take a latched INIT (the APIC is then reset as
 * 11.4.7.3 says, *init = true) and a STARTUP (returns true with its
 * vector). */
bool lapic_take_init_sipi(struct lapic *apic, bool *init, uint8_t *sipi_vector);
/* Destination match (11.6.2): @wide = a 32-bit x2APIC destination. */
bool lapic_match_dest(const struct lapic *apic, uint32_t dest, bool logical, bool wide);
/* The ICR was written: send the IPI it holds. */
void lapic_send_ipi(struct lapic *apic);
int lapic_set_base(struct lapic *apic, uint64_t val);

/* lapic_regs.c: the xAPIC page and the x2APIC MSRs. */
bool lapic_mmio_read(struct lapic *apic, uint32_t off, void *val, unsigned len);
bool lapic_mmio_write(struct lapic *apic, uint32_t off, const void *val, unsigned len);
int lapic_x2apic_rdmsr(struct lapic *apic, uint32_t msr, uint64_t *val);
int lapic_x2apic_wrmsr(struct lapic *apic, uint32_t msr, uint64_t val);

/* lapic_timer.c */
void lapic_timer_reset(struct lapic *apic);
/* Fire what is due at the vcpu's virtual time. */
void lapic_timer_update(struct lapic *apic);
uint64_t lapic_timer_next_ns(struct lapic *apic);
uint32_t lapic_timer_current(struct lapic *apic);
void lapic_timer_write_init(struct lapic *apic, uint32_t val);
void lapic_timer_write_div(struct lapic *apic, uint32_t val);
void lapic_timer_write_lvt(struct lapic *apic, uint32_t val);
uint64_t lapic_tsc_deadline_read(struct lapic *apic);
void lapic_tsc_deadline_write(struct lapic *apic, uint64_t val);

/* ------------------------------------------------------------ I/O APIC */

struct ioapic {
	uint32_t ioregsel;
	uint32_t id;			/* ID register, bits 27:24 */
	uint64_t redir[IOAPIC_NR_PINS];
	uint32_t level;			/* pin input levels, bit per pin */
};

#define IOAPIC_RTE_MASKED (1ull << 16)
#define IOAPIC_RTE_LEVEL (1ull << 15)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)

void ioapic_reset(struct ioapic *io);
void ioapic_set_pin(struct irq_vm *irq, unsigned pin, bool level);
/* A local APIC EOI of a level-triggered @vector (EOI broadcast). */
void ioapic_eoi(struct irq_vm *irq, unsigned vector);
void ioapic_mmio_read(struct irq_vm *irq, uint32_t off, void *val, unsigned len);
void ioapic_mmio_write(struct irq_vm *irq, uint32_t off, const void *val, unsigned len);

/* ------------------------------------------------------------ 8259A PIC */

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t line;			/* input levels */
	uint8_t elcr;			/* level-triggered inputs (ELCR) */
	uint8_t elcr_mask;		/* which ELCR bits exist */
	uint8_t vector_base;		/* ICW2 bits 7:3 */
	uint8_t icw3;
	uint8_t lowest;			/* the lowest-priority input (rotation) */
	uint8_t init_step;		/* 0: ready; 2-4: the ICW expected next */
	bool icw4_needed, single;
	bool ltim;			/* ICW1 level-triggered mode */
	bool aeoi, sfnm;		/* ICW4 */
	bool rotate_aeoi;
	bool read_isr;			/* OCW3 RR/RIS */
	bool poll;			/* OCW3 P: the next read is a poll */
	bool special_mask;		/* OCW3 SMM */
};

struct pic {
	struct pic_chip chip[2];	/* master, slave */
};

void pic_reset(struct pic *pic);
void pic_set_irq(struct pic *pic, unsigned irq, bool level);
/* The master's INT output. */
bool pic_output(const struct pic *pic);
/* The vector INTA would return now, without acknowledging. */
int pic_peek_vector(const struct pic *pic);
/* The INTA cycles: the vector, IRR -> ISR (spurious IRQ 7/15 when
 * nothing is requested). */
int pic_intack(struct pic *pic);
bool pic_port_in(struct pic *pic, uint16_t port, uint8_t *val);
bool pic_port_out(struct pic *pic, uint16_t port, uint8_t val);

/* ------------------------------------------------------------ the VM's */

struct irq_vm {
	struct hv_vm *vm;		/* (c) */
	pthread_mutex_t lock;		/* irq->lock: everything here, and every
					 * struct lapic of the VM */
	struct pic pic;
	struct ioapic ioapic;
	bool pic_out;			/* last master INTR level propagated */
};

/* irq.c: the master PIC's output may have changed: pass it on. */
void irq_pic_changed(struct irq_vm *irq);

#endif
