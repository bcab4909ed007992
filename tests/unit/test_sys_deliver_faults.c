/*
 * test_sys_deliver_faults.c — what event delivery (emulate/deliver.c)
 * raises itself, with the exact error codes of SDM Vol. 3A 6.13 (IDT
 * limit, gate type and DPL, not-present gates, the target code segment,
 * TSS stacks, stack room and page faults), round trips through IRET,
 * the IRET-retired op (exec_far.c) and the DR7.GD #DB (exec_cr.c, SDM
 * Vol. 3B 18.2.4).
 */
#include "test_sys_deliver.h"

/* ------------------------------------------------------------ IDT faults */

static void idt_limit_type_dpl_present(void **state)
{
	const int idt = 0x40 * 8 + 2;		/* IDT bit set */
	const struct emu_cpu before = CPU;

	gate(0x40, SEL_CODE32, 0x7000, INT32, 0);
	CPU.idtr.limit = 0x40 * 8 + 6;
	assert_gp(deliver(0x40, T_HW, 0), idt | 1);
	assert_gp(deliver(0x40, T_SOFT, -1), idt);
	CPU.idtr.limit = 0x40 * 8 + 7;
	assert_ok(deliver(0x40, T_EXT, -1));

	fake_setup(NULL);
	gate(0x40, SEL_CODE32, 0x7000, 12, 0);		/* a call gate */
	assert_gp(deliver(0x40, T_EXT, -1), idt | 1);
	fake_w32(IDT + 0x40 * 8, 0x0000ffff);		/* a data segment (S = 1) */
	fake_w32(IDT + 0x40 * 8 + 4, 0x00cf9300);
	assert_gp(deliver(0x40, T_EXT, -1), idt | 1);

	gate(0x40, SEL_CODE32, 0x7000, INT32, 0);
	gate_absent(0x40);
	assert_exc(deliver(0x40, T_HW, 0), EMU_EXC_NP, idt | 1);
	assert_exc(deliver(0x40, T_SOFT, -1), EMU_EXC_NP, idt);
	assert_untouched(&before);
}

static void soft_int_gate_dpl(void **state)
{
	const int idt = 0x40 * 8 + 2;
	fake_mode_prot32(3);
	gate(0x40, SEL_CODE32, 0x7000, INT32, 0);
	const struct emu_cpu before = CPU;
	assert_gp(deliver(0x40, T_SOFT, -1), idt);		/* INT n */
	assert_gp(deliver(0x40, T_SOFTEXC, -1), idt);		/* INT3, INTO */
	/* The DPL check comes before the present check. */
	gate_absent(0x40);
	assert_gp(deliver(0x40, T_SOFT, -1), idt);
	assert_untouched(&before);
	/* INT1 and hardware events ignore the gate DPL. */
	gate(0x40, SEL_CODE32, 0x7000, INT32, 0);
	assert_ok(deliver(0x40, T_PRIV, -1));
	fake_mode_prot32(3);
	assert_ok(deliver(0x40, T_HW, -1));
	fake_mode_prot32(3);
	gate(0x40, SEL_CODE32, 0x7000, INT32, 3);
	assert_ok(deliver(0x40, T_SOFT, -1));
}

static void ext_bit_per_event_type(void **state)
{
	static const struct { unsigned type; int ext; } t[] = {
		{ T_EXT, 1 }, { T_NMI, 1 }, { T_HW, 1 }, { T_SOFT, 0 },
		{ T_PRIV, 1 }, { T_SOFTEXC, 0 },
	};
	gate(0x40, SEL_CODE32, 0x7000, INT32, 3);
	gate_absent(0x40);
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_exc(deliver(0x40, t[i].type, -1), EMU_EXC_NP, 0x40 * 8 + 2 + t[i].ext);
	/* Event types 1 and 7 are not vectored events. */
	assert_int_equal(deliver(0x40, 1, -1), EMU_UNHANDLEABLE);
	assert_int_equal(deliver(0x40, 7, -1), EMU_UNHANDLEABLE);
}

