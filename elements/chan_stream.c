/* chan_stream.c - the channel's streams: an open send and an open recv.
 *
 * A buffered send fills its message (at most CHAN_MSG_MAX bytes) and commits it at
 * release; a buffered recv reads its taken message.  A rendezvous pairs one send with
 * one recv: writes park until reads have taken all their bytes (a whole write buffer
 * is handed over without a copy when the read is big enough), which back-pressures
 * the writer like a pipe, and the sender's release is the receiver's EOF.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "elements/chan_int.h"

/* ---- rendezvous data flow ---- */

/* Move bytes from the sender's parked writes to the receiver's parked reads, and hand
 * out EOF once the sender has released with nothing left. */
static void
flow(struct receiver *r)
{
	struct sender *s = r->snd;
	struct op *rd, *wr;
	size_t n;
	char *buf;

	while ((rd = TAILQ_FIRST(&r->reads)) != NULL) {
		if (s->state == SEND_BROKEN) {
			TAILQ_REMOVE(&r->reads, rd, link);
			if (s->aborted)
				op_fail(rd, -ECONNABORTED, "%s: message aborted: its sender's "
				    "server or connection was lost mid-message", elem_path(&r->c->e));
			else
				op_fail(rd, -EPIPE, "%s: message torn: its sender's write was "
				    "interrupted", elem_path(&r->c->e));
			continue;
		}
		wr = TAILQ_FIRST(&s->writes);
		if (wr == NULL) {
			if (!s->released)
				break;
			TAILQ_REMOVE(&r->reads, rd, link);
			r->eof = 1;
			op_done_data(rd, NULL, 0);
			continue;
		}
		n = wr->len - s->woff;
		if (n > rd->max)
			n = rd->max;
		if (s->woff == 0 && n == wr->len) {
			/* The whole write fits: hand its buffer over instead of copying. */
			buf = wr->data;
			wr->data = NULL;
		} else {
			buf = malloc(n > 0 ? n : 1);
			if (buf == NULL) {
				TAILQ_REMOVE(&r->reads, rd, link);
				op_fail(rd, -ENOMEM, "out of memory");
				continue;
			}
			memcpy(buf, wr->data + s->woff, n);
		}
		TAILQ_REMOVE(&r->reads, rd, link);
		r->nread += n;
		s->woff += n;
		op_done_data(rd, buf, n);
		if (s->woff == wr->len) {
			TAILQ_REMOVE(&s->writes, wr, link);
			s->woff = 0;
			op_done(wr, (int)wr->len);
		}
	}
	notify_sender(s);
	notify_receiver(r);
}

/* ---- send stream ---- */

static void
cancel_write(struct op *op)
{
	struct sender *s = op->owner;

	/* A write a reader already took part of cannot be undone: the message is torn,
	 * so its receiver and any further writes learn it rather than see a gap. */
	if (op == TAILQ_FIRST(&s->writes) && s->woff > 0) {
		s->woff = 0;
		s->state = SEND_BROKEN;
	}
	TAILQ_REMOVE(&s->writes, op, link);
}

