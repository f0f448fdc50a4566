/* track.c - what the simulator measures: who lists whom (from the cores'
 * events), when each crash or leave has reached every live node, false
 * deaths, traffic, and the JSON report.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

static struct life	**lives;
static size_t		 nlives, livecap;
static struct life	**lmap;		/* id -> life, open addressing */
static size_t		 lmapcap;
static int		 cluster_up[2];

static size_t
lhash(uint64_t id)
{
	id ^= id >> 31;
	id *= 0x7fb5d329728ea185ULL;
	return (size_t)(id ^ (id >> 27)) & (lmapcap - 1);
}

void
sim_init_tracking(void)
{
	struct sim *s = sim_state();

	lmapcap = 1024;
	while (lmapcap < (size_t)s->n * 8)
		lmapcap <<= 1;
	lmap = calloc(lmapcap, sizeof(*lmap));
	if (lmap == NULL)
		abort();
	s->converged_at = s->healed_at = s->merged_at = -1;
	s->heal_t = -1;
}

struct life *
sim_life(uint64_t id)
{
	size_t h;

	for (h = lhash(id); lmap[h]; h = (h + 1) & (lmapcap - 1))
		if (lmap[h]->id == id)
			return lmap[h];
	return NULL;
}

struct life *
sim_new_life(uint64_t id, int node)
{
	struct life *v = calloc(1, sizeof(*v));
	size_t h;

	if (v == NULL || nlives * 2 >= lmapcap)
		abort();
	v->id = id;
	v->node = node;
	v->gone_at = -1;
	v->done_at = -1;
	v->suspect_at = v->dead_at = -1;
	if (nlives == livecap) {
		livecap = livecap ? livecap * 2 : 1024;
		lives = realloc(lives, livecap * sizeof(*lives));
		if (lives == NULL)
			abort();
	}
	lives[nlives++] = v;
	for (h = lhash(id); lmap[h]; h = (h + 1) & (lmapcap - 1))
		;
	lmap[h] = v;
	return v;
}

static double		*pairs;		/* detection delay per (observer, crash) */
static size_t		 npairs, paircap;

static int
live(const struct node *nd)
{
	return nd->up && nd->life->gone_at < 0;
}

/* How many peers node `nd` should list: the live nodes of its own cluster
 * before a --merge, every live node otherwise. */
static int
should_list(const struct node *nd)
{
	struct sim *s = sim_state();

	if (s->merge && !s->merged)
		return cluster_up[nd->side] - 1;
	return s->nlive - 1;
}

static void
milestones(void)
{
	struct sim *s = sim_state();

	if (s->nfull != s->nlive)
		return;
	if (s->converged_at < 0 && s->now >= s->join_end)
		s->converged_at = s->now;
	if (s->merged && s->merged_at < 0)
		s->merged_at = s->now;
	if (s->heal_t >= 0 && s->healed_at < 0 && !s->part_active)
		s->healed_at = s->now;
}

/* A node is full when the identities it lists are exactly the live peers:
 * every live one, no departed one.  Counts alone would call a node that
 * lists one dead member and misses one live one converged. */
static void
refull(struct node *nd)
{
	struct sim *s = sim_state();
	int full = live(nd) && nd->nwrong == 0 &&
	    nd->nright == should_list(nd);

	if (full != nd->full) {
		s->nfull += full ? 1 : -1;
		nd->full = full;
	}
}

/* Node `nd` started (+1) or stopped (-1) listing life `v`. */
void
sim_listed(struct node *nd, struct life *v, int delta)
{
	struct sim *s = sim_state();

	if (v == NULL)
		return;
	if (v->gone_at < 0)
		nd->nright += delta;
	else {
		nd->nwrong += delta;
		if (delta < 0 && v->dropped)
			v->dropped[nd->idx] = 1;
		if (delta > 0 && v->dropped && v->dropped[nd->idx] &&
		    !s->nodes[v->node].leaving) {
			/* It was dropped here after its crash: listing it
			 * again is a resurrection. */
			s->relisted++;
			if (s->verbose)
				fprintf(stderr, "%.3f node %d lists crashed %d "
				    "again\n", s->now / 1e6, nd->idx, v->node);
		}
	}
	refull(nd);
	milestones();
}

