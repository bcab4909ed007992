/*
 * clock.c — virtual time. The machine model prices everything it counts
 * in cycles (docs/cost-model.md); at the nominal TSC frequency
 * (CONFIG_HV_TSC_KHZ) cycles are nanoseconds. Time spent halted is
 * skipped, not simulated: when a halted vcpu waits for a timer, the run
 * loop adds the gap to halted_cycles and to the guest's TSC offset, so
 * the guest sees the time pass and the host spends none of it.
 *
 *   clock (ns)  = tsc_to_ns(cycles + halted_cycles)
 *   guest TSC   = cycles + tsc_offset   (the processor's own sum; a
 *                                        WRMSR TSC moves the offset)
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
	return tsc_to_ns(cycles(vcpu) + vcpu->vm->halted_cycles);
}

uint64_t vcpu_guest_tsc(struct hv_vcpu *vcpu)
{
	return cycles(vcpu) + vcpu->tsc_offset;
}

uint64_t hv_clock_ns(struct hv_vm *vm)
{
	if (!vm || !vm->nvcpus)
		return vm ? tsc_to_ns(vm->halted_cycles) : 0;
	return vcpu_clock_ns(vm->vcpus[0]);
}

void vcpu_adjust_tsc(struct hv_vcpu *vcpu, uint64_t delta)
{
	vcpu->tsc_offset += delta;
	vcpu->vm->backend->adjust_tsc(vcpu, delta);
}
