/* serve.c - the owner side of the RPC layer (see rpc_int.h).
 *
 * One rpc_inreq per request run for the other end (conn->inreqs), one rpc_handle per
 * stream opened for it (conn->handles).  The lists keep the order things close in when
 * the connection goes; a tag or handle the other end names is found through the id
 * tables (net/idtab.h), so a frame costs the same however many the connection holds.
 * A handle released while a request on it still runs is released when that request
 * completes, so a stream never goes away under its own op.  A handle whose connection died is released as aborted: what its
 * opener was writing is cut short.
 */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "net/rpc_int.h"

/* Requests of one connection in flight here, and the bytes they hold.  Reading is never
 * paused for them: a request parked here (a rendezvous write, a recv open) may wait for
 * one that is still behind it on the same connection (the read that takes its bytes),
 * so pausing deadlocks.  Well-behaved peers stay far below these caps (every stream
 * bounds its own window); a connection past them is dropped. */
#define INREQ_MAX	65536
#define INREQ_BYTES_MAX	(256u << 20)
/* Streams one connection may hold open here: an OPEN past it is EMFILE, as open(2)
 * past a process's limit (each handle holds its stream and a reference on its
 * element, a few hundred bytes that the other end never has to give back).  OPENs in
 * flight count too, so one that will be refused never starts: a stream opened and
 * then given back would still have acted (an empty message sent, a stdin closed). */
#define HANDLES_MAX	65536
#define PATH_MAX_WIRE	4096

struct rpc_inreq {
	uint32_t tag;
	size_t bytes;			/* request body bytes, counted in c->inreq_bytes */
	int wb;				/* WRITE: the stream parks writes (REP "wb") */
	struct op *op;
	struct conn *c;			/* NULL once the connection is gone */
	struct rpc_handle *h;		/* READ/WRITE: the handle it runs on */
	TAILQ_ENTRY(rpc_inreq) link;
	struct idtab_node byid;		/* in c->inreq_tab by tag */
};

struct rpc_handle {
	uint32_t id;
	struct stream *s;
	int busy;			/* requests running on it */
	int released;			/* RELEASE came (or the connection died) */
	uint32_t poll_tag;		/* a readiness wait (a read of 0 with "wait") */
	struct conn *c;
	TAILQ_ENTRY(rpc_handle) link;
	struct idtab_node byid;		/* in c->handle_tab by id */
	struct idtab_node bypoll;	/* in c->poll_tab by poll_tag, while it is set */
};

static void poll_answer(struct rpc_handle *h, int rc);

static void
handle_free(struct rpc_handle *h)
{
	assert(h->released && h->busy == 0);	/* never under a request of its own */
	if (h->c != NULL) {
		TAILQ_REMOVE(&h->c->handles, h, link);
		idtab_del(&h->c->handle_tab, &h->byid);
		h->c->nhandles--;
	}
	poll_answer(h, -ECANCELED);
	if (h->s != NULL) {
		h->s->notify = NULL;
		h->s->ops->release(h->s);
	}
	free(h);
}

