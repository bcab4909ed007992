/*
 * ptstress_tmpl.h — the page-table stress engine, written once for the
 * 4-level guest (tests/guests/ptstress.c) and the 32-bit one
 * (tests/guests32/ptstress32.c), the idea of mmu/gwalk_tmpl.h: the test
 * defines the format parameters below and includes this file.
 *
 * The engine keeps its own model of every paging structure it owns (a
 * pool of tables, pts_pool[], mirrored in pts_model[]) and of every data
 * frame (two large-page-sized blocks; every word of a frame holds
 * PTS_TAG_MARK | the frame's physical address, so a read tells which
 * frame a linear address reached; a write op leaves one word per frame
 * changed, at the offset it wrote). Random
 * operations (a fixed xorshift seed) change entries — map, unmap,
 * protect, remap, link and unlink page tables, large pages and their
 * split into a page table and merge back, a page directory used as a
 * page table, the root's recursive entry — switch CR3 between the roots,
 * and check reads and writes against a software walk of the model
 * (SDM Vol. 3A 4.3 / 4.5): the word read, or the #PF, its error code
 * (4.7: P, W/R; CPL 0, so U/S=0) and CR2; after a good access the
 * accessed flag in every entry used and the dirty flag in the leaf of a
 * write (4.8). Tables are shared on purpose: one page table under two
 * PDEs of a root and under several roots, one page directory under two
 * roots; a table can be mapped as data (a PTE or a PDE-as-PTE pointing
 * at it) and changed through that mapping, and the root's entry PTS_REC
 * points at a root, so the tables map themselves.
 *
 * Flushing (4.10.4). The model says exactly which cached translations an
 * entry change can leave stale: pts_occurrences() finds, through a
 * reverse map of the links, every place the changed table sits in the
 * current root's tree (a table may sit at several levels, 4.10.3.3, and
 * 4.10.4.2 asks for an invalidation for each purpose), and before the
 * change:
 *   old entry          the translations that used it        invalidation
 *   not present        none (4.10.4.3: P 0 -> 1 needs none) nothing
 *   PTE, or PS=1 PDE   that one page                        INVLPG of it
 *   link to a table    every present leaf under it, or none INVLPG of each,
 *                      (then INVLPG once, 4.10.4.2)         or MOV to CR3
 *                                                           past a few
 * INVLPG also drops every paging-structure-cache entry (4.10.4.1), so
 * stale PDE/PDPTE caches go with it, and every TLB entry of a large page,
 * however many pieces the TLB keeps it in (Vol. 2 INVLPG, note 1): one
 * INVLPG at the base of a 4 MiB page must do. A change in another root is made
 * visible by the MOV to CR3 that switches to it (no PCIDs, no global
 * pages: 4.10.4.1). Only after these flushes does the engine rely on a
 * change: stale translations are allowed before them (4.10.2.3), never
 * after.
 *
 * The accessed and dirty flags are the processor's to set, so every
 * comparison of an entry (a read of a table through a data mapping, the
 * audits of the tables) ignores bits 5 and 6.
 *
 * Parameters the includer defines before including this file:
 *   PTS_LEVELS       4 (4-level paging) or 2 (32-bit paging)
 *   PTS_BITS         index bits per level: 9 or 10
 *   pts_word_t       an entry, and the unit the data frames are tagged in
 *   pts_va_t         a linear address
 *   PTS_ADDR         the address bits of a PTE or of a link to a table
 *   PTS_LARGE_ADDR   the address bits of a PDE with PS=1
 *   PTS_LARGE_SIZE   the size of such a page
 *   PTS_BLOCK_BASE, PTS_NBLOCKS   data blocks: physical, large-page aligned
 *   PTS_TAG_MARK     the high bits of a tag
 *   PTS_REC          the index of the recursive entry in a root
 *   PTS_NROOTS, PTS_NTABLES       tables 0..NROOTS-1 are the roots
 *   PTS_NREGIONS     pts_region[]: linear base of each arena PDE's range
 *   pts_class[t]     the level table t is made for (PTS_LEVELS for a root)
 *   pts_slots[l], pts_nslots[l]   for l >= 2: the indexes an op may change
 *                    in a table of that level (a PT: all of them)
 *   pts_invlpg(va), pts_load_cr3(pa)
 *   optionally pts_invlpg_list(vas, n): the INVLPGs of one flush at once
 *                    (an SMP test passes them on to the other CPUs with
 *                    one shootdown; pts_load_cr3 then loads every CPU's)
 * It provides pts_init(), pts_put(), pts_prepare(), pts_run() — or
 * pts_step() per operation and pts_finish() — (in guests/ptstress_ops.h,
 * included at the end) and pts_on_pf() for the test's #PF handler.
 */
