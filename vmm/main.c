/*
 * main.c — the hvlab program: command dispatch.
 *
 * Every bad argument ends in one line on stderr that says what to do,
 * and exit status 2.
 */
#include <stdio.h>
#include <string.h>

#include "vmm/cmd.h"

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "run", cmd_run, "run a multiboot or ELF64 guest: hvlab run [OPTIONS] GUEST (see run --help)" },
	{ "decode", cmd_decode, "decode x86 instruction bytes: hvlab decode [-m 16|32|64] HEX..." },
	{ "config", cmd_config, "print the configuration this hvlab was built with" },
	{ "stat", cmd_stat, "VM exits of a perf recording of hvlab's probes: hvlab stat [FILE] (see stat --help)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hvlab COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "hvlab: no command (");
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			fprintf(stderr, "%s%s", i ? ", " : "", cmds[i].name);
		fprintf(stderr, "); try 'hvlab help'\n");
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "hvlab: no command '%s'; try 'hvlab help'\n", argv[1]);
	return 2;
}
