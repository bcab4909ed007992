/*
 * test_mmu_gwalk_ept.c — the shared guest walker (mmu/gwalk.c) in its
 * EPT format against the SDM Vol. 3C: translation with 4 KiB, 2 MiB and
 * 1 GiB pages (29.3.2, Tables 29-1..29-6), EPT violations and the exit
 * qualification bits 5:0 (28.2.1, Table 28-7), misconfigurations
 * (29.3.3.1: W without R, execute-only without the capability, reserved
 * bits at every level, a leaf's reserved memory types), and the EPT
 * accessed/dirty flags enabled by EPTP bit 6 (29.3.5, 24.6.11).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_mmu_gwalk.h"

/* EPT violation exit qualification (SDM Vol. 3C Table 28-7). */
#define Q_R	0x01u	/* data read */
#define Q_W	0x02u	/* data write */
#define Q_X	0x04u	/* instruction fetch */
#define Q_RD_OK	0x08u	/* the gpa was readable (AND of bit 0) */
#define Q_WR_OK	0x10u	/* ... writable */
#define Q_EX_OK	0x20u	/* ... executable */

/* EPTP (24.6.11): memory type 6 (WB) in 2:0, walk length - 1 = 3 in 5:3,
 * bit 6 enables accessed and dirty flags. */
#define EPTP_WB_4	((3u << 3) | 6u)
#define EPTP_AD		(1u << 6)

#define RD	0u
#define WR	GWALK_ACC_WRITE
#define EX	GWALK_ACC_FETCH

#define TABLES		0x00100000ull
#define TABLES_END	0x00800000ull
#define GPA		0x0000001234503000ull	/* an address the tests map */
#define HPA		0x01345000ull		/* ... to this page */
#define RWX		(EPT_R | EPT_W | EPT_X)

static struct fake_mem fm;
static struct ptb b;
static struct gwalk_cfg cfg;
static struct gwalk w;
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

static void reset(bool ad)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = GWALK_EPT;
	cfg.maxphyaddr = 46;
	cfg.gbpages = true;
	ptb_init(&b, fm.ram, FAKE_SIZE, 0, TABLES, TABLES_END);
	root = ptb_root(&b, PTB_EPT);
	cfg.root = root | EPTP_WB_4 | (ad ? EPTP_AD : 0);
}

static void map(uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t flags)
{
	assert_int_equal(ptb_map(&b, PTB_EPT, root, gpa, hpa, size, flags), 0);
}

static uint64_t entry(uint64_t gpa, unsigned level)
{
	return ptb_get(&b, PTB_EPT, root, gpa, level);
}

static void update(uint64_t gpa, unsigned level, uint64_t set, uint64_t clear)
{
	assert_int_equal(ptb_update(&b, PTB_EPT, root, gpa, level, set, clear), 0);
}

static int walk(uint64_t gpa, unsigned acc)
{
	return gwalk(&cfg, &fm.mem, gpa, acc, &w);
}

static void assert_ok(uint64_t gpa, unsigned acc, uint64_t hpa, unsigned shift)
{
	assert_int_equal(walk(gpa, acc), 0);
	assert_int_equal(w.fault, GWALK_OK);
	assert_int_equal(w.gpa, hpa);
	assert_int_equal(w.page_shift, shift);
}

static void assert_violation(uint64_t gpa, unsigned acc, uint32_t qual)
{
	assert_int_equal(walk(gpa, acc), -EFAULT);
	assert_int_equal(w.fault, GWALK_EPT_VIOLATION);
	assert_int_equal(w.error_code, qual);
}

static void assert_misconfig(uint64_t gpa, unsigned acc)
{
	assert_int_equal(walk(gpa, acc), -EFAULT);
	assert_int_equal(w.fault, GWALK_EPT_MISCONFIG);
}

/* ------------------------------------------------------------ translation */

