/*
 * perfstat.c — see perfstat.h. The pairing rule, per vcpu (arg1 of every
 * probe, core/trace.h):
 *
 *   event             the vcpu was ...        then
 *   vm_exit           anywhere                count a sample of its reason
 *                                             (arg2); wait for an entry
 *                                             (an exit already waiting loses
 *                                             its interval: lost events)
 *   vm_entry          waiting after an exit   interval = entry - exit time,
 *                                             to that exit's reason
 *   page_fault        anywhere                wait for page_fault_done
 *   page_fault_done   waiting after a fault   a sample and its interval to
 *                                             the result (arg3, enum ret_pf)
 *
 * So the samples of the exit table add up to the vm_exit events, which is
 * the run's `exits` statistic exactly (the probe sits where it is counted,
 * core/run.c); the last exit of a run has no interval. The interval is
 * host time from the decoded exit to the next VM entry of the same vcpu:
 * hvlab's handling plus whatever the VMM did (device models) in between,
 * what perf kvm stat calls the exit's time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/perfstat.h"

static const char *const pf_names[PERFSTAT_PF_RESULTS] = {
	"retry", "emulate", "guest", "error",	/* mmu/mmu.h enum ret_pf */
};

void perfstat_init(struct perfstat *ps)
{
	memset(ps, 0, sizeof(*ps));
}

