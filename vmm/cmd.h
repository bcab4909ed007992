/* cmd.h — the hvlab program's commands, one file each. */
#ifndef HVLAB_VMM_CMD_H
#define HVLAB_VMM_CMD_H

int cmd_decode(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_stat(int argc, char **argv);

#endif
