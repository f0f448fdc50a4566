/* client.c - the client library (client.h): blocking calls over one TCP connection.
 *
 * Plain blocking sockets, no loop: each call sends one REQ frame and reads frames
 * until the REP with its tag arrives.  The server dialed runs every operation through
 * its operation layer, which forwards it to the owner of the anchor, so a client needs
 * one connection whatever the anchor.  Frames are decoded with the same checks as on
 * the server (frame.c); a bad frame from the server ends the connection (-EPROTO).
 * This file dials and runs the calls of one exchange; client_io.c is the connection,
 * client_stream.c the streams (client_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "net/client_int.h"
#include "net/key.h"
#include "net/window.h"

/* Send a REQ with head and body; *tag gets its tag. */
int
client_send_req(struct circuit *c, json_t *head, const void *body, size_t blen, uint32_t *tag,
    char **err)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (c->fd < 0)
		return client_gone(c, err);
	*tag = c->next_tag++;
	if (c->next_tag == 0)
		c->next_tag = 1;
	/* The body goes from the caller's buffer, without a copy. */
	rc = frame_msg_build_head(FRAME_REQ, *tag, head, blen, &buf, &len);
	if (rc < 0)
		return client_fail(err, rc, "request too big");
	rc = client_write2(c, buf, len, body, blen);
	free(buf);
	return rc < 0 ? client_lost(c, rc, err) : 0;
}

/* One exchange: send a REQ with head and body, wait for its REP.  On success *rep is
 * the reply head and *rbody (length *rblen) a malloc'd copy of its body, NUL-terminated. */
int
client_call(struct circuit *c, json_t *head, const void *body, size_t blen, json_t **rep,
    char **rbody, size_t *rblen, char **err)
{
	const uint8_t *b;
	struct frame f;
	uint8_t *payload;
	size_t bl;
	uint32_t tag;
	json_t *h, *j;
	int rc;

	*rep = NULL;
	if ((rc = client_send_req(c, head, body, blen, &tag, err)) < 0)
		return rc;
	for (;;) {
		if ((rc = client_read_frame(c, &f, &payload)) < 0)
			return client_lost(c, rc, err);
		if (f.type == FRAME_REFUSE) {
			rc = client_refused(c, &f, err);
			free(payload);
			return rc;
		}
		if (f.type != FRAME_REP || f.id != tag) {
			rc = f.type == FRAME_REP ? client_stash(c, &f) : 0;
			free(payload);
			if (rc < 0)
				return client_lost(c, rc, err);
			continue;	/* nothing else is meant for a client */
		}
		break;
	}
	if (client_msg_parse(c, &f, &h, &b, &bl) < 0 ||
	    !json_is_integer(j = json_object_get(h, "rc"))) {
		json_decref(h);
		free(payload);
		return client_lost(c, -EPROTO, err);
	}
	rc = (int)json_integer_value(j);
	if (rc < 0) {
		const char *m = json_string_value(json_object_get(h, "msg"));
		client_fail(err, rc, "%s", m != NULL ? m : strerror(-rc));
		json_decref(h);
		free(payload);
		return rc;
	}
	if (rbody != NULL && c->rbody != NULL) {
		*rbody = c->rbody;		/* taken over, no copy */
		*rblen = bl;
		c->rbody = NULL;
	} else if (rbody != NULL) {
		*rbody = malloc(bl + 1);
		if (*rbody == NULL) {
			json_decref(h);
			free(payload);
			return client_fail(err, -ENOMEM, "out of memory");
		}
		memcpy(*rbody, b, bl);
		(*rbody)[bl] = '\0';
		*rblen = bl;
	}
	free(payload);
	*rep = h;
	return rc;
}

