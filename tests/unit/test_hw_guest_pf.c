/*
 * test_hw_guest_pf.c — page-fault error codes as a guest sees them, in
 * each paging mode (32-bit with 4 MiB pages, PAE, 4-level), on VMX and
 * SVM, with and without EPT/NPT.
 *
 * Each case maps one page (GM_VA_T, or another address where the case
 * needs one) with the entry bits under test, runs one access from ring 0
 * or ring 3, and lets the guest's own #PF handler (test_hw_guest.h)
 * record CR2, the error code and the interrupted CS:RIP. A case that must
 * not fault reaches the "done" gate instead. The expectations are the
 * manual's, written as numbers:
 *
 *   SDM Vol. 3A 4.6.1   access rights: user/supervisor, R/W with CR0.WP,
 *                       XD with EFER.NXE, SMEP, SMAP with RFLAGS.AC
 *   SDM Vol. 3A 4.7     error code: P (0) present, W/R (1) write, U/S (2)
 *                       CPL 3, RSVD (3) reserved bit, I/D (4) fetch with
 *                       SMEP or with PAE/4-level paging and NXE
 *   Tables 4-4..4-20    reserved bits per mode and level
 *
 * Every case runs on the four machines of gm_cfgs; a mismatch prints the
 * case and the machine, and the test fails after all cases ran.
 */
#include "test_hw_guest.h"

#define RD GM_RD
#define WR GM_WR
#define EX GM_EX

/* Case flags. */
#define U	(1u << 0)	/* the access is made at CPL 3 */
#define AC	(1u << 1)	/* RFLAGS.AC = 1 around it (popf at CPL 0) */
#define WP	(1u << 2)	/* CR0.WP */
#define SMEP	(1u << 3)	/* CR4.SMEP */
#define SMAP	(1u << 4)	/* CR4.SMAP */
#define NXE	(1u << 5)	/* EFER.NXE */

#define NOFAULT (-1)

/* A page's leaf bits (pt_builder.h spells them from the SDM tables). */
#define P	PTE_P
#define RW	PTE_RW
#define US	PTE_US
#define XD	PTE_XD
#define AD	(PTE_A | PTE_D)

/* Error code bits (SDM Vol. 3A 4.7, Figure 4-12), spelled out. */
#define E_P	0x01
#define E_W	0x02
#define E_U	0x04
#define E_RSVD	0x08
#define E_I	0x10

struct pf_case {
	const char *name;
	unsigned how;		/* U AC WP SMEP SMAP NXE */
	enum gm_acc acc;
	uint64_t leaf;		/* the leaf's bits (the page is at GM_TPAGE) */
	uint64_t size;		/* leaf page size; 0: 4 KiB */
	uint64_t va;		/* linear address; 0: GM_VA_T */
	unsigned lvl;		/* then change the entry at this level ... */
	uint64_t set, clear;	/* ... setting and clearing these bits */
	int err;		/* the #PF error code, or NOFAULT */
};

