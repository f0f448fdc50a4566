/* rpc.h - operations of the operation layer carried over a connection.
 *
 * Each operation is one exchange: a REQ frame with the op's fields as a JSON head
 * (and its bytes as the body: a ctl command, written data), answered by one REP frame
 * with {"rc", "msg", "json", "h"} and the result bytes as the body.  The caller's tag
 * (the frame id) pairs them, like 9P's tags.  An OPEN that succeeds hands back a
 * handle: the stream stays on the owner, and READ/WRITE requests name it.  A remote
 * stream reads ahead (up to 4 MiB asked for and not yet delivered, only once a byte
 * has been delivered) and writes behind (up to 4 MiB in flight, only once the owner
 * says its element parks writes): memory stays bounded, and a slow reader still holds
 * back the writer through the owner's element (docs/protocol.md).  A stream with a
 * size (a process's stdout) tells it in its OPEN and READ replies, and its opener's
 * reads at file offsets (tail -f) carry them, one request each, never ahead.
 * CANCEL stops a request (the owner op_cancel()s it; the reply then says EINTR, or
 * the result if it raced); RELEASE closes a handle.
 *
 * When a connection dies, every call on it fails with -EHOSTDOWN, every request it
 * carried is cancelled, every handle it held is released, and its remote streams fail
 * every later READ/WRITE with -EHOSTDOWN.
 */
#ifndef CIRCUIT_NET_RPC_H
#define CIRCUIT_NET_RPC_H

#include "elements/op.h"
#include "net/conn.h"

/* Send op (any type; READ/WRITE on a stream made by this module) over c; op completes
 * when the reply comes, or with -EHOSTDOWN when c dies.  op must be OPS_RUNNING. */
void rpc_call(struct conn *c, struct op *op);

/* Handle a REQ, REP, CANCEL or RELEASE frame that arrived on c; -errno: drop c. */
int rpc_frame(struct conn *c, const struct frame *f);

/* c is closing: fail, cancel and release everything it carried. */
void rpc_conn_closed(struct conn *c);

/* Parse a REQ head and body into a new op (for the server side and the fuzzer):
 * returns 0 with *out set, or -EINVAL with *msg saying why (static text); *handle
 * gets the "h" field of READ/WRITE. */
int rpc_parse_req(json_t *head, const uint8_t *body, size_t bodylen, struct op **out,
    uint32_t *handle, const char **msg);

/* The wire names of op types ("stat", "list", ...), and back (-1 if unknown). */
const char *rpc_op_name(enum op_type t);
int rpc_op_type(const char *name);

#endif
