/*
 * gwalk_tmpl.h — the guest page walk, written once (KVM's paging_tmpl.h
 * idea). Not an ordinary header: mmu/gwalk.c includes it once per format
 * with GW_FMT set to GW_FMT_32, GW_FMT_64 or GW_FMT_EPT, and the list of
 * what each inclusion defines is there, at the instantiation site.
 *
 * The walk, in the order a processor makes it (SDM Vol. 3A 4.3-4.8; for
 * EPT Vol. 3C 29.3):
 *
 *   1. From the root down (for_each_gw_entry): read the entry, stop if it
 *      is not present (#PF P=0; EPT violation), or if it has a reserved
 *      bit set (#PF P=1 RSVD=1; EPT misconfiguration, which also covers
 *      W without R, execute-only without the capability and a leaf's bad
 *      memory type), combine its rights, go down until an entry maps a
 *      page.
 *   2. Check the access against the combined rights (4.6; 29.3.3.2).
 *   3. Commit (for_each_flagged_entry): set A in every entry used and D
 *      in the leaf of a write (4.8; 29.3.5), each by compare-exchange.
 *      An entry that changed in more than its A/D flags since step 1
 *      means the translation may be stale: walk again from the root.
 *
 * The format islands (#if GW_FMT) are: the entry size and index width,
 * what "present" means, which bits are reserved, which entries map a
 * page, the rights an entry grants, the A/D bit positions, and PAE's
 * PDPTE registers (64 only: the first level comes from cfg->pdpte, has
 * no rights and no accessed flag).
 */

#if GW_FMT == GW_FMT_32
#define GW_NAME(n)	gwalk32_##n
#define GW_WALK		gwalk_32
#define GW_SIZE		4u
#define GW_BITS		10u
#define GW_A		X86_A
#define GW_D		X86_D
#define GW_ALL_RIGHTS	(GWALK_R | GWALK_W | GWALK_X | GWALK_U)
#elif GW_FMT == GW_FMT_64
#define GW_NAME(n)	gwalk64_##n
#define GW_WALK		gwalk_64
#define GW_SIZE		8u
#define GW_BITS		9u
#define GW_A		X86_A
#define GW_D		X86_D
#define GW_ALL_RIGHTS	(GWALK_R | GWALK_W | GWALK_X | GWALK_U)
#elif GW_FMT == GW_FMT_EPT
#define GW_NAME(n)	gwalkept_##n
#define GW_WALK		gwalk_ept
#define GW_SIZE		8u
#define GW_BITS		9u
#define GW_A		EPT_A
#define GW_D		EPT_D
#define GW_ALL_RIGHTS	(GWALK_R | GWALK_W | GWALK_X)
#else
#error "gwalk_tmpl.h: define GW_FMT as GW_FMT_32, GW_FMT_64 or GW_FMT_EPT"
#endif

/* One walk in progress, with the iterator's position in the path. */
struct GW_NAME(walker) {
	const struct gwalk_cfg *cfg;
	const struct gwalk_mem *mem;
	struct gwalk *w;
	uint64_t addr;		/* the address, cut to the format's width */
	uint64_t table_mask;	/* an entry's address bits: (M-1):12 (32-bit: 31:12) */
	uint64_t high_rsvd;	/* reserved in every entry (not 32-bit) */
	unsigned m;		/* MAXPHYADDR */
	bool ad;		/* the format keeps A/D flags */
	/* The iterator: the entry at hand. */
	unsigned level;
	uint64_t pte;
	bool reg;		/* it is a PAE PDPTE register */
};

static void GW_NAME(init)(struct GW_NAME(walker) *wk, const struct gwalk_cfg *cfg,
			  const struct gwalk_mem *mem, uint64_t addr, struct gwalk *w)
{
	memset(w, 0, sizeof(*w));
	wk->cfg = cfg;
	wk->mem = mem;
	wk->w = w;
	wk->m = gwalk_maxphyaddr(cfg);
	wk->reg = false;
#if GW_FMT == GW_FMT_32
	wk->addr = (uint32_t)addr;
	wk->table_mask = GW_BITS_MASK(31, 12);
	wk->high_rsvd = 0;
	wk->ad = true;
#elif GW_FMT == GW_FMT_64
	const bool pae = cfg->mode == GWALK_PAE;
	wk->addr = pae ? (uint32_t)addr : addr;
	wk->table_mask = GW_BITS_MASK(wk->m - 1, 12);
	/* PAE entries reserve bits 62:M (Tables 4-9..4-11), 4-level ones
	 * 51:M (Tables 4-15..4-20; 62:52 are ignored there); XD is reserved
	 * without EFER.NXE (4.1.4). */
	wk->high_rsvd = GW_BITS_MASK(pae ? 62 : 51, wk->m) | (cfg->nxe ? 0 : X86_XD);
	wk->ad = true;
	if (!pae && cfg->pcide)
		w->pcid = (uint16_t)(cfg->root & 0xfff);
#else
	wk->addr = addr;
	wk->table_mask = GW_BITS_MASK(wk->m - 1, 12);
	wk->high_rsvd = GW_BITS_MASK(51, wk->m);	/* Tables 29-1..29-6 */
	wk->ad = cfg->root & EPTP_AD;			/* 29.3.5 */
#endif
}

