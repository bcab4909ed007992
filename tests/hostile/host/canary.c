/*
 * canary.c — two VMs in one process: VM B, the canary
 * (tests/hostile/iso_canary.c: 2 MiB of a known pattern behind page
 * tables of its own), and VM A, a hostile guest, run to its end for each
 * image given and each backend x MMU strategy built in. After every A:
 *  - A ended as its test says (exit status, serial output = its .expect);
 *  - A's paging structures (EPT/NPT or shadow pages reachable from the
 *    roots its MMU loaded) are host pages, and every leaf maps A's own
 *    RAM (tdp: exactly the hpa of the gpa) — audit.c;
 *  - the hpas A was told about (iso_hpa.c asks on HPA_PORT) did not get
 *    the value A writes (TOUCH_WRITE_VALUE) where it wrote it;
 *  - B's RAM (hv_read_guest), registers, statistics and every host page
 *    of B (its VMCS/VMCB, MMU tables) are byte for byte as before A ran;
 *  - B then runs one more round over its pattern and finds it intact.
 * One line per case, then "canary: N passed, M failed". Exit status 0
 * when all passed, 1 when one failed, 2 on bad usage.
 *
 * usage: canary [--backend NAME] [--fault=canary|--fault=tables] CANARY.elf
 *               (GUEST.elf EXPECT STATUS)...
 *   --backend NAME  only this backend (default: every one built in)
 *   --fault=canary  write one byte on B's RAM after each case: the
 *                   case must then fail (shows B's check can fail)
 *   --fault=tables  point A's top table entry at hpa 0 for the audit at
 *                   A's end (put back before A is destroyed): the case
 *                   must then fail (shows the audit can fail)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hvlab/hv.h"
#include "tests/hostile/host/audit.h"
#include "vmm/dev.h"
#include "vmm/machine.h"

#define CANARY_PORT	0x5e4		/* tests/hostile/iso_canary.c */
#define CANARY_MAGIC	0xca4a4259u
#define CANARY_BAD	0x80000000u
#define HPA_PORT	0x5e0		/* tests/hostile/iso_hpa.c */
#define MAX_HPAS	48
#define TOUCH_WRITE_VALUE 0x5aa5c33cu	/* guests/touch.h */
#define TOUCH_OFFSET	0x7f8		/* where iso_hpa.c writes in a page */
#define B_MEM		(16ull << 20)
#define A_MEM		(64ull << 20)	/* as scripts/guests.sh */
#define A_MAX_INSNS	400000000ull
#define ST_STOP		1000		/* exit callback: B reached its OUT */

enum { ST_HALTED = 4, ST_SHUTDOWN = 6, ST_TIMEOUT = 8, ST_ERROR = 10 };	/* hvlab run's */

struct file {
	void *buf;
	size_t len;
};

static int read_file(const char *path, struct file *f)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	f->buf = NULL;
	if (!fp || fstat(fileno(fp), &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "canary: cannot read '%s'\n", path);
		if (fp)
			fclose(fp);
		return -1;
	}
	f->len = (size_t)st.st_size;
	f->buf = malloc(f->len + 1);
	if (!f->buf || fread(f->buf, 1, f->len, fp) != f->len) {
		fprintf(stderr, "canary: cannot read '%s'\n", path);
		fclose(fp);
		free(f->buf);
		return -1;
	}
	fclose(fp);
	return 0;
}

/* ------------------------------------------------------------ a machine */

struct mach {
	struct vmm v;
	char *out;		/* serial output (open_memstream) */
	size_t outlen;
	/* B */
	uint32_t round;		/* the value of B's last OUT */
	bool stopped;
	/* A: the hpa list (HPA_PORT) */
	hpa_t hpas[MAX_HPAS];
	uint32_t hpa_was[MAX_HPAS];	/* the dword at TOUCH_OFFSET when listed */
	unsigned nhpas, stream_pos;
	bool listed;
	char audit_err[200];
	bool audit_failed;
};

static void created(void *opaque, struct hv_vm *vm)
{
	(void)opaque;
	audit_track(vm);
}