static int bad(struct perfstat *ps, const char *why)
{
	snprintf(ps->err, sizeof(ps->err), "line %" PRIu64 ": %s", ps->lines, why);
	return -EINVAL;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Digits to a number; NULL if there are none or it overflows. */
static const char *parse_u64(const char *s, uint64_t *v)
{
	uint64_t n = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return NULL;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*v = n;
	return p == s ? NULL : p;
}

/* "SECONDS.FRACTION:" to ns (a fraction of up to 9 digits). */
static const char *parse_time(const char *s, uint64_t *ns)
{
	uint64_t sec, frac = 0;
	const char *p = parse_u64(s, &sec);
	if (!p || *p != '.' || sec > UINT64_MAX / 1000000000u)
		return NULL;
	const char *q = ++p;
	while (*q >= '0' && *q <= '9') {
		if (q - p == 9)
			return NULL;
		frac = frac * 10 + (uint64_t)(*q++ - '0');
	}
	if (q == p || *q != ':')
		return NULL;
	for (long d = q - p; d < 9; d++)
		frac *= 10;
	*ns = sec * 1000000000u + frac;
	return q + 1;
}

enum probe { P_OTHER, P_EXIT, P_ENTRY, P_PF, P_PF_DONE };

/* "sdt_hvlab:NAME[_k]:" to the probe; *nargs its argument count. */
static enum probe probe_of(const char *ev, size_t len, unsigned *nargs)
{
	static const struct {
		const char *name;
		enum probe p;
		unsigned nargs;
	} probes[] = {
		{ "vm_exit", P_EXIT, 4 }, { "vm_entry", P_ENTRY, 1 },
		{ "page_fault", P_PF, 4 }, { "page_fault_done", P_PF_DONE, 3 },
	};
	/* perf's group sdt_hvlab, or bench/perf/wrap's sdt_hvlab_BUILDID */
	static const char prov[] = "sdt_hvlab";
	if (len < sizeof(prov) - 1 || memcmp(ev, prov, sizeof(prov) - 1))
		return P_OTHER;
	size_t g = sizeof(prov) - 1;
	if (g < len && ev[g] == '_')
		while (++g < len && ((ev[g] >= '0' && ev[g] <= '9') || (ev[g] >= 'a' && ev[g] <= 'f')))
			;
	if (g >= len || ev[g] != ':')
		return P_OTHER;
	ev += g + 1;
	len -= g + 1;
	/* perf's name for a probe's further sites: NAME_1, NAME_2, ... */
	size_t d = len;
	while (d > 0 && ev[d - 1] >= '0' && ev[d - 1] <= '9')
		d--;
	if (d < len && d > 0 && ev[d - 1] == '_')
		len = d - 1;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (strlen(probes[i].name) == len && !memcmp(probes[i].name, ev, len)) {
			*nargs = probes[i].nargs;
			return probes[i].p;
		}
	return P_OTHER;
}

static void add(struct perfstat_cell *c, uint64_t dt)
{
	if (!c->timed || dt < c->min)
		c->min = dt;
	if (dt > c->max)
		c->max = dt;
	c->timed++;
	c->sum += dt;
	c->sumsq += (unsigned __int128)dt * dt;
}

int perfstat_line(struct perfstat *ps, const char *line)
{
	uint64_t tid, ns, arg[4] = { 0 };
	unsigned nargs = 0;
	ps->lines++;
	const char *p = skip_space(line);
	if (!*p || *p == '\n' || *p == '#')
		return 0;	/* blank, or a comment (tests/unit/data/) */
	if (!(p = parse_u64(p, &tid)) || (*p != ' ' && *p != '\t'))
		return bad(ps, "expected `TID TIME: EVENT: ...` (perf script -F trace:tid,time,event,trace --ns)");
	p = skip_space(p);
	if (*p == '[') {		/* a cpu column */
		uint64_t cpu;
		if (!(p = parse_u64(p + 1, &cpu)) || *p != ']')
			return bad(ps, "a malformed [cpu] column");
		p = skip_space(p + 1);
	}
	if (!(p = parse_time(p, &ns)))
		return bad(ps, "expected a timestamp SECONDS.FRACTION: after the tid");
	p = skip_space(p);
	const char *ev = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	if (p == ev || p[-1] != ':')
		return bad(ps, "expected an event name ending in ':' after the timestamp");
	const enum probe pr = probe_of(ev, (size_t)(p - 1 - ev), &nargs);
	if (pr == P_OTHER)
		return 0;
	/* (address) argN=VALUE ... */
	for (unsigned seen = 0;;) {
		p = skip_space(p);
		if (!*p || *p == '\n') {
			if (seen != (1u << nargs) - 1)
				return bad(ps, "an sdt_hvlab event without all its arguments (arg1..argN)");
			break;
		}
		const char *w = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (*w == '(')
			continue;
		char *end;
		if (strncmp(w, "arg", 3) || w[3] < '1' || w[3] > '0' + (int)nargs || w[4] != '=')
			continue;	/* a field of a newer perf: ignore */
		errno = 0;
		const uint64_t v = strtoull(w + 5, &end, 0);
		if (end == w + 5 || end != p || errno)
			return bad(ps, "an argument that is not a number");
		arg[w[3] - '1'] = v;
		seen |= 1u << (w[3] - '1');
	}
	if (arg[0] >= HV_MAX_VCPUS)
		return bad(ps, "a vcpu id (arg1) beyond HV_MAX_VCPUS");
	if (!ps->any)
		ps->first_ns = ps->last_ns = ns;
	ps->any = true;
	if (ns < ps->last_ns)
		return bad(ps, "timestamps go backwards (perf script sorts them: was it edited?)");
	ps->last_ns = ns;
	__typeof__(ps->vcpu[0]) *v = &ps->vcpu[arg[0]];
	v->seen = true;
	switch (pr) {
	case P_EXIT:
		if (arg[1] >= PERFSTAT_REASONS)
			return bad(ps, "an exit reason code (arg2) hvlab stat does not know");
		ps->exit[arg[1]].samples++;
		v->in_exit = true;
		v->reason = (unsigned)arg[1];
		v->exit_ns = ns;
		break;
	case P_ENTRY:
		if (v->in_exit)
			add(&ps->exit[v->reason], ns - v->exit_ns);
		v->in_exit = false;
		break;
	case P_PF:
		ps->pf_calls++;
		v->in_pf = true;
		v->pf_ns = ns;
		break;
	case P_PF_DONE:
		if (arg[2] >= PERFSTAT_PF_RESULTS)
			return bad(ps, "a page-fault result (arg3) that is no enum ret_pf");
		ps->pf[arg[2]].samples++;
		if (v->in_pf)
			add(&ps->pf[arg[2]], ns - v->pf_ns);
		v->in_pf = false;
		break;
	case P_OTHER:
		break;
	}
	return 0;
}

unsigned perfstat_vcpus(const struct perfstat *ps)
{
	unsigned n = 0;
	for (unsigned i = 0; i < HV_MAX_VCPUS; i++)
		n += ps->vcpu[i].seen;
	return n;
}

uint64_t perfstat_exits(const struct perfstat *ps)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < PERFSTAT_REASONS; i++)
		n += ps->exit[i].samples;
	return n;
}

static enum perfstat_sort sort_key;