static void
inreq_done(struct op *op)
{
	struct rpc_inreq *r = op->arg;
	struct conn *c = r->c;
	struct rpc_handle *h = r->h;
	uint8_t *hbuf;
	size_t hlen, blen = 0;
	char *body = NULL;
	json_t *head;
	int64_t size = -1;

	assert(r->op == op && (h == NULL || h->busy > 0));

	/* A stream with a size tells it with each read and at its open (tail -f). */
	if (op->type == OP_READ && op->rc >= 0 && h != NULL && h->s->ops->size != NULL)
		size = h->s->ops->size(h->s, 0);
	else if (op->type == OP_OPEN && op->rc == 0 && op->stream != NULL &&
	    op->stream->ops->size != NULL)
		size = op->stream->ops->size(op->stream, 0);
	if (h != NULL) {
		h->busy--;
		if (h->released && h->busy == 0)
			handle_free(h);
	}
	if (c == NULL) {
		/* The caller is gone: undo what the op made.  Its opener vanished, so
		 * the stream ends aborted, as a handle does when its connection dies:
		 * never an empty message delivered whole or an EOF on a stdin. */
		if (op->type == OP_OPEN && op->rc == 0 && op->stream != NULL) {
			op->stream->aborted = 1;
			op->stream->ops->release(op->stream);
		}
		op->stream = NULL;
		free(r);
		return;
	}
	TAILQ_REMOVE(&c->inreqs, r, link);
	idtab_del(&c->inreq_tab, &r->byid);
	c->ninreqs--;
	if (op->type == OP_OPEN)
		c->nopening--;
	c->inreq_bytes -= r->bytes;
	head = json_pack("{s:i}", "rc", op->rc);
	if (head == NULL)
		goto fail;
	if (size >= 0 && op->rc >= 0)
		json_object_set_new(head, "size", json_integer(size));
	if (op->rc < 0) {
		if (op->msg != NULL)
			json_object_set_new(head, "msg", json_string(op->msg));
	} else if ((op->type == OP_STAT || op->type == OP_LIST) && op->json != NULL) {
		json_object_set(head, "json", op->json);
	} else if (op->type == OP_OPEN) {
		struct rpc_handle *nh = calloc(1, sizeof *nh);
		uint32_t id;

		/* serve_req counted this open against the cap before it started. */
		assert(c->nhandles < HANDLES_MAX);
		if (nh != NULL) {
			/* Ids wrap after 2^32 opens: one still in use is skipped. */
			id = idtab_next_id(&c->handle_tab, &c->next_handle);
			if (idtab_add(&c->handle_tab, &nh->byid, id) < 0) {
				free(nh);
				nh = NULL;
			}
		}
		if (nh == NULL) {
			/* Released before a byte was read: what it took (a channel's
			 * message, a subscription's event) goes back; one opened for
			 * writing ends aborted, as if its opener vanished (nothing was
			 * written, and its caller is told it failed). */
			op->stream->aborted = 1;
			op->stream->ops->release(op->stream);
			op->stream = NULL;
			json_object_set_new(head, "rc", json_integer(-ENOMEM));
			json_object_set_new(head, "msg", json_string("out of memory"));
		} else {
			nh->id = id;
			nh->s = op->stream;
			nh->c = c;
			op->stream = NULL;
			TAILQ_INSERT_TAIL(&c->handles, nh, link);
			c->nhandles++;
			json_object_set_new(head, "h", json_integer(nh->id));
		}
	} else if (op->type == OP_WRITE && r->wb) {
		json_object_set_new(head, "wb", json_true());
	} else if ((op->type == OP_SNAP || op->type == OP_READ) && op->data != NULL) {
		body = op->data;
		blen = op->len;
		op->data = NULL;
	}
	if (frame_msg_build_head(FRAME_REP, r->tag, head, blen, &hbuf, &hlen) < 0) {
		json_decref(head);
		free(body);
		goto fail;
	}
	json_decref(head);
	conn_send2(c, hbuf, hlen, body, blen);
	free(r);
	return;
fail:
	log_warnx("connection %s: cannot build a reply: dropping it", c->name);
	free(r);
	conn_close_later(c, -ENOMEM);
}

static int
str_field(json_t *head, const char *key, size_t max, const char **out)
{
	json_t *j = json_object_get(head, key);

	*out = NULL;
	if (j == NULL)
		return 0;
	if (!json_is_string(j) || json_string_length(j) > max ||
	    strlen(json_string_value(j)) != json_string_length(j))
		return -EINVAL;
	*out = json_string_value(j);
	return 0;
}

static int parse_req(json_t *head, const uint8_t *body, size_t bodylen, struct conn *from,
    struct op **out, uint32_t *handle, const char **msg);

int
rpc_parse_req(json_t *head, const uint8_t *body, size_t bodylen, struct op **out,
    uint32_t *handle, const char **msg)
{
	return parse_req(head, body, bodylen, NULL, out, handle, msg);
}

/* rpc_parse_req; the body is from's body received apart if from is not NULL, taken
 * over as the op's data without a copy. */
static int
parse_req(json_t *head, const uint8_t *body, size_t bodylen, struct conn *from,
    struct op **out, uint32_t *handle, const char **msg)
{
	const char *name, *path, *file, *client;
	json_t *j;
	struct op *op;
	int type;