static void target_code_segment_faults(void **state)
{
	const struct emu_cpu before = CPU;
	gate(0x40, 0, 0x7000, INT32, 0);			/* null */
	assert_gp(deliver(0x40, T_EXT, -1), 1);
	assert_gp(deliver(0x40, T_SOFT, -1), 0);
	gate(0x40, 0x200, 0x7000, INT32, 0);			/* beyond the GDT */
	assert_gp(deliver(0x40, T_EXT, -1), 0x201);
	gate(0x40, 0x104, 0x7000, INT32, 0);			/* beyond the LDT */
	assert_gp(deliver(0x40, T_EXT, -1), 0x105);
	gate(0x40, SEL_DATA32, 0x7000, INT32, 0);		/* not code */
	assert_gp(deliver(0x40, T_EXT, -1), SEL_DATA32 | 1);
	gate(0x40, SEL_CODE32_3, 0x7000, INT32, 0);		/* DPL 3 > CPL 0 */
	assert_gp(deliver(0x40, T_EXT, -1), SEL_CODE32_3 | 1);
	fake_set_desc(SEL_FREE, 0, 0xfffff, 0x1b | EMU_AR_DB | EMU_AR_G);
	gate(0x40, SEL_FREE, 0x7000, INT32, 0);			/* not present */
	assert_exc(deliver(0x40, T_EXT, -1), EMU_EXC_NP, SEL_FREE | 1);
	assert_exc(deliver(0x40, T_SOFT, -1), EMU_EXC_NP, SEL_FREE);
	gate(0x40, SEL_CODE16, 0x10000, INT32, 0);		/* beyond CS limit */
	assert_gp(deliver(0x40, T_EXT, -1), 1);
	assert_untouched(&before);
}

static void task_gate_is_unhandleable(void **state)
{
	gate(0x40, SEL_TSS, 0, TASK, 0);
	const struct emu_cpu before = CPU;
	assert_int_equal(deliver(0x40, T_EXT, -1), EMU_UNHANDLEABLE);
	assert_string_equal(fake.ctx.unhandleable, "task switch");
	assert_untouched(&before);
	/* Its DPL and P are checked first, as for any gate. */
	fake_mode_prot32(3);
	assert_gp(deliver(0x40, T_SOFT, -1), 0x40 * 8 + 2);
	gate_absent(0x40);
	assert_exc(deliver(0x40, T_EXT, -1), EMU_EXC_NP, 0x40 * 8 + 3);
}

/* ------------------------------------------------------------ stack faults */

static void tss_and_new_ss_faults(void **state)
{
	static const struct { uint16_t ss; uint32_t ar; unsigned vec; int err; } t[] = {
		{ 0, 0, EMU_EXC_TS, 1 },				/* null */
		{ SEL_DATA32 | 1, 0, EMU_EXC_TS, SEL_DATA32 | 1 },	/* RPL 1 */
		{ SEL_DATA32_3, 0, EMU_EXC_TS, SEL_DATA32_3 | 1 },	/* DPL 3 */
		{ SEL_CODE32, 0, EMU_EXC_TS, SEL_CODE32 | 1 },		/* code */
		{ 0x100, 0, EMU_EXC_TS, 0x101 },			/* beyond GDT */
		{ SEL_FREE, 0x91 | EMU_AR_DB | EMU_AR_G, EMU_EXC_TS, SEL_FREE | 1 }, /* read-only */
		{ SEL_FREE, 0x13 | EMU_AR_DB | EMU_AR_G, EMU_EXC_SS, SEL_FREE | 1 }, /* absent */
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fake_mode_prot32(3);
		gate(13, SEL_CODE32, 0x7000, INT32, 0);
		if (t[i].ar)
			fake_set_desc(SEL_FREE, 0, 0xfffff, t[i].ar);
		fake_w32(FAKE_TSS + 8, t[i].ss);
		fake.mode_changed_count = 0;
		const struct emu_cpu before = CPU;
		assert_exc(deliver(13, T_HW, 0), t[i].vec, t[i].err);
		assert_untouched(&before);
	}
	/* ESP0/SS0 (bytes 4..9) not covered by the TSS limit. */
	fake_mode_prot32(3);
	gate(13, SEL_CODE32, 0x7000, INT32, 0);
	CPU.tr.limit = 8;
	assert_exc(deliver(13, T_HW, 0), EMU_EXC_TS, SEL_TSS | 1);
	gate(0x80, SEL_CODE32, 0x7000, INT32, 3);
	assert_exc(deliver(0x80, T_SOFT, -1), EMU_EXC_TS, SEL_TSS);
	CPU.tr.limit = 9;
	assert_ok(deliver(13, T_HW, 0));
}

