/*
 * test_sys_far.c — far JMP/CALL/RET and IRET (emulate/exec_far.c), per
 * the SDM Vol. 2A CALL/JMP/IRET and Vol. 2B RET "Operation" sections and
 * Vol. 3A 5.8 (privilege checks, call gates, stack switching).
 */
#include "tests/unit/support/fake_cpu.h"

#define SEL_X 0x60
#define SEL_G 0x70	/* a gate */

#define U32(v) (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24)
#define U16(v) (uint8_t)(v), (uint8_t)((v) >> 8)

/* ------------------------------------------------------------ real mode */

static void real_jmpf_and_callf(void **state)
{
	fake_mode_real();
	assert_ok(RUN(0xea, U16(0x0100), U16(0x2000)));	/* jmp 2000:0100 */
	assert_int_equal(CPU.seg[EMU_CS].sel, 0x2000);
	assert_int_equal(CPU.seg[EMU_CS].base, 0x20000);
	assert_int_equal(CPU.rip, 0x100);
	assert_true(fake.mode_changed_count > 0);
	assert_ok(RUN(0x9a, U16(0x0010), U16(0x3000)));	/* call 3000:0010 */
	assert_int_equal(CPU.seg[EMU_CS].base, 0x30000);
	assert_int_equal(CPU.rip, 0x10);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK - 4);
	assert_int_equal(fake_r16(FAKE_STACK - 2), 0x2000);	/* CS */
	assert_int_equal(fake_r16(FAKE_STACK - 4), 0x105);	/* IP */
}

static void real_retf_imm_and_limit(void **state)
{
	fake_mode_real();
	fake_w16(FAKE_STACK, 0x1234);
	fake_w16(FAKE_STACK + 2, 0x4000);
	assert_ok(RUN(0xca, U16(6)));			/* retf 6 */
	assert_int_equal(CPU.rip, 0x1234);
	assert_int_equal(CPU.seg[EMU_CS].base, 0x40000);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK + 10);
	/* 32-bit offset beyond the 64 KiB CS limit: #GP(0). */
	fake_mode_real();
	assert_gp(RUN(0x66, 0xea, U32(0x10000), U16(0x2000)), 0);
}

static void real_iret_flags(void **state)
{
	fake_mode_real();
	fake_w16(FAKE_STACK, 0x20);
	fake_w16(FAKE_STACK + 2, 0x1000);
	fake_w16(FAKE_STACK + 4, 0xffff);
	assert_ok(RUN(0xcf));				/* iret */
	assert_int_equal(CPU.rip, 0x20);
	assert_int_equal(CPU.rflags, 0xffff | EMU_FLAG_FIXED);
	/* IRETD: (temp & 257FD5) | (EFLAGS & 1A0000). */
	fake_mode_real();
	CPU.rflags |= EMU_FLAG_VIP;
	fake_w32(FAKE_STACK, 0x20);
	fake_w32(FAKE_STACK + 4, 0x1000);
	fake_w32(FAKE_STACK + 8, 0xffffffff);
	assert_ok(RUN(0x66, 0xcf));
	assert_int_equal(CPU.rflags, 0x257fd5 | EMU_FLAG_VIP | EMU_FLAG_FIXED);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK + 12);
}

/* ------------------------------------------------------------ code segments */

static void prot_jmpf_code_segment(void **state)
{
	fake_set_desc(SEL_X, 0, 0xfffff, 0x9a | EMU_AR_DB | EMU_AR_G);	/* A = 0 */
	assert_ok(RUN(0xea, U32(0x12345), U16(SEL_X)));
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_X);
	assert_int_equal(CPU.rip, 0x12345);
	assert_true(fake_desc_hi(SEL_X) & (1u << 8));
	assert_int_equal(fake.mode_changed_count, 1);
}

static void prot_jmpf_faults(void **state)
{
	assert_gp(RUN(0xea, U32(0), U16(0)), 0);			/* null */
	assert_gp(RUN(0xea, U32(0), U16(0x200)), 0x200);		/* beyond GDT */
	assert_gp(RUN(0xea, U32(0), U16(SEL_DATA32)), SEL_DATA32);	/* data */
	assert_gp(RUN(0xea, U32(0), U16(SEL_CODE32_3)), SEL_CODE32_3);	/* DPL != CPL */
	fake_set_desc(SEL_X, 0, 0xfff, 0x1b | EMU_AR_DB);		/* not present */
	assert_exc(RUN(0xea, U32(0), U16(SEL_X)), EMU_EXC_NP, SEL_X);
	assert_gp(RUN(0xea, U32(0x200000), U16(SEL_CODE16)), 0);	/* beyond limit */
	fake_mode_prot32(3);
	assert_gp(RUN(0xea, U32(0), U16(SEL_CODE32 | 3)), SEL_CODE32);	/* DPL 0 at CPL 3 */
	assert_int_equal(CPU.rip, FAKE_CODE);
}

