/* membership_wire.c - the membership datagram codec.
 *
 * Layout (integers big-endian):
 *   u8 version, u8 type, u64 sender, then per type:
 *   PING      u32 seq, u64 target, updates
 *   ACK       u32 seq, updates
 *   NACK      u32 seq
 *   PING_REQ  u32 seq, u64 target, addr target, updates
 *   GOSSIP    updates
 *   PP_REQ    u32 token, u8 flags, 32 bytes of wanted chunks
 *   PP_STATE  u32 token, u8 flags, u8 idx, u8 total, updates
 * updates:    u8 count, then count times:
 *   u8 kind, u64 id, u32 incarnation, addr, and u64 accuser for SUSPECT
 * addr:       u8 family (4 or 6), 4 or 16 bytes, u16 port
 *
 * The decoder is the only code that sees bytes from the network, so it checks
 * every length before reading and rejects trailing bytes: a datagram either
 * parses exactly or is dropped.
 */
#include <errno.h>
#include <string.h>

#include "net/membership.h"

struct rd {
	const uint8_t	*p;
	size_t		 left;
	int		 bad;
	int		 trunc;		/* ran out of bytes */
};

static uint64_t
get(struct rd *r, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (r->bad || r->left < n) {
		r->trunc |= !r->bad;
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		v = v << 8 | r->p[i];
	r->p += n;
	r->left -= n;
	return v;
}

static void
get_addr(struct rd *r, mb_addr *a)
{
	size_t n;

	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)get(r, 1);
	if (a->family == MB_AF_INET)
		n = 4;
	else if (a->family == MB_AF_INET6)
		n = 16;
	else {
		r->bad = 1;
		return;
	}
	if (r->bad || r->left < n) {
		r->trunc |= !r->bad;
		r->bad = 1;
		return;
	}
	memcpy(a->ip, r->p, n);
	r->p += n;
	r->left -= n;
	a->port = (uint16_t)get(r, 2);
	if (a->port == 0)
		r->bad = 1;
}

static void
get_updates(struct rd *r, struct mb_msg *m)
{
	int i, n;
	struct mb_update *u;

	n = (int)get(r, 1);
	if (n > MB_MAX_UPDATES) {
		r->bad = 1;
		return;
	}
	for (i = 0; i < n && !r->bad; i++) {
		u = &m->upd[i];
		u->kind = (uint8_t)get(r, 1);
		u->id = get(r, 8);
		u->inc = (uint32_t)get(r, 4);
		get_addr(r, &u->addr);
		u->from = 0;
		switch (u->kind & ~MB_UPD_PRIVATE) {
		case MB_UPD_SUSPECT:
			u->from = get(r, 8);
			break;
		case MB_UPD_ALIVE:
		case MB_UPD_DEAD:
			break;
		case MB_UPD_LEFT:
			if (u->kind & MB_UPD_PRIVATE)
				r->bad = 1;
			break;
		default:
			r->bad = 1;
		}
		if (u->id == 0)
			r->bad = 1;
	}
	m->nupd = r->bad ? 0 : n;
}

int
mb_decode(const uint8_t *buf, size_t len, struct mb_msg *m)
{
	struct rd r = { buf, len, 0, 0 };

	if (len > MB_MAX_DATAGRAM)
		return -EMSGSIZE;
	if (len < 10)
		return len > 0 && buf[0] != MB_VERSION ? -EPROTO : -EMSGSIZE;
	if (buf[0] != MB_VERSION)
		return -EPROTO;
	get(&r, 1);
	m->type = (uint8_t)get(&r, 1);
	m->sender = get(&r, 8);
	m->nupd = 0;
	m->seq = 0;
	m->target = 0;
	m->flags = m->idx = m->total = 0;
	if (m->sender == 0)
		return -EBADMSG;
	switch (m->type) {
	case MB_MSG_PING:
		m->seq = (uint32_t)get(&r, 4);
		m->target = get(&r, 8);
		get_updates(&r, m);
		break;
	case MB_MSG_ACK:
		m->seq = (uint32_t)get(&r, 4);
		get_updates(&r, m);
		break;
	case MB_MSG_NACK:
		m->seq = (uint32_t)get(&r, 4);
		break;
	case MB_MSG_PING_REQ:
		m->seq = (uint32_t)get(&r, 4);
		m->target = get(&r, 8);
		get_addr(&r, &m->target_addr);
		get_updates(&r, m);
		break;
	case MB_MSG_GOSSIP:
		get_updates(&r, m);
		break;
	case MB_MSG_PP_REQ:
		m->seq = (uint32_t)get(&r, 4);
		m->flags = (uint8_t)get(&r, 1);
		if (r.left < sizeof(m->want)) {
			r.trunc |= !r.bad;
			r.bad = 1;
			break;
		}
		memcpy(m->want, r.p, sizeof(m->want));
		r.p += sizeof(m->want);
		r.left -= sizeof(m->want);
		break;
	case MB_MSG_PP_STATE:
		m->seq = (uint32_t)get(&r, 4);
		m->flags = (uint8_t)get(&r, 1);
		m->idx = (uint8_t)get(&r, 1);
		m->total = (uint8_t)get(&r, 1);
		if (m->idx >= m->total)
			r.bad = 1;
		get_updates(&r, m);
		break;
	default:
		return -EBADMSG;
	}
	if (r.bad)
		return r.trunc ? -EMSGSIZE : -EBADMSG;
	if (r.left != 0)
		return -EBADMSG;
	return 0;
}

