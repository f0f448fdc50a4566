/* proc_spawn.c - start a process element's child without ever blocking the loop.
 *
 * libuv's uv_spawn blocks the loop until the child has called exec (FUSE-FACTS
 * section 6).  If anything the child does before that exec touches this server's own
 * mount, or another circuit mount that forwards to us, the server deadlocks: its cwd,
 * the executable's path, a PATH search, a symlink that leads into a mount.  Whether a
 * Cmd does any of that cannot be known by looking at its strings.  So the pre-exec
 * child never touches a Cmd path at all: uv_spawn always runs the exec helper
 * (bin/circuit-exec, installed beside circuit, proc_exec.h), found once by an absolute
 * path outside any mount.  The helper runs after uv_spawn has returned; it changes to
 * Dir, searches PATH and execs the program, and tells the server the errno of a
 * failure over a close-on-exec pipe (fd 3): end of file without a word means the exec
 * succeeded.  The mkproc operation waits for that word, parked, so a missing or
 * non-executable program still fails mkproc with its own errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "elements/log.h"
#include "elements/proc_exec.h"
#include "elements/proc_priv.h"
#include "elements/server.h"

const char *
proc_exec_helper(void)
{
	static char path[PATH_MAX];
	char *slash;
	ssize_t n;

	if (path[0] != '\0')
		return path;
	n = readlink("/proc/self/exe", path, sizeof path - sizeof PROC_EXEC_NAME);
	if (n <= 0 || (size_t)n >= sizeof path - sizeof PROC_EXEC_NAME ||
	    (slash = memrchr(path, '/', (size_t)n)) == NULL) {
		path[0] = '\0';
		return NULL;
	}
	memcpy(slash + 1, PROC_EXEC_NAME, sizeof PROC_EXEC_NAME);
	return path;
}

int
proc_exec_check(void)
{
	const char *h = proc_exec_helper();

	if (h == NULL)
		return -ENOENT;
	return access(h, X_OK) == 0 ? 0 : -errno;
}

/* The exec helper mode of every program that links the process element (circuit, the
 * unit tests), for callers that still run /proc/self/exe PROC_EXEC_FLAG ...: it hands
 * the same argv to the helper program.  glibc gives constructors argc and argv, so no
 * main() has to know. */
__attribute__((constructor)) static void
exec_forward(int argc, char **argv, char **envp)
{
	const char *h;
	struct stat st;

	if (argc < 2 || argv == NULL || strcmp(argv[1], PROC_EXEC_FLAG) != 0)
		return;
	if (argc < 4 || fstat(PROC_EXEC_FD, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		fputs("circuit: the exec helper runs only inside a circuit server\n", stderr);
		_exit(2);
	}
	if ((h = proc_exec_helper()) == NULL)
		proc_exec_fail('X', ENOENT);
	execve(h, argv, envp);
	proc_exec_fail('X', errno);
}

/* argv of the helper: NAME PROC_EXEC_FLAG DIR PATH ARGS... */
static char **
helper_argv(const struct cmd *c)
{
	size_t n = 0;
	char **v = calloc(c->nargs + 5, sizeof *v);

	if (v == NULL)
		return NULL;
	v[n++] = PROC_EXEC_NAME;
	v[n++] = PROC_EXEC_FLAG;
	v[n++] = c->dir != NULL ? c->dir : "";
	v[n++] = c->path;
	for (size_t i = 0; i < c->nargs; i++)
		v[n++] = c->args[i];
	v[n] = NULL;
	return v;
}

static void
start_done(struct proc *p, int err, int step)
{
	struct op *op = p->start_op;

	uv_close((uv_handle_t *)&p->report, proc_on_close);
	if (op == NULL) {
		/* Interrupted (answered already), or a start without an op (proc_start). */
		if (err != 0 && !p->scrubbed)
			log_warnx("%s: exec %s: %s", elem_path(&p->elem), step == 'D' ?
			    p->cmd.dir : p->cmd.path, strerror(err));
		return;
	}
	p->start_op = NULL;
	if (err == 0) {
		op_done(op, 0);
		return;
	}
	/* Nothing of the program ran: the element goes, as if mkproc never happened. */
	elem_scrub(&p->elem);
	if (step == 'D')
		op_fail(op, -err, "%s: mkproc: Dir %s: %s", op->path, p->cmd.dir, strerror(err));
	else
		op_fail(op, -err, "%s: mkproc: %s: %s", op->path, p->cmd.path, strerror(err));
}

static void
on_report_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct proc *p = h->data;

	*b = uv_buf_init((char *)&p->word + p->nword, (unsigned)(sizeof p->word - p->nword));
}

static void
on_report(uv_stream_t *h, ssize_t n, const uv_buf_t *b)
{
	struct proc *p = h->data;
	struct proc_exec_report r;

	if (n > 0) {
		p->nword += (size_t)n;
		if (p->nword < sizeof p->word)
			return;
	} else if (n == 0 || (n == UV_EOF && p->nword == 0)) {
		if (n == UV_EOF)
			start_done(p, 0, 0);
		return;
	}
	uv_read_stop(h);
	if (p->nword < sizeof r) {
		/* A short word, or a read error: the helper is not ours to trust. */
		start_done(p, EIO, 'X');
		return;
	}
	memcpy(&r, p->word, sizeof r);
	start_done(p, r.err > 0 ? r.err : EIO, r.step);
}

