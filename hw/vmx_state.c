/*
 * vmx_state.c — moving processor state between the VMCS and the
 * processor: loading guest state at VM entry (SDM Vol. 3C 27.3.2),
 * saving it at VM exit (28.3) with the exit information (28.2), and
 * loading host state (28.5). The checks that decide whether the state
 * may be loaded are in vmx_check.c; this file assumes they passed.
 *
 * Each phase looks the current VMCS region up once and moves its fields
 * with vmcs_region_read()/vmcs_region_write() (hw/vmcs.h): one load or store per field,
 * the field's offset a constant. The save tells hw/dcode.c about its
 * writes once, at its end; nothing runs in between that could execute
 * from the page.
 */
#include <string.h>

#include "hw/cr.h"
#include "hw/vmcs.h"
#include "hw/vmx_state.h"

/* Guest segment fields by emu_sreg order, then LDTR and TR (Appendix B
 * orders them ES CS SS DS FS GS LDTR TR with a stride of 2). */
static const uint32_t seg_sel[8] = {
	VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,
	VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR,
	VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_TR_SELECTOR,
};
static const uint32_t seg_base[8] = {
	VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE,
	VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_TR_BASE,
};
static const uint32_t seg_limit[8] = {
	VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,
	VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_TR_LIMIT,
};
static const uint32_t seg_ar[8] = {
	VMCS_GUEST_ES_ACCESS_RIGHTS, VMCS_GUEST_CS_ACCESS_RIGHTS,
	VMCS_GUEST_SS_ACCESS_RIGHTS, VMCS_GUEST_DS_ACCESS_RIGHTS,
	VMCS_GUEST_FS_ACCESS_RIGHTS, VMCS_GUEST_GS_ACCESS_RIGHTS,
	VMCS_GUEST_LDTR_ACCESS_RIGHTS, VMCS_GUEST_TR_ACCESS_RIGHTS,
};

static struct emu_segment *guest_seg(struct emu_cpu *c, unsigned i)
{
	return i < EMU_NR_SREGS ? &c->seg[i] : i == 6 ? &c->ldtr : &c->tr;
}

/* Access-rights bits that exist (25.4.1 Table 25-2); the rest read 0. */
#define AR_MASK 0x1f0ffu

void vmx_enter_cache_controls(struct hw_cpu *cpu)
{
	const uint8_t *const vmcs = vmcs_current_region(cpu);
	if (!vmcs)
		return;	/* vm_entry() checked that there is one */
	struct vmx_ctl *c = &cpu->vmx_ctl;
	c->pin = (uint32_t)vmcs_region_read(vmcs, VMCS_PIN_BASED_CTLS);
	c->proc = (uint32_t)vmcs_region_read(vmcs, VMCS_PROC_BASED_CTLS);
	c->proc2 = (c->proc & VMX_PROC_SECONDARY_CTLS) ?
		   (uint32_t)vmcs_region_read(vmcs, VMCS_PROC_BASED_CTLS2) : 0;
	c->exit = (uint32_t)vmcs_region_read(vmcs, VMCS_EXIT_CTLS);
	c->entry = (uint32_t)vmcs_region_read(vmcs, VMCS_ENTRY_CTLS);
	c->exception_bitmap = (uint32_t)vmcs_region_read(vmcs, VMCS_EXCEPTION_BITMAP);
	c->pf_mask = (uint32_t)vmcs_region_read(vmcs, VMCS_PF_ERROR_CODE_MASK);
	c->pf_match = (uint32_t)vmcs_region_read(vmcs, VMCS_PF_ERROR_CODE_MATCH);
	c->cr0_mask = vmcs_region_read(vmcs, VMCS_CR0_GUEST_HOST_MASK);
	c->cr0_shadow = vmcs_region_read(vmcs, VMCS_CR0_READ_SHADOW);
	c->cr4_mask = vmcs_region_read(vmcs, VMCS_CR4_GUEST_HOST_MASK);
	c->cr4_shadow = vmcs_region_read(vmcs, VMCS_CR4_READ_SHADOW);
	c->cr3_target_count = (uint32_t)vmcs_region_read(vmcs, VMCS_CR3_TARGET_COUNT);
	c->cr3_target[0] = vmcs_region_read(vmcs, VMCS_CR3_TARGET_VALUE0);
	c->cr3_target[1] = vmcs_region_read(vmcs, VMCS_CR3_TARGET_VALUE1);
	c->cr3_target[2] = vmcs_region_read(vmcs, VMCS_CR3_TARGET_VALUE2);
	c->cr3_target[3] = vmcs_region_read(vmcs, VMCS_CR3_TARGET_VALUE3);
	c->io_bitmap[0] = vmcs_region_read(vmcs, VMCS_IO_BITMAP_A);
	c->io_bitmap[1] = vmcs_region_read(vmcs, VMCS_IO_BITMAP_B);
	c->msr_bitmap = vmcs_region_read(vmcs, VMCS_MSR_BITMAP);
	c->tsc_offset = (c->proc & VMX_PROC_TSC_OFFSETTING) ? vmcs_region_read(vmcs, VMCS_TSC_OFFSET) : 0;
	c->eptp = (c->proc2 & VMX_PROC2_EPT) ? vmcs_region_read(vmcs, VMCS_EPT_POINTER) : 0;
	c->vpid = (c->proc2 & VMX_PROC2_VPID) ? (uint16_t)vmcs_region_read(vmcs, VMCS_VPID) : 0;
}

