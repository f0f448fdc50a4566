/* rstream.c - remote streams: the caller side of an OPEN (see rpc_int.h).
 *
 * The stream stays on its owner; the opener's reads and writes become READ and WRITE
 * requests naming its handle, read ahead and written behind within bounded windows
 * (docs/protocol.md); poll(2) is exact through readiness waits; close(2) waits for the
 * writes behind (FLUSH).
 */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "net/rpc_int.h"
#include "net/window.h"

struct rstream {
	struct stream s;
	struct conn *c;			/* NULL once the connection is gone (or released) */
	uint32_t h;
	int mode;			/* OP_RDONLY or OP_WRONLY */
	int refs;			/* the opener's, plus one per request of ours in flight */
	int released;
	char where[96];			/* the owner, for messages */
	TAILQ_ENTRY(rstream) link;

	/* Reading: requests sent, oldest first, each with its result once answered. */
	struct op_queue reads;		/* the opener's reads waiting, oldest first */
	TAILQ_HEAD(, rchunk) chunks;
	int nchunks_out;		/* chunks still asked for */
	size_t ra_budget;		/* bytes asked for in flight + answered, not delivered */
	int delivered;			/* a byte reached the opener: read ahead from now on */
	int ra_stop;			/* EOF or an error came: one request at a time again */
	uint64_t intr_at;		/* the first read was interrupted: EINTR at this time */
	struct op *pollop;		/* a readiness wait in flight, or NULL */
	unsigned asks, poll_asks;	/* chunks asked for: now, and when pollop went */
	int ready;			/* the owner said readable, and nothing asked since */

	/* Writing. */
	int wb;				/* the owner parks our writes: complete them early */
	int nwdirect;			/* writes in flight whose opener still waits */
	int nwb;			/* writes in flight completed early */
	size_t wb_bytes;
	int werr;			/* one of those failed: told to the next write */
	char *wmsg;
	struct op_queue wwait;		/* writes waiting for room in the window */
	TAILQ_HEAD(, rwrite) wdirect;	/* writes in flight whose opener still waits */
	struct op_queue flushes;	/* FLUSHes waiting for the writes behind */
};

/* ---- remote streams (the caller side of an OPEN) ----
 *
 * Reading ahead.  The opener's first read goes to the owner as one request of its own
 * size, linked to it: an interrupt cancels that request and the read ends with the
 * owner's answer (EINTR, or the bytes if they raced), so a recv closed before its first
 * byte gives its message back.  Once a byte has been delivered, read requests of up to
 * 1 MiB are kept in flight while the bytes asked for and not yet delivered stay under
 * RA_WINDOW; their answers are delivered in order (bytes, then EOF or an error on the
 * call that reaches it).  After EOF or an error, one request at a time again.
 *
 * Writing behind.  A write is sent and waited for until the owner says (REP "wb") that
 * its element parks writes, i.e. flows with back-pressure of its own (a rendezvous
 * send, a process's stdin); from then on a write completes as soon as it is sent while
 * fewer than WB_WINDOW bytes are in flight, and waits for room otherwise.  A failure of
 * a write completed early is told to the next write.  A stream whose element takes
 * writes at once (a buffered message, EFBIG past 32 KiB) is never written behind.
 */


struct rchunk {
	TAILQ_ENTRY(rchunk) link;
	struct rstream *rs;
	struct op *op;			/* the request, NULL once answered */
	size_t asked;
	int direct;			/* asked for the waiting read, before any byte came */
	int abandoned;			/* its read gave up waiting: an EINTR answer is dropped */
	int rc;
	char *msg;
	char *data;
	size_t len, off;
};

struct rwrite {
	struct rstream *rs;
	struct op *op;			/* the request sent */
	struct op *local;		/* the opener's write, waiting for it; NULL if done early */
	size_t len;
	int intr;			/* local was interrupted: the owner's answer ends it */
	TAILQ_ENTRY(rwrite) link;	/* in rs->wdirect while local waits */
};

static const struct stream_ops rs_ops;
static void rs_pump(struct rstream *rs);

static void
rs_put(struct rstream *rs)
{
	assert(rs->refs > 0);
	if (--rs->refs > 0)
		return;
	/* The last reference: the opener released it, no request of ours is out. */
	assert(rs->released && rs->c == NULL && rs->nchunks_out == 0 && rs->pollop == NULL);
	free(rs->wmsg);
	free(rs);
}

