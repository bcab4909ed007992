/*
 * native.c — run a case on the host CPU, in a long-lived child process.
 *
 * Memory: one memfd holds the state page, the code page and the sandbox.
 * The parent maps it whole (read-write, anywhere) to write inputs and
 * read results; the child maps the three parts at their fixed addresses
 * (difftest.h), the code page read+execute only, with PROT_NONE guards
 * around the sandbox so stray accesses fault as they do in the emulator.
 *
 * Running: the parent writes the code page (prologue | sequence |
 * epilogue) and the registers, then sends one byte down a pipe. The
 * child calls dt_native_enter(), which saves the C callee-saved
 * registers and RSP in the state page and jumps to the prologue; the
 * prologue loads RFLAGS and all 16 GPRs from the state page (RSP last),
 * the sequence runs, and the epilogue stores the GPRs, restores the host
 * RSP, stores RFLAGS and returns to C. Only plain MOVs touch registers in
 * between, so RFLAGS is what the sequence left.
 *
 * Faults: SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGTRAP handlers run on an
 * alternate stack (RSP points into the sandbox) and copy the
 * ucontext — trap number, error code, CR2, RIP, RFLAGS, GPRs — into the
 * state page, then siglongjmp() back to the loop. If the child dies
 * anyway, or hangs, the parent reports the case and starts a new child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "difftest.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* ------------------------------------------------------------ state page */

struct dt_fault_rec {
	int32_t signo;
	int32_t pad;
	uint64_t trapno, err, cr2, rip, rflags;
	uint64_t gpr[EMU_NR_GPRS];
};

/* The first 0x120 bytes are addressed by the assembly below. */
struct dt_state_page {
	uint64_t in_gpr[EMU_NR_GPRS];	/* 0x000 */
	uint64_t in_rflags;		/* 0x080 */
	uint64_t out_gpr[EMU_NR_GPRS];	/* 0x088 */
	uint64_t out_rflags;		/* 0x108 */
	uint64_t host_rsp;		/* 0x110 */
	uint64_t entry;			/* 0x118 */
	struct dt_fault_rec fault;	/* 0x120 */
};

_Static_assert(offsetof(struct dt_state_page, in_rflags) == 0x80, "asm layout");
_Static_assert(offsetof(struct dt_state_page, out_gpr) == 0x88, "asm layout");
_Static_assert(offsetof(struct dt_state_page, out_rflags) == 0x108, "asm layout");
_Static_assert(offsetof(struct dt_state_page, host_rsp) == 0x110, "asm layout");
_Static_assert(offsetof(struct dt_state_page, entry) == 0x118, "asm layout");
_Static_assert(sizeof(struct dt_state_page) <= 0x1000, "one page");

/* memfd layout */
#define OFF_STATE 0x0000u
#define OFF_CODE  0x1000u
#define OFF_SB	  0x2000u
#define MEMFD_SIZE (OFF_SB + DT_SB_SIZE)

/* ------------------------------------------------------------ assembly */

#define STR_(x) #x
#define STR(x) STR_(x)
#define ST(off) STR(DT_STATE_BASE) "+" #off

/*
 * dt_prologue..dt_prologue_end and dt_epilogue..dt_epilogue_end are
 * copied into the code page (absolute addresses only, so they run
 * anywhere); dt_native_enter runs in place.
 */
__asm__(
	"	.pushsection .rodata\n"
	"	.globl dt_prologue, dt_prologue_end, dt_epilogue, dt_epilogue_end\n"
	"dt_prologue:\n"
	"	pushq " ST(0x80) "\n"
	"	popfq\n"
	"	movq " ST(0x00) ", %rax\n"
	"	movq " ST(0x08) ", %rcx\n"
	"	movq " ST(0x10) ", %rdx\n"
	"	movq " ST(0x18) ", %rbx\n"
	"	movq " ST(0x28) ", %rbp\n"
	"	movq " ST(0x30) ", %rsi\n"
	"	movq " ST(0x38) ", %rdi\n"
	"	movq " ST(0x40) ", %r8\n"
	"	movq " ST(0x48) ", %r9\n"
	"	movq " ST(0x50) ", %r10\n"
	"	movq " ST(0x58) ", %r11\n"
	"	movq " ST(0x60) ", %r12\n"
	"	movq " ST(0x68) ", %r13\n"
	"	movq " ST(0x70) ", %r14\n"
	"	movq " ST(0x78) ", %r15\n"
	"	movq " ST(0x20) ", %rsp\n"
	"dt_prologue_end:\n"
	"dt_epilogue:\n"
	"	movq %rax, " ST(0x88) "\n"
	"	movq %rcx, " ST(0x90) "\n"
	"	movq %rdx, " ST(0x98) "\n"
	"	movq %rbx, " ST(0xa0) "\n"
	"	movq %rsp, " ST(0xa8) "\n"
	"	movq %rbp, " ST(0xb0) "\n"
	"	movq %rsi, " ST(0xb8) "\n"
	"	movq %rdi, " ST(0xc0) "\n"
	"	movq %r8, " ST(0xc8) "\n"
	"	movq %r9, " ST(0xd0) "\n"
	"	movq %r10, " ST(0xd8) "\n"
	"	movq %r11, " ST(0xe0) "\n"
	"	movq %r12, " ST(0xe8) "\n"
	"	movq %r13, " ST(0xf0) "\n"
	"	movq %r14, " ST(0xf8) "\n"
	"	movq %r15, " ST(0x100) "\n"
	"	movq " ST(0x110) ", %rsp\n"
	"	pushfq\n"
	"	popq " ST(0x108) "\n"
	"	pushq $0x202\n"		/* DF clear for C; no NT/ID left over */
	"	popfq\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbp\n"
	"	popq %rbx\n"
	"	ret\n"
	"dt_epilogue_end:\n"
	"	.popsection\n"
	"	.text\n"
	"	.globl dt_native_enter\n"
	"	.type dt_native_enter, @function\n"
	"dt_native_enter:\n"
	"	pushq %rbx\n"
	"	pushq %rbp\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, " ST(0x110) "\n"
	"	jmpq *" ST(0x118) "\n"
	"	.size dt_native_enter, .-dt_native_enter\n");

