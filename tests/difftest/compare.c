/*
 * compare.c — what "the same result" means, and how differences print.
 *
 * Both runs end the same way (completed, or the same exception at the
 * same instruction), then every GPR, the RFLAGS bits in DT_FLAGS_CMP that
 * are architecturally defined at that point (struct dt_insn.undef_in at a
 * fault, dt_case.undef_out at the end) and every sandbox byte must match.
 * For #PF, CR2 and the W/U/I bits of the error code must match (P tells
 * more about Linux's page tables than about the instruction); #GP/#SS
 * error codes must match exactly.
 *
 * Flags left undefined are not compared; dt_undef_account() counts, per
 * form that left them undefined, how often the host had them set and how
 * often the emulator disagreed, for docs/difftest.md's table.
 */
#include <inttypes.h>
#include <string.h>

#include "difftest.h"

static const char *const vec_name[32] = {
	[EMU_EXC_DE] = "#DE", [EMU_EXC_DB] = "#DB", [EMU_EXC_BP] = "#BP", [EMU_EXC_OF] = "#OF",
	[EMU_EXC_BR] = "#BR", [EMU_EXC_UD] = "#UD", [EMU_EXC_NM] = "#NM", [EMU_EXC_DF] = "#DF",
	[EMU_EXC_TS] = "#TS", [EMU_EXC_NP] = "#NP", [EMU_EXC_SS] = "#SS", [EMU_EXC_GP] = "#GP",
	[EMU_EXC_PF] = "#PF", [EMU_EXC_MF] = "#MF", [EMU_EXC_AC] = "#AC", [EMU_EXC_MC] = "#MC",
	[EMU_EXC_XM] = "#XM",
};

static const char *const gpr_name[EMU_NR_GPRS] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static const struct { uint32_t bit; const char *name; } flag_names[] = {
	{ EMU_FLAG_CF, "CF" }, { EMU_FLAG_FIXED, "bit1" }, { EMU_FLAG_PF, "PF" },
	{ 1u << 3, "bit3" }, { EMU_FLAG_AF, "AF" }, { 1u << 5, "bit5" },
	{ EMU_FLAG_ZF, "ZF" }, { EMU_FLAG_SF, "SF" }, { EMU_FLAG_TF, "TF" },
	{ EMU_FLAG_DF, "DF" }, { EMU_FLAG_OF, "OF" }, { EMU_FLAG_NT, "NT" },
	{ 1u << 15, "bit15" }, { EMU_FLAG_VM, "VM" }, { EMU_FLAG_AC, "AC" },
	{ EMU_FLAG_VIF, "VIF" }, { EMU_FLAG_VIP, "VIP" }, { EMU_FLAG_ID, "ID" },
};

#define PF_ERR_CMP 0x16u	/* W, U, I/D */

static const char *vector_name(unsigned v)
{
	return v < 32 && vec_name[v] ? vec_name[v] : "#??";
}

void dt_describe(char *buf, size_t size, const struct dt_result *r)
{
	switch (r->status) {
	case DT_END:
		snprintf(buf, size, "completed");
		break;
	case DT_FAULT:
		if (r->vector == EMU_EXC_PF)
			snprintf(buf, size, "#PF(%#x) cr2=%#" PRIx64 " at %#" PRIx64,
				 r->error_code, r->cr2, r->rip);
		else
			snprintf(buf, size, "%s(%#x) at %#" PRIx64,
				 vector_name(r->vector), r->error_code, r->rip);
		break;
	default:
		snprintf(buf, size, "%s", r->why[0] ? r->why : "harness error");
		break;
	}
}

/* Flags not compared at the point where the run stopped. */
static uint32_t undef_at(const struct dt_case *c, const struct dt_result *r)
{
	const struct dt_insn *in;

	if (r->status == DT_END)
		return c->undef_out;
	in = dt_case_insn_at(c, r->rip);
	return in ? in->undef_in : EMU_FLAGS_ARITH;
}

static bool same_end(const struct dt_result *a, const struct dt_result *b)
{
	return a->status == b->status && a->rip == b->rip &&
	       (a->status != DT_FAULT || a->vector == b->vector);
}

