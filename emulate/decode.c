/*
 * decode.c — bytes to struct emu_insn (SDM Vol. 2A chapter 2, Vol. 2D
 * appendix A).
 *
 * The opcode map is data (opcodes.def); this file turns it into lookup
 * tables and walks the instruction format: legacy prefixes and REX,
 * opcode (one-byte, 0F, 0F 38, 0F 3A maps), mandatory prefixes, ModRM,
 * SIB, displacement, immediates. It is a pure function of the bytes and
 * the code size: no state, no allocation, so decoded instructions can be
 * cached.
 *
 * Invariants: a returned length is 1..15 and covers every byte the
 * instruction uses; a row that is absent from opcodes.def decodes as #UD;
 * the 15-byte limit is checked before any byte past it is read (SDM Vol.
 * 2A 2.3.11: longer instructions raise #GP(0)).
 */
#include <string.h>

#include "emulate/emulate.h"

/* Operand kinds (the SDM appendix A letters, see opcodes.def). */
enum {
	_ = 0,
	Eb, Ev, Ew, Ey, Gb, Gv, Gw, Gy, Gz, M, Mp, Ms, Mb, Mq, Ry, Cd, Dd, Sw,
	Ib, Iw, Iz, Iv, sIb, Jb, Jz, Ob, Ov, Ap, Zb, Zv,
	AL, rAX, eAX, ECX, DX, CL, ONE, sES, sCS, sSS, sDS, sFS, sGS,
	Xb, Xv, Xz, Yb, Yv, Yz,
};

/* Row flags. */
enum {
	B = 1 << 0, D64 = 1 << 1, F64 = 1 << 2, I64 = 1 << 3, O64 = 1 << 4,
	LK = 1 << 5, STR = 1 << 6, CRX = 1 << 7, W = 1 << 8, NOREX = 1 << 9,
	NP = 1 << 10, DQ = 1 << 11,
};

enum emu_group {
	GRP_NONE,
#define OPG1(b, g) GRP_##g,
#define OPG2(b, g) GRP_##g,
#include "emulate/opcodes.def"
	NR_GROUPS
};

struct opdesc {
	uint16_t op;
	uint8_t group;
	uint8_t o[3];
	uint16_t flags;
};

#define D(name, o1, o2, o3, fl) { EMU_OP_##name, GRP_NONE, { o1, o2, o3 }, fl }

static const struct opdesc map1[256] = {
#define OP1(b, name, o1, o2, o3, fl) [b] = D(name, o1, o2, o3, fl),
#define OPG1(b, g) [b] = { 0, GRP_##g, { 0, 0, 0 }, 0 },
#include "emulate/opcodes.def"
};

static const struct opdesc map2[256] = {
#define OP2(b, name, o1, o2, o3, fl) [b] = D(name, o1, o2, o3, fl),
#define OPG2(b, g) [b] = { 0, GRP_##g, { 0, 0, 0 }, 0 },
#include "emulate/opcodes.def"
};

/* Group rows for memory forms, indexed by ModRM.reg. */
static const struct opdesc grp_mem[NR_GROUPS][8] = {
#define GRP(g, reg, name, o1, o2, o3, fl) [GRP_##g][reg] = D(name, o1, o2, o3, fl),
#define GRPM(g, reg, name, o1, o2, o3, fl) [GRP_##g][reg] = D(name, o1, o2, o3, fl),
#include "emulate/opcodes.def"
};

/* Group rows for register forms (mod = 3), indexed by ModRM.reg, rm. */
#define D8(name, o1, o2, o3, fl) { D(name, o1, o2, o3, fl), D(name, o1, o2, o3, fl), \
	D(name, o1, o2, o3, fl), D(name, o1, o2, o3, fl), D(name, o1, o2, o3, fl), \
	D(name, o1, o2, o3, fl), D(name, o1, o2, o3, fl), D(name, o1, o2, o3, fl) }
static const struct opdesc grp_reg[NR_GROUPS][8][8] = {
#define GRP(g, reg, name, o1, o2, o3, fl) [GRP_##g][reg] = D8(name, o1, o2, o3, fl),
#define GRPR(g, reg, rm, name, o1, o2, o3, fl) [GRP_##g][reg][rm] = D(name, o1, o2, o3, fl),
#include "emulate/opcodes.def"
};

/* Mandatory-F3 meanings (small: searched linearly). */
static const struct f3row {
	uint8_t map, byte;
	struct opdesc d;
} f3_rows[] = {
#define OPF3(map, b, name, o1, o2, o3, fl) { map, b, D(name, o1, o2, o3, fl) },
#include "emulate/opcodes.def"
};

