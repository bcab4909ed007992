/*
 * test_hw_psc_flush.c — which operations drop paging-structure-cache
 * entries (hw/psc.c, through the TLB's invalidations in hw/tlb.c), run
 * as the processor runs them: INVLPG, MOV to CR3 and INVPCID (SDM Vol. 3A
 * 4.10.4.1), INVVPID and INVEPT (Vol. 3C 29.4.3, 31.3), INVLPGA and
 * TLB_CONTROL at VMRUN (APM Vol. 2 15.16, 3.1.7 EFER.TCE).
 *
 * What every case checks: the entries the manual says go, go — and no
 * paging-structure-cache entry survives for being "global" (4.10.2.4:
 * the G flag is only in entries that map a page, so none is). Entries of
 * address spaces the operation does not name stay: the manuals allow a
 * processor to drop more, the model drops exactly the named ones, like
 * its TLB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/cr.h"
#include "hw/psc.h"
#include "hw/svm.h"
#include "hw/vmcb.h"
#include "hw/vmx.h"
#include "tests/support/hwguest.h"

/* SDM Vol. 3A 2.5, 4.1.1. */
#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PCIDE (1ull << 17)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* INVVPID and INVEPT types (SDM Vol. 3C 31.3). */
#define INVVPID_ADDR		0
#define INVVPID_SINGLE		1
#define INVVPID_ALL		2
#define INVVPID_SINGLE_KEEP_G	3
#define INVEPT_SINGLE		1
#define INVEPT_ALL		2

/* TLB_CONTROL (APM Vol. 2 15.16.1, VMCB offset 0x5c). */
#define TLBC_NOTHING	0x00
#define TLBC_ALL	0x01
#define TLBC_ASID	0x03
#define TLBC_ASID_LOCAL	0x07

#define VMEXIT_HLT	0x78	/* APM Vol. 2 Appendix C */

#define LA_A	0x00007f0000403000ull
#define LA_B	0x0000000000403000ull
#define LA_C	0x0000000001234000ull	/* named by the flushes, cached nowhere */

#define T(ep, vpid, pcid) HW_TLB_TAG(ep, vpid, pcid)

static struct hwg g;

static void create(enum hw_vendor vendor)
{
	struct hw_machine_config mc;
	hw_machine_config_default(&mc, vendor);
	mc.tlb.psc_entries = 16;
	const struct hwg_config cfg = { .vendor = vendor, .ram_size = 4 << 20, .machine = &mc };
	assert_int_equal(hwg_create(&g, &cfg), 0);
}

static int teardown(void **state)
{
	hwg_destroy(&g);
	return 0;
}

static struct hw_psc *psc(void)
{
	return &g.cpu->tlb.psc;
}

/* A PDE-cache entry for @la in address space @tag. */
static void put(uint64_t tag, uint64_t la)
{
	const struct hw_psc_entry e = { .tag = tag, .mode = HW_PAGING_4LEVEL,
					 .nested = HW_NESTED_NONE, .table = 0x5000,
					 .table_hpa = 0x5000, .rights = HW_R_W | HW_R_U };
	hw_psc_fill(psc(), 2, la, &e);
}

static bool has(uint64_t tag, uint64_t la)
{
	unsigned level = 0;
	return hw_psc_lookup(psc(), HW_PAGING_4LEVEL, HW_NESTED_NONE, tag, la, &level) &&
	       level == 2;
}

/* 4-level paging with CR4.PCIDE = @pcide, CR3's PCID @pcid, VPID @vpid:
 * the address space T(0, vpid, pcid) runs. */
static void context(uint16_t vpid, uint16_t pcid, bool pcide)
{
	struct emu_cpu *c = &g.cpu->emu.cpu;
	c->cr0 |= CR0_PE | CR0_PG;
	c->cr4 = (c->cr4 | CR4_PAE) & ~CR4_PCIDE;
	if (pcide)
		c->cr4 |= CR4_PCIDE;
	c->efer |= EFER_LME | EFER_LMA;
	g.cpu->cr3 = 0x1000 | pcid;
	g.cpu->xlat.vpid = vpid;
	hw_xlat_update(g.cpu);
	assert_int_equal(g.cpu->xlat.tag, T(0, vpid, pcid));
}

