/*
 * test_emu_core.c — the engine's own mechanisms, as the SDM defines
 * them: segmentation checks (Vol. 3A 5.3, 3.3.7.1), instruction fetch
 * and the 15-byte limit (Vol. 2A 2.3.11), faults leave no partial state
 * (Vol. 3A 6.5), REP restartability (Vol. 2B REP), LOCK atomicity through
 * ops->cmpxchg, alignment checks (Vol. 3A 6.15), the decode cache's
 * coherence contract, and flags at the API boundary.
 */
#include <string.h>

#include "tests/unit/support/fake_cpu.h"

#define X86_CF (1u << 0)
#define X86_PF (1u << 2)
#define X86_AF (1u << 4)
#define X86_ZF (1u << 6)
#define X86_SF (1u << 7)
#define X86_OF (1u << 11)

/* ------------------------------------------------------------ segmentation */

static void limit_violation_is_gp_or_ss(void **state)
{
	fake_mode_prot32(0);
	CPU.seg[EMU_DS].limit = 0xfff;
	CPU.gpr[EMU_RBX] = 0xffd;
	assert_gp(RUN(0x8b, 0x03), 0);			/* mov eax,[ebx]: bytes ffd..1000 */
	CPU.gpr[EMU_RBX] = 0xffc;
	assert_ok(RUN(0x8b, 0x03));			/* ffc..fff fits */
	CPU.seg[EMU_SS].limit = 0xfff;
	CPU.gpr[EMU_RBP] = 0x1000;
	assert_exc(RUN(0x8b, 0x45, 0x00), EMU_EXC_SS, 0);	/* mov eax,[ebp]: SS */
}

static void expand_down_segment(void **state)
{
	fake_mode_prot32(0);
	/* Expand-down, writable, 32-bit: valid offsets limit+1 .. 0xffffffff. */
	CPU.seg[EMU_DS].ar = 0x97 | EMU_AR_DB;
	CPU.seg[EMU_DS].limit = 0x1fff;
	CPU.seg[EMU_DS].base = 0;
	CPU.gpr[EMU_RBX] = 0x1fff;
	assert_gp(RUN(0x8b, 0x03), 0);
	CPU.gpr[EMU_RBX] = 0x2000;
	assert_ok(RUN(0x8b, 0x03));
}

static void write_to_readonly_or_code_segment(void **state)
{
	fake_mode_prot32(0);
	CPU.seg[EMU_DS].ar = 0x91 | EMU_AR_DB | EMU_AR_G;	/* read-only data */
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0x8b, 0x03));			/* read: fine */
	assert_gp(RUN(0x89, 0x03), 0);			/* mov [ebx],eax */
	/* Reading through an execute-only code segment override. */
	CPU.seg[EMU_ES].ar = 0x99 | EMU_AR_DB | EMU_AR_G;
	assert_gp(RUN(0x26, 0x8b, 0x03), 0);
}

static void null_segment_access_is_gp(void **state)
{
	fake_mode_prot32(0);
	CPU.seg[EMU_FS].ar = EMU_AR_UNUSABLE;
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_gp(RUN(0x64, 0x8b, 0x03), 0);		/* mov eax,fs:[ebx] */
}

static void noncanonical_in_64bit_mode(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RBX] = 0x0000800000000000ull;
	assert_gp(RUN(0x48, 0x8b, 0x03), 0);
	CPU.gpr[EMU_RSP] = 0x0000800000000000ull;
	assert_exc(RUN(0x48, 0x8b, 0x04, 0x24), EMU_EXC_SS, 0);	/* mov rax,[rsp] */
	/* An access that starts canonical and ends beyond is non-canonical. */
	CPU.gpr[EMU_RBX] = 0x00007ffffffffffcull;
	assert_gp(RUN(0x48, 0x8b, 0x03), 0);
}

