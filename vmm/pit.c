/*
 * pit.c — the 8254 programmable interval timer (Intel 82C54 datasheet,
 * "Operation", "Modes", "Read-Back Command") at ports 0x40-0x43, with the
 * PC's port 0x61 (system control port B) that gates counter 2 and reads
 * back its output.
 *
 * The counters run on a 1193182 Hz clock of virtual time: tick k of the
 * clock happens at hv_clock_ns() = ceil(k * 10^9 / 1193182), so nothing
 * here counts; the state of a counter at any instant is computed from
 * the tick at which it started (load_tick) and its initial count N
 * (a written 0 means 2^16 in binary, 10^4 in BCD). With d ticks elapsed:
 *
 *   mode  value read                  OUT
 *   0     (N - d) mod M               low until d = N, then high
 *   1     as 0, from the gate trigger low from the trigger until d = N
 *   2     N - (d mod N)               low for the one tick where value = 1
 *   3     steps of 2, twice a period  high (N+1)/2 ticks, low N/2 ticks
 *   4     (N - d) mod M               low for the one tick at d = N
 *   5     as 4, from the gate trigger as 4
 *
 * Gates: counters 0 and 1 are tied high on the PC; counter 2's gate is
 * port 0x61 bit 0. Gate low holds the count in modes 0 and 4 and holds
 * OUT high in 2 and 3; a rising gate triggers modes 1 and 5 and restarts
 * modes 2 and 3 (datasheet Table "Gate Pin Operations Summary").
 *
 * Simplifications: a count is loaded the instant it is written (the
 * datasheet loads it on the next CLK edge, less than a microsecond later;
 * NULL COUNT still reads 1 until that edge), and a new count written in
 * mode 2 or 3 without a control word restarts the period at once instead
 * of at the end of the current (half-)period; Linux and PC firmware write
 * a control word before every count. BCD is supported: the counter then
 * counts decimal 9999..0 and reads and writes are BCD (digits above 9
 * are taken at face value).
 *
 * Where QEMU's 8254 departs from the datasheet (OUT polarity in modes 2,
 * 4 and 5; port 0x43 reading 0), the datasheet wins: docs/devices.md.
 *
 * IRQ 0: counter 0's OUT drives ISA IRQ 0 (hv_irq_line), high when OUT is
 * high. The timer's interrupts are its rising edges, so those are what
 * next_deadline() asks to be woken for; a rising edge that happened
 * between two ticks of the run loop (OUT already high again in mode 2)
 * is still delivered as a low-high pulse, and several that happened are
 * delivered as one, as an edge-triggered PIC would coalesce them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "vmm/dev.h"

#define PIT_PORT 0x40
#define PIT_CTRL 0x43
#define PIT_PORT61 0x61
#define PIT_NPORTS (PIT_PORT61 - PIT_PORT + 1)
#define PIT_HZ 1193182ull
#define PIT_IRQ 0

/* Port 0x61 bit 4 toggles with each DRAM refresh request, every 15.085 us. */
#define REFRESH_NS 15085ull

#define RW_LATCH 0
#define RW_LSB 1
#define RW_MSB 2
#define RW_BOTH 3

struct pit_counter {
	uint8_t ctrl;		/* control word bits 5:0: RW, M, BCD (status) */
	uint8_t mode;		/* 0-5: modes 6 and 7 are 2 and 3 */
	uint8_t rw;
	bool bcd;
	bool gate;
	bool programmed;	/* a count has been written since the control word */
	bool running;		/* counting: modes 1, 5 only after the trigger */
	bool held;		/* gate low in mode 0, 2, 3 or 4 */
	uint32_t count;		/* N as written, decoded (1..65536 / 1..10000) */
	uint32_t active;	/* N of the sequence that is counting */
	uint64_t load_tick;	/* tick at which the sequence started */
	uint64_t held_d;	/* ticks counted when the gate fell */
	uint64_t write_tick;	/* for NULL COUNT */
	bool null_count;
	bool write_msb;		/* the next byte written is the MSB (RW_BOTH) */
	uint8_t write_lsb;
	bool read_msb;		/* the next live byte read is the MSB (RW_BOTH) */
	uint16_t latch;		/* the latched count, in read format */
	unsigned latch_bytes;	/* bytes of it left to read; 0: not latched */
	bool status_latched;
	uint8_t status;
};

struct pit {
	struct vdev dev;
	struct pit_counter c[3];
	uint8_t port61;		/* bits 3:0 as written */
	bool irq_level;
	uint64_t edges_seen;	/* counter 0's rising edges already delivered */
};

static struct pit *to_pit(struct vdev *d)
{
	return (struct pit *)((char *)d - offsetof(struct pit, dev));
}

