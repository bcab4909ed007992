/*
 * test_core_mem.c — guest-physical memory through the public API, on
 * every backend: hv_set_memory_region (add, overlap, move, delete, flags,
 * max_mem), hv_read_guest/hv_write_guest across slot boundaries, and what
 * the guest sees after each change (KVM_SET_USER_MEMORY_REGION's
 * contract as hv.h states it: a moved slot keeps its contents and its old
 * addresses become MMIO; a read-only slot's guest writes exit as MMIO).
 *
 * Guests run in 32-bit protected mode with paging off (SDM Vol. 3A 3.2:
 * linear = physical), so every access below goes straight to the gpa
 * the test names. Instruction encodings: SDM Vol. 2 (MOV C7 /0 with
 * ModRM 05 = [disp32] in 32-bit mode, MOV A1 moffs32, OUT E7 ib).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hvlab/hv.h"
#include "tests/unit/support/hvguest.h"

#define SLOT1 (4 * HVG_MiB)	/* slot 1: 16 pages at 4 MiB */
#define SLOT1_SIZE 0x10000ull
#define PORT 0x84

struct code {
	uint8_t b[512];
	size_t n;
};

static void emit(struct code *c, const void *p, size_t n)
{
	assert_true(c->n + n <= sizeof(c->b));
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

static void emit32(struct code *c, uint32_t v)
{
	emit(c, &v, 4);
}

/* mov dword [addr], imm */
static void st32(struct code *c, uint32_t addr, uint32_t imm)
{
	emit(c, "\xc7\x05", 2);
	emit32(c, addr);
	emit32(c, imm);
}

/* mov eax, [addr]; out PORT, eax */
static void ld32_out(struct code *c, uint32_t addr)
{
	emit(c, "\xa1", 1);
	emit32(c, addr);
	emit(c, "\xe7" "\x84", 2);
}

static void hlt(struct code *c)
{
	emit(c, "\xf4", 1);
}

/* Load @c at HVG_CODE and start there in protected mode. */
static void start(struct hvg *g, const struct code *c)
{
	hvg_load(g, HVG_CODE, c->b, c->n);
	hvg_enter_protected(g, HVG_CODE);
}

static void add(struct hvg *g, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size)
{
	const struct hv_memory_region mr = { .slot = slot, .flags = flags, .gpa = gpa,
					     .size = size };
	const int r = hv_set_memory_region(g->vm, &mr);
	if (r)
		fail_msg("%s: slot %u [%#llx, +%#llx): %d (%s)", g->backend, slot,
			 (unsigned long long)gpa, (unsigned long long)size, r, hv_strerror());
}

static int set(struct hvg *g, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size)
{
	const struct hv_memory_region mr = { .slot = slot, .flags = flags, .gpa = gpa,
					     .size = size };
	return hv_set_memory_region(g->vm, &mr);
}

/* A new region reads as zeros; deleted, it is gone (-EFAULT) and its
 * slot number free again, and a region added there is zero-filled anew. */
static void test_region_add_delete(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		uint8_t buf[64], zero[64] = { 0 };
		hvg_create(&g, name);
		add(&g, 1, 0, SLOT1, SLOT1_SIZE);
		assert_int_equal(hv_read_guest(g.vm, SLOT1 + SLOT1_SIZE - 64, buf, 64), 0);
		assert_memory_equal(buf, zero, 64);
		memset(buf, 0x5a, sizeof(buf));
		hvg_load(&g, SLOT1 + 0x100, buf, 64);
		assert_int_equal(set(&g, 1, 0, SLOT1, 0), 0);
		assert_int_equal(hv_read_guest(g.vm, SLOT1 + 0x100, buf, 4), -EFAULT);
		hvg_assert_one_line();
		assert_int_equal(set(&g, 1, 0, SLOT1, 0), -EINVAL);
		add(&g, 1, 0, SLOT1, SLOT1_SIZE);
		assert_int_equal(hv_read_guest(g.vm, SLOT1 + 0x100, buf, 64), 0);
		assert_memory_equal(buf, zero, 64);
		hvg_destroy(&g);
	}
}

