/* membership.c - SWIM + Lifeguard core: the public entry points, the
 * node's lifecycle (create, join, leave, free) and the small helpers every
 * part shares.  The member table is in membership_table.c, the broadcast
 * queue and gossip in membership_bcast.c, the update rules in
 * membership_update.c, probing, suspicion and the full-state exchange in
 * membership_probe.c, the datagram codec in membership_wire.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/membership_int.h"

#define LEAVE_DIRECT 16	/* members told of a clean leave at once */

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
	c->revive_check = 20000;
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
	TAILQ_INIT(&mb->dq);
	TAILQ_INIT(&mb->bq);
	TAILQ_INIT(&mb->lq);
	if (mb__rehash(mb, 32) < 0) {
		free(mb);
		return -ENOMEM;
	}
	memset(&u, 0, sizeof(u));
	u.id = id;
	u.addr = *self;
	u.inc = mb->inc;
	if (mb__add(mb, &u, MB_ALIVE, now) == NULL) {
		mb_free(mb);
		return -ENOMEM;
	}
	mb->listed = 0;		/* self is not counted as a peer */
	mb->ring_dirty = 1;
	mb->next_probe = now + (int64_t)mb__rand(mb,
	    (uint64_t)mb->cfg.probe_interval);
	mb->next_gossip = NEVER;
	mb->last_gossip = now - mb->cfg.gossip_interval;
	bucket_init(&mb->gossip_budget, mb->cfg.gossip_rate / 60000.0, mb->cfg.gossip_burst,
	    now);
	bucket_init(&mb->death_budget, DEATH_RATE / 60000.0, DEATH_BURST, now);
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
	while ((b = TAILQ_FIRST(&mb->dq)) != NULL) {
		TAILQ_REMOVE(&mb->dq, b, q);
		free(b);
	}
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
		mb__send_private(mb, &m->addr, &u);
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
