/*
 * smp_boot.c — bring-up of every processor the ACPI MADT lists, per-CPU
 * state, and exact counts from all CPUs hammering shared counters.
 *
 * SMP: 1 2 4 8
 *
 * SDM Vol. 3A:
 *  - 9.4.1, 9.4.4.1 (and MP spec 1.4 B.4): after INIT, STARTUP, STARTUP
 *    each AP runs the start-up code once, in real mode at the vector's
 *    page; the BSP flag, IA32_APIC_BASE (MSR 1BH) bit 8, is 1 on the BSP
 *    only (Figure 11-5); 11.4.6: each local APIC has its own ID.
 *  - 10.8.5: an AP enters IA-32e mode the way the BSP did (CR0.PG/WP,
 *    CR4.PAE, EFER.LME -> LMA); the paging structures are shared, so its
 *    CR3 is the BSP's.
 *  - 3.4.4: GS base (MSR C000_0101H) is per processor: each CPU finds
 *    its own data through it. 7.2.4: each CPU has loaded TR.
 *  - 9.1.2.2 and Vol. 2 XCHG, XADD: locked read-modify-write operations
 *    are atomic across processors, so a spinlock built on XCHG protects a
 *    plain increment and LOCK XADD counts exactly.
 * ACPI 6.5 5.2.12: the MADT lists the processors; QEMU fw_cfg.txt:
 * item 0x05 (FW_CFG_NB_CPUS) is the CPU count, which must agree.
 *
 * Only the BSP prints, after the APs are done, and nothing it prints
 * depends on the CPU count: one .expect for every count of the SMP line.
 * Expected serial output: tests/guests/smp_boot.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define MSR_APIC_BASE	0x1b
#define APIC_BASE_BSP	(1ull << 8)
#define MSR_GS_BASE	0xc0000101
#define MSR_EFER	0xc0000080
#define EFER_LMA	(1ull << 10)
#define CR0_PG_WP	((1ull << 31) | (1ull << 16))
#define CR4_PAE		(1ull << 5)
#define FWCFG_SEL	0x510
#define FWCFG_DATA	0x511
#define HAMMER		20000

enum { T_ID, T_GS, T_APICBASE, T_STATE, T_RUNS };
#define ST_CR3		0x01
#define ST_LMA		0x02
#define ST_CR0		0x04
#define ST_CR4		0x08
#define ST_TR		0x10
#define ST_SELF		0x20
#define ST_APICID	0x40
#define ST_ALL		0x7f

static spinlock_t lock;
static uint64_t locked_count;		/* only under lock */
static volatile uint64_t xadd_count;
static volatile uint32_t go;

static void probe(void *arg)
{
	struct smp_cpu *c = smp_this_cpu();
	uint16_t tr;
	unsigned st = 0;

	(void)arg;
	__asm__ volatile("str %0" : "=r"(tr));
	c->test[T_ID] = smp_cpu_id();
	c->test[T_GS] = msr_read(MSR_GS_BASE);
	c->test[T_APICBASE] = msr_read(MSR_APIC_BASE);
	if (read_cr3() == (uint64_t)(uintptr_t)guest_pml4)
		st |= ST_CR3;
	if (msr_read(MSR_EFER) & EFER_LMA)
		st |= ST_LMA;
	if ((read_cr0() & CR0_PG_WP) == CR0_PG_WP)
		st |= ST_CR0;
	if (read_cr4() & CR4_PAE)
		st |= ST_CR4;
	if (tr == GDT_TSS)
		st |= ST_TR;
	if (c->self == c)
		st |= ST_SELF;
	if (lapic_id() == c->apic_id)
		st |= ST_APICID;
	c->test[T_STATE] = st;
	c->test[T_RUNS]++;
}

static void hammer(void *arg)
{
	(void)arg;
	/* start together, so the CPUs contend */
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		cpu_relax();
	for (unsigned i = 0; i < HAMMER; i++) {
		spin_lock(&lock);
		locked_count++;
		spin_unlock(&lock);
		atomic_fetch_add64(&xadd_count, 1);
	}
}

static uint16_t fwcfg_cpus(void)
{
	outw(FWCFG_SEL, 0x05);
	return (uint16_t)(inb(FWCFG_DATA) | inb(FWCFG_DATA) << 8);
}

int guest_main(void)
{
	int n = smp_init();

	guest_check("smp_init brought up every processor", n > 0 && (unsigned)n == smp_madt_cpus());
	if (n <= 0)
		return GUEST_EXIT_FAIL;
	guest_check("fw_cfg CPU count equals the MADT's", fwcfg_cpus() == smp_madt_cpus());
	guest_check("no AP with an APIC ID outside the MADT", smp_cpu(0)->strays == 0);

	bool once = true, seen = true, distinct = true;
	for (unsigned i = 0; i < smp_ncpus(); i++) {
		struct smp_cpu *c = smp_cpu(i);
		once = once && c->boots == 1;
		seen = seen && c->seen_apic_id == c->apic_id;
		for (unsigned j = 0; j < i; j++)
			distinct = distinct && smp_cpu(j)->apic_id != c->apic_id;
	}
	guest_check("every CPU entered the runtime exactly once", once);
	guest_check("every CPU's APIC ID is its MADT entry's", seen);
	guest_check("APIC IDs distinct", distinct);

	/* twice: the second run shows the CPUs idle and take work again */
	smp_run_all(probe, NULL);
	smp_run_all(probe, NULL);
	bool ids = true, gs = true, bsp = true, runs = true, en = true;
	unsigned st = ST_ALL;
	for (unsigned i = 0; i < smp_ncpus(); i++) {
		struct smp_cpu *c = smp_cpu(i);
		ids = ids && c->test[T_ID] == i;
		gs = gs && c->test[T_GS] == (uint64_t)(uintptr_t)c;
		bsp = bsp && !!(c->test[T_APICBASE] & APIC_BASE_BSP) == (i == 0);
		en = en && (c->test[T_APICBASE] & (1ull << 11));
		st &= (unsigned)c->test[T_STATE];
		runs = runs && c->test[T_RUNS] == 2;
	}
	guest_check("smp_cpu_id() dense: CPU i says i", ids);
	guest_check("GS base is each CPU's own per-CPU struct", gs);
	guest_check("IA32_APIC_BASE.BSP set on CPU 0 only", bsp);
	guest_check("IA32_APIC_BASE.EN set on every CPU", en);
	guest_check("every CPU: CR3 is the BSP's identity map", st & ST_CR3);
	guest_check("every CPU: EFER.LMA", st & ST_LMA);
	guest_check("every CPU: CR0.PG and CR0.WP", st & ST_CR0);
	guest_check("every CPU: CR4.PAE", st & ST_CR4);
	guest_check("every CPU: TR holds the TSS selector", st & ST_TR);
	guest_check("every CPU: per-CPU self pointer", st & ST_SELF);
	guest_check("every CPU: its APIC reads its own ID", st & ST_APICID);
	guest_check("every CPU ran both work items", runs);

	unsigned ap = smp_ncpus();
	for (unsigned i = 1; i < ap; i++)
		smp_run_on(i, hammer, NULL);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	hammer(NULL);
	for (unsigned i = 1; i < ap; i++)
		smp_wait(i);
	guest_check("spinlock-protected counter = CPUs x 20000", locked_count == (uint64_t)ap * HAMMER);
	guest_check("LOCK XADD counter = CPUs x 20000", xadd_count == (uint64_t)ap * HAMMER);
	return guest_check_status();
}
