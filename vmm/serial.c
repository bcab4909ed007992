/*
 * serial.c — a 16550A UART (TI PC16550D datasheet, "Register
 * Description"), as COM1 at 0x3f8 / IRQ 4 of QEMU's `-serial stdio`.
 *
 * The transmitter is infinitely fast: a THR write goes to struct
 * vmm.serial_out at once (flushed at each newline), so LSR.THRE and
 * LSR.TEMT are always set and the THR is empty again right after every
 * write. There is no receive source except loopback (MCR bit 4), where
 * the transmitter feeds the receiver FIFO as the datasheet's diagnostic
 * mode does; without loopback the receiver stays empty.
 *
 * Registers (offset from the base; DLAB is LCR bit 7):
 *   0  R: RBR / DLL (DLAB)        W: THR / DLL (DLAB)
 *   1  IER (bits 3:0) / DLM (DLAB)
 *   2  R: IIR   W: FCR            IIR bits 7:6 are 11 while the FIFOs are on
 *   3  LCR      4 MCR (bits 4:0)  5 LSR      6 MSR      7 SCR
 *
 * Interrupts (datasheet Table IV, "Interrupt Control Functions"), highest
 * priority first, reported in IIR bits 3:0:
 *   0x6 receiver line status  LSR OE (IER bit 2); cleared by reading LSR
 *   0x4 received data         RX FIFO at its trigger level (IER bit 0);
 *   0xc character timeout     RX FIFO non-empty below the trigger level
 *                             (IER bit 0), reported at once: there are no
 *                             character times in a zero-latency model
 *   0x2 THR empty             (IER bit 1); set when THRE is enabled or the
 *                             THR empties, cleared by reading IIR while it
 *                             is the reported source, or by writing THR
 *   0x0 modem status          MSR delta bits (IER bit 3); cleared by reading MSR
 * The IRQ line is high while any interrupt is pending. As in QEMU, MCR.OUT2
 * does not gate it (on a real PC board it does).
 *
 * Modem inputs: the far end is always ready (CTS, DSR and DCD set, RI
 * clear), as QEMU's stdio backend reports. In loopback they follow the
 * MCR outputs: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2, with the delta bits.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "vmm/dev.h"

#define UART_FIFO 16

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08

#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_IDLE (MSR_CTS | MSR_DSR | MSR_DCD)

struct serial {
	struct vdev dev;
	unsigned irq;
	bool irq_level;
	bool thr_pending;	/* the THR-empty interrupt */
	uint16_t divisor;
	uint8_t ier, fcr, lcr, mcr, lsr_err, msr, scr;
	uint8_t rx[UART_FIFO];
	unsigned rx_head, rx_count;
};

static struct serial *to_serial(struct vdev *d)
{
	return (struct serial *)((char *)d - offsetof(struct serial, dev));
}

static unsigned rx_trigger(const struct serial *s)
{
	static const unsigned level[4] = { 1, 4, 8, 14 };
	return s->fcr & FCR_ENABLE ? level[s->fcr >> 6] : 1;
}

static uint8_t serial_iir_id(const struct serial *s)
{
	if ((s->ier & IER_RLSI) && (s->lsr_err & LSR_OE))
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count)
		return s->rx_count >= rx_trigger(s) ? IIR_RDI : IIR_TIMEOUT;
	if ((s->ier & IER_THRI) && s->thr_pending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & 0x0f))
		return IIR_MSI;
	return IIR_NONE;
}

static void serial_update_irq(struct serial *s)
{
	bool level = serial_iir_id(s) != IIR_NONE;
	if (level != s->irq_level) {
		s->irq_level = level;
		hv_irq_line(s->dev.vmm->vm, s->irq, level);
	}
}

/* The modem inputs: the MCR outputs in loopback, else the idle far end. */
static uint8_t modem_inputs(uint8_t mcr)
{
	uint8_t in = 0;
	if (!(mcr & MCR_LOOP))
		return MSR_IDLE;
	if (mcr & MCR_RTS)
		in |= MSR_CTS;
	if (mcr & MCR_DTR)
		in |= MSR_DSR;
	if (mcr & MCR_OUT1)
		in |= MSR_RI;
	if (mcr & MCR_OUT2)
		in |= MSR_DCD;
	return in;
}

static void set_modem_inputs(struct serial *s, uint8_t in)
{
	uint8_t old = s->msr & 0xf0, delta = 0;
	if ((old ^ in) & MSR_CTS)
		delta |= MSR_DCTS;
	if ((old ^ in) & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(in & MSR_RI))	/* trailing edge only */
		delta |= MSR_TERI;
	if ((old ^ in) & MSR_DCD)
		delta |= MSR_DDCD;
	s->msr = (uint8_t)(in | (s->msr & 0x0f) | delta);
}

