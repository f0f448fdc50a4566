/* sim.h - state shared by the simulator's event loop (sim.c) and its
 * bookkeeping of what every node believes (track.c).
 */
#ifndef CIRCUIT_TESTS_SIM_H
#define CIRCUIT_TESTS_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "net/membership.h"

enum { EV_DELIVER, EV_TIMER, EV_CONTROL };
enum { C_START = 1, C_CRASH, C_LEAVE, C_RESTART, C_REJOIN, C_PARTITION,
	C_HEAL, C_MERGE, C_DIAG };

struct pkt {
	int		from;
	size_t		len;
	uint8_t		data[];
};

struct ev {
	int64_t		t;		/* microseconds */
	uint64_t	seq;
	int		type;
	int		node;
	uint32_t	gen;		/* timer generation, or control kind */
	struct pkt	*p;
};

/* One life of a server: a restart is a new life with a new ID. */
struct life {
	uint64_t	id;
	int		node;
	int64_t		gone_at;	/* crash or leave time, or -1 */
	int		falsely_dead;
	/* Detection: which live nodes have stopped listing it. */
	uint8_t		*marked;
	uint8_t		*dropped;	/* nodes that stopped listing it */
	int		remaining;
	int		cut;		/* crashed inside a partition */
	int64_t		done_at;
	int64_t		suspect_at, dead_at;	/* first anywhere */
};

struct node {
	struct mb	*mb;
	uint64_t	id;
	mb_addr		addr;
	int		idx;
	uint64_t	rng;
	int		up, leaving, slow, side;
	struct life	*life;
	int		nright;		/* live peers listed, from events */
	int		nwrong;		/* departed peers still listed */
	int		full;		/* lists exactly the live peers */
	int		timer_pending;
	int64_t		timer_at;
	uint32_t	timer_gen;
};

struct sim {
	int		n;
	double		seconds;
	uint64_t	seed;
	double		loss, slow;
	int		ncrash, nleave, nrestart;
	double		part_at, heal_at;
	int		merge, check, verbose;
	int64_t		lat_us, slow_us, join_gap_us;
	struct mb_config cfg;

	uint64_t	rng;
	int64_t		now;
	uint64_t	evseq, events;
	struct ev	*heap;
	size_t		nheap, heapcap;
	struct node	*nodes;
	int		nup, nfull, nlive;

	int		part_active, part_ever, merged;
	int64_t		heal_t, merge_t, join_end, stat_from;
	int64_t		converged_at, healed_at, merged_at;

	uint64_t	sent, sent_bytes, sent_type[8];
	uint64_t	hist[256][8];	/* --verbose: per 10 s and type */
	double		node_seconds;	/* live nodes x time since stat_from */
	int64_t		last_account;
	uint64_t	false_deaths, false_death_events, suspect_events;
	uint64_t	relisted;	/* a departed member listed again */
	uint64_t	bad_state;	/* mb_check() failures */
	double		cpu_s;
};

uint64_t	 sim_rand(uint64_t *s);
double		 sim_unif(void);
struct sim	*sim_state(void);

/* track.c */
void		 sim_init_tracking(void);
struct life	*sim_new_life(uint64_t id, int node);
struct life	*sim_life(uint64_t id);
void		 sim_listed(struct node *nd, struct life *v, int delta);
void		 sim_recount(void);
void		 sim_crash_begin(struct node *nd);
void		 sim_detected(struct life *v, struct node *observer);
void		 sim_observer_gone(struct node *nd);
int		 sim_excused(int declarer, int victim);
void		 sim_account(int64_t t);
int		 sim_report(void);
void		 sim_diag(void);

#endif
