/* rpc.c - operations over connections: the caller side, and the frame dispatch.
 *
 * One rpc_call per request in flight (conn->calls, in the order they fail when the
 * connection dies; a reply finds its call by tag in conn->call_tab, one lookup however
 * many are in flight); the op is OPS_RUNNING with cancel
 * = send a CANCEL, and completes when the reply comes, when the connection dies, or --
 * any op but a remote stream's own reads and writes -- at once when cancelled, the
 * call then staying as an orphan until its reply.  The owner side is serve.c, the
 * remote streams an OPEN hands back rstream.c.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"
#include "net/rpc_int.h"

struct rpc_call {
	uint32_t tag;
	enum op_type type;
	struct op *op;			/* NULL once orphaned: its caller was answered EINTR */
	struct conn *c;
	int cancelled;			/* a CANCEL went out */
	TAILQ_ENTRY(rpc_call) link;
	struct idtab_node bytag;	/* in c->call_tab by tag */
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

/* ---- the caller side ---- */

/* A CANCEL is empty for an interrupt (EINTR); any other errno the caller is told (the
 * caller's server shutting down: EHOSTDOWN) travels in it, so that the owner ends its
 * op, and logs it, with what the caller got. */
static void
cancel_send(struct conn *c, uint32_t tag, int err)
{
	json_t *head = err != -EINTR ? json_pack("{s:i}", "rc", err) : NULL;

	if (head == NULL || conn_send_msg(c, FRAME_CANCEL, tag, head, NULL, 0) < 0)
		conn_send_empty(c, FRAME_CANCEL, tag);
	json_decref(head);
}