static int cmp_rows(const void *a, const void *b)
{
	const struct perfstat_row *x = a, *y = b;
	if (sort_key == PERFSTAT_SORT_SAMPLES && x->c->samples != y->c->samples)
		return x->c->samples > y->c->samples ? -1 : 1;
	if (sort_key != PERFSTAT_SORT_NAME && x->c->sum != y->c->sum)
		return x->c->sum > y->c->sum ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Newton's iteration (the program does not link libm). */
static long double sqrt_ld(long double x)
{
	if (x <= 0)
		return 0;
	long double y = x > 1 ? x : 1;
	for (int i = 0; i < 200; i++) {
		const long double next = (y + x / y) / 2;
		if (next >= y)
			break;
		y = next;
	}
	return y;
}

/* Standard deviation of the intervals from the exact sums:
 * s^2 = (n sum(x^2) - (sum x)^2) / (n (n - 1)). */
static double stddev(const struct perfstat_cell *c)
{
	if (c->timed < 2)
		return 0;
	const long double n = (long double)c->timed, s = (long double)c->sum;
	return (double)sqrt_ld(((long double)c->sumsq * n - s * s) / (n * (n - 1)));
}

size_t perfstat_rows(const struct perfstat *ps, bool pf, const char *const *names, size_t nnames,
		     enum perfstat_sort sort, struct perfstat_row *rows)
{
	static char fallback[PERFSTAT_REASONS][16];
	const struct perfstat_cell *cells = pf ? ps->pf : ps->exit;
	const unsigned ncells = pf ? PERFSTAT_PF_RESULTS : PERFSTAT_REASONS;
	uint64_t samples = 0, time = 0;
	size_t n = 0;
	for (unsigned k = 0; k < ncells; k++) {
		samples += cells[k].samples;
		time += cells[k].sum;
	}
	for (unsigned k = 0; k < ncells; k++) {
		const struct perfstat_cell *c = &cells[k];
		if (!c->samples)
			continue;
		const char *name = pf ? pf_names[k] : k < nnames && names ? names[k] : NULL;
		if (!name) {
			snprintf(fallback[k], sizeof(fallback[k]), "reason_%u", k);
			name = fallback[k];
		}
		rows[n++] = (struct perfstat_row){
			.key = k, .name = name, .c = c,
			.samples_pct = 100.0 * (double)c->samples / (double)samples,
			.time_pct = time ? 100.0 * (double)c->sum / (double)time : 0,
			.mean = c->timed ? (double)c->sum / (double)c->timed : 0,
			.stddev = stddev(c),
		};
	}
	sort_key = sort;
	qsort(rows, n, sizeof(rows[0]), cmp_rows);
	return n;
}

static void print_table(FILE *f, const struct perfstat *ps, bool pf, const char *const *names,
			size_t nnames, enum perfstat_sort sort)
{
	struct perfstat_row rows[PERFSTAT_REASONS];
	const size_t n = perfstat_rows(ps, pf, names, nnames, sort, rows);
	uint64_t samples = 0, timed = 0, sum = 0;
	/* "±" is two bytes: printf's widths count bytes. */
	fprintf(f, "%-18s %10s %9s %8s %10s %10s %12s   ± stddev\n",
		pf ? "page-fault result" : "exit reason", "samples", "samples%", "time%", "min ns",
		"max ns", "avg ns");
	for (size_t i = 0; i < n; i++) {
		const struct perfstat_row *r = &rows[i];
		samples += r->c->samples;
		timed += r->c->timed;
		sum += r->c->sum;
		fprintf(f, "  %-16s %10" PRIu64 " %8.2f%% %7.2f%%", r->name, r->c->samples,
			r->samples_pct, r->time_pct);
		if (r->c->timed)
			fprintf(f, " %10" PRIu64 " %10" PRIu64 " %12.1f %10.1f\n", r->c->min, r->c->max,
				r->mean, r->stddev);
		else
			fprintf(f, " %10s %10s %12s %10s\n", "-", "-", "-", "-");
	}
	fprintf(f, "  %-16s %10" PRIu64 " %8.2f%% %7.2f%% %10s %10s %12.1f\n", "total", samples,
		samples ? 100.0 : 0.0, sum ? 100.0 : 0.0, "", "",
		timed ? (double)sum / (double)timed : 0.0);
}

void perfstat_print(FILE *f, const struct perfstat *ps, const char *const *names, size_t nnames,
		    enum perfstat_sort sort)
{
	uint64_t timed = 0;
	for (unsigned k = 0; k < PERFSTAT_REASONS; k++)
		timed += ps->exit[k].timed;
	fprintf(f, "hvlab stat: %" PRIu64 " exits on %u vcpu%s over %.6f s host time; %" PRIu64
		" timed (host ns from an exit to its vcpu's next entry)\n",
		perfstat_exits(ps), perfstat_vcpus(ps), perfstat_vcpus(ps) == 1 ? "" : "s",
		(double)(ps->last_ns - ps->first_ns) / 1e9, timed);
	print_table(f, ps, false, names, nnames, sort);
	if (ps->pf_calls) {
		fprintf(f, "\n%" PRIu64 " calls of the MMU's page_fault op (host ns to its return)\n",
			ps->pf_calls);
		print_table(f, ps, true, NULL, 0, sort);
	}
}

int perfstat_reason_names(const char **names, size_t n)
{
	struct hv_vm *vm;
	struct hv_vm_config cfg = { .max_mem = 1u << 20 };
	int r = hv_vm_create(&cfg, &vm);
	if (r)
		return r;
	const int k = hv_get_stats(vm, NULL, 0);
	struct hv_stat *s = k > 0 ? calloc((size_t)k, sizeof(*s)) : NULL;
	if (!s) {
		hv_vm_destroy(vm);
		return k < 0 ? k : -ENOMEM;
	}
	hv_get_stats(vm, s, (size_t)k);
	size_t m = 0;
	for (int i = 0; i < k; i++)
		if (!strncmp(s[i].name, "exits_", 6) && m < n)
			names[m++] = s[i].name + 6;	/* static strings of core/stats.c */
	free(s);
	hv_vm_destroy(vm);
	return (int)m;
}
