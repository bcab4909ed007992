/*
 * fuzz_gwalk.c — libFuzzer target: the guest page-table walkers on
 * random tables. The shared walker hvlab's MMUs use (mmu/gwalk.c,
 * gwalk_tmpl.h) and the silicon model's own (hw/walk.c) walk the same
 * tables for the same access; they must agree (the differential of
 * tests/unit/test_mmu_gwalk_diff.c, with the fuzzer choosing the trees).
 * Paging modes: 32-bit, PAE, 4-level (SDM Vol. 3A 4.3-4.5) and EPT
 * (Vol. 3C 29.3.2); 5-level paging is modeled by neither walker.
 *
 * Input layout (little-endian):
 *   byte 0      bits 1:0 mode (32-bit, PAE, 4-level, EPT); bit 2 CR0.WP,
 *               3 CR4.PSE, 4 EFER.NXE, 5 CR4.SMEP, 6 CR4.SMAP, 7 CR4.PCIDE
 *   byte 1      bit 0 1 GiB pages, bit 1 EPT execute-only, bits 3:2
 *               access (read, write, fetch), bits 5:4 who (supervisor,
 *               user, supervisor with RFLAGS.AC = 1), bits 7:6 width
 *   byte 2      MAXPHYADDR: 36, 39, 40, 46 or 52 (value mod 5)
 *   bytes 3-10  the address to walk (linear, or a gpa for EPT)
 *   bytes 11-18 CR3 / EPTP: bits 11:0 as given (PCID, PWT/PCD, or the
 *               EPTP's A/D-enable bit 6), the table a pool page
 *   bytes 19-50 the four PAE PDPTE registers: bit 0 as given; a present
 *               one points at a pool page (as MOV CR3 validated it)
 *   then        records of 11 bytes: where (u8: bits 3:0 pool page;
 *               bit 7: the entry's address field points into the pool,
 *               bit 6: beyond RAM), index (u16, mod entries per table),
 *               entry (u64; 32-bit paging stores its low half)
 * The tables live in POOL_PAGES pages of a 1 MiB guest memory; beyond it
 * both walkers read all ones (no RAM).
 *
 * Oracle (__builtin_trap on violation), besides the sanitizers:
 *  - the walkers agree: translation, page size, rights, dirty state and
 *    PCID, or the fault kind and its #PF error code / EPT qualification;
 *    the memories are equal afterwards (the same A/D flags set);
 *  - a #PF error code has only P/W/U/RSVD/I (4.7), W and U as the access
 *    asked, I only for a fetch; an EPT qualification names exactly the
 *    access (28.2.1 Table 28-7); a translation is below 2^MAXPHYADDR;
 *  - a look (GWALK_ACC_PEEK) changes no memory and has the real walk's
 *    outcome.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw.h"
#include "hw/walk.h"
#include "mmu/gwalk.h"

#define RAM		0x100000ull	/* 1 MiB: the hw arena's minimum */
#define POOL		0x80000ull
#define POOL_PAGES	16u
#define POOL_SIZE	(POOL_PAGES * 4096ull)
#define BEYOND_RAM	0x40000000ull
#define HDR		51u
#define REC		11u

struct fake {
	struct gwalk_mem mem;
	uint8_t *ram;
	unsigned writes;
};

static struct fake fm;
static struct hw_machine *m;
static uint8_t *arena;

static struct fake *to_fake(const struct gwalk_mem *mem)
{
	return (struct fake *)((char *)mem - offsetof(struct fake, mem));
}

static uint64_t fake_read(const struct gwalk_mem *mem, gpa_t gpa, unsigned size)
{
	const struct fake *f = to_fake(mem);
	uint64_t v = 0;
	if (gpa >= RAM || size > RAM - gpa)
		return size == 4 ? 0xffffffffull : ~0ull;
	memcpy(&v, f->ram + gpa, size);
	return v;
}

static int fake_cmpxchg(const struct gwalk_mem *mem, gpa_t gpa, unsigned size, uint64_t *old,
			uint64_t new)
{
	struct fake *f = to_fake(mem);
	if (gpa >= RAM || size > RAM - gpa)
		return 0;
	const uint64_t cur = fake_read(mem, gpa, size);
	if (cur != *old) {
		*old = cur;
		return -EAGAIN;
	}
	memcpy(f->ram + gpa, &new, size);
	f->writes++;
	return 0;
}

