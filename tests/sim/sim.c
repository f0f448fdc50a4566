/* sim.c - circuit-sim: N membership cores over a fake clock and a fake
 * network, deterministic for a given seed.
 *
 *   circuit-sim --nodes N --seconds S --seed K [--loss P] [--slow FRACTION]
 *               [--crash M] [--partition-at T --heal-at T2] [--merge]
 *               [--leave M] [--restart M] [--latency-ms L] [--slow-ms D]
 *               [--join-gap-ms G] [--check]
 *
 * Everything happens on one event heap: datagram deliveries, each core's
 * next deadline and the scenario (joins, crashes, leaves, restarts, the
 * partition and its heal, the merge of two clusters).  At the end it prints
 * one JSON object; with --check it also exits 1 and says why when the run
 * misses what the CI asserts.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/membership.h"
#include "tests/sim/sim.h"

static struct sim S;

/* ---- Deterministic randomness: splitmix64, one stream per core and one
 * for the network and the scenario. */

uint64_t
sim_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
unif(void)
{
	return (double)(sim_rand(&S.rng) >> 11) / 9007199254740992.0;
}

/* ---- The event heap, ordered by time then by insertion. */

static void
push(int64_t t, int type, int node, uint32_t gen, struct pkt *p)
{
	struct ev e = { t, S.evseq++, type, node, gen, p }, x;
	size_t i, up;

	if (S.nheap == S.heapcap) {
		S.heapcap = S.heapcap ? S.heapcap * 2 : 4096;
		S.heap = realloc(S.heap, S.heapcap * sizeof(*S.heap));
		if (S.heap == NULL)
			abort();
	}
	i = S.nheap++;
	S.heap[i] = e;
	while (i > 0) {
		up = (i - 1) / 2;
		if (S.heap[up].t < S.heap[i].t || (S.heap[up].t == S.heap[i].t &&
		    S.heap[up].seq < S.heap[i].seq))
			break;
		x = S.heap[up];
		S.heap[up] = S.heap[i];
		S.heap[i] = x;
		i = up;
	}
}

static int
before(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static struct ev
pop(void)
{
	struct ev top = S.heap[0], x;
	size_t i = 0, l, r, m;

	S.heap[0] = S.heap[--S.nheap];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < S.nheap && before(&S.heap[l], &S.heap[m]))
			m = l;
		if (r < S.nheap && before(&S.heap[r], &S.heap[m]))
			m = r;
		if (m == i)
			break;
		x = S.heap[m];
		S.heap[m] = S.heap[i];
		S.heap[i] = x;
		i = m;
	}
	return top;
}

/* ---- Nodes */

static void
node_addr(int i, mb_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = MB_AF_INET;
	a->ip[0] = 10;
	a->ip[1] = (uint8_t)(i >> 16);
	a->ip[2] = (uint8_t)(i >> 8);
	a->ip[3] = (uint8_t)i;
	a->port = 7946;
}

static int
addr_node(const mb_addr *a)
{
	int i = a->ip[1] << 16 | a->ip[2] << 8 | a->ip[3];

	return a->family == MB_AF_INET && a->ip[0] == 10 && i < S.n ? i : -1;
}

static void
schedule(struct node *nd)
{
	int64_t d = mb_next_deadline(nd->mb), t;

	if (!nd->up || d == INT64_MAX)
		return;
	t = d * 1000;
	if (t <= S.now)
		t = S.now;
	if (nd->timer_pending && nd->timer_at <= t)
		return;
	nd->timer_pending = 1;
	nd->timer_at = t;
	push(t, EV_TIMER, nd->idx, ++nd->timer_gen, NULL);
}

static int
partitioned(int a, int b)
{
	return S.part_active && S.nodes[a].side != S.nodes[b].side;
}

static void
cb_send(void *ctx, const mb_addr *to, const uint8_t *buf, size_t len)
{
	struct node *nd = ctx;
	int dst = addr_node(to);
	struct pkt *p;
	int64_t lat;

	if (S.verbose && len > 1 && buf[1] < 8 && S.now / 10000000 < 256)
		S.hist[S.now / 10000000][buf[1]]++;
	if (S.now >= S.stat_from) {
		S.sent++;
		S.sent_bytes += len;
		if (len > 1 && buf[1] < 8)
			S.sent_type[buf[1]]++;
	}
	if (dst < 0 || unif() < S.loss || partitioned(nd->idx, dst))
		return;
	lat = (int64_t)(S.lat_us * (0.3 + 1.4 * unif()));
	if (S.nodes[dst].slow)
		lat += (int64_t)(S.slow_us * unif());
	p = malloc(sizeof(*p) + len);
	if (p == NULL)
		abort();
	p->from = nd->idx;
	p->len = len;
	memcpy(p->data, buf, len);
	push(S.now + lat, EV_DELIVER, dst, 0, p);
}

