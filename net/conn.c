/* conn.c - TCP connections that speak frames (see conn.h).
 *
 * Reading: received bytes collect in rbuf until a whole frame is there; the header
 * is checked as soon as it is in (version, type, length), so an oversized length is
 * refused before any memory is reserved for it.  The buffer grows with the bytes of
 * at most one frame and is given back when empty, so an idle connection costs a few
 * hundred bytes.  With a cluster key (net/secure.h) bytes first collect in cbuf until
 * a whole record is there, and its plaintext goes on as if read from the socket.
 *
 * Back-pressure: reading stops while rpc.c has too many of the other's requests in
 * flight, or while too many of our bytes wait to be written (the other does not read
 * its replies); a peer can therefore never make us buffer without bound.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <arpa/inet.h>

#include "elements/log.h"
#include "net/conn.h"
#include "net/key.h"
#include "net/secure.h"

#define DIAL_TIMEOUT_MS		3000
#define HELLO_TIMEOUT_MS	10000
#define RBUF_MIN		65536
#define BODY_APART		16384	/* bodies this big are received apart */
#define SOCKBUF			(4 << 20)
#define WQUEUE_HIGH		(16u << 20)
#define WQUEUE_LOW		(4u << 20)
/* Before the HELLO is in, the other side is a stranger: its first frame (and, with a
 * key, each record) may be this big, and it gets a read buffer of about this size. */
#define PRE_MAX			4096
#define PRE_BUF			(PRE_MAX + SECURE_AUTH_MAX + SECURE_REC_OVER)
/* With a key, what one read may bring once the HELLO is in: a few records, so a
 * stream costs no more reads than in plaintext (where a body is read whole). */
#define CBUF_UP			(4 * (SECURE_REC_MAX + SECURE_REC_OVER))
/* A frame half received must progress: no byte for this long in the middle of one
 * drops the connection (reading not paused by us). */
#define STALL_TIMEOUT_MS	30000
/* Bodies received apart reserve their whole size when their head is in: at most this
 * much in all, past which a body is received through rbuf, which grows as bytes come. */
#define APART_BUDGET		(256u << 20)
/* Accepted connections: in all and from one address.  Past these a new one is turned
 * away.  Strangers (accepted, handshake or HELLO not done) are bounded tighter, and a
 * new one pushes out the oldest instead of being turned away: a flood of silent
 * connections cannot lock out a client that completes its handshake at once. */
#define CONN_MAX		1024
#define CONN_PER_SOURCE		256
#define STRANGER_MAX		128
#define STRANGER_PER_SOURCE	32
#define TRIM_IDLE_MS		1000

enum { PAUSE_WRITE = 2 };

struct conn_list conn_all = TAILQ_HEAD_INITIALIZER(conn_all);
static uv_loop_t *loop;
static const struct conn_events *events;
static uint8_t ckey[KEY_LEN];
static int have_key;
static char self_xid[URL_ID_LEN + 1];
static size_t apart_total;		/* bytes reserved by bodies received apart */
static uv_timer_t trim_timer;

struct conn_write {
	uv_write_t req;
	struct conn *c;
	void *a, *b;
	uint8_t *side;			/* with a key: the records' lengths and tags */
	size_t len;
};

void
conn_init(uv_loop_t *l, const struct conn_events *ev)
{
	loop = l;
	events = ev;
	/* Stream data moves in buffers of up to a frame (1 MiB), malloc'd and freed at
	 * a high rate.  glibc would map each from fresh zeroed pages (mmap, or a heap top
	 * trimmed after every burst): a page fault per 4 KiB, a third of the CPU of a
	 * transfer.  Keep them in the heap, and up to 32 MiB of freed heap in reserve
	 * while data flows (memory is bounded by the windows anyway: docs/protocol.md);
	 * once the connections have been quiet for TRIM_IDLE_MS, give it all back. */
	mallopt(M_MMAP_THRESHOLD, 2 * FRAME_MAX);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	uv_timer_init(loop, &trim_timer);
	uv_unref((uv_handle_t *)&trim_timer);	/* never what keeps the loop alive */
	TAILQ_INIT(&conn_all);
}

