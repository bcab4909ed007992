/*
 * test_hw_vmx_check_guest.c — the checks VM entry makes on the guest-state
 * area (hw/vmx_check_guest.c) against SDM Vol. 3C 27.3.1: a failure is a
 * VM exit with reason 33 and exit qualification 0, 2 (PDPTEs, 27.3.1.6)
 * or 4 (VMCS link pointer), which the checks return plus one. The
 * harness (fixture, VMCS variants, row runner) is tests/unit/support/
 * vmx_check_suite.h, which explains the method.
 */
#include <stdbool.h>

#include "tests/unit/support/vmx_check_suite.h"

/* Controls (SDM Vol. 3C 25.6.2, 25.8.1). */
#define PROC2_UNRESTRICTED (1u << 7)
#define ENTRY_LOAD_PAT	(1u << 14)
#define ENTRY_LOAD_EFER	(1u << 15)

/* RFLAGS (SDM Vol. 1 3.4.3), interruptibility and pending debug
 * exceptions (SDM Vol. 3C 25.4.2, Tables 25-3 and 25-4). */
#define RF_TF		(1ull << 8)
#define STI		1u
#define MOVSS		2u
#define PD_BS		(1ull << 14)

/* Access rights (25.4.1): S 4, P 7, L 13, D/B 14, G 15, unusable 16. */
#define AR_S		0x10u
#define AR_P		0x80u
#define AR_L		(1u << 13)
#define AR_DB		(1u << 14)
#define AR_G		(1u << 15)
#define AR_UNUSABLE	(1u << 16)
#define LDT_AR		0x82u		/* type 2 (LDT), P */

#define MSR_VMX_MISC	0x485

/*
 * The rules, one row each: the VMCS, the edits that break the rule (or,
 * for OK rows, exercise it without breaking it) and the outcome, grouped
 * by SDM subsection.
 */
