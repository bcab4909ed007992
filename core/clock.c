/*
 * clock.c — virtual time. The machine model prices everything it counts
 * in cycles (docs/cost-model.md); at the nominal TSC frequency
 * (CONFIG_HV_TSC_KHZ) cycles are nanoseconds. Each vcpu has its own
 * clock, as each processor of a real machine has its own TSC:
 *
 *   vcpu clock (ns) = tsc_to_ns(cycles + idle_cycles)
 *   guest TSC       = cycles + tsc_offset   (the processor's own sum; a
 *                                            WRMSR TSC moves the offset)
 *
 * cycles are what its processor counted; idle_cycles the time it spent
 * without executing (halted, waiting for SIPI) or executing in core's
 * emulator, which the processor does not see. Time spent idle is skipped,
 * not simulated: the run loop or the scheduler moves the idle vcpu's
 * clock on to the next event (vcpu_idle_until), adding the gap to the
 * guest's TSC offset too, so the guest sees the time pass and the host
 * spends none of it.
 *
 * The VM's clock (hv_clock_ns, what device models count with) is the
 * latest vcpu clock published: every vcpu publishes its clock after
 * each exit (vcpu_publish_clock), so it never goes backwards although
 * the vcpus' clocks drift apart by what their quanta cost. With one
 * vcpu it is that vcpu's clock at its last exit.
 *
 * Nothing here reads a host clock, so runs repeat exactly.
 */
#include "core/vm.h"

uint64_t tsc_to_ns(uint64_t tsc)
{
	const unsigned __int128 t = tsc;
	return (uint64_t)(t * 1000000u / CONFIG_HV_TSC_KHZ);
}

uint64_t ns_to_tsc(uint64_t ns)
{
	const unsigned __int128 t = ns;
	return (uint64_t)(t * CONFIG_HV_TSC_KHZ / 1000000u);
}

static uint64_t cycles(struct hv_vcpu *vcpu)
{
	struct hv_hw_counters c;
	vcpu->vm->backend->read_counters(vcpu, &c);
	return c.cycles;
}

uint64_t vcpu_clock_ns(struct hv_vcpu *vcpu)
{
	return tsc_to_ns(cycles(vcpu) + vcpu->idle_cycles);
}

uint64_t vcpu_guest_tsc(struct hv_vcpu *vcpu)
{
	return cycles(vcpu) + vcpu->tsc_offset;
}

void vcpu_publish_clock(struct hv_vcpu *vcpu)
{
	const uint64_t now = vcpu_clock_ns(vcpu);
	uint64_t seen = atomic_load_explicit(&vcpu->vm->clock_ns, memory_order_relaxed);
	while (now > seen &&
	       !atomic_compare_exchange_weak_explicit(&vcpu->vm->clock_ns, &seen, now,
						      memory_order_relaxed, memory_order_relaxed))
		;
}

void vcpu_idle_until(struct hv_vcpu *vcpu, uint64_t ns)
{
	const uint64_t now = vcpu_clock_ns(vcpu);
	if (ns <= now)
		return;
	/* One tick more than the gap, so the clock reaches @ns whatever
	 * tsc_to_ns rounds away. */
	const uint64_t d = ns_to_tsc(ns - now) + 1;
	vcpu->idle_cycles += d;
	vcpu->vm->stats.halt_ns += tsc_to_ns(d);
	vcpu_adjust_tsc(vcpu, d);
	vcpu_publish_clock(vcpu);
}

uint64_t hv_clock_ns(struct hv_vm *vm)
{
	return vm ? atomic_load_explicit(&vm->clock_ns, memory_order_relaxed) : 0;
}

void vcpu_adjust_tsc(struct hv_vcpu *vcpu, uint64_t delta)
{
	vcpu->tsc_offset += delta;
	vcpu->vm->backend->adjust_tsc(vcpu, delta);
}
