/* test_proc.c - process elements: real children on a real uv loop, through the op layer.
 *
 * Each test runs in its own process (Criterion forks), so each gets a fresh server
 * (server_init) on a fresh loop.  Operations are started with op_start() exactly as
 * fs/ and net/ do, and the loop runs until their callbacks fire.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "elements/anchor.h"
#include "elements/element.h"
#include "elements/op.h"
#include "elements/proc.h"
#include "elements/server.h"

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
static int notified;

static void
on_tick(uv_timer_t *t)
{
}

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_eq(server_init(&loop, "127.0.0.1", 0), 0);
	/* Wake the loop often so that a test waiting on a condition re-checks it. */
	uv_timer_init(&loop, &tick);
	uv_timer_start(&tick, on_tick, 10, 10);
}

TestSuite(proc, .init = setup, .timeout = 60);

static void
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
static int
run_until(const int *flag, int ms)
{
	uint64_t end = uv_now(&loop) + (uint64_t)ms;

	while (!*flag && uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_ONCE);
	return *flag;
}

static void
run_for(int ms)
{
	int never = 0;

	run_until(&never, ms);
}

static char *
path_of(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof buf, "/%s/%s", g_server.id, name);
	return buf;
}

static struct op *
start(enum op_type type, const char *name, struct res *r)
{
	struct op *op = op_new(type, on_done, r);

	memset(r, 0, sizeof *r);
	if (name != NULL)
		op->path = strdup(path_of(name));
	op->client = strdup("test");
	return op;
}

static struct res
finish(struct op *op, struct res *r)
{
	op_start(op);
	cr_assert(run_until(&r->done, 10000), "op did not complete");
	return *r;
}

static int
mkdir_(const char *name)
{
	struct res r;

	return finish(start(OP_MKDIR, name, &r), &r).rc;
}

static struct res
ctl(const char *name, const char *cmd)
{
	struct res r;
	struct op *op = start(OP_CTL, name, &r);

	op->data = strdup(cmd);
	op->len = strlen(cmd);
	return finish(op, &r);
}

static int
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
static char *
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

static void
on_notify(struct stream *s, void *arg)
{
	notified++;
}

static struct stream *
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

static struct stream *
must_open(const char *name, const char *file, int mode)
{
	int rc;
	struct stream *s = open_(name, file, mode, &rc);

	cr_assert_eq(rc, 0, "open %s/%s: %d", name, file, rc);
	cr_assert_not_null(s);
	return s;
}

static struct op *
start_read(struct stream *s, size_t max, struct res *r)
{
	struct op *op = start(OP_READ, NULL, r);

	op->stream = s;
	op->max = max;
	return op;
}

/* Read a stream to EOF; returns the bytes (NUL-terminated) and their count. */
static char *
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

static char last_msg[512];

static int
write_(struct stream *s, const char *text)
{
	struct res r;
	struct op *op = start(OP_WRITE, NULL, &r);

	op->stream = s;
	op->data = strdup(text);
	op->len = strlen(text);
	finish(op, &r);
	memcpy(last_msg, r.msg, sizeof last_msg);
	return r.rc;
}

static struct element *
elem_at(const char *name)
{
	struct anchor *a = anchor_lookup(g_server.root, path_of(name));

	return a != NULL ? a->elem : NULL;
}

static void
count_handle(uv_handle_t *h, void *arg)
{
	if (h->type == UV_PROCESS || h->type == UV_NAMED_PIPE)
		(*(int *)arg)++;
}

/* Process and pipe handles still on the loop (closing ones included). */
static int
child_handles(void)
{
	int n = 0;

	uv_walk(&loop, count_handle, &n);
	return n;
}

/* Run the loop until no process or pipe handle is left. */
static void
settle(void)
{
	uint64_t end = uv_now(&loop) + 10000;

	while (child_handles() > 0 && uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_ONCE);
	cr_assert_eq(child_handles(), 0, "handles left on the loop");
}

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
release(struct stream *s)
{
	s->ops->release(s);
}