/* ------------------------------------------------------------ 4.10.4.1 */

static void invlpg_drops_every_entry_of_the_current_pcid(void **state)
{
	create(HW_VENDOR_INTEL);
	context(1, 3, true);
	put(T(0, 1, 3), LA_A);
	put(T(0, 1, 3), LA_B);
	put(T(0, 1, 4), LA_A);
	put(T(0, 2, 3), LA_A);
	/* "regardless of the linear addresses to which they correspond" */
	hw_invlpg(g.cpu, LA_C);
	assert_false(has(T(0, 1, 3), LA_A));
	assert_false(has(T(0, 1, 3), LA_B));
	assert_true(has(T(0, 1, 4), LA_A));
	assert_true(has(T(0, 2, 3), LA_A));
}

static void mov_cr3_drops_the_entries_of_its_pcid(void **state)
{
	create(HW_VENDOR_INTEL);
	/* CR4.PCIDE = 1, bit 63 clear: the PCID in the new CR3 value. */
	context(1, 3, true);
	put(T(0, 1, 3), LA_A);
	put(T(0, 1, 5), LA_A);
	put(T(0, 1, 5), LA_B);
	put(T(0, 2, 5), LA_A);
	assert_int_equal(hw_set_cr3(g.cpu, 0x2000 | 5), EMU_CONTINUE);
	assert_false(has(T(0, 1, 5), LA_A));
	assert_false(has(T(0, 1, 5), LA_B));
	assert_true(has(T(0, 1, 3), LA_A));
	assert_true(has(T(0, 2, 5), LA_A));
	/* CR4.PCIDE = 0: PCID 000H, though global TLB entries stay. */
	context(1, 0, false);
	put(T(0, 1, 0), LA_A);
	put(T(0, 2, 0), LA_A);
	assert_int_equal(hw_set_cr3(g.cpu, 0x3000), EMU_CONTINUE);
	assert_false(has(T(0, 1, 0), LA_A));
	assert_true(has(T(0, 2, 0), LA_A));
}

static void invpcid_types(void **state)
{
	create(HW_VENDOR_INTEL);
	context(1, 3, true);
	for (unsigned type = 0; type <= 3; type++) {
		hw_psc_flush_all(psc());
		put(T(0, 1, 5), LA_A);
		put(T(0, 1, 5), LA_B);
		put(T(0, 1, 3), LA_A);
		put(T(0, 2, 5), LA_A);
		hw_invpcid(g.cpu, type, 5, LA_C);
		/* Type 0 too drops every entry of the PCID, whatever the
		 * address; types 2 and 3 every PCID's. */
		assert_false(has(T(0, 1, 5), LA_A));
		assert_false(has(T(0, 1, 5), LA_B));
		assert_int_equal(has(T(0, 1, 3), LA_A), type < 2);
		assert_true(has(T(0, 2, 5), LA_A));
	}
}

/* ------------------------------------------------------------ VMX */

static void fill_vpids(void)
{
	hw_psc_flush_all(psc());
	put(T(0, 1, 0), LA_A);
	put(T(0, 1, 3), LA_B);
	put(T(0x123000, 1, 0), LA_A);
	put(T(0, 2, 0), LA_A);
	put(T(0, 0, 0), LA_A);
}

static bool vpid1_cached(void)
{
	return has(T(0, 1, 0), LA_A) || has(T(0, 1, 3), LA_B) || has(T(0x123000, 1, 0), LA_A);
}

static void invvpid_types(void **state)
{
	create(HW_VENDOR_INTEL);
	const struct invvpid_desc d = { .vpid = 1, .gla = LA_C };
	/* Every PCID and EP4TA of the VPID, whatever the address. */
	for (unsigned type = INVVPID_ADDR; type <= INVVPID_SINGLE_KEEP_G; type++) {
		fill_vpids();
		assert_int_equal(invvpid(g.cpu, type, &d), VMX_SUCCEED);
		assert_false(vpid1_cached());
		assert_int_equal(has(T(0, 2, 0), LA_A), type != INVVPID_ALL);
		assert_true(has(T(0, 0, 0), LA_A));	/* all-context spares VPID 0 */
	}
}

