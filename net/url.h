/* url.h - circuit URLs: "circuit://HOST:PORT/XID".
 *
 * HOST is a numeric address (IPv4, or IPv6 in brackets): the server loop never does
 * a blocking name lookup.  XID is "X" followed by 16 lowercase hex digits.
 */
#ifndef CIRCUIT_NET_URL_H
#define CIRCUIT_NET_URL_H

#include <sys/socket.h>

#define URL_MAX		128
#define URL_ID_LEN	17		/* "X" + 16 hex digits */

struct url {
	char host[64];			/* numeric, without brackets */
	int port;			/* 1..65535 */
	char id[URL_ID_LEN + 1];	/* the XID, or "" when the URL has none */
};

/* Parse text into u.  The XID may be left out ("circuit://HOST:PORT" or a trailing
 * slash) only when need_id is 0.  Returns 0 or -EINVAL. */
int url_parse(const char *text, struct url *u, int need_id);

/* Is s a well-formed XID ("X" + 16 lowercase hex digits)? */
int url_is_xid(const char *s);

/* Write the canonical text of u into buf; returns 0 or -ENAMETOOLONG. */
int url_format(const struct url *u, char *buf, size_t size);

/* The socket address of u (AF_INET or AF_INET6) into ss; returns 0 or -EINVAL. */
int url_sockaddr(const struct url *u, struct sockaddr_storage *ss);

#endif