/* 4-level paging (SDM 4.5), EFER.NXE as the case says. */
static const struct pf_case cases_64[] = {
	/* Not present (P = 0 in the PTE): P clear, the access in W/U/I. */
	{ "sup read, not present", 0, RD, 0, .err = 0 },
	{ "sup write, not present", 0, WR, 0, .err = E_W },
	{ "sup fetch, not present, NXE", NXE, EX, 0, .err = E_I },
	{ "sup fetch, not present, no NXE", 0, EX, 0, .err = 0 },
	{ "user read, not present", U, RD, 0, .err = E_U },
	{ "user write, not present", U, WR, 0, .err = E_U | E_W },
	{ "user fetch, not present, NXE", U | NXE, EX, 0, .err = E_U | E_I },
	{ "not present in the PDE", 0, RD, P | RW | AD, .lvl = 2, .clear = PTE_P, .err = 0 },
	/* User accesses (4.6.1): the page must be a user page, and writable
	 * for a write, whatever CR0.WP says. */
	{ "user read, supervisor page", U, RD, P | RW | AD, .err = E_P | E_U },
	{ "user write, supervisor page", U, WR, P | RW | AD, .err = E_P | E_U | E_W },
	{ "user fetch, supervisor page", U | NXE, EX, P | RW | AD, .err = E_P | E_U | E_I },
	{ "user read, user page", U, RD, P | US | AD, .err = NOFAULT },
	{ "user write, read-only user page", U | WP, WR, P | US | AD, .err = E_P | E_U | E_W },
	{ "user write, read-only, WP = 0", U, WR, P | US | AD, .err = E_P | E_U | E_W },
	{ "user write, user page", U, WR, P | RW | US | AD, .err = NOFAULT },
	{ "user fetch, user page", U | NXE, EX, P | US | AD, .err = NOFAULT },
	/* Rights combine over the path: R/W and U/S must be 1 at every level. */
	{ "user write, PDE read-only", U | WP, WR, P | RW | US | AD, .lvl = 2,
	  .clear = PTE_RW, .err = E_P | E_U | E_W },
	{ "user read, PDE supervisor", U, RD, P | RW | US | AD, .lvl = 2,
	  .clear = PTE_US, .err = E_P | E_U },
	{ "user read, PDPTE supervisor", U, RD, P | RW | US | AD, 0, 0x80400000, .lvl = 3,
	  .clear = PTE_US, .err = E_P | E_U },
	/* Supervisor writes and CR0.WP. */
	{ "sup write, read-only, WP = 1", WP, WR, P | AD, .err = E_P | E_W },
	{ "sup write, read-only, WP = 0", 0, WR, P | AD, .err = NOFAULT },
	{ "sup write, read-only user page, WP = 0", 0, WR, P | US | AD, .err = NOFAULT },
	{ "sup write, PDE read-only, WP = 1", WP, WR, P | RW | AD, .lvl = 2,
	  .clear = PTE_RW, .err = E_P | E_W },
	/* Execute-disable (4.6.1, NXE = 1); without NXE, XD is reserved. */
	{ "sup fetch, XD page", NXE, EX, P | RW | XD | AD, .err = E_P | E_I },
	{ "user fetch, XD user page", U | NXE, EX, P | US | XD | AD, .err = E_P | E_U | E_I },
	{ "sup read, XD page", NXE, RD, P | RW | XD | AD, .err = NOFAULT },
	{ "sup fetch, XD in the PDE", NXE, EX, P | RW | AD, .lvl = 2, .set = XD,
	  .err = E_P | E_I },
	{ "sup read, XD without NXE", 0, RD, P | RW | XD | AD, .err = E_P | E_RSVD },
	{ "sup fetch, XD without NXE", 0, EX, P | RW | XD | AD, .err = E_P | E_RSVD },
	/* SMEP: no supervisor fetch from a user page; I/D is 1 with SMEP
	 * even without NXE (4.7). */
	{ "sup fetch, user page, SMEP", SMEP | NXE, EX, P | US | AD, .err = E_P | E_I },
	{ "sup fetch, user page, SMEP, no NXE", SMEP, EX, P | US | AD, .err = E_P | E_I },
	{ "sup fetch, user page, no SMEP", NXE, EX, P | US | AD, .err = NOFAULT },
	{ "sup fetch, not present, SMEP, no NXE", SMEP, EX, 0, .err = E_I },
	{ "user fetch, user page, SMEP", U | SMEP | NXE, EX, P | US | AD, .err = NOFAULT },
	/* SMAP: no supervisor data access to a user page unless AC = 1. */
	{ "sup read, user page, SMAP", SMAP, RD, P | RW | US | AD, .err = E_P },
	{ "sup write, user page, SMAP", SMAP, WR, P | RW | US | AD, .err = E_P | E_W },
	{ "sup read, user page, SMAP, AC", SMAP | AC, RD, P | RW | US | AD, .err = NOFAULT },
	{ "sup write, user page, SMAP, AC", SMAP | AC, WR, P | RW | US | AD, .err = NOFAULT },
	{ "sup read, user page, no SMAP", 0, RD, P | RW | US | AD, .err = NOFAULT },
	{ "sup write, read-only user page, SMAP, AC, WP", SMAP | AC | WP, WR, P | US | AD,
	  .err = E_P | E_W },
	{ "sup read, supervisor page, SMAP", SMAP, RD, P | RW | AD, .err = NOFAULT },
	{ "user read, user page, SMAP", U | SMAP, RD, P | RW | US | AD, .err = NOFAULT },
	/* Reserved bits (Tables 4-14..4-20): 51:MAXPHYADDR (46 here), PS in
	 * a PML4E, a large page's address bits below its alignment. RSVD
	 * comes with P = 1 and the access bits. Bits 62:52 are ignored. */
	{ "sup read, PTE bit 50", 0, RD, P | RW | AD | (1ull << 50), .err = E_P | E_RSVD },
	{ "sup write, PTE bit 50", 0, WR, P | RW | AD | (1ull << 50), .err = E_P | E_RSVD | E_W },
	{ "user fetch, PTE bit 50", U | NXE, EX, P | US | AD | (1ull << 50),
	  .err = E_P | E_RSVD | E_U | E_I },
	{ "sup read, PDE bit 46", 0, RD, P | RW | AD, .lvl = 2, .set = 1ull << 46,
	  .err = E_P | E_RSVD },
	{ "sup read, PTE bit 55 (ignored)", 0, RD, P | RW | AD | (1ull << 55), .err = NOFAULT },
	{ "sup read, 2 MiB page", 0, RD, P | RW | AD, PTB_2M, .err = NOFAULT },
	{ "user write, read-only 2 MiB page", U, WR, P | US | AD, PTB_2M, .err = E_P | E_U | E_W },
	{ "sup read, 2 MiB page bit 13", 0, RD, P | RW | AD, PTB_2M, .lvl = 2,
	  .set = 1ull << 13, .err = E_P | E_RSVD },
	{ "sup read, 1 GiB page", 0, RD, P | RW | AD, PTB_1G, 0x80000000, .err = NOFAULT },
	{ "sup read, 1 GiB page bit 29", 0, RD, P | RW | AD, PTB_1G, 0x80000000, .lvl = 3,
	  .set = 1ull << 29, .err = E_P | E_RSVD },
	{ "sup read, PS in the PML4E", 0, RD, P | RW | AD, 0, 0x8000000000ull, .lvl = 4,
	  .set = PTE_PS, .err = E_P | E_RSVD },
};

