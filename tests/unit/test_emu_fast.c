/*
 * test_emu_fast.c — emu_run()'s fast forms (emulate/dcache.h) against
 * the general path: the same instructions, run once decoding every
 * instruction (emu_run() without a decode cache: execute() and the
 * handler of opcodes.def) and once through the block cache, whose 64-bit
 * blocks run specialised forms of MOV, LEA, the ALU ops, INC/DEC, shifts
 * by an immediate, IMUL and Jcc. Both must leave the same architectural
 * state (SDM: an instruction's effect does not depend on how often it
 * was decoded), the same memory, the same instruction count and the same
 * front-TLB hits and op calls (a hit is a hit whichever path serves it).
 *
 * Plus what the fast forms must leave to the general path: alignment
 * checks (SDM Vol. 3A 6.15), accesses that cross a page, non-canonical
 * addresses (Vol. 1 3.3.7.1), accesses the front TLB does not hold; and
 * the flags at a fault inside a block, which must be the last retired
 * instruction's (Vol. 3A 6.5: faults leave the state before the
 * faulting instruction), even where the fast forms skip flags that
 * nothing else would read.
 */
#include <string.h>

#include "tests/unit/support/fake_cpu.h"

#ifdef CONFIG_EMU_DECODE_CACHE

#define X86_CF (1u << 0)
#define X86_PF (1u << 2)
#define X86_AF (1u << 4)
#define X86_ZF (1u << 6)
#define X86_SF (1u << 7)
#define X86_OF (1u << 11)
#define X86_AC (1u << 18)
#define X86_CR0_AM (1ull << 18)
#define ARITH (X86_CF | X86_PF | X86_AF | X86_ZF | X86_SF | X86_OF)

#define DATA_PAGES 4			/* FAKE_DATA .. + 16 KiB in the TLB */

static struct emu_tlb_entry tlb[EMU_TLB_SIZE];
static struct emu_dcache *dc;

/* The front TLB as a caller fills it: data pages readable and writable
 * for the current access context, host memory at fake.mem. */
static void map_data(void)
{
	const uint64_t key = emu_tlb_key(&fake.ctx);
	for (unsigned i = 0; i < EMU_TLB_SIZE; i++)
		tlb[i].read_tag = tlb[i].write_tag = EMU_TLB_INVALID;
	for (uint64_t la = FAKE_DATA; la < FAKE_DATA + DATA_PAGES * 4096; la += 4096) {
		struct emu_tlb_entry *e = &tlb[(la >> 12) % EMU_TLB_SIZE];
		e->read_tag = e->write_tag = la | key;
		e->addend = (uintptr_t)fake.mem;
	}
	fake.ctx.tlb = tlb;
}

static int setup(void **state)
{
	fake_setup(state);
	fake_mode_long(0);
	dc = emu_dcache_create(8);
	assert_non_null(dc);
	map_data();
	return 0;
}

static int teardown(void **state)
{
	emu_dcache_destroy(dc);
	dc = NULL;
	return 0;
}

/* Run the code at FAKE_CODE to its HLT, through the cache or not. */
static int run(bool cached)
{
	fake.ctx.dcache = cached ? dc : NULL;
	if (cached)
		emu_dcache_flush(dc);
	int r = emu_run(&fake.ctx, 1000);
	fake.ctx.dcache = NULL;
	return r;
}

static void put_code(const uint8_t *code, size_t n)
{
	memcpy(fake.mem + FAKE_CODE, code, n);
	CPU.rip = FAKE_CODE;
}

/* ------------------------------------------------------------ agreement */

/*
 * Units a sequence is made of. Data registers: rax, rbx, rdx, r8, r9;
 * rsi and rdi point into the data pages and rcx indexes them (units
 * never write those three); so does rsp, which only PUSH, POP and CALL
 * move (never POP rSP: the stack must stay in the data pages, away from
 * the code, which the fake does not keep coherent with the cache). A RIP-relative unit has its disp32 at
 * `rip` (1-based; 0: none), fixed up to reach FAKE_DATA + 0x40.
 */
