/*
 * test_dev_bus.c — the VMM's I/O bus (vmm/bus.c): one target per
 * address, overlaps refused, and the PC bus's floating data lines for
 * accesses nobody decodes (reads all ones at the access width, writes
 * lost), counted; ticks with the VM clock and the earliest deadline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_dev_fakes.h"

static struct vmm v;

struct rec {
	struct vdev dev;
	uint16_t port;
	unsigned size;
	uint32_t val;
	gpa_t gpa;
	uint64_t now;
	uint64_t deadline;
	int destroyed_order;
};

static int destroy_seq;

static uint32_t rec_in(struct vdev *d, uint16_t port, unsigned size)
{
	struct rec *r = (struct rec *)d;
	r->port = port;
	r->size = size;
	return 0xa5a5a5a5u;	/* the bus must cut this to the access width */
}

static void rec_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
	struct rec *r = (struct rec *)d;
	r->port = port;
	r->size = size;
	r->val = val;
}

static uint64_t rec_mmio_read(struct vdev *d, gpa_t gpa, unsigned len)
{
	struct rec *r = (struct rec *)d;
	r->gpa = gpa;
	r->size = len;
	return 0x1122334455667788ull;
}

static void rec_tick(struct vdev *d, uint64_t now)
{
	((struct rec *)d)->now = now;
}

static uint64_t rec_deadline(struct vdev *d)
{
	return ((struct rec *)d)->deadline;
}

static void rec_destroy(struct vdev *d)
{
	((struct rec *)d)->destroyed_order = ++destroy_seq;
}

static void rec_init(struct rec *r, uint16_t port, uint16_t nports, gpa_t mmio, uint64_t len)
{
	memset(r, 0, sizeof(*r));
	r->dev.name = "rec";
	r->dev.port = port;
	r->dev.nports = nports;
	r->dev.mmio = mmio;
	r->dev.mmio_len = len;
	r->dev.pio_in = rec_in;
	r->dev.pio_out = rec_out;
	r->dev.mmio_read = rec_mmio_read;
	r->dev.tick = rec_tick;
	r->dev.next_deadline = rec_deadline;
	r->dev.destroy = rec_destroy;
	r->deadline = UINT64_MAX;
}

static int setup(void **state)
{
	fake_reset(&v);
	destroy_seq = 0;
	return 0;
}

static void overlapping_ports_refused(void **state)
{
	struct rec a, b, c;
	rec_init(&a, 0x3f8, 8, 0, 0);
	rec_init(&b, 0x3ff, 1, 0, 0);		/* a's last port */
	rec_init(&c, 0x400, 4, 0, 0);		/* just past a */
	assert_int_equal(vmm_add_dev(&v, &a.dev), 0);
	assert_int_equal(vmm_add_dev(&v, &b.dev), -EEXIST);
	assert_int_equal(vmm_add_dev(&v, &c.dev), 0);
	assert_int_equal(v.ndevs, 2);
	assert_ptr_equal(a.dev.vmm, &v);
}

static void overlapping_mmio_refused(void **state)
{
	struct rec a, b, c;
	rec_init(&a, 0, 0, 0xff000000, 0x10000);
	rec_init(&b, 0, 0, 0xfeff0000, 0x10001);	/* one byte into a */
	rec_init(&c, 0, 0, 0xff010000, 0x1000);
	assert_int_equal(vmm_add_dev(&v, &a.dev), 0);
	assert_int_equal(vmm_add_dev(&v, &b.dev), -EEXIST);
	assert_int_equal(vmm_add_dev(&v, &c.dev), 0);
}

static void same_device_twice_refused(void **state)
{
	struct rec a;
	rec_init(&a, 0, 0, 0, 0);	/* decodes nothing: no overlap to find */
	assert_int_equal(vmm_add_dev(&v, &a.dev), 0);
	assert_int_equal(vmm_add_dev(&v, &a.dev), -EEXIST);
}

static void wrapping_ranges_refused(void **state)
{
	struct rec a, b;
	rec_init(&a, 0xfffe, 4, 0, 0);
	rec_init(&b, 0, 0, 0xfffffffffffff000ull, 0x2000);
	assert_int_equal(vmm_add_dev(&v, &a.dev), -EINVAL);
	assert_int_equal(vmm_add_dev(&v, &b.dev), -EINVAL);
	assert_int_equal(vmm_add_dev(&v, NULL), -EINVAL);
}

