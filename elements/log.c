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

/* ---- making outside text safe for one line of a log or an error file ---- */

/* The first unit of s (n > 0 bytes): a printable ASCII byte, a well-formed UTF-8
 * character outside C0/C1 and DEL, or one other byte to escape.  Sets *in to the bytes
 * it takes and returns its length once escaped. */
static size_t
unit(const unsigned char *s, size_t n, size_t *in)
{
	size_t k = 0;
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;

	*in = 1;
	if (c >= 0x20 && c < 0x7f)
		return 1;
	if (c == '\n' || c == '\r' || c == '\t')
		return 2;
	if (c >= 0xc2 && c <= 0xdf)
		k = 1;
	else if (c >= 0xe0 && c <= 0xef)
		k = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 3;
	if (k == 0 || k >= n)
		return 4;
	if (c == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (c == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (c == 0xf0)
		lo = 0x90;		/* overlong */
	else if (c == 0xf4)
		hi = 0x8f;		/* past U+10FFFF */
	else if (c == 0xc2)
		lo = 0xa0;		/* U+0080..U+009F: C1 controls, CSI among them */
	if (s[1] < lo || s[1] > hi)
		return 4;
	for (size_t i = 2; i <= k; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 4;
	*in = k + 1;
	return k + 1;
}

static char *
put_unit(char *o, const unsigned char *s, size_t in, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	if (len == in) {
		memcpy(o, s, in);
		return o + in;
	}
	*o++ = '\\';
	if (len == 2) {
		*o++ = s[0] == '\n' ? 'n' : s[0] == '\r' ? 'r' : 't';
		return o;
	}
	*o++ = 'x';
	*o++ = hex[s[0] >> 4];
	*o++ = hex[s[0] & 15];
	return o;
}

char *
log_clean(const char *text, size_t max)
{
	static const char cut[] = "...";
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), total = 0, in, len, done = 0, head, tail;
	int cutmade = 0;
	char *out, *o;

	if (max < 16)
		max = 16;
	for (size_t i = 0; i < n; i += in)
		total += unit(s + i, n - i, &in);
	out = o = malloc((total < max ? total : max) + 1);
	if (out == NULL)
		return NULL;
	/* Too long: the head, "...", and the tail, which holds the end of a message (the
	 * errno's words after a long quoted argument). */
	head = total <= max ? total : (max - (sizeof cut - 1)) * 5 / 8;
	tail = total <= max ? 0 : max - (sizeof cut - 1) - head;
	for (size_t i = 0; i < n; i += in, done += len) {
		len = unit(s + i, n - i, &in);
		if (done + len <= head) {
			o = put_unit(o, s + i, in, len);
			continue;
		}
		if (!cutmade) {
			memcpy(o, cut, sizeof cut - 1);
			o += sizeof cut - 1;
			cutmade = 1;
		}
		if (total - done <= tail)
			o = put_unit(o, s + i, in, len);
	}
	*o = '\0';
	return out;
}

void
oplog_line(const char *text)
{
	char *line = log_clean(text, LOG_LINE_MAX);
	size_t n;
	char *buf;

	if (line == NULL)
		return;
	n = strlen(line);
	buf = malloc(n + 2);
	if (buf == NULL) {
		free(line);
		return;
	}
	memcpy(buf, line, n);
	free(line);
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
	char when[40], line[LOG_LINE_MAX];
	char *clean = msg != NULL ? log_clean(msg, LOG_MSG_MAX) : NULL;
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
		    clean != NULL ? clean : strerror(-rc));
	free(clean);
	oplog_line(line);	/* escapes what outside input put in the other fields */
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
