/*
 * test_hw_svm_exits_exc.c — SVM exception intercepts and SHUTDOWN, end
 * to end on the model. Each exception is raised by a guest instruction
 * with its intercept bit off (delivered through the guest IDT to a
 * handler that halts: the frame on the stack shows the architectural
 * delivery) and on (#VMEXIT 0x40 + vector before delivery).
 *
 * Truth is the APM's, as literals: Vol. 2 Table B-1 (exception
 * intercept word at 0x008, bit n = vector n), Appendix C (0x40 + vector,
 * SHUTDOWN 0x7f), 15.12 (EXITINFO1 = the error code the exception would
 * push, EXITINFO2 = the faulting address for #PF; the exit happens
 * instead of delivery, so CR2 is not written; INT3/INTO/BOUND: RIP at
 * the instruction and nRIP after it), 15.7.2 (EXITINTINFO: the event
 * being delivered when the intercept hit), 15.14.3 (a triple fault is a
 * SHUTDOWN intercept). Error codes and frames: Vol. 2 8.4 (the selector
 * error code: EXT bit 0, IDT bit 1, index << 3), 8.4.2 (#PF error code),
 * 8.9.3 (long-mode interrupt stack frame).
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
#define HANDLER	0x18000ull
#define RO_PAGE	0x30000ull
#define STACK	0x80000ull
#define UNMAPPED 0x40000000ull	/* beyond the guest's 4 MiB identity map */

#define EXIT_EXCP(v)	(0x40 + (v))
#define EXIT_HLT	0x78
#define EXIT_SHUTDOWN	0x7f

enum { DE = 0, BP = 3, UD = 6, NP = 11, GP = 13, PF = 14 };
enum { RAX, RCX, RDX, RBX };

#define SEL_CODE 0x08	/* the harness's GDT */
#define SEL_DATA 0x10

static void load(const uint8_t *code, size_t len)
{
	hwg_load(&g, CODE, code, len);
	hwg_set_entry(&g, CODE, STACK);
}

/* A 64-bit interrupt gate (APM Vol. 2 4.8.4): P, DPL 0, type 0xe. */
static void set_gate(unsigned vec, uint64_t handler)
{
	const uint64_t idt = vmcb()->save.idtr.base;
	const uint64_t lo = (handler & 0xffff) | ((uint64_t)SEL_CODE << 16) |
			    (0x8eull << 40) | (((handler >> 16) & 0xffff) << 48);
	const uint64_t hi = handler >> 32;
	hwg_load(&g, idt + vec * 16, &lo, 8);
	hwg_load(&g, idt + vec * 16 + 8, &hi, 8);
}

/* A handler that halts, behind the gate for @vec. */
static void install_handler(unsigned vec)
{
	static const uint8_t hlt = 0xf4;
	hwg_load(&g, HANDLER, &hlt, 1);
	set_gate(vec, HANDLER);
}

static uint64_t stack_word(unsigned i)
{
	const uint64_t *p = hwg_ptr(&g, hwg_gpr(&g, 4) + 8 * i, 8);
	assert_non_null(p);
	return *p;
}

/*
 * The handler ran (HLT exit at HANDLER) with the long-mode frame of
 * 8.9.3 on the stack: [error code,] RIP, CS, RFLAGS, RSP, SS.
 */
static void assert_delivered(uint64_t ret_rip, bool has_err, uint64_t err)
{
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), HANDLER);
	const unsigned e = has_err ? 1 : 0;
	assert_int_equal(hwg_gpr(&g, 4), STACK - 8 * (5 + e));
	if (has_err)
		assert_int_equal(stack_word(0), err);
	assert_int_equal(stack_word(e + 0), ret_rip);
	assert_int_equal(stack_word(e + 1), SEL_CODE);
	assert_int_equal(stack_word(e + 3), STACK);
	assert_int_equal(stack_word(e + 4), SEL_DATA);
}

/* The exception exited before delivery: RIP at the faulting instruction,
 * the stack untouched. */
static void assert_intercepted(unsigned vec, uint64_t rip)
{
	assert_int_equal(run(), EXIT_EXCP(vec));
	assert_int_equal(hwg_rip(&g), rip);
	assert_int_equal(hwg_gpr(&g, 4), STACK);
}

/* ------------------------------------------------------------ faults without error code */

static void ud_intercept(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x0b, 0xf4 };	/* ud2; hlt */
	load(code, sizeof(code));
	install_handler(UD);
	vmcb()->control.intercept_exceptions = 1u << UD;
	hwg_set_gpr(&g, RBX, 0xb0b);
	vmcb()->control.next_rip = 0xbad;
	assert_intercepted(UD, CODE);
	assert_int_equal(hwg_gpr(&g, RBX), 0xb0b);
	/* 15.7.1: nRIP only for instruction intercepts and INT3/INTO/BOUND. */
	assert_int_equal(vmcb()->control.next_rip, 0);

	vmcb()->control.intercept_exceptions = 0;
	hwg_set_entry(&g, CODE, STACK);
	assert_delivered(CODE, false, 0);			/* a fault: RIP of UD2 */
}

