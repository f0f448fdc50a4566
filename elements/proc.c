/* proc.c - the process element: uv_spawn, stdio pipes, bounded output, wait, signal.
 *
 * Lifetime.  The anchor holds one reference, every open stream one, and the element
 * holds its own while any of its four uv handles (process, stdin, stdout, stderr
 * pipes) is open; the last close callback drops it.  The process handle closes in
 * exit_cb, so the child is always reaped; stdin closes at exit, on the release of its
 * last stream or at scrub; an output pipe closes at EOF, or at scrub when no stream
 * is open on it (otherwise when its last stream goes, so readers drain to EOF).
 *
 * Output.  Each of stdout and stderr has a buffer of at most PROC_OUT_CAP bytes.
 * When it is full we stop reading the pipe, so the child blocks in write(2): nothing
 * is dropped.  Reads take what is there; with nothing there they park in one FIFO per
 * pipe, shared by all the streams open on it.
 *
 * Scrub kills a running child with SIGKILL; parked `wait` reads then get the final
 * stat JSON once it is reaped (not an error), parked stdin writes fail with EPIPE.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elements/anchor.h"
#include "elements/log.h"
#include "elements/proc.h"
#include "elements/server.h"

#define container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

/* Below this, an emptied output buffer is kept for the next burst; above, freed. */
#define OUT_KEEP (64 * 1024)

enum proc_state { PROC_RUNNING, PROC_EXITED };
enum in_state { IN_OPEN, IN_SHUTTING, IN_CLOSED };	/* CLOSED: uv_close called */
enum out_state { OUT_READING, OUT_PAUSED, OUT_CLOSED };	/* CLOSED: uv_close called */

struct proc;

/* One open of stdin, stdout or stderr. */
struct pstream {
	struct proc *p;
	int fd;
	struct stream *s;
	TAILQ_ENTRY(pstream) link;
};
TAILQ_HEAD(pstream_list, pstream);

/* One output pipe and its buffer: bytes [start, end) of buf (size bytes) are unread. */
struct outbuf {
	uv_pipe_t pipe;
	struct proc *p;
	int fd;
	enum out_state state;
	char *buf;
	size_t start, end, size;
	struct op_queue readers;	/* parked reads, FIFO */
};

/* One stdin write in flight; its op is NULL once cancelled or answered. */
struct wreq {
	uv_write_t req;
	struct proc *p;
	struct op *op;
	char *buf;
	size_t len;
	TAILQ_ENTRY(wreq) link;
};

struct proc {
	struct element elem;		/* first: the element API casts */
	struct cmd cmd;
	enum proc_state state;
	int scrubbed;
	int pid;
	int64_t exit_status;
	int term_signal;
	uv_process_t process;
	uv_pipe_t in;
	enum in_state in_state;
	uv_shutdown_t shutdown;
	struct outbuf out[2];		/* stdout, stderr */
	int nhandles;			/* initialised and not yet closed */
	struct op_queue waiters;	/* parked `wait` reads */
	TAILQ_HEAD(, wreq) writes;
	struct pstream_list streams[3];
	int nstreams[3];
};

static const char *const proc_files[] = { "stdin", "stdout", "stderr", "wait", "peek", NULL };
static const struct stream_ops proc_stream_ops;

/* ---- stat JSON and signals ---- */

static const char *
sig_name(int sig, char *buf, size_t size)
{
	const char *n = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;

	if (n != NULL)
		return n;
	snprintf(buf, size, "%d", sig);
	return buf;
}