static void prot_jmpf_conforming_keeps_cpl(void **state)
{
	fake_mode_prot32(3);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x9f | EMU_AR_DB | EMU_AR_G);	/* conforming DPL 0 */
	assert_ok(RUN(0xea, U32(0x5000), U16(SEL_X)));
	assert_int_equal(CPU.cpl, 3);
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_X | 3);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x9f | (3 << 5) | EMU_AR_DB);	/* DPL 3 > CPL 0 */
	fake_mode_prot32(0);
	assert_gp(RUN(0xea, U32(0), U16(SEL_X)), SEL_X);
}

static void prot_callf_pushes_and_stack_fault(void **state)
{
	assert_ok(RUN(0x9a, U32(0x3000), U16(SEL_CODE32)));
	assert_int_equal(CPU.rip, 0x3000);
	assert_int_equal(fake_r32(FAKE_STACK - 4), SEL_CODE32);
	assert_int_equal(fake_r32(FAKE_STACK - 8), FAKE_CODE + 7);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK - 8);
	/* Room for CS only: #SS(0), rSP unchanged. */
	fake_setup(NULL);
	CPU.seg[EMU_SS].limit = FAKE_STACK - 5;
	assert_exc(RUN(0x9a, U32(0x3000), U16(SEL_CODE32)), EMU_EXC_SS, 0);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK);
	assert_int_equal(CPU.rip, FAKE_CODE);
}

static void callf_indirect_16bit(void **state)
{
	fake_w16(FAKE_DATA, 0x4444);
	fake_w16(FAKE_DATA + 2, SEL_CODE16);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0x66, 0xff, 0x1b));		/* call far word [ebx] */
	assert_int_equal(CPU.rip, 0x4444);
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_CODE16);
	assert_int_equal(fake_r16(FAKE_STACK - 2), SEL_CODE32);
	assert_int_equal(fake_r16(FAKE_STACK - 4), (FAKE_CODE + 3) & 0xffff);
}

/* ------------------------------------------------------------ call gates */

static void gate_same_privilege(void **state)
{
	fake_set_gate(SEL_G, SEL_CODE32, 0x7777, 12, 0, 0);
	assert_ok(RUN(0x9a, U32(0xdead), U16(SEL_G)));	/* offset ignored */
	assert_int_equal(CPU.rip, 0x7777);
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_CODE32);
	assert_int_equal(fake_r32(FAKE_STACK - 8), FAKE_CODE + 7);
	fake_setup(NULL);
	fake_set_gate(SEL_G, SEL_CODE32, 0x7777, 12, 0, 0);
	assert_ok(RUN(0xea, U32(0), U16(SEL_G)));	/* jmp: nothing pushed */
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK);
	assert_int_equal(CPU.rip, 0x7777);
}

static void gate_more_privilege_switches_stack(void **state)
{
	fake_mode_prot32(3);
	fake_set_gate(SEL_G, SEL_CODE32, 0x8888, 12, 3, 2);
	fake_w32(FAKE_STACK, 0x11111111);		/* parameters */
	fake_w32(FAKE_STACK + 4, 0x22222222);
	assert_ok(RUN(0x9a, U32(0), U16(SEL_G | 3)));
	assert_int_equal(CPU.cpl, 0);
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_CODE32);
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32);
	assert_int_equal(CPU.rip, 0x8888);
	const uint64_t sp = FAKE_STACK0 - 24;
	assert_int_equal(CPU.gpr[EMU_RSP], sp);
	assert_int_equal(fake_r32(sp), FAKE_CODE + 7);		/* EIP */
	assert_int_equal(fake_r32(sp + 4), SEL_CODE32_3 | 3);	/* CS */
	assert_int_equal(fake_r32(sp + 8), 0x11111111);		/* params */
	assert_int_equal(fake_r32(sp + 12), 0x22222222);
	assert_int_equal(fake_r32(sp + 16), FAKE_STACK);	/* ESP */
	assert_int_equal(fake_r32(sp + 20), SEL_DATA32_3 | 3);	/* SS */
	assert_int_equal(fake.mode_changed_count, 1);
}

