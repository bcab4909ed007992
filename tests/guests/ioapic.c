/*
 * ioapic.c — interrupts through the I/O APIC to the local APIC: the PIT on
 * an edge-triggered pin, the UART on a level-triggered one.
 *
 * - ACPI 6.5 5.2.12: the MADT names the I/O APIC (address 0xFEC00000 on
 *   the pc machine) and overrides ISA IRQ0 to GSI 2 (the 8254 sits on pin
 *   2 of the I/O APIC, the 8259's cascade pin never carries it), flags 0
 *   = conforming to the ISA bus: edge, active high (Table 5.26).
 * - 82093AA datasheet 3.2: IOAPICID bits 27:24; IOAPICVER = maximum
 *   redirection entry (23: 24 pins) in 23:16 and the version in 7:0 —
 *   QEMU's pc machine models the ICH-era I/O APIC, version 0x20, not the
 *   82093AA's 0x11: 0x00170020; IOAPICARB bits 27:24. After reset every
 *   redirection entry is masked (bit 16). Entry: vector 7:0, fixed
 *   delivery (000), physical destination mode (bit 11 = 0) with the local
 *   APIC ID in 63:56; bit 15 trigger mode (1 = level), bit 14 remote IRR,
 *   bit 12 delivery status (read-only).
 * - 3.2.4, "Remote IRR": for a level-triggered pin it is set when the
 *   local APIC accepts the interrupt and cleared when the local APIC's EOI
 *   for that vector reaches the I/O APIC; a line still asserted after the
 *   EOI is delivered again. SDM Vol. 3A 11.8.4: the TMR bit of a vector
 *   accepted as level-triggered is set (TMR at 180H-1F0H); 11.8.5: the EOI
 *   of such a vector is broadcast to the I/O APICs.
 * - Intel ICH I/O APICs (version 0x20) have an EOI register at base +
 *   0x40: writing a vector there clears remote IRR of the level-triggered
 *   entries with that vector (QEMU models it for version 0x20).
 * - The interrupt lines: the 8254's OUT0 (8254 datasheet, mode 2 pulses
 *   once per period: one edge per tick), and the 16550's INTR, high while
 *   an enabled interrupt is pending: "transmitter holding register empty"
 *   (IER bit 1) with the THR empty is pending at once, and reading the
 *   IIR that reports it clears it (16550D datasheet, Table 4).
 * The 8259s are remapped and fully masked first (pic_init), so the PIT
 * reaches the CPU only through the I/O APIC.
 *
 * Expected serial output: tests/guests/ioapic.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define PIT_VECTOR	0x31
#define UART_VECTOR	0x32
#define TICKS		10
#define LEVEL_REPEATS	3

#define RTE_LEVEL	(1ull << 15)
#define RTE_REMOTE_IRR	(1ull << 14)
#define RTE_BUSY	(1ull << 12)
#define RTE_MASKED	(1ull << 16)

#define COM1		0x3f8
#define UART_IER	1
#define UART_IIR	2
#define IER_THRE	0x02
#define IIR_THRE	0x02

#define LAPIC_REG_TMR0	0x180

static volatile uint64_t pit_count, uart_count;
static volatile bool uart_irr_seen, uart_tmr_seen, uart_clear_source;
static volatile bool uart_use_eoi_reg, uart_irr_after_eoi_reg = true;
static unsigned pit_pin, uart_pin = 4;
static uint64_t dest;

static void pit_irq(struct guest_frame *f)
{
	(void)f;
	if (++pit_count >= TICKS)
		ioapic_redir_write(pit_pin, ioapic_redir_read(pit_pin) | RTE_MASKED);
	lapic_eoi();
}

/* Runs with the UART's line still high; clears the source only when told,
 * so the EOI either finds the line low or re-triggers the pin. */
static void uart_irq(struct guest_frame *f)
{
	(void)f;
	uart_count++;
	if (ioapic_redir_read(uart_pin) & RTE_REMOTE_IRR)
		uart_irr_seen = true;
	if (lapic_read(LAPIC_REG_TMR0 + 0x10 * (UART_VECTOR / 32)) & (1u << (UART_VECTOR % 32)))
		uart_tmr_seen = true;
	if (uart_clear_source || uart_count >= LEVEL_REPEATS) {
		(void)inb(COM1 + UART_IIR);
		outb(COM1 + UART_IER, 0);
	}
	if (uart_use_eoi_reg) {
		ioapic_eoi(UART_VECTOR);
		uart_irr_after_eoi_reg = ioapic_redir_read(uart_pin) & RTE_REMOTE_IRR;
	}
	lapic_eoi();
}

