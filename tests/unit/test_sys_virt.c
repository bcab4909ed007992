/*
 * test_sys_virt.c — the instructions the engine hands to a
 * virtualization layer (emulate/exec_virt.c): RDPMC, MONITOR, MWAIT, the
 * VMX and SVM instructions, and the intercept hook of the instructions
 * that have no op of their own (PUSHF ... LTR).
 *
 * The truth here is the manuals' "Operation" and exception sections:
 * SDM Vol. 2B RDPMC, MONITOR, MWAIT; SDM Vol. 3C 31.3 (VMX instructions,
 * whose mode #UD precedes the VM exit and the CPL #GP follows it); APM
 * Vol. 3 VMRUN..INVLPGA ("recognized only in protected mode"); APM Vol. 2
 * 15.7 (instruction intercepts come after #UD and privilege faults and
 * before memory accesses).
 */
#include <string.h>

#include "tests/unit/support/fake_cpu.h"

/* SDM Vol. 3A 2.5, Figure 2-8: CR4 bit 8, performance-monitoring
 * counter enable. */
#define X86_CR4_PCE (1ull << 8)

/* ------------------------------------------------------------ RDPMC */

static void rdpmc_reads_counter_into_edx_eax(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RAX] = ~0ull;
	CPU.gpr[EMU_RDX] = ~0ull;
	CPU.gpr[EMU_RCX] = 0xdead00000001ull;	/* only ECX selects */
	fake.pmc_val = 0x1122334455667788ull;
	assert_ok(RUN(0x0f, 0x33));
	assert_int_equal(fake.rdpmc_count, 1);
	assert_int_equal(fake.pmc_ecx, 1);
	assert_int_equal(CPU.gpr[EMU_RAX], 0x55667788);	/* upper halves cleared */
	assert_int_equal(CPU.gpr[EMU_RDX], 0x11223344);
	assert_int_equal(CPU.rip, FAKE_CODE + 2);
}

static void rdpmc_privilege(void **state)
{
	fake_mode_prot32(3);				/* CPL 3, PCE = 0 */
	assert_gp(RUN(0x0f, 0x33), 0);
	assert_int_equal(fake.rdpmc_count, 0);
	CPU.cr4 |= X86_CR4_PCE;
	assert_ok(RUN(0x0f, 0x33));
	fake_mode_prot32(1);
	assert_gp(RUN(0x0f, 0x33), 0);
	fake_mode_vm86(3);				/* vm86 is CPL 3, even at IOPL 3 */
	assert_gp(RUN(0x0f, 0x33), 0);
	CPU.cr4 |= X86_CR4_PCE;
	assert_ok(RUN(0x0f, 0x33));
	fake_mode_real();				/* CR0.PE = 0: always */
	assert_ok(RUN(0x0f, 0x33));
	fake_mode_prot32(0);
	assert_ok(RUN(0x0f, 0x33));
	assert_int_equal(fake.rdpmc_count, 4);
}

static int rdpmc_bad_counter(struct emu_ctx *ctx, uint32_t ecx, uint64_t *val)
{
	return emu_raise(ctx, 13, true, 0);
}

static void rdpmc_op_fault_and_null_op(void **state)
{
	CPU.gpr[EMU_RAX] = 0x1234;
	CPU.gpr[EMU_RDX] = 0x5678;
	fake.ops.rdpmc = rdpmc_bad_counter;
	assert_gp(RUN(0x0f, 0x33), 0);
	assert_int_equal(CPU.gpr[EMU_RAX], 0x1234);
	assert_int_equal(CPU.gpr[EMU_RDX], 0x5678);
	assert_int_equal(CPU.rip, FAKE_CODE);
	fake.ops.rdpmc = NULL;				/* no RDPMC: #UD, even at CPL 3 */
	assert_ud(RUN(0x0f, 0x33));
	fake_mode_prot32(3);
	assert_ud(RUN(0x0f, 0x33));
}

/* ------------------------------------------------------------ MONITOR */

