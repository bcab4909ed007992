/*
 * test_hw_svm_icpt.h — what the SVM intercept tests of the less common
 * instructions share (test_hw_svm_exits_misc.c, _dt.c, _virt.c): the
 * APM's numbers written as literals, so that a wrong constant in
 * hw/vmcb.h fails a test, and helpers around the harness
 * (tests/support/hwguest.h) for hand-assembled guest code.
 *
 * Every test runs one long-mode guest at CPL 0 on a fresh AMD machine: 4
 * MiB of RAM, identity-mapped, code at CODE, stack below STACK. The
 * harness intercepts HLT, I/O, MSRs through an all-zero MSRPM (none),
 * SHUTDOWN, INTR, NMI, VMRUN and VMMCALL; a test adds the intercepts it
 * is about.
 *
 * Numbers: intercept vectors APM Vol. 2 Table B-1 (vector 3 at 0x00c,
 * vector 4 at 0x010); exit codes Appendix C; nRIP 15.7.1 ("saved ... on
 * all #VMEXITs that are due to instruction intercepts ... For all other
 * intercepts, nRIP is reset to zero"); exception intercepts 15.12
 * (EXITINFO1 = the error code; #PF: EXITINFO2 = the address).
 */
#ifndef HVLAB_TEST_HW_SVM_ICPT_H
#define HVLAB_TEST_HW_SVM_ICPT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/svm.h"
#include "tests/support/hwguest.h"

/* ------------------------------------------------------------ layout */

#define RAM_SIZE	(4ull << 20)
#define CODE		0x10000ull	/* guest code */
#define HANDLERS	0x20000ull	/* interrupt handlers, 16 bytes each */
#define DATA		0x30000ull	/* scratch data page */
#define STACK		0x80000ull	/* initial RSP */
#define UNMAPPED	0x40000000ull	/* 1 GiB: outside RAM, not mapped */

/* ------------------------------------------------------------ APM numbers */

/* Intercept vector 3 (VMCB 0x00c) and 4 (0x010), Table B-1. */
#define V3_IDTR_READ	(1u << 6)
#define V3_GDTR_READ	(1u << 7)
#define V3_LDTR_READ	(1u << 8)
#define V3_TR_READ	(1u << 9)
#define V3_IDTR_WRITE	(1u << 10)
#define V3_GDTR_WRITE	(1u << 11)
#define V3_LDTR_WRITE	(1u << 12)
#define V3_TR_WRITE	(1u << 13)
#define V3_RDPMC	(1u << 15)
#define V3_PUSHF	(1u << 16)
#define V3_POPF		(1u << 17)
#define V3_IRET		(1u << 20)
#define V3_INTN		(1u << 21)
#define V3_INVLPGA	(1u << 26)
#define V4_VMRUN	(1u << 0)
#define V4_VMLOAD	(1u << 2)
#define V4_VMSAVE	(1u << 3)
#define V4_STGI		(1u << 4)
#define V4_CLGI		(1u << 5)
#define V4_SKINIT	(1u << 6)
#define V4_ICEBP	(1u << 8)
#define V4_MONITOR	(1u << 10)
#define V4_MWAIT	(1u << 11)
#define V4_MWAIT_COND	(1u << 12)

/* Exit codes, Appendix C. */
#define EXIT_EXCP(v)		(0x40ull + (v))
#define EXIT_IDTR_READ		0x66
#define EXIT_GDTR_READ		0x67
#define EXIT_LDTR_READ		0x68
#define EXIT_TR_READ		0x69
#define EXIT_IDTR_WRITE		0x6a
#define EXIT_GDTR_WRITE		0x6b
#define EXIT_LDTR_WRITE		0x6c
#define EXIT_TR_WRITE		0x6d
#define EXIT_RDPMC		0x6f
#define EXIT_PUSHF		0x70
#define EXIT_POPF		0x71
#define EXIT_IRET		0x74
#define EXIT_SWINT		0x75
#define EXIT_HLT		0x78
#define EXIT_INVLPGA		0x7a
#define EXIT_VMRUN		0x80
#define EXIT_VMLOAD		0x82
#define EXIT_VMSAVE		0x83
#define EXIT_STGI		0x84
#define EXIT_CLGI		0x85
#define EXIT_SKINIT		0x86
#define EXIT_ICEBP		0x88
#define EXIT_MONITOR		0x8a
#define EXIT_MWAIT		0x8b
#define EXIT_MWAIT_COND		0x8c
#define EXIT_INVALID		((uint64_t)-1)

#define DB 1
#define UD 6
#define NP 11
#define GP 13
#define PF 14

/* Page-fault error code bits (APM Vol. 2 8.4.2). */
#define PFE_W (1u << 1)

#define CR4_PCE (1ull << 8)
#define CR4_UMIP (1ull << 11)

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* ------------------------------------------------------------ helpers */

