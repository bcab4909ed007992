/*
 * cmos.c — the MC146818 real-time clock and its 128 bytes of CMOS RAM
 * (Motorola MC146818A datasheet: "Address Map", "Registers A-D",
 * "Time, Calendar and Alarm Locations"), at ports 0x70 (index) and 0x71
 * (data), with the memory-size bytes QEMU's pc machine stores for
 * firmware.
 *
 * Port 0x70 is write-only: bits 6:0 select a byte, bit 7 set masks NMI
 * (kept, but hvlab has no NMI source to mask). Reads of it return 0xff,
 * as QEMU's.
 *
 * The clock is deterministic: it reads 2000-01-01 00:00:00 (a Saturday)
 * plus hv_clock_ns(), the VM's virtual time, plus whatever the guest
 * moved it by when it set the time. Time and calendar bytes are computed
 * when read, in the format register B asks for (binary or BCD by DM, 12
 * or 24 hours), so a change of format shows at once. While B.SET is 1
 * the time bytes hold still and take the guest's writes; clearing SET
 * (or writing a time byte while SET is 0) restarts the clock from them.
 * Byte 0x32 is the century (IBM's convention, the FADT's CENTURY field),
 * kept with the time.
 *
 * Register A: bit 7 UIP is 1 during the last 244 us of every second,
 * before the update at the second boundary (the datasheet's tBUC); bits
 * 6:0 are plain storage (default 0x26: 32.768 kHz time base, 1024 Hz).
 * Register B default 0x02: 24-hour, BCD, as a PC BIOS leaves it.
 * Register C reports UF (an update ended since C was last read) and PF
 * (a period of the RS rate ended since then), with IRQF from those and
 * the enables in B; reading it clears them. Not modelled: the alarm
 * (AF stays 0) and IRQ 8 itself — no periodic, alarm or update-ended
 * interrupt is ever raised. Register D reads 0x80: VRT, the RAM and
 * time are valid.
 *
 * Memory bytes, as QEMU's pc_cmos_init() writes them from the RAM below
 * 4 GiB (below) and above it (above), split as loader_ram_contains() does:
 *   0x15/0x16  base memory in KiB: 640
 *   0x17/0x18  memory from 1 MiB below 4 GiB in KiB, capped at 65535
 *   0x30/0x31  the same
 *   0x34/0x35  memory from 16 MiB below 4 GiB in 64 KiB units, capped
 *   0x5b-0x5d  memory above 4 GiB in 64 KiB units (24 bits)
 *   0x5f       number of CPUs - 1
 * and the equipment byte 0x14 = 0x06 (FPU, PS/2 mouse) that QEMU writes
 * whatever the machine has.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "vmm/dev.h"
#include "vmm/loader.h"

#define CMOS_PORT 0x70
#define CMOS_DATA 0x71

#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_WDAY 0x06
#define RTC_MDAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

#define REG_A_UIP 0x80
#define REG_B_SET 0x80
#define REG_B_PIE 0x40
#define REG_B_UIE 0x10
#define REG_B_DM 0x04		/* 1: binary, 0: BCD */
#define REG_B_24H 0x02
#define REG_C_IRQF 0x80
#define REG_C_PF 0x40
#define REG_C_UF 0x10
#define REG_D_VRT 0x80

#define NS_PER_S 1000000000ull
#define UIP_NS 244000ull
#define DAYS_1970_TO_2000 10957

struct cmos {
	struct vdev dev;
	uint8_t index;
	bool nmi_masked;
	uint8_t ram[128];
	int64_t offset_s;	/* seconds from the epoch at virtual time 0 */
	uint64_t c_read_ns;	/* when register C was last read */
};

struct rtc_time {
	int64_t year;
	unsigned month, mday, wday, hour, min, sec;
};

