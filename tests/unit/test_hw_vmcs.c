/*
 * test_hw_vmcs.c — the VMCS and the VMX instructions that manage it
 * (hw/vmcs.c, hw/vmx_insn.c) and the VMX capability MSRs (hw/vmx_caps.c),
 * against SDM Vol. 3C 31.3 (VMXON … VMWRITE "Operation"), 31.4 (error
 * numbers), Vol. 3D Appendix A (capability MSRs) and Appendix B (field
 * encodings). Numbers are written here from the manual, not taken from
 * hw/vmx.h, so a wrong constant there fails a test.
 *
 * Every test starts from a fresh Intel machine whose host has done what
 * a kernel does before VMXON: CR4.VMXE set (hw_write_cr) and
 * IA32_FEATURE_CONTROL locked with VMXON outside SMX enabled (hw_wrmsr);
 * the rest of its state is the processor's 64-bit CPL-0 reset state.
 * Pages VMXON_PA, VMCS_A, VMCS_B hold the revision identifier
 * IA32_VMX_BASIC reports. Conditions the host cannot produce through
 * hw/hw.h (CPL 3, virtual-8086 mode, a locked-off feature control) are
 * set in cpu->host / cpu->msr directly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/cpu.h"
#include "hw/vmcs.h"
#include "hw/vmx.h"

#define ARENA (16ull << 20)
#define VMXON_PA 0x10000ull
#define VMCS_A 0x11000ull
#define VMCS_B 0x12000ull
#define SPARE 0x13000ull		/* a page tests fill as they need */
#define NO_VMCS (~0ull)			/* FFFFFFFF_FFFFFFFFH: no current VMCS */

/* RFLAGS (SDM Vol. 1 3.4.3). */
#define CF (1ull << 0)
#define PF (1ull << 2)
#define AF (1ull << 4)
#define ZF (1ull << 6)
#define SF (1ull << 7)
#define IF (1ull << 9)
#define OF (1ull << 11)
#define VM (1ull << 17)
#define STATUS_FLAGS (CF | PF | AF | ZF | SF | OF)

#define CR0_PE (1ull << 0)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_VMXE (1ull << 13)
#define CS_L (1u << 13)			/* access rights, VMCS layout */

/* SDM encodings used by name below (Vol. 3D Appendix B). */
#define ENC_GUEST_ES_SELECTOR	0x0800u
#define ENC_IO_BITMAP_A		0x2000u
#define ENC_GUEST_PHYS_ADDR	0x2400u
#define ENC_PIN_BASED		0x4000u
#define ENC_VM_INSN_ERROR	0x4400u
#define ENC_EXIT_REASON		0x4402u
#define ENC_EXIT_QUALIFICATION	0x6400u
#define ENC_GUEST_RIP		0x681eu

static struct hw_machine *m;
static struct hw_cpu *cpu;
static uint32_t revision;		/* IA32_VMX_BASIC[30:0] */

static void put32(hpa_t pa, uint32_t v)
{
	void *p = hw_hpa_ptr(m, pa, 4);
	assert_non_null(p);
	memcpy(p, &v, 4);
}

static uint64_t rdmsr(uint32_t msr)
{
	uint64_t v = 0;
	assert_int_equal(vmx_cap_rdmsr(cpu, msr, &v), 0);
	return v;
}

static int setup(void **state)
{
	struct hw_machine_config cfg;
	hw_machine_config_default(&cfg, HW_VENDOR_INTEL);
	cfg.arena_size = ARENA;
	assert_int_equal(hw_machine_create(&cfg, &m), 0);
	assert_int_equal(hw_cpu_create(m, 0, &cpu), 0);
	assert_int_equal(hw_write_cr(cpu, 4, hw_read_cr(cpu, 4) | CR4_VMXE), 0);
	assert_int_equal(hw_wrmsr(cpu, 0x3a, 0x5), 0);	/* lock (0), VMXON outside SMX (2) */
	revision = (uint32_t)(rdmsr(0x480) & 0x7fffffff);
	put32(VMXON_PA, revision);
	put32(VMCS_A, revision);
	put32(VMCS_B, revision);
	return 0;
}

static int teardown(void **state)
{
	hw_machine_destroy(m);
	m = NULL;
	cpu = NULL;
	return 0;
}

/* VMXON, then make @vmcs current (after a VMCLEAR, as software must). */
static void enter(hpa_t vmcs)
{
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_SUCCEED);
	if (vmcs == NO_VMCS)
		return;
	assert_int_equal(vmclear(cpu, vmcs), VMX_SUCCEED);
	assert_int_equal(vmptrld(cpu, vmcs), VMX_SUCCEED);
}

static uint64_t current(void)
{
	hpa_t pa = 0;
	assert_int_equal(vmptrst(cpu, &pa), VMX_SUCCEED);
	return pa;
}

static uint64_t rd(uint64_t field)
{
	uint64_t v = 0xbad;
	assert_int_equal(vmread(cpu, field, &v), VMX_SUCCEED);
	return v;
}

static void wr(uint64_t field, uint64_t v)
{
	assert_int_equal(vmwrite(cpu, field, v), VMX_SUCCEED);
}

/* A VMfailValid with error @err; the field is read back by VMREAD. */
static void assert_fail_valid(enum vmx_status st, unsigned err)
{
	assert_int_equal(st, VMX_FAIL_VALID);
	assert_int_equal(cpu->host.rflags & STATUS_FLAGS, ZF);
	assert_int_equal(rd(ENC_VM_INSN_ERROR), err);
}

static void assert_fail_invalid(enum vmx_status st)
{
	assert_int_equal(st, VMX_FAIL_INVALID);
	assert_int_equal(cpu->host.rflags & STATUS_FLAGS, CF);
}

/* ------------------------------------------------------------ VMXON / VMXOFF */