struct unit {
	uint8_t len, rip;
	uint8_t b[15];
};
#define U(...) { sizeof((uint8_t[]){ __VA_ARGS__ }), 0, { __VA_ARGS__ } }
#define UR(at, ...) { sizeof((uint8_t[]){ __VA_ARGS__ }), at, { __VA_ARGS__ } }
#define JCC8(cc) U(0x70 | (cc), 0x03, 0x48, 0xff, 0xc0)	/* jcc +3; inc rax */

static const struct unit units[] = {
	/* ALU register and immediate forms, 64 and 32 bits */
	U(0x48, 0x01, 0xd8), U(0x01, 0xd8), U(0x48, 0x03, 0xc3),	/* add */
	U(0x48, 0x29, 0xd0), U(0x29, 0xd0),				/* sub */
	U(0x48, 0x31, 0xc2), U(0x4d, 0x21, 0xc8), U(0x48, 0x09, 0xd3),	/* xor and or */
	U(0x48, 0x39, 0xd8), U(0x39, 0xd0), U(0x48, 0x85, 0xc0), U(0x85, 0xdb),
	U(0x48, 0x83, 0xc0, 0x05), U(0x48, 0x83, 0xe8, 0x7f), U(0x48, 0x83, 0xe3, 0x1f),
	U(0x48, 0x81, 0xf2, 0x78, 0x56, 0x34, 0x92), U(0x83, 0xf8, 0xff),
	U(0x48, 0x3d, 0x00, 0x00, 0x00, 0x80), U(0xa9, 0xff, 0x00, 0x00, 0x00),
	U(0x48, 0xf7, 0xc3, 0x01, 0x00, 0x00, 0x00), U(0x05, 0xff, 0xff, 0xff, 0x7f),
	/* ALU with memory: r,m by each EA form; CMP/TEST m,r and m,imm */
	U(0x48, 0x2b, 0x1c, 0xcf), U(0x48, 0x03, 0x06), U(0x0b, 0x46, 0x10),
	U(0x48, 0x3b, 0x44, 0xce, 0x08), UR(4, 0x48, 0x33, 0x05, 0, 0, 0, 0),
	U(0x23, 0x57, 0xfd), U(0x48, 0x85, 0x1e), U(0x48, 0x83, 0x3f, 0x00),
	U(0x48, 0x81, 0x7e, 0x08, 0xff, 0x00, 0x00, 0x00),
	U(0x48, 0xf7, 0x06, 0x01, 0x00, 0x00, 0x00), U(0x39, 0x54, 0xcf, 0x02),
	/* MOV and LEA */
	U(0x48, 0x89, 0xd8), U(0x89, 0xc2), U(0x4c, 0x8b, 0xc8),
	U(0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff), U(0xb8, 0x44, 0x33, 0x22, 0x91),
	U(0x48, 0xba, 1, 2, 3, 4, 5, 6, 7, 0x88),
	U(0x48, 0x8b, 0x04, 0xce), U(0x8b, 0x56, 0x04), U(0x4c, 0x8b, 0x47, 0x0b),
	U(0x48, 0x89, 0x14, 0xcf), U(0x89, 0x47, 0x0c), U(0x4c, 0x89, 0x4e, 0x21),
	U(0x48, 0xc7, 0x07, 0xff, 0xff, 0x00, 0x80), U(0xc7, 0x47, 0x04, 1, 2, 3, 4),
	UR(4, 0x48, 0x8b, 0x05, 0, 0, 0, 0), UR(4, 0x48, 0x89, 0x05, 0, 0, 0, 0),
	U(0x48, 0x8d, 0x44, 0xce, 0x10), U(0x8d, 0x56, 0xfc), UR(4, 0x48, 0x8d, 0x05, 0, 0, 0, 0),
	/* INC, DEC, shifts, IMUL */
	U(0x48, 0xff, 0xc0), U(0xff, 0xc3), U(0x49, 0xff, 0xc8), U(0xff, 0xca),
	U(0x48, 0xc1, 0xea, 0x03), U(0xc1, 0xe0, 0x05), U(0x48, 0xc1, 0xfb, 0x3f),
	U(0x48, 0xd1, 0xe0), U(0xc1, 0xe8, 0x1f), U(0x48, 0xc1, 0xe2, 0x40),
	U(0x48, 0x6b, 0xd8, 0x0d), U(0x69, 0xc3, 0x78, 0x56, 0x34, 0x12),
	U(0x48, 0x0f, 0xaf, 0xc3), U(0x0f, 0xaf, 0xd0), U(0x4d, 0x6b, 0xc1, 0x80),
	/* read-modify-writes of memory, INC/DEC of memory */
	U(0x48, 0x01, 0x06), U(0x29, 0x54, 0xcf, 0x04), U(0x48, 0x83, 0x76, 0x08, 0x80),
	U(0x81, 0x67, 0x10, 0xf0, 0xff, 0x0f, 0x00), U(0x48, 0x09, 0x5f, 0x18),
	UR(4, 0x48, 0x31, 0x05, 0, 0, 0, 0), U(0x48, 0xff, 0x06), U(0xff, 0x4c, 0xcf, 0x06),
	/* MOVZX, MOVSX: byte (with and without REX: AH..BH), word, memory */
	U(0x0f, 0xb6, 0xc3), U(0x0f, 0xb6, 0xc7), U(0x48, 0x0f, 0xb6, 0xc7),
	U(0x0f, 0xb7, 0xd0), U(0x48, 0x0f, 0xbe, 0xc4), U(0x0f, 0xbf, 0xda),
	U(0x48, 0x0f, 0xbe, 0x06), U(0x0f, 0xb7, 0x54, 0xce, 0x03), U(0x4c, 0x0f, 0xbf, 0x47, 0x05),
	/* PUSH, POP, and JMP/CALL to the next instruction */
	U(0x50), U(0x41, 0x51), U(0x6a, 0x80), U(0x68, 0x00, 0x00, 0x00, 0x80),
	U(0x5b), U(0x41, 0x58), U(0x5a), U(0xeb, 0x00), U(0xe9, 0, 0, 0, 0),
	U(0xe8, 0, 0, 0, 0), U(0xff, 0xf3), U(0x54),
	/* Jcc over an INC, every condition, both encodings */
	JCC8(0), JCC8(1), JCC8(2), JCC8(3), JCC8(4), JCC8(5), JCC8(6), JCC8(7),
	JCC8(8), JCC8(9), JCC8(10), JCC8(11), JCC8(12), JCC8(13), JCC8(14), JCC8(15),
	U(0x0f, 0x8c, 0x03, 0x00, 0x00, 0x00, 0x48, 0xff, 0xc0),
	U(0x0f, 0x87, 0x03, 0x00, 0x00, 0x00, 0x48, 0xff, 0xc0),
	/* General-path company that reads or writes flags */
	U(0x48, 0x11, 0xd8), U(0x48, 0x19, 0xd0), U(0xf9), U(0xf5),
	U(0x0f, 0x92, 0xc0), U(0x48, 0x0f, 0x44, 0xc3), U(0x48, 0xf7, 0xdb),
	U(0x48, 0xd3, 0xe0), U(0x66, 0x01, 0xd8), U(0x00, 0xd8),
};
#define NR_UNITS (sizeof(units) / sizeof(units[0]))

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A random register value: small, near a boundary, or anything. */
static uint64_t value(void)
{
	switch (rng() % 4) {
	case 0: return rng() % 4;
	case 1: return (uint64_t)-(int64_t)(rng() % 4);
	case 2: return (rng() & 1 ? 0x80000000ull : 0x8000000000000000ull) - rng() % 3;
	default: return rng();
	}
}

