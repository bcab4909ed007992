/*
 * mbinfo.c — the multiboot information a kernel finds at entry (The
 * Multiboot Specification 0.6.96, 3.3 "Boot information format"), printed
 * field by field so that QEMU's -kernel and `hvlab run` must agree on all
 * of it: the same .expect serves both runners.
 *
 * Printed, each only when its flags bit says it is valid (3.3):
 *   flags (u32 at +0);
 *   mem_lower, mem_upper (bit 0; +4, +8): KiB from 0 and from 1 MiB;
 *   boot_device (bit 1; +12): drive, part1, part2, part3;
 *   cmdline (bit 2; +16): QEMU passes "KERNEL APPEND", the kernel's file
 *     name first, and the file name differs between runners and build
 *     directories, so only the part after the first space is printed;
 *   mods_count, mods_addr (bit 3; +20, +24): per module (16 bytes:
 *     mod_start, mod_end = the first byte after it, string, reserved)
 *     the size mod_end - mod_start, whether mod_start is page aligned
 *     (QEMU aligns modules although this image's header does not ask),
 *     the string's last path component and what follows its first space
 *     (the path itself is the runner's), the first and last four bytes of
 *     the content and an FNV-1a hash of all of it;
 *   mmap_length, mmap_addr (bit 6; +44, +48): every entry (size field,
 *     then base_addr u64, length u64, type u32; the next entry is size + 4
 *     bytes on) with its size field, base, length and type, and whether
 *     mmap_length ends at an entry's end; except QEMU's reserved AMD
 *     HyperTransport range (see cpu_wants_amd_ht()), whose presence
 *     depends on the runner's CPU: the test checks QEMU's rule for it;
 *   boot_loader_name (bit 9; +64): "qemu" or "hvlab", which legitimately
 *     differ: only whether a non-empty name is there.
 *
 * The module is tests/guests/mbinfo.initrd (5056 bytes of text, "mbinfo
 * module: " first, "end of the module\n" last); guests.sh passes it and
 * the command line below to both runners.
 *
 * Append: mbinfo  first=1 second="two words" -- end
 * Initrd: mbinfo.initrd
 * Expected serial output: tests/guests/mbinfo.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define MBI_MEM		(1u << 0)
#define MBI_BOOTDEV	(1u << 1)
#define MBI_CMDLINE	(1u << 2)
#define MBI_MODS	(1u << 3)
#define MBI_MMAP	(1u << 6)
#define MBI_LOADER_NAME	(1u << 9)

static const char *after_space(const char *s)
{
	while (*s && *s != ' ')
		s++;
	return *s ? s + 1 : s;
}

/* The last '/'-separated component of the first word, printed as is. */
static void print_basename(const char *s)
{
	const char *b = s;
	for (const char *p = s; *p && *p != ' '; p++)
		if (*p == '/')
			b = p + 1;
	while (*b && *b != ' ')
		serial_putc(*b++);
}