int
conn_set_key(const uint8_t *key, const char *self_id)
{
	if (secure_init() < 0)
		return -EIO;
	have_key = key != NULL;
	if (key != NULL)
		memcpy(ckey, key, KEY_LEN);
	else
		sodium_memzero(ckey, sizeof ckey);
	snprintf(self_xid, sizeof self_xid, "%s", self_id != NULL ? self_id : "");
	return 0;
}

int
conn_secure(void)
{
	return have_key;
}

const uint8_t *
conn_key(void)
{
	return have_key ? ckey : NULL;
}

static void
on_quiet(uv_timer_t *t)
{
	malloc_trim(0);
}

/* Bytes moved: trim the heap once everything has been quiet for a while. */
static void
trim_later(void)
{
	uv_timer_start(&trim_timer, on_quiet, TRIM_IDLE_MS, 0);
}

static struct conn *
conn_new(void)
{
	struct conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	TAILQ_INIT(&c->calls);
	TAILQ_INIT(&c->inreqs);
	TAILQ_INIT(&c->handles);
	TAILQ_INIT(&c->rstreams);
	c->next_tag = 1;
	c->next_handle = 1;
	uv_tcp_init(loop, &c->tcp);
	uv_timer_init(loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->handles_open = 2;
	TAILQ_INSERT_TAIL(&conn_all, c, link);
	return c;
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->handles_open == 0) {
		free(c->rbuf);
		if (c->rbody != NULL)
			apart_total -= c->rbody_len;
		free(c->rbody);
		free(c->cbuf);
		if (c->sec != NULL) {
			secure_wipe(c->sec);
			free(c->sec);
		}
		if (c->hs != NULL) {
			secure_hs_wipe(c->hs);
			free(c->hs);
		}
		free(c);
	}
}

void
conn_close(struct conn *c, int reason)
{
	void (*cb)(struct conn *, int, void *);

	if (c->state == CONN_CLOSED)
		return;
	c->state = CONN_CLOSED;
	TAILQ_REMOVE(&conn_all, c, link);
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_timer_stop(&c->timer);
	/* Close first: the callbacks below may shut the whole server down. */
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	cb = c->dial_cb;
	c->dial_cb = NULL;
	if (cb != NULL)
		cb(c, reason < 0 ? reason : -ECONNRESET, c->dial_arg);
	if (events != NULL && events->closed != NULL)
		events->closed(c, reason);
}

static void
update_reading(struct conn *c);

static void
on_written(uv_write_t *req, int status)
{
	struct conn_write *w = (struct conn_write *)req;
	struct conn *c = w->c;

	c->wqueued -= w->len;
	free(w->a);
	free(w->b);
	free(w->side);
	free(w);
	trim_later();
	if (c->state == CONN_CLOSED)
		return;
	if (status < 0) {
		log_warnx("connection %s: write: %s", c->name, uv_strerror(status));
		conn_close(c, status);
		return;
	}
	if ((c->paused & PAUSE_WRITE) && c->wqueued < WQUEUE_LOW) {
		c->paused &= ~PAUSE_WRITE;
		update_reading(c);
	}
}

/* With a key: seal a piece in place into records, their lengths and tags in side;
 * the buffers to write go to v (three a record).  Returns the buffers added. */
static unsigned
seal_piece(struct conn *c, uint8_t *p, size_t len, uint8_t *side, uv_buf_t *v)
{
	size_t n = secure_seal_inplace(&c->sec->tx, p, len, side), i;

	for (i = 0; i < n; i++, side += SECURE_REC_OVER) {
		size_t k = i + 1 < n ? SECURE_REC_MAX : len - i * SECURE_REC_MAX;
		v[3 * i] = uv_buf_init((char *)side, SECURE_REC_HDR);
		v[3 * i + 1] = uv_buf_init((char *)p + i * SECURE_REC_MAX, (unsigned)k);
		v[3 * i + 2] = uv_buf_init((char *)side + SECURE_REC_HDR, SECURE_REC_TAG);
	}
	return (unsigned)(3 * n);
}

