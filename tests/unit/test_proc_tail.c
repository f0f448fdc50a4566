/* test_proc_tail.c - stdout as a file that grows: reads at offsets beside reads that
 * take (docs/decisions.md, "stdout and stderr are seekable").
 *
 * A real child on a real loop, driven through the op layer as fs/ drives it: a READ's
 * off is the reader's file offset.  The child writes `seq 1 40000` (228,894 bytes,
 * under the 256 KiB unread bound, so all of it is buffered before any read).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "elements/proc_priv.h"
#include "tests/unit/proc_fixture.h"

#define SEQ_BYTES 228894	/* wc -c of seq 1 40000 */

TestSuite(proc_tail, .init = setup, .timeout = 60);

/* A process running seq 1 40000 at name, exited and its output all buffered. */
static void
seq_proc(const char *name)
{
	int rc;

	mkproc(name, "{\"Path\":\"/usr/bin/seq\",\"Args\":[\"1\",\"40000\"]}");
	free(snap(name, "wait", &rc));
	cr_assert_geq(rc, 0);
}

static struct stream *
open_stdout(const char *name)
{
	return must_open(name, "stdout", OP_RDONLY);
}

/* A read of up to max bytes at file offset off (-1: none, as from the RPC server). */
static struct res
read_at(struct stream *s, int64_t off, size_t max)
{
	struct res r;
	struct op *op = start_read(s, max, &r);

	op->off = off;
	return finish(op, &r);
}

/* The text of seq 1 40000 from byte off, len bytes (NUL-terminated; static). */
static const char *
seq_text(size_t off, size_t len)
{
	static char *all;
	static char out[8192];
	size_t n = 0;

	if (all == NULL) {
		all = malloc(SEQ_BYTES + 1);
		for (int i = 1; i <= 40000; i++)
			n += (size_t)sprintf(all + n, "%d\n", i);
		cr_assert_eq(n, SEQ_BYTES);
	}
	cr_assert_lt(len, sizeof out);
	memcpy(out, all + off, len);
	out[len] = '\0';
	return out;
}

static void
expect_bytes(struct res r, size_t off, size_t len)
{
	cr_assert_eq(r.rc, (int)len, "read: %d %s", r.rc, r.msg);
	cr_assert(memcmp(r.data, seq_text(off, len), len) == 0, "bytes at %zu differ", off);
	free(r.data);
}

Test(proc_tail, size_is_the_bytes_produced_and_seeking_only_looks_beside_a_taker)
{
	struct stream *cat, *tail;

	seq_proc("p");
	cat = open_stdout("p");
	tail = open_stdout("p");
	cr_assert_eq(tail->ops->size(tail, 0), SEQ_BYTES);
	/* tail: lseek(SEEK_END), then its last lines at their offset. */
	cr_assert_eq(tail->ops->size(tail, 1), SEQ_BYTES);
	expect_bytes(read_at(tail, SEQ_BYTES - 12, 8192), SEQ_BYTES - 12, 12);
	cr_assert_eq(read_at(tail, SEQ_BYTES, 8192).rc, 0, "at the end: 0 bytes, no wait");
	/* cat is open: tail only looked, and cat still gets every byte from the first. */
	expect_bytes(read_at(cat, 0, 4), 0, 4);
	expect_bytes(read_at(tail, 0, 6), 0, 6);
	expect_bytes(read_at(cat, 4, 6), 4, 6);
	/* Without cat, what tail is given counts as read. */
	cat->ops->release(cat);
	expect_bytes(read_at(tail, SEQ_BYTES - 6, 100), SEQ_BYTES - 6, 6);
	cat = open_stdout("p");
	cr_assert_eq(read_at(cat, 0, 100).rc, 0, "everything was read: EOF");
	/* The last 64 KiB read are kept; before them, ENODATA. */
	expect_bytes(read_at(tail, SEQ_BYTES - 65536, 100), SEQ_BYTES - 65536, 100);
	cr_assert_eq(read_at(tail, SEQ_BYTES - 65537, 100).rc, -ENODATA);
	cat->ops->release(cat);
	tail->ops->release(tail);
}

Test(proc_tail, a_reader_in_order_may_read_back_into_its_last_take)
{
	struct stream *s;

	seq_proc("p");
	s = open_stdout("p");
	expect_bytes(read_at(s, 0, 6), 0, 6);		/* "1\n2\n3\n" */
	/* bash's read took a line and gave the rest back: again, up to the take's end. */
	expect_bytes(read_at(s, 2, 100), 2, 4);
	expect_bytes(read_at(s, 4, 100), 4, 2);
	/* Then on in order: it still takes. */
	expect_bytes(read_at(s, 6, 8), 6, 8);
	/* Reads without an offset (RPC, CLI) take in order. */
	expect_bytes(read_at(s, -1, 8), 14, 8);
	s->ops->release(s);
}

/* Read s in order to its EOF in one read; the bytes must be seq 1 40000. */
static void
read_seq(struct stream *s)
{
	struct res r = read_at(s, 0, 1 << 20);

	cr_assert_eq(r.rc, SEQ_BYTES, "read: %d %s", r.rc, r.msg);
	free(r.data);
	cr_assert_eq(read_at(s, SEQ_BYTES, 100).rc, 0, "then EOF");
}

Test(proc_tail, the_kept_bytes_of_closed_pipes_are_bounded_for_all_processes_oldest_first)
{
	struct stream *a, *b, *ta;

	cr_assert_eq(proc_kept_max, 4 << 20, "the bound is 4 MiB");
	/* Room for one closed stdout's 64 KiB kept, not two. */
	proc_kept_max = 100000;
	seq_proc("a");
	a = open_stdout("a");
	read_seq(a);
	cr_assert_eq(proc_kept_total(), 65536, "a's last 64 KiB read are kept");
	expect_bytes(read_at(a, SEQ_BYTES - 12, 100), SEQ_BYTES - 12, 12);
	a->ops->release(a);
	seq_proc("b");
	b = open_stdout("b");
	read_seq(b);
	cr_assert_eq(proc_kept_total(), 65536, "b's are kept, a's (closed first) are not");
	expect_bytes(read_at(b, SEQ_BYTES - 12, 100), SEQ_BYTES - 12, 12);
	ta = open_stdout("a");
	cr_assert_eq(ta->ops->size(ta, 1), SEQ_BYTES, "a's size is still the bytes produced");
	cr_assert_eq(read_at(ta, SEQ_BYTES - 12, 100).rc, -ENODATA, "a's tail is gone");
	cr_assert_eq(read_at(ta, SEQ_BYTES, 100).rc, 0, "at a's end: 0 bytes");
	ta->ops->release(ta);
	/* Unread bytes are never dropped: c's output, all unread, is not kept but buffered. */
	seq_proc("c");
	proc_kept_max = 0;
	b->ops->release(b);
	b = open_stdout("c");
	expect_bytes(read_at(b, -1, 4), 0, 4);
	cr_assert_eq(proc_kept_total(), 0, "over the bound even c's own 4 read bytes go");
	expect_bytes(read_at(b, -1, 6), 4, 6);
	b->ops->release(b);
}
