/*
 * lapic_regs.c — the local APIC's two register interfaces: the xAPIC
 * page at the APIC base (SDM Vol. 3A 11.4.1, Table 11-1) and the x2APIC
 * MSRs 0x800 + offset/16 (11.12.1.2, Table 11-6). Both reach the same
 * registers through reg_read()/reg_write(); what differs is who may
 * touch what:
 *
 *   register          xAPIC page          x2APIC MSR
 *   ID                read/write 31:24    read-only, 32-bit ID
 *   LDR               read/write 31:24    read-only (derived from the ID)
 *   DFR, ICR high     read/write          absent (#GP)
 *   APR, RRD          read as 0           absent (#GP)
 *   EOI               write (reads 0)     write 0 only; read #GP
 *   ESR               write latches       write 0 only
 *   ICR               two 32-bit halves   one 64-bit MSR, dest in 63:32
 *   SELF IPI          absent              write-only
 *   anything else     ESR bit 7           #GP
 *
 * xAPIC registers are 32 bits at 16-byte-aligned offsets and must be
 * accessed as aligned dwords (11.4.1): narrower reads return the bytes
 * of the register, other writes are ignored. In x2APIC mode (11.12.1.3)
 * a write that sets a reserved bit raises #GP, as does a write to a
 * read-only register, a read of a write-only one, and bits 63:32 set in
 * anything but the ICR.
 */
#include <errno.h>
#include <string.h>

#include "core/irq/irqchip.h"
#include "core/vm.h"

/* LVT bits software may write, and the read-only ones (delivery status
 * 12, remote IRR 14), per entry (Figure 11-8). Timer mode 18:17 includes
 * TSC-deadline (11.5.4.1). */
static const uint32_t lvt_writable[LAPIC_NR_LVT] = {
	[LVT_TIMER] = 0x600ff | APIC_LVT_MASKED,
	[LVT_THERMAL] = 0x007ff | APIC_LVT_MASKED,
	[LVT_PERF] = 0x007ff | APIC_LVT_MASKED,
	[LVT_LINT0] = 0x0a7ff | APIC_LVT_MASKED,
	[LVT_LINT1] = 0x0a7ff | APIC_LVT_MASKED,
	[LVT_ERROR] = 0x000ff | APIC_LVT_MASKED,
};
static const uint32_t lvt_readonly[LAPIC_NR_LVT] = {
	[LVT_LINT0] = 1u << 12 | APIC_LVT_REMOTE_IRR,
	[LVT_LINT1] = 1u << 12 | APIC_LVT_REMOTE_IRR,
	[LVT_TIMER] = 1u << 12, [LVT_THERMAL] = 1u << 12,
	[LVT_PERF] = 1u << 12, [LVT_ERROR] = 1u << 12,
};

/* ICR low: vector, delivery mode, destination mode, level, trigger,
 * shorthand (Figure 11-12); delivery status (12) always reads idle. */
#define ICR_WRITABLE 0x000ccfffu
#define SVR_WRITABLE 0x1ffu		/* vector, APIC software enable */
#define TIMER_DIV_WRITABLE 0xbu		/* bits 0, 1, 3 (Figure 11-10) */

static bool is_lvt(uint32_t reg)
{
	return reg >= APIC_REG_LVT_TIMER && reg <= APIC_REG_LVT_ERROR;
}

/* Which registers exist in this mode (read side: Table 11-1 / 11-6). */
static bool reg_readable(const struct lapic *apic, uint32_t reg)
{
	bool x2 = lapic_x2apic(apic);

	switch (reg) {
	case APIC_REG_ID: case APIC_REG_VERSION: case APIC_REG_TPR:
	case APIC_REG_PPR: case APIC_REG_LDR: case APIC_REG_SVR:
	case APIC_REG_ESR: case APIC_REG_ICR: case APIC_REG_TIMER_INIT:
	case APIC_REG_TIMER_CUR: case APIC_REG_TIMER_DIV:
		return true;
	case APIC_REG_APR: case APIC_REG_RRD: case APIC_REG_DFR:
	case APIC_REG_ICR2: case APIC_REG_EOI:
		return !x2;	/* EOI is write-only: an xAPIC read gives 0 */
	default:
		return (reg >= APIC_REG_ISR && reg < APIC_REG_ESR) || is_lvt(reg);
	}
}

