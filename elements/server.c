/* server.c - this process's server: identity, anchor tree, and the server element.
 *
 * The server element sits on the server anchor /XID.  Its files: peek (identity,
 * members, element counts), log (the operation log; each open reads the history,
 * gives EOF once it has caught up, so `cat log` ends, and then follows: further
 * reads wait for new lines, which is what `tail -f` does after its first EOF).
 * Its verbs: join URL (the cluster layer installs it) and suicide.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "elements/anchor.h"
#include "elements/element.h"
#include "elements/local.h"
#include "elements/log.h"
#include "elements/server.h"

struct server g_server;

struct log_reader {
	size_t pos;
	size_t origin;			/* where it started: oplog_start() at open */
	int caught_up;			/* the one EOF was given */
	struct op_queue parked;		/* reads waiting for new lines, in order */
	struct stream *s;
	TAILQ_ENTRY(log_reader) link;
};

static struct element server_elem;
static TAILQ_HEAD(, log_reader) readers = TAILQ_HEAD_INITIALIZER(readers);
static int (*join_fn)(const char *url, server_join_cb cb, void *arg, char **msg);
static json_t *(*members_fn)(void);
static json_t *(*stk_fn)(void);
static json_t *(*mb_stats_fn)(void);
static json_t *(*mb_state_fn)(void);

void
server_set_membership(json_t *(*stats)(void), json_t *(*state)(void))
{
	mb_stats_fn = stats;
	mb_state_fn = state;
}

void
server_set_stk(json_t *(*fn)(void))
{
	stk_fn = fn;
}

/* stk is the server's debugging dump: reachable by the CLI, not listed. */
static const struct op_file server_files[] = {
	{ "peek", OPF_READ },
	{ "log", OPF_READ | OPF_STREAM },
	{ "stk", OPF_READ | OPF_HIDDEN },
	{ NULL, 0 },
};

static const char server_help[] =
"A server anchor (/XID): the server element of one circuit server.\n"
"\n"
"  cat peek        its ID, URL, start time, members and element counts (JSON)\n"
"  cat log         the operation log so far, one line per operation:\n"
"                  time, client, anchor, verb, result\n"
"  tail -f log     follow the log\n"
"  echo 'join circuit://HOST:PORT/XID' > ctl   merge this server's cluster with that one\n"
"                  (the write returns once the other server is listed, or fails)\n"
"  echo suicide > ctl                         stop this server\n"
"\n"
"mkdir NAME makes an anchor below this one; see help inside it.\n";

void
server_set_join(int (*fn)(const char *url, server_join_cb cb, void *arg, char **msg))
{
	join_fn = fn;
}

void
server_set_members(json_t *(*fn)(void))
{
	members_fn = fn;
}

static void
count(const struct anchor *a, json_t *counts)
{
	const struct anchor *c;

	if (a->elem != NULL && a->elem->kind != &server_kind) {
		const char *k = a->elem->kind->name;
		json_object_set_new(counts, k, json_integer(json_integer_value(
		    json_object_get(counts, k)) + 1));
	}
	TAILQ_FOREACH(c, &a->children, sibling)
		count(c, counts);
}

json_t *
server_element_counts(void)
{
	json_t *counts = json_object();

	count(g_server.root, counts);
	return counts;
}

static void
srv_peek(struct op *op)
{
	char when[40];
	struct tm tm;
	json_t *j;

	gmtime_r(&g_server.joined, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:s*, s:o*}", "ID", g_server.id,
	    "URL", g_server.url, "Joined", when,
	    "Members", members_fn != NULL ? members_fn() : json_pack("[s]", g_server.url),
	    "Elements", server_element_counts(), "Secure", g_server.secure,
	    "Mount", g_server.mountpoint,
	    "Datagrams", mb_stats_fn != NULL ? mb_stats_fn() : NULL);
	op_done_json(op, j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
}

static int
count_anchors(const struct anchor *a)
{
	const struct anchor *c;
	int n = 1;

	TAILQ_FOREACH(c, &a->children, sibling)
		n += count_anchors(c);
	return n;
}

