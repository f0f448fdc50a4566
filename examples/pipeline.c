/* pipeline.c - an example program on the circuit client library (<circuit/client.h>).
 *
 *   example-pipeline circuit://HOST:PORT/XID [KEYFILE]
 *
 * Dials the server, starts a process (tr a-z A-Z) and a channel on it, moves a line
 * through both and back: our text -> the process's stdin -> its stdout -> one channel
 * message -> a receive -> our stdout.  Then it waits for the process, scrubs both
 * elements and removes the anchors, so the cluster is as it was.  Every call blocks
 * until the server answers; each failure is 0/-errno plus a message to print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <circuit/client.h>

static const char text[] = "hello from the circuit client library\n";

/* Print "example-pipeline: what: message" for a failed call and free the message. */
static int
fail(const char *what, int rc, char *err)
{
	fprintf(stderr, "example-pipeline: %s: %s\n", what, err != NULL ? err : strerror(-rc));
	free(err);
	return -1;
}

/* Write all of buf to the stream. */
static int
write_all(struct circuit_stream *s, const char *buf, size_t len)
{
	char *err = NULL;

	while (len > 0) {
		ssize_t n = circuit_write(s, buf, len, &err);

		if (n < 0)
			return fail("write", (int)n, err);
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read the stream to its end into buf (at most max bytes); returns the length. */
static ssize_t
read_all(struct circuit_stream *s, char *buf, size_t max)
{
	char *err = NULL;
	size_t len = 0;
	ssize_t n;

	while (len < max && (n = circuit_read(s, buf + len, max - len, &err)) != 0) {
		if (n < 0)
			return fail("read", (int)n, err);
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* Open file of path and write buf to it; the close ends the message or the input. */
static int
put(struct circuit *c, const char *path, const char *file, const char *buf, size_t len)
{
	struct circuit_stream *s;
	char *err = NULL;
	int rc = circuit_open(c, path, file, CIRCUIT_WRITE, &s, &err);

	if (rc < 0)
		return fail(file, rc, err);
	if (write_all(s, buf, len) < 0) {
		circuit_stream_close(s, NULL);
		return -1;
	}
	rc = circuit_stream_close(s, &err);
	return rc < 0 ? fail(file, rc, err) : 0;
}

/* Open file of path and read it to its end into buf. */
static ssize_t
get(struct circuit *c, const char *path, const char *file, char *buf, size_t max)
{
	struct circuit_stream *s;
	char *err = NULL;
	ssize_t n;
	int rc = circuit_open(c, path, file, CIRCUIT_READ, &s, &err);

	if (rc < 0)
		return fail(file, rc, err);
	n = read_all(s, buf, max);
	circuit_stream_close(s, NULL);
	return n;
}

/* The pipeline itself, on anchors under base (which exists). */
static int
run(struct circuit *c, const char *base)
{
	char proc[512], chan[512], buf[4096], *err = NULL, *stat = NULL;
	size_t statlen;
	ssize_t n;
	int rc;

	snprintf(proc, sizeof proc, "%s/upper", base);
	snprintf(chan, sizeof chan, "%s/pipe", base);
	if ((rc = circuit_mkdir(c, proc, &err)) < 0)
		return fail(proc, rc, err);
	if ((rc = circuit_ctl(c, proc, "mkproc {\"Path\": \"/usr/bin/tr\", \"Args\": [\"a-z\", \"A-Z\"]}",
	    &err)) < 0)
		return fail("mkproc", rc, err);
	if ((rc = circuit_mkdir(c, chan, &err)) < 0)
		return fail(chan, rc, err);
	/* Capacity 1: the send below returns at once, before anyone receives. */
	if ((rc = circuit_ctl(c, chan, "mkchan 1", &err)) < 0)
		return fail("mkchan", rc, err);

	if (put(c, proc, "stdin", text, strlen(text)) < 0)
		return -1;
	if ((n = get(c, proc, "stdout", buf, sizeof buf)) < 0)
		return -1;
	if (put(c, chan, "send", buf, (size_t)n) < 0)
		return -1;
	if ((n = get(c, chan, "recv", buf, sizeof buf)) < 0)
		return -1;
	fwrite(buf, 1, (size_t)n, stdout);

	/* wait gives the exit status once the process is gone. */
	if ((rc = circuit_snap(c, proc, "wait", &stat, &statlen, &err)) < 0)
		return fail("wait", rc, err);
	fprintf(stderr, "example-pipeline: %s exited: %s\n", proc, stat);
	free(stat);
	return 0;
}

int
main(int argc, char **argv)
{
	struct circuit *c;
	char base[256], *err = NULL;
	const char *xid;
	int rc, status;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: example-pipeline circuit://HOST:PORT/XID [KEYFILE]\n");
		return 2;
	}
	xid = strrchr(argv[1], '/');
	if (xid == NULL || xid[1] != 'X') {
		fprintf(stderr, "example-pipeline: %s: not a circuit URL\n", argv[1]);
		return 2;
	}
	rc = circuit_dial(argv[1], argc > 2 ? argv[2] : NULL, &c, &err);
	if (rc < 0) {
		fail(argv[1], rc, err);
		return 1;
	}
	/* Work under an anchor of our own on the dialed server: /XID/pipeline-PID. */
	snprintf(base, sizeof base, "/%s/pipeline-%d", xid + 1, (int)getpid());
	rc = circuit_mkdir(c, base, &err);
	if (rc < 0) {
		fail(base, rc, err);
		circuit_close(c);
		return 1;
	}
	status = run(c, base) < 0 ? 1 : 0;

	/* rmdir scrubs what an anchor holds (killing a process still running). */
	for (int i = 0; i < 3; i++) {
		char path[512];

		snprintf(path, sizeof path, "%s%s", base, i == 0 ? "/upper" : i == 1 ? "/pipe" : "");
		err = NULL;
		rc = circuit_rmdir(c, path, &err);
		if (rc < 0 && i == 2) {
			fail(path, rc, err);
			status = 1;
		} else {
			free(err);
		}
	}
	circuit_close(c);
	return status;
}