/* Regions may touch but not overlap, whichever end (-EEXIST); a refused
 * move leaves the slot where it was. */
static void test_region_overlap(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);		/* slot 0: [0, 2 MiB) */
		assert_int_equal(set(&g, 1, 0, HVG_RAM - 0x1000, 0x2000), -EEXIST);
		hvg_assert_one_line();
		assert_int_equal(set(&g, 1, 0, 0x1000, 0x1000), -EEXIST);
		assert_int_equal(set(&g, 1, 0, 0, HVG_RAM), -EEXIST);
		assert_int_equal(set(&g, 1, 0, 0, 2 * HVG_RAM), -EEXIST);
		add(&g, 1, 0, HVG_RAM, 0x1000);		/* adjacent: fine */
		hvg_put32(&g, HVG_RAM, 0xfeedf00d);
		assert_int_equal(set(&g, 1, 0, HVG_RAM - 0x1000, 0x1000), -EEXIST);
		assert_int_equal(hvg_get32(&g, HVG_RAM), 0xfeedf00d);
		add(&g, 2, 0, SLOT1, 0x1000);
		assert_int_equal(set(&g, 2, 0, HVG_RAM, 0x1000), -EEXIST);
		assert_int_equal(hvg_get32(&g, HVG_RAM), 0xfeedf00d);
		hvg_destroy(&g);
	}
}

/* A move keeps the contents at the new gpa; the old gpa has no memory
 * any more (-EFAULT for the VMM, MMIO for the guest), even though the
 * guest read it before the move. */
static void test_region_move(void **state)
{
	const uint32_t off = 0x3000, moved = 8 * HVG_MiB;
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		struct code c = { .n = 0 };
		hvg_create(&g, name);
		add(&g, 1, 0, SLOT1, SLOT1_SIZE);
		hvg_put32(&g, SLOT1 + off, 0x11223344);
		ld32_out(&c, SLOT1 + off);		/* before the move */
		ld32_out(&c, SLOT1 + off);		/* after: MMIO */
		ld32_out(&c, moved + off);		/* after: the contents */
		hlt(&c);
		start(&g, &c);
		hvg_expect_io(&g, PORT, HV_EXIT_IO_OUT, 4, 0x11223344);

		assert_int_equal(set(&g, 1, 0, moved, SLOT1_SIZE), 0);
		assert_int_equal(hvg_get32(&g, moved + off), 0x11223344);
		uint32_t v;
		assert_int_equal(hv_read_guest(g.vm, SLOT1 + off, &v, 4), -EFAULT);

		hvg_expect_mmio_read(&g, SLOT1 + off, 4, 0xa5a5a5a5);
		hvg_expect_io(&g, PORT, HV_EXIT_IO_OUT, 4, 0xa5a5a5a5);
		hvg_expect_io(&g, PORT, HV_EXIT_IO_OUT, 4, 0x11223344);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		hvg_destroy(&g);
	}
}

/* Flags change in place: a slot the guest has written becomes read-only;
 * the next guest write exits as an MMIO write with its data and leaves
 * the memory as it was; reads still see the memory without an exit. */
static void test_region_readonly(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		struct code c = { .n = 0 };
		hvg_create(&g, name);
		add(&g, 1, 0, SLOT1, SLOT1_SIZE);
		st32(&c, SLOT1 + 0x10, 0x01020304);	/* writable yet */
		emit(&c, "\xe6\x80", 2);		/* out 80h,al: a stop */
		st32(&c, SLOT1 + 0x10, 0xdeadbeef);	/* read-only now */
		ld32_out(&c, SLOT1 + 0x10);
		hlt(&c);
		start(&g, &c);
		assert_int_equal(hvg_run(&g), HV_EXIT_IO);
		assert_int_equal(hvg_get32(&g, SLOT1 + 0x10), 0x01020304);

		assert_int_equal(set(&g, 1, HV_MEM_READONLY, SLOT1, SLOT1_SIZE), 0);
		hvg_expect_mmio_write(&g, SLOT1 + 0x10, 4, 0xdeadbeef);
		hvg_expect_io(&g, PORT, HV_EXIT_IO_OUT, 4, 0x01020304);
		assert_int_equal(hvg_get32(&g, SLOT1 + 0x10), 0x01020304);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		hvg_destroy(&g);
	}
}

