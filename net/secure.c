/* secure.c - the cluster key's handshake and record layer (see secure.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/frame.h"
#include "net/secure.h"

#define FLAG_AES	1	/* the sender has AES-256-GCM in hardware */

int
secure_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

int
secure_hs_start(struct secure_hs *hs, const uint8_t key[SECURE_KEY_LEN], int dialer,
    const char *xid, uint8_t *out, size_t *outlen)
{
	size_t xl = xid != NULL ? strlen(xid) : 0;

	if (xl != 0 && xl != URL_ID_LEN)
		return -EINVAL;
	if (secure_init() < 0)
		return -EIO;
	memset(hs, 0, sizeof *hs);
	hs->dialer = dialer;
	memcpy(hs->key, key, SECURE_KEY_LEN);
	crypto_kx_keypair(hs->pk, hs->sk);
	frame_header(out, FRAME_AUTH, 0, (uint32_t)(32 + 1 + xl));
	memcpy(out + FRAME_HDR, hs->pk, 32);
	out[FRAME_HDR + 32] = crypto_aead_aes256gcm_is_available() ? FLAG_AES : 0;
	if (xl > 0)
		memcpy(out + FRAME_HDR + 33, xid, xl);
	hs->minelen = SECURE_AUTH_MIN + xl;
	memcpy(hs->mine, out, hs->minelen);
	*outlen = hs->minelen;
	return 0;
}

void
secure_hs_wipe(struct secure_hs *hs)
{
	sodium_memzero(hs, sizeof *hs);
}

/* One direction's key: BLAKE2b keyed with the cluster key over a label, the
 * transcript hash and that direction's X25519 session key. */
static int
derive(struct secure_dir *d, const uint8_t ckey[SECURE_KEY_LEN], const char *label,
    const uint8_t th[32], const uint8_t kx[32], int aes)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, ckey, SECURE_KEY_LEN, sizeof d->key);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label) + 1);
	crypto_generichash_update(&st, th, 32);
	crypto_generichash_update(&st, kx, 32);
	crypto_generichash_final(&st, d->key, sizeof d->key);
	d->seq = 0;
	d->aes = aes;
	d->st = NULL;
	if (aes) {
		if (posix_memalign((void **)&d->st, 16, sizeof *d->st) != 0) {
			d->st = NULL;
			return -ENOMEM;
		}
		crypto_aead_aes256gcm_beforenm(d->st, d->key);
	}
	return 0;
}

int
secure_hs_finish(struct secure_hs *hs, const uint8_t *auth, size_t len,
    struct secure *s, char peer_xid[URL_ID_LEN + 1])
{
	const uint8_t *pk = auth + FRAME_HDR;
	uint8_t rx[32], tx[32], th[32];
	crypto_generichash_state st;
	struct frame f;
	size_t xl;
	int aes, rc = -EBADMSG;

	memset(s, 0, sizeof *s);
	peer_xid[0] = '\0';
	if (len < SECURE_AUTH_MIN || len > SECURE_AUTH_MAX ||
	    frame_decode(auth, len, &f) != (long)len || f.type != FRAME_AUTH || f.id != 0)
		goto out;
	xl = len - SECURE_AUTH_MIN;
	if (xl != 0 && xl != URL_ID_LEN)
		goto out;
	memcpy(peer_xid, auth + SECURE_AUTH_MIN, xl);
	peer_xid[xl] = '\0';
	if (xl != 0 && !url_is_xid(peer_xid))
		goto out;
	/* A peer that answers with our own key replays our AUTH frame back to us. */
	if (memcmp(pk, hs->pk, 32) == 0)
		goto out;
	if (hs->dialer ? crypto_kx_client_session_keys(rx, tx, hs->pk, hs->sk, pk) != 0 :
	    crypto_kx_server_session_keys(rx, tx, hs->pk, hs->sk, pk) != 0)
		goto out;
	/* The transcript: the dialer's AUTH frame, then the acceptor's. */
	crypto_generichash_init(&st, NULL, 0, sizeof th);
	crypto_generichash_update(&st, hs->dialer ? hs->mine : auth, hs->dialer ? hs->minelen : len);
	crypto_generichash_update(&st, hs->dialer ? auth : hs->mine, hs->dialer ? len : hs->minelen);
	crypto_generichash_final(&st, th, sizeof th);
	aes = (auth[FRAME_HDR + 32] & FLAG_AES) && (hs->mine[FRAME_HDR + 32] & FLAG_AES);
	if ((rc = derive(&s->tx, hs->key, hs->dialer ? "circuit dialer" : "circuit acceptor",
	    th, tx, aes)) < 0 ||
	    (rc = derive(&s->rx, hs->key, hs->dialer ? "circuit acceptor" : "circuit dialer",
	    th, rx, aes)) < 0)
		secure_wipe(s);
out:
	if (rc < 0)
		peer_xid[0] = '\0';
	sodium_memzero(rx, sizeof rx);
	sodium_memzero(tx, sizeof tx);
	secure_hs_wipe(hs);
	return rc;
}

