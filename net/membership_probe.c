/* membership_probe.c - probing (direct, then indirect through k helpers),
 * Lifeguard suspicion, reconnects to dead members, the dispatch of received
 * datagrams and the timer wheel that drives them all (the push-pull
 * full-state exchange is in membership_pp.c).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/membership_int.h"

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* ---- Suspicion */

static struct susp *
susp_find(struct mb *mb, uint64_t id)
{
	size_t i;

	for (i = 0; i < mb->ns; i++)
		if (mb->s[i].id == id)
			return &mb->s[i];
	return NULL;
}

/* Lifeguard's dynamic timeout: from suspicion_max with no confirmation down
 * to suspicion_min with suspicion_k of them, on a log scale, stretched by
 * our own health multiplier. */
static int64_t
susp_timeout(const struct mb *mb, const struct susp *s)
{
	double lo = mb->cfg.suspicion_min, hi = mb->cfg.suspicion_max, t;
	int k = mb->cfg.suspicion_k;

	t = hi - (hi - lo) * log((double)s->nconf + 1) / log((double)k + 1);
	if (t < lo)
		t = lo;
	return (int64_t)t * s->mult;
}

static void
send_notice(struct mb *mb, struct mb_member *m)
{
	memset(&mb->out, 0, sizeof(mb->out));
	mb->out.type = MB_MSG_GOSSIP;
	mb->out.nupd = 1;
	mb__to_update(m, MB_UPD_SUSPECT | MB_UPD_PRIVATE, mb->id,
	    &mb->out.upd[0]);
	mb->out.upd[0].from = mb->id;
	mb__send(mb, &m->addr, &mb->out, 0);
}

void
mb__susp_clear(struct mb *mb, uint64_t id)
{
	struct susp *s = susp_find(mb, id);

	if (s != NULL)
		*s = mb->s[--mb->ns];
}

void
mb__susp_start(struct mb *mb, struct mb_member *m, int64_t now, int priv,
    uint64_t accuser, int nconf, uint32_t seq)
{
	struct susp *s;

	if (mb->ns == mb->scap) {
		size_t cap = mb->scap ? mb->scap * 2 : 16;
		struct susp *ns = realloc(mb->s, cap * sizeof(*ns));

		if (ns == NULL)
			return;
		mb->s = ns;
		mb->scap = cap;
	}
	s = &mb->s[mb->ns++];
	memset(s, 0, sizeof(*s));
	s->id = m->id;
	s->inc = m->inc;
	s->priv = priv;
	s->conf[0] = accuser;
	s->nconf = nconf;
	s->mult = mb__mult(mb);
	s->seq = seq;
	s->start = now;
	s->deadline = now + susp_timeout(mb, s);
	s->next_notice = NEVER;
	if (priv) {
		/* Lifeguard: tell the suspect at once, and again until it
		 * answers, so that a live member refutes in time. */
		mb->st.suspicions++;
		send_notice(mb, m);
		s->next_notice = now + mb->cfg.notice_interval;
	}
}

int
mb__susp_confirm(struct mb *mb, uint64_t id, uint64_t from)
{
	struct susp *s = susp_find(mb, id);
	int i, used;

	if (s == NULL)
		return 0;
	used = s->nconf + 1 < MAX_CONF ? s->nconf + 1 : MAX_CONF;
	for (i = 0; i < used; i++)
		if (s->conf[i] == from)
			return 0;
	if (s->nconf + 1 < MAX_CONF)
		s->conf[s->nconf + 1] = from;
	s->nconf++;
	s->deadline = s->start + susp_timeout(mb, s);
	return s->nconf <= mb->cfg.suspicion_k;
}

static void
susp_timers(struct mb *mb, int64_t now)
{
	size_t i = 0;
	struct susp *s;
	struct mb_member *m;

	while (i < mb->ns) {
		s = &mb->s[i];
		m = mb__find(mb, s->id);
		if (m == NULL || m->state != MB_SUSPECT || m->inc != s->inc) {
			*s = mb->s[--mb->ns];
			continue;
		}
		if (now >= s->deadline) {
			*s = mb->s[--mb->ns];
			mb__set_state(mb, m, MB_DEAD, now);
			mb__queue(mb, m, MB_UPD_DEAD, 0);
			continue;
		}
		if (s->priv && now >= s->next_notice) {
			send_notice(mb, m);
			s->next_notice = now + mb->cfg.notice_interval;
		}
		i++;
	}
}