static void fs_base_applies_in_64bit_mode(void **state)
{
	fake_mode_long(0);
	CPU.seg[EMU_FS].base = FAKE_DATA;
	CPU.seg[EMU_DS].base = 0x5000;	/* ignored in 64-bit mode */
	fake_w64(FAKE_DATA + 8, 0x1122334455667788ull);
	fake_w64(8, 0xdead);
	CPU.gpr[EMU_RBX] = 8;
	assert_ok(RUN(0x64, 0x48, 0x8b, 0x03));		/* mov rax,fs:[rbx] */
	assert_int_equal(CPU.gpr[EMU_RAX], 0x1122334455667788ull);
	assert_ok(RUN(0x48, 0x8b, 0x03));		/* mov rax,[rbx] */
	assert_int_equal(CPU.gpr[EMU_RAX], 0xdead);
}

static void addressing16_uses_ss_for_bp_and_wraps(void **state)
{
	fake_mode_real();
	CPU.seg[EMU_SS].base = 0x30000;
	CPU.gpr[EMU_RBP] = 0xfff0;
	CPU.gpr[EMU_RSI] = 0x20;
	fake_w16(0x30000 + 0x10, 0xbeef);		/* (fff0 + 20) mod 64K */
	assert_ok(RUN(0x8b, 0x02));			/* mov ax,[bp+si] */
	assert_int_equal(CPU.gpr[EMU_RAX] & 0xffff, 0xbeef);
}

static void alignment_check_at_cpl3(void **state)
{
	fake_mode_prot32(3);
	CPU.gpr[EMU_RBX] = FAKE_DATA + 2;
	assert_ok(RUN(0x8b, 0x03));			/* AM clear */
	CPU.cr0 |= 1u << 18;				/* CR0.AM */
	assert_ok(RUN(0x8b, 0x03));			/* AC clear */
	CPU.rflags |= 1u << 18;				/* RFLAGS.AC */
	assert_exc(RUN(0x8b, 0x03), EMU_EXC_AC, 0);
	CPU.gpr[EMU_RBX] = FAKE_DATA + 4;
	assert_ok(RUN(0x8b, 0x03));			/* aligned */
}

/* ------------------------------------------------------------ fetch */

static void fifteen_byte_limit(void **state)
{
	fake_mode_long(0);
	CPU.rip = FAKE_CODE;
	/* 14 prefixes + nop = 15 bytes: fine. 15 prefixes + nop: #GP(0). */
	uint8_t b[16];
	memset(b, 0x2e, sizeof(b));
	b[14] = 0x90;
	assert_int_equal(fake_run(b, 15), EMU_CONTINUE);
	assert_int_equal(CPU.rip, FAKE_CODE + 15);
	b[14] = 0x2e;
	b[15] = 0x90;
	assert_gp(fake_run(b, 16), 0);
	assert_int_equal(CPU.rip, FAKE_CODE + 15);	/* not advanced */
}

static void fetch_stops_at_the_instruction_end(void **state)
{
	fake_mode_long(0);
	/* A one-byte instruction in the last byte of memory: the next
	 * (missing) page is never touched. */
	CPU.rip = FAKE_MEM_SIZE - 1;
	fake.mem[FAKE_MEM_SIZE - 1] = 0x90;
	assert_ok(emu_step(&fake.ctx));
	/* A two-byte one there faults on the second byte's page, as a
	 * fetch (#PF error code I/D = bit 4). */
	CPU.rip = FAKE_MEM_SIZE - 1;
	fake.mem[FAKE_MEM_SIZE - 1] = 0x31;		/* xor r/m, r: needs ModRM */
	int r = emu_step(&fake.ctx);
	assert_exc(r, EMU_EXC_PF, 0x10);
	assert_int_equal(fake.ctx.exc.cr2, FAKE_MEM_SIZE);
}

static void cs_limit_bounds_execution(void **state)
{
	fake_mode_prot32(0);
	CPU.seg[EMU_CS].limit = 0x10;
	CPU.rip = 0x0f;
	fake.mem[CPU.seg[EMU_CS].base + 0x0f] = 0x90;
	fake.mem[CPU.seg[EMU_CS].base + 0x10] = 0x90;
	assert_ok(emu_step(&fake.ctx));			/* at 0x0f */
	assert_ok(emu_step(&fake.ctx));			/* at 0x10 = limit */
	assert_gp(emu_step(&fake.ctx), 0);		/* at 0x11 */
}