static void stack_room_and_page_faults(void **state)
{
	/* Same stack: the first slot is beyond the SS limit, #SS(EXT). */
	gate(0x40, SEL_CODE32, 0x7000, INT32, 0);
	CPU.seg[EMU_SS].limit = FAKE_STACK - 9;
	const struct emu_cpu before = CPU;
	assert_exc(deliver(0x40, T_EXT, -1), EMU_EXC_SS, 1);
	assert_untouched(&before);
	assert_exc(deliver(0x40, T_SOFT, -1), EMU_EXC_SS, 0);

	/* New stack without room: #SS(new SS + EXT), nothing switched. */
	fake_mode_prot32(3);
	fake.mode_changed_count = 0;
	gate(0x40, SEL_CODE32, 0x7000, INT32, 0);
	fake_set_desc(SEL_FREE, 0, 0xfff, 0x93 | EMU_AR_DB);
	fake_w32(FAKE_TSS + 8, SEL_FREE);
	fake_w32(FAKE_TSS + 4, 0x2000);
	const struct emu_cpu before2 = CPU;
	assert_exc(deliver(0x40, T_EXT, -1), EMU_EXC_SS, SEL_FREE | 1);
	assert_untouched(&before2);

	/* A page fault while pushing keeps its own error code and CR2,
	 * and the interrupted state is restored. */
	fake_mode_prot32(3);
	gate(0x40, SEL_CODE32, 0x7000, INT32, 0);
	fake_w32(FAKE_TSS + 4, FAKE_MEM_SIZE + 0x10);
	CPU.rflags = F_FIXED | F_IF;
	const struct emu_cpu before3 = CPU;
	assert_exc(deliver(0x40, T_EXT, -1), EMU_EXC_PF, 2);
	assert_int_equal(fake.ctx.exc.cr2, FAKE_MEM_SIZE + 0x10 - 4);
	assert_untouched(&before3);
}

/* ------------------------------------------------------------ round trips */

/* IRET (exec_far.c, written from the IRET pseudo-code) must undo what
 * delivery built. */
static void round_trip_through_iret(void **state)
{
	fake_mode_prot32(3);
	gate(0x30, SEL_CODE32, 0x7000, INT32, 0);
	CPU.rflags = F_FIXED | F_IF | F_CF;
	CPU.rip = FAKE_CODE + 5;
	const struct emu_cpu before = CPU;
	assert_ok(deliver(0x30, T_EXT, -1));
	assert_ok(RUN(0xcf));
	assert_seg_equal(&CPU.seg[EMU_CS], &before.seg[EMU_CS]);
	assert_seg_equal(&CPU.seg[EMU_SS], &before.seg[EMU_SS]);
	assert_int_equal(CPU.rip, before.rip);
	assert_int_equal(CPU.gpr[EMU_RSP], before.gpr[EMU_RSP]);
	assert_int_equal(CPU.rflags, before.rflags);
	assert_int_equal(CPU.cpl, 3);

	fake_mode_long(3);
	gate64(0x20, SEL_CODE64, 0x7000, INT32, 0, 0);
	CPU.gpr[EMU_RSP] = FAKE_STACK - 8;
	assert_ok(deliver(0x20, T_EXT, -1));
	assert_ok(RUN(0x48, 0xcf));
	assert_int_equal(CPU.cpl, 3);
	assert_int_equal(CPU.rip, FAKE_CODE);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK - 8);
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32_3 | 3);

	fake_mode_real();
	fake_w16(IDT + 8 * 4, 0x0100);
	fake_w16(IDT + 8 * 4 + 2, 0x3000);
	CPU.rip = 0x77;
	CPU.rflags = F_FIXED | F_IF;
	assert_ok(deliver(8, T_EXT, -1));
	assert_ok(RUN(0xcf));
	assert_int_equal(CPU.seg[EMU_CS].sel, FAKE_CODE >> 4);
	assert_int_equal(CPU.rip, 0x77);
	assert_int_equal(CPU.rflags, F_FIXED | F_IF);

	fake_mode_vm86(3);
	CPU.seg[EMU_DS].sel = 0x4444;
	CPU.rip = 0x42;
	gate(0x20, SEL_CODE32, 0x7000, INT32, 0);
	assert_ok(deliver(0x20, T_EXT, -1));
	assert_ok(RUN(0xcf));
	assert_true(CPU.rflags & F_VM);
	assert_int_equal(CPU.cpl, 3);
	assert_int_equal(CPU.rip, 0x42);
	assert_int_equal(CPU.seg[EMU_DS].sel, 0x4444);
	assert_int_equal(CPU.seg[EMU_DS].base, 0x44440);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK);
}