void
conn_send2(struct conn *c, void *a, size_t alen, void *b, size_t blen)
{
	struct conn_write *w;
	uv_buf_t small[2], *bufs = small;
	size_t ra = 0, rb = 0;
	unsigned n = 0;
	int rc;

	if (c->state != CONN_AUTH && c->state != CONN_HELLO && c->state != CONN_UP) {
		free(a);
		free(b);
		return;
	}
	w = calloc(1, sizeof *w);
	if (c->sec != NULL && w != NULL) {
		/* Sealed in place, record by record: no copy of a body. */
		ra = alen > 0 ? secure_records(alen) : 0;
		rb = blen > 0 ? secure_records(blen) : 0;
		w->side = malloc((ra + rb) * SECURE_REC_OVER);
		bufs = malloc(3 * (ra + rb) * sizeof *bufs);
	}
	if (w == NULL || (c->sec != NULL && (w->side == NULL || bufs == NULL))) {
		if (w != NULL)
			free(w->side);
		if (bufs != small)
			free(bufs);
		free(a);
		free(b);
		free(w);
		conn_close(c, -ENOMEM);
		return;
	}
	w->c = c;
	w->a = a;
	w->b = b;
	w->len = alen + blen + (ra + rb) * SECURE_REC_OVER;
	if (c->sec != NULL) {
		if (alen > 0)
			n += seal_piece(c, a, alen, w->side, bufs);
		if (blen > 0)
			n += seal_piece(c, b, blen, w->side + ra * SECURE_REC_OVER, bufs + n);
	} else {
		if (alen > 0)
			bufs[n++] = uv_buf_init(a, (unsigned)alen);
		if (blen > 0)
			bufs[n++] = uv_buf_init(b, (unsigned)blen);
	}
	c->wqueued += w->len;
	rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, n, on_written);
	if (bufs != small)
		free(bufs);		/* libuv keeps its own copy of the list */
	if (rc < 0) {
		c->wqueued -= w->len;
		free(a);
		free(b);
		free(w->side);
		free(w);
		conn_close(c, rc);
		return;
	}
	if (c->wqueued > WQUEUE_HIGH && !(c->paused & PAUSE_WRITE)) {
		c->paused |= PAUSE_WRITE;
		update_reading(c);
	}
}

void
conn_send(struct conn *c, void *buf, size_t len)
{
	conn_send2(c, buf, len, NULL, 0);
}

int
conn_send_msg(struct conn *c, enum frame_type type, uint32_t id, const json_t *head,
    const void *body, size_t bodylen)
{
	uint8_t *buf;
	size_t len;
	int rc = frame_msg_build(type, id, head, body, bodylen, &buf, &len);

	if (rc < 0)
		return rc;
	conn_send(c, buf, len);
	return 0;
}

void
conn_send_empty(struct conn *c, enum frame_type type, uint32_t id)
{
	uint8_t *buf = malloc(FRAME_HDR);

	if (buf == NULL)
		return;
	frame_header(buf, type, id, 0);
	conn_send(c, buf, FRAME_HDR);
}

int
conn_send_now(struct conn *c, const void *buf, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)(uintptr_t)buf, (unsigned)len);
	uint8_t *sealed = NULL;
	int rc;

	if (c->state != CONN_AUTH && c->state != CONN_HELLO && c->state != CONN_UP)
		return -ENOTCONN;
	if (c->sec != NULL) {
		if ((sealed = malloc(secure_sealed_len(len))) == NULL)
			return -ENOMEM;
		b = uv_buf_init((char *)sealed, (unsigned)secure_seal(&c->sec->tx, buf, len, sealed));
	}
	rc = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	free(sealed);
	if (rc < 0)
		return rc;
	return (unsigned)rc == b.len ? 0 : -EAGAIN;
}

/* Send a REFUSE at once (best effort: it may not fit) and drop the connection. */
static void
refuse(struct conn *c, int reason, const char *fmt, const char *arg)
{
	char text[256];
	uint8_t *buf;
	size_t len;
	json_t *head;

	snprintf(text, sizeof text, fmt, arg);
	log_warnx("connection %s: %s: dropped", c->name, text);
	head = json_pack("{s:s}", "msg", text);
	if (head != NULL && frame_msg_build(FRAME_REFUSE, 0, head, NULL, 0, &buf, &len) == 0) {
		conn_send_now(c, buf, len);
		free(buf);
	}
	json_decref(head);
	conn_close(c, reason);
}

/* ---- reading ---- */

/* A REQ or REP whose header is at the start of buf (have bytes, a valid header) with
 * a body of at least BODY_APART bytes: the bytes its header and head take, else 0
 * (small, another type, or a head length the handler will refuse). */
