/*
 * bench-hv.c — the cost of hvlab's own software around the guest: the
 * run loop, exit decoding and handling, and the tdp MMU, measured through
 * the public API (include/hvlab/hv.h) as a VMM sees it. Host time only:
 * the machine model's modeled cycles (exit_entry price and so on) are a
 * number hvlab adds up, not time it spends. Two figures per row: from
 * wall-clock time, and from this thread's CPU time, which a loaded
 * machine disturbs far less (docs/perf.md).
 *
 *   cpuid     xor eax,eax; cpuid; dec esi; jnz — every CPUID exits
 *             (SDM Vol. 3C 26.1.2: unconditionally under VMX; APM Vol. 2
 *             15.9 with the CPUID intercept) and core/ answers it without
 *             leaving hv_run(): ns per exit.
 *   out       out dx,al to an unused port; dec esi; jnz — every OUT
 *             exits and hv_run() returns HV_EXIT_IO to this program,
 *             which re-enters at once: ns per exit including the return
 *             to the VMM.
 *   compute   bench/mix.h's 12-instruction loop (the one bench-emulate
 *             and bench-hw run): guest MIPS through the whole stack.
 *   touch     one store to each of P fresh 4 KiB pages of a region the
 *             tdp MMU has not mapped yet: ns per page.
 *               2m-slot  region and host memory 2 MiB aligned: with
 *                        CONFIG_TDP_LARGE_PAGES one EPT violation / NPF
 *                        maps 512 pages (mmu/tdp/tdp.c can_map_large)
 *               4k-slot  region at a 2 MiB + 4 KiB gpa: no 2 MiB-aligned
 *                        gpa lands on 2 MiB-aligned host memory, so
 *                        every page takes its own fault
 *             The host pages behind the region are faulted in first
 *             (hv_write_guest), so the host kernel's page-fault and
 *             zeroing cost is not in the figure; -F leaves them cold.
 *
 * The guest starts with a prologue (read BHV_DATA, out to SYNC_PORT)
 * that maps what every workload uses; the timed part runs from the
 * hv_run() after that exit to the HLT, and the counters are the
 * differences over it. They are exact and checked (exits, CPUID and IO
 * exits, guest instructions, tdp mappings), so a wrong count fails the
 * benchmark instead of reporting a speed. Each figure is the median of
 * -r runs, each on a fresh VM.
 *
 *   bench-hv [-n N] [-p PAGES] [-r RUNS] [-b BACKEND] [-w WORKLOAD] [-F]
 *     -n  cpuid and out loop iterations (200000); compute runs 10 N
 *     -p  pages the touch workloads store to (16384)
 *     -r  runs per figure (5)
 *     -b  one backend only; -w one workload only
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/hv/lmguest.h"
#include "bench/mix.h"

#define SYNC_PORT 0x99		/* prologue's OUT: nothing decodes it */
#define LOOP_PORT 0x9a		/* the out workload's: likewise */
#define TOUCH_2M (4ull << 20)	/* 2 MiB aligned */
#define TOUCH_4K ((4ull << 20) + 4096)

/* mov eax, [BHV_DATA]; out SYNC_PORT, al */
static const uint8_t prologue[] = {
	0x8b, 0x04, 0x25, BHV_DATA & 0xff, (BHV_DATA >> 8) & 0xff, (BHV_DATA >> 16) & 0xff, 0x00,
	0xe6, SYNC_PORT,
};

/* esi = N */
static const uint8_t cpuid_loop[] = {
	0x31, 0xc0,			/* xor eax, eax */
	0x0f, 0xa2,			/* cpuid */
	0xff, 0xce,			/* dec esi */
	0x75, 0xf8,			/* jnz -8 */
	0xf4,				/* hlt */
};

/* esi = N, dx = LOOP_PORT */
static const uint8_t out_loop[] = {
	0xee,				/* out dx, al */
	0xff, 0xce,			/* dec esi */
	0x75, 0xfb,			/* jnz -5 */
	0xf4,				/* hlt */
};

/* rdi = region, rcx = pages */
static const uint8_t touch_loop[] = {
	0x88, 0x0f,			/* mov [rdi], cl */
	0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00, /* add rdi, 4096 */
	0x48, 0xff, 0xc9,		/* dec rcx */
	0x75, 0xf2,			/* jnz -14 */
	0xf4,				/* hlt */
};

enum workload { W_CPUID, W_OUT, W_COMPUTE, W_TOUCH_2M, W_TOUCH_4K, W_NR };
static const char *const wl_names[W_NR] = { "cpuid", "out", "compute", "touch-2m-slot",
					    "touch-4k-slot" };

