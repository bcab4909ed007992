/*
 * test_sys_deliver.c — event delivery through the IDT (emulate/deliver.c)
 * per SDM Vol. 3A 6.12-6.14, 20.1.4, 20.3.1 and the INT n "Operation"
 * in Vol. 2A: the frames each mode builds (the faults delivery raises
 * are test_sys_deliver_faults.c's).
 *
 * Frames are checked slot by slot at the addresses the SDM gives them;
 * error codes are written out as the manual builds them: selector & FCh
 * | EXT, or vector * 8 + 2 | EXT for the IDT (SDM Vol. 3A 6.13).
 */
#include "test_sys_deliver.h"
static void event_types_are_the_vmx_numbering(void **state)
{
	assert_int_equal(EMU_EVENT_TYPE_EXT_INT, T_EXT);
	assert_int_equal(EMU_EVENT_TYPE_NMI, T_NMI);
	assert_int_equal(EMU_EVENT_TYPE_HW_EXC, T_HW);
	assert_int_equal(EMU_EVENT_TYPE_SOFT_INT, T_SOFT);
	assert_int_equal(EMU_EVENT_TYPE_PRIV_SOFT_EXC, T_PRIV);
	assert_int_equal(EMU_EVENT_TYPE_SOFT_EXC, T_SOFTEXC);
}

/* ------------------------------------------------------------ real mode */

static void real_mode_frame(void **state)
{
	fake_mode_real();				/* CS 1000h, SS 0, SP 9000h */
	CPU.rip = 0x5678;
	CPU.rflags = F_FIXED | F_CF | F_IF | F_TF | F_AC | F_RF;
	fake_w16(IDT + 0x21 * 4, 0x1234);		/* offset */
	fake_w16(IDT + 0x21 * 4 + 2, 0x2000);		/* segment */
	fake_w16(FAKE_STACK - 8, 0xdead);
	assert_ok(deliver(0x21, T_HW, 0x55));
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK - 6);
	/*    IP      CS      FLAGS, and no error code below */
	FRAME(FAKE_STACK - 8, 2, 0xdead, 0x5678, 0x1000, 0x0303);
	assert_int_equal(CPU.seg[EMU_CS].sel, 0x2000);
	assert_int_equal(CPU.seg[EMU_CS].base, 0x20000);
	assert_int_equal(CPU.rip, 0x1234);
	assert_int_equal(CPU.rflags, F_FIXED | F_CF);	/* IF TF AC RF cleared */
	assert_int_equal(fake.mode_changed_count, 1);
}

static void real_mode_faults(void **state)
{
	fake_mode_real();
	fake_w16(IDT + 0x21 * 4, 0x1234);
	CPU.idtr.limit = 0x21 * 4 + 2;			/* entry not covered */
	const struct emu_cpu before = CPU;
	assert_int_equal(deliver(0x21, T_EXT, -1), EMU_EXCEPTION);
	assert_int_equal(fake.ctx.exc.vector, EMU_EXC_GP);
	assert_untouched(&before);
	CPU.idtr.limit = 0x21 * 4 + 3;
	CPU.seg[EMU_SS].limit = FAKE_STACK - 5;		/* FLAGS slot beyond it */
	const struct emu_cpu before2 = CPU;
	assert_int_equal(deliver(0x21, T_EXT, -1), EMU_EXCEPTION);
	assert_int_equal(fake.ctx.exc.vector, EMU_EXC_SS);
	assert_untouched(&before2);
}

/* ------------------------------------------------------------ same privilege */

static void prot_interrupt_gate_same_privilege(void **state)
{
	const uint32_t fl = F_FIXED | F_CF | F_IF | F_TF | F_NT | F_RF | F_AC;
	gate(13, SEL_CODE32, 0x12345678, INT32, 0);
	CPU.rflags = fl;
	CPU.rip = FAKE_CODE + 3;
	assert_ok(deliver(13, T_HW, 0x1234));
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK - 16);
	/*    error   EIP            CS (zero-padded)  EFLAGS */
	FRAME(FAKE_STACK - 16, 4, 0x1234, FAKE_CODE + 3, SEL_CODE32, fl);
	assert_int_equal(CPU.rflags, F_FIXED | F_CF | F_AC);	/* AC survives */
	assert_int_equal(CPU.rip, 0x12345678);
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_CODE32);
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32);
	assert_int_equal(CPU.cpl, 0);
	assert_int_equal(fake.mode_changed_count, 1);
}

