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
 * callers, asserted under CONFIG_ASSERTIONS. A VMX exit and entry make
 * some 260 of these accesses, so they are inline and need no table: a
 * field's place in the region is arithmetic on its encoding (below),
 * which the compiler folds to a constant for the constant encodings the
 * model passes. VMREAD and VMWRITE validate the encoding first with
 * vmcs_field_info().
 */
#ifndef HVLAB_HW_VMCS_H
#define HVLAB_HW_VMCS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hw/cpu.h"
#include "hw/dcode.h"
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
 * Layout of the data (hw/vmcs.c has the whole region): one 8-byte slot
 * per encoding, grouped by the encoding's width and type (16 groups of
 * VMCS_GROUP_SLOTS), indexed within its group by the encoding's index.
 * Appendix B numbers each group's fields from 0 without large gaps, so
 * the groups are dense; vmcs.c asserts that every field's index fits.
 */
#define VMCS_DATA_OFFSET	16
#define VMCS_GROUP_SLOTS	31u
#define VMCS_NR_SLOTS		(16 * VMCS_GROUP_SLOTS)

/* The slot of @enc (either access). The index is taken modulo 32, so
 * no encoding, valid or not, names bytes outside the region (vmcs.c
 * asserts it): a broken caller corrupts a field, not the arena. */
#define VMCS_SLOT(enc) \
	((VMCS_ENC_WIDTH(enc) << 2 | VMCS_ENC_TYPE(enc)) * VMCS_GROUP_SLOTS + \
	 (VMCS_ENC_INDEX(enc) & 31u))

#ifdef CONFIG_ASSERTIONS
/* Abort unless @vmcs is not NULL and @encoding is a supported field; the
 * caller broke an invariant otherwise. */
void vmcs_assert_access(const uint8_t *vmcs, uint32_t encoding, const char *fn);
#define VMCS_ASSERT_ACCESS(vmcs, enc) vmcs_assert_access((vmcs), (enc), __func__)
#else
#define VMCS_ASSERT_ACCESS(vmcs, enc) do { (void)(vmcs); (void)(enc); } while (0)
#endif

/*
 * The current VMCS region, or NULL if there is none. VMPTRLD accepts only
 * a region inside the arena (its revision reads all ones elsewhere) and
 * the arena never moves, so the pointer is the arena's plus the address:
 * no hw_hpa_ptr() call, and nothing to invalidate on VMCLEAR or VMPTRLD.
 * hw_hpa_ptr()'s range check is kept, inline: it costs a few
 * instructions and keeps a caller's broken invariant harmless (reads 0,
 * writes lost), as before.
 */
static inline uint8_t *vmcs_current_region(const struct hw_cpu *cpu)
{
	const struct hw_machine *m = cpu->m;
	const hpa_t hpa = cpu->vmx.current_vmcs;
	if (hpa >= m->arena_size || m->arena_size - hpa < HV_PAGE_SIZE)
		return NULL;	/* INVALID_HPA among them */
	return m->arena + hpa;
}

/*
 * Field access in the VMCS region at @vmcs (from vmcs_current_region()).
 * A 16- or 32-bit field keeps the low bits of what is written and reads
 * zero-extended; a natural-width field holds 64 bits; the high access of
 * a 64-bit field reads and writes its bits 63:32 (in bits 31:0 of the
 * value), leaving bits 31:0 alone.
 *
 * These are for the model's runs of accesses (VM entry and exit): the
 * caller looks the region up once, and after writes calls
 * vmcs_current_written() once, which vmcs_write() does per write.
 */
static inline uint64_t vmcs_region_read(const uint8_t *vmcs, uint32_t encoding)
{
	VMCS_ASSERT_ACCESS(vmcs, encoding);
	uint64_t v;
	memcpy(&v, vmcs + VMCS_DATA_OFFSET + 8 * VMCS_SLOT(encoding), sizeof(v));
	return (encoding & VMCS_ENC_ACCESS_HIGH) ? v >> 32 : v;
}

static inline void vmcs_region_write(uint8_t *vmcs, uint32_t encoding, uint64_t val)
{
	VMCS_ASSERT_ACCESS(vmcs, encoding);
	uint8_t *slot = vmcs + VMCS_DATA_OFFSET + 8 * VMCS_SLOT(encoding);
	switch (VMCS_ENC_WIDTH(encoding)) {
	case VMCS_WIDTH_16:
		val &= 0xffff;
		break;
	case VMCS_WIDTH_32:
		val &= 0xffffffff;
		break;
	case VMCS_WIDTH_64:
		if (encoding & VMCS_ENC_ACCESS_HIGH) {
			/* Bits 63:32 only; bits 31:0 stay. */
			uint64_t old;
			memcpy(&old, slot, sizeof(old));
			val = (old & 0xffffffff) | (val << 32);
		}
		break;
	default:
		break;
	}
	memcpy(slot, &val, sizeof(val));
}

/* The current VMCS was written: a model write like any other, so code
 * decoded from its page goes (hw/dcode.h). */
static inline void vmcs_current_written(struct hw_cpu *cpu)
{
	hw_code_page_written(cpu->m, cpu, cpu->vmx.current_vmcs >> HV_PAGE_SHIFT);
}

/* The same on the current VMCS, one access at a time. */
static inline uint64_t vmcs_read(struct hw_cpu *cpu, uint32_t encoding)
{
	const uint8_t *p = vmcs_current_region(cpu);
	VMCS_ASSERT_ACCESS(p, encoding);
	return p ? vmcs_region_read(p, encoding) : 0;
}

static inline void vmcs_write(struct hw_cpu *cpu, uint32_t encoding, uint64_t val)
{
	uint8_t *p = vmcs_current_region(cpu);
	VMCS_ASSERT_ACCESS(p, encoding);
	if (!p)
		return;
	vmcs_region_write(p, encoding, val);
	vmcs_current_written(cpu);
}

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
