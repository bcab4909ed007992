/*
 * svm_run.c — VMRUN and #VMEXIT (APM Vol. 2 15.5 VMRUN, 15.6 #VMEXIT),
 * step by step as the APM's VMRUN pseudo-code orders them:
 *
 *   1. the instruction's checks (#UD unless EFER.SVME, #GP at CPL > 0 or
 *      for a bad VMCB address, #GP for a bad VM_HSAVE_PA)
 *   2. save host state to the host save area (VM_HSAVE_PA)
 *   3. load the control area; consistency checks (15.5.1): failure is a
 *      #VMEXIT with VMEXIT_INVALID and the host state back
 *   4. load guest state; ASID and TLB_CONTROL (15.16); nested paging
 *      (15.25); GIF = 1
 *   5. inject EVENTINJ (15.20)
 *   6. run until an intercept; #VMEXIT saves guest state, EXITCODE,
 *      EXITINFO1/2, EXITINTINFO, nRIP into the VMCB, reloads the host
 *      state and clears GIF
 *
 * The host save area's format is implementation-specific (15.30.4); the
 * model writes it in the VMCB state-save layout, which it then reads
 * back at #VMEXIT, so a host that scribbles on it gets what it wrote.
 */
#include <string.h>

#include "hw/cr.h"
#include "hw/event.h"
#include "hw/svm_internal.h"

/* Step 2: the host state VMRUN saves (15.5.1): ES CS SS DS, GDTR IDTR,
 * EFER CR0 CR3 CR4, RFLAGS, RIP (of the instruction after VMRUN), RSP,
 * RAX. */
static void save_host(struct hw_cpu *cpu, struct vmcb_save *hs)
{
	const struct emu_cpu *h = &cpu->host;
	svm_seg_to_vmcb(&h->seg[EMU_ES], &hs->es);
	svm_seg_to_vmcb(&h->seg[EMU_CS], &hs->cs);
	svm_seg_to_vmcb(&h->seg[EMU_SS], &hs->ss);
	svm_seg_to_vmcb(&h->seg[EMU_DS], &hs->ds);
	hs->gdtr.base = h->gdtr.base;
	hs->gdtr.limit = h->gdtr.limit;
	hs->idtr.base = h->idtr.base;
	hs->idtr.limit = h->idtr.limit;
	hs->efer = h->efer;
	hs->cr0 = h->cr0;
	hs->cr3 = cpu->host_cr3;
	hs->cr4 = h->cr4;
	hs->rflags = h->rflags;
	hs->rip = h->rip;
	/* One register file (hw.h): the host's RAX and RSP are the
	 * registers' values at VMRUN. */
	hs->rsp = cpu->emu.cpu.gpr[EMU_RSP];
	hs->rax = cpu->emu.cpu.gpr[EMU_RAX];
	hs->cpl = 0;
}

static void load_host(struct hw_cpu *cpu, const struct vmcb_save *hs)
{
	struct emu_cpu *h = &cpu->host;
	svm_seg_from_vmcb(&hs->es, &h->seg[EMU_ES]);
	svm_seg_from_vmcb(&hs->cs, &h->seg[EMU_CS]);
	svm_seg_from_vmcb(&hs->ss, &h->seg[EMU_SS]);
	svm_seg_from_vmcb(&hs->ds, &h->seg[EMU_DS]);
	h->gdtr.base = hs->gdtr.base;
	h->gdtr.limit = (uint16_t)hs->gdtr.limit;
	h->idtr.base = hs->idtr.base;
	h->idtr.limit = (uint16_t)hs->idtr.limit;
	h->efer = hs->efer;
	h->cr0 = hs->cr0;
	cpu->host_cr3 = hs->cr3;
	h->cr4 = hs->cr4;
	/* #VMEXIT clears RFLAGS except bit 1 and DR7 is 0x400 (15.6). */
	h->rflags = EMU_FLAG_FIXED;
	h->rip = hs->rip;
	h->gpr[EMU_RSP] = hs->rsp;
	h->gpr[EMU_RAX] = hs->rax;
	cpu->emu.cpu.gpr[EMU_RSP] = hs->rsp;
	cpu->emu.cpu.gpr[EMU_RAX] = hs->rax;
	h->cpl = 0;
	cpu->dr7 = 0x400;
}