/* ---------------------------------------------------------- mechanics */

static inline unsigned GW_NAME(shift)(unsigned level)
{
	return 12 + GW_BITS * (level - 1);
}

/* Read the level-@level entry of @table on the path (the iterator's
 * step) and record it in the result. */
static void GW_NAME(read)(struct GW_NAME(walker) *wk, unsigned level, gpa_t table)
{
	const unsigned idx = (unsigned)(wk->addr >> GW_NAME(shift)(level)) & ((1u << GW_BITS) - 1);
	const gpa_t gpa = table + idx * GW_SIZE;
	wk->level = level;
	wk->pte = wk->mem->read(wk->mem, gpa, GW_SIZE);
	wk->w->pte[level] = wk->pte;
	wk->w->pte_gpa[level] = gpa;
}

static void GW_NAME(first_entry)(struct GW_NAME(walker) *wk)
{
	const struct gwalk_cfg *cfg = wk->cfg;
#if GW_FMT == GW_FMT_32
	wk->w->top = 2;
	GW_NAME(read)(wk, 2, cfg->root & GW_BITS_MASK(31, 12));
#elif GW_FMT == GW_FMT_64
	if (cfg->mode == GWALK_PAE) {
		/* The PDPTE registers MOV CR3 loaded from CR3[31:5] (4.4.1). */
		const unsigned idx = (unsigned)(wk->addr >> 30) & 3;
		wk->w->top = 3;
		wk->level = 3;
		wk->reg = true;
		wk->pte = wk->w->pte[3] = cfg->pdpte[idx];
		wk->w->pte_gpa[3] = (cfg->root & GW_BITS_MASK(31, 5)) + 8 * idx;
		return;
	}
	wk->w->top = 4;
	GW_NAME(read)(wk, 4, cfg->root & wk->table_mask);
#else
	wk->w->top = 4;
	GW_NAME(read)(wk, 4, cfg->root & wk->table_mask);
#endif
}

static void GW_NAME(next_entry)(struct GW_NAME(walker) *wk)
{
	wk->reg = false;
	GW_NAME(read)(wk, wk->level - 1, wk->pte & wk->table_mask);
}

/* Visit the path from the root table down, one entry per iteration in
 * wk->level / wk->pte; the body ends the loop at the leaf or a fault. */
#define for_each_gw_entry(wk) \
	for (GW_NAME(first_entry)(wk);; GW_NAME(next_entry)(wk))

/* The entries of a finished walk @w that carry A/D flags, root first
 * (all it used but PAE's PDPTE registers). */
#define for_each_flagged_entry(wk, l) \
	for ((l) = (wk)->w->top - ((wk)->cfg->mode == GWALK_PAE); (l) >= (wk)->w->level; (l)--)

/* ---------------------------------------------------------- the format */

static inline bool GW_NAME(present)(uint64_t e)
{
#if GW_FMT == GW_FMT_EPT
	return e & EPT_RWX;		/* 29.3.2: bits 2:0 = 0: not present */
#else
	return e & X86_P;
#endif
}

/* Does entry @e at wk->level map a page? Bit 7 is PS (x86) and the EPT
 * large-page bit alike. */
static inline bool GW_NAME(is_leaf)(const struct GW_NAME(walker) *wk, uint64_t e)
{
	if (wk->level == 1)
		return true;
	if (!(e & X86_PS))
		return false;
#if GW_FMT == GW_FMT_32
	return wk->cfg->pse;		/* PS is ignored without CR4.PSE */
#elif GW_FMT == GW_FMT_64
	return wk->level == 2 || (wk->level == 3 && wk->cfg->mode == GWALK_64 &&
				  wk->cfg->gbpages);
#else
	return wk->level == 2 || (wk->level == 3 && wk->cfg->gbpages);
#endif
}