static const struct vcs_row rows[] = {
	/* 27.3.1.1 guest control registers, debug registers and MSRs. */
	{ "guest_cr0_ne_clear", LONG, { CLR(VMCS_GUEST_CR0, CR0_NE) }, GUEST, Q0, "guest CR0" },
	{ "guest_cr0_pg_clear_restricted", LONG, { CLR(VMCS_GUEST_CR0, CR0_PG) }, GUEST, Q0, "guest CR0" },
	{ "guest_cr0_bit_32", LONG, { OR(VMCS_GUEST_CR0, 1ull << 32) }, GUEST, Q0, "guest CR0" },
	{ "guest_cr0_pg_without_pe", REAL, { OR(VMCS_GUEST_CR0, CR0_PG) }, GUEST, Q0, "CR0.PG is 1 with CR0.PE 0" },
	{ "guest_cr4_vmxe_clear", LONG, { CLR(VMCS_GUEST_CR4, CR4_VMXE) }, GUEST, Q0, "guest CR4" },
	{ "guest_cr4_cet_not_supported", LONG, { OR(VMCS_GUEST_CR4, CR4_CET) }, GUEST, Q0, "guest CR4" },
	{ "ia32e_guest_needs_pg", REAL, { OR(VMCS_ENTRY_CTLS, ENTRY_IA32E), OR(VMCS_GUEST_CR4, CR4_PAE),
	  SET(VMCS_GUEST_IA32_EFER, EFER_LMA | EFER_LME) }, GUEST, Q0, "CR0.PG 0" },
	{ "ia32e_guest_needs_pae", LONG, { CLR(VMCS_GUEST_CR4, CR4_PAE) }, GUEST, Q0, "CR4.PAE 0" },
	{ "pcide_outside_ia32e", REAL, { OR(VMCS_GUEST_CR4, CR4_PCIDE) }, GUEST, Q0, "PCIDE" },
	{ "pcide_in_ia32e", LONG, { OR(VMCS_GUEST_CR4, CR4_PCIDE) }, OK, 0, NULL },
	{ "guest_cr3_beyond_width", LONG, { OR(VMCS_GUEST_CR3, BEYOND_WIDTH) }, GUEST, Q0, "guest CR3" },
	{ "guest_cr3_top_address_bit", LONG, { OR(VMCS_GUEST_CR3, BEYOND_WIDTH >> 1) }, OK, 0, NULL },
	{ "guest_debugctl_reserved", LONG, { SET(VMCS_GUEST_IA32_DEBUGCTL, 1) }, GUEST, Q0, "DEBUGCTL" },
	{ "guest_dr7_high", LONG, { OR(VMCS_GUEST_DR7, 1ull << 32) }, GUEST, Q0, "DR7" },
	{ "guest_dr7_unchecked_without_load", LONG, { CLR(VMCS_ENTRY_CTLS, ENTRY_LOAD_DEBUG),
	  OR(VMCS_GUEST_DR7, 1ull << 32) }, OK, 0, NULL },
	{ "guest_sysenter_esp_noncanonical", LONG, { SET(VMCS_GUEST_IA32_SYSENTER_ESP, NONCANON) }, GUEST, Q0, "SYSENTER_ESP" },
	{ "guest_sysenter_eip_noncanonical", LONG, { SET(VMCS_GUEST_IA32_SYSENTER_EIP, NONCANON) }, GUEST, Q0, "SYSENTER_EIP" },
	{ "guest_pat_type_3", LONG, { SET(VMCS_GUEST_IA32_PAT, 0x0007040600070403) }, GUEST, Q0, "PAT" },
	{ "guest_pat_unchecked_without_load", LONG, { CLR(VMCS_ENTRY_CTLS, ENTRY_LOAD_PAT),
	  SET(VMCS_GUEST_IA32_PAT, 2) }, OK, 0, NULL },
	{ "guest_efer_reserved", LONG, { OR(VMCS_GUEST_IA32_EFER, 1u << 12) }, GUEST, Q0, "reserved" },
	{ "guest_efer_lma_clear", LONG, { CLR(VMCS_GUEST_IA32_EFER, EFER_LMA) }, GUEST, Q0, "LMA" },
	{ "guest_efer_lme_clear", LONG, { CLR(VMCS_GUEST_IA32_EFER, EFER_LME) }, GUEST, Q0, "LME" },
	{ "guest_efer_lma_outside_ia32e", PAE, { OR(VMCS_GUEST_IA32_EFER, EFER_LMA) }, GUEST, Q0, "LMA" },
	{ "guest_efer_lme_free_without_paging", REAL, { OR(VMCS_GUEST_IA32_EFER, EFER_LME) }, OK, 0, NULL },
	{ "guest_efer_unchecked_without_load", LONG, { CLR(VMCS_ENTRY_CTLS, ENTRY_LOAD_EFER),
	  SET(VMCS_GUEST_IA32_EFER, 1u << 12) }, OK, 0, NULL },

	/* 27.3.1.2 segment registers: selectors and bases. */
	{ "tr_selector_ti", LONG, { OR(VMCS_GUEST_TR_SELECTOR, 4) }, GUEST, Q0, "TR selector has TI" },
	{ "ldtr_usable", LONG, { SET(VMCS_GUEST_LDTR_SELECTOR, 0x20), SET(VMCS_GUEST_LDTR_ACCESS_RIGHTS, LDT_AR),
	  SET(VMCS_GUEST_LDTR_LIMIT, 0xfff) }, OK, 0, NULL },
	{ "ldtr_usable_selector_ti", LONG, { SET(VMCS_GUEST_LDTR_SELECTOR, 0x24),
	  SET(VMCS_GUEST_LDTR_ACCESS_RIGHTS, LDT_AR) }, GUEST, Q0, "LDTR selector has TI" },
	{ "ldtr_unusable_selector_free", LONG, { SET(VMCS_GUEST_LDTR_SELECTOR, 0x24) }, OK, 0, NULL },
	{ "ss_rpl_differs_from_cs", LONG, { SET(VMCS_GUEST_SS_SELECTOR, 0x13) }, GUEST, Q0, "RPL differs from CS" },
	{ "ss_rpl_free_unrestricted", REAL, { SET(VMCS_GUEST_SS_SELECTOR, 3) }, OK, 0, NULL },
	{ "ss_rpl_free_v86", V86, { SET(VMCS_GUEST_SS_SELECTOR, 0x2003), SET(VMCS_GUEST_SS_BASE, 0x20030) }, OK, 0, NULL },
	{ "v86_base_not_selector_x16", V86, { SET(VMCS_GUEST_DS_BASE, 0x10) }, GUEST, Q0, "DS base is not selector" },
	{ "v86_limit_not_ffff", V86, { SET(VMCS_GUEST_SS_LIMIT, 0xfffff) }, GUEST, Q0, "SS limit" },
	{ "v86_access_rights_not_f3", V86, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xfb) }, GUEST, Q0, "CS access rights are not 0xf3" },
	{ "tr_base_noncanonical", LONG, { SET(VMCS_GUEST_TR_BASE, NONCANON) }, GUEST, Q0, "TR base" },
	{ "fs_base_noncanonical", LONG, { SET(VMCS_GUEST_FS_BASE, NONCANON) }, GUEST, Q0, "FS base" },
	{ "gs_base_noncanonical", LONG, { SET(VMCS_GUEST_GS_BASE, NONCANON) }, GUEST, Q0, "GS base" },
	{ "gs_base_high_canonical", LONG, { SET(VMCS_GUEST_GS_BASE, HIGH_CANON) }, OK, 0, NULL },
	{ "fs_base_low_canonical_top", LONG, { SET(VMCS_GUEST_FS_BASE, NONCANON - 1) }, OK, 0, NULL },
	{ "ldtr_usable_base_noncanonical", LONG, { SET(VMCS_GUEST_LDTR_SELECTOR, 0x20),
	  SET(VMCS_GUEST_LDTR_ACCESS_RIGHTS, LDT_AR), SET(VMCS_GUEST_LDTR_BASE, NONCANON) }, GUEST, Q0, "LDTR base" },
	{ "ldtr_unusable_base_free", LONG, { SET(VMCS_GUEST_LDTR_BASE, NONCANON) }, OK, 0, NULL },
	{ "cs_base_high", LONG, { SET(VMCS_GUEST_CS_BASE, 1ull << 32) }, GUEST, Q0, "CS base bits 63:32" },
	{ "ss_base_high", LONG, { SET(VMCS_GUEST_SS_BASE, 1ull << 32) }, GUEST, Q0, "SS base bits 63:32" },
	{ "ds_base_high", LONG, { SET(VMCS_GUEST_DS_BASE, 1ull << 32) }, GUEST, Q0, "DS base bits 63:32" },
	{ "es_base_high", LONG, { SET(VMCS_GUEST_ES_BASE, 1ull << 32) }, GUEST, Q0, "ES base bits 63:32" },
	{ "ds_unusable_base_free", LONG, { SET(VMCS_GUEST_DS_ACCESS_RIGHTS, AR_UNUSABLE),
	  SET(VMCS_GUEST_DS_BASE, NONCANON) }, OK, 0, NULL },

	/* 27.3.1.2 CS access rights. */
	{ "cs_type_data_restricted", LONG, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xa093) }, GUEST, Q0, "CS type" },
	{ "cs_type_not_accessed", LONG, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xa09a) }, GUEST, Q0, "CS type" },
	{ "cs_type_3_unrestricted", REAL, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0x93) }, OK, 0, NULL },
	{ "cs_type_3_dpl_3", REAL, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xf3) }, GUEST, Q0, "CS DPL is not 0 with type 3" },
	{ "cs_s_clear", LONG, { CLR(VMCS_GUEST_CS_ACCESS_RIGHTS, AR_S) }, GUEST, Q0, "CS access rights: S is 0" },
	{ "cs_nonconforming_dpl_differs", LONG, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xa0fb) }, GUEST, Q0, "non-conforming" },
	{ "cs_conforming_dpl_above_ss", LONG, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xa0bf) }, GUEST, Q0, "conforming" },
	{ "cs_conforming_dpl_below_ss", USER, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xa09f) }, OK, 0, NULL },
	{ "cs_not_present", LONG, { CLR(VMCS_GUEST_CS_ACCESS_RIGHTS, AR_P) }, GUEST, Q0, "CS access rights: P" },
	{ "cs_reserved_bit_8", LONG, { OR(VMCS_GUEST_CS_ACCESS_RIGHTS, 1u << 8) }, GUEST, Q0, "CS access rights: reserved bits 11:8" },
	{ "cs_g_clear_with_4g_limit", LONG, { CLR(VMCS_GUEST_CS_ACCESS_RIGHTS, AR_G) }, GUEST, Q0, "CS access rights: G" },
	{ "cs_g_set_with_byte_limit", LONG, { SET(VMCS_GUEST_CS_LIMIT, 0xffffe) }, GUEST, Q0, "CS access rights: G" },
	{ "cs_g_clear_with_1m_limit", LONG, { CLR(VMCS_GUEST_CS_ACCESS_RIGHTS, AR_G),
	  SET(VMCS_GUEST_CS_LIMIT, 0xfffff) }, OK, 0, NULL },
	{ "cs_reserved_bit_17", LONG, { OR(VMCS_GUEST_CS_ACCESS_RIGHTS, 1u << 17) }, GUEST, Q0, "CS access rights: reserved bits 31:17" },
	{ "cs_l_and_db_in_ia32e", LONG, { OR(VMCS_GUEST_CS_ACCESS_RIGHTS, AR_DB) }, GUEST, Q0, "L and D/B" },
	{ "cs_l_and_db_outside_ia32e", PAE, { OR(VMCS_GUEST_CS_ACCESS_RIGHTS, AR_L) }, OK, 0, NULL },
	{ "compatibility_mode_cs", LONG, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xc09b) }, OK, 0, NULL },

	/* 27.3.1.2 SS access rights. */
	{ "ss_type_read_only", LONG, { SET(VMCS_GUEST_SS_ACCESS_RIGHTS, 0xc091) }, GUEST, Q0, "SS type" },
	{ "ss_type_expand_down", LONG, { SET(VMCS_GUEST_SS_ACCESS_RIGHTS, 0xc097) }, OK, 0, NULL },
	{ "ss_unusable_type_free", LONG, { SET(VMCS_GUEST_SS_ACCESS_RIGHTS, AR_UNUSABLE | 1) }, OK, 0, NULL },
	{ "ss_dpl_differs_from_rpl", LONG, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xa09f),
	  SET(VMCS_GUEST_SS_ACCESS_RIGHTS, 0xc0f3) }, GUEST, Q0, "SS DPL differs" },
	{ "ss_dpl_not_0_in_real_mode", REAL, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0x9f),
	  SET(VMCS_GUEST_SS_ACCESS_RIGHTS, 0xf3) }, GUEST, Q0, "SS DPL is not 0" },
	{ "ss_dpl_not_0_with_cs_type_3", REAL, { OR(VMCS_GUEST_CR0, CR0_PE), SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0x93),
	  SET(VMCS_GUEST_SS_ACCESS_RIGHTS, 0xf3) }, GUEST, Q0, "SS DPL is not 0" },
	{ "ss_s_clear", LONG, { CLR(VMCS_GUEST_SS_ACCESS_RIGHTS, AR_S) }, GUEST, Q0, "SS access rights: S is 0" },
	{ "ss_not_present", LONG, { CLR(VMCS_GUEST_SS_ACCESS_RIGHTS, AR_P) }, GUEST, Q0, "SS access rights: P" },

	/* 27.3.1.2 DS, ES, FS, GS access rights (when usable). */
	{ "ds_type_not_accessed", LONG, { SET(VMCS_GUEST_DS_ACCESS_RIGHTS, 0xc092) }, GUEST, Q0, "DS type is not accessed" },
	{ "es_execute_only_code", LONG, { SET(VMCS_GUEST_ES_ACCESS_RIGHTS, 0xc099) }, GUEST, Q0, "ES is an execute-only" },
	{ "fs_readable_code", LONG, { SET(VMCS_GUEST_FS_ACCESS_RIGHTS, 0xc09b) }, OK, 0, NULL },
	{ "gs_s_clear", LONG, { CLR(VMCS_GUEST_GS_ACCESS_RIGHTS, AR_S) }, GUEST, Q0, "GS access rights: S is 0" },
	{ "ds_dpl_below_rpl", LONG, { SET(VMCS_GUEST_DS_SELECTOR, 0x13) }, GUEST, Q0, "DS DPL is below" },
	{ "ds_conforming_dpl_below_rpl", LONG, { SET(VMCS_GUEST_DS_SELECTOR, 0x13),
	  SET(VMCS_GUEST_DS_ACCESS_RIGHTS, 0xc09f) }, OK, 0, NULL },
	{ "ds_readable_code_dpl_below_rpl", LONG, { SET(VMCS_GUEST_DS_SELECTOR, 0x13),
	  SET(VMCS_GUEST_DS_ACCESS_RIGHTS, 0xc09b) }, GUEST, Q0, "DS DPL is below" },
	{ "ds_dpl_below_rpl_unrestricted", REAL, { SET(VMCS_GUEST_DS_SELECTOR, 3) }, OK, 0, NULL },
	{ "ds_not_present", LONG, { CLR(VMCS_GUEST_DS_ACCESS_RIGHTS, AR_P) }, GUEST, Q0, "DS access rights: P" },
	{ "es_reserved_bit_11", LONG, { OR(VMCS_GUEST_ES_ACCESS_RIGHTS, 1u << 11) }, GUEST, Q0, "ES access rights: reserved bits 11:8" },
	{ "fs_g_mismatch", LONG, { CLR(VMCS_GUEST_FS_ACCESS_RIGHTS, AR_G) }, GUEST, Q0, "FS access rights: G" },
	{ "gs_reserved_bit_31", LONG, { OR(VMCS_GUEST_GS_ACCESS_RIGHTS, 1u << 31) }, GUEST, Q0, "GS access rights: reserved bits 31:17" },
	{ "ds_unusable_anything", LONG, { SET(VMCS_GUEST_DS_ACCESS_RIGHTS, AR_UNUSABLE | 0xf00),
	  SET(VMCS_GUEST_DS_SELECTOR, 3) }, OK, 0, NULL },

	/* 27.3.1.2 TR and LDTR access rights. */
	{ "tr_type_3_in_ia32e", LONG, { SET(VMCS_GUEST_TR_ACCESS_RIGHTS, 0x83) }, GUEST, Q0, "TR type" },
	{ "tr_type_3_outside_ia32e", REAL, { SET(VMCS_GUEST_TR_ACCESS_RIGHTS, 0x83) }, OK, 0, NULL },
	{ "tr_type_available_tss", LONG, { SET(VMCS_GUEST_TR_ACCESS_RIGHTS, 0x89) }, GUEST, Q0, "TR type" },
	{ "tr_s_set", LONG, { OR(VMCS_GUEST_TR_ACCESS_RIGHTS, AR_S) }, GUEST, Q0, "TR access rights: S is 1" },
	{ "tr_unusable", LONG, { OR(VMCS_GUEST_TR_ACCESS_RIGHTS, AR_UNUSABLE) }, GUEST, Q0, "TR is unusable" },
	{ "tr_not_present", LONG, { CLR(VMCS_GUEST_TR_ACCESS_RIGHTS, AR_P) }, GUEST, Q0, "TR access rights: P" },
	{ "tr_g_with_byte_limit", LONG, { OR(VMCS_GUEST_TR_ACCESS_RIGHTS, AR_G) }, GUEST, Q0, "TR access rights: G" },
	{ "ldtr_type_3", LONG, { SET(VMCS_GUEST_LDTR_ACCESS_RIGHTS, 0x83) }, GUEST, Q0, "LDTR type" },
	{ "ldtr_s_set", LONG, { SET(VMCS_GUEST_LDTR_ACCESS_RIGHTS, LDT_AR | AR_S) }, GUEST, Q0, "LDTR access rights: S is 1" },
	{ "ldtr_not_present", LONG, { SET(VMCS_GUEST_LDTR_ACCESS_RIGHTS, 0x02) }, GUEST, Q0, "LDTR access rights: P" },

	/* 27.3.1.3 descriptor-table registers. */
	{ "gdtr_base_noncanonical", LONG, { SET(VMCS_GUEST_GDTR_BASE, NONCANON) }, GUEST, Q0, "GDTR base" },
	{ "idtr_base_noncanonical", LONG, { SET(VMCS_GUEST_IDTR_BASE, NONCANON) }, GUEST, Q0, "IDTR base" },
	{ "gdtr_limit_above_ffff", LONG, { SET(VMCS_GUEST_GDTR_LIMIT, 0x10000) }, GUEST, Q0, "GDTR limit" },
	{ "idtr_limit_above_ffff", LONG, { SET(VMCS_GUEST_IDTR_LIMIT, 0x1ffff) }, GUEST, Q0, "IDTR limit" },

	/* 27.3.1.4 RIP and RFLAGS. */
	{ "rip_noncanonical_64bit", LONG, { SET(VMCS_GUEST_RIP, NONCANON) }, GUEST, Q0, "RIP is not canonical" },
	{ "rip_high_canonical_64bit", LONG, { SET(VMCS_GUEST_RIP, HIGH_CANON) }, OK, 0, NULL },
	{ "rip_high_compatibility_mode", LONG, { SET(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xc09b),
	  SET(VMCS_GUEST_RIP, 1ull << 32) }, GUEST, Q0, "RIP bits 63:32" },
	{ "rip_high_real_mode", REAL, { SET(VMCS_GUEST_RIP, 1ull << 32) }, GUEST, Q0, "RIP bits 63:32" },
	{ "rflags_bit_1_clear", LONG, { SET(VMCS_GUEST_RFLAGS, 0) }, GUEST, Q0, "RFLAGS reserved" },
	{ "rflags_bit_3", LONG, { OR(VMCS_GUEST_RFLAGS, 1u << 3) }, GUEST, Q0, "RFLAGS reserved" },
	{ "rflags_bit_5", LONG, { OR(VMCS_GUEST_RFLAGS, 1u << 5) }, GUEST, Q0, "RFLAGS reserved" },
	{ "rflags_bit_15", LONG, { OR(VMCS_GUEST_RFLAGS, 1u << 15) }, GUEST, Q0, "RFLAGS reserved" },
	{ "rflags_bit_22", LONG, { OR(VMCS_GUEST_RFLAGS, 1u << 22) }, GUEST, Q0, "RFLAGS reserved" },
	{ "rflags_bit_63", LONG, { OR(VMCS_GUEST_RFLAGS, 1ull << 63) }, GUEST, Q0, "RFLAGS reserved" },
	{ "rflags_id_ac_vip_vif", LONG, { OR(VMCS_GUEST_RFLAGS, 0xfu << 18) }, OK, 0, NULL },
	{ "rflags_vm_in_ia32e", V86_LONG, {{0}}, GUEST, Q0, "RFLAGS.VM" },
	{ "rflags_vm_with_pe_0", V86, { CLR(VMCS_GUEST_CR0, CR0_PE | CR0_PG),
	  OR(VMCS_PROC_BASED_CTLS2, PROC2_UNRESTRICTED) }, GUEST, Q0, "RFLAGS.VM" },
	{ "inject_external_with_if_0", LONG, { SET(VMCS_ENTRY_INTR_INFO, EXT(0x20)) }, GUEST, Q0, "RFLAGS.IF" },
	{ "inject_external_with_if_1", LONG, { SET(VMCS_ENTRY_INTR_INFO, EXT(0x20)),
	  OR(VMCS_GUEST_RFLAGS, RF_IF) }, OK, 0, NULL },

	/* 27.3.1.5 activity state. */
	{ "hlt_at_cpl0", LONG, { SET(VMCS_GUEST_ACTIVITY_STATE, 1) }, OK, 0, NULL },
	{ "hlt_at_cpl3", USER, { SET(VMCS_GUEST_ACTIVITY_STATE, 1) }, GUEST, Q0, "HLT with SS.DPL" },
	{ "hlt_with_sti_blocking", LONG, { SET(VMCS_GUEST_ACTIVITY_STATE, 1), OR(VMCS_GUEST_RFLAGS, RF_IF),
	  SET(VMCS_GUEST_INTERRUPTIBILITY, STI) }, GUEST, Q0, "outside the active state" },
	{ "hlt_with_movss_blocking", LONG, { SET(VMCS_GUEST_ACTIVITY_STATE, 1),
	  SET(VMCS_GUEST_INTERRUPTIBILITY, MOVSS) }, GUEST, Q0, "outside the active state" },
	{ "hlt_inject_gp", LONG, { SET(VMCS_GUEST_ACTIVITY_STATE, 1),
	  SET(VMCS_ENTRY_INTR_INFO, HWX(13) | EC) }, GUEST, Q0, "HLT state" },
	{ "hlt_inject_soft_intr", LONG, { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(VMCS_ENTRY_INTR_INFO, SWI(0x80)),
	  SET(VMCS_ENTRY_INSTRUCTION_LEN, 2) }, GUEST, Q0, "HLT state" },
	{ "hlt_inject_db", LONG, { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(VMCS_ENTRY_INTR_INFO, HWX(1)) }, OK, 0, NULL },
	{ "hlt_inject_mc", LONG, { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(VMCS_ENTRY_INTR_INFO, HWX(18)) }, OK, 0, NULL },
	{ "hlt_inject_nmi", LONG, { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(VMCS_ENTRY_INTR_INFO, NMI) }, OK, 0, NULL },
	{ "hlt_inject_external", LONG, { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(VMCS_ENTRY_INTR_INFO, EXT(0x30)),
	  OR(VMCS_GUEST_RFLAGS, RF_IF) }, OK, 0, NULL },

	/* 27.3.1.5 interruptibility state. */
	{ "interruptibility_bit_4_no_sgx", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, 1u << 4) }, GUEST, Q0, "interruptibility bits" },
	{ "interruptibility_bit_31", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, 1u << 31) }, GUEST, Q0, "interruptibility bits" },
	{ "sti_and_movss", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, STI | MOVSS),
	  OR(VMCS_GUEST_RFLAGS, RF_IF) }, GUEST, Q0, "both STI and MOV SS" },
	{ "sti_with_if_0", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, STI) }, GUEST, Q0, "STI with RFLAGS.IF 0" },
	{ "sti_with_if_1", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, STI), OR(VMCS_GUEST_RFLAGS, RF_IF) }, OK, 0, NULL },
	{ "movss_with_if_0", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, MOVSS) }, OK, 0, NULL },
	{ "inject_external_under_sti", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, STI), OR(VMCS_GUEST_RFLAGS, RF_IF),
	  SET(VMCS_ENTRY_INTR_INFO, EXT(0x20)) }, GUEST, Q0, "external interrupt injected" },
	{ "inject_external_under_movss", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, MOVSS), OR(VMCS_GUEST_RFLAGS, RF_IF),
	  SET(VMCS_ENTRY_INTR_INFO, EXT(0x20)) }, GUEST, Q0, "external interrupt injected" },
	{ "inject_nmi_under_movss", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, MOVSS),
	  SET(VMCS_ENTRY_INTR_INFO, NMI) }, GUEST, Q0, "NMI injected under blocking by MOV SS" },
	{ "inject_nmi_under_sti", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, STI), OR(VMCS_GUEST_RFLAGS, RF_IF),
	  SET(VMCS_ENTRY_INTR_INFO, NMI) }, OK, 0, NULL },
	{ "inject_exception_under_movss", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, MOVSS),
	  SET(VMCS_ENTRY_INTR_INFO, HWX(6)) }, OK, 0, NULL },
	{ "smi_blocking_outside_smm", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, 1u << 2) }, GUEST, Q0, "SMI" },
	{ "nmi_blocking_inject_nmi_virtual_nmis", LONG, { OR(VMCS_PIN_BASED_CTLS, PIN_NMI_EXIT | PIN_VNMI),
	  SET(VMCS_GUEST_INTERRUPTIBILITY, 1u << 3), SET(VMCS_ENTRY_INTR_INFO, NMI) }, GUEST, Q0, "virtual-NMI" },
	{ "nmi_blocking_inject_nmi", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, 1u << 3),
	  SET(VMCS_ENTRY_INTR_INFO, NMI) }, OK, 0, NULL },
	{ "nmi_blocking_virtual_nmis", LONG, { OR(VMCS_PIN_BASED_CTLS, PIN_NMI_EXIT | PIN_VNMI),
	  SET(VMCS_GUEST_INTERRUPTIBILITY, 1u << 3) }, OK, 0, NULL },

	/* 27.3.1.5 pending debug exceptions. */
	{ "pending_dbg_b0_enabled_bp", LONG, { SET(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0x100f) }, OK, 0, NULL },
	{ "pending_dbg_bit_4", LONG, { SET(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1u << 4) }, GUEST, Q0, "pending debug" },
	{ "pending_dbg_bit_13", LONG, { SET(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1u << 13) }, GUEST, Q0, "pending debug" },
	{ "pending_dbg_bit_15", LONG, { SET(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1u << 15) }, GUEST, Q0, "pending debug" },
	{ "pending_dbg_rtm_no_rtm", LONG, { SET(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1u << 16) }, GUEST, Q0, "pending debug" },
	{ "pending_dbg_bit_63", LONG, { SET(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1ull << 63) }, GUEST, Q0, "pending debug" },
	{ "pending_bs_when_not_blocked", LONG, { SET(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PD_BS) }, OK, 0, NULL },
	{ "sti_tf_needs_bs", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, STI),
	  OR(VMCS_GUEST_RFLAGS, RF_IF | RF_TF) }, GUEST, Q0, "BS is 0" },
	{ "sti_tf_with_bs", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, STI), OR(VMCS_GUEST_RFLAGS, RF_IF | RF_TF),
	  SET(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PD_BS) }, OK, 0, NULL },
	{ "sti_bs_without_tf", LONG, { SET(VMCS_GUEST_INTERRUPTIBILITY, STI), OR(VMCS_GUEST_RFLAGS, RF_IF),
	  SET(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PD_BS) }, GUEST, Q0, "BS is 1" },
	{ "hlt_tf_needs_bs", LONG, { SET(VMCS_GUEST_ACTIVITY_STATE, 1), OR(VMCS_GUEST_RFLAGS, RF_TF) }, GUEST, Q0, "BS is 0" },
	{ "movss_tf_btf_with_bs", LONG, { CLR(VMCS_ENTRY_CTLS, ENTRY_LOAD_DEBUG), SET(VMCS_GUEST_IA32_DEBUGCTL, 2),
	  SET(VMCS_GUEST_INTERRUPTIBILITY, MOVSS), OR(VMCS_GUEST_RFLAGS, RF_TF),
	  SET(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PD_BS) }, GUEST, Q0, "BS is 1" },
	{ "movss_tf_btf_without_bs", LONG, { CLR(VMCS_ENTRY_CTLS, ENTRY_LOAD_DEBUG), SET(VMCS_GUEST_IA32_DEBUGCTL, 2),
	  SET(VMCS_GUEST_INTERRUPTIBILITY, MOVSS), OR(VMCS_GUEST_RFLAGS, RF_TF) }, OK, 0, NULL },

	/* 27.3.1.5 VMCS link pointer: exit qualification 4. */
	{ "link_pointer_to_a_vmcs", LONG, { SET(VMCS_LINK_POINTER, VCS_LINK) }, OK, 0, NULL },
	{ "link_pointer_unaligned", LONG, { SET(VMCS_LINK_POINTER, VCS_LINK | 8) }, GUEST, Q_LINK, "link pointer bits 11:0" },
	{ "link_pointer_beyond_width", LONG, { SET(VMCS_LINK_POINTER, BEYOND_WIDTH) }, GUEST, Q_LINK, "link pointer sets bits" },
	{ "link_pointer_bad_revision", LONG, { SET(VMCS_LINK_POINTER, VCS_ZERO) }, GUEST, Q_LINK, "revision" },
	{ "link_pointer_shadow_indicator", LONG, { SET(VMCS_LINK_POINTER, VCS_LINK_SHADOW) }, GUEST, Q_LINK, "revision" },
	{ "link_pointer_outside_arena", LONG, { SET(VMCS_LINK_POINTER, OUTSIDE_ARENA) }, GUEST, Q_LINK, "revision" },
	{ "link_pointer_current_vmcs", LONG, { SET(VMCS_LINK_POINTER, VCS_VMCS) }, GUEST, Q_LINK, "current VMCS" },

	/* 27.3.1.6 PDPTEs of a PAE guest with EPT: exit qualification 2. */
	{ "pdpte_reserved_bit_1", PAE, { SET(VMCS_GUEST_PDPTE2, 0xb003) }, GUEST, Q_PDPTE, "PDPTE" },
	{ "pdpte_reserved_bit_5", PAE, { SET(VMCS_GUEST_PDPTE3, 0xb021) }, GUEST, Q_PDPTE, "PDPTE" },
	{ "pdpte_reserved_bit_8", PAE, { SET(VMCS_GUEST_PDPTE3, 0xb101) }, GUEST, Q_PDPTE, "PDPTE" },
	{ "pdpte_top_address_bit", PAE, { SET(VMCS_GUEST_PDPTE3, 0xb001 | BEYOND_WIDTH >> 1) }, OK, 0, NULL },
	{ "pdpte_xd_reserved", PAE, { SET(VMCS_GUEST_PDPTE0, 0xb001 | 1ull << 63) }, GUEST, Q_PDPTE, "PDPTE" },
	{ "pdpte_beyond_width", PAE, { SET(VMCS_GUEST_PDPTE1, 0xb001 | BEYOND_WIDTH) }, GUEST, Q_PDPTE, "PDPTE" },
	{ "pdpte_pwt_pcd_ignored_bits", PAE, { SET(VMCS_GUEST_PDPTE2, 0xbe19) }, OK, 0, NULL },
	{ "pdpte_not_present_unchecked", PAE, { SET(VMCS_GUEST_PDPTE2, ~1ull) }, OK, 0, NULL },
	{ "pdptes_unchecked_in_ia32e", LONG, { SET(VMCS_GUEST_PDPTE0, ~0ull) }, OK, 0, NULL },
	{ "pdptes_from_memory_cr3_outside_arena", PAE_NOEPT, { SET(VMCS_GUEST_CR3, 0x80000000) }, GUEST, Q_PDPTE, "PDPTE" },
	{ "link_pointer_checked_before_pdptes", PAE, { SET(VMCS_GUEST_PDPTE0, 0xb003),
	  SET(VMCS_LINK_POINTER, 0) }, GUEST, Q_LINK, "link pointer" },
};

