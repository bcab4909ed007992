/*
 * test_hw_svm_exits_insn.c — SVM instruction intercepts, end to end: a
 * long-mode guest on the model executes RDTSC, RDTSCP, CPUID, INVD,
 * PAUSE, HLT, INVLPG, VMMCALL, WBINVD, INVPCID with the intercept off (the
 * instruction's architectural effect is visible) and on (#VMEXIT with
 * its EXITCODE, RIP at the instruction, nRIP after it, registers
 * untouched); and TSC_OFFSET on RDTSC, RDTSCP and RDMSR(TSC).
 *
 * Truth is the APM's, written here as literals: Vol. 2 Table B-1
 * (intercept vector bits; TSC_OFFSET at 0x050, added to the TSC the
 * guest reads), Appendix C (exit codes), 15.7 (instruction intercepts
 * are checked after simple exceptions - #UD, #GP for CPL - and before
 * those related to memory accesses or operand values), 15.7.1 (nRIP:
 * the rIP of the next sequential instruction, saved on instruction
 * intercepts), 15.9 Table 15-7 (each instruction's priority: INVPCID's
 * intercept beats every exception but #GP for CPL), 15.18 (VMMCALL is
 * #UD when not intercepted), 15.13 and 15.17 (an intercepted external
 * interrupt stays pending, to be taken by the VMM once GIF = 1).
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

/* Guest layout (gva = gpa; hwguest keeps 0x1000-0x3fff and 1-2 MiB). */
#define CODE	0x10000ull
#define DATA	0x20000ull
#define DESC	0x21000ull
#define STACK	0x80000ull

/* Intercept vector bits, APM Vol. 2 Table B-1 (vector 3 at 0x00c,
 * vector 4 at 0x010, vector 5 at 0x014). */
#define V3_RDTSC	(1u << 14)
#define V3_CPUID	(1u << 18)
#define V3_INVD		(1u << 22)
#define V3_PAUSE	(1u << 23)
#define V3_HLT		(1u << 24)
#define V3_INVLPG	(1u << 25)
#define V4_VMMCALL	(1u << 1)
#define V4_RDTSCP	(1u << 7)
#define V4_WBINVD	(1u << 9)
#define V5_INVPCID	(1u << 2)

/* Exit codes, APM Vol. 2 Appendix C. */
#define EXIT_INTR	0x60
#define EXIT_RDTSC	0x6e
#define EXIT_CPUID	0x72
#define EXIT_INVD	0x76
#define EXIT_PAUSE	0x77
#define EXIT_HLT	0x78
#define EXIT_INVLPG	0x79
#define EXIT_VMMCALL	0x81
#define EXIT_RDTSCP	0x87
#define EXIT_WBINVD	0x89
#define EXIT_INVPCID	0xa2
#define EXIT_EXCP(v)	(0x40 + (v))

#define UD 6
#define GP 13

#define MSR_TSC		0x10
#define MSR_TSC_AUX	0xc0000103

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI };

/* Load @code at CODE and enter there. */
static void load(const uint8_t *code, size_t len)
{
	hwg_load(&g, CODE, code, len);
	hwg_set_entry(&g, CODE, STACK);
}

/* Distinct values in the registers an instruction could touch. */
static const uint64_t sentinel[8] = {
	0x1111111111111111ull, 0x2222222222222222ull, 0x3333333333333333ull,
	0x4444444444444444ull, STACK, 0x6666666666666666ull,
	0x7777777777777777ull, 0x8888888888888888ull,
};

static void set_sentinels(void)
{
	for (unsigned r = 0; r < 8; r++)
		if (r != RSP)
			hwg_set_gpr(&g, r, sentinel[r]);
}

static void assert_sentinels(void)
{
	for (unsigned r = 0; r < 8; r++)
		assert_int_equal(hwg_gpr(&g, r), sentinel[r]);
}

