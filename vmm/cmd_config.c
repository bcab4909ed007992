/*
 * cmd_config.c — `hvlab config`: the configuration this binary was built
 * with (the build's auto.conf, embedded at compile time), so a benchmark
 * result can always name its configuration.
 */
#include <stdio.h>

#include "generated/config_str.h"
#include "vmm/cmd.h"

int cmd_config(int argc, char **argv)
{
	fputs(hv_config_str, stdout);
	return 0;
}
