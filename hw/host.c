/*
 * host.c — what the host does to a processor outside guest mode: MOV to
 * and from control registers (its own CR0/CR3/CR4, which VMXON and
 * VMRUN check), and the platform's inputs: the INTR and NMI pins and the
 * host timer (hw/hw.h).
 */
#include <errno.h>

#include "hw/exec.h"

uint64_t hw_read_cr(struct hw_cpu *cpu, unsigned cr)
{
	switch (cr) {
	case 0: return cpu->host.cr0;
	case 2: return cpu->cr2;
	case 3: return cpu->host_cr3;
	case 4: return cpu->host.cr4;
	default: return 0;
	}
}

/* The host's own control registers: the same reserved-bit rules as
 * MOV CR (SDM Vol. 3A 2.5), no paging of its own to flush. */
int hw_write_cr(struct hw_cpu *cpu, unsigned cr, uint64_t val)
{
	const bool intel = cpu->m->cfg.vendor == HW_VENDOR_INTEL;
	switch (cr) {
	case 0:
		if ((val >> 32) || ((val & (1ull << 31)) && !(val & 1)) ||
		    ((val & (1ull << 29)) && !(val & (1ull << 30))))
			return -EINVAL;
		/* VMX operation pins CR0 to the FIXED bits (SDM 24.8). */
		if (cpu->vmx.on && ((val & 0x80000021ull) != 0x80000021ull))
			return -EINVAL;
		cpu->host.cr0 = val;
		return 0;
	case 2:
		/* One CR2 for host and guest: VMX does not switch it (SDM
		 * Vol. 3C 27.3, 28.5), so a hypervisor moves it itself. */
		cpu->cr2 = val;
		return 0;
	case 3:
		if (val >> HW_MAXPHYADDR)
			return -EINVAL;
		cpu->host_cr3 = val;
		return 0;
	case 4:
		if (val & ~(hw_cr4_valid(cpu->m) | (intel ? HW_CR4_VMXE : 0)))
			return -EINVAL;
		/* CR4.VMXE cannot be cleared in VMX operation (SDM 24.8). */
		if (cpu->vmx.on && !(val & HW_CR4_VMXE))
			return -EINVAL;
		cpu->host.cr4 = val;
		return 0;
	default:
		return -EINVAL;
	}
}

void hw_cpu_set_intr(struct hw_cpu *cpu, bool asserted, uint8_t vector)
{
	cpu->ev.intr = asserted;
	cpu->ev.intr_vector = vector;
}

void hw_cpu_nmi(struct hw_cpu *cpu)
{
	cpu->ev.nmi_pending = true;
}

void hw_cpu_init(struct hw_cpu *cpu)
{
	cpu->ev.init_pending = true;
}

void hw_cpu_set_deadline(struct hw_cpu *cpu, uint64_t insns)
{
	cpu->deadline = insns;
}

/* DR0-3 and DR6 belong to the processor, not to the VMCS (SDM Vol. 3C
 * 24.4.1 has only DR7); a hypervisor moves the guest's values itself,
 * as with CR2. MOV DR in 64-bit mode #GPs on bits 63:32 of DR6 (Vol. 3B
 * 18.2.4); DR0-3 hold any linear address. */
uint64_t hw_read_dr(struct hw_cpu *cpu, unsigned dr)
{
	if (dr < 4)
		return cpu->dr[dr];
	return dr == 6 ? cpu->dr6 : 0;
}

int hw_write_dr(struct hw_cpu *cpu, unsigned dr, uint64_t val)
{
	if (dr < 4) {
		cpu->dr[dr] = val;
		return 0;
	}
	if (dr == 6 && !(val >> 32)) {
		cpu->dr6 = val;
		return 0;
	}
	return -EINVAL;
}
