/* conn.h - one TCP connection speaking frames, on the server's loop.
 *
 * A connection is dialed (to a member, or for a join) or accepted (from a peer or a
 * client).  Both ends send a HELLO first; nothing else is accepted before the other's
 * HELLO.  Frames are decoded as they arrive, each length checked before use: a bad
 * frame (another version, an unknown type, an oversized length, a malformed message)
 * drops the connection with a log line, and the server carries on.  Writes are queued
 * in libuv and the memory handed to conn_send* is freed when written or dropped.
 *
 * conn.c is a connection's life and its writes, conn_read.c its reads (conn_int.h).
 * The RPC state of a connection (calls, requests served, open handles) lives in the
 * struct too, managed by rpc.c, serve.c and rstream.c; the member it reaches by peer.c.
 */
#ifndef CIRCUIT_NET_CONN_H
#define CIRCUIT_NET_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <jansson.h>
#include <uv.h>

#include "net/frame.h"
#include "net/idtab.h"
#include "net/url.h"

enum conn_state {
	CONN_DIALING,		/* TCP connect in progress (outgoing) */
	CONN_AUTH,		/* with a key: waiting for the other's AUTH frame */
	CONN_HELLO,		/* connected, waiting for the other's HELLO */
	CONN_UP,		/* HELLO exchanged: frames flow */
	CONN_CLOSED,		/* closing or closed; nothing more is sent or handled */
};

struct member;
struct secure;
struct secure_hs;
struct rpc_call;
struct rpc_inreq;
struct rpc_handle;
struct rstream;

struct conn {
	enum conn_state state;
	int outgoing;			/* we dialed it */
	char name[80];			/* "127.0.0.1:4000" or "X...": for logs */
	char peer_id[URL_ID_LEN + 1];	/* the other server's XID; "" for a client */
	char peer_url[URL_MAX];
	char want_id[URL_ID_LEN + 1];	/* dialed for this XID ("" for any) */
	char src[48];			/* accepted: the other's IP address */

	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_timer_t timer;		/* dial and HELLO deadline */
	int handles_open;		/* libuv handles not yet closed */

	/* With a cluster key (net/secure.h): the handshake until the other's AUTH frame
	 * is in, then the session; received bytes wait in cbuf until a whole record is
	 * there, and its plaintext goes on to rbuf or rbody as if read from the socket. */
	struct secure_hs *hs;
	struct secure *sec;
	uint8_t *cbuf;
	size_t clen, ccap;
	char auth_id[URL_ID_LEN + 1];	/* the XID the other's AUTH frame named */

	uint8_t *rbuf;			/* received bytes not yet decoded */
	size_t rlen, rcap;
	/* A large REQ or REP body is received apart from its head, straight into a buffer
	 * of its own that the layer above may take over (conn_take_body): the head is in
	 * rbuf (rlen bytes), the body comes into rbody. */
	uint8_t *rbody;			/* malloc'd, rbody_len + 1 bytes */
	size_t rbody_len, rbody_got;
	size_t wqueued;			/* bytes handed to libuv, not yet written */
	int paused;			/* reading stopped: too many reply bytes unwritten */
	/* A send failed (no memory, or libuv refused the write): the connection is
	 * closed from the loop with this reason (conn_close_later); nothing more is sent
	 * or handled until then. */
	int close_reason;

	/* The dialer's one-shot notice: up (0) or failed (-errno). */
	void (*dial_cb)(struct conn *c, int status, void *arg);
	void *dial_arg;

	/* The RPC layer's state (rpc.c, serve.c, rstream.c). */
	uint32_t next_tag, next_handle;
	TAILQ_HEAD(, rpc_call) calls;		/* our requests waiting for a reply */
	TAILQ_HEAD(, rpc_inreq) inreqs;		/* the other's requests we run */
	TAILQ_HEAD(, rpc_handle) handles;	/* streams we opened for the other */
	TAILQ_HEAD(, rstream) rstreams;		/* streams the other opened for us */
	/* The same found by id in O(1) (net/idtab.h): a tag or handle the other names
	 * costs one lookup, however many it holds (rpc.c, serve.c). */
	struct idtab call_tab;			/* calls by tag */
	struct idtab inreq_tab;			/* inreqs by tag */
	struct idtab handle_tab;		/* handles by id */
	struct idtab poll_tab;			/* handles by the tag of a readiness wait */
	int ninreqs;
	int nhandles;			/* in handles */
	int nopening;			/* OPENs in inreqs, counted against the handles' cap */
	size_t inreq_bytes;

