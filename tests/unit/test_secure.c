/* test_secure.c - the key handshake and the record layer over an in-memory pipe. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "net/secure.h"

static const char *XD = "X0123456789abcdef", *XA = "Xfedcba9876543210";

struct pair {
	struct secure d, a;		/* the dialer's and the acceptor's sessions */
	char d_saw[URL_ID_LEN + 1], a_saw[URL_ID_LEN + 1];
	int drc, arc;
};

/* Run a handshake between a dialer holding kd and an acceptor holding ka. */
static void
handshake(struct pair *p, uint8_t kd_byte, uint8_t ka_byte, const char *dxid)
{
	uint8_t kd[SECURE_KEY_LEN], ka[SECURE_KEY_LEN];
	uint8_t md[SECURE_AUTH_MAX], ma[SECURE_AUTH_MAX];
	struct secure_hs hd, ha;
	size_t ld, la;

	memset(kd, kd_byte, sizeof kd);
	memset(ka, ka_byte, sizeof ka);
	cr_assert_eq(secure_hs_start(&hd, kd, 1, dxid, md, &ld), 0);
	cr_assert_eq(secure_hs_start(&ha, ka, 0, XA, ma, &la), 0);
	cr_assert_eq(md[0], FRAME_VERSION);
	cr_assert_eq(md[1], FRAME_AUTH);
	p->drc = secure_hs_finish(&hd, ma, la, &p->d, p->d_saw);
	p->arc = secure_hs_finish(&ha, md, ld, &p->a, p->a_saw);
}

/* Seal text with from, open every record with to; returns 0 or the first error. */
static long
carry(struct secure_dir *from, struct secure_dir *to, const char *text, size_t n, char *got)
{
	size_t sl = secure_sealed_len(n), off = 0, gl = 0;
	uint8_t *wire = malloc(sl), *plain;
	long r = 0;

	cr_assert_eq(secure_seal(from, (const uint8_t *)text, n, wire), sl);
	while (off < sl) {
		size_t pl;
		r = secure_open(to, wire + off, sl - off, SECURE_REC_MAX, &plain, &pl);
		if (r <= 0)
			break;
		memcpy(got + gl, plain, pl);
		gl += pl;
		off += (size_t)r;
		r = 0;
	}
	free(wire);
	return r;
}

Test(secure, right_key_both_ways)
{
	static char big[200000], got[200000];
	struct pair p;

	handshake(&p, 7, 7, XD);
	cr_assert_eq(p.drc, 0);
	cr_assert_eq(p.arc, 0);
	cr_assert_str_eq(p.d_saw, XA);
	cr_assert_str_eq(p.a_saw, XD);
	cr_assert_eq(carry(&p.d.tx, &p.a.rx, "hello", 5, got), 0);
	cr_assert_eq(memcmp(got, "hello", 5), 0);
	cr_assert_eq(carry(&p.a.tx, &p.d.rx, "world", 5, got), 0);
	cr_assert_eq(memcmp(got, "world", 5), 0);
	/* Several records in a row (200,000 bytes make four). */
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 31);
	cr_assert_eq(secure_sealed_len(sizeof big), sizeof big + 4 * SECURE_REC_OVER);
	cr_assert_eq(carry(&p.d.tx, &p.a.rx, big, sizeof big, got), 0);
	cr_assert_eq(memcmp(got, big, sizeof big), 0);
	secure_wipe(&p.d);
	secure_wipe(&p.a);
}

Test(secure, client_has_no_xid)
{
	struct pair p;
	char got[8];

	handshake(&p, 1, 1, NULL);
	cr_assert_eq(p.arc, 0);
	cr_assert_str_eq(p.a_saw, "");
	cr_assert_eq(carry(&p.d.tx, &p.a.rx, "ok", 2, got), 0);
	secure_wipe(&p.d);
	secure_wipe(&p.a);
}

Test(secure, wrong_key_fails_both_ways)
{
	struct pair p;
	char got[8];

	handshake(&p, 1, 2, XD);
	/* The handshake itself completes: the first record is the proof, and it fails. */
	cr_assert_eq(p.drc, 0);
	cr_assert_eq(p.arc, 0);
	cr_assert_eq(carry(&p.d.tx, &p.a.rx, "hello", 5, got), -EBADMSG);
	cr_assert_eq(carry(&p.a.tx, &p.d.rx, "hello", 5, got), -EBADMSG);
	secure_wipe(&p.d);
	secure_wipe(&p.a);
}

