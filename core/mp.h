/*
 * mp.h — a vcpu's multiprocessor life (SDM Vol. 3A 8.4 "Multiple-
 * Processor (MP) Initialization", 9.1 "Initialization Overview"; MP
 * specification 1.4 Appendix B.4): the RESET and INIT states, the
 * wait-for-SIPI state and the STARTUP IPI that ends it. core/mp.c.
 */
#ifndef HVLAB_CORE_MP_H
#define HVLAB_CORE_MP_H

#include <stdbool.h>

struct hv_vcpu;

/*
 * The vcpu's own thread, at the top of its run loop: act on an INIT or
 * STARTUP its local APIC latched (core/irq). INIT puts the processor in
 * the state of Table 9-1's INIT column and, for an AP, in the
 * wait-for-SIPI state (the BSP runs from the reset vector, as KVM lets
 * it); a STARTUP with vector VV makes a waiting processor run real-mode
 * code at 000VV000h: CS selector VV00h, base VV000h, IP 0 (8.4.4.1,
 * B.4.2).
 */
void vcpu_check_init_sipi(struct hv_vcpu *vcpu);

/* May the vcpu execute instructions (not waiting for a STARTUP)? */
bool vcpu_mp_runnable(const struct hv_vcpu *vcpu);

#endif