static void
chunk_free(struct rstream *rs, struct rchunk *ch)
{
	TAILQ_REMOVE(&rs->chunks, ch, link);
	if (ch->rc >= 0)
		rs->ra_budget -= ch->len - ch->off;
	free(ch->data);
	free(ch->msg);
	free(ch);
}

static void
chunk_done(struct op *op)
{
	struct rchunk *ch = op->arg;
	struct rstream *rs = ch->rs;

	assert(ch->op == op && rs->nchunks_out > 0);
	ch->op = NULL;
	rs->nchunks_out--;
	rs->ra_budget -= ch->asked;
	ch->rc = op->rc;
	if (op->rc < 0) {
		ch->msg = op->msg;
		op->msg = NULL;
		rs->ra_stop = 1;
	} else {
		ch->data = op->data;
		ch->len = op->len;
		op->data = NULL;
		rs->ra_budget += ch->len;
		if (ch->len == 0)
			rs->ra_stop = 1;
	}
	if (rs->released || (ch->abandoned && ch->rc == -EINTR)) {
		/* Not wanted, or the CANCEL of a read that already gave up: nothing to
		 * tell anyone (bytes that raced the CANCEL go to the next read). */
		chunk_free(rs, ch);
	}
	if (!rs->released) {
		rs_pump(rs);
		stream_notify(&rs->s);
	}
	rs_put(rs);
}

/* Ask the owner for up to max bytes. */
static int
chunk_ask(struct rstream *rs, size_t max, int direct)
{
	struct rchunk *ch = calloc(1, sizeof *ch);
	struct op *op = op_new(OP_READ, chunk_done, ch);

	if (ch == NULL || op == NULL) {
		free(ch);
		op_free(op);
		return -ENOMEM;
	}
	if (max > FRAME_DATA_MAX)
		max = FRAME_DATA_MAX;
	ch->rs = rs;
	ch->op = op;
	ch->asked = max;
	ch->direct = direct;
	TAILQ_INSERT_TAIL(&rs->chunks, ch, link);
	rs->nchunks_out++;
	rs->asks++;
	rs->ready = 0;
	rs->ra_budget += max;
	rs->refs++;
	op->stream = &rs->s;
	op->max = max;
	op->state = OPS_RUNNING;
	rpc_call(rs->c, op);
	return 0;
}

/* Deliver what has come to the reads waiting, then ask for more. */
static void
rs_pump(struct rstream *rs)
{
	struct rchunk *ch;
	struct op *op;
	size_t n;
	char *buf;

	while ((op = TAILQ_FIRST(&rs->reads)) != NULL &&
	    (ch = TAILQ_FIRST(&rs->chunks)) != NULL && ch->op == NULL) {
		TAILQ_REMOVE(&rs->reads, op, link);
		op->cancel = NULL;
		rs->intr_at = 0;
		if (ch->rc < 0) {
			int rc = ch->rc;
			char *m = ch->msg;
			ch->msg = NULL;
			chunk_free(rs, ch);
			op_fail(op, rc, "%s", m != NULL ? m : strerror(-rc));
			free(m);
			continue;
		}
		n = ch->len - ch->off;
		if (n > op->max)
			n = op->max;
		if (ch->len == 0) {
			chunk_free(rs, ch);
			op_done_data(op, NULL, 0);
			continue;
		}
		if (ch->off == 0 && n == ch->len) {
			buf = ch->data;
			ch->data = NULL;
		} else if ((buf = malloc(n + 1)) != NULL) {
			memcpy(buf, ch->data + ch->off, n);
		} else {
			op_fail(op, -ENOMEM, "out of memory");
			continue;
		}
		ch->off += n;
		rs->ra_budget -= n;
		rs->delivered = 1;
		if (ch->off == ch->len)
			chunk_free(rs, ch);
		op_done_data(op, buf, n);
	}
	if (rs->c == NULL) {
		if (TAILQ_EMPTY(&rs->chunks))
			while ((op = TAILQ_FIRST(&rs->reads)) != NULL) {
				TAILQ_REMOVE(&rs->reads, op, link);
				op->cancel = NULL;
				op_fail(op, -EHOSTDOWN, "read: server %s is down", rs->where);
			}
		return;
	}
	op = TAILQ_FIRST(&rs->reads);
	while ((n = ra_ask(rs->delivered, rs->ra_stop, !TAILQ_EMPTY(&rs->chunks),
	    rs->ra_budget, op != NULL ? op->max : 0)) > 0)
		if (chunk_ask(rs, n, !rs->delivered) < 0) {
			/* The reader's own request failed: so does the read. */
			if ((!rs->delivered || rs->ra_stop) && op != NULL) {
				TAILQ_REMOVE(&rs->reads, op, link);
				op->cancel = NULL;
				op_fail(op, -ENOMEM, "out of memory");
			}
			break;
		}
}

