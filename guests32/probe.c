/*
 * probe.c — one memory access, in ring 0 or ring 3, and the #PF it raises.
 *
 * probe() installs a #PF handler for the duration of one access: a read
 * (MOV from memory), a write (MOV to memory) or an instruction fetch (a
 * CALL to the address, whose page should hold a RET). On a #PF the
 * handler records the error code the CPU pushed and CR2 (SDM Vol. 3A
 * 4.7, 6.15 "Interrupt 14") and resumes past the access: in ring 0 at a
 * label after it (the fault is precise, so nothing of the access
 * happened, 6.5), in ring 3 by abandoning the ring-3 code
 * (user32_abort). Ring-3 probes run through user32_run() on a small
 * stack in the image; the test's page tables must make the image
 * user-accessible (at least .user and the stack; the tests map it all).
 * probe_check() prints one line per access, "WHAT: #PF E cr2 A: ok" or
 * "WHAT: no fault: ok" (WRONG when it differs from the expectation).
 */
#include "guests32/guest32.h"

static struct {
	unsigned count;
	uint32_t error, cr2;
} pf;
static uint32_t pf_resume;
static uint8_t user_stack[4096] __attribute__((aligned(16)));

static void probe_pf(struct guest32_frame *f)
{
	pf.count++;
	pf.error = f->error_code;
	pf.cr2 = read_cr2();
	if ((f->cs & 3) == 3)
		user32_abort(0);
	f->eip = pf_resume;
}

static USER32_TEXT void user_read(uint32_t va)
{
	(void)*(volatile uint32_t *)va;
}

static USER32_TEXT void user_write(uint32_t va)
{
	*(volatile uint32_t *)va = PROBE_WRITE_VALUE;
}

static USER32_TEXT void user_exec(uint32_t va)
{
	((void (*)(void))va)();
}

struct probe probe(unsigned ring, enum probe_access acc, uint32_t va)
{
	struct probe r = { 0 };
	uint32_t v = 0;
	unsigned before = pf.count;

	idt32_set_handler(14, probe_pf);
	if (ring == 3) {
		static void (*const fn[])(uint32_t) = { user_read, user_write, user_exec };
		user32_run(fn[acc], va, (uint32_t)(user_stack + sizeof(user_stack)));
	} else if (acc == PROBE_READ) {
		__asm__ volatile("movl $1f, %[res]\n\t"
				 "movl (%[va]), %[v]\n"
				 "1:"
				 : [res] "=m"(pf_resume), [v] "+r"(v) : [va] "r"(va) : "memory");
	} else if (acc == PROBE_WRITE) {
		__asm__ volatile("movl $1f, %[res]\n\t"
				 "movl %[v], (%[va])\n"
				 "1:"
				 : [res] "=m"(pf_resume) : [va] "r"(va), [v] "r"(PROBE_WRITE_VALUE)
				 : "memory");
	} else {
		/* On a fault the CALL has pushed its return address already
		 * (the fetch at the target faults, 6.5): drop it. */
		__asm__ volatile("movl $1f, %[res]\n\t"
				 "call *%[va]\n\t"
				 "jmp 2f\n"
				 "1:\taddl $4, %%esp\n"
				 "2:"
				 : [res] "=m"(pf_resume) : [va] "r"(va) : "memory");
	}
	idt32_set_handler(14, NULL);
	r.faulted = pf.count != before;
	r.error = pf.error;
	r.cr2 = pf.cr2;
	r.value = v;
	return r;
}

bool probe_check(const char *what, unsigned ring, enum probe_access acc, uint32_t va,
		 uint32_t want)
{
	struct probe r = probe(ring, acc, va);
	bool ok = want == PROBE_NO_PF ? !r.faulted : r.faulted && r.error == want && r.cr2 == va;

	if (r.faulted)
		guest_printf("%s: #PF 0x%x cr2 0x%08x", what, r.error, r.cr2);
	else
		guest_printf("%s: no fault", what);
	guest_printf(": %s\n", ok ? "ok" : "WRONG");
	return ok;
}