Test(secure, flipped_bits_fail)
{
	uint8_t wire[64], copy[64], *plain;
	struct pair p;
	size_t sl, pl;

	handshake(&p, 3, 3, XD);
	sl = secure_seal(&p.d.tx, (const uint8_t *)"0123456789", 10, wire);
	/* Every bit of the record, header and tag included, is covered. */
	for (size_t i = 0; i < sl * 8; i++) {
		uint64_t seq = p.a.rx.seq;
		long r;
		memcpy(copy, wire, sl);
		copy[i / 8] ^= (uint8_t)(1u << (i % 8));
		r = secure_open(&p.a.rx, copy, sl, SECURE_REC_MAX, &plain, &pl);
		cr_assert(r < 0 || (r == 0 && i < 32), "bit %zu: %ld", i, r);
		cr_assert_eq(p.a.rx.seq, seq);
	}
	cr_assert_eq(secure_open(&p.a.rx, wire, sl, SECURE_REC_MAX, &plain, &pl), (long)sl);
	secure_wipe(&p.d);
	secure_wipe(&p.a);
}

Test(secure, truncated_is_incomplete_then_bad)
{
	uint8_t wire[64], *plain;
	struct pair p;
	size_t sl, pl;

	handshake(&p, 3, 3, XD);
	sl = secure_seal(&p.d.tx, (const uint8_t *)"0123456789", 10, wire);
	for (size_t n = 0; n < sl; n++)
		cr_assert_eq(secure_open(&p.a.rx, wire, n, SECURE_REC_MAX, &plain, &pl), 0);
	/* A record whose length was cut down (the rest taken as the next one) fails. */
	wire[3] = 5;
	cr_assert_eq(secure_open(&p.a.rx, wire, sl, SECURE_REC_MAX, &plain, &pl), -EBADMSG);
	secure_wipe(&p.d);
	secure_wipe(&p.a);
}

Test(secure, replayed_and_reordered_fail)
{
	uint8_t r1[64], r2[64], c1[64], c2[64], *plain;
	struct pair p;
	size_t l1, l2, pl;

	handshake(&p, 4, 4, XD);
	l1 = secure_seal(&p.d.tx, (const uint8_t *)"first", 5, r1);
	l2 = secure_seal(&p.d.tx, (const uint8_t *)"second", 6, r2);
	/* A record that fails may be left scrambled (opened in place): use copies. */
	memcpy(c1, r1, l1);
	memcpy(c2, r2, l2);
	/* Reordered: the second record first. */
	cr_assert_eq(secure_open(&p.a.rx, c2, l2, SECURE_REC_MAX, &plain, &pl), -EBADMSG);
	cr_assert_eq(secure_open(&p.a.rx, r1, l1, SECURE_REC_MAX, &plain, &pl), (long)l1);
	/* Replayed: the first again. */
	cr_assert_eq(secure_open(&p.a.rx, c1, l1, SECURE_REC_MAX, &plain, &pl), -EBADMSG);
	cr_assert_eq(secure_open(&p.a.rx, r2, l2, SECURE_REC_MAX, &plain, &pl), (long)l2);
	cr_assert_eq(memcmp(plain, "second", 6), 0);
	/* Reflected: a record sent back to its sender. */
	l1 = secure_seal(&p.d.tx, (const uint8_t *)"mirror", 6, r1);
	cr_assert_eq(secure_open(&p.d.rx, r1, l1, SECURE_REC_MAX, &plain, &pl), -EBADMSG);
	secure_wipe(&p.d);
	secure_wipe(&p.a);
}

Test(secure, tampered_auth_frame_changes_keys)
{
	uint8_t k[SECURE_KEY_LEN], md[SECURE_AUTH_MAX], ma[SECURE_AUTH_MAX], w[64], *plain;
	struct secure_hs hd, ha;
	struct secure d, a;
	char saw[URL_ID_LEN + 1];
	size_t ld, la, pl, sl;

	memset(k, 9, sizeof k);
	cr_assert_eq(secure_hs_start(&hd, k, 1, XD, md, &ld), 0);
	cr_assert_eq(secure_hs_start(&ha, k, 0, XA, ma, &la), 0);
	/* A man in the middle rewrites the XID the dialer claims. */
	md[ld - 1] = md[ld - 1] == 'a' ? 'b' : 'a';
	cr_assert_eq(secure_hs_finish(&hd, ma, la, &d, saw), 0);
	cr_assert_eq(secure_hs_finish(&ha, md, ld, &a, saw), 0);
	sl = secure_seal(&d.tx, (const uint8_t *)"hi", 2, w);
	cr_assert_eq(secure_open(&a.rx, w, sl, SECURE_REC_MAX, &plain, &pl), -EBADMSG);
	secure_wipe(&d);
	secure_wipe(&a);
}