void
sim_recount(void)
{
	struct sim *s = sim_state();
	int i;

	cluster_up[0] = cluster_up[1] = 0;
	s->nlive = 0;
	for (i = 0; i < s->n; i++)
		if (live(&s->nodes[i])) {
			cluster_up[s->nodes[i].side]++;
			s->nlive++;
		}
	for (i = 0; i < s->n; i++)
		refull(&s->nodes[i]);
	milestones();
}

static void
mark(struct life *v, int i, int detected)
{
	struct sim *s = sim_state();
	int64_t from = v->gone_at;

	if (v->marked[i])
		return;
	v->marked[i] = 1;
	if (detected && !(s->nodes[v->node].leaving &&
	    s->nodes[v->node].life == v)) {
		/* An observer cut off from the crash by a partition can only
		 * learn of it once the partition heals. */
		if (v->cut && s->nodes[i].side != s->nodes[v->node].side)
			from = s->heal_t >= v->gone_at ? s->heal_t : s->now;
		if (npairs == paircap) {
			paircap = paircap ? paircap * 2 : 1024;
			pairs = realloc(pairs, paircap * sizeof(*pairs));
			if (pairs == NULL)
				abort();
		}
		pairs[npairs++] = s->now > from ? (double)(s->now - from) / 1e6 :
		    0;
		if (s->verbose && s->now - from > 5000000)
			fprintf(stderr, "slow: node %d (side %d) saw %d (side "
			    "%d, gone %.2f%s) after %.2f s\n", i,
			    s->nodes[i].side, v->node, s->nodes[v->node].side,
			    v->gone_at / 1e6, v->cut ? ", cut" : "",
			    (s->now - from) / 1e6);
	}
	if (--v->remaining == 0) {
		v->done_at = s->now;
		if (s->verbose && v->done_at - v->gone_at > 10000000)
			fprintf(stderr, "late: node %d (slow %d) saw %d gone "
			    "after %.1f s\n", i, s->nodes[i].slow, v->node,
			    (v->done_at - v->gone_at) / 1e6);
	}
}

/* The nodes that list the departing life now are the ones that must notice
 * it is gone; the others are marked already. */
void
sim_crash_begin(struct node *nd)
{
	struct sim *s = sim_state();
	struct life *v = nd->life;
	struct mb_member_info mi;
	struct node *o;
	int i, lists;

	v->gone_at = s->now;
	v->cut = s->part_active;
	v->marked = calloc((size_t)s->n, 1);
	v->dropped = calloc((size_t)s->n, 1);
	if (v->marked == NULL || v->dropped == NULL)
		abort();
	v->remaining = 0;
	for (i = 0; i < s->n; i++) {
		o = &s->nodes[i];
		lists = o != nd && o->up && mb_lookup(o->mb, v->id, &mi) == 0 &&
		    (mi.state == MB_ALIVE || mi.state == MB_SUSPECT);
		if (lists) {
			o->nright--;
			o->nwrong++;
		}
		if (!lists || o->leaving)
			v->marked[i] = 1;
		else
			v->remaining++;
	}
	if (v->remaining == 0)
		v->done_at = s->now;
	sim_recount();
}

void
sim_detected(struct life *v, struct node *observer)
{
	if (v->marked && v->done_at < 0)
		mark(v, observer->idx, 1);
}

void
sim_observer_gone(struct node *nd)
{
	size_t i;

	for (i = 0; i < nlives; i++)
		if (lives[i]->marked && lives[i]->done_at < 0)
			mark(lives[i], nd->idx, 0);
}

/* A death is expected only across a partition while it lasts; suspicions
 * still running at the heal must not end in a death. */
int
sim_excused(int declarer, int victim)
{
	struct sim *s = sim_state();

	if (s->nodes[victim].leaving)
		return 1;
	return s->part_active &&
	    s->nodes[declarer].side != s->nodes[victim].side;
}

/* --verbose: who does not list exactly the live peers, and how they
 * disagree (printed 30 s after a heal). */
void
sim_diag(void)
{
	struct sim *s = sim_state();
	struct mb_member_info mi;
	struct node *o, *p;
	int i, j, shown = 0;

	for (i = 0; i < s->n && shown < 10; i++) {
		o = &s->nodes[i];
		if (!live(o) || o->full)
			continue;
		shown++;
		fprintf(stderr, "%.3f diag: node %d (side %d, inc %u) lists %d "
		    "of %d, %d departed\n", s->now / 1e6, i, o->side,
		    mb_incarnation(o->mb), o->nright, should_list(o), o->nwrong);
		for (j = 0; j < s->n; j++) {
			p = &s->nodes[j];
			if (p == o || !live(p))
				continue;
			if (mb_lookup(o->mb, p->id, &mi) < 0)
				fprintf(stderr, "   misses %d: unknown\n", j);
			else if (mi.state != MB_ALIVE && mi.state != MB_SUSPECT)
				fprintf(stderr, "   misses %d (side %d, inc %u):"
				    " state %d inc %u\n", j, p->side,
				    mb_incarnation(p->mb), mi.state,
				    mi.incarnation);
		}
	}
}

