/* dkr.c - the container element: docker create, an attached client as a process, inspect.
 *
 * Life of an element.  mkdkr attaches it at once (so the anchor is taken) in state
 * CREATING and runs `docker create`; the mkdkr op waits for it.  Then the embedded
 * process element runs `docker start --attach --interactive ID`, whose stdio is the
 * container's: stdin, stdout and stderr are the process element's own streams, with
 * its bounded buffers and back-pressure.  When that client exits the container has
 * stopped: `docker inspect` fetches the final document, which answers every `wait`;
 * then Scrub: true removes the element.  scrub runs `docker rm -f` (which kills and
 * removes the container) and kills the attached client.
 *
 * Every docker command runs as a child on the loop (dkr_cli.c) and holds a reference
 * on the element, so the container ID stays valid until it has answered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elements/anchor.h"
#include "elements/dkr.h"
#include "elements/log.h"
#include "elements/proc_priv.h"
#include "elements/server.h"
#include "elements/signal.h"
#include "elements/spec.h"

/* Deadlines of docker commands: create and rm may wait for a busy engine. */
#define CREATE_MS 120000
#define SHORT_MS 60000

enum dkr_state { DKR_CREATING, DKR_RUNNING, DKR_EXITED };

struct dkr {
	struct proc p;			/* first: the element and the attached client */
	enum dkr_state state;
	int scrubbed;
	int scrub_on_exit;		/* the spec's Scrub */
	int removing;			/* docker rm issued */
	char id[80];			/* the container's ID, once created */
	struct op *make_op;		/* the mkdkr op while CREATING, NULL if cancelled */
	struct op_queue waiters;	/* parked `wait` reads */
	json_t *final;			/* the inspect document after exit, once fetched */
	char *final_err;		/* or why it could not be fetched */
	int final_rc;
};

/* A kill in the moment between create and the engine's start of the container fails
 * with "is not running"; while the attached client lives it is retried after a pause
 * of KILL_RETRY_MS, at most KILL_RETRY_MAX times (over 10 s in all), then fails. */
#define KILL_RETRY_MS 100
#define KILL_RETRY_MAX 100

/* One peek or signal waiting for its docker command; op is NULL once cancelled. */
struct dreq {
	struct dkr *d;
	struct op *op;
	char what[16];
	int sig;			/* for a signal: the signal, and */
	int tries;			/* how many kills have found it not yet running */
	uv_timer_t timer;		/* the pause before the next try */
};

/* ---- labels ---- */

/* The start time of process pid in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0 if there is no such process. */
static unsigned long long
pid_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields follow the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
	    "%*d %*d %*d %llu", &t) != 1)
		return 0;
	return t;
}

/* The labels of every container of this server: "circuit.server=XID" and the host,
 * PID and PID start time that tell the next server whether this one still runs. */
static char **
make_labels(const char *anchor)
{
	static char host[256];
	char **v = calloc(6, sizeof *v);
	int bad = v == NULL;

	if (host[0] == '\0' && gethostname(host, sizeof host - 1) < 0)
		snprintf(host, sizeof host, "unknown");
	if (!bad)
		bad = asprintf(&v[0], "circuit.server=%s", g_server.id) < 0 ||
		    asprintf(&v[1], "circuit.host=%s", host) < 0 ||
		    asprintf(&v[2], "circuit.pid=%ld", (long)getpid()) < 0 ||
		    asprintf(&v[3], "circuit.pidstart=%llu", pid_start((long)getpid())) < 0 ||
		    asprintf(&v[4], "circuit.anchor=%s", anchor) < 0;
	if (bad) {
		spec_strv_free(v);
		return NULL;
	}
	return v;
}

/* ---- running docker commands for an element ---- */

static char **
argv_of(char *a, char *b, char *c, char *d)
{
	static char docker[] = "docker", *v[8];

	v[0] = docker;
	v[1] = a;
	v[2] = b;
	v[3] = c;
	v[4] = d;
	v[5] = NULL;
	return v;
}

/* Run a docker command on behalf of d, which stays referenced until cb has run. */
static int
run(struct dkr *d, char **argv, unsigned ms, dkr_cli_cb cb, void *arg)
{
	int rc;

	elem_ref(&d->p.elem);
	rc = dkr_cli_run(argv, ms, cb, arg);
	if (rc < 0)
		elem_unref(&d->p.elem);
	return rc;
}

