/*
 * test_vmm_elf.c — the ELF64 guest loader (vmm/elf.c, vmm/loader.c):
 * images built from bytes as the System V gABI (ch. 4 ELF header, ch. 5
 * program header) and the x86-64 psABI lay them out, one test per
 * validation rule with its exact message, and placing a plan into a fake
 * guest RAM through struct guest_mem_ops.
 *
 * Field offsets and constants below are written from the gABI, not taken
 * from vmm/elf.c: ELF64 header 64 bytes, program header 56 bytes,
 * EM_X86_64 = 62, ET_EXEC = 2, PT_LOAD = 1.
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
#define IMG_SIZE 0x3000
#define RAM (4 * MiB)

static uint8_t img[IMG_SIZE];
static char err[LOADER_ERR_MAX];
static struct load_plan plan;

static void p16(size_t off, uint64_t v) { for (int i = 0; i < 2; i++) img[off + i] = (uint8_t)(v >> 8 * i); }
static void p32(size_t off, uint64_t v) { for (int i = 0; i < 4; i++) img[off + i] = (uint8_t)(v >> 8 * i); }
static void p64(size_t off, uint64_t v) { for (int i = 0; i < 8; i++) img[off + i] = (uint8_t)(v >> 8 * i); }

/* Program header i (at 64 + 56 i). */
static void ph(unsigned i, uint32_t type, uint64_t off, uint64_t va, uint64_t pa,
	       uint64_t filesz, uint64_t memsz)
{
	size_t b = 64 + 56 * i;
	p32(b + 0, type);
	p32(b + 4, 5);		/* p_flags R+X */
	p64(b + 8, off);
	p64(b + 16, va);
	p64(b + 24, pa);
	p64(b + 32, filesz);
	p64(b + 40, memsz);
	p64(b + 48, 0x1000);
}

#define HIGH 0xffffffff80000000ull	/* a higher-half kernel: vaddr = HIGH + paddr */

/*
 * The valid image: text (0x100 bytes at file 0x1000) to 0x100000, data
 * (0x10 bytes at file 0x2000, 0x1000 in memory) to 0x200000, both linked
 * at HIGH + paddr; entry HIGH + 0x100010; a PT_NOTE in between.
 */
static int setup(void **state)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 2;		/* ELFCLASS64 */
	img[5] = 1;		/* ELFDATA2LSB */
	img[6] = 1;		/* EV_CURRENT */
	p16(16, 2);		/* ET_EXEC */
	p16(18, 62);		/* EM_X86_64 */
	p32(20, 1);
	p64(24, HIGH + 0x100010);
	p64(32, 64);		/* e_phoff */
	p16(52, 64);		/* e_ehsize */
	p16(54, 56);		/* e_phentsize */
	p16(56, 3);		/* e_phnum */
	ph(0, 1, 0x1000, HIGH + 0x100000, 0x100000, 0x100, 0x100);
	ph(1, 4, 0, 0, 0, 0, 0);	/* PT_NOTE: not loaded */
	ph(2, 1, 0x2000, HIGH + 0x200000, 0x200000, 0x10, 0x1000);
	for (int i = 0; i < 0x100; i++)
		img[0x1000 + i] = (uint8_t)(i ^ 0x5a);
	memset(img + 0x2000, 0xd7, 0x10);
	memset(&plan, 0, sizeof(plan));
	err[0] = 0;
	return 0;
}

static int plan_it(size_t size, uint64_t ram)
{
	return elf64_plan(img, size, "g.elf", ram, &plan, err, sizeof(err));
}

static void expect_err(int ret, const char *msg)
{
	assert_int_equal(plan_it(IMG_SIZE, RAM), ret);
	assert_string_equal(err, msg);
}

/* ---------------------------------------------------------------- fake RAM */

struct fake_ram {
	uint8_t *m;
	size_t size;
	int fail;	/* return this from the next call, if set */
	unsigned writes, zeroes;
};

static int fr_write(void *opaque, gpa_t gpa, const void *src, size_t len)
{
	struct fake_ram *f = opaque;
	if (f->fail)
		return f->fail;
	assert_true(gpa <= f->size && len <= f->size - gpa);
	memcpy(f->m + gpa, src, len);
	f->writes++;
	return 0;
}

