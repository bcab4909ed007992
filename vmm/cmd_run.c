/*
 * cmd_run.c — `hvlab run [options] GUEST`: load a multiboot or ELF64
 * kernel as QEMU's `-kernel` does, attach the pc machine's devices
 * (vmm/dev.h), run it and print statistics (docs/run.md).
 *
 * Exit status: the guest's through isa-debug-exit ((v << 1) | 1, always
 * odd, as QEMU's device gives it), or one of these even values:
 *   0   never returned for a guest run (a guest cannot "succeed" silently)
 *   2   bad command line, image or option value (one line on stderr)
 *   4   the guest halted with nothing left that could wake it
 *   6   triple fault (shutdown), as QEMU with -no-reboot
 *   8   --max-insns reached
 *   10  hvlab could not go on (internal error, failed entry): one line
 *   12  interrupted (SIGINT/SIGTERM)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hvlab/hv.h"
#include "vmm/boot.h"
#include "vmm/cmd.h"
#include "vmm/dev.h"
#include "vmm/loader.h"
#include "vmm/machine.h"
#include "vmm/stats_out.h"

enum {
	ST_USAGE = 2, ST_HALTED = 4, ST_SHUTDOWN = 6, ST_TIMEOUT = 8, ST_ERROR = 10,
	ST_INTERRUPTED = 12,
};

#define MAX_IMAGE (1ull << 30)
#define DEFAULT_MEM (128ull << 20)

struct run_opts {
	const char *backend, *mmu, *append, *initrd, *guest, *stats_file;
	uint64_t mem;
	uint64_t max_insns;
	unsigned smp;
	enum hv_sched_mode sched;
	uint64_t quantum;
	enum stats_fmt stats;
};

static const char usage[] =
	"usage: hvlab run [--backend vmx|svm] [--mmu NAME] [--mem SIZE] [--smp N]\n"
	"                 [--sched deterministic|parallel] [--quantum N]\n"
	"                 [--append CMDLINE] [--initrd FILE] [--stats table|json|csv|none]\n"
	"                 [--stats-file FILE] [--max-insns N] GUEST\n";

/* One line on stderr, "hvlab run: " first. A control character from the
 * user's input (a file name with a newline in it, say) prints as '?', so
 * the message stays one line. */
