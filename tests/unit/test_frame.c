/* test_frame.c - the frame codec, messages, URLs and request parsing (pure code). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "elements/op.h"
#include "net/frame.h"
#include "net/rpc.h"
#include "net/url.h"

static uint8_t buf[FRAME_HDR + 64];

Test(frame, header_round_trip)
{
	struct frame f;

	frame_header(buf, FRAME_REQ, 0x01020304, 5);
	memcpy(buf + FRAME_HDR, "hello", 5);
	cr_assert_eq(buf[0], FRAME_VERSION);
	cr_assert_eq(buf[4], 1);
	cr_assert_eq(buf[7], 4);
	cr_assert_eq(buf[11], 5);
	cr_assert_eq(frame_decode(buf, FRAME_HDR + 5, &f), FRAME_HDR + 5);
	cr_assert_eq(f.type, FRAME_REQ);
	cr_assert_eq(f.id, 0x01020304u);
	cr_assert_eq(f.len, 5u);
	cr_assert_eq(memcmp(f.payload, "hello", 5), 0);
}

Test(frame, partial_needs_more)
{
	struct frame f;

	frame_header(buf, FRAME_REP, 9, 5);
	for (size_t n = 0; n < FRAME_HDR + 5; n++)
		cr_assert_eq(frame_decode(buf, n, &f), 0, "len %zu", n);
	/* Extra bytes after a frame are the next frame's: only this one is taken. */
	cr_assert_eq(frame_decode(buf, FRAME_HDR + 5 + 3, &f), FRAME_HDR + 5);
}

Test(frame, other_version_refused_from_first_byte)
{
	struct frame f;
	uint8_t one = 2, zero = 0;

	cr_assert_eq(frame_decode(&one, 1, &f), -EPROTONOSUPPORT);
	cr_assert_eq(frame_decode(&zero, 1, &f), -EPROTONOSUPPORT);
	frame_header(buf, FRAME_HELLO, 0, 0);
	buf[0] = 0xff;
	cr_assert_eq(frame_decode(buf, FRAME_HDR, &f), -EPROTONOSUPPORT);
	cr_assert_eq(frame_need(buf, FRAME_HDR), -EPROTONOSUPPORT);
}

Test(frame, unknown_types_and_reserved_bits)
{
	struct frame f;

	frame_header(buf, FRAME_HELLO, 0, 0);
	buf[1] = 0;
	cr_assert_eq(frame_decode(buf, FRAME_HDR, &f), -EPROTO);
	buf[1] = FRAME_TYPE_MAX + 1;
	cr_assert_eq(frame_decode(buf, FRAME_HDR, &f), -EPROTO);
	buf[1] = FRAME_TYPE_MAX;
	cr_assert_eq(frame_decode(buf, FRAME_HDR, &f), FRAME_HDR);
	buf[3] = 1;
	cr_assert_eq(frame_decode(buf, FRAME_HDR, &f), -EPROTO);
}

Test(frame, length_limits)
{
	struct frame f;

	frame_header(buf, FRAME_REQ, 1, FRAME_MAX);
	cr_assert_eq(frame_decode(buf, FRAME_HDR, &f), 0, "the largest frame just waits");
	cr_assert_eq(frame_need(buf, FRAME_HDR), FRAME_HDR + FRAME_MAX);
	frame_header(buf, FRAME_REQ, 1, FRAME_MAX + 1);
	cr_assert_eq(frame_decode(buf, FRAME_HDR, &f), -EMSGSIZE);
	frame_header(buf, FRAME_REQ, 1, 0xffffffffu);
	cr_assert_eq(frame_decode(buf, FRAME_HDR, &f), -EMSGSIZE);
}

Test(msg, build_and_parse_with_body)
{
	json_t *head = json_pack("{s:s, s:i}", "op", "write", "h", 3), *got;
	const uint8_t *body;
	uint8_t *out;
	size_t len, blen;
	struct frame f;

	cr_assert_eq(frame_msg_build(FRAME_REQ, 42, head, "abc\0def", 7, &out, &len), 0);
	cr_assert_eq(frame_decode(out, len, &f), (long)len);
	cr_assert_eq(f.id, 42u);
	cr_assert_eq(frame_msg_parse(f.payload, f.len, &got, &body, &blen), 0);
	cr_assert_str_eq(json_string_value(json_object_get(got, "op")), "write");
	cr_assert_eq(json_integer_value(json_object_get(got, "h")), 3);
	cr_assert_eq(blen, 7u);
	cr_assert_eq(memcmp(body, "abc\0def", 7), 0);
	json_decref(got);
	json_decref(head);
	free(out);
}

