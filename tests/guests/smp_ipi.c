/*
 * smp_ipi.c — inter-processor interrupts between every pair of CPUs:
 * fixed and NMI ping-pong, the destination shorthands, lowest-priority
 * delivery to a logical destination set, then (when CPUID says x2APIC)
 * the same through the x2APIC ICR; every count checked exactly.
 *
 * SMP: 1 2 4 8
 *
 * SDM Vol. 3A chapter 11:
 *  - 11.6.1 (Figure 11-12): the ICR's delivery mode (000 fixed, 001
 *    lowest priority, 100 NMI), destination mode (11: logical), level
 *    (14: assert) and shorthand (19:18: 01 self, 10 all including self,
 *    11 all excluding self; the destination field is then ignored).
 *  - 11.6.2.2, 11.6.2.3: logical destination in the flat model (DFR
 *    = FFFFFFFFH): a CPU is addressed when its LDR bits 31:24 and the
 *    ICR's destination byte share a bit.
 *  - 11.6.2.4: a lowest-priority IPI to a set reaches exactly one of its
 *    processors (which one is the hardware's choice).
 *  - 11.8.4, 11.8.5: a fixed interrupt sets the IRR bit of its vector;
 *    two before the first is serviced merge into one, so each sender
 *    here waits for its IPI to be taken before sending the next — the
 *    counts are then exact. The handler ends with EOI.
 *  - 6.7 and 6.7.1: an NMI IPI (vector ignored) is delivered through
 *    IDT vector 2 whatever IF, and further NMIs are held until IRET.
 *  - 11.12.9, 11.12.10: in x2APIC mode the ICR is MSR 830H, the 32-bit
 *    destination in 63:32, no delivery-status bit; the shorthands are
 *    the same.
 * QEMU 7.2's TCG CPU has no x2APIC: its run says so instead of the
 * x2APIC part (smp_ipi.qemu.expect; not a deviation from the SDM, a
 * CPU model without the feature).
 *
 * Each IPI increments a counter of the CPU that takes it; the BSP
 * checks the totals at the end of each part and prints one line per
 * part, nothing that depends on the CPU count.
 * Expected serial output: tests/guests/smp_ipi.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define V_PING		0x31
#define V_PONG		0x32
#define V_SELF		0x33
#define V_ALL		0x34
#define V_OTHERS	0x35
#define V_LOWEST	0x36
#define ROUNDS		10
#define LOWEST_IPIS	40

enum { C_PING, C_PONG, C_NMI_PING, C_NMI_PONG, C_SELF, C_ALL, C_OTHERS, C_LOWEST };

static volatile unsigned pinger;	/* the CPU whose pings are answered */

static void count(unsigned k)
{
	smp_this_cpu()->test[k]++;
}

static void on_ping(struct guest_frame *f)
{
	(void)f;
	count(C_PING);
	lapic_eoi();
	ipi_send_cpu(pinger, V_PONG);
}

static void on_pong(struct guest_frame *f)
{
	(void)f;
	count(C_PONG);
	lapic_eoi();
}

static void on_nmi(struct guest_frame *f)
{
	(void)f;
	if (smp_cpu_id() == pinger) {
		count(C_NMI_PONG);
	} else {
		count(C_NMI_PING);
		ipi_nmi_cpu(pinger);
	}
}

static void on_self(struct guest_frame *f)
{
	(void)f;
	count(C_SELF);
	lapic_eoi();
}

static void on_all(struct guest_frame *f)
{
	(void)f;
	count(C_ALL);
	lapic_eoi();
}

static void on_others(struct guest_frame *f)
{
	(void)f;
	count(C_OTHERS);
	lapic_eoi();
}

static void on_lowest(struct guest_frame *f)
{
	(void)f;
	count(C_LOWEST);
	lapic_eoi();
}

static uint64_t sum(unsigned k)
{
	uint64_t s = 0;

	for (unsigned i = 0; i < smp_ncpus(); i++)
		s += smp_cpu(i)->test[k];
	return s;
}

static void wait_until(volatile uint64_t *p, uint64_t v)
{
	while (*p < v)
		cpu_relax();
}

static void reset_counts(void)
{
	for (unsigned i = 0; i < smp_ncpus(); i++)
		for (unsigned k = 0; k < 8; k++)
			smp_cpu(i)->test[k] = 0;
}

/* On CPU pinger: ROUNDS round trips with CPU *arg, fixed or NMI. */
static bool use_nmi;
static void ping_pong(void *arg)
{
	unsigned to = (unsigned)(uintptr_t)arg;
	struct smp_cpu *me = smp_this_cpu();
	unsigned k = use_nmi ? C_NMI_PONG : C_PONG;
	uint64_t base = me->test[k];

	irq_enable();
	for (unsigned r = 1; r <= ROUNDS; r++) {
		if (use_nmi)
			ipi_nmi_cpu(to);
		else
			ipi_send_cpu(to, V_PING);
		wait_until(&me->test[k], base + r);
	}
	irq_disable();
}

/* Every ordered pair (i, j), i != j: i pings j ROUNDS times. */
static void all_pairs(bool nmi)
{
	use_nmi = nmi;
	for (unsigned i = 0; i < smp_ncpus(); i++) {
		for (unsigned j = 0; j < smp_ncpus(); j++) {
			if (i == j)
				continue;
			pinger = i;
			smp_run_on(i, ping_pong, (void *)(uintptr_t)j);
			smp_wait(i);
		}
	}
}

