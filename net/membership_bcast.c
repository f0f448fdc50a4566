/* membership_bcast.c - the membership core's broadcasts: the queue of
 * updates to spread, their piggyback on every datagram sent, and the paced
 * dedicated gossip that carries them when nothing else is sent.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/membership_int.h"

/* ---- Broadcasts: queues ordered by transmit count, fewest first.  New and
 * renewed updates go to the head; sent ones go back (deaths in order of
 * copies sent, other news to the tail) until they have been sent
 * retransmit_mult * ceil(log10(N + 1)) times. */

static int
is_death(const struct bcast *b)
{
	return b->u.kind == MB_UPD_DEAD || b->u.kind == MB_UPD_LEFT;
}

/* A second, small gossip allowance that only a young death may spend: the
 * head of the death list, sent fewer than DEATH_YOUNG times by us.  A crash
 * early in a partition or just after its heal competed for the shared budget
 * with the far side's ~500 deaths or the heal's ~500 revivals, which had
 * spent it, and its own side took 5-18 s to hear of it. */
#define DEATH_YOUNG	3

static int
death_young(const struct mb *mb)
{
	const struct bcast *b = TAILQ_FIRST(&mb->dq);

	return b != NULL && !b->extra && b->transmits < DEATH_YOUNG;
}

/* The list a record is on: the lazy tail, or hot.  Hot deaths and leaves
 * have a list of their own, taken before any other news by every datagram
 * and by the paced gossip: a crash just after a partition or a heal competed
 * with hundreds of the far side's deaths or of the heal's revivals for the
 * same budget, and its own side took up to 20 s to hear of it. */
struct bcastq *
mb__bcastq(struct mb *mb, const struct bcast *b)
{
	if (b->lazy)
		return &mb->lq;
	return is_death(b) ? &mb->dq : &mb->bq;
}

static int
retransmit_limit(const struct mb *mb)
{
	return mb->cfg.retransmit_mult *
	    (int)ceil(log10((double)mb->listed + 2));
}

void
mb__to_update(const struct mb_member *m, int kind, uint64_t from,
    struct mb_update *u)
{
	u->kind = (uint8_t)kind;
	u->id = m->id;
	u->inc = m->inc;
	u->addr = m->addr;
	u->from = from;
}

/* The broadcast record of `m`, to be queued anew: its existing one taken off
 * whichever list holds it, or a new one.  Either way it is on no list and
 * not counted as fresh (the caller counts it when it queues it hot).  NULL
 * when out of memory. */
static struct bcast *
bcast_take(struct mb *mb, struct mb_member *m)
{
	struct bcast *b = m->bc;

	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return NULL;
		m->bc = b;
		mb->nbq++;
	} else {
		TAILQ_REMOVE(mb__bcastq(mb, b), b, q);
		if (!b->lazy && !b->extra)
			mb->nfresh--;
	}
	return b;
}

void
mb__queue(struct mb *mb, struct mb_member *m, int kind, uint64_t from)
{
	struct bcast *b = bcast_take(mb, m);

	if (b == NULL)
		return;
	mb->nfresh++;
	mb__to_update(m, kind, from, &b->u);
	b->transmits = 0;
	b->boost = 1;
	b->lazy = 0;
	b->extra = 0;
	TAILQ_INSERT_HEAD(mb__bcastq(mb, b), b, q);
	if (mb->next_gossip == NEVER) {
		mb->next_gossip = mb->last_gossip + mb->cfg.gossip_interval;
		return;
	}
	/* The shared budget is spent and the next gossip waits for it; a new
	 * death has its own allowance and goes now. */
	if (death_young(mb) && bucket_level(&mb->death_budget, mb->now) >= 1 &&
	    mb->next_gossip > mb->last_gossip + mb->cfg.gossip_interval)
		mb->next_gossip = mb->last_gossip + mb->cfg.gossip_interval;
}

/* Updates ride on pings and acks until they have been sent LAZY times
 * their limit; dedicated gossip only carries "hot" ones, still under the
 * limit.  The lazy tail costs bytes, not datagrams, and makes a member that
 * missed every hot copy of an update very unlikely. */
#define LAZY 3

/* ...but for 10 s at most: old news that lingers could cross the heal of a
 * partition and kill a member its own side never suspected. */
#define LAZY_MS 10000

