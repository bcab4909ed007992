/*
 * walk.c — see walk.h. One loop serves the three guest formats; a small
 * table says how each level indexes and what its entries look like:
 *
 *   mode      levels  entry  index bits per level   large pages at
 *   32-bit    2       4 B    10 (31:22, 21:12)      PDE with CR4.PSE (4 MiB,
 *                                                   PSE-36 bits 20:13 -> 39:32)
 *   PAE       3       8 B    2 (PDPTE), 9, 9        PDE (2 MiB)
 *   4-level   4       8 B    9, 9, 9, 9             PDPTE (1 GiB), PDE (2 MiB)
 *
 * Permissions combine over the levels (SDM Vol. 3A 4.6.1): writable if
 * every R/W is 1, user if every U/S is 1, executable unless some XD is
 * 1 (with EFER.NXE). PAE PDPTEs carry no permission bits.
 */
#include <errno.h>
#include <string.h>

#include "core/cpuid.h"
#include "core/cr.h"
#include "core/vm.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)
#define RFLAGS_AC (1ull << 18)

struct walk_mode {
	unsigned levels;
	unsigned entry_size;
	bool nx;		/* EFER.NXE applies */
	bool pae;		/* 8-byte entries with reserved-bit checks */
};

static uint64_t read_entry(struct hv_vm *vm, gpa_t gpa, unsigned size)
{
	const void *p = vm_gpa_ptr(vm, gpa, size);
	uint64_t v = ~0ull;
	if (p) {
		v = 0;
		memcpy(&v, p, size);
	}
	return v;
}

int mmu_walk_guest(struct hv_vcpu *vcpu, gva_t gva, uint32_t access, gpa_t *gpa,
		   struct mmu_walk_fault *f)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	const uint64_t cr0 = be->get_cr(vcpu, 0), cr4 = be->get_cr(vcpu, 4);
	const uint64_t efer = be->get_efer(vcpu);
	const bool user = access & HV_ACC_USER, write = access & HV_ACC_WRITE;
	const bool fetch = access & HV_ACC_FETCH;

	if (!(cr0 & CR0_PG)) {
		*gpa = (efer & EFER_LMA) ? gva : (uint32_t)gva;
		return 0;
	}
	struct walk_mode m;
	if (efer & EFER_LMA)
		m = (struct walk_mode){ 4, 8, efer & EFER_NXE, true };
	else if (cr4 & CR4_PAE)
		m = (struct walk_mode){ 3, 8, efer & EFER_NXE, true };
	else
		m = (struct walk_mode){ 2, 4, false, false };

	const uint64_t addr_mask = ((1ull << vcpu_maxphyaddr(vcpu)) - 1) & ~0xfffull;
	/* Reserved: physical bits above MAXPHYADDR, and XD without NXE. */
	const uint64_t rsvd = m.pae ? (~addr_mask & 0x000ffffffffff000ull) |
				      (m.nx ? 0 : PTE_XD) : 0;
	uint32_t err = (write ? PFERR_W : 0) | (user ? PFERR_U : 0) |
		       (fetch && (m.nx || (cr4 & CR4_SMEP)) ? PFERR_I : 0);
	bool w = true, u = true, x = true;
	uint64_t table = be->get_cr(vcpu, 3) & (m.pae ? addr_mask : 0xfffff000ull);

	if (m.levels == 3) {
		/* PAE: the PDPTE register file, loaded from CR3[31:5]. */
		const gpa_t pdpte_gpa = (be->get_cr(vcpu, 3) & 0xffffffe0ull) + ((gva >> 30) & 3) * 8;
		const uint64_t pdpte = read_entry(vcpu->vm, pdpte_gpa, 8);
		if (!(pdpte & PTE_P))
			goto fault;
		if (pdpte & (rsvd | 0x1e6ull | PTE_XD)) {
			err |= PFERR_RSVD | PFERR_P;
			goto fault;
		}
		table = pdpte & addr_mask;
		m.levels = 2;
	}
	for (unsigned level = m.levels; level >= 1; level--) {
		const unsigned bits = m.entry_size == 4 ? 10 : 9;
		const unsigned shift = 12 + bits * (level - 1);
		const uint64_t idx = (gva >> shift) & ((1u << bits) - 1);
		const uint64_t e = read_entry(vcpu->vm, table + idx * m.entry_size, m.entry_size);
		if (!(e & PTE_P))
			goto fault;
		const bool large = level > 1 && (e & PTE_PS) &&
				   (m.pae || (cr4 & CR4_PSE)) && !(m.levels == 4 && level == 4);
		uint64_t r = rsvd;
		if (m.levels == 4 && level == 4)
			r |= PTE_PS;
		if (large && m.pae)
			r |= ((1ull << (shift)) - 1) & ~0x1fffull;	/* PAT bit 12 is allowed */
		if (e & r) {
			err |= PFERR_RSVD | PFERR_P;
			goto fault;
		}
		w &= !!(e & PTE_W);
		u &= !!(e & PTE_U);
		if (m.nx && (e & PTE_XD))
			x = false;
		if (level == 1 || large) {
			uint64_t base;
			if (!m.pae && large)	/* 4 MiB: PSE-36 high bits in 20:13 */
				base = (e & 0xffc00000ull) | ((e >> 13) & 0xffull) << 32;
			else
				base = e & addr_mask & ~((1ull << shift) - 1);
			*gpa = base | (gva & ((1ull << shift) - 1));
			break;
		}
		table = e & (m.pae ? addr_mask : 0xfffff000ull);
	}
	err |= PFERR_P;		/* from here on, faults are protection faults */
	if (user) {
		if (!u || (write && !w) || (fetch && !x))
			goto fault;
	} else {
		if (write && !w && (cr0 & CR0_WP))
			goto fault;
		if (fetch && (!x || (u && (cr4 & CR4_SMEP))))
			goto fault;
		if (!fetch && u && (cr4 & CR4_SMAP) && !(be->get_rflags(vcpu) & RFLAGS_AC))
			goto fault;
	}
	return 0;
fault:
	f->error_code = err;
	return -EFAULT;
}
