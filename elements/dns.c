/* dns.c - the DNS element: an authoritative name server on the loop, UDP and TCP.
 *
 * `mkdns [IP[:PORT]]` binds a UDP and a TCP socket on the same port (any free one
 * by default, on the server's own IP); `set RR` and `unset NAME` change the record
 * store (dns_zone.c), which answers every query.  The sockets are the element's
 * only outside input, so everything they can make us hold is bounded here: a UDP
 * answer that cannot be sent at once is dropped (the client asks again), at most
 * DNS_TCP_MAX connections are open, each holds one query buffer, must deliver a
 * whole query within DNS_TCP_IDLE_MS, and stops being read while its unsent
 * answers pass DNS_TCP_OUT_MAX bytes.
 *
 * Every libuv handle holds a reference on the element, dropped in its close
 * callback, so the memory outlives the last callback of a scrubbed element.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "elements/anchor.h"
#include "elements/dns_ldns.h"
#include "elements/dns_zone.h"
#include "elements/element.h"
#include "elements/log.h"
#include "elements/server.h"

#define DNS_TCP_MAX 64			/* open TCP connections per element */
#define DNS_TCP_IDLE_MS 10000		/* a connection's time to send one whole query */
#define DNS_TCP_OUT_MAX (256 * 1024)	/* unsent answer bytes before reading pauses */
#define DNS_TCP_BUF (2 + 65535)		/* a length prefix and the largest message */
#define DNS_BIND_TRIES 16		/* free ports tried for a UDP+TCP pair */

struct dns_conn;

extern const struct elem_kind dns_kind;

struct dns {
	struct element e;
	struct dns_zone *zone;
	char addr[INET6_ADDRSTRLEN + 8];	/* "IP:PORT" or "[IP]:PORT" */
	uv_udp_t udp;
	uv_tcp_t listener;
	int open;			/* the sockets are open (until scrub) */
	LIST_HEAD(, dns_conn) conns;
	int nconns;
	uint8_t udp_buf[65536];
};

struct dns_conn {
	struct dns *d;
	LIST_ENTRY(dns_conn) link;
	uv_tcp_t tcp;
	uv_timer_t idle;
	uint8_t *buf;			/* DNS_TCP_BUF bytes */
	size_t len;
	int handles;			/* open handles (tcp, idle) */
	int closing;
	int paused;			/* reading stopped for back-pressure */
};

struct dns_write {
	uv_write_t req;
	struct dns_conn *c;
	uint8_t prefix[2];
	uint8_t *answer;
};

static struct dns *
dns_of(struct element *e)
{
	return (struct dns *)e;
}

/* ---- UDP ---- */

static void
udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct dns *d = h->data;

	*buf = uv_buf_init((char *)d->udp_buf, sizeof d->udp_buf);
}

static void
udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
    unsigned flags)
{
	struct dns *d = h->data;
	uint8_t *out;
	size_t outlen;
	uv_buf_t b;

	if (n <= 0 || from == NULL || (flags & UV_UDP_PARTIAL))
		return;
	if (dns_zone_answer(d->zone, (const uint8_t *)buf->base, (size_t)n, 0, &out, &outlen) < 0)
		return;
	/* A full send buffer drops the answer: the client retries, nothing queues. */
	b = uv_buf_init((char *)out, (unsigned)outlen);
	(void)uv_udp_try_send(&d->udp, &b, 1, from);
	free(out);
}

/* ---- TCP ---- */

static void
handle_closed(uv_handle_t *h)
{
	struct dns *d = h->data;

	elem_unref(&d->e);
}

static void
conn_handle_closed(uv_handle_t *h)
{
	struct dns_conn *c = h->data;
	struct dns *d = c->d;

	if (--c->handles > 0)
		return;
	free(c->buf);
	free(c);
	elem_unref(&d->e);
}

static void
conn_close(struct dns_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	LIST_REMOVE(c, link);
	c->d->nconns--;
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->idle, conn_handle_closed);
}

static void
conn_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void
conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct dns_conn *c = h->data;

	*buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(DNS_TCP_BUF - c->len));
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static int conn_drain(struct dns_conn *c);

