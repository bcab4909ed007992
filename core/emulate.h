/*
 * emulate.h — the hypervisor's use of emulate/ (ARCHITECTURE §7, second
 * user): one guest instruction at the vcpu's RIP, with ops that translate
 * through the MMU's gva_to_gpa, reach RAM through the memslots, send
 * MMIO to core/irq or out to the VMM (HV_EXIT_MMIO) and port I/O out as
 * HV_EXIT_IO.
 *
 * Completion (the seed's kvm_run rules): a read that needs the VMM ends
 * the attempt with nothing changed; hv_run() returns the exit and, once
 * the VMM has filled in the data, the next hv_run() emulates the same
 * instruction again and the read is satisfied from it. A write goes out
 * once the instruction has completed. One access per instruction may
 * need the VMM (string instructions go one element at a time).
 */
#ifndef HVLAB_CORE_EMULATE_H
#define HVLAB_CORE_EMULATE_H

#include <stdint.h>

struct hv_vcpu;
struct hv_event;

/* Emulate the instruction at RIP. Returns a handler result: 1 resume the
 * guest, 0 return to the VMM (vcpu->run filled), or -errno. */
int vcpu_emulate(struct hv_vcpu *vcpu);
/* Send the next MMIO write the last emulated instruction made (it made
 * vcpu->mmio_nw of them) to the VMM as an exit; returns 0 (to the VMM). */
int vcpu_mmio_send_write(struct hv_vcpu *vcpu);
void vcpu_emulate_free(struct hv_vcpu *vcpu);

/* Deliver @ev through the IDT (the IVT in real mode) as the processor
 * would at the instruction boundary at RIP, for a guest state the
 * processor cannot be entered with (core/invalid_state.c); @cr2 is a
 * #PF's. A fault during delivery is queued (core/event.c) as raised
 * while @ev was pending: the caller has taken @ev out of the queue.
 * Returns a handler result, as vcpu_emulate. */
int vcpu_emulate_event(struct hv_vcpu *vcpu, const struct hv_event *ev, uint64_t cr2);

/* Instructions the emulator retired for the vcpu in the processor's
 * stead (instruction exits, MMIO, invalid guest state): with the
 * processor's own count, what the vcpu retired (hv_run.insns). */
uint64_t vcpu_emulated_insns(struct hv_vcpu *vcpu);

#endif
