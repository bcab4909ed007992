/*
 * zydis_oracle.c — Zydis as the reference decoder, and the scope line.
 *
 * Configuration. One decoder per mode: LONG_64/64-bit stack, LEGACY_32/
 * 32, LEGACY_16/16 (EMU_MODE_16 also covers real mode and vm86; Zydis's
 * REAL_16 differs only in which system instructions it rejects, which is
 * the executor's business). Decoder modes, chosen against the SDM:
 *   AMD_BRANCHES off  66-prefixed near branches in 64-bit mode keep
 *                     their 64-bit operand size and rel32 (Intel; AMD
 *                     honours 66). This is Zydis's default.
 *   KNC off           Knights Corner encodings are not x86 (default).
 *   MPX, CET,         on by default; turned off so the reserved-NOP space
 *   CLDEMOTE off      0F 19-1F decodes as NOPs, as on a processor without
 *                     these extensions, which is what the engine models
 *                     (MPX's BND prefix on branches is ignored the same way).
 *   LZCNT, TZCNT on   F3 0F BD / F3 0F BC are LZCNT/TZCNT (in scope).
 *   WBNOINVD off      F3 0F 09 stays WBINVD with an ignored F3 (default).
 *
 * Scope. The engine implements the general-purpose and system ISA, and
 * decodes the VMX and SVM instructions (but VMFUNC), RDPMC, MONITOR and
 * MWAIT for a virtualization layer to intercept (emulate/exec_virt.c);
 * not x87, MMX, SSE/AVX*, AMX, TSX, MPX, CET, SGX, 3DNow!, XOP and the
 * like. is_in_scope() draws that
 * line from Zydis's ISA set, with mnemonic exceptions where a set mixes
 * both sides (decision table in the function).
 */
#include <stdio.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "decodetest.h"

static ZydisDecoder decoders[3];
static ZydisFormatter formatter;

int dt_zydis_init(void)
{
	static const struct {
		ZydisMachineMode machine;
		ZydisStackWidth stack;
	} cfg[3] = {
		[EMU_MODE_16] = { ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16 },
		[EMU_MODE_32] = { ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32 },
		[EMU_MODE_64] = { ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64 },
	};
	static const struct {
		ZydisDecoderMode mode;
		bool on;
	} modes[] = {
		{ ZYDIS_DECODER_MODE_MINIMAL, false },
		{ ZYDIS_DECODER_MODE_AMD_BRANCHES, false },
		{ ZYDIS_DECODER_MODE_KNC, false },
		{ ZYDIS_DECODER_MODE_MPX, false },
		{ ZYDIS_DECODER_MODE_CET, false },
		{ ZYDIS_DECODER_MODE_LZCNT, true },
		{ ZYDIS_DECODER_MODE_TZCNT, true },
		{ ZYDIS_DECODER_MODE_WBNOINVD, false },
		{ ZYDIS_DECODER_MODE_CLDEMOTE, false },
	};
	unsigned m, i;

	for (m = 0; m < 3; m++) {
		if (!ZYAN_SUCCESS(ZydisDecoderInit(&decoders[m], cfg[m].machine,
						   cfg[m].stack)))
			return -1;
		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			if (!ZYAN_SUCCESS(ZydisDecoderEnableMode(&decoders[m],
					modes[i].mode, modes[i].on)))
				return -1;
	}
	if (!ZYAN_SUCCESS(ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_INTEL)))
		return -1;
	return 0;
}