/* The message of a failed command: the engine's words, or why the client failed. */
static const char *
words(int status, char *err)
{
	if (status == -ETIMEDOUT)
		return "the docker engine did not answer in time";
	if (status == -E2BIG)
		return "the docker client said more than expected";
	if (status == -ENOENT || status == -EACCES)
		return "the docker command-line client is not installed (apt-get install docker.io)";
	return dkr_cli_words(err);
}

/* The errno and a message for a command that could not even be started. */
static int
spawn_errno(int rc, const char **msg)
{
	if (rc == -ENOENT || rc == -EACCES) {
		*msg = "the docker command-line client is not installed (apt-get install docker.io)";
		return -EOPNOTSUPP;
	}
	*msg = rc == -EAGAIN ? "too many docker commands running; try again" : uv_strerror(rc);
	return rc == -EAGAIN ? -EBUSY : rc;
}

static void
on_removed(void *arg, int status, char *out, size_t outlen, char *err)
{
	struct dkr *d = arg;

	(void)out;
	(void)outlen;
	if (status != 0 && dkr_cli_errno(status, err) != -ENOENT)
		log_warnx("docker rm %s: %s", d->id, words(status, err));
	elem_unref(&d->p.elem);
}

/* Kill and remove the container (once), in the background. */
static void
remove_container(struct dkr *d)
{
	const char *msg = "";
	int rc;

	if (d->removing || d->id[0] == '\0')
		return;
	d->removing = 1;
	rc = run(d, argv_of("rm", "--force", "--volumes", d->id), SHORT_MS, on_removed, d);
	if (rc == -EAGAIN)
		rc = dkr_cli_remove_later(d->id);	/* with others, when a slot is free */
	if (rc < 0) {
		spawn_errno(rc, &msg);
		log_warnx("docker rm %s: %s (the next start with -docker removes it)", d->id, msg);
	}
}

/* ---- wait: the inspect document once the container has stopped ---- */

static void
answer_waiters(struct dkr *d)
{
	struct op *op;

	while ((op = TAILQ_FIRST(&d->waiters)) != NULL) {
		TAILQ_REMOVE(&d->waiters, op, link);
		if (d->final != NULL)
			op_done_json(op, json_incref(d->final), JSON_PRESERVE_ORDER);
		else
			op_fail(op, d->final_rc, "%s: wait: %s", elem_path(&d->p.elem),
			    d->final_err != NULL ? d->final_err : "out of memory");
	}
}

static void
set_final_error(struct dkr *d, int rc, const char *msg)
{
	d->final_rc = rc;
	free(d->final_err);
	d->final_err = strdup(msg);
}

/* Parse `docker inspect` output (a JSON array of one object) into its object. */
static json_t *
inspect_doc(const char *out, char *msg, size_t msgsize)
{
	json_error_t jerr;
	json_t *a = json_loads(out, 0, &jerr), *o;

	o = json_is_array(a) && json_array_size(a) == 1 ? json_array_get(a, 0) : NULL;
	if (!json_is_object(o)) {
		snprintf(msg, msgsize, "docker inspect gave no document (%s)",
		    a == NULL ? jerr.text : "not one object");
		json_decref(a);
		return NULL;
	}
	json_incref(o);
	json_decref(a);
	return o;
}

static void
on_final(void *arg, int status, char *out, size_t outlen, char *err)
{
	struct dkr *d = arg;
	char msg[256];

	(void)outlen;
	if (status != 0)
		set_final_error(d, dkr_cli_errno(status, err), words(status, err));
	else if ((d->final = inspect_doc(out, msg, sizeof msg)) == NULL)
		set_final_error(d, -EIO, msg);
	answer_waiters(d);
	if (d->scrub_on_exit)
		elem_scrub(&d->p.elem);
	elem_unref(&d->p.elem);
}

/* The attached client was reaped: the container has stopped (or was removed). */
static void
on_attached_exit(struct proc *p)
{
	struct dkr *d = (struct dkr *)p;
	const char *msg = "";
	int rc;

	d->state = DKR_EXITED;
	if (d->scrubbed)
		return;
	rc = run(d, argv_of("inspect", "--type=container", d->id, NULL), SHORT_MS, on_final, d);
	if (rc < 0) {
		set_final_error(d, spawn_errno(rc, &msg), msg);
		answer_waiters(d);
		if (d->scrub_on_exit)
			elem_scrub(&d->p.elem);
	}
}