static int fr_zero(void *opaque, gpa_t gpa, size_t len)
{
	struct fake_ram *f = opaque;
	if (f->fail)
		return f->fail;
	assert_true(gpa <= f->size && len <= f->size - gpa);
	memset(f->m + gpa, 0, len);
	f->zeroes++;
	return 0;
}

/* ---------------------------------------------------------------- valid */

static void valid_plan(void **state)
{
	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
	assert_int_equal(plan.nsegs, 2);
	/* Segments go to p_paddr, not p_vaddr. */
	assert_int_equal(plan.seg[0].gpa, 0x100000);
	assert_int_equal(plan.seg[0].offset, 0x1000);
	assert_int_equal(plan.seg[0].filesz, 0x100);
	assert_int_equal(plan.seg[0].zerosz, 0);
	assert_int_equal(plan.seg[1].gpa, 0x200000);
	assert_int_equal(plan.seg[1].offset, 0x2000);
	assert_int_equal(plan.seg[1].filesz, 0x10);
	assert_int_equal(plan.seg[1].zerosz, 0xff0);
	/* e_entry is virtual; the plan enters at the same byte's gpa. */
	assert_int_equal(plan.rip, 0x100010);
	assert_int_equal(plan.mode, LOADER_MODE_LONG64);
	assert_int_equal(plan.rflags, 0x2);	/* SDM Vol. 1 3.4.3: bit 1 reads 1, IF clear */
	assert_int_equal(plan.rsp, 0xa000);	/* docs/loaders.md: the boot stack's top */
}

static void identity_entry(void **state)
{
	ph(0, 1, 0x1000, 0x100000, 0x100000, 0x100, 0x100);
	p64(24, 0x1000ff);
	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
	assert_int_equal(plan.rip, 0x1000ff);
}

static void place_writes_bytes_and_zeroes(void **state)
{
	static uint8_t ram[RAM];
	struct fake_ram f = { .m = ram, .size = sizeof(ram) };
	struct guest_mem_ops ops = { .write = fr_write, .zero = fr_zero, .ram_size = RAM };

	memset(ram, 0xaa, sizeof(ram));
	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
	assert_int_equal(loader_place(&plan, img, IMG_SIZE, "g.elf", &ops, &f, err, sizeof(err)), 0);
	assert_memory_equal(ram + 0x100000, img + 0x1000, 0x100);
	assert_int_equal(ram[0x100100], 0xaa);	/* nothing past memsz */
	assert_memory_equal(ram + 0x200000, img + 0x2000, 0x10);
	for (size_t i = 0x200010; i < 0x201000; i++)
		assert_int_equal(ram[i], 0);	/* p_memsz - p_filesz is zero-filled */
	assert_int_equal(ram[0x201000], 0xaa);
	assert_int_equal(ram[0xfffff], 0xaa);
	assert_int_equal(f.writes, 2);
	assert_int_equal(f.zeroes, 1);
}

static void place_reports_callback_error(void **state)
{
	static uint8_t ram[RAM];
	struct fake_ram f = { .m = ram, .size = sizeof(ram), .fail = -EFAULT };
	struct guest_mem_ops ops = { .write = fr_write, .zero = fr_zero, .ram_size = RAM };

	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
	assert_int_equal(loader_place(&plan, img, IMG_SIZE, "g.elf", &ops, &f, err, sizeof(err)), -EFAULT);
	assert_string_equal(err, "g.elf: writing 0x100 bytes at 0x100000 into guest RAM failed");
}

static void place_refuses_plan_for_other_image(void **state)
{
	static uint8_t ram[RAM];
	struct fake_ram f = { .m = ram, .size = sizeof(ram) };
	struct guest_mem_ops ops = { .write = fr_write, .zero = fr_zero, .ram_size = RAM };

	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
	/* The image is shorter than the plan says. */
	assert_int_equal(loader_place(&plan, img, 0x2008, "g.elf", &ops, &f, err, sizeof(err)), -EINVAL);
	assert_int_equal(f.writes, 0);
	/* RAM is smaller than the plan was made for. */
	ops.ram_size = 2 * MiB;
	assert_int_equal(loader_place(&plan, img, IMG_SIZE, "g.elf", &ops, &f, err, sizeof(err)), -EINVAL);
	assert_int_equal(f.writes, 0);
}

