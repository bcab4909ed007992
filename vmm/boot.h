/*
 * boot.h — the initial state `hvlab run` gives a guest image: guest RAM
 * laid out as the loaders expect, the image placed, and the registers the
 * format defines (docs/loaders.md "Initial states").
 */
#ifndef HVLAB_VMM_BOOT_H
#define HVLAB_VMM_BOOT_H

#include <stddef.h>

#include "hvlab/hv.h"
#include "vmm/loader.h"

/* Add guest RAM of @ram_size bytes as QEMU's pc machine lays it out
 * (slot 0 below 4 GiB, slot 1 above). 0 or -errno (hv_strerror). */
int boot_add_ram(struct hv_vm *vm, uint64_t ram_size);

/* Set @vcpu's registers for @plan (and for ELF64 write the boot GDT and
 * identity page tables into the boot area). 0 or -errno. */
int boot_set_state(struct hv_vm *vm, struct hv_vcpu *vcpu, const struct load_plan *plan);

#endif
