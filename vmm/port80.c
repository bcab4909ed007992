/*
 * port80.c — port 0x80, the PC's POST-code port. Firmware writes progress
 * codes there for a diagnostic card, and Linux's outb_p() writes to it
 * just to spend an I/O cycle (arch/x86 io_delay). Nothing on the PC reads
 * it back.
 *
 * As QEMU's pc machine (hw/i386/pc.c "ioport80"): one port, writes of any
 * width ignored, reads return all ones. The device exists so these
 * accesses are decoded rather than counted among the unknown ones in
 * struct vmm: a Linux guest makes thousands of them.
 */
#include <errno.h>
#include <stdlib.h>

#include "vmm/dev.h"

#define PORT80_PORT 0x80

static uint32_t port80_in(struct vdev *d, uint16_t port, unsigned size)
{
	return 0xffffffffu;
}

static void port80_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
}

static void port80_destroy(struct vdev *d)
{
	free(d);
}

int port80_create(struct vmm *v, struct vdev **out)
{
	struct vdev *d;
	if (!v || !out)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->name = "port80";
	d->port = PORT80_PORT;
	d->nports = 1;
	d->pio_in = port80_in;
	d->pio_out = port80_out;
	d->destroy = port80_destroy;
	d->vmm = v;
	*out = d;
	return 0;
}