static void vsay(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void vsay(const char *fmt, va_list ap)
{
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	fprintf(stderr, "hvlab run: %s\n", line);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return ST_USAGE;
}

/* SIZE: a number with an optional K, M or G suffix (binary units). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case '\0': break;
	default: return -1;
	}
	if ((*end == 'i' || *end == 'B') && shift)
		end += (end[0] == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	*o = (struct run_opts){ .mem = DEFAULT_MEM, .smp = 1, .stats = STATS_TABLE };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 1;
		}
		if (a[0] != '-' || !strcmp(a, "-")) {
			if (o->guest)
				return fail("more than one GUEST ('%s'); options go before it", a);
			o->guest = a;
			continue;
		}
		static const char *const with_value[] = {
			"--backend", "--mmu", "--append", "--initrd", "--stats-file", "--mem",
			"--max-insns", "--stats", "--smp", "--sched", "--quantum",
		};
		bool known = false;
		for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
			known |= !strcmp(a, with_value[k]);
		if (!known)
			return fail("no option '%s'; try 'hvlab run --help'", a);
		if (i + 1 >= argc)
			return fail("%s needs a value", a);
		const char *v = argv[++i];
		if (!strcmp(a, "--backend")) {
			o->backend = v;
		} else if (!strcmp(a, "--mmu")) {
			o->mmu = v;
		} else if (!strcmp(a, "--append")) {
			o->append = v;
		} else if (!strcmp(a, "--initrd")) {
			o->initrd = v;
		} else if (!strcmp(a, "--stats-file")) {
			o->stats_file = v;
		} else if (!strcmp(a, "--mem")) {
			/* Up to 512G: RAM above 4 GiB then stays clear of AMD's
			 * HyperTransport range below 1 TiB (vmm/multiboot.c). */
			if (parse_size(v, &o->mem) || o->mem < (2ull << 20) || o->mem > (512ull << 30) ||
			    o->mem % (1ull << 20))
				return fail("--mem '%s': give whole MiB from 2M to 512G, e.g. 128M or 4G", v);
		} else if (!strcmp(a, "--max-insns")) {
			if (parse_size(v, &o->max_insns) || !o->max_insns)
				return fail("--max-insns '%s': give a positive count", v);
		} else if (!strcmp(a, "--smp")) {
			uint64_t n;
			if (parse_size(v, &n) || n < 1 || n > HV_MAX_VCPUS)
				return fail("--smp '%s': give a number of vcpus from 1 to %d", v,
					    HV_MAX_VCPUS);
			o->smp = (unsigned)n;
		} else if (!strcmp(a, "--sched")) {
			if (!strcmp(v, "deterministic")) o->sched = HV_SCHED_DETERMINISTIC;
			else if (!strcmp(v, "parallel")) o->sched = HV_SCHED_PARALLEL;
			else return fail("--sched '%s': give deterministic or parallel", v);
		} else if (!strcmp(a, "--quantum")) {
			if (parse_size(v, &o->quantum) || o->quantum < 100 || o->quantum > 100000000)
				return fail("--quantum '%s': give guest instructions per turn, "
					    "100 to 100000000", v);
		} else {
			if (!strcmp(v, "table")) o->stats = STATS_TABLE;
			else if (!strcmp(v, "json")) o->stats = STATS_JSON;
			else if (!strcmp(v, "csv")) o->stats = STATS_CSV;
			else if (!strcmp(v, "none")) o->stats = STATS_NONE;
			else return fail("--stats '%s': give table, json, csv or none", v);
		}
	}
	if (!o->guest)
		return fail("%s", "no GUEST image given; try 'hvlab run --help'");
	return 0;
}

