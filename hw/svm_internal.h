/*
 * svm_internal.h — the AMD-V pieces the rest of hw/ shares (the VMRUN
 * path, the guest-mode intercept logic): instruction preconditions, the
 * VMCB segment format, the VMRUN consistency checks and the IOPM/MSRPM
 * lookups. The hypervisor sees none of this; it has hw/svm.h and
 * hw/vmcb.h.
 */
#ifndef HVLAB_HW_SVM_INTERNAL_H
#define HVLAB_HW_SVM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/cpu.h"
#include "hw/svm.h"
#include "hw/vmcb.h"

/* ------------------------------------------------------------ svm_insn.c */

/*
 * The exceptions every SVM instruction checks before it does anything
 * (APM Vol. 3 VMRUN/VMLOAD/VMSAVE/STGI/CLGI/INVLPGA "Exceptions"), against
 * the host's root state: #UD unless EFER.SVME = 1 in protected mode
 * outside virtual-8086 mode, then #GP(0) unless CPL = 0. SVM_OK or the
 * fault (enum svm_status).
 */
int svm_insn_check(const struct hw_cpu *cpu);

/*
 * The VMCB (or host save area) address in rAX of VMRUN, VMLOAD, VMSAVE:
 * #GP(0) unless 4 KiB aligned, below 2^HW_MAXPHYADDR and a page of the
 * arena. SVM_OK or SVM_FAULT_GP.
 */
int svm_vmcb_addr_check(struct hw_cpu *cpu, hpa_t pa);

/* ------------------------------------------------------------ svm_seg.c */

/*
 * VMCB segment attributes (APM Vol. 2 15.5.1, 12 bits: descriptor bits
 * 47:40 and 55:52) to and from emulate/'s access rights (the VMCS layout,
 * emulate/emulate.h). A VMCB segment with P = 0 is a null segment: the
 * model's "unusable"; an unusable segment is saved with P = 0.
 */
uint32_t svm_attrib_to_ar(uint16_t attrib);
uint16_t svm_ar_to_attrib(uint32_t ar);
void svm_seg_from_vmcb(const struct vmcb_seg *v, struct emu_segment *s);
void svm_seg_to_vmcb(const struct emu_segment *s, struct vmcb_seg *v);

/* ------------------------------------------------------------ svm_check.c */

/*
 * The consistency checks of VMRUN (APM Vol. 2 15.5.1) on @vmcb: 0 when
 * the guest state is legal, else -EINVAL with *why pointing at one line
 * naming the first broken rule; VMRUN then exits with SVM_EXIT_INVALID.
 */
int svm_vmrun_check(struct hw_cpu *cpu, const struct vmcb *vmcb, const char **why);

/* ------------------------------------------------------------ svm_perm.c */

/*
 * Whether an access of @size bytes (1, 2 or 4) to @port is intercepted by
 * the IOPM at @iopm_pa (the VMCB field; bits 11:0 are ignored).
 */
bool svm_iopm_intercepted(struct hw_machine *m, hpa_t iopm_pa, uint16_t port,
			  unsigned size);

/*
 * Whether RDMSR (@write false) or WRMSR (@write true) of @msr is
 * intercepted by the MSRPM at @msrpm_pa (the VMCB field; bits 11:0 are
 * ignored).
 */
bool svm_msrpm_intercepted(struct hw_machine *m, hpa_t msrpm_pa, uint32_t msr,
			   bool write);

#endif
