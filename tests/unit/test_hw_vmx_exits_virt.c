/*
 * test_hw_vmx_exits_virt.c — the VMX instructions a guest executes in
 * VMX non-root operation, and the SVM instructions an Intel processor
 * does not have.
 *
 * SDM Vol. 3C 26.1.2: INVEPT, INVVPID, VMCLEAR, VMLAUNCH, VMPTRLD,
 * VMPTRST, VMRESUME, VMXOFF and VMXON exit unconditionally; VMREAD and
 * VMWRITE (26.1.3) whenever "VMCS shadowing" is 0, which it always is
 * here (the model does not offer it, IA32_VMX_PROCBASED_CTLS2[46] = 0).
 * Each exit must report:
 *
 *   basic exit reason     Appendix C: 19 VMCLEAR, 20 VMLAUNCH, 21 VMPTRLD,
 *                         22 VMPTRST, 23 VMREAD, 24 VMRESUME, 25 VMWRITE,
 *                         26 VMXOFF, 27 VMXON, 50 INVEPT, 53 INVVPID
 *   exit qualification    28.2.1: the displacement, sign-extended; 0 with
 *                         none (a register operand); RIP-relative: "the sum
 *                         of the displacement field and the appropriate RIP
 *                         value" (of the next instruction); cleared for the
 *                         exits the section does not list (VMLAUNCH,
 *                         VMRESUME, VMXOFF)
 *   instruction length    28.2.4
 *   RIP                   at the instruction, nothing executed (28.3.3)
 *   instruction info      28.2.5, Table 28-13 (INVEPT, INVVPID), 28-14
 *                         (VMCLEAR, VMPTRLD, VMPTRST, VMXON), 28-15
 *                         (VMREAD, VMWRITE); only the bits the table
 *                         defines for the form are compared
 *
 * Ordering, from each instruction's "Operation" (Vol. 3C 31.3): the #UD
 * conditions (compatibility mode among them) come first, then "ELSIF in
 * VMX non-root operation THEN VM exit", then "ELSIF CPL > 0 THEN #GP(0)"
 * - so a guest at CPL 3 exits too - and the memory operand is never
 * touched, so an unmapped one exits rather than faulting.
 *
 * Encodings checked with GNU as / objdump -M intel.
 */
#include "tests/unit/test_hw_vmx_exits.h"

#define R_VMCLEAR	19
#define R_VMLAUNCH	20
#define R_VMPTRLD	21
#define R_VMPTRST	22
#define R_VMREAD	23
#define R_VMRESUME	24
#define R_VMWRITE	25
#define R_VMXOFF	26
#define R_VMXON		27
#define R_INVEPT	50
#define R_INVVPID	53

#define UD 6
#define PF 14

enum { R8 = 8, R9, R10, R11, R12, R13, R14, R15 };

/* Instruction-information fields (28.2.5, Tables 28-13..28-15). */
#define I_SCALE(s)	((uint32_t)(s))		/* 1:0, log2 of the scale */
#define I_REG1(r)	((uint32_t)(r) << 3)	/* 6:3, register form of 28-15 */
#define I_ASZ64		(2u << 7)		/* 9:7 address size */
#define I_ASZ32		(1u << 7)
#define I_REGFORM	(1u << 10)		/* 10: register operand (28-15) */
#define I_SEG(s)	((uint32_t)(s) << 15)	/* 17:15 */
#define I_INDEX(r)	((uint32_t)(r) << 18)	/* 21:18 */
#define I_NO_INDEX	(1u << 22)
#define I_BASE(r)	((uint32_t)(r) << 23)	/* 26:23 */
#define I_NO_BASE	(1u << 27)
#define I_REG2(r)	((uint32_t)(r) << 28)	/* 31:28 */
#define SEG_ES 0
#define SEG_SS 2
#define SEG_DS 3
#define SEG_FS 4

/*
 * The bits a memory form defines: address size, bit 10 (0 = memory in
 * 28-15, "cleared to 0" in 28-13 and 28-14), segment, the two invalid
 * bits; scaling and index only with an index, base only with a base,
 * reg2 only in 28-13 and 28-15.
 */
static uint32_t mem_defined(bool index, bool base, bool reg2)
{
	uint32_t m = 0x380u | 0x400u | 0x38000u | I_NO_INDEX | I_NO_BASE;
	if (index)
		m |= 0x3u | 0x3c0000u;
	if (base)
		m |= 0x7800000u;
	if (reg2)
		m |= 0xf0000000u;
	return m;
}

/* Register form of VMREAD/VMWRITE: reg1, bit 10, reg2. */
#define REG_DEFINED (0x78u | I_REGFORM | 0xf0000000u)