char *
proc_stat_text(const struct cmd *c, int pid, int exited, int64_t status, int sig,
    size_t *len)
{
	json_t *j, *cmd, *code = json_null(), *signame = json_null(), *exit = json_null();
	const char *phase = "running", *descr;
	char buf[64], num[16], *text = NULL, *line;

	if (exited && sig != 0) {
		phase = "signaled";
		descr = sigdescr_np(sig);
		snprintf(buf, sizeof buf, "signal: %s", descr != NULL ? descr : sig_name(sig, num, sizeof num));
		buf[8] = (char)tolower((unsigned char)buf[8]);
		signame = json_string(sig_name(sig, num, sizeof num));
		exit = json_string(buf);
	} else if (exited) {
		phase = "exited";
		snprintf(buf, sizeof buf, "exit status %lld", (long long)status);
		code = json_integer(status);
		exit = json_string(buf);
	}
	cmd = cmd_json(c);
	j = json_pack("{s:o?, s:s, s:i, s:o?, s:o?, s:o?}", "Cmd", cmd, "Phase", phase,
	    "Pid", pid, "ExitCode", code, "Signal", signame, "Exit", exit);
	if (j != NULL)
		text = json_dumps(j, JSON_PRESERVE_ORDER);
	json_decref(j);
	if (text == NULL)
		return NULL;
	*len = strlen(text) + 1;
	line = realloc(text, *len + 1);
	if (line == NULL) {
		free(text);
		return NULL;
	}
	line[*len - 1] = '\n';
	line[*len] = '\0';
	return line;
}

int
proc_signal_parse(const char *s)
{
	char *end;
	long n;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (*s >= '0' && *s <= '9') {
		n = strtol(s, &end, 10);
		return *end == '\0' && n > 0 && n < NSIG ? (int)n : -EINVAL;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int sig = 1; sig < NSIG; sig++) {
		const char *name = sigabbrev_np(sig);
		if (name != NULL && strcasecmp(name, s) == 0)
			return sig;
	}
	return -EINVAL;
}

static char *
stat_of(struct proc *p, size_t *len)
{
	return proc_stat_text(&p->cmd, p->pid, p->state == PROC_EXITED, p->exit_status,
	    p->term_signal, len);
}

/* ---- handles ---- */

static void
on_close(uv_handle_t *h)
{
	struct proc *p = h->data;

	if (--p->nhandles == 0)
		elem_unref(&p->elem);
}

static void
notify(struct proc *p, int fd)
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
	struct outbuf *ob = container_of(h, struct outbuf, pipe);
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

static void
close_out(struct outbuf *ob)
{
	if (ob->state == OUT_CLOSED)
		return;
	ob->state = OUT_CLOSED;
	uv_close((uv_handle_t *)&ob->pipe, on_close);
	serve(ob);
	if (buffered(ob) == 0 && ob->buf != NULL) {
		free(ob->buf);
		ob->buf = NULL;
		ob->size = 0;
	}
	notify(ob->p, ob->fd);
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
		close_out(ob);
		return;
	}
	ob->state = OUT_READING;
}

static void
on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *b)
{
	struct outbuf *ob = container_of(h, struct outbuf, pipe);
	int was_empty = buffered(ob) == 0;

	if (n > 0) {
		ob->end += (size_t)n;
		serve(ob);
		if (buffered(ob) >= PROC_OUT_CAP)
			pause_out(ob);
		if (was_empty && buffered(ob) > 0)
			notify(ob->p, ob->fd);
	} else if (n == UV_ENOBUFS) {
		pause_out(ob);
	} else if (n < 0) {
		if (n != UV_EOF)
			log_debug("%s: %s: %s", elem_path(&ob->p->elem),
			    ob->fd == 1 ? "stdout" : "stderr", uv_strerror((int)n));
		close_out(ob);
	}
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct proc *p = req->handle->data;

	if (!uv_is_closing((uv_handle_t *)&p->in))
		uv_close((uv_handle_t *)&p->in, on_close);
	p->in_state = IN_CLOSED;
}

/* Close the child's stdin: gracefully (after queued writes) or at once. */
static void
close_in(struct proc *p, int graceful)
{
	if (p->in_state == IN_CLOSED)
		return;
	if (p->in_state == IN_OPEN && graceful &&
	    uv_shutdown(&p->shutdown, (uv_stream_t *)&p->in, on_shutdown) == 0) {
		p->in_state = IN_SHUTTING;
		return;
	}
	p->in_state = IN_CLOSED;
	uv_close((uv_handle_t *)&p->in, on_close);
}