/*
 * FS, GS, TR and LDTR are neither loaded by VMRUN nor saved by #VMEXIT
 * (15.5.2): the guest runs with whatever the processor holds, normally
 * what VMLOAD just put there, and after #VMEXIT the processor holds the
 * guest's until VMSAVE/VMLOAD. The model keeps host and guest registers
 * apart, so it copies them across at both transitions.
 */
static void swap_vmload_state(struct emu_cpu *to, const struct emu_cpu *from)
{
	to->seg[EMU_FS] = from->seg[EMU_FS];
	to->seg[EMU_GS] = from->seg[EMU_GS];
	to->tr = from->tr;
	to->ldtr = from->ldtr;
}

/* Step 4: the guest state VMRUN loads (15.5.1). */
static void load_guest(struct hw_cpu *cpu, const struct vmcb_save *s)
{
	struct emu_cpu *c = &cpu->emu.cpu;
	svm_seg_from_vmcb(&s->es, &c->seg[EMU_ES]);
	svm_seg_from_vmcb(&s->cs, &c->seg[EMU_CS]);
	svm_seg_from_vmcb(&s->ss, &c->seg[EMU_SS]);
	svm_seg_from_vmcb(&s->ds, &c->seg[EMU_DS]);
	c->gdtr.base = s->gdtr.base;
	c->gdtr.limit = (uint16_t)s->gdtr.limit;
	c->idtr.base = s->idtr.base;
	c->idtr.limit = (uint16_t)s->idtr.limit;
	c->efer = s->efer;
	c->cr0 = s->cr0;
	cpu->cr2 = s->cr2;
	cpu->cr3 = s->cr3;
	c->cr4 = s->cr4;
	cpu->dr6 = s->dr6;
	cpu->dr7 = s->dr7;
	c->rflags = s->rflags;
	c->rip = s->rip;
	c->gpr[EMU_RSP] = s->rsp;
	c->gpr[EMU_RAX] = s->rax;
	c->cpl = s->cpl;
	/* LMA follows LME and PG (the VMCB EFER's LMA is not trusted). */
	if ((c->efer & EFER_LME) && (c->cr0 & (1ull << 31)))
		c->efer |= EFER_LMA;
	else
		c->efer &= ~EFER_LMA;
}

static void save_guest(struct hw_cpu *cpu, struct vmcb_save *s)
{
	const struct emu_cpu *c = &cpu->emu.cpu;
	svm_seg_to_vmcb(&c->seg[EMU_ES], &s->es);
	svm_seg_to_vmcb(&c->seg[EMU_CS], &s->cs);
	svm_seg_to_vmcb(&c->seg[EMU_SS], &s->ss);
	svm_seg_to_vmcb(&c->seg[EMU_DS], &s->ds);
	s->gdtr.base = c->gdtr.base;
	s->gdtr.limit = c->gdtr.limit;
	s->idtr.base = c->idtr.base;
	s->idtr.limit = c->idtr.limit;
	s->efer = c->efer;
	s->cr0 = c->cr0;
	s->cr2 = cpu->cr2;
	s->cr3 = cpu->cr3;
	s->cr4 = c->cr4;
	s->dr6 = cpu->dr6;
	s->dr7 = cpu->dr7;
	s->rflags = c->rflags;
	s->rip = c->rip;
	s->rsp = c->gpr[EMU_RSP];
	s->rax = c->gpr[EMU_RAX];
	s->cpl = c->cpl;
}

static bool any_entry(const struct hw_tlb_entry *e)
{
	(void)e;
	return true;
}

