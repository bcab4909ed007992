/*
 * test_hw_svm_exits_intr.c — interrupts in SVM guest mode, end to end on
 * the model: the INTR and NMI intercepts (VMEXIT 0x60, 0x61), physical
 * interrupt masking with and without V_INTR_MASKING, virtual interrupts
 * (V_IRQ, V_INTR_VECTOR, V_INTR_PRIO, V_IGN_TPR, V_TPR) with the VINTR
 * intercept (0x64) and without it (delivered through the guest IDT),
 * and the interrupt shadow in the VMCB's interrupt state.
 *
 * Truth is the APM's, as literals: Vol. 2 Table B-1 (vector 3: INTR bit
 * 0, NMI bit 1, VINTR bit 4; VMCB 0x060 V_TPR, 0x061 bit 0 V_IRQ, 0x062
 * bits 3:0 V_INTR_PRIO and bit 4 V_IGN_TPR, 0x063 bit 0 V_INTR_MASKING,
 * 0x064 V_INTR_VECTOR, 0x068 bit 0 INTERRUPT_SHADOW), Appendix C (exit
 * codes), 15.13.1 (INTR intercept), 15.13.2 (NMI intercept), 15.21.1
 * (with V_INTR_MASKING = 1 the guest's RFLAGS.IF does not mask physical
 * interrupts; with 0 it does), 15.21.2 (guest CR8 writes V_TPR), 15.21.4
 * (a virtual interrupt is taken when V_IRQ = 1, the guest's IF = 1 and
 * no shadow, and V_IGN_TPR = 1 or V_INTR_PRIO > V_TPR; taking it clears
 * V_IRQ, which #VMEXIT writes back), Vol. 2 8.9.3 (the frame).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/svm.h"
#include "tests/support/hwguest.h"
#include "test_hw_svm_exits.h"

#define CODE	0x10000ull
#define HANDLER	0x18000ull
#define STACK	0x80000ull

#define V3_INTR		(1u << 0)
#define V3_NMI		(1u << 1)
#define V3_VINTR	(1u << 4)
#define V3_CPUID	(1u << 18)

#define EXIT_INTR	0x60
#define EXIT_NMI	0x61
#define EXIT_VINTR	0x64
#define EXIT_CPUID	0x72
#define EXIT_HLT	0x78

#define V_IRQ		0x01	/* VMCB 0x061 bit 0 */
#define V_IGN_TPR	0x10	/* VMCB 0x062 bit 4 */
#define V_INTR_MASKING	0x01	/* VMCB 0x063 bit 0 */
#define INT_SHADOW	0x01	/* VMCB 0x068 bit 0 */

#define RFLAGS_IF	(1ull << 9)
#define SEL_CODE	0x08

#define NMI_VEC	2
#define EXT_VEC	0x40
#define VIRQ_VEC 0x30

/* Load @code at CODE and enter there with RFLAGS @rflags. */
static void load(const uint8_t *code, size_t len, uint64_t rflags)
{
	hwg_load(&g, CODE, code, len);
	hwg_set_entry(&g, CODE, STACK);
	vmcb()->save.rflags = rflags;
}

static uint64_t insns(void)
{
	return hw_cpu_counters(g.cpu)->insns;
}

/* A 64-bit interrupt gate to a HLT (APM Vol. 2 4.8.4). */
static void install_handler(unsigned vec)
{
	static const uint8_t hlt = 0xf4;
	const uint64_t idt = vmcb()->save.idtr.base;
	const uint64_t lo = (HANDLER & 0xffff) | ((uint64_t)SEL_CODE << 16) |
			    (0x8eull << 40) | (((HANDLER >> 16) & 0xffff) << 48);
	const uint64_t hi = HANDLER >> 32;
	hwg_load(&g, HANDLER, &hlt, 1);
	hwg_load(&g, idt + vec * 16, &lo, 8);
	hwg_load(&g, idt + vec * 16 + 8, &hi, 8);
}

static uint64_t stack_word(unsigned i)
{
	const uint64_t *p = hwg_ptr(&g, hwg_gpr(&g, 4) + 8 * i, 8);
	assert_non_null(p);
	return *p;
}

/* The handler ran: HLT exit at HANDLER, a frame with no error code whose
 * RIP is @ret and whose RFLAGS has IF = @if_was; the gate cleared IF. */
static void assert_handled(uint64_t ret, bool if_was)
{
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), HANDLER);
	assert_int_equal(hwg_gpr(&g, 4), STACK - 40);
	assert_int_equal(stack_word(0), ret);
	assert_int_equal(stack_word(1), SEL_CODE);
	assert_int_equal(!!(stack_word(2) & RFLAGS_IF), if_was);
	assert_int_equal(vmcb()->save.rflags & RFLAGS_IF, 0);
}

/* ------------------------------------------------------------ INTR */

/* V_INTR_MASKING = 1 (the harness's): the guest's IF = 0 does not hold
 * the physical interrupt; the INTR intercept exits before the first
 * instruction. */
