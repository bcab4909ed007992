/*
 * cmd_config.c — `hvlab config`: the configuration this binary was built
 * with (the build's auto.conf, embedded at compile time), so a benchmark
 * result can always name its configuration. It takes no arguments.
 */
#include <stdio.h>

#include "generated/config_str.h"
#include "vmm/cmd.h"

int cmd_config(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "hvlab config: takes no arguments ('%s' given)\n", argv[1]);
		return 2;
	}
	fputs(hv_config_str, stdout);
	return 0;
}
