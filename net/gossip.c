/* gossip.c - the membership core (membership.c) on the wire: UDP on the server's
 * own port, the core's timers on the loop, and its events driving the member table.
 *
 * JOINED lists a server (member_add), DEAD and LEFT remove it through the peer layer
 * (peer_member_dead), which closes its connections so that every operation pending on
 * it fails with EHOSTDOWN.  This is the only way in or out of the member table.  A
 * frozen (SIGSTOPped) or unreachable server is noticed this way, which a TCP
 * connection that stays open never tells; what TCP does notice (a lost connection, a
 * failed dial) comes back here as gossip_verify(): probe that member now.
 *
 * Every datagram goes through seal() on the way out and open_dgram() on the way in:
 * with a cluster key they are sealed with it (net/secure.h), and a forged, altered,
 * stale or replayed one is dropped, counted in peek's Datagrams and logged (a line
 * per kind at most every 10 s).  Without a key (-insecure) they pass in clear.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sodium.h>

#include "elements/log.h"
#include "elements/server.h"
#include "net/conn.h"
#include "net/gossip.h"
#include "net/member.h"
#include "net/membership.h"
#include "net/peer.h"
#include "net/secure.h"
#include "net/url.h"

static uv_udp_t udp;
static uv_timer_t timer;
static struct mb *core;
static int running;
static uint64_t sealed_dropped;		/* datagrams open_dgram() refused */
static struct secure_replay *replay;	/* with a key: nonces seen, refusals */
static uint64_t logged_at, logged_n;	/* the last refusals logged: when, how many */

static int64_t
now_ms(void)
{
	return (int64_t)uv_now(udp.loop);
}

static void
to_sockaddr(const mb_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (a->family == MB_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		s6->sin6_port = htons(a->port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->ip, 4);
		s4->sin_port = htons(a->port);
	}
}

static int
from_sockaddr(const struct sockaddr *sa, mb_addr *a)
{
	memset(a, 0, sizeof *a);
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		a->family = MB_AF_INET6;
		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
		return 0;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		a->family = MB_AF_INET;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* The address of a circuit URL, or -EINVAL. */
static int
url_addr(const struct url *u, mb_addr *a)
{
	struct sockaddr_storage ss;

	if (url_sockaddr(u, &ss) < 0)
		return -EINVAL;
	return from_sockaddr((struct sockaddr *)&ss, a);
}

/* Seal an outgoing datagram in place with the cluster key (it grows by MB_TAG_ROOM
 * bytes) and return its new length. */
static size_t
seal(uint8_t *buf, size_t len)
{
	const uint8_t *key = conn_key();

	return key != NULL ? secure_dgram_seal_inplace(key, buf, len) : len;
}

/* ... and check and open an incoming one: its plaintext length, or -errno to drop. */
static ssize_t
open_dgram(uint8_t *buf, size_t len)
{
	const uint8_t *key = conn_key();
	uint64_t now, n;
	long rc;

	if (key == NULL)
		return (ssize_t)len;
	if (replay == NULL && (replay = calloc(1, sizeof *replay)) == NULL)
		return -ENOMEM;
	if ((rc = secure_dgram_open_inplace(key, replay, buf, len)) >= 0)
		return rc;
	now = uv_now(udp.loop);
	n = replay->forged + replay->stale + replay->replayed;
	if (logged_at == 0 || now - logged_at >= 10000) {
		log_warnx("membership: %llu datagrams dropped since the last report (in all: "
		    "%llu forged or altered, %llu stale, %llu replayed)",
		    (unsigned long long)(n - logged_n), (unsigned long long)replay->forged,
		    (unsigned long long)replay->stale, (unsigned long long)replay->replayed);
		logged_at = now;
		logged_n = n;
	}
	return rc;
}

static void
cb_send(void *ctx, const mb_addr *to, const uint8_t *buf, size_t len)
{
	struct sockaddr_storage ss;
	uint8_t out[MB_MAX_DATAGRAM];
	uv_buf_t b;

	if (!running || len > MB_MAX_PAYLOAD)
		return;
	memcpy(out, buf, len);
	b = uv_buf_init((char *)out, (unsigned)seal(out, len));
	to_sockaddr(to, &ss);
	/* A full socket buffer loses the datagram, as the network may: SWIM expects
	 * losses, and a queue here would only make the news older. */
	(void)uv_udp_try_send(&udp, &b, 1, (const struct sockaddr *)&ss);
}

static uint64_t
cb_random(void *ctx)
{
	uint64_t r;

	randombytes_buf(&r, sizeof r);
	return r;
}

static void
url_of(uint64_t id, const mb_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN], xid[MB_ID_STRLEN];

	inet_ntop(a->family == MB_AF_INET6 ? AF_INET6 : AF_INET, a->ip, host, sizeof host);
	mb_id_str(id, xid);
	if (a->family == MB_AF_INET6)
		snprintf(buf, size, "circuit://[%s]:%u/%s", host, a->port, xid);
	else
		snprintf(buf, size, "circuit://%s:%u/%s", host, a->port, xid);
}

static void
cb_event(void *ctx, const struct mb_event *ev)
{
	char xid[MB_ID_STRLEN], url[URL_MAX];
	struct member *m;
	int rc;

	mb_id_str(ev->id, xid);
	switch (ev->kind) {
	case MB_EV_JOINED:
		url_of(ev->id, &ev->addr, url, sizeof url);
		if ((rc = member_add(xid, url, &m)) == 0)
			log_info("member %s joined (membership)", xid);
		if (rc == 0 || rc == -EEXIST)
			peer_member_joined(xid);
		break;
	case MB_EV_DEAD:
		peer_member_dead(xid, "dead (membership: no answer to probes)");
		break;
	case MB_EV_LEFT:
		peer_member_dead(xid, "left the cluster (membership)");
		break;
	default:
		break;
	}
}

