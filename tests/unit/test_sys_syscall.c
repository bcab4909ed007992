/*
 * test_sys_syscall.c — SYSCALL, SYSRET, SYSENTER, SYSEXIT, SWAPGS
 * (emulate/exec_syscall.c), per SDM Vol. 2B "Operation" of each and
 * APM Vol. 3 for AMD's legacy-mode SYSCALL.
 */
#include "tests/unit/support/fake_cpu.h"

#define STAR ((0x23ull << 48) | (0x08ull << 32) | 0x4000)

static void setup_syscall_msrs(void)
{
	fake_set_msr(0xc0000081, STAR);
	fake_set_msr(0xc0000082, 0xffff800000001000ull);	/* LSTAR */
	fake_set_msr(0xc0000083, 0x5000);			/* CSTAR */
	fake_set_msr(0xc0000084, EMU_FLAG_IF | EMU_FLAG_DF);	/* FMASK */
}

static void syscall_64bit(void **state)
{
	fake_mode_long(3);
	CPU.efer |= X86_EFER_SCE;
	setup_syscall_msrs();
	CPU.rflags = EMU_FLAG_FIXED | EMU_FLAG_IF | EMU_FLAG_DF | EMU_FLAG_CF;
	assert_ok(RUN(0x0f, 0x05));
	assert_int_equal(CPU.rip, 0xffff800000001000ull);
	assert_int_equal(CPU.gpr[EMU_RCX], FAKE_CODE + 2);
	assert_int_equal(CPU.gpr[EMU_R11], EMU_FLAG_FIXED | EMU_FLAG_IF | EMU_FLAG_DF | EMU_FLAG_CF);
	assert_int_equal(CPU.rflags, EMU_FLAG_FIXED | EMU_FLAG_CF);
	assert_int_equal(CPU.cpl, 0);
	assert_int_equal(CPU.seg[EMU_CS].sel, 0x08);
	assert_int_equal(CPU.seg[EMU_CS].ar, 0x9b | EMU_AR_L | EMU_AR_G);
	assert_int_equal(CPU.seg[EMU_SS].sel, 0x10);
	assert_int_equal(CPU.seg[EMU_SS].ar, 0x93 | EMU_AR_DB | EMU_AR_G);
	assert_int_equal(CPU.seg[EMU_SS].limit, 0xffffffff);
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_64);
	assert_int_equal(fake.mode_changed_count, 1);
}

static void syscall_ud_cases(void **state)
{
	fake_mode_long(3);
	setup_syscall_msrs();
	assert_ud(RUN(0x0f, 0x05));			/* EFER.SCE = 0 */
	fake_mode_compat(3);
	CPU.efer |= X86_EFER_SCE;
	assert_ud(RUN(0x0f, 0x05));			/* Intel: compat mode */
	fake_mode_prot32(3);
	CPU.efer |= X86_EFER_SCE;
	assert_ud(RUN(0x0f, 0x05));			/* Intel: legacy mode */
}

static void syscall_amd_compat_and_legacy(void **state)
{
	fake.amd = true;
	setup_syscall_msrs();
	fake_mode_compat(3);
	CPU.efer |= X86_EFER_SCE;
	assert_ok(RUN(0x0f, 0x05));
	assert_int_equal(CPU.rip, 0x5000);		/* CSTAR */
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_64);
	fake_mode_prot32(3);
	CPU.efer |= X86_EFER_SCE;
	CPU.rflags |= EMU_FLAG_IF;
	assert_ok(RUN(0x0f, 0x05));
	assert_int_equal(CPU.rip, 0x4000);		/* STAR[31:0] */
	assert_int_equal(CPU.gpr[EMU_RCX], FAKE_CODE + 2);
	assert_false(CPU.rflags & EMU_FLAG_IF);
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_32);
}

static void sysret(void **state)
{
	fake_mode_long(0);
	CPU.efer |= X86_EFER_SCE;
	setup_syscall_msrs();
	CPU.gpr[EMU_RCX] = 0x00007fff00001000ull;
	CPU.gpr[EMU_R11] = 0xffffffffffffffffull;
	assert_ok(RUN(0x48, 0x0f, 0x07));		/* sysretq */
	assert_int_equal(CPU.rip, 0x00007fff00001000ull);
	assert_int_equal(CPU.seg[EMU_CS].sel, 0x33);	/* STAR[63:48] + 16, RPL 3 */
	assert_int_equal(CPU.seg[EMU_SS].sel, 0x2b);	/* + 8 */
	assert_int_equal(CPU.cpl, 3);
	assert_int_equal(CPU.rflags, 0x3c7fd7 | 2);	/* RF and VM cleared */
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_64);
	fake_mode_long(0);
	CPU.efer |= X86_EFER_SCE;
	CPU.gpr[EMU_RCX] = 0xffffffff00002000ull;
	assert_ok(RUN(0x0f, 0x07));			/* sysretl: compat mode */
	assert_int_equal(CPU.rip, 0x2000);
	assert_int_equal(CPU.seg[EMU_CS].sel, 0x23);
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_32);
	fake_mode_long(0);
	CPU.efer |= X86_EFER_SCE;
	CPU.gpr[EMU_RCX] = 0x0000800000000000ull;
	assert_gp(RUN(0x48, 0x0f, 0x07), 0);		/* non-canonical RCX */
	assert_int_equal(CPU.cpl, 0);
	fake_mode_long(3);
	CPU.efer |= X86_EFER_SCE;
	assert_gp(RUN(0x48, 0x0f, 0x07), 0);		/* CPL 3 */
	fake_mode_long(0);
	assert_ud(RUN(0x48, 0x0f, 0x07));		/* SCE = 0 */
}