static void
send_write(struct stream *st, struct op *op)
{
	struct sender *s = st->priv;
	struct chan *c = s->c;
	char *grown;

	if (c->state == CHAN_ABORTED) {
		op_fail(op, -EPIPE, "channel scrubbed");
		return;
	}
	switch (s->state) {
	case SEND_BUFFERED:
		if (s->msg->len + op->len > CHAN_MSG_MAX) {
			/* Abandon the message now; release gives its slot back. */
			s->state = SEND_ABANDONED;
			msg_free(s->msg);
			s->msg = NULL;
			op_fail(op, -EFBIG, "%s: a buffered message holds at most %d bytes "
			    "(a receiver waiting in recv takes any size)", elem_path(&c->e),
			    CHAN_MSG_MAX);
			return;
		}
		if (op->len == 0) {
			op_done(op, 0);
			return;
		}
		if (s->msg->buf == NULL) {
			s->msg->buf = op->data;
			op->data = NULL;
		} else {
			grown = realloc(s->msg->buf, s->msg->len + op->len);
			if (grown == NULL) {
				op_fail(op, -ENOMEM, "out of memory");
				return;
			}
			memcpy(grown + s->msg->len, op->data, op->len);
			s->msg->buf = grown;
		}
		s->msg->len += op->len;
		op_done(op, (int)op->len);
		return;
	case SEND_ABANDONED:
		op_fail(op, -EFBIG, "%s: message abandoned: it grew past %d bytes",
		    elem_path(&c->e), CHAN_MSG_MAX);
		return;
	case SEND_BROKEN:
		op_fail(op, -EPIPE, "%s: the receiver stopped reading this message",
		    elem_path(&c->e));
		return;
	case SEND_BOUND:
	case SEND_BOUNCED:
		if (op->len == 0) {
			op_done(op, 0);
			return;
		}
		op_park(op, cancel_write, s);
		TAILQ_INSERT_TAIL(&s->writes, op, link);
		if (s->state == SEND_BOUND)
			flow(s->rcv);
		return;
	case SEND_WAITING:
		break;
	}
	op_fail(op, -EBADF, "send: stream not open");
}

/* The writer vanished mid-message (net/ marks its stream aborted before the release):
 * the message must not pass for complete.  A buffered one is dropped; a streaming
 * one's receiver gets ECONNABORTED instead of EOF (a bounced one, which nobody has
 * read, leaves the line).  It counts as aborted, not as sent. */
static void
send_abort(struct sender *s)
{
	struct chan *c = s->c;

	switch (s->state) {
	case SEND_BUFFERED:
		msg_free(s->msg);
		s->msg = NULL;
		s->state = SEND_ABANDONED;	/* its slot goes back at release */
		break;
	case SEND_BOUNCED:
		if (s->in_line) {
			TAILQ_REMOVE(&c->line, s, line);
			s->in_line = 0;
		}
		s->state = SEND_BROKEN;
		break;
	case SEND_BOUND:
		s->state = SEND_BROKEN;
		break;
	case SEND_BROKEN:
		if (s->rcv == NULL)
			return;		/* its receiver left: nobody to tell */
		break;			/* a write torn by the loss itself */
	default:
		return;		/* nothing of it can reach a receiver anyway */
	}
	s->aborted = 1;
	c->naborted++;
}

static void
send_release(struct stream *st)
{
	struct sender *s = st->priv;
	struct chan *c = s->c;

	/* The FUSE layer releases only when no write is in flight; a peer might not. */
	fail_all(c, &s->writes, -EPIPE, "send: closed during the write");
	s->woff = 0;
	if (st->aborted && c->state != CHAN_ABORTED)
		send_abort(s);
	switch (s->state) {
	case SEND_BUFFERED:
		s->msg->state = MSG_QUEUED;
		TAILQ_INSERT_TAIL(&c->ready, s->msg, link);
		s->msg = NULL;
		c->nsend++;
		break;
	case SEND_ABANDONED:
		if (c->state != CHAN_ABORTED)
			c->nslots--;
		break;
	case SEND_BOUND:
	case SEND_BOUNCED:
		c->nsend++;
		break;
	case SEND_BROKEN:
		if (c->state != CHAN_ABORTED && !s->aborted)
			c->nsend++;
		break;
	case SEND_WAITING:
		break;
	}
	s->released = 1;
	s->stream = NULL;
	if ((s->state == SEND_BOUND || s->state == SEND_BROKEN) && s->rcv != NULL)
		flow(s->rcv);
	chan_pump(c);
	chan_sender_put(s);
	/* Last: this may drop the channel's final reference. */
	stream_free(st);
}

static int
send_poll(struct stream *st)
{
	struct sender *s = st->priv;

	if (s->c->state == CHAN_ABORTED)
		return POLLOUT | POLLERR;
	switch (s->state) {
	case SEND_BOUND:
		/* Like a pipe with room: one write may go in, and it waits for the reader. */
		return TAILQ_EMPTY(&s->writes) ? POLLOUT : 0;
	case SEND_BOUNCED:
	case SEND_WAITING:
		return 0;
	case SEND_BROKEN:
		return POLLOUT | POLLERR;
	case SEND_BUFFERED:
	case SEND_ABANDONED:
		break;
	}
	return POLLOUT;
}

