/*
 * perfstat.h — the arithmetic of `hvlab stat` (vmm/cmd_stat.c): read the
 * text `perf script -F trace:tid,time,event,trace --ns` prints for the
 * USDT probes of core/trace.h, pair each sdt_hvlab:vm_exit with the same
 * vcpu's next sdt_hvlab:vm_entry (and page_fault with page_fault_done),
 * and make perf-kvm-stat's table of them: per exit reason the samples,
 * their share, the share of the time, and min / max / mean ± standard
 * deviation of the host nanoseconds from exit to entry.
 *
 * One line of input looks like
 *   12130 41114.243873644:   sdt_hvlab:vm_exit: (55faab31593b) arg1=0 arg2=29 arg3=1048608 arg4=48
 * (tid, an optional [cpu], seconds.fraction, the event, the probe's
 * address, its arguments). The group is perf's sdt_hvlab or
 * bench/perf/wrap's sdt_hvlab_BUILDID; other events are skipped; an
 * event NAME_k (k digits) is NAME at its k-th further site (perf probe's
 * naming, bench/perf/wrap).
 */
#ifndef HVLAB_VMM_PERFSTAT_H
#define HVLAB_VMM_PERFSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hvlab/hv.h"

#define PERFSTAT_REASONS 64	/* exit reason codes held (enum hvx_reason < this) */
#define PERFSTAT_PF_RESULTS 4	/* enum ret_pf: retry, emulate, guest, error */
#define PERFSTAT_ERR_MAX 160

/* Host-ns intervals of one kind: exact sums, so the mean and the
 * standard deviation come out the same whatever the order. */
struct perfstat_cell {
	uint64_t samples;		/* events counted */
	uint64_t timed;			/* ... of which paired: an interval */
	uint64_t min, max;		/* of the intervals */
	uint64_t sum;
	unsigned __int128 sumsq;
};

struct perfstat {
	struct perfstat_cell exit[PERFSTAT_REASONS];	/* by enum hvx_reason */
	struct perfstat_cell pf[PERFSTAT_PF_RESULTS];	/* by enum ret_pf */
	uint64_t pf_calls;		/* page_fault events */
	struct {
		bool seen, in_exit, in_pf;
		unsigned reason;
		uint64_t exit_ns, pf_ns;
	} vcpu[HV_MAX_VCPUS];
	bool any;			/* an event was used */
	uint64_t first_ns, last_ns;	/* of the events used */
	uint64_t lines;			/* read so far */
	char err[PERFSTAT_ERR_MAX];	/* why the last call failed */
};

/* One row of the table. */
struct perfstat_row {
	unsigned key;			/* reason code (or ret_pf) */
	const char *name;
	const struct perfstat_cell *c;
	double samples_pct, time_pct;	/* of all rows' samples / time */
	double mean, stddev;		/* ns; stddev: n - 1 in the divisor, 0
					 * for fewer than two intervals */
};

enum perfstat_sort { PERFSTAT_SORT_SAMPLES, PERFSTAT_SORT_TIME, PERFSTAT_SORT_NAME };

void perfstat_init(struct perfstat *ps);

/* Take one line (with or without its newline): 0, or -EINVAL with ps->err
 * saying what is wrong with it. */
int perfstat_line(struct perfstat *ps, const char *line);

/* How many vcpus had events; how many exits in all. */
unsigned perfstat_vcpus(const struct perfstat *ps);
uint64_t perfstat_exits(const struct perfstat *ps);

/*
 * The non-empty rows of the exit table (pf = false; names[code], or
 * "reason_N" past @nnames / for NULL) or of the page-fault table (pf =
 * true: by result) into @rows (room for PERFSTAT_REASONS), sorted by
 * @sort (samples and time: most first, then by name). Returns the count.
 */
size_t perfstat_rows(const struct perfstat *ps, bool pf, const char *const *names, size_t nnames,
		     enum perfstat_sort sort, struct perfstat_row *rows);

/* Both tables, for people (docs/perf.md shows one). */
void perfstat_print(FILE *f, const struct perfstat *ps, const char *const *names, size_t nnames,
		    enum perfstat_sort sort);

/*
 * The exit reason names `hvlab run --stats` uses, indexed by reason code:
 * names[k] is hv_get_stats()'s k-th "exits_NAME" counter without
 * "exits_" (core/stats.c lists them in enum hvx_reason order). Asks a
 * VM made for the purpose. Returns how many, or -errno.
 */
int perfstat_reason_names(const char **names, size_t n);

#endif
