/*
 * test_sys_segments.c — segment register loads and the descriptor
 * instructions (emulate/desc.c, emulate/seg.c). Expected values are the
 * SDM's: Vol. 2B MOV/POP/LDS "Operation" and exception lists, Vol. 2A
 * LLDT/LTR/LAR/LSL/VERR/VERW/ARPL, Vol. 3A 5.5-5.10.
 */
#include "tests/unit/support/fake_cpu.h"

#define SEL_X 0x60	/* a descriptor each test defines */
#define SEL_Y 0x68

/* ------------------------------------------------------------ MOV Sreg */

static void mov_ds_real_mode_sets_base_keeps_limit(void **state)
{
	fake_mode_real();
	CPU.seg[EMU_DS].limit = 0xffffffff;	/* "unreal" mode */
	CPU.gpr[EMU_RAX] = 0x1234;
	assert_ok(RUN(0x8e, 0xd8));		/* mov ds, ax */
	assert_int_equal(CPU.seg[EMU_DS].sel, 0x1234);
	assert_int_equal(CPU.seg[EMU_DS].base, 0x12340);
	assert_int_equal(CPU.seg[EMU_DS].limit, 0xffffffff);
	assert_int_equal(CPU.rip, 2);
}

static void mov_es_vm86_resets_limit_and_rights(void **state)
{
	fake_mode_vm86(3);
	CPU.seg[EMU_ES].limit = 0x1234;
	CPU.gpr[EMU_RAX] = 0x2000;
	assert_ok(RUN(0x8e, 0xc0));		/* mov es, ax */
	assert_int_equal(CPU.seg[EMU_ES].base, 0x20000);
	assert_int_equal(CPU.seg[EMU_ES].limit, 0xffff);
	assert_int_equal(CPU.seg[EMU_ES].ar, 0xf3);
}

static void mov_ds_prot_loads_descriptor_and_sets_accessed(void **state)
{
	fake_set_desc(SEL_X, 0x12345678, 0xabcde, 0x92 | EMU_AR_DB);	/* A = 0 */
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_ok(RUN(0x8e, 0xd8));
	assert_int_equal(CPU.seg[EMU_DS].sel, SEL_X);
	assert_int_equal(CPU.seg[EMU_DS].base, 0x12345678);
	assert_int_equal(CPU.seg[EMU_DS].limit, 0xabcde);
	assert_int_equal(CPU.seg[EMU_DS].ar, 0x93 | EMU_AR_DB);
	assert_true(fake_desc_hi(SEL_X) & (1u << 8));	/* accessed, in memory */
	assert_int_equal(fake.sys_writes, 1);
}

static void mov_ds_granular_limit(void **state)
{
	fake_set_desc(SEL_X, 0, 0x3, 0x93 | EMU_AR_G);
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_ok(RUN(0x8e, 0xd8));
	assert_int_equal(CPU.seg[EMU_DS].limit, 0x3fff);
}

static void mov_ds_null_is_unusable_not_a_fault(void **state)
{
	CPU.gpr[EMU_RAX] = 3;
	assert_ok(RUN(0x8e, 0xd8));
	assert_int_equal(CPU.seg[EMU_DS].sel, 3);
	assert_true(CPU.seg[EMU_DS].ar & EMU_AR_UNUSABLE);
}

static void mov_ds_from_ldt(void **state)
{
	fake_set_desc(0x08 | 4, 0x5000, 0xfff, 0x93);
	CPU.gpr[EMU_RAX] = 0x0c;
	assert_ok(RUN(0x8e, 0xd8));
	assert_int_equal(CPU.seg[EMU_DS].base, 0x5000);
}

static void mov_ds_ldt_unusable_gp_sel(void **state)
{
	CPU.ldtr.ar = EMU_AR_UNUSABLE;
	CPU.gpr[EMU_RAX] = 0x0c;
	assert_gp(RUN(0x8e, 0xd8), 0x0c);
}

static void mov_ds_beyond_gdt_limit_gp_sel(void **state)
{
	CPU.gdtr.limit = 0x5f;
	CPU.gpr[EMU_RAX] = 0x63;
	assert_gp(RUN(0x8e, 0xd8), 0x60);
	assert_int_equal(CPU.rip, FAKE_CODE);
	assert_int_equal(CPU.seg[EMU_DS].sel, SEL_DATA32);
}

