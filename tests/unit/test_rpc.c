/* test_rpc.c - remote streams over a real loopback connection, against a fake owner.
 *
 * The fake owner (a thread speaking frames on a blocking socket) answers the read
 * requests it has received newest first, and fails one write it is sent; the remote
 * stream (net/rstream.c) must still deliver every byte once, in order, then EOF, keep
 * written bytes in order, report the failed write once (FLUSH waits for it),
 * with large read answers taken over from conn_read.c's receive-apart path; an
 * interrupted call answers at once, and a stream a late answer carries is released;
 * a send that fails closes the connection from the loop, not under the sender. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <criterion/criterion.h>

#include "elements/op.h"
#include "net/conn.h"
#include "net/frame.h"
#include "net/rpc.h"

#define TOTAL	((3u << 20) + 12345)	/* bytes the owner's stream holds */
#define NWRITES	40
#define WSIZE	100000			/* bodies received apart (> 16 KiB) */
#define WFAIL	7			/* the write the owner fails (written behind) */

static uv_loop_t loop;
static uv_tcp_t listener;
static struct conn *conn;
static int port;

/* ---- the fake owner ---- */

static int owner_err;			/* what the owner saw wrong (0: nothing) */
static size_t owner_written;		/* bytes of the written stream, in order */
static int owner_writes;
static volatile uint32_t slow_tag;	/* an open the owner answers only once cancelled */
static volatile int owner_cancelled, owner_released;