struct snap {
	int r;
	uint64_t gpr[EMU_NR_GPRS], rip, rflags, icount, tlb_hits;
	int reads, writes;
	uint8_t data[DATA_PAGES * 4096];
};

static void snap(struct snap *s, int r)
{
	s->r = r;
	memcpy(s->gpr, CPU.gpr, sizeof(s->gpr));
	s->rip = CPU.rip;
	s->rflags = CPU.rflags;
	s->icount = fake.ctx.icount;
	s->tlb_hits = fake.ctx.tlb_hits;
	s->reads = fake.read_count;
	s->writes = fake.write_count;
	memcpy(s->data, fake.mem + FAKE_DATA, sizeof(s->data));
}

static void assert_same(const struct snap *a, const struct snap *b, unsigned seq)
{
	if (memcmp(a->gpr, b->gpr, sizeof(a->gpr)) || a->rip != b->rip ||
	    a->rflags != b->rflags || a->r != b->r || a->icount != b->icount ||
	    a->tlb_hits != b->tlb_hits || a->reads != b->reads || a->writes != b->writes)
		print_error("sequence %u: general r=%d rip=%#llx rflags=%#llx icount=%llu "
			    "hits=%llu ops=%d/%d; fast r=%d rip=%#llx rflags=%#llx icount=%llu "
			    "hits=%llu ops=%d/%d\n", seq, a->r, (unsigned long long)a->rip,
			    (unsigned long long)a->rflags, (unsigned long long)a->icount,
			    (unsigned long long)a->tlb_hits, a->reads, a->writes, b->r,
			    (unsigned long long)b->rip, (unsigned long long)b->rflags,
			    (unsigned long long)b->icount, (unsigned long long)b->tlb_hits,
			    b->reads, b->writes);
	for (unsigned i = 0; i < EMU_NR_GPRS; i++)
		assert_int_equal(a->gpr[i], b->gpr[i]);
	assert_int_equal(a->rip, b->rip);
	assert_int_equal(a->rflags, b->rflags);
	assert_int_equal(a->r, b->r);
	assert_int_equal(a->icount, b->icount);
	assert_int_equal(a->tlb_hits, b->tlb_hits);
	assert_int_equal(a->reads, b->reads);
	assert_int_equal(a->writes, b->writes);
	assert_memory_equal(a->data, b->data, sizeof(a->data));
}