/* ------------------------------------------------------------ guest */

/* Distinct values in every GPR but RSP; none is a mapped address. */
static uint64_t sentinel(unsigned r)
{
	return 0x0101010101010101ull * (r + 1) + 0x4000000000ull;
}

static void set_sentinels(void)
{
	for (unsigned r = 0; r < 16; r++)
		if (r != RSP)
			vx_set_gpr(r, sentinel(r));
}

static void assert_sentinels(void)
{
	for (unsigned r = 0; r < 16; r++)
		assert_int_equal(vx_gpr(r), r == RSP ? STACK : sentinel(r));
}

/* A fresh guest running @len bytes of @insn followed by HLT. */
static void start(const uint8_t *insn, size_t len)
{
	uint8_t code[24];
	assert_true(len < sizeof(code));
	memcpy(code, insn, len);
	code[len] = 0xf4;				/* hlt */
	vx_start(false);
	vx_code(code, len + 1);
	vx_write(VMCS_EXCEPTION_BITMAP, 1u << UD | 1u << PF);
	set_sentinels();
}

/*
 * CPL 3 (64-bit): CS and SS with DPL 3 and RPL 3 - the guest-state
 * checks of 27.3.1.2 want SS.DPL = SS.RPL = CS.RPL and a non-conforming
 * CS.DPL = SS.DPL - and the code page made a user page (the harness maps
 * everything supervisor; its upper levels already allow user access).
 */
static void to_cpl3(void)
{
	vx_write(VMCS_GUEST_CS_SELECTOR, 0x2b);
	vx_write(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xa0fb);	/* code, DPL 3, P, L, G */
	vx_write(VMCS_GUEST_SS_SELECTOR, 0x33);
	vx_write(VMCS_GUEST_SS_ACCESS_RIGHTS, 0xc0f3);	/* data, DPL 3, P, D/B, G */
	assert_int_equal(ptb_update(&g.guest, PTB_64, g.cr3, CODE, 1, PTE_US, 0), 0);
}

/* Compatibility mode: IA-32e guest with a 32-bit code segment (L = 0). */
static void to_compat(void)
{
	vx_write(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xc09b);	/* code, DPL 0, P, D, G */
}

/* #UD raised at the instruction, seen through the exception bitmap. */
static void assert_ud_exit(void)
{
	assert_int_equal(vx_run(), R_EXC_NMI);
	assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO), II(T_HW_EXC, UD));
	assert_int_equal(vx_rip(), CODE);
	assert_sentinels();
}

/* ------------------------------------------------------------ cases */

struct vcase {
	const char *what;
	uint8_t bytes[12];
	unsigned len;
	uint64_t reason;
	uint64_t qual;
	uint32_t info;		/* expected, within @defined */
	uint32_t defined;	/* 0: the bits defined_bits() derives */
};

