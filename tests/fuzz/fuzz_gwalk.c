/*
 * fuzz_gwalk.c — libFuzzer target: the guest page-table walkers on
 * random tables. The shared walker hvlab's MMUs use (mmu/gwalk.c,
 * gwalk_tmpl.h) and the silicon model's own (hw/walk.c) walk the same
 * tables for the same access; they must agree (tests/support/gwalk_diff.c,
 * the differential of tests/unit/test_mmu_gwalk_diff.c, with the fuzzer
 * choosing the trees).
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
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/gwalk_diff.h"

#define RAM		0x100000ull	/* 1 MiB: the hw arena's minimum */
#define POOL		0x80000ull
#define POOL_PAGES	16u
#define POOL_SIZE	(POOL_PAGES * 4096ull)
#define BEYOND_RAM	0x40000000ull
#define HDR		51u
#define REC		11u

static struct gwalk_diff d;

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

/* What must hold of the outcome both walkers agreed on, besides agreeing. */
static void check_outcome(const struct gwalk_cfg *cfg, const struct gwalk *w, unsigned acc)
{
	const unsigned kind = (acc & GWALK_ACC_FETCH) ? GWALK_EPTQ_X :
			      (acc & GWALK_ACC_WRITE) ? GWALK_EPTQ_W : GWALK_EPTQ_R;
	switch (w->fault) {
	case GWALK_OK:
		if (w->gpa >> cfg->maxphyaddr)
			__builtin_trap();
		break;
	case GWALK_PF:
		check_pf_code(w->error_code, acc);
		break;
	case GWALK_EPT_VIOLATION:
		if ((w->error_code & 7) != kind || (w->error_code & ~0x3fu))
			__builtin_trap();
		break;
	case GWALK_EPT_MISCONFIG:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t widths[] = { 36, 39, 40, 46, 52 };
	if (!d.m && gwalk_diff_init(&d, RAM))
		abort();
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
	if (who == 1)
		acc |= GWALK_ACC_USER;
	else if (who >= 2 && !(acc & GWALK_ACC_FETCH))
		acc |= GWALK_ACC_NO_SMAP;

	/* The tables. */
	const bool narrow = mode == GWALK_32;
	const unsigned esize = narrow ? 4 : 8, nidx = narrow ? 1024 : 512;
	memset(d.ram + POOL, 0, POOL_SIZE);
	for (size_t off = HDR; off + REC <= size; off += REC) {
		const unsigned where = data[off];
		const unsigned idx = ((unsigned)data[off + 1] | (unsigned)data[off + 2] << 8) % nidx;
		const uint64_t e = relocate(rd64(data + off + 3), where, narrow);
		memcpy(d.ram + POOL + (where % POOL_PAGES) * 4096 + idx * esize, &e, esize);
	}
	gwalk_diff_sync(&d, POOL, POOL_SIZE);

	/* A look first: it must change nothing. */
	struct gwalk peek;
	const unsigned writes = d.writes;
	const int rp = gwalk(&cfg, &d.mem, addr, acc | GWALK_ACC_PEEK, &peek);
	if (d.writes != writes || !gwalk_diff_same(&d, POOL, POOL_SIZE))
		__builtin_trap();

	struct gwalk w;
	struct hw_walk hw;
	if (gwalk_diff_walk(&d, &cfg, addr, acc, &w, &hw))
		__builtin_trap();
	check_outcome(&cfg, &w, acc);
	if (!gwalk_diff_same(&d, POOL, POOL_SIZE))
		__builtin_trap();

	/* The real walk again (A/D flags now set where it succeeded): the
	 * look must have had its outcome. */
	const int r = gwalk(&cfg, &d.mem, addr, acc, &w);
	if (!same_outcome(&peek, rp, &w, r))
		__builtin_trap();
	return 0;
}
