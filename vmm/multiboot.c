/*
 * multiboot.c — multiboot v1 kernels, loaded the way QEMU's -kernel
 * loads them (The Multiboot Specification 0.6.96).
 *
 * Spec 3.1.1-3.1.3: the header lies 32-bit aligned, entirely within the
 * first 8192 bytes (MB_SEARCH); magic + flags + checksum == 0 mod 2^32.
 * Flags 0-15 are requirements: a loader that cannot meet one must refuse
 * the kernel. hvlab meets bit 0 (modules page aligned) and bit 1 (memory
 * information), and ignores bit 2 (video mode) exactly as QEMU does (it
 * prints "multiboot knows VBE. we don't." and boots without a video
 * table): test kernels ask for it without needing it. Any other bit of
 * 3-15 is refused. Bit 16 (the a.out kludge) says the header's address
 * fields describe the image; without it the image must be ELF32
 * (vmm/elf.c), as QEMU requires.
 *
 * Spec 3.3 (boot information) as QEMU builds it, at addresses of our
 * choosing (docs/loaders.md has the map):
 *   MB_INFO_ADDR page: the info structure, the memory map (+0x80) and
 *   the boot loader name (+0x200), at QEMU's address for the structure;
 *   after the kernel (the page after its highest byte, at least 1 MiB):
 *   the module list, the command line "GUEST APPEND" (QEMU passes the
 *   kernel's file name first), the module's string; then, at the next
 *   page, the module's bytes.
 * The memory map is the BIOS e820 map QEMU's multiboot option ROM copies
 * from SeaBIOS; mem_lower/mem_upper are what a guest finds under QEMU,
 * whose option ROM derives them from that map: the KiB of the first
 * available range (639, below the EBDA) and of the range at 1 MiB (low
 * RAM less 1 MiB and SeaBIOS's 128 KiB at its top).
 *
 * Spec 3.2 (machine state): EAX 0x2BADB002, EBX the info structure,
 * 32-bit protected mode with flat 4 GiB segments, paging off, A20 on,
 * EFLAGS.VM and IF clear; recorded in the plan for the run code.
 */
#include <errno.h>
#include <string.h>

#include "vmm/loader.h"

#define MB_SEARCH 8192
#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u

/* Header flags (spec 3.1.2). */
#define MB_F_PAGE_ALIGN 0x1u
#define MB_F_MEMORY 0x2u
#define MB_F_VIDEO 0x4u
#define MB_F_AOUT 0x10000u
#define MB_F_KNOWN (MB_F_PAGE_ALIGN | MB_F_MEMORY | MB_F_VIDEO)

/* Info flags (spec 3.3), the ones QEMU sets. */
#define MBI_MEM 0x1u
#define MBI_BOOTDEV 0x2u
#define MBI_CMDLINE 0x4u
#define MBI_MODS 0x8u
#define MBI_MMAP 0x40u
#define MBI_LOADER_NAME 0x200u

/* Info structure offsets (spec 3.3). */
#define MBI_O_FLAGS 0
#define MBI_O_MEM_LOWER 4
#define MBI_O_MEM_UPPER 8
#define MBI_O_BOOT_DEVICE 12
#define MBI_O_CMDLINE 16
#define MBI_O_MODS_COUNT 20
#define MBI_O_MODS_ADDR 24
#define MBI_O_MMAP_LENGTH 44
#define MBI_O_MMAP_ADDR 48
#define MBI_O_LOADER_NAME 64
#define MBI_SIZE 88

/* Our layout of the info page. */
#define MB_INFO_ADDR 0x9000ull
#define MB_MMAP_OFF 0x80u
#define MB_NAME_OFF 0x200u
#define MB_MAX_MMAP 8
#define MB_MMAP_ENTRY 24	/* size field + base + length + type */
#define MB_MOD_ENTRY 16
#define MB_LOADER_NAME "hvlab"
#define MB_BOOT_DEVICE 0x8000ffffu	/* QEMU's: BIOS drive 0x80, no partition */
#define MB_MIN_RAM (2ull << 20)

_Static_assert(MBI_SIZE <= MB_MMAP_OFF, "info structure overlaps the memory map");
_Static_assert(MB_MMAP_OFF + MB_MAX_MMAP * MB_MMAP_ENTRY <= MB_NAME_OFF, "memory map overlaps the loader name");