/* ---- mkdkr ---- */

/* mkdkr failed: fail the op with "PATH: mkdkr: WHAT", any waits too, and take the
 * element off its anchor. */
static void
make_failed(struct dkr *d, int rc, const char *what)
{
	struct op *op = d->make_op;

	d->make_op = NULL;
	if (op != NULL)
		op_fail(op, rc, "%s: mkdkr: %s", elem_path(&d->p.elem), what);
	set_final_error(d, rc, what);
	answer_waiters(d);
	elem_scrub(&d->p.elem);
}

static void
on_created(void *arg, int status, char *out, size_t outlen, char *err)
{
	struct dkr *d = arg;
	char msg[512];
	int rc;

	while (outlen > 0 && (out[outlen - 1] == '\n' || out[outlen - 1] == '\r'))
		out[--outlen] = '\0';
	if (status == 0 && (outlen == 0 || outlen >= sizeof d->id || strchr(out, '\n') != NULL))
		status = -EIO;
	if (status == 0)
		memcpy(d->id, out, outlen + 1);
	if (d->scrubbed) {
		/* Scrubbed (or rmdir'd) while being created: the container goes too. */
		remove_container(d);
		if (d->make_op != NULL)
			op_fail(d->make_op, -EINTR, "%s: mkdkr: scrubbed while the container "
			    "was being created", d->make_op->path);
		d->make_op = NULL;
		goto out;
	}
	if (status != 0) {
		rc = status == -EIO ? -EIO : dkr_cli_errno(status, err);
		if (rc == -ECONNREFUSED) {
			snprintf(msg, sizeof msg, "the docker engine is not running (%s)",
			    words(status, err));
			make_failed(d, rc, msg);
		} else {
			make_failed(d, rc, status == -EIO ? "docker create gave no container ID" :
			    words(status, err));
		}
		goto out;
	}
	/* Attach before start so that no output is lost, and forward stdin. */
	d->p.cmd.path = strdup("docker");
	d->p.cmd.args = calloc(5, sizeof *d->p.cmd.args);
	if (d->p.cmd.path == NULL || d->p.cmd.args == NULL ||
	    (d->p.cmd.args[0] = strdup("start")) == NULL ||
	    (d->p.cmd.args[1] = strdup("--attach")) == NULL ||
	    (d->p.cmd.args[2] = strdup("--interactive")) == NULL ||
	    (d->p.cmd.args[3] = strdup(d->id)) == NULL) {
		remove_container(d);
		make_failed(d, -ENOMEM, "out of memory");
		goto out;
	}
	d->p.cmd.nargs = 4;
	rc = proc_start(&d->p, msg, sizeof msg);
	if (rc < 0) {
		remove_container(d);
		make_failed(d, rc, msg);
		goto out;
	}
	d->state = DKR_RUNNING;
	if (d->make_op != NULL)
		op_done(d->make_op, 0);
	d->make_op = NULL;
out:
	elem_unref(&d->p.elem);
}

static void
cancel_make(struct op *op)
{
	struct dkr *d = op->owner;

	d->make_op = NULL;
}

static void
dkr_make(struct anchor *a, const char *arg, struct op *op)
{
	char err[512], **labels, **argv = NULL;
	const char *msg = "";
	struct dkr *d;
	int rc, scrub = 0;

	if (!g_server.docker) {
		op_fail(op, -EOPNOTSUPP, "%s: mkdkr: containers are not enabled on this server "
		    "(start it with -docker)", a->path);
		return;
	}
	labels = make_labels(a->path);
	if (labels == NULL) {
		op_fail(op, -ENOMEM, "%s: mkdkr: out of memory", a->path);
		return;
	}
	rc = dkr_spec_parse(arg, (const char *const *)labels, &argv, &scrub, err, sizeof err);
	spec_strv_free(labels);
	if (rc < 0) {
		op_fail(op, rc, "%s: %s", a->path, err);
		return;
	}
	d = calloc(1, sizeof *d);
	if (d == NULL) {
		spec_strv_free(argv);
		op_fail(op, -ENOMEM, "%s: mkdkr: out of memory", a->path);
		return;
	}
	proc_init(&d->p, &dkr_kind);
	d->p.on_exit = on_attached_exit;
	d->scrub_on_exit = scrub;
	TAILQ_INIT(&d->waiters);
	anchor_attach(a, &d->p.elem);
	d->make_op = op;
	op_park(op, cancel_make, d);
	rc = run(d, argv, CREATE_MS, on_created, d);
	spec_strv_free(argv);
	if (rc < 0) {
		rc = spawn_errno(rc, &msg);
		make_failed(d, rc, msg);
	}
}