static void wdirect_expire(struct rstream *rs);

/* ---- interrupted first reads ----
 *
 * An interrupted first read cancels its own request on the owner and takes the answer
 * (EINTR, or the bytes if they raced the CANCEL), so a recv closed before its first
 * byte gives its message back.  But an owner that does not answer (a stopped host)
 * must not hold the reader: after INTR_GRACE_MS the read ends with EINTR anyway, and
 * a late answer's bytes go to the next read (or are dropped at release). */

#define INTR_GRACE_MS	500

static uv_timer_t grace_timer;
static int grace_inited;

static void
grace_expire(uv_timer_t *t)
{
	uint64_t now = uv_now(t->loop), next = 0;
	struct rstream *rs;
	struct rchunk *ch;
	struct conn *c;
	struct op *op;

	TAILQ_FOREACH(c, &conn_all, link)
		TAILQ_FOREACH(rs, &c->rstreams, link) {
			if (rs->intr_at == 0)
				continue;
			if (rs->intr_at > now) {
				if (next == 0 || rs->intr_at < next)
					next = rs->intr_at;
				continue;
			}
			rs->intr_at = 0;
			if ((ch = TAILQ_FIRST(&rs->chunks)) != NULL && ch->op != NULL)
				ch->abandoned = 1;
			if ((op = TAILQ_FIRST(&rs->reads)) != NULL && ch != NULL && ch->abandoned) {
				TAILQ_REMOVE(&rs->reads, op, link);
				op->cancel = NULL;
				op_fail(op, -EINTR, "interrupted (server %s does not answer)",
				    rs->where);
			}
			wdirect_expire(rs);
		}
	if (next != 0)
		uv_timer_start(&grace_timer, grace_expire, next - now, 0);
}

static void
grace_arm(struct rstream *rs)
{
	uv_loop_t *l = rs->c->tcp.loop;

	if (!grace_inited) {
		uv_timer_init(l, &grace_timer);
		uv_unref((uv_handle_t *)&grace_timer);
		grace_inited = 1;
	}
	if (rs->intr_at == 0)
		rs->intr_at = uv_now(l) + INTR_GRACE_MS;
	if (!uv_is_active((uv_handle_t *)&grace_timer))
		uv_timer_start(&grace_timer, grace_expire, INTR_GRACE_MS, 0);
}

static void
rs_read_cancel(struct op *op)
{
	struct rstream *rs = op->owner;
	struct rchunk *ch = TAILQ_FIRST(&rs->chunks);

	if (op == TAILQ_FIRST(&rs->reads) && ch != NULL && ch->direct && ch->op != NULL &&
	    rs->c != NULL) {
		/* Its own request: the owner's answer ends it, within the grace. */
		op_cancel(ch->op);
		grace_arm(rs);
		return;
	}
	TAILQ_REMOVE(&rs->reads, op, link);
	op->cancel = NULL;
	op_fail(op, -EINTR, "interrupted");
}

static void
rs_read(struct stream *s, struct op *op)
{
	struct rstream *rs = s->priv;

	if (op->max == 0) {
		op_done_data(op, NULL, 0);
		return;
	}
	if (rs->c == NULL && TAILQ_EMPTY(&rs->chunks)) {
		op_fail(op, -EHOSTDOWN, "read: server %s is down", rs->where);
		return;
	}
	op->owner = rs;
	op->cancel = rs_read_cancel;
	TAILQ_INSERT_TAIL(&rs->reads, op, link);
	rs_pump(rs);
}

static int
wb_room(struct rstream *rs, size_t len)
{
	return wb_fits(rs->nwb, rs->wb_bytes, len);
}

static void rs_wdrain(struct rstream *rs);
static void flush_check(struct rstream *rs);

