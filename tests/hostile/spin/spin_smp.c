/*
 * spin_smp.c — every processor spins with interrupts off, for ever
 * (issue 8, denial).
 *
 * The BSP starts every application processor (guests/smp.c: INIT,
 * STARTUP, STARTUP; SDM Vol. 3A 9.4.4.1), hands each one work that
 * clears IF and jumps to itself, and then does the same. With IF = 0
 * no maskable interrupt is taken (3A 6.8.1) and nothing here sends an
 * NMI: the architecture says the machine runs this loop for ever.
 * tests/run/hostile.sh checks that hvlab run ends it on --max-insns
 * (status 8) and on SIGTERM (status 12; docs/run.md) in both scheduler
 * modes. Not run by scripts/guests.sh (QEMU would never end).
 */
#include "guests/guest.h"

static void spin(void *arg)
{
	(void)arg;
	__asm__ volatile("cli\n1:\tjmp 1b" : : : "memory");
}

int guest_main(void)
{
	const int n = smp_init();
	guest_printf("spin_smp: %d CPUs, each spinning with IF=0\n", n);
	for (unsigned cpu = 1; n > 0 && cpu < (unsigned)n; cpu++)
		smp_run_on(cpu, spin, NULL);
	spin(NULL);
	return GUEST_EXIT_FAIL;
}
