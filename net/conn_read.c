/* conn_read.c - a connection's read path (see conn.h, conn_int.h).
 *
 * Received bytes collect in rbuf until a whole frame is there; the header is checked
 * as soon as it is in (version, type, length), so an oversized length is refused
 * before any memory is reserved for it.  The buffer grows with the bytes of at most
 * one frame and is given back when empty, so an idle connection costs a few hundred
 * bytes.  A large REQ or REP body is received apart, straight into a buffer of its own.
 * With a cluster key (net/secure.h) bytes first collect in cbuf until a whole record
 * is there, and its plaintext goes on as if read from the socket; before that, the
 * other's AUTH frame completes the handshake.  Before the HELLO is in, the other side
 * is a stranger and gets only small buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "net/conn_int.h"
#include "net/secure.h"

#define RBUF_MIN		65536
#define BODY_APART		16384	/* bodies this big are received apart */
/* Before the HELLO is in, the other side is a stranger: its first frame (and, with a
 * key, each record) may be this big, and it gets a read buffer of about this size. */
#define PRE_MAX			4096
#define PRE_BUF			(PRE_MAX + SECURE_AUTH_MAX + SECURE_REC_OVER)
/* With a key, what one read may bring once the HELLO is in: a few records, so a
 * stream costs no more reads than in plaintext (where a body is read whole). */
#define CBUF_UP			(4 * (SECURE_REC_MAX + SECURE_REC_OVER))
/* Bodies received apart reserve their whole size when their head is in: at most this
 * much in all, past which a body is received through rbuf, which grows as bytes come. */
#define APART_BUDGET		(256u << 20)

static size_t apart_total;		/* bytes reserved by bodies received apart */

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
	conn_drop(c, reason);
}

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
	rc = conn_ev->check_hello(c, head);
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
		conn_ev->up(c);
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

/* Hand f to the layers above: 0, or -1 if the connection is closed or closing. */
static int
deliver(struct conn *c, const struct frame *f)
{
	if (c->close_reason != 0)
		return -1;		/* closing from the loop (conn_close_later) */
	if (c->state == CONN_HELLO)
		return handle_hello(c, f) < 0 ? -1 : 0;
	if (conn_ev->frame(c, f) < 0 && c->state != CONN_CLOSED) {
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

/* Once up, the timer watches a frame (or record) half received: it must progress. */
static void
watch_stall(struct conn *c)
{
	if (c->state != CONN_UP)
		return;			/* the handshake's deadline runs */
	if (!c->paused && (c->rlen > 0 || c->rbody != NULL || c->clen > 0))
		uv_timer_start(&c->timer, conn_on_timeout, conn_stall_ms, 0);
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
	conn_send_hello(c);
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
	conn_trim_later();
	if (c->state == CONN_AUTH || c->sec != NULL)
		secure_received(c, (size_t)nread);
	else
		received(c, (size_t)nread);
	watch_stall(c);
}

void
conn_update_reading(struct conn *c)
{
	if (!conn_live(c))
		return;
	if (c->paused)
		uv_read_stop((uv_stream_t *)&c->tcp);
	else
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	watch_stall(c);
}

void
conn_free_buffers(struct conn *c)
{
	free(c->rbuf);
	c->rbuf = NULL;
	if (c->rbody != NULL)
		apart_total -= c->rbody_len;
	free(c->rbody);
	c->rbody = NULL;
	free(c->cbuf);
	c->cbuf = NULL;
}