static size_t
apart_prefix(const struct conn *c, const uint8_t *buf, size_t have)
{
	long need;
	uint32_t hlen;

	if (c->state != CONN_UP || have < FRAME_HDR + 4 ||
	    (buf[1] != FRAME_REQ && buf[1] != FRAME_REP) ||
	    (need = frame_need(buf, have)) < 0)
		return 0;
	hlen = frame_get32(buf + FRAME_HDR);
	if (hlen == 0 || hlen > FRAME_HEAD_MAX ||
	    (size_t)need < FRAME_HDR + 4 + (size_t)hlen + BODY_APART)
		return 0;
	return FRAME_HDR + 4 + hlen;
}

/* Where the next plaintext bytes go: the body being received apart, or rbuf. */
static void
plain_room(struct conn *c, uv_buf_t *buf)
{
	size_t min = c->state == CONN_UP ? RBUF_MIN : FRAME_HDR + PRE_MAX;
	size_t want = c->rlen + min;
	long need;

	if (c->rbody != NULL) {
		/* The body of a large frame: straight into its own buffer, up to its end. */
		buf->base = (char *)c->rbody + c->rbody_got;
		buf->len = c->rbody_len - c->rbody_got;
		return;
	}
	/* Room for the frame being received, once its header is in, unless its body will
	 * be received apart: doubling as its bytes come, not reserved at once (a header
	 * alone must not make us hold a frame's worth). */
	if (c->state == CONN_UP && c->rlen >= FRAME_HDR &&
	    (need = frame_need(c->rbuf, c->rlen)) > 0 && (size_t)need > want &&
	    (!((c->rbuf[1] == FRAME_REQ || c->rbuf[1] == FRAME_REP) &&
	    (size_t)need >= FRAME_HDR + 4 + BODY_APART) || apart_total + (size_t)need >
	    APART_BUDGET))
		want = (size_t)need < 2 * c->rlen ? (size_t)need :
		    2 * c->rlen > want ? 2 * c->rlen : want;
	else if (c->rcap - c->rlen >= min / 2)
		want = c->rcap;		/* room enough: no realloc for a few bytes */
	if (want > c->rcap) {
		uint8_t *nb = realloc(c->rbuf, want);
		if (nb == NULL) {
			buf->base = NULL;
			buf->len = 0;
			return;
		}
		c->rbuf = nb;
		c->rcap = want;
	}
	buf->base = (char *)c->rbuf + c->rlen;
	buf->len = c->rcap - c->rlen;
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;
	size_t want;

	if (c->state != CONN_AUTH && c->sec == NULL) {
		plain_room(c, buf);
		return;
	}
	/* With a key, bytes wait in cbuf for a whole record: a small one from a stranger. */
	want = c->state == CONN_UP ? CBUF_UP : PRE_BUF;
	if (want > c->ccap) {
		uint8_t *nb = realloc(c->cbuf, want);
		if (nb == NULL) {
			buf->base = NULL;
			buf->len = 0;
			return;
		}
		c->cbuf = nb;
		c->ccap = want;
	}
	buf->base = (char *)c->cbuf + c->clen;
	buf->len = c->ccap - c->clen;
}

const uint8_t *
conn_body(const struct conn *c, size_t *len)
{
	*len = c->rbody != NULL ? c->rbody_len : 0;
	return c->rbody;
}

char *
conn_take_body(struct conn *c)
{
	char *b = (char *)c->rbody;

	if (b != NULL)
		apart_total -= c->rbody_len;
	c->rbody = NULL;
	return b;
}

static int
handle_hello(struct conn *c, const struct frame *f)
{
	const uint8_t *body;
	size_t blen;
	json_t *head;
	int rc;

	if (f->type == FRAME_REFUSE) {
		const char *m = NULL;
		if (frame_msg_parse(f->payload, f->len, &head, &body, &blen) == 0)
			m = json_string_value(json_object_get(head, "msg"));
		log_warnx("connection %s: refused by the other side: %s", c->name,
		    m != NULL ? m : "(no reason)");
		json_decref(head);
		conn_close(c, -ECONNREFUSED);
		return -ECONNREFUSED;
	}
	if (f->type == FRAME_AUTH) {
		refuse(c, -EACCES, "%s", "the other side uses a cluster key and this server "
		    "runs without one (-insecure)");
		return -EACCES;
	}
	if (f->type != FRAME_HELLO) {
		refuse(c, -EPROTO, "%s frame before HELLO", frame_type_name(f->type));
		return -EPROTO;
	}
	if (frame_msg_parse(f->payload, f->len, &head, &body, &blen) < 0) {
		refuse(c, -EBADMSG, "%s", "malformed HELLO");
		return -EBADMSG;
	}
	rc = events->check_hello(c, head);
	json_decref(head);
	if (rc < 0) {
		refuse(c, rc, "HELLO refused: %s", strerror(-rc));
		return rc;
	}
	uv_timer_stop(&c->timer);
	c->state = CONN_UP;
	if (c->dial_cb != NULL) {
		void (*cb)(struct conn *, int, void *) = c->dial_cb;
		c->dial_cb = NULL;
		cb(c, 0, c->dial_arg);
	}
	if (c->state == CONN_UP)
		events->up(c);
	return 0;
}