static void gate_more_privilege_faults(void **state)
{
	fake_mode_prot32(3);
	fake_set_gate(SEL_G, SEL_CODE32, 0x8888, 12, 3, 0);
	/* TSS SS0 with RPL != DPL: #TS(SS). */
	fake_w32(FAKE_TSS + 8, SEL_DATA32 | 1);
	assert_exc(RUN(0x9a, U32(0), U16(SEL_G | 3)), EMU_EXC_TS, SEL_DATA32);
	/* TSS too short for ESP0/SS0: #TS(TSS). */
	fake_w32(FAKE_TSS + 8, SEL_DATA32);
	CPU.tr.limit = 8;
	assert_exc(RUN(0x9a, U32(0), U16(SEL_G | 3)), EMU_EXC_TS, SEL_TSS);
	CPU.tr.limit = 0x2068;
	/* New stack has no room (beyond the SS0 limit): #SS(SS0), nothing
	 * changed. */
	fake_set_desc(SEL_X, 0, 0xfff, 0x93 | EMU_AR_DB);
	fake_w32(FAKE_TSS + 8, SEL_X);
	fake_w32(FAKE_TSS + 4, 0x2000);
	assert_exc(RUN(0x9a, U32(0), U16(SEL_G | 3)), EMU_EXC_SS, SEL_X);
	assert_int_equal(CPU.cpl, 3);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK);
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32_3 | 3);
	/* New SS not present: #SS(SS0). */
	fake_w32(FAKE_TSS + 4, FAKE_STACK0);
	fake_w32(FAKE_TSS + 8, SEL_X);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x13 | EMU_AR_DB | EMU_AR_G);
	assert_exc(RUN(0x9a, U32(0), U16(SEL_G | 3)), EMU_EXC_SS, SEL_X);
}

static void gate_checks(void **state)
{
	fake_mode_prot32(3);
	fake_set_gate(SEL_G, SEL_CODE32, 0, 12, 0, 0);		/* gate DPL 0 < CPL */
	assert_gp(RUN(0x9a, U32(0), U16(SEL_G | 3)), SEL_G);
	fake_set_gate(SEL_G, SEL_CODE32, 0, 12, 3, 0);
	fake_w8(FAKE_GDT + SEL_G + 5, 0x6c);			/* not present */
	assert_exc(RUN(0x9a, U32(0), U16(SEL_G | 3)), EMU_EXC_NP, SEL_G);
	fake_set_gate(SEL_G, 0, 0, 12, 3, 0);			/* null target */
	assert_gp(RUN(0x9a, U32(0), U16(SEL_G | 3)), 0);
	fake_set_gate(SEL_G, SEL_DATA32, 0, 12, 3, 0);		/* not code */
	assert_gp(RUN(0x9a, U32(0), U16(SEL_G | 3)), SEL_DATA32);
	/* JMP through a gate cannot raise privilege. */
	fake_set_gate(SEL_G, SEL_CODE32, 0, 12, 3, 0);
	assert_gp(RUN(0xea, U32(0), U16(SEL_G | 3)), SEL_CODE32);
}

static void task_gate_is_unhandleable(void **state)
{
	fake_set_gate(SEL_G, SEL_TSS, 0, 5, 0, 0);
	assert_int_equal(RUN(0xea, U32(0), U16(SEL_G)), EMU_UNHANDLEABLE);
	assert_string_equal(fake.ctx.unhandleable, "task switch");
	fake_set_desc(SEL_X, FAKE_TSS, 0x67, 0x89);
	assert_int_equal(RUN(0x9a, U32(0), U16(SEL_X)), EMU_UNHANDLEABLE);
}

/* ------------------------------------------------------------ IA-32e mode */

static void long_jmpf_indirect_to_compat(void **state)
{
	fake_mode_long(0);
	fake_w64(FAKE_DATA, 0x1234);
	fake_w16(FAKE_DATA + 8, SEL_CODE32);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0x48, 0xff, 0x2b));		/* jmp far qword [rbx] */
	assert_int_equal(CPU.rip, 0x1234);
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_32);
}