static void intr_exit_ignores_guest_if_with_masking(void **state)
{
	static const uint8_t code[] = { 0x90, 0xf4 };		/* nop; hlt */
	load(code, sizeof(code), 0x2);
	assert_int_equal(vmcb()->control.v_intr_masking & V_INTR_MASKING, V_INTR_MASKING);
	hw_cpu_set_intr(g.cpu, true, EXT_VEC);
	vmcb()->control.next_rip = 0xbad;
	const uint64_t n = insns();
	assert_int_equal(run(), EXIT_INTR);
	assert_int_equal(hwg_rip(&g), CODE);
	assert_int_equal(insns() - n, 0);
	/* 15.7.1: nRIP is reset to zero for a non-instruction intercept. */
	assert_int_equal(vmcb()->control.next_rip, 0);

	/* Off: nothing pending, nothing to see. */
	hw_cpu_set_intr(g.cpu, false, 0);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE + 1);
}

/* V_INTR_MASKING = 0: the guest's IF and STI shadow hold it off. */
static void intr_held_by_guest_if_without_masking(void **state)
{
	static const uint8_t code[] = {
		0x90,		/* nop */
		0xfb,		/* sti */
		0x90,		/* nop: in the STI shadow */
		0xf4,		/* hlt */
	};
	load(code, sizeof(code), 0x2);
	vmcb()->control.v_intr_masking = 0;
	hw_cpu_set_intr(g.cpu, true, EXT_VEC);
	assert_int_equal(run(), EXIT_INTR);
	assert_int_equal(hwg_rip(&g), CODE + 3);
	assert_int_equal(vmcb()->save.rflags & RFLAGS_IF, RFLAGS_IF);
}

/* Not intercepted, guest IF = 1: the interrupt goes through the guest's
 * IDT before the first instruction. */
static void intr_not_intercepted_is_delivered(void **state)
{
	static const uint8_t code[] = { 0xf4 };
	load(code, sizeof(code), 0x202);
	install_handler(EXT_VEC);
	vmcb()->control.v_intr_masking = 0;
	vmcb()->control.intercept_misc1 &= ~V3_INTR;
	hw_cpu_set_intr(g.cpu, true, EXT_VEC);
	assert_handled(CODE, true);
}

/* INTERRUPT_SHADOW loaded by VMRUN holds the interrupt for one
 * instruction; #VMEXIT saves it (in the STI shadow at a CPUID exit). */
static void interrupt_shadow_in_vmcb(void **state)
{
	static const uint8_t code[] = { 0x90, 0xf4 };		/* nop; hlt */
	load(code, sizeof(code), 0x202);
	vmcb()->control.v_intr_masking = 0;
	vmcb()->control.int_state = INT_SHADOW;
	hw_cpu_set_intr(g.cpu, true, EXT_VEC);
	assert_int_equal(run(), EXIT_INTR);
	assert_int_equal(hwg_rip(&g), CODE + 1);
	assert_int_equal(vmcb()->control.int_state & INT_SHADOW, 0);

	static const uint8_t sti_cpuid[] = { 0xfb, 0x0f, 0xa2 };	/* sti; cpuid */
	hw_cpu_set_intr(g.cpu, false, 0);
	load(sti_cpuid, sizeof(sti_cpuid), 0x2);
	vmcb()->control.int_state = 0;
	vmcb()->control.intercept_misc1 |= V3_CPUID;
	assert_int_equal(run(), EXIT_CPUID);
	assert_int_equal(hwg_rip(&g), CODE + 1);
	assert_int_equal(vmcb()->control.int_state & INT_SHADOW, INT_SHADOW);
}

/* ------------------------------------------------------------ NMI */

static void nmi_intercept(void **state)
{
	static const uint8_t code[] = { 0x90, 0xf4 };
	load(code, sizeof(code), 0x2);
	install_handler(NMI_VEC);
	hw_cpu_nmi(g.cpu);
	vmcb()->control.next_rip = 0xbad;
	const uint64_t n = insns();
	assert_int_equal(run(), EXIT_NMI);
	assert_int_equal(hwg_rip(&g), CODE);
	assert_int_equal(insns() - n, 0);
	assert_int_equal(vmcb()->control.next_rip, 0);
}

/* Not intercepted: vector 2 through the guest IDT; IF = 0 is no mask. */
static void nmi_not_intercepted_is_delivered(void **state)
{
	static const uint8_t code[] = { 0x90, 0xf4 };
	load(code, sizeof(code), 0x2);
	install_handler(NMI_VEC);
	vmcb()->control.intercept_misc1 &= ~V3_NMI;
	hw_cpu_nmi(g.cpu);
	assert_handled(CODE, false);
}

/* ------------------------------------------------------------ VINTR */

