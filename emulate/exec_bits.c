/*
 * exec_bits.c — bit tests and scans: BT, BTS, BTR, BTC, BSF, BSR, TZCNT,
 * LZCNT, POPCNT (SDM Vol. 2A/2B).
 *
 * BTx with a register bit offset and a memory operand addresses a bit
 * string: the offset is signed and may reach outside the operand (SDM
 * Vol. 2A BT, "bit base ... bit offset"), so the accessed word moves by
 * (offset >> log2(bits)) * (bits / 8). Undefined flags (OF, SF, AF, PF
 * after BTx) keep their values; BSF/BSR and TZCNT/LZCNT follow the AMD
 * hosts (below); BSF/BSR with a zero source leave the destination
 * unchanged, as AMD documents and Intel processors do.
 */
#include "emulate/exec.h"

enum bt_op { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };

static int bit_test(struct emu_ctx *ctx, const struct emu_insn *insn, enum bt_op op)
{
	const unsigned size = insn->opsize, bits = size * 8;
	const unsigned acc = op == BT_TEST ? 0 : EMU_ACC_WRITE;
	struct emu_opnd d;
	uint64_t off, a, res;
	int r;

	if (insn->src == EMU_LOC_IMM) {
		off = insn->imm & (bits - 1);
	} else {
		off = reg_read(ctx, insn->reg, size, insn);
	}
	if ((insn->flags & EMU_I_MEM) && insn->src != EMU_LOC_IMM) {
		int64_t soff = sext_to64(off, size);
		/* floor(soff / bits) words away, as a byte displacement */
		int64_t disp = (soff >> __builtin_ctz(bits)) * (int64_t)size;
		uint64_t ea = (emu_ea(ctx, insn) + (uint64_t)disp) & size_mask(insn->adsize);
		d.mem = true;
		TRY(emu_linear(ctx, insn->seg, ea, size, acc, &d.la));
	} else {
		TRY(emu_resolve(ctx, insn, EMU_LOC_RM, acc, &d));
	}
	const uint64_t bit = 1ull << (off & (bits - 1));
	do {
		TRY(emu_opnd_read(ctx, insn, &d, size, acc, &a));
		switch (op) {
		case BT_SET: res = a | bit; break;
		case BT_RESET: res = a & ~bit; break;
		case BT_COMPLEMENT: res = a ^ bit; break;
		default: res = a; break;
		}
		r = op == BT_TEST ? EMU_CONTINUE : emu_rmw_commit(ctx, insn, &d, size, a, res);
	} while (r == EMU_RMW_RETRY);
	if (r != EMU_CONTINUE)
		return r;
	set_arith_flags(ctx, (a & bit) ? EMU_FLAG_CF : 0, EMU_FLAG_CF);
	return EMU_CONTINUE;
}

EMU_HANDLER(bt) { return bit_test(ctx, insn, BT_TEST); }
EMU_HANDLER(bts) { return bit_test(ctx, insn, BT_SET); }
EMU_HANDLER(btr) { return bit_test(ctx, insn, BT_RESET); }
EMU_HANDLER(btc) { return bit_test(ctx, insn, BT_COMPLEMENT); }

/* BSF/BSR: ZF defined; of the undefined ones the AMD hosts clear CF,
 * OF, SF, AF, as we do; their PF is computed from a value we have not
 * identified (not the index, not the source): we give the index's parity. */
#define SCAN_FLAGS ARITH

static int bit_scan(struct emu_ctx *ctx, const struct emu_insn *insn, bool reverse)
{
	uint64_t v;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, insn->opsize, &v));
	if (!v) {
		set_arith_flags(ctx, EMU_FLAG_ZF, SCAN_FLAGS);
		return EMU_CONTINUE;
	}
	uint64_t n = reverse ? 63 - (uint64_t)__builtin_clzll(v) : (uint64_t)__builtin_ctzll(v);
	reg_write(ctx, insn->reg, insn->opsize, n, insn);
	set_arith_flags(ctx, flags_szp(n, 1) & EMU_FLAG_PF, SCAN_FLAGS);
	return EMU_CONTINUE;
}

EMU_HANDLER(bsf) { return bit_scan(ctx, insn, false); }
EMU_HANDLER(bsr) { return bit_scan(ctx, insn, true); }

/* TZCNT/LZCNT: CF = (source is zero), ZF = (result is zero). */
static int count_bits(struct emu_ctx *ctx, const struct emu_insn *insn, bool leading)
{
	const unsigned size = insn->opsize, bits = size * 8;
	uint64_t v, n;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, size, &v));
	if (!v)
		n = bits;
	else if (leading)
		n = (uint64_t)__builtin_clzll(v) - (64 - bits);
	else
		n = (uint64_t)__builtin_ctzll(v);
	reg_write(ctx, insn->reg, size, n, insn);
	/* PF, SF, AF undefined: cleared, as the AMD hosts do; OF kept. */
	set_arith_flags(ctx, (v ? 0 : EMU_FLAG_CF) | (n ? 0 : EMU_FLAG_ZF),
			ARITH & ~(uint64_t)EMU_FLAG_OF);
	return EMU_CONTINUE;
}

EMU_HANDLER(tzcnt) { return count_bits(ctx, insn, false); }
EMU_HANDLER(lzcnt) { return count_bits(ctx, insn, true); }

/* POPCNT: ZF = (source is zero); OF, SF, AF, CF, PF cleared. */
EMU_HANDLER(popcnt)
{
	uint64_t v;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, insn->opsize, &v));
	reg_write(ctx, insn->reg, insn->opsize, (uint64_t)__builtin_popcountll(v), insn);
	set_arith_flags(ctx, v ? 0 : EMU_FLAG_ZF, ARITH);
	return EMU_CONTINUE;
}