static bool pairs_exact(unsigned ping, unsigned pong)
{
	uint64_t want = (uint64_t)(smp_ncpus() - 1) * ROUNDS;
	bool ok = true;

	for (unsigned i = 0; i < smp_ncpus(); i++)
		ok = ok && smp_cpu(i)->test[ping] == want && smp_cpu(i)->test[pong] == want;
	return ok;
}

/* On each CPU in turn: ROUNDS of each shorthand, each taken before the next. */
static void shorthands(void *arg)
{
	struct smp_cpu *me = smp_this_cpu();
	unsigned n = smp_ncpus();

	(void)arg;
	irq_enable();
	for (unsigned r = 0; r < ROUNDS; r++) {
		uint64_t s = me->test[C_SELF];
		lapic_ipi(0, ICR_SELF | ICR_FIXED | ICR_ASSERT | V_SELF);
		wait_until(&me->test[C_SELF], s + 1);

		uint64_t a = sum(C_ALL);
		lapic_ipi(0, ICR_ALL | ICR_FIXED | ICR_ASSERT | V_ALL);
		while (sum(C_ALL) < a + n)
			cpu_relax();

		uint64_t o = sum(C_OTHERS);
		ipi_broadcast_others(V_OTHERS);
		while (sum(C_OTHERS) < o + n - 1)
			cpu_relax();
	}
	irq_disable();
}

static void check_shorthands(const char *mode)
{
	uint64_t n = smp_ncpus();
	bool self = true, all = true, others = true;

	for (unsigned i = 0; i < n; i++) {
		struct smp_cpu *c = smp_cpu(i);
		self = self && c->test[C_SELF] == ROUNDS;
		all = all && c->test[C_ALL] == n * ROUNDS;
		others = others && c->test[C_OTHERS] == (n - 1) * ROUNDS;
	}
	guest_printf("%s: ", mode);
	guest_check("shorthand self: each CPU took exactly its own", self);
	guest_printf("%s: ", mode);
	guest_check("shorthand all including self: every CPU took every broadcast", all);
	guest_printf("%s: ", mode);
	guest_check("shorthand all excluding self: every CPU took the others' only", others);
}

static void run_part(const char *mode)
{
	reset_counts();
	all_pairs(false);
	guest_printf("%s: ", mode);
	guest_check("fixed IPI ping-pong, every ordered pair, 10 round trips: counts exact",
		    pairs_exact(C_PING, C_PONG));
	all_pairs(true);
	guest_printf("%s: ", mode);
	guest_check("NMI ping-pong, every ordered pair, 10 round trips: counts exact",
		    pairs_exact(C_NMI_PING, C_NMI_PONG));
	for (unsigned i = 0; i < smp_ncpus(); i++) {
		smp_run_on(i, shorthands, NULL);
		smp_wait(i);
	}
	check_shorthands(mode);
}

/* Flat model, logical ID 1 << cpu (SDM 11.6.2.2). */
static void set_logical(void *arg)
{
	(void)arg;
	lapic_write(LAPIC_REG_DFR, 0xffffffffu);
	lapic_write(LAPIC_REG_LDR, (1u << smp_cpu_id()) << 24);
}

/* 11.12.1: EXTD and EN set; 11.12.5.1: the x2APIC ID by MSR. */
static bool x2_ok[SMP_MAX_CPUS];
static void x2apic_state(void *arg)
{
	struct smp_cpu *c = smp_this_cpu();

	(void)arg;
	x2_ok[c->id] = (msr_read(0x1b) & 0xc00) == 0xc00 && msr_read(0x802) == c->apic_id;
}

int guest_main(void)
{
	int n = smp_init();

	guest_check("smp_init", n > 0 && (unsigned)n == smp_madt_cpus());
	if (n <= 0 || n > 8)
		return GUEST_EXIT_FAIL;	/* the flat logical model names 8 CPUs */
	idt_set_irq(V_PING, on_ping);
	idt_set_irq(V_PONG, on_pong);
	idt_set_irq(V_SELF, on_self);
	idt_set_irq(V_ALL, on_all);
	idt_set_irq(V_OTHERS, on_others);
	idt_set_irq(V_LOWEST, on_lowest);
	idt_set_handler(2, on_nmi);

	run_part("xAPIC");

	/* lowest priority to every CPU's logical ID, from the BSP */
	reset_counts();
	smp_run_all(set_logical, NULL);
	uint32_t set = (1u << n) - 1;
	irq_enable();
	for (unsigned k = 1; k <= LOWEST_IPIS; k++) {
		lapic_ipi(set, ICR_LOWEST | ICR_LOGICAL | ICR_ASSERT | V_LOWEST);
		while (sum(C_LOWEST) < k)
			cpu_relax();
	}
	smp_delay_us(2000);	/* a second taker would show by now */
	irq_disable();
	guest_check("xAPIC: lowest priority to the set of all CPUs: each IPI taken by exactly one",
		    sum(C_LOWEST) == LOWEST_IPIS);

	if (smp_x2apic_enable()) {
		guest_printf("x2APIC: not supported (CPUID.01H:ECX[21] = 0), part skipped\n");
		return guest_check_status();
	}
	smp_run_all(x2apic_state, NULL);
	bool on = lapic_is_x2apic();
	for (unsigned i = 0; i < smp_ncpus(); i++)
		on = on && x2_ok[i];
	guest_check("x2APIC: every CPU in x2APIC mode, its ID (MSR 802H) the MADT's", on);
	run_part("x2APIC");
	return guest_check_status();
}