static void long_far_to_l_and_d_set_gp(void **state)
{
	fake_mode_long(0);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x9b | EMU_AR_L | EMU_AR_DB);
	fake_w32(FAKE_DATA, 0);
	fake_w16(FAKE_DATA + 4, SEL_X);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_gp(RUN(0xff, 0x2b), SEL_X);
	/* 16-bit call gates do not exist in IA-32e mode. */
	fake_set_gate(SEL_G, SEL_CODE64, 0, 4, 0, 0);
	fake_w16(FAKE_DATA + 4, SEL_G);
	assert_gp(RUN(0xff, 0x2b), SEL_G);
}

static void long_call_gate64_more_privilege(void **state)
{
	fake_mode_long(3);
	fake_set_gate64(SEL_G, SEL_CODE64, 0x0000123400005678ull, 3);
	fake_w32(FAKE_DATA, 0);
	fake_w16(FAKE_DATA + 4, SEL_G | 3);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0xff, 0x1b));			/* call far [rbx] */
	assert_int_equal(CPU.cpl, 0);
	assert_int_equal(CPU.rip, 0x0000123400005678ull);
	assert_int_equal(CPU.seg[EMU_SS].sel, 0);	/* null, RPL = new CPL */
	const uint64_t sp = FAKE_STACK0 - 32;
	assert_int_equal(CPU.gpr[EMU_RSP], sp);
	assert_int_equal(fake_r64(sp), FAKE_CODE + 2);
	assert_int_equal(fake_r64(sp + 8), SEL_CODE64_3 | 3);
	assert_int_equal(fake_r64(sp + 16), FAKE_STACK);
	assert_int_equal(fake_r64(sp + 24), SEL_DATA32_3 | 3);
	/* Gate to a non-64-bit code segment: #GP(target). */
	fake_mode_long(3);
	fake_set_gate64(SEL_G, SEL_CODE32, 0x5678, 3);
	assert_gp(RUN(0xff, 0x1b), SEL_CODE32);
}

/* ------------------------------------------------------------ RETF */

static void retf_outer_privilege_nulls_data_segments(void **state)
{
	fake_w32(FAKE_STACK, 0x4000);
	fake_w32(FAKE_STACK + 4, SEL_CODE32_3 | 3);
	fake_w32(FAKE_STACK + 16, 0x8000);		/* after imm 8 */
	fake_w32(FAKE_STACK + 20, SEL_DATA32_3 | 3);
	CPU.seg[EMU_FS] = fake_seg(SEL_DATA32_3);	/* DPL 3: kept */
	assert_ok(RUN(0xca, U16(8)));			/* retf 8 */
	assert_int_equal(CPU.cpl, 3);
	assert_int_equal(CPU.rip, 0x4000);
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32_3 | 3);
	assert_int_equal(CPU.gpr[EMU_RSP], 0x8000 + 8);
	assert_int_equal(CPU.seg[EMU_DS].sel, 0);		/* DPL 0 < CPL 3 */
	assert_true(CPU.seg[EMU_DS].ar & EMU_AR_UNUSABLE);
	assert_int_equal(CPU.seg[EMU_FS].sel, SEL_DATA32_3);
}

static void retf_checks(void **state)
{
	fake_mode_prot32(3);
	fake_w32(FAKE_STACK, 0x4000);
	fake_w32(FAKE_STACK + 4, SEL_CODE32);		/* RPL 0 < CPL 3 */
	assert_gp(RUN(0xcb), SEL_CODE32);
	fake_w32(FAKE_STACK + 4, 0);
	assert_gp(RUN(0xcb), 0);
	fake_mode_prot32(0);
	fake_w32(FAKE_STACK, 0x4000);
	fake_w32(FAKE_STACK + 4, SEL_CODE32_3 | 3);
	fake_w32(FAKE_STACK + 8, 0x8000);
	fake_w32(FAKE_STACK + 12, SEL_DATA32 | 3);	/* SS RPL 3, DPL 0 */
	assert_gp(RUN(0xcb), SEL_DATA32);
	fake_w32(FAKE_STACK + 12, SEL_CODE32 | 3);	/* SS not writable data */
	assert_gp(RUN(0xcb), SEL_CODE32);
	assert_int_equal(CPU.cpl, 0);
	/* Same level, 16-bit. */
	fake_w16(FAKE_STACK, 0x10);
	fake_w16(FAKE_STACK + 2, SEL_CODE16);
	assert_ok(RUN(0x66, 0xcb));
	assert_int_equal(CPU.rip, 0x10);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK + 4);
}

