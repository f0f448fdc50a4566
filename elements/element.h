/* element.h - the interface every element kind (process, channel, ...) implements.
 *
 * An element lives on one anchor of this server.  The operation layer (op.c) parses
 * ctl commands and calls the kind's functions; an element never sees FUSE or sockets.
 * Elements are reference counted: the anchor holds one reference, every open stream
 * one more, and a kind may hold its own (e.g. while a child process is unreaped).
 * Scrubbing cuts the anchor link first (e->anchor = NULL) and then calls scrub(); the
 * memory goes only when the last reference does (destroy()).
 */
#ifndef CIRCUIT_ELEMENT_H
#define CIRCUIT_ELEMENT_H

#include "elements/op.h"

struct anchor;
struct element;

struct elem_kind {
	const char *name;		/* "process", "channel", ...: shown by ctl and ls -l */
	const char *make_verb;		/* the ctl verb that makes one: "mkproc", "mkchan" */
	/* The kind's files beyond ctl, help and error, ended by {NULL}: e.g.
	 * { "stdout", OPF_READ | OPF_STREAM }, { "peek", OPF_READ }.  The operation layer
	 * checks every open, read and write against this table before the kind sees it. */
	const struct op_file *files;
	const char *help;		/* the help file of an anchor holding this kind */

	/* Make an element on anchor a (which has none) from the verb's argument; on
	 * success call anchor_attach(a, e) and op_done(op, 0), else op_fail(). */
	void (*make)(struct anchor *a, const char *arg, struct op *op);
	/* Any other ctl verb (signal, close, set, ...): unknown ones fail with -EINVAL. */
	void (*verb)(struct element *e, const char *verb, const char *arg, struct op *op);
	/* A snapshot file of this kind (peek, wait): complete op with its bytes; may park. */
	void (*snap)(struct element *e, const char *file, struct op *op);
	/* A stream file of this kind: complete op with op->stream = stream_new(...); may park. */
	void (*open)(struct element *e, const char *file, int mode, struct op *op);
	/* Abort: kill what runs, fail or end every parked op; e->anchor is already NULL. */
	void (*scrub)(struct element *e);
	/* The last reference is gone: free everything. */
	void (*destroy)(struct element *e);
};

/* Embed as the first member of each kind's own struct. */
struct element {
	const struct elem_kind *kind;
	struct anchor *anchor;		/* NULL once scrubbed */
	int refs;
};

/* Initialise e of kind k with one reference (the caller's, usually given to the anchor). */
void elem_init(struct element *e, const struct elem_kind *k);

/* Take and drop a reference; the last unref calls kind->destroy(). */
void elem_ref(struct element *e);
void elem_unref(struct element *e);

/* Remove e from its anchor and scrub it (what `scrub` and Scrub:true do); safe twice. */
void elem_scrub(struct element *e);

/* The anchor path of e for messages ("/X.../a"), or "(scrubbed)". */
const char *elem_path(const struct element *e);

/* Record a one-line error on e's anchor (its error file) and in the server log. */
void elem_error(struct element *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Make a stream on e (takes a reference on e) with the kind's ops and per-open state. */
struct stream *stream_new(struct element *e, const struct stream_ops *ops, void *priv);

/* Free a stream made by stream_new (drops its reference); call from release(). */
void stream_free(struct stream *s);

/* The element a stream belongs to. */
struct element *stream_elem(const struct stream *s);

/* Every kind (ELEM_NKINDS entries; a kind not linked in is NULL), and the one made
 * by a verb (NULL if none). */
#define ELEM_NKINDS 7
extern const struct elem_kind *const elem_kinds[ELEM_NKINDS];
const struct elem_kind *elem_kind_by_verb(const char *verb);

#endif