/* A slot cannot change size in place (-EINVAL) and stays as it was. */
static void test_region_resize_refused(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		add(&g, 1, 0, SLOT1, SLOT1_SIZE);
		hvg_put32(&g, SLOT1 + SLOT1_SIZE - 4, 77);
		assert_int_equal(set(&g, 1, 0, SLOT1, 2 * SLOT1_SIZE), -EINVAL);
		hvg_assert_one_line();
		assert_int_equal(hvg_get32(&g, SLOT1 + SLOT1_SIZE - 4), 77);
		uint32_t v;
		assert_int_equal(hv_read_guest(g.vm, SLOT1 + SLOT1_SIZE, &v, 4), -EFAULT);
		hvg_destroy(&g);
	}
}

/* max_mem bounds all regions together: exactly max_mem fits, one page
 * more does not; deleting makes room again. */
static void test_region_max_mem(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g = { .backend = name };
		const struct hv_vm_config cfg = { .backend = name, .max_mem = 8 * HVG_MiB };
		assert_int_equal(hv_vm_create(&cfg, &g.vm), 0);
		hvg_adopt(&g);
		assert_true(set(&g, 0, 0, 0, 16 * HVG_MiB) < 0);	/* alone too big */
		hvg_assert_one_line();
		add(&g, 0, 0, 0, 6 * HVG_MiB);
		add(&g, 1, 0, 16 * HVG_MiB, 2 * HVG_MiB);
		assert_true(set(&g, 2, 0, 32 * HVG_MiB, 0x1000) < 0);
		hvg_assert_one_line();
		assert_int_equal(set(&g, 1, 0, 16 * HVG_MiB, 0), 0);
		add(&g, 2, 0, 32 * HVG_MiB, 0x1000);
		hvg_destroy(&g);
	}
}

/* hv_write_guest/hv_read_guest cross from one slot into the next; a range
 * that runs into a hole is -EFAULT and writes nothing. */
static void test_copy_across_slots(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		uint8_t in[32], out[32];
		hvg_create(&g, name);			/* [0, 2 MiB) */
		add(&g, 1, 0, HVG_RAM, 0x1000);		/* [2 MiB, +4 KiB): next to it */
		for (unsigned k = 0; k < sizeof(in); k++)
			in[k] = (uint8_t)(k * 7 + 1);
		hvg_load(&g, HVG_RAM - 16, in, 32);
		assert_int_equal(hv_read_guest(g.vm, HVG_RAM - 16, out, 32), 0);
		assert_memory_equal(in, out, 32);
		assert_int_equal(hv_read_guest(g.vm, HVG_RAM, out, 16), 0);
		assert_memory_equal(in + 16, out, 16);

		/* [2 MiB + 4 KiB - 8, +16) runs past slot 1 into nothing. */
		const uint64_t edge = HVG_RAM + 0x1000 - 8;
		assert_int_equal(hv_write_guest(g.vm, edge, in, 16), -EFAULT);
		hvg_assert_one_line();
		assert_int_equal(hv_read_guest(g.vm, edge, out, 16), -EFAULT);
		assert_int_equal(hv_read_guest(g.vm, edge, out, 8), 0);
		static const uint8_t zero[8];
		if (memcmp(out, zero, 8))
			fail_msg("%s: a refused hv_write_guest (-EFAULT) wrote its first part",
				 name);
		hvg_destroy(&g);
	}
}

/* hv_write_guest drops what the processor cached from the page: code the
 * guest has run once runs as rewritten.
 *   again: mov al,imm8; out 80h,al; jmp again */
static void test_write_guest_new_code(void **state)
{
	static const uint8_t code[] = { 0xb0, 0x01, 0xe6, 0x80, 0xeb, 0xfa };
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		hvg_load(&g, HVG_CODE, code, sizeof(code));
		hvg_enter_protected(&g, HVG_CODE);
		hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 1);
		hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 1);
		const uint8_t two = 2;
		hvg_load(&g, HVG_CODE + 1, &two, 1);
		hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 2);
		hvg_destroy(&g);
	}
}

