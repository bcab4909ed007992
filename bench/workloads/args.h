/*
 * args.h — the benchmark guests' parameters from the kernel command line.
 *
 * A benchmark guest (bench/workloads/NAME.c) takes `KEY=NUMBER` words from
 * its multiboot command line (Multiboot 0.6.96 §3.3: flags bit 2, the
 * string's physical address at offset 16), as `hvlab run --append` and
 * QEMU's `-append` give it. Both loaders put the kernel's file name
 * first; words without `=` are skipped, so the name never matches. A key
 * not given, or given with a value that is not a decimal number within
 * [min, max], keeps its default and says so: a benchmark must not run
 * with a size nobody asked for without a word about it.
 *
 * Header-only because the Makefile links each .c file in bench/workloads/ as a
 * guest of its own, with only the runtime in guests/.
 */
#ifndef BENCH_GUESTS_ARGS_H
#define BENCH_GUESTS_ARGS_H

#include "guests/guest.h"

#define MBI_FLAG_CMDLINE	(1u << 2)

static inline const char *bench_cmdline(void)
{
	const volatile uint32_t *mbi = (const volatile uint32_t *)(uintptr_t)guest_mb_info;

	if (guest_mb_magic != 0x2BADB002 || !(mbi[0] & MBI_FLAG_CMDLINE))
		return "";
	return (const char *)(uintptr_t)mbi[4];
}

/* The value of `@key=N` on the command line, or @def. */
static inline uint64_t bench_arg(const char *key, uint64_t def, uint64_t min, uint64_t max)
{
	const char *s = bench_cmdline();

	while (*s) {
		while (*s == ' ')
			s++;
		const char *w = s, *k = key;
		while (*s && *s != ' ')
			s++;
		while (*k && w < s && *w == *k)
			w++, k++;
		if (*k || w == s || *w != '=')
			continue;
		uint64_t v = 0;
		bool ok = ++w < s;
		for (; w < s && ok; w++) {
			ok = *w >= '0' && *w <= '9' && v <= (UINT64_MAX - 9) / 10;
			v = v * 10 + (uint64_t)(*w - '0');
		}
		if (ok && v >= min && v <= max)
			return v;
		guest_printf("%s: want a number in %lu..%lu; using %lu\n", key, min, max, def);
		return def;
	}
	return def;
}

/*
 * How every workload ends: all of its pages must be back with the
 * allocator (@free_before: page_free_count() before it took any), then
 * the line the harness and tests read, "NAME: checksum 0x...: ok" (or
 * WRONG), and the exit status (1 when @bad is 0, 3 otherwise).
 */
static inline int bench_finish(const char *name, uint64_t checksum, uint64_t bad, uint64_t free_before)
{
	if (page_free_count() != free_before) {
		guest_printf("%s: %lu pages not returned\n", name, free_before - page_free_count());
		bad++;
	}
	guest_printf("%s: checksum 0x%lx: %s\n", name, checksum, bad ? "WRONG" : "ok");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}

#endif
