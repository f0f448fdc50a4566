/* secure.h - the cluster key's handshake and the encrypted record layer.
 *
 * With a cluster key, a connection starts with one AUTH frame from each side, sent at
 * once and in plaintext (the version byte stays first):
 *
 *	frame header (AUTH, id 0) | ephemeral X25519 public key (32) | flags (1) | XID (0 or 17)
 *
 * Both sides then derive a key per direction from the X25519 shared secret (crypto_kx:
 * the dialer is the kx client), mixed in BLAKE2b keyed with the cluster key over a hash
 * of both AUTH frames.  So the session keys depend on the cluster key (someone without
 * it derives other keys), on fresh ephemeral keys (a recorded session stays secret if
 * the cluster key later leaks), on the version byte and on both XIDs (the transcript).
 * No separate proof is exchanged: every byte after the AUTH frames travels in records
 * sealed with those keys, and the first record that opens (the other's HELLO) is the
 * proof that the other side holds the key and saw the same AUTH frames.
 *
 * A record is
 *
 *	length (4, big endian: plaintext bytes, 1..SECURE_REC_MAX) | ciphertext | tag (16)
 *
 * sealed with an AEAD (AES-256-GCM when both sides have it in hardware, else
 * ChaCha20-Poly1305-IETF) under a nonce that counts the direction's records from 0 and
 * the length as additional data.  A flipped bit, a truncated, replayed, reordered or
 * dropped record, or a record from the other direction therefore fails to open.
 *
 * Everything here is pure (buffers in, buffers out), for unit tests and fuzzing.
 */
#ifndef CIRCUIT_NET_SECURE_H
#define CIRCUIT_NET_SECURE_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "net/frame.h"
#include "net/url.h"

#define SECURE_KEY_LEN		32
#define SECURE_REC_HDR		4
#define SECURE_REC_TAG		16
#define SECURE_REC_OVER		(SECURE_REC_HDR + SECURE_REC_TAG)
/* Plaintext bytes in one record: big enough to cost little per byte, small enough
 * that the receiver buffers little before it can check what it got. */
#define SECURE_REC_MAX		65536u
/* The AUTH frame: header, public key, flags, the sender's XID (none from a client). */
#define SECURE_AUTH_MIN		(FRAME_HDR + 32 + 1)
#define SECURE_AUTH_MAX		(SECURE_AUTH_MIN + URL_ID_LEN)

/* One direction of a session. */
struct secure_dir {
	uint8_t key[32];
	uint64_t seq;			/* records sealed or opened so far */
	int aes;			/* AES-256-GCM (else ChaCha20-Poly1305) */
	crypto_aead_aes256gcm_state *st; /* AES key schedule (malloc'd, aligned) */
};

struct secure {
	struct secure_dir tx, rx;
};

/* A handshake in progress: our ephemeral key and AUTH frame. */
struct secure_hs {
	int dialer;
	uint8_t key[SECURE_KEY_LEN];	/* the cluster key */
	uint8_t pk[32], sk[32];
	uint8_t mine[SECURE_AUTH_MAX];
	size_t minelen;
};

/* Initialise libsodium (once; safe to call again): 0 or -EIO. */
int secure_init(void);

/* Start a handshake: fill hs and our AUTH frame (out, SECURE_AUTH_MAX bytes, *outlen
 * set).  xid is our XID, or NULL/"" for a client.  Returns 0 or -errno. */
int secure_hs_start(struct secure_hs *hs, const uint8_t key[SECURE_KEY_LEN], int dialer,
    const char *xid, uint8_t *out, size_t *outlen);

/* Finish it with the other's AUTH frame (a whole frame, header included): derive s and
 * the XID it named (peer_xid, "" for a client).  Returns 0, or -EBADMSG for a malformed
 * frame or a bad public key.  hs's secrets are wiped either way. */
int secure_hs_finish(struct secure_hs *hs, const uint8_t *auth, size_t len,
    struct secure *s, char peer_xid[URL_ID_LEN + 1]);

/* Wipe a handshake or a session (frees the AES state). */
void secure_hs_wipe(struct secure_hs *hs);
void secure_wipe(struct secure *s);

/* Bytes that secure_seal makes of n bytes of plaintext. */
size_t secure_sealed_len(size_t n);

/* Seal n bytes (n > 0) into records at out (secure_sealed_len(n) bytes); in and out
 * must not overlap.  Returns the bytes written. */
size_t secure_seal(struct secure_dir *d, const uint8_t *in, size_t n, uint8_t *out);

