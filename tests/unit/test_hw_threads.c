/*
 * test_hw_threads.c — processors of one machine on host threads of their
 * own, sharing guest memory and page tables, as hvlab's parallel
 * scheduler runs them (issue 6; hw/hw.h "Threads").
 *
 *   counters      LOCK ADD, LOCK XADD, LOCK CMPXCHG, CMPXCHG8B/16B and
 *                 split locks from every processor reach exact totals;
 *                 XCHG keeps the multiset of values it swaps (SDM Vol. 3A
 *                 9.1.2: locked operations are atomic; XCHG with memory
 *                 is locked without a prefix, Vol. 2B XCHG)
 *   spinlock      a test-and-set lock (XCHG, PAUSE) around a plain
 *                 read-increment-write gives the exact total
 *   kick          hw_cpu_kick: a guest spinning in a loop exits with the
 *                 host timer's external interrupt within HW_RUN_SLICE
 *                 instructions; a kick while not in guest mode gives one
 *                 exit at the next entry, before any guest instruction,
 *                 and only one (VMX exit reason 1, SDM Vol. 3D Appendix
 *                 C; SVM VMEXIT_INTR 0x60, APM Vol. 2 Appendix C)
 *   cross-modify  processor A rewrites an immediate in code processor B
 *                 loops over, then publishes the new value; B reads the
 *                 value, executes CPUID (serializing) and must execute
 *                 the new immediate (SDM Vol. 3A 9.1.3)
 *   torn pte      processor A rewrites a PTE between two values whose
 *                 both halves differ while B invalidates and reads
 *                 through it: B only ever reaches one of the two pages,
 *                 never one a torn 8-byte entry would name (SDM Vol. 3A
 *                 9.1.1: aligned quadword accesses are atomic)
 *
 * Each processor's thread enters its guest and handles the exits the
 * scenario expects; cmocka's asserts run on the main thread only, after
 * the threads are joined. The guest code was assembled with GNU as and
 * checked with objdump (64-bit mode, absolute [disp32] operands).
 *
 * ThreadSanitizer: the engine's front-TLB fast paths (emulate/) load and
 * store guest memory with plain accesses, racing by design with the
 * other processors' guest accesses — guest memory is shared, and what a
 * guest may see of such races is what x86 allows. Those reports are
 * suppressed below, by the engine functions that make the access; hw/'s
 * own guest accesses are atomic (hw/mem.c) and are not suppressed.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "hw/hw.h"
#include "hw/msr.h"
#include "hw/svm.h"
#include "hw/vmcb.h"
#include "hw/vmx.h"
#include "tests/support/hwguest.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	/* Plain guest-memory accesses through the engine's front TLB
	 * (see above): every such access goes through emulate/exec.h
	 * emu_host_load or emu_host_store, which is in its stack. */
	return "race:emu_host_load\n"
	       "race:emu_host_store\n";
}
#endif
#endif

/* Exit codes from the manuals: SDM Vol. 3D Appendix C (external
 * interrupt 1, CPUID 10, HLT 12); APM Vol. 2 Appendix C (VMEXIT_INTR
 * 0x60, VMEXIT_HLT 0x78). */
#define VMX_EXTINT	1
#define VMX_CPUID	10
#define VMX_HLT		12
#define SVM_INTR	0x60
#define SVM_HLT		0x78

#define MAX_CPUS	4
#define RAM		(8ull << 20)

struct mcfg {
	enum hw_vendor vendor;
	bool tdp;
};

static const struct mcfg cfgs[] = {
	{ HW_VENDOR_INTEL, true }, { HW_VENDOR_INTEL, false },
	{ HW_VENDOR_AMD, true }, { HW_VENDOR_AMD, false },
};
#define NR_CFGS (sizeof(cfgs) / sizeof(cfgs[0]))

static const uint32_t vmcs_fields[] = {
#define VMCS_FIELD(name, enc) enc,
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD
};
#define NR_FIELDS (sizeof(vmcs_fields) / sizeof(vmcs_fields[0]))

/* A machine with @n processors: the harness's guest on processor 0, and
 * for each other one its own VMCS (every writable field of processor 0's
 * copied, SDM Vol. 3C 25.11.2: bits 11:10 = 1 are read-only) or VMCB (a
 * copy of the page). */
struct mp {
	struct hwg g;
	unsigned n;
	struct hw_cpu *cpu[MAX_CPUS];
	uint64_t ctl[MAX_CPUS];
	bool launched[MAX_CPUS];
};

static bool vmx(const struct mp *p)
{
	return p->g.vendor == HW_VENDOR_INTEL;
}

