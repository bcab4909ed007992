/*
 * test_vmm_multiboot.c — the multiboot v1 loader (vmm/multiboot.c) against
 * The Multiboot Specification 0.6.96: header search and checks (3.1.1-
 * 3.1.3), the a.out kludge and ELF32 images, the machine state (3.2) and
 * the boot information structure (3.3) read back field by field from a
 * fake guest RAM, with the memory map QEMU's -kernel gives (QEMU pc +
 * SeaBIOS e820) and QEMU's command-line convention.
 *
 * Offsets and constants are written from the spec, not taken from
 * vmm/multiboot.c: header magic 0x1BADB002, boot magic 0x2BADB002, info
 * field offsets 0 flags, 4 mem_lower, 8 mem_upper, 12 boot_device,
 * 16 cmdline, 20 mods_count, 24 mods_addr, 28-43 syms, 44 mmap_length,
 * 48 mmap_addr, 52 drives_length, 56 drives_addr, 60 config_table,
 * 64 boot_loader_name, 68 apm_table, 72-87 vbe.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/loader.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define IMG_SIZE 0x3000
#define FAKE_RAM (16 * MiB)	/* what the fake backs; ram_size may claim more */

static uint8_t img[IMG_SIZE];
static uint8_t ram[FAKE_RAM];
static char err[LOADER_ERR_MAX];
static struct load_plan plan;

static void p16(size_t off, uint64_t v) { for (int i = 0; i < 2; i++) img[off + i] = (uint8_t)(v >> 8 * i); }
static void p32(size_t off, uint64_t v) { for (int i = 0; i < 4; i++) img[off + i] = (uint8_t)(v >> 8 * i); }

static uint32_t r32(uint64_t gpa)
{
	return (uint32_t)ram[gpa] | (uint32_t)ram[gpa + 1] << 8 | (uint32_t)ram[gpa + 2] << 16 |
	       (uint32_t)ram[gpa + 3] << 24;
}

static uint64_t r64(uint64_t gpa)
{
	return r32(gpa) | (uint64_t)r32(gpa + 4) << 32;
}

static int fr_write(void *opaque, gpa_t gpa, const void *src, size_t len)
{
	assert_true(gpa <= FAKE_RAM && len <= FAKE_RAM - gpa);
	memcpy(ram + gpa, src, len);
	return 0;
}

static int fr_zero(void *opaque, gpa_t gpa, size_t len)
{
	assert_true(gpa <= FAKE_RAM && len <= FAKE_RAM - gpa);
	memset(ram + gpa, 0, len);
	return 0;
}

/* A header at file offset `off` with flags and a matching checksum. */
static void header(size_t off, uint32_t flags)
{
	p32(off, 0x1BADB002);
	p32(off + 4, flags);
	p32(off + 8, (uint32_t)-(0x1BADB002u + flags));
}

/*
 * The a.out-kludge kernel: header at file offset 0x100, the file loaded
 * from offset 0 to 1 MiB (so header_addr = 0x100100), 0x2000 bytes of
 * file, 0x1000 of bss, entry 1 MiB + 0x200.
 */
static void aout_kernel(void)
{
	memset(img, 0, sizeof(img));
	header(0x100, 0x00010003);	/* page-align, memory info, a.out kludge */
	p32(0x10c, 0x100100);		/* header_addr */
	p32(0x110, 0x100000);		/* load_addr */
	p32(0x114, 0x102000);		/* load_end_addr */
	p32(0x118, 0x103000);		/* bss_end_addr */
	p32(0x11c, 0x100200);		/* entry_addr */
	for (int i = 0x200; i < 0x2000; i++)
		img[i] = (uint8_t)(i * 7);
}

/* An ELF32 multiboot kernel: one PT_LOAD, file 0x1000..0x1800 to 1 MiB,
 * 0x1000 bytes in memory, entry 0x100000; the header at file 0x1000
 * (inside the first 8 KiB). */