static void invept_types(void **state)
{
	create(HW_VENDOR_INTEL);
	const struct invept_desc d = { .eptp = 0x123000 | 0x1e };
	for (unsigned type = INVEPT_SINGLE; type <= INVEPT_ALL; type++) {
		hw_psc_flush_all(psc());
		put(T(0x123000, 1, 0), LA_A);
		put(T(0x123000, 2, 7), LA_B);
		put(T(0x456000, 1, 0), LA_A);
		put(T(0, 1, 0), LA_A);
		assert_int_equal(invept(g.cpu, type, &d), VMX_SUCCEED);
		/* Combined entries of the EP4TA: every VPID and PCID. */
		assert_false(has(T(0x123000, 1, 0), LA_A));
		assert_false(has(T(0x123000, 2, 7), LA_B));
		assert_int_equal(has(T(0x456000, 1, 0), LA_A), type == INVEPT_SINGLE);
		/* Made without EPT: not INVEPT's. */
		assert_true(has(T(0, 1, 0), LA_A));
	}
}

/* ------------------------------------------------------------ SVM */

static void invlpga_drops_every_entry_of_the_asid(void **state)
{
	create(HW_VENDOR_AMD);
	put(T(0, 1, 0), LA_A);
	put(T(0, 1, 7), LA_B);
	put(T(0, 2, 0), LA_A);
	/* With EFER.TCE = 0 every upper-level entry goes, related or not. */
	assert_int_equal(invlpga(g.cpu, LA_C, 1), SVM_OK);
	assert_false(has(T(0, 1, 0), LA_A));
	assert_false(has(T(0, 1, 7), LA_B));
	assert_true(has(T(0, 2, 0), LA_A));
}

static void tlb_control_at_vmrun(void **state)
{
	static const uint8_t hlt = 0xf4;
	const uint8_t ctl[] = { TLBC_NOTHING, TLBC_ALL, TLBC_ASID, TLBC_ASID_LOCAL };
	create(HW_VENDOR_AMD);
	hwg_load(&g, 0x10000, &hlt, 1);
	hwg_set_entry(&g, 0x10000, 0x80000);
	for (unsigned i = 0; i < 4; i++) {
		hw_psc_flush_all(psc());
		put(T(0, 1, 0), LA_A);
		put(T(0, 1, 7), LA_B);
		put(T(0, 2, 0), LA_A);
		hwg_vmcb(&g)->control.guest_asid = 1;
		hwg_vmcb(&g)->control.tlb_control = ctl[i];
		int st = -1;
		assert_int_equal(hwg_run(&g, &st), VMEXIT_HLT);
		assert_int_equal(st, SVM_OK);
		/* The guest's ASID goes with every flush, local ones too (no
		 * entry is global); the others only with "flush all". */
		const bool kept = ctl[i] == TLBC_NOTHING;
		assert_int_equal(has(T(0, 1, 0), LA_A), kept);
		assert_int_equal(has(T(0, 1, 7), LA_B), kept);
		assert_int_equal(has(T(0, 2, 0), LA_A), ctl[i] != TLBC_ALL);
	}
}

static void a_full_tlb_flush_drops_them_all(void **state)
{
	create(HW_VENDOR_AMD);
	put(T(0, 1, 0), LA_A);
	put(T(0x123000, 0, 5), LA_B);
	hw_tlb_flush_all(&g.cpu->tlb);
	assert_false(has(T(0, 1, 0), LA_A));
	assert_false(has(T(0x123000, 0, 5), LA_B));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(f) cmocka_unit_test_teardown(f, teardown)
		T_(invlpg_drops_every_entry_of_the_current_pcid),
		T_(mov_cr3_drops_the_entries_of_its_pcid),
		T_(invpcid_types),
		T_(invvpid_types),
		T_(invept_types),
		T_(invlpga_drops_every_entry_of_the_asid),
		T_(tlb_control_at_vmrun),
		T_(a_full_tlb_flush_drops_them_all),
#undef T_
	};
	return cmocka_run_group_tests_name("hw_psc_flush", tests, NULL, NULL);
}