/* A random sequence of up to 10 units and a HLT at FAKE_CODE. */
static void random_sequence(void)
{
	uint8_t code[10 * 15 + 1];
	size_t n = 0;
	for (unsigned k = 1 + rng() % 10; k; k--) {
		const struct unit *u = &units[rng() % NR_UNITS];
		memcpy(code + n, u->b, u->len);
		if (u->rip) {
			/* disp32 relative to the end of the unit's instruction */
			const int32_t d = (int32_t)(FAKE_DATA + 0x40 -
						    (FAKE_CODE + n + u->rip + 3));
			memcpy(code + n + u->rip - 1, &d, 4);
		}
		n += u->len;
	}
	code[n++] = 0xf4;				/* hlt */
	put_code(code, n);
}

static void random_state(void)
{
	for (unsigned i = 0; i < EMU_NR_GPRS; i++)
		CPU.gpr[i] = value();
	CPU.gpr[EMU_RSI] = FAKE_DATA + 0x100 + rng() % 0x700;
	CPU.gpr[EMU_RDI] = FAKE_DATA + 0x900 + rng() % 0x700;
	CPU.gpr[EMU_RCX] = rng() % 32;
	/* the stack in the data pages too, now and then misaligned */
	CPU.gpr[EMU_RSP] = FAKE_DATA + 0x3000 - (rng() % 4 ? 0 : rng() % 8);
	CPU.rflags = EMU_FLAG_FIXED | (rng() & ARITH);
	for (unsigned i = 0; i < DATA_PAGES * 4096; i += 8) {
		const uint64_t v = value();
		memcpy(fake.mem + FAKE_DATA + i, &v, 8);
	}
}

static void run_both(unsigned id);

static void fast_forms_agree_with_general_path(void **state)
{
	rng_state = 0x9e3779b97f4a7c15ull;
	for (unsigned seq = 0; seq < 6000; seq++) {
		random_sequence();
		random_state();
		run_both(seq);
	}
}

/* Run the code at FAKE_CODE from the current state both ways; compare. */
static void run_both(unsigned id)
{
	static struct snap general, fast;
	static struct emu_cpu cpu0;
	static uint8_t data0[DATA_PAGES * 4096];

	cpu0 = CPU;
	memcpy(data0, fake.mem + FAKE_DATA, sizeof(data0));
	fake.ctx.icount = fake.ctx.tlb_hits = 0;
	fake.read_count = fake.write_count = 0;
	snap(&general, run(false));
	CPU = cpu0;
	memcpy(fake.mem + FAKE_DATA, data0, sizeof(data0));
	fake.ctx.icount = fake.ctx.tlb_hits = 0;
	fake.read_count = fake.write_count = 0;
	snap(&fast, run(true));
	assert_same(&general, &fast, id);
}

