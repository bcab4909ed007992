/*
 * ptstress_ops.h — the operations of the page-table stress engine: the
 * values entries get, the addresses the ops use, data writes, entry
 * changes (map, unmap, protect, remap, link, unlink, large page, split,
 * merge, a page directory as a page table, the upper levels, the
 * recursive entry), CR3 switches, the audits and the run loop. Included
 * by guests/ptstress_tmpl.h, whose note describes the model, the checks
 * and the flush rules these ops rely on.
 */
#ifndef GUESTS_PTSTRESS_OPS_H
#define GUESTS_PTSTRESS_OPS_H

/* ---- values for entries ---- */

static pts_word_t pts_flags(void)
{
	unsigned r = pts_rand();
	pts_word_t f = PTS_P;

	if (r % 8)
		f |= PTS_RW;	/* mostly writable */
	if (r & 0x10)
		f |= PTS_US;	/* CPL 0 ignores it (no SMAP): noise for the MMU */
	if (r & 0x20)
		f |= PTS_A;
	if (r & 0x40)
		f |= PTS_D;
	return f;
}

/* The tables of each class are consecutive in the pool. */
static uint8_t pts_class_first[PTS_LEVELS + 1], pts_class_count[PTS_LEVELS + 1];

static int pts_random_table(unsigned cls)
{
	return pts_class_first[cls] + (int)pts_below(pts_class_count[cls]);
}

static pts_word_t pts_pte_value(void)
{
	/* One in ten maps a page table as data. */
	uintptr_t pa = pts_below(10) ? PTS_BLOCK_BASE + (uintptr_t)pts_below(PTS_NFRAMES) * PTS_FRAME
				     : pts_table_pa(pts_below(PTS_NTABLES));
	return (pts_word_t)pa | pts_flags();
}

static pts_word_t pts_large_value(void)
{
	pts_word_t pa = (pts_word_t)(PTS_BLOCK_BASE +
				     (uintptr_t)pts_below(PTS_NBLOCKS) * PTS_LARGE_SIZE);
	return pa | pts_flags() | PTS_PS;
}

static pts_word_t pts_link_value(unsigned cls)
{
	pts_word_t pa = (pts_word_t)pts_table_pa((unsigned)pts_random_table(cls));
	return pa | pts_flags();
}

/* A new value for entry @i of table @t, fit for its class. */
static pts_word_t pts_value(unsigned t, unsigned i)
{
	unsigned cls = pts_class[t], r = pts_below(16);

	if (cls == PTS_LEVELS && i == PTS_REC)
		return r < 2 ? 0 : r < 12 ? (pts_word_t)pts_table_pa(t) | PTS_P | PTS_RW
					  : pts_link_value(PTS_LEVELS);
	if (cls == 1)
		return r < 3 ? 0 : pts_pte_value();
	if (cls == 2)
		return r < 3 ? 0 : r < 10 ? pts_link_value(1) : r < 14 ? pts_large_value()
					   : pts_link_value(2);
	return r < 2 ? 0 : pts_link_value(cls - 1);
}

static bool pts_is_slot(unsigned t, unsigned i)
{
	unsigned cls = pts_class[t];

	if (cls == 1)
		return true;
	for (unsigned k = 0; k < pts_nslots[cls]; k++)
		if (pts_slots[cls][k] == i)
			return true;
	return false;
}

/* ---- linear addresses ---- */

/* A word in the arena: a random region, a page near the start of its
 * table or of its second half (the halves a shadow MMU may keep apart),
 * or anywhere. */
static pts_va_t pts_arena_va(void)
{
	unsigned r = pts_below(8), p;

	if (r < 4)
		p = pts_below(8);
	else if (r < 6)
		p = PTS_ENTRIES / 2 + pts_below(8);
	else
		p = pts_below(PTS_ENTRIES);
	pts_va_t base = pts_region[pts_below(PTS_NREGIONS)] | (pts_va_t)p << 12;
	return base | (pts_va_t)pts_below(PTS_ENTRIES) * sizeof(pts_word_t);
}

/* An arena word, or (one in four) the entry an arena address uses at
 * some level, seen through the recursive view. */
static pts_va_t pts_any_va(void)
{
	pts_va_t va = pts_arena_va();
	unsigned level;

	if (pts_below(4))
		return va;
	level = 1 + pts_below(PTS_LEVELS);
	return pts_rec_va(va, level) | (pts_va_t)pts_index(va, level) * sizeof(pts_word_t);
}

