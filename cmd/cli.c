/* cli.c - the client half of `circuit`: command line, dial-in and error reporting.
 *
 * Flags may come before or after the command name (`circuit ls -d URL /` as in the
 * seed, or `circuit -d URL ls /`).  Nothing here touches the network until a command
 * asks for its connection, so `help`, `-h` and usage errors cost no round trip.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "cmd/cli.h"
#include "cmd/flag.h"
#include "net/client.h"
#include "net/key.h"

/* A URL file is one short line; anything longer is not a URL file. */
#define URL_FILE_MAX 4096

/* An optional -discover value looks like MCAST:PORT, never like an anchor path. */
static int
looks_like_addr(const char *a)
{
	return a[0] != '/' && a[0] != '-' && strchr(a, ':') != NULL &&
	    strncmp(a, "circuit://", 10) != 0;
}

/* Parse argv into c and the positional arguments; returns 0, or -1 with *bad set to
 * the offending flag and *why to what is wrong with it. */
static int
parse(int argc, char **argv, struct cli *c, char **pos, int *npos, int *help,
    const char **bad, const char **why)
{
	struct flag_parser p;
	char *v;
	int f;

	if (flag_init(&p, cli_flags, CLI_NFLAGS, argc, argv) < 0)
		abort();
	while ((f = flag_next(&p, &v, bad, looks_like_addr)) != FLAG_END) {
		switch (f) {
		case FLAG_ARG:
			pos[(*npos)++] = v;
			break;
		case CLI_F_HELP:
			*help = 1;
			break;
		case CLI_F_LONG:
			c->long_list = 1;
			break;
		case CLI_F_DIAL:
			c->url = v;
			break;
		case CLI_F_HMAC:
			c->hmac = v;
			break;
		case CLI_F_INSECURE:
			c->insecure = 1;
			break;
		case CLI_F_DISCOVER:
			c->discover = 1;
			c->discover_addr = v;
			break;
		default:
			*why = flag_why(f);
			return -1;
		}
	}
	*bad = NULL;
	return 0;
}

/* Flush standard output at the end of a command that printed through stdio (ls, peek,
 * help): output lost on a full disk is a failure, not a success.  A closed pipe ends
 * us quietly as cli_write_all does.  Returns status, or CLI_FAIL after saying why. */
static int
flush_stdout(const char *name, int status)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	if (errno == EPIPE) {
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	fprintf(stderr, "circuit%s%s: writing standard output: %s\n", name != NULL ? " " : "",
	    name != NULL ? name : "", strerror(errno != 0 ? errno : EIO));
	return status == CLI_OK ? CLI_FAIL : status;
}

int
cli_main(int argc, char **argv)
{
	struct cli c = { 0 };
	char **pos = calloc((size_t)argc + 1, sizeof *pos);
	const char *bad = NULL, *why = NULL;
	int npos = 0, help = 0, status;

	if (pos == NULL) {
		fputs("circuit: out of memory\n", stderr);
		return CLI_FAIL;
	}
	/* A server that hangs up must be an error message, not a silent death by
	 * SIGPIPE; a closed standard output still ends us like cat (cli_write_all). */
	signal(SIGPIPE, SIG_IGN);
	if (parse(argc, argv, &c, pos, &npos, &help, &bad, &why) < 0 && npos == 0) {
		fprintf(stderr, "circuit: %s: %s (try circuit help)\n", bad, why);
		free(pos);
		return CLI_USAGE;
	}
	if (npos == 0) {
		/* `circuit -h` asked for the list; a bare `circuit` is a usage error: one line. */
		if (help)
			cli_help_all(stdout);
		else
			fprintf(stderr, "circuit: no command given (try circuit help)\n");
		free(pos);
		return flush_stdout(NULL, help ? CLI_OK : CLI_USAGE);
	}
	c.cmd = cli_find(pos[0]);
	if (c.cmd == NULL) {
		fprintf(stderr, "circuit: unknown command %s (try circuit help)\n", pos[0]);
		free(pos);
		return CLI_USAGE;
	}
	c.args = pos + 1;
	c.nargs = npos - 1;
	if (help) {
		cli_help_cmd(c.cmd);
		status = CLI_OK;
	} else if (bad != NULL) {
		status = cli_usage(&c, "%s: %s", bad, why);
	} else if (c.long_list && !(c.cmd->flags & CLI_FLAG_LONG)) {
		status = cli_usage(&c, "-l applies only to ls");
	} else if (c.nargs < c.cmd->min || (c.cmd->max >= 0 && c.nargs > c.cmd->max)) {
		status = cli_usage(&c, "%s arguments", c.nargs < c.cmd->min ? "missing" : "too many");
	} else if (c.cmd->run == NULL) {
		status = cli_usage(&c, "give it first: circuit %s [flags] (circuit %s -h)",
		    c.cmd->name, c.cmd->name);
	} else {
		status = c.cmd->run(&c);
	}
	if (c.conn != NULL)
		circuit_close(c.conn);
	free(pos);
	return flush_stdout(c.cmd->name, status);
}

