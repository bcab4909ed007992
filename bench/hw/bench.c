/*
 * bench.c — the silicon model's speed, on guests run through VMX with
 * EPT and SVM with NPT (tests/support/hwguest):
 *
 *   compute   the 12-instruction loop bench-emulate runs (bench/mix.h:
 *             two loads, a store, ALU, a multiply, a shift, a taken
 *             branch) to HLT, reported as guest MIPS: the cost of
 *             executing instructions with every memory access
 *             translated by the TLB model.
 *   touch     one store to each of N distinct 4 KiB pages, round after
 *             round over a working set larger than the TLB's reach,
 *             reported as ns per page: a TLB miss and a two-dimensional
 *             walk each time.
 *
 * Each figure is the best of -r runs (the machines are shared). The
 * instruction and miss counts are exact and checked, so a wrong model
 * fails the benchmark instead of reporting a speed.
 *
 *   bench-hw [-n ITERATIONS] [-p PAGES] [-r RUNS] [-w compute|touch]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/mix.h"
#include "tests/support/hwguest.h"

#define CODE_AT 0x10000ull
#define DATA_AT 0x20000ull
#define TOUCH_AT (8ull << 20)

#define MIX_INSNS BENCH_MIX_INSNS

/* rbx = pages, r8 = rounds: for each round, store to each page. */
static const uint8_t touch[] = {
	0x48, 0x89, 0xfe,		/* 0: mov rsi, rdi           (round) */
	0x48, 0x89, 0xd9,		/* 3: mov rcx, rbx */
	0x88, 0x0e,			/* 6: mov [rsi], cl          (page) */
	0x48, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, /* 8: add rsi, 4096 */
	0x48, 0xff, 0xc9,		/* 15: dec rcx */
	0x75, 0xf2,			/* 18: jnz 6 */
	0x49, 0xff, 0xc8,		/* 20: dec r8 */
	0x75, 0xe7,			/* 23: jnz 0 */
	0xf4,				/* 25: hlt */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *name(enum hw_vendor v)
{
	return v == HW_VENDOR_INTEL ? "VMX + EPT" : "SVM + NPT";
}

static uint64_t hlt_reason(enum hw_vendor v)
{
	return v == HW_VENDOR_INTEL ? 12 : 0x78;	/* SDM App. C; APM App. C */
}

/* One run to HLT; seconds, or < 0 when the guest did not do its work. */
static double run(enum hw_vendor v, const uint8_t *code, size_t len, uint64_t ram,
		  void (*regs)(struct hwg *, uint64_t, uint64_t), uint64_t a, uint64_t b,
		  uint64_t expect_insns)
{
	struct hwg g;
	const struct hwg_config cfg = { .vendor = v, .tdp = true, .ram_size = ram };
	if (hwg_create(&g, &cfg))
		return -1;
	/* Back guest RAM above the tables with host pages before timing:
	 * the figure is the model's, not the host kernel's first-touch
	 * page faults. */
	memset(hwg_ptr(&g, 2 << 20, ram - (2 << 20)), 0, ram - (2 << 20));
	hwg_load(&g, CODE_AT, code, len);
	hwg_set_entry(&g, CODE_AT, 0x8000);
	regs(&g, a, b);

	int st;
	const double t0 = now();
	const uint64_t reason = hwg_run(&g, &st);
	const double t = now() - t0;
	const uint64_t insns = hw_cpu_counters(g.cpu)->insns;
	hwg_destroy(&g);
	if (st || reason != hlt_reason(v) || insns != expect_insns) {
		fprintf(stderr, "bench-hw: %s: status %d, exit %#llx, %llu instructions "
			"(expected HLT after %llu)\n", name(v), st, (unsigned long long)reason,
			(unsigned long long)insns, (unsigned long long)expect_insns);
		return -1;
	}
	return t;
}

static void compute_regs(struct hwg *g, uint64_t iters, uint64_t unused)
{
	(void)unused;
	hwg_set_gpr(g, 6, DATA_AT);		/* rsi */
	hwg_set_gpr(g, 7, DATA_AT + 256);	/* rdi */
	hwg_set_gpr(g, 8, iters);		/* r8 */
}

static void touch_regs(struct hwg *g, uint64_t pages, uint64_t rounds)
{
	hwg_set_gpr(g, 7, TOUCH_AT);		/* rdi */
	hwg_set_gpr(g, 3, pages);		/* rbx */
	hwg_set_gpr(g, 8, rounds);		/* r8 */
}

static double best_of(int runs, enum hw_vendor v, const uint8_t *code, size_t len,
		      uint64_t ram, void (*regs)(struct hwg *, uint64_t, uint64_t),
		      uint64_t a, uint64_t b, uint64_t insns)
{
	double best = 1e30;
	for (int i = 0; i < runs; i++) {
		const double t = run(v, code, len, ram, regs, a, b, insns);
		if (t < 0)
			return -1;
		if (t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	uint64_t iters = 2000000, pages = 16384;
	const uint64_t rounds = 4;
	int runs = 3, opt;
	const char *only = NULL;

	while ((opt = getopt(argc, argv, "n:p:r:w:")) != -1) {
		char *end = NULL;
		switch (opt) {
		case 'n':
			iters = strtoull(optarg, &end, 0);
			if (*end || !iters) {
				fprintf(stderr, "bench-hw: -n needs a positive iteration count\n");
				return 2;
			}
			break;
		case 'p':
			pages = strtoull(optarg, &end, 0);
			if (*end || !pages || pages > 65536) {
				fprintf(stderr, "bench-hw: -p needs a page count from 1 to 65536\n");
				return 2;
			}
			break;
		case 'r':
			runs = atoi(optarg);
			if (runs < 1) {
				fprintf(stderr, "bench-hw: -r needs a positive run count\n");
				return 2;
			}
			break;
		case 'w':
			if (strcmp(optarg, "compute") && strcmp(optarg, "touch")) {
				fprintf(stderr, "bench-hw: -w takes compute or touch\n");
				return 2;
			}
			only = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench-hw [-n ITERATIONS] [-p PAGES] [-r RUNS] "
				"[-w compute|touch]\n");
			return 2;
		}
	}

	uint8_t loop[sizeof(bench_mix)];
	bench_mix_loop(loop);
	const uint64_t touch_ram = TOUCH_AT + pages * 4096 + (2ull << 20);
	const uint64_t ram = (touch_ram + (2ull << 20) - 1) & ~((2ull << 20) - 1);

	printf("hw/ guest speed: best of %d runs\n", runs);
	printf("%-12s %-10s %14s %12s\n", "workload", "mode", "figure", "unit");
	for (int vi = 0; vi < 2; vi++) {
		const enum hw_vendor v = vi ? HW_VENDOR_AMD : HW_VENDOR_INTEL;
		if (!only || !strcmp(only, "compute")) {
			const double t = best_of(runs, v, loop, sizeof(loop), 4 << 20, compute_regs,
						 iters, 0, iters * MIX_INSNS);
			if (t < 0)
				return 1;
			printf("%-12s %-10s %14.1f %12s\n", "compute", name(v),
			       iters * MIX_INSNS / t / 1e6, "guest MIPS");
		}
		if (!only || !strcmp(only, "touch")) {
			const uint64_t insns = rounds * (2 + pages * 4 + 2);
			const double t = best_of(runs, v, touch, sizeof(touch), ram, touch_regs,
						 pages, rounds, insns);
			if (t < 0)
				return 1;
			printf("%-12s %-10s %14.1f %12s\n", "touch", name(v),
			       t * 1e9 / (double)(pages * rounds), "ns/page");
		}
	}
	return 0;
}
