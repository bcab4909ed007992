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

struct hv_vcpu;

/* Emulate the instruction at RIP. Returns a handler result: 1 resume the
 * guest, 0 return to the VMM (vcpu->run filled), or -errno. */
int vcpu_emulate(struct hv_vcpu *vcpu);
void vcpu_emulate_free(struct hv_vcpu *vcpu);

#endif
