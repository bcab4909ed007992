/*
 * types.h — the address and frame-number types every layer shares, with
 * KVM's names (ARCHITECTURE §3): a guest virtual (linear) address, a guest
 * physical address and its frame number, a host virtual address (a pointer
 * into this process), a host physical address (an offset into the arena
 * of hw/) and its frame number.
 */
#ifndef HVLAB_TYPES_H
#define HVLAB_TYPES_H

#include <stdint.h>

typedef uint64_t gva_t;
typedef uint64_t gpa_t;
typedef uint64_t gfn_t;
typedef uintptr_t hva_t;
typedef uint64_t hpa_t;
typedef uint64_t pfn_t;

#define HV_PAGE_SHIFT 12
#define HV_PAGE_SIZE (1ull << HV_PAGE_SHIFT)
#define HV_PAGE_MASK (~(HV_PAGE_SIZE - 1))

#define INVALID_HPA (~(hpa_t)0)

static inline gfn_t gpa_to_gfn(gpa_t gpa) { return gpa >> HV_PAGE_SHIFT; }
static inline gpa_t gfn_to_gpa(gfn_t gfn) { return gfn << HV_PAGE_SHIFT; }

#endif
