/* test_chan.c - the channel element driven through the operation layer on a real loop:
 * its verbs, buffered and rendezvous messages, close, cancel, scrub and readiness.
 * Many senders and receivers at once are in test_chan_stress.c.
 *
 * Every test runs in its own process (Criterion forks), so each gets a fresh server
 * (tests/unit/chan_fixture.h): each test makes its channel with a ctl command, starts
 * opens, reads and writes as the FUSE layer would, and runs the loop until the
 * completions have been delivered.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/chan_fixture.h"

TestSuite(chan, .init = setup, .timeout = 60);

Test(chan, parse_cap)
{
	int cap = -1;

	cr_assert_eq(chan_parse_cap("0", &cap), 0);
	cr_assert_eq(cap, 0);
	cr_assert_eq(chan_parse_cap("65536", &cap), 0);
	cr_assert_eq(cap, 65536);
	cr_assert_eq(chan_parse_cap("007", &cap), 0);
	cr_assert_eq(cap, 7);
	const char *bad[] = { "", "-1", "+1", "65537", "3x", " 3", "3 ", "0x10", "99999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(chan_parse_cap(bad[i], &cap), -EINVAL, "'%s' accepted", bad[i]);
	cr_assert_eq(chan_parse_cap(NULL, &cap), -EINVAL);
}

Test(chan, mkchan_verbs_and_peek)
{
	struct res r;
	struct op *op;

	cr_assert_eq(run_path_op(OP_MKDIR, NULL, NULL), 0);
	cr_assert_eq(ctl("mkchan"), -EINVAL);
	cr_assert_eq(ctl("mkchan -1"), -EINVAL);
	cr_assert_eq(ctl("mkchan 3x"), -EINVAL);
	cr_assert_eq(ctl("mkchan 65537"), -EINVAL);
	cr_assert_eq(ctl("mkchan 3\n"), 0);
	cr_assert_eq(ctl("mkchan 3"), -EEXIST);
	cr_assert_eq(ctl("frobnicate"), -EINVAL);
	cr_assert_eq(ctl("close now"), -EINVAL);

	op = mkop(&r, OP_SNAP);
	op->path = strdup(base);
	op->file = strdup("peek");
	op_start(op);
	settle();
	cr_assert_eq(r.rc, (int)r.len);
	const char want[] = "{\"Cap\": 3, \"Closed\": false, \"Aborted\": false, \"NumSend\": 0, \"NumRecv\": 0, \"NumAborted\": 0}\n";
	cr_assert_eq(r.len, strlen(want));
	cr_assert_arr_eq(r.data, want, r.len, "peek gave %.*s", (int)r.len, r.data);
	free(r.data);

	op = mkop(&r, OP_SNAP);
	op->path = strdup(base);
	op->file = strdup("help");
	op_start(op);
	settle();
	cr_assert(r.rc > 0 && strstr(r.data, "mkchan") != NULL);
	free(r.data);

	/* Wrong modes. */
	op = mkop(&r, OP_OPEN);
	op->path = strdup(base);
	op->file = strdup("send");
	op->mode = OP_RDONLY;
	op_start(op);
	settle();
	cr_assert_eq(r.rc, -EACCES);

	cr_assert_eq(ctl("close"), 0);
	cr_assert_eq(ctl("close"), 0);
	json_t *j = peek();
	cr_assert(json_is_true(json_object_get(j, "Closed")));
	json_decref(j);
}

Test(chan, buffered_in_order_and_counters)
{
	mkchan(3);
	send_msg("one");
	send_msg("two");
	send_msg("three");
	assert_counts(3, 0);
	char *m = recv_msg();
	cr_assert_str_eq(m, "one");
	free(m);
	m = recv_msg();
	cr_assert_str_eq(m, "two");
	free(m);
	assert_counts(3, 2);
	m = recv_msg();
	cr_assert_str_eq(m, "three");
	free(m);
	assert_counts(3, 3);
}

