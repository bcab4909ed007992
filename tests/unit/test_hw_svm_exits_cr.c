/*
 * test_hw_svm_exits_cr.c — SVM control- and debug-register intercepts,
 * end to end on the model: MOV from/to CR0, CR3, CR4, CR8 (EXITCODE
 * 0x00 + n / 0x10 + n), the selective CR0 write intercept (0x65), SMSW,
 * CLTS and LMSW, and MOV from/to DRn (0x20 + n / 0x30 + n). Each with
 * the intercept off (the register really changes or is really read) and
 * on (#VMEXIT with RIP at the instruction, nRIP after it, the register
 * and the GPRs untouched).
 *
 * Truth is the APM's, as literals: Vol. 2 Table B-1 (CR/DR intercept
 * words at 0x000-0x007, CR0_SEL_WRITE = vector 3 bit 5), Appendix C
 * (exit codes), 15.7.1 (nRIP), 15.9 Table 15-7 (SMSW is a CR0 read,
 * CLTS and LMSW are CR0 writes; the selective CR0 write intercept fires
 * for a MOV CR0 that changes any bit but TS and MP, never for CLTS,
 * always for LMSW; the non-selective one has priority; CR0 accesses
 * check non-memory exceptions - illegal bit combinations - before the
 * intercept, other CRs and DRs all normal exceptions; LMSW and SMSW
 * check the intercept before memory exceptions), 15.21.2 (with
 * V_INTR_MASKING, CR8 is V_TPR).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/svm.h"
#include "tests/support/hwguest.h"
#include "test_hw_svm_exits.h"

#define CODE	0x10000ull
#define STACK	0x80000ull

#define V3_CR0_SEL_WRITE (1u << 5)	/* Table B-1, vector 3 bit 5 */

/* Exit codes, APM Vol. 2 Appendix C. */
#define EXIT_READ_CR(n)		(0x00 + (n))
#define EXIT_WRITE_CR(n)	(0x10 + (n))
#define EXIT_READ_DR(n)		(0x20 + (n))
#define EXIT_WRITE_DR(n)	(0x30 + (n))
#define EXIT_EXCP(v)		(0x40 + (v))
#define EXIT_CR0_SEL_WRITE	0x65
#define EXIT_HLT		0x78

#define GP 13
#define PF 14

/* CR0 bits, APM Vol. 2 3.1.1. */
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_WP (1ull << 16)
/* The harness's guest CR0: PG, WP, NE, ET, MP, PE. */
#define GUEST_CR0 0x80050033ull

enum { RAX, RCX, RDX, RBX };

static void load(const uint8_t *code, size_t len)
{
	hwg_load(&g, CODE, code, len);
	hwg_set_entry(&g, CODE, STACK);
}

/* Start again at @rip with RAX/RBX = @rax/@rbx. */
static void again(uint64_t rip, uint64_t rax, uint64_t rbx)
{
	hwg_set_rip(&g, rip);
	hwg_set_gpr(&g, RAX, rax);
	hwg_set_gpr(&g, RBX, rbx);
}

/* An instruction intercept: RIP at it, nRIP after it (15.7.1). */
static void assert_exit(uint64_t exitcode, uint64_t rip, unsigned len)
{
	assert_int_equal(run(), exitcode);
	assert_int_equal(hwg_rip(&g), rip);
	assert_int_equal(vmcb()->control.next_rip, rip + len);
}

/* ------------------------------------------------------------ CR reads */

/*
 * MOV RAX, CRn then HLT. Off: RAX holds the register; on: the read
 * intercept for CRn exits and RAX keeps its value.
 */
static void cr_read(const uint8_t *insn, unsigned len, unsigned cr, uint64_t want)
{
	uint8_t code[8];
	memcpy(code, insn, len);
	code[len] = 0xf4;					/* hlt */
	load(code, len + 1);

	again(CODE, 0xdead, 0);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_gpr(&g, RAX), want);

	vmcb()->control.intercept_cr_read = (uint16_t)(1u << cr);
	again(CODE, 0xdead, 0);
	assert_exit(EXIT_READ_CR(cr), CODE, len);
	assert_int_equal(hwg_gpr(&g, RAX), 0xdead);
}