/*
 * The reserved bits of entry @e at wk->level. An entry that references
 * a table has bit 7 set only where it would be PS in a PML4E, or PS in a
 * PDPTE without 1 GiB pages (4.5.4; EPT: 29.3.2): reserved either way.
 */
static inline uint64_t GW_NAME(rsvd)(const struct GW_NAME(walker) *wk, bool leaf)
{
	const unsigned level = wk->level;
#if GW_FMT == GW_FMT_32
	/* Table 4-4: a 4 MiB PDE holds address bits (M'-1):32 in its bits
	 * (M'-20):13 (PSE-36), M' = min(M, 40); bits 21:(M'-19) are
	 * reserved. Other 32-bit entries have no reserved bits. */
	const unsigned m32 = wk->m < 40 ? wk->m : 40;
	return leaf && level == 2 ? GW_BITS_MASK(21, m32 - 19) : 0;
#elif GW_FMT == GW_FMT_64
	if (!leaf)
		return wk->high_rsvd | X86_PS;
	/* A large page's address bits below its alignment, but PAT (12). */
	return wk->high_rsvd | (level > 1 ? GW_BITS_MASK(GW_NAME(shift)(level) - 1, 13) : 0);
#else
	if (!leaf)
		return wk->high_rsvd | GW_BITS_MASK(7, 3);
	return wk->high_rsvd | (level > 1 ? GW_BITS_MASK(GW_NAME(shift)(level) - 1, 12) : 0);
#endif
}

/* Is present entry @e misconfigured (EPT, 29.3.3.1) or does it set a
 * reserved bit (x86, 4.1.4)? */
static inline bool GW_NAME(bad)(const struct GW_NAME(walker) *wk, uint64_t e, bool leaf)
{
	if (e & GW_NAME(rsvd)(wk, leaf))
		return true;
#if GW_FMT == GW_FMT_EPT
	const uint64_t rwx = e & EPT_RWX;
	if ((rwx & EPT_W) && !(rwx & EPT_R))
		return true;			/* write-only, write/execute */
	if (rwx == EPT_X && !wk->cfg->ept_x_only)
		return true;
	if (leaf) {
		const unsigned mt = (unsigned)(e >> EPT_MT_SHIFT) & 7;
		if (mt == 2 || mt == 3 || mt == 7)
			return true;		/* reserved memory types */
	}
#endif
	return false;
}

/* The rights entry @e grants (ANDed over the path). */
static inline unsigned GW_NAME(entry_rights)(uint64_t e)
{
#if GW_FMT == GW_FMT_EPT
	return (unsigned)(e & EPT_RWX);	/* GWALK_R/W/X are bits 2:0 */
#else
	unsigned r = GWALK_R | GWALK_X;
	if (e & X86_RW)
		r |= GWALK_W;
	if (e & X86_US)
		r |= GWALK_U;
#if GW_FMT == GW_FMT_64
	if (e & X86_XD)			/* with NXE; else it was reserved */
		r &= ~GWALK_X;
#endif
	return r;
#endif
}

/* The address of the page leaf @e maps (a @shift-bit page). */
static inline gpa_t GW_NAME(leaf_base)(const struct GW_NAME(walker) *wk, uint64_t e,
				       unsigned shift)
{
#if GW_FMT == GW_FMT_32
	if (shift == 22)		/* PSE-36, Table 4-4 */
		return (e & GW_BITS_MASK(31, 22)) | ((e >> 13) & 0xff) << 32;
#endif
	return e & wk->table_mask & ~((1ull << shift) - 1);
}

/* ---------------------------------------------------------- faults */

static int GW_NAME(fault)(struct GW_NAME(walker) *wk, unsigned acc, bool present, bool rsvd)
{
	struct gwalk *w = wk->w;
	w->level = wk->level;
#if GW_FMT == GW_FMT_EPT
	if (rsvd) {
		w->fault = GWALK_EPT_MISCONFIG;
		return -EFAULT;
	}
	(void)present;
	w->fault = GWALK_EPT_VIOLATION;
	w->error_code = gwalk_eptq_access(acc);	/* rights 5:3: 0, not present */
#else
	w->fault = GWALK_PF;
	w->error_code = gwalk_pf_access_bits(wk->cfg, acc) | (present ? GWALK_PF_P : 0) |
			(rsvd ? GWALK_PF_RSVD : 0);
#endif
	return -EFAULT;
}

