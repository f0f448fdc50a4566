/* membership.c - SWIM + Lifeguard core: the member table, the update rules,
 * the broadcast queue and the public entry points.  Probing, suspicion and
 * the full-state exchange live in membership_probe.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/membership_int.h"

void
mb_config_default(struct mb_config *c)
{
	c->probe_interval = 750;
	c->probe_timeout = 300;
	c->indirect_k = 4;
	c->indirect_timeout = 500;
	c->helper_timeout = 300;
	c->suspicion_min = 800;
	c->suspicion_max = 3000;
	c->suspicion_k = 3;
	c->notice_interval = 150;
	c->gossip_interval = 100;
	c->gossip_fanout = 3;
	c->gossip_rate = 60;
	c->gossip_burst = 12;
	c->retransmit_mult = 4;
	c->awareness_max = 8;
	c->pushpull_interval = 60000;
	c->join_retry = 500;
	c->reconnect_interval = 15000;
	c->reconnect_timeout = 300000;
	c->tombstone = 360000;
}

char *
mb_id_str(uint64_t id, char buf[MB_ID_STRLEN])
{
	snprintf(buf, MB_ID_STRLEN, "X%016llx", (unsigned long long)id);
	return buf;
}

int
mb_addr_eq(const mb_addr *a, const mb_addr *b)
{
	size_t n = a->family == MB_AF_INET6 ? 16 : 4;

	return a->family == b->family && a->port == b->port &&
	    memcmp(a->ip, b->ip, n) == 0;
}

uint64_t
mb__rand(struct mb *mb, uint64_t n)
{
	return n ? mb->cb.random(mb->cb.ctx) % n : 0;
}

int
mb__mult(const struct mb *mb)
{
	return 1 + mb->awareness;
}

void
mb__awareness(struct mb *mb, int delta)
{
	mb->awareness += delta;
	if (mb->awareness < 0)
		mb->awareness = 0;
	if (mb->awareness > mb->cfg.awareness_max)
		mb->awareness = mb->cfg.awareness_max;
}

int
mb__listed(const struct mb_member *m)
{
	return m->state == MB_ALIVE || m->state == MB_SUSPECT;
}

/* ---- The member table: an array indexed by two open-addressing tables, one
 * by ID and one by address (restarts are recognized by address).  Removal is
 * rare (tombstone expiry), so it rebuilds both tables. */

static size_t
hash64(uint64_t x, size_t mask)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x & mask;
}

static size_t
hash_addr(const mb_addr *a, size_t mask)
{
	uint64_t x = a->port, w;
	int i;

	for (i = 0; i < 16; i += 8) {
		memcpy(&w, a->ip + i, 8);
		x = x * 0x9e3779b97f4a7c15ULL ^ w;
	}
	return hash64(x ^ a->family, mask);
}

static void
slot_insert(struct mb *mb, size_t i)
{
	size_t mask = mb->nslot - 1, h;

	for (h = hash64(mb->m[i].id, mask); mb->slot[h]; h = (h + 1) & mask)
		;
	mb->slot[h] = (uint32_t)i + 1;
	for (h = hash_addr(&mb->m[i].addr, mask); mb->aslot[h];
	    h = (h + 1) & mask)
		;
	mb->aslot[h] = (uint32_t)i + 1;
}

static int
rehash(struct mb *mb, size_t want)
{
	size_t ns = 64, i;
	uint32_t *s, *a;

	while (ns < want * 2)
		ns <<= 1;
	s = calloc(ns, sizeof(*s));
	a = calloc(ns, sizeof(*a));
	if (s == NULL || a == NULL) {
		free(s);
		free(a);
		return -ENOMEM;
	}
	free(mb->slot);
	free(mb->aslot);
	mb->slot = s;
	mb->aslot = a;
	mb->nslot = ns;
	for (i = 0; i < mb->n; i++)
		slot_insert(mb, i);
	return 0;
}

