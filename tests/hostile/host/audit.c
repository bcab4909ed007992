/*
 * audit.c — see audit.h. The walk takes each recorded root at the level
 * the format gives it (EPT/NPT and 4-level shadow: a PML4; a PAE shadow
 * root: four PDPTEs), and follows present entries down: a non-leaf entry
 * must point at a host page, a leaf at guest RAM. Tables are visited once
 * per (hpa, level) (a set), so shared subtrees cost nothing twice.
 * shadow-cached's pool (mmu/pool.h) is walked whole as well: it caches
 * pages for guest tables no root reaches at the moment.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "core/vm.h"
#include "mmu/mmu.h"
#include "mmu/shadow/cached.h"
#include "mmu/tdp/tdp.h"
#include "tests/hostile/host/audit.h"

#define PG 4096ull
#define X86_P (1ull << 0)
#define X86_PS (1ull << 7)
#define X86_ADDR 0x000ffffffffff000ull	/* bits 51:12 */
#define EFER_LMA (1ull << 10)

/* ---------------------------------------------------------- page kinds */

static bool in_ram(struct hv_vm *vm, hpa_t hpa)
{
	for (unsigned i = 0; i < HV_MAX_SLOTS; i++) {
		const struct hv_memslot *s = &vm->slots[i];
		if (s->used && hpa >= s->hpa && hpa - s->hpa < s->npages * PG)
			return true;
	}
	return false;
}

enum page_kind audit_page_kind(struct hv_vm *vm, hpa_t hpa)
{
	const uint64_t pfn = hpa / PG;
	if (pfn == 0 || hpa >= vm->arena_size)
		return PAGE_OUTSIDE;
	if (in_ram(vm, hpa))
		return PAGE_RAM;
	enum page_kind k = PAGE_HOST;
	pthread_mutex_lock(&vm->alloc_lock);
	for (unsigned i = 0; i < vm->alloc.nfree; i++) {
		const struct arena_extent *e = &vm->alloc.free[i];
		if (pfn >= e->start && pfn - e->start < e->npages)
			k = PAGE_FREE;
	}
	pthread_mutex_unlock(&vm->alloc_lock);
	return k;
}

void *audit_hpa_ptr(struct hv_vm *vm, hpa_t hpa)
{
	return vm_hpa_ptr(vm, hpa);
}

/* ---------------------------------------------------------- roots */

struct tracked {
	struct hv_vm *vm;
	const struct hv_backend_ops *orig;
	struct hv_backend_ops ops;
	hpa_t root[HV_MAX_VCPUS];
	bool has_root[HV_MAX_VCPUS];
};

#define MAX_TRACKED 8
static struct tracked *tracked[MAX_TRACKED];
static pthread_mutex_t tracked_lock = PTHREAD_MUTEX_INITIALIZER;

static struct tracked *find(struct hv_vm *vm)
{
	struct tracked *t = NULL;
	pthread_mutex_lock(&tracked_lock);
	for (unsigned i = 0; i < MAX_TRACKED; i++)
		if (tracked[i] && tracked[i]->vm == vm)
			t = tracked[i];
	pthread_mutex_unlock(&tracked_lock);
	return t;
}

static void record(struct hv_vcpu *vcpu, hpa_t root)
{
	struct tracked *t = find(vcpu->vm);
	if (t && vcpu->id < HV_MAX_VCPUS) {
		t->root[vcpu->id] = root;
		t->has_root[vcpu->id] = true;
	}
}

static void track_tdp_root(struct hv_vcpu *vcpu, hpa_t root)
{
	record(vcpu, root);
	find(vcpu->vm)->orig->set_tdp_root(vcpu, root);
}

static void track_shadow_root(struct hv_vcpu *vcpu, hpa_t root)
{
	record(vcpu, root);
	find(vcpu->vm)->orig->set_shadow_root(vcpu, root);
}

