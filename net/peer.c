/* peer.c - connections to members, the remote backend, join, leave (see peer.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "elements/server.h"
#include "net/member.h"
#include "net/peer.h"
#include "net/rpc.h"

/* What a peer's member lists may make us hold and dial: at most MEMBERS_PER_FRAME
 * entries a frame (as we send them), MEMBERS_NEW_MAX new members per connection in
 * every MEMBERS_WINDOW_MS, MEMBERS_MAX members in all.  Entries past these are skipped. */
#define MEMBERS_MAX		4096
#define MEMBERS_PER_FRAME	256
#define MEMBERS_NEW_MAX		1024
#define MEMBERS_WINDOW_MS	10000

struct join {
	struct conn *c;
	void (*cb)(int status, const char *msg, void *arg);
	void *arg;
	char url[URL_MAX];
	TAILQ_ENTRY(join) link;
};

static TAILQ_HEAD(, join) joins = TAILQ_HEAD_INITIALIZER(joins);
static int leaving;

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

/* Our member table, in MEMBERS frames of at most MEMBERS_PER_FRAME entries (each
 * under 170 bytes): the table of a large cluster in one frame would pass the 64 KiB
 * head limit and go nowhere.  All but the last say "more": true. */
static void
send_table(struct conn *c)
{
	json_t *all = member_table_json(), *part = NULL, *head, *e;
	size_t i, n = json_array_size(all);

	json_array_foreach(all, i, e) {
		if (part == NULL && (part = json_array()) == NULL)
			break;
		json_array_append(part, e);
		if (json_array_size(part) < MEMBERS_PER_FRAME && i + 1 < n)
			continue;
		head = json_pack("{s:o, s:b}", "members", part, "more", i + 1 < n);
		part = NULL;
		if (head != NULL)
			conn_send_msg(c, FRAME_MEMBERS, 0, head, NULL, 0);
		json_decref(head);
	}
	json_decref(part);
	json_decref(all);
}

static void
broadcast(enum frame_type type, const char *id)
{
	json_t *head = json_pack("{s:s}", "id", id);
	struct conn *c;

	if (head == NULL)
		return;
	TAILQ_FOREACH(c, &conn_all, link)
		if (c->state == CONN_UP && c->peer_id[0] != '\0' && strcmp(c->peer_id, id) != 0)
			conn_send_msg(c, type, 0, head, NULL, 0);
	json_decref(head);
}

/* Forget m: close its connections (their calls fail with EHOSTDOWN), remove it. */
static void
drop(struct member *m, const char *why, int tell)
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
			c->dial_cb = NULL;
			conn_close(c, -EHOSTDOWN);
			next = TAILQ_FIRST(&conn_all);	/* the list may have changed */
		}
	}
	member_remove(m, why);
	if (tell)
		broadcast(FRAME_DEAD, id);
}

static void
on_dialed(struct conn *c, int status, void *arg)
{
	struct member *m = arg;
	int checking = m->checking;

	if (m->dialing == c)
		m->dialing = NULL;
	m->checking = 0;
	if (status == 0 && checking && m->conn != NULL && m->conn != c) {
		log_info("member %s (%s): answers: kept", m->id, m->url);
		conn_close(c, -ECANCELED);	/* the check's connection is not needed */
		return;
	}
	if (status == 0 || (m->conn != NULL && !checking) || leaving)
		return;		/* peer_up attaches it; or another connection serves m */
	log_warnx("member %s (%s): cannot connect: %s", m->id, m->url, strerror(-status));
	drop(m, status == -ESTALE ? "another server answers at its address" : "unreachable", 1);
}

/* Dial m unless a connection or a dial exists; a failure to even start drops m. */
static void
connect_member(struct member *m)
{
	int rc;

	if (m->self || m->conn != NULL || m->dialing != NULL || leaving)
		return;
	rc = conn_dial(&m->u, m->id, on_dialed, m, &m->dialing);
	if (rc < 0) {
		m->dialing = NULL;
		log_warnx("member %s (%s): cannot dial: %s", m->id, m->url, strerror(-rc));
		drop(m, "cannot dial", 1);
	}
}

