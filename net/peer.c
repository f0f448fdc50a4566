/* peer.c - connections to members, the remote backend, join, leave (see peer.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "elements/server.h"
#include "net/gossip.h"
#include "net/member.h"
#include "net/peer.h"
#include "net/rpc.h"

/* A join waits for the membership core to list the server joined (its full state
 * came back over UDP), asking again every JOIN_RETRY_MS, for at most JOIN_WAIT_MS. */
#define JOIN_RETRY_MS	1000
#define JOIN_WAIT_MS	15000

struct join {
	struct conn *c;
	struct conn *dialing;		/* until on_join_dialed: its callback points at us */
	void (*cb)(int status, const char *msg, void *arg);
	void *arg;
	char url[URL_MAX];
	char id[URL_ID_LEN + 1];	/* the server joined, once its HELLO is in */
	uv_timer_t timer;
	uint64_t started;
	TAILQ_ENTRY(join) link;
};

static TAILQ_HEAD(, join) joins = TAILQ_HEAD_INITIALIZER(joins);
static uv_loop_t *loop;
static int leaving;

void
peer_init(uv_loop_t *l)
{
	loop = l;
}

json_t *
peer_hello(void)
{
	return json_pack("{s:s, s:s}", "id", g_server.id, "url", g_server.url);
}

int
peer_check_hello(struct conn *c, json_t *head)
{
	const char *id = json_string_value(json_object_get(head, "id"));
	const char *url = json_string_value(json_object_get(head, "url"));
	struct url u;

	if (id == NULL && json_object_get(head, "client") != NULL && !c->outgoing)
		return c->sec != NULL && c->auth_id[0] != '\0' ? -EPERM : 0;
	if (id == NULL || url == NULL || !url_is_xid(id) || url_parse(url, &u, 1) < 0 ||
	    strcmp(u.id, id) != 0)
		return -EINVAL;
	/* With a key, the XID is the one the handshake proved. */
	if (c->sec != NULL && strcmp(c->auth_id, id) != 0)
		return -EPERM;
	if (strcmp(id, g_server.id) == 0)
		return -ELOOP;			/* dialed ourselves */
	if (c->want_id[0] != '\0' && strcmp(c->want_id, id) != 0)
		return -ESTALE;			/* another server lives there now */
	snprintf(c->peer_id, sizeof c->peer_id, "%s", id);
	url_format(&u, c->peer_url, sizeof c->peer_url);
	snprintf(c->name, sizeof c->name, "%s", id);
	return 0;
}

static void
attach(struct member *m, struct conn *c)
{
	struct op *op;

	m->conn = c;
	c->member = m;
	while ((op = TAILQ_FIRST(&m->waitq)) != NULL) {
		TAILQ_REMOVE(&m->waitq, op, link);
		op->cancel = NULL;
		rpc_call(c, op);
	}
}

/* An open connection with m's server that is not attached to m (it dialed us, or
 * both dialed at once), or NULL. */
static struct conn *
spare_conn(const struct member *m, const struct conn *not)
{
	struct conn *c;

	TAILQ_FOREACH(c, &conn_all, link)
		if (c != not && conn_usable(c) && strcmp(c->peer_id, m->id) == 0)
			return c;
	return NULL;
}

/* Fail the operations waiting for a connection to m with EHOSTDOWN (m stays listed:
 * only the membership core removes members). */
static void
fail_waiting(struct member *m, const char *why)
{
	struct op *op;

	while ((op = TAILQ_FIRST(&m->waitq)) != NULL) {
		TAILQ_REMOVE(&m->waitq, op, link);
		op->cancel = NULL;
		op_fail(op, -EHOSTDOWN, "%s: server %s: %s", op->path ? op->path : "op", m->id, why);
	}
}

static void on_join_dialed(struct conn *c, int status, void *arg);

/* Forget m: close its connections (their calls fail with EHOSTDOWN), remove it.  A
 * join still dialing m's XID is told (it ends with EHOSTDOWN): it holds the dialed
 * connection, which goes. */
static void
drop(struct member *m, const char *why)
{
	struct conn *c, *next;
	char id[URL_ID_LEN + 1];

	snprintf(id, sizeof id, "%s", m->id);
	m->conn = NULL;
	if (m->dialing != NULL) {
		m->dialing->dial_cb = NULL;
		m->dialing = NULL;
	}
	for (c = TAILQ_FIRST(&conn_all); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->member == m)
			c->member = NULL;
		if (strcmp(c->peer_id, id) == 0 || strcmp(c->want_id, id) == 0) {
			c->member = NULL;
			if (c->dial_cb != on_join_dialed)
				c->dial_cb = NULL;
			conn_close(c, -EHOSTDOWN);
			next = TAILQ_FIRST(&conn_all);	/* the list may have changed */
		}
	}
	member_remove(m, why);
}