static void vmxon_enters_vmx_operation(void **state)
{
	cpu->host.rflags = 0x2 | STATUS_FLAGS | IF;
	/* Whatever the pointer held before, VMXON sets it to FFFFFFFF_FFFFFFFFH. */
	cpu->vmx.current_vmcs = VMCS_A;
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_SUCCEED);
	/* VMsucceed clears the six status flags and nothing else. */
	assert_int_equal(cpu->host.rflags, 0x2 | IF);
	assert_int_equal(current(), NO_VMCS);
}

static void vmxon_ud(void **state)
{
	const uint64_t cr0 = hw_read_cr(cpu, 0), cr4 = hw_read_cr(cpu, 4);
	assert_int_equal(hw_write_cr(cpu, 4, cr4 & ~CR4_VMXE), 0);
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_UD);
	assert_int_equal(hw_write_cr(cpu, 4, cr4), 0);
	assert_int_equal(hw_write_cr(cpu, 0, cr0 & ~(CR0_PE | CR0_PG)), 0);
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_UD);
	assert_int_equal(hw_write_cr(cpu, 0, cr0), 0);
	cpu->host.rflags |= VM;				/* virtual-8086 mode */
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_UD);
	cpu->host.rflags &= ~VM;
	cpu->host.seg[EMU_CS].ar &= ~CS_L;		/* compatibility mode */
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_UD);
	cpu->host.seg[EMU_CS].ar |= CS_L;
	/* None of them entered VMX operation. */
	hpa_t pa;
	assert_int_equal(vmptrst(cpu, &pa), VMX_FAULT_UD);
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_SUCCEED);
}

static void vmxon_gp(void **state)
{
	const uint64_t cr0 = hw_read_cr(cpu, 0), cr4 = hw_read_cr(cpu, 4);

	/* IA32_FEATURE_CONTROL (SDM Vol. 3C 24.7): lock bit 0, bit 2. Locked
	 * until reset, so these are set behind WRMSR's back. */
	cpu->msr.feature_control = 0;
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_GP);
	cpu->msr.feature_control = 0x1;			/* locked, VMXON disabled */
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_GP);
	cpu->msr.feature_control = 0x4;			/* enabled, not locked */
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_GP);
	cpu->msr.feature_control = 0x5;

	cpu->host.cpl = 3;
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_GP);
	cpu->host.cpl = 0;

	/* CR0/CR4 values VMX operation does not support (SDM 24.8). */
	assert_int_equal(hw_write_cr(cpu, 0, cr0 & ~CR0_NE), 0);
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_GP);
	assert_int_equal(hw_write_cr(cpu, 0, cr0 & ~CR0_PG), 0);
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_GP);
	assert_int_equal(hw_write_cr(cpu, 0, cr0), 0);
	/* SMXE (14): no SMX, so MOV CR4 refuses it and CR4_FIXED1 has it 0. */
	cpu->host.cr4 = cr4 | (1ull << 14);
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_GP);
	cpu->host.cr4 = cr4;

	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_SUCCEED);
}

static void vmxon_bad_pointer_fails_invalid(void **state)
{
	static const uint64_t bad[] = {
		VMXON_PA + 0x800,			/* not 4 KiB aligned */
		VMXON_PA + 4,
		(1ull << 46) | VMXON_PA,		/* beyond 46-bit width */
		1ull << 63,
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cpu->host.rflags = 0x2 | ZF;
		assert_fail_invalid(vmxon(cpu, bad[i]));
	}
	/* Within the width but past the arena: the revision reads as all
	 * ones, which no VMCS revision is. */
	assert_fail_invalid(vmxon(cpu, ARENA));
	assert_int_equal(vmxoff(cpu), VMX_FAULT_UD);	/* still outside */
}

static void vmxon_bad_revision_fails_invalid(void **state)
{
	put32(VMXON_PA, revision + 1);
	assert_fail_invalid(vmxon(cpu, VMXON_PA));
	put32(VMXON_PA, revision | 0x80000000u);	/* shadow indicator */
	assert_fail_invalid(vmxon(cpu, VMXON_PA));
	put32(VMXON_PA, 0);
	assert_fail_invalid(vmxon(cpu, VMXON_PA));
	assert_int_equal(vmxoff(cpu), VMX_FAULT_UD);
	put32(VMXON_PA, revision);
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_SUCCEED);
}

static void vmxon_in_vmx_operation(void **state)
{
	enter(NO_VMCS);
	assert_fail_invalid(vmxon(cpu, VMXON_PA));	/* no VMCS to report in */
	assert_int_equal(vmclear(cpu, VMCS_A), VMX_SUCCEED);
	assert_int_equal(vmptrld(cpu, VMCS_A), VMX_SUCCEED);
	assert_fail_valid(vmxon(cpu, VMXON_PA), 15);
	cpu->host.cpl = 3;
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_FAULT_GP);
}

static void vmxoff_leaves_vmx_operation(void **state)
{
	enter(VMCS_A);
	cpu->host.rflags = 0x2 | CF;
	assert_int_equal(vmxoff(cpu), VMX_SUCCEED);
	assert_int_equal(cpu->host.rflags & STATUS_FLAGS, 0);
	uint64_t v;
	assert_int_equal(vmread(cpu, ENC_GUEST_RIP, &v), VMX_FAULT_UD);
	assert_int_equal(vmxoff(cpu), VMX_FAULT_UD);
	/* A new VMXON starts with no current VMCS. */
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_SUCCEED);
	assert_int_equal(current(), NO_VMCS);
}