/* ---------------------------------------------------------------- header rules */

static void truncated_header(void **state)
{
	assert_int_equal(plan_it(40, RAM), -ENOEXEC);
	assert_string_equal(err, "g.elf: truncated: 40 bytes, shorter than the 64-byte ELF64 header");
	assert_int_equal(plan_it(3, RAM), -ENOEXEC);
	assert_string_equal(err, "g.elf: not an ELF file (no \\x7fELF magic)");
	assert_int_equal(plan_it(0, RAM), -ENOEXEC);
}

static void bad_magic(void **state)
{
	img[1] = 'e';
	expect_err(-ENOEXEC, "g.elf: not an ELF file (no \\x7fELF magic)");
}

static void elf32_class(void **state)
{
	img[4] = 1;
	expect_err(-ENOEXEC, "g.elf: is ELF32, not ELF64; a 32-bit kernel must carry a multiboot header");
	img[4] = 7;
	expect_err(-ENOEXEC, "g.elf: unknown ELF class 7");
}

static void big_endian(void **state)
{
	img[5] = 2;
	expect_err(-ENOEXEC, "g.elf: is not a little-endian ELF file (EI_DATA 2); x86 images are little-endian");
}

static void bad_version(void **state)
{
	img[6] = 0;
	expect_err(-ENOEXEC, "g.elf: unknown ELF version 0");
}

static void wrong_machine(void **state)
{
	p16(18, 3);
	expect_err(-ENOEXEC, "g.elf: is an i386 image, not x86-64");
	p16(18, 183);
	expect_err(-ENOEXEC, "g.elf: is an AArch64 image, not x86-64");
	p16(18, 999);
	expect_err(-ENOEXEC, "g.elf: is for machine 999, not x86-64");
}

static void not_exec(void **state)
{
	p16(16, 3);
	expect_err(-ENOEXEC, "g.elf: is position-independent (ET_DYN), not an executable (ET_EXEC); link it at a fixed address (-no-pie, -static)");
	p16(16, 1);
	expect_err(-ENOEXEC, "g.elf: is ELF type 1, not an executable (ET_EXEC)");
}

static void no_program_headers(void **state)
{
	p16(56, 0);
	expect_err(-ENOEXEC, "g.elf: has no program headers, so nothing to load");
}

static void wrong_phentsize(void **state)
{
	p16(54, 32);
	expect_err(-ENOEXEC, "g.elf: program header size is 32, not the 56 bytes of ELF64");
}

static void phdrs_truncated(void **state)
{
	/* Three headers end at 64 + 168 = 232. */
	assert_int_equal(plan_it(231, RAM), -ENOEXEC);
	assert_string_equal(err, "g.elf: truncated: 3 program headers at offset 0x40 run past the end of the 231-byte file");
	p64(32, 0xffffffffffffffc0ull);	/* phoff + table wraps */
	expect_err(-ENOEXEC, "g.elf: truncated: 3 program headers at offset 0xffffffffffffffc0 run past the end of the 12288-byte file");
}

/* ---------------------------------------------------------------- segment rules */

static void filesz_above_memsz(void **state)
{
	ph(2, 1, 0x2000, 0x200000, 0x200000, 0x20, 0x10);
	expect_err(-ENOEXEC, "g.elf: segment 2 has more bytes in the file (0x20) than in memory (0x10)");
}

static void segment_past_file(void **state)
{
	ph(2, 1, 0x2ff0, 0x200000, 0x200000, 0x20, 0x20);
	expect_err(-ENOEXEC, "g.elf: truncated: segment 2 (0x20 bytes at file offset 0x2ff0) runs past the end of the 12288-byte file");
}

static void segment_offset_overflow(void **state)
{
	ph(2, 1, 0xfffffffffffffff0ull, 0x200000, 0x200000, 0x20, 0x20);
	expect_err(-ENOEXEC, "g.elf: truncated: segment 2 (0x20 bytes at file offset 0xfffffffffffffff0) runs past the end of the 12288-byte file");
}

