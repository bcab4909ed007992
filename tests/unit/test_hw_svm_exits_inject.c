/*
 * test_hw_svm_exits_inject.c — what VMRUN does before the guest's first
 * instruction: inject EVENTINJ (an external interrupt, an NMI, an
 * exception with its error code, a software interrupt), report a nested
 * page fault hit while delivering it in EXITINTINFO, and refuse illegal
 * guest state with VMEXIT_INVALID, leaving the host as it was.
 *
 * Truth is the APM's, as literals: Vol. 2 15.20 (EVENTINJ: bits 7:0
 * vector, 10:8 type - 0 INTR, 2 NMI, 3 exception, 4 software interrupt -
 * 11 EV, 31 V, 63:32 error code; the injected event is delivered through
 * the guest IDT before the first instruction, whatever the guest's IF
 * and without intercept checks; EVENTINJ carries no address, so an
 * injected #PF leaves CR2 as the VMCB set it; the event is consumed:
 * V is clear after the #VMEXIT, as KVM's nested SVM, which mirrors the
 * hardware, notes - "event_inj is cleared on #VMEXIT"), 15.7.2
 * (EXITINTINFO, same layout: the event whose delivery an intercept
 * interrupted), 15.25.6 (nested page fault, VMEXIT_NPF 0x400: EXITINFO1
 * is a #PF-style error code - bit 0 P, 1 RW, 2 US (nested accesses are
 * user accesses), 4 ID - plus bit 32 when translating the guest's final
 * physical address and bit 33 when translating a guest page-table
 * access; EXITINFO2 the faulting guest-physical address), 15.5.1
 * (consistency checks: VMEXIT_INVALID = -1, the host's state back).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/msr.h"
#include "hw/svm.h"
#include "tests/support/hwguest.h"
#define SVM_EXITS_OWN_SETUP
#include "test_hw_svm_exits.h"

#define CODE	0x10000ull
#define HANDLER	0x18000ull
#define STACK	0x80000ull

#define EXIT_HLT	0x78
#define EXIT_EXCP(v)	(0x40 + (v))
#define EXIT_NPF	0x400ull
#define EXIT_INVALID	(~0ull)

/* EVENTINJ / EXITINTINFO (15.20). */
#define EV_V		(1ull << 31)
#define EV_EV		(1ull << 11)
#define EV_TYPE(t)	((uint64_t)(t) << 8)
#define EV_ERR(e)	((uint64_t)(e) << 32)
enum { T_INTR = 0, T_NMI = 2, T_EXC = 3, T_SOFT = 4 };

/* NPF EXITINFO1 (15.25.6). */
#define NPF_P		(1ull << 0)
#define NPF_RW		(1ull << 1)
#define NPF_US		(1ull << 2)
#define NPF_FINAL	(1ull << 32)
#define NPF_PAGING	(1ull << 33)

#define SEL_CODE 0x08
#define RFLAGS_IF (1ull << 9)

enum { BP = 3, GP = 13, PF = 14 };

static int create(bool tdp)
{
	const struct hwg_config cfg = { .vendor = HW_VENDOR_AMD, .tdp = tdp,
					.ram_size = 4 << 20 };
	return hwg_create(&g, &cfg) ? -1 : 0;
}

static int setup(void **state) { return create(false); }
static int setup_npt(void **state) { return create(true); }

/* The guest: HLT at CODE; a HLT handler behind the gate for @vec. */
static void prepare(unsigned vec)
{
	static const uint8_t hlt = 0xf4;
	const uint64_t idt = vmcb()->save.idtr.base;
	const uint64_t lo = (HANDLER & 0xffff) | ((uint64_t)SEL_CODE << 16) |
			    (0x8eull << 40) | (((HANDLER >> 16) & 0xffff) << 48);
	const uint64_t hi = HANDLER >> 32;
	hwg_load(&g, CODE, &hlt, 1);
	hwg_load(&g, HANDLER, &hlt, 1);
	hwg_load(&g, idt + vec * 16, &lo, 8);
	hwg_load(&g, idt + vec * 16 + 8, &hi, 8);
	hwg_set_entry(&g, CODE, STACK);
}

static uint64_t stack_word(unsigned i)
{
	const uint64_t *p = hwg_ptr(&g, hwg_gpr(&g, 4) + 8 * i, 8);
	assert_non_null(p);
	return *p;
}

