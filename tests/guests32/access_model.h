/*
 * access_model.h — the SDM's rules for one paged access, and the loop
 * that checks every permutation of them against the processor. Shared by
 * tests/guests32/access32.c (32-bit paging), tests/guests32/access_pae.c
 * (PAE paging) and tests/guests/access.c (4-level paging).
 *
 * The model (am_expect) is written from SDM Vol. 3A, not from a table of
 * answers:
 *  - 4.3, 4.4.2, 4.5: the walk goes from the top entry down; an entry with
 *    P=0 ends it with no translation; so does a present entry with a
 *    reserved bit set. The PDE is the leaf when PS=1 (32-bit paging: with
 *    CR4.PSE=1, which the 32-bit test sets), else the PTE is.
 *  - Reserved bits we can set: XD (bit 63) when EFER.NXE=0 under PAE and
 *    4-level paging (Tables 4-9..4-11, 4-17..4-20: "reserved (must be 0)"
 *    if IA32_EFER.NXE = 0); bit 21 of a 32-bit-paging PDE with PS=1
 *    (Table 4-4) and bits 20:13 of a PAE/4-level PDE with PS=1 (Tables
 *    4-9, 4-18). Address bits are always below 4 GiB here, so never above
 *    MAXPHYADDR. 32-bit paging has no XD bit: its entries are 32 bits.
 *  - 4.6.1 (access rights). A user-mode address has U/S=1 in every entry
 *    of the walk; writes need R/W=1 in every entry; with XD enabled
 *    (EFER.NXE=1 under PAE or 4-level paging) a fetch needs XD=0 in every
 *    entry. Supervisor (CPL < 3) accesses: reads of user-mode addresses
 *    fault when CR4.SMAP=1 and RFLAGS.AC=0; writes to user-mode addresses
 *    likewise, and otherwise (and to supervisor addresses) need R/W=1
 *    only when CR0.WP=1; fetches from user-mode addresses fault when
 *    CR4.SMEP=1. User (CPL 3) accesses need a user-mode address. SMAP and
 *    AC concern data accesses at CPL < 3 only; at CPL 3 AC only enables
 *    alignment checks (CR0.AM), which aligned accesses never meet.
 *  - 4.7 (error code): P = 0 only for a not-present entry; W/R = the
 *    access is a write; U/S = CPL 3; RSVD = a reserved bit; I/D = the
 *    access is a fetch and (CR4.SMEP=1 or (CR4.PAE=1 and EFER.NXE=1)).
 *    W/R, U/S and I/D describe the access, so they are the same for all
 *    three causes. CR2 = the linear address accessed.
 *  - 4.8 (A/D): on a successful access A is set in every entry the walk
 *    used (PML4E, PDPTE, PDE, PTE; PAE PDPTEs have none, Table 4-8) and
 *    D in the leaf iff the access is a write. What the SDM leaves open is
 *    not asserted: whether a walk that ends in a #PF sets A in the entries
 *    it read before the faulting one (4.8 says only "whenever the
 *    processor uses a paging-structure entry as part of linear-address
 *    translation"; a translation that faults is never completed). What
 *    is asserted on a fault: no bit other than A changes in any entry,
 *    D included (D is set on "a write to a linear address", and a
 *    faulting write writes nothing, 6.5), and a not-present entry does
 *    not change at all. On success no bit other than A and the leaf's D
 *    changes; bit 6 of a non-leaf PDE is ignored (Tables 4-5, 4-10, 4-19)
 *    and stays as written.
 *  - Memory (6.5: #PF is a fault, nothing of the access happens): a read
 *    that succeeds returns the frame's word; a write that succeeds stores
 *    its value; a write that faults leaves the word as it was.
 *
 * Permutations (am_run): the bits under test sit on the PDE and the PTE
 * only; upper levels (4-level PML4E and PDPTE, PAE PDPTEs) grant every
 * right. Control settings: all 16 of CR0.WP, EFER.NXE, CR4.SMEP and
 * CR4.SMAP, and with SMAP=1 both values of RFLAGS.AC: 24 (fewer without
 * XD, SMEP or SMAP: CPUID.80000001H:EDX[20], CPUID.(EAX=7,ECX=0):EBX bits
 * 7 and 20; a skipped feature is printed). Under each, every access
 * (read, write, fetch) at CPL 0 and at CPL 3 meets every walk of this set:
 *  - PDE P=0 (its other bits from the counter below: all ignored);
 *  - PDE P=1, PS=1: all of R/W, U/S, XD (no XD in 32-bit paging) x A, D;
 *  - PDE P=1, PS=0: all of R/W, U/S, XD; under each, PTE P=0 (its other
 *    bits from the counter) and PTE P=1 with all of R/W, U/S, XD x A, D.
 * A running counter, one count per walk and never reset, supplies the
 * bits that cannot change whether an access faults, so each of their
 * values meets every outcome many times without doubling the run: A of a
 * non-leaf PDE (set on success either way; the leaf's A and D are in the
 * full product, since a shadow MMU's write protection hangs on D), G of
 * the leaf (it only marks a translation global, 4.10.2.4, and INVLPG
 * drops global entries too, 4.10.4.1; the tests set CR4.PGE so it is
 * live), bits 6 and 8 of a non-leaf PDE (ignored), the bits of a
 * not-present entry (ignored), and RFLAGS.AC while SMAP=0 (AC matters
 * only to SMAP). Per mode: 4-level and PAE 297 walks x 6 accesses x 24
 * settings = 42768 checks, 32-bit paging 85 walks (no XD) x 6 x 24 =
 * 12240. Each access follows a write of the entries that changed and an
 * INVLPG of the page (4.10.4.1; INVLPG also empties the paging-structure
 * caches, so A in the upper levels is set again).
 */
