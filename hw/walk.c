/*
 * walk.c — the guest page walker (SDM Vol. 3A chapter 4): 32-bit paging
 * (4.3), PAE paging (4.4) and 4-level paging (4.5), over the nested
 * translation of hw/walk_nested.c when EPT or NPT is on.
 *
 * One walk, in the order a processor makes it:
 *
 *   1. From the root (CR3, or for PAE paging the PDPTE registers loaded
 *      by MOV CR3, 4.4.1) down to the leaf: translate each entry's
 *      guest-physical address through the nested tables, read the entry,
 *      stop with #PF P=0 if it is not present and with #PF P=1 RSVD=1 if
 *      a reserved bit is set (4.7), and combine its rights: R/W and U/S
 *      ANDed, XD ORed (4.6).
 *   2. Check the access against the combined rights (hw_access_fault).
 *   3. Check that the nested tables allow the accessed/dirty updates step
 *      5 will make: they are writes to the guest's paging structures
 *      (SDM Vol. 3C 29.3.3.2; an issue only for EPT without A/D, where
 *      the reads of step 1 were checked as reads).
 *   4. Translate the final guest-physical address through the nested
 *      tables for the access itself.
 *   5. Commit: set A in every entry used and D in the leaf of a write
 *      (4.8), then the nested A/D flags of the final translation.
 *
 * Flags are set only when the whole access succeeds, so a faulting access
 * leaves the guest's tables as it found them. (The nested accessed flags
 * of the paging-structure reads of step 1 are set as those reads happen:
 * they did happen.) An entry someone else changed between step 1 and its
 * update makes the walk start over (hw_walk_set_bits).
 *
 * Paging-structure caches (hw/psc.h; SDM 4.10.3). hw_walk_cached()
 * looks for the lowest cached entry for the address before step 1 and,
 * on a hit, starts there: with the cached table address and rights, one
 * walk_cache_hits instead of the references of the entries it stands for
 * (4.10.3.2). Under EPT the cached entry is a combined one that also
 * gives the next table's host-physical address and EPT rights, so that
 * table's EPT walk is skipped too (Vol. 3C 29.4.1); under NPT that walk
 * is made. A walk that ends in a translation caches, after step 5, each
 * entry it read that references a table: those are present, free of
 * reserved bits and now have A = 1 (4.10.3.1 creates entries only from
 * such entries, "before caching ... the processor sets any accessed
 * flags that are not already 1"; PS = 1 entries map a page and are not
 * cached). A walk that faults caches nothing and drops the entries a
 * walk of its address would use (4.10.4.1, page faults; 29.4.3.1, EPT
 * violations), so a fault that cached entries caused does not recur.
 *
 * Reserved bits (4.1.4 and Tables 4-4 to 4-20): above MAXPHYADDR (bits
 * 51:M of 4-level entries, 62:M of PAE entries, 21:(M-19) of a 4 MiB PDE
 * with M capped at 40 by PSE-36), XD when EFER.NXE = 0, PS in a PML4E,
 * and a large page's address bits below its alignment except PAT (bit
 * 12). There are none in 32-bit 4 KiB entries. PAE PDPTEs were checked
 * when they were loaded (4.4.1), so the walker takes them as valid.
 */
#include <errno.h>
#include <string.h>

#include "hw/dcode.h"
#include "hw/psc.h"
#include "hw/walk_internal.h"

