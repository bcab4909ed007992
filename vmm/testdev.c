/*
 * testdev.c — QEMU's pc-testdev (hw/misc/pc-testdev.c, QEMU 7.2; read for
 * behaviour, not copied), the device kvm-unit-tests use to check a
 * hypervisor's I/O and MMIO emulation.
 *
 * What QEMU's device does, and what is modelled here:
 *   0xe0-0xe3   a 32-bit latch, accessed by byte lane: an access of n
 *               bytes at port 0xe0+k covers latch bytes k..k+n-1 (bytes
 *               past byte 3 are dropped). Reads return what was written.
 *   0xe4-0xe7   "flush page": QEMU drops its host mapping of the written
 *               guest page to exercise KVM's MMU notifiers; reads return
 *               0. The guest sees no effect, and hvlab has no host
 *               mapping to drop, so writes are accepted and do nothing.
 *   0xe8-0xeb   the same latch, which QEMU splits into byte accesses:
 *               the guest-visible result is identical to 0xe0-0xe3.
 *   0xff000000  64 KiB of memory, readable and writable at any width,
 *               zero at reset (little-endian, as the guest's own RAM).
 * Not modelled: QEMU's IRQ ports 0x2000-0x2017 (a byte write raises or
 * lowers ISA IRQ port-0x2000). struct vdev decodes one port range, and
 * it is far from 0xe0: it needs a device of its own (docs/devices.md).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "vmm/dev.h"

#define TESTDEV_PORT 0xe0
#define TESTDEV_NPORTS 12
#define TESTDEV_FLUSH 0xe4
#define TESTDEV_MMIO 0xff000000ull
#define TESTDEV_MMIO_LEN 0x10000u

struct testdev {
	struct vdev dev;
	uint32_t latch;
	uint8_t mem[TESTDEV_MMIO_LEN];
};

static struct testdev *to_testdev(struct vdev *d)
{
	return (struct testdev *)((char *)d - offsetof(struct testdev, dev));
}

static bool is_flush_port(uint16_t port)
{
	return port >= TESTDEV_FLUSH && port < TESTDEV_FLUSH + 4;
}

/* The latch bits an access of @size bytes at @port covers. */
static uint32_t lane_mask(uint16_t port, unsigned size)
{
	uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	return ones << (8 * (port & 3));
}

static uint32_t testdev_in(struct vdev *d, uint16_t port, unsigned size)
{
	struct testdev *t = to_testdev(d);
	if (is_flush_port(port))
		return 0;
	return (t->latch & lane_mask(port, size)) >> (8 * (port & 3));
}

static void testdev_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
	struct testdev *t = to_testdev(d);
	uint32_t mask;
	if (is_flush_port(port))
		return;
	mask = lane_mask(port, size);
	t->latch = (t->latch & ~mask) | ((val << (8 * (port & 3))) & mask);
}

/* Bytes past the end of the buffer read as 0 and are not written. */
static uint64_t testdev_mmio_read(struct vdev *d, gpa_t gpa, unsigned len)
{
	struct testdev *t = to_testdev(d);
	uint64_t off = gpa - TESTDEV_MMIO, val = 0;
	for (unsigned i = 0; i < len && off + i < TESTDEV_MMIO_LEN; i++)
		val |= (uint64_t)t->mem[off + i] << (8 * i);
	return val;
}

static void testdev_mmio_write(struct vdev *d, gpa_t gpa, unsigned len, uint64_t val)
{
	struct testdev *t = to_testdev(d);
	uint64_t off = gpa - TESTDEV_MMIO;
	for (unsigned i = 0; i < len && off + i < TESTDEV_MMIO_LEN; i++)
		t->mem[off + i] = (uint8_t)(val >> (8 * i));
}

static void testdev_destroy(struct vdev *d)
{
	free(to_testdev(d));
}

int testdev_create(struct vmm *v, struct vdev **out)
{
	struct testdev *t;
	if (!v || !out)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->dev.name = "pc-testdev";
	t->dev.port = TESTDEV_PORT;
	t->dev.nports = TESTDEV_NPORTS;
	t->dev.mmio = TESTDEV_MMIO;
	t->dev.mmio_len = TESTDEV_MMIO_LEN;
	t->dev.pio_in = testdev_in;
	t->dev.pio_out = testdev_out;
	t->dev.mmio_read = testdev_mmio_read;
	t->dev.mmio_write = testdev_mmio_write;
	t->dev.destroy = testdev_destroy;
	t->dev.vmm = v;
	*out = &t->dev;
	return 0;
}