/* Only its own bit: with every other vector intercepted, #DE is
 * delivered to the guest. */
static void de_intercept(void **state)
{
	static const uint8_t code[] = {
		0x31, 0xc9,		/* xor ecx, ecx */
		0xf7, 0xf1,		/* div ecx */
		0xf4,
	};
	load(code, sizeof(code));
	install_handler(DE);
	vmcb()->control.intercept_exceptions = 1u << DE;
	assert_intercepted(DE, CODE + 2);

	vmcb()->control.intercept_exceptions = ~(1u << DE);
	hwg_set_entry(&g, CODE, STACK);
	assert_delivered(CODE + 2, false, 0);
}

/* INT3 is a trap: delivered, the frame's RIP is after it; intercepted,
 * RIP is at it and nRIP after it (15.12). */
static void bp_intercept(void **state)
{
	static const uint8_t code[] = { 0x90, 0xcc, 0xf4 };	/* nop; int3; hlt */
	load(code, sizeof(code));
	install_handler(BP);
	vmcb()->control.intercept_exceptions = 1u << BP;
	assert_intercepted(BP, CODE + 1);
	assert_int_equal(vmcb()->control.next_rip, CODE + 2);

	vmcb()->control.intercept_exceptions = 0;
	hwg_set_entry(&g, CODE, STACK);
	assert_delivered(CODE + 2, false, 0);
}

/* ------------------------------------------------------------ error codes */

/*
 * A fault raised while INT n (or INT3, INTO) delivers its event is a
 * fault of that instruction: the RIP it reports - at an intercept or in
 * the frame pushed for its handler - is the INT's own (APM Vol. 2 8.2,
 * faults; SDM Vol. 3A 6.5).
 */

/* INT 0x80 through a not-present interrupt gate: #NP, error code
 * 0x80 << 3 | IDT (bit 1) = 0x402; EXT = 0, INT n being the program's
 * own event. (A zero gate would be #GP: the type is checked first.) */
static void np_error_code(void **state)
{
	static const uint8_t code[] = { 0xcd, 0x80, 0xf4 };	/* int 0x80; hlt */
	load(code, sizeof(code));
	install_handler(NP);
	set_gate(0x80, HANDLER);
	const uint64_t idt = vmcb()->save.idtr.base;
	uint8_t *attr = hwg_ptr(&g, idt + 0x80 * 16 + 5, 1);
	*attr &= 0x7f;						/* P = 0 */
	vmcb()->control.intercept_exceptions = 1u << NP;
	assert_int_equal(run(), EXIT_EXCP(NP));
	assert_int_equal(vmcb()->control.exitinfo1, 0x402);
	assert_int_equal(hwg_gpr(&g, 4), STACK);
	assert_int_equal(hwg_rip(&g), CODE);

	vmcb()->control.intercept_exceptions = 0;
	hwg_set_entry(&g, CODE, STACK);
	assert_delivered(CODE, true, 0x402);
}

/* INT 0x80 beyond the IDT limit: #GP(0x402). */
static void gp_error_code(void **state)
{
	static const uint8_t code[] = { 0xcd, 0x80, 0xf4 };
	load(code, sizeof(code));
	install_handler(GP);
	vmcb()->save.idtr.limit = 0x80 * 16 - 1;
	vmcb()->control.intercept_exceptions = 1u << GP;
	assert_int_equal(run(), EXIT_EXCP(GP));
	assert_int_equal(vmcb()->control.exitinfo1, 0x402);
	assert_int_equal(hwg_gpr(&g, 4), STACK);
	assert_int_equal(hwg_rip(&g), CODE);

	vmcb()->control.intercept_exceptions = 0;
	hwg_set_entry(&g, CODE, STACK);
	assert_delivered(CODE, true, 0x402);
}

/* ------------------------------------------------------------ #PF */

/*
 * #PF: EXITINFO1 = the error code (bit 0 P, 1 W/R, 2 U/S, 4 I/D with
 * EFER.NXE), EXITINFO2 = the faulting address, CR2 unwritten; delivered,
 * CR2 = the address and the error code on the stack.
 */