static void
on_child_exit(uv_process_t *h, int64_t status, int sig)
{
	struct proc *p = h->data;
	struct op *op;
	char *text;
	size_t len;

	p->state = PROC_EXITED;
	p->exit_status = status;
	p->term_signal = sig;
	uv_close((uv_handle_t *)h, on_close);
	close_in(p, 0);
	while ((op = TAILQ_FIRST(&p->waiters)) != NULL) {
		TAILQ_REMOVE(&p->waiters, op, link);
		text = stat_of(p, &len);
		if (text == NULL)
			op_fail(op, -ENOMEM, "out of memory");
		else
			op_done_data(op, text, len);
	}
	notify(p, 0);
	if (p->cmd.scrub)
		elem_scrub(&p->elem);
}

/* ---- spawning ---- */

/* argv for uv_spawn: PATH ARGS..., or the trampoline /bin/sh -c SCRIPT DIR PATH ARGS... */
static char **
make_argv(const struct cmd *c, int trampoline)
{
	size_t n = 0;
	char **v = calloc(c->nargs + 6, sizeof *v);

	if (v == NULL)
		return NULL;
	if (trampoline) {
		v[n++] = "/bin/sh";
		v[n++] = "-c";
		v[n++] = c->dir != NULL ? "cd -- \"$0\" && exec \"$@\"" : "exec \"$@\"";
		v[n++] = c->dir != NULL ? c->dir : "circuit";
	}
	v[n++] = c->path;
	for (size_t i = 0; i < c->nargs; i++)
		v[n++] = c->args[i];
	v[n] = NULL;
	return v;
}

