/* proc_stream.c - the process element's stdio: bounded output buffers, readers, stdin.
 *
 * Each of stdout and stderr has a buffer of at most PROC_OUT_CAP bytes.  When it is
 * full we stop reading the pipe, so the child blocks in write(2): nothing is dropped.
 * Reads take what is there; with nothing there they park in one FIFO per pipe, shared
 * by all the streams open on it.  Each stdin write is one uv_write of the op's bytes,
 * answered in its callback, so a child that does not read stdin back-pressures writers.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "elements/proc_priv.h"

/* Below this, an emptied output buffer is kept for the next burst; above, freed. */
#define OUT_KEEP (64 * 1024)

void
proc_notify(struct proc *p, int fd)
{
	struct pstream *ps;

	TAILQ_FOREACH(ps, &p->streams[fd], link)
		stream_notify(ps->s);
}

static size_t
buffered(const struct outbuf *ob)
{
	return ob->end - ob->start;
}

/* Take up to op->max buffered bytes into op (there must be some). */
static void
deliver(struct outbuf *ob, struct op *op)
{
	size_t n = buffered(ob);
	char *buf;

	if (n > op->max)
		n = op->max;
	buf = malloc(n + 1);
	if (buf == NULL) {
		op_fail(op, -ENOMEM, "%s: out of memory", elem_path(&ob->p->elem));
		return;
	}
	memcpy(buf, ob->buf + ob->start, n);
	ob->start += n;
	if (ob->start == ob->end) {
		ob->start = ob->end = 0;
		if (ob->size > OUT_KEEP || ob->state == OUT_CLOSED) {
			free(ob->buf);
			ob->buf = NULL;
			ob->size = 0;
		}
	}
	op_done_data(op, buf, n);
}

/* Answer parked reads while there are bytes (or EOF) for them. */
static void
serve(struct outbuf *ob)
{
	struct op *op;

	while ((op = TAILQ_FIRST(&ob->readers)) != NULL) {
		if (buffered(ob) == 0 && ob->state != OUT_CLOSED)
			break;
		TAILQ_REMOVE(&ob->readers, op, link);
		if (buffered(ob) > 0 && op->max > 0)
			deliver(ob, op);
		else
			op_done(op, 0);
	}
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct outbuf *ob = proc_container_of(h, struct outbuf, pipe);
	size_t len = buffered(ob), want;
	char *nbuf;

	if (ob->start > 0 && ob->end == ob->size) {
		memmove(ob->buf, ob->buf + ob->start, len);
		ob->start = 0;
		ob->end = len;
	}
	if (ob->size - ob->end < 16 * 1024 && ob->size < PROC_OUT_CAP) {
		want = ob->size * 2 < OUT_KEEP ? OUT_KEEP : ob->size * 2;
		if (want > PROC_OUT_CAP)
			want = PROC_OUT_CAP;
		nbuf = realloc(ob->buf, want);
		if (nbuf != NULL) {
			ob->buf = nbuf;
			ob->size = want;
		}
	}
	/* Never hold more than PROC_OUT_CAP unread, even in a bigger buffer. */
	want = PROC_OUT_CAP - len;
	*b = uv_buf_init(ob->buf + ob->end, 0);
	if (ob->buf != NULL)
		b->len = ob->size - ob->end < want ? ob->size - ob->end : want;
}

void
proc_out_close(struct outbuf *ob)
{
	if (ob->state == OUT_CLOSED)
		return;
	ob->state = OUT_CLOSED;
	uv_close((uv_handle_t *)&ob->pipe, proc_on_close);
	serve(ob);
	if (buffered(ob) == 0 && ob->buf != NULL) {
		free(ob->buf);
		ob->buf = NULL;
		ob->size = 0;
	}
	proc_notify(ob->p, ob->fd);
}

static void
pause_out(struct outbuf *ob)
{
	if (ob->state != OUT_READING)
		return;
	uv_read_stop((uv_stream_t *)&ob->pipe);
	ob->state = OUT_PAUSED;
}

static void on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *b);

static void
resume_out(struct outbuf *ob)
{
	if (ob->state != OUT_PAUSED || buffered(ob) >= PROC_OUT_CAP)
		return;
	if (uv_read_start((uv_stream_t *)&ob->pipe, on_alloc, on_read) < 0) {
		proc_out_close(ob);
		return;
	}
	ob->state = OUT_READING;
}