static void elf32_kernel(void)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 1;	/* ELFCLASS32 */
	img[5] = 1;
	img[6] = 1;
	p16(16, 2);	/* ET_EXEC */
	p16(18, 3);	/* EM_386 */
	p32(20, 1);
	p32(24, 0x100000);	/* e_entry */
	p32(28, 52);		/* e_phoff */
	p16(40, 52);
	p16(42, 32);		/* e_phentsize */
	p16(44, 1);
	p32(52 + 0, 1);		/* PT_LOAD */
	p32(52 + 4, 0x1000);	/* p_offset */
	p32(52 + 8, 0x100000);	/* p_vaddr */
	p32(52 + 12, 0x100000);	/* p_paddr */
	p32(52 + 16, 0x800);	/* p_filesz */
	p32(52 + 20, 0x1000);	/* p_memsz */
	header(0x1000, 0x3);
	for (int i = 0x100c; i < 0x1800; i++)
		img[i] = (uint8_t)(i * 3);
}

static int setup(void **state)
{
	aout_kernel();
	memset(&plan, 0, sizeof(plan));
	err[0] = 0;
	return 0;
}

static const struct mb_args with_initrd = {
	.append = "console=ttyS0 quiet",
	.initrd = "MODULE-BYTES",
	.initrd_size = 12,
	.initrd_str = "initrd.img arg=1",
};

static int plan_it(const struct mb_args *a, uint64_t ram_size)
{
	return mb_plan(img, IMG_SIZE, "k.elf", a, ram_size, &plan, err, sizeof(err));
}

static void expect_err(int ret, const char *msg)
{
	assert_int_equal(plan_it(NULL, 128 * MiB), ret);
	assert_string_equal(err, msg);
}

static void load(const struct mb_args *a, uint64_t ram_size)
{
	struct guest_mem_ops ops = { .write = fr_write, .zero = fr_zero, .ram_size = ram_size };
	memset(ram, 0xaa, sizeof(ram));
	assert_int_equal(plan_it(a, ram_size), 0);
	assert_int_equal(mb_place(&plan, img, IMG_SIZE, "k.elf", a, &ops, NULL, err, sizeof(err)), 0);
}

/* ---------------------------------------------------------------- header search */

static void finds_header(void **state)
{
	assert_true(mb_has_header(img, IMG_SIZE));
	elf32_kernel();
	assert_true(mb_has_header(img, IMG_SIZE));
	memset(img, 0, sizeof(img));
	assert_false(mb_has_header(img, IMG_SIZE));
	/* Not 32-bit aligned: not a header (spec 3.1.1). */
	header(0x102, 0);
	assert_false(mb_has_header(img, IMG_SIZE));
	/* The last aligned place within 8192 bytes for a 12-byte header. */
	header(8192 - 12, 0);
	assert_true(mb_has_header(img, IMG_SIZE));
	memset(img, 0, sizeof(img));
	header(8192 - 8, 0);
	assert_false(mb_has_header(img, IMG_SIZE));
	assert_false(mb_has_header(img, 11));
}

static void no_header(void **state)
{
	memset(img, 0, sizeof(img));
	header(8192, 0x10000);	/* beyond the first 8192 bytes */
	expect_err(-ENOEXEC, "k.elf: no multiboot header in the first 8192 bytes");
}

static void bad_checksum(void **state)
{
	p32(0x108, 0x12345678);
	expect_err(-ENOEXEC, "k.elf: multiboot magic at offset 0x100 has a bad checksum (magic + flags + checksum must be 0)");
}

static void header_truncated(void **state)
{
	/* The a.out kludge needs 32 bytes; the file ends 20 bytes in. */
	assert_int_equal(mb_plan(img, 0x114, "k.elf", NULL, 128 * MiB, &plan, err, sizeof(err)), -ENOEXEC);
	assert_string_equal(err, "k.elf: truncated: the multiboot header at offset 0x100 needs 32 bytes within the file's first 8192");
	/* The video fields need 48 bytes, and must lie within 8192. */
	memset(img, 0, sizeof(img));
	header(8192 - 32, 0x4);
	expect_err(-ENOEXEC, "k.elf: truncated: the multiboot header at offset 0x1fe0 needs 48 bytes within the file's first 8192");
}