static void monitor_passes_ds_rax_ecx_edx(void **state)
{
	CPU.seg[EMU_DS].base = 0x3000;
	CPU.seg[EMU_FS].base = 0x5000;
	CPU.gpr[EMU_RAX] = 0x120;
	CPU.gpr[EMU_RCX] = 0;
	CPU.gpr[EMU_RDX] = 0xabc;
	assert_ok(RUN(0x0f, 0x01, 0xc8));
	assert_int_equal(fake.monitor_count, 1);
	assert_int_equal(fake.monitor_la, 0x3120);
	assert_int_equal(fake.monitor_ecx, 0);
	assert_int_equal(fake.monitor_edx, 0xabc);
	assert_int_equal(CPU.rip, FAKE_CODE + 3);
	assert_ok(RUN(0x64, 0x0f, 0x01, 0xc8));		/* fs: override */
	assert_int_equal(fake.monitor_la, 0x5120);
	CPU.gpr[EMU_RAX] = 0x10120;			/* 67: AX */
	assert_ok(RUN(0x67, 0x0f, 0x01, 0xc8));
	assert_int_equal(fake.monitor_la, 0x3120);
	/* MONITOR is no memory access of the engine's: the op arms it. */
	assert_int_equal(fake.read_count + fake.write_count, 0);
}

static void monitor_64bit_and_real_mode(void **state)
{
	fake_mode_long(0);
	CPU.seg[EMU_DS].base = 0x3000;			/* ignored in 64-bit mode */
	CPU.seg[EMU_GS].base = 0x1000;
	CPU.gpr[EMU_RAX] = 0x123456789ull;
	assert_ok(RUN(0x0f, 0x01, 0xc8));
	assert_int_equal(fake.monitor_la, 0x123456789ull);
	assert_ok(RUN(0x65, 0x0f, 0x01, 0xc8));		/* gs: keeps its base */
	assert_int_equal(fake.monitor_la, 0x123457789ull);
	CPU.gpr[EMU_RAX] = 0x0000800000000000ull;	/* not canonical */
	assert_gp(RUN(0x0f, 0x01, 0xc8), 0);
	fake_mode_real();
	CPU.gpr[EMU_RAX] = 0xffff0010;			/* AX = 0x10 */
	assert_ok(RUN(0x0f, 0x01, 0xc8));
	assert_int_equal(fake.monitor_la, FAKE_DATA + 0x10);
	CPU.gpr[EMU_RAX] = 0x10000;			/* EAX past 0xffff */
	assert_gp(RUN(0x67, 0x0f, 0x01, 0xc8), 0);
	assert_int_equal(fake.monitor_count, 3);
}

static void monitor_faults(void **state)
{
	CPU.seg[EMU_DS].limit = 0xfff;
	CPU.gpr[EMU_RAX] = 0xfff;			/* the last byte: fine */
	assert_ok(RUN(0x0f, 0x01, 0xc8));
	CPU.gpr[EMU_RAX] = 0x1000;
	assert_gp(RUN(0x0f, 0x01, 0xc8), 0);
	CPU.seg[EMU_SS].limit = 0xfff;
	assert_exc(RUN(0x36, 0x0f, 0x01, 0xc8), EMU_EXC_SS, 0);
	CPU.gpr[EMU_RAX] = 0x10;
	CPU.seg[EMU_ES].ar |= EMU_AR_UNUSABLE;		/* null selector */
	assert_gp(RUN(0x26, 0x0f, 0x01, 0xc8), 0);
	CPU.gpr[EMU_RCX] = 1;				/* no extension is defined */
	assert_gp(RUN(0x0f, 0x01, 0xc8), 0);
	assert_int_equal(fake.monitor_count, 1);
	assert_int_equal(CPU.rip, FAKE_CODE + 3);
}

/* ------------------------------------------------------------ MWAIT */

static void mwait_passes_eax_ecx(void **state)
{
	CPU.gpr[EMU_RAX] = 0x20;
	CPU.gpr[EMU_RCX] = 1;				/* interrupts as break events */
	assert_ok(RUN(0x0f, 0x01, 0xc9));
	assert_int_equal(fake.mwait_count, 1);
	assert_int_equal(fake.mwait_eax, 0x20);
	assert_int_equal(fake.mwait_ecx, 1);
	assert_int_equal(CPU.rip, FAKE_CODE + 3);
	fake_mode_long(0);
	CPU.gpr[EMU_RCX] = (1ull << 32) | 1;		/* only ECX counts */
	assert_ok(RUN(0x0f, 0x01, 0xc9));
	assert_int_equal(fake.mwait_ecx, 1);
}