/* ------------------------------------------------------------ loops */

/* Calls and returns, a JMP loop, RET imm16, POP rSP; and a return to a
 * non-canonical address, #GP(0) with rSP unchanged (SDM RET). */
static void calls_returns_and_jmp_loops(void **state)
{
	static const uint8_t code[] = {
		0xb9, 0x32, 0x00, 0x00, 0x00,	/* 0: mov ecx,50 */
		0xe8, 0x13, 0x00, 0x00, 0x00,	/* 5: call f (0x1d) */
		0xff, 0xc9,			/* a: dec ecx */
		0x75, 0xf7,			/* c: jnz 5 */
		0x48, 0xff, 0xc3,		/* e: inc rbx        (jmp loop) */
		0x48, 0x83, 0xfb, 0x28,		/* 11: cmp rbx,40 */
		0x74, 0x02,			/* 15: je 0x19 */
		0xeb, 0xf5,			/* 17: jmp e */
		0x6a, 0x07,			/* 19: push 7 */
		0xeb, 0x09,			/* 1b: jmp 0x26 */
		0x48, 0x83, 0xc0, 0x03,		/* 1d: f: add rax,3 */
		0xc3,				/* 21: ret */
		0x90, 0x90, 0x90, 0x90,		/* 22 */
		0xe8, 0x03, 0x00, 0x00, 0x00,	/* 26: call g (0x2e) */
		0xf4,				/* 2b: hlt */
		0x90, 0x90,			/* 2c */
		0xc2, 0x08, 0x00,		/* 2e: g: ret 8 (drops the 7) */
	};
	put_code(code, sizeof(code));
	CPU.gpr[EMU_RSP] = FAKE_DATA + 0x2000;
	CPU.gpr[EMU_RAX] = 0;
	CPU.gpr[EMU_RBX] = 0;
	run_both(0);
	assert_int_equal(CPU.gpr[EMU_RAX], 150);
	assert_int_equal(CPU.gpr[EMU_RBX], 40);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_DATA + 0x2000);
	assert_int_equal(CPU.rip, FAKE_CODE + 0x2c);
	assert_true(fake.ctx.tlb_hits > 100);		/* the stack, through the TLB */

	/* POP rSP: rSP is the value popped, not that plus 8 (SDM POP). */
	static const uint8_t pop_rsp[] = { 0x5c, 0xf4 };	/* pop rsp; hlt */
	put_code(pop_rsp, sizeof(pop_rsp));
	CPU.gpr[EMU_RSP] = FAKE_DATA + 0x100;
	fake_w64(FAKE_DATA + 0x100, FAKE_DATA + 0x2000);
	assert_int_equal(run(true), EMU_HALT);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_DATA + 0x2000);

	static const uint8_t bad_ret[] = { 0xc3, 0xf4 };	/* ret; hlt */
	put_code(bad_ret, sizeof(bad_ret));
	CPU.gpr[EMU_RSP] = FAKE_DATA + 0x100;
	fake_w64(FAKE_DATA + 0x100, 0x0000800000000000ull);
	assert_gp(run(true), 0);
	assert_int_equal(CPU.gpr[EMU_RSP], FAKE_DATA + 0x100);
	assert_int_equal(CPU.rip, FAKE_CODE);
}


