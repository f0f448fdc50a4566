/* test_review_log.c - the server element's log stream: a release while a read is
 * parked (a peer may release without waiting for its reads) fails that read once. */
#include <criterion/criterion.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "elements/log.h"
#include "elements/op.h"
#include "elements/server.h"

static uv_loop_t loop;
static struct stream *opened;
static int ncalled, last_rc;
static size_t last_len, last_size;

static void
cb(struct op *op)
{
	ncalled++;
	last_rc = op->rc;
	last_len = op->len;
	last_size = op->data != NULL ? malloc_usable_size(op->data) : 0;
	if (op->type == OP_OPEN) {
		opened = op->stream;
		op->stream = NULL;
	}
}

static void
read_max(size_t max)
{
	struct op *op = op_new(OP_READ, cb, NULL);

	cr_assert_not_null(op);
	op->stream = opened;
	op->max = max;
	op_start(op);
	op_drain();
}

static void
read_once(void)
{
	read_max(65536);
}

/* A server on a fresh loop. */
static void
start(void)
{
	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_eq(server_init(&loop, "127.0.0.1", 1), 0);
}

/* Open the server element's log for reading, into opened. */
static void
open_log(void)
{
	char path[64];
	struct op *op = op_new(OP_OPEN, cb, NULL);

	cr_assert_not_null(op);
	snprintf(path, sizeof path, "/%s", g_server.id);
	op->path = strdup(path);
	op->file = strdup("log");
	op->mode = OP_RDONLY;
	op_start(op);
	op_drain();
	cr_assert_eq(last_rc, 0);
	cr_assert_not_null(opened);
}

/* A server with its log open and read to the end: the history, then the one EOF. */
static void
caught_up_log(void)
{
	int n;

	start();
	open_log();
	for (n = 0; n < 100; n++) {
		read_once();
		cr_assert_geq(last_rc, 0);
		if (last_len == 0)
			break;
	}
	cr_assert_lt(n, 100);
}

Test(review_log, release_with_parked_read)
{
	int n;

	caught_up_log();

	/* The next read waits for new lines. */
	n = ncalled;
	read_once();
	cr_assert_eq(ncalled, n, "a caught-up read must park");

	/* Release with that read parked: it completes once, with an error. */
	opened->ops->release(opened);
	op_drain();
	cr_assert_eq(ncalled, n + 1);
	cr_assert_eq(last_rc, -EPIPE);
}

/* Two reads outstanding on one open (a remote opener reads ahead): both wait, and new
 * lines answer them in order; neither fails with EBUSY. */
Test(review_log, two_parked_reads)
{
	int n;

	caught_up_log();
	n = ncalled;
	read_once();
	read_once();
	cr_assert_eq(ncalled, n, "both reads must wait (rc %d)", last_rc);
	oplog_line("one");
	op_drain();
	cr_assert_eq(ncalled, n + 1);
	cr_assert_eq(last_rc, 4);
	oplog_line("two");
	op_drain();
	cr_assert_eq(ncalled, n + 2);
	cr_assert_eq(last_rc, 4);
	opened->ops->release(opened);
	op_drain();
}

/* A read's cost follows the bytes it returns, not the bytes it asks for: a 1 MiB read
 * of one new line holds one line's worth of memory (issue 8). */
Test(review_log, a_big_read_of_a_short_line_is_small)
{
	caught_up_log();
	oplog_line("one");
	read_max(OP_READ_MAX);
	cr_assert_eq(last_rc, 4);
	cr_assert_lt(last_size, 4096, "a 4-byte answer held %zu bytes", last_size);
	opened->ops->release(opened);
	op_drain();
}

/* The log's size is what a reader gets: after the ring dropped old lines too (it was
 * the absolute end, larger than anything readable), and it never shrinks under an
 * open reader (tail -f takes that for a truncation). */
Test(review_log, size_is_what_can_be_read)
{
	char line[1000];
	size_t got = 0, before;
	int n;

	start();
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	for (n = 0; n < 3000; n++)	/* 3 MB through a 1 MiB ring */
		oplog_line(line);
	cr_assert_gt(oplog_start(), 0, "the ring dropped lines");
	before = server_log_size();
	open_log();
	for (n = 0; n < 1000; n++) {
		read_max(OP_READ_MAX);
		if (last_len == 0)
			break;
		got += last_len;
	}
	cr_assert_leq(before, got, "size %zu before the open, %zu read", before, got);
	cr_assert_eq(server_log_size(), got, "with the reader open: %zu, read %zu",
	    server_log_size(), got);
	for (n = 0; n < 3000; n++)
		oplog_line(line);
	cr_assert_geq(server_log_size(), got, "never shrinks under a reader");
	opened->ops->release(opened);
	op_drain();
	cr_assert_leq(server_log_size(), 1u << 20);
}