static void dirty_log(struct hvg *g, uint32_t slot, uint8_t bm[2])
{
	const int r = hv_get_dirty_log(g->vm, slot, bm, 2);
	if (r)
		fail_msg("%s: hv_get_dirty_log: %d (%s)", g->backend, r, hv_strerror());
}

/* The dirty log holds exactly the pages written since the last call, by
 * the guest or by hv_write_guest; reading does not dirty a page. */
static void test_dirty_log(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		struct code c = { .n = 0 };
		uint8_t bm[2];
		hvg_create(&g, name);
		add(&g, 1, HV_MEM_LOG_DIRTY_PAGES, SLOT1, SLOT1_SIZE);	/* 16 pages */
		st32(&c, SLOT1 + 0x0000, 1);		/* page 0 */
		st32(&c, SLOT1 + 0x3ffc, 2);		/* page 3, last dword */
		st32(&c, SLOT1 + 0x7800, 3);		/* page 7 */
		st32(&c, SLOT1 + 0x3000, 4);		/* page 3 again */
		st32(&c, SLOT1 + 0xf000, 5);		/* page 15 */
		ld32_out(&c, SLOT1 + 0x5000);		/* page 5: read only */
		st32(&c, SLOT1 + 0x3000, 6);		/* second round: page 3 */
		st32(&c, SLOT1 + 0x9000, 7);		/* page 9 */
		hlt(&c);
		start(&g, &c);
		assert_int_equal(hv_get_dirty_log(g.vm, 1, bm, 1), -EINVAL);	/* needs 2 */
		hvg_expect_io(&g, PORT, HV_EXIT_IO_OUT, 4, 0);

		dirty_log(&g, 1, bm);
		assert_int_equal(bm[0], 0x89);		/* pages 0, 3, 7 */
		assert_int_equal(bm[1], 0x80);		/* page 15 */
		dirty_log(&g, 1, bm);
		assert_int_equal(bm[0] | bm[1], 0);

		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		hvg_put32(&g, SLOT1 + 0xc000, 8);	/* page 12, by the VMM */
		dirty_log(&g, 1, bm);
		assert_int_equal(bm[0], 0x08);		/* page 3 */
		assert_int_equal(bm[1], 0x12);		/* pages 9, 12 */
		assert_int_equal(hvg_get32(&g, SLOT1 + 0x3000), 6);
		assert_int_equal(hvg_get32(&g, SLOT1 + 0x3ffc), 2);
		hvg_destroy(&g);
	}
}

/* Logging switched on by a flags change: a page the guest could write
 * freely before is caught from then on. */
static void test_dirty_log_enabled_later(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		struct code c = { .n = 0 };
		uint8_t bm[2];
		hvg_create(&g, name);
		add(&g, 1, 0, SLOT1, SLOT1_SIZE);
		st32(&c, SLOT1 + 0x2000, 1);		/* page 2, no log yet */
		emit(&c, "\xe6\x80", 2);		/* out 80h,al */
		st32(&c, SLOT1 + 0x2004, 2);		/* page 2 again, logged */
		hlt(&c);
		start(&g, &c);
		assert_int_equal(hvg_run(&g), HV_EXIT_IO);
		assert_int_equal(set(&g, 1, HV_MEM_LOG_DIRTY_PAGES, SLOT1, SLOT1_SIZE), 0);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		dirty_log(&g, 1, bm);
		assert_int_equal(bm[0], 0x04);
		assert_int_equal(bm[1], 0);
		hvg_destroy(&g);
	}
}

#define T(fn) cmocka_unit_test_teardown(fn, hvg_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_region_add_delete),
		T(test_region_overlap),
		T(test_region_move),
		T(test_region_readonly),
		T(test_region_resize_refused),
		T(test_region_max_mem),
		T(test_copy_across_slots),
		T(test_write_guest_new_code),
		T(test_dirty_log),
		T(test_dirty_log_enabled_later),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
