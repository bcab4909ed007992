/*
 * smp.c — the application processors: start-up, per-CPU data, work for
 * idle CPUs, IPIs and TLB shootdowns.
 *
 * Start-up (SDM Vol. 3A 9.4.4.1 "Typical BSP initialization sequence",
 * MP spec 1.4 B.4 "Application Processor Startup"): the processors are
 * the enabled type-0/type-9 entries of the ACPI MADT (acpi_cpus()); the
 * one whose APIC ID equals this CPU's is the BSP and gets CPU number 0,
 * the others 1..n-1 in table order. Each AP in turn gets an INIT IPI
 * (level assert; it resets the AP into wait-for-SIPI, whatever the
 * firmware left it doing), a 10 ms wait, a STARTUP IPI with vector
 * SMP_TRAMPOLINE_PA >> 12 (the AP starts in real mode at VV00:0000), a
 * 200 us wait and a second STARTUP IPI, as both documents prescribe (a
 * STARTUP IPI to a processor that is not waiting for one is ignored,
 * B.4.2), then the BSP waits up to a second for the AP to say it is up.
 * The waits count the ACPI PM timer (3.579545 MHz, ACPI 6.5 4.8.3.3; its
 * port from the FADT), never wall time. APs start one at a time because
 * they share the trampoline's stack pointer slot (smp_ap_stack).
 *
 * An AP (smp_trampoline.S, then smp_ap_main()): GS base (MSR C000_0101H,
 * SDM 3A 3.4.4) = its struct smp_cpu, found by its own APIC ID; its own
 * GDT and 64-bit TSS (the busy bit of a TSS descriptor forbids sharing
 * one, 7.2.2; IST1/IST2 for #DF and NMI must be per CPU, 6.14.5), the
 * BSP's IDT (LIDT of the same IDTR, so handlers are shared), its local
 * APIC enabled in the BSP's mode (lapic_init_cpu()). Then it idles in
 * STI;HLT, woken by a fixed IPI on SMP_WAKE_VECTOR, and runs what
 * smp_run_on() left in its slot with IF=0; smp_wait() halts too, until
 * the worker's wake-up IPI. smp_init() also calls pic_init(), which
 * masks the 8259s: the waits take interrupts, and a firmware tick
 * (SeaBIOS: IRQ0 through the BSP's LINT0) must not arrive as vector 8.
 * (SDM numbering of the 2023+ editions: MP initialization is 9.4, the
 * APIC chapter 11; older editions have them as 8.4 and 10.)
 *
 * Shootdown (tlb_shootdown(), the scheme of Linux's flush_tlb_others()):
 * the sender flushes locally (INVLPG, or MOV to CR3 for "all": 4.10.4.1),
 * takes the shootdown lock, publishes the range and a mask of the other
 * CPUs, sends SMP_FLUSH_VECTOR to them, and waits until every one has
 * flushed and cleared its bit. The waits keep IF=1, so two CPUs that
 * shoot down at once answer each other instead of deadlocking; a CPU
 * that runs with IF=0 never answers, so code that may be shot down runs
 * with IF=1 (the idle loop does). The same machinery INVLPGs a list of
 * addresses, or has every CPU load one CR3 value (an address-space
 * switch everywhere: each MOV to CR3 flushes that CPU's TLB, 4.10.4.1).
 */
#include "guests/guest.h"

#define MSR_GS_BASE		0xc0000101
/* 8 KiB per AP in .bss, 504 KiB for 63 APs: the image must stay below
 * 2 MiB (tests/guests/modes.c identity-maps only that much). The NMI and
 * #DF handlers need little: the runtime's handlers print at most. */
#define AP_STACK_SIZE		6144
#define AP_IST_SIZE		1024
#define PMTMR_HZ		3579545u
#define FADT_PM_TMR_BLK		76	/* ACPI 6.5 Table 5.9 */
#define FADT_FLAGS		112
#define FADT_TMR_VAL_EXT	(1u << 8)
#define SHOOTDOWN_MAX_PAGES	32	/* beyond this, a CR3 reload */

struct tss64 {			/* SDM 3A Figure 7-11 */
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "SDM 3A Figure 7-11: 104-byte 64-bit TSS");