void
sim_account(int64_t t)
{
	struct sim *s = sim_state();
	int64_t from = s->last_account > s->stat_from ? s->last_account :
	    s->stat_from;

	if (t > from)
		s->node_seconds += (double)s->nup * (double)(t - from) / 1e6;
	s->last_account = t;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static json_t *
secs_or_null(int64_t at, int64_t from)
{
	return at >= 0 ? json_real((double)(at - from) / 1e6) : json_null();
}

int
sim_report(void)
{
	struct sim *s = sim_state();
	json_t *o = json_object();
	double *d = calloc(nlives + 1, sizeof(*d)), *lv = calloc(nlives + 1,
	    sizeof(*lv));
	size_t nd = 0, nl = 0, i, undetected = 0, undetected_pairs = 0;
	uint64_t dropped = 0, suspicions = 0, refutations = 0;
	struct mb_stats st;
	char *txt;
	int fail = 0;

	for (i = 0; i < nlives; i++) {
		struct life *v = lives[i];

		if (!v->marked)
			continue;
		if (v->done_at < 0) {
			undetected++;
			undetected_pairs += (size_t)v->remaining;
			if (s->verbose) {
				int k;

				fprintf(stderr, "life of %d gone at %.2f: %d "
				    "still list it:", v->node, v->gone_at / 1e6,
				    v->remaining);
				for (k = 0; k < s->n; k++)
					if (!v->marked[k])
						fprintf(stderr, " %d", k);
				fprintf(stderr, "\n");
			}
			continue;
		}
		if (s->nodes[v->node].leaving && s->nodes[v->node].life == v)
			lv[nl++] = (double)(v->done_at - v->gone_at) / 1e6;
		else {
			d[nd++] = (double)(v->done_at - v->gone_at) / 1e6;
			if (s->verbose)
				fprintf(stderr, "crash of %d: suspect +%.2f dead "
				    "+%.2f all +%.2f\n", v->node,
				    (double)(v->suspect_at - v->gone_at) / 1e6,
				    (double)(v->dead_at - v->gone_at) / 1e6,
				    (double)(v->done_at - v->gone_at) / 1e6);
		}
	}
	/* A run without crashes has no pairs (NULL): qsort must not see it. */
	if (nd)
		qsort(d, nd, sizeof(*d), cmp_double);
	if (npairs)
		qsort(pairs, npairs, sizeof(*pairs), cmp_double);
	if (nl)
		qsort(lv, nl, sizeof(*lv), cmp_double);
	for (i = 0; i < (size_t)s->n; i++) {
		if (!s->nodes[i].up)
			continue;
		if (s->verbose && !s->nodes[i].full && live(&s->nodes[i]))
			fprintf(stderr, "node %zu lists %d of %d live, %d "
			    "departed\n", i, s->nodes[i].nright,
			    should_list(&s->nodes[i]), s->nodes[i].nwrong);
		mb_get_stats(s->nodes[i].mb, &st);
		dropped += st.dropped;
		suspicions += st.suspicions;
		refutations += st.refutations;
	}
	json_object_set_new(o, "nodes", json_integer(s->n));
	json_object_set_new(o, "seconds", json_real(s->seconds));
	json_object_set_new(o, "seed", json_integer((json_int_t)s->seed));
	json_object_set_new(o, "loss", json_real(s->loss));
	json_object_set_new(o, "slow", json_real(s->slow));
	json_object_set_new(o, "converged_s", secs_or_null(s->converged_at,
	    s->join_end));
	json_object_set_new(o, "crashes", json_integer((json_int_t)(nd +
	    undetected)));
	json_object_set_new(o, "undetected", json_integer((json_int_t)undetected));
	json_object_set_new(o, "undetected_pairs",
	    json_integer((json_int_t)undetected_pairs));
	/* Per (observer, departure) pair, crashes and leaves alike. */
	json_object_set_new(o, "detect_median_s", npairs ?
	    json_real(pairs[npairs / 2]) : json_null());
	json_object_set_new(o, "detect_p99_s", npairs ? json_real(pairs[(npairs *
	    99 + 99) / 100 - 1]) : json_null());
	json_object_set_new(o, "detect_max_s", npairs ?
	    json_real(pairs[npairs - 1]) : json_null());
	json_object_set_new(o, "detect_all_max_s", nd ? json_real(d[nd - 1]) :
	    json_null());
	json_object_set_new(o, "relisted", json_integer(
	    (json_int_t)s->relisted));
	json_object_set_new(o, "bad_state", json_integer(
	    (json_int_t)s->bad_state));
	json_object_set_new(o, "leaves", json_integer((json_int_t)nl));
	json_object_set_new(o, "leave_gone_max_s", nl ? json_real(lv[nl - 1]) :
	    json_null());
	json_object_set_new(o, "false_deaths", json_integer(
	    (json_int_t)s->false_deaths));
	json_object_set_new(o, "false_death_events", json_integer(
	    (json_int_t)s->false_death_events));
	json_object_set_new(o, "suspicions", json_integer(
	    (json_int_t)suspicions));
	json_object_set_new(o, "refutations", json_integer(
	    (json_int_t)refutations));
	json_object_set_new(o, "datagrams_per_node_s", json_real(
	    s->node_seconds > 0 ? (double)s->sent / s->node_seconds : 0));
	json_object_set_new(o, "bytes_per_node_s", json_real(
	    s->node_seconds > 0 ? (double)s->sent_bytes / s->node_seconds : 0));
	{
		static const char *names[8] = { "", "ping", "ack", "nack",
		    "ping_req", "gossip", "pp_req", "pp_state" };
		json_t *bt = json_object();

		for (i = 1; i < 8; i++)
			json_object_set_new(bt, names[i], json_real(
			    s->node_seconds > 0 ? (double)s->sent_type[i] /
			    s->node_seconds : 0));
		json_object_set_new(o, "by_type", bt);
	}
	json_object_set_new(o, "stats_from_s", json_real(
	    (double)s->stat_from / 1e6));
	json_object_set_new(o, "healed_s", s->heal_t >= 0 ?
	    secs_or_null(s->healed_at, s->heal_t) : json_null());
	json_object_set_new(o, "merged_s", s->merge ?
	    secs_or_null(s->merged_at, s->merge_t) : json_null());
	json_object_set_new(o, "dropped", json_integer((json_int_t)dropped));
	json_object_set_new(o, "events", json_integer((json_int_t)s->events));
	json_object_set_new(o, "cpu_s", json_real(s->cpu_s));
	txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(5));
	printf("%s\n", txt);
	free(txt);
	json_decref(o);
	if (s->check) {
		if (s->converged_at < 0) {
			fprintf(stderr, "check: the cluster never converged\n");
			fail = 1;
		}
		if (undetected) {
			fprintf(stderr, "check: %zu departures not seen by every "
			    "live node\n", undetected);
			fail = 1;
		}
		if (s->false_deaths) {
			fprintf(stderr, "check: %llu live nodes declared dead\n",
			    (unsigned long long)s->false_deaths);
			fail = 1;
		}
		if (s->heal_t >= 0 && (s->healed_at < 0 ||
		    s->healed_at - s->heal_t > 30000000)) {
			fprintf(stderr, "check: the partition did not heal "
			    "within 30 s\n");
			fail = 1;
		}
		if (npairs && pairs[(npairs * 99 + 99) / 100 - 1] > 5.0) {
			fprintf(stderr, "check: detection p99 over 5 s\n");
			fail = 1;
		}
		if (s->relisted) {
			fprintf(stderr, "check: %llu crashed members listed "
			    "again after being dropped\n",
			    (unsigned long long)s->relisted);
			fail = 1;
		}
		if (s->bad_state) {
			fprintf(stderr, "check: %llu broken core invariants\n",
			    (unsigned long long)s->bad_state);
			fail = 1;
		}
		if (s->node_seconds > 0 && (double)s->sent / s->node_seconds >
		    4.0) {
			fprintf(stderr, "check: over 4 datagrams per node per "
			    "second\n");
			fail = 1;
		}
		if (s->merge && (s->merged_at < 0 ||
		    s->merged_at - s->merge_t > 30000000)) {
			fprintf(stderr, "check: the two clusters did not merge "
			    "within 30 s\n");
			fail = 1;
		}
	}
	free(d);
	free(lv);
	return fail;
}