static void cr0_read_intercept(void **state)
{
	static const uint8_t insn[] = { 0x0f, 0x20, 0xc0 };		/* mov rax, cr0 */
	cr_read(insn, 3, 0, GUEST_CR0);
}

static void cr3_read_intercept(void **state)
{
	static const uint8_t insn[] = { 0x0f, 0x20, 0xd8 };		/* mov rax, cr3 */
	cr_read(insn, 3, 3, vmcb()->save.cr3);
}

static void cr4_read_intercept(void **state)
{
	static const uint8_t insn[] = { 0x0f, 0x20, 0xe0 };		/* mov rax, cr4 */
	cr_read(insn, 3, 4, vmcb()->save.cr4);
}

/* With V_INTR_MASKING (the harness sets it) CR8 reads V_TPR (15.21.2). */
static void cr8_read_intercept(void **state)
{
	static const uint8_t insn[] = { 0x44, 0x0f, 0x20, 0xc0 };	/* mov rax, cr8 */
	vmcb()->control.v_tpr = 7;
	cr_read(insn, 4, 8, 7);
}

/* SMSW is a read of CR0 (Table 15-7): the CR0 read intercept takes it. */
static void smsw_is_a_cr0_read(void **state)
{
	static const uint8_t insn[] = { 0x0f, 0x01, 0xe0 };		/* smsw eax */
	cr_read(insn, 3, 0, GUEST_CR0 & 0xffffffff);
}

/* ------------------------------------------------------------ CR writes */

/* MOV CRn, RAX then HLT; @now reads the register from the VMCB. */
static void cr_write(const uint8_t *insn, unsigned len, unsigned cr, uint64_t val,
		     uint64_t *now)
{
	uint8_t code[8];
	memcpy(code, insn, len);
	code[len] = 0xf4;
	load(code, len + 1);
	const uint64_t before = *now;

	vmcb()->control.intercept_cr_write = (uint16_t)(1u << cr);
	again(CODE, val, 0);
	assert_exit(EXIT_WRITE_CR(cr), CODE, len);
	assert_int_equal(*now, before);
	assert_int_equal(hwg_gpr(&g, RAX), val);

	vmcb()->control.intercept_cr_write = 0;
	again(CODE, val, 0);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(*now, val);
}

static void cr0_write_intercept(void **state)
{
	static const uint8_t insn[] = { 0x0f, 0x22, 0xc0 };		/* mov cr0, rax */
	cr_write(insn, 3, 0, GUEST_CR0 | CR0_TS, &vmcb()->save.cr0);
}

/* PWT in CR3 (bit 3): a value the guest can load without moving. */
static void cr3_write_intercept(void **state)
{
	static const uint8_t insn[] = { 0x0f, 0x22, 0xd8 };		/* mov cr3, rax */
	cr_write(insn, 3, 3, vmcb()->save.cr3 | 0x8, &vmcb()->save.cr3);
}

static void cr4_write_intercept(void **state)
{
	static const uint8_t insn[] = { 0x0f, 0x22, 0xe0 };		/* mov cr4, rax */
	cr_write(insn, 3, 4, vmcb()->save.cr4 | (1ull << 7) /* PGE */, &vmcb()->save.cr4);
}

/* CR8 writes land in V_TPR, written back at #VMEXIT (15.21.2). */
static void cr8_write_intercept(void **state)
{
	static const uint8_t code[] = {
		0x44, 0x0f, 0x22, 0xc0,		/* mov cr8, rax */
		0xf4,				/* hlt */
	};
	load(code, sizeof(code));
	vmcb()->control.v_tpr = 7;

	vmcb()->control.intercept_cr_write = 1u << 8;
	again(CODE, 5, 0);
	assert_exit(EXIT_WRITE_CR(8), CODE, 4);
	assert_int_equal(vmcb()->control.v_tpr, 7);

	vmcb()->control.intercept_cr_write = 0;
	again(CODE, 5, 0);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(vmcb()->control.v_tpr, 5);
}

/*
 * Table 15-7: a CR0 write checks its non-memory exceptions (illegal bit
 * combinations) before the intercept, and for the other CRs "all normal
 * exception checks take precedence". A MOV to CR0 with bit 32 set, to
 * CR4 with a reserved bit, to CR8 with bits 63:4 is a #GP(0) in the guest
 * with or without the write intercept - the exception intercept sees it.
 */
