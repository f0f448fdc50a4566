/* peer.h - the other servers: connections on demand, the remote backend, join/leave.
 *
 * Operations on another server's anchors go over the connection to that member,
 * dialed on first use (ops wait in the member's queue meanwhile; a failed dial fails
 * them with EHOSTDOWN).  Connections stay open while both servers live.  Who is a
 * member is the membership core's word alone (net/gossip.c, UDP): its JOINED lists a
 * member, its DEAD and LEFT remove it (peer_member_dead).  A lost connection, a
 * failed dial or a HELLO from a member's address under another XID is only a hint:
 * the core probes that member at once (gossip_verify).
 *
 * Join: dial the URL and exchange HELLOs (which proves the server and, with a key,
 * the cluster key), while the core asks it for its full state over UDP; the join is
 * complete when the core lists that server.
 */
#ifndef CIRCUIT_NET_PEER_H
#define CIRCUIT_NET_PEER_H

#include <jansson.h>

#include "elements/op.h"
#include "net/conn.h"

/* Our HELLO head: {"id", "url"}. */
json_t *peer_hello(void);

/* Check the other side's HELLO (a client's {"client": ...} or a server's {"id","url"}). */
int peer_check_hello(struct conn *c, json_t *head);

/* Bind the join timers to the loop. */
void peer_init(uv_loop_t *loop);

/* HELLOs exchanged: the connection serves its member, if the core lists it. */
void peer_up(struct conn *c);

/* c is closing (after rpc_conn_closed): another connection serves its member, or the
 * next operation dials; the core probes the member. */
void peer_closed(struct conn *c, int reason);

/* The remote backend of the operation layer (op_set_remote). */
void peer_run(struct op *op);

/* Join the cluster of the server at url.  Returns 0 if the join started (cb runs once:
 * with 0 when the core lists that server, or -errno and a message: the dial or HELLO
 * failed, the connection was lost first, or no state came over UDP within 15 s), 1 if
 * url is already a member (cb not called), -EINVAL for a bad URL or this server's own. */
int peer_join(const char *url, void (*cb)(int status, const char *msg, void *arg),
    void *arg);

/* The membership core declared member id dead or gone: close its connections (every
 * operation pending on it fails with EHOSTDOWN) and remove it.  No frame is sent: the
 * core has told the cluster already. */
void peer_member_dead(const char *id, const char *why);

/* The core listed member id (JOINED): a join waiting for it is complete. */
void peer_member_joined(const char *id);

/* The server stops: no more dials; pending joins end with ESHUTDOWN.  (The core
 * tells the cluster: gossip_stop's LEFT.) */
void peer_leave(void);

#endif