/*
 * The "on" half every instruction shares: the guest at CODE runs @len
 * bytes of one instruction then HLT; the intercept exits with @exitcode,
 * RIP at the instruction, nRIP after it (15.7.1) and no register changed.
 */
static void assert_intercepted_at(uint64_t rip, unsigned len, uint64_t exitcode)
{
	assert_int_equal(run(), exitcode);
	assert_int_equal(hwg_rip(&g), rip);
	assert_int_equal(vmcb()->control.next_rip, rip + len);
	assert_sentinels();
}

/* A one-instruction guest: intercept off, it runs to the HLT after it;
 * intercept on, it exits at the instruction. */
static void one_insn(const uint8_t *insn, unsigned len, uint32_t *word, uint32_t bit,
		     uint64_t exitcode)
{
	uint8_t code[16];
	memcpy(code, insn, len);
	code[len] = 0xf4;					/* hlt */
	load(code, len + 1);

	*word &= ~bit;
	set_sentinels();
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE + len);

	*word |= bit;
	hwg_set_rip(&g, CODE);
	set_sentinels();
	assert_intercepted_at(CODE, len, exitcode);
}

/* ------------------------------------------------------------ CPUID */

static void cpuid_intercept(void **state)
{
	static const uint8_t code[] = {
		0x31, 0xc0,		/* xor eax, eax */
		0x0f, 0xa2,		/* cpuid */
		0xf4,			/* hlt */
	};
	load(code, sizeof(code));
	vmcb()->control.intercept_misc1 &= ~V3_CPUID;
	set_sentinels();
	assert_int_equal(run(), EXIT_HLT);
	/* Leaf 0 on an AMD processor: "AuthenticAMD" in EBX, EDX, ECX
	 * (APM Vol. 3 E.3.1), upper halves cleared. */
	assert_int_equal(hwg_gpr(&g, RBX), 0x68747541);	/* "Auth" */
	assert_int_equal(hwg_gpr(&g, RDX), 0x69746e65);	/* "enti" */
	assert_int_equal(hwg_gpr(&g, RCX), 0x444d4163);	/* "cAMD" */

	vmcb()->control.intercept_misc1 |= V3_CPUID;
	hwg_set_rip(&g, CODE + 2);
	set_sentinels();
	assert_intercepted_at(CODE + 2, 2, EXIT_CPUID);
}

/* ------------------------------------------------------------ RDTSC, RDTSCP */

static void rdtsc_intercept(void **state)
{
	static const uint8_t rdtsc[] = { 0x0f, 0x31 };	/* rdtsc */
	load((const uint8_t[]){ 0x0f, 0x31, 0xf4 }, 3);
	vmcb()->control.intercept_misc1 &= ~V3_RDTSC;
	set_sentinels();
	assert_int_equal(run(), EXIT_HLT);
	/* EDX:EAX = TSC, bits 63:32 of RAX and RDX cleared (Vol. 3 RDTSC). */
	assert_int_equal(hwg_gpr(&g, RAX) >> 32, 0);
	assert_int_equal(hwg_gpr(&g, RDX) >> 32, 0);
	assert_int_equal(hwg_gpr(&g, RBX), sentinel[RBX]);

	one_insn(rdtsc, 2, &vmcb()->control.intercept_misc1, V3_RDTSC, EXIT_RDTSC);
}

static void rdtscp_intercept(void **state)
{
	static const uint8_t rdtscp[] = { 0x0f, 0x01, 0xf9 };	/* rdtscp */
	/* TSC_AUX is not switched by VMRUN: the guest reads the host's. */
	assert_int_equal(hw_wrmsr(g.cpu, MSR_TSC_AUX, 0x12345), 0);
	load((const uint8_t[]){ 0x0f, 0x01, 0xf9, 0xf4 }, 4);
	vmcb()->control.intercept_misc2 &= ~V4_RDTSCP;
	set_sentinels();
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_gpr(&g, RCX), 0x12345);
	assert_int_equal(hwg_gpr(&g, RAX) >> 32, 0);
	assert_int_equal(hwg_gpr(&g, RDX) >> 32, 0);

	one_insn(rdtscp, 3, &vmcb()->control.intercept_misc2, V4_RDTSCP, EXIT_RDTSCP);
}