/* An executed INT n, handed to delivery by the caller's path. */
static void int_n_executed_then_delivered(void **state)
{
	struct emu_event ev;
	fake_mode_prot32(3);
	gate(0x80, SEL_CODE32, 0x7000, TRAP32, 3);
	assert_exc(RUN(0xcd, 0x80), 0x80, -1);
	emu_exc_to_event(&fake.ctx.exc, &ev);
	assert_int_equal(ev.type, T_SOFT);
	assert_int_equal(ev.vector, 0x80);
	assert_ok(emu_deliver(&fake.ctx, &ev));
	assert_int_equal(fake_r32(FAKE_STACK0 - 20), FAKE_CODE + 2);	/* after INT */
	assert_int_equal(CPU.cpl, 0);
	/* Through a DPL 0 gate: #GP(vector * 8 + 2), no EXT. */
	fake_mode_prot32(3);
	gate(0x80, SEL_CODE32, 0x7000, TRAP32, 0);
	assert_exc(RUN(0xcd, 0x80), 0x80, -1);
	emu_exc_to_event(&fake.ctx.exc, &ev);
	assert_gp(emu_deliver(&fake.ctx, &ev), 0x402);
}

static void exc_to_event_types(void **state)
{
	struct emu_event ev;
	assert_exc(RUN(0xcc), EMU_EXC_BP, -1);			/* INT3 */
	emu_exc_to_event(&fake.ctx.exc, &ev);
	assert_int_equal(ev.type, T_SOFTEXC);
	CPU.rflags |= F_OF;
	assert_exc(RUN(0xce), EMU_EXC_OF, -1);			/* INTO */
	emu_exc_to_event(&fake.ctx.exc, &ev);
	assert_int_equal(ev.type, T_SOFTEXC);
	assert_exc(RUN(0xf1), EMU_EXC_DB, -1);			/* INT1 */
	emu_exc_to_event(&fake.ctx.exc, &ev);
	assert_int_equal(ev.type, T_PRIV);
	assert_ud(RUN(0x0f, 0x0b));				/* UD2 */
	emu_exc_to_event(&fake.ctx.exc, &ev);
	assert_int_equal(ev.type, T_HW);
	assert_false(ev.has_error_code);
	fake_mode_prot32(3);
	assert_gp(RUN(0xfa), 0);				/* CLI at CPL 3 */
	emu_exc_to_event(&fake.ctx.exc, &ev);
	assert_int_equal(ev.type, T_HW);
	assert_int_equal(ev.vector, 13);
	assert_true(ev.has_error_code);
	assert_int_equal(ev.error_code, 0);
}

/* ------------------------------------------------------------ IRET op */

static int iret_calls;

static void count_iret(struct emu_ctx *ctx)
{
	iret_calls++;
}