/* A peer says m is gone (DEAD), or another server claims m's address in its HELLO:
 * neither is believed, but checked: dial m's address for m's XID.  If m answers it
 * stays; if nothing or another server answers there, it is dropped (on_dialed). */
static void
check_member(struct member *m, const char *why)
{
	int rc;

	if (m->self || m->dialing != NULL || leaving)
		return;
	log_info("member %s (%s): %s: checking", m->id, m->url, why);
	m->checking = 1;
	rc = conn_dial(&m->u, m->id, on_dialed, m, &m->dialing);
	if (rc < 0) {
		m->dialing = NULL;
		m->checking = 0;
		log_warnx("member %s (%s): cannot dial: %s", m->id, m->url, strerror(-rc));
		drop(m, "cannot dial", 1);
	}
}

/* Two servers cannot listen at one address: a member at the address of the server
 * that says HELLO on c, under another XID, may be an earlier run of it (restarted),
 * gone even if our connection to it has not noticed yet (a host that rebooted sends
 * no reset).  Or c lies.  Check (never evict on the word of a HELLO). */
static void
check_replaced(struct conn *c)
{
	struct member *m;
	struct url u;
	char why[URL_ID_LEN + 64];

	if (url_parse(c->peer_url, &u, 1) < 0)
		return;
	snprintf(why, sizeof why, "%s says HELLO from its address", c->peer_id);
	TAILQ_FOREACH(m, &member_all, link)
		if (!m->self && m->u.port == u.port && strcmp(m->u.host, u.host) == 0 &&
		    strcmp(m->id, c->peer_id) != 0)
			check_member(m, why);
}

void
peer_up(struct conn *c)
{
	struct member *m;
	int rc;

	if (c->peer_id[0] == '\0')
		return;			/* a client */
	check_replaced(c);
	/* A server that talks to us directly is alive, even if gossip said otherwise. */
	rc = member_add(c->peer_id, c->peer_url, 1, &m);
	if (rc < 0 && rc != -EEXIST) {
		conn_close(c, rc);
		return;
	}
	if (m->conn == NULL)
		attach(m, c);
	send_table(c);
}

void
peer_closed(struct conn *c, int reason)
{
	struct member *m = c->member;
	struct conn *o;
	struct join *j;

	TAILQ_FOREACH(j, &joins, link)
		if (j->c == c) {
			TAILQ_REMOVE(&joins, j, link);
			j->cb(reason < 0 ? reason : -ECONNRESET, "connection lost", j->arg);
			free(j);
			break;
		}
	c->member = NULL;
	if (m == NULL || m->conn != c || leaving)
		return;
	m->conn = NULL;
	/* Another connection with the same server (both dialed at once) will do. */
	TAILQ_FOREACH(o, &conn_all, link)
		if (o != c && o->state == CONN_UP && strcmp(o->peer_id, m->id) == 0) {
			attach(m, o);
			return;
		}
	log_info("member %s: connection lost (%s): redialling", m->id, strerror(-reason));
	connect_member(m);
}

static int
on_members(struct conn *c, json_t *head)
{
	json_t *arr = json_object_get(head, "members"), *e;
	uint64_t now = uv_hrtime() / 1000000;
	struct member *m;
	struct join *j;
	size_t i, n = 0, skipped = 0;

	if (!json_is_array(arr) || json_array_size(arr) > MEMBERS_PER_FRAME)
		return -EBADMSG;
	if (now - c->members_window >= MEMBERS_WINDOW_MS) {
		c->members_window = now;
		c->members_new = 0;
	}
	TAILQ_FOREACH(m, &member_all, link)
		n++;
	json_array_foreach(arr, i, e) {
		const char *id = json_string_value(json_object_get(e, "id"));
		const char *url = json_string_value(json_object_get(e, "url"));
		if (id == NULL || url == NULL || strcmp(id, g_server.id) == 0 ||
		    member_find(id) != NULL)
			continue;
		if (n >= MEMBERS_MAX || c->members_new >= MEMBERS_NEW_MAX) {
			skipped++;
			continue;
		}
		/* Tombstoned or malformed entries are skipped, not fatal. */
		if (member_add(id, url, 0, &m) == 0) {
			n++;
			c->members_new++;
			connect_member(m);
		}
	}
	if (skipped > 0)
		log_warnx("connection %s: %zu members skipped: more than %d new in %d s, or %d "
		    "in all", c->name, skipped, MEMBERS_NEW_MAX, MEMBERS_WINDOW_MS / 1000,
		    MEMBERS_MAX);
	if (json_is_true(json_object_get(head, "more")))
		return 0;		/* a join completes with the last part of the table */
	TAILQ_FOREACH(j, &joins, link)
		if (j->c == c) {
			TAILQ_REMOVE(&joins, j, link);
			log_info("joined the cluster of %s", j->url);
			j->cb(0, NULL, j->arg);
			free(j);
			break;
		}
	return 0;
}

