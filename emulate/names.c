/*
 * names.c — mnemonics of the operations in opcodes.def, for tools,
 * tests and error messages.
 */
#include "emulate/emulate.h"

static const char *const op_names[EMU_NR_OPS] = {
	[EMU_OP_INVALID] = "(bad)",
#define INSN(name, mnem) [EMU_OP_##name] = #mnem,
#include "emulate/opcodes.def"
};

const char *emu_op_name(unsigned op)
{
	return op < EMU_NR_OPS ? op_names[op] : "(bad)";
}