/* PAE paging (SDM 4.4): as 4-level, but reserved bits reach 62:M and
 * there is no PML4; the PDPTEs are registers (no U/S, R/W there). */
static const struct pf_case cases_pae[] = {
	{ "sup read, not present", 0, RD, 0, .err = 0 },
	{ "user write, not present", U, WR, 0, .err = E_U | E_W },
	{ "user fetch, not present, NXE", U | NXE, EX, 0, .err = E_U | E_I },
	{ "user fetch, not present, no NXE", U, EX, 0, .err = E_U },
	{ "user read, supervisor page", U, RD, P | RW | AD, .err = E_P | E_U },
	{ "user write, read-only user page", U, WR, P | US | AD, .err = E_P | E_U | E_W },
	{ "user write, PDE read-only", U, WR, P | RW | US | AD, .lvl = 2, .clear = PTE_RW,
	  .err = E_P | E_U | E_W },
	{ "sup write, read-only, WP = 1", WP, WR, P | AD, .err = E_P | E_W },
	{ "sup write, read-only, WP = 0", 0, WR, P | AD, .err = NOFAULT },
	{ "sup fetch, XD page", NXE, EX, P | RW | XD | AD, .err = E_P | E_I },
	{ "sup read, XD without NXE", 0, RD, P | RW | XD | AD, .err = E_P | E_RSVD },
	{ "sup read, PTE bit 50", 0, RD, P | RW | AD | (1ull << 50), .err = E_P | E_RSVD },
	{ "sup read, PTE bit 55 (reserved in PAE)", 0, RD, P | RW | AD | (1ull << 55),
	  .err = E_P | E_RSVD },
	{ "sup fetch, user page, SMEP", SMEP | NXE, EX, P | US | AD, .err = E_P | E_I },
	{ "sup read, user page, SMAP", SMAP, RD, P | RW | US | AD, .err = E_P },
	{ "sup read, user page, SMAP, AC", SMAP | AC, RD, P | RW | US | AD, .err = NOFAULT },
	{ "user write, read-only 2 MiB page", U, WR, P | US | AD, PTB_2M, .err = E_P | E_U | E_W },
	{ "sup read, 2 MiB page bit 20", 0, RD, P | RW | AD, PTB_2M, .lvl = 2,
	  .set = 1ull << 20, .err = E_P | E_RSVD },
};