/* ---- data writes ---- */

static void pts_store_ok(pts_va_t va, pts_word_t v)
{
	pts_pf_hit = false;
	pts_store(va, v);
	if (pts_pf_hit)
		pts_mismatch(va, "unexpected #PF on a store, error code", 0, pts_pf_err);
}

/* A write at @va: a #PF that leaves memory alone, a data word (the model
 * takes the new value; the word the frame's last write changed gets its
 * tag back first), or an entry of a table mapped as data, which becomes
 * an entry change through that mapping. */
static void pts_write(pts_va_t va)
{
	struct pts_xlat x;
	uint64_t hi = pts_rand();
	pts_word_t v = (pts_word_t)(hi << 32 | pts_rand()), want, care;
	int t;

	pts_walk(pts_cur, va, true, &x);
	if (x.kind == PTS_X_UNKNOWN) {
		pts_st.unknown++;
		return;
	}
	if (x.kind == PTS_X_PF) {
		pts_pf_hit = false;
		pts_store(va, v);
		pts_check_fault(va, &x);
		if (x.known) {
			want = pts_expected(x.pa, &care);
			if ((*(volatile pts_word_t *)x.pa ^ want) & care)
				pts_mismatch(va, "memory after a faulting store", want,
					     *(volatile pts_word_t *)x.pa);
		}
		return;
	}
	t = pts_table_at(x.pa);
	if (t >= 0) {
		unsigned i = (unsigned)(x.pa & (PTS_FRAME - 1)) / sizeof(pts_word_t);

		pts_opkind = PTS_OP_TABLEWRITE;
		/* Outside the indexes ops change, the entry keeps its value
		 * (a store of the same entry; A and D may drop). */
		v = pts_is_slot((unsigned)t, i) ? pts_value((unsigned)t, i) : pts_model[t][i];
		pts_set((unsigned)t, i, v, va);
		pts_check_read(va);
		return;
	}
	unsigned f = (unsigned)((x.pa - PTS_BLOCK_BASE) / PTS_FRAME);
	unsigned w = (unsigned)(x.pa & (PTS_FRAME - 1)) / sizeof(pts_word_t);
	pts_va_t page = va & ~(pts_va_t)(PTS_FRAME - 1);
	uintptr_t frame = x.pa & ~(uintptr_t)(PTS_FRAME - 1);

	if (pts_slot[f] && pts_slot[f] != w + 1)
		pts_store_ok(page + (pts_slot[f] - 1) * sizeof(pts_word_t),
			     pts_tag(frame));
	pts_store_ok(va, v);
	pts_slot[f] = (uint16_t)(w + 1);
	pts_slot_val[f] = v;
	pts_check_ad(va, &x, true);
	pts_check_read(va);
}

/* ---- operations on entries ---- */

/* The entry at @*level on @va's path in @root; when the walk stops above
 * that level (an entry not present, or a large page), the entry where it
 * stopped, and *level says which. */
static unsigned pts_entry_for(unsigned root, pts_va_t va, unsigned *level, unsigned *i)
{
	struct pts_xlat x;

	pts_walk(root, va, false, &x);
	for (unsigned l = *level; l < PTS_LEVELS; l++) {
		if (x.tab[l] >= 0) {
			*level = l;
			*i = x.idx[l];
			return (unsigned)x.tab[l];
		}
	}
	*level = PTS_LEVELS;
	*i = x.idx[PTS_LEVELS];
	return root;
}

/* A large page at @old becomes a page table mapping the same 4 KiB
 * frames with the same rights; the PDE then links it with all rights. */
static pts_word_t pts_split(pts_word_t old)
{
	unsigned s = (unsigned)pts_random_table(1);
	uintptr_t base = (uintptr_t)(old & PTS_LARGE_ADDR);
	pts_word_t keep = old & (PTS_P | PTS_RW | PTS_US | PTS_AD);

	/* The table may sit anywhere already: reload CR3 after filling it. */
	for (unsigned j = 0; j < PTS_ENTRIES; j++) {
		pts_word_t e = (pts_word_t)(base + (uintptr_t)j * PTS_FRAME) | keep;

		pts_model_set(s, j, e);
		((volatile pts_word_t *)pts_pool[s])[j] = e;
	}
	pts_st.entry_writes += PTS_ENTRIES;
	pts_need_cr3 = true;
	pts_flush();
	return (pts_word_t)pts_table_pa(s) | PTS_P | PTS_RW | PTS_US | PTS_A;
}

