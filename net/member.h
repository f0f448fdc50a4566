/* member.h - the member table: the live servers of the cluster, this one included.
 *
 * Every server keeps one entry per live server: its XID and URL, and the connection
 * that reaches it (peer.c).  The root directory of every mount lists exactly these
 * XIDs; peek shows their URLs.  The membership core (net/gossip.c) alone changes it:
 * member_add() on its JOINED, member_remove() (through peer.c) on its DEAD and LEFT;
 * listeners registered with member_on_change() (the @join/@leave subscriptions) hear
 * of every change.  A removed XID is kept as a tombstone, so that an operation on it
 * fails with EHOSTDOWN (gone) rather than ENOENT (never heard of): XIDs are random at
 * each start, a restarted server comes back under a new one.
 */
#ifndef CIRCUIT_NET_MEMBER_H
#define CIRCUIT_NET_MEMBER_H

#include <time.h>
#include <sys/queue.h>
#include <jansson.h>

#include "elements/op.h"
#include "net/url.h"

struct conn;

enum member_event { MEMBER_JOINED, MEMBER_LEFT };

struct member {
	char id[URL_ID_LEN + 1];
	char url[URL_MAX];
	struct url u;
	int self;			/* this server */
	time_t since;			/* when we learned of it */
	struct conn *conn;		/* the connection ops go over, or NULL */
	struct conn *dialing;		/* a dial in progress, or NULL */
	struct op_queue waitq;		/* ops waiting for the connection */
	TAILQ_ENTRY(member) link;
};
TAILQ_HEAD(member_list, member);
extern struct member_list member_all;

/* Add the server id at url (validated: url must parse and name id; a tombstoned id
 * comes back: the core has seen it alive).  Returns 0 and *out for a new member,
 * -EEXIST and *out for a known one, -EINVAL for a bad id or URL. */
int member_add(const char *id, const char *url, struct member **out);

/* Add this server itself (first, at start-up). */
int member_add_self(const char *id, const char *url);

/* Find a member by XID (NULL if none). */
struct member *member_find(const char *id);

/* Remove m (not self): fail its waiting ops with -EHOSTDOWN, tombstone its XID, tell
 * the listeners.  why goes to the log.  m is freed. */
void member_remove(struct member *m, const char *why);

/* Was id removed (a tombstone)? */
int member_is_gone(const char *id);

/* The XIDs (root listing) and the URLs (peek) of all members, sorted; new references. */
json_t *member_ids_json(void);
json_t *member_urls_json(void);

/* Call fn on every join and leave (at most 4 listeners). */
int member_on_change(void (*fn)(enum member_event ev, const struct member *m));

/* Drop everything (shutdown): fail waiting ops, free all entries and tombstones. */
void member_fini(void);

#endif
