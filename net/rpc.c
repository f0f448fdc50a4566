/* rpc.c - operations over connections: calls, served requests, handles, remote streams.
 *
 * The caller side keeps one rpc_call per request in flight (conn->calls); the op is
 * OPS_RUNNING with cancel = send a CANCEL, and completes only when the reply comes or
 * the connection dies.  The owner side keeps one rpc_inreq per request it runs
 * (conn->inreqs) and one rpc_handle per stream it opened for the other side
 * (conn->handles).  A handle released while a request on it still runs is released
 * when that request completes, so a stream never goes away under its own op.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "net/rpc.h"

/* Requests of one connection in flight here, and the bytes they hold.  Reading is never
 * paused for them: a request parked here (a rendezvous write, a recv open) may wait for
 * one that is still behind it on the same connection (the read that takes its bytes),
 * so pausing deadlocks.  Well-behaved peers stay far below these caps (every stream
 * bounds its own window); a connection past them is dropped. */
#define INREQ_MAX	65536
#define INREQ_BYTES_MAX	(256u << 20)
#define PATH_MAX_WIRE	4096

struct rpc_call {
	uint32_t tag;
	enum op_type type;
	struct op *op;			/* NULL once orphaned: its caller was answered EINTR */
	struct conn *c;
	int cancelled;			/* a CANCEL went out */
	TAILQ_ENTRY(rpc_call) link;
};

struct rpc_inreq {
	uint32_t tag;
	size_t bytes;			/* request body bytes, counted in c->inreq_bytes */
	int wb;				/* WRITE: the stream parks writes (REP "wb") */
	struct op *op;
	struct conn *c;			/* NULL once the connection is gone */
	struct rpc_handle *h;		/* READ/WRITE: the handle it runs on */
	TAILQ_ENTRY(rpc_inreq) link;
};

struct rpc_handle {
	uint32_t id;
	struct stream *s;
	int busy;			/* requests running on it */
	int released;			/* RELEASE came (or the connection died) */
	uint32_t poll_tag;		/* a readiness wait (a read of 0 with "wait") */
	struct conn *c;
	TAILQ_ENTRY(rpc_handle) link;
};

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

static const char *const op_names[] = {
	[OP_STAT] = "stat", [OP_LIST] = "list", [OP_MKDIR] = "mkdir", [OP_RMDIR] = "rmdir",
	[OP_CTL] = "ctl", [OP_SNAP] = "snap", [OP_OPEN] = "open", [OP_READ] = "read",
	[OP_WRITE] = "write",
};
#define NOPS ((int)(sizeof op_names / sizeof op_names[0]))

const char *
rpc_op_name(enum op_type t)
{
	return (int)t >= 0 && (int)t < NOPS ? op_names[t] : "?";
}

int
rpc_op_type(const char *name)
{
	for (int i = 0; i < NOPS; i++)
		if (op_names[i] != NULL && strcmp(op_names[i], name) == 0)
			return i;
	return -1;
}

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

#define RA_WINDOW	(4u << 20)
#define RA_MIN		(64u << 10)
#define WB_WINDOW	(4u << 20)
#define WB_MAXREQ	64		/* small writes: requests in flight, not just bytes */

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
	if (--rs->refs > 0)
		return;
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
	if (!rs->delivered || rs->ra_stop) {
		op = TAILQ_FIRST(&rs->reads);
		if (op != NULL && TAILQ_EMPTY(&rs->chunks) &&
		    chunk_ask(rs, op->max, !rs->delivered) < 0) {
			TAILQ_REMOVE(&rs->reads, op, link);
			op->cancel = NULL;
			op_fail(op, -ENOMEM, "out of memory");
		}
		return;
	}
	while (rs->ra_budget + RA_MIN <= RA_WINDOW)
		if (chunk_ask(rs, RA_WINDOW - rs->ra_budget, 0) < 0)
			break;
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
	return rs->nwb == 0 || (rs->wb_bytes + len <= WB_WINDOW && rs->nwb < WB_MAXREQ);
}

static void rs_wdrain(struct rstream *rs);
static void flush_check(struct rstream *rs);

