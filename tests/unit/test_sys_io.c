/*
 * test_sys_io.c — IN/OUT and the I/O protection check (emulate/io.c),
 * per SDM Vol. 1 19.5.1-19.5.2 and Vol. 3A 20.2.8.1.
 */
#include "tests/unit/support/fake_cpu.h"

static void deny(unsigned port)
{
	fake.mem[FAKE_TSS + FAKE_IOMAP + port / 8] |= (uint8_t)(1u << (port % 8));
}

static void real_mode_in_out(void **state)
{
	fake_mode_real();
	fake.pio_in_val = 0xab;
	assert_ok(RUN(0xe4, 0x60));			/* in al, 0x60 */
	assert_int_equal(fake.pio_port, 0x60);
	assert_int_equal(fake.pio_size, 1);
	assert_int_equal(CPU.gpr[EMU_RAX] & 0xff, 0xab);
	CPU.gpr[EMU_RDX] = 0x3f8;
	CPU.gpr[EMU_RAX] = 0x1234;
	assert_ok(RUN(0xef));				/* out dx, ax */
	assert_int_equal(fake.pio_dir, 'o');
	assert_int_equal(fake.pio_port, 0x3f8);
	assert_int_equal(fake.pio_size, 2);
	assert_int_equal(fake.pio_val, 0x1234);
}

static void in_eax_zero_extends(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RAX] = ~0ull;
	fake.pio_in_val = 0x11223344;
	CPU.gpr[EMU_RDX] = 0xcfc;
	assert_ok(RUN(0xed));				/* in eax, dx */
	assert_int_equal(CPU.gpr[EMU_RAX], 0x11223344);
	assert_int_equal(fake.pio_size, 4);
	CPU.gpr[EMU_RAX] = 0xffff;
	fake.pio_in_val = 0x55;
	assert_ok(RUN(0xe4, 0x80));			/* in al: merges */
	assert_int_equal(CPU.gpr[EMU_RAX], 0xff55);
}

static void cpl_le_iopl_skips_bitmap(void **state)
{
	deny(0x80);
	assert_ok(RUN(0xe6, 0x80));			/* CPL 0, IOPL 0 */
	fake_mode_prot32(3);
	CPU.rflags |= EMU_FLAG_IOPL;
	deny(0x80);
	assert_ok(RUN(0xe6, 0x80));			/* CPL 3, IOPL 3 */
}

static void bitmap_allows_and_denies(void **state)
{
	fake_mode_prot32(3);
	assert_ok(RUN(0xe6, 0x80));			/* bit clear */
	deny(0x81);
	assert_ok(RUN(0xe6, 0x80));			/* byte access to 0x80 */
	assert_gp(RUN(0x66, 0xe7, 0x80), 0);		/* word: 0x80-0x81 */
	assert_gp(RUN(0xe6, 0x81), 0);
	assert_int_equal(CPU.rip, FAKE_CODE + 4);	/* two OUTs retired */
	/* Ports 7-8 straddle two bitmap bytes. */
	deny(0x8);
	assert_ok(RUN(0xe6, 0x07));
	assert_gp(RUN(0x66, 0xe7, 0x07), 0);
	/* The highest port: its second bitmap byte is the terminator. */
	CPU.gpr[EMU_RDX] = 0xffff;
	assert_ok(RUN(0xec));
	assert_int_equal(fake.pio_count, 4);	/* the denied ones never reached the op */
}

static void bitmap_beyond_tss_limit(void **state)
{
	fake_mode_prot32(3);
	CPU.tr.limit = FAKE_IOMAP + 0x10;		/* covers ports 0..0x87 */
	assert_ok(RUN(0xe6, 0x70));
	assert_gp(RUN(0xe6, 0x80), 0);			/* second byte beyond limit */
	CPU.tr.limit = 102;				/* no room for the map base */
	assert_gp(RUN(0xe6, 0x00), 0);
	CPU.tr.limit = 0x2068;
	CPU.tr.ar = 0x83;				/* 16-bit TSS: no bitmap */
	assert_gp(RUN(0xe6, 0x00), 0);
}

static void vm86_always_uses_bitmap(void **state)
{
	fake_mode_vm86(3);
	CPU.tr.base = FAKE_TSS;
	assert_ok(RUN(0xe6, 0x80));
	deny(0x80);
	assert_gp(RUN(0xe6, 0x80), 0);			/* even with IOPL 3 */
}

static void io_needed_propagates(void **state)
{
	fake.pio_result = EMU_IO_NEEDED;
	CPU.gpr[EMU_RAX] = 0x99;
	assert_int_equal(RUN(0xe4, 0x60), EMU_IO_NEEDED);
	assert_int_equal(CPU.rip, FAKE_CODE);
	assert_int_equal(CPU.gpr[EMU_RAX], 0x99);
	assert_int_equal(RUN(0xe6, 0x60), EMU_IO_NEEDED);
	assert_int_equal(CPU.rip, FAKE_CODE);
}

static void no_pio_op_is_ud(void **state)
{
	fake.ops.pio_in = NULL;
	fake.ops.pio_out = NULL;
	assert_ud(RUN(0xe4, 0x60));
	assert_ud(RUN(0xe6, 0x60));
}

static void outs_uses_the_check(void **state)
{
	fake_mode_prot32(3);
	deny(0x3f8);
	CPU.gpr[EMU_RDX] = 0x3f8;
	CPU.gpr[EMU_RSI] = FAKE_DATA;
	assert_gp(RUN(0x6e), 0);			/* outsb */
	assert_int_equal(fake.pio_count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, fake_setup)
		T(real_mode_in_out),
		T(in_eax_zero_extends),
		T(cpl_le_iopl_skips_bitmap),
		T(bitmap_allows_and_denies),
		T(bitmap_beyond_tss_limit),
		T(vm86_always_uses_bitmap),
		T(io_needed_propagates),
		T(no_pio_op_is_ud),
		T(outs_uses_the_check),
	};
	return cmocka_run_group_tests_name("sys_io", tests, NULL, NULL);
}
