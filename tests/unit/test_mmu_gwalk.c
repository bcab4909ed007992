/*
 * test_mmu_gwalk.c — the shared guest walker (mmu/gwalk.c) in its x86
 * formats against the SDM Vol. 3A chapter 4: translation in 32-bit (4.3,
 * PSE-36), PAE (4.4, from the PDPTE registers) and 4-level paging (4.5,
 * 1 GiB pages per CPUID), the access-rights matrix (4.6.1) for every
 * combination of U/S, R/W and XD along the path, CPL, CR0.WP, EFER.NXE,
 * CR4.SMEP, CR4.SMAP and RFLAGS.AC, #PF error codes (4.7), reserved bits
 * at every level (4.1.4, Tables 4-4..4-20), and accessed/dirty flags
 * (4.8). EPT is test_mmu_gwalk_ept.c; the comparison with the silicon
 * model's walker is test_mmu_gwalk_diff.c.
 *
 * Entry bits come from tests/support/pt_builder.h (written from the
 * manual); error-code bits are written here from Figure 4-12.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_mmu_gwalk.h"

/* #PF error code (SDM Vol. 3A 4.7, Figure 4-12). */
#define PF_P	0x01u
#define PF_W	0x02u
#define PF_U	0x04u
#define PF_RSVD	0x08u
#define PF_I	0x10u

/* Accesses (gwalk.h; W/U/I are the error code's bits by design). */
#define RD	0u
#define WR	GWALK_ACC_WRITE
#define EX	GWALK_ACC_FETCH
#define USR	GWALK_ACC_USER
#define AC	GWALK_ACC_NO_SMAP

#define TABLES		0x00100000ull
#define TABLES_END	0x00800000ull
#define VA		0x00403000ull
#define PA		0x01345000ull

static struct fake_mem fm;
static struct ptb b;
static struct gwalk_cfg cfg;
static struct gwalk w;
static enum ptb_fmt fmt;
static uint64_t root;

static int setup(void **state)
{
	return fake_init(&fm);
}

static int teardown(void **state)
{
	fake_free(&fm);
	return 0;
}

static void mode(enum gwalk_mode m)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = m;
	cfg.maxphyaddr = 46;
	cfg.gbpages = true;
	fmt = m == GWALK_32 ? PTB_32 : m == GWALK_PAE ? PTB_PAE : PTB_64;
	ptb_init(&b, fm.ram, FAKE_SIZE, 0, TABLES, TABLES_END);
	root = ptb_root(&b, fmt);
	cfg.root = root;
	fm.before_cmpxchg = NULL;
}

/* Map, and for PAE load the PDPTE registers as MOV CR3 would. */
static void map(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags)
{
	assert_int_equal(ptb_map(&b, fmt, root, va, pa, size, flags), 0);
	if (fmt == PTB_PAE)
		ptb_pae_pdptes(&b, root, cfg.pdpte);
}

static uint64_t entry(uint64_t va, unsigned level)
{
	return ptb_get(&b, fmt, root, va, level);
}

static void update(uint64_t va, unsigned level, uint64_t set, uint64_t clear)
{
	assert_int_equal(ptb_update(&b, fmt, root, va, level, set, clear), 0);
}

static int walk(uint64_t la, unsigned acc)
{
	return gwalk(&cfg, &fm.mem, la, acc, &w);
}

static void assert_ok(uint64_t la, unsigned acc, uint64_t gpa, unsigned shift)
{
	assert_int_equal(walk(la, acc), 0);
	assert_int_equal(w.fault, GWALK_OK);
	assert_int_equal(w.gpa, gpa);
	assert_int_equal(w.page_shift, shift);
}

static void assert_pf(uint64_t la, unsigned acc, uint32_t err)
{
	assert_int_equal(walk(la, acc), -EFAULT);
	assert_int_equal(w.fault, GWALK_PF);
	assert_int_equal(w.error_code, err);
}

/* ------------------------------------------------------------ translation */

