/*
 * test_hw_vmx_check.c — the VM-entry checks (hw/vmx_check.c,
 * hw/vmx_check_guest.c) against SDM Vol. 3C 27.2 (controls: VM-instruction
 * error 7; host state: error 8) and 27.3.1 (guest state: a failed entry
 * with exit qualification 0, 2 for the PDPTEs or 4 for the VMCS link
 * pointer; the checks return it plus one).
 *
 * Each test starts from a valid VMCS that tests/unit/support/vmcs_builder
 * writes — a 64-bit guest with EPT and VPID, or one of its variants
 * below — changes the fields that break one rule and runs the checks in
 * VM entry's order (controls, host, guest), expecting the first failure
 * at the stage and with the value the SDM gives. The reason string is
 * matched too, so a test cannot pass because some other rule fired.
 * Most tests are rows of a table, each its own named cmocka test; the
 * ones that need loops or memory are functions at the end.
 *
 * Bit values are written from the manual, not taken from hw/vmx.h; the
 * field encodings are hw/vmx.h's (test_hw_vmcs.c checks them against
 * Appendix B).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/vmx.h"
#include "hw/vmx_state.h"
#include "tests/unit/support/vmcs_builder.h"

/* Host-physical layout (a 16 MiB arena). */
#define ARENA		(16ull << 20)
#define VMXON_PA	0x1000ull
#define VMCS_PA		0x2000ull
#define EPT_PA		0x3000ull	/* EPT PML4 (not walked by the checks) */
#define LINK_PA		0x4000ull	/* a VMCS region of this revision */
#define LINK_SHADOW_PA	0x5000ull	/* ... with the shadow indicator set */
#define ZERO_PA		0x6000ull	/* revision 0 */
#define PDPT_PA		0x7000ull	/* PAE guest without EPT: its PDPT */
#define GUEST_CR3	0x8000ull
#define OUTSIDE_ARENA	(1ull << 40)	/* below the width, beyond the arena */
#define BEYOND_WIDTH	(1ull << 46)	/* CPUID 80000008H: 46 address bits */

/* Controls (SDM Vol. 3C 25.6.1, 25.6.2, 25.7.1, 25.8.1). */
#define PIN_NMI_EXIT	(1u << 3)
#define PIN_VNMI	(1u << 5)
#define PROC_NMI_WINDOW	(1u << 22)
#define PROC_IO_BITMAPS	(1u << 25)
#define PROC_MSR_BITMAPS (1u << 28)
#define PROC_SECONDARY	(1u << 31)
#define PROC2_EPT	(1u << 1)
#define EXIT_HOST64	(1u << 9)
#define EXIT_LOAD_PAT	(1u << 19)
#define EXIT_LOAD_EFER	(1u << 21)
#define ENTRY_LOAD_DEBUG (1u << 2)
#define ENTRY_IA32E	(1u << 9)
#define ENTRY_LOAD_PAT	(1u << 14)
#define ENTRY_LOAD_EFER	(1u << 15)

/* Interruption information (25.8.3): vector, type << 8, bit 11, bit 31. */
#define V		(1u << 31)
#define EC		(1u << 11)
#define EXT(vec)	(V | (vec))
#define NMI		(V | 2u << 8 | 2)
#define HWX(vec)	(V | 3u << 8 | (vec))
#define SWI(vec)	(V | 4u << 8 | (vec))

/* Registers (SDM Vol. 3A 2.5, 2.2.1; Vol. 1 3.4.3). */
#define CR0_PE		(1ull << 0)
#define CR0_NE		(1ull << 5)
#define CR0_PG		(1ull << 31)
#define CR4_PAE		(1ull << 5)
#define CR4_VMXE	(1ull << 13)
#define CR4_PCIDE	(1ull << 17)
#define CR4_CET		(1ull << 23)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NXE	(1ull << 11)
#define RF_FIXED	0x2ull
#define RF_TF		(1ull << 8)
#define RF_IF		(1ull << 9)
#define RF_VM		(1ull << 17)
#define STI		1u		/* interruptibility (25.4.2) */
#define MOVSS		2u
#define PD_BS		(1ull << 14)	/* pending debug exceptions */

/* Access rights (25.4.1): S 4, DPL 6:5, P 7, L 13, D/B 14, G 15, unusable 16. */
#define AR_P		0x80u
#define AR_S		0x10u
#define AR_L		(1u << 13)
#define AR_DB		(1u << 14)
#define AR_G		(1u << 15)
#define AR_UNUSABLE	(1u << 16)
#define LDT_AR		0x82u		/* type 2, P */

