/* net.c - the listener and the wiring of net/ into the server (see net.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "elements/local.h"
#include "elements/log.h"
#include "elements/server.h"
#include "elements/sub.h"
#include "net/conn.h"
#include "net/discover.h"
#include "net/gossip.h"
#include "net/member.h"
#include "net/net.h"
#include "net/peer.h"
#include "net/rpc.h"

static uv_tcp_t listener;
static int listening;
static char listen_host[64];
static int listen_port;

static int
dispatch(struct conn *c, const struct frame *f)
{
	switch (f->type) {
	case FRAME_REQ:
	case FRAME_REP:
	case FRAME_CANCEL:
	case FRAME_RELEASE:
		return rpc_frame(c, f);
	case FRAME_MEMBERS:
	case FRAME_LEAVE:
	case FRAME_DEAD:
		/* Retired: servers of an earlier release still send them after HELLO.
		 * Membership is UDP's alone now; skipping them from a server keeps a
		 * rolling upgrade possible (a refusal would close every old-to-new
		 * connection).  No client ever sent them. */
		return c->peer_id[0] != '\0' ? 0 : -EPROTO;
	case FRAME_REFUSE:
		log_warnx("connection %s: refused by the other side", c->name);
		conn_close(c, -ECONNREFUSED);
		return 0;
	default:
		return -EPROTO;		/* a second HELLO, or worse */
	}
}

static void
closed(struct conn *c, int reason)
{
	rpc_conn_closed(c);
	peer_closed(c, reason);
}

static const struct conn_events events = {
	.hello = peer_hello,
	.check_hello = peer_check_hello,
	.up = peer_up,
	.frame = dispatch,
	.closed = closed,
};

static void
on_connection(uv_stream_t *server, int status)
{
	int rc;

	if (status < 0) {
		log_warnx("accept: %s", uv_strerror(status));
		return;
	}
	if ((rc = conn_accept(server)) < 0)
		log_warnx("accept: %s", strerror(-rc));
}

int
net_listen(uv_loop_t *loop, const char *host, int port, int *bound)
{
	struct sockaddr_storage ss;
	int len = sizeof ss, rc;

	memset(&ss, 0, sizeof ss);
	if (strchr(host, ':') != NULL)
		rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
	else
		rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
	if (rc < 0)
		return rc;
	if ((rc = uv_tcp_init(loop, &listener)) < 0)
		return rc;
	listening = 1;
	if ((rc = uv_tcp_bind(&listener, (struct sockaddr *)&ss, 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&listener, 128, on_connection)) < 0 ||
	    (rc = uv_tcp_getsockname(&listener, (struct sockaddr *)&ss, &len)) < 0)
		return rc;
	*bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(listen_host, sizeof listen_host, "%s", host);
	listen_port = *bound;
	return 0;
}

/* The member table changed: the @join and @leave subscriptions hear of it. */
static void
on_member_change(enum member_event ev, const struct member *m)
{
	if (!m->self)
		sub_publish(ev == MEMBER_LEFT, m->id);
}

/* The server element's `join URL` verb: bad URLs fail at once, the rest when the
 * join completes (cb, never from here). */
static int
join_verb(const char *url, server_join_cb cb, void *arg, char **msg)
{
	int rc = net_join(url, cb, arg);

	if (rc == -EINVAL)
		*msg = strdup("want circuit://HOST:PORT/XID of another server (numeric HOST)");
	return rc;
}

int
net_init(uv_loop_t *loop)
{
	int rc;

	conn_init(loop, &events);
	peer_init(loop);
	if ((rc = member_add_self(g_server.id, g_server.url)) < 0)
		return rc;
	member_on_change(on_member_change);
	op_set_remote(peer_run);
	local_set_members(member_ids_json);
	server_set_members(member_urls_json);
	server_set_join(join_verb);
	/* Failure detection rides on UDP at the same port as TCP. */
	if ((rc = gossip_init(loop, listen_host, listen_port)) < 0)
		return rc;
	server_set_membership(gossip_stats_json, gossip_state_json);
	return 0;
}

int
net_join(const char *url, void (*cb)(int status, const char *msg, void *arg), void *arg)
{
	int rc = peer_join(url, cb, arg);

	if (rc >= 0)
		gossip_join(url);
	if (rc == 1)
		cb(0, NULL, arg);
	return rc < 0 ? rc : 0;
}

void
net_stop(void)
{
	struct conn *c;

	discover_stop();
	gossip_stop();
	peer_leave();
	while ((c = TAILQ_FIRST(&conn_all)) != NULL)
		conn_close(c, -ESHUTDOWN);
	member_fini();
	op_set_remote(NULL);
	if (listening && !uv_is_closing((uv_handle_t *)&listener))
		uv_close((uv_handle_t *)&listener, NULL);
	listening = 0;
}
