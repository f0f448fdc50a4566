/* rstream_write.c - the writing side of a remote stream (see rstream_int.h).
 *
 * Writing behind.  A write is sent and waited for until the owner says (REP "wb") that
 * its element parks writes, i.e. flows with back-pressure of its own (a rendezvous
 * send, a process's stdin); from then on a write completes as soon as it is sent while
 * fewer than WB_WINDOW bytes are in flight, and waits for room otherwise.  A failure of
 * a write completed early is told to the next write.  A stream whose element takes
 * writes at once (a buffered message, EFBIG past 32 KiB) is never written behind.
 *
 * close(2) waits for the writes behind (FLUSH).
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/rstream_int.h"
#include "net/window.h"

int
rstream_wb_room(struct rstream *rs, size_t len)
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
	rstream_put(rs);
}

static void
rs_wdirect_cancel(struct op *local)
{
	struct rwrite *w = local->owner;

	/* The owner's answer ends it (EINTR, or what it took), within the grace. */
	w->intr = 1;
	op_cancel(w->op, local->cancel_rc);
	if (w->rs->c != NULL)
		rstream_grace_arm(w->rs);
}

/* Interrupted writes whose owner did not answer within the grace: the writer is not
 * held any longer.  Its bytes may have been taken, so EINTR (a retry would send them
 * twice) would be as wrong as silence: the write completes as written behind, and
 * the owner's answer, when it comes, is told to the next write or close(2). */
void
rstream_wdirect_expire(struct rstream *rs)
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
	op_end_cancelled(op);
}

/* Writes waiting for room: an earlier failure first, then as room allows. */
static void
rs_wdrain(struct rstream *rs)
{
	struct op *op;

	while ((op = TAILQ_FIRST(&rs->wwait)) != NULL) {
		if (rs->werr == 0 && rs->c != NULL && !rstream_wb_room(rs, op->len))
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

void
rstream_write(struct stream *s, struct op *op)
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
	if (TAILQ_EMPTY(&rs->wwait) && rstream_wb_room(rs, op->len)) {
		write_send(rs, op, 1);
		return;
	}
	op->owner = rs;
	op->cancel = rs_wwait_cancel;
	TAILQ_INSERT_TAIL(&rs->wwait, op, link);
}

/* A close(2) is coming (FUSE FLUSH): as NFS's close-to-open, it waits until every
 * write completed early has been answered, then reports the first failure (once: the
 * next write does not repeat it) -- EHOSTDOWN if the connection died under them.  A
 * FLUSH with nothing outstanding (bash's dup2 of a file it has not written) is
 * answered at once.  An interrupt ends the wait (EINTR).  A stream opened for writing
 * whose connection is lost fails every close with EHOSTDOWN: no RELEASE can reach the
 * owner, which ended what was written as aborted (a message never delivered, a stdin
 * cut), so the close must not pass -- as the client library's close. */
static int
flush_ready(const struct rstream *rs)
{
	return rs->werr != 0 || (rs->nwb == 0 && TAILQ_EMPTY(&rs->wwait));
}

static void
flush_finish(struct op *op, struct rstream *rs)
{
	int rc = rs->werr;

	if (rc == 0 && rs->c == NULL && rs->mode == OP_WRONLY) {
		op_fail(op, -EHOSTDOWN, "%s: connection lost before the close: the stream "
		    "did not end whole", rs->where);
		return;
	}
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

void
rstream_flush(struct stream *s, struct op *op)
{
	struct rstream *rs = s->priv;

	if (flush_ready(rs) && TAILQ_EMPTY(&rs->flushes)) {
		flush_finish(op, rs);
		return;
	}
	op_park(op, rs_flush_cancel, rs);
	TAILQ_INSERT_TAIL(&rs->flushes, op, link);
}