#define NONCANON	(1ull << 47)
#define HIGH_CANON	0xffff800000000000ull

static struct hw_machine *m;
static struct hw_cpu *cpu;

/* ------------------------------------------------------------ the VMCSs */

enum base {
	LONG,		/* 64-bit guest, EPT, VPID 1 */
	LONG_NOEPT,	/* 64-bit guest, no secondary controls */
	REAL,		/* unrestricted guest in real mode */
	PAE,		/* 32-bit protected mode with PAE paging, EPT */
	PAE_NOEPT,	/* the same without EPT: PDPTEs from memory at CR3 */
	USER,		/* LONG at CPL 3 */
	V86,		/* PAE with RFLAGS.VM and virtual-8086 segments */
	V86_LONG,	/* LONG with those segments and RFLAGS.VM: invalid */
};

static uint64_t rd(uint32_t field)
{
	uint64_t v = 0;
	assert_int_equal(vmread(cpu, field, &v), VMX_SUCCEED);
	return v;
}

static void wr(uint32_t field, uint64_t v)
{
	assert_int_equal(vmwrite(cpu, field, v), VMX_SUCCEED);
}

static void put64(uint64_t pa, uint64_t v)
{
	void *p = hw_hpa_ptr(m, pa, 8);
	assert_non_null(p);
	memcpy(p, &v, 8);
}

/* CS and the five data segments as virtual-8086 mode has them (27.3.1.2):
 * CS 0x1000, the others 0x2000. Each group of fields is in ES CS SS DS
 * FS GS order with a stride of 2 (Appendix B). */
static void v86_segments(void)
{
	for (unsigned i = 0; i < 6; i++) {
		const uint16_t sel = i == 1 ? 0x1000 : 0x2000;
		wr(VMCS_GUEST_ES_SELECTOR + 2 * i, sel);
		wr(VMCS_GUEST_ES_BASE + 2 * i, (uint64_t)sel << 4);
		wr(VMCS_GUEST_ES_LIMIT + 2 * i, 0xffff);
		wr(VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * i, 0xf3);
	}
	wr(VMCS_GUEST_RFLAGS, rd(VMCS_GUEST_RFLAGS) | RF_VM);
}

static void make_pae(void)
{
	wr(VMCS_ENTRY_CTLS, rd(VMCS_ENTRY_CTLS) & ~(uint64_t)ENTRY_IA32E);
	wr(VMCS_GUEST_IA32_EFER, EFER_NXE);
	wr(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xc09b);	/* 32-bit code */
	wr(VMCS_GUEST_PDPTE0, 0x9001);
	wr(VMCS_GUEST_PDPTE1, 0xa001);
}

static void build(enum base base)
{
	struct vmcs_build b = {
		.eptp = EPT_PA, .vpid = 1, .guest_cr3 = GUEST_CR3,
		.guest_rip = 0x1000, .guest_rsp = 0x8000,
		.host_rip = 0x400000, .host_rsp = 0x500000, .host_cr3 = 0x600000,
	};
	if (base == LONG_NOEPT || base == PAE_NOEPT)
		b.eptp = b.vpid = 0;
	if (base == REAL)
		assert_int_equal(vmcs_build_real_mode(cpu, &b), 0);
	else
		assert_int_equal(vmcs_build_long_mode(cpu, &b), 0);

	switch (base) {
	case PAE_NOEPT:
		put64(PDPT_PA, 0x9001);
		put64(PDPT_PA + 8, 0xa001);
		wr(VMCS_GUEST_CR3, PDPT_PA);
		/* fall through */
	case PAE:
		make_pae();
		break;
	case USER:
		wr(VMCS_GUEST_CS_SELECTOR, 0x1b);
		wr(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xa0fb);
		wr(VMCS_GUEST_SS_SELECTOR, 0x23);
		wr(VMCS_GUEST_SS_ACCESS_RIGHTS, 0xc0f3);
		break;
	case V86:
		make_pae();
		v86_segments();
		break;
	case V86_LONG:
		v86_segments();
		break;
	default:
		break;
	}
}

static int setup(void **state)
{
	struct hw_machine_config cfg;
	hw_machine_config_default(&cfg, HW_VENDOR_INTEL);
	cfg.arena_size = ARENA;
	assert_int_equal(hw_machine_create(&cfg, &m), 0);
	assert_int_equal(hw_cpu_create(m, 0, &cpu), 0);
	assert_int_equal(vmcs_build_enter(m, cpu, VMXON_PA, VMCS_PA), 0);
	uint64_t basic = 0;
	assert_int_equal(hw_rdmsr(cpu, 0x480, &basic), 0);
	const uint32_t rev = (uint32_t)basic & 0x7fffffff, shadow = rev | 1u << 31;
	memcpy(hw_hpa_ptr(m, LINK_PA, 4), &rev, 4);
	memcpy(hw_hpa_ptr(m, LINK_SHADOW_PA, 4), &shadow, 4);
	return 0;
}

