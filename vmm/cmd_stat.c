/*
 * cmd_stat.c — `hvlab stat [--sort samples|time|name] [FILE | -]`: the
 * exits of a perf recording of hvlab's USDT probes (core/trace.h,
 * bench/perf/wrap record) as perf kvm stat shows KVM's: per exit reason
 * (the names of `hvlab run --stats`), samples, their share, the share of
 * the time, and min / max / mean ± standard deviation of the host time
 * from each exit to the same vcpu's next entry (vmm/perfstat.c); then the
 * MMU's page faults by result, when the recording has them.
 *
 * FILE is a perf.data (its first 8 bytes "PERFILE2", perf.data's magic):
 * hvlab runs `perf script` on it with the field list vmm/perfstat.h
 * reads; or the text of such a `perf script` (FILE, or stdin for "-" or
 * no FILE). Exit status 0, or 2 with one line on stderr for a bad
 * command line or input (docs/perf.md).
 */
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/cmd.h"
#include "vmm/perfstat.h"

#define PERF_SCRIPT_FIELDS "trace:tid,time,event,trace"

extern char **environ;

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hvlab stat: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static void help(void)
{
	printf("usage: hvlab stat [--sort samples|time|name] [FILE | -]\n"
	       "  the VM exits in a perf recording of hvlab's USDT probes as a table:\n"
	       "  FILE a perf.data (perf script runs on it) or `perf script -F %s --ns`\n"
	       "  text; none or -: that text on stdin. Record with bench/perf/wrap record\n"
	       "  (docs/perf.md).\n", PERF_SCRIPT_FIELDS);
}

static bool is_perf_data(const char *path)
{
	char magic[8];
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	const bool yes = fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
			 !memcmp(magic, "PERFILE2", sizeof(magic));
	fclose(f);
	return yes;
}

/* `perf script` on @path, its stdout a stream; *pid to wait for. */
static FILE *perf_script(const char *path, pid_t *pid)
{
	int fd[2];
	if (pipe(fd))
		return NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, fd[0]);
	posix_spawn_file_actions_addclose(&fa, fd[1]);
	char *argv[] = { "perf", "script", "-i", (char *)path, "-F", PERF_SCRIPT_FIELDS, "--ns",
			 NULL };
	const int r = posix_spawnp(pid, "perf", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	if (r) {
		close(fd[0]);
		errno = r;
		return NULL;
	}
	return fdopen(fd[0], "r");
}

int cmd_stat(int argc, char **argv)
{
	enum perfstat_sort sort = PERFSTAT_SORT_SAMPLES;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			help();
			return 0;
		} else if (!strcmp(argv[i], "--sort")) {
			const char *k = i + 1 < argc ? argv[++i] : "";
			if (!strcmp(k, "samples"))
				sort = PERFSTAT_SORT_SAMPLES;
			else if (!strcmp(k, "time"))
				sort = PERFSTAT_SORT_TIME;
			else if (!strcmp(k, "name"))
				sort = PERFSTAT_SORT_NAME;
			else
				return usage_error("--sort '%s': one of samples, time, name", k);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return usage_error("no option '%s'; try 'hvlab stat --help'", argv[i]);
		} else if (path) {
			return usage_error("one input only ('%s' is a second); try 'hvlab stat --help'",
					   argv[i]);
		} else {
			path = argv[i];
		}
	}

	const char *in_name = path && strcmp(path, "-") ? path : "stdin";
	FILE *in = stdin;
	pid_t pid = 0;
	if (path && strcmp(path, "-")) {
		if (access(path, R_OK))
			return usage_error("cannot read '%s'", path);
		if (!is_perf_data(path))
			in = fopen(path, "r");
		else if (!(in = perf_script(path, &pid)))
			return usage_error("cannot run `perf script` on '%s': is perf installed?", path);
		if (!in)
			return usage_error("cannot read '%s'", path);
	}

	struct perfstat *ps = malloc(sizeof(*ps));
	if (!ps)
		return usage_error("out of memory");
	perfstat_init(ps);
	char *line = NULL;
	size_t cap = 0;
	int r = 0;
	while (getline(&line, &cap, in) >= 0)
		if ((r = perfstat_line(ps, line)))
			break;
	free(line);
	if (in != stdin)
		fclose(in);
	int status = 0;
	if (pid && (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status))) {
		free(ps);
		return usage_error("perf script failed on '%s' (its message is above)", path);
	}
	if (r) {
		fprintf(stderr, "hvlab stat: %s: %s\n", in_name, ps->err);
		free(ps);
		return 2;
	}
	if (!perfstat_exits(ps)) {
		free(ps);
		return usage_error("no sdt_hvlab:vm_exit events in %s; record them with "
				   "bench/perf/wrap record (docs/perf.md)", in_name);
	}
	const char *names[PERFSTAT_REASONS];
	const int n = perfstat_reason_names(names, PERFSTAT_REASONS);
	perfstat_print(stdout, ps, names, n > 0 ? (size_t)n : 0, sort);
	free(ps);
	return 0;
}
