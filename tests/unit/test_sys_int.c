/*
 * test_sys_int.c — software interrupts, traps, BOUND, UD, FWAIT,
 * CLI/STI, PAUSE, VMCALL, fences and the reset state
 * (emulate/exec_int.c, emulate/exec_system.c, emulate/reset.c), per SDM
 * Vol. 2A INT n/INTO/INT3/INT1, BOUND, CLI, STI, UD; Vol. 3A 9.1.1.
 */
#include <string.h>

#include "tests/unit/support/fake_cpu.h"

static void int_n_is_softint_after_the_instruction(void **state)
{
	assert_exc(RUN(0xcd, 0x80), 0x80, -1);
	assert_int_equal(fake.ctx.exc.kind, EMU_EVENT_SOFTINT);
	assert_int_equal(CPU.rip, FAKE_CODE + 2);
	assert_int_equal(fake.ctx.icount, 1);
}

static void int_n_vm86(void **state)
{
	fake_mode_vm86(0);
	assert_gp(RUN(0xcd, 0x21), 0);			/* IOPL < 3 */
	assert_int_equal(fake.ctx.exc.kind, EMU_EVENT_FAULT);
	assert_int_equal(CPU.rip, 0);
	fake_mode_vm86(3);
	assert_exc(RUN(0xcd, 0x21), 0x21, -1);
	assert_int_equal(fake.ctx.exc.kind, EMU_EVENT_SOFTINT);
	/* INT3 is not IOPL-sensitive. */
	fake_mode_vm86(0);
	assert_exc(RUN(0xcc), EMU_EXC_BP, -1);
}

static void int3_int1_into(void **state)
{
	assert_exc(RUN(0xcc), EMU_EXC_BP, -1);
	assert_int_equal(fake.ctx.exc.kind, EMU_EVENT_TRAP);
	assert_int_equal(CPU.rip, FAKE_CODE + 1);
	assert_exc(RUN(0xf1), EMU_EXC_DB, -1);
	assert_int_equal(fake.ctx.exc.kind, EMU_EVENT_TRAP);
	assert_int_equal(CPU.rip, FAKE_CODE + 2);
	assert_ok(RUN(0xce));				/* into, OF = 0 */
	assert_int_equal(CPU.rip, FAKE_CODE + 3);
	CPU.rflags |= EMU_FLAG_OF;
	assert_exc(RUN(0xce), EMU_EXC_OF, -1);
	assert_int_equal(fake.ctx.exc.kind, EMU_EVENT_TRAP);
	assert_int_equal(CPU.rip, FAKE_CODE + 4);
}

static void bound(void **state)
{
	fake_w32(FAKE_DATA, (uint32_t)-10);
	fake_w32(FAKE_DATA + 4, 10);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	CPU.gpr[EMU_RAX] = (uint32_t)-10;
	assert_ok(RUN(0x62, 0x03));			/* bound eax, [ebx] */
	CPU.gpr[EMU_RAX] = 11;
	assert_exc(RUN(0x62, 0x03), EMU_EXC_BR, -1);
	assert_int_equal(fake.ctx.exc.kind, EMU_EVENT_FAULT);
	assert_int_equal(CPU.rip, FAKE_CODE + 2);
	CPU.gpr[EMU_RAX] = (uint32_t)-11;
	assert_exc(RUN(0x62, 0x03), EMU_EXC_BR, -1);
	fake_w16(FAKE_DATA + 8, 0);
	fake_w16(FAKE_DATA + 10, 0x7fff);
	CPU.gpr[EMU_RBX] = FAKE_DATA + 8;
	CPU.gpr[EMU_RAX] = 0xffff8000;			/* ax = -32768 < 0 */
	assert_exc(RUN(0x66, 0x62, 0x03), EMU_EXC_BR, -1);
}

static void ud_forms(void **state)
{
	assert_ud(RUN(0x0f, 0x0b));			/* ud2 */
	assert_ud(RUN(0x0f, 0xb9, 0x00));		/* ud1 eax, [eax] */
	assert_ud(RUN(0x0f, 0xff, 0x00));		/* ud0 */
	assert_int_equal(CPU.rip, FAKE_CODE);
}

static void fwait(void **state)
{
	CPU.cr0 |= X86_CR0_TS;
	assert_ok(RUN(0x9b));				/* TS without MP */
	CPU.cr0 |= X86_CR0_MP;
	assert_exc(RUN(0x9b), EMU_EXC_NM, -1);
}

static void cli_sti_protected(void **state)
{
	assert_ok(RUN(0xfb));				/* sti, CPL 0 */
	assert_true(CPU.rflags & EMU_FLAG_IF);
	assert_int_equal(fake.shadow_count, 1);
	assert_false(fake.shadow_mov_ss);
	assert_ok(RUN(0xfb));				/* IF already 1: no shadow */
	assert_int_equal(fake.shadow_count, 1);
	assert_ok(RUN(0xfa));
	assert_false(CPU.rflags & EMU_FLAG_IF);
	fake_mode_prot32(3);
	assert_gp(RUN(0xfa), 0);			/* IOPL 0 < CPL 3 */
	assert_gp(RUN(0xfb), 0);
	CPU.rflags |= 3u << 12;
	assert_ok(RUN(0xfb));
	assert_true(CPU.rflags & EMU_FLAG_IF);
}

