/* cmd.h - the subcommands of the `circuit` program. */
#ifndef CIRCUIT_CMD_H
#define CIRCUIT_CMD_H

/* `circuit start ...`: run a server; returns the exit status. */
int cmd_start(int argc, char **argv);

/* `circuit keygen`: print a new random 256-bit cluster key in hex; the exit status. */
int cmd_keygen(void);

#endif
