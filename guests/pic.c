/*
 * pic.c — the two cascaded 8259A programmable interrupt controllers.
 *
 * After reset the master delivers IRQ0-7 on vectors 8-15, on top of the
 * CPU's exception vectors (SDM Vol. 3A 6.3: 0-31 are reserved), so the
 * runtime reprograms both before anything is unmasked. Intel 8259A
 * datasheet (order no. 231468), "Initialization Command Words": ICW1
 * (written to the even port, D4=1) starts the sequence; 0x11 = edge
 * triggered, cascade mode, ICW4 needed. ICW2 (odd port) is the vector
 * base (bits 7:3). ICW3 tells the master which input has a slave (bit 2:
 * IRQ2) and the slave its cascade identity (2). ICW4 0x01 = 8086 mode,
 * normal (not automatic) EOI. After that, writes to the odd port are OCW1,
 * the interrupt mask (1 = masked); everything starts masked.
 *
 * EOI: OCW2 0x20 (non-specific EOI) to the even port. An IRQ from the
 * slave (8-15) is in service in both chips, so both need one, slave first.
 */
#include "guests/guest.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1

#define ICW1_INIT_ICW4	0x11
#define ICW4_8086	0x01
#define OCW2_EOI	0x20

static uint16_t mask = 0xffff;

/* Port 0x80 is unused; writing it gives an old PIC time between words. */
static void io_delay(void)
{
	outb(0x80, 0);
}

static void pic_write_mask(void)
{
	outb(PIC1_DATA, (uint8_t)mask);
	outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

void pic_init(void)
{
	static const struct { uint16_t cmd, data; uint8_t base, icw3; } chip[2] = {
		{ PIC1_CMD, PIC1_DATA, PIC_VECTOR_BASE, 1u << 2 },
		{ PIC2_CMD, PIC2_DATA, PIC_VECTOR_BASE + 8, 2 },
	};
	for (unsigned i = 0; i < 2; i++) {
		outb(chip[i].cmd, ICW1_INIT_ICW4);
		io_delay();
		outb(chip[i].data, chip[i].base);
		io_delay();
		outb(chip[i].data, chip[i].icw3);
		io_delay();
		outb(chip[i].data, ICW4_8086);
		io_delay();
	}
	mask = 0xffff;
	pic_write_mask();
}

void pic_mask(unsigned irq)
{
	if (irq < 16) {
		mask |= (uint16_t)(1u << irq);
		pic_write_mask();
	}
}

void pic_unmask(unsigned irq)
{
	if (irq >= 16)
		return;
	mask &= (uint16_t)~(1u << irq);
	/* a slave IRQ reaches the CPU through the master's IRQ2 */
	if (irq >= 8)
		mask &= (uint16_t)~(1u << 2);
	pic_write_mask();
}

uint16_t pic_get_mask(void)
{
	return (uint16_t)(inb(PIC2_DATA) << 8 | inb(PIC1_DATA));
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
}