/* ------------------------------------------------------------ faults */

static void div_fault_leaves_state(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RAX] = 5;
	CPU.gpr[EMU_RDX] = 7;
	CPU.gpr[EMU_RCX] = 0;
	CPU.rip = FAKE_CODE;
	assert_exc(RUN(0x48, 0xf7, 0xf1), EMU_EXC_DE, -1);	/* div rcx */
	assert_int_equal(CPU.rip, FAKE_CODE);
	assert_int_equal(CPU.gpr[EMU_RAX], 5);
	assert_int_equal(CPU.gpr[EMU_RDX], 7);
	/* Quotient too large: 7:5 / 2 does not fit in 64 bits. */
	CPU.gpr[EMU_RCX] = 2;
	assert_exc(RUN(0x48, 0xf7, 0xf1), EMU_EXC_DE, -1);
}

static void faulting_push_leaves_rsp(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RSP] = FAKE_MEM_SIZE + 0x100;	/* stack page missing */
	CPU.rip = FAKE_CODE;
	assert_exc(RUN(0xe8, 0x00, 0x00, 0x00, 0x00), EMU_EXC_PF, 2);	/* call */
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_MEM_SIZE + 0x100);
	assert_int_equal(CPU.rip, FAKE_CODE);
}

static void rmw_checks_write_before_reading(void **state)
{
	fake_mode_long(0);
	uint64_t before = CPU.rflags;
	CPU.gpr[EMU_RBX] = FAKE_MEM_SIZE;		/* missing page */
	int r = RUN(0x48, 0x01, 0x03);			/* add [rbx],rax */
	/* The fake's read op faults with error code 0 (a read): the engine
	 * asked for the access as a write-intent read (EMU_ACC_WRITE), and a
	 * #PF leaves the flags alone. */
	assert_int_equal(r, EMU_EXCEPTION);
	assert_int_equal(fake.ctx.exc.vector, EMU_EXC_PF);
	assert_int_equal(CPU.rflags, before);
}

/* ------------------------------------------------------------ REP */

static void rep_is_restartable_and_interruptible(void **state)
{
	fake_mode_long(0);
	for (int i = 0; i < 100; i++)
		fake.mem[FAKE_DATA + i] = (uint8_t)i;
	CPU.gpr[EMU_RSI] = FAKE_DATA;
	CPU.gpr[EMU_RDI] = FAKE_DATA + 0x1000;
	CPU.gpr[EMU_RCX] = 100;
	CPU.rip = FAKE_CODE;
	fake.ctx.rep_limit = 30;
	assert_ok(RUN(0xf3, 0xa4));			/* rep movsb */
	assert_int_equal(CPU.rip, FAKE_CODE);		/* not done: again */
	assert_int_equal(CPU.gpr[EMU_RCX], 70);
	assert_int_equal(CPU.gpr[EMU_RSI], FAKE_DATA + 30);
	int steps = 1;
	while (CPU.rip == FAKE_CODE) {
		assert_ok(emu_step(&fake.ctx));
		steps++;
	}
	assert_int_equal(steps, 4);			/* 30 + 30 + 30 + 10 */
	assert_int_equal(CPU.rip, FAKE_CODE + 2);
	assert_int_equal(CPU.gpr[EMU_RCX], 0);
	assert_memory_equal(fake.mem + FAKE_DATA, fake.mem + FAKE_DATA + 0x1000, 100);
}

static void rep_fault_keeps_progress(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RDI] = FAKE_MEM_SIZE - 3;
	CPU.gpr[EMU_RCX] = 10;
	CPU.gpr[EMU_RAX] = 0x5a;
	CPU.rip = FAKE_CODE;
	assert_exc(RUN(0xf3, 0xaa), EMU_EXC_PF, 2);	/* rep stosb */
	assert_int_equal(fake.ctx.exc.cr2, FAKE_MEM_SIZE);
	assert_int_equal(CPU.gpr[EMU_RCX], 7);		/* three done */
	assert_int_equal(CPU.gpr[EMU_RDI], FAKE_MEM_SIZE);
	assert_int_equal(CPU.rip, FAKE_CODE);
	assert_int_equal(fake.mem[FAKE_MEM_SIZE - 1], 0x5a);
}

