/*
 * shootdown.c — the TLB-shootdown benchmark guest: every CPU reads and
 * writes pages of one shared address space while CPU 0 migrates,
 * write-protects and batch-migrates them, each change followed by a TLB
 * shootdown: the munmap/mprotect/migration storm of an SMP kernel.
 *
 * One address space (guests/vm.c) maps N pages at VM_USER_BASE up; every
 * CPU loads it (tlb_switch_cr3_all). CPU c owns W words of each page
 * (words c*W .. c*W+W-1). A "pass" of CPU c over the pages reads each of
 * its words, checks it against the value its previous pass wrote, and
 * writes the value of this pass: val(c, t, page, word), so a word names
 * its CPU, pass, page and place. The CPUs other than 0 (the "touchers")
 * make passes until CPU 0 says stop. CPU 0 (the "writer") does R rounds;
 * each round is one operation picked by a fixed xorshift sequence (the
 * same on every CPU count), then one pass of its own:
 *  - migrate (1/2): the page's PTE is cleared, the page shot down
 *    (tlb_shootdown: local INVLPG, then an IPI the others answer with
 *    INVLPG; SDM Vol. 3A 4.10.5), its frame copied to a fresh one, the
 *    PTE pointed there, the old frame freed — page migration as a kernel
 *    does it, through a not-present PTE;
 *  - protect (1/4): R/W cleared and shot down (mprotect); the writer
 *    hashes the frame, makes a read-only pass over the other pages, and
 *    hashes again: no CPU can have written it (a stale writable TLB
 *    entry would have). Then R/W is set again without a shootdown:
 *    4.10.4.3 lets software skip the invalidation when it only adds
 *    rights, at the price of a spurious #PF, which the #PF itself
 *    repairs (4.10.4.1: a #PF invalidates the faulting address);
 *  - batch (1/4): every page's PTE cleared, one full shootdown (MOV to
 *    CR3 on every CPU, 4.10.4.1), every page migrated (munmap of a range).
 * A toucher that meets a page being changed takes a #PF (4.7: error code
 * 0 or 2 for a not-present page, 3 for a write to a read-only one; CR2 =
 * the address) and waits in the handler, with IF=1 so it still answers
 * shootdowns, until the PTE allows the access; IRET then retries it.
 *
 * Self-check: every read a CPU makes must give back what it wrote last
 * (a write that went through a stale translation to a frame already
 * copied is lost, and a read of a stale frame sees another page's or an
 * older pass's word: 4.10.2.3, only a shootdown makes a change safe);
 * the hashes around each protect agree; each shootdown was answered by
 * every other CPU exactly once (smp_cpu.flushes); after the stop, every
 * word of every page holds its CPU's last pass; every frame and table
 * goes back to the allocator. The checksum folds the writer's choices
 * and reads only, so it does not depend on how the CPUs interleave.
 *
 * Parameters (--append): n=N pages (1..512, default 16), r=R rounds
 * (1..10^8, default 200), w=W words per page and CPU (1..512, default
 * 8; CPUs * W must fit in a page's 512 words, a larger W is cut down and
 * says so). Runs on any number of CPUs, 1 included (no IPIs then).
 * Prints its parameters, the operations, the touchers' passes and #PF
 * waits, and "shootdown: checksum 0x...: ok"; exit status 1
 * (guest_exit(0)) when all holds, 3 otherwise.
 */
#include "bench/workloads/args.h"

#define NPAGES_MAX	512	/* one page table */
#define WORDS		(PAGE_SIZE / 8ull)
#define PF_P		(1ull << 0)
#define PF_W		(1ull << 1)

enum { OP_MIGRATE, OP_PROTECT, OP_BATCH };

/* A CPU's own counts, each written by that CPU only. */
struct toucher {
	volatile uint64_t passes;	/* passes finished */
	volatile uint64_t waits;	/* #PFs waited out */
	volatile uint64_t bad;		/* reads that were wrong */
	volatile uint64_t bad_page, bad_word, bad_got, bad_want;	/* the first */
	volatile uint32_t started;
} __attribute__((aligned(64)));

