/*
 * test_hw_vmx_check.c — the checks VM entry makes on the VMX controls
 * (hw/vmx_check.c) against SDM Vol. 3C 27.2.1, failing with VM-instruction
 * error 7, and on the host-state area, 27.2.2-27.2.4, failing with error
 * 8. The guest-state checks are in test_hw_vmx_check_guest.c; the harness
 * (fixture, VMCS variants, row runner) is tests/unit/support/
 * vmx_check_suite.h, which explains the method.
 */
#include <errno.h>
#include <stdbool.h>

#include "hw/vmx_state.h"
#include "tests/support/vmcs_builder.h"
#include "tests/unit/support/vmx_check_suite.h"

/* Controls (SDM Vol. 3C 25.6.2, 25.7.1, 25.8.1). */
#define PROC_NMI_WINDOW	 (1u << 22)
#define PROC_IO_BITMAPS	 (1u << 25)
#define PROC_MSR_BITMAPS (1u << 28)
#define PROC2_EPT	 (1u << 1)
#define EXIT_HOST64	 (1u << 9)
#define EXIT_LOAD_PAT	 (1u << 19)
#define EXIT_LOAD_EFER	 (1u << 21)

/* Capability MSRs (SDM Vol. 4 Table 2-2). */
#define MSR_VMX_EPT_VPID_CAP	0x48c

/*
 * The rules, one row each: the VMCS, the edits that break the rule (or,
 * for OK rows, exercise it without breaking it) and the outcome, grouped
 * by SDM subsection.
 */