#ifndef GUESTS_PTSTRESS_TMPL_H
#define GUESTS_PTSTRESS_TMPL_H

#define PTS_ENTRIES	(1u << PTS_BITS)
#define PTS_FRAME	4096u
#define PTS_NFRAMES	(PTS_NBLOCKS * (PTS_LARGE_SIZE / PTS_FRAME))
_Static_assert(PTS_ENTRIES * sizeof(pts_word_t) == PTS_FRAME,
	       "a table fills one 4 KiB frame (SDM 3A 4.3, 4.5)");

/* Entry bits (SDM 3A Tables 4-4..4-6, 4-14..4-20: the same positions in
 * both formats). PS is bit 7 of a PDE; in a PTE that bit is PAT. */
#define PTS_P	0x001u
#define PTS_RW	0x002u
#define PTS_US	0x004u
#define PTS_A	0x020u
#define PTS_D	0x040u
#define PTS_PS	0x080u
#define PTS_AD	(PTS_A | PTS_D)
/* #PF error code bits (4.7). */
#define PTS_PF_P	0x1u
#define PTS_PF_W	0x2u

#define PTS_INV_MAX	16	/* INVLPGs per change before a MOV to CR3 instead */
#define PTS_AUDIT_EVERY	5000
#define PTS_REPORT_MAX	8	/* mismatches printed in full */

static pts_word_t pts_pool[PTS_NTABLES][PTS_ENTRIES] __attribute__((aligned(PTS_FRAME)));
static pts_word_t pts_model[PTS_NTABLES][PTS_ENTRIES];
/* Which model entries are present, and how many: the flush rules visit
 * the present entries of a table without reading all of them. */
static uint32_t pts_present[PTS_NTABLES][PTS_ENTRIES / 32];
static uint16_t pts_npresent[PTS_NTABLES];
/* Per data frame: the word a write op changed (index + 1; 0: none) and
 * what it holds. */
static uint16_t pts_slot[PTS_NFRAMES];
static pts_word_t pts_slot_val[PTS_NFRAMES];
static unsigned pts_cur;	/* the root CR3 holds */
static uint64_t pts_rng = 0x9E3779B97F4A7C15ull;

enum pts_op {
	PTS_OP_READ, PTS_OP_WRITE, PTS_OP_MAP, PTS_OP_UNMAP, PTS_OP_PROTECT,
	PTS_OP_REMAP, PTS_OP_LINK, PTS_OP_UNLINK, PTS_OP_LARGE, PTS_OP_SPLIT,
	PTS_OP_MERGE, PTS_OP_SELFMAP, PTS_OP_UPPER, PTS_OP_RECURSE,
	PTS_OP_SWITCH, PTS_OP_TABLEWRITE, PTS_NOPS
};
static const char *const pts_op_name[] = {
	"read", "write", "map", "unmap", "protect", "remap", "link page table",
	"unlink page table", "large page", "split large page", "merge into large page",
	"page directory as page table", "upper-level entry", "recursive entry",
	"switch CR3", "write entry through data mapping",
};
_Static_assert(sizeof(pts_op_name) / sizeof(pts_op_name[0]) == PTS_NOPS, "a name per op");