/* Memory-form group rows selected by a mandatory prefix (GRPMP). */
static const struct grp_pfx_row {
	uint8_t group, reg, pfx;
	struct opdesc d;
} grp_pfx_rows[] = {
#define GRPMP(g, reg, pfx, name, o1, o2, o3, fl) { GRP_##g, reg, pfx, D(name, o1, o2, o3, fl) },
#include "emulate/opcodes.def"
};

/* The three-byte map 0F 38 (all rows need the mandatory 66). */
static const struct opdesc map38[256] = {
#define OP38(b, name, o1, o2, o3, fl) [b] = D(name, o1, o2, o3, fl),
#include "emulate/opcodes.def"
};

/* Fixed descriptors for forms decode.c selects by hand. */
static const struct opdesc movsxd_desc = D(MOVSXD, Gv, Ev, _, 0);
static const struct opdesc xchg_r8_desc = D(XCHG, Zv, rAX, _, 0);

static bool is_mem_only(unsigned k)
{
	return k == M || k == Mp || k == Ms || k == Mb || k == Mq;
}

static bool has_modrm_operand(unsigned k)
{
	return (k >= Eb && k <= Sw);
}

/*
 * The memory form of @group /@reg under a mandatory prefix: F3 (whatever
 * 66 says), else 66 without F2/F3; NULL when the plain row applies
 * (0F C7 /6: VMPTRLD, 66 VMCLEAR, F3 VMXON; Zydis and XED agree).
 */
static const struct opdesc *grp_prefixed(unsigned group, unsigned reg,
					 bool opsz, unsigned rep)
{
	for (size_t i = 0; i < sizeof(grp_pfx_rows) / sizeof(grp_pfx_rows[0]); i++) {
		const struct grp_pfx_row *r = &grp_pfx_rows[i];
		if (r->group != group || r->reg != reg)
			continue;
		if ((r->pfx == 0xf3 && rep == 0xf3) || (r->pfx == 0x66 && opsz && !rep))
			return &r->d;
	}
	return NULL;
}

/* Bytes of an immediate operand of kind @k. */
static unsigned imm_bytes(unsigned k, unsigned opsize, unsigned adsize)
{
	switch (k) {
	case Ib: case sIb: case Jb: return 1;
	case Iw: return 2;
	case Iz: case Jz: return opsize == 2 ? 2 : 4;
	case Iv: return opsize;
	case Ob: case Ov: return adsize;
	case Ap: return opsize == 2 ? 4 : 6;
	default: return 0;
	}
}

static uint64_t load_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int64_t sext(uint64_t v, unsigned bytes)
{
	unsigned sh = 64 - 8 * bytes;
	return (int64_t)(v << sh) >> sh;
}

/* Byte availability: the 15-byte limit first, then the caller's buffer. */
#define NEED(n) do {							\
	if (p + (n) > EMU_MAX_INSN_LEN) return -EMU_DEC_TOOLONG;	\
	if (p + (n) > avail) return -EMU_DEC_SHORT;			\
} while (0)

/* 16-bit ModRM addressing (SDM Vol. 2A Table 2-1). */
static const uint8_t rm16_base[8] = { EMU_RBX, EMU_RBX, EMU_RBP, EMU_RBP,
				      EMU_RSI, EMU_RDI, EMU_RBP, EMU_RBX };
static const uint8_t rm16_index[8] = { EMU_RSI, EMU_RDI, EMU_RSI, EMU_RDI,
				       EMU_NOREG, EMU_NOREG, EMU_NOREG, EMU_NOREG };

int emu_decode(const uint8_t *bytes, size_t avail, enum emu_mode mode,
	       struct emu_insn *insn)
{
	const bool m64 = mode == EMU_MODE_64;
	unsigned p = 0, rex = 0, opsz_pfx = 0, adsz_pfx = 0, lock = 0, rep = 0;
	int segovr = -1;
	uint8_t b;

	memset(insn, 0, sizeof(*insn));