/* ------------------------------------------------------------ INVD, WBINVD, PAUSE */

static void invd_intercept(void **state)
{
	static const uint8_t invd[] = { 0x0f, 0x08 };		/* invd */
	one_insn(invd, 2, &vmcb()->control.intercept_misc1, V3_INVD, EXIT_INVD);
}

static void wbinvd_intercept(void **state)
{
	static const uint8_t wbinvd[] = { 0x0f, 0x09 };	/* wbinvd */
	one_insn(wbinvd, 2, &vmcb()->control.intercept_misc2, V4_WBINVD, EXIT_WBINVD);
}

static void pause_intercept(void **state)
{
	static const uint8_t pause[] = { 0xf3, 0x90 };		/* pause */
	one_insn(pause, 2, &vmcb()->control.intercept_misc1, V3_PAUSE, EXIT_PAUSE);
}

/* ------------------------------------------------------------ HLT */

/*
 * Without the intercept HLT retires and the processor halts; the model's
 * host timer then fires at once (hw/hw.h, hw_cpu_set_deadline) and the
 * INTR intercept the harness sets turns it into VMEXIT_INTR, with RIP
 * already past the HLT (an interrupt ends a halt after the HLT).
 */
static void hlt_intercept(void **state)
{
	static const uint8_t code[] = { 0x90, 0xf4, 0x90 };	/* nop; hlt; nop */
	load(code, sizeof(code));
	vmcb()->control.intercept_misc1 |= V3_HLT;
	set_sentinels();
	assert_intercepted_at(CODE + 1, 1, EXIT_HLT);

	vmcb()->control.intercept_misc1 &= ~V3_HLT;
	hwg_set_rip(&g, CODE);
	set_sentinels();
	assert_int_equal(run(), EXIT_INTR);
	assert_int_equal(hwg_rip(&g), CODE + 2);
	assert_sentinels();
}

/*
 * After that VMEXIT_INTR the host timer's interrupt is the host's: it is
 * "held pending so that the interrupt can eventually be taken in the
 * VMM" (15.13), which happens when the hypervisor sets GIF again (STGI;
 * Table 15-10: INTR held pending until GIF = 1), as KVM does after every
 * #VMEXIT. The next VMRUN must not see it again.
 */
static void host_timer_taken_after_stgi(void **state)
{
	static const uint8_t code[] = { 0xf4, 0xf4 };		/* hlt; hlt */
	load(code, sizeof(code));
	vmcb()->control.intercept_misc1 &= ~V3_HLT;
	assert_int_equal(run(), EXIT_INTR);
	assert_int_equal(hwg_rip(&g), CODE + 1);

	assert_int_equal(stgi(g.cpu), SVM_OK);		/* the host takes it here */
	assert_int_equal(clgi(g.cpu), SVM_OK);
	vmcb()->control.intercept_misc1 |= V3_HLT;
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE + 1);
}

/* ------------------------------------------------------------ INVLPG, INVPCID */

/*
 * The architectural effect of INVLPG is on the TLB: the page's entry is
 * dropped, so the read after it walks again. Guest: read DATA, INVLPG
 * DATA, read DATA: misses = code page + DATA + DATA again = 3 (it would
 * be 2 without the INVLPG).
 */
