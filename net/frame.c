/* frame.c - encode and decode frames and messages (pure; see frame.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/frame.h"

static const char *const type_names[] = {
	[FRAME_HELLO] = "hello", [FRAME_REQ] = "req", [FRAME_REP] = "rep",
	[FRAME_CANCEL] = "cancel", [FRAME_RELEASE] = "release",
	[FRAME_MEMBERS] = "members", [FRAME_LEAVE] = "leave", [FRAME_DEAD] = "dead",
	[FRAME_REFUSE] = "refuse",
	[FRAME_AUTH] = "auth",
};

const char *
frame_type_name(unsigned type)
{
	if (type == 0 || type > FRAME_TYPE_MAX)
		return "?";
	return type_names[type];
}

void
frame_header(uint8_t out[FRAME_HDR], enum frame_type type, uint32_t id, uint32_t len)
{
	out[0] = FRAME_VERSION;
	out[1] = (uint8_t)type;
	out[2] = 0;
	out[3] = 0;
	frame_put32(out + 4, id);
	frame_put32(out + 8, len);
}

long
frame_need(const uint8_t *buf, size_t len)
{
	uint32_t plen;

	if (len < FRAME_HDR)
		return -EINVAL;
	if (buf[0] != FRAME_VERSION)
		return -EPROTONOSUPPORT;
	if (buf[1] == 0 || buf[1] > FRAME_TYPE_MAX || buf[2] != 0 || buf[3] != 0)
		return -EPROTO;
	plen = frame_get32(buf + 8);
	if (plen > FRAME_MAX)
		return -EMSGSIZE;
	return (long)(FRAME_HDR + plen);
}

long
frame_decode(const uint8_t *buf, size_t len, struct frame *f)
{
	long need;

	/* The version is judged from the first byte alone, so that a peer of another
	 * version is refused even before it sent a whole header. */
	if (len >= 1 && buf[0] != FRAME_VERSION)
		return -EPROTONOSUPPORT;
	if (len < FRAME_HDR)
		return 0;
	need = frame_need(buf, len);
	if (need < 0)
		return need;
	if (len < (size_t)need)
		return 0;
	f->version = buf[0];
	f->type = buf[1];
	f->id = frame_get32(buf + 4);
	f->len = frame_get32(buf + 8);
	f->payload = buf + FRAME_HDR;
	return need;
}

int
frame_msg_parse(const uint8_t *payload, size_t len, json_t **head,
    const uint8_t **body, size_t *bodylen)
{
	json_error_t err;
	uint32_t hlen;
	json_t *j;

	*head = NULL;
	if (len < 4)
		return -EBADMSG;
	hlen = frame_get32(payload);
	if (hlen == 0 || hlen > FRAME_HEAD_MAX || hlen > len - 4)
		return -EBADMSG;
	j = json_loadb((const char *)payload + 4, hlen, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL)
		return -EBADMSG;
	if (!json_is_object(j)) {
		json_decref(j);
		return -EBADMSG;
	}
	*head = j;
	*body = payload + 4 + hlen;
	*bodylen = len - 4 - hlen;
	return 0;
}

int
frame_msg_build_head(enum frame_type type, uint32_t id, const json_t *head,
    size_t bodylen, uint8_t **out, size_t *outlen)
{
	char *text = json_dumps(head, JSON_COMPACT);
	size_t hlen, total;
	uint8_t *buf;

	*out = NULL;
	if (text == NULL)
		return -ENOMEM;
	hlen = strlen(text);
	if (hlen > FRAME_HEAD_MAX || bodylen > FRAME_MAX || 4 + hlen + bodylen > FRAME_MAX) {
		free(text);
		return -EMSGSIZE;
	}
	total = FRAME_HDR + 4 + hlen;
	buf = malloc(total);
	if (buf == NULL) {
		free(text);
		return -ENOMEM;
	}
	frame_header(buf, type, id, (uint32_t)(4 + hlen + bodylen));
	frame_put32(buf + FRAME_HDR, (uint32_t)hlen);
	memcpy(buf + FRAME_HDR + 4, text, hlen);
	free(text);
	*out = buf;
	*outlen = total;
	return 0;
}

int
frame_msg_build(enum frame_type type, uint32_t id, const json_t *head,
    const void *body, size_t bodylen, uint8_t **out, size_t *outlen)
{
	uint8_t *first, *buf;
	size_t flen;
	int rc;

	if ((rc = frame_msg_build_head(type, id, head, bodylen, &first, &flen)) < 0)
		return rc;
	if (bodylen == 0) {
		*out = first;
		*outlen = flen;
		return 0;
	}
	buf = realloc(first, flen + bodylen);
	if (buf == NULL) {
		free(first);
		return -ENOMEM;
	}
	memcpy(buf + flen, body, bodylen);
	*out = buf;
	*outlen = flen + bodylen;
	return 0;
}
