/* client.h - the circuit client library: dial any server and run operations.
 *
 * The public C API (the seed's "programmatic access"); the `circuit` CLI is built on
 * it.  Calls block the calling thread until the server answers; they speak the same
 * RPC as servers do among themselves, and the server dialed forwards each operation
 * to the server that owns the anchor.  Every call returns 0 (or a byte count) on
 * success and a negative errno on failure; where err is not NULL it then receives a
 * malloc'd one-line message (free it).  Paths are anchor paths: "/X0123456789abcdef/a/b".
 *
 * A lost connection: the call that finds it fails with EHOSTDOWN ("URL: connection lost
 * (Connection reset by peer)"), ETIMEDOUT (the server answered nothing for 10 s, probe
 * included), ECONNREFUSED (the server dropped us: "URL: refused: its text") or EPROTO
 * (a bad frame from it).  The client keeps that first cause: every later call on it
 * (and on its streams) fails with EHOSTDOWN and says it ("URL: connection lost earlier:
 * refused: ..."), and circuit_lost gives it.  Dial again to go on.
 */
#ifndef CIRCUIT_CLIENT_H
#define CIRCUIT_CLIENT_H

#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

struct circuit;
struct circuit_stream;

/* Open modes of circuit_open. */
enum { CIRCUIT_READ = 0, CIRCUIT_WRITE = 1 };

/* Dial the server at url ("circuit://HOST:PORT/XID") with the cluster key in keyfile
 * (written by `circuit keygen`; refused if others may read it).  With keyfile NULL:
 * the file $CIRCUIT_HMAC names, else the user's own key ~/.circuit.key (created on
 * first use), which the user's servers on this host use by default. */
int circuit_dial(const char *url, const char *keyfile, struct circuit **out, char **err);

/* Dial with the key itself (CIRCUIT_KEY_LEN bytes), or in plaintext with key NULL (a
 * server started with -insecure). */
#define CIRCUIT_KEY_LEN	32
int circuit_dial_key(const char *url, const unsigned char *key, struct circuit **out,
    char **err);

/* Hang up and free c (open streams of c must be closed first). */
void circuit_close(struct circuit *c);

/* Why c's connection is lost: 0 while it works; else the -errno of the first failure
 * (-ECONNRESET, -ETIMEDOUT, -ECONNREFUSED, -EPROTO, ...), and in *why (if why is not
 * NULL) its one-line message, at most 200 bytes, valid until circuit_close. */
int circuit_lost(const struct circuit *c, const char **why);

/* The anchor's kind and files: {"kind": "process", "files": ["ctl", ...]}. */
int circuit_stat(struct circuit *c, const char *path, json_t **out, char **err);

/* The anchor's kind, files and sub-anchors ("/" lists the live servers):
 * {"kind": ..., "files": [...], "anchors": ["name", ...]}. */
int circuit_list(struct circuit *c, const char *path, json_t **out, char **err);

/* Create the anchor at path (its parent must exist). */
int circuit_mkdir(struct circuit *c, const char *path, char **err);

/* Scrub the anchor's element and remove it (-ENOTEMPTY while it has sub-anchors). */
int circuit_rmdir(struct circuit *c, const char *path, char **err);

/* Run one ctl command on the anchor: "mkchan 3", "signal TERM", "mkproc {...}". */
int circuit_ctl(struct circuit *c, const char *path, const char *command, char **err);

/* Read a snapshot file (peek, wait, help, error, ctl) whole; *data is malloc'd and
 * NUL-terminated, *len its length.  `wait` blocks until the process exits. */
int circuit_snap(struct circuit *c, const char *path, const char *file, char **data,
    size_t *len, char **err);

/* Open a stream file (stdin, stdout, stderr, send, recv, log) for reading or writing;
 * opening `send` or `recv` blocks as the channel's semantics say. */
int circuit_open(struct circuit *c, const char *path, const char *file, int mode,
    struct circuit_stream **out, char **err);

/* Read up to max bytes (blocks until some are there); 0 at end of stream. */
ssize_t circuit_read(struct circuit_stream *s, void *buf, size_t max, char **err);

/* Write len bytes (blocks while the reader is behind); returns len. */
ssize_t circuit_write(struct circuit_stream *s, const void *buf, size_t len, char **err);

/* Close the stream: the end of a message on `send`, EOF on `stdin`.  A stream opened
 * for writing whose connection is already lost fails here (EHOSTDOWN): its message
 * ended aborted, not whole. */
int circuit_stream_close(struct circuit_stream *s, char **err);

/* Close the stream as broken: what was written is not a whole message.  The receiver
 * of a `send` gets an error (ECONNABORTED), never a shorter message; writes still
 * queued are dropped.  Use it when the data's source failed.  Frees s. */
void circuit_stream_abort(struct circuit_stream *s);

#endif