static void m32_4k_4m(void **state)
{
	mode(GWALK_32);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	assert_ok(VA + 0xabc, RD, PA + 0xabc, 12);
	assert_int_equal(w.top, 2);
	assert_int_equal(w.level, 1);
	/* Bits 63:32 of a linear address do not exist in 32-bit paging. */
	assert_ok((1ull << 32) | VA, RD, PA, 12);
	cfg.pse = true;
	map(0x00800000, 0x00c00000, PTB_4M, PTE_P | PTE_RW);
	assert_ok(0x00923456, WR, 0x00d23456, 22);
	assert_int_equal(w.level, 2);
	/* A PTE has no reserved bits: PAT (7) and the ignored 11:9. */
	update(VA, 1, PTE_PS | (7u << 9), 0);
	assert_ok(VA, RD, PA, 12);
	/* Without CR4.PSE, PS is ignored: the PDE references a table. */
	cfg.pse = false;
	update(VA, 2, PTE_PS, 0);
	assert_ok(VA + 8, RD, PA + 8, 12);
}

static void m32_pse36(void **state)
{
	mode(GWALK_32);
	cfg.pse = true;
	/* Table 4-4: PDE bits 20:13 are address bits 39:32 (M' = min(M, 40)). */
	map(0x00800000, 0xab00c00000ull, PTB_4M, PTE_P);
	assert_int_equal(entry(0x00800000, 2) & 0x1fe000, 0xabull << 13);
	assert_ok(0x00812345, RD, 0xab00c12345ull, 22);
	cfg.maxphyaddr = 52;		/* M' is still 40 */
	assert_ok(0x00812345, RD, 0xab00c12345ull, 22);
	update(0x00800000, 2, 1u << 21, 0);	/* 21:(M'-19) = bit 21 */
	assert_pf(0x00800000, RD, PF_P | PF_RSVD);
	update(0x00800000, 2, 0, (1u << 21) | (0xffull << 13));
	/* M = 36: bits 16:13 hold address bits 35:32; 21:17 are reserved. */
	cfg.maxphyaddr = 36;
	update(0x00800000, 2, 0xfull << 13, 0);
	assert_ok(0x00800000, RD, 0xf00c00000ull, 22);
	for (unsigned bit = 17; bit <= 21; bit++) {
		update(0x00800000, 2, 1u << bit, 0);
		assert_pf(0x00800000, WR | USR, PF_P | PF_RSVD | PF_W | PF_U);
		update(0x00800000, 2, 0, 1u << bit);
	}
	/* M = 32 (no PSE-36): 21:13 are all reserved. */
	cfg.maxphyaddr = 32;
	assert_pf(0x00800000, RD, PF_P | PF_RSVD);
}

static void pae_from_pdpte_registers(void **state)
{
	mode(GWALK_PAE);
	map(0xc0403000, PA, PTB_4K, PTE_P | PTE_RW);
	map(0x40200000, 0x00600000, PTB_2M, PTE_P);
	assert_ok(0xc0403123, RD, PA + 0x123, 12);
	assert_int_equal(w.top, 3);
	/* Level 3 is the register, recorded with where it came from. */
	assert_int_equal(w.pte[3], cfg.pdpte[3]);
	assert_int_equal(w.pte_gpa[3], root + 3 * 8);
	assert_ok(0x40212345, RD, 0x00612345, 21);
	assert_ok((1ull << 32) | 0x40212345, RD, 0x00612345, 21);
	/* Changing the PDPT in memory changes nothing: the registers rule. */
	const uint64_t saved = ptb_read(&b, root + 3 * 8, 8);
	ptb_write(&b, root + 3 * 8, 8, 0);
	assert_ok(0xc0403123, RD, PA + 0x123, 12);
	ptb_write(&b, root + 3 * 8, 8, saved);
	/* ... and the walk sets no accessed flag in a PDPTE (they have none). */
	assert_int_equal(ptb_read(&b, root + 3 * 8, 8) & PTE_A, 0);
	/* A not-present register: #PF P = 0 at level 3. */
	cfg.pdpte[3] = 0;
	assert_pf(0xc0403000, WR, PF_W);
	assert_int_equal(w.level, 3);
}

