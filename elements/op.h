/* op.h - the operation layer: one vocabulary of asynchronous operations on anchors.
 *
 * fs/ (the FUSE file system), the RPC server in net/ and the CLI all speak this
 * vocabulary and never know where an anchor lives.  An operation names an anchor
 * path ("/X0123456789abcdef/a/b", or "/" for the root) and what to do; it completes
 * through its callback, exactly once, with a result or a negative errno and a
 * one-line message.  Operations on this server's anchors run here (elements/); the
 * others are handed to the remote backend that net/ installs.
 *
 * Rules every caller and every element relies on:
 *  - op_start() never calls the callback itself: completions are queued and run from
 *    the loop, so a caller may finish its own bookkeeping after op_start().
 *  - After the callback returns, the op is freed; callers copy what they keep.
 *  - op_cancel(op, err) on a pending op makes it complete with err (-EINTR for an
 *    interrupt, -EHOSTDOWN when this server is going), or with its result if it had
 *    already completed; it is a no-op on an op that already called back.  The one who
 *    ends the op chooses its errno: nothing downstream maps one errno to another.
 */
#ifndef CIRCUIT_OP_H
#define CIRCUIT_OP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <jansson.h>
#include <uv.h>

enum op_type {
	OP_STAT,	/* does the anchor exist; result json {"kind": "...", "files": [...]} */
	OP_LIST,	/* children and files; result json {"kind", "files": [...], "anchors": [...]} */
	OP_MKDIR,	/* create the anchor at path */
	OP_RMDIR,	/* scrub its element and remove the anchor */
	OP_CTL,		/* one ctl command: data/len hold "verb arg" */
	OP_SNAP,	/* snapshot file (peek, ctl, help, error, wait): result in data/len */
	OP_OPEN,	/* open a stream file (stdin, stdout, send, recv, log...): result stream */
	OP_READ,	/* read up to max bytes from stream: result data/len, 0 bytes = EOF */
	OP_WRITE,	/* write data/len to stream: result rc = bytes taken */
	OP_FLUSH,	/* a close(2) of stream is coming: 0, or a deferred write error */
};

/* Open modes of OP_OPEN and OP_SNAP (checked against the file's direction). */
enum { OP_RDONLY = 0, OP_WRONLY = 1, OP_RDWR = 2 };

/* The most bytes one OP_READ may ask for (a FUSE read and an RPC frame are smaller). */
#define OP_READ_MAX	(1u << 20)

/* How a file of an anchor behaves: its direction, and whether it is a stream (OP_OPEN,
 * then OP_READ/OP_WRITE on the stream) or a snapshot (OP_SNAP: the bytes are taken
 * once, at open). */
enum {
	OPF_READ = 1,		/* may be opened for reading */
	OPF_WRITE = 2,		/* may be opened for writing; both bits: any mode (ctl) */
	OPF_STREAM = 4,		/* a stream; without it a snapshot */
	OPF_HIDDEN = 8,		/* reachable by name but not listed (the server's stk) */
};

/* One file as an element kind declares it (struct elem_kind's files table). */
struct op_file {
	const char *name;
	unsigned flags;		/* OPF_* */
};

enum op_state { OPS_NEW, OPS_RUNNING, OPS_PARKED, OPS_DONE, OPS_CALLED };

struct op;
struct stream;
struct element;
typedef void (*op_cb)(struct op *op);

struct op {
	enum op_type type;

	/* The request, filled in by the caller before op_start(); all owned by the op. */
	char *path;		/* anchor path */
	char *file;		/* SNAP/OPEN: control file name */
	int mode;		/* OPEN/SNAP: OP_RDONLY, OP_WRONLY or OP_RDWR */
	size_t max;		/* READ: most bytes wanted */
	int nonblock;		/* READ: fail with -EAGAIN rather than wait (O_NONBLOCK) */
	int64_t off;		/* READ: the reader's file offset (FUSE), -1 when it has none
				 * (RPC, CLI): a sized stream tells a look from a take by it */
	struct stream *stream;	/* READ/WRITE: the stream; OPEN: the result */
	char *client;		/* who asked, for the log ("fuse pid 123", "10.0.0.2:4000") */

	/* Request bytes (CTL, WRITE) and result bytes (SNAP, READ): malloc'd, owned by the op,
	 * with a NUL after the last byte for CTL (data[len] == 0).
	 * An element may take them over: set data to NULL after taking. */
	char *data;
	size_t len;

	/* Set by op_start: the op runs on this server (its anchor or stream is here). */
	int local;

	/* The result. */
	int rc;			/* 0 (or bytes for WRITE) on success, -errno on failure */
	char *msg;		/* one-line error message (malloc'd), NULL on success */
	json_t *json;		/* STAT/LIST result (owned reference) */

	/* The caller's completion. */
	op_cb cb;
	void *arg;

	/* Whoever keeps the op waiting (an element, a peer) can be told to let it go. */
	enum op_state state;
	void (*cancel)(struct op *op);	/* remove the op from the owner's queues */
	void *owner;			/* for the owner's use while parked */
	int cancel_rc;			/* set by op_cancel before cancel runs: the -errno
					 * to end the op with (op_end_cancelled) */
	TAILQ_ENTRY(op) link;		/* the owner's wait queue while parked, else ours */
};
TAILQ_HEAD(op_queue, op);

