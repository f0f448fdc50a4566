/* peer.h - the other servers: connections on demand, the remote backend, join/leave.
 *
 * Operations on another server's anchors go over the connection to that member,
 * dialed on first use (ops wait in the member's queue meanwhile).  Connections stay
 * open while both servers live: an idle TCP connection costs nothing, and its loss is
 * how a crashed server is noticed today.  A member whose connection drops is redialled
 * once; if that fails it is removed, and the other members are told (DEAD).
 *
 * Join: dial the URL, exchange HELLOs, then both sides send their whole member table
 * (MEMBERS); every member learned is dialed in turn and gets our table, so two
 * clusters merge completely.  Leave: a server that stops cleanly sends LEAVE on every
 * connection, and its peers drop it at once.
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

/* HELLOs exchanged: adopt the connection for its member and send our table. */
void peer_up(struct conn *c);

/* c is closing (after rpc_conn_closed): find another way to its member or drop it. */
void peer_closed(struct conn *c, int reason);

/* A MEMBERS, LEAVE or DEAD frame from c; -errno: drop c. */
int peer_frame(struct conn *c, const struct frame *f);

/* The remote backend of the operation layer (op_set_remote). */
void peer_run(struct op *op);

/* Join the cluster of the server at url.  Returns 0 if the join started (cb runs once
 * with 0 when the other's member table is in, or -errno and a message), 1 if url is
 * already a member (cb not called), -EINVAL for a bad URL or this server's own. */
int peer_join(const char *url, void (*cb)(int status, const char *msg, void *arg),
    void *arg);

/* The membership core declared member id dead or gone: close its connections (every
 * operation pending on it fails with EHOSTDOWN) and remove it.  No frame is sent: the
 * core has told the cluster already. */
void peer_member_dead(const char *id, const char *why);

/* Tell every peer we leave (best effort, at once), then stop redialling anyone. */
void peer_leave(void);

#endif