/* Outside VMX operation every instruction but VMXON is #UD (31.3). */
static void outside_vmx_operation_is_ud(void **state)
{
	for (int round = 0; round < 2; round++) {
		hpa_t pa;
		uint64_t v;
		assert_int_equal(vmxoff(cpu), VMX_FAULT_UD);
		assert_int_equal(vmclear(cpu, VMCS_A), VMX_FAULT_UD);
		assert_int_equal(vmptrld(cpu, VMCS_A), VMX_FAULT_UD);
		assert_int_equal(vmptrst(cpu, &pa), VMX_FAULT_UD);
		assert_int_equal(vmread(cpu, ENC_GUEST_RIP, &v), VMX_FAULT_UD);
		assert_int_equal(vmwrite(cpu, ENC_GUEST_RIP, 0), VMX_FAULT_UD);
		/* Second round: after leaving VMX operation again. */
		enter(VMCS_A);
		assert_int_equal(vmxoff(cpu), VMX_SUCCEED);
	}
}

static void cpl_above_0_is_gp(void **state)
{
	enter(VMCS_A);
	cpu->host.cpl = 3;
	hpa_t pa;
	uint64_t v;
	assert_int_equal(vmxoff(cpu), VMX_FAULT_GP);
	assert_int_equal(vmclear(cpu, VMCS_A), VMX_FAULT_GP);
	assert_int_equal(vmptrld(cpu, VMCS_A), VMX_FAULT_GP);
	assert_int_equal(vmptrst(cpu, &pa), VMX_FAULT_GP);
	assert_int_equal(vmread(cpu, ENC_GUEST_RIP, &v), VMX_FAULT_GP);
	assert_int_equal(vmwrite(cpu, ENC_GUEST_RIP, 0), VMX_FAULT_GP);
	/* #UD conditions come first (31.3 pseudocode order). */
	cpu->host.rflags |= VM;
	assert_int_equal(vmptrst(cpu, &pa), VMX_FAULT_UD);
	cpu->host.rflags &= ~VM;
	cpu->host.cr0 &= ~CR0_PE;	/* MOV CR0 refuses it in VMX operation */
	assert_int_equal(vmread(cpu, ENC_GUEST_RIP, &v), VMX_FAULT_UD);
	cpu->host.cr0 |= CR0_PE;
	cpu->host.seg[EMU_CS].ar &= ~CS_L;
	assert_int_equal(vmwrite(cpu, ENC_GUEST_RIP, 0), VMX_FAULT_UD);
	cpu->host.seg[EMU_CS].ar |= CS_L;
	cpu->host.cpl = 0;
	assert_int_equal(current(), VMCS_A);		/* nothing changed */
}

static void vmx_is_ud_on_amd(void **state)
{
	struct hw_machine_config cfg;
	struct hw_machine *amd;
	struct hw_cpu *c;
	hw_machine_config_default(&cfg, HW_VENDOR_AMD);
	cfg.arena_size = ARENA;
	assert_int_equal(hw_machine_create(&cfg, &amd), 0);
	assert_int_equal(hw_cpu_create(amd, 0, &c), 0);
	/* CR4.VMXE does not exist there; hand it the Intel host's state. */
	assert_int_equal(hw_write_cr(c, 4, hw_read_cr(c, 4) | CR4_VMXE), -EINVAL);
	c->host = cpu->host;
	c->msr.feature_control = 0x5;
	assert_int_equal(vmxon(c, VMXON_PA), VMX_FAULT_UD);
	uint64_t v;
	for (uint32_t msr = 0x480; msr <= 0x491; msr++)
		assert_int_equal(vmx_cap_rdmsr(c, msr, &v), -EINVAL);
	hw_machine_destroy(amd);
}

/* ------------------------------------------------------------ VMCLEAR / VMPTRLD / VMPTRST */

static void vmclear_errors(void **state)
{
	enter(VMCS_A);
	assert_fail_valid(vmclear(cpu, VMCS_B + 0x10), 2);	/* misaligned */
	assert_fail_valid(vmclear(cpu, 1ull << 46), 2);		/* beyond width */
	assert_fail_valid(vmclear(cpu, VMXON_PA), 3);
	assert_int_equal(current(), VMCS_A);
	/* Without a current VMCS, VMfail is VMfailInvalid. */
	assert_int_equal(vmclear(cpu, VMCS_A), VMX_SUCCEED);
	assert_fail_invalid(vmclear(cpu, VMXON_PA));
	assert_fail_invalid(vmclear(cpu, VMCS_B + 1));
}

static void vmclear_of_current_vmcs_invalidates_it(void **state)
{
	enter(VMCS_A);
	wr(ENC_GUEST_RIP, 0x1234);
	assert_int_equal(vmclear(cpu, VMCS_A), VMX_SUCCEED);
	assert_int_equal(current(), NO_VMCS);
	uint64_t v = 0x77;
	assert_fail_invalid(vmread(cpu, ENC_GUEST_RIP, &v));
	assert_int_equal(v, 0x77);			/* destination untouched */
	assert_fail_invalid(vmwrite(cpu, ENC_GUEST_RIP, 1));
	/* The data stay in the region: load it again and they are there. */
	assert_int_equal(vmptrld(cpu, VMCS_A), VMX_SUCCEED);
	assert_int_equal(rd(ENC_GUEST_RIP), 0x1234);
}

static void vmclear_of_other_vmcs_keeps_current(void **state)
{
	enter(VMCS_A);
	assert_int_equal(vmclear(cpu, VMCS_B), VMX_SUCCEED);
	assert_int_equal(current(), VMCS_A);
	assert_int_equal(rd(ENC_GUEST_RIP), 0);
}

