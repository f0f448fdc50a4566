/* conn_int.h - what the two parts of the connection layer share (not for outside net/).
 *
 * conn.c is a connection's life (accept, dial, the first frame of the handshake,
 * deadlines, close) and the write path; conn_read.c the read path (frame reassembly,
 * bodies received apart, the strangers' small buffers, the key records' opening, the
 * other's AUTH and HELLO).
 */
#ifndef CIRCUIT_NET_CONN_INT_H
#define CIRCUIT_NET_CONN_INT_H

#include "net/conn.h"

/* The layers above, as conn_init() was given them. */
extern const struct conn_events *conn_ev;

/* Deadlines, in ms: the key handshake and HELLO together (10 s), and a frame or
 * record half received that gets no byte (30 s).  CIRCUIT_TEST_DEADLINE_MS, read by
 * conn_init(), sets both, so that a test sees them pass in seconds. */
extern unsigned conn_hello_ms, conn_stall_ms;

/* c is in its handshake, HELLO or up, and not marked for closing (conn_close_later):
 * bytes may still be sent on it and read from it. */
static inline int
conn_live(const struct conn *c)
{
	return (c->state == CONN_AUTH || c->state == CONN_HELLO || c->state == CONN_UP) &&
	    c->close_reason == 0;
}

/* conn.c: bytes moved; give the heap back once the connections have been quiet. */
void conn_trim_later(void);

/* conn.c: the timer's callback: the dial, handshake, HELLO or stall deadline passed. */
void conn_on_timeout(uv_timer_t *t);

/* conn.c: send our HELLO (c is closed if there is no memory for it). */
void conn_send_hello(struct conn *c);

/* conn_read.c: start or stop reading c as its pause bits say, and watch for a stall. */
void conn_update_reading(struct conn *c);

/* conn_read.c: free c's receive buffers (c is going away). */
void conn_free_buffers(struct conn *c);

#endif