struct mb_member *
mb__find(struct mb *mb, uint64_t id)
{
	size_t mask = mb->nslot - 1, h;
	uint32_t v;

	for (h = hash64(id, mask); (v = mb->slot[h]) != 0; h = (h + 1) & mask)
		if (mb->m[v - 1].id == id)
			return &mb->m[v - 1];
	return NULL;
}

/* The listed member other than `not` that uses `addr`: the earlier life of a
 * server that restarted with a new ID at the same address. */
static struct mb_member *
find_addr(struct mb *mb, const mb_addr *addr, uint64_t not)
{
	size_t mask = mb->nslot - 1, h;
	uint32_t v;
	struct mb_member *m;

	for (h = hash_addr(addr, mask); (v = mb->aslot[h]) != 0;
	    h = (h + 1) & mask) {
		m = &mb->m[v - 1];
		if (m->id != not && mb__listed(m) && m->id != mb->id &&
		    mb_addr_eq(&m->addr, addr))
			return m;
	}
	return NULL;
}

static void
order_add(struct mb *mb, struct mb_member *m)
{
	size_t j;
	uint64_t *o;

	if (m->in_order || m->id == mb->id)
		return;
	if (mb->norder == mb->order_cap) {
		mb->order_cap = mb->order_cap ? mb->order_cap * 2 : 64;
		o = realloc(mb->order, mb->order_cap * sizeof(*o));
		if (o == NULL)
			return;
		mb->order = o;
	}
	/* SWIM inserts a newcomer at a random position of the round. */
	j = (size_t)mb__rand(mb, mb->norder + 1);
	mb->order[mb->norder++] = mb->order[j];
	mb->order[j] = m->id;
	m->in_order = 1;
}

static struct mb_member *
add(struct mb *mb, const struct mb_update *u, int state, int64_t now)
{
	struct mb_member *m, *nm;
	size_t cap;

	if (mb->n == mb->cap) {
		cap = mb->cap ? mb->cap * 2 : 64;
		nm = realloc(mb->m, cap * sizeof(*nm));
		if (nm == NULL)
			return NULL;
		mb->m = nm;
		mb->cap = cap;
	}
	if ((mb->n + 1) * 2 > mb->nslot && rehash(mb, mb->n + 1) < 0)
		return NULL;
	m = &mb->m[mb->n++];
	memset(m, 0, sizeof(*m));
	m->id = u->id;
	m->addr = u->addr;
	m->inc = u->inc;
	m->state = (uint8_t)state;
	m->since = now;
	m->last_notice = INT64_MIN / 4;
	m->revived_at = INT64_MIN / 4;
	slot_insert(mb, mb->n - 1);
	if (mb__listed(m)) {
		mb->listed++;
		mb->ring_dirty = 1;
		order_add(mb, m);
	}
	return m;
}

static void
emit(struct mb *mb, int kind, const struct mb_member *m)
{
	struct mb_event ev;

	if (mb->cb.event == NULL)
		return;
	ev.kind = kind;
	ev.id = m->id;
	ev.addr = m->addr;
	ev.incarnation = m->inc;
	mb->cb.event(mb->cb.ctx, &ev);
}

void
mb__set_state(struct mb *mb, struct mb_member *m, int state, int64_t now)
{
	int was = mb__listed(m), old = m->state;

	m->state = (uint8_t)state;
	m->since = now;
	if (was && !mb__listed(m)) {
		mb->listed--;
		mb->ring_dirty = 1;
		mb__susp_clear(mb, m->id);
		emit(mb, state == MB_LEFT ? MB_EV_LEFT : MB_EV_DEAD, m);
	} else if (!was && mb__listed(m)) {
		m->revived_at = now;
		mb->listed++;
		mb->ring_dirty = 1;
		order_add(mb, m);
		emit(mb, MB_EV_JOINED, m);
		if (state == MB_SUSPECT)
			emit(mb, MB_EV_SUSPECT, m);
	} else if (was && state != old) {
		emit(mb, state == MB_SUSPECT ? MB_EV_SUSPECT : MB_EV_ALIVE, m);
	}
}