json_t *
client_req(const char *op, const char *path, const char *file)
{
	json_t *h = json_pack("{s:s}", "op", op);
	char who[64];

	if (h == NULL)
		return NULL;
	if (path != NULL)
		json_object_set_new(h, "path", json_string(path));
	if (file != NULL)
		json_object_set_new(h, "file", json_string(file));
	snprintf(who, sizeof who, "client:%d", (int)getpid());
	json_object_set_new(h, "client", json_string(who));
	return h;
}

/* Ask the server something it answers itself, to learn whether it lives. */
int
client_probe(struct circuit *c)
{
	json_t *head = client_req("stat", "/", NULL);
	uint8_t *buf;
	size_t len;
	uint32_t tag = c->next_tag++;
	int rc;

	if (c->next_tag == 0)
		c->next_tag = 1;
	if (head == NULL)
		return -ENOMEM;
	rc = frame_msg_build(FRAME_REQ, tag, head, NULL, 0, &buf, &len);
	json_decref(head);
	if (rc < 0)
		return rc;
	rc = client_write(c, buf, len);
	free(buf);
	if (rc == 0)
		c->probe_tag = tag;
	return rc;
}

/* A call whose reply carries nothing but rc (and maybe json). */
static int
simple(struct circuit *c, json_t *head, const void *body, size_t blen, json_t **out,
    char **err)
{
	json_t *rep;
	int rc;

	if (head == NULL)
		return client_fail(err, -ENOMEM, "out of memory");
	rc = client_call(c, head, body, blen, &rep, NULL, NULL, err);
	json_decref(head);
	if (rc < 0)
		return rc;
	if (out != NULL) {
		json_t *j = json_object_get(rep, "json");
		if (!json_is_object(j)) {
			json_decref(rep);
			return client_fail(err, -EPROTO, "%s: bad reply", c->where);
		}
		*out = json_incref(j);
	}
	json_decref(rep);
	return 0;
}

/* The key handshake (net/secure.h), as the dialer: our AUTH frame, then the server's.
 * Sets c->sec and xid (the XID the server's AUTH named). */
static int
handshake(struct circuit *c, const uint8_t *key, const char *url, char xid[URL_ID_LEN + 1],
    char **err)
{
	uint8_t mine[SECURE_AUTH_MAX], hdr[FRAME_HDR], *theirs = NULL;
	struct secure_hs hs;
	size_t ml;
	long need;
	int rc;

	if (secure_hs_start(&hs, key, 1, NULL, mine, &ml) < 0)
		return client_fail(err, -EIO, "libsodium does not initialise");
	if ((rc = client_write_all(c->fd, mine, ml)) < 0 || (rc = client_read_all(c, hdr, FRAME_HDR)) < 0) {
		secure_hs_wipe(&hs);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			return client_fail(err, -ETIMEDOUT, "%s: no answer to the key handshake within "
			    "%d s", url, CONNECT_TIMEOUT_S);
		return client_fail(err, -EHOSTDOWN, "%s: no answer to the key handshake (%s)", url,
		    strerror(-rc));
	}
	need = frame_need(hdr, FRAME_HDR);
	if (need > 0 && need <= 8192 && (theirs = malloc((size_t)need)) != NULL) {
		memcpy(theirs, hdr, FRAME_HDR);
		if ((rc = client_read_all(c, theirs + FRAME_HDR, (size_t)need - FRAME_HDR)) < 0)
			need = rc;
	}
	if (need == -EAGAIN) {
		rc = client_fail(err, -ETIMEDOUT, "%s: no answer to the key handshake within %d s",
		    url, CONNECT_TIMEOUT_S);
	} else if (theirs != NULL && need > 0 && hdr[1] == FRAME_REFUSE) {
		const uint8_t *b;
		size_t bl;
		json_t *h = NULL;
		const char *m = NULL;
		if (frame_msg_parse(theirs + FRAME_HDR, (size_t)need - FRAME_HDR, &h, &b, &bl) == 0)
			m = json_string_value(json_object_get(h, "msg"));
		rc = client_fail(err, -ECONNREFUSED, "%s: refused: %s", url, m != NULL ? m : "(no reason)");
		json_decref(h);
	} else if (need > 0 && hdr[1] == FRAME_HELLO) {
		rc = client_fail(err, -EACCES, "%s: refused: that server runs without a key (started with "
		    "-insecure): dial it with -insecure", url);
	} else if (theirs == NULL || need <= 0 || hdr[1] != FRAME_AUTH) {
		rc = client_fail(err, -EPROTO, "%s: no key handshake: not a circuit server", url);
	} else if ((c->sec = malloc(sizeof *c->sec)) == NULL) {
		rc = client_fail(err, -ENOMEM, "out of memory");
	} else if (secure_hs_finish(&hs, theirs, (size_t)need, c->sec, xid) < 0) {
		free(c->sec);
		c->sec = NULL;
		rc = client_fail(err, -EPROTO, "%s: malformed key handshake", url);
	} else {
		rc = 0;
	}
	secure_hs_wipe(&hs);
	free(theirs);
	return rc;
}

