/*
 * test_sys_deliver.c — event delivery through the IDT (emulate/deliver.c)
 * per SDM Vol. 3A 6.12-6.14, 20.1.4, 20.3.1 and the INT n "Operation"
 * in Vol. 2A; plus the IRET-retired op (exec_far.c) and the DR7.GD #DB
 * (exec_cr.c, SDM Vol. 3B 18.2.4).
 *
 * Frames are checked slot by slot at the addresses the SDM gives them;
 * error codes are written out as the manual builds them: selector & FCh
 * | EXT, or vector * 8 + 2 | EXT for the IDT (SDM Vol. 3A 6.13).
 */
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

static void gate(unsigned vec, uint16_t sel, uint32_t off, unsigned type, unsigned dpl)
{
	fake_w32(IDT + vec * 8, ((uint32_t)sel << 16) | (off & 0xffff));
	fake_w32(IDT + vec * 8 + 4, (off & 0xffff0000u) | 0x8000 | (dpl << 13) | (type << 8));
}

static void gate64(unsigned vec, uint16_t sel, uint64_t off, unsigned type,
		   unsigned dpl, unsigned ist)
{
	fake_w32(IDT + vec * 16, ((uint32_t)sel << 16) | (off & 0xffff));
	fake_w32(IDT + vec * 16 + 4, ((uint32_t)off & 0xffff0000u) | 0x8000 |
		 (dpl << 13) | (type << 8) | ist);
	fake_w32(IDT + vec * 16 + 8, (uint32_t)(off >> 32));
	fake_w32(IDT + vec * 16 + 12, 0);
}

/* Clear P (bit 47) of a legacy gate. */
static void gate_absent(unsigned vec)
{
	fake_w8(IDT + vec * 8 + 5, fake.mem[IDT + vec * 8 + 5] & 0x7f);
}

/* The frame at linear @la, slot by slot from the lowest address (the
 * last value pushed) up. */
static void assert_frame(uint64_t la, unsigned size, const uint64_t *want, unsigned n)
{
	for (unsigned i = 0; i < n; i++, la += size)
		assert_int_equal(size == 2 ? fake_r16(la) : size == 4 ? fake_r32(la)
					   : fake_r64(la), want[i]);
}
#define FRAME(la, size, ...) assert_frame(la, size, (const uint64_t[]){ __VA_ARGS__ }, \
	sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))

/* Deliver @vec of @type, with error code @err (< 0: none). */
static int deliver(unsigned vec, unsigned type, int err)
{
	struct emu_event ev = {
		.vector = (uint8_t)vec, .type = (uint8_t)type,
		.has_error_code = err >= 0, .error_code = err >= 0 ? (uint32_t)err : 0,
	};
	return emu_deliver(&fake.ctx, &ev);
}

static void assert_seg_equal(const struct emu_segment *a, const struct emu_segment *b)
{
	assert_int_equal(a->sel, b->sel);
	assert_int_equal(a->base, b->base);
	assert_int_equal(a->limit, b->limit);
	assert_int_equal(a->ar, b->ar);
}

/* The interrupted state is intact after a failed delivery (field by
 * field: struct padding is not state). */
static void assert_untouched(const struct emu_cpu *before)
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
#define T(f) cmocka_unit_test_setup(f, fake_setup)
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
	return cmocka_run_group_tests_name("sys_deliver", tests, NULL, NULL);
}
