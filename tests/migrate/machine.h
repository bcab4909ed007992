/*
 * machine.h — the pre-copy migration guest's VM (machine.c): one slot
 * that logs dirty pages, the guest's code, parameters and page tables in
 * it (layout.h), vcpu 0 in 64-bit mode at the code's entry, the others
 * waiting for the STARTUP IPI vcpu 0 sends them. Built with the public
 * API (include/hvlab/hv.h) alone.
 */
#ifndef TESTS_MIGRATE_MACHINE_H
#define TESTS_MIGRATE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlab/hv.h"

#define MG_SLOT 0
#define MG_MAX_VCPUS 4

struct mg_machine {
	struct hv_vm *vm;
	struct hv_vcpu *vcpus[MG_MAX_VCPUS];
	unsigned nvcpus;
};

/* Build the VM on @backend with MMU @mmu and @nvcpus vcpus (1 ..
 * MG_MAX_VCPUS), seeding the guest's generators with @seed. 0, or
 * -errno with a one-line reason in @why. */
int mg_machine_create(struct mg_machine *m, const char *backend, const char *mmu,
		      unsigned nvcpus, uint64_t seed, char *why, size_t whylen);
void mg_machine_destroy(struct mg_machine *m);

/* May the guest write guest page @gfn (a data page, or a page table of
 * one of the machine's vcpus)? Every other page of the slot it never
 * writes, so the dirty log must never report one after the host's own
 * writes have been collected. */
bool mg_guest_may_write(const struct mg_machine *m, uint64_t gfn);

#endif