/* The e820 map of QEMU (pc machine) + SeaBIOS for a RAM size: the EBDA
 * (the last KiB below 640 KiB), the BIOS area at 0xF0000, SeaBIOS's
 * 128 KiB of tables at the top of low RAM and the 256 KiB flash at the
 * top of 4 GiB are reserved. */
#define E820_RAM 1u
#define E820_RESERVED 2u
#define MB_EBDA 0x9fc00ull
#define MB_HIGH_TABLES 0x20000ull
#define MB_BIOS_ROM 0xfffc0000ull
/* QEMU 7.2 (pc_memory_init) reserves AMD's HyperTransport range, 12 GiB
 * below 1 TiB, when the CPU is AMD with at least 40 physical address bits;
 * SeaBIOS's map, sorted by address, ends with it. */
#define MB_AMD_HT 0xfd00000000ull
#define MB_AMD_HT_LEN 0x300000000ull

struct mmap_ent { uint64_t base, len; uint32_t type; };

static unsigned mb_mmap(uint64_t ram_size, bool amd_ht, struct mmap_ent *e)
{
	uint64_t below = ram_size < LOADER_LOWMEM_LIMIT ? ram_size : LOADER_LOWMEM_SPLIT;
	unsigned n = 0;
	e[n++] = (struct mmap_ent){ 0, MB_EBDA, E820_RAM };
	e[n++] = (struct mmap_ent){ MB_EBDA, 0xa0000 - MB_EBDA, E820_RESERVED };
	e[n++] = (struct mmap_ent){ 0xf0000, 0x10000, E820_RESERVED };
	e[n++] = (struct mmap_ent){ 0x100000, below - MB_HIGH_TABLES - 0x100000, E820_RAM };
	e[n++] = (struct mmap_ent){ below - MB_HIGH_TABLES, MB_HIGH_TABLES, E820_RESERVED };
	e[n++] = (struct mmap_ent){ MB_BIOS_ROM, LOADER_4G - MB_BIOS_ROM, E820_RESERVED };
	if (ram_size > below)
		e[n++] = (struct mmap_ent){ LOADER_4G, ram_size - below, E820_RAM };
	if (amd_ht)
		e[n++] = (struct mmap_ent){ MB_AMD_HT, MB_AMD_HT_LEN, E820_RESERVED };
	return n;
}

static uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static void st64(uint8_t *p, uint64_t v)
{
	st32(p, (uint32_t)v);
	st32(p + 4, (uint32_t)(v >> 32));
}

/* Offset of the first valid header, -1 if none; *magic_at is the first
 * offset with the magic at all (for the message), -1 if none. */
static long find_header(const uint8_t *b, size_t size, long *magic_at)
{
	size_t lim = size < MB_SEARCH ? size : MB_SEARCH;
	*magic_at = -1;
	for (size_t i = 0; i + 12 <= lim; i += 4) {
		if (ld32(b + i) != MB_MAGIC)
			continue;
		if (*magic_at < 0)
			*magic_at = (long)i;
		if ((uint32_t)(ld32(b + i) + ld32(b + i + 4) + ld32(b + i + 8)) == 0)
			return (long)i;
	}
	return -1;
}

int mb_has_header(const void *img, size_t size)
{
	long magic_at;
	return img && find_header(img, size, &magic_at) >= 0;
}

int mb_has_magic(const void *img, size_t size)
{
	long magic_at = -1;
	if (img)
		find_header(img, size, &magic_at);
	return magic_at >= 0;
}

static uint64_t align_page(uint64_t x)
{
	return (x + HV_PAGE_SIZE - 1) & HV_PAGE_MASK;
}

static size_t mb_strlen(const char *s)
{
	return s ? strlen(s) : 0;
}

