/*
 * pic.c — two cascaded 8259A programmable interrupt controllers, after
 * the Intel 8259A datasheet (order no. 231468) and, for the per-input
 * edge/level choice, the ELCR of the PIIX (82371AB datasheet 4.1.11:
 * ports 0x4d0/0x4d1; IRQ 0, 1, 2, 8 and 13 are always edge-triggered).
 *
 * The master is at 0x20/0x21, the slave at 0xa0/0xa1, the slave's INT
 * output drives the master's IR2. Per chip:
 *   even port, D4=1       ICW1: start initialization (IC4, SNGL, LTIM)
 *   odd port during init  ICW2 (vector base, bits 7:3), ICW3 (cascade:
 *                         master = slave bitmap, slave = its ID), ICW4
 *                         (8086 mode, AEOI, SFNM) if ICW1 asked for it
 *   odd port              OCW1: IMR (1 = masked); reads give IMR
 *   even port, D4:3=00    OCW2: EOI (non-specific, specific), rotation,
 *                         set priority
 *   even port, D4:3=01    OCW3: read IRR/ISR select, poll, special mask
 *   even port read        IRR or ISR as OCW3 chose, or the poll word
 *
 * Priority: input (lowest + 1) % 8 is highest, the rest follow in turn;
 * after ICW1 IR0 is highest (lowest = 7). A request reaches INT when it
 * is unmasked and above every in-service level (fully nested); in
 * special mask mode masked in-service levels do not count; in special
 * fully nested mode the master's cascade input does not hold itself off.
 *
 * Triggering: edge-triggered inputs latch IRR on the rising edge and keep
 * it until INTA (a device may pulse its line: the request stays, as on
 * KVM and QEMU — the 8259A's datasheet would withdraw it and answer with
 * IR7); level-triggered inputs (ELCR bit, or LTIM) have IRR follow the
 * input. The cascade input follows the slave's INT as a level would.
 *
 * INTA (datasheet "Interrupt Sequence"): the highest request moves from
 * IRR to ISR (not with AEOI) and its vector is base + input; for the
 * cascade input the slave answers. With nothing to answer, a chip gives
 * IR7 (spurious IRQ 7, or 15 on the slave with IR2 in service on the
 * master) and sets no ISR bit of its own.
 */
#include "core/irq/irqchip.h"

#define PIC_MASTER 0
#define PIC_SLAVE 1
#define PIC_CASCADE_IRQ 2

static const uint8_t elcr_mask[2] = { 0xf8, 0xde };

static bool is_level(const struct pic_chip *c, unsigned n)
{
	return c->ltim || (c->elcr >> n & 1);
}

/* 0 = highest priority. */
static unsigned prio(const struct pic_chip *c, unsigned n)
{
	return (n - c->lowest - 1) & 7;
}

static int highest_of(const struct pic_chip *c, uint8_t bits)
{
	int best = -1;

	for (unsigned n = 0; n < 8; n++)
		if ((bits >> n & 1) && (best < 0 || prio(c, n) < prio(c, (unsigned)best)))
			best = (int)n;
	return best;
}

/* The input this chip would present on INT now, or -1. */
static int chip_request(const struct pic_chip *c, bool master)
{
	int irq = highest_of(c, c->irr & ~c->imr);
	uint8_t isr = c->isr;

	if (irq < 0)
		return -1;
	if (c->special_mask)
		isr &= ~c->imr;
	if (master && c->sfnm)
		isr &= ~c->icw3;
	int cur = highest_of(c, isr);
	if (cur >= 0 && prio(c, (unsigned)irq) >= prio(c, (unsigned)cur))
		return -1;
	return irq;
}

static void chip_set_input(struct pic_chip *c, unsigned n, bool level)
{
	uint8_t bit = (uint8_t)(1u << n);
	bool was = c->line & bit;

	if (level)
		c->line |= bit;
	else
		c->line &= (uint8_t)~bit;
	if (is_level(c, n)) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !was) {
		c->irr |= bit;
	}
}