static const struct vcs_row rows[] = {
	/* Valid VMCSs pass all three checks. */
	{ "long_mode_is_valid", LONG, {{0}}, OK, 0, NULL },
	{ "long_mode_without_ept_is_valid", LONG_NOEPT, {{0}}, OK, 0, NULL },
	{ "real_mode_unrestricted_is_valid", REAL, {{0}}, OK, 0, NULL },
	{ "pae_is_valid", PAE, {{0}}, OK, 0, NULL },
	{ "pae_without_ept_is_valid", PAE_NOEPT, {{0}}, OK, 0, NULL },
	{ "cpl3_is_valid", USER, {{0}}, OK, 0, NULL },
	{ "v86_is_valid", V86, {{0}}, OK, 0, NULL },

	/* 27.2.1.1 VM-execution controls (IA32_VMX_BASIC[55] = 1: the
	 * TRUE_* MSRs; default1 bits per A.3). */
	{ "pin_default1_bit_clear", LONG, { CLR(VMCS_PIN_BASED_CTLS, 1u << 1) }, CTL, 7, "pin-based" },
	{ "pin_posted_interrupts_not_offered", LONG, { OR(VMCS_PIN_BASED_CTLS, 1u << 7) }, CTL, 7, "pin-based" },
	{ "proc_default1_bit_clear", LONG, { CLR(VMCS_PROC_BASED_CTLS, 1u << 1) }, CTL, 7, "processor-based" },
	{ "proc_true_msr_lets_cr3_exiting_be_0", LONG, { CLR(VMCS_PROC_BASED_CTLS, 3u << 15) }, OK, 0, NULL },
	{ "proc_tertiary_not_offered", LONG, { OR(VMCS_PROC_BASED_CTLS, 1u << 17) }, CTL, 7, "processor-based" },
	{ "proc_tpr_shadow_not_offered", LONG, { OR(VMCS_PROC_BASED_CTLS, 1u << 21) }, CTL, 7, "processor-based" },
	{ "proc_mtf_not_offered", LONG, { OR(VMCS_PROC_BASED_CTLS, 1u << 27) }, CTL, 7, "processor-based" },
	{ "proc2_vmcs_shadowing_not_offered", LONG, { OR(VMCS_PROC_BASED_CTLS2, 1u << 14) }, CTL, 7, "secondary" },
	{ "proc2_ignored_unless_activated", LONG_NOEPT, { SET(VMCS_PROC_BASED_CTLS2, 0xffffffff) }, OK, 0, NULL },
	{ "cr3_target_count_4", LONG, { SET(VMCS_CR3_TARGET_COUNT, 4) }, OK, 0, NULL },
	{ "cr3_target_count_5", LONG, { SET(VMCS_CR3_TARGET_COUNT, 5) }, CTL, 7, "CR3-target" },
	{ "io_bitmaps_aligned", LONG, { OR(VMCS_PROC_BASED_CTLS, PROC_IO_BITMAPS),
	  SET(VMCS_IO_BITMAP_A, 0x9000), SET(VMCS_IO_BITMAP_B, 0xa000) }, OK, 0, NULL },
	{ "io_bitmap_a_unaligned", LONG, { OR(VMCS_PROC_BASED_CTLS, PROC_IO_BITMAPS),
	  SET(VMCS_IO_BITMAP_A, 0x9800), SET(VMCS_IO_BITMAP_B, 0xa000) }, CTL, 7, "I/O bitmap" },
	{ "io_bitmap_b_beyond_width", LONG, { OR(VMCS_PROC_BASED_CTLS, PROC_IO_BITMAPS),
	  SET(VMCS_IO_BITMAP_A, 0x9000), SET(VMCS_IO_BITMAP_B, BEYOND_WIDTH) }, CTL, 7, "I/O bitmap" },
	{ "io_bitmaps_unchecked_when_unused", LONG, { SET(VMCS_IO_BITMAP_A, 0x9801) }, OK, 0, NULL },
	{ "msr_bitmap_aligned", LONG, { OR(VMCS_PROC_BASED_CTLS, PROC_MSR_BITMAPS),
	  SET(VMCS_MSR_BITMAP, 0xb000) }, OK, 0, NULL },
	{ "msr_bitmap_unaligned", LONG, { OR(VMCS_PROC_BASED_CTLS, PROC_MSR_BITMAPS),
	  SET(VMCS_MSR_BITMAP, 0xb008) }, CTL, 7, "MSR bitmap" },
	{ "msr_bitmap_beyond_width", LONG, { OR(VMCS_PROC_BASED_CTLS, PROC_MSR_BITMAPS),
	  SET(VMCS_MSR_BITMAP, BEYOND_WIDTH | 0xb000) }, CTL, 7, "MSR bitmap" },
	{ "virtual_nmis_need_nmi_exiting", LONG, { OR(VMCS_PIN_BASED_CTLS, PIN_VNMI) }, CTL, 7, "virtual NMIs" },
	{ "virtual_nmis_with_nmi_exiting", LONG, { OR(VMCS_PIN_BASED_CTLS, PIN_VNMI | PIN_NMI_EXIT) }, OK, 0, NULL },
	{ "nmi_window_needs_virtual_nmis", LONG, { OR(VMCS_PIN_BASED_CTLS, PIN_NMI_EXIT),
	  OR(VMCS_PROC_BASED_CTLS, PROC_NMI_WINDOW) }, CTL, 7, "NMI-window" },
	{ "nmi_window_with_virtual_nmis", LONG, { OR(VMCS_PIN_BASED_CTLS, PIN_NMI_EXIT | PIN_VNMI),
	  OR(VMCS_PROC_BASED_CTLS, PROC_NMI_WINDOW) }, OK, 0, NULL },
	{ "vpid_0", LONG, { SET(VMCS_VPID, 0) }, CTL, 7, "VPID" },
	{ "eptp_walk_length_3", LONG, { CLR(VMCS_EPT_POINTER, 7u << 3), OR(VMCS_EPT_POINTER, 2u << 3) }, CTL, 7, "page-walk" },
	{ "eptp_walk_length_5", LONG, { CLR(VMCS_EPT_POINTER, 7u << 3), OR(VMCS_EPT_POINTER, 4u << 3) }, CTL, 7, "page-walk" },
	{ "eptp_reserved_bit_7", LONG, { OR(VMCS_EPT_POINTER, 1u << 7) }, CTL, 7, "11:7" },
	{ "eptp_reserved_bit_11", LONG, { OR(VMCS_EPT_POINTER, 1u << 11) }, CTL, 7, "11:7" },
	{ "eptp_beyond_width", LONG, { OR(VMCS_EPT_POINTER, BEYOND_WIDTH) }, CTL, 7, "width" },
	{ "eptp_unchecked_without_ept", LONG_NOEPT, { SET(VMCS_EPT_POINTER, 0xfff) }, OK, 0, NULL },
	{ "unrestricted_guest_needs_ept", REAL, { CLR(VMCS_PROC_BASED_CTLS2, PROC2_EPT) }, CTL, 7, "unrestricted" },

	/* 27.2.1.2 VM-exit controls; MSR lists are not supported. */
	{ "exit_default1_bit_clear", LONG, { CLR(VMCS_EXIT_CTLS, 1u << 0) }, CTL, 7, "VM-exit controls" },
	{ "exit_true_msr_lets_save_debug_be_0", LONG, { CLR(VMCS_EXIT_CTLS, 1u << 2) }, OK, 0, NULL },
	{ "exit_save_preemption_timer_not_offered", LONG, { OR(VMCS_EXIT_CTLS, 1u << 22) }, CTL, 7, "VM-exit controls" },
	{ "exit_msr_store_count", LONG, { SET(VMCS_EXIT_MSR_STORE_COUNT, 1) }, CTL, 7, "MSR-store" },
	{ "exit_msr_load_count", LONG, { SET(VMCS_EXIT_MSR_LOAD_COUNT, 1) }, CTL, 7, "MSR-load" },

	/* 27.2.1.3 VM-entry controls and event injection. */
	{ "entry_default1_bit_clear", LONG, { CLR(VMCS_ENTRY_CTLS, 1u << 0) }, CTL, 7, "VM-entry controls" },
	{ "entry_true_msr_lets_load_debug_be_0", LONG, { CLR(VMCS_ENTRY_CTLS, ENTRY_LOAD_DEBUG) }, OK, 0, NULL },
	{ "entry_to_smm", LONG, { OR(VMCS_ENTRY_CTLS, 1u << 10) }, CTL, 7, "VM-entry controls" },
	{ "entry_deactivate_dual_monitor", LONG, { OR(VMCS_ENTRY_CTLS, 1u << 11) }, CTL, 7, "VM-entry controls" },
	{ "entry_msr_load_count", LONG, { SET(VMCS_ENTRY_MSR_LOAD_COUNT, 1) }, CTL, 7, "MSR-load" },
	{ "inject_type_1_reserved", LONG, { SET(VMCS_ENTRY_INTR_INFO, V | 1u << 8) }, CTL, 7, "type 1" },
	{ "inject_type_7_without_mtf", LONG, { SET(VMCS_ENTRY_INTR_INFO, V | 7u << 8) }, CTL, 7, "type 7" },
	{ "inject_nmi", LONG, { SET(VMCS_ENTRY_INTR_INFO, NMI) }, OK, 0, NULL },
	{ "inject_nmi_vector_3", LONG, { SET(VMCS_ENTRY_INTR_INFO, V | 2u << 8 | 3) }, CTL, 7, "vector 2" },
	{ "inject_exception_vector_32", LONG, { SET(VMCS_ENTRY_INTR_INFO, HWX(32)) }, CTL, 7, "above 31" },
	{ "inject_external_with_error_code", LONG, { SET(VMCS_ENTRY_INTR_INFO, EXT(0x20) | EC),
	  OR(VMCS_GUEST_RFLAGS, RF_IF) }, CTL, 7, "no error code" },
	{ "inject_soft_intr_13_with_error_code", LONG, { SET(VMCS_ENTRY_INTR_INFO, SWI(13) | EC),
	  SET(VMCS_ENTRY_INSTRUCTION_LEN, 2) }, CTL, 7, "no error code" },
	{ "inject_gp_real_mode_without_code", REAL, { SET(VMCS_ENTRY_INTR_INFO, HWX(13)) }, OK, 0, NULL },
	{ "inject_gp_real_mode_with_code", REAL, { SET(VMCS_ENTRY_INTR_INFO, HWX(13) | EC) }, CTL, 7, "no error code" },
	{ "inject_gp_unrestricted_pe_needs_code", REAL, { SET(VMCS_ENTRY_INTR_INFO, HWX(13)),
	  OR(VMCS_GUEST_CR0, CR0_PE) }, CTL, 7, "needs its error code" },
	{ "inject_reserved_bit_12", LONG, { SET(VMCS_ENTRY_INTR_INFO, HWX(6) | 1u << 12) }, CTL, 7, "30:12" },
	{ "inject_reserved_bit_30", LONG, { SET(VMCS_ENTRY_INTR_INFO, HWX(6) | 1u << 30) }, CTL, 7, "30:12" },
	{ "inject_error_code_0xffff", LONG, { SET(VMCS_ENTRY_INTR_INFO, HWX(13) | EC),
	  SET(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0xffff) }, OK, 0, NULL },
	{ "inject_error_code_bit_16", LONG, { SET(VMCS_ENTRY_INTR_INFO, HWX(13) | EC),
	  SET(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0x10000) }, CTL, 7, "31:16" },
	{ "inject_error_code_unchecked_without_ec", LONG, { SET(VMCS_ENTRY_INTR_INFO, HWX(6)),
	  SET(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0xffff0000) }, OK, 0, NULL },
	{ "inject_soft_intr_length_2", LONG, { SET(VMCS_ENTRY_INTR_INFO, SWI(0x80)),
	  SET(VMCS_ENTRY_INSTRUCTION_LEN, 2) }, OK, 0, NULL },
	{ "inject_soft_intr_length_0", LONG, { SET(VMCS_ENTRY_INTR_INFO, SWI(0x80)) }, CTL, 7, "length" },
	{ "inject_soft_intr_length_16", LONG, { SET(VMCS_ENTRY_INTR_INFO, SWI(0x80)),
	  SET(VMCS_ENTRY_INSTRUCTION_LEN, 16) }, CTL, 7, "length" },
	{ "inject_priv_soft_exception_length_0", LONG, { SET(VMCS_ENTRY_INTR_INFO, V | 5u << 8 | 1) }, CTL, 7, "length" },
	{ "inject_soft_exception_length_0", LONG, { SET(VMCS_ENTRY_INTR_INFO, V | 6u << 8 | 3) }, CTL, 7, "length" },
	{ "inject_soft_exception_length_15", LONG, { SET(VMCS_ENTRY_INTR_INFO, V | 6u << 8 | 3),
	  SET(VMCS_ENTRY_INSTRUCTION_LEN, 15) }, OK, 0, NULL },
	{ "inject_hw_exception_length_0", LONG, { SET(VMCS_ENTRY_INTR_INFO, HWX(6)) }, OK, 0, NULL },
	{ "injection_unchecked_unless_valid", LONG, { SET(VMCS_ENTRY_INTR_INFO, 1u << 8 | 0x7ffff000) }, OK, 0, NULL },

	/* 27.2.2 host control registers and MSRs. */
	{ "host_cr0_pe_clear", LONG, { CLR(VMCS_HOST_CR0, CR0_PE) }, HOST, 8, "host CR0" },
	{ "host_cr0_bit_32", LONG, { OR(VMCS_HOST_CR0, 1ull << 32) }, HOST, 8, "host CR0" },
	{ "host_cr4_vmxe_clear", LONG, { CLR(VMCS_HOST_CR4, CR4_VMXE) }, HOST, 8, "host CR4" },
	{ "host_cr4_cet_not_supported", LONG, { OR(VMCS_HOST_CR4, CR4_CET) }, HOST, 8, "host CR4" },
	{ "host_cr3_beyond_width", LONG, { OR(VMCS_HOST_CR3, BEYOND_WIDTH) }, HOST, 8, "host CR3" },
	{ "host_sysenter_esp_noncanonical", LONG, { SET(VMCS_HOST_IA32_SYSENTER_ESP, NONCANON) }, HOST, 8, "SYSENTER_ESP" },
	{ "host_sysenter_eip_noncanonical", LONG, { SET(VMCS_HOST_IA32_SYSENTER_EIP, NONCANON) }, HOST, 8, "SYSENTER_EIP" },
	{ "host_sysenter_eip_high_canonical", LONG, { SET(VMCS_HOST_IA32_SYSENTER_EIP, HIGH_CANON) }, OK, 0, NULL },
	{ "host_pat_type_2", LONG, { SET(VMCS_HOST_IA32_PAT, 0x0007040600070402) }, HOST, 8, "PAT" },
	{ "host_pat_type_8", LONG, { SET(VMCS_HOST_IA32_PAT, 0x0807040600070406) }, HOST, 8, "PAT" },
	{ "host_pat_unchecked_without_load", LONG, { CLR(VMCS_EXIT_CTLS, EXIT_LOAD_PAT),
	  SET(VMCS_HOST_IA32_PAT, 0x0303030303030303) }, OK, 0, NULL },
	{ "host_efer_svme_reserved_on_intel", LONG, { OR(VMCS_HOST_IA32_EFER, 1u << 12) }, HOST, 8, "reserved" },
	{ "host_efer_bit_9_reserved", LONG, { OR(VMCS_HOST_IA32_EFER, 1u << 9) }, HOST, 8, "reserved" },
	{ "host_efer_lma_clear", LONG, { CLR(VMCS_HOST_IA32_EFER, EFER_LMA) }, HOST, 8, "LMA" },
	{ "host_efer_lme_clear", LONG, { CLR(VMCS_HOST_IA32_EFER, EFER_LME) }, HOST, 8, "LME" },
	{ "host_efer_unchecked_without_load", LONG, { CLR(VMCS_EXIT_CTLS, EXIT_LOAD_EFER),
	  SET(VMCS_HOST_IA32_EFER, 1u << 12) }, OK, 0, NULL },

	/* 27.2.3 host segment and descriptor-table registers. */
	{ "host_cs_null", LONG, { SET(VMCS_HOST_CS_SELECTOR, 0) }, HOST, 8, "CS selector is null" },
	{ "host_tr_null", LONG, { SET(VMCS_HOST_TR_SELECTOR, 0) }, HOST, 8, "TR selector is null" },
	{ "host_data_selectors_null_in_64bit", LONG, { SET(VMCS_HOST_SS_SELECTOR, 0),
	  SET(VMCS_HOST_DS_SELECTOR, 0), SET(VMCS_HOST_ES_SELECTOR, 0), SET(VMCS_HOST_FS_SELECTOR, 0),
	  SET(VMCS_HOST_GS_SELECTOR, 0) }, OK, 0, NULL },
	{ "host_fs_base_noncanonical", LONG, { SET(VMCS_HOST_FS_BASE, NONCANON) }, HOST, 8, "FS base" },
	{ "host_gs_base_noncanonical", LONG, { SET(VMCS_HOST_GS_BASE, NONCANON) }, HOST, 8, "GS base" },
	{ "host_gdtr_base_noncanonical", LONG, { SET(VMCS_HOST_GDTR_BASE, NONCANON) }, HOST, 8, "GDTR base" },
	{ "host_idtr_base_noncanonical", LONG, { SET(VMCS_HOST_IDTR_BASE, NONCANON) }, HOST, 8, "IDTR base" },
	{ "host_tr_base_noncanonical", LONG, { SET(VMCS_HOST_TR_BASE, NONCANON) }, HOST, 8, "TR base" },
	{ "host_bases_high_canonical", LONG, { SET(VMCS_HOST_FS_BASE, HIGH_CANON),
	  SET(VMCS_HOST_GS_BASE, HIGH_CANON), SET(VMCS_HOST_TR_BASE, HIGH_CANON),
	  SET(VMCS_HOST_GDTR_BASE, HIGH_CANON), SET(VMCS_HOST_IDTR_BASE, HIGH_CANON) }, OK, 0, NULL },

	/* 27.2.4 address-space size: the processor is in IA-32e mode. */
	{ "host_address_space_size_0", LONG, { CLR(VMCS_EXIT_CTLS, EXIT_HOST64 | EXIT_LOAD_EFER),
	  CLR(VMCS_ENTRY_CTLS, ENTRY_IA32E) }, HOST, 8, "address-space size" },
	{ "host_cr4_pae_clear", LONG, { CLR(VMCS_HOST_CR4, CR4_PAE) }, HOST, 8, "PAE" },
	{ "host_rip_noncanonical", LONG, { SET(VMCS_HOST_RIP, NONCANON) }, HOST, 8, "host RIP" },
	{ "host_rip_high_canonical", LONG, { SET(VMCS_HOST_RIP, HIGH_CANON) }, OK, 0, NULL },
};