Test(chan, uncommitted_message_not_received)
{
	struct res s, w, r;

	mkchan(2);
	open_(&s, "send");
	settle();
	cr_assert_eq(s.rc, 0);
	write_(&w, s.stream, "abc", 3);
	open_(&r, "recv");
	settle();
	cr_assert_eq(w.rc, 3);
	cr_assert(!r.done, "receiver took a message still being written");
	release(s.stream);
	settle();
	cr_assert(r.done && r.rc == 0);
	char *m = read_all(r.stream, 2);
	cr_assert_str_eq(m, "abc");
	free(m);
	release(r.stream);
	settle();
	assert_counts(1, 1);
}

Test(chan, full_buffer_parks_senders_fifo)
{
	struct res b, c;

	mkchan(1);
	send_msg("A");
	open_(&b, "send");
	open_(&c, "send");
	settle();
	cr_assert(!b.done && !c.done, "senders should wait for a slot");
	char *m = recv_msg();		/* frees the slot: b gets it, c still waits */
	cr_assert_str_eq(m, "A");
	free(m);
	cr_assert(b.done && b.rc == 0);
	cr_assert(!c.done);
	struct res w;
	write_(&w, b.stream, "B", 1);
	settle();
	release(b.stream);
	settle();
	m = recv_msg();
	cr_assert_str_eq(m, "B");
	free(m);
	cr_assert(c.done && c.rc == 0);
	release(c.stream);		/* an empty message */
	settle();
	m = recv_msg();
	cr_assert_str_eq(m, "");
	free(m);
	assert_counts(3, 3);
}

Test(chan, rendezvous_cap0_sender_first)
{
	struct res s, r, w, rd;

	mkchan(0);
	open_(&s, "send");
	settle();
	cr_assert(!s.done, "cap 0: send open waits for a receiver");
	open_(&r, "recv");
	settle();
	cr_assert(s.done && s.rc == 0 && r.done && r.rc == 0);

	write_(&w, s.stream, "hello world", 11);
	settle();
	cr_assert(!w.done, "a rendezvous write waits for the reader");
	read_(&rd, r.stream, 5);
	settle();
	cr_assert(rd.done && rd.rc == 5 && memcmp(rd.data, "hello", 5) == 0);
	free(rd.data);
	cr_assert(!w.done);
	read_(&rd, r.stream, 100);
	settle();
	cr_assert(rd.done && rd.rc == 6 && memcmp(rd.data, " world", 6) == 0);
	free(rd.data);
	cr_assert(w.done && w.rc == 11);

	read_(&rd, r.stream, 100);
	settle();
	cr_assert(!rd.done, "read waits for the next write or EOF");
	write_(&w, s.stream, "!", 1);
	settle();
	cr_assert(rd.done && rd.rc == 1 && w.done && w.rc == 1);
	free(rd.data);
	read_(&rd, r.stream, 100);
	settle();
	cr_assert(!rd.done);
	release(s.stream);
	settle();
	cr_assert(rd.done && rd.rc == 0, "EOF after the sender's release");
	release(r.stream);
	settle();
	assert_counts(1, 1);
}

Test(chan, rendezvous_receiver_first_on_buffered_channel)
{
	struct res r, s, w;
	static char big[200000];

	mkchan(1);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	open_(&r, "recv");
	settle();
	cr_assert(!r.done);
	open_(&s, "send");
	settle();
	cr_assert(s.done && s.rc == 0 && r.done && r.rc == 0);
	/* Streaming: no 32 KiB limit. */
	write_(&w, s.stream, big, sizeof big);
	settle();
	cr_assert(!w.done);
	struct res rd;
	read_(&rd, r.stream, sizeof big);	/* whole write: handed over without a copy */
	settle();
	cr_assert(rd.done && rd.rc == (int)sizeof big && memcmp(rd.data, big, sizeof big) == 0);
	free(rd.data);
	cr_assert(w.done && w.rc == (int)sizeof big);
	write_(&w, s.stream, big, sizeof big);
	settle();
	release(s.stream);		/* a peer could release with the write pending */
	settle();
	cr_assert_eq(w.rc, -EPIPE);
	char *m = read_all(r.stream, 4096);
	cr_assert_str_eq(m, "");
	free(m);
	release(r.stream);
	settle();
	assert_counts(1, 1);
}