Test(msg, head_split_from_body)
{
	json_t *head = json_pack("{s:i}", "rc", 5);
	uint8_t *first;
	size_t flen;

	cr_assert_eq(frame_msg_build_head(FRAME_REP, 1, head, 5, &first, &flen), 0);
	cr_assert_eq(frame_need(first, flen), (long)(flen + 5), "the header counts the body");
	free(first);
	cr_assert_eq(frame_msg_build_head(FRAME_REP, 1, head, FRAME_MAX, &first, &flen), -EMSGSIZE);
	cr_assert_null(first);
	json_decref(head);
}

static int
parse(const char *bytes, size_t n)
{
	const uint8_t *body;
	size_t blen;
	json_t *h;
	int rc = frame_msg_parse((const uint8_t *)bytes, n, &h, &body, &blen);

	json_decref(h);
	return rc;
}

Test(msg, bad_payloads)
{
	cr_assert_eq(parse("", 0), -EBADMSG, "empty");
	cr_assert_eq(parse("\0\0\0", 3), -EBADMSG, "short length");
	cr_assert_eq(parse("\0\0\0\0{}", 6), -EBADMSG, "zero head");
	cr_assert_eq(parse("\0\0\0\x09{}", 6), -EBADMSG, "head past the end");
	cr_assert_eq(parse("\xff\xff\xff\xff{}", 6), -EBADMSG, "huge head length");
	cr_assert_eq(parse("\0\0\0\x05[1,2]", 9), -EBADMSG, "not an object");
	cr_assert_eq(parse("\0\0\0\x05{nop}", 9), -EBADMSG, "not JSON");
	cr_assert_eq(parse("\0\0\0\x0f{\"a\":1,\"a\":2}", 19), -EBADMSG, "duplicate keys");
	cr_assert_eq(parse("\0\0\0\x02{}xyz", 9), 0, "object and body");
}

Test(url, parse_good)
{
	struct url u;
	char text[URL_MAX];

	cr_assert_eq(url_parse("circuit://127.0.0.1:4000/X0123456789abcdef", &u, 1), 0);
	cr_assert_str_eq(u.host, "127.0.0.1");
	cr_assert_eq(u.port, 4000);
	cr_assert_str_eq(u.id, "X0123456789abcdef");
	cr_assert_eq(url_format(&u, text, sizeof text), 0);
	cr_assert_str_eq(text, "circuit://127.0.0.1:4000/X0123456789abcdef");
	cr_assert_eq(url_parse("circuit://[::1]:65535/X0123456789abcdef", &u, 1), 0);
	cr_assert_str_eq(u.host, "::1");
	cr_assert_eq(url_format(&u, text, sizeof text), 0);
	cr_assert_str_eq(text, "circuit://[::1]:65535/X0123456789abcdef");
	cr_assert_eq(url_parse("circuit://10.0.0.1:1", &u, 0), 0);
	cr_assert_str_eq(u.id, "");
	cr_assert_eq(url_parse("circuit://10.0.0.1:1/", &u, 0), 0);
}

Test(url, parse_bad)
{
	static const char *const bad[] = {
		"", "circuit://", "http://127.0.0.1:1/X0123456789abcdef",
		"circuit://127.0.0.1/X0123456789abcdef", "circuit://127.0.0.1:0/X0123456789abcdef",
		"circuit://127.0.0.1:65536/X0123456789abcdef", "circuit://127.0.0.1:-1/X0123456789abcdef",
		"circuit://localhost:1/X0123456789abcdef", "circuit://127.0.0.1:1/X0123",
		"circuit://127.0.0.1:1/X0123456789ABCDEF", "circuit://127.0.0.1:1/Y0123456789abcdef",
		"circuit://127.0.0.1:1/X0123456789abcdef0", "circuit://::1:1/X0123456789abcdef",
		"circuit://[::1]/X0123456789abcdef", "circuit://[::1:1/X0123456789abcdef",
		"circuit://127.0.0.1:1x/X0123456789abcdef", "circuit://1.2.3.4.5:1/X0123456789abcdef",
		"circuit://127.0.0.1: 1/X0123456789abcdef",
	};
	struct url u;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(url_parse(bad[i], &u, 0), -EINVAL, "%s", bad[i]);
	cr_assert_eq(url_parse("circuit://127.0.0.1:1", &u, 1), -EINVAL, "id required");
	cr_assert_eq(url_parse(NULL, &u, 0), -EINVAL);
}