static void mwait_reserved_ecx_bits(void **state)
{
	CPU.gpr[EMU_RCX] = 2;
	assert_gp(RUN(0x0f, 0x01, 0xc9), 0);
	CPU.gpr[EMU_RCX] = 0x80000000u;
	assert_gp(RUN(0x0f, 0x01, 0xc9), 0);
	assert_int_equal(fake.mwait_count, 0);
	assert_int_equal(CPU.rip, FAKE_CODE);
}

static void mwait_halt_moves_rip_first(void **state)
{
	fake.mwait_result = EMU_HALT;
	assert_int_equal(RUN(0x0f, 0x01, 0xc9), EMU_HALT);
	assert_int_equal(CPU.rip, FAKE_CODE + 3);
	fake.mwait_result = EMU_STOP;
	assert_int_equal(RUN(0x0f, 0x01, 0xc9), EMU_STOP);
	assert_int_equal(CPU.rip, FAKE_CODE + 3);
}

static void monitor_mwait_cpl0_only(void **state)
{
	fake_mode_prot32(3);
	CPU.gpr[EMU_RCX] = 2;				/* #UD comes before #GP */
	assert_ud(RUN(0x0f, 0x01, 0xc8));
	assert_ud(RUN(0x0f, 0x01, 0xc9));
	fake_mode_prot32(1);
	assert_ud(RUN(0x0f, 0x01, 0xc8));
	fake_mode_vm86(3);
	assert_ud(RUN(0x0f, 0x01, 0xc8));
	assert_ud(RUN(0x0f, 0x01, 0xc9));
	fake_mode_real();				/* CPL 0 */
	CPU.gpr[EMU_RCX] = 0;
	assert_ok(RUN(0x0f, 0x01, 0xc9));
	assert_int_equal(fake.monitor_count, 0);
	assert_int_equal(fake.mwait_count, 1);
	fake.ops.monitor = NULL;			/* no MONITOR/MWAIT: #UD */
	fake.ops.mwait = NULL;
	assert_ud(RUN(0x0f, 0x01, 0xc8));
	assert_ud(RUN(0x0f, 0x01, 0xc9));
}

static void monitor_mwait_np_prefixes(void **state)
{
	/* NP 0F 01 C8 / C9 (SDM Vol. 2B): 66, F2, F3 are #UD. */
	assert_ud(RUN(0x66, 0x0f, 0x01, 0xc8));
	assert_ud(RUN(0xf3, 0x0f, 0x01, 0xc8));
	assert_ud(RUN(0xf2, 0x0f, 0x01, 0xc9));
	assert_ud(RUN(0xf0, 0x0f, 0x01, 0xc9));
	assert_int_equal(fake.monitor_count + fake.mwait_count, 0);
}

/* ------------------------------------------------------------ VMX and SVM */

/* Encodings and mnemonics (as Zydis prints them) of every instruction
 * the virt_insn op receives. */
static const struct virt_case {
	const char *name;
	uint8_t n;
	uint8_t bytes[6];
} virt_cases[] = {
	{ "vmlaunch", 3, { 0x0f, 0x01, 0xc2 } },
	{ "vmresume", 3, { 0x0f, 0x01, 0xc3 } },
	{ "vmxoff", 3, { 0x0f, 0x01, 0xc4 } },
	{ "vmread", 3, { 0x0f, 0x78, 0xc3 } },		/* vmread rbx, rax */
	{ "vmwrite", 3, { 0x0f, 0x79, 0xc3 } },		/* vmwrite rax, rbx */
	{ "vmptrld", 3, { 0x0f, 0xc7, 0x30 } },		/* [rax] */
	{ "vmptrst", 3, { 0x0f, 0xc7, 0x38 } },
	{ "vmclear", 4, { 0x66, 0x0f, 0xc7, 0x30 } },
	{ "vmxon", 4, { 0xf3, 0x0f, 0xc7, 0x30 } },
	{ "vmxon", 5, { 0x66, 0xf3, 0x0f, 0xc7, 0x30 } },	/* F3 wins */
	{ "invept", 5, { 0x66, 0x0f, 0x38, 0x80, 0x08 } },	/* rcx, [rax] */
	{ "invvpid", 5, { 0x66, 0x0f, 0x38, 0x81, 0x08 } },
	{ "vmrun", 3, { 0x0f, 0x01, 0xd8 } },
	{ "vmload", 3, { 0x0f, 0x01, 0xda } },
	{ "vmsave", 3, { 0x0f, 0x01, 0xdb } },
	{ "stgi", 3, { 0x0f, 0x01, 0xdc } },
	{ "clgi", 3, { 0x0f, 0x01, 0xdd } },
	{ "skinit", 3, { 0x0f, 0x01, 0xde } },
	{ "invlpga", 3, { 0x0f, 0x01, 0xdf } },
	{ "vmrun", 4, { 0xf3, 0x0f, 0x01, 0xd8 } },	/* SVM ignores 66/F2/F3 */
	{ "invlpga", 4, { 0x66, 0x0f, 0x01, 0xdf } },
};

