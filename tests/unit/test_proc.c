/* test_proc.c - process elements: real children on a real uv loop, through the op layer:
 * what a process is (its stat, its signals), how it starts, fails, exits and is
 * scrubbed.  Its stdin, stdout and stderr as streams are in test_proc_stdio.c.
 *
 * Each test runs in its own process (Criterion forks), so each gets a fresh server
 * (server_init) on a fresh loop (tests/unit/proc_fixture.h).  Operations are started
 * with op_start() exactly as fs/ and net/ do, and the loop runs until their callbacks
 * fire.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "tests/unit/proc_fixture.h"

TestSuite(proc, .init = setup, .timeout = 60);

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