static uint64_t ns_to_tick(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_HZ / 1000000000u);
}

static uint64_t tick_to_ns(uint64_t tick)
{
	unsigned __int128 ns = ((unsigned __int128)tick * 1000000000u + PIT_HZ - 1) / PIT_HZ;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

static uint64_t pit_now(struct pit *p)
{
	return ns_to_tick(hv_clock_ns(p->dev.vmm->vm));
}

static uint32_t modulus(const struct pit_counter *c)
{
	return c->bcd ? 10000u : 65536u;
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12);
}

static uint32_t from_bcd(uint16_t v)
{
	return (v & 0xf) + (v >> 4 & 0xf) * 10 + (v >> 8 & 0xf) * 100 + (v >> 12 & 0xf) * 1000u;
}

/* Ticks the current sequence has counted at @now. */
static uint64_t elapsed(const struct pit_counter *c, uint64_t now)
{
	if (c->held)
		return c->held_d;
	return now > c->load_tick ? now - c->load_tick : 0;
}

/* Mode 3's count d ticks into a period of N (datasheet "Mode 3"): even N
 * steps N, N-2, ..., 2 twice; odd N loads N, steps to N-1 then by 2 in
 * the high half, and N, N-3, then by 2 in the low half. */
static uint32_t mode3_value(uint32_t n, uint64_t d)
{
	uint32_t p = (uint32_t)(d % n), high = (n + 1) / 2;
	if (!(n & 1))
		return p < n / 2 ? n - 2 * p : n - 2 * (p - n / 2);
	if (p < high)
		return p == 0 ? n : n - 1 - 2 * (p - 1);
	p -= high;
	return p == 0 ? n : n - 3 - 2 * (p - 1);
}

/* The counting element, as a number in [0, M). */
static uint32_t counter_value(const struct pit_counter *c, uint64_t now)
{
	uint32_t n = c->active, m = modulus(c);
	uint64_t d;
	if (!c->running)
		return c->programmed ? c->count % m : 0;
	d = elapsed(c, now);
	switch (c->mode) {
	case 2:
		return (uint32_t)(n - d % n) % m;
	case 3:
		return mode3_value(n, d) % m;
	default:
		return (uint32_t)((n + m - d % m) % m);
	}
}

static bool counter_out(const struct pit_counter *c, uint64_t now)
{
	uint32_t n = c->active;
	uint64_t d;
	if (!c->running)
		return c->mode != 0;	/* mode 0: low from the control word on */
	if (c->held && (c->mode == 2 || c->mode == 3))
		return true;
	d = elapsed(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		return d >= n;
	case 2:
		return d % n != n - 1u;
	case 3:
		return d % n < (n + 1) / 2;
	default:
		return d != n;
	}
}

/* Rising edges of OUT since the sequence started. */
static uint64_t counter_rises(const struct pit_counter *c, uint64_t now)
{
	uint64_t d;
	if (!c->running || (c->held && (c->mode == 2 || c->mode == 3)))
		return 0;
	d = elapsed(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		return d >= c->active;
	case 2:
	case 3:
		return d / c->active;
	default:
		return d >= (uint64_t)c->active + 1;
	}
}

/* The tick of the next rising edge after @now, or UINT64_MAX. */
static uint64_t counter_next_rise(const struct pit_counter *c, uint64_t now)
{
	uint64_t d, n = c->active;
	if (!c->running || c->held)
		return UINT64_MAX;
	d = elapsed(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		return d < n ? c->load_tick + n : UINT64_MAX;
	case 2:
	case 3:
		return c->load_tick + (d / n + 1) * n;
	default:
		return d < n + 1 ? c->load_tick + n + 1 : UINT64_MAX;
	}
}

/* Bring IRQ 0 up to date with counter 0 at @now. */
static void pit_update_irq(struct pit *p, uint64_t now)
{
	struct pit_counter *c = &p->c[0];
	struct hv_vm *vm = p->dev.vmm->vm;
	uint64_t rises = counter_rises(c, now);
	bool out = counter_out(c, now);
	if (rises > p->edges_seen) {
		if (p->irq_level)
			hv_irq_line(vm, PIT_IRQ, false);
		hv_irq_line(vm, PIT_IRQ, true);
		p->irq_level = true;
		p->edges_seen = rises;
	}
	if (out != p->irq_level) {
		hv_irq_line(vm, PIT_IRQ, out);
		p->irq_level = out;
	}
}

/* Start a new counting sequence of the current count at @now. */
static void counter_start(struct pit *p, struct pit_counter *c, uint64_t now)
{
	c->active = c->count;
	c->load_tick = now;
	c->running = true;
	c->held = false;
	if (c == &p->c[0])
		p->edges_seen = 0;
}