static struct vmcb *vmcb_of(struct mp *p, unsigned i)
{
	return hw_hpa_ptr(p->g.m, p->ctl[i], sizeof(struct vmcb));
}

static void add_vmx_cpu(struct mp *p, struct hw_cpu *cpu)
{
	static uint64_t val[NR_FIELDS];
	uint64_t basic = 0;
	for (size_t i = 0; i < NR_FIELDS; i++)
		vmread(p->g.cpu, vmcs_fields[i], &val[i]);
	assert_int_equal(hw_write_cr(cpu, 4, hw_read_cr(cpu, 4) | (1ull << 13)), 0);
	assert_int_equal(hw_wrmsr(cpu, MSR_IA32_FEATURE_CONTROL, 5), 0);
	hw_rdmsr(cpu, 0x480, &basic);				/* IA32_VMX_BASIC */
	const uint32_t rev = (uint32_t)(basic & 0x7fffffff);	/* bits 30:0 (A.1) */
	const uint64_t region = ptb_alloc(&p->g.host), vmcs = ptb_alloc(&p->g.host);
	memcpy(hw_hpa_ptr(p->g.m, region, 4), &rev, 4);
	memcpy(hw_hpa_ptr(p->g.m, vmcs, 4), &rev, 4);
	assert_int_equal(vmxon(cpu, region), VMX_SUCCEED);
	assert_int_equal(vmclear(cpu, vmcs), VMX_SUCCEED);
	assert_int_equal(vmptrld(cpu, vmcs), VMX_SUCCEED);
	for (size_t i = 0; i < NR_FIELDS; i++)
		if (((vmcs_fields[i] >> 10) & 3) != 1)
			assert_int_equal(vmwrite(cpu, vmcs_fields[i], val[i]), VMX_SUCCEED);
	p->ctl[p->n] = vmcs;
}

static void add_svm_cpu(struct mp *p, struct hw_cpu *cpu)
{
	uint64_t efer = 0;
	hw_rdmsr(cpu, MSR_IA32_EFER, &efer);
	assert_int_equal(hw_wrmsr(cpu, MSR_IA32_EFER, efer | (1ull << 12)), 0);	/* SVME */
	assert_int_equal(hw_wrmsr(cpu, MSR_AMD_VM_HSAVE_PA, ptb_alloc(&p->g.host)), 0);
	const uint64_t v = ptb_alloc(&p->g.host);
	memcpy(hw_hpa_ptr(p->g.m, v, sizeof(struct vmcb)), vmcb_of(p, 0), sizeof(struct vmcb));
	p->ctl[p->n] = v;
	assert_int_equal(vmload(cpu, v), SVM_OK);
}

static void mp_create_opts(struct mp *p, const struct mcfg *c, unsigned n,
			   const struct hw_machine_config *mc)
{
	const struct hwg_config hc = { .vendor = c->vendor, .tdp = c->tdp, .ram_size = RAM,
				       .machine = mc };
	memset(p, 0, sizeof(*p));
	assert_int_equal(hwg_create(&p->g, &hc), 0);
	p->cpu[0] = p->g.cpu;
	p->ctl[0] = p->g.ctl;
	p->n = 1;
	while (p->n < n) {
		struct hw_cpu *cpu;
		assert_int_equal(hw_cpu_create(p->g.m, p->n, &cpu), 0);
		if (vmx(p))
			add_vmx_cpu(p, cpu);
		else
			add_svm_cpu(p, cpu);
		p->cpu[p->n++] = cpu;
	}
}

static void mp_create(struct mp *p, const struct mcfg *c, unsigned n)
{
	mp_create_opts(p, c, n, NULL);
}

static void *gmem(struct mp *p, uint64_t gpa, size_t len)
{
	void *q = hwg_ptr(&p->g, gpa, len);
	assert_non_null(q);
	return q;
}

static void put(struct mp *p, uint64_t gpa, const void *b, size_t len)
{
	hwg_load(&p->g, gpa, b, len);
}

static uint32_t get32(struct mp *p, uint64_t gpa)
{
	return __atomic_load_n((uint32_t *)gmem(p, gpa, 4), __ATOMIC_ACQUIRE);
}

static uint64_t get64(struct mp *p, uint64_t gpa)
{
	return __atomic_load_n((uint64_t *)gmem(p, gpa, 8), __ATOMIC_ACQUIRE);
}

static void set_entry(struct mp *p, unsigned i, uint64_t rip, uint64_t rsp)
{
	if (vmx(p)) {
		vmwrite(p->cpu[i], VMCS_GUEST_RIP, rip);
		vmwrite(p->cpu[i], VMCS_GUEST_RSP, rsp);
	} else {
		vmcb_of(p, i)->save.rip = rip;
		vmcb_of(p, i)->save.rsp = rsp;
	}
}