/* The guest under test; sv_teardown() destroys it after each test. */
static struct hwg g;

static inline struct vmcb *vmcb(void)
{
	return hwg_vmcb(&g);
}

/* A fresh guest with @len bytes of @code at CODE, entered there. */
static inline void sv_start(const uint8_t *code, size_t len)
{
	const struct hwg_config cfg = { .vendor = HW_VENDOR_AMD, .ram_size = RAM_SIZE };
	assert_int_equal(hwg_create(&g, &cfg), 0);
	hwg_load(&g, CODE, code, len);
	hwg_set_entry(&g, CODE, STACK);
}

static inline int sv_teardown(void **state)
{
	(void)state;
	if (g.m)
		hwg_destroy(&g);
	return 0;
}

/* VMRUN to the next #VMEXIT; VMRUN itself must complete. */
static inline uint64_t sv_run(void)
{
	int st = -1;
	const uint64_t code = hwg_run(&g, &st);
	assert_int_equal(st, SVM_OK);
	return code;
}

static inline uint64_t sv_gpr(unsigned r)
{
	return hwg_gpr(&g, r);
}

static inline void sv_set_gpr(unsigned r, uint64_t v)
{
	hwg_set_gpr(&g, r, v);
}

static inline uint64_t sv_get64(uint64_t gpa)
{
	uint64_t v;
	const void *p = hwg_ptr(&g, gpa, 8);
	assert_non_null(p);
	memcpy(&v, p, 8);
	return v;
}

static inline void sv_put64(uint64_t gpa, uint64_t v)
{
	hwg_load(&g, gpa, &v, 8);
}

/* Distinct values in every GPR but RSP; none is a mapped address. */
static inline uint64_t sv_sentinel(unsigned r)
{
	return 0x0101010101010101ull * (r + 1) + 0x4000000000ull;
}

static inline void sv_set_sentinels(void)
{
	for (unsigned r = 0; r < 16; r++)
		if (r != RSP)
			sv_set_gpr(r, sv_sentinel(r));
}

static inline void sv_assert_sentinels(void)
{
	for (unsigned r = 0; r < 16; r++)
		assert_int_equal(sv_gpr(r), r == RSP ? STACK : sv_sentinel(r));
}

/* An instruction intercept: @exitcode, RIP at the instruction, nRIP
 * after its @len bytes (15.7.1). */
static inline void sv_assert_icpt(uint64_t exitcode, uint64_t rip, unsigned len)
{
	assert_int_equal(sv_run(), exitcode);
	assert_int_equal(hwg_rip(&g), rip);
	assert_int_equal(vmcb()->control.next_rip, rip + len);
}

/* An intercepted exception at @rip: EXITINFO1 = @ec for the vectors
 * with an error code (15.12), nRIP reset to 0 (15.7.1). */
static inline void sv_assert_exc(unsigned vector, uint64_t ec, uint64_t rip)
{
	assert_int_equal(sv_run(), EXIT_EXCP(vector));
	assert_int_equal(hwg_rip(&g), rip);
	if (vector == GP || vector == NP || vector == PF)
		assert_int_equal(vmcb()->control.exitinfo1, ec);
	assert_int_equal(vmcb()->control.next_rip, 0);
}

/*
 * CPL 3 in 64-bit mode: the VMCB's CPL field (VMRUN loads CPL from it,
 * 15.5.1), CS and SS with DPL 3 (attribute packing of 15.5.1: type, S,
 * DPL, P in 7:0; AVL, L, D/B, G in 11:8), and the code page a user page.
 */
static inline void sv_cpl3(void)
{
	struct vmcb_save *s = &vmcb()->save;
	s->cpl = 3;
	s->cs.selector = 0x2b;
	s->cs.attrib = 0xafb;
	s->ss.selector = 0x33;
	s->ss.attrib = 0xcf3;
	assert_int_equal(ptb_update(&g.guest, PTB_64, g.cr3, CODE, 1, PTE_US, 0), 0);
}

/* A 64-bit interrupt gate (APM Vol. 2 4.8.4, Figure 4-24) for @vector
 * to @handler in the harness's code segment 8: type 14, P, DPL 0. */
static inline void sv_gate(unsigned vector, uint64_t handler)
{
	const uint64_t idt = vmcb()->save.idtr.base;
	const uint64_t lo = (handler & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
			    ((handler >> 16) & 0xffff) << 48;
	sv_put64(idt + 16 * vector, lo);
	sv_put64(idt + 16 * vector + 8, handler >> 32);
}

/* A handler for @vector that halts at once: HANDLERS + 16 * @vector. */
static inline uint64_t sv_hlt_handler(unsigned vector)
{
	static const uint8_t hlt = 0xf4;
	const uint64_t at = HANDLERS + 16 * vector;
	hwg_load(&g, at, &hlt, 1);
	sv_gate(vector, at);
	return at;
}

#endif
