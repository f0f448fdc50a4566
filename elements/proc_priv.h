/* proc_priv.h - the process element's private state, shared by proc.c and proc_stream.c.
 *
 * proc.c reaps, answers verbs and snapshot files and scrubs; proc_spawn.c starts the
 * child; proc_stream.c owns the stdio pipes: the bounded output buffers and their
 * readers, stdin writes.
 * The container element (dkr.c) embeds a struct proc that runs the docker client
 * attached to its container, and so reuses all of the stdio machinery.
 */
#ifndef CIRCUIT_PROC_PRIV_H
#define CIRCUIT_PROC_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <uv.h>

#include "elements/proc.h"

#define proc_container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

enum proc_state { PROC_RUNNING, PROC_EXITED };
enum in_state { IN_OPEN, IN_SHUTTING, IN_CLOSED };	/* CLOSED: infd closed */
enum out_state { OUT_READING, OUT_PAUSED, OUT_CLOSED };	/* CLOSED: uv_close called */

struct proc;

/* One open of stdin, stdout or stderr. */
struct pstream {
	struct proc *p;
	int fd;
	struct stream *s;
	uint64_t got;			/* bytes taken by this open's reads (its file offset) */
	uint64_t last_at;		/* the output offset of its last take, */
	size_t last_len;		/* and its length (a re-read of it is answered) */
	int seeks;			/* reads at offsets (tail, less): see proc_stream.c */
	TAILQ_ENTRY(pstream) link;
};
TAILQ_HEAD(pstream_list, pstream);

/* One output pipe and its buffer: bytes [start, end) of buf (size bytes) are unread,
 * [0, start) the most recent ones already read (at most OUT_RETAIN, kept for readers
 * that read at offsets).  buf[end - 1] is byte produced - 1 of the output. */
struct outbuf {
	uv_pipe_t pipe;
	struct proc *p;
	int fd;
	enum out_state state;
	char *buf;
	size_t start, end, size;
	uint64_t produced;		/* bytes read from the pipe so far */
	struct op_queue readers;	/* parked reads, FIFO */
	size_t kept;			/* closed: the read bytes [0, start) counted as kept */
	TAILQ_ENTRY(outbuf) klink;	/* on the kept list while kept > 0 */
};

/* One stdin write queued: bytes [off, len) of buf are still to go.  Its op is NULL
 * once answered early (the stream was released: the bytes still go). */
struct wreq {
	struct proc *p;
	struct op *op;
	char *buf;
	size_t len, off;
	TAILQ_ENTRY(wreq) link;
};

struct proc {
	struct element elem;		/* first: the element API casts */
	struct cmd cmd;
	enum proc_state state;
	int scrubbed;
	int pid;
	int64_t exit_status;
	int term_signal;
	uv_process_t process;
	uv_pipe_t report;		/* the exec helper's word (proc_spawn.c) */
	char word[8];
	size_t nword;
	struct op *start_op;		/* the mkproc waiting for the exec, or NULL */
	int infd;			/* our end of the child's stdin (non-blocking) */
	uv_poll_t inpoll;		/* writability of infd while writes are queued */
	enum in_state in_state;
	struct outbuf out[2];		/* stdout, stderr */
	int nhandles;			/* initialised and not yet closed */
	struct op_queue waiters;	/* parked `wait` reads */
	TAILQ_HEAD(, wreq) writes;
	struct pstream_list streams[3];
	int nstreams[3];
	/* Called when the child has been reaped, before a Scrub: true scrub (may be NULL). */
	void (*on_exit)(struct proc *p);
};

/* proc.c */

/* Initialise a zeroed p (its cmd filled in or not yet) as an element of kind k. */
void proc_init(struct proc *p, const struct elem_kind *k);

/* Spawn p->cmd with stdio pipes: 0, or -errno with a message in err.  On failure
 * nothing runs; handles the spawn made close and drop their own reference.  A Dir or
 * program the exec helper cannot use shows as exit status 127 and a log line (mkproc
 * waits for the exec instead: proc_spawn). */
int proc_start(struct proc *p, char *err, size_t errsize);

/* Close callback of every handle of p: the last one drops the element's own reference. */
void proc_on_close(uv_handle_t *h);

/* p's child was spawned: it is running until its exit callback. */
void proc_started(struct proc *p);

/* Exit callback of the child: record the status, answer `wait`, close the handle. */
void proc_on_exit(uv_process_t *h, int64_t status, int sig);

/* proc_spawn.c */

/* Spawn p's child through the exec helper; on success op (the mkproc, or NULL) is
 * parked until the program is exec'd, and answered then.  On failure -errno and a
 * message in err. */
int proc_spawn(struct proc *p, struct op *op, char *err, size_t errsize);

/* proc_stream.c */

extern const struct stream_ops proc_stream_ops;

/* Start reading an output pipe into its buffer (after a successful spawn). */
void proc_out_start(struct outbuf *ob);

/* Close an output pipe: buffered bytes stay readable, then EOF. */
void proc_out_close(struct outbuf *ob);

/* Free the buffer of an output pipe (the process is destroyed). */
void proc_out_free(struct outbuf *ob);

/* The read bytes that closed pipes keep for readers at offsets, all processes
 * together, and the bound above which the oldest closed ones lose theirs (tests
 * lower it). */
size_t proc_kept_total(void);
extern size_t proc_kept_max;

/* Close the child's stdin: gracefully (after queued writes) or at once (queued writes
 * fail with EPIPE, or answer the count they got through). */
void proc_in_close(struct proc *p, int graceful);
void proc_kill_group(struct proc *p);

/* Tell every stream open on fd of p that its readiness may have changed. */
void proc_notify(struct proc *p, int fd);

/* The open of a stream file (stdin, stdout, stderr): the kind's open(). */
void proc_open(struct element *e, const char *file, int mode, struct op *op);

#endif