static void cr_write_value_gp_before_intercept(void **state)
{
	static const uint8_t code[] = {
		0x0f, 0x22, 0xc0,		/* mov cr0, rax */
		0x0f, 0x22, 0xe0,		/* mov cr4, rax */
		0x44, 0x0f, 0x22, 0xc0,		/* mov cr8, rax */
		0xf4,
	};
	const struct { uint64_t rip; unsigned cr; uint64_t bad; } c[] = {
		{ CODE, 0, GUEST_CR0 | (1ull << 32) },
		{ CODE + 3, 4, vmcb()->save.cr4 | (1ull << 31) },
		{ CODE + 6, 8, 16 },
	};
	load(code, sizeof(code));
	vmcb()->control.intercept_exceptions = 1u << GP;
	for (unsigned i = 0; i < 3; i++) {
		for (unsigned on = 0; on < 2; on++) {
			vmcb()->control.intercept_cr_write = (uint16_t)(on << c[i].cr);
			again(c[i].rip, c[i].bad, 0);
			assert_int_equal(run(), EXIT_EXCP(GP));
			assert_int_equal(vmcb()->control.exitinfo1, 0);
			assert_int_equal(hwg_rip(&g), c[i].rip);
		}
	}
}

/*
 * LMSW from memory: "for LMSW and SMSW, checks SVM intercepts before
 * checking memory exceptions" (Table 15-7). With its operand on an
 * unmapped page, LMSW exits with the CR0 write (or selective) intercept
 * instead of raising #PF; SMSW to it exits with the CR0 read intercept.
 */
static void lmsw_smsw_intercept_before_memory_fault(void **state)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x34, 0x25, 0x00, 0x00, 0x00, 0x40,	/* lmsw [0x40000000] */
		0x0f, 0x01, 0x24, 0x25, 0x00, 0x00, 0x00, 0x40,	/* smsw [0x40000000] */
		0xf4,
	};
	load(code, sizeof(code));
	vmcb()->control.intercept_exceptions = 1u << PF;
	again(CODE + 8, 0, 0);
	assert_int_equal(run(), EXIT_EXCP(PF));			/* no intercept: #PF */
	vmcb()->control.intercept_cr_read = 1u << 0;
	again(CODE + 8, 0, 0);
	assert_exit(EXIT_READ_CR(0), CODE + 8, 8);

	again(CODE, 0, 0);
	assert_int_equal(run(), EXIT_EXCP(PF));
	vmcb()->control.intercept_cr_write = 1u << 0;
	again(CODE, 0, 0);
	assert_int_equal(run(), EXIT_WRITE_CR(0));
	assert_int_equal(hwg_rip(&g), CODE);
}

/* ------------------------------------------------------------ selective CR0 */

/*
 * MOV CR0, RAX with the selective intercept: exits (0x65) only when a
 * bit other than TS and MP changes. @flip is XORed into the current CR0.
 */
static void sel_mov_cr0(uint64_t flip, bool exits)
{
	static const uint8_t code[] = { 0x0f, 0x22, 0xc0, 0xf4 };	/* mov cr0, rax; hlt */
	load(code, sizeof(code));
	const uint64_t cr0 = vmcb()->save.cr0;
	vmcb()->control.intercept_misc1 |= V3_CR0_SEL_WRITE;
	again(CODE, cr0 ^ flip, 0);
	if (exits) {
		assert_exit(EXIT_CR0_SEL_WRITE, CODE, 3);
		assert_int_equal(vmcb()->save.cr0, cr0);
	} else {
		assert_int_equal(run(), EXIT_HLT);
		assert_int_equal(vmcb()->save.cr0, cr0 ^ flip);
	}
}

static void sel_cr0_ts_mp_do_not_exit(void **state)
{
	sel_mov_cr0(CR0_TS, false);
	sel_mov_cr0(CR0_TS, false);		/* and back */
	sel_mov_cr0(CR0_MP, false);
	sel_mov_cr0(CR0_TS | CR0_MP, false);
	sel_mov_cr0(0, false);			/* same value */
}

