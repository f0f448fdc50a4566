/* membership_update.c - the membership core's update rules: how an update
 * (gossiped, private or from a full state) changes the member table, how this
 * node refutes claims about itself, and which evidence it checks first.
 */
#include <string.h>

#include "net/membership_int.h"

/* Probe `id` soon: evidence against it arrived that we do not take on trust
 * (a full state's "dead", a death at an incarnation it refuted to us).  The
 * members to verify share the probes with the ring successor (next_target);
 * a missed death is repaired this way. */
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
	mb__send_private(mb, acc && acc->id != mb->id ? &acc->addr : from, &r);
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
	mb__send_private(mb, from, &u);
}

/* Someone other than m says alive@j about m, which we hold dead@i (i < j)
 * since only lately.  That may be a refutation m sent just before it crashed,
 * still going round after its death (SWIM's race: the death, at the older
 * incarnation, came first).  Applied, it listed a crashed member again.  Ask
 * m instead: a live m answers "dead@i" with a private alive@j (about_self),
 * which is applied; a dead one says nothing.  Once per member a second: the
 * next copy of the news asks again. */
static void
ask_revived(struct mb *mb, int64_t now, struct mb_member *m)
{
	struct mb_update u;

	if (now - m->last_notice < 1000)
		return;
	m->last_notice = now;
	mb__to_update(m, MB_UPD_DEAD | MB_UPD_PRIVATE, 0, &u);
	mb__send_private(mb, &m->addr, &u);
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
	mb__send_private(mb, &m->addr, &u);
}

/* Gossip revives a member we held dead: a partition has healed (or a false
 * death was refuted).  At N = 1,000 a heal is ~500 revivals per node,
 * spread by gossip at a paced ~250 update copies a second (~30 s), and a few
 * miss every copy until a reconnect, 15 s apart.  A full-state exchange with
 * a random member brings all that member knows at once: so the periodic one
 * is brought forward to HEAL_PP_MS after the last revival (the news has
 * quieted down), but no later than HEAL_PP_MAX after the first.  A node whose
 * revivals go on after that exchange does one more. */
static void
heal_seen(struct mb *mb, int64_t now)
{
	if (mb->heal_pp_at == 0)
		mb->heal_first = now;
	mb->heal_pp_at = now + HEAL_PP_MS;
	if (mb->heal_pp_at > mb->heal_first + HEAL_PP_MAX)
		mb->heal_pp_at = mb->heal_first + HEAL_PP_MAX;
}

/* Gossip told us of a member new to us.  Many of them at once, past our own
 * start, is another cluster merging with ours: its members come by gossip,
 * each a hot update sent 3L times by every node, ~48 s at N = 1,000.  One
 * full-state exchange with one of the newcomers brings them all at once
 * (and ours to it). */
static void
new_seen(struct mb *mb, int64_t now, const struct mb_member *m)
{
	if (now < mb->pace_from || now < mb->merge_pp_next)
		return;
	if (now - mb->new_since > MERGE_MS) {
		mb->new_since = now;
		mb->nnew = 0;
	}
	if (++mb->nnew < MERGE_NEW)
		return;
	mb->merge_pp_at = now;
	mb->merge_pp_addr = m->addr;
	mb->merge_pp_next = now + MERGE_PP_MS;
}

void
mb__apply(struct mb *mb, int64_t now, const struct mb_update *u,
    const mb_addr *from, uint64_t sender, int merge)
{
	int kind = u->kind & ~MB_UPD_PRIVATE, was_dead, fresh = 0, listed;
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
		/* A raised incarnation of a member we list is no news to
		 * those that list it: it rides lazily (mb__queue_lazy). */
		listed = m != NULL && mb__listed(m);
		if (m == NULL) {
			if ((m = mb__add(mb, u, MB_ALIVE, now)) == NULL)
				return;
			mb__emit(mb, MB_EV_JOINED, m);
			fresh = 1;
			if (merge != MB_FROM_STATE)
				new_seen(mb, now, m);
		} else if (u->inc > m->inc) {
			if (m->state == MB_DEAD && sender != m->id &&
			    now - m->since < mb->cfg.revive_check) {
				ask_revived(mb, now, m);
				return;
			}
			if (m->state == MB_DEAD && merge != MB_FROM_STATE)
				heal_seen(mb, now);
			m->inc = u->inc;
			if (!mb_addr_eq(&m->addr, &u->addr)) {
				m->addr = u->addr;
				mb__rehash(mb, mb->n);
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
		while ((old = mb__find_addr(mb, &m->addr, m->id)) != NULL)
			mb__set_state(mb, old, MB_DEAD, now);
		if (!(u->kind & MB_UPD_PRIVATE) || was_dead) {
			if (listed)
				mb__queue_lazy(mb, m, MB_UPD_ALIVE);
			else
				mb__queue(mb, m, MB_UPD_ALIVE, 0);
		}
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
			mb__add(mb, u, kind == MB_UPD_DEAD ? MB_DEAD : MB_LEFT, now);
			return;
		}
		if (u->inc < m->inc && mb__listed(m) && kind == MB_UPD_DEAD &&
		    !merge) {
			/* Someone saw it die at an incarnation it has since
			 * refuted to us alone: check for ourselves, now. */
			mb__verify(mb, m->id);
			if (mb->next_probe > now)
				mb->next_probe = now;
			mb->verify_now = 1;	/* not the ring's turn */
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
