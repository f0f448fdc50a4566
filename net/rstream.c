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
#include "net/rstream_int.h"
#include "net/window.h"

/* struct rstream is in net/rstream_int.h. */

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
 * Writing behind: net/rstream_write.c.
 *
 * Offsets.  A stream with a size (its OPEN reply says "size") is read like the local
 * one (elements/proc_stream.c): reads at the offset where the last in-order read
 * ended take bytes through the read-ahead above; a read back into the last one
 * (bash's read and head give back what they read past a line) is answered here from
 * its bytes, kept (in their chunk, without a copy, unless it was handed over
 * whole); a read anywhere else, or a size asked with seeking (lseek
 * SEEK_END), makes the open read at offsets for good: each read is one request
 * carrying its offset ("off"), which the owner answers like a regular file, and what
 * was read ahead is dropped.  Every READ reply carries the owner's size; a size
 * asked for here answers the last one told and asks the owner again (a READ of 0),
 * so `tail -f`'s once-a-second fstat sees growth one poll later at most.
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


static const struct stream_ops rs_ops;
static void rs_pump(struct rstream *rs);

void
rstream_put(struct rstream *rs)
{
	assert(rs->refs > 0);
	if (--rs->refs > 0)
		return;
	/* The last reference: the opener released it, no request of ours is out. */
	assert(rs->released && rs->c == NULL && rs->nchunks_out == 0 && rs->pollop == NULL);
	free(rs->wmsg);
	free(rs->last_buf);
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
	if (rs->released || rs->seeks ||
	    (ch->abandoned && (ch->rc == -EINTR || ch->rc == -EHOSTDOWN))) {
		/* Not wanted, or the answer to the CANCEL of a read that already gave up
		 * (EINTR, or EHOSTDOWN when a server going away cancelled it): nothing
		 * to tell anyone (bytes that raced the CANCEL go to the next read). */
		chunk_free(rs, ch);
	}
	if (!rs->released) {
		rs_pump(rs);
		stream_notify(&rs->s);
	}
	rstream_put(rs);
}

/* Keep a copy of the bytes of an in-order read handed over whole, for a read back
 * into it (the other reads' bytes stay in their chunk: rs_pump). */
static void
keep_copy(struct rstream *rs, const char *buf, size_t n)
{
	rs->last_len = 0;	/* without memory, a read back reads at offsets */
	if (n > rs->last_cap) {
		char *nb = realloc(rs->last_buf, n);
		if (nb == NULL)
			return;
		rs->last_buf = nb;
		rs->last_cap = n;
	}
	memcpy(rs->last_buf, buf, n);
	rs->last = rs->last_buf;
	rs->last_len = n;
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
			if (rs->size >= 0)
				keep_copy(rs, buf, n);
		} else if ((buf = malloc(n + 1)) != NULL) {
			memcpy(buf, ch->data + ch->off, n);
			rs->last = ch->data + ch->off;
			rs->last_len = n;
		} else {
			op_fail(op, -ENOMEM, "out of memory");
			continue;
		}
		ch->off += n;
		rs->ra_budget -= n;
		rs->delivered = 1;
		rs->got += n;
		if (ch->off == ch->len) {
			if (ch->data != NULL && rs->size >= 0) {
				/* The last read's bytes are in it: keep them, no copy. */
				free(rs->last_buf);
				rs->last_buf = ch->data;
				rs->last_cap = ch->len;
				ch->data = NULL;
			}
			chunk_free(rs, ch);
		}
		op_done_data(op, buf, n);
	}
	if (rs->seeks) {
		/* In-order reads queued when the open began to read at offsets (only
		 * another thread of the opener could have them) have no place left. */
		while ((op = TAILQ_FIRST(&rs->reads)) != NULL) {
			TAILQ_REMOVE(&rs->reads, op, link);
			op->cancel = NULL;
			op_fail(op, -ESPIPE, "read: the stream is read at offsets now");
		}
		return;
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
				op_fail(op, op->cancel_rc < 0 ? op->cancel_rc : -EINTR,
				    "%s (server %s does not answer)",
				    strerror(op->cancel_rc < 0 ? -op->cancel_rc : EINTR), rs->where);
			}
			rstream_wdirect_expire(rs);
		}
	if (next != 0)
		uv_timer_start(&grace_timer, grace_expire, next - now, 0);
}

void
rstream_grace_arm(struct rstream *rs)
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
		op_cancel(ch->op, op->cancel_rc);
		rstream_grace_arm(rs);
		return;
	}
	TAILQ_REMOVE(&rs->reads, op, link);
	op->cancel = NULL;
	op_end_cancelled(op);
}

/* ---- reads at offsets, and the size ---- */

static void
seek_read_done(struct op *req)
{
	struct op *op = req->arg;
	struct rstream *rs = req->stream->priv;

	if (op != NULL) {
		op->cancel = NULL;
		if (req->rc < 0)
			op_fail(op, req->rc, "%s", req->msg != NULL ? req->msg :
			    strerror(-req->rc));
		else
			op_done_data(op, req->data, req->len);
		req->data = NULL;
	}
	rstream_put(rs);
}

static void
seek_read_cancel(struct op *op)
{
	struct op *req = op->owner;

	/* An owner answers a read at an offset at once, but a stopped one does not: the
	 * read ends now, and the late answer is dropped (the bytes it took stay in the
	 * owner's kept tail, for the next read at that offset). */
	req->arg = NULL;
	op_cancel(req, op->cancel_rc);
	op->cancel = NULL;
	op_end_cancelled(op);
}