struct ap_tables {
	uint64_t gdt[7] __attribute__((aligned(16)));
	struct tss64 tss __attribute__((aligned(16)));
};

static struct smp_cpu cpus[SMP_MAX_CPUS];
static struct ap_tables ap_tables[SMP_MAX_CPUS];
static uint8_t ap_stacks[SMP_MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t ap_ist[SMP_MAX_CPUS][2][AP_IST_SIZE] __attribute__((aligned(16)));
static unsigned ncpus = 1, madt_cpus;
static bool ready;
static struct {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed)) bsp_idtr;

uint64_t smp_ap_stack;		/* read by smp_trampoline.S */
extern const char smp_tramp16[], smp_tramp16_end[];
void smp_ap_main(void);

/* ---- the PM timer ---- */

static uint16_t pmtmr_port;
static uint32_t pmtmr_mask;

static void pmtmr_init(void)
{
	const struct acpi_header *f = acpi_find("FACP");

	if (!f || f->length < FADT_FLAGS + 4)
		return;
	const uint8_t *b = (const uint8_t *)f;
	uint32_t blk = b[FADT_PM_TMR_BLK] | b[FADT_PM_TMR_BLK + 1] << 8 |
		       (uint32_t)b[FADT_PM_TMR_BLK + 2] << 16 | (uint32_t)b[FADT_PM_TMR_BLK + 3] << 24;
	uint32_t flags = b[FADT_FLAGS] | b[FADT_FLAGS + 1] << 8;

	if (blk && blk < 0x10000) {
		pmtmr_port = (uint16_t)blk;
		pmtmr_mask = flags & FADT_TMR_VAL_EXT ? 0xffffffffu : 0xffffffu;
	}
}

void smp_delay_us(uint32_t us)
{
	uint64_t ticks = (uint64_t)us * PMTMR_HZ / 1000000 + 1;

	if (!pmtmr_port) {
		/* No PM timer: a bounded spin, long enough on any CPU that
		 * delivers an IPI in finite time (the waits are minimums). */
		for (uint64_t i = 0; i < (uint64_t)us * 1000; i++)
			cpu_relax();
		return;
	}
	uint32_t last = inl(pmtmr_port) & pmtmr_mask;
	for (uint64_t passed = 0; passed < ticks;) {
		uint32_t now = inl(pmtmr_port) & pmtmr_mask;
		passed += (now - last) & pmtmr_mask;
		last = now;
		cpu_relax();
	}
}

/* ---- per-CPU tables ---- */

static void load_cpu_tables(unsigned id)
{
	struct ap_tables *t = &ap_tables[id];
	uint64_t base = (uint64_t)&t->tss, limit = sizeof(t->tss) - 1;

	t->tss.rsp[0] = (uint64_t)(ap_stacks[id] + AP_STACK_SIZE);
	t->tss.ist[GDT_IST_DF - 1] = (uint64_t)(ap_ist[id][0] + AP_IST_SIZE);
	t->tss.ist[GDT_IST_NMI - 1] = (uint64_t)(ap_ist[id][1] + AP_IST_SIZE);
	t->tss.iomap_base = sizeof(t->tss);
	/* The runtime's selectors (gdt.c), SDM 3A 3.4.5 descriptor words. */
	t->gdt[0] = 0;
	t->gdt[1] = 0x00209A0000000000;
	t->gdt[2] = 0x00CF92000000FFFF;
	t->gdt[3] = 0x00CFF2000000FFFF;
	t->gdt[4] = 0x0020FA0000000000;
	t->gdt[GDT_TSS / 8] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | (uint64_t)0x89 << 40 |
			      ((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
	t->gdt[GDT_TSS / 8 + 1] = base >> 32;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(t->gdt) - 1, (uint64_t)t->gdt };
	/* CS 0x08 and SS/DS 0x10 describe the same segments in every GDT. */
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)GDT_TSS));
	__asm__ volatile("lidt %0" : : "m"(bsp_idtr));
}

/* ---- interrupts the runtime uses ---- */

static void wake_irq(struct guest_frame *f)
{
	(void)f;
	lapic_eoi();
}

