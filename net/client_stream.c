/* client_stream.c - the client library's streams (client.h, client_int.h).
 *
 * Read-ahead and write-behind as the servers do them (net/rstream.c,
 * docs/protocol.md): reads ahead only once a byte has been delivered, writes behind
 * only once the server says the stream parks writes; each within the windows of
 * net/window.h.  The replies of a stream's requests come in among the others, and
 * client_stash files each with the request it answers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/client_int.h"
#include "net/window.h"

static void
pend_free(struct pend *p)
{
	free(p->msg);
	free(p->data);
	free(p);
}

static void
pend_append(struct pend **q, struct pend *p)
{
	while (*q != NULL)
		q = &(*q)->next;
	*q = p;
}

/* A reply for a stream's read or write in flight: record it (0), ignore it (a reply to
 * a read cancelled at close), or -EPROTO. */
int
client_stash(struct circuit *c, const struct frame *f)
{
	struct circuit_stream *s;
	struct pend **pp, *p = NULL;
	const uint8_t *b;
	size_t bl;
	json_t *h, *j;
	int isread = 0;

	for (s = c->streams; s != NULL && p == NULL; s = s->next) {
		for (pp = &s->rq; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->tag == f->id && !(*pp)->done) {
				p = *pp;
				isread = 1;
				break;
			}
		if (p != NULL)
			break;
		for (pp = &s->wq; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->tag == f->id) {
				p = *pp;
				break;
			}
		if (p != NULL)
			break;
	}
	if (p == NULL)
		return 0;
	if (client_msg_parse(c, f, &h, &b, &bl) < 0 ||
	    !json_is_integer(j = json_object_get(h, "rc")) ||
	    (isread && json_integer_value(j) >= 0 && bl > p->asked)) {
		json_decref(h);
		return -EPROTO;
	}
	p->rc = (int)json_integer_value(j);
	if (p->rc < 0) {
		const char *m = json_string_value(json_object_get(h, "msg"));
		p->msg = strdup(m != NULL ? m : strerror(-p->rc));
	}
	json_decref(h);
	if (isread) {
		p->done = 1;
		s->ra_budget -= p->asked;
		if (p->rc < 0) {
			s->ra_stop = 1;
			return 0;
		}
		if (c->direct) {
			p->direct = 1;		/* already in the reader's buffer */
		} else if (c->rbody != NULL) {
			p->data = c->rbody;	/* taken over, no copy */
			c->rbody = NULL;
		} else {
			if ((p->data = malloc(bl + 1)) == NULL)
				return -ENOMEM;
			memcpy(p->data, b, bl);
		}
		p->len = bl;
		s->ra_budget += bl;
		if (bl == 0)
			s->ra_stop = 1;
		return 0;
	}
	/* A write written behind: unlink it, keep its failure for the next call. */
	*pp = p->next;
	s->nwq--;
	s->wb_bytes -= p->asked;
	if ((p->rc < 0 || (size_t)p->rc != p->asked) && s->werr == 0) {
		s->werr = p->rc < 0 ? p->rc : -EIO;
		s->wmsg = p->msg;
		p->msg = NULL;
	}
	pend_free(p);
	return 0;
}

/* Read one frame and hand it to the stream waiting for it. */
static int
pump(struct circuit *c, char **err)
{
	struct frame f;
	uint8_t *payload;
	int rc;

	if (c->fd < 0)
		return client_gone(c, err);
	if ((rc = client_read_frame(c, &f, &payload)) < 0)
		return client_lost(c, rc, err);
	if (f.type == FRAME_REFUSE) {
		rc = client_refused(c, &f, err);
		free(payload);
		return rc;
	}
	if (f.type == FRAME_REP)
		rc = client_stash(c, &f);
	free(payload);
	return rc < 0 ? client_lost(c, rc, err) : 0;
}

int
circuit_open(struct circuit *c, const char *path, const char *file, int mode,
    struct circuit_stream **out, char **err)
{
	json_t *head = client_req("open", path, file), *rep, *j;
	struct circuit_stream *s;
	int rc;

