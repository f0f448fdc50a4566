/* proc_fixture.h - what the process element's unit tests share: a fresh server on a
 * fresh uv loop, and operations started through the op layer exactly as fs/ and net/
 * start them, the loop running until their callbacks fire.
 *
 * Each test binary includes it once (tests/unit/test_proc*.c).  Criterion runs every
 * test in its own process, so the loop and the server are each test's own.  The
 * helpers are static inline so that a binary that does not use one is not warned.
 */
#ifndef TESTS_UNIT_PROC_FIXTURE_H
#define TESTS_UNIT_PROC_FIXTURE_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "elements/anchor.h"
#include "elements/element.h"
#include "elements/op.h"
#include "elements/proc.h"
#include "elements/server.h"

/* What an op's callback saw; the op itself is freed once the callback returns. */
struct res {
	int done;
	int rc;
	char *data;
	size_t len;
	struct stream *stream;
	char msg[512];
};

static uv_loop_t loop;
static uv_timer_t tick;
static int notified;		/* calls of on_notify, the notify of must_open's streams */

static inline void
on_tick(uv_timer_t *t)
{
}

/* The suite's .init: a server on 127.0.0.1 bound to a fresh loop. */
static inline void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_eq(server_init(&loop, "127.0.0.1", 0), 0);
	/* Wake the loop often so that a test waiting on a condition re-checks it. */
	uv_timer_init(&loop, &tick);
	uv_timer_start(&tick, on_tick, 10, 10);
}

static inline void
on_done(struct op *op)
{
	struct res *r = op->arg;

	r->done = 1;
	r->rc = op->rc;
	r->stream = op->stream;
	if (op->data != NULL && op->rc > 0) {
		r->data = op->data;	/* take the bytes over */
		r->len = op->len;
		op->data = NULL;
	}
	snprintf(r->msg, sizeof r->msg, "%s", op->msg != NULL ? op->msg : "");
}

/* Run the loop until *flag is set, at most ms milliseconds; returns whether it was. */
static inline int
run_until(const int *flag, int ms)
{
	uint64_t end = uv_now(&loop) + (uint64_t)ms;

	while (!*flag && uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_ONCE);
	return *flag;
}

static inline void
run_for(int ms)
{
	int never = 0;

	run_until(&never, ms);
}

/* The path of anchor name on this server (static buffer). */
static inline char *
path_of(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof buf, "/%s/%s", g_server.id, name);
	return buf;
}

/* A new op of type on anchor name (NULL: a stream op), reporting into *r. */
static inline struct op *
start(enum op_type type, const char *name, struct res *r)
{
	struct op *op = op_new(type, on_done, r);

	memset(r, 0, sizeof *r);
	if (name != NULL)
		op->path = strdup(path_of(name));
	op->client = strdup("test");
	return op;
}

/* Start op and run the loop until it completes (at most 10 s); its result. */
static inline struct res
finish(struct op *op, struct res *r)
{
	op_start(op);
	cr_assert(run_until(&r->done, 10000), "op did not complete");
	return *r;
}

static inline int
mkdir_(const char *name)
{
	struct res r;

	return finish(start(OP_MKDIR, name, &r), &r).rc;
}

static inline struct res
ctl(const char *name, const char *cmd)
{
	struct res r;
	struct op *op = start(OP_CTL, name, &r);

	op->data = strdup(cmd);
	op->len = strlen(cmd);
	return finish(op, &r);
}

/* Make anchor name and a process in it from json; both must succeed. */
static inline int
mkproc(const char *name, const char *json)
{
	char cmd[4096];
	struct res r;

	snprintf(cmd, sizeof cmd, "mkproc %s", json);
	cr_assert_eq(mkdir_(name), 0);
	r = ctl(name, cmd);
	cr_assert_eq(r.rc, 0, "mkproc %s: %d %s", json, r.rc, r.msg);
	return 0;
}

/* A snapshot file's text (NUL-terminated; the caller frees). */
static inline char *
snap(const char *name, const char *file, int *rc)
{
	struct res r;
	struct op *op = start(OP_SNAP, name, &r);

	op->file = strdup(file);
	finish(op, &r);
	*rc = r.rc;
	if (r.rc < 0)
		return NULL;
	r.data = realloc(r.data, r.len + 1);
	r.data[r.len] = '\0';
	return r.data;
}

static inline void
on_notify(struct stream *s, void *arg)
{
	notified++;
}

static inline struct stream *
open_(const char *name, const char *file, int mode, int *rc)
{
	struct res r;
	struct op *op = start(OP_OPEN, name, &r);

	op->file = strdup(file);
	op->mode = mode;
	finish(op, &r);
	*rc = r.rc;
	if (r.stream != NULL) {
		r.stream->notify = on_notify;
		r.stream->notify_arg = NULL;
	}
	return r.stream;
}

static inline struct stream *
must_open(const char *name, const char *file, int mode)
{
	int rc;
	struct stream *s = open_(name, file, mode, &rc);

	cr_assert_eq(rc, 0, "open %s/%s: %d", name, file, rc);
	cr_assert_not_null(s);
	return s;
}

/* A read of up to max bytes from s, without an offset; not started. */
static inline struct op *
start_read(struct stream *s, size_t max, struct res *r)
{
	struct op *op = start(OP_READ, NULL, r);

	op->stream = s;
	op->max = max;
	return op;
}

/* Read a stream to EOF; returns the bytes (NUL-terminated) and their count. */
static inline char *
read_all(struct stream *s, size_t *total)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	struct res r;

	for (;;) {
		finish(start_read(s, 65536, &r), &r);
		cr_assert_geq(r.rc, 0, "read: %d %s", r.rc, r.msg);
		if (r.rc == 0)
			break;
		while (n + r.len + 1 > cap)
			buf = realloc(buf, cap *= 2);
		memcpy(buf + n, r.data, r.len);
		n += r.len;
		free(r.data);
	}
	buf[n] = '\0';
	*total = n;
	return buf;
}

/* One write of text to s; its rc. */
static inline int
write_(struct stream *s, const char *text)
{
	struct res r;
	struct op *op = start(OP_WRITE, NULL, &r);

	op->stream = s;
	op->data = strdup(text);
	op->len = strlen(text);
	return finish(op, &r).rc;
}

static inline struct element *
elem_at(const char *name)
{
	struct anchor *a = anchor_lookup(g_server.root, path_of(name));

	return a != NULL ? a->elem : NULL;
}

static inline void
count_handle(uv_handle_t *h, void *arg)
{
	if (h->type == UV_PROCESS || h->type == UV_NAMED_PIPE)
		(*(int *)arg)++;
}

/* Process and pipe handles still on the loop (closing ones included). */
static inline int
child_handles(void)
{
	int n = 0;

	uv_walk(&loop, count_handle, &n);
	return n;
}

/* Run the loop until no process or pipe handle is left. */
static inline void
settle(void)
{
	uint64_t end = uv_now(&loop) + 10000;

	while (child_handles() > 0 && uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_ONCE);
	cr_assert_eq(child_handles(), 0, "handles left on the loop");
}

static inline void
release(struct stream *s)
{
	s->ops->release(s);
}

#endif