static void
write_done(struct op *op)
{
	struct rwrite *w = op->arg;
	struct rstream *rs = w->rs;

	assert(w->op == op);
	assert(w->local != NULL ? rs->nwdirect > 0 : rs->nwb > 0 && rs->wb_bytes >= w->len);
	if (w->local != NULL) {
		TAILQ_REMOVE(&rs->wdirect, w, link);
		rs->nwdirect--;
		w->local->cancel = NULL;
		if (op->rc < 0)
			op_fail(w->local, op->rc, "%s", op->msg != NULL ? op->msg : strerror(-op->rc));
		else
			op_done(w->local, op->rc);
	} else {
		rs->nwb--;
		rs->wb_bytes -= w->len;
		if ((op->rc < 0 || (size_t)op->rc != w->len) && rs->werr == 0) {
			rs->werr = op->rc < 0 ? op->rc : -EIO;
			free(rs->wmsg);
			rs->wmsg = op->rc < 0 && op->msg != NULL ? strdup(op->msg) : NULL;
		}
	}
	free(w);
	if (!rs->released) {
		rs_wdrain(rs);
		flush_check(rs);
		stream_notify(&rs->s);
	}
	rs_put(rs);
}

static void
rs_wdirect_cancel(struct op *local)
{
	struct rwrite *w = local->owner;

	/* The owner's answer ends it (EINTR, or what it took), within the grace. */
	w->intr = 1;
	op_cancel(w->op);
	if (w->rs->c != NULL)
		grace_arm(w->rs);
}

/* Interrupted writes whose owner did not answer within the grace: the writer is not
 * held any longer.  Its bytes may have been taken, so EINTR (a retry would send them
 * twice) would be as wrong as silence: the write completes as written behind, and
 * the owner's answer, when it comes, is told to the next write or close(2). */
static void
wdirect_expire(struct rstream *rs)
{
	struct rwrite *w, *next;

	for (w = TAILQ_FIRST(&rs->wdirect); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		if (!w->intr)
			continue;
		TAILQ_REMOVE(&rs->wdirect, w, link);
		rs->nwdirect--;
		rs->nwb++;
		rs->wb_bytes += w->len;
		w->local->cancel = NULL;
		op_done(w->local, (int)w->len);
		w->local = NULL;
	}
}

/* Send local's bytes; local completes now (early) or with the owner's answer. */
static void
write_send(struct rstream *rs, struct op *local, int early)
{
	struct rwrite *w = calloc(1, sizeof *w);
	struct op *op = op_new(OP_WRITE, write_done, w);

	if (w == NULL || op == NULL) {
		free(w);
		op_free(op);
		op_fail(local, -ENOMEM, "out of memory");
		return;
	}
	w->rs = rs;
	w->op = op;
	w->len = local->len;
	op->stream = &rs->s;
	op->data = local->data;
	op->len = local->len;
	local->data = NULL;
	op->state = OPS_RUNNING;
	rs->refs++;
	if (early) {
		rs->nwb++;
		rs->wb_bytes += w->len;
		op_done(local, (int)w->len);
	} else {
		w->local = local;
		TAILQ_INSERT_TAIL(&rs->wdirect, w, link);
		rs->nwdirect++;
		local->owner = w;
		local->cancel = rs_wdirect_cancel;
	}
	rpc_call(rs->c, op);
}

static void
rs_wwait_cancel(struct op *op)
{
	struct rstream *rs = op->owner;

	TAILQ_REMOVE(&rs->wwait, op, link);
	op->cancel = NULL;
	op_fail(op, -EINTR, "interrupted");
}

/* Writes waiting for room: an earlier failure first, then as room allows. */
static void
rs_wdrain(struct rstream *rs)
{
	struct op *op;

	while ((op = TAILQ_FIRST(&rs->wwait)) != NULL) {
		if (rs->werr == 0 && rs->c != NULL && !wb_room(rs, op->len))
			break;
		TAILQ_REMOVE(&rs->wwait, op, link);
		op->cancel = NULL;
		if (rs->werr != 0) {
			int rc = rs->werr;
			rs->werr = 0;
			op_fail(op, rc, "%s", rs->wmsg != NULL ? rs->wmsg : strerror(-rc));
		} else if (rs->c == NULL) {
			op_fail(op, -EHOSTDOWN, "write: server %s is down", rs->where);
		} else {
			write_send(rs, op, 1);
		}
	}
}