static void
dir_wipe(struct secure_dir *d)
{
	if (d->st != NULL) {
		sodium_memzero(d->st, sizeof *d->st);
		free(d->st);
	}
	sodium_memzero(d, sizeof *d);
}

void
secure_wipe(struct secure *s)
{
	dir_wipe(&s->tx);
	dir_wipe(&s->rx);
}

size_t
secure_sealed_len(size_t n)
{
	return n + (n + SECURE_REC_MAX - 1) / SECURE_REC_MAX * SECURE_REC_OVER;
}

static void
nonce_of(uint8_t nonce[12], uint64_t seq)
{
	memset(nonce, 0, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(seq >> (8 * i));
}

/* Seal one record of k bytes: its length into hdr, in -> ct (may be the same), the
 * tag into tag. */
static void
seal_one(struct secure_dir *d, const uint8_t *in, size_t k, uint8_t *hdr, uint8_t *ct,
    uint8_t *tag)
{
	uint8_t nonce[12];

	frame_put32(hdr, (uint32_t)k);
	nonce_of(nonce, d->seq++);
	if (d->aes)
		crypto_aead_aes256gcm_encrypt_detached_afternm(ct, tag, NULL, in, k, hdr,
		    SECURE_REC_HDR, NULL, nonce, d->st);
	else
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(ct, tag, NULL, in, k, hdr,
		    SECURE_REC_HDR, NULL, nonce, d->key);
}

size_t
secure_seal(struct secure_dir *d, const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t *o = out;

	while (n > 0) {
		size_t k = n < SECURE_REC_MAX ? n : SECURE_REC_MAX;
		seal_one(d, in, k, o, o + SECURE_REC_HDR, o + SECURE_REC_HDR + k);
		o += SECURE_REC_OVER + k;
		in += k;
		n -= k;
	}
	return (size_t)(o - out);
}

size_t
secure_records(size_t n)
{
	return (n + SECURE_REC_MAX - 1) / SECURE_REC_MAX;
}

size_t
secure_seal_inplace(struct secure_dir *d, uint8_t *buf, size_t n, uint8_t *side)
{
	size_t i = 0;

	for (; n > 0; i++) {
		size_t k = n < SECURE_REC_MAX ? n : SECURE_REC_MAX;
		uint8_t *s = side + i * SECURE_REC_OVER;
		seal_one(d, buf, k, s, buf, s + SECURE_REC_HDR);
		buf += k;
		n -= k;
	}
	return i;
}

long
secure_rec_need(const uint8_t *buf, size_t len, size_t max)
{
	uint32_t n;

	if (len < SECURE_REC_HDR)
		return 0;
	n = frame_get32(buf);
	if (n == 0 || n > max || n > SECURE_REC_MAX)
		return -EMSGSIZE;
	return (long)(SECURE_REC_OVER + n);
}

long
secure_open_to(struct secure_dir *d, const uint8_t *buf, size_t len, size_t max,
    uint8_t *out, size_t *plen)
{
	long need = secure_rec_need(buf, len, max);
	uint8_t nonce[12];
	size_t n;
	int rc;

	if (need <= 0 || (size_t)need > len)
		return need < 0 ? need : 0;
	n = (size_t)need - SECURE_REC_OVER;
	nonce_of(nonce, d->seq);
	if (d->aes)
		rc = crypto_aead_aes256gcm_decrypt_detached_afternm(out, NULL,
		    buf + SECURE_REC_HDR, n, buf + SECURE_REC_HDR + n, buf, SECURE_REC_HDR,
		    nonce, d->st);
	else
		rc = crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL,
		    buf + SECURE_REC_HDR, n, buf + SECURE_REC_HDR + n, buf, SECURE_REC_HDR,
		    nonce, d->key);
	if (rc != 0)
		return -EBADMSG;
	d->seq++;
	*plen = n;
	return need;
}

