/*
 * smp_shootdown.c — TLB shootdowns checked by readers on the other CPUs:
 * one CPU remaps, unmaps and batch-remaps shared pages and shoots down;
 * every other CPU reads through the same mappings all the while and
 * checks each read against what the writer has published.
 *
 * SMP: 1 2 4 8
 *
 * SDM Vol. 3A:
 *  - 4.10.2, 4.10.4.1: each processor caches translations in its own
 *    TLB; INVLPG and MOV to CR3 act on the executing processor only.
 *  - 4.10.5 (Propagation of paging-structure changes to multiple
 *    processors): software makes a change visible to the others by a
 *    "TLB shootdown": change the entry, invalidate locally, IPI the
 *    others, which invalidate and acknowledge; once all have, no
 *    processor uses the old translation (tlb_shootdown() in smp.c).
 *  - 4.7: a read through a not-present entry: #PF, error code 0 (P=0,
 *    read, CPL 0), CR2 = the address.
 *  - 9.2.2 (memory ordering): stores are seen in program order, so a
 *    frame filled before its PTE is written is seen full through it.
 *
 * Layout: a page table (sd_pt) linked into guest_pd[1][0] maps NPAGES
 * pages at 1 GiB; page p maps one of FRAMES frames of its own at 24 MiB,
 * in turn, so a remap never rewrites the frame mapped at the time.
 * Every word of a frame holds TAG | p << 32 | g, g the generation of the
 * remap that chose it (all operations share one counter). The writer,
 * per operation (a fixed xorshift sequence, so the same on every CPU
 * count): remap (fill the page's next frame with the new generation,
 * write the PTE, shoot down that page), unmap (PTE 0, shoot down), or
 * a batch remap of every page followed by one full shootdown (MOV to CR3
 * everywhere); only after tlb_shootdown() returns does it publish the
 * generation (published[p], bit 31 = unmapped); started[p] = g says,
 * before the PTE changes, that generation g is being made. A reader
 * first reads published[p] = g0, then the page: it must see a word of
 * page p with generation >= g0, or #PF if g0 says unmapped; a #PF where
 * g0 says mapped, or a mapping where g0 says unmapped, is allowed only
 * if a later change of the page has begun (started[p] > g0, read after
 * the access): until its shootdown, old and new translation may both
 * be in use (4.10.2.3). A frame
 * is rewritten only FRAMES generations after it was unmapped from its
 * page, and after the shootdown that removed it, so no reader can reach
 * it through an old translation (why reuse is safe); a missing or late
 * invalidation shows as an older generation.
 *
 * Two phases: writer CPU 0 with readers 1..n-1, then writer CPU n-1 and
 * readers 0..n-2 (on one CPU, the writer alone; it checks its own reads
 * after each operation in every case). The acknowledgements: each
 * shootdown must be answered by every other CPU exactly once
 * (smp_cpu->flushes).
 * Expected serial output: tests/guests/smp_shootdown.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define MiB		0x100000ull
#define VA_BASE		(1ull << 30)
#define NPAGES		8
#define FRAMES		4
#define FRAME_BASE	(24 * MiB)
#define TAG		0x5D00000000000000ull
#define UNMAPPED	0x80000000u
#define OPS		1000
#define READS_PER_WAKE	16
#define PTE_PRW		(PTE_P | PTE_RW)

enum { T_READS, T_BAD, T_FAULT, T_FAULT_ERR, T_FAULT_CR2, T_RNG, T_STARTED };

static uint64_t sd_pt[512] __attribute__((aligned(4096)));
static volatile uint32_t published[NPAGES];
static volatile uint32_t started[NPAGES];	/* the generation being made */
static volatile uint32_t stop;
static uint32_t generation;
static uint64_t rng = 0x2545F4914F6CDD1Dull;
static struct {
	unsigned remaps, unmaps, batches, shootdowns;
} st;
/* the first bad read, for the report */
static volatile uint64_t bad_word, bad_g0, bad_page;

uint64_t sd_load(uint64_t va);
extern const char sd_load_insn[], sd_load_done[];
__asm__(".text\n"
	"sd_load:\n"
	"sd_load_insn: movq (%rdi), %rax\n"
	"sd_load_done: ret\n");