static void
on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *b)
{
	struct outbuf *ob = proc_container_of(h, struct outbuf, pipe);
	int was_empty = buffered(ob) == 0;

	if (n > 0) {
		ob->end += (size_t)n;
		serve(ob);
		if (buffered(ob) >= PROC_OUT_CAP)
			pause_out(ob);
		if (was_empty && buffered(ob) > 0)
			proc_notify(ob->p, ob->fd);
	} else if (n == UV_ENOBUFS) {
		pause_out(ob);
	} else if (n < 0) {
		if (n != UV_EOF)
			log_debug("%s: %s: %s", elem_path(&ob->p->elem),
			    ob->fd == 1 ? "stdout" : "stderr", uv_strerror((int)n));
		proc_out_close(ob);
	}
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct proc *p = req->handle->data;

	if (!uv_is_closing((uv_handle_t *)&p->in))
		uv_close((uv_handle_t *)&p->in, proc_on_close);
	p->in_state = IN_CLOSED;
}

void
proc_in_close(struct proc *p, int graceful)
{
	if (p->in_state == IN_CLOSED)
		return;
	if (p->in_state == IN_OPEN && graceful &&
	    uv_shutdown(&p->shutdown, (uv_stream_t *)&p->in, on_shutdown) == 0) {
		p->in_state = IN_SHUTTING;
		return;
	}
	p->in_state = IN_CLOSED;
	uv_close((uv_handle_t *)&p->in, proc_on_close);
}
void
proc_out_start(struct outbuf *ob)
{
	ob->state = OUT_READING;
	if (uv_read_start((uv_stream_t *)&ob->pipe, on_alloc, on_read) < 0)
		proc_out_close(ob);
}

/* ---- streams ---- */