static void pf_case(const uint8_t *insn, size_t len, uint64_t rip, uint64_t addr,
		    uint64_t err)
{
	uint8_t code[16];
	memcpy(code, insn, len);
	code[len] = 0xf4;
	load(code, len + 1);
	install_handler(PF);
	hwg_set_gpr(&g, RAX, UNMAPPED);
	vmcb()->save.cr2 = 0xc2c2;
	vmcb()->control.next_rip = 0xbad;
	vmcb()->control.intercept_exceptions = 1u << PF;
	assert_intercepted(PF, rip);
	assert_int_equal(vmcb()->control.exitinfo1, err);
	assert_int_equal(vmcb()->control.exitinfo2, addr);
	assert_int_equal(vmcb()->save.cr2, 0xc2c2);
	assert_int_equal(vmcb()->control.next_rip, 0);

	vmcb()->control.intercept_exceptions = 0;
	hwg_set_entry(&g, CODE, STACK);
	hwg_set_gpr(&g, RAX, UNMAPPED);
	assert_delivered(rip, true, err);
	assert_int_equal(vmcb()->save.cr2, addr);
}

static void pf_read_not_present(void **state)
{
	static const uint8_t insn[] = {
		0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40,	/* mov rax, [0x40000000] */
	};
	pf_case(insn, sizeof(insn), CODE, UNMAPPED, 0x0);
}

static void pf_write_not_present(void **state)
{
	static const uint8_t insn[] = {
		0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40,	/* mov [0x40000000], rax */
	};
	pf_case(insn, sizeof(insn), CODE, UNMAPPED, 0x2);
}

/* A fetch: RIP is the unmapped target itself. */
static void pf_fetch_not_present(void **state)
{
	static const uint8_t insn[] = { 0xff, 0xe0 };		/* jmp rax */
	pf_case(insn, sizeof(insn), UNMAPPED, UNMAPPED, 0x10);
}

/* A supervisor write to a read-only page with CR0.WP = 1: P | W. */
static void pf_write_protection(void **state)
{
	static const uint8_t insn[] = {
		0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x03, 0x00,	/* mov [0x30000], rax */
	};
	assert_int_equal(ptb_update(&g.guest, PTB_64, g.cr3, RO_PAGE, 1, 0, PTE_RW), 0);
	pf_case(insn, sizeof(insn), CODE, RO_PAGE, 0x3);
}

/* ------------------------------------------------------------ during delivery */

/*
 * UD2 with an IDT of vectors 0-3: delivering the #UD reads a gate beyond
 * the limit, #GP(6 << 3 | IDT), which 15.12 checks for its intercept
 * before combining it with the #UD. The exit carries the #UD in
 * EXITINTINFO (15.7.2): vector 6, type 3 (exception), V, no EV. (EXT,
 * bit 0, is left out: the SDM sets it for a fault while delivering an
 * earlier exception, the APM words it "source external to the
 * processor".)
 */
static void exitintinfo_of_interrupted_delivery(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x0b };		/* ud2 */
	load(code, sizeof(code));
	vmcb()->save.idtr.limit = 4 * 16 - 1;
	vmcb()->control.intercept_exceptions = 1u << GP;
	assert_intercepted(GP, CODE);
	assert_int_equal(vmcb()->control.exitinfo1 & ~1ull, 0x32);
	assert_int_equal(vmcb()->control.exitintinfo, 0x80000306ull);

	/* An exit with nothing in delivery leaves EXITINTINFO clear. */
	vmcb()->control.intercept_exceptions = 1u << UD;
	hwg_set_entry(&g, CODE, STACK);
	assert_intercepted(UD, CODE);
	assert_int_equal(vmcb()->control.exitintinfo, 0);
}

/* ------------------------------------------------------------ SHUTDOWN */

/*
 * IDT limit 0: UD2 -> #GP (gate 6 beyond the limit) -> #GP again while
 * delivering it -> #DF -> #GP delivering the #DF: a triple fault, which
 * is the SHUTDOWN intercept (15.14.3).
 */
static void shutdown_intercept(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x0b };		/* ud2 */
	load(code, sizeof(code));
	vmcb()->save.idtr.limit = 0;
	assert_int_equal(run(), EXIT_SHUTDOWN);

	/* Without it the processor would shut down; the model cannot
	 * return from that and says so (hw/svm.h SVM_MODEL_UNSUPPORTED). */
	vmcb()->control.intercept_misc1 &= ~(1u << 31);	/* Table B-1: vector 3 bit 31 */
	hwg_set_entry(&g, CODE, STACK);
	int st = -1;
	hwg_run(&g, &st);
	assert_int_equal(st, SVM_MODEL_UNSUPPORTED);
	assert_non_null(hw_cpu_unsupported(g.cpu));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(ud_intercept),
		T(de_intercept),
		T(bp_intercept),
		T(np_error_code),
		T(gp_error_code),
		T(pf_read_not_present),
		T(pf_write_not_present),
		T(pf_fetch_not_present),
		T(pf_write_protection),
		T(exitintinfo_of_interrupted_delivery),
		T(shutdown_intercept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