/* RAX is in the VMCB on SVM; the rest in the register file (hw.h). */
static void set_gpr(struct mp *p, unsigned i, unsigned reg, uint64_t v)
{
	if (reg == 0 && !vmx(p))
		vmcb_of(p, i)->save.rax = v;
	else
		hw_cpu_gprs(p->cpu[i])[reg] = v;
}

static uint64_t gpr(struct mp *p, unsigned i, unsigned reg)
{
	if (reg == 0 && !vmx(p))
		return vmcb_of(p, i)->save.rax;
	return hw_cpu_gprs(p->cpu[i])[reg];
}

/* Enter processor @i's guest; its exit code, or ~0 if the entry failed. */
static uint64_t enter(struct mp *p, unsigned i)
{
	struct hw_cpu *cpu = p->cpu[i];
	if (vmx(p)) {
		const int st = p->launched[i] ? vmresume(cpu) : vmlaunch(cpu);
		if (st != VMX_SUCCEED)
			return ~0ull;
		p->launched[i] = true;
		uint64_t r = 0;
		vmread(cpu, VMCS_EXIT_REASON, &r);
		return r;
	}
	if (vmrun(cpu, p->ctl[i]) != SVM_OK)
		return ~0ull;
	return vmcb_of(p, i)->control.exitcode;
}

static void skip_insn(struct mp *p, unsigned i)
{
	uint64_t rip = 0, len = 0;
	vmread(p->cpu[i], VMCS_GUEST_RIP, &rip);
	vmread(p->cpu[i], VMCS_EXIT_INSTRUCTION_LEN, &len);
	vmwrite(p->cpu[i], VMCS_GUEST_RIP, rip + len);
}

static bool is_hlt(const struct mp *p, uint64_t r)
{
	return r == (vmx(p) ? VMX_HLT : SVM_HLT);
}

static bool is_intr(const struct mp *p, uint64_t r)
{
	return r == (vmx(p) ? VMX_EXTINT : SVM_INTR);
}

/* A guest that should have halted long ago has hung (a broken lock can
 * leave every processor spinning): give up after this long. */
#define WATCHDOG_SEC	120
#define WATCHDOG_INSNS	10000000

static double now_sec(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One processor's thread: run to HLT, skipping CPUID exits (VMX exits
 * on every CPUID, SDM Vol. 3C 26.1.2) and re-entering after the host
 * timer's exits, which it arms every WATCHDOG_INSNS instructions to look
 * at the clock; the last exit is the result. */
struct job {
	struct mp *p;
	unsigned i;
	uint64_t exit;
	uint64_t cpuid_exits;
	pthread_t thread;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	struct hw_cpu *cpu = j->p->cpu[j->i];
	const double t0 = now_sec();
	for (;;) {
		hw_cpu_set_deadline(cpu, hw_cpu_counters(cpu)->insns + WATCHDOG_INSNS);
		const uint64_t r = enter(j->p, j->i);
		if (vmx(j->p) && r == VMX_CPUID) {
			j->cpuid_exits++;
			skip_insn(j->p, j->i);
			continue;
		}
		if (is_intr(j->p, r) && now_sec() - t0 < WATCHDOG_SEC)
			continue;
		j->exit = r;
		return NULL;
	}
}

