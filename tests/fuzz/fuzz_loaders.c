/*
 * fuzz_loaders.c — libFuzzer target: the guest-image loaders (vmm/elf.c,
 * vmm/multiboot.c, vmm/loader.c) on arbitrary images.
 *
 * Input layout: byte 0 picks the loader (bit 0: multiboot, else ELF64;
 * bit 1: pass an initrd, the last 64 bytes of the input; bit 2: pass an
 * --append string) and bits 3-7 the guest RAM size (1 MiB << (n % 14):
 * 1 MiB .. 8 GiB, so the PCI-hole split is reached); the rest is the
 * image. A plan that is accepted is placed into a fake guest RAM that
 * backs only the first 32 MiB and checks every other write against the
 * RAM layout.
 *
 * Oracle: the sanitizers, plus the loaders' contract: a call returns 0
 * or a negative errno; a refusal writes one line starting "fuzz: "; an
 * accepted plan's segments lie in guest RAM, do not overlap, and the
 * entry point lies inside one of them; placing an accepted plan
 * succeeds and writes only inside guest RAM.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/loader.h"

#define BACKED (32u << 20)

static uint8_t ram[BACKED];

struct fz_ram {
	uint64_t ram_size;
};

static void check_range(const struct fz_ram *f, gpa_t gpa, size_t len)
{
	if (!loader_ram_contains(f->ram_size, gpa, len))
		abort();
}

static int fz_write(void *opaque, gpa_t gpa, const void *src, size_t len)
{
	check_range(opaque, gpa, len);
	if (gpa < BACKED)
		memcpy(ram + gpa, src, len < BACKED - gpa ? len : BACKED - gpa);
	return 0;
}

static int fz_zero(void *opaque, gpa_t gpa, size_t len)
{
	check_range(opaque, gpa, len);
	if (gpa < BACKED)
		memset(ram + gpa, 0, len < BACKED - gpa ? len : BACKED - gpa);
	return 0;
}

static void check_plan(const struct load_plan *p, uint64_t ram_size)
{
	int entry_ok = 0;
	if (p->nsegs == 0 || p->nsegs > LOADER_MAX_SEGS)
		abort();
	for (unsigned i = 0; i < p->nsegs; i++) {
		const struct load_seg *s = &p->seg[i];
		uint64_t mem = s->filesz + s->zerosz;
		if (mem < s->filesz || !loader_ram_contains(ram_size, s->gpa, mem))
			abort();
		if (p->rip >= s->gpa && p->rip - s->gpa < mem)
			entry_ok = 1;
		for (unsigned j = i + 1; j < p->nsegs; j++) {
			const struct load_seg *t = &p->seg[j];
			uint64_t tm = t->filesz + t->zerosz;
			if (s->gpa < t->gpa + tm && t->gpa < s->gpa + mem)
				abort();
		}
	}
	if (!entry_ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[LOADER_ERR_MAX];
	struct load_plan plan;
	struct mb_args args = { 0 };
	int r;

	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	struct fz_ram f = { .ram_size = (1ull << 20) << ((sel >> 3) % 14) };
	struct guest_mem_ops ops = { .write = fz_write, .zero = fz_zero, .ram_size = f.ram_size };
	const uint8_t *img = data + 1;
	size_t len = size - 1;
	if ((sel & 2) && len >= 64) {
		args.initrd = img + len - 64;
		args.initrd_size = 64;
		args.initrd_str = "initrd arg";
		len -= 64;
	}
	if (sel & 4)
		args.append = "console=ttyS0";
	err[0] = 0;

	if (sel & 1) {
		r = mb_plan(img, len, "fuzz", &args, f.ram_size, &plan, err, sizeof(err));
		if (r == 0) {
			check_plan(&plan, f.ram_size);
			if (plan.rax != 0x2BADB002 || plan.mode != LOADER_MODE_PROT32)
				abort();
			if (mb_place(&plan, img, len, "fuzz", &args, &ops, &f, err, sizeof(err)))
				abort();
		}
	} else {
		r = elf64_plan(img, len, "fuzz", f.ram_size, &plan, err, sizeof(err));
		if (r == 0) {
			check_plan(&plan, f.ram_size);
			if (loader_place(&plan, img, len, "fuzz", &ops, &f, err, sizeof(err)))
				abort();
		}
	}
	if (r > 0 || (r < 0 && (strncmp(err, "fuzz: ", 6) || strchr(err, '\n'))))
		abort();
	return 0;
}
