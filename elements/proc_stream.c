/* proc_stream.c - the process element's stdio: bounded output buffers, readers, stdin.
 *
 * Each of stdout and stderr has a buffer of at most PROC_OUT_CAP unread bytes.  When it
 * is full we stop reading the pipe, so the child blocks in write(2): nothing is dropped.
 * Reads take what is there; with nothing there they park in one FIFO per pipe, shared
 * by all the streams open on it.  A stdin write is answered once the pipe has taken
 * all its bytes, so a child that does not read stdin back-pressures writers.
 *
 * stdout and stderr are also files that grow, for tail -f and less +F
 * (docs/decisions.md): their size is the bytes produced so far, and the last
 * OUT_RETAIN bytes already read stay in the buffer.  An open takes bytes (`cat`) as
 * long as each read asks for the offset where its last one ended (or a point inside
 * its last take: bash's read gives back what it read past a line); once it reads
 * elsewhere, or asks where the file ends (lseek SEEK_END, as tail does), it reads at
 * absolute offsets like a regular file: it gets what is kept at that offset, 0 bytes at
 * the end (never a wait).  While an open that takes bytes is there (`cat stdout` running
 * beside `tail -f stdout`), such reads only look: every byte still goes to the takers,
 * once and in order.  With none, what a reader at offsets was given counts as read, as
 * when tail reads a pipe: a process watched only by tail -f is not held up.  Once a
 * pipe is closed its kept bytes count against one bound for all processes (KEPT_MAX):
 * an exited process nobody scrubs costs little.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elements/log.h"
#include "elements/proc_priv.h"
#include "elements/server.h"

/* The least buffer kept once every byte is read (the next burst comes into it). */
#define OUT_KEEP (64 * 1024)
/* Bytes already read that stay for readers at offsets: tail's last lines. */
#define OUT_RETAIN (64 * 1024)
/* The read bytes that closed pipes keep, all processes together: 1,000 exited jobs
 * nobody scrubbed would otherwise hold 64 KiB of stdout and of stderr each, 128 MB
 * (SPEC: idle servers cost almost nothing).  Above it, the pipes closed first lose
 * theirs; their unread bytes stay. */
#define KEPT_MAX (4 * 1024 * 1024)

size_t proc_kept_max = KEPT_MAX;
static TAILQ_HEAD(, outbuf) kept_list = TAILQ_HEAD_INITIALIZER(kept_list);
static size_t kept_total;

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

/* Drop read bytes beyond the OUT_RETAIN kept ones from the front of the buffer. */
static void
compact(struct outbuf *ob)
{
	size_t drop = ob->start > OUT_RETAIN ? ob->start - OUT_RETAIN : 0;

	if (drop == 0)
		return;
	memmove(ob->buf, ob->buf + drop, ob->end - drop);
	ob->start -= drop;
	ob->end -= drop;
}

/* Every byte is read: give back a buffer grown for a burst, keeping the retained
 * tail; once the pipe is closed nothing more comes, so keep only that tail. */
static void
shrink(struct outbuf *ob)
{
	size_t want;
	char *nbuf;

	compact(ob);
	want = ob->state == OUT_CLOSED ? ob->end : OUT_KEEP;
	if (ob->size <= want)
		return;
	if (want == 0) {
		free(ob->buf);
		ob->buf = NULL;
		ob->size = ob->start = ob->end = 0;
		return;
	}
	if ((nbuf = realloc(ob->buf, want)) != NULL) {
		ob->buf = nbuf;
		ob->size = want;
	}
}

size_t
proc_kept_total(void)
{
	return kept_total;
}

/* Take ob off the kept list: its read bytes no longer count. */
static void
unkeep(struct outbuf *ob)
{
	if (ob->kept == 0)
		return;
	TAILQ_REMOVE(&kept_list, ob, klink);
	kept_total -= ob->kept;
	ob->kept = 0;
}