static void pae_pdpte_reserved(void **state)
{
	/* Table 4-8: bits 2:1, 8:5 and 63:M are reserved in a PDPTE (XD
	 * included, NXE or not); 3, 4 (PWT, PCD) and 11:9 are not. */
	static const uint64_t rsvd[] = { 1u << 1, 1u << 2, 1u << 5, 1u << 6, 1u << 7,
					 1u << 8, 1ull << 46, 1ull << 52, 1ull << 63 };
	static const uint64_t fine[] = { 1u << 3, 1u << 4, 1u << 9, 1u << 11 };
	mode(GWALK_PAE);
	cfg.nxe = true;
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	const uint64_t good = cfg.pdpte[0];
	for (unsigned i = 0; i < sizeof(rsvd) / sizeof(rsvd[0]); i++) {
		cfg.pdpte[0] = good | rsvd[i];
		assert_pf(VA, RD, PF_P | PF_RSVD);
		assert_int_equal(w.level, 3);
	}
	for (unsigned i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		cfg.pdpte[0] = good | fine[i];
		assert_ok(VA, RD, PA, 12);
	}
}

static void lm_4k_2m_1g(void **state)
{
	mode(GWALK_64);
	cfg.nxe = true;
	map(0x00007f0000403000ull, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	map(0x0000004000200000ull, 0x00600000, PTB_2M, PTE_P);
	map(0xffffff8040000000ull, 0x40000000, PTB_1G, PTE_P);
	assert_ok(0x00007f0000403fffull, RD, PA + 0xfff, 12);
	assert_int_equal(w.top, 4);
	assert_ok(0x00000040002fffffull, RD, 0x006fffff, 21);
	assert_int_equal(w.level, 2);
	assert_ok(0xffffff807fffffffull, RD, 0x7fffffff, 30);
	assert_int_equal(w.level, 3);
	/* Without 1 GiB pages (CPUID 8000_0001H:EDX[26] = 0) PS in a PDPTE
	 * is reserved (4.5.4). */
	cfg.gbpages = false;
	assert_pf(0xffffff8040000000ull, RD, PF_P | PF_RSVD);
	assert_int_equal(w.level, 3);
	/* PS is reserved in a PML4E. */
	cfg.gbpages = true;
	update(0x00007f0000403000ull, 4, PTE_PS, 0);
	assert_pf(0x00007f0000403000ull, USR, PF_P | PF_RSVD | PF_U);
	assert_int_equal(w.level, 4);
}

static void lm_pcid(void **state)
{
	mode(GWALK_64);
	map(VA, PA, PTB_4K, PTE_P);
	cfg.pcide = true;
	cfg.root = root | 0x123;	/* CR3[11:0] is the PCID, not address */
	assert_ok(VA, RD, PA, 12);
	assert_int_equal(w.pcid, 0x123);
	cfg.pcide = false;
	cfg.root = root | 0x18;		/* PWT, PCD */
	assert_ok(VA, RD, PA, 12);
	assert_int_equal(w.pcid, 0);
}

static void path_is_recorded(void **state)
{
	mode(GWALK_64);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
	assert_ok(VA, RD, PA, 12);
	for (unsigned l = 1; l <= 4; l++) {
		assert_int_equal(w.pte_gpa[l], ptb_entry_addr(&b, fmt, root, VA, l));
		assert_int_equal(w.pte[l], entry(VA, l));
	}
	/* The table a level-4 entry lives in is the CR3 page. */
	assert_int_equal(w.pte_gpa[4] >> 12, root >> 12);
	assert_int_equal(w.rights, GWALK_R | GWALK_W | GWALK_X | GWALK_U);
	assert_true(w.dirty);
}

/* ------------------------------------------------------------ not present */

static void not_present_each_level(void **state)
{
	static const struct { enum gwalk_mode mode; unsigned top; } modes[] = {
		{ GWALK_32, 2 }, { GWALK_PAE, 2 }, { GWALK_64, 4 },
	};
	for (unsigned i = 0; i < 3; i++) {
		for (unsigned level = 1; level <= modes[i].top; level++) {
			mode(modes[i].mode);
			map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
			update(VA, level, 0, PTE_P);
			/* P = 0; W/R and U/S say what the access was. */
			assert_pf(VA, WR | USR, PF_W | PF_U);
			assert_int_equal(w.level, level);
			assert_pf(VA, RD, 0);
			/* I/D: with SMEP, or NXE outside 32-bit paging (4.7). */
			assert_pf(VA, EX, 0);
			cfg.nxe = true;
			assert_pf(VA, EX, modes[i].mode == GWALK_32 ? 0 : PF_I);
			cfg.nxe = false;
			cfg.smep = true;
			assert_pf(VA, EX | USR, PF_I | PF_U);
		}
	}
}

/* ------------------------------------------------------------ reserved bits */

/* Set @bit in VA's level-@level entry: #PF P|RSVD (+W, U), then clear it. */
static void assert_rsvd(unsigned level, uint64_t bit)
{
	update(VA, level, bit, 0);
	assert_pf(VA, WR | USR, PF_P | PF_RSVD | PF_W | PF_U);
	assert_int_equal(w.level, level);
	update(VA, level, 0, bit);
	assert_int_equal(walk(VA, RD), 0);
}

static void reserved_each_level(void **state)
{
	/* 4-level: 51:M, and XD without NXE; 62:52 are ignored (Table 4-15..4-20). */
	mode(GWALK_64);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	for (unsigned level = 1; level <= 4; level++) {
		assert_rsvd(level, 1ull << 46);
		assert_rsvd(level, 1ull << 51);
		assert_rsvd(level, PTE_XD);
	}
	update(VA, 1, 1ull << 52 | 1ull << 62, 0);
	update(VA, 4, 1ull << 55, 0);
	assert_ok(VA, RD, PA, 12);
	cfg.nxe = true;
	update(VA, 2, PTE_XD, 0);
	assert_ok(VA, RD, PA, 12);
	/* MAXPHYADDR 52: nothing below 52 is reserved; bit 51 is address. */
	cfg.maxphyaddr = 52;
	update(VA, 1, 1ull << 51, 0);
	assert_ok(VA, RD, PA | 1ull << 51, 12);

	/* PAE: 62:M (bits 62:52 too), XD without NXE. */
	mode(GWALK_PAE);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	for (unsigned level = 1; level <= 2; level++) {
		assert_rsvd(level, 1ull << 46);
		assert_rsvd(level, 1ull << 52);
		assert_rsvd(level, 1ull << 62);
		assert_rsvd(level, PTE_XD);
	}
}

static void reserved_large_pages(void **state)
{
	/* A 2 MiB page reserves its address bits 20:13, a 1 GiB page 29:13;
	 * bit 12 is PAT (Tables 4-11, 4-17, 4-18). */
	mode(GWALK_64);
	map(0x40000000, 0x40000000, PTB_1G, PTE_P);
	map(0x00200000, 0x00600000, PTB_2M, PTE_P);
	update(0x00200000, 2, 1u << 12, 0);
	assert_ok(0x00200000, RD, 0x00600000, 21);
	update(0x40000000, 3, 1u << 12, 0);
	assert_ok(0x40000000, RD, 0x40000000, 30);
	for (unsigned bit = 13; bit <= 20; bit++) {
		update(0x00200000, 2, 1ull << bit, 0);
		assert_pf(0x00200000, RD, PF_P | PF_RSVD);
		update(0x00200000, 2, 0, 1ull << bit);
	}
	for (unsigned bit = 13; bit <= 29; bit++) {
		update(0x40000000, 3, 1ull << bit, 0);
		assert_pf(0x40000000, RD, PF_P | PF_RSVD);
		update(0x40000000, 3, 0, 1ull << bit);
	}
	/* PAE 2 MiB pages likewise. */
	mode(GWALK_PAE);
	map(0x00200000, 0x00600000, PTB_2M, PTE_P);
	update(0x00200000, 2, 1u << 13, 0);
	assert_pf(0x00200000, RD, PF_P | PF_RSVD);
}

/* ------------------------------------------------------------ rights */

/*
 * The access-rights matrix from the SDM's words (4.6.1), written apart
 * from the walker's own table: the expected error code of one access,
 * or 0. @us, @rw, @xd: the AND (OR for xd) over the path.
 */
static uint32_t sdm_expect(enum gwalk_mode m, bool us, bool rw, bool xd, bool wp, bool nxe,
			   bool smep, bool smap, unsigned acc)
{
	const bool user = acc & USR, write = acc & WR, fetch = acc & EX;
	uint32_t bits = (write ? PF_W : 0) | (user ? PF_U : 0);
	if (fetch && (smep || (nxe && m != GWALK_32)))
		bits |= PF_I;
	if (xd && !nxe)
		return PF_P | PF_RSVD | bits;	/* XD is reserved without NXE */
	const bool noexec = xd && nxe;
	bool ok;
	if (user) {
		/* User-mode accesses: only user-mode addresses; writes need
		 * R/W = 1 at every level whatever CR0.WP says; fetches need
		 * XD = 0 with NXE. */
		ok = us && (!write || rw) && (!fetch || !noexec);
	} else if (fetch) {
		/* Supervisor fetches: not from a user-mode address with
		 * SMEP; not with XD = 1 (NXE). */
		ok = !(us && smep) && !noexec;
	} else {
		/* Supervisor data: a user-mode address only without SMAP,
		 * or an explicit access with RFLAGS.AC = 1; writes with WP
		 * need R/W = 1. */
		ok = !(us && smap && !(acc & AC)) && (!write || rw || !wp);
	}
	return ok ? 0 : PF_P | bits;
}

static void rights_matrix(enum gwalk_mode m, unsigned levels, bool has_xd)
{
	static const unsigned accs[] = {
		RD, WR, EX, RD | USR, WR | USR, EX | USR, RD | AC, WR | AC, EX | AC,
	};
	const unsigned bits_per_level = has_xd ? 3 : 2;
	unsigned checked = 0;

	mode(m);
	map(VA, PA, PTB_4K, PTE_P);
	for (unsigned combo = 0; combo < 1u << (bits_per_level * levels); combo++) {
		bool us = true, rw = true, xd = false;
		for (unsigned l = 1; l <= levels; l++) {
			const unsigned c = combo >> (bits_per_level * (l - 1));
			const uint64_t set = (c & 1 ? PTE_US : 0) | (c & 2 ? PTE_RW : 0) |
					     (has_xd && (c & 4) ? PTE_XD : 0);
			update(VA, l, set, (PTE_US | PTE_RW | (has_xd ? PTE_XD : 0)) & ~set);
			us = us && (c & 1);
			rw = rw && (c & 2);
			xd = xd || (has_xd && (c & 4));
		}
		for (unsigned flags = 0; flags < 16; flags++) {
			cfg.wp = flags & 1;
			cfg.nxe = flags & 2;
			cfg.smep = flags & 4;
			cfg.smap = flags & 8;
			for (unsigned a = 0; a < sizeof(accs) / sizeof(accs[0]); a++) {
				const uint32_t want = sdm_expect(m, us, rw, xd, cfg.wp, cfg.nxe,
								 cfg.smep, cfg.smap, accs[a]);
				const int r = walk(VA, accs[a]);
				if (want) {
					assert_int_equal(r, -EFAULT);
					assert_int_equal(w.error_code, want);
				} else {
					assert_int_equal(r, 0);
					assert_int_equal(w.gpa, PA);
					assert_int_equal(!!(w.rights & GWALK_U), us);
					assert_int_equal(!!(w.rights & GWALK_W), rw);
					assert_int_equal(!(w.rights & GWALK_X), xd && cfg.nxe);
				}
				checked++;
			}
		}
	}
	assert_int_equal(checked, (1u << (bits_per_level * levels)) * 16 * 9);
}

static void rights_32(void **state)
{
	rights_matrix(GWALK_32, 2, false);
}

static void rights_pae(void **state)
{
	rights_matrix(GWALK_PAE, 2, true);
}

static void rights_64(void **state)
{
	rights_matrix(GWALK_64, 4, true);
}

/* A few rows of 4.6.1 spelled out, lest the matrix and the walker share
 * a misreading. */
static void rights_spelled_out(void **state)
{
	mode(GWALK_64);
	map(VA, PA, PTB_4K, PTE_P | PTE_US);	/* a read-only user page */
	assert_ok(VA, WR, PA, 12);		/* WP = 0: the supervisor writes it */
	cfg.wp = true;
	assert_pf(VA, WR, PF_P | PF_W);
	cfg.wp = false;
	assert_pf(VA, WR | USR, PF_P | PF_W | PF_U);	/* users never */
	cfg.smap = true;
	assert_pf(VA, RD, PF_P);			/* SMAP, AC = 0 */
	assert_ok(VA, RD | AC, PA, 12);		/* explicit, AC = 1 */
	assert_ok(VA, EX, PA, 12);		/* SMAP says nothing of fetches */
	cfg.smep = true;
	assert_pf(VA, EX, PF_P | PF_I);		/* ... SMEP does */
	assert_ok(VA, EX | USR, PA, 12);		/* and nothing of user fetches */
}

/* ------------------------------------------------------------ A/D flags */

static void ad_on_success_only(void **state)
{
	static const enum gwalk_mode modes[] = { GWALK_32, GWALK_PAE, GWALK_64 };
	static const unsigned tops[] = { 2, 2, 4 };
	for (unsigned i = 0; i < 3; i++) {
		mode(modes[i]);
		map(VA, PA, PTB_4K, PTE_P | PTE_US);	/* read-only */
		/* Fault (a user write): nothing changes anywhere. */
		assert_pf(VA, WR | USR, PF_P | PF_W | PF_U);
		for (unsigned l = 1; l <= tops[i]; l++)
			assert_int_equal(entry(VA, l) & (PTE_A | PTE_D), 0);
		/* A read sets A on every entry used, no D anywhere. */
		assert_ok(VA, USR, PA, 12);
		assert_false(w.dirty);
		for (unsigned l = 1; l <= tops[i]; l++) {
			assert_int_equal(entry(VA, l) & (PTE_A | PTE_D), PTE_A);
			assert_int_equal(w.pte[l], entry(VA, l));
		}
		/* A supervisor write (WP = 0): D in the leaf only. */
		assert_ok(VA, WR, PA, 12);
		assert_true(w.dirty);
		assert_int_equal(entry(VA, 1) & (PTE_A | PTE_D), PTE_A | PTE_D);
		for (unsigned l = 2; l <= tops[i]; l++)
			assert_int_equal(entry(VA, l) & PTE_D, 0);
		/* Already set: no write at all. */
		const unsigned before = fm.writes;
		assert_ok(VA, WR, PA, 12);
		assert_int_equal(fm.writes, before);
	}
}

static void ad_large_leaf_and_peek(void **state)
{
	mode(GWALK_32);
	cfg.pse = true;
	map(0x00800000, 0x00c00000, PTB_4M, PTE_P | PTE_RW);
	/* A peek changes nothing, and reports the leaf as it is. */
	assert_ok(0x00800000, WR | GWALK_ACC_PEEK, 0x00c00000, 22);
	assert_false(w.dirty);
	assert_int_equal(entry(0x00800000, 2) & (PTE_A | PTE_D), 0);
	/* The 4 MiB PDE is the leaf: it gets D. */
	assert_ok(0x00800000, WR, 0x00c00000, 22);
	assert_int_equal(entry(0x00800000, 2) & (PTE_A | PTE_D), PTE_A | PTE_D);

	mode(GWALK_64);
	map(0x40000000, 0x40000000, PTB_1G, PTE_P | PTE_RW);
	assert_ok(0x40000000, WR, 0x40000000, 30);
	assert_int_equal(entry(0x40000000, 3) & (PTE_A | PTE_D), PTE_A | PTE_D);
	assert_int_equal(entry(0x40000000, 4) & (PTE_A | PTE_D), PTE_A);
	/* A reserved-bit fault below a fresh entry sets nothing above it. */
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	update(VA, 1, 1ull << 50, 0);
	assert_pf(VA, RD, PF_P | PF_RSVD);
	assert_int_equal(entry(VA, 2) & PTE_A, 0);
}

/* Concurrent writers, through the compare-exchange hook. */
static uint64_t hook_gpa, hook_set;
static unsigned hook_calls;

static void hook(struct fake_mem *f, gpa_t gpa)
{
	if (hook_calls++ == 0)
		*(uint64_t *)(f->ram + hook_gpa) |= hook_set;
}

static void ad_entry_changed_under_walk(void **state)
{
	mode(GWALK_64);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW);
	/* Someone sets D in the leaf meanwhile: merged, no new walk. */
	hook_gpa = ptb_entry_addr(&b, fmt, root, VA, 4);
	hook_set = PTE_D;
	hook_calls = 0;
	fm.before_cmpxchg = hook;
	assert_ok(VA, RD, PA, 12);
	assert_int_equal(entry(VA, 4) & (PTE_A | PTE_D), PTE_A | PTE_D);
	assert_int_equal(hook_calls, 5);	/* PML4E failed and retried, 3 more */
	/* Someone remaps the page meanwhile: the walk starts over and
	 * returns the new translation. */
	update(VA, 1, 0, PTE_A);
	hook_gpa = ptb_entry_addr(&b, fmt, root, VA, 1);
	hook_set = 0x00800000;			/* PA -> PA | 8 MiB */
	hook_calls = 0;
	assert_ok(VA, RD, PA | 0x00800000, 12);
	assert_int_equal(hook_calls, 2);	/* failed, then the new walk's */
	assert_int_equal(entry(VA, 1) & PTE_A, PTE_A);
}

