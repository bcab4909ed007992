/*
 * seg.h — segment registers between the API's record (struct
 * hv_segment, KVM's layout) and the access-rights word of the VMX
 * layout (SDM Vol. 3C 24.4.1, Table 24-2: type 3:0, S 4, DPL 6:5, P 7,
 * AVL 12, L 13, D/B 14, G 15, unusable 16), which emulate/ uses too
 * (EMU_AR_*). SVM's 12-bit attribute packing (APM Vol. 2 15.5.1) is the
 * same bits with 11:8 taken from 15:12.
 */
#ifndef HVLAB_CORE_SEG_H
#define HVLAB_CORE_SEG_H

#include <stdint.h>

#include "hvlab/hv.h"

static inline uint32_t seg_to_ar(const struct hv_segment *s)
{
	if (s->unusable)
		return 1u << 16;
	return (s->type & 0xfu) | (s->s ? 1u << 4 : 0) | ((s->dpl & 3u) << 5) |
	       (s->present ? 1u << 7 : 0) | (s->avl ? 1u << 12 : 0) |
	       (s->l ? 1u << 13 : 0) | (s->db ? 1u << 14 : 0) | (s->g ? 1u << 15 : 0);
}

static inline void ar_to_seg(uint32_t ar, struct hv_segment *s)
{
	s->type = ar & 0xf;
	s->s = (ar >> 4) & 1;
	s->dpl = (ar >> 5) & 3;
	s->present = (ar >> 7) & 1;
	s->avl = (ar >> 12) & 1;
	s->l = (ar >> 13) & 1;
	s->db = (ar >> 14) & 1;
	s->g = (ar >> 15) & 1;
	s->unusable = (ar >> 16) & 1;
}

#endif