static void ept_page_sizes(void **state)
{
	reset(false);
	map(GPA, HPA, PTB_4K, RWX | EPT_MT_WB);
	map(0x40200000, 0x00600000, PTB_2M, EPT_R | EPT_MT_WB);
	map(0x80000000, 0xc0000000, PTB_1G, EPT_R | EPT_X | EPT_MT_WB);
	assert_ok(GPA + 0x123, WR, HPA + 0x123, 12);
	assert_int_equal(w.top, 4);
	assert_int_equal(w.level, 1);
	assert_int_equal(w.rights, GWALK_R | GWALK_W | GWALK_X);
	assert_ok(0x402fffff, RD, 0x006fffff, 21);
	assert_int_equal(w.rights, GWALK_R);
	assert_ok(0xbfffffff, EX, 0xffffffff, 30);
	assert_int_equal(w.rights, GWALK_R | GWALK_X);
	assert_int_equal(w.level, 3);
	for (unsigned l = 3; l <= 4; l++) {
		assert_int_equal(w.pte_gpa[l], ptb_entry_addr(&b, PTB_EPT, root, 0x80000000, l));
		assert_int_equal(w.pte[l], entry(0x80000000, l));
	}
	/* Without 1 GiB pages (IA32_VMX_EPT_VPID_CAP[17]) bit 7 of a PDPTE
	 * is reserved: a misconfiguration. */
	cfg.gbpages = false;
	assert_misconfig(0x80000000, RD);
	assert_int_equal(w.level, 3);
	/* EPTP bits 11:0 are not address. */
	cfg.gbpages = true;
	assert_ok(GPA, RD, HPA, 12);
}

/* ------------------------------------------------------------ violations */

static void ept_not_present_each_level(void **state)
{
	for (unsigned level = 1; level <= 4; level++) {
		reset(true);
		map(GPA, HPA, PTB_4K, RWX | EPT_MT_WB);
		/* Bits 2:0 = 0: not present, whatever else is set — even a
		 * reserved bit (29.3.3.1 checks present entries only). */
		update(GPA, level, 1ull << 45 | 1ull << 50, RWX);
		assert_violation(GPA, RD, Q_R);
		assert_int_equal(w.level, level);
		assert_violation(GPA, WR, Q_W);
		assert_violation(GPA, EX, Q_X);
		/* Nothing was marked accessed. */
		for (unsigned l = 1; l <= 4; l++)
			assert_int_equal(entry(GPA, l) & EPT_A, 0);
	}
}

static void ept_rights_matrix(void **state)
{
	/* Legal permission values (29.3.3.1): R, RW, RX, RWX, and X with the
	 * execute-only capability. The path's rights are the AND (29.3.3.2). */
	static const uint64_t perms[] = { EPT_R, EPT_R | EPT_W, EPT_R | EPT_X, RWX, EPT_X };
	static const unsigned accs[] = { RD, WR, EX };
	reset(false);
	cfg.ept_x_only = true;
	map(GPA, HPA, PTB_4K, RWX | EPT_MT_WB);
	for (unsigned a = 0; a < 5; a++)
		for (unsigned bb = 0; bb < 5; bb++)
			for (unsigned c = 0; c < 5; c++)
				for (unsigned d = 0; d < 5; d++) {
					update(GPA, 4, perms[a], RWX & ~perms[a]);
					update(GPA, 3, perms[bb], RWX & ~perms[bb]);
					update(GPA, 2, perms[c], RWX & ~perms[c]);
					update(GPA, 1, perms[d], RWX & ~perms[d]);
					const unsigned and = (unsigned)(perms[a] & perms[bb] &
									perms[c] & perms[d]);
					for (unsigned i = 0; i < 3; i++) {
						const unsigned need = accs[i] == WR ? EPT_W :
								      accs[i] == EX ? EPT_X : EPT_R;
						const unsigned q = accs[i] == WR ? Q_W :
								   accs[i] == EX ? Q_X : Q_R;
						if (and & need) {
							assert_ok(GPA, accs[i], HPA, 12);
							assert_int_equal(w.rights, and);
						} else {
							assert_violation(GPA, accs[i],
									 q | and << 3);
						}
					}
				}
}

