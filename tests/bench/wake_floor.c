/* wake_floor.c - the least an idle membership member can cost: the floor under
 * bench_membership_wire.sh's idle CPU figure.
 *
 *	wake_floor BASEPORT N INDEX [PERIOD_MS [SIZE]]
 *
 * Process INDEX of N binds 127.0.0.1:BASEPORT+INDEX (UDP) on a libuv loop and, every
 * PERIOD_MS (750), sends a SIZE-byte (100) ping to a random other process, which
 * answers with an ack of the same size: the traffic pattern of an idle server (its
 * probe timer, the ack, the pings of others: ~4 wakes a second), with nothing else
 * done per wake.  No sealing, no membership state: what remains is the loop, the
 * system calls and the kernel's scheduling.  It runs until killed.
 *
 * The bench runs N of these and measures their utime + stime from /proc, exactly as
 * it measures the servers, so the two figures compare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static uv_udp_t udp;
static uv_timer_t timer;
static int base, n, self;
static unsigned size;
static uint64_t rng;

/* xorshift64*: probe order needs no more. */
static uint64_t
next_random(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static void
send_to(int index, char kind)
{
	struct sockaddr_in sa;
	char buf[1400];
	uv_buf_t b;

	memset(buf, 0, size);
	buf[0] = kind;
	b = uv_buf_init(buf, size);
	uv_ip4_addr("127.0.0.1", base + index, &sa);
	(void)uv_udp_try_send(&udp, &b, 1, (const struct sockaddr *)&sa);
}

static void
on_timer(uv_timer_t *t)
{
	int peer = (int)(next_random() % (uint64_t)(n - 1));

	send_to(peer >= self ? peer + 1 : peer, 'P');
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char space[65536];

	*buf = uv_buf_init(space, sizeof space);
}

static void
on_recv(uv_udp_t *h, ssize_t len, const uv_buf_t *buf, const struct sockaddr *sa,
    unsigned flags)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

	if (len <= 0 || sa == NULL || sa->sa_family != AF_INET)
		return;
	if (buf->base[0] == 'P')
		send_to(ntohs(s4->sin_port) - base, 'A');
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	uv_loop_t *loop = uv_default_loop();
	unsigned period;

	if (argc < 4) {
		fprintf(stderr, "usage: wake_floor BASEPORT N INDEX [PERIOD_MS [SIZE]]\n");
		return 2;
	}
	base = atoi(argv[1]);
	n = atoi(argv[2]);
	self = atoi(argv[3]);
	period = argc > 4 ? (unsigned)atoi(argv[4]) : 750;
	size = argc > 5 ? (unsigned)atoi(argv[5]) : 100;
	if (n < 2 || self < 0 || self >= n || base <= 0 || base + n > 65535 || period == 0 ||
	    size < 1 || size > 1400) {
		fprintf(stderr, "wake_floor: bad arguments\n");
		return 2;
	}
	rng = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL | 1;
	uv_udp_init(loop, &udp);
	uv_ip4_addr("127.0.0.1", base + self, &sa);
	if (uv_udp_bind(&udp, (const struct sockaddr *)&sa, 0) < 0) {
		fprintf(stderr, "wake_floor: cannot bind port %d\n", base + self);
		return 1;
	}
	uv_udp_recv_start(&udp, on_alloc, on_recv);
	uv_timer_init(loop, &timer);
	/* Start at a random phase, as servers started one after another do. */
	uv_timer_start(&timer, on_timer, next_random() % period, period);
	return uv_run(loop, UV_RUN_DEFAULT);
}