static void segment_past_ram(void **state)
{
	ph(2, 1, 0x2000, 0x3ff000, 0x3ff000, 0x10, 0x1001);
	expect_err(-ENOMEM, "g.elf: segment 2 (0x1001 bytes at 0x3ff000) runs past the end of the 4 MiB of guest RAM; give more with --mem");
	/* Exactly up to the end is fine. */
	ph(2, 1, 0x2000, 0x3ff000, 0x3ff000, 0x10, 0x1000);
	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
}

static void huge_memsz(void **state)
{
	ph(2, 1, 0x2000, 0x200000, 0x200000, 0x10, 0x8000000000000000ull);
	expect_err(-ENOMEM, "g.elf: segment 2 (0x8000000000000000 bytes at 0x200000) runs past the end of the 4 MiB of guest RAM; give more with --mem");
}

static void gpa_wraps(void **state)
{
	ph(2, 1, 0x2000, 0x200000, 0xfffffffffffff000ull, 0x10, 0x2000);
	expect_err(-ENOMEM, "g.elf: segment 2 (0x2000 bytes at 0xfffffffffffff000) runs past the end of the 4 MiB of guest RAM; give more with --mem");
}

static void overlapping_segments(void **state)
{
	ph(2, 1, 0x2000, HIGH + 0x1000f0, 0x1000f0, 0x10, 0x20);
	expect_err(-ENOEXEC, "g.elf: segments 0 and 2 overlap at 0x1000f0");
	/* One byte in common, either way round. */
	ph(2, 1, 0x2000, HIGH + 0x1000ff, 0x1000ff, 0x10, 0x20);
	expect_err(-ENOEXEC, "g.elf: segments 0 and 2 overlap at 0x1000ff");
	ph(2, 1, 0x2000, HIGH + 0xfffe0, 0xfffe0, 0x10, 0x21);
	expect_err(-ENOEXEC, "g.elf: segments 0 and 2 overlap at 0x100000");
	/* Adjacent is not overlapping. */
	ph(2, 1, 0x2000, HIGH + 0x100100, 0x100100, 0x10, 0x20);
	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
}

static void no_loadable_segments(void **state)
{
	ph(0, 4, 0x1000, 0x100000, 0x100000, 0x100, 0x100);
	ph(2, 1, 0x2000, 0x200000, 0x200000, 0, 0);	/* PT_LOAD of nothing */
	expect_err(-ENOEXEC, "g.elf: has no loadable (PT_LOAD) segments");
}

static void entry_outside(void **state)
{
	p64(24, HIGH + 0x100100);	/* one past the text */
	expect_err(-ENOEXEC, "g.elf: entry point 0xffffffff80100100 is outside every loadable segment");
	p64(24, 0x100010);		/* the physical address is not the entry's */
	expect_err(-ENOEXEC, "g.elf: entry point 0x100010 is outside every loadable segment");
	p64(24, HIGH + 0x200800);	/* in the zero-filled part: allowed */
	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
	assert_int_equal(plan.rip, 0x200800);
}

static void boot_area_reserved(void **state)
{
	/* docs/loaders.md: [0x1000, 0xa000) holds the GDT, page tables, stack. */
	ph(2, 1, 0x2000, 0x9fff, 0x9fff, 0x1, 0x1);
	expect_err(-ENOEXEC, "g.elf: segment 2 (0x1 bytes at 0x9fff) overlaps hvlab's boot area (GDT, page tables, stack) at 0x1000-0x9fff; link the kernel at 1 MiB or above");
	ph(2, 1, 0x2000, 0x0, 0x0, 0x10, 0x1001);
	expect_err(-ENOEXEC, "g.elf: segment 2 (0x1001 bytes at 0) overlaps hvlab's boot area (GDT, page tables, stack) at 0x1000-0x9fff; link the kernel at 1 MiB or above");
	ph(2, 1, 0x2000, 0x0, 0x0, 0x10, 0x1000);	/* page 0 is free */
	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
	ph(2, 1, 0x2000, 0xa000, 0xa000, 0x10, 0x1000);
	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
}