static void rx_clear(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

static void rx_push(struct serial *s, uint8_t b)
{
	unsigned cap = s->fcr & FCR_ENABLE ? UART_FIFO : 1;
	if (s->rx_count >= cap) {
		s->lsr_err |= LSR_OE;	/* the new character is lost */
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % UART_FIFO] = b;
	s->rx_count++;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t b;
	if (!s->rx_count)
		return 0;
	b = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % UART_FIFO;
	s->rx_count--;
	return b;
}

static void transmit(struct serial *s, uint8_t b)
{
	FILE *out = s->dev.vmm->serial_out;
	if (s->mcr & MCR_LOOP) {
		rx_push(s, b);
	} else if (out) {
		fputc(b, out);
		if (b == '\n')
			fflush(out);
	}
	/* The THR is empty again at once. */
	s->thr_pending = true;
}

static uint8_t serial_read(struct serial *s, unsigned reg)
{
	uint8_t v, id;
	switch (reg) {
	case 0:
		return s->lcr & LCR_DLAB ? (uint8_t)s->divisor : rx_pop(s);
	case 1:
		return s->lcr & LCR_DLAB ? (uint8_t)(s->divisor >> 8) : s->ier;
	case 2:
		id = serial_iir_id(s);
		if (id == IIR_THRI)
			s->thr_pending = false;
		return (uint8_t)(id | (s->fcr & FCR_ENABLE ? IIR_FIFO_ON : 0));
	case 3:
		return s->lcr;
	case 4:
		return s->mcr;
	case 5:
		v = (uint8_t)(LSR_THRE | LSR_TEMT | s->lsr_err | (s->rx_count ? LSR_DR : 0));
		s->lsr_err = 0;
		return v;
	case 6:
		v = s->msr;
		s->msr &= 0xf0;
		return v;
	default:
		return s->scr;
	}
}

static void serial_write(struct serial *s, unsigned reg, uint8_t v)
{
	switch (reg) {
	case 0:
		if (s->lcr & LCR_DLAB)
			s->divisor = (uint16_t)((s->divisor & 0xff00) | v);
		else
			transmit(s, v);
		break;
	case 1:
		if (s->lcr & LCR_DLAB) {
			s->divisor = (uint16_t)((s->divisor & 0x00ff) | (v << 8));
			break;
		}
		/* Enabling THRE with the THR empty interrupts at once. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_pending = true;
		s->ier = v & 0x0f;
		break;
	case 2:
		/* A change of the FIFO enable bit resets both FIFOs. */
		if ((v ^ s->fcr) & FCR_ENABLE || (v & FCR_CLEAR_RX))
			rx_clear(s);
		s->fcr = v & 0xc9;	/* bits 1-2 self-clear, 4-5 reserved */
		if (!(v & FCR_ENABLE))
			s->fcr = 0;
		break;
	case 3:
		s->lcr = v;
		break;
	case 4:
		s->mcr = v & 0x1f;
		set_modem_inputs(s, modem_inputs(s->mcr));
		break;
	case 5:	/* LSR: factory test only */
	case 6:	/* MSR: read-only */
		break;
	default:
		s->scr = v;
		break;
	}
}

/*
 * The UART is an 8-bit ISA device: a wider access is split by the bus
 * into byte accesses to consecutive registers, low byte first; bytes
 * beyond the last register see the bus float (all ones) or vanish.
 */
static uint32_t serial_in(struct vdev *d, uint16_t port, unsigned size)
{
	struct serial *s = to_serial(d);
	unsigned reg = (unsigned)(port - d->port);
	uint32_t val = 0;
	for (unsigned i = 0; i < size; i++)
		val |= (uint32_t)(reg + i < 8 ? serial_read(s, reg + i) : 0xff) << (8 * i);
	serial_update_irq(s);
	return val;
}

static void serial_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
	struct serial *s = to_serial(d);
	unsigned reg = (unsigned)(port - d->port);
	for (unsigned i = 0; i < size && reg + i < 8; i++)
		serial_write(s, reg + i, (uint8_t)(val >> (8 * i)));
	serial_update_irq(s);
}

static void serial_destroy(struct vdev *d)
{
	free(to_serial(d));
}

int serial_create(struct vmm *v, uint16_t port, unsigned irq, struct vdev **out)
{
	struct serial *s;
	if (!v || !out || port > 0xfff8)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->irq = irq;
	s->msr = MSR_IDLE;
	s->dev.name = "serial";
	s->dev.port = port;
	s->dev.nports = 8;
	s->dev.pio_in = serial_in;
	s->dev.pio_out = serial_out;
	s->dev.destroy = serial_destroy;
	s->dev.vmm = v;
	*out = &s->dev;
	return 0;
}