/* Queue an update that only bytes should carry: straight onto the lazy tail,
 * riding on pings and acks (never on dedicated gossip) for LAZY times the
 * limit or 10 s.  For news nobody needs soon: an incarnation raised by a
 * member we already list (at a heal, a refutation of every member of each
 * side; hot, its forwarding doubled the heal's gossip for nothing, since the
 * members that list it need no news and those that hold it dead get it from
 * a revival, which stays hot). */
void
mb__queue_lazy(struct mb *mb, struct mb_member *m, int kind)
{
	struct bcast *b = bcast_take(mb, m);

	if (b == NULL)
		return;
	mb__to_update(m, kind, 0, &b->u);
	b->transmits = 0;
	b->boost = 1;
	b->lazy = 1;
	b->extra = 0;
	b->lazy_until = mb->now + LAZY_MS;
	TAILQ_INSERT_HEAD(&mb->lq, b, q);
}

static int
hot_limit(const struct mb *mb, const struct bcast *b)
{
	return retransmit_limit(mb) * b->boost;
}

/* Dedicated gossip runs while some update is under its base limit; the
 * extra copies that boost gives news of a new member ride on whatever is
 * sent anyway (after a join storm they kept the gossip budget spent, and a
 * death waited behind them). */
int
mb__hot(const struct mb *mb)
{
	return mb->nfresh > 0;
}

/* Take updates for `o`, fewest-sent first: hot deaths and leaves, other
 * hot news, then (unless `hot_only`) lazy updates.  A record is on exactly
 * one list and its lazy flag says which: once lazy it stays lazy, even if the
 * retransmit limit grows with the member count (moving it back to the hot
 * list with the flag set corrupted both lists).  Sent records wait on local
 * lists so that none is taken twice for one datagram. */
static void
piggyback(struct mb *mb, struct mb_msg *o, int hot_only)
{
	struct bcastq done[3];
	struct bcastq *qs[3] = { &mb->dq, &mb->bq, &mb->lq };
	struct bcast *b, *at;
	struct mb_member *m;
	size_t room = MB_MAX_PAYLOAD - mb_header_size(o), sz;
	int limit, i;

	for (i = 0; i < 3; i++)
		TAILQ_INIT(&done[i]);
	for (i = 0; i < 3 && !(i == 2 && hot_only); i++) {
		while ((b = TAILQ_FIRST(qs[i])) != NULL &&
		    o->nupd < MB_MAX_UPDATES) {
			sz = mb_update_size(&b->u);
			if (sz > room)
				break;
			room -= sz;
			o->upd[o->nupd++] = b->u;
			TAILQ_REMOVE(qs[i], b, q);
			limit = hot_limit(mb, b);
			b->transmits++;
			if (!b->lazy) {
				if (!b->extra &&
				    b->transmits >= retransmit_limit(mb)) {
					b->extra = 1;
					mb->nfresh--;
				}
				if (b->transmits < limit) {
					TAILQ_INSERT_TAIL(&done[i], b, q);
					continue;
				}
				if (b->u.id == mb->id &&
				    b->u.kind == MB_UPD_LEFT)
					mb->leave_sent = 1;
				if (!b->extra)
					mb->nfresh--;
				b->lazy = 1;
				b->lazy_until = mb->now + LAZY_MS;
			}
			if (b->transmits < LAZY * limit &&
			    mb->now < b->lazy_until) {
				TAILQ_INSERT_TAIL(&done[2], b, q);
				continue;
			}
			mb->nbq--;
			if ((m = mb__find(mb, b->u.id)) != NULL && m->bc == b)
				m->bc = NULL;
			free(b);
		}
	}
	/* Deaths go back in order of copies sent, fewest first, so a new one
	 * overtakes a partition's hundreds that went out many times.  Both
	 * lists are sorted (new records have sent none; the ones just sent
	 * were the head), so one merge pass puts them back, each after those
	 * that have sent as many. */
	at = TAILQ_FIRST(&mb->dq);
	while ((b = TAILQ_FIRST(&done[0])) != NULL) {
		TAILQ_REMOVE(&done[0], b, q);
		while (at != NULL && at->transmits <= b->transmits)
			at = TAILQ_NEXT(at, q);
		if (at == NULL)
			TAILQ_INSERT_TAIL(&mb->dq, b, q);
		else
			TAILQ_INSERT_BEFORE(at, b, q);
	}
	for (i = 1; i < 3; i++)
		TAILQ_CONCAT(qs[i], &done[i], q);
}

