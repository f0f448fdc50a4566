/* membership.h - SWIM with Lifeguard refinements as a sans-IO state machine.
 *
 * The core never touches a socket, a clock or a global random source.  The
 * caller passes `now` (milliseconds on any monotonic clock) into every call,
 * feeds it received datagrams, calls mb_tick() when the deadline returned by
 * mb_next_deadline() has passed, and receives its outputs through callbacks:
 * datagrams to send, member events and random numbers.  Callbacks run inside
 * the mb_* call that caused them and must not call back into the same core.
 *
 * docs/membership.md describes the protocol, its parameters and why.
 */
#ifndef CIRCUIT_NET_MEMBERSHIP_H
#define CIRCUIT_NET_MEMBERSHIP_H

#include <stddef.h>
#include <stdint.h>

/* Address families, kept independent of the socket headers. */
#define MB_AF_INET  4
#define MB_AF_INET6 6

/* Datagrams never exceed MB_MAX_DATAGRAM bytes once sealed; the encoder
 * leaves MB_TAG_ROOM bytes free for an authentication tag and nonce. */
#define MB_MAX_DATAGRAM 1400
#define MB_TAG_ROOM     40
#define MB_MAX_PAYLOAD  (MB_MAX_DATAGRAM - MB_TAG_ROOM)
#define MB_VERSION      1

/* Longest printed member ID: "X" + 16 hex digits + NUL. */
#define MB_ID_STRLEN 18

typedef struct mb_addr {
	uint8_t		family;		/* MB_AF_INET or MB_AF_INET6 */
	uint8_t		ip[16];		/* IPv4 uses the first 4 bytes */
	uint16_t	port;		/* host byte order */
} mb_addr;

enum mb_state {
	MB_ALIVE = 1,
	MB_SUSPECT,
	MB_DEAD,
	MB_LEFT,
};

/* A member is listed while alive or suspect.  JOINED fires when a member
 * becomes listed, DEAD and LEFT when it stops being listed, SUSPECT and ALIVE
 * when a listed member is suspected and when it clears the suspicion. */
enum mb_event_kind {
	MB_EV_JOINED = 1,
	MB_EV_SUSPECT,
	MB_EV_ALIVE,
	MB_EV_DEAD,
	MB_EV_LEFT,
};

struct mb_event {
	enum mb_event_kind	kind;
	uint64_t		id;
	mb_addr			addr;
	uint32_t		incarnation;
};

struct mb_callbacks {
	/* Send one datagram; the bytes are only valid during the call. */
	void		(*send)(void *ctx, const mb_addr *to,
			    const uint8_t *buf, size_t len);
	/* Report a member event; may be NULL. */
	void		(*event)(void *ctx, const struct mb_event *ev);
	/* Return 64 uniformly random bits from the caller's seeded PRNG. */
	uint64_t	(*random)(void *ctx);
	void		*ctx;
};

/* Every duration is in milliseconds.  mb_config_default() explains none of
 * them: docs/membership.md does. */
struct mb_config {
	int	probe_interval;		/* one probe per period */
	int	probe_timeout;		/* wait for each of two direct pings */
	int	indirect_k;		/* helpers asked for an indirect probe */
	int	indirect_timeout;	/* requester's wait after ping-req */
	int	helper_timeout;		/* helper's wait before it nacks */
	int	suspicion_min;		/* suspicion timeout with k confirmations */
	int	suspicion_max;		/* suspicion timeout with none */
	int	suspicion_k;		/* confirmations that reach the minimum */
	int	notice_interval;	/* re-tell a suspect it is suspected */
	int	gossip_interval;	/* dedicated gossip while updates are queued */
	int	gossip_fanout;
	int	gossip_rate;		/* dedicated gossip datagrams per minute */
	int	gossip_burst;		/* ... saved up while idle */
	int	retransmit_mult;	/* limit = mult * ceil(log10(N + 1)) */
	int	awareness_max;		/* Lifeguard local health ceiling */
	int	pushpull_interval;	/* periodic full-state exchange (scaled) */
	int	join_retry;		/* resend a join or missing state chunks */
	int	reconnect_interval;	/* ping one dead member this often */
	int	reconnect_timeout;	/* ... while it has been dead this long */
	int	tombstone;		/* keep dead and left members this long */
	int	revive_check;		/* ask a member dead this briefly first */
};

struct mb_stats {
	uint64_t	sent;		/* datagrams handed to send() */
	uint64_t	sent_bytes;
	uint64_t	received;	/* datagrams accepted */
	uint64_t	dropped;	/* datagrams rejected by the decoder */
	uint64_t	dropped_version;
	uint64_t	dropped_size;	/* truncated or oversized */
	uint64_t	dropped_malformed;
	uint64_t	probes;
	uint64_t	indirect_probes;
	uint64_t	suspicions;	/* suspicions raised by this node */
	uint64_t	refutations;	/* times this node refuted a suspicion */
	int		awareness;	/* current Lifeguard health score */
};

struct mb_member_info {
	uint64_t	id;
	mb_addr		addr;
	uint32_t	incarnation;
	enum mb_state	state;
};

struct mb;

/* Fill `cfg` with the defaults documented in docs/membership.md. */
void	mb_config_default(struct mb_config *cfg);