static void invlpg_intercept(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x18,	/* mov rbx, [rax] */
		0x0f, 0x01, 0x38,	/* invlpg [rax] */
		0x48, 0x8b, 0x18,	/* mov rbx, [rax] */
		0xf4,			/* hlt */
	};
	load(code, sizeof(code));
	vmcb()->control.intercept_misc1 &= ~V3_INVLPG;
	hwg_set_gpr(&g, RAX, DATA);
	const uint64_t miss0 = hw_cpu_counters(g.cpu)->tlb_misses;
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE + 9);
	assert_int_equal(hw_cpu_counters(g.cpu)->tlb_misses - miss0, 3);

	vmcb()->control.intercept_misc1 |= V3_INVLPG;
	hwg_set_rip(&g, CODE + 3);
	set_sentinels();
	hwg_set_gpr(&g, RAX, DATA);
	const uint64_t miss1 = hw_cpu_counters(g.cpu)->tlb_misses;
	assert_int_equal(run(), EXIT_INVLPG);
	assert_int_equal(hwg_rip(&g), CODE + 3);
	assert_int_equal(vmcb()->control.next_rip, CODE + 6);
	assert_int_equal(hwg_gpr(&g, RAX), DATA);
	assert_int_equal(hwg_gpr(&g, RBX), sentinel[RBX]);
	/* Nothing was dropped: the code page is still cached. */
	assert_int_equal(hw_cpu_counters(g.cpu)->tlb_misses - miss1, 0);
}

/*
 * INVPCID type 2 (all contexts, globals too; SDM Vol. 2A INVPCID) drops
 * every translation of the current ASID. Guest: read DATA, INVPCID with
 * its descriptor at DESC, read DATA, HLT. Misses: code, DATA, DESC,
 * then after the flush code again (the next fetch) and DATA = 5.
 */
static void invpcid_intercept(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x0a,		/* mov rcx, [rdx] */
		0x66, 0x0f, 0x38, 0x82, 0x03,	/* invpcid rax, [rbx] */
		0x48, 0x8b, 0x0a,		/* mov rcx, [rdx] */
		0xf4,				/* hlt */
	};
	load(code, sizeof(code));
	vmcb()->control.intercept_misc3 &= ~V5_INVPCID;
	hwg_set_gpr(&g, RAX, 2);
	hwg_set_gpr(&g, RBX, DESC);
	hwg_set_gpr(&g, RDX, DATA);
	const uint64_t miss0 = hw_cpu_counters(g.cpu)->tlb_misses;
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE + 11);
	assert_int_equal(hw_cpu_counters(g.cpu)->tlb_misses - miss0, 5);

	vmcb()->control.intercept_misc3 |= V5_INVPCID;
	hwg_set_rip(&g, CODE + 3);
	set_sentinels();
	hwg_set_gpr(&g, RAX, 2);
	hwg_set_gpr(&g, RBX, DESC);
	assert_int_equal(run(), EXIT_INVPCID);
	assert_int_equal(hwg_rip(&g), CODE + 3);
	assert_int_equal(vmcb()->control.next_rip, CODE + 8);
	assert_int_equal(hwg_gpr(&g, RAX), 2);
	assert_int_equal(hwg_gpr(&g, RCX), sentinel[RCX]);
}

/*
 * Table 15-7, INVPCID: "Intercept takes priority over all exceptions
 * except #GP for CPL<>0". INVPCID with type 4 - a #GP(0) when it
 * executes - exits when intercepted.
 */
static void invpcid_intercept_before_operand_gp(void **state)
{
	static const uint8_t code[] = {
		0x66, 0x0f, 0x38, 0x82, 0x03,	/* invpcid rax, [rbx] */
		0xf4,				/* hlt */
	};
	load(code, sizeof(code));
	vmcb()->control.intercept_exceptions |= 1u << GP;
	hwg_set_gpr(&g, RAX, 4);
	hwg_set_gpr(&g, RBX, DESC);
	assert_int_equal(run(), EXIT_EXCP(GP));		/* not intercepted: #GP(0) */
	assert_int_equal(vmcb()->control.exitinfo1, 0);

	vmcb()->control.intercept_misc3 |= V5_INVPCID;
	hwg_set_rip(&g, CODE);
	assert_int_equal(run(), EXIT_INVPCID);
	assert_int_equal(hwg_rip(&g), CODE);
	assert_int_equal(vmcb()->control.next_rip, CODE + 5);
}

