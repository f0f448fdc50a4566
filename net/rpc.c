/* rpc.c - operations over connections: calls, served requests, handles, remote streams.
 *
 * The caller side keeps one rpc_call per request in flight (conn->calls); the op is
 * OPS_RUNNING with cancel = send a CANCEL, and completes only when the reply comes or
 * the connection dies.  The owner side keeps one rpc_inreq per request it runs
 * (conn->inreqs) and one rpc_handle per stream it opened for the other side
 * (conn->handles).  A handle released while a request on it still runs is released
 * when that request completes, so a stream never goes away under its own op.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "net/rpc.h"

#define INREQ_HIGH	256	/* stop reading the connection above this many in flight */
#define INREQ_LOW	128
#define PATH_MAX_WIRE	4096

struct rpc_call {
	uint32_t tag;
	struct op *op;
	struct conn *c;
	int cancelled;
	TAILQ_ENTRY(rpc_call) link;
};

struct rpc_inreq {
	uint32_t tag;
	struct op *op;
	struct conn *c;			/* NULL once the connection is gone */
	struct rpc_handle *h;		/* READ/WRITE: the handle it runs on */
	TAILQ_ENTRY(rpc_inreq) link;
};

struct rpc_handle {
	uint32_t id;
	struct stream *s;
	int busy;			/* requests running on it */
	int released;			/* RELEASE came (or the connection died) */
	struct conn *c;
	TAILQ_ENTRY(rpc_handle) link;
};

struct rstream {
	struct stream s;
	struct conn *c;			/* NULL once the connection is gone */
	uint32_t h;
	char where[96];			/* the owner, for messages */
	TAILQ_ENTRY(rstream) link;
};

static const char *const op_names[] = {
	[OP_STAT] = "stat", [OP_LIST] = "list", [OP_MKDIR] = "mkdir", [OP_RMDIR] = "rmdir",
	[OP_CTL] = "ctl", [OP_SNAP] = "snap", [OP_OPEN] = "open", [OP_READ] = "read",
	[OP_WRITE] = "write",
};
#define NOPS ((int)(sizeof op_names / sizeof op_names[0]))

const char *
rpc_op_name(enum op_type t)
{
	return (int)t >= 0 && (int)t < NOPS ? op_names[t] : "?";
}

int
rpc_op_type(const char *name)
{
	for (int i = 0; i < NOPS; i++)
		if (op_names[i] != NULL && strcmp(op_names[i], name) == 0)
			return i;
	return -1;
}

/* ---- remote streams (the caller side of an OPEN) ---- */

static void
rs_io(struct stream *s, struct op *op)
{
	struct rstream *rs = s->priv;

	if (rs->c == NULL) {
		op_fail(op, -EHOSTDOWN, "%s: server %s is down", op_type_name(op->type), rs->where);
		return;
	}
	rpc_call(rs->c, op);
}

static void
rs_release(struct stream *s)
{
	struct rstream *rs = s->priv;

	if (rs->c != NULL) {
		conn_send_empty(rs->c, FRAME_RELEASE, rs->h);
		TAILQ_REMOVE(&rs->c->rstreams, rs, link);
	}
	free(rs);
}

static const struct stream_ops rs_ops = {
	.read = rs_io,
	.write = rs_io,
	.release = rs_release,
	.poll = NULL,
};

static struct stream *
rs_new(struct conn *c, uint32_t h)
{
	struct rstream *rs = calloc(1, sizeof *rs);

	if (rs == NULL)
		return NULL;
	rs->s.ops = &rs_ops;
	rs->s.priv = rs;
	rs->s.elem = NULL;
	rs->c = c;
	rs->h = h;
	snprintf(rs->where, sizeof rs->where, "%s", c->peer_id[0] ? c->peer_id : c->name);
	TAILQ_INSERT_TAIL(&c->rstreams, rs, link);
	return &rs->s;
}

/* ---- the caller side ---- */