static void on_pf(struct guest_frame *f)
{
	struct smp_cpu *c = smp_this_cpu();

	if (f->rip != (uint64_t)(uintptr_t)sd_load_insn) {
		guest_printf("#PF outside the probe: rip 0x%lx cr2 0x%lx\n", f->rip, read_cr2());
		guest_exit(GUEST_EXIT_FAIL);
	}
	f->rip = (uint64_t)(uintptr_t)sd_load_done;
	f->rax = 0;
	c->test[T_FAULT] = 1;
	c->test[T_FAULT_ERR] = f->error_code;
	c->test[T_FAULT_CR2] = read_cr2();
}

static uint32_t xs(volatile uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 32);
}

/* The page's frames in turn: never the one mapped now. */
static unsigned nremaps[NPAGES];
static uint64_t next_frame(unsigned p)
{
	return FRAME_BASE + ((uint64_t)p * FRAMES + nremaps[p]++ % FRAMES) * PAGE_SIZE;
}

static uint64_t word_of(unsigned p, uint32_t g)
{
	return TAG | (uint64_t)p << 32 | g;
}

static void fill(uint64_t frame, uint64_t v)
{
	uint64_t d = frame, n = PAGE_SIZE / 8;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}

static void bad(struct smp_cpu *c, unsigned p, uint32_t g0, uint64_t w)
{
	if (__atomic_fetch_add(&c->test[T_BAD], 1, __ATOMIC_RELAXED) == 0) {
		bad_word = w;
		bad_g0 = g0;
		bad_page = p;
	}
}

/* One checked read of page @p, by the rules in the note above. */
static void check_read(struct smp_cpu *c)
{
	unsigned p = xs(&c->test[T_RNG]) % NPAGES;
	uint64_t va = VA_BASE + p * PAGE_SIZE + (xs(&c->test[T_RNG]) % 512) * 8;
	uint32_t g0 = __atomic_load_n(&published[p], __ATOMIC_ACQUIRE);

	c->test[T_FAULT] = 0;
	uint64_t w = sd_load(va);
	bool faulted = c->test[T_FAULT];
	uint32_t s1 = __atomic_load_n(&started[p], __ATOMIC_ACQUIRE);

	c->test[T_READS]++;
	if (faulted) {
		if (c->test[T_FAULT_ERR] != 0 || c->test[T_FAULT_CR2] != va)
			bad(c, p, g0, 0xFA0000 | c->test[T_FAULT_ERR]);
		else if (!(g0 & UNMAPPED) && s1 <= (g0 & ~UNMAPPED))
			bad(c, p, g0, w);	/* mapped, no change begun since: no #PF allowed */	/* mapped, nothing changed: no #PF allowed */
		return;
	}
	if ((g0 & UNMAPPED) && s1 <= (g0 & ~UNMAPPED)) {
		bad(c, p, g0, w);		/* unmapped and shot down, yet read */
		return;
	}
	if ((w & ~0xFFFFFFFFull) != (TAG | (uint64_t)p << 32) || (uint32_t)w < (g0 & ~UNMAPPED))
		bad(c, p, g0, w);
}