/* ------------------------------------------------------------ VMMCALL */

/* Not intercepted, VMMCALL raises #UD (Vol. 3 VMMCALL): seen here
 * through the #UD exception intercept, RIP at the VMMCALL (a fault). */
static void vmmcall_intercept(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xd9, 0xf4 };	/* vmmcall; hlt */
	load(code, sizeof(code));
	vmcb()->control.intercept_misc2 &= ~V4_VMMCALL;
	vmcb()->control.intercept_exceptions |= 1u << UD;
	set_sentinels();
	assert_int_equal(run(), EXIT_EXCP(UD));
	assert_int_equal(hwg_rip(&g), CODE);
	assert_sentinels();

	vmcb()->control.intercept_misc2 |= V4_VMMCALL;
	set_sentinels();
	assert_intercepted_at(CODE, 3, EXIT_VMMCALL);
}

/* ------------------------------------------------------------ TSC_OFFSET */

/*
 * Table B-1 (TSC_OFFSET): the guest's RDTSC and RDTSCP - and RDMSR of
 * the TSC, the same counter - return the TSC plus TSC_OFFSET (mod 2^64).
 * The model's TSC is modeled cycles, identical on two fresh machines
 * running the same guest, so the same guest with offsets 0 and @off
 * reads values @off apart.
 */
static uint64_t guest_tsc(const uint8_t *code, size_t len, uint64_t off)
{
	struct hwg h;
	const struct hwg_config cfg = { .vendor = HW_VENDOR_AMD, .ram_size = 4 << 20 };
	assert_int_equal(hwg_create(&h, &cfg), 0);
	hwg_load(&h, CODE, code, len);
	hwg_set_entry(&h, CODE, STACK);
	hwg_set_gpr(&h, RCX, MSR_TSC);
	hwg_vmcb(&h)->control.tsc_offset = off;
	int st = -1;
	assert_int_equal(hwg_run(&h, &st), EXIT_HLT);
	assert_int_equal(st, SVM_OK);
	const uint64_t tsc = (hwg_gpr(&h, RDX) << 32) | (uint32_t)hwg_gpr(&h, RAX);
	assert_int_equal(hwg_gpr(&h, RAX) >> 32, 0);
	hwg_destroy(&h);
	return tsc;
}

static void tsc_offset_applies(void **state)
{
	static const uint8_t rdtsc[] = { 0x0f, 0x31, 0xf4 };		/* rdtsc; hlt */
	static const uint8_t rdtscp[] = { 0x0f, 0x01, 0xf9, 0xf4 };	/* rdtscp; hlt */
	static const uint8_t rdmsr[] = { 0x0f, 0x32, 0xf4 };		/* rdmsr; hlt */
	const struct { const uint8_t *code; size_t len; } insn[] = {
		{ rdtsc, sizeof(rdtsc) }, { rdtscp, sizeof(rdtscp) }, { rdmsr, sizeof(rdmsr) },
	};
	const uint64_t offs[] = { 0x123456789abcull, ~0ull /* -1: wraps */ };
	for (unsigned i = 0; i < 3; i++) {
		const uint64_t base = guest_tsc(insn[i].code, insn[i].len, 0);
		assert_true(base > 0);
		for (unsigned o = 0; o < 2; o++)
			assert_int_equal(guest_tsc(insn[i].code, insn[i].len, offs[o]),
					 base + offs[o]);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(cpuid_intercept),
		T(rdtsc_intercept),
		T(rdtscp_intercept),
		T(invd_intercept),
		T(wbinvd_intercept),
		T(pause_intercept),
		T(hlt_intercept),
		T(host_timer_taken_after_stgi),
		T(invlpg_intercept),
		T(invpcid_intercept),
		T(invpcid_intercept_before_operand_gp),
		T(vmmcall_intercept),
		cmocka_unit_test(tsc_offset_applies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
