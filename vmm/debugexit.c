/*
 * debugexit.c — QEMU's isa-debug-exit device as `-device
 * isa-debug-exit,iobase=0xf4,iosize=4` configures it: a guest ends the
 * run by writing to it, and the run's exit status says what it wrote.
 *
 * Semantics (QEMU hw/misc/debugexit.c, read for behaviour, not copied):
 * a write of value V, of any width 1-4 to any of the iosize ports, ends
 * the machine with status (V << 1) | 1 — odd, so a guest can never fake
 * QEMU's own clean exit 0. A read returns 0: QEMU's read handler returns
 * 0, and guests (e.g. Xen's PVH boot code) probe for the device by
 * checking exactly that, so all ones would break them.
 *
 * The status is computed in 32-bit unsigned arithmetic and converted to
 * int, as QEMU's exit() argument is; the process exit status the shell
 * sees is its low 8 bits either way.
 */
#include <errno.h>
#include <stdlib.h>

#include "vmm/dev.h"

#define DEBUGEXIT_PORT 0xf4
#define DEBUGEXIT_NPORTS 4

static uint32_t debugexit_in(struct vdev *d, uint16_t port, unsigned size)
{
	return 0;
}

static void debugexit_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
	struct vmm *v = d->vmm;
	v->exit_requested = true;
	v->exit_status = (int)((val << 1) | 1u);
}

static void debugexit_destroy(struct vdev *d)
{
	free(d);
}

int debugexit_create(struct vmm *v, struct vdev **out)
{
	struct vdev *d;
	if (!v || !out)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->name = "isa-debug-exit";
	d->port = DEBUGEXIT_PORT;
	d->nports = DEBUGEXIT_NPORTS;
	d->pio_in = debugexit_in;
	d->pio_out = debugexit_out;
	d->destroy = debugexit_destroy;
	d->vmm = v;
	*out = d;
	return 0;
}