static void sysenter_sysexit_legacy(void **state)
{
	fake_set_msr(0x174, 0x08);
	fake_set_msr(0x175, 0x100008000ull);
	fake_set_msr(0x176, 0x100003000ull);
	fake_mode_prot32(3);
	CPU.rflags |= EMU_FLAG_IF;
	assert_ok(RUN(0x0f, 0x34));			/* sysenter */
	assert_int_equal(CPU.cpl, 0);
	assert_int_equal(CPU.rip, 0x3000);		/* 32 bits outside IA-32e */
	assert_int_equal(CPU.gpr[EMU_RSP], 0x8000);
	assert_int_equal(CPU.seg[EMU_CS].sel, 0x08);
	assert_int_equal(CPU.seg[EMU_CS].ar, 0x9b | EMU_AR_DB | EMU_AR_G);
	assert_int_equal(CPU.seg[EMU_SS].sel, 0x10);
	assert_false(CPU.rflags & EMU_FLAG_IF);
	CPU.gpr[EMU_RCX] = 0x7000;
	CPU.gpr[EMU_RDX] = 0x1234;
	assert_ok(RUN(0x0f, 0x35));			/* sysexit */
	assert_int_equal(CPU.cpl, 3);
	assert_int_equal(CPU.rip, 0x1234);
	assert_int_equal(CPU.gpr[EMU_RSP], 0x7000);
	assert_int_equal(CPU.seg[EMU_CS].sel, 0x1b);	/* +16, RPL 3 */
	assert_int_equal(CPU.seg[EMU_SS].sel, 0x23);	/* +24, RPL 3 */
	assert_gp(RUN(0x0f, 0x35), 0);			/* sysexit at CPL 3 */
	fake_set_msr(0x174, 0);
	assert_gp(RUN(0x0f, 0x34), 0);			/* SYSENTER_CS = 0 */
	fake_mode_real();
	fake_set_msr(0x174, 0x08);
	assert_gp(RUN(0x0f, 0x34), 0);			/* real mode */
}

static void sysenter_sysexit_ia32e(void **state)
{
	fake_set_msr(0x174, 0x08);
	fake_set_msr(0x175, 0xffff800000008000ull);
	fake_set_msr(0x176, 0xffff800000003000ull);
	fake_mode_compat(3);
	assert_ok(RUN(0x0f, 0x34));
	assert_int_equal(CPU.rip, 0xffff800000003000ull);
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_64);
	CPU.rip = FAKE_CODE;
	CPU.gpr[EMU_RCX] = 0x7000;
	CPU.gpr[EMU_RDX] = 0x0000800000000000ull;
	assert_gp(RUN(0x48, 0x0f, 0x35), 0);		/* non-canonical RDX */
	CPU.gpr[EMU_RDX] = 0x1234;
	assert_ok(RUN(0x48, 0x0f, 0x35));		/* sysexitq */
	assert_int_equal(CPU.seg[EMU_CS].sel, 0x2b);	/* +32, RPL 3 */
	assert_int_equal(CPU.seg[EMU_SS].sel, 0x33);
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_64);
	fake.amd = true;				/* AMD: #UD in IA-32e mode */
	fake_mode_long(0);
	assert_ud(RUN(0x0f, 0x34));
}

static void swapgs(void **state)
{
	fake_mode_long(0);
	fake_set_msr(0xc0000102, 0xffff888000000000ull);
	CPU.seg[EMU_GS].base = 0x1000;
	assert_ok(RUN(0x0f, 0x01, 0xf8));
	assert_int_equal(CPU.seg[EMU_GS].base, 0xffff888000000000ull);
	assert_int_equal(fake_get_msr(0xc0000102), 0x1000);
	fake_mode_long(3);
	assert_gp(RUN(0x0f, 0x01, 0xf8), 0);
	fake_mode_prot32(0);
	assert_ud(RUN(0x0f, 0x01, 0xf8));		/* 64-bit mode only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, fake_setup)
		T(syscall_64bit),
		T(syscall_ud_cases),
		T(syscall_amd_compat_and_legacy),
		T(sysret),
		T(sysenter_sysexit_legacy),
		T(sysenter_sysexit_ia32e),
		T(swapgs),
	};
	return cmocka_run_group_tests_name("sys_syscall", tests, NULL, NULL);
}
