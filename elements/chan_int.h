/* chan_int.h - the channel's private state, shared by chan.c (matching senders with
 * receivers, the kind) and chan_stream.c (the send and recv streams).
 */
#ifndef CIRCUIT_CHAN_INT_H
#define CIRCUIT_CHAN_INT_H

#include <stdint.h>
#include <stdlib.h>

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
	int aborted;			/* ...or cut short: its writer vanished (BROKEN) */
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
	uint64_t nsend, nrecv, naborted;
	struct msg_queue ready;
	struct sender_list line;
	struct op_queue recv_opens;
	struct sender_list senders;	/* every sender, for scrub */
	struct receiver_list receivers;	/* every receiver, for scrub */
};

static inline void
notify_sender(struct sender *s)
{
	if (s != NULL && s->stream != NULL)
		stream_notify(s->stream);
}

static inline void
notify_receiver(struct receiver *r)
{
	if (r != NULL && r->stream != NULL)
		stream_notify(r->stream);
}

static inline void
msg_free(struct msg *m)
{
	if (m != NULL)
		free(m->buf);
	free(m);
}

/* Fail every op of q with err: the queue's owner, a part of channel c, is going away
 * or broke.  The message names the channel, as every element error does. */
static inline void
fail_all(struct chan *c, struct op_queue *q, int err, const char *why)
{
	struct op *op;

	while ((op = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, op, link);
		op_fail(op, err, "%s: %s", elem_path(&c->e), why);
	}
}

/* chan.c */

/* Match waiting receivers with messages and senders; call after every change. */
void chan_pump(struct chan *c);

/* Free sender s once nothing refers to it (no stream, no receiver, not in line). */
void chan_sender_put(struct sender *s);

/* chan_stream.c */

/* Stream operations of an open send and an open recv. */
extern const struct stream_ops chan_send_ops, chan_recv_ops;

#endif