static void
write_done(struct op *op)
{
	struct rwrite *w = op->arg;
	struct rstream *rs = w->rs;

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

static struct stream *
rs_new(struct conn *c, uint32_t h, int mode)
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

/* ---- the caller side ---- */

static void
call_cancel(struct op *op)
{
	struct rpc_call *call = op->owner;

	if (!call->cancelled && call->c != NULL) {
		call->cancelled = 1;
		conn_send_empty(call->c, FRAME_CANCEL, call->tag);
	}
	/* A remote stream's own READ and WRITE requests stay running: the owner answers
	 * the CANCEL with EINTR or the result, and the stream decides what its opener
	 * sees (and when).  Any other op ends now, whether or not the owner answers: its
	 * caller (a FUSE request, a process that cannot die until it is answered) must
	 * not wait on an owner that may be stopped.  The call stays, orphaned, until the
	 * reply comes or the connection ends; a stream a late OPEN reply carries is
	 * released, so a recv interrupted in its open gives its message back. */
	if (op->type == OP_READ || op->type == OP_WRITE)
		return;
	call->op = NULL;
	op->owner = NULL;
	op->cancel = NULL;
	op_fail(op, -EINTR, "interrupted");
}

void
rpc_call(struct conn *c, struct op *op)
{
	struct rpc_call *call;
	uint8_t *hbuf;
	size_t hlen, blen = 0;
	char *body = NULL;
	json_t *head;
	int rc;

	if (c->state != CONN_UP) {
		op_fail(op, -EHOSTDOWN, "%s: server %s is down", op->path ? op->path : "stream",
		    c->peer_id[0] ? c->peer_id : c->name);
		return;
	}
	head = json_pack("{s:s}", "op", rpc_op_name(op->type));
	if (head == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	if (op->path != NULL)
		json_object_set_new(head, "path", json_string(op->path));
	if (op->file != NULL)
		json_object_set_new(head, "file", json_string(op->file));
	if (op->client != NULL)
		json_object_set_new(head, "client", json_string(op->client));
	switch (op->type) {
	case OP_OPEN:
	case OP_SNAP:
		json_object_set_new(head, "mode", json_integer(op->mode));
		break;
	case OP_READ:
		json_object_set_new(head, "h", json_integer(((struct rstream *)op->stream->priv)->h));
		json_object_set_new(head, "max", json_integer(
		    op->max > FRAME_DATA_MAX ? FRAME_DATA_MAX : (json_int_t)op->max));
		if (op->cb == poll_done)
			json_object_set_new(head, "wait", json_true());
		break;
	case OP_WRITE:
		json_object_set_new(head, "h", json_integer(((struct rstream *)op->stream->priv)->h));
		/* fall through */
	case OP_CTL:
		if (op->len > FRAME_DATA_MAX) {
			json_decref(head);
			op_fail(op, -EFBIG, "%s: more than %u bytes in one request",
			    op_type_name(op->type), FRAME_DATA_MAX);
			return;
		}
		if (op->type == OP_WRITE) {
			/* The bytes travel without a copy: the frame takes them over. */
			body = op->data;
			blen = op->len;
			op->data = NULL;
		} else if (op->len > 0) {
			body = malloc(op->len);
			if (body == NULL) {
				json_decref(head);
				op_fail(op, -ENOMEM, "out of memory");
				return;
			}
			memcpy(body, op->data, op->len);
			blen = op->len;
		}
		break;
	default:
		break;
	}
	call = calloc(1, sizeof *call);
	if (call == NULL) {
		json_decref(head);
		free(body);
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	call->tag = c->next_tag++;
	if (c->next_tag == 0)
		c->next_tag = 1;
	rc = frame_msg_build_head(FRAME_REQ, call->tag, head, blen, &hbuf, &hlen);
	json_decref(head);
	if (rc < 0) {
		free(body);
		free(call);
		op_fail(op, rc, "%s: request too big", op_type_name(op->type));
		return;
	}
	if (op->type == OP_WRITE)
		op->len = blen;		/* what the reply's count is checked against */
	call->op = op;
	call->type = op->type;
	call->c = c;
	op->owner = call;
	op->cancel = call_cancel;
	TAILQ_INSERT_TAIL(&c->calls, call, link);
	conn_send2(c, hbuf, hlen, body, blen);
}

/* A message's head and body; a body received apart (conn.h) stays in the connection
 * for the handler to take over. */
static int
msg_parse(struct conn *c, const struct frame *f, json_t **head, const uint8_t **body,
    size_t *blen)
{
	const uint8_t *apart;
	size_t alen;

	if (frame_msg_parse(f->payload, f->len, head, body, blen) < 0)
		return -EBADMSG;
	if ((apart = conn_body(c, &alen)) != NULL) {
		*body = apart;
		*blen = alen;
	}
	return 0;
}

static int
handle_rep(struct conn *c, const struct frame *f)
{
	struct rpc_call *call;
	const uint8_t *body;
	size_t blen, alen;
	json_t *head, *j;
	struct op *op;
	json_int_t rc;

	TAILQ_FOREACH(call, &c->calls, link)
		if (call->tag == f->id)
			break;
	if (call == NULL)
		return -EPROTO;
	if (msg_parse(c, f, &head, &body, &blen) < 0)
		return -EBADMSG;
	j = json_object_get(head, "rc");
	if (!json_is_integer(j) || (rc = json_integer_value(j)) < -4095 || rc > FRAME_DATA_MAX) {
		json_decref(head);
		return -EBADMSG;
	}
	TAILQ_REMOVE(&c->calls, call, link);
	op = call->op;
	if (op == NULL) {
		/* Orphaned: its caller was told EINTR.  A stream opened after all goes. */
		j = json_object_get(head, "h");
		if (call->type == OP_OPEN && rc >= 0 && json_is_integer(j) &&
		    json_integer_value(j) > 0 && json_integer_value(j) <= UINT32_MAX)
			conn_send_empty(c, FRAME_RELEASE, (uint32_t)json_integer_value(j));
		free(call);
		json_decref(head);
		return 0;
	}
	free(call);
	op->cancel = NULL;
	if (rc < 0) {
		const char *m = json_string_value(json_object_get(head, "msg"));
		if (m != NULL)
			op_fail(op, (int)rc, "%s", m);
		else
			op_done(op, (int)rc);
		json_decref(head);
		return 0;
	}
	switch (op->type) {
	case OP_STAT:
	case OP_LIST:
		j = json_object_get(head, "json");
		if (!json_is_object(j)) {
			op_fail(op, -EPROTO, "%s: bad reply from %s", op->path, c->name);
			break;
		}
		op->json = json_incref(j);
		op_done(op, 0);
		break;
	case OP_OPEN:
		j = json_object_get(head, "h");
		if (!json_is_integer(j) || json_integer_value(j) <= 0 ||
		    json_integer_value(j) > UINT32_MAX) {
			op_fail(op, -EPROTO, "%s: bad reply from %s", op->path, c->name);
			break;
		}
		op->stream = rs_new(c, (uint32_t)json_integer_value(j), op->mode);
		if (op->stream == NULL) {
			conn_send_empty(c, FRAME_RELEASE, (uint32_t)json_integer_value(j));
			op_fail(op, -ENOMEM, "out of memory");
			break;
		}
		op_done(op, 0);
		break;
	case OP_SNAP:
	case OP_READ:
		if (op->type == OP_READ && blen > op->max) {
			op_fail(op, -EPROTO, "read: %s sent more than asked", c->name);
			break;
		}
		if (conn_body(c, &alen) != NULL)
			op_done_data(op, conn_take_body(c), blen);	/* no copy */
		else
			op_done_copy(op, body, blen);
		break;
	case OP_WRITE:
		if (json_is_true(json_object_get(head, "wb")) && op->stream != NULL &&
		    op->stream->ops == &rs_ops)
			((struct rstream *)op->stream->priv)->wb = 1;
		op_done(op, rc > (json_int_t)op->len ? (int)op->len : (int)rc);
		break;
	default:
		op_done(op, (int)rc);
		break;
	}
	json_decref(head);
	return 0;
}

/* ---- the owner side ---- */

static void poll_answer(struct rpc_handle *h, int rc);

static void
handle_free(struct rpc_handle *h)
{
	poll_answer(h, -ECANCELED);
	if (h->c != NULL)
		TAILQ_REMOVE(&h->c->handles, h, link);
	if (h->s != NULL) {
		h->s->notify = NULL;
		h->s->ops->release(h->s);
	}
	free(h);
}

static void
inreq_done(struct op *op)
{
	struct rpc_inreq *r = op->arg;
	struct conn *c = r->c;
	struct rpc_handle *h = r->h;
	uint8_t *hbuf;
	size_t hlen, blen = 0;
	char *body = NULL;
	json_t *head;

	if (h != NULL) {
		h->busy--;
		if (h->released && h->busy == 0)
			handle_free(h);
	}
	if (c == NULL) {
		/* The caller is gone: undo what the op made. */
		if (op->type == OP_OPEN && op->rc == 0 && op->stream != NULL)
			op->stream->ops->release(op->stream);
		op->stream = NULL;
		free(r);
		return;
	}
	TAILQ_REMOVE(&c->inreqs, r, link);
	c->ninreqs--;
	c->inreq_bytes -= r->bytes;
	head = json_pack("{s:i}", "rc", op->rc);
	if (head == NULL)
		goto fail;
	if (op->rc < 0) {
		if (op->msg != NULL)
			json_object_set_new(head, "msg", json_string(op->msg));
	} else if ((op->type == OP_STAT || op->type == OP_LIST) && op->json != NULL) {
		json_object_set(head, "json", op->json);
	} else if (op->type == OP_OPEN) {
		struct rpc_handle *nh = calloc(1, sizeof *nh);
		if (nh == NULL) {
			op->stream->ops->release(op->stream);
			op->stream = NULL;
			json_object_set_new(head, "rc", json_integer(-ENOMEM));
		} else {
			nh->id = c->next_handle++;
			if (c->next_handle == 0)
				c->next_handle = 1;
			nh->s = op->stream;
			nh->c = c;
			op->stream = NULL;
			TAILQ_INSERT_TAIL(&c->handles, nh, link);
			json_object_set_new(head, "h", json_integer(nh->id));
		}
	} else if (op->type == OP_WRITE && r->wb) {
		json_object_set_new(head, "wb", json_true());
	} else if ((op->type == OP_SNAP || op->type == OP_READ) && op->data != NULL) {
		body = op->data;
		blen = op->len;
		op->data = NULL;
	}
	if (frame_msg_build_head(FRAME_REP, r->tag, head, blen, &hbuf, &hlen) < 0) {
		json_decref(head);
		free(body);
		goto fail;
	}
	json_decref(head);
	conn_send2(c, hbuf, hlen, body, blen);
	free(r);
	return;
fail:
	log_warnx("connection %s: cannot build a reply: dropping it", c->name);
	free(r);
	conn_close(c, -ENOMEM);
}

static int
str_field(json_t *head, const char *key, size_t max, const char **out)
{
	json_t *j = json_object_get(head, key);

	*out = NULL;
	if (j == NULL)
		return 0;
	if (!json_is_string(j) || json_string_length(j) > max ||
	    strlen(json_string_value(j)) != json_string_length(j))
		return -EINVAL;
	*out = json_string_value(j);
	return 0;
}

static int parse_req(json_t *head, const uint8_t *body, size_t bodylen, struct conn *from,
    struct op **out, uint32_t *handle, const char **msg);

int
rpc_parse_req(json_t *head, const uint8_t *body, size_t bodylen, struct op **out,
    uint32_t *handle, const char **msg)
{
	return parse_req(head, body, bodylen, NULL, out, handle, msg);
}

/* rpc_parse_req; the body is from's body received apart if from is not NULL, taken
 * over as the op's data without a copy. */
static int
parse_req(json_t *head, const uint8_t *body, size_t bodylen, struct conn *from,
    struct op **out, uint32_t *handle, const char **msg)
{
	const char *name, *path, *file, *client;
	json_t *j;
	struct op *op;
	int type;

	*out = NULL;
	*handle = 0;
	if (str_field(head, "op", 16, &name) < 0 || name == NULL ||
	    (type = rpc_op_type(name)) < 0) {
		*msg = "bad or missing op";
		return -EINVAL;
	}
	if (str_field(head, "path", PATH_MAX_WIRE, &path) < 0 ||
	    str_field(head, "file", 255, &file) < 0 ||
	    str_field(head, "client", 200, &client) < 0) {
		*msg = "bad path, file or client";
		return -EINVAL;
	}
	if (type == OP_READ || type == OP_WRITE) {
		j = json_object_get(head, "h");
		if (!json_is_integer(j) || json_integer_value(j) <= 0 ||
		    json_integer_value(j) > UINT32_MAX) {
			*msg = "bad stream handle";
			return -EINVAL;
		}
		*handle = (uint32_t)json_integer_value(j);
	} else if (path == NULL || path[0] != '/') {
		*msg = "bad or missing anchor path";
		return -EINVAL;
	}
	if ((type == OP_SNAP || type == OP_OPEN) && (file == NULL || strchr(file, '/') != NULL)) {
		*msg = "bad or missing file";
		return -EINVAL;
	}
	if (bodylen > FRAME_DATA_MAX || (bodylen > 0 && type != OP_CTL && type != OP_WRITE)) {
		*msg = "unexpected body";
		return -EINVAL;
	}
	op = op_new((enum op_type)type, NULL, NULL);
	if (op == NULL) {
		*msg = "out of memory";
		return -ENOMEM;
	}
	if ((path != NULL && (op->path = strdup(path)) == NULL) ||
	    (file != NULL && (op->file = strdup(file)) == NULL))
		goto nomem;
	if (type == OP_OPEN || (type == OP_SNAP && json_object_get(head, "mode") != NULL)) {
		/* The owner checks the direction against the file (EACCES with a message). */
		j = json_object_get(head, "mode");
		if (!json_is_integer(j) || (json_integer_value(j) != OP_RDONLY &&
		    json_integer_value(j) != OP_WRONLY && json_integer_value(j) != OP_RDWR)) {
			op_free(op);
			*msg = "bad open mode";
			return -EINVAL;
		}
		op->mode = (int)json_integer_value(j);
	}
	if (type == OP_READ) {
		j = json_object_get(head, "max");
		if (!json_is_integer(j) || json_integer_value(j) < 0 ||
		    json_integer_value(j) > FRAME_DATA_MAX) {
			op_free(op);
			*msg = "bad read size";
			return -EINVAL;
		}
		op->max = (size_t)json_integer_value(j);
	}
	if (type == OP_CTL || type == OP_WRITE) {
		/* A ctl command is NUL-terminated for the parser (op.h); so is a body
		 * received apart. */
		if (from != NULL) {
			op->data = conn_take_body(from);
		} else {
			op->data = malloc(bodylen + 1);
			if (op->data == NULL)
				goto nomem;
			if (bodylen > 0)
				memcpy(op->data, body, bodylen);
			op->data[bodylen] = '\0';
		}
		op->len = bodylen;
	}
	if (client != NULL && (op->client = strdup(client)) == NULL)
		goto nomem;
	*out = op;
	return 0;
nomem:
	op_free(op);
	*msg = "out of memory";
	return -ENOMEM;
}

static int
reply_error(struct conn *c, uint32_t tag, int rc, const char *msg)
{
	json_t *head = json_pack("{s:i, s:s}", "rc", rc, "msg", msg);
	int r = head != NULL ? conn_send_msg(c, FRAME_REP, tag, head, NULL, 0) : -ENOMEM;

	json_decref(head);
	return r;
}

/* ---- readiness waits (the owner side of a remote poll) ----
 *
 * A read of 0 bytes with "wait" asks to be answered (rc 0, no bytes) once the stream
 * is readable -- bytes, EOF or an error are there -- without taking anything, so a
 * remote poll(2) is exact before the first byte too, and a recv polled but never read
 * still gives its message back.  One per handle; the handle's stream reports changes
 * of readiness to us, its opener (stream_notify). */

static int
poll_ready(struct stream *s)
{
	return s->ops->poll == NULL || (s->ops->poll(s) & (POLLIN | POLLERR | POLLHUP));
}

static void
poll_answer(struct rpc_handle *h, int rc)
{
	uint32_t tag = h->poll_tag;

	h->poll_tag = 0;
	if (h->c != NULL && tag != 0) {
		json_t *head = json_pack("{s:i}", "rc", rc);
		if (head == NULL || conn_send_msg(h->c, FRAME_REP, tag, head, NULL, 0) < 0)
			conn_close(h->c, -ENOMEM);
		json_decref(head);
	}
}

static void
handle_notify(struct stream *s, void *arg)
{
	struct rpc_handle *h = arg;

	if (h->poll_tag != 0 && poll_ready(s))
		poll_answer(h, 0);
}

static int
poll_wait(struct conn *c, uint32_t tag, uint32_t hid)
{
	struct rpc_handle *h;

	TAILQ_FOREACH(h, &c->handles, link)
		if (h->id == hid)
			break;
	if (h == NULL || h->released)
		return reply_error(c, tag, -EBADF, "no such open stream");
	if (h->poll_tag != 0)
		return reply_error(c, tag, -EBUSY, "a readiness wait is already pending");
	h->poll_tag = tag;
	h->s->notify = handle_notify;
	h->s->notify_arg = h;
	if (poll_ready(h->s))
		poll_answer(h, 0);
	return 0;
}

static int
handle_req(struct conn *c, const struct frame *f)
{
	const uint8_t *body;
	const char *msg = NULL;
	struct rpc_inreq *r;
	struct rpc_handle *h = NULL;
	uint32_t hid;
	size_t blen, blen_apart;
	json_t *head;
	struct op *op;
	char *who;
	int rc, wait;

	TAILQ_FOREACH(r, &c->inreqs, link)
		if (r->tag == f->id)
			return -EPROTO;		/* a tag still in use */
	if (msg_parse(c, f, &head, &body, &blen) < 0)
		return -EBADMSG;
	rc = parse_req(head, body, blen, conn_body(c, &blen_apart) != NULL ? c : NULL, &op,
	    &hid, &msg);
	wait = json_is_true(json_object_get(head, "wait"));
	json_decref(head);
	if (rc < 0) {
		log_warnx("connection %s: bad request: %s", c->name, msg);
		return reply_error(c, f->id, rc, msg);
	}
	if (wait) {
		rc = op->type == OP_READ && op->max == 0 ? 0 : -EINVAL;
		op_free(op);
		if (rc < 0)
			return reply_error(c, f->id, rc, "\"wait\" is for a read of 0 bytes");
		return poll_wait(c, f->id, hid);
	}
	if (c->ninreqs >= INREQ_MAX || c->inreq_bytes + blen > INREQ_BYTES_MAX) {
		log_warnx("connection %s: %d requests holding %zu bytes in flight: too many",
		    c->name, c->ninreqs, c->inreq_bytes);
		op_free(op);
		return -ENOBUFS;
	}
	if (hid != 0) {
		TAILQ_FOREACH(h, &c->handles, link)
			if (h->id == hid)
				break;
		if (h == NULL || h->released) {
			op_free(op);
			return reply_error(c, f->id, -EBADF, "no such open stream");
		}
		op->stream = h->s;
		h->busy++;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL) {
		if (h != NULL)
			h->busy--;
		op_free(op);
		return -ENOMEM;
	}
	/* The log names the caller as the peer (or client address) and who asked there. */
	if (asprintf(&who, "%s%s%s", c->peer_id[0] ? c->peer_id : c->name,
	    op->client != NULL ? "/" : "", op->client != NULL ? op->client : "") >= 0) {
		free(op->client);
		op->client = who;
	}
	r->tag = f->id;
	r->op = op;
	r->c = c;
	r->h = h;
	op->cb = inreq_done;
	op->arg = r;
	r->bytes = blen;
	TAILQ_INSERT_TAIL(&c->inreqs, r, link);
	c->ninreqs++;
	c->inreq_bytes += blen;
	op_start(op);
	/* A write its element parked (or completes early, if the stream is remote too)
	 * flows with back-pressure of its own: the caller may write behind.  The op is
	 * not freed before its completion runs from the loop. */
	if (op->type == OP_WRITE)
		r->wb = op->stream->ops == &rs_ops ?
		    ((struct rstream *)op->stream->priv)->wb : op->owner != NULL;
	return 0;
}

/* A RELEASE is empty, or carries {"abort": true} when the stream's opener on the
 * other side vanished (a remote stream relays the abort): 1 aborted, 0 not, -1 bad. */
static int
release_aborted(const struct frame *f)
{
	const uint8_t *body;
	size_t blen;
	json_t *head;
	int rc;

	if (f->len == 0)
		return 0;
	if (frame_msg_parse(f->payload, f->len, &head, &body, &blen) < 0)
		return -1;
	rc = blen == 0 && json_is_true(json_object_get(head, "abort")) ? 1 : -1;
	json_decref(head);
	return rc;
}

int
rpc_frame(struct conn *c, const struct frame *f)
{
	struct rpc_inreq *r;
	struct rpc_handle *h;
	int aborted;

	switch (f->type) {
	case FRAME_REQ:
		return handle_req(c, f);
	case FRAME_REP:
		return handle_rep(c, f);
	case FRAME_CANCEL:
		if (f->len != 0)
			return -EBADMSG;
		TAILQ_FOREACH(r, &c->inreqs, link)
			if (r->tag == f->id) {
				op_cancel(r->op);
				return 0;
			}
		TAILQ_FOREACH(h, &c->handles, link)
			if (h->poll_tag == f->id) {
				poll_answer(h, -EINTR);
				break;
			}
		return 0;	/* the request may have finished already */
	case FRAME_RELEASE:
		if ((aborted = release_aborted(f)) < 0)
			return -EBADMSG;
		TAILQ_FOREACH(h, &c->handles, link)
			if (h->id == f->id && !h->released) {
				h->released = 1;
				if (aborted && h->s != NULL)
					h->s->aborted = 1;
				if (h->busy == 0)
					handle_free(h);
				break;
			}
		return 0;
	default:
		return -EPROTO;
	}
}

void
rpc_conn_closed(struct conn *c)
{
	struct rpc_call *call;
	struct rpc_inreq *r;
	struct rpc_handle *h;
	struct rstream *rs;
	const char *who = c->peer_id[0] ? c->peer_id : c->name;

	while ((call = TAILQ_FIRST(&c->calls)) != NULL) {
		TAILQ_REMOVE(&c->calls, call, link);
		if (call->op != NULL) {
			call->op->cancel = NULL;
			op_fail(call->op, -EHOSTDOWN, "%s: server %s is down",
			    call->op->path != NULL ? call->op->path :
			    op_type_name(call->op->type), who);
		}
		free(call);
	}
	while ((rs = TAILQ_FIRST(&c->rstreams)) != NULL) {
		TAILQ_REMOVE(&c->rstreams, rs, link);
		rs->c = NULL;
		stream_notify(&rs->s);		/* readable or writable: with an error */
	}
	/* Requests still running end without anyone to tell: cancel them. */
	while ((r = TAILQ_FIRST(&c->inreqs)) != NULL) {
		TAILQ_REMOVE(&c->inreqs, r, link);
		r->c = NULL;
		op_cancel(r->op);
	}
	c->ninreqs = 0;
	c->inreq_bytes = 0;
	while ((h = TAILQ_FIRST(&c->handles)) != NULL) {
		TAILQ_REMOVE(&c->handles, h, link);
		h->c = NULL;
		h->released = 1;
		/* Its opener vanished: what it was writing is cut short. */
		if (h->s != NULL)
			h->s->aborted = 1;
		if (h->busy == 0)
			handle_free(h);
	}
}
