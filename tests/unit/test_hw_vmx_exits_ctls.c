/*
 * test_hw_vmx_exits_ctls.c — what the VM-entry and VM-exit controls
 * load and save (SDM Vol. 3C 27.3.2.1 guest EFER/PAT at entry, 28.3.1
 * saving them at exit, 28.5.1 host state after the exit), the secondary
 * controls that change the guest's world (enable VPID, 29.1; enable EPT;
 * unrestricted guest, 27.3.1.1 and 26.6 — a real-mode guest), and the
 * VMfail outcomes of VMLAUNCH/VMRESUME (31.3; errors from Table 31-1).
 *
 * The host's side is read as a hypervisor would read its own processor
 * after the exit: hw_read_cr() and hw_rdmsr().
 */
#include "tests/unit/test_hw_vmx_exits.h"

#define MSR_EFER	0xc0000080u
#define MSR_PAT		0x277u
#define EFER_SCE	(1ull << 0)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NXE	(1ull << 11)
#define PAT_RESET	0x0007040600070406ull	/* SDM Vol. 3A 12.12.4 */

static const uint8_t hlt[] = { 0xf4 };

static uint64_t host_msr(uint32_t msr)
{
	uint64_t v = 0;
	assert_int_equal(hw_rdmsr(g.cpu, msr, &v), 0);
	return v;
}

/* MSR bitmaps with every bit clear: RDMSR/WRMSR of low and high MSRs run
 * in the guest without exiting. */
static void msrs_pass_through(void)
{
	vx_write(VMCS_MSR_BITMAP, vx_host_page(NULL));
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_MSR_BITMAPS, 0);
}

/* ------------------------------------------------------------ IA32_EFER */

static const uint8_t rdmsr_hlt[] = { 0x0f, 0x32, 0xf4 };	/* rdmsr; hlt */

/* "Load IA32_EFER" at entry: the guest reads the field's value. */
static void efer_loaded_at_entry(void **state)
{
	vx_start(false);
	vx_code(rdmsr_hlt, sizeof(rdmsr_hlt));
	msrs_pass_through();
	vx_write(VMCS_GUEST_IA32_EFER, EFER_LMA | EFER_LME);
	vx_set_gpr(RCX, MSR_EFER);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_gpr(RAX), EFER_LMA | EFER_LME);
	assert_int_equal(vx_gpr(RDX), 0);
}

/*
 * Without it (27.3.2.1), only LMA (and, with CR0.PG = 1, LME) are loaded,
 * from "IA-32e mode guest"; the other bits keep the value the processor's
 * one IA32_EFER had in root operation: the host's SCE and NXE.
 */
static void efer_kept_without_load(void **state)
{
	vx_start(false);
	vx_code(rdmsr_hlt, sizeof(rdmsr_hlt));
	msrs_pass_through();
	vx_ctl(VMCS_ENTRY_CTLS, ENTRY_IA32E, ENTRY_LOAD_EFER);
	const uint64_t host = host_msr(MSR_EFER);
	vx_set_gpr(RCX, MSR_EFER);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_gpr(RAX) & (EFER_LMA | EFER_LME), EFER_LMA | EFER_LME);
	assert_int_equal(vx_gpr(RAX), host | EFER_LMA | EFER_LME);
}

static const uint8_t set_sce[] = {
	0xb8, 0x01, 0x05, 0x00, 0x00,	/* mov eax, SCE | LME | LMA */
	0x31, 0xd2,			/* xor edx, edx */
	0x0f, 0x30,			/* wrmsr */
	0xf4,				/* hlt */
};

/* "Save IA32_EFER" writes the guest's EFER to the field at the exit;
 * without it the field keeps what the hypervisor put there (28.3.1). */
static void efer_saved_at_exit(void **state)
{
	for (int save = 1; save >= 0; save--) {
		vx_start(false);
		vx_code(set_sce, sizeof(set_sce));
		msrs_pass_through();
		vx_ctl(VMCS_EXIT_CTLS, save ? EXIT_SAVE_EFER : 0, save ? 0 : EXIT_SAVE_EFER);
		vx_write(VMCS_GUEST_IA32_EFER, EFER_LMA | EFER_LME);
		vx_set_gpr(RCX, MSR_EFER);
		assert_int_equal(vx_run(), R_HLT);
		assert_int_equal(vx_read(VMCS_GUEST_IA32_EFER),
				 save ? EFER_SCE | EFER_LMA | EFER_LME : EFER_LMA | EFER_LME);
		hwg_destroy(&g);
	}
}

