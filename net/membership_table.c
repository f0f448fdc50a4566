/* membership_table.c - the membership core's member table: an array of
 * members indexed by ID and by address, the probe order, state changes and
 * the events they raise, and the sweep of old tombstones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/membership_int.h"

/* ---- The member table: an array indexed by two open-addressing tables, one
 * by ID and one by address (restarts are recognized by address).  Removal is
 * rare (tombstone expiry), so it rebuilds both tables. */

/* Alive and suspect members are listed; dead and departed ones are
 * tombstones. */
int
mb__listed(const struct mb_member *m)
{
	return m->state == MB_ALIVE || m->state == MB_SUSPECT;
}

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

int
mb__rehash(struct mb *mb, size_t want)
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
struct mb_member *
mb__find_addr(struct mb *mb, const mb_addr *addr, uint64_t not)
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

struct mb_member *
mb__add(struct mb *mb, const struct mb_update *u, int state, int64_t now)
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
	if ((mb->n + 1) * 2 > mb->nslot && mb__rehash(mb, mb->n + 1) < 0)
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

void
mb__emit(struct mb *mb, int kind, const struct mb_member *m)
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
		mb__emit(mb, state == MB_LEFT ? MB_EV_LEFT : MB_EV_DEAD, m);
	} else if (!was && mb__listed(m)) {
		m->revived_at = now;
		mb->listed++;
		mb->ring_dirty = 1;
		order_add(mb, m);
		mb__emit(mb, MB_EV_JOINED, m);
		if (state == MB_SUSPECT)
			mb__emit(mb, MB_EV_SUSPECT, m);
	} else if (was && state != old) {
		mb__emit(mb, state == MB_SUSPECT ? MB_EV_SUSPECT : MB_EV_ALIVE, m);
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
				TAILQ_REMOVE(mb__bcastq(mb, m->bc), m->bc, q);
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
		mb__rehash(mb, mb->n);
	}
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