static void init(void)
{
	struct hw_machine_config c;
	hw_machine_config_default(&c, HW_VENDOR_INTEL);
	c.arena_size = RAM;
	fm.mem.read = fake_read;
	fm.mem.cmpxchg = fake_cmpxchg;
	fm.ram = calloc(1, RAM);
	if (!fm.ram || hw_machine_create(&c, &m))
		abort();
	arena = hw_hpa_ptr(m, 0, RAM);
	if (!arena)
		abort();
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* An entry's address field (bits 51:12, or 31:12 for 32-bit paging) moved
 * into the pool or beyond RAM, its other bits kept. */
static uint64_t relocate(uint64_t e, unsigned where, bool narrow)
{
	const uint64_t field = narrow ? 0xfffff000ull : 0x000ffffffffff000ull;
	const uint64_t a = e & field;
	if (where & 0x80)
		return (e & ~field) | (POOL + ((a >> 12) % POOL_PAGES) * 4096);
	if (where & 0x40)
		return (e & ~field) | ((BEYOND_RAM | a) & field);
	return e;
}

static void check_pf_code(uint32_t ec, unsigned acc)
{
	if (ec & ~0x1fu)
		__builtin_trap();
	if (!!(ec & GWALK_PF_W) != !!(acc & GWALK_ACC_WRITE) ||
	    !!(ec & GWALK_PF_U) != !!(acc & GWALK_ACC_USER))
		__builtin_trap();
	if ((ec & GWALK_PF_I) && !(acc & GWALK_ACC_FETCH))
		__builtin_trap();
}

static bool same_outcome(const struct gwalk *a, int ra, const struct gwalk *b, int rb)
{
	if (ra != rb || a->fault != b->fault)
		return false;
	if (ra)
		return a->error_code == b->error_code;
	return a->gpa == b->gpa && a->page_shift == b->page_shift && a->rights == b->rights;
}

static void compare_x86(const struct gwalk_cfg *cfg, uint64_t addr, unsigned acc, unsigned hw_acc)
{
	struct hw_paging pg = {
		.mode = cfg->mode == GWALK_32 ? HW_PAGING_32 :
			cfg->mode == GWALK_PAE ? HW_PAGING_PAE : HW_PAGING_4LEVEL,
		.cr3 = cfg->root, .wp = cfg->wp, .pse = cfg->pse, .nxe = cfg->nxe,
		.smep = cfg->smep, .smap = cfg->smap, .pcide = cfg->pcide,
		.no_1g_pages = !cfg->gbpages, .maxphyaddr = cfg->maxphyaddr,
	};
	memcpy(pg.pdpte, cfg->pdpte, sizeof(pg.pdpte));
	const struct hw_nested none = { .kind = HW_NESTED_NONE };
	struct hw_counters cnt = { 0 };
	struct hw_walk hw;
	struct gwalk w;

	const enum hw_walk_fault hf = hw_walk(m, &pg, &none, addr, hw_acc, &hw, &cnt);
	const int r = gwalk(cfg, &fm.mem, addr, acc, &w);
	if (hf == HW_WALK_OK) {
		if (r || w.gpa != hw.gpa || w.page_shift != hw.page_shift ||
		    !(w.rights & GWALK_W) != !(hw.rights & HW_R_W) ||
		    !(w.rights & GWALK_U) != !(hw.rights & HW_R_U) ||
		    !(w.rights & GWALK_X) != !!(hw.rights & HW_R_XD) ||
		    w.dirty != !!(hw.rights & HW_R_DIRTY) || w.pcid != hw.pcid)
			__builtin_trap();
		if (w.gpa >> cfg->maxphyaddr)
			__builtin_trap();
	} else {
		if (hf != HW_WALK_PF || r != -EFAULT || w.fault != GWALK_PF ||
		    w.error_code != hw.pf_error)
			__builtin_trap();
		check_pf_code(w.error_code, acc);
	}
}

static void compare_ept(const struct gwalk_cfg *cfg, uint64_t addr, unsigned acc, unsigned hw_acc)
{
	const struct hw_nested nst = {
		.kind = HW_NESTED_EPT, .root = cfg->root & ~0xfffull, .ept_ad = cfg->root & 0x40,
		.ept_x_only = cfg->ept_x_only, .maxphyaddr = cfg->maxphyaddr,
	};
	struct hw_counters cnt = { 0 };
	struct hw_walk hw;
	struct gwalk w;

	const enum hw_walk_fault hf = hw_walk_gpa(m, &nst, addr, hw_acc, &hw, &cnt);
	const int r = gwalk(cfg, &fm.mem, addr, acc, &w);
	const unsigned kind = (acc & GWALK_ACC_FETCH) ? GWALK_EPTQ_X :
			      (acc & GWALK_ACC_WRITE) ? GWALK_EPTQ_W : GWALK_EPTQ_R;
	switch (hf) {
	case HW_WALK_OK:
		if (r || w.gpa != hw.hpa || w.page_shift != hw.nested_shift ||
		    !(w.rights & GWALK_R) != !!(hw.rights & HW_R_NR) ||
		    !(w.rights & GWALK_W) != !!(hw.rights & HW_R_NW) ||
		    !(w.rights & GWALK_X) != !!(hw.rights & HW_R_NX) ||
		    w.dirty != !!(hw.rights & HW_R_DIRTY))
			__builtin_trap();
		if (w.gpa >> cfg->maxphyaddr)
			__builtin_trap();
		break;
	case HW_WALK_EPT_VIOLATION:
		if (r != -EFAULT || w.fault != GWALK_EPT_VIOLATION || w.error_code != hw.qual)
			__builtin_trap();
		if ((w.error_code & 7) != kind || (w.error_code & ~0x3fu))
			__builtin_trap();
		break;
	case HW_WALK_EPT_MISCONFIG:
		if (r != -EFAULT || w.fault != GWALK_EPT_MISCONFIG)
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t widths[] = { 36, 39, 40, 46, 52 };
	if (!m)
		init();
	if (size < HDR)
		return 0;

	const uint8_t b0 = data[0], b1 = data[1];
	struct gwalk_cfg cfg = { .mode = (enum gwalk_mode)(b0 & 3) };
	const enum gwalk_mode mode = cfg.mode;
	cfg.wp = b0 & 4;
	cfg.pse = mode == GWALK_32 && (b0 & 8);
	cfg.nxe = b0 & 0x10;
	cfg.smep = b0 & 0x20;
	cfg.smap = b0 & 0x40;
	cfg.pcide = mode == GWALK_64 && (b0 & 0x80);
	cfg.gbpages = mode == GWALK_EPT || (b1 & 1);
	cfg.ept_x_only = b1 & 2;
	cfg.maxphyaddr = widths[data[2] % sizeof(widths)];
	uint64_t addr = rd64(data + 3);
	const uint64_t root = rd64(data + 11);
	const uint64_t low = cfg.pcide || mode == GWALK_EPT ? root & 0xfff : root & 0x18;
	cfg.root = POOL + ((root >> 12) % POOL_PAGES) * 4096 + low;
	for (unsigned i = 0; i < 4; i++) {
		const uint64_t p = rd64(data + 19 + 8 * i);
		cfg.pdpte[i] = (p & 1) ? POOL + ((p >> 12) % POOL_PAGES) * 4096 + (p & 0x19) :
			       p & ~1ull;
	}
	if (mode == GWALK_32 || mode == GWALK_PAE)
		addr = (uint32_t)addr;

	const unsigned kind = (b1 >> 2) & 3, who = (b1 >> 4) & 3;
	unsigned acc = kind == 1 ? GWALK_ACC_WRITE : kind >= 2 ? GWALK_ACC_FETCH : 0;
	unsigned hw_acc = kind == 1 ? HW_ACC_WRITE : kind >= 2 ? HW_ACC_FETCH : 0;
	if (who == 1) {
		acc |= GWALK_ACC_USER;
		hw_acc |= HW_ACC_USER;
	} else if (who >= 2 && !(acc & GWALK_ACC_FETCH)) {
		acc |= GWALK_ACC_NO_SMAP;
		hw_acc |= HW_ACC_NO_SMAP;
	}

	/* The tables. */
	const bool narrow = mode == GWALK_32;
	const unsigned esize = narrow ? 4 : 8, nidx = narrow ? 1024 : 512;
	memset(fm.ram + POOL, 0, POOL_SIZE);
	for (size_t off = HDR; off + REC <= size; off += REC) {
		const unsigned where = data[off];
		const unsigned idx = ((unsigned)data[off + 1] | (unsigned)data[off + 2] << 8) % nidx;
		const uint64_t e = relocate(rd64(data + off + 3), where, narrow);
		memcpy(fm.ram + POOL + (where % POOL_PAGES) * 4096 + idx * esize, &e, esize);
	}
	memcpy(arena + POOL, fm.ram + POOL, POOL_SIZE);

	/* A look first: it must change nothing. */
	struct gwalk peek;
	const unsigned writes = fm.writes;
	const int rp = gwalk(&cfg, &fm.mem, addr, acc | GWALK_ACC_PEEK, &peek);
	if (fm.writes != writes || memcmp(arena + POOL, fm.ram + POOL, POOL_SIZE))
		__builtin_trap();

	if (mode == GWALK_EPT)
		compare_ept(&cfg, addr, acc, hw_acc);
	else
		compare_x86(&cfg, addr, acc, hw_acc);
	if (memcmp(arena + POOL, fm.ram + POOL, POOL_SIZE))
		__builtin_trap();

	/* The real walk again (A/D flags now set where it succeeded): the
	 * look must have had its outcome. */
	struct gwalk w;
	const int r = gwalk(&cfg, &fm.mem, addr, acc, &w);
	if (!same_outcome(&peek, rp, &w, r))
		__builtin_trap();
	return 0;
}
