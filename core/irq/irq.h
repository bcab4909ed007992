/*
 * irq.h — the interrupt controllers hvlab models next to the vcpu, as
 * KVM's in-kernel irqchip does (ARCHITECTURE §5): a local APIC per vcpu
 * (lapic.c: xAPIC MMIO at its APIC base, x2APIC MSRs, the timer in
 * one-shot, periodic and TSC-deadline modes, TPR/PPR, EOI), the I/O APIC
 * (ioapic.c, MMIO at 0xfec00000, 24 pins) and the two 8259s (pic.c,
 * ports 0x20-0x21, 0xa0-0xa1, ELCR 0x4d0-0x4d1), wired as on a PC:
 * ISA IRQ n drives PIC input n and I/O APIC pin n, except IRQ 0, which
 * drives I/O APIC pin 2 (QEMU's pc machine, the MP table's override).
 * The PIC's output reaches the BSP's LINT0 (ExtINT when LVT LINT0 says
 * so, or with the APIC globally or software disabled, as after RESET).
 *
 * Time is the VM's virtual clock (vcpu_clock_ns, vcpu_guest_tsc): the
 * controllers never read the host's.
 *
 * The run loop (core/run.c) uses them in this order before each entry:
 *   irq_update(vcpu)                  fire timers that are due
 *   v = irq_pending(vcpu)             highest deliverable vector, or -1
 *   if the guest can take it: irq_ack(vcpu, v), inject v
 *   else: ask for an interrupt-window exit
 *   irq_next_deadline_ns(vcpu)        when to stop the guest next
 */
#ifndef HVLAB_CORE_IRQ_H
#define HVLAB_CORE_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlab/types.h"

struct hv_vm;
struct hv_vcpu;

#define APIC_DEFAULT_BASE 0xfee00000ull
#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_SIZE 0x1000ull
#define IRQ_NR_ISA 16
#define IOAPIC_NR_PINS 24

/* VM: the I/O APIC and the PICs. 0 or -ENOMEM. */
int irq_vm_init(struct hv_vm *vm);
void irq_vm_destroy(struct hv_vm *vm);
/* vcpu: its local APIC, in the RESET state (SDM Vol. 3A 11.4.7.1). */
int irq_vcpu_init(struct hv_vcpu *vcpu);
void irq_vcpu_destroy(struct hv_vcpu *vcpu);

/* A device line: ISA IRQ 0-15 or I/O APIC pin 16-23, level as wired
 * (edge-triggered inputs fire on the rising edge). -EINVAL for others. */
int irq_set_line(struct hv_vm *vm, unsigned irq, bool level);

/* MMIO that the controllers decode (the vcpu's APIC page, the I/O APIC).
 * true when @gpa is theirs and the access was done; @len 1, 2, 4 or 8. */
bool irq_mmio_read(struct hv_vcpu *vcpu, gpa_t gpa, void *val, unsigned len);
bool irq_mmio_write(struct hv_vcpu *vcpu, gpa_t gpa, const void *val, unsigned len);

/* Ports the PICs decode; true when @port is theirs. */
bool irq_pio_in(struct hv_vcpu *vcpu, uint16_t port, void *val, unsigned len);
bool irq_pio_out(struct hv_vcpu *vcpu, uint16_t port, const void *val, unsigned len);

/*
 * MSRs of the local APIC: IA32_APIC_BASE (0x1b), IA32_TSC_DEADLINE
 * (0x6e0) and the x2APIC range 0x800-0x8ff. Returns 1 when @msr is not
 * theirs, 0 when done, -EINVAL when the access must raise #GP (x2APIC
 * MSR with x2APIC off, a reserved register, a bad APIC_BASE value).
 */
int irq_rdmsr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t *val);
int irq_wrmsr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t val);

/* Fire the timers that are due at the vcpu's current virtual time. */
void irq_update(struct hv_vcpu *vcpu);
/* The vector the vcpu should take next (APIC IRR above PPR, or the
 * PIC's through LINT0 ExtINT), or -1. */
int irq_pending(struct hv_vcpu *vcpu);
/* The vcpu took @vector from irq_pending (IRR -> ISR, PIC INTA). */
void irq_ack(struct hv_vcpu *vcpu, int vector);
/* An NMI for the vcpu (LVT or IPI with NMI delivery) since last asked. */
bool irq_take_nmi(struct hv_vcpu *vcpu);
/* The virtual time of the next timer expiry, or UINT64_MAX. */
uint64_t irq_next_deadline_ns(struct hv_vcpu *vcpu);
/* The vcpu's thread: an INIT its APIC latched (*init; the APIC is reset
 * as INIT resets it) and a STARTUP for it (returns true, *vector). */
bool irq_take_init_sipi(struct hv_vcpu *vcpu, bool *init, uint8_t *vector);
/* CR8 is the TPR's upper nibble (SDM Vol. 3A 11.8.6). */
uint64_t irq_get_cr8(struct hv_vcpu *vcpu);
void irq_set_cr8(struct hv_vcpu *vcpu, uint64_t val);

#endif
