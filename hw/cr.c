/*
 * cr.c — what writing a control register does to translation: the
 * paging configuration, PAE PDPTE loads and the TLB invalidations of
 * SDM Vol. 3A 4.10.4.1 (the engine has already made the architectural
 * #GP checks that do not depend on the model: emulate/exec_cr.c).
 *
 * Invalidations touch only the current VPID/ASID's entries, and for
 * combined mappings every EP4TA of it (SDM Vol. 3C 29.4.3.1: in VMX
 * non-root operation INVLPG, INVPCID and MOV to CR0/CR3/CR4 invalidate
 * "mappings associated with the current VPID ... for combined mappings,
 * all EP4TAs").
 *
 *   operation                               drops
 *   MOV CR0 changing PG or WP (*)           everything of this VPID, globals too
 *   MOV CR3, PCIDE = 0                      non-global entries of PCID 0
 *   MOV CR3, PCIDE = 1, bit 63 = 0          non-global entries of the new PCID
 *   MOV CR3, PCIDE = 1, bit 63 = 1          nothing
 *   MOV CR4 changing PGE, PAE, PSE, SMEP,
 *     SMAP, or PCIDE 1 -> 0 (*)             everything of this VPID, globals too
 *   INVLPG                                  entries for the page, any PCID's
 *                                           globals and the current PCID's others
 *   INVPCID 0 / 1 / 2 / 3                   address+PCID non-global / PCID
 *                                           non-global / all incl. globals /
 *                                           all non-global
 *
 * (*) The SDM requires the flush for PG and for the listed CR4 bits; the
 * model also flushes on WP and SMAP changes, which the SDM allows (a
 * processor may invalidate more than required) and which keeps the rule
 * one line.
 */
#include "hw/cr.h"

#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR3_NOFLUSH (1ull << 63)

static const uint64_t vpid_mask = HW_TLB_M_VPID;
static const uint64_t vpid_pcid_mask = HW_TLB_M_VPID | HW_TLB_M_PCID;

void hw_flush_vpid(struct hw_cpu *cpu, bool keep_global)
{
	cpu->cnt.tlb_flushes++;
	hw_tlb_flush_tag(&cpu->tlb, cpu->xlat.tag, vpid_mask, keep_global);
}

/* EFER.LMA follows CR0.PG && EFER.LME (SDM Vol. 3A 9.8.5). */
static void update_lma(struct emu_cpu *c)
{
	if ((c->cr0 & CR0_PG) && (c->efer & EFER_LME))
		c->efer |= EFER_LMA;
	else
		c->efer &= ~EFER_LMA;
}

int hw_set_cr0(struct hw_cpu *cpu, uint64_t val)
{
	struct emu_cpu *c = &cpu->emu.cpu;
	const uint64_t old = c->cr0;
	/* PAE paging being enabled, or CD/NW changing under it, loads the
	 * PDPTEs (SDM 4.4.1). */
	const bool pae = (val & CR0_PG) && (c->cr4 & CR4_PAE) && !(c->efer & EFER_LME);
	const bool pae_paging_on = pae && (!(old & CR0_PG) || ((old ^ val) & (CR0_CD | CR0_NW)));
	if (pae_paging_on) {
		/* Enabling PAE paging loads the PDPTEs (SDM 4.4.1). */
		int r = hw_load_pdptes(cpu, cpu->cr3);
		if (r != EMU_CONTINUE)
			return r;
	}
	c->cr0 = val;
	update_lma(c);
	hw_xlat_update(cpu);
	if ((old ^ val) & (CR0_PG | CR0_WP))
		hw_flush_vpid(cpu, false);
	return EMU_CONTINUE;
}

int hw_set_cr3(struct hw_cpu *cpu, uint64_t val)
{
	struct emu_cpu *c = &cpu->emu.cpu;
	const bool pcide = c->cr4 & CR4_PCIDE;
	const bool noflush = pcide && (val & CR3_NOFLUSH);

	val &= ~CR3_NOFLUSH;
	/* Bits above MAXPHYADDR are reserved (#GP(0)). */
	if (val >> 46)
		return emu_raise(&cpu->emu, EMU_EXC_GP, true, 0);
	if (cpu->xlat.pg.mode == HW_PAGING_PAE) {
		int r = hw_load_pdptes(cpu, val);
		if (r != EMU_CONTINUE)
			return r;
	}
	cpu->cr3 = val;
	hw_xlat_update(cpu);
	if (!noflush) {
		cpu->cnt.tlb_flushes++;
		hw_tlb_flush_tag(&cpu->tlb, cpu->xlat.tag, vpid_pcid_mask, true);
	}
	return EMU_CONTINUE;
}

int hw_set_cr4(struct hw_cpu *cpu, uint64_t val)
{
	struct emu_cpu *c = &cpu->emu.cpu;
	const uint64_t old = c->cr4;
	const uint64_t changed = old ^ val;

	if ((changed & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)) && (c->cr0 & CR0_PG) &&
	    (val & CR4_PAE) && !(c->efer & EFER_LMA)) {
		/* PAE paging (re)configured: reload the PDPTEs (SDM 4.4.1). */
		int r = hw_load_pdptes(cpu, cpu->cr3);
		if (r != EMU_CONTINUE)
			return r;
	}
	c->cr4 = val;
	hw_xlat_update(cpu);
	if ((changed & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP)) ||
	    ((changed & CR4_PCIDE) && !(val & CR4_PCIDE)))
		hw_flush_vpid(cpu, false);
	return EMU_CONTINUE;
}

void hw_invlpg(struct hw_cpu *cpu, uint64_t la)
{
	cpu->cnt.tlb_flushes++;
	hw_tlb_flush_addr(&cpu->tlb, la, cpu->xlat.tag, vpid_pcid_mask, false);
}

void hw_invpcid(struct hw_cpu *cpu, unsigned type, uint64_t pcid, uint64_t la)
{
	const uint64_t tag = HW_TLB_TAG_NO_PCID(cpu->xlat.tag) | pcid;
	cpu->cnt.tlb_flushes++;
	switch (type) {
	case 0:
		hw_tlb_flush_addr(&cpu->tlb, la, tag, vpid_pcid_mask, true);
		break;
	case 1:
		hw_tlb_flush_tag(&cpu->tlb, tag, vpid_pcid_mask, true);
		break;
	case 2:
		hw_tlb_flush_tag(&cpu->tlb, tag, vpid_mask, false);
		break;
	default:
		hw_tlb_flush_tag(&cpu->tlb, tag, vpid_mask, true);
		break;
	}
}

void hw_efer_changed(struct hw_cpu *cpu)
{
	update_lma(&cpu->emu.cpu);
	hw_xlat_update(cpu);
	cpu->emu.key_epoch++;	/* NXE decides fetch rights */
}