/* The part of the layout that depends on the kernel's extent and args. */
static void mb_layout(const struct load_plan *plan, const char *name, const struct mb_args *a,
		      uint64_t ram_size, struct mb_layout *l)
{
	struct mmap_ent e[MB_MAX_MMAP];
	uint64_t top = 0x100000;
	memset(l, 0, sizeof(*l));
	for (unsigned i = 0; i < plan->nsegs; i++) {
		uint64_t end = plan->seg[i].gpa + plan->seg[i].filesz + plan->seg[i].zerosz;
		if (end > top)
			top = end;
	}
	l->info = MB_INFO_ADDR;
	l->mmap = MB_INFO_ADDR + MB_MMAP_OFF;
	l->mmap_len = mb_mmap(ram_size, a->amd_ht_hole, e) * MB_MMAP_ENTRY;
	l->loader_name = MB_INFO_ADDR + MB_NAME_OFF;
	l->mods_count = a->initrd ? 1 : 0;
	l->mods = align_page(top);
	l->cmdline = l->mods + l->mods_count * MB_MOD_ENTRY;
	/* "NAME APPEND": QEMU's cmdline, with the space even when APPEND is empty. */
	uint64_t after = l->cmdline + mb_strlen(name) + 1 + mb_strlen(a->append) + 1;
	l->modstr = a->initrd ? after : 0;
	if (a->initrd)
		after += mb_strlen(a->initrd_str) + 1;
	l->module = a->initrd ? align_page(after) : 0;
	l->module_size = a->initrd ? a->initrd_size : 0;
	l->end = a->initrd ? l->module + a->initrd_size : after;
}

static int aout_plan(const uint8_t *b, size_t size, size_t hoff, const char *name,
		     struct load_plan *plan, char *err, size_t errlen)
{
	uint32_t header_addr = ld32(b + hoff + 12), load_addr = ld32(b + hoff + 16);
	uint32_t load_end = ld32(b + hoff + 20), bss_end = ld32(b + hoff + 24);
	uint32_t entry = ld32(b + hoff + 28);

	if (load_addr > header_addr)
		return loader_err(err, errlen, -ENOEXEC, name,
				  "multiboot header: load_addr %#x is above header_addr %#x", load_addr, header_addr);
	if (header_addr - load_addr > hoff)
		return loader_err(err, errlen, -ENOEXEC, name,
				  "multiboot header: header_addr - load_addr is %#x, but the header is only %#zx bytes into the file",
				  header_addr - load_addr, hoff);
	uint64_t text = hoff - (header_addr - load_addr), filesz;
	if (load_end == 0) {
		filesz = size - text;
	} else {
		if (load_end < load_addr)
			return loader_err(err, errlen, -ENOEXEC, name,
					  "multiboot header: load_end_addr %#x is below load_addr %#x", load_end, load_addr);
		filesz = load_end - load_addr;
		if (filesz > size - text)
			return loader_err(err, errlen, -ENOEXEC, name,
					  "truncated: the multiboot header loads %#llx bytes from file offset %#llx, past the end of the %zu-byte file",
					  (unsigned long long)filesz, (unsigned long long)text, size);
	}
	uint64_t zerosz = 0;
	if (bss_end) {
		if ((uint64_t)bss_end < load_addr + filesz)
			return loader_err(err, errlen, -ENOEXEC, name,
					  "multiboot header: bss_end_addr %#x is below the end of the loaded image %#llx",
					  bss_end, (unsigned long long)(load_addr + filesz));
		zerosz = bss_end - (load_addr + filesz);
	}
	if (filesz + zerosz == 0)
		return loader_err(err, errlen, -ENOEXEC, name, "multiboot header: the image to load is empty");
	plan->nsegs = 1;
	plan->seg[0] = (struct load_seg){ .gpa = load_addr, .offset = text, .filesz = filesz, .zerosz = zerosz };
	if (entry < load_addr || entry - load_addr >= filesz + zerosz)
		return loader_err(err, errlen, -ENOEXEC, name, "entry point %#x is outside every loadable segment", entry);
	plan->rip = entry;
	return 0;
}