static void too_many_segments(void **state)
{
	p16(56, 17);
	for (unsigned i = 0; i < 17; i++)
		ph(i, 1, 0x1000, 0x100000 + 0x1000 * i, 0x100000 + 0x1000 * i, 0x10, 0x10);
	p64(24, 0x100000);
	expect_err(-ENOEXEC, "g.elf: has more than 16 loadable segments");
	p16(56, 16);
	assert_int_equal(plan_it(IMG_SIZE, RAM), 0);
	assert_int_equal(plan.nsegs, 16);
}

/* ---------------------------------------------------------------- RAM layout */

static void ram_layout_follows_qemu_pc(void **state)
{
	const uint64_t G = 1ull << 30;
	/* Below 3.5 GiB everything is low RAM. */
	assert_true(loader_ram_contains(3 * G, 0, 3 * G));
	assert_false(loader_ram_contains(3 * G, 0, 3 * G + 1));
	assert_false(loader_ram_contains(3 * G, 4 * G, 1));
	/* 4 GiB: 3 GiB below the hole, 1 GiB from 4 GiB. */
	assert_true(loader_ram_contains(4 * G, 3 * G - 0x1000, 0x1000));
	assert_false(loader_ram_contains(4 * G, 3 * G, 1));
	assert_true(loader_ram_contains(4 * G, 4 * G, G));
	assert_false(loader_ram_contains(4 * G, 4 * G, G + 1));
	assert_false(loader_ram_contains(4 * G, ~0ull, 2));
	assert_true(loader_ram_contains(4 * G, 4 * G + G, 0));

	ph(2, 1, 0x2000, 4 * G, 4 * G, 0x10, 0x1000);
	assert_int_equal(plan_it(IMG_SIZE, 4 * G), 0);
	ph(2, 1, 0x2000, 3 * G, 3 * G, 0x10, 0x1000);
	assert_int_equal(plan_it(IMG_SIZE, 4 * G), -ENOMEM);
	assert_string_equal(err, "g.elf: segment 2 (0x1000 bytes at 0xc0000000) runs past the end of the 4 GiB of guest RAM; give more with --mem");
}

/* Every prefix of the valid image is refused cleanly, never read past. */
static void every_truncation_is_refused(void **state)
{
	for (size_t n = 0; n < 0x2010; n++) {
		uint8_t *copy = test_malloc(n ? n : 1);
		memcpy(copy, img, n);
		assert_int_equal(elf64_plan(copy, n, "g.elf", RAM, &plan, err, sizeof(err)), -ENOEXEC);
		assert_true(strncmp(err, "g.elf: ", 7) == 0);
		test_free(copy);
	}
	assert_int_equal(plan_it(0x2010, RAM), 0);
}

static void small_error_buffer(void **state)
{
	char small[12];
	img[1] = 'e';
	assert_int_equal(elf64_plan(img, IMG_SIZE, "g.elf", RAM, &plan, small, sizeof(small)), -ENOEXEC);
	assert_string_equal(small, "g.elf: not ");
	assert_int_equal(elf64_plan(img, IMG_SIZE, "g.elf", RAM, &plan, NULL, 0), -ENOEXEC);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(valid_plan),
		T(identity_entry),
		T(place_writes_bytes_and_zeroes),
		T(place_reports_callback_error),
		T(place_refuses_plan_for_other_image),
		T(truncated_header),
		T(bad_magic),
		T(elf32_class),
		T(big_endian),
		T(bad_version),
		T(wrong_machine),
		T(not_exec),
		T(no_program_headers),
		T(wrong_phentsize),
		T(phdrs_truncated),
		T(filesz_above_memsz),
		T(segment_past_file),
		T(segment_offset_overflow),
		T(segment_past_ram),
		T(huge_memsz),
		T(gpa_wraps),
		T(overlapping_segments),
		T(no_loadable_segments),
		T(entry_outside),
		T(boot_area_reserved),
		T(too_many_segments),
		T(ram_layout_follows_qemu_pc),
		T(every_truncation_is_refused),
		T(small_error_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
