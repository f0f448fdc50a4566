/* proc.c - the process element: uv_spawn, stdio pipes, bounded output, wait, signal.
 *
 * Lifetime.  The anchor holds one reference, every open stream one, and the element
 * holds its own while any of its five uv handles (process, exec report pipe, stdin
 * poll, stdout and stderr pipes) is open; the last close callback drops it.  The process handle closes in
 * exit_cb, so the child is always reaped; stdin closes at exit, on the release of its
 * last stream or at scrub; an output pipe closes at EOF, or at scrub when no stream
 * is open on it (otherwise when its last stream goes, so readers drain to EOF).
 *
 * Starting the child is in proc_spawn.c, the stdio pipes and their streams in
 * proc_stream.c.
 *
 * Scrub kills the child's whole process group with SIGKILL (grandchildren too);
 * parked `wait` reads then get the final stat JSON once it is reaped (not an error),
 * parked stdin writes fail with EPIPE.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "elements/anchor.h"
#include "elements/log.h"
#include "elements/proc_priv.h"
#include "elements/signal.h"

const struct op_file proc_files[] = {
	{ "stdin", OPF_WRITE | OPF_STREAM },
	{ "stdout", OPF_READ | OPF_STREAM },
	{ "stderr", OPF_READ | OPF_STREAM },
	{ "wait", OPF_READ },
	{ "peek", OPF_READ },
	{ NULL, 0 },
};

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

static int nrunning;	/* children spawned and not yet reaped */

int
proc_running(void)
{
	return nrunning;
}

void
proc_started(struct proc *p)
{
	p->state = PROC_RUNNING;
	nrunning++;
}

void
proc_on_close(uv_handle_t *h)
{
	struct proc *p = h->data;

	if (--p->nhandles == 0)
		elem_unref(&p->elem);
}
void
proc_on_exit(uv_process_t *h, int64_t status, int sig)
{
	struct proc *p = h->data;
	struct op *op;
	char *text;
	size_t len;

	p->state = PROC_EXITED;
	nrunning--;
	p->exit_status = status;
	p->term_signal = sig;
	uv_close((uv_handle_t *)h, proc_on_close);
	proc_in_close(p, 0);
	while ((op = TAILQ_FIRST(&p->waiters)) != NULL) {
		TAILQ_REMOVE(&p->waiters, op, link);
		text = stat_of(p, &len);
		if (text == NULL)
			op_fail(op, -ENOMEM, "out of memory");
		else
			op_done_data(op, text, len);
	}
	proc_notify(p, 0);
	if (p->on_exit != NULL)
		p->on_exit(p);
	if (p->cmd.scrub)
		elem_scrub(&p->elem);
}

void
proc_init(struct proc *p, const struct elem_kind *k)
{
	int i;

	elem_init(&p->elem, k);
	TAILQ_INIT(&p->waiters);
	TAILQ_INIT(&p->writes);
	p->infd = -1;
	for (i = 0; i < 3; i++)
		TAILQ_INIT(&p->streams[i]);
	for (i = 0; i < 2; i++) {
		p->out[i].p = p;
		p->out[i].fd = i + 1;
		TAILQ_INIT(&p->out[i].readers);
	}
}

int
proc_start(struct proc *p, char *err, size_t errsize)
{
	return proc_spawn(p, NULL, err, errsize);
}

static void
proc_make(struct anchor *a, const char *arg, struct op *op)
{
	char err[512];
	struct proc *p;
	int rc;

	p = calloc(1, sizeof *p);
	if (p == NULL) {
		op_fail(op, -ENOMEM, "%s: mkproc: out of memory", a->path);
		return;
	}
	rc = cmd_parse(arg, &p->cmd, err, sizeof err);
	if (rc < 0) {
		free(p);
		op_fail(op, rc, "%s: %s", a->path, err);
		return;
	}
	proc_init(p, &proc_kind);
	rc = proc_spawn(p, op, err, sizeof err);
	if (rc < 0) {
		op_fail(op, rc, "%s: %s", a->path, err);
		/* If a spawn failed, its handles' close callbacks free p; else we do. */
		elem_unref(&p->elem);
		return;
	}
	/* Attached now, so no second mkproc races for the anchor; op answers once the
	 * program is exec'd (proc_spawn.c). */
	anchor_attach(a, &p->elem);
}
/* ---- verbs and snapshot files ---- */

static void
proc_verb(struct element *e, const char *verb, const char *arg, struct op *op)
{
	struct proc *p = (struct proc *)e;
	int sig, rc;

	if ((sig = signal_of_verb(e, "process", verb, arg, op)) < 0)
		return;
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
/* ---- scrub and destroy ---- */

/* SIGKILL p's process group: the child and whatever it started that stayed in its
 * group (the child is a session leader, see proc_spawn.c).  Once the child is reaped
 * its pid names our group only while no process holds that pid: the kernel keeps a
 * pid unused while it still names a group, so a live process with that pid means the
 * group is gone and the number was reused. */
void
proc_kill_group(struct proc *p)
{
	if (p->pid <= 0)
		return;
	if (p->state != PROC_RUNNING && !(kill(p->pid, 0) < 0 && errno == ESRCH))
		return;
	if (kill(-p->pid, SIGKILL) < 0 && errno != ESRCH)
		log_warn("scrub: kill process group %d", p->pid);
	if (p->state == PROC_RUNNING)
		uv_process_kill(&p->process, SIGKILL);	/* in case it left its group */
}

static void
proc_scrub(struct element *e)
{
	struct proc *p = (struct proc *)e;
	int i;

	p->scrubbed = 1;
	proc_kill_group(p);
	proc_in_close(p, 0);
	for (i = 0; i < 2; i++)
		if (p->nstreams[i + 1] == 0)
			proc_out_close(&p->out[i]);
}

static void
proc_destroy(struct element *e)
{
	struct proc *p = (struct proc *)e;

	if (p->nhandles != 0)
		fatalx("proc_destroy: %d handles still open", p->nhandles);
	proc_out_free(&p->out[0]);
	proc_out_free(&p->out[1]);
	cmd_free(&p->cmd);
	free(p);
}
static const char proc_help[] =
"A process element: a program this server runs, made by\n"
"  echo 'mkproc {\"Path\":\"/bin/ls\",\"Args\":[\"-l\",\"/\"]}' > ctl\n"
"Cmd JSON: Path (required; argv[0]), Args (the arguments after argv[0]), Env\n"
"([\"K=V\",...]: exactly the environment; absent: the server's), Dir (working\n"
"directory; may lie inside this mount), Scrub (true: remove the element at exit).\n"
"Path, PATH (from Env) and Dir may lead anywhere, this mount included: the server\n"
"never waits on them.  mkproc answers once the program runs; a missing Dir or\n"
"program fails it with that errno (ENOENT, EACCES, ENOTDIR, ...).\n"
"\n"
"Files:\n"
"  stdin   write to the process's standard input; the last close of stdin closes it\n"
"          (echo hello > stdin;  cat input.txt > stdin).  A remote writer lost\n"
"          mid-stream kills the running process (error says why): a cut input\n"
"          never ends in an EOF as if whole.  After the exit it kills nothing.\n"
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
"  scrub        kill the process and every process it started in its process group\n"
"               (SIGKILL), reap it, remove the element (rmdir and shutdown do too)\n";

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
