/* url.c - parse and format circuit URLs (pure; see url.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "net/url.h"

static const char scheme[] = "circuit://";

int
url_is_xid(const char *s)
{
	if (s == NULL || s[0] != 'X' || strlen(s) != URL_ID_LEN)
		return 0;
	for (int i = 1; i < URL_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
url_parse(const char *text, struct url *u, int need_id)
{
	const char *p, *host, *hend, *colon, *slash;
	unsigned char addr[16];
	size_t hl;
	long port;
	char *end;

	memset(u, 0, sizeof *u);
	if (text == NULL || strncmp(text, scheme, sizeof scheme - 1) != 0 ||
	    strlen(text) >= URL_MAX)
		return -EINVAL;
	p = text + sizeof scheme - 1;
	if (*p == '[') {
		host = p + 1;
		hend = strchr(host, ']');
		if (hend == NULL || hend[1] != ':')
			return -EINVAL;
		colon = hend + 1;
	} else {
		host = p;
		colon = strchr(p, ':');
		if (colon == NULL)
			return -EINVAL;
		hend = colon;
	}
	hl = (size_t)(hend - host);
	if (hl == 0 || hl >= sizeof u->host)
		return -EINVAL;
	memcpy(u->host, host, hl);
	u->host[hl] = '\0';
	if (inet_pton(*p == '[' ? AF_INET6 : AF_INET, u->host, addr) != 1)
		return -EINVAL;
	if (colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || port < 1 || port > 65535 || (*end != '\0' && *end != '/'))
		return -EINVAL;
	u->port = (int)port;
	slash = end;
	if (*slash == '\0' || slash[1] == '\0') {
		if (need_id)
			return -EINVAL;
		return 0;
	}
	if (!url_is_xid(slash + 1))
		return -EINVAL;
	memcpy(u->id, slash + 1, URL_ID_LEN + 1);
	return 0;
}

int
url_format(const struct url *u, char *buf, size_t size)
{
	int n, v6 = strchr(u->host, ':') != NULL;

	n = snprintf(buf, size, "%s%s%s%s:%d/%s", scheme, v6 ? "[" : "", u->host,
	    v6 ? "]" : "", u->port, u->id);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
url_sockaddr(const struct url *u, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, u->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)u->port);
		return 0;
	}
	if (inet_pton(AF_INET6, u->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)u->port);
		return 0;
	}
	return -EINVAL;
}