/*
 * Is this (valid) instruction in the engine's ISA?
 *
 *   ISA set                           in scope
 *   I86 I186 I286REAL I286PROTECTED   yes, but RSM (I486) is not
 *   I386 I486REAL PENTIUMREAL PPRO    yes (UD0/UD1/UD2, SYSENTER/EXIT,
 *   CMOV LAHF LONGMODE CMPXCHG16B         the reserved NOPs included), if
 *                                         the ISA extension is BASE or
 *                                         LONGMODE: PPRO also holds x87's
 *                                         FCOMI family
 *   FAT_NOP                           yes: 0F 18-1F NOP forms
 *   SSE_PREFETCH                      yes: 0F 18 /0-3 decode as NOPs
 *   AMD                               yes: SYSCALL/SYSRET outside 64-bit
 *                                         mode, decoded; the executor
 *                                         raises #UD there unless the CPU
 *                                         model is AMD (exec_syscall.c);
 *                                         the same BASE/LONGMODE condition
 *   POPCNT LZCNT CLFSH PAUSE RDTSCP   yes
 *   RDPID INVPCID RDPMC SVM
 *   MONITOR                           yes: MONITOR, MWAIT (0F 01 C8/C9)
 *   SSE, SSE2                         LFENCE, MFENCE, SFENCE only
 *   BMI1                              TZCNT only (F3 0F BC, no VEX)
 *   VTX                               all but VMFUNC (0F 01 D4)
 *   I486 (RSM), PREFETCH_NOP          no: not in the engine's list; the
 *                                         0F 0D group is PREFETCH/PREFETCHW
 *   anything else                     no
 * Only legacy-encoded instructions qualify (no VEX/EVEX/XOP/3DNow!).
 */
static bool is_in_scope(const ZydisDecodedInstruction *in)
{
	if (in->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY)
		return false;

	switch (in->meta.isa_set) {
	case ZYDIS_ISA_SET_I86:
	case ZYDIS_ISA_SET_I186:
	case ZYDIS_ISA_SET_I286REAL:
	case ZYDIS_ISA_SET_I286PROTECTED:
	case ZYDIS_ISA_SET_I386:
	case ZYDIS_ISA_SET_I486REAL:
	case ZYDIS_ISA_SET_PENTIUMREAL:
	case ZYDIS_ISA_SET_PPRO:
	case ZYDIS_ISA_SET_CMOV:
	case ZYDIS_ISA_SET_LAHF:
	case ZYDIS_ISA_SET_LONGMODE:
	case ZYDIS_ISA_SET_CMPXCHG16B:
	case ZYDIS_ISA_SET_FAT_NOP:
	case ZYDIS_ISA_SET_AMD:
		/* These sets also hold x87 (FCOMI, FUCOMIP: PPRO). */
		return in->meta.isa_ext == ZYDIS_ISA_EXT_BASE ||
		       in->meta.isa_ext == ZYDIS_ISA_EXT_LONGMODE;
	case ZYDIS_ISA_SET_SSE_PREFETCH:
	case ZYDIS_ISA_SET_POPCNT:
	case ZYDIS_ISA_SET_LZCNT:
	case ZYDIS_ISA_SET_CLFSH:
	case ZYDIS_ISA_SET_PAUSE:
	case ZYDIS_ISA_SET_RDTSCP:
	case ZYDIS_ISA_SET_RDPID:
	case ZYDIS_ISA_SET_INVPCID:
	case ZYDIS_ISA_SET_RDPMC:
	case ZYDIS_ISA_SET_SVM:
		return true;
	case ZYDIS_ISA_SET_MONITOR:
		return in->mnemonic == ZYDIS_MNEMONIC_MONITOR ||
		       in->mnemonic == ZYDIS_MNEMONIC_MWAIT;
	case ZYDIS_ISA_SET_SSE:
	case ZYDIS_ISA_SET_SSE2:
		return in->mnemonic == ZYDIS_MNEMONIC_LFENCE ||
		       in->mnemonic == ZYDIS_MNEMONIC_MFENCE ||
		       in->mnemonic == ZYDIS_MNEMONIC_SFENCE;
	case ZYDIS_ISA_SET_BMI1:
		return in->mnemonic == ZYDIS_MNEMONIC_TZCNT;
	case ZYDIS_ISA_SET_VTX:
		return in->mnemonic != ZYDIS_MNEMONIC_VMFUNC;
	default:
		return false;
	}
}

