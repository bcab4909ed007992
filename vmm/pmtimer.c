/*
 * pmtimer.c — the ACPI power-management timer and the minimal PM1 fixed
 * register block around it (ACPI 6.5, 4.8.3.1 "PM1 Event Grouping",
 * 4.8.3.2 "PM1 Control Grouping", 4.8.3.3 "Power Management Timer"), at
 * the addresses QEMU's PIIX4/ICH9 power management puts them and the
 * FADT (vmm/acpi.c) advertises:
 *
 *   0x600  PM1a_STS (16 bits)  TMR_STS (bit 0), write 1 to clear
 *   0x602  PM1a_EN  (16 bits)  TMR_EN (bit 0), GBL_EN, PWRBTN_EN,
 *                              SLPBTN_EN, RTC_EN stored
 *   0x604  PM1a_CNT (16 bits)  SCI_EN (bit 0) reads 1: the FADT has no
 *                              SMI_CMD, so the machine is always in ACPI
 *                              mode; BM_RLD and SLP_TYP stored; GBL_RLS
 *                              and SLP_EN are write-only strobes, and
 *                              there are no sleep states to enter
 *   0x608  PM_TMR   (32 bits)  a 24-bit counter at 3.579545 MHz of
 *                              virtual time; bits 31:24 read 0 (the FADT
 *                              leaves TMR_VAL_EXT clear)
 * Any width works, by byte lane, as the PM1 registers may be accessed a
 * byte at a time. 0x606-0x607 are not decoded (all ones).
 *
 * TMR_STS is set whenever bit 23 of the counter changes (4.8.3.3); with
 * TMR_EN set it raises the SCI, ISA IRQ 9, level-triggered active high
 * (the MADT's interrupt source override says so), until the guest clears
 * TMR_STS or TMR_EN.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "vmm/dev.h"

#define PM_PORT 0x600
#define PM_NPORTS 12
#define PM1_STS 0x0
#define PM1_EN 0x2
#define PM1_CNT 0x4
#define PM_TMR 0x8
#define PM_TMR_HZ 3579545ull
#define SCI_IRQ 9

#define TMR_STS 0x0001
#define TMR_EN 0x0001
#define PM1_EN_MASK 0x0721	/* TMR, GBL, PWRBTN, SLPBTN, RTC enables */
#define SCI_EN 0x0001
#define PM1_CNT_MASK 0x1c02	/* BM_RLD, SLP_TYP */

struct pmtimer {
	struct vdev dev;
	uint16_t en, cnt;
	uint64_t sts_epoch;	/* bit-23 half-periods counted when TMR_STS was cleared */
	bool sci_level;
};

static struct pmtimer *to_pm(struct vdev *d)
{
	return (struct pmtimer *)((char *)d - offsetof(struct pmtimer, dev));
}

static uint64_t pm_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PM_TMR_HZ / 1000000000u);
}

/* Bit 23 of the counter changes every 2^23 ticks. */
static uint64_t pm_epoch(uint64_t ns)
{
	return pm_ticks(ns) >> 23;
}

static uint16_t pm_sts(const struct pmtimer *p, uint64_t ns)
{
	return pm_epoch(ns) > p->sts_epoch ? TMR_STS : 0;
}

static void pm_update_sci(struct pmtimer *p, uint64_t ns)
{
	bool level = (pm_sts(p, ns) & TMR_STS) && (p->en & TMR_EN);
	if (level != p->sci_level) {
		p->sci_level = level;
		hv_irq_line(p->dev.vmm->vm, SCI_IRQ, level);
	}
}

static uint8_t pm_read_byte(struct pmtimer *p, unsigned off, uint64_t ns, uint32_t tmr)
{
	uint16_t r;
	switch (off & ~1u) {
	case PM1_STS:
		r = pm_sts(p, ns);
		break;
	case PM1_EN:
		r = p->en;
		break;
	case PM1_CNT:
		r = p->cnt | SCI_EN;
		break;
	default:
		return (uint8_t)(tmr >> (8 * (off - PM_TMR)));
	}
	return (uint8_t)(r >> (8 * (off & 1)));
}

static void pm_write_byte(struct pmtimer *p, unsigned off, uint8_t b, uint64_t ns)
{
	unsigned sh = 8 * (off & 1);
	uint16_t v = (uint16_t)(b << sh), lane = (uint16_t)(0xff << sh);
	switch (off & ~1u) {
	case PM1_STS:
		if (v & TMR_STS)	/* write 1 to clear */
			p->sts_epoch = pm_epoch(ns);
		break;
	case PM1_EN:
		p->en = (uint16_t)((p->en & ~lane) | (v & PM1_EN_MASK));
		break;
	case PM1_CNT:
		p->cnt = (uint16_t)((p->cnt & ~lane) | (v & PM1_CNT_MASK));
		break;
	default:
		break;		/* PM_TMR is read-only */
	}
}

static bool decoded(unsigned off)
{
	return off < 0x6 || off >= PM_TMR;
}

static uint32_t pm_in(struct vdev *d, uint16_t port, unsigned size)
{
	struct pmtimer *p = to_pm(d);
	uint64_t ns = hv_clock_ns(d->vmm->vm);
	uint32_t tmr = (uint32_t)(pm_ticks(ns) & 0xffffff), val = 0;
	unsigned off = (unsigned)(port - PM_PORT);
	if (!decoded(off)) {
		d->vmm->unknown_pio_reads++;
		return 0xffffffffu;
	}
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = o < PM_NPORTS && decoded(o) ? pm_read_byte(p, o, ns, tmr) : 0xff;
		val |= (uint32_t)b << (8 * i);
	}
	pm_update_sci(p, ns);
	return val;
}

static void pm_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
	struct pmtimer *p = to_pm(d);
	uint64_t ns = hv_clock_ns(d->vmm->vm);
	unsigned off = (unsigned)(port - PM_PORT);
	if (!decoded(off)) {
		d->vmm->unknown_pio_writes++;
		return;
	}
	for (unsigned i = 0; i < size && off + i < PM_NPORTS; i++)
		if (decoded(off + i))
			pm_write_byte(p, off + i, (uint8_t)(val >> (8 * i)), ns);
	pm_update_sci(p, ns);
}

static void pm_tick(struct vdev *d, uint64_t now_ns)
{
	pm_update_sci(to_pm(d), now_ns);
}

/* The next change of bit 23, when it would raise the SCI. */
static uint64_t pm_next_deadline(struct vdev *d)
{
	struct pmtimer *p = to_pm(d);
	uint64_t ns = hv_clock_ns(d->vmm->vm), tick;
	unsigned __int128 t;
	if (!(p->en & TMR_EN) || pm_sts(p, ns))
		return UINT64_MAX;
	tick = (pm_epoch(ns) + 1) << 23;
	t = ((unsigned __int128)tick * 1000000000u + PM_TMR_HZ - 1) / PM_TMR_HZ;
	return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

static void pm_destroy(struct vdev *d)
{
	free(to_pm(d));
}

int pmtimer_create(struct vmm *v, struct vdev **out)
{
	struct pmtimer *p;
	if (!v || !out)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dev.name = "acpi-pm";
	p->dev.port = PM_PORT;
	p->dev.nports = PM_NPORTS;
	p->dev.pio_in = pm_in;
	p->dev.pio_out = pm_out;
	p->dev.tick = pm_tick;
	p->dev.next_deadline = pm_next_deadline;
	p->dev.destroy = pm_destroy;
	p->dev.vmm = v;
	*out = &p->dev;
	return 0;
}