/* ------------------------------------------------------------ loops */

/* 27.2.1.3: deliver-error-code is 1 exactly for #DF #TS #NP #SS #GP #PF
 * #AC (8, 10-14, 17) injected into a protected-mode guest. */
static void injection_error_code_by_vector(void **state)
{
	vcs_build(LONG);
	for (unsigned vec = 0; vec < 32; vec++) {
		const bool has = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;
		vcs_wr(VMCS_ENTRY_INTR_INFO, HWX(vec) | EC);
		vcs_expect(has ? OK : CTL, has ? 0 : 7, has ? NULL : "error code");
		vcs_wr(VMCS_ENTRY_INTR_INFO, HWX(vec));
		vcs_expect(has ? CTL : OK, has ? 7 : 0, has ? "error code" : NULL);
	}
}

/* 27.2.3: RPL (1:0) and TI (2) of every host selector must be 0. */
static void host_selectors_rpl_ti(void **state)
{
	static const uint32_t sel[] = {
		VMCS_HOST_ES_SELECTOR, VMCS_HOST_CS_SELECTOR, VMCS_HOST_SS_SELECTOR,
		VMCS_HOST_DS_SELECTOR, VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR,
		VMCS_HOST_TR_SELECTOR,
	};
	vcs_build(LONG);
	for (unsigned i = 0; i < 7; i++) {
		const uint64_t good = vcs_rd(sel[i]);
		for (unsigned bit = 0; bit < 3; bit++) {
			vcs_wr(sel[i], good | 1u << bit);
			vcs_expect(HOST, 8, "RPL or TI");
		}
		vcs_wr(sel[i], good);
		vcs_expect(OK, 0, NULL);
	}
}

