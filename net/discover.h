/* discover.h - multicast discovery of the other servers (-discover); see discover.c. */
#ifndef CIRCUIT_NET_DISCOVER_H
#define CIRCUIT_NET_DISCOVER_H

#include <stddef.h>
#include <uv.h>

#define DISCOVER_DEFAULT "228.8.8.8:8822"
#define DISCOVER_QUERY   "circuit-query 1\n"

/* The URL of an announcement ("circuit-announce 1 URL\n", len bytes) into url[size];
 * 0 or -EBADMSG. */
int	discover_answer(const char *text, size_t len, char *url, size_t size);

/* MCAST:PORT from spec, else $CIRCUIT_DISCOVER, else the default; 0 or -EINVAL. */
int	discover_parse(const char *spec, char *host, size_t hostsz, int *port);

/* Join the group on the interface with address iface_ip (NULL: the default one),
 * announce this server and join every server heard.  0, -EINVAL or -errno. */
int	discover_start(uv_loop_t *loop, const char *spec, const char *iface_ip);

/* Stop announcing and listening (shutdown). */
void	discover_stop(void);

#endif