/* Refuse the frame whose bad header starts h (frame_decode said n). */
static void
refuse_header(struct conn *c, const uint8_t *h, long n)
{
	char why[80];

	if (n == -EPROTONOSUPPORT)
		snprintf(why, sizeof why, "protocol version %u not supported (this "
		    "server speaks version %d)", h[0], FRAME_VERSION);
	else if (n == -EMSGSIZE)
		snprintf(why, sizeof why, "oversized frame (limit %u bytes)", FRAME_MAX);
	else if (h[1] == 0 || h[1] > FRAME_TYPE_MAX)
		snprintf(why, sizeof why, "unknown frame type %u", h[1]);
	else
		snprintf(why, sizeof why, "reserved header bits set");
	refuse(c, (int)n, "%s", why);
}

/* Hand f to the layers above: 0, or -1 if the connection is closed. */
static int
deliver(struct conn *c, const struct frame *f)
{
	if (c->state == CONN_HELLO)
		return handle_hello(c, f) < 0 ? -1 : 0;
	if (events->frame(c, f) < 0 && c->state != CONN_CLOSED) {
		refuse(c, -EPROTO, "bad %s frame", frame_type_name(f->type));
		return -1;
	}
	return c->state == CONN_CLOSED ? -1 : 0;
}

/* The body received apart is complete: deliver its frame (the head is all of rbuf). */
static void
deliver_apart(struct conn *c)
{
	struct frame f;
	int rc;

	c->rbody[c->rbody_len] = 0;
	f.version = c->rbuf[0];
	f.type = c->rbuf[1];
	f.id = frame_get32(c->rbuf + 4);
	f.len = (uint32_t)(c->rlen - FRAME_HDR);
	f.payload = c->rbuf + FRAME_HDR;
	rc = deliver(c, &f);
	if (c->rbody != NULL)
		apart_total -= c->rbody_len;
	free(c->rbody);
	c->rbody = NULL;
	if (rc < 0)
		return;
	c->rlen = 0;
}

static void on_timeout(uv_timer_t *t);

/* Once up, the timer watches a frame (or record) half received: it must progress. */
static void
watch_stall(struct conn *c)
{
	if (c->state != CONN_UP)
		return;			/* the handshake's deadline runs */
	if (!c->paused && (c->rlen > 0 || c->rbody != NULL || c->clen > 0))
		uv_timer_start(&c->timer, on_timeout, STALL_TIMEOUT_MS, 0);
	else
		uv_timer_stop(&c->timer);
}

