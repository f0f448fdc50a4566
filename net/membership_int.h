/* membership_int.h - private state shared by the parts of the membership
 * core: membership.c (public entry points, lifecycle), membership_table.c
 * (member table), membership_bcast.c (broadcast queue, gossip),
 * membership_update.c (update rules) and membership_probe.c (probes,
 * suspicion, push-pull).  Nothing outside net/membership*.c includes it.
 */
#ifndef CIRCUIT_NET_MEMBERSHIP_INT_H
#define CIRCUIT_NET_MEMBERSHIP_INT_H

#include <sys/queue.h>

#include "net/bucket.h"
#include "net/membership.h"

#define NEVER		INT64_MAX
#define RELAYS		32	/* indirect probes this node runs for others */
#define RECONNS		4	/* reconnect pings in flight */
#define PP_SESSIONS	8	/* push-pull exchanges in flight */
#define MAX_CONF	8	/* suspicion confirmations remembered */
#define VERIFY		32	/* members to probe before the others */
#define RECENT		16	/* members that answered our probes lately */
#define DISTRUST_MS	30000	/* a revived member's verdicts are checked */
#define HEAL_PP_MS	5000	/* quiet after revivals before the exchange */
#define HEAL_PP_MAX	12000	/* ... or this long after the first of them */
#define MERGE_NEW	8	/* members new to us within MERGE_MS: a merge */
#define MERGE_MS	5000
#define MERGE_PP_MS	30000	/* at most one exchange per merge this often */
#define DEATH_RATE	60	/* young deaths' own gossip, per minute */
#define DEATH_BURST	6

/* How mb__apply() takes an update: from a trusted member's gossip, from a full
 * state, or from a member we hold dead or revived only lately. */
enum { MB_FROM_GOSSIP, MB_FROM_STATE, MB_FROM_STRANGER };

struct bcast {
	TAILQ_ENTRY(bcast)	q;
	struct mb_update	u;
	int			transmits;
	int			boost;		/* retransmit limit multiplier */
	int			lazy;		/* in mb->lq, past its limit */
	int			extra;		/* past the base limit (boost) */
	int64_t			lazy_until;
};
TAILQ_HEAD(bcastq, bcast);

/* A member as the core knows it (not struct member of net/member.h: that is the
 * server's member table, which the core's events drive). */
struct mb_member {
	uint64_t	id;
	mb_addr		addr;
	uint32_t	inc;
	uint8_t		state;		/* enum mb_state */
	uint8_t		in_order;	/* present in the probe order */
	int64_t		since;		/* time of the last state change */
	int64_t		last_notice;	/* last "you are dead" notice sent */
	int64_t		revived_at;	/* when it last came back from dead */
	struct bcast	*bc;		/* queued update about it, or NULL */
};

struct susp {
	uint64_t	id;
	uint32_t	inc;
	int		priv;		/* our own probe failed: only the suspect is told */
	int		nconf;
	uint64_t	conf[MAX_CONF];
	int		mult;		/* health multiplier when it started */
	uint32_t	seq;		/* a late ack of this probe clears it */
	int64_t		start, deadline, next_notice;
};

enum { P_NONE, P_DIRECT1, P_DIRECT2, P_INDIRECT };

struct probe {
	int		phase;
	uint64_t	target;
	mb_addr		addr;
	uint32_t	seq;
	int		k, nacks;
	int64_t		deadline;
};

struct relay {
	int		used, nacked;
	uint32_t	seq;		/* our ping to the target */
	uint32_t	req_seq;	/* the requester's probe */
	mb_addr		req_addr;
	int64_t		deadline, expire;
};

struct reconn {
	int		used;
	uint32_t	seq;
	uint64_t	id;
	mb_addr		addr;
	int64_t		expire;
};

struct ppsess {
	int		used;
	int		initiator;	/* we asked: resend the whole request */
	int		done;		/* every chunk arrived */
	mb_addr		peer;
	uint32_t	token;
	int		total;		/* 0 until the first chunk */
	uint8_t		got[MB_PP_MAX_CHUNKS / 8];
	int		tries;
	int64_t		deadline;
};

struct mb {
	struct mb_config	cfg;
	struct mb_callbacks	cb;
	uint64_t		id;
	mb_addr			addr;
	uint32_t		inc;

	struct mb_member		*m;
	size_t			n, cap;
	uint32_t		*slot;		/* id -> index + 1 */
	uint32_t		*aslot;		/* address -> index + 1 */
	size_t			nslot;
	size_t			listed;		/* alive or suspect, self excluded */

	uint64_t		*order;		/* randomized round-robin */
	size_t			norder, order_pos, order_cap;
	int			ring_turn, ring_dirty;
	uint64_t		ring_succ;

	struct bcastq		dq;		/* hot deaths and leaves: first */
	struct bcastq		bq;		/* hot: under the limit */
	struct bcastq		lq;		/* lazy tail: pings and acks only */
	size_t			nbq;
	size_t			nfresh;		/* hot, under the base limit */