static void virt_insn_op_gets_each_instruction(void **state)
{
	for (size_t i = 0; i < sizeof(virt_cases) / sizeof(virt_cases[0]); i++) {
		const struct virt_case *c = &virt_cases[i];
		fake_setup(NULL);
		fake_mode_long(0);
		assert_ok(fake_run(c->bytes, c->n));
		assert_int_equal(fake.virt_count, 1);
		assert_string_equal(emu_op_name(fake.virt_insn.op), c->name);
		assert_int_equal(fake.virt_insn.len, c->n);
		assert_int_equal(CPU.rip, FAKE_CODE + c->n);
	}
}

static void rdpmc_monitor_mwait_names(void **state)
{
	static const struct virt_case names[] = {
		{ "rdpmc", 2, { 0x0f, 0x33 } },
		{ "monitor", 3, { 0x0f, 0x01, 0xc8 } },
		{ "mwait", 3, { 0x0f, 0x01, 0xc9 } },
	};
	struct emu_insn insn;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(emu_decode(names[i].bytes, names[i].n, EMU_MODE_32, &insn),
				 names[i].n);
		assert_string_equal(emu_op_name(insn.op), names[i].name);
		assert_int_equal(insn.nops, 0);
	}
}

static void vmx_operands_and_sizes(void **state)
{
	fake_mode_long(0);
	assert_ok(RUN(0x0f, 0x78, 0xc3));		/* vmread rbx, rax */
	assert_false(fake.virt_insn.flags & EMU_I_MEM);
	assert_int_equal(fake.virt_insn.rm, EMU_RBX);
	assert_int_equal(fake.virt_insn.reg, EMU_RAX);
	assert_int_equal(fake.virt_insn.opsize, 8);	/* 64 bits without REX.W */
	assert_ok(RUN(0x0f, 0x78, 0x51, 0x10));		/* vmread [rcx+0x10], rdx */
	assert_true(fake.virt_insn.flags & EMU_I_MEM);
	assert_int_equal(fake.virt_insn.base, EMU_RCX);
	assert_int_equal(fake.virt_insn.reg, EMU_RDX);
	assert_int_equal(fake.virt_insn.disp, 0x10);
	assert_ok(RUN(0x66, 0x0f, 0x38, 0x80, 0x08));	/* invept rcx, [rax] */
	assert_int_equal(fake.virt_insn.reg, EMU_RCX);
	assert_int_equal(fake.virt_insn.base, EMU_RAX);
	assert_int_equal(fake.virt_insn.opsize, 8);
	assert_ok(RUN(0x0f, 0x01, 0xd8));		/* vmrun rax */
	assert_int_equal(fake.virt_insn.adsize, 8);
	assert_ok(RUN(0x67, 0x0f, 0x01, 0xd8));		/* vmrun eax */
	assert_int_equal(fake.virt_insn.adsize, 4);
	fake_mode_prot32(0);				/* 32 bits outside 64-bit mode */
	assert_ok(RUN(0x0f, 0x79, 0xc3));
	assert_int_equal(fake.virt_insn.opsize, 4);
	assert_ok(RUN(0x66, 0x0f, 0x38, 0x81, 0x08));
	assert_int_equal(fake.virt_insn.opsize, 4);
	CPU.seg[EMU_CS] = fake_seg(SEL_CODE16);		/* 16-bit code: still 32 */
	assert_ok(RUN(0x0f, 0x78, 0xc3));
	assert_int_equal(fake.virt_insn.opsize, 4);
	assert_ok(RUN(0x0f, 0x01, 0xda));		/* vmload ax */
	assert_int_equal(fake.virt_insn.adsize, 2);
}

