/*
 * test_sys_system.c — control and debug registers, descriptor-table
 * registers, TLB/cache instructions, MSRs, CPUID, TSC, HLT
 * (emulate/exec_cr.c, emulate/exec_system.c), per SDM Vol. 2A/2B.
 */
#include <string.h>

#include "tests/unit/support/fake_cpu.h"

/* ------------------------------------------------------------ CR */

static void mov_cr0_read_write(void **state)
{
	CPU.gpr[EMU_RAX] = 0;
	assert_ok(RUN(0x0f, 0x20, 0xc0));		/* mov eax, cr0 */
	assert_int_equal(CPU.gpr[EMU_RAX], CPU.cr0);
	CPU.gpr[EMU_RAX] = CPU.cr0 | X86_CR0_TS;
	assert_ok(RUN(0x0f, 0x22, 0xc0));		/* mov cr0, eax */
	assert_true(CPU.cr0 & X86_CR0_TS);
	assert_int_equal(fake.last_cr, 0);
	assert_int_equal(fake.mode_changed_count, 1);
	CPU.gpr[EMU_RAX] = 0x1000;
	assert_ok(RUN(0x0f, 0x22, 0xd8));		/* mov cr3, eax */
	assert_int_equal(fake.cr3, 0x1000);
}

static void mov_cr_privilege(void **state)
{
	fake_mode_prot32(3);
	assert_gp(RUN(0x0f, 0x20, 0xc0), 0);
	assert_gp(RUN(0x0f, 0x22, 0xc0), 0);
	fake_mode_vm86(3);
	assert_gp(RUN(0x0f, 0x20, 0xc0), 0);
	fake_mode_real();				/* real mode is CPL 0 */
	assert_ok(RUN(0x0f, 0x20, 0xc0));
}

static void mov_cr0_invalid_combinations(void **state)
{
	CPU.gpr[EMU_RAX] = X86_CR0_PG | 0x10;		/* PG without PE */
	assert_gp(RUN(0x0f, 0x22, 0xc0), 0);
	CPU.gpr[EMU_RAX] = X86_CR0_NW | 0x11;		/* NW without CD */
	assert_gp(RUN(0x0f, 0x22, 0xc0), 0);
	assert_int_equal(fake.set_cr_count, 0);
	/* Enabling paging with LME = 1 and PAE = 0. */
	CPU.efer = X86_EFER_LME;
	CPU.gpr[EMU_RAX] = X86_CR0_PG | 0x11;
	assert_gp(RUN(0x0f, 0x22, 0xc0), 0);
	fake_mode_long(0);
	CPU.gpr[EMU_RAX] = 1ull << 32 | CPU.cr0;	/* bits 63:32 */
	assert_gp(RUN(0x0f, 0x22, 0xc0), 0);
	CPU.gpr[EMU_RAX] = 0x11;			/* clearing PG in 64-bit mode */
	assert_gp(RUN(0x0f, 0x22, 0xc0), 0);
}

static void mov_cr4_checks(void **state)
{
	CPU.gpr[EMU_RAX] = X86_CR4_PCIDE;		/* outside IA-32e mode */
	assert_gp(RUN(0x0f, 0x22, 0xe0), 0);
	CPU.gpr[EMU_RAX] = X86_CR4_DE;
	assert_ok(RUN(0x0f, 0x22, 0xe0));
	assert_int_equal(CPU.cr4, X86_CR4_DE);
	fake_mode_long(0);
	CPU.gpr[EMU_RAX] = 0;				/* clearing PAE in IA-32e */
	assert_gp(RUN(0x0f, 0x22, 0xe0), 0);
	CPU.gpr[EMU_RAX] = X86_CR4_PAE | (1ull << 40);
	assert_gp(RUN(0x0f, 0x22, 0xe0), 0);
	fake.cr3 = 0x1005;				/* PCIDE with CR3[11:0] != 0 */
	CPU.gpr[EMU_RAX] = X86_CR4_PAE | X86_CR4_PCIDE;
	assert_gp(RUN(0x0f, 0x22, 0xe0), 0);
	fake.cr3 = 0x1000;
	assert_ok(RUN(0x0f, 0x22, 0xe0));
}

static void mov_cr8(void **state)
{
	fake_mode_long(0);
	CPU.gpr[EMU_RAX] = 0xf;
	assert_ok(RUN(0x44, 0x0f, 0x22, 0xc0));		/* mov cr8, rax */
	assert_int_equal(fake.cr8, 0xf);
	CPU.gpr[EMU_RAX] = 0x10;
	assert_gp(RUN(0x44, 0x0f, 0x22, 0xc0), 0);
	assert_ok(RUN(0x44, 0x0f, 0x20, 0xc1));		/* mov rcx, cr8 */
	assert_int_equal(CPU.gpr[EMU_RCX], 0xf);
}

