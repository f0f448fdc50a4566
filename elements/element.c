/* element.c - what all element kinds share: references, scrubbing, streams, errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/anchor.h"
#include "elements/element.h"
#include "elements/log.h"

/* The kinds are linked weakly so that the tree builds while one is still missing. */
extern const struct elem_kind server_kind;
extern const struct elem_kind proc_kind __attribute__((weak));
extern const struct elem_kind chan_kind __attribute__((weak));
extern const struct elem_kind dkr_kind __attribute__((weak));
extern const struct elem_kind dns_kind __attribute__((weak));
extern const struct elem_kind sub_join_kind __attribute__((weak));
extern const struct elem_kind sub_leave_kind __attribute__((weak));

const struct elem_kind *const elem_kinds[ELEM_NKINDS] = {
	&server_kind, &proc_kind, &chan_kind, &dkr_kind, &dns_kind,
	&sub_join_kind, &sub_leave_kind,
};

const struct elem_kind *
elem_kind_by_verb(const char *verb)
{
	for (size_t i = 0; i < ELEM_NKINDS; i++) {
		const struct elem_kind *k = elem_kinds[i];
		if (k != NULL && k->make_verb != NULL && strcmp(k->make_verb, verb) == 0)
			return k;
	}
	return NULL;
}

void
elem_init(struct element *e, const struct elem_kind *k)
{
	e->kind = k;
	e->anchor = NULL;
	e->refs = 1;
}

void
elem_ref(struct element *e)
{
	e->refs++;
}

void
elem_unref(struct element *e)
{
	if (e->refs <= 0)
		fatalx("elem_unref: %s element with %d references", e->kind->name, e->refs);
	if (--e->refs == 0)
		e->kind->destroy(e);
}

void
elem_scrub(struct element *e)
{
	struct anchor *a = e->anchor;

	if (a == NULL)
		return;
	a->elem = NULL;
	e->anchor = NULL;
	e->kind->scrub(e);
	elem_unref(e);
}

const char *
elem_path(const struct element *e)
{
	return e->anchor != NULL ? e->anchor->path : "(scrubbed)";
}

void
elem_error(struct element *e, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;
	if (e->anchor != NULL) {
		anchor_set_error(e->anchor, msg);
		oplog("server", e->anchor->path, e->kind->name, -EIO, msg);
	}
	free(msg);
}

struct stream *
stream_new(struct element *e, const struct stream_ops *ops, void *priv)
{
	struct stream *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->ops = ops;
	s->priv = priv;
	s->elem = e;
	elem_ref(e);
	return s;
}

void
stream_free(struct stream *s)
{
	struct element *e = s->elem;

	free(s);
	if (e != NULL)
		elem_unref(e);
}

struct element *
stream_elem(const struct stream *s)
{
	return s->elem;
}