void vmx_enter_load_guest_state(struct hw_cpu *cpu)
{
	const uint8_t *const vmcs = vmcs_current_region(cpu);
	if (!vmcs)
		return;	/* vm_entry() checked that there is one */
	const struct vmx_ctl *ctl = &cpu->vmx_ctl;
	struct emu_cpu *c = &cpu->emu.cpu;

	c->cr0 = vmcs_region_read(vmcs, VMCS_GUEST_CR0);
	c->cr4 = vmcs_region_read(vmcs, VMCS_GUEST_CR4);
	cpu->cr3 = vmcs_region_read(vmcs, VMCS_GUEST_CR3);
	if (ctl->entry & VMX_ENTRY_CTL_LOAD_DEBUG_CTLS)
		cpu->dr7 = vmcs_region_read(vmcs, VMCS_GUEST_DR7);
	c->gpr[EMU_RSP] = vmcs_region_read(vmcs, VMCS_GUEST_RSP);
	c->rip = vmcs_region_read(vmcs, VMCS_GUEST_RIP);
	c->rflags = vmcs_region_read(vmcs, VMCS_GUEST_RFLAGS);
	/* Unrolled, every encoding is a constant and each access one move. */
#pragma GCC unroll 8
	for (unsigned i = 0; i < 8; i++) {
		struct emu_segment *s = guest_seg(c, i);
		s->sel = (uint16_t)vmcs_region_read(vmcs, seg_sel[i]);
		s->base = vmcs_region_read(vmcs, seg_base[i]);
		s->limit = (uint32_t)vmcs_region_read(vmcs, seg_limit[i]);
		s->ar = (uint32_t)vmcs_region_read(vmcs, seg_ar[i]) & AR_MASK;
	}
	c->gdtr.base = vmcs_region_read(vmcs, VMCS_GUEST_GDTR_BASE);
	c->gdtr.limit = (uint16_t)vmcs_region_read(vmcs, VMCS_GUEST_GDTR_LIMIT);
	c->idtr.base = vmcs_region_read(vmcs, VMCS_GUEST_IDTR_BASE);
	c->idtr.limit = (uint16_t)vmcs_region_read(vmcs, VMCS_GUEST_IDTR_LIMIT);
	cpu->msr.sysenter_cs = vmcs_region_read(vmcs, VMCS_GUEST_IA32_SYSENTER_CS);
	cpu->msr.sysenter_esp = vmcs_region_read(vmcs, VMCS_GUEST_IA32_SYSENTER_ESP);
	cpu->msr.sysenter_eip = vmcs_region_read(vmcs, VMCS_GUEST_IA32_SYSENTER_EIP);
	if (ctl->entry & VMX_ENTRY_CTL_LOAD_PAT)
		cpu->msr.pat = vmcs_region_read(vmcs, VMCS_GUEST_IA32_PAT);
	if (ctl->entry & VMX_ENTRY_CTL_LOAD_EFER) {
		c->efer = vmcs_region_read(vmcs, VMCS_GUEST_IA32_EFER);
	} else {
		/* 27.3.2.1: without "load IA32_EFER" the guest runs with the
		 * processor's one IA32_EFER, LMA and LME following the
		 * "IA-32e mode guest" control. */
		c->efer = cpu->host.efer & ~(EFER_LMA | EFER_LME);
		if (ctl->entry & VMX_ENTRY_CTL_IA32E_MODE_GUEST)
			c->efer |= EFER_LMA | EFER_LME;
	}
	/* CPL is SS.DPL (27.3.2.2), 0 in real mode (unrestricted guest). */
	c->cpl = (c->cr0 & EMU_CR0_PE) ? (uint8_t)EMU_AR_DPL(c->seg[EMU_SS].ar) : 0;
	if (c->rflags & EMU_FLAG_VM)
		c->cpl = 3;

	hw_xlat_update(cpu);
	/* With EPT and PAE paging the PDPTEs come from the VMCS (27.3.2.4). */
	if ((ctl->proc2 & VMX_PROC2_EPT) && cpu->xlat.pg.mode == HW_PAGING_PAE) {
		cpu->xlat.pg.pdpte[0] = vmcs_region_read(vmcs, VMCS_GUEST_PDPTE0);
		cpu->xlat.pg.pdpte[1] = vmcs_region_read(vmcs, VMCS_GUEST_PDPTE1);
		cpu->xlat.pg.pdpte[2] = vmcs_region_read(vmcs, VMCS_GUEST_PDPTE2);
		cpu->xlat.pg.pdpte[3] = vmcs_region_read(vmcs, VMCS_GUEST_PDPTE3);
	}

	/* Event blocking and activity (27.3.2.5): blocking by STI or MOV SS
	 * covers the first guest instruction. */
	const uint32_t intr = (uint32_t)vmcs_region_read(vmcs, VMCS_GUEST_INTERRUPTIBILITY);
	cpu->ev.shadow = (intr & VMX_INTERRUPTIBILITY_STI ? HW_SHADOW_STI : 0) |
			 (intr & VMX_INTERRUPTIBILITY_MOV_SS ? HW_SHADOW_MOVSS : 0);
	cpu->ev.shadow_at = cpu->emu.icount;
	cpu->ev.nmi_blocked = intr & VMX_INTERRUPTIBILITY_NMI;
	cpu->ev.halted = vmcs_region_read(vmcs, VMCS_GUEST_ACTIVITY_STATE) == VMX_ACTIVITY_HLT;
	cpu->ev.shutdown = false;
}

