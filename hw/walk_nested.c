/*
 * walk_nested.c — the second dimension: guest-physical to host-physical
 * through EPT (SDM Vol. 3C 29.3) or AMD nested paging (APM Vol. 2 15.25),
 * for each access a guest walk makes, and on its own (hw_walk_gpa).
 *
 * One loop walks both formats; they differ in the format descriptor
 * (hw/walk_internal.h) and in what an entry means:
 *
 *   EPT (29.3.2)       not present: bits 2:0 = 0 -> EPT violation.
 *                      misconfigured (29.3.3.1): W without R; execute-only
 *                      without the capability; a reserved bit (51:M,
 *                      7:3 of a PML4E, 6:3 of an entry referencing a
 *                      table, a large page's address bits below its
 *                      alignment); memory type 2, 3 or 7 in a leaf.
 *                      rights: bits 2:0 ANDed over the path.
 *   NPT (15.25.5)      the long-mode format of 4-level paging, walked from
 *                      nCR3 with the host's MAXPHYADDR and EFER.NXE.
 *                      Every nested access is a user access: U/S must be
 *                      1 at every level, R/W for a write, XD clear for a
 *                      fetch (with NXE). The host's CR0.WP, SMEP and SMAP
 *                      do not apply.
 *
 * How the guest walk's own accesses count (29.3.3.2; APM 15.25.5):
 *
 *   access                          EPT                   NPT
 *   guest paging-structure read     read (write with A/D) user write
 *   guest A/D update                write                 user write
 *   final access                    as made               user, as made
 *
 * The APM (15.25.5, "Nested Table Walk") says: "Table walks for guest
 * page tables are always treated as user writes at the nested page table
 * level. A table walk for the guest page itself is always treated as a
 * user access at the nested page table level."
 *
 * Faults. An EPT violation's qualification (28.2.1, Table 28-7) gives the
 * access (bits 2:0; a paging-structure access treated as a write sets
 * both bit 0 and bit 1, note 1 of the table), the rights of the path
 * (5:3; 0 when an entry is not present), bit 7 for an access made while
 * translating a linear address, and with it bit 8 for the final access
 * (as opposed to a paging-structure entry). Bits 6 and 9-11 (mode-based
 * execute, advanced information) are not modeled: 0. A nested page fault
 * gives EXITINFO1 (15.25.6): a #PF error code for the nested access (P,
 * RW, US always 1, RSV, ID for a fetch when nested NX is on) plus bit 32
 * when translating the final guest-physical address (also for
 * hw_walk_gpa) or bit 33 when translating a guest paging-structure
 * access. The guest-physical address of the access is fault_gpa.
 *
 * Flags: EPT accessed flags (bit 8) on every entry used and the dirty
 * flag (bit 9) on the leaf of a write, only when EPTP bit 6 enables them
 * (29.3.5); NPT accessed and dirty flags as in 4-level paging. Set by
 * hw_nested_commit() once the access will happen.
 */
#include <errno.h>
#include <string.h>

#include "hw/walk_internal.h"

static void ept_fmt(struct hw_pt_fmt *f, unsigned maxphyaddr)
{
	const unsigned m = hw_walk_maxphyaddr(maxphyaddr);
	const uint64_t high = HW_BITS(51, m);

	memset(f, 0, sizeof(*f));
	f->size = 8;
	f->idx_bits = 9;
	f->top = 4;
	f->large = (1u << 2) | (1u << 3);	/* 2 MiB PDEs, 1 GiB PDPTEs */
	f->addr = HW_BITS(m - 1, 12);
	f->acc = HW_EPTE_A;
	f->dirty = HW_EPTE_D;
	/* Tables 29-1..29-6. */
	f->rsvd_table[4] = high | HW_BITS(7, 3);
	f->rsvd_table[3] = f->rsvd_table[2] = high | HW_BITS(6, 3);
	f->rsvd_leaf[1] = high;
	f->rsvd_leaf[2] = high | HW_BITS(20, 12);
	f->rsvd_leaf[3] = high | HW_BITS(29, 12);
}

