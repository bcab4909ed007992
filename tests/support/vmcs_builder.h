/*
 * vmcs_builder.h — a VMCS that passes every VM-entry check (SDM Vol. 3C
 * 27.2, 27.3.1), for tests of VM entry and of the checks themselves. The
 * builder acts as a hypervisor would: it reads the capability MSRs with
 * RDMSR, picks each control word as "what must be 1, plus what was asked
 * for" (A.2's algorithm with IA32_VMX_BASIC[55] = 1), and writes every
 * field with VMWRITE, so the result is a complete, current VMCS.
 *
 * Two guests:
 *
 *   vmcs_build_long_mode()   64-bit mode, CPL 0, paging with b->guest_cr3,
 *                            EPT when b->eptp is not 0
 *   vmcs_build_real_mode()   real mode as an unrestricted guest (needs EPT):
 *                            CR0.PE = PG = 0, entry at linear b->guest_rip
 *
 * Defaults the builder writes (override any with vmwrite afterwards):
 *
 *   guest CR0    long: PG WP NE ET MP PE (0x80010033)  real: NE ET (0x30)
 *   guest CR4    long: VMXE PGE PAE (0x20a0)           real: VMXE (0x2000)
 *                CR4.VMXE is required by IA32_VMX_CR4_FIXED0; the CR4
 *                guest/host mask owns VMXE and the read shadow hides it
 *   guest EFER   long: NXE LMA LME SCE (0xd01)          real: 0
 *   segments     long: CS 0x08 (64-bit code, AR 0xa09b), SS DS ES FS GS
 *                0x10 (data, AR 0xc093), all base 0 limit 0xffffffff;
 *                real: CS = (rip & 0xf0000) >> 4, IP = rip & 0xffff, all
 *                limit 0xffff, CS AR 0x9b, data AR 0x93
 *   LDTR         unusable; TR 0x18 (long) or 0 (real), busy TSS (type
 *                11), base 0, limit 0x67 (long) or 0xffff (real)
 *   GDTR, IDTR   base 0, limits 0xffff and 0xfff (long) or 0x3ff (real)
 *   RFLAGS 0x2, DR7 0x400, IA32_DEBUGCTL 0, PAT the power-on value
 *   (0x0007040600070406), activity active, no blocking, nothing pending,
 *   VMCS link pointer ~0, no event injected
 *
 *   controls     pin: must-be-1 only; processor-based: must-be-1, plus
 *                "activate secondary controls" when EPT or VPID is used
 *                (secondary: EPT, VPID, unrestricted guest as needed);
 *                exit: must-be-1, host address-space size, save debug
 *                controls, save/load IA32_PAT and IA32_EFER; entry:
 *                must-be-1, load debug controls, load IA32_PAT and
 *                IA32_EFER, and IA-32e mode guest for the long-mode guest.
 *                No bitmaps, exceptions, CR3 targets or MSR lists.
 *   EPTP         b->eptp | WB (6) | page-walk length 4 (3 << 3)
 *   host         CR0, CR4 as the processor has them now (hw_read_cr);
 *                CR3 b->host_cr3; selectors CS 0x08, SS DS ES FS GS
 *                0x10, TR 0x18; bases 0; 64-bit (EFER 0xd01)
 *
 * The bit values here are the SDM's, written in vmcs_builder.c from the
 * manual rather than taken from hw/vmx.h, so a wrong constant there shows
 * up in the tests.
 */
#ifndef HVLAB_TESTS_VMCS_BUILDER_H
#define HVLAB_TESTS_VMCS_BUILDER_H

#include <stdint.h>

#include "hw/hw.h"

struct vmcs_build {
	uint64_t eptp;		/* EPT PML4 (hpa, 4 KiB aligned), or 0: no EPT */
	uint16_t vpid;		/* 0: "enable VPID" stays 0 */
	uint64_t guest_cr3;	/* long mode: the guest's PML4 (a gpa under EPT) */
	uint64_t guest_rip;	/* long: RIP; real: the linear entry point (< 1 MiB) */
	uint64_t guest_rsp;
	uint64_t host_rip, host_rsp, host_cr3;
	/* Controls to set beyond what the builder picks (SDM bit values):
	 * pin-based, primary and secondary processor-based, exit, entry.
	 * A bit the capability MSRs do not allow makes the build fail. */
	uint32_t pin, proc, proc2, exit, entry;
};

/*
 * Bring @cpu (of machine @m) into VMX root operation with @vmcs current: write the
 * revision identifier (IA32_VMX_BASIC) to both regions, lock
 * IA32_FEATURE_CONTROL with VMXON outside SMX enabled (unless already
 * locked), set host CR0 = PG AM WP NE ET MP PE and CR4 = VMXE PGE PAE,
 * then VMXON, VMCLEAR and VMPTRLD. 0, or -EIO when a step fails.
 */
int vmcs_build_enter(struct hw_machine *m, struct hw_cpu *cpu, uint64_t vmxon_hpa,
		     uint64_t vmcs_hpa);

/* Fill the current VMCS (see above). 0, -EINVAL (a control asked for is
 * not offered; real mode without EPT) or -EIO (a VMWRITE failed). */
int vmcs_build_long_mode(struct hw_cpu *cpu, const struct vmcs_build *b);
int vmcs_build_real_mode(struct hw_cpu *cpu, const struct vmcs_build *b);

#endif