/* A virtual interrupt pending: V_IRQ, @prio, V_IGN_TPR if @ign, V_TPR. */
static void set_virq(unsigned prio, bool ign, unsigned tpr)
{
	vmcb()->control.v_irq = V_IRQ;
	vmcb()->control.v_intr_vector = VIRQ_VEC;
	vmcb()->control.v_intr_prio = (uint8_t)(prio | (ign ? V_IGN_TPR : 0));
	vmcb()->control.v_tpr = (uint8_t)tpr;
}

static void vintr_exit(void **state)
{
	static const uint8_t code[] = { 0x90, 0xf4 };
	load(code, sizeof(code), 0x202);
	vmcb()->control.intercept_misc1 |= V3_VINTR;
	set_virq(0, true, 0xf);
	vmcb()->control.next_rip = 0xbad;
	assert_int_equal(run(), EXIT_VINTR);
	assert_int_equal(hwg_rip(&g), CODE);
	assert_int_equal(vmcb()->control.next_rip, 0);
	assert_int_equal(vmcb()->control.v_irq & V_IRQ, V_IRQ);	/* not taken */

	/* Off: no V_IRQ, no exit. */
	vmcb()->control.v_irq = 0;
	assert_int_equal(run(), EXIT_HLT);
}

static void vintr_held_by_if_and_shadow(void **state)
{
	static const uint8_t code[] = { 0x90, 0xfb, 0x90, 0xf4 };	/* nop; sti; nop; hlt */
	load(code, sizeof(code), 0x2);
	vmcb()->control.intercept_misc1 |= V3_VINTR;
	set_virq(0, true, 0);
	assert_int_equal(run(), EXIT_VINTR);
	assert_int_equal(hwg_rip(&g), CODE + 3);
}

/* Priority: taken only when V_INTR_PRIO > V_TPR, or V_IGN_TPR. */
static void vintr_priority_against_v_tpr(void **state)
{
	static const uint8_t code[] = { 0xf4 };
	load(code, sizeof(code), 0x202);
	vmcb()->control.intercept_misc1 |= V3_VINTR;

	set_virq(5, false, 5);
	assert_int_equal(run(), EXIT_HLT);			/* equal: masked */
	set_virq(5, false, 6);
	hwg_set_rip(&g, CODE);
	assert_int_equal(run(), EXIT_HLT);
	set_virq(5, false, 4);
	hwg_set_rip(&g, CODE);
	assert_int_equal(run(), EXIT_VINTR);
	set_virq(0, true, 0xf);					/* V_IGN_TPR */
	hwg_set_rip(&g, CODE);
	assert_int_equal(run(), EXIT_VINTR);
	set_virq(0xf, false, 0xe);				/* 4-bit compare */
	hwg_set_rip(&g, CODE);
	assert_int_equal(run(), EXIT_VINTR);
}

/* The guest lowering its TPR (MOV CR8 = V_TPR) unmasks the interrupt at
 * the next instruction boundary. */
static void vintr_after_guest_lowers_tpr(void **state)
{
	static const uint8_t code[] = {
		0x31, 0xc0,			/* xor eax, eax */
		0x44, 0x0f, 0x22, 0xc0,		/* mov cr8, rax */
		0x90,				/* nop */
		0xf4,
	};
	load(code, sizeof(code), 0x202);
	vmcb()->control.intercept_misc1 |= V3_VINTR;
	set_virq(5, false, 8);
	assert_int_equal(run(), EXIT_VINTR);
	assert_int_equal(hwg_rip(&g), CODE + 6);
	assert_int_equal(vmcb()->control.v_tpr, 0);
}

/* Without the VINTR intercept the virtual interrupt is taken through
 * the guest IDT with V_INTR_VECTOR, and V_IRQ is clear after the exit. */
static void virq_delivered_without_vintr(void **state)
{
	static const uint8_t code[] = { 0x90, 0xf4 };
	load(code, sizeof(code), 0x202);
	install_handler(VIRQ_VEC);
	set_virq(3, false, 2);
	assert_handled(CODE, true);
	assert_int_equal(vmcb()->control.v_irq & V_IRQ, 0);
}

/* Masked by V_TPR it stays pending: the guest runs, V_IRQ stays set. */
static void virq_below_tpr_stays_pending(void **state)
{
	static const uint8_t code[] = { 0x90, 0xf4 };
	load(code, sizeof(code), 0x202);
	install_handler(VIRQ_VEC);
	set_virq(2, false, 3);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE + 1);
	assert_int_equal(vmcb()->control.v_irq & V_IRQ, V_IRQ);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(intr_exit_ignores_guest_if_with_masking),
		T(intr_held_by_guest_if_without_masking),
		T(intr_not_intercepted_is_delivered),
		T(interrupt_shadow_in_vmcb),
		T(nmi_intercept),
		T(nmi_not_intercepted_is_delivered),
		T(vintr_exit),
		T(vintr_held_by_if_and_shadow),
		T(vintr_priority_against_v_tpr),
		T(vintr_after_guest_lowers_tpr),
		T(virq_delivered_without_vintr),
		T(virq_below_tpr_stays_pending),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