static void vmptrld_errors(void **state)
{
	enter(VMCS_A);
	assert_fail_valid(vmptrld(cpu, VMCS_B + 0x100), 9);	/* misaligned */
	assert_fail_valid(vmptrld(cpu, (1ull << 47) | VMCS_B), 9);
	assert_fail_valid(vmptrld(cpu, VMXON_PA), 10);
	put32(SPARE, revision ^ 1);
	assert_fail_valid(vmptrld(cpu, SPARE), 11);
	put32(SPARE, revision | 0x80000000u);		/* shadow VMCS: not supported */
	assert_fail_valid(vmptrld(cpu, SPARE), 11);
	assert_fail_valid(vmptrld(cpu, ARENA), 11);	/* no memory: all ones */
	assert_int_equal(current(), VMCS_A);		/* failures change nothing */
	/* Without a current VMCS the same failures are VMfailInvalid. */
	assert_int_equal(vmclear(cpu, VMCS_A), VMX_SUCCEED);
	assert_fail_invalid(vmptrld(cpu, VMXON_PA));
	assert_fail_invalid(vmptrld(cpu, SPARE));
	assert_int_equal(current(), NO_VMCS);
}

static void vmptrld_and_vmptrst(void **state)
{
	enter(NO_VMCS);
	cpu->host.rflags = 0x2 | ZF | CF;
	assert_int_equal(vmptrld(cpu, VMCS_B), VMX_SUCCEED);
	assert_int_equal(cpu->host.rflags & STATUS_FLAGS, 0);
	assert_int_equal(current(), VMCS_B);
	assert_int_equal(vmptrld(cpu, VMCS_A), VMX_SUCCEED);
	assert_int_equal(current(), VMCS_A);
}

/* ------------------------------------------------------------ VMREAD / VMWRITE */

static void vmread_vmwrite_without_current_vmcs(void **state)
{
	enter(NO_VMCS);
	uint64_t v = 5;
	assert_fail_invalid(vmread(cpu, ENC_GUEST_RIP, &v));
	assert_fail_invalid(vmwrite(cpu, ENC_GUEST_RIP, 1));
	/* Unsupported fields too: no VMCS, no error number. */
	assert_fail_invalid(vmread(cpu, 0x0002, &v));
	assert_int_equal(v, 5);
}

static void unsupported_fields(void **state)
{
	static const uint64_t bad[] = {
		0x0002,			/* posted-interrupt vector: not offered */
		0x2012,			/* virtual-APIC address: not offered */
		0x4001,			/* high access of a 32-bit field */
		0x6801,			/* high access of a natural-width field */
		0x0801,			/* high access of a 16-bit field */
		0x1800,			/* bit 12 is reserved */
		0x8000,			/* bits 31:15 are reserved */
		(1ull << 32) | 0x681e,	/* bits 63:32 of the operand set */
		0x4828,			/* guest SMBASE: no SMM */
	};
	enter(VMCS_A);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 9;
		vmcs_write(cpu, ENC_VM_INSN_ERROR, 0);	/* so the 12 is this failure's */
		assert_fail_valid(vmread(cpu, bad[i], &v), 12);
		assert_int_equal(v, 9);
		assert_fail_valid(vmwrite(cpu, bad[i], 0), 12);
	}
}

static void read_only_fields_refuse_vmwrite(void **state)
{
	/* The VM-exit information fields (type 1 in bits 11:10). */
	static const uint32_t ro[] = {
		0x2400, 0x2401,				/* guest-physical address */
		0x4400, 0x4402, 0x4404, 0x4406,
		0x4408, 0x440a, 0x440c, 0x440e,
		0x6400, 0x640a,
	};
	enter(VMCS_A);
	for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		if (ro[i] == ENC_VM_INSN_ERROR)
			continue;			/* its value is the verdict */
		vmcs_write(cpu, ro[i], 0x5a5a);
		assert_fail_valid(vmwrite(cpu, ro[i], 0x1111), 13);
		assert_int_equal(rd(ro[i]), 0x5a5a);
	}
	assert_fail_valid(vmwrite(cpu, ENC_VM_INSN_ERROR, 0), 13);
}

static void internal_api_writes_read_only_fields(void **state)
{
	enter(VMCS_A);
	vmcs_write(cpu, ENC_EXIT_REASON, 0x80000021);	/* entry failure, reason 33 */
	vmcs_write(cpu, ENC_EXIT_QUALIFICATION, 0xffff000012345678ull);
	vmcs_write(cpu, ENC_GUEST_PHYS_ADDR, 0x123456789000ull);
	assert_int_equal(rd(ENC_EXIT_REASON), 0x80000021);
	assert_int_equal(rd(ENC_EXIT_QUALIFICATION), 0xffff000012345678ull);
	assert_int_equal(rd(ENC_GUEST_PHYS_ADDR), 0x123456789000ull);
	assert_int_equal(rd(ENC_GUEST_PHYS_ADDR | 1), 0x1234);
	assert_int_equal(vmcs_read(cpu, ENC_EXIT_REASON), 0x80000021);
	wr(ENC_GUEST_RIP, 0xfff0);
	assert_int_equal(vmcs_read(cpu, ENC_GUEST_RIP), 0xfff0);
}

static void field_widths(void **state)
{
	enter(VMCS_A);
	/* 16-bit: the high bits of the source are ignored (31.3 VMWRITE). */
	wr(ENC_GUEST_ES_SELECTOR, 0xffffffff12345678ull);
	assert_int_equal(rd(ENC_GUEST_ES_SELECTOR), 0x5678);
	/* 32-bit. */
	wr(ENC_PIN_BASED, 0xdeadbeef12345678ull);
	assert_int_equal(rd(ENC_PIN_BASED), 0x12345678);
	/* 64-bit: full access, and the high access reads bits 63:32. */
	wr(ENC_IO_BITMAP_A, 0x1122334455667788ull);
	assert_int_equal(rd(ENC_IO_BITMAP_A), 0x1122334455667788ull);
	assert_int_equal(rd(ENC_IO_BITMAP_A | 1), 0x11223344);
	/* The high access writes bits 63:32 from the source's bits 31:0. */
	wr(ENC_IO_BITMAP_A | 1, 0xaabbccdd99887766ull);
	assert_int_equal(rd(ENC_IO_BITMAP_A), 0x9988776655667788ull);
	assert_int_equal(rd(ENC_IO_BITMAP_A | 1), 0x99887766);
	/* Natural width: 64 bits on a processor with Intel 64. */
	wr(ENC_GUEST_RIP, 0xfedcba9876543210ull);
	assert_int_equal(rd(ENC_GUEST_RIP), 0xfedcba9876543210ull);
	/* Writes to neighbours did not spill. */
	assert_int_equal(rd(ENC_GUEST_ES_SELECTOR), 0x5678);
	assert_int_equal(rd(ENC_PIN_BASED), 0x12345678);
}

