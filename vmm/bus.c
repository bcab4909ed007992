/*
 * bus.c — the VMM's I/O bus: routes the guest's port I/O and MMIO exits
 * to the device that decodes the address (vmm/dev.h).
 *
 * Decoding follows the PC's ISA/PCI rule that one address has at most one
 * target: vmm_add_dev() refuses a device whose ports or MMIO range
 * overlap another's, so the lookup is a plain scan (a pc machine has a
 * dozen devices; a table would buy nothing). An access nobody decodes
 * behaves as on the PC's bus with nobody driving the data lines: reads
 * float to all ones, writes vanish. Those are counted in struct vmm so a
 * run can say what the guest poked at that hvlab does not model.
 *
 * Time: devices are ticked with the VM's virtual clock (hv_clock_ns), so
 * interrupts arrive at the same instruction on every run.
 */
#include <errno.h>

#include "vmm/dev.h"

static uint32_t pio_ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static uint64_t mmio_ones(unsigned len)
{
	return len >= 8 ? ~0ull : (1ull << (8 * len)) - 1;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

int vmm_add_dev(struct vmm *v, struct vdev *d)
{
	if (!v || !d)
		return -EINVAL;
	/* A range that wraps would decode addresses below its start. */
	if ((uint32_t)d->port + d->nports > 0x10000u)
		return -EINVAL;
	if (d->mmio_len && d->mmio + d->mmio_len - 1 < d->mmio)
		return -EINVAL;
	for (unsigned i = 0; i < v->ndevs; i++) {
		struct vdev *o = v->devs[i];
		if (o == d || ranges_overlap(o->port, o->nports, d->port, d->nports) ||
		    ranges_overlap(o->mmio, o->mmio_len, d->mmio, d->mmio_len))
			return -EEXIST;
	}
	if (v->ndevs == VMM_MAX_DEVS)
		return -ENOSPC;
	d->vmm = v;
	v->devs[v->ndevs++] = d;
	return 0;
}

/* In reverse order of registration, as teardown goes. */
void vmm_destroy_devs(struct vmm *v)
{
	if (!v)
		return;
	while (v->ndevs) {
		struct vdev *d = v->devs[--v->ndevs];
		v->devs[v->ndevs] = NULL;
		if (d->destroy)
			d->destroy(d);
	}
}

static struct vdev *find_port(struct vmm *v, uint16_t port)
{
	for (unsigned i = 0; i < v->ndevs; i++) {
		struct vdev *d = v->devs[i];
		if (port >= d->port && port - d->port < d->nports)
			return d;
	}
	return NULL;
}

static struct vdev *find_mmio(struct vmm *v, gpa_t gpa)
{
	for (unsigned i = 0; i < v->ndevs; i++) {
		struct vdev *d = v->devs[i];
		if (d->mmio_len && gpa >= d->mmio && gpa - d->mmio < d->mmio_len)
			return d;
	}
	return NULL;
}

static bool pio_size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4;
}

static bool mmio_len_ok(unsigned len)
{
	return len == 1 || len == 2 || len == 4 || len == 8;
}

uint32_t vmm_pio_in(struct vmm *v, uint16_t port, unsigned size)
{
	struct vdev *d = find_port(v, port);
	if (d && d->pio_in && pio_size_ok(size))
		return d->pio_in(d, port, size) & pio_ones(size);
	v->unknown_pio_reads++;
	return pio_ones(size);
}

void vmm_pio_out(struct vmm *v, uint16_t port, unsigned size, uint32_t val)
{
	struct vdev *d = find_port(v, port);
	if (d && d->pio_out && pio_size_ok(size)) {
		d->pio_out(d, port, size, val & pio_ones(size));
		return;
	}
	v->unknown_pio_writes++;
}

uint64_t vmm_mmio_read(struct vmm *v, gpa_t gpa, unsigned len)
{
	struct vdev *d = find_mmio(v, gpa);
	if (d && d->mmio_read && mmio_len_ok(len))
		return d->mmio_read(d, gpa, len) & mmio_ones(len);
	v->unknown_mmio_reads++;
	return mmio_ones(len);
}

void vmm_mmio_write(struct vmm *v, gpa_t gpa, unsigned len, uint64_t val)
{
	struct vdev *d = find_mmio(v, gpa);
	if (d && d->mmio_write && mmio_len_ok(len)) {
		d->mmio_write(d, gpa, len, val & mmio_ones(len));
		return;
	}
	v->unknown_mmio_writes++;
}

uint64_t vmm_tick(struct vmm *v)
{
	uint64_t now = hv_clock_ns(v->vm), next = UINT64_MAX;
	for (unsigned i = 0; i < v->ndevs; i++) {
		struct vdev *d = v->devs[i];
		if (d->tick)
			d->tick(d, now);
	}
	for (unsigned i = 0; i < v->ndevs; i++) {
		struct vdev *d = v->devs[i];
		if (d->next_deadline) {
			uint64_t t = d->next_deadline(d);
			if (t < next)
				next = t;
		}
	}
	return next;
}