static int teardown(void **state)
{
	hw_machine_destroy(m);
	m = NULL;
	cpu = NULL;
	return 0;
}

/* ------------------------------------------------------------ running */

enum stage { OK, CTL, HOST, GUEST };

/* VM entry's order: the first failing stage and its value. */
static void expect(enum stage stage, int value, const char *why_part)
{
	const char *why = NULL;
	enum stage got = OK;
	int r = vmx_check_controls(cpu, &why);
	if (r)
		got = CTL;
	else if ((r = vmx_check_host_state(cpu, &why)))
		got = HOST;
	else if ((r = vmx_check_guest_state(cpu, &why)))
		got = GUEST;
	if (got != stage || r != value || (why_part && (!why || !strstr(why, why_part))))
		fail_msg("expected stage %d value %d (\"%s\"), got stage %d value %d (\"%s\")",
			 stage, value, why_part ? why_part : "", got, r, why ? why : "");
}

/* field = (field & ~clear) | set */
struct edit {
	uint32_t field;
	uint64_t clear, set;
};

#define SET(f, v)	{ (f), ~0ull, (v) }
#define OR(f, v)	{ (f), 0, (v) }
#define CLR(f, v)	{ (f), (v), 0 }

struct row {
	const char *name;
	enum base base;
	struct edit e[5];
	enum stage stage;
	int value;		/* 7, 8, or qualification + 1 */
	const char *why;	/* part of the reason string */
};

/* Guest failures: exit qualification + 1. */
#define Q0 1
#define Q_PDPTE 3
#define Q_LINK 5

#include "tests/unit/test_hw_vmx_check_rows.h"

static void run_row(void **state)
{
	const struct row *row = *state;
	build(row->base);
	for (unsigned i = 0; i < 5; i++) {
		const struct edit *e = &row->e[i];
		if (!e->clear && !e->set)
			continue;
		wr(e->field, (rd(e->field) & ~e->clear) | e->set);
	}
	expect(row->stage, row->value, row->why);
}

/* ------------------------------------------------------------ tests with loops */

/* 27.2.1.3: deliver-error-code is 1 exactly for #DF #TS #NP #SS #GP #PF
 * #AC (8, 10-14, 17) injected into a protected-mode guest. */
