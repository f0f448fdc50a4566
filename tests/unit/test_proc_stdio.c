/* test_proc_stdio.c - a process element's stdin, stdout and stderr as streams: real
 * children on a real uv loop, through the op layer.  Writes and reads in order, back
 * pressure both ways, shared readers, cancelled waits, and what is left after a scrub.
 * Reads at offsets (tail) are in test_proc_tail.c.
 *
 * Each test runs in its own process (Criterion forks), so each gets a fresh server on
 * a fresh loop (tests/unit/proc_fixture.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "tests/unit/proc_fixture.h"

TestSuite(proc_stdio, .init = setup, .timeout = 60);

Test(proc_stdio, stdin_cat_round_trip)
{
	struct stream *in, *out;
	struct res r;
	char *data, *w;
	size_t n;
	int rc;

	mkproc("c", "{\"Path\":\"/bin/cat\"}");
	in = must_open("c", "stdin", OP_WRONLY);
	out = must_open("c", "stdout", OP_RDONLY);
	cr_assert_eq(in->ops->poll(in), POLLOUT);
	cr_assert_eq(out->ops->poll(out), 0);
	cr_assert_eq(write_(in, "ping\n"), 5);
	/* Output comes as it is produced: no need to close stdin. */
	finish(start_read(out, 4096, &r), &r);
	cr_assert_eq(r.rc, 5);
	cr_assert(memcmp(r.data, "ping\n", 5) == 0);
	free(r.data);
	cr_assert_eq(write_(in, "pong\n"), 5);
	run_for(100);
	cr_assert_eq(out->ops->poll(out), POLLIN);
	cr_assert_gt(notified, 0);
	/* Closing the last stdin stream is EOF for cat, which then exits. */
	release(in);
	data = read_all(out, &n);
	cr_assert_str_eq(data, "pong\n");
	free(data);
	cr_assert_eq(out->ops->poll(out), POLLIN, "EOF is readable");
	w = snap("c", "wait", &rc);
	cr_assert(strstr(w, "\"Exit\": \"exit status 0\"") != NULL, "%s", w);
	free(w);
	/* After exit, stdin refuses writes. */
	in = must_open("c", "stdin", OP_WRONLY);
	cr_assert_eq(in->ops->poll(in), POLLOUT | POLLERR);
	cr_assert_eq(write_(in, "late\n"), -EPIPE);
	release(in);
	release(out);
	cr_assert_eq(ctl("c", "scrub").rc, 0);
	settle();
}

Test(proc_stdio, back_pressure)
{
	struct element *e;
	struct stream *s;
	char *data, *w, *expect;
	size_t n, elen = 0, ecap = 1 << 24;
	int rc;

	/* seq 1 1500000 writes about 10.9 MB. */
	mkproc("b", "{\"Path\":\"/usr/bin/seq\",\"Args\":[\"1\",\"1500000\"]}");
	e = elem_at("b");
	cr_assert_not_null(e);
	run_for(1000);
	cr_assert_leq(proc_buffered(e, 1), PROC_OUT_CAP);
	cr_assert_geq(proc_buffered(e, 1), PROC_OUT_CAP / 2, "output was not read at all");
	w = snap("b", "peek", &rc);
	cr_assert(strstr(w, "\"Phase\": \"running\"") != NULL, "seq must block writing: %s", w);
	free(w);
	s = must_open("b", "stdout", OP_RDONLY);
	data = read_all(s, &n);
	expect = malloc(ecap);
	for (int i = 1; i <= 1500000; i++)
		elen += (size_t)sprintf(expect + elen, "%d\n", i);
	cr_assert_eq(n, elen);
	cr_assert(memcmp(data, expect, n) == 0, "bytes out of order");
	free(data);
	free(expect);
	w = snap("b", "wait", &rc);
	cr_assert(strstr(w, "\"Exit\": \"exit status 0\"") != NULL, "%s", w);
	free(w);
	release(s);
	cr_assert_eq(ctl("b", "scrub").rc, 0);
	settle();
}

Test(proc_stdio, shared_readers_fifo)
{
	struct stream *a, *b, *in;
	struct res ra, rb;

	mkproc("r", "{\"Path\":\"/bin/cat\"}");
	a = must_open("r", "stdout", OP_RDONLY);
	b = must_open("r", "stdout", OP_RDONLY);
	in = must_open("r", "stdin", OP_WRONLY);
	op_start(start_read(a, 100, &ra));
	op_start(start_read(b, 100, &rb));
	run_for(50);
	cr_assert(!ra.done && !rb.done, "reads park while there is no output");
	cr_assert_eq(write_(in, "one\n"), 4);
	cr_assert(run_until(&ra.done, 5000));
	cr_assert_eq(ra.rc, 4, "the first parked read gets the data");
	cr_assert(!rb.done);
	cr_assert_eq(write_(in, "two\n"), 4);
	cr_assert(run_until(&rb.done, 5000));
	cr_assert_eq(rb.rc, 4);
	cr_assert(memcmp(rb.data, "two\n", 4) == 0);
	free(ra.data);
	free(rb.data);
	release(in);
	release(a);
	release(b);
	cr_assert_eq(ctl("r", "scrub").rc, 0);
	settle();
}

