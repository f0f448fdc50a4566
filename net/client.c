/* client.c - the client library (client.h): blocking calls over one TCP connection.
 *
 * Plain blocking sockets, no loop: each call sends one REQ frame and reads frames
 * until the REP with its tag arrives.  The server dialed runs every operation through
 * its operation layer, which forwards it to the owner of the anchor, so a client needs
 * one connection whatever the anchor.  Frames are decoded with the same checks as on
 * the server (frame.c); a bad frame from the server ends the connection (-EPROTO).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "net/client.h"
#include "net/frame.h"
#include "net/key.h"
#include "net/secure.h"
#include "net/url.h"
#include "net/window.h"

#define CONNECT_TIMEOUT_S	10
/* A server that does not answer: after SILENCE_MS without a byte from it while a call
 * waits, the client asks it something it answers itself (stat of "/": never
 * forwarded); with still no byte PROBE_MS later it is declared gone.  A call may wait
 * for hours (recv, wait) on a server that answers its probes; a stopped or cut-off
 * one ends every call within SILENCE_MS + PROBE_MS.  A send that cannot go out for as
 * long means the same. */
#define SILENCE_MS		5000
#define PROBE_MS		5000
/* A reply body this big is received apart from its head: straight into the reader's
 * buffer when it answers the read that waits, else into a buffer of its own. */
#define BODY_APART		16384

/* Read-ahead and write-behind of a stream, as the servers do it (docs/protocol.md):
 * reads ahead only once a byte has been delivered, writes behind only once the server
 * says the stream parks writes; each within the windows of net/window.h. */

struct circuit_stream;

struct circuit {
	int fd;				/* -1 once the connection is broken */
	/* With a key: the session, and the plaintext of the record last opened (in
	 * cbuf, from coff to cend) not yet taken. */
	struct secure *sec;
	uint8_t *cbuf;
	size_t coff, cend;
	int up;				/* HELLO exchanged: probes may be sent */
	uint32_t next_tag;
	uint32_t probe_tag;		/* a probe is out (its answer is ignored) */
	char where[URL_MAX];
	struct circuit_stream *streams;	/* open streams, for the replies they wait for */
	/* The body of the frame last read when it was received apart from its head: in
	 * rbody (malloc'd), or in dbuf if direct. */
	char *rbody;
	size_t rbody_len;
	int direct;
	/* circuit_read waits for the reply with tag dtag (0: none): its body may go
	 * straight into dbuf if it fits in dmax bytes. */
	uint32_t dtag;
	char *dbuf;
	size_t dmax;
};

/* A request of a stream in flight (or answered, for reads not yet delivered). */
struct pend {
	struct pend *next;
	uint32_t tag;
	size_t asked;			/* read: max; write: bytes sent */
	int done, rc;
	int direct;			/* read: the bytes went straight into the reader's buffer */
	char *msg, *data;
	size_t len, off;
};

struct circuit_stream {
	struct circuit *c;
	uint32_t h;
	struct circuit_stream *next;
	struct pend *rq;		/* reads asked for, oldest first */
	size_t ra_budget;		/* bytes asked for + answered, not delivered */
	int delivered, ra_stop;
	struct pend *wq;		/* writes written behind, oldest first */
	int nwq;
	size_t wb_bytes;
	int wb;				/* the server parks our writes: write behind */
	int werr;			/* a write written behind failed */
	char *wmsg;
};

static int
fail(char **err, int rc, const char *fmt, ...)
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

static int
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -ETIMEDOUT;	/* SO_SNDTIMEO: the server reads nothing */
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
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

static int send_probe(struct circuit *c);

/* Wait until c's socket has bytes: 0, -ETIMEDOUT if the server does not answer (see
 * SILENCE_MS), -EAGAIN if it does not say HELLO in time. */
static int
wait_readable(struct circuit *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int n;

	for (;;) {
		n = poll(&pfd, 1, !c->up ? CONNECT_TIMEOUT_S * 1000 :
		    c->probe_tag != 0 ? PROBE_MS : SILENCE_MS);
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
		if ((n = send_probe(c)) < 0)
			return n;
	}
}

