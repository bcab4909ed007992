/*
 * locked.h — LOCKed read-modify-writes on the arena (hw/locked.c) and the
 * guest-memory accessors hw/mem.c builds them on.
 */
#ifndef HVLAB_HW_LOCKED_H
#define HVLAB_HW_LOCKED_H

#include <stdint.h>

#include "hw/cpu.h"

/*
 * Compare-exchange @size bytes (1, 2, 4, 8 or 16) at host pointer @p,
 * which lie in one arena page: if they equal *@old, store *@new; either
 * way *@old gets what they held. Atomic against every other processor's
 * accesses when the operand fits in an aligned 16-byte block; otherwise
 * a split lock, atomic against the other split locks (hw/locked.c).
 */
void hw_locked_cmpxchg(struct hw_machine *m, void *p, void *old, const void *new,
		       unsigned size);

/* The bus lock of split locked operations (SDM Vol. 3A 9.1.2.2). */
void hw_bus_lock(struct hw_machine *m);
void hw_bus_unlock(struct hw_machine *m);

/* Guest-memory accesses as x86 makes them (hw/mem.c): one atomic load or
 * store for an aligned 1, 2, 4 or 8 bytes, atomic pieces otherwise. */
void hw_phys_load(const void *p, void *buf, unsigned len);
void hw_phys_store(void *p, const void *buf, unsigned len);

#endif