/* The counters a run reads, differences over the timed part. */
enum { C_EXITS, C_CPUID, C_IO, C_TDP, C_INSNS, C_4K, C_2M, C_NR };
static const char *const counter_names[C_NR] = {
	"exits", "exits_cpuid", "exits_io", "exits_tdp_fault", "hw_insns",
	"tdp_pages_4k", "tdp_pages_2m",
};

struct params {
	uint64_t n;		/* cpuid/out iterations; compute runs 10 n */
	uint64_t pages;
	bool cold_host;		/* -F */
};

struct sample {
	double secs;		/* wall clock */
	double cpu_secs;	/* this thread's CPU time */
	uint64_t c[C_NR];
	uint64_t vmm_returns;	/* HV_EXIT_IO seen by this program */
};

static double now(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t round_2m(uint64_t x)
{
	return (x + (2ull << 20) - 1) & ~((2ull << 20) - 1);
}

static uint64_t compute_iters(const struct params *p)
{
	return 10 * p->n;
}

/* Add the touch region and fault its host pages in. */
static int add_touch_region(struct bhv_guest *g, gpa_t gpa, uint64_t size, bool cold)
{
	static const uint8_t zero[1 << 16];
	const struct hv_memory_region mr = { .slot = 1, .gpa = gpa, .size = size };
	int r = hv_set_memory_region(g->vm, &mr);
	for (uint64_t off = 0; !r && !cold && off < size; off += sizeof(zero))
		r = hv_write_guest(g->vm, gpa + off,
				   zero, size - off < sizeof(zero) ? size - off : sizeof(zero));
	return r;
}

/* Load @w into @g: code after the prologue, registers, regions. */
static int prepare(struct bhv_guest *g, enum workload w, const struct params *p)
{
	uint8_t code[sizeof(prologue) + 64];
	struct hv_regs regs;
	const uint8_t *body;
	size_t len;
	int r;

	if ((r = hv_get_regs(g->vcpu, &regs)))
		return r;
	switch (w) {
	case W_CPUID:
		body = cpuid_loop, len = sizeof(cpuid_loop);
		regs.rsi = p->n;
		break;
	case W_OUT:
		body = out_loop, len = sizeof(out_loop);
		regs.rsi = p->n;
		regs.rdx = LOOP_PORT;
		break;
	case W_COMPUTE: {
		static uint8_t mix[sizeof(bench_mix)];
		bench_mix_loop(mix);
		body = mix, len = sizeof(mix);
		regs.rsi = BHV_DATA;
		regs.rdi = BHV_DATA + 256;
		regs.rcx = 0;
		regs.r8 = compute_iters(p);
		break;
	}
	case W_TOUCH_2M:
	case W_TOUCH_4K: {
		const gpa_t at = w == W_TOUCH_2M ? TOUCH_2M : TOUCH_4K;
		const uint64_t size = w == W_TOUCH_2M ? round_2m(p->pages << 12) : p->pages << 12;
		if ((r = add_touch_region(g, at, size, p->cold_host)))
			return r;
		body = touch_loop, len = sizeof(touch_loop);
		regs.rdi = at;
		regs.rcx = p->pages;
		break;
	}
	default:
		return -EINVAL;
	}
	memcpy(code, prologue, sizeof(prologue));
	memcpy(code + sizeof(prologue), body, len);
	if ((r = bhv_guest_load(g, code, sizeof(prologue) + len)))
		return r;
	return hv_set_regs(g->vcpu, &regs);
}

static const char *exit_name(uint32_t reason)
{
	static const char *const names[] = {
		"UNKNOWN", "IO", "MMIO", "HLT", "DEBUG", "SHUTDOWN", "FAIL_ENTRY",
		"INTERNAL_ERROR", "DEADLINE", "INTR",
	};
	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}

static int bad_exit(const struct hv_run *run, const char *when)
{
	fprintf(stderr, "bench-hv: %s: exit %s", when, exit_name(run->exit_reason));
	if (run->exit_reason == HV_EXIT_IO)
		fprintf(stderr, " (port %#x)", run->io.port);
	if (run->exit_reason == HV_EXIT_INTERNAL_ERROR)
		fprintf(stderr, " (%s)", run->internal.why);
	fprintf(stderr, "\n");
	return -EIO;
}

static bool is_out(const struct hv_run *run, uint16_t port)
{
	return run->exit_reason == HV_EXIT_IO && run->io.direction == HV_EXIT_IO_OUT &&
	       run->io.port == port && run->io.size == 1;
}

/* One run of @w on a fresh VM. */
static int run_once(const char *backend, enum workload w, const struct params *p,
		    struct sample *out)
{
	const uint64_t touch = w == W_TOUCH_2M || w == W_TOUCH_4K ? round_2m(p->pages << 12) : 0;
	struct bhv_guest g;
	struct hv_run run;
	uint64_t before[C_NR], after[C_NR];
	int r = bhv_guest_create(&g, backend, BHV_LOW_SIZE + touch + (2ull << 20));
	if (r) {
		fprintf(stderr, "bench-hv: %s: %s\n", backend, hv_strerror());
		return r;
	}
	if ((r = prepare(&g, w, p))) {
		fprintf(stderr, "bench-hv: %s %s: %s\n", backend, wl_names[w], hv_strerror());
		goto out;
	}
	memset(&run, 0, sizeof(run));
	if ((r = hv_run(g.vcpu, &run)))
		goto fail;
	if (!is_out(&run, SYNC_PORT)) {
		r = bad_exit(&run, "prologue");
		goto out;
	}
	if ((r = bhv_stats(g.vm, counter_names, C_NR, before)))
		goto fail;

	uint64_t returns = 0;
	const double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
	for (;;) {
		if ((r = hv_run(g.vcpu, &run)))
			break;
		if (run.exit_reason == HV_EXIT_HLT)
			break;
		if (!is_out(&run, LOOP_PORT))
			break;
		returns++;
	}
	const double c = now(CLOCK_THREAD_CPUTIME_ID) - c0;
	const double t = now(CLOCK_MONOTONIC) - t0;
	if (r)
		goto fail;
	if (run.exit_reason != HV_EXIT_HLT) {
		r = bad_exit(&run, wl_names[w]);
		goto out;
	}
	if ((r = bhv_stats(g.vm, counter_names, C_NR, after)))
		goto fail;
	out->secs = t;
	out->cpu_secs = c;
	out->vmm_returns = returns;
	for (unsigned i = 0; i < C_NR; i++)
		out->c[i] = after[i] - before[i];
	goto out;
fail:
	fprintf(stderr, "bench-hv: %s %s: %s\n", backend, wl_names[w], hv_strerror());
out:
	bhv_guest_destroy(&g);
	return r;
}

/* The counts each workload must produce over its timed part, from what
 * its code does: one exit per CPUID or OUT plus the HLT's, 12 retired
 * instructions per iteration of the mix, one tdp fault per page with
 * 4 KiB mappings and one per 2 MiB region with large ones. */
static bool counts_ok(enum workload w, const struct params *p, const struct sample *s)
{
	const uint64_t *c = s->c;
	switch (w) {
	case W_CPUID:
		return c[C_CPUID] == p->n && c[C_EXITS] == p->n + 1;
	case W_OUT:
		return c[C_IO] == p->n && s->vmm_returns == p->n && c[C_EXITS] == p->n + 1;
	case W_COMPUTE:
		return c[C_INSNS] == compute_iters(p) * BENCH_MIX_INSNS && c[C_EXITS] == 1;
	case W_TOUCH_2M:
		/* 2 MiB mappings when the build allows them, else 4 KiB. */
		return c[C_TDP] == c[C_4K] + c[C_2M] && c[C_EXITS] == c[C_TDP] + 1 &&
		       ((c[C_2M] == (p->pages + 511) / 512 && !c[C_4K]) ||
			(!c[C_2M] && c[C_4K] == p->pages));
	case W_TOUCH_4K:
		return c[C_TDP] == p->pages && c[C_4K] == p->pages && !c[C_2M] &&
		       c[C_EXITS] == p->pages + 1;
	default:
		return false;
	}
}

static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The figure for @secs of timed run: per exit, per page or MIPS. */
static double figure(enum workload w, const struct params *p, const struct sample *s,
		     double secs)
{
	switch (w) {
	case W_CPUID:
	case W_OUT:
		return secs * 1e9 / (double)s->c[C_EXITS];
	case W_COMPUTE:
		return (double)s->c[C_INSNS] / secs / 1e6;
	default:
		return secs * 1e9 / (double)p->pages;
	}
}

static const char *unit(enum workload w)
{
	return w == W_COMPUTE ? "guest MIPS" : w == W_CPUID || w == W_OUT ? "ns/exit" : "ns/page";
}

static void print_row(const char *backend, enum workload w, const struct params *p,
		      double wall, double cpu, const struct sample *s)
{
	const uint64_t *c = s->c;
	char check[96];

	switch (w) {
	case W_CPUID:
	case W_OUT:
		snprintf(check, sizeof(check), "%s %llu", w == W_CPUID ? "exits_cpuid" : "exits_io",
			 (unsigned long long)(w == W_CPUID ? c[C_CPUID] : c[C_IO]));
		break;
	case W_COMPUTE:
		snprintf(check, sizeof(check), "hw_insns %llu", (unsigned long long)c[C_INSNS]);
		break;
	default:
		snprintf(check, sizeof(check), "pages %llu: 4k %llu 2m %llu",
			 (unsigned long long)p->pages, (unsigned long long)c[C_4K],
			 (unsigned long long)c[C_2M]);
		break;
	}
	printf("%-7s %-14s %10.1f %10.1f %-10s %9llu  %s\n", backend, wl_names[w],
	       figure(w, p, s, wall), figure(w, p, s, cpu), unit(w),
	       (unsigned long long)c[C_EXITS], check);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median of @runs runs of @w; prints its row. */
static int measure(const char *backend, enum workload w, const struct params *p, int runs)
{
	double *t = calloc(2 * (size_t)runs, sizeof(*t));
	struct sample s = { 0 };
	int r = 0;
	if (!t)
		return -ENOMEM;
	for (int i = 0; i < runs && !r; i++) {
		if ((r = run_once(backend, w, p, &s)))
			break;
		if (!counts_ok(w, p, &s)) {
			fprintf(stderr, "bench-hv: %s %s: wrong counts: exits %llu cpuid %llu "
				"io %llu (returns %llu) tdp %llu insns %llu 4k %llu 2m %llu\n",
				backend, wl_names[w], (unsigned long long)s.c[C_EXITS],
				(unsigned long long)s.c[C_CPUID], (unsigned long long)s.c[C_IO],
				(unsigned long long)s.vmm_returns, (unsigned long long)s.c[C_TDP],
				(unsigned long long)s.c[C_INSNS], (unsigned long long)s.c[C_4K],
				(unsigned long long)s.c[C_2M]);
			r = -EIO;
			break;
		}
		t[i] = s.secs;
		t[runs + i] = s.cpu_secs;
	}
	if (!r)
		print_row(backend, w, p, median(t, runs), median(t + runs, runs), &s);
	free(t);
	return r;
}

/* Is @word one of the space-separated words of @list? */
static bool has_word(const char *list, const char *word)
{
	const size_t n = strlen(word);
	if (!n)
		return false;
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench-hv [-n N] [-p PAGES] [-r RUNS] [-b BACKEND] "
		"[-w cpuid|out|compute|touch-2m-slot|touch-4k-slot] [-F]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct params p = { .n = 200000, .pages = 16384 };
	const char *only_backend = NULL;
	int runs = 5, only = -1, opt;

	while ((opt = getopt(argc, argv, "n:p:r:b:w:F")) != -1) {
		char *end = NULL;
		switch (opt) {
		case 'n':
			p.n = strtoull(optarg, &end, 0);
			if (*end || !p.n || p.n > 0xffffffffull / 10) {
				fprintf(stderr, "bench-hv: -n needs an iteration count from 1 "
					"to 429496729\n");
				return 2;
			}
			break;
		case 'p':
			p.pages = strtoull(optarg, &end, 0);
			if (*end || !p.pages || p.pages > 65536) {
				fprintf(stderr, "bench-hv: -p needs a page count from 1 to 65536\n");
				return 2;
			}
			break;
		case 'r':
			runs = atoi(optarg);
			if (runs < 1) {
				fprintf(stderr, "bench-hv: -r needs a positive run count\n");
				return 2;
			}
			break;
		case 'b':
			only_backend = optarg;
			break;
		case 'w':
			for (int i = 0; i < W_NR; i++)
				if (!strcmp(optarg, wl_names[i]))
					only = i;
			if (only < 0)
				return usage();
			break;
		case 'F':
			p.cold_host = true;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();

	char backends[64];
	snprintf(backends, sizeof(backends), "%s", hv_backends());
	if (only_backend && !has_word(backends, only_backend)) {
		fprintf(stderr, "bench-hv: no backend '%s'; built in: %s\n", only_backend,
			backends);
		return 2;
	}
	printf("hvlab run loop (hv.h), mmu tdp: median of %d runs, host memory %s\n", runs,
	       p.cold_host ? "cold (-F)" : "pre-faulted");
	printf("%-7s %-14s %10s %10s %-10s %9s  %s\n", "backend", "workload", "wall", "cpu",
	       "unit", "exits", "check");
	for (char *save = NULL, *b = strtok_r(backends, " ", &save); b;
	     b = strtok_r(NULL, " ", &save)) {
		if (only_backend && strcmp(only_backend, b))
			continue;
		for (int w = 0; w < W_NR; w++)
			if ((only < 0 || only == w) && measure(b, (enum workload)w, &p, runs))
				return 1;
	}
	return 0;
}