/* Tombstones are kept for cfg.tombstone so that stale gossip cannot bring a
 * dead or departed member back; after that the record is dropped. */
void
mb__sweep(struct mb *mb, int64_t now)
{
	size_t i, j = 0;
	struct mb_member *m;

	for (i = 0; i < mb->n; i++) {
		m = &mb->m[i];
		if (!mb__listed(m) && m->id != mb->id &&
		    now - m->since > mb->cfg.tombstone) {
			if (m->bc) {
				TAILQ_REMOVE(m->bc->lazy ? &mb->lq : &mb->bq,
				    m->bc, q);
				mb->nbq--;
				if (!m->bc->lazy && !m->bc->extra)
					mb->nfresh--;
				free(m->bc);
			}
			continue;
		}
		mb->m[j++] = *m;
	}
	if (j != mb->n) {
		mb->n = j;
		rehash(mb, mb->n);
	}
}

/* ---- Broadcasts: a queue ordered by transmit count, fewest first.  New and
 * renewed updates go to the head; sent ones go to the tail until they have
 * been sent retransmit_mult * ceil(log10(N + 1)) times. */

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

void
mb__queue(struct mb *mb, struct mb_member *m, int kind, uint64_t from)
{
	struct bcast *b = m->bc;

	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return;
		m->bc = b;
		mb->nbq++;
		mb->nfresh++;
	} else {
		TAILQ_REMOVE(b->lazy ? &mb->lq : &mb->bq, b, q);
		if (b->lazy || b->extra)
			mb->nfresh++;
	}
	mb__to_update(m, kind, from, &b->u);
	b->transmits = 0;
	b->boost = 1;
	b->lazy = 0;
	b->extra = 0;
	TAILQ_INSERT_HEAD(&mb->bq, b, q);
	if (mb->next_gossip == NEVER)
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
#define LEAVE_DIRECT 16	/* members told of a clean leave at once */

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

/* Take updates for `o`, fewest-sent first: hot ones, then (unless
 * `hot_only`) lazy ones.  A record is on exactly one list and its lazy flag
 * says which: once lazy it stays lazy, even if the retransmit limit grows
 * with the member count (moving it back to the hot list with the flag set
 * corrupted both lists).  Sent records wait on local lists so that none is
 * taken twice for one datagram. */
