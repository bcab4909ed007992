/*
 * frames.c — 4 KiB frames for page tables, from a pool in the image.
 *
 * The 32-bit tests build their own paging structures; a fixed pool in
 * .bss (cleared by boot32.S, so every frame starts zeroed: all entries
 * not present) keeps every table below 2 MiB, inside the identity range
 * each test maps, and makes the addresses the same on every run. Frames
 * are never freed: a test builds a handful of address spaces.
 */
#include "guests32/guest32.h"

#define POOL_FRAMES	48

static uint8_t pool[POOL_FRAMES][PAGE32_SIZE]
	__attribute__((aligned(PAGE32_SIZE), section(".bss.frames")));
static unsigned used;

uint32_t frame_alloc(void)
{
	if (used == POOL_FRAMES) {
		guest_printf("frame_alloc: all %u frames used\n", POOL_FRAMES);
		guest_exit(GUEST_EXIT_FAIL);
	}
	return (uint32_t)pool[used++];
}
