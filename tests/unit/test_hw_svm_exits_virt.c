/*
 * test_hw_svm_exits_virt.c — the SVM instructions executed by an SVM
 * guest: VMRUN (0x80), VMLOAD (0x82), VMSAVE (0x83), STGI (0x84), CLGI
 * (0x85), SKINIT (0x86), INVLPGA (0x7a); and the VMX instructions, which
 * an AMD processor does not have.
 *
 * APM Vol. 3, each instruction's "Operation": "IF ((EFER.SVME = 0) ...)
 * or not protected mode THEN #UD" (STGI and SKINIT also when CPUID
 * 8000_0001H:ECX[SKINIT] = 0, the model's case), then "IF (CPL != 0)
 * #GP", then for VMRUN, VMLOAD and VMSAVE "IF (rAX contains an
 * unsupported physical address) #GP". APM Vol. 2 Table 15-7 puts every
 * one of these intercepts after its #GP checks ("Checks exceptions (#GP)
 * before the intercept"), and 15.5.1 makes the VMRUN intercept
 * mandatory: VMRUN of a VMCB without it is VMEXIT_INVALID.
 *
 * Intercepted: EXITCODE, RIP at the instruction, nRIP after it (15.7.1),
 * registers untouched; INVLPGA's EXITINFO1 carries nothing (15.8.3: the
 * address "is available directly from the guest rAX"). Not intercepted
 * with EFER.SVME = 1 the instruction would run nested SVM, which the
 * model does not implement (hw/insn_icpt.c): VMRUN reports
 * SVM_MODEL_UNSUPPORTED, as hw/svm.h documents.
 *
 * Encodings checked with GNU as / objdump -M intel.
 */
#include "tests/unit/test_hw_svm_icpt.h"

#define MSR_EFER 0xc0000080u

struct svm_insn {
	const char *what;
	uint8_t modrm;		/* 0F 01 xx */
	uint32_t *(*word)(void);
	uint32_t bit;
	uint64_t exit;
};

static uint32_t *vec3(void)
{
	return &vmcb()->control.intercept_misc1;
}

static uint32_t *vec4(void)
{
	return &vmcb()->control.intercept_misc2;
}

static const struct svm_insn insns[] = {
	{ "vmrun", 0xd8, vec4, V4_VMRUN, EXIT_VMRUN },
	{ "vmload", 0xda, vec4, V4_VMLOAD, EXIT_VMLOAD },
	{ "vmsave", 0xdb, vec4, V4_VMSAVE, EXIT_VMSAVE },
	{ "stgi", 0xdc, vec4, V4_STGI, EXIT_STGI },
	{ "clgi", 0xdd, vec4, V4_CLGI, EXIT_CLGI },
	{ "skinit", 0xde, vec4, V4_SKINIT, EXIT_SKINIT },
	{ "invlpga", 0xdf, vec3, V3_INVLPGA, EXIT_INVLPGA },
};

#define NR_INSNS (sizeof(insns) / sizeof(insns[0]))

/*
 * The guest: @prologue (empty, or a WRMSR that clears EFER.SVME), then
 * the instruction at @at, then HLT. Registers: sentinels, except rAX =
 * DATA (a valid 4 KiB-aligned physical address for VMRUN, VMLOAD and
 * VMSAVE, a linear address for INVLPGA) and ECX = 1 (INVLPGA's ASID).
 */
