/*
 * svm.h — the AMD-V instructions a hypervisor executes, as C calls on a
 * modeled processor (ARCHITECTURE §1): VMRUN, VMLOAD, VMSAVE, STGI, CLGI,
 * INVLPGA (APM Vol. 2 chapter 15, Vol. 3 instruction pages). The VMCB
 * they take is laid out in hw/vmcb.h.
 *
 * Each call returns what the real instruction would do to the host: it
 * completes (SVM_OK) or raises an exception instead of executing, with no
 * state changed. The checks follow the instruction pages' exception
 * tables, in this order:
 *
 *   EFER.SVME = 0, real mode or virtual-8086 mode          #UD
 *   CPL > 0                                                #GP(0)
 *   rAX not 4 KiB aligned, beyond the physical-address
 *   width, or its page not in host-physical memory
 *   (VMRUN, VMLOAD, VMSAVE)                                #GP(0)
 *
 * The host here is hvlab itself: its "registers" are the processor's root
 * state (the host's EFER, CR0, RFLAGS.VM and CPL, set through hw/hw.h).
 * A page outside the arena gets #GP rather than the bus's all-ones
 * because there is no memory to load a VMCB from or save it to.
 */
#ifndef HVLAB_HW_SVM_H
#define HVLAB_HW_SVM_H

#include <stdint.h>

#include "hvlab/types.h"
#include "hw/hw.h"
#include "hw/vmcb.h"

enum svm_status {
	SVM_OK,			/* the instruction completed */
	SVM_FAULT_GP,		/* it raised #GP(0) on the host instead */
	SVM_FAULT_UD,		/* it raised #UD on the host instead */
	/* Not an architectural outcome: the guest did something the model
	 * does not implement (hw_cpu_unsupported() says what); the #VMEXIT
	 * state in the VMCB is as of the last instruction that completed
	 * and EXITCODE is not meaningful. */
	SVM_MODEL_UNSUPPORTED,
};

/*
 * VMRUN (APM Vol. 2 15.5): load the guest from the VMCB at @vmcb, run it
 * until a #VMEXIT, and return with the exit recorded in the VMCB
 * (EXITCODE, EXITINFO1/2, EXITINTINFO) and the host state restored.
 * Illegal guest state (15.5.1) is a #VMEXIT with SVM_EXIT_INVALID: that
 * returns SVM_OK too.
 */
int vmrun(struct hw_cpu *cpu, hpa_t vmcb);

/*
 * VMLOAD / VMSAVE (APM Vol. 2 15.5.2): load into / save from the
 * processor the state VMRUN and #VMEXIT leave alone: FS, GS, TR and LDTR
 * with their hidden parts, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK,
 * SYSENTER_CS/ESP/EIP. Nothing else in the VMCB is read or written.
 */
int vmload(struct hw_cpu *cpu, hpa_t vmcb);
int vmsave(struct hw_cpu *cpu, hpa_t vmcb);

/* STGI / CLGI (APM Vol. 2 15.17): set / clear the global interrupt flag. */
int stgi(struct hw_cpu *cpu);
int clgi(struct hw_cpu *cpu);

/*
 * INVLPGA (APM Vol. 3 "INVLPGA"): drop the TLB entries of the page at
 * linear address @va in address space @asid, global ones included, for
 * every PCID of that ASID.
 */
int invlpga(struct hw_cpu *cpu, uint64_t va, uint32_t asid);

#endif
