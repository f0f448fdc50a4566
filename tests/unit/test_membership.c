/* test_membership.c - the membership core's transitions, incarnation rules,
 * piggyback limits and decoder bounds, on a hand-driven clock and network.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "net/membership.h"

#define MAXN	8
#define MAXQ	4096

struct dgram {
	int	from, to;
	size_t	len;
	uint8_t	buf[MB_MAX_DATAGRAM];
};

struct tnode {
	struct mb	*mb;
	uint64_t	id, rng;
	mb_addr		addr;
	int		idx;
	int		events[6];	/* count per mb_event_kind */
	uint64_t	last_id[6];
	size_t		maxlen;
};

static struct tnode	nodes[MAXN];
static struct dgram	q[MAXQ];
static int		nq, nnodes;
static int64_t		now;
static int		cut[MAXN];	/* a crashed node: drop to and from */

static void
mkaddr(int i, mb_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = MB_AF_INET;
	a->ip[0] = 127;
	a->ip[3] = (uint8_t)(i + 1);
	a->port = 7000;
}

static int
addr_idx(const mb_addr *a)
{
	return a->ip[3] - 1;
}

static void
t_send(void *ctx, const mb_addr *to, const uint8_t *buf, size_t len)
{
	struct tnode *n = ctx;

	cr_assert(len <= MB_MAX_PAYLOAD);
	if (len > n->maxlen)
		n->maxlen = len;
	if (nq == MAXQ)
		return;
	q[nq].from = n->idx;
	q[nq].to = addr_idx(to);
	q[nq].len = len;
	memcpy(q[nq].buf, buf, len);
	nq++;
}

static void
t_event(void *ctx, const struct mb_event *ev)
{
	struct tnode *n = ctx;

	n->events[ev->kind]++;
	n->last_id[ev->kind] = ev->id;
}