/* The slave's INT is the master's IR2. */
static void update_cascade(struct pic *pic)
{
	struct pic_chip *m = &pic->chip[PIC_MASTER];
	bool out = chip_request(&pic->chip[PIC_SLAVE], false) >= 0;
	uint8_t bit = 1u << PIC_CASCADE_IRQ;

	if (out) {
		m->line |= bit;
		m->irr |= bit;
	} else {
		m->line &= (uint8_t)~bit;
		m->irr &= (uint8_t)~bit;
	}
}

void pic_reset(struct pic *pic)
{
	for (unsigned i = 0; i < 2; i++) {
		pic->chip[i] = (struct pic_chip){ .lowest = 7, .elcr_mask = elcr_mask[i] };
	}
}

void pic_set_irq(struct pic *pic, unsigned irq, bool level)
{
	if (irq >= 16 || irq == PIC_CASCADE_IRQ)
		return;
	chip_set_input(&pic->chip[irq / 8], irq % 8, level);
	update_cascade(pic);
}

bool pic_output(const struct pic *pic)
{
	return chip_request(&pic->chip[PIC_MASTER], true) >= 0;
}

/* One chip's part of INTA for input @n. */
static void chip_ack(struct pic_chip *c, unsigned n)
{
	uint8_t bit = (uint8_t)(1u << n);

	if (!is_level(c, n))
		c->irr &= (uint8_t)~bit;
	if (!c->aeoi)
		c->isr |= bit;
	else if (c->rotate_aeoi)
		c->lowest = (uint8_t)n;
}

static int intack(struct pic *pic, bool ack)
{
	struct pic_chip *m = &pic->chip[PIC_MASTER], *s = &pic->chip[PIC_SLAVE];
	int irq = chip_request(m, true);

	if (irq < 0)
		return m->vector_base + 7;			/* spurious IRQ 7 */
	if (ack)
		chip_ack(m, (unsigned)irq);
	if (m->single || !(m->icw3 >> irq & 1))
		return m->vector_base + irq;
	int sirq = chip_request(s, false);
	if (sirq >= 0 && ack)
		chip_ack(s, (unsigned)sirq);
	if (ack)
		update_cascade(pic);
	if (sirq < 0)
		return s->vector_base + 7;			/* spurious IRQ 15 */
	return s->vector_base + sirq;
}

int pic_peek_vector(const struct pic *pic)
{
	struct pic copy = *pic;

	return intack(&copy, false);
}

int pic_intack(struct pic *pic)
{
	return intack(pic, true);
}

/* ICW1 (datasheet "Initialization Command Words", a-f): IMR cleared,
 * IR0 highest, special mask mode off, IRR selected for reads, the edge
 * sense reset (an edge input must rise again). ISR is cleared too, so
 * that a guest re-initializing the chip starts clean. */
static void write_icw1(struct pic_chip *c, uint8_t val)
{
	c->init_step = 2;
	c->icw4_needed = val & 1;
	c->single = val & 2;
	c->ltim = val & 8;
	c->imr = c->isr = 0;
	c->irr = 0;
	for (unsigned n = 0; n < 8; n++)
		if (is_level(c, n) && (c->line >> n & 1))
			c->irr |= (uint8_t)(1u << n);
	c->lowest = 7;
	c->special_mask = c->read_isr = c->poll = false;
	c->rotate_aeoi = false;
	if (!c->icw4_needed)
		c->aeoi = c->sfnm = false;
}

