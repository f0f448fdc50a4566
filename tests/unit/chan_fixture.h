/* chan_fixture.h - what the channel element's unit tests share: a fresh server on a
 * fresh uv loop, the anchor path /XID/c, and opens, reads and writes started through
 * the op layer as the FUSE layer starts them, the loop run until their completions
 * have been delivered.
 *
 * Each test binary includes it once (tests/unit/test_chan*.c).  Criterion runs every
 * test in its own process, so the loop and the server are each test's own.  The
 * helpers are static inline so that a binary that does not use one is not warned.
 */
#ifndef TESTS_UNIT_CHAN_FIXTURE_H
#define TESTS_UNIT_CHAN_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/anchor.h"
#include "elements/chan.h"
#include "elements/op.h"
#include "elements/server.h"

static uv_loop_t loop;
static char base[64];

/* What an op's callback saw; the op itself is freed once the callback returns. */
struct res {
	struct op *op;			/* while pending: for op_cancel */
	int done;
	int rc;
	struct stream *stream;
	char *data;
	size_t len;
};

static inline void
res_cb(struct op *op)
{
	struct res *r = op->arg;

	r->op = NULL;
	r->done = 1;
	r->rc = op->rc;
	r->stream = op->type == OP_OPEN && op->rc == 0 ? op->stream : NULL;
	r->len = op->len;
	/* Only results are bytes the test wants; request bytes go with the op. */
	if (op->type == OP_READ || op->type == OP_SNAP) {
		r->data = op->data;
		op->data = NULL;
	}
}

/* Deliver what is ready: eight turns of the loop, none of them blocking. */
static inline void
settle(void)
{
	for (int i = 0; i < 8; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
}

/* The suite's .init: a server on 127.0.0.1 bound to a fresh loop; base is the path of
 * the anchor each test makes its channel in. */
static inline void
setup(void)
{
	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_eq(server_init(&loop, "127.0.0.1", 0), 0);
	snprintf(base, sizeof base, "/%s/c", g_server.id);
}

static inline struct op *
mkop(struct res *r, enum op_type t)
{
	struct op *op = op_new(t, res_cb, r);

	cr_assert_not_null(op);
	memset(r, 0, sizeof *r);
	r->op = op;
	return op;
}

/* Run one path op to completion and return its rc. */
static inline int
run_path_op(enum op_type t, const char *file, const char *data)
{
	struct res r;
	struct op *op = mkop(&r, t);

	op->path = strdup(base);
	if (file != NULL)
		op->file = strdup(file);
	if (data != NULL) {
		op->data = strdup(data);
		op->len = strlen(data);
	}
	op_start(op);
	settle();
	cr_assert(r.done, "op %s did not complete", op_type_name(t));
	free(r.data);
	return r.rc;
}

static inline int
ctl(const char *cmd)
{
	return run_path_op(OP_CTL, NULL, cmd);
}

static inline void
mkchan(int cap)
{
	char cmd[32];

	cr_assert_eq(run_path_op(OP_MKDIR, NULL, NULL), 0);
	snprintf(cmd, sizeof cmd, "mkchan %d\n", cap);
	cr_assert_eq(ctl(cmd), 0);
}

static inline void
open_(struct res *r, const char *file)
{
	struct op *op = mkop(r, OP_OPEN);

	op->path = strdup(base);
	op->file = strdup(file);
	op->mode = strcmp(file, "send") == 0 ? OP_WRONLY : OP_RDONLY;
	op_start(op);
}

static inline void
write_(struct res *r, struct stream *s, const void *data, size_t len)
{
	struct op *op = mkop(r, OP_WRITE);

	op->stream = s;
	op->data = malloc(len > 0 ? len : 1);
	memcpy(op->data, data, len);
	op->len = len;
	op_start(op);
}

static inline void
read_(struct res *r, struct stream *s, size_t max)
{
	struct op *op = mkop(r, OP_READ);

	op->stream = s;
	op->max = max;
	op_start(op);
}

static inline void
release(struct stream *s)
{
	s->ops->release(s);
}

/* Open send, write msg in one write, release: a whole message (the open must not wait). */
static inline void
send_msg(const char *msg)
{
	struct res o, w;

	open_(&o, "send");
	settle();
	cr_assert(o.done && o.rc == 0, "send open: done %d rc %d", o.done, o.rc);
	write_(&w, o.stream, msg, strlen(msg));
	settle();
	cr_assert(w.done && w.rc == (int)strlen(msg));
	release(o.stream);
	settle();
}

/* Read a receive stream to EOF with reads of max bytes; returns the bytes (malloc'd). */
static inline char *
read_all(struct stream *s, size_t max)
{
	char *all = calloc(1, 1);
	size_t n = 0;
	struct res r;

	for (;;) {
		read_(&r, s, max);
		settle();
		cr_assert(r.done, "read parked");
		cr_assert_geq(r.rc, 0, "read failed %d", r.rc);
		if (r.len == 0)
			break;
		all = realloc(all, n + r.len + 1);
		memcpy(all + n, r.data, r.len);
		n += r.len;
		all[n] = '\0';
		free(r.data);
		r.data = NULL;
	}
	return all;
}

/* Receive one whole message (the open must not wait). */
static inline char *
recv_msg(void)
{
	struct res o;
	char *m;

	open_(&o, "recv");
	settle();
	cr_assert(o.done && o.rc == 0, "recv open: done %d rc %d", o.done, o.rc);
	m = read_all(o.stream, 4096);
	release(o.stream);
	settle();
	return m;
}

static inline json_t *
peek(void)
{
	struct res r;
	struct op *op = mkop(&r, OP_SNAP);
	json_t *j;

	op->path = strdup(base);
	op->file = strdup("peek");
	op_start(op);
	settle();
	cr_assert(r.done && r.rc > 0);
	j = json_loadb(r.data, r.len, 0, NULL);
	cr_assert_not_null(j);
	free(r.data);
	return j;
}

static inline void
assert_counts(long nsend, long nrecv)
{
	json_t *j = peek();

	cr_assert_eq(json_integer_value(json_object_get(j, "NumSend")), nsend, "NumSend %lld",
	    json_integer_value(json_object_get(j, "NumSend")));
	cr_assert_eq(json_integer_value(json_object_get(j, "NumRecv")), nrecv, "NumRecv %lld",
	    json_integer_value(json_object_get(j, "NumRecv")));
	json_decref(j);
}

#endif