/* A shootdown request: a range of pages, a list of addresses, or a CR3
 * value every CPU loads. */
struct sd_req {
	uint64_t va;
	unsigned npages;	/* range: 0 = everything (CR3 reload) */
	const uint64_t *list;	/* or INVLPG of list[0..npages-1] */
	uint64_t cr3;		/* or MOV of this to CR3 */
};
static struct sd_req sd_cur;
static volatile uint64_t sd_pending;	/* CPUs yet to flush and acknowledge */
static spinlock_t sd_lock;

static void flush_local(const struct sd_req *r)
{
	if (r->cr3) {
		write_cr3(r->cr3);
	} else if (r->list) {
		for (unsigned i = 0; i < r->npages; i++)
			invlpg((const volatile void *)(uintptr_t)r->list[i]);
	} else if (!r->npages || r->npages > SHOOTDOWN_MAX_PAGES) {
		write_cr3(read_cr3());
	} else {
		for (unsigned i = 0; i < r->npages; i++)
			invlpg((const volatile void *)(uintptr_t)(r->va + (uint64_t)i * PAGE_SIZE));
	}
}

static void flush_irq(struct guest_frame *f)
{
	struct smp_cpu *c = smp_this_cpu();

	(void)f;
	flush_local(&sd_cur);
	c->flushes++;
	__atomic_and_fetch(&sd_pending, ~(1ull << c->id), __ATOMIC_RELEASE);
	lapic_eoi();
}

/* ---- the API ---- */

unsigned smp_ncpus(void)
{
	return ncpus;
}

unsigned smp_madt_cpus(void)
{
	return madt_cpus;
}

struct smp_cpu *smp_cpu(unsigned id)
{
	return id < ncpus ? &cpus[id] : NULL;
}

unsigned smp_cpu_id(void)
{
	uint32_t id;

	if (!ready)
		return 0;
	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(id) : "i"(offsetof(struct smp_cpu, id)));
	return id;
}

struct smp_cpu *smp_this_cpu(void)
{
	return &cpus[smp_cpu_id()];
}

uint64_t smp_online_mask(void)
{
	return ncpus == 64 ? ~0ull : (1ull << ncpus) - 1;
}

/* Spins until every CPU has acknowledged the shootdown, with IF=1 all
 * the while (the caller's IF restored after): a CPU that waits must still
 * answer other CPUs' IPIs, and an STI;PAUSE;CLI window of one
 * instruction may never let one in (QEMU TCG's does not). */
static void wait_for_acks(void)
{
	uint64_t rflags;

	__asm__ volatile("pushfq; popq %0" : "=r"(rflags) : : "memory");
	irq_enable();
	while (__atomic_load_n(&sd_pending, __ATOMIC_ACQUIRE))
		cpu_relax();
	if (!(rflags & (1u << 9)))
		irq_disable();
}

void smp_run_on(unsigned cpu, void (*fn)(void *), void *arg)
{
	struct smp_cpu *c = &cpus[cpu];

	if (cpu >= ncpus)
		return;
	if (cpu == smp_cpu_id()) {
		fn(arg);
		return;
	}
	smp_wait(cpu);
	c->fn = fn;
	c->arg = arg;
	__atomic_store_n(&c->req, c->req + 1, __ATOMIC_RELEASE);
	ipi_send(c->apic_id, SMP_WAKE_VECTOR);
}

/* Halts until @cpu's work is done: the worker sends a wake-up IPI when
 * it finds c->waiter set (both sides store, MFENCE, then load: one of
 * them sees the other's store, 9.2.3.4, so the IPI is never missed).
 * A spinning waiter would take a host CPU from the worker; a halted one
 * still answers shootdowns (IF=1 in HLT). */
void smp_wait(unsigned cpu)
{
	struct smp_cpu *c = &cpus[cpu];
	uint64_t rflags;

	if (cpu >= ncpus || cpu == smp_cpu_id())
		return;
	__asm__ volatile("pushfq; popq %0" : "=r"(rflags) : : "memory");
	for (;;) {
		irq_disable();
		c->waiter = smp_cpu_id() + 1;
		smp_mb();
		if (__atomic_load_n(&c->done, __ATOMIC_ACQUIRE) == c->req)
			break;
		__asm__ volatile("sti; hlt" : : : "memory");
	}
	c->waiter = 0;
	if (rflags & (1u << 9))
		irq_enable();
}