/* ------------------------------------------------------------ DR */

static void mov_dr(void **state)
{
	fake.dr[6] = 0xffff0ff0;
	assert_ok(RUN(0x0f, 0x21, 0xe0));		/* mov eax, dr4 = dr6 */
	assert_int_equal(CPU.gpr[EMU_RAX], 0xffff0ff0);
	CPU.gpr[EMU_RAX] = 0x401;
	assert_ok(RUN(0x0f, 0x23, 0xf8));		/* mov dr7, eax */
	assert_int_equal(fake.dr[7], 0x401);
	CPU.cr4 = X86_CR4_DE;
	assert_ud(RUN(0x0f, 0x21, 0xe0));
	CPU.cr4 = 0;
	fake.dr[7] = 1u << 13;				/* GD */
	assert_exc(RUN(0x0f, 0x21, 0xc0), EMU_EXC_DB, -1);
	assert_int_equal(fake.ctx.exc.kind, EMU_EVENT_FAULT);
	fake_mode_prot32(3);
	assert_gp(RUN(0x0f, 0x21, 0xc0), 0);
	fake_mode_long(0);
	fake.dr[7] = 0;
	CPU.gpr[EMU_RAX] = 1ull << 32;
	assert_gp(RUN(0x0f, 0x23, 0xf0), 0);		/* mov dr6, rax */
	assert_ok(RUN(0x0f, 0x23, 0xc0));		/* dr0 takes 64 bits */
	assert_int_equal(fake.dr[0], 1ull << 32);
}

/* ------------------------------------------------------------ CLTS LMSW SMSW */

static void clts_lmsw_smsw(void **state)
{
	CPU.cr0 |= X86_CR0_TS;
	assert_ok(RUN(0x0f, 0x06));			/* clts */
	assert_false(CPU.cr0 & X86_CR0_TS);
	CPU.gpr[EMU_RAX] = 0xe;				/* MP EM TS, PE = 0 */
	assert_ok(RUN(0x0f, 0x01, 0xf0));		/* lmsw ax */
	assert_int_equal(CPU.cr0 & 0xf, 0xf);		/* PE stays set */
	fake_mode_real();
	CPU.gpr[EMU_RAX] = 1;
	assert_ok(RUN(0x0f, 0x01, 0xf0));		/* lmsw sets PE */
	assert_true(CPU.cr0 & 1);
	fake_mode_prot32(3);
	assert_gp(RUN(0x0f, 0x06), 0);
	assert_gp(RUN(0x0f, 0x01, 0xf0), 0);
	CPU.cr0 |= X86_CR0_PG | X86_CR0_CD;
	assert_ok(RUN(0x0f, 0x01, 0xe0));		/* smsw eax at CPL 3 */
	assert_int_equal(CPU.gpr[EMU_RAX], CPU.cr0 & 0xffffffff);
	fake_w32(FAKE_DATA, 0xaaaaaaaa);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0x0f, 0x01, 0x23));		/* smsw [ebx]: 16 bits */
	assert_int_equal(fake_r32(FAKE_DATA), 0xaaaa0000 | (CPU.cr0 & 0xffff));
	CPU.cr4 |= X86_CR4_UMIP;
	assert_gp(RUN(0x0f, 0x01, 0xe0), 0);
}

/* ------------------------------------------------------------ GDTR IDTR */

static void lgdt_lidt_sizes(void **state)
{
	fake_w16(FAKE_DATA, 0x1ff);
	fake_w32(FAKE_DATA + 2, 0x12345678);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0x0f, 0x01, 0x13));		/* lgdt [ebx] */
	assert_int_equal(CPU.gdtr.limit, 0x1ff);
	assert_int_equal(CPU.gdtr.base, 0x12345678);
	assert_ok(RUN(0x66, 0x0f, 0x01, 0x1b));		/* o16 lidt: 24-bit base */
	assert_int_equal(CPU.idtr.base, 0x345678);
	fake_mode_long(0);
	fake_w64(FAKE_DATA + 2, 0xffff800012345678ull);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0x0f, 0x01, 0x1b));		/* lidt: 10 bytes */
	assert_int_equal(CPU.idtr.base, 0xffff800012345678ull);
	fake_mode_prot32(3);
	assert_gp(RUN(0x0f, 0x01, 0x13), 0);
	fake_mode_vm86(3);
	assert_gp(RUN(0x0f, 0x01, 0x17), 0);
}