static uint32_t reg_read(struct lapic *apic, uint32_t reg)
{
	switch (reg) {
	case APIC_REG_ID:
		return lapic_x2apic(apic) ? apic->initial_id : apic->xapic_id;
	case APIC_REG_VERSION:
		return LAPIC_VERSION;
	case APIC_REG_TPR:
		return apic->tpr;
	case APIC_REG_PPR:
		return lapic_ppr(apic);
	case APIC_REG_LDR:
		return apic->ldr;
	case APIC_REG_DFR:
		return apic->dfr;
	case APIC_REG_SVR:
		return apic->svr;
	case APIC_REG_ESR:
		return apic->esr;
	case APIC_REG_ICR:
		return apic->icr_lo;
	case APIC_REG_ICR2:
		return apic->icr_hi;
	case APIC_REG_TIMER_INIT:
		return apic->timer_init;
	case APIC_REG_TIMER_CUR:
		return lapic_timer_current(apic);
	case APIC_REG_TIMER_DIV:
		return apic->timer_div;
	}
	if (reg >= APIC_REG_ISR && reg < APIC_REG_TMR)
		return apic->isr[(reg - APIC_REG_ISR) / 16];
	if (reg >= APIC_REG_TMR && reg < APIC_REG_IRR)
		return apic->tmr[(reg - APIC_REG_TMR) / 16];
	if (reg >= APIC_REG_IRR && reg < APIC_REG_ESR)
		return apic->irr[(reg - APIC_REG_IRR) / 16];
	if (is_lvt(reg))
		return apic->lvt[(reg - APIC_REG_LVT_TIMER) / 16];
	return 0;	/* APR, RRD, EOI */
}

/*
 * 11.4.7.2: software-disabling sets every LVT mask bit, and while SVR
 * bit 8 is clear the mask bits cannot be cleared.
 */
static void write_svr(struct lapic *apic, uint32_t val)
{
	apic->svr = val & SVR_WRITABLE;
	if (!lapic_sw_enabled(apic))
		for (unsigned i = 0; i < LAPIC_NR_LVT; i++)
			apic->lvt[i] |= APIC_LVT_MASKED;
}

static void write_lvt(struct lapic *apic, enum lapic_lvt i, uint32_t val)
{
	val &= lvt_writable[i];
	if (!lapic_sw_enabled(apic))
		val |= APIC_LVT_MASKED;
	if (i == LVT_TIMER) {
		lapic_timer_write_lvt(apic, val);
		return;
	}
	apic->lvt[i] = val;	/* remote IRR: no level-triggered LINT source */
}

/* Write @val (ICR: @hi is the destination half) to register @reg, which
 * the caller has checked exists and is writable in this mode. */
static void reg_write(struct lapic *apic, uint32_t reg, uint32_t val, uint32_t hi)
{
	switch (reg) {
	case APIC_REG_ID:
		apic->xapic_id = val & 0xff000000u;
		return;
	case APIC_REG_TPR:
		apic->tpr = val & 0xff;
		return;
	case APIC_REG_EOI:
		lapic_eoi(apic);
		return;
	case APIC_REG_LDR:
		apic->ldr = val & 0xff000000u;
		return;
	case APIC_REG_DFR:
		apic->dfr = (val & 0xf0000000u) | 0x0fffffffu;
		return;
	case APIC_REG_SVR:
		write_svr(apic, val);
		return;
	case APIC_REG_ESR:
		/* 11.5.3: a write latches the errors since the last one */
		apic->esr = apic->esr_pending;
		apic->esr_pending = 0;
		return;
	case APIC_REG_ICR:
		apic->icr_lo = val & ICR_WRITABLE;
		if (lapic_x2apic(apic))
			apic->icr_hi = hi;
		lapic_send_ipi(apic);
		return;
	case APIC_REG_ICR2:
		apic->icr_hi = val & 0xff000000u;
		return;
	case APIC_REG_TIMER_INIT:
		lapic_timer_write_init(apic, val);
		return;
	case APIC_REG_TIMER_DIV:
		lapic_timer_write_div(apic, val & TIMER_DIV_WRITABLE);
		return;
	case APIC_REG_SELF_IPI:
		/* 11.12.11: a fixed, edge-triggered self IPI */
		if ((val & 0xff) < 16)
			lapic_error(apic, APIC_ESR_SEND_ILLEGAL);
		else
			lapic_accept(apic, APIC_DM_FIXED, val & 0xff, false);
		return;
	}
	if (is_lvt(reg))
		write_lvt(apic, (reg - APIC_REG_LVT_TIMER) / 16, val);
}