/* ---- verbs and snapshot files ---- */

static void
cancel_req(struct op *op)
{
	struct dreq *r = op->owner;

	r->op = NULL;
}

/* Start a docker command that answers op through cb with a struct dreq. */
static void
request(struct dkr *d, struct op *op, const char *what, int sig, char **argv, dkr_cli_cb cb)
{
	struct dreq *r = calloc(1, sizeof *r);
	const char *msg = "";
	int rc;

	if (r == NULL) {
		op_fail(op, -ENOMEM, "%s: %s: out of memory", elem_path(&d->p.elem), what);
		return;
	}
	r->d = d;
	r->op = op;
	r->sig = sig;
	snprintf(r->what, sizeof r->what, "%s", what);
	op_park(op, cancel_req, r);
	rc = run(d, argv, SHORT_MS, cb, r);
	if (rc < 0) {
		rc = spawn_errno(rc, &msg);
		op_fail(op, rc, "%s: %s: %s", elem_path(&d->p.elem), what, msg);
		free(r);
	}
}

static void on_request_done(void *arg, int status, char *out, size_t outlen, char *err);

static void
on_retry_closed(uv_handle_t *h)
{
	struct dreq *r = h->data;
	struct dkr *d = r->d;

	free(r);
	elem_unref(&d->p.elem);
}

/* The pause is over: kill again, unless the op was cancelled or the container is gone. */
static void
on_retry(uv_timer_t *t)
{
	struct dreq *r = t->data;
	struct dkr *d = r->d;
	const char *msg = "";
	char sigarg[32];
	int rc;

	if (r->op != NULL && d->state != DKR_RUNNING) {
		op_fail(r->op, -ESRCH, "%s: signal: the container has stopped", elem_path(&d->p.elem));
	} else if (r->op != NULL) {
		snprintf(sigarg, sizeof sigarg, "--signal=%d", r->sig);
		rc = run(d, argv_of("kill", sigarg, d->id, NULL), SHORT_MS, on_request_done, r);
		if (rc == 0) {
			/* The new command holds its own reference: drop the timer's. */
			elem_unref(&d->p.elem);
			uv_close((uv_handle_t *)t, NULL);
			return;
		}
		rc = spawn_errno(rc, &msg);
		op_fail(r->op, rc, "%s: signal: %s", elem_path(&d->p.elem), msg);
	}
	uv_close((uv_handle_t *)t, on_retry_closed);
}

/* Should this failed kill be tried again after a pause (the engine has not started the
 * container yet, and its attached client still lives)? If so, the pause has begun. */
static int
retry_kill(struct dreq *r, int status, char *err)
{
	struct dkr *d = r->d;

	if (strcmp(r->what, "signal") != 0 || d->state != DKR_RUNNING ||
	    dkr_cli_errno(status, err) != -ESRCH || r->tries >= KILL_RETRY_MAX)
		return 0;
	r->tries++;
	/* The timer holds the reference the finished command held. */
	uv_timer_init(g_server.loop, &r->timer);
	r->timer.data = r;
	uv_timer_start(&r->timer, on_retry, KILL_RETRY_MS, 0);
	return 1;
}

