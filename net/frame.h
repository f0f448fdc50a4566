/* frame.h - the wire format: frames, and the JSON-head + raw-body messages they carry.
 *
 * Every byte between servers, and between a client and a server, is a frame:
 *
 *	version (1) | type (1) | reserved (2, zero) | id (4, big endian) | length (4, BE) | payload
 *
 * The version byte comes first so that the protocol can evolve: a frame of another
 * version is refused.  Most payloads are a message: a 4-byte big-endian head length,
 * a JSON object (the head), then raw bytes (the body: ctl commands, read and written
 * data, snapshot files).  docs/protocol.md describes every type and field.
 *
 * Everything here is pure (no sockets, no loop), so the decoder can be unit-tested and
 * fuzzed.  Every length is checked before use; a bad frame is an error code, never a
 * crash.
 */
#ifndef CIRCUIT_NET_FRAME_H
#define CIRCUIT_NET_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define FRAME_VERSION	1
#define FRAME_HDR	12
/* Largest read or write moved in one frame (FUSE's largest request is 1 MiB). */
#define FRAME_DATA_MAX	(1u << 20)
/* Largest payload: a data body plus room for its head. */
#define FRAME_MAX	(FRAME_DATA_MAX + 65536u)
/* Largest JSON head in a message. */
#define FRAME_HEAD_MAX	65536u

enum frame_type {
	FRAME_HELLO = 1,	/* msg: who I am {"id", "url"} or {"client": true}; first frame */
	FRAME_REQ,		/* msg: an operation, id = the caller's tag */
	FRAME_REP,		/* msg: its result, id = the caller's tag */
	FRAME_CANCEL,		/* empty: stop the operation with tag id */
	FRAME_RELEASE,		/* empty: close the stream with handle id */
	/* 6-8 were MEMBERS, LEAVE and DEAD: membership is UDP now (net/gossip.c).
	 * The numbers stay reserved; after HELLO such a frame is skipped (net/net.c). */
	FRAME_MEMBERS,
	FRAME_LEAVE,
	FRAME_DEAD,
	FRAME_REFUSE,		/* msg: {"msg"}: the connection is refused, then closed */
	FRAME_AUTH,		/* raw: the key handshake's first frame (net/secure.h) */
	FRAME_TYPE_MAX = FRAME_AUTH
};

struct frame {
	uint8_t version;
	uint8_t type;
	uint32_t id;
	uint32_t len;			/* payload length */
	const uint8_t *payload;		/* points into the decoded buffer */
};

/* Encode a frame header into out. */
void frame_header(uint8_t out[FRAME_HDR], enum frame_type type, uint32_t id, uint32_t len);

/* Decode one frame from buf (len bytes).  Returns the bytes the whole frame takes
 * (header + payload) and fills f; 0 if more bytes are needed; -EPROTONOSUPPORT for
 * another version, -EPROTO for an unknown type or nonzero reserved bytes, -EMSGSIZE
 * for a length over FRAME_MAX.  The header is checked as soon as its 12 bytes are in. */
long frame_decode(const uint8_t *buf, size_t len, struct frame *f);

/* The total size of the frame whose header starts buf (len >= FRAME_HDR), or -errno. */
long frame_need(const uint8_t *buf, size_t len);

/* Split a message payload into its head (a new JSON object reference) and body, which
 * points into payload.  Returns 0, or -EBADMSG if the head length, the JSON or its
 * type is bad. */
int frame_msg_parse(const uint8_t *payload, size_t len, json_t **head,
    const uint8_t **body, size_t *bodylen);

/* Build a whole message frame: header, head length, head JSON (not consumed), body.
 * *out is malloc'd.  Returns 0, -EMSGSIZE if it would exceed FRAME_MAX, -ENOMEM. */
int frame_msg_build(enum frame_type type, uint32_t id, const json_t *head,
    const void *body, size_t bodylen, uint8_t **out, size_t *outlen);

/* Build the first part of a message frame (header, head length, head) for a body of
 * bodylen bytes sent separately; *out is malloc'd. */
int frame_msg_build_head(enum frame_type type, uint32_t id, const json_t *head,
    size_t bodylen, uint8_t **out, size_t *outlen);

/* Name of a frame type for logs. */
const char *frame_type_name(unsigned type);

/* Big-endian 32-bit integers: every length and id on the wire is one. */
static inline void
frame_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
frame_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