/* Fail early, with a clear errno, on what can be checked without touching the mount. */
static int
precheck(const struct cmd *c, char *err, size_t errsize)
{
	struct stat st;

	if (c->dir != NULL && c->dir[0] == '/' && !server_path_in_mount(c->dir)) {
		int rc = stat(c->dir, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
		if (rc < 0) {
			snprintf(err, errsize, "mkproc: Dir %s: %s", c->dir, strerror(-rc));
			return rc;
		}
	}
	if (c->dir != NULL && c->path[0] == '/' && !server_path_in_mount(c->path) &&
	    access(c->path, X_OK) < 0) {
		snprintf(err, errsize, "mkproc: %s: %s", c->path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int
spawn(struct proc *p, char *err, size_t errsize)
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	int trampoline = p->cmd.dir != NULL || server_path_in_mount(p->cmd.path);
	char **argv;
	int rc, i;

	argv = make_argv(&p->cmd, trampoline);
	if (argv == NULL) {
		snprintf(err, errsize, "mkproc: out of memory");
		return -ENOMEM;
	}
	elem_ref(&p->elem);	/* ours, until the last handle is closed */
	p->nhandles = 0;
	uv_pipe_init(g_server.loop, &p->in, 0);
	p->in.data = p;
	p->nhandles++;
	for (i = 0; i < 2; i++) {
		uv_pipe_init(g_server.loop, &p->out[i].pipe, 0);
		p->out[i].pipe.data = p;
		p->nhandles++;
	}
	memset(&o, 0, sizeof o);
	o.exit_cb = on_child_exit;
	o.file = argv[0];
	o.args = argv;
	o.env = p->cmd.env;
	o.stdio_count = 3;
	o.stdio = stdio;
	stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
	stdio[0].data.stream = (uv_stream_t *)&p->in;
	for (i = 1; i < 3; i++) {
		stdio[i].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[i].data.stream = (uv_stream_t *)&p->out[i - 1].pipe;
	}
	rc = uv_spawn(g_server.loop, &p->process, &o);
	p->process.data = p;
	p->nhandles++;		/* uv_spawn initialises the handle even when it fails */
	free(argv);
	if (rc < 0) {
		snprintf(err, errsize, "mkproc: %s: %s", p->cmd.path, uv_strerror(rc));
		goto fail_handles;
	}
	p->pid = p->process.pid;
	p->state = PROC_RUNNING;
	for (i = 0; i < 2; i++) {
		p->out[i].state = OUT_READING;
		if (uv_read_start((uv_stream_t *)&p->out[i].pipe, on_alloc, on_read) < 0)
			close_out(&p->out[i]);
	}
	return 0;

fail_handles:
	/* Nothing runs: the handles close and the last close drops our reference. */
	p->state = PROC_EXITED;
	uv_close((uv_handle_t *)&p->process, on_close);
	p->in_state = IN_CLOSED;
	uv_close((uv_handle_t *)&p->in, on_close);
	for (i = 0; i < 2; i++) {
		p->out[i].state = OUT_CLOSED;
		uv_close((uv_handle_t *)&p->out[i].pipe, on_close);
	}
	return rc;
}

static void
proc_make(struct anchor *a, const char *arg, struct op *op)
{
	char err[512];
	struct proc *p;
	int rc, i;

	p = calloc(1, sizeof *p);
	if (p == NULL) {
		op_fail(op, -ENOMEM, "%s: mkproc: out of memory", a->path);
		return;
	}
	rc = cmd_parse(arg, &p->cmd, err, sizeof err);
	if (rc < 0)
		goto fail_free;
	elem_init(&p->elem, &proc_kind);
	TAILQ_INIT(&p->waiters);
	TAILQ_INIT(&p->writes);
	for (i = 0; i < 3; i++)
		TAILQ_INIT(&p->streams[i]);
	for (i = 0; i < 2; i++) {
		p->out[i].p = p;
		p->out[i].fd = i + 1;
		TAILQ_INIT(&p->out[i].readers);
	}
	rc = precheck(&p->cmd, err, sizeof err);
	if (rc < 0)
		goto fail_cmd;
	rc = spawn(p, err, sizeof err);
	if (rc < 0) {
		op_fail(op, rc, "%s: %s", a->path, err);
		elem_unref(&p->elem);	/* the close callbacks free p */
		return;
	}
	anchor_attach(a, &p->elem);
	op_done(op, 0);
	return;

fail_cmd:
	cmd_free(&p->cmd);
fail_free:
	free(p);
	op_fail(op, rc, "%s: %s", a->path, err);
}

/* ---- verbs and snapshot files ---- */

static void
proc_verb(struct element *e, const char *verb, const char *arg, struct op *op)
{
	struct proc *p = (struct proc *)e;
	int sig, rc;

	if (strcmp(verb, "signal") != 0) {
		op_fail(op, -EINVAL, "%s: %s: unknown verb for a process (signal, scrub)",
		    elem_path(e), verb);
		return;
	}
	sig = proc_signal_parse(arg);
	if (sig < 0) {
		op_fail(op, -EINVAL, "%s: signal: bad signal \"%.32s\" (a name like TERM or KILL, "
		    "or a number)", elem_path(e), arg);
		return;
	}
	if (p->state != PROC_RUNNING) {
		op_fail(op, -ESRCH, "%s: signal: the process has exited", elem_path(e));
		return;
	}
	rc = uv_process_kill(&p->process, sig);
	if (rc < 0)
		op_fail(op, rc, "%s: signal: %s", elem_path(e), uv_strerror(rc));
	else
		op_done(op, 0);
}

static void
cancel_wait(struct op *op)
{
	struct proc *p = op->owner;

	TAILQ_REMOVE(&p->waiters, op, link);
}

static void
proc_snap(struct element *e, const char *file, struct op *op)
{
	struct proc *p = (struct proc *)e;
	size_t len;
	char *text;

	if (strcmp(file, "wait") == 0 && p->state == PROC_RUNNING) {
		op_park(op, cancel_wait, p);
		TAILQ_INSERT_TAIL(&p->waiters, op, link);
		return;
	}
	if (strcmp(file, "wait") != 0 && strcmp(file, "peek") != 0) {
		op_fail(op, -ENOENT, "%s: no file %s here", elem_path(e), file);
		return;
	}
	text = stat_of(p, &len);
	if (text == NULL)
		op_fail(op, -ENOMEM, "out of memory");
	else
		op_done_data(op, text, len);
}

/* ---- streams ---- */

static void
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
			notify(ob->p, ob->fd);
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
	struct wreq *w = container_of(req, struct wreq, req);
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
	notify(p, 0);
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
			close_in(p, 1);
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
			close_out(ob);
	}
	free(ps);
	stream_free(s);		/* may free p */
}

static const struct stream_ops proc_stream_ops = {
	.read = stream_read,
	.write = stream_write,
	.release = stream_release,
	.poll = stream_poll,
};

/* ---- scrub and destroy ---- */

static void
proc_scrub(struct element *e)
{
	struct proc *p = (struct proc *)e;
	int i;

	p->scrubbed = 1;
	if (p->state == PROC_RUNNING) {
		int rc = uv_process_kill(&p->process, SIGKILL);
		if (rc < 0)
			log_warnx("scrub: kill %d: %s", p->pid, uv_strerror(rc));
	}
	close_in(p, 0);
	for (i = 0; i < 2; i++)
		if (p->nstreams[i + 1] == 0)
			close_out(&p->out[i]);
}

static void
proc_destroy(struct element *e)
{
	struct proc *p = (struct proc *)e;

	if (p->nhandles != 0)
		fatalx("proc_destroy: %d handles still open", p->nhandles);
	free(p->out[0].buf);
	free(p->out[1].buf);
	cmd_free(&p->cmd);
	free(p);
}

size_t
proc_buffered(const struct element *e, int fd)
{
	const struct proc *p = (const struct proc *)e;

	return fd == 1 || fd == 2 ? buffered(&p->out[fd - 1]) : 0;
}

static const char proc_help[] =
"A process element: a program this server runs, made by\n"
"  echo 'mkproc {\"Path\":\"/bin/ls\",\"Args\":[\"-l\",\"/\"]}' > ctl\n"
"Cmd JSON: Path (required; argv[0]), Args (the arguments after argv[0]), Env\n"
"([\"K=V\",...]: exactly the environment; absent: the server's), Dir (working\n"
"directory; may lie inside this mount), Scrub (true: remove the element at exit).\n"
"\n"
"Files:\n"
"  stdin   write to the process's standard input; the last close of stdin closes it\n"
"          (echo hello > stdin;  cat input.txt > stdin)\n"
"  stdout  its standard output as it is produced; EOF when it closes it\n"
"          (cat stdout;  tail -f stdout)\n"
"  stderr  its standard error, the same way (cat stderr)\n"
"          Unread output waits in a bounded buffer (256 KiB per stream); past it the\n"
"          process blocks writing: nothing is dropped.\n"
"  wait    blocks until the process exits, then its stat JSON (cat wait)\n"
"  peek    its stat JSON now (cat peek):\n"
"          {\"Cmd\": {...}, \"Phase\": \"running|exited|signaled\", \"Pid\": 123,\n"
"           \"ExitCode\": 0|null, \"Signal\": \"KILL\"|null, \"Exit\": null|\"exit status 1\"}\n"
"\n"
"Verbs (write to ctl):\n"
"  signal SIG   send a signal: a name (TERM, KILL, SIGINT) or a number (9)\n"
"  scrub        kill the process if it runs (SIGKILL), reap it, remove the element\n";

const struct elem_kind proc_kind = {
	.name = "process",
	.make_verb = "mkproc",
	.files = proc_files,
	.help = proc_help,
	.make = proc_make,
	.verb = proc_verb,
	.snap = proc_snap,
	.open = proc_open,
	.scrub = proc_scrub,
	.destroy = proc_destroy,
};