static struct {
	uint32_t ops[PTS_NOPS];
	uint32_t values, faults, ad, audit_words, unknown;
	uint32_t entry_writes, via_data, invlpg, cr3_reload, no_flush;
	uint32_t mismatches;
} pts_st;
static uint32_t pts_opno;
static enum pts_op pts_opkind;

static uint32_t pts_rand(void)
{
	pts_rng ^= pts_rng << 13;
	pts_rng ^= pts_rng >> 7;
	pts_rng ^= pts_rng << 17;
	return (uint32_t)(pts_rng >> 32);
}

static unsigned pts_below(unsigned n)
{
	return pts_rand() % n;
}

static unsigned pts_shift(unsigned level)
{
	return 12 + PTS_BITS * (level - 1);
}

static unsigned pts_index(pts_va_t va, unsigned level)
{
	return (unsigned)(va >> pts_shift(level)) & (PTS_ENTRIES - 1);
}

static uintptr_t pts_table_pa(unsigned t)
{
	return (uintptr_t)pts_pool[t];
}

/* The pool table at physical address @pa, or -1. */
static int pts_table_at(uintptr_t pa)
{
	uintptr_t base = pts_table_pa(0);

	if (pa < base || pa >= base + PTS_NTABLES * PTS_FRAME)
		return -1;
	return (int)((pa - base) / PTS_FRAME);
}

/* What every word of the data frame holding @pa is filled with. */
static pts_word_t pts_tag(uintptr_t pa)
{
	return (pts_word_t)(PTS_TAG_MARK | (pa & ~(uintptr_t)(PTS_FRAME - 1)));
}

/* String instructions fill and compare a frame in one instruction each
 * (SDM Vol. 2 STOS, SCAS, REP/REPE: DF is clear, so they count up):
 * cheap for the guest, and on hvlab one instruction to decode. */
static void pts_fill(uintptr_t frame, pts_word_t v)
{
	uintptr_t d = frame, n = PTS_ENTRIES;

#ifdef __x86_64__
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(v) : "memory");
#else
	__asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(v) : "memory");
#endif
}

/* The index of the first word of @frame from @w on that is not @v, or
 * PTS_ENTRIES. */
static unsigned pts_find_other(uintptr_t frame, unsigned w, pts_word_t v)
{
	uintptr_t d = frame + w * sizeof(pts_word_t), n = PTS_ENTRIES - w;
	bool ne;

	if (!n)
		return PTS_ENTRIES;
#ifdef __x86_64__
	__asm__ volatile("repe scasq" : "+D"(d), "+c"(n), "=@ccne"(ne) : "a"(v) : "memory");
#else
	__asm__ volatile("repe scasl" : "+D"(d), "+c"(n), "=@ccne"(ne) : "a"(v) : "memory");
#endif
	return ne ? (unsigned)((d - frame) / sizeof(pts_word_t)) - 1 : PTS_ENTRIES;
}

/* The reverse map: every changeable entry of an upper-level table (its
 * "slot") has a number; pts_parents[t] has the bits of the slots whose
 * entries link table t (present, a pool table, not a large page). */
#define PTS_MAX_SLOTS	64
static uint8_t pts_slot_tab[PTS_MAX_SLOTS];
static uint16_t pts_slot_idx[PTS_MAX_SLOTS];
static unsigned pts_nslot_ids;
static uint32_t pts_parents[PTS_NTABLES][PTS_MAX_SLOTS / 32];

/* The table entry @e links at level >= 2, or -1. */
static int pts_link_of(unsigned t, pts_word_t e)
{
	if (!(e & PTS_P) || (pts_class[t] == 2 && (e & PTS_PS)))
		return -1;
	return pts_table_at((uintptr_t)(e & PTS_ADDR));
}

static uint8_t pts_slot_base[PTS_NTABLES];	/* the first slot number of a table */