/* ---- pure parts ---- */

Test(proc_pure, stat_text)
{
	struct cmd c;
	char err[256], *t;
	size_t len;

	cr_assert_eq(cmd_parse("{\"Path\":\"/bin/ls\",\"Args\":[\"/\"]}", &c, err, sizeof err), 0);
	t = proc_stat_text(&c, 123, 0, 0, 0, &len);
	cr_assert_str_eq(t, "{\"Cmd\": {\"Path\": \"/bin/ls\", \"Args\": [\"/\"], \"Env\": null, "
	    "\"Dir\": \"\", \"Scrub\": false}, \"Phase\": \"running\", \"Pid\": 123, "
	    "\"ExitCode\": null, \"Signal\": null, \"Exit\": null}\n");
	cr_assert_eq(len, strlen(t));
	free(t);
	t = proc_stat_text(&c, 123, 1, 1, 0, &len);
	cr_assert(strstr(t, "\"Phase\": \"exited\", \"Pid\": 123, \"ExitCode\": 1, "
	    "\"Signal\": null, \"Exit\": \"exit status 1\"}\n") != NULL, "%s", t);
	free(t);
	t = proc_stat_text(&c, 123, 1, 0, 0, &len);
	cr_assert(strstr(t, "\"ExitCode\": 0, \"Signal\": null, \"Exit\": \"exit status 0\"}") != NULL, "%s", t);
	free(t);
	t = proc_stat_text(&c, 7, 1, 0, SIGKILL, &len);
	cr_assert(strstr(t, "\"Phase\": \"signaled\", \"Pid\": 7, \"ExitCode\": null, "
	    "\"Signal\": \"KILL\", \"Exit\": \"signal: killed\"}\n") != NULL, "%s", t);
	free(t);
	t = proc_stat_text(&c, 7, 1, 0, SIGTERM, &len);
	cr_assert(strstr(t, "\"Signal\": \"TERM\", \"Exit\": \"signal: terminated\"}") != NULL, "%s", t);
	free(t);
	t = proc_stat_text(&c, 7, 1, 0, SIGINT, &len);
	cr_assert_eq(strchr(t, '\n') - t, (long)len - 1);
	cr_assert(strstr(t, "\"Exit\": \"signal: interrupt\"") != NULL, "%s", t);
	free(t);
	cmd_free(&c);
}

Test(proc_pure, signal_parse)
{
	cr_assert_eq(proc_signal_parse("KILL"), SIGKILL);
	cr_assert_eq(proc_signal_parse("SIGKILL"), SIGKILL);
	cr_assert_eq(proc_signal_parse("term"), SIGTERM);
	cr_assert_eq(proc_signal_parse("SIGINT"), SIGINT);
	cr_assert_eq(proc_signal_parse("HUP"), SIGHUP);
	cr_assert_eq(proc_signal_parse("USR1"), SIGUSR1);
	cr_assert_eq(proc_signal_parse("9"), 9);
	cr_assert_eq(proc_signal_parse("15"), 15);
	cr_assert_eq(proc_signal_parse(""), -EINVAL);
	cr_assert_eq(proc_signal_parse(NULL), -EINVAL);
	cr_assert_eq(proc_signal_parse("0"), -EINVAL);
	cr_assert_eq(proc_signal_parse("999"), -EINVAL);
	cr_assert_eq(proc_signal_parse("9x"), -EINVAL);
	cr_assert_eq(proc_signal_parse("NOPE"), -EINVAL);
	cr_assert_eq(proc_signal_parse("SIG"), -EINVAL);
}

/* ---- real processes ---- */