static void counter_hold(struct pit_counter *c, uint64_t now)
{
	c->held_d = elapsed(c, now);
	c->held = true;
}

static void counter_set_gate(struct pit *p, struct pit_counter *c, bool gate, uint64_t now)
{
	bool rising = gate && !c->gate;
	c->gate = gate;
	if (!c->programmed)
		return;
	switch (c->mode) {
	case 0:
	case 4:
		if (!gate && c->running && !c->held)
			counter_hold(c, now);
		else if (gate && c->held) {
			c->load_tick = now - c->held_d;
			c->held = false;
		}
		break;
	case 2:
	case 3:
		if (!gate && c->running)
			counter_hold(c, now);
		else if (rising)
			counter_start(p, c, now);
		break;
	default:	/* 1, 5: the rising gate triggers */
		if (rising) {
			counter_start(p, c, now);
			c->null_count = false;
		}
		break;
	}
}

/* A complete count arrived (datasheet "Write Operations"). */
static void counter_load(struct pit *p, struct pit_counter *c, uint16_t raw, uint64_t now)
{
	uint32_t n = c->bcd ? from_bcd(raw) : raw;
	c->count = n ? n : modulus(c);
	c->programmed = true;
	c->null_count = true;
	c->write_tick = now;
	if (c->mode == 1 || c->mode == 5)
		return;		/* loaded at the next gate trigger */
	counter_start(p, c, now);
	if (!c->gate)
		counter_hold(c, now);
}

static void counter_write(struct pit *p, struct pit_counter *c, uint8_t b, uint64_t now)
{
	switch (c->rw) {
	case RW_LSB:
		counter_load(p, c, b, now);
		break;
	case RW_MSB:
		counter_load(p, c, (uint16_t)(b << 8), now);
		break;
	default:
		if (!c->write_msb) {
			c->write_lsb = b;
			c->write_msb = true;
			/* Mode 0: writing the first byte stops the count and
			 * drives OUT low until the second arrives. */
			if (c->mode == 0)
				c->running = false;
		} else {
			c->write_msb = false;
			counter_load(p, c, (uint16_t)(c->write_lsb | b << 8), now);
		}
		break;
	}
}

static uint16_t counter_read_format(const struct pit_counter *c, uint64_t now)
{
	uint32_t v = counter_value(c, now);
	return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static void counter_latch(struct pit_counter *c, uint64_t now)
{
	if (c->latch_bytes)
		return;		/* a second latch before the read is ignored */
	c->latch = counter_read_format(c, now);
	c->latch_bytes = c->rw == RW_BOTH ? 2 : 1;
}

static void counter_latch_status(struct pit_counter *c, uint64_t now)
{
	/* NULL COUNT: set by a control word or a count write, cleared when
	 * the count reaches the counting element (next CLK; the trigger in
	 * modes 1 and 5). */
	bool null = c->null_count &&
		    (!c->programmed || c->mode == 1 || c->mode == 5 || now <= c->write_tick);
	if (c->status_latched)
		return;
	c->status = (uint8_t)((counter_out(c, now) ? 0x80 : 0) | (null ? 0x40 : 0) | c->ctrl);
	c->status_latched = true;
}

/* One byte in the counter's read format: LSB, MSB, or both in turn. */
static uint8_t counter_pick(struct pit_counter *c, uint16_t v, bool *msb_next)
{
	switch (c->rw) {
	case RW_LSB:
		return (uint8_t)v;
	case RW_MSB:
		return (uint8_t)(v >> 8);
	default:
		*msb_next = !*msb_next;
		return *msb_next ? (uint8_t)v : (uint8_t)(v >> 8);
	}
}

static uint8_t counter_read(struct pit_counter *c, uint64_t now)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latch_bytes) {
		bool msb = c->rw == RW_MSB || (c->rw == RW_BOTH && c->latch_bytes == 1);
		c->latch_bytes--;
		return msb ? (uint8_t)(c->latch >> 8) : (uint8_t)c->latch;
	}
	return counter_pick(c, counter_read_format(c, now), &c->read_msb);
}

static void pit_control(struct pit *p, uint8_t v, uint64_t now)
{
	unsigned sc = v >> 6, rw = v >> 4 & 3;
	struct pit_counter *c;
	if (sc == 3) {		/* read-back: bits 5/4 low select count/status */
		for (unsigned i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20))
				counter_latch(&p->c[i], now);
			if (!(v & 0x10))
				counter_latch_status(&p->c[i], now);
		}
		return;
	}
	c = &p->c[sc];
	if (rw == RW_LATCH) {
		counter_latch(c, now);
		return;
	}
	/* A control word resets the counter's logic; OUT goes to its mode's
	 * initial level and no count is loaded. */
	c->ctrl = v & 0x3f;
	c->rw = (uint8_t)rw;
	c->mode = v >> 1 & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->bcd = v & 1;
	c->programmed = false;
	c->running = false;
	c->held = false;
	c->null_count = true;
	c->write_tick = now;
	c->write_msb = false;
	c->read_msb = false;
	c->latch_bytes = 0;
	c->status_latched = false;
	if (c == &p->c[0])
		p->edges_seen = 0;
}

