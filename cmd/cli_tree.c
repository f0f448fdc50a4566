/* cli_tree.c - commands on the anchor tree: ls, peek, scrub, stk; mkdir -p for makers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cmd/cli.h"
#include "net/client.h"

static char *
join_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name) < 0)
		return NULL;
	return p;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *
kind_of(json_t *j)
{
	const char *k = json_string_value(json_object_get(j, "kind"));

	return k != NULL ? k : "?";
}

/* Print the anchors of listing (the result of circuit_list(path)) in name order; with
 * recurse each is followed by its own sub-anchors.  An anchor scrubbed while we walk
 * is skipped: the listing is a walk, not a snapshot. */
static int
list(struct cli *c, const char *path, json_t *listing, int recurse)
{
	json_t *anchors = json_object_get(listing, "anchors"), *v;
	const char **names;
	size_t n = json_array_size(anchors), i;
	int status = CLI_OK;

	names = calloc(n + 1, sizeof *names);
	if (names == NULL)
		return cli_error(c, CLI_FAIL, "out of memory");
	json_array_foreach(anchors, i, v)
		names[i] = json_string_value(v) != NULL ? json_string_value(v) : "";
	qsort(names, n, sizeof *names, by_name);
	for (i = 0; i < n; i++) {
		char *child = join_path(path, names[i]), *msg = NULL;
		json_t *sub = NULL;
		int rc = 0;

		if (child == NULL) {
			status = cli_error(c, CLI_FAIL, "out of memory");
			break;
		}
		if (recurse)
			rc = circuit_list(c->conn, child, &sub, &msg);
		else if (c->long_list)
			rc = circuit_stat(c->conn, child, &sub, &msg);
		if (rc == -ENOENT) {
			free(msg);
		} else if (rc < 0) {
			status = cli_fail(c, rc, msg, child);
		} else {
			if (c->long_list)
				printf("%-12s %s\n", kind_of(sub), child);
			else
				printf("%s\n", child);
			if (recurse && list(c, child, sub, 1) != CLI_OK)
				status = CLI_FAIL;
		}
		json_decref(sub);
		free(child);
	}
	free(names);
	return status;
}

int
cli_ls(struct cli *c)
{
	char path[4096], arg[4096], *msg = NULL;
	size_t n = strlen(c->args[0]);
	int recurse = 0, rc, status;
	json_t *j = NULL;

	/* The seed's recursive form: a last path component of "...". */
	snprintf(arg, sizeof arg, "%s", c->args[0]);
	if (n >= 4 && strcmp(arg + n - 4, "/...") == 0) {
		recurse = 1;
		arg[n - 3] = '\0';
	}
	if (cli_path(c, arg, path, sizeof path) < 0)
		return CLI_USAGE;
	if (cli_conn(c) == NULL)
		return CLI_FAIL;
	rc = circuit_list(c->conn, path, &j, &msg);
	if (rc < 0)
		return cli_fail(c, rc, msg, path);
	status = list(c, path, j, recurse);
	json_decref(j);
	return status;
}

int
cli_print_json(const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, JSON_DECODE_ANY, NULL);
	char *pretty;
	int rc;

	if (j == NULL) {
		rc = cli_write_all(1, text, len);
		if (rc == 0 && len > 0 && text[len - 1] != '\n')
			rc = cli_write_all(1, "\n", 1);
		return rc;
	}
	pretty = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(15));
	json_decref(j);
	if (pretty == NULL)
		return -ENOMEM;
	rc = printf("%s\n", pretty) < 0 ? -EIO : 0;
	free(pretty);
	return rc;
}

/* Print what circuit_snap answered for path (rc, data, msg) as JSON; the status. */
static int
print_answer(struct cli *c, const char *path, int rc, char *data, size_t len, char *msg)
{
	if (rc < 0)
		return cli_fail(c, rc, msg, path);
	rc = cli_print_json(data, len);
	free(data);
	return rc < 0 ? cli_fail(c, rc, NULL, "standard output") : CLI_OK;
}

int
cli_print_snap(struct cli *c, const char *path, const char *file)
{
	char *data = NULL, *msg = NULL;
	size_t len = 0;
	int rc = circuit_snap(c->conn, path, file, &data, &len, &msg);

	return print_answer(c, path, rc, data, len, msg);
}