static int pts_slot_id(unsigned t, unsigned i)
{
	unsigned cls = pts_class[t];

	for (unsigned k = 0; k < pts_nslots[cls]; k++)
		if (pts_slots[cls][k] == i)
			return pts_slot_base[t] + (int)k;
	return -1;
}

/* Entry @i of table @t in the model (memory is the caller's business). */
static void pts_model_set(unsigned t, unsigned i, pts_word_t v)
{
	uint32_t bit = 1u << (i % 32);
	bool was = pts_present[t][i / 32] & bit;

	if (pts_class[t] >= 2) {
		int id = pts_slot_id(t, i), from = pts_link_of(t, pts_model[t][i]);
		int to = pts_link_of(t, v);

		if (id < 0 && to >= 0) {
			guest_printf("ptstress: a link outside the slots: table %u entry %u\n", t, i);
			guest_exit(GUEST_EXIT_FAIL);
		}
		if (from >= 0)
			pts_parents[from][id / 32] &= ~(1u << (id % 32));
		if (to >= 0)
			pts_parents[to][id / 32] |= 1u << (id % 32);
	}
	pts_model[t][i] = v;
	if ((v & PTS_P) && !was) {
		pts_present[t][i / 32] |= bit;
		pts_npresent[t]++;
	} else if (!(v & PTS_P) && was) {
		pts_present[t][i / 32] &= ~bit;
		pts_npresent[t]--;
	}
}

/* ---- probes: one load or store that may fault ---- */

pts_word_t pts_load(pts_va_t va);
void pts_store(pts_va_t va, pts_word_t v);
extern const char pts_load_insn[], pts_load_done[], pts_store_insn[], pts_store_done[];
#ifdef __x86_64__
__asm__(".text\n"
	"pts_load:\n"
	"pts_load_insn: movq (%rdi), %rax\n"
	"pts_load_done: ret\n"
	"pts_store:\n"
	"pts_store_insn: movq %rsi, (%rdi)\n"
	"pts_store_done: ret\n");
#else
__asm__(".text\n"
	"pts_load: movl 4(%esp), %ecx\n"
	"pts_load_insn: movl (%ecx), %eax\n"
	"pts_load_done: ret\n"
	"pts_store: movl 4(%esp), %ecx\n"
	"	movl 8(%esp), %edx\n"
	"pts_store_insn: movl %edx, (%ecx)\n"
	"pts_store_done: ret\n");
#endif

static volatile bool pts_pf_hit;
static volatile uint32_t pts_pf_err;
static volatile uintptr_t pts_pf_cr2;

/* For the test's #PF handler: a fault of a probe resumes after its
 * instruction (a load then returns 0) and is recorded; false for any
 * other fault. */
static bool pts_on_pf(uintptr_t *ip, uintptr_t *ax, uint32_t err, uintptr_t cr2)
{
	if (*ip == (uintptr_t)pts_load_insn) {
		*ip = (uintptr_t)pts_load_done;
		*ax = 0;
	} else if (*ip == (uintptr_t)pts_store_insn) {
		*ip = (uintptr_t)pts_store_done;
	} else {
		return false;
	}
	pts_pf_hit = true;
	pts_pf_err = err;
	pts_pf_cr2 = cr2;
	return true;
}

/* ---- the model walk (SDM 3A 4.3, 4.5; 4.6.1 for CPL 0 with CR0.WP=1) ---- */

enum { PTS_X_OK, PTS_X_PF, PTS_X_UNKNOWN };
struct pts_xlat {
	int kind;
	bool known;		/* the leaf's frame is modelled (pa is meaningful) */
	uint32_t err;		/* PTS_X_PF: the error code */
	uintptr_t pa;		/* the word's physical address (also on a W fault) */
	/* The entry used at each level: its table and index (-1: not reached). */
	int tab[PTS_LEVELS + 1];
	unsigned idx[PTS_LEVELS + 1];
	unsigned leaf;		/* the level of the leaf */
};