/* ---------------------------------------------------------------- flags */

static void unknown_required_flags_refused(void **state)
{
	header(0x100, 0x00010008 | 0x3);
	expect_err(-ENOEXEC, "k.elf: multiboot header requires features hvlab does not provide (flags bits 0x8)");
	header(0x100, 0x00018003);
	expect_err(-ENOEXEC, "k.elf: multiboot header requires features hvlab does not provide (flags bits 0x8000)");
}

static void video_flag_ignored_like_qemu(void **state)
{
	header(0x100, 0x00010007);
	assert_int_equal(plan_it(NULL, 128 * MiB), 0);
	assert_int_equal(plan.mb.header_flags, 0x00010007);
}

static void optional_flags_ignored(void **state)
{
	header(0x100, 0x80030003);	/* bits 17 and 31: optional (spec 3.1.2) */
	assert_int_equal(plan_it(NULL, 128 * MiB), 0);
}

/* ---------------------------------------------------------------- a.out kludge */

static void aout_plan_and_state(void **state)
{
	assert_int_equal(plan_it(NULL, 128 * MiB), 0);
	assert_int_equal(plan.nsegs, 1);
	assert_int_equal(plan.seg[0].gpa, 0x100000);
	/* header offset - (header_addr - load_addr) = 0x100 - 0x100 */
	assert_int_equal(plan.seg[0].offset, 0);
	assert_int_equal(plan.seg[0].filesz, 0x2000);
	assert_int_equal(plan.seg[0].zerosz, 0x1000);
	/* Spec 3.2: EAX magic, EBX info, protected mode, EFLAGS VM/IF clear. */
	assert_int_equal(plan.mode, LOADER_MODE_PROT32);
	assert_int_equal(plan.rip, 0x100200);
	assert_int_equal(plan.rax, 0x2BADB002);
	assert_int_equal(plan.rbx, 0x9000);
	assert_int_equal(plan.rflags & (1u << 17), 0);	/* VM */
	assert_int_equal(plan.rflags & (1u << 9), 0);	/* IF */
	assert_int_equal(plan.rflags, 0x2);
}

static void aout_load_end_zero_loads_whole_file(void **state)
{
	p32(0x114, 0);
	p32(0x118, 0);
	assert_int_equal(plan_it(NULL, 128 * MiB), 0);
	assert_int_equal(plan.seg[0].filesz, IMG_SIZE);
	assert_int_equal(plan.seg[0].zerosz, 0);
}

static void aout_text_offset(void **state)
{
	/* Header 0x40 bytes after load_addr: text starts at file 0xc0. */
	p32(0x10c, 0x100040);
	assert_int_equal(plan_it(NULL, 128 * MiB), 0);
	assert_int_equal(plan.seg[0].offset, 0xc0);
}

static void aout_load_above_header(void **state)
{
	p32(0x110, 0x100101);
	expect_err(-ENOEXEC, "k.elf: multiboot header: load_addr 0x100101 is above header_addr 0x100100");
}

static void aout_text_before_file(void **state)
{
	p32(0x10c, 0x100200);	/* would put the text at file offset -0x100 */
	expect_err(-ENOEXEC, "k.elf: multiboot header: header_addr - load_addr is 0x200, but the header is only 0x100 bytes into the file");
}

static void aout_load_end_below_load(void **state)
{
	p32(0x114, 0xfffff);
	expect_err(-ENOEXEC, "k.elf: multiboot header: load_end_addr 0xfffff is below load_addr 0x100000");
}

static void aout_load_past_file(void **state)
{
	p32(0x114, 0x103001);
	p32(0x118, 0);
	expect_err(-ENOEXEC, "k.elf: truncated: the multiboot header loads 0x3001 bytes from file offset 0, past the end of the 12288-byte file");
}

static void aout_bss_below_load_end(void **state)
{
	p32(0x118, 0x101fff);
	expect_err(-ENOEXEC, "k.elf: multiboot header: bss_end_addr 0x101fff is below the end of the loaded image 0x102000");
}

