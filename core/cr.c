/*
 * cr.c — see cr.h. The checks, in the order the SDM lists them for MOV
 * to CR0/CR3/CR4 (Vol. 2B "MOV—Move to/from Control Registers",
 * Protected Mode Exceptions) and WRMSR EFER (Vol. 3A 2.2.1, 10.8.5):
 *
 *   CR0  bits 63:32 set                                 #GP(0)
 *        PG = 1 and PE = 0; NW = 1 and CD = 0           #GP(0)
 *        PG 0->1 with EFER.LME = 1 and CR4.PAE = 0      #GP(0)
 *        PG 1->0 in 64-bit mode or with CR4.PCIDE = 1   #GP(0)
 *   CR3  bits above MAXPHYADDR (63 is PCID's no-flush)  #GP(0)
 *        (IA-32e mode; MAXPHYADDR from the guest's CPUID)
 *   CR4  a reserved or unadvertised bit                 #GP(0)
 *        PAE 1->0 with EFER.LMA = 1                     #GP(0)
 *        PCIDE 0->1 outside IA-32e mode or CR3[11:0]≠0  #GP(0)
 *   EFER reserved bits, NXE without NX, LME change      #GP(0)
 *        while CR0.PG = 1
 *
 * The paging mode is CR0.PG/WP, CR4.PAE/PSE/PGE/SMEP/SMAP/PCIDE and
 * EFER.NXE/LMA: a change of any of them resets the MMU context.
 */
#include <errno.h>

#include "core/mmu_call.h"
#include "core/cpuid.h"
#include "core/cr.h"
#include "core/irq/irq.h"
#include "core/vm.h"
#include "mmu/mmu.h"

#define CR0_PAGING_BITS (CR0_PG | CR0_WP | CR0_PE)
#define CR4_PAGING_BITS (CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP)

uint64_t vcpu_cr4_valid(struct hv_vcpu *vcpu)
{
	uint32_t l1[4], l7[4];
	guest_cpuid(vcpu, 1, 0, l1);
	guest_cpuid(vcpu, 7, 0, l7);
	/* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT always. */
	uint64_t v = 0x7ff;
	if (l1[2] & (1u << 17))
		v |= CR4_PCIDE;
	if (l7[1] & (1u << 7))
		v |= CR4_SMEP;
	if (l7[1] & (1u << 20))
		v |= CR4_SMAP;
	if (l7[2] & (1u << 2))
		v |= 1ull << 11;	/* UMIP */
	if (l7[1] & (1u << 0))
		v |= 1ull << 16;	/* FSGSBASE */
	return v;
}

static bool in_long_mode(struct hv_vcpu *vcpu)
{
	return vcpu->vm->backend->get_efer(vcpu) & EFER_LMA;
}

static bool in_64bit_mode(struct hv_vcpu *vcpu)
{
	struct hv_segment cs;
	if (!in_long_mode(vcpu))
		return false;
	vcpu->vm->backend->get_segment(vcpu, HV_SEG_CS, &cs);
	return cs.l;
}

static int set_cr0(struct hv_vcpu *vcpu, uint64_t val)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	const uint64_t old = be->get_cr(vcpu, 0);
	if (val >> 32)
		return -EINVAL;
	if ((val & CR0_PG) && !(val & CR0_PE))
		return -EINVAL;
	if ((val & CR0_NW) && !(val & CR0_CD))
		return -EINVAL;
	const uint64_t efer = be->get_efer(vcpu);
	const uint64_t cr4 = be->get_cr(vcpu, 4);
	if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME) && !(cr4 & CR4_PAE))
		return -EINVAL;
	if (!(val & CR0_PG) && (old & CR0_PG) && (in_64bit_mode(vcpu) || (cr4 & CR4_PCIDE)))
		return -EINVAL;
	val |= CR0_ET;		/* hardwired to 1 since the i486 */
	be->set_cr(vcpu, 0, val);
	if ((old ^ val) & CR0_PAGING_BITS)
		mmu_reset_context(vcpu);
	return 0;
}

static int set_cr4(struct hv_vcpu *vcpu, uint64_t val)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	const uint64_t old = be->get_cr(vcpu, 4);
	if (val & ~vcpu_cr4_valid(vcpu))
		return -EINVAL;
	if (in_long_mode(vcpu) && !(val & CR4_PAE))
		return -EINVAL;
	if ((val & CR4_PCIDE) && !(old & CR4_PCIDE) &&
	    (!in_long_mode(vcpu) || (be->get_cr(vcpu, 3) & 0xfff)))
		return -EINVAL;
	be->set_cr(vcpu, 4, val);
	if ((old ^ val) & CR4_PAGING_BITS)
		mmu_reset_context(vcpu);
	return 0;
}

static int set_cr3(struct hv_vcpu *vcpu, uint64_t val)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	const bool pcide = be->get_cr(vcpu, 4) & CR4_PCIDE;
	uint64_t v = pcide ? val & ~(1ull << 63) : val;
	if (in_long_mode(vcpu) && (v >> vcpu_maxphyaddr(vcpu)))
		return -EINVAL;
	be->set_cr(vcpu, 3, v);
	vcpu->vm->stats.cr3_switches++;
	mmu_new_cr3(vcpu, v);
	return 0;
}

int vcpu_set_cr(struct hv_vcpu *vcpu, unsigned cr, uint64_t val)
{
	switch (cr) {
	case 0:
		return set_cr0(vcpu, val);
	case 2:
		vcpu->vm->backend->set_cr(vcpu, 2, val);
		return 0;
	case 3:
		return set_cr3(vcpu, val);
	case 4:
		return set_cr4(vcpu, val);
	case 8:
		if (val >> 4)
			return -EINVAL;
		irq_set_cr8(vcpu, val);
		return 0;
	default:
		return -EINVAL;
	}
}

uint64_t vcpu_get_cr(struct hv_vcpu *vcpu, unsigned cr)
{
	if (cr == 8)
		return irq_get_cr8(vcpu);
	return vcpu->vm->backend->get_cr(vcpu, cr);
}

int vcpu_set_efer(struct hv_vcpu *vcpu, uint64_t efer)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	const uint64_t old = be->get_efer(vcpu);
	uint32_t ext[4];
	guest_cpuid(vcpu, 0x80000001, 0, ext);
	uint64_t valid = EFER_SCE | EFER_LME | EFER_LMA;
	if (ext[3] & (1u << 20))
		valid |= EFER_NXE;
	if (efer & ~valid)
		return -EINVAL;
	if ((be->get_cr(vcpu, 0) & CR0_PG) && ((old ^ efer) & EFER_LME))
		return -EINVAL;
	/* LMA is the processor's to set: a write keeps the current value. */
	efer = (efer & ~EFER_LMA) | (old & EFER_LMA);
	be->set_efer(vcpu, efer);
	if ((old ^ efer) & (EFER_NXE | EFER_LMA))
		mmu_reset_context(vcpu);
	return 0;
}