static void
conn_written(uv_write_t *req, int status)
{
	struct dns_write *w = (struct dns_write *)req;
	struct dns_conn *c = w->c;

	free(w->answer);
	free(w);
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (c->paused && uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) < DNS_TCP_OUT_MAX / 2) {
		/* The queries read before the pause first, then the socket again. */
		c->paused = 0;
		if (conn_drain(c) < 0 || c->paused)
			return;
		if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read) < 0)
			conn_close(c);
	}
}

/* Answer one query of a connection; 0, or -1 when the connection must close. */
static int
conn_answer(struct dns_conn *c, const uint8_t *q, size_t qlen)
{
	struct dns_write *w = calloc(1, sizeof *w);
	uv_buf_t bufs[2];
	size_t outlen;

	if (w == NULL || dns_zone_answer(c->d->zone, q, qlen, 1, &w->answer, &outlen) < 0) {
		free(w);
		return -1;
	}
	w->c = c;
	/* TCP carries each message after its length in two bytes (RFC 1035 4.2.2). */
	ldns_write_uint16(w->prefix, (uint16_t)outlen);
	bufs[0] = uv_buf_init((char *)w->prefix, 2);
	bufs[1] = uv_buf_init((char *)w->answer, (unsigned)outlen);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, 2, conn_written) < 0) {
		free(w->answer);
		free(w);
		return -1;
	}
	return 0;
}

/* Answer the whole queries in c's buffer while its unsent answers stay under
 * DNS_TCP_OUT_MAX.  Past that, the queries not answered yet stay in the buffer and
 * reading stops until conn_written sees the answers go (one read holds up to 64 KiB
 * of queries: answered at once, 2,000 small queries for a 50 KB answer would queue
 * 100 MB).  0, or -1 when the connection was closed. */
static int
conn_drain(struct dns_conn *c)
{
	uv_stream_t *s = (uv_stream_t *)&c->tcp;
	size_t off = 0, mlen;

	while (c->len - off >= 2 && uv_stream_get_write_queue_size(s) < DNS_TCP_OUT_MAX) {
		mlen = ldns_read_uint16(c->buf + off);
		if (c->len - off < 2 + mlen)
			break;
		if (mlen == 0 || conn_answer(c, c->buf + off + 2, mlen) < 0) {
			conn_close(c);
			return -1;
		}
		off += 2 + mlen;
		/* A whole query arrived: the connection has its time again. */
		uv_timer_start(&c->idle, conn_idle, DNS_TCP_IDLE_MS, 0);
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	if (uv_stream_get_write_queue_size(s) >= DNS_TCP_OUT_MAX && !c->paused) {
		uv_read_stop(s);
		c->paused = 1;
	}
	return 0;
}

static void
conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct dns_conn *c = s->data;

	if (n == 0)
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	(void)conn_drain(c);
}

static void
on_connection(uv_stream_t *l, int status)
{
	struct dns *d = l->data;
	struct dns_conn *c;

	if (status < 0 || !d->open)
		return;
	c = calloc(1, sizeof *c);
	if (c == NULL || (c->buf = malloc(DNS_TCP_BUF)) == NULL) {
		free(c);
		return;
	}
	c->d = d;
	elem_ref(&d->e);
	uv_tcp_init(g_server.loop, &c->tcp);
	uv_timer_init(g_server.loop, &c->idle);
	c->tcp.data = c->idle.data = c;
	c->handles = 2;
	LIST_INSERT_HEAD(&d->conns, c, link);
	d->nconns++;
	/* Past the limit a connection is accepted and closed at once: left in the
	 * backlog it would make the listener call again forever. */
	if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0 || d->nconns > DNS_TCP_MAX ||
	    uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read) < 0) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->idle, conn_idle, DNS_TCP_IDLE_MS, 0);
}

/* ---- making one ---- */

