/*
 * iso_canary.c — the canary VM of the isolation tests (issue 8): fills
 * 2 MiB with a known pattern through page tables of its own, then checks
 * the whole pattern round after round. tests/hostile/host/canary.c runs it
 * as VM B beside every hostile guest (VM A) in the same process and stops
 * it after each round at an OUT to CANARY_PORT, so that nothing A does can
 * go unseen: B's memory, registers, statistics and host-side tables must
 * be as they were, and the next round must still find the pattern.
 *
 * SDM Vol. 3A 4.5 (4-level paging: the 2 MiB are 512 4 KiB pages of an
 * address space of its own, guests/vm.c, at VM_USER_BASE, so the MMU
 * holds shadow pages or EPT/NPT entries for all of them), 4.10.4.3 (the
 * CR3 load that switches to it).
 *
 * Protocol: an IN from CANARY_PORT reads CANARY_MAGIC when the driver is
 * there; then the guest loops for ever, one OUT per round (the round
 * number, CANARY_BAD set if a word differed). Elsewhere (QEMU, hvlab run:
 * the port reads all ones or 0) it does two rounds and ends.
 *
 * Expected serial output: tests/hostile/iso_canary.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define CANARY_PORT	0x5e4
#define CANARY_MAGIC	0xca4a4259u
#define CANARY_BAD	0x80000000u
#define REGION_PA	(8ull << 20)
#define REGION_SIZE	(2ull << 20)
#define SEED		0x243f6a8885a308d3ull

/* SplitMix64: word @i of the pattern. */
static uint64_t pattern(uint64_t i)
{
	uint64_t z = (i + SEED) * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int guest_main(void)
{
	struct vm_space as;
	const bool driven = inl(CANARY_PORT) == CANARY_MAGIC;

	if (vm_init() || vm_create(&as)) {
		guest_printf("canary: no address space\n");
		return GUEST_EXIT_FAIL;
	}
	for (uint64_t off = 0; off < REGION_SIZE; off += PAGE_SIZE)
		if (vm_map(&as, VM_USER_BASE + off, REGION_PA + off, PTE_P | PTE_RW)) {
			guest_printf("canary: vm_map failed\n");
			return GUEST_EXIT_FAIL;
		}
	vm_switch(&as);
	volatile uint64_t *w = (volatile uint64_t *)VM_USER_BASE;
	const uint64_t n = REGION_SIZE / 8;
	for (uint64_t i = 0; i < n; i++)
		w[i] = pattern(i);

	unsigned bad_rounds = 0;
	for (uint32_t round = 0; driven || round < 2; round++) {
		uint64_t bad = 0;
		for (uint64_t i = 0; i < n; i++)
			bad += w[i] != pattern(i);
		bad_rounds += bad != 0;
		outl(CANARY_PORT, round | (bad ? CANARY_BAD : 0));
	}
	guest_printf("canary: pattern intact in 2 rounds: %s\n", bad_rounds ? "NO" : "yes");
	return bad_rounds ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