int
cli_snap(struct cli *c)
{
	char path[4096];

	if (cli_path(c, c->args[0], path, sizeof path) < 0)
		return CLI_USAGE;
	if (cli_conn(c) == NULL)
		return CLI_FAIL;
	return cli_print_snap(c, path, c->cmd->name);
}

int
cli_scrub(struct cli *c)
{
	char path[4096], *msg = NULL, *msg2 = NULL;
	json_t *j = NULL;
	int rc, empty;

	if (cli_path(c, c->args[0], path, sizeof path) < 0)
		return CLI_USAGE;
	if (cli_conn(c) == NULL)
		return CLI_FAIL;
	rc = circuit_ctl(c->conn, path, "scrub", &msg);
	if (rc == -ENOENT) {
		/* An anchor with no element left (a Scrub:true process that exited) is
		 * still removed, as the seed's empty anchors vanished by themselves. */
		empty = circuit_stat(c->conn, path, &j, &msg2) == 0 &&
		    strcmp(kind_of(j), "empty") == 0;
		json_decref(j);
		free(msg2);
		if (!empty)
			return cli_fail(c, rc, msg, path);
		free(msg);
		msg = NULL;
	} else if (rc < 0) {
		return cli_fail(c, rc, msg, path);
	}
	/* The seed's anchors vanish when empty; one with sub-anchors stays. */
	rc = circuit_rmdir(c->conn, path, &msg);
	if (rc < 0 && rc != -ENOTEMPTY && rc != -ENOENT)
		return cli_fail(c, rc, msg, path);
	free(msg);
	return CLI_OK;
}

int
cli_stk(struct cli *c)
{
	char path[4096], *slash, *data = NULL, *msg = NULL;
	size_t len = 0;
	int rc;

	if (cli_path(c, c->args[0], path, sizeof path) < 0)
		return CLI_USAGE;
	if (strcmp(path, "/") == 0)
		return cli_usage(c, "give a server's path, like /X88550014d4c82e4d");
	/* The report is the whole server's, whichever of its anchors was named. */
	slash = strchr(path + 1, '/');
	if (slash != NULL)
		*slash = '\0';
	if (cli_conn(c) == NULL)
		return CLI_FAIL;
	rc = circuit_snap(c->conn, path, "stk", &data, &len, &msg);
	if (rc == -ENOENT) {
		free(msg);
		fprintf(stderr, "circuit stk: %s has no internal-state report yet; "
		    "showing its peek instead\n", path);
		return cli_print_snap(c, path, "peek");
	}
	return print_answer(c, path, rc, data, len, msg);
}

int
cli_mkdirs(struct cli *c, const char *path, int *created, char **msg)
{
	const char *slash = strrchr(path, '/');
	char *parent;
	int rc = circuit_mkdir(c->conn, path, msg);

	if (rc == 0)
		(*created)++;
	if (rc == 0 || rc == -EEXIST) {
		free(*msg);
		*msg = NULL;
		return 0;
	}
	/* A server anchor (/XID) cannot be made; its absence is the error to report. */
	if (rc != -ENOENT || slash == NULL || slash == path || strchr(path + 1, '/') == slash)
		return rc;
	parent = strndup(path, (size_t)(slash - path));
	if (parent == NULL)
		return rc;
	free(*msg);
	*msg = NULL;
	rc = cli_mkdirs(c, parent, created, msg);
	free(parent);
	if (rc < 0)
		return rc;
	rc = circuit_mkdir(c->conn, path, msg);
	if (rc == 0)
		(*created)++;
	if (rc == -EEXIST) {
		free(*msg);
		*msg = NULL;
		rc = 0;
	}
	return rc;
}

void
cli_unmake(struct cli *c, const char *path, int created)
{
	char *p = strdup(path), *slash;

	for (int i = 0; p != NULL && i < created; i++) {
		char *msg = NULL;

		if (circuit_rmdir(c->conn, p, &msg) < 0) {
			free(msg);
			break;
		}
		slash = strrchr(p, '/');
		if (slash == NULL || slash == p)
			break;
		*slash = '\0';
	}
	free(p);
}
