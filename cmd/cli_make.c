/* cli_make.c - commands that make an element: mkproc, mkdkr, mkchan, mkdns, mk@join,
 * mk@leave.
 *
 * As in the seed, making an element creates its anchor and any missing anchors above
 * it; if the server then refuses the element, the anchors this command created are
 * removed again, so a failed make leaves no trace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cmd/cli.h"
#include "net/client.h"

/* A Cmd or container spec is small; a megabyte of it is a mistake, not a spec. */
#define SPEC_MAX (1 << 20)

/* Make the element "verb arg" at the path argument. */
static int
make(struct cli *c, const char *verb, const char *arg)
{
	char path[4096], *command = NULL, *msg = NULL;
	int rc, created = 0;

	if (cli_path(c, c->args[0], path, sizeof path) < 0)
		return CLI_USAGE;
	if (strcmp(path, "/") == 0)
		return cli_usage(c, "the root holds only servers: give /XID/NAME");
	if (asprintf(&command, "%s%s%s", verb, arg != NULL ? " " : "", arg != NULL ? arg : "") < 0)
		return cli_error(c, CLI_FAIL, "out of memory");
	if (cli_conn(c) == NULL) {
		free(command);
		return CLI_FAIL;
	}
	rc = cli_mkdirs(c, path, &created, &msg);
	if (rc == 0) {
		rc = circuit_ctl(c->conn, path, command, &msg);
		if (rc < 0)
			cli_unmake(c, path, created);
	}
	free(command);
	return rc < 0 ? cli_fail(c, rc, msg, path) : CLI_OK;
}

/* Make an element from the JSON on stdin.  The syntax is checked here, so a typo
 * fails before anything is dialed or created; the server checks the fields. */
static int
make_json(struct cli *c, const char *verb, const char *example)
{
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	json_t *j;
	int status;

	status = cli_read_stdin(c, SPEC_MAX, &text, &len);
	if (status != CLI_OK)
		return status;
	while (len > 0 && strchr(" \t\r\n", text[len - 1]) != NULL)
		text[--len] = '\0';
	if (len == 0) {
		free(text);
		return cli_usage(c, "standard input is empty: give the JSON there, like %s", example);
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		if (j == NULL)
			cli_error(c, CLI_FAIL, "bad JSON on standard input at line %d column %d: %s",
			    jerr.line, jerr.column, jerr.text);
		else
			cli_error(c, CLI_FAIL, "standard input must hold a JSON object, like %s",
			    example);
		json_decref(j);
		free(text);
		return CLI_FAIL;
	}
	json_decref(j);
	status = make(c, verb, text);
	free(text);
	return status;
}

int
cli_mkproc(struct cli *c)
{
	return make_json(c, "mkproc", "{\"Path\": \"/bin/ls\", \"Args\": [\"/\"]}");
}

int
cli_mkdkr(struct cli *c)
{
	return make_json(c, "mkdkr", "{\"Image\": \"ubuntu\", \"Path\": \"/bin/ls\"}");
}

int
cli_mkchan(struct cli *c)
{
	const char *cap = c->args[1];
	char *end;
	long n;

	errno = 0;
	n = strtol(cap, &end, 10);
	if (*cap < '0' || *cap > '9' || *end != '\0' || errno != 0 || n < 0 || n > 1 << 30)
		return cli_usage(c, "CAP must be a whole number >= 0, not '%s'", cap);
	return make(c, "mkchan", cap);
}

int
cli_mkdns(struct cli *c)
{
	return make(c, "mkdns", c->nargs > 1 ? c->args[1] : NULL);
}

int
cli_mkjoin(struct cli *c)
{
	return make(c, "mk@join", NULL);
}

int
cli_mkleave(struct cli *c)
{
	return make(c, "mk@leave", NULL);
}
