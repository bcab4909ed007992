/*
 * lapic_timer.c — the local APIC timer (SDM Vol. 3A 11.5.4) on the VM's
 * virtual clock.
 *
 * The timer counts at CONFIG_HV_APIC_TIMER_KHZ divided by the divide
 * configuration (Figure 11-10: bits 3,1:0 = n gives 2^(n+1), 111b gives
 * 1). Writing the initial count (re)starts the count-down from it; 0
 * stops the timer. LVT timer bits 18:17 (11.5.4.1) pick the mode:
 *   00 one-shot:  the count reaches 0, interrupts once, stays 0;
 *   01 periodic:  at 0 it interrupts and reloads the initial count;
 *   10 TSC-deadline: the initial and current counts are inert (writes
 *      ignored, reads 0); the timer interrupts once the guest's TSC
 *      reaches IA32_TSC_DEADLINE and then clears that MSR; writing 0
 *      disarms it. Outside this mode the MSR reads 0, writes are lost;
 *   11 reserved: the timer does nothing.
 * Changing into or out of TSC-deadline mode disarms the timer; one-shot
 * <-> periodic only changes what happens at 0. A masked LVT entry lets
 * the count run but interrupts nobody.
 *
 * Nothing ticks: the state is (timer_start_ns, timer_count) and the
 * current count is computed from the elapsed virtual time. Expiry is
 * noticed by lapic_timer_update() — the run loop calls it through
 * irq_update() at the time irq_next_deadline_ns() asked for, and every
 * register access calls it first so that what the guest reads and what
 * it writes both happen after the expiries that came before them. A
 * periodic timer that missed several periods interrupts once: IRR holds
 * one instance of a vector.
 */
#include <stdint.h>

#include "core/irq/irqchip.h"
#include "core/vm.h"

#define NS_PER_KHZ_TICK 1000000u	/* ns per tick at 1 kHz */

static unsigned timer_divisor(uint32_t div)
{
	unsigned n = (div & 3) | (div >> 1 & 4);

	return n == 7 ? 1 : 2u << n;
}

