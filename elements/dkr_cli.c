/* dkr_cli.c - one docker client command run as a child on the loop, its output collected.
 *
 * The container element drives the engine through the docker command-line client
 * (create, kill, rm, inspect, ps), each a child process whose stdout and stderr are
 * read on the loop into bounded buffers.  Every run has a deadline, after which the
 * child is killed, and at most DKR_CLI_MAX run at once, so neither a stuck engine nor
 * a flood of peeks can hold the server's resources without end.
 *
 * The client is started like a process element's program, through the exec helper
 * (proc_spawn.c): the pre-exec child of uv_spawn, during which the loop is blocked,
 * never searches PATH itself, so a PATH entry inside a circuit mount cannot stall the
 * server.  The helper's word on fd 3 (why the exec failed) becomes the status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elements/dkr.h"
#include "elements/log.h"
#include "elements/proc.h"
#include "elements/server.h"

/* Most bytes kept of a command's stdout (inspect documents, ps lists) and stderr. */
#define CLI_OUT_CAP (4 * 1024 * 1024)
#define CLI_ERR_CAP (8 * 1024)
/* The exec helper's word: the step that failed and its errno (two int32). */
#define CLI_REP_CAP (2 * sizeof(int32_t))

struct cli_buf {
	uv_pipe_t pipe;
	char *buf;
	size_t len, cap, limit;
	int over;			/* more came than limit: the rest was dropped */
	int open;			/* still reading */
};

struct cli {
	uv_process_t process;
	uv_timer_t timer;
	struct cli_buf out, err, rep;	/* stdout, stderr, the exec helper's word */
	int nhandles;
	int exited;
	int done;			/* cb has run */
	int status;			/* exit code, or -errno */
	dkr_cli_cb cb;
	void *arg;
};

/* Most container IDs waiting for a free slot to be removed. */
#define PENDING_MAX 4096

static int running;
static char *pending[PENDING_MAX];
static size_t npending;

static void flush_pending(void);

static void
on_close(uv_handle_t *h)
{
	struct cli *c = h->data;

	if (--c->nhandles > 0)
		return;
	free(c->out.buf);
	free(c->err.buf);
	free(c->rep.buf);
	free(c);
	running--;
	flush_pending();
}

/* The buffer of pipe h. */
static struct cli_buf *
buf_of(struct cli *c, uv_handle_t *h)
{
	if ((uv_pipe_t *)h == &c->out.pipe)
		return &c->out;
	return (uv_pipe_t *)h == &c->err.pipe ? &c->err : &c->rep;
}

/* All pipes at EOF and the child reaped: answer, then close everything. */
static void
maybe_finish(struct cli *c)
{
	static char none[2][1];
	int32_t word[2];

	if (c->done || !c->exited || c->out.open || c->err.open || c->rep.open)
		return;
	c->done = 1;
	if (c->rep.buf != NULL && c->rep.len == CLI_REP_CAP) {
		/* The helper could not exec the client (not installed: ENOENT). */
		memcpy(word, c->rep.buf, sizeof word);
		if (word[1] > 0)
			c->status = -word[1];
	}
	if (c->status >= 0 && c->out.over)
		c->status = -E2BIG;
	if (c->err.buf != NULL)
		c->err.buf[c->err.len] = '\0';
	if (c->out.buf != NULL)
		c->out.buf[c->out.len] = '\0';
	none[0][0] = none[1][0] = '\0';
	c->cb(c->arg, c->status, c->out.buf != NULL ? c->out.buf : none[0], c->out.len,
	    c->err.buf != NULL ? c->err.buf : none[1]);
	uv_close((uv_handle_t *)&c->timer, on_close);
	uv_close((uv_handle_t *)&c->out.pipe, on_close);
	uv_close((uv_handle_t *)&c->err.pipe, on_close);
	uv_close((uv_handle_t *)&c->rep.pipe, on_close);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct cli *c = h->data;
	struct cli_buf *cb = buf_of(c, h);
	static char sink[4096];

	(void)suggested;
	if (cb->len == cb->limit) {
		/* Keep reading into a sink so the child never blocks on a full pipe. */
		b->base = sink;
		b->len = sizeof sink;
		return;
	}
	if (cb->cap - cb->len < 4096 && cb->cap < cb->limit + 1) {
		size_t ncap = cb->cap == 0 ? 8192 : cb->cap * 2;
		char *nb;
		if (ncap > cb->limit + 1)
			ncap = cb->limit + 1;
		nb = realloc(cb->buf, ncap);
		if (nb != NULL) {
			cb->buf = nb;
			cb->cap = ncap;
		}
	}
	b->base = cb->buf != NULL ? cb->buf + cb->len : sink;
	b->len = cb->buf != NULL ? cb->cap - 1 - cb->len : sizeof sink;
	if (b->len == 0) {
		b->base = sink;
		b->len = sizeof sink;
	}
}