/* ------------------------------------------------------------ no RAM */

static void tables_outside_ram_read_all_ones(void **state)
{
	/* 4-level: a PDPT beyond RAM reads as all ones — a 1 GiB page with
	 * reserved bits set: #PF RSVD. */
	mode(GWALK_64);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	update(VA, 4, FAKE_SIZE << 4, 0x000ffffffffff000ull);
	assert_pf(VA, RD, PF_P | PF_RSVD);
	assert_int_equal(w.level, 3);
	assert_int_equal(w.pte[3], ~0ull);
	/* 32-bit without PSE: an all-ones PDE references the table at
	 * 0xfffff000 (no RAM), whose all-ones PTE maps 0xfffff000 with A and
	 * D already set: a translation, and no write anywhere. */
	mode(GWALK_32);
	map(VA, PA, PTB_4K, PTE_P | PTE_RW | PTE_US);
	update(VA, 2, 0xfffff000u, 0);
	const unsigned before = fm.writes;
	assert_ok(VA + 0x10, WR | USR, 0xfffff010, 12);
	assert_true(w.dirty);
	assert_int_equal(fm.writes, before + 1);	/* A in the PDE, in RAM */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(m32_4k_4m),
		cmocka_unit_test(m32_pse36),
		cmocka_unit_test(pae_from_pdpte_registers),
		cmocka_unit_test(pae_pdpte_reserved),
		cmocka_unit_test(lm_4k_2m_1g),
		cmocka_unit_test(lm_pcid),
		cmocka_unit_test(path_is_recorded),
		cmocka_unit_test(not_present_each_level),
		cmocka_unit_test(reserved_each_level),
		cmocka_unit_test(reserved_large_pages),
		cmocka_unit_test(rights_32),
		cmocka_unit_test(rights_pae),
		cmocka_unit_test(rights_64),
		cmocka_unit_test(rights_spelled_out),
		cmocka_unit_test(ad_on_success_only),
		cmocka_unit_test(ad_large_leaf_and_peek),
		cmocka_unit_test(ad_entry_changed_under_walk),
		cmocka_unit_test(tables_outside_ram_read_all_ones),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
