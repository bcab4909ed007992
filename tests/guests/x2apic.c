/*
 * x2apic.c — the local APIC in x2APIC mode: MSR access, the timer by MSR
 * and in TSC-deadline mode, the SELF IPI register, and the mode changes.
 *
 * SDM Vol. 3A chapter 11:
 * - 11.12.1: CPUID.01H:ECX[21] says the processor supports x2APIC mode;
 *   software enables it by setting IA32_APIC_BASE (MSR 1BH) bit 10 (EXTD)
 *   with bit 11 (EN). Without that support bit 10 is reserved, and setting
 *   it raises #GP (WRMSR, Vol. 2: reserved bits). 11.12.1.2: the x2APIC
 *   registers are MSRs 800H-8FFH (Table 11-6); #GP for an address in the
 *   range that Table 11-6 leaves out (831H), a WRMSR to a read-only
 *   register (ID, 802H), a RDMSR of a write-only one (EOI, 80BH; SELF IPI,
 *   83FH) and a WRMSR of a non-zero value to EOI. 11.12.2: RDMSR/WRMSR of
 *   800H-BFFH while not in x2APIC mode raise #GP; in x2APIC mode the
 *   xAPIC page is no longer decoded (accesses behave as with the APIC
 *   globally disabled), so the version register no longer reads back
 *   through it.
 * - 11.12.5.1: the x2APIC ID (802H) of the BSP equals its xAPIC ID here
 *   (both 0); 11.12.10.2: the logical x2APIC ID (LDR, 80DH) is derived:
 *   cluster ID (x2APIC ID[19:4]) in 31:16, 1 << x2APIC ID[3:0] in 15:0.
 *   The version register (803H) holds what 30H held in xAPIC mode.
 * - 11.5.4 and Table 11-6: the timer registers as MSRs: LVT timer 832H,
 *   initial count 838H, current count 839H, divide configuration 83EH;
 *   EOI 80BH (write 0).
 * - 11.5.4.1: CPUID.01H:ECX[24] = TSC-deadline mode: LVT timer bits 18:17
 *   = 10b; writing IA32_TSC_DEADLINE (MSR 6E0H) arms it, the interrupt
 *   comes when the TSC reaches it (at once if it already has), after
 *   which the MSR reads 0; writes to the initial-count register are
 *   ignored and the current count reads 0 in this mode.
 * - 11.12.11: SELF IPI (83FH): writing a vector sends a fixed interrupt
 *   to this processor.
 * - 11.12.5, Figure 11-28: x2APIC -> xAPIC directly (EXTD 1 -> 0 with EN
 *   still 1) is illegal (#GP); the way back passes through disabled
 *   (EN = 0, EXTD = 0), after which xAPIC mode is entered again (EN = 1)
 *   and the register page is decoded again.
 *
 * The 8259s are masked first (pic_init): firmware may leave the PIT ticking
 * on IRQ0 through the local APIC's LINT0.
 *
 * QEMU 7.2's TCG CPU has neither x2APIC nor TSC-deadline mode (QEMU warns
 * "TCG doesn't support requested feature" even for -cpu max), so the QEMU
 * run takes the CPUID branch that checks the #GP cases of an xAPIC-only
 * processor — and QEMU raises none of them (docs/qemu-deviations.md): its
 * output is tests/guests/x2apic.qemu.expect, ending in guest_exit(1).
 *
 * Expected serial output: tests/guests/x2apic.expect.
 * Expected exit status: 1 (guest_exit(0)).
 * Expected exit status on QEMU: 3
 */
#include "guests/guest.h"

#define MSR_APIC_BASE		0x1b
#define APIC_BASE_EXTD		(1ull << 10)
#define APIC_BASE_EN		(1ull << 11)
#define MSR_TSC_DEADLINE	0x6e0

#define X2APIC_ID		0x802
#define X2APIC_VERSION		0x803
#define X2APIC_TPR		0x808
#define X2APIC_EOI		0x80b
#define X2APIC_LDR		0x80d
#define X2APIC_SVR		0x80f
#define X2APIC_ISR1		0x811	/* ISR bits 63:32 */
#define X2APIC_UNDEFINED	0x831
#define X2APIC_LVT_TIMER	0x832
#define X2APIC_TIMER_INIT	0x838
#define X2APIC_TIMER_CUR	0x839
#define X2APIC_TIMER_DIV	0x83e
#define X2APIC_SELF_IPI		0x83f