static void rep_with_zero_count_does_nothing(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RDI] = FAKE_MEM_SIZE + 0x1000;	/* would fault */
	CPU.gpr[EMU_RCX] = 0;
	CPU.rip = FAKE_CODE;
	assert_ok(RUN(0xf3, 0xaa));
	assert_int_equal(CPU.rip, FAKE_CODE + 2);
}

static void repe_cmps_stops_on_mismatch(void **state)
{
	fake_mode_long(0);
	memcpy(fake.mem + FAKE_DATA, "abcdef", 6);
	memcpy(fake.mem + FAKE_DATA + 0x100, "abcxef", 6);
	CPU.gpr[EMU_RSI] = FAKE_DATA;
	CPU.gpr[EMU_RDI] = FAKE_DATA + 0x100;
	CPU.gpr[EMU_RCX] = 6;
	assert_ok(RUN(0xf3, 0xa6));			/* repe cmpsb */
	assert_int_equal(CPU.gpr[EMU_RCX], 2);		/* stopped after 'd'/'x' */
	assert_false(CPU.rflags & X86_ZF);
	assert_true(CPU.rflags & X86_CF);		/* 'd' < 'x' */
}

/* ------------------------------------------------------------ LOCK */

static int cmpxchg_calls, cmpxchg_interfere;

/* An ops->cmpxchg that lets "another CPU" write once between the
 * engine's read and its compare-exchange. */
static int racy_cmpxchg(struct emu_ctx *ctx, uint64_t la, void *old,
			const void *new, unsigned size)
{
	cmpxchg_calls++;
	if (cmpxchg_interfere) {
		cmpxchg_interfere = 0;
		fake.mem[la] += 100;
	}
	if (!memcmp(fake.mem + la, old, size)) {
		memcpy(fake.mem + la, new, size);
	} else {
		memcpy(old, fake.mem + la, size);
	}
	return EMU_CONTINUE;
}

static void locked_add_retries_when_memory_changed(void **state)
{
	fake_mode_long(0);
	fake.ops.cmpxchg = racy_cmpxchg;
	fake_w32(FAKE_DATA, 5);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	CPU.gpr[EMU_RAX] = 1;
	cmpxchg_calls = 0;
	cmpxchg_interfere = 1;
	assert_ok(RUN(0xf0, 0x01, 0x03));		/* lock add [rbx],eax */
	assert_int_equal(fake_r32(FAKE_DATA), 106);	/* 5 + 100 (other CPU) + 1 */
	assert_int_equal(cmpxchg_calls, 2);
	/* Without LOCK the store is a plain write. */
	cmpxchg_calls = 0;
	assert_ok(RUN(0x01, 0x03));
	assert_int_equal(fake_r32(FAKE_DATA), 107);
	assert_int_equal(cmpxchg_calls, 0);
	/* XCHG with memory is locked without the prefix. */
	assert_ok(RUN(0x87, 0x03));
	assert_int_equal(cmpxchg_calls, 1);
	assert_int_equal(fake_r32(FAKE_DATA), 1);
	assert_int_equal(CPU.gpr[EMU_RAX], 107);
}

static void cmpxchg16b_needs_alignment(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RBX] = FAKE_DATA + 8;
	assert_gp(RUN(0x48, 0x0f, 0xc7, 0x0b), 0);	/* cmpxchg16b [rbx] */
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	fake_w64(FAKE_DATA, 1);
	fake_w64(FAKE_DATA + 8, 2);
	CPU.gpr[EMU_RAX] = 1;
	CPU.gpr[EMU_RDX] = 2;
	CPU.gpr[EMU_RCX] = 0x33;
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0x48, 0x0f, 0xc7, 0x0b));
	assert_true(CPU.rflags & X86_ZF);
	assert_int_equal(fake_r64(FAKE_DATA), FAKE_DATA);	/* rbx */
	assert_int_equal(fake_r64(FAKE_DATA + 8), 0x33);	/* rcx */
}