static uint32_t event_info(const struct emu_event *ev)
{
	return ev->vector | ((uint32_t)ev->type << VMX_INTR_INFO_TYPE_SHIFT) |
	       (ev->has_error_code ? VMX_INTR_INFO_ERROR_CODE : 0) | VMX_INTR_INFO_VALID;
}

/* Exit information fields (28.2) from cpu->exit and cpu->vectoring. */
static void save_exit_info(struct hw_cpu *cpu, uint8_t *vmcs)
{
	const struct hw_exit *x = &cpu->exit;
	vmcs_region_write(vmcs, VMCS_EXIT_REASON, x->reason);
	vmcs_region_write(vmcs, VMCS_EXIT_QUALIFICATION, x->qual);
	vmcs_region_write(vmcs, VMCS_GUEST_LINEAR_ADDRESS, x->gla);
	vmcs_region_write(vmcs, VMCS_GUEST_PHYSICAL_ADDRESS, x->gpa);
	vmcs_region_write(vmcs, VMCS_EXIT_INTR_INFO, x->intr_info);
	vmcs_region_write(vmcs, VMCS_EXIT_INTR_ERROR_CODE, x->intr_error);
	vmcs_region_write(vmcs, VMCS_EXIT_INSTRUCTION_LEN, x->insn_len);
	vmcs_region_write(vmcs, VMCS_EXIT_INSTRUCTION_INFO, x->insn_info);
	if (cpu->vectoring.valid) {
		const struct emu_event *ev = &cpu->vectoring.ev;
		vmcs_region_write(vmcs, VMCS_IDT_VECTORING_INFO, event_info(ev));
		vmcs_region_write(vmcs, VMCS_IDT_VECTORING_ERROR_CODE,
			   ev->has_error_code ? ev->error_code : 0);
	} else {
		vmcs_region_write(vmcs, VMCS_IDT_VECTORING_INFO, 0);
	}
	/* Every VM exit clears the valid bit of the VM-entry
	 * interruption-information field (28.2.5? see 27.6.1). */
	vmcs_region_write(vmcs, VMCS_ENTRY_INTR_INFO,
		   vmcs_region_read(vmcs, VMCS_ENTRY_INTR_INFO) & ~(uint64_t)VMX_INTR_INFO_VALID);
}