/* 32-bit paging (SDM 4.3) with CR4.PSE: no XD, no reserved bits in a
 * PTE; a 4 MiB PDE reserves bits 21:(M'-19), M' = min(MAXPHYADDR, 40),
 * so bit 21 here (Table 4-4). I/D only with SMEP (4.7). */
static const struct pf_case cases_32[] = {
	{ "sup read, not present", 0, RD, 0, .err = 0 },
	{ "sup write, not present", 0, WR, 0, .err = E_W },
	{ "user fetch, not present", U, EX, 0, .err = E_U },
	{ "user read, supervisor page", U, RD, P | RW | AD, .err = E_P | E_U },
	{ "user write, read-only user page", U, WR, P | US | AD, .err = E_P | E_U | E_W },
	{ "user fetch, supervisor page", U, EX, P | RW | AD, .err = E_P | E_U },
	{ "user write, PDE read-only", U, WR, P | RW | US | AD, .lvl = 2, .clear = PTE_RW,
	  .err = E_P | E_U | E_W },
	{ "sup write, read-only, WP = 1", WP, WR, P | AD, .err = E_P | E_W },
	{ "sup write, read-only, WP = 0", 0, WR, P | AD, .err = NOFAULT },
	{ "sup fetch, user page, SMEP", SMEP, EX, P | US | AD, .err = E_P | E_I },
	{ "sup fetch, not present, SMEP", SMEP, EX, 0, .err = E_I },
	{ "sup read, user page, SMAP", SMAP, RD, P | RW | US | AD, .err = E_P },
	{ "sup write, user page, SMAP, AC", SMAP | AC, WR, P | RW | US | AD, .err = NOFAULT },
	{ "sup read, PTE bits 11:9 (ignored)", 0, RD, P | RW | AD | 0xe00, .err = NOFAULT },
	{ "sup read, 4 MiB page", 0, RD, P | RW | AD, PTB_4M, .err = NOFAULT },
	{ "user write, read-only 4 MiB page", U, WR, P | US | AD, PTB_4M,
	  .err = E_P | E_U | E_W },
	{ "user fetch, 4 MiB user page", U, EX, P | US | AD, PTB_4M, .err = NOFAULT },
	{ "sup read, 4 MiB page bit 21", 0, RD, P | RW | AD, PTB_4M, .lvl = 2,
	  .set = 1ull << 21, .err = E_P | E_RSVD },
};

/* ------------------------------------------------------------ one run */