#ifndef TESTS_ACCESS_MODEL_H
#define TESTS_ACCESS_MODEL_H

#include "guests/touch.h"

/* Entry bits (SDM 3A Tables 4-4..4-6, 4-9..4-11, 4-15..4-20). */
#define AM_P	0x001ull
#define AM_RW	0x002ull
#define AM_US	0x004ull
#define AM_A	0x020ull
#define AM_D	0x040ull
#define AM_PS	0x080ull
#define AM_G	0x100ull
#define AM_XD	0x8000000000000000ull

/* #PF error code bits (4.7, Figure 4-12). */
#define AM_PF_P		0x01u
#define AM_PF_W		0x02u
#define AM_PF_U		0x04u
#define AM_PF_RSVD	0x08u
#define AM_PF_I		0x10u

enum am_mode { AM_MODE_32, AM_MODE_PAE, AM_MODE_4L };

/* The walk, top down: e[0] .. e[n - 1]. The 4-level walk is PML4E,
 * PDPTE, PDE[, PTE]; the other two PDE[, PTE] (PAE PDPTEs are registers
 * loaded with CR3, 4.4.1, and carry no rights). */
#define AM_MAX_LEVELS	4

struct am_case {
	enum am_mode mode;
	bool wp, nxe, smep, smap, ac;	/* CR0.WP, EFER.NXE, CR4.SMEP, CR4.SMAP, RFLAGS.AC */
	unsigned cpl;			/* 0 or 3 */
	unsigned acc;			/* TOUCH_READ, TOUCH_WRITE, TOUCH_FETCH */
	unsigned n;			/* entries in the walk if it reaches the PTE */
	uint64_t e[AM_MAX_LEVELS];	/* as written; e[n - 2] is the PDE */
	/* The permutation loop's state (am_run): the running counter, and
	 * whether AC is taken from it. */
	unsigned count;
	bool ac_free;
};

struct am_outcome {
	bool fault;
	uint32_t error;			/* when fault */
	unsigned used;			/* entries the walk read */
	uint64_t after[AM_MAX_LEVELS];	/* on success: the entries after */
};

/* The level of e[i]: the PDE is level 2, the PTE level 1. */
static inline unsigned am_level(const struct am_case *c, unsigned i)
{
	return c->n - i;
}

static inline bool am_has_xd(const struct am_case *c)
{
	return c->mode != AM_MODE_32;
}

/* A present entry with a reserved bit set (see the header). */
static inline bool am_reserved(const struct am_case *c, unsigned level, uint64_t e)
{
	if (am_has_xd(c) && !c->nxe && (e & AM_XD))
		return true;
	if (level == 2 && (e & AM_PS))
		return c->mode == AM_MODE_32 ? (e & (1ull << 21)) != 0 : (e & 0x1FE000ull) != 0;
	return false;
}

