/* member.c - the member table (see member.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "net/member.h"

#define TOMBSTONES	512
#define LISTENERS	4

struct member_list member_all = TAILQ_HEAD_INITIALIZER(member_all);
static char tombs[TOMBSTONES][URL_ID_LEN + 1];
static int ntombs, tombnext;
static void (*listeners[LISTENERS])(enum member_event, const struct member *);

struct member *
member_find(const char *id)
{
	struct member *m;

	TAILQ_FOREACH(m, &member_all, link)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

int
member_is_gone(const char *id)
{
	for (int i = 0; i < ntombs; i++)
		if (strcmp(tombs[i], id) == 0)
			return 1;
	return 0;
}

static void
untomb(const char *id)
{
	for (int i = 0; i < ntombs; i++)
		if (strcmp(tombs[i], id) == 0)
			tombs[i][0] = '\0';
}

static void
notify(enum member_event ev, const struct member *m)
{
	for (int i = 0; i < LISTENERS; i++)
		if (listeners[i] != NULL)
			listeners[i](ev, m);
}

static int
add(const char *id, const char *url, int self, struct member **out)
{
	struct member *m;
	struct url u;

	*out = NULL;
	if (!url_is_xid(id) || url_parse(url, &u, 1) < 0 || strcmp(u.id, id) != 0)
		return -EINVAL;
	if ((m = member_find(id)) != NULL) {
		*out = m;
		return -EEXIST;
	}
	if (member_is_gone(id))
		untomb(id);
	m = calloc(1, sizeof *m);
	if (m == NULL)
		return -ENOMEM;
	snprintf(m->id, sizeof m->id, "%s", id);
	url_format(&u, m->url, sizeof m->url);
	m->u = u;
	m->since = time(NULL);
	TAILQ_INIT(&m->waitq);
	TAILQ_INSERT_TAIL(&member_all, m, link);
	*out = m;
	if (self) {
		m->self = 1;
		return 0;
	}
	log_info("member %s (%s) joined", m->id, m->url);
	notify(MEMBER_JOINED, m);
	return 0;
}

int
member_add(const char *id, const char *url, struct member **out)
{
	return add(id, url, 0, out);
}

int
member_add_self(const char *id, const char *url)
{
	struct member *m;

	return add(id, url, 1, &m);
}

static void
fail_waiting(struct member *m)
{
	struct op *op;

	while ((op = TAILQ_FIRST(&m->waitq)) != NULL) {
		TAILQ_REMOVE(&m->waitq, op, link);
		op->cancel = NULL;
		op_fail(op, -EHOSTDOWN, "%s: server %s is down", op->path ? op->path : "op", m->id);
	}
}

void
member_remove(struct member *m, const char *why)
{
	if (m->self)
		return;
	fail_waiting(m);
	snprintf(tombs[tombnext], sizeof tombs[tombnext], "%s", m->id);
	tombnext = (tombnext + 1) % TOMBSTONES;
	if (ntombs < TOMBSTONES)
		ntombs++;
	TAILQ_REMOVE(&member_all, m, link);
	log_info("member %s (%s) left: %s", m->id, m->url, why);
	notify(MEMBER_LEFT, m);
	free(m);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The members' ids or urls, sorted, as a JSON array. */
static json_t *
sorted(int urls)
{
	const char **v;
	struct member *m;
	json_t *arr = json_array();
	size_t n = 0, i = 0;

	TAILQ_FOREACH(m, &member_all, link)
		n++;
	v = calloc(n + 1, sizeof *v);
	if (v == NULL || arr == NULL) {
		free(v);
		return arr;
	}
	TAILQ_FOREACH(m, &member_all, link)
		v[i++] = urls ? m->url : m->id;
	qsort(v, n, sizeof *v, cmp_str);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	free(v);
	return arr;
}

json_t *
member_ids_json(void)
{
	return sorted(0);
}

json_t *
member_urls_json(void)
{
	return sorted(1);
}

int
member_on_change(void (*fn)(enum member_event ev, const struct member *m))
{
	for (int i = 0; i < LISTENERS; i++)
		if (listeners[i] == NULL) {
			listeners[i] = fn;
			return 0;
		}
	return -ENOSPC;
}

void
member_fini(void)
{
	struct member *m;

	while ((m = TAILQ_FIRST(&member_all)) != NULL) {
		fail_waiting(m);
		TAILQ_REMOVE(&member_all, m, link);
		free(m);
	}
	ntombs = tombnext = 0;
}