/* ------------------------------------------------------------ IRET */

static void iret_same_privilege_flag_rules(void **state)
{
	fake_mode_prot32(3);				/* IOPL 0 < CPL 3 */
	fake_w32(FAKE_STACK, 0x5000);
	fake_w32(FAKE_STACK + 4, SEL_CODE32_3 | 3);
	fake_w32(FAKE_STACK + 8, 0x3fffff);
	assert_ok(RUN(0xcf));
	assert_int_equal(CPU.rip, 0x5000);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK + 12);
	/* IF, IOPL, VM, VIF, VIP unchanged; arithmetic, TF, DF, NT, RF, AC, ID set. */
	assert_false(CPU.rflags & (EMU_FLAG_IF | EMU_FLAG_IOPL | EMU_FLAG_VM |
				   EMU_FLAG_VIF | EMU_FLAG_VIP));
	assert_true((CPU.rflags & (EMU_FLAGS_ARITH | EMU_FLAG_NT | EMU_FLAG_AC |
				   EMU_FLAG_ID)) ==
		    (EMU_FLAGS_ARITH | EMU_FLAG_NT | EMU_FLAG_AC | EMU_FLAG_ID));
	/* CPL 0: IF and IOPL change too. */
	fake_mode_prot32(0);
	fake_w32(FAKE_STACK, 0x5000);
	fake_w32(FAKE_STACK + 4, SEL_CODE32);
	fake_w32(FAKE_STACK + 8, EMU_FLAG_IF | EMU_FLAG_IOPL | 2);
	assert_ok(RUN(0xcf));
	assert_int_equal(CPU.rflags, EMU_FLAG_IF | EMU_FLAG_IOPL | 2);
}

static void iret_outer_privilege(void **state)
{
	fake_w32(FAKE_STACK, 0x5000);
	fake_w32(FAKE_STACK + 4, SEL_CODE32_3 | 3);
	fake_w32(FAKE_STACK + 8, EMU_FLAG_IF | 2);
	fake_w32(FAKE_STACK + 12, 0x7000);
	fake_w32(FAKE_STACK + 16, SEL_DATA32_3 | 3);
	assert_ok(RUN(0xcf));
	assert_int_equal(CPU.cpl, 3);
	assert_int_equal(CPU.gpr[EMU_RSP], 0x7000);
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32_3 | 3);
	assert_true(CPU.rflags & EMU_FLAG_IF);
	/* Return CS not present: #NP(cs). */
	fake_mode_prot32(0);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x1b | EMU_AR_DB);
	fake_w32(FAKE_STACK + 4, SEL_X);
	assert_exc(RUN(0xcf), EMU_EXC_NP, SEL_X);
}

static void iret_nested_task(void **state)
{
	CPU.rflags |= EMU_FLAG_NT;
	assert_int_equal(RUN(0xcf), EMU_UNHANDLEABLE);
	assert_string_equal(fake.ctx.unhandleable, "task switch");
	fake_mode_long(0);
	CPU.rflags |= EMU_FLAG_NT;
	assert_gp(RUN(0x48, 0xcf), 0);
}

static void iret_to_vm86(void **state)
{
	const uint32_t st[] = { 0x100, 0x2000, EMU_FLAG_VM | EMU_FLAG_IF | 2,
				0x0ffe, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000 };
	for (unsigned i = 0; i < 9; i++)
		fake_w32(FAKE_STACK + 4 * i, st[i]);
	assert_ok(RUN(0xcf));
	assert_int_equal(CPU.cpl, 3);
	assert_true(CPU.rflags & EMU_FLAG_VM);
	assert_int_equal(CPU.rip, 0x100);
	assert_int_equal(CPU.seg[EMU_CS].base, 0x20000);
	assert_int_equal(CPU.seg[EMU_SS].base, 0x30000);
	assert_int_equal(CPU.gpr[EMU_RSP], 0x0ffe);
	assert_int_equal(CPU.seg[EMU_ES].sel, 0x4000);
	assert_int_equal(CPU.seg[EMU_GS].base, 0x70000);
	assert_int_equal(CPU.seg[EMU_DS].ar, 0xf3);
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_16);
}

