/*
 * cpuid.h — the CPUID the guest sees: the processor's answer with the
 * guest policy applied (core/cpuid.c).
 */
#ifndef HVLAB_CORE_CPUID_H
#define HVLAB_CORE_CPUID_H

#include <stdint.h>

struct hv_vcpu;

void guest_cpuid(struct hv_vcpu *vcpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

#endif