/* Run @c on machine @cfg in @mode; 0 if the guest did what the SDM says. */
static int run_case(const struct gm_cfg *cfg, enum gm_mode mode, const struct pf_case *c)
{
	const uint64_t va = c->va ? c->va : GM_VA_T;
	const uint64_t size = c->size ? c->size : PTB_4K;
	const bool user = c->how & U;
	struct gm m;
	int bad = 0;

	gm_create(&m, cfg, mode, (c->how & WP) ? CR0_WP : 0,
		  ((c->how & SMEP) ? CR4_SMEP : 0) | ((c->how & SMAP) ? CR4_SMAP : 0) |
		  (mode == GM_32 ? CR4_PSE : 0),
		  (c->how & NXE) ? EFER_NXE_BIT : 0);

	/* The page: "int 0x80" at its start, so a fetch that works ends at
	 * the done gate. A 1 GiB page maps physical 0 (the only 1 GiB-aligned
	 * base the guest can reach with or without EPT/NPT). */
	static const uint8_t int80[] = { 0xcd, 0x80 };	/* int 0x80 */
	if (size == PTB_1G) {
		assert_int_equal(ptb_map(&m.g.guest, m.fmt, m.cr3, va, 0, size, c->leaf), 0);
	} else {
		gm_put(&m, GM_TPAGE, int80, sizeof(int80));
		gm_map(&m, va, GM_TPAGE, size, c->leaf);
	}
	if (c->lvl)
		gm_update(&m, va, c->lvl, c->set, c->clear);

	/* The code: the access, then "int 0x80"; from ring 3 it runs in a
	 * user page reached through IRET. */
	uint8_t code[48];
	size_t n = 0, at = 0;
	uint64_t code_va = GM_CODE;
	if (c->how & AC) {
		static const uint8_t set_ac[] = {
			0x68, 0x02, 0x00, 0x04, 0x00,	/* push 0x40002 (AC | bit 1) */
			0x9d,				/* popf */
		};
		memcpy(code, set_ac, sizeof(set_ac));
		n = sizeof(set_ac);
	}
	n += gm_access(code + n, c->acc, va, &at);
	code[n++] = 0xcd;	/* int 0x80 */
	code[n++] = 0x80;
	if (user) {
		gm_map(&m, GM_VA_UCODE, 0x14000, PTB_4K, P | RW | US | AD);
		gm_map(&m, GM_VA_USTACK, 0x15000, PTB_4K, P | RW | US | AD);
		gm_put(&m, 0x14000, code, n);
		gm_put_to_ring3(&m, GM_CODE);
		code_va = GM_VA_UCODE;
	} else {
		gm_put(&m, GM_CODE, code, n);
	}
	const size_t prefix = (c->how & AC) ? 6 : 0;

	const uint64_t rip = gm_run_to_hlt(&m);
	const uint64_t cs = user ? (mode == GM_64 ? SEL_UCODE64 : SEL_UCODE32)
				 : (mode == GM_64 ? SEL_KCODE64 : SEL_KCODE32);
	if (c->err == NOFAULT) {
		if (rip != GM_DONE_HLT || gm_res(&m, RES_DONE) != DONE_MARK) {
			print_error("  expected no fault; halted at %#llx, error code %#llx, cr2 %#llx\n",
				    (unsigned long long)rip, (unsigned long long)gm_res(&m, RES_ERR),
				    (unsigned long long)gm_res(&m, RES_CR2));
			bad = 1;
		}
	} else {
		const uint64_t fault_rip = c->acc == EX ? va : code_va + prefix + at;
		if (rip != gm_pf_hlt(mode) || gm_res(&m, RES_ERR) != (uint64_t)c->err ||
		    gm_res(&m, RES_CR2) != (mode == GM_64 ? va : (uint32_t)va) ||
		    gm_res(&m, RES_RIP) != fault_rip || gm_res(&m, RES_CS) != cs) {
			print_error("  expected #PF %#x at cr2 %#llx rip %#llx cs %#llx; halted at %#llx "
				    "with error code %#llx cr2 %#llx rip %#llx cs %#llx\n", c->err,
				    (unsigned long long)va, (unsigned long long)fault_rip,
				    (unsigned long long)cs, (unsigned long long)rip,
				    (unsigned long long)gm_res(&m, RES_ERR),
				    (unsigned long long)gm_res(&m, RES_CR2),
				    (unsigned long long)gm_res(&m, RES_RIP),
				    (unsigned long long)gm_res(&m, RES_CS));
			bad = 1;
		}
	}
	gm_destroy(&m);
	return bad;
}

