/* test_op.c - the operation layer alone: its checks before dispatch and its done hook. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "elements/element.h"
#include "elements/op.h"
#include "elements/server.h"

static uv_loop_t loop;
static int hooked, called, remote_ran, read_ran;

static void hook(struct op *op) { hooked++; }
static void remote_fail(struct op *op) { remote_ran++; op_fail(op, -EIO, "remote says no"); }
static void any_read(struct stream *s, struct op *op) { read_ran++; op_done_copy(op, "x", 1); }

static const struct stream_ops write_only = { .read = NULL };
static const struct stream_ops readable = { .read = any_read };

/* A stream with nothing to read: its reads park until cancelled. */
static int unparked;
static void unpark(struct op *op) { unparked++; }
static void parking_read(struct stream *s, struct op *op) { op_park(op, unpark, s); }
static const struct stream_ops empty = { .read = parking_read };

static void
setup(void)
{
	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_eq(op_init(&loop), 0);
	strcpy(g_server.id, "X0000000000000001");
	op_set_done_hook(hook);
	op_set_remote(remote_fail);
	hooked = called = remote_ran = read_ran = unparked = 0;
}

static void
teardown(void)
{
	op_drain();
	op_set_done_hook(NULL);
	op_set_remote(NULL);
}

/* Keep the op's result: a callback that copies rc. */
static int result;
static void keep(struct op *op) { called++; result = op->rc; }

static int
start_and_wait(enum op_type t, const char *path, struct stream *s, size_t max)
{
	struct op *op = op_new(t, keep, NULL);

	cr_assert_not_null(op);
	op->path = path != NULL ? strdup(path) : NULL;
	op->stream = s;
	op->max = max;
	result = 1;
	op_start(op);
	op_drain();
	return result;
}

TestSuite(op, .init = setup, .fini = teardown);

Test(op, a_forwarded_op_does_not_reach_the_local_hook)
{
	cr_expect_eq(start_and_wait(OP_RMDIR, "/X0000000000000002/a", NULL, 0), -EIO);
	cr_expect_eq(remote_ran, 1);
	cr_expect_eq(hooked, 0, "the remote backend's completion is not local bookkeeping");
}

Test(op, a_stream_read_against_its_mode_is_ebadf_and_never_dispatched)
{
	struct stream local = { .ops = &readable, .mode = OP_WRONLY };
	struct stream remote = { .ops = &readable, .mode = OP_WRONLY };
	struct stream no_read = { .ops = &write_only, .mode = OP_RDONLY };
	struct element e;

	local.elem = &e;	/* a local stream: its failure is the element's */
	cr_expect_eq(start_and_wait(OP_READ, NULL, &local, 10), -EBADF);
	cr_expect_eq(hooked, 1);
	cr_expect_eq(start_and_wait(OP_READ, NULL, &remote, 10), -EBADF);
	cr_expect_eq(hooked, 1, "a remote stream's refusal is not logged here");
	cr_expect_eq(start_and_wait(OP_READ, NULL, &no_read, 10), -EBADF);
	cr_expect_eq(start_and_wait(OP_WRITE, NULL, &no_read, 0), -EBADF);
	cr_expect_eq(start_and_wait(OP_READ, NULL, NULL, 10), -EBADF);
	remote.mode = OP_RDONLY;
	cr_expect_eq(start_and_wait(OP_READ, NULL, &remote, OP_READ_MAX + 1), -EINVAL);
	cr_expect_eq(read_ran, 0);
	cr_expect_eq(start_and_wait(OP_READ, NULL, &remote, 10), 1);
	cr_expect_eq(read_ran, 1);
	cr_expect_eq(called, 7);
}

Test(op, path_ops_without_path_or_file_are_refused)
{
	struct op *op = op_new(OP_OPEN, keep, NULL);

	op->path = strdup("/X0000000000000001");
	result = 1;
	op_start(op);
	op_drain();
	cr_expect_eq(result, -EINVAL, "an open names a file");
	cr_expect_eq(start_and_wait(OP_STAT, "nope", NULL, 0), -EINVAL);
	cr_expect_eq(remote_ran, 0);
}

/* An O_NONBLOCK read never waits: one that parked is taken back with EAGAIN. */
Test(op, a_nonblocking_read_that_would_wait_is_eagain)
{
	struct stream s = { .ops = &empty, .mode = OP_RDONLY };
	struct op *op = op_new(OP_READ, keep, NULL);

	op->stream = &s;
	op->max = 10;
	op->nonblock = 1;
	result = 1;
	op_start(op);
	op_drain();
	cr_expect_eq(result, -EAGAIN);
	cr_expect_eq(unparked, 1, "the owner let it go");

	op = op_new(OP_READ, keep, NULL);
	op->stream = &s;
	op->max = 10;
	result = 1;
	op_start(op);
	op_drain();
	cr_expect_eq(result, 1, "a blocking read waits");
	op_cancel(op, -EINTR);
	op_drain();
	cr_expect_eq(result, -EINTR);
	cr_expect_eq(unparked, 2);
}

/* State transitions are asserted, as lib9p asserts `responded`: parking an op that
 * never started, or freeing one that runs, stops the program at the fault. */
static void nothing(struct op *op) { (void)op; }

Test(op, parking_an_op_not_started_aborts, .signal = SIGABRT)
{
	struct op *op = op_new(OP_READ, keep, NULL);

	op_park(op, nothing, NULL);
}

Test(op, freeing_a_running_op_aborts, .signal = SIGABRT)
{
	struct stream s = { .ops = &empty, .mode = OP_RDONLY };
	struct op *op = op_new(OP_READ, keep, NULL);

	op->stream = &s;
	op->max = 1;
	op_start(op);
	op_free(op);
}

/* A cancel carries its errno: a parked op and a running one whose hook ends it at once
 * (a remote call that does not wait for its owner) both complete with the errno the
 * canceller gave, EINTR for an interrupt, EHOSTDOWN when the server is going. */
static void end_now(struct op *op) { unparked++; op_end_cancelled(op); }

Test(op, a_cancel_ends_the_op_with_the_cancellers_errno)
{
	struct stream s = { .ops = &empty, .mode = OP_RDONLY };
	struct op *op = op_new(OP_READ, keep, NULL);

	op->stream = &s;
	op->max = 10;
	result = 1;
	op_start(op);
	op_drain();
	cr_expect_eq(result, 1, "the read waits");
	op_cancel(op, -EHOSTDOWN);
	cr_expect_eq(result, 1, "no completion inside op_cancel");
	op_drain();
	cr_expect_eq(result, -EHOSTDOWN, "parked: rc %d", result);
	cr_expect_eq(unparked, 1);

	op = op_new(OP_STAT, keep, NULL);
	op->path = strdup("/X0123456789abcdef");
	op->state = OPS_RUNNING;	/* as the remote backend holds it */
	op->cancel = end_now;
	result = 1;
	op_cancel(op, -EHOSTDOWN);
	op_drain();
	cr_expect_eq(result, -EHOSTDOWN, "running, ended by its hook: rc %d", result);
	cr_expect_eq(unparked, 2);

	op = op_new(OP_STAT, keep, NULL);
	op->path = strdup("/X0123456789abcdef");
	op->state = OPS_RUNNING;
	op->cancel = end_now;
	result = 1;
	op_cancel(op, -EINTR);
	op_drain();
	cr_expect_eq(result, -EINTR, "an interrupt stays EINTR: rc %d", result);
}
