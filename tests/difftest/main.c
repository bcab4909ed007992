/*
 * main.c — difftest: emulate/ against the host CPU, case by case.
 *
 *   difftest [-n N] [-s SEED] [-c CASE] [-f FORM] [-v] [-u] [-x] [-d] [-r] [-l] [-m MAX]
 *
 * Case i of seed s is a pure function of (s, i), so every mismatch line
 * names the command that reproduces it alone. For each mismatch the
 * case is re-run with only its first k units, k = 1, 2, ..., to find the
 * first unit after which the results differ; that unit's form is the one
 * blamed in the per-form summary (usually the culprit; the full listing
 * is printed too). The last line is always
 *   difftest: N cases, M mismatches
 * and the exit status is non-zero when M > 0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "difftest.h"

struct opts {
	uint64_t n, seed;
	int64_t only;		/* -c, or -1 */
	const char *form;	/* -f */
	bool verbose, undef, self, list, dcache, run;
	unsigned max_print;
};

static struct dt_filter flt;
static struct dt_case cs, cs_prefix;
static uint8_t sb_init[DT_SB_SIZE], sb_exp[DT_SB_SIZE], sb_got[DT_SB_SIZE];
static struct dt_undef_stat undef_st[DT_NFORMS][DT_NAFLAGS];
static unsigned blamed[DT_NFORMS];

