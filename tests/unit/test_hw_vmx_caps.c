/*
 * test_hw_vmx_caps.c — the VMX capability MSRs (hw/vmx_caps.c) against
 * SDM Vol. 3D Appendix A: each bit of each MSR written out from the
 * manual, so the MSRs state exactly the controls the model implements.
 */
#include "test_hw_vmcs.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(vmx_basic),
		T(control_msrs),
		T(misc_fixed_enum_ept),
		T(unknown_capability_msrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