/* The handler ran before any guest instruction, with [error code,] RIP,
 * CS on the stack; EVENTINJ.V is clear after the exit and nothing was
 * being delivered at it. */
static void assert_injected(uint64_t ret, bool has_err, uint32_t err)
{
	const uint64_t insns = hw_cpu_counters(g.cpu)->insns;
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), HANDLER);
	assert_int_equal(hw_cpu_counters(g.cpu)->insns - insns, 0);
	const unsigned e = has_err ? 1 : 0;
	assert_int_equal(hwg_gpr(&g, 4), STACK - 8 * (5 + e));
	if (has_err)
		assert_int_equal(stack_word(0), err);
	assert_int_equal(stack_word(e), ret);
	assert_int_equal(stack_word(e + 1), SEL_CODE);
	assert_int_equal(vmcb()->control.eventinj & EV_V, 0);
	assert_int_equal(vmcb()->control.exitintinfo, 0);
}

/* ------------------------------------------------------------ EVENTINJ */

/* An external interrupt is injected even with the guest's IF = 0. */
static void inject_intr(void **state)
{
	prepare(0x30);
	vmcb()->save.rflags = 0x2;
	vmcb()->control.eventinj = EV_V | EV_TYPE(T_INTR) | 0x30;
	assert_injected(CODE, false, 0);
	assert_int_equal(stack_word(2) & RFLAGS_IF, 0);

	/* Once only: the next VMRUN injects nothing (the HLT exits). */
	hwg_set_entry(&g, CODE, STACK);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE);
}

static void inject_nmi(void **state)
{
	prepare(2);
	vmcb()->control.eventinj = EV_V | EV_TYPE(T_NMI) | 2;
	assert_injected(CODE, false, 0);
}

/* An exception with EV pushes the error code; the #GP intercept is not
 * consulted for an injected #GP. */
static void inject_exception_with_error_code(void **state)
{
	prepare(GP);
	vmcb()->control.intercept_exceptions = 1u << GP;
	vmcb()->control.eventinj = EV_V | EV_EV | EV_TYPE(T_EXC) | GP | EV_ERR(0x1234);
	assert_injected(CODE, true, 0x1234);
}

/* An injected #PF leaves CR2 as the hypervisor set it. */
static void inject_pf_leaves_cr2(void **state)
{
	prepare(PF);
	vmcb()->save.cr2 = 0xabc000;
	vmcb()->control.eventinj = EV_V | EV_EV | EV_TYPE(T_EXC) | PF | EV_ERR(0x2);
	assert_injected(CODE, true, 0x2);
	assert_int_equal(vmcb()->save.cr2, 0xabc000);
}

/*
 * A software interrupt (type 4), and INT3 injected as exception 3: the
 * return address pushed is the VMCB's NextRIP, not its RIP - the
 * hypervisor injects "the INT n at RIP" and says where it ends. 15.20:
 * "Software interrupts cannot be properly injected if the processor does
 * not support the NextRIP field" (the model reports NRIPS, CPUID
 * 8000_000A EDX[3]), and type 3 with vector 3 or 4 "behaves like a trap
 * raised by INT3 and INTO". AMD confirmed the NextRIP return address to
 * KVM (Linux "KVM: nSVM: Sync next_rip field from vmcb12 to vmcb02",
 * 2022); the svm_nested_soft_inject_test selftest checks it on silicon.
 */
static void inject_soft_int_returns_to_next_rip(void **state)
{
	prepare(0x80);
	vmcb()->control.eventinj = EV_V | EV_TYPE(T_SOFT) | 0x80;
	vmcb()->control.next_rip = CODE + 2;
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), HANDLER);
	assert_int_equal(vmcb()->control.eventinj & EV_V, 0);
	assert_int_equal(stack_word(0), CODE + 2);

	prepare(BP);
	vmcb()->control.eventinj = EV_V | EV_TYPE(T_EXC) | BP;
	vmcb()->control.next_rip = CODE + 1;
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), HANDLER);
	assert_int_equal(stack_word(0), CODE + 1);
}

/* ------------------------------------------------------------ NPF during injection */

/* Remove the nested mapping of guest-physical page @gpa. */
static void npt_unmap(uint64_t gpa)
{
	assert_int_equal(ptb_update(&g.host, PTB_64, g.tdp_root, gpa, 1, 0, PTE_P), 0);
}

