/*
 * lapic.c — the local APIC in xAPIC mode and its timer.
 *
 * SDM Vol. 3A chapter 11 (Advanced Programmable Interrupt Controller):
 * - 11.4.2/11.4.4: CPUID.01H:EDX[9] says there is an APIC; its register
 *   page sits at the physical base in IA32_APIC_BASE (MSR 1BH, Figure
 *   11-5: bits 12 up = base, bit 11 = APIC global enable, bit 8 = BSP).
 *   11.4.1: the page must be mapped strong uncacheable (UC). boot.S maps
 *   0-4 GiB with 2 MiB pages of write-back memory, so lapic_init() sets
 *   PCD and PWT in the PDE of the APIC page: with the power-up PAT that
 *   selects entry 3, UC (SDM 3A 12.12.3 and 4.9.2).
 * - 11.4.3: the APIC is software-enabled by SVR bit 8 (register 0F0H);
 *   its bits 7:0 are the spurious-interrupt vector (11.9), which the
 *   runtime routes to a handler that sends no EOI, as 11.9 requires.
 * - 11.5.4 (Figures 11-8, 11-10): the timer counts the initial-count
 *   register (380H) down at the bus clock / divide configuration (3E0H,
 *   bits 0, 1, 3). LVT timer (320H): vector 7:0, mask bit 16, mode 18:17
 *   (00 one-shot, 01 periodic). One-shot interrupts once when the count
 *   reaches 0 and the current count (390H) stays 0; periodic reloads it.
 *   Writing 0 to the initial count stops the timer.
 * - 11.8.5: a handler ends with a write of 0 to the EOI register (0B0H).
 * - 11.8.3.1: TPR 0, so no class of vectors is held back.
 * The registers are 32 bits wide, 16-byte aligned, accessed as whole
 * dwords (11.4.1).
 *
 * Inter-processor interrupts (11.6, Figure 11-12): the ICR's low dword
 * (300H) holds vector 7:0, delivery mode 10:8, destination mode 11,
 * delivery status 12 (read-only), level 14, trigger mode 15, shorthand
 * 19:18; the high dword (310H) the destination in 31:24. Writing the low
 * dword sends, so the high one goes first; 11.6.1 asks software to wait
 * until delivery status reads 0 (idle) before the next write, which
 * lapic_ipi() does after each send.
 *
 * x2APIC mode (11.12): lapic_x2apic_enable() sets IA32_APIC_BASE.EXTD
 * (bit 10) with EN (11.12.1, CPUID.01H:ECX[21] first); from then on
 * lapic_read/write() reach register R as MSR 800H + R/16 (11.12.1.2,
 * Table 11-6) and the ICR is the single 64-bit MSR 830H with the 32-bit
 * destination in 63:32 and no delivery-status bit (11.12.9). The mode is
 * per processor; the flag here is the runtime's: smp.c puts every AP
 * into the BSP's mode.
 */
#include "guests/guest.h"

#define MSR_IA32_APIC_BASE	0x1b
#define APIC_BASE_ENABLE	(1ull << 11)
#define APIC_BASE_ADDR		0x000ffffffffff000ull
#define SVR_APIC_ENABLE		(1u << 8)
#define LVT_MASKED		(1u << 16)
#define LVT_TIMER_PERIODIC	(1u << 17)
#define PDE_PWT			(1ull << 3)
#define PDE_PCD			(1ull << 4)
#define APIC_BASE_EXTD		(1ull << 10)
#define X2APIC_MSR_BASE		0x800
#define X2APIC_MSR_ICR		0x830
#define ICR_LOW			0x300
#define ICR_HIGH		0x310
#define ICR_BUSY		(1u << 12)

static volatile uint32_t *regs;
static uint64_t base;
static volatile uint64_t ticks;
static uint64_t tick_limit;
/* The mode is per processor (11.12.1): each CPU's own flag, by
 * smp_cpu_id() (0 before smp_init()). */
static bool x2apic_cpu[SMP_MAX_CPUS];
#define x2apic (x2apic_cpu[smp_cpu_id()])

uint64_t lapic_base(void)
{
	return base;
}

uint32_t lapic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)msr_read(X2APIC_MSR_BASE + reg / 16);
	return regs[reg / 4];
}

void lapic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		msr_write(X2APIC_MSR_BASE + reg / 16, v);
	else
		regs[reg / 4] = v;
}

bool lapic_is_x2apic(void)
{
	return x2apic;
}

uint32_t lapic_id(void)
{
	/* 11.4.6: the xAPIC ID is in bits 31:24; 11.12.5.1: all 32 bits */
	return x2apic ? lapic_read(LAPIC_REG_ID) : lapic_read(LAPIC_REG_ID) >> 24;
}