static void two_vmcss_keep_separate_contents(void **state)
{
	enter(VMCS_A);
	wr(ENC_GUEST_RIP, 0xaaaa);
	wr(ENC_PIN_BASED, 0x16);
	assert_fail_valid(vmwrite(cpu, 0x0002, 0), 12);
	assert_int_equal(vmclear(cpu, VMCS_B), VMX_SUCCEED);
	assert_int_equal(vmptrld(cpu, VMCS_B), VMX_SUCCEED);
	assert_int_equal(rd(ENC_GUEST_RIP), 0);
	assert_int_equal(rd(ENC_VM_INSN_ERROR), 0);	/* A's error stays in A */
	wr(ENC_GUEST_RIP, 0xbbbb);
	assert_int_equal(vmptrld(cpu, VMCS_A), VMX_SUCCEED);
	assert_int_equal(rd(ENC_GUEST_RIP), 0xaaaa);
	assert_int_equal(rd(ENC_PIN_BASED), 0x16);
	assert_int_equal(rd(ENC_VM_INSN_ERROR), 12);
	assert_int_equal(vmptrld(cpu, VMCS_B), VMX_SUCCEED);
	assert_int_equal(rd(ENC_GUEST_RIP), 0xbbbb);
	assert_int_equal(rd(ENC_PIN_BASED), 0);
}

/* The launch state lives in the VMCS region and only VMCLEAR clears it. */
static void launch_state_follows_the_region(void **state)
{
	enter(VMCS_A);
	assert_int_equal(vmcs_launch_state(cpu), VMCS_STATE_CLEAR);
	vmcs_set_launched(cpu);
	assert_int_equal(vmcs_launch_state(cpu), VMCS_STATE_LAUNCHED);
	assert_int_equal(vmclear(cpu, VMCS_B), VMX_SUCCEED);
	assert_int_equal(vmptrld(cpu, VMCS_B), VMX_SUCCEED);
	assert_int_equal(vmcs_launch_state(cpu), VMCS_STATE_CLEAR);
	assert_int_equal(vmptrld(cpu, VMCS_A), VMX_SUCCEED);	/* no VMCLEAR */
	assert_int_equal(vmcs_launch_state(cpu), VMCS_STATE_LAUNCHED);
	/* VMCLEAR of A while B is current still clears A. */
	assert_int_equal(vmptrld(cpu, VMCS_B), VMX_SUCCEED);
	assert_int_equal(vmclear(cpu, VMCS_A), VMX_SUCCEED);
	assert_int_equal(vmptrld(cpu, VMCS_A), VMX_SUCCEED);
	assert_int_equal(vmcs_launch_state(cpu), VMCS_STATE_CLEAR);
	/* And across VMXOFF/VMXON. */
	vmcs_set_launched(cpu);
	assert_int_equal(vmxoff(cpu), VMX_SUCCEED);
	enter(NO_VMCS);
	assert_int_equal(vmptrld(cpu, VMCS_A), VMX_SUCCEED);
	assert_int_equal(vmcs_launch_state(cpu), VMCS_STATE_LAUNCHED);
}

/* ------------------------------------------------------------ the field table */

/*
 * Every field the model supports, with its SDM Appendix B encoding and
 * whether it is a read-only VM-exit information field.
 */