static void
piggyback(struct mb *mb, struct mb_msg *o, int hot_only)
{
	struct bcastq hot_done, lazy_done;
	struct bcast *b;
	struct mb_member *m;
	size_t room = MB_MAX_PAYLOAD - mb_header_size(o), sz;
	int limit, lazy;

	TAILQ_INIT(&hot_done);
	TAILQ_INIT(&lazy_done);
	for (lazy = 0; lazy < 2 && !(lazy && hot_only); lazy++) {
		struct bcastq *qu = lazy ? &mb->lq : &mb->bq;

		while ((b = TAILQ_FIRST(qu)) != NULL &&
		    o->nupd < MB_MAX_UPDATES) {
			sz = mb_update_size(&b->u);
			if (sz > room)
				break;
			room -= sz;
			o->upd[o->nupd++] = b->u;
			TAILQ_REMOVE(qu, b, q);
			limit = hot_limit(mb, b);
			b->transmits++;
			if (!b->lazy) {
				if (!b->extra &&
				    b->transmits >= retransmit_limit(mb)) {
					b->extra = 1;
					mb->nfresh--;
				}
				if (b->transmits < limit) {
					TAILQ_INSERT_TAIL(&hot_done, b, q);
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
				TAILQ_INSERT_TAIL(&lazy_done, b, q);
				continue;
			}
			mb->nbq--;
			if ((m = mb__find(mb, b->u.id)) != NULL && m->bc == b)
				m->bc = NULL;
			free(b);
		}
	}
	TAILQ_CONCAT(&mb->bq, &hot_done, q);
	TAILQ_CONCAT(&mb->lq, &lazy_done, q);
}

/* Check the broadcast lists and the member table against each other: every
 * record on the list its flag names, each owned by exactly its member. */
int
mb_check(const struct mb *mb)
{
	const struct bcast *b;
	const struct mb_member *m;
	size_t n = 0, i, owned = 0, fresh = 0;
	int lazy;

	for (lazy = 0; lazy < 2; lazy++)
		TAILQ_FOREACH(b, lazy ? &mb->lq : &mb->bq, q) {
			if (b->lazy != lazy)
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

struct mb_member *
mb__random_listed(struct mb *mb, uint64_t not1, uint64_t not2)
{
	struct mb_member *m;
	size_t i, start;
	int tries;

	if (mb->listed == 0)
		return NULL;
	/* Rejection sampling is cheap while most records are listed; the scan
	 * covers clusters full of tombstones. */
	for (tries = 0; tries < 16; tries++) {
		m = &mb->m[mb__rand(mb, mb->n)];
		if (mb__listed(m) && m->id != mb->id && m->id != not1 &&
		    m->id != not2)
			return m;
	}
	start = (size_t)mb__rand(mb, mb->n);
	for (i = 0; i < mb->n; i++) {
		m = &mb->m[(start + i) % mb->n];
		if (mb__listed(m) && m->id != mb->id && m->id != not1 &&
		    m->id != not2)
			return m;
	}
	return NULL;
}

/* Dedicated gossip: only while updates are queued, so an idle cluster only
 * pays for its probes; and paced by a token bucket (gossip_rate per minute,
 * up to gossip_burst saved while idle).  One event goes out at once, at full
 * fanout; a storm (a partition, its heal) cannot flood the network: what the
 * budget does not carry rides on pings and acks, which are sent anyway.
 * A node's first 20 s are not paced: when a whole cluster starts at once,
 * every announcement must reach everyone before probing can be trusted. */
void
mb__gossip(struct mb *mb, int64_t now)
{
	int i;
	struct mb_member *m;
	double per_ms = mb->cfg.gossip_rate / 60000.0;

	mb->tokens += (double)(now - mb->tokens_at) * per_ms;
	if (mb->tokens > mb->cfg.gossip_burst || now < mb->pace_from)
		mb->tokens = mb->cfg.gossip_burst;
	mb->tokens_at = now;
	for (i = 0; i < mb->cfg.gossip_fanout && mb__hot(mb) &&
	    mb->tokens >= 1; i++) {
		if ((m = mb__random_listed(mb, 0, 0)) == NULL)
			break;
		memset(&mb->out, 0, sizeof(mb->out));
		mb->out.type = MB_MSG_GOSSIP;
		mb__send(mb, &m->addr, &mb->out, 1);
		mb->tokens -= 1;
	}
	mb->last_gossip = now;
	if (!mb__hot(mb))
		mb->next_gossip = NEVER;
	else if (mb->tokens >= 1 || per_ms <= 0)
		mb->next_gossip = now + mb->cfg.gossip_interval;
	else
		mb->next_gossip = now + mb->cfg.gossip_interval +
		    (int64_t)((1 - mb->tokens) / per_ms);
}

/* Probe `id` before any other member: evidence against it arrived that we
 * do not take on trust (a full state's "dead", a death at an incarnation it
 * refuted to us).  A missed death is repaired this way. */
void
mb__verify(struct mb *mb, uint64_t id)
{
	size_t i;

	for (i = 0; i < mb->nverify; i++)
		if (mb->verify[(mb->verify_pos + i) % VERIFY] == id)
			return;
	if (mb->nverify == VERIFY)
		return;
	mb->verify[(mb->verify_pos + mb->nverify++) % VERIFY] = id;
}

/* ---- Update rules */

static void
send_private(struct mb *mb, const mb_addr *to, const struct mb_update *u)
{
	memset(&mb->out, 0, sizeof(mb->out));
	mb->out.type = MB_MSG_GOSSIP;
	mb->out.nupd = 1;
	mb->out.upd[0] = *u;
	mb__send(mb, to, &mb->out, 0);
}

/* Someone says we are suspect, dead or gone: only we can refute it, by
 * raising our incarnation above theirs (SWIM).  A private notice is answered
 * to the accuser alone; a gossiped claim is answered by gossip. */
static void
about_self(struct mb *mb, int64_t now, const struct mb_update *u,
    const mb_addr *from)
{
	int kind = u->kind & ~MB_UPD_PRIVATE, priv = u->kind & MB_UPD_PRIVATE;
	struct mb_member *self = mb__find(mb, mb->id), *acc;
	struct mb_update r;

	if (kind == MB_UPD_ALIVE) {
		if (u->inc > mb->inc) {
			mb->inc = u->inc + 1;
			self->inc = mb->inc;
			mb__queue(mb, self, MB_UPD_ALIVE, 0);
		}
		return;
	}
	if (mb->leaving)
		return;
	if (u->inc >= mb->inc) {
		mb->inc = u->inc + 1;
		self->inc = mb->inc;
		mb->st.refutations++;
		/* Lifeguard: being suspected hints that we are the slow one. */
		mb__awareness(mb, 1);
		if (!priv)
			mb__queue(mb, self, MB_UPD_ALIVE, 0);
	} else if (!priv) {
		/* A stale claim is still going round, maybe from a member
		 * that never heard our refutation: gossip it once more. */
		if (self->bc == NULL)
			mb__queue(mb, self, MB_UPD_ALIVE, 0);
		return;
	}
	mb__to_update(self, priv ? MB_UPD_ALIVE | MB_UPD_PRIVATE :
	    MB_UPD_ALIVE, 0, &r);
	acc = kind == MB_UPD_SUSPECT ? mb__find(mb, u->from) : NULL;
	send_private(mb, acc && acc->id != mb->id ? &acc->addr : from, &r);
	if (priv && kind == MB_UPD_DEAD)
		mb__queue(mb, self, MB_UPD_ALIVE, 0);
}

/* A member we hold dead spoke to us directly: tell it, so that it refutes
 * with a higher incarnation.  This is what merges a healed partition. */
static void
notice_dead(struct mb *mb, int64_t now, struct mb_member *m, const mb_addr *from)
{
	struct mb_update u;

	if (now - m->last_notice < mb->cfg.notice_interval)
		return;
	m->last_notice = now;
	mb__to_update(m, MB_UPD_DEAD | MB_UPD_PRIVATE, 0, &u);
	send_private(mb, from, &u);
}

/* Others still say alive@i about a member we hold dead@i: either old news
 * of a real death, or our death verdict is one the member never heard (it
 * was made on the far side of a partition, or at an incarnation only its
 * accuser knew).  Telling the member costs one datagram; a live member then
 * refutes by gossip with i + 1, which beats dead@i everywhere.  Bounded per
 * member and per node, since old news of a real death also gets here. */
static void
diverged(struct mb *mb, int64_t now, struct mb_member *m)
{
	struct mb_update u;

	if (now - m->last_notice < 5000 || now < mb->next_diverged)
		return;
	m->last_notice = now;
	mb->next_diverged = now + 1000;
	mb__to_update(m, MB_UPD_DEAD | MB_UPD_PRIVATE, 0, &u);
	send_private(mb, &m->addr, &u);
}

void
mb__apply(struct mb *mb, int64_t now, const struct mb_update *u,
    const mb_addr *from, uint64_t sender, int merge)
{
	int kind = u->kind & ~MB_UPD_PRIVATE, was_dead, fresh = 0;
	struct mb_member *m, *old;

	if (u->id == mb->id) {
		about_self(mb, now, u, from);
		return;
	}
	/* Private updates are notices to their subject; the one exception
	 * is a refutation answering our own suspicion, which we apply but do
	 * not gossip since nobody else heard of the suspicion. */
	if ((u->kind & MB_UPD_PRIVATE) && kind != MB_UPD_ALIVE)
		return;
	m = mb__find(mb, u->id);
	if (merge && (kind == MB_UPD_SUSPECT || kind == MB_UPD_DEAD) &&
	    m != NULL && mb__listed(m)) {
		/* A full state says what its sender believed, maybe long ago
		 * on the far side of a partition: not enough to kill a member
		 * we hold alive (at a heal that made hundreds of false
		 * deaths), but enough to check it ourselves.  This repairs
		 * a death whose gossip missed us.  The same goes for the
		 * gossip of a member we hold dead, or brought back only
		 * lately: at a heal, the far side's queues still carry its
		 * verdicts on our side, and applied they killed hundreds. */
		if (kind == MB_UPD_DEAD && u->inc >= m->inc)
			mb__verify(mb, m->id);
		return;
	}
	switch (kind) {
	case MB_UPD_ALIVE:
		was_dead = m != NULL && !mb__listed(m);
		if (m == NULL) {
			if ((m = add(mb, u, MB_ALIVE, now)) == NULL)
				return;
			emit(mb, MB_EV_JOINED, m);
			fresh = 1;
		} else if (u->inc > m->inc) {
			m->inc = u->inc;
			if (!mb_addr_eq(&m->addr, &u->addr)) {
				m->addr = u->addr;
				rehash(mb, mb->n);
			}
			mb__susp_clear(mb, m->id);
			if (m->state != MB_ALIVE)
				mb__set_state(mb, m, MB_ALIVE, now);
		} else {
			if (u->inc == m->inc && m->state == MB_DEAD)
				diverged(mb, now, m);
			return;
		}
		/* A new ID at the address of a listed member is that server
		 * restarted: its old self is dead, locally, without gossip
		 * (every member draws the same conclusion). */
		while ((old = find_addr(mb, &m->addr, m->id)) != NULL)
			mb__set_state(mb, old, MB_DEAD, now);
		if (!(u->kind & MB_UPD_PRIVATE) || was_dead)
			mb__queue(mb, m, MB_UPD_ALIVE, 0);
		/* News of a new member is retransmitted three times as often:
		 * after a merge only half the cluster forwards it, and a
		 * member that misses it would not list the newcomer until the
		 * next full-state exchange. */
		if (fresh && m->bc)
			m->bc->boost = 3;
		break;
	case MB_UPD_SUSPECT:
		if (m == NULL || !mb__listed(m) || u->inc < m->inc)
			return;
		if (m->state == MB_SUSPECT && u->inc == m->inc) {
			if (mb__susp_confirm(mb, m->id, u->from))
				mb__queue(mb, m, MB_UPD_SUSPECT, u->from);
			return;
		}
		m->inc = u->inc;
		mb__susp_clear(mb, m->id);
		mb__set_state(mb, m, MB_SUSPECT, now);
		mb__susp_start(mb, m, now, 0, u->from, 0, 0);
		mb__queue(mb, m, MB_UPD_SUSPECT, u->from);
		break;
	case MB_UPD_DEAD:
	case MB_UPD_LEFT:
		if (m == NULL) {
			/* Remember the tombstone so that stale gossip cannot
			 * introduce the member later; nothing to announce. */
			add(mb, u, kind == MB_UPD_DEAD ? MB_DEAD : MB_LEFT, now);
			return;
		}
		if (u->inc < m->inc && mb__listed(m) && kind == MB_UPD_DEAD &&
		    !merge) {
			/* Someone saw it die at an incarnation it has since
			 * refuted to us alone: check for ourselves, now. */
			mb__verify(mb, m->id);
			if (mb->next_probe > now)
				mb->next_probe = now;
			return;
		}
		if (u->inc < m->inc || m->state == MB_LEFT ||
		    (m->state == MB_DEAD && kind == MB_UPD_DEAD)) {
			if (m->state == MB_DEAD && sender == m->id && !merge)
				notice_dead(mb, now, m, from);
			return;
		}
		m->inc = u->inc;
		mb__set_state(mb, m, kind == MB_UPD_DEAD ? MB_DEAD : MB_LEFT,
		    now);
		mb__queue(mb, m, kind, 0);
		break;
	}
}

/* ---- Public entry points */

int
mb_create(struct mb **out, const struct mb_config *cfg, uint64_t id,
    const mb_addr *self, const struct mb_callbacks *cb, int64_t now)
{
	struct mb *mb;
	struct mb_update u;

	if (id == 0 || cb == NULL || cb->send == NULL || cb->random == NULL ||
	    (self->family != MB_AF_INET && self->family != MB_AF_INET6))
		return -EINVAL;
	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return -ENOMEM;
	if (cfg)
		mb->cfg = *cfg;
	else
		mb_config_default(&mb->cfg);
	mb->cb = *cb;
	mb->id = id;
	mb->addr = *self;
	mb->inc = 1;
	TAILQ_INIT(&mb->bq);
	TAILQ_INIT(&mb->lq);
	if (rehash(mb, 32) < 0) {
		free(mb);
		return -ENOMEM;
	}
	memset(&u, 0, sizeof(u));
	u.id = id;
	u.addr = *self;
	u.inc = mb->inc;
	if (add(mb, &u, MB_ALIVE, now) == NULL) {
		mb_free(mb);
		return -ENOMEM;
	}
	mb->listed = 0;		/* self is not counted as a peer */
	mb->ring_dirty = 1;
	mb->next_probe = now + (int64_t)mb__rand(mb,
	    (uint64_t)mb->cfg.probe_interval);
	mb->next_gossip = NEVER;
	mb->last_gossip = now - mb->cfg.gossip_interval;
	mb->tokens = mb->cfg.gossip_burst;
	mb->tokens_at = now;
	mb->pace_from = now + 20000;
	mb->next_pushpull = now + mb->cfg.pushpull_interval +
	    (int64_t)mb__rand(mb, (uint64_t)mb->cfg.pushpull_interval);
	mb->next_reconnect = now + mb->cfg.reconnect_interval +
	    (int64_t)mb__rand(mb, (uint64_t)mb->cfg.reconnect_interval);
	mb->next_sweep = now + 5000;
	mb__recompute_deadline(mb);
	*out = mb;
	return 0;
}

void
mb_free(struct mb *mb)
{
	struct bcast *b;

	if (mb == NULL)
		return;
	while ((b = TAILQ_FIRST(&mb->bq)) != NULL) {
		TAILQ_REMOVE(&mb->bq, b, q);
		free(b);
	}
	while ((b = TAILQ_FIRST(&mb->lq)) != NULL) {
		TAILQ_REMOVE(&mb->lq, b, q);
		free(b);
	}
	free(mb->m);
	free(mb->slot);
	free(mb->aslot);
	free(mb->order);
	free(mb->s);
	free(mb);
}

int
mb_join(struct mb *mb, int64_t now, const mb_addr *seed)
{
	struct mb_member *self = mb__find(mb, mb->id);

	if (seed == NULL || (seed->family != MB_AF_INET &&
	    seed->family != MB_AF_INET6))
		return -EINVAL;
	mb->now = now;
	if (mb->leaving) {
		/* Rejoining after a leave needs an incarnation above it. */
		mb->leaving = 0;
		mb->leave_sent = 0;
		mb->inc++;
		self->inc = mb->inc;
	}
	mb__queue(mb, self, MB_UPD_ALIVE, 0);
	mb__pp_request(mb, now, seed, MB_PP_ALL | MB_PP_PUSH);
	/* The seed may not know yet of members that joined just before us,
	 * and their announcements are over: two early exchanges with random
	 * members close that gap. */
	mb->refresh = 2;
	mb->next_pushpull = now + 2000;
	mb__recompute_deadline(mb);
	return 0;
}

/* A clean leave is told at once to up to LEAVE_DIRECT listed members, from a
 * random start, beside the paced gossip: a process that stops right after
 * mb_leave() may never run another gossip round, and the members that hear
 * it spread it on. */
static void
announce_leave(struct mb *mb)
{
	size_t i, start, sent = 0;
	struct mb_member *m;
	struct mb_update u;

	if (mb->n == 0)
		return;
	mb__to_update(mb__find(mb, mb->id), MB_UPD_LEFT, 0, &u);
	start = (size_t)mb__rand(mb, mb->n);
	for (i = 0; i < mb->n && sent < LEAVE_DIRECT; i++) {
		m = &mb->m[(start + i) % mb->n];
		if (!mb__listed(m) || m->id == mb->id)
			continue;
		send_private(mb, &m->addr, &u);
		sent++;
	}
}

int
mb_leave(struct mb *mb, int64_t now)
{
	struct mb_member *self = mb__find(mb, mb->id);

	if (mb->leaving)
		return -EALREADY;
	mb->now = now;
	mb->leaving = 1;
	mb->leave_sent = mb->listed == 0;
	mb->leave_at = now;
	mb__queue(mb, self, MB_UPD_LEFT, 0);
	announce_leave(mb);
	mb__recompute_deadline(mb);
	return 0;
}

int
mb_verify(struct mb *mb, int64_t now, uint64_t id)
{
	struct mb_member *m = mb__find(mb, id);

	if (m == NULL || id == mb->id || !mb__listed(m))
		return -ENOENT;
	mb->now = now;
	mb__verify(mb, id);
	return 0;
}

int
mb_leave_done(const struct mb *mb, int64_t now)
{
	return mb->leaving && (mb->leave_sent || now - mb->leave_at > 3000);
}

int
mb_receive(struct mb *mb, int64_t now, const mb_addr *from,
    const uint8_t *buf, size_t len)
{
	int rc = mb_decode(buf, len, &mb->msg);

	mb->now = now;
	if (rc < 0) {
		mb->st.dropped++;
		if (rc == -EPROTO)
			mb->st.dropped_version++;
		else if (rc == -EMSGSIZE)
			mb->st.dropped_size++;
		else
			mb->st.dropped_malformed++;
		return -EBADMSG;
	}
	if (mb->msg.sender == mb->id)
		return 0;
	mb->st.received++;
	mb__dispatch(mb, now, from);
	mb__recompute_deadline(mb);
	return 0;
}

int
mb_tick(struct mb *mb, int64_t now)
{
	mb->now = now;
	mb__timers(mb, now);
	mb__recompute_deadline(mb);
	return 0;
}

int64_t
mb_next_deadline(const struct mb *mb)
{
	return mb->deadline;
}

size_t
mb_listed(const struct mb *mb)
{
	return mb->listed + 1;
}

size_t
mb_count(const struct mb *mb)
{
	return mb->n;
}

static void
info(const struct mb_member *m, struct mb_member_info *out)
{
	out->id = m->id;
	out->addr = m->addr;
	out->incarnation = m->inc;
	out->state = m->state;
}

int
mb_member_at(const struct mb *mb, size_t i, struct mb_member_info *out)
{
	if (i >= mb->n)
		return -ENOENT;
	info(&mb->m[i], out);
	return 0;
}

int
mb_lookup(const struct mb *mb, uint64_t id, struct mb_member_info *out)
{
	struct mb_member *m = mb__find((struct mb *)(uintptr_t)mb, id);

	if (m == NULL)
		return -ENOENT;
	info(m, out);
	return 0;
}

uint32_t
mb_incarnation(const struct mb *mb)
{
	return mb->inc;
}

void
mb_get_stats(const struct mb *mb, struct mb_stats *out)
{
	*out = mb->st;
	out->awareness = mb->awareness;
}