static void mov_ds_privilege_checks(void **state)
{
	fake_mode_prot32(3);
	/* DPL 0 data at CPL 3. */
	CPU.gpr[EMU_RAX] = SEL_DATA32 | 3;
	assert_gp(RUN(0x8e, 0xd8), SEL_DATA32);
	/* RPL 3 > DPL 2 at CPL 0. */
	fake_mode_prot32(0);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x93 | (2 << 5));
	CPU.gpr[EMU_RAX] = SEL_X | 3;
	assert_gp(RUN(0x8e, 0xd8), SEL_X);
	CPU.gpr[EMU_RAX] = SEL_X | 2;
	assert_ok(RUN(0x8e, 0xd8));
}

static void mov_ds_code_segments(void **state)
{
	fake_mode_prot32(3);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x99);		/* execute-only */
	CPU.gpr[EMU_RAX] = SEL_X | 3;
	assert_gp(RUN(0x8e, 0xd8), SEL_X);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x9f);		/* conforming readable DPL 0 */
	assert_ok(RUN(0x8e, 0xd8));
	assert_int_equal(CPU.seg[EMU_DS].sel, SEL_X | 3);
}

static void mov_ds_system_descriptor_gp_sel(void **state)
{
	CPU.gpr[EMU_RAX] = SEL_TSS;
	assert_gp(RUN(0x8e, 0xd8), SEL_TSS);
}

static void mov_ds_not_present_np_sel(void **state)
{
	fake_set_desc(SEL_X, 0, 0xfffff, 0x13);
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_exc(RUN(0x8e, 0xd8), EMU_EXC_NP, SEL_X);
}

static void mov_ss_null_gp0_outside_64bit(void **state)
{
	CPU.gpr[EMU_RAX] = 0;
	assert_gp(RUN(0x8e, 0xd0), 0);
	fake_mode_compat(0);
	assert_gp(RUN(0x8e, 0xd0), 0);
}

static void mov_ss_null_64bit_rules(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RAX] = 0;
	assert_ok(RUN(0x8e, 0xd0));			/* CPL 0, RPL 0 */
	assert_true(CPU.seg[EMU_SS].ar & EMU_AR_UNUSABLE);
	CPU.rip = FAKE_CODE;
	CPU.gpr[EMU_RAX] = 1;				/* RPL != CPL */
	assert_gp(RUN(0x8e, 0xd0), 0);
	fake_mode_long(3);
	CPU.gpr[EMU_RAX] = 3;				/* CPL 3 */
	assert_gp(RUN(0x8e, 0xd0), 0);
}

static void mov_ss_checks(void **state)
{
	fake_set_desc(SEL_X, 0, 0xfffff, 0x91);		/* read-only data */
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_gp(RUN(0x8e, 0xd0), SEL_X);
	CPU.gpr[EMU_RAX] = SEL_CODE32;			/* code */
	assert_gp(RUN(0x8e, 0xd0), SEL_CODE32);
	CPU.gpr[EMU_RAX] = SEL_DATA32 | 1;		/* RPL != CPL */
	assert_gp(RUN(0x8e, 0xd0), SEL_DATA32);
	CPU.gpr[EMU_RAX] = SEL_DATA32_3 | 0;		/* DPL != CPL */
	assert_gp(RUN(0x8e, 0xd0), SEL_DATA32_3);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x13);		/* not present */
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_exc(RUN(0x8e, 0xd0), EMU_EXC_SS, SEL_X);
	assert_int_equal(fake.shadow_count, 0);
}

static void mov_ss_sets_mov_ss_shadow(void **state)
{
	CPU.gpr[EMU_RAX] = SEL_DATA32;
	assert_ok(RUN(0x8e, 0xd0));
	assert_int_equal(fake.shadow_count, 1);
	assert_true(fake.shadow_mov_ss);
	CPU.rip = FAKE_CODE;
	assert_ok(RUN(0x8e, 0xd8));			/* mov ds: no shadow */
	assert_int_equal(fake.shadow_count, 1);
}

static void mov_from_seg_register_and_memory(void **state)
{
	CPU.gpr[EMU_RAX] = 0xffffffffffffffffull;
	assert_ok(RUN(0x8c, 0xd8));			/* mov eax, ds */
	assert_int_equal(CPU.gpr[EMU_RAX], SEL_DATA32);	/* zero-extended */
	CPU.gpr[EMU_RAX] = 0xffffffff;
	assert_ok(RUN(0x66, 0x8c, 0xd8));		/* mov ax, ds */
	assert_int_equal(CPU.gpr[EMU_RAX], 0xffff0000 | SEL_DATA32);
	fake_w32(FAKE_DATA, 0xaaaaaaaa);
	assert_ok(RUN(0x8c, 0x1d, 0x00, 0x00, 0x02, 0x00));	/* mov [0x20000], ds */
	assert_int_equal(fake_r32(FAKE_DATA), 0xaaaa0000 | SEL_DATA32);
}