static int
read_all(struct circuit *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	int rc;

	while (len > 0) {
		ssize_t n;
		if ((rc = wait_readable(c)) < 0)
			return rc;
		n = recv(c->fd, p, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write a frame in two pieces (b may be NULL), sealed with a key. */
static int
io_write2(struct circuit *c, const void *a, size_t alen, const void *b, size_t blen)
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
	rc = write_all(c->fd, sealed, n);
	free(sealed);
	return rc;
}

static int
io_write(struct circuit *c, const void *buf, size_t len)
{
	return io_write2(c, buf, len, NULL, 0);
}

/* Read len bytes of plaintext: with a key, record by record, each opened whole. */
static int
io_read(struct circuit *c, void *buf, size_t len)
{
	uint8_t *p = buf, *plain;
	size_t plen;
	long need;
	int rc;

	if (c->sec == NULL)
		return read_all(c, buf, len);
	while (len > 0) {
		size_t k = c->cend - c->coff;
		if (k > 0) {
			k = k < len ? k : len;
			memcpy(p, c->cbuf + c->coff, k);
			c->coff += k;
			p += k;
			len -= k;
			continue;
		}
		if (c->cbuf == NULL &&
		    (c->cbuf = malloc(SECURE_REC_MAX + SECURE_REC_OVER)) == NULL)
			return -ENOMEM;
		if ((rc = read_all(c, c->cbuf, SECURE_REC_HDR)) < 0)
			return rc;
		if ((need = secure_rec_need(c->cbuf, SECURE_REC_HDR, SECURE_REC_MAX)) < 0)
			return -EPROTO;
		if ((rc = read_all(c, c->cbuf + SECURE_REC_HDR,
		    (size_t)need - SECURE_REC_HDR)) < 0)
			return rc;
		if (secure_open(&c->sec->rx, c->cbuf, (size_t)need, SECURE_REC_MAX, &plain,
		    &plen) <= 0)
			return -EACCES;
		c->coff = (size_t)(plain - c->cbuf);
		c->cend = c->coff + plen;
	}
	return 0;
}

static void
broken(struct circuit *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Read one frame; *payload is malloc'd (free it).  A large REP body is received apart
 * (c->rbody, or the reader's buffer): then the payload holds the head only. */
static int
read_frame(struct circuit *c, struct frame *f, uint8_t **payload)
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
static int
msg_parse(struct circuit *c, const struct frame *f, json_t **h, const uint8_t **b,
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

static int
lost(struct circuit *c, int rc, char **err)
{
	broken(c);
	if (rc == -EPROTO)
		return fail(err, -EPROTO, "%s: bad frame from the server", c->where);
	if (rc == -ETIMEDOUT)
		return fail(err, -ETIMEDOUT, "%s: the server does not answer (nothing from it "
		    "for %d s)", c->where, (SILENCE_MS + PROBE_MS) / 1000);
	return fail(err, -EHOSTDOWN, "%s: connection lost (%s)", c->where, strerror(-rc));
}

static void
pend_free(struct pend *p)
{
	free(p->msg);
	free(p->data);
	free(p);
}

static void
pend_append(struct pend **q, struct pend *p)
{
	while (*q != NULL)
		q = &(*q)->next;
	*q = p;
}

/* A reply for a stream's read or write in flight: record it (0), ignore it (a reply to
 * a read cancelled at close), or -EPROTO. */
static int
stash(struct circuit *c, const struct frame *f)
{
	struct circuit_stream *s;
	struct pend **pp, *p = NULL;
	const uint8_t *b;
	size_t bl;
	json_t *h, *j;
	int isread = 0;

	for (s = c->streams; s != NULL && p == NULL; s = s->next) {
		for (pp = &s->rq; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->tag == f->id && !(*pp)->done) {
				p = *pp;
				isread = 1;
				break;
			}
		if (p != NULL)
			break;
		for (pp = &s->wq; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->tag == f->id) {
				p = *pp;
				break;
			}
		if (p != NULL)
			break;
	}
	if (p == NULL)
		return 0;
	if (msg_parse(c, f, &h, &b, &bl) < 0 ||
	    !json_is_integer(j = json_object_get(h, "rc")) ||
	    (isread && json_integer_value(j) >= 0 && bl > p->asked)) {
		json_decref(h);
		return -EPROTO;
	}
	p->rc = (int)json_integer_value(j);
	if (p->rc < 0) {
		const char *m = json_string_value(json_object_get(h, "msg"));
		p->msg = strdup(m != NULL ? m : strerror(-p->rc));
	}
	json_decref(h);
	if (isread) {
		p->done = 1;
		s->ra_budget -= p->asked;
		if (p->rc < 0) {
			s->ra_stop = 1;
			return 0;
		}
		if (c->direct) {
			p->direct = 1;		/* already in the reader's buffer */
		} else if (c->rbody != NULL) {
			p->data = c->rbody;	/* taken over, no copy */
			c->rbody = NULL;
		} else {
			if ((p->data = malloc(bl + 1)) == NULL)
				return -ENOMEM;
			memcpy(p->data, b, bl);
		}
		p->len = bl;
		s->ra_budget += bl;
		if (bl == 0)
			s->ra_stop = 1;
		return 0;
	}
	/* A write written behind: unlink it, keep its failure for the next call. */
	*pp = p->next;
	s->nwq--;
	s->wb_bytes -= p->asked;
	if ((p->rc < 0 || (size_t)p->rc != p->asked) && s->werr == 0) {
		s->werr = p->rc < 0 ? p->rc : -EIO;
		s->wmsg = p->msg;
		p->msg = NULL;
	}
	pend_free(p);
	return 0;
}

/* Read one frame and hand it to the stream waiting for it. */
static int
pump(struct circuit *c, char **err)
{
	struct frame f;
	uint8_t *payload;
	int rc;

	if (c->fd < 0)
		return fail(err, -EHOSTDOWN, "%s: connection lost", c->where);
	if ((rc = read_frame(c, &f, &payload)) < 0)
		return lost(c, rc, err);
	if (f.type == FRAME_REFUSE)
		rc = -ECONNREFUSED;
	else if (f.type == FRAME_REP)
		rc = stash(c, &f);
	free(payload);
	return rc < 0 ? lost(c, rc, err) : 0;
}

/* Send a REQ with head and body; *tag gets its tag. */
static int
send_req(struct circuit *c, json_t *head, const void *body, size_t blen, uint32_t *tag,
    char **err)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (c->fd < 0)
		return fail(err, -EHOSTDOWN, "%s: connection lost", c->where);
	*tag = c->next_tag++;
	if (c->next_tag == 0)
		c->next_tag = 1;
	/* The body goes from the caller's buffer, without a copy. */
	rc = frame_msg_build_head(FRAME_REQ, *tag, head, blen, &buf, &len);
	if (rc < 0)
		return fail(err, rc, "request too big");
	rc = io_write2(c, buf, len, body, blen);
	free(buf);
	return rc < 0 ? lost(c, rc, err) : 0;
}

/* One exchange: send a REQ with head and body, wait for its REP.  On success *rep is
 * the reply head and *rbody (length *rblen) a malloc'd copy of its body, NUL-terminated. */
static int
call(struct circuit *c, json_t *head, const void *body, size_t blen, json_t **rep,
    char **rbody, size_t *rblen, char **err)
{
	const uint8_t *b;
	struct frame f;
	uint8_t *payload;
	size_t bl;
	uint32_t tag;
	json_t *h, *j;
	int rc;

	*rep = NULL;
	if ((rc = send_req(c, head, body, blen, &tag, err)) < 0)
		return rc;
	for (;;) {
		if ((rc = read_frame(c, &f, &payload)) < 0)
			return lost(c, rc, err);
		if (f.type != FRAME_REP || f.id != tag) {
			rc = f.type == FRAME_REFUSE ? -ECONNREFUSED :
			    f.type == FRAME_REP ? stash(c, &f) : 0;
			free(payload);
			if (rc < 0)
				return lost(c, rc, err);
			continue;	/* nothing else is meant for a client */
		}
		break;
	}
	if (msg_parse(c, &f, &h, &b, &bl) < 0 ||
	    !json_is_integer(j = json_object_get(h, "rc"))) {
		json_decref(h);
		free(payload);
		return lost(c, -EPROTO, err);
	}
	rc = (int)json_integer_value(j);
	if (rc < 0) {
		const char *m = json_string_value(json_object_get(h, "msg"));
		fail(err, rc, "%s", m != NULL ? m : strerror(-rc));
		json_decref(h);
		free(payload);
		return rc;
	}
	if (rbody != NULL && c->rbody != NULL) {
		*rbody = c->rbody;		/* taken over, no copy */
		*rblen = bl;
		c->rbody = NULL;
	} else if (rbody != NULL) {
		*rbody = malloc(bl + 1);
		if (*rbody == NULL) {
			json_decref(h);
			free(payload);
			return fail(err, -ENOMEM, "out of memory");
		}
		memcpy(*rbody, b, bl);
		(*rbody)[bl] = '\0';
		*rblen = bl;
	}
	free(payload);
	*rep = h;
	return rc;
}

static json_t *
req(const char *op, const char *path, const char *file)
{
	json_t *h = json_pack("{s:s}", "op", op);
	char who[64];

	if (h == NULL)
		return NULL;
	if (path != NULL)
		json_object_set_new(h, "path", json_string(path));
	if (file != NULL)
		json_object_set_new(h, "file", json_string(file));
	snprintf(who, sizeof who, "client:%d", (int)getpid());
	json_object_set_new(h, "client", json_string(who));
	return h;
}

/* Ask the server something it answers itself, to learn whether it lives. */
static int
send_probe(struct circuit *c)
{
	json_t *head = req("stat", "/", NULL);
	uint8_t *buf;
	size_t len;
	uint32_t tag = c->next_tag++;
	int rc;

	if (c->next_tag == 0)
		c->next_tag = 1;
	if (head == NULL)
		return -ENOMEM;
	rc = frame_msg_build(FRAME_REQ, tag, head, NULL, 0, &buf, &len);
	json_decref(head);
	if (rc < 0)
		return rc;
	rc = io_write(c, buf, len);
	free(buf);
	if (rc == 0)
		c->probe_tag = tag;
	return rc;
}

/* A call whose reply carries nothing but rc (and maybe json). */
static int
simple(struct circuit *c, json_t *head, const void *body, size_t blen, json_t **out,
    char **err)
{
	json_t *rep;
	int rc;

	if (head == NULL)
		return fail(err, -ENOMEM, "out of memory");
	rc = call(c, head, body, blen, &rep, NULL, NULL, err);
	json_decref(head);
	if (rc < 0)
		return rc;
	if (out != NULL) {
		json_t *j = json_object_get(rep, "json");
		if (!json_is_object(j)) {
			json_decref(rep);
			return fail(err, -EPROTO, "%s: bad reply", c->where);
		}
		*out = json_incref(j);
	}
	json_decref(rep);
	return 0;
}

/* The key handshake (net/secure.h), as the dialer: our AUTH frame, then the server's.
 * Sets c->sec and xid (the XID the server's AUTH named). */
static int
handshake(struct circuit *c, const uint8_t *key, const char *url, char xid[URL_ID_LEN + 1],
    char **err)
{
	uint8_t mine[SECURE_AUTH_MAX], hdr[FRAME_HDR], *theirs = NULL;
	struct secure_hs hs;
	size_t ml;
	long need;
	int rc;

	if (secure_hs_start(&hs, key, 1, NULL, mine, &ml) < 0)
		return fail(err, -EIO, "libsodium does not initialise");
	if ((rc = write_all(c->fd, mine, ml)) < 0 || (rc = read_all(c, hdr, FRAME_HDR)) < 0) {
		secure_hs_wipe(&hs);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			return fail(err, -ETIMEDOUT, "%s: no answer to the key handshake within "
			    "%d s", url, CONNECT_TIMEOUT_S);
		return fail(err, -EHOSTDOWN, "%s: no answer to the key handshake (%s)", url,
		    strerror(-rc));
	}
	need = frame_need(hdr, FRAME_HDR);
	if (need > 0 && need <= 8192 && (theirs = malloc((size_t)need)) != NULL) {
		memcpy(theirs, hdr, FRAME_HDR);
		if ((rc = read_all(c, theirs + FRAME_HDR, (size_t)need - FRAME_HDR)) < 0)
			need = rc;
	}
	if (theirs != NULL && need > 0 && hdr[1] == FRAME_REFUSE) {
		const uint8_t *b;
		size_t bl;
		json_t *h = NULL;
		const char *m = NULL;
		if (frame_msg_parse(theirs + FRAME_HDR, (size_t)need - FRAME_HDR, &h, &b, &bl) == 0)
			m = json_string_value(json_object_get(h, "msg"));
		rc = fail(err, -ECONNREFUSED, "%s: refused: %s", url, m != NULL ? m : "(no reason)");
		json_decref(h);
	} else if (need > 0 && hdr[1] == FRAME_HELLO) {
		rc = fail(err, -EACCES, "%s: refused: that server runs without a key (started with "
		    "-insecure): dial it with -insecure", url);
	} else if (theirs == NULL || need <= 0 || hdr[1] != FRAME_AUTH) {
		rc = fail(err, -EPROTO, "%s: no key handshake: not a circuit server", url);
	} else if ((c->sec = malloc(sizeof *c->sec)) == NULL) {
		rc = fail(err, -ENOMEM, "out of memory");
	} else if (secure_hs_finish(&hs, theirs, (size_t)need, c->sec, xid) < 0) {
		free(c->sec);
		c->sec = NULL;
		rc = fail(err, -EPROTO, "%s: malformed key handshake", url);
	} else {
		rc = 0;
	}
	secure_hs_wipe(&hs);
	free(theirs);
	return rc;
}

int
circuit_dial(const char *url, const char *keyfile, struct circuit **out, char **err)
{
	uint8_t key[KEY_LEN];
	char msg[512];
	int have, rc;

	*out = NULL;
	if ((rc = key_find(keyfile, 0, key, &have, msg, sizeof msg)) < 0)
		return fail(err, rc, "%s", msg);
	rc = circuit_dial_key(url, key, out, err);
	sodium_memzero(key, sizeof key);
	return rc;
}

int
circuit_dial_key(const char *url, const unsigned char *key, struct circuit **out, char **err)
{
	struct sockaddr_storage ss;
	struct timeval tv = { CONNECT_TIMEOUT_S, 0 };
	struct circuit *c;
	struct frame f;
	struct url u;
	uint8_t *buf, *payload;
	const uint8_t *b;
	size_t len, bl;
	json_t *h;
	char who[64], xid[URL_ID_LEN + 1] = "";
	int one = 1, bufsz = RA_WINDOW, rc;

	*out = NULL;
	if (url_parse(url, &u, 0) < 0 || url_sockaddr(&u, &ss) < 0)
		return fail(err, -EINVAL, "%s: want circuit://HOST:PORT/XID (numeric HOST)", url);
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return fail(err, -ENOMEM, "out of memory");
	c->next_tag = 1;
	snprintf(c->where, sizeof c->where, "%s", url);
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		free(c);
		return fail(err, rc, "socket: %s", strerror(-rc));
	}
	/* Socket buffers of a read-ahead window (as the servers' connections). */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
	/* The send timeout bounds connect() too; it is lifted once connected. */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0) {
		rc = -errno;
		close(c->fd);
		free(c);
		return fail(err, rc, "%s: %s", url, strerror(-rc));
	}
	/* The HELLO must come back as promptly (wait_readable): something that accepts
	 * and stays silent is not a circuit server, and the CLI must not hang on it.  A
	 * send that cannot go out for as long as a probe may take means the server
	 * reads nothing. */
	tv.tv_sec = (SILENCE_MS + PROBE_MS) / 1000;
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (key != NULL && (rc = handshake(c, key, url, xid, err)) < 0) {
		circuit_close(c);
		return rc;
	}
	snprintf(who, sizeof who, "circuit pid %d", (int)getpid());
	h = json_pack("{s:s}", "client", who);
	rc = h != NULL ? frame_msg_build(FRAME_HELLO, 0, h, NULL, 0, &buf, &len) : -ENOMEM;
	json_decref(h);
	h = NULL;	/* the answer's head goes here (and is freed on every way out) */
	if (rc == 0) {
		rc = io_write(c, buf, len);
		free(buf);
	}
	if (rc == 0)
		rc = read_frame(c, &f, &payload);
	if (rc < 0) {
		circuit_close(c);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			return fail(err, -ETIMEDOUT, "%s: no answer to HELLO within %d s", url,
			    CONNECT_TIMEOUT_S);
		if (rc == -EACCES)
			return fail(err, -EACCES, "%s: refused: the key handshake failed (the "
			    "server holds another cluster key)", url);
		return fail(err, rc == -EPROTO ? rc : -EHOSTDOWN, "%s: no answer to HELLO (%s)",
		    url, strerror(-rc));
	}
	if (f.type != FRAME_HELLO || frame_msg_parse(payload, f.len, &h, &b, &bl) < 0) {
		const char *m = NULL;
		if (f.type == FRAME_REFUSE && frame_msg_parse(payload, f.len, &h, &b, &bl) == 0)
			m = json_string_value(json_object_get(h, "msg"));
		if (f.type == FRAME_AUTH)
			m = "that server requires a cluster key (-hmac FILE, or your own key "
			    "without -insecure)";
		rc = fail(err, f.type == FRAME_REFUSE ? -ECONNREFUSED : f.type == FRAME_AUTH ?
		    -EACCES : -EPROTO, "%s: refused: %s", url, m != NULL ? m : "not a circuit server");
		json_decref(h);
		free(payload);
		circuit_close(c);
		return rc;
	}
	/* Operations may block as long as they like from here on (recv, wait), as long
	 * as the server answers its probes. */
	c->up = 1;
	/* A URL names one run of a server: a restarted one at that address is another. */
	const char *id = json_string_value(json_object_get(h, "id"));
	if (key != NULL && (id == NULL || strcmp(id, xid) != 0)) {
		rc = fail(err, -EPROTO, "%s: the server's HELLO names another XID than its "
		    "key handshake", url);
		json_decref(h);
		free(payload);
		circuit_close(c);
		return rc;
	}
	if (u.id[0] != '\0' && id != NULL && strcmp(id, u.id) != 0) {
		rc = fail(err, -ESTALE, "%s: the server there is now %s (restarted?)", url, id);
		json_decref(h);
		free(payload);
		circuit_close(c);
		return rc;
	}
	json_decref(h);
	free(payload);
	*out = c;
	return 0;
}

void
circuit_close(struct circuit *c)
{
	if (c == NULL)
		return;
	broken(c);
	free(c->rbody);
	if (c->sec != NULL) {
		secure_wipe(c->sec);
		free(c->sec);
	}
	free(c->cbuf);
	free(c);
}

int
circuit_stat(struct circuit *c, const char *path, json_t **out, char **err)
{
	*out = NULL;
	return simple(c, req("stat", path, NULL), NULL, 0, out, err);
}

int
circuit_list(struct circuit *c, const char *path, json_t **out, char **err)
{
	*out = NULL;
	return simple(c, req("list", path, NULL), NULL, 0, out, err);
}

int
circuit_mkdir(struct circuit *c, const char *path, char **err)
{
	return simple(c, req("mkdir", path, NULL), NULL, 0, NULL, err);
}

int
circuit_rmdir(struct circuit *c, const char *path, char **err)
{
	return simple(c, req("rmdir", path, NULL), NULL, 0, NULL, err);
}

int
circuit_ctl(struct circuit *c, const char *path, const char *command, char **err)
{
	return simple(c, req("ctl", path, NULL), command, strlen(command), NULL, err);
}

int
circuit_snap(struct circuit *c, const char *path, const char *file, char **data,
    size_t *len, char **err)
{
	json_t *head = req("snap", path, file), *rep;
	int rc;

	*data = NULL;
	*len = 0;
	if (head == NULL)
		return fail(err, -ENOMEM, "out of memory");
	rc = call(c, head, NULL, 0, &rep, data, len, err);
	json_decref(head);
	json_decref(rep);
	return rc < 0 ? rc : 0;
}

int
circuit_open(struct circuit *c, const char *path, const char *file, int mode,
    struct circuit_stream **out, char **err)
{
	json_t *head = req("open", path, file), *rep, *j;
	struct circuit_stream *s;
	int rc;

	*out = NULL;
	if (head == NULL)
		return fail(err, -ENOMEM, "out of memory");
	json_object_set_new(head, "mode", json_integer(mode == CIRCUIT_WRITE ? 1 : 0));
	rc = call(c, head, NULL, 0, &rep, NULL, NULL, err);
	json_decref(head);
	if (rc < 0)
		return rc;
	j = json_object_get(rep, "h");
	if (!json_is_integer(j) || json_integer_value(j) <= 0 || json_integer_value(j) > UINT32_MAX) {
		json_decref(rep);
		return fail(err, -EPROTO, "%s: bad reply", c->where);
	}
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		json_decref(rep);
		return fail(err, -ENOMEM, "out of memory");
	}
	s->c = c;
	s->h = (uint32_t)json_integer_value(j);
	s->next = c->streams;
	c->streams = s;
	json_decref(rep);
	*out = s;
	return 0;
}

/* Ask for up to max bytes of s, without waiting. */
static int
ask_read(struct circuit_stream *s, size_t max, char **err)
{
	json_t *head = req("read", NULL, NULL);
	struct pend *p;
	int rc;

	if (head == NULL || (p = calloc(1, sizeof *p)) == NULL) {
		json_decref(head);
		return fail(err, -ENOMEM, "out of memory");
	}
	json_object_set_new(head, "h", json_integer(s->h));
	json_object_set_new(head, "max", json_integer((json_int_t)max));
	rc = send_req(s->c, head, NULL, 0, &p->tag, err);
	json_decref(head);
	if (rc < 0) {
		free(p);
		return rc;
	}
	p->asked = max;
	s->ra_budget += max;
	pend_append(&s->rq, p);
	return 0;
}

ssize_t
circuit_read(struct circuit_stream *s, void *buf, size_t max, char **err)
{
	struct pend *p;
	size_t n;
	int rc = 0;

	if (max > FRAME_DATA_MAX)
		max = FRAME_DATA_MAX;
	if (max == 0)
		return 0;
	/* Before the first byte, exactly the reader's request: a recv closed before it
	 * reads anything gives its message back. */
	if (s->rq == NULL && (rc = ask_read(s, max, err)) < 0)
		return rc;
	p = s->rq;
	/* Its answer may come straight into buf. */
	s->c->dtag = p->tag;
	s->c->dbuf = buf;
	s->c->dmax = max;
	while (!p->done)
		if ((rc = pump(s->c, err)) < 0)
			break;
	s->c->dtag = 0;
	s->c->dbuf = NULL;
	if (rc < 0)
		return rc;
	if (p->rc < 0 || p->len == 0) {
		s->rq = p->next;
		rc = p->rc;
		if (rc < 0)
			fail(err, rc, "%s", p->msg);
		pend_free(p);
		return rc;
	}
	n = p->len - p->off;
	if (n > max)
		n = max;
	if (!p->direct)
		memcpy(buf, p->data + p->off, n);
	p->off += n;
	s->ra_budget -= n;
	s->delivered = 1;
	if (p->off == p->len) {
		s->rq = p->next;
		pend_free(p);
	}
	/* Keep the window asked for while the caller uses these bytes. */
	for (size_t ask; !s->ra_stop && (ask = ra_next(s->ra_budget)) > 0; ) {
		if ((rc = ask_read(s, ask, err)) < 0)
			return rc;
	}
	return (ssize_t)n;
}

static int
take_werr(struct circuit_stream *s, char **err)
{
	int rc = s->werr;

	s->werr = 0;
	fail(err, rc, "%s", s->wmsg != NULL ? s->wmsg : strerror(-rc));
	free(s->wmsg);
	s->wmsg = NULL;
	return rc;
}

ssize_t
circuit_write(struct circuit_stream *s, const void *buf, size_t len, char **err)
{
	const char *p = buf;
	size_t done = 0;

	if (s->werr != 0)
		return take_werr(s, err);
	while (done < len) {
		size_t n = len - done > FRAME_DATA_MAX ? FRAME_DATA_MAX : len - done;
		json_t *head = req("write", NULL, NULL), *rep;
		struct pend *w;
		int rc;

		if (head == NULL)
			return fail(err, -ENOMEM, "out of memory");
		json_object_set_new(head, "h", json_integer(s->h));
		if (s->wb) {
			/* Written behind: wait only for room in the window. */
			while (!wb_fits(s->nwq, s->wb_bytes, n) && s->werr == 0)
				if ((rc = pump(s->c, err)) < 0) {
					json_decref(head);
					return rc;
				}
			if (s->werr != 0) {
				json_decref(head);
				return take_werr(s, err);
			}
			if ((w = calloc(1, sizeof *w)) == NULL) {
				json_decref(head);
				return fail(err, -ENOMEM, "out of memory");
			}
			rc = send_req(s->c, head, p + done, n, &w->tag, err);
			json_decref(head);
			if (rc < 0) {
				free(w);
				return rc;
			}
			w->asked = n;
			s->wb_bytes += n;
			s->nwq++;
			pend_append(&s->wq, w);
			done += n;
			continue;
		}
		rc = call(s->c, head, p + done, n, &rep, NULL, NULL, err);
		json_decref(head);
		if (rc >= 0 && json_is_true(json_object_get(rep, "wb")))
			s->wb = 1;
		json_decref(rep);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return fail(err, -EIO, "write: the stream took nothing");
		done += (size_t)rc;
	}
	return (ssize_t)len;
}

int
circuit_stream_close(struct circuit_stream *s, char **err)
{
	struct circuit_stream **sp;
	struct pend *p;
	uint8_t hdr[FRAME_HDR];
	int rc = 0;

	if (s == NULL)
		return 0;
	/* Reads asked ahead are not wanted: cancel them (their replies are ignored). */
	while ((p = s->rq) != NULL) {
		s->rq = p->next;
		if (!p->done && s->c->fd >= 0) {
			frame_header(hdr, FRAME_CANCEL, p->tag, 0);
			if (io_write(s->c, hdr, sizeof hdr) < 0)
				broken(s->c);
		}
		pend_free(p);
	}
	if (s->c->fd >= 0) {
		frame_header(hdr, FRAME_RELEASE, s->h, 0);
		if ((rc = io_write(s->c, hdr, sizeof hdr)) < 0)
			rc = lost(s->c, rc, err);
	}
	/* Writes written behind: their outcome is the close's. */
	while (rc == 0 && s->wq != NULL)
		rc = pump(s->c, err);
	if (rc == 0 && s->werr != 0)
		rc = take_werr(s, err);
	while ((p = s->wq) != NULL) {
		s->wq = p->next;
		pend_free(p);
	}
	for (sp = &s->c->streams; *sp != NULL; sp = &(*sp)->next)
		if (*sp == s) {
			*sp = s->next;
			break;
		}
	free(s->wmsg);
	free(s);
	return rc;
}
