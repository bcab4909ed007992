/*
 * xlat.c — linear-address translation for the code running now: the
 * paging configuration derived from the control registers, PAE PDPTE
 * loading, and the TLB-then-walk path every memory access takes.
 *
 * A TLB hit is used only when the cached rights allow the access as it
 * is (including a write to a page whose dirty flags are already set);
 * anything else walks the tables again, which sets A/D flags or finds
 * the fault with its exact error code. Re-walking on a would-be fault is
 * allowed: a processor may always ignore a TLB entry and walk (SDM Vol.
 * 3A 4.10.2.3), and it invalidates the entry of a faulting address
 * (4.10.4.1), which the fill or flush below does.
 */
#include "hw/exec.h"
#include "hw/dcode.h"

#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_NXE_BIT (1ull << 11)

/* Exit codes for nested faults (SDM Vol. 3D Appendix C; APM Appendix C). */
#define VMX_REASON_EPT_VIOLATION 48
#define VMX_REASON_EPT_MISCONFIG 49
#define SVM_CODE_NPF 0x400

void hw_xlat_update(struct hw_cpu *cpu)
{
	const struct emu_cpu *c = &cpu->emu.cpu;
	struct hw_paging *pg = &cpu->xlat.pg;

	if (!(c->cr0 & CR0_PG))
		pg->mode = HW_PAGING_NONE;
	else if (!(c->cr4 & CR4_PAE))
		pg->mode = HW_PAGING_32;
	else if (c->efer & EMU_EFER_LMA)
		pg->mode = HW_PAGING_4LEVEL;
	else
		pg->mode = HW_PAGING_PAE;
	pg->cr3 = cpu->cr3;
	pg->wp = c->cr0 & CR0_WP;
	pg->pse = c->cr4 & CR4_PSE;
	pg->nxe = c->efer & EFER_NXE_BIT;
	pg->smep = c->cr4 & CR4_SMEP;
	pg->smap = c->cr4 & CR4_SMAP;
	pg->pcide = pg->mode == HW_PAGING_4LEVEL && (c->cr4 & CR4_PCIDE);
	pg->maxphyaddr = HW_MAXPHYADDR;
	pg->no_1g_pages = !cpu->m->cfg.features.page1gb;

	const uint64_t ep4ta = cpu->xlat.nst.kind == HW_NESTED_EPT ? cpu->xlat.nst.root : 0;
	const uint64_t pcid = pg->pcide ? cpu->cr3 & HW_TLB_PCID_MASK : 0;
	const uint64_t tag = HW_TLB_TAG(ep4ta, cpu->xlat.vpid, pcid);
	/* The front TLB is not tagged: it serves one address space. */
	if (tag != cpu->xlat.tag)
		hw_tlb_front_clear(&cpu->tlb);
	cpu->xlat.tag = tag;
}

/* PDPTE reserved bits (SDM 4.4.1, Table 4-8): 2:1, 8:5, 63:MAXPHYADDR. */
#define PDPTE_RSVD (0x1e6ull | (~0ull << HW_MAXPHYADDR))

int hw_load_pdptes(struct hw_cpu *cpu, uint64_t cr3)
{
	struct hw_walk w;
	const gpa_t base = cr3 & 0xffffffe0ull;
	uint64_t pdpte[4];

	/* The four entries are one 32-byte aligned block: one page. */
	if (hw_walk_gpa(cpu->m, &cpu->xlat.nst, base, 0, &w, &cpu->cnt) != HW_WALK_OK)
		return hw_exit_nested(cpu, &w, 0);
	const uint64_t *p = hw_hpa_ptr(cpu->m, w.hpa, sizeof(pdpte));
	for (unsigned i = 0; i < 4; i++) {
		pdpte[i] = p ? __atomic_load_n(&p[i], __ATOMIC_RELAXED) : ~0ull;
		if ((pdpte[i] & 1) && (pdpte[i] & PDPTE_RSVD))
			return emu_raise(&cpu->emu, EMU_EXC_GP, true, 0);
	}
	for (unsigned i = 0; i < 4; i++)
		cpu->xlat.pg.pdpte[i] = pdpte[i];
	return EMU_CONTINUE;
}

/* The walker's view of an engine access at the current CPL and AC. */
static unsigned walk_acc(const struct hw_cpu *cpu, unsigned acc)
{
	unsigned a = 0;
	if (acc & EMU_ACC_WRITE)
		a |= HW_ACC_WRITE;
	if (acc & EMU_ACC_FETCH)
		a |= HW_ACC_FETCH;
	if (cpu->emu.cpu.cpl == 3) {
		if (!(acc & EMU_ACC_SYS))
			a |= HW_ACC_USER;
	} else if ((cpu->emu.cpu.rflags & EMU_FLAG_AC) && !(acc & EMU_ACC_SYS)) {
		/* AC lifts SMAP for explicit accesses only (SDM 4.6). */
		a |= HW_ACC_NO_SMAP;
	}
	return a;
}

/* May a TLB entry with @rights serve access @a without a walk? */
static bool tlb_allows(const struct hw_cpu *cpu, unsigned rights, unsigned a)
{
	if (a & HW_ACC_WRITE) {
		if ((rights & (HW_R_DIRTY | HW_R_NW)) != HW_R_DIRTY)
			return false;
	} else if (a & HW_ACC_FETCH) {
		if (rights & HW_R_NX)
			return false;
	} else if (rights & HW_R_NR) {
		return false;
	}
	return hw_access_fault(&cpu->xlat.pg, rights, a) == 0;
}