/* ASID, TLB_CONTROL (15.16) and nested paging (15.25.3). */
static void enter_translation(struct hw_cpu *cpu, const struct vmcb *v)
{
	const struct vmcb_control *c = &cpu->svm_ctl;
	struct hw_nested *n = &cpu->xlat.nst;

	*n = (struct hw_nested){ .kind = HW_NESTED_NONE, .maxphyaddr = HW_MAXPHYADDR };
	if (c->np_enable & SVM_NP_ENABLE) {
		n->kind = HW_NESTED_NPT;
		n->root = c->n_cr3 & ~0xfffull & ((1ull << HW_MAXPHYADDR) - 1);
		n->npt_nxe = cpu->host.efer & EFER_NXE;
		cpu->msr.pat = v->save.g_pat;
	}
	cpu->emu.key_epoch++;	/* a new guest context */
	cpu->xlat.vpid = (uint16_t)c->guest_asid;
	hw_xlat_update(cpu);
	if (cpu->xlat.pg.mode == HW_PAGING_PAE)
		(void)hw_load_pdptes(cpu, cpu->cr3);

	const uint64_t tag = HW_TLB_TAG(0, c->guest_asid, 0);
	switch (c->tlb_control) {
	case SVM_TLB_CONTROL_FLUSH_ALL:
		cpu->cnt.tlb_flushes++;
		hw_tlb_flush_if(&cpu->tlb, any_entry);
		break;
	case SVM_TLB_CONTROL_FLUSH_ASID:
		cpu->cnt.tlb_flushes++;
		hw_tlb_flush_tag(&cpu->tlb, tag, HW_TLB_M_VPID, false);
		break;
	case SVM_TLB_CONTROL_FLUSH_ASID_LOCAL:
		cpu->cnt.tlb_flushes++;
		hw_tlb_flush_tag(&cpu->tlb, tag, HW_TLB_M_VPID, true);
		break;
	default:
		break;
	}
}

/* Step 5: EVENTINJ (15.20). */
static void enter_inject(struct hw_cpu *cpu)
{
	const uint64_t inj = cpu->svm_ctl.eventinj;
	if (!(inj & SVM_EVTINJ_V))
		return;
	const unsigned type = (unsigned)((inj & SVM_EVTINJ_TYPE_MASK) >> SVM_EVTINJ_TYPE_SHIFT);
	struct emu_event ev = {
		.vector = inj & SVM_EVTINJ_VEC_MASK,
		.has_error_code = inj & SVM_EVTINJ_EV,
		.error_code = (uint32_t)(inj >> SVM_EVTINJ_ERR_SHIFT),
	};
	/* SVM's types: 0 INTR, 2 NMI, 3 exception, 4 software interrupt;
	 * an injected #BP/#OF is an exception (the APM has no separate
	 * software-exception type). */
	ev.type = type == 0 ? EMU_EVENT_TYPE_EXT_INT : type == 2 ? EMU_EVENT_TYPE_NMI :
		  type == 4 ? EMU_EVENT_TYPE_SOFT_INT : EMU_EVENT_TYPE_HW_EXC;
	cpu->ev.halted = false;
	/* With NRIP save, an injected software interrupt (and #BP/#OF, the
	 * APM's exception types 3 and 4) returns to the VMCB's NextRIP,
	 * which the hypervisor took from the exit that it re-injects
	 * (15.20 with 15.7.1); a fault while delivering it, and an exit,
	 * leave RIP at the instruction. */
	const uint64_t rip = cpu->emu.cpu.rip;
	if (ev.type == EMU_EVENT_TYPE_SOFT_INT ||
	    (ev.type == EMU_EVENT_TYPE_HW_EXC && (ev.vector == EMU_EXC_BP || ev.vector == EMU_EXC_OF)))
		cpu->emu.cpu.rip = cpu->svm_ctl.next_rip;
	const int r = hw_inject(cpu, ev, rip);
	if (r == EMU_STOP && cpu->exit.pending)
		cpu->emu.cpu.rip = rip;
	if (r == EMU_UNHANDLEABLE)
		hw_unsupported(cpu, cpu->emu.unhandleable);
}