static void vmx_mode_checks(void **state)
{
	/* #UD if CR0.PE = 0, RFLAGS.VM = 1, or IA32_EFER.LMA = 1 and CS.L = 0;
	 * a CPL > 0 #GP comes after the VM exit, so the op decides it. */
	static const uint8_t vmxoff[] = { 0x0f, 0x01, 0xc4 };
	static const uint8_t vmptrld[] = { 0x0f, 0xc7, 0x30 };
	fake_mode_real();
	assert_ud(fake_run(vmxoff, 3));
	assert_ud(fake_run(vmptrld, 3));
	fake_mode_vm86(3);
	assert_ud(fake_run(vmxoff, 3));
	assert_ud(fake_run(vmptrld, 3));
	fake_mode_compat(0);
	assert_ud(fake_run(vmxoff, 3));
	assert_ud(fake_run(vmptrld, 3));
	assert_int_equal(fake.virt_count, 0);
	fake_mode_prot32(3);
	assert_ok(fake_run(vmxoff, 3));
	assert_ok(fake_run(vmptrld, 3));
	fake_mode_long(3);
	assert_ok(fake_run(vmxoff, 3));
	assert_int_equal(fake.virt_count, 3);
}

static void svm_mode_checks(void **state)
{
	/* "The instruction is only recognized in protected mode": real mode
	 * and vm86 #UD; compatibility mode and CPL > 0 go to the op (its
	 * EFER.SVME #UD comes before the CPL #GP). */
	static const uint8_t vmrun[] = { 0x0f, 0x01, 0xd8 };
	static const uint8_t invlpga[] = { 0x0f, 0x01, 0xdf };
	fake_mode_real();
	assert_ud(fake_run(vmrun, 3));
	assert_ud(fake_run(invlpga, 3));
	fake_mode_vm86(3);
	assert_ud(fake_run(vmrun, 3));
	assert_int_equal(fake.virt_count, 0);
	fake_mode_compat(0);
	assert_ok(fake_run(vmrun, 3));
	fake_mode_prot32(3);
	assert_ok(fake_run(invlpga, 3));
	assert_int_equal(fake.virt_count, 2);
}

static void vmx_svm_undefined_forms(void **state)
{
	fake_mode_long(0);
	assert_ud(RUN(0x0f, 0xc7, 0xf0));		/* mod 3: RDRAND, not VMPTRLD */
	assert_ud(RUN(0x66, 0x0f, 0xc7, 0xf0));
	assert_ud(RUN(0xf3, 0x0f, 0xc7, 0xf0));
	assert_ud(RUN(0x0f, 0xc7, 0xf8));		/* RDSEED, not VMPTRST */
	assert_ud(RUN(0x66, 0x0f, 0x38, 0x80, 0xc0));	/* INVEPT: memory only */
	assert_ud(RUN(0x0f, 0x38, 0x80, 0x08));		/* INVEPT needs 66 */
	assert_ud(RUN(0xf3, 0x66, 0x0f, 0x38, 0x81, 0x08));
	assert_ud(RUN(0xf2, 0x0f, 0xc7, 0x30));		/* no F2 form */
	assert_ud(RUN(0x66, 0xf2, 0x0f, 0xc7, 0x30));
	assert_ud(RUN(0x66, 0x0f, 0xc7, 0x38));		/* NP VMPTRST */
	assert_ud(RUN(0xf3, 0x0f, 0xc7, 0x38));
	assert_ud(RUN(0x66, 0x0f, 0x78, 0xc3));		/* NP VMREAD */
	assert_ud(RUN(0xf3, 0x0f, 0x78, 0xc3));
	assert_ud(RUN(0xf2, 0x0f, 0x79, 0xc3));		/* NP VMWRITE */
	assert_ud(RUN(0xf3, 0x0f, 0x01, 0xc2));		/* vmlaunch */
	assert_ud(RUN(0x66, 0x0f, 0x01, 0xc4));		/* vmxoff */
	assert_ud(RUN(0xf0, 0x0f, 0x01, 0xd8));		/* LOCK */
	assert_ud(RUN(0xf0, 0x0f, 0xc7, 0x30));
	assert_int_equal(fake.virt_count, 0);
	assert_int_equal(CPU.rip, FAKE_CODE);
}