static void prot_trap_gate_keeps_if(void **state)
{
	gate(0x41, SEL_CODE32, 0x7000, TRAP32, 0);
	CPU.rflags = F_FIXED | F_IF | F_TF;
	assert_ok(deliver(0x41, T_EXT, -1));
	assert_int_equal(CPU.rflags, F_FIXED | F_IF);
	assert_int_equal(fake_r32(FAKE_STACK - 4), F_FIXED | F_IF | F_TF);
}

static void prot_16bit_gate_same_privilege(void **state)
{
	/* Bits 31:16 of a 16-bit gate are not part of the offset. */
	gate(13, SEL_CODE16, 0xabcd1234, INT16, 0);
	CPU.rip = 0x10042;
	CPU.rflags = F_FIXED | F_IF | F_CF;
	assert_ok(deliver(13, T_HW, 0xbeef));
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK - 8);
	/*    error   IP      CS          FLAGS */
	FRAME(FAKE_STACK - 8, 2, 0xbeef, 0x0042, SEL_CODE32, F_FIXED | F_IF | F_CF);
	assert_int_equal(CPU.rip, 0x1234);
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_CODE16);
	assert_int_equal(CPU.rflags, F_FIXED | F_CF);
}

static void prot_16bit_stack_moves_sp_only(void **state)
{
	fake_set_desc(SEL_FREE, FAKE_DATA, 0xffff, 0x93);	/* B = 0 */
	CPU.seg[EMU_SS] = fake_seg(SEL_FREE);
	CPU.gpr[EMU_RSP] = 0xabcd0010;
	gate(0x41, SEL_CODE32, 0x7000, INT32, 0);
	assert_ok(deliver(0x41, T_EXT, -1));
	assert_int_equal(CPU.gpr[EMU_RSP], 0xabcd0004);
	FRAME(FAKE_DATA + 4, 4, FAKE_CODE, SEL_CODE32, F_FIXED);
}

/* ------------------------------------------------------------ inner privilege */

static void prot_inner_privilege_frame(void **state)
{
	fake_mode_prot32(3);
	gate(0x30, SEL_CODE32, 0x4000, INT32, 0);
	CPU.rflags = F_FIXED | F_IF;
	CPU.rip = FAKE_CODE + 2;
	assert_ok(deliver(0x30, T_EXT, -1));
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK0 - 20);	/* ESP0 from the TSS */
	/*    EIP            CS                 EFLAGS          ESP         SS */
	FRAME(FAKE_STACK0 - 20, 4, FAKE_CODE + 2, SEL_CODE32_3 | 3, F_FIXED | F_IF,
	      FAKE_STACK, SEL_DATA32_3 | 3);
	assert_int_equal(CPU.cpl, 0);
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_CODE32);
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32);
	assert_int_equal(CPU.seg[EMU_DS].sel, SEL_DATA32_3 | 3);	/* kept */
	assert_int_equal(CPU.rflags, F_FIXED);
	assert_int_equal(CPU.rip, 0x4000);
	/* With an error code: 24 bytes, the code lowest. */
	fake_mode_prot32(3);
	assert_ok(deliver(0x30, T_HW, 0x18));
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK0 - 24);
	FRAME(FAKE_STACK0 - 24, 4, 0x18, FAKE_CODE, SEL_CODE32_3 | 3, F_FIXED,
	      FAKE_STACK, SEL_DATA32_3 | 3);
}

static void prot_16bit_gate_16bit_tss(void **state)
{
	fake_mode_prot32(3);
	CPU.tr.ar = 0x83;				/* busy 16-bit TSS */
	fake_w16(FAKE_TSS + 2, 0x8000);			/* SP0 */
	fake_w16(FAKE_TSS + 4, SEL_DATA32);		/* SS0 */
	gate(0x31, SEL_CODE32, 0x4000, TRAP16, 0);
	CPU.rflags = F_FIXED | F_IF;
	CPU.rip = FAKE_CODE + 0x22;
	assert_ok(deliver(0x31, T_EXT, -1));
	assert_int_equal(CPU.gpr[EMU_RSP], 0x8000 - 10);
	/*    IP      CS                 FLAGS           SP          SS */
	FRAME(0x8000 - 10, 2, 0x0022, SEL_CODE32_3 | 3, F_FIXED | F_IF, FAKE_STACK,
	      SEL_DATA32_3 | 3);
	assert_int_equal(CPU.rflags, F_FIXED | F_IF);		/* trap gate */
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32);
}