/* 27.2.1.1: the EPT memory type is one IA32_VMX_EPT_VPID_CAP offers (bit
 * 8 UC, bit 14 WB); every other value is reserved. */
static void eptp_memory_types(void **state)
{
	uint64_t cap = 0;
	assert_int_equal(hw_rdmsr(vcs_cpu, MSR_VMX_EPT_VPID_CAP, &cap), 0);
	vcs_build(LONG);
	const uint64_t eptp = vcs_rd(VMCS_EPT_POINTER) & ~7ull;
	for (unsigned t = 0; t < 8; t++) {
		const bool ok = (t == 0 && (cap & 1u << 8)) || (t == 6 && (cap & 1u << 14));
		vcs_wr(VMCS_EPT_POINTER, eptp | t);
		vcs_expect(ok ? OK : CTL, ok ? 0 : 7, ok ? NULL : "memory type");
	}
}

/* EPTP bit 6 (accessed and dirty flags) only if IA32_VMX_EPT_VPID_CAP[21]. */
static void eptp_accessed_dirty(void **state)
{
	uint64_t cap = 0;
	assert_int_equal(hw_rdmsr(vcs_cpu, MSR_VMX_EPT_VPID_CAP, &cap), 0);
	vcs_build(LONG);
	vcs_wr(VMCS_EPT_POINTER, vcs_rd(VMCS_EPT_POINTER) | 1u << 6);
	if (cap & 1u << 21)
		vcs_expect(OK, 0, NULL);
	else
		vcs_expect(CTL, 7, "accessed/dirty");
}