/* ---- Probing */

static void
send_ping(struct mb *mb, const mb_addr *to, uint32_t seq, uint64_t target)
{
	memset(&mb->out, 0, sizeof(mb->out));
	mb->out.type = MB_MSG_PING;
	mb->out.seq = seq;
	mb->out.target = target;
	mb__send(mb, to, &mb->out, 1);
}

static void
send_seq(struct mb *mb, const mb_addr *to, int type, uint32_t seq)
{
	memset(&mb->out, 0, sizeof(mb->out));
	mb->out.type = (uint8_t)type;
	mb->out.seq = seq;
	mb__send(mb, to, &mb->out, type == MB_MSG_ACK);
}

/* The ring successor: the listed member whose ID follows ours.  Probing it
 * every other period bounds the time until a crashed member is first
 * probed, which random choice alone leaves with an exponential tail. */
static struct mb_member *
ring_successor(struct mb *mb)
{
	size_t i;
	uint64_t best = UINT64_MAX, d;
	struct mb_member *m;

	if (mb->ring_dirty) {
		mb->ring_succ = 0;
		for (i = 0; i < mb->n; i++) {
			m = &mb->m[i];
			if (!mb__listed(m) || m->id == mb->id)
				continue;
			d = m->id - mb->id;
			if (d < best) {
				best = d;
				mb->ring_succ = m->id;
			}
		}
		mb->ring_dirty = 0;
	}
	m = mb->ring_succ ? mb__find(mb, mb->ring_succ) : NULL;
	return m && mb__listed(m) ? m : NULL;
}

static struct mb_member *
next_target(struct mb *mb)
{
	struct mb_member *m;
	size_t i, j, k;
	uint64_t t;
	int asked;

	if (mb->listed == 0)
		return NULL;
	/* The ring turn comes before the members to verify: after a heal
	 * the full states keep that queue filled for half a minute, and a
	 * crash of our ring successor then went unprobed for 4-6 s.  Only a
	 * probe asked for at once (mb__verify with verify_now) goes first. */
	asked = mb->verify_now && mb->nverify > 0;	/* a probe asked for now */
	mb->verify_now = 0;
	if (!asked && (mb->ring_turn ^= 1) && (m = ring_successor(mb)) != NULL)
		return m;
	while (mb->nverify > 0) {
		m = mb__find(mb, mb->verify[mb->verify_pos]);
		mb->verify_pos = (mb->verify_pos + 1) % VERIFY;
		mb->nverify--;
		if (m && mb__listed(m))
			return m;
	}
	for (k = 0; k < 2 * mb->norder + 2; k++) {
		if (mb->order_pos >= mb->norder) {
			/* End of a round: drop members that left the list and
			 * reshuffle (Fisher-Yates). */
			for (i = j = 0; i < mb->norder; i++) {
				m = mb__find(mb, mb->order[i]);
				if (m && mb__listed(m))
					mb->order[j++] = mb->order[i];
				else if (m)
					m->in_order = 0;
			}
			mb->norder = j;
			for (i = mb->norder; i > 1; i--) {
				j = (size_t)mb__rand(mb, i);
				t = mb->order[i - 1];
				mb->order[i - 1] = mb->order[j];
				mb->order[j] = t;
			}
			mb->order_pos = 0;
			if (mb->norder == 0)
				return NULL;
		}
		m = mb__find(mb, mb->order[mb->order_pos++]);
		if (m && mb__listed(m))
			return m;
	}
	return NULL;
}

static void
probe_start(struct mb *mb, int64_t now)
{
	struct mb_member *m = next_target(mb);
	struct probe *p = &mb->pr;

	mb->next_probe = now + (int64_t)mb->cfg.probe_interval * mb__mult(mb);
	if (m == NULL)
		return;
	p->phase = P_DIRECT1;
	p->target = m->id;
	p->addr = m->addr;
	p->seq = ++mb->seq;
	p->k = p->nacks = 0;
	p->deadline = now + (int64_t)mb->cfg.probe_timeout * mb__mult(mb);
	mb->st.probes++;
	send_ping(mb, &p->addr, p->seq, p->target);
}