/* ------------------------------------------------------------ PUSH/POP Sreg */

static void push_ds_writes_16_bits_moves_4(void **state)
{
	fake_w32(FAKE_STACK - 4, 0xdeadbeef);
	assert_ok(RUN(0x1e));				/* push ds */
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK - 4);
	assert_int_equal(fake_r32(FAKE_STACK - 4), 0xdead0000 | SEL_DATA32);
}

static void push_fs_64bit_moves_8(void **state)
{
	fake_mode_long(0);
	assert_ok(RUN(0x0f, 0xa0));			/* push fs */
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK - 8);
	assert_int_equal(fake_r16(FAKE_STACK - 8), SEL_DATA32);
}

static void push_seg_stack_fault(void **state)
{
	CPU.seg[EMU_SS].limit = FAKE_STACK - 2;
	assert_exc(RUN(0x1e), EMU_EXC_SS, 0);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK);
}

static void pop_ds_loads_and_moves_rsp(void **state)
{
	fake_set_desc(SEL_X, 0x1000, 0xfff, 0x93);
	fake_w32(FAKE_STACK, SEL_X);
	assert_ok(RUN(0x1f));				/* pop ds */
	assert_int_equal(CPU.seg[EMU_DS].base, 0x1000);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK + 4);
}

static void pop_ss_fault_leaves_rsp_and_sets_no_shadow(void **state)
{
	fake_w32(FAKE_STACK, SEL_CODE32);
	assert_gp(RUN(0x17), SEL_CODE32);		/* pop ss */
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_STACK);
	assert_int_equal(fake.shadow_count, 0);
	fake_w32(FAKE_STACK, SEL_DATA32);
	assert_ok(RUN(0x17));
	assert_int_equal(fake.shadow_count, 1);
	assert_true(fake.shadow_mov_ss);
}

/* ------------------------------------------------------------ LDS..LGS */

static void lds_loads_pointer(void **state)
{
	fake_set_desc(SEL_X, 0x3000, 0xfff, 0x93);
	fake_w32(FAKE_DATA, 0x11223344);
	fake_w16(FAKE_DATA + 4, SEL_X);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0xc5, 0x03));			/* lds eax, [ebx] */
	assert_int_equal(CPU.gpr[EMU_RAX], 0x11223344);
	assert_int_equal(CPU.seg[EMU_DS].base, 0x3000);
}

static void lfs_16bit_and_lss_null_faults_before_register(void **state)
{
	fake_w16(FAKE_DATA, 0x5566);
	fake_w16(FAKE_DATA + 2, SEL_DATA32);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	CPU.gpr[EMU_RAX] = 0xaaaa0000;
	assert_ok(RUN(0x66, 0x0f, 0xb4, 0x03));		/* lfs ax, [ebx] */
	assert_int_equal(CPU.gpr[EMU_RAX], 0xaaaa5566);
	assert_int_equal(CPU.seg[EMU_FS].sel, SEL_DATA32);
	fake_w32(FAKE_DATA, 0x77777777);
	fake_w16(FAKE_DATA + 4, 0);
	assert_gp(RUN(0x0f, 0xb2, 0x03), 0);		/* lss eax, [ebx] */
	assert_int_equal(CPU.gpr[EMU_RAX], 0xaaaa5566);
}

static void les_real_mode(void **state)
{
	fake_mode_real();
	fake_w16(FAKE_DATA + 0x10, 0x1234);
	fake_w16(FAKE_DATA + 0x12, 0x4000);
	CPU.gpr[EMU_RBX] = 0x10;
	assert_ok(RUN(0xc4, 0x07));			/* les ax, [bx] */
	assert_int_equal(CPU.gpr[EMU_RAX] & 0xffff, 0x1234);
	assert_int_equal(CPU.seg[EMU_ES].base, 0x40000);
}

/* ------------------------------------------------------------ LLDT, LTR */

static void lldt_loads_ldtr(void **state)
{
	fake_set_desc(SEL_X, 0x7000, 0x1ff, 0x82);
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_ok(RUN(0x0f, 0x00, 0xd0));		/* lldt ax */
	assert_int_equal(CPU.ldtr.sel, SEL_X);
	assert_int_equal(CPU.ldtr.base, 0x7000);
	assert_int_equal(CPU.ldtr.limit, 0x1ff);
}