/* Seal n bytes (n > 0) in place, as the records secure_seal makes, but with each
 * record's length and tag apart, in side (SECURE_REC_OVER bytes a record: length
 * then tag): record i is side[20i..+4], buf's bytes of it, side[20i+4..+16].  For a
 * writev without a copy.  Returns the number of records. */
size_t secure_seal_inplace(struct secure_dir *d, uint8_t *buf, size_t n, uint8_t *side);

/* The number of records of n bytes. */
size_t secure_records(size_t n);

/* The total size of the record whose first bytes are buf (len of them): 0 if its
 * length is not in yet, -EMSGSIZE if its plaintext would exceed max (or is empty). */
long secure_rec_need(const uint8_t *buf, size_t len, size_t max);

/* Open the record at the start of buf (len bytes, at least secure_rec_need of them), in
 * place: *plain points at its plaintext inside buf, *plen its length.  Returns the
 * record's size, 0 if incomplete, -EMSGSIZE (see secure_rec_need) or -EBADMSG (it does
 * not authenticate: wrong key, tampered, replayed, reordered or truncated). */
long secure_open(struct secure_dir *d, uint8_t *buf, size_t len, size_t max,
    uint8_t **plain, size_t *plen);

/* The same, but the plaintext goes to out (room for the record's plaintext, which
 * secure_rec_need tells), and buf is left as it was. */
long secure_open_to(struct secure_dir *d, const uint8_t *buf, size_t len, size_t max,
    uint8_t *out, size_t *plen);

/* ---- Datagrams (membership gossip, discovery announcements) ----
 *
 * A datagram is sealed with the cluster key itself (there is no session):
 *
 *	nonce (24: sender's wall clock in ms, 8 BE | 16 random) | ciphertext | tag (16)
 *
 * with XChaCha20-Poly1305; the nonce is authenticated with the rest, so its time
 * cannot be changed.  A receiver drops a datagram that does not open (forged or
 * altered: -EBADMSG), whose time is more than SECURE_DGRAM_WINDOW_MS from its own
 * clock (-ESTALE: hosts' clocks must agree that well, as NTP keeps them), or whose
 * nonce it has seen within that window (-EALREADY: replayed). */
#define SECURE_DGRAM_OVER	40	/* MB_TAG_ROOM in net/membership.h */
#define SECURE_DGRAM_WINDOW_MS	30000
#define SECURE_REPLAY_SLOTS	4096

#define SECURE_REPLAY_BUCKETS	1024

/* The nonces of datagrams accepted lately, oldest overwritten first; a datagram
 * not newer than the newest overwritten one (floor) is refused, so that overwriting
 * never lets a replay through.  A nonce is found through a hash of its random part
 * (chains of slot numbers + 1, 0 ending them), not by a scan of every slot: every
 * received datagram looks once.  Zero it to start. */
struct secure_replay {
	struct { uint64_t t; uint8_t r[16]; uint16_t chain; } slot[SECURE_REPLAY_SLOTS];
	uint16_t bucket[SECURE_REPLAY_BUCKETS];
	size_t next, used;
	uint64_t floor;
	uint64_t forged, stale, replayed;	/* refused, by kind (the _inplace calls) */
};

/* Seal n bytes at in into out (n + SECURE_DGRAM_OVER bytes); now_ms is the wall
 * clock (CLOCK_REALTIME) in ms.  Returns the sealed length. */
size_t secure_dgram_seal(const uint8_t key[SECURE_KEY_LEN], uint64_t now_ms,
    const uint8_t *in, size_t n, uint8_t *out);

/* The wall clock in ms, for datagrams. */
uint64_t secure_wall_ms(void);

/* Seal a datagram in place: buf holds n bytes and has room for SECURE_DGRAM_OVER
 * more.  Returns the sealed length. */
size_t secure_dgram_seal_inplace(const uint8_t key[SECURE_KEY_LEN], uint8_t *buf,
    size_t n);

/* Open a datagram in place (buf, n bytes): its plaintext moves to the start of buf.
 * Returns the plaintext's length, or -errno as secure_dgram_open; counts each kind of
 * refusal in r (forged, stale, replayed). */
long secure_dgram_open_inplace(const uint8_t key[SECURE_KEY_LEN], struct secure_replay *r,
    uint8_t *buf, size_t n);

/* Open the datagram in (n bytes) into out (n - SECURE_DGRAM_OVER bytes, *outlen set),
 * remembering its nonce in r.  Returns 0, -EBADMSG, -ESTALE or -EALREADY (above). */
int secure_dgram_open(const uint8_t key[SECURE_KEY_LEN], struct secure_replay *r,
    uint64_t now_ms, const uint8_t *in, size_t n, uint8_t *out, size_t *outlen);

#endif