static void
probe_fail(struct mb *mb, int64_t now)
{
	struct probe *p = &mb->pr;
	struct mb_member *m = mb__find(mb, p->target);

	p->phase = P_NONE;
	if (m != NULL && mb__listed(m) && !mb->leaving) {
		if (m->state == MB_SUSPECT)
			mb__susp_confirm(mb, m->id, mb->id);
		else {
			mb__set_state(mb, m, MB_SUSPECT, now);
			mb__susp_start(mb, m, now, 1, mb->id, p->nacks,
			    p->seq);
		}
	}
	/* Lifeguard: helpers that did not even nack point at our own network
	 * or CPU, so our next probes grow slower and more careful.  All of
	 * them silent, not one: early in a partition some helpers are on the
	 * far side and cannot nack, and counting them doubled every node's
	 * timers just when a crash among them had to be found.  This
	 * suspicion keeps the health we had when the probe began. */
	if (p->k > 0 && p->nacks == 0)
		mb__awareness(mb, 1);
}

/* Helpers come first from the members that answered our own probes lately:
 * they are reachable.  Drawn from all listed members, the helpers during a
 * partition include some on the far side, which send no nack, and the
 * prober blamed itself (Lifeguard) and slowed its detection threefold. */
static struct mb_member *
recent_helper(struct mb *mb, uint64_t target, int try)
{
	struct mb_member *m;

	if (mb->nrecent == 0 || try >= 2 * mb->cfg.indirect_k)
		return NULL;
	m = mb__find(mb, mb->recent[mb__rand(mb, mb->nrecent)]);
	return m && mb__listed(m) && m->id != target ? m : NULL;
}

static void
recent_add(struct mb *mb, uint64_t id)
{
	size_t i;

	for (i = 0; i < mb->nrecent; i++)
		if (mb->recent[i] == id)
			return;
	if (mb->nrecent < RECENT)
		mb->recent[mb->nrecent++] = id;
	else
		mb->recent[mb__rand(mb, RECENT)] = id;
}

static void
probe_step(struct mb *mb, int64_t now)
{
	struct probe *p = &mb->pr;
	struct mb_member *h;
	uint64_t used[16];
	int i, n = 0, tries;

	switch (p->phase) {
	case P_DIRECT1:
		/* A second direct ping costs two datagrams where the indirect
		 * round costs 4k, and absorbs most single losses. */
		p->phase = P_DIRECT2;
		p->deadline = now + (int64_t)mb->cfg.probe_timeout * mb__mult(mb);
		send_ping(mb, &p->addr, p->seq, p->target);
		break;
	case P_DIRECT2:
		mb->st.indirect_probes++;
		for (tries = 0; n < mb->cfg.indirect_k && n < 16 &&
		    tries < 4 * mb->cfg.indirect_k; tries++) {
			h = recent_helper(mb, p->target, tries);
			if (h == NULL)
				h = mb__random_listed(mb, p->target, 0);
			if (h == NULL)
				break;
			for (i = 0; i < n && used[i] != h->id; i++)
				;
			if (i < n)
				continue;
			used[n++] = h->id;
			memset(&mb->out, 0, sizeof(mb->out));
			mb->out.type = MB_MSG_PING_REQ;
			mb->out.seq = p->seq;
			mb->out.target = p->target;
			mb->out.target_addr = p->addr;
			mb__send(mb, &h->addr, &mb->out, 1);
		}
		p->k = n;
		p->phase = P_INDIRECT;
		p->deadline = now +
		    (int64_t)mb->cfg.indirect_timeout * mb__mult(mb);
		if (n == 0)
			probe_fail(mb, now);
		break;
	case P_INDIRECT:
		probe_fail(mb, now);
		break;
	}
}

static void
on_ack(struct mb *mb, int64_t now, uint32_t seq, uint64_t sender)
{
	struct probe *p = &mb->pr;
	struct relay *r;
	struct reconn *c;
	struct mb_member *m;
	size_t i;

	if (p->phase != P_NONE && seq == p->seq) {
		p->phase = P_NONE;
		mb__awareness(mb, -1);
		if (sender == p->target)
			recent_add(mb, sender);
		return;
	}
	for (i = 0; i < RELAYS; i++) {
		r = &mb->relay[i];
		if (r->used && r->seq == seq) {
			send_seq(mb, &r->req_addr, MB_MSG_ACK, r->req_seq);
			r->used = 0;
			return;
		}
	}
	for (i = 0; i < mb->ns; i++) {
		/* A late answer to the probe that raised our own suspicion
		 * proves the member was alive after all. */
		if (mb->s[i].priv && mb->s[i].seq == seq) {
			m = mb__find(mb, mb->s[i].id);
			mb->s[i] = mb->s[--mb->ns];
			if (m && m->state == MB_SUSPECT)
				mb__set_state(mb, m, MB_ALIVE, now);
			return;
		}
	}
	for (i = 0; i < RECONNS; i++) {
		c = &mb->rc[i];
		if (c->used && c->seq == seq) {
			c->used = 0;
			m = mb__find(mb, c->id);
			if (m && m->state == MB_DEAD)
				mb__pp_request(mb, now, &c->addr,
				    MB_PP_ALL | MB_PP_PUSH);
			return;
		}
	}
}

