/*
 * touch.h — one memory access at CPL 0 or 3, and the #PF it raises, in a
 * way that stays correct with CR4.SMEP and CR4.SMAP on.
 *
 * Both runtimes implement it: guests/touch.S (64-bit) and
 * guests32/touch32.S (32-bit protected mode). A test includes this header
 * after guests/guest.h or guests32/guest32.h.
 *
 * touch() performs exactly one explicit access to @va: a 32-bit load
 * (TOUCH_READ), a 32-bit store of TOUCH_WRITE_VALUE (TOUCH_WRITE) or a
 * CALL to @va, whose page must hold a RET (TOUCH_FETCH), with RFLAGS.AC =
 * @ac, at CPL @ring (0 or 3). Where guests32/probe.c calls C code in ring
 * 3 and writes its arguments onto the ring-3 stack from ring 0, touch()
 * never lets ring 0 touch a user page nor run code from one:
 *  - the ring-3 side is three instructions in .user.text with the address
 *    in a register, on a stack in .user.data (SDM Vol. 3A 4.6.1: with
 *    SMAP=1 and AC=0 a supervisor data access to a user page faults, and
 *    with SMEP=1 a supervisor fetch from one does);
 *  - ring 3 comes back through a DPL-3 interrupt gate (TOUCH_VECTOR),
 *    whose delivery reads only supervisor structures (IDT, GDT, TSS, the
 *    ring-0 stack).
 * touch_init() installs that gate and its own #PF gate (vector 14),
 * which records the error code the processor pushed and CR2 (4.7; SDM
 * 3A 6.15, Interrupt 14) and abandons the faulting access, from either
 * ring, by returning from touch(); a #PF while no touch() is running
 * goes on to the handler the gate had before. Nothing else in the
 * runtime changes: the test's page tables must make .user (the image's
 * USER_TEXT/USER_DATA pages, guest.ld and guest32.ld) user-accessible
 * and everything ring 0 uses supervisor-only.
 */
#ifndef GUESTS_TOUCH_H
#define GUESTS_TOUCH_H

#include <stddef.h>
#include <stdint.h>

enum touch_access { TOUCH_READ, TOUCH_WRITE, TOUCH_FETCH };

#define TOUCH_VECTOR		0x81	/* the DPL-3 gate back from ring 3 */
#define TOUCH_WRITE_VALUE	0x5aa5c33cu

struct touch {
	uint32_t faulted;	/* 1: the access raised #PF */
	uint32_t error;		/* the #PF error code */
	uintptr_t cr2;		/* CR2 in the #PF handler */
	uintptr_t value;	/* what a TOUCH_READ loaded (zero-extended) */
};
/* touch.S and touch32.S store to these offsets. */
_Static_assert(offsetof(struct touch, error) == 4, "touch.S layout");
_Static_assert(offsetof(struct touch, cr2) == 8, "touch.S layout");
_Static_assert(offsetof(struct touch, value) == 8 + sizeof(uintptr_t), "touch.S layout");

void touch_init(void);
void touch(struct touch *t, unsigned ring, unsigned acc, uintptr_t va, unsigned ac);

#endif
