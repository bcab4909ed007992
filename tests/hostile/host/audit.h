/*
 * audit.h — what the canary driver (canary.c) checks inside a VM: which
 * host-physical pages are guest RAM and which the host owns, the paging
 * structures the processor walks for the guest (reachable from the roots
 * the MMU strategy hands the backend), and byte snapshots of host pages.
 *
 * Internal: it reads core/'s VM (core/vm.h: the arena, hpa -> host pointer
 * is arithmetic, ARCHITECTURE §3) and the backend's TDP format
 * (mmu/tdp/tdp.h). The entry formats: SDM Vol. 3C 29.3.2 (EPT), AMD APM
 * Vol. 2 15.25.5 (NPT, long-mode entries) and SDM Vol. 3A 4.4-4.5 (the
 * shadow tables, PAE or 4-level, as the guest's mode asks).
 */
#ifndef TESTS_HOSTILE_HOST_AUDIT_H
#define TESTS_HOSTILE_HOST_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "hvlab/hv.h"
#include "hvlab/types.h"

enum page_kind {
	PAGE_RAM,	/* backs a memslot */
	PAGE_HOST,	/* handed out, not RAM: VMCS/VMCB, bitmaps, MMU tables */
	PAGE_FREE,	/* in the arena's free list */
	PAGE_OUTSIDE,	/* page 0 or past the arena */
};
enum page_kind audit_page_kind(struct hv_vm *vm, hpa_t hpa);

/*
 * Record every root the MMU points the processor at (the backend's
 * set_tdp_root / set_shadow_root, interposed on a copy of the VM's backend
 * ops). Call as soon as the VM exists (struct machine_cfg.created);
 * audit_untrack() before hv_vm_destroy(). 0 or -1.
 */
int audit_track(struct hv_vm *vm);
void audit_untrack(struct hv_vm *vm);

/*
 * Walk the tables reachable from each vcpu's latest root. Intact: every
 * table is a host page, every leaf maps guest RAM (tdp: exactly the hpa
 * of the gpa the walk translates). The tables' hpas (roots first) go to
 * @tables, at most @max; *@n: how many tables there are (may exceed
 * @max). 0, or -1 with one line in @err.
 */
int audit_tables(struct hv_vm *vm, hpa_t *tables, unsigned max, unsigned *n, char *err,
		 size_t errlen);

/* Every host page of a VM and its bytes. */
struct host_snap {
	uint64_t npages;
	hpa_t *hpa;
	uint8_t *bytes;
};
int snap_take(struct hv_vm *vm, struct host_snap *s);
/* 0 when the VM's host pages are the same pages with the same bytes;
 * else -1 and the first difference in @err. */
int snap_compare(struct hv_vm *vm, const struct host_snap *s, char *err, size_t errlen);
void snap_free(struct host_snap *s);

/* Host pointer of hpa in @vm (the page must be inside its arena). */
void *audit_hpa_ptr(struct hv_vm *vm, hpa_t hpa);

#endif