	*out = NULL;
	*handle = 0;
	if (str_field(head, "op", 16, &name) < 0 || name == NULL ||
	    (type = rpc_op_type(name)) < 0) {
		*msg = "bad or missing op";
		return -EINVAL;
	}
	if (str_field(head, "path", PATH_MAX_WIRE, &path) < 0 ||
	    str_field(head, "file", 255, &file) < 0 ||
	    str_field(head, "client", 200, &client) < 0) {
		*msg = "bad path, file or client";
		return -EINVAL;
	}
	if (type == OP_READ || type == OP_WRITE) {
		j = json_object_get(head, "h");
		if (!json_is_integer(j) || json_integer_value(j) <= 0 ||
		    json_integer_value(j) > UINT32_MAX) {
			*msg = "bad stream handle";
			return -EINVAL;
		}
		*handle = (uint32_t)json_integer_value(j);
	} else if (path == NULL || path[0] != '/') {
		*msg = "bad or missing anchor path";
		return -EINVAL;
	}
	if ((type == OP_SNAP || type == OP_OPEN) && (file == NULL || strchr(file, '/') != NULL)) {
		*msg = "bad or missing file";
		return -EINVAL;
	}
	if (bodylen > FRAME_DATA_MAX || (bodylen > 0 && type != OP_CTL && type != OP_WRITE)) {
		*msg = "unexpected body";
		return -EINVAL;
	}
	op = op_new((enum op_type)type, NULL, NULL);
	if (op == NULL) {
		*msg = "out of memory";
		return -ENOMEM;
	}
	if ((path != NULL && (op->path = strdup(path)) == NULL) ||
	    (file != NULL && (op->file = strdup(file)) == NULL))
		goto nomem;
	if (type == OP_OPEN || (type == OP_SNAP && json_object_get(head, "mode") != NULL)) {
		/* The owner checks the direction against the file (EACCES with a message). */
		j = json_object_get(head, "mode");
		if (!json_is_integer(j) || (json_integer_value(j) != OP_RDONLY &&
		    json_integer_value(j) != OP_WRONLY && json_integer_value(j) != OP_RDWR)) {
			op_free(op);
			*msg = "bad open mode";
			return -EINVAL;
		}
		op->mode = (int)json_integer_value(j);
	}
	if (type == OP_READ) {
		j = json_object_get(head, "max");
		if (!json_is_integer(j) || json_integer_value(j) < 0 ||
		    json_integer_value(j) > FRAME_DATA_MAX) {
			op_free(op);
			*msg = "bad read size";
			return -EINVAL;
		}
		op->max = (size_t)json_integer_value(j);
		/* A read at a file offset (a stream with a size, read by tail): absent
		 * for reads in order. */
		j = json_object_get(head, "off");
		if (j != NULL && (!json_is_integer(j) || json_integer_value(j) < 0)) {
			op_free(op);
			*msg = "bad read offset";
			return -EINVAL;
		}
		if (j != NULL)
			op->off = json_integer_value(j);
	}
	if (type == OP_CTL || type == OP_WRITE) {
		/* A ctl command is NUL-terminated for the parser (op.h); so is a body
		 * received apart. */
		if (from != NULL) {
			op->data = conn_take_body(from);
		} else {
			op->data = malloc(bodylen + 1);
			if (op->data == NULL)
				goto nomem;
			if (bodylen > 0)
				memcpy(op->data, body, bodylen);
			op->data[bodylen] = '\0';
		}
		op->len = bodylen;
	}
	if (client != NULL && (op->client = strdup(client)) == NULL)
		goto nomem;
	*out = op;
	return 0;
nomem:
	op_free(op);
	*msg = "out of memory";
	return -ENOMEM;
}

static int
reply_error(struct conn *c, uint32_t tag, int rc, const char *msg)
{
	json_t *head = json_pack("{s:i, s:s}", "rc", rc, "msg", msg);
	int r = head != NULL ? conn_send_msg(c, FRAME_REP, tag, head, NULL, 0) : -ENOMEM;

	json_decref(head);
	return r;
}

/* ---- readiness waits (the owner side of a remote poll) ----
 *
 * A read of 0 bytes with "wait" asks to be answered (rc 0, no bytes) once the stream
 * is readable -- bytes, EOF or an error are there -- without taking anything, so a
 * remote poll(2) is exact before the first byte too, and a recv polled but never read
 * still gives its message back.  One per handle; the handle's stream reports changes
 * of readiness to us, its opener (stream_notify). */

static int
poll_ready(struct stream *s)
{
	return s->ops->poll == NULL || (s->ops->poll(s) & (POLLIN | POLLERR | POLLHUP));
}

static void
poll_answer(struct rpc_handle *h, int rc)
{
	uint32_t tag = h->poll_tag;

	h->poll_tag = 0;
	if (h->c != NULL && tag != 0) {
		json_t *head = json_pack("{s:i}", "rc", rc);

		idtab_del(&h->c->poll_tab, &h->bypoll);
		/* Closed from the loop, not now (conn.h): this runs inside a stream's
		 * notify (handle_notify) and while a request's completion frees the
		 * handle (inreq_done), whose callers still use the connection, the
		 * request, the handle and the stream after it returns. */
		if (head == NULL || conn_send_msg(h->c, FRAME_REP, tag, head, NULL, 0) < 0)
			conn_close_later(h->c, -ENOMEM);
		json_decref(head);
	}
}