void
proc_open(struct element *e, const char *file, int mode, struct op *op)
{
	struct proc *p = (struct proc *)e;
	struct pstream *ps;
	int fd;

	if (strcmp(file, "stdin") == 0)
		fd = 0;
	else if (strcmp(file, "stdout") == 0)
		fd = 1;
	else if (strcmp(file, "stderr") == 0)
		fd = 2;
	else {
		op_fail(op, -ENOENT, "%s: %s is not a stream", elem_path(e), file);
		return;
	}
	if ((fd == 0) != (mode == OP_WRONLY)) {
		op_fail(op, -EACCES, "%s: %s is %s", elem_path(e), file,
		    fd == 0 ? "write-only" : "read-only");
		return;
	}
	ps = calloc(1, sizeof *ps);
	if (ps == NULL || (ps->s = stream_new(e, &proc_stream_ops, ps)) == NULL) {
		free(ps);
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	ps->p = p;
	ps->fd = fd;
	TAILQ_INSERT_TAIL(&p->streams[fd], ps, link);
	p->nstreams[fd]++;
	op->stream = ps->s;
	op_done(op, 0);
}

static void
cancel_read(struct op *op)
{
	struct outbuf *ob = op->owner;

	TAILQ_REMOVE(&ob->readers, op, link);
}

static void
stream_read(struct stream *s, struct op *op)
{
	struct pstream *ps = s->priv;
	struct outbuf *ob;

	if (ps->fd == 0) {
		op_fail(op, -EBADF, "%s: stdin is write-only", elem_path(&ps->p->elem));
		return;
	}
	ob = &ps->p->out[ps->fd - 1];
	if (buffered(ob) > 0 && op->max > 0) {
		deliver(ob, op);
		resume_out(ob);
		if (buffered(ob) == 0)
			proc_notify(ob->p, ob->fd);
	} else if (ob->state == OUT_CLOSED || op->max == 0) {
		op_done(op, 0);
	} else {
		op_park(op, cancel_read, ob);
		TAILQ_INSERT_TAIL(&ob->readers, op, link);
		resume_out(ob);		/* in case an allocation failure paused it */
	}
}

static void
on_write(uv_write_t *req, int status)
{
	struct wreq *w = proc_container_of(req, struct wreq, req);
	struct proc *p = w->p;

	TAILQ_REMOVE(&p->writes, w, link);
	if (w->op != NULL) {
		if (status == 0)
			op_done(w->op, (int)w->len);
		else
			op_fail(w->op, -EPIPE, "%s: stdin: %s", elem_path(&p->elem),
			    status == UV_ECANCELED ? "closed" : uv_strerror(status));
	}
	free(w->buf);
	free(w);
	proc_notify(p, 0);
}

static void
cancel_write(struct op *op)
{
	struct wreq *w = op->owner;

	/* The bytes are queued in libuv already; they still go, the caller stops waiting. */
	w->op = NULL;
}

static void
stream_write(struct stream *s, struct op *op)
{
	struct pstream *ps = s->priv;
	struct proc *p = ps->p;
	struct wreq *w;
	uv_buf_t b;
	int rc;

	if (ps->fd != 0) {
		op_fail(op, -EBADF, "%s: %s is read-only", elem_path(&p->elem),
		    ps->fd == 1 ? "stdout" : "stderr");
		return;
	}
	if (p->state != PROC_RUNNING || p->in_state != IN_OPEN) {
		op_fail(op, -EPIPE, "%s: stdin: %s", elem_path(&p->elem),
		    p->state != PROC_RUNNING ? "the process has exited" : "closed");
		return;
	}
	if (op->len == 0) {
		op_done(op, 0);
		return;
	}
	w = calloc(1, sizeof *w);
	if (w == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	w->p = p;
	w->op = op;
	w->buf = op->data;	/* take the bytes over: no copy needed */
	w->len = op->len;
	op->data = NULL;
	b = uv_buf_init(w->buf, (unsigned)w->len);
	rc = uv_write(&w->req, (uv_stream_t *)&p->in, &b, 1, on_write);
	if (rc < 0) {
		free(w->buf);
		free(w);
		op_fail(op, -EPIPE, "%s: stdin: %s", elem_path(&p->elem), uv_strerror(rc));
		return;
	}
	TAILQ_INSERT_TAIL(&p->writes, w, link);
	op_park(op, cancel_write, w);
}

static int
stream_poll(struct stream *s)
{
	struct pstream *ps = s->priv;
	struct proc *p = ps->p;
	struct outbuf *ob;

	if (ps->fd == 0) {
		if (p->state != PROC_RUNNING || p->in_state != IN_OPEN)
			return POLLOUT | POLLERR;
		return uv_stream_get_write_queue_size((uv_stream_t *)&p->in) == 0 ? POLLOUT : 0;
	}
	ob = &p->out[ps->fd - 1];
	return buffered(ob) > 0 || ob->state == OUT_CLOSED ? POLLIN : 0;
}

static void
stream_release(struct stream *s)
{
	struct pstream *ps = s->priv;
	struct proc *p = ps->p;
	struct outbuf *ob;
	struct op *op, *next;
	struct wreq *w;

	TAILQ_REMOVE(&p->streams[ps->fd], ps, link);
	p->nstreams[ps->fd]--;
	if (ps->fd == 0) {
		/* Writes of this stream still queued will go: answer their ops now. */
		TAILQ_FOREACH(w, &p->writes, link)
			if (w->op != NULL && w->op->stream == s) {
				op_done(w->op, (int)w->len);
				w->op = NULL;
			}
		if (p->nstreams[0] == 0)
			proc_in_close(p, 1);
	} else {
		ob = &p->out[ps->fd - 1];
		for (op = TAILQ_FIRST(&ob->readers); op != NULL; op = next) {
			next = TAILQ_NEXT(op, link);
			if (op->stream == s) {
				TAILQ_REMOVE(&ob->readers, op, link);
				op_fail(op, -EBADF, "%s: stream closed", elem_path(&p->elem));
			}
		}
		if (p->scrubbed && p->nstreams[ps->fd] == 0)
			proc_out_close(ob);
	}
	free(ps);
	stream_free(s);		/* may free p */
}

const struct stream_ops proc_stream_ops = {
	.read = stream_read,
	.write = stream_write,
	.release = stream_release,
	.poll = stream_poll,
};
size_t
proc_buffered(const struct element *e, int fd)
{
	const struct proc *p = (const struct proc *)e;

	return fd == 1 || fd == 2 ? buffered(&p->out[fd - 1]) : 0;
}