/* ------------------------------------------------------------ decode cache */

#ifdef CONFIG_EMU_DECODE_CACHE
static void dcache_needs_invalidation_on_code_writes(void **state)
{
	fake_mode_long(0);
	struct emu_dcache *dc = emu_dcache_create(12);
	assert_non_null(dc);
	fake.ctx.dcache = dc;
	fake.mem[FAKE_CODE] = 0xff;			/* inc eax */
	fake.mem[FAKE_CODE + 1] = 0xc0;
	CPU.gpr[EMU_RAX] = 0;
	CPU.rip = FAKE_CODE;
	assert_ok(emu_step(&fake.ctx));
	fake.mem[FAKE_CODE + 1] = 0xc8;			/* now dec eax */
	CPU.rip = FAKE_CODE;
	assert_ok(emu_step(&fake.ctx));			/* stale: inc again */
	assert_int_equal(CPU.gpr[EMU_RAX], 2);
	emu_dcache_invalidate_page(dc, FAKE_CODE);
	CPU.rip = FAKE_CODE;
	assert_ok(emu_step(&fake.ctx));			/* fresh: dec */
	assert_int_equal(CPU.gpr[EMU_RAX], 1);
	/* An instruction starting in the previous page and running into
	 * this one is dropped too. */
	CPU.rip = FAKE_CODE - 2;
	fake.mem[FAKE_CODE - 2] = 0x66;			/* 66 05 iw: add ax, imm16 */
	fake.mem[FAKE_CODE - 1] = 0x05;
	fake.mem[FAKE_CODE] = 0x01;
	fake.mem[FAKE_CODE + 1] = 0x00;
	CPU.gpr[EMU_RAX] = 0;
	assert_ok(emu_step(&fake.ctx));
	assert_int_equal(CPU.gpr[EMU_RAX], 1);
	fake.mem[FAKE_CODE] = 0x02;
	emu_dcache_invalidate_page(dc, FAKE_CODE);
	CPU.rip = FAKE_CODE - 2;
	assert_ok(emu_step(&fake.ctx));
	assert_int_equal(CPU.gpr[EMU_RAX], 3);
	fake.ctx.dcache = NULL;
	emu_dcache_destroy(dc);
}
#endif

/* ------------------------------------------------------------ flags, emu_run */

static void flags_are_exact_after_every_call(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RAX] = 0xff;
	CPU.gpr[EMU_RBX] = 1;
	CPU.rflags = EMU_FLAG_FIXED;
	assert_ok(RUN(0x00, 0xd8));			/* add al,bl: ff+1 */
	assert_int_equal(CPU.rflags & (X86_CF | X86_PF | X86_AF | X86_ZF | X86_SF | X86_OF),
			 X86_CF | X86_PF | X86_AF | X86_ZF);
	assert_ok(RUN(0xfe, 0xc0));			/* inc al: CF kept */
	assert_int_equal(CPU.rflags & (X86_CF | X86_ZF | X86_OF), X86_CF);
	CPU.gpr[EMU_RAX] = 0x7f;
	assert_ok(RUN(0xfe, 0xc0));			/* inc al: 7f -> 80 */
	assert_int_equal(CPU.rflags & (X86_CF | X86_SF | X86_OF | X86_AF),
			 X86_CF | X86_SF | X86_OF | X86_AF);
}