static uint64_t
t_random(void *ctx)
{
	struct tnode *n = ctx;
	uint64_t z = (n->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct tnode *
mknode(uint64_t id)
{
	struct tnode *n = &nodes[nnodes];
	struct mb_callbacks cb = { t_send, t_event, t_random, n };

	memset(n, 0, sizeof(*n));
	n->idx = nnodes++;
	n->id = id;
	n->rng = id;
	mkaddr(n->idx, &n->addr);
	cr_assert_eq(mb_create(&n->mb, NULL, id, &n->addr, &cb, now), 0);
	return n;
}

/* Deliver everything queued, including what the deliveries send. */
static void
flush(void)
{
	int i;

	for (i = 0; i < nq; i++) {
		struct dgram *d = &q[i];

		if (cut[d->to] || cut[d->from] || nodes[d->to].mb == NULL)
			continue;
		mb_receive(nodes[d->to].mb, now, &nodes[d->from].addr,
		    d->buf, d->len);
	}
	nq = 0;
}

/* Advance the clock to `until` in 10 ms steps, ticking and delivering. */
static void
run(int64_t until)
{
	int i;

	while (now < until) {
		now += 10;
		for (i = 0; i < nnodes; i++)
			if (nodes[i].mb && !cut[i] &&
			    mb_next_deadline(nodes[i].mb) <= now)
				mb_tick(nodes[i].mb, now);
		flush();
	}
}

static void
setup(void)
{
	memset(nodes, 0, sizeof(nodes));
	memset(cut, 0, sizeof(cut));
	nq = nnodes = 0;
	now = 1000;
}

static void
teardown(void)
{
	int i;

	for (i = 0; i < nnodes; i++)
		mb_free(nodes[i].mb);
}

static void
cluster(int n)
{
	int i;

	for (i = 0; i < n; i++)
		mknode(0x1000 + (uint64_t)i * 0x0101010101010101ULL);
	for (i = 1; i < n; i++) {
		mb_join(nodes[i].mb, now, &nodes[0].addr);
		flush();
	}
	run(now + 10000);
	for (i = 0; i < n; i++)
		cr_assert_eq(mb_listed(nodes[i].mb), (size_t)n,
		    "node %d lists %zu", i, mb_listed(nodes[i].mb));
}

static int
state_of(struct tnode *n, uint64_t id)
{
	struct mb_member_info mi;

	return mb_lookup(n->mb, id, &mi) == 0 ? (int)mi.state : 0;
}

static uint32_t
inc_of(struct tnode *n, uint64_t id)
{
	struct mb_member_info mi;

	return mb_lookup(n->mb, id, &mi) == 0 ? mi.incarnation : 0;
}

/* Hand one update to `to` as a gossip datagram from `from`. */
static void
inject(struct tnode *to, struct tnode *from, int kind, uint64_t id,
    uint32_t inc, const mb_addr *addr, uint64_t accuser)
{
	struct mb_msg m;
	uint8_t buf[MB_MAX_DATAGRAM];
	int len;

	memset(&m, 0, sizeof(m));
	m.type = MB_MSG_GOSSIP;
	m.sender = from->id;
	m.nupd = 1;
	m.upd[0].kind = (uint8_t)kind;
	m.upd[0].id = id;
	m.upd[0].inc = inc;
	m.upd[0].addr = *addr;
	m.upd[0].from = accuser;
	len = mb_encode(&m, buf, sizeof(buf));
	cr_assert_gt(len, 0);
	cr_assert_eq(mb_receive(to->mb, now, &from->addr, buf, (size_t)len), 0);
}

TestSuite(membership, .init = setup, .fini = teardown);

Test(membership, join_converges)
{
	cluster(5);
	cr_assert_eq(nodes[0].events[MB_EV_JOINED], 4);
}

Test(membership, crash_goes_suspect_then_dead)
{
	int i;

	cluster(4);
	cut[3] = 1;
	run(now + 20000);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(state_of(&nodes[i], nodes[3].id), MB_DEAD);
		cr_assert_eq(nodes[i].events[MB_EV_DEAD], 1);
		cr_assert_eq(mb_listed(nodes[i].mb), 3);
	}
	/* Someone suspected it before anyone declared it dead. */
	cr_assert_geq(nodes[0].events[MB_EV_SUSPECT] +
	    nodes[1].events[MB_EV_SUSPECT] + nodes[2].events[MB_EV_SUSPECT], 1);
}

Test(membership, suspect_refutes_with_higher_incarnation)
{
	uint32_t before;

	cluster(3);
	before = mb_incarnation(nodes[1].mb);
	/* Node 0 privately tells node 1 that it suspects it. */
	inject(&nodes[1], &nodes[0], MB_UPD_SUSPECT | MB_UPD_PRIVATE,
	    nodes[1].id, before, &nodes[1].addr, nodes[0].id);
	cr_assert_eq(mb_incarnation(nodes[1].mb), before + 1);
	flush();
	cr_assert_eq(inc_of(&nodes[0], nodes[1].id), before + 1);
	cr_assert_eq(state_of(&nodes[0], nodes[1].id), MB_ALIVE);
	/* A gossiped suspicion is refuted too, and the alive spreads. */
	inject(&nodes[2], &nodes[0], MB_UPD_SUSPECT, nodes[1].id, before + 1,
	    &nodes[1].addr, nodes[0].id);
	cr_assert_eq(state_of(&nodes[2], nodes[1].id), MB_SUSPECT);
	cr_assert_eq(nodes[2].events[MB_EV_SUSPECT], 1);
	run(now + 3000);
	cr_assert_eq(state_of(&nodes[2], nodes[1].id), MB_ALIVE);
	cr_assert_eq(nodes[2].events[MB_EV_ALIVE], 1);
	cr_assert_eq(nodes[2].events[MB_EV_DEAD], 0);
	cr_assert_eq(mb_incarnation(nodes[1].mb), before + 2);
}

Test(membership, incarnation_rules)
{
	struct tnode *a, *b, *c;
	mb_addr x;
	uint64_t xid = 0xabcdef;

	a = mknode(1);
	b = mknode(2);
	c = mknode(xid);	/* the member the news is about, at x */
	x = c->addr;
	inject(a, b, MB_UPD_ALIVE, xid, 5, &x, 0);
	cr_assert_eq(state_of(a, xid), MB_ALIVE);
	cr_assert_eq(a->events[MB_EV_JOINED], 1);
	/* Older news is ignored. */
	inject(a, b, MB_UPD_SUSPECT, xid, 4, &x, 2);
	cr_assert_eq(state_of(a, xid), MB_ALIVE);
	inject(a, b, MB_UPD_DEAD, xid, 4, &x, 0);
	cr_assert_eq(state_of(a, xid), MB_ALIVE);
	/* Suspect at the same incarnation wins over alive. */
	inject(a, b, MB_UPD_SUSPECT, xid, 5, &x, 2);
	cr_assert_eq(state_of(a, xid), MB_SUSPECT);
	/* Alive at the same incarnation does not clear it. */
	inject(a, b, MB_UPD_ALIVE, xid, 5, &x, 0);
	cr_assert_eq(state_of(a, xid), MB_SUSPECT);
	/* Dead at the same incarnation wins; stale alive cannot resurrect. */
	inject(a, b, MB_UPD_DEAD, xid, 5, &x, 0);
	cr_assert_eq(state_of(a, xid), MB_DEAD);
	cr_assert_eq(a->events[MB_EV_DEAD], 1);
	inject(a, b, MB_UPD_ALIVE, xid, 5, &x, 0);
	cr_assert_eq(state_of(a, xid), MB_DEAD);
	/* A higher incarnation from someone else, right after the death, may
	 * be a refutation sent just before a crash: a is not listed again,
	 * the member is asked (a private dead@5 notice to it; the last notice,
	 * for the stale alive@5 above, was a second ago). */
	now += 1000;
	nq = 0;
	inject(a, b, MB_UPD_ALIVE, xid, 6, &x, 0);
	cr_assert_eq(state_of(a, xid), MB_DEAD);
	cr_assert_eq(a->events[MB_EV_JOINED], 1);
	cr_assert_eq(nq, 1);
	cr_assert_eq(q[0].to, c->idx);
	/* The member itself saying so brings it back as a newly listed one. */
	inject(a, c, MB_UPD_ALIVE, xid, 6, &x, 0);
	cr_assert_eq(state_of(a, xid), MB_ALIVE);
	cr_assert_eq(a->events[MB_EV_JOINED], 2);
	/* After a death older than 20 s (a healed partition) anyone's word
	 * revives it at once. */
	inject(a, b, MB_UPD_DEAD, xid, 6, &x, 0);
	cr_assert_eq(state_of(a, xid), MB_DEAD);
	now += 20001;
	inject(a, b, MB_UPD_ALIVE, xid, 7, &x, 0);
	cr_assert_eq(state_of(a, xid), MB_ALIVE);
	cr_assert_eq(a->events[MB_EV_JOINED], 3);
}

Test(membership, leave_is_immediate_and_final)
{
	int i;
	uint64_t gone;

	cluster(4);
	gone = nodes[2].id;
	cr_assert_eq(mb_leave(nodes[2].mb, now), 0);
	cr_assert_eq(mb_leave(nodes[2].mb, now), -EALREADY);
	run(now + 500);
	for (i = 0; i < 4; i++) {
		if (i == 2)
			continue;
		cr_assert_eq(state_of(&nodes[i], gone), MB_LEFT);
		cr_assert_eq(nodes[i].events[MB_EV_LEFT], 1);
		cr_assert_eq(nodes[i].events[MB_EV_DEAD], 0);
	}
	run(now + 3000);
	cr_assert(mb_leave_done(nodes[2].mb, now));
	/* Stale alive news at the old incarnation is ignored. */
	inject(&nodes[0], &nodes[1], MB_UPD_ALIVE, gone,
	    mb_incarnation(nodes[2].mb), &nodes[2].addr, 0);
	cr_assert_eq(state_of(&nodes[0], gone), MB_LEFT);
}

Test(membership, rejoin_after_leave)
{
	uint32_t inc;

	cluster(3);
	inc = mb_incarnation(nodes[2].mb);
	mb_leave(nodes[2].mb, now);
	run(now + 3000);
	cr_assert_eq(state_of(&nodes[0], nodes[2].id), MB_LEFT);
	cr_assert_eq(mb_join(nodes[2].mb, now, &nodes[0].addr), 0);
	cr_assert_gt(mb_incarnation(nodes[2].mb), inc);
	run(now + 3000);
	cr_assert_eq(state_of(&nodes[0], nodes[2].id), MB_ALIVE);
	cr_assert_eq(state_of(&nodes[1], nodes[2].id), MB_ALIVE);
	cr_assert_eq(nodes[0].events[MB_EV_JOINED], 3);
}

Test(membership, restart_with_new_id_kills_old_self)
{
	struct tnode *r;
	mb_addr same;

	cluster(3);
	same = nodes[2].addr;
	cut[2] = 1;
	mb_free(nodes[2].mb);
	nodes[2].mb = NULL;
	cut[2] = 0;
	/* The restarted server: new ID, same address (slot 2 reused). */
	r = &nodes[2];
	{
		struct mb_callbacks cb = { t_send, t_event, t_random, r };

		r->id = 0x777;
		cr_assert_eq(mb_create(&r->mb, NULL, r->id, &same, &cb, now), 0);
	}
	mb_join(r->mb, now, &nodes[0].addr);
	run(now + 3000);
	cr_assert_eq(state_of(&nodes[0], 0x777), MB_ALIVE);
	cr_assert_eq(state_of(&nodes[0], 0x1000 + 2 * 0x0101010101010101ULL),
	    MB_DEAD);
	cr_assert_eq(state_of(&nodes[1], 0x1000 + 2 * 0x0101010101010101ULL),
	    MB_DEAD);
	cr_assert_eq(mb_listed(nodes[1].mb), 3);
}

Test(membership, confirmations_shorten_suspicion)
{
	struct tnode *a, *b, *s;
	mb_addr x;
	uint64_t xid = 0x5555;
	int64_t t0, dead_one = 0, dead_many = 0;

	a = mknode(1);
	b = mknode(2);
	s = mknode(3);
	mkaddr(7, &x);
	cut[7 - 1] = 0;
	inject(a, s, MB_UPD_ALIVE, xid, 1, &x, 0);
	inject(b, s, MB_UPD_ALIVE, xid, 1, &x, 0);
	t0 = now;
	inject(a, s, MB_UPD_SUSPECT, xid, 1, &x, 0x91);
	inject(b, s, MB_UPD_SUSPECT, xid, 1, &x, 0x91);
	inject(b, s, MB_UPD_SUSPECT, xid, 1, &x, 0x92);
	inject(b, s, MB_UPD_SUSPECT, xid, 1, &x, 0x93);
	inject(b, s, MB_UPD_SUSPECT, xid, 1, &x, 0x94);
	nq = 0;
	while (now < t0 + 10000 && (!dead_one || !dead_many)) {
		now += 10;
		mb_tick(a->mb, now);
		mb_tick(b->mb, now);
		nq = 0;
		if (!dead_one && state_of(a, xid) == MB_DEAD)
			dead_one = now - t0;
		if (!dead_many && state_of(b, xid) == MB_DEAD)
			dead_many = now - t0;
	}
	cr_assert_gt(dead_one, 0);
	cr_assert_gt(dead_many, 0);
	cr_assert_lt(dead_many, dead_one, "%lld vs %lld",
	    (long long)dead_many, (long long)dead_one);
}

Test(membership, piggyback_limits)
{
	struct tnode *a, *b;
	mb_addr x;
	int i, j, seen = 0, hot = 0;
	struct mb_msg m;

	a = mknode(1);
	b = mknode(2);
	inject(a, b, MB_UPD_ALIVE, b->id, 1, &b->addr, 0);
	/* 300 new members queue 300 updates at a: every datagram stays
	 * within the payload limit and each update is sent a bounded
	 * number of times. */
	for (i = 0; i < 300; i++) {
		mkaddr(10 + i, &x);
		x.port = (uint16_t)(7000 + i);
		inject(a, b, MB_UPD_ALIVE, 0x10000 + (uint64_t)i, 1, &x, 0);
	}
	nq = 0;
	for (j = 0; j < 400; j++) {
		now += 10;
		mb_tick(a->mb, now);
		for (i = 0; i < nq; i++) {
			int k;

			cr_assert_leq(q[i].len, MB_MAX_PAYLOAD);
			cr_assert_eq(mb_decode(q[i].buf, q[i].len, &m), 0);
			for (k = 0; k < m.nupd; k++)
				if (m.upd[k].id == 0x10000 + 7) {
					seen++;
					hot += m.type == MB_MSG_GOSSIP;
				}
		}
		nq = 0;
	}
	cr_assert_leq(a->maxlen, MB_MAX_PAYLOAD);
	/* limit = 4 * ceil(log10(N + 1)) = 12 at N = 302, three times
	 * that for news of a new member, in dedicated gossip; three times
	 * more riding on pings and acks. */
	cr_assert_gt(hot, 0);
	cr_assert_leq(hot, 36, "gossiped %d times", hot);
	cr_assert_leq(seen, 108, "sent %d times", seen);
}

/* ---- Decoder bounds */

static int
sample(uint8_t *buf)
{
	struct mb_msg m;
	int i;

	memset(&m, 0, sizeof(m));
	m.type = MB_MSG_PING_REQ;
	m.sender = 42;
	m.seq = 7;
	m.target = 43;
	mkaddr(3, &m.target_addr);
	m.nupd = 3;
	for (i = 0; i < 3; i++) {
		m.upd[i].kind = (uint8_t)(MB_UPD_ALIVE + i);
		m.upd[i].id = 100 + (uint64_t)i;
		m.upd[i].inc = 9;
		mkaddr(i, &m.upd[i].addr);
		m.upd[i].from = 5;
	}
	m.upd[2].addr.family = MB_AF_INET6;
	return mb_encode(&m, buf, MB_MAX_DATAGRAM);
}

Test(membership, decode_roundtrip)
{
	uint8_t buf[MB_MAX_DATAGRAM];
	struct mb_msg m;
	int len = sample(buf);

	cr_assert_gt(len, 0);
	cr_assert_eq(mb_decode(buf, (size_t)len, &m), 0);
	cr_assert_eq(m.type, MB_MSG_PING_REQ);
	cr_assert_eq(m.nupd, 3);
	cr_assert_eq(m.upd[1].from, 5);
	cr_assert_eq(m.upd[2].addr.family, MB_AF_INET6);
}

Test(membership, decode_truncated_and_trailing)
{
	uint8_t buf[MB_MAX_DATAGRAM + 8];
	struct mb_msg m;
	int len = sample(buf), i;

	for (i = 0; i < len; i++)
		cr_assert_lt(mb_decode(buf, (size_t)i, &m), 0, "prefix %d", i);
	buf[len] = 0;
	cr_assert_eq(mb_decode(buf, (size_t)len + 1, &m), -EBADMSG);
}

Test(membership, decode_bad_version_oversized_garbage)
{
	uint8_t buf[MB_MAX_DATAGRAM + 8];
	struct mb_msg m;
	int len = sample(buf), i;
	uint64_t r = 1;

	buf[0] = 2;
	cr_assert_eq(mb_decode(buf, (size_t)len, &m), -EPROTO);
	buf[0] = MB_VERSION;
	memset(buf + len, 0, sizeof(buf) - (size_t)len);
	cr_assert_eq(mb_decode(buf, MB_MAX_DATAGRAM + 1, &m), -EMSGSIZE);
	buf[1] = 99;
	cr_assert_eq(mb_decode(buf, (size_t)len, &m), -EBADMSG);
	/* Garbage after a valid header never parses as something else. */
	for (i = 0; i < 2000; i++) {
		size_t n = 10 + i % 200, j;

		for (j = 0; j < n; j++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			buf[j] = (uint8_t)(r >> 56);
		}
		buf[0] = MB_VERSION;
		(void)mb_decode(buf, n, &m);
	}
}

Test(membership, bad_datagrams_are_dropped_and_counted)
{
	struct tnode *a;
	struct mb_stats st;
	uint8_t buf[MB_MAX_DATAGRAM + 8];
	mb_addr from;
	int len;

	a = mknode(1);
	mkaddr(5, &from);
	len = sample(buf);
	cr_assert_eq(mb_receive(a->mb, now, &from, buf, (size_t)len - 1),
	    -EBADMSG);
	buf[0] = 9;
	cr_assert_eq(mb_receive(a->mb, now, &from, buf, (size_t)len),
	    -EBADMSG);
	cr_assert_eq(mb_receive(a->mb, now, &from, buf, MB_MAX_DATAGRAM + 1),
	    -EBADMSG);
	memset(buf, 0xff, 64);
	buf[0] = MB_VERSION;
	cr_assert_eq(mb_receive(a->mb, now, &from, buf, 64), -EBADMSG);
	mb_get_stats(a->mb, &st);
	cr_assert_eq(st.dropped, 4);
	cr_assert_eq(st.dropped_version, 1);
	cr_assert_eq(st.dropped_size, 2);
	cr_assert_eq(st.dropped_malformed, 1);
	cr_assert_eq(mb_listed(a->mb), 1);
}

Test(membership, id_string)
{
	char b[MB_ID_STRLEN];

	cr_assert_str_eq(mb_id_str(0x00ab, b), "X00000000000000ab");
}

/* A dead update goes lazy under a retransmit limit of 4 (8 listed), then two
 * newcomers raise the limit to 8 while it still rides on pings.  The old
 * piggyback() put it back on the hot list with its lazy flag set, and a later
 * unlink from the lazy list corrupted both lists (in the simulator a heap
 * use-after-free under ASan, "corrupted double-linked list" without).  The
 * crash itself needs a long run; mb_check() sees the broken invariant at
 * once (the old code fails it at step 41), and the churn afterwards keeps
 * renewing and unlinking the record under ASan in `make asan`. */
Test(membership, lazy_record_survives_growing_limit)
{
	struct tnode *a, *b;
	mb_addr x;
	int i, j;

	a = mknode(1);
	b = mknode(2);
	inject(a, b, MB_UPD_ALIVE, b->id, 1, &b->addr, 0);
	for (i = 0; i < 7; i++) {
		mkaddr(10 + i, &x);
		inject(a, b, MB_UPD_ALIVE, 0x10000 + (uint64_t)i, 1, &x, 0);
	}
	cr_assert_eq(mb_listed(a->mb), 9);
	/* Let the announcements go lazy (12 copies, three gossip datagrams
	 * of all of them every 100 ms); nothing is delivered. */
	for (j = 0; j < 60; j++) {
		now += 10;
		if (mb_next_deadline(a->mb) <= now)
			mb_tick(a->mb, now);
		nq = 0;
	}
	cr_assert_eq(mb_check(a->mb), 0);
	mkaddr(16, &x);
	inject(a, b, MB_UPD_DEAD, 0x10006, 1, &x, 0);
	cr_assert_eq(mb_listed(a->mb), 8);
	/* Two gossip rounds of three send it its 4 hot copies. */
	for (j = 0; j < 30; j++) {
		now += 10;
		if (mb_next_deadline(a->mb) <= now)
			mb_tick(a->mb, now);
		nq = 0;
		cr_assert_eq(mb_check(a->mb), 0);
	}
	for (i = 0; i < 2; i++) {
		mkaddr(20 + i, &x);
		inject(a, b, MB_UPD_ALIVE, 0x20000 + (uint64_t)i, 1, &x, 0);
	}
	cr_assert_eq(mb_listed(a->mb), 10);
	/* Pings carry the lazy record under the new limit of 8; then the
	 * member's record is renewed and the lists are walked again. */
	for (j = 0; j < 2000; j++) {
		now += 10;
		if (mb_next_deadline(a->mb) <= now)
			mb_tick(a->mb, now);
		nq = 0;
		cr_assert_eq(mb_check(a->mb), 0, "broken at step %d", j);
		if (j % 10 == 5)
			inject(a, b, j % 20 == 5 ? MB_UPD_ALIVE :
			    MB_UPD_DEAD, 0x10006, 2 + (uint32_t)j / 10, &x, 0);
	}
}

/* A death that arrives while a storm of other news has spent the gossip
 * budget still goes out at once, on its own small allowance: one gossip
 * round at full fanout.  Without it, it waited ~1 s for the shared budget
 * (a crash early in a partition took 5-18 s to reach its side). */
Test(membership, young_death_gossips_when_budget_spent)
{
	struct tnode *a, *b;
	struct mb_msg m;
	mb_addr x;
	int i, j, k, gossip = 0, carried = 0;

	cluster(3);
	run(now + 15000);	/* past a's first 20 s, which are unpaced */
	a = &nodes[0];
	b = &nodes[1];
	for (i = 0; i < 300; i++) {
		mkaddr(10 + i, &x);
		x.port = (uint16_t)(7000 + i);
		inject(a, b, MB_UPD_ALIVE, 0x10000 + (uint64_t)i, 1, &x, 0);
	}
	/* The 300 announcements spend the burst of 12 in 400 ms. */
	for (j = 0; j < 50; j++) {
		now += 10;
		if (mb_next_deadline(a->mb) <= now)
			mb_tick(a->mb, now);
		for (i = 0; i < nq; i++)
			gossip += q[i].from == 0 && q[i].buf[1] == MB_MSG_GOSSIP;
		nq = 0;
	}
	cr_assert_geq(gossip, 12, "gossiped %d datagrams", gossip);
	mkaddr(15, &x);
	x.port = 7005;
	inject(a, b, MB_UPD_DEAD, 0x10005, 1, &x, 0);
	gossip = 0;
	for (j = 0; j < 20; j++) {
		now += 10;
		if (mb_next_deadline(a->mb) <= now)
			mb_tick(a->mb, now);
		for (i = 0; i < nq; i++) {
			if (q[i].from != 0 || q[i].buf[1] != MB_MSG_GOSSIP)
				continue;
			gossip++;
			cr_assert_eq(mb_decode(q[i].buf, q[i].len, &m), 0);
			for (k = 0; k < m.nupd; k++)
				carried += m.upd[k].id == 0x10005 &&
				    m.upd[k].kind == MB_UPD_DEAD;
		}
		nq = 0;
		cr_assert_eq(mb_check(a->mb), 0);
	}
	cr_assert_geq(carried, 3, "the death went out in %d of %d gossip "
	    "datagrams within 200 ms", carried, gossip);
}