	*out = NULL;
	if (head == NULL)
		return client_fail(err, -ENOMEM, "out of memory");
	json_object_set_new(head, "mode", json_integer(mode == CIRCUIT_WRITE ? 1 : 0));
	rc = client_call(c, head, NULL, 0, &rep, NULL, NULL, err);
	json_decref(head);
	if (rc < 0)
		return rc;
	j = json_object_get(rep, "h");
	if (!json_is_integer(j) || json_integer_value(j) <= 0 || json_integer_value(j) > UINT32_MAX) {
		json_decref(rep);
		return client_fail(err, -EPROTO, "%s: bad reply", c->where);
	}
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		json_decref(rep);
		return client_fail(err, -ENOMEM, "out of memory");
	}
	s->c = c;
	s->h = (uint32_t)json_integer_value(j);
	s->writer = mode == CIRCUIT_WRITE;
	s->next = c->streams;
	c->streams = s;
	json_decref(rep);
	*out = s;
	return 0;
}

/* Ask for up to max bytes of s, without waiting. */
static int
ask_read(struct circuit_stream *s, size_t max, char **err)
{
	json_t *head = client_req("read", NULL, NULL);
	struct pend *p;
	int rc;

	if (head == NULL || (p = calloc(1, sizeof *p)) == NULL) {
		json_decref(head);
		return client_fail(err, -ENOMEM, "out of memory");
	}
	json_object_set_new(head, "h", json_integer(s->h));
	json_object_set_new(head, "max", json_integer((json_int_t)max));
	rc = client_send_req(s->c, head, NULL, 0, &p->tag, err);
	json_decref(head);
	if (rc < 0) {
		free(p);
		return rc;
	}
	p->asked = max;
	s->ra_budget += max;
	pend_append(&s->rq, p);
	return 0;
}

ssize_t
circuit_read(struct circuit_stream *s, void *buf, size_t max, char **err)
{
	struct pend *p;
	size_t n, ask;
	int rc = 0;

	if (max > FRAME_DATA_MAX)
		max = FRAME_DATA_MAX;
	if (max == 0)
		return 0;
	/* Before the first byte, exactly the reader's request (net/window.h): a recv
	 * closed before it reads anything gives its message back.  A request that cannot
	 * go out fails the call only if nothing asked before is left to deliver. */
	if ((ask = ra_ask(s->delivered, s->ra_stop, s->rq != NULL, s->ra_budget, max)) > 0 &&
	    (rc = ask_read(s, ask, s->rq != NULL ? NULL : err)) < 0) {
		if (s->rq == NULL)
			return rc;
		rc = 0;
	}
	p = s->rq;
	/* Its answer may come straight into buf. */
	s->c->dtag = p->tag;
	s->c->dbuf = buf;
	s->c->dmax = max;
	while (!p->done)
		if ((rc = pump(s->c, err)) < 0)
			break;
	s->c->dtag = 0;
	s->c->dbuf = NULL;
	if (rc < 0)
		return rc;
	if (p->rc < 0 || p->len == 0) {
		s->rq = p->next;
		rc = p->rc;
		if (rc < 0)
			client_fail(err, rc, "%s", p->msg);
		pend_free(p);
		return rc;
	}
	n = p->len - p->off;
	if (n > max)
		n = max;
	if (!p->direct)
		memcpy(buf, p->data + p->off, n);
	p->off += n;
	s->ra_budget -= n;
	s->delivered = 1;
	if (p->off == p->len) {
		s->rq = p->next;
		pend_free(p);
	}
	/* Keep the window asked for while the caller uses these bytes (no read waits).
	 * A request that cannot go out must not take back the bytes already in buf: the
	 * connection is closed by then, and the next call says so. */
	while ((ask = ra_ask(s->delivered, s->ra_stop, s->rq != NULL, s->ra_budget, 0)) > 0)
		if (ask_read(s, ask, NULL) < 0)
			break;
	return (ssize_t)n;
}

static int
take_werr(struct circuit_stream *s, char **err)
{
	int rc = s->werr;

	s->werr = 0;
	client_fail(err, rc, "%s", s->wmsg != NULL ? s->wmsg : strerror(-rc));
	free(s->wmsg);
	s->wmsg = NULL;
	return rc;
}