int hw_exit_nested(struct hw_cpu *cpu, const struct hw_walk *w, uint64_t la)
{
	switch (w->fault) {
	case HW_WALK_EPT_VIOLATION:
		hw_exit(cpu, VMX_REASON_EPT_VIOLATION, w->qual);
		cpu->exit.gpa = w->fault_gpa;
		cpu->exit.gla = (w->qual & (1u << 7)) ? la : 0;
		return EMU_STOP;
	case HW_WALK_EPT_MISCONFIG:
		hw_exit(cpu, VMX_REASON_EPT_MISCONFIG, 0);
		cpu->exit.gpa = w->fault_gpa;
		return EMU_STOP;
	case HW_WALK_NPF:
		hw_exit(cpu, SVM_CODE_NPF, w->qual);
		cpu->exit.info2 = w->fault_gpa;
		return EMU_STOP;
	case HW_WALK_PF:
		return emu_raise_pf(&cpu->emu, la, w->pf_error);
	case HW_WALK_OK:
		break;
	}
	return EMU_CONTINUE;
}

/*
 * Put the translation of @la (rights @rights, page at host-physical
 * @page_hpa) in the front TLB for the current access context, with the
 * accesses it allows without a walk. Writes to a page holding decoded
 * code stay off the front so they reach mem.c, which drops the code.
 * Other processors read write_tag and addend (hw/dcode.c rule 3): they
 * are stored atomically, the tag last, and a write entry is checked
 * again once it is visible.
 */
static void front_fill(struct hw_cpu *cpu, uint64_t la, unsigned rights, hpa_t page_hpa)
{
	const uint8_t *host = hw_hpa_ptr(cpu->m, page_hpa, 4096);
	if (!host)
		return;
	const uint64_t page = la & ~4095ull, key = emu_tlb_key(&cpu->emu), pfn = page_hpa >> 12;
	const unsigned a = walk_acc(cpu, 0);
	struct emu_tlb_entry *f = &cpu->tlb.front[(la >> 12) & (EMU_TLB_SIZE - 1)];
	const bool write = tlb_allows(cpu, rights, a | HW_ACC_WRITE) &&
			   !hw_is_code_page(cpu->m, pfn);
	f->read_tag = tlb_allows(cpu, rights, a) ? page | key : EMU_TLB_INVALID;
	__atomic_store_n(&f->write_tag, EMU_TLB_INVALID, __ATOMIC_RELEASE);
	__atomic_store_n(&f->addend, (uintptr_t)host - (uintptr_t)page, __ATOMIC_RELEASE);
	if (write) {
		__atomic_store_n(&f->write_tag, page | key, __ATOMIC_RELEASE);
		if (!hw_front_write_stays(cpu->m, pfn))
			__atomic_store_n(&f->write_tag, EMU_TLB_INVALID, __ATOMIC_RELEASE);
	}
}

/* Accesses the front TLB serves: plain data (emulate.h emu_tlb_read). */
static bool front_kind(unsigned acc)
{
	return !(acc & (EMU_ACC_FETCH | EMU_ACC_SYS));
}

int hw_translate(struct hw_cpu *cpu, uint64_t la, unsigned acc, hpa_t *hpa)
{
	const unsigned a = walk_acc(cpu, acc);
	struct hw_tlb_entry *e = hw_tlb_lookup(&cpu->tlb, la, cpu->xlat.tag);
	if (e && tlb_allows(cpu, e->rights, a)) {
		cpu->cnt.tlb_hits++;
		*hpa = e->hpa + (la & ((1ull << e->shift) - 1));
		if (front_kind(acc))
			front_fill(cpu, la, e->rights, *hpa & ~4095ull);
		return EMU_CONTINUE;
	}
	cpu->cnt.tlb_misses++;

	struct hw_walk w;
	if (hw_walk_cached(cpu->m, &cpu->xlat.pg, &cpu->xlat.nst, &cpu->tlb.psc, cpu->xlat.tag,
			   la, a, &w, &cpu->cnt) != HW_WALK_OK) {
		hw_tlb_flush_addr(&cpu->tlb, la, cpu->xlat.tag, ~0ull, false);
		return hw_exit_nested(cpu, &w, la);
	}
	unsigned rights = w.rights;
	if (!(cpu->emu.cpu.cr4 & CR4_PGE))
		rights &= ~HW_R_GLOBAL;
	const unsigned shift = cpu->xlat.nst.kind == HW_NESTED_NONE ||
			       w.page_shift < w.nested_shift ? w.page_shift : w.nested_shift;
	const hpa_t page = w.hpa & ~((1ull << shift) - 1);
	/* A 2-D translation is cached at the smaller of the two page sizes:
	 * the piece of the guest page that one nested page backs. */
	hw_tlb_fill_piece(&cpu->tlb, la & ~((1ull << shift) - 1), cpu->xlat.tag, shift,
			  w.page_shift, page, rights);
	*hpa = w.hpa;
	if (front_kind(acc))
		front_fill(cpu, la, rights, w.hpa & ~4095ull);
	return EMU_CONTINUE;
}
