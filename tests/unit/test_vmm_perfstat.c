/*
 * test_vmm_perfstat.c — `hvlab stat`'s arithmetic (vmm/perfstat.c) on a
 * real recording and on hand-made lines: pairing each exit with its
 * vcpu's next entry, the per-reason samples, shares, min / max / mean and
 * standard deviation, the sort orders, the page-fault table, and one
 * clear error per kind of bad line.
 *
 * The recording (tests/unit/data/perfstat_hello_sf.txt) is `perf script`
 * of bench/perf/wrap record on guests/hello.elf under shadow-flush; the
 * run's own statistics (its header) say 206 exits: io 166, exception 32,
 * cr 3, cpuid 2, rdmsr 2, wrmsr 1, and 32 faults fixed. The interval
 * figures below were computed from the file's timestamps by a separate
 * script (Python's statistics.stdev: n - 1 in the divisor), not by the
 * code under test. Reason codes are enum hvx_reason's.
 *
 * The program's objects are not in libhvlab.a: perfstat.c is compiled
 * into this test (the library is linked for perfstat_reason_names).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backends/backend.h"
#include "vmm/perfstat.c"

static struct perfstat *ps;

static int setup(void **state)
{
	ps = calloc(1, sizeof(*ps));
	perfstat_init(ps);
	return ps ? 0 : -1;
}

static int teardown(void **state)
{
	free(ps);
	return 0;
}

static void feed_fixture(void)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	snprintf(path, sizeof(path), "%.*sdata/perfstat_hello_sf.txt",
		 slash ? (int)(slash - __FILE__ + 1) : 0, __FILE__);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512];
	while (fgets(line, sizeof(line), f))
		assert_int_equal(perfstat_line(ps, line), 0);
	fclose(f);
}

static const struct perfstat_row *row_of(const struct perfstat_row *rows, size_t n, unsigned key)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].key == key)
			return &rows[i];
	fail_msg("no row for %u", key);
	return NULL;
}

/* Samples add up to the run's exits statistic, reason by reason. */
static void test_fixture_samples(void **state)
{
	feed_fixture();
	assert_int_equal(perfstat_exits(ps), 206);
	assert_int_equal(perfstat_vcpus(ps), 1);
	assert_int_equal(ps->exit[HVX_IO].samples, 166);
	assert_int_equal(ps->exit[HVX_EXCEPTION].samples, 32);
	assert_int_equal(ps->exit[HVX_CR_ACCESS].samples, 3);
	assert_int_equal(ps->exit[HVX_CPUID].samples, 2);
	assert_int_equal(ps->exit[HVX_MSR_READ].samples, 2);
	assert_int_equal(ps->exit[HVX_MSR_WRITE].samples, 1);
	/* The last exit (the guest's debug-exit OUT) has no entry after it. */
	assert_int_equal(ps->exit[HVX_IO].timed, 165);
	assert_int_equal(ps->first_ns, 41402854302334ull);
	assert_int_equal(ps->last_ns, 41402864212816ull);
}

static void test_fixture_intervals(void **state)
{
	struct perfstat_row rows[PERFSTAT_REASONS];
	feed_fixture();
	const size_t n = perfstat_rows(ps, false, NULL, 0, PERFSTAT_SORT_SAMPLES, rows);
	assert_int_equal(n, 6);
	static const struct {
		unsigned key;
		uint64_t min, max, sum;
		double mean, stddev, time_pct;
	} want[] = {
		{ HVX_EXCEPTION, 17974, 78801, 860748, 26898.3750, 18606.3231, 28.0080 },
		{ HVX_CPUID, 6433, 7024, 13457, 6728.5, 417.9001, 0.4379 },
		{ HVX_CR_ACCESS, 76045, 157119, 350698, 116899.3333, 40540.7261, 11.4114 },
		{ HVX_IO, 6383, 105661, 1703488, 10324.1697, 12511.6211, 55.4301 },
		{ HVX_MSR_READ, 6553, 6663, 13216, 6608.0, 77.7817, 0.4300 },
		{ HVX_MSR_WRITE, 131611, 131611, 131611, 131611.0, 0.0, 4.2825 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct perfstat_row *r = row_of(rows, n, want[i].key);
		assert_int_equal(r->c->min, want[i].min);
		assert_int_equal(r->c->max, want[i].max);
		assert_int_equal(r->c->sum, want[i].sum);
		assert_float_equal(r->mean, want[i].mean, 0.0001);
		assert_float_equal(r->stddev, want[i].stddev, 0.0001);
		assert_float_equal(r->time_pct, want[i].time_pct, 0.0001);
	}
	assert_float_equal(row_of(rows, n, HVX_IO)->samples_pct, 100.0 * 166 / 206, 1e-9);
}

static void test_fixture_page_faults(void **state)
{
	struct perfstat_row rows[PERFSTAT_REASONS];
	feed_fixture();
	assert_int_equal(ps->pf_calls, 32);
	const size_t n = perfstat_rows(ps, true, NULL, 0, PERFSTAT_SORT_SAMPLES, rows);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].name, "retry");	/* RET_PF_RETRY = 0 */
	assert_int_equal(rows[0].c->samples, 32);
	assert_int_equal(rows[0].c->timed, 32);
	assert_int_equal(rows[0].c->min, 5842);
	assert_int_equal(rows[0].c->max, 66456);
	assert_int_equal(rows[0].c->sum, 421675);
	assert_float_equal(rows[0].stddev, 17213.5165, 0.0001);
}