int mb_plan(const void *img, size_t size, const char *name, const struct mb_args *args,
	    uint64_t ram_size, struct load_plan *plan, char *err, size_t errlen)
{
	static const struct mb_args none;
	const uint8_t *b = img;
	char rs[32];
	long magic_at, hoff;
	int r;

	if (!img || !plan)
		return loader_err(err, errlen, -EINVAL, name, "internal error: no image or no plan");
	if (!args)
		args = &none;
	if (!args->initrd && args->initrd_size)
		return loader_err(err, errlen, -EINVAL, name, "internal error: an initrd size without initrd bytes");
	memset(plan, 0, sizeof(*plan));

	hoff = find_header(b, size, &magic_at);
	if (hoff < 0) {
		if (magic_at >= 0)
			return loader_err(err, errlen, -ENOEXEC, name,
					  "multiboot magic at offset %#lx has a bad checksum (magic + flags + checksum must be 0)",
					  magic_at);
		return loader_err(err, errlen, -ENOEXEC, name, "no multiboot header in the first 8192 bytes");
	}
	uint32_t flags = ld32(b + hoff + 4);
	size_t need = (flags & MB_F_VIDEO) ? 48 : (flags & MB_F_AOUT) ? 32 : 12;
	if ((size_t)hoff + need > size || (size_t)hoff + need > MB_SEARCH)
		return loader_err(err, errlen, -ENOEXEC, name,
				  "truncated: the multiboot header at offset %#lx needs %zu bytes within the file's first 8192",
				  hoff, need);
	if (flags & 0xffffu & ~MB_F_KNOWN)
		return loader_err(err, errlen, -ENOEXEC, name,
				  "multiboot header requires features hvlab does not provide (flags bits %#x)",
				  flags & 0xffffu & ~MB_F_KNOWN);
	if (ram_size < MB_MIN_RAM)
		return loader_err(err, errlen, -ENOMEM, name,
				  "a multiboot kernel needs at least 2 MiB of guest RAM, not %s; give more with --mem",
				  loader_size_str(ram_size, rs, sizeof(rs)));

	if (flags & MB_F_AOUT) {
		if ((r = aout_plan(b, size, (size_t)hoff, name, plan, err, errlen)) ||
		    (r = loader_check_segs(plan, ram_size, name, err, errlen)))
			return r;
	} else if ((r = elf32_plan(img, size, name, ram_size, plan, err, errlen))) {
		return r;
	}

	if ((r = loader_check_reserved(plan, MB_INFO_ADDR, MB_INFO_ADDR + HV_PAGE_SIZE,
				       "the multiboot information", name, err, errlen)))
		return r;

	/* Everything after the kernel must sit in the usable low RAM of the
	 * memory map (below SeaBIOS's reserved tables) and below 4 GiB. */
	uint64_t below = ram_size < LOADER_LOWMEM_LIMIT ? ram_size : LOADER_LOWMEM_SPLIT;
	uint64_t usable_end = below - MB_HIGH_TABLES;
	mb_layout(plan, name, args, ram_size, &plan->mb);
	const struct mb_layout *l = &plan->mb;
	if (l->mods >= usable_end || (!args->initrd && l->end > usable_end) ||
	    (args->initrd && (l->module > usable_end || args->initrd_size > usable_end - l->module)))
		return loader_err(err, errlen, -ENOMEM, name,
				  "the multiboot information%s (from %#llx) does not fit below %#llx in the %s of guest RAM; give more with --mem",
				  args->initrd ? " and the initrd" : "", (unsigned long long)plan->mb.mods,
				  (unsigned long long)usable_end, loader_size_str(ram_size, rs, sizeof(rs)));
	plan->mb.header_flags = flags;
	plan->mode = LOADER_MODE_PROT32;
	plan->rax = MB_BOOT_MAGIC;
	plan->rbx = plan->mb.info;
	plan->rflags = 0x2;	/* VM and IF clear; bit 1 is reserved as 1 */
	return 0;
}

static int put(const struct guest_mem_ops *ops, void *opaque, gpa_t gpa, const void *src, size_t len,
	       const char *name, char *err, size_t errlen)
{
	int r = ops->write(opaque, gpa, src, len);
	if (r)
		return loader_err(err, errlen, r, name, "writing the multiboot information at %#llx failed",
				  (unsigned long long)gpa);
	return 0;
}