int
circuit_dial(const char *url, const char *keyfile, struct circuit **out, char **err)
{
	uint8_t key[KEY_LEN];
	char msg[512];
	int have, rc;

	*out = NULL;
	if ((rc = key_find(keyfile, 0, key, &have, msg, sizeof msg)) < 0)
		return client_fail(err, rc, "%s", msg);
	rc = circuit_dial_key(url, key, out, err);
	sodium_memzero(key, sizeof key);
	return rc;
}

int
circuit_dial_key(const char *url, const unsigned char *key, struct circuit **out, char **err)
{
	struct sockaddr_storage ss;
	struct timeval tv = { CONNECT_TIMEOUT_S, 0 };
	struct circuit *c;
	struct frame f;
	struct url u;
	uint8_t *buf, *payload;
	const uint8_t *b;
	size_t len, bl;
	json_t *h;
	char who[64], xid[URL_ID_LEN + 1] = "";
	int one = 1, bufsz = RA_WINDOW, rc;

	*out = NULL;
	if (url_parse(url, &u, 0) < 0 || url_sockaddr(&u, &ss) < 0)
		return client_fail(err, -EINVAL, "%s: want circuit://HOST:PORT/XID (numeric HOST)", url);
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return client_fail(err, -ENOMEM, "out of memory");
	c->next_tag = 1;
	snprintf(c->where, sizeof c->where, "%s", url);
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		free(c);
		return client_fail(err, rc, "socket: %s", strerror(-rc));
	}
	/* Socket buffers of a read-ahead window (as the servers' connections). */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
	/* The send timeout bounds connect() too; it is lifted once connected. */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0) {
		rc = -errno;
		close(c->fd);
		free(c);
		return client_fail(err, rc, "%s: %s", url, strerror(-rc));
	}
	/* The HELLO must come back as promptly (wait_readable): something that accepts
	 * and stays silent is not a circuit server, and the CLI must not hang on it.  A
	 * send that cannot go out for as long as a probe may take means the server
	 * reads nothing. */
	tv.tv_sec = (SILENCE_MS + PROBE_MS) / 1000;
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (key != NULL && (rc = handshake(c, key, url, xid, err)) < 0) {
		circuit_close(c);
		return rc;
	}
	snprintf(who, sizeof who, "circuit pid %d", (int)getpid());
	h = json_pack("{s:s}", "client", who);
	rc = h != NULL ? frame_msg_build(FRAME_HELLO, 0, h, NULL, 0, &buf, &len) : -ENOMEM;
	json_decref(h);
	h = NULL;	/* the answer's head goes here (and is freed on every way out) */
	if (rc == 0) {
		rc = client_write(c, buf, len);
		free(buf);
	}
	if (rc == 0)
		rc = client_read_frame(c, &f, &payload);
	if (rc < 0) {
		circuit_close(c);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			return client_fail(err, -ETIMEDOUT, "%s: no answer to HELLO within %d s", url,
			    CONNECT_TIMEOUT_S);
		if (rc == -EACCES)
			return client_fail(err, -EACCES, "%s: refused: the key handshake failed (the "
			    "server holds another cluster key)", url);
		return client_fail(err, rc == -EPROTO ? rc : -EHOSTDOWN, "%s: no answer to HELLO (%s)",
		    url, strerror(-rc));
	}
	if (f.type != FRAME_HELLO || frame_msg_parse(payload, f.len, &h, &b, &bl) < 0) {
		const char *m = NULL;
		if (f.type == FRAME_REFUSE && frame_msg_parse(payload, f.len, &h, &b, &bl) == 0)
			m = json_string_value(json_object_get(h, "msg"));
		if (f.type == FRAME_AUTH)
			m = "that server requires a cluster key (-hmac FILE, or your own key "
			    "without -insecure)";
		rc = client_fail(err, f.type == FRAME_REFUSE ? -ECONNREFUSED : f.type == FRAME_AUTH ?
		    -EACCES : -EPROTO, "%s: refused: %s", url, m != NULL ? m : "not a circuit server");
		json_decref(h);
		free(payload);
		circuit_close(c);
		return rc;
	}
	/* Operations may block as long as they like from here on (recv, wait), as long
	 * as the server answers its probes. */
	c->up = 1;
	/* A URL names one run of a server: a restarted one at that address is another. */
	const char *id = json_string_value(json_object_get(h, "id"));
	if (key != NULL && (id == NULL || strcmp(id, xid) != 0)) {
		rc = client_fail(err, -EPROTO, "%s: the server's HELLO names another XID than its "
		    "key handshake", url);
		json_decref(h);
		free(payload);
		circuit_close(c);
		return rc;
	}
	if (u.id[0] != '\0' && id != NULL && strcmp(id, u.id) != 0) {
		rc = client_fail(err, -ESTALE, "%s: the server there is now %s (restarted?)", url, id);
		json_decref(h);
		free(payload);
		circuit_close(c);
		return rc;
	}
	json_decref(h);
	free(payload);
	*out = c;
	return 0;
}