void hw_walk_ctx_init(struct hw_walk_ctx *c, struct hw_machine *m,
		      const struct hw_nested *nst, struct hw_counters *cnt)
{
	c->m = m;
	c->nst = nst;
	c->cnt = cnt;
	c->psc = NULL;
	c->tag = 0;
	if (nst->kind == HW_NESTED_EPT)
		ept_fmt(&c->nfmt, nst->maxphyaddr);
	else if (nst->kind == HW_NESTED_NPT)
		hw_pt_fmt_x86(&c->nfmt, HW_PAGING_4LEVEL, nst->maxphyaddr, false, nst->npt_nxe, false);
	else
		memset(&c->nfmt, 0, sizeof(c->nfmt));
}

/* Does access @acc made in @role count as a write for the nested tables
 * (the table at the top)? */
static bool nested_write(const struct hw_nested *nst, unsigned acc, enum hw_nested_role role)
{
	if (acc & HW_ACC_WRITE)
		return true;
	return role == HW_NESTED_PAGING && (nst->kind == HW_NESTED_NPT || nst->ept_ad);
}

static bool ept_violation(struct hw_walk_ctx *c, gpa_t gpa, unsigned acc,
			  enum hw_nested_role role, unsigned rwx, struct hw_walk *w)
{
	uint64_t q = (uint64_t)rwx << 3;
	if (nested_write(c->nst, acc, role))
		q |= HW_EPTQ_WRITE;
	if (acc & HW_ACC_FETCH)
		q |= HW_EPTQ_FETCH;
	else if (!(acc & HW_ACC_WRITE))
		q |= HW_EPTQ_READ;	/* a read, even one treated as a write */
	if (role != HW_NESTED_GPA)
		q |= HW_EPTQ_GLA_VALID;
	if (role == HW_NESTED_FINAL)
		q |= HW_EPTQ_GLA_FINAL;
	w->fault = HW_WALK_EPT_VIOLATION;
	w->qual = q;
	w->fault_gpa = gpa;
	return false;
}

static bool npf(struct hw_walk_ctx *c, gpa_t gpa, unsigned acc, enum hw_nested_role role,
		uint64_t bits, struct hw_walk *w)
{
	uint64_t q = bits | HW_NPF_US;
	if (nested_write(c->nst, acc, role))
		q |= HW_NPF_RW;
	if ((acc & HW_ACC_FETCH) && c->nst->npt_nxe)
		q |= HW_NPF_ID;
	q |= role == HW_NESTED_PAGING ? HW_NPF_PAGING : HW_NPF_FINAL;
	w->fault = HW_WALK_NPF;
	w->qual = q;
	w->fault_gpa = gpa;
	return false;
}

/* SDM 29.3.3.1: is present entry @e at @level misconfigured? */
static bool ept_misconfigured(const struct hw_walk_ctx *c, uint64_t e, unsigned level,
			      bool leaf)
{
	const uint64_t rwx = e & HW_EPTE_RWX;
	if ((rwx & HW_EPTE_W) && !(rwx & HW_EPTE_R))
		return true;
	if (rwx == HW_EPTE_X && !c->nst->ept_x_only)
		return true;
	if (e & (leaf ? c->nfmt.rsvd_leaf[level] : c->nfmt.rsvd_table[level]))
		return true;
	if (leaf) {
		const unsigned mt = (e >> HW_EPTE_MT_SHIFT) & 7;
		if (mt == 2 || mt == 3 || mt == 7)
			return true;
	}
	return false;
}

bool hw_nested_check(struct hw_walk_ctx *c, const struct hw_nested_path *p, gpa_t gpa,
		     unsigned acc, enum hw_nested_role role, struct hw_walk *w)
{
	const unsigned need = nested_write(c->nst, acc, role) ? HW_NESTED_W :
			      (acc & HW_ACC_FETCH) ? HW_NESTED_X : HW_NESTED_R;
	if (p->allow & need)
		return true;
	if (c->nst->kind == HW_NESTED_EPT)
		return ept_violation(c, gpa, acc, role, p->ept_rwx, w);
	return npf(c, gpa, acc, role, HW_NPF_P, w);
}

bool hw_nested_translate(struct hw_walk_ctx *c, gpa_t gpa, unsigned acc,
			 enum hw_nested_role role, struct hw_nested_path *p,
			 struct hw_walk *w)
{
	const bool ept = c->nst->kind == HW_NESTED_EPT;
	const struct hw_pt_fmt *f = &c->nfmt;
	hpa_t table = c->nst->root & f->addr;
	unsigned rwx = 7;
	bool user = true, writable = true, nx = false;
	unsigned level;
	uint64_t e;