int audit_track(struct hv_vm *vm)
{
	struct tracked *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->vm = vm;
	t->orig = vm->backend;
	t->ops = *vm->backend;
	if (t->ops.set_tdp_root)
		t->ops.set_tdp_root = track_tdp_root;
	if (t->ops.set_shadow_root)
		t->ops.set_shadow_root = track_shadow_root;
	pthread_mutex_lock(&tracked_lock);
	unsigned i = 0;
	while (i < MAX_TRACKED && tracked[i])
		i++;
	if (i < MAX_TRACKED)
		tracked[i] = t;
	pthread_mutex_unlock(&tracked_lock);
	if (i == MAX_TRACKED) {
		free(t);
		return -1;
	}
	vm->backend = &t->ops;
	return 0;
}

void audit_untrack(struct hv_vm *vm)
{
	struct tracked *t = find(vm);
	if (!t)
		return;
	vm->backend = t->orig;
	pthread_mutex_lock(&tracked_lock);
	for (unsigned i = 0; i < MAX_TRACKED; i++)
		if (tracked[i] == t)
			tracked[i] = NULL;
	pthread_mutex_unlock(&tracked_lock);
	free(t);
}

/* ---------------------------------------------------------- the walk */

/* What an entry format needs: present, leaf, address. */
struct fmt {
	uint64_t present, large, addr;
	bool tdp;		/* leaves must map exactly the gpa's hpa */
	unsigned root_level;	/* 4, or 3 for a PAE root (4 entries) */
};

struct walk {
	struct hv_vm *vm;
	struct fmt f;
	hpa_t *tables;
	unsigned max, n;
	/* visited (hpa | level) */
	uint64_t *seen;
	size_t cap, used;
	char *err;
	size_t errlen;
	bool bad;
};

static bool seen(struct walk *w, uint64_t key)
{
	if (w->used * 2 >= w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		uint64_t *n = calloc(cap, sizeof(*n)), *old = w->seen;
		if (!n)
			return true;	/* out of memory: stop descending */
		w->seen = n;
		const size_t oldcap = w->cap;
		w->cap = cap;
		w->used = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i])
				seen(w, old[i]);
		free(old);
	}
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (w->cap - 1);
	while (w->seen[i]) {
		if (w->seen[i] == key)
			return true;
		i = (i + 1) & (w->cap - 1);
	}
	w->seen[i] = key;
	w->used++;
	return false;
}

