/*
 * gwalk_diff.c — mmu/gwalk.c against hw/walk.c (see gwalk_diff.h).
 *
 * The two walkers name the same things differently: access bits
 * (GWALK_ACC_* are the #PF error code's bit positions, HW_ACC_* are
 * not), rights (gwalk reports what the path allows, R/W/U/X; hw reports
 * x86 W and U as allowed but XD as forbidden, and nested rights as
 * forbidden, NR/NW/NX) and results (gwalk's fault with error_code, hw's
 * fault with pf_error or qual). The tables below translate one into the
 * other; the comparison is then field by field, first difference first.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw.h"
#include "tests/support/gwalk_diff.h"

/* ------------------------------------------------------------ gwalk's memory */

static struct gwalk_diff *to_diff(const struct gwalk_mem *mem)
{
	return (struct gwalk_diff *)((char *)mem - offsetof(struct gwalk_diff, mem));
}

static bool in_ram(const struct gwalk_diff *d, gpa_t gpa, unsigned size)
{
	return gpa < d->size && size <= d->size - gpa;
}

static uint64_t diff_read(const struct gwalk_mem *mem, gpa_t gpa, unsigned size)
{
	const struct gwalk_diff *d = to_diff(mem);
	uint64_t v = 0;
	if (!in_ram(d, gpa, size))
		return size == 4 ? 0xffffffffull : ~0ull;
	memcpy(&v, d->ram + gpa, size);
	return v;
}

static int diff_cmpxchg(const struct gwalk_mem *mem, gpa_t gpa, unsigned size, uint64_t *old,
			uint64_t new)
{
	struct gwalk_diff *d = to_diff(mem);
	if (!in_ram(d, gpa, size))
		return 0;
	const uint64_t cur = diff_read(mem, gpa, size);
	if (cur != *old) {
		*old = cur;
		return -EAGAIN;
	}
	memcpy(d->ram + gpa, &new, size);
	d->writes++;
	return 0;
}

int gwalk_diff_init(struct gwalk_diff *d, uint64_t size)
{
	struct hw_machine_config c;
	int r;

	memset(d, 0, sizeof(*d));
	d->mem.read = diff_read;
	d->mem.cmpxchg = diff_cmpxchg;
	d->size = size;
	d->ram = calloc(1, size);
	if (!d->ram)
		return -ENOMEM;
	hw_machine_config_default(&c, HW_VENDOR_INTEL);
	c.arena_size = size;
	r = hw_machine_create(&c, &d->m);
	if (r)
		goto free_ram;
	d->arena = hw_hpa_ptr(d->m, 0, size);
	if (!d->arena) {
		r = -ENOMEM;
		goto destroy_machine;
	}
	return 0;

destroy_machine:
	hw_machine_destroy(d->m);
free_ram:
	free(d->ram);
	memset(d, 0, sizeof(*d));
	return r;
}

void gwalk_diff_destroy(struct gwalk_diff *d)
{
	if (d->m)
		hw_machine_destroy(d->m);
	free(d->ram);
	memset(d, 0, sizeof(*d));
}

void gwalk_diff_sync(struct gwalk_diff *d, uint64_t base, uint64_t len)
{
	memcpy(d->arena + base, d->ram + base, len);
}

bool gwalk_diff_same(const struct gwalk_diff *d, uint64_t base, uint64_t len)
{
	return !memcmp(d->arena + base, d->ram + base, len);
}

/* ------------------------------------------------------------ the comparison */

/* The access in hw's terms. */
static unsigned hw_access(unsigned acc)
{
	return ((acc & GWALK_ACC_WRITE) ? HW_ACC_WRITE : 0) |
	       ((acc & GWALK_ACC_FETCH) ? HW_ACC_FETCH : 0) |
	       ((acc & GWALK_ACC_USER) ? HW_ACC_USER : 0) |
	       ((acc & GWALK_ACC_NO_SMAP) ? HW_ACC_NO_SMAP : 0);
}

/* One right: gwalk's bit (set: allowed), hw's bit, and whether hw's bit
 * says the opposite (set: forbidden). */
struct right {
	unsigned gwalk, hw;
	bool hw_forbids;
	const char *why;
};

/* Indexed by "is EPT": x86 paging's rights of the path (SDM 4.6), then
 * EPT's (29.3.2: bits 2:0 ANDed over the path). */
static const struct right rights[2][3] = {
	{
		{ GWALK_W, HW_R_W,  false, "W right differs" },
		{ GWALK_U, HW_R_U,  false, "U right differs" },
		{ GWALK_X, HW_R_XD, true,  "execute right differs" },
	}, {
		{ GWALK_R, HW_R_NR, true, "EPT R right differs" },
		{ GWALK_W, HW_R_NW, true, "EPT W right differs" },
		{ GWALK_X, HW_R_NX, true, "EPT X right differs" },
	},
};