static void pts_walk(unsigned root, pts_va_t va, bool write, struct pts_xlat *x)
{
	int t = (int)root;
	bool writable = true;

	x->known = false;
	for (unsigned l = 0; l <= PTS_LEVELS; l++)
		x->tab[l] = -1;
	for (unsigned l = PTS_LEVELS; l >= 1; l--) {
		unsigned i = pts_index(va, l);
		pts_word_t e = pts_model[t][i];

		x->tab[l] = t;
		x->idx[l] = i;
		if (!(e & PTS_P)) {
			x->kind = PTS_X_PF;
			x->err = write ? PTS_PF_W : 0;
			return;
		}
		writable = writable && (e & PTS_RW);
		if (l == 1 || (l == 2 && (e & PTS_PS))) {
			uintptr_t size = (uintptr_t)1 << pts_shift(l);
			uintptr_t frame = (uintptr_t)(e & (l == 1 ? PTS_ADDR : PTS_LARGE_ADDR));

			x->leaf = l;
			x->pa = frame | ((uintptr_t)va & (size - 1) & ~(uintptr_t)(sizeof(pts_word_t) - 1));
			x->known = (x->pa >= PTS_BLOCK_BASE &&
				    x->pa < PTS_BLOCK_BASE + (uintptr_t)PTS_NFRAMES * PTS_FRAME) ||
				   pts_table_at(x->pa) >= 0;
			if (write && !writable) {
				x->kind = PTS_X_PF;
				x->err = PTS_PF_P | PTS_PF_W;
				return;
			}
			x->kind = x->known ? PTS_X_OK : PTS_X_UNKNOWN;
			return;
		}
		t = pts_table_at((uintptr_t)(e & PTS_ADDR));
		if (t < 0) {
			/* A table the engine does not own (the runtime's
			 * identity map, met through the recursive entry). */
			x->kind = PTS_X_UNKNOWN;
			return;
		}
	}
}

/* What the word at @pa holds in the model, and the bits to compare. */
static pts_word_t pts_expected(uintptr_t pa, pts_word_t *care)
{
	int t = pts_table_at(pa);
	unsigned w = (unsigned)(pa & (PTS_FRAME - 1)) / sizeof(pts_word_t);

	if (t >= 0) {
		*care = (pts_word_t)~(pts_word_t)PTS_AD;
		return pts_model[t][w];
	}
	unsigned f = (unsigned)((pa - PTS_BLOCK_BASE) / PTS_FRAME);
	*care = (pts_word_t)~(pts_word_t)0;
	return pts_slot[f] == w + 1 ? pts_slot_val[f] : pts_tag(pa);
}

/* ---- reporting ---- */

static void pts_report(pts_va_t va, const char *what, unsigned long long want,
		       unsigned long long got, bool path)
{
	struct pts_xlat x;

	if (++pts_st.mismatches > PTS_REPORT_MAX)
		return;
	guest_printf("MISMATCH op %u (%s), root %u, va 0x%llx: %s: expected 0x%llx, got 0x%llx\n",
		     pts_opno, pts_op_name[pts_opkind], pts_cur, (unsigned long long)va, what,
		     want, got);
	if (!path)
		return;
	/* The entries the model walks for @va: model value, memory. */
	pts_walk(pts_cur, va, false, &x);
	for (unsigned l = PTS_LEVELS; l >= 1 && x.tab[l] >= 0; l--)
		guest_printf("  level %u: table %d entry %u: model 0x%llx, memory 0x%llx\n", l,
			     x.tab[l], x.idx[l], (unsigned long long)pts_model[x.tab[l]][x.idx[l]],
			     (unsigned long long)pts_pool[x.tab[l]][x.idx[l]]);
}

static void pts_mismatch(pts_va_t va, const char *what, unsigned long long want,
			 unsigned long long got)
{
	pts_report(va, what, want, got, true);
}

