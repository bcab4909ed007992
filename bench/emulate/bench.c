/*
 * bench.c — emulate/ throughput: decode+execute speed on a fixed
 * instruction mix, with and without the decode cache.
 *
 * The guest is a 64-bit loop of 12 instructions (bench/mix.h,
 * followed by a HLT that ends the run; emu_run() gets no other budget):
 * two loads and one store to a 512-byte buffer, ALU ops, a multiply, a
 * shift, an index wrap and a taken conditional branch, the shape of a
 * simple data-processing kernel. Memory is a flat 1 MiB array behind the
 * engine's ops table (the cheapest ops possible), so the figure measures
 * the engine itself. Each configuration runs BENCH_RUNS times; the best
 * run is reported (the machine is shared; the best run is the least
 * disturbed). The instruction count is exact, so MIPS = count / time.
 *
 *   bench-emulate [-n ITERATIONS] [-r RUNS] [-c]    (-c: cached run only,
 *                                                    for profiling)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/mix.h"
#include "emulate/emulate.h"

#define MEM_SIZE (1u << 20)
#define CODE_AT 0x1000
#define DATA_AT 0x8000

struct bench_vcpu {
	struct emu_ctx ctx;
	uint8_t *mem;
};

#define to_bench(c) ((struct bench_vcpu *)((char *)(c) - offsetof(struct bench_vcpu, ctx)))

static int flat_read(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size, unsigned acc)
{
	if (la > MEM_SIZE || size > MEM_SIZE - la)
		return emu_raise_pf(ctx, la, (acc & EMU_ACC_WRITE) ? 2 : 0);
	memcpy(buf, to_bench(ctx)->mem + la, size);
	return EMU_CONTINUE;
}

static int flat_write(struct emu_ctx *ctx, uint64_t la, const void *buf, unsigned size,
		      unsigned acc)
{
	if (la > MEM_SIZE || size > MEM_SIZE - la)
		return emu_raise_pf(ctx, la, 2);
	memcpy(to_bench(ctx)->mem + la, buf, size);
	return EMU_CONTINUE;
}

static int flat_fetch(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size)
{
	return flat_read(ctx, la, buf, size, EMU_ACC_FETCH);
}

static const struct emu_ops flat_ops = {
	.read = flat_read,
	.write = flat_write,
	.fetch = flat_fetch,
};

#define MIX_INSNS BENCH_MIX_INSNS

static void setup(struct bench_vcpu *v, uint64_t iters)
{
	memset(&v->ctx, 0, sizeof(v->ctx));
	struct emu_cpu *c = &v->ctx.cpu;
	c->cr0 = EMU_CR0_PE | (1ull << 31);
	c->efer = EMU_EFER_LMA | (1ull << 8);
	for (int s = 0; s < EMU_NR_SREGS; s++) {
		c->seg[s].limit = 0xffffffff;
		c->seg[s].ar = 0x93 | EMU_AR_G | EMU_AR_DB;
	}
	c->seg[EMU_CS].ar = 0x9b | EMU_AR_G | EMU_AR_L;
	c->rflags = EMU_FLAG_FIXED;
	c->rip = CODE_AT;
	c->gpr[EMU_RSI] = DATA_AT;
	c->gpr[EMU_RDI] = DATA_AT + 256;
	c->gpr[EMU_RSP] = MEM_SIZE - 64;
	c->gpr[EMU_R8] = iters;
	v->ctx.ops = &flat_ops;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Run the loop to its end; returns seconds, or < 0 on a wrong result. */
static double run_once(struct bench_vcpu *v, uint64_t iters, bool cached)
{
	setup(v, iters);
#ifdef CONFIG_EMU_DECODE_CACHE
	v->ctx.dcache = cached ? emu_dcache_create(CONFIG_EMU_DECODE_CACHE_BITS) : NULL;
	if (cached && !v->ctx.dcache)
		return -1;
#else
	(void)cached;
#endif
	double t0 = now();
	int r = emu_run(&v->ctx, ~0ull);
	if (r != EMU_HALT || v->ctx.cpu.rip != CODE_AT + sizeof(bench_mix)) {
		fprintf(stderr, "bench-emulate: result %d at rip %#llx, expected the HLT\n", r,
			(unsigned long long)v->ctx.cpu.rip);
		return -1;
	}
	double t = now() - t0;
#ifdef CONFIG_EMU_DECODE_CACHE
	emu_dcache_destroy(v->ctx.dcache);
	v->ctx.dcache = NULL;
#endif
	if (v->ctx.icount != iters * MIX_INSNS + 1) {
		fprintf(stderr, "bench-emulate: retired %llu instructions, expected %llu\n",
			(unsigned long long)v->ctx.icount,
			(unsigned long long)(iters * MIX_INSNS + 1));
		return -1;
	}
	return t;
}

int main(int argc, char **argv)
{
	uint64_t iters = 2000000;
	int runs = 3, opt, first = 0;
	while ((opt = getopt(argc, argv, "n:r:c")) != -1) {
		char *end;
		switch (opt) {
		case 'n':
			iters = strtoull(optarg, &end, 0);
			if (*end || !iters) {
				fprintf(stderr, "bench-emulate: -n needs a positive iteration count\n");
				return 2;
			}
			break;
		case 'r':
			runs = atoi(optarg);
			if (runs < 1) {
				fprintf(stderr, "bench-emulate: -r needs a positive run count\n");
				return 2;
			}
			break;
		case 'c':
			first = 1;
			break;
		default:
			fprintf(stderr, "usage: bench-emulate [-n ITERATIONS] [-r RUNS] [-c]\n");
			return 2;
		}
	}

	struct bench_vcpu v;
	v.mem = calloc(1, MEM_SIZE);
	if (!v.mem)
		return 1;
	bench_mix_loop(v.mem + CODE_AT);

	printf("emulate/ throughput: %llu iterations x %d instructions, best of %d\n",
	       (unsigned long long)iters, MIX_INSNS, runs);
	printf("%-22s %12s %10s\n", "configuration", "MIPS", "ns/insn");
	for (int cached = first; cached <= 1; cached++) {
#ifndef CONFIG_EMU_DECODE_CACHE
		if (cached)
			break;
#endif
		double best = 1e30;
		for (int i = 0; i < runs; i++) {
			double t = run_once(&v, iters, cached);
			if (t < 0)
				return 1;
			if (t < best)
				best = t;
		}
		double n = (double)iters * MIX_INSNS;
		printf("%-22s %12.1f %10.2f\n", cached ? "decode cache" : "decode every time",
		       n / best / 1e6, best * 1e9 / n);
	}
	free(v.mem);
	return 0;
}