static void iret_op_once_per_successful_iret(void **state)
{
	fake.ops.iret = count_iret;
	iret_calls = 0;
	fake_w32(FAKE_STACK, 0x5000);
	fake_w32(FAKE_STACK + 4, SEL_CODE32);
	fake_w32(FAKE_STACK + 8, F_FIXED);
	assert_ok(RUN(0xcf));
	assert_int_equal(iret_calls, 1);

	fake_mode_prot32(0);					/* CS null: #GP(0) */
	fake_w32(FAKE_STACK + 4, 0);
	assert_gp(RUN(0xcf), 0);
	assert_int_equal(iret_calls, 1);
	CPU.rflags |= F_NT;					/* a task switch */
	assert_int_equal(RUN(0xcf), EMU_UNHANDLEABLE);
	assert_int_equal(iret_calls, 1);

	fake_mode_real();
	fake_w16(FAKE_STACK, 0x20);
	fake_w16(FAKE_STACK + 2, 0x1000);
	fake_w16(FAKE_STACK + 4, F_FIXED);
	assert_ok(RUN(0xcf));
	assert_int_equal(iret_calls, 2);

	fake_mode_vm86(0);					/* IOPL 0: #GP(0) */
	assert_gp(RUN(0xcf), 0);
	fake_mode_vm86(3);
	assert_ok(RUN(0xcf));
	assert_int_equal(iret_calls, 3);

	fake_mode_long(0);
	fake_w64(FAKE_STACK, 0x6000);
	fake_w64(FAKE_STACK + 8, SEL_CODE64);
	fake_w64(FAKE_STACK + 16, F_FIXED);
	fake_w64(FAKE_STACK + 24, 0x7ff0);
	fake_w64(FAKE_STACK + 32, 0);
	assert_ok(RUN(0x48, 0xcf));
	assert_int_equal(iret_calls, 4);

	/* Without the op IRET works as before. */
	fake.ops.iret = NULL;
	fake_mode_prot32(0);
	fake_w32(FAKE_STACK, 0x5000);
	fake_w32(FAKE_STACK + 4, SEL_CODE32);
	fake_w32(FAKE_STACK + 8, F_FIXED);
	assert_ok(RUN(0xcf));
	assert_int_equal(iret_calls, 4);
}

/* ------------------------------------------------------------ DR7.GD */

static void mov_dr_with_gd_raises_db_with_bd(void **state)
{
	fake.dr[0] = 0x55;
	fake.dr[7] = 1u << 13;					/* GD */
	CPU.gpr[EMU_RAX] = 0x1111;
	assert_exc(RUN(0x0f, 0x21, 0xc0), EMU_EXC_DB, -1);	/* mov eax, dr0 */
	assert_int_equal(fake.ctx.exc.kind, EMU_EVENT_FAULT);
	assert_int_equal(fake.ctx.exc.dr6, 1u << 13);		/* BD */
	assert_int_equal(CPU.rip, FAKE_CODE);
	assert_int_equal(CPU.gpr[EMU_RAX], 0x1111);
	assert_exc(RUN(0x0f, 0x23, 0xf8), EMU_EXC_DB, -1);	/* mov dr7, eax */
	assert_int_equal(fake.ctx.exc.dr6, 1u << 13);
	assert_int_equal(fake.dr[7], 1u << 13);
	/* Privilege is checked first. */
	fake_mode_prot32(3);
	assert_gp(RUN(0x0f, 0x21, 0xc0), 0);
	/* A fault raised by delivery reports no DR6 bits. */
	fake_mode_prot32(0);
	assert_exc(RUN(0x0f, 0x21, 0xc0), EMU_EXC_DB, -1);
	gate(0x40, 0, 0, INT32, 0);
	assert_gp(deliver(0x40, T_EXT, -1), 1);
	assert_int_equal(fake.ctx.exc.dr6, 0);
	/* GD clear: the access happens. */
	fake.dr[7] = 0;
	assert_ok(RUN(0x0f, 0x21, 0xc0));
	assert_int_equal(CPU.gpr[EMU_RAX], 0x55);
	/* Any later exception starts with no DR6 bits (emu_raise). */
	fake.dr[7] = 1u << 13;
	assert_exc(RUN(0x0f, 0x21, 0xc0), EMU_EXC_DB, -1);
	fake.dr[7] = 0;
	assert_exc(RUN(0xf1), EMU_EXC_DB, -1);
	assert_int_equal(fake.ctx.exc.dr6, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(idt_limit_type_dpl_present),
		T(soft_int_gate_dpl),
		T(ext_bit_per_event_type),
		T(target_code_segment_faults),
		T(task_gate_is_unhandleable),
		T(tss_and_new_ss_faults),
		T(stack_room_and_page_faults),
		T(round_trip_through_iret),
		T(int_n_executed_then_delivered),
		T(exc_to_event_types),
		T(iret_op_once_per_successful_iret),
		T(mov_dr_with_gd_raises_db_with_bd),
	};
	return cmocka_run_group_tests_name("sys_deliver_faults", tests, NULL, NULL);
}