static int mach_create(struct mach *m, const char *backend, const char *mmu, const char *name,
		       const struct file *img, uint64_t mem)
{
	char err[400];
	memset(m, 0, sizeof(*m));
	m->v.serial_out = open_memstream(&m->out, &m->outlen);
	const struct machine_cfg c = { .backend = backend, .mmu = mmu, .mem = mem, .smp = 1,
				       .name = name, .img = img->buf, .size = img->len,
				       .created = created };
	if (!m->v.serial_out || machine_create(&m->v, &c, err, sizeof(err))) {
		fprintf(stderr, "canary: %s on %s:%s: %s\n", name, backend, mmu,
			m->v.serial_out ? err : "out of memory");
		return -1;
	}
	return 0;
}

static void mach_destroy(struct mach *m)
{
	if (m->v.vm)
		audit_untrack(m->v.vm);
	machine_destroy(&m->v);
	if (m->v.serial_out)
		fclose(m->v.serial_out);
	free(m->out);
}

/* HPA_PORT: an OUT lists the tables A's MMU walks now; INs stream them. */
static void hpa_port(struct mach *m, struct hv_run *run)
{
	if (run->io.direction != HV_EXIT_IO_IN) {
		unsigned n = 0;
		hpa_t t[MAX_HPAS];
		if (audit_tables(m->v.vm, t, MAX_HPAS, &n, m->audit_err, sizeof(m->audit_err)))
			m->audit_failed = true;
		n = n < MAX_HPAS ? n : MAX_HPAS;
		m->nhpas = n;
		for (unsigned i = 0; i < n; i++) {
			m->hpas[i] = t[i];
			memcpy(&m->hpa_was[i], (uint8_t *)audit_hpa_ptr(m->v.vm, t[i]) + TOUCH_OFFSET, 4);
		}
		m->stream_pos = 0;
		m->listed = true;
		return;
	}
	uint32_t val = 0xffffffffu;
	const unsigned k = m->stream_pos++;
	if (k == 0)
		val = m->nhpas;
	else if (k <= 2 * m->nhpas)
		val = (uint32_t)(m->hpas[(k - 1) / 2] >> ((k - 1) % 2 ? 32 : 0));
	memcpy(run->io.data, &val, run->io.size < 4 ? run->io.size : 4);
}

static int exit_cb(void *opaque, struct hv_vcpu *vcpu, struct hv_run *run)
{
	struct mach *m = opaque;
	(void)vcpu;
	if (run->exit_reason == HV_EXIT_IO && run->io.port == CANARY_PORT && run->io.size == 4) {
		if (run->io.direction == HV_EXIT_IO_IN) {
			const uint32_t magic = CANARY_MAGIC;
			memcpy(run->io.data, &magic, 4);
			return 0;
		}
		memcpy(&m->round, run->io.data, 4);
		m->stopped = true;
		return ST_STOP;
	}
	if (run->exit_reason == HV_EXIT_IO && run->io.port == HPA_PORT && run->io.size == 4) {
		hpa_port(m, run);
		return 0;
	}
	if (machine_device_exit(&m->v, run))
		return ST_ERROR;
	return m->v.exit_requested ? m->v.exit_status : 0;
}

static uint64_t tick_cb(void *opaque)
{
	return vmm_tick(&((struct mach *)opaque)->v);
}

/* Run until the guest or the bound ends it: hvlab run's exit status. */
static int mach_run(struct mach *m, uint64_t max_insns)
{
	const struct hv_vm_run_ops ops = { .exit = exit_cb, .tick = tick_cb, .opaque = m };
	struct hv_vm_run run = { .mode = HV_SCHED_DETERMINISTIC, .max_insns = max_insns };
	m->stopped = false;
	if (hv_vm_run(m->v.vm, &run, &ops))
		return ST_ERROR;
	switch (run.exit_reason) {
	case HV_EXIT_VMM: return run.vmm_status;
	case HV_EXIT_DEADLINE: return ST_TIMEOUT;
	case HV_EXIT_HLT: return ST_HALTED;
	case HV_EXIT_SHUTDOWN: return ST_SHUTDOWN;
	default: return ST_ERROR;
	}
}