Test(proc, echo_stdout_wait)
{
	struct stream *s;
	size_t n;
	char *out, *w;
	int rc;

	mkproc("e", "{\"Path\":\"/bin/echo\",\"Args\":[\"hello\",\"world\"]}");
	s = must_open("e", "stdout", OP_RDONLY);
	out = read_all(s, &n);
	cr_assert_str_eq(out, "hello world\n");
	free(out);
	w = snap("e", "wait", &rc);
	cr_assert_eq(rc, (int)strlen(w));
	cr_assert(strstr(w, "\"Phase\": \"exited\"") != NULL, "%s", w);
	cr_assert(strstr(w, "\"ExitCode\": 0, \"Signal\": null, \"Exit\": \"exit status 0\"}\n") != NULL, "%s", w);
	cr_assert(strstr(w, "\"Cmd\": {\"Path\": \"/bin/echo\", \"Args\": [\"hello\", \"world\"]") != NULL, "%s", w);
	free(w);
	w = snap("e", "peek", &rc);
	cr_assert(strstr(w, "\"Phase\": \"exited\"") != NULL, "%s", w);
	free(w);
	release(s);
	cr_assert_eq(ctl("e", "scrub").rc, 0);
	cr_assert_null(elem_at("e"));
	settle();
}

Test(proc, exit_code_and_stderr)
{
	struct stream *s;
	size_t n;
	char *out, *w;
	int rc;

	mkproc("x", "{\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"echo oops >&2; exit 3\"]}");
	s = must_open("x", "stderr", OP_RDONLY);
	out = read_all(s, &n);
	cr_assert_str_eq(out, "oops\n");
	free(out);
	release(s);
	w = snap("x", "wait", &rc);
	cr_assert(strstr(w, "\"ExitCode\": 3, \"Signal\": null, \"Exit\": \"exit status 3\"}") != NULL, "%s", w);
	free(w);
	/* Stdout was never read: still EOF, empty. */
	s = must_open("x", "stdout", OP_RDONLY);
	out = read_all(s, &n);
	cr_assert_eq(n, 0);
	free(out);
	release(s);
	cr_assert_eq(ctl("x", "scrub").rc, 0);
	settle();
}

Test(proc, env_and_args)
{
	struct stream *s;
	size_t n;
	char *out;

	mkproc("v", "{\"Path\":\"/usr/bin/env\",\"Env\":[\"A=1\",\"B=two words\"]}");
	s = must_open("v", "stdout", OP_RDONLY);
	out = read_all(s, &n);
	cr_assert_str_eq(out, "A=1\nB=two words\n");
	free(out);
	release(s);
	cr_assert_eq(ctl("v", "scrub").rc, 0);
	settle();
}

Test(proc, spawn_failures)
{
	struct res r;

	cr_assert_eq(mkdir_("f"), 0);
	r = ctl("f", "mkproc {\"Path\":\"/no/such/program\"}");
	cr_assert_eq(r.rc, -ENOENT, "%d %s", r.rc, r.msg);
	cr_assert(strstr(r.msg, "/no/such/program") != NULL, "%s", r.msg);
	cr_assert_null(elem_at("f"));
	r = ctl("f", "mkproc {\"Path\":\"/bin/true\",\"Dir\":\"/no/such/dir\"}");
	cr_assert_eq(r.rc, -ENOENT, "%d %s", r.rc, r.msg);
	cr_assert(strstr(r.msg, "Dir /no/such/dir") != NULL, "%s", r.msg);
	r = ctl("f", "mkproc {\"Path\":\"/bin/true\",\"Dir\":\"/etc/passwd\"}");
	cr_assert_eq(r.rc, -ENOTDIR, "%d %s", r.rc, r.msg);
	r = ctl("f", "mkproc {\"Path\":\"/bin/ls\",\"Args\":\"/\"}");
	cr_assert_eq(r.rc, -EINVAL);
	cr_assert(strstr(r.msg, "mkproc: \"Args\" must be an array of strings") != NULL, "%s", r.msg);
	r = ctl("f", "mkproc");
	cr_assert_eq(r.rc, -EINVAL);
	cr_assert_null(elem_at("f"));
	settle();
	/* The anchor is still usable. */
	mkproc("f/g", "{\"Path\":\"/bin/true\"}");
	cr_assert_eq(ctl("f/g", "scrub").rc, 0);
	settle();
}

