/*
 * cpuid.c — the guest's CPUID policy. The processor's own answer
 * (hv_backend_ops.host_cpuid: what the model implements) is the start;
 * hvlab then says what a guest of a hypervisor should see:
 *
 *   leaf        change                              why
 *   1 ECX       VMX (5), SMX (6) cleared            no nested virtualization
 *   1 ECX       MONITOR (3) cleared                 MONITOR/MWAIT exit and
 *                                                   do nothing useful
 *   1 ECX       x2APIC (21), TSC-deadline (24) set  core/irq models them
 *   1 ECX       hypervisor (31) set                 SDM: reserved for this
 *   1 EDX       APIC (9) set                        core/irq's local APIC
 *   1 EBX       31:24 initial APIC ID = vcpu id     Vol. 2A CPUID leaf 1
 *   0xb, 0x1f   EDX x2APIC ID = vcpu id
 *   8000_0001   ECX SVM (2) cleared                 no nested virtualization
 *   4000_0000   max 4000_0001, "KVMKVMKVM\0\0\0"    the hypervisor range, as
 *                                                   KVM answers it (seed 003
 *                                                   era); 4000_0001 EAX = 0:
 *                                                   no paravirtual features
 */
#include <string.h>

#include "core/cpuid.h"
#include "core/vm.h"

#define HV_LEAF_BASE 0x40000000u

void guest_cpuid(struct hv_vcpu *vcpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	enum { A, B, C, D };

	if ((leaf & 0xffffff00u) == HV_LEAF_BASE) {
		memset(out, 0, 4 * sizeof(out[0]));
		if (leaf == HV_LEAF_BASE) {
			out[A] = HV_LEAF_BASE + 1;
			memcpy(&out[B], "KVMK", 4);
			memcpy(&out[C], "VMKV", 4);
			memcpy(&out[D], "M\0\0\0", 4);
		}
		return;
	}
	vcpu->vm->backend->host_cpuid(vcpu, leaf, subleaf, out);
	switch (leaf) {
	case 1:
		out[C] &= ~((1u << 3) | (1u << 5) | (1u << 6));
		out[C] |= (1u << 21) | (1u << 24) | (1u << 31);
		out[D] |= 1u << 9;
		out[B] = (out[B] & 0x00ffffffu) | (vcpu->id << 24);
		break;
	case 0xb:
	case 0x1f:
		out[D] = vcpu->id;
		break;
	case 0x80000001:
		out[C] &= ~(1u << 2);
		break;
	default:
		break;
	}
}

unsigned vcpu_maxphyaddr(struct hv_vcpu *vcpu)
{
	uint32_t r[4];
	guest_cpuid(vcpu, 0x80000000, 0, r);
	if (r[0] < 0x80000008)
		return 36;
	guest_cpuid(vcpu, 0x80000008, 0, r);
	const unsigned m = r[0] & 0xff;
	return m >= 32 && m <= 52 ? m : 36;
}
