/* chan.c - the channel element: Go channel semantics over byte-stream messages.
 *
 * Three kinds of waiting make up a channel's state:
 *  - the ready queue: buffered messages committed by their sender's release, oldest
 *    first; each holds one of the cap slots, as do the messages still being written;
 *  - the line: senders waiting for a slot or a receiver, in arrival order; most are
 *    parked opens, a few are "bounced" rendezvous senders whose receiver left
 *    without reading a byte and who must go to the next receiver first;
 *  - parked receiver opens, in arrival order.
 * pump() is the one place that matches them, so every change ends with a call to it.
 *
 * A rendezvous pairs one sender stream with one receiver stream: writes park until
 * reads have taken all their bytes (a whole write buffer is handed over without a
 * copy when the read is big enough), which back-pressures the writer like a pipe.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elements/anchor.h"
#include "elements/chan.h"

enum chan_state { CHAN_OPEN, CHAN_CLOSED, CHAN_ABORTED };

/* Where a buffered message is in its life. */
enum msg_state {
	MSG_FILLING,	/* its sender is still writing it; holds a slot */
	MSG_QUEUED,	/* committed, in the ready queue; holds a slot */
	MSG_TAKEN,	/* a receiver is reading it; the slot is free again */
};

struct msg {
	enum msg_state state;
	char *buf;
	size_t len;
	TAILQ_ENTRY(msg) link;
};
TAILQ_HEAD(msg_queue, msg);

/* What a send open is doing. */
enum send_state {
	SEND_WAITING,	/* its open is parked in the line */
	SEND_BUFFERED,	/* writing a buffered message (msg), holding a slot */
	SEND_ABANDONED,	/* its buffered message grew too big: writes fail until release */
	SEND_BOUND,	/* rendezvous: writes go to rcv */
	SEND_BOUNCED,	/* its receiver left having read nothing: back in the line */
	SEND_BROKEN,	/* receiver left mid-message, a write was torn, or scrubbed */
};

/* What a receive open is doing. */
enum recv_state {
	RECV_BUFFERED,	/* reading a taken buffered message */
	RECV_BOUND,	/* rendezvous: reading from snd's writes */
	RECV_BROKEN,	/* the channel was scrubbed: reads fail */
};

struct chan;

struct sender {
	struct chan *c;
	enum send_state state;
	struct op *open_op;		/* SEND_WAITING: the parked open */
	struct stream *stream;		/* between open completion and release */
	struct msg *msg;		/* SEND_BUFFERED */
	struct receiver *rcv;		/* SEND_BOUND (and BROKEN after a torn write) */
	struct op_queue writes;		/* rendezvous writes waiting for readers */
	size_t woff;			/* bytes of the first write already read */
	int released;			/* the stream is gone: the message is complete */
	int in_line;
	TAILQ_ENTRY(sender) line;
	TAILQ_ENTRY(sender) all;
};
TAILQ_HEAD(sender_list, sender);

struct receiver {
	struct chan *c;
	enum recv_state state;
	struct stream *stream;
	struct msg *msg;		/* RECV_BUFFERED */
	size_t off;			/* bytes of msg already read */
	struct sender *snd;		/* RECV_BOUND */
	struct op_queue reads;		/* rendezvous reads waiting for writes */
	size_t nread;			/* bytes handed out so far */
	int eof;			/* EOF has been handed out */
	TAILQ_ENTRY(receiver) all;
};
TAILQ_HEAD(receiver_list, receiver);

struct chan {
	struct element e;		/* first: element.h's rule */
	enum chan_state state;
	int cap;
	int nslots;			/* slots held: queued + filling (may pass cap on put-back) */
	uint64_t nsend, nrecv;
	struct msg_queue ready;
	struct sender_list line;
	struct op_queue recv_opens;
	struct sender_list senders;	/* every sender, for scrub */
	struct receiver_list receivers;	/* every receiver, for scrub */
};

static const struct stream_ops send_ops, recv_ops;

/* ---- small helpers ---- */

static struct chan *
chan_of(struct element *e)
{
	return (struct chan *)e;
}

static void
notify_sender(struct sender *s)
{
	if (s != NULL && s->stream != NULL)
		stream_notify(s->stream);
}

