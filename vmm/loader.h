/*
 * loader.h — guest-image loaders: ELF64 (vmm/elf.c) and multiboot v1
 * (vmm/multiboot.c), as pure code over an image held in memory.
 *
 * A loader runs in two steps. *_plan() parses and validates the image and
 * produces a struct load_plan: which bytes of the image go to which
 * guest-physical addresses, what is zero-filled, and the CPU state the
 * guest starts in. *_place() then writes the plan into guest memory
 * through struct guest_mem_ops, so `hvlab run` points it at guest RAM and
 * the unit tests at a buffer. Neither step depends on the VM API.
 *
 * Every function validates all of its input and returns 0 or -errno with
 * one line in the caller's error buffer, prefixed with the image's name:
 *   -ENOEXEC  the image is not of the format, or is malformed
 *   -ENOMEM   the image is well formed but does not fit in guest RAM
 *   -EINVAL   a bad argument (a plan that does not match the image, ...)
 *   other     whatever a guest_mem_ops callback returned
 * Guest RAM (loader_ram_contains()) is laid out as QEMU's pc machine lays
 * it out for a RAM size: docs/loaders.md.
 */
#ifndef HVLAB_VMM_LOADER_H
#define HVLAB_VMM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlab/types.h"

/* More PT_LOAD segments than this is refused; real kernels have 2-5. */
#define LOADER_MAX_SEGS 16

/* A buffer this size holds every message the loaders write. */
#define LOADER_ERR_MAX 256

/* ELF64 boot area: the run code builds the GDT, the identity-mapping page
 * tables and the initial stack here (docs/loaders.md); no segment may
 * overlap it. */
#define LOADER_ELF64_BOOT_BASE 0x1000ull
#define LOADER_ELF64_BOOT_END 0xa000ull

/* Guest RAM at or above this size is split as QEMU's pc machine splits
 * it: LOADER_LOWMEM_SPLIT below 4 GiB, the rest from 4 GiB up. */
#define LOADER_LOWMEM_LIMIT 0xe0000000ull
#define LOADER_LOWMEM_SPLIT 0xc0000000ull
#define LOADER_4G 0x100000000ull

/* One piece of the image: filesz bytes from image offset `offset` go to
 * gpa, and the zerosz bytes after them are cleared. */
struct load_seg {
	gpa_t gpa;
	uint64_t offset;
	uint64_t filesz;
	uint64_t zerosz;
	unsigned phdr;	/* the program header it came from, for messages (0: a.out kludge) */
};

/* The processor mode the guest starts in; the run code turns it into
 * register state (docs/loaders.md "Initial states"). */
enum loader_mode {
	LOADER_MODE_LONG64 = 1,	/* ELF64: 64-bit mode, identity-mapped paging */
	LOADER_MODE_PROT32,	/* multiboot: 32-bit protected, paging off */
};

/* Where the multiboot loader put its information (all guest-physical). */
struct mb_layout {
	gpa_t info;		/* the multiboot_info structure (EBX) */
	gpa_t mmap;		/* the memory map, mmap_len bytes */
	uint32_t mmap_len;
	gpa_t loader_name;	/* "hvlab" */
	gpa_t mods;		/* the module list (mods_count entries) */
	gpa_t cmdline;		/* "GUEST APPEND", as QEMU builds it */
	gpa_t modstr;		/* the module's string (0 without a module) */
	gpa_t module;		/* the module's bytes, page aligned */
	gpa_t end;		/* first byte after everything above but the info page */
	uint64_t module_size;
	uint32_t mods_count;
	uint32_t header_flags;	/* the kernel's multiboot header flags */
};

struct load_plan {
	unsigned nsegs;
	struct load_seg seg[LOADER_MAX_SEGS];
	enum loader_mode mode;
	/* The initial register state the format requires; rip is a
	 * guest-physical address (paging is off or identity-mapped). */
	uint64_t rip;
	uint64_t rax;
	uint64_t rbx;
	uint64_t rflags;
	uint64_t rsp;		/* 0: the format leaves the stack to the guest */
	struct mb_layout mb;	/* multiboot only */
};