static void
handle_notify(struct stream *s, void *arg)
{
	struct rpc_handle *h = arg;

	if (h->poll_tag != 0 && poll_ready(s))
		poll_answer(h, 0);
}

/* The handle hid of c, or NULL. */
static struct rpc_handle *
handle_find(struct conn *c, uint32_t hid)
{
	struct idtab_node *n = idtab_find(&c->handle_tab, hid);

	return n != NULL ? IDTAB_ENTRY(n, struct rpc_handle, byid) : NULL;
}

static int
poll_wait(struct conn *c, uint32_t tag, uint32_t hid)
{
	struct rpc_handle *h = handle_find(c, hid);

	if (h == NULL || h->released)
		return reply_error(c, tag, -EBADF, "no such open stream");
	if (h->poll_tag != 0)
		return reply_error(c, tag, -EBUSY, "a readiness wait is already pending");
	if (tag != 0 && idtab_add(&c->poll_tab, &h->bypoll, tag) < 0)
		return reply_error(c, tag, -ENOMEM, "out of memory");
	h->poll_tag = tag;
	h->s->notify = handle_notify;
	h->s->notify_arg = h;
	if (poll_ready(h->s))
		poll_answer(h, 0);
	return 0;
}

int
serve_req(struct conn *c, const struct frame *f)
{
	const uint8_t *body;
	const char *msg = NULL;
	struct rpc_inreq *r;
	struct rpc_handle *h = NULL;
	uint32_t hid;
	size_t blen, blen_apart;
	json_t *head;
	struct op *op;
	char *who;
	int rc, wait;

	if (idtab_find(&c->inreq_tab, f->id) != NULL)
		return -EPROTO;		/* a tag still in use */
	if (rpc_msg_parse(c, f, &head, &body, &blen) < 0)
		return -EBADMSG;
	rc = parse_req(head, body, blen, conn_body(c, &blen_apart) != NULL ? c : NULL, &op,
	    &hid, &msg);
	wait = json_is_true(json_object_get(head, "wait"));
	json_decref(head);
	if (rc < 0) {
		log_warnx("connection %s: bad request: %s", c->name, msg);
		return reply_error(c, f->id, rc, msg);
	}
	if (wait) {
		rc = op->type == OP_READ && op->max == 0 ? 0 : -EINVAL;
		op_free(op);
		if (rc < 0)
			return reply_error(c, f->id, rc, "\"wait\" is for a read of 0 bytes");
		return poll_wait(c, f->id, hid);
	}
	if (c->ninreqs >= INREQ_MAX || c->inreq_bytes + blen > INREQ_BYTES_MAX) {
		log_warnx("connection %s: %d requests holding %zu bytes in flight: too many",
		    c->name, c->ninreqs, c->inreq_bytes);
		op_free(op);
		return -ENOBUFS;
	}
	if (op->type == OP_OPEN && c->nhandles + c->nopening >= HANDLES_MAX) {
		static uint64_t told;
		uint64_t now = uv_now(c->tcp.loop);
		op_free(op);
		if (told == 0 || now - told >= 10000) {		/* a line every 10 s at most */
			told = now;
			log_warnx("connection %s: %d streams open or opening: another open is "
			    "refused (EMFILE)", c->name, c->nhandles + c->nopening);
		}
		return reply_error(c, f->id, -EMFILE, "too many streams open on this connection");
	}
	if (hid != 0) {
		h = handle_find(c, hid);
		if (h == NULL || h->released) {
			op_free(op);
			return reply_error(c, f->id, -EBADF, "no such open stream");
		}
		op->stream = h->s;
		h->busy++;
		/* A read at an offset: the open reads at offsets from now on, as after
		 * lseek(SEEK_END) here (elements/op.h, stream size). */
		if (op->type == OP_READ && op->off >= 0 && h->s->ops->size != NULL)
			(void)h->s->ops->size(h->s, 1);
	}
	r = calloc(1, sizeof *r);
	if (r == NULL || idtab_add(&c->inreq_tab, &r->byid, f->id) < 0) {
		if (h != NULL)
			h->busy--;
		free(r);
		op_free(op);
		return -ENOMEM;
	}
	/* The log names the caller as the peer (or client address) and who asked there. */
	if (asprintf(&who, "%s%s%s", c->peer_id[0] ? c->peer_id : c->name,
	    op->client != NULL ? "/" : "", op->client != NULL ? op->client : "") >= 0) {
		free(op->client);
		op->client = who;
	}
	r->tag = f->id;
	r->op = op;
	r->c = c;
	r->h = h;
	op->cb = inreq_done;
	op->arg = r;
	r->bytes = blen;
	TAILQ_INSERT_TAIL(&c->inreqs, r, link);
	c->ninreqs++;
	if (op->type == OP_OPEN)
		c->nopening++;
	c->inreq_bytes += blen;
	op_start(op);
	/* A write its element parked (or completes early, if the stream is remote too)
	 * flows with back-pressure of its own: the caller may write behind.  The op is
	 * not freed before its completion runs from the loop. */
	if (op->type == OP_WRITE)
		r->wb = rstream_is(op->stream) ? rstream_wb(op->stream) : op->owner != NULL;
	return 0;
}