/* ------------------------------------------------------------ the canary */

struct canary_state {
	uint8_t *ram;
	struct hv_regs regs;
	struct hv_sregs sregs;
	struct hv_stat *stats;
	int nstats;
	struct host_snap host;
};

static int state_take(struct mach *b, struct canary_state *s)
{
	s->ram = malloc(B_MEM);
	s->nstats = hv_get_stats(b->v.vm, NULL, 0);
	s->stats = calloc((size_t)(s->nstats > 0 ? s->nstats : 1), sizeof(*s->stats));
	if (!s->ram || !s->stats || hv_read_guest(b->v.vm, 0, s->ram, B_MEM) ||
	    hv_get_regs(b->v.vcpu, &s->regs) || hv_get_sregs(b->v.vcpu, &s->sregs) ||
	    hv_get_stats(b->v.vm, s->stats, (size_t)s->nstats) != s->nstats ||
	    snap_take(b->v.vm, &s->host))
		return -1;
	return 0;
}

static void state_free(struct canary_state *s)
{
	free(s->ram);
	free(s->stats);
	snap_free(&s->host);
	memset(s, 0, sizeof(*s));
}

/* 0 when B is as @s recorded it; else one line in @why. */
static int state_compare(struct mach *b, const struct canary_state *s, char *why, size_t n)
{
	struct canary_state now = { 0 };
	int r = -1;
	now.ram = malloc(B_MEM);
	now.stats = calloc((size_t)(s->nstats > 0 ? s->nstats : 1), sizeof(*now.stats));
	if (!now.ram || !now.stats || hv_read_guest(b->v.vm, 0, now.ram, B_MEM)) {
		snprintf(why, n, "B: cannot read its RAM");
		goto out;
	}
	for (uint64_t i = 0; i < B_MEM; i++)
		if (now.ram[i] != s->ram[i]) {
			snprintf(why, n, "B's RAM changed at gpa %#llx", (unsigned long long)i);
			goto out;
		}
	if (hv_get_regs(b->v.vcpu, &now.regs) || memcmp(&now.regs, &s->regs, sizeof(now.regs))) {
		snprintf(why, n, "B's registers changed");
		goto out;
	}
	if (hv_get_sregs(b->v.vcpu, &now.sregs) ||
	    memcmp(&now.sregs, &s->sregs, sizeof(now.sregs))) {
		snprintf(why, n, "B's system registers changed");
		goto out;
	}
	if (hv_get_stats(b->v.vm, now.stats, (size_t)s->nstats) != s->nstats) {
		snprintf(why, n, "B's statistics changed in number");
		goto out;
	}
	for (int i = 0; i < s->nstats; i++)
		if (now.stats[i].value != s->stats[i].value) {
			snprintf(why, n, "B's statistic %s changed", s->stats[i].name);
			goto out;
		}
	char err[160];
	if (snap_compare(b->v.vm, &s->host, err, sizeof(err))) {
		snprintf(why, n, "B: %s", err);
		goto out;
	}
	r = 0;
out:
	free(now.ram);
	free(now.stats);
	return r;
}