static uint32_t fnv1a(const uint8_t *p, uint32_t n)
{
	uint32_t h = 2166136261u;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void print_bytes(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		guest_printf(" %02x", p[i]);
}

static void print_module(unsigned i, const volatile uint32_t *mod)
{
	uint32_t start = mod[0], end = mod[1];
	const char *str = (const char *)(uintptr_t)mod[2];
	const uint8_t *p = (const uint8_t *)(uintptr_t)start;
	uint32_t size = end - start;

	guest_printf("module %u: size %u, %s\n", i, size,
		     start % PAGE_SIZE ? "not page aligned" : "page aligned");
	if (str) {
		guest_printf("module %u string: file '", i);
		print_basename(str);
		guest_printf("', after the first space '%s'\n", after_space(str));
	} else {
		guest_printf("module %u string: none\n", i);
	}
	if (size >= 4) {
		guest_printf("module %u first bytes:", i);
		print_bytes(p, 4);
		guest_printf("\nmodule %u last bytes:", i);
		print_bytes(p + size - 4, 4);
		guest_printf("\n");
	}
	guest_printf("module %u fnv1a: %08x\n", i, fnv1a(p, size));
}

/* QEMU 7.2 reserves AMD's HyperTransport range below 1 TiB in its e820
 * map when the CPU's vendor is AMD and it has at least 40 physical address
 * bits (CPUID 8000_0008H EAX[7:0]); SeaBIOS's map, sorted by address,
 * ends with it. */
#define AMD_HT_BASE	0xfd00000000ull
#define AMD_HT_LEN	0x300000000ull

static bool cpu_wants_amd_ht(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	if (r[1] != 0x68747541u || r[3] != 0x69746e65u || r[2] != 0x444d4163u)
		return false;	/* not "AuthenticAMD" */
	cpuid(0x80000000u, 0, r);
	if (r[0] < 0x80000008u)
		return false;
	cpuid(0x80000008u, 0, r);
	return (r[0] & 0xff) >= 40;
}

/* Every entry but the HyperTransport one, which depends on the CPU the
 * runner gives (QEMU's qemu64 and hvlab's svm backend are AMD, hvlab's
 * vmx backend is Intel): for it, only whether the rule above holds. */
static bool print_mmap(uint32_t addr, uint32_t len)
{
	uint32_t off = 0;
	unsigned n = 0;
	bool ht = false, want = cpu_wants_amd_ht();
	while (off + 4 <= len) {
		const volatile uint8_t *e = (const volatile uint8_t *)(uintptr_t)(addr + off);
		uint32_t size = *(const volatile uint32_t *)e;
		uint64_t base = *(const volatile uint64_t *)(e + 4);
		uint64_t length = *(const volatile uint64_t *)(e + 12);
		uint32_t type = *(const volatile uint32_t *)(e + 20);
		off += size + 4;
		if (base == AMD_HT_BASE && length == AMD_HT_LEN && type == 2 && off == len) {
			ht = true;
			continue;
		}
		guest_printf("mmap %u: size %u base %016lx length %016lx type %u\n",
			     n++, size, base, length, type);
	}
	guest_printf("mmap_length %s the entries\n", off == len ? "covers exactly" : "does not match");
	if (ht != want) {
		guest_printf("AMD HyperTransport hole: %s, but this CPU %s it\n",
			     ht ? "reserved" : "missing", want ? "needs" : "does not have");
		return false;
	}
	guest_printf("AMD HyperTransport hole: as this CPU's vendor and address width say\n");
	return off == len;
}

int guest_main(void)
{
	const volatile uint32_t *mbi = (const volatile uint32_t *)(uintptr_t)guest_mb_info;
	uint32_t flags;
	bool ok = true;

	if (guest_mb_magic != 0x2BADB002) {
		guest_printf("multiboot magic 0x%x, expected 0x2badb002\n", guest_mb_magic);
		return GUEST_EXIT_FAIL;
	}
	flags = mbi[0];
	guest_printf("flags: %08x\n", flags);
	if (flags & MBI_MEM)
		guest_printf("mem_lower: %u KiB\nmem_upper: %u KiB\n", mbi[1], mbi[2]);
	if (flags & MBI_BOOTDEV)
		guest_printf("boot_device: %08x\n", mbi[3]);
	if (flags & MBI_CMDLINE)
		guest_printf("cmdline after the kernel's name: '%s'\n",
			     after_space((const char *)(uintptr_t)mbi[4]));
	if (flags & MBI_MODS) {
		const volatile uint32_t *mods = (const volatile uint32_t *)(uintptr_t)mbi[6];
		guest_printf("mods_count: %u\n", mbi[5]);
		for (uint32_t i = 0; i < mbi[5]; i++)
			print_module(i, mods + 4 * i);
	}
	if (flags & MBI_MMAP)
		ok = print_mmap(mbi[12], mbi[11]);
	if (flags & MBI_LOADER_NAME) {
		const char *name = (const char *)(uintptr_t)mbi[16];
		guest_printf("boot_loader_name: %s\n", name && *name ? "present" : "empty");
	}
	return ok ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL;
}