/* Run processors 0..n-1 on threads of their own until each halts. */
static void run_all(struct mp *p, unsigned n, struct job *jobs)
{
	for (unsigned i = 0; i < n; i++) {
		jobs[i] = (struct job){ .p = p, .i = i };
		assert_int_equal(pthread_create(&jobs[i].thread, NULL, job_run, &jobs[i]), 0);
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(jobs[i].thread, NULL);
	for (unsigned i = 0; i < n; i++) {
		if (!is_hlt(p, jobs[i].exit))
			print_error("cpu %u: exit %#llx (%s)\n", i, (unsigned long long)jobs[i].exit,
				    hw_cpu_unsupported(p->cpu[i]) ? hw_cpu_unsupported(p->cpu[i]) : "-");
		assert_true(is_hlt(p, jobs[i].exit));
	}
}

#define STACK(i)	(0x80000ull - 0x4000ull * (i))

/* ------------------------------------------------------------ counters */

#define C_ITERS		2000
#define C_ADD		0x20000ull	/* lock add dword */
#define C_XADD		0x20008ull	/* lock xadd dword */
#define C_CMPXCHG	0x20010ull	/* lock cmpxchg dword loop */
#define C_CX16		0x20020ull	/* lock cmpxchg16b: both qwords + 1 */
#define C_CX8		0x20030ull	/* lock cmpxchg8b: both dwords + 1 */
#define C_XCHG		0x20040ull	/* xchg qword with rsi */
#define C_IN8		0x20052ull	/* dword inside an aligned qword */
#define C_IN16		0x20066ull	/* dword across a qword, inside 16 bytes */
#define C_LINE		0x2007eull	/* dword across a 16-byte boundary */
#define C_PAGE		0x20ffeull	/* dword across a page boundary */
#define C_CODE		0x10000ull

static const uint8_t count_code[] = {
	0xbd, 0xd0, 0x07, 0x00, 0x00,			/* mov ebp, 2000 */
	0xf0, 0x83, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00, 0x01,	/* 1: lock add dword [0x20000], 1 */
	0xb8, 0x01, 0x00, 0x00, 0x00,			/* mov eax, 1 */
	0xf0, 0x0f, 0xc1, 0x04, 0x25, 0x08, 0x00, 0x02, 0x00,	/* lock xadd [0x20008], eax */
	0x8b, 0x04, 0x25, 0x10, 0x00, 0x02, 0x00,	/* mov eax, [0x20010] */
	0x8d, 0x50, 0x01,				/* 2: lea edx, [rax + 1] */
	0xf0, 0x0f, 0xb1, 0x14, 0x25, 0x10, 0x00, 0x02, 0x00,	/* lock cmpxchg [0x20010], edx */
	0x75, 0xf2,					/* jnz 2b */
	0x48, 0x8b, 0x04, 0x25, 0x20, 0x00, 0x02, 0x00,	/* mov rax, [0x20020] */
	0x48, 0x8b, 0x14, 0x25, 0x28, 0x00, 0x02, 0x00,	/* mov rdx, [0x20028] */
	0x48, 0x8d, 0x58, 0x01,				/* 3: lea rbx, [rax + 1] */
	0x48, 0x8d, 0x4a, 0x01,				/* lea rcx, [rdx + 1] */
	0xf0, 0x48, 0x0f, 0xc7, 0x0c, 0x25, 0x20, 0x00, 0x02, 0x00,	/* lock cmpxchg16b [0x20020] */
	0x75, 0xec,					/* jnz 3b */
	0x8b, 0x04, 0x25, 0x30, 0x00, 0x02, 0x00,	/* mov eax, [0x20030] */
	0x8b, 0x14, 0x25, 0x34, 0x00, 0x02, 0x00,	/* mov edx, [0x20034] */
	0x8d, 0x58, 0x01,				/* 4: lea ebx, [rax + 1] */
	0x8d, 0x4a, 0x01,				/* lea ecx, [rdx + 1] */
	0xf0, 0x0f, 0xc7, 0x0c, 0x25, 0x30, 0x00, 0x02, 0x00,	/* lock cmpxchg8b [0x20030] */
	0x75, 0xef,					/* jnz 4b */
	0xf0, 0x83, 0x04, 0x25, 0x52, 0x00, 0x02, 0x00, 0x01,	/* lock add dword [0x20052], 1 */
	0xf0, 0x83, 0x04, 0x25, 0x66, 0x00, 0x02, 0x00, 0x01,	/* lock add dword [0x20066], 1 */
	0xf0, 0x83, 0x04, 0x25, 0x7e, 0x00, 0x02, 0x00, 0x01,	/* lock add dword [0x2007e], 1 */
	0xf0, 0x83, 0x04, 0x25, 0xfe, 0x0f, 0x02, 0x00, 0x01,	/* lock add dword [0x20ffe], 1 */
	0x48, 0x87, 0x34, 0x25, 0x40, 0x00, 0x02, 0x00,	/* xchg [0x20040], rsi */
	0xff, 0xcd,					/* dec ebp */
	0x0f, 0x85, 0x5d, 0xff, 0xff, 0xff,		/* jnz 1b */
	0xf4,						/* hlt */
};

static void counters_on(const struct mcfg *c, unsigned n)
{
	struct mp p;
	struct job jobs[MAX_CPUS];
	mp_create(&p, c, n);
	put(&p, C_CODE, count_code, sizeof(count_code));
	/* The XCHG tokens: distinct bits, one in memory and one per CPU. */
	const uint64_t mem_token = 1ull << 40;
	put(&p, C_XCHG, &mem_token, 8);
	for (unsigned i = 0; i < n; i++) {
		set_entry(&p, i, C_CODE, STACK(i));
		set_gpr(&p, i, 6, 1ull << i);	/* rsi */
	}
	run_all(&p, n, jobs);

	const uint32_t total = C_ITERS * n;
	assert_int_equal(get32(&p, C_ADD), total);
	assert_int_equal(get32(&p, C_XADD), total);
	assert_int_equal(get32(&p, C_CMPXCHG), total);
	assert_int_equal(get64(&p, C_CX16), total);
	assert_int_equal(get64(&p, C_CX16 + 8), total);
	assert_int_equal(get32(&p, C_CX8), total);
	assert_int_equal(get32(&p, C_CX8 + 4), total);
	uint32_t v;
	memcpy(&v, gmem(&p, C_IN8, 4), 4);
	assert_int_equal(v, total);
	memcpy(&v, gmem(&p, C_IN16, 4), 4);
	assert_int_equal(v, total);
	memcpy(&v, gmem(&p, C_LINE, 4), 4);
	assert_int_equal(v, total);
	memcpy(&v, gmem(&p, C_PAGE, 4), 4);
	assert_int_equal(v, total);
	/* XCHG: the tokens are where they went, each exactly once. */
	uint64_t all = get64(&p, C_XCHG), sum = all;
	for (unsigned i = 0; i < n; i++) {
		const uint64_t t = gpr(&p, i, 6);
		assert_int_equal(all & t, 0);
		all |= t;
		sum += t;
	}
	assert_int_equal(all, mem_token | ((1ull << n) - 1));
	assert_int_equal(sum, all);
	hwg_destroy(&p.g);
}

static void counters(void **state)
{
	for (size_t k = 0; k < NR_CFGS; k++)
		counters_on(&cfgs[k], 3);
}

/* ------------------------------------------------------------ spinlock */

#define S_LOCK		0x22000ull
#define S_COUNT		0x22040ull

/* The critical section lasts a while (a 20-pass delay between the read
 * and the write), so a lock that let two in would lose counts. */
static const uint8_t spin_code[] = {
	0xbd, 0xd0, 0x07, 0x00, 0x00,			/* mov ebp, 2000 */
	0xb8, 0x01, 0x00, 0x00, 0x00,			/* 1: mov eax, 1 */
	0x87, 0x04, 0x25, 0x00, 0x20, 0x02, 0x00,	/* xchg [0x22000], eax */
	0x85, 0xc0,					/* test eax, eax */
	0x74, 0x04,					/* jz 2f */
	0xf3, 0x90,					/* pause */
	0xeb, 0xec,					/* jmp 1b */
	0x8b, 0x04, 0x25, 0x40, 0x20, 0x02, 0x00,	/* 2: mov eax, [0x22040] */
	0xba, 0x14, 0x00, 0x00, 0x00,			/* mov edx, 20 */
	0xff, 0xca,					/* 3: dec edx */
	0x75, 0xfc,					/* jnz 3b */
	0x83, 0xc0, 0x01,				/* add eax, 1 */
	0x89, 0x04, 0x25, 0x40, 0x20, 0x02, 0x00,	/* mov [0x22040], eax */
	0xc7, 0x04, 0x25, 0x00, 0x20, 0x02, 0x00,
	0x00, 0x00, 0x00, 0x00,				/* mov dword [0x22000], 0 */
	0xff, 0xcd,					/* dec ebp */
	0x75, 0xc3,					/* jnz 1b */
	0xf4,						/* hlt */
};

static void spinlock(void **state)
{
	for (size_t k = 0; k < NR_CFGS; k++) {
		struct mp p;
		struct job jobs[MAX_CPUS];
		mp_create(&p, &cfgs[k], 3);
		put(&p, C_CODE, spin_code, sizeof(spin_code));
		for (unsigned i = 0; i < 3; i++)
			set_entry(&p, i, C_CODE, STACK(i));
		run_all(&p, 3, jobs);
		assert_int_equal(get32(&p, S_COUNT), 3 * C_ITERS);
		assert_int_equal(get32(&p, S_LOCK), 0);
		hwg_destroy(&p.g);
	}
}

/* ------------------------------------------------------------ kick */

#define K_COUNT		0x25000ull

static const uint8_t spin_forever[] = {
	0x48, 0xff, 0x04, 0x25, 0x00, 0x50, 0x02, 0x00,	/* 1: inc qword [0x25000] */
	0xeb, 0xf6,					/* jmp 1b */
};

/* The exit is the host timer's: on VMX, with "acknowledge interrupt on
 * exit" (the harness sets it), the exit reports its vector. */
static void assert_timer_exit(struct mp *p, uint64_t r)
{
	assert_true(is_intr(p, r));
	if (vmx(p)) {
		uint64_t info = 0;
		vmread(p->cpu[0], VMCS_EXIT_INTR_INFO, &info);
		assert_int_equal(info, HW_DEADLINE_VECTOR | (1u << 31));	/* valid, type 0 */
	}
}

struct spinner {
	struct mp *p;
	uint64_t exit;
};

static void *spinner_run(void *arg)
{
	struct spinner *s = arg;
	s->exit = enter(s->p, 0);
	return NULL;
}

/* A guest in a loop that never exits on its own leaves, promptly, when
 * another thread kicks its processor. */
static void kick_running_on(const struct mcfg *c)
{
	struct mp p;
	mp_create(&p, c, 1);
	put(&p, C_CODE, spin_forever, sizeof(spin_forever));
	set_entry(&p, 0, C_CODE, STACK(0));
	/* Should the kick be lost, the host timer ends the run anyway, far
	 * too late for the check below. */
	hw_cpu_set_deadline(p.cpu[0], 200000000);
	struct spinner s = { .p = &p };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, spinner_run, &s), 0);
	while (get64(&p, K_COUNT) < 100000)
		sched_yield();
	hw_cpu_kick(p.cpu[0]);
	const uint64_t at_kick = get64(&p, K_COUNT);
	pthread_join(t, NULL);
	assert_timer_exit(&p, s.exit);
	/* Two instructions a pass: at most HW_RUN_SLICE (4096, hw/run.c)
	 * instructions after the kick, 2048 passes; twice that leaves room
	 * for the read above to lag. */
	const uint64_t after = get64(&p, K_COUNT) - at_kick;
	if (after > 4096)
		print_error("%llu passes after the kick\n", (unsigned long long)after);
	assert_true(after <= 4096);
	hwg_destroy(&p.g);
}