	p->n = 0;
	for (level = f->top;; level--) {
		const hpa_t ea = table + hw_pt_index(f, gpa, level) * 8u;
		e = hw_walk_read(c, ea, 8, true);
		p->ent[p->n] = ea;
		p->val[p->n++] = e;
		const bool leaf = hw_pt_is_leaf(f, e, level);
		if (ept) {
			rwx &= e & HW_EPTE_RWX;
			if (!(e & HW_EPTE_RWX))
				return ept_violation(c, gpa, acc, role, 0, w);
			if (ept_misconfigured(c, e, level, leaf)) {
				w->fault = HW_WALK_EPT_MISCONFIG;
				w->fault_gpa = gpa;
				return false;
			}
		} else {
			if (!(e & HW_PTE_P))
				return npf(c, gpa, acc, role, 0, w);
			if (e & (leaf ? f->rsvd_leaf[level] : f->rsvd_table[level]))
				return npf(c, gpa, acc, role, HW_NPF_P | HW_NPF_RSV, w);
			user = user && (e & HW_PTE_US);
			writable = writable && (e & HW_PTE_RW);
			nx = nx || (e & HW_PTE_XD);	/* only with NXE: else reserved */
		}
		if (leaf)
			break;
		table = e & f->addr;
	}
	p->shift = hw_pt_shift(f, level);
	const uint64_t off = (1ull << p->shift) - 1;
	p->hpa = (e & f->addr & ~off) | (gpa & off);
	p->ept_rwx = ept ? rwx : 0;
	if (ept)
		p->allow = rwx;		/* HW_NESTED_R/W/X are bits 2:0 */
	else
		p->allow = !user ? 0 : HW_NESTED_R | (writable ? HW_NESTED_W : 0) |
				       (nx ? 0 : HW_NESTED_X);
	p->write = nested_write(c->nst, acc, role);
	return hw_nested_check(c, p, gpa, acc, role, w);
}

int hw_nested_commit(struct hw_walk_ctx *c, const struct hw_nested_path *p)
{
	if (c->nst->kind == HW_NESTED_EPT && !c->nst->ept_ad)
		return 0;
	const struct hw_pt_fmt *f = &c->nfmt;
	for (unsigned i = 0; i < p->n; i++) {
		uint64_t bits = f->acc;
		if (i == p->n - 1 && p->write)
			bits |= f->dirty;
		if (hw_walk_set_bits(c, p->ent[i], 8, p->val[i], bits, f->acc | f->dirty))
			return -EAGAIN;
	}
	return 0;
}

bool hw_nested_dirty(const struct hw_walk_ctx *c, const struct hw_nested_path *p)
{
	if (c->nst->kind == HW_NESTED_EPT && !c->nst->ept_ad)
		return true;
	return p->write || (p->val[p->n - 1] & c->nfmt.dirty);
}

unsigned hw_nested_rights(const struct hw_nested_path *p)
{
	unsigned r = 0;
	if (!(p->allow & HW_NESTED_R))
		r |= HW_R_NR;
	if (!(p->allow & HW_NESTED_W))
		r |= HW_R_NW;
	if (!(p->allow & HW_NESTED_X))
		r |= HW_R_NX;
	return r;
}

enum hw_walk_fault hw_walk_gpa(struct hw_machine *m, const struct hw_nested *nst,
			       gpa_t gpa, unsigned acc, struct hw_walk *w,
			       struct hw_counters *cnt)
{
	struct hw_walk_ctx c;
	struct hw_nested_path p;

	hw_walk_ctx_init(&c, m, nst, cnt);
	for (;;) {
		memset(w, 0, sizeof(*w));
		w->gpa = gpa;
		w->hpa = gpa;
		w->page_shift = 30;	/* no guest paging: see hw_walk.page_shift */
		w->nested_shift = 12;
		w->rights = HW_R_W | HW_R_U;
		if (nst->kind == HW_NESTED_NONE) {
			w->rights |= HW_R_DIRTY;
			return HW_WALK_OK;
		}
		if (!hw_nested_translate(&c, gpa, acc, HW_NESTED_GPA, &p, w))
			return w->fault;
		if (hw_nested_commit(&c, &p))
			continue;	/* an entry changed: walk again */
		w->hpa = p.hpa;
		w->nested_shift = p.shift;
		w->rights |= hw_nested_rights(&p);
		if (hw_nested_dirty(&c, &p))
			w->rights |= HW_R_DIRTY;
		return HW_WALK_OK;
	}
}
