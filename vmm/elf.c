/*
 * elf.c — ELF executables as guest images: ELF64 x86-64 (what `hvlab run`
 * enters directly in 64-bit mode) and ELF32 i386 (what multiboot kernels
 * without the a.out kludge are, vmm/multiboot.c).
 *
 * Format: System V ABI gABI ch. 4 (ELF header, e_ident) and ch. 5
 * (program header, PT_LOAD); the x86-64 psABI (EM_X86_64 = 62) and the
 * i386 psABI (EM_386 = 3). Only ET_EXEC is accepted: a position-
 * independent image has no load address of its own to honour.
 *
 * Segments go to p_paddr, not p_vaddr. The guest starts with paging off
 * (multiboot) or identity-mapped (ELF64), so bytes must sit at the
 * physical load addresses the linker assigned (the LMA, p_paddr).
 * A higher-half kernel links with p_vaddr != p_paddr and relies on its
 * loader doing exactly this, as GRUB and QEMU do. The entry point e_entry
 * is a virtual address; it must lie inside a PT_LOAD segment's virtual
 * range and is translated to the physical address of the same byte, so
 * the plan's rip can be reached before the guest enables its own paging.
 *
 * Every field is read with explicit little-endian loads after bounds
 * checks; no structure is overlaid on the image (it may be unaligned or
 * truncated anywhere).
 */
#include <errno.h>
#include <string.h>

#include "vmm/loader.h"

#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1

/* Where the fields sit in each class (gABI Figures 4-3, 5-1). */
struct elf_class {
	unsigned cls, machine, bits;
	const char *machine_name;
	size_t ehsize, phentsize;
	size_t e_entry, e_phoff, e_phentsize, e_phnum;	/* ELF header */
	size_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz;	/* program header */
	size_t word;	/* 4 or 8: size of the address fields */
};

static const struct elf_class elf64 = {
	.cls = ELFCLASS64, .machine = EM_X86_64, .bits = 64, .machine_name = "x86-64",
	.ehsize = 64, .phentsize = 56,
	.e_entry = 24, .e_phoff = 32, .e_phentsize = 54, .e_phnum = 56,
	.p_offset = 8, .p_vaddr = 16, .p_paddr = 24, .p_filesz = 32, .p_memsz = 40,
	.word = 8,
};

static const struct elf_class elf32 = {
	.cls = ELFCLASS32, .machine = EM_386, .bits = 32, .machine_name = "i386",
	.ehsize = 52, .phentsize = 32,
	.e_entry = 24, .e_phoff = 28, .e_phentsize = 42, .e_phnum = 44,
	.p_offset = 4, .p_vaddr = 8, .p_paddr = 12, .p_filesz = 16, .p_memsz = 20,
	.word = 4,
};