static void aout_entry_outside(void **state)
{
	p32(0x11c, 0x103000);
	expect_err(-ENOEXEC, "k.elf: entry point 0x103000 is outside every loadable segment");
	p32(0x11c, 0xfffff);
	expect_err(-ENOEXEC, "k.elf: entry point 0xfffff is outside every loadable segment");
}

static void aout_past_ram(void **state)
{
	p32(0x118, 0xffffffff);	/* a 4 GiB bss */
	expect_err(-ENOMEM, "k.elf: segment 0 (0xffefffff bytes at 0x100000) runs past the end of the 128 MiB of guest RAM; give more with --mem");
}

static void aout_overlaps_info(void **state)
{
	p32(0x10c, 0x8100);
	p32(0x110, 0x8000);
	p32(0x114, 0xa000);
	p32(0x118, 0);
	p32(0x11c, 0x8200);
	expect_err(-ENOEXEC, "k.elf: segment 0 (0x2000 bytes at 0x8000) overlaps the multiboot information at 0x9000-0x9fff; link the kernel at 1 MiB or above");
}

/* ---------------------------------------------------------------- ELF32 */

static void elf32_plan_ok(void **state)
{
	elf32_kernel();
	assert_int_equal(plan_it(NULL, 128 * MiB), 0);
	assert_int_equal(plan.nsegs, 1);
	assert_int_equal(plan.seg[0].gpa, 0x100000);
	assert_int_equal(plan.seg[0].offset, 0x1000);
	assert_int_equal(plan.seg[0].filesz, 0x800);
	assert_int_equal(plan.seg[0].zerosz, 0x800);
	assert_int_equal(plan.rip, 0x100000);
	assert_int_equal(plan.rax, 0x2BADB002);
	assert_int_equal(plan.mode, LOADER_MODE_PROT32);
}

static void elf32_load(void **state)
{
	elf32_kernel();
	load(NULL, 128 * MiB);
	assert_memory_equal(ram + 0x100000, img + 0x1000, 0x800);
	for (size_t i = 0x100800; i < 0x101000; i++)
		assert_int_equal(ram[i], 0);
}

static void elf32_messages_name_program_headers(void **state)
{
	/* Two program headers, a PT_NOTE first: the segment is header 1. */
	elf32_kernel();
	p16(44, 2);
	memmove(img + 84, img + 52, 32);
	memset(img + 52, 0, 32);
	p32(52, 4);			/* PT_NOTE */
	p32(84 + 12, 0x9800);		/* p_paddr inside the info page */
	p32(24, 0x100000);
	expect_err(-ENOEXEC, "k.elf: segment 1 (0x1000 bytes at 0x9800) overlaps the multiboot information at 0x9000-0x9fff; link the kernel at 1 MiB or above");
}

static void elf64_without_kludge_refused(void **state)
{
	elf32_kernel();
	img[4] = 2;	/* ELFCLASS64 */
	expect_err(-ENOEXEC, "k.elf: is ELF64, not ELF32; a multiboot kernel is a 32-bit image (load ELF64 directly, without a multiboot header)");
}

static void not_elf_without_kludge_refused(void **state)
{
	header(0x100, 0x3);
	expect_err(-ENOEXEC, "k.elf: not an ELF file (no \\x7fELF magic)");
}

static void elf32_wrong_machine(void **state)
{
	elf32_kernel();
	p16(18, 62);
	expect_err(-ENOEXEC, "k.elf: is an x86-64 image, not i386");
}

/* ---------------------------------------------------------------- RAM */

static void ram_too_small(void **state)
{
	assert_int_equal(plan_it(NULL, MiB), -ENOMEM);
	assert_string_equal(err, "k.elf: a multiboot kernel needs at least 2 MiB of guest RAM, not 1 MiB; give more with --mem");
}

