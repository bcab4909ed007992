/*
 * cmdline.c — the kernel command line the loader passed: multiboot_info
 * flags bit 2 says cmdline (offset 16) holds the physical address of a
 * NUL-terminated string (Multiboot 0.6.96 3.3). `hvlab run --append` and
 * QEMU's -append set it; tests use it to switch on optional output.
 */
#include "guests/guest.h"

#define MB_INFO_CMDLINE (1u << 2)

bool guest_cmdline_has(const char *word)
{
	const volatile uint32_t *mbi = (const volatile uint32_t *)(uintptr_t)guest_mb_info;
	if (guest_mb_magic != 0x2BADB002 || !(mbi[0] & MB_INFO_CMDLINE))
		return false;
	for (const char *s = (const char *)(uintptr_t)mbi[4]; *s; s++) {
		unsigned i = 0;
		while (word[i] && s[i] == word[i])
			i++;
		if (!word[i])
			return true;
	}
	return false;
}