long
secure_open(struct secure_dir *d, uint8_t *buf, size_t len, size_t max,
    uint8_t **plain, size_t *plen)
{
	long r = secure_open_to(d, buf, len, max, buf + SECURE_REC_HDR, plen);

	if (r > 0)
		*plain = buf + SECURE_REC_HDR;
	return r;
}

/* ---- Datagrams ---- */

size_t
secure_dgram_seal(const uint8_t key[SECURE_KEY_LEN], uint64_t now_ms,
    const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t *nonce = out;

	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(now_ms >> (56 - 8 * i));
	randombytes_buf(nonce + 8, 16);
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out + 24, out + 24 + n, NULL,
	    in, n, NULL, 0, NULL, nonce, key);
	return n + SECURE_DGRAM_OVER;
}

/* The chain of a nonce's random part: its first bytes are random already. */
static size_t
replay_bucket(const uint8_t r[16])
{
	return ((size_t)r[0] << 8 | r[1]) % SECURE_REPLAY_BUCKETS;
}

int
secure_dgram_open(const uint8_t key[SECURE_KEY_LEN], struct secure_replay *r,
    uint64_t now_ms, const uint8_t *in, size_t n, uint8_t *out, size_t *outlen)
{
	uint64_t t = 0;
	size_t i, len, b;
	unsigned k;

	if (n < SECURE_DGRAM_OVER)
		return -EBADMSG;
	len = n - SECURE_DGRAM_OVER;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out, NULL, in + 24, len,
	    in + 24 + len, NULL, 0, in, key) != 0)
		return -EBADMSG;
	for (i = 0; i < 8; i++)
		t = t << 8 | in[i];
	if (t + SECURE_DGRAM_WINDOW_MS < now_ms || t > now_ms + SECURE_DGRAM_WINDOW_MS ||
	    t <= r->floor)
		return -ESTALE;
	b = replay_bucket(in + 8);
	for (k = r->bucket[b]; k != 0; k = r->slot[k - 1].chain)
		if (r->slot[k - 1].t == t && memcmp(r->slot[k - 1].r, in + 8, 16) == 0)
			return -EALREADY;
	/* Remember it; the slot overwritten raises the floor if it was still in time,
	 * and leaves its chain. */
	if (r->used == SECURE_REPLAY_SLOTS) {
		uint16_t *p = &r->bucket[replay_bucket(r->slot[r->next].r)];

		if (r->slot[r->next].t > r->floor)
			r->floor = r->slot[r->next].t;
		while (*p != 0 && *p != r->next + 1)
			p = &r->slot[*p - 1].chain;
		if (*p != 0)
			*p = r->slot[r->next].chain;
	}
	r->slot[r->next].t = t;
	memcpy(r->slot[r->next].r, in + 8, 16);
	r->slot[r->next].chain = r->bucket[b];
	r->bucket[b] = (uint16_t)(r->next + 1);
	r->next = (r->next + 1) % SECURE_REPLAY_SLOTS;
	if (r->used < SECURE_REPLAY_SLOTS)
		r->used++;
	*outlen = len;
	return 0;
}

uint64_t
secure_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

size_t
secure_dgram_seal_inplace(const uint8_t key[SECURE_KEY_LEN], uint8_t *buf, size_t n)
{
	uint8_t tmp[65536];

	if (n > sizeof tmp)
		return 0;
	memcpy(tmp, buf, n);
	return secure_dgram_seal(key, secure_wall_ms(), tmp, n, buf);
}

long
secure_dgram_open_inplace(const uint8_t key[SECURE_KEY_LEN], struct secure_replay *r,
    uint8_t *buf, size_t n)
{
	uint8_t out[65536];
	size_t ol;
	int rc;

	if (n > sizeof out)
		rc = -EBADMSG;
	else
		rc = secure_dgram_open(key, r, secure_wall_ms(), buf, n, out, &ol);
	if (rc == -EBADMSG)
		r->forged++;
	else if (rc == -ESTALE)
		r->stale++;
	else if (rc == -EALREADY)
		r->replayed++;
	if (rc < 0)
		return rc;
	memcpy(buf, out, ol);
	return (long)ol;
}