static void run_table(enum gm_mode mode, const struct pf_case *t, size_t n)
{
	unsigned bad = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < GM_NR_CFGS; k++) {
			if (run_case(&gm_cfgs[k], mode, &t[i])) {
				print_error("FAILED: %s [%s]\n", t[i].name, gm_cfgs[k].name);
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
}

static void pf_4level(void **state) { run_table(GM_64, cases_64, sizeof(cases_64) / sizeof(cases_64[0])); }
static void pf_pae(void **state) { run_table(GM_PAE, cases_pae, sizeof(cases_pae) / sizeof(cases_pae[0])); }
static void pf_32bit(void **state) { run_table(GM_32, cases_32, sizeof(cases_32) / sizeof(cases_32[0])); }

/*
 * SDM Vol. 3C 27.3.2.4 (Loading Page-Directory-Pointer-Table Entries): a
 * VM entry into PAE paging with "enable EPT" = 0 loads the four PDPTEs
 * from the guest CR3, as MOV to CR3 would. A guest entered in PAE mode
 * must therefore translate through the tables CR3 names on its first
 * instruction fetch.
 */
static void pae_entry_pdptes_without_ept(void **state)
{
	const struct gm_cfg cfg = { HW_VENDOR_INTEL, false, "vmx" };
	struct gm m;
	gm_create(&m, &cfg, GM_PAE, 0, 0, 0);
	static const uint8_t code[] = {
		0xcd, 0x80,			/* int 0x80 */
	};
	gm_put(&m, GM_CODE, code, sizeof(code));
	assert_int_equal(gm_run(&m), VMX_EXIT_HLT_NR);
	assert_int_equal(hwg_rip(&m.g), GM_DONE_HLT);
	gm_destroy(&m);
}

/*
 * Rights are checked for the access being made, not the one that filled
 * the TLB (SDM Vol. 3A 4.10.2.2: the TLB caches the rights; 4.6 decides
 * per access). Three runs, each priming the TLB with an access that is
 * allowed and then making one that is not, to the same page:
 *   0: ring 3 reads the user page GM_VA_T, then INT 0x81 to ring 0, which
 *      reads it with SMAP on: #PF P (1) at the handler, CS 0x08;
 *   1: ring 3 fetches from GM_VA_T (it holds "int 0x81"), and ring 0 jumps
 *      there with SMEP on: #PF P|I (0x11) at GM_VA_T, CS 0x08;
 *   2: ring 0 writes the supervisor page GM_VA_T, then ring 3 reads it:
 *      #PF P|U (5) in the user code.
 */
static void pf_rights_across_cpl(void **state)
{
	static const uint8_t user_read[] = {
		0x8b, 0x04, 0x25, 0x00, 0x00, 0x40, 0x40,	/* mov eax, [GM_VA_T] */
		0xcd, 0x81,					/* int 0x81 */
	};
	static const uint8_t user_jump[] = {
		0xb8, 0x00, 0x00, 0x40, 0x40,			/* mov eax, GM_VA_T */
		0xff, 0xe0,					/* jmp rax */
	};
	static const uint8_t int81[] = { 0xcd, 0x81 };		/* int 0x81 */
	static const uint8_t int80[] = { 0xcd, 0x80 };		/* int 0x80 */
	static const uint8_t sup_write[] = {
		0x89, 0x04, 0x25, 0x00, 0x00, 0x40, 0x40,	/* mov [GM_VA_T], eax */
	};
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		for (unsigned v = 0; v < 3; v++) {
			struct gm m;
			gm_create(&m, &gm_cfgs[k], GM_64, CR0_WP, v == 0 ? CR4_SMAP : v == 1 ? CR4_SMEP : 0, 0);
			gm_map(&m, GM_VA_UCODE, 0x14000, PTB_4K, P | RW | US | AD);
			gm_map(&m, GM_VA_USTACK, 0x15000, PTB_4K, P | RW | US | AD);
			gm_map(&m, GM_VA_T, GM_TPAGE, PTB_4K, P | RW | (v < 2 ? US : 0) | AD);
			gm_put(&m, GM_TPAGE, int81, sizeof(int81));
			gm_gate(&m, 0x81, 0x11200, 3, true);
			if (v == 0) {
				gm_put(&m, 0x14000, user_read, sizeof(user_read));
				gm_put(&m, 0x11200, user_read, 7);	/* the same read, then */
				gm_put(&m, 0x11207, int80, sizeof(int80));
				gm_put_to_ring3(&m, GM_CODE);
			} else if (v == 1) {
				gm_put(&m, 0x14000, user_jump, sizeof(user_jump));
				gm_put(&m, 0x11200, user_jump, sizeof(user_jump));
				gm_put_to_ring3(&m, GM_CODE);
			} else {
				gm_put(&m, 0x14000, user_read, sizeof(user_read));
				gm_put(&m, GM_CODE, sup_write, sizeof(sup_write));
				gm_put_to_ring3(&m, GM_CODE + sizeof(sup_write));
			}
			static const uint32_t err[] = { E_P, E_P | E_I, E_P | E_U };
			static const uint64_t rip[] = { 0x11200, GM_VA_T, GM_VA_UCODE };
			static const uint64_t cs[] = { SEL_KCODE64, SEL_KCODE64, SEL_UCODE64 };
			assert_int_equal(gm_run_to_hlt(&m), gm_pf_hlt(GM_64));
			assert_int_equal(gm_res(&m, RES_ERR), err[v]);
			assert_int_equal(gm_res(&m, RES_CR2), GM_VA_T);
			assert_int_equal(gm_res(&m, RES_RIP), rip[v]);
			assert_int_equal(gm_res(&m, RES_CS), cs[v]);
			gm_destroy(&m);
		}
	}
}