static void
call_cancel(struct op *op)
{
	struct rpc_call *call = op->owner;

	/* The op stays running: the owner answers the CANCEL with EINTR or the result. */
	if (!call->cancelled && call->c != NULL) {
		call->cancelled = 1;
		conn_send_empty(call->c, FRAME_CANCEL, call->tag);
	}
}

void
rpc_call(struct conn *c, struct op *op)
{
	struct rpc_call *call;
	uint8_t *hbuf;
	size_t hlen, blen = 0;
	char *body = NULL;
	json_t *head;
	int rc;

	if (c->state != CONN_UP) {
		op_fail(op, -EHOSTDOWN, "%s: server %s is down", op->path ? op->path : "stream",
		    c->peer_id[0] ? c->peer_id : c->name);
		return;
	}
	head = json_pack("{s:s}", "op", rpc_op_name(op->type));
	if (head == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	if (op->path != NULL)
		json_object_set_new(head, "path", json_string(op->path));
	if (op->file != NULL)
		json_object_set_new(head, "file", json_string(op->file));
	if (op->client != NULL)
		json_object_set_new(head, "client", json_string(op->client));
	switch (op->type) {
	case OP_OPEN:
		json_object_set_new(head, "mode", json_integer(op->mode));
		break;
	case OP_READ:
		json_object_set_new(head, "h", json_integer(((struct rstream *)op->stream->priv)->h));
		json_object_set_new(head, "max", json_integer(
		    op->max > FRAME_DATA_MAX ? FRAME_DATA_MAX : (json_int_t)op->max));
		break;
	case OP_WRITE:
		json_object_set_new(head, "h", json_integer(((struct rstream *)op->stream->priv)->h));
		/* fall through */
	case OP_CTL:
		if (op->len > FRAME_DATA_MAX) {
			json_decref(head);
			op_fail(op, -EFBIG, "%s: more than %u bytes in one request",
			    op_type_name(op->type), FRAME_DATA_MAX);
			return;
		}
		if (op->type == OP_WRITE) {
			/* The bytes travel without a copy: the frame takes them over. */
			body = op->data;
			blen = op->len;
			op->data = NULL;
		} else if (op->len > 0) {
			body = malloc(op->len);
			if (body == NULL) {
				json_decref(head);
				op_fail(op, -ENOMEM, "out of memory");
				return;
			}
			memcpy(body, op->data, op->len);
			blen = op->len;
		}
		break;
	default:
		break;
	}
	call = calloc(1, sizeof *call);
	if (call == NULL) {
		json_decref(head);
		free(body);
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	call->tag = c->next_tag++;
	if (c->next_tag == 0)
		c->next_tag = 1;
	rc = frame_msg_build_head(FRAME_REQ, call->tag, head, blen, &hbuf, &hlen);
	json_decref(head);
	if (rc < 0) {
		free(body);
		free(call);
		op_fail(op, rc, "%s: request too big", op_type_name(op->type));
		return;
	}
	if (op->type == OP_WRITE)
		op->len = blen;		/* what the reply's count is checked against */
	call->op = op;
	call->c = c;
	op->owner = call;
	op->cancel = call_cancel;
	TAILQ_INSERT_TAIL(&c->calls, call, link);
	conn_send2(c, hbuf, hlen, body, blen);
}

static int
handle_rep(struct conn *c, const struct frame *f)
{
	struct rpc_call *call;
	const uint8_t *body;
	size_t blen;
	json_t *head, *j;
	struct op *op;
	json_int_t rc;

	TAILQ_FOREACH(call, &c->calls, link)
		if (call->tag == f->id)
			break;
	if (call == NULL)
		return -EPROTO;
	if (frame_msg_parse(f->payload, f->len, &head, &body, &blen) < 0)
		return -EBADMSG;
	j = json_object_get(head, "rc");
	if (!json_is_integer(j) || (rc = json_integer_value(j)) < -4095 || rc > FRAME_DATA_MAX) {
		json_decref(head);
		return -EBADMSG;
	}
	TAILQ_REMOVE(&c->calls, call, link);
	op = call->op;
	free(call);
	op->cancel = NULL;
	if (rc < 0) {
		const char *m = json_string_value(json_object_get(head, "msg"));
		if (m != NULL)
			op_fail(op, (int)rc, "%s", m);
		else
			op_done(op, (int)rc);
		json_decref(head);
		return 0;
	}
	switch (op->type) {
	case OP_STAT:
	case OP_LIST:
		j = json_object_get(head, "json");
		if (!json_is_object(j)) {
			op_fail(op, -EPROTO, "%s: bad reply from %s", op->path, c->name);
			break;
		}
		op->json = json_incref(j);
		op_done(op, 0);
		break;
	case OP_OPEN:
		j = json_object_get(head, "h");
		if (!json_is_integer(j) || json_integer_value(j) <= 0 ||
		    json_integer_value(j) > UINT32_MAX) {
			op_fail(op, -EPROTO, "%s: bad reply from %s", op->path, c->name);
			break;
		}
		op->stream = rs_new(c, (uint32_t)json_integer_value(j));
		if (op->stream == NULL) {
			conn_send_empty(c, FRAME_RELEASE, (uint32_t)json_integer_value(j));
			op_fail(op, -ENOMEM, "out of memory");
			break;
		}
		op_done(op, 0);
		break;
	case OP_SNAP:
	case OP_READ:
		if (op->type == OP_READ && blen > op->max) {
			op_fail(op, -EPROTO, "read: %s sent more than asked", c->name);
			break;
		}
		op_done_copy(op, body, blen);
		break;
	case OP_WRITE:
		op_done(op, rc > (json_int_t)op->len ? (int)op->len : (int)rc);
		break;
	default:
		op_done(op, (int)rc);
		break;
	}
	json_decref(head);
	return 0;
}

/* ---- the owner side ---- */

static void
handle_free(struct rpc_handle *h)
{
	if (h->c != NULL)
		TAILQ_REMOVE(&h->c->handles, h, link);
	if (h->s != NULL)
		h->s->ops->release(h->s);
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

	if (h != NULL) {
		h->busy--;
		if (h->released && h->busy == 0)
			handle_free(h);
	}
	if (c == NULL) {
		/* The caller is gone: undo what the op made. */
		if (op->type == OP_OPEN && op->rc == 0 && op->stream != NULL)
			op->stream->ops->release(op->stream);
		op->stream = NULL;
		free(r);
		return;
	}
	TAILQ_REMOVE(&c->inreqs, r, link);
	if (--c->ninreqs < INREQ_LOW)
		conn_resume(c);
	head = json_pack("{s:i}", "rc", op->rc);
	if (head == NULL)
		goto fail;
	if (op->rc < 0) {
		if (op->msg != NULL)
			json_object_set_new(head, "msg", json_string(op->msg));
	} else if ((op->type == OP_STAT || op->type == OP_LIST) && op->json != NULL) {
		json_object_set(head, "json", op->json);
	} else if (op->type == OP_OPEN) {
		struct rpc_handle *nh = calloc(1, sizeof *nh);
		if (nh == NULL) {
			op->stream->ops->release(op->stream);
			op->stream = NULL;
			json_object_set_new(head, "rc", json_integer(-ENOMEM));
		} else {
			nh->id = c->next_handle++;
			if (c->next_handle == 0)
				c->next_handle = 1;
			nh->s = op->stream;
			nh->c = c;
			op->stream = NULL;
			TAILQ_INSERT_TAIL(&c->handles, nh, link);
			json_object_set_new(head, "h", json_integer(nh->id));
		}
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
	conn_close(c, -ENOMEM);
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

int
rpc_parse_req(json_t *head, const uint8_t *body, size_t bodylen, struct op **out,
    uint32_t *handle, const char **msg)
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
	if (type == OP_OPEN) {
		j = json_object_get(head, "mode");
		if (!json_is_integer(j) || (json_integer_value(j) != OP_RDONLY &&
		    json_integer_value(j) != OP_WRONLY)) {
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
	}
	if (type == OP_CTL || type == OP_WRITE) {
		/* A ctl command is NUL-terminated for the parser (op.h). */
		op->data = malloc(bodylen + 1);
		if (op->data == NULL)
			goto nomem;
		if (bodylen > 0)
			memcpy(op->data, body, bodylen);
		op->data[bodylen] = '\0';
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

static int
handle_req(struct conn *c, const struct frame *f)
{
	const uint8_t *body;
	const char *msg = NULL;
	struct rpc_inreq *r;
	struct rpc_handle *h = NULL;
	uint32_t hid;
	size_t blen;
	json_t *head;
	struct op *op;
	char *who;
	int rc;

	TAILQ_FOREACH(r, &c->inreqs, link)
		if (r->tag == f->id)
			return -EPROTO;		/* a tag still in use */
	if (frame_msg_parse(f->payload, f->len, &head, &body, &blen) < 0)
		return -EBADMSG;
	rc = rpc_parse_req(head, body, blen, &op, &hid, &msg);
	json_decref(head);
	if (rc < 0) {
		log_warnx("connection %s: bad request: %s", c->name, msg);
		return reply_error(c, f->id, rc, msg);
	}
	if (hid != 0) {
		TAILQ_FOREACH(h, &c->handles, link)
			if (h->id == hid)
				break;
		if (h == NULL || h->released) {
			op_free(op);
			return reply_error(c, f->id, -EBADF, "no such open stream");
		}
		op->stream = h->s;
		h->busy++;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL) {
		if (h != NULL)
			h->busy--;
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
	TAILQ_INSERT_TAIL(&c->inreqs, r, link);
	if (++c->ninreqs > INREQ_HIGH)
		conn_pause(c);
	op_start(op);
	return 0;
}

int
rpc_frame(struct conn *c, const struct frame *f)
{
	struct rpc_inreq *r;
	struct rpc_handle *h;

	switch (f->type) {
	case FRAME_REQ:
		return handle_req(c, f);
	case FRAME_REP:
		return handle_rep(c, f);
	case FRAME_CANCEL:
		if (f->len != 0)
			return -EBADMSG;
		TAILQ_FOREACH(r, &c->inreqs, link)
			if (r->tag == f->id) {
				op_cancel(r->op);
				break;
			}
		return 0;	/* the request may have finished already */
	case FRAME_RELEASE:
		if (f->len != 0)
			return -EBADMSG;
		TAILQ_FOREACH(h, &c->handles, link)
			if (h->id == f->id && !h->released) {
				h->released = 1;
				if (h->busy == 0)
					handle_free(h);
				break;
			}
		return 0;
	default:
		return -EPROTO;
	}
}

void
rpc_conn_closed(struct conn *c)
{
	struct rpc_call *call;
	struct rpc_inreq *r;
	struct rpc_handle *h;
	struct rstream *rs;
	const char *who = c->peer_id[0] ? c->peer_id : c->name;

	while ((call = TAILQ_FIRST(&c->calls)) != NULL) {
		TAILQ_REMOVE(&c->calls, call, link);
		call->op->cancel = NULL;
		op_fail(call->op, -EHOSTDOWN, "%s: server %s is down",
		    call->op->path != NULL ? call->op->path : op_type_name(call->op->type), who);
		free(call);
	}
	while ((rs = TAILQ_FIRST(&c->rstreams)) != NULL) {
		TAILQ_REMOVE(&c->rstreams, rs, link);
		rs->c = NULL;
	}
	/* Requests still running end without anyone to tell: cancel them. */
	while ((r = TAILQ_FIRST(&c->inreqs)) != NULL) {
		TAILQ_REMOVE(&c->inreqs, r, link);
		r->c = NULL;
		op_cancel(r->op);
	}
	c->ninreqs = 0;
	while ((h = TAILQ_FIRST(&c->handles)) != NULL) {
		TAILQ_REMOVE(&c->handles, h, link);
		h->c = NULL;
		h->released = 1;
		if (h->busy == 0)
			handle_free(h);
	}
}