/* Time of @ticks timer ticks, rounded up to a whole nanosecond. */
static uint64_t ticks_to_ns(const struct lapic *apic, uint64_t ticks)
{
	unsigned __int128 num = (unsigned __int128)ticks * timer_divisor(apic->timer_div) *
				NS_PER_KHZ_TICK;
	unsigned __int128 ns = (num + CONFIG_HV_APIC_TIMER_KHZ - 1) / CONFIG_HV_APIC_TIMER_KHZ;

	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

/* Whole timer ticks in @ns nanoseconds. */
static uint64_t ns_to_ticks(const struct lapic *apic, uint64_t ns)
{
	unsigned __int128 num = (unsigned __int128)ns * CONFIG_HV_APIC_TIMER_KHZ;

	return (uint64_t)(num / ((uint64_t)timer_divisor(apic->timer_div) * NS_PER_KHZ_TICK));
}

static unsigned timer_mode(const struct lapic *apic)
{
	return APIC_LVT_TIMER_MODE(apic->lvt[LVT_TIMER]);
}

void lapic_timer_reset(struct lapic *apic)
{
	apic->timer_init = apic->timer_div = 0;
	apic->timer_count = 0;
	apic->timer_armed = false;
	apic->tsc_deadline = 0;
}

uint32_t lapic_timer_current(struct lapic *apic)
{
	if (!apic->timer_armed || timer_mode(apic) > APIC_TIMER_PERIODIC)
		return 0;
	uint64_t elapsed = ns_to_ticks(apic, vcpu_clock_ns(apic->vcpu) - apic->timer_start_ns);
	return elapsed >= apic->timer_count ? 0 : apic->timer_count - (uint32_t)elapsed;
}

static void tsc_deadline_update(struct lapic *apic)
{
	if (apic->tsc_deadline && vcpu_guest_tsc(apic->vcpu) >= apic->tsc_deadline) {
		apic->tsc_deadline = 0;
		lapic_deliver_lvt(apic, LVT_TIMER);
	}
}

void lapic_timer_update(struct lapic *apic)
{
	unsigned mode = timer_mode(apic);

	if (mode == APIC_TIMER_TSC_DEADLINE) {
		tsc_deadline_update(apic);
		return;
	}
	if (!apic->timer_armed || mode > APIC_TIMER_PERIODIC)
		return;
	uint64_t now = vcpu_clock_ns(apic->vcpu);
	uint64_t expiry = apic->timer_start_ns + ticks_to_ns(apic, apic->timer_count);
	if (now < expiry)
		return;
	lapic_deliver_lvt(apic, LVT_TIMER);
	if (mode == APIC_TIMER_ONESHOT || apic->timer_init == 0) {
		apic->timer_armed = false;
		return;
	}
	/* Periodic: skip the whole periods that also ended before now. */
	uint64_t periods = ns_to_ticks(apic, now - expiry) / apic->timer_init;
	apic->timer_start_ns = expiry + ticks_to_ns(apic, periods * apic->timer_init);
	apic->timer_count = apic->timer_init;
}

/* TSC ticks -> ns, rounded up so the clock is past the deadline then
 * whatever the rounding of tsc_to_ns/ns_to_tsc. */
static uint64_t tsc_delta_to_ns(uint64_t delta)
{
	uint64_t ns = tsc_to_ns(delta);

	for (unsigned i = 0; i < 8 && ns_to_tsc(ns) < delta; i++)
		ns++;
	return ns;
}

uint64_t lapic_timer_next_ns(struct lapic *apic)
{
	unsigned mode = timer_mode(apic);

	if (apic->lvt[LVT_TIMER] & APIC_LVT_MASKED)
		return UINT64_MAX;	/* nothing to deliver; reads catch up */
	if (mode == APIC_TIMER_TSC_DEADLINE) {
		if (!apic->tsc_deadline)
			return UINT64_MAX;
		uint64_t now = vcpu_clock_ns(apic->vcpu), tsc = vcpu_guest_tsc(apic->vcpu);
		if (tsc >= apic->tsc_deadline)
			return now;
		return now + tsc_delta_to_ns(apic->tsc_deadline - tsc);
	}
	if (!apic->timer_armed || mode > APIC_TIMER_PERIODIC)
		return UINT64_MAX;
	return apic->timer_start_ns + ticks_to_ns(apic, apic->timer_count);
}

void lapic_timer_write_init(struct lapic *apic, uint32_t val)
{
	if (timer_mode(apic) == APIC_TIMER_TSC_DEADLINE)
		return;
	apic->timer_init = val;
	apic->timer_count = val;
	apic->timer_start_ns = vcpu_clock_ns(apic->vcpu);
	apic->timer_armed = val != 0;
}

/* A new divider applies from now on: the count continues from where it
 * is at the new rate. */
void lapic_timer_write_div(struct lapic *apic, uint32_t val)
{
	if (apic->timer_armed) {
		apic->timer_count = lapic_timer_current(apic);
		apic->timer_start_ns = vcpu_clock_ns(apic->vcpu);
	}
	apic->timer_div = val;
}

void lapic_timer_write_lvt(struct lapic *apic, uint32_t val)
{
	bool was_deadline = timer_mode(apic) == APIC_TIMER_TSC_DEADLINE;
	bool is_deadline = APIC_LVT_TIMER_MODE(val) == APIC_TIMER_TSC_DEADLINE;

	apic->lvt[LVT_TIMER] = val;
	if (was_deadline != is_deadline) {
		apic->timer_armed = false;
		apic->timer_init = apic->timer_count = 0;
		apic->tsc_deadline = 0;
	}
}

uint64_t lapic_tsc_deadline_read(struct lapic *apic)
{
	lapic_timer_update(apic);
	return timer_mode(apic) == APIC_TIMER_TSC_DEADLINE ? apic->tsc_deadline : 0;
}

void lapic_tsc_deadline_write(struct lapic *apic, uint64_t val)
{
	if (timer_mode(apic) != APIC_TIMER_TSC_DEADLINE)
		return;
	apic->tsc_deadline = val;
	tsc_deadline_update(apic);	/* a deadline already past fires now */
}
