/* rstream_int.h - what the two halves of a remote stream share (not for outside net/).
 *
 * rstream.c is the stream and its reading side (read-ahead, reads at offsets, poll,
 * release); rstream_write.c its writing side (write-behind, FLUSH).
 */
#ifndef CIRCUIT_NET_RSTREAM_INT_H
#define CIRCUIT_NET_RSTREAM_INT_H

#include "net/rpc_int.h"

struct rstream {
	struct stream s;
	struct conn *c;			/* NULL once the connection is gone (or released) */
	uint32_t h;
	int mode;			/* OP_RDONLY or OP_WRONLY */
	int refs;			/* the opener's, plus one per request of ours in flight */
	int released;
	char where[96];			/* the owner, for messages */
	TAILQ_ENTRY(rstream) link;

	/* Reading: requests sent, oldest first, each with its result once answered. */
	struct op_queue reads;		/* the opener's reads waiting, oldest first */
	TAILQ_HEAD(, rchunk) chunks;
	int nchunks_out;		/* chunks still asked for */
	size_t ra_budget;		/* bytes asked for in flight + answered, not delivered */
	int delivered;			/* a byte reached the opener: read ahead from now on */
	int ra_stop;			/* EOF or an error came: one request at a time again */
	uint64_t intr_at;		/* the first read was interrupted: EINTR at this time */
	struct op *pollop;		/* a readiness wait in flight, or NULL */
	unsigned asks, poll_asks;	/* chunks asked for: now, and when pollop went */
	int ready;			/* the owner said readable, and nothing asked since */

	/* A stream with a size (a process's stdout): docs/decisions.md, tail -f. */
	int64_t size;			/* the owner's size, as last told; -1: none */
	int seeks;			/* reads at file offsets, 1:1 (never ahead) */
	struct op *probe;		/* a size request in flight, or NULL */
	uint64_t got;			/* bytes delivered in order */
	/* The last in-order read's bytes, for a read back into them: in the head
	 * chunk's data, or in last_buf (a chunk's data kept once all of it was read,
	 * or a copy of a chunk handed over whole). */
	const char *last;
	size_t last_len;
	char *last_buf;
	size_t last_cap;

	/* Writing. */
	int wb;				/* the owner parks our writes: complete them early */
	int nwdirect;			/* writes in flight whose opener still waits */
	int nwb;			/* writes in flight completed early */
	size_t wb_bytes;
	int werr;			/* one of those failed: told to the next write */
	char *wmsg;
	struct op_queue wwait;		/* writes waiting for room in the window */
	TAILQ_HEAD(, rwrite) wdirect;	/* writes in flight whose opener still waits */
	struct op_queue flushes;	/* FLUSHes waiting for the writes behind */
};

struct rwrite {
	struct rstream *rs;
	struct op *op;			/* the request sent */
	struct op *local;		/* the opener's write, waiting for it; NULL if done early */
	size_t len;
	int intr;			/* local was interrupted: the owner's answer ends it */
	TAILQ_ENTRY(rwrite) link;	/* in rs->wdirect while local waits */
};

/* rstream.c: drop a reference (the last one frees rs); give an interrupted request
 * of rs INTR_GRACE_MS to be answered. */
void rstream_put(struct rstream *rs);
void rstream_grace_arm(struct rstream *rs);

/* rstream_write.c: the stream's write and flush; is there room in the window for len
 * more bytes written behind; interrupted writes whose grace ran out complete as
 * written behind. */
void rstream_write(struct stream *s, struct op *op);
void rstream_flush(struct stream *s, struct op *op);
int rstream_wb_room(struct rstream *rs, size_t len);
void rstream_wdirect_expire(struct rstream *rs);

#endif
