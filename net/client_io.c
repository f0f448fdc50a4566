/* client_io.c - the client library's connection (see client_int.h): frames over a
 * blocking socket, sealed in records with a key, and a server that stops answering
 * detected by probes (SILENCE_MS, PROBE_MS).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "net/client_int.h"

int
client_fail(char **err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		if (vasprintf(err, fmt, ap) < 0)
			*err = NULL;
		va_end(ap);
	}
	return rc;
}

/* Send a frame in two pieces, without joining them. */
static int
write2_all(int fd, const void *a, size_t alen, const void *b, size_t blen)
{
	struct iovec iov[2] = {
		{ (void *)(uintptr_t)a, alen }, { (void *)(uintptr_t)b, blen },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

	while (iov[0].iov_len + iov[1].iov_len > 0) {
		ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -ETIMEDOUT;	/* SO_SNDTIMEO: the server reads nothing */
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		for (int i = 0; i < 2 && n > 0; i++) {
			size_t k = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			n -= (ssize_t)k;
		}
	}
	return 0;
}

int
client_write_all(int fd, const void *buf, size_t len)
{
	return write2_all(fd, buf, len, NULL, 0);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until c's socket has bytes: 0, -ETIMEDOUT if the server does not answer (see
 * SILENCE_MS), -EAGAIN if it does not say HELLO in time.  Before HELLO the time is
 * one deadline for the whole answer, not a wait per byte: a server that trickles a
 * byte now and then must not keep a dial waiting for hours. */
static int
wait_readable(struct circuit *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int64_t left = 0;
	int n;

	for (;;) {
		if (!c->up) {
			if (c->hello_by == 0)
				c->hello_by = now_ms() + CONNECT_TIMEOUT_S * 1000;
			if ((left = c->hello_by - now_ms()) <= 0)
				return -EAGAIN;
		}
		n = poll(&pfd, 1, !c->up ? (int)left : c->probe_tag != 0 ? PROBE_MS : SILENCE_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0) {
			c->probe_tag = 0;	/* it lives: a probe's answer is ignored */
			return 0;
		}
		if (!c->up)
			return -EAGAIN;
		if (c->probe_tag != 0)
			return -ETIMEDOUT;
		if ((n = client_probe(c)) < 0)
			return n;
	}
}

/* Receive what is there, up to len bytes, waiting for the first: the bytes (> 0) or
 * -errno.  A read is tried before a wait: while data flows, one system call. */
static ssize_t
recv_some(struct circuit *c, void *buf, size_t len)
{
	ssize_t n;
	int rc;

	for (;;) {
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
		if (n > 0) {
			c->probe_tag = 0;	/* it lives: a probe's answer is ignored */
			return n;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if ((rc = wait_readable(c)) < 0)
			return rc;
	}
}

int
client_read_all(struct circuit *c, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = recv_some(c, p, len);
		if (n < 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write a frame in two pieces (b may be NULL), sealed with a key. */
int
client_write2(struct circuit *c, const void *a, size_t alen, const void *b, size_t blen)
{
	uint8_t *sealed;
	size_t n;
	int rc;

	if (c->sec == NULL)
		return write2_all(c->fd, a, alen, b, blen);
	sealed = malloc(secure_sealed_len(alen) + secure_sealed_len(blen));
	if (sealed == NULL)
		return -ENOMEM;
	n = alen > 0 ? secure_seal(&c->sec->tx, a, alen, sealed) : 0;
	n += blen > 0 ? secure_seal(&c->sec->tx, b, blen, sealed + n) : 0;
	rc = client_write_all(c->fd, sealed, n);
	free(sealed);
	return rc;
}

int
client_write(struct circuit *c, const void *buf, size_t len)
{
	return client_write2(c, buf, len, NULL, 0);
}

/* With a key, what one read may bring: a few records. */
#define RBUF_SIZE	(4 * (SECURE_REC_MAX + SECURE_REC_OVER))

/* Read len bytes of plaintext.  With a key, records are opened whole: straight into
 * buf when the caller takes all of one (a body's records), else into pbuf. */
static int
io_read(struct circuit *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t k, plen;
	ssize_t n;
	long need;

	if (c->sec == NULL)
		return client_read_all(c, buf, len);
	while (len > 0) {
		if ((k = c->pend - c->poff) > 0) {
			k = k < len ? k : len;
			memcpy(p, c->pbuf + c->poff, k);
			c->poff += k;
			p += k;
			len -= k;
			continue;
		}
		if (c->rbuf == NULL && (c->rbuf = malloc(RBUF_SIZE)) == NULL)
			return -ENOMEM;
		need = secure_rec_need(c->rbuf + c->roff, c->rend - c->roff, SECURE_REC_MAX);
		if (need < 0)
			return -EPROTO;
		if (need == 0 || (size_t)need > c->rend - c->roff) {
			/* More bytes: the record's start moves to the front of rbuf first
			 * if the rest would not fit behind it. */
			if (c->roff > 0 && (need == 0 || c->roff + (size_t)need > RBUF_SIZE)) {
				memmove(c->rbuf, c->rbuf + c->roff, c->rend - c->roff);
				c->rend -= c->roff;
				c->roff = 0;
			}
			if ((n = recv_some(c, c->rbuf + c->rend, RBUF_SIZE - c->rend)) < 0)
				return (int)n;
			c->rend += (size_t)n;
			continue;
		}
		plen = (size_t)need - SECURE_REC_OVER;
		if (plen > len && c->pbuf == NULL && (c->pbuf = malloc(SECURE_REC_MAX)) == NULL)
			return -ENOMEM;
		if (secure_open_to(&c->sec->rx, c->rbuf + c->roff, c->rend - c->roff,
		    SECURE_REC_MAX, plen <= len ? p : c->pbuf, &plen) <= 0)
			return -EACCES;
		c->roff += (size_t)need;
		if (c->roff == c->rend)
			c->roff = c->rend = 0;
		if (plen <= len) {
			p += plen;
			len -= plen;
		} else {
			c->poff = 0;
			c->pend = plen;
		}
	}
	return 0;
}

void
client_broken(struct circuit *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Read one frame; *payload is malloc'd (free it).  A large REP body is received apart
 * (c->rbody, or the reader's buffer): then the payload holds the head only. */
int
client_read_frame(struct circuit *c, struct frame *f, uint8_t **payload)
{
	uint8_t hdr[FRAME_HDR + 4];
	size_t plen, got = 0;
	uint32_t hlen;
	long need;
	int rc;

	*payload = NULL;
	free(c->rbody);
	c->rbody = NULL;
	c->rbody_len = 0;
	c->direct = 0;
	if ((rc = io_read(c, hdr, FRAME_HDR)) < 0)
		return rc;
	if ((need = frame_need(hdr, FRAME_HDR)) < 0)
		return -EPROTO;
	plen = (size_t)need - FRAME_HDR;
	f->version = hdr[0];
	f->type = hdr[1];
	f->id = frame_get32(hdr + 4);
	f->len = (uint32_t)plen;
	hlen = 0;
	if (f->type == FRAME_REP && plen >= 4 + BODY_APART) {
		if ((rc = io_read(c, hdr + FRAME_HDR, 4)) < 0)
			return rc;
		got = 4;
		hlen = frame_get32(hdr + FRAME_HDR);
		if (hlen == 0 || hlen > FRAME_HEAD_MAX || 4 + (size_t)hlen + BODY_APART > plen)
			hlen = 0;	/* read it whole: the parser judges it */
	}
	*payload = malloc((hlen > 0 ? 4 + hlen : plen) + 1);
	if (*payload == NULL)
		return -ENOMEM;
	memcpy(*payload, hdr + FRAME_HDR, got);
	rc = io_read(c, *payload + got, (hlen > 0 ? 4 + hlen : plen) - got);
	if (rc == 0 && hlen > 0) {
		size_t blen = plen - 4 - hlen;
		f->len = 4 + hlen;
		if (f->id == c->dtag && blen <= c->dmax) {
			rc = io_read(c, c->dbuf, blen);
			c->direct = 1;
		} else if ((c->rbody = malloc(blen + 1)) == NULL) {
			rc = -ENOMEM;
		} else {
			rc = io_read(c, c->rbody, blen);
			c->rbody[blen] = '\0';
		}
		c->rbody_len = blen;
	}
	if (rc < 0) {
		free(*payload);
		*payload = NULL;
		return rc;
	}
	f->payload = *payload;
	return 0;
}

/* Parse the message f read by read_frame: head and body, wherever the body went. */
int
client_msg_parse(struct circuit *c, const struct frame *f, json_t **h, const uint8_t **b,
    size_t *bl)
{
	if (frame_msg_parse(f->payload, f->len, h, b, bl) < 0)
		return -EPROTO;
	if (c->direct || c->rbody != NULL) {
		*b = (const uint8_t *)(c->direct ? c->dbuf : c->rbody);
		*bl = c->rbody_len;
	}
	return 0;
}

/* Keep the first cause of the loss of c's connection, on one line (a server's text
 * may hold anything); one cut short ends in "...". */
static void
keep_why(struct circuit *c, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->lost_rc != 0)
		return;
	c->lost_rc = rc < 0 ? rc : -EIO;
	va_start(ap, fmt);
	n = vsnprintf(c->lost_why, sizeof c->lost_why, fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(c->lost_why, sizeof c->lost_why, "%s", strerror(-c->lost_rc));
	else if ((size_t)n >= sizeof c->lost_why)
		memcpy(c->lost_why + sizeof c->lost_why - 4, "...", 3);
	for (char *p = c->lost_why; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* The errno of the call that lost the connection, for its first cause. */
static int
lost_errno(int rc)
{
	return rc == -EPROTO || rc == -ETIMEDOUT || rc == -ECONNREFUSED ? rc : -EHOSTDOWN;
}

int
client_lost(struct circuit *c, int rc, char **err)
{
	if (c->lost_rc != 0)
		return client_gone(c, err);
	client_broken(c);
	if (rc == -EPROTO)
		keep_why(c, rc, "bad frame from the server");
	else if (rc == -ETIMEDOUT)
		keep_why(c, rc, "the server does not answer (nothing from it for %d s)",
		    (SILENCE_MS + PROBE_MS) / 1000);
	else
		keep_why(c, rc, "connection lost (%s)", strerror(rc < 0 ? -rc : EIO));
	return client_fail(err, lost_errno(c->lost_rc), "%s: %s", c->where, c->lost_why);
}

int
client_refused(struct circuit *c, const struct frame *f, char **err)
{
	const uint8_t *b;
	const char *m = NULL;
	size_t bl;
	json_t *h = NULL;

	if (c->lost_rc != 0)
		return client_gone(c, err);
	client_broken(c);
	if (frame_msg_parse(f->payload, f->len, &h, &b, &bl) == 0)
		m = json_string_value(json_object_get(h, "msg"));
	keep_why(c, -ECONNREFUSED, "refused: %s", m != NULL && *m != '\0' ? m : "(no reason)");
	json_decref(h);
	return client_fail(err, -ECONNREFUSED, "%s: %s", c->where, c->lost_why);
}

int
client_gone(struct circuit *c, char **err)
{
	if (c->lost_rc == 0)
		return client_fail(err, -EHOSTDOWN, "%s: connection lost", c->where);
	return client_fail(err, -EHOSTDOWN, "%s: connection lost earlier: %s", c->where,
	    c->lost_why);
}

int
circuit_lost(const struct circuit *c, const char **why)
{
	if (why != NULL)
		*why = c->lost_rc != 0 ? c->lost_why : NULL;
	return c->lost_rc;
}