/* "Load IA32_EFER" at exit: the host gets the host-state field. */
static void efer_loaded_at_exit(void **state)
{
	vx_start(false);
	vx_code(hlt, sizeof(hlt));
	vx_ctl(VMCS_EXIT_CTLS, EXIT_LOAD_EFER, 0);
	vx_write(VMCS_HOST_IA32_EFER, EFER_NXE | EFER_LMA | EFER_LME);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(host_msr(MSR_EFER), EFER_NXE | EFER_LMA | EFER_LME);
}

/* Without it (28.5.1) LMA and LME follow "host address-space size" (1)
 * and the rest is the guest's EFER as the exit found it (SCE and NXE
 * clear here, the host had them set). */
static void efer_guest_bits_after_exit(void **state)
{
	vx_start(false);
	vx_code(hlt, sizeof(hlt));
	vx_ctl(VMCS_EXIT_CTLS, 0, EXIT_LOAD_EFER);
	vx_write(VMCS_GUEST_IA32_EFER, EFER_LMA | EFER_LME);
	assert_int_equal(vx_run(), R_HLT);
	const uint64_t efer = host_msr(MSR_EFER);
	assert_int_equal(efer & (EFER_LMA | EFER_LME), EFER_LMA | EFER_LME);
	assert_int_equal(efer, EFER_LMA | EFER_LME);
}

/* ------------------------------------------------------------ IA32_PAT */

static const uint8_t pat_code[] = {
	0x0f, 0x32,			/* rdmsr */
	0x41, 0x89, 0xc0,		/* mov r8d, eax */
	0x41, 0x89, 0xd1,		/* mov r9d, edx */
	0xb8, 0x04, 0x04, 0x04, 0x04,	/* mov eax, 0x04040404 */
	0xba, 0x04, 0x04, 0x04, 0x04,	/* mov edx, 0x04040404 */
	0x0f, 0x30,			/* wrmsr */
	0xf4,				/* hlt */
};

#define GUEST_PAT	0x0606060606060606ull	/* all WB */
#define WRITTEN_PAT	0x0404040404040404ull	/* all WT */
#define HOST_PAT	0x0007010600070106ull	/* UC UC- WC WB ... */

static uint64_t pat_run(uint32_t entry_set, uint32_t exit_set)
{
	vx_start(false);
	vx_code(pat_code, sizeof(pat_code));
	msrs_pass_through();
	vx_ctl(VMCS_ENTRY_CTLS, entry_set, ENTRY_LOAD_PAT & ~entry_set);
	vx_ctl(VMCS_EXIT_CTLS, exit_set, (EXIT_SAVE_PAT | EXIT_LOAD_PAT) & ~exit_set);
	vx_write(VMCS_GUEST_IA32_PAT, GUEST_PAT);
	vx_write(VMCS_HOST_IA32_PAT, HOST_PAT);
	vx_set_gpr(RCX, MSR_PAT);
	assert_int_equal(vx_run(), R_HLT);
	return (hw_cpu_gprs(g.cpu)[9] << 32) | (uint32_t)hw_cpu_gprs(g.cpu)[8];
}

/* Entry "load IA32_PAT": the guest reads the field; exit "save" puts its
 * write in the field; exit "load" gives the host the host field. */
static void pat_load_save_load(void **state)
{
	assert_int_equal(pat_run(ENTRY_LOAD_PAT, EXIT_SAVE_PAT | EXIT_LOAD_PAT), GUEST_PAT);
	assert_int_equal(vx_read(VMCS_GUEST_IA32_PAT), WRITTEN_PAT);
	assert_int_equal(host_msr(MSR_PAT), HOST_PAT);
}

/* None of them: one IA32_PAT, shared. The guest reads the power-on value
 * the host had, its write stays for the host, the field is untouched. */
static void pat_shared_without_controls(void **state)
{
	assert_int_equal(pat_run(0, 0), PAT_RESET);
	assert_int_equal(vx_read(VMCS_GUEST_IA32_PAT), GUEST_PAT);
	assert_int_equal(host_msr(MSR_PAT), WRITTEN_PAT);
}

