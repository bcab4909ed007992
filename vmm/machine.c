/*
 * machine.c — the pc machine (vmm/machine.h): a guest image loaded as
 * QEMU's -kernel loads it (multiboot when it has the header, else ELF64;
 * docs/loaders.md), RAM as the pc machine lays it out (vmm/boot.c), and
 * the devices of vmm/dev.h behind the I/O bus (vmm/bus.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmm/boot.h"
#include "vmm/loader.h"
#include "vmm/machine.h"

static int mem_write(void *opaque, gpa_t gpa, const void *src, size_t len)
{
	return hv_write_guest(opaque, gpa, src, len);
}

static int mem_zero(void *opaque, gpa_t gpa, size_t len)
{
	static const uint8_t zeros[4096];
	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
		int r = hv_write_guest(opaque, gpa, zeros, n);
		if (r)
			return r;
		gpa += n;
		len -= n;
	}
	return 0;
}

static int add_devices(struct vmm *v)
{
	int (*const make[])(struct vmm *, struct vdev **) = {
		debugexit_create, pit_create, cmos_create, fwcfg_create, pci_create,
		pmtimer_create, testdev_create, port80_create,
	};
	struct vdev *d;
	int r = serial_create(v, 0x3f8, 4, &d);
	if (!r)
		r = vmm_add_dev(v, d);
	for (size_t i = 0; !r && i < sizeof(make) / sizeof(make[0]); i++) {
		r = make[i](v, &d);
		if (!r)
			r = vmm_add_dev(v, d);
	}
	return r ? r : acpi_build(v);
}

static enum machine_err bad(char *err, size_t n, enum machine_err e, const char *msg)
{
	snprintf(err, n, "%s", msg);
	return e;
}

enum machine_err machine_create(struct vmm *v, const struct machine_cfg *c, char *err,
				size_t errlen)
{
	char lerr[LOADER_ERR_MAX];
	struct load_plan plan;
	struct hv_vm_config cfg = { .backend = c->backend, .mmu = c->mmu, .max_mem = c->mem };
	struct mb_args mba = { .append = c->append, .initrd = c->initrd,
			       .initrd_size = c->initrd_size, .initrd_str = c->initrd_str };
	const bool elf = c->size >= 4 && !memcmp(c->img, "\x7f" "ELF", 4);
	const bool mb = mb_has_header(c->img, c->size) || (!elf && mb_has_magic(c->img, c->size));

	v->ram_size = c->mem;
	v->ncpus = c->smp;
	if (!v->serial_out)
		v->serial_out = stdout;
	/* fw_cfg's command-line items: QEMU fills them for Linux kernels
	 * only; a multiboot kernel finds its command line in the multiboot
	 * information. */
	v->cmdline = mb ? NULL : c->append;
	if (!mb && c->initrd) {
		snprintf(err, errlen, "--initrd needs a multiboot kernel; '%s' is loaded as ELF64",
			 c->name);
		return MACHINE_EINPUT;
	}
	if (hv_vm_create(&cfg, &v->vm))
		return bad(err, errlen, MACHINE_EINPUT, hv_strerror());
	if (c->created)
		c->created(c->opaque, v->vm);
	/* QEMU reserves AMD's HyperTransport range for an AMD CPU with 40 or
	 * more physical address bits. The svm backend's processor is an
	 * AuthenticAMD with 46, the vmx backend's a GenuineIntel. */
	mba.amd_ht_hole = !strcmp(hv_vm_backend(v->vm), "svm");
	int r = mb ? mb_plan(c->img, c->size, c->name, &mba, c->mem, &plan, lerr, sizeof(lerr))
		   : elf64_plan(c->img, c->size, c->name, c->mem, &plan, lerr, sizeof(lerr));
	if (r)
		return bad(err, errlen, MACHINE_EINPUT, lerr);
	const struct guest_mem_ops ops = { .write = mem_write, .zero = mem_zero,
					   .ram_size = c->mem };
	if (boot_add_ram(v->vm, c->mem) || hv_vcpu_create(v->vm, 0, &v->vcpu))
		return bad(err, errlen, MACHINE_EINPUT, hv_strerror());
	/* The APs wait for their STARTUP IPI (hv_vcpu_create). */
	for (unsigned i = 1; i < c->smp; i++) {
		struct hv_vcpu *ap;
		if (hv_vcpu_create(v->vm, i, &ap))
			return bad(err, errlen, MACHINE_EINPUT, hv_strerror());
	}
	r = mb ? mb_place(&plan, c->img, c->size, c->name, &mba, &ops, v->vm, lerr, sizeof(lerr))
	       : loader_place(&plan, c->img, c->size, c->name, &ops, v->vm, lerr, sizeof(lerr));
	if (r)
		return bad(err, errlen, MACHINE_EINPUT, lerr);
	if (boot_set_state(v->vm, v->vcpu, &plan) || add_devices(v)) {
		snprintf(err, errlen, "cannot set up the machine: %s", hv_strerror());
		return MACHINE_ESETUP;
	}
	return MACHINE_OK;
}

void machine_destroy(struct vmm *v)
{
	vmm_destroy_devs(v);
	hv_vm_destroy(v->vm);
	v->vm = NULL;
	v->vcpu = NULL;
}

int machine_device_exit(struct vmm *v, struct hv_run *run)
{
	switch (run->exit_reason) {
	case HV_EXIT_IO:
		if (run->io.direction == HV_EXIT_IO_IN) {
			uint32_t val = vmm_pio_in(v, run->io.port, run->io.size);
			memcpy(run->io.data, &val, run->io.size);
		} else {
			uint32_t val = 0;
			memcpy(&val, run->io.data, run->io.size);
			vmm_pio_out(v, run->io.port, run->io.size, val);
		}
		return 0;
	case HV_EXIT_MMIO:
		if (run->mmio.is_write) {
			uint64_t val = 0;
			memcpy(&val, run->mmio.data, run->mmio.len);
			vmm_mmio_write(v, run->mmio.phys_addr, run->mmio.len, val);
		} else {
			uint64_t val = vmm_mmio_read(v, run->mmio.phys_addr, run->mmio.len);
			memcpy(run->mmio.data, &val, run->mmio.len);
		}
		return 0;
	default:
		return -1;
	}
}