/* A PDE linking a table whose entry 0 maps the start of a data block
 * becomes a large page of that block with entry 0's rights. */
static pts_word_t pts_merge(pts_word_t old)
{
	int s = (old & PTS_P) && !(old & PTS_PS) ? pts_table_at((uintptr_t)(old & PTS_ADDR)) : -1;
	pts_word_t e0 = s >= 0 ? pts_model[s][0] : 0;
	uintptr_t pa = (uintptr_t)(e0 & PTS_ADDR);

	if (!(e0 & PTS_P) || pa < PTS_BLOCK_BASE || (pa & (PTS_LARGE_SIZE - 1)) ||
	    pa >= PTS_BLOCK_BASE + (uintptr_t)PTS_NBLOCKS * PTS_LARGE_SIZE)
		return pts_large_value();
	return (pts_word_t)pa | (e0 & (PTS_P | PTS_RW | PTS_US | PTS_AD)) | PTS_PS;
}

static void pts_op_entry(enum pts_op op)
{
	unsigned root = pts_below(5) ? pts_cur : pts_below(PTS_NROOTS);
	unsigned want = op <= PTS_OP_REMAP ? 1 : op <= PTS_OP_SELFMAP ? 2 :
			PTS_LEVELS > 2 ? 3 + pts_below(PTS_LEVELS - 2) : PTS_LEVELS;
	pts_va_t va = pts_arena_va();
	unsigned level = want, i, t = pts_entry_for(root, va, &level, &i);
	pts_word_t old = pts_model[t][i], v;

	if (level != want) {
		/* The path stops above: link a table there first. */
		pts_opkind = PTS_OP_LINK;
		v = pts_link_value(level - 1);
	} else if (pts_class[t] != level) {
		/* A page directory used as a page table: its entries stay
		 * page-directory entries (a PTE there would link a data
		 * frame as a table). */
		v = pts_is_slot(t, i) ? pts_value(t, i) : old;
	} else {
		switch (op) {
		case PTS_OP_MAP:	v = pts_pte_value(); break;
		case PTS_OP_UNMAP:	v = 0; break;
		case PTS_OP_PROTECT:	v = old & PTS_P ? old ^ PTS_RW : pts_pte_value(); break;
		case PTS_OP_REMAP:
			v = old & PTS_P ? (pts_pte_value() & PTS_ADDR) | (old & ~(pts_word_t)PTS_ADDR)
					: pts_pte_value();
			break;
		case PTS_OP_LINK:	v = pts_link_value(1); break;
		case PTS_OP_UNLINK:	v = 0; break;
		case PTS_OP_LARGE:	v = pts_large_value(); break;
		case PTS_OP_SPLIT:
			if (!(old & PTS_P) || !(old & PTS_PS)) {
				pts_opkind = PTS_OP_LARGE;
				v = pts_large_value();
			} else {
				v = pts_split(old);
			}
			break;
		case PTS_OP_MERGE:	v = pts_merge(old); break;
		case PTS_OP_SELFMAP:
			v = pts_below(2) ? (pts_word_t)pts_table_pa(t) | pts_flags() : pts_link_value(2);
			break;
		default:		v = pts_value(t, i); break;
		}
	}
	pts_set(t, i, v, pts_via(t, i, va, level));
	if (root == pts_cur) {
		pts_check_read(va);
		if (want >= 2)	/* a neighbour under the same PDE */
			pts_check_read(va ^ (pts_va_t)pts_below(PTS_ENTRIES) << 12);
	}
}

static void pts_op_recurse(void)
{
	unsigned root = pts_below(PTS_NROOTS);
	pts_word_t v = pts_value(root, PTS_REC);

	pts_set(root, PTS_REC, v, pts_via(root, PTS_REC, 0, PTS_LEVELS));
	pts_check_read(pts_any_va());
}

static void pts_op_switch(void)
{
	pts_cur = pts_below(PTS_NROOTS);
	pts_load_cr3(pts_table_pa(pts_cur));
	pts_check_read(pts_arena_va());
}