static void sel_cr0_other_bits_exit(void **state)
{
	sel_mov_cr0(CR0_WP, true);
	sel_mov_cr0(CR0_EM, true);
	sel_mov_cr0(CR0_WP | CR0_TS, true);	/* TS riding along does not help */
}

/* Off: the same WP change goes through. */
static void sel_cr0_off(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x22, 0xc0, 0xf4 };
	load(code, sizeof(code));
	vmcb()->control.intercept_misc1 &= ~V3_CR0_SEL_WRITE;
	again(CODE, GUEST_CR0 & ~CR0_WP, 0);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(vmcb()->save.cr0, GUEST_CR0 & ~CR0_WP);
}

/* Both intercepts set: the non-selective CR0 write exit wins (0x10). */
static void sel_cr0_nonselective_has_priority(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x22, 0xc0, 0xf4 };
	load(code, sizeof(code));
	vmcb()->control.intercept_misc1 |= V3_CR0_SEL_WRITE;
	vmcb()->control.intercept_cr_write = 1u << 0;
	again(CODE, GUEST_CR0 & ~CR0_WP, 0);
	assert_exit(EXIT_WRITE_CR(0), CODE, 3);
	again(CODE, GUEST_CR0 | CR0_TS, 0);	/* a TS-only write too */
	assert_exit(EXIT_WRITE_CR(0), CODE, 3);
}

/* CLTS is never a selective CR0 write; it is a CR0 write (0x10). */
static void clts_intercepts(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x06, 0xf4 };		/* clts; hlt */
	load(code, sizeof(code));
	vmcb()->save.cr0 = GUEST_CR0 | CR0_TS;
	vmcb()->control.intercept_misc1 |= V3_CR0_SEL_WRITE;
	again(CODE, 0, 0);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(vmcb()->save.cr0, GUEST_CR0);		/* TS cleared */

	vmcb()->save.cr0 = GUEST_CR0 | CR0_TS;
	vmcb()->control.intercept_cr_write = 1u << 0;
	again(CODE, 0, 0);
	assert_exit(EXIT_WRITE_CR(0), CODE, 2);
	assert_int_equal(vmcb()->save.cr0, GUEST_CR0 | CR0_TS);
}

/*
 * LMSW (loads CR0[3:0], never clears PE): the CR0 write intercept takes
 * it (0x10); the selective one takes every LMSW, whatever it changes
 * (Table 15-7: "treats the selective CR0-write intercept as a
 * non-selective intercept").
 */
static void lmsw_intercepts(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xf0, 0xf4 };	/* lmsw ax; hlt */
	load(code, sizeof(code));

	/* Off: EM set, TS set, MP cleared, PE kept. */
	again(CODE, 0xfffc | CR0_EM | CR0_TS, 0);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(vmcb()->save.cr0, (GUEST_CR0 & ~0xfull) | 1 | CR0_EM | CR0_TS);

	vmcb()->save.cr0 = GUEST_CR0;
	vmcb()->control.intercept_cr_write = 1u << 0;
	again(CODE, GUEST_CR0 | CR0_EM, 0);
	assert_exit(EXIT_WRITE_CR(0), CODE, 3);
	vmcb()->control.intercept_cr_write = 0;

	vmcb()->control.intercept_misc1 |= V3_CR0_SEL_WRITE;
	again(CODE, GUEST_CR0 | CR0_EM, 0);
	assert_exit(EXIT_CR0_SEL_WRITE, CODE, 3);
	assert_int_equal(vmcb()->save.cr0, GUEST_CR0);

	again(CODE, (GUEST_CR0 & 0xffff) | CR0_TS, 0);	/* TS only */
	assert_int_equal(run(), EXIT_CR0_SEL_WRITE);
	assert_int_equal(vmcb()->save.cr0, GUEST_CR0);
}

/* ------------------------------------------------------------ DR */

/*
 * MOV DRn, RBX; MOV RAX, DRn; HLT. Off: RAX = the value written. Read
 * intercept: exits at the second instruction (the write went through);
 * write intercept: exits at the first, DRn unchanged.
 */