static void ept_violation_qualification(void **state)
{
	reset(false);
	map(GPA, HPA, PTB_4K, EPT_R | EPT_MT_WB);
	/* A write to a read-only page: bit 1, and bit 3 (readable). */
	assert_violation(GPA, WR, Q_W | Q_RD_OK);
	assert_violation(GPA, EX, Q_X | Q_RD_OK);
	update(GPA, 1, EPT_X, 0);
	update(GPA, 3, 0, EPT_X);
	assert_violation(GPA, EX, Q_X | Q_RD_OK);
	update(GPA, 3, EPT_X, 0);
	assert_violation(GPA, WR, Q_W | Q_RD_OK | Q_EX_OK);
}

/* ------------------------------------------------------------ misconfigurations */

static void ept_write_without_read(void **state)
{
	for (unsigned level = 1; level <= 4; level++) {
		reset(false);
		cfg.ept_x_only = true;
		map(GPA, HPA, PTB_4K, RWX | EPT_MT_WB);
		update(GPA, level, 0, EPT_R);		/* 110b: write/execute */
		assert_misconfig(GPA, RD);
		assert_int_equal(w.level, level);
		update(GPA, level, 0, EPT_X);		/* 010b: write-only */
		assert_misconfig(GPA, WR);
	}
}

static void ept_execute_only(void **state)
{
	for (unsigned level = 1; level <= 4; level++) {
		reset(false);
		map(GPA, HPA, PTB_4K, RWX | EPT_MT_WB);
		update(GPA, level, 0, EPT_R | EPT_W);	/* 100b */
		assert_misconfig(GPA, EX);		/* not supported */
		cfg.ept_x_only = true;
		assert_ok(GPA, EX, HPA, 12);
		assert_int_equal(w.rights, GWALK_X);
		assert_violation(GPA, RD, Q_R | Q_EX_OK);
	}
}

static void ept_reserved_bits(void **state)
{
	reset(false);
	map(GPA, HPA, PTB_4K, RWX | EPT_MT_WB);
	map(0x40200000, 0x00600000, PTB_2M, RWX | EPT_MT_WB);
	map(0x80000000, 0xc0000000, PTB_1G, RWX | EPT_MT_WB);
	/* Above MAXPHYADDR (51:M) at every level. */
	for (unsigned level = 1; level <= 4; level++)
		for (unsigned bit = 46; bit <= 51; bit += 5) {
			update(GPA, level, 1ull << bit, 0);
			assert_misconfig(GPA, RD);
			update(GPA, level, 0, 1ull << bit);
		}
	/* PML4E 7:3 (Table 29-1); PDPTE and PDE referencing a table 7:3
	 * (6:3, bit 7 selecting a page: Tables 29-3, 29-5). */
	for (unsigned level = 2; level <= 4; level++)
		for (unsigned bit = 3; bit <= (level == 4 ? 7u : 6u); bit++) {
			update(GPA, level, 1ull << bit, 0);
			assert_misconfig(GPA, RD);
			update(GPA, level, 0, 1ull << bit);
		}
	/* Large pages: the address bits below their alignment (Tables 29-2,
	 * 29-4): 20:12 and 29:12. */
	for (unsigned bit = 12; bit <= 20; bit++) {
		update(0x40200000, 2, 1ull << bit, 0);
		assert_misconfig(0x40200000, RD);
		update(0x40200000, 2, 0, 1ull << bit);
	}
	for (unsigned bit = 12; bit <= 29; bit++) {
		update(0x80000000, 3, 1ull << bit, 0);
		assert_misconfig(0x80000000, RD);
		update(0x80000000, 3, 0, 1ull << bit);
	}
	/* Ignored, not reserved: a PTE's bit 7, 11:10, 62:52, 63 (suppress
	 * #VE, not modeled) and IPAT (6) in a leaf. */
	update(GPA, 1, 1u << 7 | 3u << 10 | 0x7ffull << 52 | 1ull << 63 | EPT_IPAT, 0);
	update(GPA, 4, 3u << 10 | 1ull << 60, 0);
	assert_ok(GPA, RD, HPA, 12);
}