static void
on_ping_req(struct mb *mb, int64_t now, const mb_addr *from)
{
	struct relay *r = NULL;
	size_t i;

	for (i = 0; i < RELAYS; i++)
		if (!mb->relay[i].used) {
			r = &mb->relay[i];
			break;
		}
	if (r == NULL)
		return;
	r->used = 1;
	r->nacked = 0;
	r->seq = ++mb->seq;
	r->req_seq = mb->msg.seq;
	r->req_addr = *from;
	r->deadline = now + mb->cfg.helper_timeout;
	/* Keep forwarding a late ack for a while after the nack. */
	r->expire = now + mb->cfg.helper_timeout + 1000;
	send_ping(mb, &mb->msg.target_addr, r->seq, mb->msg.target);
}

static void
relay_timers(struct mb *mb, int64_t now)
{
	size_t i;
	struct relay *r;

	for (i = 0; i < RELAYS; i++) {
		r = &mb->relay[i];
		if (!r->used)
			continue;
		if (!r->nacked && now >= r->deadline) {
			/* Lifeguard's nack: we are alive, the target is not
			 * answering us either. */
			send_seq(mb, &r->req_addr, MB_MSG_NACK, r->req_seq);
			r->nacked = 1;
		}
		if (now >= r->expire)
			r->used = 0;
	}
}

/* ---- Dispatch and timers */

void
mb__dispatch(struct mb *mb, int64_t now, const mb_addr *from)
{
	struct mb_msg *m = &mb->msg;
	struct mb_member *sm = mb__find(mb, m->sender);
	int i, how;

	how = sm == NULL || (mb__listed(sm) && now - sm->revived_at >= DISTRUST_MS) ?
	    MB_FROM_GOSSIP : MB_FROM_STRANGER;
	if (m->type != MB_MSG_PP_STATE)
		for (i = 0; i < m->nupd; i++)
			mb__apply(mb, now, &m->upd[i], from, m->sender, how);
	/* A member we hold dead that talks to us directly is told so. */
	sm = mb__find(mb, m->sender);
	if (sm == NULL && mb->unk_id == 0) {
		/* A member we never heard of knows us: its announcement may
		 * still be on its way, so wait, then exchange state with it
		 * (this closes the gaps gossip leaves after a merge). */
		mb->unk_id = m->sender;
		mb->unk_addr = *from;
		mb->unk_at = now + 3000;
	}
	if (sm && sm->state == MB_DEAD) {
		struct mb_update u;

		mb__to_update(sm, MB_UPD_DEAD, 0, &u);
		mb__apply(mb, now, &u, from, m->sender, MB_FROM_GOSSIP);
	}
	switch (m->type) {
	case MB_MSG_PING:
		if (m->target == mb->id)
			send_seq(mb, from, MB_MSG_ACK, m->seq);
		break;
	case MB_MSG_ACK:
		on_ack(mb, now, m->seq, m->sender);
		break;
	case MB_MSG_NACK:
		if (mb->pr.phase == P_INDIRECT && m->seq == mb->pr.seq &&
		    ++mb->pr.nacks >= mb->pr.k)
			probe_fail(mb, now);
		break;
	case MB_MSG_PING_REQ:
		on_ping_req(mb, now, from);
		break;
	case MB_MSG_PP_REQ:
		mb__pp_on_req(mb, now, from);
		break;
	case MB_MSG_PP_STATE:
		mb__pp_on_state(mb, now, from);
		break;
	}
}