static uint64_t insn_start(const struct svm_insn *in, bool clear_svme, bool intercept)
{
	static const uint8_t wrmsr_efer[] = {
		0xb9, 0x80, 0x00, 0x00, 0xc0,	/* mov ecx, 0xc0000080 */
		0xb8, 0x01, 0x0d, 0x00, 0x00,	/* mov eax, SCE|LME|LMA|NXE */
		0x31, 0xd2,			/* xor edx, edx */
		0x0f, 0x30,			/* wrmsr */
	};
	uint8_t code[32];
	size_t n = 0;
	if (clear_svme) {
		memcpy(code, wrmsr_efer, sizeof(wrmsr_efer));
		n = sizeof(wrmsr_efer);
	}
	const uint64_t at = CODE + n;
	code[n++] = 0x0f;
	code[n++] = 0x01;
	code[n++] = in->modrm;
	code[n++] = 0xf4;				/* hlt */
	sv_start(code, n);
	vmcb()->control.intercept_exceptions |= 1u << UD | 1u << GP;
	if (intercept)
		*in->word() |= in->bit;
	else
		*in->word() &= ~in->bit;
	sv_set_sentinels();
	sv_set_gpr(RAX, DATA);
	sv_set_gpr(RCX, clear_svme ? MSR_EFER : 1);
	return at;
}

/* 15.5.1: "The VMRUN intercept bit is clear" is illegal guest state. */
static void vmrun_intercept_mandatory(void **state)
{
	static const uint8_t hlt = 0xf4;
	sv_start(&hlt, 1);
	vmcb()->control.intercept_misc2 &= ~V4_VMRUN;
	assert_int_equal(sv_run(), EXIT_INVALID);
}

/* Each intercept on: its EXITCODE, RIP at the instruction, nRIP + 3. */
static void svm_insns_intercepted(void **state)
{
	for (unsigned i = 0; i < NR_INSNS; i++) {
		insn_start(&insns[i], false, true);
		const uint64_t code = sv_run();
		if (code != insns[i].exit)
			fail_msg("%s: exit %#lx, expected %#lx", insns[i].what,
				 (unsigned long)code, (unsigned long)insns[i].exit);
		assert_int_equal(hwg_rip(&g), CODE);
		assert_int_equal(vmcb()->control.next_rip, CODE + 3);
		assert_int_equal(sv_gpr(RAX), DATA);
		assert_int_equal(sv_gpr(RCX), 1);
		for (unsigned r = RDX; r < 16; r++)
			assert_int_equal(sv_gpr(r), r == RSP ? STACK : sv_sentinel(r));
		hwg_destroy(&g);
	}
}

/* Off with EFER.SVME = 1: nested SVM, outside the model (hw/svm.h
 * SVM_MODEL_UNSUPPORTED). VMRUN has no "off" (see above). */
static void svm_insns_not_intercepted(void **state)
{
	for (unsigned i = 1; i < NR_INSNS; i++) {
		insn_start(&insns[i], false, false);
		int st = -1;
		hwg_run(&g, &st);
		if (st != SVM_MODEL_UNSUPPORTED)
			fail_msg("%s: status %d", insns[i].what, st);
		hwg_destroy(&g);
	}
}

/* EFER.SVME = 0 (the guest clears it with WRMSR; the MSRPM lets it):
 * #UD first, whether intercepted or not. */
static void svm_insns_ud_without_svme(void **state)
{
	for (unsigned i = 0; i < NR_INSNS; i++) {
		for (int on = 0; on <= 1; on++) {
			const uint64_t at = insn_start(&insns[i], true, on || i == 0);
			const uint64_t code = sv_run();
			if (code != EXIT_EXCP(UD))
				fail_msg("%s (intercept %d): exit %#lx", insns[i].what, on,
					 (unsigned long)code);
			assert_int_equal(hwg_rip(&g), at);
			assert_int_equal(vmcb()->control.next_rip, 0);
			assert_int_equal(vmcb()->save.efer & (1ull << 12), 0);
			hwg_destroy(&g);
		}
	}
}

/* CPL 3 (EFER.SVME = 1): #GP(0) before the intercept. */
static void svm_insns_gp_at_cpl3(void **state)
{
	unsigned exited = 0;
	for (unsigned i = 0; i < NR_INSNS; i++) {
		insn_start(&insns[i], false, true);
		sv_cpl3();
		const uint64_t code = sv_run();
		assert_true(code == EXIT_EXCP(GP) || code == insns[i].exit);
		assert_int_equal(hwg_rip(&g), CODE);
		if (code == EXIT_EXCP(GP)) {
			assert_int_equal(vmcb()->control.exitinfo1, 0);
			assert_int_equal(vmcb()->control.next_rip, 0);
		}
		exited += code == insns[i].exit;
		hwg_destroy(&g);
	}
	assert_int_equal(exited, 0);
}

