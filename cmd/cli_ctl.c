/* cli_ctl.c - commands that are one ctl verb (signal, close, set, unset, join,
 * suicide) and the wait on many processes (waitall). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "net/client.h"

/* Run the verb the command is named after, with the second argument if any, on the
 * path argument's ctl; with lost, a lost connection means success (a server that
 * stops as asked may hang up before it answers). */
static int
verb(struct cli *c, int lost)
{
	const char *v = c->cmd->name, *arg = c->nargs > 1 ? c->args[1] : NULL;
	char path[4096], *command = NULL, *msg = NULL;
	int rc;

	if (cli_path(c, c->args[0], path, sizeof path) < 0)
		return CLI_USAGE;
	/* A ctl command is one line; a newline would end it early on the mount too. */
	if (arg != NULL && strpbrk(arg, "\r\n") != NULL)
		return cli_usage(c, "the argument must be one line");
	if (asprintf(&command, "%s%s%s", v, arg != NULL ? " " : "", arg != NULL ? arg : "") < 0)
		return cli_error(c, CLI_FAIL, "out of memory");
	if (cli_conn(c) == NULL) {
		free(command);
		return CLI_FAIL;
	}
	rc = circuit_ctl(c->conn, path, command, &msg);
	free(command);
	if (rc < 0 && lost && (rc == -EHOSTDOWN || rc == -ECONNRESET || rc == -EPIPE ||
	    rc == -ENOTCONN)) {
		free(msg);
		rc = 0;
	}
	return rc < 0 ? cli_fail(c, rc, msg, path) : CLI_OK;
}

int
cli_verb(struct cli *c)
{
	return verb(c, 0);
}

int
cli_suicide(struct cli *c)
{
	return verb(c, 1);
}

/* Wait for one process; the stat it gives is not printed. */
static int
wait_one(struct cli *c, const char *arg)
{
	char path[4096], *data = NULL, *msg = NULL;
	size_t len = 0;
	int rc;

	if (cli_path(c, arg, path, sizeof path) < 0)
		return CLI_USAGE;
	rc = circuit_snap(c->conn, path, "wait", &data, &len, &msg);
	free(data);
	return rc < 0 ? cli_fail(c, rc, msg, path) : CLI_OK;
}

int
cli_waitall(struct cli *c)
{
	char *text = NULL, *line, *save = NULL;
	size_t len;
	int status = CLI_OK;

	/* Waiting in turn is enough: when the last wait returns, every one has exited. */
	if (c->nargs > 0) {
		for (int i = 0; i < c->nargs; i++)
			if (c->args[i][0] != '/')
				return cli_usage(c, "%s: an anchor path starts with /", c->args[i]);
		if (cli_conn(c) == NULL)
			return CLI_FAIL;
		for (int i = 0; i < c->nargs; i++)
			if (wait_one(c, c->args[i]) != CLI_OK)
				status = CLI_FAIL;
		return status;
	}
	/* The seed's form: the paths on standard input, one per line. */
	status = cli_read_stdin(c, 1 << 20, &text, &len);
	if (status != CLI_OK)
		return status;
	if (cli_conn(c) == NULL) {
		free(text);
		return CLI_FAIL;
	}
	for (line = strtok_r(text, " \t\r\n", &save); line != NULL;
	    line = strtok_r(NULL, " \t\r\n", &save))
		if (wait_one(c, line) != CLI_OK)
			status = CLI_FAIL;
	free(text);
	return status;
}