	/* Prefixes (SDM Vol. 2A 2.1.1, 2.2.1). A REX counts only when it
	 * immediately precedes the opcode. */
	for (;;) {
		NEED(1);
		b = bytes[p];
		if (m64 && (b & 0xf0) == 0x40) {
			rex = b;
			p++;
			continue;
		}
		switch (b) {
		case 0x26: segovr = EMU_ES; break;
		case 0x2e: segovr = EMU_CS; break;
		case 0x36: segovr = EMU_SS; break;
		case 0x3e: segovr = EMU_DS; break;
		case 0x64: segovr = EMU_FS; break;
		case 0x65: segovr = EMU_GS; break;
		case 0x66: opsz_pfx = 1; break;
		case 0x67: adsz_pfx = 1; break;
		case 0xf0: lock = 1; break;
		case 0xf2: case 0xf3: rep = b; break;
		default: goto opcode;
		}
		rex = 0;
		p++;
	}

opcode:;
	const struct opdesc *d;
	unsigned map = 1;
	p++;
	if (b == 0x0f) {
		NEED(1);
		b = bytes[p++];
		map = 2;
		if (b == 0x38 || b == 0x3a) {
			NEED(1);
			uint8_t b3 = bytes[p++];
			/* Of the three-byte maps only the 66 0F 38 rows
			 * (INVEPT, INVVPID, INVPCID) are in the engine's ISA;
			 * other prefixes make them #UD, after their length
			 * (ModRM and on) is known. */
			if (b == 0x38 && map38[b3].op != EMU_OP_INVALID) {
				d = &map38[b3];
				b = b3;
				map = 3;
				goto have_desc;
			}
			return -EMU_DEC_UD;
		}
		d = &map2[b];
	} else {
		d = &map1[b];
		if (m64 && b == 0x63)
			d = &movsxd_desc;
		else if (b == 0x90 && (rex & 1))
			d = &xchg_r8_desc;	/* F3 41 90 is still PAUSE (below) */
	}
	if (rep == 0xf3) {
		for (size_t i = 0; i < sizeof(f3_rows) / sizeof(f3_rows[0]); i++)
			if (f3_rows[i].map == map && f3_rows[i].byte == b) {
				/* F3 0F C7 is RDPID only as /7 with mod = 3. */
				if (map == 2 && b == 0xc7) {
					NEED(1);
					uint8_t m = bytes[p];
					if ((m >> 6) != 3 || ((m >> 3) & 7) != 7)
						break;
				}
				d = &f3_rows[i].d;
				break;
			}
	}

have_desc:;
	/*
	 * Faults found before the instruction's end are deferred until its
	 * length is known: a too-long instruction raises #GP and a missing
	 * byte a fetch fault before any #UD (SDM Vol. 3A 6.9, Table 6-2).
	 */
	bool ud = map == 3 && (!opsz_pfx || rep);
	unsigned mod = 0, reg = 0, rm = 0, modrm = 0;
	bool need_modrm = d->group != GRP_NONE || has_modrm_operand(d->o[0]) ||
			  has_modrm_operand(d->o[1]) || has_modrm_operand(d->o[2]);
	if (need_modrm) {
		NEED(1);
		modrm = bytes[p];
		mod = modrm >> 6;
		reg = (modrm >> 3) & 7;
		rm = modrm & 7;
		/* C4/C5 (LES/LDS) with mod = 3 and 62 (BOUND) with mod = 3
		 * are VEX/EVEX prefixes outside 64-bit mode. */
		if (map == 1 && (b == 0xc4 || b == 0xc5 || b == 0x62) && mod == 3)
			return -EMU_DEC_UD;
		if (d->group != GRP_NONE) {
			const unsigned g = d->group;
			d = mod == 3 ? &grp_reg[g][reg][rm] : &grp_mem[g][reg];
			if (mod != 3 && (opsz_pfx || rep)) {
				const struct opdesc *pd = grp_prefixed(g, reg, opsz_pfx, rep);
				if (pd)
					d = pd;
			}
		}
	}
	if (d->op == EMU_OP_INVALID)
		return -EMU_DEC_UD;
	if ((d->flags & I64) && m64)
		return -EMU_DEC_UD;
	if ((d->flags & O64) && !m64)
		return -EMU_DEC_UD;

	/* Operand and address size (SDM Vol. 1 3.6, Vol. 2A 2.2.1.2). */
	unsigned opsize, adsize;
	if (d->flags & B)
		opsize = 1;
	else if (d->flags & W)
		opsize = 2;
	else if (d->flags & (CRX | DQ))
		opsize = m64 ? 8 : 4;
	else if (m64)
		opsize = (rex & 8) || (d->flags & F64) ? 8 :
			 opsz_pfx ? 2 : (d->flags & D64) ? 8 : 4;
	else
		opsize = (mode == EMU_MODE_16) ^ opsz_pfx ? 2 : 4;
	if (m64)
		adsize = adsz_pfx ? 4 : 8;
	else
		adsize = (mode == EMU_MODE_16) ^ adsz_pfx ? 2 : 4;