Test(chan, efbig_past_32k)
{
	struct res s, w;
	static char buf[CHAN_MSG_MAX + 1];

	memset(buf, 'x', sizeof buf);
	mkchan(1);
	/* Exactly 32 KiB in two writes is fine. */
	open_(&s, "send");
	settle();
	write_(&w, s.stream, buf, 20000);
	settle();
	cr_assert_eq(w.rc, 20000);
	write_(&w, s.stream, buf, CHAN_MSG_MAX - 20000);
	settle();
	cr_assert_eq(w.rc, CHAN_MSG_MAX - 20000);
	release(s.stream);
	settle();
	char *m = recv_msg();
	cr_assert_eq(strlen(m), CHAN_MSG_MAX);
	free(m);

	/* One byte more fails, and so does every later write; release frees the slot. */
	open_(&s, "send");
	settle();
	write_(&w, s.stream, buf, CHAN_MSG_MAX + 1);
	settle();
	cr_assert_eq(w.rc, -EFBIG);
	write_(&w, s.stream, buf, 1);
	settle();
	cr_assert_eq(w.rc, -EFBIG);
	struct res s2;
	open_(&s2, "send");
	settle();
	cr_assert(!s2.done, "the abandoned message still holds the slot");
	release(s.stream);
	settle();
	cr_assert(s2.done && s2.rc == 0);
	release(s2.stream);
	settle();
	assert_counts(2, 1);
	m = recv_msg();
	cr_assert_str_eq(m, "");
	free(m);
}

Test(chan, close_drains_then_epipe)
{
	struct res a, w, parked, r1, r2, late;

	mkchan(2);
	send_msg("m1");
	open_(&a, "send");		/* in progress: holds the second slot */
	open_(&parked, "send");		/* waits: buffer full */
	settle();
	cr_assert(a.done && !parked.done);
	cr_assert_eq(ctl("close"), 0);
	settle();
	cr_assert(parked.done && parked.rc == -EPIPE);
	open_(&late, "send");
	settle();
	cr_assert_eq(late.rc, -EPIPE);

	char *m = recv_msg();
	cr_assert_str_eq(m, "m1");
	free(m);
	open_(&r1, "recv");
	settle();
	cr_assert(!r1.done, "an in-progress message still drains");
	write_(&w, a.stream, "m2", 2);
	settle();
	release(a.stream);
	settle();
	cr_assert(r1.done && r1.rc == 0);
	m = read_all(r1.stream, 100);
	cr_assert_str_eq(m, "m2");
	free(m);
	open_(&r2, "recv");
	settle();
	cr_assert(r2.done && r2.rc == -EPIPE);
	release(r1.stream);
	settle();
	json_t *j = peek();
	cr_assert(json_is_true(json_object_get(j, "Closed")));
	json_decref(j);
	assert_counts(2, 2);
}

Test(chan, close_wakes_parked_receivers)
{
	struct res r;

	mkchan(0);
	open_(&r, "recv");
	settle();
	cr_assert(!r.done);
	cr_assert_eq(ctl("close"), 0);
	settle();
	cr_assert_eq(r.rc, -EPIPE);
}

Test(chan, release_without_reading_puts_back)
{
	struct res r1;

	mkchan(3);
	send_msg("first");
	send_msg("second");
	open_(&r1, "recv");
	settle();
	cr_assert_eq(r1.rc, 0);
	release(r1.stream);		/* e.g. Ctrl-C just as the open completed */
	settle();
	assert_counts(2, 0);
	char *m = recv_msg();
	cr_assert_str_eq(m, "first");
	free(m);
	m = recv_msg();
	cr_assert_str_eq(m, "second");
	free(m);
	assert_counts(2, 2);
}