Test(proc, signal_verb)
{
	struct res r;
	char *w;
	int rc;

	mkproc("s", "{\"Path\":\"/bin/sleep\",\"Args\":[\"100\"]}");
	w = snap("s", "peek", &rc);
	cr_assert(strstr(w, "\"Phase\": \"running\"") != NULL, "%s", w);
	cr_assert(strstr(w, "\"ExitCode\": null, \"Signal\": null, \"Exit\": null}") != NULL, "%s", w);
	free(w);
	r = ctl("s", "signal NOPE");
	cr_assert_eq(r.rc, -EINVAL, "%d", r.rc);
	r = ctl("s", "signal");
	cr_assert_eq(r.rc, -EINVAL, "%d", r.rc);
	r = ctl("s", "frobnicate now");
	cr_assert_eq(r.rc, -EINVAL, "%d", r.rc);
	r = ctl("s", "signal TERM");
	cr_assert_eq(r.rc, 0, "%d %s", r.rc, r.msg);
	w = snap("s", "wait", &rc);
	cr_assert(strstr(w, "\"Phase\": \"signaled\"") != NULL, "%s", w);
	cr_assert(strstr(w, "\"ExitCode\": null, \"Signal\": \"TERM\", \"Exit\": \"signal: terminated\"}") != NULL, "%s", w);
	free(w);
	r = ctl("s", "signal 9");
	cr_assert_eq(r.rc, -ESRCH, "%d", r.rc);
	cr_assert_eq(ctl("s", "scrub").rc, 0);
	settle();
}

Test(proc, stdin_cat_round_trip)
{
	struct stream *in, *out;
	struct res r;
	char *data, *w;
	size_t n;
	int rc;

	mkproc("c", "{\"Path\":\"/bin/cat\"}");
	in = must_open("c", "stdin", OP_WRONLY);
	out = must_open("c", "stdout", OP_RDONLY);
	cr_assert_eq(in->ops->poll(in), POLLOUT);
	cr_assert_eq(out->ops->poll(out), 0);
	cr_assert_eq(write_(in, "ping\n"), 5);
	/* Output comes as it is produced: no need to close stdin. */
	finish(start_read(out, 4096, &r), &r);
	cr_assert_eq(r.rc, 5);
	cr_assert(memcmp(r.data, "ping\n", 5) == 0);
	free(r.data);
	cr_assert_eq(write_(in, "pong\n"), 5);
	run_for(100);
	cr_assert_eq(out->ops->poll(out), POLLIN);
	cr_assert_gt(notified, 0);
	/* Closing the last stdin stream is EOF for cat, which then exits. */
	release(in);
	data = read_all(out, &n);
	cr_assert_str_eq(data, "pong\n");
	free(data);
	cr_assert_eq(out->ops->poll(out), POLLIN, "EOF is readable");
	w = snap("c", "wait", &rc);
	cr_assert(strstr(w, "\"Exit\": \"exit status 0\"") != NULL, "%s", w);
	free(w);
	/* After exit, stdin refuses writes. */
	in = must_open("c", "stdin", OP_WRONLY);
	cr_assert_eq(in->ops->poll(in), POLLOUT | POLLERR);
	cr_assert_eq(write_(in, "late\n"), -EPIPE);
	release(in);
	release(out);
	cr_assert_eq(ctl("c", "scrub").rc, 0);
	settle();
}

