/*
 * report.c — how a case reads on the terminal, and grouping.
 *
 * A case is one line that reproduces it:
 *   TAG [why] -m MODE -x "BYTES"  zydis: ANSWER | emu: ANSWER
 * where ANSWER is "mnemonic len L ops K" or the kind of failure, so the
 * line can be pasted back: decodetest -m MODE -x "BYTES" -v.
 *
 * Groups collect disagreements by (mode, why, Zydis's mnemonic or
 * failure, our operation or failure) and print the largest first, each
 * with its first example: one line per decoder bug, roughly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decodetest.h"

unsigned dt_mode_bits(enum emu_mode mode)
{
	return mode == EMU_MODE_16 ? 16 : mode == EMU_MODE_32 ? 32 : 64;
}

const char *dt_status_name(enum dt_status s)
{
	switch (s) {
	case DT_OK:	 return "ok";
	case DT_INVALID: return "#UD";
	case DT_TOOLONG: return "too-long";
	case DT_SHORT:	 return "short";
	}
	return "?";
}

static void zydis_answer(const struct dt_case *c, char *buf, size_t size)
{
	const struct dt_zydis *z = &c->z;

	if (z->status != DT_OK)
		snprintf(buf, size, "%s (%s)", dt_status_name(z->status), z->why);
	else
		snprintf(buf, size, "%s len %u ops %u%s", dt_zydis_mnemonic(z),
			 z->len, z->vis, z->in_scope ? "" : " [out of scope]");
}

static void emu_answer(const struct dt_case *c, char *buf, size_t size)
{
	const struct dt_emu *e = &c->e;

	if (e->status == DT_OK)
		snprintf(buf, size, "%s len %d ops %u", emu_op_name(e->insn.op),
			 e->ret, e->insn.nops);
	else if (e->ret == -EMU_DEC_UD || e->ret == -EMU_DEC_TOOLONG ||
		 e->ret == -EMU_DEC_SHORT)
		snprintf(buf, size, "%s", dt_status_name(e->status));
	else
		snprintf(buf, size, "bad return %d", e->ret);
}

static void hex(const struct dt_case *c, char *buf)
{
	size_t i;
	char *p = buf;

	*p = '\0';
	for (i = 0; i < c->n; i++)
		p += sprintf(p, i ? " %02x" : "%02x", c->bytes[i]);
}

static bool has_prefix_byte(const struct dt_case *c, uint8_t p)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->bytes[i] == p)
			return true;
		if (!memchr("\x66\x67\xf0\xf2\xf3\x2e\x36\x3e\x26\x64\x65",
			    c->bytes[i], 11) &&
		    !(c->mode == EMU_MODE_64 && (c->bytes[i] & 0xf0) == 0x40))
			return false;
	}
	return false;
}

/*
 * What kind of instruction a too-long one would be; for groups, only
 * the prefix that probably made us say #UD early (a LOCK, or an F2/F3
 * where it is no mandatory prefix), not the mnemonic.
 */
static bool too_long_kind(const struct dt_case *c, bool brief, char *buf,
			  size_t size)
{
	struct dt_zydis z;
	const char *pfx = has_prefix_byte(c, 0xf0) ? " with LOCK" :
			  has_prefix_byte(c, 0xf2) || has_prefix_byte(c, 0xf3) ?
			  " with F2/F3" : "";

	if (c->z.status != DT_TOOLONG)
		return false;
	if (!dt_opcode_may_be_in_scope(c, &z))
		snprintf(buf, size, "opcode out of scope");
	else if (brief)
		snprintf(buf, size, "opcode in scope%s", pfx);
	else
		snprintf(buf, size, "opcode in scope%s, e.g. %s", pfx,
			 dt_zydis_mnemonic(&z));
	return true;
}