	struct member *member;		/* the member this is the connection of, if any */
	/* New members this peer told us of in the current 10 s window (peer.c). */
	unsigned members_new;
	uint64_t members_window;
	TAILQ_ENTRY(conn) link;		/* all connections */
};

/* What the layers above do with a connection's life. */
struct conn_events {
	json_t *(*hello)(void);					/* our HELLO head */
	int (*check_hello)(struct conn *c, json_t *head);	/* 0 or -errno: refuse */
	void (*up)(struct conn *c);				/* HELLO exchanged */
	int (*frame)(struct conn *c, const struct frame *f);	/* -errno: drop conn */
	void (*closed)(struct conn *c, int reason);		/* fail what is pending */
};

/* Bind the module to the loop and the layers above. */
void conn_init(uv_loop_t *loop, const struct conn_events *ev);

/* Use key (KEY_LEN bytes) on every connection from now on, or plaintext if NULL; our
 * XID goes into the handshake (NULL or "" for a client). */
int conn_set_key(const uint8_t *key, const char *self_id);

/* Is there a key (are connections authenticated and encrypted)? */
int conn_secure(void);

/* The cluster key (KEY_LEN bytes), or NULL without one: for sealing datagrams. */
const uint8_t *conn_key(void);

/* Take a new connection off listener (from its connection callback). */
int conn_accept(uv_stream_t *listener);

/* Dial url; want_id, if not NULL or "", must be the XID the other side says it is.
 * cb(c, 0, arg) runs once HELLOs are exchanged, cb(c, -errno, arg) if it fails first. */
int conn_dial(const struct url *u, const char *want_id,
    void (*cb)(struct conn *c, int status, void *arg), void *arg, struct conn **out);

/* Queue buf (malloc'd, freed by this module) for sending; dropped if c is closed. */
void conn_send(struct conn *c, void *buf, size_t len);

/* Queue a frame in two pieces (both malloc'd, freed by this module). */
void conn_send2(struct conn *c, void *a, size_t alen, void *b, size_t blen);

/* Build and queue a message frame; body is copied. */
int conn_send_msg(struct conn *c, enum frame_type type, uint32_t id, const json_t *head,
    const void *body, size_t bodylen);

/* Queue an empty frame (CANCEL, RELEASE). */
void conn_send_empty(struct conn *c, enum frame_type type, uint32_t id);

/* While a frame handler runs: the body of that REQ or REP frame if it was received
 * apart from its head (then the frame's payload holds the head length and the head
 * only), else NULL with *len 0.  conn_body() lends it; conn_take_body() hands it over
 * (malloc'd, a NUL after the last byte), otherwise it is freed after the handler. */
const uint8_t *conn_body(const struct conn *c, size_t *len);
char *conn_take_body(struct conn *c);

/* Close c: closed() runs now, the memory goes when libuv is done.  Safe twice. */
void conn_close(struct conn *c, int reason);
/* Close c from the loop, soon, not now: for a failure found where a caller up the
 * stack may still use c or what hangs off it (a send that fails inside a stream's
 * notify, or while a request's completion frees a handle).  From now on nothing is
 * sent on c and no frame of it is handled.  Safe twice; the first reason counts.
 * A failed send (conn_send*) always closes this way, so a sender never sees its
 * connection closed, and its requests and handles freed, under its feet. */
void conn_close_later(struct conn *c, int reason);
/* c is up and not marked for closing: new work may go on it. */
int conn_usable(const struct conn *c);
/* Close c gently: input already received is read away (at most 64 KiB) and the write
 * side shut first, so the other side gets what was sent and an end, not a reset
 * (closing with unread input resets, and a reset can overtake the last bytes). */
void conn_drop(struct conn *c, int reason);

/* Try to write buf at once, without queueing (shutdown's LEAVE): 0 or -errno. */
int conn_send_now(struct conn *c, const void *buf, size_t len);

/* Every live connection, for iteration (TAILQ of struct conn through link). */
TAILQ_HEAD(conn_list, conn);
extern struct conn_list conn_all;

#endif
