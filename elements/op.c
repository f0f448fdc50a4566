/* op.c - the operation layer's machinery: start, dispatch, park, cancel, complete.
 *
 * Completions never run inside the call that caused them: op_done() queues the op
 * and a uv_idle handle drains the queue from the loop, like libuv's own
 * write_completed_queue.  That keeps every caller (FUSE handlers above all) free to
 * finish its bookkeeping after op_start(), and makes a FUSE interrupt callback safe:
 * it only calls op_cancel(), which never replies by itself.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/op.h"
#include "elements/element.h"
#include "elements/local.h"
#include "elements/log.h"

static uv_loop_t *loop;
static uv_idle_t idle;
static int idle_running;
static struct op_queue doneq = TAILQ_HEAD_INITIALIZER(doneq);
static op_remote_fn remote;
static op_done_hook_fn done_hook;
static long live_ops, parked_ops;

static const char *const type_names[] = {
	[OP_STAT] = "stat", [OP_LIST] = "list", [OP_MKDIR] = "mkdir",
	[OP_RMDIR] = "rmdir", [OP_CTL] = "ctl", [OP_SNAP] = "read",
	[OP_OPEN] = "open", [OP_READ] = "read", [OP_WRITE] = "write",
	[OP_FLUSH] = "flush",
};

const char *
op_type_name(enum op_type t)
{
	return (unsigned)t < sizeof type_names / sizeof type_names[0] ? type_names[t] : "?";
}

static void
drain(uv_idle_t *h)
{
	struct op_queue batch = TAILQ_HEAD_INITIALIZER(batch);
	struct op *op;

	/* Take the current batch only: completions queued by these callbacks run on the
	 * next loop iteration, so timers and FUSE requests are not starved. */
	TAILQ_CONCAT(&batch, &doneq, link);
	while ((op = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, op, link);
		assert(op->state == OPS_DONE);
		op->state = OPS_CALLED;
		if (op->cb != NULL)
			op->cb(op);
		op_free(op);
	}
	if (TAILQ_EMPTY(&doneq) && h != NULL) {
		uv_idle_stop(&idle);
		idle_running = 0;
	}
}

int
op_init(uv_loop_t *l)
{
	loop = l;
	TAILQ_INIT(&doneq);
	idle_running = 0;
	return uv_idle_init(loop, &idle);
}

void
op_drain(void)
{
	while (!TAILQ_EMPTY(&doneq))
		drain(NULL);
}

void
op_set_remote(op_remote_fn fn)
{
	remote = fn;
}

void
op_set_done_hook(op_done_hook_fn fn)
{
	done_hook = fn;
}

struct op *
op_new(enum op_type type, op_cb cb, void *arg)
{
	struct op *op = calloc(1, sizeof *op);

	if (op == NULL)
		return NULL;
	live_ops++;
	op->type = type;
	op->cb = cb;
	op->arg = arg;
	op->off = -1;
	op->state = OPS_NEW;
	return op;
}

void
op_free(struct op *op)
{
	if (op == NULL)
		return;
	/* Only an op never started, or one whose callback has run, is ours to free. */
	assert(op->state == OPS_NEW || op->state == OPS_CALLED);
	live_ops--;
	free(op->path);
	free(op->file);
	free(op->client);
	free(op->data);
	free(op->msg);
	if (op->json != NULL)
		json_decref(op->json);
	free(op);
}

/* The files every anchor has, whatever it holds. */
static const struct op_file common_files[] = {
	{ "ctl", OPF_READ | OPF_WRITE },
	{ "help", OPF_READ },
	{ "error", OPF_READ },
	{ NULL, 0 },
};

