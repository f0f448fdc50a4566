/* discover.c - finding the other servers with no -j: UDP multicast announcements.
 *
 * A server started with -discover joins the multicast group (default 228.8.8.8:8822)
 * on its interface and announces its URL: five times a second apart at start, then
 * every 20 s.  A server that hears the URL of a server it does not list joins through
 * it (at most one join per second), so servers started in any order find each other,
 * and two sides of a healed partition that SWIM's reconnects have not merged yet are
 * merged by the next announcement.
 *
 * An announcement is the text "circuit-announce 1 URL\n".  The CLI's -discover sends
 * DISCOVER_QUERY to the group and every server answers it with its announcement, to
 * the sender alone (ANSWERS_PER_S a second at most).  Every datagram goes through
 * seal()/open_dgram(): with a cluster key it is sealed with it (net/secure.h), and a
 * forged, altered, stale or replayed one is dropped and counted; so a server hears
 * only the servers that hold its key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "elements/server.h"
#include "net/bucket.h"
#include "net/conn.h"
#include "net/discover.h"
#include "net/member.h"
#include "net/net.h"
#include "net/secure.h"
#include "net/url.h"

#define ANNOUNCE_FAST_MS	1000
#define ANNOUNCE_FAST		5
#define ANNOUNCE_MS		20000
#define JOIN_GAP_MS		1000
#define ANSWERS_PER_S		10	/* answers to queries a second (and in a burst), at most */
#define PREFIX			"circuit-announce 1 "

static uv_udp_t sock;
static uv_timer_t timer;
static struct sockaddr_in group;
static int running, announced;
static uint64_t last_join;
static uint64_t heard, dropped;	/* announcements taken and refused */
static struct bucket answers;		/* answers to queries: ANSWERS_PER_S */
static struct secure_replay *replay;	/* with a key: nonces seen */

/* Seal an outgoing announcement in place with the cluster key; 0 if it does not fit. */
static size_t
seal(char *buf, size_t len, size_t cap)
{
	const uint8_t *key = conn_key();

	if (key == NULL)
		return len;
	if (len + SECURE_DGRAM_OVER > cap)
		return 0;
	return secure_dgram_seal_inplace(key, (uint8_t *)buf, len);
}

/* ... and open an incoming one: its plaintext length, or -errno to drop it. */
static ssize_t
open_dgram(char *buf, size_t len)
{
	const uint8_t *key = conn_key();
	static uint64_t told;
	long rc;

	if (key == NULL)
		return (ssize_t)len;
	if (replay == NULL && (replay = calloc(1, sizeof *replay)) == NULL)
		return -ENOMEM;
	rc = secure_dgram_open_inplace(key, replay, (uint8_t *)buf, len);
	if (rc == -EBADMSG && (told == 0 || uv_now(sock.loop) - told >= 60000)) {
		told = uv_now(sock.loop);
		log_warnx("discover: an announcement does not open with our key (%llu so far): "
		    "another cluster, or a host with another key (hosts share one with -hmac "
		    "FILE)", (unsigned long long)replay->forged);
	}
	return rc;
}

/* Announce this server to the group, or to one asker. */
static void
announce(const struct sockaddr *to)
{
	char buf[URL_MAX + 32 + SECURE_DGRAM_OVER];
	uv_buf_t b;
	int n;

	n = snprintf(buf, sizeof buf, PREFIX "%s\n", g_server.url);
	if (n < 0 || (size_t)n >= sizeof buf)
		return;
	b = uv_buf_init(buf, (unsigned)seal(buf, (size_t)n, sizeof buf));
	if (b.len > 0)
		(void)uv_udp_try_send(&sock, &b, 1, to);
}

static void
on_timer(uv_timer_t *t)
{
	if (!running)
		return;
	announce((const struct sockaddr *)&group);
	announced++;
	uv_timer_start(&timer, on_timer, announced < ANNOUNCE_FAST ? ANNOUNCE_FAST_MS :
	    ANNOUNCE_MS, 0);
}

static void
joined(int status, const char *msg, void *arg)
{
	char *url = arg;

	if (status < 0)
		log_warnx("discover: join %s: %s", url, msg != NULL ? msg : strerror(-status));
	free(url);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char space[2048];

	*buf = uv_buf_init(space, sizeof space);
}