static void
on_dialed(struct conn *c, int status, void *arg)
{
	struct member *m = arg;

	if (m->dialing == c)
		m->dialing = NULL;
	if (status == 0 || leaving)
		return;		/* peer_up attaches it */
	/* The operations waiting for it fail now; whether the server is gone is for
	 * the membership core to say: it probes the member at once. */
	log_warnx("member %s (%s): cannot connect: %s: probing it", m->id, m->url,
	    strerror(-status));
	fail_waiting(m, status == -ESTALE ? "another server answers at its address" :
	    strerror(-status));
	gossip_verify(m->id);
}

/* Give m a connection: an open one with its server, else a dial (ops wait). */
static void
connect_member(struct member *m)
{
	struct conn *c;
	int rc;

	if (m->self || m->conn != NULL || m->dialing != NULL || leaving)
		return;
	if ((c = spare_conn(m, NULL)) != NULL) {
		attach(m, c);
		return;
	}
	rc = conn_dial(&m->u, m->id, on_dialed, m, &m->dialing);
	if (rc < 0) {
		m->dialing = NULL;
		log_warnx("member %s (%s): cannot dial: %s", m->id, m->url, strerror(-rc));
		fail_waiting(m, strerror(-rc));
	}
}

/* Two servers cannot listen at one address: a member at the address of the server
 * that says HELLO on c, under another XID, may be an earlier run of it (restarted),
 * gone even if nothing has told us yet (a host that rebooted sends no reset).  Or c
 * lies.  Never evicted on the word of a HELLO: the membership core probes it. */
static void
check_replaced(struct conn *c)
{
	struct member *m;
	struct url u;

	if (url_parse(c->peer_url, &u, 1) < 0)
		return;
	TAILQ_FOREACH(m, &member_all, link)
		if (!m->self && m->u.port == u.port && strcmp(m->u.host, u.host) == 0 &&
		    strcmp(m->id, c->peer_id) != 0) {
			log_info("member %s (%s): %s says HELLO from its address: checking",
			    m->id, m->url, c->peer_id);
			gossip_verify(m->id);
		}
}

static void
join_free(uv_handle_t *h)
{
	free(h->data);
}

/* End join j: its callback runs once, with status. */
static void
join_end(struct join *j, int status, const char *msg)
{
	TAILQ_REMOVE(&joins, j, link);
	if (j->dialing != NULL) {
		/* Ended first (timer, shutdown): the dial must not call back into j. */
		j->dialing->dial_cb = NULL;
		j->dialing = NULL;
	}
	if (status == 0)
		log_info("joined the cluster of %s", j->url);
	j->cb(status, msg, j->arg);
	uv_timer_stop(&j->timer);
	uv_close((uv_handle_t *)&j->timer, join_free);
}

/* The joins that wait for id to be listed are complete. */
static void
joins_listed(const char *id)
{
	struct join *j, *next;

	for (j = TAILQ_FIRST(&joins); j != NULL; j = next) {
		next = TAILQ_NEXT(j, link);
		if (j->id[0] != '\0' && strcmp(j->id, id) == 0)
			join_end(j, 0, NULL);
	}
}

void
peer_up(struct conn *c)
{
	struct member *m;
	struct join *j, *next;

	if (c->peer_id[0] == '\0')
		return;			/* a client */
	check_replaced(c);
	for (j = TAILQ_FIRST(&joins); j != NULL; j = next) {
		next = TAILQ_NEXT(j, link);
		if (j->c == c)
			snprintf(j->id, sizeof j->id, "%s", c->peer_id);
	}
	/* Listing is the membership core's: a connection only serves a member it lists. */
	if ((m = member_find(c->peer_id)) != NULL) {
		if (m->conn == NULL)
			attach(m, c);
		joins_listed(m->id);
	}
}

void
peer_closed(struct conn *c, int reason)
{
	struct member *m = c->member;
	struct conn *o;
	struct join *j;

	TAILQ_FOREACH(j, &joins, link)
		if (j->c == c) {
			j->c = NULL;
			if (j->id[0] == '\0' || member_find(j->id) == NULL) {
				join_end(j, reason < 0 ? reason : -ECONNRESET, "connection lost");
				break;
			}
		}
	c->member = NULL;
	if (m == NULL || m->conn != c || leaving)
		return;
	m->conn = NULL;
	/* Another connection with the same server (both dialed at once) will do. */
	if ((o = spare_conn(m, c)) != NULL) {
		attach(m, o);
		return;
	}
	/* The next operation dials again.  A lost connection may be a crash: the core
	 * probes the member now rather than when its turn comes. */
	log_info("member %s: connection lost (%s)", m->id, strerror(-reason));
	gossip_verify(m->id);
}