/*
 * The IDT's page is not mapped in the nested tables. Delivering the
 * injected event reads the gate: a data read of the guest-physical
 * address the guest's own tables translate the IDT entry to. That is the
 * guest's *final* physical address (bit 32), not a guest page-table
 * access (bit 33): the guest tables, elsewhere, translate fine. Not
 * present (P = 0), a read (RW = 0), user (US = 1, 15.25.6), EXITINFO2 the
 * gate's address; the event comes back in EXITINTINFO, nothing pushed,
 * RIP still at CODE, EVENTINJ.V clear (15.7.2: EXITINTINFO holds the
 * event whose delivery the intercept interrupted).
 */
static void npf_on_idt_during_injection(void **state)
{
	const uint64_t idt = vmcb()->save.idtr.base;
	const uint64_t inj[] = {
		EV_V | EV_TYPE(T_INTR) | 0x30,
		EV_V | EV_EV | EV_TYPE(T_EXC) | GP | EV_ERR(0x1234),
	};
	for (unsigned i = 0; i < 2; i++) {
		const unsigned vec = (unsigned)(inj[i] & 0xff);
		prepare(vec);
		npt_unmap(idt);
		vmcb()->control.eventinj = inj[i];
		vmcb()->control.next_rip = 0xbad;
		assert_int_equal(run(), EXIT_NPF);
		assert_int_equal(vmcb()->control.next_rip, 0);		/* 15.7.1 */
		assert_int_equal(vmcb()->control.exitinfo1, NPF_FINAL | NPF_US);
		assert_int_equal(vmcb()->control.exitinfo2, idt + vec * 16);
		assert_int_equal(vmcb()->control.exitintinfo, inj[i]);
		assert_int_equal(vmcb()->control.eventinj & EV_V, 0);
		assert_int_equal(hwg_rip(&g), CODE);
		assert_int_equal(hwg_gpr(&g, 4), STACK);
		assert_int_equal(ptb_update(&g.host, PTB_64, g.tdp_root, idt, 1, PTE_P, 0), 0);
	}
}

/*
 * The page holding the guest's page table (level 1) for the IDT is not
 * mapped: the fault is on a guest page-table access (bit 33), at the
 * guest-physical address of the PTE the walk reads. Walks of guest page
 * tables are always user *writes* at the nested level (15.25.5, and
 * 15.25.6 on bit 1: "host table walks for guest page tables are always
 * treated as data writes"): P = 0, RW = 1, US = 1.
 */
static void npf_on_guest_page_table_during_injection(void **state)
{
	const uint64_t idt = vmcb()->save.idtr.base;
	const uint64_t pte = ptb_entry_addr(&g.guest, PTB_64, g.cr3, idt, 1);
	assert_int_not_equal(pte, PTB_NONE);
	prepare(0x30);
	npt_unmap(pte & ~0xfffull);
	vmcb()->control.eventinj = EV_V | EV_TYPE(T_INTR) | 0x30;
	assert_int_equal(run(), EXIT_NPF);
	assert_int_equal(vmcb()->control.exitinfo1, NPF_PAGING | NPF_US | NPF_RW);
	assert_int_equal(vmcb()->control.exitinfo2, pte);
	assert_int_equal(vmcb()->control.exitintinfo, EV_V | EV_TYPE(T_INTR) | 0x30);
	assert_int_equal(hwg_rip(&g), CODE);
}

/* ------------------------------------------------------------ VMEXIT_INVALID */

struct host_snap {
	uint64_t cr0, cr3, cr4, efer, rax, rsp;
};

static void snap(struct host_snap *s)
{
	s->cr0 = hw_read_cr(g.cpu, 0);
	s->cr3 = hw_read_cr(g.cpu, 3);
	s->cr4 = hw_read_cr(g.cpu, 4);
	assert_int_equal(hw_rdmsr(g.cpu, MSR_IA32_EFER, &s->efer), 0);
	s->rax = hw_cpu_gprs(g.cpu)[0];
	s->rsp = hw_cpu_gprs(g.cpu)[4];
}

static void assert_host(const struct host_snap *s)
{
	struct host_snap now;
	snap(&now);
	assert_int_equal(now.cr0, s->cr0);
	assert_int_equal(now.cr3, s->cr3);
	assert_int_equal(now.cr4, s->cr4);
	assert_int_equal(now.efer, s->efer);
	assert_int_equal(now.rax, s->rax);
	assert_int_equal(now.rsp, s->rsp);
}