/* ---------------------------------------------------------------- xAPIC */

static bool xapic_writable(uint32_t reg)
{
	switch (reg) {
	case APIC_REG_ID: case APIC_REG_TPR: case APIC_REG_EOI: case APIC_REG_LDR:
	case APIC_REG_DFR: case APIC_REG_SVR: case APIC_REG_ESR: case APIC_REG_ICR:
	case APIC_REG_ICR2: case APIC_REG_TIMER_INIT: case APIC_REG_TIMER_DIV:
		return true;
	default:
		return is_lvt(reg);
	}
}

/* @off: offset in the APIC page. Always decoded (true) in xAPIC mode. */
bool lapic_mmio_read(struct lapic *apic, uint32_t off, void *val, unsigned len)
{
	uint32_t reg = off & 0xff0, sub = off & 0xf;
	uint8_t bytes[16] = { 0 };

	lapic_timer_update(apic);
	if (!reg_readable(apic, reg)) {
		lapic_error(apic, APIC_ESR_ILLEGAL_REG);
	} else {
		uint32_t v = reg_read(apic, reg);
		memcpy(bytes, &v, sizeof(v));
	}
	memset(val, 0, len);
	memcpy(val, bytes + sub, sub + len > sizeof(bytes) ? sizeof(bytes) - sub : len);
	return true;
}

bool lapic_mmio_write(struct lapic *apic, uint32_t off, const void *val, unsigned len)
{
	uint32_t reg = off & 0xff0, v;

	lapic_timer_update(apic);
	if (!xapic_writable(reg)) {
		if (!reg_readable(apic, reg))
			lapic_error(apic, APIC_ESR_ILLEGAL_REG);
		return true;	/* writes to read-only registers do nothing */
	}
	if ((off & 0xf) || len != 4)
		return true;
	memcpy(&v, val, sizeof(v));
	reg_write(apic, reg, v, 0);
	return true;
}

/* ---------------------------------------------------------------- x2APIC */

int lapic_x2apic_rdmsr(struct lapic *apic, uint32_t msr, uint64_t *val)
{
	uint32_t reg = (msr - MSR_X2APIC_FIRST) << 4;

	if (!lapic_x2apic(apic) || !reg_readable(apic, reg))
		return -EINVAL;
	lapic_timer_update(apic);
	*val = reg_read(apic, reg);
	if (reg == APIC_REG_ICR)
		*val |= (uint64_t)apic->icr_hi << 32;
	return 0;
}

/* Reserved bits of each writable x2APIC register (Table 11-6 notes). */
static bool x2apic_write_ok(uint32_t reg, uint64_t val)
{
	if (reg == APIC_REG_ICR)
		return !((uint32_t)val & ~ICR_WRITABLE);
	if (val >> 32)
		return false;
	switch (reg) {
	case APIC_REG_TPR:
		return !(val & ~0xffull);
	case APIC_REG_EOI:
	case APIC_REG_ESR:
		return val == 0;
	case APIC_REG_SVR:
		return !(val & ~(uint64_t)SVR_WRITABLE);
	case APIC_REG_TIMER_INIT:
		return true;
	case APIC_REG_TIMER_DIV:
		return !(val & ~(uint64_t)TIMER_DIV_WRITABLE);
	case APIC_REG_SELF_IPI:
		return !(val & ~0xffull);
	}
	if (is_lvt(reg)) {
		unsigned i = (reg - APIC_REG_LVT_TIMER) / 16;
		return !(val & ~(uint64_t)(lvt_writable[i] | lvt_readonly[i]));
	}
	return false;	/* read-only or absent */
}

int lapic_x2apic_wrmsr(struct lapic *apic, uint32_t msr, uint64_t val)
{
	uint32_t reg = (msr - MSR_X2APIC_FIRST) << 4;

	if (!lapic_x2apic(apic) || !x2apic_write_ok(reg, val))
		return -EINVAL;
	lapic_timer_update(apic);
	reg_write(apic, reg, (uint32_t)val, (uint32_t)(val >> 32));
	return 0;
}