/* Drop the read bytes a closed ob keeps: only its unread ones stay. */
static void
forget_read(struct outbuf *ob)
{
	size_t n = buffered(ob);
	char *nbuf;

	unkeep(ob);
	if (n == 0) {
		free(ob->buf);
		ob->buf = NULL;
		ob->size = ob->start = ob->end = 0;
		return;
	}
	memmove(ob->buf, ob->buf + ob->start, n);
	ob->start = 0;
	ob->end = n;
	if ((nbuf = realloc(ob->buf, n)) != NULL) {
		ob->buf = nbuf;
		ob->size = n;
	}
}

/* Count the read bytes ob keeps once its pipe is closed (in the order the pipes
 * closed); over proc_kept_max, the oldest lose theirs, ob itself last. */
static void
count_kept(struct outbuf *ob)
{
	size_t now = ob->state == OUT_CLOSED ? ob->start : 0;
	struct outbuf *old;

	if (now == 0) {
		unkeep(ob);
		return;
	}
	if (ob->kept == 0)
		TAILQ_INSERT_TAIL(&kept_list, ob, klink);
	kept_total = kept_total - ob->kept + now;
	ob->kept = now;
	while (kept_total > proc_kept_max && (old = TAILQ_FIRST(&kept_list)) != NULL)
		forget_read(old);
}

void
proc_out_free(struct outbuf *ob)
{
	unkeep(ob);
	free(ob->buf);
	ob->buf = NULL;
	ob->size = ob->start = ob->end = 0;
}

/* Complete op with n bytes of the buffer from index i (i + n <= end); if take, count
 * everything up to them as read.  0, or -ENOMEM (op failed, nothing taken). */
static int
give(struct outbuf *ob, struct op *op, size_t i, size_t n, int take)
{
	char *buf = malloc(n + 1);

	if (buf == NULL) {
		op_fail(op, -ENOMEM, "%s: out of memory", elem_path(&ob->p->elem));
		return -ENOMEM;
	}
	memcpy(buf, ob->buf + i, n);
	if (take && i + n > ob->start)
		ob->start = i + n;
	if (ob->start == ob->end)
		shrink(ob);
	count_kept(ob);
	op_done_data(op, buf, n);
	return 0;
}