	struct probe		pr;
	struct susp		*s;
	size_t			ns, scap;
	struct relay		relay[RELAYS];
	struct reconn		rc[RECONNS];
	struct ppsess		pp[PP_SESSIONS];
	uint32_t		seq;
	int			awareness;

	int			leaving, leave_sent;
	int			refresh;	/* early push-pulls left after a join */
	uint64_t		verify[VERIFY];	/* probe these soon (ring) */
	size_t			nverify, verify_pos;
	int			verify_now;	/* the next probe is a verify's */
	uint64_t		recent[RECENT];	/* reachable: helper candidates */
	size_t			nrecent;
	struct bucket		gossip_budget;	/* dedicated gossip datagrams */
	struct bucket		death_budget;	/* ... that a young death may spend */
	int64_t			pace_from;	/* startup: gossip unpaced */
	uint64_t		unk_id;		/* a sender we do not know */
	mb_addr			unk_addr;
	int64_t			unk_at;		/* exchange state with it then */
	int64_t			leave_at;
	int64_t			next_diverged;	/* pace diverged() notices */
	int64_t			heal_pp_at;	/* full-state exchange after a heal */
	int64_t			heal_first;	/* first revival since the last one */
	int			nnew;		/* members new to us lately ... */
	int64_t			new_since;	/* ... counted since then */
	int64_t			merge_pp_at;	/* exchange with a new member */
	mb_addr			merge_pp_addr;
	int64_t			merge_pp_next;	/* no other one before this */

	int64_t			next_probe, next_gossip, last_gossip;
	int64_t			next_pushpull, next_reconnect, next_sweep;
	int64_t			deadline;
	int64_t			now;		/* of the current call */

	struct mb_stats		st;
	struct mb_msg		msg;		/* scratch for decode */
	struct mb_msg		out;		/* scratch for encode */
	uint8_t			buf[MB_MAX_DATAGRAM];
};

/* membership.c */
uint64_t	 mb__rand(struct mb *mb, uint64_t n);
int		 mb__mult(const struct mb *mb);
void		 mb__awareness(struct mb *mb, int delta);

/* membership_table.c */
struct mb_member	*mb__find(struct mb *mb, uint64_t id);
struct mb_member	*mb__find_addr(struct mb *mb, const mb_addr *addr,
		    uint64_t not);
struct mb_member	*mb__add(struct mb *mb, const struct mb_update *u,
		    int state, int64_t now);
int		 mb__rehash(struct mb *mb, size_t want);
int		 mb__listed(const struct mb_member *m);
void		 mb__emit(struct mb *mb, int kind, const struct mb_member *m);
void		 mb__set_state(struct mb *mb, struct mb_member *m, int state,
		    int64_t now);
void		 mb__sweep(struct mb *mb, int64_t now);
struct mb_member	*mb__random_listed(struct mb *mb, uint64_t not1, uint64_t not2);

/* membership_bcast.c */
void		 mb__to_update(const struct mb_member *m, int kind, uint64_t from,
		    struct mb_update *u);
void		 mb__queue(struct mb *mb, struct mb_member *m, int kind,
		    uint64_t from);
void		 mb__queue_lazy(struct mb *mb, struct mb_member *m, int kind);
struct bcastq	*mb__bcastq(struct mb *mb, const struct bcast *b);
int		 mb__hot(const struct mb *mb);
void		 mb__send(struct mb *mb, const mb_addr *to, struct mb_msg *o,
		    int piggyback);
void		 mb__send_private(struct mb *mb, const mb_addr *to,
		    const struct mb_update *u);
void		 mb__gossip(struct mb *mb, int64_t now);

/* membership_update.c */
void		 mb__apply(struct mb *mb, int64_t now, const struct mb_update *u,
		    const mb_addr *from, uint64_t sender, int merge);
void		 mb__verify(struct mb *mb, uint64_t id);

/* membership_probe.c */
void		 mb__dispatch(struct mb *mb, int64_t now, const mb_addr *from);
void		 mb__susp_clear(struct mb *mb, uint64_t id);
void		 mb__susp_start(struct mb *mb, struct mb_member *m, int64_t now,
		    int priv, uint64_t accuser, int nconf, uint32_t seq);
int		 mb__susp_confirm(struct mb *mb, uint64_t id, uint64_t from);
void		 mb__timers(struct mb *mb, int64_t now);
void		 mb__recompute_deadline(struct mb *mb);

/* membership_pp.c */
void		 mb__pp_timers(struct mb *mb, int64_t now);
void		 mb__pp_on_req(struct mb *mb, int64_t now, const mb_addr *from);
void		 mb__pp_on_state(struct mb *mb, int64_t now, const mb_addr *from);
void		 mb__pp_request(struct mb *mb, int64_t now, const mb_addr *to,
		    int flags);

#endif