const struct stream_ops chan_send_ops = {
	.write = send_write,
	.release = send_release,
	.poll = send_poll,
};

/* ---- receive stream ---- */

static void
cancel_read(struct op *op)
{
	struct receiver *r = op->owner;

	TAILQ_REMOVE(&r->reads, op, link);
}

static void
recv_read(struct stream *st, struct op *op)
{
	struct receiver *r = st->priv;
	struct msg *m;
	size_t n;
	char *buf;

	if (r->c->state == CHAN_ABORTED || r->state == RECV_BROKEN) {
		op_fail(op, -EPIPE, "channel scrubbed");
		return;
	}
	if (op->max == 0) {
		op_done_data(op, NULL, 0);
		return;
	}
	if (r->state == RECV_BOUND) {
		op_park(op, cancel_read, r);
		TAILQ_INSERT_TAIL(&r->reads, op, link);
		flow(r);
		return;
	}
	m = r->msg;
	n = m->len - r->off;
	if (n > op->max)
		n = op->max;
	if (n == 0) {
		r->eof = 1;
		op_done_data(op, NULL, 0);
		return;
	}
	if (r->off == 0 && n == m->len) {
		buf = m->buf;
		m->buf = NULL;
	} else {
		buf = malloc(n);
		if (buf == NULL) {
			op_fail(op, -ENOMEM, "out of memory");
			return;
		}
		memcpy(buf, m->buf + r->off, n);
	}
	r->off += n;
	r->nread += n;
	op_done_data(op, buf, n);
}

static void
recv_release(struct stream *st)
{
	struct receiver *r = st->priv;
	struct chan *c = r->c;
	struct sender *s = r->snd;
	int untouched = r->nread == 0 && !r->eof && c->state != CHAN_ABORTED;

	fail_all(c, &r->reads, -EPIPE, "recv: closed during the read");
	if (r->state == RECV_BUFFERED) {
		if (untouched) {
			/* Nothing was read (an interrupted open, say): the message goes back
			 * to the head of the queue, so it is received exactly once. */
			r->msg->state = MSG_QUEUED;
			TAILQ_INSERT_HEAD(&c->ready, r->msg, link);
			c->nslots++;
			r->msg = NULL;
		} else {
			c->nrecv++;
		}
	} else if (s != NULL) {
		s->rcv = NULL;
		r->snd = NULL;
		if (untouched && s->state == SEND_BOUND) {
			/* The sender goes back to the head of the line; a write it has
			 * pending stays pending for the next receiver. */
			s->state = SEND_BOUNCED;
			TAILQ_INSERT_HEAD(&c->line, s, line);
			s->in_line = 1;
		} else {
			if (c->state != CHAN_ABORTED)
				c->nrecv++;
			if (s->state == SEND_BOUND)
				s->state = SEND_BROKEN;
			fail_all(c, &s->writes, -EPIPE, "send: the receiver stopped reading this message");
			s->woff = 0;
		}
		notify_sender(s);
		chan_sender_put(s);
	}
	msg_free(r->msg);
	TAILQ_REMOVE(&c->receivers, r, all);
	free(r);
	chan_pump(c);
	stream_free(st);
}

static int
recv_poll(struct stream *st)
{
	struct receiver *r = st->priv;
	struct sender *s = r->snd;

	if (r->c->state == CHAN_ABORTED || r->state == RECV_BROKEN)
		return POLLIN | POLLERR;
	if (r->state == RECV_BUFFERED)
		return POLLIN;
	if (s == NULL || s->released || s->state == SEND_BROKEN || !TAILQ_EMPTY(&s->writes))
		return POLLIN;
	return 0;
}

const struct stream_ops chan_recv_ops = {
	.read = recv_read,
	.release = recv_release,
	.poll = recv_poll,
};
