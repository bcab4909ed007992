/*
 * cr.h — control-register writes and TLB maintenance inside hw/
 * (hw/cr.c). The hw_set_* calls return EMU_CONTINUE, EMU_EXCEPTION or
 * EMU_STOP (a nested fault while loading PDPTEs became a VM exit).
 */
#ifndef HVLAB_HW_CR_H
#define HVLAB_HW_CR_H

#include "hw/exec.h"

int hw_set_cr0(struct hw_cpu *cpu, uint64_t val);
int hw_set_cr3(struct hw_cpu *cpu, uint64_t val);
int hw_set_cr4(struct hw_cpu *cpu, uint64_t val);
/* After a WRMSR to EFER: LMA and the paging configuration follow. */
void hw_efer_changed(struct hw_cpu *cpu);

/* Everything cached for the current VPID/ASID and EP4TA, all PCIDs;
 * global entries too unless @keep_global. */
void hw_flush_vpid(struct hw_cpu *cpu, bool keep_global);
void hw_invlpg(struct hw_cpu *cpu, uint64_t la);
void hw_invpcid(struct hw_cpu *cpu, unsigned type, uint64_t pcid, uint64_t la);

#endif