static void emu_run_stops_at_events_and_counts(void **state)
{
	fake_mode_long(0);
	const uint8_t code[] = {
		0x48, 0x31, 0xc0,			/* xor rax,rax */
		0x48, 0xff, 0xc0,			/* inc rax */
		0x48, 0x83, 0xf8, 0x05,			/* cmp rax,5 */
		0x75, 0xf7,				/* jne inc */
		0xcc,					/* int3 */
	};
	memcpy(fake.mem + FAKE_CODE, code, sizeof(code));
	CPU.rip = FAKE_CODE;
	fake.ctx.icount = 0;
	int r = emu_run(&fake.ctx, 1000);
	assert_int_equal(r, EMU_EXCEPTION);
	assert_int_equal(fake.ctx.exc.vector, EMU_EXC_BP);
	assert_int_equal(fake.ctx.exc.kind, EMU_EVENT_TRAP);
	assert_int_equal(CPU.gpr[EMU_RAX], 5);
	assert_int_equal(fake.ctx.icount, 1 + 5 * 3 + 1);	/* int3 retires */
	assert_int_equal(CPU.rip, FAKE_CODE + sizeof(code));
	assert_true(CPU.rflags & X86_ZF);
	/* A budget ends the run with EMU_CONTINUE. */
	CPU.rip = FAKE_CODE;
	fake.ctx.icount = 0;
	assert_ok(emu_run(&fake.ctx, 4));
	assert_int_equal(fake.ctx.icount, 4);
	assert_int_equal(CPU.rip, FAKE_CODE + 3);	/* back at inc */
}

static void bt_register_offset_reaches_below_the_operand(void **state)
{
	fake_mode_long(0);
	fake_w32(FAKE_DATA - 4, 0x80000000u);		/* bit 31 of the dword below */
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	CPU.gpr[EMU_RCX] = (uint32_t)-1;		/* bit offset -1 */
	assert_ok(RUN(0x0f, 0xa3, 0x0b));		/* bt [rbx],ecx */
	assert_true(CPU.rflags & X86_CF);
	assert_ok(RUN(0x0f, 0xb3, 0x0b));		/* btr [rbx],ecx */
	assert_int_equal(fake_r32(FAKE_DATA - 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(limit_violation_is_gp_or_ss, fake_setup),
		cmocka_unit_test_setup(expand_down_segment, fake_setup),
		cmocka_unit_test_setup(write_to_readonly_or_code_segment, fake_setup),
		cmocka_unit_test_setup(null_segment_access_is_gp, fake_setup),
		cmocka_unit_test_setup(noncanonical_in_64bit_mode, fake_setup),
		cmocka_unit_test_setup(fs_base_applies_in_64bit_mode, fake_setup),
		cmocka_unit_test_setup(addressing16_uses_ss_for_bp_and_wraps, fake_setup),
		cmocka_unit_test_setup(alignment_check_at_cpl3, fake_setup),
		cmocka_unit_test_setup(fifteen_byte_limit, fake_setup),
		cmocka_unit_test_setup(fetch_stops_at_the_instruction_end, fake_setup),
		cmocka_unit_test_setup(cs_limit_bounds_execution, fake_setup),
		cmocka_unit_test_setup(div_fault_leaves_state, fake_setup),
		cmocka_unit_test_setup(faulting_push_leaves_rsp, fake_setup),
		cmocka_unit_test_setup(rmw_checks_write_before_reading, fake_setup),
		cmocka_unit_test_setup(rep_is_restartable_and_interruptible, fake_setup),
		cmocka_unit_test_setup(rep_fault_keeps_progress, fake_setup),
		cmocka_unit_test_setup(rep_with_zero_count_does_nothing, fake_setup),
		cmocka_unit_test_setup(repe_cmps_stops_on_mismatch, fake_setup),
		cmocka_unit_test_setup(locked_add_retries_when_memory_changed, fake_setup),
		cmocka_unit_test_setup(cmpxchg16b_needs_alignment, fake_setup),
#ifdef CONFIG_EMU_DECODE_CACHE
		cmocka_unit_test_setup(dcache_needs_invalidation_on_code_writes, fake_setup),
#endif
		cmocka_unit_test_setup(flags_are_exact_after_every_call, fake_setup),
		cmocka_unit_test_setup(emu_run_stops_at_events_and_counts, fake_setup),
		cmocka_unit_test_setup(bt_register_offset_reaches_below_the_operand, fake_setup),
	};
	return cmocka_run_group_tests_name("emu_core", tests, NULL, NULL);
}