static void fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct walk *w, const char *fmt, ...)
{
	va_list ap;
	if (!w->bad) {
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
	w->bad = true;
}

static void walk_table(struct walk *w, hpa_t table, unsigned level, gpa_t base)
{
	if (w->bad || seen(w, table | level))
		return;
	if (audit_page_kind(w->vm, table) != PAGE_HOST) {
		fail(w, "a level-%u table at hpa %#llx (gpa %#llx) is not a host page", level,
		     (unsigned long long)table, (unsigned long long)base);
		return;
	}
	if (w->n < w->max)
		w->tables[w->n] = table;
	w->n++;
	const uint64_t *t = vm_hpa_ptr(w->vm, table);
	const unsigned entries = level == w->f.root_level && level == 3 ? 4 : 512;
	const unsigned shift = 12 + 9 * (level - 1);
	for (unsigned i = 0; i < entries && !w->bad; i++) {
		const uint64_t e = t[i];
		if (!(e & w->f.present))
			continue;
		const gpa_t gpa = base + ((uint64_t)i << shift);
		const bool pae_pdpte = level == 3 && w->f.root_level == 3;
		const bool leaf = level == 1 || (level <= 3 && !pae_pdpte && (e & w->f.large));
		if (!leaf) {
			walk_table(w, e & w->f.addr, level - 1, gpa);
			continue;
		}
		const uint64_t size = 1ull << shift;
		const hpa_t hpa = e & w->f.addr & ~(size - 1);
		if (!in_ram(w->vm, hpa) || !in_ram(w->vm, hpa + size - 1)) {
			fail(w, "a level-%u leaf for %#llx maps hpa %#llx, not guest RAM", level,
			     (unsigned long long)gpa, (unsigned long long)hpa);
			return;
		}
		if (w->f.tdp) {
			const struct hv_memslot *s = vm_slot_of(w->vm, gpa / PG);
			if (!s || slot_gfn_to_hpa(s, gpa / PG) != hpa)
				fail(w, "the level-%u leaf for gpa %#llx maps hpa %#llx, not its own",
				     level, (unsigned long long)gpa, (unsigned long long)hpa);
		}
	}
}

int audit_tables(struct hv_vm *vm, hpa_t *tables, unsigned max, unsigned *n, char *err,
		 size_t errlen)
{
	struct tracked *t = find(vm);
	struct walk w = { .vm = vm, .tables = tables, .max = max, .err = err, .errlen = errlen };
	*n = 0;
	if (!t) {
		snprintf(err, errlen, "the VM's roots are not tracked");
		return -1;
	}
	pthread_mutex_lock(&vm->mmu_lock);
	for (unsigned i = 0; i < vm->nvcpus && !w.bad; i++) {
		struct hv_vcpu *vcpu = vm->vcpus[i];
		if (!vcpu || !t->has_root[vcpu->id])
			continue;
		if (vm->mmu->style == HV_MMU_TDP) {
			const struct tdp_format *f = vm->backend->tdp_format(vm);
			w.f = (struct fmt){ .present = f->present_mask, .large = f->large,
					    .addr = f->addr_mask, .tdp = true, .root_level = 4 };
		} else {
			struct hv_sregs sr;
			hv_get_sregs(vcpu, &sr);
			w.f = (struct fmt){ .present = X86_P, .large = X86_PS, .addr = X86_ADDR,
					    .root_level = sr.efer & EFER_LMA ? 4 : 3 };
		}
		walk_table(&w, t->root[vcpu->id], w.f.root_level, 0);
	}
	/* shadow-cached keeps pages no root reaches now (mmu/pool.h): every
	 * one of them, and what it points at, must hold too. */
	if (!w.bad && !strcmp(vm->mmu->name, "shadow-cached") && vm->scached) {
		w.f = (struct fmt){ .present = X86_P, .large = X86_PS, .addr = X86_ADDR,
				    .root_level = 4 };
		for (struct shadow_page *sp = vm->scached->pool.lru_first; sp && !w.bad;
		     sp = sp->lru_next)
			walk_table(&w, sp->hpa, sp->role.level, 0);
	}
	pthread_mutex_unlock(&vm->mmu_lock);
	free(w.seen);
	*n = w.n;
	return w.bad ? -1 : 0;
}

/* ---------------------------------------------------------- snapshots */

int snap_take(struct hv_vm *vm, struct host_snap *s)
{
	const uint64_t pages = vm->arena_size / PG;
	*s = (struct host_snap){ 0 };
	for (uint64_t p = 1; p < pages; p++)
		if (audit_page_kind(vm, p * PG) == PAGE_HOST)
			s->npages++;
	s->hpa = malloc((s->npages ? s->npages : 1) * sizeof(*s->hpa));
	s->bytes = malloc((s->npages ? s->npages : 1) * PG);
	if (!s->hpa || !s->bytes) {
		snap_free(s);
		return -1;
	}
	uint64_t k = 0;
	for (uint64_t p = 1; p < pages && k < s->npages; p++)
		if (audit_page_kind(vm, p * PG) == PAGE_HOST) {
			s->hpa[k] = p * PG;
			memcpy(s->bytes + k * PG, vm_hpa_ptr(vm, p * PG), PG);
			k++;
		}
	return 0;
}

int snap_compare(struct hv_vm *vm, const struct host_snap *s, char *err, size_t errlen)
{
	struct host_snap now;
	if (snap_take(vm, &now)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int r = 0;
	if (now.npages != s->npages) {
		snprintf(err, errlen, "%llu host pages, %llu before",
			 (unsigned long long)now.npages, (unsigned long long)s->npages);
		r = -1;
	}
	for (uint64_t k = 0; !r && k < s->npages; k++) {
		if (now.hpa[k] != s->hpa[k]) {
			snprintf(err, errlen, "host page %#llx is new",
				 (unsigned long long)now.hpa[k]);
			r = -1;
		} else if (memcmp(now.bytes + k * PG, s->bytes + k * PG, PG)) {
			snprintf(err, errlen, "host page %#llx changed",
				 (unsigned long long)s->hpa[k]);
			r = -1;
		}
	}
	snap_free(&now);
	return r;
}

void snap_free(struct host_snap *s)
{
	free(s->hpa);
	free(s->bytes);
	*s = (struct host_snap){ 0 };
}
