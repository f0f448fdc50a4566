/* sub.c - the subscription elements (mk@join, mk@leave): servers joining or leaving.
 *
 * The cluster layer tells sub_publish() of every change of the member table; each
 * subscription of that source queues the server's anchor path ("/X..."), in order.
 * Each open of recv takes the next event (and waits for one); the stream gives the
 * path and a newline, then EOF; an open closed before its first byte gives its event
 * back.  While nobody waits, at most SUB_MAX events are kept:
 * later ones are dropped and counted (peek's Overflow), so a subscription nobody
 * reads costs bounded memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/anchor.h"
#include "elements/element.h"
#include "elements/sub.h"

#define SUB_MAX 1024

struct sub {
	struct element e;		/* first */
	int leave;			/* source: 0 join, 1 leave */
	int closed;			/* no more events; the queue still drains */
	char *ev[SUB_MAX];		/* ring of pending paths */
	size_t head, n;
	unsigned long long overflow;
	struct op_queue opens;		/* parked recv opens, oldest first */
	LIST_ENTRY(sub) link;		/* all subscriptions, while not scrubbed */
};

/* One open of recv: the event it took. */
struct sub_read {
	char *text;
	size_t len, off;
};

static LIST_HEAD(, sub) subs = LIST_HEAD_INITIALIZER(subs);

extern const struct elem_kind sub_join_kind, sub_leave_kind;

static struct sub *
sub_of(struct element *e)
{
	return (struct sub *)e;
}

static void
sub_read(struct stream *s, struct op *op)
{
	struct sub_read *r = s->priv;
	size_t n = r->len - r->off;

	if (n > op->max)
		n = op->max;
	op_done_copy(op, r->text + r->off, n);
	r->off += n;
}

static void pump(struct sub *u);

static void
sub_release(struct stream *s)
{
	struct sub_read *r = s->priv;
	struct sub *u = sub_of(s->elem);

	/* Nothing was read (an interrupted open answered too late, an opener that
	 * vanished or closed at once): the event goes back to the head of the queue, as
	 * a channel's message does, so that it is received exactly once.  A full queue
	 * drops its newest event for it (counted), so what is kept stays a prefix. */
	if (r->off == 0 && r->text != NULL && u->e.anchor != NULL) {
		if (u->n == SUB_MAX) {
			free(u->ev[(u->head + u->n - 1) % SUB_MAX]);
			u->ev[(u->head + u->n - 1) % SUB_MAX] = NULL;
			u->n--;
			u->overflow++;
		}
		u->head = (u->head + SUB_MAX - 1) % SUB_MAX;
		u->ev[u->head] = r->text;
		u->n++;
		r->text = NULL;
		pump(u);
	}
	free(r->text);
	free(r);
	stream_free(s);
}

static const struct stream_ops sub_stream_ops = {
	.read = sub_read,
	.release = sub_release,
};