static void kick_running(void **state)
{
	for (size_t k = 0; k < NR_CFGS; k++)
		kick_running_on(&cfgs[k]);
}

/* Kicks outside guest mode: the next entry exits before the guest's
 * first instruction, and the one after runs normally (here to a host
 * timer 100 instructions on). */
static void kick_pending_on(const struct mcfg *c)
{
	struct mp p;
	mp_create(&p, c, 1);
	put(&p, C_CODE, spin_forever, sizeof(spin_forever));
	set_entry(&p, 0, C_CODE, STACK(0));
	hw_cpu_kick(p.cpu[0]);
	hw_cpu_kick(p.cpu[0]);		/* not taken yet: the same kick */
	const uint64_t insns0 = hw_cpu_counters(p.cpu[0])->insns;
	assert_timer_exit(&p, enter(&p, 0));
	assert_int_equal(hw_cpu_counters(p.cpu[0])->insns, insns0);
	assert_int_equal(get64(&p, K_COUNT), 0);

	hw_cpu_set_deadline(p.cpu[0], insns0 + 100);
	assert_timer_exit(&p, enter(&p, 0));
	assert_int_equal(hw_cpu_counters(p.cpu[0])->insns, insns0 + 100);
	assert_int_equal(get64(&p, K_COUNT), 50);
	hwg_destroy(&p.g);
}

