/*
 * vmx_cpu.h — a processor's VMX state (SDM Vol. 3C chapter 24, 25):
 * whether it is in VMX operation, its VMXON region and its current VMCS.
 * The VMCS contents live in the VMCS region in host-physical memory
 * (hw/vmcs.c); nothing here caches them.
 */
#ifndef HVLAB_HW_VMX_CPU_H
#define HVLAB_HW_VMX_CPU_H

#include <stdbool.h>

#include "hvlab/types.h"

struct vmx_cpu {
	bool on;		/* in VMX operation (after VMXON) */
	hpa_t vmxon_region;
	hpa_t current_vmcs;	/* INVALID_HPA: none */
};

#endif