/* nread more plaintext bytes are in, where plain_room said: decode what is whole. */
static void
received(struct conn *c, size_t nread)
{
	struct frame f;
	size_t off = 0, pre;
	long n;

	if (c->rbody != NULL) {
		c->rbody_got += nread;
		if (c->rbody_got == c->rbody_len)
			deliver_apart(c);
		return;
	}
	c->rlen += nread;
	while (c->state != CONN_CLOSED) {
		/* A stranger's first frame is small (the HELLO) or refused. */
		if (c->state == CONN_HELLO && c->rlen - off >= FRAME_HDR &&
		    frame_need(c->rbuf + off, c->rlen - off) > (long)(FRAME_HDR + PRE_MAX)) {
			refuse(c, -EMSGSIZE, "oversized frame before HELLO (limit %s bytes)", "4096");
			return;
		}
		n = frame_decode(c->rbuf + off, c->rlen - off, &f);
		if (n < 0) {
			refuse_header(c, c->rbuf + off, n);
			return;
		}
		if (n == 0) {
			/* A large body still to come: receive it apart, the bytes of it
			 * already here first (at most what one read brought). */
			uint8_t *h = c->rbuf + off;
			size_t have = c->rlen - off;
			if ((pre = apart_prefix(c, h, have)) > 0 && have >= pre &&
			    apart_total + (size_t)frame_need(h, have) <= APART_BUDGET) {
				size_t blen = (size_t)frame_need(h, have) - pre;
				uint8_t *b = malloc(blen + 1);
				if (b != NULL) {
					apart_total += blen;
					memcpy(b, h + pre, have - pre);
					c->rbody = b;
					c->rbody_len = blen;
					c->rbody_got = have - pre;
					memmove(c->rbuf, h, pre);
					c->rlen = pre;
					return;
				}
			}
			break;
		}
		off += (size_t)n;
		if (deliver(c, &f) < 0)
			return;
	}
	if (c->state == CONN_CLOSED)
		return;
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	if (c->rlen == 0 && c->rcap > 2 * RBUF_MIN) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
}

/* Hand opened plaintext to the frame decoder, as if it came from the socket. */
static void
feed(struct conn *c, const uint8_t *p, size_t n)
{
	uv_buf_t b;

	while (n > 0 && c->state != CONN_CLOSED) {
		size_t k;
		plain_room(c, &b);
		if (b.base == NULL) {
			conn_close(c, -ENOMEM);
			return;
		}
		k = n < b.len ? n : b.len;
		memcpy(b.base, p, k);
		received(c, k);
		p += k;
		n -= k;
	}
}

static void send_hello(struct conn *c);

/* The other's AUTH frame at p (have bytes): the bytes it took, 0 if incomplete, -1 if
 * the connection is closed. */
static long
auth_received(struct conn *c, const uint8_t *p, size_t have)
{
	const uint8_t *body;
	size_t blen;
	json_t *head;
	long need;
	int rc;

	if (have < FRAME_HDR)
		return 0;
	need = frame_need(p, have);
	if (p[0] == FRAME_VERSION && p[1] == FRAME_REFUSE && need > 0) {
		const char *m = NULL;
		if ((size_t)need > have)
			return (size_t)need > PRE_BUF ? (refuse(c, -EMSGSIZE, "%s",
			    "oversized REFUSE"), -1) : 0;
		if (frame_msg_parse(p + FRAME_HDR, (size_t)need - FRAME_HDR, &head, &body,
		    &blen) == 0)
			m = json_string_value(json_object_get(head, "msg"));
		log_warnx("connection %s: refused by the other side: %s", c->name,
		    m != NULL ? m : "(no reason)");
		json_decref(head);
		conn_close(c, -ECONNREFUSED);
		return -1;
	}
	if (p[0] == FRAME_VERSION && p[1] == FRAME_HELLO) {
		refuse(c, -EACCES, "%s", "no key handshake: the other side runs without a "
		    "key, and this server requires the cluster key (-hmac FILE, or the user's "
		    "own ~/.circuit.key)");
		return -1;
	}
	if (need < 0) {
		refuse_header(c, p, need);
		return -1;
	}
	if (p[1] != FRAME_AUTH || need < (long)SECURE_AUTH_MIN || need > (long)SECURE_AUTH_MAX) {
		refuse(c, -EPROTO, "%s frame instead of the key handshake", frame_type_name(p[1]));
		return -1;
	}
	if ((size_t)need > have)
		return 0;
	if ((c->sec = malloc(sizeof *c->sec)) == NULL) {
		conn_close(c, -ENOMEM);
		return -1;
	}
	rc = secure_hs_finish(c->hs, p, (size_t)need, c->sec, c->auth_id);
	free(c->hs);
	c->hs = NULL;
	if (rc < 0) {
		free(c->sec);
		c->sec = NULL;
		refuse(c, rc, "%s", "malformed key handshake");
		return -1;
	}
	c->state = CONN_HELLO;
	send_hello(c);
	return c->state == CONN_CLOSED ? -1 : need;
}