static void
rs_write(struct stream *s, struct op *op)
{
	struct rstream *rs = s->priv;

	if (rs->werr != 0) {
		int rc = rs->werr;
		rs->werr = 0;
		op_fail(op, rc, "%s", rs->wmsg != NULL ? rs->wmsg : strerror(-rc));
		return;
	}
	if (rs->c == NULL) {
		op_fail(op, -EHOSTDOWN, "write: server %s is down", rs->where);
		return;
	}
	if (op->len > FRAME_DATA_MAX) {
		op_fail(op, -EFBIG, "write: more than %u bytes in one request", FRAME_DATA_MAX);
		return;
	}
	if (!rs->wb || op->len == 0) {
		write_send(rs, op, 0);
		return;
	}
	if (TAILQ_EMPTY(&rs->wwait) && wb_room(rs, op->len)) {
		write_send(rs, op, 1);
		return;
	}
	op->owner = rs;
	op->cancel = rs_wwait_cancel;
	TAILQ_INSERT_TAIL(&rs->wwait, op, link);
}

static void
poll_done(struct op *op)
{
	struct rstream *rs = op->arg;

	assert(rs->pollop == op);
	rs->pollop = NULL;
	/* An answer to a wait sent before the last chunk was asked for is stale. */
	if (op->rc >= 0 && rs->poll_asks == rs->asks)
		rs->ready = 1;
	if (!rs->released)
		stream_notify(&rs->s);
	rs_put(rs);
}

/* Ask the owner to answer once the stream is readable (a read of 0 with "wait"). */
static void
poll_ask(struct rstream *rs)
{
	struct op *op;

	if (rs->pollop != NULL || rs->c == NULL || (op = op_new(OP_READ, poll_done, rs)) == NULL)
		return;
	op->stream = &rs->s;
	op->max = 0;
	op->state = OPS_RUNNING;
	rs->pollop = op;
	rs->poll_asks = rs->asks;
	rs->refs++;
	rpc_call(rs->c, op);
}

static int
rs_poll(struct stream *s)
{
	struct rstream *rs = s->priv;
	struct rchunk *ch = TAILQ_FIRST(&rs->chunks);

	if (rs->mode == OP_WRONLY) {
		if (rs->c == NULL || rs->werr != 0)
			return POLLOUT | POLLERR;
		if (rs->wb)
			return TAILQ_EMPTY(&rs->wwait) && wb_room(rs, RA_MIN) ? POLLOUT : 0;
		return rs->nwdirect == 0 ? POLLOUT : 0;
	}
	if (ch != NULL)
		return ch->op == NULL ? POLLIN : 0;
	if (rs->c == NULL)
		return POLLIN | POLLERR;
	/* Nothing asked for (no read yet, or after EOF): asking for bytes would take
	 * them (a recv polled, then closed, must give its message back), so ask the
	 * owner to say when its stream is readable instead. */
	if (rs->ready)
		return POLLIN;
	poll_ask(rs);
	return 0;
}

/* A close(2) is coming (FUSE FLUSH): as NFS's close-to-open, it waits until every
 * write completed early has been answered, then reports the first failure (once: the
 * next write does not repeat it) -- EHOSTDOWN if the connection died under them.  A
 * FLUSH with nothing outstanding (bash's dup2 of a file it has not written) is
 * answered at once.  An interrupt ends the wait (EINTR). */
static int
flush_ready(const struct rstream *rs)
{
	return rs->werr != 0 || (rs->nwb == 0 && TAILQ_EMPTY(&rs->wwait));
}

static void
flush_finish(struct op *op, struct rstream *rs)
{
	int rc = rs->werr;

	if (rc == 0) {
		op_done(op, 0);
		return;
	}
	rs->werr = 0;
	op_fail(op, rc, "%s", rs->wmsg != NULL ? rs->wmsg : strerror(-rc));
	free(rs->wmsg);
	rs->wmsg = NULL;
}

static void
flush_check(struct rstream *rs)
{
	struct op *op;

	while (flush_ready(rs) && (op = TAILQ_FIRST(&rs->flushes)) != NULL) {
		TAILQ_REMOVE(&rs->flushes, op, link);
		flush_finish(op, rs);
	}
}

static void
rs_flush_cancel(struct op *op)
{
	struct rstream *rs = op->owner;

	TAILQ_REMOVE(&rs->flushes, op, link);
}

static void
rs_flush(struct stream *s, struct op *op)
{
	struct rstream *rs = s->priv;

	if (flush_ready(rs) && TAILQ_EMPTY(&rs->flushes)) {
		flush_finish(op, rs);
		return;
	}
	op_park(op, rs_flush_cancel, rs);
	TAILQ_INSERT_TAIL(&rs->flushes, op, link);
}