static inline void am_expect(const struct am_case *c, struct am_outcome *o)
{
	uint32_t how = 0;
	bool user_addr = true, writable = true, xd = false;
	unsigned i;

	/* 4.7: bits that describe the access, whatever the cause. */
	if (c->acc == TOUCH_WRITE)
		how |= AM_PF_W;
	if (c->cpl == 3)
		how |= AM_PF_U;
	if (c->acc == TOUCH_FETCH && (c->smep || (am_has_xd(c) && c->nxe)))
		how |= AM_PF_I;

	o->fault = false;
	o->error = 0;
	o->used = 0;
	for (i = 0; i < c->n; i++) {
		uint64_t e = c->e[i];
		unsigned level = am_level(c, i);

		o->used = i + 1;
		if (!(e & AM_P)) {
			o->fault = true;
			o->error = how;
			return;
		}
		if (am_reserved(c, level, e)) {
			o->fault = true;
			o->error = how | AM_PF_P | AM_PF_RSVD;
			return;
		}
		user_addr = user_addr && (e & AM_US);
		writable = writable && (e & AM_RW);
		xd = xd || (am_has_xd(c) && c->nxe && (e & AM_XD));
		if (level == 2 && (e & AM_PS))
			break;
	}
	/*
	 * 4.6.1, with U = a user-mode address, W = R/W=1 in every entry,
	 * X = no XD in effect on the walk:
	 *   CPL < 3 read    faults if U and SMAP and not AC
	 *   CPL < 3 write   faults if U and SMAP and not AC, or not W and WP
	 *   CPL < 3 fetch   faults if not X, or U and SMEP
	 *   CPL 3   read    faults if not U
	 *   CPL 3   write   faults if not U or not W
	 *   CPL 3   fetch   faults if not U or not X
	 */
	bool smap_blocks = user_addr && c->smap && !c->ac;
	bool ok;
	if (c->cpl < 3) {
		if (c->acc == TOUCH_READ)
			ok = !smap_blocks;
		else if (c->acc == TOUCH_WRITE)
			ok = !smap_blocks && (!c->wp || writable);
		else
			ok = !xd && !(user_addr && c->smep);
	} else {
		if (c->acc == TOUCH_READ)
			ok = user_addr;
		else if (c->acc == TOUCH_WRITE)
			ok = user_addr && writable;
		else
			ok = user_addr && !xd;
	}
	if (!ok) {
		o->fault = true;
		o->error = how | AM_PF_P;
		return;
	}
	/* 4.8 */
	for (i = 0; i < AM_MAX_LEVELS; i++)
		o->after[i] = c->e[i];
	for (i = 0; i < o->used; i++)
		o->after[i] |= AM_A;
	if (c->acc == TOUCH_WRITE)
		o->after[o->used - 1] |= AM_D;
}

/* ---- the permutation loop ---- */

/* What a test provides for its paging mode. */
struct am_ops {
	enum am_mode mode;
	const char *name;		/* printed: "4-level", "PAE", "32-bit" */
	unsigned n;			/* entries in a walk to the PTE */
	uintptr_t va;			/* the page under test (large-page aligned) */
	/* The entries above the PDE (4-level), all rights, A clear. */
	uint64_t upper[AM_MAX_LEVELS - 2];
	uint64_t pde_table, frame;	/* the PTE's page table; the frame (large-page aligned) */
	/* CR0.WP, EFER.NXE, CR4.SMEP, CR4.SMAP from the case. */
	void (*set_controls)(const struct am_case *c);
	/* Write e[0..n-1] into the tables (only e[0..n-2] matter when the PDE
	 * maps the page), INVLPG @va. */
	void (*write_entries)(const struct am_case *c);
	/* Read the entries back into @e (n of them). */
	void (*read_entries)(uint64_t *e);
	volatile uint32_t *word;	/* ring-0 view of the frame's word at AM_DATA_OFF */
};

/* The frame holds a RET at offset 0 (the fetch target) and the word
 * reads and writes use at AM_DATA_OFF. */
#define AM_DATA_OFF	0x800u
#define AM_TAG		0x600dcafeu
#define AM_MAX_REPORT	20

/* Counts stay below 2^32: printf in the 32-bit runtime has no 32-bit %lu. */
struct am_stats {
	unsigned checked, faults, mismatches;
	bool nx, smep, smap;
};

/* CPUID.(EAX=@leaf,ECX=0):@reg[@bit] (reg 1 = EBX, 3 = EDX), 0 beyond
 * the highest leaf of its range. */
static inline bool am_cpu_has(uint32_t leaf, unsigned reg, unsigned bit)
{
	uint32_t r[4];

	cpuid(leaf & 0x80000000u, 0, r);
	if (r[0] < leaf)
		return false;
	cpuid(leaf, 0, r);
	return (r[reg] >> bit) & 1;
}

static const char *const am_acc_name[] = { "read", "write", "fetch" };
static const char *const am_level_name[] = { "", "pte", "pde", "pdpte", "pml4e" };

/* The bits of the entries, without the addresses (which depend on where
 * the linker put the tables). */