Test(proc_stdio, cancel_parked)
{
	struct stream *s;
	struct op *rd, *wt;
	struct res rr, rw;
	char *w;
	int rc;

	mkproc("k", "{\"Path\":\"/bin/sleep\",\"Args\":[\"100\"]}");
	s = must_open("k", "stdout", OP_RDONLY);
	rd = start_read(s, 100, &rr);
	op_start(rd);
	wt = start(OP_SNAP, "k", &rw);
	wt->file = strdup("wait");
	op_start(wt);
	run_for(50);
	cr_assert(!rr.done && !rw.done);
	op_cancel(rd, -EINTR);
	op_cancel(wt, -EINTR);
	cr_assert(run_until(&rr.done, 1000));
	cr_assert(run_until(&rw.done, 1000));
	cr_assert_eq(rr.rc, -EINTR);
	cr_assert_eq(rw.rc, -EINTR);
	w = snap("k", "peek", &rc);
	cr_assert(strstr(w, "\"Phase\": \"running\"") != NULL, "%s", w);
	free(w);
	/* Still consistent: a new wait works, and the process can be signalled. */
	wt = start(OP_SNAP, "k", &rw);
	wt->file = strdup("wait");
	op_start(wt);
	cr_assert_eq(ctl("k", "signal KILL").rc, 0);
	cr_assert(run_until(&rw.done, 5000));
	cr_assert(strstr(rw.data, "\"Signal\": \"KILL\", \"Exit\": \"signal: killed\"") != NULL);
	free(rw.data);
	release(s);
	cr_assert_eq(ctl("k", "scrub").rc, 0);
	settle();
}

Test(proc_stdio, scrubbed_streams_drain)
{
	struct stream *in, *out;
	char *data;
	size_t n;

	mkproc("d", "{\"Path\":\"/bin/cat\"}");
	in = must_open("d", "stdin", OP_WRONLY);
	out = must_open("d", "stdout", OP_RDONLY);
	cr_assert_eq(write_(in, "buffered\n"), 9);
	run_for(100);
	cr_assert_eq(proc_buffered(elem_at("d"), 1), 9);
	cr_assert_eq(ctl("d", "scrub").rc, 0);
	cr_assert_eq(write_(in, "more\n"), -EPIPE);
	data = read_all(out, &n);
	cr_assert_str_eq(data, "buffered\n");
	free(data);
	release(in);
	release(out);
	settle();
}

Test(proc_stdio, stdin_back_pressure_and_cancel)
{
	struct stream *in, *out;
	struct op *op;
	struct res r, r2;
	size_t big = 4 << 20, n;
	char *pat, *got;
	int taken;

	/* cat does not read stdin while its stdout is full: the write blocks. */
	mkproc("i", "{\"Path\":\"/bin/cat\"}");
	in = must_open("i", "stdin", OP_WRONLY);
	pat = malloc(big);
	for (size_t i = 0; i < big; i++)
		pat[i] = (char)(i % 251);
	op = start(OP_WRITE, NULL, &r);
	op->stream = in;
	op->data = malloc(big);
	memcpy(op->data, pat, big);
	op->len = big;
	op_start(op);
	run_for(300);
	cr_assert(!r.done, "a write the child does not read waits");
	cr_assert_eq(in->ops->poll(in), 0, "stdin is not writable while a write waits");
	/* Interrupted: it answers the bytes the pipe took, which the child gets once. */
	op_cancel(op, -EINTR);
	cr_assert(run_until(&r.done, 1000));
	taken = r.rc;
	cr_assert(taken > 0 && (size_t)taken < big, "interrupted write answered %d", taken);
	op = start(OP_WRITE, NULL, &r2);
	op->stream = in;
	op->data = strdup("END\n");
	op->len = 4;
	op_start(op);
	release(in);
	cr_assert(run_until(&r2.done, 1000));
	cr_assert_eq(r2.rc, 4);
	out = must_open("i", "stdout", OP_RDONLY);
	got = read_all(out, &n);
	release(out);
	cr_assert_eq(n, (size_t)taken + 4, "the child got %zu bytes, %d + 4 were taken", n, taken);
	cr_assert(memcmp(got, pat, (size_t)taken) == 0, "the bytes taken, in order, once");
	cr_assert(memcmp(got + taken, "END\n", 4) == 0);
	free(got);
	free(pat);

	/* A write the pipe took nothing of is interrupted with EINTR. */
	mkproc("j", "{\"Path\":\"/bin/sleep\",\"Args\":[\"100\"]}");
	in = must_open("j", "stdin", OP_WRONLY);
	op = start(OP_WRITE, NULL, &r);
	op->stream = in;
	op->data = calloc(1, big);
	op->len = big;
	op_start(op);
	run_for(100);
	op = start(OP_WRITE, NULL, &r2);
	op->stream = in;
	op->data = strdup("x");
	op->len = 1;
	op_start(op);
	run_for(100);
	cr_assert(!r2.done, "queued behind the first");
	op_cancel(op, -EINTR);
	cr_assert(run_until(&r2.done, 1000));
	cr_assert_eq(r2.rc, -EINTR);
	release(in);
	cr_assert(run_until(&r.done, 1000));
	cr_assert_eq(ctl("i", "scrub").rc, 0);
	cr_assert_eq(ctl("j", "scrub").rc, 0);
	settle();
}

Test(proc_stdio, child_closed_stdin)
{
	struct stream *in;
	struct op *op;
	struct res r;
	size_t big = 1 << 20;

	mkproc("j", "{\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"exec 0<&-; sleep 100\"]}");
	in = must_open("j", "stdin", OP_WRONLY);
	run_for(100);
	op = start(OP_WRITE, NULL, &r);
	op->stream = in;
	op->data = calloc(1, big);
	op->len = big;
	op_start(op);
	cr_assert(run_until(&r.done, 5000));
	cr_assert_eq(r.rc, -EPIPE, "%d %s", r.rc, r.msg);
	release(in);
	cr_assert_eq(ctl("j", "scrub").rc, 0);
	settle();
}