static struct toucher cpu_st[SMP_MAX_CPUS];
static struct vm_space space;
static volatile uint64_t *ptes;		/* the leaf table mapping the N pages */
static uint64_t frame[NPAGES_MAX];	/* the writer's record of each page's frame */
static uint64_t npages, nwords;
static volatile uint32_t stop;
static uint64_t rng = 0x2545F4914F6CDD1Dull;
static struct {
	uint64_t migrates, protects, batches, shootdowns, bad;
} st;

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ x >> 30) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ x >> 27) * 0x94d049bb133111ebull;
	return x ^ x >> 31;
}

static uint64_t xs(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 32;
}

/* What CPU @c's pass @t leaves in word @k of its words on page @p. */
static uint64_t val(unsigned c, uint64_t t, uint64_t p, uint64_t k)
{
	return mix(t << 24 | (uint64_t)c << 18 | p << 9 | k);
}

static volatile uint64_t *page(uint64_t p)
{
	return (volatile uint64_t *)(uintptr_t)(VM_USER_BASE + p * PAGE_SIZE);
}

static uint64_t pte_load(uint64_t p)
{
	return __atomic_load_n(&ptes[p], __ATOMIC_ACQUIRE);
}

static void pte_store(uint64_t p, uint64_t v)
{
	__atomic_store_n(&ptes[p], v, __ATOMIC_RELEASE);
}

static void bad_read(struct toucher *s, uint64_t p, uint64_t k, uint64_t got, uint64_t want)
{
	if (!s->bad) {
		s->bad_page = p;
		s->bad_word = k;
		s->bad_got = got;
		s->bad_want = want;
	}
	s->bad++;
}

/* A page being changed: wait, answering shootdowns, until its PTE allows
 * the access, then return to retry it. Any other #PF is a failure. */
static void on_pf(struct guest_frame *f)
{
	const uint64_t va = read_cr2(), p = (va - VM_USER_BASE) / PAGE_SIZE;
	const bool write = f->error_code & PF_W;

	if (va < VM_USER_BASE || p >= npages || (f->error_code & ~(PF_P | PF_W)) ||
	    f->error_code == PF_P) {
		guest_printf("shootdown: CPU %u: unexpected #PF: error 0x%lx cr2 0x%lx rip 0x%lx\n",
			     smp_cpu_id(), f->error_code, va, f->rip);
		guest_exit(GUEST_EXIT_FAIL);
	}
	cpu_st[smp_cpu_id()].waits++;
	irq_enable();
	for (;;) {
		const uint64_t pte = pte_load(p);
		if ((pte & PTE_P) && (!write || (pte & PTE_RW)))
			break;
		cpu_relax();
	}
	irq_disable();
}

/* Pass @t of CPU @c: check what pass t-1 wrote, write pass t's values. */
static void pass(unsigned c, uint64_t t, struct toucher *s)
{
	for (uint64_t p = 0; p < npages; p++) {
		volatile uint64_t *w = page(p) + c * nwords;
		for (uint64_t k = 0; k < nwords; k++) {
			const uint64_t got = w[k], want = val(c, t - 1, p, k);
			if (got != want)
				bad_read(s, p, k, got, want);
			w[k] = val(c, t, p, k);
		}
	}
	s->passes = t;
}

/* The writer's read-only pass over every page but @skip; its sum. */
static uint64_t check_pass(uint64_t skip, struct toucher *s)
{
	uint64_t sum = 0;

	for (uint64_t p = 0; p < npages; p++) {
		if (p == skip)
			continue;
		volatile uint64_t *w = page(p);
		for (uint64_t k = 0; k < nwords; k++) {
			const uint64_t got = w[k], want = val(0, s->passes, p, k);
			if (got != want)
				bad_read(s, p, k, got, want);
			sum += got;
		}
	}
	return sum;
}

static void toucher(void *arg)
{
	const unsigned c = smp_cpu_id();
	struct toucher *s = &cpu_st[c];

	(void)arg;
	irq_enable();	/* shootdowns must reach us */
	__atomic_store_n(&s->started, 1, __ATOMIC_RELEASE);
	for (uint64_t t = 1; !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); t++)
		pass(c, t, s);
}