#define AM_ADDR		0x000FFFFFFFFFF000ull

/* The entries of the walk @c describes, down to the first not-present
 * one or the leaf. */
static inline void am_print_entries(const struct am_case *c, const uint64_t *e)
{
	for (unsigned i = 0; i < c->n; i++) {
		guest_printf(" %s 0x%llx", am_level_name[am_level(c, i)],
			     (unsigned long long)(e[i] & ~AM_ADDR));
		if (!(c->e[i] & AM_P) || (am_level(c, i) == 2 && (c->e[i] & AM_PS)))
			break;
	}
}

static inline void am_report(const struct am_ops *ops, const struct am_case *c,
			     const struct am_outcome *want, const struct touch *got,
			     const uint64_t *after, bool mem_ok)
{
	guest_printf("MISMATCH %s: WP=%u NXE=%u SMEP=%u SMAP=%u AC=%u CPL%u %s;", ops->name,
		     c->wp, c->nxe, c->smep, c->smap, c->ac, c->cpl, am_acc_name[c->acc]);
	am_print_entries(c, c->e);
	guest_printf("\n  want ");
	if (want->fault)
		guest_printf("#PF 0x%x cr2 0x%llx", want->error,
			     (unsigned long long)(c->acc == TOUCH_FETCH ? ops->va : ops->va + AM_DATA_OFF));
	else
		guest_printf("no fault");
	guest_printf(", got ");
	if (got->faulted)
		guest_printf("#PF 0x%x cr2 0x%llx", got->error, (unsigned long long)got->cr2);
	else
		guest_printf("no fault");
	if (!mem_ok)
		guest_printf(", memory wrong (word 0x%x)", *ops->word);
	guest_printf("\n  after:");
	am_print_entries(c, after);
	if (!want->fault) {
		guest_printf("; want:");
		am_print_entries(c, want->after);
	}
	guest_printf("\n");
}

/* One access: returns whether processor and model agree. */
static inline bool am_check_one(const struct am_ops *ops, const struct am_case *c,
				struct am_stats *st)
{
	struct am_outcome want;
	struct touch got;
	uint64_t after[AM_MAX_LEVELS] = { 0 };
	uintptr_t va = c->acc == TOUCH_FETCH ? ops->va : ops->va + AM_DATA_OFF;
	bool ok, mem_ok;

	am_expect(c, &want);
	*ops->word = AM_TAG;
	ops->write_entries(c);
	touch(&got, c->cpl, c->acc, va, c->ac);
	ops->read_entries(after);

	ok = got.faulted == want.fault;
	if (ok && want.fault)
		ok = got.error == want.error && got.cr2 == va;
	/* Entries: on success exactly as the model says; on a fault, only A
	 * may have changed, and nothing in an entry with P=0. */
	for (unsigned i = 0; ok && i < c->n; i++) {
		if (!want.fault)
			ok = after[i] == want.after[i];
		else if (!(c->e[i] & AM_P))
			ok = after[i] == c->e[i];
		else
			ok = (after[i] & ~AM_A) == (c->e[i] & ~AM_A);
	}
	if (c->acc == TOUCH_READ)
		mem_ok = want.fault || got.value == AM_TAG;
	else if (c->acc == TOUCH_WRITE)
		mem_ok = *ops->word == (want.fault ? AM_TAG : TOUCH_WRITE_VALUE);
	else
		mem_ok = true;
	ok = ok && mem_ok;

	st->checked++;
	st->faults += want.fault;
	if (!ok && st->mismatches++ < AM_MAX_REPORT)
		am_report(ops, c, &want, &got, after, mem_ok);
	return ok;
}

/* Every access and CPL on one walk; then the running counter moves on. */
static inline void am_walk(const struct am_ops *ops, struct am_case *c, struct am_stats *st)
{
	if (c->ac_free)
		c->ac = (c->count >> 3) & 1;
	for (unsigned cpl = 0; cpl <= 3; cpl += 3)
		for (unsigned acc = TOUCH_READ; acc <= TOUCH_FETCH; acc++) {
			c->cpl = cpl;
			c->acc = acc;
			am_check_one(ops, c, st);
		}
	c->count++;
}

/* The low bits of @count spread over the entry bits @mask (lowest first). */
static inline uint64_t am_spread(uint64_t mask, unsigned count)
{
	uint64_t v = 0;

	for (uint64_t bit = 1; mask; bit <<= 1) {
		if (!(mask & bit))
			continue;
		mask &= ~bit;
		if (count & 1)
			v |= bit;
		count >>= 1;
	}
	return v;
}

