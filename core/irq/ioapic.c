/*
 * ioapic.c — the I/O APIC, after the Intel 82093AA datasheet (order no.
 * 290566): 24 input pins, each with a 64-bit redirection entry that
 * turns an input into an interrupt message to the local APICs.
 *
 * Registers are reached indirectly (datasheet 3.0): IOREGSEL at base+0
 * selects one (bits 7:0), IOWIN at base+0x10 reads or writes it as a
 * dword. 0x00 ID (bits 27:24), 0x01 version (RO: max redirection entry
 * 23 in 23:16, version 0x20: the I/O APIC of QEMU's pc machine, and of
 * ICH-era chipsets, which adds the EOI register at base+0x40 (ICH9
 * datasheet 13.5.6): a write of a vector there clears remote IRR of the
 * level-triggered entries with that vector, as a local APIC's EOI
 * message does), 0x02 arbitration ID (RO; the ID here: the
 * bus arbitration it reflects is not modelled), 0x10 + 2n / 0x11 + 2n the
 * low / high dword of entry n. An entry (datasheet 3.2.4):
 *   7:0 vector  10:8 delivery mode  11 destination mode (1 logical)
 *   12 delivery status (RO)  13 polarity  14 remote IRR (RO)
 *   15 trigger mode (1 level)  16 mask  63:56 destination
 * All entries come out of reset masked; the ID is 0.
 *
 * Edge-triggered pins send a message on the input's rising edge; one
 * that arrives while masked is lost. Level-triggered pins send one
 * while the input is asserted, set remote IRR when a local APIC accepts
 * it and send nothing more until the local APIC's EOI of that vector
 * clears remote IRR — then, if the input is still asserted, again.
 *
 * Inputs are the asserted level: the polarity bit is kept for software
 * to read back, and the board's wiring is taken to present every input
 * active-high (as QEMU's pc machine does). Delivery status always reads
 * idle: a message is delivered the moment it is sent.
 */
#include <string.h>

#include "core/irq/irqchip.h"
#include "core/vm.h"

#define IOAPIC_VERSION 0x00170020u
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDIR 0x10
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_EOI 0x40

static_assert(((IOAPIC_VERSION >> 16) & 0xff) + 1 == IOAPIC_NR_PINS,
	      "the version register's max redirection entry counts the pins");

/* Software-writable bits of an entry: all but delivery status and
 * remote IRR, and of the high dword only the destination. */
#define RTE_WRITABLE 0xff0000000001afffull

void ioapic_reset(struct ioapic *io)
{
	memset(io, 0, sizeof(*io));
	for (unsigned i = 0; i < IOAPIC_NR_PINS; i++)
		io->redir[i] = IOAPIC_RTE_MASKED;
}

/* Send pin @pin's message (82093AA 3.2.4: physical or logical
 * destination, 8 bits); true when a local APIC took it. */
static bool ioapic_send(struct irq_vm *irq, unsigned pin)
{
	const uint64_t rte = irq->ioapic.redir[pin];
	const struct lapic_msg m = {
		.dest = (uint32_t)(rte >> 56), .vector = rte & 0xff, .mode = (rte >> 8) & 7,
		.logical = rte & (1u << 11), .level = rte & IOAPIC_RTE_LEVEL,
	};
	return lapic_deliver(irq->vm, &m) > 0;
}

/* A level-triggered fixed or lowest-priority entry waits for the EOI. */
static bool uses_remote_irr(uint64_t rte)
{
	unsigned mode = (rte >> 8) & 7;

	return (rte & IOAPIC_RTE_LEVEL) && (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST);
}

/* Level-triggered pin @pin: send if asserted, unmasked and not waiting. */
static void ioapic_service_level(struct irq_vm *irq, unsigned pin)
{
	struct ioapic *io = &irq->ioapic;
	uint64_t *rte = &io->redir[pin];

	if (!(io->level >> pin & 1) || (*rte & IOAPIC_RTE_MASKED) ||
	    (*rte & IOAPIC_RTE_REMOTE_IRR))
		return;
	if (ioapic_send(irq, pin) && uses_remote_irr(*rte))
		*rte |= IOAPIC_RTE_REMOTE_IRR;
}

