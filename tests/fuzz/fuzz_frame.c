/* fuzz_frame.c - libFuzzer target: the frame decoder, message parser and request
 * parser, fed arbitrary bytes exactly as a connection would receive them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "elements/op.h"
#include "net/frame.h"
#include "net/rpc.h"
#include "net/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	struct frame f;
	long n;

	/* The connection's loop: decode frames one after another until one is bad or
	 * incomplete; every payload goes through the message and request parsers. */
	while (off < size && (n = frame_decode(data + off, size - off, &f)) > 0) {
		const uint8_t *body;
		const char *msg;
		struct op *op;
		uint32_t h;
		size_t blen;
		json_t *head;

		if ((size_t)n > size - off || f.len != (size_t)n - FRAME_HDR)
			abort();
		if (frame_msg_parse(f.payload, f.len, &head, &body, &blen) == 0) {
			if (body < f.payload || body + blen != f.payload + f.len)
				abort();
			if (rpc_parse_req(head, body, blen, &op, &h, &msg) == 0)
				op_free(op);
			json_decref(head);
		}
		off += (size_t)n;
	}
	/* URLs come from the outside too (MEMBERS gossip, -j, join). */
	if (size < 200) {
		char text[200];
		struct url u;
		for (size_t i = 0; i < size; i++)
			text[i] = data[i] ? (char)data[i] : 'x';
		text[size] = '\0';
		url_parse(text, &u, 0);
	}
	return 0;
}