/* A stream is one open of a stream file; its element keeps per-open state in priv. */
struct stream_ops {
	/* Complete op with up to op->max bytes (op_done_data), 0 bytes at EOF; may park. */
	void (*read)(struct stream *s, struct op *op);
	/* Take op->data/len and complete with rc = len, or -errno; may park. */
	void (*write)(struct stream *s, struct op *op);
	/* The file was closed (FUSE release): end of a message, close of stdin; frees s. */
	void (*release)(struct stream *s);
	/* Readiness now, as POLLIN/POLLOUT bits (may be NULL: always ready). */
	int (*poll)(struct stream *s);
	/* A close(2) is coming (FUSE FLUSH): complete op once every write acknowledged
	 * early (remote write-behind) has been answered, with 0 or the first failure
	 * (reported once), at once if none is outstanding; may park (interruptible).
	 * May be NULL: nothing deferred, op_start answers 0. */
	void (*flush)(struct stream *s, struct op *op);
	/* The bytes the stream has produced so far: the size `stat` reports, so that
	 * `tail -f` sees it grow; -1 (or NULL) for a stream without one, which is then
	 * not seekable.  seeking: the opener asked where the file ends (lseek SEEK_END),
	 * so it reads at file offsets from now on (see stream read). */
	int64_t (*size)(struct stream *s, int seeking);
};

struct stream {
	const struct stream_ops *ops;
	void *priv;			/* the element's per-open state */
	struct element *elem;		/* the local element (stream_new), NULL for remote */
	int mode;			/* how it was opened (set by the op layer when OP_OPEN
					 * completes): READ and WRITE are checked against it */
	int aborted;			/* set before release when the opener vanished (its
					 * server or connection lost): what it wrote is cut short
					 * and must end in an error, never pass for complete */
	/* Set by the opener: called from the loop when readiness may have changed. */
	void (*notify)(struct stream *s, void *arg);
	void *notify_arg;
};

/* The file called name: one every anchor has (ctl, help, error) or one an element kind
 * declares.  A name means the same thing in every kind that has it, so fs/ and the
 * client need not know which kind an anchor holds; NULL if no kind has such a file. */
const struct op_file *op_file_find(const char *name);

/* Does f's direction allow opening it with mode (OP_RDONLY, OP_WRONLY, OP_RDWR)? */
int op_file_mode_ok(const struct op_file *f, int mode);

/* Allocate an operation of the given type that will complete through cb(arg). */
struct op *op_new(enum op_type type, op_cb cb, void *arg);

/* Start op: local anchors run here, the others go to the remote backend. */
void op_start(struct op *op);

/* Ask a pending op to stop; it then completes with err (a -errno: -EINTR for an
 * interrupt, -EHOSTDOWN at shutdown) unless it already finished.  A parked op ends
 * here; a running one (remote) ends when its owner's cancel hook says so: at once
 * (op_end_cancelled), or with the answer it asked the other server for. */
void op_cancel(struct op *op, int err);

/* Free an op that was never started. */
void op_free(struct op *op);

/* ---- for elements and backends: completing and parking ops ---- */

/* Complete op with rc (0, a byte count, or -errno); the callback runs later from the loop. */
void op_done(struct op *op, int rc);

/* Complete op with -errno and a one-line message (printf format). */
void op_fail(struct op *op, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Complete op with result bytes; takes ownership of buf (malloc'd), rc = len. */
void op_done_data(struct op *op, char *buf, size_t len);

/* Complete op with result bytes copied from buf. */
void op_done_copy(struct op *op, const void *buf, size_t len);

/* Complete op with the JSON j as one line of text (or indented when flags say so),
 * newline-terminated; takes the reference to j, which may be NULL (-ENOMEM). */
void op_done_json(struct op *op, json_t *j, size_t flags);

/* End op with the errno its op_cancel asked for (op->cancel_rc): for the cancel hook
 * of a running op that does not wait for an answer. */
void op_end_cancelled(struct op *op);

/* Mark op as waiting on owner; cancel(op) must unlink it (and nothing else). */
void op_park(struct op *op, void (*cancel)(struct op *op), void *owner);

/* Tell a stream's opener that readiness may have changed (calls notify if set). */
void stream_notify(struct stream *s);

/* ---- set-up ---- */

/* The remote backend: runs ops whose path names another server (installed by net/). */
typedef void (*op_remote_fn)(struct op *op);
void op_set_remote(op_remote_fn fn);

/* Bookkeeping when an op that ran on this server completes (its log line, the
 * anchor's error file), installed by the server; never called for ops that the
 * remote backend ran, nor for ops that failed op_start's checks before dispatch
 * with no anchor to blame.  Runs inside op_done, before the callback is queued. */
typedef void (*op_done_hook_fn)(struct op *op);
void op_set_done_hook(op_done_hook_fn fn);

/* Bind the layer to the loop; must run before any op_start(). */
int op_init(uv_loop_t *loop);

/* Complete every queued callback now (shutdown); parked ops are failed by their owners. */
void op_drain(void);

/* Counts for debugging (stk): {"Live": ops in flight, "Parked": waiting on an
 * element, "Completing": queued callbacks}. */
json_t *op_stats(void);

/* Name of an op type, for logs. */
const char *op_type_name(enum op_type t);

#endif
