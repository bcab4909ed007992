/*
 * test_hw_svm_exits_tlb.c — ASIDs and TLB_CONTROL, end to end on the
 * model: translations cached for one guest ASID are not used by
 * another, survive VMRUN/#VMEXIT, and are dropped by TLB_CONTROL exactly
 * as APM Vol. 2 15.16 says:
 *
 *   TLB_CONTROL (VMCB 0x05c)   at VMRUN, drops
 *   0x00 DO_NOTHING            nothing
 *   0x01 FLUSH_ALL             every entry, every ASID
 *   0x03 FLUSH_ASID            every entry of this guest's ASID
 *   0x07 FLUSH_ASID_LOCAL      the non-global entries of this guest's ASID
 *
 * The counters make it visible. The guest is one page of code reading
 * one data page: a run with nothing cached misses exactly twice (the
 * code page, the data page), a run with both cached misses never, so
 * each run's miss count says which of the two entries survived.
 * (15.16: ASIDs tag the TLB, VMRUN and #VMEXIT flush nothing by
 * themselves, global entries are global only within their ASID; 15.16.1
 * Table 15-9: the TLB_CONTROL encodings, which VMRUN reads but does not
 * change; Vol. 2 5.5.2: a global page's entry needs G = 1 and CR4.PGE.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/svm.h"
#include "tests/support/hwguest.h"

#define CODE	0x10000ull
#define DATA	0x20000ull
#define STACK	0x80000ull

#define EXIT_HLT 0x78

/* TLB_CONTROL values (15.16.1, Table 15-9). */
#define DO_NOTHING		0x00
#define FLUSH_ALL		0x01
#define FLUSH_ASID		0x03
#define FLUSH_ASID_LOCAL	0x07

#define CR4_PGE (1ull << 7)

static struct hwg g;

static int setup(void **state)
{
	const struct hwg_config cfg = { .vendor = HW_VENDOR_AMD, .ram_size = 4 << 20 };
	if (hwg_create(&g, &cfg))
		return -1;
	static const uint8_t code[] = {
		0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00,	/* mov rax, [0x20000] */
		0xf4,						/* hlt */
	};
	hwg_load(&g, CODE, code, sizeof(code));
	return 0;
}

static int teardown(void **state)
{
	hwg_destroy(&g);
	return 0;
}

/* Run the guest once as @asid with @tlb_control; the TLB misses it had. */
static uint64_t misses(uint32_t asid, uint8_t tlb_control)
{
	struct vmcb *v = hwg_vmcb(&g);
	hwg_set_entry(&g, CODE, STACK);
	v->control.guest_asid = asid;
	v->control.tlb_control = tlb_control;
	const uint64_t before = hw_cpu_counters(g.cpu)->tlb_misses;
	int st = -1;
	assert_int_equal(hwg_run(&g, &st), EXIT_HLT);
	assert_int_equal(st, SVM_OK);
	assert_int_equal(hwg_rip(&g), CODE + 8);
	return hw_cpu_counters(g.cpu)->tlb_misses - before;
}

/* Entries are tagged by ASID and kept across VMRUN and #VMEXIT. */
static void asids_keep_separate_entries(void **state)
{
	assert_int_equal(misses(1, DO_NOTHING), 2);
	assert_int_equal(misses(1, DO_NOTHING), 0);
	assert_int_equal(misses(2, DO_NOTHING), 2);	/* ASID 1's are not used */
	assert_int_equal(misses(1, DO_NOTHING), 0);	/* nor dropped */
	assert_int_equal(misses(2, DO_NOTHING), 0);
	assert_int_equal(misses(3, DO_NOTHING), 2);
}

static void flush_asid_drops_only_that_asid(void **state)
{
	assert_int_equal(misses(1, DO_NOTHING), 2);
	assert_int_equal(misses(2, DO_NOTHING), 2);
	assert_int_equal(misses(1, FLUSH_ASID), 2);
	assert_int_equal(misses(2, DO_NOTHING), 0);	/* ASID 2 untouched */
	assert_int_equal(misses(1, DO_NOTHING), 0);	/* refilled after the flush */
}

static void flush_all_drops_every_asid(void **state)
{
	assert_int_equal(misses(1, DO_NOTHING), 2);
	assert_int_equal(misses(2, DO_NOTHING), 2);
	assert_int_equal(misses(2, FLUSH_ALL), 2);
	assert_int_equal(misses(1, DO_NOTHING), 2);	/* ASID 1's went too */
}

/* TLB_CONTROL is an order for this VMRUN: the processor does not clear
 * it, and a VMCB that keeps FLUSH_ASID flushes on every entry. */
static void tlb_control_applies_at_each_vmrun(void **state)
{
	assert_int_equal(misses(1, FLUSH_ASID), 2);
	assert_int_equal(hwg_vmcb(&g)->control.tlb_control, FLUSH_ASID);
	assert_int_equal(misses(1, FLUSH_ASID), 2);
}

/*
 * The data page made global (PTE.G, guest CR4.PGE): FLUSH_ASID_LOCAL
 * keeps it and drops the code page's entry (1 miss); FLUSH_ASID drops
 * both (2 misses); FLUSH_ASID_LOCAL leaves other ASIDs alone.
 */
static void flush_asid_local_keeps_globals(void **state)
{
	struct vmcb *v = hwg_vmcb(&g);
	assert_int_equal(ptb_update(&g.guest, PTB_64, g.cr3, DATA, 1, PTE_G, 0), 0);
	v->save.cr4 |= CR4_PGE;
	assert_int_equal(misses(1, FLUSH_ALL), 2);
	assert_int_equal(misses(2, DO_NOTHING), 2);
	assert_int_equal(misses(1, FLUSH_ASID_LOCAL), 1);
	assert_int_equal(misses(1, FLUSH_ASID_LOCAL), 1);
	assert_int_equal(misses(1, FLUSH_ASID), 2);
	assert_int_equal(misses(2, DO_NOTHING), 0);
}

/* Without CR4.PGE the G bit means nothing: FLUSH_ASID_LOCAL drops the
 * data page too (Vol. 2 5.5.2: global pages need CR4.PGE). */
static void flush_asid_local_without_pge(void **state)
{
	assert_int_equal(ptb_update(&g.guest, PTB_64, g.cr3, DATA, 1, PTE_G, 0), 0);
	assert_int_equal(hwg_vmcb(&g)->save.cr4 & CR4_PGE, 0);
	assert_int_equal(misses(1, DO_NOTHING), 2);
	assert_int_equal(misses(1, FLUSH_ASID_LOCAL), 2);
}

/* INVLPGA (hw/svm.h) from the host drops one page of one ASID. */
static void invlpga_between_runs(void **state)
{
	assert_int_equal(misses(1, DO_NOTHING), 2);
	assert_int_equal(misses(2, DO_NOTHING), 2);
	assert_int_equal(invlpga(g.cpu, DATA, 1), SVM_OK);
	assert_int_equal(misses(2, DO_NOTHING), 0);
	assert_int_equal(misses(1, DO_NOTHING), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(asids_keep_separate_entries),
		T(flush_asid_drops_only_that_asid),
		T(flush_all_drops_every_asid),
		T(tlb_control_applies_at_each_vmrun),
		T(flush_asid_local_keeps_globals),
		T(flush_asid_local_without_pge),
		T(invlpga_between_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