#define TIMER_VECTOR		0x30	/* LAPIC_TIMER_VECTOR */
#define IPI_VECTOR		0x33
#define LVT_MASKED		(1u << 16)
#define LVT_PERIODIC		(1u << 17)
#define LVT_TSC_DEADLINE	(2u << 17)
#define PERIODIC_TICKS		5

static volatile uint64_t timer_count, ipi_count;
static volatile unsigned gp_count;
static volatile bool ipi_in_service;

/* #GP from RDMSR (0F 32) or WRMSR (0F 30) is counted and skipped; any
 * other #GP is a real failure and reported as such. */
static void gp_handler(struct guest_frame *f)
{
	const uint8_t *ip = (const uint8_t *)(uintptr_t)f->rip;

	if (ip[0] != 0x0f || (ip[1] != 0x30 && ip[1] != 0x32)) {
		guest_printf("unexpected #GP at rip 0x%lx\n", f->rip);
		guest_exit(GUEST_EXIT_EXCEPTION);
	}
	gp_count++;
	f->rip += 2;
}

static bool rdmsr_faults(uint32_t msr)
{
	unsigned before = gp_count;

	(void)msr_read(msr);
	return gp_count != before;
}

static bool wrmsr_faults(uint32_t msr, uint64_t v)
{
	unsigned before = gp_count;

	msr_write(msr, v);
	return gp_count != before;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void timer_irq(struct guest_frame *f)
{
	(void)f;
	if (++timer_count >= PERIODIC_TICKS)
		msr_write(X2APIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
	msr_write(X2APIC_EOI, 0);
}

static void ipi_irq(struct guest_frame *f)
{
	(void)f;
	ipi_count++;
	ipi_in_service = (msr_read(X2APIC_ISR1) >> (IPI_VECTOR - 32)) & 1;
	msr_write(X2APIC_EOI, 0);
}

static void test_no_x2apic(uint64_t base_msr)
{
	guest_check("setting EXTD without x2APIC support raises #GP",
	            wrmsr_faults(MSR_APIC_BASE, base_msr | APIC_BASE_EXTD));
	guest_check("IA32_APIC_BASE unchanged", msr_read(MSR_APIC_BASE) == base_msr);
}

static void test_timer_msrs(void)
{
	msr_write(X2APIC_TIMER_DIV, 0x3);	/* divide by 16 */
	guest_check("divide configuration reads back", (msr_read(X2APIC_TIMER_DIV) & 0xb) == 0x3);
	msr_write(X2APIC_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
	guest_check("LVT timer reads back (periodic, vector 0x30)",
	            (msr_read(X2APIC_LVT_TIMER) & 0x700ff) == (LVT_PERIODIC | TIMER_VECTOR));
	msr_write(X2APIC_TIMER_INIT, 100000);
	guest_check("initial count reads back", msr_read(X2APIC_TIMER_INIT) == 100000);
	guest_check("current count at most the initial count", msr_read(X2APIC_TIMER_CUR) <= 100000);
	while (timer_count < PERIODIC_TICKS)
		irq_wait();
	guest_printf("periodic timer by MSR: %lu interrupts\n", timer_count);
	msr_write(X2APIC_TIMER_INIT, 0);
	guest_check("initial count 0: current count 0", msr_read(X2APIC_TIMER_CUR) == 0);
}

static void test_tsc_deadline(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	guest_printf("CPUID.01H:ECX[24] TSC-deadline: %s\n", r[2] & (1u << 24) ? "yes" : "no");
	if (!(r[2] & (1u << 24)))
		return;
	timer_count = 0;
	msr_write(X2APIC_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VECTOR);
	guest_check("LVT timer mode 10b reads back",
	            (msr_read(X2APIC_LVT_TIMER) & 0x600ff) == (LVT_TSC_DEADLINE | TIMER_VECTOR));
	msr_write(X2APIC_TIMER_INIT, 12345);
	guest_check("TSC-deadline mode: initial count write ignored, current count 0",
	            msr_read(X2APIC_TIMER_CUR) == 0);
	msr_write(MSR_TSC_DEADLINE, rdtsc() + 200000);
	guest_check("IA32_TSC_DEADLINE armed (non-zero)", msr_read(MSR_TSC_DEADLINE) != 0);
	while (timer_count < 1)
		irq_wait();
	guest_check("after the interrupt IA32_TSC_DEADLINE reads 0", msr_read(MSR_TSC_DEADLINE) == 0);
	pit_wait_periods(10);
	guest_printf("TSC deadline: %lu interrupt(s) after 10 PIT periods\n", timer_count);
	/* a deadline already passed fires at once */
	msr_write(MSR_TSC_DEADLINE, 1);
	pit_wait_periods(2);
	guest_printf("deadline in the past: %lu interrupt(s) in all\n", timer_count);
	msr_write(MSR_TSC_DEADLINE, 0);
	msr_write(X2APIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
}

static void test_x2apic(uint64_t base_msr, uint32_t xapic_id, uint32_t xapic_ver)
{
	volatile uint32_t *mmio = (volatile uint32_t *)(uintptr_t)lapic_base();

	msr_write(MSR_APIC_BASE, base_msr | APIC_BASE_EXTD);
	guest_check("IA32_APIC_BASE: EN and EXTD set",
	            (msr_read(MSR_APIC_BASE) & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
		            (APIC_BASE_EN | APIC_BASE_EXTD));
	uint32_t id = (uint32_t)msr_read(X2APIC_ID);
	guest_printf("x2APIC ID %u (xAPIC ID %u)\n", id, xapic_id);
	guest_check("version register (803H) as in xAPIC mode",
	            (uint32_t)msr_read(X2APIC_VERSION) == xapic_ver);
	guest_check("LDR derived from the x2APIC ID",
	            (uint32_t)msr_read(X2APIC_LDR) == ((id >> 4) << 16 | 1u << (id & 0xf)));
	guest_check("SVR still enabled",
	            (msr_read(X2APIC_SVR) & 0x1ff) == (0x100 | LAPIC_SPURIOUS_VECTOR));
	guest_check("TPR 0", msr_read(X2APIC_TPR) == 0);
	guest_check("xAPIC page not decoded: version register no longer reads back",
	            mmio[LAPIC_REG_VERSION / 4] != xapic_ver);

	guest_check("RDMSR 831H (undefined) raises #GP", rdmsr_faults(X2APIC_UNDEFINED));
	guest_check("WRMSR to the ID register raises #GP", wrmsr_faults(X2APIC_ID, 5));
	guest_check("RDMSR of EOI raises #GP", rdmsr_faults(X2APIC_EOI));
	guest_check("RDMSR of SELF IPI raises #GP", rdmsr_faults(X2APIC_SELF_IPI));
	guest_check("WRMSR of a non-zero value to EOI raises #GP", wrmsr_faults(X2APIC_EOI, 1));

	test_timer_msrs();
	test_tsc_deadline();

	msr_write(X2APIC_SELF_IPI, IPI_VECTOR);
	pit_wait_periods(2);
	guest_printf("SELF IPI: %lu interrupt(s)\n", ipi_count);
	guest_check("SELF IPI vector in service in its handler", ipi_in_service);

	guest_check("x2APIC -> xAPIC directly raises #GP",
	            wrmsr_faults(MSR_APIC_BASE, base_msr & ~APIC_BASE_EXTD));
	msr_write(MSR_APIC_BASE, base_msr & ~(APIC_BASE_EXTD | APIC_BASE_EN));
	msr_write(MSR_APIC_BASE, base_msr);
	guest_check("x2APIC -> disabled -> xAPIC: the page is decoded again",
	            mmio[LAPIC_REG_VERSION / 4] == xapic_ver);
	guest_check("x2APIC MSRs raise #GP again", rdmsr_faults(X2APIC_VERSION));
}

int guest_main(void)
{
	uint32_t r[4];

	idt_set_handler(13, gp_handler);
	pic_init();
	guest_check("lapic_init", lapic_init() == 0);
	guest_check("pit as clock", pit_start(1000, 0) == 0);
	pit_stop();
	idt_set_irq(TIMER_VECTOR, timer_irq);
	idt_set_irq(IPI_VECTOR, ipi_irq);
	uint64_t base_msr = msr_read(MSR_APIC_BASE);
	uint32_t xapic_id = lapic_read(LAPIC_REG_ID) >> 24;
	uint32_t xapic_ver = lapic_read(LAPIC_REG_VERSION);

	guest_check("xAPIC mode: RDMSR of an x2APIC register raises #GP", rdmsr_faults(X2APIC_VERSION));
	guest_check("xAPIC mode: WRMSR of an x2APIC register raises #GP", wrmsr_faults(X2APIC_TPR, 0));
	cpuid(1, 0, r);
	bool x2 = r[2] & (1u << 21);
	guest_printf("CPUID.01H:ECX[21] x2APIC: %s\n", x2 ? "yes" : "no");
	if (x2)
		test_x2apic(base_msr, xapic_id, xapic_ver);
	else
		test_no_x2apic(base_msr);
	return guest_check_status();
}