static const struct vcase cases[] = {
	{ "vmclear [rbx+rsi*4+0x18]", { 0x66, 0x0f, 0xc7, 0x74, 0xb3, 0x18 }, 6,
	  R_VMCLEAR, 0x18,
	  I_SCALE(2) | I_ASZ64 | I_SEG(SEG_DS) | I_INDEX(RSI) | I_BASE(RBX), 0 },
	{ "vmclear [r12+r15*8-0x1234]",
	  { 0x66, 0x43, 0x0f, 0xc7, 0xb4, 0xfc, 0xcc, 0xed, 0xff, 0xff }, 10,
	  R_VMCLEAR, (uint64_t)-0x1234,
	  I_SCALE(3) | I_ASZ64 | I_SEG(SEG_DS) | I_INDEX(R15) | I_BASE(R12), 0 },
	{ "vmlaunch", { 0x0f, 0x01, 0xc2 }, 3, R_VMLAUNCH, 0, 0, 0 },
	{ "vmptrld [rbx+rsi*4-0x10]", { 0x0f, 0xc7, 0x74, 0xb3, 0xf0 }, 5,
	  R_VMPTRLD, (uint64_t)-0x10,
	  I_SCALE(2) | I_ASZ64 | I_SEG(SEG_DS) | I_INDEX(RSI) | I_BASE(RBX), 0 },
	{ "vmptrld [ebx]", { 0x67, 0x0f, 0xc7, 0x33 }, 4,
	  R_VMPTRLD, 0, I_ASZ32 | I_SEG(SEG_DS) | I_NO_INDEX | I_BASE(RBX), 0 },
	/* RBP as base: the default segment is SS (Vol. 1 3.7.4). */
	{ "vmptrst [rbp+8]", { 0x0f, 0xc7, 0x7d, 0x08 }, 4,
	  R_VMPTRST, 8, I_ASZ64 | I_SEG(SEG_SS) | I_NO_INDEX | I_BASE(RBP), 0 },
	{ "vmptrst fs:[rax]", { 0x64, 0x0f, 0xc7, 0x38 }, 4,
	  R_VMPTRST, 0, I_ASZ64 | I_SEG(SEG_FS) | I_NO_INDEX | I_BASE(RAX), 0 },
	{ "vmread rsi, rdx", { 0x0f, 0x78, 0xd6 }, 3,
	  R_VMREAD, 0, I_REG1(RSI) | I_REGFORM | I_REG2(RDX), REG_DEFINED },
	{ "vmread [rax+rcx*2+0x40], r9", { 0x44, 0x0f, 0x78, 0x4c, 0x48, 0x40 }, 6,
	  R_VMREAD, 0x40,
	  I_SCALE(1) | I_ASZ64 | I_SEG(SEG_DS) | I_INDEX(RCX) | I_BASE(RAX) | I_REG2(R9),
	  0 },
	{ "vmresume", { 0x0f, 0x01, 0xc3 }, 3, R_VMRESUME, 0, 0, 0 },
	{ "vmwrite r11, r13", { 0x45, 0x0f, 0x79, 0xdd }, 4,
	  R_VMWRITE, 0, I_REG1(R13) | I_REGFORM | I_REG2(R11), REG_DEFINED },
	{ "vmwrite rdi, [rdx]", { 0x0f, 0x79, 0x3a }, 3,
	  R_VMWRITE, 0, I_ASZ64 | I_SEG(SEG_DS) | I_NO_INDEX | I_BASE(RDX) | I_REG2(RDI), 0 },
	{ "vmxoff", { 0x0f, 0x01, 0xc4 }, 3, R_VMXOFF, 0, 0, 0 },
	{ "vmxon [rax]", { 0xf3, 0x0f, 0xc7, 0x30 }, 4,
	  R_VMXON, 0, I_ASZ64 | I_SEG(SEG_DS) | I_NO_INDEX | I_BASE(RAX), 0 },
	{ "invept rdx, [rax+rcx*2+0x40]", { 0x66, 0x0f, 0x38, 0x80, 0x54, 0x48, 0x40 }, 7,
	  R_INVEPT, 0x40,
	  I_SCALE(1) | I_ASZ64 | I_SEG(SEG_DS) | I_INDEX(RCX) | I_BASE(RAX) | I_REG2(RDX),
	  0 },
	{ "invvpid r8, [rsp+0x20]", { 0x66, 0x44, 0x0f, 0x38, 0x81, 0x44, 0x24, 0x20 }, 8,
	  R_INVVPID, 0x20,
	  I_ASZ64 | I_SEG(SEG_SS) | I_NO_INDEX | I_BASE(RSP) | I_REG2(R8), 0 },
};

/* The bits @c's table defines for its form (see mem_defined). */
static uint32_t defined_bits(const struct vcase *c)
{
	if (c->defined)
		return c->defined;
	if (c->reason == R_VMLAUNCH || c->reason == R_VMRESUME || c->reason == R_VMXOFF)
		return 0;
	const bool index = !(c->info & I_NO_INDEX);
	const bool base = !(c->info & I_NO_BASE);
	const bool reg2 = c->reason == R_VMREAD || c->reason == R_VMWRITE ||
			  c->reason == R_INVEPT || c->reason == R_INVVPID;
	return mem_defined(index, base, reg2);
}

/* Run @c (at CPL 3 with @cpl3) and check everything its exit reports. */
static void run_case(const struct vcase *c, bool cpl3)
{
	start(c->bytes, c->len);
	if (cpl3)
		to_cpl3();
	const uint64_t reason = vx_run();
	if (reason != c->reason)
		fail_msg("%s: exit %lu, expected %lu", c->what,
			 (unsigned long)reason, (unsigned long)c->reason);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_len(), c->len);
	assert_int_equal(vx_cnt()->insns, 0);
	assert_sentinels();
	if (vx_qual() != c->qual)
		fail_msg("%s: qualification %#lx, expected %#lx", c->what,
			 (unsigned long)vx_qual(), (unsigned long)c->qual);
	const uint32_t defined = defined_bits(c);
	const uint32_t info = (uint32_t)vx_read(VMCS_EXIT_INSTRUCTION_INFO);
	if ((info & defined) != c->info)
		fail_msg("%s: instruction information %#x (defined bits %#x), expected %#x",
			 c->what, info & defined, defined, c->info);
	hwg_destroy(&g);
}

/* ------------------------------------------------------------ tests */