/* Read a whole file (at most MAX_IMAGE bytes). */
static int read_file(const char *path, void **buf, size_t *len, const char *what)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f) {
		say("cannot open %s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_IMAGE) {
		say("%s '%s' is not a regular file of at most 1 GiB", what, path);
		fclose(f);
		return -1;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf || fread(*buf, 1, *len, f) != *len) {
		say("cannot read %s '%s'", what, path);
		fclose(f);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	fclose(f);
	return 0;
}

static struct hv_vm *running_vm;

static void on_signal(int sig)
{
	(void)sig;
	hv_vm_run_interrupt(running_vm);
}

/* What a run loop needs besides struct vmm: why it ended. */
struct run_ctx {
	struct vmm *v;
	pthread_mutex_t lock;		/* the devices, in parallel mode */
	const char *end;
};

/* A vcpu's exit for the devices (hv_vm_run_ops.exit): 0 goes on, else
 * the exit status the run ends with. */
static int vcpu_exit_cb(void *opaque, struct hv_vcpu *vcpu, struct hv_run *run)
{
	struct run_ctx *c = opaque;
	struct vmm *v = c->v;
	int st = 0;

	(void)vcpu;
	pthread_mutex_lock(&c->lock);
	if (machine_device_exit(v, run)) {
		say("unexpected exit %u", run->exit_reason);
		c->end = "error";
		st = ST_ERROR;
	}
	if (!st && v->exit_requested) {
		c->end = "debug-exit";
		st = v->exit_status;
	}
	pthread_mutex_unlock(&c->lock);
	return st;
}

static uint64_t tick_cb(void *opaque)
{
	struct run_ctx *c = opaque;
	pthread_mutex_lock(&c->lock);
	const uint64_t next = vmm_tick(c->v);
	pthread_mutex_unlock(&c->lock);
	return next;
}

/* Run until the guest or hvlab ends it; returns the exit status. */
static int run_loop(struct vmm *v, const struct run_opts *o, const char **end)
{
	struct run_ctx c = { .v = v, .end = "error" };
	const struct hv_vm_run_ops ops = { .exit = vcpu_exit_cb, .tick = tick_cb, .opaque = &c };
	struct hv_vm_run run = { .mode = o->sched, .quantum = o->quantum,
				 .max_insns = o->max_insns };

	pthread_mutex_init(&c.lock, NULL);
	if (hv_vm_run(v->vm, &run, &ops)) {
		say("%s", hv_strerror());
		*end = "error";
		pthread_mutex_destroy(&c.lock);
		return ST_ERROR;
	}
	pthread_mutex_destroy(&c.lock);
	switch (run.exit_reason) {
	case HV_EXIT_VMM:
		*end = c.end;
		return run.vmm_status;
	case HV_EXIT_DEADLINE:
		*end = "timeout";
		return ST_TIMEOUT;
	case HV_EXIT_HLT:
		*end = "halted";
		return ST_HALTED;
	case HV_EXIT_SHUTDOWN:
		*end = "shutdown";
		return ST_SHUTDOWN;
	case HV_EXIT_INTR:
		*end = "interrupted";
		return ST_INTERRUPTED;
	case HV_EXIT_FAIL_ENTRY:
		say("the processor refused vcpu %u's guest state (hardware "
			"exit reason %#llx)", run.vcpu_id,
			(unsigned long long)run.run.fail_entry.hardware_exit_reason);
		break;
	case HV_EXIT_INTERNAL_ERROR:
		say("vcpu %u: %s", run.vcpu_id, run.run.internal.why);
		break;
	default:
		say("vcpu %u: unexpected exit %u", run.vcpu_id,
			run.exit_reason);
		break;
	}
	*end = "error";
	return ST_ERROR;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load_and_run(struct run_opts *o, void *img, size_t size, void *rd, size_t rdsize)
{
	char err[LOADER_ERR_MAX + 64];
	struct vmm v = { .serial_out = stdout };
	const struct machine_cfg mc = {
		.backend = o->backend, .mmu = o->mmu, .mem = o->mem, .smp = o->smp,
		.name = o->guest, .img = img, .size = size, .append = o->append,
		.initrd = rd, .initrd_size = rdsize, .initrd_str = o->initrd,
	};
	const struct hv_vm_config cfg = { .backend = o->backend };
	int status = ST_ERROR;

	switch (machine_create(&v, &mc, err, sizeof(err))) {
	case MACHINE_OK:
		break;
	case MACHINE_EINPUT:
		status = fail("%s", err);
		goto out;
	default:
		say("%s", err);
		goto out;
	}

	const char *end = "error";
	running_vm = v.vm;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	const double t0 = now_seconds();
	status = run_loop(&v, o, &end);
	const double t1 = now_seconds();
	fflush(v.serial_out);

	const struct run_info ri = { .guest = o->guest, .backend = cfg.backend ? cfg.backend : "",
				     .mmu = "", .status = status, .end = end,
				     .host_seconds = t1 - t0 };
	FILE *sf = stderr;
	if (o->stats_file && !(sf = fopen(o->stats_file, "w"))) {
		say("cannot write --stats-file '%s': %s", o->stats_file,
			strerror(errno));
		sf = stderr;
	}
	struct run_info named = ri;
	named.backend = hv_vm_backend(v.vm);
	named.mmu = hv_vm_mmu(v.vm);
	stats_print(sf, o->stats, &v, &named);
	if (sf != stderr)
		fclose(sf);
out:
	machine_destroy(&v);
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	void *img = NULL, *rd = NULL;
	size_t size = 0, rdsize = 0;
	int r = parse_opts(argc, argv, &o);
	if (r)
		return r == 1 ? 0 : r;
	if (read_file(o.guest, &img, &size, "guest image"))
		return ST_USAGE;
	if (o.initrd) {
		/* As QEMU's -initrd "FILE ARGS": the file is the part before
		 * the first space; the module's string is all of it. */
		const size_t n = strcspn(o.initrd, " ");
		char *path = strndup(o.initrd, n);
		const int bad = !path || read_file(path, &rd, &rdsize, "--initrd file");
		free(path);
		if (bad) {
			free(img);
			return ST_USAGE;
		}
	}
	r = load_and_run(&o, img, size, rd, rdsize);
	free(img);
	free(rd);
	return r;
}