static void prot_accessed_bits_set(void **state)
{
	fake_mode_prot32(3);
	fake_set_desc(SEL_FREE, 0, 0xfffff, 0x9a | EMU_AR_DB | EMU_AR_G);	/* code, A = 0 */
	fake_set_desc(SEL_F2, 0, 0xfffff, 0x92 | EMU_AR_DB | EMU_AR_G);	/* data, A = 0 */
	fake_w32(FAKE_TSS + 8, SEL_F2);
	gate(0x30, SEL_FREE, 0x4000, INT32, 0);
	assert_ok(deliver(0x30, T_EXT, -1));
	assert_true(fake_desc_hi(SEL_FREE) & (1u << 8));
	assert_true(fake_desc_hi(SEL_F2) & (1u << 8));
}

/* ------------------------------------------------------------ vm86 */

static void vm86_to_ring0_frame(void **state)
{
	fake_mode_vm86(3);
	CPU.seg[EMU_ES].sel = 0x1111;
	CPU.seg[EMU_DS].sel = 0x4444;
	CPU.seg[EMU_FS].sel = 0x2222;
	CPU.seg[EMU_GS].sel = 0x3333;
	CPU.rip = 0x42;
	gate(13, SEL_CODE32, 0x5000, INT32, 0);
	assert_ok(deliver(13, T_HW, 0));
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK0 - 40);
	/*    error EIP   CS              EFLAGS                    ESP */
	FRAME(FAKE_STACK0 - 40, 4, 0, 0x42, FAKE_CODE >> 4, F_FIXED | F_VM | F_IOPL3, FAKE_STACK,
	/*    SS ES      DS      FS      GS */
	      0, 0x1111, 0x4444, 0x2222, 0x3333);
	assert_int_equal(CPU.rflags, F_FIXED | F_IOPL3);
	assert_int_equal(CPU.cpl, 0);
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_CODE32);
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32);
	static const unsigned nulled[] = { EMU_ES, EMU_DS, EMU_FS, EMU_GS };
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(CPU.seg[nulled[i]].sel, 0);
		assert_true(CPU.seg[nulled[i]].ar & EMU_AR_UNUSABLE);
	}
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_32);
	assert_int_equal(CPU.rip, 0x5000);
}

static void vm86_16bit_gate_frame(void **state)
{
	fake_mode_vm86(3);
	CPU.seg[EMU_GS].sel = 0x3333;
	gate(0x20, SEL_CODE32, 0x5000, INT16, 0);
	assert_ok(deliver(0x20, T_EXT, -1));
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK0 - 18);
	/* IP, CS, FLAGS (VM is bit 17, not in them), SP, SS, ES, DS, FS, GS */
	FRAME(FAKE_STACK0 - 18, 2, FAKE_CODE & 0xffff, FAKE_CODE >> 4, F_FIXED | F_IOPL3,
	      FAKE_STACK, 0, FAKE_DATA >> 4, FAKE_DATA >> 4, FAKE_DATA >> 4, 0x3333);
}

static void vm86_handler_must_be_ring0_nonconforming(void **state)
{
	fake_mode_vm86(3);
	const struct emu_cpu before = CPU;
	gate(13, SEL_CODE32_3, 0x5000, INT32, 3);		/* DPL 3 = CPL */
	assert_gp(deliver(13, T_HW, 0), SEL_CODE32_3 | 1);
	fake_set_desc(SEL_FREE, 0, 0xfffff, 0x9f | EMU_AR_DB | EMU_AR_G);	/* conforming 0 */
	gate(13, SEL_FREE, 0x5000, INT32, 3);
	assert_gp(deliver(13, T_HW, 0), SEL_FREE | 1);
	fake_set_desc(SEL_FREE, 0, 0xfffff, 0xbb | EMU_AR_DB | EMU_AR_G);	/* DPL 1 */
	assert_gp(deliver(13, T_HW, 0), SEL_FREE | 1);
	/* INT n (IOPL 3) through a DPL 3 gate to ring 3 code: EXT = 0. */
	gate(0x21, SEL_CODE32_3, 0x5000, INT32, 3);
	assert_gp(deliver(0x21, T_SOFT, -1), SEL_CODE32_3);
	assert_untouched(&before);
}

static void vm86_vme_int_n_is_unhandleable(void **state)
{
	fake_mode_vm86(3);
	CPU.cr4 |= X86_CR4_VME;
	gate(0x21, SEL_CODE32, 0x5000, INT32, 3);
	assert_int_equal(deliver(0x21, T_SOFT, -1), EMU_UNHANDLEABLE);
	assert_non_null(fake.ctx.unhandleable);
	/* Other events do not consult the redirection bitmap. */
	assert_ok(deliver(0x21, T_EXT, -1));
	assert_int_equal(CPU.cpl, 0);
}

/* ------------------------------------------------------------ IA-32e mode */