Test(proc, open_modes)
{
	int rc;

	mkproc("m", "{\"Path\":\"/bin/true\"}");
	cr_assert_null(open_("m", "stdout", OP_WRONLY, &rc));
	cr_assert_eq(rc, -EACCES);
	cr_assert_null(open_("m", "stdin", OP_RDONLY, &rc));
	cr_assert_eq(rc, -EACCES);
	cr_assert_null(open_("m", "nope", OP_RDONLY, &rc));
	cr_assert_eq(rc, -ENOENT);
	cr_assert_eq(ctl("m", "scrub").rc, 0);
	settle();
}

Test(proc, back_pressure)
{
	struct element *e;
	struct stream *s;
	char *data, *w, *expect;
	size_t n, elen = 0, ecap = 1 << 24;
	int rc;

	/* seq 1 1500000 writes about 10.9 MB. */
	mkproc("b", "{\"Path\":\"/usr/bin/seq\",\"Args\":[\"1\",\"1500000\"]}");
	e = elem_at("b");
	cr_assert_not_null(e);
	run_for(1000);
	cr_assert_leq(proc_buffered(e, 1), PROC_OUT_CAP);
	cr_assert_geq(proc_buffered(e, 1), PROC_OUT_CAP / 2, "output was not read at all");
	w = snap("b", "peek", &rc);
	cr_assert(strstr(w, "\"Phase\": \"running\"") != NULL, "seq must block writing: %s", w);
	free(w);
	s = must_open("b", "stdout", OP_RDONLY);
	data = read_all(s, &n);
	expect = malloc(ecap);
	for (int i = 1; i <= 1500000; i++)
		elen += (size_t)sprintf(expect + elen, "%d\n", i);
	cr_assert_eq(n, elen);
	cr_assert(memcmp(data, expect, n) == 0, "bytes out of order");
	free(data);
	free(expect);
	w = snap("b", "wait", &rc);
	cr_assert(strstr(w, "\"Exit\": \"exit status 0\"") != NULL, "%s", w);
	free(w);
	release(s);
	cr_assert_eq(ctl("b", "scrub").rc, 0);
	settle();
}

Test(proc, shared_readers_fifo)
{
	struct stream *a, *b, *in;
	struct res ra, rb;

	mkproc("r", "{\"Path\":\"/bin/cat\"}");
	a = must_open("r", "stdout", OP_RDONLY);
	b = must_open("r", "stdout", OP_RDONLY);
	in = must_open("r", "stdin", OP_WRONLY);
	op_start(start_read(a, 100, &ra));
	op_start(start_read(b, 100, &rb));
	run_for(50);
	cr_assert(!ra.done && !rb.done, "reads park while there is no output");
	cr_assert_eq(write_(in, "one\n"), 4);
	cr_assert(run_until(&ra.done, 5000));
	cr_assert_eq(ra.rc, 4, "the first parked read gets the data");
	cr_assert(!rb.done);
	cr_assert_eq(write_(in, "two\n"), 4);
	cr_assert(run_until(&rb.done, 5000));
	cr_assert_eq(rb.rc, 4);
	cr_assert(memcmp(rb.data, "two\n", 4) == 0);
	free(ra.data);
	free(rb.data);
	release(in);
	release(a);
	release(b);
	cr_assert_eq(ctl("r", "scrub").rc, 0);
	settle();
}