struct sdm_field { uint32_t constant, enc; bool ro; const char *name; };
#define RW(c, e) { VMCS_##c, e, false, #c }
#define RO(c, e) { VMCS_##c, e, true, #c }
static const struct sdm_field sdm_fields[] = {
	RW(VPID, 0x0000),
	RW(GUEST_ES_SELECTOR, 0x0800), RW(GUEST_CS_SELECTOR, 0x0802),
	RW(GUEST_SS_SELECTOR, 0x0804), RW(GUEST_DS_SELECTOR, 0x0806),
	RW(GUEST_FS_SELECTOR, 0x0808), RW(GUEST_GS_SELECTOR, 0x080a),
	RW(GUEST_LDTR_SELECTOR, 0x080c), RW(GUEST_TR_SELECTOR, 0x080e),
	RW(HOST_ES_SELECTOR, 0x0c00), RW(HOST_CS_SELECTOR, 0x0c02),
	RW(HOST_SS_SELECTOR, 0x0c04), RW(HOST_DS_SELECTOR, 0x0c06),
	RW(HOST_FS_SELECTOR, 0x0c08), RW(HOST_GS_SELECTOR, 0x0c0a),
	RW(HOST_TR_SELECTOR, 0x0c0c),
	RW(IO_BITMAP_A, 0x2000), RW(IO_BITMAP_B, 0x2002), RW(MSR_BITMAP, 0x2004),
	RW(TSC_OFFSET, 0x2010), RW(EPT_POINTER, 0x201a),
	RO(GUEST_PHYSICAL_ADDRESS, 0x2400),
	RW(LINK_POINTER, 0x2800), RW(GUEST_IA32_DEBUGCTL, 0x2802),
	RW(GUEST_IA32_PAT, 0x2804), RW(GUEST_IA32_EFER, 0x2806),
	RW(GUEST_PDPTE0, 0x280a), RW(GUEST_PDPTE1, 0x280c),
	RW(GUEST_PDPTE2, 0x280e), RW(GUEST_PDPTE3, 0x2810),
	RW(HOST_IA32_PAT, 0x2c00), RW(HOST_IA32_EFER, 0x2c02),
	RW(PIN_BASED_CTLS, 0x4000), RW(PROC_BASED_CTLS, 0x4002),
	RW(EXCEPTION_BITMAP, 0x4004), RW(PF_ERROR_CODE_MASK, 0x4006),
	RW(PF_ERROR_CODE_MATCH, 0x4008), RW(CR3_TARGET_COUNT, 0x400a),
	RW(EXIT_CTLS, 0x400c), RW(EXIT_MSR_STORE_COUNT, 0x400e),
	RW(EXIT_MSR_LOAD_COUNT, 0x4010), RW(ENTRY_CTLS, 0x4012),
	RW(ENTRY_MSR_LOAD_COUNT, 0x4014), RW(ENTRY_INTR_INFO, 0x4016),
	RW(ENTRY_EXCEPTION_ERROR_CODE, 0x4018), RW(ENTRY_INSTRUCTION_LEN, 0x401a),
	RW(TPR_THRESHOLD, 0x401c), RW(PROC_BASED_CTLS2, 0x401e),
	RO(VM_INSTRUCTION_ERROR, 0x4400), RO(EXIT_REASON, 0x4402),
	RO(EXIT_INTR_INFO, 0x4404), RO(EXIT_INTR_ERROR_CODE, 0x4406),
	RO(IDT_VECTORING_INFO, 0x4408), RO(IDT_VECTORING_ERROR_CODE, 0x440a),
	RO(EXIT_INSTRUCTION_LEN, 0x440c), RO(EXIT_INSTRUCTION_INFO, 0x440e),
	RW(GUEST_ES_LIMIT, 0x4800), RW(GUEST_CS_LIMIT, 0x4802),
	RW(GUEST_SS_LIMIT, 0x4804), RW(GUEST_DS_LIMIT, 0x4806),
	RW(GUEST_FS_LIMIT, 0x4808), RW(GUEST_GS_LIMIT, 0x480a),
	RW(GUEST_LDTR_LIMIT, 0x480c), RW(GUEST_TR_LIMIT, 0x480e),
	RW(GUEST_GDTR_LIMIT, 0x4810), RW(GUEST_IDTR_LIMIT, 0x4812),
	RW(GUEST_ES_ACCESS_RIGHTS, 0x4814), RW(GUEST_CS_ACCESS_RIGHTS, 0x4816),
	RW(GUEST_SS_ACCESS_RIGHTS, 0x4818), RW(GUEST_DS_ACCESS_RIGHTS, 0x481a),
	RW(GUEST_FS_ACCESS_RIGHTS, 0x481c), RW(GUEST_GS_ACCESS_RIGHTS, 0x481e),
	RW(GUEST_LDTR_ACCESS_RIGHTS, 0x4820), RW(GUEST_TR_ACCESS_RIGHTS, 0x4822),
	RW(GUEST_INTERRUPTIBILITY, 0x4824), RW(GUEST_ACTIVITY_STATE, 0x4826),
	RW(GUEST_IA32_SYSENTER_CS, 0x482a), RW(PREEMPTION_TIMER_VALUE, 0x482e),
	RW(HOST_IA32_SYSENTER_CS, 0x4c00),
	RW(CR0_GUEST_HOST_MASK, 0x6000), RW(CR4_GUEST_HOST_MASK, 0x6002),
	RW(CR0_READ_SHADOW, 0x6004), RW(CR4_READ_SHADOW, 0x6006),
	RW(CR3_TARGET_VALUE0, 0x6008), RW(CR3_TARGET_VALUE1, 0x600a),
	RW(CR3_TARGET_VALUE2, 0x600c), RW(CR3_TARGET_VALUE3, 0x600e),
	RO(EXIT_QUALIFICATION, 0x6400), RO(GUEST_LINEAR_ADDRESS, 0x640a),
	RW(GUEST_CR0, 0x6800), RW(GUEST_CR3, 0x6802), RW(GUEST_CR4, 0x6804),
	RW(GUEST_ES_BASE, 0x6806), RW(GUEST_CS_BASE, 0x6808),
	RW(GUEST_SS_BASE, 0x680a), RW(GUEST_DS_BASE, 0x680c),
	RW(GUEST_FS_BASE, 0x680e), RW(GUEST_GS_BASE, 0x6810),
	RW(GUEST_LDTR_BASE, 0x6812), RW(GUEST_TR_BASE, 0x6814),
	RW(GUEST_GDTR_BASE, 0x6816), RW(GUEST_IDTR_BASE, 0x6818),
	RW(GUEST_DR7, 0x681a), RW(GUEST_RSP, 0x681c), RW(GUEST_RIP, 0x681e),
	RW(GUEST_RFLAGS, 0x6820), RW(GUEST_PENDING_DBG_EXCEPTIONS, 0x6822),
	RW(GUEST_IA32_SYSENTER_ESP, 0x6824), RW(GUEST_IA32_SYSENTER_EIP, 0x6826),
	RW(HOST_CR0, 0x6c00), RW(HOST_CR3, 0x6c02), RW(HOST_CR4, 0x6c04),
	RW(HOST_FS_BASE, 0x6c06), RW(HOST_GS_BASE, 0x6c08),
	RW(HOST_TR_BASE, 0x6c0a), RW(HOST_GDTR_BASE, 0x6c0c),
	RW(HOST_IDTR_BASE, 0x6c0e), RW(HOST_IA32_SYSENTER_ESP, 0x6c10),
	RW(HOST_IA32_SYSENTER_EIP, 0x6c12), RW(HOST_RSP, 0x6c14),
	RW(HOST_RIP, 0x6c16),
};
#define NR_SDM_FIELDS (sizeof(sdm_fields) / sizeof(sdm_fields[0]))

