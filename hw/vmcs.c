/*
 * vmcs.c — the VMCS region's layout and field access (see vmcs.h; SDM
 * Vol. 3C 25.2 "Format of the VMCS region", 25.11.2 "VMREAD, VMWRITE,
 * and encodings of VMCS fields", Vol. 3D Appendix B).
 *
 * Layout of the region (bytes):
 *
 *   0-3    revision identifier      architectural
 *   4-7    VMX-abort indicator      architectural
 *   8      launch state             VMCS_STATE_*
 *   9-15   zero
 *   16-    one 8-byte slot per field, in hw/vmcs_fields.def order
 *
 * Every field gets 8 bytes whatever its width (a natural-width field
 * holds 64 bits), in host byte order. Widths are enforced on write, so
 * a slot never holds bits above its field's width.
 *
 * Encoding → field is one table lookup: the encoding's width, type and
 * index (13 bits; access type and reserved bit 12 aside) index a byte
 * array of slot numbers built from the .def at compile time.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/dcode.h"
#include "hw/vmcs.h"

#ifdef CONFIG_ASSERTIONS
#define VMCS_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "hw: %s: invariant '%s' broken\n",	\
			__func__, #cond);				\
		abort();						\
	}								\
} while (0)
#else
#define VMCS_ASSERT(cond) do { (void)sizeof(cond); } while (0)
#endif

#define VMCS_LAUNCH_OFFSET	8
#define VMCS_DATA_OFFSET	16

enum vmcs_slot {
#define VMCS_FIELD(name, enc) SLOT_##name,
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD
	VMCS_NR_SLOTS
};

static_assert(VMCS_DATA_OFFSET + 8 * VMCS_NR_SLOTS <= HV_PAGE_SIZE,
	      "the VMCS data fit the 4 KiB region");
static_assert(VMCS_NR_SLOTS < 255, "slot numbers + 1 fit slot_of[]'s bytes");

/* Every encoding in the table is a full access with reserved bits clear. */
#define VMCS_FIELD(name, enc) \
	static_assert(((enc) & ~0x6ffeu) == 0, "VMCS_" #name ": malformed encoding");
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD

static const struct vmcs_field_info fields[VMCS_NR_SLOTS] = {
#define VMCS_FIELD(name, enc) \
	[SLOT_##name] = { (enc), VMCS_DATA_OFFSET + 8 * SLOT_##name, #name },
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD
};

/* Width (14:13), type (11:10) and index (9:1) as a 13-bit key. */
#define FIELD_KEY(enc) \
	((((enc) >> 13) & 3u) << 11 | (((enc) >> 10) & 3u) << 9 | (((enc) >> 1) & 0x1ffu))

/* slot + 1 of each key; 0: no such field. Two fields with one encoding
 * would be a duplicate initializer, which -Woverride-init reports. */
static const uint8_t slot_of[1u << 13] = {
#define VMCS_FIELD(name, enc) [FIELD_KEY(enc)] = SLOT_##name + 1,
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD
};

const struct vmcs_field_info *vmcs_field_info(uint64_t encoding)
{
	/* Bits 63:15 and bit 12 are reserved: no field has them. */
	if (encoding & ~0x6fffull)
		return NULL;
	const unsigned slot = slot_of[FIELD_KEY(encoding)];
	if (!slot)
		return NULL;
	/* Only 64-bit fields have a high access (SDM Table 25-21 note). */
	if ((encoding & VMCS_ENC_ACCESS_HIGH) && VMCS_ENC_WIDTH(encoding) != VMCS_WIDTH_64)
		return NULL;
	return &fields[slot - 1];
}

unsigned vmcs_nr_fields(void)
{
	return VMCS_NR_SLOTS;
}

unsigned vmcs_max_index(void)
{
	unsigned max = 0;
	for (unsigned i = 0; i < VMCS_NR_SLOTS; i++)
		if (VMCS_ENC_INDEX(fields[i].encoding) > max)
			max = VMCS_ENC_INDEX(fields[i].encoding);
	return max;
}

/* The current VMCS region, or NULL (an invariant broken by the caller). */
static uint8_t *current_region(struct hw_cpu *cpu)
{
	uint8_t *p = hw_hpa_ptr(cpu->m, cpu->vmx.current_vmcs, HV_PAGE_SIZE);
	VMCS_ASSERT(p != NULL);
	return p;
}

uint64_t vmcs_read(struct hw_cpu *cpu, uint32_t encoding)
{
	const struct vmcs_field_info *f = vmcs_field_info(encoding);
	uint8_t *p = current_region(cpu);
	VMCS_ASSERT(f != NULL);
	if (!f || !p)
		return 0;
	uint64_t v;
	memcpy(&v, p + f->offset, sizeof(v));
	return (encoding & VMCS_ENC_ACCESS_HIGH) ? v >> 32 : v;
}

void vmcs_write(struct hw_cpu *cpu, uint32_t encoding, uint64_t val)
{
	const struct vmcs_field_info *f = vmcs_field_info(encoding);
	uint8_t *p = current_region(cpu);
	VMCS_ASSERT(f != NULL);
	if (!f || !p)
		return;
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
			memcpy(&old, p + f->offset, sizeof(old));
			val = (old & 0xffffffff) | (val << 32);
		}
		break;
	default:
		break;
	}
	memcpy(p + f->offset, &val, sizeof(val));
	/* A model write like any other: code decoded from the page goes. */
	hw_code_page_written(cpu->m, cpu->vmx.current_vmcs >> HV_PAGE_SHIFT);
}

enum vmcs_launch_state vmcs_launch_state(struct hw_cpu *cpu)
{
	const uint8_t *p = current_region(cpu);
	return p && p[VMCS_LAUNCH_OFFSET] == VMCS_STATE_LAUNCHED ?
	       VMCS_STATE_LAUNCHED : VMCS_STATE_CLEAR;
}

void vmcs_set_launched(struct hw_cpu *cpu)
{
	uint8_t *p = current_region(cpu);
	if (p)
		p[VMCS_LAUNCH_OFFSET] = VMCS_STATE_LAUNCHED;
}

uint32_t vmcs_region_revision(struct hw_machine *m, hpa_t hpa)
{
	const uint8_t *p = hw_hpa_ptr(m, hpa + VMCS_REVISION_OFFSET, 4);
	uint32_t rev = ~0u;	/* nothing decodes outside the arena: all ones */
	if (p)
		memcpy(&rev, p, sizeof(rev));
	return rev;
}

void vmcs_region_clear(struct hw_machine *m, hpa_t hpa)
{
	uint8_t *p = hw_hpa_ptr(m, hpa, HV_PAGE_SIZE);
	if (!p)
		return;		/* nothing decodes the address: the write is lost */
	p[VMCS_LAUNCH_OFFSET] = VMCS_STATE_CLEAR;
	hw_code_page_written(m, hpa >> HV_PAGE_SHIFT);
}
