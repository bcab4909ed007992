/*
 * test_dev_fakes.h — the four hv_* calls the device models (vmm/dev.h)
 * make, faked for the test_dev_* programs: a clock the test sets, a log
 * of interrupt-line changes, and 1 MiB of guest RAM at gpa 0.
 *
 * Each test_dev_*.c includes this once, so the definitions live in the
 * test's own object; the link puts libhvlab.a after it, so the archive's
 * real hv_* are never pulled in.
 */
#ifndef TEST_DEV_FAKES_H
#define TEST_DEV_FAKES_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmm/dev.h"

#define FAKE_RAM_SIZE 0x100000u
#define FAKE_MAX_IRQ_LOG 256

struct fake_irq_event {
	unsigned irq;
	bool level;
};

static uint64_t fake_now_ns;
static uint8_t fake_ram[FAKE_RAM_SIZE];
static bool fake_ram_fails;		/* hv_write_guest returns -EFAULT */
static bool fake_line[32];
static bool fake_log_start[32];		/* the lines when the log was cleared */
static struct fake_irq_event fake_irq_log[FAKE_MAX_IRQ_LOG];
static unsigned fake_nirq;
static int fake_vm_token;		/* its address is the fake struct hv_vm * */
#define FAKE_VM ((struct hv_vm *)&fake_vm_token)

int hv_irq_line(struct hv_vm *vm, unsigned irq, bool level)
{
	if (vm != FAKE_VM || irq >= 32)
		return -EINVAL;
	fake_line[irq] = level;
	if (fake_nirq < FAKE_MAX_IRQ_LOG)
		fake_irq_log[fake_nirq++] = (struct fake_irq_event){ irq, level };
	return 0;
}

uint64_t hv_clock_ns(struct hv_vm *vm)
{
	return fake_now_ns;
}

int hv_write_guest(struct hv_vm *vm, gpa_t gpa, const void *buf, size_t len)
{
	if (fake_ram_fails || gpa > FAKE_RAM_SIZE || len > FAKE_RAM_SIZE - gpa)
		return -EFAULT;
	memcpy(fake_ram + gpa, buf, len);
	return 0;
}

int hv_read_guest(struct hv_vm *vm, gpa_t gpa, void *buf, size_t len)
{
	if (gpa > FAKE_RAM_SIZE || len > FAKE_RAM_SIZE - gpa)
		return -EFAULT;
	memcpy(buf, fake_ram + gpa, len);
	return 0;
}

/* A fresh machine: clock 0, lines low, RAM zero. */
static __attribute__((unused)) void fake_reset(struct vmm *v)
{
	memset(v, 0, sizeof(*v));
	v->vm = FAKE_VM;
	v->ncpus = 1;
	v->ram_size = 128u << 20;
	fake_now_ns = 0;
	fake_ram_fails = false;
	memset(fake_line, 0, sizeof(fake_line));
	memset(fake_log_start, 0, sizeof(fake_log_start));
	memset(fake_ram, 0, sizeof(fake_ram));
	fake_nirq = 0;
}

static __attribute__((unused)) void fake_clear_log(void)
{
	memcpy(fake_log_start, fake_line, sizeof(fake_line));
	fake_nirq = 0;
}

/* How many rising edges (low-to-high changes) line @irq saw since the
 * log was cleared. */
static __attribute__((unused)) unsigned fake_rises(unsigned irq)
{
	unsigned n = 0;
	bool level = fake_log_start[irq];
	for (unsigned i = 0; i < fake_nirq; i++) {
		if (fake_irq_log[i].irq != irq)
			continue;
		if (fake_irq_log[i].level && !level)
			n++;
		level = fake_irq_log[i].level;
	}
	return n;
}

#endif