static void
notify_receiver(struct receiver *r)
{
	if (r != NULL && r->stream != NULL)
		stream_notify(r->stream);
}

static void
msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	free(m->buf);
	free(m);
}

/* Fail every op of q with err: the queue's owner is going away or broke. */
static void
fail_all(struct op_queue *q, int err, const char *why)
{
	struct op *op;

	while ((op = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, op, link);
		op_fail(op, err, "%s", why);
	}
}

/* Free a sender once nothing refers to it: no stream, no receiver, not in line. */
static void
sender_put(struct sender *s)
{
	if (!s->released || s->rcv != NULL || s->in_line)
		return;
	TAILQ_REMOVE(&s->c->senders, s, all);
	msg_free(s->msg);
	free(s);
}

static void
line_remove(struct sender *s)
{
	if (s->in_line) {
		TAILQ_REMOVE(&s->c->line, s, line);
		s->in_line = 0;
	}
}

/* ---- completing opens ---- */

/* Complete a parked or running send open with a stream for s; 0 or -ENOMEM. */
static int
finish_send_open(struct sender *s)
{
	struct op *op = s->open_op;

	s->open_op = NULL;
	s->stream = stream_new(&s->c->e, &send_ops, s);
	if (s->stream == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	op->stream = s->stream;
	op_done(op, 0);
	return 0;
}

static struct receiver *
receiver_new(struct chan *c, struct op *op)
{
	struct receiver *r = calloc(1, sizeof *r);

	if (r == NULL)
		goto fail;
	r->c = c;
	TAILQ_INIT(&r->reads);
	r->stream = stream_new(&c->e, &recv_ops, r);
	if (r->stream == NULL)
		goto fail;
	TAILQ_INSERT_TAIL(&c->receivers, r, all);
	return r;
fail:
	free(r);
	op_fail(op, -ENOMEM, "out of memory");
	return NULL;
}

/* Hand the oldest committed message to the receive open op. */
static void
take_buffered(struct chan *c, struct op *op)
{
	struct msg *m = TAILQ_FIRST(&c->ready);
	struct receiver *r = receiver_new(c, op);

	if (r == NULL)
		return;
	TAILQ_REMOVE(&c->ready, m, link);
	c->nslots--;
	m->state = MSG_TAKEN;
	r->state = RECV_BUFFERED;
	r->msg = m;
	op->stream = r->stream;
	op_done(op, 0);
}

/* Pair sender s (waiting or bounced, in the line) with the receive open op, which the
 * caller took off recv_opens.  When a stream cannot be made, whatever was not handed
 * to anyone keeps its place. */
static void
pair(struct chan *c, struct sender *s, struct op *op)
{
	struct receiver *r = receiver_new(c, op);

	if (r == NULL)
		return;
	line_remove(s);
	if (s->state == SEND_WAITING && finish_send_open(s) < 0) {
		/* The sender's open failed, so it has no message: the receiver waits on. */
		s->released = 1;
		sender_put(s);
		TAILQ_REMOVE(&c->receivers, r, all);
		stream_free(r->stream);
		free(r);
		TAILQ_INSERT_HEAD(&c->recv_opens, op, link);
		return;
	}
	s->state = SEND_BOUND;
	s->rcv = r;
	r->state = RECV_BOUND;
	r->snd = s;
	op->stream = r->stream;
	op_done(op, 0);
	notify_sender(s);
}

/* Give a waiting sender a buffer slot: its open completes and it writes into a message. */
static void
grant_slot(struct chan *c, struct sender *s)
{
	struct msg *m = calloc(1, sizeof *m);

	line_remove(s);
	if (m == NULL) {
		op_fail(s->open_op, -ENOMEM, "out of memory");
		s->released = 1;
		sender_put(s);
		return;
	}
	m->state = MSG_FILLING;
	s->msg = m;
	s->state = SEND_BUFFERED;
	c->nslots++;
	if (finish_send_open(s) < 0) {
		c->nslots--;
		s->released = 1;
		sender_put(s);
	}
}

static struct sender *
first_waiting(struct chan *c)
{
	struct sender *s;

	TAILQ_FOREACH(s, &c->line, line)
		if (s->state == SEND_WAITING)
			return s;
	return NULL;
}

/* The first sender in line a receiver may meet directly: a bounced one, or any when
 * the buffer is empty (with cap 0 it always is). */
static struct sender *
first_rendezvous(struct chan *c)
{
	struct sender *s;

	TAILQ_FOREACH(s, &c->line, line)
		if (s->state == SEND_BOUNCED || c->nslots == 0)
			return s;
	return NULL;
}

/* Match everything that can be matched; then, on a closed and drained channel, tell
 * the receivers still waiting that nothing more will come. */
static void
pump(struct chan *c)
{
	struct sender *s;
	struct op *op;

	if (c->state == CHAN_ABORTED)
		return;
	/* Buffered messages go first, as in Go; each one taken frees a slot. */
	while ((op = TAILQ_FIRST(&c->recv_opens)) != NULL && !TAILQ_EMPTY(&c->ready)) {
		TAILQ_REMOVE(&c->recv_opens, op, link);
		take_buffered(c, op);
	}
	while (c->nslots < c->cap && c->state == CHAN_OPEN && (s = first_waiting(c)) != NULL)
		grant_slot(c, s);
	while ((op = TAILQ_FIRST(&c->recv_opens)) != NULL && TAILQ_EMPTY(&c->ready) &&
	    (s = first_rendezvous(c)) != NULL) {
		TAILQ_REMOVE(&c->recv_opens, op, link);
		pair(c, s, op);
	}
	if (c->state == CHAN_CLOSED && TAILQ_EMPTY(&c->ready) && c->nslots == 0 &&
	    TAILQ_EMPTY(&c->line))
		fail_all(&c->recv_opens, -EPIPE, "channel closed");
}

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
			op_fail(rd, -EPIPE, "%s: message torn: its sender's write was interrupted",
			    elem_path(&r->c->e));
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

static void
send_release(struct stream *st)
{
	struct sender *s = st->priv;
	struct chan *c = s->c;

	/* The FUSE layer releases only when no write is in flight; a peer might not. */
	fail_all(&s->writes, -EPIPE, "send: closed during the write");
	s->woff = 0;
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
		if (c->state != CHAN_ABORTED)
			c->nsend++;
		break;
	case SEND_WAITING:
		break;
	}
	s->released = 1;
	s->stream = NULL;
	if (s->state == SEND_BOUND)
		flow(s->rcv);
	pump(c);
	sender_put(s);
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

static const struct stream_ops send_ops = {
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

	fail_all(&r->reads, -EPIPE, "recv: closed during the read");
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
			fail_all(&s->writes, -EPIPE, "send: the receiver stopped reading this message");
			s->woff = 0;
		}
		notify_sender(s);
		sender_put(s);
	}
	msg_free(r->msg);
	TAILQ_REMOVE(&c->receivers, r, all);
	free(r);
	pump(c);
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