static void module_does_not_fit(void **state)
{
	struct mb_args a = with_initrd;
	a.initrd_size = 0x100000;	/* 1 MiB module after a 1 MiB + 12 KiB kernel in 2 MiB */
	assert_int_equal(plan_it(&a, 2 * MiB), -ENOMEM);
	assert_string_equal(err, "k.elf: the multiboot information and the initrd (from 0x103000) does not fit below 0x1e0000 in the 2 MiB of guest RAM; give more with --mem");
	a.initrd_size = SIZE_MAX;
	assert_int_equal(plan_it(&a, 128 * MiB), -ENOMEM);
	a.initrd_size = 0x1e0000 - 0x104000;	/* exactly up to the reserved tables */
	assert_int_equal(plan_it(&a, 2 * MiB), 0);
}

/* ---------------------------------------------------------------- boot information */

/* One e820 entry as spec 3.3 lays out the memory map. */
static void check_mmap_entry(uint64_t at, uint64_t base, uint64_t len, uint32_t type)
{
	assert_int_equal(r32(at), 20);	/* size, not counting itself */
	assert_int_equal(r64(at + 4), base);
	assert_int_equal(r64(at + 12), len);
	assert_int_equal(r32(at + 20), type);
}

static void info_fields(void **state)
{
	load(&with_initrd, 128 * MiB);
	uint64_t mbi = plan.rbx;
	assert_int_equal(mbi, 0x9000);

	/* flags: mem (0), boot_device (1), cmdline (2), mods (3), mmap (6),
	 * boot_loader_name (9) — what QEMU sets; no syms, drives, config,
	 * APM or VBE. */
	assert_int_equal(r32(mbi + 0), (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
	/* What QEMU 7.2 hands a multiboot kernel (its option ROM reads the
	 * e820 map): 639 KiB below the EBDA; above 1 MiB, low RAM less
	 * SeaBIOS's 128 KiB at its top. */
	assert_int_equal(r32(mbi + 4), 639);
	assert_int_equal(r32(mbi + 8), 128 * 1024 - 1024 - 128);
	assert_int_equal(r32(mbi + 12), 0x8000ffff);
	for (unsigned o = 28; o < 44; o += 4)
		assert_int_equal(r32(mbi + o), 0);	/* syms */
	for (unsigned o = 52; o < 64; o += 4)
		assert_int_equal(r32(mbi + o), 0);	/* drives, config_table */
	for (unsigned o = 68; o < 88; o += 4)
		assert_int_equal(r32(mbi + o), 0);	/* apm, vbe */

	/* cmdline: QEMU passes "KERNEL APPEND". */
	assert_string_equal((char *)ram + r32(mbi + 16), "k.elf console=ttyS0 quiet");

	/* The module: page aligned (header flag 0), mod_end one past. */
	assert_int_equal(r32(mbi + 20), 1);
	uint32_t mods = r32(mbi + 24);
	uint32_t start = r32(mods), end = r32(mods + 4);
	assert_int_equal(start & 0xfff, 0);
	assert_int_equal(end - start, 12);
	assert_memory_equal(ram + start, "MODULE-BYTES", 12);
	assert_string_equal((char *)ram + r32(mods + 8), "initrd.img arg=1");
	assert_int_equal(r32(mods + 12), 0);
	/* Everything sits above the kernel's bss (which ends at 0x103000). */
	assert_true(mods >= 0x103000 && r32(mbi + 16) >= 0x103000 && start >= 0x103000);

	/* The memory map of QEMU pc + SeaBIOS for 128 MiB. */
	uint32_t mmap = r32(mbi + 48);
	assert_int_equal(r32(mbi + 44), 6 * 24);
	check_mmap_entry(mmap + 0 * 24, 0, 0x9fc00, 1);
	check_mmap_entry(mmap + 1 * 24, 0x9fc00, 0x400, 2);
	check_mmap_entry(mmap + 2 * 24, 0xf0000, 0x10000, 2);
	check_mmap_entry(mmap + 3 * 24, 0x100000, 0x7fe0000 - 0x100000, 1);
	check_mmap_entry(mmap + 4 * 24, 0x7fe0000, 0x20000, 2);
	check_mmap_entry(mmap + 5 * 24, 0xfffc0000, 0x40000, 2);

	assert_string_equal((char *)ram + r32(mbi + 64), "hvlab");

	/* The kernel itself. */
	assert_memory_equal(ram + 0x100000, img, 0x2000);
	for (size_t i = 0x102000; i < 0x103000; i++)
		assert_int_equal(ram[i], 0);
}

static void info_without_module_or_append(void **state)
{
	load(NULL, 32 * MiB);
	uint64_t mbi = plan.rbx;
	assert_int_equal(r32(mbi + 20), 0);
	/* QEMU keeps the space after the kernel name. */
	assert_string_equal((char *)ram + r32(mbi + 16), "k.elf ");
	assert_int_equal(r32(mbi + 8), 32 * 1024 - 1024 - 128);
	check_mmap_entry(r32(mbi + 48) + 3 * 24, 0x100000, 0x1fe0000 - 0x100000, 1);
}

static void info_large_ram(void **state)
{
	/* 4 GiB: QEMU pc keeps 3 GiB below the PCI hole, 1 GiB above 4 GiB. */
	load(NULL, 4 * GiB);
	uint64_t mbi = plan.rbx;
	assert_int_equal(r32(mbi + 8), 3 * 1024 * 1024 - 1024 - 128);
	assert_int_equal(r32(mbi + 44), 7 * 24);
	uint32_t mmap = r32(mbi + 48);
	check_mmap_entry(mmap + 3 * 24, 0x100000, 0xbffe0000 - 0x100000, 1);
	check_mmap_entry(mmap + 4 * 24, 0xbffe0000, 0x20000, 2);
	check_mmap_entry(mmap + 6 * 24, 0x100000000ull, GiB, 1);
}

static void place_checks_args_match_plan(void **state)
{
	struct guest_mem_ops ops = { .write = fr_write, .zero = fr_zero, .ram_size = 128 * MiB };
	struct mb_args other = with_initrd;
	assert_int_equal(plan_it(&with_initrd, 128 * MiB), 0);
	other.append = "something longer than before";
	assert_int_equal(mb_place(&plan, img, IMG_SIZE, "k.elf", &other, &ops, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "k.elf: internal error: the multiboot plan does not match the arguments or guest RAM");
	/* An ELF64 plan is not a multiboot plan. */
	plan.mode = LOADER_MODE_LONG64;
	assert_int_equal(mb_place(&plan, img, IMG_SIZE, "k.elf", &with_initrd, &ops, NULL, err, sizeof(err)), -EINVAL);
}

static void every_truncation_is_refused(void **state)
{
	for (size_t n = 0; n < 0x2000; n++) {
		uint8_t *copy = test_malloc(n ? n : 1);
		memcpy(copy, img, n);
		assert_int_equal(mb_plan(copy, n, "k.elf", &with_initrd, 128 * MiB, &plan, err, sizeof(err)), -ENOEXEC);
		test_free(copy);
	}
	elf32_kernel();
	for (size_t n = 0; n < 0x1800; n++) {
		uint8_t *copy = test_malloc(n ? n : 1);
		memcpy(copy, img, n);
		assert_int_equal(mb_plan(copy, n, "k.elf", &with_initrd, 128 * MiB, &plan, err, sizeof(err)), -ENOEXEC);
		test_free(copy);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(finds_header),
		T(no_header),
		T(bad_checksum),
		T(header_truncated),
		T(unknown_required_flags_refused),
		T(video_flag_ignored_like_qemu),
		T(optional_flags_ignored),
		T(aout_plan_and_state),
		T(aout_load_end_zero_loads_whole_file),
		T(aout_text_offset),
		T(aout_load_above_header),
		T(aout_text_before_file),
		T(aout_load_end_below_load),
		T(aout_load_past_file),
		T(aout_bss_below_load_end),
		T(aout_entry_outside),
		T(aout_past_ram),
		T(aout_overlaps_info),
		T(elf32_plan_ok),
		T(elf32_load),
		T(elf32_messages_name_program_headers),
		T(elf64_without_kludge_refused),
		T(not_elf_without_kludge_refused),
		T(elf32_wrong_machine),
		T(ram_too_small),
		T(module_does_not_fit),
		T(info_fields),
		T(info_without_module_or_append),
		T(info_large_ram),
		T(place_checks_args_match_plan),
		T(every_truncation_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