/* Parse "", "IP", "IP:PORT" or "[IPv6]:PORT" (the default IP is the server's). */
static int
parse_addr(const char *arg, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 2], def[sizeof g_server.url];
	const char *colon, *p;
	long port = 0;
	size_t n;

	if (*arg == '\0') {
		/* The server's URL is circuit://HOST:PORT/XID. */
		p = strstr(g_server.url, "://");
		snprintf(def, sizeof def, "%s", p != NULL ? p + 3 : "127.0.0.1");
		colon = strrchr(def, ':');
		if (colon != NULL)
			def[colon - def] = '\0';
		arg = def;
	}
	if (*arg == '[') {
		p = strchr(arg, ']');
		if (p == NULL || (p[1] != '\0' && p[1] != ':'))
			return -EINVAL;
		n = (size_t)(p - arg - 1);
		colon = p[1] == ':' ? p + 1 : NULL;
		arg++;
	} else {
		colon = strchr(arg, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;		/* a bare IPv6 address */
		n = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
	}
	if (n == 0 || n >= sizeof host)
		return -EINVAL;
	memcpy(host, arg, n);
	host[n] = '\0';
	if (colon != NULL) {
		if (colon[1] == '\0' || strlen(colon + 1) > 5)
			return -EINVAL;
		for (p = colon + 1; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			port = port * 10 + (*p - '0');
		}
		if (port > 65535)
			return -EINVAL;
	}
	memset(ss, 0, sizeof *ss);
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0 ||
	    uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	return -EINVAL;
}

/* Bind a UDP and a listening TCP socket on the same port of ss (any free port when
 * ss has 0: a UDP port whose TCP twin is taken is let go and another one tried).
 * Plain sockets first, so that a failed try costs no asynchronous handle close. */
static int
bind_pair(struct sockaddr_storage *ss, int *ufd, int *tfd)
{
	socklen_t len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	int any = ntohs(((struct sockaddr_in *)ss)->sin_port) == 0;
	struct sockaddr_storage want = *ss;
	int one = 1, rc = -EADDRINUSE;

	for (int i = 0; i < (any ? DNS_BIND_TRIES : 1); i++) {
		int u = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int t = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		socklen_t sl = sizeof *ss;

		*ss = want;
		if (u < 0 || t < 0 || bind(u, (struct sockaddr *)ss, len) < 0 ||
		    getsockname(u, (struct sockaddr *)ss, &sl) < 0 ||
		    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
		    bind(t, (struct sockaddr *)ss, len) < 0 || listen(t, 128) < 0) {
			rc = -errno;
			if (u >= 0)
				close(u);
			if (t >= 0)
				close(t);
			if (rc == -EADDRINUSE)
				continue;
			return rc;
		}
		*ufd = u;
		*tfd = t;
		return 0;
	}
	return rc;
}

