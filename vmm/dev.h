/*
 * dev.h — the VMM's device models and the bus that routes the guest's
 * port I/O and MMIO exits (HV_EXIT_IO, HV_EXIT_MMIO) to them.
 *
 * The devices are the ones QEMU's pc machine gives a `-kernel` guest,
 * so test kernels written for QEMU run unchanged (docs/devices.md):
 * 16550 UART (0x3f8), isa-debug-exit (0xf4), PIT (0x40-0x43, 0x61),
 * CMOS/RTC (0x70-0x71), fw_cfg (0x510-0x511), PCI configuration
 * (0xcf8-0xcff), ACPI PM timer (0x608) with tables in guest RAM,
 * pc-testdev (0xe0-0xe3, MMIO at 0xff000000) and port 0x80. Interrupt
 * controllers are not here: they live in hvlab (core/irq), reached with
 * hv_irq_line().
 *
 * Devices know the VM only through the public API (include/hvlab/hv.h).
 * Time is the VM's virtual clock, hv_clock_ns(): devices never read the
 * host's, so runs repeat exactly.
 */
#ifndef HVLAB_VMM_DEV_H
#define HVLAB_VMM_DEV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hvlab/hv.h"

struct vmm;

struct vdev {
	const char *name;
	uint16_t port;		/* first port it decodes */
	uint16_t nports;	/* 0: no ports */
	gpa_t mmio;		/* first MMIO byte it decodes */
	uint64_t mmio_len;	/* 0: no MMIO */
	/* @size is 1, 2 or 4; an IN returns the value zero-extended. */
	uint32_t (*pio_in)(struct vdev *d, uint16_t port, unsigned size);
	void (*pio_out)(struct vdev *d, uint16_t port, unsigned size, uint32_t val);
	/* @len is 1, 2, 4 or 8 */
	uint64_t (*mmio_read)(struct vdev *d, gpa_t gpa, unsigned len);
	void (*mmio_write)(struct vdev *d, gpa_t gpa, unsigned len, uint64_t val);
	/* Virtual time moved to @now_ns: raise what is due. Optional. */
	void (*tick)(struct vdev *d, uint64_t now_ns);
	/* When tick() next has something to do, or UINT64_MAX. Optional. */
	uint64_t (*next_deadline)(struct vdev *d);
	void (*destroy)(struct vdev *d);
	struct vmm *vmm;
};

#define VMM_MAX_DEVS 16

/* The machine `hvlab run` builds: the VM, its vcpu and the devices. */
struct vmm {
	struct hv_vm *vm;
	struct hv_vcpu *vcpu;
	uint64_t ram_size;		/* as loader_ram_contains() lays it out */
	unsigned ncpus;
	const char *cmdline;		/* fw_cfg's command line, or NULL: no
					 * command-line items */
	FILE *serial_out;		/* where COM1's output goes (stdout) */
	struct vdev *devs[VMM_MAX_DEVS];
	unsigned ndevs;
	/* isa-debug-exit: the guest asked to end the run. */
	bool exit_requested;
	int exit_status;
	/* Accesses no device decoded (reads return all ones). */
	uint64_t unknown_pio_reads, unknown_pio_writes;
	uint64_t unknown_mmio_reads, unknown_mmio_writes;
};

/* Register a device (0, or -ENOSPC/-EEXIST on a clash with another's
 * ports or MMIO). */
int vmm_add_dev(struct vmm *v, struct vdev *d);
void vmm_destroy_devs(struct vmm *v);

/* Route an access. Unknown ports and addresses read all ones and ignore
 * writes, counted in struct vmm. */
uint32_t vmm_pio_in(struct vmm *v, uint16_t port, unsigned size);
void vmm_pio_out(struct vmm *v, uint16_t port, unsigned size, uint32_t val);
uint64_t vmm_mmio_read(struct vmm *v, gpa_t gpa, unsigned len);
void vmm_mmio_write(struct vmm *v, gpa_t gpa, unsigned len, uint64_t val);

/* Tick every device with the VM's clock; the earliest next deadline. */
uint64_t vmm_tick(struct vmm *v);

/* The devices of the pc machine, each creating its struct vdev (0 or
 * -errno). Their files say which manual they follow. */
int serial_create(struct vmm *v, uint16_t port, unsigned irq, struct vdev **out);
int debugexit_create(struct vmm *v, struct vdev **out);
int pit_create(struct vmm *v, struct vdev **out);
int cmos_create(struct vmm *v, struct vdev **out);
int fwcfg_create(struct vmm *v, struct vdev **out);
int pci_create(struct vmm *v, struct vdev **out);
int pmtimer_create(struct vmm *v, struct vdev **out);
int testdev_create(struct vmm *v, struct vdev **out);
int port80_create(struct vmm *v, struct vdev **out);
/* Write the ACPI tables (RSDP at 0xe0000-0xfffff, RSDT, XSDT, FADT with
 * the PM timer at 0x608, MADT) into guest RAM. */
int acpi_build(struct vmm *v);

#endif