static int
rd(int fd, void *buf, size_t len)
{
	for (uint8_t *p = buf; len > 0; ) {
		ssize_t n = read(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
send_rep(int fd, uint32_t tag, json_t *head, const void *body, size_t blen)
{
	uint8_t *buf;
	size_t len;

	cr_assert_eq(frame_msg_build(FRAME_REP, tag, head, body, blen, &buf, &len), 0);
	json_decref(head);
	for (size_t off = 0; off < len; ) {
		ssize_t n = write(fd, buf + off, len - off);
		cr_assert(n > 0);
		off += (size_t)n;
	}
	free(buf);
}

static uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

static void *
owner(void *arg)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct { uint32_t tag; size_t off, len; } pend[64];
	int npend = 0, fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t served = 0;
	json_t *head;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	head = json_pack("{s:s}", "client", "fake owner");
	{
		uint8_t *buf;
		size_t len;
		cr_assert_eq(frame_msg_build(FRAME_HELLO, 0, head, NULL, 0, &buf, &len), 0);
		cr_assert_eq(write(fd, buf, len), (ssize_t)len);
		free(buf);
		json_decref(head);
	}
	for (;;) {
		uint8_t hdr[FRAME_HDR], *payload;
		const uint8_t *body;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct frame f;
		size_t blen;
		long need;
		const char *op;

		/* Nothing more coming at once: answer the reads waiting, newest first. */
		if (poll(&p, 1, 20) == 0) {
			while (npend > 0) {
				size_t off = pend[--npend].off, n = pend[npend].len;
				uint8_t *data = malloc(n + 1);
				for (size_t i = 0; i < n; i++)
					data[i] = pattern(off + i);
				send_rep(fd, pend[npend].tag, json_pack("{s:i}", "rc", (int)n),
				    data, n);
				free(data);
			}
			continue;
		}
		if (rd(fd, hdr, FRAME_HDR) < 0)
			break;
		need = frame_need(hdr, FRAME_HDR);
		cr_assert(need >= FRAME_HDR);
		payload = malloc((size_t)need);
		cr_assert_eq(rd(fd, payload, (size_t)need - FRAME_HDR), 0);
		f.type = hdr[1];
		f.id = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 | hdr[7];
		if (f.type == FRAME_CANCEL && slow_tag != 0 && f.id == slow_tag) {
			/* A late answer that raced the CANCEL: a stream after all. */
			owner_cancelled = 1;
			send_rep(fd, slow_tag, json_pack("{s:i, s:i}", "rc", 0, "h", 77), NULL, 0);
			slow_tag = 0;
		}
		if (f.type == FRAME_RELEASE && f.id == 77)
			owner_released = 1;
		if (f.type != FRAME_REQ) {
			free(payload);
			continue;	/* HELLO, CANCEL, RELEASE */
		}
		cr_assert_eq(frame_msg_parse(payload, (size_t)need - FRAME_HDR, &head, &body, &blen), 0);
		op = json_string_value(json_object_get(head, "op"));
		if (strcmp(op, "open") == 0 &&
		    strcmp(json_string_value(json_object_get(head, "path")), "/X0123456789abcdef/slow") == 0) {
			slow_tag = f.id;	/* no answer until the CANCEL */
		} else if (strcmp(op, "open") == 0) {
			int mode = (int)json_integer_value(json_object_get(head, "mode"));
			send_rep(fd, f.id, json_pack("{s:i, s:i}", "rc", 0, "h", mode + 1), NULL, 0);
		} else if (strcmp(op, "read") == 0) {
			/* Bytes go to requests in the order they came, as an element gives
			 * them; the answers wait (above). */
			size_t max = (size_t)json_integer_value(json_object_get(head, "max"));
			size_t n = TOTAL - served < max ? TOTAL - served : max;
			if (npend == 64) {
				owner_err = 1;
			} else {
				pend[npend].tag = f.id;
				pend[npend].off = served;
				pend[npend].len = n;
				npend++;
			}
			served += n;
		} else if (strcmp(op, "write") == 0) {
			owner_writes++;
			for (size_t i = 0; i < blen; i++)
				if (body[i] != pattern(owner_written + i)) {
					owner_err = 2;
					break;
				}
			owner_written += blen;
			if (owner_writes == WFAIL)
				send_rep(fd, f.id, json_pack("{s:i, s:s}", "rc", -EPIPE, "msg",
				    "the reader went away"), NULL, 0);
			else
				send_rep(fd, f.id, json_pack("{s:i, s:b}", "rc", (int)blen, "wb", 1),
				    NULL, 0);
		}
		json_decref(head);
		free(payload);
	}
	close(fd);
	return NULL;
}

/* ---- the caller side ---- */

static json_t *
hello(void)
{
	return json_pack("{s:s}", "client", "test");
}

static int
check_hello(struct conn *c, json_t *head)
{
	return 0;
}

static void
up(struct conn *c)
{
	conn = c;
}

static void
closed(struct conn *c, int reason)
{
	rpc_conn_closed(c);
}

static const struct conn_events events = {
	.hello = hello, .check_hello = check_hello, .up = up, .frame = rpc_frame,
	.closed = closed,
};

static void
on_conn(uv_stream_t *l, int status)
{
	cr_assert_eq(conn_accept(l), 0);
}

static struct op *done_op;

static void
keep(struct op *op)
{
	done_op = malloc(sizeof *op);
	memcpy(done_op, op, sizeof *op);
	done_op->data = op->data;
	op->data = NULL;
	done_op->msg = op->msg;
	op->msg = NULL;
}

/* Run op to its completion; returns a copy (free with drop). */
static struct op *
run(struct op *op, struct stream *s)
{
	done_op = NULL;
	op->cb = keep;
	if (s != NULL) {
		op->stream = s;
		op->state = OPS_RUNNING;
		if (op->type == OP_READ)
			s->ops->read(s, op);
		else if (op->type == OP_WRITE)
			s->ops->write(s, op);
		else
			s->ops->flush(s, op);
	} else {
		op->state = OPS_RUNNING;
		rpc_call(conn, op);
	}
	while (done_op == NULL)
		uv_run(&loop, UV_RUN_ONCE);
	return done_op;
}

static void
drop(struct op *op)
{
	free(op->data);
	free(op->msg);
	free(op);
}

static struct stream *
open_stream(const char *file, int mode)
{
	struct op *op = op_new(OP_OPEN, NULL, NULL), *r;
	struct stream *s;

	op->path = strdup("/X0123456789abcdef/a");
	op->file = strdup(file);
	op->mode = mode;
	r = run(op, NULL);
	cr_assert_eq(r->rc, 0, "open: %d %s", r->rc, r->msg ? r->msg : "");
	s = r->stream;
	drop(r);
	return s;
}

static pthread_t thr;

static void
setup(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int len = sizeof sin;

	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_eq(op_init(&loop), 0);
	conn_init(&loop, &events);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(uv_tcp_init(&loop, &listener), 0);
	cr_assert_eq(uv_tcp_bind(&listener, (struct sockaddr *)&sin, 0), 0);
	cr_assert_eq(uv_listen((uv_stream_t *)&listener, 4, on_conn), 0);
	cr_assert_eq(uv_tcp_getsockname(&listener, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	cr_assert_eq(pthread_create(&thr, NULL, owner, NULL), 0);
	while (conn == NULL)
		uv_run(&loop, UV_RUN_ONCE);
}

Test(rpc, read_ahead_in_order_then_eof, .init = setup, .timeout = 30)
{
	struct stream *s = open_stream("recv", OP_RDONLY);
	size_t got = 0;
	int eofs = 0;

	/* Odd read sizes: answers are split and joined across the reader's reads. */
	for (int i = 0; eofs < 2; i++) {
		struct op *op = op_new(OP_READ, NULL, NULL), *r;
		op->max = i % 3 == 0 ? 70000 : i % 3 == 1 ? 1 << 20 : 4093;
		r = run(op, s);
		cr_assert(r->rc >= 0, "read: %d %s", r->rc, r->msg ? r->msg : "");
		for (size_t k = 0; k < (size_t)r->rc; k++)
			cr_assert_eq((uint8_t)r->data[k], pattern(got + k), "byte %zu", got + k);
		got += (size_t)r->rc;
		if (r->rc == 0) {
			cr_assert_eq(got, TOTAL);
			eofs++;		/* EOF, and EOF again */
		}
		drop(r);
	}
	cr_assert_eq(owner_err, 0);
	s->ops->release(s);
}

Test(rpc, write_behind_in_order_error_once, .init = setup, .timeout = 30)
{
	struct stream *s = open_stream("send", OP_WRONLY);
	size_t sent = 0;
	int failed = 0;
	struct op *r;

	cr_assert_not_null(s->ops->flush);
	for (int i = 0; i < NWRITES; i++) {
		struct op *op = op_new(OP_WRITE, NULL, NULL);
		op->data = malloc(WSIZE + 1);
		for (size_t k = 0; k < WSIZE; k++)
			op->data[k] = (char)pattern(sent + k);
		op->len = WSIZE;
		r = run(op, s);
		if (r->rc == -EPIPE) {
			cr_assert_eq(failed, 0, "the failure is told once");
			cr_assert_str_eq(r->msg, "the reader went away");
			failed = 1;
		} else {
			cr_assert_eq(r->rc, WSIZE);
			sent += WSIZE;
		}
		drop(r);
		if (i == WFAIL + 2 && !failed) {
			/* FLUSH waits for the answers of the writes behind, then reports
			 * the failure, once. */
			r = run(op_new(OP_FLUSH, NULL, NULL), s);
			cr_assert_eq(r->rc, -EPIPE);
			drop(r);
			r = run(op_new(OP_FLUSH, NULL, NULL), s);
			cr_assert_eq(r->rc, 0, "told once");
			drop(r);
			failed = 1;
		}
	}
	cr_assert_eq(failed, 1);
	/* FLUSH returns once the last writes are acknowledged: all of them are there. */
	r = run(op_new(OP_FLUSH, NULL, NULL), s);
	cr_assert_eq(r->rc, 0);
	drop(r);
	cr_assert_eq(owner_err, 0, "bytes out of order at the owner");
	cr_assert_eq(owner_written, sent);
	s->ops->release(s);
}

/* An interrupted call to an owner that does not answer completes at once with EINTR;
 * the CANCEL reaches the owner, and a stream its late answer carries is released. */
Test(rpc, interrupt_answers_at_once_late_stream_released, .init = setup, .timeout = 30)
{
	struct op *op = op_new(OP_OPEN, NULL, NULL);

	op->path = strdup("/X0123456789abcdef/slow");
	op->file = strdup("recv");
	op->mode = OP_RDONLY;
	op->cb = keep;
	op->state = OPS_RUNNING;
	done_op = NULL;
	rpc_call(conn, op);
	for (int k = 0; k < 200 && slow_tag == 0; k++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	cr_assert_neq(slow_tag, 0, "the owner got the open");
	op_cancel(op, -EINTR);
	while (done_op == NULL)
		uv_run(&loop, UV_RUN_ONCE);
	cr_assert_eq(done_op->rc, -EINTR, "rc %d", done_op->rc);
	drop(done_op);
	for (int k = 0; k < 2000 && !owner_released; k++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	cr_assert(owner_cancelled, "the CANCEL reached the owner");
	cr_assert(owner_released, "the stream of the late answer was released");
}

static void
on_shut(uv_shutdown_t *req, int status)
{
}

/* A send that fails closes the connection from the loop, never under the sender: the
 * sender (a request's completion freeing a handle, a stream's notify answering a
 * readiness wait in serve.c) still uses the connection and what hangs off it when the
 * send returns.  A write side shut makes libuv refuse the write at once (EPIPE). */
Test(rpc, failed_send_closes_from_the_loop, .init = setup, .timeout = 30)
{
	uv_shutdown_t sreq;
	struct op *op = op_new(OP_STAT, NULL, NULL);

	cr_assert_eq(uv_shutdown(&sreq, (uv_stream_t *)&conn->tcp, on_shut), 0);
	op->path = strdup("/X0123456789abcdef/a");
	op->cb = keep;
	op->state = OPS_RUNNING;
	done_op = NULL;
	rpc_call(conn, op);
	cr_assert_eq(conn->state, CONN_UP, "the connection closed under the sender");
	cr_assert_eq(conn->close_reason, -EPIPE, "close reason %d", conn->close_reason);
	cr_assert_null(done_op, "the call ended under its caller");
	while (done_op == NULL)
		uv_run(&loop, UV_RUN_ONCE);
	cr_assert_eq(done_op->rc, -EHOSTDOWN, "rc %d", done_op->rc);
	drop(done_op);
}

/* A read's "off" (a read at a file offset, tail -f of a remote stdout) reaches the op;
 * absent, the read is in order (-1); a bad one is refused with a reason. */
Test(rpc, read_offset_parsed)
{
	const char *msg = NULL;
	struct op *op;
	uint32_t h;
	json_t *head;

	head = json_pack("{s:s, s:i, s:i, s:i}", "op", "read", "h", 3, "max", 100, "off", 12345);
	cr_assert_eq(rpc_parse_req(head, NULL, 0, &op, &h, &msg), 0);
	cr_assert_eq(h, 3);
	cr_assert_eq(op->off, 12345);
	cr_assert_eq(op->max, 100);
	op_free(op);
	json_decref(head);

	head = json_pack("{s:s, s:i, s:i}", "op", "read", "h", 3, "max", 0);
	cr_assert_eq(rpc_parse_req(head, NULL, 0, &op, &h, &msg), 0);
	cr_assert_eq(op->off, -1);
	op_free(op);
	json_decref(head);

	head = json_pack("{s:s, s:i, s:i, s:i}", "op", "read", "h", 3, "max", 1, "off", -1);
	cr_assert_eq(rpc_parse_req(head, NULL, 0, &op, &h, &msg), -EINVAL);
	cr_assert_str_eq(msg, "bad read offset");
	json_decref(head);
	head = json_pack("{s:s, s:i, s:i, s:s}", "op", "read", "h", 3, "max", 1, "off", "0");
	cr_assert_eq(rpc_parse_req(head, NULL, 0, &op, &h, &msg), -EINVAL);
	json_decref(head);
}
