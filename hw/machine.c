/*
 * machine.c — a machine: its configuration, its host-physical memory
 * (the arena, ARCHITECTURE §3) and its processors.
 *
 * The arena is reserved with mmap(MAP_NORESERVE) and backed lazily, so a
 * large host-physical space costs only the pages touched. hpa 0 is the
 * arena's first byte. hw_hpa_ptr() is the only way from an hpa to a
 * pointer, and it refuses any range that leaves the arena.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hw/cpu.h"
#include "hw/dcode.h"

/* The Kconfig "Processor features" choices. */
static struct hw_features default_features(void)
{
	struct hw_features f = { 0 };
#ifdef CONFIG_HW_NX
	f.nx = true;
#endif
#ifdef CONFIG_HW_1G_PAGES
	f.page1gb = true;
#endif
#ifdef CONFIG_HW_PGE
	f.pge = true;
#endif
#ifdef CONFIG_HW_PCID
	f.pcid = true;
#endif
#ifdef CONFIG_HW_SMEP
	f.smep = true;
#endif
#ifdef CONFIG_HW_SMAP
	f.smap = true;
#endif
	return f;
}

void hw_machine_config_default(struct hw_machine_config *cfg, enum hw_vendor vendor)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vendor = vendor;
	cfg->arena_size = 256ull << 20;
	cfg->features = default_features();
	cfg->tlb = (struct hw_tlb_config){
		.entries_4k = CONFIG_HW_TLB_4K_ENTRIES, .ways_4k = CONFIG_HW_TLB_4K_WAYS,
		.entries_2m = CONFIG_HW_TLB_2M_ENTRIES, .ways_2m = CONFIG_HW_TLB_2M_WAYS,
		.entries_1g = CONFIG_HW_TLB_1G_ENTRIES, .ways_1g = CONFIG_HW_TLB_1G_WAYS,
		.psc_entries = CONFIG_HW_PSC_ENTRIES,
	};
	cfg->prices = (struct hw_prices){
		.cpi_milli = CONFIG_HW_PRICE_CPI_MILLI,
		.vmx_exit_entry = CONFIG_HW_PRICE_VMX_EXIT_ENTRY,
		.svm_exit_entry = CONFIG_HW_PRICE_SVM_EXIT_ENTRY,
		.walk_ref = CONFIG_HW_PRICE_WALK_REF,
		.walk_cache_hit = CONFIG_HW_PRICE_WALK_CACHE_HIT,
	};
}


uint64_t hw_cr4_valid(const struct hw_machine *m)
{
	const struct hw_features *f = &m->cfg.features;
	uint64_t v = HW_CR4_VALID;
	if (!f->pge)
		v &= ~(1ull << 7);
	if (!f->pcid)
		v &= ~(1ull << 17);
	if (!f->smep)
		v &= ~(1ull << 20);
	if (!f->smap)
		v &= ~(1ull << 21);
	return v;
}

static bool tlb_geometry_ok(unsigned entries, unsigned ways)
{
	if (!entries || !ways || entries % ways)
		return false;
	const unsigned sets = entries / ways;
	return (sets & (sets - 1)) == 0;
}

/* The arena's upper bound: 52-bit physical addresses, and a mapping the
 * host can reserve. */
#define HW_ARENA_MAX (1ull << 46)

int hw_machine_config_check(const struct hw_machine_config *cfg, const char **why)
{
	if (cfg->vendor != HW_VENDOR_INTEL && cfg->vendor != HW_VENDOR_AMD) {
		*why = "unknown processor vendor";
		return -EINVAL;
	}
	if (cfg->arena_size < (1u << 20) || cfg->arena_size > HW_ARENA_MAX ||
	    cfg->arena_size % HV_PAGE_SIZE) {
		*why = "host memory must be a multiple of 4 KiB between 1 MiB and 64 TiB";
		return -EINVAL;
	}
	const struct hw_tlb_config *t = &cfg->tlb;
	if (!tlb_geometry_ok(t->entries_4k, t->ways_4k) ||
	    !tlb_geometry_ok(t->entries_2m, t->ways_2m) ||
	    !tlb_geometry_ok(t->entries_1g, t->ways_1g) ||
	    t->ways_4k > 255 || t->ways_2m > 255 || t->ways_1g > 255) {
		*why = "TLB entries must be a multiple of the ways (at most 255) "
		       "with a power-of-two number of sets";
		return -EINVAL;
	}
	if (t->psc_entries > HW_PSC_MAX_ENTRIES) {
		*why = "a paging-structure cache has at most 1024 entries";
		return -EINVAL;
	}
	return 0;
}

int hw_machine_create(const struct hw_machine_config *cfg, struct hw_machine **out)
{
	const char *why;
	int r = hw_machine_config_check(cfg, &why);
	if (r)
		return r;
	struct hw_machine *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->arena_size = cfg->arena_size;
	void *p = mmap(NULL, m->arena_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		r = -ENOMEM;
		goto err_free;
	}
	m->arena = p;
	const uint64_t pages = m->arena_size >> HV_PAGE_SHIFT;
	m->code_pages = calloc((pages + 63) / 64, sizeof(uint64_t));
	if (!m->code_pages) {
		r = -ENOMEM;
		goto err_unmap;
	}
	*out = m;
	return 0;

err_unmap:
	munmap(m->arena, m->arena_size);
err_free:
	free(m);
	return r;
}

void hw_machine_destroy(struct hw_machine *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < HW_MAX_CPUS; i++)
		hw_cpu_destroy(m->cpus[i]);
	free(m->code_pages);
	munmap(m->arena, m->arena_size);
	free(m);
}

enum hw_vendor hw_machine_vendor(const struct hw_machine *m)
{
	return m->cfg.vendor;
}

uint64_t hw_arena_size(const struct hw_machine *m)
{
	return m->arena_size;
}

void *hw_hpa_ptr(struct hw_machine *m, hpa_t hpa, size_t len)
{
	if (hpa >= m->arena_size || len > m->arena_size - hpa)
		return NULL;
	return m->arena + hpa;
}

void hw_hpa_written(struct hw_machine *m, hpa_t hpa, size_t len)
{
	if (!len || hpa >= m->arena_size)
		return;
	uint64_t end = len > m->arena_size - hpa ? m->arena_size : hpa + len;
	for (uint64_t pfn = hpa >> HV_PAGE_SHIFT; pfn <= (end - 1) >> HV_PAGE_SHIFT; pfn++)
		hw_code_page_written(m, NULL, pfn);
}