/* A loop in one block, stopped by the budget at every point of it. */
static void loop_in_one_block_honours_the_budget(void **state)
{
	static const uint8_t loop[] = {
		0x48, 0x01, 0x06,		/* add [rsi],rax  (general: RMW) */
		0x48, 0x8b, 0x1e,		/* mov rbx,[rsi] */
		0x48, 0xff, 0xc0,		/* inc rax */
		0x48, 0xff, 0xca,		/* dec rdx */
		0x75, 0xf2,			/* jnz loop */
		0xf4,				/* hlt */
	};
	for (uint64_t max = 1; max <= 700; max += 37) {
		uint64_t icount[2], rip[2], rbx[2], rax[2], mem[2];
		for (unsigned cached = 0; cached < 2; cached++) {
			put_code(loop, sizeof(loop));
			CPU.gpr[EMU_RSI] = FAKE_DATA;
			CPU.gpr[EMU_RAX] = 1;
			CPU.gpr[EMU_RDX] = 100;
			fake_w64(FAKE_DATA, 0);
			fake.ctx.icount = 0;
			fake.ctx.dcache = cached ? dc : NULL;
			if (cached)
				emu_dcache_flush(dc);
			const int r = emu_run(&fake.ctx, max);
			fake.ctx.dcache = NULL;
			assert_int_equal(r, max > 5 * 100 ? EMU_HALT : EMU_CONTINUE);
			icount[cached] = fake.ctx.icount;
			rip[cached] = CPU.rip;
			rbx[cached] = CPU.gpr[EMU_RBX];
			rax[cached] = CPU.gpr[EMU_RAX];
			mem[cached] = fake_r64(FAKE_DATA);
		}
		/* 5 instructions per pass, 100 passes, then the HLT. */
		assert_int_equal(icount[0], max > 500 ? 501 : max);
		assert_int_equal(icount[1], icount[0]);
		assert_int_equal(rip[1], rip[0]);
		assert_int_equal(rbx[1], rbx[0]);
		assert_int_equal(rax[1], rax[0]);
		assert_int_equal(mem[1], mem[0]);
	}
}

/* ------------------------------------------------------------ the general path's cases */

/* CPL 3, CR0.AM and RFLAGS.AC: a misaligned load is #AC(0) even though
 * the front TLB holds the page (SDM Vol. 3A 6.15). */
static void alignment_check_reaches_fast_loads(void **state)
{
	static const uint8_t code[] = { 0x48, 0x8b, 0x06, 0xf4 };	/* mov rax,[rsi]; hlt */
	fake_mode_long(3);
	CPU.cr0 |= X86_CR0_AM;
	map_data();
	put_code(code, sizeof(code));
	CPU.gpr[EMU_RSI] = FAKE_DATA + 4;
	CPU.rflags |= X86_AC;
	assert_exc(run(true), EMU_EXC_AC, 0);
	assert_int_equal(CPU.rip, FAKE_CODE);
	/* Aligned, or with AC clear, it is an ordinary TLB hit. */
	CPU.gpr[EMU_RSI] = FAKE_DATA + 8;
	fake_w64(FAKE_DATA + 8, 0x1122334455667788ull);
	fake.ctx.tlb_hits = 0;
	assert_int_equal(run(true), EMU_EXCEPTION);	/* HLT at CPL 3: #GP */
	assert_int_equal(CPU.gpr[EMU_RAX], 0x1122334455667788ull);
	assert_int_equal(fake.ctx.tlb_hits, 1);
	assert_int_equal(fake.read_count, 0);
}

/* An access that runs into the next page is the ops' to split, even
 * when both pages are in the front TLB. */
static void page_crossing_access_goes_to_the_ops(void **state)
{
	static const uint8_t code[] = { 0x48, 0x8b, 0x06, 0xf4 };	/* mov rax,[rsi]; hlt */
	put_code(code, sizeof(code));
	CPU.gpr[EMU_RSI] = FAKE_DATA + 4096 - 4;
	fake_w64(FAKE_DATA + 4096 - 4, 0x0102030405060708ull);
	assert_int_equal(run(true), EMU_HALT);
	assert_int_equal(CPU.gpr[EMU_RAX], 0x0102030405060708ull);
	assert_int_equal(fake.read_count, 1);
	assert_int_equal(fake.ctx.tlb_hits, 0);
}

/* A page the TLB does not hold for this access context goes to the ops:
 * another CPL's entries do not hit. */