static void test_registers(void)
{
	uint16_t flags;
	uint32_t base = acpi_ioapic_address();

	guest_printf("MADT I/O APIC at 0x%x\n", base);
	pit_pin = acpi_isa_irq_gsi(0, &flags);
	guest_printf("MADT: ISA IRQ0 -> GSI %u, flags 0x%x\n", pit_pin, flags);
	ioapic_init(base ? base : IOAPIC_DEFAULT_BASE);
	guest_printf("IOAPICID ID %u\n", ioapic_read(IOAPIC_REG_ID) >> 24 & 0xf);
	guest_printf("IOAPICVER 0x%08x\n", ioapic_read(IOAPIC_REG_VER));
	guest_printf("IOAPICARB ID %u\n", ioapic_read(IOAPIC_REG_ARB) >> 24 & 0xf);
	unsigned pins = (ioapic_read(IOAPIC_REG_VER) >> 16 & 0xff) + 1;
	bool masked = true;
	for (unsigned i = 0; i < pins && i < 240; i++)
		masked = masked && (ioapic_redir_read(i) & RTE_MASKED);
	guest_check("every redirection entry masked", masked);
	/* destination 0x5a, level, active low, logical, lowest priority,
	 * vector 0x34; the writable bits read back (delivery status and
	 * remote IRR are read-only, 0 on an idle masked pin) */
	uint64_t e = 0x5a00000000000000ull | RTE_MASKED | RTE_LEVEL | 1u << 13 | 1u << 11 |
		     1u << 8 | 0x34;
	ioapic_redir_write(23, e);
	guest_check("entry 23 reads back", (ioapic_redir_read(23) & 0xff0000000001ffffull) == e);
	ioapic_redir_write(23, RTE_MASKED);
}

static void test_edge(void)
{
	ioapic_redir_write(pit_pin, dest | PIT_VECTOR);
	guest_check("PIT pin: edge, idle",
	            !(ioapic_redir_read(pit_pin) & (RTE_LEVEL | RTE_REMOTE_IRR | RTE_BUSY)));
	idt_set_irq(PIT_VECTOR, pit_irq);
	/* channel 0, mode 2 at 1 kHz: programmed by hand, pit_start() would
	 * unmask the 8259's IRQ0 too */
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	while (pit_count < TICKS)
		irq_wait();
	guest_printf("PIT through the I/O APIC: %lu interrupts\n", pit_count);
	guest_check("PIT pin masked at the limit, remote IRR clear (edge)",
	            (ioapic_redir_read(pit_pin) & (RTE_MASKED | RTE_REMOTE_IRR)) == RTE_MASKED);
	guest_check("8259 IRQ0 still masked", (pic_get_mask() & 1) != 0);
	pit_wait_periods(5);
	guest_printf("after 5 more PIT periods: %lu interrupts\n", pit_count);
}

static void test_level(void)
{
	idt_set_irq(UART_VECTOR, uart_irq);
	ioapic_redir_write(uart_pin, dest | RTE_LEVEL | UART_VECTOR);

	/* one assertion, cleared in the handler: one interrupt */
	uart_clear_source = true;
	outb(COM1 + UART_IER, IER_THRE);
	pit_wait_periods(3);
	guest_check("UART THRE interrupt on the level pin", uart_count == 1);
	guest_check("remote IRR set while the handler ran", uart_irr_seen);
	guest_check("local APIC TMR bit set for the level vector", uart_tmr_seen);
	guest_check("remote IRR clear after the EOI", !(ioapic_redir_read(uart_pin) & RTE_REMOTE_IRR));

	/* the line stays high across EOIs: delivered again each time */
	uart_count = 0;
	uart_clear_source = false;
	outb(COM1 + UART_IER, IER_THRE);
	pit_wait_periods(3);
	guest_printf("line held high until handler %u cleared it: %lu interrupts\n",
		     LEVEL_REPEATS, uart_count);
	guest_check("remote IRR clear at the end", !(ioapic_redir_read(uart_pin) & RTE_REMOTE_IRR));

	/* version 0x20: the I/O APIC's own EOI register, before the local
	 * APIC's EOI, with the source already cleared */
	uart_count = 0;
	uart_clear_source = true;
	uart_use_eoi_reg = true;
	outb(COM1 + UART_IER, IER_THRE);
	pit_wait_periods(3);
	guest_check("I/O APIC EOI register (0x40) clears remote IRR",
	            uart_count == 1 && !uart_irr_after_eoi_reg);
	ioapic_redir_write(uart_pin, RTE_MASKED);
}

int guest_main(void)
{
	guest_check("lapic_init", lapic_init() == 0);
	pic_init();
	guest_check("8259s masked", pic_get_mask() == 0xffff);
	dest = (uint64_t)(lapic_read(LAPIC_REG_ID) >> 24) << 56;
	test_registers();
	test_edge();
	test_level();
	return guest_check_status();
}