static struct cmos *to_cmos(struct vdev *d)
{
	return (struct cmos *)((char *)d - offsetof(struct cmos, dev));
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date, and back: the
 * era-based method of H. Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms" (a 400-year era has 146097 days; March is month 0 so the
 * leap day ends the year).
 */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, struct rtc_time *t)
{
	int64_t era, doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	t->mday = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	t->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	t->year = yoe + era * 400 + (t->month <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Seconds since 2000-01-01 00:00:00 as a date; 1970-01-01 was a Thursday. */
static void time_from_secs(int64_t s, struct rtc_time *t)
{
	int64_t days = floor_div(s, 86400), rem = s - days * 86400;
	civil_from_days(days + DAYS_1970_TO_2000, t);
	t->wday = (unsigned)((days % 7 + 7 + 6) % 7) + 1;	/* 1 = Sunday; day 0 is a Saturday */
	t->hour = (unsigned)(rem / 3600);
	t->min = (unsigned)(rem / 60 % 60);
	t->sec = (unsigned)(rem % 60);
}

static uint8_t enc(const struct cmos *c, unsigned v)
{
	return c->ram[RTC_REG_B] & REG_B_DM ? (uint8_t)v : (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static unsigned dec(const struct cmos *c, uint8_t v)
{
	return c->ram[RTC_REG_B] & REG_B_DM ? v : (v >> 4) * 10u + (v & 0xf);
}

static uint8_t enc_hour(const struct cmos *c, unsigned h)
{
	unsigned h12;
	if (c->ram[RTC_REG_B] & REG_B_24H)
		return enc(c, h);
	h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(enc(c, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned dec_hour(const struct cmos *c, uint8_t v)
{
	unsigned h;
	if (c->ram[RTC_REG_B] & REG_B_24H)
		return dec(c, v);
	h = dec(c, v & 0x7f) % 12;
	return v & 0x80 ? h + 12 : h;
}

static int64_t cmos_secs(const struct cmos *c, uint64_t now_ns)
{
	return c->offset_s + (int64_t)(now_ns / NS_PER_S);
}

/* Store the clock's time at @now_ns into the time bytes. */
static void cmos_snapshot(struct cmos *c, uint64_t now_ns)
{
	struct rtc_time t;
	int64_t yy;
	time_from_secs(cmos_secs(c, now_ns), &t);
	yy = t.year % 100 < 0 ? t.year % 100 + 100 : t.year % 100;
	c->ram[RTC_SEC] = enc(c, t.sec);
	c->ram[RTC_MIN] = enc(c, t.min);
	c->ram[RTC_HOUR] = enc_hour(c, t.hour);
	c->ram[RTC_WDAY] = enc(c, t.wday);
	c->ram[RTC_MDAY] = enc(c, t.mday);
	c->ram[RTC_MONTH] = enc(c, t.month);
	c->ram[RTC_YEAR] = enc(c, (unsigned)yy);
	c->ram[RTC_CENTURY] = enc(c, (unsigned)((t.year - yy) / 100 % 100));
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Restart the clock from the time bytes at @now_ns. */
static void cmos_restart(struct cmos *c, uint64_t now_ns)
{
	int64_t year = dec(c, c->ram[RTC_CENTURY]) * 100 + dec(c, c->ram[RTC_YEAR]);
	unsigned month = clamp(dec(c, c->ram[RTC_MONTH]), 1, 12);
	unsigned mday = clamp(dec(c, c->ram[RTC_MDAY]), 1, 31);
	int64_t days = days_from_civil(year, month, mday) - DAYS_1970_TO_2000;
	int64_t s = days * 86400 + clamp(dec_hour(c, c->ram[RTC_HOUR]), 0, 23) * 3600 +
		    clamp(dec(c, c->ram[RTC_MIN]), 0, 59) * 60 + clamp(dec(c, c->ram[RTC_SEC]), 0, 59);
	c->offset_s = s - (int64_t)(now_ns / NS_PER_S);
}

static bool is_time_byte(unsigned i)
{
	return i == RTC_SEC || i == RTC_MIN || i == RTC_HOUR || (i >= RTC_WDAY && i <= RTC_YEAR) ||
	       i == RTC_CENTURY;
}

/* Periods of the RS rate (register A bits 3:0) ended in (from, to]. */
static bool period_ended(const struct cmos *c, uint64_t from, uint64_t to)
{
	unsigned rs = c->ram[RTC_REG_A] & 0xf;
	uint64_t period;
	if (!rs)
		return false;
	/* RS 1 and 2 are 256 and 128 Hz; 3-15 are 32768 >> (RS - 1) Hz. */
	period = rs <= 2 ? NS_PER_S / (512u >> rs) : (NS_PER_S << (rs - 1)) / 32768u;
	return to / period > from / period;
}

static uint8_t cmos_read(struct cmos *c, unsigned i, uint64_t now_ns)
{
	uint8_t v, b = c->ram[RTC_REG_B];
	bool set = b & REG_B_SET;
	switch (i) {
	case RTC_REG_A:
		v = c->ram[RTC_REG_A] & 0x7f;
		if (!set && now_ns % NS_PER_S >= NS_PER_S - UIP_NS)
			v |= REG_A_UIP;
		return v;
	case RTC_REG_C:
		v = 0;
		if (!set && now_ns / NS_PER_S > c->c_read_ns / NS_PER_S)
			v |= REG_C_UF;
		if (period_ended(c, c->c_read_ns, now_ns))
			v |= REG_C_PF;
		if (((v & REG_C_UF) && (b & REG_B_UIE)) || ((v & REG_C_PF) && (b & REG_B_PIE)))
			v |= REG_C_IRQF;
		c->c_read_ns = now_ns;
		return v;
	case RTC_REG_D:
		return REG_D_VRT;
	default:
		if (is_time_byte(i) && !set)
			cmos_snapshot(c, now_ns);
		return c->ram[i];
	}
}

static void cmos_write(struct cmos *c, unsigned i, uint8_t v, uint64_t now_ns)
{
	bool set = c->ram[RTC_REG_B] & REG_B_SET;
	switch (i) {
	case RTC_REG_A:
		c->ram[RTC_REG_A] = v & 0x7f;	/* UIP is read-only */
		break;
	case RTC_REG_B:
		if ((v & REG_B_SET) && !set)
			cmos_snapshot(c, now_ns);	/* the time holds still */
		c->ram[RTC_REG_B] = v;
		if (!(v & REG_B_SET) && set)
			cmos_restart(c, now_ns);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;		/* read-only */
	default:
		if (is_time_byte(i) && !set) {
			cmos_snapshot(c, now_ns);
			c->ram[i] = v;
			cmos_restart(c, now_ns);
		} else {
			c->ram[i] = v;
		}
		break;
	}
}

static uint32_t cmos_in(struct vdev *d, uint16_t port, unsigned size)
{
	struct cmos *c = to_cmos(d);
	uint32_t v = 0xff;
	if (port == CMOS_DATA)
		v = cmos_read(c, c->index, hv_clock_ns(d->vmm->vm));
	/* An 8-bit device: the upper bytes of a wider read float. */
	return v | (0xffffffffu << 8);
}

static void cmos_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
	struct cmos *c = to_cmos(d);
	if (port == CMOS_PORT) {
		c->index = val & 0x7f;
		c->nmi_masked = val & 0x80;
	} else {
		cmos_write(c, c->index, (uint8_t)val, hv_clock_ns(d->vmm->vm));
	}
}

static void put16(uint8_t *ram, unsigned i, uint64_t v)
{
	ram[i] = (uint8_t)v;
	ram[i + 1] = (uint8_t)(v >> 8);
}

static void cmos_set_config(struct cmos *c, uint64_t ram_size, unsigned ncpus)
{
	uint64_t below = ram_size < LOADER_LOWMEM_LIMIT ? ram_size : LOADER_LOWMEM_SPLIT;
	uint64_t above = ram_size - below, v;
	v = below / 1024 < 640 ? below / 1024 : 640;
	put16(c->ram, 0x15, v);
	v = below > (1u << 20) ? (below - (1u << 20)) / 1024 : 0;
	v = v > 65535 ? 65535 : v;
	put16(c->ram, 0x17, v);
	put16(c->ram, 0x30, v);
	v = below > (16u << 20) ? (below - (16u << 20)) / 65536 : 0;
	v = v > 65535 ? 65535 : v;
	put16(c->ram, 0x34, v);
	v = above / 65536;
	c->ram[0x5b] = (uint8_t)v;
	c->ram[0x5c] = (uint8_t)(v >> 8);
	c->ram[0x5d] = (uint8_t)(v >> 16);
	c->ram[0x5f] = (uint8_t)(ncpus ? ncpus - 1 : 0);
	c->ram[0x14] = 0x06;
}

static void cmos_destroy(struct vdev *d)
{
	free(to_cmos(d));
}

int cmos_create(struct vmm *v, struct vdev **out)
{
	struct cmos *c;
	if (!v || !out)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ram[RTC_REG_A] = 0x26;
	c->ram[RTC_REG_B] = REG_B_24H;
	cmos_set_config(c, v->ram_size, v->ncpus);
	c->dev.name = "cmos";
	c->dev.port = CMOS_PORT;
	c->dev.nports = 2;
	c->dev.pio_in = cmos_in;
	c->dev.pio_out = cmos_out;
	c->dev.destroy = cmos_destroy;
	c->dev.vmm = v;
	*out = &c->dev;
	return 0;
}