static int virt_raise_gp(struct emu_ctx *ctx, const struct emu_insn *insn)
{
	fake.virt_count++;
	return emu_raise(ctx, 13, true, 0);
}

static void virt_insn_results_and_null_op(void **state)
{
	fake_mode_long(0);
	fake.virt_result = EMU_STOP;			/* e.g. a VM exit */
	assert_int_equal(RUN(0x0f, 0x01, 0xc2), EMU_STOP);
	assert_int_equal(CPU.rip, FAKE_CODE);
	fake.ops.virt_insn = virt_raise_gp;		/* e.g. CPL > 0 */
	assert_gp(RUN(0x0f, 0x01, 0xdc), 0);
	assert_int_equal(CPU.rip, FAKE_CODE);
	fake.ops.virt_insn = NULL;			/* a CPU without VMX/SVM */
	assert_ud(RUN(0x0f, 0x01, 0xc2));
	assert_ud(RUN(0xf3, 0x0f, 0xc7, 0x30));
	assert_ud(RUN(0x0f, 0x01, 0xd8));
	assert_int_equal(fake.virt_count, 2);
}

/* ------------------------------------------------------------ the intercept hook */

/*
 * One instruction of each kind enum emu_icpt names, at CPL 0 in 32-bit
 * protected mode, with a memory operand at [ebx] = FAKE_DATA holding
 * @data, and what it returns when nothing intercepts it.
 */
static const struct icpt_case {
	const char *name;
	uint8_t n;
	uint8_t bytes[3];
	unsigned what;
	uint16_t data;
	int result;
	bool mem;		/* it reads or writes memory when it runs */
} icpt_cases[] = {
	{ "pushf", 1, { 0x9c }, EMU_ICPT_PUSHF, 0, EMU_CONTINUE, true },
	{ "popf", 1, { 0x9d }, EMU_ICPT_POPF, 0, EMU_CONTINUE, true },
	{ "int 0x80", 2, { 0xcd, 0x80 }, EMU_ICPT_INTN, 0, EMU_EXCEPTION, false },
	{ "int1", 1, { 0xf1 }, EMU_ICPT_ICEBP, 0, EMU_EXCEPTION, false },
	{ "sidt [ebx]", 3, { 0x0f, 0x01, 0x0b }, EMU_ICPT_SIDT, 0, EMU_CONTINUE, true },
	{ "sgdt [ebx]", 3, { 0x0f, 0x01, 0x03 }, EMU_ICPT_SGDT, 0, EMU_CONTINUE, true },
	{ "sldt [ebx]", 3, { 0x0f, 0x00, 0x03 }, EMU_ICPT_SLDT, 0, EMU_CONTINUE, true },
	{ "str [ebx]", 3, { 0x0f, 0x00, 0x0b }, EMU_ICPT_STR, 0, EMU_CONTINUE, true },
	{ "lidt [ebx]", 3, { 0x0f, 0x01, 0x1b }, EMU_ICPT_LIDT, 0, EMU_CONTINUE, true },
	{ "lgdt [ebx]", 3, { 0x0f, 0x01, 0x13 }, EMU_ICPT_LGDT, 0, EMU_CONTINUE, true },
	{ "lldt [ebx]", 3, { 0x0f, 0x00, 0x13 }, EMU_ICPT_LLDT, 0, EMU_CONTINUE, true },
	{ "ltr [ebx]", 3, { 0x0f, 0x00, 0x1b }, EMU_ICPT_LTR, SEL_FREE, EMU_CONTINUE, true },
	{ "iret", 1, { 0xcf }, EMU_ICPT_IRET, 0, EMU_CONTINUE, true },
};
#define NR_ICPT_CASES (sizeof(icpt_cases) / sizeof(icpt_cases[0]))

