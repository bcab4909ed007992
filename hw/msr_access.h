/*
 * msr_access.h — MSR reads and writes inside hw/ (hw/msr.c), on the
 * register set @regs (the guest's while a guest runs, cpu->host for the
 * host's hw_rdmsr/hw_wrmsr). 0, or -EINVAL where the processor raises #GP.
 */
#ifndef HVLAB_HW_MSR_ACCESS_H
#define HVLAB_HW_MSR_ACCESS_H

#include "hw/cpu.h"

int hw_msr_get(struct hw_cpu *cpu, struct emu_cpu *regs, uint32_t msr, uint64_t *val);
int hw_msr_set(struct hw_cpu *cpu, struct emu_cpu *regs, uint32_t msr, uint64_t val);

#endif