static const struct sdm_field *sdm_field(uint32_t enc)
{
	for (unsigned i = 0; i < NR_SDM_FIELDS; i++)
		if (sdm_fields[i].enc == enc)
			return &sdm_fields[i];
	return NULL;
}

static void field_constants_match_the_sdm(void **state)
{
	for (unsigned i = 0; i < NR_SDM_FIELDS; i++) {
		const struct sdm_field *f = &sdm_fields[i];
		if (f->constant != f->enc)
			fail_msg("VMCS_%s = %#x, SDM Appendix B says %#x", f->name, f->constant, f->enc);
		const struct vmcs_field_info *info = vmcs_field_info(f->enc);
		assert_non_null(info);
		assert_string_equal(info->name, f->name);
		assert_int_equal(info->encoding, f->enc);
	}
	assert_int_equal(vmcs_nr_fields(), NR_SDM_FIELDS);
}

/*
 * VMREAD every 15-bit encoding: exactly the table's fields succeed, plus
 * the high access of each 64-bit one (width 1 in bits 14:13); every other
 * encoding fails with error 12. Then each field holds what is written,
 * within its width, without disturbing any other.
 */
static void supported_fields_are_exactly_the_table(void **state)
{
	enter(VMCS_A);
	unsigned supported = 0;
	for (uint32_t enc = 0; enc < 0x8000; enc++) {
		const struct sdm_field *f = sdm_field(enc & ~1u);
		const bool want = f && (!(enc & 1) || ((enc >> 13) & 3) == 1);
		uint64_t v;
		enum vmx_status st = vmread(cpu, enc, &v);
		if (want != (st == VMX_SUCCEED))
			fail_msg("VMREAD %#x: status %d, expected %s", enc, st,
				 want ? "success" : "error 12");
		if (!want)
			assert_int_equal(rd(ENC_VM_INSN_ERROR), 12);
		supported += want;
	}
	assert_int_equal(supported, NR_SDM_FIELDS + 16);	/* 16 64-bit fields */

	/* Fill every field through the internal API with a pattern of its
	 * own, then check each kept exactly its width's worth. */
	for (unsigned i = 0; i < NR_SDM_FIELDS; i++)
		vmcs_write(cpu, sdm_fields[i].enc, 0x0101010101010101ull * (i + 1));
	for (unsigned i = 0; i < NR_SDM_FIELDS; i++) {
		const uint32_t enc = sdm_fields[i].enc;
		const unsigned width = (enc >> 13) & 3;
		const uint64_t mask = width == 0 ? 0xffff : width == 2 ? 0xffffffff : ~0ull;
		if (rd(enc) != (0x0101010101010101ull * (i + 1) & mask))
			fail_msg("%s holds %#llx", sdm_fields[i].name, (unsigned long long)rd(enc));
	}
	/* VMWRITE: the read-only ones refuse with error 13. */
	for (unsigned i = 0; i < NR_SDM_FIELDS; i++) {
		const uint32_t enc = sdm_fields[i].enc;
		if (!sdm_fields[i].ro)
			wr(enc, 0);
		else
			assert_fail_valid(vmwrite(cpu, enc, 0), 13);
	}
}

/* ------------------------------------------------------------ capability MSRs */

static uint32_t bits(const unsigned *b, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= 1u << b[i];
	return v;
}
#define BITS(...) bits((const unsigned[]){ __VA_ARGS__ }, \
		       sizeof((const unsigned[]){ __VA_ARGS__ }) / sizeof(unsigned))

/* Allowed 0-settings in bits 31:0, allowed 1-settings in 63:32 (A.3). */
static void assert_ctls(uint32_t msr, uint32_t must_be_1, uint32_t may_be_1)
{
	const uint64_t v = rdmsr(msr);
	if ((uint32_t)v != must_be_1 || (uint32_t)(v >> 32) != may_be_1)
		fail_msg("MSR %#x = %#llx: allowed-0 %#x (want %#x), allowed-1 %#x (want %#x)",
			 msr, (unsigned long long)v, (uint32_t)v, must_be_1,
			 (uint32_t)(v >> 32), may_be_1);
}

static void vmx_basic(void **state)
{
	const uint64_t v = rdmsr(0x480);
	assert_int_equal(v & (1ull << 31), 0);			/* bit 31 always 0 */
	assert_int_equal((v >> 32) & 0x1fff, 4096);		/* region size */
	assert_int_equal(v & (1ull << 48), 0);			/* 64-bit addresses */
	assert_int_equal(v & (1ull << 49), 0);			/* no dual monitor */
	assert_int_equal((v >> 50) & 0xf, 6);			/* write-back */
	assert_int_not_equal(v & (1ull << 54), 0);		/* INS/OUTS info */
	assert_int_not_equal(v & (1ull << 55), 0);		/* TRUE controls */
	assert_int_equal(v >> 56, 0);
	/* RDMSR reaches the same value; the MSRs are read-only (A.1). */
	uint64_t r = 0;
	assert_int_equal(hw_rdmsr(cpu, 0x480, &r), 0);
	assert_int_equal(r, v);
	assert_int_equal(hw_wrmsr(cpu, 0x480, v), -EINVAL);
}