static void ept_memory_type(void **state)
{
	/* A leaf's memory type 2, 3 or 7 is reserved (29.3.3.1); 0, 1, 4, 5, 6 are UC, WC, WT, WP, WB. */
	reset(false);
	map(GPA, HPA, PTB_4K, RWX);
	map(0x40200000, 0x00600000, PTB_2M, RWX);
	for (unsigned mt = 0; mt < 8; mt++) {
		update(GPA, 1, EPT_MT(mt), EPT_MT(7));
		update(0x40200000, 2, EPT_MT(mt), EPT_MT(7));
		if (mt == 2 || mt == 3 || mt == 7) {
			assert_misconfig(GPA, RD);
			assert_int_equal(w.level, 1);
			assert_misconfig(0x40200000, WR);
		} else {
			assert_ok(GPA, RD, HPA, 12);
			assert_ok(0x40200000, WR, 0x00600000, 21);
		}
	}
}

/* ------------------------------------------------------------ A/D flags */

static void ept_ad_flags(void **state)
{
	/* EPTP bit 6 clear: no flags are written, and every page counts
	 * as dirty (there is no flag to wait for). */
	reset(false);
	map(GPA, HPA, PTB_4K, RWX | EPT_MT_WB);
	const unsigned before = fm.writes;
	assert_ok(GPA, WR, HPA, 12);
	assert_true(w.dirty);
	assert_int_equal(fm.writes, before);
	for (unsigned l = 1; l <= 4; l++)
		assert_int_equal(entry(GPA, l) & (EPT_A | EPT_D), 0);

	/* Bit 6 set: A on every entry used, D on the leaf of a write, none on
	 * a violation (29.3.5). */
	reset(true);
	map(GPA, HPA, PTB_4K, EPT_R | EPT_MT_WB);
	assert_violation(GPA, WR, Q_W | Q_RD_OK);
	for (unsigned l = 1; l <= 4; l++)
		assert_int_equal(entry(GPA, l) & (EPT_A | EPT_D), 0);
	assert_ok(GPA, RD, HPA, 12);
	assert_false(w.dirty);
	for (unsigned l = 1; l <= 4; l++)
		assert_int_equal(entry(GPA, l) & (EPT_A | EPT_D), EPT_A);
	update(GPA, 1, EPT_W, 0);
	assert_ok(GPA, WR, HPA, 12);
	assert_true(w.dirty);
	assert_int_equal(entry(GPA, 1) & (EPT_A | EPT_D), EPT_A | EPT_D);
	for (unsigned l = 2; l <= 4; l++)
		assert_int_equal(entry(GPA, l) & EPT_D, 0);
	/* A 2 MiB leaf gets D; a misconfigured walk writes nothing. */
	map(0x40200000, 0x00600000, PTB_2M, RWX | EPT_MT(2));
	assert_misconfig(0x40200000, WR);
	assert_int_equal(entry(0x40200000, 3) & EPT_A, 0);
	update(0x40200000, 2, EPT_MT_WB, EPT_MT(7));
	assert_ok(0x40200000, WR, 0x00600000, 21);
	assert_int_equal(entry(0x40200000, 2) & (EPT_A | EPT_D), EPT_A | EPT_D);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ept_page_sizes),
		cmocka_unit_test(ept_not_present_each_level),
		cmocka_unit_test(ept_rights_matrix),
		cmocka_unit_test(ept_violation_qualification),
		cmocka_unit_test(ept_write_without_read),
		cmocka_unit_test(ept_execute_only),
		cmocka_unit_test(ept_reserved_bits),
		cmocka_unit_test(ept_memory_type),
		cmocka_unit_test(ept_ad_flags),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