/* The builder refuses what the capability MSRs do not allow. */
static void builder_refuses_unoffered(void **state)
{
	struct vmcs_build b = { .eptp = VCS_EPT, .proc = 1u << 21 };	/* TPR shadow */
	assert_int_equal(vmcs_build_long_mode(vcs_cpu, &b), -EINVAL);
	b.proc = 0;
	b.eptp = 0;
	assert_int_equal(vmcs_build_real_mode(vcs_cpu, &b), -EINVAL);	/* needs EPT */
}

/* *why may be NULL; the result does not change. */
static void why_may_be_null(void **state)
{
	vcs_build(LONG);
	vcs_wr(VMCS_VPID, 0);
	assert_int_equal(vmx_check_controls(vcs_cpu, NULL), 7);
	vcs_build(LONG);
	vcs_wr(VMCS_HOST_TR_SELECTOR, 0);
	assert_int_equal(vmx_check_host_state(vcs_cpu, NULL), 8);
	vcs_build(LONG);
	vcs_wr(VMCS_LINK_POINTER, 0);
	assert_int_equal(vmx_check_guest_state(vcs_cpu, NULL), Q_LINK);
}

static const struct vcs_function functions[] = {
	{ "injection_error_code_by_vector", injection_error_code_by_vector },
	{ "host_selectors_rpl_ti", host_selectors_rpl_ti },
	{ "eptp_memory_types", eptp_memory_types },
	{ "eptp_accessed_dirty", eptp_accessed_dirty },
	{ "builder_refuses_unoffered", builder_refuses_unoffered },
	{ "why_may_be_null", why_may_be_null },
};

int main(void)
{
	return vcs_run("hw_vmx_check", rows, VCS_COUNT(rows), functions, VCS_COUNT(functions));
}