/* Check the broadcast lists and the member table against each other: every
 * record on the list its flag names, each owned by exactly its member. */
int
mb_check(const struct mb *mb)
{
	const struct bcast *b;
	const struct mb_member *m;
	size_t n = 0, i, owned = 0, fresh = 0;

	for (i = 0; i < 3; i++)
		TAILQ_FOREACH(b, i == 0 ? &mb->dq : i == 1 ? &mb->bq : &mb->lq,
		    q) {
			if (mb__bcastq((struct mb *)(uintptr_t)mb, b) !=
			    (i == 0 ? &mb->dq : i == 1 ? &mb->bq : &mb->lq))
				return -EFAULT;
			fresh += !b->lazy && !b->extra;
			m = mb__find((struct mb *)(uintptr_t)mb, b->u.id);
			if (m == NULL || m->bc != b)
				return -EFAULT;
			if (++n > mb->nbq)
				return -EFAULT;
		}
	for (i = 0; i < mb->n; i++)
		owned += mb->m[i].bc != NULL;
	if (n != mb->nbq || owned != n || fresh != mb->nfresh)
		return -EFAULT;
	for (i = n = 0; i < mb->n; i++)
		n += mb__listed(&mb->m[i]) && mb->m[i].id != mb->id;
	return n == mb->listed ? 0 : -EFAULT;
}

void
mb__send(struct mb *mb, const mb_addr *to, struct mb_msg *o, int pb)
{
	int len;

	o->sender = mb->id;
	if (pb)
		piggyback(mb, o, o->type == MB_MSG_GOSSIP);
	len = mb_encode(o, mb->buf, MB_MAX_PAYLOAD);
	if (len < 0)
		return;
	mb->st.sent++;
	mb->st.sent_bytes += (uint64_t)len;
	mb->cb.send(mb->cb.ctx, to, mb->buf, (size_t)len);
}

/* One update to one member alone, with nothing piggybacked: a notice to
 * its subject ("you are held dead", a refutation) or a clean leave. */
void
mb__send_private(struct mb *mb, const mb_addr *to,
    const struct mb_update *u)
{
	memset(&mb->out, 0, sizeof(mb->out));
	mb->out.type = MB_MSG_GOSSIP;
	mb->out.nupd = 1;
	mb->out.upd[0] = *u;
	mb__send(mb, to, &mb->out, 0);
}

/* Dedicated gossip: only while updates are queued, so an idle cluster only
 * pays for its probes; and paced by a token bucket (gossip_rate per minute,
 * up to gossip_burst saved while idle).  One event goes out at once, at full
 * fanout; a storm (a partition, its heal) cannot flood the network: what the
 * budget does not carry rides on pings and acks, which are sent anyway.
 * A node's first 20 s are not paced: when a whole cluster starts at once,
 * every announcement must reach everyone before probing can be trusted.
 * When the budget is spent, a young death spends its own allowance. */
void
mb__gossip(struct mb *mb, int64_t now)
{
	struct bucket *b = &mb->gossip_budget, *d = &mb->death_budget, *use;
	struct mb_member *m;
	int64_t wait, dwait;
	int i;

	bucket_refill(b, now);
	if (now < mb->pace_from)
		b->tokens = b->burst;
	bucket_refill(d, now);
	/* A token is taken once a datagram went: none when no member is listed. */
	for (i = 0; i < mb->cfg.gossip_fanout && mb__hot(mb); i++) {
		if (b->tokens >= 1)
			use = b;
		else if (d->tokens >= 1 && death_young(mb))
			use = d;
		else
			break;
		if ((m = mb__random_listed(mb, 0, 0)) == NULL)
			break;
		memset(&mb->out, 0, sizeof(mb->out));
		mb->out.type = MB_MSG_GOSSIP;
		mb__send(mb, &m->addr, &mb->out, 1);
		bucket_take(use);
	}
	mb->last_gossip = now;
	if (!mb__hot(mb)) {
		mb->next_gossip = NEVER;
		return;
	}
	if (b->tokens >= 1 || b->per_ms <= 0)
		wait = 0;
	else
		wait = (int64_t)((1 - b->tokens) / b->per_ms);
	if (death_young(mb)) {
		dwait = d->tokens >= 1 ? 0 : (int64_t)((1 - d->tokens) / d->per_ms);
		if (dwait < wait)
			wait = dwait;
	}
	mb->next_gossip = now + mb->cfg.gossip_interval + wait;
}