int mb_place(const struct load_plan *plan, const void *img, size_t size, const char *name,
	     const struct mb_args *args, const struct guest_mem_ops *ops, void *opaque,
	     char *err, size_t errlen)
{
	static const struct mb_args none;
	struct mb_layout l;
	struct mmap_ent e[MB_MAX_MMAP];
	uint8_t info[MBI_SIZE] = { 0 }, ent[MB_MMAP_ENTRY], mod[MB_MOD_ENTRY];
	int r;

	if (!plan || !ops || !ops->write || !ops->zero || plan->mode != LOADER_MODE_PROT32)
		return loader_err(err, errlen, -EINVAL, name, "internal error: not a multiboot plan");
	if (!args)
		args = &none;
	mb_layout(plan, name, args, ops->ram_size, &l);
	l.header_flags = plan->mb.header_flags;
	if (memcmp(&l, &plan->mb, sizeof(l)) || !loader_ram_contains(ops->ram_size, l.mods, l.end - l.mods))
		return loader_err(err, errlen, -EINVAL, name,
				  "internal error: the multiboot plan does not match the arguments or guest RAM");
	if ((r = loader_place(plan, img, size, name, ops, opaque, err, errlen)))
		return r;

	/* The info page and the area after the kernel start out zero, so
	 * every field and padding byte we do not set reads 0. */
	if ((r = ops->zero(opaque, l.info, HV_PAGE_SIZE)) || (r = ops->zero(opaque, l.mods, l.end - l.mods)))
		return loader_err(err, errlen, r, name, "clearing the multiboot information failed");

	unsigned n = mb_mmap(ops->ram_size, args->amd_ht_hole, e);
	for (unsigned i = 0; i < n; i++) {
		st32(ent, MB_MMAP_ENTRY - 4);	/* size excludes the size field itself */
		st64(ent + 4, e[i].base);
		st64(ent + 12, e[i].len);
		st32(ent + 20, e[i].type);
		if ((r = put(ops, opaque, l.mmap + i * MB_MMAP_ENTRY, ent, sizeof(ent), name, err, errlen)))
			return r;
	}
	if ((r = put(ops, opaque, l.loader_name, MB_LOADER_NAME, sizeof(MB_LOADER_NAME), name, err, errlen)))
		return r;

	/* cmdline: "NAME APPEND" (the terminating NUL is already there). */
	size_t nl = mb_strlen(name), al = mb_strlen(args->append);
	if ((nl && (r = put(ops, opaque, l.cmdline, name, nl, name, err, errlen))) ||
	    (r = put(ops, opaque, l.cmdline + nl, " ", 1, name, err, errlen)) ||
	    (al && (r = put(ops, opaque, l.cmdline + nl + 1, args->append, al, name, err, errlen))))
		return r;

	if (args->initrd) {
		size_t ml = mb_strlen(args->initrd_str);
		if (ml && (r = put(ops, opaque, l.modstr, args->initrd_str, ml, name, err, errlen)))
			return r;
		if (args->initrd_size && (r = ops->write(opaque, l.module, args->initrd, args->initrd_size)))
			return loader_err(err, errlen, r, name, "writing the initrd at %#llx failed",
					  (unsigned long long)l.module);
		/* mod_end is the first byte after the module (spec 3.3). */
		st32(mod, (uint32_t)l.module);
		st32(mod + 4, (uint32_t)(l.module + l.module_size));
		st32(mod + 8, (uint32_t)l.modstr);
		st32(mod + 12, 0);
		if ((r = put(ops, opaque, l.mods, mod, sizeof(mod), name, err, errlen)))
			return r;
	}

	uint64_t below = ops->ram_size < LOADER_LOWMEM_LIMIT ? ops->ram_size : LOADER_LOWMEM_SPLIT;
	st32(info + MBI_O_FLAGS, MBI_MEM | MBI_BOOTDEV | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME);
	st32(info + MBI_O_MEM_LOWER, MB_EBDA / 1024);
	st32(info + MBI_O_MEM_UPPER, (uint32_t)((below - MB_HIGH_TABLES) / 1024 - 1024));
	st32(info + MBI_O_BOOT_DEVICE, MB_BOOT_DEVICE);
	st32(info + MBI_O_CMDLINE, (uint32_t)l.cmdline);
	st32(info + MBI_O_MODS_COUNT, l.mods_count);
	st32(info + MBI_O_MODS_ADDR, (uint32_t)l.mods);
	st32(info + MBI_O_MMAP_LENGTH, l.mmap_len);
	st32(info + MBI_O_MMAP_ADDR, (uint32_t)l.mmap);
	st32(info + MBI_O_LOADER_NAME, (uint32_t)l.loader_name);
	return put(ops, opaque, l.info, info, sizeof(info), name, err, errlen);
}