Test(url, xid)
{
	cr_assert(url_is_xid("X0123456789abcdef"));
	cr_assert_not(url_is_xid("X0123456789abcde"));
	cr_assert_not(url_is_xid("x0123456789abcdef"));
	cr_assert_not(url_is_xid("X0123456789abcdeg"));
	cr_assert_not(url_is_xid(NULL));
}

/* rpc_parse_req on a JSON text head and a body. */
static int
req(const char *json, const char *body, struct op **op, uint32_t *h)
{
	json_t *head = json_loads(json, JSON_ALLOW_NUL, NULL);
	const char *msg;
	int rc;

	cr_assert_not_null(head, "test JSON: %s", json);
	rc = rpc_parse_req(head, (const uint8_t *)body, body ? strlen(body) : 0, op, h, &msg);
	json_decref(head);
	return rc;
}

Test(rpc, parse_requests)
{
	struct op *op;
	uint32_t h;

	cr_assert_eq(req("{\"op\":\"ctl\",\"path\":\"/X0123456789abcdef/a\",\"client\":\"fuse:1\"}",
	    "mkchan 3", &op, &h), 0);
	cr_assert_eq(op->type, OP_CTL);
	cr_assert_str_eq(op->path, "/X0123456789abcdef/a");
	cr_assert_eq(op->len, 8u);
	cr_assert_eq(op->data[8], '\0', "ctl data is NUL-terminated");
	cr_assert_str_eq(op->client, "fuse:1");
	op_free(op);
	cr_assert_eq(req("{\"op\":\"read\",\"h\":7,\"max\":1048576}", NULL, &op, &h), 0);
	cr_assert_eq(h, 7u);
	cr_assert_eq(op->max, 1048576u);
	op_free(op);
	cr_assert_eq(req("{\"op\":\"open\",\"path\":\"/X0123456789abcdef/a\",\"file\":\"recv\",\"mode\":0}",
	    NULL, &op, &h), 0);
	cr_assert_str_eq(op->file, "recv");
	op_free(op);
}

Test(rpc, refuse_bad_requests)
{
	static const char *const bad[] = {
		"{}", "{\"op\":3}", "{\"op\":\"frob\",\"path\":\"/\"}", "{\"op\":\"stat\"}",
		"{\"op\":\"stat\",\"path\":\"relative\"}", "{\"op\":\"stat\",\"path\":7}",
		"{\"op\":\"stat\",\"path\":\"/a\\u0000b\"}",
		"{\"op\":\"read\",\"max\":10}", "{\"op\":\"read\",\"h\":0,\"max\":10}",
		"{\"op\":\"read\",\"h\":4294967296,\"max\":10}", "{\"op\":\"read\",\"h\":1,\"max\":-1}",
		"{\"op\":\"read\",\"h\":1,\"max\":1048577}", "{\"op\":\"read\",\"h\":1}",
		"{\"op\":\"open\",\"path\":\"/a\",\"file\":\"recv\",\"mode\":3}",
		"{\"op\":\"open\",\"path\":\"/a\",\"mode\":0}",
		"{\"op\":\"snap\",\"path\":\"/a\",\"file\":\"../peek\"}",
		"{\"op\":\"snap\",\"path\":\"/a\",\"file\":\"peek\",\"mode\":3}",
	};
	struct op *op;
	uint32_t h;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_lt(req(bad[i], NULL, &op, &h), 0, "%s", bad[i]);
		cr_assert_null(op);
	}
	cr_assert_eq(req("{\"op\":\"stat\",\"path\":\"/\"}", "body", &op, &h), -EINVAL,
	    "a body only for ctl and write");
}