/* Samples, most first; a tie (cpuid and rdmsr, 2 each) by time, most
 * first; by time; by name. */
static void test_sort_orders(void **state)
{
	struct perfstat_row rows[PERFSTAT_REASONS];
	static const unsigned by_samples[] = { HVX_IO, HVX_EXCEPTION, HVX_CR_ACCESS, HVX_CPUID,
					      HVX_MSR_READ, HVX_MSR_WRITE };
	static const unsigned by_time[] = { HVX_IO, HVX_EXCEPTION, HVX_CR_ACCESS, HVX_MSR_WRITE,
					   HVX_CPUID, HVX_MSR_READ };
	static const char *const by_name[] = { "cpuid", "cr", "exception", "io", "rdmsr", "wrmsr" };
	const char *names[PERFSTAT_REASONS];
	const int k = perfstat_reason_names(names, PERFSTAT_REASONS);
	assert_true(k > 0);
	feed_fixture();
	size_t n = perfstat_rows(ps, false, names, (size_t)k, PERFSTAT_SORT_SAMPLES, rows);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rows[i].key, by_samples[i]);
	n = perfstat_rows(ps, false, names, (size_t)k, PERFSTAT_SORT_TIME, rows);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rows[i].key, by_time[i]);
	n = perfstat_rows(ps, false, names, (size_t)k, PERFSTAT_SORT_NAME, rows);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(rows[i].name, by_name[i]);
}

/* The names are `hvlab run --stats`'s exits_NAME, by enum hvx_reason. */
static void test_reason_names(void **state)
{
	const char *names[PERFSTAT_REASONS];
	assert_int_equal(perfstat_reason_names(names, PERFSTAT_REASONS), HVX_NR_REASONS);
	assert_string_equal(names[HVX_UNKNOWN], "unknown");
	assert_string_equal(names[HVX_EXCEPTION], "exception");
	assert_string_equal(names[HVX_IO], "io");
	assert_string_equal(names[HVX_CR_ACCESS], "cr");
	assert_string_equal(names[HVX_MSR_WRITE], "wrmsr");
	assert_string_equal(names[HVX_TDP_FAULT], "tdp_fault");
	assert_string_equal(names[HVX_UNSUPPORTED], "unsupported");
}

static void test_printed_table(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	const char *names[PERFSTAT_REASONS];
	const int k = perfstat_reason_names(names, PERFSTAT_REASONS);
	feed_fixture();
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	perfstat_print(f, ps, names, (size_t)k, PERFSTAT_SORT_SAMPLES);
	fclose(f);
	assert_non_null(strstr(buf, "hvlab stat: 206 exits on 1 vcpu over 0.009910 s host time; "
				    "205 timed"));
	assert_non_null(strstr(buf, "\n  io                      166    80.58%   55.43%       6383"
				    "     105661      10324.2    12511.6\n"));
	assert_non_null(strstr(buf, "\n  wrmsr                     1     0.49%    4.28%     131611"
				    "     131611     131611.0        0.0\n"));
	assert_non_null(strstr(buf, "\n  total                   206   100.00%  100.00%"));
	assert_non_null(strstr(buf, "\n32 calls of the MMU's page_fault op"));
	free(buf);
}

static void feed(const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(perfstat_line(ps, lines[i]), 0);
}

/*
 * Pairing per vcpu (arg1), two vcpus interleaved; an exit whose entry was
 * lost counts as a sample without an interval; perf's own group and
 * NAME_k site names; a [cpu] column; microsecond timestamps; other events
 * skipped.
 */
