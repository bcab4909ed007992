/*
 * cpuid.h — the CPUID the guest sees: the processor's answer with the
 * guest policy applied (core/cpuid.c).
 */
#ifndef HVLAB_CORE_CPUID_H
#define HVLAB_CORE_CPUID_H

#include <stdint.h>

struct hv_vcpu;

/* MAXPHYADDR as the guest's CPUID 8000_0008H:EAX[7:0] reports it
 * (36 when the leaf is absent, SDM Vol. 3A 4.1.4). */
unsigned vcpu_maxphyaddr(struct hv_vcpu *vcpu);

void guest_cpuid(struct hv_vcpu *vcpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

#endif
