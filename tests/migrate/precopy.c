/*
 * precopy.c — dirty logging without loss (issue 8): a pre-copy live
 * migration, as a VMM's migration thread makes one with KVM_GET_DIRTY_LOG
 * (hv_get_dirty_log) while KVM_RUN goes on, checked byte for byte.
 *
 *   round 0       before the guest runs: fetch the log (the host's own
 *                 writes: exactly the parameter, code and page-table
 *                 pages) and copy the whole slot
 *   rounds 1..N   while the guest writes (guest.S): fetch the log, copy
 *                 each page it names with hv_read_guest
 *   stop          the vcpus stop (the heartbeat exit returns non-zero)
 *   final round   fetch the log, copy what it names; the copy must now
 *                 equal guest memory byte for byte
 *
 * Every round but 0 must name at least one page and no page the guest
 * never writes (guard, code, parameters, unused pages: machine.h,
 * mg_guest_may_write) — a log that is "everything" or that invents pages
 * fails. A page the log misses shows as a difference at the end, unless
 * the guest happened to write it again later and so had it logged.
 *
 * Where the copying happens, per schedule:
 *   det       HV_SCHED_DETERMINISTIC; a round at every heartbeat, from
 *             the exit callback (the only place a deterministic run
 *             lets the VMM in: no vcpu is in the guest then)
 *   par       HV_SCHED_PARALLEL; a migration thread of the test makes
 *             the rounds while every vcpu runs on its own thread — the
 *             concurrent case hv.h documents for hv_get_dirty_log
 *   par-exit  HV_SCHED_PARALLEL; rounds from the exit callback of the
 *             vcpu that beats, while the other vcpus run on
 * In the parallel schedules a round starts only once some vcpu has
 * written since the last one ended (a heartbeat from a vcpu whose
 * previous exit returned after that round: 'epoch' below), so each
 * round must find a page; in det each heartbeat follows writes.
 *
 * Output: one line per case (backend, MMU, schedule, vcpus) and
 * "precopy: N passed, M failed". Options restrict the cases; bad ones
 * give one line and exit status 2.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hvlab/hv.h"
#include "tests/migrate/layout.h"
#include "tests/migrate/machine.h"

#define NPAGES (MG_SLOT_SIZE >> 12)
#define BITMAP_BYTES ((NPAGES + 7) / 8)
#define MAX_ROUNDS 64
/* A bound that only a lost stop would reach: a vcpu retires about 40
 * instructions per write, a round takes a few thousand writes. */
#define MAX_INSNS 400000000ull

enum sched { SCHED_DET, SCHED_PAR, SCHED_PAR_EXIT };
static const char *const sched_names[] = { "det", "par", "par-exit" };

struct mig {
	struct mg_machine m;
	enum sched sched;
	unsigned nrounds;		/* rounds 1..nrounds while running */
	uint8_t *copy;			/* the destination's memory */
	uint8_t bitmap[BITMAP_BYTES];
	uint64_t count[MAX_ROUNDS + 2];	/* pages per round, 0..nrounds+1 */
	pthread_mutex_t lock;		/* one round at a time */
	atomic_uint epoch;		/* rounds completed */
	atomic_uint fresh;		/* k: writes newer than round k-1 exist */
	atomic_uint ret_epoch[MG_MAX_VCPUS];	/* epoch when v last left ops->exit */
	atomic_bool running;		/* hv_vm_run has not returned */
	atomic_uint beats[MG_MAX_VCPUS];	/* heartbeats per vcpu */
	atomic_bool failed;
	char why[256];			/* the first failure */
};

static void fail(struct mig *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct mig *g, const char *fmt, ...)
{
	bool was = false;
	if (!atomic_compare_exchange_strong(&g->failed, &was, true))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->why, sizeof(g->why), fmt, ap);
	va_end(ap);
}

/*
 * Round @k: fetch the log, check it, copy what it names (round 0: the
 * whole slot). Caller holds g->lock or is the only thread.
 */