static void
on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *sa,
    unsigned flags)
{
	char text[URL_MAX + 1], *url;
	struct url u;
	ssize_t len;

	if (!running || n <= 0)
		return;
	if (sa != NULL && (size_t)n == strlen(DISCOVER_QUERY) &&
	    memcmp(buf->base, DISCOVER_QUERY, (size_t)n) == 0) {
		/* A query is not sealed and its source may be forged: answering each
		 * would make this server reflect a flood at a victim, 6 times larger.
		 * A CLI asks twice a second; a handful of them at once still fit. */
		bucket_refill(&answers, (int64_t)uv_now(sock.loop));
		if (bucket_take(&answers))
			announce(sa);
		else
			dropped++;
		return;
	}
	if ((flags & UV_UDP_PARTIAL) || (len = open_dgram(buf->base, (size_t)n)) < 0 ||
	    discover_answer(buf->base, (size_t)len, text, sizeof text) < 0 ||
	    url_parse(text, &u, 1) < 0) {
		dropped++;
		return;
	}
	heard++;
	if (strcmp(u.id, g_server.id) == 0 || member_find(u.id) != NULL)
		return;
	if (uv_now(sock.loop) - last_join < JOIN_GAP_MS)
		return;
	last_join = uv_now(sock.loop);
	if ((url = strdup(text)) == NULL)
		return;
	log_info("discover: heard %s, joining", text);
	if (net_join(url, joined, url) < 0)
		free(url);
}

int
discover_parse(const char *spec, char *host, size_t hostsz, int *port)
{
	const char *colon;
	char *end;
	long p;

	if (spec == NULL || *spec == '\0')
		spec = getenv("CIRCUIT_DISCOVER");
	if (spec == NULL || *spec == '\0')
		spec = DISCOVER_DEFAULT;
	colon = strrchr(spec, ':');
	if (colon == NULL || (size_t)(colon - spec) >= hostsz || colon == spec)
		return -EINVAL;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || p < 1 || p > 65535)
		return -EINVAL;
	*port = (int)p;
	return 0;
}

int
discover_answer(const char *text, size_t len, char *url, size_t size)
{
	size_t pl = strlen(PREFIX);
	struct url u;

	if (len <= pl + 1 || len - pl > URL_MAX || len - pl > size ||
	    memcmp(text, PREFIX, pl) != 0 || text[len - 1] != '\n')
		return -EBADMSG;
	memcpy(url, text + pl, len - pl - 1);
	url[len - pl - 1] = '\0';
	return url_parse(url, &u, 1) < 0 ? -EBADMSG : 0;
}

int
discover_start(uv_loop_t *loop, const char *spec, const char *iface_ip)
{
	char host[64];
	struct sockaddr_in any;
	int port, rc;

	if (discover_parse(spec, host, sizeof host, &port) < 0 ||
	    uv_ip4_addr(host, port, &group) < 0 ||
	    (ntohl(group.sin_addr.s_addr) >> 28) != 14)	/* 224.0.0.0/4 */
		return -EINVAL;
	uv_ip4_addr("0.0.0.0", port, &any);
	if ((rc = uv_udp_init(loop, &sock)) < 0)
		return rc;
	running = 1;
	bucket_init(&answers, ANSWERS_PER_S / 1000.0, ANSWERS_PER_S, (int64_t)uv_now(loop));
	if ((rc = uv_udp_bind(&sock, (struct sockaddr *)&any, UV_UDP_REUSEADDR)) < 0 ||
	    (rc = uv_udp_set_membership(&sock, host, iface_ip, UV_JOIN_GROUP)) < 0 ||
	    (iface_ip != NULL && (rc = uv_udp_set_multicast_interface(&sock, iface_ip)) < 0) ||
	    (rc = uv_udp_set_multicast_loop(&sock, 1)) < 0 ||
	    (rc = uv_udp_set_multicast_ttl(&sock, 1)) < 0 ||
	    (rc = uv_udp_recv_start(&sock, on_alloc, on_recv)) < 0) {
		discover_stop();
		return rc;
	}
	uv_timer_init(loop, &timer);
	uv_timer_start(&timer, on_timer, 0, 0);
	log_info("discover: announcing on %s:%d", host, port);
	return 0;
}

void
discover_stop(void)
{
	if (!running)
		return;
	running = 0;
	if (timer.loop != NULL) {
		uv_timer_stop(&timer);
		if (!uv_is_closing((uv_handle_t *)&timer))
			uv_close((uv_handle_t *)&timer, NULL);
	}
	uv_udp_recv_stop(&sock);
	if (!uv_is_closing((uv_handle_t *)&sock))
		uv_close((uv_handle_t *)&sock, NULL);
	free(replay);
	replay = NULL;
}