static void lldt_null_makes_ldt_unusable(void **state)
{
	CPU.gpr[EMU_RAX] = 0;
	assert_ok(RUN(0x0f, 0x00, 0xd0));
	assert_true(CPU.ldtr.ar & EMU_AR_UNUSABLE);
}

static void lldt_faults(void **state)
{
	CPU.gpr[EMU_RAX] = SEL_LDT | 4;			/* TI = 1 */
	assert_gp(RUN(0x0f, 0x00, 0xd0), SEL_LDT | 4);
	CPU.gpr[EMU_RAX] = SEL_TSS;			/* not an LDT */
	assert_gp(RUN(0x0f, 0x00, 0xd0), SEL_TSS);
	fake_set_desc(SEL_X, 0x7000, 0x1ff, 0x02);	/* not present */
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_exc(RUN(0x0f, 0x00, 0xd0), EMU_EXC_NP, SEL_X);
	fake_mode_prot32(3);
	CPU.gpr[EMU_RAX] = SEL_LDT;
	assert_gp(RUN(0x0f, 0x00, 0xd0), 0);
	fake_mode_real();
	assert_ud(RUN(0x0f, 0x00, 0xd0));
	fake_mode_vm86(3);
	assert_ud(RUN(0x0f, 0x00, 0xd0));
}

static void lldt_long_mode_16_byte_descriptor(void **state)
{
	fake_mode_long(0);
	fake_set_sysdesc64(SEL_X, 0x123456789000ull, 0xfff, 0x82);
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_ok(RUN(0x0f, 0x00, 0xd0));
	assert_int_equal(CPU.ldtr.base, 0x123456789000ull);
	/* Upper half with a non-zero type: #GP(sel). */
	fake_w32(FAKE_GDT + SEL_X + 12, 0x200);
	CPU.rip = FAKE_CODE;
	assert_gp(RUN(0x0f, 0x00, 0xd0), SEL_X);
	/* Non-canonical base: #GP(sel). */
	fake_set_sysdesc64(SEL_X, 0x0000900000000000ull, 0xfff, 0x82);
	assert_gp(RUN(0x0f, 0x00, 0xd0), SEL_X);
	/* Upper half beyond the GDT limit: #GP(sel). */
	fake_set_sysdesc64(SEL_X, 0x9000, 0xfff, 0x82);
	CPU.gdtr.limit = SEL_X + 7;
	assert_gp(RUN(0x0f, 0x00, 0xd0), SEL_X);
}

static void ltr_marks_busy(void **state)
{
	fake_set_desc(SEL_X, 0x6000, 0x67, 0x89);
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_ok(RUN(0x0f, 0x00, 0xd8));		/* ltr ax */
	assert_int_equal(CPU.tr.sel, SEL_X);
	assert_int_equal(CPU.tr.base, 0x6000);
	assert_int_equal(EMU_AR_TYPE(CPU.tr.ar), 11);
	assert_int_equal((fake_desc_hi(SEL_X) >> 8) & 0xf, 11);
}

static void ltr_faults(void **state)
{
	CPU.gpr[EMU_RAX] = SEL_TSS;			/* already busy */
	assert_gp(RUN(0x0f, 0x00, 0xd8), SEL_TSS);
	CPU.gpr[EMU_RAX] = 0;
	assert_gp(RUN(0x0f, 0x00, 0xd8), 0);
	fake_set_desc(SEL_X, 0x6000, 0x67, 0x09);
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_exc(RUN(0x0f, 0x00, 0xd8), EMU_EXC_NP, SEL_X);
	fake_set_desc(SEL_X, 0x6000, 0x67, 0x81);	/* 16-bit TSS */
	assert_ok(RUN(0x0f, 0x00, 0xd8));
	fake_mode_long(0);
	fake_set_sysdesc64(SEL_X, 0x6000, 0x67, 0x81);	/* no 16-bit TSS in IA-32e */
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_gp(RUN(0x0f, 0x00, 0xd8), SEL_X);
	fake_mode_prot32(3);
	assert_gp(RUN(0x0f, 0x00, 0xd8), 0);
}

