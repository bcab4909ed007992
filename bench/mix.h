/*
 * mix.h — the instruction mix bench-emulate and bench-hw both run, so
 * their figures compare: a 64-bit loop of 12 instructions (two loads and
 * a store to a 512-byte buffer at rsi/rdi, ALU ops, a multiply, a shift,
 * an index wrap and a taken conditional branch), r8 counting iterations
 * down, then a HLT. The jnz displacement is patched by the user
 * (bench_mix_loop()).
 */
#ifndef HVLAB_BENCH_MIX_H
#define HVLAB_BENCH_MIX_H

#include <stdint.h>
#include <string.h>

static const uint8_t bench_mix[] = {
	0x48, 0x8b, 0x04, 0xce,		/* mov rax, [rsi+rcx*8] */
	0x48, 0x01, 0xd8,		/* add rax, rbx */
	0x48, 0x31, 0xc2,		/* xor rdx, rax */
	0x48, 0x89, 0x14, 0xcf,		/* mov [rdi+rcx*8], rdx */
	0x48, 0x6b, 0xd8, 0x0d,		/* imul rbx, rax, 13 */
	0x48, 0xc1, 0xea, 0x03,		/* shr rdx, 3 */
	0x48, 0x2b, 0x1c, 0xcf,		/* sub rbx, [rdi+rcx*8] */
	0x48, 0xff, 0xc1,		/* inc rcx */
	0x48, 0x83, 0xe1, 0x1f,		/* and rcx, 31 */
	0x48, 0x85, 0xc9,		/* test rcx, rcx */
	0x49, 0xff, 0xc8,		/* dec r8 */
	0x75, 0x00,			/* jnz loop (displacement patched) */
	0xf4,				/* hlt: not part of the loop */
};
#define BENCH_MIX_INSNS 12
#define BENCH_MIX_LOOP_BYTES (sizeof(bench_mix) - 1)

/* Copy the mix to @dst with the loop's branch pointing at its start. */
static inline void bench_mix_loop(uint8_t *dst)
{
	memcpy(dst, bench_mix, sizeof(bench_mix));
	dst[BENCH_MIX_LOOP_BYTES - 1] = (uint8_t)-(int)BENCH_MIX_LOOP_BYTES;
}

#endif