	insn->op = d->op;
	insn->opsize = opsize;
	insn->adsize = adsize;
	insn->opcode = b;
	insn->seg = EMU_DS;
	insn->base = insn->index = EMU_NOREG;
	insn->flags = (rex ? EMU_I_REX : 0) | (lock ? EMU_I_LOCK : 0) |
		      (rep == 0xf3 ? EMU_I_REP : 0) | (rep == 0xf2 ? EMU_I_REPNE : 0);

	/* ModRM, SIB, displacement (SDM Vol. 2A 2.1.5, 2.2.1.3). */
	if (need_modrm) {
		p++;
		insn->flags |= EMU_I_MODRM;
		if (d->flags & CRX) {
			/* MOV CR/DR: mod is ignored, rm is a GPR. */
			mod = 3;
			if (b == 0x20 || b == 0x22) {
				unsigned cr = reg | ((rex & 4) << 1);
				if (cr != 0 && cr != 2 && cr != 3 && cr != 4 && cr != 8)
					ud = true;
			} else if (rex & 4) {
				ud = true;	/* DR8-DR15 */
			}
		}
		insn->reg = reg | ((rex & 4) << 1);
		if (mod == 3) {
			insn->rm = rm | ((rex & 1) << 3);
			if (is_mem_only(d->o[0]) || is_mem_only(d->o[1]))
				ud = true;
		} else if (adsize == 2) {
			insn->flags |= EMU_I_MEM;
			if (mod == 0 && rm == 6) {
				NEED(2);
				insn->disp = (int16_t)load_le(bytes + p, 2);
				p += 2;
			} else {
				insn->base = rm16_base[rm];
				insn->index = rm16_index[rm];
				if (insn->base == EMU_RBP)
					insn->seg = EMU_SS;
				if (mod) {
					NEED(mod);
					insn->disp = (int32_t)sext(load_le(bytes + p, mod), mod);
					p += mod;
				}
			}
		} else {
			insn->flags |= EMU_I_MEM;
			unsigned base = rm;
			if (rm == 4) {
				NEED(1);
				uint8_t sib = bytes[p++];
				unsigned idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
				insn->scale = sib >> 6;
				if (idx != 4)
					insn->index = idx;
				base = sib & 7;
				if (base == 5 && mod == 0) {
					NEED(4);
					insn->disp = (int32_t)load_le(bytes + p, 4);
					p += 4;
					goto modrm_done;
				}
			} else if (rm == 5 && mod == 0) {
				NEED(4);
				insn->disp = (int32_t)load_le(bytes + p, 4);
				p += 4;
				if (m64)
					insn->base = EMU_REG_RIP;
				goto modrm_done;
			}
			insn->base = base | ((rex & 1) << 3);
			if (insn->base == EMU_RSP || insn->base == EMU_RBP)
				insn->seg = EMU_SS;
			if (mod) {
				unsigned n = mod == 1 ? 1 : 4;
				NEED(n);
				insn->disp = (int32_t)sext(load_le(bytes + p, n), n);
				p += n;
			}
		}
	}
modrm_done:
	if (lock && (!(d->flags & LK) || !(insn->flags & EMU_I_MEM)))
		ud = true;
	if (d->op == EMU_OP_MOV_SEG || d->op == EMU_OP_MOV_FROM_SEG) {
		insn->reg = reg;	/* REX.R does not extend Sreg */
		if (reg > 5 || (d->op == EMU_OP_MOV_SEG && reg == EMU_CS))
			ud = true;
	}
	/* NP encodings (SDM Vol. 2A 3.1.1.1): with 66/F2/F3, 0F AE is a
	 * different instruction (CLFLUSHOPT, CLWB, UMONITOR, ...) and VMCALL
	 * raises #UD (SDM Vol. 3C VMCALL "Use of Prefixes"). */
	if ((opsz_pfx || rep) && map == 2 &&
	    (b == 0xae || (b == 0x01 && modrm == 0xc1)))
		ud = true;
	if ((d->flags & NP) && (opsz_pfx || rep))
		ud = true;
	if (d->op == EMU_OP_LDS) {	/* which segment register: by opcode */
		static const uint8_t lds_seg[] = { [0xc4] = EMU_ES, [0xc5] = EMU_DS,
			[0xb2] = EMU_SS, [0xb4] = EMU_FS, [0xb5] = EMU_GS };
		insn->imm2 = lds_seg[b];
	}
	/* Segment overrides: in 64-bit mode only FS and GS apply. */
	if (segovr >= 0 && (!m64 || segovr >= EMU_FS)) {
		insn->seg = segovr;
		insn->flags |= EMU_I_SEGOVR;
	}