/* Take up to op->max unread bytes into op (there must be some). */
static void
deliver(struct outbuf *ob, struct op *op)
{
	struct pstream *ps = op->stream->priv;
	size_t n = buffered(ob);

	uint64_t at = ob->produced - ob->end + ob->start;

	if (n > op->max)
		n = op->max;
	if (give(ob, op, ob->start, n, 1) < 0)
		return;
	ps->got += n;
	ps->last_at = at;
	ps->last_len = n;
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

	if (ob->size - ob->end < 16 * 1024)
		compact(ob);
	if (ob->size - ob->end < 16 * 1024 && ob->size < PROC_OUT_CAP + OUT_RETAIN) {
		want = ob->size * 2 < OUT_KEEP ? OUT_KEEP : ob->size * 2;
		if (want > PROC_OUT_CAP + OUT_RETAIN)
			want = PROC_OUT_CAP + OUT_RETAIN;
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
	if (buffered(ob) == 0)
		shrink(ob);
	count_kept(ob);
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
		ob->produced += (uint64_t)n;
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

/* Is an open of ob's pipe there that takes bytes (reads in order, not at offsets)? */
static int
has_taker(const struct outbuf *ob)
{
	const struct pstream *ps;

	TAILQ_FOREACH(ps, &ob->p->streams[ob->fd], link)
		if (!ps->seeks)
			return 1;
	return 0;
}

/* A read of output offset at, not past end: what is kept there, 0 bytes at or past
 * the end; if take, what it is given counts as read. */
static void
read_at(struct outbuf *ob, struct op *op, uint64_t at, uint64_t end, int take)
{
	uint64_t first = ob->produced - ob->end;	/* the offset of buf[0] */
	size_t n;

	if (at >= end || op->max == 0) {
		op_done(op, 0);
		return;
	}
	if (at < first) {
		op_fail(op, -ENODATA, "%s: %s: bytes before offset %" PRIu64 " are no longer "
		    "kept (the last %d KiB already read are, up to %zu KiB for all exited "
		    "processes)", elem_path(&ob->p->elem), ob->fd == 1 ? "stdout" : "stderr",
		    first, OUT_RETAIN / 1024, proc_kept_max / 1024);
		return;
	}
	n = end - at < op->max ? (size_t)(end - at) : op->max;
	(void)give(ob, op, (size_t)(at - first), n, take);
}

static void
stream_read(struct stream *s, struct op *op)
{
	struct pstream *ps = s->priv;
	struct outbuf *ob;
	uint64_t off = (uint64_t)op->off;

	if (ps->fd == 0) {
		op_fail(op, -EBADF, "%s: stdin is write-only", elem_path(&ps->p->elem));
		return;
	}
	ob = &ps->p->out[ps->fd - 1];
	if (op->off >= 0 && !ps->seeks && off != ps->got) {
		/* Back into its own last take (bash's read and head give back what they
		 * read past a line with lseek): those bytes again, up to where it ended.
		 * Anywhere else is a seek. */
		if (off < ps->got && ps->got - off <= ps->last_len) {
			read_at(ob, op, ps->last_at + ps->last_len - (ps->got - off),
			    ps->last_at + ps->last_len, 0);
			return;
		}
		ps->seeks = 1;
	}
	if (ps->seeks && op->off >= 0) {
		size_t before = buffered(ob);
		read_at(ob, op, off, ob->produced, !has_taker(ob));
		if (buffered(ob) != before) {
			resume_out(ob);
			if (buffered(ob) == 0)
				proc_notify(ob->p, ob->fd);
		}
	} else if (buffered(ob) > 0 && op->max > 0) {
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

/* ---- stdin ----
 *
 * Our end of the child's stdin is a non-blocking pipe written with write(2) from a
 * FIFO of queued writes, watched by a uv_poll while the FIFO is not empty.  So we know
 * at every moment how many bytes of each write the pipe took: an interrupted write
 * answers that count (or EINTR when it took nothing), as write(2) on a pipe does, and a
 * retrying writer never sends a byte twice.
 */

static void stdin_wait(struct proc *p);

/* End w: answer its op (unless answered already) with the count taken or err. */
static void
wreq_end(struct wreq *w, int err, const char *why)
{
	struct proc *p = w->p;

	TAILQ_REMOVE(&p->writes, w, link);
	if (w->op != NULL) {
		if (err == 0 || w->off > 0)
			op_done(w->op, (int)w->off);
		else
			op_fail(w->op, err, "%s: stdin: %s", elem_path(&p->elem), why);
	}
	free(w->buf);
	free(w);
}

static void
close_infd(struct proc *p)
{
	struct wreq *w;

	p->in_state = IN_CLOSED;
	while ((w = TAILQ_FIRST(&p->writes)) != NULL)
		wreq_end(w, -EPIPE, p->state != PROC_RUNNING ? "the process has exited" : "closed");
	uv_close((uv_handle_t *)&p->inpoll, proc_on_close);
	if (p->infd >= 0)
		close(p->infd);
	p->infd = -1;
	proc_notify(p, 0);
}

/* Write what the pipe takes, head first; then wait for room, or close if asked to. */
static void
stdin_flush(struct proc *p)
{
	struct wreq *w;
	ssize_t n;

	while ((w = TAILQ_FIRST(&p->writes)) != NULL) {
		n = write(p->infd, w->buf + w->off, w->len - w->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			int err = errno;
			wreq_end(w, -EPIPE, strerror(err));
			continue;
		}
		w->off += (size_t)n;
		if (w->off == w->len)
			wreq_end(w, 0, NULL);
	}
	if (TAILQ_EMPTY(&p->writes) && p->in_state == IN_SHUTTING) {
		close_infd(p);
		return;
	}
	stdin_wait(p);
	proc_notify(p, 0);
}

static void
on_stdin_ready(uv_poll_t *h, int status, int events)
{
	struct proc *p = h->data;

	if (status < 0) {
		close_infd(p);
		return;
	}
	stdin_flush(p);
}

static void
stdin_wait(struct proc *p)
{
	if (!TAILQ_EMPTY(&p->writes))
		uv_poll_start(&p->inpoll, UV_WRITABLE, on_stdin_ready);
	else
		uv_poll_stop(&p->inpoll);
}

void
proc_in_close(struct proc *p, int graceful)
{
	if (p->in_state == IN_CLOSED)
		return;
	if (graceful && !TAILQ_EMPTY(&p->writes)) {
		p->in_state = IN_SHUTTING;
		return;
	}
	close_infd(p);
}

static void
cancel_write(struct op *op)
{
	struct wreq *w = op->owner;
	struct proc *p = w->p;

	/* What the pipe took is gone to the child: answer that count (wreq_end); if it
	 * took nothing, the caller's EINTR is the truth.  The rest is not sent. */
	if (w->off == 0)
		w->op = NULL;
	wreq_end(w, -EINTR, "interrupted");
	if (p->in_state == IN_SHUTTING && TAILQ_EMPTY(&p->writes))
		close_infd(p);
	else if (p->in_state != IN_CLOSED)
		stdin_wait(p);
}

static void
stream_write(struct stream *s, struct op *op)
{
	struct pstream *ps = s->priv;
	struct proc *p = ps->p;
	struct wreq *w;

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
	op_park(op, cancel_write, w);
	TAILQ_INSERT_TAIL(&p->writes, w, link);
	if (w == TAILQ_FIRST(&p->writes))
		stdin_flush(p);
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
		return TAILQ_EMPTY(&p->writes) ? POLLOUT : 0;
	}
	ob = &p->out[ps->fd - 1];
	/* An open that reads at offsets reads like a regular file: never a wait. */
	return buffered(ob) > 0 || ob->state == OUT_CLOSED || ps->seeks ? POLLIN : 0;
}

static int64_t
stream_size(struct stream *s, int seeking)
{
	struct pstream *ps = s->priv;

	if (ps->fd == 0)
		return -1;
	if (seeking)
		ps->seeks = 1;
	return (int64_t)ps->p->out[ps->fd - 1].produced;
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
		if (s->aborted && p->state == PROC_RUNNING && !p->scrubbed) {
			/* Its writer vanished mid-stream (its server or connection lost, or
			 * the CLI's input failed): an EOF now would hand the child a cut
			 * input as whole, and a child cannot be told otherwise through a
			 * pipe.  It is killed instead, with why in error (docs/decisions.md).
			 * At shutdown (the mount releases every open file as cut) the scrub
			 * that follows kills it anyway, and the shutdown, logged once, is
			 * the reason: nothing is said per process. */
			if (!g_server.stopping) {
				elem_error(&p->elem, "%s: stdin: its writer vanished mid-stream; "
				    "the process was killed rather than given a cut input as "
				    "whole", elem_path(&p->elem));
				log_warnx("%s: stdin: its writer vanished mid-stream; the process "
				    "was killed", elem_path(&p->elem));
			}
			proc_kill_group(p);
			proc_in_close(p, 0);
		} else if (s->aborted) {
			/* The process has ended (or its scrub killed it): no child reads the
			 * cut input, so there is nothing to kill, and what its group left
			 * running is not this writer's to end.  A scrub or the shutdown
			 * says nothing per process; an exit on its own gets one line, not
			 * an error. */
			if (!p->scrubbed && !g_server.stopping)
				log_info("%s: stdin: its writer vanished mid-stream after the "
				    "process had ended: nothing was killed", elem_path(&p->elem));
			proc_in_close(p, 0);
		} else if (p->nstreams[0] == 0)
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
	.size = stream_size,
};
size_t
proc_buffered(const struct element *e, int fd)
{
	const struct proc *p = (const struct proc *)e;

	return fd == 1 || fd == 2 ? buffered(&p->out[fd - 1]) : 0;
}