static void iret_in_vm86(void **state)
{
	fake_mode_vm86(0);
	assert_gp(RUN(0xcf), 0);			/* IOPL < 3, no VME */
	fake_mode_vm86(3);
	fake_w16(FAKE_STACK, 0x40);
	fake_w16(FAKE_STACK + 2, 0x1100);
	fake_w16(FAKE_STACK + 4, EMU_FLAG_IF | 2);	/* IOPL 0 in the image */
	assert_ok(RUN(0xcf));
	assert_int_equal(CPU.rip, 0x40);
	assert_int_equal((CPU.rflags & EMU_FLAG_IOPL) >> 12, 3);
	/* VME, IOPL < 3, 16-bit: the popped IF goes to VIF. */
	fake_mode_vm86(0);
	CPU.cr4 |= X86_CR4_VME;
	fake_w16(FAKE_STACK + 4, EMU_FLAG_IF | 2);
	assert_ok(RUN(0xcf));
	assert_true(CPU.rflags & EMU_FLAG_VIF);
	assert_false(CPU.rflags & EMU_FLAG_IF);
	/* ... but TF in the image faults. */
	fake_mode_vm86(0);
	CPU.cr4 |= X86_CR4_VME;
	fake_w16(FAKE_STACK + 4, EMU_FLAG_TF | 2);
	assert_gp(RUN(0xcf), 0);
}

static void iretq_pops_ss_rsp_at_same_level(void **state)
{
	fake_mode_long(0);
	fake_w64(FAKE_STACK, 0x6000);
	fake_w64(FAKE_STACK + 8, SEL_CODE64);
	fake_w64(FAKE_STACK + 16, 2);
	fake_w64(FAKE_STACK + 24, 0x7ff0);
	fake_w64(FAKE_STACK + 32, 0);			/* null SS at CPL 0: allowed */
	assert_ok(RUN(0x48, 0xcf));
	assert_int_equal(CPU.rip, 0x6000);
	assert_int_equal(CPU.gpr[EMU_RSP], 0x7ff0);
	assert_int_equal(CPU.seg[EMU_SS].sel, 0);
	/* To compatibility mode at CPL 3. */
	fake_mode_long(0);
	fake_w64(FAKE_STACK, 0x6000);
	fake_w64(FAKE_STACK + 8, SEL_CODE32_3 | 3);
	fake_w64(FAKE_STACK + 16, 2);
	fake_w64(FAKE_STACK + 24, 0x7ff0);
	fake_w64(FAKE_STACK + 32, SEL_DATA32_3 | 3);
	assert_ok(RUN(0x48, 0xcf));
	assert_int_equal(CPU.cpl, 3);
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_32);
	/* Null SS to compatibility mode: #GP. */
	fake_mode_long(0);
	fake_w64(FAKE_STACK + 8, SEL_CODE32_3 | 3);
	fake_w64(FAKE_STACK + 32, 3);
	assert_gp(RUN(0x48, 0xcf), 0);
	/* Non-canonical RIP: #GP(0). */
	fake_w64(FAKE_STACK, 0x0000800000000000ull);
	fake_w64(FAKE_STACK + 8, SEL_CODE64);
	fake_w64(FAKE_STACK + 32, 0);
	assert_gp(RUN(0x48, 0xcf), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, fake_setup)
		T(real_jmpf_and_callf),
		T(real_retf_imm_and_limit),
		T(real_iret_flags),
		T(prot_jmpf_code_segment),
		T(prot_jmpf_faults),
		T(prot_jmpf_conforming_keeps_cpl),
		T(prot_callf_pushes_and_stack_fault),
		T(callf_indirect_16bit),
		T(gate_same_privilege),
		T(gate_more_privilege_switches_stack),
		T(gate_more_privilege_faults),
		T(gate_checks),
		T(task_gate_is_unhandleable),
		T(long_jmpf_indirect_to_compat),
		T(long_far_to_l_and_d_set_gp),
		T(long_call_gate64_more_privilege),
		T(retf_outer_privilege_nulls_data_segments),
		T(retf_checks),
		T(iret_same_privilege_flag_rules),
		T(iret_outer_privilege),
		T(iret_nested_task),
		T(iret_to_vm86),
		T(iret_in_vm86),
		T(iretq_pops_ss_rsp_at_same_level),
	};
	return cmocka_run_group_tests_name("sys_far", tests, NULL, NULL);
}
