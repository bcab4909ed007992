/*
 * walk.c — see walk.h: hvlab's side of the shared walker. It turns the
 * vcpu's registers into a struct gwalk_cfg and the memslots into a
 * struct gwalk_mem; the walk itself is mmu/gwalk_tmpl.h.
 *
 *   register / CPUID                       walker input
 *   CR0.PG, EFER.LMA, CR4.PAE              mode: off, 32-bit, PAE, 4-level
 *   CR3                                    root (PCID in 11:0 with CR4.PCIDE)
 *   CR0.WP, CR4.PSE/SMEP/SMAP, EFER.NXE    the rights rules
 *   CPUID 8000_0008H:EAX[7:0]              MAXPHYADDR (vcpu_maxphyaddr)
 *   CPUID 8000_0001H:EDX[26]               1 GiB pages (4.5.4: else PS is
 *                                          reserved in a PDPTE)
 *   RFLAGS.AC, and the access not implicit SMAP lifted (GWALK_ACC_NO_SMAP)
 *
 * Flag updates and the rest of the system. An A/D update is a write to
 * guest memory made on the guest's behalf, so it is told where every
 * write to RAM is told: the dirty log (vm_mark_dirty) and the processor's
 * decoded code (backend hpa_written: a page table can share a page with
 * code). It is not told to the MMU's track_write: the walker runs inside
 * the MMU's own fault path, and setting A or D only adds to what a gpte
 * allows — a shadow entry built from the old value (read-only until
 * dirty) stays as strict as the guest asked, and its next write fault
 * walks again. (KVM's walker does the same: mark_page_dirty, no write
 * tracking.)
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "core/cpuid.h"
#include "core/cr.h"
#include "core/vm.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"

#define RFLAGS_AC (1ull << 18)
#define CPUID_80000001_EDX_PAGE1GB (1u << 26)

static_assert(HV_ACC_WRITE == GWALK_ACC_WRITE && HV_ACC_USER == GWALK_ACC_USER &&
	      HV_ACC_FETCH == GWALK_ACC_FETCH, "HV_ACC_* must be the walker's access bits");
static_assert(!(MMU_ACC_IMPLICIT & (GWALK_ACC_WRITE | GWALK_ACC_USER | GWALK_ACC_FETCH |
				    GWALK_ACC_NO_SMAP | GWALK_ACC_PEEK)),
	      "MMU_ACC_IMPLICIT collides with a walker access bit");

static struct hv_vm *mem_vm(const struct gwalk_mem *mem)
{
	return container_of(mem, struct mmu_walk_mem, mem)->vm;
}

static uint64_t mem_read(const struct gwalk_mem *mem, gpa_t gpa, unsigned size)
{
	const void *p = vm_gpa_ptr(mem_vm(mem), gpa, size);
	if (size == 4)
		return p ? __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE) : 0xffffffffull;
	return p ? __atomic_load_n((const uint64_t *)p, __ATOMIC_ACQUIRE) : ~0ull;
}

static int mem_cmpxchg(const struct gwalk_mem *mem, gpa_t gpa, unsigned size, uint64_t *old,
		       uint64_t new)
{
	struct hv_vm *vm = mem_vm(mem);
	struct hv_memslot *s = vm_slot_of(vm, gpa_to_gfn(gpa));
	if (!s || (s->flags & HV_MEM_READONLY))
		return 0;		/* the write goes nowhere */
	const hpa_t hpa = slot_gfn_to_hpa(s, gpa_to_gfn(gpa)) + (gpa & (HV_PAGE_SIZE - 1));
	void *p = vm_hpa_ptr(vm, hpa);
	bool ok;
	if (size == 4) {
		uint32_t o = (uint32_t)*old;
		ok = __atomic_compare_exchange_n((uint32_t *)p, &o, (uint32_t)new, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		*old = o;
	} else {
		ok = __atomic_compare_exchange_n((uint64_t *)p, old, new, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	}
	if (!ok)
		return -EAGAIN;
	vm->backend->hpa_written(vm, hpa, size);
	vm_mark_dirty(vm, s, gpa_to_gfn(gpa));
	return 0;
}

void mmu_walk_mem_init(struct mmu_walk_mem *m, struct hv_vm *vm)
{
	m->mem.read = mem_read;
	m->mem.cmpxchg = mem_cmpxchg;
	m->vm = vm;
}

static bool guest_has_1g_pages(struct hv_vcpu *vcpu)
{
	uint32_t r[4];
	guest_cpuid(vcpu, 0x80000000, 0, r);
	if (r[0] < 0x80000001)
		return false;
	guest_cpuid(vcpu, 0x80000001, 0, r);
	return r[3] & CPUID_80000001_EDX_PAGE1GB;
}

bool mmu_walk_cfg(struct hv_vcpu *vcpu, struct gwalk_cfg *cfg)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	const uint64_t cr0 = be->get_cr(vcpu, 0), cr4 = be->get_cr(vcpu, 4);
	const uint64_t efer = be->get_efer(vcpu);

	memset(cfg, 0, sizeof(*cfg));
	if (!(cr0 & CR0_PG))
		return false;
	cfg->mode = (efer & EFER_LMA) ? GWALK_64 : (cr4 & CR4_PAE) ? GWALK_PAE : GWALK_32;
	cfg->root = be->get_cr(vcpu, 3);
	cfg->maxphyaddr = (uint8_t)vcpu_maxphyaddr(vcpu);
	cfg->wp = cr0 & CR0_WP;
	cfg->pse = cr4 & CR4_PSE;
	cfg->nxe = efer & EFER_NXE;
	cfg->smep = cr4 & CR4_SMEP;
	cfg->smap = cr4 & CR4_SMAP;
	cfg->pcide = cfg->mode == GWALK_64 && (cr4 & CR4_PCIDE);
	cfg->gbpages = cfg->mode == GWALK_64 && guest_has_1g_pages(vcpu);
	if (cfg->mode == GWALK_PAE) {
		const struct hv_mmu_ops *mmu = vcpu->vm->mmu;
		if (!mmu->get_pdptes || !mmu->get_pdptes(vcpu, cfg->pdpte))
			mmu_read_pdptes(vcpu, cfg->root, cfg->pdpte);
	}
	return true;
}