static void injection_error_code_by_vector(void **state)
{
	build(LONG);
	for (unsigned vec = 0; vec < 32; vec++) {
		const bool has = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;
		wr(VMCS_ENTRY_INTR_INFO, HWX(vec) | EC);
		expect(has ? OK : CTL, has ? 0 : 7, has ? NULL : "error code");
		wr(VMCS_ENTRY_INTR_INFO, HWX(vec));
		expect(has ? CTL : OK, has ? 7 : 0, has ? "error code" : NULL);
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
	build(LONG);
	for (unsigned i = 0; i < 7; i++) {
		const uint64_t good = rd(sel[i]);
		for (unsigned bit = 0; bit < 3; bit++) {
			wr(sel[i], good | 1u << bit);
			expect(HOST, 8, "RPL or TI");
		}
		wr(sel[i], good);
		expect(OK, 0, NULL);
	}
}

/* 27.2.1.1: the EPT memory type is one IA32_VMX_EPT_VPID_CAP offers (bit
 * 8 UC, bit 14 WB); every other value is reserved. */
static void eptp_memory_types(void **state)
{
	uint64_t cap = 0;
	assert_int_equal(hw_rdmsr(cpu, 0x48c, &cap), 0);
	build(LONG);
	const uint64_t eptp = rd(VMCS_EPT_POINTER) & ~7ull;
	for (unsigned t = 0; t < 8; t++) {
		const bool ok = (t == 0 && (cap & 1u << 8)) || (t == 6 && (cap & 1u << 14));
		wr(VMCS_EPT_POINTER, eptp | t);
		expect(ok ? OK : CTL, ok ? 0 : 7, ok ? NULL : "memory type");
	}
}

/* EPTP bit 6 (accessed and dirty flags) only if IA32_VMX_EPT_VPID_CAP[21]. */
static void eptp_accessed_dirty(void **state)
{
	uint64_t cap = 0;
	assert_int_equal(hw_rdmsr(cpu, 0x48c, &cap), 0);
	build(LONG);
	wr(VMCS_EPT_POINTER, rd(VMCS_EPT_POINTER) | 1u << 6);
	if (cap & 1u << 21)
		expect(OK, 0, NULL);
	else
		expect(CTL, 7, "accessed/dirty");
}

/* 27.3.1.5: activity states 0-3 as IA32_VMX_MISC bits 6-8 offer them
 * (active always); anything above 3 is invalid. */
static void activity_states(void **state)
{
	uint64_t misc = 0;
	assert_int_equal(hw_rdmsr(cpu, 0x485, &misc), 0);
	build(LONG);
	for (unsigned a = 0; a < 6; a++) {
		const bool ok = a == 0 || (a <= 3 && (misc & 1u << (5 + a)));
		wr(VMCS_GUEST_ACTIVITY_STATE, a);
		expect(ok ? OK : GUEST, ok ? 0 : Q0, ok ? NULL : "activity state");
	}
}

/* 27.3.1.6 without EPT: the PDPTEs come from memory at CR3[31:5], with
 * MOV to CR3's rule (a present entry has no reserved bit). */
static void pdptes_from_memory(void **state)
{
	build(PAE_NOEPT);
	expect(OK, 0, NULL);
	put64(PDPT_PA + 24, 0x3 | 0xb000);	/* P and reserved bit 1 */
	expect(GUEST, Q_PDPTE, "PDPTE");
	put64(PDPT_PA + 24, 0x2 | 0xb000);	/* not present: not checked */
	expect(OK, 0, NULL);
	/* CR3 bits 4:0 are ignored: the 32-byte table starts at bit 5. */
	wr(VMCS_GUEST_CR3, PDPT_PA | 0x18);
	expect(OK, 0, NULL);
	put64(PDPT_PA + 32, 0x1 | (1ull << 63));
	wr(VMCS_GUEST_CR3, PDPT_PA + 32);
	expect(GUEST, Q_PDPTE, "PDPTE");
}

/* The builder refuses what the capability MSRs do not allow. */
static void builder_refuses_unoffered(void **state)
{
	struct vmcs_build b = { .eptp = EPT_PA, .proc = 1u << 21 };	/* TPR shadow */
	assert_int_equal(vmcs_build_long_mode(cpu, &b), -EINVAL);
	b.proc = 0;
	b.eptp = 0;
	assert_int_equal(vmcs_build_real_mode(cpu, &b), -EINVAL);	/* needs EPT */
}

/* *why may be NULL; the result does not change. */
static void why_may_be_null(void **state)
{
	build(LONG);
	wr(VMCS_VPID, 0);
	assert_int_equal(vmx_check_controls(cpu, NULL), 7);
	build(LONG);
	wr(VMCS_HOST_TR_SELECTOR, 0);
	assert_int_equal(vmx_check_host_state(cpu, NULL), 8);
	build(LONG);
	wr(VMCS_LINK_POINTER, 0);
	assert_int_equal(vmx_check_guest_state(cpu, NULL), Q_LINK);
}

static const struct {
	const char *name;
	CMUnitTestFunction fn;
} functions[] = {
	{ "injection_error_code_by_vector", injection_error_code_by_vector },
	{ "host_selectors_rpl_ti", host_selectors_rpl_ti },
	{ "eptp_memory_types", eptp_memory_types },
	{ "eptp_accessed_dirty", eptp_accessed_dirty },
	{ "activity_states", activity_states },
	{ "pdptes_from_memory", pdptes_from_memory },
	{ "builder_refuses_unoffered", builder_refuses_unoffered },
	{ "why_may_be_null", why_may_be_null },
};

#define NR_ROWS (sizeof(rows) / sizeof(rows[0]))
#define NR_FUNCTIONS (sizeof(functions) / sizeof(functions[0]))

int main(void)
{
	static struct CMUnitTest tests[NR_ROWS + NR_FUNCTIONS];
	for (unsigned i = 0; i < NR_ROWS; i++)
		tests[i] = (struct CMUnitTest){ rows[i].name, run_row, setup, teardown,
						(void *)&rows[i] };
	for (unsigned i = 0; i < NR_FUNCTIONS; i++)
		tests[NR_ROWS + i] = (struct CMUnitTest){ functions[i].name, functions[i].fn,
							  setup, teardown, NULL };
	return _cmocka_run_group_tests("hw_vmx_check", tests, NR_ROWS + NR_FUNCTIONS,
				       NULL, NULL);
}