static void
reconnect(struct mb *mb, int64_t now)
{
	struct mb_member *m = NULL, *c;
	struct reconn *r = NULL;
	size_t i, start;

	mb->next_reconnect = now + mb->cfg.reconnect_interval;
	if (mb->n < 2)
		return;
	start = (size_t)mb__rand(mb, mb->n);
	for (i = 0; i < mb->n; i++) {
		c = &mb->m[(start + i) % mb->n];
		if (c->state == MB_DEAD &&
		    now - c->since < mb->cfg.reconnect_timeout) {
			m = c;
			break;
		}
	}
	for (i = 0; i < RECONNS; i++)
		if (!mb->rc[i].used || now >= mb->rc[i].expire)
			r = &mb->rc[i];
	if (m == NULL || r == NULL)
		return;
	r->used = 1;
	r->seq = ++mb->seq;
	r->id = m->id;
	r->addr = m->addr;
	r->expire = now + 2000;
	send_ping(mb, &m->addr, r->seq, m->id);
}

static int64_t
pushpull_interval(const struct mb *mb)
{
	double n = (double)mb->listed + 1, scale = 1;

	/* memberlist's scaling: full-state exchanges grow rarer past 32
	 * members because each one costs O(N) bytes. */
	if (n > 32)
		scale = log2(n) - log2(32) + 1;
	return (int64_t)(mb->cfg.pushpull_interval * scale);
}

void
mb__timers(struct mb *mb, int64_t now)
{
	struct mb_member *m;

	susp_timers(mb, now);
	relay_timers(mb, now);
	mb__pp_timers(mb, now);
	if (mb->pr.phase != P_NONE && now >= mb->pr.deadline)
		probe_step(mb, now);
	if (mb->pr.phase == P_NONE && now >= mb->next_probe && !mb->leaving)
		probe_start(mb, now);
	if (now >= mb->next_gossip)
		mb__gossip(mb, now);
	if (mb->heal_pp_at && now >= mb->heal_pp_at) {
		mb->heal_pp_at = 0;
		mb->next_pushpull = now;
	}
	if (now >= mb->next_pushpull) {
		mb->next_pushpull = now + (mb->refresh > 0 ? 4000 :
		    pushpull_interval(mb));
		if (mb->refresh > 0)
			mb->refresh--;
		if (!mb->leaving && (m = mb__random_listed(mb, 0, 0)) != NULL)
			mb__pp_request(mb, now, &m->addr, MB_PP_ALL | MB_PP_PUSH);
	}
	if (mb->merge_pp_at && now >= mb->merge_pp_at) {
		mb->merge_pp_at = 0;
		if (!mb->leaving)
			mb__pp_request(mb, now, &mb->merge_pp_addr,
			    MB_PP_ALL | MB_PP_PUSH);
	}
	if (mb->unk_id && now >= mb->unk_at) {
		if (mb__find(mb, mb->unk_id) == NULL && !mb->leaving)
			mb__pp_request(mb, now, &mb->unk_addr,
			    MB_PP_ALL | MB_PP_PUSH);
		mb->unk_id = 0;
	}
	if (now >= mb->next_reconnect && !mb->leaving)
		reconnect(mb, now);
	if (now >= mb->next_sweep) {
		mb->next_sweep = now + 5000;
		mb__sweep(mb, now);
	}
}

void
mb__recompute_deadline(struct mb *mb)
{
	int64_t d = NEVER;
	size_t i;

	for (i = 0; i < mb->ns; i++) {
		d = min64(d, mb->s[i].deadline);
		d = min64(d, mb->s[i].next_notice);
	}
	for (i = 0; i < RELAYS; i++)
		if (mb->relay[i].used)
			d = min64(d, mb->relay[i].nacked ? mb->relay[i].expire :
			    mb->relay[i].deadline);
	for (i = 0; i < PP_SESSIONS; i++)
		if (mb->pp[i].used)
			d = min64(d, mb->pp[i].deadline);
	if (mb->pr.phase != P_NONE)
		d = min64(d, mb->pr.deadline);
	else if (!mb->leaving)
		d = min64(d, mb->next_probe);
	d = min64(d, mb->next_gossip);
	d = min64(d, mb->next_pushpull);
	if (!mb->leaving)
		d = min64(d, mb->next_reconnect);
	d = min64(d, mb->next_sweep);
	if (mb->unk_id)
		d = min64(d, mb->unk_at);
	if (mb->heal_pp_at)
		d = min64(d, mb->heal_pp_at);
	if (mb->merge_pp_at)
		d = min64(d, mb->merge_pp_at);
	mb->deadline = d;
}
