/*
 * loader.c — what the image loaders share: the guest-RAM layout, the
 * segment checks every format needs, placing a plan through
 * struct guest_mem_ops, and the one-line error messages.
 *
 * Guest RAM follows QEMU's pc machine: below LOADER_LOWMEM_LIMIT all of it
 * sits at [0, ram_size); at or above it, the first LOADER_LOWMEM_SPLIT
 * bytes sit below 4 GiB and the rest at [4 GiB, ...), leaving the hole
 * where PCI and the firmware live.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "vmm/loader.h"

int loader_err(char *err, size_t errlen, int ret, const char *name, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		int n = snprintf(err, errlen, "%s: ", name ? name : "guest");
		if (n >= 0 && (size_t)n < errlen) {
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return ret;
}

const char *loader_size_str(uint64_t size, char *buf, size_t len)
{
	if (size && !(size & ((1ull << 30) - 1)))
		snprintf(buf, len, "%llu GiB", (unsigned long long)(size >> 30));
	else if (size && !(size & ((1ull << 20) - 1)))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(size >> 20));
	else if (size && !(size & ((1ull << 10) - 1)))
		snprintf(buf, len, "%llu KiB", (unsigned long long)(size >> 10));
	else
		snprintf(buf, len, "%#llx bytes", (unsigned long long)size);
	return buf;
}

static void ram_split(uint64_t ram_size, uint64_t *below, uint64_t *above)
{
	*below = ram_size < LOADER_LOWMEM_LIMIT ? ram_size : LOADER_LOWMEM_SPLIT;
	*above = ram_size - *below;
}

/* Overflow-safe: len may be anything, gpa + len is never formed unchecked. */
int loader_ram_contains(uint64_t ram_size, gpa_t gpa, uint64_t len)
{
	uint64_t below, above;
	ram_split(ram_size, &below, &above);
	if (gpa <= below && len <= below - gpa)
		return 1;
	return gpa >= LOADER_4G && gpa - LOADER_4G <= above && len <= above - (gpa - LOADER_4G);
}

static int ranges_overlap(gpa_t a, uint64_t alen, gpa_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/*
 * Every segment must lie in RAM (which also rules out gpa + size
 * wrapping: RAM ends below 2^64) and no two may overlap, since the later
 * one would silently overwrite the earlier.
 */
int loader_check_segs(const struct load_plan *plan, uint64_t ram_size,
		      const char *name, char *err, size_t errlen)
{
	char rs[32];
	for (unsigned i = 0; i < plan->nsegs; i++) {
		const struct load_seg *s = &plan->seg[i];
		uint64_t mem = s->filesz + s->zerosz;
		if (mem < s->filesz || !loader_ram_contains(ram_size, s->gpa, mem)) {
			loader_size_str(ram_size, rs, sizeof(rs));
			return loader_err(err, errlen, -ENOMEM, name,
					  "segment %u (%#llx bytes at %#llx) runs past the end of the %s of guest RAM; give more with --mem",
					  s->phdr, (unsigned long long)mem, (unsigned long long)s->gpa, rs);
		}
	}
	for (unsigned i = 0; i < plan->nsegs; i++)
		for (unsigned j = i + 1; j < plan->nsegs; j++) {
			const struct load_seg *a = &plan->seg[i], *b = &plan->seg[j];
			if (ranges_overlap(a->gpa, a->filesz + a->zerosz, b->gpa, b->filesz + b->zerosz)) {
				gpa_t at = a->gpa > b->gpa ? a->gpa : b->gpa;
				return loader_err(err, errlen, -ENOEXEC, name,
						  "segments %u and %u overlap at %#llx", a->phdr, b->phdr,
						  (unsigned long long)at);
			}
		}
	return 0;
}

int loader_check_reserved(const struct load_plan *plan, gpa_t lo, gpa_t hi, const char *what,
			  const char *name, char *err, size_t errlen)
{
	for (unsigned i = 0; i < plan->nsegs; i++) {
		const struct load_seg *s = &plan->seg[i];
		uint64_t mem = s->filesz + s->zerosz;
		if (ranges_overlap(s->gpa, mem, lo, hi - lo))
			return loader_err(err, errlen, -ENOEXEC, name,
					  "segment %u (%#llx bytes at %#llx) overlaps %s at %#llx-%#llx; link the kernel at 1 MiB or above",
					  s->phdr, (unsigned long long)mem, (unsigned long long)s->gpa, what,
					  (unsigned long long)lo, (unsigned long long)(hi - 1));
	}
	return 0;
}

int loader_place(const struct load_plan *plan, const void *img, size_t size,
		 const char *name, const struct guest_mem_ops *ops, void *opaque,
		 char *err, size_t errlen)
{
	if (!plan || !ops || !ops->write || !ops->zero || plan->nsegs > LOADER_MAX_SEGS)
		return loader_err(err, errlen, -EINVAL, name, "internal error: no plan or no guest memory to load into");
	for (unsigned i = 0; i < plan->nsegs; i++) {
		const struct load_seg *s = &plan->seg[i];
		uint64_t mem = s->filesz + s->zerosz;
		if (s->offset > size || s->filesz > size - s->offset || mem < s->filesz ||
		    !loader_ram_contains(ops->ram_size, s->gpa, mem) || mem > SIZE_MAX)
			return loader_err(err, errlen, -EINVAL, name,
					  "internal error: the load plan does not match the image or guest RAM");
	}
	for (unsigned i = 0; i < plan->nsegs; i++) {
		const struct load_seg *s = &plan->seg[i];
		int r;
		if (s->filesz && (r = ops->write(opaque, s->gpa, (const uint8_t *)img + s->offset, s->filesz)))
			return loader_err(err, errlen, r, name, "writing %#llx bytes at %#llx into guest RAM failed",
					  (unsigned long long)s->filesz, (unsigned long long)s->gpa);
		if (s->zerosz && (r = ops->zero(opaque, s->gpa + s->filesz, s->zerosz)))
			return loader_err(err, errlen, r, name, "clearing %#llx bytes at %#llx in guest RAM failed",
					  (unsigned long long)s->zerosz, (unsigned long long)(s->gpa + s->filesz));
	}
	return 0;
}