static const char *status_name(ZyanStatus s)
{
	switch (s) {
	case ZYDIS_STATUS_NO_MORE_DATA:		return "no-more-data";
	case ZYDIS_STATUS_DECODING_ERROR:	return "decoding-error";
	case ZYDIS_STATUS_INSTRUCTION_TOO_LONG:	return "too-long";
	case ZYDIS_STATUS_BAD_REGISTER:		return "bad-register";
	case ZYDIS_STATUS_ILLEGAL_LOCK:		return "illegal-lock";
	case ZYDIS_STATUS_ILLEGAL_LEGACY_PFX:	return "illegal-legacy-prefix";
	case ZYDIS_STATUS_ILLEGAL_REX:		return "illegal-rex";
	case ZYDIS_STATUS_INVALID_MAP:		return "invalid-map";
	case ZYDIS_STATUS_MALFORMED_EVEX:	return "malformed-evex";
	case ZYDIS_STATUS_MALFORMED_MVEX:	return "malformed-mvex";
	case ZYDIS_STATUS_INVALID_MASK:		return "invalid-mask";
	default:				return "error";
	}
}

/*
 * How many leading bytes decide which instruction this is: prefixes,
 * opcode and ModRM; displacement and immediates only parameterise it
 * (3DNow!'s suffix opcode aside, which is out of scope either way).
 */
static unsigned ident_len(const ZydisDecodedInstruction *in)
{
	if (in->attributes & ZYDIS_ATTRIB_HAS_MODRM)
		return in->raw.modrm.offset + 1u;
	if (in->raw.disp.size)
		return in->raw.disp.offset;
	if (in->raw.imm[0].size)
		return in->raw.imm[0].offset;
	return in->length;
}

void dt_zydis_decode(enum emu_mode mode, const uint8_t *bytes, size_t n,
		     struct dt_zydis *z)
{
	ZydisDecodedInstruction in;
	ZyanStatus s;

	memset(z, 0, sizeof(*z));
	s = ZydisDecoderDecodeInstruction(&decoders[mode], NULL, bytes, n, &in);
	if (!ZYAN_SUCCESS(s)) {
		z->why = status_name(s);
		if (s == ZYDIS_STATUS_INSTRUCTION_TOO_LONG)
			z->status = DT_TOOLONG;
		else if (s == ZYDIS_STATUS_NO_MORE_DATA)
			z->status = DT_SHORT;
		else
			z->status = DT_INVALID;
		return;
	}
	z->status = DT_OK;
	z->len = in.length;
	z->vis = in.operand_count_visible;
	z->in_scope = is_in_scope(&in);
	z->mnemonic = in.mnemonic;
	z->isa_set = in.meta.isa_set;
	z->isa_ext = in.meta.isa_ext;
	z->category = in.meta.category;
	z->opsize = in.operand_width;
	z->adsize = in.address_width;
	z->ident_len = ident_len(&in);
}

const char *dt_zydis_mnemonic(const struct dt_zydis *z)
{
	const char *s = ZydisMnemonicGetString((ZydisMnemonic)z->mnemonic);

	return s ? s : "?";
}

void dt_zydis_meta(const struct dt_zydis *z, char *buf, size_t size)
{
	snprintf(buf, size, "isa-set %s, ext %s, category %s, osz %u, asz %u",
		 ZydisISASetGetString((ZydisISASet)z->isa_set),
		 ZydisISAExtGetString((ZydisISAExt)z->isa_ext),
		 ZydisCategoryGetString((ZydisInstructionCategory)z->category),
		 z->opsize, z->adsize);
}

void dt_zydis_format(enum emu_mode mode, const uint8_t *bytes, size_t n,
		     char *buf, size_t size)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	buf[0] = '\0';
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoders[mode], bytes, n, &in, ops)))
		return;
	if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter, &in, ops,
			in.operand_count_visible, buf, size,
			ZYDIS_RUNTIME_ADDRESS_NONE, NULL)))
		buf[0] = '\0';
}
