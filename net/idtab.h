/* idtab.h - a table of entries found by a 32-bit id: the requests a connection runs by
 * tag and the streams it holds open by handle (net/serve.c).
 *
 * Entries are the caller's (a node inside its own struct); the table only links them.
 * Buckets are chained and double as the table fills, so finding, adding and removing
 * cost the same with one entry as with 65,536.  Ids come from the other end (a tag is
 * the caller's choice), so the bucket is chosen by SipHash under a random key of the
 * table's own (libsodium's crypto_shorthash): ids picked to share one bucket cannot be
 * computed, and a chain stays short whatever the other end sends.
 */
#ifndef CIRCUIT_NET_IDTAB_H
#define CIRCUIT_NET_IDTAB_H

#include <stddef.h>
#include <stdint.h>

struct idtab_node {
	uint32_t id;
	struct idtab_node *next, **pprev;
};

struct idtab {
	struct idtab_node **b;		/* nb buckets, NULL until the first add */
	size_t nb, n;
	unsigned char key[16];
};

/* The struct of type that holds node as its member. */
#define IDTAB_ENTRY(node, type, member) \
	((type *)(void *)((char *)(node) - offsetof(type, member)))

/* Link n under id: 0, or -ENOMEM if the table has no buckets yet and none can be had
 * (a table that cannot grow keeps its buckets: longer chains, still correct). */
int		 idtab_add(struct idtab *t, struct idtab_node *n, uint32_t id);
/* An entry under id (the last added first), or NULL. */
struct idtab_node *idtab_find(const struct idtab *t, uint32_t id);
/* Unlink n, which is in t. */
void		 idtab_del(struct idtab *t, struct idtab_node *n);
/* The next id from *next that no entry of t holds, *next moved past it: ids wrap
 * after 2^32 and 0 is never given, so an id names one entry only. */
uint32_t	 idtab_next_id(const struct idtab *t, uint32_t *next);
/* Free the buckets of an empty table; it may be used again. */
void		 idtab_free(struct idtab *t);

#endif