/* The dial-in URL from the file $CIRCUIT names (its first word). */
static int
url_from_env(struct cli *c, const char *env, char *url, size_t size)
{
	char file[4096], text[URL_FILE_MAX];
	size_t n, start, end;
	FILE *f;

	/* A URL in the variable itself is what the user meant, so take it. */
	if (strncmp(env, "circuit://", 10) == 0) {
		snprintf(url, size, "%s", env);
		return 0;
	}
	if (path_expand_home(env, file, sizeof file) < 0)
		return cli_error(c, CLI_FAIL, "$CIRCUIT: path too long");
	f = fopen(file, "r");
	if (f == NULL)
		return cli_error(c, CLI_FAIL, "$CIRCUIT names %s: %s (it should hold a circuit:// URL)",
		    file, strerror(errno));
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	for (start = 0; start < n && strchr(" \t\r\n", text[start]) != NULL; start++)
		;
	for (end = start; end < n && strchr(" \t\r\n", text[end]) == NULL; end++)
		;
	if (end == start || end - start >= size)
		return cli_error(c, CLI_FAIL, "$CIRCUIT names %s, which holds no circuit:// URL", file);
	memcpy(url, text + start, end - start);
	url[end - start] = '\0';
	return 0;
}

struct circuit *
cli_conn(struct cli *c)
{
	char url[URL_FILE_MAX], *msg = NULL, what[URL_FILE_MAX + 8], kmsg[512];
	const char *env;
	uint8_t key[KEY_LEN];
	int rc, have;

	if (c->conn != NULL)
		return c->conn;
	/* The key first: a server found by -discover answers sealed with it. */
	if (key_find(c->hmac, c->insecure, key, &have, kmsg, sizeof kmsg) < 0) {
		cli_error(c, CLI_FAIL, "%s", kmsg);
		return NULL;
	}
	env = getenv("CIRCUIT");
	if (c->url != NULL) {
		snprintf(url, sizeof url, "%s", c->url);
	} else if (c->discover) {
		char err[256];

		if (cli_discover(c->discover_addr, have ? key : NULL, url, sizeof url, err,
		    sizeof err) < 0) {
			cli_error(c, CLI_FAIL, "%s", err);
			return NULL;
		}
	} else if (env != NULL && *env != '\0') {
		if (url_from_env(c, env, url, sizeof url) != 0)
			return NULL;
	} else {
		cli_error(c, CLI_FAIL, "no dial-in server: give -d circuit://HOST:PORT/XID, or put "
		    "that URL in a file and set CIRCUIT to it (echo URL > ~/.circuit; "
		    "export CIRCUIT=~/.circuit)");
		return NULL;
	}
	rc = circuit_dial_key(url, have ? key : NULL, &c->conn, &msg);
	sodium_memzero(key, sizeof key);
	if (rc < 0) {
		c->conn = NULL;
		snprintf(what, sizeof what, "dial %s", url);
		cli_fail(c, rc, msg, what);
		return NULL;
	}
	return c->conn;
}

int
cli_fail(struct cli *c, int rc, char *msg, const char *what)
{
	const char *why = strerror(rc < 0 ? -rc : rc);

	if (msg != NULL && *msg != '\0') {
		size_t n = strlen(msg);

		/* Messages are one line; drop a trailing newline a server may have sent. */
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
			msg[--n] = '\0';
		if (strstr(msg, why) != NULL)
			fprintf(stderr, "circuit %s: %s\n", c->cmd->name, msg);
		else
			fprintf(stderr, "circuit %s: %s (%s)\n", c->cmd->name, msg, why);
	} else {
		fprintf(stderr, "circuit %s: %s: %s\n", c->cmd->name, what, why);
	}
	free(msg);
	return CLI_FAIL;
}

int
cli_error(struct cli *c, int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "circuit %s: ", c->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int
cli_usage(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "circuit %s: ", c->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (usage: circuit %s%s%s)\n", c->cmd->name,
	    *c->cmd->args != '\0' ? " " : "", c->cmd->args);
	return CLI_USAGE;
}

int
cli_path(struct cli *c, const char *arg, char *buf, size_t size)
{
	size_t n = 0;

	if (arg[0] != '/') {
		cli_usage(c, "%s: an anchor path starts with / (like /X88550014d4c82e4d/job; "
		    "circuit ls / lists the servers)", arg);
		return -1;
	}
	for (const char *p = arg; *p != '\0'; p++) {
		if (*p == '/' && n > 0 && buf[n - 1] == '/')
			continue;
		if (n + 1 >= size) {
			cli_usage(c, "anchor path too long");
			return -1;
		}
		buf[n++] = *p;
	}
	if (n > 1 && buf[n - 1] == '/')
		n--;
	buf[n] = '\0';
	return 0;
}

int
cli_read_stdin(struct cli *c, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *bigger;
	ssize_t got;

	for (;;) {
		if (buf == NULL)
			return cli_error(c, CLI_FAIL, "out of memory");
		if (n + 1 == cap) {
			if (cap > max) {
				free(buf);
				return cli_error(c, CLI_FAIL, "standard input is longer than %zu bytes", max);
			}
			bigger = realloc(buf, cap * 2);
			if (bigger == NULL)
				free(buf);
			buf = bigger;
			cap *= 2;
			continue;
		}
		got = read(STDIN_FILENO, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;

			free(buf);
			return cli_error(c, CLI_FAIL, "reading standard input: %s", strerror(e));
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > max) {
		free(buf);
		return cli_error(c, CLI_FAIL, "standard input is longer than %zu bytes", max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return CLI_OK;
}

int
cli_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE && fd == STDOUT_FILENO) {
			/* `circuit stdout X | head` ends quietly, as cat would. */
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