static void round_copy(struct mig *g, unsigned k)
{
	struct hv_vm *vm = g->m.vm;
	uint64_t n = 0;

	if (hv_get_dirty_log(vm, MG_SLOT, g->bitmap, sizeof(g->bitmap))) {
		fail(g, "round %u: hv_get_dirty_log: %s", k, hv_strerror());
		return;
	}
	for (uint64_t gfn = 0; gfn < NPAGES; gfn++) {
		if (!(g->bitmap[gfn / 8] & (1u << (gfn % 8))))
			continue;
		n++;
		if (k && !mg_guest_may_write(&g->m, gfn))
			fail(g, "round %u: page %#llx reported dirty, but the guest never writes it",
			     k, (unsigned long long)gfn);
		if (k && hv_read_guest(vm, gfn << 12, g->copy + (gfn << 12), 4096))
			fail(g, "round %u: hv_read_guest %#llx: %s", k,
			     (unsigned long long)(gfn << 12), hv_strerror());
	}
	if (!k && hv_read_guest(vm, 0, g->copy, MG_SLOT_SIZE))
		fail(g, "round 0: hv_read_guest: %s", hv_strerror());
	g->count[k] = n;
	if (k && k <= g->nrounds && !n)
		fail(g, "round %u: no dirty page, though the guest wrote since round %u", k, k - 1);
	/* A deterministic round follows at most MG_BEAT_EVERY writes per
	 * vcpu: fewer pages than the data region holds, always the same. */
	if (k && g->sched == SCHED_DET && n >= MG_DATA_PAGES)
		fail(g, "round %u: %llu dirty pages, as many as the data region holds: the log "
		     "names pages nobody wrote", k, (unsigned long long)n);
}

/* A heartbeat of @v: in det and par-exit, make the next round here if
 * there are writes it has not seen; in par, tell the migration thread. */
static void beat(struct mig *g, unsigned v)
{
	const unsigned e = atomic_load(&g->epoch);
	const bool fresh = g->sched == SCHED_DET || atomic_load(&g->ret_epoch[v]) == e;

	if (!fresh || e >= g->nrounds)
		return;
	if (g->sched == SCHED_PAR) {
		unsigned f = atomic_load(&g->fresh);
		while (f < e + 1 && !atomic_compare_exchange_weak(&g->fresh, &f, e + 1))
			;
		return;
	}
	if (pthread_mutex_trylock(&g->lock))
		return;		/* another vcpu is making a round */
	if (atomic_load(&g->epoch) == e) {
		round_copy(g, e + 1);
		atomic_store(&g->epoch, e + 1);
	}
	pthread_mutex_unlock(&g->lock);
}

static int on_exit_cb(void *opaque, struct hv_vcpu *vcpu, struct hv_run *run)
{
	struct mig *g = opaque;
	(void)vcpu;
	if (run->exit_reason != HV_EXIT_IO || run->io.port != MG_BEAT_PORT ||
	    run->io.direction != HV_EXIT_IO_OUT || run->io.size != 4) {
		fail(g, "unexpected exit %u (port %#x)", run->exit_reason, run->io.port);
		return 2;
	}
	uint32_t v;
	memcpy(&v, run->io.data, sizeof(v));
	if (v >= g->m.nvcpus) {
		fail(g, "heartbeat from APIC ID %u", v);
		return 2;
	}
	atomic_fetch_add(&g->beats[v], 1);
	/* The beat after the last round stops the VM: the guest has written
	 * since that round, so the final one has work to do. */
	if (atomic_load(&g->epoch) >= g->nrounds || atomic_load(&g->failed))
		return 1;
	beat(g, v);
	atomic_store(&g->ret_epoch[v], atomic_load(&g->epoch));
	return 0;
}

/* par: the migration thread. */
static void *migrate_thread(void *arg)
{
	struct mig *g = arg;
	const struct timespec nap = { .tv_nsec = 50000 };

	for (unsigned k = 1; k <= g->nrounds && !atomic_load(&g->failed); k++) {
		while (atomic_load(&g->fresh) < k && atomic_load(&g->running))
			nanosleep(&nap, NULL);
		if (atomic_load(&g->fresh) < k) {
			fail(g, "the VM stopped before round %u", k);
			break;
		}
		round_copy(g, k);
		atomic_store(&g->epoch, k);
	}
	return NULL;
}