/* One round of B: 0 when it stopped at its OUT with round @want intact. */
static int canary_round(struct mach *b, uint32_t want, char *why, size_t n)
{
	const int st = mach_run(b, 0);
	if (st != ST_STOP || !b->stopped) {
		snprintf(why, n, "B ended with status %d instead of its round %u", st, want);
		return -1;
	}
	if (b->round != want) {
		snprintf(why, n, "B: round %#x, expected %u%s", b->round, want,
			 b->round & CANARY_BAD ? " (its pattern changed)" : "");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ a case */

struct guest {
	const char *path, *expect;
	int status;
	struct file img, want;
	const char *name;
	char name_buf[64];
};

enum fault { FAULT_NONE, FAULT_CANARY, FAULT_TABLES };

/* --fault=tables: the first present entry of @root's table, pointed at
 * hpa 0 (*@saved: its value, to put back), or NULL. */
static uint64_t *break_table(struct hv_vm *vm, hpa_t root, uint64_t *saved)
{
	uint64_t *t = audit_hpa_ptr(vm, root);
	for (unsigned i = 0; i < 512; i++)
		if (t[i] & 7) {
			*saved = t[i];
			t[i] &= ~0x000ffffffffff000ull;
			return &t[i];
		}
	return NULL;
}

static int run_hostile(const char *backend, const char *mmu, struct guest *g, char *why,
		       size_t n, unsigned *nhpas, unsigned *ntables, enum fault fault)
{
	struct mach a;
	int r = -1;
	if (mach_create(&a, backend, mmu, g->name, &g->img, A_MEM)) {
		snprintf(why, n, "A: cannot build the machine");
		goto out;
	}
	const int st = mach_run(&a, A_MAX_INSNS);
	fflush(a.v.serial_out);
	*nhpas = a.nhpas;
	if (st != g->status) {
		snprintf(why, n, "A ended with status %d, expected %d", st, g->status);
		goto out;
	}
	if (a.outlen != g->want.len || memcmp(a.out, g->want.buf, a.outlen)) {
		snprintf(why, n, "A's serial output differs from %s", g->expect);
		goto out;
	}
	if (a.audit_failed) {
		snprintf(why, n, "A's tables when it asked for them: %s", a.audit_err);
		goto out;
	}
	hpa_t root[1];
	char err[200];
	uint64_t *broken = NULL, saved = 0;
	if (fault == FAULT_TABLES && !audit_tables(a.v.vm, root, 1, ntables, err, sizeof(err)) &&
	    *ntables)
		broken = break_table(a.v.vm, root[0], &saved);
	const int bad_tables = audit_tables(a.v.vm, root, 0, ntables, err, sizeof(err));
	if (broken)
		*broken = saved;
	if (bad_tables) {
		snprintf(why, n, "A's tables at its end: %s", err);
		goto out;
	}
	for (unsigned i = 0; i < a.nhpas; i++) {
		uint32_t now;
		if (audit_page_kind(a.v.vm, a.hpas[i]) != PAGE_HOST)
			continue;	/* freed since: nothing to compare */
		memcpy(&now, (uint8_t *)audit_hpa_ptr(a.v.vm, a.hpas[i]) + TOUCH_OFFSET, 4);
		if (now == TOUCH_WRITE_VALUE && a.hpa_was[i] != TOUCH_WRITE_VALUE) {
			snprintf(why, n, "A's write reached its table page at hpa %#llx",
				 (unsigned long long)a.hpas[i]);
			goto out;
		}
	}
	r = 0;
out:
	mach_destroy(&a);
	return r;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "dir/NAME.elf" -> "NAME" (in @buf). */
static const char *base_name(const char *p, char *buf, size_t n)
{
	const char *s = strrchr(p, '/');
	snprintf(buf, n, "%s", s ? s + 1 : p);
	char *dot = strrchr(buf, '.');
	if (dot && !strcmp(dot, ".elf"))
		*dot = 0;
	return buf;
}

/* Every guest under one backend x MMU: the number that failed. */
static unsigned run_combo(const char *backend, const char *mmu, const struct file *canary,
			  struct guest *g, unsigned ng, enum fault fault, unsigned *passed)
{
	struct mach b;
	struct canary_state s = { 0 };
	char why[300];
	unsigned failed = 0;
	uint32_t round = 0;

	if (mach_create(&b, backend, mmu, "iso_canary", canary, B_MEM) ||
	    canary_round(&b, round++, why, sizeof(why)) || state_take(&b, &s)) {
		printf("FAIL canary [%s:%s]: B did not start\n", backend, mmu);
		mach_destroy(&b);
		state_free(&s);
		return ng;
	}
	for (unsigned i = 0; i < ng; i++) {
		const double t0 = now_s();
		unsigned nhpas = 0, ntables = 0;
		int r = run_hostile(backend, mmu, &g[i], why, sizeof(why), &nhpas, &ntables, fault);
		if (fault == FAULT_CANARY) {
			uint8_t x;	/* the check must see this */
			hv_read_guest(b.v.vm, 9ull << 20, &x, 1);
			x ^= 0xa5;
			hv_write_guest(b.v.vm, 9ull << 20, &x, 1);
		}
		if (!r)
			r = state_compare(&b, &s, why, sizeof(why));
		state_free(&s);
		if (!r)
			r = canary_round(&b, round, why, sizeof(why));
		round++;
		if (state_take(&b, &s) && !r) {
			snprintf(why, sizeof(why), "B: cannot take its state");
			r = -1;
		}
		if (r) {
			printf("FAIL %s [%s:%s]: %s\n", g[i].name, backend, mmu, why);
			failed++;
		} else {
			printf("PASS %s [%s:%s] (status %d, %u tables audited, %u hpas given, "
			       "B intact, %.2f s)\n", g[i].name, backend, mmu, g[i].status, ntables,
			       nhpas, now_s() - t0);
			(*passed)++;
		}
		fflush(stdout);
	}
	state_free(&s);
	mach_destroy(&b);
	return failed;
}

int main(int argc, char **argv)
{
	enum fault fault = FAULT_NONE;
	const char *only = NULL;
	int a = 1;
	if (a + 1 < argc && !strcmp(argv[a], "--backend")) {
		only = argv[a + 1];
		a += 2;
	}
	if (a < argc && !strcmp(argv[a], "--fault=canary"))
		fault = FAULT_CANARY;
	else if (a < argc && !strcmp(argv[a], "--fault=tables"))
		fault = FAULT_TABLES;
	a += fault != FAULT_NONE;
	if (argc - a < 4 || (argc - a - 1) % 3) {
		fprintf(stderr, "usage: canary [--backend NAME] [--fault=canary|--fault=tables] "
			"CANARY.elf (GUEST.elf EXPECT STATUS)...\n");
		return 2;
	}
	struct file canary;
	if (read_file(argv[a++], &canary))
		return 2;
	const unsigned ng = (unsigned)(argc - a) / 3;
	struct guest *g = calloc(ng, sizeof(*g));
	if (!g)
		return 2;
	for (unsigned i = 0; i < ng; i++, a += 3) {
		char *end;
		g[i].path = argv[a];
		g[i].expect = argv[a + 1];
		g[i].name = base_name(argv[a], g[i].name_buf, sizeof(g[i].name_buf));
		errno = 0;
		const long st = strtol(argv[a + 2], &end, 10);
		if (errno || *end || end == argv[a + 2] || st < 0 || st > 255) {
			fprintf(stderr, "canary: status '%s' of %s: give 0 to 255\n", argv[a + 2],
				g[i].path);
			return 2;
		}
		g[i].status = (int)st;
		if (read_file(g[i].path, &g[i].img) || read_file(g[i].expect, &g[i].want))
			return 2;
	}

	char backends[64], mmus[128];
	snprintf(backends, sizeof(backends), "%s", hv_backends());
	snprintf(mmus, sizeof(mmus), "%s", hv_mmus());
	unsigned passed = 0, failed = 0;
	char *sb, *sm;
	if (only && !strstr(" vmx svm ", only)) {
		fprintf(stderr, "canary: --backend '%s': give one of: %s\n", only, hv_backends());
		return 2;
	}
	for (char *b = strtok_r(backends, " ", &sb); b; b = strtok_r(NULL, " ", &sb)) {
		char m_list[128];
		if (only && strcmp(b, only))
			continue;
		snprintf(m_list, sizeof(m_list), "%s", mmus);
		for (char *m = strtok_r(m_list, " ", &sm); m; m = strtok_r(NULL, " ", &sm))
			failed += run_combo(b, m, &canary, g, ng, fault, &passed);
	}
	printf("canary: %u passed, %u failed\n", passed, failed);
	for (unsigned i = 0; i < ng; i++) {
		free(g[i].img.buf);
		free(g[i].want.buf);
	}
	free(g);
	free(canary.buf);
	return failed ? 1 : 0;
}