/* The mkproc operation was interrupted while the helper had not exec'd yet. */
static void
cancel_start(struct op *op)
{
	struct proc *p = op->owner;

	p->start_op = NULL;
	elem_scrub(&p->elem);
}

/* Make a pipe for the child's stdin: fds[0] the child's end, fds[1] ours (non-blocking),
 * both close-on-exec; ours watched by p->inpoll. */
static int
stdin_pipe(struct proc *p, int fds[2])
{
	int rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0 ||
	    (errno = -uv_poll_init(g_server.loop, &p->inpoll, fds[1])) != 0) {
		rc = -errno;
		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	p->inpoll.data = p;
	p->infd = fds[1];
	return 0;
}

int
proc_spawn(struct proc *p, struct op *op, char *err, size_t errsize)
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[4];
	int rc, i, fds[2], infds[2];
	const char *helper = proc_exec_helper();
	char **argv;

	if (helper == NULL) {
		snprintf(err, errsize, "mkproc: exec helper %s: cannot find this program's "
		    "directory", PROC_EXEC_NAME);
		return -ENOENT;
	}
	argv = helper_argv(&p->cmd);
	if (argv == NULL) {
		snprintf(err, errsize, "mkproc: out of memory");
		return -ENOMEM;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = -errno;
		free(argv);
		snprintf(err, errsize, "mkproc: pipe: %s", strerror(-rc));
		return rc;
	}
	if ((rc = stdin_pipe(p, infds)) < 0) {
		close(fds[0]);
		close(fds[1]);
		free(argv);
		snprintf(err, errsize, "mkproc: pipe: %s", strerror(-rc));
		return rc;
	}
	elem_ref(&p->elem);	/* ours, until the last handle is closed */
	p->nhandles = 1;	/* inpoll */
	uv_pipe_init(g_server.loop, &p->report, 0);
	p->report.data = p;
	p->nhandles++;
	for (i = 0; i < 2; i++) {
		uv_pipe_init(g_server.loop, &p->out[i].pipe, 0);
		p->out[i].pipe.data = p;
		p->nhandles++;
	}
	memset(&o, 0, sizeof o);
	/* Its own session, hence its own process group: scrub kills the whole group, and
	 * a terminal's signals to the server's group do not reach it. */
	o.flags = UV_PROCESS_DETACHED;
	o.exit_cb = proc_on_exit;
	o.file = helper;
	o.args = argv;
	o.env = p->cmd.env;
	o.stdio_count = 4;
	o.stdio = stdio;
	stdio[0].flags = UV_INHERIT_FD;
	stdio[0].data.fd = infds[0];
	for (i = 1; i < 3; i++) {
		stdio[i].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[i].data.stream = (uv_stream_t *)&p->out[i - 1].pipe;
	}
	stdio[3].flags = UV_INHERIT_FD;
	stdio[3].data.fd = fds[1];
	rc = uv_spawn(g_server.loop, &p->process, &o);
	p->process.data = p;
	p->nhandles++;		/* uv_spawn initialises the handle even when it fails */
	free(argv);
	close(fds[1]);
	close(infds[0]);
	if (rc == 0)
		rc = uv_pipe_open(&p->report, fds[0]);
	else
		close(fds[0]);
	if (rc == 0)
		rc = uv_read_start((uv_stream_t *)&p->report, on_report_alloc, on_report);
	if (rc < 0) {
		/* The child of uv_spawn execs only the helper: an exec error is the helper's
		 * (missing, or not executable), never the program's. */
		if (rc == UV_ENOENT || rc == UV_EACCES || rc == -ENOEXEC || rc == UV_ENOTDIR)
			snprintf(err, errsize, "mkproc: exec helper %s: %s (make install puts it "
			    "beside circuit)", helper, uv_strerror(rc));
		else
			snprintf(err, errsize, "mkproc: %s: %s", p->cmd.path, uv_strerror(rc));
		goto fail_handles;
	}
	p->pid = p->process.pid;
	proc_started(p);
	p->start_op = op;
	if (op != NULL)
		op_park(op, cancel_start, p);
	for (i = 0; i < 2; i++)
		proc_out_start(&p->out[i]);
	return 0;

fail_handles:
	/* Nothing runs (or it is killed): the handles close and the last close drops our
	 * reference.  A process that did start is reaped by its exit callback. */
	if (p->process.pid != 0) {
		uv_process_kill(&p->process, SIGKILL);
		proc_started(p);
	} else {
		p->state = PROC_EXITED;
		uv_close((uv_handle_t *)&p->process, proc_on_close);
	}
	uv_close((uv_handle_t *)&p->report, proc_on_close);
	proc_in_close(p, 0);
	for (i = 0; i < 2; i++) {
		p->out[i].state = OUT_CLOSED;
		uv_close((uv_handle_t *)&p->out[i].pipe, proc_on_close);
	}
	return rc;
}
