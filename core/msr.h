/*
 * msr.h — RDMSR and WRMSR as the guest sees them (core/msr.c).
 */
#ifndef HVLAB_CORE_MSR_H
#define HVLAB_CORE_MSR_H

#include <stdint.h>

struct hv_vcpu;

/* 0, or -EINVAL when the access raises #GP. */
int vcpu_rdmsr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t *val);
int vcpu_wrmsr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t val);

#endif