Test(chan, rendezvous_release_without_reading_bounces_sender)
{
	struct res s, r1, r2, w, s2;

	mkchan(0);
	open_(&s, "send");
	open_(&r1, "recv");
	settle();
	cr_assert(s.rc == 0 && r1.rc == 0);
	write_(&w, s.stream, "payload", 7);
	settle();
	open_(&s2, "send");		/* behind s in line */
	settle();
	release(r1.stream);
	settle();
	cr_assert(!w.done, "the pending write stays pending for the next receiver");
	open_(&r2, "recv");
	settle();
	cr_assert(r2.done && r2.rc == 0);
	cr_assert(!s2.done, "the bounced sender is first in line");
	struct res rd;
	read_(&rd, r2.stream, 100);
	settle();
	cr_assert(rd.rc == 7 && memcmp(rd.data, "payload", 7) == 0);
	free(rd.data);
	cr_assert_eq(w.rc, 7);
	release(s.stream);
	settle();
	char *m = read_all(r2.stream, 100);
	cr_assert_str_eq(m, "");
	free(m);
	release(r2.stream);
	settle();
	assert_counts(1, 1);

	/* A sender that released before its receiver left: an empty message bounces too. */
	struct res r3, r4;
	open_(&r3, "recv");
	settle();
	cr_assert(s2.done && s2.rc == 0 && r3.rc == 0);
	release(s2.stream);
	settle();
	release(r3.stream);
	settle();
	open_(&r4, "recv");
	settle();
	cr_assert(r4.done && r4.rc == 0);
	m = read_all(r4.stream, 100);
	cr_assert_str_eq(m, "");
	free(m);
	release(r4.stream);
	settle();
	assert_counts(2, 2);
}

Test(chan, bounced_sender_goes_before_later_buffered_messages)
{
	struct res r1, s;

	mkchan(1);
	open_(&r1, "recv");
	open_(&s, "send");		/* a receiver waits: rendezvous */
	settle();
	cr_assert(r1.rc == 0 && s.rc == 0);
	release(s.stream);		/* an empty message */
	settle();
	release(r1.stream);		/* unread: the sender goes back to the line */
	settle();
	send_msg("later");		/* gets the free slot */
	char *m = recv_msg();
	cr_assert_str_eq(m, "", "the bounced message must come first");
	free(m);
	m = recv_msg();
	cr_assert_str_eq(m, "later");
	free(m);
	assert_counts(2, 2);
}

Test(chan, receiver_leaving_mid_message_breaks_sender)
{
	struct res s, r, w, rd;

	mkchan(0);
	open_(&r, "recv");
	open_(&s, "send");
	settle();
	write_(&w, s.stream, "0123456789", 10);
	read_(&rd, r.stream, 4);
	settle();
	cr_assert_eq(rd.rc, 4);
	free(rd.data);
	release(r.stream);
	settle();
	cr_assert_eq(w.rc, -EPIPE);
	write_(&w, s.stream, "x", 1);
	settle();
	cr_assert_eq(w.rc, -EPIPE);
	release(s.stream);
	settle();
	assert_counts(1, 1);
}

Test(chan, cancel_parked_opens_takes_nothing)
{
	struct res r, s, s2, r2;

	mkchan(0);
	open_(&r, "recv");
	settle();
	op_cancel(r.op, -EINTR);
	settle();
	cr_assert_eq(r.rc, -EINTR);
	open_(&s, "send");
	settle();
	cr_assert(!s.done, "a cancelled receiver must not take a sender");
	op_cancel(s.op, -EINTR);
	settle();
	cr_assert_eq(s.rc, -EINTR);
	open_(&r2, "recv");
	settle();
	cr_assert(!r2.done, "a cancelled sender must not be received");
	open_(&s2, "send");
	settle();
	cr_assert(s2.done && r2.done);
	release(s2.stream);
	char *m = read_all(r2.stream, 10);
	cr_assert_str_eq(m, "");
	free(m);
	release(r2.stream);
	settle();
	/* Cancelling a completed op changes nothing. */
	assert_counts(1, 1);
}

Test(chan, cancel_parked_read_and_write)
{
	struct res s, r, w, rd;

	mkchan(0);
	open_(&s, "send");
	open_(&r, "recv");
	settle();
	read_(&rd, r.stream, 100);
	settle();
	cr_assert(!rd.done);
	op_cancel(rd.op, -EINTR);
	settle();
	cr_assert_eq(rd.rc, -EINTR);
	write_(&w, s.stream, "abc", 3);
	settle();
	cr_assert(!w.done, "the cancelled read took nothing");
	op_cancel(w.op, -EINTR);
	settle();
	cr_assert_eq(w.rc, -EINTR);
	read_(&rd, r.stream, 100);
	settle();
	cr_assert(!rd.done, "the cancelled write gave nothing");
	write_(&w, s.stream, "xyz", 3);
	settle();
	cr_assert(rd.done && rd.rc == 3 && memcmp(rd.data, "xyz", 3) == 0);
	free(rd.data);
	release(s.stream);
	char *m = read_all(r.stream, 100);
	cr_assert_str_eq(m, "");
	free(m);
	release(r.stream);
	settle();
	assert_counts(1, 1);
}

