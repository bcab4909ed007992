/*
 * reset.c — the power-up/RESET state of the processor (SDM Vol. 3A
 * 9.1.1, Table 9-1): real mode, CS:IP = F000:FFF0 with CS.base FFFF0000
 * so the first fetch is at FFFFFFF0, caches and paging off.
 *
 * DR6/DR7, MSRs, x87 state and the APIC are the caller's (hw/) state.
 * EDX holds the processor signature (CPUID.1.EAX); the value here is a
 * generic family-6 signature that hw/ overwrites with its CPUID model.
 */
#include "emulate/sys.h"

#define EMU_RESET_SIGNATURE 0x000906eau	/* family 6, model 9E, stepping A */

void emu_cpu_reset(struct emu_cpu *cpu)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->rip = 0xfff0;
	cpu->rflags = EMU_FLAG_FIXED;
	cpu->cr0 = 0x60000010;	/* CD, NW, ET */
	cpu->gpr[EMU_RDX] = EMU_RESET_SIGNATURE;
	for (unsigned i = 0; i < EMU_NR_SREGS; i++) {
		cpu->seg[i].limit = 0xffff;
		cpu->seg[i].ar = 0x3 | EMU_AR_S | EMU_AR_P;	/* data RW, accessed */
	}
	cpu->seg[EMU_CS].sel = 0xf000;
	cpu->seg[EMU_CS].base = 0xffff0000;
	cpu->seg[EMU_CS].ar = 0xb | EMU_AR_S | EMU_AR_P;	/* code RX, accessed */
	cpu->gdtr.limit = 0xffff;
	cpu->idtr.limit = 0xffff;
	cpu->ldtr.limit = 0xffff;
	cpu->ldtr.ar = EMU_DT_LDT | EMU_AR_P;
	cpu->tr.limit = 0xffff;
	cpu->tr.ar = EMU_DT_TSS_BUSY | EMU_AR_P;
}
