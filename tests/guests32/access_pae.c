/*
 * access_pae.c — every permutation of paging bits and controls under PAE
 * paging (2 MiB pages), checked against the SDM's rules (access_model.h
 * has the rules, what is asserted and which permutations run).
 *
 * SDM Vol. 3A 4.4 (PAE paging; Tables 4-8..4-11), 4.6.1 (access rights
 * with CR0.WP, EFER.NXE, CR4.SMEP, CR4.SMAP and EFLAGS.AC), 4.7 (#PF
 * error code and CR2), 4.8 (A and D), 4.10.4.1 (INVLPG). XD (bit 63) is a
 * reserved bit while EFER.NXE=0 (Tables 4-9..4-11): such a walk faults
 * with RSVD=1 and P=1.
 *
 * Layout: the four PDPTEs present (pae.c; PDPTEs carry no rights); 0-4 MiB
 * identity-mapped with 4 KiB pages, supervisor except the image's .user
 * pages (touch32.S's ring-3 stubs and stack), so ring 0 neither fetches
 * from nor touches a user page whatever SMEP and SMAP say; 32 MiB
 * identity-mapped by a supervisor 2 MiB page (the frame's ring-0 view).
 * The page under test is VA 1 GiB: its PDE (a 2 MiB page at 32 MiB, or a
 * page table) and the PTE 0 of that table (the first 4 KiB of the same
 * frame) carry the bits under test. The frame holds a RET at offset 0
 * and the word reads and writes use at 0x800. CR4.PGE=1 so G is live.
 *
 * QEMU options: -cpu max
 * (QEMU's default CPU model has neither SMEP nor SMAP.)
 *
 * Expected serial output: tests/guests32/access_pae.expect (a CPU with
 * XD, SMEP and SMAP: QEMU's "max" and hvlab's).
 * Expected exit status: 1 (guest_exit(0)).
 * QEMU 7.2 clears P in the error code of a reserved-bit #PF
 * (docs/qemu-deviations.md, row 1): access_pae.qemu.expect.
 * Expected exit status on QEMU: 3
 */
#include "guests32/guest32.h"
#include "guests/touch.h"
#include "access_model.h"

#define AT_ENTRY		uint64_t
#define AT_SPACE		pae
#define AT_PDE(as, va)		pae_pde(as, va)
#define AT_INIT(as)		pae_init(as)
#define AT_MAP			pae_map
#define AT_MAP_LARGE		pae_map_2m
#define AT_ENABLE(as, nx)	pae_enable(as, nx)
#define AT_HAS_NX()		pae_nx_supported()
#define AT_MODE			AM_MODE_PAE
#define AT_NAME			"PAE"
#define AT_TEST			"access_pae"
#include "access32_tmpl.h"
