/* test_chan_stress.c - many senders and receivers on one channel and one loop: every
 * message is received once, whole, and (without put-backs) in each sender's order,
 * buffered and unbuffered, with and without receivers that put messages back unread.
 *
 * Every test runs in its own process (Criterion forks), so each gets a fresh server
 * (tests/unit/chan_fixture.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/chan_fixture.h"

TestSuite(chan_stress, .init = setup, .timeout = 60);

#define NSEND 8
#define NMSG 200
#define NRECV 4

struct agent {
	int id;
	int seq;			/* sender: next message number */
	struct stream *st;
	char buf[64];
	size_t n;
};

static struct agent senders[NSEND], receivers[NRECV];
static int got[NSEND][NMSG];
static int last_take[NSEND];		/* per-sender order, by take order */
static int total, nepipe, take_seq, drop_every, ordered;

static void sender_step(struct op *op);
static void receiver_step(struct op *op);

/* Open the channel's file ("send" or "recv") for agent a; step gets the completion. */
static void
agent_open(struct agent *a, const char *file, op_cb step)
{
	struct op *op = op_new(OP_OPEN, step, a);

	op->path = strdup(base);
	op->file = strdup(file);
	op->mode = strcmp(file, "send") == 0 ? OP_WRONLY : OP_RDONLY;
	op_start(op);
}

static void
sender_write(struct agent *a, const char *text)
{
	struct op *w = op_new(OP_WRITE, sender_step, a);

	w->stream = a->st;
	w->data = strdup(text);
	w->len = strlen(text);
	op_start(w);
}

static void
sender_step(struct op *op)
{
	struct agent *a = op->arg;

	cr_assert_geq(op->rc, 0, "sender %d: %s rc %d", a->id, op_type_name(op->type), op->rc);
	if (op->type == OP_OPEN) {
		a->st = op->stream;
		/* Two writes per message, so rendezvous messages arrive in pieces. */
		a->n = (size_t)snprintf(a->buf, sizeof a->buf, "%d %d ", a->id, a->seq);
		sender_write(a, a->buf);
		return;
	}
	if (op->len == a->n) {		/* first write done: the end marker */
		a->n = 0;
		sender_write(a, ".");
		return;
	}
	release(a->st);
	if (++a->seq < NMSG)
		agent_open(a, "send", sender_step);
}

static void
receiver_read(struct agent *a)
{
	struct op *r = op_new(OP_READ, receiver_step, a);

	r->stream = a->st;
	r->max = 3;
	op_start(r);
}

static void
receiver_step(struct op *op)
{
	struct agent *a = op->arg;
	int sid, seq;

	if (op->type == OP_OPEN) {
		if (op->rc == -EPIPE) {
			nepipe++;
			return;
		}
		cr_assert_eq(op->rc, 0);
		a->st = op->stream;
		a->n = 0;
		a->seq = take_seq++;
		if (drop_every > 0 && rand() % drop_every == 0) {
			release(a->st);	/* put back, unread */
			agent_open(a, "recv", receiver_step);
			return;
		}
		receiver_read(a);
		return;
	}
	cr_assert_geq(op->rc, 0);
	if (op->len > 0) {
		cr_assert_lt(a->n + op->len, sizeof a->buf);
		memcpy(a->buf + a->n, op->data, op->len);
		a->n += op->len;
		a->buf[a->n] = '\0';
		receiver_read(a);
		return;
	}
	release(a->st);
	cr_assert_eq(sscanf(a->buf, "%d %d .", &sid, &seq), 2, "bad message '%s'", a->buf);
	cr_assert(sid >= 0 && sid < NSEND && seq >= 0 && seq < NMSG);
	cr_assert_eq(got[sid][seq], 0, "message %d/%d received twice", sid, seq);
	cr_assert_eq(a->buf[a->n - 1], '.', "message %d/%d cut short", sid, seq);
	got[sid][seq] = 1;
	if (ordered) {
		cr_assert_gt(a->seq, last_take[sid], "sender %d: message %d taken out of order",
		    sid, seq);
		last_take[sid] = a->seq;
	}
	if (++total == NSEND * NMSG)
		cr_assert_eq(ctl("close"), 0);
	agent_open(a, "recv", receiver_step);
}

static void
stress(int cap, int drop)
{
	long spins = 0;

	mkchan(cap);
	drop_every = drop;
	ordered = drop == 0;
	srand(1);
	for (int i = 0; i < NSEND; i++)
		last_take[i] = -1;
	for (int i = 0; i < NRECV; i++) {
		receivers[i].id = i;
		agent_open(&receivers[i], "recv", receiver_step);
	}
	for (int i = 0; i < NSEND; i++) {
		senders[i].id = i;
		agent_open(&senders[i], "send", sender_step);
	}
	while (nepipe < NRECV && spins++ < 5000000)
		uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_eq(total, NSEND * NMSG, "received %d of %d", total, NSEND * NMSG);
	cr_assert_eq(nepipe, NRECV);
	for (int s = 0; s < NSEND; s++)
		for (int m = 0; m < NMSG; m++)
			cr_assert(got[s][m]);
	assert_counts(NSEND * NMSG, NSEND * NMSG);
}

Test(chan_stress, stress_buffered)
{
	stress(3, 0);
}

Test(chan_stress, stress_unbuffered)
{
	stress(0, 0);
}

Test(chan_stress, stress_with_put_backs)
{
	stress(2, 5);
}

Test(chan_stress, stress_unbuffered_with_put_backs)
{
	stress(0, 4);
}