static void icpt_prepare(const struct icpt_case *c)
{
	fake_setup(NULL);
	fake_set_desc(SEL_FREE, 0x6000, 0x67, 0x89);	/* an available TSS */
	fake_w16(FAKE_DATA, c->data);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	/* An IRET frame back to 32-bit code at CPL 0. */
	fake_w32(FAKE_STACK, FAKE_CODE + 0x100);
	fake_w32(FAKE_STACK + 4, SEL_CODE32);
	fake_w32(FAKE_STACK + 8, EMU_FLAG_FIXED);
}

static void assert_seg_equal(const struct emu_segment *a, const struct emu_segment *b)
{
	assert_int_equal(a->sel, b->sel);
	assert_int_equal(a->base, b->base);
	assert_int_equal(a->limit, b->limit);
	assert_int_equal(a->ar, b->ar);
}

/* Every architectural register of the engine's state. */
static void assert_cpu_equal(const struct emu_cpu *a, const struct emu_cpu *b)
{
	for (unsigned i = 0; i < EMU_NR_GPRS; i++)
		assert_int_equal(a->gpr[i], b->gpr[i]);
	assert_int_equal(a->rip, b->rip);
	assert_int_equal(a->rflags, b->rflags);
	for (unsigned i = 0; i < EMU_NR_SREGS; i++)
		assert_seg_equal(&a->seg[i], &b->seg[i]);
	assert_seg_equal(&a->ldtr, &b->ldtr);
	assert_seg_equal(&a->tr, &b->tr);
	assert_int_equal(a->gdtr.base, b->gdtr.base);
	assert_int_equal(a->gdtr.limit, b->gdtr.limit);
	assert_int_equal(a->idtr.base, b->idtr.base);
	assert_int_equal(a->idtr.limit, b->idtr.limit);
	assert_int_equal(a->cr0, b->cr0);
	assert_int_equal(a->cr4, b->cr4);
	assert_int_equal(a->efer, b->efer);
	assert_int_equal(a->cpl, b->cpl);
}

static void intercept_called_once_before_memory(void **state)
{
	for (size_t i = 0; i < NR_ICPT_CASES; i++) {
		const struct icpt_case *c = &icpt_cases[i];
		icpt_prepare(c);
		assert_int_equal(fake_run(c->bytes, c->n), c->result);
		assert_int_equal(fake.icpt_calls, 1);
		assert_int_equal(fake.icpt_count[c->what], 1);
		assert_int_equal(fake.icpt_what, c->what);
		assert_int_equal(fake.icpt_mem_before, 0);
		/* ... and the instruction went on to its memory access. */
		assert_int_equal(fake.read_count + fake.write_count > 0, c->mem);
	}
}

static int icpt_raise_gp(struct emu_ctx *ctx, unsigned what)
{
	fake.icpt_calls++;
	return emu_raise(ctx, 13, true, 0);
}

/* A hook that stops the instruction (a #VMEXIT, or a fault it raises)
 * leaves registers and memory as they were. */
static void intercept_result_changes_nothing(void **state)
{
	static uint8_t mem_before[FAKE_MEM_SIZE];
	for (unsigned pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < NR_ICPT_CASES; i++) {
			const struct icpt_case *c = &icpt_cases[i];
			icpt_prepare(c);
			if (pass == 0)
				fake.icpt_result = EMU_STOP;
			else
				fake.ops.intercept = icpt_raise_gp;
			/* The code bytes first, so the snapshot includes them. */
			memcpy(fake.mem + CPU.seg[EMU_CS].base + CPU.rip, c->bytes, c->n);
			const struct emu_cpu cpu_before = CPU;
			memcpy(mem_before, fake.mem, FAKE_MEM_SIZE);
			int r = fake_run(c->bytes, c->n);
			if (pass == 0)
				assert_int_equal(r, EMU_STOP);
			else
				assert_gp(r, 0);
			assert_int_equal(fake.icpt_calls, 1);
			assert_cpu_equal(&CPU, &cpu_before);
			assert_memory_equal(fake.mem, mem_before, FAKE_MEM_SIZE);
			assert_int_equal(fake.read_count + fake.write_count, 0);
		}
	}
}