/* The internal state for debugging (`circuit stk`): what the seed's stack dump told. */
static void
srv_stk(struct op *op)
{
	struct log_reader *r;
	json_int_t nreaders = 0;
	json_t *j;
	char *text;

	TAILQ_FOREACH(r, &readers, link)
		nreaders++;
	j = json_pack("{s:s, s:o, s:i, s:o, s:o, s:{s:I, s:I, s:I}, s:o*, s:o*}",
	    "ID", g_server.id, "Operations", op_stats(), "Anchors", count_anchors(g_server.root),
	    "Elements", server_element_counts(),
	    "Members", members_fn != NULL ? members_fn() : json_pack("[s]", g_server.url),
	    "Log", "Bytes", (json_int_t)(oplog_end() - oplog_start()),
	    "Total", (json_int_t)oplog_end(), "Readers", nreaders,
	    "Extra", stk_fn != NULL ? stk_fn() : NULL,
	    "Membership", mb_state_fn != NULL ? mb_state_fn() : NULL);
	text = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (text == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	op_done_copy(op, text, strlen(text));
	free(text);
}

static void
srv_snap(struct element *e, const char *file, struct op *op)
{
	if (strcmp(file, "peek") == 0)
		srv_peek(op);
	else if (strcmp(file, "stk") == 0)
		srv_stk(op);
	else
		op_fail(op, -ENOENT, "%s: no file %s", elem_path(e), file);
}

/* A `join` verb waiting for the cluster layer.  An interrupted write leaves it: the
 * join goes on, and its outcome goes to the log alone. */
struct join_wait {
	struct op *op;
	char *path;
	char *url;
};

static void
join_cancel(struct op *op)
{
	struct join_wait *w = op->owner;

	w->op = NULL;
}

static void
join_answered(int status, const char *msg, void *arg)
{
	struct join_wait *w = arg;

	if (w->op != NULL && status < 0)
		op_fail(w->op, status, "%s: join %s: %s", w->path, w->url,
		    msg != NULL ? msg : strerror(-status));
	else if (w->op != NULL)
		op_done(w->op, 0);
	else if (status < 0)
		log_warnx("join %s: %s", w->url, msg != NULL ? msg : strerror(-status));
	free(w->path);
	free(w->url);
	free(w);
}

static void
srv_join(struct element *e, const char *url, struct op *op)
{
	struct join_wait *w;
	char *msg = NULL;
	int rc;

	if (join_fn == NULL) {
		op_fail(op, -EOPNOTSUPP, "%s: join: this server has no cluster layer", elem_path(e));
		return;
	}
	if ((w = calloc(1, sizeof *w)) == NULL || (w->path = strdup(elem_path(e))) == NULL ||
	    (w->url = strdup(url)) == NULL) {
		if (w != NULL)
			free(w->path);
		free(w);
		op_fail(op, -ENOMEM, "%s: join: out of memory", elem_path(e));
		return;
	}
	w->op = op;
	op_park(op, join_cancel, w);
	if ((rc = join_fn(url, join_answered, w, &msg)) < 0) {
		op_fail(op, rc, "%s: join %s: %s", w->path, url, msg ? msg : strerror(-rc));
		free(w->path);
		free(w->url);
		free(w);
	}
	free(msg);
}

static void
srv_verb(struct element *e, const char *verb, const char *arg, struct op *op)
{
	if (strcmp(verb, "suicide") == 0) {
		op_done(op, 0);
		log_info("suicide requested by %s", op->client != NULL ? op->client : "-");
		if (g_server.stop != NULL)
			g_server.stop(0);
		return;
	}
	if (strcmp(verb, "join") == 0) {
		srv_join(e, arg, op);
		return;
	}
	op_fail(op, -EINVAL, "%s: %s: unknown verb (the server takes join URL, suicide)",
	    elem_path(e), verb);
}

size_t
server_log_size(void)
{
	size_t from = oplog_start();
	struct log_reader *r;

	TAILQ_FOREACH(r, &readers, link)
		if (r->origin < from)
			from = r->origin;
	return oplog_end() - from;
}

/* Is there something for a read: bytes, or the one EOF? */
static int
ready(const struct log_reader *r)
{
	return r->pos < oplog_end() || !r->caught_up;
}

/* Give a read what is there, the one EOF, or park it. */
static int
serve(struct log_reader *r, struct op *op)
{
	size_t want = op->max > 0 ? op->max : 65536;
	char *buf;
	size_t n;

	if (r->pos < oplog_end()) {
		/* What is there, not what was asked: a 1 MiB read of one new line costs
		 * one line. */
		if (r->pos < oplog_start())
			r->pos = oplog_start();
		if (want > oplog_end() - r->pos)
			want = oplog_end() - r->pos;
		buf = malloc(want);
		if (buf == NULL) {
			op_fail(op, -ENOMEM, "out of memory");
			return 1;
		}
		n = oplog_copy(&r->pos, buf, want);
		op_done_data(op, buf, n);
		return 1;
	}
	if (!r->caught_up) {
		r->caught_up = 1;
		op_done_data(op, NULL, 0);
		return 1;
	}
	return 0;
}

static void
log_cancel(struct op *op)
{
	struct log_reader *r = op->owner;

	TAILQ_REMOVE(&r->parked, op, link);
}

static void
log_read(struct stream *s, struct op *op)
{
	struct log_reader *r = s->priv;

	/* Reads are answered in order: a remote opener reads ahead, several at once. */
	if (!TAILQ_EMPTY(&r->parked) || !serve(r, op)) {
		TAILQ_INSERT_TAIL(&r->parked, op, link);
		op_park(op, log_cancel, r);
	}
}

static void
log_release(struct stream *s)
{
	struct log_reader *r = s->priv;
	struct op *op;

	/* Unlink first: failing a read writes a log line, and on_append must not find
	 * this reader (or its reads, now completing) any more. */
	TAILQ_REMOVE(&readers, r, link);
	while ((op = TAILQ_FIRST(&r->parked)) != NULL) {
		TAILQ_REMOVE(&r->parked, op, link);
		op_fail(op, -EPIPE, "log closed");
	}
	free(r);
	stream_free(s);
}

static int
log_poll(struct stream *s)
{
	struct log_reader *r = s->priv;

	return ready(r) ? 1 /* POLLIN */ : 0;
}

static const struct stream_ops log_ops = {
	.read = log_read, .release = log_release, .poll = log_poll,
};

/* New lines: wake parked readers. */
static void
on_append(void)
{
	struct log_reader *r;

	TAILQ_FOREACH(r, &readers, link) {
		struct op *op;
		while ((op = TAILQ_FIRST(&r->parked)) != NULL && ready(r)) {
			TAILQ_REMOVE(&r->parked, op, link);
			serve(r, op);
		}
		stream_notify(r->s);
	}
}

static void
srv_open(struct element *e, const char *file, int mode, struct op *op)
{
	struct log_reader *r;

	if (strcmp(file, "log") != 0 || mode != OP_RDONLY) {
		op_fail(op, strcmp(file, "log") != 0 ? -ENOENT : -EACCES, "%s: %s is read-only",
		    elem_path(e), file);
		return;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL || (r->s = stream_new(e, &log_ops, r)) == NULL) {
		free(r);
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	r->pos = r->origin = oplog_start();
	TAILQ_INIT(&r->parked);
	TAILQ_INSERT_TAIL(&readers, r, link);
	op->stream = r->s;
	op_done(op, 0);
}

static void
srv_scrub(struct element *e)
{
}

static void
srv_destroy(struct element *e)
{
}

const struct elem_kind server_kind = {
	.name = "server",
	.make_verb = NULL,
	.files = server_files,
	.help = server_help,
	.verb = srv_verb,
	.snap = srv_snap,
	.open = srv_open,
	.scrub = srv_scrub,
	.destroy = srv_destroy,
};

int
server_init(uv_loop_t *loop, const char *host, int port)
{
	unsigned char id[8];
	int rc;

	if (sodium_init() < 0)
		return -EIO;
	memset(&g_server.id, 0, sizeof g_server.id);
	randombytes_buf(id, sizeof id);
	g_server.id[0] = 'X';
	for (int i = 0; i < 8; i++)
		snprintf(g_server.id + 1 + 2 * i, 3, "%02x", id[i]);
	if (strchr(host, ':') != NULL)
		snprintf(g_server.url, sizeof g_server.url, "circuit://[%s]:%d/%s", host, port, g_server.id);
	else
		snprintf(g_server.url, sizeof g_server.url, "circuit://%s:%d/%s", host, port, g_server.id);
	g_server.joined = time(NULL);
	g_server.loop = loop;
	rc = op_init(loop);
	/* Operations that run here write the log and their anchor's error file. */
	op_set_done_hook(local_note_done);
	if (rc < 0)
		return rc;
	g_server.root = anchor_new_root(g_server.id);
	if (g_server.root == NULL)
		return -ENOMEM;
	elem_init(&server_elem, &server_kind);
	anchor_attach(g_server.root, &server_elem);
	oplog_on_append(on_append);
	return 0;
}

/* Scrub the elements below a, deepest first (the anchors stay until exit). */
static void
scrub_tree(struct anchor *a)
{
	struct anchor *c;

	TAILQ_FOREACH(c, &a->children, sibling)
		scrub_tree(c);
	if (a->elem != NULL && a->elem != &server_elem)
		elem_scrub(a->elem);
}

void
server_fini(void)
{
	struct log_reader *r;

	if (g_server.root == NULL)
		return;
	scrub_tree(g_server.root);
	/* Reads of the log still waiting are another server's (the mount's were answered
	 * before): their owner is going, which is EHOSTDOWN (SPEC), not a fault (EIO). */
	TAILQ_FOREACH(r, &readers, link) {
		struct op *op;
		while ((op = TAILQ_FIRST(&r->parked)) != NULL) {
			TAILQ_REMOVE(&r->parked, op, link);
			op_fail(op, -EHOSTDOWN, "%s: log: the server is shutting down",
			    g_server.root->path);
		}
	}
}

int
server_mounts_any(int (*match)(const char *mnt, const char *type, const void *arg),
    const void *arg)
{
	char line[4096], mnt[4096], type[64];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, f) != NULL) {
		char *sep = strstr(line, " - ");
		/* Fields: id parent major:minor root mountpoint ... - type source options */
		if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", type) != 1)
			continue;
		found = match(mnt, type, arg);
	}
	fclose(f);
	return found;
}