void ioapic_set_pin(struct irq_vm *irq, unsigned pin, bool level)
{
	struct ioapic *io = &irq->ioapic;
	bool was = io->level >> pin & 1;
	uint64_t rte = io->redir[pin];

	if (level)
		io->level |= 1u << pin;
	else
		io->level &= ~(1u << pin);
	if (rte & IOAPIC_RTE_LEVEL)
		ioapic_service_level(irq, pin);
	else if (level && !was && !(rte & IOAPIC_RTE_MASKED))
		ioapic_send(irq, pin);
}

void ioapic_eoi(struct irq_vm *irq, unsigned vector)
{
	struct ioapic *io = &irq->ioapic;

	for (unsigned pin = 0; pin < IOAPIC_NR_PINS; pin++) {
		uint64_t *rte = &io->redir[pin];
		if ((*rte & 0xff) != vector || !(*rte & IOAPIC_RTE_REMOTE_IRR))
			continue;
		*rte &= ~IOAPIC_RTE_REMOTE_IRR;
		ioapic_service_level(irq, pin);
	}
}

static uint32_t ioapic_read_reg(struct ioapic *io, uint32_t reg)
{
	switch (reg) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return io->id;
	case IOAPIC_REG_VERSION:
		return IOAPIC_VERSION;
	}
	if (reg >= IOAPIC_REG_REDIR && reg < IOAPIC_REG_REDIR + 2 * IOAPIC_NR_PINS) {
		uint64_t rte = io->redir[(reg - IOAPIC_REG_REDIR) / 2];
		return reg & 1 ? (uint32_t)(rte >> 32) : (uint32_t)rte;
	}
	return 0;
}

static void ioapic_write_reg(struct irq_vm *irq, uint32_t reg, uint32_t val)
{
	struct ioapic *io = &irq->ioapic;

	if (reg == IOAPIC_REG_ID) {
		io->id = val & 0x0f000000u;
		return;
	}
	if (reg < IOAPIC_REG_REDIR || reg >= IOAPIC_REG_REDIR + 2 * IOAPIC_NR_PINS)
		return;		/* version, arbitration ID: read-only */
	unsigned pin = (reg - IOAPIC_REG_REDIR) / 2;
	uint64_t *rte = &io->redir[pin];
	uint64_t v = reg & 1 ? (uint64_t)val << 32 | (uint32_t)*rte
			     : (*rte & 0xffffffff00000000ull) | val;
	*rte = (v & RTE_WRITABLE) | (*rte & IOAPIC_RTE_REMOTE_IRR);
	/* remote IRR means nothing for an edge-triggered entry */
	if (!(*rte & IOAPIC_RTE_LEVEL))
		*rte &= ~IOAPIC_RTE_REMOTE_IRR;
	else
		ioapic_service_level(irq, pin);	/* unmasked on an asserted input */
}

void ioapic_mmio_read(struct irq_vm *irq, uint32_t off, void *val, unsigned len)
{
	struct ioapic *io = &irq->ioapic;
	uint32_t v = 0;

	memset(val, 0, len);
	if (off == IOAPIC_IOREGSEL)
		v = io->ioregsel;
	else if (off == IOAPIC_IOWIN)
		v = ioapic_read_reg(io, io->ioregsel);
	else
		return;
	memcpy(val, &v, len < sizeof(v) ? len : sizeof(v));
}

/* IOREGSEL takes its low byte from any write; IOWIN only dword writes. */
void ioapic_mmio_write(struct irq_vm *irq, uint32_t off, const void *val, unsigned len)
{
	uint32_t v = 0;

	memcpy(&v, val, len < sizeof(v) ? len : sizeof(v));
	if (off == IOAPIC_IOREGSEL)
		irq->ioapic.ioregsel = v & 0xff;
	else if (off == IOAPIC_IOWIN && len == 4)
		ioapic_write_reg(irq, irq->ioapic.ioregsel, v);
	else if (off == IOAPIC_EOI && len == 4)
		ioapic_eoi(irq, v & 0xff);
}