/* Step 2: may @acc use a translation with @rights? */
static int GW_NAME(check)(struct GW_NAME(walker) *wk, unsigned rights, unsigned acc)
{
	struct gwalk *w = wk->w;
#if GW_FMT == GW_FMT_EPT
	const unsigned need = (acc & GWALK_ACC_WRITE) ? GWALK_W :
			      (acc & GWALK_ACC_FETCH) ? GWALK_X : GWALK_R;
	if (rights & need)
		return 0;
	w->fault = GWALK_EPT_VIOLATION;
	w->error_code = gwalk_eptq_access(acc) | rights << GWALK_EPTQ_RWX_SHIFT;
	return -EFAULT;
#else
	const uint32_t err = gwalk_access_fault(wk->cfg, rights, acc);
	if (!err)
		return 0;
	w->fault = GWALK_PF;
	w->error_code = err;
	return -EFAULT;
#endif
}

/* ---------------------------------------------------------- A/D */

/*
 * Set @bits in the level-@level entry the walk read, as the processor's
 * locked update does (4.8). A change under us in nothing but the A/D
 * flags is merged; any other change is -EAGAIN: walk again.
 */
static int GW_NAME(set_ad)(struct GW_NAME(walker) *wk, unsigned level, uint64_t bits)
{
	struct gwalk *w = wk->w;
	const uint64_t seen = w->pte[level];
	uint64_t cur = seen;

	while ((cur & bits) != bits) {
		uint64_t old = cur;
		if (!wk->mem->cmpxchg(wk->mem, w->pte_gpa[level], GW_SIZE, &old, cur | bits)) {
			cur |= bits;
			break;
		}
		if ((old ^ seen) & ~(uint64_t)(GW_A | GW_D))
			return -EAGAIN;
		cur = old;
	}
	w->pte[level] = cur;
	return 0;
}

/* ---------------------------------------------------------- the walk */

/* One attempt: 0, -EFAULT (w->fault), or -EAGAIN (walk again). */
static int GW_NAME(walk_once)(struct GW_NAME(walker) *wk, unsigned acc)
{
	struct gwalk *w = wk->w;
	const bool write = acc & GWALK_ACC_WRITE;
	unsigned rights = GW_ALL_RIGHTS;

	/* Step 1. */
	for_each_gw_entry(wk) {
		const uint64_t e = wk->pte;
		if (!GW_NAME(present)(e))
			return GW_NAME(fault)(wk, acc, false, false);
#if GW_FMT == GW_FMT_64
		if (wk->reg) {
			/* Table 4-8. Checked by MOV CR3 on Intel; a walk that
			 * reads PDPTEs from memory (AMD nested paging, or
			 * hvlab's own reads of them) finds them here. */
			if (e & (GW_BITS_MASK(63, wk->m) | GW_BITS_MASK(8, 5) | GW_BITS_MASK(2, 1)))
				return GW_NAME(fault)(wk, acc, true, true);
			continue;
		}
#endif
		const bool leaf = GW_NAME(is_leaf)(wk, e);
		if (GW_NAME(bad)(wk, e, leaf))
			return GW_NAME(fault)(wk, acc, true, true);
		rights &= GW_NAME(entry_rights)(e);
		if (leaf)
			break;
	}
	w->level = wk->level;
	w->page_shift = GW_NAME(shift)(wk->level);	/* 32-bit level 2: 22, 4 MiB */
	w->gpa = GW_NAME(leaf_base)(wk, wk->pte, w->page_shift) |
		 (wk->addr & ((1ull << w->page_shift) - 1));

	/* Step 2. */
	if (GW_NAME(check)(wk, rights, acc))
		return -EFAULT;

	/* Step 3. */
	if (wk->ad && !(acc & GWALK_ACC_PEEK)) {
		unsigned l;
		for_each_flagged_entry(wk, l) {
			const uint64_t bits = GW_A | (l == w->level && write ? GW_D : 0);
			if (GW_NAME(set_ad)(wk, l, bits))
				return -EAGAIN;
		}
	}
	w->dirty = !wk->ad || (w->pte[w->level] & GW_D);
	w->rights = rights;
	return 0;
}

int GW_WALK(const struct gwalk_cfg *cfg, const struct gwalk_mem *mem, uint64_t addr,
	    unsigned acc, struct gwalk *w)
{
	struct GW_NAME(walker) wk;
	int r;

	do {
		GW_NAME(init)(&wk, cfg, mem, addr, w);
		r = GW_NAME(walk_once)(&wk, acc);
	} while (r == -EAGAIN);
	return r;
}

#undef for_each_gw_entry
#undef for_each_flagged_entry
#undef GW_NAME
#undef GW_WALK
#undef GW_SIZE
#undef GW_BITS
#undef GW_A
#undef GW_D
#undef GW_ALL_RIGHTS