int
peer_frame(struct conn *c, const struct frame *f)
{
	const uint8_t *body;
	struct member *m;
	const char *id;
	json_t *head;
	size_t blen;
	int rc = 0;

	if (c->peer_id[0] == '\0')
		return -EPROTO;		/* clients take no part in membership */
	if (frame_msg_parse(f->payload, f->len, &head, &body, &blen) < 0 || blen != 0) {
		json_decref(head);
		return -EBADMSG;
	}
	if (f->type == FRAME_MEMBERS) {
		rc = on_members(c, head);
		json_decref(head);
		return rc;
	}
	id = json_string_value(json_object_get(head, "id"));
	if (id == NULL || !url_is_xid(id)) {
		json_decref(head);
		return -EBADMSG;
	}
	m = member_find(id);
	if (f->type == FRAME_LEAVE && m != NULL && strcmp(id, c->peer_id) == 0) {
		drop(m, "left the cluster", 0);
	} else if (f->type == FRAME_DEAD && m != NULL && !m->self && m->conn == NULL &&
	    m->dialing == NULL) {
		/* We have no connection of our own to judge by: check for ourselves. */
		char why[URL_ID_LEN + 32];
		snprintf(why, sizeof why, "%s says it is unreachable", c->peer_id);
		check_member(m, why);
	}
	json_decref(head);
	return rc;
}

static void
wait_cancel(struct op *op)
{
	struct member *m = op->owner;

	TAILQ_REMOVE(&m->waitq, op, link);
	op_fail(op, -EINTR, "%s: interrupted", op->path);
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
	if (m->conn != NULL && m->conn->state == CONN_UP) {
		rpc_call(m->conn, op);
		return;
	}
	op->owner = m;
	op->cancel = wait_cancel;
	TAILQ_INSERT_TAIL(&m->waitq, op, link);
	connect_member(m);
}

static void
on_join_dialed(struct conn *c, int status, void *arg)
{
	struct join *j = arg;

	if (status == 0) {
		/* Wait for the other's member table (on_members completes the join). */
		j->c = c;
		TAILQ_INSERT_TAIL(&joins, j, link);
		return;
	}
	j->cb(status, status == -ESTALE ? "another server answers at that address" :
	    status == -ELOOP ? "that is this server" : status == -EACCES ?
	    "refused: the cluster keys differ, or one side has none (the log says which)" :
	    strerror(-status), j->arg);
	free(j);
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
	snprintf(j->url, sizeof j->url, "%s", url);
	rc = conn_dial(&u, u.id, on_join_dialed, j, NULL);
	if (rc < 0) {
		free(j);
		return rc;
	}
	return 0;
}

void
peer_member_dead(const char *id, const char *why)
{
	struct member *m = member_find(id);

	if (m != NULL && !m->self)
		drop(m, why, 0);
}

void
peer_leave(void)
{
	json_t *head = json_pack("{s:s}", "id", g_server.id);
	struct conn *c;
	uint8_t *buf;
	size_t len;

	leaving = 1;
	if (head == NULL || frame_msg_build(FRAME_LEAVE, 0, head, NULL, 0, &buf, &len) < 0) {
		json_decref(head);
		return;
	}
	json_decref(head);
	/* Written at once, not queued: the connections close right after. */
	TAILQ_FOREACH(c, &conn_all, link)
		if (c->state == CONN_UP && c->peer_id[0] != '\0' && conn_send_now(c, buf, len) < 0)
			log_warnx("connection %s: could not say goodbye", c->name);
	free(buf);
}