/*
 * SMAP and implicit supervisor-mode accesses (SDM Vol. 3A 4.6: accesses
 * to system data structures such as the GDT, LDT, IDT and TSS are
 * implicit; with CR4.SMAP = 1 an implicit supervisor-mode read from a
 * user-mode page faults whatever RFLAGS.AC says — AC lifts SMAP only for
 * explicit accesses). The guest's LDT lies in a user page (GM_VA_T); at
 * CPL 0 it loads DS with LDT selector 4, which reads the descriptor
 * there: #PF with error code P (1), CR2 = GM_VA_T. Without SMAP the load
 * works and the guest reaches the done gate.
 */
static void pf_smap_implicit(void **state)
{
	static const uint8_t code[] = {
		0x68, 0x02, 0x00, 0x04, 0x00,	/* push 0x40002 (AC; patched to 2) */
		0x9d,				/* popf */
		0x66, 0xb8, 0x50, 0x00,		/* mov ax, 0x50 */
		0x0f, 0x00, 0xd0,		/* lldt ax */
		0x66, 0xb8, 0x04, 0x00,		/* mov ax, 4 (LDT entry 0, RPL 0) */
		0x8e, 0xd8,			/* mov ds, ax */
		0xcd, 0x80,			/* int 0x80 */
	};
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		for (unsigned v = 0; v < 3; v++) {	/* no SMAP; SMAP, AC = 0; SMAP, AC = 1 */
			struct gm m;
			gm_create(&m, &gm_cfgs[k], GM_64, CR0_WP, v ? CR4_SMAP : 0, 0);
			gm_map(&m, GM_VA_T, GM_TPAGE, PTB_4K, P | RW | US | AD);
			gm_put64(&m, GM_TPAGE, 0x00cf93000000ffffull);	/* data, DPL 0 */
			/* A 64-bit LDT descriptor (type 2, SDM 7.2.3 / 3.5) at
			 * 0x50: base GM_VA_T, limit 0xfff. */
			const uint64_t base = GM_VA_T;
			gm_put64(&m, GM_GDT + 0x50, 0xfffull | (base & 0xffffff) << 16 | 0x82ull << 40 |
						    ((base >> 24) & 0xff) << 56);
			gm_put64(&m, GM_GDT + 0x58, base >> 32);
			gm_set_dtr(&m, false, GM_GDT, 0x5f);
			uint8_t b[sizeof(code)];
			memcpy(b, code, sizeof(b));
			if (v < 2)
				b[3] = 0;		/* push 2: AC = 0 */
			gm_put(&m, GM_CODE, b, sizeof(b));
			const uint64_t rip = gm_run_to_hlt(&m);
			if (v == 0) {
				assert_int_equal(rip, GM_DONE_HLT);
				gm_destroy(&m);
				continue;
			}
			assert_int_equal(rip, gm_pf_hlt(GM_64));
			assert_int_equal(gm_res(&m, RES_ERR), E_P);
			assert_int_equal(gm_res(&m, RES_CR2), GM_VA_T);
			assert_int_equal(gm_res(&m, RES_RIP), GM_CODE + 17);
			gm_destroy(&m);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pf_4level),
		cmocka_unit_test(pf_pae),
		cmocka_unit_test(pf_32bit),
		cmocka_unit_test(pf_rights_across_cpl),
		cmocka_unit_test(pf_smap_implicit),
		cmocka_unit_test(pae_entry_pdptes_without_ept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
