/*
 * stats_out.h — the statistics `hvlab run` prints at the end of a run:
 * a table for people, JSON or CSV for tools (docs/run.md).
 */
#ifndef HVLAB_VMM_STATS_OUT_H
#define HVLAB_VMM_STATS_OUT_H

#include <stdio.h>

#include "vmm/dev.h"

enum stats_fmt { STATS_NONE, STATS_TABLE, STATS_JSON, STATS_CSV };

struct run_info {
	const char *guest, *backend, *mmu;
	int status;		/* the exit status hvlab returns */
	const char *end;	/* how the run ended, one word */
	double host_seconds;	/* wall time of the run loop */
};

/* 0, or -errno (out of memory). */
int stats_print(FILE *f, enum stats_fmt fmt, struct vmm *v, const struct run_info *ri);

#endif
