/* cli_stream.c - streams between the cluster and this process: stdin and send copy
 * our standard input out, stdout, stderr and recv copy in to our standard output.
 *
 * Copies move up to 1 MiB per call, the size a FUSE request carries, so a bulk
 * transfer costs few round trips; yet what an interactive writer has typed goes out
 * at once instead of waiting for a full buffer.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "net/client.h"

#define CHUNK (1 << 20)

/* Read standard input into buf: at least one read, then more while more is ready
 * now.  Returns the byte count (0 at end of input) or -errno. */
static ssize_t
fill(char *buf, size_t max, int *eof)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	size_t n = 0;

	while (n < max && !*eof) {
		ssize_t r = read(STDIN_FILENO, buf + n, max - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			*eof = 1;
		n += (size_t)r;
		if (poll(&p, 1, 0) <= 0)
			break;
	}
	return (ssize_t)n;
}

/* Open the stream file of the path argument (the file the command is named after:
 * stdin, send, stdout, stderr, recv) with a buffer of CHUNK bytes: CLI_OK, or the
 * status after saying why. */
static int
open_stream(struct cli *c, int mode, char *path, size_t size, struct circuit_stream **s,
    char **buf)
{
	char *msg = NULL;
	int rc;

	if (cli_path(c, c->args[0], path, size) < 0)
		return CLI_USAGE;
	if (cli_conn(c) == NULL)
		return CLI_FAIL;
	*buf = malloc(CHUNK);
	if (*buf == NULL)
		return cli_error(c, CLI_FAIL, "out of memory");
	rc = circuit_open(c->conn, path, c->cmd->name, mode, s, &msg);
	if (rc < 0) {
		free(*buf);
		return cli_fail(c, rc, msg, path);
	}
	return CLI_OK;
}

/* Close s after a whole copy: CLI_OK, or the status after saying why. */
static int
close_stream(struct cli *c, struct circuit_stream *s, const char *path)
{
	char *msg = NULL;
	int rc = circuit_stream_close(s, &msg);

	return rc < 0 ? cli_fail(c, rc, msg, path) : CLI_OK;
}

/* stdin, send: copy standard input into the stream file of the path argument, then
 * close it: that close is the end of a `send` message and EOF on a process's stdin. */
int
cli_copy_in(struct cli *c)
{
	char path[4096], *buf, *msg = NULL;
	struct circuit_stream *s = NULL;
	int rc, eof = 0;
	ssize_t n;

	if ((rc = open_stream(c, CIRCUIT_WRITE, path, sizeof path, &s, &buf)) != CLI_OK)
		return rc;
	while ((n = fill(buf, CHUNK, &eof)) > 0) {
		for (size_t off = 0; off < (size_t)n; ) {
			ssize_t w = circuit_write(s, buf + off, (size_t)n - off, &msg);

			if (w < 0) {
				free(buf);
				circuit_stream_abort(s);
				return cli_fail(c, (int)w, msg, path);
			}
			off += (size_t)w;
		}
	}
	free(buf);
	if (n < 0) {
		/* A broken input must not pass for a whole message: abort, then report. */
		circuit_stream_abort(s);
		return cli_fail(c, (int)n, NULL, "reading standard input");
	}
	return close_stream(c, s, path);
}

/* stdout, stderr, recv: copy the stream file of the path argument to standard output
 * until its end. */
int
cli_copy_out(struct cli *c)
{
	char path[4096], *buf, *msg = NULL;
	struct circuit_stream *s = NULL;
	ssize_t n;
	int rc;

	if ((rc = open_stream(c, CIRCUIT_READ, path, sizeof path, &s, &buf)) != CLI_OK)
		return rc;
	while ((n = circuit_read(s, buf, CHUNK, &msg)) > 0) {
		rc = cli_write_all(STDOUT_FILENO, buf, (size_t)n);
		if (rc < 0) {
			free(buf);
			circuit_stream_close(s, NULL);
			return cli_fail(c, rc, NULL, "writing standard output");
		}
	}
	free(buf);
	if (n < 0) {
		circuit_stream_close(s, NULL);
		return cli_fail(c, (int)n, msg, path);
	}
	return close_stream(c, s, path);
}