static void kick_pending(void **state)
{
	for (size_t k = 0; k < NR_CFGS; k++)
		kick_pending_on(&cfgs[k]);
}

/* ------------------------------------------------------------ cross-modifying code */

#define X_SEQ		0x24000ull	/* A: the value it last patched in */
#define X_ACK		0x24004ull	/* B: the value it last checked */
#define X_BAD		0x24008ull	/* B: seq, imm when it saw old code */
#define X_CODE_B	0x30000ull
#define X_IMM		(X_CODE_B + 0x0c)
#define X_CODE_A	0x31000ull
#define X_ROUNDS	1000

/* B: read seq, serialize, run the patched MOV; its value must not be
 * older than seq (SDM 9.1.3: the writer stores the code, then signals;
 * the executing processor waits for the signal, serializes, runs it).
 * An old value is recorded and B goes on, so A never waits forever. */
static const uint8_t cmc_b[] = {
	0x8b, 0x34, 0x25, 0x00, 0x40, 0x02, 0x00,	/* 1: mov esi, [0x24000] */
	0x31, 0xc0,					/* xor eax, eax */
	0x0f, 0xa2,					/* cpuid */
	0xbf, 0x00, 0x00, 0x00, 0x00,			/* mov edi, imm32 (at +0x0c) */
	0x39, 0xf7,					/* cmp edi, esi */
	0x73, 0x0e,					/* jae 2f */
	0x89, 0x34, 0x25, 0x08, 0x40, 0x02, 0x00,	/* mov [0x24008], esi */
	0x89, 0x3c, 0x25, 0x0c, 0x40, 0x02, 0x00,	/* mov [0x2400c], edi */
	0x89, 0x34, 0x25, 0x04, 0x40, 0x02, 0x00,	/* 2: mov [0x24004], esi */
	0x81, 0xfe, 0xe8, 0x03, 0x00, 0x00,		/* cmp esi, 1000 */
	0x75, 0xcf,					/* jne 1b */
	0xf4,						/* hlt */
};