ssize_t
circuit_write(struct circuit_stream *s, const void *buf, size_t len, char **err)
{
	const char *p = buf;
	size_t done = 0;

	if (s->werr != 0)
		return take_werr(s, err);
	while (done < len) {
		size_t n = len - done > FRAME_DATA_MAX ? FRAME_DATA_MAX : len - done;
		json_t *head = client_req("write", NULL, NULL), *rep;
		struct pend *w;
		int rc;

		if (head == NULL)
			return client_fail(err, -ENOMEM, "out of memory");
		json_object_set_new(head, "h", json_integer(s->h));
		if (s->wb) {
			/* Written behind: wait only for room in the window. */
			while (!wb_fits(s->nwq, s->wb_bytes, n) && s->werr == 0)
				if ((rc = pump(s->c, err)) < 0) {
					json_decref(head);
					return rc;
				}
			if (s->werr != 0) {
				json_decref(head);
				return take_werr(s, err);
			}
			if ((w = calloc(1, sizeof *w)) == NULL) {
				json_decref(head);
				return client_fail(err, -ENOMEM, "out of memory");
			}
			rc = client_send_req(s->c, head, p + done, n, &w->tag, err);
			json_decref(head);
			if (rc < 0) {
				free(w);
				return rc;
			}
			w->asked = n;
			s->wb_bytes += n;
			s->nwq++;
			pend_append(&s->wq, w);
			done += n;
			continue;
		}
		rc = client_call(s->c, head, p + done, n, &rep, NULL, NULL, err);
		json_decref(head);
		if (rc >= 0 && json_is_true(json_object_get(rep, "wb")))
			s->wb = 1;
		json_decref(rep);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return client_fail(err, -EIO, "write: the stream took nothing");
		done += (size_t)rc;
	}
	return (ssize_t)len;
}

/* Send the RELEASE of s: empty, or {"abort": true} (docs/protocol.md). */
static int
send_release(struct circuit_stream *s, int aborted)
{
	uint8_t hdr[FRAME_HDR], *buf;
	json_t *head;
	size_t len;
	int rc;

	if (!aborted) {
		frame_header(hdr, FRAME_RELEASE, s->h, 0);
		return client_write(s->c, hdr, sizeof hdr);
	}
	if ((head = json_pack("{s:b}", "abort", 1)) == NULL)
		return -ENOMEM;
	rc = frame_msg_build(FRAME_RELEASE, s->h, head, NULL, 0, &buf, &len);
	json_decref(head);
	if (rc < 0)
		return rc;
	rc = client_write(s->c, buf, len);
	free(buf);
	return rc;
}

/* Close s, as a whole stream or as an aborted one. */
static int
stream_end(struct circuit_stream *s, int aborted, char **err)
{
	struct circuit_stream **sp;
	struct pend *p;
	uint8_t hdr[FRAME_HDR];
	int rc = 0, wrc;

	if (s == NULL)
		return 0;
	/* Reads asked ahead are not wanted: cancel them (their replies are ignored). */
	while ((p = s->rq) != NULL) {
		s->rq = p->next;
		if (!p->done && s->c->fd >= 0) {
			frame_header(hdr, FRAME_CANCEL, p->tag, 0);
			if ((wrc = client_write(s->c, hdr, sizeof hdr)) < 0)
				client_lost(s->c, wrc, NULL);
		}
		pend_free(p);
	}
	if (s->c->fd >= 0 && (rc = send_release(s, aborted)) < 0)
		rc = rc == -ENOMEM ? rc : client_lost(s->c, rc, err);
	else if (s->c->fd < 0 && s->writer && !aborted)
		/* No RELEASE can go: what was written ends aborted at the owner, never
		 * as a whole message (docs/protocol.md), so the close must not pass. */
		rc = client_fail(err, -EHOSTDOWN, "%s: connection lost before the close: the "
		    "stream did not end whole: %s", s->c->where, s->c->lost_why);
	/* Writes written behind: their outcome is the close's (an abort does not wait). */
	while (rc == 0 && !aborted && s->wq != NULL)
		rc = pump(s->c, err);
	if (rc == 0 && s->werr != 0)
		rc = take_werr(s, err);
	while ((p = s->wq) != NULL) {
		s->wq = p->next;
		pend_free(p);
	}
	for (sp = &s->c->streams; *sp != NULL; sp = &(*sp)->next)
		if (*sp == s) {
			*sp = s->next;
			break;
		}
	free(s->wmsg);
	free(s);
	return rc;
}

int
circuit_stream_close(struct circuit_stream *s, char **err)
{
	return stream_end(s, 0, err);
}

void
circuit_stream_abort(struct circuit_stream *s)
{
	stream_end(s, 1, NULL);
}