/* nread more bytes are in cbuf: open every whole record, feed its plaintext on. */
static void
secure_received(struct conn *c, size_t nread)
{
	size_t off = 0, plen;
	uint8_t *plain;
	long n;

	c->clen += nread;
	while (c->state != CONN_CLOSED && off < c->clen) {
		if (c->state == CONN_AUTH) {
			n = auth_received(c, c->cbuf + off, c->clen - off);
		} else {
			size_t max = c->state == CONN_UP ? SECURE_REC_MAX : PRE_MAX;
			uv_buf_t b;
			n = secure_rec_need(c->cbuf + off, c->clen - off, max);
			if (n > 0 && (size_t)n <= c->clen - off && c->state == CONN_UP) {
				/* Straight to where the frame decoder wants the bytes, if the
				 * record fits there: no copy. */
				plain_room(c, &b);
				if (b.base != NULL && b.len >= (size_t)n - SECURE_REC_OVER) {
					n = secure_open_to(&c->sec->rx, c->cbuf + off, c->clen - off,
					    max, (uint8_t *)b.base, &plen);
					if (n > 0) {
						received(c, plen);
						off += (size_t)n;
						continue;
					}
				}
			}
			if (n > 0)
				n = secure_open(&c->sec->rx, c->cbuf + off, c->clen - off, max,
				    &plain, &plen);
			if (n == -EMSGSIZE) {
				refuse(c, -EMSGSIZE, "%s", "oversized record");
				return;
			}
			if (n < 0) {
				/* The other side cannot read a REFUSE from us either. */
				log_warnx("connection %s: %s: dropped", c->name, c->sec->rx.seq == 0 ?
				    "the key handshake failed (a wrong cluster key?)" :
				    "a record does not authenticate (tampered, replayed or reordered)");
				conn_close(c, -EACCES);
				return;
			}
			if (n > 0)
				feed(c, plain, plen);
		}
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (c->state == CONN_CLOSED)
		return;
	memmove(c->cbuf, c->cbuf + off, c->clen - off);
	c->clen -= off;
	if (c->clen == 0 && c->state == CONN_UP) {
		free(c->cbuf);
		c->cbuf = NULL;
		c->ccap = 0;
	}
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;

	if (c->state == CONN_CLOSED)
		return;
	if (nread < 0) {
		if (nread != UV_EOF)
			log_debug("connection %s: read: %s", c->name, uv_strerror((int)nread));
		conn_close(c, nread == UV_EOF ? -ECONNRESET : (int)nread);
		return;
	}
	if (nread == 0 && buf->base == NULL) {
		conn_close(c, -ENOMEM);
		return;
	}
	trim_later();
	if (c->state == CONN_AUTH || c->sec != NULL)
		secure_received(c, (size_t)nread);
	else
		received(c, (size_t)nread);
	watch_stall(c);
}

static void
update_reading(struct conn *c)
{
	if (c->state != CONN_AUTH && c->state != CONN_HELLO && c->state != CONN_UP)
		return;
	if (c->paused)
		uv_read_stop((uv_stream_t *)&c->tcp);
	else
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	watch_stall(c);
}

/* ---- setting up ---- */

static void
on_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;

	log_warnx("connection %s: %s timed out: dropped", c->name,
	    c->state == CONN_DIALING ? "connect" : c->state == CONN_AUTH ? "key handshake" :
	    c->state == CONN_HELLO ? "HELLO" : "a frame half received (no byte for 30 s)");
	conn_close(c, -ETIMEDOUT);
}

static void
send_hello(struct conn *c)
{
	json_t *head = events->hello();

	if (head == NULL || conn_send_msg(c, FRAME_HELLO, 0, head, NULL, 0) < 0)
		conn_close(c, -ENOMEM);
	json_decref(head);
}

/* Connected: with a key, send our AUTH frame and wait for the other's; without, say
 * HELLO and wait for the other's. */
static void
start(struct conn *c)
{
	uint8_t *auth;
	size_t alen;
	int sz;

	/* Small frames (requests, CANCEL) go at once; stream data in socket buffers of a
	 * read-ahead window each way, fewer wake-ups per MiB than the kernel's default
	 * (the kernel caps them at net.core.[rw]mem_max; memory is used only as queued). */
	uv_tcp_nodelay(&c->tcp, 1);
	sz = SOCKBUF;
	uv_send_buffer_size((uv_handle_t *)&c->tcp, &sz);
	sz = SOCKBUF;
	uv_recv_buffer_size((uv_handle_t *)&c->tcp, &sz);
	if (have_key) {
		c->state = CONN_AUTH;
		c->hs = malloc(sizeof *c->hs);
		auth = malloc(SECURE_AUTH_MAX);
		if (c->hs == NULL || auth == NULL ||
		    secure_hs_start(c->hs, ckey, c->outgoing, self_xid, auth, &alen) < 0) {
			free(auth);
			conn_close(c, -ENOMEM);
			return;
		}
		conn_send(c, auth, alen);
	} else {
		c->state = CONN_HELLO;
		send_hello(c);
	}
	if (c->state == CONN_CLOSED)
		return;
	uv_timer_start(&c->timer, on_timeout, HELLO_TIMEOUT_MS, 0);
	update_reading(c);
}