void smp_run_all(void (*fn)(void *), void *arg)
{
	unsigned self = smp_cpu_id();

	for (unsigned i = 0; i < ncpus; i++)
		if (i != self)
			smp_run_on(i, fn, arg);
	fn(arg);
	for (unsigned i = 0; i < ncpus; i++)
		smp_wait(i);
}

void ipi_send(uint32_t apic_id, uint8_t vector)
{
	lapic_ipi(apic_id, ICR_FIXED | ICR_ASSERT | vector);
}

void ipi_send_cpu(unsigned cpu, uint8_t vector)
{
	ipi_send(cpus[cpu].apic_id, vector);
}

void ipi_broadcast_others(uint8_t vector)
{
	lapic_ipi(0, ICR_OTHERS | ICR_FIXED | ICR_ASSERT | vector);
}

void ipi_nmi_cpu(unsigned cpu)
{
	lapic_ipi(cpus[cpu].apic_id, ICR_NMI | ICR_ASSERT);
}

static void shootdown(const struct sd_req *r)
{
	unsigned self = smp_cpu_id();
	uint64_t rflags, others = smp_online_mask() & ~(1ull << self);

	flush_local(r);
	if (!others)
		return;
	__asm__ volatile("pushfq; popq %0" : "=r"(rflags) : : "memory");
	for (;;) {
		irq_disable();
		if (!__atomic_exchange_n(&sd_lock.v, 1, __ATOMIC_ACQUIRE))
			break;
		irq_enable();	/* answer the holder's shootdown while waiting */
		while (__atomic_load_n(&sd_lock.v, __ATOMIC_RELAXED))
			cpu_relax();
	}
	sd_cur = *r;
	__atomic_store_n(&sd_pending, others, __ATOMIC_RELEASE);
	cpus[self].shootdowns++;
	if (others == (smp_online_mask() & ~(1ull << self)) && ncpus == madt_cpus)
		ipi_broadcast_others(SMP_FLUSH_VECTOR);
	else
		for (unsigned i = 0; i < ncpus; i++)
			if (others >> i & 1)
				ipi_send_cpu(i, SMP_FLUSH_VECTOR);
	wait_for_acks();
	spin_unlock(&sd_lock);
	if (rflags & (1u << 9))
		irq_enable();
}

void tlb_shootdown(uint64_t va, unsigned npages)
{
	shootdown(&(struct sd_req){ .va = va, .npages = npages });
}

void tlb_shootdown_list(const uint64_t *va, unsigned n)
{
	shootdown(&(struct sd_req){ .list = va, .npages = n });
}

void tlb_switch_cr3_all(uint64_t cr3)
{
	shootdown(&(struct sd_req){ .cr3 = cr3 });
}

/* Every AP sets IA32_APIC_BASE.EXTD itself (the mode is per processor,
 * SDM 3A 11.12.1), in a work item; lapic.c keeps each CPU's mode, so
 * every CPU's EOIs and IPIs (the wake-up of the waiter) use its own
 * interface. The BSP goes last. */
static void x2apic_on(void *arg)
{
	(void)arg;
	lapic_x2apic_enable();
}

int smp_x2apic_enable(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 21)))
		return -GUEST_ENOENT;
	if (lapic_is_x2apic())
		return 0;
	for (unsigned i = 0; i < ncpus; i++) {
		if (i == smp_cpu_id())
			continue;
		smp_run_on(i, x2apic_on, NULL);
		smp_wait(i);
	}
	return lapic_x2apic_enable();
}

/* ---- bring-up ---- */