void hw_pt_fmt_x86(struct hw_pt_fmt *f, enum hw_paging_mode mode, unsigned maxphyaddr, bool no_1g,
		   bool nxe, bool pse)
{
	const unsigned m = hw_walk_maxphyaddr(maxphyaddr);

	memset(f, 0, sizeof(*f));
	f->acc = HW_PTE_A;
	f->dirty = HW_PTE_D;
	if (mode == HW_PAGING_32) {
		/* PSE-36 (Table 4-4): a 4 MiB PDE holds physical-address
		 * bits (M'-1):32 in its bits (M'-20):13, M' = min(M, 40);
		 * bits 21:(M'-19) are reserved. */
		const unsigned m32 = m < 40 ? m : 40;
		f->size = 4;
		f->idx_bits = 10;
		f->top = 2;
		f->large = pse ? 1u << 2 : 0;
		f->addr = HW_BITS(31, 12);
		f->rsvd_leaf[2] = HW_BITS(21, m32 - 19);
		return;
	}
	/* PAE entries reserve bits 62:M (Tables 4-8..4-11); 4-level ones
	 * 51:M, bits 62:52 being ignored there (Tables 4-14..4-20). */
	const uint64_t high = HW_BITS(mode == HW_PAGING_PAE ? 62 : 51, m) |
			      (nxe ? 0 : HW_PTE_XD);
	f->size = 8;
	f->idx_bits = 9;
	f->top = mode == HW_PAGING_PAE ? 3 : 4;
	f->large = mode == HW_PAGING_PAE ? 1u << 2 : (1u << 2) | (1u << 3);
	f->addr = HW_BITS(m - 1, 12);
	for (unsigned l = 1; l <= 4; l++)
		f->rsvd_table[l] = f->rsvd_leaf[l] = high;
	f->rsvd_table[4] |= HW_PTE_PS;		/* PS must be 0 in a PML4E */
	f->rsvd_leaf[2] |= HW_BITS(20, 13);	/* 2 MiB page alignment */
	f->rsvd_leaf[3] |= HW_BITS(29, 13);	/* 1 GiB page alignment */
	if (no_1g && mode == HW_PAGING_4LEVEL) {
		/* Without 1 GiB pages PS is reserved in a PDPTE (4.5.4). */
		f->large &= ~(1u << 3);
		f->rsvd_table[3] |= HW_PTE_PS;
	}
}

/* ---------------------------------------------------------- memory */

/* One locked attempt to turn the @size-byte entry at @p from *@cur into
 * *@cur | @bits; when it fails, *@cur is what the entry holds now. */