/* rAX beyond the physical-address width (46 bits, CPUID 8000_0008H):
 * VMRUN, VMLOAD and VMSAVE raise #GP(0) before their intercept. */
static void vmrun_vmload_vmsave_rax_gp(void **state)
{
	unsigned exited = 0;
	for (unsigned i = 0; i < 3; i++) {
		insn_start(&insns[i], false, true);
		sv_set_gpr(RAX, 1ull << 50);
		const uint64_t code = sv_run();
		assert_true(code == EXIT_EXCP(GP) || code == insns[i].exit);
		assert_int_equal(hwg_rip(&g), CODE);
		if (code == EXIT_EXCP(GP)) {
			assert_int_equal(vmcb()->control.exitinfo1, 0);
			assert_int_equal(vmcb()->control.next_rip, 0);
		}
		exited += code == insns[i].exit;
		hwg_destroy(&g);
	}
	assert_int_equal(exited, 0);
}

/* The VMX instructions do not exist on an AMD processor (CPUID 1:ECX[5]
 * = 0): #UD at the instruction, whatever the operands. */
static void vmx_insns_ud(void **state)
{
	static const struct { const char *what; uint8_t b[6]; unsigned len; } vmx[] = {
		{ "vmclear [rax]", { 0x66, 0x0f, 0xc7, 0x30 }, 4 },
		{ "vmptrld [rax]", { 0x0f, 0xc7, 0x30 }, 3 },
		{ "vmptrst [rax]", { 0x0f, 0xc7, 0x38 }, 3 },
		{ "vmxon [rax]", { 0xf3, 0x0f, 0xc7, 0x30 }, 4 },
		{ "vmread rsi, rdx", { 0x0f, 0x78, 0xd6 }, 3 },
		{ "vmwrite rdi, [rdx]", { 0x0f, 0x79, 0x3a }, 3 },
		{ "vmlaunch", { 0x0f, 0x01, 0xc2 }, 3 },
		{ "vmresume", { 0x0f, 0x01, 0xc3 }, 3 },
		{ "vmxoff", { 0x0f, 0x01, 0xc4 }, 3 },
		{ "invept rdx, [rax]", { 0x66, 0x0f, 0x38, 0x80, 0x10 }, 5 },
		{ "invvpid rdx, [rax]", { 0x66, 0x0f, 0x38, 0x81, 0x10 }, 5 },
		{ "vmcall", { 0x0f, 0x01, 0xc1 }, 3 },
	};
	for (unsigned i = 0; i < sizeof(vmx) / sizeof(vmx[0]); i++) {
		uint8_t code[8];
		memcpy(code, vmx[i].b, vmx[i].len);
		code[vmx[i].len] = 0xf4;
		sv_start(code, vmx[i].len + 1);
		vmcb()->control.intercept_exceptions |= 1u << UD;
		sv_set_sentinels();
		sv_set_gpr(RAX, DATA);
		sv_set_gpr(RDX, DATA);
		const uint64_t exit = sv_run();
		if (exit != EXIT_EXCP(UD))
			fail_msg("%s: exit %#lx", vmx[i].what, (unsigned long)exit);
		assert_int_equal(hwg_rip(&g), CODE);
		assert_int_equal(vmcb()->control.next_rip, 0);
		hwg_destroy(&g);
	}
}

#define T(f) cmocka_unit_test_teardown(f, sv_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(vmrun_intercept_mandatory),
		T(svm_insns_intercepted),
		T(svm_insns_not_intercepted),
		T(svm_insns_ud_without_svme),
		T(svm_insns_gp_at_cpl3),
		T(vmrun_vmload_vmsave_rax_gp),
		T(vmx_insns_ud),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