static uint64_t
cb_random(void *ctx)
{
	struct node *nd = ctx;

	return sim_rand(&nd->rng);
}

static void
cb_event(void *ctx, const struct mb_event *ev)
{
	struct node *nd = ctx;
	struct life *v = sim_life(ev->id);

	if (S.verbose > 1)
		fprintf(stderr, "%.3f node %d event %d about %d\n", S.now / 1e6,
		    nd->idx, ev->kind, v ? v->node : -1);
	switch (ev->kind) {
	case MB_EV_JOINED:
		if (S.verbose && v && v->gone_at >= 0)
			fprintf(stderr, "%.3f node %d (side %d) lists departed %d "
			    "(side %d, gone %.2f) at incarnation %u\n", S.now / 1e6,
			    nd->idx, nd->side, v->node, S.nodes[v->node].side,
			    v->gone_at / 1e6, ev->incarnation);
		sim_listed(nd, v, +1);
		break;
	case MB_EV_SUSPECT:
		S.suspect_events++;
		if (v && v->gone_at >= 0 && v->suspect_at < 0)
			v->suspect_at = S.now;
		break;
	case MB_EV_DEAD:
	case MB_EV_LEFT:
		sim_listed(nd, v, -1);
		if (v == NULL)
			break;
		if (v->gone_at >= 0) {
			if (v->dead_at < 0)
				v->dead_at = S.now;
			sim_detected(v, nd);
		} else if (ev->kind == MB_EV_DEAD &&
		    !sim_excused(nd->idx, v->node)) {
			S.false_death_events++;
			if (!v->falsely_dead) {
				v->falsely_dead = 1;
				S.false_deaths++;
			}
			if (S.verbose)
				fprintf(stderr, "%.3f false death of %d by %d\n",
				    S.now / 1e6, v->node, nd->idx);
		}
		break;
	default:
		break;
	}
}

static void
start_node(int i)
{
	struct node *nd = &S.nodes[i];
	struct mb_callbacks cb = { cb_send, cb_event, cb_random, nd };
	uint64_t id;
	int rc;

	do
		id = sim_rand(&S.rng);
	while (id == 0 || sim_life(id) != NULL);
	nd->idx = i;
	nd->rng = S.seed * 0x9e3779b97f4a7c15ULL ^ id;
	node_addr(i, &nd->addr);
	rc = mb_create(&nd->mb, &S.cfg, id, &nd->addr, &cb, S.now / 1000);
	if (rc < 0) {
		fprintf(stderr, "mb_create: %s\n", strerror(-rc));
		exit(2);
	}
	nd->id = id;
	nd->life = sim_new_life(id, i);
	nd->up = 1;
	nd->nright = nd->nwrong = 0;
	nd->full = 0;
	nd->timer_pending = 0;
	S.nup++;
	sim_recount();
	schedule(nd);
}

static void
stop_node(int i)
{
	struct node *nd = &S.nodes[i];

	nd->up = 0;
	if (nd->life->gone_at < 0)
		nd->life->gone_at = S.now;
	S.nup--;
	mb_free(nd->mb);
	nd->mb = NULL;
	sim_observer_gone(nd);
	sim_recount();
}

static void
join_node(int i, int via)
{
	struct node *nd = &S.nodes[i];

	mb_join(nd->mb, S.now / 1000, &S.nodes[via].addr);
	schedule(nd);
}

static int
random_up(int lo, int hi, int not)
{
	int i, tries;

	for (tries = 0; tries < 1000; tries++) {
		i = lo + (int)(sim_rand(&S.rng) % (uint64_t)(hi - lo));
		if (S.nodes[i].up && i != not && !S.nodes[i].leaving)
			return i;
	}
	return -1;
}