Test(proc, cancel_parked)
{
	struct stream *s;
	struct op *rd, *wt;
	struct res rr, rw;
	char *w;
	int rc;

	mkproc("k", "{\"Path\":\"/bin/sleep\",\"Args\":[\"100\"]}");
	s = must_open("k", "stdout", OP_RDONLY);
	rd = start_read(s, 100, &rr);
	op_start(rd);
	wt = start(OP_SNAP, "k", &rw);
	wt->file = strdup("wait");
	op_start(wt);
	run_for(50);
	cr_assert(!rr.done && !rw.done);
	op_cancel(rd);
	op_cancel(wt);
	cr_assert(run_until(&rr.done, 1000));
	cr_assert(run_until(&rw.done, 1000));
	cr_assert_eq(rr.rc, -EINTR);
	cr_assert_eq(rw.rc, -EINTR);
	w = snap("k", "peek", &rc);
	cr_assert(strstr(w, "\"Phase\": \"running\"") != NULL, "%s", w);
	free(w);
	/* Still consistent: a new wait works, and the process can be signalled. */
	wt = start(OP_SNAP, "k", &rw);
	wt->file = strdup("wait");
	op_start(wt);
	cr_assert_eq(ctl("k", "signal KILL").rc, 0);
	cr_assert(run_until(&rw.done, 5000));
	cr_assert(strstr(rw.data, "\"Signal\": \"KILL\", \"Exit\": \"signal: killed\"") != NULL);
	free(rw.data);
	release(s);
	cr_assert_eq(ctl("k", "scrub").rc, 0);
	settle();
}

Test(proc, scrub_running_reaps)
{
	struct element *e;
	struct res rw, rr;
	struct op *wt;
	struct stream *s;
	char *w;
	int rc, pid;

	mkproc("z", "{\"Path\":\"/bin/sleep\",\"Args\":[\"100\"]}");
	w = snap("z", "peek", &rc);
	pid = atoi(strstr(w, "\"Pid\": ") + 7);
	free(w);
	cr_assert_gt(pid, 0);
	e = elem_at("z");
	s = must_open("z", "stdout", OP_RDONLY);
	op_start(start_read(s, 100, &rr));
	wt = start(OP_SNAP, "z", &rw);
	wt->file = strdup("wait");
	op_start(wt);
	run_for(20);
	cr_assert_eq(ctl("z", "scrub").rc, 0);
	cr_assert_null(elem_at("z"));
	/* wait gets the final stat once the child is reaped; the reader gets EOF. */
	cr_assert(run_until(&rw.done, 5000));
	cr_assert(strstr(rw.data, "\"Signal\": \"KILL\"") != NULL, "%s", rw.data);
	free(rw.data);
	cr_assert(run_until(&rr.done, 5000));
	cr_assert_eq(rr.rc, 0);
	settle();
	cr_assert_eq(e->refs, 1, "only the stream holds it now");
	release(s);
	cr_assert_eq(kill(pid, 0), -1, "pid %d must be reaped", pid);
	cr_assert_eq(errno, ESRCH);
	cr_assert_eq(ctl("z", "scrub").rc, -ENOENT);
	cr_assert_eq(ctl("z", "signal KILL").rc, -EINVAL);
}

Test(proc, scrubbed_streams_drain)
{
	struct stream *in, *out;
	char *data;
	size_t n;

	mkproc("d", "{\"Path\":\"/bin/cat\"}");
	in = must_open("d", "stdin", OP_WRONLY);
	out = must_open("d", "stdout", OP_RDONLY);
	cr_assert_eq(write_(in, "buffered\n"), 9);
	run_for(100);
	cr_assert_eq(proc_buffered(elem_at("d"), 1), 9);
	cr_assert_eq(ctl("d", "scrub").rc, 0);
	cr_assert_eq(write_(in, "more\n"), -EPIPE);
	data = read_all(out, &n);
	cr_assert_str_eq(data, "buffered\n");
	free(data);
	release(in);
	release(out);
	settle();
}

Test(proc, scrub_true_removes_at_exit)
{
	struct stream *s;
	struct res r;
	char *data;
	size_t n;

	mkproc("t", "{\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"read x; echo got $x\"],\"Scrub\":true}");
	s = must_open("t", "stdout", OP_RDONLY);
	op_start(start_read(s, 100, &r));
	{
		struct stream *in = must_open("t", "stdin", OP_WRONLY);
		cr_assert_eq(write_(in, "it\n"), 3);
		release(in);
	}
	cr_assert(run_until(&r.done, 5000));
	cr_assert_eq(r.rc, 7);
	cr_assert(memcmp(r.data, "got it\n", 7) == 0);
	free(r.data);
	data = read_all(s, &n);
	cr_assert_eq(n, 0);
	free(data);
	for (int i = 0; i < 100 && elem_at("t") != NULL; i++)
		run_for(20);
	cr_assert_null(elem_at("t"), "Scrub:true removes the element at exit");
	release(s);
	settle();
}