void
peer_member_joined(const char *id)
{
	struct member *m = member_find(id);
	struct conn *c;

	if (m != NULL && m->conn == NULL && (c = spare_conn(m, NULL)) != NULL)
		attach(m, c);
	joins_listed(id);
}

static void
wait_cancel(struct op *op)
{
	struct member *m = op->owner;

	TAILQ_REMOVE(&m->waitq, op, link);
	op_end_cancelled(op);
}

void
peer_run(struct op *op)
{
	char id[URL_ID_LEN + 1];
	const char *p = op->path + 1;
	size_t n = strcspn(p, "/");
	struct member *m;

	if (n != URL_ID_LEN) {
		op_fail(op, -ENOENT, "%s: no such server", op->path);
		return;
	}
	memcpy(id, p, n);
	id[n] = '\0';
	m = member_find(id);
	if (m == NULL || m->self) {
		if (member_is_gone(id))
			op_fail(op, -EHOSTDOWN, "%s: server %s is gone", op->path, id);
		else
			op_fail(op, -ENOENT, "%s: no such server", op->path);
		return;
	}
	if (m->conn != NULL && conn_usable(m->conn)) {
		rpc_call(m->conn, op);
		return;
	}
	op->owner = m;
	op->cancel = wait_cancel;
	TAILQ_INSERT_TAIL(&m->waitq, op, link);
	connect_member(m);
}

/* Every JOIN_RETRY_MS while a join waits for the core: ask the server joined for its
 * state again (a lost datagram), until JOIN_WAIT_MS. */
static void
on_join_timer(uv_timer_t *t)
{
	struct join *j = t->data;

	if (uv_now(loop) - j->started >= JOIN_WAIT_MS) {
		join_end(j, -ETIMEDOUT, "no membership datagrams from it (UDP blocked?)");
		return;
	}
	gossip_join(j->url);
}

static void
on_join_dialed(struct conn *c, int status, void *arg)
{
	struct join *j = arg;

	j->dialing = NULL;
	if (status == 0) {
		/* Wait for the core to list it (peer_up or peer_member_joined ends it). */
		j->c = c;
		return;
	}
	join_end(j, status, status == -EHOSTDOWN ? "that server left the cluster or died" :
	    status == -ESTALE ? "another server answers at that address" :
	    status == -ELOOP ? "that is this server" : status == -EACCES ?
	    "refused: the cluster keys differ, or one side has none (the log says which)" :
	    strerror(-status));
}

int
peer_join(const char *url, void (*cb)(int status, const char *msg, void *arg), void *arg)
{
	struct join *j;
	struct url u;
	int rc;

	if (url_parse(url, &u, 0) < 0)
		return -EINVAL;
	if (strcmp(u.id, g_server.id) == 0)
		return -EINVAL;
	if (u.id[0] != '\0' && member_find(u.id) != NULL)
		return 1;
	j = calloc(1, sizeof *j);
	if (j == NULL)
		return -ENOMEM;
	j->cb = cb;
	j->arg = arg;
	j->started = uv_now(loop);
	snprintf(j->url, sizeof j->url, "%s", url);
	uv_timer_init(loop, &j->timer);
	j->timer.data = j;
	uv_timer_start(&j->timer, on_join_timer, JOIN_RETRY_MS, JOIN_RETRY_MS);
	TAILQ_INSERT_TAIL(&joins, j, link);
	rc = conn_dial(&u, u.id, on_join_dialed, j, &j->dialing);
	if (rc < 0) {
		/* Not started: the callback is not called. */
		TAILQ_REMOVE(&joins, j, link);
		uv_timer_stop(&j->timer);
		uv_close((uv_handle_t *)&j->timer, join_free);
		return rc;
	}
	return 0;
}

void
peer_member_dead(const char *id, const char *why)
{
	struct member *m = member_find(id);

	if (m != NULL && !m->self)
		drop(m, why);
}

void
peer_leave(void)
{
	struct join *j;

	leaving = 1;
	while ((j = TAILQ_FIRST(&joins)) != NULL)
		join_end(j, -ESHUTDOWN, "the server is stopping");
}