static void dr_access(unsigned dr, const uint8_t *code, size_t len, uint64_t val,
		      uint64_t reads_as)
{
	load(code, len);
	again(CODE, 0xdead, val);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_gpr(&g, RAX), reads_as);

	vmcb()->control.intercept_dr_read = (uint16_t)(1u << dr);
	again(CODE, 0xdead, val);
	assert_int_equal(run(), EXIT_READ_DR(dr));
	assert_int_equal(hwg_rip(&g), CODE + 3);
	assert_int_equal(vmcb()->control.next_rip, CODE + 6);
	assert_int_equal(hwg_gpr(&g, RAX), 0xdead);
	vmcb()->control.intercept_dr_read = 0;

	vmcb()->control.intercept_dr_write = (uint16_t)(1u << dr);
	again(CODE, 0xdead, val ^ 0x1);
	assert_exit(EXIT_WRITE_DR(dr), CODE, 3);
	vmcb()->control.intercept_dr_write = 0;
	/* DRn still holds the first value. */
	static const uint8_t read_only[] = { 0x0f, 0x21, 0xc0, 0xf4 };
	uint8_t r[4];
	memcpy(r, read_only, 4);
	r[2] = (uint8_t)(0xc0 | (dr << 3));		/* mov rax, drN */
	hwg_load(&g, CODE + 0x100, r, 4);
	again(CODE + 0x100, 0xdead, 0);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_gpr(&g, RAX), reads_as);
}

static void dr0_intercepts(void **state)
{
	static const uint8_t code[] = {
		0x0f, 0x23, 0xc3,	/* mov dr0, rbx */
		0x0f, 0x21, 0xc0,	/* mov rax, dr0 */
		0xf4,
	};
	dr_access(0, code, sizeof(code), 0x123456789000ull, 0x123456789000ull);
}

static void dr3_intercepts(void **state)
{
	static const uint8_t code[] = {
		0x0f, 0x23, 0xdb,	/* mov dr3, rbx */
		0x0f, 0x21, 0xd8,	/* mov rax, dr3 */
		0xf4,
	};
	dr_access(3, code, sizeof(code), 0x4000, 0x4000);
}

/* DR7: bit 10 is reserved and reads as 1 (APM Vol. 2 13.1.1); L0 set. */
static void dr7_intercepts(void **state)
{
	static const uint8_t code[] = {
		0x0f, 0x23, 0xfb,	/* mov dr7, rbx */
		0x0f, 0x21, 0xf8,	/* mov rax, dr7 */
		0xf4,
	};
	dr_access(7, code, sizeof(code), 0x1, 0x401);
	assert_int_equal(vmcb()->save.dr7, 0x401);
}

/*
 * Each DR intercept bit covers only its register (Table B-1): with only
 * the DR7 read intercept set, MOV to and from DR0 do not exit.
 */
static void dr_intercept_bit_is_per_register(void **state)
{
	static const uint8_t code[] = {
		0x0f, 0x23, 0xc3,	/* mov dr0, rbx */
		0x0f, 0x21, 0xc0,	/* mov rax, dr0 */
		0xf4,
	};
	load(code, sizeof(code));
	vmcb()->control.intercept_dr_read = 1u << 1;		/* DR1: unrelated */
	vmcb()->control.intercept_dr_write = 1u << 2;
	again(CODE, 0, 0x5000);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_gpr(&g, RAX), 0x5000);

	vmcb()->control.intercept_dr_read = 1u << 7;
	vmcb()->control.intercept_dr_write = 0;
	again(CODE, 0, 0x6000);
	/* The processor's own look at DR7.GD is no guest MOV from DR7. */
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_gpr(&g, RAX), 0x6000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(cr0_read_intercept),
		T(cr3_read_intercept),
		T(cr4_read_intercept),
		T(cr8_read_intercept),
		T(smsw_is_a_cr0_read),
		T(cr0_write_intercept),
		T(cr3_write_intercept),
		T(cr4_write_intercept),
		T(cr8_write_intercept),
		T(cr_write_value_gp_before_intercept),
		T(lmsw_smsw_intercept_before_memory_fault),
		T(sel_cr0_ts_mp_do_not_exit),
		T(sel_cr0_other_bits_exit),
		T(sel_cr0_off),
		T(sel_cr0_nonselective_has_priority),
		T(clts_intercepts),
		T(lmsw_intercepts),
		T(dr0_intercepts),
		T(dr3_intercepts),
		T(dr7_intercepts),
		T(dr_intercept_bit_is_per_register),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