static void sgdt_sidt(void **state)
{
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	memset(fake.mem + FAKE_DATA, 0xcc, 16);
	assert_ok(RUN(0x0f, 0x01, 0x03));		/* sgdt [ebx] */
	assert_int_equal(fake_r16(FAKE_DATA), 0xff);
	assert_int_equal(fake_r32(FAKE_DATA + 2), FAKE_GDT);
	assert_int_equal(fake.mem[FAKE_DATA + 6], 0xcc);
	fake_mode_long(3);				/* CPL 3 allowed without UMIP */
	CPU.idtr.base = 0xffff800000001000ull;
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0x0f, 0x01, 0x0b));		/* sidt [rbx]: 10 bytes */
	assert_int_equal(fake_r64(FAKE_DATA + 2), 0xffff800000001000ull);
	CPU.cr4 |= X86_CR4_UMIP;
	assert_gp(RUN(0x0f, 0x01, 0x0b), 0);
}

/* ------------------------------------------------------------ TLB, caches */

static void invlpg(void **state)
{
	CPU.seg[EMU_DS].base = 0x100000;
	CPU.gpr[EMU_RBX] = 0x2345;
	assert_ok(RUN(0x0f, 0x01, 0x3b));		/* invlpg [ebx] */
	assert_int_equal(fake.invlpg_la, 0x102345);
	fake_mode_long(0);
	CPU.gpr[EMU_RBX] = 0x0000800000000000ull;	/* non-canonical: no-op */
	assert_ok(RUN(0x0f, 0x01, 0x3b));
	assert_int_equal(fake.invlpg_count, 1);
	fake_mode_prot32(3);
	assert_gp(RUN(0x0f, 0x01, 0x3b), 0);
}

static void invpcid(void **state)
{
	fake_mode_long(0);
	CPU.cr4 |= X86_CR4_PCIDE;
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	fake_w64(FAKE_DATA, 5);
	fake_w64(FAKE_DATA + 8, 0x7000);
	CPU.gpr[EMU_RAX] = 0;
	assert_ok(RUN(0x66, 0x0f, 0x38, 0x82, 0x03));	/* invpcid rax, [rbx] */
	assert_int_equal(fake.invpcid_type, 0);
	assert_int_equal(fake.invpcid_pcid, 5);
	assert_int_equal(fake.invpcid_la, 0x7000);
	CPU.gpr[EMU_RAX] = 4;				/* bad type */
	assert_gp(RUN(0x66, 0x0f, 0x38, 0x82, 0x03), 0);
	CPU.gpr[EMU_RAX] = 2;
	fake_w64(FAKE_DATA, 1ull << 12);		/* reserved descriptor bits */
	assert_gp(RUN(0x66, 0x0f, 0x38, 0x82, 0x03), 0);
	fake_w64(FAKE_DATA, 0);
	fake_w64(FAKE_DATA + 8, 0x0000800000000000ull);
	CPU.gpr[EMU_RAX] = 0;				/* non-canonical address */
	assert_gp(RUN(0x66, 0x0f, 0x38, 0x82, 0x03), 0);
	CPU.cr4 &= ~X86_CR4_PCIDE;			/* PCID != 0 without PCIDE */
	fake_w64(FAKE_DATA, 1);
	CPU.gpr[EMU_RAX] = 1;
	assert_gp(RUN(0x66, 0x0f, 0x38, 0x82, 0x03), 0);
	fake_mode_long(3);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_gp(RUN(0x66, 0x0f, 0x38, 0x82, 0x03), 0);
	fake.ops.invpcid = NULL;
	assert_ud(RUN(0x66, 0x0f, 0x38, 0x82, 0x03));
}

static void cache_instructions(void **state)
{
	assert_ok(RUN(0x0f, 0x09));			/* wbinvd */
	assert_int_equal(fake.cache_op, EMU_CACHE_WBINVD);
	assert_ok(RUN(0x0f, 0x08));			/* invd */
	assert_int_equal(fake.cache_op, EMU_CACHE_INVD);
	fake_mode_prot32(3);
	assert_gp(RUN(0x0f, 0x09), 0);
	assert_gp(RUN(0x0f, 0x08), 0);
	CPU.gpr[EMU_RBX] = FAKE_DATA;
	assert_ok(RUN(0x0f, 0xae, 0x3b));		/* clflush [ebx] at CPL 3 */
	assert_int_equal(fake.cache_op, EMU_CACHE_CLFLUSH);
	CPU.seg[EMU_DS].limit = 0x100;
	assert_gp(RUN(0x0f, 0xae, 0x3b), 0);
}

/* ------------------------------------------------------------ MSRs */

