/* test_bucket.c - the token bucket (net/bucket.h) that paces the membership core's
 * gossip and discovery's answers.  Rates are powers of two, so that every figure
 * below is exact in binary floating point.
 */
#include <criterion/criterion.h>

#include "net/bucket.h"

/* Take from b until it is empty: how many were taken (bounded). */
static int
drain(struct bucket *b)
{
	int n = 0;

	while (n < 1000 && bucket_take(b))
		n++;
	return n;
}

Test(bucket, starts_full_and_empties)
{
	struct bucket b;

	bucket_init(&b, 0.25, 4, 1000);
	cr_assert_eq(drain(&b), 4);
	cr_assert_eq(bucket_take(&b), 0);
	cr_assert_eq(b.tokens, 0.0);
	/* No time passed: a refill brings nothing. */
	bucket_refill(&b, 1000);
	cr_assert_eq(bucket_take(&b), 0);
}

Test(bucket, refills_at_its_rate)
{
	struct bucket b;

	bucket_init(&b, 0.25, 4, 0);
	drain(&b);
	bucket_refill(&b, 3);		/* 0.75 of a token: not one yet */
	cr_assert_eq(bucket_take(&b), 0);
	cr_assert_eq(b.tokens, 0.75, "an empty take must leave the fraction: %g", b.tokens);
	bucket_refill(&b, 4);		/* one whole token */
	cr_assert_eq(bucket_take(&b), 1);
	cr_assert_eq(bucket_take(&b), 0);
	bucket_refill(&b, 12);		/* 8 ms: two more */
	cr_assert_eq(drain(&b), 2);
}

Test(bucket, saves_up_to_the_burst_only)
{
	struct bucket b;

	bucket_init(&b, 0.25, 4, 0);
	drain(&b);
	bucket_refill(&b, 1000000);	/* idle for long: still only a burst */
	cr_assert_eq(b.tokens, 4.0);
	cr_assert_eq(drain(&b), 4);
}

Test(bucket, clock_going_back_adds_and_takes_nothing)
{
	struct bucket b;

	bucket_init(&b, 0.25, 4, 100);
	drain(&b);
	bucket_refill(&b, 98);		/* back 2 ms */
	cr_assert_eq(b.tokens, 0.0);
	cr_assert_eq(b.at, 98);
	bucket_refill(&b, 102);		/* 4 ms from the clock's new reading */
	cr_assert_eq(drain(&b), 1);
}

Test(bucket, flood_gets_the_rate_and_one_burst)
{
	struct bucket b;
	int got = 0;

	/* A query every millisecond for 10 s at 1 token in 128 ms, burst 8: the burst,
	 * then one per 128 ms (10000 / 128 = 78 whole ones). */
	bucket_init(&b, 1.0 / 128, 8, 0);
	for (int64_t t = 0; t < 10000; t++) {
		bucket_refill(&b, t);
		got += bucket_take(&b);
	}
	cr_assert_eq(got, 8 + 78);
}

Test(bucket, zero_rate_never_refills)
{
	struct bucket b;

	bucket_init(&b, 0, 2, 0);
	cr_assert_eq(drain(&b), 2);
	bucket_refill(&b, 1000000);
	cr_assert_eq(bucket_take(&b), 0);
}

/* bucket_level reads what a refill would give, capped, and moves nothing: the
 * membership core checks a young death's allowance with it between refills. */
Test(bucket, level_reads_without_moving)
{
	struct bucket b;

	bucket_init(&b, 0.25, 4, 0);
	drain(&b);
	cr_assert_eq(bucket_level(&b, 2), 0.5);
	cr_assert_eq(bucket_level(&b, 100), 4.0);	/* capped at the burst */
	cr_assert_eq(bucket_level(&b, -5), 0.0);	/* a clock gone back */
	cr_assert_eq(b.tokens, 0.0);
	cr_assert_eq(b.at, 0);
	bucket_refill(&b, 6);
	cr_assert_eq(bucket_level(&b, 6), 1.5);
	cr_assert_eq(bucket_take(&b), 1);
}
