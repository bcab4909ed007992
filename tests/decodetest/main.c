/*
 * main.c — decodetest: emu_decode() against Zydis on random byte strings.
 *
 *   decodetest [-n N] [-s SEED] [-m 16|32|64] [-v] [-q] [-g]
 *   decodetest -e [-s SEED] [-m 16|32|64] [-v] [-q] [-g]
 *   decodetest -x "0f 05" [-m 16|32|64] [-v]
 *
 * Random mode runs N cases (default 300000) from SEED (default below),
 * cycling through the modes unless -m fixes one; each case is judged by
 * judge.c. Every disagreement is one line (report.c); -v adds detail and
 * also prints the known-deviation cases and the out-of-scope instructions
 * we decode anyway, -q prints no case lines, -g ends with the
 * disagreements grouped by kind. -x checks one byte string
 * (given as is, fewer than 15 bytes allowed) in one mode or in all three,
 * always with detail. The last line is always
 *   decodetest: N cases, M disagreements
 * and the exit status is 1 when M > 0 (2 for a usage error).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decodetest.h"

#define DEFAULT_N 300000ul
#define DEFAULT_SEED 0x68766c6162ull	/* "hvlab" */

struct options {
	unsigned long n;
	uint64_t seed;
	int mode;		/* -1: all three */
	const char *hex;
	int verbose;
	bool quiet, group, sweep;
};

struct tally {
	unsigned long cases, verdict[DT_NR_VERDICTS], decoded_oos;
	unsigned long shape[DT_GEN_NR];
	unsigned long *per_dev;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: decodetest [-n N] [-s SEED] [-m 16|32|64] [-v] [-q] [-g]\n"
		"       decodetest -e [-s SEED] [-m 16|32|64] [-v] [-q] [-g]\n"
		"       decodetest -x \"HEX BYTES\" [-m 16|32|64] [-v]\n"
		"  -n N     number of random cases (default %lu)\n"
		"  -s SEED  PRNG seed, decimal or 0x hex (default %#llx)\n"
		"  -m BITS  only this mode (default: all three in turn)\n"
		"  -e       sweep every opcode and ModRM under a few prefix sets instead\n"
		"  -x HEX   check one byte string, e.g. -x \"0f 05\"\n"
		"  -v       detail per reported case; also print known Zydis deviations\n"
		"           and out-of-scope instructions we decode anyway\n"
		"  -q       no per-case lines, only the summary\n"
		"  -g       group the disagreements by kind at the end\n",
		DEFAULT_N, (unsigned long long)DEFAULT_SEED);
}

static int parse_mode(const char *s)
{
	if (!strcmp(s, "16"))
		return EMU_MODE_16;
	if (!strcmp(s, "32"))
		return EMU_MODE_32;
	if (!strcmp(s, "64"))
		return EMU_MODE_64;
	return -1;
}

/* "0f 05", "0f05", "0x0f,0x05": pairs of hex digits; returns the count. */
static int parse_hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	char pair[3] = { 0 };

	while (*s) {
		if (isspace((unsigned char)*s) || *s == ',' || *s == ':') {
			s++;
			continue;
		}
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
			s += 2;
			continue;
		}
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			return -1;
		if (n == max)
			return -1;
		pair[0] = s[0];
		pair[1] = s[1];
		out[n++] = (uint8_t)strtoul(pair, NULL, 16);
		s += 2;
	}
	return (int)n;
}

static void account(struct tally *t, const struct options *o,
		    const struct dt_case *c)
{
	t->cases++;
	t->verdict[c->verdict]++;
	if (c->kind < DT_GEN_NR)
		t->shape[c->kind]++;
	if (c->decoded_out_of_scope)
		t->decoded_oos++;
	if (c->verdict == DT_DEVIATION)
		t->per_dev[c->dev - dt_deviations]++;

	if (o->hex) {
		static const char *const tag[DT_NR_VERDICTS] = {
			"AGREE", "OUT-OF-SCOPE", "DEVIATION", "DISAGREE",
		};
		dt_print_case(tag[c->verdict], c);
		dt_print_detail(c);
		return;
	}
	if (c->verdict == DT_DISAGREE) {
		if (o->group)
			dt_group_add(c);
		if (o->quiet)
			return;
		dt_print_case("DISAGREE", c);
	} else if (c->verdict == DT_DEVIATION && o->verbose && !o->quiet) {
		dt_print_case("DEVIATION", c);
	} else if (c->decoded_out_of_scope && o->verbose && !o->quiet) {
		dt_print_case("OUT-OF-SCOPE-DECODED", c);
	} else {
		return;
	}
	if (o->verbose)
		dt_print_detail(c);
}