Test(proc, dir_and_exec_helper)
{
	struct stream *s;
	char *data, *w;
	size_t n;
	int rc;
	struct res r;

	mkproc("p", "{\"Path\":\"/bin/pwd\",\"Dir\":\"/tmp\"}");
	s = must_open("p", "stdout", OP_RDONLY);
	data = read_all(s, &n);
	cr_assert_str_eq(data, "/tmp\n");
	free(data);
	release(s);
	w = snap("p", "wait", &rc);
	cr_assert(strstr(w, "\"Dir\": \"/tmp\"") != NULL, "%s", w);
	cr_assert(strstr(w, "\"Exit\": \"exit status 0\"") != NULL, "%s", w);
	free(w);
	cr_assert_eq(ctl("p", "scrub").rc, 0);

	/* The helper passes argv untouched, and searches the PATH of Env. */
	mkproc("q", "{\"Path\":\"sh\",\"Args\":[\"-c\",\"pwd; echo $0 \\\"$@\\\"\",\"a b\",\"c\"],"
	    "\"Dir\":\"/etc\",\"Env\":[\"PATH=/nonexistent:/bin\"]}");
	s = must_open("q", "stdout", OP_RDONLY);
	data = read_all(s, &n);
	cr_assert_str_eq(data, "/etc\na b c\n");
	free(data);
	release(s);
	cr_assert_eq(ctl("q", "scrub").rc, 0);
	/* Failures of the helper's steps fail mkproc with their errno. */
	cr_assert_eq(mkdir_("q2"), 0);
	r = ctl("q2", "mkproc {\"Path\":\"true\",\"Env\":[\"PATH=/nonexistent\"]}");
	cr_assert_eq(r.rc, -ENOENT, "%d %s", r.rc, r.msg);
	r = ctl("q2", "mkproc {\"Path\":\"/bin/true\",\"Dir\":\"/root/../etc/passwd\"}");
	cr_assert_eq(r.rc, -ENOTDIR, "%d %s", r.rc, r.msg);
	r = ctl("q2", "mkproc {\"Path\":\"../etc/passwd\",\"Dir\":\"/etc\"}");
	cr_assert_eq(r.rc, -EACCES, "%d %s", r.rc, r.msg);
	cr_assert(strstr(r.msg, "../etc/passwd") != NULL, "%s", r.msg);
	cr_assert_null(elem_at("q2"));
	settle();
}

Test(proc, rmdir_scrubs, .timeout = 30)
{
	struct res r;

	mkproc("rm", "{\"Path\":\"/bin/sleep\",\"Args\":[\"100\"]}");
	finish(start(OP_RMDIR, "rm", &r), &r);
	cr_assert_eq(r.rc, 0, "%s", r.msg);
	cr_assert_null(anchor_lookup(g_server.root, path_of("rm")));
	settle();
}

Test(proc, no_fd_leak, .timeout = 120)
{
	int before, after;
	char name[32];
	struct res r;

	/* Warm up: libuv's signal pipe and SIGCHLD handler appear at the first spawn. */
	mkproc("w", "{\"Path\":\"/bin/true\"}");
	cr_assert_eq(ctl("w", "scrub").rc, 0);
	settle();
	before = open_fds();
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "n%d", i);
		mkproc(name, i % 2 ? "{\"Path\":\"/bin/true\"}" : "{\"Path\":\"/bin/sleep\",\"Args\":[\"100\"]}");
		cr_assert_eq(ctl(name, "scrub").rc, 0);
		finish(start(OP_RMDIR, name, &r), &r);
		cr_assert_eq(r.rc, 0);
	}
	settle();
	after = open_fds();
	cr_assert_eq(after, before, "fds: %d before, %d after", before, after);
}