struct wr {
	uint8_t	*p;
	size_t	 left;
	int	 bad;
};

static void
put(struct wr *w, uint64_t v, size_t n)
{
	size_t i;

	if (w->bad || w->left < n) {
		w->bad = 1;
		return;
	}
	for (i = 0; i < n; i++)
		w->p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	w->p += n;
	w->left -= n;
}

static void
put_bytes(struct wr *w, const uint8_t *b, size_t n)
{
	if (w->bad || w->left < n) {
		w->bad = 1;
		return;
	}
	memcpy(w->p, b, n);
	w->p += n;
	w->left -= n;
}

static void
put_addr(struct wr *w, const mb_addr *a)
{
	put(w, a->family, 1);
	put_bytes(w, a->ip, a->family == MB_AF_INET6 ? 16 : 4);
	put(w, a->port, 2);
}

static void
put_updates(struct wr *w, const struct mb_msg *m)
{
	int i;
	const struct mb_update *u;

	put(w, (uint64_t)m->nupd, 1);
	for (i = 0; i < m->nupd; i++) {
		u = &m->upd[i];
		put(w, u->kind, 1);
		put(w, u->id, 8);
		put(w, u->inc, 4);
		put_addr(w, &u->addr);
		if ((u->kind & ~MB_UPD_PRIVATE) == MB_UPD_SUSPECT)
			put(w, u->from, 8);
	}
}

size_t
mb_update_size(const struct mb_update *u)
{
	size_t n = 1 + 8 + 4 + 1 + 2;

	n += u->addr.family == MB_AF_INET6 ? 16 : 4;
	if ((u->kind & ~MB_UPD_PRIVATE) == MB_UPD_SUSPECT)
		n += 8;
	return n;
}

size_t
mb_header_size(const struct mb_msg *m)
{
	size_t n = 10;

	switch (m->type) {
	case MB_MSG_PING:	return n + 4 + 8 + 1;
	case MB_MSG_ACK:	return n + 4 + 1;
	case MB_MSG_NACK:	return n + 4;
	case MB_MSG_PING_REQ:
		return n + 4 + 8 + 3 +
		    (m->target_addr.family == MB_AF_INET6 ? 16 : 4) + 1;
	case MB_MSG_GOSSIP:	return n + 1;
	case MB_MSG_PP_REQ:	return n + 4 + 1 + sizeof(m->want);
	case MB_MSG_PP_STATE:	return n + 4 + 3 + 1;
	}
	return n;
}

int
mb_encode(const struct mb_msg *m, uint8_t *buf, size_t cap)
{
	struct wr w = { buf, cap, 0 };

	if (m->nupd < 0 || m->nupd > MB_MAX_UPDATES)
		return -EMSGSIZE;
	put(&w, MB_VERSION, 1);
	put(&w, m->type, 1);
	put(&w, m->sender, 8);
	switch (m->type) {
	case MB_MSG_PING:
		put(&w, m->seq, 4);
		put(&w, m->target, 8);
		put_updates(&w, m);
		break;
	case MB_MSG_ACK:
		put(&w, m->seq, 4);
		put_updates(&w, m);
		break;
	case MB_MSG_NACK:
		put(&w, m->seq, 4);
		break;
	case MB_MSG_PING_REQ:
		put(&w, m->seq, 4);
		put(&w, m->target, 8);
		put_addr(&w, &m->target_addr);
		put_updates(&w, m);
		break;
	case MB_MSG_GOSSIP:
		put_updates(&w, m);
		break;
	case MB_MSG_PP_REQ:
		put(&w, m->seq, 4);
		put(&w, m->flags, 1);
		put_bytes(&w, m->want, sizeof(m->want));
		break;
	case MB_MSG_PP_STATE:
		put(&w, m->seq, 4);
		put(&w, m->flags, 1);
		put(&w, m->idx, 1);
		put(&w, m->total, 1);
		put_updates(&w, m);
		break;
	default:
		return -EMSGSIZE;
	}
	if (w.bad)
		return -EMSGSIZE;
	return (int)(cap - w.left);
}