extern const uint8_t dt_prologue[], dt_prologue_end[];
extern const uint8_t dt_epilogue[], dt_epilogue_end[];
void dt_native_enter(void);

/* ------------------------------------------------------------ child */

static sigjmp_buf dt_jmp;
static volatile sig_atomic_t dt_in_native;

static const int greg_of[EMU_NR_GPRS] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void child_on_fault(int sig, siginfo_t *si, void *ucv)
{
	struct dt_state_page *p = (struct dt_state_page *)(uintptr_t)DT_STATE_BASE;
	const greg_t *gr = ((ucontext_t *)ucv)->uc_mcontext.gregs;

	(void)si;
	if (!dt_in_native) {		/* a real crash of the harness */
		signal(sig, SIG_DFL);
		return;
	}
	p->fault.signo = sig;
	p->fault.trapno = (uint64_t)gr[REG_TRAPNO];
	p->fault.err = (uint64_t)gr[REG_ERR];
	p->fault.cr2 = (uint64_t)gr[REG_CR2];
	p->fault.rip = (uint64_t)gr[REG_RIP];
	p->fault.rflags = (uint64_t)gr[REG_EFL];
	for (unsigned i = 0; i < EMU_NR_GPRS; i++)
		p->fault.gpr[i] = (uint64_t)gr[greg_of[i]];
	dt_in_native = 0;
	siglongjmp(dt_jmp, 1);
}

static void child_die(const char *what)
{
	fprintf(stderr, "difftest: native child: %s: %s\n", what, strerror(errno));
	_exit(2);
}

static void child_map(int fd, uint64_t addr, size_t len, int prot, off_t off)
{
	void *p;

	if (fd >= 0)
		p = mmap((void *)(uintptr_t)addr, len, prot,
			 MAP_SHARED | MAP_FIXED_NOREPLACE, fd, off);
	else
		p = mmap((void *)(uintptr_t)addr, len, prot,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (void *)(uintptr_t)addr)
		child_die("cannot map the fixed test area at 0x30000000");
}

static void child_setup(int memfd)
{
	static uint8_t altstack[64 * 1024];
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	child_map(memfd, DT_STATE_BASE, 0x1000, PROT_READ | PROT_WRITE, OFF_STATE);
	child_map(memfd, DT_CODE_BASE, DT_CODE_SIZE, PROT_READ | PROT_EXEC, OFF_CODE);
	child_map(memfd, DT_SB_BASE, DT_SB_SIZE, PROT_READ | PROT_WRITE, OFF_SB);
	child_map(-1, DT_SB_BASE - DT_GUARD, DT_GUARD, PROT_NONE, 0);
	child_map(-1, DT_SB_END, DT_GUARD, PROT_NONE, 0);
	if (sigaltstack(&ss, NULL))
		child_die("sigaltstack");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = child_on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			child_die("sigaction");
}

static void child_run_once(void)
{
	struct dt_state_page *p = (struct dt_state_page *)(uintptr_t)DT_STATE_BASE;

	p->fault.signo = 0;
	if (sigsetjmp(dt_jmp, 1) == 0) {
		dt_in_native = 1;
		dt_native_enter();
		dt_in_native = 0;
	}
}

static void __attribute__((noreturn)) child_main(int memfd, int cmd, int done)
{
	child_setup(memfd);
	for (;;) {
		char b;

		if (read(cmd, &b, 1) != 1)
			_exit(0);
		child_run_once();
		if (write(done, &b, 1) != 1)
			_exit(0);
	}
}

/* ------------------------------------------------------------ parent */