/* ------------------------------------------------------------ loops */

/* 27.3.1.5: activity states 0-3 as IA32_VMX_MISC bits 6-8 offer them
 * (active always); anything above 3 is invalid. */
static void activity_states(void **state)
{
	uint64_t misc = 0;
	assert_int_equal(hw_rdmsr(vcs_cpu, MSR_VMX_MISC, &misc), 0);
	vcs_build(LONG);
	for (unsigned a = 0; a < 6; a++) {
		const bool ok = a == 0 || (a <= 3 && (misc & 1u << (5 + a)));
		vcs_wr(VMCS_GUEST_ACTIVITY_STATE, a);
		vcs_expect(ok ? OK : GUEST, ok ? 0 : Q0, ok ? NULL : "activity state");
	}
}

/* 27.3.1.6 without EPT: the PDPTEs come from memory at CR3[31:5], with
 * MOV to CR3's rule (a present entry has no reserved bit). */
static void pdptes_from_memory(void **state)
{
	vcs_build(PAE_NOEPT);
	vcs_expect(OK, 0, NULL);
	vcs_put64(VCS_PDPT + 24, 0x3 | 0xb000);	/* P and reserved bit 1 */
	vcs_expect(GUEST, Q_PDPTE, "PDPTE");
	vcs_put64(VCS_PDPT + 24, 0x2 | 0xb000);	/* not present: not checked */
	vcs_expect(OK, 0, NULL);
	/* CR3 bits 4:0 are ignored: the 32-byte table starts at bit 5. */
	vcs_wr(VMCS_GUEST_CR3, VCS_PDPT | 0x18);
	vcs_expect(OK, 0, NULL);
	vcs_put64(VCS_PDPT + 32, 0x1 | (1ull << 63));
	vcs_wr(VMCS_GUEST_CR3, VCS_PDPT + 32);
	vcs_expect(GUEST, Q_PDPTE, "PDPTE");
}

static const struct vcs_function functions[] = {
	{ "activity_states", activity_states },
	{ "pdptes_from_memory", pdptes_from_memory },
};

int main(void)
{
	return vcs_run("hw_vmx_check_guest", rows, VCS_COUNT(rows), functions,
		       VCS_COUNT(functions));
}
