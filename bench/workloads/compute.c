/*
 * compute.c — the compute benchmark guest: integer matrix products in
 * ring 0 over a working set of a few pages, the baseline every other
 * workload's exits and TLB misses are measured against.
 *
 * Three N x N matrices of 64-bit integers (A, B, C; 24 KiB each at the
 * largest N) live in the image's .bss, inside the boot identity map's
 * 2 MiB pages (boot.S): a handful of TLB entries hold every translation
 * the loop needs (SDM Vol. 3A 4.10.2), and nothing in the loop is a
 * privileged instruction, an I/O access or a page-table change, so once
 * the pages have been touched a virtual machine has no reason to exit —
 * under a shadow MMU too, whose only work is the first-touch fault of
 * each page (4.10.4.3 lets the processor, and so the hypervisor, fill a
 * translation on demand). Only general-purpose registers are used (the
 * runtime is built -mgeneral-regs-only, and nothing here enables x87 or
 * SSE state): multiplies and adds modulo 2^64 (Vol. 1 7.3.2 IMUL, ADD).
 *
 * Each of R rounds computes C = A B, checks it, and derives the next A
 * from C by a bijective mix, so every round's product is a fresh one
 * and no round can be skipped or hoisted by the compiler.
 *
 * Self-check, per round: Freivalds' test with a fixed vector x,
 * C x = A (B x) modulo 2^64 (O(N^2) against the product's O(N^3)); a
 * wrong entry C[i][j] off by d shows up in row i unless d x[j] = 0
 * modulo 2^64, and every x[j] is odd, so never. The checksum folds the
 * final A, a function of N and R alone.
 *
 * Parameters (--append): n=N (1..64, default 16), r=R rounds
 * (1..10^8, default 200). Prints its parameters and "compute: checksum
 * 0x...: ok"; exit status 1 (guest_exit(0)) when every round checks,
 * 3 otherwise.
 */
#include "bench/workloads/args.h"

#define N_MAX	64

static uint64_t a[N_MAX * N_MAX], b[N_MAX * N_MAX], c[N_MAX * N_MAX];
static uint64_t x[N_MAX], bx[N_MAX];

static uint64_t mix(uint64_t v)
{
	v += 0x9e3779b97f4a7c15ull;
	v = (v ^ v >> 30) * 0xbf58476d1ce4e5b9ull;
	v = (v ^ v >> 27) * 0x94d049bb133111ebull;
	return v ^ v >> 31;
}

/* C = A B, row-major with row length @n (i-k-j order: B's rows stream). */
static void multiply(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *ci = &c[i * n];
		for (uint64_t j = 0; j < n; j++)
			ci[j] = 0;
		for (uint64_t k = 0; k < n; k++) {
			const uint64_t aik = a[i * n + k];
			const uint64_t *bk = &b[k * n];
			for (uint64_t j = 0; j < n; j++)
				ci[j] += aik * bk[j];
		}
	}
}

/* Rows i where (C x)[i] != (A (B x))[i]. */
static uint64_t freivalds(uint64_t n)
{
	uint64_t bad = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t s = 0;
		for (uint64_t j = 0; j < n; j++)
			s += b[i * n + j] * x[j];
		bx[i] = s;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t want = 0, got = 0;
		for (uint64_t j = 0; j < n; j++) {
			want += a[i * n + j] * bx[j];
			got += c[i * n + j] * x[j];
		}
		bad += got != want;
	}
	return bad;
}

int guest_main(void)
{
	const uint64_t n = bench_arg("n", 16, 1, N_MAX);
	const uint64_t nr = bench_arg("r", 200, 1, 100000000);
	uint64_t bad = 0, checksum = 0;

	guest_printf("compute: %lu x %lu matrices, %lu rounds\n", n, n, nr);
	for (uint64_t i = 0; i < n * n; i++) {
		a[i] = mix(i);
		b[i] = mix(i + (1ull << 32));
	}
	for (uint64_t j = 0; j < n; j++)
		x[j] = mix(j + (2ull << 32)) | 1;

	for (uint64_t r = 0; r < nr; r++) {
		multiply(n);
		const uint64_t wrong = freivalds(n);
		if (wrong) {
			if (bad < 10)
				guest_printf("compute: round %lu: %lu rows of A B wrong\n", r, wrong);
			bad++;
		}
		/* the next round multiplies a new A: C mixed with the round number */
		for (uint64_t i = 0; i < n * n; i++)
			a[i] = mix(c[i] ^ r);
	}

	for (uint64_t i = 0; i < n * n; i++)
		checksum = (checksum << 7 | checksum >> 57) ^ a[i];
	guest_printf("compute: checksum 0x%lx: %s\n", checksum, bad ? "WRONG" : "ok");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