	/* Operands: where they live, and the immediates that follow. */
	unsigned nops = 0;
	for (unsigned i = 0; i < 3; i++) {
		unsigned k = d->o[i], n;
		uint8_t loc = EMU_LOC_NONE;
		if (k == _)
			break;
		nops++;
		switch (k) {
		case Eb: case Ev: case Ew: case Ey: case M: case Mp: case Ms:
		case Mb: case Mq: case Ry:
			loc = EMU_LOC_RM;
			break;
		case Gb: case Gv: case Gw: case Gy: case Gz: case Cd: case Dd:
		case Sw:
			loc = EMU_LOC_REG;
			break;
		case Zb: case Zv:
			insn->reg = (b & 7) | ((rex & 1) << 3);
			loc = EMU_LOC_REG;
			break;
		case AL: case rAX: case eAX:
			loc = EMU_LOC_ACC;
			break;
		case CL:
			loc = EMU_LOC_CL;
			break;
		case ECX:	/* shown, not an operand handlers read by loc */
			break;
		case DX:
			loc = EMU_LOC_DX;
			break;
		case ONE:
			insn->imm = 1;
			loc = EMU_LOC_IMM;
			break;
		case sES: case sCS: case sSS: case sDS: case sFS: case sGS:
			insn->reg = k - sES;
			break;
		case Ob: case Ov:
			n = imm_bytes(k, opsize, adsize);
			NEED(n);
			insn->imm = load_le(bytes + p, n);
			p += n;
			insn->flags |= EMU_I_MEM | EMU_I_MOFFS;
			loc = EMU_LOC_RM;
			break;
		case Jb: case Jz:
			n = imm_bytes(k, opsize, adsize);
			NEED(n);
			insn->disp = (int32_t)sext(load_le(bytes + p, n), n);
			p += n;
			break;
		case Ap:
			n = imm_bytes(k, opsize, adsize);
			NEED(n);
			insn->imm = load_le(bytes + p, n - 2);
			insn->imm2 = (uint32_t)load_le(bytes + p + n - 2, 2);
			p += n;
			break;
		case Ib: case Iw: case Iz: case Iv: case sIb:
			n = imm_bytes(k, opsize, adsize);
			NEED(n);
			if (i == 2 || (i == 1 && d->o[0] == Iw)) {
				/* second immediate (ENTER's level byte) or the
				 * imm8 of a three-operand form */
				if (d->o[0] == Iw)
					insn->imm2 = (uint32_t)load_le(bytes + p, n);
				else
					insn->imm = (uint64_t)sext(load_le(bytes + p, n), n);
			} else if (k == Ib || k == Iw) {
				insn->imm = load_le(bytes + p, n);
			} else {
				insn->imm = (uint64_t)sext(load_le(bytes + p, n), n);
			}
			p += n;
			loc = EMU_LOC_IMM;
			break;
		case Xb: case Xv: case Xz: case Yb: case Yv: case Yz:
			break;
		}
		if (i == 0)
			insn->dst = loc;
		else if (i == 1 && insn->src == EMU_LOC_NONE)
			insn->src = loc;
	}
	/* Three-operand forms: IMUL3 (G, E, I) and SHLD/SHRD (E, G, I/CL)
	 * keep the second operand in src; the third is imm or CL. */
	if (d->op == EMU_OP_SHLD || d->op == EMU_OP_SHRD) {
		insn->dst = EMU_LOC_RM;
		insn->src = EMU_LOC_REG;
	}
	/* INS/OUTS have a 32-bit operand for REX.W too (z size). */
	if ((d->o[0] == Yz || d->o[1] == Xz) && opsize == 8)
		insn->opsize = 4;
	if (d->o[0] == Gz && opsize == 8)
		insn->opsize = 4;
	/* IN/OUT eAX: 8-byte operands do not exist. */
	if ((d->o[0] == eAX || d->o[1] == eAX) && opsize == 8)
		insn->opsize = 4;
	if (ud)
		return -EMU_DEC_UD;
	/* String instructions: disassemblers print the short forms
	 * (MOVSB, INSD, ...) without operands. */
	insn->nops = (d->flags & STR) ? 0 : nops;
	insn->len = p;
	return (int)p;
}