/* A: patch k into B's MOV, publish k, wait for B to have checked k. */
static const uint8_t cmc_a[] = {
	0xb9, 0x01, 0x00, 0x00, 0x00,			/* mov ecx, 1 */
	0x89, 0x0c, 0x25, 0x0c, 0x00, 0x03, 0x00,	/* 1: mov [0x3000c], ecx */
	0x89, 0x0c, 0x25, 0x00, 0x40, 0x02, 0x00,	/* mov [0x24000], ecx */
	0xf3, 0x90,					/* 2: pause */
	0x39, 0x0c, 0x25, 0x04, 0x40, 0x02, 0x00,	/* cmp [0x24004], ecx */
	0x75, 0xf5,					/* jne 2b */
	0xff, 0xc1,					/* inc ecx */
	0x81, 0xf9, 0xe9, 0x03, 0x00, 0x00,		/* cmp ecx, 1001 */
	0x75, 0xdd,					/* jne 1b */
	0xf4,						/* hlt */
};

static void cross_modifying_code(void **state)
{
	for (size_t k = 0; k < NR_CFGS; k++) {
		struct mp p;
		struct job jobs[2];
		mp_create(&p, &cfgs[k], 2);
		put(&p, X_CODE_B, cmc_b, sizeof(cmc_b));
		put(&p, X_CODE_A, cmc_a, sizeof(cmc_a));
		set_entry(&p, 0, X_CODE_B, STACK(0));
		set_entry(&p, 1, X_CODE_A, STACK(1));
		run_all(&p, 2, jobs);
		if (get32(&p, X_BAD))
			print_error("%s%s: after seq %u, cpuid, the old immediate %u ran\n",
				    vmx(&p) ? "vmx" : "svm", p.g.tdp ? "+tdp" : "",
				    get32(&p, X_BAD), get32(&p, X_BAD + 4));
		assert_int_equal(get32(&p, X_BAD), 0);
		assert_int_equal(get32(&p, X_ACK), X_ROUNDS);
		assert_int_equal(get32(&p, X_IMM), X_ROUNDS);
		if (vmx(&p))
			assert_true(jobs[0].cpuid_exits >= X_ROUNDS);
		hwg_destroy(&p.g);
	}
}

/* ------------------------------------------------------------ torn PTE */

/*
 * Two translations of GV whose entries differ in both 4-byte halves: P1
 * above 4 GiB, P2 below. A torn entry would name T1 (P1's high half, P2's
 * low) or T2 (the reverse). Each page's first dword says which it is.
 * Without EPT/NPT these are host-physical addresses (the machine gets a
 * 5 GiB arena, backed lazily); with it guest-physical ones, mapped to the
 * same host-physical addresses (T2 is in guest RAM either way).
 */
#define GV		0x40000000ull
#define P1		0x100005000ull
#define P2		0x002006000ull
#define T1		((P1 & ~0xffffffffull) | (P2 & 0xffffffffull))
#define T2		((P2 & ~0xffffffffull) | (P1 & 0xffffffffull))
/* V1 has A set, so a walk that reads it uses it as read, and a torn
 * entry with V1's low half would be used too; V2 has A clear, so a walk
 * that reads it sets A with a locked compare-exchange, which fails and
 * walks again whenever the writer got there first (hw_walk_set_bits). */
#define PTE_FLAGS	(PTE_P | PTE_RW)
#define V1		(P1 | PTE_FLAGS | PTE_A)
#define V2		(P2 | PTE_FLAGS)
#define E_DONE		0x26000ull
#define E_BAD		0x26008ull
#define E_SEEN		0x2600cull
#define E_PASSES	20000

/* A: rewrite the PTE (at disp32 +4 and +12) with rax and rbx until B is done. */
static const uint8_t pte_writer[] = {
	0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00,	/* 1: mov [pte], rax */
	0x48, 0x89, 0x1c, 0x25, 0x00, 0x00, 0x00, 0x00,	/* mov [pte], rbx */
	0x83, 0x3c, 0x25, 0x00, 0x60, 0x02, 0x00, 0x00,	/* cmp dword [0x26000], 0 */
	0x74, 0xe6,					/* je 1b */
	0xf4,						/* hlt */
};