static void intercept_after_privilege_and_ud_checks(void **state)
{
	static const uint8_t pushf[] = { 0x9c }, popf[] = { 0x9d }, intn[] = { 0xcd, 0x21 };
	static const uint8_t sidt[] = { 0x0f, 0x01, 0x0b }, sgdt[] = { 0x0f, 0x01, 0x03 };
	static const uint8_t lidt[] = { 0x0f, 0x01, 0x1b }, lgdt[] = { 0x0f, 0x01, 0x13 };
	static const uint8_t sldt[] = { 0x0f, 0x00, 0x03 }, str[] = { 0x0f, 0x00, 0x0b };
	static const uint8_t lldt[] = { 0x0f, 0x00, 0x13 }, ltr[] = { 0x0f, 0x00, 0x1b };
	static const uint8_t iret[] = { 0xcf };

	/* IOPL-sensitive in vm86 (IOPL < 3, no CR4.VME): #GP(0) first. */
	fake_mode_vm86(2);
	assert_gp(fake_run(pushf, 1), 0);
	assert_gp(fake_run(popf, 1), 0);
	assert_gp(fake_run(intn, 2), 0);
	assert_gp(fake_run(iret, 1), 0);
	fake_mode_long(0);
	CPU.rflags |= EMU_FLAG_NT;
	assert_gp(fake_run(iret, 1), 0);
	/* UMIP at CPL 3. */
	fake_mode_prot32(3);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	CPU.cr4 |= X86_CR4_UMIP;
	assert_gp(fake_run(sidt, 3), 0);
	assert_gp(fake_run(sgdt, 3), 0);
	assert_gp(fake_run(sldt, 3), 0);
	assert_gp(fake_run(str, 3), 0);
	/* CPL 0 only. */
	assert_gp(fake_run(lidt, 3), 0);
	assert_gp(fake_run(lgdt, 3), 0);
	assert_gp(fake_run(lldt, 3), 0);
	assert_gp(fake_run(ltr, 3), 0);
	/* Not recognized in real mode. */
	fake_mode_real();
	assert_ud(fake_run(sldt, 3));
	assert_ud(fake_run(str, 3));
	assert_ud(fake_run(lldt, 3));
	assert_ud(fake_run(ltr, 3));
	assert_int_equal(fake.icpt_calls, 0);

	/* The same instructions where those checks pass do ask. */
	fake_mode_vm86(3);
	assert_ok(fake_run(pushf, 1));
	assert_ok(fake_run(popf, 1));
	assert_int_equal(fake.icpt_calls, 2);
	fake_mode_vm86(0);				/* CR4.VME: redirection, after */
	CPU.cr4 |= X86_CR4_VME;
	assert_int_equal(fake_run(intn, 2), EMU_UNHANDLEABLE);
	assert_int_equal(fake.icpt_count[EMU_ICPT_INTN], 1);
	fake_mode_real();				/* real mode: CPL 0 */
	assert_ok(fake_run(sidt, 3));
	assert_int_equal(fake.icpt_count[EMU_ICPT_SIDT], 1);
}

static void intercept_null_op_changes_nothing_else(void **state)
{
	fake.ops.intercept = NULL;
	assert_ok(RUN(0x9c));				/* pushf */
	assert_int_equal(fake_r32(FAKE_STACK - 4), EMU_FLAG_FIXED);
	assert_exc(RUN(0xf1), EMU_EXC_DB, -1);		/* int1 */
	assert_int_equal(fake.icpt_calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, fake_setup)
		T(rdpmc_reads_counter_into_edx_eax),
		T(rdpmc_privilege),
		T(rdpmc_op_fault_and_null_op),
		T(monitor_passes_ds_rax_ecx_edx),
		T(monitor_64bit_and_real_mode),
		T(monitor_faults),
		T(mwait_passes_eax_ecx),
		T(mwait_reserved_ecx_bits),
		T(mwait_halt_moves_rip_first),
		T(monitor_mwait_cpl0_only),
		T(monitor_mwait_np_prefixes),
		T(virt_insn_op_gets_each_instruction),
		T(rdpmc_monitor_mwait_names),
		T(vmx_operands_and_sizes),
		T(vmx_mode_checks),
		T(svm_mode_checks),
		T(vmx_svm_undefined_forms),
		T(virt_insn_results_and_null_op),
		T(intercept_called_once_before_memory),
		T(intercept_result_changes_nothing),
		T(intercept_after_privilege_and_ud_checks),
		T(intercept_null_op_changes_nothing_else),
	};
	return cmocka_run_group_tests_name("sys_virt", tests, NULL, NULL);
}