static void
control(int what, int i)
{
	struct node *nd = &S.nodes[i];
	int lo;

	switch (what) {
	case C_START:
		start_node(i);
		lo = S.merge && i >= S.n / 2 ? S.n / 2 : 0;
		if (i != lo)
			join_node(i, lo + (int)(sim_rand(&S.rng) %
			    (uint64_t)(i - lo)));
		break;
	case C_CRASH:
		if ((i = random_up(0, S.n, -1)) >= 0) {
			sim_crash_begin(&S.nodes[i]);
			stop_node(i);
		}
		break;
	case C_LEAVE:
		if ((i = random_up(0, S.n, -1)) >= 0) {
			nd = &S.nodes[i];
			nd->leaving = 1;
			sim_crash_begin(nd);
			mb_leave(nd->mb, S.now / 1000);
			schedule(nd);
		}
		break;
	case C_RESTART:
		if ((i = random_up(0, S.n, -1)) >= 0) {
			sim_crash_begin(&S.nodes[i]);
			stop_node(i);
			push(S.now + 5000000, EV_CONTROL, i, C_REJOIN, NULL);
		}
		break;
	case C_REJOIN:
		start_node(i);
		if ((lo = random_up(0, S.n, i)) >= 0)
			join_node(i, lo);
		break;
	case C_PARTITION:
		S.part_active = 1;
		S.part_ever = 1;
		break;
	case C_HEAL:
		S.part_active = 0;
		S.heal_t = S.now;
		sim_recount();
		break;
	case C_DIAG:
		sim_diag();
		break;
	case C_MERGE:
		S.merged = 1;
		S.merge_t = S.now;
		sim_recount();
		join_node(S.n / 2, 0);
		break;
	}
}

static void
deliver(struct ev *e)
{
	struct node *nd = &S.nodes[e->node];
	mb_addr from;

	if (nd->up) {
		node_addr(e->p->from, &from);
		mb_receive(nd->mb, S.now / 1000, &from, e->p->data, e->p->len);
		schedule(nd);
	}
	free(e->p);
}

static void
timer(struct ev *e)
{
	struct node *nd = &S.nodes[e->node];

	if (!nd->up || e->gen != nd->timer_gen)
		return;
	nd->timer_pending = 0;
	mb_tick(nd->mb, S.now / 1000);
	/* Sample the core's invariants: O(N) each, so one tick in 512. */
	if (S.check && (S.events & 511) == 0 && mb_check(nd->mb) < 0) {
		S.bad_state++;
		if (S.verbose)
			fprintf(stderr, "%.3f node %d: broken invariant\n",
			    S.now / 1e6, nd->idx);
	}
	if (mb_next_deadline(nd->mb) * 1000 <= S.now) {
		/* A core must move its deadline past now once ticked. */
		nd->timer_pending = 1;
		nd->timer_at = S.now + 1000;
		push(nd->timer_at, EV_TIMER, nd->idx, ++nd->timer_gen, NULL);
	} else
		schedule(nd);
	if (nd->leaving && mb_leave_done(nd->mb, S.now / 1000))
		stop_node(nd->idx);
}

static void
usage(void)
{
	fprintf(stderr, "usage: circuit-sim --nodes N --seconds S --seed K "
	    "[--loss P] [--slow FRACTION] [--crash M] [--partition-at T "
	    "--heal-at T2] [--merge] [--leave M] [--restart M] "
	    "[--latency-ms L] [--slow-ms D] [--join-gap-ms G] [--check] "
	    "[--verbose]\n");
	exit(2);
}

static void
parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", 1, 0, 'n' }, { "seconds", 1, 0, 's' },
		{ "seed", 1, 0, 'k' }, { "loss", 1, 0, 'l' },
		{ "slow", 1, 0, 'w' }, { "crash", 1, 0, 'c' },
		{ "partition-at", 1, 0, 'p' }, { "heal-at", 1, 0, 'h' },
		{ "merge", 0, 0, 'm' }, { "leave", 1, 0, 'L' },
		{ "restart", 1, 0, 'R' }, { "latency-ms", 1, 0, 'a' },
		{ "slow-ms", 1, 0, 'D' }, { "join-gap-ms", 1, 0, 'g' },
		{ "check", 0, 0, 'C' }, { "verbose", 0, 0, 'v' },
		{ "probe-ms", 1, 0, 'P' },
		{ 0, 0, 0, 0 }
	};
	int c;

	S.n = 100;
	S.seconds = 120;
	S.lat_us = 1000;
	S.slow_us = 300000;
	S.join_gap_us = -1;
	S.part_at = S.heal_at = -1;
	mb_config_default(&S.cfg);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': S.n = atoi(optarg); break;
		case 's': S.seconds = atof(optarg); break;
		case 'k': S.seed = strtoull(optarg, NULL, 0); break;
		case 'l': S.loss = atof(optarg); break;
		case 'w': S.slow = atof(optarg); break;
		case 'c': S.ncrash = atoi(optarg); break;
		case 'p': S.part_at = atof(optarg); break;
		case 'h': S.heal_at = atof(optarg); break;
		case 'm': S.merge = 1; break;
		case 'L': S.nleave = atoi(optarg); break;
		case 'R': S.nrestart = atoi(optarg); break;
		case 'a': S.lat_us = (int64_t)(atof(optarg) * 1000); break;
		case 'D': S.slow_us = (int64_t)(atof(optarg) * 1000); break;
		case 'g': S.join_gap_us = (int64_t)(atof(optarg) * 1000); break;
		case 'C': S.check = 1; break;
		case 'v': S.verbose++; break;
		case 'P': S.cfg.probe_interval = atoi(optarg); break;
		default: usage();
		}
	}
	if (S.n < 2 || S.seconds <= 0 || (S.part_at >= 0) != (S.heal_at >= 0) ||
	    S.loss < 0 || S.loss >= 1 || S.slow < 0 || S.slow > 1)
		usage();
	if (S.join_gap_us < 0)
		S.join_gap_us = 10000;
}