static void test_pairing(void **state)
{
	static const char *const lines[] = {
		"1 [000] 10.000000100: sdt_hvlab:vm_exit: (1) arg1=0 arg2=20 arg3=0 arg4=30\n",
		"2 [001] 10.000000150: sdt_hvlab_0123abcd:vm_exit_2: (1) arg1=1 arg2=20 arg3=0 arg4=30",
		"1 10.000000400: sdt_hvlab:vm_entry: (1) arg1=0",
		"2 10.000000450: sdt_hvlab:tlb_flush: (1) arg1=1 arg2=0",
		"2 10.000000650: sdt_hvlab:vm_entry_1: (1) arg1=1",
		"1 10.000001: sdt_hvlab:vm_exit: (1) arg1=0 arg2=9 arg3=0 arg4=10",	/* us: 1000 ns */
		"1 10.000002: sdt_hvlab:vm_exit: (1) arg1=0 arg2=9 arg3=0 arg4=10",	/* entry lost */
		"1 10.000003: sdt_hvlab:vm_entry: (1) arg1=0",
		"3 10.000004: probe_other:vm_exit: (1) arg1=0 arg2=20 arg3=0 arg4=30",
	};
	feed(lines, sizeof(lines) / sizeof(lines[0]));
	assert_int_equal(perfstat_exits(ps), 4);
	assert_int_equal(perfstat_vcpus(ps), 2);
	assert_int_equal(ps->exit[20].samples, 2);
	assert_int_equal(ps->exit[20].timed, 2);
	assert_int_equal(ps->exit[20].min, 300);	/* vcpu 0: 400 - 100 */
	assert_int_equal(ps->exit[20].max, 500);	/* vcpu 1: 650 - 150 */
	assert_int_equal(ps->exit[9].samples, 2);
	assert_int_equal(ps->exit[9].timed, 1);
	assert_int_equal(ps->exit[9].min, 1000);	/* 3 us - 2 us */
	assert_int_equal(ps->last_ns, 10000003000ull);
}

static void test_page_fault_results(void **state)
{
	static const char *const lines[] = {
		"1 1.000000000: sdt_hvlab:page_fault: (1) arg1=0 arg2=4096 arg3=2 arg4=0",
		"1 1.000000700: sdt_hvlab:page_fault_done: (1) arg1=0 arg2=4096 arg3=1",
		"1 1.000001000: sdt_hvlab:page_fault: (1) arg1=0 arg2=8192 arg3=6 arg4=1",
		"1 1.000001100: sdt_hvlab:page_fault_done: (1) arg1=0 arg2=8192 arg3=2",
	};
	feed(lines, sizeof(lines) / sizeof(lines[0]));
	assert_int_equal(ps->pf_calls, 2);
	assert_int_equal(ps->pf[1].samples, 1);	/* RET_PF_EMULATE */
	assert_int_equal(ps->pf[1].sum, 700);
	assert_int_equal(ps->pf[2].samples, 1);	/* RET_PF_GUEST */
	assert_int_equal(ps->pf[2].sum, 100);
}

static void bad_line(const char *line, const char *why)
{
	perfstat_init(ps);
	assert_int_equal(perfstat_line(ps, line), -EINVAL);
	assert_non_null(strstr(ps->err, "line 1: "));
	if (!strstr(ps->err, why))
		fail_msg("error '%s' does not say '%s'", ps->err, why);
}

static void test_bad_lines(void **state)
{
	bad_line("hello world", "expected `TID TIME: EVENT: ...`");
	bad_line("12 [x] 1.0: sdt_hvlab:vm_entry: (1) arg1=0", "malformed [cpu]");
	bad_line("12 1.0 sdt_hvlab:vm_entry: (1) arg1=0", "expected a timestamp");
	bad_line("12 1.0123456789: sdt_hvlab:vm_entry: (1) arg1=0", "expected a timestamp");
	bad_line("12 1.0: sdt_hvlab:vm_exit (1) arg1=0", "an event name ending in ':'");
	bad_line("12 1.0: sdt_hvlab:vm_exit: (1) arg1=0 arg2=1 arg4=0", "without all its arguments");
	bad_line("12 1.0: sdt_hvlab:vm_entry: (1) arg1=zero", "not a number");
	bad_line("12 1.0: sdt_hvlab:vm_entry: (1) arg1=64", "beyond HV_MAX_VCPUS");
	bad_line("12 1.0: sdt_hvlab:vm_exit: (1) arg1=0 arg2=64 arg3=0 arg4=0", "exit reason code");
	bad_line("12 1.0: sdt_hvlab:page_fault_done: (1) arg1=0 arg2=0 arg3=4", "no enum ret_pf");
	/* Time going backwards: the second line. */
	perfstat_init(ps);
	assert_int_equal(perfstat_line(ps, "1 2.0: sdt_hvlab:vm_entry: (1) arg1=0"), 0);
	assert_int_equal(perfstat_line(ps, "1 1.0: sdt_hvlab:vm_entry: (1) arg1=0"), -EINVAL);
	assert_non_null(strstr(ps->err, "line 2: timestamps go backwards"));
}

/* Blank lines, comments and other providers' events are no error. */
static void test_skipped_lines(void **state)
{
	static const char *const lines[] = {
		"", "\n", "# a comment", "5 1.0: sched:sched_switch: prev_comm=x",
		"5 1.0: sdt_libc:setjmp: (1) arg1=0",
	};
	feed(lines, sizeof(lines) / sizeof(lines[0]));
	assert_int_equal(perfstat_exits(ps), 0);
	assert_false(ps->any);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixture_samples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixture_intervals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixture_page_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sort_orders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reason_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_printed_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pairing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_fault_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skipped_lines, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
