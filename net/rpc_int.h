/* rpc_int.h - what the three parts of the RPC layer share (not for outside net/).
 *
 * rpc.c is the caller side (calls and their replies) and the frame dispatch;
 * rstream.c the remote streams an OPEN hands back (read-ahead, write-behind, poll,
 * flush); serve.c the owner side (requests run for the other end, open handles).
 */
#ifndef CIRCUIT_NET_RPC_INT_H
#define CIRCUIT_NET_RPC_INT_H

#include "net/rpc.h"

/* A message's head (a new reference) and body; a body received apart (conn.h) stays
 * in the connection for the handler to take over.  0 or -EBADMSG. */
int rpc_msg_parse(struct conn *c, const struct frame *f, json_t **head,
    const uint8_t **body, size_t *blen);

/* rstream.c: the stream of handle h on c's owner, opened with mode, with the size
 * its OPEN reply told (-1: a stream without one, never read at offsets); NULL if no
 * memory. */
struct stream *rstream_new(struct conn *c, uint32_t h, int mode, int64_t size);

/* The owner told s's size (a READ reply's "size"): it only grows. */
void rstream_set_size(struct stream *s, int64_t size);

/* Is s a remote stream?  Its handle; whether its owner parks our writes (REP "wb"). */
int rstream_is(const struct stream *s);
uint32_t rstream_handle(const struct stream *s);
int rstream_wb(const struct stream *s);
void rstream_set_wb(struct stream *s);

/* Is op a remote stream's readiness wait (a READ of 0 sent with "wait")? */
int rstream_is_wait(const struct op *op);

/* c died: its remote streams fail what comes next, and their openers are told. */
void rstream_conn_lost(struct conn *c);

/* serve.c: a REQ, a CANCEL or a RELEASE frame on c (-errno: drop c); c died. */
int serve_req(struct conn *c, const struct frame *f);
int serve_cancel(struct conn *c, const struct frame *f);
int serve_release(struct conn *c, const struct frame *f);
void serve_conn_closed(struct conn *c);

#endif