/* Step 6: #VMEXIT (15.6). */
static void vmexit(struct hw_cpu *cpu, struct vmcb *v, const struct vmcb_save *hs)
{
	struct vmcb_control *c = &v->control;
	const struct hw_exit *x = &cpu->exit;

	save_guest(cpu, &v->save);
	c->exitcode = x->reason;
	c->exitinfo1 = x->qual;
	c->exitinfo2 = x->info2;
	c->next_rip = x->insn_len ? cpu->emu.cpu.rip + x->insn_len : 0;
	c->exitintinfo = 0;
	if (cpu->vectoring.valid) {
		const struct emu_event *ev = &cpu->vectoring.ev;
		const uint64_t t = ev->type == EMU_EVENT_TYPE_EXT_INT ? 0 :
				   ev->type == EMU_EVENT_TYPE_NMI ? 2 :
				   ev->type == EMU_EVENT_TYPE_SOFT_INT ? 4 : 3;
		c->exitintinfo = ev->vector | (t << SVM_EVTINJ_TYPE_SHIFT) | SVM_EVTINJ_V |
				 (ev->has_error_code ? SVM_EVTINJ_EV |
				  ((uint64_t)ev->error_code << SVM_EVTINJ_ERR_SHIFT) : 0);
	}
	c->eventinj &= ~SVM_EVTINJ_V;
	c->int_state = (hw_shadow(cpu) ? SVM_INTERRUPT_SHADOW : 0) |
		       ((cpu->emu.cpu.rflags & EMU_FLAG_IF) ? SVM_GUEST_INTERRUPT_MASK : 0);
	c->v_irq = cpu->svm_ctl.v_irq;
	c->v_tpr = (uint8_t)(cpu->cr8 & SVM_V_TPR_MASK);
	swap_vmload_state(&cpu->host, &cpu->emu.cpu);
	load_host(cpu, hs);
	cpu->svm.gif = false;
	cpu->guest = HW_HOST;
}

int vmrun(struct hw_cpu *cpu, hpa_t vmcb)
{
	int st = svm_insn_check(cpu);
	if (st == SVM_OK)
		st = svm_vmcb_addr_check(cpu, vmcb);
	if (st == SVM_OK)
		st = svm_vmcb_addr_check(cpu, cpu->msr.vm_hsave_pa);
	if (st != SVM_OK)
		return st;
	struct vmcb *v = hw_hpa_ptr(cpu->m, vmcb, sizeof(*v));
	struct vmcb_save *hs = hw_hpa_ptr(cpu->m, cpu->msr.vm_hsave_pa, sizeof(*hs));
	const char *why;

	save_host(cpu, hs);
	if (svm_vmrun_check(cpu, v, &why)) {
		cpu->cnt.failed_entries++;
		v->control.exitcode = SVM_EXIT_INVALID;
		v->control.exitinfo1 = v->control.exitinfo2 = 0;
		load_host(cpu, hs);
		return SVM_OK;
	}
	memcpy(&cpu->svm_ctl, &v->control, sizeof(cpu->svm_ctl));
	cpu->guest = HW_GUEST_SVM;
	load_guest(cpu, &v->save);
	swap_vmload_state(&cpu->emu.cpu, &cpu->host);
	cpu->cr8 = v->control.v_tpr & SVM_V_TPR_MASK;
	enter_translation(cpu, v);
	cpu->ev.shadow = (v->control.int_state & SVM_INTERRUPT_SHADOW) ? HW_SHADOW_STI : 0;
	cpu->ev.shadow_at = cpu->emu.icount;
	cpu->ev.halted = false;
	cpu->ev.shutdown = false;
	cpu->svm.gif = true;
	cpu->exit.pending = false;
	cpu->vectoring.valid = false;
	cpu->unsupported = NULL;
	cpu->cnt.entries++;

	enter_inject(cpu);
	hw_guest_run(cpu);
	/* A fired host timer is the host's own interrupt: the host takes it
	 * as soon as it runs again with interrupts enabled (hw.h). */
	cpu->ev.timer = false;

	if (cpu->exit.pending) {
		cpu->cnt.exits++;
		cpu->cnt.exit[hw_exit_slot(cpu->exit.reason)]++;
	}
	vmexit(cpu, v, hs);
	return cpu->unsupported ? SVM_MODEL_UNSUPPORTED : SVM_OK;
}