void mmu_read_pdptes(struct hv_vcpu *vcpu, uint64_t cr3, uint64_t pdpte[4])
{
	struct mmu_walk_mem m;
	mmu_walk_mem_init(&m, vcpu->vm);
	const gpa_t pdpt = cr3 & 0xffffffe0ull;		/* CR3[31:5], 4.4.1 */
	for (unsigned i = 0; i < 4; i++)
		pdpte[i] = mem_read(&m.mem, pdpt + 8 * i, 8);
}

int mmu_walk_gva(struct hv_vcpu *vcpu, gva_t gva, uint32_t access, struct gwalk *w)
{
	struct gwalk_cfg cfg;
	if (!mmu_walk_cfg(vcpu, &cfg)) {
		memset(w, 0, sizeof(*w));
		const bool lma = vcpu->vm->backend->get_efer(vcpu) & EFER_LMA;
		w->gpa = lma ? gva : (uint32_t)gva;
		w->page_shift = 12;
		w->rights = GWALK_R | GWALK_W | GWALK_X | GWALK_U;
		w->dirty = true;
		return 0;
	}
	unsigned acc = access & (GWALK_ACC_WRITE | GWALK_ACC_USER | GWALK_ACC_FETCH |
				 GWALK_ACC_PEEK);
	/* SDM 4.6: AC = 1 lets an explicit supervisor data access reach
	 * user pages under SMAP; implicit ones never. */
	if (!(access & (HV_ACC_USER | HV_ACC_FETCH | MMU_ACC_IMPLICIT)) && cfg.smap &&
	    (vcpu->vm->backend->get_rflags(vcpu) & RFLAGS_AC))
		acc |= GWALK_ACC_NO_SMAP;
	struct mmu_walk_mem m;
	mmu_walk_mem_init(&m, vcpu->vm);
	return gwalk(&cfg, &m.mem, gva, acc, w);
}

int mmu_walk_guest(struct hv_vcpu *vcpu, gva_t gva, uint32_t access, gpa_t *gpa,
		   struct mmu_walk_fault *f)
{
	struct gwalk w;
	if (mmu_walk_gva(vcpu, gva, access, &w)) {
		f->error_code = w.error_code;
		return -EFAULT;
	}
	*gpa = w.gpa;
	return 0;
}