static void usage(void)
{
	fprintf(stderr,
		"usage: difftest [-n N] [-s SEED] [-c CASE] [-f FORM] [-v] [-u] [-x] [-d] [-r] [-l] [-m MAX]\n"
		"  -n N     run N cases (default 10000)\n"
		"  -s SEED  the case stream (default 1)\n"
		"  -c CASE  run only case CASE of the stream\n"
		"  -f FORM  only forms whose name contains FORM (or matches it as a glob)\n"
		"  -v       print every case\n"
		"  -u       print how often undefined flags differ from the host\n"
		"  -x       self-check: compare two native runs instead of the emulator\n"
		"  -d       run the emulator through its decode cache\n"
		"  -r       run each case with emu_run() instead of emu_step() (no -u)\n"
		"  -l       list the forms this host runs\n"
		"  -m MAX   print details for at most MAX mismatches (default 30)\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	int ch;

	*o = (struct opts){ .n = 10000, .seed = 1, .only = -1, .max_print = 30 };
	while ((ch = getopt(argc, argv, "n:s:c:f:vuxdrlm:h")) != -1) {
		switch (ch) {
		case 'n': o->n = strtoull(optarg, NULL, 0); break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'c': o->only = (int64_t)strtoull(optarg, NULL, 0); break;
		case 'f': o->form = optarg; break;
		case 'v': o->verbose = true; break;
		case 'u': o->undef = true; break;
		case 'x': o->self = true; break;
		case 'd': o->dcache = true; break;
		case 'r': o->run = true; break;
		case 'l': o->list = true; break;
		case 'm': o->max_print = (unsigned)strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
}

/* Run @c both ways; results in exp/got, sandboxes in sb_exp/sb_got. */
static void run_both(const struct opts *o, const struct dt_case *c,
		     struct dt_result *exp, struct dt_result *got)
{
	const uint8_t *nsb;

	dt_gen_sandbox(sb_init, c->seed, c->index);
	dt_native_run(c, sb_init, exp, &nsb);
	memcpy(sb_exp, nsb, DT_SB_SIZE);
	if (o->self) {
		dt_native_run(c, sb_init, got, &nsb);
		memcpy(sb_got, nsb, DT_SB_SIZE);
	} else {
		memcpy(sb_got, sb_init, DT_SB_SIZE);
		dt_emu_run(c, dt_native_code_page(), sb_got, got);
	}
}

/* The first unit after which a prefix of the case already mismatches. */
static unsigned first_bad_unit(const struct opts *o, const struct dt_case *c)
{
	struct dt_result e, g;

	for (unsigned k = 1; k < c->nunits; k++) {
		if (dt_gen_case(&cs_prefix, &flt, c->seed, c->index, k))
			break;
		run_both(o, &cs_prefix, &e, &g);
		if (dt_compare(&cs_prefix, &e, sb_exp, &g, sb_got, NULL))
			return k - 1;
	}
	return c->nunits ? c->nunits - 1 : 0;
}

/* Returns true when case @idx mismatches. */
static bool run_case(const struct opts *o, uint64_t idx, unsigned *printed)
{
	struct dt_result exp, got;
	unsigned ndiff, bad;
	char a[128];

	if (dt_gen_case(&cs, &flt, o->seed, idx, 0)) {
		printf("difftest: HARNESS ERROR seed %" PRIu64 " case %" PRIu64
		       ": could not resolve the case's branches\n", o->seed, idx);
		return true;
	}
	run_both(o, &cs, &exp, &got);
	ndiff = dt_compare(&cs, &exp, sb_exp, &got, sb_got, NULL);
	if (o->undef && !ndiff)
		dt_undef_account(&cs, &exp, &got, undef_st);
	if (!ndiff) {
		if (o->verbose) {
			dt_describe(a, sizeof(a), &exp);
			printf("case %" PRIu64 ": ok, %s\n", idx, a);
			dt_print_case(stdout, &cs, -1, false);
		}
		return false;
	}

	/* keep the full run's results: blaming re-runs overwrite buffers */
	{
		static uint8_t keep_exp[DT_SB_SIZE], keep_got[DT_SB_SIZE];

		memcpy(keep_exp, sb_exp, DT_SB_SIZE);
		memcpy(keep_got, sb_got, DT_SB_SIZE);
		bad = first_bad_unit(o, &cs);
		blamed[cs.unit_form[bad]]++;
		if (*printed >= o->max_print && !o->verbose)
			return true;
		(*printed)++;
		printf("difftest: MISMATCH seed %" PRIu64 " case %" PRIu64
		       " unit %u '%s' (reproduce: difftest -s %" PRIu64 " -c %"
		       PRIu64 " -v)\n", o->seed, idx, bad,
		       dt_forms[cs.unit_form[bad]].name, o->seed, idx);
		dt_print_case(stdout, &cs, (int)bad, o->verbose);
		dt_compare(&cs, &exp, keep_exp, &got, keep_got, stdout);
	}
	return true;
}

static int cmp_blamed(const void *a, const void *b)
{
	unsigned x = blamed[*(const uint16_t *)a], y = blamed[*(const uint16_t *)b];

	return x < y ? 1 : x > y ? -1 : 0;
}

static void print_blamed(void)
{
	static uint16_t order[DT_NFORMS];
	unsigned n = 0;

	for (unsigned i = 0; i < DT_NFORMS; i++)
		if (blamed[i])
			order[n++] = (uint16_t)i;
	if (!n)
		return;
	qsort(order, n, sizeof(order[0]), cmp_blamed);
	printf("mismatches by the first unit that diverges:\n");
	for (unsigned i = 0; i < n; i++)
		printf("  %6u  %s\n", blamed[order[i]], dt_forms[order[i]].name);
}

int main(int argc, char **argv)
{
	struct opts o;
	uint64_t cases = 0, bad = 0, first, last;
	unsigned printed = 0;

	parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (dt_filter_init(&flt, o.form))
		return 2;
	if (o.list) {
		for (unsigned i = 0; i < flt.n; i++)
			printf("%s\n", dt_forms[flt.forms[i]].name);
		return 0;
	}
	if (dt_emu_init() || (o.dcache && dt_emu_use_dcache()) || dt_native_init())
		return 2;
	if (o.run)
		dt_emu_use_run();

	first = o.only >= 0 ? (uint64_t)o.only : 0;
	last = o.only >= 0 ? first + 1 : o.n;
	for (uint64_t i = first; i < last; i++) {
		cases++;
		bad += run_case(&o, i, &printed);
	}
	dt_native_fini();

	if (bad)
		print_blamed();
	if (o.undef)
		dt_undef_print(undef_st);
	printf("difftest: %" PRIu64 " cases, %" PRIu64 " mismatches\n", cases, bad);
	return bad ? 1 : 0;
}
