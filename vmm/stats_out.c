/*
 * stats_out.c — see stats_out.h. Every format carries the same numbers:
 * hv_get_stats()'s counters (hvlab's, exits by reason, the model's),
 * the VMM's device counters, and the run's facts (backend, MMU, status,
 * host time). The table leaves out zero counters and shows exits with
 * their share of all exits; JSON and CSV list everything, always in the
 * same order, so columns line up across runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/stats_out.h"

struct kv {
	const char *name;
	uint64_t value;
};

static int collect(struct vmm *v, struct hv_stat **stats, int *n)
{
	int k = hv_get_stats(v->vm, NULL, 0);
	if (k < 0)
		return k;
	*stats = calloc((size_t)k + 1, sizeof(**stats));
	if (!*stats)
		return -ENOMEM;
	*n = hv_get_stats(v->vm, *stats, (size_t)k);
	return *n < 0 ? *n : 0;
}

static uint64_t find(const struct hv_stat *s, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s[i].name, name))
			return s[i].value;
	return 0;
}

static void table(FILE *f, struct vmm *v, const struct run_info *ri, const struct hv_stat *s,
		  int n, const struct kv *dev, size_t ndev)
{
	const uint64_t exits = find(s, n, "exits");
	fprintf(f, "hvlab: %s on %s+%s: %s, exit status %d, %.3f s host time\n", ri->guest,
		ri->backend, ri->mmu, ri->end, ri->status, ri->host_seconds);
	fprintf(f, "%-28s %14s %7s\n", "exit reason", "count", "share");
	for (int i = 0; i < n; i++)
		if (!strncmp(s[i].name, "exits_", 6) && s[i].value)
			fprintf(f, "  %-26s %14" PRIu64 " %6.2f%%\n", s[i].name + 6, s[i].value,
				exits ? 100.0 * (double)s[i].value / (double)exits : 0.0);
	fprintf(f, "  %-26s %14" PRIu64 "\n", "total", exits);
	fprintf(f, "%-28s %14s\n", "counter", "value");
	for (int i = 0; i < n; i++)
		if (strncmp(s[i].name, "exits", 5) && s[i].value)
			fprintf(f, "  %-26s %14" PRIu64 "\n", s[i].name, s[i].value);
	for (size_t i = 0; i < ndev; i++)
		if (dev[i].value)
			fprintf(f, "  %-26s %14" PRIu64 "\n", dev[i].name, dev[i].value);
	const uint64_t insns = find(s, n, "hw_insns");
	if (ri->host_seconds > 0 && insns)
		fprintf(f, "  %-26s %14.1f\n", "guest MIPS (host time)",
			(double)insns / ri->host_seconds / 1e6);
}

static void json(FILE *f, const struct run_info *ri, const struct hv_stat *s, int n,
		 const struct kv *dev, size_t ndev)
{
	fprintf(f, "{\"guest\": \"");
	for (const char *c = ri->guest; *c; c++)
		fprintf(f, (*c == '"' || *c == '\\') ? "\\%c" : (*c < 0x20 ? "?" : "%c"), *c);
	fprintf(f, "\", \"backend\": \"%s\", \"mmu\": \"%s\", \"end\": \"%s\", \"status\": %d, "
		"\"host_seconds\": %.6f", ri->backend, ri->mmu, ri->end, ri->status,
		ri->host_seconds);
	for (int i = 0; i < n; i++)
		fprintf(f, ", \"%s\": %" PRIu64, s[i].name, s[i].value);
	for (size_t i = 0; i < ndev; i++)
		fprintf(f, ", \"%s\": %" PRIu64, dev[i].name, dev[i].value);
	fprintf(f, "}\n");
}

static void csv(FILE *f, const struct run_info *ri, const struct hv_stat *s, int n,
		const struct kv *dev, size_t ndev)
{
	fprintf(f, "guest,backend,mmu,end,status,host_seconds");
	for (int i = 0; i < n; i++)
		fprintf(f, ",%s", s[i].name);
	for (size_t i = 0; i < ndev; i++)
		fprintf(f, ",%s", dev[i].name);
	fprintf(f, "\n\"");
	for (const char *c = ri->guest; *c; c++)
		fprintf(f, *c == '"' ? "\"\"" : "%c", *c);
	fprintf(f, "\",%s,%s,%s,%d,%.6f", ri->backend, ri->mmu, ri->end, ri->status,
		ri->host_seconds);
	for (int i = 0; i < n; i++)
		fprintf(f, ",%" PRIu64, s[i].value);
	for (size_t i = 0; i < ndev; i++)
		fprintf(f, ",%" PRIu64, dev[i].value);
	fprintf(f, "\n");
}

int stats_print(FILE *f, enum stats_fmt fmt, struct vmm *v, const struct run_info *ri)
{
	struct hv_stat *s = NULL;
	int n = 0;
	if (fmt == STATS_NONE)
		return 0;
	int r = collect(v, &s, &n);
	if (r) {
		free(s);
		return r;
	}
	const struct kv dev[] = {
		{ "vmm_unknown_pio_reads", v->unknown_pio_reads },
		{ "vmm_unknown_pio_writes", v->unknown_pio_writes },
		{ "vmm_unknown_mmio_reads", v->unknown_mmio_reads },
		{ "vmm_unknown_mmio_writes", v->unknown_mmio_writes },
	};
	const size_t ndev = sizeof(dev) / sizeof(dev[0]);
	if (fmt == STATS_TABLE)
		table(f, v, ri, s, n, dev, ndev);
	else if (fmt == STATS_JSON)
		json(f, ri, s, n, dev, ndev);
	else
		csv(f, ri, s, n, dev, ndev);
	free(s);
	return 0;
}