static void
name_from(struct conn *c, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
		port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
		port = ntohs(sin6->sin6_port);
	}
	snprintf(c->name, sizeof c->name, "%s:%d", ip, port);
}

/* Make room for the connection just accepted from src (c, not counted): 0, or -EMFILE
 * if it must go.  The oldest stranger from src, or of all, is pushed out if need be. */
static int
admit(struct conn *nc)
{
	struct conn *c, *old_src = NULL, *old_any = NULL;
	int all = 0, from = 0, strangers = 0, strangers_from = 0;

	TAILQ_FOREACH(c, &conn_all, link) {
		int same = strcmp(c->src, nc->src) == 0;
		if (c == nc || c->outgoing)
			continue;
		all++;
		from += same;
		if (c->state == CONN_UP)
			continue;
		strangers++;
		strangers_from += same;
		if (old_any == NULL)
			old_any = c;
		if (same && old_src == NULL)
			old_src = c;
	}
	if (strangers_from >= STRANGER_PER_SOURCE || strangers >= STRANGER_MAX) {
		c = strangers_from >= STRANGER_PER_SOURCE ? old_src : old_any;
		log_warnx("connection %s: dropped: too many connections still in their "
		    "handshake (%d from %s, %d in all): the oldest goes", c->name,
		    strangers_from, nc->src, strangers);
		conn_close(c, -ETIMEDOUT);
		return 0;
	}
	if (from >= CONN_PER_SOURCE || all >= CONN_MAX) {
		log_warnx("connection %s: dropped: too many connections (%d from %s, %d in all)",
		    nc->name, from, nc->src, all);
		return -EMFILE;
	}
	return 0;
}

int
conn_accept(uv_stream_t *listener)
{
	struct sockaddr_storage ss;
	int len = sizeof ss, rc;
	struct conn *c = conn_new();

	if (c == NULL)
		return -ENOMEM;
	if ((rc = uv_accept(listener, (uv_stream_t *)&c->tcp)) < 0) {
		conn_close(c, rc);
		return rc;
	}
	memset(&ss, 0, sizeof ss);
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len);
	name_from(c, &ss);
	snprintf(c->src, sizeof c->src, "%.*s", (int)(strrchr(c->name, ':') - c->name), c->name);
	if (admit(c) < 0) {
		conn_close(c, -EMFILE);
		return 0;
	}
	start(c);
	return 0;
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct conn *c = req->data;

	if (c->state == CONN_CLOSED)
		return;
	if (status < 0) {
		log_debug("connection %s: connect: %s", c->name, uv_strerror(status));
		conn_close(c, status);
		return;
	}
	uv_timer_stop(&c->timer);
	start(c);
}

int
conn_dial(const struct url *u, const char *want_id,
    void (*cb)(struct conn *c, int status, void *arg), void *arg, struct conn **out)
{
	struct sockaddr_storage ss;
	struct conn *c;
	int rc;

	if ((rc = url_sockaddr(u, &ss)) < 0)
		return rc;
	if ((c = conn_new()) == NULL)
		return -ENOMEM;
	c->outgoing = 1;
	c->state = CONN_DIALING;
	name_from(c, &ss);
	if (want_id != NULL)
		snprintf(c->want_id, sizeof c->want_id, "%s", want_id);
	c->connect.data = c;
	if ((rc = uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&ss, on_connect)) < 0) {
		conn_close(c, rc);
		return rc;
	}
	c->dial_cb = cb;
	c->dial_arg = arg;
	uv_timer_start(&c->timer, on_timeout, DIAL_TIMEOUT_MS, 0);
	if (out != NULL)
		*out = c;
	return 0;
}
