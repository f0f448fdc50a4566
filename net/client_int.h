/* client_int.h - what the parts of the client library share (not installed).
 *
 * client_io.c moves frames over the connection's socket (sealed in records with a
 * key) and watches for a server that stops answering; client.c dials, says HELLO
 * and runs the calls that take one exchange; client_stream.c is the streams, with
 * their read-ahead and write-behind (net/window.h).
 */
#ifndef CIRCUIT_NET_CLIENT_INT_H
#define CIRCUIT_NET_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "net/client.h"
#include "net/frame.h"
#include "net/secure.h"
#include "net/url.h"

/* Connecting, and the answer to our AUTH or HELLO, must not take longer. */
#define CONNECT_TIMEOUT_S	10
/* A server that does not answer: after SILENCE_MS without a byte from it while a call
 * waits, the client asks it something it answers itself (stat of "/": never
 * forwarded); with still no byte PROBE_MS later it is declared gone.  A call may wait
 * for hours (recv, wait) on a server that answers its probes; a stopped or cut-off
 * one ends every call within SILENCE_MS + PROBE_MS.  A send that cannot go out for as
 * long means the same. */
#define SILENCE_MS		5000
#define PROBE_MS		5000
/* A reply body this big is received apart from its head: straight into the reader's
 * buffer when it answers the read that waits, else into a buffer of its own. */
#define BODY_APART		16384

struct circuit_stream;

/* The cause of a lost connection kept for later calls: one line, at most this long. */
#define LOST_WHY_MAX		200

struct circuit {
	int fd;				/* -1 once the connection is broken */
	/* Why it broke, from the first failure: its -errno (0 while the connection
	 * works) and one line ("connection lost (Connection reset by peer)", "refused:
	 * TEXT"); every later call says it (client_gone). */
	int lost_rc;
	char lost_why[LOST_WHY_MAX + 1];
	/* With a key: the session; bytes received and not yet opened (rbuf, from roff to
	 * rend: a few records, so that a stream costs few reads); the plaintext of a
	 * record opened and not yet taken (pbuf, from poff to pend). */
	struct secure *sec;
	uint8_t *rbuf, *pbuf;
	size_t roff, rend, poff, pend;
	int up;				/* HELLO exchanged: probes may be sent */
	int64_t hello_by;		/* before up: when the answer is late (ms, monotonic;
					 * 0: the first wait sets it) */
	uint32_t next_tag;
	uint32_t probe_tag;		/* a probe is out (its answer is ignored) */
	char where[URL_MAX];
	struct circuit_stream *streams;	/* open streams, for the replies they wait for */
	/* The body of the frame last read when it was received apart from its head: in
	 * rbody (malloc'd), or in dbuf if direct. */
	char *rbody;
	size_t rbody_len;
	int direct;
	/* circuit_read waits for the reply with tag dtag (0: none): its body may go
	 * straight into dbuf if it fits in dmax bytes. */
	uint32_t dtag;
	char *dbuf;
	size_t dmax;
};

/* A request of a stream in flight (or answered, for reads not yet delivered). */
struct pend {
	struct pend *next;
	uint32_t tag;
	size_t asked;			/* read: max; write: bytes sent */
	int done, rc;
	int direct;			/* read: the bytes went straight into the reader's buffer */
	char *msg, *data;
	size_t len, off;
};

/* A stream: read ahead and written behind as the servers do it (docs/protocol.md):
 * reads ahead only once a byte has been delivered, writes behind only once the server
 * says the stream parks writes; each within the windows of net/window.h. */
struct circuit_stream {
	struct circuit *c;
	uint32_t h;
	int writer;			/* opened CIRCUIT_WRITE: its close ends a message */
	struct circuit_stream *next;
	struct pend *rq;		/* reads asked for, oldest first */
	size_t ra_budget;		/* bytes asked for + answered, not delivered */
	int delivered, ra_stop;
	struct pend *wq;		/* writes written behind, oldest first */
	int nwq;
	size_t wb_bytes;
	int wb;				/* the server parks our writes: write behind */
	int werr;			/* a write written behind failed */
	char *wmsg;
};

/* ---- client_io.c ---- */

/* Put a message in *err (if err is not NULL) and return rc. */
int client_fail(char **err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Raw bytes on the socket (the key handshake): 0 or -errno. */
int client_write_all(int fd, const void *buf, size_t len);
int client_read_all(struct circuit *c, void *buf, size_t len);

/* Write a frame, in two pieces (b may be NULL), sealed with a key: 0 or -errno. */
int client_write2(struct circuit *c, const void *a, size_t alen, const void *b, size_t blen);
int client_write(struct circuit *c, const void *buf, size_t len);

/* Read one frame; *payload is malloc'd (free it).  A large REP body is received apart
 * (c->rbody, or the reader's buffer): then the payload holds the head only. */
int client_read_frame(struct circuit *c, struct frame *f, uint8_t **payload);

/* Parse the message f read by client_read_frame: head and body, wherever the body
 * went. */
int client_msg_parse(struct circuit *c, const struct frame *f, json_t **h,
    const uint8_t **b, size_t *bl);

/* Close the socket: every call from now on fails (circuit_close). */
void client_broken(struct circuit *c);

/* The connection failed with rc: close it, keep why (if it is the first cause), say
 * why in *err, return the call's errno (EPROTO, ETIMEDOUT, ECONNREFUSED or
 * EHOSTDOWN). */
int client_lost(struct circuit *c, int rc, char **err);

/* The server refused us mid-connection: the REFUSE frame f, its text kept as the
 * cause; returns what client_lost does. */
int client_refused(struct circuit *c, const struct frame *f, char **err);

/* A call on a connection already lost: EHOSTDOWN, with the first cause in *err. */
int client_gone(struct circuit *c, char **err);

/* ---- client.c ---- */

/* A request's head: {"op", "path", "file", "client"} (NULL if out of memory). */
json_t *client_req(const char *op, const char *path, const char *file);

/* Send a REQ with head and body; *tag gets its tag. */
int client_send_req(struct circuit *c, json_t *head, const void *body, size_t blen,
    uint32_t *tag, char **err);

/* One exchange: send a REQ with head and body, wait for its REP.  On success *rep is
 * the reply head and *rbody (length *rblen) a malloc'd copy of its body,
 * NUL-terminated. */
int client_call(struct circuit *c, json_t *head, const void *body, size_t blen,
    json_t **rep, char **rbody, size_t *rblen, char **err);

/* Ask the server something it answers itself, to learn whether it lives. */
int client_probe(struct circuit *c);

/* ---- client_stream.c ---- */

/* A reply for a stream's read or write in flight: record it (0), ignore it (a reply to
 * a read cancelled at close), or -EPROTO. */
int client_stash(struct circuit *c, const struct frame *f);

#endif