static void on_timer(uv_timer_t *t);

static void
reschedule(void)
{
	int64_t d = mb_next_deadline(core) - now_ms();

	if (d < 0)
		d = 0;
	if (d > 60000)
		d = 60000;
	uv_timer_start(&timer, on_timer, (uint64_t)d, 0);
}

static void
on_timer(uv_timer_t *t)
{
	if (!running)
		return;
	mb_tick(core, now_ms());
	reschedule();
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char space[65536];

	*buf = uv_buf_init(space, sizeof space);
}

static void
on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *sa,
    unsigned flags)
{
	mb_addr from;
	ssize_t len;

	if (!running || n <= 0 || sa == NULL)
		return;
	if ((flags & UV_UDP_PARTIAL) || from_sockaddr(sa, &from) < 0 ||
	    (len = open_dgram((uint8_t *)buf->base, (size_t)n)) < 0) {
		sealed_dropped++;
		return;
	}
	/* The core checks every byte and counts what it refuses. */
	(void)mb_receive(core, now_ms(), &from, (const uint8_t *)buf->base, (size_t)len);
	reschedule();
}

int
gossip_init(uv_loop_t *loop, const char *host, int port)
{
	struct sockaddr_storage ss;
	struct mb_callbacks cb = { cb_send, cb_event, cb_random, NULL };
	mb_addr self;
	uint64_t id;
	int rc;

	memset(&ss, 0, sizeof ss);
	if (strchr(host, ':') != NULL)
		rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
	else
		rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
	if (rc < 0)
		return -EINVAL;
	if ((rc = uv_udp_init(loop, &udp)) < 0)
		return rc;
	if ((rc = uv_udp_bind(&udp, (struct sockaddr *)&ss, 0)) < 0) {
		uv_close((uv_handle_t *)&udp, NULL);
		return rc;
	}
	from_sockaddr((struct sockaddr *)&ss, &self);
	id = strtoull(g_server.id + 1, NULL, 16);
	if ((rc = mb_create(&core, NULL, id, &self, &cb, (int64_t)uv_now(loop))) < 0) {
		uv_close((uv_handle_t *)&udp, NULL);
		return rc;
	}
	uv_timer_init(loop, &timer);
	running = 1;
	if ((rc = uv_udp_recv_start(&udp, on_alloc, on_recv)) < 0) {
		gossip_stop();
		return rc;
	}
	reschedule();
	return 0;
}

int
gossip_join(const char *url)
{
	struct url u;
	mb_addr a;

	if (!running)
		return 0;
	if (url_parse(url, &u, 0) < 0 || url_addr(&u, &a) < 0)
		return -EINVAL;
	mb_join(core, now_ms(), &a);
	reschedule();
	return 0;
}

int
gossip_verify(const char *xid)
{
	if (!running || !url_is_xid(xid))
		return -EINVAL;
	return mb_verify(core, now_ms(), strtoull(xid + 1, NULL, 16));
}

json_t *
gossip_stats_json(void)
{
	struct mb_stats st;

	if (!running)
		return json_null();
	mb_get_stats(core, &st);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "sent", (json_int_t)st.sent, "received", (json_int_t)st.received,
	    "probes", (json_int_t)st.probes, "indirect_probes", (json_int_t)st.indirect_probes,
	    "suspicions", (json_int_t)st.suspicions, "refutations", (json_int_t)st.refutations,
	    "dropped", (json_int_t)(st.dropped + sealed_dropped),
	    "dropped_forged", (json_int_t)(replay != NULL ? replay->forged : 0),
	    "dropped_stale", (json_int_t)(replay != NULL ? replay->stale : 0),
	    "dropped_replayed", (json_int_t)(replay != NULL ? replay->replayed : 0),
	    "dropped_version", (json_int_t)st.dropped_version,
	    "dropped_size", (json_int_t)st.dropped_size,
	    "dropped_malformed", (json_int_t)st.dropped_malformed,
	    "listed", (json_int_t)mb_listed(core));
}

json_t *
gossip_state_json(void)
{
	static const char *const states[] = { "", "alive", "suspect", "dead", "left" };
	struct mb_member_info mi;
	struct mb_stats st;
	char xid[MB_ID_STRLEN];
	json_t *members, *suspects;
	size_t i;

	if (!running)
		return json_null();
	members = json_array();
	suspects = json_array();
	for (i = 0; mb_member_at(core, i, &mi) == 0; i++) {
		mb_id_str(mi.id, xid);
		json_array_append_new(members, json_pack("{s:s, s:s, s:i}", "id", xid,
		    "state", states[mi.state], "incarnation", (int)mi.incarnation));
		if (mi.state == MB_SUSPECT)
			json_array_append_new(suspects, json_string(xid));
	}
	mb_get_stats(core, &st);
	return json_pack("{s:o, s:o, s:i, s:o}", "members", members, "suspects", suspects,
	    "health", st.awareness, "datagrams", gossip_stats_json());
}

void
gossip_stop(void)
{
	if (!running)
		return;
	/* Best effort: the LEFT update goes out at once to up to 16 members (mb_leave),
	 * who spread it: this process may never run another gossip round. */
	mb_leave(core, now_ms());
	mb_tick(core, now_ms());
	running = 0;
	uv_timer_stop(&timer);
	uv_close((uv_handle_t *)&timer, NULL);
	uv_udp_recv_stop(&udp);
	uv_close((uv_handle_t *)&udp, NULL);
	mb_free(core);
	core = NULL;
	free(replay);
	replay = NULL;
}