/* Create a core for member `id` (nonzero) at `self`; 0 or -errno. */
int	mb_create(struct mb **out, const struct mb_config *cfg, uint64_t id,
	    const mb_addr *self, const struct mb_callbacks *cb, int64_t now);

/* Free the core and everything it holds; sends nothing. */
void	mb_free(struct mb *mb);

/* Join the cluster through the member at `seed` with a full-state exchange;
 * also merges two clusters when called on a member of another one. */
int	mb_join(struct mb *mb, int64_t now, const mb_addr *seed);

/* The caller has evidence that listed member `id` may be gone (its TCP
 * connection was lost): probe it before any other member but the ring
 * successor (whose turn is every other period), not on trust.
 * 0, or -ENOENT if it is not listed (or is this member). */
int	mb_verify(struct mb *mb, int64_t now, uint64_t id);

/* Announce a clean leave; keep calling mb_tick until mb_leave_done(). */
int	mb_leave(struct mb *mb, int64_t now);

/* Return 1 once the leave has been gossiped enough to stop the process. */
int	mb_leave_done(const struct mb *mb, int64_t now);

/* Handle one received datagram; a bad one is dropped, counted, -EBADMSG. */
int	mb_receive(struct mb *mb, int64_t now, const mb_addr *from,
	    const uint8_t *buf, size_t len);

/* Run every timer due at `now`; returns 0. */
int	mb_tick(struct mb *mb, int64_t now);

/* Return the time at which mb_tick must next be called. */
int64_t	mb_next_deadline(const struct mb *mb);

/* Return the number of listed (alive or suspect) members, self included. */
size_t	mb_listed(const struct mb *mb);

/* Return the number of member records, tombstones and self included. */
size_t	mb_count(const struct mb *mb);

/* Copy record `i` (0 <= i < mb_count) into `out`; 0 or -ENOENT. */
int	mb_member_at(const struct mb *mb, size_t i, struct mb_member_info *out);

/* Look a member up by ID; 0 or -ENOENT. */
int	mb_lookup(const struct mb *mb, uint64_t id, struct mb_member_info *out);

/* Check the core's internal invariants (broadcast lists, member table);
 * 0 or -EFAULT.  O(N): for tests and the simulator. */
int	mb_check(const struct mb *mb);

/* Return this core's incarnation number. */
uint32_t mb_incarnation(const struct mb *mb);

/* Copy the counters into `out`. */
void	mb_get_stats(const struct mb *mb, struct mb_stats *out);

/* Print `id` as "X" followed by 16 hex digits into buf[MB_ID_STRLEN]. */
char	*mb_id_str(uint64_t id, char buf[MB_ID_STRLEN]);

/* Return 1 if the two addresses are equal. */
int	mb_addr_eq(const mb_addr *a, const mb_addr *b);

/* ---- Datagram codec (net/membership_wire.c), public for tests and fuzzing */

enum mb_msg_type {
	MB_MSG_PING = 1,
	MB_MSG_ACK,
	MB_MSG_NACK,
	MB_MSG_PING_REQ,
	MB_MSG_GOSSIP,
	MB_MSG_PP_REQ,
	MB_MSG_PP_STATE,
};

/* An update about one member, piggybacked on any message. */
enum mb_upd_kind {
	MB_UPD_ALIVE = 1,
	MB_UPD_SUSPECT,
	MB_UPD_DEAD,
	MB_UPD_LEFT,
};

/* A suspect update sent only to the suspect itself, not gossiped. */
#define MB_UPD_PRIVATE 0x80

#define MB_MAX_UPDATES 80
#define MB_PP_MAX_CHUNKS 256
#define MB_PP_ALL  0x01		/* PP_REQ: send every chunk */
#define MB_PP_PUSH 0x02		/* PP_REQ: the requester pushes its own state */

struct mb_update {
	uint8_t		kind;		/* mb_upd_kind, maybe | MB_UPD_PRIVATE */
	uint64_t	id;
	uint32_t	inc;
	mb_addr		addr;
	uint64_t	from;		/* accuser of a suspect update */
};

struct mb_msg {
	uint8_t		type;
	uint64_t	sender;
	uint32_t	seq;		/* PING ACK NACK PING_REQ; token for PP */
	uint64_t	target;		/* PING PING_REQ */
	mb_addr		target_addr;	/* PING_REQ */
	uint8_t		flags;		/* PP_REQ PP_STATE */
	uint8_t		idx, total;	/* PP_STATE: chunk idx of total-1 */
	uint8_t		want[MB_PP_MAX_CHUNKS / 8];	/* PP_REQ */
	int		nupd;
	struct mb_update upd[MB_MAX_UPDATES];
};

/* Decode `len` bytes into `m`; 0, -EPROTO (version), -EMSGSIZE (size) or
 * -EBADMSG (anything else malformed).  Never reads outside buf. */
int	mb_decode(const uint8_t *buf, size_t len, struct mb_msg *m);

/* Encode `m` into buf[cap]; returns the length or -EMSGSIZE. */
int	mb_encode(const struct mb_msg *m, uint8_t *buf, size_t cap);

/* Return the encoded size of one update. */
size_t	mb_update_size(const struct mb_update *u);

/* Return the encoded size of `m` without its updates. */
size_t	mb_header_size(const struct mb_msg *m);

#endif