/* Start to read at offsets: what was read ahead is not wanted any more. */
static void
rs_seek(struct rstream *rs)
{
	struct rchunk *ch, *next;

	if (rs->seeks)
		return;
	rs->seeks = 1;
	rs->last_len = 0;	/* it may be in a chunk freed below */
	for (ch = TAILQ_FIRST(&rs->chunks); ch != NULL; ch = next) {
		next = TAILQ_NEXT(ch, link);
		if (ch->op != NULL)	/* its answer is dropped (chunk_done) */
			op_cancel(ch->op, -EINTR);
		else
			chunk_free(rs, ch);
	}
	rs_pump(rs);
}

/* One request for op's bytes at its offset, answered by the owner like a file's. */
static void
seek_read(struct rstream *rs, struct op *op)
{
	struct op *req;

	if (rs->c == NULL) {
		op_fail(op, -EHOSTDOWN, "read: server %s is down", rs->where);
		return;
	}
	if ((req = op_new(OP_READ, seek_read_done, op)) == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	req->stream = &rs->s;
	req->max = op->max > FRAME_DATA_MAX ? FRAME_DATA_MAX : op->max;
	req->off = op->off;
	req->state = OPS_RUNNING;
	rs->refs++;
	op->owner = req;
	op->cancel = seek_read_cancel;
	rpc_call(rs->c, req);
}

/* A read of a stream with a size at op->off (>= 0): taken in order, answered from the
 * copy of the last read, or read at an offset.  1 if it was answered or sent. */
static int
rs_read_at(struct rstream *rs, struct op *op)
{
	uint64_t off = (uint64_t)op->off;
	size_t back, n;

	if (!rs->seeks && off != rs->got) {
		if (off < rs->got && rs->got - off <= rs->last_len) {
			back = (size_t)(rs->got - off);
			n = back < op->max ? back : op->max;
			op_done_copy(op, rs->last + rs->last_len - back, n);
			return 1;
		}
		rs_seek(rs);
	}
	if (!rs->seeks)
		return 0;
	seek_read(rs, op);
	return 1;
}

static void
probe_done(struct op *op)
{
	struct rstream *rs = op->arg;

	assert(rs->probe == op);
	rs->probe = NULL;
	rstream_put(rs);
}

static int64_t
rs_size(struct stream *s, int seeking)
{
	struct rstream *rs = s->priv;
	struct op *op;

	if (rs->size < 0)
		return -1;
	if (seeking)
		rs_seek(rs);
	/* Ask again for the next time: a read of 0 takes nothing; at an offset, it
	 * tells the owner that this open reads at offsets. */
	if (rs->probe == NULL && rs->c != NULL && !rs->released &&
	    (op = op_new(OP_READ, probe_done, rs)) != NULL) {
		op->stream = &rs->s;
		op->max = 0;
		op->off = rs->seeks ? 0 : -1;
		op->state = OPS_RUNNING;
		rs->probe = op;
		rs->refs++;
		rpc_call(rs->c, op);
	}
	return rs->size;
}

static void
rs_read(struct stream *s, struct op *op)
{
	struct rstream *rs = s->priv;

	if (op->max == 0) {
		op_done_data(op, NULL, 0);
		return;
	}
	if (rs->size >= 0 && op->off >= 0 && rs_read_at(rs, op))
		return;
	if (rs->c == NULL && TAILQ_EMPTY(&rs->chunks)) {
		op_fail(op, -EHOSTDOWN, "read: server %s is down", rs->where);
		return;
	}
	op->owner = rs;
	op->cancel = rs_read_cancel;
	TAILQ_INSERT_TAIL(&rs->reads, op, link);
	rs_pump(rs);
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
	rstream_put(rs);
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
			return TAILQ_EMPTY(&rs->wwait) && rstream_wb_room(rs, RA_MIN) ? POLLOUT : 0;
		return rs->nwdirect == 0 ? POLLOUT : 0;
	}
	if (rs->seeks)		/* reads like a regular file: never a wait */
		return rs->c == NULL ? POLLIN | POLLERR : POLLIN;
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
	if (rs->pollop != NULL)		/* answered EINTR: poll_done lets go */
		op_cancel(rs->pollop, -EINTR);
	if (rs->probe != NULL)		/* answered at once: probe_done lets go */
		op_cancel(rs->probe, -EINTR);
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
		if (ch->op != NULL)	/* read ahead, not wanted: the owner lets it go */
			op_cancel(ch->op, -EINTR);
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
			conn_close_later(c, -ENOMEM);	/* then the owner aborts it */
		json_decref(head);
	}
	rstream_put(rs);
}

static const struct stream_ops rs_ops = {
	.read = rs_read,
	.write = rstream_write,
	.release = rs_release,
	.poll = rs_poll,
	.flush = rstream_flush,
	.size = rs_size,
};

struct stream *
rstream_new(struct conn *c, uint32_t h, int mode, int64_t size)
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
	rs->size = size;
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

void
rstream_set_size(struct stream *s, int64_t size)
{
	struct rstream *rs = s->priv;

	/* The size only grows; replies to requests sent apart may come in any order. */
	if (rs->size >= 0 && size > rs->size)
		rs->size = size;
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
