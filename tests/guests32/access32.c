/*
 * access32.c — every permutation of paging bits and controls under 32-bit
 * paging (CR4.PSE=1: 4 MiB pages), checked against the SDM's rules
 * (access_model.h has the rules, what is asserted and which permutations
 * run).
 *
 * SDM Vol. 3A 4.3 (32-bit paging; Tables 4-4..4-6), 4.6.1 (access rights
 * with CR0.WP, CR4.SMEP, CR4.SMAP and EFLAGS.AC; EFER.NXE does not apply to
 * 32-bit paging, whose entries have no XD bit), 4.7 (#PF error code: I/D
 * only with SMEP here, since CR4.PAE=0), 4.8 (A and D), 4.10.4.1 (INVLPG).
 * EFER.NXE is still switched (where CPUID.80000001H:EDX[20] says it
 * exists): it must change nothing.
 *
 * Layout: 0-4 MiB identity-mapped with 4 KiB pages, supervisor except the
 * image's .user pages (touch32.S's ring-3 stubs and stack), so ring 0
 * neither fetches from nor touches a user page whatever SMEP and SMAP
 * say; 32 MiB identity-mapped by a supervisor 4 MiB page (the frame's
 * ring-0 view). The page under test is VA 1 GiB: its PDE (a 4 MiB page
 * at 32 MiB, or a page table) and the PTE 0 of that table (the first
 * 4 KiB of the same frame) carry the bits under test. The frame holds a
 * RET at offset 0 and the word reads and writes use at 0x800. CR4.PGE=1
 * so G is live.
 *
 * QEMU options: -cpu max
 * (QEMU's default CPU model has neither SMEP nor SMAP.)
 *
 * Expected serial output: tests/guests32/access32.expect (a CPU with XD,
 * SMEP and SMAP: QEMU's "max" and hvlab's).
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests32/guest32.h"
#include "guests/touch.h"
#include "access_model.h"

#define AT_ENTRY		uint32_t
#define AT_SPACE		pt32
#define AT_PDE(as, va)		pt32_pde(as, va)
#define AT_INIT(as)		pt32_init(as)
#define AT_MAP			pt32_map
#define AT_MAP_LARGE		pt32_map_4m
#define AT_ENABLE(as, nx)	((void)(nx), pt32_enable(as))
#define AT_HAS_NX()		am_cpu_has(0x80000001u, 3, 20)
#define AT_MODE			AM_MODE_32
#define AT_NAME			"32-bit"
#define AT_TEST			"access32"
#include "access32_tmpl.h"