static void long_same_privilege_frame(void **state)
{
	const uint64_t fl = F_FIXED | F_IF | F_TF | F_RF | F_NT | F_AC;
	fake_mode_long(0);
	CPU.idtr.limit = 0xfff;
	gate64(14, SEL_CODE64, 0x00007fff12345678ull, INT32, 0, 0);
	CPU.gpr[EMU_RSP] = FAKE_STACK + 8;		/* not 16-byte aligned */
	CPU.rflags = fl;
	CPU.rip = 0x0000123400005678ull;
	fake_w64(FAKE_STACK, 0x5a5a5a5a5a5a5a5aull);
	assert_ok(deliver(14, T_HW, 2));
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK - 48);	/* aligned, 6 pushes */
	/*    error RIP                    CS          RFLAGS RSP */
	FRAME(FAKE_STACK - 48, 8, 2, 0x0000123400005678ull, SEL_CODE64, fl, FAKE_STACK + 8,
	/*    SS          the alignment gap */
	      SEL_DATA32, 0x5a5a5a5a5a5a5a5aull);
	assert_int_equal(CPU.rip, 0x00007fff12345678ull);
	assert_int_equal(CPU.rflags, F_FIXED | F_AC);
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32);
	assert_int_equal(CPU.cpl, 0);
}

static void long_privilege_change(void **state)
{
	fake_mode_long(3);
	fake_w64(FAKE_TSS + 4, FAKE_STACK0 + 8);	/* RSP0, unaligned */
	gate64(0x20, SEL_CODE64, 0x7000, INT32, 0, 0);
	CPU.rflags = F_FIXED | F_IF;
	assert_ok(deliver(0x20, T_EXT, -1));
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK0 - 40);
	/*    RIP        CS                 RFLAGS          RSP         SS */
	FRAME(FAKE_STACK0 - 40, 8, FAKE_CODE, SEL_CODE64_3 | 3, F_FIXED | F_IF, FAKE_STACK,
	      SEL_DATA32_3 | 3);
	assert_int_equal(CPU.cpl, 0);
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_CODE64);
	assert_int_equal(CPU.seg[EMU_SS].sel, 0);			/* null, RPL 0 */
	assert_true(CPU.seg[EMU_SS].ar & EMU_AR_UNUSABLE);
	/* To ring 1: RSP1 at TSS + 12, SS = null selector with RPL 1. */
	fake_mode_long(3);
	fake_set_desc(SEL_FREE, 0, 0xfffff, 0xbb | EMU_AR_L | EMU_AR_G);
	fake_w64(FAKE_TSS + 12, 0xb000);
	gate64(0x20, SEL_FREE, 0x7000, INT32, 0, 0);
	assert_ok(deliver(0x20, T_EXT, -1));
	assert_int_equal(CPU.cpl, 1);
	assert_int_equal(CPU.seg[EMU_SS].sel, 1);
	assert_int_equal(EMU_AR_DPL(CPU.seg[EMU_SS].ar), 1);	/* SS.DPL = CPL */
	assert_int_equal(CPU.seg[EMU_CS].sel, SEL_FREE | 1);
	assert_int_equal(CPU.gpr[EMU_RSP], 0xb000 - 40);
}

static void long_ist(void **state)
{
	/* IST2 is at TSS offset 2Ch; it is used even without a privilege
	 * change, and SS then stays. */
	fake_mode_long(0);
	fake_w64(FAKE_TSS + 0x2c, 0xc008);
	gate64(2, SEL_CODE64, 0x7000, INT32, 0, 2);
	assert_ok(deliver(2, T_NMI, -1));
	assert_int_equal(CPU.gpr[EMU_RSP], 0xc000 - 40);
	FRAME(0xc000 - 40, 8, FAKE_CODE, SEL_CODE64, F_FIXED, FAKE_STACK, SEL_DATA32);
	assert_int_equal(CPU.seg[EMU_SS].sel, SEL_DATA32);
	/* From ring 3 the IST wins over RSP0. */
	fake_mode_long(3);
	fake_w64(FAKE_TSS + 0x2c, 0xc000);
	gate64(2, SEL_CODE64, 0x7000, INT32, 0, 2);
	assert_ok(deliver(2, T_NMI, -1));
	assert_int_equal(CPU.gpr[EMU_RSP], 0xc000 - 40);
	assert_int_equal(CPU.seg[EMU_SS].sel, 0);
}