static void table_full(void **state)
{
	static struct rec r[VMM_MAX_DEVS + 1];
	for (unsigned i = 0; i < VMM_MAX_DEVS; i++) {
		rec_init(&r[i], (uint16_t)(0x100 + 4 * i), 4, 0, 0);
		assert_int_equal(vmm_add_dev(&v, &r[i].dev), 0);
	}
	rec_init(&r[VMM_MAX_DEVS], 0x900, 4, 0, 0);
	assert_int_equal(vmm_add_dev(&v, &r[VMM_MAX_DEVS].dev), -ENOSPC);
}

static void routes_to_the_decoding_device(void **state)
{
	struct rec a, b;
	rec_init(&a, 0x3f8, 8, 0, 0);
	rec_init(&b, 0x70, 2, 0xfec00000, 0x1000);
	assert_int_equal(vmm_add_dev(&v, &a.dev), 0);
	assert_int_equal(vmm_add_dev(&v, &b.dev), 0);
	assert_int_equal(vmm_pio_in(&v, 0x3fd, 1), 0xa5);
	assert_int_equal(a.port, 0x3fd);
	assert_int_equal(a.size, 1);
	assert_int_equal(vmm_pio_in(&v, 0x71, 2), 0xa5a5);
	assert_int_equal(b.port, 0x71);
	vmm_pio_out(&v, 0x3f8, 1, 0x1241);
	assert_int_equal(a.val, 0x41);		/* an OUT of 1 byte carries 8 bits */
	assert_int_equal(vmm_mmio_read(&v, 0xfec00010, 4), 0x55667788u);
	assert_int_equal(b.gpa, 0xfec00010);
	assert_int_equal(v.unknown_pio_reads + v.unknown_pio_writes + v.unknown_mmio_reads, 0);
}

static void unknown_reads_float_high(void **state)
{
	assert_int_equal(vmm_pio_in(&v, 0x2f8, 1), 0xff);
	assert_int_equal(vmm_pio_in(&v, 0x2f8, 2), 0xffff);
	assert_int_equal(vmm_pio_in(&v, 0x2f8, 4), 0xffffffffu);
	assert_int_equal(v.unknown_pio_reads, 3);
	vmm_pio_out(&v, 0x2f8, 1, 0);
	assert_int_equal(v.unknown_pio_writes, 1);
	assert_true(vmm_mmio_read(&v, 0xe0000000, 8) == ~0ull);
	assert_int_equal(vmm_mmio_read(&v, 0xe0000000, 2), 0xffff);
	assert_int_equal(v.unknown_mmio_reads, 2);
	vmm_mmio_write(&v, 0xe0000000, 4, 0);
	assert_int_equal(v.unknown_mmio_writes, 1);
}

static void tick_uses_vm_clock_and_earliest_deadline(void **state)
{
	struct rec a, b;
	rec_init(&a, 0x40, 4, 0, 0);
	rec_init(&b, 0x70, 2, 0, 0);
	assert_int_equal(vmm_add_dev(&v, &a.dev), 0);
	assert_int_equal(vmm_add_dev(&v, &b.dev), 0);
	assert_true(vmm_tick(&v) == UINT64_MAX);
	fake_now_ns = 123456789;
	a.deadline = 5000000000ull;
	b.deadline = 200000000ull;
	assert_true(vmm_tick(&v) == 200000000ull);
	assert_true(a.now == 123456789 && b.now == 123456789);
}

static void destroy_in_reverse_order(void **state)
{
	struct rec a, b;
	rec_init(&a, 0x40, 4, 0, 0);
	rec_init(&b, 0x70, 2, 0, 0);
	assert_int_equal(vmm_add_dev(&v, &a.dev), 0);
	assert_int_equal(vmm_add_dev(&v, &b.dev), 0);
	vmm_destroy_devs(&v);
	assert_int_equal(b.destroyed_order, 1);
	assert_int_equal(a.destroyed_order, 2);
	assert_int_equal(v.ndevs, 0);
	assert_int_equal(vmm_pio_in(&v, 0x40, 1), 0xff);	/* gone from the bus */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(overlapping_ports_refused),
		T(overlapping_mmio_refused),
		T(same_device_twice_refused),
		T(wrapping_ranges_refused),
		T(table_full),
		T(routes_to_the_decoding_device),
		T(unknown_reads_float_high),
		T(tick_uses_vm_clock_and_earliest_deadline),
		T(destroy_in_reverse_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