/* How a loader reaches guest memory. Callbacks return 0 or -errno; the
 * loaders call them only for ranges inside guest RAM. */
struct guest_mem_ops {
	int (*write)(void *opaque, gpa_t gpa, const void *src, size_t len);
	int (*zero)(void *opaque, gpa_t gpa, size_t len);
	uint64_t ram_size;	/* bytes of guest RAM, laid out as loader_ram_contains() says */
};

/* Is [gpa, gpa+len) inside the guest RAM of a machine with ram_size bytes? */
int loader_ram_contains(uint64_t ram_size, gpa_t gpa, uint64_t len);

/* Write a plan's segments into guest memory. The plan must come from a
 * *_plan() call on the same image. */
int loader_place(const struct load_plan *plan, const void *img, size_t size,
		 const char *name, const struct guest_mem_ops *ops, void *opaque,
		 char *err, size_t errlen);

/* ELF64, x86-64, ET_EXEC: the PT_LOAD segments at p_paddr, started in
 * 64-bit mode at e_entry's physical address with rsp at the top of the
 * boot area, which no segment may overlap. */
int elf64_plan(const void *img, size_t size, const char *name, uint64_t ram_size,
	       struct load_plan *plan, char *err, size_t errlen);

/* ELF32, i386, ET_EXEC (the image format multiboot kernels use when they
 * do not set the a.out kludge). Fills plan->seg, plan->nsegs and plan->rip
 * only. */
int elf32_plan(const void *img, size_t size, const char *name, uint64_t ram_size,
	       struct load_plan *plan, char *err, size_t errlen);

/* What `hvlab run` hands the multiboot loader besides the kernel. */
struct mb_args {
	const char *append;	/* --append, or NULL */
	const void *initrd;	/* --initrd's bytes, or NULL for no module */
	size_t initrd_size;
	const char *initrd_str;	/* the module's string: --initrd's argument */
	bool amd_ht_hole;	/* reserve AMD's HyperTransport range in the map */
};

/* Does the image carry a multiboot header (magic and checksum) in its
 * first 8192 bytes? `hvlab run` loads such an image as multiboot and any
 * other as ELF64, as QEMU's -kernel does. */
int mb_has_header(const void *img, size_t size);

/* Is the multiboot magic in the first 8192 bytes (valid header or
 * not)? `hvlab run` loads a non-ELF image with the magic as multiboot,
 * so a bad checksum is reported as such. */
int mb_has_magic(const void *img, size_t size);

/* Find and check the multiboot header, plan the kernel's segments and
 * the information structure. */
int mb_plan(const void *img, size_t size, const char *name, const struct mb_args *args,
	    uint64_t ram_size, struct load_plan *plan, char *err, size_t errlen);

/* Write the kernel, the module and the multiboot information. */
int mb_place(const struct load_plan *plan, const void *img, size_t size, const char *name,
	     const struct mb_args *args, const struct guest_mem_ops *ops, void *opaque,
	     char *err, size_t errlen);

/* Internal to the loaders: one line into err, "NAME: message". Returns ret. */
int loader_err(char *err, size_t errlen, int ret, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Internal to the loaders: a size for messages ("4 MiB", "0x1800 bytes"). */
const char *loader_size_str(uint64_t size, char *buf, size_t len);

/* Internal to the loaders: checks plan->seg[0..nsegs) against RAM and
 * each other. */
int loader_check_segs(const struct load_plan *plan, uint64_t ram_size,
		      const char *name, char *err, size_t errlen);

/* Internal to the loaders: no segment may overlap [lo, hi), which holds
 * `what`. */
int loader_check_reserved(const struct load_plan *plan, gpa_t lo, gpa_t hi, const char *what,
			  const char *name, char *err, size_t errlen);

#endif
