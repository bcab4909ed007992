/*
 * machine.h — the pc machine `hvlab run` builds (docs/run.md), as calls a
 * host program can make too: load a guest image into a new VM with its
 * RAM, vcpus, boot state and devices, and route its device exits. `hvlab
 * run` (vmm/cmd_run.c) adds options, signals and statistics; the isolation
 * tests' canary driver (tests/hostile/host/canary.c) runs several
 * machines in one process.
 */
#ifndef HVLAB_VMM_MACHINE_H
#define HVLAB_VMM_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "hvlab/hv.h"
#include "vmm/dev.h"

struct machine_cfg {
	const char *backend, *mmu;	/* NULL: the default */
	uint64_t mem;			/* guest RAM, bytes (whole MiB) */
	unsigned smp;			/* vcpus, >= 1 */
	const char *name;		/* the image's name, for messages */
	const void *img;		/* a multiboot or ELF64 kernel */
	size_t size;
	const char *append;		/* the kernel's command line, or NULL */
	const void *initrd;		/* the multiboot module, or NULL */
	size_t initrd_size;
	const char *initrd_str;		/* the module's string */
	/* Called once the VM exists, before its memory and vcpus: for a
	 * host program that watches a VM from the start (the canary driver
	 * tracks its MMU's roots). NULL: none. */
	void (*created)(void *opaque, struct hv_vm *vm);
	void *opaque;
};

enum machine_err {
	MACHINE_OK,
	MACHINE_EINPUT,		/* the image or configuration is bad: *err says why */
	MACHINE_ESETUP,		/* hvlab could not build the machine: *err says why */
};

/*
 * Build the machine in @v: the VM (v->vm), RAM, the vcpus (v->vcpu the
 * BSP; APs wait for STARTUP), the image placed and the boot state set,
 * the pc machine's devices added. @v's ram_size, ncpus, cmdline and
 * serial_out are set here (serial_out stays if the caller set it).
 * On failure one line in @err; machine_destroy() cleans up either way.
 */
enum machine_err machine_create(struct vmm *v, const struct machine_cfg *c, char *err,
				size_t errlen);
void machine_destroy(struct vmm *v);

/*
 * The device side of a vcpu exit: an HV_EXIT_IO or HV_EXIT_MMIO goes to
 * the device that decodes it (vmm/bus.c), the data of an IN or MMIO read
 * written back into @run. 0, or -1 for any other exit reason.
 */
int machine_device_exit(struct vmm *v, struct hv_run *run);

#endif