void
circuit_close(struct circuit *c)
{
	if (c == NULL)
		return;
	client_broken(c);
	free(c->rbody);
	if (c->sec != NULL) {
		secure_wipe(c->sec);
		free(c->sec);
	}
	free(c->rbuf);
	free(c->pbuf);
	free(c);
}

int
circuit_stat(struct circuit *c, const char *path, json_t **out, char **err)
{
	*out = NULL;
	return simple(c, client_req("stat", path, NULL), NULL, 0, out, err);
}

int
circuit_list(struct circuit *c, const char *path, json_t **out, char **err)
{
	*out = NULL;
	return simple(c, client_req("list", path, NULL), NULL, 0, out, err);
}

int
circuit_mkdir(struct circuit *c, const char *path, char **err)
{
	return simple(c, client_req("mkdir", path, NULL), NULL, 0, NULL, err);
}

int
circuit_rmdir(struct circuit *c, const char *path, char **err)
{
	return simple(c, client_req("rmdir", path, NULL), NULL, 0, NULL, err);
}

int
circuit_ctl(struct circuit *c, const char *path, const char *command, char **err)
{
	return simple(c, client_req("ctl", path, NULL), command, strlen(command), NULL, err);
}

int
circuit_snap(struct circuit *c, const char *path, const char *file, char **data,
    size_t *len, char **err)
{
	json_t *head = client_req("snap", path, file), *rep;
	int rc;

	*data = NULL;
	*len = 0;
	if (head == NULL)
		return client_fail(err, -ENOMEM, "out of memory");
	rc = client_call(c, head, NULL, 0, &rep, data, len, err);
	json_decref(head);
	json_decref(rep);
	return rc < 0 ? rc : 0;
}
