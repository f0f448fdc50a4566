/* bucket.h - a token bucket: the one rate limit of the project, for the membership
 * core's paced gossip and its young deaths' allowance (net/membership_bcast.c) and for
 * discovery's answers to queries (net/discover.c).
 *
 * Tokens come in at per_ms a millisecond, up to burst saved; each thing sent takes
 * one.  Times are milliseconds on the caller's clock (the core's simulated one, or the
 * loop's).  It lives in a header because the simulator's sanitised build compiles the
 * membership core's files alone (Makefile, SIM_ASAN).
 */
#ifndef CIRCUIT_NET_BUCKET_H
#define CIRCUIT_NET_BUCKET_H

#include <stdint.h>

struct bucket {
	double	per_ms;		/* tokens coming in a millisecond */
	double	burst;		/* tokens saved up, at most */
	double	tokens;		/* tokens there at `at` */
	int64_t	at;
};

/* A bucket that starts full at now. */
static inline void
bucket_init(struct bucket *b, double per_ms, double burst, int64_t now)
{
	b->per_ms = per_ms;
	b->burst = burst;
	b->tokens = burst;
	b->at = now;
}

/* Bring the tokens up to now, capped at the burst (a clock that went back adds
 * nothing). */
static inline double bucket_level(const struct bucket *b, int64_t now);

static inline void
bucket_refill(struct bucket *b, int64_t now)
{
	b->tokens = bucket_level(b, now);
	b->at = now;
}

/* The tokens there would be at now, the bucket left as it is. */
static inline double
bucket_level(const struct bucket *b, int64_t now)
{
	double t = b->tokens;

	if (now > b->at)
		t += (double)(now - b->at) * b->per_ms;
	return t > b->burst ? b->burst : t;
}

/* Take one token: 1 if there was one, 0 if the bucket is empty (nothing taken). */
static inline int
bucket_take(struct bucket *b)
{
	if (b->tokens < 1)
		return 0;
	b->tokens -= 1;
	return 1;
}

#endif
