/*
 * test_sys_deliver.h — what the event-delivery tests share
 * (test_sys_deliver.c: frames in every mode; test_sys_deliver_faults.c:
 * the faults delivery raises, round trips, the IRET op, DR7.GD): gate
 * builders, frame checks and the SDM constants, written from the manual.
 */
#ifndef HVLAB_TESTS_UNIT_TEST_SYS_DELIVER_H
#define HVLAB_TESTS_UNIT_TEST_SYS_DELIVER_H
#include <string.h>

#include "tests/unit/support/fake_cpu.h"

#define IDT 0x3000u		/* fake_cpu's IDTR base */

/* VMX interruption types (SDM Vol. 3C 25.8.3). */
enum { T_EXT = 0, T_NMI = 2, T_HW = 3, T_SOFT = 4, T_PRIV = 5, T_SOFTEXC = 6 };

/* Gate types (SDM Vol. 3A Table 3-2). */
enum { TASK = 5, INT16 = 6, TRAP16 = 7, INT32 = 14, TRAP32 = 15 };

/* EFLAGS bits (SDM Vol. 1 3.4.3). */
#define F_FIXED 0x2u
#define F_CF 0x1u
#define F_TF 0x100u
#define F_IF 0x200u
#define F_OF 0x800u
#define F_IOPL3 0x3000u
#define F_NT 0x4000u
#define F_RF 0x10000u
#define F_VM 0x20000u
#define F_AC 0x40000u

#define SEL_F2 (SEL_FREE + 8)

static inline void gate(unsigned vec, uint16_t sel, uint32_t off, unsigned type, unsigned dpl)
{
	fake_w32(IDT + vec * 8, ((uint32_t)sel << 16) | (off & 0xffff));
	fake_w32(IDT + vec * 8 + 4, (off & 0xffff0000u) | 0x8000 | (dpl << 13) | (type << 8));
}

static inline void gate64(unsigned vec, uint16_t sel, uint64_t off, unsigned type,
		   unsigned dpl, unsigned ist)
{
	fake_w32(IDT + vec * 16, ((uint32_t)sel << 16) | (off & 0xffff));
	fake_w32(IDT + vec * 16 + 4, ((uint32_t)off & 0xffff0000u) | 0x8000 |
		 (dpl << 13) | (type << 8) | ist);
	fake_w32(IDT + vec * 16 + 8, (uint32_t)(off >> 32));
	fake_w32(IDT + vec * 16 + 12, 0);
}

/* Clear P (bit 47) of a legacy gate. */
static inline void gate_absent(unsigned vec)
{
	fake_w8(IDT + vec * 8 + 5, fake.mem[IDT + vec * 8 + 5] & 0x7f);
}

/* The frame at linear @la, slot by slot from the lowest address (the
 * last value pushed) up. */
static inline void assert_frame(uint64_t la, unsigned size, const uint64_t *want, unsigned n)
{
	for (unsigned i = 0; i < n; i++, la += size)
		assert_int_equal(size == 2 ? fake_r16(la) : size == 4 ? fake_r32(la)
					   : fake_r64(la), want[i]);
}
#define FRAME(la, size, ...) assert_frame(la, size, (const uint64_t[]){ __VA_ARGS__ }, \
	sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))

/* Deliver @vec of @type, with error code @err (< 0: none). */
static inline int deliver(unsigned vec, unsigned type, int err)
{
	struct emu_event ev = {
		.vector = (uint8_t)vec, .type = (uint8_t)type,
		.has_error_code = err >= 0, .error_code = err >= 0 ? (uint32_t)err : 0,
	};
	return emu_deliver(&fake.ctx, &ev);
}

static inline void assert_seg_equal(const struct emu_segment *a, const struct emu_segment *b)
{
	assert_int_equal(a->sel, b->sel);
	assert_int_equal(a->base, b->base);
	assert_int_equal(a->limit, b->limit);
	assert_int_equal(a->ar, b->ar);
}

/* The interrupted state is intact after a failed delivery (field by
 * field: struct padding is not state). */
static inline void assert_untouched(const struct emu_cpu *before)
{
	assert_memory_equal(CPU.gpr, before->gpr, sizeof(before->gpr));
	assert_int_equal(CPU.rip, before->rip);
	assert_int_equal(CPU.rflags, before->rflags);
	for (unsigned i = 0; i < EMU_NR_SREGS; i++)
		assert_seg_equal(&CPU.seg[i], &before->seg[i]);
	assert_seg_equal(&CPU.tr, &before->tr);
	assert_seg_equal(&CPU.ldtr, &before->ldtr);
	assert_int_equal(CPU.idtr.base, before->idtr.base);
	assert_int_equal(CPU.idtr.limit, before->idtr.limit);
	assert_int_equal(CPU.cpl, before->cpl);
	assert_int_equal(fake.mode_changed_count, 0);
}


#define T(f) cmocka_unit_test_setup(f, fake_setup)

#endif
