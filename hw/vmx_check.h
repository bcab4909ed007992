/*
 * vmx_check.h — what the VM-entry checks (hw/vmx_check.c for the controls
 * and host state, hw/vmx_check_guest.c for the guest state) share: the
 * predicates several of SDM Vol. 3C 27.2 and 27.3.1's rules are made of.
 * Internal to those two files; VM entry calls the checks through
 * hw/vmx_state.h.
 */
#ifndef HVLAB_HW_VMX_CHECK_H
#define HVLAB_HW_VMX_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/vmcs.h"

/*
 * The processor has 48 linear-address bits (no 5-level paging), so an
 * address is canonical when bits 63:47 all equal bit 47 (SDM Vol. 1
 * 3.3.7.1).
 */
static inline bool vmx_is_canonical(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

/* No bit at or above the physical-address width (CPUID 80000008H). */
static inline bool vmx_pa_fits(uint64_t pa)
{
	return !(pa >> HW_MAXPHYADDR);
}

/*
 * A capability MSR of this processor (hw/vmx_caps.c). VM entry runs only
 * in VMX operation, hence on an Intel model where every one exists; were
 * one missing, 0 makes every control not allowed-1, so entry fails
 * rather than passes.
 */
uint64_t vmx_check_cap(const struct hw_cpu *cpu, uint32_t msr);

/*
 * A CR0 or CR4 value VMX operation supports (SDM Vol. 3C 24.8, A.7, A.8):
 * every bit set in FIXED0 is set and every bit clear in FIXED1 is clear,
 * except for the bits in @ignore. @fixed0_msr is IA32_VMX_CR0_FIXED0 or
 * IA32_VMX_CR4_FIXED0; FIXED1 is the MSR after it.
 */
bool vmx_cr_fixed_ok(const struct hw_cpu *cpu, uint64_t cr, uint32_t fixed0_msr,
		     uint64_t ignore);

/*
 * A value WRMSR to IA32_PAT accepts (SDM Vol. 3A 13.12.2): each of the
 * eight bytes is a memory type 0 (UC), 1 (WC), 4 (WT), 5 (WP), 6 (WB) or
 * 7 (UC-).
 */
bool vmx_pat_valid(uint64_t pat);

/*
 * IA32_EFER bits the model implements on Intel (SDM Vol. 3A 2.2.1,
 * Table 2-1, with CPUID 80000001H reporting SYSCALL, NX and long mode):
 * SCE (0), LME (8), LMA (10), NXE (11). Every other bit is reserved.
 */
#define VMX_EFER_VALID (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

#endif