static void
on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *b)
{
	struct cli *c = h->data;
	struct cli_buf *cb = buf_of(c, (uv_handle_t *)h);

	if (n > 0) {
		if (cb->buf != NULL && b->base == cb->buf + cb->len)
			cb->len += (size_t)n;
		else
			cb->over = 1;
		return;
	}
	if (n == 0)
		return;
	uv_read_stop(h);
	cb->open = 0;
	maybe_finish(c);
}

static void
on_child_exit(uv_process_t *h, int64_t status, int sig)
{
	struct cli *c = h->data;

	c->exited = 1;
	if (c->status == 0)
		c->status = sig != 0 ? -EINTR : (int)status;
	uv_close((uv_handle_t *)h, on_close);
	maybe_finish(c);
}

static void
on_deadline(uv_timer_t *t)
{
	struct cli *c = t->data;

	c->status = -ETIMEDOUT;
	if (!c->exited) {
		uv_process_kill(&c->process, SIGKILL);
		return;
	}
	/* Reaped, but something it left behind still holds a pipe open: stop reading. */
	uv_read_stop((uv_stream_t *)&c->out.pipe);
	uv_read_stop((uv_stream_t *)&c->err.pipe);
	uv_read_stop((uv_stream_t *)&c->rep.pipe);
	c->out.open = c->err.open = c->rep.open = 0;
	maybe_finish(c);
}

int
dkr_cli_run(char **argv, unsigned timeout_ms, dkr_cli_cb cb, void *arg)
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[4];
	struct cli *c;
	char **hv;
	size_t n = 0;
	int rc, fds[2];

	if (running >= DKR_CLI_MAX)
		return -EAGAIN;
	if (proc_exec_helper() == NULL)
		return -ENOENT;
	while (argv[n] != NULL)
		n++;
	/* argv of the helper: NAME PROC_EXEC_FLAG DIR PATH ARGS... (PATH is argv[0]). */
	if ((hv = calloc(n + 4, sizeof *hv)) == NULL)
		return -ENOMEM;
	hv[0] = PROC_EXEC_NAME;
	hv[1] = PROC_EXEC_FLAG;
	hv[2] = "";
	memcpy(hv + 3, argv, n * sizeof *argv);
	if ((c = calloc(1, sizeof *c)) == NULL || pipe2(fds, O_CLOEXEC) < 0) {
		rc = c == NULL ? -ENOMEM : -errno;
		free(c);
		free(hv);
		return rc;
	}
	c->cb = cb;
	c->arg = arg;
	c->out.limit = CLI_OUT_CAP;
	c->err.limit = CLI_ERR_CAP;
	c->rep.limit = CLI_REP_CAP;
	uv_pipe_init(g_server.loop, &c->out.pipe, 0);
	uv_pipe_init(g_server.loop, &c->err.pipe, 0);
	uv_pipe_init(g_server.loop, &c->rep.pipe, 0);
	uv_timer_init(g_server.loop, &c->timer);
	c->out.pipe.data = c->err.pipe.data = c->rep.pipe.data = c->timer.data = c;
	c->process.data = c;
	memset(&o, 0, sizeof o);
	o.exit_cb = on_child_exit;
	/* An absolute path outside any mount: nothing is looked up before the exec. */
	o.file = proc_exec_helper();
	o.args = hv;
	o.stdio_count = 4;
	o.stdio = stdio;
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&c->out.pipe;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&c->err.pipe;
	stdio[3].flags = UV_INHERIT_FD;
	stdio[3].data.fd = fds[1];
	rc = uv_spawn(g_server.loop, &c->process, &o);
	free(hv);
	close(fds[1]);
	c->nhandles = 5;
	running++;
	if (rc < 0) {
		close(fds[0]);
		uv_close((uv_handle_t *)&c->process, on_close);
		uv_close((uv_handle_t *)&c->timer, on_close);
		uv_close((uv_handle_t *)&c->out.pipe, on_close);
		uv_close((uv_handle_t *)&c->err.pipe, on_close);
		uv_close((uv_handle_t *)&c->rep.pipe, on_close);
		return rc;
	}
	c->out.open = c->err.open = 1;
	uv_read_start((uv_stream_t *)&c->out.pipe, on_alloc, on_read);
	uv_read_start((uv_stream_t *)&c->err.pipe, on_alloc, on_read);
	if (uv_pipe_open(&c->rep.pipe, fds[0]) == 0) {
		c->rep.open = 1;
		uv_read_start((uv_stream_t *)&c->rep.pipe, on_alloc, on_read);
	} else {
		/* Without its word a failed exec would pass for an exit 127: stop it. */
		close(fds[0]);
		c->status = -EIO;
		uv_process_kill(&c->process, SIGKILL);
	}
	uv_timer_start(&c->timer, on_deadline, timeout_ms, 0);
	return 0;
}