/* Rights combination @r (0..7) over R/W, U/S and XD (none in 32-bit paging). */
static inline uint64_t am_rights(const struct am_case *c, unsigned r)
{
	return (r & 1 ? AM_RW : 0) | (r & 2 ? AM_US : 0) | (am_has_xd(c) && (r & 4) ? AM_XD : 0);
}

/* A and D from @ad (0..3). */
static inline uint64_t am_ad(unsigned ad)
{
	return (ad & 1 ? AM_A : 0) | (ad & 2 ? AM_D : 0);
}

/* Every walk of the set in the header, under the controls in @c. */
static inline void am_walks(const struct am_ops *ops, struct am_case *c, struct am_stats *st)
{
	const unsigned nr = am_has_xd(c) ? 8 : 4, pde_i = c->n - 2, pte_i = c->n - 1;
	/* Everything but P: what a not-present entry ignores. */
	const uint64_t np_bits = AM_RW | AM_US | AM_A | AM_D | AM_PS | AM_G |
				 (am_has_xd(c) ? AM_XD : 0);

	for (unsigned i = 0; i < pde_i; i++)
		c->e[i] = ops->upper[i];

	/* The PDE is not present. */
	c->e[pde_i] = ops->pde_table | am_spread(np_bits, c->count);
	c->e[pte_i] = 0;
	am_walk(ops, c, st);

	/* The PDE maps the page. */
	for (unsigned r = 0; r < nr; r++)
		for (unsigned ad = 0; ad < 4; ad++) {
			c->e[pde_i] = ops->frame | AM_P | AM_PS | am_rights(c, r) | am_ad(ad) |
				      am_spread(AM_G, c->count);
			am_walk(ops, c, st);
		}

	/* The PDE references the page table (its bits 6 and 8 are ignored). */
	for (unsigned r = 0; r < nr; r++) {
		const uint64_t pde = ops->pde_table | AM_P | am_rights(c, r);

		c->e[pde_i] = pde | am_spread(AM_D | AM_G, c->count) | am_spread(AM_A, c->count >> 4);
		c->e[pte_i] = ops->frame | am_spread(np_bits, c->count >> 2);
		am_walk(ops, c, st);
		for (unsigned r2 = 0; r2 < nr; r2++)
			for (unsigned ad = 0; ad < 4; ad++) {
				c->e[pde_i] = pde | am_spread(AM_D | AM_G, c->count) |
					      am_spread(AM_A, c->count >> 4);
				c->e[pte_i] = ops->frame | AM_P | am_rights(c, r2) | am_ad(ad) |
					      am_spread(AM_G, c->count >> 2);
				am_walk(ops, c, st);
			}
	}
}

/* Every control setting: CR0.WP, EFER.NXE, CR4.SMEP and CR4.SMAP, and
 * RFLAGS.AC where SMAP=1 (with SMAP=0 it comes from the counter). Prints
 * one line for the mode; returns the number of mismatches. */
static inline unsigned am_run(const struct am_ops *ops)
{
	struct am_stats st = {
		.nx = am_cpu_has(0x80000001u, 3, 20),
		.smep = am_cpu_has(7, 1, 7),
		.smap = am_cpu_has(7, 1, 20),
	};
	struct am_case c = { .mode = ops->mode, .n = ops->n };

	if (!st.nx)
		guest_printf("%s: no execute-disable (CPUID.80000001H:EDX[20]=0): EFER.NXE=1 skipped\n",
			     ops->name);
	if (!st.smep)
		guest_printf("%s: no SMEP (CPUID.7.0:EBX[7]=0): CR4.SMEP=1 skipped\n", ops->name);
	if (!st.smap)
		guest_printf("%s: no SMAP (CPUID.7.0:EBX[20]=0): CR4.SMAP=1 skipped\n", ops->name);
	for (unsigned ctl = 0; ctl < 32; ctl++) {
		c.wp = ctl & 1;
		c.nxe = ctl & 2;
		c.smep = ctl & 4;
		c.smap = ctl & 8;
		c.ac = ctl & 16;
		c.ac_free = !c.smap;
		if ((c.nxe && !st.nx) || (c.smep && !st.smep) || (c.smap && !st.smap) ||
		    (c.ac_free && c.ac))
			continue;
		ops->set_controls(&c);
		am_walks(ops, &c, &st);
	}
	guest_printf("%s: %u accesses checked (%u #PF, %u without), %u mismatches\n",
		     ops->name, st.checked, st.faults, st.checked - st.faults, st.mismatches);
	return st.mismatches;
}

#endif
