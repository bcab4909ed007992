/*
 * flush.h — the shadow-flush MMU strategy (mmu/shadow/flush.c): KVM's
 * 2006 virtual TLB. core/registry.c lists it when CONFIG_MMU_SHADOW_FLUSH.
 */
#ifndef HVLAB_MMU_SHADOW_FLUSH_H
#define HVLAB_MMU_SHADOW_FLUSH_H

#include "mmu/mmu.h"

extern const struct hv_mmu_ops shadow_flush_mmu_ops;

#endif