static void rdmsr_wrmsr(void **state)
{
	fake_set_msr(0x10, 0x1122334455667788ull);
	CPU.gpr[EMU_RCX] = 0x10;
	CPU.gpr[EMU_RAX] = ~0ull;
	assert_ok(RUN(0x0f, 0x32));			/* rdmsr */
	assert_int_equal(CPU.gpr[EMU_RAX], 0x55667788);
	assert_int_equal(CPU.gpr[EMU_RDX], 0x11223344);
	CPU.gpr[EMU_RAX] = 0xaaaa;
	CPU.gpr[EMU_RDX] = 0xbbbb;
	assert_ok(RUN(0x0f, 0x30));			/* wrmsr */
	assert_int_equal(fake_get_msr(0x10), 0xbbbb0000aaaaull);
	CPU.gpr[EMU_RCX] = 0x12345;			/* unknown: the op's #GP(0) */
	assert_gp(RUN(0x0f, 0x32), 0);
	fake_set_msr(0xc0000080, 0);
	CPU.gpr[EMU_RCX] = 0xc0000080;
	CPU.gpr[EMU_RAX] = 1;
	CPU.gpr[EMU_RDX] = 0;
	assert_ok(RUN(0x0f, 0x30));
	assert_int_equal(fake.mode_changed_count, 1);
	fake_mode_prot32(3);
	assert_gp(RUN(0x0f, 0x32), 0);
	assert_gp(RUN(0x0f, 0x30), 0);
	fake_mode_prot32(0);
	fake.ops.rdmsr = NULL;
	assert_ud(RUN(0x0f, 0x32));
}

/* ------------------------------------------------------------ HLT CPUID TSC */

static void hlt(void **state)
{
	assert_int_equal(RUN(0xf4), EMU_HALT);
	assert_int_equal(CPU.rip, FAKE_CODE + 1);
	assert_int_equal(fake.halt_count, 1);
	fake_mode_prot32(3);
	assert_gp(RUN(0xf4), 0);
	assert_int_equal(CPU.rip, FAKE_CODE);
}

static void cpuid(void **state)
{
	fake.cpuid_out[0] = 1;
	fake.cpuid_out[1] = 2;
	fake.cpuid_out[2] = 3;
	fake.cpuid_out[3] = 4;
	fake_mode_long(3);
	CPU.gpr[EMU_RAX] = 0xffffffff00000007ull;
	CPU.gpr[EMU_RCX] = 1;
	CPU.gpr[EMU_RBX] = ~0ull;
	assert_ok(RUN(0x0f, 0xa2));
	assert_int_equal(fake.cpuid_leaf, 7);
	assert_int_equal(fake.cpuid_subleaf, 1);
	assert_int_equal(CPU.gpr[EMU_RAX], 1);
	assert_int_equal(CPU.gpr[EMU_RBX], 2);
	assert_int_equal(CPU.gpr[EMU_RCX], 3);
	assert_int_equal(CPU.gpr[EMU_RDX], 4);
	fake.ops.cpuid = NULL;
	assert_ud(RUN(0x0f, 0xa2));
}

static void rdtsc_rdtscp_rdpid(void **state)
{
	fake.tsc = 0x123456789abcull;
	fake_set_msr(0xc0000103, 0x42);
	fake_mode_prot32(3);
	assert_ok(RUN(0x0f, 0x31));			/* rdtsc */
	assert_int_equal(CPU.gpr[EMU_RAX], 0x56789abc);
	assert_int_equal(CPU.gpr[EMU_RDX], 0x1234);
	assert_ok(RUN(0x0f, 0x01, 0xf9));		/* rdtscp */
	assert_int_equal(CPU.gpr[EMU_RCX], 0x42);
	CPU.cr4 |= X86_CR4_TSD;
	assert_gp(RUN(0x0f, 0x31), 0);
	assert_gp(RUN(0x0f, 0x01, 0xf9), 0);
	assert_ok(RUN(0xf3, 0x0f, 0xc7, 0xfb));		/* rdpid ebx: not affected */
	assert_int_equal(CPU.gpr[EMU_RBX], 0x42);
	fake_mode_prot32(0);
	CPU.cr4 |= X86_CR4_TSD;
	assert_ok(RUN(0x0f, 0x31));			/* CPL 0 may */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, fake_setup)
		T(mov_cr0_read_write),
		T(mov_cr_privilege),
		T(mov_cr0_invalid_combinations),
		T(mov_cr4_checks),
		T(mov_cr8),
		T(mov_dr),
		T(clts_lmsw_smsw),
		T(lgdt_lidt_sizes),
		T(sgdt_sidt),
		T(invlpg),
		T(invpcid),
		T(cache_instructions),
		T(rdmsr_wrmsr),
		T(hlt),
		T(cpuid),
		T(rdtsc_rdtscp_rdpid),
	};
	return cmocka_run_group_tests_name("sys_system", tests, NULL, NULL);
}
