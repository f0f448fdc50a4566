/* chan.c - the channel element: Go channel semantics over byte-stream messages.
 *
 * Three kinds of waiting make up a channel's state:
 *  - the ready queue: buffered messages committed by their sender's release, oldest
 *    first; each holds one of the cap slots, as do the messages still being written;
 *  - the line: senders waiting for a slot or a receiver, in arrival order; most are
 *    parked opens, a few are "bounced" rendezvous senders whose receiver left
 *    without reading a byte and who must go to the next receiver first;
 *  - parked receiver opens, in arrival order.
 * chan_pump() is the one place that matches them, so every change ends with a call
 * to it.  The streams themselves (buffered and rendezvous data) are in chan_stream.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elements/anchor.h"
#include "elements/chan_int.h"

/* ---- small helpers ---- */

static struct chan *
chan_of(struct element *e)
{
	return (struct chan *)e;
}

/* Free a sender once nothing refers to it: no stream, no receiver, not in line. */
void
chan_sender_put(struct sender *s)
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
	s->stream = stream_new(&s->c->e, &chan_send_ops, s);
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
	r->stream = stream_new(&c->e, &chan_recv_ops, r);
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
		chan_sender_put(s);
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
		chan_sender_put(s);
		return;
	}
	m->state = MSG_FILLING;
	s->msg = m;
	s->state = SEND_BUFFERED;
	c->nslots++;
	if (finish_send_open(s) < 0) {
		c->nslots--;
		s->released = 1;
		chan_sender_put(s);
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

static struct sender *
first_bounced(struct chan *c)
{
	struct sender *s;

	TAILQ_FOREACH(s, &c->line, line)
		if (s->state == SEND_BOUNCED)
			return s;
	return NULL;
}

/* Match everything that can be matched; then, on a closed and drained channel, tell
 * the receivers still waiting that nothing more will come. */
void
chan_pump(struct chan *c)
{
	struct sender *s;
	struct op *op;

	if (c->state == CHAN_ABORTED)
		return;
	/* A bounced sender was matched before anything now queued was committed (its
	 * receiver had been waiting), so it goes first: that keeps per-sender order. */
	while ((op = TAILQ_FIRST(&c->recv_opens)) != NULL && (s = first_bounced(c)) != NULL) {
		TAILQ_REMOVE(&c->recv_opens, op, link);
		pair(c, s, op);
	}
	/* Then buffered messages, as in Go; each one taken frees a slot. */
	while ((op = TAILQ_FIRST(&c->recv_opens)) != NULL && !TAILQ_EMPTY(&c->ready)) {
		TAILQ_REMOVE(&c->recv_opens, op, link);
		take_buffered(c, op);
	}
	while (c->nslots < c->cap && c->state == CHAN_OPEN && (s = first_waiting(c)) != NULL)
		grant_slot(c, s);
	/* With the buffer empty (always, with cap 0) a waiting sender meets a receiver. */
	while ((op = TAILQ_FIRST(&c->recv_opens)) != NULL && TAILQ_EMPTY(&c->ready) &&
	    c->nslots == 0 && (s = first_waiting(c)) != NULL) {
		TAILQ_REMOVE(&c->recv_opens, op, link);
		pair(c, s, op);
	}
	if (c->state == CHAN_CLOSED && TAILQ_EMPTY(&c->ready) && c->nslots == 0 &&
	    TAILQ_EMPTY(&c->line))
		fail_all(c, &c->recv_opens, -EPIPE, "channel closed");
}

/* ---- opens ---- */

static void
cancel_send_open(struct op *op)
{
	struct sender *s = op->owner;

	/* A parked send open holds nothing but its place in line. */
	line_remove(s);
	s->open_op = NULL;
	s->released = 1;
	chan_sender_put(s);
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
	 * are ahead in line; otherwise chan_pump() finds a free slot or leaves it waiting. */
	ro = TAILQ_FIRST(&c->recv_opens);
	if (ro != NULL && TAILQ_FIRST(&c->line) == s) {
		TAILQ_REMOVE(&c->recv_opens, ro, link);
		pair(c, s, ro);
	}
	chan_pump(c);
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
	chan_pump(c);
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
		chan_sender_put(s);
	}
	chan_pump(c);
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

	if (strcmp(file, "peek") != 0) {
		op_fail(op, -ENOENT, "%s: no file %s here", elem_path(e), file);
		return;
	}
	j = json_pack("{s:i, s:b, s:b, s:I, s:I, s:I}", "Cap", c->cap,
	    "Closed", c->state != CHAN_OPEN, "Aborted", c->state == CHAN_ABORTED,
	    "NumSend", (json_int_t)c->nsend, "NumRecv", (json_int_t)c->nrecv,
	    "NumAborted", (json_int_t)c->naborted);
	op_done_json(op, j, JSON_PRESERVE_ORDER);
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
	fail_all(c, &c->recv_opens, -EPIPE, "channel scrubbed");
	while ((m = TAILQ_FIRST(&c->ready)) != NULL) {
		TAILQ_REMOVE(&c->ready, m, link);
		msg_free(m);
	}
	c->nslots = 0;
	for (s = TAILQ_FIRST(&c->senders); s != NULL; s = next) {
		next = TAILQ_NEXT(s, all);
		line_remove(s);
		if (s->state == SEND_WAITING) {
			op_fail(s->open_op, -EPIPE, "%s: channel scrubbed", elem_path(&c->e));
			s->open_op = NULL;
			s->released = 1;
		}
		s->state = SEND_BROKEN;
		fail_all(c, &s->writes, -EPIPE, "channel scrubbed");
		notify_sender(s);
		chan_sender_put(s);
	}
	TAILQ_FOREACH(r, &c->receivers, all) {
		r->state = RECV_BROKEN;
		fail_all(c, &r->reads, -EPIPE, "channel scrubbed");
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

static const struct op_file chan_files[] = {
	{ "send", OPF_WRITE | OPF_STREAM },
	{ "recv", OPF_READ | OPF_STREAM },
	{ "peek", OPF_READ },
	{ NULL, 0 },
};

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
"         A message whose sender vanished mid-way (its server or its connection\n"
"         lost, a `circuit send` killed) ends in ECONNABORTED, never in EOF, and\n"
"         counts in NumAborted.  A writer process on this host killed by a signal\n"
"         cannot be told from one that closed (the kernel closes its files the\n"
"         same way): what it wrote is a whole message.\n"
"  peek   {\"Cap\", \"Closed\", \"Aborted\" (scrubbed), \"NumSend\", \"NumRecv\",\n"
"         \"NumAborted\"}\n"
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