static void
format_addr(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		snprintf(buf, size, "%s:%u", ip, ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		snprintf(buf, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
	}
}

static void
dns_make(struct anchor *a, const char *arg, struct op *op)
{
	struct sockaddr_storage ss;
	struct dns *d;
	char why[512];
	int rc, ufd = -1, tfd = -1;

	if ((rc = dns_ldns_load(why, sizeof why)) < 0) {
		op_fail(op, rc, "%s: mkdns: cannot load ldns: %s", a->path, why);
		return;
	}
	if (parse_addr(arg, &ss) < 0) {
		op_fail(op, -EINVAL, "%s: mkdns: the address must be IP or IP:PORT "
		    "([IPv6]:PORT), not '%s'", a->path, arg);
		return;
	}
	rc = bind_pair(&ss, &ufd, &tfd);
	if (rc < 0) {
		op_fail(op, rc, "%s: mkdns: cannot listen on %s: %s", a->path,
		    *arg != '\0' ? arg : "the server's IP", strerror(-rc));
		return;
	}
	d = calloc(1, sizeof *d);
	if (d == NULL || (d->zone = dns_zone_new()) == NULL) {
		free(d);
		close(ufd);
		close(tfd);
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	elem_init(&d->e, &dns_kind);
	LIST_INIT(&d->conns);
	format_addr(&ss, d->addr, sizeof d->addr);
	uv_udp_init(g_server.loop, &d->udp);
	uv_tcp_init(g_server.loop, &d->listener);
	d->udp.data = d->listener.data = d;
	elem_ref(&d->e);
	elem_ref(&d->e);
	d->open = 1;
	rc = uv_udp_open(&d->udp, ufd);
	if (rc < 0)
		close(ufd);
	rc = rc < 0 ? rc : uv_tcp_open(&d->listener, tfd);
	if (rc < 0)
		close(tfd);		/* a descriptor its handle did not take */
	if (rc < 0 || (rc = uv_udp_recv_start(&d->udp, udp_alloc, udp_recv)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&d->listener, 128, on_connection)) < 0) {
		op_fail(op, rc, "%s: mkdns: %s", a->path, uv_strerror(rc));
		dns_kind.scrub(&d->e);
		elem_unref(&d->e);
		return;
	}
	anchor_attach(a, &d->e);
	op_done(op, 0);
}

/* ---- verbs, peek, scrub ---- */

static void
dns_verb(struct element *e, const char *verb, const char *arg, struct op *op)
{
	struct dns *d = dns_of(e);
	char why[512];
	int rc;

	if (strcmp(verb, "set") == 0)
		rc = dns_zone_set(d->zone, arg, why, sizeof why);
	else if (strcmp(verb, "unset") == 0)
		rc = dns_zone_unset(d->zone, arg, why, sizeof why);
	else {
		op_fail(op, -EINVAL, "%s: %s: unknown verb for a nameserver (set, unset, scrub)",
		    elem_path(e), verb);
		return;
	}
	if (rc < 0)
		op_fail(op, rc, "%s: %s: %s", elem_path(e), verb, why);
	else
		op_done(op, 0);
}

static void
dns_snap(struct element *e, const char *file, struct op *op)
{
	struct dns *d = dns_of(e);
	json_t *records;

	if (strcmp(file, "peek") != 0) {
		op_fail(op, -ENOENT, "%s: no file %s here", elem_path(e), file);
		return;
	}
	records = dns_zone_json(d->zone);
	if (records == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	op_done_json(op, json_pack("{s:s, s:o}", "Address", d->addr, "Records", records),
	    JSON_PRESERVE_ORDER);
}

static void
dns_open(struct element *e, const char *file, int mode, struct op *op)
{
	op_fail(op, -ENOENT, "%s: %s is not a stream", elem_path(e), file);
}

static void
dns_scrub(struct element *e)
{
	struct dns *d = dns_of(e);

	if (!d->open)
		return;
	d->open = 0;
	while (!LIST_EMPTY(&d->conns))
		conn_close(LIST_FIRST(&d->conns));
	uv_close((uv_handle_t *)&d->udp, handle_closed);
	uv_close((uv_handle_t *)&d->listener, handle_closed);
}

static void
dns_destroy(struct element *e)
{
	struct dns *d = dns_of(e);

	dns_zone_free(d->zone);
	free(d);
}

static const struct op_file dns_files[] = {
	{ "peek", OPF_READ },
	{ NULL, 0 },
};

static const char dns_help[] =
"A nameserver: an authoritative DNS server, UDP and TCP, answering from the records\n"
"set here (made by `mkdns [IP[:PORT]]`; by default any free port of the server's IP).\n"
"\n"
"Files:\n"
"  peek   {\"Address\": \"IP:PORT\", \"Records\": {\"name.\": [\"name. 3600 IN A 1.2.3.4\"]}}\n"
"\n"
"Verbs (write to ctl):\n"
"  set RR      add one record in zone-file syntax (A, AAAA, CNAME, MX, TXT, SRV, NS,\n"
"              PTR, SOA, ... anything ldns parses); names are absolute, TTL 3600 if\n"
"              none.  A bad record fails with EINVAL and ldns's reason in error.\n"
"  unset NAME  remove every record of NAME (ENOENT if it has none)\n"
"  scrub       stop the server and close its sockets (rmdir does too)\n"
"\n"
"Answers: authoritative (AA); NXDOMAIN for an unknown name, no records (NODATA) for\n"
"a known name without that type; names match case-insensitively; a CNAME answers\n"
"every type and is followed inside this server.  A UDP answer larger than the\n"
"client's buffer (512 bytes, or its EDNS0 size) is truncated (TC): ask over TCP.\n"
"\n"
"Examples:\n"
"  echo 'mkdns 127.0.0.1:5353' > ctl\n"
"  echo 'set web.example. 60 IN A 10.0.0.7' > ctl\n"
"  dig @127.0.0.1 -p 5353 web.example. A +short      # 10.0.0.7\n"
"  echo 'unset web.example.' > ctl\n"
"  cat peek\n";

const struct elem_kind dns_kind = {
	.name = "nameserver",
	.make_verb = "mkdns",
	.files = dns_files,
	.help = dns_help,
	.make = dns_make,
	.verb = dns_verb,
	.snap = dns_snap,
	.open = dns_open,
	.scrub = dns_scrub,
	.destroy = dns_destroy,
};