/* ------------------------------------------------------------ host state */

/* 28.5.1: CR0, CR3, CR4 come from the host-state area; with "host
 * address-space size" 1 and no EFER load, EFER.LMA = LME = 1. */
static void host_registers_loaded(void **state)
{
	vx_start(false);
	vx_code(hlt, sizeof(hlt));
	vx_ctl(VMCS_EXIT_CTLS, EXIT_HOST_64, EXIT_LOAD_EFER);
	const uint64_t cr0 = vx_read(VMCS_HOST_CR0) | (1ull << 3);	/* + TS */
	const uint64_t cr4 = vx_read(VMCS_HOST_CR4) & ~(1ull << 7);	/* - PGE */
	vx_write(VMCS_HOST_CR0, cr0);
	vx_write(VMCS_HOST_CR3, 0x5000);
	vx_write(VMCS_HOST_CR4, cr4);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(hw_read_cr(g.cpu, 0), cr0);
	assert_int_equal(hw_read_cr(g.cpu, 3), 0x5000);
	assert_int_equal(hw_read_cr(g.cpu, 4), cr4);
	assert_int_equal(host_msr(MSR_EFER) & (EFER_LMA | EFER_LME), EFER_LMA | EFER_LME);
}

/* 27.2.4: VMLAUNCH in IA-32e mode with "host address-space size" 0 fails
 * with VMfailValid(8), invalid host-state field; nothing runs. */
static void host_size_zero_fails(void **state)
{
	vx_start(false);
	vx_code(hlt, sizeof(hlt));
	vx_ctl(VMCS_EXIT_CTLS, 0, EXIT_HOST_64 | EXIT_LOAD_EFER);
	assert_int_equal(vmlaunch(g.cpu), VMX_FAIL_VALID);
	assert_int_equal(vx_read(VMCS_VM_INSTRUCTION_ERROR), 8);
	assert_int_equal(vx_cnt()->entries, 0);
}

/* 27.3.1.1: with "load IA32_EFER", EFER.LMA must equal "IA-32e mode
 * guest": a 64-bit guest state with the control 0 fails VM entry with
 * exit reason 33 and bit 31, qualification 0 (27.8). */
static void ia32e_mode_guest_mismatch(void **state)
{
	vx_start(false);
	vx_code(hlt, sizeof(hlt));
	vx_ctl(VMCS_ENTRY_CTLS, ENTRY_LOAD_EFER, ENTRY_IA32E);
	assert_int_equal(vx_run(), R_ENTRY_FAIL | R_BAD_GUEST);
	assert_int_equal(vx_qual(), 0);
	assert_int_equal(vx_cnt()->entries, 0);
	assert_int_equal(vx_cnt()->insns, 0);
}

/* ------------------------------------------------------------ VPID */

static const uint8_t touch[] = {
	0x48, 0x8b, 0x03,	/* mov rax, [rbx] */
	0xf4,			/* hlt */
};

/* Run touch from CODE again; the TLB misses it took. */
static uint64_t touch_misses(void)
{
	const uint64_t before = vx_cnt()->tlb_misses;
	hwg_set_rip(&g, CODE);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_gpr(RAX), 0x77);
	return vx_cnt()->tlb_misses - before;
}

/*
 * 29.1: with VPIDs, translations are tagged with the VPID and survive
 * entries and exits; a guest under another VPID does not see them. The
 * guest touches two pages (its code and DATA), so a cold TLB takes two
 * misses (one walk each) and a warm one none. Without VPIDs (VPID 0),
 * every entry and exit drops them (29.4.3.1).
 */
static void vpid_tags_tlb(void **state)
{
	vx_start(false);
	vx_code(touch, sizeof(touch));
	vx_put64(DATA, 0x77);
	vx_set_gpr(RBX, DATA);
	vx_write(VMCS_VPID, 1);
	assert_int_equal(touch_misses(), 2);	/* cold */
	assert_int_equal(touch_misses(), 0);	/* VPID 1 kept them */
	vx_write(VMCS_VPID, 2);
	assert_int_equal(touch_misses(), 2);	/* VPID 2 has none */
	assert_int_equal(touch_misses(), 0);
	vx_write(VMCS_VPID, 1);
	assert_int_equal(touch_misses(), 0);	/* VPID 1's survived VPID 2 */
	vx_ctl(VMCS_PROC_BASED_CTLS2, 0, PROC2_VPID);
	assert_int_equal(touch_misses(), 2);	/* VPID 0: flushed at entry */
	assert_int_equal(touch_misses(), 2);	/* ... and at every exit */
}

