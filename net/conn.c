/* conn.c - TCP connections that speak frames (see conn.h): a connection's life
 * (accept, dial, the handshake's first frame, deadlines, close) and the write path.
 * The read path is conn_read.c (conn_int.h is what the two share).
 *
 * Back-pressure: reading stops while too many of our bytes wait to be written (the
 * other does not read its replies); with the read path's bounds (conn_read.c) a peer
 * can therefore never make us buffer without bound.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "elements/log.h"
#include "net/conn_int.h"
#include "net/key.h"
#include "net/secure.h"

#define DIAL_TIMEOUT_MS		3000
#define SOCKBUF			(4 << 20)
#define WQUEUE_HIGH		(16u << 20)
#define WQUEUE_LOW		(4u << 20)
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
const struct conn_events *conn_ev;
static uint8_t ckey[KEY_LEN];
static int have_key;
static char self_xid[URL_ID_LEN + 1];
static uv_timer_t trim_timer;
static uv_timer_t close_timer;		/* closes the connections conn_close_later marked */
unsigned conn_hello_ms = 10000, conn_stall_ms = 30000;

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
	const char *t;
	char *end;

	loop = l;
	conn_ev = ev;
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
	uv_timer_init(loop, &close_timer);	/* active only while a close is due */
	TAILQ_INIT(&conn_all);
	/* For tests only (docs/protocol.md): it can only shorten the deadlines (at least
	 * 100 ms), never hold a stranger's connection longer than the defaults, and a
	 * join's own bound (net/peer.c) stays above the handshake's. */
	if ((t = getenv("CIRCUIT_TEST_DEADLINE_MS")) != NULL) {
		unsigned long ms = strtoul(t, &end, 10);
		if (end != t && *end == '\0' && ms >= 100) {
			if (ms < conn_hello_ms)
				conn_hello_ms = (unsigned)ms;
			if (ms < conn_stall_ms)
				conn_stall_ms = (unsigned)ms;
			log_warnx("CIRCUIT_TEST_DEADLINE_MS (for tests): handshake deadline %u ms, "
			    "stall deadline %u ms", conn_hello_ms, conn_stall_ms);
		}
	}
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
void
conn_trim_later(void)
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
		conn_free_buffers(c);
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
	if (conn_ev != NULL && conn_ev->closed != NULL)
		conn_ev->closed(c, reason);
}

/* The loop's turn: close every connection marked for it.  The search starts over
 * after each close, since a close's callbacks may close others (or the server). */
static void
on_close_due(uv_timer_t *t)
{
	struct conn *c;

	for (;;) {
		TAILQ_FOREACH(c, &conn_all, link)
			if (c->close_reason != 0)
				break;
		if (c == NULL)
			return;
		conn_close(c, c->close_reason);
	}
}

void
conn_close_later(struct conn *c, int reason)
{
	if (c->state == CONN_CLOSED || c->close_reason != 0)
		return;
	/* Marked, not kept in a list of its own: a connection closed meanwhile leaves
	 * conn_all and is never looked at again, so nothing points at freed memory. */
	c->close_reason = reason < 0 ? reason : -ECONNRESET;
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_timer_start(&close_timer, on_close_due, 0, 0);
}

int
conn_usable(const struct conn *c)
{
	return c->state == CONN_UP && c->close_reason == 0;
}

void
conn_drop(struct conn *c, int reason)
{
	char junk[4096];
	uv_os_fd_t fd;

	if (c->state != CONN_CLOSED && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
		for (int i = 0; i < 16 && recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0; i++)
			;
		shutdown(fd, SHUT_WR);
	}
	conn_close(c, reason);
}

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
	conn_trim_later();
	if (c->state == CONN_CLOSED)
		return;
	if (status < 0) {
		log_warnx("connection %s: write: %s", c->name, uv_strerror(status));
		conn_close(c, status);
		return;
	}
	if ((c->paused & PAUSE_WRITE) && c->wqueued < WQUEUE_LOW) {
		c->paused &= ~PAUSE_WRITE;
		conn_update_reading(c);
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

	if (!conn_live(c)) {
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
		/* Later, not now: the sender may be deep in a request's completion or a
		 * stream's notify, with c's requests and handles still in hand. */
		conn_close_later(c, -ENOMEM);
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
		conn_close_later(c, rc);
		return;
	}
	if (c->wqueued > WQUEUE_HIGH && !(c->paused & PAUSE_WRITE)) {
		c->paused |= PAUSE_WRITE;
		conn_update_reading(c);
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

	if (buf == NULL) {
		conn_close_later(c, -ENOMEM);	/* a frame lost: the connection goes */
		return;
	}
	frame_header(buf, type, id, 0);
	conn_send(c, buf, FRAME_HDR);
}

int
conn_send_now(struct conn *c, const void *buf, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)(uintptr_t)buf, (unsigned)len);
	uint8_t *sealed = NULL;
	int rc;

	if (!conn_live(c))
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

/* ---- setting up ---- */

void
conn_on_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;

	if (c->state == CONN_UP)
		log_warnx("connection %s: a frame half received: no byte for %g s: dropped",
		    c->name, conn_stall_ms / 1000.0);
	else
		log_warnx("connection %s: %s timed out: dropped", c->name,
		    c->state == CONN_DIALING ? "connect" : c->state == CONN_AUTH ?
		    "key handshake" : "HELLO");
	conn_close(c, -ETIMEDOUT);
}

void
conn_send_hello(struct conn *c)
{
	json_t *head = conn_ev->hello();

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
		conn_send_hello(c);
	}
	if (c->state == CONN_CLOSED)
		return;
	uv_timer_start(&c->timer, conn_on_timeout, conn_hello_ms, 0);
	conn_update_reading(c);
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
		conn_drop(c, -ETIMEDOUT);
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
	uv_timer_start(&c->timer, conn_on_timeout, DIAL_TIMEOUT_MS, 0);
	if (out != NULL)
		*out = c;
	return 0;
}