/* Complete op with a stream over text (taken). */
static void
give(struct sub *u, struct op *op, char *text)
{
	struct sub_read *r = calloc(1, sizeof *r);

	if (r == NULL) {
		free(text);
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	r->text = text;
	r->len = strlen(text);
	op->stream = stream_new(&u->e, &sub_stream_ops, r);
	if (op->stream == NULL) {
		free(text);
		free(r);
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	op_done(op, 0);
}

static char *
take(struct sub *u)
{
	char *t = u->ev[u->head];

	u->ev[u->head] = NULL;
	u->head = (u->head + 1) % SUB_MAX;
	u->n--;
	return t;
}

static void
fail_opens(struct sub *u, const char *why)
{
	struct op *op;

	while ((op = TAILQ_FIRST(&u->opens)) != NULL) {
		TAILQ_REMOVE(&u->opens, op, link);
		op_fail(op, -EPIPE, "%s: %s", elem_path(&u->e), why);
	}
}

/* Hand queued events to parked opens, oldest to oldest. */
static void
pump(struct sub *u)
{
	struct op *op;

	while ((op = TAILQ_FIRST(&u->opens)) != NULL && u->n > 0) {
		TAILQ_REMOVE(&u->opens, op, link);
		give(u, op, take(u));
	}
	if (u->closed && u->n == 0)
		fail_opens(u, "subscription closed");
}

void
sub_publish(int leave, const char *id)
{
	struct sub *u;
	char *t;

	LIST_FOREACH(u, &subs, link) {
		if (u->leave != leave || u->closed)
			continue;
		if (u->n == SUB_MAX || asprintf(&t, "/%s\n", id) < 0) {
			u->overflow++;
			continue;
		}
		u->ev[(u->head + u->n++) % SUB_MAX] = t;
		pump(u);
	}
}

static void
sub_make(struct anchor *a, const char *arg, struct op *op, int leave)
{
	struct sub *u;

	if (arg != NULL && *arg != '\0') {
		op_fail(op, -EINVAL, "%s: mk@%s takes no argument", a->path,
		    leave ? "leave" : "join");
		return;
	}
	if ((u = calloc(1, sizeof *u)) == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	elem_init(&u->e, leave ? &sub_leave_kind : &sub_join_kind);
	u->leave = leave;
	TAILQ_INIT(&u->opens);
	LIST_INSERT_HEAD(&subs, u, link);
	anchor_attach(a, &u->e);
	op_done(op, 0);
}

static void
make_join(struct anchor *a, const char *arg, struct op *op)
{
	sub_make(a, arg, op, 0);
}

static void
make_leave(struct anchor *a, const char *arg, struct op *op)
{
	sub_make(a, arg, op, 1);
}

static void
sub_verb(struct element *e, const char *verb, const char *arg, struct op *op)
{
	struct sub *u = sub_of(e);

	if (strcmp(verb, "close") != 0) {
		op_fail(op, -EINVAL, "%s: %s: unknown verb for a subscription (close, scrub)",
		    elem_path(e), verb);
		return;
	}
	if (arg != NULL && *arg != '\0') {
		op_fail(op, -EINVAL, "%s: close takes no argument", elem_path(e));
		return;
	}
	u->closed = 1;
	pump(u);
	op_done(op, 0);
}

static void
sub_snap(struct element *e, const char *file, struct op *op)
{
	struct sub *u = sub_of(e);

	if (strcmp(file, "peek") != 0) {
		op_fail(op, -ENOENT, "%s: no file %s here", elem_path(e), file);
		return;
	}
	op_done_json(op, json_pack("{s:s, s:I, s:b, s:I}", "Source", u->leave ? "leave" : "join",
	    "Pending", (json_int_t)u->n, "Closed", u->closed, "Overflow", (json_int_t)u->overflow),
	    JSON_PRESERVE_ORDER);
}

static void
cancel_open(struct op *op)
{
	struct sub *u = op->owner;

	TAILQ_REMOVE(&u->opens, op, link);
}

static void
sub_open(struct element *e, const char *file, int mode, struct op *op)
{
	struct sub *u = sub_of(e);

	if (strcmp(file, "recv") != 0) {
		op_fail(op, -ENOENT, "%s: no stream %s here", elem_path(e), file);
		return;
	}
	if (u->n == 0 && (u->closed || e->anchor == NULL)) {
		op_fail(op, -EPIPE, "%s: subscription %s", elem_path(e),
		    e->anchor == NULL ? "scrubbed" : "closed");
		return;
	}
	op_park(op, cancel_open, u);
	TAILQ_INSERT_TAIL(&u->opens, op, link);
	pump(u);
}

static void
sub_scrub(struct element *e)
{
	struct sub *u = sub_of(e);

	LIST_REMOVE(u, link);
	u->closed = 1;
	while (u->n > 0)
		free(take(u));
	fail_opens(u, "subscription scrubbed");
}

static void
sub_destroy(struct element *e)
{
	struct sub *u = sub_of(e);

	while (u->n > 0)
		free(take(u));
	free(u);
}

static const struct op_file sub_files[] = {
	{ "recv", OPF_READ | OPF_STREAM },
	{ "peek", OPF_READ },
	{ NULL, 0 },
};

#define SUB_HELP(what, verb) \
"A subscription to servers " what " the cluster (made by `" verb "`).\n" \
"\n" \
"Files:\n" \
"  recv   read-only.  Each open takes the next event, oldest first, and waits for\n" \
"         one: the anchor path of the server (e.g. /X0123456789abcdef) and a\n" \
"         newline, then EOF.  Events come in the order this server learned them.\n" \
"         Closing without reading a byte gives the event back.\n" \
"  peek   {\"Source\", \"Pending\", \"Closed\", \"Overflow\"}: while nobody reads, at\n" \
"         most 1024 events wait; later ones are dropped and counted in Overflow.\n" \
"\n" \
"Verbs (write to ctl):\n" \
"  close  no more events; the pending ones still drain, then recv fails with EPIPE\n" \
"  scrub  remove it: every waiting recv fails with EPIPE\n" \
"\n" \
"Example:\n" \
"  echo " verb " > ctl; cat recv\n"

/* The two kinds differ only in the event they subscribe to. */
#define SUB_KIND(make_word, event, maker) {				\
	.name = "subscription",						\
	.make_verb = make_word,						\
	.files = sub_files,						\
	.help = SUB_HELP(event, make_word),				\
	.make = maker,							\
	.verb = sub_verb,						\
	.snap = sub_snap,						\
	.open = sub_open,						\
	.scrub = sub_scrub,						\
	.destroy = sub_destroy,						\
}

const struct elem_kind sub_join_kind = SUB_KIND("mk@join", "joining", make_join);
const struct elem_kind sub_leave_kind = SUB_KIND("mk@leave", "leaving", make_leave);