static const char *compare_rights(bool ept, unsigned gw, unsigned hw)
{
	for (unsigned i = 0; i < 3; i++) {
		const struct right *t = &rights[ept][i];
		const bool hw_set = hw & t->hw;
		if (!!(gw & t->gwalk) != (t->hw_forbids ? !hw_set : hw_set))
			return t->why;
	}
	return NULL;
}

/* gwalk's name for a hw fault; GWALK_OK for one gwalk has no name for. */
static enum gwalk_fault gwalk_name(enum hw_walk_fault hf)
{
	switch (hf) {
	case HW_WALK_PF:
		return GWALK_PF;
	case HW_WALK_EPT_VIOLATION:
		return GWALK_EPT_VIOLATION;
	case HW_WALK_EPT_MISCONFIG:
		return GWALK_EPT_MISCONFIG;
	default:
		return GWALK_OK;
	}
}

/* Both faulted: the same fault, with the same code. */
static const char *compare_faults(const struct gwalk *w, const struct hw_walk *hw,
				  enum hw_walk_fault hf)
{
	if (gwalk_name(hf) == GWALK_OK || w->fault != gwalk_name(hf))
		return "fault kind differs";
	if (hf == HW_WALK_PF && w->error_code != hw->pf_error)
		return "#PF error code differs";
	if (hf == HW_WALK_EPT_VIOLATION && w->error_code != hw->qual)
		return "EPT qualification differs";
	return NULL;
}

/* Both translated: the same page, rights and state. */
static const char *compare_translations(const struct gwalk_cfg *cfg, const struct gwalk *w,
					const struct hw_walk *hw)
{
	const bool ept = cfg->mode == GWALK_EPT;
	if (w->gpa != (ept ? hw->hpa : hw->gpa))
		return ept ? "translated address differs" : "gpa differs";
	if (w->page_shift != (ept ? hw->nested_shift : hw->page_shift))
		return "page size differs";
	const char *why = compare_rights(ept, w->rights, hw->rights);
	if (why)
		return why;
	if (w->dirty != !!(hw->rights & HW_R_DIRTY))
		return "dirty state differs";
	if (!ept && w->pcid != hw->pcid)
		return "PCID differs";
	return NULL;
}

/* The same walk on the model: @cfg as struct hw_paging (x86) or as the
 * EPTP's hw_nested (EPT), @acc already in HW_ACC_* terms. */
static enum hw_walk_fault hw_side(struct gwalk_diff *d, const struct gwalk_cfg *cfg,
				  uint64_t addr, unsigned acc, struct hw_walk *hw)
{
	struct hw_counters cnt = { 0 };
	if (cfg->mode == GWALK_EPT) {
		const struct hw_nested nst = {
			.kind = HW_NESTED_EPT, .root = cfg->root & ~0xfffull,
			.ept_ad = cfg->root & 0x40,	/* EPTP bit 6 */
			.ept_x_only = cfg->ept_x_only, .maxphyaddr = cfg->maxphyaddr,
		};
		return hw_walk_gpa(d->m, &nst, addr, acc, hw, &cnt);
	}
	struct hw_paging pg = {
		.mode = cfg->mode == GWALK_32 ? HW_PAGING_32 :
			cfg->mode == GWALK_PAE ? HW_PAGING_PAE : HW_PAGING_4LEVEL,
		.cr3 = cfg->root, .wp = cfg->wp, .pse = cfg->pse, .nxe = cfg->nxe,
		.smep = cfg->smep, .smap = cfg->smap, .pcide = cfg->pcide,
		.no_1g_pages = !cfg->gbpages, .maxphyaddr = cfg->maxphyaddr,
	};
	memcpy(pg.pdpte, cfg->pdpte, sizeof(pg.pdpte));
	const struct hw_nested none = { .kind = HW_NESTED_NONE };
	return hw_walk(d->m, &pg, &none, addr, acc, hw, &cnt);
}

const char *gwalk_diff_walk(struct gwalk_diff *d, const struct gwalk_cfg *cfg, uint64_t addr,
			    unsigned acc, struct gwalk *w, struct hw_walk *hw)
{
	const enum hw_walk_fault hf = hw_side(d, cfg, addr, hw_access(acc), hw);
	const int r = gwalk(cfg, &d->mem, addr, acc, w);

	if (r != 0 && r != -EFAULT)
		return "gwalk returned neither 0 nor -EFAULT";
	if (!r != (w->fault == GWALK_OK))
		return "gwalk's return and its fault disagree";
	if (hf == HW_WALK_OK)
		return r ? "gwalk faults, hw translates" : compare_translations(cfg, w, hw);
	if (!r)
		return "hw faults, gwalk translates";
	return compare_faults(w, hw, hf);
}