/* ------------------------------------------------------------ EPT */

/* "Enable EPT" on and off: the same guest runs to the same result; only
 * with EPT do its walks reference EPT tables. */
static void ept_on_and_off(void **state)
{
	for (int ept = 0; ept < 2; ept++) {
		vx_start(ept);
		vx_code(touch, sizeof(touch));
		vx_put64(DATA, 0x77);
		vx_set_gpr(RBX, DATA);
		assert_int_equal(!!(vx_read(VMCS_PROC_BASED_CTLS2) & PROC2_EPT), ept);
		assert_int_equal(vx_run(), R_HLT);
		assert_int_equal(vx_gpr(RAX), 0x77);
		assert_int_equal(vx_rip(), CODE + 3);
		if (ept)
			assert_true(vx_cnt()->walk_refs_2d > 0);
		else
			assert_int_equal(vx_cnt()->walk_refs_2d, 0);
		hwg_destroy(&g);
	}
}

/* ------------------------------------------------------------ unrestricted guest */

static const uint8_t real_code[] = {
	0xb8, 0x34, 0x12,	/* mov ax, 0x1234   (16-bit code) */
	0x01, 0xc0,		/* add ax, ax */
	0xf4,			/* hlt              (IP 5) */
};

/*
 * A real-mode guest (CR0.PE = PG = 0) at CS = 0x1000, IP 0, i.e. linear
 * CODE: real-mode segments (base = selector * 16, limit 0xffff), a busy
 * TSS, EFER 0, "IA-32e mode guest" 0. CR0.NE and CR4.VMXE stay set, as
 * the fixed bits demand (A.7, A.8).
 */
static void real_mode_state(void)
{
	vx_code(real_code, sizeof(real_code));
	vx_write(VMCS_GUEST_CR0, (1ull << 5) | (1ull << 4));	/* NE ET */
	vx_write(VMCS_GUEST_CR4, 1ull << 13);			/* VMXE */
	vx_write(VMCS_GUEST_IA32_EFER, 0);
	vx_ctl(VMCS_ENTRY_CTLS, ENTRY_LOAD_EFER, ENTRY_IA32E);
	for (unsigned i = 0; i < 6; i++) {
		const bool cs = i == 1;
		vx_write(VMCS_GUEST_ES_SELECTOR + 2 * i, cs ? CODE >> 4 : 0);
		vx_write(VMCS_GUEST_ES_BASE + 2 * i, cs ? CODE : 0);
		vx_write(VMCS_GUEST_ES_LIMIT + 2 * i, 0xffff);
		vx_write(VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * i, cs ? 0x9b : 0x93);
	}
	vx_write(VMCS_GUEST_TR_ACCESS_RIGHTS, 0x8b);
	vx_write(VMCS_GUEST_GDTR_BASE, 0);
	vx_write(VMCS_GUEST_IDTR_BASE, 0);
	vx_write(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
	vx_write(VMCS_GUEST_RIP, 0);
	vx_write(VMCS_GUEST_RSP, 0x8000);
	vx_set_gpr(RAX, 0);
}

static void unrestricted_real_mode(void **state)
{
	vx_start(true);
	vx_ctl(VMCS_PROC_BASED_CTLS2, PROC2_UG, 0);
	real_mode_state();
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), 5);
	assert_int_equal(vx_len(), 1);
	assert_int_equal(vx_gpr(RAX), 0x2468);
	assert_int_equal(vx_cnt()->insns, 2);
	/* The exit stores EFER.LMA (0) in "IA-32e mode guest" (VMX_MISC[5]). */
	assert_int_equal(vx_read(VMCS_ENTRY_CTLS) & ENTRY_IA32E, 0);
}

/* Without it, CR0.PE = 0 breaks the CR0 fixed bits: VM entry fails with
 * reason 33 and bit 31 (27.3.1.1, 27.8), nothing runs. */