static void
call_cancel(struct op *op)
{
	struct rpc_call *call = op->owner;

	if (!call->cancelled && call->c != NULL) {
		call->cancelled = 1;
		cancel_send(call->c, call->tag, op->cancel_rc);
	}
	/* A remote stream's own READ and WRITE requests stay running: the owner answers
	 * the CANCEL with EINTR or the result, and the stream decides what its opener
	 * sees (and when).  Any other op ends now, whether or not the owner answers: its
	 * caller (a FUSE request, a process that cannot die until it is answered) must
	 * not wait on an owner that may be stopped.  The call stays, orphaned, until the
	 * reply comes or the connection ends; a stream a late OPEN reply carries is
	 * released, so a recv interrupted in its open gives its message back. */
	if (op->type == OP_READ || op->type == OP_WRITE)
		return;
	call->op = NULL;
	op->owner = NULL;
	op->cancel = NULL;
	op_end_cancelled(op);
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

	assert(op->state == OPS_RUNNING);
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
	case OP_SNAP:
		json_object_set_new(head, "mode", json_integer(op->mode));
		break;
	case OP_READ:
		json_object_set_new(head, "h", json_integer(rstream_handle(op->stream)));
		json_object_set_new(head, "max", json_integer(
		    op->max > FRAME_DATA_MAX ? FRAME_DATA_MAX : (json_int_t)op->max));
		if (rstream_is_wait(op))
			json_object_set_new(head, "wait", json_true());
		if (op->off >= 0)
			json_object_set_new(head, "off", json_integer(op->off));
		break;
	case OP_WRITE:
		json_object_set_new(head, "h", json_integer(rstream_handle(op->stream)));
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
	/* Tags wrap after 2^32 calls: one still in flight is skipped, so a reply names
	 * one call only. */
	call->tag = idtab_next_id(&c->call_tab, &c->next_tag);
	rc = frame_msg_build_head(FRAME_REQ, call->tag, head, blen, &hbuf, &hlen);
	json_decref(head);
	if (rc < 0) {
		free(body);
		free(call);
		op_fail(op, rc, "%s: request too big", op_type_name(op->type));
		return;
	}
	if (idtab_add(&c->call_tab, &call->bytag, call->tag) < 0) {
		free(hbuf);
		free(body);
		free(call);
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	if (op->type == OP_WRITE)
		op->len = blen;		/* what the reply's count is checked against */
	call->op = op;
	call->type = op->type;
	call->c = c;
	op->owner = call;
	op->cancel = call_cancel;
	TAILQ_INSERT_TAIL(&c->calls, call, link);
	conn_send2(c, hbuf, hlen, body, blen);
}

int
rpc_msg_parse(struct conn *c, const struct frame *f, json_t **head, const uint8_t **body,
    size_t *blen)
{
	const uint8_t *apart;
	size_t alen;

	if (frame_msg_parse(f->payload, f->len, head, body, blen) < 0)
		return -EBADMSG;
	if ((apart = conn_body(c, &alen)) != NULL) {
		*body = apart;
		*blen = alen;
	}
	return 0;
}

/* A reply's "size" (an OPEN or READ of a stream with a size), or -1. */
static int64_t
reply_size(json_t *head)
{
	json_t *j = json_object_get(head, "size");

	return json_is_integer(j) && json_integer_value(j) >= 0 ? json_integer_value(j) : -1;
}

static int
handle_rep(struct conn *c, const struct frame *f)
{
	struct idtab_node *n = idtab_find(&c->call_tab, f->id);
	struct rpc_call *call;
	const uint8_t *body;
	size_t blen, alen;
	json_t *head, *j;
	struct op *op;
	json_int_t rc;

	if (n == NULL)
		return -EPROTO;
	call = IDTAB_ENTRY(n, struct rpc_call, bytag);
	if (rpc_msg_parse(c, f, &head, &body, &blen) < 0)
		return -EBADMSG;
	j = json_object_get(head, "rc");
	if (!json_is_integer(j) || (rc = json_integer_value(j)) < -4095 || rc > FRAME_DATA_MAX) {
		json_decref(head);
		return -EBADMSG;
	}
	TAILQ_REMOVE(&c->calls, call, link);
	idtab_del(&c->call_tab, &call->bytag);
	op = call->op;
	if (op == NULL) {
		/* Orphaned: its caller was told EINTR.  A stream opened after all goes. */
		j = json_object_get(head, "h");
		if (call->type == OP_OPEN && rc >= 0 && json_is_integer(j) &&
		    json_integer_value(j) > 0 && json_integer_value(j) <= UINT32_MAX)
			conn_send_empty(c, FRAME_RELEASE, (uint32_t)json_integer_value(j));
		free(call);
		json_decref(head);
		return 0;
	}
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
		op->stream = rstream_new(c, (uint32_t)json_integer_value(j), op->mode,
		    reply_size(head));
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
		if (op->type == OP_READ && reply_size(head) >= 0 && rstream_is(op->stream))
			rstream_set_size(op->stream, reply_size(head));
		if (conn_body(c, &alen) != NULL)
			op_done_data(op, conn_take_body(c), blen);	/* no copy */
		else
			op_done_copy(op, body, blen);
		break;
	case OP_WRITE:
		if (json_is_true(json_object_get(head, "wb")) && rstream_is(op->stream))
			rstream_set_wb(op->stream);
		op_done(op, rc > (json_int_t)op->len ? (int)op->len : (int)rc);
		break;
	default:
		op_done(op, (int)rc);
		break;
	}
	json_decref(head);
	return 0;
}

int
rpc_frame(struct conn *c, const struct frame *f)
{
	switch (f->type) {
	case FRAME_REQ:
		return serve_req(c, f);
	case FRAME_REP:
		return handle_rep(c, f);
	case FRAME_CANCEL:
		return serve_cancel(c, f);
	case FRAME_RELEASE:
		return serve_release(c, f);
	default:
		return -EPROTO;
	}
}

void
rpc_conn_closed(struct conn *c)
{
	struct rpc_call *call;
	const char *who = c->peer_id[0] ? c->peer_id : c->name;

	while ((call = TAILQ_FIRST(&c->calls)) != NULL) {
		TAILQ_REMOVE(&c->calls, call, link);
		idtab_del(&c->call_tab, &call->bytag);
		if (call->op != NULL) {
			call->op->cancel = NULL;
			op_fail(call->op, -EHOSTDOWN, "%s: server %s is down",
			    call->op->path != NULL ? call->op->path :
			    op_type_name(call->op->type), who);
		}
		free(call);
	}
	idtab_free(&c->call_tab);
	rstream_conn_lost(c);
	serve_conn_closed(c);
}