static void run_vm(struct mig *g)
{
	const struct hv_vm_run_ops ops = { .exit = on_exit_cb, .opaque = g };
	struct hv_vm_run run = { .mode = g->sched == SCHED_DET ? HV_SCHED_DETERMINISTIC
							       : HV_SCHED_PARALLEL,
				 .max_insns = MAX_INSNS };
	pthread_t t;
	bool thread = false;

	atomic_store(&g->running, true);
	if (g->sched == SCHED_PAR) {
		if (pthread_create(&t, NULL, migrate_thread, g)) {
			fail(g, "cannot start the migration thread");
			return;
		}
		thread = true;
	}
	const int r = hv_vm_run(g->m.vm, &run, &ops);
	atomic_store(&g->running, false);
	if (thread)
		pthread_join(t, NULL);
	for (unsigned v = 0; v < g->m.nvcpus; v++)
		if (!atomic_load(&g->beats[v]))
			fail(g, "vcpu %u never ran its loop", v);
	if (r)
		fail(g, "hv_vm_run: %s", hv_strerror());
	else if (run.exit_reason != HV_EXIT_VMM || run.vmm_status != 1)
		fail(g, "the VM stopped with exit reason %u (vcpu %u, status %d), not at "
		     "the end of the rounds", run.exit_reason, run.vcpu_id, run.vmm_status);
}

/* The VM's counter @name (0 if there is none). */
static uint64_t counter(struct hv_vm *vm, const char *name)
{
	struct hv_stat st[256];
	const int n = hv_get_stats(vm, st, 256);
	for (int i = 0; i < n && i < 256; i++)
		if (!strcmp(st[i].name, name))
			return st[i].value;
	return 0;
}

/* The copy against guest memory; the first difference in @g->why. */
static void compare(struct mig *g)
{
	uint8_t *now = malloc(MG_SLOT_SIZE);
	if (!now) {
		fail(g, "out of memory");
		return;
	}
	if (hv_read_guest(g->m.vm, 0, now, MG_SLOT_SIZE)) {
		fail(g, "hv_read_guest: %s", hv_strerror());
	} else {
		unsigned bad = 0;
		uint64_t first = 0;
		for (uint64_t gfn = 0; gfn < NPAGES; gfn++) {
			if (!memcmp(now + (gfn << 12), g->copy + (gfn << 12), 4096))
				continue;
			if (!bad++)
				first = gfn;
		}
		if (bad)
			fail(g, "%u page(s) of the copy differ from guest memory, the first "
			     "at gpa %#llx: writes the dirty log lost", bad,
			     (unsigned long long)(first << 12));
	}
	free(now);
}

struct cfg {
	const char *backend, *mmu;
	int sched;		/* -1: all */
	unsigned vcpus;		/* 0: 1 and 4 */
	unsigned rounds;
	uint64_t seed;
};

/* One case; true if it passed. */
static bool run_case(const struct cfg *c, const char *backend, const char *mmu, enum sched s,
		     unsigned nvcpus)
{
	struct mig *g = calloc(1, sizeof(*g));
	char label[96];
	bool ok = false;

	snprintf(label, sizeof(label), "%s %s %s x%u", backend, mmu, sched_names[s], nvcpus);
	if (!g || !(g->copy = malloc(MG_SLOT_SIZE))) {
		printf("FAIL %s: out of memory\n", label);
		if (g)
			free(g);
		return false;
	}
	g->sched = s;
	g->nrounds = c->rounds;
	pthread_mutex_init(&g->lock, NULL);
	if (mg_machine_create(&g->m, backend, mmu, nvcpus, c->seed, g->why, sizeof(g->why))) {
		atomic_store(&g->failed, true);
		goto out;
	}
	round_copy(g, 0);
	if (g->count[0] != 2 + MG_PT_PAGES * nvcpus)
		fail(g, "round 0: %llu dirty pages, the host wrote %u", (unsigned long long)g->count[0],
		     2 + MG_PT_PAGES * nvcpus);
	if (!atomic_load(&g->failed))
		run_vm(g);
	if (!atomic_load(&g->failed))
		round_copy(g, c->rounds + 1);
	if (!atomic_load(&g->failed))
		compare(g);
	ok = !atomic_load(&g->failed);
out:
	if (ok) {
		uint64_t lo = UINT64_MAX, hi = 0;
		for (unsigned k = 1; k <= c->rounds; k++) {
			lo = g->count[k] < lo ? g->count[k] : lo;
			hi = g->count[k] > hi ? g->count[k] : hi;
		}
		struct hv_vm *vm = g->m.vm;
		printf("ok   %s: %u rounds of %llu..%llu dirty pages, final %llu, %u pages equal "
		       "(pf_fixed %llu, remote_tlb_flush %llu, mmu_recycled %llu)\n", label,
		       c->rounds, (unsigned long long)lo, (unsigned long long)hi,
		       (unsigned long long)g->count[c->rounds + 1], NPAGES,
		       (unsigned long long)counter(vm, "pf_fixed"),
		       (unsigned long long)counter(vm, "remote_tlb_flush"),
		       (unsigned long long)counter(vm, "mmu_recycled"));
	} else {
		printf("FAIL %s: %s\n", label, g->why);
	}
	fflush(stdout);
	mg_machine_destroy(&g->m);
	pthread_mutex_destroy(&g->lock);
	free(g->copy);
	free(g);
	return ok;
}

