/* gossip.h - the membership core on the wire (see gossip.c): UDP on the server's
 * port, failure detection, and the member table driven by its events.
 */
#ifndef CIRCUIT_NET_GOSSIP_H
#define CIRCUIT_NET_GOSSIP_H

#include <jansson.h>
#include <uv.h>

/* Bind UDP host:port (the server's own TCP port) and start the core.  0 or -errno. */
int	gossip_init(uv_loop_t *loop, const char *host, int port);

/* Join through the server at url (a full-state exchange).  0 or -EINVAL. */
int	gossip_join(const char *url);

/* Evidence that member xid may be gone (a lost connection, a failed dial, a HELLO
 * from its address under another XID): the core probes it before any other member.
 * 0, -ENOENT if it is not listed, -EINVAL. */
int	gossip_verify(const char *xid);

/* Datagram counters for peek: sent, received, dropped (by reason), listed. */
json_t	*gossip_stats_json(void);

/* The whole state for stk: members with state and incarnation, suspects, health. */
json_t	*gossip_state_json(void);

/* Announce the leave once and stop (shutdown). */
void	gossip_stop(void);

#endif