Test(proc, stdin_back_pressure_and_cancel)
{
	struct stream *in, *out;
	struct op *op;
	struct res r, r2;
	size_t big = 4 << 20, n;
	char *pat, *got;
	int taken;

	/* cat does not read stdin while its stdout is full: the write blocks. */
	mkproc("i", "{\"Path\":\"/bin/cat\"}");
	in = must_open("i", "stdin", OP_WRONLY);
	pat = malloc(big);
	for (size_t i = 0; i < big; i++)
		pat[i] = (char)(i % 251);
	op = start(OP_WRITE, NULL, &r);
	op->stream = in;
	op->data = malloc(big);
	memcpy(op->data, pat, big);
	op->len = big;
	op_start(op);
	run_for(300);
	cr_assert(!r.done, "a write the child does not read waits");
	cr_assert_eq(in->ops->poll(in), 0, "stdin is not writable while a write waits");
	/* Interrupted: it answers the bytes the pipe took, which the child gets once. */
	op_cancel(op);
	cr_assert(run_until(&r.done, 1000));
	taken = r.rc;
	cr_assert(taken > 0 && (size_t)taken < big, "interrupted write answered %d", taken);
	op = start(OP_WRITE, NULL, &r2);
	op->stream = in;
	op->data = strdup("END\n");
	op->len = 4;
	op_start(op);
	release(in);
	cr_assert(run_until(&r2.done, 1000));
	cr_assert_eq(r2.rc, 4);
	out = must_open("i", "stdout", OP_RDONLY);
	got = read_all(out, &n);
	release(out);
	cr_assert_eq(n, (size_t)taken + 4, "the child got %zu bytes, %d + 4 were taken", n, taken);
	cr_assert(memcmp(got, pat, (size_t)taken) == 0, "the bytes taken, in order, once");
	cr_assert(memcmp(got + taken, "END\n", 4) == 0);
	free(got);
	free(pat);

	/* A write the pipe took nothing of is interrupted with EINTR. */
	mkproc("j", "{\"Path\":\"/bin/sleep\",\"Args\":[\"100\"]}");
	in = must_open("j", "stdin", OP_WRONLY);
	op = start(OP_WRITE, NULL, &r);
	op->stream = in;
	op->data = calloc(1, big);
	op->len = big;
	op_start(op);
	run_for(100);
	op = start(OP_WRITE, NULL, &r2);
	op->stream = in;
	op->data = strdup("x");
	op->len = 1;
	op_start(op);
	run_for(100);
	cr_assert(!r2.done, "queued behind the first");
	op_cancel(op);
	cr_assert(run_until(&r2.done, 1000));
	cr_assert_eq(r2.rc, -EINTR);
	release(in);
	cr_assert(run_until(&r.done, 1000));
	cr_assert_eq(ctl("i", "scrub").rc, 0);
	cr_assert_eq(ctl("j", "scrub").rc, 0);
	settle();
}

Test(proc, child_closed_stdin)
{
	struct stream *in;
	struct op *op;
	struct res r;
	size_t big = 1 << 20;

	mkproc("j", "{\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"exec 0<&-; sleep 100\"]}");
	in = must_open("j", "stdin", OP_WRONLY);
	run_for(100);
	op = start(OP_WRITE, NULL, &r);
	op->stream = in;
	op->data = calloc(1, big);
	op->len = big;
	op_start(op);
	cr_assert(run_until(&r.done, 5000));
	cr_assert_eq(r.rc, -EPIPE, "%d %s", r.rc, r.msg);
	release(in);
	cr_assert_eq(ctl("j", "scrub").rc, 0);
	settle();
}
