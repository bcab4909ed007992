/*
 * ioapic.c — the I/O APIC: indirect register access and redirection entries.
 *
 * Intel 82093AA I/O APIC datasheet (order no. 290566), 3.0-3.2: two
 * memory-mapped registers, IOREGSEL at base + 0x00 (bits 7:0 select a
 * register) and IOWIN at base + 0x10 (the selected register, read and
 * written as a whole dword). Registers: 00h IOAPICID (ID in 27:24), 01h
 * IOAPICVER (version 7:0, maximum redirection entry 23:16), 02h IOAPICARB
 * (arbitration ID 27:24), 10h-3Fh the redirection table, two dwords per
 * pin (low at 10h + 2n: vector 7:0, delivery mode 10:8, destination mode
 * 11, delivery status 12, polarity 13, remote IRR 14, trigger mode 15,
 * mask 16; high: destination 63:56). The base comes from the MADT (ACPI
 * 5.2.12.3); the default on a PC is 0xFEC00000. I/O APICs of version
 * 0x20 (Intel ICH datasheets, "EOI register") add a write-only register
 * at base + 0x40: writing a vector clears remote IRR of the
 * level-triggered entries that hold it, as the local APIC's EOI broadcast
 * does. Like the local APIC page (SDM Vol. 3A 11.4.1) the register page
 * must be mapped uncacheable, so ioapic_init() sets PCD|PWT in the 2 MiB
 * identity-map PDE over it.
 */
#include "guests/guest.h"

#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOEOI		0x40
#define PDE_PWT		(1ull << 3)
#define PDE_PCD		(1ull << 4)

static volatile uint32_t *regs;

void ioapic_init(uint32_t base)
{
	uint64_t *pde = &guest_pd[base >> 30][(base >> 21) & 511];

	*pde |= PDE_PCD | PDE_PWT;
	invlpg((const void *)(uintptr_t)base);
	regs = (volatile uint32_t *)(uintptr_t)base;
}

uint32_t ioapic_read(uint32_t reg)
{
	regs[IOREGSEL / 4] = reg;
	return regs[IOWIN / 4];
}

void ioapic_write(uint32_t reg, uint32_t v)
{
	regs[IOREGSEL / 4] = reg;
	regs[IOWIN / 4] = v;
}

uint64_t ioapic_redir_read(unsigned pin)
{
	uint32_t lo = ioapic_read(IOAPIC_REDTBL(pin));

	return (uint64_t)ioapic_read(IOAPIC_REDTBL(pin) + 1) << 32 | lo;
}

/* The high dword (destination) first, so the pin never fires with the
 * new vector and an old destination while it is unmasked. */
void ioapic_redir_write(unsigned pin, uint64_t entry)
{
	ioapic_write(IOAPIC_REDTBL(pin) + 1, (uint32_t)(entry >> 32));
	ioapic_write(IOAPIC_REDTBL(pin), (uint32_t)entry);
}

void ioapic_eoi(uint8_t vector)
{
	regs[IOEOI / 4] = vector;
}