/* B: invalidate GV, read through it, count what is neither 1 nor 2. */
static const uint8_t pte_reader[] = {
	0xbd, 0x20, 0x4e, 0x00, 0x00,			/* mov ebp, 20000 */
	0x0f, 0x01, 0x3c, 0x25, 0x00, 0x00, 0x00, 0x40,	/* 1: invlpg [0x40000000] */
	0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40,	/* mov eax, [0x40000000] */
	0x8d, 0x48, 0xff,				/* lea ecx, [rax - 1] */
	0x83, 0xf9, 0x01,				/* cmp ecx, 1 */
	0x76, 0x0e,					/* jbe 2f */
	0xff, 0x04, 0x25, 0x08, 0x60, 0x02, 0x00,	/* inc dword [0x26008] */
	0x89, 0x04, 0x25, 0x0c, 0x60, 0x02, 0x00,	/* mov [0x2600c], eax */
	0xff, 0xcd,					/* 2: dec ebp */
	0x75, 0xd7,					/* jnz 1b */
	0xc7, 0x04, 0x25, 0x00, 0x60, 0x02, 0x00,
	0x01, 0x00, 0x00, 0x00,				/* mov dword [0x26000], 1 */
	0xf4,						/* hlt */
};

/* Host memory holding (guest-)physical page @pa of this test. */
static uint32_t *page_of(struct mp *p, uint64_t pa)
{
	if (p->g.tdp && pa < RAM)
		return gmem(p, pa, 4);
	return hw_hpa_ptr(p->g.m, pa, 4);
}

static void torn_pte_on(const struct mcfg *c)
{
	struct hw_machine_config mc;
	hw_machine_config_default(&mc, c->vendor);
	mc.arena_size = 5ull << 30;
	struct mp p;
	struct job jobs[2];
	mp_create_opts(&p, c, 2, &mc);
	if (p.g.tdp) {
		const enum ptb_fmt f = vmx(&p) ? PTB_EPT : PTB_64;
		const uint64_t fl = vmx(&p) ? EPT_R | EPT_W | EPT_X | EPT_MT_WB
					    : PTE_P | PTE_RW | PTE_US;
		const uint64_t pages[] = { P1, P2, T1 };
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(ptb_map(&p.g.host, f, p.g.tdp_root, pages[i], pages[i],
						 PTB_4K, fl), 0);
	}
	*page_of(&p, P1) = 1;
	*page_of(&p, P2) = 2;
	*page_of(&p, T1) = 0xbad1;
	*page_of(&p, T2) = 0xbad2;
	assert_int_equal(ptb_map(&p.g.guest, PTB_64, p.g.cr3, GV, P1, PTB_4K, PTE_FLAGS | PTE_A), 0);
	const uint64_t pte = ptb_entry_addr(&p.g.guest, PTB_64, p.g.cr3, GV, 1);
	const uint64_t pte_va = p.g.tdp ? pte : pte - p.g.ram_hpa;	/* identity map */
	assert_true(pte_va < RAM);

	uint8_t w[sizeof(pte_writer)];
	memcpy(w, pte_writer, sizeof(w));
	const uint32_t d = (uint32_t)pte_va;
	memcpy(w + 4, &d, 4);
	memcpy(w + 12, &d, 4);
	put(&p, C_CODE, w, sizeof(w));
	put(&p, X_CODE_B, pte_reader, sizeof(pte_reader));
	set_entry(&p, 0, X_CODE_B, STACK(0));
	set_entry(&p, 1, C_CODE, STACK(1));
	set_gpr(&p, 1, 0, V1);
	set_gpr(&p, 1, 3, V2);
	run_all(&p, 2, jobs);
	if (get32(&p, E_BAD))
		print_error("%u reads through a torn PTE, the last read %#x\n",
			    get32(&p, E_BAD), get32(&p, E_SEEN));
	assert_int_equal(get32(&p, E_BAD), 0);
	assert_int_equal(get32(&p, E_DONE), 1);
	assert_true(hw_cpu_counters(p.cpu[0])->tlb_misses >= E_PASSES);
	hwg_destroy(&p.g);
}

static void torn_pte(void **state)
{
	for (size_t k = 0; k < NR_CFGS; k++)
		torn_pte_on(&cfgs[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counters),
		cmocka_unit_test(spinlock),
		cmocka_unit_test(kick_running),
		cmocka_unit_test(kick_pending),
		cmocka_unit_test(cross_modifying_code),
		cmocka_unit_test(torn_pte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
