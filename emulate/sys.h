/*
 * sys.h — system-level helpers shared by the executor's files:
 * segment register loads and the I/O protection check.
 */
#ifndef HVLAB_EMULATE_SYS_H
#define HVLAB_EMULATE_SYS_H

#include "emulate/exec.h"

/* Load segment register @sreg with selector @sel (MOV/POP Sreg, LxS),
 * with the descriptor checks of the current mode. */
int emu_load_sreg(struct emu_ctx *ctx, unsigned sreg, uint16_t sel);

/* May the current code access @size bytes at I/O port @port?
 * EMU_CONTINUE or #GP(0) (SDM Vol. 1 19.5). */
int emu_io_check(struct emu_ctx *ctx, uint16_t port, unsigned size);

#endif
