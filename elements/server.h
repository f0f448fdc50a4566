/* server.h - this process's server: identity, loop, anchor tree, and its own element.
 *
 * One server per process, so its state is one global, g_server, set up by
 * server_init() before anything else runs.  The server anchor (/XID) holds the
 * server element (peek, log, ctl verbs join and suicide).
 */
#ifndef CIRCUIT_SERVER_H
#define CIRCUIT_SERVER_H

#include <time.h>
#include <jansson.h>
#include <uv.h>

struct anchor;
struct elem_kind;

struct server {
	char id[18];			/* "X" + 16 lowercase hex digits */
	char url[128];			/* "circuit://HOST:PORT/XID" */
	char *mountpoint;		/* where the tree is mounted, or NULL */
	char *vardir;			/* state/log directory, or NULL */
	time_t joined;			/* start time */
	uv_loop_t *loop;
	struct anchor *root;		/* the server anchor */
	int docker;			/* -docker given */
	int secure;			/* connections use a cluster key (no -insecure) */
	void (*stop)(int status);	/* asks the process to shut down (suicide) */
	int stopping;			/* shutting down: the shutdown is the reason for
					 * what ends now, logged once, not per element */
};

extern struct server g_server;

/* Make the identity (random XID), the root anchor and the server element on loop. */
int server_init(uv_loop_t *loop, const char *host, int port);

/* Scrub every element and free the tree (shutdown). */
void server_fini(void);

/* The cluster layer's join (the `join` verb) and member list (peek's Members).  The
 * join fn starts a join and calls cb exactly once when it is complete or has failed
 * (at once, from inside fn, if the server is a member already); it returns 0, or
 * -errno with *msg (malloc'd, may stay NULL) when it could not start, and then never
 * calls cb. */
typedef void (*server_join_cb)(int status, const char *msg, void *arg);
void server_set_join(int (*fn)(const char *url, server_join_cb cb, void *arg, char **msg));
void server_set_members(json_t *(*fn)(void));

/* The membership core's datagram counters (peek's Datagrams) and whole state (stk's
 * Membership: members with state and incarnation, suspects, health). */
void server_set_membership(json_t *(*stats)(void), json_t *(*state)(void));

/* More state for stk (FUSE requests, peers...), as a JSON object (new reference). */
void server_set_stk(json_t *(*fn)(void));

/* The server element's kind (peek, log, join, suicide). */
extern const struct elem_kind server_kind;

/* Does match(mountpoint, fstype, arg) hold for any mount of this process's namespace
 * (/proc/self/mountinfo, which never blocks)? */
int server_mounts_any(int (*match)(const char *mnt, const char *type, const void *arg),
    const void *arg);

/* The size the log file reports: what an open of it reads from its start to now.
 * With no reader open, exactly what `cat log` gives; with readers open, what the
 * oldest of them has been offered (it never shrinks under a `tail -f`, which takes a
 * smaller size for a truncation). */
size_t server_log_size(void);

/* How many elements of each kind exist, as a JSON object {"process": 2, ...}. */
json_t *server_element_counts(void);

#endif