/* A RELEASE is empty, or carries {"abort": true} when the stream's opener on the
 * other side vanished (a remote stream relays the abort): 1 aborted, 0 not, -1 bad. */
static int
release_aborted(const struct frame *f)
{
	const uint8_t *body;
	size_t blen;
	json_t *head;
	int rc;

	if (f->len == 0)
		return 0;
	if (frame_msg_parse(f->payload, f->len, &head, &body, &blen) < 0)
		return -1;
	rc = blen == 0 && json_is_true(json_object_get(head, "abort")) ? 1 : -1;
	json_decref(head);
	return rc;
}

/* A CANCEL is empty (an interrupt: EINTR), or carries {"rc": -EHOSTDOWN} when the
 * caller's server is shutting down and told its caller that: the errno to end the op
 * with, or -EBADMSG.  No other errno is taken from the wire. */
static int
cancel_errno(const struct frame *f)
{
	const uint8_t *body;
	size_t blen;
	json_t *head, *v;
	int rc = -EBADMSG;

	if (f->len == 0)
		return -EINTR;
	if (frame_msg_parse(f->payload, f->len, &head, &body, &blen) < 0)
		return -EBADMSG;
	v = json_object_get(head, "rc");
	if (blen == 0 && json_object_size(head) == 1 && json_is_integer(v) &&
	    (json_integer_value(v) == -EINTR || json_integer_value(v) == -EHOSTDOWN))
		rc = (int)json_integer_value(v);
	json_decref(head);
	return rc;
}

int
serve_cancel(struct conn *c, const struct frame *f)
{
	struct idtab_node *n;
	int err;

	if ((err = cancel_errno(f)) == -EBADMSG)
		return -EBADMSG;
	if ((n = idtab_find(&c->inreq_tab, f->id)) != NULL)
		op_cancel(IDTAB_ENTRY(n, struct rpc_inreq, byid)->op, err);
	else if ((n = idtab_find(&c->poll_tab, f->id)) != NULL)
		poll_answer(IDTAB_ENTRY(n, struct rpc_handle, bypoll), err);
	return 0;	/* the request may have finished already */
}

int
serve_release(struct conn *c, const struct frame *f)
{
	struct rpc_handle *h;
	int aborted;

	if ((aborted = release_aborted(f)) < 0)
		return -EBADMSG;
	h = handle_find(c, f->id);
	if (h != NULL && !h->released) {
		h->released = 1;
		if (aborted && h->s != NULL)
			h->s->aborted = 1;
		if (h->busy == 0)
			handle_free(h);
	}
	return 0;
}

void
serve_conn_closed(struct conn *c)
{
	struct rpc_inreq *r;
	struct rpc_handle *h;

	/* Requests still running end without anyone to tell: cancel them. */
	while ((r = TAILQ_FIRST(&c->inreqs)) != NULL) {
		TAILQ_REMOVE(&c->inreqs, r, link);
		idtab_del(&c->inreq_tab, &r->byid);
		r->c = NULL;
		op_cancel(r->op, -EINTR);
	}
	c->ninreqs = 0;
	c->nopening = 0;
	c->inreq_bytes = 0;
	while ((h = TAILQ_FIRST(&c->handles)) != NULL) {
		TAILQ_REMOVE(&c->handles, h, link);
		idtab_del(&c->handle_tab, &h->byid);
		if (h->poll_tag != 0)
			idtab_del(&c->poll_tab, &h->bypoll);
		c->nhandles--;
		h->c = NULL;
		h->released = 1;
		/* Its opener vanished: what it was writing is cut short. */
		if (h->s != NULL)
			h->s->aborted = 1;
		if (h->busy == 0)
			handle_free(h);
	}
	idtab_free(&c->inreq_tab);
	idtab_free(&c->handle_tab);
	idtab_free(&c->poll_tab);
}