static void sldt_str_store(void **state)
{
	CPU.gpr[EMU_RAX] = ~0ull;
	assert_ok(RUN(0x0f, 0x00, 0xc0));		/* sldt eax */
	assert_int_equal(CPU.gpr[EMU_RAX], SEL_LDT);
	fake_w32(FAKE_DATA, 0xffffffff);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0x0f, 0x00, 0x0b));		/* str [ebx] */
	assert_int_equal(fake_r32(FAKE_DATA), 0xffff0000 | SEL_TSS);
	fake_mode_prot32(3);
	assert_ok(RUN(0x0f, 0x00, 0xc8));		/* str eax, CPL 3, no UMIP */
	CPU.cr4 |= X86_CR4_UMIP;
	assert_gp(RUN(0x0f, 0x00, 0xc8), 0);
	fake_mode_real();
	assert_ud(RUN(0x0f, 0x00, 0xc0));
}

/* ------------------------------------------------------------ LAR LSL VERR VERW */

static void lar_success_and_failures(void **state)
{
	fake_set_desc(SEL_X, 0, 0xfffff, 0x93 | EMU_AR_DB | EMU_AR_G);
	CPU.gpr[EMU_RBX] = SEL_X;
	assert_ok(RUN(0x0f, 0x02, 0xc3));		/* lar eax, bx */
	assert_true(CPU.rflags & EMU_FLAG_ZF);
	assert_int_equal(CPU.gpr[EMU_RAX] & 0x00f0ff00, 0x00c09300);
	CPU.gpr[EMU_RAX] = 0x5555;
	assert_ok(RUN(0x66, 0x0f, 0x02, 0xc3));		/* lar ax, bx */
	assert_int_equal(CPU.gpr[EMU_RAX], 0x9300);
	/* Null: ZF = 0, destination unchanged. */
	CPU.gpr[EMU_RBX] = 0;
	CPU.gpr[EMU_RAX] = 0x77;
	assert_ok(RUN(0x0f, 0x02, 0xc3));
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	assert_int_equal(CPU.gpr[EMU_RAX], 0x77);
	/* Beyond the GDT. */
	CPU.gpr[EMU_RBX] = 0x1f8;
	assert_ok(RUN(0x0f, 0x02, 0xc3));
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	/* Interrupt gate: not a LAR type. */
	fake_set_gate(SEL_Y, SEL_CODE32, 0, 14, 0, 0);
	CPU.gpr[EMU_RBX] = SEL_Y;
	assert_ok(RUN(0x0f, 0x02, 0xc3));
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	/* Call gate and LDT are. */
	fake_set_gate(SEL_Y, SEL_CODE32, 0, 12, 0, 0);
	assert_ok(RUN(0x0f, 0x02, 0xc3));
	assert_true(CPU.rflags & EMU_FLAG_ZF);
	/* CPL 3: DPL 0 data is invisible, conforming code visible. */
	fake_mode_prot32(3);
	CPU.gpr[EMU_RBX] = SEL_DATA32 | 3;
	assert_ok(RUN(0x0f, 0x02, 0xc3));
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x9f);
	CPU.gpr[EMU_RBX] = SEL_X | 3;
	assert_ok(RUN(0x0f, 0x02, 0xc3));
	assert_true(CPU.rflags & EMU_FLAG_ZF);
	fake_mode_real();
	assert_ud(RUN(0x0f, 0x02, 0xc3));
}

static void lar_long_mode_types(void **state)
{
	fake_mode_long(0);
	fake_set_desc(SEL_X, 0, 0x67, 0x81);		/* 16-bit TSS */
	CPU.gpr[EMU_RBX] = SEL_X;
	assert_ok(RUN(0x0f, 0x02, 0xc3));
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	CPU.gpr[EMU_RBX] = SEL_TSS;
	assert_ok(RUN(0x0f, 0x02, 0xc3));
	assert_true(CPU.rflags & EMU_FLAG_ZF);
}

static void lsl_returns_expanded_limit(void **state)
{
	fake_set_desc(SEL_X, 0, 0x12, 0x93 | EMU_AR_G);
	CPU.gpr[EMU_RBX] = SEL_X;
	assert_ok(RUN(0x0f, 0x03, 0xc3));		/* lsl eax, bx */
	assert_true(CPU.rflags & EMU_FLAG_ZF);
	assert_int_equal(CPU.gpr[EMU_RAX], 0x12fff);
	CPU.gpr[EMU_RBX] = SEL_TSS;
	assert_ok(RUN(0x0f, 0x03, 0xc3));
	assert_int_equal(CPU.gpr[EMU_RAX], 0x2068);
	fake_set_gate(SEL_Y, SEL_CODE32, 0, 12, 0, 0);	/* gates have no limit */
	CPU.gpr[EMU_RBX] = SEL_Y;
	assert_ok(RUN(0x0f, 0x03, 0xc3));
	assert_false(CPU.rflags & EMU_FLAG_ZF);
}