static void pts_op_tablewrite(void)
{
	pts_va_t va = pts_arena_va();
	unsigned level = 1 + pts_below(PTS_LEVELS);

	pts_write(pts_rec_va(va, level) | (pts_va_t)pts_index(va, level) * sizeof(pts_word_t));
}

/* ---- audits: every table entry, and data words, through the identity map ---- */

static void pts_audit(bool full)
{
	pts_word_t want;

	for (unsigned t = 0; t < PTS_NTABLES; t++) {
		for (unsigned i = 0; i < PTS_ENTRIES; i++) {
			pts_word_t e = ((volatile pts_word_t *)pts_pool[t])[i];

			pts_st.audit_words++;
			if ((e ^ pts_model[t][i]) & ~(pts_word_t)PTS_AD)
				pts_report((pts_va_t)(pts_table_pa(t) + i * sizeof(pts_word_t)),
					   "audit of a table entry (physical address)",
					   pts_model[t][i], e, false);
		}
	}
	for (unsigned f = 0; f < PTS_NFRAMES; f++) {
		uintptr_t frame = PTS_BLOCK_BASE + (uintptr_t)f * PTS_FRAME;
		const volatile pts_word_t *word = (const volatile pts_word_t *)frame;
		pts_word_t tag = pts_tag(frame);
		unsigned w = full ? pts_find_other(frame, 0, tag) : f % PTS_ENTRIES;

		/* Full: every word but the one the frame's last write set is
		 * its tag. Otherwise one word and the written one. */
		for (; w < PTS_ENTRIES; w = full ? pts_find_other(frame, w + 1, tag) : PTS_ENTRIES) {
			want = pts_slot[f] == w + 1 ? pts_slot_val[f] : tag;
			if (word[w] != want)
				pts_report((pts_va_t)(frame + w * sizeof(pts_word_t)),
					   "audit of a data word (physical address)", want, word[w],
					   false);
		}
		if (!full && pts_slot[f] && word[pts_slot[f] - 1] != pts_slot_val[f])
			pts_report((pts_va_t)(frame + (pts_slot[f] - 1u) * sizeof(pts_word_t)),
				   "audit of a data word (physical address)", pts_slot_val[f],
				   word[pts_slot[f] - 1], false);
		pts_st.audit_words += full ? PTS_ENTRIES : 1 + !!pts_slot[f];
	}
}

/* ---- setting up and running ---- */

/* Numbers the slots and finds the classes in the pool: first of all. */
static void pts_init(void)
{
	for (unsigned t = PTS_NTABLES; t-- > 0;) {
		pts_class_first[pts_class[t]] = (uint8_t)t;
		pts_class_count[pts_class[t]]++;
	}
	for (unsigned t = 0; t < PTS_NTABLES; t++) {
		unsigned cls = pts_class[t];

		if (cls < 2)
			continue;
		pts_slot_base[t] = (uint8_t)pts_nslot_ids;
		for (unsigned k = 0; k < pts_nslots[cls]; k++) {
			if (pts_nslot_ids == PTS_MAX_SLOTS) {
				guest_printf("ptstress: more than %u slots\n", PTS_MAX_SLOTS);
				guest_exit(GUEST_EXIT_FAIL);
			}
			pts_slot_tab[pts_nslot_ids] = (uint8_t)t;
			pts_slot_idx[pts_nslot_ids++] = pts_slots[cls][k];
		}
	}
}

/* Entry @i of table @t, before the tables are in use. */
static void pts_put(unsigned t, unsigned i, pts_word_t v)
{
	pts_model_set(t, i, v);
	pts_pool[t][i] = v;
}

/* Tags every data word and fills the page directories' and page
 * tables' changeable entries at random; the test has put the fixed
 * entries (its own identity map, the upper levels, PTS_REC) and may
 * then put its own on top. */
static void pts_prepare(void)
{
	for (unsigned f = 0; f < PTS_NFRAMES; f++)
		pts_fill(PTS_BLOCK_BASE + (uintptr_t)f * PTS_FRAME,
			 pts_tag(PTS_BLOCK_BASE + (uintptr_t)f * PTS_FRAME));
	for (unsigned t = 0; t < PTS_NTABLES; t++) {
		unsigned cls = pts_class[t];

		if (cls == 1) {
			for (unsigned k = 0; k < 6; k++) {
				pts_va_t va = pts_arena_va();
				pts_put(t, pts_index(va, 1), pts_pte_value());
			}
		} else if (cls == 2) {
			for (unsigned k = 0; k < pts_nslots[2]; k++) {
				unsigned i = pts_slots[2][k];
				if (!(cls == PTS_LEVELS && i == PTS_REC))
					pts_put(t, i, pts_value(t, i));
			}
		}
	}
}