static uint8_t port61_read(struct pit *p, uint64_t now_ns)
{
	uint64_t now = ns_to_tick(now_ns);
	uint8_t v = p->port61 & 0x0f;
	if ((now_ns / REFRESH_NS) & 1)
		v |= 0x10;
	if (counter_out(&p->c[2], now))
		v |= 0x20;
	return v;
}

static uint32_t pit_in(struct vdev *d, uint16_t port, unsigned size)
{
	struct pit *p = to_pit(d);
	uint64_t now_ns = hv_clock_ns(d->vmm->vm), now = ns_to_tick(now_ns);
	uint32_t v;
	if (port == PIT_PORT61)
		v = port61_read(p, now_ns);
	else if (port < PIT_CTRL)
		v = counter_read(&p->c[port - PIT_PORT], now);
	else if (port == PIT_CTRL)
		v = 0xff;	/* the control word register is write-only */
	else {
		d->vmm->unknown_pio_reads++;	/* 0x44-0x60: not the PIT's */
		return 0xffffffffu;
	}
	/* An 8-bit device: the upper bytes of a wider read float. */
	return v | (0xffffffffu << 8);
}

static void pit_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
	struct pit *p = to_pit(d);
	uint64_t now = pit_now(p);
	uint8_t b = (uint8_t)val;
	if (port > PIT_CTRL && port != PIT_PORT61) {
		d->vmm->unknown_pio_writes++;
		return;
	}
	pit_update_irq(p, now);	/* deliver what was due before the write */
	if (port == PIT_PORT61) {
		p->port61 = b & 0x0f;
		counter_set_gate(p, &p->c[2], b & 1, now);
	} else if (port == PIT_CTRL) {
		pit_control(p, b, now);
	} else {
		counter_write(p, &p->c[port - PIT_PORT], b, now);
	}
	pit_update_irq(p, now);
}

static void pit_tick(struct vdev *d, uint64_t now_ns)
{
	pit_update_irq(to_pit(d), ns_to_tick(now_ns));
}

static uint64_t pit_next_deadline(struct vdev *d)
{
	struct pit *p = to_pit(d);
	uint64_t next = counter_next_rise(&p->c[0], pit_now(p));
	return next == UINT64_MAX ? UINT64_MAX : tick_to_ns(next);
}

static void pit_destroy(struct vdev *d)
{
	free(to_pit(d));
}

int pit_create(struct vmm *v, struct vdev **out)
{
	struct pit *p;
	if (!v || !out)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	/*
	 * The state a QEMU -kernel guest finds: QEMU's reset
	 * (hw/timer/i8254_common.c pit_reset_common) puts every counter in
	 * mode 3 with count 0 (2^16) from time 0, without an access mode
	 * (status bits 5:4 read 00), and SeaBIOS then programs counter 0 as
	 * its 18.2 Hz tick: mode 2, LSB then MSB, count 0. So IRQ 0 already
	 * ticks until the guest reprograms counter 0. Counters 0 and 1 have
	 * their gates tied high; counter 2's is port 0x61 bit 0, 0 at reset.
	 */
	for (unsigned i = 0; i < 3; i++) {
		struct pit_counter *c = &p->c[i];
		c->ctrl = i == 0 ? 0x34 : 0x06;
		c->rw = RW_BOTH;
		c->mode = i == 0 ? 2 : 3;
		c->gate = i != 2;
		c->count = 65536;
		c->programmed = true;
		counter_start(p, c, 0);
		if (!c->gate)
			counter_hold(c, 0);
	}
	p->dev.name = "pit";
	p->dev.port = PIT_PORT;
	/* 0x40-0x61: struct vdev decodes one range, so the PIT also claims
	 * 0x44-0x60, which it answers as nobody would: reads all ones,
	 * writes ignored (docs/devices.md). */
	p->dev.nports = PIT_NPORTS;
	p->dev.pio_in = pit_in;
	p->dev.pio_out = pit_out;
	p->dev.tick = pit_tick;
	p->dev.next_deadline = pit_next_deadline;
	p->dev.destroy = pit_destroy;
	p->dev.vmm = v;
	*out = &p->dev;
	return 0;
}