static void control_msrs(void **state)
{
	/* Pin-based (A.3.1): default1 1, 2, 4; offered: external-interrupt
	 * exiting 0, NMI exiting 3, virtual NMIs 5, preemption timer 6. */
	const uint32_t pin1 = BITS(1, 2, 4);
	assert_ctls(0x481, pin1, pin1 | BITS(0, 3, 5, 6));
	assert_ctls(0x48d, pin1, pin1 | BITS(0, 3, 5, 6));

	/* Primary (A.3.2): default1 1, 4-6, 8, 13-16, 26; offered:
	 * interrupt-window 2, TSC offsetting 3, HLT 7, INVLPG 9, MWAIT 10,
	 * RDPMC 11, RDTSC 12, CR3-load 15, CR3-store 16, CR8-load 19,
	 * CR8-store 20, NMI-window 22, MOV-DR 23, unconditional I/O 24,
	 * I/O bitmaps 25, MSR bitmaps 28, MONITOR 29, PAUSE 30,
	 * secondary controls 31. The TRUE MSR lets 15 and 16 be 0. */
	const uint32_t proc1 = BITS(1, 4, 5, 6, 8, 13, 14, 15, 16, 26);
	const uint32_t proc_may = proc1 | BITS(2, 3, 7, 9, 10, 11, 12, 15, 16, 19, 20,
					       22, 23, 24, 25, 28, 29, 30, 31);
	assert_ctls(0x482, proc1, proc_may);
	assert_ctls(0x48e, proc1 & ~BITS(15, 16), proc_may);

	/* Secondary (A.3.3): no default1; EPT 1, RDTSCP 3, VPID 5,
	 * unrestricted guest 7, INVPCID 12. */
	assert_ctls(0x48b, 0, BITS(1, 3, 5, 7, 12));

	/* Exit (A.4): default1 0-8, 10, 11, 13, 14, 16, 17; offered: save
	 * debug controls 2, host address-space size 9, acknowledge interrupt
	 * 15, save/load PAT 18/19, save/load EFER 20/21. TRUE: 2 may be 0. */
	const uint32_t exit1 = BITS(0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 14, 16, 17);
	const uint32_t exit_may = exit1 | BITS(9, 15, 18, 19, 20, 21);
	assert_ctls(0x483, exit1, exit_may);
	assert_ctls(0x48f, exit1 & ~BITS(2), exit_may);

	/* Entry (A.5): default1 0-8, 12; offered: load debug controls 2,
	 * IA-32e mode guest 9, load PAT 14, load EFER 15. TRUE: 2 may be 0. */
	const uint32_t entry1 = BITS(0, 1, 2, 3, 4, 5, 6, 7, 8, 12);
	const uint32_t entry_may = entry1 | BITS(9, 14, 15);
	assert_ctls(0x484, entry1, entry_may);
	assert_ctls(0x490, entry1 & ~BITS(2), entry_may);
}

static void misc_fixed_enum_ept(void **state)
{
	/* A.6: preemption-timer rate 5 (the model's choice), bit 5 (store
	 * LMA: required with unrestricted guest), activity HLT only (6),
	 * 4 CR3 targets (24:16), 512 MSR-list entries (27:25 = 0), no
	 * VMWRITE to exit information (29), no MSEG. */
	assert_int_equal(rdmsr(0x485), 5 | (1u << 5) | (1u << 6) | (4u << 16));

	/* A.7, A.8. */
	assert_int_equal(rdmsr(0x486), 0x80000021);	/* PG NE PE */
	assert_int_equal(rdmsr(0x487), 0xffffffff);
	assert_int_equal(rdmsr(0x488), 0x2000);		/* VMXE */
	/* The CR4 bits the model implements (hw/cpu.h): TSD 2, DE 3, PSE 4,
	 * PAE 5, MCE 6, PGE 7, PCE 8, UMIP 11, VMXE 13, PCIDE 17, SMEP 20,
	 * SMAP 21. */
	assert_int_equal(rdmsr(0x489), BITS(2, 3, 4, 5, 6, 7, 8, 11, 13, 17, 20, 21));

	/* A.9: highest index is 23, VMX-preemption timer value (0x482e). */
	assert_int_equal(rdmsr(0x48a), 23 << 1);

	/* A.10. */
	const uint64_t ept = BITS(0, 6, 14, 16, 17, 20, 21, 25, 26);
	const uint64_t vpid = BITS(0, 8, 9, 10, 11);	/* bits 32, 40-43 */
	assert_int_equal(rdmsr(0x48c), ept | vpid << 32);
}

static void unknown_capability_msrs(void **state)
{
	uint64_t v = 0x1234;
	assert_int_equal(vmx_cap_rdmsr(cpu, 0x491, &v), -EINVAL);	/* VMFUNC: not offered */
	assert_int_equal(vmx_cap_rdmsr(cpu, 0x47f, &v), -EINVAL);
	assert_int_equal(vmx_cap_rdmsr(cpu, 0x492, &v), -EINVAL);
	assert_int_equal(vmx_cap_rdmsr(cpu, 0x3a, &v), -EINVAL);
	assert_int_equal(v, 0x1234);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(vmxon_enters_vmx_operation),
		T(vmxon_ud),
		T(vmxon_gp),
		T(vmxon_bad_pointer_fails_invalid),
		T(vmxon_bad_revision_fails_invalid),
		T(vmxon_in_vmx_operation),
		T(vmxoff_leaves_vmx_operation),
		T(outside_vmx_operation_is_ud),
		T(cpl_above_0_is_gp),
		T(vmx_is_ud_on_amd),
		T(vmclear_errors),
		T(vmclear_of_current_vmcs_invalidates_it),
		T(vmclear_of_other_vmcs_keeps_current),
		T(vmptrld_errors),
		T(vmptrld_and_vmptrst),
		T(vmread_vmwrite_without_current_vmcs),
		T(unsupported_fields),
		T(read_only_fields_refuse_vmwrite),
		T(internal_api_writes_read_only_fields),
		T(field_widths),
		T(two_vmcss_keep_separate_contents),
		T(launch_state_follows_the_region),
		T(field_constants_match_the_sdm),
		T(supported_fields_are_exactly_the_table),
		T(vmx_basic),
		T(control_msrs),
		T(misc_fixed_enum_ept),
		T(unknown_capability_msrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
