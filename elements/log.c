/* log.c - diagnostics on stderr and the server's operation log.
 *
 * The operation log is a byte ring of at most RING_MAX bytes, numbered by absolute
 * position so that `log` readers keep their place while old lines are dropped; it
 * grows on demand, so an idle server holds only a few KiB.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "elements/log.h"

#define RING_MAX	(1u << 20)

static const char *prog = "circuit";
static int verbose;
static char *ring;		/* bytes [start, end) of the log, ring[0] is position start */
static size_t ring_len, ring_cap, ring_startpos;
static void (*append_hook)(void);
static FILE *logfile;

void
log_init(const char *progname, int v)
{
	prog = progname;
	verbose = v;
}

static void
vlog(const char *level, const char *fmt, va_list ap, int with_errno)
{
	int saved = errno;

	fprintf(stderr, "%s: %s", prog, level);
	vfprintf(stderr, fmt, ap);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap, 0);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

/* Append bytes to the ring, dropping whole old lines when it is full. */
static void
ring_append(const char *s, size_t n)
{
	if (n > RING_MAX / 2)
		n = RING_MAX / 2;
	if (ring_len + n > ring_cap) {
		size_t cap = ring_cap ? ring_cap : 4096;
		while (cap < ring_len + n && cap < RING_MAX)
			cap *= 2;
		if (cap > ring_cap) {
			char *p = realloc(ring, cap);
			if (p == NULL)
				return;
			ring = p;
			ring_cap = cap;
		}
	}
	if (ring_len + n > ring_cap) {
		/* Full: drop the oldest half, cut at a line end. */
		size_t drop = ring_len / 2;
		char *nl = memchr(ring + drop, '\n', ring_len - drop);
		drop = nl != NULL ? (size_t)(nl - ring) + 1 : ring_len;
		memmove(ring, ring + drop, ring_len - drop);
		ring_len -= drop;
		ring_startpos += drop;
	}
	memcpy(ring + ring_len, s, n);
	ring_len += n;
}

void
oplog_line(const char *line)
{
	size_t n = strlen(line);
	char *buf = malloc(n + 2);

	if (buf == NULL)
		return;
	memcpy(buf, line, n);
	buf[n] = '\n';
	buf[n + 1] = '\0';
	ring_append(buf, n + 1);
	if (verbose)
		fputs(buf, stderr);
	if (logfile != NULL) {
		fputs(buf, logfile);
		fflush(logfile);
	}
	free(buf);
	if (append_hook != NULL)
		append_hook();
}

void
oplog(const char *client, const char *path, const char *verb, int rc, const char *msg)
{
	char when[40], line[1024];
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rc >= 0)
		snprintf(line, sizeof line, "%s.%03dZ %s %s %s ok", when, (int)(tv.tv_usec / 1000),
		    client != NULL ? client : "-", path != NULL ? path : "-", verb);
	else
		snprintf(line, sizeof line, "%s.%03dZ %s %s %s error %s: %s", when,
		    (int)(tv.tv_usec / 1000), client != NULL ? client : "-",
		    path != NULL ? path : "-", verb, strerrorname_np(-rc) ? strerrorname_np(-rc) : "?",
		    msg != NULL ? msg : strerror(-rc));
	/* A message may hold newlines from outside input: keep one line per operation. */
	for (char *p = line; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	oplog_line(line);
}

int
oplog_open_file(const char *path)
{
	/* Close-on-exec: no child of a process element may inherit the log. */
	FILE *f = fopen(path, "ae");

	if (f == NULL)
		return -errno;
	if (logfile != NULL)
		fclose(logfile);
	logfile = f;
	return 0;
}

size_t
oplog_end(void)
{
	return ring_startpos + ring_len;
}

size_t
oplog_start(void)
{
	return ring_startpos;
}

size_t
oplog_copy(size_t *pos, char *buf, size_t max)
{
	size_t off, n;

	if (*pos < ring_startpos)
		*pos = ring_startpos;
	off = *pos - ring_startpos;
	if (off >= ring_len)
		return 0;
	n = ring_len - off;
	if (n > max)
		n = max;
	memcpy(buf, ring + off, n);
	*pos += n;
	return n;
}

void
oplog_on_append(void (*fn)(void))
{
	append_hook = fn;
}