static void
on_request_done(void *arg, int status, char *out, size_t outlen, char *err)
{
	struct dreq *r = arg;
	struct dkr *d = r->d;
	char msg[256];
	json_t *doc;

	(void)outlen;
	if (r->op != NULL && status != 0 && retry_kill(r, status, err))
		return;
	if (r->op == NULL)
		;
	else if (status != 0)
		op_fail(r->op, dkr_cli_errno(status, err), "%s: %s: %s", elem_path(&d->p.elem),
		    r->what, words(status, err));
	else if (strcmp(r->what, "peek") != 0)
		op_done(r->op, 0);
	else if ((doc = inspect_doc(out, msg, sizeof msg)) == NULL)
		op_fail(r->op, -EIO, "%s: peek: %s", elem_path(&d->p.elem), msg);
	else
		op_done_json(r->op, doc, JSON_PRESERVE_ORDER);
	free(r);
	elem_unref(&d->p.elem);
}

static void
dkr_verb(struct element *e, const char *verb, const char *arg, struct op *op)
{
	struct dkr *d = (struct dkr *)e;
	char sigarg[32];
	int sig;

	if ((sig = signal_of_verb(e, "container", verb, arg, op)) < 0)
		return;
	if (d->state != DKR_RUNNING) {
		op_fail(op, d->state == DKR_CREATING ? -EBUSY : -ESRCH, "%s: signal: the container %s",
		    elem_path(e), d->state == DKR_CREATING ? "is being created" : "has stopped");
		return;
	}
	snprintf(sigarg, sizeof sigarg, "--signal=%d", sig);
	request(d, op, "signal", sig, argv_of("kill", sigarg, d->id, NULL), on_request_done);
}

static void
cancel_wait(struct op *op)
{
	struct dkr *d = op->owner;

	TAILQ_REMOVE(&d->waiters, op, link);
}

static void
dkr_snap(struct element *e, const char *file, struct op *op)
{
	struct dkr *d = (struct dkr *)e;

	if (strcmp(file, "wait") == 0) {
		if (d->final != NULL || d->final_err != NULL) {
			TAILQ_INSERT_TAIL(&d->waiters, op, link);
			answer_waiters(d);
			return;
		}
		op_park(op, cancel_wait, d);
		TAILQ_INSERT_TAIL(&d->waiters, op, link);
		return;
	}
	if (strcmp(file, "peek") != 0) {
		op_fail(op, -ENOENT, "%s: no file %s here", elem_path(e), file);
		return;
	}
	if (d->state == DKR_CREATING) {
		op_fail(op, -EBUSY, "%s: peek: the container is being created", elem_path(e));
		return;
	}
	request(d, op, "peek", 0, argv_of("inspect", "--type=container", d->id, NULL),
	    on_request_done);
}

static void
dkr_open(struct element *e, const char *file, int mode, struct op *op)
{
	struct dkr *d = (struct dkr *)e;

	if (d->state == DKR_CREATING) {
		op_fail(op, -EBUSY, "%s: %s: the container is being created", elem_path(e), file);
		return;
	}
	proc_kind.open(e, file, mode, op);
}

/* ---- scrub and destroy ---- */

static void
dkr_scrub(struct element *e)
{
	struct dkr *d = (struct dkr *)e;
	struct op *op;

	d->scrubbed = 1;
	while ((op = TAILQ_FIRST(&d->waiters)) != NULL) {
		TAILQ_REMOVE(&d->waiters, op, link);
		op_fail(op, -EINTR, "%s: wait: the container was scrubbed", d->id);
	}
	if (d->state == DKR_CREATING)
		return;		/* on_created removes it */
	remove_container(d);
	proc_kind.scrub(e);
}

static void
dkr_destroy(struct element *e)
{
	struct dkr *d = (struct dkr *)e;

	json_decref(d->final);
	free(d->final_err);
	proc_kind.destroy(e);	/* frees d: the process is its first member */
}

/* ---- cleanup of containers left by servers that died ---- */

static void
on_swept(void *arg, int status, char *out, size_t outlen, char *err)
{
	(void)arg;
	(void)out;
	(void)outlen;
	if (status != 0)
		log_warnx("docker: removing containers of dead servers: %s", words(status, err));
}