/* Crashes, leaves and restarts are spread evenly over the part of the run
 * after the joins have settled and before its last 20 seconds. */
static void
plan(void)
{
	int i, total = S.ncrash + S.nleave + S.nrestart, kind;
	int64_t t0, t1, t;

	S.join_end = (int64_t)(S.n - 1) * S.join_gap_us;
	for (i = 0; i < S.n; i++) {
		S.nodes[i].slow = unif() < S.slow;
		S.nodes[i].side = i >= S.n / 2;
		push(S.merge && i >= S.n / 2 ?
		    (int64_t)(i - S.n / 2) * S.join_gap_us * 2 :
		    (int64_t)i * S.join_gap_us * (S.merge ? 2 : 1),
		    EV_CONTROL, i, C_START, NULL);
	}
	if (S.merge)
		S.join_end = (int64_t)(S.n / 2 - 1) * S.join_gap_us * 2;
	S.stat_from = S.join_end + 20000000;
	if (S.merge) {
		push(S.join_end + 20000000, EV_CONTROL, 0, C_MERGE, NULL);
		S.stat_from = S.join_end + 60000000;
	}
	if (S.part_at >= 0) {
		push((int64_t)(S.part_at * 1e6), EV_CONTROL, 0, C_PARTITION,
		    NULL);
		push((int64_t)(S.heal_at * 1e6), EV_CONTROL, 0, C_HEAL, NULL);
		if (S.verbose)
			push((int64_t)((S.heal_at + 30) * 1e6), EV_CONTROL, 0,
			    C_DIAG, NULL);
	}
	t0 = S.join_end + 20000000;
	t1 = (int64_t)(S.seconds * 1e6) - 20000000;
	for (i = 0; i < total && t1 > t0; i++) {
		t = t0 + (t1 - t0) * i / total + (int64_t)(unif() * 1e6);
		kind = i % 3 == 0 && S.ncrash ? C_CRASH : 0;
		if (!kind)
			kind = S.nleave && i % 3 == 1 ? C_LEAVE :
			    S.nrestart && i % 3 == 2 ? C_RESTART : C_CRASH;
		push(t, EV_CONTROL, 0, kind, NULL);
	}
	if (S.stat_from >= (int64_t)(S.seconds * 1e6))
		S.stat_from = 0;
}

int
main(int argc, char **argv)
{
	struct timespec c0, c1;
	struct ev e;
	int64_t end;

	parse(argc, argv);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	S.rng = S.seed ^ 0x5eed5eed5eedULL;
	S.nodes = calloc((size_t)S.n, sizeof(*S.nodes));
	if (S.nodes == NULL)
		return 2;
	sim_init_tracking();
	plan();
	end = (int64_t)(S.seconds * 1e6);
	while (S.nheap > 0 && S.heap[0].t <= end) {
		e = pop();
		sim_account(e.t);
		S.now = e.t;
		S.events++;
		switch (e.type) {
		case EV_DELIVER: deliver(&e); break;
		case EV_TIMER: timer(&e); break;
		case EV_CONTROL: control((int)e.gen, e.node); break;
		}
	}
	sim_account(end);
	S.now = end;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	S.cpu_s = (double)(c1.tv_sec - c0.tv_sec) +
	    (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	if (S.verbose) {
		int w, k;

		for (w = 0; w < 256 && w * 10.0 < S.seconds; w++) {
			fprintf(stderr, "t=%3d s:", w * 10);
			for (k = 1; k < 8; k++)
				fprintf(stderr, " %6.2f", S.hist[w][k] / 10.0 /
				    (S.nup ? S.nup : 1));
			fprintf(stderr, "\n");
		}
	}
	return sim_report();
}

struct sim *
sim_state(void)
{
	return &S;
}

double
sim_unif(void)
{
	return unif();
}