static void summary(const struct tally *t, const struct options *o)
{
	const char *sep;
	size_t i;

	if (o->sweep)
		printf("decodetest: seed %#llx, sweep of every opcode and ModRM\n",
		       (unsigned long long)o->seed);
	else if (!o->hex)
		printf("decodetest: seed %#llx, shapes: %s %lu, %s %lu, %s %lu\n",
		       (unsigned long long)o->seed,
		       dt_gen_kind_name[DT_GEN_UNIFORM], t->shape[DT_GEN_UNIFORM],
		       dt_gen_kind_name[DT_GEN_SHAPED], t->shape[DT_GEN_SHAPED],
		       dt_gen_kind_name[DT_GEN_PREFIX_RUN], t->shape[DT_GEN_PREFIX_RUN]);
	printf("decodetest: %lu agree, %lu out of scope (%lu of them decoded by us), "
	       "%lu known Zydis deviations",
	       t->verdict[DT_AGREE], t->verdict[DT_OUT_OF_SCOPE], t->decoded_oos,
	       t->verdict[DT_DEVIATION]);
	for (i = 0, sep = " ("; i < dt_nr_deviations; i++) {
		if (!t->per_dev[i])
			continue;
		printf("%s%s %lu", sep, dt_deviations[i].id, t->per_dev[i]);
		sep = ", ";
	}
	printf("%s\n", t->verdict[DT_DEVIATION] ? ")" : "");
	if (o->group)
		dt_group_print();
	printf("decodetest: %lu cases, %lu disagreements\n", t->cases,
	       t->verdict[DT_DISAGREE]);
}

static void run_random(const struct options *o, struct tally *t)
{
	struct dt_rng rng;
	struct dt_case c;
	unsigned long i;

	dt_rng_seed(&rng, o->seed);
	for (i = 0; i < o->n; i++) {
		memset(&c, 0, sizeof(c));
		c.mode = o->mode >= 0 ? (enum emu_mode)o->mode : (enum emu_mode)(i % 3);
		c.kind = dt_gen_case(&rng, c.mode, c.bytes);
		c.n = EMU_MAX_INSN_LEN;
		dt_judge(&c);
		account(t, o, &c);
	}
}

static void run_sweep(const struct options *o, struct tally *t)
{
	struct dt_rng rng;
	struct dt_case c;
	size_t i, n;
	int m;

	dt_rng_seed(&rng, o->seed);
	for (m = EMU_MODE_16; m <= EMU_MODE_64; m++) {
		if (o->mode >= 0 && m != o->mode)
			continue;
		n = dt_sweep_count((enum emu_mode)m);
		for (i = 0; i < n; i++) {
			memset(&c, 0, sizeof(c));
			c.mode = (enum emu_mode)m;
			c.kind = DT_GEN_SWEEP;
			dt_sweep_case(&rng, c.mode, i, c.bytes);
			c.n = EMU_MAX_INSN_LEN;
			dt_judge(&c);
			account(t, o, &c);
		}
	}
}

static void run_hex(const struct options *o, struct tally *t,
		    const uint8_t *bytes, size_t n)
{
	struct dt_case c;
	int m;

	for (m = EMU_MODE_16; m <= EMU_MODE_64; m++) {
		if (o->mode >= 0 && m != o->mode)
			continue;
		memset(&c, 0, sizeof(c));
		c.mode = (enum emu_mode)m;
		c.kind = DT_GEN_NR;
		memcpy(c.bytes, bytes, n);
		c.n = n;
		dt_judge(&c);
		account(t, o, &c);
	}
}

int main(int argc, char **argv)
{
	struct options o = { .n = DEFAULT_N, .seed = DEFAULT_SEED, .mode = -1 };
	struct tally t = { 0 };
	uint8_t bytes[EMU_MAX_INSN_LEN];
	int opt, nbytes = 0;
	char *end;

	while ((opt = getopt(argc, argv, "n:s:m:x:evqgh")) != -1) {
		switch (opt) {
		case 'n':
			errno = 0;
			o.n = strtoul(optarg, &end, 0);
			if (errno || *end || !*optarg) {
				fprintf(stderr, "decodetest: -n wants a count, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 's':
			errno = 0;
			o.seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg) {
				fprintf(stderr, "decodetest: -s wants a number (decimal or 0x hex), not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'm':
			o.mode = parse_mode(optarg);
			if (o.mode < 0) {
				fprintf(stderr, "decodetest: no mode '%s'; use -m 16, -m 32 or -m 64\n",
					optarg);
				return 2;
			}
			break;
		case 'x':
			o.hex = optarg;
			break;
		case 'e':
			o.sweep = true;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'g':
			o.group = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.hex) {
		nbytes = parse_hex(o.hex, bytes, sizeof(bytes));
		if (nbytes <= 0) {
			fprintf(stderr, "decodetest: -x wants 1 to 15 hex bytes, e.g. -x \"0f 05\", not '%s'\n",
				o.hex);
			return 2;
		}
	}
	if (dt_zydis_init()) {
		fprintf(stderr, "decodetest: cannot set up the Zydis decoders (libZydis 4.x expected)\n");
		return 2;
	}
	t.per_dev = calloc(dt_nr_deviations, sizeof(*t.per_dev));
	if (!t.per_dev) {
		fprintf(stderr, "decodetest: out of memory\n");
		return 2;
	}

	if (o.hex)
		run_hex(&o, &t, bytes, (size_t)nbytes);
	else if (o.sweep)
		run_sweep(&o, &t);
	else
		run_random(&o, &t);
	summary(&t, &o);
	free(t.per_dev);
	return t.verdict[DT_DISAGREE] ? 1 : 0;
}
