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
 *   16-    16 groups of 31 8-byte slots, one group per width and type
 *          (bits 14:13 and 11:10 of the encoding), the slot in it the
 *          field's index (bits 9:1): VMCS_SLOT() in vmcs.h
 *
 * Every field gets 8 bytes whatever its width (a natural-width field
 * holds 64 bits), in host byte order. Widths are enforced on write, so
 * a slot never holds bits above its field's width.
 *
 * Why arithmetic rather than a table: the encodings are sparse across
 * the 15-bit space but dense within each width/type group (Appendix B
 * numbers a group's fields from index 0; the largest index this
 * processor supports is 23), so width, type and index address the slot
 * directly. For a constant encoding the compiler computes the offset,
 * and the model's ~260 accesses per VM exit and entry cost a load or a
 * store each. Which encodings exist is the .def's business, answered
 * by vmcs_field_info() for VMREAD and VMWRITE from a table indexed by
 * the same bits.
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

enum vmcs_field_nr {
#define VMCS_FIELD(name, enc) FIELD_##name,
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD
	VMCS_NR_FIELDS
};

static_assert(VMCS_DATA_OFFSET + 8 * (VMCS_SLOT(0x7ffeu) + 1) <= HV_PAGE_SIZE,
	      "the highest slot VMCS_SLOT() names fits the 4 KiB region");
static_assert(VMCS_LAUNCH_OFFSET < VMCS_DATA_OFFSET, "launch state in the header");
static_assert(VMCS_NR_FIELDS < 255, "field numbers + 1 fit field_of[]'s bytes");

/* Every encoding in the table is a full access with reserved bits clear,
 * and its index has a slot of its own in its group (VMCS_SLOT() keeps
 * only 5 bits of the index, and the group has 31 slots). */
#define VMCS_FIELD(name, enc) \
	static_assert(((enc) & ~0x6ffeu) == 0, "VMCS_" #name ": malformed encoding"); \
	static_assert(VMCS_ENC_INDEX(enc) < VMCS_GROUP_SLOTS, \
		      "VMCS_" #name ": index beyond its group's slots");
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD

static const struct vmcs_field_info fields[VMCS_NR_FIELDS] = {
#define VMCS_FIELD(name, enc) \
	[FIELD_##name] = { (enc), VMCS_DATA_OFFSET + 8 * VMCS_SLOT(enc), #name },
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD
};

/*
 * Which encodings name a field, for VMREAD and VMWRITE (some 18 per exit
 * from the backend): a table keyed by the encoding's width (14:13), type
 * (11:10), index bits 5:1 and access type (0), once bits 63:15, 12 and
 * 9:6 are known to be clear (no field has them: reserved, or an index
 * past 31). An entry is the field's number + 1, for the full access and,
 * of a 64-bit field only, the high one (SDM Table 25-21 note); 0: no
 * such field. Two fields with one key would be a duplicate initializer,
 * which -Woverride-init reports.
 */
#define INFO_KEY(enc) (((enc) & 0x3fu) | ((enc) >> 4 & 0xc0u) | ((enc) >> 5 & 0x300u))

static const uint8_t field_of[1u << 10] = {
#define VMCS_FIELD(name, enc)						\
	[INFO_KEY(enc)] = FIELD_##name + 1,				\
	[INFO_KEY((enc) | 1u)] =					\
		VMCS_ENC_WIDTH(enc) == VMCS_WIDTH_64 ? FIELD_##name + 1 : 0,
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD
};

const struct vmcs_field_info *vmcs_field_info(uint64_t encoding)
{
	if (encoding & ~0x6c3full)
		return NULL;
	const unsigned nr = field_of[INFO_KEY((unsigned)encoding)];
	return nr ? &fields[nr - 1] : NULL;
}

unsigned vmcs_nr_fields(void)
{
	return VMCS_NR_FIELDS;
}

unsigned vmcs_max_index(void)
{
	unsigned max = 0;
	for (unsigned i = 0; i < VMCS_NR_FIELDS; i++)
		if (VMCS_ENC_INDEX(fields[i].encoding) > max)
			max = VMCS_ENC_INDEX(fields[i].encoding);
	return max;
}

#ifdef CONFIG_ASSERTIONS
void vmcs_assert_access(const uint8_t *vmcs, uint32_t encoding, const char *fn)
{
	const char *broken = !vmcs ? "current VMCS exists" :
			     !vmcs_field_info(encoding) ? "field supported" : NULL;
	if (broken) {
		fprintf(stderr, "hw: %s: invariant '%s' broken (encoding %#x)\n",
			fn, broken, encoding);
		abort();
	}
}
#endif

/* The current VMCS region, or NULL (an invariant broken by the caller). */
static uint8_t *current_region(struct hw_cpu *cpu)
{
	uint8_t *p = vmcs_current_region(cpu);
	VMCS_ASSERT(p != NULL);
	return p;
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
	hw_code_page_written(m, NULL, hpa >> HV_PAGE_SHIFT);
}