/* OCW2: bits 7:5 are R, SL, EOI; 2:0 the level L. */
static void write_ocw2(struct pic_chip *c, uint8_t val)
{
	unsigned cmd = val >> 5, l = val & 7;
	int irq;

	switch (cmd) {
	case 1:		/* non-specific EOI */
	case 5:		/* rotate on non-specific EOI */
		irq = highest_of(c, c->isr);
		if (irq < 0)
			return;
		c->isr &= (uint8_t)~(1u << irq);
		if (cmd == 5)
			c->lowest = (uint8_t)irq;
		return;
	case 3:		/* specific EOI */
	case 7:		/* rotate on specific EOI */
		c->isr &= (uint8_t)~(1u << l);
		if (cmd == 7)
			c->lowest = (uint8_t)l;
		return;
	case 6:		/* set priority */
		c->lowest = (uint8_t)l;
		return;
	case 4:		/* rotate in AEOI mode: set */
	case 0:		/* ... clear */
		c->rotate_aeoi = cmd == 4;
		return;
	default:	/* 2: no operation */
		return;
	}
}

/* OCW3: 6:5 ESMM/SMM, 2 poll, 1:0 RR/RIS. */
static void write_ocw3(struct pic_chip *c, uint8_t val)
{
	if ((val & 0x60) == 0x60)
		c->special_mask = true;
	else if ((val & 0x60) == 0x40)
		c->special_mask = false;
	c->poll = val & 4;
	if ((val & 3) == 2)
		c->read_isr = false;
	else if ((val & 3) == 3)
		c->read_isr = true;
}

static void write_data(struct pic_chip *c, uint8_t val)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = val & 0xf8;
		c->init_step = !c->single ? 3 : c->icw4_needed ? 4 : 0;
		return;
	case 3:
		c->icw3 = val;
		c->init_step = c->icw4_needed ? 4 : 0;
		return;
	case 4:
		c->aeoi = val & 2;
		c->sfnm = val & 0x10;
		c->init_step = 0;
		return;
	default:
		c->imr = val;
		return;
	}
}

/*
 * The poll command (OCW3 P=1): the next read of the even port is the
 * poll word, bit 7 = a request, 2:0 = the highest level; the request is
 * acknowledged as INTA would (into ISR).
 */
static uint8_t read_poll(struct pic *pic, unsigned chip)
{
	struct pic_chip *c = &pic->chip[chip];
	int irq = chip_request(c, chip == PIC_MASTER);

	c->poll = false;
	if (irq < 0)
		return 0;
	chip_ack(c, (unsigned)irq);
	update_cascade(pic);
	return (uint8_t)(0x80 | irq);
}

bool pic_port_in(struct pic *pic, uint16_t port, uint8_t *val)
{
	switch (port) {
	case 0x20:
	case 0xa0: {
		unsigned i = port == 0xa0;
		struct pic_chip *c = &pic->chip[i];
		*val = c->poll ? read_poll(pic, i) : c->read_isr ? c->isr : c->irr;
		return true;
	}
	case 0x21:
	case 0xa1:
		*val = pic->chip[port == 0xa1].imr;
		return true;
	case 0x4d0:
	case 0x4d1:
		*val = pic->chip[port & 1].elcr;
		return true;
	}
	return false;
}

bool pic_port_out(struct pic *pic, uint16_t port, uint8_t val)
{
	struct pic_chip *c;

	switch (port) {
	case 0x20:
	case 0xa0:
		c = &pic->chip[port == 0xa0];
		if (val & 0x10)
			write_icw1(c, val);
		else if (val & 0x08)
			write_ocw3(c, val);
		else
			write_ocw2(c, val);
		break;
	case 0x21:
	case 0xa1:
		write_data(&pic->chip[port == 0xa1], val);
		break;
	case 0x4d0:
	case 0x4d1:
		c = &pic->chip[port & 1];
		c->elcr = val & c->elcr_mask;
		for (unsigned n = 0; n < 8; n++)
			if (is_level(c, n))
				c->irr = (uint8_t)((c->irr & ~(1u << n)) | (c->line & (1u << n)));
		break;
	default:
		return false;
	}
	update_cascade(pic);
	return true;
}
