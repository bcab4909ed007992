/*
 * vmcs.h — the VMCS as the rest of hw/ reaches it (hw/vmcs.c), and the
 * VMX constants hw/ shares. The hypervisor never includes this: it has
 * hw/vmx.h and the VMREAD/VMWRITE instructions.
 *
 * The VMCS lives in its 4 KiB region in host-physical memory (SDM Vol.
 * 3C 25.2): bytes 0-3 the revision identifier (bit 31 the shadow-VMCS
 * indicator), bytes 4-7 the VMX-abort indicator, then data in a format
 * of the processor's choosing. Nothing is cached in the processor, so
 * the region is always up to date and VMCLEAR has nothing to flush.
 *
 * vmcs_read()/vmcs_write() act on the current VMCS without the checks of
 * the instructions: VM entry reads fields, VM exit writes the read-only
 * exit-information fields. The field must be one hw/vmcs_fields.def
 * lists and a current VMCS must exist; both are invariants of the
 * callers, asserted under CONFIG_ASSERTIONS.
 */
#ifndef HVLAB_HW_VMCS_H
#define HVLAB_HW_VMCS_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/cpu.h"
#include "hw/vmx.h"

/*
 * The VMCS revision identifier this processor uses (IA32_VMX_BASIC[30:0],
 * SDM Vol. 3D A.1). Any 31-bit value is architectural; this one is not
 * a real processor's, so software that hard-codes a revision instead of
 * reading the MSR fails here as it would on some silicon.
 */
#define VMX_VMCS_REVISION 0x00004876u	/* "vH" */

/* Architectural part of the region (SDM Vol. 3C 25.2, Table 25-1). */
#define VMCS_REVISION_OFFSET	0
#define VMCS_ABORT_OFFSET	4
#define VMCS_SHADOW_INDICATOR	(1u << 31)

/* What hw/ knows about a supported field. */
struct vmcs_field_info {
	uint32_t encoding;	/* the full access (bit 0 = 0) */
	uint16_t offset;	/* of its 8 bytes in the VMCS region */
	const char *name;	/* "GUEST_RIP": VMCS_ without the prefix */
};

/*
 * The field @encoding names, or NULL if this processor has no such field
 * (VM-instruction error 12). The high access of a 64-bit field (bit 0
 * set) names the same field; bits 63:15 set name none.
 */
const struct vmcs_field_info *vmcs_field_info(uint64_t encoding);

/* Number of supported fields, and the highest index any of them uses
 * (for IA32_VMX_VMCS_ENUM). */
unsigned vmcs_nr_fields(void);
unsigned vmcs_max_index(void);

/*
 * Field access on the current VMCS. A 16- or 32-bit field keeps the low
 * bits of what is written and reads zero-extended; a natural-width field
 * holds 64 bits; the high access of a 64-bit field reads and writes its
 * bits 63:32 (in bits 31:0 of the value), leaving bits 31:0 alone.
 */
uint64_t vmcs_read(struct hw_cpu *cpu, uint32_t encoding);
void vmcs_write(struct hw_cpu *cpu, uint32_t encoding, uint64_t val);

/* Launch state of the current VMCS (SDM Vol. 3C 25.1, Figure 25-1). */
enum vmcs_launch_state {
	VMCS_STATE_CLEAR,	/* after VMCLEAR: VMLAUNCH may enter */
	VMCS_STATE_LAUNCHED,	/* after a VMLAUNCH: VMRESUME may enter */
};

enum vmcs_launch_state vmcs_launch_state(struct hw_cpu *cpu);
void vmcs_set_launched(struct hw_cpu *cpu);

/*
 * The region itself at a page-aligned @hpa, for VMXON, VMCLEAR and
 * VMPTRLD (hw/vmx_insn.c): its revision identifier (with the shadow
 * indicator), and making its launch state clear. Outside the arena they
 * behave as the bus does there (hw/hw.h): reads return all ones, the
 * write is lost.
 */
uint32_t vmcs_region_revision(struct hw_machine *m, hpa_t hpa);
void vmcs_region_clear(struct hw_machine *m, hpa_t hpa);

/*
 * Outcomes and checks every VMX instruction shares (hw/vmx_insn.c; SDM
 * Vol. 3C 31.2): VMsucceed; VMfail(error), which is VMfailInvalid when
 * there is no current VMCS to record the error in; and the #UD/#GP
 * checks of an instruction other than VMXON (VMX_SUCCEED: proceed).
 */
enum vmx_status vmx_succeed(struct hw_cpu *cpu);
enum vmx_status vmx_fail(struct hw_cpu *cpu, enum vmx_error err);
enum vmx_status vmx_root_check(const struct hw_cpu *cpu);

#endif