Test(secure, malformed_auth_refused)
{
	uint8_t k[SECURE_KEY_LEN] = { 0 }, m[SECURE_AUTH_MAX], o[SECURE_AUTH_MAX];
	struct secure_hs h;
	struct secure s;
	char saw[URL_ID_LEN + 1];
	size_t l, lo;

	cr_assert_eq(secure_hs_start(&h, k, 0, XA, m, &l), 0);
	cr_assert_eq(secure_hs_start(&h, k, 1, NULL, o, &lo), 0);
	/* Truncated, a bad XID, a low-order public key, our own frame reflected. */
	cr_assert_eq(secure_hs_finish(&h, m, l - 1, &s, saw), -EBADMSG);
	cr_assert_eq(secure_hs_start(&h, k, 1, NULL, o, &lo), 0);
	m[l - 1] = 'Z';
	cr_assert_eq(secure_hs_finish(&h, m, l, &s, saw), -EBADMSG);
	cr_assert_eq(secure_hs_start(&h, k, 1, NULL, o, &lo), 0);
	cr_assert_eq(secure_hs_start(&h, k, 1, NULL, o, &lo), 0);
	memset(m + FRAME_HDR, 0, 32);
	m[l - 1] = '0';
	cr_assert_eq(secure_hs_finish(&h, m, l, &s, saw), -EBADMSG);
	cr_assert_eq(secure_hs_start(&h, k, 1, NULL, o, &lo), 0);
	cr_assert_eq(secure_hs_finish(&h, o, lo, &s, saw), -EBADMSG);
	/* An oversized or empty record length is refused before anything is read. */
	memset(m, 0, 4);
	cr_assert_eq(secure_rec_need(m, 4, SECURE_REC_MAX), -EMSGSIZE);
	m[1] = 1;
	cr_assert_eq(secure_rec_need(m, 4, 4096), -EMSGSIZE);
	cr_assert_eq(secure_rec_need(m, 4, SECURE_REC_MAX), 65536 + SECURE_REC_OVER);
}

Test(secure, chacha_when_one_side_lacks_aes)
{
	uint8_t k[SECURE_KEY_LEN], md[SECURE_AUTH_MAX], ma[SECURE_AUTH_MAX];
	struct secure_hs hd, ha;
	struct secure d, a;
	char saw[URL_ID_LEN + 1], got[8];
	size_t ld, la;

	memset(k, 5, sizeof k);
	cr_assert_eq(secure_hs_start(&hd, k, 1, XD, md, &ld), 0);
	cr_assert_eq(secure_hs_start(&ha, k, 0, XA, ma, &la), 0);
	ma[FRAME_HDR + 32] = 0;		/* the acceptor says it has no AES in hardware */
	cr_assert_eq(secure_hs_finish(&hd, ma, la, &d, saw), 0);
	ha.mine[FRAME_HDR + 32] = 0;
	cr_assert_eq(secure_hs_finish(&ha, md, ld, &a, saw), 0);
	cr_assert_eq(d.tx.aes, 0);
	cr_assert_eq(a.rx.aes, 0);
	cr_assert_eq(carry(&d.tx, &a.rx, "chacha", 6, got), 0);
	cr_assert_eq(memcmp(got, "chacha", 6), 0);
	cr_assert_eq(carry(&a.tx, &d.rx, "back", 4, got), 0);
	secure_wipe(&d);
	secure_wipe(&a);
}

Test(secure, datagrams_sealed_replays_dropped)
{
	static struct secure_replay r;
	uint8_t k[SECURE_KEY_LEN], k2[SECURE_KEY_LEN], d[64], d2[64], out[64];
	uint64_t now = 1700000000000ull;
	size_t n, ol;

	memset(k, 1, sizeof k);
	memset(k2, 2, sizeof k2);
	n = secure_dgram_seal(k, now, (const uint8_t *)"ping", 4, d);
	cr_assert_eq(n, 4 + SECURE_DGRAM_OVER);
	cr_assert_eq(secure_dgram_open(k2, &r, now, d, n, out, &ol), -EBADMSG);
	memcpy(d2, d, n);
	d2[30] ^= 1;
	cr_assert_eq(secure_dgram_open(k, &r, now, d2, n, out, &ol), -EBADMSG);
	memcpy(d2, d, n);
	d2[7] ^= 1;			/* the time in the nonce is authenticated too */
	cr_assert_eq(secure_dgram_open(k, &r, now, d2, n, out, &ol), -EBADMSG);
	cr_assert_eq(secure_dgram_open(k, &r, now, d, n - 1, out, &ol), -EBADMSG);
	cr_assert_eq(secure_dgram_open(k, &r, now + 10, d, n, out, &ol), 0);
	cr_assert_eq(ol, 4u);
	cr_assert_eq(memcmp(out, "ping", 4), 0);
	cr_assert_eq(secure_dgram_open(k, &r, now + 20, d, n, out, &ol), -EALREADY);
	/* Too old or from the future. */
	n = secure_dgram_seal(k, now - SECURE_DGRAM_WINDOW_MS - 1, (const uint8_t *)"x", 1, d);
	cr_assert_eq(secure_dgram_open(k, &r, now, d, n, out, &ol), -ESTALE);
	n = secure_dgram_seal(k, now + SECURE_DGRAM_WINDOW_MS + 1, (const uint8_t *)"x", 1, d);
	cr_assert_eq(secure_dgram_open(k, &r, now, d, n, out, &ol), -ESTALE);
	/* Past the cache's size, the floor keeps the oldest from coming back. */
	n = secure_dgram_seal(k, now + 1, (const uint8_t *)"old", 3, d2);
	cr_assert_eq(secure_dgram_open(k, &r, now, d2, n, out, &ol), 0);
	for (int i = 0; i < SECURE_REPLAY_SLOTS; i++) {
		n = secure_dgram_seal(k, now + 2, (const uint8_t *)"y", 1, d);
		cr_assert_eq(secure_dgram_open(k, &r, now, d, n, out, &ol), 0);
	}
	n = 3 + SECURE_DGRAM_OVER;
	cr_assert_eq(secure_dgram_open(k, &r, now, d2, n, out, &ol), -ESTALE);
}