void vmx_exit_save_guest_state(struct hw_cpu *cpu)
{
	uint8_t *const vmcs = vmcs_current_region(cpu);
	if (!vmcs)
		return;	/* vm_entry() checked that there is one */
	const struct vmx_ctl *ctl = &cpu->vmx_ctl;
	struct emu_cpu *c = &cpu->emu.cpu;

	save_exit_info(cpu, vmcs);
	vmcs_region_write(vmcs, VMCS_GUEST_CR0, c->cr0);
	vmcs_region_write(vmcs, VMCS_GUEST_CR3, cpu->cr3);
	vmcs_region_write(vmcs, VMCS_GUEST_CR4, c->cr4);
	if (ctl->exit & VMX_EXIT_CTL_SAVE_DEBUG_CTLS)
		vmcs_region_write(vmcs, VMCS_GUEST_DR7, cpu->dr7);
	vmcs_region_write(vmcs, VMCS_GUEST_RSP, c->gpr[EMU_RSP]);
	vmcs_region_write(vmcs, VMCS_GUEST_RIP, c->rip);
	vmcs_region_write(vmcs, VMCS_GUEST_RFLAGS, c->rflags);
	/* Unrolled, every encoding is a constant and each access one move. */
#pragma GCC unroll 8
	for (unsigned i = 0; i < 8; i++) {
		const struct emu_segment *s = guest_seg(c, i);
		vmcs_region_write(vmcs, seg_sel[i], s->sel);
		vmcs_region_write(vmcs, seg_base[i], s->base);
		vmcs_region_write(vmcs, seg_limit[i], s->limit);
		vmcs_region_write(vmcs, seg_ar[i], s->ar & AR_MASK);
	}
	vmcs_region_write(vmcs, VMCS_GUEST_GDTR_BASE, c->gdtr.base);
	vmcs_region_write(vmcs, VMCS_GUEST_GDTR_LIMIT, c->gdtr.limit);
	vmcs_region_write(vmcs, VMCS_GUEST_IDTR_BASE, c->idtr.base);
	vmcs_region_write(vmcs, VMCS_GUEST_IDTR_LIMIT, c->idtr.limit);
	vmcs_region_write(vmcs, VMCS_GUEST_IA32_SYSENTER_CS, cpu->msr.sysenter_cs);
	vmcs_region_write(vmcs, VMCS_GUEST_IA32_SYSENTER_ESP, cpu->msr.sysenter_esp);
	vmcs_region_write(vmcs, VMCS_GUEST_IA32_SYSENTER_EIP, cpu->msr.sysenter_eip);
	if (ctl->exit & VMX_EXIT_CTL_SAVE_PAT)
		vmcs_region_write(vmcs, VMCS_GUEST_IA32_PAT, cpu->msr.pat);
	if (ctl->exit & VMX_EXIT_CTL_SAVE_EFER)
		vmcs_region_write(vmcs, VMCS_GUEST_IA32_EFER, c->efer);
	/* "IA-32e mode guest" follows EFER.LMA (28.3.2? VMX_MISC[5]). */
	uint64_t entry = vmcs_region_read(vmcs, VMCS_ENTRY_CTLS) & ~(uint64_t)VMX_ENTRY_CTL_IA32E_MODE_GUEST;
	if (c->efer & EFER_LMA)
		entry |= VMX_ENTRY_CTL_IA32E_MODE_GUEST;
	vmcs_region_write(vmcs, VMCS_ENTRY_CTLS, entry);
	if ((ctl->proc2 & VMX_PROC2_EPT) && cpu->xlat.pg.mode == HW_PAGING_PAE) {
		vmcs_region_write(vmcs, VMCS_GUEST_PDPTE0, cpu->xlat.pg.pdpte[0]);
		vmcs_region_write(vmcs, VMCS_GUEST_PDPTE1, cpu->xlat.pg.pdpte[1]);
		vmcs_region_write(vmcs, VMCS_GUEST_PDPTE2, cpu->xlat.pg.pdpte[2]);
		vmcs_region_write(vmcs, VMCS_GUEST_PDPTE3, cpu->xlat.pg.pdpte[3]);
	}
	const unsigned shadow = hw_shadow(cpu);
	const uint32_t intr = (shadow & HW_SHADOW_STI ? VMX_INTERRUPTIBILITY_STI : 0) |
			      (shadow & HW_SHADOW_MOVSS ? VMX_INTERRUPTIBILITY_MOV_SS : 0) |
			      (cpu->ev.nmi_blocked ? VMX_INTERRUPTIBILITY_NMI : 0);
	vmcs_region_write(vmcs, VMCS_GUEST_INTERRUPTIBILITY, intr);
	vmcs_region_write(vmcs, VMCS_GUEST_ACTIVITY_STATE,
		   cpu->ev.shutdown ? VMX_ACTIVITY_SHUTDOWN :
		   cpu->ev.halted ? VMX_ACTIVITY_HLT : VMX_ACTIVITY_ACTIVE);
	vmcs_current_written(cpu);
}