static void restricted_real_mode_fails(void **state)
{
	vx_start(true);
	vx_ctl(VMCS_PROC_BASED_CTLS2, 0, PROC2_UG);
	real_mode_state();
	assert_int_equal(vx_run(), R_ENTRY_FAIL | R_BAD_GUEST);
	assert_int_equal(vx_qual(), 0);
	assert_int_equal(vx_cnt()->insns, 0);
	assert_int_equal(vx_gpr(RAX), 0);
}

/* ------------------------------------------------------------ VMfail */

/* VM-instruction errors (SDM Vol. 3C 31.4, Table 31-1). */
#define ERR_VMLAUNCH_NONCLEAR	4
#define ERR_VMRESUME_NONLAUNCHED 5

static void vmresume_not_launched(void **state)
{
	vx_start(false);
	vx_code(hlt, sizeof(hlt));
	assert_int_equal(vmresume(g.cpu), VMX_FAIL_VALID);
	assert_int_equal(vx_read(VMCS_VM_INSTRUCTION_ERROR), ERR_VMRESUME_NONLAUNCHED);
	assert_int_equal(vx_cnt()->entries, 0);
}

static void vmlaunch_launched(void **state)
{
	vx_start(false);
	vx_code(hlt, sizeof(hlt));
	assert_int_equal(vmlaunch(g.cpu), VMX_SUCCEED);
	assert_int_equal(vx_read(VMCS_EXIT_REASON), R_HLT);
	assert_int_equal(vmlaunch(g.cpu), VMX_FAIL_VALID);
	assert_int_equal(vx_read(VMCS_VM_INSTRUCTION_ERROR), ERR_VMLAUNCH_NONCLEAR);
	assert_int_equal(vx_cnt()->entries, 1);
	/* VMRESUME is the right one now. */
	assert_int_equal(vmresume(g.cpu), VMX_SUCCEED);
	assert_int_equal(vx_cnt()->entries, 2);
}

/* No current VMCS: VMfailInvalid (nowhere to put an error number). */
static void no_current_vmcs(void **state)
{
	vx_start(false);
	vx_code(hlt, sizeof(hlt));
	assert_int_equal(vmclear(g.cpu, g.ctl), VMX_SUCCEED);
	assert_int_equal(vmlaunch(g.cpu), VMX_FAIL_INVALID);
	assert_int_equal(vmresume(g.cpu), VMX_FAIL_INVALID);
	assert_int_equal(vx_cnt()->entries, 0);
	/* VMCLEAR left it clear: loaded again, VMLAUNCH works. */
	assert_int_equal(vmptrld(g.cpu, g.ctl), VMX_SUCCEED);
	assert_int_equal(vmlaunch(g.cpu), VMX_SUCCEED);
	assert_int_equal(vx_read(VMCS_EXIT_REASON), R_HLT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(efer_loaded_at_entry, vx_teardown),
		cmocka_unit_test_teardown(efer_kept_without_load, vx_teardown),
		cmocka_unit_test_teardown(efer_saved_at_exit, vx_teardown),
		cmocka_unit_test_teardown(efer_loaded_at_exit, vx_teardown),
		cmocka_unit_test_teardown(efer_guest_bits_after_exit, vx_teardown),
		cmocka_unit_test_teardown(pat_load_save_load, vx_teardown),
		cmocka_unit_test_teardown(pat_shared_without_controls, vx_teardown),
		cmocka_unit_test_teardown(host_registers_loaded, vx_teardown),
		cmocka_unit_test_teardown(host_size_zero_fails, vx_teardown),
		cmocka_unit_test_teardown(ia32e_mode_guest_mismatch, vx_teardown),
		cmocka_unit_test_teardown(vpid_tags_tlb, vx_teardown),
		cmocka_unit_test_teardown(ept_on_and_off, vx_teardown),
		cmocka_unit_test_teardown(unrestricted_real_mode, vx_teardown),
		cmocka_unit_test_teardown(restricted_real_mode_fails, vx_teardown),
		cmocka_unit_test_teardown(vmresume_not_launched, vx_teardown),
		cmocka_unit_test_teardown(vmlaunch_launched, vx_teardown),
		cmocka_unit_test_teardown(no_current_vmcs, vx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
