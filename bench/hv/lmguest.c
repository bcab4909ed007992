/*
 * lmguest.c — see lmguest.h. The page tables use 2 MiB guest pages
 * (SDM Vol. 3A 4.5.4, PDE with PS = 1) so that the guest's own walks
 * touch three table pages in all: the benchmarks measure the tdp side,
 * and guest page-table pages first touched inside a timed loop would
 * add tdp faults that are not the workload's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench/hv/lmguest.h"

#define GPT_PML4 0x1000ull
#define GPT_PDPT 0x2000ull
#define GPT_PD 0x3000ull
#define GPT_GDT 0x4000ull

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PDE_PS (1ull << 7)

static int write_tables(struct hv_vm *vm)
{
	/* SDM Vol. 3A 3.4.5: 64-bit code (L = 1, D = 0, type 0xa, S, P,
	 * G) and writable data (type 0x2), both DPL 0. */
	static const uint64_t gdt[3] = { 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull };
	uint64_t t[512] = { GPT_PDPT | PTE_P | PTE_W };
	int r;

	if ((r = hv_write_guest(vm, GPT_GDT, gdt, sizeof(gdt))) ||
	    (r = hv_write_guest(vm, GPT_PML4, t, sizeof(t))))
		return r;
	t[0] = GPT_PD | PTE_P | PTE_W;
	if ((r = hv_write_guest(vm, GPT_PDPT, t, sizeof(t))))
		return r;
	for (unsigned i = 0; i < 512; i++)
		t[i] = ((uint64_t)i << 21) | PDE_PS | PTE_P | PTE_W;
	return hv_write_guest(vm, GPT_PD, t, sizeof(t));
}

static struct hv_segment flat(uint16_t sel, uint8_t type, uint8_t l)
{
	return (struct hv_segment){ .limit = 0xffffffff, .selector = sel, .type = type,
				    .present = 1, .s = 1, .g = 1, .l = l, .db = !l };
}

static int set_long_mode(struct hv_vcpu *vcpu)
{
	struct hv_sregs s;
	int r = hv_get_sregs(vcpu, &s);
	if (r)
		return r;
	s.cs = flat(0x08, 0xb, 1);		/* accessed execute/read code */
	s.ds = s.es = s.fs = s.gs = s.ss = flat(0x10, 0x3, 0);
	s.ldt = (struct hv_segment){ .unusable = 1, .type = 2 };
	s.tr = (struct hv_segment){ .limit = 0x67, .type = 11, .present = 1 };
	s.gdt = (struct hv_dtable){ GPT_GDT, 0x17 };
	s.idt = (struct hv_dtable){ 0, 0 };
	s.cr0 = 0x80010031;	/* PG, WP, NE, ET, PE */
	s.cr3 = GPT_PML4;
	s.cr4 = 0x20;		/* PAE */
	s.efer = 0x500;		/* LMA, LME */
	if ((r = hv_set_sregs(vcpu, &s)))
		return r;
	const struct hv_regs g = { .rip = BHV_CODE, .rflags = 2 };	/* IF = 0 */
	return hv_set_regs(vcpu, &g);
}

int bhv_guest_create(struct bhv_guest *g, const char *backend, uint64_t max_mem)
{
	const struct hv_vm_config cfg = { .backend = backend, .mmu = "tdp",
					  .max_mem = max_mem < BHV_LOW_SIZE ? BHV_LOW_SIZE
									    : max_mem };
	const struct hv_memory_region low = { .slot = 0, .gpa = 0, .size = BHV_LOW_SIZE };
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = hv_vm_create(&cfg, &g->vm)))
		return r;
	if ((r = hv_set_memory_region(g->vm, &low)) || (r = write_tables(g->vm)) ||
	    (r = hv_vcpu_create(g->vm, 0, &g->vcpu)) || (r = set_long_mode(g->vcpu))) {
		bhv_guest_destroy(g);
		return r;
	}
	return 0;
}

void bhv_guest_destroy(struct bhv_guest *g)
{
	hv_vm_destroy(g->vm);
	memset(g, 0, sizeof(*g));
}

int bhv_guest_load(struct bhv_guest *g, const void *code, size_t len)
{
	return hv_write_guest(g->vm, BHV_CODE, code, len);
}

int bhv_stats(struct hv_vm *vm, const char *const *names, unsigned k, uint64_t *out)
{
	const int n = hv_get_stats(vm, NULL, 0);
	if (n < 0)
		return n;
	struct hv_stat *s = calloc((size_t)n + 1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	const int got = hv_get_stats(vm, s, (size_t)n);
	int r = got < 0 ? got : 0;
	for (unsigned j = 0; j < k && !r; j++) {
		int i = 0;
		while (i < got && i < n && strcmp(s[i].name, names[j]))
			i++;
		if (i == got || i == n)
			r = -ENOENT;
		else
			out[j] = s[i].value;
	}
	free(s);
	return r;
}