static const struct op_file *
find_in(const struct op_file *table, const char *name)
{
	for (const struct op_file *f = table; f != NULL && f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

const struct op_file *
op_file_find(const char *name)
{
	const struct op_file *f;

	if (name == NULL)
		return NULL;
	if ((f = find_in(common_files, name)) != NULL)
		return f;
	for (size_t i = 0; i < ELEM_NKINDS; i++)
		if (elem_kinds[i] != NULL && (f = find_in(elem_kinds[i]->files, name)) != NULL)
			return f;
	return NULL;
}

int
op_file_mode_ok(const struct op_file *f, int mode)
{
	switch (mode) {
	case OP_RDONLY:
		return (f->flags & OPF_READ) != 0;
	case OP_WRONLY:
		return (f->flags & OPF_WRITE) != 0;
	case OP_RDWR:
		return (f->flags & (OPF_READ | OPF_WRITE)) == (OPF_READ | OPF_WRITE);
	default:
		return 0;
	}
}

/* The preconditions of every operation, checked here once for every caller (FUSE,
 * a TCP client, the CLI) before anything is dispatched, as lib9p checks a fid's open
 * mode: a request that fails one completes with an error and reaches no backend. */
static int
check(struct op *op)
{
	const char *name = op_type_name(op->type);
	struct stream *s = op->stream;

	switch (op->type) {
	case OP_READ:
		if (s == NULL)
			break;
		if (s->mode == OP_WRONLY || s->ops->read == NULL) {
			op_fail(op, -EBADF, "read: the stream is open for writing only");
			return -1;
		}
		if (op->max > OP_READ_MAX) {
			op_fail(op, -EINVAL, "read: %zu bytes asked, at most %u", op->max,
			    OP_READ_MAX);
			return -1;
		}
		return 0;
	case OP_WRITE:
		if (s == NULL)
			break;
		if (s->mode == OP_RDONLY || s->ops->write == NULL) {
			op_fail(op, -EBADF, "write: the stream is open for reading only");
			return -1;
		}
		if (op->data == NULL && op->len > 0) {
			op_fail(op, -EINVAL, "write: no data");
			return -1;
		}
		return 0;
	case OP_FLUSH:
		if (s == NULL)
			break;
		return 0;
	case OP_STAT: case OP_LIST: case OP_MKDIR: case OP_RMDIR: case OP_CTL:
	case OP_SNAP: case OP_OPEN:
		if (op->path == NULL || op->path[0] != '/') {
			op_fail(op, -EINVAL, "%s: bad anchor path", name);
			return -1;
		}
		if ((op->type == OP_SNAP || op->type == OP_OPEN) &&
		    (op->file == NULL || op->file[0] == '\0' || strchr(op->file, '/') != NULL)) {
			op_fail(op, -EINVAL, "%s: %s: bad or missing file name", op->path, name);
			return -1;
		}
		if ((op->type == OP_SNAP || op->type == OP_OPEN) && op->mode != OP_RDONLY &&
		    op->mode != OP_WRONLY && op->mode != OP_RDWR) {
			op_fail(op, -EINVAL, "%s: %s: bad open mode %d", op->path, name, op->mode);
			return -1;
		}
		if (op->type == OP_CTL && op->data == NULL) {
			op_fail(op, -EINVAL, "%s: empty or malformed command (write 'VERB ARG')",
			    op->path);
			return -1;
		}
		return 0;
	default:
		op_fail(op, -EINVAL, "bad operation %d", (int)op->type);
		return -1;
	}
	op_fail(op, -EBADF, "%s: no stream", name);
	return -1;
}

/* Is path's first component this server's XID?  "/" belongs to everyone. */
static int
is_remote(const struct op *op)
{
	if (op->type == OP_READ || op->type == OP_WRITE || op->type == OP_FLUSH ||
	    op->path == NULL)
		return 0;
	/* mkdir of a server directory is refused here: the root holds only servers. */
	if (op->type == OP_MKDIR && strchr(op->path + 1, '/') == NULL)
		return 0;
	/* Nor does a server directory's STAT: the member table answers it. */
	if (op->type == OP_STAT && local_answers_stat(op->path))
		return 0;
	return local_is_remote_path(op->path);
}

void
op_start(struct op *op)
{
	if (op->state != OPS_NEW)
		fatalx("op_start: op %p started twice", (void *)op);
	op->state = OPS_RUNNING;
	/* A stream of this server's element runs here, and so does a path op that is
	 * not remote: set before the checks, so that a refused READ or WRITE on a local
	 * stream is written in its anchor's error file like any other failure. */
	if (op->type == OP_READ || op->type == OP_WRITE)
		op->local = op->stream != NULL && op->stream->elem != NULL;
	if (check(op) < 0)
		return;
	if (op->type == OP_READ) {
		assert(op->stream->mode != OP_WRONLY);
		op->stream->ops->read(op->stream, op);
		/* A read on an O_NONBLOCK file never waits, whatever the stream's poll said
		 * a moment ago: one that parked is taken back (as a cancel does) at once. */
		if (op->nonblock && op->state == OPS_PARKED) {
			if (op->cancel != NULL)
				op->cancel(op);
			op_fail(op, -EAGAIN, "read: nothing to read yet");
		}
		return;
	}
	if (op->type == OP_WRITE) {
		assert(op->stream->mode != OP_RDONLY);
		op->stream->ops->write(op->stream, op);
		return;
	}
	if (op->type == OP_FLUSH) {
		if (op->stream->ops->flush != NULL)
			op->stream->ops->flush(op->stream, op);
		else
			op_done(op, 0);
		return;
	}
	op->local = !is_remote(op);
	if (!op->local) {
		if (remote == NULL) {
			op_fail(op, -ENOENT, "%s: no such server", op->path);
			return;
		}
		remote(op);
		return;
	}
	local_run(op);
}

void
op_cancel(struct op *op, int err)
{
	assert(err < 0);
	if (op->state != OPS_PARKED && op->state != OPS_RUNNING)
		return;
	op->cancel_rc = err;
	if (op->cancel != NULL)
		op->cancel(op);
	/* A parked op is ours to finish; a running one (remote) finishes when its owner
	 * hears back, and its cancel hook asked for exactly that. */
	if (op->state == OPS_PARKED)
		op_end_cancelled(op);
}

void
op_end_cancelled(struct op *op)
{
	int rc = op->cancel_rc;

	assert(rc < 0);
	op_fail(op, rc, "%s: %s", op->path != NULL ? op->path : op_type_name(op->type),
	    strerror(-rc));
}

void
op_park(struct op *op, void (*cancel)(struct op *op), void *owner)
{
	/* Only a running op can wait (a completed one is in the done queue by its link). */
	assert(op->state == OPS_RUNNING || op->state == OPS_PARKED);
	assert(cancel != NULL);
	if (op->state != OPS_PARKED)
		parked_ops++;
	op->state = OPS_PARKED;
	op->cancel = cancel;
	op->owner = owner;
}

void
op_done(struct op *op, int rc)
{
	if (op->state == OPS_DONE || op->state == OPS_CALLED || op->state == OPS_NEW)
		fatalx("op_done: %s op %p completed in state %d", op_type_name(op->type),
		    (void *)op, op->state);
	if (op->state == OPS_PARKED)
		parked_ops--;
	op->rc = rc;
	op->cancel = NULL;
	op->state = OPS_DONE;
	/* The stream remembers its open mode: READ and WRITE are checked against it. */
	if (op->type == OP_OPEN && rc >= 0 && op->stream != NULL)
		op->stream->mode = op->mode;
	if (rc < 0 && op->msg == NULL) {
		const char *what = op->path != NULL ? op->path : op_type_name(op->type);
		if (asprintf(&op->msg, "%s: %s", what, strerror(-rc)) < 0)
			op->msg = NULL;
	}
	if (op->local && done_hook != NULL)
		done_hook(op);
	TAILQ_INSERT_TAIL(&doneq, op, link);
	if (!idle_running) {
		idle_running = 1;
		uv_idle_start(&idle, drain);
	}
}

void
op_fail(struct op *op, int err, const char *fmt, ...)
{
	va_list ap;
	char *raw;

	free(op->msg);
	va_start(ap, fmt);
	if (vasprintf(&raw, fmt, ap) < 0)
		raw = NULL;
	va_end(ap);
	/* A message may quote megabytes of outside input, newlines, terminal escapes: it
	 * is one bounded, escaped line wherever it goes (error, log, a remote caller). */
	op->msg = raw != NULL ? log_clean(raw, LOG_MSG_MAX) : NULL;
	free(raw);
	op_done(op, err < 0 ? err : -err);
}

void
op_done_data(struct op *op, char *buf, size_t len)
{
	free(op->data);
	op->data = buf;
	op->len = len;
	op_done(op, (int)len);
}

void
op_done_copy(struct op *op, const void *buf, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	if (len > 0)
		memcpy(copy, buf, len);
	copy[len] = '\0';
	op_done_data(op, copy, len);
}

void
op_done_json(struct op *op, json_t *j, size_t flags)
{
	char *text = j != NULL ? json_dumps(j, flags) : NULL, *line;
	size_t n;

	json_decref(j);
	if (text == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	n = strlen(text);
	line = realloc(text, n + 2);
	if (line == NULL) {
		free(text);
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	op_done_data(op, line, n + 1);
}

void
stream_notify(struct stream *s)
{
	if (s != NULL && s->notify != NULL)
		s->notify(s, s->notify_arg);
}

json_t *
op_stats(void)
{
	long queued = 0;
	struct op *op;

	TAILQ_FOREACH(op, &doneq, link)
		queued++;
	return json_pack("{s:I, s:I, s:I}", "Live", (json_int_t)live_ops,
	    "Parked", (json_int_t)parked_ops, "Completing", (json_int_t)queued);
}