/* Every VMX instruction, memory forms with base, index, scale, REX
 * registers, a segment override, SS by default, a 32-bit address size,
 * negative displacements; the register forms of VMREAD and VMWRITE. */
static void vmx_insns_exit(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], false);
}

/* "ELSIF in VMX non-root operation THEN VM exit" precedes "ELSIF CPL > 0
 * THEN #GP(0)": the same exits from CPL 3. */
static void vmx_insns_exit_at_cpl3(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], true);
}

/*
 * RIP-relative addressing (28.2.1): the qualification is the
 * displacement plus the RIP of the next instruction, CODE + 7 + 0x100;
 * no base, no index.
 */
static void vmptrld_rip_relative(void **state)
{
	static const uint8_t code[] = { 0x0f, 0xc7, 0x35, 0x00, 0x01, 0x00, 0x00 };
	start(code, sizeof(code));				/* vmptrld [rip+0x100] */
	assert_int_equal(vx_run(), R_VMPTRLD);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_len(), 7);
	const uint32_t info = (uint32_t)vx_read(VMCS_EXIT_INSTRUCTION_INFO);
	assert_int_equal(info & mem_defined(false, false, false),
			 I_ASZ64 | I_SEG(SEG_DS) | I_NO_INDEX | I_NO_BASE);
	assert_int_equal(vx_qual(), CODE + 7 + 0x100);
}

/*
 * The operand is not read before the exit: VMPTRLD of an unmapped
 * address exits with 21, where an ordinary load of the same address
 * faults (#PF, exit 0 through the exception bitmap).
 */
static void exit_before_operand_fault(void **state)
{
	static const uint8_t vmptrld[] = { 0x0f, 0xc7, 0x30 };	/* vmptrld [rax] */
	static const uint8_t load[] = { 0x48, 0x8b, 0x18 };	/* mov rbx, [rax] */
	const uint64_t unmapped = 0x40000000ull;		/* 1 GiB: beyond RAM */

	start(load, sizeof(load));
	vx_set_gpr(RAX, unmapped);
	assert_int_equal(vx_run(), R_EXC_NMI);
	assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO), II(T_HW_EXC, PF) | II_EC);
	assert_int_equal(vx_qual(), unmapped);
	hwg_destroy(&g);

	start(vmptrld, sizeof(vmptrld));
	vx_set_gpr(RAX, unmapped);
	assert_int_equal(vx_run(), R_VMPTRLD);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_qual(), 0);
}

/*
 * Compatibility mode: "(IA32_EFER.LMA = 1 and CS.L = 0) THEN #UD" comes
 * before the VM exit. In 32-bit code 0F C7 33 is vmptrld [ebx] and
 * 0F 78 D6 vmread esi, edx.
 */
static void compat_mode_ud(void **state)
{
	static const uint8_t vmptrld[] = { 0x0f, 0xc7, 0x33 };
	static const uint8_t vmread[] = { 0x0f, 0x78, 0xd6 };
	static const uint8_t vmxoff[] = { 0x0f, 0x01, 0xc4 };
	const struct { const uint8_t *b; size_t len; } insn[] = {
		{ vmptrld, sizeof(vmptrld) }, { vmread, sizeof(vmread) },
		{ vmxoff, sizeof(vmxoff) },
	};
	for (size_t i = 0; i < 3; i++) {
		start(insn[i].b, insn[i].len);
		to_compat();
		assert_ud_exit();
		hwg_destroy(&g);
	}
}

/*
 * The SVM instructions (APM Vol. 3: VMRUN 0F 01 D8, VMLOAD DA, VMSAVE
 * DB, STGI DC, CLGI DD, SKINIT DE, INVLPGA DF) do not exist on an Intel
 * processor (CPUID 8000_0001H:ECX[2] = 0): #UD, RIP at the instruction.
 */
static void svm_insns_ud(void **state)
{
	for (uint8_t modrm = 0xd8; modrm <= 0xdf; modrm++) {
		if (modrm == 0xd9)
			continue;	/* VMMCALL: test_hw_vmx_exits_insn.c's business */
		const uint8_t insn[] = { 0x0f, 0x01, modrm };
		start(insn, sizeof(insn));
		assert_ud_exit();
		hwg_destroy(&g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(vmx_insns_exit, vx_teardown),
		cmocka_unit_test_teardown(vmx_insns_exit_at_cpl3, vx_teardown),
		cmocka_unit_test_teardown(vmptrld_rip_relative, vx_teardown),
		cmocka_unit_test_teardown(exit_before_operand_fault, vx_teardown),
		cmocka_unit_test_teardown(compat_mode_ud, vx_teardown),
		cmocka_unit_test_teardown(svm_insns_ud, vx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