int
dkr_cli_errno(int status, const char *err)
{
	if (status == -ETIMEDOUT)
		return -ETIMEDOUT;
	if (status == -ENOENT || status == -EACCES)
		return -EOPNOTSUPP;	/* no docker client to run */
	if (strstr(err, "Cannot connect to the Docker daemon") != NULL ||
	    strstr(err, "Is the docker daemon running") != NULL)
		return -ECONNREFUSED;
	if (strstr(err, "permission denied while trying to connect") != NULL)
		return -EACCES;
	if (strstr(err, "No such image") != NULL || strstr(err, "No such container") != NULL ||
	    strstr(err, "No such object") != NULL)
		return -ENOENT;
	if (strstr(err, "is not running") != NULL)
		return -ESRCH;
	return -EINVAL;
}

const char *
dkr_cli_words(char *err)
{
	char *s = err, *nl;

	while (*s == ' ' || *s == '\n' || *s == '\t')
		s++;
	if (strncmp(s, "docker: ", 8) == 0)
		s += 8;
	if ((nl = strchr(s, '\n')) != NULL)
		*nl = '\0';
	if (strlen(s) > 300)
		s[300] = '\0';
	return *s != '\0' ? s : "no message";
}

static void
on_batch_removed(void *arg, int status, char *out, size_t outlen, char *err)
{
	(void)arg;
	(void)out;
	(void)outlen;
	if (status != 0 && dkr_cli_errno(status, err) != -ENOENT)
		log_warnx("docker rm: %s", status == -ETIMEDOUT ? "no answer in time" :
		    dkr_cli_words(err));
}

/* Remove every queued container with one command, once a slot is free. */
static void
flush_pending(void)
{
	static char *argv[PENDING_MAX + 5];
	static char docker[] = "docker", rm[] = "rm", force[] = "--force", vols[] = "--volumes";
	size_t i, n = 0;
	int rc;

	if (npending == 0 || running >= DKR_CLI_MAX)
		return;
	argv[n++] = docker;
	argv[n++] = rm;
	argv[n++] = force;
	argv[n++] = vols;
	for (i = 0; i < npending; i++)
		argv[n++] = pending[i];
	argv[n] = NULL;
	rc = dkr_cli_run(argv, 120000, on_batch_removed, NULL);
	if (rc < 0)
		log_warnx("docker rm of %zu containers: %s (the next start with -docker "
		    "removes them)", npending, uv_strerror(rc));
	for (i = 0; i < npending; i++)
		free(pending[i]);
	npending = 0;
}

int
dkr_cli_remove_later(const char *id)
{
	char *copy;

	if (npending == PENDING_MAX || (copy = strdup(id)) == NULL)
		return -ENOMEM;
	pending[npending++] = copy;
	flush_pending();
	return 0;
}