static void set_gs_base(struct smp_cpu *c)
{
	msr_write(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
}

void smp_ap_main(void)
{
	struct smp_cpu *c = NULL;

	lapic_init_cpu();
	uint32_t id = lapic_id();
	for (unsigned i = 1; i < ncpus; i++)
		if (cpus[i].apic_id == id)
			c = &cpus[i];
	if (!c) {
		__atomic_fetch_add(&cpus[0].strays, 1, __ATOMIC_RELAXED);
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	set_gs_base(c);
	load_cpu_tables(c->id);
	c->seen_apic_id = id;
	__atomic_fetch_add(&c->boots, 1, __ATOMIC_RELEASE);
	for (;;) {
		while (__atomic_load_n(&c->req, __ATOMIC_ACQUIRE) == c->done)
			irq_wait();
		c->fn(c->arg);
		irq_disable();
		__atomic_store_n(&c->done, c->req, __ATOMIC_RELEASE);
		smp_mb();
		uint32_t w = c->waiter;
		if (w)
			ipi_send_cpu(w - 1, SMP_WAKE_VECTOR);
	}
}

static int start_ap(struct smp_cpu *c)
{
	smp_ap_stack = (uint64_t)(ap_stacks[c->id] + AP_STACK_SIZE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_ipi(c->apic_id, ICR_INIT | ICR_ASSERT);
	smp_delay_us(10000);
	for (unsigned k = 0; k < 2; k++) {
		lapic_ipi(c->apic_id, ICR_STARTUP | ICR_ASSERT | (SMP_TRAMPOLINE_PA >> 12));
		smp_delay_us(200);
	}
	/* up to a second for the AP to reach smp_ap_main() */
	for (unsigned ms = 0; ms < 1000; ms++) {
		if (__atomic_load_n(&c->boots, __ATOMIC_ACQUIRE))
			return 0;
		smp_delay_us(1000);
	}
	return -GUEST_ETIMEDOUT;
}

int smp_init(void)
{
	struct acpi_cpu mc[SMP_MAX_CPUS];
	unsigned n;

	if (ready)
		return (int)ncpus;
	if (!lapic_base() && lapic_init())
		return -GUEST_ENOENT;
	/* The waits run with IF=1: firmware's 8259 tick (SeaBIOS: IRQ0 on
	 * vector 8 through the BSP's LINT0 in ExtINT mode) must not come in. */
	pic_init();
	n = acpi_cpus(mc, SMP_MAX_CPUS);
	if (!n)
		return -GUEST_ENOENT;
	if (n > SMP_MAX_CPUS)
		n = SMP_MAX_CPUS;
	madt_cpus = n;
	pmtmr_init();

	uint32_t self = lapic_id();
	/* cpus[] is .bss, still zero: set what differs (field by field:
	 * a struct copy would call memcpy, which a freestanding image lacks) */
	cpus[0].self = &cpus[0];
	cpus[0].apic_id = cpus[0].seen_apic_id = self;
	cpus[0].boots = 1;
	ncpus = 1;
	for (unsigned i = 0; i < n; i++) {
		if (mc[i].apic_id == self)
			continue;
		if (!lapic_is_x2apic() && mc[i].apic_id > 0xfe)
			continue;	/* not addressable by an xAPIC (11.6.2.1) */
		cpus[ncpus].apic_id = mc[i].apic_id;
		ncpus++;
	}
	__asm__ volatile("sidt %0" : "=m"(bsp_idtr));
	idt_set_irq(SMP_WAKE_VECTOR, wake_irq);
	idt_set_irq(SMP_FLUSH_VECTOR, flush_irq);
	set_gs_base(&cpus[0]);

	/* The 16-bit start lies below 1 MiB: a copy at the STARTUP vector's page. */
	const char *s = smp_tramp16;
	volatile char *d = (volatile char *)(uintptr_t)SMP_TRAMPOLINE_PA;
	for (; s < smp_tramp16_end; s++, d++)
		*d = *s;

	unsigned want = ncpus;
	int err = 0;
	ncpus = 1;	/* the shootdown mask covers the CPUs that are up */
	ready = true;
	for (unsigned i = 1; i < want; i++) {
		/* APs that did not come up leave a gap: renumber the rest */
		cpus[ncpus].apic_id = cpus[i].apic_id;
		cpus[ncpus].self = &cpus[ncpus];
		cpus[ncpus].id = ncpus;
		ncpus++;
		if (start_ap(&cpus[ncpus - 1])) {
			ncpus--;
			err = -GUEST_ETIMEDOUT;
		}
	}
	return err ? err : (int)ncpus;
}
