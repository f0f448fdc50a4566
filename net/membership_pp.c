/* membership_pp.c - the membership core's push-pull: both sides exchange
 * their full state in numbered chunks that each fit a datagram, and missing
 * chunks are asked for again by number.  Joins, merges, heals and the
 * periodic repair of what gossip missed all use it.
 */
#include <stdlib.h>
#include <string.h>

#include "net/membership_int.h"

/* ---- Push-pull: the full state in numbered chunks that each fit a
 * datagram; missing chunks are asked for again by number. */

static struct ppsess *
pp_find(struct mb *mb, const mb_addr *peer, uint32_t token, int create,
    int64_t now)
{
	size_t i;
	struct ppsess *s, *pick = NULL;

	for (i = 0; i < PP_SESSIONS; i++) {
		s = &mb->pp[i];
		if (s->used && s->token == token && mb_addr_eq(&s->peer, peer))
			return s;
	}
	if (!create)
		return NULL;
	/* A free slot, or else the exchange closest to giving up. */
	for (i = 0; i < PP_SESSIONS; i++) {
		s = &mb->pp[i];
		if (!s->used) {
			pick = s;
			break;
		}
		if (pick == NULL || s->deadline < pick->deadline)
			pick = s;
	}
	memset(pick, 0, sizeof(*pick));
	pick->used = 1;
	pick->peer = *peer;
	pick->token = token;
	pick->deadline = now + mb->cfg.join_retry;
	return pick;
}

static void
pp_send_state(struct mb *mb, const mb_addr *to, uint32_t token, int all,
    const uint8_t *want)
{
	struct mb_update u;
	size_t i, room, hdr, sz;
	int idx = 0, total, pass;

	memset(&mb->out, 0, sizeof(mb->out));
	mb->out.type = MB_MSG_PP_STATE;
	hdr = mb_header_size(&mb->out);
	/* Two passes: count the chunks, then send the wanted ones. */
	total = 0;
	for (pass = 0; pass < 2; pass++) {
		idx = 0;
		room = MB_MAX_PAYLOAD - hdr;
		mb->out.nupd = 0;
		for (i = 0; i <= mb->n; i++) {
			if (i < mb->n) {
				struct mb_member *m = &mb->m[i];
				int kind = m->state == MB_ALIVE ? MB_UPD_ALIVE :
				    m->state == MB_SUSPECT ? MB_UPD_SUSPECT :
				    m->state == MB_DEAD ? MB_UPD_DEAD : MB_UPD_LEFT;

				mb__to_update(m, kind, mb->id, &u);
				sz = mb_update_size(&u);
				if (sz <= room && mb->out.nupd < MB_MAX_UPDATES) {
					room -= sz;
					if (pass)
						mb->out.upd[mb->out.nupd] = u;
					mb->out.nupd++;
					continue;
				}
			}
			if (mb->out.nupd == 0)
				break;
			if (pass && idx < total &&
			    (all || (want[idx / 8] >> (idx % 8) & 1))) {
				mb->out.seq = token;
				mb->out.idx = (uint8_t)idx;
				mb->out.total = (uint8_t)total;
				mb__send(mb, to, &mb->out, 0);
				mb->out.type = MB_MSG_PP_STATE;
			}
			idx++;
			if (idx >= MB_PP_MAX_CHUNKS - 1)
				break;
			room = MB_MAX_PAYLOAD - hdr;
			mb->out.nupd = 0;
			if (i < mb->n)
				i--;	/* this member starts the next chunk */
		}
		total = idx;
	}
}

void
mb__pp_request(struct mb *mb, int64_t now, const mb_addr *to, int flags)
{
	uint32_t token = (uint32_t)mb__rand(mb, UINT32_MAX) + 1;
	struct ppsess *s = pp_find(mb, to, token, 1, now);

	s->initiator = 1;
	memset(&mb->out, 0, sizeof(mb->out));
	mb->out.type = MB_MSG_PP_REQ;
	mb->out.seq = token;
	mb->out.flags = (uint8_t)flags;
	mb__send(mb, to, &mb->out, 0);
	if (flags & MB_PP_PUSH)
		pp_send_state(mb, to, token, 1, NULL);
}

static void
pp_ask(struct mb *mb, struct ppsess *s)
{
	int i;

	memset(&mb->out, 0, sizeof(mb->out));
	mb->out.type = MB_MSG_PP_REQ;
	mb->out.seq = s->token;
	if (s->total == 0)
		mb->out.flags = MB_PP_ALL | (s->initiator ? MB_PP_PUSH : 0);
	for (i = 0; i < s->total; i++)
		if (!(s->got[i / 8] >> (i % 8) & 1))
			mb->out.want[i / 8] |= (uint8_t)(1 << (i % 8));
	mb__send(mb, &s->peer, &mb->out, 0);
	if (mb->out.flags & MB_PP_PUSH)
		pp_send_state(mb, &s->peer, s->token, 1, NULL);
}

void
mb__pp_timers(struct mb *mb, int64_t now)
{
	size_t i;
	struct ppsess *s;

	for (i = 0; i < PP_SESSIONS; i++) {
		s = &mb->pp[i];
		if (!s->used || now < s->deadline)
			continue;
		if (s->done || ++s->tries > 5) {
			s->used = 0;
			continue;
		}
		s->deadline = now + mb->cfg.join_retry;
		pp_ask(mb, s);
	}
}

void
mb__pp_on_state(struct mb *mb, int64_t now, const mb_addr *from)
{
	struct mb_msg *m = &mb->msg;
	struct ppsess *s;
	int i;

	for (i = 0; i < m->nupd; i++)
		mb__apply(mb, now, &m->upd[i], from, m->sender, MB_FROM_STATE);
	s = pp_find(mb, from, m->seq, 1, now);
	if (s->done)
		return;
	s->total = m->total;
	s->got[m->idx / 8] |= (uint8_t)(1 << (m->idx % 8));
	for (i = 0; i < s->total; i++)
		if (!(s->got[i / 8] >> (i % 8) & 1))
			break;
	if (i == s->total) {
		/* Keep the record a while so a late request of the same
		 * exchange does not start it over. */
		s->done = 1;
		s->deadline = now + 2 * mb->cfg.join_retry;
		return;
	}
	/* Wait a little for the chunks still in flight before asking. */
	s->deadline = now + mb->cfg.join_retry / 2;
}

/* A request: send the chunks it wants (all of them, or those its bitmap
 * names) and, if it pushes its own state, expect it. */
void
mb__pp_on_req(struct mb *mb, int64_t now, const mb_addr *from)
{
	struct mb_msg *m = &mb->msg;

	pp_send_state(mb, from, m->seq, m->flags & MB_PP_ALL, m->want);
	if (m->flags & MB_PP_PUSH)
		pp_find(mb, from, m->seq, 1, now);
}
