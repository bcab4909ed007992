/*
 * hostile_pse36.c — a 32-bit guest with PSE-36 4 MiB pages whose PDEs
 * name physical addresses above 4 GiB: beyond its RAM, they reach
 * nothing (reads all ones, writes vanish) and never wrap to the RAM
 * below 4 GiB; a reserved bit gives #PF with RSVD. Part of the isolation
 * tests of issue 8 (tests/hostile/).
 *
 * SDM Vol. 3A:
 *  - 4.3, Table 4-4: with CR4.PSE=1 a PDE with PS=1 maps 4 MiB; bits
 *    31:22 are bits 31:22 of the page's address and bits (M-20):13 are
 *    bits (M-1):32, M = min(MAXPHYADDR, 40) (PSE-36, CPUID.01H:EDX[17]);
 *    bits 21:(M-19) are reserved: with M = 40 exactly bit 21.
 *  - 4.7: a reserved bit gives #PF with P=1 and RSVD=1 (0x9 on a read,
 *    0xb on a write); CR2 the linear address.
 * What an address that nothing decodes gives is the platform's: on a PC
 * (and hvlab run, vmm/bus.c) reads float to all ones and writes vanish.
 *
 * Layout: 0-4 MiB and 32-36 MiB identity (4 MiB pages); the frame at
 * 32 MiB tagged; VA 24 MiB a 4 MiB page at 32 MiB (bits 39:32 = 0);
 * VA 8 MiB a 4 MiB page at 4 GiB + 32 MiB (bit 32 from PDE bit 13),
 * VA 12 MiB at 60 GiB + 32 MiB (bits 35:32 = 0xf, PDE bits 16:13),
 * VA 16 MiB at 2^39 + 32 MiB (PDE bit 20: address bit 39, below M = 40),
 * VA 20 MiB at 32 MiB with bit 21 set (reserved).
 *
 * Expected serial output: tests/guests32/hostile_pse36.expect.
 * Expected exit status: 1 (guest_exit(0)).
 * QEMU 7.2 reads unassigned addresses as 0 and clears P in the error code
 * of a reserved-bit #PF (docs/qemu-deviations.md row 1):
 * hostile_pse36.qemu.expect.
 * Expected exit status on QEMU: 3
 */
#include "guests32/guest32.h"

#define P	0x001u
#define RW	0x002u
#define PS	0x080u
#define FRAME	(32 * PG_MiB)
#define TAG	0x36363636u

static struct pt32 as;

/* A 4 MiB PDE for address (@hi << 32) | @lo (bits 39:32 in PDE 20:13). */
static void map_big(uint32_t va, uint32_t hi, uint32_t lo, uint32_t extra)
{
	*pt32_pde(&as, va) = (lo & 0xffc00000u) | (hi & 0xffu) << 13 | extra | P | RW | PS;
	invlpg(va);
}

/* Read, write, read: all ones, no fault, and the frame at 32 MiB (what a
 * dropped high part would alias) untouched. */
static void beyond(const char *what, uint32_t va, uint32_t hi)
{
	map_big(va, hi, FRAME, 0);
	guest_printf("-- %s\n", what);
	struct probe r = probe(0, PROBE_READ, va + 0x800);
	pg_expect(!r.faulted && r.value == 0xffffffffu, "  read all ones (got %s0x%x)",
		  r.faulted ? "#PF " : "", r.faulted ? r.error : r.value);
	pg_access("  write", 0, PROBE_WRITE, va + 0x800, PROBE_NO_PF);
	r = probe(0, PROBE_READ, va + 0x800);
	pg_expect(!r.faulted && r.value == 0xffffffffu, "  read all ones after the write (got 0x%x)",
		  r.faulted ? r.error : r.value);
	pg_expect(pg_rd(FRAME + 0x800) == TAG, "  the frame at 32 MiB is untouched");
}

int guest_main(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	pg_expect(r[3] & (1u << 17), "CPUID.01H:EDX[17] PSE-36");
	pg_wr(FRAME + 0x800, TAG);

	pt32_init(&as);
	pt32_map_4m(&as, 0, 0, P | RW);
	pt32_map_4m(&as, FRAME, FRAME, P | RW);	/* identity, for pg_rd() */
	pt32_enable(&as);

	map_big(0x01800000u, 0, FRAME, 0);
	pg_expect(probe(0, PROBE_READ, 0x01800800u).value == TAG,
		  "4 MiB page at 32 MiB (bits 39:32 = 0) reads the tag");
	beyond("4 GiB + 32 MiB (PDE bit 13)", 0x00800000u, 0x1);
	beyond("60 GiB + 32 MiB (PDE bits 16:13)", 0x00c00000u, 0xf);
	beyond("2^39 + 32 MiB (PDE bit 20)", 0x01000000u, 0x80);
	map_big(0x01400000u, 0, FRAME, 1u << 21);
	pg_access("bit 21 (reserved), read", 0, PROBE_READ, 0x01400800u, 0x9);
	pg_access("bit 21 (reserved), write", 0, PROBE_WRITE, 0x01400800u, 0xb);
	pg_expect(pg_rd(FRAME + 0x800) == TAG, "the frame at 32 MiB is untouched");

	paging32_disable();
	return pg_status("hostile_pse36");
}
