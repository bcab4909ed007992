/*
 * test_hw_vmcs.c — the VMCS and the VMX instructions that manage it
 * (hw/vmcs.c, hw/vmx_insn.c) against SDM Vol. 3C 31.3 (VMXON ...
 * VMWRITE "Operation"), 31.4 (error numbers) and Vol. 3D Appendix B
 * (field encodings); the capability MSRs are test_hw_vmx_caps.c's.
 * Numbers are written here from the manual, not taken from hw/vmx.h, so
 * a wrong constant there fails a test.
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
#include "test_hw_vmcs.h"

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
