/*
 * cmd_decode.c — `hvlab decode [-m 16|32|64] HEX...`: run the engine's
 * decoder over a byte string and print each instruction's length,
 * operation, sizes and operand count, or the fault the bytes raise.
 * The bytes may be given as one string or several ("0f05", "0f 05").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulate/emulate.h"
#include "vmm/cmd.h"

static int parse_hex(int argc, char **argv, uint8_t *buf, size_t max, size_t *len)
{
	size_t n = 0;
	int half = -1;
	for (int i = 0; i < argc; i++) {
		for (const char *s = argv[i]; *s; s++) {
			int v;
			if (*s >= '0' && *s <= '9') v = *s - '0';
			else if (*s >= 'a' && *s <= 'f') v = *s - 'a' + 10;
			else if (*s >= 'A' && *s <= 'F') v = *s - 'A' + 10;
			else if (*s == ' ' || *s == ',') continue;
			else {
				fprintf(stderr, "hvlab decode: '%c' is not a hex digit; give bytes like '0f 05'\n", *s);
				return -1;
			}
			if (half < 0) {
				half = v;
			} else {
				if (n == max) {
					fprintf(stderr, "hvlab decode: more than %zu bytes\n", max);
					return -1;
				}
				buf[n++] = (uint8_t)(half << 4 | v);
				half = -1;
			}
		}
	}
	if (half >= 0) {
		fprintf(stderr, "hvlab decode: odd number of hex digits\n");
		return -1;
	}
	*len = n;
	return 0;
}

int cmd_decode(int argc, char **argv)
{
	enum emu_mode mode = EMU_MODE_64;
	int i = 1;
	if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
		printf("usage: hvlab decode [-m 16|32|64] HEX...\n"
		       "  decode x86 instruction bytes (default 64-bit mode), one per line\n");
		return 0;
	}
	if (i < argc && !strcmp(argv[i], "-m")) {
		if (i + 1 >= argc) {
			fprintf(stderr, "hvlab decode: -m needs 16, 32 or 64\n");
			return 2;
		}
		if (!strcmp(argv[i + 1], "16")) mode = EMU_MODE_16;
		else if (!strcmp(argv[i + 1], "32")) mode = EMU_MODE_32;
		else if (!strcmp(argv[i + 1], "64")) mode = EMU_MODE_64;
		else {
			fprintf(stderr, "hvlab decode: no mode '%s'; use 16, 32 or 64\n", argv[i + 1]);
			return 2;
		}
		i += 2;
	}
	uint8_t buf[4096];
	size_t len;
	if (i >= argc) {
		fprintf(stderr, "hvlab decode: no bytes; usage: hvlab decode [-m 16|32|64] HEX...\n");
		return 2;
	}
	if (parse_hex(argc - i, argv + i, buf, sizeof(buf), &len))
		return 2;
	for (size_t off = 0; off < len;) {
		struct emu_insn insn;
		int r = emu_decode(buf + off, len - off, mode, &insn);
		printf("%4zx: ", off);
		if (r < 0) {
			printf("%s\n", r == -EMU_DEC_UD ? "#UD" :
			       r == -EMU_DEC_TOOLONG ? "#GP (longer than 15 bytes)" :
			       "truncated (more bytes needed)");
			return 1;
		}
		for (int k = 0; k < 10; k++)
			printf(k < r ? "%02x" : "  ", buf[off + k]);
		printf("%s %-10s o%u a%u ops=%u\n", r > 10 ? "+" : " ",
		       emu_op_name(insn.op), insn.opsize * 8, insn.adsize * 8, insn.nops);
		off += (size_t)r;
	}
	return 0;
}