/*
 * Host state (28.5): the registers the host "resumes" with. Segment
 * registers get the fixed descriptors 28.5.2 prescribes (base 0 except
 * FS/GS/TR, limit 4 GiB, CS 64-bit when the host address-space size
 * control is 1; a null selector other than CS is unusable).
 */
void vmx_exit_load_host_state(struct hw_cpu *cpu)
{
	const uint8_t *const vmcs = vmcs_current_region(cpu);
	if (!vmcs)
		return;	/* vm_entry() checked that there is one */
	const struct vmx_ctl *ctl = &cpu->vmx_ctl;
	struct emu_cpu *h = &cpu->host;
	const bool lm = ctl->exit & VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE;
	static const uint32_t sel[] = {
		VMCS_HOST_ES_SELECTOR, VMCS_HOST_CS_SELECTOR, VMCS_HOST_SS_SELECTOR,
		VMCS_HOST_DS_SELECTOR, VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR,
	};

	h->cr0 = vmcs_region_read(vmcs, VMCS_HOST_CR0);
	cpu->host_cr3 = vmcs_region_read(vmcs, VMCS_HOST_CR3);
	h->cr4 = vmcs_region_read(vmcs, VMCS_HOST_CR4);
	h->gpr[EMU_RSP] = vmcs_region_read(vmcs, VMCS_HOST_RSP);
	cpu->emu.cpu.gpr[EMU_RSP] = h->gpr[EMU_RSP];	/* one register file */
	h->rip = vmcs_region_read(vmcs, VMCS_HOST_RIP);
	h->rflags = EMU_FLAG_FIXED;
#pragma GCC unroll 6
	for (unsigned i = 0; i < EMU_NR_SREGS; i++) {
		struct emu_segment *s = &h->seg[i];
		s->sel = (uint16_t)vmcs_region_read(vmcs, sel[i]);
		s->base = 0;
		s->limit = 0xffffffff;
		s->ar = (i == EMU_CS ? 0x9bu | (lm ? EMU_AR_L : EMU_AR_DB) : 0x93u | EMU_AR_DB) |
			EMU_AR_G;
		if (i != EMU_CS && !s->sel)
			s->ar = EMU_AR_UNUSABLE;
	}
	h->seg[EMU_FS].base = vmcs_region_read(vmcs, VMCS_HOST_FS_BASE);
	h->seg[EMU_GS].base = vmcs_region_read(vmcs, VMCS_HOST_GS_BASE);
	h->tr.sel = (uint16_t)vmcs_region_read(vmcs, VMCS_HOST_TR_SELECTOR);
	h->tr.base = vmcs_region_read(vmcs, VMCS_HOST_TR_BASE);
	h->tr.limit = 0x67;
	h->tr.ar = 0x8bu;
	h->ldtr.sel = 0;
	h->ldtr.ar = EMU_AR_UNUSABLE;
	h->gdtr.base = vmcs_region_read(vmcs, VMCS_HOST_GDTR_BASE);
	h->gdtr.limit = 0xffff;
	h->idtr.base = vmcs_region_read(vmcs, VMCS_HOST_IDTR_BASE);
	h->idtr.limit = 0xffff;
	h->cpl = 0;
	cpu->msr.sysenter_cs = vmcs_region_read(vmcs, VMCS_HOST_IA32_SYSENTER_CS);
	cpu->msr.sysenter_esp = vmcs_region_read(vmcs, VMCS_HOST_IA32_SYSENTER_ESP);
	cpu->msr.sysenter_eip = vmcs_region_read(vmcs, VMCS_HOST_IA32_SYSENTER_EIP);
	if (ctl->exit & VMX_EXIT_CTL_LOAD_PAT)
		cpu->msr.pat = vmcs_region_read(vmcs, VMCS_HOST_IA32_PAT);
	if (ctl->exit & VMX_EXIT_CTL_LOAD_EFER) {
		h->efer = vmcs_region_read(vmcs, VMCS_HOST_IA32_EFER);
	} else {
		/* 28.5.1: the guest's IA32_EFER stays, LMA and LME following
		 * the "host address-space size" control. */
		h->efer = cpu->emu.cpu.efer & ~(EFER_LMA | EFER_LME);
		if (lm)
			h->efer |= EFER_LMA | EFER_LME;
	}
	/* DR7 is 0x400 after every exit (28.5.1). */
	cpu->dr7 = 0x400;
}