unsigned dt_compare(const struct dt_case *c, const struct dt_result *exp,
		    const uint8_t *exp_sb, const struct dt_result *got,
		    const uint8_t *got_sb, FILE *out)
{
	unsigned n = 0, nbytes = 0;
	uint32_t mask, diff;
	char a[128], b[128];

	if (exp->status > DT_FAULT || got->status > DT_FAULT || !same_end(exp, got)) {
		if (out) {
			dt_describe(a, sizeof(a), exp);
			dt_describe(b, sizeof(b), got);
			fprintf(out, "    end: expected %s, got %s\n", a, b);
		}
		n++;
		if (exp->status > DT_FAULT || got->status > DT_FAULT)
			return n;
	}
	if (exp->status == DT_FAULT && got->status == DT_FAULT &&
	    exp->vector == got->vector) {
		uint32_t emask = exp->vector == EMU_EXC_PF ? PF_ERR_CMP : ~0u;

		if (exp->vector == EMU_EXC_PF && exp->cr2 != got->cr2) {
			if (out)
				fprintf(out, "    cr2: expected %#" PRIx64 " got %#" PRIx64 "\n",
					exp->cr2, got->cr2);
			n++;
		}
		if ((exp->vector == EMU_EXC_PF || exp->vector == EMU_EXC_GP ||
		     exp->vector == EMU_EXC_SS) &&
		    ((exp->error_code ^ got->error_code) & emask)) {
			if (out)
				fprintf(out, "    error code: expected %#x got %#x\n",
					exp->error_code & emask, got->error_code & emask);
			n++;
		}
	}

	for (unsigned i = 0; i < EMU_NR_GPRS; i++) {
		if (exp->gpr[i] == got->gpr[i])
			continue;
		if (out)
			fprintf(out, "    %s: expected 0x%016" PRIx64 " got 0x%016" PRIx64 "\n",
				gpr_name[i], exp->gpr[i], got->gpr[i]);
		n++;
	}

	mask = DT_FLAGS_CMP & ~undef_at(c, exp);
	diff = (uint32_t)(exp->rflags ^ got->rflags) & mask;
	for (unsigned i = 0; diff && i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (!(diff & flag_names[i].bit))
			continue;
		if (out)
			fprintf(out, "    %s: expected %d got %d (rflags %#" PRIx64
				" vs %#" PRIx64 ")\n", flag_names[i].name,
				!!(exp->rflags & flag_names[i].bit),
				!!(got->rflags & flag_names[i].bit),
				exp->rflags, got->rflags);
		n++;
	}

	if (memcmp(exp_sb, got_sb, DT_SB_SIZE)) {
		for (unsigned i = 0; i < DT_SB_SIZE; i++) {
			if (exp_sb[i] == got_sb[i])
				continue;
			if (out && nbytes < 8)
				fprintf(out, "    mem[%#x]: expected 0x%02x got 0x%02x\n",
					DT_SB_BASE + i, exp_sb[i], got_sb[i]);
			nbytes++;
		}
		if (out && nbytes > 8)
			fprintf(out, "    ... %u sandbox bytes differ in all\n", nbytes);
		n++;
	}
	return n;
}

void dt_undef_account(const struct dt_case *c, const struct dt_result *exp,
		      const struct dt_result *got,
		      struct dt_undef_stat st[DT_NFORMS][DT_NAFLAGS])
{
	uint16_t by[DT_NAFLAGS] = { 0 };
	uint32_t undef = 0;
	unsigned n = got->ntrace;

	if (exp->status > DT_FAULT || !same_end(exp, got) || n >= DT_TRACE_MAX)
		return;
	if (got->status == DT_FAULT && n)
		n--;		/* the faulting instruction changed nothing */
	for (unsigned i = 0; i < n; i++) {
		const struct dt_insn *in = dt_case_insn_at(c, DT_SEQ_BASE + got->trace[i]);

		if (!in)
			return;
		undef = (undef & ~(uint32_t)in->fdef) | in->fundef;
		for (unsigned f = 0; f < DT_NAFLAGS; f++)
			if (in->fundef & dt_aflag_bit[f])
				by[f] = in->form;
	}
	for (unsigned f = 0; f < DT_NAFLAGS; f++) {
		struct dt_undef_stat *s;

		if (!(undef & dt_aflag_bit[f]))
			continue;
		s = &st[by[f]][f];
		s->seen++;
		s->host_set += !!(exp->rflags & dt_aflag_bit[f]);
		s->differ += !!((exp->rflags ^ got->rflags) & dt_aflag_bit[f]);
	}
}

void dt_undef_print(struct dt_undef_stat st[DT_NFORMS][DT_NAFLAGS])
{
	printf("undefined flags where a case stopped, by the instruction form that "
	       "left them undefined:\n");
	printf("  %-20s %-4s %8s %8s %8s\n", "form", "flag", "seen", "host=1",
	       "emu!=host");
	for (unsigned i = 0; i < DT_NFORMS; i++)
		for (unsigned f = 0; f < DT_NAFLAGS; f++) {
			const struct dt_undef_stat *s = &st[i][f];

			if (!s->seen)
				continue;
			printf("  %-20s %-4s %8u %7u%% %7u%%\n", dt_forms[i].name,
			       dt_aflag_name[f], s->seen,
			       (unsigned)(100ull * s->host_set / s->seen),
			       (unsigned)(100ull * s->differ / s->seen));
		}
}

void dt_print_case(FILE *out, const struct dt_case *c, int mark, bool regs)
{
	if (regs) {
		for (unsigned i = 0; i < EMU_NR_GPRS; i++)
			fprintf(out, "    %-3s=0x%016" PRIx64 "%s", gpr_name[i], c->gpr[i],
				i % 4 == 3 ? "\n" : " ");
		fprintf(out, "    rflags=%#" PRIx64 "\n", c->rflags);
	}
	for (unsigned i = 0; i < c->ninsn; i++) {
		const struct dt_insn *in = &c->insn[i];
		const uint8_t *p = c->code + in->off;
		struct emu_insn d;
		char hex[3 * EMU_MAX_INSN_LEN + 1] = "";
		int len = emu_decode(p, in->len, EMU_MODE_64, &d);

		for (unsigned k = 0; k < in->len; k++)
			snprintf(hex + 3 * k, 4, "%02x ", p[k]);
		fprintf(out, "  %c %#x  %-36s %-10s [%s]%s\n",
			in->main && (int)in->unit == mark ? '*' : ' ',
			DT_SEQ_BASE + in->off, hex,
			len < 0 ? (len == -EMU_DEC_UD ? "(#UD)" : "(?)") :
			emu_op_name(d.op), dt_forms[in->form].name,
			len > 0 && len != in->len ? " (decoded length differs)" : "");
	}
}