/* Is @name one of the space-separated @list? */
static bool in_list(const char *list, const char *name)
{
	const size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static int usage_error(const char *msg, const char *arg, const char *choices)
{
	fprintf(stderr, "precopy: %s '%s'; %s\n", msg, arg, choices);
	return 2;
}

#define USAGE "usage: precopy [-b BACKEND] [-m MMU] [-S det|par|par-exit] [-v 1..4] " \
	      "[-r 1..64] [-s SEED]"

static bool parse_uint(const char *s, unsigned long long *out)
{
	char *end;
	if (!*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && !*end;
}

int main(int argc, char **argv)
{
	struct cfg c = { .sched = -1, .rounds = 8, .seed = 0x5eed };
	unsigned long long n;
	int opt;
	char backends[128], mmus[128];

	snprintf(backends, sizeof(backends), "built in: %s", hv_backends());
	snprintf(mmus, sizeof(mmus), "built in: %s", hv_mmus());
	opterr = 0;

	while ((opt = getopt(argc, argv, "b:m:S:v:r:s:")) != -1) {
		switch (opt) {
		case 'b':
			if (!in_list(hv_backends(), optarg))
				return usage_error("no such backend", optarg, backends);
			c.backend = optarg;
			break;
		case 'm':
			if (!in_list(hv_mmus(), optarg))
				return usage_error("no such MMU strategy", optarg, mmus);
			c.mmu = optarg;
			break;
		case 'S':
			c.sched = !strcmp(optarg, "det") ? SCHED_DET : !strcmp(optarg, "par") ? SCHED_PAR
				: !strcmp(optarg, "par-exit") ? SCHED_PAR_EXIT : -2;
			if (c.sched == -2)
				return usage_error("no such schedule", optarg,
						   "schedules: det par par-exit");
			break;
		case 'v':
			if (!parse_uint(optarg, &n) || n < 1 || n > MG_MAX_VCPUS)
				return usage_error("bad vcpu count", optarg, "vcpus: 1 to 4");
			c.vcpus = (unsigned)n;
			break;
		case 'r':
			if (!parse_uint(optarg, &n) || n < 1 || n > MAX_ROUNDS)
				return usage_error("bad round count", optarg, "rounds: 1 to 64");
			c.rounds = (unsigned)n;
			break;
		case 's':
			if (!parse_uint(optarg, &n))
				return usage_error("bad seed", optarg, "a seed is a number");
			c.seed = n;
			break;
		default:
			if (optopt && strchr("bmSvrs", optopt))
				return usage_error("no value after", argv[optind - 1], USAGE);
			return usage_error("bad option", argv[optind - 1], USAGE);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind], USAGE);

	unsigned passed = 0, failed = 0;
	snprintf(backends, sizeof(backends), "%s", hv_backends());
	snprintf(mmus, sizeof(mmus), "%s", hv_mmus());
	for (char *bs, *b = strtok_r(backends, " ", &bs); b; b = strtok_r(NULL, " ", &bs)) {
		if (c.backend && strcmp(b, c.backend))
			continue;
		char list[128];
		snprintf(list, sizeof(list), "%s", mmus);
		for (char *ms, *m = strtok_r(list, " ", &ms); m; m = strtok_r(NULL, " ", &ms)) {
			if (c.mmu && strcmp(m, c.mmu))
				continue;
			/* det and par with 1 and 4 vcpus; par-exit needs other
			 * vcpus running, so 4 only unless asked. */
			for (int s = SCHED_DET; s <= SCHED_PAR_EXIT; s++) {
				if (c.sched >= 0 && s != c.sched)
					continue;
				const unsigned counts[2] = { 1, MG_MAX_VCPUS };
				for (unsigned i = 0; i < 2; i++) {
					unsigned nv = c.vcpus ? c.vcpus : counts[i];
					if ((c.vcpus && i) || (!c.vcpus && s == SCHED_PAR_EXIT && nv == 1))
						continue;
					if (run_case(&c, b, m, (enum sched)s, nv))
						passed++;
					else
						failed++;
				}
			}
		}
	}
	printf("precopy: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