static void pts_summary(const char *name, uint32_t nops)
{
	guest_printf("%s: %u operations, seed 0x9e3779b97f4a7c15\n", name, nops);
	for (unsigned k = 0; k < PTS_NOPS; k++)
		if (k != PTS_OP_UPPER || PTS_LEVELS > 2)	/* 32-bit paging has none */
			guest_printf("  %s: %u\n", pts_op_name[k], pts_st.ops[k]);
	guest_printf("checks: %u words read, %u page faults, %u A/D flags, %u audited words\n",
		     pts_st.values, pts_st.faults, pts_st.ad, pts_st.audit_words);
	guest_printf("not predictable (runtime's own tables), skipped: %u\n", pts_st.unknown);
	guest_printf("entry writes: %u (%u through a data mapping)\n", pts_st.entry_writes,
		     pts_st.via_data);
	guest_printf("flushes: %u INVLPG, %u CR3 reloads, %u changes needing none\n",
		     pts_st.invlpg, pts_st.cr3_reload, pts_st.no_flush);
	guest_printf("mismatches: %u\n", pts_st.mismatches);
}

/* The mix of operations: percentages, cumulated. */
static const struct {
	uint8_t upto;
	enum pts_op op;
} pts_mix[] = {
	{ 30, PTS_OP_READ },	{ 44, PTS_OP_WRITE },	{ 54, PTS_OP_MAP },
	{ 59, PTS_OP_UNMAP },	{ 65, PTS_OP_PROTECT },	{ 71, PTS_OP_REMAP },
	{ 75, PTS_OP_LINK },	{ 77, PTS_OP_UNLINK },	{ 79, PTS_OP_LARGE },
	{ 82, PTS_OP_SPLIT },	{ 84, PTS_OP_MERGE },	{ 86, PTS_OP_SELFMAP },
	{ 88, PTS_OP_UPPER },	{ 89, PTS_OP_RECURSE },	{ 96, PTS_OP_SWITCH },
	{ 100, PTS_OP_TABLEWRITE },
};

/* Operation number pts_opno (the caller counts from 1), with the
 * periodic audit; pts_run() is the plain loop, an SMP test calls it on
 * whichever CPU it chose. */
static void pts_step(void)
{
	unsigned r = pts_below(100), k = 0;

	while (r >= pts_mix[k].upto)
		k++;
	enum pts_op op = pts_mix[k].op;

	if (op == PTS_OP_UPPER && PTS_LEVELS == 2)
		op = PTS_OP_RECURSE;	/* the root is the only upper level */
	pts_opkind = op;
	switch (op) {
	case PTS_OP_READ:	pts_check_read(pts_any_va()); break;
	case PTS_OP_WRITE:	pts_write(pts_any_va()); break;
	case PTS_OP_RECURSE:	pts_op_recurse(); break;
	case PTS_OP_SWITCH:	pts_op_switch(); break;
	case PTS_OP_TABLEWRITE:	pts_op_tablewrite(); break;
	default:		pts_op_entry(op); break;
	}
	pts_st.ops[pts_opkind]++;
	if (pts_opno % PTS_AUDIT_EVERY == 0)
		pts_audit(false);
}

/* The final audit and the summary; GUEST_EXIT_*. */
static int pts_finish(const char *name, uint32_t nops)
{
	pts_audit(true);
	pts_summary(name, nops);
	guest_printf("%s: %s\n", name, pts_st.mismatches ? "MISMATCH" : "all match the SDM");
	return pts_st.mismatches ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}

/* Runs @nops operations from root 0 (CR3 already holds it); GUEST_EXIT_*. */
static __attribute__((unused)) int pts_run(const char *name, uint32_t nops)
{
	pts_cur = 0;
	for (pts_opno = 1; pts_opno <= nops; pts_opno++)
		pts_step();
	return pts_finish(name, nops);
}

#endif