void lapic_ipi(uint32_t dest, uint32_t icr)
{
	if (x2apic) {
		/* one WRMSR sends; a fence first so earlier stores are visible
		 * to the receiver (11.12.3: WRMSR to x2APIC registers is not
		 * serializing) */
		__asm__ volatile("mfence" : : : "memory");
		msr_write(X2APIC_MSR_ICR, (uint64_t)dest << 32 | icr);
		return;
	}
	/* An interrupt handler's IPI between the two writes would send to
	 * its destination, not ours: interrupts off across the pair. */
	uint64_t rflags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(rflags) : : "memory");
	lapic_write(ICR_HIGH, dest << 24);
	lapic_write(ICR_LOW, icr);
	while (lapic_read(ICR_LOW) & ICR_BUSY)
		__asm__ volatile("pause");
	if (rflags & (1u << 9))
		irq_enable();
}

int lapic_x2apic_enable(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 21)))
		return -GUEST_ENOENT;
	uint64_t msr = msr_read(MSR_IA32_APIC_BASE);
	if (!(msr & APIC_BASE_EXTD))
		msr_write(MSR_IA32_APIC_BASE, msr | APIC_BASE_ENABLE | APIC_BASE_EXTD);
	x2apic = true;
	return 0;
}

int lapic_init_cpu(void)
{
	uint64_t msr = msr_read(MSR_IA32_APIC_BASE);

	if (!regs || (msr & APIC_BASE_ADDR) != base)
		return -GUEST_EINVAL;
	if (!(msr & APIC_BASE_ENABLE))
		msr_write(MSR_IA32_APIC_BASE, msr |= APIC_BASE_ENABLE);
	/* A CPU started after the BSP went x2APIC follows it. */
	if (x2apic_cpu[0] && !(msr & APIC_BASE_EXTD))
		msr_write(MSR_IA32_APIC_BASE, msr | APIC_BASE_EXTD);
	x2apic = x2apic_cpu[0];
	lapic_write(LAPIC_REG_TPR, 0);
	lapic_write(LAPIC_REG_SVR, SVR_APIC_ENABLE | LAPIC_SPURIOUS_VECTOR);
	return 0;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_REG_EOI, 0);
}

static void lapic_timer_irq(struct guest_frame *f)
{
	(void)f;
	ticks++;
	if (tick_limit && ticks >= tick_limit)
		lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_TIMER_VECTOR | LVT_MASKED);
	lapic_eoi();
}

static void lapic_spurious_irq(struct guest_frame *f)
{
	(void)f;	/* no EOI for a spurious interrupt (11.9) */
}

int lapic_init(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[3] & (1u << 9)))
		return -GUEST_ENOENT;
	uint64_t msr = msr_read(MSR_IA32_APIC_BASE);
	base = msr & APIC_BASE_ADDR;
	if (base >= 4ull << 30)
		return -GUEST_ENOENT;	/* outside the identity map */
	if (!(msr & APIC_BASE_ENABLE))
		msr_write(MSR_IA32_APIC_BASE, msr | APIC_BASE_ENABLE);
	uint64_t *pde = &guest_pd[base >> 30][(base >> 21) & 511];
	*pde |= PDE_PCD | PDE_PWT;
	invlpg((const void *)base);
	regs = (volatile uint32_t *)base;

	idt_set_irq(LAPIC_SPURIOUS_VECTOR, lapic_spurious_irq);
	lapic_write(LAPIC_REG_TPR, 0);
	lapic_write(LAPIC_REG_SVR, SVR_APIC_ENABLE | LAPIC_SPURIOUS_VECTOR);
	return 0;
}

/* Figure 11-10: divide-by 2^(n+1) is n in bits 1:0 and bit 3 (n = 0..6);
 * divide-by-1 is 111b. */
static int divide_config(unsigned divide, uint32_t *cfg)
{
	for (unsigned n = 0; n < 7; n++)
		if (divide == 2u << n) {
			*cfg = (n & 3) | (n & 4) << 1;
			return 0;
		}
	if (divide != 1)
		return -GUEST_EINVAL;
	*cfg = 0xb;
	return 0;
}

int lapic_timer_start(unsigned mode, unsigned divide, uint32_t count, uint64_t limit)
{
	uint32_t cfg;

	if (!regs || count == 0 || mode > LAPIC_PERIODIC || divide_config(divide, &cfg))
		return -GUEST_EINVAL;
	ticks = 0;
	tick_limit = limit;
	idt_set_irq(LAPIC_TIMER_VECTOR, lapic_timer_irq);
	lapic_write(LAPIC_REG_TIMER_DIV, cfg);
	lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_TIMER_VECTOR |
		    (mode == LAPIC_PERIODIC ? LVT_TIMER_PERIODIC : 0));
	/* the write of the initial count starts the count-down (11.5.4) */
	lapic_write(LAPIC_REG_TIMER_INIT, count);
	return 0;
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_TIMER_VECTOR | LVT_MASKED);
	lapic_write(LAPIC_REG_TIMER_INIT, 0);
}

uint64_t lapic_timer_ticks(void)
{
	return ticks;
}