static void
rs_release(struct stream *s)
{
	struct rstream *rs = s->priv;
	struct rchunk *ch, *next;
	struct rwrite *w;
	struct op *op;

	assert(!rs->released);		/* released once */
	/* The FUSE layer releases with no read or write of its own in flight; any other
	 * opener's ops still waiting end here, as libuv's stream destroy ends them. */
	rs->released = 1;
	rs->intr_at = 0;
	if (rs->pollop != NULL)
		op_cancel(rs->pollop);	/* answered EINTR: poll_done lets go */
	while ((op = TAILQ_FIRST(&rs->reads)) != NULL) {
		TAILQ_REMOVE(&rs->reads, op, link);
		op->cancel = NULL;
		op_fail(op, -ECANCELED, "read: stream closed");
	}
	while ((op = TAILQ_FIRST(&rs->wwait)) != NULL) {
		TAILQ_REMOVE(&rs->wwait, op, link);
		op->cancel = NULL;
		op_fail(op, -ECANCELED, "write: stream closed");
	}
	while ((op = TAILQ_FIRST(&rs->flushes)) != NULL) {
		TAILQ_REMOVE(&rs->flushes, op, link);
		op_fail(op, -ECANCELED, "flush: stream closed");
	}
	while ((w = TAILQ_FIRST(&rs->wdirect)) != NULL) {
		/* Sent: the owner takes its bytes before the RELEASE that follows. */
		TAILQ_REMOVE(&rs->wdirect, w, link);
		rs->nwdirect--;
		rs->nwb++;
		rs->wb_bytes += w->len;
		w->local->cancel = NULL;
		op_fail(w->local, -ECANCELED, "write: stream closed");
		w->local = NULL;
	}
	for (ch = TAILQ_FIRST(&rs->chunks); ch != NULL; ch = next) {
		next = TAILQ_NEXT(ch, link);
		if (ch->op != NULL)
			op_cancel(ch->op);	/* read ahead, not wanted: the owner lets it go */
		else
			chunk_free(rs, ch);
	}
	if (rs->c != NULL) {
		/* After our requests on the connection: the owner releases after them.
		 * An abort (our opener vanished) is relayed to the owner. */
		struct conn *c = rs->c;
		json_t *head = s->aborted ? json_pack("{s:b}", "abort", 1) : NULL;

		TAILQ_REMOVE(&c->rstreams, rs, link);
		rs->c = NULL;
		if (!s->aborted)
			conn_send_empty(c, FRAME_RELEASE, rs->h);
		else if (head == NULL || conn_send_msg(c, FRAME_RELEASE, rs->h, head, NULL, 0) < 0)
			conn_close(c, -ENOMEM);		/* then the owner aborts it */
		json_decref(head);
	}
	rs_put(rs);
}

static const struct stream_ops rs_ops = {
	.read = rs_read,
	.write = rs_write,
	.release = rs_release,
	.poll = rs_poll,
	.flush = rs_flush,
};

struct stream *
rstream_new(struct conn *c, uint32_t h, int mode)
{
	struct rstream *rs = calloc(1, sizeof *rs);

	if (rs == NULL)
		return NULL;
	rs->s.ops = &rs_ops;
	rs->s.priv = rs;
	rs->s.elem = NULL;
	rs->c = c;
	rs->h = h;
	rs->mode = mode;
	rs->refs = 1;
	TAILQ_INIT(&rs->reads);
	TAILQ_INIT(&rs->chunks);
	TAILQ_INIT(&rs->wwait);
	TAILQ_INIT(&rs->wdirect);
	TAILQ_INIT(&rs->flushes);
	snprintf(rs->where, sizeof rs->where, "%s", c->peer_id[0] ? c->peer_id : c->name);
	TAILQ_INSERT_TAIL(&c->rstreams, rs, link);
	return &rs->s;
}

int
rstream_is(const struct stream *s)
{
	return s != NULL && s->ops == &rs_ops;
}

uint32_t
rstream_handle(const struct stream *s)
{
	return ((const struct rstream *)s->priv)->h;
}

int
rstream_wb(const struct stream *s)
{
	return ((const struct rstream *)s->priv)->wb;
}

void
rstream_set_wb(struct stream *s)
{
	((struct rstream *)s->priv)->wb = 1;
}

int
rstream_is_wait(const struct op *op)
{
	return op->cb == poll_done;
}

void
rstream_conn_lost(struct conn *c)
{
	struct rstream *rs;

	while ((rs = TAILQ_FIRST(&c->rstreams)) != NULL) {
		TAILQ_REMOVE(&c->rstreams, rs, link);
		rs->c = NULL;
		stream_notify(&rs->s);		/* readable or writable: with an error */
	}
}
