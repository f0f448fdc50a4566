/* net.h - the cluster layer as `circuit start` sees it: listen, join, leave.
 *
 * net_listen() opens the TCP port (before server_init, which needs the port for the
 * URL); net_init() installs the remote backend of the operation layer, the root
 * listing and the server element's join verb and member list; net_stop() leaves the
 * cluster (peers drop this server at once) and closes every connection.
 */
#ifndef CIRCUIT_NET_NET_H
#define CIRCUIT_NET_NET_H

#include <uv.h>

/* Listen on host:port (numeric; port 0 = any); *bound gets the port.  0 or -errno. */
int net_listen(uv_loop_t *loop, const char *host, int port, int *bound);

/* Wire the cluster layer to this server (after server_init). */
int net_init(uv_loop_t *loop);

/* Join the cluster at url; cb(0, NULL, arg) once joined, cb(-errno, msg, arg) if not
 * (also called, with 0, when url is already a member).  -EINVAL for a bad URL. */
int net_join(const char *url, void (*cb)(int status, const char *msg, void *arg), void *arg);

/* Leave the cluster and close every connection and the listener (shutdown).  Pending
 * remote ops fail with -EHOSTDOWN (their callbacks run from op_drain()). */
void net_stop(void);

#endif