/* A #PF the model predicts: error code and CR2 (4.7). */
static void pts_check_fault(pts_va_t va, const struct pts_xlat *x)
{
	pts_st.faults++;
	if (!pts_pf_hit)
		pts_mismatch(va, "no #PF; the error code due", x->err, 0);
	else if (pts_pf_err != x->err)
		pts_mismatch(va, "#PF error code", x->err, pts_pf_err);
	else if (pts_pf_cr2 != (uintptr_t)va)
		pts_mismatch(va, "CR2", (uintptr_t)va, pts_pf_cr2);
}

/* 4.8: A in every entry the translation used, D in the leaf of a write. */
static void pts_check_ad(pts_va_t va, const struct pts_xlat *x, bool write)
{
	for (unsigned l = x->leaf; l <= PTS_LEVELS; l++) {
		pts_word_t e = ((volatile pts_word_t *)pts_pool[x->tab[l]])[x->idx[l]];
		pts_word_t want = PTS_A | (write && l == x->leaf ? PTS_D : 0);

		pts_st.ad++;
		if ((e & want) != want)
			pts_mismatch(va, l == x->leaf ? "A/D in the leaf" : "A in an upper entry",
				     want, e & PTS_AD);
	}
}

/* A read at @va, checked against the model. */
static void pts_check_read(pts_va_t va)
{
	struct pts_xlat x;
	pts_word_t got, want, care;

	pts_walk(pts_cur, va, false, &x);
	if (x.kind == PTS_X_UNKNOWN) {
		pts_st.unknown++;
		return;
	}
	pts_pf_hit = false;
	got = pts_load(va);
	if (x.kind == PTS_X_PF) {
		pts_check_fault(va, &x);
		return;
	}
	pts_st.values++;
	if (pts_pf_hit) {
		pts_mismatch(va, "unexpected #PF, error code", 0, pts_pf_err);
		return;
	}
	want = pts_expected(x.pa, &care);
	if ((got ^ want) & care)
		pts_mismatch(va, "word read", want, got);
	pts_check_ad(va, &x, false);
}

/* ---- entry changes and the flushes they need ---- */

static pts_va_t pts_inv[PTS_INV_MAX];
static unsigned pts_ninv;
static bool pts_need_cr3;

static void pts_inv_add(pts_va_t va)
{
	for (unsigned k = 0; k < pts_ninv; k++)
		if (pts_inv[k] == va)
			return;
	if (pts_ninv == PTS_INV_MAX)
		pts_need_cr3 = true;
	else
		pts_inv[pts_ninv++] = va;
}

/* Entry @old at @va's level-@level slot is about to change: collect what
 * must be invalidated (the table in the design note). */
static void pts_note(unsigned level, pts_va_t va, pts_word_t old)
{
	if (!(old & PTS_P))
		return;
	if (level == 1 || (level == 2 && (old & PTS_PS))) {
		pts_inv_add(va);
		return;
	}
	int sub = pts_table_at((uintptr_t)(old & PTS_ADDR));
	if (sub < 0 || level > 2 || pts_npresent[sub] > PTS_INV_MAX) {
		pts_need_cr3 = true;
		return;
	}
	if (!pts_npresent[sub]) {
		pts_inv_add(va);	/* 4.10.4.2: INVLPG at least once */
		return;
	}
	for (unsigned w = 0; w < PTS_ENTRIES / 32; w++)
		for (uint32_t m = pts_present[sub][w]; m; m &= m - 1)
			pts_inv_add(va | (pts_va_t)(w * 32 + (unsigned)__builtin_ctz(m)) << 12);
}

/* The entry being changed: table, index, value before the change, and
 * the level at which pts_up() placed the table. */
static struct {
	unsigned t, i, level;
	pts_word_t old;
} pts_chg;

/* Table @t sits at @level under a chain of links whose indexes are
 * @bits: climb the reverse map to the current root (level PTS_LEVELS);
 * every chain that reaches it is a place pts_chg.t sits in the tree.
 * Only entries at level >= 2 link, so the climb stops at the top. */