static void tlb_key_selects_the_entries(void **state)
{
	static const uint8_t code[] = { 0x48, 0x89, 0x06, 0xf4 };	/* mov [rsi],rax; hlt */
	fake_mode_long(3);				/* entries are CPL 0's */
	put_code(code, sizeof(code));
	CPU.gpr[EMU_RSI] = FAKE_DATA;
	CPU.gpr[EMU_RAX] = 77;
	assert_int_equal(run(true), EMU_EXCEPTION);	/* HLT at CPL 3: #GP */
	assert_int_equal(fake_r64(FAKE_DATA), 77);
	assert_int_equal(fake.write_count, 1);
	assert_int_equal(fake.ctx.tlb_hits, 0);
}

/* A non-canonical address through DS is #GP(0), with nothing changed. */
static void noncanonical_fast_access_faults(void **state)
{
	static const uint8_t code[] = { 0x48, 0x8b, 0x06, 0xf4 };	/* mov rax,[rsi]; hlt */
	put_code(code, sizeof(code));
	CPU.gpr[EMU_RSI] = 0x0000800000000000ull;
	CPU.gpr[EMU_RAX] = 5;
	assert_gp(run(true), 0);
	assert_int_equal(CPU.gpr[EMU_RAX], 5);
	assert_int_equal(CPU.rip, FAKE_CODE);
}

/* ------------------------------------------------------------ flags at faults */

/*
 * add sets ZF and CF; the load after it faults (#PF: beyond the fake's
 * memory), so the flags are add's, though a later instruction of the
 * block would overwrite them. Then the same with an xor between: xor's.
 */
static void flags_at_a_fault_are_the_last_retired_ones(void **state)
{
	static const uint8_t add_load[] = {
		0x48, 0x01, 0xd8,		/* add rax,rbx: 0 + ...: ZF CF */
		0x48, 0x8b, 0x16,		/* mov rdx,[rsi]: #PF */
		0x48, 0x31, 0xc0,		/* xor rax,rax */
		0xf4,
	};
	static const uint8_t add_xor_load[] = {
		0x48, 0x01, 0xd8,		/* add rax,rbx */
		0x48, 0x83, 0xf0, 0x01,		/* xor rax,1: not zero, no CF */
		0x48, 0x8b, 0x16,		/* mov rdx,[rsi]: #PF */
		0xf4,
	};
	put_code(add_load, sizeof(add_load));
	CPU.gpr[EMU_RAX] = 1;
	CPU.gpr[EMU_RBX] = ~0ull;
	CPU.gpr[EMU_RSI] = 1ull << 40;
	CPU.rflags = EMU_FLAG_FIXED;
	assert_exc(run(true), EMU_EXC_PF, 0);
	assert_int_equal(CPU.rip, FAKE_CODE + 3);
	assert_int_equal(fake.ctx.icount, 1);
	assert_int_equal(CPU.rflags & ARITH, X86_ZF | X86_CF | X86_PF | X86_AF);

	put_code(add_xor_load, sizeof(add_xor_load));
	CPU.gpr[EMU_RAX] = 1;
	CPU.rflags = EMU_FLAG_FIXED;
	fake.ctx.icount = 0;
	assert_exc(run(true), EMU_EXC_PF, 0);
	assert_int_equal(CPU.rip, FAKE_CODE + 7);
	assert_int_equal(fake.ctx.icount, 2);
	assert_int_equal(CPU.rflags & ARITH, 0);	/* 1: odd parity, no flags */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fast_forms_agree_with_general_path, setup, teardown),
		cmocka_unit_test_setup_teardown(loop_in_one_block_honours_the_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(calls_returns_and_jmp_loops, setup, teardown),
		cmocka_unit_test_setup_teardown(alignment_check_reaches_fast_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(page_crossing_access_goes_to_the_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(tlb_key_selects_the_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(noncanonical_fast_access_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(flags_at_a_fault_are_the_last_retired_ones, setup, teardown),
	};
	return cmocka_run_group_tests_name("emu_fast", tests, NULL, NULL);
}
#else
/* Without the decode cache there are no fast forms: nothing to compare. */
static void no_decode_cache(void **state)
{
	skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(no_decode_cache) };
	return cmocka_run_group_tests_name("emu_fast", tests, NULL, NULL);
}
#endif
