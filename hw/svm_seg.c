/*
 * svm_seg.c — segment registers in the VMCB format (APM Vol. 2 15.5.1,
 * "segment state in the VMCB"), used by VMRUN, #VMEXIT, VMLOAD and
 * VMSAVE.
 *
 * The VMCB keeps base and limit fully expanded, as emulate/ does, so only
 * the attributes change shape. Both formats take the descriptor's access
 * byte (bits 47:40) as their low eight bits; they differ in where the
 * flags nibble (descriptor bits 55:52: AVL, L, D/B, G) goes:
 *
 *   VMCB attrib   11:8  G D/B L AVL | 7 P | 6:5 DPL | 4 S | 3:0 type
 *   emu ar        15:12 G D/B L AVL | 7 P | 6:5 DPL | 4 S | 3:0 type,
 *                 16 unusable
 *
 * The VMCB has no "unusable" bit: the APM marks a null segment by P = 0.
 * So P = 0 loads as unusable, and an unusable register saves with P = 0
 * (its other bits as they are, so a null selector's leftovers survive a
 * save and reload the way the hardware keeps them).
 */
#include "hw/svm_internal.h"

static_assert(EMU_AR_P == SVM_ATTR_P, "the access byte is shared");

uint32_t svm_attrib_to_ar(uint16_t attrib)
{
	uint32_t ar = (attrib & 0xffu) | ((uint32_t)(attrib & 0xf00u) << 4);
	if (!(attrib & SVM_ATTR_P))
		ar |= EMU_AR_UNUSABLE;
	return ar;
}

uint16_t svm_ar_to_attrib(uint32_t ar)
{
	uint16_t attrib = (uint16_t)((ar & 0xffu) | ((ar >> 4) & 0xf00u));
	if (ar & EMU_AR_UNUSABLE)
		attrib &= (uint16_t)~SVM_ATTR_P;
	return attrib;
}

void svm_seg_from_vmcb(const struct vmcb_seg *v, struct emu_segment *s)
{
	s->sel = v->selector;
	s->ar = svm_attrib_to_ar(v->attrib);
	s->limit = v->limit;
	s->base = v->base;
}

void svm_seg_to_vmcb(const struct emu_segment *s, struct vmcb_seg *v)
{
	v->selector = s->sel;
	v->attrib = svm_ar_to_attrib(s->ar);
	v->limit = s->limit;
	v->base = s->base;
}