static void verr_verw(void **state)
{
	CPU.gpr[EMU_RAX] = SEL_CODE32;			/* readable code */
	assert_ok(RUN(0x0f, 0x00, 0xe0));		/* verr ax */
	assert_true(CPU.rflags & EMU_FLAG_ZF);
	assert_ok(RUN(0x0f, 0x00, 0xe8));		/* verw ax */
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	CPU.gpr[EMU_RAX] = SEL_DATA32;
	assert_ok(RUN(0x0f, 0x00, 0xe8));
	assert_true(CPU.rflags & EMU_FLAG_ZF);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x91);		/* read-only data */
	CPU.gpr[EMU_RAX] = SEL_X;
	assert_ok(RUN(0x0f, 0x00, 0xe8));
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	assert_ok(RUN(0x0f, 0x00, 0xe0));
	assert_true(CPU.rflags & EMU_FLAG_ZF);
	fake_set_desc(SEL_X, 0, 0xfffff, 0x99);		/* execute-only code */
	assert_ok(RUN(0x0f, 0x00, 0xe0));
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	CPU.gpr[EMU_RAX] = SEL_TSS;			/* system */
	assert_ok(RUN(0x0f, 0x00, 0xe0));
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	fake_mode_prot32(3);
	CPU.gpr[EMU_RAX] = SEL_DATA32 | 3;		/* DPL 0 < CPL 3 */
	assert_ok(RUN(0x0f, 0x00, 0xe8));
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	fake_mode_real();
	assert_ud(RUN(0x0f, 0x00, 0xe0));
}

static void arpl_adjusts_rpl(void **state)
{
	CPU.gpr[EMU_RBX] = 0x10;
	CPU.gpr[EMU_RAX] = 0x23;
	assert_ok(RUN(0x63, 0xc3));			/* arpl bx, ax */
	assert_int_equal(CPU.gpr[EMU_RBX], 0x13);
	assert_true(CPU.rflags & EMU_FLAG_ZF);
	CPU.gpr[EMU_RAX] = 0x21;
	assert_ok(RUN(0x63, 0xc3));
	assert_int_equal(CPU.gpr[EMU_RBX], 0x13);
	assert_false(CPU.rflags & EMU_FLAG_ZF);
	fake_mode_real();
	assert_ud(RUN(0x63, 0xc3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, fake_setup)
		T(mov_ds_real_mode_sets_base_keeps_limit),
		T(mov_es_vm86_resets_limit_and_rights),
		T(mov_ds_prot_loads_descriptor_and_sets_accessed),
		T(mov_ds_granular_limit),
		T(mov_ds_null_is_unusable_not_a_fault),
		T(mov_ds_from_ldt),
		T(mov_ds_ldt_unusable_gp_sel),
		T(mov_ds_beyond_gdt_limit_gp_sel),
		T(mov_ds_privilege_checks),
		T(mov_ds_code_segments),
		T(mov_ds_system_descriptor_gp_sel),
		T(mov_ds_not_present_np_sel),
		T(mov_ss_null_gp0_outside_64bit),
		T(mov_ss_null_64bit_rules),
		T(mov_ss_checks),
		T(mov_ss_sets_mov_ss_shadow),
		T(mov_from_seg_register_and_memory),
		T(push_ds_writes_16_bits_moves_4),
		T(push_fs_64bit_moves_8),
		T(push_seg_stack_fault),
		T(pop_ds_loads_and_moves_rsp),
		T(pop_ss_fault_leaves_rsp_and_sets_no_shadow),
		T(lds_loads_pointer),
		T(lfs_16bit_and_lss_null_faults_before_register),
		T(les_real_mode),
		T(lldt_loads_ldtr),
		T(lldt_null_makes_ldt_unusable),
		T(lldt_faults),
		T(lldt_long_mode_16_byte_descriptor),
		T(ltr_marks_busy),
		T(ltr_faults),
		T(sldt_str_store),
		T(lar_success_and_failures),
		T(lar_long_mode_types),
		T(lsl_returns_expanded_limit),
		T(verr_verw),
		T(arpl_adjusts_rpl),
	};
	return cmocka_run_group_tests_name("sys_segments", tests, NULL, NULL);
}