static void format_case(const char *tag, const struct dt_case *c, char *buf,
			size_t size)
{
	char bytes[3 * EMU_MAX_INSN_LEN + 1], za[96], ea[96];

	hex(c, bytes);
	zydis_answer(c, za, sizeof(za));
	emu_answer(c, ea, sizeof(ea));
	snprintf(buf, size, "%s%s%s -m %u -x \"%s\"  zydis: %s | emu: %s", tag,
		 c->dev || c->why != DT_WHY_NONE ? " " : "",
		 c->dev ? c->dev->id : c->why != DT_WHY_NONE ? dt_why_name[c->why] : "",
		 dt_mode_bits(c->mode), bytes, za, ea);
}

void dt_print_case(const char *tag, const struct dt_case *c)
{
	char line[400];

	format_case(tag, c, line, sizeof(line));
	puts(line);
}

void dt_print_detail(const struct dt_case *c)
{
	char buf[256];

	if (c->z.status == DT_OK) {
		dt_zydis_format(c->mode, c->bytes, c->n, buf, sizeof(buf));
		printf("    zydis: %s\n", buf);
		dt_zydis_meta(&c->z, buf, sizeof(buf));
		printf("    zydis: %s\n", buf);
	}
	if (too_long_kind(c, false, buf, sizeof(buf)))
		printf("    zydis: too long: %s\n", buf);
	if (c->e.status == DT_OK)
		printf("    emu:   %s, osz %u, asz %u, flags %#x, nops %u\n",
		       emu_op_name(c->e.insn.op), c->e.insn.opsize * 8u,
		       c->e.insn.adsize * 8u, c->e.insn.flags, c->e.insn.nops);
	if (c->dev)
		printf("    known deviation %s: %s (%s)\n", c->dev->id,
		       c->dev->what, c->dev->sdm);
	if (c->kind < DT_GEN_NR)
		printf("    generator: %s\n", dt_gen_kind_name[c->kind]);
}

/* ------------------------------------------------------------ groups */

#define NR_GROUP_SLOTS 8192

struct group {
	char key[256];
	unsigned long count;
	char example[400];
};

static struct group *groups;
static size_t nr_groups;

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

void dt_group_add(const struct dt_case *c)
{
	char key[256], za[96], ea[96], fit[64];
	size_t i;

	if (!groups) {
		groups = calloc(NR_GROUP_SLOTS, sizeof(*groups));
		if (!groups)
			return;
	}
	if (c->z.status == DT_OK)
		snprintf(za, sizeof(za), "%s%s", dt_zydis_mnemonic(&c->z),
			 c->z.in_scope ? "" : "[oos]");
	else if (too_long_kind(c, true, fit, sizeof(fit)))
		snprintf(za, sizeof(za), "too-long[%s]", fit);
	else
		snprintf(za, sizeof(za), "%s", dt_status_name(c->z.status));
	if (c->e.status == DT_OK)
		snprintf(ea, sizeof(ea), "%s", emu_op_name(c->e.insn.op));
	else
		snprintf(ea, sizeof(ea), "%s", dt_status_name(c->e.status));
	snprintf(key, sizeof(key), "m%u %s zydis=%s emu=%s",
		 dt_mode_bits(c->mode), dt_why_name[c->why], za, ea);

	for (i = hash(key) % NR_GROUP_SLOTS; groups[i].count;
	     i = (i + 1) % NR_GROUP_SLOTS)
		if (!strcmp(groups[i].key, key))
			break;
	if (!groups[i].count) {
		if (nr_groups == NR_GROUP_SLOTS - 1)
			return;		/* full: later groups go uncounted */
		nr_groups++;
		snprintf(groups[i].key, sizeof(groups[i].key), "%s", key);
		format_case("e.g.", c, groups[i].example, sizeof(groups[i].example));
	}
	groups[i].count++;
}

static int by_count(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->key, y->key);
}

void dt_group_print(void)
{
	size_t i;

	if (!groups)
		return;
	qsort(groups, NR_GROUP_SLOTS, sizeof(*groups), by_count);
	printf("decodetest: %zu disagreement groups\n", nr_groups);
	for (i = 0; i < nr_groups; i++) {
		printf("%6lu  %s\n", groups[i].count, groups[i].key);
		printf("        %s\n", groups[i].example);
	}
}