static struct {
	int memfd;
	uint8_t *view;		/* the whole memfd */
	pid_t pid;
	int cmd;		/* write end */
	int done;		/* read end */
} nat = { .memfd = -1, .pid = -1, .cmd = -1, .done = -1 };

static int spawn_child(void)
{
	int cmd[2], done[2];

	if (pipe2(cmd, O_CLOEXEC) || pipe2(done, O_CLOEXEC)) {
		perror("difftest: pipe");
		return -errno;
	}
	nat.pid = fork();
	if (nat.pid < 0) {
		perror("difftest: fork");
		return -errno;
	}
	if (nat.pid == 0) {
		close(cmd[1]);
		close(done[0]);
		child_main(nat.memfd, cmd[0], done[1]);
	}
	close(cmd[0]);
	close(done[1]);
	nat.cmd = cmd[1];
	nat.done = done[0];
	return 0;
}

static void reap_child(int *status)
{
	if (nat.pid > 0) {
		kill(nat.pid, SIGKILL);
		waitpid(nat.pid, status, 0);
	}
	close(nat.cmd);
	close(nat.done);
	nat.pid = -1;
}

int dt_native_init(void)
{
	signal(SIGPIPE, SIG_IGN);
	nat.memfd = memfd_create("difftest", MFD_CLOEXEC);
	if (nat.memfd < 0 || ftruncate(nat.memfd, MEMFD_SIZE)) {
		perror("difftest: memfd");
		return -errno;
	}
	nat.view = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			nat.memfd, 0);
	if (nat.view == MAP_FAILED) {
		perror("difftest: mmap");
		return -errno;
	}
	return spawn_child();
}

void dt_native_fini(void)
{
	if (nat.pid > 0) {
		close(nat.cmd);		/* the child exits on EOF */
		waitpid(nat.pid, NULL, 0);
		close(nat.done);
		nat.pid = -1;
	}
}

const uint8_t *dt_native_code_page(void)
{
	return nat.view + OFF_CODE;
}

/* prologue | sequence at DT_SEQ_BASE | epilogue; the rest INT3. */
static uint64_t build_code(const struct dt_case *c)
{
	uint8_t *code = nat.view + OFF_CODE;
	size_t plen = (size_t)(dt_prologue_end - dt_prologue);
	size_t elen = (size_t)(dt_epilogue_end - dt_epilogue);
	size_t seq = DT_SEQ_BASE - DT_CODE_BASE;

	memset(code, 0xcc, DT_CODE_SIZE);
	memcpy(code + seq - plen, dt_prologue, plen);
	memcpy(code + seq, c->code, c->len);
	memcpy(code + seq + c->len, dt_epilogue, elen);
	return DT_SEQ_BASE - plen;
}

static void native_lost(struct dt_result *r, bool hung)
{
	int status = 0;

	reap_child(&status);
	r->status = hung ? DT_NATIVE_HUNG : DT_NATIVE_DIED;
	if (hung)
		snprintf(r->why, sizeof(r->why), "native child hung; killed");
	else if (WIFSIGNALED(status))
		snprintf(r->why, sizeof(r->why), "native child killed by signal %d",
			 WTERMSIG(status));
	else
		snprintf(r->why, sizeof(r->why), "native child exited (%d)",
			 WEXITSTATUS(status));
	if (spawn_child())
		exit(2);
}

void dt_native_run(const struct dt_case *c, const uint8_t *sb_init,
		   struct dt_result *r, const uint8_t **sb_out)
{
	struct dt_state_page *p = (struct dt_state_page *)(nat.view + OFF_STATE);
	struct pollfd pfd = { .fd = nat.done, .events = POLLIN };
	char b = 'r';

	memset(r, 0, sizeof(*r));
	memcpy(p->in_gpr, c->gpr, sizeof(p->in_gpr));
	p->in_rflags = c->rflags;
	p->entry = build_code(c);
	memcpy(nat.view + OFF_SB, sb_init, DT_SB_SIZE);
	*sb_out = nat.view + OFF_SB;

	if (write(nat.cmd, &b, 1) != 1) {
		native_lost(r, false);
		return;
	}
	for (;;) {
		int n = poll(&pfd, 1, 10000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			native_lost(r, true);
			return;
		}
		break;
	}
	if (read(nat.done, &b, 1) != 1) {
		native_lost(r, false);
		return;
	}

	if (p->fault.signo) {
		r->status = DT_FAULT;
		r->signo = p->fault.signo;
		r->vector = (uint8_t)p->fault.trapno;
		r->error_code = (uint32_t)p->fault.err;
		r->cr2 = p->fault.cr2;
		r->rip = p->fault.rip;
		r->rflags = p->fault.rflags;
		memcpy(r->gpr, p->fault.gpr, sizeof(r->gpr));
	} else {
		r->status = DT_END;
		r->rip = DT_SEQ_BASE + c->len;
		r->rflags = p->out_rflags;
		memcpy(r->gpr, p->out_gpr, sizeof(r->gpr));
	}
}
