/*
 * iso.h — what the isolation guests (tests/hostile/iso_*.c) share: a
 * window of their own page tables in which any gpa can be mapped, and
 * one line per probe of what an access there did.
 *
 * The window is PML4 entry 1 (VA 512 GiB, unused by the runtime, as in
 * tests/guests/access.c): iso_pdpt[0] -> iso_pd; iso_pd[0..510] map 2 MiB
 * pages (PS=1), iso_pd[511] -> iso_pt for 4 KiB pages. Entries are edited
 * and INVLPGed one at a time (SDM Vol. 3A 4.10.4.1).
 *
 * A probe is touch() (guests/touch.h) at CPL 0: no #PF, or its error code
 * (SDM 3A 4.7: bit 0 P, 1 W/R, 3 RSVD, 4 I/D) and CR2, and the dword read.
 * Lines print no addresses that depend on the platform (MAXPHYADDR, RAM
 * size), so QEMU and every hvlab backend print the same text.
 */
#ifndef TESTS_HOSTILE_ISO_H
#define TESTS_HOSTILE_ISO_H

#include "guests/guest.h"
#include "guests/touch.h"

#define ISO_VA		0x0000008000000000ull	/* PML4 entry 1 */
#define ISO_VA_4K	(ISO_VA + 511ull * (2ull << 20))	/* iso_pd[511]: iso_pt */
#define MiB		(1ull << 20)
#define GiB		(1ull << 30)
#define PF_P		0x1u
#define PF_W		0x2u
#define PF_RSVD		0x8u
#define ONES32		0xffffffffu

static uint64_t iso_pdpt[512] __attribute__((aligned(4096)));
static uint64_t iso_pd[512] __attribute__((aligned(4096)));
static uint64_t iso_pt[512] __attribute__((aligned(4096)));

static inline void iso_window_init(void)
{
	iso_pd[511] = (uint64_t)(uintptr_t)iso_pt | PTE_P | PTE_RW;
	iso_pdpt[0] = (uint64_t)(uintptr_t)iso_pd | PTE_P | PTE_RW;
	guest_pml4[1] = (uint64_t)(uintptr_t)iso_pdpt | PTE_P | PTE_RW;
	write_cr3(read_cr3());
	touch_init();
}

static inline void iso_window_fini(void)
{
	guest_pml4[1] = 0;
	write_cr3(read_cr3());
}

/* Map the 2 MiB page at @gpa (aligned) as slot @k (0..510): its VA. */
static inline uint64_t iso_map_2m(unsigned k, uint64_t gpa, uint64_t flags)
{
	const uint64_t va = ISO_VA + (uint64_t)k * (2 * MiB);
	iso_pd[k] = gpa | flags;
	invlpg((void *)(uintptr_t)va);
	return va;
}

/* Map the 4 KiB page at @gpa as slot @k (0..511) of iso_pt: its VA. */
static inline uint64_t iso_map_4k(unsigned k, uint64_t gpa, uint64_t flags)
{
	const uint64_t va = ISO_VA_4K + (uint64_t)k * 4096;
	iso_pt[k] = gpa | flags;
	invlpg((void *)(uintptr_t)va);
	return va;
}

/* MAXPHYADDR: CPUID.80000008H:EAX[7:0] (SDM 3A 4.1.4), 36 without it. */
static inline unsigned iso_maxphyaddr(void)
{
	uint32_t r[4];
	cpuid(0x80000000u, 0, r);
	if (r[0] < 0x80000008u)
		return 36;
	cpuid(0x80000008u, 0, r);
	return r[0] & 0xff;
}

/* One access; prints "WHAT: ok" or what differed; false on a mismatch. */
static inline bool iso_expect_pf(const char *what, unsigned acc, uint64_t va, uint32_t error)
{
	struct touch t;
	touch(&t, 0, acc, (uintptr_t)va, 0);
	const bool ok = t.faulted && t.error == error && t.cr2 == va;
	if (ok)
		guest_printf("%s: #PF 0x%x ok\n", what, error);
	else if (!t.faulted)
		guest_printf("%s: no #PF, expected #PF 0x%x\n", what, error);
	else
		guest_printf("%s: #PF 0x%x%s, expected #PF 0x%x\n", what, t.error,
			     t.cr2 == va ? "" : " (CR2 wrong)", error);
	if (!ok)
		guest_check_fail();
	return ok;
}

/* A read that must not fault and must load @want; @show: print the value
 * (not for values that depend on where the linker put things). */
static inline bool iso_read_as(const char *what, uint64_t va, uint32_t want, bool show)
{
	struct touch t;
	touch(&t, 0, TOUCH_READ, (uintptr_t)va, 0);
	const bool ok = !t.faulted && (uint32_t)t.value == want;
	if (ok && show)
		guest_printf("%s: read 0x%x ok\n", what, want);
	else if (ok)
		guest_printf("%s: read the expected entry ok\n", what);
	else if (t.faulted)
		guest_printf("%s: #PF 0x%x, expected read 0x%x\n", what, t.error, want);
	else
		guest_printf("%s: read 0x%x, expected 0x%x\n", what, (uint32_t)t.value, want);
	if (!ok)
		guest_check_fail();
	return ok;
}

static inline bool iso_expect_read(const char *what, uint64_t va, uint32_t want)
{
	return iso_read_as(what, va, want, true);
}

/* A write that must not fault. */
static inline bool iso_expect_write(const char *what, uint64_t va)
{
	struct touch t;
	touch(&t, 0, TOUCH_WRITE, (uintptr_t)va, 0);
	if (!t.faulted)
		guest_printf("%s: write ok\n", what);
	else {
		guest_printf("%s: #PF 0x%x, expected no fault\n", what, t.error);
		guest_check_fail();
	}
	return !t.faulted;
}

#endif