static void
on_listed(void *arg, int status, char *out, size_t outlen, char *err)
{
	char **argv = NULL, *line, *save = NULL, id[80], xid[32];
	long pid;
	unsigned long long start;
	size_t n = 0, cap = 0;
	int rc;

	(void)arg;
	(void)outlen;
	if (status != 0) {
		log_warnx("docker: cannot list containers (%s): %s", words(status, err),
		    dkr_cli_errno(status, err) == -ECONNREFUSED ? "the engine is not running; "
		    "mkdkr will fail until it does" : "containers of dead servers stay");
		return;
	}
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%79s %31s %ld %llu", id, xid, &pid, &start) != 4)
			continue;
		if (strcmp(xid, g_server.id) == 0 || (pid > 0 && pid_start(pid) == start))
			continue;	/* ours, or its server still runs */
		if (n + 6 > cap) {
			char **nv = realloc(argv, (cap = cap == 0 ? 64 : cap * 2) * sizeof *nv);
			if (nv == NULL)
				break;
			argv = nv;
		}
		if (n == 0) {
			argv[n++] = strdup("docker");
			argv[n++] = strdup("rm");
			argv[n++] = strdup("--force");
			argv[n++] = strdup("--volumes");
		}
		argv[n++] = strdup(id);
		argv[n] = NULL;
		log_info("docker: removing container %s of server %s (no longer running)", id, xid);
	}
	if (n == 0) {
		free(argv);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (argv[i] == NULL)
			argv[i] = strdup("");
	rc = dkr_cli_run(argv, SHORT_MS, on_swept, NULL);
	if (rc < 0)
		log_warnx("docker: removing containers of dead servers: %s", uv_strerror(rc));
	spec_strv_free(argv);
}

void
dkr_sweep(void)
{
	char host[300], filter[400];
	char *argv[] = { (char *)"docker", (char *)"ps", (char *)"--all", (char *)"--no-trunc",
		(char *)"--filter", filter, (char *)"--format",
		(char *)"{{.ID}} {{.Label \"circuit.server\"}} {{.Label \"circuit.pid\"}} "
		"{{.Label \"circuit.pidstart\"}}", NULL };
	int rc;

	if (gethostname(host, sizeof host - 1) < 0)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	snprintf(filter, sizeof filter, "label=circuit.host=%s", host);
	rc = dkr_cli_run(argv, SHORT_MS, on_listed, NULL);
	if (rc < 0)
		log_warnx("docker: cannot run the docker client (%s): mkdkr will fail",
		    uv_strerror(rc));
}

static const char dkr_help[] =
"A container element: a docker container this server runs (server started with\n"
"-docker), made by\n"
"  echo 'mkdkr {\"Image\":\"busybox\",\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"echo hi; cat\"]}' > ctl\n"
"Spec JSON (the seed's): Image (required; a local image: nothing is pulled),\n"
"Memory (bytes), CpuShares, Volume ([\"/data\", \"/src:/opt/src:ro\"]), Dir (working\n"
"directory in the container), Entry (entrypoint), Env ([\"K=V\",...]), Path and Args\n"
"(the command; absent: the image's), Scrub (true: remove the element at exit).\n"
"Lxc options are refused: the engine no longer has an LXC driver.\n"
"Errors: EOPNOTSUPP without -docker, ECONNREFUSED when the engine is not running,\n"
"ENOENT for a missing image, EINVAL for a bad spec (the engine's words in error).\n"
"\n"
"Files:\n"
"  stdin   write to the container's standard input; the last close closes it\n"
"  stdout  its standard output as it is produced; EOF when it stops\n"
"  stderr  its standard error, the same way\n"
"          Unread output waits in a bounded buffer (256 KiB per stream); past it the\n"
"          container blocks writing: nothing is dropped.\n"
"  wait    blocks until the container stops, then the engine's inspect document\n"
"          (State.ExitCode holds the exit code)\n"
"  peek    the engine's inspect document now (docker inspect)\n"
"\n"
"Verbs (write to ctl):\n"
"  signal SIG   send a signal to the container's main process (docker kill --signal)\n"
"               (right after mkdkr it waits, up to 10 s, for the engine to start it)\n"
"  scrub        kill and remove the container (docker rm -f), remove the element\n"
"\n"
"Containers carry the label circuit.server=XID; those of a server that died are\n"
"removed when a server with -docker next starts on this host.\n";

const struct elem_kind dkr_kind = {
	.name = "container",
	.make_verb = "mkdkr",
	.files = proc_files,	/* the same files as a process */
	.help = dkr_help,
	.make = dkr_make,
	.verb = dkr_verb,
	.snap = dkr_snap,
	.open = dkr_open,
	.scrub = dkr_scrub,
	.destroy = dkr_destroy,
};