static void copy_frame(uint64_t dst, uint64_t src)
{
	void *d = (void *)(uintptr_t)dst;
	const void *s = (const void *)(uintptr_t)src;
	uint64_t n = WORDS;

	__asm__ volatile("cld; rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

static uint64_t hash_frame(uint64_t pa)
{
	const volatile uint64_t *w = (const volatile uint64_t *)(uintptr_t)pa;
	uint64_t h = 0;

	for (unsigned i = 0; i < WORDS; i++)
		h = (h << 7 | h >> 57) ^ w[i];
	return h;
}

/* Page @p's contents into a fresh frame, mapped writable; the old frame
 * freed. The page is unmapped and shot down already. Out of memory ends
 * the run: the other CPUs may be waiting for the page. */
static void move(uint64_t p)
{
	const uint64_t nf = page_alloc();

	if (!nf) {
		guest_printf("shootdown: out of memory\n");
		guest_exit(GUEST_EXIT_FAIL);
	}
	copy_frame(nf, frame[p]);
	pte_store(p, nf | PTE_P | PTE_RW);
	page_free(frame[p]);
	frame[p] = nf;
}

/* One round's operation; its contribution to the checksum. */
static uint64_t operate(uint64_t op, uint64_t p, struct toucher *s)
{
	uint64_t h1, h2, sum;

	switch (op) {
	case OP_MIGRATE:
		pte_store(p, 0);
		tlb_shootdown((uint64_t)(uintptr_t)page(p), 1);
		st.shootdowns++;
		st.migrates++;
		move(p);
		return frame[p];
	case OP_PROTECT:
		pte_store(p, frame[p] | PTE_P);
		tlb_shootdown((uint64_t)(uintptr_t)page(p), 1);
		st.shootdowns++;
		st.protects++;
		h1 = hash_frame(frame[p]);
		sum = check_pass(p, s);
		h2 = hash_frame(frame[p]);
		if (h1 != h2) {
			if (!st.bad)
				guest_printf("shootdown: page %lu written while read-only\n", p);
			st.bad++;
		}
		pte_store(p, frame[p] | PTE_P | PTE_RW);
		return sum;
	default:
		for (uint64_t q = 0; q < npages; q++)
			pte_store(q, 0);
		tlb_shootdown((uint64_t)(uintptr_t)page(0), 0);
		st.shootdowns++;
		st.batches++;
		sum = 0;
		for (uint64_t q = 0; q < npages; q++) {
			move(q);
			sum = (sum << 3 | sum >> 61) ^ frame[q];
		}
		return sum;
	}
}

static uint64_t writer(uint64_t rounds)
{
	struct toucher *s = &cpu_st[0];
	uint64_t cs = 0;

	for (unsigned i = 1; i < smp_ncpus(); i++)
		while (!__atomic_load_n(&cpu_st[i].started, __ATOMIC_ACQUIRE))
			cpu_relax();
	for (uint64_t r = 0; r < rounds; r++) {
		const uint64_t x = xs() % 4, p = xs() % npages;
		const uint64_t op = x < 2 ? OP_MIGRATE : x == 2 ? OP_PROTECT : OP_BATCH;

		cs = (cs << 11 | cs >> 53) ^ op << 60 ^ p << 48 ^ operate(op, p, s);
		pass(0, s->passes + 1, s);
	}
	/* The writer's final words, in its checksum: all its own writes. */
	return cs ^ check_pass(npages, s);
}

/* After the stop: every word holds its CPU's last pass; the count of bad words. */
static uint64_t final_check(void)
{
	uint64_t wrong = 0;

	for (unsigned c = 0; c < smp_ncpus(); c++)
		for (uint64_t p = 0; p < npages; p++)
			for (uint64_t k = 0; k < nwords; k++) {
				const uint64_t got = page(p)[c * nwords + k];
				const uint64_t want = val(c, cpu_st[c].passes, p, k);
				if (got != want && wrong++ < 4)
					guest_printf("shootdown: CPU %u page %lu word %lu: 0x%lx, "
						     "expected 0x%lx\n", c, p, k, got, want);
			}
	return wrong;
}

int guest_main(void)
{
	const int n = smp_init();
	uint64_t flushes[SMP_MAX_CPUS], free_before, checksum, passes = 0, waits = 0;

	npages = bench_arg("n", 16, 1, NPAGES_MAX);
	const uint64_t rounds = bench_arg("r", 200, 1, 100000000);
	nwords = bench_arg("w", 8, 1, WORDS);
	if (n <= 0) {
		guest_printf("shootdown: smp_init failed (%d)\n", n);
		return GUEST_EXIT_FAIL;
	}
	const unsigned ncpus = (unsigned)n;
	if (ncpus * nwords > WORDS) {
		guest_printf("w: %lu words for each of %u CPUs do not fit in a page; using %lu\n",
			     nwords, ncpus, (uint64_t)(WORDS / ncpus));
		nwords = WORDS / ncpus;
	}
	guest_printf("shootdown: %u CPU%s, %lu pages, %lu words per page and CPU, %lu rounds\n",
		     ncpus, ncpus == 1 ? "" : "s", npages, nwords, rounds);
	if (vm_init()) {
		guest_printf("shootdown: no memory map\n");
		return GUEST_EXIT_FAIL;
	}
	free_before = page_free_count();
	if (vm_create(&space))
		goto nomem;
	for (uint64_t p = 0; p < npages; p++) {
		frame[p] = page_alloc();
		if (!frame[p] || vm_map(&space, (uint64_t)(uintptr_t)page(p), frame[p], PTE_RW))
			goto nomem;
		volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)frame[p];
		for (unsigned c = 0; c < ncpus; c++)
			for (uint64_t k = 0; k < nwords; k++)
				w[c * nwords + k] = val(c, 0, p, k);
	}
	/* Pages 0..N-1 share one leaf table: VM_USER_BASE is 512 GiB aligned. */
	ptes = vm_pte(&space, (uint64_t)(uintptr_t)page(0));
	idt_set_handler(14, on_pf);
	tlb_switch_cr3_all(space.pml4);
	for (unsigned c = 0; c < ncpus; c++)
		flushes[c] = smp_cpu(c)->flushes;

	for (unsigned c = 1; c < ncpus; c++)
		smp_run_on(c, toucher, NULL);
	irq_enable();	/* the writer spins for acknowledgements with IF=1 anyway */
	checksum = writer(rounds);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (unsigned c = 1; c < ncpus; c++)
		smp_wait(c);
	irq_disable();

	uint64_t bad = st.bad + final_check();
	bool acks = true;
	for (unsigned c = 0; c < ncpus; c++) {
		const struct toucher *s = &cpu_st[c];
		const uint64_t want = c == 0 ? 0 : st.shootdowns;
		acks = acks && smp_cpu(c)->flushes - flushes[c] == want;
		if (s->bad)
			guest_printf("shootdown: CPU %u: %lu bad reads, the first page %lu word %lu: "
				     "0x%lx, expected 0x%lx\n", c, s->bad, s->bad_page, s->bad_word,
				     s->bad_got, s->bad_want);
		bad += s->bad;
		if (c) {
			passes += s->passes;
			waits += s->waits;
		}
	}
	if (!acks) {
		guest_printf("shootdown: a shootdown was not answered once by every other CPU\n");
		bad++;
	}
	tlb_switch_cr3_all((uint64_t)(uintptr_t)guest_pml4);
	idt_set_handler(14, NULL);
	vm_destroy(&space);
	if (page_free_count() != free_before) {
		guest_printf("shootdown: %lu pages not returned\n", free_before - page_free_count());
		bad++;
	}
	guest_printf("shootdown: %lu migrations, %lu protects, %lu batch migrations, "
		     "%lu shootdowns\n", st.migrates, st.protects, st.batches, st.shootdowns);
	guest_printf("shootdown: writer passes %lu; other CPUs: %lu passes, %lu #PF waits\n",
		     cpu_st[0].passes, passes, waits);
	guest_printf("shootdown: checksum 0x%lx: %s\n", checksum, bad ? "WRONG" : "ok");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;

nomem:
	guest_printf("shootdown: out of memory\n");
	return GUEST_EXIT_FAIL;
}