Test(chan, cancel_partly_read_write_tears_message)
{
	struct res s, r, w, rd;

	mkchan(0);
	open_(&s, "send");
	open_(&r, "recv");
	settle();
	write_(&w, s.stream, "abcdef", 6);
	read_(&rd, r.stream, 2);
	settle();
	cr_assert_eq(rd.rc, 2);
	free(rd.data);
	op_cancel(w.op, -EINTR);
	settle();
	cr_assert_eq(w.rc, -EINTR);
	read_(&rd, r.stream, 100);
	settle();
	cr_assert_eq(rd.rc, -EPIPE, "the receiver learns the message is torn");
	write_(&w, s.stream, "g", 1);
	settle();
	cr_assert_eq(w.rc, -EPIPE);
	release(s.stream);
	release(r.stream);
	settle();
}

Test(chan, scrub_fails_everything)
{
	struct res ro, so, s, r, w, rd, b, bs;

	mkchan(1);
	open_(&b, "send");		/* buffered, in progress */
	settle();
	write_(&bs, b.stream, "buf", 3);
	open_(&r, "recv");		/* parked: nothing committed */
	settle();
	open_(&s, "send");		/* rendezvous with r */
	settle();
	cr_assert(s.rc == 0 && r.rc == 0);
	write_(&w, s.stream, "data", 4);
	open_(&so, "send");		/* parked: buffer full */
	open_(&ro, "recv");		/* parked: waits for the buffered message */
	settle();
	cr_assert(!w.done && !ro.done && !so.done);
	cr_assert_eq(ctl("scrub"), 0);
	settle();
	cr_assert_eq(w.rc, -EPIPE);
	cr_assert_eq(ro.rc, -EPIPE);
	cr_assert_eq(so.rc, -EPIPE);
	read_(&rd, r.stream, 10);
	settle();
	cr_assert_eq(rd.rc, -EPIPE);
	write_(&bs, b.stream, "more", 4);
	settle();
	cr_assert_eq(bs.rc, -EPIPE);
	cr_assert_eq(s.stream->ops->poll(s.stream) & POLLERR, POLLERR);
	struct anchor *a = anchor_lookup(g_server.root, base);
	cr_assert(a != NULL && a->elem == NULL);
	/* The streams keep the memory until their release. */
	release(s.stream);
	release(r.stream);
	release(b.stream);
	settle();
	open_(&ro, "recv");
	settle();
	cr_assert_eq(ro.rc, -ENOENT);
}

static int nnotify;

static void
count_notify(struct stream *s, void *arg)
{
	nnotify++;
}

Test(chan, poll_readiness)
{
	struct res s, r, w, rd;

	mkchan(0);
	open_(&s, "send");
	open_(&r, "recv");
	settle();
	r.stream->notify = count_notify;
	cr_assert_eq(r.stream->ops->poll(r.stream) & POLLIN, 0);
	cr_assert_eq(s.stream->ops->poll(s.stream) & POLLOUT, POLLOUT);
	write_(&w, s.stream, "z", 1);
	settle();
	cr_assert_gt(nnotify, 0, "the reader is told that bytes arrived");
	cr_assert_eq(r.stream->ops->poll(r.stream) & POLLIN, POLLIN);
	cr_assert_eq(s.stream->ops->poll(s.stream) & POLLOUT, 0);
	read_(&rd, r.stream, 10);
	settle();
	free(rd.data);
	cr_assert_eq(r.stream->ops->poll(r.stream) & POLLIN, 0);
	release(s.stream);
	settle();
	cr_assert_eq(r.stream->ops->poll(r.stream) & POLLIN, POLLIN, "EOF is readable");
	release(r.stream);
	settle();
}
