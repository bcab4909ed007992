/* TEMPORARY during development: weak handlers so the tree links while
 * handlers are written. Deleted before the issue is closed. */
#include "emulate/exec.h"
#define INSN(name, mnem) __attribute__((weak)) EMU_HANDLER(mnem) \
	{ ctx->unhandleable = "not yet implemented: " #mnem; return EMU_UNHANDLEABLE; }
#include "emulate/opcodes.def"
#include "emulate/sys.h"
__attribute__((weak)) int emu_io_check(struct emu_ctx *ctx, uint16_t port, unsigned size)
{ ctx->unhandleable = "not yet implemented: io check"; return EMU_UNHANDLEABLE; }