static bool cmpxchg_entry(void *p, unsigned size, uint64_t *cur, uint64_t bits)
{
	if (size == 4) {
		uint32_t old = (uint32_t)*cur;
		const bool ok = __atomic_compare_exchange_n((uint32_t *)p, &old,
							    old | (uint32_t)bits, false,
							    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		*cur = old;
		return ok;
	}
	return __atomic_compare_exchange_n((uint64_t *)p, cur, *cur | bits, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

int hw_walk_set_bits(struct hw_walk_ctx *c, hpa_t hpa, unsigned size, uint64_t seen,
		     uint64_t bits, uint64_t ad)
{
	if ((seen & bits) == bits)
		return 0;
	/* Outside the arena a write is dropped. (The walk read such an
	 * entry as all ones, flags included, so it never gets here.) */
	void *p = hw_hpa_ptr(c->m, hpa, size);
	if (!p)
		return 0;
	uint64_t cur = seen;
	while (!cmpxchg_entry(p, size, &cur, bits)) {
		if ((cur ^ seen) & ~ad)
			return -EAGAIN;
		if ((cur & bits) == bits)
			return 0;	/* someone else set them */
	}
	/* A/D updates are writes like any other: code decoded from the
	 * page goes (SDM Vol. 3A 11.6). */
	hw_code_page_written(c->m, NULL, hpa >> HV_PAGE_SHIFT);
	return 0;
}

/* ---------------------------------------------------------- rights */

/* The W/R, U/S and I/D bits of a #PF error code for @acc (4.7): I/D only
 * for a fetch with SMEP, or with NXE under PAE or 4-level paging. */
static uint32_t pfec_access(const struct hw_paging *pg, unsigned acc)
{
	uint32_t err = 0;
	if (acc & HW_ACC_WRITE)
		err |= HW_PFEC_W;
	if (acc & HW_ACC_USER)
		err |= HW_PFEC_U;
	if ((acc & HW_ACC_FETCH) &&
	    (pg->smep || (pg->nxe && pg->mode != HW_PAGING_32)))
		err |= HW_PFEC_I;
	return err;
}

/*
 * SDM Vol. 3A 4.6.1, on the rights combined over the path ("user page":
 * U/S = 1 at every level; AC = 1 counts only for an explicit supervisor
 * access, HW_ACC_NO_SMAP):
 *
 *   access            faults when
 *   user read         U/S = 0
 *   user write        U/S = 0, or R/W = 0 (whatever CR0.WP says)
 *   user fetch        U/S = 0, or XD = 1
 *   supervisor read   user page, SMAP = 1 and not AC
 *   supervisor write  user page, SMAP = 1 and not AC; or R/W = 0 and WP = 1
 *   supervisor fetch  user page and SMEP = 1; or XD = 1
 *
 * XD is in @rights only where it means something (NXE, not 32-bit
 * paging), so it is taken as is.
 */
uint32_t hw_access_fault(const struct hw_paging *pg, unsigned rights, unsigned acc)
{
	if (pg->mode == HW_PAGING_NONE)
		return 0;
	const bool user_page = rights & HW_R_U;
	const bool writable = rights & HW_R_W;
	const bool xd = rights & HW_R_XD;
	bool fault;

	if (acc & HW_ACC_USER) {
		if (acc & HW_ACC_WRITE)
			fault = !user_page || !writable;
		else if (acc & HW_ACC_FETCH)
			fault = !user_page || xd;
		else
			fault = !user_page;
	} else if (acc & HW_ACC_FETCH) {
		fault = (user_page && pg->smep) || xd;
	} else {
		fault = user_page && pg->smap && !(acc & HW_ACC_NO_SMAP);
		if ((acc & HW_ACC_WRITE) && pg->wp && !writable)
			fault = true;
	}
	return fault ? HW_PFEC_P | pfec_access(pg, acc) : 0;
}

/* ---------------------------------------------------------- the walk */

/* One paging-structure entry the walk used. */
struct gstep {
	gpa_t gpa;			/* where it is, guest-physical */
	hpa_t hpa;			/* and host-physical */
	uint64_t val;			/* what the walk read */
	unsigned level;			/* its level (1 = PTE) */
	unsigned rights;		/* HW_R_W/U/XD combined down to it */
	struct hw_nested_path np;	/* the nested translation of its page */
};

static int walk_pf(struct hw_walk *w, const struct hw_paging *pg, unsigned acc, uint32_t err)
{
	w->fault = HW_WALK_PF;
	w->pf_error = err | pfec_access(pg, acc);
	return 0;
}

/* The page a leaf entry maps (4 MiB pages: PSE-36, Table 4-4). */
static uint64_t leaf_base(const struct hw_pt_fmt *f, uint64_t e, unsigned shift)
{
	if (f->size == 4 && shift == 22)
		return (e & HW_BITS(31, 22)) | (((e >> 13) & 0xff) << 32);
	return e & f->addr & ~((1ull << shift) - 1);
}

/*
 * Where a walk of @la starts: at the root, or below the lowest cached
 * entry for it (counting the hit). Sets *table, *level and *rights, and
 * returns the cache entry used, or NULL.
 */
static const struct hw_psc_entry *walk_start(struct hw_walk_ctx *c,
					     const struct hw_paging *pg,
					     const struct hw_pt_fmt *f, uint64_t la,
					     gpa_t *table, unsigned *level, unsigned *rights)
{
	*table = pg->cr3 & f->addr;
	*level = f->top;
	if (!c->psc)
		return NULL;
	unsigned hit_level;
	const struct hw_psc_entry *e = hw_psc_lookup(c->psc, pg->mode, c->nst->kind, c->tag,
						      la, &hit_level);
	if (!e)
		return NULL;
	c->cnt->walk_cache_hits++;
	*table = e->table;
	*level = hit_level - 1;
	*rights = e->rights;
	return e;
}

/*
 * Cache what a successful walk read (see the note at the top): each
 * entry of @st that references a table, with the rights down to it and
 * the next table, host-physical and with its EPT rights under EPT.
 */
static void psc_fill(struct hw_walk_ctx *c, const struct hw_paging *pg,
		     const struct hw_pt_fmt *f, uint64_t la, const struct gstep *st,
		     unsigned n)
{
	const bool ept = c->nst->kind == HW_NESTED_EPT;
	for (unsigned i = 0; i + 1 < n; i++) {
		const struct gstep *next = &st[i + 1];
		const struct hw_psc_entry e = {
			.tag = c->tag,
			.mode = (uint8_t)pg->mode,
			.nested = (uint8_t)c->nst->kind,
			.table = st[i].val & f->addr,
			.table_hpa = next->hpa & HV_PAGE_MASK,
			.rights = (uint8_t)(st[i].rights & (HW_R_W | HW_R_U | HW_R_XD)),
			.ept_allow = ept ? (uint8_t)next->np.allow : 0,
			.ept_rwx = ept ? (uint8_t)next->np.ept_rwx : 0,
		};
		hw_psc_fill(c->psc, st[i].level, la, &e);
	}
}

/* One attempt at the walk (steps 1-5 above). 0 when w->fault says how it
 * ended; -EAGAIN when an entry changed under the walk. */
static int guest_walk(struct hw_walk_ctx *c, const struct hw_paging *pg, uint64_t la,
		      unsigned acc, struct hw_walk *w)
{
	const bool nested = c->nst->kind != HW_NESTED_NONE;
	const bool write = acc & HW_ACC_WRITE;
	struct hw_pt_fmt f = { 0 };
	struct gstep st[4];
	unsigned n = 0;
	unsigned rights = HW_R_W | HW_R_U;
	gpa_t gpa;

	memset(w, 0, sizeof(*w));
	w->nested_shift = 12;

	/* Step 1. */
	if (pg->mode == HW_PAGING_NONE) {
		gpa = la;
		w->page_shift = 30;
	} else {
		if (pg->mode != HW_PAGING_4LEVEL)
			la = (uint32_t)la;
		hw_pt_fmt_x86(&f, pg->mode, pg->maxphyaddr, pg->no_1g_pages, pg->nxe, pg->pse);
		gpa_t table;
		unsigned level;
		uint64_t e;
		const struct hw_psc_entry *hit = walk_start(c, pg, &f, la, &table, &level,
							    &rights);
		for (;; level--) {
			const unsigned idx = hw_pt_index(&f, la, level);
			if (pg->mode == HW_PAGING_PAE && level == 3) {
				/* A register: no reference, no rights, no A flag. */
				e = pg->pdpte[idx];
				if (!(e & HW_PTE_P))
					return walk_pf(w, pg, acc, 0);
				table = e & HW_BITS(51, 12);
				continue;
			}
			struct gstep *s = &st[n++];
			s->gpa = table + idx * f.size;
			s->hpa = s->gpa;
			s->level = level;
			if (hit && n == 1 && c->nst->kind == HW_NESTED_EPT) {
				/* A combined entry: the table's EPT walk is in it. */
				s->hpa = hit->table_hpa + idx * f.size;
				s->np = (struct hw_nested_path){ .hpa = s->hpa, .shift = 12,
								 .allow = hit->ept_allow,
								 .ept_rwx = hit->ept_rwx };
			} else if (nested) {
				if (!hw_nested_translate(c, s->gpa, 0, HW_NESTED_PAGING, &s->np, w))
					return 0;
				if (hw_nested_commit(c, &s->np))
					return -EAGAIN;
				s->hpa = s->np.hpa;
			}
			e = s->val = hw_walk_read(c, s->hpa, f.size, false);
			if (!(e & HW_PTE_P))
				return walk_pf(w, pg, acc, 0);
			const bool leaf = hw_pt_is_leaf(&f, e, level);
			if (e & (leaf ? f.rsvd_leaf[level] : f.rsvd_table[level]))
				return walk_pf(w, pg, acc, HW_PFEC_P | HW_PFEC_RSVD);
			if (!(e & HW_PTE_RW))
				rights &= ~HW_R_W;
			if (!(e & HW_PTE_US))
				rights &= ~HW_R_U;
			if (e & HW_PTE_XD)
				rights |= HW_R_XD;	/* only with NXE: else reserved */
			s->rights = rights;
			if (leaf)
				break;
			table = e & f.addr;
		}
		w->page_shift = hw_pt_shift(&f, level);
		gpa = leaf_base(&f, e, w->page_shift) | (la & ((1ull << w->page_shift) - 1));
		if (e & HW_PTE_G)
			rights |= HW_R_GLOBAL;
		if (pg->mode == HW_PAGING_4LEVEL && pg->pcide)
			w->pcid = (uint16_t)(pg->cr3 & 0xfff);
	}

	/* Step 2. */
	const uint32_t err = hw_access_fault(pg, rights, acc);
	if (err) {
		w->fault = HW_WALK_PF;
		w->pf_error = err;
		return 0;
	}

	/* Step 3. */
	uint64_t set[4];
	for (unsigned i = 0; i < n; i++) {
		set[i] = st[i].val & f.acc ? 0 : f.acc;
		if (i == n - 1 && write && !(st[i].val & f.dirty))
			set[i] |= f.dirty;
		if (nested && set[i] &&
		    !hw_nested_check(c, &st[i].np, st[i].gpa, HW_ACC_WRITE, HW_NESTED_PAGING, w))
			return 0;
	}

	/* Step 4. */
	struct hw_nested_path fin;
	w->hpa = gpa;
	if (nested) {
		if (!hw_nested_translate(c, gpa, acc, HW_NESTED_FINAL, &fin, w))
			return 0;
		w->hpa = fin.hpa;
		w->nested_shift = fin.shift;
	}

	/* Step 5. */
	for (unsigned i = 0; i < n; i++)
		if (hw_walk_set_bits(c, st[i].hpa, f.size, st[i].val, set[i], f.acc | f.dirty))
			return -EAGAIN;
	/* Without guest paging there is no guest dirty flag to want. */
	bool dirty = n == 0 || write || (st[n - 1].val & f.dirty);
	if (nested) {
		if (hw_nested_commit(c, &fin))
			return -EAGAIN;
		rights |= hw_nested_rights(&fin);
		dirty = dirty && hw_nested_dirty(c, &fin);
	}
	if (dirty)
		rights |= HW_R_DIRTY;
	if (c->psc)
		psc_fill(c, pg, &f, la, st, n);
	w->gpa = gpa;
	w->rights = rights;
	return 0;
}

enum hw_walk_fault hw_walk_cached(struct hw_machine *m, const struct hw_paging *pg,
				  const struct hw_nested *nst, struct hw_psc *psc,
				  uint64_t tag, uint64_t la, unsigned acc, struct hw_walk *w,
				  struct hw_counters *cnt)
{
	struct hw_walk_ctx c;
	hw_walk_ctx_init(&c, m, nst, cnt);
	c.psc = psc && psc->entries ? psc : NULL;
	c.tag = tag;
	while (guest_walk(&c, pg, la, acc, w) == -EAGAIN)
		;
	if (c.psc && w->fault != HW_WALK_OK)
		hw_psc_flush_la(c.psc, pg->mode, tag, la);
	return w->fault;
}

enum hw_walk_fault hw_walk(struct hw_machine *m, const struct hw_paging *pg,
			   const struct hw_nested *nst, uint64_t la, unsigned acc,
			   struct hw_walk *w, struct hw_counters *cnt)
{
	return hw_walk_cached(m, pg, nst, NULL, 0, la, acc, w, cnt);
}