static const struct stream_ops recv_ops = {
	.read = recv_read,
	.release = recv_release,
	.poll = recv_poll,
};

/* ---- opens ---- */

static void
cancel_send_open(struct op *op)
{
	struct sender *s = op->owner;

	/* A parked send open holds nothing but its place in line. */
	line_remove(s);
	s->open_op = NULL;
	s->released = 1;
	sender_put(s);
}

static void
cancel_recv_open(struct op *op)
{
	struct chan *c = op->owner;

	TAILQ_REMOVE(&c->recv_opens, op, link);
}

static void
open_send(struct chan *c, struct op *op)
{
	struct sender *s;
	struct op *ro;

	if (c->state != CHAN_OPEN) {
		op_fail(op, -EPIPE, "%s: send on a %s channel", elem_path(&c->e),
		    c->state == CHAN_CLOSED ? "closed" : "scrubbed");
		return;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	s->c = c;
	s->state = SEND_WAITING;
	s->open_op = op;
	TAILQ_INIT(&s->writes);
	TAILQ_INSERT_TAIL(&c->senders, s, all);
	op_park(op, cancel_send_open, s);
	TAILQ_INSERT_TAIL(&c->line, s, line);
	s->in_line = 1;
	/* A receiver already waiting takes the message directly, unless other senders
	 * are ahead in line; otherwise pump() finds a free slot or leaves it waiting. */
	ro = TAILQ_FIRST(&c->recv_opens);
	if (ro != NULL && TAILQ_FIRST(&c->line) == s) {
		TAILQ_REMOVE(&c->recv_opens, ro, link);
		pair(c, s, ro);
	}
	pump(c);
}

static void
open_recv(struct chan *c, struct op *op)
{
	if (c->state == CHAN_ABORTED) {
		op_fail(op, -EPIPE, "%s: channel scrubbed", elem_path(&c->e));
		return;
	}
	op_park(op, cancel_recv_open, c);
	TAILQ_INSERT_TAIL(&c->recv_opens, op, link);
	pump(c);
}

/* ---- the kind ---- */

int
chan_parse_cap(const char *arg, int *cap)
{
	long v = 0;
	const char *p;

	if (arg == NULL || *arg == '\0')
		return -EINVAL;
	for (p = arg; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
		if (v > CHAN_CAP_MAX)
			return -EINVAL;
	}
	*cap = (int)v;
	return 0;
}

static void
chan_make(struct anchor *a, const char *arg, struct op *op)
{
	struct chan *c;
	int cap;

	if (chan_parse_cap(arg, &cap) < 0) {
		op_fail(op, -EINVAL, "%s: mkchan: capacity must be a decimal integer 0..%d, not '%s'",
		    a->path, CHAN_CAP_MAX, arg != NULL ? arg : "");
		return;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	elem_init(&c->e, &chan_kind);
	c->state = CHAN_OPEN;
	c->cap = cap;
	TAILQ_INIT(&c->ready);
	TAILQ_INIT(&c->line);
	TAILQ_INIT(&c->recv_opens);
	TAILQ_INIT(&c->senders);
	TAILQ_INIT(&c->receivers);
	anchor_attach(a, &c->e);
	op_done(op, 0);
}

/* Close: no new messages; parked senders fail, the rest drains. */
static void
chan_close(struct chan *c)
{
	struct sender *s, *next;

	if (c->state != CHAN_OPEN)
		return;
	c->state = CHAN_CLOSED;
	for (s = TAILQ_FIRST(&c->line); s != NULL; s = next) {
		next = TAILQ_NEXT(s, line);
		if (s->state != SEND_WAITING)
			continue;
		line_remove(s);
		op_fail(s->open_op, -EPIPE, "%s: send on a closed channel", elem_path(&c->e));
		s->open_op = NULL;
		s->released = 1;
		sender_put(s);
	}
	pump(c);
}

static void
chan_verb(struct element *e, const char *verb, const char *arg, struct op *op)
{
	if (strcmp(verb, "close") != 0) {
		op_fail(op, -EINVAL, "%s: %s: unknown verb for a channel (close, scrub)",
		    elem_path(e), verb);
		return;
	}
	if (arg != NULL && *arg != '\0') {
		op_fail(op, -EINVAL, "%s: close takes no argument", elem_path(e));
		return;
	}
	chan_close(chan_of(e));
	op_done(op, 0);
}

static void
chan_snap(struct element *e, const char *file, struct op *op)
{
	struct chan *c = chan_of(e);
	json_t *j;
	char *text, *line;
	size_t n;

	if (strcmp(file, "peek") != 0) {
		op_fail(op, -ENOENT, "%s: no file %s here", elem_path(e), file);
		return;
	}
	j = json_pack("{s:i, s:b, s:b, s:I, s:I}", "Cap", c->cap,
	    "Closed", c->state != CHAN_OPEN, "Aborted", c->state == CHAN_ABORTED,
	    "NumSend", (json_int_t)c->nsend, "NumRecv", (json_int_t)c->nrecv);
	text = j != NULL ? json_dumps(j, JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (text == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	n = strlen(text);
	line = realloc(text, n + 2);
	if (line == NULL) {
		free(text);
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	op_done_data(op, line, n + 1);
}

static void
chan_open(struct element *e, const char *file, int mode, struct op *op)
{
	struct chan *c = chan_of(e);

	if (strcmp(file, "send") == 0) {
		if (mode != OP_WRONLY)
			op_fail(op, -EACCES, "%s: send is write-only", elem_path(e));
		else
			open_send(c, op);
	} else if (strcmp(file, "recv") == 0) {
		if (mode != OP_RDONLY)
			op_fail(op, -EACCES, "%s: recv is read-only", elem_path(e));
		else
			open_recv(c, op);
	} else {
		op_fail(op, -ENOENT, "%s: %s is not a stream", elem_path(e), file);
	}
}

static void
chan_scrub(struct element *e)
{
	struct chan *c = chan_of(e);
	struct sender *s, *next;
	struct receiver *r;
	struct msg *m;

	c->state = CHAN_ABORTED;
	fail_all(&c->recv_opens, -EPIPE, "channel scrubbed");
	while ((m = TAILQ_FIRST(&c->ready)) != NULL) {
		TAILQ_REMOVE(&c->ready, m, link);
		msg_free(m);
	}
	c->nslots = 0;
	for (s = TAILQ_FIRST(&c->senders); s != NULL; s = next) {
		next = TAILQ_NEXT(s, all);
		line_remove(s);
		if (s->state == SEND_WAITING) {
			op_fail(s->open_op, -EPIPE, "channel scrubbed");
			s->open_op = NULL;
			s->released = 1;
		}
		s->state = SEND_BROKEN;
		fail_all(&s->writes, -EPIPE, "channel scrubbed");
		notify_sender(s);
		sender_put(s);
	}
	TAILQ_FOREACH(r, &c->receivers, all) {
		r->state = RECV_BROKEN;
		fail_all(&r->reads, -EPIPE, "channel scrubbed");
		notify_receiver(r);
	}
}

static void
chan_destroy(struct element *e)
{
	struct chan *c = chan_of(e);
	struct sender *s;
	struct msg *m;

	/* Scrub normally left nothing; free what a shutdown without scrub might leave. */
	while ((m = TAILQ_FIRST(&c->ready)) != NULL) {
		TAILQ_REMOVE(&c->ready, m, link);
		msg_free(m);
	}
	while ((s = TAILQ_FIRST(&c->senders)) != NULL) {
		TAILQ_REMOVE(&c->senders, s, all);
		msg_free(s->msg);
		free(s);
	}
	free(c);
}

static const char *const chan_files[] = { "send", "recv", "peek", NULL };

static const char chan_help[] =
"A channel: like a Go channel whose messages are byte streams (made by `mkchan N`,\n"
"N = buffer capacity 0..65536).\n"
"\n"
"Files:\n"
"  send   write-only.  One open-write-close is one message.  The open waits until a\n"
"         receiver is waiting (the message then streams to it, any size) or a buffer\n"
"         slot is free (the message is then kept here, at most 32 KiB: more fails\n"
"         with EFBIG).  On a closed channel the open fails with EPIPE.\n"
"  recv   read-only.  Each open takes exactly one message, oldest first; read it to\n"
"         EOF.  The open waits for a message; on a closed, drained channel it fails\n"
"         with EPIPE.  Closing without reading a byte gives the message back.\n"
"  peek   {\"Cap\", \"Closed\", \"Aborted\", \"NumSend\", \"NumRecv\"}\n"
"\n"
"Verbs (write to ctl):\n"
"  close  no more sends; what is buffered or being sent still drains\n"
"  scrub  abort: every waiting and open send/recv fails with EPIPE\n"
"\n"
"Examples:\n"
"  echo mkchan 3 > ctl\n"
"  echo hello > send          # buffered: returns at once\n"
"  cat recv                   # prints hello\n"
"  cat recv > out &  cat big.iso > send   # streams through, no size limit\n"
"  echo close > ctl; cat recv # cat: recv: Broken pipe\n"
"  cat peek\n";

const struct elem_kind chan_kind = {
	.name = "channel",
	.make_verb = "mkchan",
	.files = chan_files,
	.help = chan_help,
	.make = chan_make,
	.verb = chan_verb,
	.snap = chan_snap,
	.open = chan_open,
	.scrub = chan_scrub,
	.destroy = chan_destroy,
};