static void long_from_compatibility_mode(void **state)
{
	fake_mode_compat(3);
	gate64(0x20, SEL_CODE64, 0x7000, TRAP32, 0, 0);
	CPU.rip = 0x1234;
	assert_ok(deliver(0x20, T_EXT, -1));
	assert_int_equal(emu_cpu_mode(&CPU), EMU_MODE_64);
	FRAME(FAKE_STACK0 - 40, 8, 0x1234, SEL_CODE32_3 | 3, F_FIXED, FAKE_STACK,
	      SEL_DATA32_3 | 3);
}

static void long_gate_and_target_faults(void **state)
{
	const int idt14 = 14 * 8 + 2 + 1;
	fake_mode_long(0);
	const struct emu_cpu before = CPU;
	gate64(14, SEL_CODE64, 0x7000, INT32, 0, 0);
	CPU.idtr.limit = 14 * 16 + 14;			/* 16-byte entries */
	assert_gp(deliver(14, T_HW, 0), idt14);
	CPU.idtr.limit = 0x7ff;
	gate64(14, SEL_CODE64, 0x7000, INT16, 0, 0);	/* no 16-bit gates */
	assert_gp(deliver(14, T_HW, 0), idt14);
	gate64(14, SEL_CODE64, 0x7000, TASK, 0, 0);	/* nor task gates */
	assert_gp(deliver(14, T_HW, 0), idt14);
	gate64(14, SEL_CODE64, 0x7000, INT32, 0, 0);
	fake_w32(IDT + 14 * 16 + 12, 0x100);		/* upper type field != 0 */
	assert_gp(deliver(14, T_HW, 0), idt14);
	gate64(14, SEL_CODE32, 0x7000, INT32, 0, 0);	/* not 64-bit code */
	assert_gp(deliver(14, T_HW, 0), SEL_CODE32 | 1);
	fake_set_desc(SEL_FREE, 0, 0xfffff, 0x9b | EMU_AR_L | EMU_AR_DB | EMU_AR_G);
	gate64(14, SEL_FREE, 0x7000, INT32, 0, 0);	/* L and D */
	assert_gp(deliver(14, T_HW, 0), SEL_FREE | 1);
	gate64(14, SEL_CODE64, 0x0000800000000000ull, INT32, 0, 0);
	assert_gp(deliver(14, T_HW, 0), 1);		/* non-canonical RIP */
	CPU.idtr = before.idtr;
	assert_untouched(&before);
}

static void long_stack_faults(void **state)
{
	/* RSP0 not canonical: #SS(EXT). */
	fake_mode_long(3);
	fake_w64(FAKE_TSS + 4, 0x0000800000000000ull);
	gate64(0x20, SEL_CODE64, 0x7000, INT32, 0, 0);
	const struct emu_cpu before = CPU;
	assert_exc(deliver(0x20, T_EXT, -1), EMU_EXC_SS, 1);
	assert_untouched(&before);
	/* A canonical RSP whose frame runs into the non-canonical hole. */
	fake_mode_long(0);
	CPU.gpr[EMU_RSP] = 0xffff800000000010ull;
	gate64(0x20, SEL_CODE64, 0x7000, INT32, 0, 0);
	assert_exc(deliver(0x20, T_EXT, -1), EMU_EXC_SS, 1);
	assert_int_equal(CPU.gpr[EMU_RSP], 0xffff800000000010ull);
	/* IST2 beyond the TSS limit: #TS(TSS + EXT). */
	fake_mode_long(0);
	fake_w64(FAKE_TSS + 0x2c, 0xc000);
	CPU.tr.limit = 0x2c + 6;
	gate64(2, SEL_CODE64, 0x7000, INT32, 0, 2);
	assert_exc(deliver(2, T_NMI, -1), EMU_EXC_TS, SEL_TSS | 1);
	CPU.tr.limit = 0x2c + 7;
	assert_ok(deliver(2, T_NMI, -1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(event_types_are_the_vmx_numbering),
		T(real_mode_frame),
		T(real_mode_faults),
		T(prot_interrupt_gate_same_privilege),
		T(prot_trap_gate_keeps_if),
		T(prot_16bit_gate_same_privilege),
		T(prot_16bit_stack_moves_sp_only),
		T(prot_inner_privilege_frame),
		T(prot_16bit_gate_16bit_tss),
		T(prot_accessed_bits_set),
		T(vm86_to_ring0_frame),
		T(vm86_16bit_gate_frame),
		T(vm86_handler_must_be_ring0_nonconforming),
		T(vm86_vme_int_n_is_unhandleable),
		T(long_same_privilege_frame),
		T(long_privilege_change),
		T(long_ist),
		T(long_from_compatibility_mode),
		T(long_gate_and_target_faults),
		T(long_stack_faults),
	};
	return cmocka_run_group_tests_name("sys_deliver", tests, NULL, NULL);
}