/* Break one rule of 15.5.1 (@breaks), VMRUN, repair it (@repair). */
static void invalid_case(void (*breaks)(struct vmcb *), void (*repair)(struct vmcb *))
{
	prepare(0x30);
	hw_cpu_gprs(g.cpu)[0] = 0x1234567890abcdefull;	/* the host's RAX, RSP */
	hw_cpu_gprs(g.cpu)[4] = 0xffff800000001000ull;
	struct host_snap s;
	snap(&s);
	const struct hw_counters c0 = *hw_cpu_counters(g.cpu);

	breaks(vmcb());
	assert_int_equal(run(), EXIT_INVALID);
	assert_host(&s);
	const struct hw_counters *c = hw_cpu_counters(g.cpu);
	assert_int_equal(c->entries, c0.entries);
	assert_int_equal(c->failed_entries, c0.failed_entries + 1);
	assert_int_equal(c->insns, c0.insns);
	assert_int_equal(hwg_rip(&g), CODE);		/* the guest never ran */

	repair(vmcb());
	assert_int_equal(run(), EXIT_HLT);
	assert_host(&s);
	assert_int_equal(hw_cpu_counters(g.cpu)->entries, c0.entries + 1);
}

static void no_vmrun_intercept(struct vmcb *v) { v->control.intercept_misc2 &= ~1u; }
static void vmrun_intercept(struct vmcb *v) { v->control.intercept_misc2 |= 1u; }
static void asid_zero(struct vmcb *v) { v->control.guest_asid = 0; }
static void asid_one(struct vmcb *v) { v->control.guest_asid = 1; }
static void no_svme(struct vmcb *v) { v->save.efer &= ~(1ull << 12); }
static void svme(struct vmcb *v) { v->save.efer |= 1ull << 12; }
static void bad_eventinj(struct vmcb *v) { v->control.eventinj = EV_V | EV_TYPE(T_EXC) | 2; }
static void no_eventinj(struct vmcb *v) { v->control.eventinj = 0; }

static void vmrun_invalid_without_vmrun_intercept(void **state)
{
	invalid_case(no_vmrun_intercept, vmrun_intercept);
}

static void vmrun_invalid_asid_zero(void **state)
{
	invalid_case(asid_zero, asid_one);
}

static void vmrun_invalid_guest_efer_svme_clear(void **state)
{
	invalid_case(no_svme, svme);
}

/* EVENTINJ type 3 with vector 2 (NMI is no exception): illegal. */
static void vmrun_invalid_eventinj(void **state)
{
	invalid_case(bad_eventinj, no_eventinj);
}

/* A guest that runs and exits: the host's RAX and RSP in the register
 * file are back, the guest's are in the VMCB. */
static void vmexit_restores_host_rax_rsp(void **state)
{
	static const uint8_t code[] = {
		0xb8, 0x05, 0x00, 0x00, 0x00,		/* mov eax, 5 */
		0x48, 0x83, 0xec, 0x10,			/* sub rsp, 16 */
		0xf4,
	};
	hwg_load(&g, CODE, code, sizeof(code));
	hwg_set_entry(&g, CODE, STACK);
	hw_cpu_gprs(g.cpu)[0] = 0x1234567890abcdefull;
	hw_cpu_gprs(g.cpu)[4] = 0xffff800000001000ull;
	struct host_snap s;
	snap(&s);
	assert_int_equal(run(), EXIT_HLT);
	assert_host(&s);
	assert_int_equal(vmcb()->save.rax, 5);
	assert_int_equal(vmcb()->save.rsp, STACK - 16);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TN(f) cmocka_unit_test_setup_teardown(f, setup_npt, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(inject_intr),
		T(inject_nmi),
		T(inject_exception_with_error_code),
		T(inject_pf_leaves_cr2),
		T(inject_soft_int_returns_to_next_rip),
		TN(npf_on_idt_during_injection),
		TN(npf_on_guest_page_table_during_injection),
		T(vmrun_invalid_without_vmrun_intercept),
		T(vmrun_invalid_asid_zero),
		T(vmrun_invalid_guest_efer_svme_clear),
		T(vmrun_invalid_eventinj),
		T(vmexit_restores_host_rax_rsp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