static void cli_sti_pvi(void **state)
{
	fake_mode_prot32(3);
	CPU.cr4 |= X86_CR4_PVI;
	CPU.rflags |= EMU_FLAG_IF;
	assert_ok(RUN(0xfa));
	assert_true(CPU.rflags & EMU_FLAG_IF);		/* IF untouched */
	assert_false(CPU.rflags & EMU_FLAG_VIF);
	assert_ok(RUN(0xfb));
	assert_true(CPU.rflags & EMU_FLAG_VIF);
	CPU.rflags |= EMU_FLAG_VIP;
	assert_gp(RUN(0xfb), 0);			/* STI with VIP */
	fake_mode_prot32(0);				/* PVI only applies at CPL 3 */
	fake_mode_prot32(3);
	CPU.rflags |= 1u << 12;
	CPU.cr4 |= X86_CR4_PVI;
	CPU.cpl = 2;
	assert_gp(RUN(0xfa), 0);
}

static void cli_sti_vm86_and_real(void **state)
{
	fake_mode_vm86(3);
	assert_ok(RUN(0xfb));
	assert_true(CPU.rflags & EMU_FLAG_IF);
	fake_mode_vm86(0);
	assert_gp(RUN(0xfa), 0);
	CPU.cr4 |= X86_CR4_VME;
	assert_ok(RUN(0xfb));
	assert_true(CPU.rflags & EMU_FLAG_VIF);
	assert_false(CPU.rflags & EMU_FLAG_IF);
	assert_ok(RUN(0xfa));
	assert_false(CPU.rflags & EMU_FLAG_VIF);
	fake_mode_real();
	assert_ok(RUN(0xfb));
	assert_true(CPU.rflags & EMU_FLAG_IF);
}

static void pause_vmcall_fence(void **state)
{
	assert_ok(RUN(0xf3, 0x90));			/* pause */
	assert_int_equal(fake.pause_count, 1);
	assert_ok(RUN(0x0f, 0x01, 0xc1));		/* vmcall */
	assert_int_equal(fake.hypercall_count, 1);
	assert_int_equal(CPU.rip, FAKE_CODE + 5);
	assert_ok(RUN(0x0f, 0x01, 0xd9));		/* vmmcall */
	assert_int_equal(fake.hypercall_count, 2);
	fake.ops.hypercall = NULL;
	assert_ud(RUN(0x0f, 0x01, 0xc1));
	assert_ok(RUN(0x0f, 0xae, 0xf0));		/* mfence */
	assert_ok(RUN(0x0f, 0xae, 0xe8));		/* lfence */
}

static void reset_state(void **state)
{
	struct emu_cpu c;
	memset(&c, 0xa5, sizeof(c));
	emu_cpu_reset(&c);
	assert_int_equal(c.rip, 0xfff0);
	assert_int_equal(c.rflags, 2);
	assert_int_equal(c.cr0, 0x60000010);
	assert_int_equal(c.cr4, 0);
	assert_int_equal(c.efer, 0);
	assert_int_equal(c.cpl, 0);
	assert_int_equal(c.seg[EMU_CS].sel, 0xf000);
	assert_int_equal(c.seg[EMU_CS].base, 0xffff0000);
	assert_int_equal(c.seg[EMU_CS].limit, 0xffff);
	assert_true(c.seg[EMU_CS].ar & EMU_AR_P);
	assert_int_equal(c.seg[EMU_DS].sel, 0);
	assert_int_equal(c.seg[EMU_DS].base, 0);
	assert_int_equal(c.seg[EMU_DS].limit, 0xffff);
	assert_int_equal(EMU_AR_TYPE(c.seg[EMU_SS].ar), 3);	/* RW, accessed */
	assert_int_equal(c.gdtr.base, 0);
	assert_int_equal(c.gdtr.limit, 0xffff);
	assert_int_equal(c.idtr.limit, 0xffff);
	assert_int_equal(c.ldtr.limit, 0xffff);
	assert_int_equal(c.gpr[EMU_RAX], 0);
	assert_int_equal((c.gpr[EMU_RDX] >> 8) & 0xf, 6);	/* family 6 */
	assert_int_equal(emu_cpu_mode(&c), EMU_MODE_16);
	/* The first fetch is at FFFFFFF0. */
	assert_int_equal(c.seg[EMU_CS].base + c.rip, 0xfffffff0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, fake_setup)
		T(int_n_is_softint_after_the_instruction),
		T(int_n_vm86),
		T(int3_int1_into),
		T(bound),
		T(ud_forms),
		T(fwait),
		T(cli_sti_protected),
		T(cli_sti_pvi),
		T(cli_sti_vm86_and_real),
		T(pause_vmcall_fence),
		T(reset_state),
	};
	return cmocka_run_group_tests_name("sys_int", tests, NULL, NULL);
}