static void pts_up(unsigned t, unsigned level, pts_va_t bits)
{
	if (level == PTS_LEVELS) {
		if (t == pts_cur)
			pts_note(pts_chg.level, bits | (pts_va_t)pts_chg.i << pts_shift(pts_chg.level),
				 pts_chg.old);
		return;
	}
	for (unsigned w = 0; w < PTS_MAX_SLOTS / 32; w++) {
		for (uint32_t m = pts_parents[t][w]; m; m &= m - 1) {
			unsigned id = w * 32 + (unsigned)__builtin_ctz(m);

			pts_up(pts_slot_tab[id], level + 1,
			       bits | (pts_va_t)pts_slot_idx[id] << pts_shift(level + 1));
		}
	}
}

/* Every place table pts_chg.t sits in the current root's tree, by the
 * model before the change: at its class's level or, seen through a
 * recursive or page-directory-as-page-table link, lower. */
static void pts_occurrences(void)
{
	for (pts_chg.level = 1; pts_chg.level <= pts_class[pts_chg.t]; pts_chg.level++)
		pts_up(pts_chg.t, pts_chg.level, 0);
}

static void pts_flush(void)
{
	if (pts_need_cr3 || (pts_ninv && !pts_below(32))) {
		pts_load_cr3(pts_table_pa(pts_cur));
		pts_st.cr3_reload++;
	} else if (!pts_ninv) {
		pts_st.no_flush++;
	} else {
#ifdef pts_invlpg_list
		pts_invlpg_list(pts_inv, pts_ninv);
#else
		for (unsigned k = 0; k < pts_ninv; k++)
			pts_invlpg(pts_inv[k]);
#endif
		pts_st.invlpg += pts_ninv;
	}
	pts_ninv = 0;
	pts_need_cr3 = false;
}

/* Entry @i of table @t becomes @v, stored through @via when it is not 0
 * (a linear address the model maps to that entry, writable), else through
 * the identity map; then the flushes. */
static void pts_set(unsigned t, unsigned i, pts_word_t v, pts_va_t via)
{
	pts_chg.t = t;
	pts_chg.i = i;
	pts_chg.old = pts_model[t][i];
	pts_occurrences();
	pts_model_set(t, i, v);
	pts_st.entry_writes++;
	if (via) {
		pts_pf_hit = false;
		pts_store(via, v);
		pts_st.via_data++;
		if (pts_pf_hit) {
			pts_mismatch(via, "entry store through a data mapping faulted, error code",
				     0, pts_pf_err);
			((volatile pts_word_t *)pts_pool[t])[i] = v;
		}
	} else {
		((volatile pts_word_t *)pts_pool[t])[i] = v;
	}
	pts_flush();
}

/* The recursive view of @va's level-@level table: PTS_REC at the top
 * @level positions, then @va's own upper indexes. It maps that table
 * when the roots' PTS_REC entries point at themselves. */
static pts_va_t pts_rec_va(pts_va_t va, unsigned level)
{
	pts_va_t r = 0;

	for (unsigned l = 1; l <= PTS_LEVELS; l++) {
		unsigned from = l + level;
		unsigned idx = from > PTS_LEVELS ? PTS_REC : pts_index(va, from);
		r |= (pts_va_t)idx << pts_shift(l);
	}
	return r;
}

/* A linear address through which entry (@t, @i) can be written, or 0:
 * the recursive view of @va's level-@level table, if the model maps it
 * there writable (it does when the root's PTS_REC entry points at it). */
static pts_va_t pts_via(unsigned t, unsigned i, pts_va_t va, unsigned level)
{
	struct pts_xlat x;
	pts_va_t rv;

	if (pts_below(2))
		return 0;
	rv = pts_rec_va(va, level) + i * sizeof(pts_word_t);
	pts_walk(pts_cur, rv, true, &x);
	if (x.kind == PTS_X_OK && x.pa == pts_table_pa(t) + i * sizeof(pts_word_t))
		return rv;
	return 0;
}

#include "guests/ptstress_ops.h"

#endif
