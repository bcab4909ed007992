/*
 * check.c — the tests' one-line verdicts: "what: yes" or "what: NO" on
 * the serial port, and the exit code that sums them up.
 *
 * guest_expect() is the same for a value: "what: ok", or the value
 * and the one expected.
 *
 * A guest test prints one line per property it checks and compares the
 * whole output with its .expect file, so a wrong answer shows as the
 * line that says NO; the exit code (GUEST_EXIT_FAIL when any did) makes
 * the run fail even where the output is not compared.
 */
#include "guests/guest.h"

static unsigned failures;

void guest_check(const char *what, bool ok)
{
	guest_printf("%s: %s\n", what, ok ? "yes" : "NO");
	if (!ok)
		failures++;
}

void guest_expect(const char *what, uint64_t got, uint64_t want)
{
	if (got == want) {
		guest_printf("%s: ok\n", what);
	} else {
		guest_printf("%s: 0x%lx, expected 0x%lx\n", what, got, want);
		failures++;
	}
}

void guest_check_fail(void)
{
	failures++;
}

int guest_check_status(void)
{
	return failures ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