static void reader(void *arg)
{
	struct smp_cpu *c = smp_this_cpu();

	(void)arg;
	c->test[T_RNG] = 0x9E3779B97F4A7C15ull ^ (uint64_t)(c->id + 1) << 32;
	irq_enable();	/* shootdowns must reach us */
	check_read(c);
	__atomic_store_n(&c->test[T_STARTED], 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		for (unsigned k = 0; k < READS_PER_WAKE; k++)
			check_read(c);
		/* then sleep until the next shootdown: the time right after
		 * one is when a stale translation would show, and a halted
		 * CPU leaves the host (or the scheduler) to the writer */
		irq_disable();
		if (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
			__asm__ volatile("sti; hlt" : : : "memory");
		irq_enable();
	}
	irq_disable();
}

static void remap(unsigned p, uint32_t g)
{
	uint64_t f = next_frame(p);

	fill(f, word_of(p, g));
	__atomic_store_n(&sd_pt[p], f | PTE_PRW, __ATOMIC_RELEASE);
}

static void writer(void *arg)
{
	struct smp_cpu *c = smp_this_cpu();
	unsigned self = smp_cpu_id();

	(void)arg;
	irq_enable();
	for (unsigned i = 0; i < smp_ncpus(); i++)
		while (i != self && !__atomic_load_n(&smp_cpu(i)->test[T_STARTED], __ATOMIC_ACQUIRE))
			cpu_relax();
	for (unsigned op = 0; op < OPS; op++) {
		unsigned r = xs(&rng) % 10, p = xs(&rng) % NPAGES;
		uint32_t g = ++generation;

		if (r < 8)
			__atomic_store_n(&started[p], g, __ATOMIC_RELEASE);
		else
			for (unsigned q = 0; q < NPAGES; q++)
				__atomic_store_n(&started[q], g, __ATOMIC_RELEASE);
		if (r < 6) {
			remap(p, g);
			tlb_shootdown(VA_BASE + p * PAGE_SIZE, 1);
			__atomic_store_n(&published[p], g, __ATOMIC_RELEASE);
			st.remaps++;
		} else if (r < 8) {
			__atomic_store_n(&sd_pt[p], 0, __ATOMIC_RELEASE);
			tlb_shootdown(VA_BASE + p * PAGE_SIZE, 1);
			__atomic_store_n(&published[p], g | UNMAPPED, __ATOMIC_RELEASE);
			st.unmaps++;
		} else {
			for (unsigned q = 0; q < NPAGES; q++)
				remap(q, g);
			tlb_shootdown(VA_BASE, 0);
			for (unsigned q = 0; q < NPAGES; q++)
				__atomic_store_n(&published[q], g, __ATOMIC_RELEASE);
			st.batches++;
		}
		st.shootdowns++;
		for (unsigned k = 0; k < 4; k++)
			check_read(c);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < smp_ncpus(); i++)
		if (i != self)
			ipi_send_cpu(i, SMP_WAKE_VECTOR);	/* out of HLT */
	irq_disable();
}

static bool phase(unsigned w)
{
	uint64_t flushes[SMP_MAX_CPUS], reads = 0;
	unsigned n = smp_ncpus(), before = st.shootdowns;
	bool all_read = true;

	stop = 0;
	for (unsigned i = 0; i < n; i++) {
		smp_cpu(i)->test[T_STARTED] = 0;
		smp_cpu(i)->test[T_READS] = 0;
		flushes[i] = smp_cpu(i)->flushes;
	}
	for (unsigned i = 0; i < n; i++)
		if (i != w && i != 0)
			smp_run_on(i, reader, NULL);
	if (w != 0) {
		smp_run_on(w, writer, NULL);
		reader(NULL);
	} else {
		writer(NULL);
	}
	for (unsigned i = 0; i < n; i++)
		smp_wait(i);

	bool acks = true;
	uint64_t bads = 0;
	for (unsigned i = 0; i < n; i++) {
		struct smp_cpu *c = smp_cpu(i);
		uint64_t want = i == w ? 0 : st.shootdowns - before;
		acks = acks && c->flushes - flushes[i] == want;
		bads += c->test[T_BAD];
		reads += c->test[T_READS];
		all_read = all_read && c->test[T_READS] > 0;
	}
	guest_check("  every CPU read", all_read && reads >= 4 * OPS);
	guest_check("  every shootdown acknowledged once by every other CPU", acks);
	guest_check("  every read saw its generation or later, #PF exactly where unmapped", !bads);
	if (bads)
		guest_printf("  first bad read: page %lu, published 0x%lx, got 0x%lx (%lu bad)\n",
			     bad_page, bad_g0, bad_word, bads);
	return !bads;
}

int guest_main(void)
{
	int n = smp_init();

	guest_check("smp_init", n > 0 && (unsigned)n == smp_madt_cpus());
	if (n <= 0)
		return GUEST_EXIT_FAIL;
	idt_set_handler(14, on_pf);
	for (unsigned p = 0; p < NPAGES; p++) {
		remap(p, 0);
		published[p] = 0;
	}
	guest_pd[1][0] = (uint64_t)(uintptr_t)sd_pt | PTE_PRW;
	tlb_shootdown(VA_BASE, 0);

	guest_printf("phase 1: writer CPU 0, the others read\n");
	phase(0);
	guest_printf("phase 2: writer the last CPU, the others read\n");
	phase((unsigned)n - 1);
	guest_printf("operations: %u remaps, %u unmaps, %u batch remaps with a full flush\n",
		     st.remaps, st.unmaps, st.batches);
	guest_printf("last generation %u\n", generation);
	return guest_check_status();
}