/* The cache's hash chains, through three times its size: every nonce still held is
 * found, every overwritten one is refused by the floor, and new ones pass. */
Test(secure, replay_cache_chains_wrap)
{
	static struct secure_replay r;
	static uint8_t d[3 * SECURE_REPLAY_SLOTS][64];
	uint8_t k[SECURE_KEY_LEN], out[64];
	uint64_t now = 1700000000000ull;
	size_t n = 1 + SECURE_DGRAM_OVER, ol;
	int total = 3 * SECURE_REPLAY_SLOTS;

	memset(k, 3, sizeof k);
	for (int i = 0; i < total; i++) {
		secure_dgram_seal(k, now + 1 + (uint64_t)i / 8, (const uint8_t *)"z", 1, d[i]);
		cr_assert_eq(secure_dgram_open(k, &r, now + 1000, d[i], n, out, &ol), 0, "%d", i);
	}
	for (int i = total - SECURE_REPLAY_SLOTS + 8; i < total; i++)
		cr_assert_eq(secure_dgram_open(k, &r, now + 1000, d[i], n, out, &ol), -EALREADY,
		    "%d", i);
	for (int i = 0; i < total - SECURE_REPLAY_SLOTS; i++)
		cr_assert_eq(secure_dgram_open(k, &r, now + 1000, d[i], n, out, &ol), -ESTALE,
		    "%d", i);
}

Test(secure, sealed_in_place_opens_as_records)
{
	static uint8_t buf[150000], copy[150000], wire[150000 + 3 * SECURE_REC_OVER];
	uint8_t side[3 * SECURE_REC_OVER], *plain;
	size_t n = sizeof buf, recs, off = 0, got = 0, pl;
	struct pair p;

	handshake(&p, 6, 6, XD);
	for (size_t i = 0; i < n; i++)
		buf[i] = copy[i] = (uint8_t)(i * 7);
	recs = secure_seal_inplace(&p.d.tx, buf, n, side);
	cr_assert_eq(recs, 3u);
	cr_assert_eq(recs, secure_records(n));
	/* Laid out as a writev would send it: length, bytes, tag, for each record. */
	for (size_t i = 0; i < recs; i++) {
		size_t k = i + 1 < recs ? SECURE_REC_MAX : n - i * SECURE_REC_MAX;
		memcpy(wire + off, side + i * SECURE_REC_OVER, SECURE_REC_HDR);
		memcpy(wire + off + SECURE_REC_HDR, buf + i * SECURE_REC_MAX, k);
		memcpy(wire + off + SECURE_REC_HDR + k, side + i * SECURE_REC_OVER + SECURE_REC_HDR,
		    SECURE_REC_TAG);
		off += k + SECURE_REC_OVER;
	}
	cr_assert_eq(off, secure_sealed_len(n));
	for (size_t o = 0; o < off;) {
		long r = o == 0 ? secure_open_to(&p.a.rx, wire, off, SECURE_REC_MAX, buf, &pl) :
		    secure_open(&p.a.rx, wire + o, off - o, SECURE_REC_MAX, &plain, &pl);
		cr_assert(r > 0);
		if (o != 0)
			memcpy(buf + got, plain, pl);
		got += pl;
		o += (size_t)r;
	}
	cr_assert_eq(got, n);
	cr_assert_eq(memcmp(buf, copy, n), 0);
	secure_wipe(&p.d);
	secure_wipe(&p.a);
}