static uint64_t ld(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static const char *machine_str(unsigned m)
{
	switch (m) {
	case EM_386: return "i386";
	case EM_X86_64: return "x86-64";
	case 40: return "ARM";
	case 183: return "AArch64";
	case 243: return "RISC-V";
	default: return NULL;
	}
}

static int check_header(const uint8_t *b, size_t size, const struct elf_class *c,
			const char *name, char *err, size_t errlen)
{
	if (size < 4 || memcmp(b, "\x7f" "ELF", 4))
		return loader_err(err, errlen, -ENOEXEC, name, "not an ELF file (no \\x7fELF magic)");
	if (size < EI_VERSION + 1)
		return loader_err(err, errlen, -ENOEXEC, name, "truncated: %zu bytes, shorter than the ELF identification", size);
	if (b[EI_CLASS] != c->cls) {
		if (b[EI_CLASS] == ELFCLASS32 || b[EI_CLASS] == ELFCLASS64)
			return loader_err(err, errlen, -ENOEXEC, name,
					  c->cls == ELFCLASS64 ?
					  "is ELF32, not ELF64; a 32-bit kernel must carry a multiboot header" :
					  "is ELF64, not ELF32; a multiboot kernel is a 32-bit image (load ELF64 directly, without a multiboot header)");
		return loader_err(err, errlen, -ENOEXEC, name, "unknown ELF class %u", b[EI_CLASS]);
	}
	if (b[EI_DATA] != ELFDATA2LSB)
		return loader_err(err, errlen, -ENOEXEC, name, "is not a little-endian ELF file (EI_DATA %u); x86 images are little-endian", b[EI_DATA]);
	if (b[EI_VERSION] != EV_CURRENT)
		return loader_err(err, errlen, -ENOEXEC, name, "unknown ELF version %u", b[EI_VERSION]);
	if (size < c->ehsize)
		return loader_err(err, errlen, -ENOEXEC, name, "truncated: %zu bytes, shorter than the %zu-byte ELF%u header",
				  size, c->ehsize, c->bits);
	unsigned type = (unsigned)ld(b + 16, 2), machine = (unsigned)ld(b + 18, 2);
	if (machine != c->machine) {
		const char *m = machine_str(machine);
		if (m)
			return loader_err(err, errlen, -ENOEXEC, name, "is an %s image, not %s", m, c->machine_name);
		return loader_err(err, errlen, -ENOEXEC, name, "is for machine %u, not %s", machine, c->machine_name);
	}
	if (type != ET_EXEC)
		return loader_err(err, errlen, -ENOEXEC, name,
				  type == ET_DYN ? "is position-independent (ET_DYN), not an executable (ET_EXEC); link it at a fixed address (-no-pie, -static)" :
				  "is ELF type %u, not an executable (ET_EXEC)", type);
	return 0;
}

static int elf_plan(const struct elf_class *c, const void *img, size_t size, const char *name,
		    uint64_t ram_size, struct load_plan *plan, char *err, size_t errlen)
{
	const uint8_t *b = img;
	int r;

	if (!img || !plan)
		return loader_err(err, errlen, -EINVAL, name, "internal error: no image or no plan");
	memset(plan, 0, sizeof(*plan));
	if ((r = check_header(b, size, c, name, err, errlen)))
		return r;

	uint64_t entry = ld(b + c->e_entry, c->word), phoff = ld(b + c->e_phoff, c->word);
	size_t phentsize = (size_t)ld(b + c->e_phentsize, 2), phnum = (size_t)ld(b + c->e_phnum, 2);
	if (phnum == 0)
		return loader_err(err, errlen, -ENOEXEC, name, "has no program headers, so nothing to load");
	if (phentsize != c->phentsize)
		return loader_err(err, errlen, -ENOEXEC, name, "program header size is %zu, not the %zu bytes of ELF%u",
				  phentsize, c->phentsize, c->bits);
	/* phnum <= 0xffff and phentsize <= 56, so the product cannot overflow. */
	if (phoff > size || phnum * phentsize > size - phoff)
		return loader_err(err, errlen, -ENOEXEC, name,
				  "truncated: %zu program headers at offset %#llx run past the end of the %zu-byte file",
				  phnum, (unsigned long long)phoff, size);

	uint64_t vaddr[LOADER_MAX_SEGS];
	for (size_t i = 0; i < phnum; i++) {
		const uint8_t *ph = b + phoff + i * phentsize;
		if (ld(ph, 4) != PT_LOAD)
			continue;
		uint64_t off = ld(ph + c->p_offset, c->word), va = ld(ph + c->p_vaddr, c->word);
		uint64_t pa = ld(ph + c->p_paddr, c->word);
		uint64_t filesz = ld(ph + c->p_filesz, c->word), memsz = ld(ph + c->p_memsz, c->word);
		if (filesz > memsz)
			return loader_err(err, errlen, -ENOEXEC, name,
					  "segment %zu has more bytes in the file (%#llx) than in memory (%#llx)",
					  i, (unsigned long long)filesz, (unsigned long long)memsz);
		if (off > size || filesz > size - off)
			return loader_err(err, errlen, -ENOEXEC, name,
					  "truncated: segment %zu (%#llx bytes at file offset %#llx) runs past the end of the %zu-byte file",
					  i, (unsigned long long)filesz, (unsigned long long)off, size);
		if (memsz == 0)
			continue;
		if (plan->nsegs == LOADER_MAX_SEGS)
			return loader_err(err, errlen, -ENOEXEC, name, "has more than %d loadable segments", LOADER_MAX_SEGS);
		vaddr[plan->nsegs] = va;
		plan->seg[plan->nsegs++] = (struct load_seg){
			.gpa = pa, .offset = off, .filesz = filesz, .zerosz = memsz - filesz,
			.phdr = (unsigned)i,
		};
	}
	if (plan->nsegs == 0)
		return loader_err(err, errlen, -ENOEXEC, name, "has no loadable (PT_LOAD) segments");
	if ((r = loader_check_segs(plan, ram_size, name, err, errlen)))
		return r;

	for (unsigned i = 0; i < plan->nsegs; i++) {
		uint64_t memsz = plan->seg[i].filesz + plan->seg[i].zerosz;
		if (entry >= vaddr[i] && entry - vaddr[i] < memsz) {
			plan->rip = plan->seg[i].gpa + (entry - vaddr[i]);
			return 0;
		}
	}
	return loader_err(err, errlen, -ENOEXEC, name, "entry point %#llx is outside every loadable segment",
			  (unsigned long long)entry);
}

int elf64_plan(const void *img, size_t size, const char *name, uint64_t ram_size,
	       struct load_plan *plan, char *err, size_t errlen)
{
	int r = elf_plan(&elf64, img, size, name, ram_size, plan, err, errlen);
	if (r)
		return r;
	/* x86-64 psABI 3.4.1 leaves the rest to the loader; docs/loaders.md
	 * says what the run code sets up. RFLAGS: only the reserved bit 1. */
	r = loader_check_reserved(plan, LOADER_ELF64_BOOT_BASE, LOADER_ELF64_BOOT_END,
				  "hvlab's boot area (GDT, page tables, stack)", name, err, errlen);
	if (r)
		return r;
	plan->mode = LOADER_MODE_LONG64;
	plan->rflags = 0x2;
	plan->rsp = LOADER_ELF64_BOOT_END;
	return 0;
}

int elf32_plan(const void *img, size_t size, const char *name, uint64_t ram_size,
	       struct load_plan *plan, char *err, size_t errlen)
{
	return elf_plan(&elf32, img, size, name, ram_size, plan, err, errlen);
}
